//! What a store keeps of who is there: per instance, a person's open consoles and when that
//! instance last saw them; per person, what they chose and what their bots were last told. The
//! engine decides from these facts; both SQL stores read them with the same columns and
//! gather them here.

use app::team::AgentStatus;

use super::{Result, StoreError};

/// The columns of a person's settings, in the order [`SettingsRow`] holds them.
pub const SETTINGS_COLUMNS: &str = "user_id, status, shown_status, shown_at, capacity";
/// The columns of an instance's count of a person's consoles, as [`ConsolesRow`].
pub const CONSOLES_COLUMNS: &str = "user_id, consoles, seen_at";

/// `user_id, status, shown_status, shown_at, capacity`.
pub type SettingsRow = (i64, String, String, Option<i64>, Option<i64>);
/// `user_id, consoles, seen_at`.
pub type ConsolesRow = (i64, i64, i64);

/// One person's presence as the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceFacts {
    pub user_id: i64,
    /// What they chose (Online until they choose).
    pub chosen: AgentStatus,
    /// What their bots were last told (Offline until anything was).
    pub shown: AgentStatus,
    /// Since when `shown` holds (unix ms), once it was told.
    pub shown_at: Option<i64>,
    /// How many conversations they own at once, when set for them.
    pub capacity: Option<i64>,
    /// Per instance that saw them: open consoles and when last seen (unix ms).
    pub seen: Vec<Seen>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub consoles: i64,
    pub at: i64,
}

impl PresenceFacts {
    /// Someone the database knows nothing of yet.
    pub fn unknown(user_id: i64) -> Self {
        PresenceFacts {
            user_id,
            chosen: AgentStatus::default(),
            shown: AgentStatus::Offline,
            shown_at: None,
            capacity: None,
            seen: Vec::new(),
        }
    }
}

/// Each person of `settings` or `consoles`, by id.
pub fn gather(
    settings: Vec<SettingsRow>,
    consoles: Vec<ConsolesRow>,
) -> Result<Vec<PresenceFacts>> {
    let mut people = std::collections::BTreeMap::new();
    for (user_id, chosen, shown, shown_at, capacity) in settings {
        let facts = PresenceFacts {
            chosen: status(&chosen)?,
            shown: status(&shown)?,
            shown_at,
            capacity,
            ..PresenceFacts::unknown(user_id)
        };
        people.insert(user_id, facts);
    }
    for (user_id, consoles, at) in consoles {
        people
            .entry(user_id)
            .or_insert_with(|| PresenceFacts::unknown(user_id))
            .seen
            .push(Seen { consoles, at });
    }
    let mut people: Vec<PresenceFacts> = people.into_values().collect();
    for person in &mut people {
        person.seen.sort_by_key(|s| (s.at, s.consoles));
    }
    Ok(people)
}

/// The one person of `settings` and `consoles` (which hold only them), or what is known of
/// nobody.
pub fn gather_one(
    user_id: i64,
    settings: Option<SettingsRow>,
    consoles: Vec<ConsolesRow>,
) -> Result<PresenceFacts> {
    Ok(gather(settings.into_iter().collect(), consoles)?
        .into_iter()
        .next()
        .unwrap_or_else(|| PresenceFacts::unknown(user_id)))
}

fn status(s: &str) -> Result<AgentStatus> {
    AgentStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("agent status {s}")))
}
