//! herald: a Microsoft Teams bot service for push campaigns and broadcasts.
//!
//! Layout (see DESIGN.md §4): `botframework` speaks the protocol, `domain` holds pure rules,
//! `store` owns the database, `bot` handles turns, `routes` adapts HTTP, `startup` wires it up.

pub mod approvals;
pub mod audience;
pub mod bot;
pub mod botframework;
pub mod broadcasts;
pub mod campaigns;
pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod error;
pub mod graph;
pub mod lists;
pub mod manifest;
pub mod metrics;
pub mod outbox;
pub mod presence;
pub mod progress;
pub mod reports;
pub mod routes;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod texts;
pub mod tracking;
