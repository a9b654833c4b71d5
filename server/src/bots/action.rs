//! What a bot does with a user's message, whichever kind of bot it is (rules or external).

use app::model::{Content, Level};

/// One thing a bot does with a user's message. In a rule's texts, `{text}`, `{payload}`,
/// `{name}` (or `{user.fullName}`), `{userId}` and `{channel}` are filled in.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Reply(Content),
    Notify {
        message: String,
        level: Level,
        url: Option<String>,
    },
    Pause {
        reason: Option<String>,
    },
    Unpause {
        reason: Option<String>,
    },
}
