//! One module per page of the console.
pub mod account;
pub mod admin;
pub mod analytics;
pub mod console;
pub mod history;
pub mod login;
pub mod not_found;
pub mod transcript;
