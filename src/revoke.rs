//! `keyhound revoke`: after a scan, offers each found key that its provider lets anyone
//! revoke (GitHub, Slack; see `validate::revoke`) for revocation, one confirmation per key
//! (`--yes` confirms all), and says where to revoke every other key. Each action is logged on
//! stderr with the key redacted. A scan never revokes anything: only this command does.

use std::collections::HashSet;
use std::io::{self, BufRead, Write};

use crate::cli::ValidationArgs;
use crate::finding::Finding;
use crate::report::sanitize;
use crate::rules::RuleSet;
use crate::validate::revoke::Method;
use crate::validate::{read_pem_certificates, ClientOptions, Transport, UreqTransport};

#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("cannot read --ca-cert {path}: {message}")]
    CaCert { path: String, message: String },
}

/// What the command did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Done {
    pub revoked: usize,
    pub declined: usize,
    pub failed: usize,
    /// Keys keyhound cannot revoke: the user was told where to.
    pub manual: usize,
}

/// Runs the dialogue on stdin and stderr.
pub fn run(
    set: &RuleSet,
    findings: &[Finding],
    args: &ValidationArgs,
    yes: bool,
) -> Result<Done, RevokeError> {
    let needs_network = findings
        .iter()
        .any(|f| set.get(&f.rule_id).and_then(Method::for_rule).is_some());
    let transport = if needs_network {
        Some(transport(args)?)
    } else {
        None
    };
    let stdin = io::stdin();
    let mut lines = stdin.lock().lines();
    let mut ask = |question: &str| {
        eprint!("keyhound: {question} [y/N] ");
        let _ = io::stderr().flush();
        matches!(lines.next(), Some(Ok(l)) if matches!(l.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
    };
    let done = dialogue(
        set,
        findings,
        transport.as_ref().map(|t| t as &dyn Transport),
        yes,
        &mut ask,
        &mut |line| eprintln!("keyhound: {line}"),
    );
    eprintln!(
        "keyhound: {} revoked, {} declined, {} failed, {} to revoke at the provider",
        done.revoked, done.declined, done.failed, done.manual
    );
    Ok(done)
}

fn transport(args: &ValidationArgs) -> Result<UreqTransport, RevokeError> {
    let mut extra_ca = Vec::new();
    for path in &args.ca_cert {
        let bad = |message: String| RevokeError::CaCert {
            path: path.display().to_string(),
            message,
        };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        extra_ca.extend(read_pem_certificates(&pem).map_err(bad)?);
    }
    Ok(UreqTransport::new(&ClientOptions {
        timeout: args.validation_timeout,
        connect_to: args.connect_to.clone(),
        extra_ca,
        env_proxy: true,
    }))
}

/// Goes through the unique keys of `findings` in order: revocable ones are revoked when `yes`
/// or `ask` says so; for the others `say` tells where to revoke them.
pub fn dialogue(
    set: &RuleSet,
    findings: &[Finding],
    transport: Option<&dyn Transport>,
    yes: bool,
    ask: &mut dyn FnMut(&str) -> bool,
    say: &mut dyn FnMut(&str),
) -> Done {
    let mut done = Done::default();
    let mut seen = HashSet::new();
    for f in findings {
        if !seen.insert((f.rule_id.as_str(), f.secret.expose())) {
            continue;
        }
        let Some(rule) = set.get(&f.rule_id) else {
            continue;
        };
        let key = format!(
            "{} {} at {}:{}",
            f.rule_id,
            f.secret.redacted(),
            sanitize(&f.location.path),
            f.location.line
        );
        let (Some(method), Some(t)) = (Method::for_rule(rule), transport) else {
            done.manual += 1;
            match &rule.rotate {
                Some(url) => say(&format!("{key}: revoke it at {url}")),
                None => say(&format!("{key}: change it where it was issued")),
            }
            continue;
        };
        if !yes && !ask(&format!("revoke {key} with {}?", method.describe())) {
            done.declined += 1;
            say(&format!("{key}: not revoked (declined)"));
            continue;
        }
        match t
            .send(&method.request(f.secret.expose()))
            .map(|r| method.read(&r))
        {
            Ok(Ok(what)) => {
                done.revoked += 1;
                say(&format!("{key}: revoked: {what}"));
            }
            Ok(Err(why)) => {
                done.failed += 1;
                say(&format!("{key}: NOT revoked: {why}"));
            }
            Err(reason) => {
                done.failed += 1;
                say(&format!("{key}: NOT revoked: {reason}"));
            }
        }
    }
    done
}
