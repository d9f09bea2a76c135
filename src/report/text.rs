//! Human-readable output: one block per finding, colour only when asked (the caller decides
//! from TTY detection and `NO_COLOR`).

use std::io::{self, Write};

use super::{sanitize, Report};
use crate::finding::{ChecksumState, Confidence, LiveState};
use crate::validate::access::{map::plural, AccessMap, Severity};

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let st = Style { on: r.color };
    for f in r.findings {
        let loc = &f.location;
        let conf = match f.confidence {
            Confidence::High => st.paint("1;31", "high"),
            Confidence::Medium => st.paint("33", "medium"),
            Confidence::Low => st.paint("2", "low"),
        };
        writeln!(
            out,
            "{}  {} ({})  {}",
            st.paint(
                "36",
                &format!("{}:{}:{}", sanitize(&loc.path), loc.line, loc.column)
            ),
            st.paint("1", &f.rule_name),
            f.rule_id,
            conf
        )?;
        writeln!(out, "    {}", r.snippet(f))?;
        let mut facts = vec![format!("secret {}", r.secret_text(f))];
        if let Some(p) = r.partner_text(f) {
            facts.push(format!("paired with {p}"));
        }
        if let Some(enc) = f.decoded_from {
            facts.push(format!("decoded from {enc}"));
        }
        match f.checksum {
            Some(ChecksumState::Valid) => facts.push("checksum valid".into()),
            Some(ChecksumState::Invalid) => facts.push("checksum INVALID".into()),
            None => {}
        }
        facts.push(format!("fingerprint {}", f.fingerprint));
        writeln!(out, "    {}", st.paint("2", &facts.join(" · ")))?;
        if let Some(c) = &f.commit {
            writeln!(
                out,
                "    commit {} ({}, {} <{}>: {})",
                &c.id[..c.id.len().min(12)],
                &c.date[..c.date.len().min(10)],
                sanitize(&c.author),
                sanitize(&c.email),
                sanitize(&c.summary)
            )?;
        }
        if let Some(p) = &f.provenance {
            let mut parts = Vec::new();
            if let Some(c) = &p.commit {
                parts.push(format!(
                    "introduced in {} ({}, {}: {})",
                    &c.id[..c.id.len().min(12)],
                    &c.date[..c.date.len().min(10)],
                    sanitize(&c.author),
                    sanitize(&c.summary)
                ));
            }
            if let Some(path) = &p.path {
                if *path != f.location.path {
                    parts.push(format!("as {}", sanitize(path)));
                }
            }
            parts.push(format!(
                "in {} commit{}",
                p.commits,
                if p.commits == 1 { "" } else { "s" }
            ));
            writeln!(out, "    history: {}", parts.join(" · "))?;
            let action = super::action(p);
            let action = if p.in_head {
                st.paint("33", action)
            } else {
                st.paint("1;33", action)
            };
            writeln!(out, "    {action}")?;
        }
        if let Some(v) = &f.validation {
            let state = match v.state {
                LiveState::Valid => st.paint("1;31", "LIVE (valid)"),
                LiveState::Invalid => st.paint("32", "invalid"),
                LiveState::Unknown => st.paint("33", &sanitize(&v.summary())),
            };
            let mut live = vec![format!("validation: {state}")];
            if let Some(i) = &v.identity {
                live.push(format!("identity {}", sanitize(i)));
            }
            if !v.scopes.is_empty() {
                live.push(format!("scopes {}", sanitize(&v.scopes.join(", "))));
            }
            if let Some(k) = &v.key_type {
                live.push(format!("key type {}", sanitize(k)));
            }
            if let Some(e) = &v.expiry {
                live.push(format!("expires {}", sanitize(e)));
            }
            writeln!(out, "    {}", live.join(" · "))?;
            if let Some(m) = &v.access {
                for line in access_lines(m, &st) {
                    writeln!(out, "    {line}")?;
                }
            }
        }
        if let Some(u) = &f.rotate {
            writeln!(out, "    rotate: {u}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// An access map as a few indented lines: severity and why, facts, permissions, resources,
/// and what could not be read.
fn access_lines(m: &AccessMap, st: &Style) -> Vec<String> {
    let sev = match m.severity {
        Severity::Critical => st.paint("1;31", "CRITICAL"),
        Severity::High => st.paint("31", "HIGH"),
        Severity::Medium => st.paint("33", "medium"),
        Severity::Low => st.paint("2", "low"),
    };
    let mut head = vec![format!("access: {sev} ({})", sanitize(&m.reason))];
    for (label, v) in [
        ("identity", &m.identity),
        ("account", &m.account),
        ("key type", &m.key_type),
        ("expires", &m.expiry),
    ] {
        if let Some(v) = v {
            head.push(format!("{label} {}", sanitize(v)));
        }
    }
    let mut lines = vec![head.join(" · ")];
    if !m.permissions.is_empty() {
        let perms: Vec<String> = m
            .permissions
            .iter()
            .map(|p| format!("{} ({})", sanitize(&p.name), p.level.as_str()))
            .collect();
        let more = match m.more_permissions {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        lines.push(format!("  permissions: {}{more}", perms.join(", ")));
    }
    lines.extend(m.resources.iter().map(resource_line));
    for g in &m.unknown {
        lines.push(format!(
            "  unknown: {}: {}",
            sanitize(&g.step),
            sanitize(&g.reason)
        ));
    }
    lines.push(st.paint(
        "2",
        &format!(
            "  {} request{}",
            m.requests,
            if m.requests == 1 { "" } else { "s" }
        ),
    ));
    lines
}

/// `repositories: 9+ (a, b, …) · private: 4`.
fn resource_line(r: &crate::validate::access::Resource) -> String {
    let mut line = format!(
        "  {}: {}{}",
        sanitize(&plural(&r.kind, 2)),
        r.count,
        if r.complete { "" } else { "+" }
    );
    if !r.sample.is_empty() {
        let more = if (r.sample.len() as u64) < r.count {
            ", …"
        } else {
            ""
        };
        let names: Vec<String> = r.sample.iter().map(|n| sanitize(n)).collect();
        line.push_str(&format!(" ({}{more})", names.join(", ")));
    }
    for t in &r.tally {
        line.push_str(&format!(" · {}: {}", sanitize(&t.label), t.count));
    }
    line
}
