//! Where a report goes. `-o FILE` is prepared before any scanning (a temporary file next to
//! the target, so a missing directory or a read-only one fails at once), written, and renamed
//! into place only when the run has finished writing it: an interrupted or failed run never
//! leaves a partial report. A target that exists and is not a regular file (`/dev/null`, a
//! FIFO, a symbolic link) is opened at once and written in place: renaming over it would
//! replace it.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

pub enum Output {
    Stdout,
    File {
        target: PathBuf,
        temp: PathBuf,
    },
    /// Written in place: a device, FIFO or symbolic link, opened before scanning.
    Special {
        target: PathBuf,
        file: File,
    },
}

impl Output {
    /// Prepares `path` (or stdout).
    pub fn prepare(path: Option<&Path>) -> Result<Output> {
        let Some(target) = path else {
            return Ok(Output::Stdout);
        };
        if target.symlink_metadata().is_ok_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(target)
                .with_context(|| format!("cannot write the report to {}", target.display()))?;
            return Ok(Output::Special {
                target: target.to_path_buf(),
                file,
            });
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .with_context(|| format!("{}: not a file name", target.display()))?;
        let temp = dir.join(format!(
            ".{}.keyhound-{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        File::create_new(&temp)
            .with_context(|| format!("cannot write the report to {}", target.display()))?;
        Ok(Output::File {
            target: target.to_path_buf(),
            temp,
        })
    }

    /// Writes the report with `write` and puts it in place. A closed pipe (`keyhound scan |
    /// head`) is not an error.
    pub fn write(self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
        match &self {
            Output::Stdout => {
                let stdout = io::stdout();
                let mut w = BufWriter::new(stdout.lock());
                match write(&mut w).and_then(|_| w.flush()) {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                    other => other.context("cannot write the report"),
                }
            }
            Output::File { target, temp } => {
                let file = File::create(temp)
                    .with_context(|| format!("cannot write {}", temp.display()))?;
                let mut w = BufWriter::new(file);
                write(&mut w)
                    .and_then(|_| w.flush())
                    .and_then(|_| w.get_ref().sync_all())
                    .with_context(|| format!("cannot write {}", target.display()))?;
                std::fs::rename(temp, target)
                    .with_context(|| format!("cannot write {}", target.display()))
            }
            Output::Special { target, file } => {
                let mut w = BufWriter::new(file);
                write(&mut w)
                    .and_then(|_| w.flush())
                    .with_context(|| format!("cannot write {}", target.display()))
            }
        }
    }

    pub fn is_stdout(&self) -> bool {
        matches!(self, Output::Stdout)
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Output::File { temp, .. } = self {
            let _ = std::fs::remove_file(temp);
        }
    }
}
