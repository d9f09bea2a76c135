//! keyhound: finds leaked API keys and secrets.
//!
//! The engine is a pipeline of narrow modules: `source` produces blobs (files, stdin, git
//! history, the index, commit ranges) → `scan` (the one place that matches, with `matcher`,
//! builds findings, applies allow comments, de-duplicates and orders) → `suppress` (baselines)
//! → `validate` (opt-in live checks) → `report` (text, JSON, JSON Lines, SARIF, CSV, JUnit,
//! GitHub annotations, GitLab's report). `rules` are data, compiled lazily; `migrate` reads
//! what gitleaks and Betterleaks users bring (ignore files, reports); `commands` runs one
//! command line.

pub mod blob;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod confidence;
pub mod config;
pub mod files;
pub mod finding;
#[doc(hidden)]
pub mod fuzzing;
pub mod hook;
pub mod matcher;
pub mod merge;
pub mod migrate;
pub mod progress;
pub mod remote;
pub mod report;
pub mod revoke;
pub mod rulecheck;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;
pub mod text;
pub mod validate;
