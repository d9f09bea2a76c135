use std::sync::Arc;

use super::*;
use crate::blob::BlobId;
use crate::finding::{
    Commit, Confidence, Context, Finding, Fingerprint, History, LiveState, MessageKind, Origin,
    Part, Repository, Secret, Validation,
};
use crate::scan::Summary;
use crate::source::SourceError;

/// Markup that scanned content tries to smuggle in: element and script breakouts, event
/// handlers, both quotes, a comment opener, and bidirectional overrides.
const HOSTILE: &str =
    "</script><img src=x onerror=alert(1)><!-- \"q\" 'a' \u{202E}evil\u{2066}</style>";

/// The secret, built at run time so no rule finds it in this file.
fn secret_value() -> String {
    ["hx", "Q7mK2vR9tL4wP8nZ", "3bY6cF1dJ5gH0sXa"].concat()
}

fn hostile(tag: &str) -> String {
    format!("{tag}{HOSTILE}")
}

fn commit(id_digit: char, date: &str) -> Commit {
    Commit {
        id: id_digit.to_string().repeat(40),
        author: hostile("Mallory "),
        email: hostile("m@"),
        date: date.into(),
        summary: hostile("Add config "),
    }
}

fn repo() -> Arc<Repository> {
    Arc::new(Repository {
        path: hostile("repo/"),
        remote: Some(hostile("https://git.example.test/")),
    })
}

fn finding(path: &str, rotate: &str, origin: Origin) -> Finding {
    let secret = Secret::new(secret_value().as_bytes());
    Finding {
        rule_id: hostile("rule.id"),
        rule_name: hostile("Rule "),
        provider: hostile("Provider "),
        confidence: Confidence::High,
        location: crate::finding::Location {
            path: path.into(),
            line: 7,
            column: 3,
            end_line: 7,
            end_column: 40,
        },
        fingerprint: Fingerprint::new("rule.id", &secret),
        partner: None,
        rotate: Some(rotate.into()),
        checksum: None,
        context: Context {
            parts: vec![
                Part::Text(hostile("key = \"")),
                Part::This,
                Part::Text(hostile("\" ")),
            ],
        },
        decoded_from: None,
        blob: BlobId([7; 20]),
        details: Vec::new(),
        secret,
        origin,
        validation: Some(Validation {
            identity: Some(hostile("user ")),
            ..Validation::of(LiveState::Valid)
        }),
    }
}

fn history(in_head: bool, date: &str) -> History {
    History {
        repo: repo(),
        path: hostile("path/"),
        introduced: Some(commit(if in_head { 'a' } else { 'b' }, date)),
        commits: 3,
        in_head,
        reachable: true,
    }
}

/// One finding of each kind of origin, every string hostile.
fn findings() -> Vec<Finding> {
    vec![
        finding(
            &hostile("src/"),
            "javascript:alert(1)",
            Origin::File {
                history: Some(history(true, "2024-05-01T10:00:00Z")),
            },
        ),
        finding(
            &hostile("old/"),
            "https://console.example.test/keys",
            Origin::History(history(false, "2023-11-20T08:00:00Z")),
        ),
        finding(
            "COMMIT_MSG",
            "https://x.test/\"><img src=x onerror=alert(1)>",
            Origin::Message {
                repo: repo(),
                commit: commit('c', "2024-06-01T00:00:00Z"),
                kind: MessageKind::Commit,
                reachable: true,
            },
        ),
    ]
}

fn page(findings: &[Finding], show_secrets: bool) -> String {
    let summary = Summary {
        items: 12,
        bytes: 4096,
        commits: 3,
        repositories: 1,
        errors: 1,
        ..Summary::default()
    };
    let errors = [SourceError {
        path: hostile("bad/"),
        message: hostile("cannot read "),
    }];
    let report = Report {
        findings,
        summary: &summary,
        rules: &[],
        show_secrets,
        color: false,
        baseline: None,
        errors: &errors,
        grouped: false,
        started: jiff::Timestamp::UNIX_EPOCH,
    };
    let mut out = Vec::new();
    write(&report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The elements this page's own markup uses.
const OWN_TAGS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "p",
    "strong", "a", "code", "section", "div", "table", "tr", "th", "td", "svg", "rect", "line",
    "text", "g", "span", "form", "label", "select", "input", "button", "noscript", "details",
    "summary", "ul", "li", "script",
];

/// Every `<` in the page, but those of its own constant style and script, opens or closes one
/// of the page's own elements.
fn assert_only_own_markup(page: &str) {
    let page = &page.replacen(STYLE, "", 1).replacen(SCRIPT, "", 1);
    for (at, _) in page.match_indices('<') {
        let rest = page[at + 1..].trim_start_matches('/');
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        assert!(
            OWN_TAGS.contains(&name.as_str()),
            "foreign markup at {at}: {}",
            &page[at..(at + 60).min(page.len())]
        );
    }
}

/// The text of the one `<script type="application/json">` block.
fn data_block(page: &str) -> &str {
    let open = "<script type=\"application/json\" id=\"keyhound-data\">";
    let start = page.find(open).expect("data block") + open.len();
    let end = start + page[start..].find("</script>").unwrap();
    &page[start..end]
}

#[test]
fn hostile_content_never_becomes_markup_or_script() {
    let page = page(&findings(), false);
    assert_only_own_markup(&page);
    assert_eq!(
        page.matches("<script").count(),
        2,
        "the data block and the script"
    );
    assert_eq!(page.matches("</script>").count(), 2);
    assert_eq!(page.matches("<style>").count(), 1);
    assert!(!page.contains("<img") && !page.contains("<!--"));
    // Escaped, the hostile text is still shown: in the summary, the errors, the table data.
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page.contains("&quot;q&quot; &#39;a&#39;"));
    assert!(page.contains("<code>bad/&lt;/script&gt;"));
    for c in ['\u{202E}', '\u{2066}'] {
        assert!(!page.contains(c), "bidi control {c:?} reached the page");
    }
    assert!(!page.chars().any(|c| c.is_control() && c != '\n'));
}

#[test]
fn the_data_block_reads_back_as_the_sanitised_strings() {
    let page = page(&findings(), false);
    let block = data_block(&page);
    assert!(!block.contains('<') && !block.contains('>') && !block.contains('&'));
    let data: serde_json::Value = serde_json::from_str(block).unwrap();
    let clean = sanitize(HOSTILE);
    assert_eq!(data["findings"][0]["path"], format!("src/{clean}"));
    assert_eq!(data["commits"][0]["author"], format!("Mallory {clean}"));
    assert_eq!(data["commits"][0]["summary"], format!("Add config {clean}"));
    assert_eq!(data["repos"][0]["path"], format!("repo/{clean}"));
    let snippet = data["findings"][0]["snippet"].as_str().unwrap();
    assert!(
        snippet.starts_with(&format!("key = \"{clean}")),
        "{snippet}"
    );
    assert!(data["findings"][0]["validation"]
        .as_str()
        .unwrap()
        .contains(&format!("identity user {clean}")));
}

#[test]
fn secrets_are_redacted_unless_asked_for() {
    let raw = secret_value();
    let redacted = page(&findings(), false);
    assert!(!redacted.contains(&raw));
    let data: serde_json::Value = serde_json::from_str(data_block(&redacted)).unwrap();
    assert_eq!(data["findings"][0]["secret"], "hxQ7mK2v…(34 chars)");
    assert_eq!(data["redacted"], true);
    let shown = page(&findings(), true);
    assert!(shown.contains(&raw));
    assert!(shown.contains("shows secrets in full"));
}

#[test]
fn only_https_rotate_urls_become_links() {
    let page = page(&findings(), false);
    let data: serde_json::Value = serde_json::from_str(data_block(&page)).unwrap();
    let rule = |i: usize| &data["rules"][data["findings"][i]["rule"].as_u64().unwrap() as usize];
    // All three findings share a rule id here, so the first finding's URL is the rule's.
    assert_eq!(rule(0)["rotate"], "javascript:alert(1)");
    assert!(rule(0)["rotate_href"].is_null());
    assert!(data::is_https("https://console.example.test/keys?a=1#b"));
    assert!(data::is_https("HTTPS://example.test/"));
    for bad in [
        "http://example.test/",
        "javascript:alert(1)",
        "https://",
        "https://x.test/\"><img src=x>",
        "https://x.test/ a",
        " https://x.test/",
        "//x.test/",
        "data:text/html,x",
    ] {
        assert!(!data::is_https(bad), "{bad}");
    }
}

#[test]
fn history_locations_name_their_commit() {
    let page = page(&findings(), false);
    let data: serde_json::Value = serde_json::from_str(data_block(&page)).unwrap();
    let f = &data["findings"];
    // A file on disk: no commit in its location, but the introducing commit is shown.
    assert!(f[0]["at"].is_null());
    assert_eq!(f[0]["head"], "yes");
    assert_eq!(
        data["commits"][f[0]["commit"].as_u64().unwrap() as usize]["short"],
        "aaaaaaaaaaaa"
    );
    // Only in history: `@ commit` and not in HEAD.
    assert_eq!(f[1]["at"], "bbbbbbbb");
    assert_eq!(f[1]["head"], "no");
    assert_eq!(f[1]["origin"], "history");
    assert_eq!(f[2]["at"], "cccccccc");
    assert_eq!(f[2]["origin"], "commit-message");
    assert_eq!(f[2]["head"], "n/a");
    // Three commits, each listed once; one repository shared by all.
    assert_eq!(data["commits"].as_array().unwrap().len(), 3);
    assert_eq!(data["repos"].as_array().unwrap().len(), 1);
}

/// The `'sha256-…'` sources of a CSP directive.
fn csp_directive<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page.find("Content-Security-Policy\" content=\"").unwrap() + 34;
    let policy = &page[start..start + page[start..].find('"').unwrap()];
    policy
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in {policy}"))
        .trim()
}

fn between<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
    let start = page.rfind(open).unwrap() + open.len();
    &page[start..start + page[start..].find(close).unwrap()]
}

#[test]
fn csp_forbids_loads_and_allows_exactly_the_inline_style_and_script() {
    let page = page(&findings(), false);
    assert_eq!(csp_directive(&page, "default-src"), "'none'");
    assert_eq!(csp_directive(&page, "img-src"), "'none'");
    let style = between(&page, "<style>", "</style>");
    let script = between(&page, "<script>", "</script>");
    assert_eq!(
        csp_directive(&page, "style-src"),
        format!("'{}'", hash_source(style))
    );
    assert_eq!(
        csp_directive(&page, "script-src"),
        format!("'{}'", hash_source(script))
    );
    assert!(!page.contains("unsafe-inline") && !page.contains("unsafe-eval"));
    // The policy comes before anything it governs.
    assert!(page.find("Content-Security-Policy").unwrap() < page.find("<style>").unwrap());
}

#[test]
fn nothing_on_the_page_loads_from_elsewhere() {
    let page = page(&findings(), false);
    for needle in [
        "src=\"",
        "href=\"http",
        "url(",
        "@import",
        "<link",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(!page.contains(needle), "{needle}");
    }
    // The only links in the markup are to the page itself.
    for (at, _) in page.match_indices("href=\"") {
        assert!(page[at + 6..].starts_with('#'), "{}", &page[at..at + 30]);
    }
}

#[test]
fn assets_cannot_end_their_own_element() {
    assert!(!STYLE.contains("</"));
    assert!(!SCRIPT.contains("</") && !SCRIPT.contains("<!--"));
    // The script never turns data into code or markup.
    for needle in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
    ] {
        assert!(!SCRIPT.contains(needle), "{needle}");
    }
}

#[test]
fn base64_matches_the_standard_alphabet_and_padding() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    // The CSP hash source of `alert(1)` (SHA-256, then standard base64).
    assert_eq!(
        hash_source("alert(1)"),
        "sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI="
    );
}

/// The page with the style, script and data elided, and the version blanked.
fn skeleton(page: &str) -> String {
    let mut out = page.to_string();
    for (open, close) in [
        ("<style>", "</style>"),
        ("<script>", "</script>"),
        (
            "<script type=\"application/json\" id=\"keyhound-data\">",
            "</script>",
        ),
    ] {
        let start = out.find(open).unwrap() + open.len();
        let end = start + out[start..].find(close).unwrap();
        out.replace_range(start..end, "…");
    }
    let csp = out.find("content=\"default-src").unwrap() + 9;
    let end = csp + out[csp..].find('"').unwrap();
    out.replace_range(csp..end, "…");
    out.replace(env!("CARGO_PKG_VERSION"), "VERSION")
}

#[test]
fn page_structure_snapshot() {
    let mut fs = findings();
    fs[2].validation = Some(Validation::unknown(crate::finding::UnknownReason::Timeout));
    fs[1].confidence = Confidence::Medium;
    fs[1].provider = "Acme".into();
    insta::assert_snapshot!(skeleton(&page(&fs, false)));
}

#[test]
fn an_empty_report_says_so() {
    let page = page(&[], false);
    assert!(page.contains("<strong>0</strong> findings"));
    assert!(page.contains("nothing from git history to place in time"));
    let data: serde_json::Value = serde_json::from_str(data_block(&page)).unwrap();
    assert_eq!(data["findings"].as_array().unwrap().len(), 0);
}
