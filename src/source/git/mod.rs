//! Git sources. Repositories are opened with isolated options: global and system git config
//! and the environment are ignored, so neither the user's setup nor a hostile repository can
//! change what keyhound reads.

pub mod diff;

use std::path::Path;

pub mod history;
pub(crate) mod objects;
pub mod stored;
pub(crate) mod trees;

/// Errors opening or reading a repository.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path}: not a git repository: {message}")]
    Open { path: String, message: String },
    #[error("{0}")]
    Other(String),
}

/// Opens the repository at `path` exactly (a work tree root, a `.git` directory or a bare
/// repository), without searching parent directories.
pub fn open(path: &Path) -> Result<gix::Repository, GitError> {
    let opts = gix::open::Options::isolated();
    gix::open_opts(path, opts).map_err(|e| GitError::Open {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// True when `path` is the root of a git repository (work tree root with `.git`, a `.git`
/// directory, or a bare repository).
pub fn is_repository(path: &Path) -> bool {
    path.join(".git").exists() || gix::discover::is_git(path).is_ok()
}
