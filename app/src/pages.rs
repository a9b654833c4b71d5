//! One module per page of the console.
pub mod console;
pub mod not_found;
