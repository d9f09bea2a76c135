//! What a scan reports: `Finding`, the `Secret` it carries (which redacts itself), its
//! `Fingerprint`, and `Confidence`.
//!
//! Owns the meaning of these values and their redaction; never decides how they are printed
//! (that is `report`) or found (that is `matcher`).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::blob::{hex, BlobId};

pub use crate::confidence::Confidence;

/// A secret value. `Debug` and `Display` never show it; `expose` must be called on purpose.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

impl Secret {
    pub fn new(bytes: &[u8]) -> Self {
        Secret(String::from_utf8_lossy(bytes).into_owned())
    }

    /// The raw value. Only `--show-secrets` output and validation may call this.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in characters.
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A short prefix followed by an ellipsis and the length: `sk-proj-…(164 chars)`.
    ///
    /// The prefix is at most 8 characters and at most a quarter of the secret, so short
    /// passwords reveal little and long keys show their recognisable provider prefix.
    pub fn redacted(&self) -> String {
        let n = self.len();
        let keep = (n / 4).min(8);
        let prefix: String = self.0.chars().take(keep).collect();
        format!("{prefix}…{}", length(n))
    }

    /// Redacted with no prefix, `…(12 chars)`: for a piece cut out of a longer secret, whose
    /// first characters are not the secret's.
    pub fn hidden(&self) -> String {
        format!("…{}", length(self.len()))
    }
}

/// `(1 char)`, `(12 chars)`.
fn length(n: usize) -> String {
    if n == 1 {
        "(1 char)".to_string()
    } else {
        format!("({n} chars)")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Identifies a secret independently of where it appears: a hash of the rule id and the
/// secret. It survives moved lines and renamed files and never contains the raw value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn new(rule_id: &str, secret: &Secret) -> Self {
        let mut h = Sha1::new();
        h.update(b"keyhound-fingerprint-v1\0");
        h.update(rule_id.as_bytes());
        h.update([0u8]);
        h.update(secret.expose().as_bytes());
        let digest: [u8; 20] = h.finalize().into();
        Fingerprint(hex(&digest[..16]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a finding is: a path (in the working tree, or in a commit) and a 1-based span.
/// Columns count Unicode scalar values from the start of the line, starting at 1.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// The text around a secret on its line, kept so reporters can show context with secrets
/// redacted. Every secret any finding of the blob covers (this one, others on the line, paired
/// ids) is a `Secret` part, so a snippet never shows one in full unless asked to. Text parts
/// are bounded and may contain untrusted control characters: reporters sanitise them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    pub parts: Vec<Part>,
}

/// A piece of a snippet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// Another secret on the line.
    Secret(Secret),
    /// The part of another secret range that lies outside this finding's secret, which that
    /// range surrounds or overlaps: shown without a prefix of its own.
    Rest(Secret),
    /// Where this finding's own secret is.
    This,
}

/// Outcome of an offline checksum check on formats that carry one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumState {
    Valid,
    Invalid,
}

/// A fact read from the secret itself: a JWT's algorithm, issuer and expiry, a private key's
/// format, the host of a connection string. The matcher bounds and cleans values (they come
/// from scanned content); reporters sanitise them again like any scanned text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detail {
    pub name: &'static str,
    pub value: String,
}

/// A commit (or an annotated tag), as reported with findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Commit {
    pub id: String,
    pub author: String,
    pub email: String,
    /// Author date, ISO 8601 in UTC.
    pub date: String,
    /// First line of the message.
    pub summary: String,
}

impl Commit {
    /// The abbreviated id shown to people.
    pub fn short_id(&self) -> &str {
        &self.id[..self.id.len().min(12)]
    }
}

/// A repository findings came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Repository {
    /// Where the repository is, relative to where the scan started, as the user wrote it
    /// (`.` when a scanned PATH is the repository itself).
    pub path: String,
    /// The URL of its `origin` remote (else of its first remote), without credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
}

impl Repository {
    /// The repository in the current directory, when nothing more is known.
    pub fn here() -> Repository {
        Repository {
            path: ".".into(),
            remote: None,
        }
    }
}

/// What git history knows about one secret at one path of a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    pub repo: std::sync::Arc<Repository>,
    /// The path in the repository (relative to its root).
    pub path: String,
    /// The commit that introduced the secret at this path: its tree holds the secret there and
    /// its parents' trees do not (the first such commit in topological order). `None` when no
    /// commit holds it (an object only a ref or nothing reaches).
    pub introduced: Option<Commit>,
    /// How many distinct commits hold the secret at this path.
    pub commits: usize,
    /// Whether the secret is still in HEAD's tree (at any path).
    pub in_head: bool,
    /// False for objects that no ref reaches (dangling commits, dropped stashes); reported
    /// only with `--all-objects`.
    pub reachable: bool,
}

/// Where a finding comes from. Every report format renders this one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk. `history` is set when the file sits in a repository whose commits hold
    /// the secret at this path.
    File { history: Option<History> },
    /// Standard input.
    Stdin,
    /// A version of a file that only git history holds: reported at the line of the version
    /// that introduced the secret.
    History(History),
    /// A line added to the index (`commit: None`) or by a commit of a range.
    Added {
        repo: std::sync::Arc<Repository>,
        commit: Option<Commit>,
    },
    /// The message of a commit or an annotated tag.
    Message {
        repo: std::sync::Arc<Repository>,
        commit: Commit,
        kind: MessageKind,
        reachable: bool,
    },
    /// A member of an archive (zip, jar, tar, a compressed file): the location's path is
    /// `PATH!MEMBER`, archives inside archives joined by `!` (`app.zip!lib/x.jar!a.yml`).
    Member {
        /// Where the outermost archive is (a file, a version in history, a change).
        archive: Box<Origin>,
        /// The outermost archive's path.
        path: String,
        /// The member's path inside it.
        member: String,
    },
}

/// Which kind of object a message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Commit,
    Tag,
}

impl Origin {
    /// A stable name for the kind of origin (JSON `origin`, SARIF properties).
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::Member { archive, .. } => archive.kind(),
            Origin::File { .. } => "file",
            Origin::Stdin => "stdin",
            Origin::History(_) => "history",
            Origin::Added { commit: None, .. } => "staged",
            Origin::Added { .. } => "commit",
            Origin::Message {
                kind: MessageKind::Commit,
                ..
            } => "commit-message",
            Origin::Message { .. } => "tag-message",
        }
    }

    /// The history of the secret at this location, when git knows it.
    pub fn history(&self) -> Option<&History> {
        match self {
            Origin::Member { archive, .. } => archive.history(),
            Origin::File { history } => history.as_ref(),
            Origin::History(h) => Some(h),
            _ => None,
        }
    }

    /// The commit the location is in: the commit of an added line or a message, or the
    /// introducing commit of a version only history holds. `None` for files on disk.
    pub fn commit(&self) -> Option<&Commit> {
        match self {
            Origin::Member { archive, .. } => archive.commit(),
            Origin::History(h) => h.introduced.as_ref(),
            Origin::Added { commit, .. } => commit.as_ref(),
            Origin::Message { commit, .. } => Some(commit),
            _ => None,
        }
    }

    pub fn repository(&self) -> Option<&Repository> {
        match self {
            Origin::Member { archive, .. } => archive.repository(),
            Origin::File { history } => history.as_ref().map(|h| &*h.repo),
            Origin::Stdin => None,
            Origin::History(h) => Some(&h.repo),
            Origin::Added { repo, .. } | Origin::Message { repo, .. } => Some(repo),
        }
    }

    /// Where the content is: for an archive member, where its archive is.
    pub fn outer(&self) -> &Origin {
        match self {
            Origin::Member { archive, .. } => archive.outer(),
            other => other,
        }
    }

    /// The commits the origin names (the one it is in, the one that introduced the secret),
    /// for rewriting the text they carry.
    pub fn commits_mut(&mut self) -> Vec<&mut Commit> {
        match self {
            Origin::Member { archive, .. } => archive.commits_mut(),
            Origin::File { history: Some(h) } | Origin::History(h) => {
                h.introduced.iter_mut().collect()
            }
            Origin::Added { commit, .. } => commit.iter_mut().collect(),
            Origin::Message { commit, .. } => vec![commit],
            Origin::File { history: None } | Origin::Stdin => Vec::new(),
        }
    }

    /// The archive and the path inside it, for an archive member.
    pub fn member(&self) -> Option<(&str, &str)> {
        match self {
            Origin::Member { path, member, .. } => Some((path, member)),
            _ => None,
        }
    }
}

/// Whether a live check found the key active.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LiveState {
    /// The provider accepted the key: treat it as an incident.
    Valid,
    /// The provider rejected the key: revoked, expired or never real.
    Invalid,
    /// No answer either way; `Validation::reason` says why.
    Unknown,
}

impl LiveState {
    pub fn as_str(self) -> &'static str {
        match self {
            LiveState::Valid => "valid",
            LiveState::Invalid => "invalid",
            LiveState::Unknown => "unknown",
        }
    }
}

/// Why a live check could not decide.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UnknownReason {
    Timeout,
    /// The provider answered 5xx.
    ServerError(u16),
    /// 429 after the allowed retries, or a `Retry-After` longer than keyhound waits.
    RateLimited,
    TlsError(String),
    /// The provider answered with a redirect, which keyhound never follows.
    Redirect(u16),
    ConnectionFailed,
    /// A status the rule does not interpret.
    UnexpectedStatus(u16),
    /// The body could not be read (too large, cut short).
    BadResponse,
    /// A user rule may only contact a host allowed with `--allow-validation-host`.
    HostNotAllowed(String),
    /// `--max-validation-requests` requests were already sent to this provider.
    BudgetExhausted,
    /// The check needs the paired credential and none was found near the secret.
    MissingPartner,
    /// The secret cannot be sent as the rule asks (a line break in a header value).
    Unsendable,
    /// Temporary AWS credentials (`ASIA…`) cannot be checked without their session token.
    NeedsSessionToken,
    /// The rule has no live check.
    NotSupported,
}

impl UnknownReason {
    /// A stable machine-readable code (JSON, SARIF).
    pub fn code(&self) -> &'static str {
        match self {
            UnknownReason::Timeout => "timeout",
            UnknownReason::ServerError(_) => "server-error",
            UnknownReason::RateLimited => "rate-limited",
            UnknownReason::TlsError(_) => "tls-error",
            UnknownReason::Redirect(_) => "redirect",
            UnknownReason::ConnectionFailed => "connection-failed",
            UnknownReason::UnexpectedStatus(_) => "unexpected-status",
            UnknownReason::BadResponse => "bad-response",
            UnknownReason::HostNotAllowed(_) => "host-not-allowed",
            UnknownReason::BudgetExhausted => "request-budget-exhausted",
            UnknownReason::MissingPartner => "missing-partner",
            UnknownReason::Unsendable => "unsendable",
            UnknownReason::NeedsSessionToken => "needs-session-token",
            UnknownReason::NotSupported => "not-supported",
        }
    }
}

impl fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnknownReason::Timeout => f.write_str("timeout"),
            UnknownReason::ServerError(s) => write!(f, "server error, HTTP {s}"),
            UnknownReason::RateLimited => f.write_str("rate limited"),
            UnknownReason::TlsError(e) => write!(f, "TLS error: {e}"),
            UnknownReason::Redirect(s) => write!(f, "redirect (HTTP {s}), not followed"),
            UnknownReason::ConnectionFailed => f.write_str("connection failed"),
            UnknownReason::UnexpectedStatus(s) => write!(f, "unexpected answer, HTTP {s}"),
            UnknownReason::BadResponse => f.write_str("unreadable answer"),
            UnknownReason::HostNotAllowed(h) => write!(
                f,
                "{h} not allowed for a user rule (--allow-validation-host {h})"
            ),
            UnknownReason::BudgetExhausted => {
                f.write_str("request budget for this provider used up (--max-validation-requests)")
            }
            UnknownReason::MissingPartner => f.write_str("no paired credential to check with"),
            UnknownReason::Unsendable => f.write_str("secret cannot be sent as the rule asks"),
            UnknownReason::NeedsSessionToken => {
                f.write_str("temporary credentials cannot be checked without their session token")
            }
            UnknownReason::NotSupported => f.write_str("no live check for this rule"),
        }
    }
}

/// The result of a live check of one secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    pub state: LiveState,
    /// Set when the state is `Unknown`.
    pub reason: Option<UnknownReason>,
    /// The last HTTP status received, if any.
    pub http_status: Option<u16>,
    /// The account, user or owner the provider says the key belongs to.
    pub identity: Option<String>,
    pub scopes: Vec<String>,
    /// Live/test, restricted, user/bot, …
    pub key_type: Option<String>,
    pub expiry: Option<String>,
    /// What the key can reach, with `--access-map`.
    pub access: Option<Box<crate::validate::access::AccessMap>>,
}

impl Validation {
    /// A result with only a state.
    pub fn of(state: LiveState) -> Validation {
        Validation {
            state,
            reason: None,
            http_status: None,
            identity: None,
            scopes: Vec::new(),
            key_type: None,
            expiry: None,
            access: None,
        }
    }

    pub fn unknown(reason: UnknownReason) -> Validation {
        Validation {
            reason: Some(reason),
            ..Validation::of(LiveState::Unknown)
        }
    }

    /// `valid`, `invalid`, or `unknown (reason)`.
    pub fn summary(&self) -> String {
        match &self.reason {
            Some(r) => format!("{} ({r})", self.state.as_str()),
            None => self.state.as_str().to_string(),
        }
    }
}

/// One reported secret at one location.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    pub provider: String,
    pub confidence: Confidence,
    pub location: Location,
    pub secret: Secret,
    /// The other half of a paired credential (e.g. the AWS access key id for a secret key).
    pub partner: Option<Secret>,
    pub fingerprint: Fingerprint,
    pub rotate: Option<String>,
    pub checksum: Option<ChecksumState>,
    pub context: Context,
    /// Set when the secret was found inside encoded text (`base64`, `percent`); the location is
    /// the encoded text's.
    pub decoded_from: Option<&'static str>,
    /// What the secret itself says about it (see `Detail`), in the order found.
    pub details: Vec<Detail>,
    pub blob: BlobId,
    /// Where the finding comes from: a file, stdin, history, an added line, a message.
    pub origin: Origin,
    /// The live check's result, with `--validate`.
    pub validation: Option<Validation>,
}

impl Finding {
    /// The key used for deterministic output order.
    pub fn sort_key(&self) -> (&str, usize, usize, &str, &str, &str) {
        (
            &self.location.path,
            self.location.line,
            self.location.column,
            &self.rule_id,
            self.fingerprint.as_str(),
            self.origin.commit().map_or("", |c| c.id.as_str()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_shows_in_debug_or_display() {
        let s = Secret::new(b"sk-proj-abcdefghijklmnopqrstuvwxyz0123456789");
        let shown = format!("{s} {s:?}");
        assert!(!shown.contains("abcdefghijklmnop"), "{shown}");
        assert!(shown.contains("sk-proj-…(44 chars)"), "{shown}");
    }

    #[test]
    fn short_secret_reveals_little() {
        assert_eq!(Secret::new(b"hunter22").redacted(), "hu…(8 chars)");
        assert_eq!(Secret::new(b"abc").redacted(), "…(3 chars)");
        assert_eq!(Secret::new(b"\"").redacted(), "…(1 char)");
        assert_eq!(Secret::new(b"Zq8x").hidden(), "…(4 chars)");
    }

    #[test]
    fn fingerprint_depends_on_rule_and_secret_only() {
        let a = Fingerprint::new("x.y", &Secret::new(b"one"));
        assert_eq!(a, Fingerprint::new("x.y", &Secret::new(b"one")));
        assert_ne!(a, Fingerprint::new("x.z", &Secret::new(b"one")));
        assert_ne!(a, Fingerprint::new("x.y", &Secret::new(b"two")));
        assert!(!a.as_str().contains("one"));
        assert_eq!(a.as_str().len(), 32);
    }

    #[test]
    fn confidence_steps() {
        assert_eq!(Confidence::Low.raised(), Confidence::Medium);
        assert_eq!(Confidence::High.raised(), Confidence::High);
        assert_eq!(Confidence::High.lowered(), Confidence::Medium);
        assert_eq!(Confidence::Low.lowered(), Confidence::Low);
    }
}
