//! An access map's result, and the one place that derives its severity.
//!
//! Every text here came from a provider's answer (or a scanned token) and is untrusted: the
//! builder strips control and bidirectional-override characters, cuts each value to
//! `MAX_TEXT` characters, keeps at most `SAMPLE` names per resource and `MAX_PERMISSIONS`
//! permissions, and replaces the secret wherever an answer repeats it.

use serde::Serialize;

use crate::rules::syntax::Level;

/// Longest text kept from an answer.
pub const MAX_TEXT: usize = 100;
/// Names kept per kind of resource.
pub const SAMPLE: usize = 5;
/// Permissions kept per key (the most powerful first); the rest are counted.
pub const MAX_PERMISSIONS: usize = 40;
/// Permissions looked at per key; an answer listing more is cut here.
const MAX_SEEN_PERMISSIONS: usize = 2000;
/// Kinds of resources kept per key.
const MAX_RESOURCES: usize = 12;
/// Steps that could not answer, kept per key.
const MAX_GAPS: usize = 16;

/// How urgent a live key is, from what it can reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// admin → critical, write → high, read → medium, metadata or nothing → low.
    pub fn of(level: Level) -> Severity {
        match level {
            Level::Admin => Severity::Critical,
            Level::Write => Severity::High,
            Level::Read => Severity::Medium,
            Level::Metadata | Level::None => Severity::Low,
        }
    }
}

/// What a live key can reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessMap {
    pub severity: Severity,
    /// The highest access level found.
    pub level: Level,
    /// What decided the severity.
    pub reason: String,
    /// False when some step could not answer (see `unknown`): the key may reach more.
    pub complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test_mode: bool,
    pub permissions: Vec<Permission>,
    /// Permissions found beyond the `MAX_PERMISSIONS` shown.
    #[serde(skip_serializing_if = "is_zero")]
    pub more_permissions: usize,
    pub resources: Vec<Resource>,
    pub unknown: Vec<Gap>,
    /// HTTP requests the map sent, retries included.
    pub requests: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Permission {
    pub name: String,
    pub level: Level,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resource {
    pub kind: String,
    /// How many the key reaches: exact when `complete`, else at least this many.
    pub count: u64,
    pub complete: bool,
    /// A few names, at most `SAMPLE`.
    pub sample: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tally: Vec<Tally>,
    #[serde(skip)]
    pub level: Option<Level>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub label: String,
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
}

/// A part of the map that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub step: String,
    pub reason: String,
}

/// Collects an access map while its steps run.
pub struct Builder<'a> {
    secrets: [&'a str; 2],
    base: Level,
    base_note: Option<String>,
    map: AccessMap,
}

impl<'a> Builder<'a> {
    /// `secrets`: values never to repeat (the secret and its partner; empty ones are ignored).
    pub fn new(secrets: [&'a str; 2], base: Level, base_note: Option<&str>) -> Builder<'a> {
        Builder {
            secrets,
            base,
            base_note: base_note.map(str::to_string),
            map: AccessMap {
                severity: Severity::Low,
                level: Level::None,
                reason: String::new(),
                complete: true,
                identity: None,
                account: None,
                key_type: None,
                expiry: None,
                test_mode: false,
                permissions: Vec::new(),
                more_permissions: 0,
                resources: Vec::new(),
                unknown: Vec::new(),
                requests: 0,
            },
        }
    }

    /// Text from an answer made safe to keep: no secret, no control characters, bounded.
    pub fn clean(&self, v: &str) -> String {
        let mut s = v.to_string();
        for secret in self.secrets.iter().filter(|s| s.len() >= 4) {
            s = s.replace(secret, "[secret]");
        }
        let s: String = s
            .chars()
            .filter(|c| {
                !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
            })
            .collect();
        let s = s.trim();
        if s.chars().count() > MAX_TEXT {
            s.chars().take(MAX_TEXT).chain(['…']).collect()
        } else {
            s.to_string()
        }
    }

    pub fn identity(&mut self, v: &str) {
        let v = self.clean(v);
        set_once(&mut self.map.identity, v);
    }

    pub fn account(&mut self, v: &str) {
        let v = self.clean(v);
        set_once(&mut self.map.account, v);
    }

    pub fn key_type(&mut self, v: &str) {
        let v = self.clean(v);
        set_once(&mut self.map.key_type, v);
    }

    pub fn expiry(&mut self, v: &str) {
        let v = self.clean(v);
        set_once(&mut self.map.expiry, v);
    }

    pub fn test_mode(&mut self) {
        self.map.test_mode = true;
    }

    /// Adds a permission (once; the higher level wins).
    pub fn permission(&mut self, name: &str, level: Level) {
        let name = self.clean(name);
        if name.is_empty() {
            return;
        }
        if let Some(p) = self.map.permissions.iter_mut().find(|p| p.name == name) {
            p.level = p.level.max(level);
        } else if self.map.permissions.len() < MAX_SEEN_PERMISSIONS {
            self.map.permissions.push(Permission { name, level });
        }
    }

    /// Adds counted resources; a kind seen again adds to the earlier entry.
    pub fn resource(&mut self, r: Resource) {
        let sample: Vec<String> = r.sample.iter().map(|s| self.clean(s)).collect();
        if let Some(e) = self.map.resources.iter_mut().find(|e| e.kind == r.kind) {
            e.count += r.count;
            e.complete &= r.complete;
            for s in sample {
                if e.sample.len() < SAMPLE && !e.sample.contains(&s) {
                    e.sample.push(s);
                }
            }
            for t in r.tally {
                match e.tally.iter_mut().find(|x| x.label == t.label) {
                    Some(x) => x.count += t.count,
                    None => e.tally.push(t),
                }
            }
            return;
        }
        if self.map.resources.len() < MAX_RESOURCES {
            let mut sample = sample;
            sample.truncate(SAMPLE);
            self.map.resources.push(Resource {
                kind: self.clean(&r.kind),
                sample,
                ..r
            });
        }
    }

    /// Records a part of the map that could not be read.
    pub fn gap(&mut self, step: &str, reason: &str) {
        self.map.complete = false;
        if self.map.unknown.len() < MAX_GAPS {
            let reason = self.clean(reason);
            self.map.unknown.push(Gap {
                step: step.to_string(),
                reason,
            });
        }
    }

    pub fn add_requests(&mut self, n: usize) {
        self.map.requests += n;
    }

    /// The map, with its level and severity decided.
    pub fn finish(mut self) -> AccessMap {
        let mut top = (
            self.base,
            self.base_note
                .clone()
                .unwrap_or_else(|| "a live key".to_string()),
        );
        let mut raise = |level: Level, why: String| {
            if level > top.0 {
                top = (level, why);
            }
        };
        for p in &self.map.permissions {
            raise(p.level, format!("permission {}", p.name));
        }
        for r in &self.map.resources {
            if r.count > 0 {
                if let Some(l) = r.level {
                    raise(
                        l,
                        format!("reaches {} {}", r.count, plural(&r.kind, r.count)),
                    );
                }
            }
            for t in &r.tally {
                if let (Some(l), true) = (t.level, t.count > 0) {
                    raise(
                        l,
                        format!("{} {} ({})", t.count, plural(&r.kind, t.count), t.label),
                    );
                }
            }
        }
        let (level, why) = top;
        // Keep the most powerful permissions, in the order found within a level.
        self.map
            .permissions
            .sort_by_key(|p| std::cmp::Reverse(p.level));
        if self.map.permissions.len() > MAX_PERMISSIONS {
            self.map.more_permissions = self.map.permissions.len() - MAX_PERMISSIONS;
            self.map.permissions.truncate(MAX_PERMISSIONS);
        }
        let mut severity = Severity::of(level);
        let mut reason = format!("{}: {why}", level.as_str());
        if self.map.test_mode {
            severity = Severity::Low;
            reason.push_str(" (test mode)");
        } else if !self.map.complete && level < Level::Admin {
            reason.push_str("; parts unknown, may reach more");
        }
        self.map.level = level;
        self.map.severity = severity;
        self.map.reason = reason;
        self.map
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn set_once(slot: &mut Option<String>, v: String) {
    if slot.is_none() && !v.is_empty() {
        *slot = Some(v);
    }
}

/// `repository` → `repositories` for counts other than one.
pub fn plural(kind: &str, n: u64) -> String {
    if n == 1 || kind.ends_with('s') {
        kind.to_string()
    } else if let Some(stem) = kind
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{kind}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(kind: &str, count: u64, tally: Vec<Tally>, level: Option<Level>) -> Resource {
        Resource {
            kind: kind.into(),
            count,
            complete: true,
            sample: vec![],
            tally,
            level,
        }
    }

    #[test]
    fn severity_follows_the_highest_level_found() {
        let mut b = Builder::new(["", ""], Level::Metadata, None);
        let m = Builder::new(["", ""], Level::Metadata, None).finish();
        assert_eq!(
            (m.severity, m.reason.as_str()),
            (Severity::Low, "metadata: a live key")
        );
        b.permission("read:org", Level::Read);
        b.resource(resource(
            "repository",
            7,
            vec![Tally {
                label: "admin".into(),
                count: 2,
                level: Some(Level::Admin),
            }],
            Some(Level::Read),
        ));
        let m = b.finish();
        assert_eq!(m.severity, Severity::Critical);
        assert_eq!(m.level, Level::Admin);
        assert_eq!(m.reason, "admin: 2 repositories (admin)");
    }

    #[test]
    fn test_mode_caps_and_gaps_qualify() {
        let mut b = Builder::new(["", ""], Level::Admin, Some("full account access"));
        b.test_mode();
        let m = b.finish();
        assert_eq!(m.severity, Severity::Low);
        assert_eq!(m.reason, "admin: full account access (test mode)");
        let mut b = Builder::new(["", ""], Level::Read, None);
        b.gap("orgs", "permission denied (HTTP 403)");
        let m = b.finish();
        assert_eq!(m.severity, Severity::Medium);
        assert!(!m.complete);
        assert!(m.reason.ends_with("may reach more"), "{}", m.reason);
        // Zero counts grant nothing.
        let mut b = Builder::new(["", ""], Level::Metadata, None);
        b.resource(resource("project", 0, vec![], Some(Level::Write)));
        assert_eq!(b.finish().severity, Severity::Low);
    }

    #[test]
    fn answers_are_cleaned_and_bounded() {
        let secret = "tok_abcdefgh12345678";
        let mut b = Builder::new([secret, ""], Level::Metadata, None);
        b.identity(&format!("me\u{1b}[31m {secret}\u{202E}x"));
        b.account(&"a".repeat(500));
        for i in 0..100 {
            b.permission(&format!("p{i}"), Level::Read);
        }
        b.permission("keys.delete", Level::Admin);
        b.resource(Resource {
            sample: (0..50).map(|i| format!("r{i}")).collect(),
            ..resource("repo", 50, vec![], None)
        });
        let m = b.finish();
        assert_eq!(m.identity.as_deref(), Some("me[31m [secret]x"));
        assert_eq!(m.account.as_ref().unwrap().chars().count(), MAX_TEXT + 1);
        assert_eq!(m.permissions.len(), MAX_PERMISSIONS);
        assert_eq!(m.more_permissions, 61);
        // The one that decides the severity is kept, first.
        assert_eq!(m.permissions[0].name, "keys.delete");
        assert_eq!(m.severity, Severity::Critical);
        assert_eq!(m.resources[0].sample.len(), SAMPLE);
    }

    #[test]
    fn plurals() {
        assert_eq!(plural("repository", 2), "repositories");
        assert_eq!(plural("key", 2), "keys");
        assert_eq!(plural("project", 1), "project");
        assert_eq!(plural("users", 3), "users");
    }
}
