//! A user's message arrives: record it, let the bot decide, apply what it decided. One path for
//! every bot: a bot of rules decides inside the write that records the message (one commit per
//! turn); an external bot is asked after that write, outside any transaction, and its answer is
//! applied in a second write that reads the session again.

use std::sync::Arc;

use app::model::{Actor, ActorKind, Content, Message, Profile, SessionOverview, Source};
use app::team::AgentStatus;

use super::clock::Clock;
use super::outbox;
use super::steps::{self, PauseChange, Recorded};
use super::{Engine, EngineError, Result};
use crate::bots::action::Action;
use crate::bots::handoffs::NoAgent;
use crate::bots::rules::{Context, Rules};
use crate::channels::Outboxes;
use crate::store::write::{apply, Change, WriteTx};
use crate::store::{NewNotification, SessionKey};

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

/// The line agents see when a bot answered after a person took the conversation over.
pub const ANSWER_NOT_SENT: &str = "The bot's answer was not sent: an agent had taken over";
/// The line agents see when a bot answered after the bot-wide switch was turned off.
pub const BOT_SWITCHED_OFF: &str = "The bot's answer was not sent: the bot was switched off";

impl Engine {
    pub async fn receive(&self, incoming: Incoming) -> Result<Outcome> {
        let outcome = self.receive_delivery(incoming, None).await?;
        outcome.ok_or_else(|| EngineError::Invalid("a message without a key was a repeat".into()))
    }

    /// Like [`Engine::receive`] for a channel that redelivers: `None` when the message with
    /// this delivery key was stored before. The key is taken in the write that stores the
    /// message, so a write that fails leaves it free for the redelivery.
    pub async fn receive_once(
        &self,
        incoming: Incoming,
        delivery_key: String,
    ) -> Result<Option<Outcome>> {
        self.receive_delivery(incoming, Some(delivery_key)).await
    }

    async fn receive_delivery(
        &self,
        incoming: Incoming,
        delivery_key: Option<String>,
    ) -> Result<Option<Outcome>> {
        validate(&incoming.content)?;
        let bot = self.bot(&incoming.key.bot_id)?;
        let rules = bot.rules.clone();
        let content = incoming.content.clone();
        let turn = UserTurn {
            outboxes: self.outboxes(),
            incoming,
            delivery_key,
            rules,
            no_agent: self.no_agent_answer(&bot.id),
            takers: self.takers(&bot.id),
        };
        let Some(mut turn) = apply(self.store(), turn).await? else {
            return Ok(None);
        };
        // An external bot sees nothing while the conversation is paused.
        let external = bot.external.as_ref().filter(|_| !bot.is_paused());
        if let (Some(external), false) = (external, turn.session.is_paused) {
            let answer = match external.ask(&turn.session, &content).await {
                Ok(actions) => Answer::Actions(actions),
                Err(reason) => {
                    tracing::warn!(
                        bot_id = bot.id,
                        session_id = turn.session.id,
                        reason,
                        "external bot failed"
                    );
                    Answer::Failed {
                        reason,
                        fallback: external.settings.fallback.clone(),
                    }
                }
            };
            let applied = apply(
                self.store(),
                BotAnswer {
                    outboxes: self.outboxes(),
                    session_id: turn.session.id,
                    answer,
                    no_agent: self.no_agent_answer(&bot.id),
                    takers: self.takers(&bot.id),
                },
            )
            .await?;
            turn.session = applied.session;
            turn.replies = applied.replies;
        }
        if !turn.replies.is_empty() {
            self.wake_sender();
        }
        Ok(Some(Outcome {
            paused: turn.session.is_paused || bot.is_paused(),
            responses: turn.replies.iter().filter_map(Message::content).collect(),
            message: turn.message,
            session: turn.session,
        }))
    }

    /// What the user is told instead of a handoff when the bot answers them while no agent is
    /// online, if it does.
    fn no_agent_answer(&self, bot_id: &str) -> Option<String> {
        let settings = &self.bot(bot_id).ok()?.handoffs;
        let nobody = self
            .presence
            .with_status(bot_id, AgentStatus::Online)
            .is_empty();
        (settings.no_agent == NoAgent::Answer && nobody).then(|| settings.no_agent_message.clone())
    }

    /// Who may take a conversation the bot hands over now: the agents of the bot who are there
    /// (Online, or Busy, who may still claim).
    fn takers(&self, bot_id: &str) -> Vec<i64> {
        let mut ids: Vec<i64> = [AgentStatus::Online, AgentStatus::Busy]
            .into_iter()
            .flat_map(|status| self.presence.with_status(bot_id, status))
            .map(|(id, _)| id)
            .collect();
        ids.sort_unstable();
        ids
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
        let r = apply(
            self.store(),
            BotMessage {
                outboxes: self.outboxes(),
                session_id: session.id,
                content,
            },
        )
        .await?;
        self.wake_sender();
        Ok(r.message)
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
}

/// The user's message and the bot's answers as stored.
struct Turn {
    message: Message,
    replies: Vec<Message>,
    session: SessionOverview,
}

/// Records a user's message and, for a bot of rules, what the rules do with it, decided on the
/// session as stored with the message.
struct UserTurn {
    outboxes: Arc<Outboxes>,
    incoming: Incoming,
    delivery_key: Option<String>,
    rules: Option<Arc<Rules>>,
    /// Told to the user instead of a handoff by the bot (no agent is online).
    no_agent: Option<String>,
    takers: Vec<i64>,
}

#[async_trait::async_trait]
impl Change for UserTurn {
    type Output = Option<Turn>;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Option<Turn>> {
        let mut clock = Clock::start();
        let at = clock.tick();
        if let Some(key) = &self.delivery_key {
            if !tx.take_delivery_key(key, at).await? {
                return Ok(None);
            }
        }
        let Incoming {
            key,
            profile,
            content,
        } = &self.incoming;
        let Recorded { session, message } =
            steps::user_message(tx, key, profile, content, at).await?;
        // The bot-wide switch lets nothing through. Read in this write, not from memory: an
        // instance may hear of a switch another one turned only after this turn began.
        let rules = match &self.rules {
            Some(_) if tx.bot_paused(&key.bot_id).await? => None,
            rules => rules.as_ref(),
        };
        let actions = match rules {
            Some(rules) => {
                let ctx = Context {
                    content,
                    name: session.display_name(),
                    user_id: &session.user_id,
                    channel: &session.channel,
                };
                let decision = rules.decide(&ctx, session.is_paused);
                decision.map(|d| d.actions).unwrap_or_default()
            }
            None => Vec::new(),
        };
        // Only a rule marked `while_paused` (the user's own way back to the bot) resumes. The
        // line says "the user", not their name: names change and belong to the profile.
        let resumer = Actor::new(ActorKind::User, None, "the user");
        let acting = Acting {
            outboxes: &self.outboxes,
            resumer: &resumer,
            no_agent: self.no_agent.as_deref(),
            takers: &self.takers,
        };
        let applied = apply_actions(tx, &acting, session, actions, &mut clock).await?;
        Ok(Some(Turn {
            message,
            replies: applied.replies,
            session: applied.session,
        }))
    }
}

/// An external bot's answer, or why there was none.
enum Answer {
    Actions(Vec<Action>),
    Failed { reason: String, fallback: String },
}

/// Applies an external bot's answer on the session as it is now: if a person took the
/// conversation over while the bot was thinking, nothing reaches the user and the agents see
/// why.
struct BotAnswer {
    outboxes: Arc<Outboxes>,
    session_id: i64,
    answer: Answer,
    no_agent: Option<String>,
    takers: Vec<i64>,
}

#[async_trait::async_trait]
impl Change for BotAnswer {
    type Output = Applied;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Applied> {
        let mut clock = Clock::start();
        let session = tx
            .session(self.session_id)
            .await?
            .ok_or(crate::store::StoreError::NotFound("session"))?;
        let actions = match &self.answer {
            Answer::Actions(actions) => actions.clone(),
            Answer::Failed { reason, fallback } => {
                let text = format!("The bot did not answer: {reason}");
                steps::system_line(tx, session.id, text, clock.tick()).await?;
                let alert = format!(
                    "{} could not answer {}: {reason}",
                    session.bot_id,
                    session.display_name()
                );
                let level = app::model::Level::Error;
                let new = NewNotification::about(session.id, alert, level, None);
                steps::notify(tx, &session.bot_id, &new, clock.tick()).await?;
                vec![Action::Reply(Content::Text {
                    text: fallback.clone(),
                })]
            }
        };
        // Read inside the write, as a user's turn does: another instance may have turned the
        // switch while the bot was thinking.
        let switched_off = tx.bot_paused(&session.bot_id).await?;
        if session.is_paused || switched_off {
            let mut session = session;
            if actions.iter().any(|a| matches!(a, Action::Reply(_))) {
                let line = if session.is_paused {
                    ANSWER_NOT_SENT
                } else {
                    BOT_SWITCHED_OFF
                };
                let line = line.into();
                session = steps::system_line(tx, session.id, line, clock.tick())
                    .await?
                    .session;
            }
            let replies = Vec::new();
            return Ok(Applied { session, replies });
        }
        let acting = Acting {
            outboxes: &self.outboxes,
            resumer: &Actor::bot(),
            no_agent: self.no_agent.as_deref(),
            takers: &self.takers,
        };
        apply_actions(tx, &acting, session, actions, &mut clock).await
    }
}

/// The session after a bot's actions, and the replies to deliver.
struct Applied {
    session: SessionOverview,
    replies: Vec<Message>,
}

/// What applying a bot's actions needs: the channels that push, who resumes (the user, through
/// a rule marked `while_paused`, or the bot), and what the user is told instead of a handoff
/// while no agent is online (if the bot says so), and who may take a conversation handed over.
struct Acting<'a> {
    outboxes: &'a Outboxes,
    resumer: &'a Actor,
    no_agent: Option<&'a str>,
    takers: &'a [i64],
}

/// The line agents read when the bot kept a conversation it would have handed over.
pub const NOBODY_ONLINE: &str = "Nobody was online to take the conversation: the bot keeps it";

/// What a bot decided, applied in order: replies, notifications (an empty one is left out
/// rather than failing the user's message), pauses by the bot (or, with nobody online and the
/// bot's say-so, a message instead), resumes. A notification with a handover goes to each
/// agent who may take it, or to every agent when nobody is there (so whoever comes sees it).
async fn apply_actions(
    tx: &mut dyn WriteTx,
    acting: &Acting<'_>,
    mut session: SessionOverview,
    actions: Vec<Action>,
    clock: &mut Clock,
) -> crate::store::Result<Applied> {
    let mut replies = Vec::new();
    let hands_over = actions.iter().any(|a| matches!(a, Action::Pause { .. }));
    for action in actions {
        match action {
            Action::Reply(content) => {
                let r = steps::outgoing_message(
                    tx,
                    session.id,
                    Source::Bot,
                    &Actor::bot(),
                    &content,
                    clock.tick(),
                )
                .await?;
                outbox::queue(tx, acting.outboxes, &r.session, &r.message, &content).await?;
                session = r.session;
                replies.push(r.message);
            }
            Action::Notify {
                message,
                level,
                url,
            } => {
                if message.trim().is_empty() {
                    continue;
                }
                let new = NewNotification::about(session.id, message, level, url);
                let at = clock.tick();
                if hands_over && !acting.takers.is_empty() {
                    for taker in acting.takers {
                        let new = new.clone().to(*taker);
                        steps::notify(tx, &session.bot_id, &new, at).await?;
                    }
                } else {
                    steps::notify(tx, &session.bot_id, &new, at).await?;
                }
            }
            Action::Pause { .. } if !session.is_paused && acting.no_agent.is_some() => {
                let text = acting.no_agent.unwrap_or_default().to_string();
                let content = Content::Text { text };
                let (at, system) = (clock.tick(), Actor::system());
                let r = steps::outgoing_message(tx, session.id, Source::Bot, &system, &content, at)
                    .await?;
                outbox::queue(tx, acting.outboxes, &r.session, &r.message, &content).await?;
                replies.push(r.message);
                let line = NOBODY_ONLINE.to_string();
                session = steps::system_line(tx, session.id, line, clock.tick())
                    .await?
                    .session;
            }
            Action::Pause { reason } => {
                let change = PauseChange::new(true, Actor::bot(), reason);
                session = steps::set_paused(tx, session.id, &change, clock.tick())
                    .await?
                    .0;
            }
            Action::Unpause { reason } => {
                let change = PauseChange::new(false, acting.resumer.clone(), reason);
                session = steps::set_paused(tx, session.id, &change, clock.tick())
                    .await?
                    .0;
            }
        }
    }
    Ok(Applied { session, replies })
}

/// A message the bot sends outside a turn.
struct BotMessage {
    outboxes: Arc<Outboxes>,
    session_id: i64,
    content: Content,
}

#[async_trait::async_trait]
impl Change for BotMessage {
    type Output = Recorded;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Recorded> {
        let at = Clock::start().tick();
        let bot = Actor::bot();
        let r = steps::outgoing_message(tx, self.session_id, Source::Bot, &bot, &self.content, at)
            .await?;
        outbox::queue(tx, &self.outboxes, &r.session, &r.message, &self.content).await?;
        Ok(r)
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
