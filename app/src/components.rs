//! The parts of the console, one component per file.
pub mod avatar;
pub mod bar_chart;
pub mod bell;
pub mod composer;
pub mod conversation;
pub mod handoff_bar;
pub mod keyboard;
pub mod message_view;
pub mod profile;
pub mod session_list;
pub mod status_switch;
pub mod team_panel;
pub mod top_bar;
pub mod user_menu;
