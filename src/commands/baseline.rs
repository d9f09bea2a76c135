//! `keyhound baseline create`: scan as `scan` would and write the findings as a baseline;
//! `keyhound baseline import`: turn a gitleaks or Betterleaks JSON report into one.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{bail, Context as _, Result};

use super::output::Output;
use super::scan::{run_scopes, ScanOptions};
use super::Exit;
use crate::cli::{ScanArgs, TriageArgs};
use crate::report::{self, Format};
use crate::rules::RuleSet;
use crate::suppress::{self, Triage};

fn triage(t: &TriageArgs) -> Triage {
    Triage {
        reason: t.reason.clone(),
        owner: t.owner.clone(),
        expires: t.expires,
    }
}

pub fn create(args: ScanArgs, t: &TriageArgs) -> Result<Exit> {
    if args.suppress.baseline.is_some() {
        bail!("`baseline create` records every current finding; it does not take --baseline");
    }
    if args.format != Format::Text
        || args.show_secrets
        || args.validation.validate
        || args.validation.access_map
        || args.validation.only_valid
        || args.group_by.is_some()
    {
        bail!(
            "`baseline create` writes YAML; --format, --group-by, --show-secrets and --validate \
             do not apply"
        );
    }
    let opts = ScanOptions::resolve(&args)?;
    let output = Output::prepare(args.output.as_deref())?;
    let m = run_scopes(&opts, false, None)?;
    for e in &m.errors {
        eprintln!("keyhound: {}", report::sanitize(&e.to_string()));
    }
    if !args.quiet {
        for n in &m.notes {
            eprintln!("keyhound: {}", report::sanitize(n));
        }
    }
    let (text, entries) = suppress::render_baseline(&m.findings, &triage(t));
    output.write(|w: &mut dyn Write| w.write_all(text.as_bytes()))?;
    if !args.quiet {
        eprintln!(
            "keyhound: baseline of {} finding{} ({}){}",
            m.findings.len(),
            if m.findings.len() == 1 { "" } else { "s" },
            entries_text(entries),
            written_to(args.output.as_deref())
        );
    }
    let _ = io::stderr().flush().context("stderr");
    Ok(if m.summary.errors > 0 {
        Exit::Error
    } else {
        Exit::Clean
    })
}

fn entries_text(n: usize) -> String {
    format!("{n} entr{}", if n == 1 { "y" } else { "ies" })
}

fn written_to(p: Option<&Path>) -> String {
    p.map(|p| format!(" written to {}", p.display()))
        .unwrap_or_default()
}

pub fn import(report_path: &Path, out: Option<&Path>, t: &TriageArgs, quiet: bool) -> Result<Exit> {
    let output = Output::prepare(out)?;
    let rules = RuleSet::builtin().context("cannot load rules")?;
    let imported = crate::migrate::report::import(report_path, &rules)
        .with_context(|| format!("cannot import {}", report_path.display()))?;
    let usable = imported.findings - imported.redacted;
    if usable == 0 && imported.findings > 0 {
        bail!(
            "{}: all {} findings have redacted secrets (a report written with --redact); keyhound's \
             fingerprints need the secret: rerun gitleaks without --redact",
            report_path.display(),
            imported.findings
        );
    }
    let entries = suppress::with_triage(imported.entries, &triage(t));
    let (text, n) = suppress::render_entries(entries);
    output.write(|w: &mut dyn Write| w.write_all(text.as_bytes()))?;
    if !quiet {
        if imported.redacted > 0 {
            eprintln!(
                "keyhound: warning: {} finding{} skipped: the report redacted the secret \
                 (--redact), and a keyhound fingerprint needs it",
                imported.redacted,
                if imported.redacted == 1 { "" } else { "s" }
            );
        }
        for (rule, count) in &imported.unmapped {
            eprintln!(
                "keyhound: warning: {count} finding{} of gitleaks rule `{rule}`: keyhound has no \
                 built-in counterpart; recorded as {}, which suppresses only when that rule is \
                 imported from a gitleaks config",
                if *count == 1 { "" } else { "s" },
                crate::rules::gitleaks::keyhound_id(rule).unwrap_or_default()
            );
        }
        eprintln!(
            "keyhound: imported {usable} of {} finding{} ({}){}",
            imported.findings,
            if imported.findings == 1 { "" } else { "s" },
            entries_text(n),
            written_to(out)
        );
    }
    Ok(Exit::Clean)
}
