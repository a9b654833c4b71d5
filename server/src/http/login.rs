//! Signing in and out with plain HTML forms (they work before the page's scripts load):
//! `POST /login`, `POST /logout`, and `POST /account/password` to change one's own password.
//! The pages showing these forms are Leptos routes (`/login`, `/account`).

use axum::extract::{Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Form, Router};
use serde::Deserialize;

use super::auth::{client_address, safe_next, Caller, CSRF_COOKIE, SESSION_COOKIE};
use super::{ApiError, AppState};
use crate::accounts::AccountError;

/// How long the browser keeps the cookies; the server ends idle sessions much sooner.
const COOKIE_MAX_AGE_SECS: u64 = 30 * 24 * 60 * 60;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/account/password", post(change_password))
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

fn secure(state: &AppState, request_headers: &axum::http::HeaderMap) -> bool {
    state.auth.secure_cookies
        || request_headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

fn cookie(name: &str, value: &str, http_only: bool, secure: bool, max_age: u64) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; SameSite=Lax; Max-Age={max_age}");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are hex")
}

async fn login(State(state): State<AppState>, request: Request) -> Response {
    let address = client_address(&request);
    let secure = secure(&state, request.headers());
    let form = match Form::<LoginForm>::from_request(request, &state).await {
        Ok(Form(form)) => form,
        Err(e) => return ApiError::BadRequest(e.body_text()).into_response(),
    };
    let next = safe_next(form.next.as_deref());
    let signed_in = state
        .auth
        .accounts
        .sign_in(&form.email, &form.password, address.as_deref())
        .await;
    match signed_in {
        Ok(signed_in) => {
            let mut response = Redirect::to(&next).into_response();
            let headers = response.headers_mut();
            headers.append(
                SET_COOKIE,
                cookie(
                    SESSION_COOKIE,
                    &signed_in.token,
                    true,
                    secure,
                    COOKIE_MAX_AGE_SECS,
                ),
            );
            headers.append(
                SET_COOKIE,
                cookie(
                    CSRF_COOKIE,
                    &signed_in.csrf,
                    false,
                    secure,
                    COOKIE_MAX_AGE_SECS,
                ),
            );
            response
        }
        Err(e) => {
            let reason = match e {
                AccountError::Throttled => "throttled",
                AccountError::BadCredentials => "credentials",
                other => {
                    tracing::error!(error = %other, "sign-in failed");
                    "unavailable"
                }
            };
            let next = super::auth::encode_component(&next);
            Redirect::to(&format!("/login?error={reason}&next={next}")).into_response()
        }
    }
}

use axum::extract::FromRequest;

#[derive(Deserialize)]
struct LogoutForm {
    csrf: Option<String>,
}

/// The CSRF token may come as a form field (a plain form) or a header (a script).
fn csrf_matches(expected: &str, field: Option<&str>, headers: &axum::http::HeaderMap) -> bool {
    let header = headers
        .get(super::auth::CSRF_HEADER)
        .and_then(|v| v.to_str().ok());
    field.or(header).is_some_and(|sent| sent == expected)
}

async fn logout(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    request: Request,
) -> Result<Response, ApiError> {
    let Some(Extension(Caller::Person {
        viewer,
        csrf,
        token,
    })) = caller
    else {
        return Ok(Redirect::to("/login").into_response());
    };
    let address = client_address(&request);
    let secure = secure(&state, request.headers());
    let headers = request.headers().clone();
    let Form(form) = Form::<LogoutForm>::from_request(request, &state)
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !csrf_matches(&csrf, form.csrf.as_deref(), &headers) {
        return Err(ApiError::Forbidden("missing or wrong CSRF token".into()));
    }
    state
        .auth
        .accounts
        .sign_out(&token, &viewer, address.as_deref())
        .await;
    let mut response = Redirect::to("/login?signed_out=1").into_response();
    let h = response.headers_mut();
    h.append(SET_COOKIE, cookie(SESSION_COOKIE, "", true, secure, 0));
    h.append(SET_COOKIE, cookie(CSRF_COOKIE, "", false, secure, 0));
    Ok(response)
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: Option<String>,
    current: String,
    new: String,
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    request: Request,
) -> Result<Response, ApiError> {
    let Some(Extension(Caller::Person {
        viewer,
        csrf,
        token,
    })) = caller
    else {
        return Ok(Redirect::to("/login?next=/account").into_response());
    };
    let headers = request.headers().clone();
    let Form(form) = Form::<PasswordForm>::from_request(request, &state)
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !csrf_matches(&csrf, form.csrf.as_deref(), &headers) {
        return Err(ApiError::Forbidden("missing or wrong CSRF token".into()));
    }
    if form.new != form.confirm {
        return Ok(Redirect::to("/account?error=mismatch").into_response());
    }
    let changed = state
        .auth
        .accounts
        .change_password(&viewer, &token, &form.current, &form.new)
        .await;
    Ok(match changed {
        Ok(()) => Redirect::to("/account?changed=1"),
        Err(AccountError::Invalid(message)) if message.contains("current") => {
            Redirect::to("/account?error=current")
        }
        Err(AccountError::Invalid(_)) => Redirect::to("/account?error=short"),
        Err(e) => return Err(ApiError::Internal(e.to_string())),
    }
    .into_response())
}
