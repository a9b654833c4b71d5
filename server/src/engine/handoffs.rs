//! Who owns a conversation: an agent claims it from the queue, or it is assigned to one. Both
//! are decided on the handoff as the change reads it, so of two agents claiming at once one
//! gets it and the other is told who did.

use app::model::{Actor, ActorKind, Assignee, Handoff, HandoffState, SessionOverview};

use super::clock::Clock;
use super::steps::{self, PauseChange};
use super::{Engine, EngineError, Result};
use crate::store::write::{apply, Change, WriteTx};

/// Why a conversation is paused when an agent claims it from the bot.
pub const CLAIMED: &str = "an agent took the conversation";

/// Who may hand a conversation to someone: admins, and its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignRight {
    Admin,
    OwnerOnly,
}

impl Engine {
    /// `person` takes the conversation: from the queue, or from the bot (which is then paused).
    /// Claiming one's own is a no-op; one someone else owns is refused with `Taken`.
    pub async fn claim(
        &self,
        bot_id: &str,
        session_id: i64,
        person: &Actor,
    ) -> Result<SessionOverview> {
        self.session(bot_id, session_id).await?;
        let assignee = assignee_of(person)?;
        let change = Take {
            session_id,
            assignee,
            by: person.clone(),
            note: None,
            way: Way::Claim,
        };
        let session = apply(self.store(), change).await?.into_result()?;
        self.timed(session).await
    }

    /// An admin takes the conversation from whoever owns it (the caller checks they are an
    /// admin); the owner is told.
    pub async fn take_over(
        &self,
        bot_id: &str,
        session_id: i64,
        admin: &Actor,
    ) -> Result<SessionOverview> {
        self.session(bot_id, session_id).await?;
        let change = Take {
            session_id,
            assignee: assignee_of(admin)?,
            by: admin.clone(),
            note: None,
            way: Way::TakeOver,
        };
        let session = apply(self.store(), change).await?.into_result()?;
        self.timed(session).await
    }

    /// The dispatcher gives a queued conversation to `to`; refused with `Taken` when someone
    /// has it by now, and `NotFound` when it is no longer queued.
    pub async fn auto_assign(
        &self,
        bot_id: &str,
        session_id: i64,
        to: Assignee,
    ) -> Result<SessionOverview> {
        self.session(bot_id, session_id).await?;
        let change = Take {
            session_id,
            assignee: to,
            by: Actor::system(),
            note: None,
            way: Way::Auto,
        };
        let session = apply(self.store(), change).await?.into_result()?;
        self.timed(session).await
    }

    /// `by` hands the conversation to `to` (who must work on the bot: the caller checks), with
    /// an optional note for them.
    pub async fn assign(
        &self,
        bot_id: &str,
        session_id: i64,
        to: Assignee,
        by: &Actor,
        right: AssignRight,
        note: Option<String>,
    ) -> Result<SessionOverview> {
        self.session(bot_id, session_id).await?;
        let change = Take {
            session_id,
            assignee: to,
            by: by.clone(),
            note,
            way: Way::Assign(right),
        };
        let session = apply(self.store(), change).await?.into_result()?;
        self.timed(session).await
    }
}

impl Engine {
    /// The owner (or an admin: `right`) keeps the conversation: the count towards its return
    /// to the bot starts again.
    pub async fn keep(
        &self,
        bot_id: &str,
        session_id: i64,
        by: &Actor,
        right: AssignRight,
    ) -> Result<SessionOverview> {
        self.session(bot_id, session_id).await?;
        let change = Keep {
            session_id,
            by: by.clone(),
            right,
        };
        match apply(self.store(), change).await? {
            Kept::Done(session) => self.timed(*session).await,
            Kept::NotOwner => Err(EngineError::Forbidden(
                "only its owner or an admin may keep this conversation".into(),
            )),
            Kept::Unowned => Err(EngineError::NotFound("assigned handoff")),
        }
    }
}

enum Kept {
    Done(Box<SessionOverview>),
    NotOwner,
    /// Nobody owns it (with the bot, or queued).
    Unowned,
}

struct Keep {
    session_id: i64,
    by: Actor,
    right: AssignRight,
}

#[async_trait::async_trait]
impl Change for Keep {
    type Output = Kept;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Kept> {
        let at = Clock::start().tick();
        let session = tx
            .session(self.session_id)
            .await?
            .ok_or(crate::store::StoreError::NotFound("session"))?;
        let Some(owner) = session.handoff.as_ref().and_then(Handoff::owner_id) else {
            return Ok(Kept::Unowned);
        };
        if self.right == AssignRight::OwnerOnly && self.by.id != Some(owner) {
            return Ok(Kept::NotOwner);
        }
        Ok(match steps::keep(tx, &session, &self.by, at).await? {
            Some(session) => Kept::Done(Box::new(session)),
            // Changed meanwhile: kept as it is now.
            None => Kept::Done(Box::new(
                tx.session(self.session_id)
                    .await?
                    .ok_or(crate::store::StoreError::NotFound("session"))?,
            )),
        })
    }
}

impl Engine {
    /// The session with its timers armed for the change just made, so its answer shows them.
    async fn timed(&self, session: SessionOverview) -> Result<SessionOverview> {
        if self.bot(&session.bot_id)?.handoffs.timing().is_off() {
            return Ok(session);
        }
        self.arm_timers(&session.bot_id, session.id).await?;
        self.session(&session.bot_id, session.id).await
    }
}

/// What a take came to.
enum Taken {
    /// The conversation, now theirs.
    Done(Box<SessionOverview>),
    /// Someone else has it: the handoff as it is.
    Owned(Handoff),
    /// Not theirs to hand over.
    Refused(&'static str),
    /// No longer queued (handed back to the bot meanwhile).
    Gone,
}

impl Taken {
    fn into_result(self) -> Result<SessionOverview> {
        match self {
            Taken::Done(session) => Ok(*session),
            Taken::Owned(handoff) => Err(EngineError::Taken(Box::new(handoff))),
            Taken::Refused(why) => Err(EngineError::Forbidden(why.into())),
            Taken::Gone => Err(EngineError::NotFound("queued handoff")),
        }
    }
}

/// Only a person can own a conversation.
pub(super) fn assignee_of(actor: &Actor) -> Result<Assignee> {
    match (actor.kind, actor.id) {
        (ActorKind::Agent, Some(id)) => Ok(Assignee {
            id,
            name: actor.name.clone(),
        }),
        _ => Err(EngineError::Forbidden(
            "only a person can take a conversation (this token belongs to nobody)".into(),
        )),
    }
}

/// How a conversation is taken.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// By the person themselves: no right needed beyond working on the bot.
    Claim,
    /// Given to someone, with the giver's right.
    Assign(AssignRight),
    /// Taken from its owner by an admin.
    TakeOver,
    /// Given from the queue by the dispatcher.
    Auto,
}

struct Take {
    session_id: i64,
    assignee: Assignee,
    by: Actor,
    note: Option<String>,
    way: Way,
}

#[async_trait::async_trait]
impl Change for Take {
    type Output = Taken;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Self::Output> {
        let mut clock = Clock::start();
        let mut session = tx
            .session(self.session_id)
            .await?
            .ok_or(crate::store::StoreError::NotFound("session"))?;
        let owner = session.handoff.as_ref().and_then(Handoff::owner_id);
        if owner == Some(self.assignee.id) {
            return Ok(Taken::Done(Box::new(session)));
        }
        match (self.way, owner, &session.handoff) {
            // A claim of what someone else owns.
            (Way::Claim | Way::Auto, Some(_), Some(handoff)) => {
                return Ok(Taken::Owned(handoff.clone()))
            }
            // The dispatcher gives only what waits in the queue.
            (Way::Auto, _, None) => return Ok(Taken::Gone),
            // Handing over what one does not own.
            (Way::Assign(AssignRight::OwnerOnly), owner, handoff) if owner != self.by.id => {
                return Ok(Taken::Refused(match handoff {
                    Some(h) if h.state == HandoffState::Assigned => {
                        "only its owner or an admin may hand this conversation over"
                    }
                    _ => "only an admin may assign a conversation nobody owns",
                }));
            }
            _ => {}
        }
        if session.handoff.is_none() {
            let pause = PauseChange::new(true, self.by.clone(), Some(CLAIMED.into()));
            session = steps::set_paused(tx, self.session_id, &pause, clock.tick())
                .await?
                .0;
        }
        let note = self.note.as_deref();
        Ok(
            match steps::assign(tx, &session, &self.assignee, &self.by, note, clock.tick()).await? {
                Ok(session) => Taken::Done(Box::new(session)),
                Err(handoff) => Taken::Owned(handoff),
            },
        )
    }
}
