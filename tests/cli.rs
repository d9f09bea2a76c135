//! End-to-end tests of the `keyhound` binary: exit codes, output formats, walking rules,
//! redaction, and snapshots of `--help` and every report format.

mod cmd;

use cmd::{keyhound, tree};
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

// Random, format-exact fakes (also used as rule examples).
const LEGACY: &str = "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";
const PROJECT: &str = "sk-proj-p85MoKSRbQuQDfZAKXd7T3BlbkFJoowxpVK5Vx0h3tbQKVqT";

fn leaky() -> TempDir {
    tree(&[
        ("app/config.py", &format!("import os\nOPENAI_API_KEY = \"{LEGACY}\"\n")),
        (
            "docs/curl.md",
            &format!("curl https://api.openai.com/v1/models \\\n  -H \"Authorization: Bearer {PROJECT}\"\n"),
        ),
        ("README.md", "nothing to see\n"),
    ])
}

fn scan_in(dir: &Path) -> Command {
    let mut c = keyhound();
    c.current_dir(dir).arg("scan");
    c
}

fn stdout_of(c: &mut Command) -> String {
    String::from_utf8(c.output().unwrap().stdout).unwrap()
}

#[test]
fn help_snapshots() {
    for args in [
        vec!["--help"],
        vec!["scan", "--help"],
        vec!["rules", "--help"],
        vec!["rules", "check", "--help"],
        vec!["baseline", "create", "--help"],
        vec!["hook", "install", "--help"],
        vec!["rules", "show", "--help"],
        vec!["baseline", "import", "--help"],
        vec!["completions", "--help"],
        vec!["man", "--help"],
    ] {
        let out = keyhound().args(&args).assert().success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        insta::assert_snapshot!(format!("help_{}", args.join("_").replace("--", "")), text);
    }
}

#[test]
fn exit_codes_clean_findings_error() {
    let clean = tree(&[("a.txt", "hello\n")]);
    scan_in(clean.path()).arg("-q").assert().code(0).stdout("");
    let dirty = leaky();
    scan_in(dirty.path()).arg("-q").assert().code(1);
    // An error wins over findings.
    scan_in(dirty.path())
        .args(["-q", ".", "does-not-exist"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does-not-exist"));
    keyhound()
        .args(["scan", "--format", "yaml"])
        .assert()
        .code(2);
}

#[test]
fn text_report_snapshot() {
    let dir = leaky();
    let out = stdout_of(scan_in(dir.path()).args(["-q", "--color", "never"]));
    insta::assert_snapshot!("report_text", out);
}

#[test]
fn json_report_snapshot() {
    let dir = leaky();
    let out = stdout_of(scan_in(dir.path()).args(["-q", "-f", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
    insta::assert_snapshot!("report_json", out);
}

#[test]
fn jsonl_report_snapshot() {
    let dir = leaky();
    let out = stdout_of(scan_in(dir.path()).args(["-q", "-f", "jsonl"]));
    for line in out.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    assert_eq!(out.lines().count(), 2);
    insta::assert_snapshot!("report_jsonl", out);
}

#[test]
fn sarif_report_snapshot_and_schema() {
    let dir = leaky();
    let out = stdout_of(scan_in(dir.path()).args(["-q", "-f", "sarif"]));
    insta::assert_snapshot!("report_sarif", out);
    // The published 2.1.0 schema spells one `pattern` (for `language`, which keyhound does not
    // emit) in a way strict meta-schema validation rejects; use its evident intent so the rest
    // of the schema can be enforced.
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json"),
    )
    .unwrap()
    .replace(
        "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
        "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
    );
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The validator is live: a wrong level is rejected.
    let mut bad = doc.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&bad));
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 2);
    let loc = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "app/config.py");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 19);
}

#[test]
fn an_empty_sarif_log_is_valid_too() {
    let dir = tree(&[("a.txt", "clean\n")]);
    let out = stdout_of(scan_in(dir.path()).args(["-q", "-f", "sarif"]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
fn secrets_are_redacted_everywhere_unless_asked() {
    let dir = leaky();
    for fmt in ["text", "json", "jsonl", "sarif"] {
        let out = scan_in(dir.path()).args(["-f", fmt]).output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !all.contains(LEGACY) && !all.contains(PROJECT),
            "{fmt} leaked a secret"
        );
        assert!(all.contains("sk-BcZXa…(51 chars)"), "{fmt}: {all}");
    }
    let shown = stdout_of(scan_in(dir.path()).args(["-q", "--show-secrets"]));
    assert!(shown.contains(LEGACY) && shown.contains(PROJECT));
}

#[test]
fn output_file_and_stdin() {
    let dir = leaky();
    let report = dir.path().join("out.json");
    scan_in(dir.path())
        .args(["-q", "-f", "json", "-o"])
        .arg(&report)
        .assert()
        .code(1)
        .stdout("");
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);

    let out = keyhound()
        .args(["scan", "-", "-q", "-f", "jsonl"])
        .write_stdin(format!("line one\nkey={LEGACY}\n"))
        .assert()
        .code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["path"], "<stdin>");
    assert_eq!(v["line"], 2);
    assert_eq!(v["column"], 5);
}

#[test]
fn identical_content_is_scanned_once_and_reported_under_every_path() {
    let content = format!("k = \"{LEGACY}\"\n");
    let dir = tree(&[
        ("a/one.py", &content),
        ("b/two.py", &content),
        ("c/three.py", &content),
    ]);
    let out = scan_in(dir.path()).args(["-f", "json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a/one.py", "b/two.py", "c/three.py"]);
    assert_eq!(v["summary"]["items"], 3);
    assert_eq!(v["summary"]["blobs"], 1);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("2 duplicates scanned once"), "{stderr}");
}

#[test]
fn ignore_files_git_dir_binary_and_size_limits() {
    let key = format!("KEY={LEGACY}\n");
    let mut big = key.clone();
    big.push_str(&"x".repeat(5000));
    let dir = tree(&[
        (".gitignore", "ignored.txt\n"),
        ("ignored.txt", &key),
        (".git/config", &key),
        (".env", &key),
        ("big.txt", &big),
    ]);
    fs::write(
        dir.path().join("blob.bin"),
        [b"\0\x01".as_slice(), key.as_bytes()].concat(),
    )
    .unwrap();
    let paths = |extra: &[&str]| -> (Vec<String>, serde_json::Value) {
        let out = scan_in(dir.path())
            .args(["-q", "-f", "json", "--max-file-size", "1K"])
            .args(extra)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let p = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        (p, v["summary"].clone())
    };
    let (found, summary) = paths(&[]);
    assert_eq!(found, [".env"]);
    assert_eq!(summary["skipped_binary"], 1);
    assert_eq!(summary["skipped_large"], 1);
    let (found, _) = paths(&["--no-ignore"]);
    assert_eq!(found, [".env", "ignored.txt"]);
    let (found, _) = paths(&["--max-file-size", "1M"]);
    assert_eq!(found, [".env", "big.txt"]);
    let out = scan_in(dir.path())
        .args(["--max-file-size", "1K"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("1 binary skipped"), "{stderr}");
    assert!(
        stderr.contains("1 larger than 1.0 KiB skipped (--max-file-size)"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_only_when_asked() {
    let outside = tree(&[("secret.txt", &format!("KEY={LEGACY}\n"))]);
    let dir = tree(&[("a.txt", "clean\n")]);
    std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
    scan_in(dir.path()).arg("-q").assert().code(0);
    scan_in(dir.path()).args(["-q", "-L"]).assert().code(1);
}

#[cfg(unix)]
#[test]
fn unreadable_entries_are_reported_and_the_scan_goes_on() {
    let dir = tree(&[("ok.py", &format!("KEY={LEGACY}\n"))]);
    std::os::unix::fs::symlink(
        dir.path().join("missing-target"),
        dir.path().join("dangling"),
    )
    .unwrap();
    let out = scan_in(dir.path())
        .args(["-L", "-f", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // One finding, then the error, named, in the report itself.
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let error: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert!(
        error["error"]["path"]
            .as_str()
            .unwrap()
            .ends_with("dangling"),
        "{error}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("dangling"), "{stderr}");
    assert!(stderr.contains("1 error"), "{stderr}");
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let dir = leaky();
    let coloured = stdout_of(scan_in(dir.path()).args(["-q", "--color", "always"]));
    assert!(coloured.contains("\x1b["));
    // Not a terminal: auto means no colour.
    let plain = stdout_of(scan_in(dir.path()).args(["-q"]));
    assert!(!plain.contains("\x1b["));
}

#[test]
fn control_characters_in_scanned_text_never_reach_the_terminal() {
    let dir = tree(&[(
        "evil.txt",
        &format!("\x1b]0;pwned\x07KEY={LEGACY}\x1b[2J\n"),
    )]);
    let out = stdout_of(scan_in(dir.path()).args(["-q", "--color", "never"]));
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
    assert!(out.contains("KEY=sk-BcZXa…(51 chars)"), "{out}");
}

#[test]
fn output_is_deterministic() {
    let mut files: Vec<(String, String)> = Vec::new();
    for i in 0..40 {
        files.push((
            format!("d{}/f{i}.txt", i % 7),
            format!("{i}\nKEY={LEGACY}\nP={PROJECT}\n"),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = tree(&refs);
    let a = stdout_of(scan_in(dir.path()).args(["-q", "-f", "json", "-j", "2"]));
    let b = stdout_of(scan_in(dir.path()).args(["-q", "-f", "json", "-j", "2"]));
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 80);
}

#[test]
fn broken_pipe_is_not_an_error() {
    let mut files: Vec<(String, String)> = Vec::new();
    for i in 0..300 {
        files.push((format!("f{i}.txt"), format!("{i}\nKEY={LEGACY}\n")));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = tree(&refs);
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let out = std::process::Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!("'{}' scan -q | head -n 1", bin.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn rules_list_and_check() {
    let out = stdout_of(keyhound().args(["rules", "list"]));
    assert!(out.contains("openai.project-key"));
    let json = stdout_of(keyhound().args(["rules", "list", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "openai.legacy-key"));
    keyhound()
        .args(["rules", "check"])
        .assert()
        .success()
        .stderr(predicate::str::contains("all examples pass"));
}

const USER_RULE: &str = r#"provider: Acme
rules:
  - id: acme.token
    name: Acme token
    keywords: [acme_]
    pattern: '\b(acme_[a-z0-9]{12})\b'
    rotate: https://acme.test/tokens
    examples:
      - text: 'ACME=acme_k3j5h7g9f2d4'
        secret: acme_k3j5h7g9f2d4
    negative_examples: ['acme_short']
"#;

#[test]
fn user_rules_are_checked_and_used() {
    let dir = tree(&[
        ("rules/acme.yaml", USER_RULE),
        ("src/a.txt", "t = acme_q8w7e6r5t4y3\n"),
    ]);
    keyhound()
        .current_dir(dir.path())
        .args(["rules", "check", "rules"])
        .assert()
        .success()
        .stderr(predicate::str::contains("1 rules checked"));
    let out = stdout_of(
        keyhound()
            .current_dir(dir.path())
            .args(["scan", "src", "-q", "-f", "jsonl", "--rules", "rules"]),
    );
    assert!(out.contains("\"rule_id\":\"acme.token\""), "{out}");
}

#[test]
fn failing_examples_make_rules_check_fail() {
    let broken = USER_RULE.replace("secret: acme_k3j5h7g9f2d4", "secret: acme_000000000000");
    let broken = broken.replace("['acme_short']", "['acme_k8s2m7p4v9n3']");
    let dir = tree(&[("rules/acme.yaml", &broken)]);
    keyhound()
        .current_dir(dir.path())
        .args(["rules", "check", "rules"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("instead of the declared secret"))
        .stdout(predicate::str::contains("negative example matches"));
}

#[test]
fn bad_rule_file_names_file_line_and_field() {
    let bad = USER_RULE.replace("    rotate:", "    rotate_url:");
    let dir = tree(&[("rules/acme.yaml", &bad)]);
    keyhound()
        .current_dir(dir.path())
        .args(["scan", "--rules", "rules/acme.yaml", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("rules/acme.yaml:7:5"))
        .stderr(predicate::str::contains("unknown field `rotate_url`"));
}

#[test]
fn secrets_inside_base64_and_percent_encoding_are_found_at_the_encoded_text() {
    let b64 = "c2stcHJvai1wODVNb0tTUmJRdVFEZlpBS1hkN1QzQmxia0ZKb293eHBWSzVWeDBoM3RiUUtWcVQ=";
    let dir = tree(&[
        (
            "k8s/secret.yaml",
            &format!("apiVersion: v1\ndata:\n  OPENAI_API_KEY: {b64}\nkind: Secret\nmetadata:\n  name: app\n"),
        ),
        (
            "notes.txt",
            &format!("see https://x.test/?k={}\n", PROJECT.replace('-', "%2D")),
        ),
    ]);
    let out = stdout_of(scan_in(dir.path()).args(["-q", "-f", "jsonl"]));
    let found: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 2, "{out}");
    let k8s = &found[0];
    assert_eq!(k8s["path"], "k8s/secret.yaml");
    assert_eq!(k8s["rule_id"], "openai.project-key");
    assert_eq!(k8s["decoded_from"], "base64");
    assert_eq!(
        (k8s["line"].clone(), k8s["column"].clone()),
        (3.into(), 19.into())
    );
    // The decoded secret is what is redacted and fingerprinted.
    assert_eq!(k8s["secret"], "sk-proj-…(56 chars)");
    let url = &found[1];
    assert_eq!(url["decoded_from"], "percent");
    assert_eq!(url["rule_id"], "openai.project-key");
}

#[test]
fn details_read_from_the_secret_reach_every_format_cleaned() {
    // A JWT whose issuer carries a terminal escape and a bidirectional override, expired in
    // 2011: reported, one confidence level lower, with its details cleaned.
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGguXHUwMDFiWzMxbWFjbWVcdTIwMmUuaW8iLCJleHAiOjEzMDAwMDAwMDAsInNjb3BlIjoiYWRtaW4ifQ.XYAmYcHA_iUO8z9gJvY-AY35BRImd0t1s6Me4-OS3as";
    let dir = tree(&[("svc.env", &format!("SERVICE_TOKEN={jwt}\n"))]);
    let out = stdout_of(scan_in(dir.path()).args(["-q", "-f", "json"]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["rule_id"], "jwt.token", "{out}");
    assert_eq!(f["confidence"], "low");
    assert_eq!(f["details"]["alg"], "HS256");
    assert_eq!(f["details"]["issuer"], "https://auth.[31macme.io");
    assert_eq!(f["details"]["expired"], "2011-03-13T07:06:40Z");
    let sarif = stdout_of(scan_in(dir.path()).args(["-q", "-f", "sarif"]));
    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(
        doc["runs"][0]["results"][0]["properties"]["details"]["alg"],
        "HS256"
    );
    let text = stdout_of(scan_in(dir.path()).args(["--color", "never"]));
    assert!(
        text.contains("alg HS256 · issuer https://auth.[31macme.io · expired 2011-03-13T07:06:40Z"),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text}"
    );
}
