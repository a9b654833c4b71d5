//! The messages of one session, oldest at the top.

use leptos::prelude::*;

use crate::components::message_view::MessageView;
use crate::model::Message;

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
