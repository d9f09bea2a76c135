//! The rule file format as written on disk (YAML). Parsed syntax is kept apart from the
//! compiled `Rule`: this module only describes shape, `rules::compile` gives it meaning.
//!
//! The schema is documented in `rules/README.md`; keep the two in step.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::finding::Confidence;

/// One rule file: an optional provider that its rules inherit, the rules, and optional
/// global filters that apply to every rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileSyntax {
    pub provider: Option<String>,
    #[serde(default)]
    pub rules: Vec<RuleSyntax>,
    pub filters: Option<FiltersSyntax>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSyntax {
    pub id: String,
    pub name: String,
    pub provider: Option<String>,
    /// Literals the rule's regex runs near. A rule with `path` may leave them out: its pattern
    /// then runs at the start of the content (see `path`).
    #[serde(default)]
    pub keywords: Vec<String>,
    pub pattern: String,
    /// A regex on the path of the content: the rule reports only in files whose path matches
    /// (credential files such as `.netrc`). Without keywords, the pattern runs anchored at the
    /// start of content no larger than `window` bytes, and again right after each match.
    pub path: Option<String>,
    /// With `path` and no keywords: the pattern runs over the first `window` bytes of binary
    /// content (magic bytes of key stores) instead of text, and its examples are written in hex.
    #[serde(default)]
    pub binary: bool,
    /// Paths that `path` must not match (checked by `rules check`).
    #[serde(default)]
    pub negative_paths: Vec<String>,
    pub min_entropy: Option<f64>,
    #[serde(default = "default_confidence")]
    pub confidence: Confidence,
    pub rotate: Option<String>,
    #[serde(default)]
    pub examples: Vec<ExampleSyntax>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    pub checksum: Option<ChecksumKind>,
    pub pair: Option<PairSyntax>,
    /// Bytes searched on each side of a keyword hit. Defaults to the pattern's maximum
    /// match length when that is bounded, else 512.
    pub window: Option<usize>,
    /// A match never spans lines: the pattern runs only over the line holding the keyword
    /// hit (still at most `window` bytes on each side of it).
    #[serde(default)]
    pub single_line: bool,
    /// The capture group holding the secret, by number (0: the whole match). Without it: the
    /// group named `secret`, else group 1, else the whole match.
    pub secret_group: Option<usize>,
    /// Regexes on the captured secret; a secret matching any of them is not reported.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Case-insensitive substrings; a secret containing any of them is not reported.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Apply the generic-value heuristics (see `matcher::generic`) to the captured value.
    #[serde(default)]
    pub generic: bool,
    /// The capture is encoded text (`base64` or `percent`): it is decoded and scanned again
    /// with every rule, and what is found there is reported at the encoded text. Such a rule
    /// reports nothing itself.
    pub decode: Option<Encoding>,
    /// Ignore the global `filters` for this rule (for formats whose values legitimately
    /// look like placeholders to those filters).
    #[serde(default)]
    pub skip_global_filters: bool,
    /// How `--validate` checks whether a found secret is live.
    pub validate: Option<ValidateSyntax>,
    /// A structural check written in Rust that reads the match (`jwt`, `private-key`,
    /// `connection`): it may reject it, set its confidence and add details to the finding.
    pub inspect: Option<Inspect>,
    /// Regexes on the captured secret that mark it weak (a default or guessable password).
    /// Used by `inspect: connection`: a weak password is reported only for a reachable host.
    #[serde(default)]
    pub weak: Vec<String>,
    /// The secret identifies an account rather than granting access (a Twilio Account SID):
    /// it is reported only as the partner of a paired rule, never on its own.
    #[serde(default)]
    pub partner_only: bool,
}

fn default_confidence() -> Confidence {
    Confidence::Medium
}

/// An example the rule must match. Either just the text, or the text with the exact secret
/// the rule must capture from it and, for rules with `path`, a path the rule applies to.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ExampleSyntax {
    Text(String),
    WithSecret {
        text: String,
        #[serde(default)]
        secret: Option<String>,
        #[serde(default)]
        path: Option<String>,
    },
}

impl ExampleSyntax {
    pub fn text(&self) -> &str {
        match self {
            ExampleSyntax::Text(t) => t,
            ExampleSyntax::WithSecret { text, .. } => text,
        }
    }

    pub fn secret(&self) -> Option<&str> {
        match self {
            ExampleSyntax::Text(_) => None,
            ExampleSyntax::WithSecret { secret, .. } => secret.as_deref(),
        }
    }

    /// The path the example stands for (rules with `path`).
    pub fn path(&self) -> Option<&str> {
        match self {
            ExampleSyntax::Text(_) => None,
            ExampleSyntax::WithSecret { path, .. } => path.as_deref(),
        }
    }
}

/// Offline checksum schemes a rule can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChecksumKind {
    /// GitHub and npm tokens: `prefix_` + 30 base62 characters + 6-character base62 CRC32 of
    /// those 30 characters.
    Crc32Base62,
}

/// Two-part credentials (an id and a secret): this rule's secret is reported together with the
/// nearest match of rule `with` that lies within `within_lines` lines.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSyntax {
    pub with: String,
    #[serde(default = "default_within_lines")]
    pub within_lines: usize,
}

fn default_within_lines() -> usize {
    10
}

/// Filters that apply to the captured secret of every rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiltersSyntax {
    /// Regexes: a secret matching any of them is a placeholder, not a finding.
    #[serde(default)]
    pub placeholders: Vec<String>,
    /// Case-insensitive substrings: a secret containing any of them is not a finding.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// A run of this many identical characters marks a secret as a placeholder.
    pub max_repeat: Option<usize>,
    /// A sequence of this many characters stepping by one (`abcdef`, `654321`, or two
    /// interleaved: `a1b2c3d4e5f6`) marks a secret as a placeholder.
    pub max_sequence: Option<usize>,
    /// Regexes that reject the value of a generic rule (paths, versions, code references).
    #[serde(default)]
    pub generic_ignore: Vec<String>,
    /// Regexes that reject the value of a generic rule by the name it is assigned to
    /// (`fakeToken`, `dummy_secret`): see `generic::assigned_name`.
    #[serde(default)]
    pub generic_ignore_names: Vec<String>,
}

/// A live check of a found secret: either an HTTPS `request` described here, or a `validator`
/// written in Rust (for checks a plain request cannot express, such as AWS SigV4 signing).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateSyntax {
    pub validator: Option<NamedValidator>,
    pub request: Option<RequestSyntax>,
    /// How to read the answer, first match wins. Default: 200 valid; 401 and 403 invalid.
    #[serde(default)]
    pub outcomes: Vec<OutcomeSyntax>,
    /// Which parts of a valid answer describe the key.
    #[serde(default)]
    pub describe: DescribeSyntax,
    /// What a live key can reach (`--access-map`): read-only requests and how to read them.
    pub access: Option<AccessSyntax>,
}

/// Validators implemented in Rust, selected by name from a rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NamedValidator {
    /// AWS STS `GetCallerIdentity`, signed with SigV4 from the access key id (the partner) and
    /// the secret access key (the secret).
    AwsSts,
    /// Google's OAuth token endpoint with a JWT signed by a service account key: the partner
    /// holds the key file's private key and `client_email`.
    GcpServiceAccount,
    /// Microsoft Entra ID's token endpoint, client-credentials grant: the partner holds the
    /// tenant and client (application) ids.
    AzureClientCredentials,
}

impl NamedValidator {
    /// The host and port the validator talks to.
    pub fn endpoint(self) -> (&'static str, u16) {
        match self {
            NamedValidator::AwsSts => ("sts.amazonaws.com", 443),
            NamedValidator::GcpServiceAccount => ("oauth2.googleapis.com", 443),
            NamedValidator::AzureClientCredentials => ("login.microsoftonline.com", 443),
        }
    }

    /// The method and URL it sends, for messages and documentation.
    pub fn describe_request(self) -> (&'static str, &'static str) {
        match self {
            NamedValidator::AwsSts => ("POST", "https://sts.amazonaws.com/"),
            NamedValidator::GcpServiceAccount => ("POST", "https://oauth2.googleapis.com/token"),
            NamedValidator::AzureClientCredentials => (
                "POST",
                "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
            ),
        }
    }

    /// Whether the validator needs the paired credential.
    pub fn needs_partner(self) -> bool {
        true
    }

    pub fn name(self) -> &'static str {
        match self {
            NamedValidator::AwsSts => "aws-sts",
            NamedValidator::GcpServiceAccount => "gcp-service-account",
            NamedValidator::AzureClientCredentials => "azure-client-credentials",
        }
    }
}

/// The HTTPS request of a declared check. `{{secret}}` and `{{partner}}` are replaced in the
/// URL, header values, body and basic-auth fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSyntax {
    #[serde(default = "default_method")]
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub basic_auth: Option<BasicAuthSyntax>,
    /// The provider only accepts the key as a URL query parameter; the rule must say so.
    #[serde(default)]
    pub secret_in_query: bool,
}

fn default_method() -> String {
    "GET".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthSyntax {
    pub username: String,
    #[serde(default)]
    pub password: String,
}

/// One way to read an answer: a status (or list of them) and JSON field values that must all
/// match, and the verdict they mean.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeSyntax {
    pub status: Option<OneOrMany<u16>>,
    /// Dotted JSON paths (`error.type`, `items.0.id`) and the value each must equal.
    #[serde(default)]
    pub json: BTreeMap<String, serde_json::Value>,
    pub result: Verdict,
    /// A fixed key type this outcome reveals (`live`, `test`, `restricted`).
    pub key_type: Option<String>,
}

/// What an answer means for the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Valid,
    Invalid,
    Unknown,
}

/// Where the facts about a valid key are in the answer: `json:PATH` or `header:NAME`, one
/// source or a list (the first present wins).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribeSyntax {
    pub identity: Option<OneOrMany<String>>,
    pub scopes: Option<OneOrMany<String>>,
    pub key_type: Option<OneOrMany<String>>,
    pub expiry: Option<OneOrMany<String>>,
}

/// A single value or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// An access map (`validate.access`): either `steps` (read-only requests and what to read from
/// each answer) or a `mapper` written in Rust, plus how permissions translate into access levels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessSyntax {
    /// The least a live key of this rule can do (default `metadata`).
    pub base: Option<Level>,
    /// Why `base` is what it is, shown when it decides the severity.
    pub base_note: Option<String>,
    pub mapper: Option<NamedMapper>,
    /// Permission names (`*` matches any run of characters) by the access level they grant.
    #[serde(default)]
    pub levels: LevelsSyntax,
    #[serde(default)]
    pub steps: Vec<StepSyntax>,
}

/// How much a key can do, from least to most.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Nothing known beyond the key being live.
    None,
    /// Facts about the account or the key itself.
    Metadata,
    /// Reading data.
    Read,
    /// Creating, changing or deleting data, or spending money.
    Write,
    /// Managing the account: members, credentials, billing, permissions.
    Admin,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Metadata => "metadata",
            Level::Read => "read",
            Level::Write => "write",
            Level::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelsSyntax {
    #[serde(default)]
    pub admin: Vec<String>,
    #[serde(default)]
    pub write: Vec<String>,
    #[serde(default)]
    pub read: Vec<String>,
    #[serde(default)]
    pub metadata: Vec<String>,
}

/// Access mappers written in Rust, for providers whose requests must be signed or whose
/// answers a declarative step cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NamedMapper {
    /// AWS IAM: the caller's attached, inline and group policies (SigV4-signed).
    AwsIam,
    /// Google Cloud: the projects a service account sees and its permissions on them.
    GcpServiceAccount,
    /// Azure Resource Manager: the subscriptions a service principal sees and its permissions.
    AzureArm,
    /// PyPI: the scope and expiry written in the token (a macaroon), read offline.
    PypiMacaroon,
}

/// One request of an access map and what to read from its answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSyntax {
    pub id: String,
    /// `validation`: read the answer of the rule's live check instead of sending a request.
    pub from: Option<StepFrom>,
    pub request: Option<RequestSyntax>,
    /// Run only when an earlier step captured this value.
    pub when: Option<String>,
    /// A 2xx answer counts only when it also matches this (`{json: {ok: true}}`).
    pub ok: Option<CondSyntax>,
    /// Where a refused answer says why (`json:error`).
    pub error: Option<OneOrMany<String>>,
    #[serde(default)]
    pub facts: FactsSyntax,
    /// Values for `{{name}}` in later steps' URLs.
    #[serde(default)]
    pub capture: BTreeMap<String, OneOrMany<String>>,
    #[serde(default)]
    pub flags: Vec<FlagSyntax>,
    pub resources: Option<ResourcesSyntax>,
    pub paginate: Option<PaginateSyntax>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepFrom {
    Validation,
}

/// JSON fields and the values they must equal.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CondSyntax {
    #[serde(default)]
    pub json: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactsSyntax {
    pub identity: Option<OneOrMany<String>>,
    pub account: Option<OneOrMany<String>>,
    pub key_type: Option<OneOrMany<String>>,
    pub expiry: Option<OneOrMany<String>>,
    pub permissions: Option<OneOrMany<String>>,
}

/// A fact an answer reveals when its JSON matches: a permission with a level, a key type, or
/// test mode (which caps the severity at `low`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagSyntax {
    #[serde(default)]
    pub json: BTreeMap<String, serde_json::Value>,
    pub permission: Option<String>,
    pub level: Option<Level>,
    pub key_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub test_mode: bool,
}

/// A list of things the key reaches, read from an answer (and its next pages).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcesSyntax {
    pub kind: String,
    /// `json:PATH` to an array (or an object, whose entries become `{key, value}` items);
    /// `json:.` is the whole answer.
    pub items: String,
    /// `json:PATH` inside an item: the name shown in the sample.
    pub name: Option<String>,
    /// Count only the items that match.
    pub only: Option<CondSyntax>,
    /// Where the answer gives the total count, when it does.
    pub total: Option<OneOrMany<String>>,
    /// Items counted by a property, each count with the level it grants when not zero.
    #[serde(default)]
    pub tally: Vec<TallySyntax>,
    /// The level that reaching any of these grants.
    pub level: Option<Level>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallySyntax {
    #[serde(default)]
    pub json: BTreeMap<String, serde_json::Value>,
    pub label: String,
    pub level: Option<Level>,
}

/// How to ask for the next page: `next: link` (the `Link` header), `next: json:PATH` (a URL in
/// the answer), or `param: NAME` with `value: json:PATH` (a cursor), `value: page` (2, 3, …) or
/// `value: offset` (items seen so far). `pages` bounds the requests of the step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaginateSyntax {
    pub next: Option<String>,
    pub param: Option<String>,
    pub value: Option<String>,
    /// Ask for another page only while the answer matches (`{json: {has_more: true}}`).
    pub more: Option<CondSyntax>,
    #[serde(default, deserialize_with = "lenient_u32")]
    pub pages: Option<u32>,
}

/// Built-in rule files reach the loader as JSON with scalars turned into strings (build.rs):
/// accept `true` and `"true"` alike.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    match B::deserialize(d)? {
        B::Bool(b) => Ok(b),
        B::Text(t) => t
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("`{t}` is not true or false"))),
    }
}

fn lenient_u32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        Num(u32),
        Text(String),
    }
    match Option::<N>::deserialize(d)? {
        None => Ok(None),
        Some(N::Num(n)) => Ok(Some(n)),
        Some(N::Text(t)) => t
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{t}` is not a number"))),
    }
}

/// How a rule's capture is encoded (`decode:`; the decoders are `matcher::decode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Standard or URL-safe base64, padded or not.
    Base64,
    /// `%XX` escapes (and `+` for a space).
    Percent,
}

/// The checks a rule can name (`inspect:`; the checks are `matcher::inspect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Inspect {
    /// A JSON Web Token: reported when it sits in a secret-named assignment, an
    /// `Authorization` header or a URL parameter, is all there is of its input (a token file, a
    /// decoded value), or carries credential claims; details `alg`, `issuer`, `expires`.
    Jwt,
    /// A private key block: high confidence when its body is well-formed (DER, OpenSSH, PuTTY,
    /// OpenPGP), medium when truncated or malformed; details `format` and `encrypted`.
    PrivateKey,
    /// A password in a connection string: its host decides (documentation hosts: nothing;
    /// local hosts: low, strong passwords only; private networks and the internet: medium).
    Connection,
    /// A table whose header names a secret column: the finding is narrowed to the first value
    /// in that column; detail `column`.
    CsvColumn,
}
