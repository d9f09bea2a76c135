//! Human-readable output: one block per finding, colour only when asked (the caller decides
//! from TTY detection and `NO_COLOR`).

use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};

use super::{location_text, sanitize, Report};
use crate::finding::{ChecksumState, Commit, Confidence, Finding, History, LiveState, Origin};
use crate::validate::access::{map::plural, AccessMap, Severity};

struct Paint {
    on: bool,
}

impl Paint {
    fn paint(&self, style: Style, s: &str) -> String {
        if self.on {
            format!("{style}{s}{style:#}")
        } else {
            s.to_string()
        }
    }
}

fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let st = Paint { on: r.color };
    for f in r.findings {
        let conf = match f.confidence {
            Confidence::High => st.paint(fg(AnsiColor::Red).effects(Effects::BOLD), "high"),
            Confidence::Medium => st.paint(fg(AnsiColor::Yellow), "medium"),
            Confidence::Low => st.paint(Style::new().effects(Effects::DIMMED), "low"),
        };
        writeln!(
            out,
            "{}  {} ({})  {}",
            st.paint(fg(AnsiColor::Cyan), &location_text(f)),
            st.paint(Style::new().effects(Effects::BOLD), &sanitize(&f.rule_name)),
            sanitize(&f.rule_id),
            conf
        )?;
        writeln!(out, "    {}", r.snippet(f))?;
        writeln!(
            out,
            "    {}",
            st.paint(Style::new().effects(Effects::DIMMED), &facts(r, f))
        )?;
        origin(&st, f, &f.origin, out)?;
        validation(&st, f, out)?;
        if let Some(u) = &f.rotate {
            writeln!(out, "    rotate: {}", sanitize(u))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn facts(r: &Report<'_>, f: &Finding) -> String {
    let mut facts = vec![format!("secret {}", r.secret_text(f))];
    if let Some(p) = r.partner_text(f) {
        facts.push(format!("paired with {p}"));
    }
    if let Some(enc) = f.decoded_from {
        facts.push(format!("decoded from {enc}"));
    }
    if !f.details.is_empty() {
        facts.push(super::Details(&f.details).text());
    }
    match f.checksum {
        Some(ChecksumState::Valid) => facts.push("checksum valid".into()),
        Some(ChecksumState::Invalid) => facts.push("checksum INVALID".into()),
        None => {}
    }
    facts.push(format!("fingerprint {}", f.fingerprint));
    facts.join(" · ")
}

/// `1a2b3c4d5e6f (2024-01-02, Ada: message)`.
fn commit_text(c: &Commit, with_email: bool) -> String {
    let who = if with_email {
        format!("{} <{}>", sanitize(&c.author), sanitize(&c.email))
    } else {
        sanitize(&c.author)
    };
    format!(
        "{} ({}, {}: {})",
        c.short_id(),
        &c.date[..c.date.len().min(10)],
        who,
        sanitize(&c.summary)
    )
}

/// What the finding's origin adds: the commit of an added line or message, the history of
/// a secret in a repository (for an archive member: of its archive).
fn origin(st: &Paint, f: &Finding, o: &Origin, out: &mut dyn Write) -> io::Result<()> {
    match o {
        Origin::Member { archive, .. } => origin(st, f, archive, out),
        Origin::Added {
            commit: Some(c), ..
        } => writeln!(out, "    commit {}", commit_text(c, true)),
        Origin::Message { commit, repo, .. } => writeln!(
            out,
            "    in the message of {} · repository {}",
            commit_text(commit, true),
            repo_text(repo)
        ),
        Origin::File { history: Some(h) } | Origin::History(h) => history(st, f, h, out),
        _ => Ok(()),
    }
}

fn repo_text(repo: &crate::finding::Repository) -> String {
    match &repo.remote {
        Some(url) => format!("{} ({})", sanitize(&repo.path), sanitize(url)),
        None => sanitize(&repo.path),
    }
}

fn history(st: &Paint, f: &Finding, h: &History, out: &mut dyn Write) -> io::Result<()> {
    let mut parts = Vec::new();
    if let Some(c) = &h.introduced {
        parts.push(format!("introduced in {}", commit_text(c, false)));
    }
    // An archive member's history is its archive's.
    let shown = f
        .origin
        .member()
        .map_or(f.location.path.as_str(), |(p, _)| p);
    if !shown.ends_with(&h.path) {
        parts.push(format!("as {}", sanitize(&h.path)));
    }
    parts.push(format!(
        "in {} commit{}",
        h.commits,
        if h.commits == 1 { "" } else { "s" }
    ));
    parts.push(format!("repository {}", repo_text(&h.repo)));
    writeln!(out, "    history: {}", parts.join(" · "))?;
    let action = super::action(h);
    let style = if h.in_head {
        fg(AnsiColor::Yellow)
    } else {
        fg(AnsiColor::Yellow).effects(Effects::BOLD)
    };
    writeln!(out, "    {}", st.paint(style, action))
}

fn validation(st: &Paint, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let Some(v) = &f.validation else {
        return Ok(());
    };
    let state = match v.state {
        LiveState::Valid => st.paint(fg(AnsiColor::Red).effects(Effects::BOLD), "LIVE (valid)"),
        LiveState::Invalid => st.paint(fg(AnsiColor::Green), "invalid"),
        LiveState::Unknown => st.paint(fg(AnsiColor::Yellow), &sanitize(&v.summary())),
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
        for line in access_lines(m, st) {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}

/// An access map as a few indented lines: severity and why, facts, permissions, resources,
/// and what could not be read.
fn access_lines(m: &AccessMap, st: &Paint) -> Vec<String> {
    let sev = match m.severity {
        Severity::Critical => st.paint(fg(AnsiColor::Red).effects(Effects::BOLD), "CRITICAL"),
        Severity::High => st.paint(fg(AnsiColor::Red), "HIGH"),
        Severity::Medium => st.paint(fg(AnsiColor::Yellow), "medium"),
        Severity::Low => st.paint(Style::new().effects(Effects::DIMMED), "low"),
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
    let requests = format!(
        "  {} request{}",
        m.requests,
        if m.requests == 1 { "" } else { "s" }
    );
    lines.push(st.paint(Style::new().effects(Effects::DIMMED), &requests));
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
