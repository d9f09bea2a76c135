//! `keyhound revoke`: scans, then hands the findings to the revocation dialogue. Never part
//! of a scan.

use anyhow::Result;

use super::scan::{run_scopes, ScanOptions};
use super::Exit;
use crate::cli::RevokeArgs;

pub fn run(args: RevokeArgs) -> Result<Exit> {
    let opts = ScanOptions::resolve(&args.scan)?;
    let m = run_scopes(&opts, true, None)?;
    // Each finding goes with the first rule set that has its rule (the built-in rules are in
    // every scope's set).
    let mut failed = 0;
    for (i, rules) in m.rules.iter().enumerate() {
        let mine: Vec<_> = m
            .findings
            .iter()
            .filter(|f| m.rules.iter().position(|r| r.get(&f.rule_id).is_some()) == Some(i))
            .cloned()
            .collect();
        if !mine.is_empty() {
            failed += crate::revoke::run(rules, &mine, &args.scan.validation, args.yes)?.failed;
        }
    }
    Ok(if failed > 0 || m.summary.errors > 0 {
        Exit::Error
    } else {
        Exit::Clean
    })
}
