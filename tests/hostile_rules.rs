//! Rule files written by someone else (`--rules`, a scanned repository's configuration,
//! gitleaks configs): their text never reaches a terminal or report unclean, their `rotate`
//! links are plain `https://` URLs, their regexes stay within keyhound's size limits, and a
//! rule that does not load says which rule, where, and why.

mod cmd;

use cmd::{keyhound, tree};

// A random, format-exact value for the test rule below.
const TOKEN: &str = "acme_q8w7e6r5t4";

/// A rule whose display text carries a screen clear, an OSC 8 hyperlink and a
/// right-to-left override.
const ESCAPED: &str = r#"
provider: "Acme\e[2J\e]8;;https://evil.example\e\\"
rules:
  - id: acme.token
    name: "Acme \e[31mtoken\u202e"
    keywords: [acme_]
    pattern: '\b(acme_[a-z0-9]{10})\b'
    rotate: ROTATE
"#;

fn rule(rotate: &str) -> String {
    ESCAPED.replace("ROTATE", rotate)
}

fn is_unclean(c: char) -> bool {
    (c.is_control() && c != '\n') || ('\u{202A}'..='\u{202E}').contains(&c)
}

#[test]
fn rule_text_is_clean_in_every_format() {
    let dir = tree(&[
        ("r.yaml", &rule("https://acme.example/rotate")),
        ("t.txt", &format!("{TOKEN}\n")),
    ]);
    for format in ["text", "json", "jsonl", "sarif"] {
        let out = keyhound()
            .current_dir(dir.path())
            .args(["scan", "--rules", "r.yaml", "t.txt", "--color", "always"])
            .args(["-f", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        // Colour codes are keyhound's own; strip them before looking for the rule's.
        let plain = stdout.replace("\x1b[1m", "").replace("\x1b[0m", "");
        let plain = regex_free_strip(&plain);
        assert!(!plain.contains(is_unclean), "{format}: {stdout:?}");
        assert!(!stderr.contains(is_unclean), "{format}: {stderr:?}");
        assert!(!stdout.contains("\\u001b"), "{format}: {stdout}");
        assert!(stdout.contains("Acme [31mtoken"), "{format}: {stdout}");
    }
}

/// Removes keyhound's own SGR colour sequences (`ESC [ digits ; digits m`).
fn regex_free_strip(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        let n = tail
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(tail.len());
        if tail[n..].starts_with('m') {
            rest = &tail[n + 1..];
        } else {
            out.push('\x1b');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn a_rotate_link_that_is_not_a_plain_https_url_is_refused() {
    for (rotate, why) in [
        (
            r#""https://acme.example/\e[8m""#,
            "U+001B is not a URL character",
        ),
        ("https://user:pw@evil.example/", "user name or password"),
        (
            r#""https://evil.example/\u202Emoc.emca""#,
            "U+202E is not a URL character",
        ),
        ("http://acme.example/", "must be an https:// URL"),
    ] {
        let dir = tree(&[("r.yaml", &rule(rotate)), ("t.txt", "x\n")]);
        let out = keyhound()
            .current_dir(dir.path())
            .args(["scan", "--rules", "r.yaml", "t.txt"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{rotate}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains("r.yaml:4: rule `acme.token`, field `rotate`: ")
                && stderr.contains(why),
            "{rotate}: {stderr}"
        );
        assert!(!stderr.contains(is_unclean), "{stderr:?}");
    }
}

#[test]
fn a_repository_rule_file_is_held_to_the_same_rules() {
    let dir = tree(&[
        (".keyhound.yaml", "rules: [ci/rules.yaml]\n"),
        (
            "ci/rules.yaml",
            &rule(r#""https://acme.example/\e]8;;x\e\\""#),
        ),
        ("t.txt", &format!("{TOKEN}\n")),
    ]);
    let out = keyhound()
        .current_dir(dir.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("rules.yaml:4: rule `acme.token`, field `rotate`"),
        "{stderr}"
    );
    assert!(!stderr.contains(is_unclean), "{stderr:?}");
}

#[test]
fn gitleaks_text_is_clean_in_reports() {
    let toml = "title = \"Corp\\u001b[2J\"\n[[rules]]\nid = \"acme\"\n\
                description = \"Acme\\u001b]8;;https://evil.example\\u0007 token\\u202E\"\n\
                regex = '''acme_[a-z0-9]{10}'''\nkeywords = [\"acme_\"]\n";
    let dir = tree(&[("g.toml", toml), ("t.txt", &format!("{TOKEN}\n"))]);
    for format in ["text", "json", "sarif"] {
        let out = keyhound()
            .current_dir(dir.path())
            .args([
                "scan", "--rules", "g.toml", "t.txt", "--color", "never", "-f", format,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(!stdout.contains(is_unclean), "{format}: {stdout:?}");
        assert!(
            !stdout.contains("\\u001b") && !stdout.contains("\\u0007"),
            "{stdout}"
        );
        assert!(
            stdout.contains("Acme]8;;https://evil.example token"),
            "{stdout}"
        );
    }
}

#[test]
fn a_regex_that_does_not_compile_names_rule_line_and_error() {
    let bad =
        rule("https://acme.example/rotate").replace(r"'\b(acme_[a-z0-9]{10})\b'", "'(acme_['");
    let dir = tree(&[("r.yaml", &bad), ("t.txt", "x\n")]);
    keyhound()
        .current_dir(dir.path())
        .args(["scan", "--rules", "r.yaml", "t.txt"])
        .assert()
        .code(2)
        .stderr(
            "keyhound: error: cannot load rules: r.yaml:4: rule `acme.token`, field `pattern`: \
             regex error at character 7 of the pattern: unclosed character class\n",
        );
}

#[test]
fn an_oversized_regex_is_refused_with_rule_and_line() {
    let big = rule("https://acme.example/rotate")
        .replace(r"'\b(acme_[a-z0-9]{10})\b'", "'acme_a{10000}'");
    let dir = tree(&[("r.yaml", &big), ("t.txt", "x\n")]);
    let out = keyhound()
        .current_dir(dir.path())
        .args(["scan", "--rules", "r.yaml", "t.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(
            "r.yaml:4: rule `acme.token`, field `pattern`: the regex is too large: it expands \
             to 10005 NFA positions (at most 4096)"
        ),
        "{stderr}"
    );
}
