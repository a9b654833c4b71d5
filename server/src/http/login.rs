//! Signing in and out with plain HTML forms (they work before the page's scripts load):
//! `POST /login`, `POST /logout`, and `POST /account/password` to change one's own password.
//! The pages showing these forms are Leptos routes (`/login`, `/account`).

use app::account::Viewer;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Form, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::auth::{check_csrf, client_address, safe_next, Caller, CSRF_COOKIE, SESSION_COOKIE};
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

/// A form a signed-in person posts, once its CSRF token (the `csrf` field, or the header)
/// checked out.
struct PersonForm<T> {
    viewer: Viewer,
    token: String,
    address: Option<String>,
    secure: bool,
    form: T,
}

#[derive(Deserialize)]
struct WithCsrf<T> {
    csrf: Option<String>,
    #[serde(flatten)]
    form: T,
}

/// `None` for a stranger (the caller sends them to the login page).
async fn person_form<T: DeserializeOwned>(
    state: &AppState,
    caller: Option<Extension<Caller>>,
    request: Request,
) -> Result<Option<PersonForm<T>>, ApiError> {
    let Some(Extension(Caller::Person {
        viewer,
        csrf,
        token,
    })) = caller
    else {
        return Ok(None);
    };
    let address = client_address(&request);
    let secure = secure(state, request.headers());
    let headers = request.headers().clone();
    let Form(sent) = Form::<WithCsrf<T>>::from_request(request, state)
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    check_csrf(&headers, &csrf, sent.csrf.as_deref())?;
    Ok(Some(PersonForm {
        viewer,
        token,
        address,
        secure,
        form: sent.form,
    }))
}

#[derive(Deserialize)]
struct NoFields {}

async fn logout(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    request: Request,
) -> Result<Response, ApiError> {
    let Some(p) = person_form::<NoFields>(&state, caller, request).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    state
        .auth
        .accounts
        .sign_out(&p.token, &p.viewer, p.address.as_deref())
        .await;
    let mut response = Redirect::to("/login?signed_out=1").into_response();
    let h = response.headers_mut();
    h.append(SET_COOKIE, cookie(SESSION_COOKIE, "", true, p.secure, 0));
    h.append(SET_COOKIE, cookie(CSRF_COOKIE, "", false, p.secure, 0));
    Ok(response)
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    request: Request,
) -> Result<Response, ApiError> {
    let Some(p) = person_form::<PasswordForm>(&state, caller, request).await? else {
        return Ok(Redirect::to("/login?next=/account").into_response());
    };
    if p.form.new != p.form.confirm {
        return Ok(Redirect::to("/account?error=mismatch").into_response());
    }
    let changed = state
        .auth
        .accounts
        .change_password(&p.viewer, &p.token, &p.form.current, &p.form.new)
        .await;
    Ok(match changed {
        Ok(()) => Redirect::to("/account?changed=1"),
        Err(AccountError::WrongPassword) => Redirect::to("/account?error=current"),
        Err(AccountError::Invalid(_)) => Redirect::to("/account?error=short"),
        Err(e) => return Err(ApiError::Internal(e.to_string())),
    }
    .into_response())
}
