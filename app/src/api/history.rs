//! The history pages' reads: search, transcripts and analytics.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::client::CsrfClient;
use crate::error::AppError;
use crate::history::{HistoryPage, HistoryQuery, Transcript};

#[server(prefix = "/fn", client = CsrfClient, input = Json, endpoint = "history/search")]
pub async fn search_history(query: HistoryQuery) -> Result<HistoryPage, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.search(&viewer, query).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "history/transcript")]
pub async fn load_transcript(bot_id: String, session_id: i64) -> Result<Transcript, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.transcript(&viewer, &bot_id, session_id).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "history/analytics")]
pub async fn load_analytics(
    bot_id: String,
    from: Option<String>,
    to: Option<String>,
) -> Result<crate::analytics::Analytics, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.analytics(&viewer, &bot_id, from, to).await
}
