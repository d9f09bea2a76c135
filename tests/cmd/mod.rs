//! The keyhound command and temporary file trees, for CLI tests.

#![allow(dead_code)]

use std::fs;

use assert_cmd::Command;
use tempfile::TempDir;

/// The built binary, with colour and terminal width fixed so output is the same everywhere.
pub fn keyhound() -> Command {
    let mut c = Command::cargo_bin("keyhound").unwrap();
    c.env_remove("NO_COLOR").env("COLUMNS", "100");
    c
}

/// A temporary directory holding `files` (relative path, content).
pub fn tree(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let p = dir.path().join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
    dir
}
