//! `keyhound baseline create`: scan as `scan` would and write the findings as a baseline.

use std::io::{self, Write};

use anyhow::{bail, Context as _, Result};

use super::output::Output;
use super::scan::{run_scopes, ScanOptions};
use super::Exit;
use crate::cli::ScanArgs;
use crate::report::{self, Format};
use crate::suppress;

pub fn create(args: ScanArgs) -> Result<Exit> {
    if args.suppress.baseline.is_some() {
        bail!("`baseline create` records every current finding; it does not take --baseline");
    }
    if args.format != Format::Text
        || args.show_secrets
        || args.validation.validate
        || args.validation.access_map
    {
        bail!(
            "`baseline create` writes YAML; --format, --show-secrets and --validate do not apply"
        );
    }
    let opts = ScanOptions::resolve(&args)?;
    let output = Output::prepare(args.output.as_deref())?;
    let m = run_scopes(&opts, false, None)?;
    for e in &m.errors {
        eprintln!("keyhound: {}", report::sanitize(&e.to_string()));
    }
    let (text, entries) = suppress::render_baseline(&m.findings);
    output.write(|w: &mut dyn Write| w.write_all(text.as_bytes()))?;
    if !args.quiet {
        eprintln!(
            "keyhound: baseline of {} finding{} ({} entr{}){}",
            m.findings.len(),
            if m.findings.len() == 1 { "" } else { "s" },
            entries,
            if entries == 1 { "y" } else { "ies" },
            args.output
                .as_ref()
                .map(|p| format!(" written to {}", p.display()))
                .unwrap_or_default()
        );
    }
    let _ = io::stderr().flush().context("stderr");
    Ok(if m.summary.errors > 0 {
        Exit::Error
    } else {
        Exit::Clean
    })
}
