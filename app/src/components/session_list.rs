//! The list of sessions: who, last message, paused and unread badges.

use leptos::prelude::*;

use crate::model::{SessionOverview, Source};

#[component]
pub fn SessionList(
    sessions: Vec<SessionOverview>,
    bot_id: String,
    selected: Option<i64>,
) -> impl IntoView {
    if sessions.is_empty() {
        return view! { <p class="muted empty">"No conversations yet."</p> }.into_any();
    }
    view! {
        <ul class="session-list">
            {sessions
                .into_iter()
                .map(|s| {
                    let is_selected = selected == Some(s.id);
                    view! { <SessionRow session=s bot_id=bot_id.clone() is_selected/> }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn SessionRow(session: SessionOverview, bot_id: String, is_selected: bool) -> impl IntoView {
    let href = format!(
        "/modules/hitl?bot={}&session={}",
        url_escape(&bot_id),
        session.id
    );
    let name = session.display_name().to_string();
    let preview = session
        .last_message
        .as_ref()
        .map(|m| format!("{}{}", prefix(m.source), m.text))
        .unwrap_or_default();
    let unread = session.unread_count;
    view! {
        <li class="session-row" class:selected=is_selected>
            <a href=href aria-current=is_selected.then_some("page")>
                <span class="avatar" aria-hidden="true">{initials(&name)}</span>
                <span class="session-main">
                    <span class="session-name">{name}</span>
                    <span class="session-channel">{session.channel.clone()}</span>
                    <span class="session-preview">{preview}</span>
                </span>
                {session.is_paused.then(|| view! { <span class="badge paused">"Paused"</span> })}
                {(unread > 0).then(|| view! {
                    <span class="badge unread" aria-label=format!("{unread} unread")>{unread}</span>
                })}
            </a>
        </li>
    }
}

fn prefix(source: Source) -> &'static str {
    match source {
        Source::User => "User: ",
        Source::Bot => "Bot: ",
        Source::Agent => "Agent: ",
        Source::System => "",
    }
}

/// Up to two initials for the avatar placeholder.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// Escapes a bot id for a query string (ids are simple, but nothing is assumed).
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("ada lovelace byron"), "AL");
        assert_eq!(initials("u-42"), "U");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn url_escape_keeps_safe_characters_only() {
        assert_eq!(url_escape("welcome-bot"), "welcome-bot");
        assert_eq!(url_escape("a b&c"), "a%20b%26c");
    }
}
