//! Server functions: thin adapters from the browser to the engine's port.
mod sessions;

pub use sessions::*;
