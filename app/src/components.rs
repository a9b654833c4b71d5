//! Reusable pieces of the console, one component per file.
pub mod conversation;
pub mod message_view;
pub mod session_list;
