//! The one error type that crosses the server-function boundary.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// The bot, session or notification does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The request was understood but its content is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Nobody is signed in (or the session expired).
    #[error("please sign in again")]
    Unauthorized,
    /// Signed in, but this is not theirs to see or do.
    #[error("{0}")]
    Forbidden(String),
    /// Someone else owns the conversation: the handoff as it is now.
    #[error("{} has this conversation", .0.owner_name())]
    Taken(Box<crate::model::Handoff>),
    /// The user or another agent wrote since the agent's last seen message: what they wrote.
    #[error("new messages arrived since you last looked; read them, then send again")]
    Stale(Vec<crate::model::Message>),
    /// Something failed on the server; the details are in the server's log, not here.
    #[error("internal error, see the server log")]
    Internal,
    /// The call did not reach the server function (network, encoding).
    #[error("request failed: {0}")]
    ServerFn(ServerFnErrorErr),
}

impl AppError {
    /// The HTTP status a server function answers with when it fails so, like the REST API's.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Invalid(_) => 422,
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::Taken(_) | AppError::Stale(_) => 409,
            AppError::Internal => 500,
            AppError::ServerFn(_) => 400,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }

    // The server encodes the error while answering the request: that is where its status is set
    // (otherwise every failed server function answers 500).
    fn ser(&self) -> leptos::server_fn::Bytes {
        use leptos::server_fn::Encodes;
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(self.status()) {
                response.set_status(status);
            }
        }
        JsonEncoding::encode(self).unwrap_or_else(|e| {
            let fallback = AppError::ServerFn(ServerFnErrorErr::Serialization(e.to_string()));
            JsonEncoding::encode(&fallback).unwrap_or_default()
        })
    }
}
