//! Facebook Messenger: the webhook's checks and parsing, profiles, and the Send API as an
//! outbox (the engine's sender calls it for each stored message, and retries).

use std::sync::Arc;
use std::time::Duration;

use app::model::{Content, Profile};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::{Outbox, SendError};
use crate::store::Delivery;

/// The channel name of Messenger sessions.
pub const CHANNEL: &str = "messenger";
const GRAPH_API: &str = "https://graph.facebook.com/v19.0";
const PROFILE_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// A bot's `[messenger]` settings in its TOML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub page_access_token: String,
    pub app_secret: String,
    pub verify_token: String,
    #[serde(default = "default_graph_api")]
    pub graph_api_url: String,
}

fn default_graph_api() -> String {
    GRAPH_API.into()
}

/// Whether `header` (`X-Hub-Signature-256: sha256=<hex>`) is the HMAC-SHA256 of `body` with the
/// app secret; compared in constant time.
pub fn signature_valid(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// A user's message from the webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// What identifies this delivery, for dropping redeliveries.
    pub key: String,
    pub sender: String,
    pub content: Content,
}

/// The user messages of a webhook body; echoes, deliveries and reads are left out.
pub fn parse(body: &Value) -> Vec<Inbound> {
    let mut out = Vec::new();
    let entries = body["entry"].as_array().cloned().unwrap_or_default();
    let events = entries
        .iter()
        .flat_map(|e| e["messaging"].as_array().cloned().unwrap_or_default());
    for event in events {
        let Some(sender) = event["sender"]["id"].as_str() else {
            continue;
        };
        let timestamp = event["timestamp"].as_i64().unwrap_or_default();
        if let Some(postback) = event.get("postback") {
            let payload = postback["payload"].as_str().unwrap_or_default().to_string();
            let title = postback["title"].as_str().map(str::to_string);
            let key = postback["mid"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("postback:{sender}:{timestamp}"));
            let content = Content::Postback { payload, title };
            out.push(Inbound {
                key,
                sender: sender.into(),
                content,
            });
            continue;
        }
        let message = &event["message"];
        if message.is_null() || message["is_echo"].as_bool() == Some(true) {
            continue;
        }
        let mid = message["mid"].as_str().unwrap_or_default().to_string();
        let text = message["text"].as_str().map(str::to_string);
        if let Some(payload) = message["quick_reply"]["payload"].as_str() {
            let content = Content::QuickReply {
                text: text.unwrap_or_default(),
                payload: payload.into(),
            };
            out.push(Inbound {
                key: mid,
                sender: sender.into(),
                content,
            });
            continue;
        }
        if let Some(text) = text {
            let content = Content::Text { text };
            out.push(Inbound {
                key: mid,
                sender: sender.into(),
                content,
            });
            continue;
        }
        let attachments = message["attachments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (i, attachment) in attachments.iter().enumerate() {
            let url = attachment["payload"]["url"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let content = match attachment["type"].as_str() {
                Some("image") => Content::Image { url, title: None },
                Some("audio") => Content::Audio { url },
                Some("video") => Content::Video { url },
                _ => Content::File { url, title: None },
            };
            out.push(Inbound {
                key: format!("{mid}:{i}"),
                sender: sender.into(),
                content,
            });
        }
    }
    out
}

/// The Send API `message` for a content. Agent replies are plain text with nothing else.
pub fn send_api_message(content: &Content) -> Option<Value> {
    let attachment = |kind: &str, url: &str| json!({ "attachment": { "type": kind, "payload": { "url": url } } });
    Some(match content {
        Content::Text { text } => json!({ "text": text }),
        Content::Buttons { text, buttons } => {
            let buttons: Vec<Value> = buttons
                .iter()
                .map(|b| match &b.url {
                    Some(url) => json!({ "type": "web_url", "title": b.title, "url": url }),
                    None => json!({
                        "type": "postback",
                        "title": b.title,
                        "payload": b.payload.clone().unwrap_or_default(),
                    }),
                })
                .collect();
            json!({ "attachment": { "type": "template", "payload": {
                "template_type": "button", "text": text, "buttons": buttons,
            }}})
        }
        Content::QuickReplies {
            text,
            quick_replies,
        } => json!({
            "text": text,
            "quick_replies": quick_replies
                .iter()
                .map(|q| json!({ "content_type": "text", "title": q.title, "payload": q.payload }))
                .collect::<Vec<_>>(),
        }),
        Content::Image { url, .. } => attachment("image", url),
        Content::File { url, .. } => attachment("file", url),
        Content::Audio { url } => attachment("audio", url),
        Content::Video { url } => attachment("video", url),
        Content::QuickReply { .. } | Content::Postback { .. } | Content::System { .. } => {
            return None
        }
    })
}

/// One bot's Messenger connection: the Send API and profile look-ups.
pub struct Messenger {
    pub settings: Settings,
    client: reqwest::Client,
    // When each user's profile was last fetched: it is fetched once, then again when stale.
    fetched: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl Messenger {
    pub fn start(settings: Settings) -> Arc<Messenger> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Arc::new(Messenger {
            settings,
            client,
            fetched: Default::default(),
        })
    }

    /// Whether the user's profile was never fetched or is older than a day.
    pub fn profile_stale(&self, psid: &str) -> bool {
        let fetched = self.fetched.lock().unwrap_or_else(|e| e.into_inner());
        fetched
            .get(psid)
            .is_none_or(|at| at.elapsed() > PROFILE_MAX_AGE)
    }

    pub fn profile_fetched(&self, psid: &str) {
        let mut fetched = self.fetched.lock().unwrap_or_else(|e| e.into_inner());
        fetched.insert(psid.to_string(), std::time::Instant::now());
    }

    /// The user's name and picture from the Graph API (`None` when it cannot be had).
    pub async fn profile(&self, psid: &str) -> Option<Profile> {
        let url = format!("{}/{psid}", self.settings.graph_api_url);
        let query = [
            ("fields", "first_name,last_name,profile_pic"),
            ("access_token", self.settings.page_access_token.as_str()),
        ];
        let response = self.client.get(url).query(&query).send().await.ok()?;
        let body: Value = response.error_for_status().ok()?.json().await.ok()?;
        let name = [body["first_name"].as_str(), body["last_name"].as_str()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Some(Profile {
            full_name: Some(name).filter(|n| !n.is_empty()),
            avatar_url: body["profile_pic"].as_str().map(str::to_string),
        })
    }
}

#[async_trait::async_trait]
impl Outbox for Messenger {
    /// One Send API call; 429, 5xx and network failures may work later, other refusals not.
    async fn send(&self, delivery: &Delivery) -> Result<(), SendError> {
        let Some(message) = send_api_message(&delivery.content) else {
            return Err(SendError::Refused(format!(
                "Messenger has no form for a {} message",
                delivery.content.kind()
            )));
        };
        let body = json!({
            "recipient": { "id": delivery.recipient },
            "messaging_type": "RESPONSE",
            "message": message,
        });
        let url = format!("{}/me/messages", self.settings.graph_api_url);
        let response = self
            .client
            .post(&url)
            .query(&[("access_token", &self.settings.page_access_token)])
            .json(&body)
            .send()
            .await
            .map_err(|e| SendError::Retry(format!("the Send API is unreachable: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let detail = format!("the Send API answered {status}");
        if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Retry(detail))
        } else {
            Err(SendError::Refused(detail))
        }
    }

    fn label(&self) -> &'static str {
        "Messenger"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn only_the_right_signature_passes() {
        let body = br#"{"object":"page"}"#;
        assert!(signature_valid("s3cret", body, Some(&sign("s3cret", body))));
        assert!(!signature_valid("s3cret", body, Some(&sign("other", body))));
        assert!(!signature_valid("s3cret", body, None));
        assert!(!signature_valid("s3cret", body, Some("sha256=zz")));
    }

    #[test]
    fn texts_quick_replies_postbacks_and_attachments_are_read_and_echoes_skipped() {
        let body = json!({ "object": "page", "entry": [{ "messaging": [
            { "sender": { "id": "p1" }, "timestamp": 1, "message": { "mid": "m1", "text": "hi" } },
            { "sender": { "id": "p1" }, "timestamp": 2,
              "message": { "mid": "m2", "text": "Yes", "quick_reply": { "payload": "YES" } } },
            { "sender": { "id": "p1" }, "timestamp": 3,
              "postback": { "mid": "m3", "title": "Cancel request", "payload": "HITL_STOP" } },
            { "sender": { "id": "p1" }, "timestamp": 4, "message": { "mid": "m4",
              "attachments": [{ "type": "image", "payload": { "url": "https://x/a.png" } }] } },
            { "sender": { "id": "page" }, "timestamp": 5,
              "message": { "mid": "m5", "text": "echo", "is_echo": true } },
            { "sender": { "id": "p1" }, "timestamp": 6, "delivery": { "mids": ["m1"] } },
            { "sender": { "id": "p1" }, "timestamp": 7, "read": { "watermark": 6 } }
        ]}]});
        let got: Vec<(String, Content)> = parse(&body)
            .into_iter()
            .map(|i| (i.key, i.content))
            .collect();
        assert_eq!(
            got,
            vec![
                ("m1".into(), Content::Text { text: "hi".into() }),
                (
                    "m2".into(),
                    Content::QuickReply {
                        text: "Yes".into(),
                        payload: "YES".into()
                    }
                ),
                (
                    "m3".into(),
                    Content::Postback {
                        payload: "HITL_STOP".into(),
                        title: Some("Cancel request".into())
                    }
                ),
                (
                    "m4:0".into(),
                    Content::Image {
                        url: "https://x/a.png".into(),
                        title: None
                    }
                ),
            ]
        );
    }

    #[test]
    fn agent_text_goes_out_as_a_plain_text_message() {
        let text = Content::Text {
            text: "hello".into(),
        };
        assert_eq!(send_api_message(&text), Some(json!({ "text": "hello" })));
    }
}
