//! Server functions: thin adapters from the browser to the engine's port.
mod actions;
mod notifications;
mod sessions;

pub use actions::*;
pub use notifications::*;
pub use sessions::*;
