//! `keyhound rules list` and `keyhound rules check`.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};

use super::Exit;
use crate::cli::RuleArgs;
use crate::report;
use crate::rules::{self, RuleSet};

/// What importing gitleaks configs left out: every warning (skipped rules too when
/// `with_skipped`), then one summary line per file.
pub fn import_notes(set: &RuleSet, with_skipped: bool, notes: &mut Vec<String>) {
    for imp in &set.imports {
        for w in &imp.warnings {
            if with_skipped || w.effect != rules::gitleaks::Effect::Skipped {
                notes.push(format!("warning: {w}"));
            }
        }
        let skipped = imp.skipped().count();
        notes.push(format!(
            "{}: imported {} of {} gitleaks rule{}{}",
            imp.file,
            imp.imported,
            imp.rules_total,
            if imp.rules_total == 1 { "" } else { "s" },
            match skipped {
                0 => String::new(),
                n => format!(" ({n} skipped)"),
            }
        ));
    }
}

fn print_notes(notes: &[String]) {
    for n in notes {
        eprintln!("keyhound: {}", report::sanitize(n));
    }
}

pub fn list(args: &RuleArgs, json: bool) -> Result<Exit> {
    let set = RuleSet::with_user_rules(&args.extra).context("cannot load rules")?;
    let mut notes = Vec::new();
    import_notes(&set, true, &mut notes);
    print_notes(&notes);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = if json {
        report::rules_list::json(&set, &mut out)
    } else {
        report::rules_list::table(&set, &mut out)
    };
    match result.and_then(|_| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(Exit::Clean),
    }
}

pub fn check(paths: &[PathBuf]) -> Result<Exit> {
    let set = Arc::new(RuleSet::with_user_rules_and(paths, true).context("cannot load rules")?);
    // Skipped rules come out below as problems.
    let mut notes = Vec::new();
    import_notes(&set, false, &mut notes);
    print_notes(&notes);
    let only_user = !paths.is_empty();
    let checked = set
        .rules
        .iter()
        .filter(|r| !only_user || !r.origin.builtin)
        .count();
    let problems = crate::rulecheck::check(Arc::clone(&set), |r| !only_user || !r.origin.builtin)?;
    for p in &problems {
        println!("{}", report::sanitize(&p.to_string()));
    }
    if problems.is_empty() {
        eprintln!("keyhound: {checked} rules checked, all examples pass");
        Ok(Exit::Clean)
    } else {
        eprintln!(
            "keyhound: {checked} rules checked, {} problem{}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        Ok(Exit::Error)
    }
}

pub fn show(id: &str, args: &RuleArgs, json: bool) -> Result<Exit> {
    let set = RuleSet::with_user_rules_and(&args.extra, true).context("cannot load rules")?;
    let mut notes = Vec::new();
    import_notes(&set, true, &mut notes);
    print_notes(&notes);
    let Some(rule) = set.get(id) else {
        let near: Vec<&str> = set
            .rules
            .iter()
            .map(|r| r.id.as_str())
            .filter(|r| {
                let provider = id.split('.').next().unwrap_or(id);
                r.starts_with(provider)
            })
            .take(10)
            .collect();
        let hint = if near.is_empty() {
            "`keyhound rules list` lists the rules".to_string()
        } else {
            format!("rules of that provider: {}", near.join(", "))
        };
        anyhow::bail!("no rule `{}`; {hint}", report::sanitize(id));
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = if json {
        report::rule_show::json(&set, rule, &mut out)
    } else {
        report::rule_show::text(&set, rule, &mut out)
    };
    match result.and_then(|_| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(Exit::Clean),
    }
}
