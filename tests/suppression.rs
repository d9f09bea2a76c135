//! Allow comments, baselines and `.keyhound.yaml`, on directory scans and on git diff scans.

mod gitrepo;

use gitrepo::*;
use predicates::prelude::*;

const LEGACY_ID: &str = "openai.legacy-key";
const PROJECT_ID: &str = "openai.project-key";

#[test]
fn each_allow_marker_on_the_line_or_the_line_before() {
    let r = Repo::new();
    let markers = [
        "keyhound:allow",
        "gitleaks:allow",
        "pragma: allowlist secret",
        "pragma: allowlist nextline secret",
    ];
    let mut text = String::new();
    for m in markers {
        // Same line.
        text.push_str(&format!("a = '{LEGACY}'  # {m}\n"));
        // Line before.
        text.push_str(&format!("# {m}\nb = '{PROJECT}'\n"));
    }
    // Two lines before does not count.
    text.push_str(&format!("# keyhound:allow\n\nc = '{LEGACY2}'\n"));
    r.write("app.py", &text);

    let (code, v, stderr) = json(r.keyhound().args(["scan", "."]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&v), [f("app.py", 15, LEGACY_ID)]);
    assert_eq!(v["summary"]["allowed"], 8);
    assert!(stderr.contains("8 allowed by comment"), "{stderr}");

    // --no-allow-comments reports them all.
    let (code, v, _) = json(r.keyhound().args(["scan", ".", "--no-allow-comments"]));
    assert_eq!(code, 1);
    assert_eq!(found(&v).len(), 9);
    assert_eq!(v["summary"]["allowed"], 0);
}

const BLOCK_RULE: &str = r#"provider: Test
rules:
  - id: test.key-block
    name: Test key block
    keywords: ['-----BEGIN TEST KEY-----']
    pattern: '(-----BEGIN TEST KEY-----[\sA-Za-z0-9+/=]+-----END TEST KEY-----)'
    window: 2048
    examples: ["-----BEGIN TEST KEY-----\nq8W7e6R5t4Y3u2I1\n-----END TEST KEY-----"]
"#;

#[test]
fn allow_comment_for_a_multi_line_value() {
    let r = Repo::new();
    r.write("rules/block.yaml", BLOCK_RULE);
    let block = "-----BEGIN TEST KEY-----\nMIIEowIBAAKCAQEAq8W7e6R5t4Y3u2I1o9P8\nHv3Lq9Zr2Wm8Nx4Kp7Cs5Bt1Dg6Fy0J\n-----END TEST KEY-----\n";
    // The marker on the line before the value's first line covers the whole value.
    r.write("allowed.txt", format!("intro\n# keyhound:allow\n{block}"));
    // A marker on a later line of the value does not.
    r.write(
        "later.txt",
        format!(
            "intro\n{}",
            block
                .replace("KEY-----\n", "KEY----- # keyhound:allow\n")
                .replacen(" # keyhound:allow", "", 1)
        ),
    );
    let (code, v, stderr) = json(r.keyhound().args(["scan", ".", "--rules", "rules"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&v), [f("later.txt", 2, "test.key-block")]);
    assert!(v["findings"][0]["end_line"].as_u64().unwrap() > 2);
    assert_eq!(v["summary"]["allowed"], 1);
}

#[test]
fn allow_comments_in_staged_scans_are_counted_not_lost() {
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.add(&["a.txt"]);
    r.commit("init");
    r.write(
        "a.txt",
        format!("a\ntest_key = '{LEGACY}'  # keyhound:allow\n"),
    );
    r.add(&["a.txt"]);
    let out = r.keyhound().args(["scan", "--staged"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 allowed by comment"), "{stderr}");
    r.keyhound()
        .args(["scan", "--staged", "--no-allow-comments", "-q"])
        .assert()
        .code(1);
}

#[test]
fn baseline_rerun_moved_secret_and_new_secret_on_a_baselined_line() {
    let r = Repo::new();
    r.write("a.py", format!("A = '{LEGACY}'\nB = '{PROJECT}'\n"));
    r.write("docs/b.md", format!("same key again: {LEGACY}\n"));

    r.keyhound()
        .args(["baseline", "create", "-o", ".keyhound-baseline.yaml"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "baseline of 3 findings (2 entries) written to .keyhound-baseline.yaml",
        ));
    let first = r.read(".keyhound-baseline.yaml");
    assert!(
        !first.contains(LEGACY) && !first.contains(PROJECT),
        "{first}"
    );
    assert!(!first.contains("a.py"), "{first}");
    assert!(
        !first.lines().any(|l| l.trim_start().starts_with("line")),
        "{first}"
    );
    assert!(first.contains("rule_id: openai.legacy-key"), "{first}");
    // Sorted by rule id.
    assert!(first.find(LEGACY_ID).unwrap() < first.find(PROJECT_ID).unwrap());

    // A rerun writes the same bytes (stdout works too).
    r.keyhound()
        .args(["baseline", "create", "-o", ".keyhound-baseline.yaml"])
        .assert()
        .code(0);
    assert_eq!(r.read(".keyhound-baseline.yaml"), first);
    r.keyhound()
        .args(["baseline", "create", "-q"])
        .assert()
        .code(0)
        .stdout(first.clone());

    // With the baseline nothing is reported, and the suppression is counted.
    let (code, v, stderr) =
        json(
            r.keyhound()
                .args(["scan", ".", "--baseline", ".keyhound-baseline.yaml"]),
        );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["summary"]["baselined"], 3);
    assert_eq!(v["baseline"]["entries"], 2);
    assert_eq!(v["baseline"]["stale"].as_array().unwrap().len(), 0);
    assert!(stderr.contains("3 baselined"), "{stderr}");

    // The secret moves to another file and line: still suppressed.
    r.write("a.py", format!("B = '{PROJECT}'\n"));
    r.write("lib/moved.py", format!("\n\nMOVED = '{LEGACY}'\n"));
    let (code, _, _) =
        json(
            r.keyhound()
                .args(["scan", ".", "--baseline", ".keyhound-baseline.yaml"]),
        );
    assert_eq!(code, 0);

    // A different secret on the line where a baselined one was: reported.
    r.write("a.py", format!("B = '{LEGACY2}'\n"));
    let (code, v, stderr) =
        json(
            r.keyhound()
                .args(["scan", ".", "--baseline", ".keyhound-baseline.yaml"]),
        );
    assert_eq!(code, 1);
    assert_eq!(found(&v), [f("a.py", 1, LEGACY_ID)]);
    // The project key is gone everywhere now: its entry is stale, and says so.
    let stale = v["baseline"]["stale"].as_array().unwrap();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0]["rule_id"], PROJECT_ID);
    assert!(stderr.contains("1 stale baseline entry"), "{stderr}");
}

#[test]
fn baseline_applies_to_staged_scans_without_stale_noise() {
    let r = Repo::new();
    r.write("k.txt", format!("{LEGACY}\n"));
    r.keyhound()
        .args(["baseline", "create", "-o", "kh-baseline.yaml", "k.txt"])
        .assert()
        .code(0);
    r.add(&["."]);
    // The staged key is in the baseline; an unrelated stale-looking entry is not reported
    // for a partial scan.
    let (code, v, _) =
        json(
            r.keyhound()
                .args(["scan", "--staged", "--baseline", "kh-baseline.yaml"]),
        );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["baselined"], 1);
    assert!(v["baseline"].get("stale").is_none());
}

#[test]
fn broken_baseline_is_an_error_with_file_and_line() {
    let r = Repo::new();
    r.write(
        "b.yaml",
        "version: 1\nfindings:\n  - rule_id: x.y\n    fingerprnt: abc\n",
    );
    r.keyhound()
        .args(["scan", ".", "--baseline", "b.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("b.yaml:4:"))
        .stderr(predicate::str::contains("unknown field `fingerprnt`"));
}

#[test]
fn config_excludes_disables_and_sets_defaults() {
    let r = Repo::new();
    r.write(
        ".keyhound.yaml",
        "# repository settings\n\
         exclude_paths:\n  - vendor/\n  - '*.snap'\n\
         disable_rules:\n  - openai.project-key\n\
         min_confidence: medium\n",
    );
    r.write("src/a.py", format!("A = '{LEGACY}'\nP = '{PROJECT}'\n"));
    r.write("vendor/lib/x.py", format!("A = '{LEGACY2}'\n"));
    r.write("tests/out.snap", format!("A = '{LEGACY2}'\n"));

    let (code, v, _) = json(r.keyhound().args(["scan"]));
    assert_eq!(code, 1);
    assert_eq!(found(&v), [f("src/a.py", 1, LEGACY_ID)]);

    // Found from a subdirectory too (the repository root's file applies).
    let (_, v2, _) = json(r.keyhound_in(&r.path().join("src")).args(["scan", "."]));
    assert_eq!(found(&v2), [f("a.py", 1, LEGACY_ID)]);

    // --no-config and --config.
    let (_, v3, _) = json(r.keyhound().args(["scan", "--no-config"]));
    assert_eq!(found(&v3).len(), 4);
    r.write("other.yaml", "exclude_paths: [src]\n");
    let (_, v4, _) = json(r.keyhound().args(["scan", "--config", "other.yaml"]));
    assert_eq!(
        found(&v4),
        [
            f("tests/out.snap", 1, LEGACY_ID),
            f("vendor/lib/x.py", 1, LEGACY_ID)
        ]
    );

    // The same exclusions apply to staged scans (paths relative to the repository root).
    r.add(&["."]);
    let (code, v5, _) = json(r.keyhound().args(["scan", "--staged"]));
    assert_eq!(code, 1);
    assert_eq!(found(&v5), [f("src/a.py", 1, LEGACY_ID)]);
}

#[test]
fn config_rules_and_baseline_paths_are_relative_to_the_file() {
    let r = Repo::new();
    r.write(
        "ci/rules/acme.yaml",
        r#"provider: Acme
rules:
  - id: acme.token
    name: Acme token
    keywords: [acme_]
    pattern: '\b(acme_[a-z0-9]{12})\b'
    examples: ['acme_k3j5h7g9f2d4']
"#,
    );
    r.write("src/t.txt", "t = acme_q8w7e6r5t4y3\n");
    r.write(
        ".keyhound.yaml",
        "rules: [ci/rules]\nbaseline: ci/baseline.yaml\n",
    );
    // The configured baseline must exist.
    r.keyhound()
        .args(["scan"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ci/baseline.yaml"));
    r.keyhound()
        .args(["baseline", "create", "-o", "ci/baseline.yaml"])
        .assert()
        .code(0);
    assert!(r.read("ci/baseline.yaml").contains("acme.token"));
    r.keyhound().args(["scan", "-q"]).assert().code(0);
}

#[test]
fn unknown_config_keys_are_errors_naming_file_and_line() {
    let r = Repo::new();
    r.write(
        ".keyhound.yaml",
        "exclude_paths: [vendor]\nvalidation_hosts: [evil.example]\n",
    );
    r.keyhound()
        .args(["scan"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(".keyhound.yaml:2:"))
        .stderr(predicate::str::contains("unknown field `validation_hosts`"));
    r.write(".keyhound.yaml", "min_confidence: extreme\n");
    r.keyhound()
        .args(["scan"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(".keyhound.yaml:1:"));
    r.write(".keyhound.yaml", "disable_rules: [nosuch.rule]\n");
    r.keyhound()
        .args(["scan"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            ".keyhound.yaml:1: disable_rules: `nosuch.rule` matches no rule",
        ));
}

#[test]
fn stdin_scans_honour_allow_comments() {
    let r = Repo::new();
    r.keyhound()
        .args(["scan", "-", "-q"])
        .write_stdin(format!("x = '{LEGACY}' # keyhound:allow\n"))
        .assert()
        .code(0);
}

#[test]
fn config_exclusions_apply_to_history_findings_too() {
    let r = Repo::new();
    r.write("vendor/old.py", format!("K = '{LEGACY}'\n"));
    r.write("src/app.py", format!("K = '{PROJECT}'\n"));
    r.add(&["."]);
    r.commit("add keys");
    r.git(&["rm", "-q", "-r", "vendor", "src"]);
    r.commit("remove them");
    r.write(".keyhound.yaml", "exclude_paths: [vendor/]\n");
    // Only in history now: the vendored key is excluded, the other is reported.
    let (code, v, stderr) = json(r.keyhound().args(["scan"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&v), [f("src/app.py", 1, PROJECT_ID)]);
}
