//! The web chat for end users: its wire format (shared with the server), the rules that turn a
//! conversation into what the visitor reads, its connection (live in the browser) and its page.

pub mod connection;
pub mod lines;
pub mod page;
pub mod wire;

/// Where the chat's connection stands, as the header shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatStatus {
    Connecting,
    Online,
    Reconnecting,
}

impl ChatStatus {
    pub fn label(self) -> &'static str {
        match self {
            ChatStatus::Connecting => "Connecting…",
            ChatStatus::Online => "Online",
            ChatStatus::Reconnecting => "Reconnecting…",
        }
    }
}
