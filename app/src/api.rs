//! Server functions: thin adapters from the browser to the engine's port.
mod actions;
mod chat;
mod notifications;
mod sessions;

pub use actions::*;
pub use chat::*;
pub use notifications::*;
pub use sessions::*;
