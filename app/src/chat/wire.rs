//! What the web chat and the server say to each other: the visitor's view of a conversation
//! (no agent-only details such as pause reasons) and the frames of the chat WebSocket.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Content;

/// One entry of the conversation as the visitor may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatItem {
    pub id: i64,
    pub ts: DateTime<Utc>,
    #[serde(flatten)]
    pub body: ChatBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "from",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum ChatBody {
    /// What the visitor sent.
    Visitor {
        content: Content,
    },
    Bot {
        content: Content,
    },
    /// A human agent; `name` when the agent has one worth showing.
    Person {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        content: Content,
    },
    /// The bot stopped answering; `by_person` when an agent took over (rather than the bot or a
    /// backend handing over).
    Paused {
        by_person: bool,
    },
    /// The bot answers again.
    Resumed,
}

/// Asks for a new visitor (`POST /api/v1/bots/{botId}/chat/visitors`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewVisitor {
    #[serde(default)]
    pub name: Option<String>,
}

/// The new visitor's credentials: the browser keeps both and proves itself with the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitorCredentials {
    pub visitor_id: String,
    pub secret: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Frames from the browser. The first must be `hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum ClientFrame {
    /// Who the visitor is, and the id of the last item they hold (items after it are replayed).
    Hello {
        visitor_id: String,
        secret: String,
        #[serde(default)]
        since: Option<i64>,
    },
    /// A message from the visitor; `client_id` comes back in the `ack` or `error`.
    Send { client_id: String, content: Content },
    /// The visitor's display name (empty to clear it).
    Name { name: String },
}

/// Frames from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum ServerFrame {
    /// An item of the conversation, replayed or new, in id order.
    Item { item: ChatItem },
    /// The replay is complete; what follows is live.
    Ready {
        #[serde(default)]
        name: Option<String>,
    },
    /// The message sent with `client_id` is stored as `item`. Without `item` it was a repeat of
    /// one stored before (sent again after a reconnect): the replay carries that one.
    Ack {
        client_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<ChatItem>,
    },
    Named {
        #[serde(default)]
        name: Option<String>,
    },
    /// The visitor's place in line while they wait for a person (1 is next); `None` once a
    /// person has the conversation or the bot runs it. Sent whenever it changes (right after
    /// `ready` when the visitor is in line).
    Queue {
        #[serde(default)]
        position: Option<i64>,
    },
    /// Something was refused; with `client_id` when it concerns one sent message.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        error: String,
    },
}

/// Longest display name a visitor may set, in characters.
pub const NAME_MAX_CHARS: usize = 80;

/// Longest message text a visitor may send, in characters.
pub const TEXT_MAX_CHARS: usize = 4000;
