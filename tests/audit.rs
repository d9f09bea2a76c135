//! The audit report says exactly what is so: the introducing commit by ancestry, commit counts
//! per path, repositories found below a PATH, secrets in commit messages, `.gitignore` only
//! inside work trees, a report never left half written, the repository's own baseline.

mod gitrepo;

use std::path::Path;

use gitrepo::*;

// Random, format-exact fakes (rule examples).
const KEY_A: &str = LEGACY;
const KEY_B: &str = LEGACY2;

/// Commits what is staged with a fixed author date (committer date alike).
fn commit_dated(r: &Repo, msg: &str, date: &str) -> String {
    let out = r
        .git_cmd(&r.path())
        .args(["commit", "-q", "--no-verify", "--allow-empty", "-m", msg])
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    r.head()
}

fn scan(r: &Repo, args: &[&str]) -> (i32, serde_json::Value, String) {
    json(r.keyhound().arg("scan").args(args))
}

fn findings(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v["findings"].as_array().unwrap()
}

#[test]
fn the_introducing_commit_is_found_by_ancestry_not_by_date() {
    let r = Repo::new();
    // Three commits in the same second: only ancestry can tell them apart.
    r.write("README.md", "one\n");
    r.add(&["."]);
    commit_dated(&r, "first", "2024-03-01T10:00:00Z");
    r.write("app.env", format!("TOKEN={KEY_A}\n"));
    r.add(&["."]);
    let added = commit_dated(&r, "add the key", "2024-03-01T10:00:00Z");
    r.write("README.md", "two\n");
    r.add(&["."]);
    commit_dated(&r, "third", "2024-03-01T10:00:00Z");
    r.git(&["rm", "-q", "app.env"]);
    commit_dated(&r, "remove it", "2024-03-01T10:00:00Z");

    let (code, v, stderr) = scan(&r, &["."]);
    assert_eq!(code, 1, "{stderr}");
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "{v}");
    assert_eq!(fs[0]["commit"]["id"], added.as_str());
    assert_eq!(fs[0]["history"]["commits"], 2);

    // A commit whose author date is older than its parent's (a rebase keeps author dates):
    // it still comes after its parent.
    let r = Repo::new();
    r.write("README.md", "base\n");
    r.add(&["."]);
    commit_dated(&r, "base", "2024-05-01T00:00:00Z");
    r.write("deploy.env", format!("TOKEN={KEY_B}\n"));
    r.add(&["."]);
    let parent = commit_dated(&r, "the key arrives", "2024-05-02T00:00:00Z");
    r.write("deploy.env", format!("# note\nTOKEN={KEY_B}\n"));
    r.add(&["."]);
    commit_dated(&r, "rebased, older author date", "2023-01-01T00:00:00Z");
    let (_, v, _) = scan(&r, &["--history-only", "."]);
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "{v}");
    assert_eq!(fs[0]["commit"]["id"], parent.as_str());
    assert_eq!(fs[0]["line"], 1, "the line in the introducing version");
}

#[test]
fn a_key_on_three_lines_across_five_commits_counts_five() {
    let r = Repo::new();
    for i in 0..5 {
        let body = format!("# version {i}\nA={KEY_A}\nB={KEY_A}\nC={KEY_A}\n");
        r.write("keys.env", body);
        r.add(&["."]);
        r.commit(&format!("version {i}"));
    }
    r.git(&["rm", "-q", "keys.env"]);
    r.commit("gone");
    let (code, v, _) = scan(&r, &["."]);
    assert_eq!(code, 1);
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "one secret at one path: {v}");
    assert_eq!(fs[0]["history"]["commits"], 5);
    assert_eq!(fs[0]["line"], 2);
}

#[test]
fn a_folder_of_clones_scans_each_history_with_its_repository() {
    let root = tempfile::tempdir().unwrap();
    let make = |name: &str, key: &str| {
        let r = Repo::new();
        r.write("secret.env", format!("KEY={key}\n"));
        r.add(&["."]);
        r.commit("add");
        r.git(&["rm", "-q", "secret.env"]);
        r.commit("remove");
        r.git(&[
            "remote",
            "add",
            "origin",
            "https://user:tok@git.example/team/x.git",
        ]);
        let dest = root.path().join(name);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::rename(r.path(), &dest).unwrap();
        r
    };
    let _a = make("alpha", KEY_A);
    let b = make("deeper/beta", KEY_B);
    let (code, v, stderr) = json(b.keyhound_in(root.path()).args(["scan", "."]));
    assert_eq!(code, 1, "{stderr}");
    let mut got: Vec<(String, String)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["repository"]["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("alpha/secret.env".to_string(), "alpha".to_string()),
            (
                "deeper/beta/secret.env".to_string(),
                "deeper/beta".to_string()
            )
        ]
    );
    // The remote URL is reported without its credentials.
    let remote = findings(&v)[0]["repository"]["remote"].as_str().unwrap();
    assert_eq!(remote, "https://git.example/team/x.git");
    assert_eq!(v["summary"]["repositories"], 2);
}

#[test]
fn a_key_in_a_commit_message_points_at_the_commit() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.add(&["."]);
    let c = r.commit(&format!(
        "Deploy fix\n\nused OPENAI_API_KEY={KEY_A} to test"
    ));
    let (code, v, _) = scan(&r, &["."]);
    assert_eq!(code, 1);
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "{v}");
    assert_eq!(fs[0]["origin"], "commit-message");
    assert_eq!(fs[0]["commit"]["id"], c.as_str());
    assert_eq!(fs[0]["line"], 3, "the line in the whole message");
    assert_eq!(fs[0]["path"], "<commit message>");
}

#[test]
fn gitignore_means_something_only_inside_a_work_tree() {
    // A copy of a project without .git (a release tarball, a build context): every file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitignore"), ".env\n").unwrap();
    std::fs::write(dir.path().join(".env"), format!("KEY={KEY_A}\n")).unwrap();
    let r = Repo::new();
    let (code, v, _) = json(r.keyhound_in(dir.path()).args(["scan", "."]));
    assert_eq!(code, 1);
    assert_eq!(found(&v), [f(".env", 1, "openai.legacy-key")]);

    // In a work tree the ignored file cannot be committed: skipped, and counted.
    r.write(".gitignore", ".env\n");
    r.write(".env", format!("KEY={KEY_A}\n"));
    r.add(&[".gitignore"]);
    r.commit("ignore .env");
    let out = r.keyhound().args(["scan", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("1 ignored by .gitignore"), "{stderr}");
    assert!(stderr.contains("--no-ignore"), "{stderr}");
    let (code, _, _) = scan(&r, &[".", "--no-ignore"]);
    assert_eq!(code, 1);
}

#[test]
fn output_into_a_missing_directory_fails_before_scanning() {
    let r = Repo::new();
    r.write("a.env", format!("KEY={KEY_A}\n"));
    let out = r
        .keyhound()
        .args(["scan", ".", "-o", "no/such/dir/report.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("no/such/dir/report.json"), "{stderr}");
    assert!(
        !stderr.contains("finding"),
        "it failed before scanning: {stderr}"
    );

    // A finished report replaces the old one whole; no temporary file is left behind.
    let report = r.path().join("report.json");
    std::fs::write(&report, "old").unwrap();
    let out = r
        .keyhound()
        .args(["scan", "a.env", "-q", "-f", "json", "-o"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(r.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());

    // A target that is not a regular file is written in place, never renamed over.
    #[cfg(unix)]
    {
        let real = r.path().join("real.json");
        let link = r.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        std::fs::write(&real, "").unwrap();
        let out = r
            .keyhound()
            .args(["scan", "a.env", "-q", "-f", "json", "-o"])
            .arg(&link)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert!(std::fs::read_to_string(&real)
            .unwrap()
            .contains("openai.legacy-key"));
    }
}

fn baseline_of(r: &Repo, path: &Path) {
    let out = r
        .keyhound()
        .args(["baseline", "create", ".", "-q", "-o"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_repository_baseline_is_found_without_a_flag() {
    let r = Repo::new();
    r.write("app/a.env", format!("KEY={KEY_A}\n"));
    r.write("lib/b.env", format!("KEY={KEY_B}\n"));
    r.add(&["."]);
    r.commit("keys");
    baseline_of(&r, &r.path().join(".keyhound-baseline.yaml"));

    let out = r.keyhound().args(["scan", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 baselined"));
    let (code, v, _) = scan(&r, &[".", "--no-baseline"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 2);

    // A subdirectory: the other entry is not stale, it is only out of view.
    let out = r.keyhound().args(["scan", "app"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("stale"), "{stderr}");
    // The whole repository, with one key gone: that entry is stale.
    r.git(&["rm", "-q", "lib/b.env"]);
    r.commit("drop b");
    r.git(&["reflog", "expire", "--expire=now", "--all"]);
    r.git(&["gc", "-q", "--prune=now"]);
    let filtered = r.git_output(&[
        "filter-branch",
        "-f",
        "--index-filter",
        "git rm -q --cached --ignore-unmatch lib/b.env",
        "HEAD",
    ]);
    assert!(
        filtered.status.success(),
        "{}",
        String::from_utf8_lossy(&filtered.stderr)
    );
    r.git(&["update-ref", "-d", "refs/original/refs/heads/main"]);
    r.git(&["reflog", "expire", "--expire=now", "--all"]);
    r.git(&["gc", "-q", "--prune=now"]);
    let out = r.keyhound().args(["scan", "."]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("1 stale baseline entry"), "{stderr}");
}

#[test]
fn history_statistics_only_with_verbose() {
    let r = Repo::new();
    r.write("README.md", "x\n");
    r.add(&["."]);
    r.commit("one");
    let quiet = r.keyhound().args(["scan", "."]).output().unwrap();
    let quiet = String::from_utf8(quiet.stderr).unwrap();
    assert!(!quiet.contains("packs"), "{quiet}");
    let loud = r.keyhound().args(["scan", ".", "-v"]).output().unwrap();
    let loud = String::from_utf8(loud.stderr).unwrap();
    assert!(loud.contains("history of 1 commits"), "{loud}");
}

#[test]
fn a_key_in_the_messages_of_two_repositories_is_reported_in_each() {
    let root = tempfile::tempdir().unwrap();
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.add(&["."]);
    let c = r.commit(&format!("Deploy with OPENAI_API_KEY={KEY_A}"));
    let origin = r.path().to_str().unwrap().to_string();
    // A clone holds the same commit; another repository quotes the key in its own.
    r.run_in(root.path(), &["clone", "-q", &origin, "clone"]);
    r.run_in(root.path(), &["init", "-q", "other"]);
    let other = root.path().join("other");
    r.run_in(
        &other,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            &format!("key {KEY_A}"),
        ],
    );
    let d = r.run_in(&other, &["rev-parse", "HEAD"]).trim().to_string();
    std::fs::rename(r.path(), root.path().join("first")).unwrap();

    let (code, v, stderr) = json(r.keyhound_in(root.path()).args(["scan", "."]));
    assert_eq!(code, 1, "{stderr}");
    let mut got: Vec<(String, String)> = findings(&v)
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap().to_string();
            (path, f["commit"]["id"].as_str().unwrap().to_string())
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("clone/<commit message>".to_string(), c.clone()),
            ("first/<commit message>".to_string(), c),
            ("other/<commit message>".to_string(), d),
        ]
    );
}
