//! The bots this server runs: loaded from `<bots-dir>/<bot-id>.toml` at start.

pub mod action;
pub mod external;
pub mod handoffs;
pub mod rules;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rules::Rules;

/// The demo bot, created on first start even without a rules file.
pub const WELCOME_BOT: &str = "welcome-bot";

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

pub struct BotEntry {
    pub id: String,
    pub name: String,
    /// `None`: the bot only records; it answers nothing.
    pub rules: Option<std::sync::Arc<Rules>>,
    /// A bot that runs elsewhere (webhook or Rasa), asked instead of rules.
    pub external: Option<external::External>,
    /// How its queued conversations reach agents.
    pub handoffs: handoffs::Settings,
    /// The bot-wide pause switch: while on, no user message reaches the bot.
    paused: AtomicBool,
}

impl BotEntry {
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
    }
}

/// What a bot definition file declares.
#[derive(Debug)]
pub struct BotDefinition {
    pub id: String,
    pub name: String,
    pub rules: Option<Rules>,
    /// The bot's Messenger page, when it has one.
    pub messenger: Option<crate::channels::messenger::Settings>,
    pub external: Option<external::Settings>,
    pub handoffs: handoffs::Settings,
}

/// Every bot of this server, by id.
pub struct Bots {
    bots: BTreeMap<String, BotEntry>,
}

impl Bots {
    /// Builds the registry; `paused` gives each bot's stored pause switch.
    pub fn new(definitions: Vec<BotDefinition>, paused: impl Fn(&str) -> bool) -> Self {
        let bots = definitions
            .into_iter()
            .map(|d| {
                let entry = BotEntry {
                    paused: AtomicBool::new(paused(&d.id)),
                    id: d.id.clone(),
                    name: d.name,
                    rules: d.rules.map(std::sync::Arc::new),
                    external: d.external.map(external::External::new),
                    handoffs: d.handoffs,
                };
                (d.id, entry)
            })
            .collect();
        Bots { bots }
    }

    pub fn get(&self, id: &str) -> Option<&BotEntry> {
        self.bots.get(id)
    }

    pub fn ids(&self) -> Vec<String> {
        self.bots.keys().cloned().collect()
    }
}

/// Reads every `*.toml` in `dir` (a missing directory holds no bots) and adds the welcome bot
/// if no file defines it.
pub fn load_definitions(dir: &Path) -> Result<Vec<BotDefinition>, LoadError> {
    let mut definitions = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect::<Vec<_>>(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(LoadError::Read {
                path: dir.display().to_string(),
                source,
            })
        }
    };
    let mut paths: Vec<_> = entries
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let shown = path.display().to_string();
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|id| valid_bot_id(id))
            .ok_or_else(|| LoadError::Invalid {
                path: shown.clone(),
                message: "the file name must be a bot id: letters, digits, '-' or '_'".into(),
            })?
            .to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Read {
            path: shown.clone(),
            source,
        })?;
        let file = rules::parse_file(&text).map_err(|message| LoadError::Invalid {
            path: shown,
            message,
        })?;
        definitions.push(BotDefinition {
            name: file.name.unwrap_or_else(|| id.clone()),
            id,
            rules: Some(file.rules),
            messenger: file.messenger,
            external: file.external,
            handoffs: file.handoffs,
        });
    }
    if !definitions.iter().any(|d| d.id == WELCOME_BOT) {
        definitions.push(BotDefinition {
            id: WELCOME_BOT.into(),
            name: "Welcome Bot".into(),
            rules: None,
            messenger: None,
            external: None,
            handoffs: Default::default(),
        });
    }
    Ok(definitions)
}

pub fn valid_bot_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
