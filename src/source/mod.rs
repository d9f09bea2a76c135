//! Sources of content: working trees, stdin, git history, the index and commit ranges. A
//! source produces blobs and nothing else: it hands each one, with what it knows of its
//! origin, to a visitor (`Event`), and never decides what is a finding. Sources know nothing
//! about rules or the scanner.

pub mod archive;
pub mod fs;
pub mod git;
pub mod stdin;

use std::fmt;

use crate::blob::BlobId;
use crate::finding::{Commit, MessageKind};

/// A file or object a source could not read. Reported, counted, and the scan goes on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct SourceError {
    /// The file, or `object <id>` for a git object.
    pub path: String,
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why an entry was not scanned (counted in the summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Larger than `--max-file-size`.
    TooLarge,
    /// A NUL byte in the first 8 KiB.
    Binary,
    /// Not a regular file (a FIFO, socket or device named on the command line).
    NotAFile,
    /// A changed path whose new content is a version the change replaced (a rename or copy):
    /// nothing in it is new.
    Unchanged,
}

/// Tells whether a line of an added blob is new (diff modes). Built lazily by the source,
/// only when the blob has findings, and asked only about the lines that hold them.
pub trait AddedLines {
    /// True when `line` (its content, without the line terminator) occurs in none of the
    /// versions the change replaced.
    fn is_added(&mut self, line: &[u8]) -> bool;
}

/// What a source hands to the scanner.
pub enum Event<'a> {
    /// A file on disk, under its display path.
    File { path: &'a str, bytes: &'a [u8] },
    /// Standard input.
    Stdin { bytes: &'a [u8] },
    /// A blob of git history; its paths come from provenance, if it has findings.
    Object { id: BlobId, bytes: &'a [u8] },
    /// The message of a commit or tag (object `id`, committed or tagged at `time`).
    Message {
        id: BlobId,
        kind: MessageKind,
        time: i64,
        bytes: &'a [u8],
    },
    /// The new version of a path in a change (the index, or a commit of a range): only its
    /// added lines count. `order` sorts changes (commits oldest first).
    Added {
        path: &'a str,
        id: BlobId,
        bytes: &'a [u8],
        order: usize,
        commit: Option<&'a Commit>,
        lines: &'a mut dyn AddedLines,
    },
    /// Not scanned, and why.
    Skipped { path: &'a str, why: Skip },
    /// Could not be read.
    Error(SourceError),
}
