//! A user's message arrives: record it, decide whether the bot sees it, run the bot's rules.

use app::model::{Content, Message, Profile, SessionOverview};

use std::sync::Arc;

use super::pause::pause_change;
use super::{Engine, EngineError, Result};
use crate::bots::rules::{Action, Context, Rules};
use crate::bots::BotEntry;
use crate::store::{ActorKind, Decide, NewNotification, SessionKey, TurnAction};

/// A message from a user on a channel.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub key: SessionKey,
    pub profile: Profile,
    pub content: Content,
}

/// What became of it: the stored message, the bot's answers, and whether the session is paused.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub session: SessionOverview,
    pub message: Message,
    pub responses: Vec<Content>,
    pub paused: bool,
}

/// The actor recorded when a bot's rules pause or resume a conversation.
const BOT_ACTOR: &str = "bot";

impl Engine {
    pub async fn receive(&self, incoming: Incoming) -> Result<Outcome> {
        validate(&incoming.content)?;
        let bot = self.bot(&incoming.key.bot_id)?;
        if let (Some(rules), None, false) = (&bot.rules, &bot.external, bot.is_paused()) {
            return self.rules_turn(bot, rules.clone(), incoming).await;
        }
        let bot_id = incoming.key.bot_id.clone();
        let recorded = self
            .store
            .record_user_message(&incoming.key, &incoming.profile, &incoming.content)
            .await?;
        let mut session = recorded.session;
        // The bot-wide switch lets nothing through; a paused conversation still lets through the
        // rules marked `while_paused` (the user's way back to the bot). An external bot sees
        // nothing while paused.
        let actions = if bot.is_paused() {
            Vec::new()
        } else if let Some(external) = &bot.external {
            if session.is_paused {
                Vec::new()
            } else {
                match external.ask(&session, &incoming.content).await {
                    Ok(actions) => actions,
                    Err(reason) => {
                        self.bot_failed(&bot_id, &session, &reason).await?;
                        let text = external.settings.fallback.clone();
                        vec![Action::Reply(Content::Text { text })]
                    }
                }
            }
        } else {
            Vec::new()
        };
        let mut responses = Vec::new();
        for action in actions {
            match action {
                Action::Reply(content) => {
                    let message = self.bot_says(session.id, content.clone()).await?;
                    session.last_message = Some(message);
                    responses.push(content);
                }
                Action::Notify {
                    message,
                    level,
                    url,
                } => {
                    let new = NewNotification::about(session.id, message, level, url);
                    self.notify(&bot_id, new).await?;
                }
                Action::Pause { reason } => {
                    session = self
                        .pause_session(
                            &bot_id,
                            session.id,
                            true,
                            (BOT_ACTOR, ActorKind::Bot),
                            reason,
                        )
                        .await?;
                }
                // Only the user's own request reaches the rules while paused.
                Action::Unpause { reason } => {
                    let actor = (BOT_ACTOR, ActorKind::User);
                    session = self
                        .pause_session(&bot_id, session.id, false, actor, reason)
                        .await?;
                }
            }
        }
        Ok(Outcome {
            paused: session.is_paused || bot.is_paused(),
            session,
            message: recorded.message,
            responses,
        })
    }

    /// A user's message to a bot of rules: the message and everything the rules do with it are
    /// stored in one write (the rules decide inside it, on the session as stored).
    async fn rules_turn(
        &self,
        bot: &BotEntry,
        rules: Arc<Rules>,
        incoming: Incoming,
    ) -> Result<Outcome> {
        let content = incoming.content.clone();
        let decide: Decide = Box::new(move |session| {
            let ctx = Context {
                content: &content,
                name: session.display_name(),
                user_id: &session.user_id,
                channel: &session.channel,
            };
            let actions = rules.decide(&ctx, session.is_paused).map(|d| d.actions);
            actions
                .unwrap_or_default()
                .into_iter()
                .filter_map(turn_action)
                .collect()
        });
        let turn = self
            .store
            .record_turn(&incoming.key, &incoming.profile, &incoming.content, decide)
            .await?;
        for reply in &turn.replies {
            self.deliver(&turn.session, reply);
        }
        Ok(Outcome {
            paused: turn.session.is_paused || bot.is_paused(),
            responses: turn.replies.iter().filter_map(Message::content).collect(),
            message: turn.recorded.message,
            session: turn.session,
        })
    }

    /// A bot or backend sends a message to a user outside a conversation turn (the outbound REST
    /// route). The session must exist: the user has talked to the bot on that channel.
    pub async fn bot_sends(&self, key: &SessionKey, content: Content) -> Result<Message> {
        if !content.is_bot_kind() {
            return Err(EngineError::Invalid(format!(
                "a bot cannot send a message of type {}",
                content.kind()
            )));
        }
        validate_not_empty(&content)?;
        let session = self.session_by_key(key).await?;
        self.bot_says(session.id, content).await
    }

    /// Messages sent to a Converse user after the message `after` (bot answers, agent replies,
    /// system lines), oldest first.
    pub async fn outgoing_after(
        &self,
        key: &SessionKey,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let session = self.session_by_key(key).await?;
        Ok(self
            .store
            .messages_after(session.id, after, true, limit)
            .await?)
    }

    /// An external bot failed: the agents see why (a system line and a notification).
    async fn bot_failed(
        &self,
        bot_id: &str,
        session: &SessionOverview,
        reason: &str,
    ) -> Result<()> {
        tracing::warn!(
            bot_id,
            session_id = session.id,
            reason,
            "external bot failed"
        );
        let line = Content::System {
            text: format!("The bot did not answer: {reason}"),
            paused: None,
        };
        self.store
            .record_outgoing_message(session.id, app::model::Source::System, Some("hitl"), &line)
            .await?;
        let new = NewNotification {
            message: format!(
                "{bot_id} could not answer {}: {reason}",
                session.display_name()
            ),
            level: app::model::Level::Error,
            url: None,
            session_id: Some(session.id),
        };
        self.notify(bot_id, new).await?;
        Ok(())
    }

    /// Records a message the bot sends into a session.
    async fn bot_says(&self, session_id: i64, content: Content) -> Result<Message> {
        let r = self
            .store
            .record_outgoing_message(session_id, app::model::Source::Bot, None, &content)
            .await?;
        self.deliver(&r.session, &r.message);
        Ok(r.message)
    }
}

/// A user may send only user kinds, and nothing empty.
pub fn validate(content: &Content) -> Result<()> {
    if !content.is_user_kind() {
        return Err(EngineError::Invalid(format!(
            "a user cannot send a message of type {}",
            content.kind()
        )));
    }
    validate_not_empty(content)
}

fn validate_not_empty(content: &Content) -> Result<()> {
    let empty = match content {
        Content::Text { text } | Content::QuickReply { text, .. } => text.trim().is_empty(),
        Content::Postback { payload, .. } => payload.trim().is_empty(),
        Content::Buttons { text, .. } | Content::QuickReplies { text, .. } => {
            text.trim().is_empty()
        }
        Content::Image { url, .. }
        | Content::File { url, .. }
        | Content::Audio { url }
        | Content::Video { url } => url.trim().is_empty(),
        _ => false,
    };
    if empty {
        return Err(EngineError::Invalid(format!(
            "a {} message must not be empty",
            content.kind()
        )));
    }
    Ok(())
}

/// A rule's action as the store takes it within a turn. A notification whose text came out
/// empty is left out rather than failing the user's message.
fn turn_action(action: Action) -> Option<TurnAction> {
    Some(match action {
        Action::Reply(content) => TurnAction::Reply(content),
        Action::Notify {
            message,
            level,
            url,
        } => {
            if message.trim().is_empty() {
                return None;
            }
            TurnAction::Notify {
                message,
                level,
                url,
            }
        }
        Action::Pause { reason } => {
            TurnAction::Pause(pause_change(true, (BOT_ACTOR, ActorKind::Bot), reason))
        }
        // Only the user's own request reaches the rules while paused.
        Action::Unpause { reason } => {
            TurnAction::Pause(pause_change(false, (BOT_ACTOR, ActorKind::User), reason))
        }
    })
}
