//! keyhound: finds leaked API keys and secrets.
//!
//! The engine is a pipeline of narrow modules: `rules` (YAML rules, compiled lazily) →
//! `matcher` (keyword prefilter + per-rule regex confirmation, pure) → `scan` (dedup by blob
//! id, locations, deterministic order) → `report` (text, JSON, JSON Lines, SARIF). `source`
//! produces the content; `app` wires a command-line run together.

pub mod app;
pub mod blob;
pub mod cli;
pub mod config;
pub mod finding;
#[doc(hidden)]
pub mod fuzzing;
pub mod hook;
pub mod matcher;
pub mod progress;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;
pub mod validate;
