//! External bots: a bot's file may point at a webhook bot (hitl POSTs each message the bot may
//! see; the bot answers with messages and actions) or at Rasa's REST channel. Calls are bounded by
//! a time-out and a few retries; a bot that fails is the engine's to report.

use std::time::Duration;

use app::model::{Button, Content, Level, SessionOverview};
use serde::Deserialize;
use serde_json::{json, Value};

use super::action::Action;

/// A bot's `[external]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub kind: Kind,
    /// The webhook's URL, or Rasa's base URL (`/webhooks/rest/webhook` is added).
    pub url: String,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Extra attempts after a failed one.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// What the user is told when the bot fails or times out.
    #[serde(default = "default_fallback")]
    pub fallback: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Webhook,
    Rasa,
}

fn default_timeout_ms() -> u64 {
    5_000
}

fn default_retries() -> u32 {
    1
}

fn default_fallback() -> String {
    "Sorry, I cannot answer right now. A person will get back to you.".into()
}

/// A connected external bot.
#[derive(Debug)]
pub struct External {
    pub settings: Settings,
    client: reqwest::Client,
}

impl External {
    /// What the admin pages call this kind of bot.
    pub fn kind_name(&self) -> &'static str {
        match self.settings.kind {
            Kind::Webhook => "webhook",
            Kind::Rasa => "rasa",
        }
    }

    pub fn new(settings: Settings) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .build()
            .unwrap_or_default();
        External { settings, client }
    }

    /// Asks the bot what to do with a user's message; the error says why it could not answer.
    pub async fn ask(
        &self,
        session: &SessionOverview,
        content: &Content,
    ) -> Result<Vec<Action>, String> {
        let (url, body) = match self.settings.kind {
            Kind::Webhook => (self.settings.url.clone(), webhook_request(session, content)),
            Kind::Rasa => (
                format!(
                    "{}/webhooks/rest/webhook",
                    self.settings.url.trim_end_matches('/')
                ),
                json!({
                    "sender": session.user_id,
                    "message": content.user_payload().or(content.user_text()).unwrap_or_default(),
                }),
            ),
        };
        let mut last_error = String::new();
        for attempt in 0..=self.settings.retries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt.min(4))).await;
            }
            match self.client.post(&url).json(&body).send().await {
                Ok(r) if r.status().is_success() => {
                    let answer: Value = r
                        .json()
                        .await
                        .map_err(|e| format!("unreadable answer: {e}"))?;
                    return match self.settings.kind {
                        Kind::Webhook => webhook_actions(&answer),
                        Kind::Rasa => rasa_actions(&answer),
                    };
                }
                Ok(r) => last_error = format!("answered {}", r.status()),
                Err(e) if e.is_timeout() => {
                    last_error = format!("no answer within {} ms", self.settings.timeout_ms)
                }
                Err(e) => last_error = format!("unreachable: {e}"),
            }
        }
        Err(last_error)
    }
}

/// What a webhook bot receives for each message it may see.
fn webhook_request(session: &SessionOverview, content: &Content) -> Value {
    json!({
        "botId": session.bot_id,
        "sessionId": session.id,
        "channel": session.channel,
        "userId": session.user_id,
        "user": { "fullName": session.full_name, "avatarUrl": session.avatar_url },
        "message": content,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookAnswer {
    #[serde(default)]
    messages: Vec<Content>,
    #[serde(default)]
    actions: Vec<WebhookAction>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum WebhookAction {
    Pause {
        reason: Option<String>,
    },
    Unpause {
        reason: Option<String>,
    },
    Notify {
        message: String,
        level: Option<Level>,
        url: Option<String>,
    },
}

/// A webhook bot's answer: its messages first, then its actions.
fn webhook_actions(answer: &Value) -> Result<Vec<Action>, String> {
    let answer: WebhookAnswer = serde_json::from_value(answer.clone())
        .map_err(|e| format!("answer of the wrong shape: {e}"))?;
    if let Some(bad) = answer.messages.iter().find(|m| !m.is_bot_kind()) {
        return Err(format!(
            "a bot cannot send a message of type {}",
            bad.kind()
        ));
    }
    let mut actions: Vec<Action> = answer.messages.into_iter().map(Action::Reply).collect();
    actions.extend(answer.actions.into_iter().map(|a| match a {
        WebhookAction::Pause { reason } => Action::Pause { reason },
        WebhookAction::Unpause { reason } => Action::Unpause { reason },
        WebhookAction::Notify {
            message,
            level,
            url,
        } => Action::Notify {
            message,
            level: level.unwrap_or(Level::Info),
            url,
        },
    }));
    Ok(actions)
}

/// Rasa's REST answers `[{recipient_id, text, buttons, image}]`.
fn rasa_actions(answer: &Value) -> Result<Vec<Action>, String> {
    let items = answer
        .as_array()
        .ok_or("Rasa answered something other than a list")?;
    let mut actions = Vec::new();
    for item in items {
        let text = item["text"].as_str().map(str::to_string);
        let buttons: Vec<Button> = item["buttons"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|b| Button {
                        title: b["title"].as_str().unwrap_or_default().to_string(),
                        payload: b["payload"].as_str().map(str::to_string),
                        url: None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        match (text, buttons.is_empty()) {
            (Some(text), false) => actions.push(Action::Reply(Content::Buttons { text, buttons })),
            (Some(text), true) => actions.push(Action::Reply(Content::Text { text })),
            (None, _) => {}
        }
        if let Some(url) = item["image"].as_str() {
            actions.push(Action::Reply(Content::Image {
                url: url.into(),
                title: None,
            }));
        }
    }
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rasa_answers_become_texts_buttons_and_images() {
        let answer = json!([
            { "recipient_id": "u", "text": "Hi" },
            { "recipient_id": "u", "text": "Pick", "buttons": [{ "title": "Yes", "payload": "/affirm" }] },
            { "recipient_id": "u", "image": "https://x/cat.png" }
        ]);
        let actions = rasa_actions(&answer).unwrap();
        assert_eq!(actions.len(), 3);
        assert_eq!(
            actions[0],
            Action::Reply(Content::Text { text: "Hi".into() })
        );
        assert!(
            matches!(&actions[1], Action::Reply(Content::Buttons { buttons, .. }) if buttons[0].payload.as_deref() == Some("/affirm"))
        );
        assert!(matches!(&actions[2], Action::Reply(Content::Image { .. })));
    }

    #[test]
    fn a_webhook_answer_gives_messages_then_actions_and_refuses_user_kinds() {
        let answer = json!({
            "messages": [{ "type": "text", "text": "Let me get someone" }],
            "actions": [{ "type": "pause", "reason": "asked for a human" }, { "type": "notify", "message": "help" }]
        });
        let actions = webhook_actions(&answer).unwrap();
        assert_eq!(
            actions[0],
            Action::Reply(Content::Text {
                text: "Let me get someone".into()
            })
        );
        assert_eq!(
            actions[1],
            Action::Pause {
                reason: Some("asked for a human".into())
            }
        );
        assert!(matches!(
            &actions[2],
            Action::Notify {
                level: Level::Info,
                ..
            }
        ));
        let bad = json!({ "messages": [{ "type": "postback", "payload": "X" }] });
        assert!(webhook_actions(&bad).is_err());
        assert!(webhook_actions(&json!({ "nonsense": 1 })).is_err());
    }
}
