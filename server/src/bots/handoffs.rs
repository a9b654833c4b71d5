//! A bot's `[handoffs]` settings: how its queued conversations reach agents.

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

/// How many conversations an agent owns at once before automatic assignment passes them over,
/// unless their own setting says otherwise.
pub const DEFAULT_CAPACITY: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub assignment: Assignment,
    pub capacity: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            assignment: Assignment::Manual,
            capacity: DEFAULT_CAPACITY,
        }
    }
}

impl Settings {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=1000).contains(&self.capacity) {
            return Err("[handoffs] capacity must be between 1 and 1000".into());
        }
        Ok(())
    }
}
