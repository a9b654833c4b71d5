//! Who is signed in, for the console's top bar.

use leptos::prelude::*;

use super::client::CsrfClient;
use crate::account::Viewer;
use crate::error::AppError;

#[server(prefix = "/fn", endpoint = "whoami", client = CsrfClient)]
pub async fn whoami() -> Result<Viewer, AppError> {
    let (_, viewer) = crate::port::signed_in()?;
    Ok(viewer)
}
