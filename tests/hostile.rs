//! A scanned repository is hostile input: its configuration cannot make keyhound read or
//! print files outside it, cannot configure other trees, cannot hang or exhaust it; secrets
//! never reach output in full; unreadable things are listed in the reports themselves.

mod gitrepo;

use std::time::Duration;

use gitrepo::*;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A file outside the repository that must never be printed.
const OUTSIDE: &str = "https://user:ghp_outsideSecretValue0123456789abcdefgh@github.com\n";

#[cfg(unix)]
#[test]
fn a_configuration_cannot_make_keyhound_read_outside_the_repository() {
    let r = Repo::new();
    let creds = r.root.path().join("home/.git-credentials");
    std::fs::write(&creds, OUTSIDE).unwrap();
    r.write("app.env", format!("KEY={LEGACY}\n"));

    // A committed symlink as the configuration.
    std::os::unix::fs::symlink(&creds, r.path().join(".keyhound.yaml")).unwrap();
    let out = r.keyhound().args(["scan", "."]).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(".keyhound.yaml"), "{err}");
    assert!(err.contains("outside"), "{err}");
    assert!(!err.contains("outsideSecret"), "{err}");
    assert!(err.contains("--no-config"), "{err}");
    // --no-config audits it anyway.
    let out = r
        .keyhound()
        .args(["scan", ".", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    // Rule and baseline files named outside the repository.
    std::fs::remove_file(r.path().join(".keyhound.yaml")).unwrap();
    for entry in [
        format!("rules: [{}]\n", creds.display()),
        "rules: [../home/.git-credentials]\n".to_string(),
        format!("baseline: {}\n", creds.display()),
    ] {
        r.write(".keyhound.yaml", &entry);
        let out = r.keyhound().args(["scan", "."]).output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{entry}: {err}");
        assert!(err.contains("outside"), "{entry}: {err}");
        assert!(!err.contains("outsideSecret"), "{entry}: {err}");
    }
}

#[test]
fn parse_errors_never_echo_what_the_file_holds() {
    let r = Repo::new();
    // A credentials file where a configuration is expected: a YAML string, not a mapping.
    r.write(".keyhound.yaml", OUTSIDE);
    let out = r.keyhound().args(["scan", "."]).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(".keyhound.yaml"), "{err}");
    assert!(!err.contains("outsideSecret"), "{err}");
    // The same for a baseline given on the command line.
    std::fs::remove_file(r.path().join(".keyhound.yaml")).unwrap();
    r.write(
        "b.yaml",
        "version: 1\nfindings: [\"ghp_outsideSecretValue0123456789abcdefgh\"]\n",
    );
    let out = r
        .keyhound()
        .args(["scan", ".", "--baseline", "b.yaml"])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("outsideSecret"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_configuration_that_is_a_fifo_or_a_device_is_an_error_not_a_hang() {
    let r = Repo::new();
    r.write("app.env", format!("KEY={LEGACY}\n"));
    let fifo = r.path().join(".keyhound.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let out = r
        .keyhound()
        .args(["scan", "."])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");

    std::fs::remove_file(&fifo).unwrap();
    r.write(".keyhound.yaml", "baseline: zero.yaml\n");
    std::os::unix::fs::symlink("/dev/zero", r.path().join("zero.yaml")).unwrap();
    let out = r
        .keyhound()
        .args(["scan", "."])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("zero.yaml"), "{err}");

    // Rule files named by the configuration: the same limits.
    std::fs::remove_file(r.path().join("zero.yaml")).unwrap();
    r.write(".keyhound.yaml", "rules: [r.yaml, more]\n");
    let made = std::process::Command::new("mkfifo")
        .arg(r.path().join("r.yaml"))
        .status()
        .unwrap();
    assert!(made.success());
    let out = r
        .keyhound()
        .args(["scan", "."])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("r.yaml") && err.contains("not a regular file"),
        "{err}"
    );
    std::fs::remove_file(r.path().join("r.yaml")).unwrap();
    r.write(".keyhound.yaml", "rules: [more]\n");
    std::fs::create_dir(r.path().join("more")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", r.path().join("more/zero.yaml")).unwrap();
    let out = r
        .keyhound()
        .args(["scan", "."])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("zero.yaml"), "{err}");
}

#[test]
fn every_secret_on_a_line_is_redacted_in_every_format() {
    let r = Repo::new();
    r.write("both.env", format!("a={LEGACY} b={PROJECT}\n"));
    for format in ["text", "json", "jsonl", "sarif"] {
        let out = r
            .keyhound()
            .args(["scan", "both.env", "-q", "--color", "never", "-f", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let report = String::from_utf8(out.stdout).unwrap();
        for key in [LEGACY, PROJECT] {
            assert!(
                !report.contains(key),
                "{format} shows a secret in full:\n{report}"
            );
        }
        assert!(
            report.contains("b=sk-proj-"),
            "{format}: the other secret is redacted, not gone"
        );
    }
    // --show-secrets shows them.
    let out = r
        .keyhound()
        .args([
            "scan",
            "both.env",
            "-q",
            "--show-secrets",
            "--color",
            "never",
        ])
        .output()
        .unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(report.contains(LEGACY) && report.contains(PROJECT));
}

#[test]
fn a_commit_message_that_holds_the_key_does_not_show_it() {
    let r = Repo::new();
    r.write("app.env", format!("KEY={LEGACY}\n"));
    r.add(&["app.env"]);
    r.commit(&format!("Add the production key {LEGACY} for now"));
    let formats = [
        "text", "json", "jsonl", "sarif", "csv", "junit", "github", "gitlab", "html",
    ];
    for format in formats {
        let out = r
            .keyhound()
            .args(["scan", ".", "-q", "--color", "never", "-f", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let report = String::from_utf8(out.stdout).unwrap();
        assert!(
            !report.contains(LEGACY),
            "{format} shows the key in a commit summary:\n{report}"
        );
    }
    let out = r
        .keyhound()
        .args(["scan", ".", "-q", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Add the production key sk-BcZXa…(51 chars) for now"),
        "{text}"
    );
    let out = r
        .keyhound()
        .args(["scan", ".", "-q", "--color", "never", "--show-secrets"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("Add the production key {LEGACY} for now")),
        "{text}"
    );
}

/// What could change how a terminal shows text: controls but the line breaks a format writes
/// itself, DEL and C1 controls, bidirectional controls, invisible formatting.
fn shows_unsafely(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\r')
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[test]
fn hostile_names_and_commits_reach_no_format_raw() {
    let r = Repo::new();
    let name = "d/evil\u{202e}vne.txt\u{9b}31m\u{7f}.env";
    r.write(name, format!("KEY={LEGACY}\n"));
    r.add(&["."]);
    let out = r
        .git_cmd(&r.path())
        .env("GIT_AUTHOR_NAME", "Eve\u{202e}\u{9b}2J")
        .args(["commit", "-q", "-m", "add\u{202e}\u{1b}]0;t\u{7} key"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let formats = [
        "text", "json", "jsonl", "sarif", "csv", "junit", "github", "gitlab",
    ];
    for format in formats {
        let out = r
            .keyhound()
            .args(["scan", ".", "-q", "--color", "never", "-f", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let report = String::from_utf8(out.stdout).unwrap();
        assert!(
            !report.contains(shows_unsafely),
            "{format} passes text on raw:\n{report}"
        );
    }
    // JSON escapes what it must not show, so the path is still exact for programs.
    let out = r
        .keyhound()
        .args(["scan", ".", "-q", "-f", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"][0]["path"], name);
    assert_eq!(
        doc["findings"][0]["commit"]["author"],
        "Eve\u{202e}\u{9b}2J"
    );
}

#[test]
fn one_trees_configuration_does_not_govern_another() {
    let root = tempfile::tempdir().unwrap();
    let hostile = root.path().join("hostile");
    let mine = root.path().join("mine");
    std::fs::create_dir_all(&hostile).unwrap();
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        hostile.join(".keyhound.yaml"),
        "disable_rules: [openai]\nmin_confidence: high\nexclude_paths: ['*.env']\n",
    )
    .unwrap();
    std::fs::write(hostile.join("theirs.env"), format!("KEY={LEGACY}\n")).unwrap();
    std::fs::write(mine.join("mine.env"), format!("KEY={LEGACY2}\n")).unwrap();
    let r = Repo::new();
    let (code, v, err) = json(r.keyhound_in(root.path()).args(["scan", "hostile", "mine"]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(found(&v), [f("mine/mine.env", 1, "openai.legacy-key")]);
    // In either order.
    let (_, v, _) = json(r.keyhound_in(root.path()).args(["scan", "mine", "hostile"]));
    assert_eq!(found(&v), [f("mine/mine.env", 1, "openai.legacy-key")]);
}

#[test]
fn stdin_is_read_up_to_the_size_limit_only() {
    let r = Repo::new();
    let big = vec![b'a'; 300_000];
    let out = r
        .keyhound()
        .args(["scan", "-", "--max-file-size", "100K"])
        .write_stdin(big)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("stdin is larger than"), "{err}");
    // Within the limit, it is scanned.
    let out = r
        .keyhound()
        .args(["scan", "-", "-q"])
        .write_stdin(format!("KEY={LEGACY}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[cfg(unix)]
#[test]
fn a_fifo_named_as_a_path_is_skipped_and_said() {
    let r = Repo::new();
    r.write("ok.env", format!("KEY={LEGACY}\n"));
    let fifo = r.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let out = r
        .keyhound()
        .args(["scan", "pipe", "ok.env"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("1 skipped: not a regular file (a FIFO, socket or device)"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn errors_are_listed_in_machine_readable_reports() {
    let r = Repo::new();
    r.write("ok.env", format!("KEY={LEGACY}\n"));
    std::os::unix::fs::symlink(r.path().join("gone"), r.path().join("dangling")).unwrap();
    let out = r
        .keyhound()
        .args(["scan", ".", "-L", "-q", "-f", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let n = &inv["toolExecutionNotifications"][0];
    assert_eq!(n["level"], "error");
    assert!(
        n["message"]["text"].as_str().unwrap().contains("dangling"),
        "{n}"
    );
    let (code, v, _) = json(r.keyhound().args(["scan", ".", "-L", "-q"]));
    assert_eq!(code, 2);
    assert!(v["errors"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("dangling"));
}

#[test]
fn an_unborn_head_is_named_as_such() {
    let r = Repo::new();
    for args in [
        &["scan", "--since-commit", "HEAD~1"][..],
        &["scan", "--branch", "HEAD", "."],
    ] {
        let out = r.keyhound().args(args).output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("no commits yet"), "{args:?}: {err}");
        assert!(!err.contains("malformed"), "{args:?}: {err}");
    }
}

#[test]
fn a_missing_file_is_named_once_with_its_cause_once() {
    let r = Repo::new();
    let out = r
        .keyhound()
        .args(["scan", "--config", "nope.yaml"])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn a_repositorys_rule_files_may_add_rules_but_not_filters() {
    let r = Repo::new();
    r.write("app.env", format!("KEY={LEGACY}\n"));
    r.write(
        "r.yaml",
        "provider: Acme\nrules:\n  - id: acme.token\n    name: Acme token\n    \
         keywords: [acme_]\n    pattern: '\\b(acme_[a-z0-9]{10})\\b'\n    \
         rotate: https://acme.example/tokens\n    examples: [\"acme_0123456789\"]\n\
         filters:\n  placeholders: ['.']\n",
    );
    r.write(".keyhound.yaml", "rules: [r.yaml]\n");
    let out = r.keyhound().args(["scan", "."]).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("r.yaml: filters"), "{err}");
    assert!(err.contains("--rules"), "{err}");
    // Passed by the user, the same file is trusted: its filter hides everything.
    let out = r
        .keyhound()
        .args(["scan", ".", "--no-config", "--rules", "r.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}
