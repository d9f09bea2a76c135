//! Human-readable output: one block per finding, colour only when asked (the caller decides
//! from TTY detection and `NO_COLOR`).

use std::io::{self, Write};

use super::{sanitize, Report};
use crate::finding::{ChecksumState, Confidence, LiveState};

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
        }
        if let Some(u) = &f.rotate {
            writeln!(out, "    rotate: {u}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}
