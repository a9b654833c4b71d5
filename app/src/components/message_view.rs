//! One message, rendered by kind. Everything a user or bot wrote is shown as text; links and
//! images are only used for http(s) addresses.

use leptos::prelude::*;

use crate::console::use_console;
use crate::format::{linkify, Segment};
use crate::model::{Content, Message, Source};
use crate::state::Pending;

#[component]
pub fn MessageView(message: Message) -> impl IntoView {
    let console = use_console();
    let ts = message.ts;
    let time = move || {
        (ts + chrono::Duration::minutes(console.utc_offset.get() as i64))
            .format("%H:%M")
            .to_string()
    };
    let exact = message.ts.to_rfc3339();
    let label = match message.source {
        Source::User => "User".to_string(),
        Source::Bot => "Bot".to_string(),
        Source::Agent => message.author.clone().unwrap_or_else(|| "Agent".into()),
        Source::System => String::new(),
    };
    let class = format!("message from-{}", message.source.as_str());
    let body = match message.content() {
        Some(content) => content_view(content),
        None => unknown_view(&message),
    };
    if message.source == Source::System {
        return view! { <li class=class><span class="system-line">{body}</span></li> }.into_any();
    }
    view! {
        <li class=class>
            <span class="who">{label}</span>
            <div class="bubble">{body}</div>
            <time datetime=exact.clone() title=exact>{time}</time>
        </li>
    }
    .into_any()
}

/// The agent's message while it is being stored (or when storing failed).
#[component]
pub fn PendingView(pending: Pending) -> impl IntoView {
    let failed = pending.error.is_some();
    view! {
        <li class="message from-agent pending" class:failed=failed>
            <span class="who">"You"</span>
            <div class="bubble"><p class="text">{pending.text}</p></div>
            <span class="pending-state">{pending.error.unwrap_or_else(|| "Sending…".into())}</span>
        </li>
    }
}

fn content_view(content: Content) -> AnyView {
    match content {
        Content::Text { text } => view! { <p class="text">{linked(&text)}</p> }.into_any(),
        Content::System { text, .. } => view! { <p class="text">{text}</p> }.into_any(),
        Content::Buttons { text, buttons } => view! {
            <p class="text">{text}</p>
            <div class="chips">
                {buttons.into_iter().map(|b| view! { <span class="chip">{b.title}</span> }).collect_view()}
            </div>
        }
        .into_any(),
        Content::QuickReplies { text, quick_replies } => view! {
            <p class="text">{text}</p>
            <div class="chips">
                {quick_replies.into_iter().map(|q| view! { <span class="chip">{q.title}</span> }).collect_view()}
            </div>
        }
        .into_any(),
        Content::QuickReply { text, .. } => view! { <p class="text">{text}</p> }.into_any(),
        Content::Postback { payload, title } => {
            let shown = title.unwrap_or(payload);
            view! { <p class="text postback">"clicked «"{shown}"»"</p> }.into_any()
        }
        Content::Image { url, title } if is_web_url(&url) => {
            view! { <img class="image" src=url alt=title.unwrap_or_else(|| "image".into())/> }.into_any()
        }
        Content::File { url, title } if is_web_url(&url) => {
            let name = title.unwrap_or_else(|| url.clone());
            view! { <a class="file" href=url rel="noopener noreferrer" target="_blank">{name}</a> }.into_any()
        }
        Content::Audio { url } if is_web_url(&url) => view! { <audio controls src=url></audio> }.into_any(),
        Content::Video { url } if is_web_url(&url) => view! { <video controls src=url></video> }.into_any(),
        Content::Image { url, .. }
        | Content::File { url, .. }
        | Content::Audio { url }
        | Content::Video { url } => view! { <p class="text">"[blocked address] "{url}</p> }.into_any(),
    }
}

/// Text with its http(s) addresses as links that open in a new tab without access to this one.
pub fn linked(text: &str) -> Vec<AnyView> {
    linkify(text)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(t) => t.into_any(),
            Segment::Link(url) => {
                let shown = url.clone();
                view! { <a href=url rel="noopener noreferrer nofollow" target="_blank">{shown}</a> }
                    .into_any()
            }
        })
        .collect()
}

fn unknown_view(message: &Message) -> AnyView {
    let json = serde_json::to_string_pretty(&message.payload).unwrap_or_default();
    view! {
        <details class="unknown">
            <summary>{message.kind.clone()}</summary>
            <pre>{json}</pre>
        </details>
    }
    .into_any()
}

/// Only http(s) addresses become links or media; `javascript:` and the like stay text.
pub fn is_web_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

#[cfg(test)]
mod tests {
    use super::is_web_url;

    #[test]
    fn only_http_and_https_addresses_are_web_urls() {
        assert!(is_web_url("https://example.com/a.png"));
        assert!(is_web_url("HTTP://example.com"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("data:text/html,<script>"));
    }
}
