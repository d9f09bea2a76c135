//! The `keyhound` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use keyhound::cli::Cli;
use keyhound::commands::{self, Exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors are exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::Error as u8 } else { 0 });
        }
    };
    match commands::run(cli) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(e) => {
            eprintln!("keyhound: error: {e:#}");
            ExitCode::from(Exit::Error as u8)
        }
    }
}
