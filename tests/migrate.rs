//! Coming from gitleaks and Betterleaks: ignore files, report import, a repository's
//! `.gitleaks.toml`, baseline triage fields; and every format naming a history finding's
//! commit and repository.

mod gitrepo;

use std::fs;

use gitrepo::*;
use predicates::prelude::*;

/// A repository whose history holds LEGACY in `old.py` (removed since) and whose HEAD holds
/// PROJECT in `app/config.py`.
fn repo() -> (Repo, String) {
    let r = Repo::new();
    r.write("old.py", format!("x = 1\nKEY = \"{LEGACY}\"\n"));
    r.add(&["old.py"]);
    let first = r.commit("add old");
    r.git(&["rm", "-q", "old.py"]);
    r.write("app/config.py", format!("import os\nKEY = \"{PROJECT}\"\n"));
    r.add(&["app/config.py"]);
    r.commit("replace");
    (r, first)
}

#[test]
fn every_format_names_the_commit_of_a_history_finding() {
    let (r, first) = repo();
    for fmt in ["text", "json", "sarif", "csv", "junit", "github", "gitlab"] {
        let out = r
            .keyhound()
            .args(["scan", "-q", "-f", fmt])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(&first[..8]),
            "{fmt} does not name the commit:\n{text}"
        );
        assert!(!text.contains(LEGACY), "{fmt} leaked");
    }
    let out = r
        .keyhound()
        .args(["scan", "-q", "-f", "gitlab"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let old = v["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["location"]["file"] == "old.py")
        .unwrap();
    assert_eq!(old["location"]["commit"]["sha"], first.as_str());
    assert_eq!(old["location"]["commit"]["message"], "add old");
}

#[test]
fn gitleaksignore_entries_map_to_keyhound_findings() {
    let (r, first) = repo();
    let (code, v, _) = json(r.keyhound().args(["scan"]));
    assert_eq!(code, 1);
    assert_eq!(found(&v).len(), 2);
    r.write(
        ".gitleaksignore",
        format!(
            "# accepted\n{first}:old.py:openai-api-key:2\napp/config.py:openai-api-key:2\n\
             app/config.py:adafruit-api-key:2\nnot a fingerprint\n"
        ),
    );
    let (code, v, err) = json(r.keyhound().args(["scan"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["summary"]["ignore_file"], 2);
    assert!(
        err.contains(
            ".gitleaksignore:4: gitleaks rule `adafruit-api-key` has no keyhound counterpart"
        ),
        "{err}"
    );
    assert!(
        err.contains(".gitleaksignore:5: not a gitleaks fingerprint"),
        "{err}"
    );
    assert!(err.contains("2 ignored by .gitleaksignore"), "{err}");
    // A commit entry only matches that commit; a wrong line matches nothing.
    r.write(
        ".gitleaksignore",
        format!(
            "{}:old.py:openai-api-key:2\napp/config.py:openai-api-key:1\n",
            r.head()
        ),
    );
    let (_, v, _) = json(r.keyhound().args(["scan"]));
    assert_eq!(found(&v).len(), 2);
    // Betterleaks' file too; --no-config turns both off.
    fs::remove_file(r.path().join(".gitleaksignore")).unwrap();
    r.write(".betterleaksignore", "app/config.py:openai-api-key:2\n");
    let (_, v, _) = json(r.keyhound().args(["scan"]));
    assert_eq!(found(&v), vec![f("old.py", 2, "openai.legacy-key")]);
    let (_, v, _) = json(r.keyhound().args(["scan", "--no-config"]));
    assert_eq!(found(&v).len(), 2);
}

#[cfg(unix)]
#[test]
fn an_ignore_file_outside_the_repository_is_refused() {
    let (r, _) = repo();
    let outside = r.home().join("elsewhere");
    fs::write(&outside, "app/config.py:openai-api-key:2\n").unwrap();
    std::os::unix::fs::symlink(&outside, r.path().join(".gitleaksignore")).unwrap();
    r.keyhound()
        .args(["scan", "-q"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("resolves outside"));
}

#[test]
fn a_gitleaks_report_becomes_a_baseline() {
    let (r, _) = repo();
    let report = serde_json::json!([
        {"RuleID": "openai-api-key", "Secret": PROJECT, "File": "app/config.py", "StartLine": 2},
        {"RuleID": "openai-api-key", "Secret": "REDACTED", "File": "x", "StartLine": 1},
        {"RuleID": "adafruit-api-key", "Secret": "0123456789abcdef0123456789abcdef", "File": "y"},
    ]);
    r.write("gitleaks.json", report.to_string());
    r.keyhound()
        .args([
            "baseline",
            "import",
            "gitleaks.json",
            "--reason",
            "before keyhound",
            "-o",
        ])
        .arg(r.path().join("bl.yaml"))
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "1 finding skipped: the report redacted the secret",
        ))
        .stderr(predicate::str::contains("gitleaks rule `adafruit-api-key`"))
        .stderr(predicate::str::contains("imported 2 of 3 findings"));
    let text = r.read("bl.yaml");
    assert!(text.contains("rule_id: openai.project-key"), "{text}");
    assert!(text.contains("reason: before keyhound"), "{text}");
    assert!(!text.contains(PROJECT));
    let (code, v, _) = json(r.keyhound().args(["scan", "--baseline", "bl.yaml"]));
    assert_eq!(code, 1);
    assert_eq!(found(&v), vec![f("old.py", 2, "openai.legacy-key")]);
    // The key in app/config.py and its copy in gitleaks.json itself.
    assert_eq!(v["summary"]["baselined"], 2);

    r.write(
        "redacted.json",
        r#"[{"RuleID":"openai-api-key","Secret":"REDACTED"}]"#,
    );
    r.keyhound()
        .args(["baseline", "import", "redacted.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("without --redact"));
    r.write("bad.json", r#"{"not": "a report"}"#);
    r.keyhound()
        .args(["baseline", "import", "bad.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "not a gitleaks or Betterleaks JSON report",
        ));
}

#[test]
fn baseline_triage_fields_and_expiry() {
    let (r, _) = repo();
    r.keyhound()
        .args([
            "baseline",
            "create",
            "-q",
            "--reason",
            "test keys",
            "--owner",
            "sec-team",
            "--expires",
            "2020-01-31",
            "-o",
        ])
        .arg(r.path().join(".keyhound-baseline.yaml"))
        .assert()
        .success();
    let text = r.read(".keyhound-baseline.yaml");
    for want in [
        "reason: test keys",
        "owner: sec-team",
        "expires: 2020-01-31",
    ] {
        assert!(text.contains(want), "{text}");
    }
    // Expired: the entries no longer suppress, and each is named.
    let (code, v, err) = json(r.keyhound().args(["scan"]));
    assert_eq!(code, 1);
    assert_eq!(found(&v).len(), 2);
    assert_eq!(
        err.matches("expired on 2020-01-31 (owner sec-team): it no longer suppresses")
            .count(),
        2,
        "{err}"
    );
    // Not yet expired: they do.
    let later = text.replace("2020-01-31", "2999-12-31");
    r.write(".keyhound-baseline.yaml", &later);
    let (code, v, err) = json(r.keyhound().args(["scan"]));
    assert_eq!((code, found(&v).len()), (0, 0), "{err}");
    assert!(!err.contains("expired"));
    r.write(
        ".keyhound-baseline.yaml",
        later.replace("2999-12-31", "someday"),
    );
    r.keyhound()
        .args(["scan", "-q"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`expires` is not a date"));
    r.keyhound()
        .args(["baseline", "create", "--expires", "tomorrow"])
        .assert()
        .code(2);
}

#[test]
fn a_repository_gitleaks_toml_adds_its_rules_with_warnings() {
    let r = Repo::new();
    r.write(
        ".gitleaks.toml",
        "title = \"acme\"\n\n[[rules]]\nid = \"acme-token\"\ndescription = \"Acme token\"\n\
         regex = '''acme_[a-z0-9]{20}'''\nkeywords = [\"acme_\"]\npath = '''\\.py$'''\n",
    );
    // A random, format-exact fake for the rule above.
    r.write("svc.py", "token = \"acme_q8w7e6r5t4y3u2i1o0p9\"\n");
    r.add(&[".gitleaks.toml", "svc.py"]);
    r.commit("acme");
    let (code, v, err) = json(r.keyhound().args(["scan"]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(found(&v), vec![f("svc.py", 1, "gitleaks.acme-token")]);
    assert!(err.contains("rule `acme-token`: `path` ignored"), "{err}");
    assert!(!err.contains("acme_q8w7"), "{err}");
    let (_, v, _) = json(r.keyhound().args(["scan", "--no-config"]));
    assert!(found(&v)
        .iter()
        .all(|(_, _, rule)| rule != "gitleaks.acme-token"));
    // The ignore file can name the imported rule by its gitleaks id.
    r.write(".gitleaksignore", "svc.py:acme-token:1\n");
    let (code, _, err) = json(r.keyhound().args(["scan"]));
    assert_eq!(code, 0, "{err}");
}
