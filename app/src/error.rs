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
    /// Something failed on the server; the details are in the server's log, not here.
    #[error("internal error, see the server log")]
    Internal,
    /// The call did not reach the server function (network, encoding).
    #[error("request failed: {0}")]
    ServerFn(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}
