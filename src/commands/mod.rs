//! One command-line run: each command in its own module, options resolved once, errors given
//! their context here (`anyhow`). The library below knows nothing of the command line.

mod baseline;
mod hook;
mod output;
mod revoke;
mod rules;
mod scan;
mod scope;
mod validation;

use anyhow::Result;

use crate::cli::{BaselineCommand, Cli, Command, RulesCommand};

/// How a run ended; `main` maps it to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing found.
    Clean = 0,
    /// Findings were reported.
    Findings = 1,
    /// Something went wrong; wins over everything else.
    Error = 2,
    /// At least one finding was confirmed live (`--validate`).
    Live = 3,
}

pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Scan(args) => scan::run(*args),
        Command::Rules(RulesCommand::List { rules, json }) => rules::list(&rules, json),
        Command::Rules(RulesCommand::Check { paths }) => rules::check(&paths),
        Command::Baseline(BaselineCommand::Create(args)) => baseline::create(*args),
        Command::Hook(cmd) => hook::run(cmd),
        Command::Revoke(args) => revoke::run(*args),
    }
}
