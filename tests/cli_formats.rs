//! The CSV, JUnit, GitHub and GitLab formats, `--group-by secret`, the quick controls
//! (`--exclude`, `--disable-rule`, `--only-rule`), logging, completions, the man page and
//! `rules show`.

mod cmd;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use cmd::{keyhound, tree};
use predicates::prelude::*;
use tempfile::TempDir;

// Random, format-exact fakes (the examples of rules/openai.yaml).
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

fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn csv_report_snapshot() {
    let dir = leaky();
    let (code, out, _) = run(scan_in(dir.path()).args(["-q", "-f", "csv"]));
    assert_eq!(code, 1);
    let rows: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(rows[0].starts_with("rule_id,rule_name,provider,confidence,path,line"));
    assert!(!out.contains(LEGACY) && !out.contains(PROJECT));
    insta::assert_snapshot!("report_csv", out);
}

#[test]
fn csv_defuses_formulas_and_quotes_separators() {
    let dir = tree(&[("=cmd,x.py", &format!("k = \"{LEGACY}\"\n"))]);
    let (_, out, _) = run(scan_in(dir.path()).args(["-q", "-f", "csv"]));
    assert!(out.contains(",\"'=cmd,x.py\","), "{out}");
}

#[test]
fn junit_report_is_well_formed_xml_with_everything_escaped() {
    let dir = leaky();
    fs::write(
        dir.path().join("we<i>rd&\"q'.env"),
        format!("TOKEN=\"{LEGACY}\" <!-- ]]> -->\n"),
    )
    .unwrap();
    let (code, out, _) = run(scan_in(dir.path()).args(["-q", "-f", "junit", ".", "missing.txt"]));
    assert_eq!(code, 2);
    let doc = roxmltree::Document::parse(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("failures"), Some("3"));
    assert_eq!(suite.attribute("errors"), Some("1"));
    assert_eq!(suite.attribute("tests"), Some("4"));
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 3);
    let weird = doc
        .descendants()
        .find(|n| n.attribute("classname") == Some("we<i>rd&\"q'.env"))
        .expect("the odd file name survives escaping");
    assert_eq!(weird.attribute("line"), Some("1"));
    assert!(!out.contains(LEGACY));
    let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
    assert!(error.attribute("message").unwrap().contains("missing.txt"));

    let clean = tree(&[("a.txt", "clean\n")]);
    let (code, out, _) = run(scan_in(clean.path()).args(["-q", "-f", "junit"]));
    assert_eq!(code, 0);
    let doc = roxmltree::Document::parse(&out).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].first_element_child(), None, "a clean scan passes");
}

#[test]
fn junit_report_snapshot() {
    let dir = leaky();
    let (_, out, _) = run(scan_in(dir.path()).args(["-q", "-f", "junit"]));
    insta::assert_snapshot!("report_junit", out);
}

#[test]
fn github_annotations_escape_and_always_redact() {
    let dir = leaky();
    fs::write(dir.path().join("a,b:c%.txt"), format!("k=\"{LEGACY}\"\n")).unwrap();
    let (code, out, _) = run(scan_in(dir.path()).args(["-q", "-f", "github", "--show-secrets"]));
    assert_eq!(code, 1);
    assert!(!out.contains(LEGACY) && !out.contains(PROJECT), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines.iter().all(|l| l.starts_with("::error ")), "{out}");
    assert!(
        out.contains("::error file=a%2Cb%3Ac%25.txt,line=1,col=4,"),
        "{out}"
    );
    assert!(out.contains("file=app/config.py,line=2,col=19,endLine=2,endColumn=70,title="));
    // A line break in a message is escaped, so no second command can start.
    assert!(out.contains("%0ARotate it at "));
}

#[test]
fn github_report_snapshot() {
    let dir = leaky();
    let (_, out, _) = run(scan_in(dir.path()).args(["-q", "-f", "github", ".", "gone"]));
    insta::assert_snapshot!("report_github", out);
}

fn gitlab_validator() -> jsonschema::Validator {
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/gitlab/secret-detection-report-format-15.2.1.json"),
    )
    .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft7::new(&schema).unwrap()
}

fn schema_errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn gitlab_report_follows_the_published_schema() {
    let dir = leaky();
    let (code, out, _) = run(scan_in(dir.path()).args(["-q", "-f", "gitlab", ".", "gone"]));
    assert_eq!(code, 2);
    let mut doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let validator = gitlab_validator();
    let errors = schema_errors(&validator, &doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The validator is live: a wrong scan type is rejected.
    let mut bad = doc.clone();
    bad["scan"]["type"] = "sast".into();
    assert!(!validator.is_valid(&bad));
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 2);
    assert_eq!(vulns[0]["location"]["file"], "app/config.py");
    assert_eq!(vulns[0]["location"]["commit"]["sha"], "0000000");
    assert_eq!(doc["scan"]["messages"][0]["level"], "warn");
    assert!(!out.contains(LEGACY) && !out.contains(PROJECT));
    for t in ["start_time", "end_time"] {
        let v = doc["scan"][t].as_str().unwrap();
        assert_eq!(v.len(), 19, "{v}");
        doc["scan"][t] = "[time]".into();
    }
    let mut text = serde_json::to_string_pretty(&doc).unwrap();
    text.push('\n');
    insta::assert_snapshot!("report_gitlab", text);
}

const BLOCK_RULE: &str = r#"provider: Test
rules:
  - id: test.key-block
    name: Test key block
    keywords: ['-----BEGIN TEST KEY-----']
    pattern: '(-----BEGIN TEST KEY-----[\sA-Za-z0-9+/=]+-----END TEST KEY-----)'
    window: 2048
"#;

#[test]
fn show_secrets_gives_machine_formats_the_exact_secret() {
    let block = "-----BEGIN TEST KEY-----\nkrPq2FZ3nZBBeQHZRWt8TJbfcusu5dJVjQic\n\t4W1D73gr2Jmjbr0k/1aQ/EGCCzHro4y/\n-----END TEST KEY-----";
    let dir = tree(&[("r.yaml", BLOCK_RULE), ("key.txt", &format!("{block}\n"))]);
    let secret_of = |args: &[&str]| {
        let (code, out, err) = run(scan_in(dir.path())
            .args(["key.txt", "-q", "--rules", "r.yaml", "--show-secrets"])
            .args(args));
        assert_eq!(code, 1, "{err}");
        // The document, or the first line of JSON Lines.
        let mut docs = serde_json::Deserializer::from_str(&out).into_iter();
        let doc: serde_json::Value = docs.next().unwrap().unwrap();
        doc
    };
    let json = secret_of(&["-f", "json"]);
    assert_eq!(json["findings"][0]["secret"], block);
    assert_eq!(secret_of(&["-f", "jsonl"])["secret"], block);
    let grouped = secret_of(&["-f", "json", "--group-by", "secret"]);
    assert_eq!(grouped["secrets"][0]["secret"], block);
    let sarif = secret_of(&["-f", "sarif"]);
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["secret"],
        block
    );
    // People read the text on one line.
    let (_, text, _) = run(scan_in(dir.path())
        .args(["key.txt", "-q", "--rules", "r.yaml"])
        .args(["--show-secrets", "--color", "never"]));
    assert!(text.contains("-----BEGIN TEST KEY-----krPq2"), "{text}");
}

#[test]
fn format_names_ignore_case() {
    let dir = leaky();
    for f in ["SARIF", "Json", "CSV", "GitHub"] {
        let (code, out, err) = run(scan_in(dir.path()).args(["-q", "-f", f]));
        assert_eq!(code, 1, "{f}: {err}");
        assert!(!out.is_empty(), "{f}");
    }
}

#[test]
fn group_by_secret_is_one_entry_per_secret() {
    let content = format!("k = \"{LEGACY}\"\n");
    let dir = tree(&[
        ("a/one.py", &content),
        ("b/two.py", &content),
        ("c/three.py", &format!("x\n{content}")),
        ("d/other.py", &format!("p = \"{PROJECT}\"\n")),
    ]);
    let (code, out, _) =
        run(scan_in(dir.path()).args(["-q", "-f", "json", "--group-by", "secret"]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "keyhound-secrets/1");
    let secrets = v["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 2);
    let legacy = &secrets[0];
    assert_eq!(legacy["rule_id"], "openai.legacy-key");
    assert_eq!(legacy["count"], 3);
    let places: Vec<(String, u64)> = legacy["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["path"].as_str().unwrap().into(),
                l["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        places,
        vec![
            ("a/one.py".into(), 1),
            ("b/two.py".into(), 1),
            ("c/three.py".into(), 2)
        ]
    );
    assert_eq!(secrets[1]["count"], 1);

    let (_, lines, _) =
        run(scan_in(dir.path()).args(["-q", "-f", "jsonl", "--group-by", "secret"]));
    assert_eq!(lines.lines().count(), 2);
    let (_, text, _) = run(scan_in(dir.path()).args(["-q", "--group-by", "secret"]));
    insta::assert_snapshot!("report_grouped_text", text);

    scan_in(dir.path())
        .args(["-f", "sarif", "--group-by", "secret"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("text, json and jsonl"));
}

fn found_rules(dir: &Path, args: &[&str]) -> (i32, Vec<(String, String)>) {
    let (code, out, err) = run(scan_in(dir).args(["-q", "-f", "jsonl"]).args(args));
    let rows = out
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l} {err}"));
            (
                v["path"].as_str().unwrap().into(),
                v["rule_id"].as_str().unwrap().into(),
            )
        })
        .collect();
    (code, rows)
}

#[test]
fn exclude_disable_and_only_rule_work_without_a_config_file() {
    let dir = leaky();
    let (_, all) = found_rules(dir.path(), &[]);
    assert_eq!(all.len(), 2);
    let (_, rows) = found_rules(dir.path(), &["--exclude", "docs/"]);
    assert_eq!(
        rows,
        vec![("app/config.py".into(), "openai.legacy-key".into())]
    );
    let (_, rows) = found_rules(dir.path(), &["--exclude", "*.md", "--exclude", "/app"]);
    assert!(rows.is_empty());
    let (_, rows) = found_rules(dir.path(), &["--only-rule", "openai.project*"]);
    assert_eq!(
        rows,
        vec![("docs/curl.md".into(), "openai.project-key".into())]
    );
    let (_, rows) = found_rules(dir.path(), &["--only-rule", "*.legacy-key"]);
    assert_eq!(
        rows,
        vec![("app/config.py".into(), "openai.legacy-key".into())]
    );
    // With the provider's rules off, the generic ones still see the assignments.
    let (_, rows) = found_rules(dir.path(), &["--disable-rule", "openai"]);
    assert!(
        rows.iter().all(|(_, r)| r.starts_with("generic.")),
        "{rows:?}"
    );
    let (code, rows) = found_rules(
        dir.path(),
        &["--disable-rule", "openai", "--disable-rule", "generic"],
    );
    assert_eq!((code, rows.len()), (0, 0));
    let (_, rows) = found_rules(
        dir.path(),
        &[
            "--only-rule",
            "openai.*",
            "--disable-rule",
            "openai.legacy-key",
        ],
    );
    assert_eq!(rows.len(), 1);

    scan_in(dir.path())
        .args(["--disable-rule", "nosuch.rule"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--disable-rule `nosuch.rule` matches no rule",
        ));
    scan_in(dir.path())
        .args(["--only-rule", "nosuch.*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no rule is left to run"));
    scan_in(dir.path())
        .args(["--exclude", "!keep"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--exclude `!keep`"));
}

#[test]
fn command_line_excludes_add_to_the_configuration() {
    let dir = leaky();
    fs::write(
        dir.path().join(".keyhound.yaml"),
        "exclude_paths: [docs/]\n",
    )
    .unwrap();
    let (_, rows) = found_rules(dir.path(), &[]);
    assert_eq!(rows.len(), 1);
    let (_, rows) = found_rules(dir.path(), &["--exclude", "app/"]);
    assert!(rows.is_empty());
}

#[test]
fn verbose_levels_go_through_the_logger() {
    let dir = leaky();
    fs::write(dir.path().join("blob.bin"), b"\x00\x01binary").unwrap();
    fs::write(dir.path().join("big.txt"), vec![b'a'; 2048]).unwrap();
    let stderr = |args: &[&str]| run(scan_in(dir.path()).args(args)).2;
    let quiet = stderr(&["--max-file-size", "1K"]);
    assert!(!quiet.contains("debug:"), "{quiet}");
    let debug = stderr(&["--max-file-size", "1K", "-vv"]);
    assert!(
        debug.contains("keyhound: debug: skipped blob.bin: binary"),
        "{debug}"
    );
    assert!(
        debug.contains("keyhound: debug: skipped big.txt: larger than --max-file-size"),
        "{debug}"
    );
    assert!(!debug.contains(LEGACY));
    let explicit = stderr(&["--max-file-size", "1K", "--log-level", "DEBUG"]);
    assert!(explicit.contains("skipped blob.bin"), "{explicit}");
    let off = stderr(&["--max-file-size", "1K", "-vv", "--log-level", "warn"]);
    assert!(!off.contains("debug:"), "{off}");
}

#[test]
fn only_valid_implies_validate() {
    let dir = leaky();
    // Every validation connection goes to a closed port on loopback: the checks run (and
    // fail), so nothing is confirmed live and --only-valid reports nothing.
    let (code, out, err) = run(scan_in(dir.path()).args([
        "-f",
        "jsonl",
        "--only-valid",
        "--connect-to",
        "::127.0.0.1:9",
        "--validation-timeout",
        "2s",
        "--validation-retries",
        "0",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("validated 2 unique secrets"), "{err}");
}

#[test]
fn completions_for_every_shell_and_the_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish", "BASH"] {
        let out = keyhound().args(["completions", shell]).assert().success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert!(text.contains("keyhound"), "{shell}");
        assert!(text.contains("group-by"), "{shell} lacks the scan flags");
    }
    keyhound().args(["completions", "tcsh"]).assert().code(2);
    let out = keyhound().arg("man").assert().success();
    let page = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(page.contains(".TH keyhound 1"), "{page}");
    assert!(page.contains("completions"));
    let out = keyhound().args(["man", "scan"]).assert().success();
    let page = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(page.contains(".TH keyhound-scan 1"), "{page}");
    assert!(page.contains("only\\-rule"), "{page}");
    keyhound()
        .args(["man", "nosuch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no command `nosuch`"));
}

#[test]
fn rules_show_explains_a_rule() {
    let out = keyhound()
        .args(["rules", "show", "github.classic-pat"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    insta::assert_snapshot!("rules_show_github_classic_pat", text);
    let out = keyhound()
        .args(["rules", "show", "aws.secret-access-key", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["id"], "aws.secret-access-key");
    assert_eq!(v["validation"]["host"], "sts.amazonaws.com");
    assert_eq!(v["validation"]["named"], "aws-sts");
    assert_eq!(v["paired_with"]["rule_id"], "aws.access-key-id");
    assert!(!v["examples"].as_array().unwrap().is_empty());
    keyhound()
        .args(["rules", "show", "github.nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("github.classic-pat"));
}
