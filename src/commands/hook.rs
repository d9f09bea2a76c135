//! `keyhound hook install|uninstall`.

use anyhow::Result;

use super::Exit;
use crate::cli::HookCommand;
use crate::hook;

pub fn run(cmd: HookCommand) -> Result<Exit> {
    let done = match cmd {
        HookCommand::Install { force, chain, path } => {
            let mode = if force {
                hook::Existing::Replace
            } else if chain {
                hook::Existing::Chain
            } else {
                hook::Existing::Refuse
            };
            hook::install(&path, mode)?
        }
        HookCommand::Uninstall { path } => hook::uninstall(&path)?,
    };
    eprintln!("keyhound: {done}");
    Ok(Exit::Clean)
}
