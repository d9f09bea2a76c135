//! Writes an HTML report of N synthetic findings, for measuring the page in a browser:
//! `cargo run --example html_report_fixture -- 10000 report.html`.
//!
//! The findings are made up from a fixed seed: several repositories and providers, commits
//! over nine years, every kind of origin, every validation state, and a few findings whose
//! paths, lines, commit messages and author names are hostile markup. Secrets are random
//! strings that match no rule.

use std::io::BufWriter;
use std::sync::Arc;

use keyhound::blob::BlobId;
use keyhound::finding::{
    Commit, Confidence, Context, Finding, Fingerprint, History, LiveState, Location, MessageKind,
    Origin, Part, Repository, Secret, UnknownReason, Validation,
};
use keyhound::report::{self, Format, Report};
use keyhound::scan::Summary;

/// What hostile findings carry in every string they can.
const HOSTILE: &str = "</script><img src=x onerror=alert(1)>\"q\" 'a' \u{202E}gnp.exe";

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn word(&mut self, len: usize) -> String {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ABC[self.below(ABC.len())] as char)
            .collect()
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap())
            .collect()
    }
}

struct World {
    repos: Vec<Arc<Repository>>,
    commits: Vec<Commit>,
    providers: Vec<(String, Option<String>)>,
}

fn world(rng: &mut Rng) -> World {
    let mut repos: Vec<Arc<Repository>> = (0..8)
        .map(|i| {
            Arc::new(Repository {
                path: format!("repos/service-{i}"),
                remote: Some(format!("https://git.example.test/acme/service-{i}.git")),
            })
        })
        .collect();
    repos.push(Arc::new(Repository {
        path: format!("repos/{HOSTILE}"),
        remote: None,
    }));
    let authors = [
        "Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis",
    ];
    let commits = (0..600)
        .map(|i| {
            let hostile = i % 97 == 0;
            let day = rng.below(9 * 365) as i64;
            let secs = 1_483_228_800 + day * 86_400 + rng.below(86_400) as i64;
            Commit {
                id: rng.hex(40),
                author: if hostile {
                    format!("Mallory {HOSTILE}")
                } else {
                    authors[rng.below(authors.len())].to_string()
                },
                email: format!("dev{}@example.test", rng.below(50)),
                date: jiff::Timestamp::from_second(secs)
                    .unwrap()
                    .strftime("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
                summary: if hostile {
                    format!("Update config {HOSTILE}")
                } else {
                    format!("Change {} settings", rng.word(6))
                },
            }
        })
        .collect();
    let providers = (0..40)
        .map(|i| {
            let rotate = match i % 5 {
                0 => None,
                1 => Some(format!("http://provider-{i}.example.test/keys")),
                4 => Some("javascript:alert(1)".to_string()),
                _ => Some(format!("https://provider-{i}.example.test/settings/keys")),
            };
            (format!("Provider {i:02}"), rotate)
        })
        .collect();
    World {
        repos,
        commits,
        providers,
    }
}

fn validation(rng: &mut Rng) -> Option<Validation> {
    match rng.below(20) {
        0 => Some(Validation {
            identity: Some(format!("user-{}", rng.word(5))),
            scopes: vec!["read".into(), "write".into()],
            http_status: Some(200),
            ..Validation::of(LiveState::Valid)
        }),
        1..=8 => Some(Validation {
            http_status: Some(401),
            ..Validation::of(LiveState::Invalid)
        }),
        9..=11 => Some(Validation::unknown(UnknownReason::Timeout)),
        _ => None,
    }
}

fn origin(rng: &mut Rng, w: &World, path: &str) -> Origin {
    let repo = w.repos[rng.below(w.repos.len())].clone();
    let commit = w.commits[rng.below(w.commits.len())].clone();
    let commits = 1 + rng.below(40);
    let history = |in_head: bool| History {
        repo: repo.clone(),
        path: path.to_string(),
        introduced: Some(commit.clone()),
        commits,
        in_head,
        reachable: true,
    };
    match rng.below(20) {
        0..=8 => Origin::File {
            history: Some(history(true)),
        },
        9..=14 => Origin::History(history(false)),
        15..=16 => Origin::File { history: None },
        17..=18 => Origin::Added {
            repo,
            commit: Some(commit),
        },
        _ => Origin::Message {
            repo,
            commit,
            kind: MessageKind::Commit,
            reachable: true,
        },
    }
}

fn finding(rng: &mut Rng, w: &World, i: usize) -> Finding {
    let hostile = i % 1000 == 3;
    let p = rng.below(w.providers.len());
    let (provider, rotate) = &w.providers[p];
    let rule_id = format!("provider-{p:02}.{}", ["api-key", "token"][i % 2]);
    let secret = Secret::new(format!("fx{p:02}_{}", rng.word(30)).as_bytes());
    let path = if hostile {
        format!("config/{HOSTILE}.env")
    } else {
        format!(
            "src/module-{}/settings-{}.yaml",
            rng.below(300),
            rng.below(50)
        )
    };
    let line = 1 + rng.below(400);
    let text = if hostile { HOSTILE } else { "api_key: \"" };
    Finding {
        rule_name: format!("{provider} {}", ["API key", "access token"][i % 2]),
        provider: provider.clone(),
        confidence: [Confidence::High, Confidence::Medium, Confidence::Low][rng.below(3)],
        location: Location {
            path: path.clone(),
            line,
            column: 11,
            end_line: line,
            end_column: 44,
        },
        fingerprint: Fingerprint::new(&rule_id, &secret),
        rule_id,
        secret,
        partner: None,
        rotate: rotate.clone(),
        checksum: None,
        context: Context {
            parts: vec![Part::Text(text.into()), Part::This, Part::Text("\"".into())],
        },
        decoded_from: None,
        details: Vec::new(),
        blob: BlobId::of(path.as_bytes()),
        origin: origin(rng, w, &path),
        validation: validation(rng),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: html_report_fixture N OUTPUT.html";
    let n: usize = args.next().and_then(|a| a.parse().ok()).expect(usage);
    let path = args.next().expect(usage);
    let mut rng = Rng(0x6b65_7968_6f75_6e64);
    let w = world(&mut rng);
    let mut findings: Vec<Finding> = (0..n).map(|i| finding(&mut rng, &w, i)).collect();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let summary = Summary {
        items: n as u64 * 3,
        bytes: n as u64 * 2048,
        commits: w.commits.len() as u64,
        repositories: w.repos.len() as u64,
        ..Summary::default()
    };
    let report = Report {
        findings: &findings,
        summary: &summary,
        rules: &[],
        show_secrets: false,
        color: false,
        baseline: None,
        errors: &[],
        grouped: false,
        started: jiff::Timestamp::UNIX_EPOCH,
    };
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    report::write(Format::Html, &report, &mut out)
}
