//! What the web chat page asks the server while rendering (the rest goes over its socket).

use leptos::prelude::*;

use crate::error::AppError;

/// The bot's display name; not found for an unknown bot.
#[server(prefix = "/pub")]
pub async fn chat_bot_name(bot_id: String) -> Result<String, AppError> {
    crate::port::port()?.bot_name(&bot_id).await
}
