//! API errors: each variant knows its status; all render as `{"error":{"code","message"}}`.
//! Internal errors are logged here and never shown to the caller.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts::AccountError;
use crate::engine::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("missing or invalid API token")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// Something that must be unique already exists (an email).
    #[error("{0}")]
    Conflict(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body is larger than {} bytes", super::BODY_LIMIT)]
    TooLarge,
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("internal error")]
    Internal(String),
    /// Someone else owns the conversation; the answer carries its handoff.
    #[error("the conversation is taken by {}", .0.owner_name())]
    Taken(Box<app::model::Handoff>),
    /// A reply by someone who does not own the conversation.
    #[error("the conversation is handled by {}; only they may reply", .0.owner_name())]
    NotAssignee(Box<app::model::Handoff>),
    /// A reply written before these messages came in.
    #[error("{} new message(s) came in since; read them, then reply", .0.len())]
    Stale(Vec<app::model::Message>),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::NotAssignee(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) | ApiError::Taken(_) | ApiError::Stale(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Conflict(_) | ApiError::Taken(_) => "conflict",
            ApiError::NotAssignee(_) => "not_assignee",
            ApiError::Stale(_) => "stale",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::TooLarge => "payload_too_large",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn from_bytes_rejection(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::BadRequest(r.body_text())
        }
    }

    /// A plain request to a WebSocket route.
    pub fn from_upgrade_rejection(
        r: axum::extract::ws::rejection::WebSocketUpgradeRejection,
    ) -> Self {
        ApiError::BadRequest(format!("this route takes a WebSocket: {}", r.body_text()))
    }

    /// Syntax errors are the client's malformed JSON (400); well-formed JSON of the wrong
    /// shape is unprocessable (422).
    pub fn from_json_error(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => ApiError::Unprocessable(e.to_string()),
            _ => ApiError::BadRequest(format!("malformed JSON: {e}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let mut body = json!({ "error": { "code": self.code(), "message": self.to_string() } });
        match &self {
            ApiError::Taken(handoff) | ApiError::NotAssignee(handoff) => {
                body["handoff"] = json!(handoff);
            }
            ApiError::Stale(messages) => body["messages"] = json!(messages),
            _ => {}
        }
        (self.status(), axum::Json(body)).into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotFound(what) => ApiError::NotFound(what),
            EngineError::Invalid(message) => ApiError::Unprocessable(message),
            EngineError::Forbidden(message) => ApiError::Forbidden(message),
            EngineError::Taken(handoff) => ApiError::Taken(handoff),
            EngineError::NotAssignee(handoff) => ApiError::NotAssignee(handoff),
            EngineError::Stale(messages) => ApiError::Stale(messages),
            EngineError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(message) => ApiError::Unprocessable(message),
            AccountError::NotFound(what) => ApiError::NotFound(what),
            conflict @ AccountError::Conflict(_) => ApiError::Conflict(conflict.to_string()),
            AccountError::Throttled => ApiError::TooManyRequests(e.to_string()),
            AccountError::BadCredentials | AccountError::WrongPassword => {
                ApiError::Unprocessable(e.to_string())
            }
            AccountError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => ApiError::Unprocessable(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(e.body_text()),
            JsonRejection::MissingJsonContentType(e) => {
                ApiError::UnsupportedMediaType(e.body_text())
            }
            JsonRejection::BytesRejection(e) => ApiError::from_bytes_rejection(e),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

/// A path segment that does not parse (a session id that is not a number) names nothing.
impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::NotFound("resource")
    }
}

/// A handler that panicked still answers with our JSON error (and the panic is logged).
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into());
    ApiError::Internal(format!("handler panicked: {detail}")).into_response()
}
