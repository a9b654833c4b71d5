//! hitl: a human-in-the-loop server for chatbots. The binary `hitl` is a thin wrapper around
//! [`startup`]; tests build the same server on port 0.

pub mod accounts;
pub mod admin;
pub mod bots;
pub mod bus;
pub mod channels;
pub mod config;
pub mod console;
pub mod engine;
pub mod http;
pub mod migrate;
pub mod pg_cluster;
pub mod postgres;
pub mod secret;
pub mod sql_lists;
pub mod sql_rows;
pub mod sqlite;
pub mod startup;
pub mod store;
#[cfg(test)]
mod store_conformance;
pub mod team;
