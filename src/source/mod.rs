//! Sources of content to scan: working trees, stdin (and, later, git history, the index and
//! commit ranges). A source produces bytes with a display path; it knows nothing about rules.

pub mod fs;
pub mod git;

use std::fmt;

/// A file or object a source could not read. Reported, counted, and the scan goes on.
#[derive(Debug)]
pub struct SourceError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// What a source hands to the scanner.
pub enum Event<'a> {
    /// Content to scan, under a display path.
    Blob { path: &'a str, bytes: &'a [u8] },
    /// A git blob whose id is known; its paths come from provenance, if it has findings.
    Object {
        id: crate::blob::BlobId,
        bytes: &'a [u8],
    },
    /// Skipped because it exceeds the size limit.
    TooLarge { path: &'a str, size: u64 },
    /// Could not be read.
    Error(SourceError),
}
