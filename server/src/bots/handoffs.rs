//! A bot's `[handoffs]` settings: how its queued conversations reach agents, and the timers
//! that hand them back (each off unless set).

use std::time::Duration;

use serde::Deserialize;

/// How queued conversations get an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignment {
    /// Agents claim them.
    #[default]
    Manual,
    /// Each goes to the online agent with room who waited longest since their last one.
    RoundRobin,
    /// Each goes to the online agent with room who owns the fewest.
    Balanced,
}

/// What a bot does when it hands a conversation over while no agent is online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoAgent {
    /// It waits in the queue all the same.
    #[default]
    Queue,
    /// The user is told (`no_agent_message`) and the bot keeps the conversation.
    Answer,
}

/// What becomes of an agent's conversations once they have been offline for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfflineAction {
    /// They keep them.
    #[default]
    None,
    /// Back to the queue, for someone else.
    Requeue,
    /// Back to the bot.
    ReturnToBot,
}

/// How many conversations an agent owns at once before automatic assignment passes them over,
/// unless their own setting says otherwise.
pub const DEFAULT_CAPACITY: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub assignment: Assignment,
    pub capacity: i64,
    /// An assigned conversation in which nobody wrote for this long goes back to the bot.
    pub inactivity_return_secs: Option<u64>,
    /// The user is warned this long before that return.
    pub inactivity_warning_secs: Option<u64>,
    pub inactivity_warning_message: String,
    pub return_message: String,
    /// A conversation nobody took for this long goes back to the bot.
    pub queue_timeout_secs: Option<u64>,
    pub queue_timeout_message: String,
    pub no_agent: NoAgent,
    pub no_agent_message: String,
    /// The admins are told once of a conversation queued this long.
    pub waiting_too_long_secs: Option<u64>,
    /// A conversation given to an agent who does not answer within this long is offered to
    /// the next one, at most `max_reoffers` times.
    pub claim_timeout_secs: Option<u64>,
    pub max_reoffers: u32,
    pub offline_action: OfflineAction,
    pub offline_after_secs: u64,
    /// Told to a queued user on a channel that pushes (Messenger) with their place in line
    /// (`{position}`), again when it changed but at most every `queue_message_every_secs`; off
    /// when absent.
    pub queue_message: Option<String>,
    pub queue_message_every_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            assignment: Assignment::Manual,
            capacity: DEFAULT_CAPACITY,
            inactivity_return_secs: None,
            inactivity_warning_secs: None,
            inactivity_warning_message: "Are you still there? If we do not hear from you, \
                                         the assistant takes over again soon."
                .into(),
            return_message: "Thanks for chatting with us. The assistant is back to help you."
                .into(),
            queue_timeout_secs: None,
            queue_timeout_message: "Sorry, nobody could take your conversation right now. \
                                    The assistant is back to help you."
                .into(),
            no_agent: NoAgent::Queue,
            no_agent_message: "Nobody is available right now. The assistant keeps helping you."
                .into(),
            waiting_too_long_secs: None,
            claim_timeout_secs: None,
            max_reoffers: 2,
            offline_action: OfflineAction::None,
            offline_after_secs: 300,
            queue_message: None,
            queue_message_every_secs: 60,
        }
    }
}

/// A bot's timers, as durations (each `None` when off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    pub inactivity_return: Option<Duration>,
    pub inactivity_warning: Option<Duration>,
    pub queue_timeout: Option<Duration>,
    pub waiting_too_long: Option<Duration>,
    pub claim_timeout: Option<Duration>,
    pub max_reoffers: u32,
    /// How often a queued user on a channel that pushes may be told their place, if at all.
    pub queue_notice: Option<Duration>,
}

impl Timing {
    pub fn is_off(&self) -> bool {
        self.inactivity_return.is_none()
            && self.queue_timeout.is_none()
            && self.waiting_too_long.is_none()
            && self.claim_timeout.is_none()
            && self.queue_notice.is_none()
    }
}

impl Settings {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=1000).contains(&self.capacity) {
            return Err("[handoffs] capacity must be between 1 and 1000".into());
        }
        let timers = [
            ("inactivity_return_secs", self.inactivity_return_secs),
            ("inactivity_warning_secs", self.inactivity_warning_secs),
            ("queue_timeout_secs", self.queue_timeout_secs),
            ("waiting_too_long_secs", self.waiting_too_long_secs),
            ("claim_timeout_secs", self.claim_timeout_secs),
            ("offline_after_secs", Some(self.offline_after_secs)),
            (
                "queue_message_every_secs",
                Some(self.queue_message_every_secs),
            ),
        ];
        for (key, secs) in timers {
            if secs.is_some_and(|s| s == 0 || s > 30 * 86_400) {
                return Err(format!(
                    "[handoffs] {key} must be between 1 and 2592000 (30 days)"
                ));
            }
        }
        match (self.inactivity_warning_secs, self.inactivity_return_secs) {
            (Some(_), None) => {
                return Err(
                    "[handoffs] inactivity_warning_secs needs inactivity_return_secs".into(),
                )
            }
            (Some(warn), Some(ret)) if warn >= ret => {
                return Err(
                    "[handoffs] inactivity_warning_secs must be less than inactivity_return_secs"
                        .into(),
                )
            }
            _ => {}
        }
        if self.max_reoffers > 100 {
            return Err("[handoffs] max_reoffers must be at most 100".into());
        }
        let texts = [
            (
                "inactivity_warning_message",
                &self.inactivity_warning_message,
            ),
            ("return_message", &self.return_message),
            ("queue_timeout_message", &self.queue_timeout_message),
            ("no_agent_message", &self.no_agent_message),
        ];
        let queue_message = self.queue_message.iter().map(|m| ("queue_message", m));
        let texts = texts.into_iter().chain(queue_message);
        for (key, text) in texts {
            if text.trim().is_empty() || text.len() > 2000 {
                return Err(format!(
                    "[handoffs] {key} must not be empty nor longer than 2000 bytes"
                ));
            }
        }
        Ok(())
    }

    pub fn timing(&self) -> Timing {
        let secs = |s: Option<u64>| s.map(Duration::from_secs);
        Timing {
            inactivity_return: secs(self.inactivity_return_secs),
            inactivity_warning: secs(self.inactivity_warning_secs),
            queue_timeout: secs(self.queue_timeout_secs),
            waiting_too_long: secs(self.waiting_too_long_secs),
            claim_timeout: secs(self.claim_timeout_secs),
            max_reoffers: self.max_reoffers,
            queue_notice: self
                .queue_message
                .as_ref()
                .map(|_| Duration::from_secs(self.queue_message_every_secs)),
        }
    }
}
