//! `keyhound completions SHELL` and `keyhound man [COMMAND]`, generated from the clap
//! definition at run time: they always describe the binary that prints them, and building
//! keyhound needs no build-time step (the build script would otherwise have to compile the
//! whole command-line definition).

use std::io::{self, Write};

use anyhow::{bail, Context as _, Result};
use clap::CommandFactory;

use super::Exit;
use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> Result<Exit> {
    let mut cmd = Cli::command();
    // Into a buffer first: the generator panics on a write error such as a closed pipe.
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "keyhound", &mut buf);
    let mut out = io::stdout().lock();
    finish(out.write_all(&buf).and_then(|_| out.flush()))
}

pub fn man(command: Option<&str>) -> Result<Exit> {
    let mut root = Cli::command();
    root.build();
    let man = match command {
        None => clap_mangen::Man::new(root),
        Some(name) => {
            let Some(sub) = root.find_subcommand(name).cloned() else {
                let names: Vec<&str> = root.get_subcommands().map(|c| c.get_name()).collect();
                bail!("no command `{name}` (commands: {})", names.join(", "));
            };
            let title = format!("keyhound-{}", sub.get_name());
            clap_mangen::Man::new(sub.version(env!("CARGO_PKG_VERSION"))).title(title)
        }
    };
    let mut buf = Vec::new();
    man.render(&mut buf)
        .context("cannot render the manual page")?;
    let mut out = io::stdout().lock();
    finish(out.write_all(&buf).and_then(|_| out.flush()))
}

/// A closed pipe (`keyhound man | head`) is not an error.
fn finish(r: io::Result<()>) -> Result<Exit> {
    match r {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e).context("cannot write"),
        _ => Ok(Exit::Clean),
    }
}
