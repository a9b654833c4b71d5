//! The messages of one session, oldest at the top.

use leptos::prelude::*;

use crate::components::message_view::MessageView;
use crate::model::{Message, SessionOverview};

#[component]
pub fn Conversation(messages: Vec<Message>) -> impl IntoView {
    view! {
        <ol class="messages" aria-label="Messages">
            {messages
                .into_iter()
                .map(|m| view! { <MessageView message=m/> })
                .collect_view()}
        </ol>
    }
}

/// Who the conversation is with, on which channel, and whether the bot is paused (by whom, why).
#[component]
pub fn ConversationHeader(session: SessionOverview) -> impl IntoView {
    let pause = session.is_paused.then(|| {
        let by = session
            .paused_by
            .clone()
            .unwrap_or_else(|| "someone".into());
        let why = session
            .paused_reason
            .clone()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        view! {
            <span class="badge paused">"Paused"</span>
            <span class="pause-detail">{format!("by {by}{why}")}</span>
        }
    });
    view! {
        <header class="conversation-header">
            <h2>{session.display_name().to_string()}</h2>
            <span class="session-channel">{session.channel.clone()}</span>
            {pause}
        </header>
    }
}
