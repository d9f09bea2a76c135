//! `keyhound merge`: the reports of several scans (shards) combined into one (see `merge`).

use anyhow::{Context as _, Result};

use super::output::Output;
use super::Exit;
use crate::cli::MergeArgs;

/// Largest report read: a report of hundreds of thousands of findings fits.
const MAX_REPORT: u64 = 1 << 30;

pub fn run(args: &MergeArgs) -> Result<Exit> {
    let output = Output::prepare(args.output.as_deref())?;
    let mut reports = Vec::new();
    for path in &args.reports {
        let text = crate::files::read_text(path, MAX_REPORT, None)
            .with_context(|| format!("cannot read the report {}", path.display()))?;
        reports.push((path.display().to_string(), text));
    }
    let merged = crate::merge::merge(&reports)?;
    output.write(|w| w.write_all(merged.text.as_bytes()))?;
    // As the scans would exit together: an error wins, then a live key, then findings.
    Ok(if merged.errors > 0 {
        Exit::Error
    } else if merged.live > 0 {
        Exit::Live
    } else if merged.findings > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    })
}
