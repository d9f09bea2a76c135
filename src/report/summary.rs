//! The one-line summary a scan prints on stderr.

use super::BaselineReport;
use crate::scan::Summary;

/// What kind of scan the summary is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Paths,
    Staged,
    Range,
}

/// Everything the summary line says.
pub struct Facts<'a> {
    pub what: What,
    pub summary: &'a Summary,
    pub findings: usize,
    pub baselines: &'a [BaselineReport],
    pub seconds: f64,
    pub max_size: u64,
    pub validation: Option<&'a crate::validate::Stats>,
    /// `--access-map` was given.
    pub access_map: bool,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn line(f: &Facts<'_>) -> String {
    let s = f.summary;
    let what = match f.what {
        What::Paths if s.repositories > 0 => format!(
            "{} ({}), history of {} in {}",
            plural(s.items, "file and git object", "files and git objects"),
            human_bytes(s.bytes),
            plural(s.commits, "commit", "commits"),
            plural(s.repositories, "repository", "repositories"),
        ),
        What::Paths => format!(
            "{} ({})",
            plural(s.items, "file", "files"),
            human_bytes(s.bytes)
        ),
        What::Staged => format!(
            "{} ({})",
            plural(s.items, "staged file", "staged files"),
            human_bytes(s.bytes)
        ),
        What::Range => format!(
            "{} of {} ({})",
            plural(s.items, "changed file", "changed files"),
            plural(s.commits, "commit", "commits"),
            human_bytes(s.bytes)
        ),
    };
    let mut line = format!(
        "keyhound: {} in {what} in {:.2}s",
        match f.findings {
            0 => "no secrets found".to_string(),
            1 => "1 finding".to_string(),
            n => format!("{n} findings"),
        },
        f.seconds
    );
    let rest = skipped(f);
    if !rest.is_empty() {
        line.push_str("; ");
        line.push_str(&rest.join(", "));
    }
    if let Some(v) = f.validation {
        line.push_str(&format!(
            "; validated {} with {}: {} valid, {} invalid, {} unknown",
            plural(v.checked as u64, "unique secret", "unique secrets"),
            plural(v.requests as u64, "request", "requests"),
            v.valid,
            v.invalid,
            v.unknown
        ));
        if f.access_map {
            line.push_str(&format!("; mapped the access of {}", v.mapped));
        }
    }
    line
}

/// What was skipped or suppressed, each with the flag that includes it.
fn skipped(f: &Facts<'_>) -> Vec<String> {
    let s = f.summary;
    let mut out = Vec::new();
    let dups = s
        .items
        .saturating_sub(s.blobs + s.skipped_binary + s.skipped_large + s.skipped_special);
    if f.what == What::Paths && dups > 0 {
        out.push(format!(
            "{} scanned once",
            plural(dups, "duplicate", "duplicates")
        ));
    }
    if s.cached > 0 {
        out.push(format!(
            "{} unchanged since the last scan (--cache)",
            plural(s.cached, "blob", "blobs")
        ));
    }
    if s.ignored > 0 {
        out.push(format!(
            "{} ignored by .gitignore and the like (--no-ignore)",
            s.ignored
        ));
    }
    if s.skipped_binary > 0 {
        out.push(format!("{} binary skipped", s.skipped_binary));
    }
    if s.skipped_large > 0 {
        out.push(format!(
            "{} larger than {} skipped (--max-file-size)",
            s.skipped_large,
            human_bytes(f.max_size)
        ));
    }
    if s.skipped_special > 0 {
        out.push(format!(
            "{} skipped: not a regular file (a FIFO, socket or device)",
            s.skipped_special
        ));
    }
    if s.below_confidence > 0 {
        out.push(format!(
            "{} below the minimum confidence",
            s.below_confidence
        ));
    }
    if s.allowed > 0 {
        out.push(format!(
            "{} allowed by comment (--no-allow-comments)",
            s.allowed
        ));
    }
    if s.ignore_file > 0 {
        out.push(format!(
            "{} ignored by .gitleaksignore or .betterleaksignore",
            s.ignore_file
        ));
    }
    for b in f.baselines {
        out.push(format!("{} baselined", b.suppressed));
        if let Some(stale) = b.stale.as_ref().filter(|s| !s.is_empty()) {
            out.push(format!(
                "{} in {} (regenerate with `keyhound baseline create`)",
                plural(
                    stale.len() as u64,
                    "stale baseline entry",
                    "stale baseline entries"
                ),
                b.path
            ));
        }
    }
    if s.errors > 0 {
        out.push(plural(s.errors, "error", "errors"));
    }
    out
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
