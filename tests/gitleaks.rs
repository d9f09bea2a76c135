//! `--rules FILE.toml`: gitleaks configs imported as keyhound rules. The fixture
//! `tests/data/gitleaks/acme.toml` is a team config in gitleaks' format with rules keyhound can
//! use, fields it cannot, and rules it must skip; every secret below is made up.

mod cmd;

use cmd::{keyhound, tree};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use predicates::prelude::*;
use tempfile::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gitleaks")
        .join(name)
}

/// Files with one line per case: what the imported rules must find, and what their
/// allowlists, stopwords and entropy threshold must suppress.
fn leaky() -> TempDir {
    tree(&[
        (
            "app.env",
            "ACME_KEY=acme_live_ujzde8gxd6ncf10epf91dhod\n\
             ACME_DEPLOY_TOKEN = \"XsiVpzz63FfkCzJr4i0B3JrTAwR4y9oj\"\n\
             signing: wdg_sig.254770f58904dba41ecccc3fc1626e53a13043b0\n\
             legacy = LK-139624-LTLPDD\n\
             hook = https://hooks.acme.test/services/2FDEEtfjgVvVqE1SkHbn\n\
             acmehook:Q7rT2mXc9Lp4Vb8Nz3Kd # hook\n",
        ),
        (
            "settings.txt",
            // The rule's `path` (`\.acme$`) is ignored, and so is its line allowlist.
            "acme_password = \"88HxjSI6bWHt\" # nosecret\n",
        ),
        (
            "allowed.env",
            // Rule allowlist regex, rule stopword (case-insensitive), global stopword,
            // entropy below 3.5, and a template reference in the global allowlist.
            "A=acme_live_docs1u33xtplpft75v2seh60\n\
             B=acme_live_4edt2sywdocsonlyb3wkh5dn\n\
             C=acme_live_testonlykvj50ce9uvw53efr\n\
             D=acme_live_abababababababababababab\n",
        ),
    ])
}

/// `(rule id, secret)` of every finding of an imported rule.
fn imported_findings(stdout: &[u8]) -> BTreeSet<(String, String)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with("gitleaks."))
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_scan_with_a_gitleaks_config_finds_what_its_rules_describe() {
    let dir = leaky();
    let out = keyhound()
        .current_dir(dir.path())
        .arg("scan")
        .arg(".")
        .args(["--no-history", "-f", "jsonl", "--show-secrets", "--rules"])
        .arg(fixture("acme.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let want: BTreeSet<(String, String)> = [
        (
            "gitleaks.acme-api-key",
            "acme_live_ujzde8gxd6ncf10epf91dhod",
        ),
        // secretGroup = 2
        (
            "gitleaks.acme-deploy-token",
            "XsiVpzz63FfkCzJr4i0B3JrTAwR4y9oj",
        ),
        // No keywords in the file: derived from the regex. The id is made a keyhound id.
        (
            "gitleaks.widget-signing-secret",
            "254770f58904dba41ecccc3fc1626e53a13043b0",
        ),
        // Keyword `lk` too short: derived `lk-` instead.
        ("gitleaks.legacy-key", "139624-LTLPDD"),
        // No secretGroup and two groups: whichever matched, as gitleaks does.
        ("gitleaks.acme-webhook", "2FDEEtfjgVvVqE1SkHbn"),
        ("gitleaks.acme-webhook", "Q7rT2mXc9Lp4Vb8Nz3Kd"),
        ("gitleaks.acme-config-password", "88HxjSI6bWHt"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(imported_findings(&out.stdout), want);

    let stderr = String::from_utf8(out.stderr).unwrap();
    for expected in [
        "acme.toml: imported 6 of 9 gitleaks rules (3 skipped)",
        "`extend.useDefault` ignored: keyhound does not import gitleaks' default rules",
        "`allowlists[0].paths` ignored: keyhound does not allowlist by path",
        "`tags` ignored: keyhound rules have no tags (set on 1 rule)",
        "rule `acme-config-password`: `path` ignored",
        "rule `acme-config-password`: `severity` ignored: not a gitleaks rule field",
        "rule `acme-config-password`: `allowlists[0].regexTarget` ignored: `line`",
        "rule `acme-config-password`: `allowlists[1].commits` ignored",
        "rule `legacy-key`: `keywords` changed: `lk` is shorter than 3 bytes",
        "rule `Widget_Signing_Secret`: `keywords` changed: none given",
        "rule `acme-keystore` skipped: `path`: a rule with only a path flags files by name",
        "rule `broken-token` skipped: `regex`: does not compile in keyhound's dialect",
        "rule `numeric-pin` skipped: `keywords`: none given, and the regex has no literal",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    // The global allowlist's `^\${[A-Z_]+}$` is Go syntax that keyhound rewrites, not rejects.
    assert!(!stderr.contains("`allowlists[1].regexes"), "{stderr}");
    // Each warning names the file and line.
    assert!(
        stderr
            .lines()
            .filter(|l| l.starts_with("keyhound: warning:"))
            .all(|l| l.contains("acme.toml:")),
        "{stderr}"
    );
}

#[test]
fn quiet_scans_print_no_import_warnings() {
    let dir = leaky();
    keyhound()
        .current_dir(dir.path())
        .args(["scan", ".", "--no-history", "-q", "--rules"])
        .arg(fixture("acme.toml"))
        .assert()
        .code(1)
        .stderr(predicate::str::is_empty());
}

#[test]
fn rules_list_shows_imported_rules() {
    let out = keyhound()
        .args(["rules", "list", "--json", "--rules"])
        .arg(fixture("acme.toml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let imported: Vec<&serde_json::Value> = rules
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"].as_str().unwrap().starts_with("gitleaks."))
        .collect();
    assert_eq!(imported.len(), 6);
    let legacy = imported
        .iter()
        .find(|r| r["id"] == "gitleaks.legacy-key")
        .unwrap();
    assert_eq!(legacy["provider"], "Acme Corp secret rules");
    assert_eq!(legacy["name"], "Legacy Acme key");
    assert_eq!(legacy["keywords"], serde_json::json!(["lk-"]));
    // Imported rules never carry a live check.
    assert!(imported.iter().all(|r| r["validation"].is_null()));
}

#[test]
fn rules_check_fails_on_skipped_rules_and_passes_on_a_clean_config() {
    keyhound()
        .args(["rules", "check"])
        .arg(fixture("acme.toml"))
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "rule `acme-keystore`: not imported: `path`",
        ))
        .stdout(predicate::str::contains(
            "rule `broken-token`: not imported",
        ))
        .stdout(predicate::str::contains("rule `numeric-pin`: not imported"))
        // Imported rules have no examples and no rotate URL; neither is a problem.
        .stdout(predicate::str::contains("has no examples").not())
        .stdout(predicate::str::contains("rotate").not())
        .stderr(predicate::str::contains("6 rules checked, 3 problems"));
    keyhound()
        .args(["rules", "check"])
        .arg(fixture("clean.toml"))
        .assert()
        .success()
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("imported 1 of 1 gitleaks rule\n"))
        .stderr(predicate::str::contains("1 rules checked"));
}

#[test]
fn a_config_with_nothing_usable_is_an_error() {
    let dir = tree(&[(
        "only-paths.toml",
        "[[rules]]\nid = \"p12\"\npath = '''\\.p12$'''\n",
    )]);
    keyhound()
        .current_dir(dir.path())
        .args(["scan", ".", "--rules", "only-paths.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "only-paths.toml: no rule could be imported",
        ))
        .stderr(predicate::str::contains("rule `p12` skipped: `path`"));
}

#[test]
fn a_file_that_is_not_toml_names_line_and_column() {
    let dir = tree(&[("bad.toml", "title = \"x\"\n[[rules]\nid = 1\n")]);
    keyhound()
        .current_dir(dir.path())
        .args(["rules", "list", "--rules", "bad.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml:2:"));
}

#[test]
fn toml_files_in_rule_directories_are_not_imported() {
    // A directory of YAML rules may sit next to unrelated TOML (Cargo.toml, pyproject.toml).
    let dir = tree(&[
        ("rules/Cargo.toml", "[package]\nname = \"x\"\n"),
        (
            "rules/acme.yaml",
            "provider: Acme\nrules:\n  - id: acme.token\n    name: Acme token\n    \
             keywords: [acme_]\n    pattern: '\\b(acme_[a-z0-9]{12})\\b'\n    \
             rotate: https://acme.test/tokens\n    examples: ['acme_k3j5h7g9f2d4']\n",
        ),
    ]);
    keyhound()
        .current_dir(dir.path())
        .args(["rules", "check", "rules"])
        .assert()
        .success()
        .stderr(predicate::str::contains("gitleaks").not());
}
