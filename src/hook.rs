//! `keyhound hook install|uninstall`: the git pre-commit hook that runs `keyhound scan --staged`.
//!
//! Owns where the hook goes (the repository's `core.hooksPath`, else `hooks/` in the common git
//! directory), what it contains, and how an existing hook is treated: never overwritten
//! unless asked (`--force`), or kept and run first (`--chain`). Only a hook keyhound wrote
//! (recognised by its marker line) is ever removed.

use std::fmt;
use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;

use crate::source::git::diff;

/// The line that marks a hook as written by keyhound.
const MARKER: &str = "# keyhound pre-commit hook";
/// Where `--chain` keeps the hook it found, next to the new one.
const CHAINED: &str = "pre-commit.before-keyhound";

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Repo(#[from] diff::DiffError),
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} already exists and was not written by keyhound; keeping it.\n\
         Run `keyhound hook install --chain` to keep it and run keyhound after it, or \
         `keyhound hook install --force` to replace it.{hint}"
    )]
    Exists { path: String, hint: &'static str },
    #[error("{path} was not written by keyhound; not removing it (edit or delete it yourself)")]
    Foreign { path: String },
    #[error(
        "{path} already exists; cannot keep the current hook there. Move it away, then run \
         `keyhound hook install --chain` again"
    )]
    ChainTaken { path: String },
}

/// What to do with a pre-commit hook that keyhound did not write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Refuse,
    Replace,
    Chain,
}

/// What `install` or `uninstall` did, for the message to the user.
#[derive(Debug)]
pub enum Done {
    Installed {
        path: PathBuf,
        chained: Option<PathBuf>,
        replaced: bool,
        updated: bool,
    },
    Removed {
        path: PathBuf,
        restored: Option<PathBuf>,
    },
    NothingToRemove {
        path: PathBuf,
    },
}

impl fmt::Display for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Done::Installed {
                path,
                chained,
                replaced,
                updated,
            } => {
                let verb = if *updated { "updated" } else { "installed" };
                write!(f, "{verb} the pre-commit hook at {}", path.display())?;
                if let Some(c) = chained {
                    write!(
                        f,
                        "; the previous hook, kept as {}, runs first",
                        c.display()
                    )?;
                }
                if *replaced {
                    write!(f, " (replacing the previous hook)")?;
                }
                Ok(())
            }
            Done::Removed { path, restored } => {
                write!(f, "removed the pre-commit hook at {}", path.display())?;
                if let Some(r) = restored {
                    write!(f, "; restored the previous hook from {}", r.display())?;
                }
                Ok(())
            }
            Done::NothingToRemove { path } => {
                write!(
                    f,
                    "no pre-commit hook at {}; nothing to remove",
                    path.display()
                )
            }
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> HookError + '_ {
    move |source| HookError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The hooks directory of the repository: `core.hooksPath` from the repository's own
/// configuration (relative to the work tree, `~/` expanded), else `<common git dir>/hooks`.
pub fn hooks_dir(repo: &gix::Repository) -> PathBuf {
    let configured = repo
        .config_snapshot()
        .string("core.hooksPath")
        .map(|v| v.to_str_lossy().into_owned())
        .filter(|v| !v.trim().is_empty());
    match configured {
        Some(p) => {
            let p = match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
                (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
                _ => PathBuf::from(p),
            };
            if p.is_absolute() {
                p
            } else {
                repo.workdir().unwrap_or(repo.git_dir()).join(p)
            }
        }
        None => repo.common_dir().join("hooks"),
    }
}

/// Single-quotes `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The hook script. It prefers the keyhound binary that installed it and falls back to the
/// one on `PATH` (so a moved or reinstalled keyhound keeps working).
fn script(exe: Option<&Path>) -> String {
    let exe = exe
        .map(|p| shell_quote(&p.to_string_lossy()))
        .unwrap_or_else(|| "keyhound".into());
    format!(
        "#!/bin/sh\n\
         {MARKER}: stops commits that add secrets.\n\
         # Written by `keyhound hook install`; remove with `keyhound hook uninstall`.\n\
         chained=\"$(dirname \"$0\")/{CHAINED}\"\n\
         if [ -x \"$chained\" ]; then\n\
         \x20   \"$chained\" \"$@\" || exit $?\n\
         fi\n\
         keyhound={exe}\n\
         [ -x \"$keyhound\" ] || keyhound=keyhound\n\
         exec \"$keyhound\" scan --staged\n"
    )
}

fn is_ours(text: &str) -> bool {
    text.contains(MARKER)
}

/// Installs the pre-commit hook in the repository containing `path`.
pub fn install(path: &Path, existing: Existing) -> Result<Done, HookError> {
    let repo = diff::discover(path)?;
    let dir = hooks_dir(&repo);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let hook = dir.join("pre-commit");
    let chained_path = dir.join(CHAINED);
    let mut chained = None;
    let mut replaced = false;
    let mut updated = false;
    match std::fs::read(&hook) {
        Ok(bytes) if is_ours(&String::from_utf8_lossy(&bytes)) => {
            updated = true;
            if chained_path.exists() {
                chained = Some(chained_path.clone());
            }
        }
        Ok(bytes) => match existing {
            Existing::Refuse => {
                let text = String::from_utf8_lossy(&bytes);
                return Err(HookError::Exists {
                    path: hook.display().to_string(),
                    hint: if text.contains("pre-commit.com") || text.contains("pre_commit") {
                        "\nIt looks like the pre-commit framework's hook: add keyhound to \
                         .pre-commit-config.yaml instead (see the README)."
                    } else {
                        ""
                    },
                });
            }
            Existing::Replace => replaced = true,
            Existing::Chain => {
                if chained_path.exists() {
                    return Err(HookError::ChainTaken {
                        path: chained_path.display().to_string(),
                    });
                }
                std::fs::rename(&hook, &chained_path).map_err(io_err(&hook))?;
                chained = Some(chained_path.clone());
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&hook)(e)),
    }
    let exe = std::env::current_exe().ok();
    std::fs::write(&hook, script(exe.as_deref())).map_err(io_err(&hook))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .map_err(io_err(&hook))?;
    }
    Ok(Done::Installed {
        path: hook,
        chained,
        replaced,
        updated,
    })
}

/// Removes the hook keyhound installed in the repository containing `path`, restoring a
/// hook that `--chain` kept.
pub fn uninstall(path: &Path) -> Result<Done, HookError> {
    let repo = diff::discover(path)?;
    let dir = hooks_dir(&repo);
    let hook = dir.join("pre-commit");
    let text = match std::fs::read(&hook) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Done::NothingToRemove { path: hook });
        }
        Err(e) => return Err(io_err(&hook)(e)),
    };
    if !is_ours(&text) {
        return Err(HookError::Foreign {
            path: hook.display().to_string(),
        });
    }
    let chained = dir.join(CHAINED);
    if chained.exists() {
        std::fs::rename(&chained, &hook).map_err(io_err(&chained))?;
        Ok(Done::Removed {
            path: hook,
            restored: Some(chained),
        })
    } else {
        std::fs::remove_file(&hook).map_err(io_err(&hook))?;
        Ok(Done::Removed {
            path: hook,
            restored: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
    }

    #[test]
    fn script_is_marked_and_runs_the_staged_scan() {
        let s = script(Some(Path::new("/opt/kh/keyhound")));
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(is_ours(&s));
        assert!(s.contains("keyhound='/opt/kh/keyhound'"));
        assert!(s.ends_with("exec \"$keyhound\" scan --staged\n"));
    }
}
