//! One command-line run: each command in its own module, options resolved once, errors given
//! their context here (`anyhow`). The library below knows nothing of the command line.

mod baseline;
mod docs;
mod hook;
mod incremental;
mod logging;
mod merge;
mod output;
mod revoke;
mod rules;
mod scan;
mod schedule;
mod scope;
mod targets;
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
    let level = match &cli.command {
        Command::Scan(a) => logging::level(a.quiet, a.verbose, a.log_level),
        Command::Baseline(BaselineCommand::Create { scan: a, .. }) => {
            logging::level(a.quiet, a.verbose, a.log_level)
        }
        _ => logging::level(false, 0, None),
    };
    logging::init(level);
    match cli.command {
        Command::Scan(args) => scan::run(*args),
        Command::Rules(RulesCommand::List { rules, json }) => rules::list(&rules, json),
        Command::Rules(RulesCommand::Check { paths }) => rules::check(&paths),
        Command::Rules(RulesCommand::Show { id, rules, json }) => rules::show(&id, &rules, json),
        Command::Baseline(BaselineCommand::Create { scan, triage }) => {
            baseline::create(*scan, &triage)
        }
        Command::Baseline(BaselineCommand::Import {
            report,
            output,
            triage,
            quiet,
        }) => baseline::import(&report, output.as_deref(), &triage, quiet),
        Command::Hook(cmd) => hook::run(cmd),
        Command::Revoke(args) => revoke::run(*args),
        Command::Merge(args) => merge::run(&args),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { command } => docs::man(command.as_deref()),
    }
}
