//! Server functions: thin adapters from the browser to the engine's port.
mod account;
mod actions;
mod admin;
mod chat;
pub mod client;
mod history;
mod notifications;
mod sessions;

pub use account::*;
pub use actions::*;
pub use admin::*;
pub use chat::*;
pub use history::*;
pub use notifications::*;
pub use sessions::*;
