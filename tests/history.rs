//! Git history scans on repositories built by the tests with the git CLI: provenance, scope
//! (refs, tags, dangling objects, one branch), repository shapes (bare, shallow, packed,
//! worktrees, alternates) and damaged objects.

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

// Random, format-exact fakes (rule examples).
const KEY_A: &str = "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";
const KEY_B: &str = "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";

/// A scratch repository driven through the git CLI with an isolated environment and
/// deterministic dates.
struct Repo {
    _tmp: TempDir,
    dir: PathBuf,
    clock: u32,
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Std::new("git")
        .current_dir(dir)
        .args(args)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.invalid")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.invalid")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl Repo {
    fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        std::fs::create_dir(&dir).unwrap();
        git_in(&dir, &["init", "-q", "-b", "main"]);
        Repo {
            _tmp: tmp,
            dir,
            clock: 0,
        }
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(&self.dir, args)
    }

    fn write(&self, path: &str, content: &str) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Stages everything and commits with a date one day after the previous commit.
    fn commit(&mut self, msg: &str) -> String {
        self.clock += 1;
        let date = format!("2024-01-{:02}T12:00:00Z", self.clock);
        self.commit_at(msg, &date)
    }

    /// Stages everything and commits with this author and committer date.
    fn commit_at(&mut self, msg: &str, date: &str) -> String {
        self.git(&["add", "-A"]);
        let out = Std::new("git")
            .current_dir(&self.dir)
            .args(["commit", "-q", "--allow-empty", "-m", msg])
            .env("HOME", &self.dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.invalid")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.invalid")
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.git(&["rev-parse", "HEAD"])
    }
}

struct Scan {
    code: i32,
    json: Value,
    stderr: String,
}

fn scan(dir: &Path, args: &[&str]) -> Scan {
    let out = Command::cargo_bin("keyhound")
        .unwrap()
        .current_dir(dir)
        .args(["scan", "-f", "json"])
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Scan {
        code: out.status.code().unwrap(),
        json,
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn findings(s: &Scan) -> Vec<&Value> {
    s.json["findings"].as_array().unwrap().iter().collect()
}

/// Findings as (path, commit id or "", in_head) for easy comparison.
fn summary(s: &Scan) -> Vec<(String, String, bool)> {
    findings(s)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["commit"]["id"].as_str().unwrap_or("").to_string(),
                f["history"]["in_head"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[test]
fn a_key_added_then_deleted_is_found_with_its_first_commit() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("first");
    r.write("config/.env", &format!("OPENAI_API_KEY={KEY_A}\n"));
    let added = r.commit("add config");
    r.git(&["rm", "-q", "config/.env"]);
    r.commit("remove the key");
    r.write("README.md", "hello again\n");
    r.commit("later");

    let s = scan(&r.dir, &["."]);
    assert_eq!(s.code, 1, "{}", s.stderr);
    assert_eq!(summary(&s), [("config/.env".to_string(), added, false)]);
    let f = findings(&s)[0];
    assert_eq!(f["line"], 1);
    assert_eq!(f["column"], 16);
    assert_eq!(f["commit"]["author"], "Ada Lovelace");
    assert_eq!(f["commit"]["date"], "2024-01-02T12:00:00Z");
    assert_eq!(f["commit"]["summary"], "add config");
    assert_eq!(f["history"]["commits"], 1);
    assert!(f["history"]["action"]
        .as_str()
        .unwrap()
        .starts_with("only in history"));
    // The working tree alone knows nothing of it.
    let tree = scan(&r.dir, &[".", "--no-history"]);
    assert_eq!(tree.code, 0);
}

#[test]
fn a_key_whose_line_moves_is_one_finding_at_heads_line() {
    let mut r = Repo::new();
    r.write("app/settings.py", &format!("KEY = \"{KEY_A}\"\n"));
    let first = r.commit("settings");
    r.write("app/other.py", "x = 1\n");
    r.commit("other");
    r.write(
        "app/settings.py",
        &format!("# comment\nKEY = \"{KEY_A}\"\n"),
    );
    r.commit("edit settings");

    let s = scan(&r.dir, &["."]);
    // The file on disk and the older version in history hold the same secret at the same
    // path: one finding, at HEAD's line, with its history attached.
    assert_eq!(
        summary(&s),
        [("app/settings.py".to_string(), first.clone(), true)],
        "{}\n{}",
        s.json,
        s.stderr
    );
    let f = findings(&s)[0];
    assert_eq!(f["line"], 2);
    assert_eq!(f["origin"], "file");
    assert_eq!(f["history"]["commits"], 3);
    assert_eq!(f["repository"]["path"], ".");
    assert!(f["history"]["action"]
        .as_str()
        .unwrap()
        .starts_with("still in HEAD"));

    // Only history: once, at the introducing version's line, with the commit beside it.
    let s = scan(&r.dir, &["--history-only", "."]);
    assert_eq!(
        summary(&s),
        [("app/settings.py".to_string(), first.clone(), true)]
    );
    assert_eq!(findings(&s)[0]["line"], 1);
    assert_eq!(findings(&s)[0]["origin"], "history");
    let text = Command::cargo_bin("keyhound")
        .unwrap()
        .current_dir(&r.dir)
        .args(["scan", "--history-only", ".", "-q", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with(&format!("app/settings.py:1:8 @ {}", &first[..8])),
        "{text}"
    );
}

#[test]
fn one_blob_under_two_paths_in_many_commits_is_scanned_once() {
    let mut r = Repo::new();
    let content = format!("token = \"{KEY_B}\"\n");
    r.write("a/one.py", &content);
    r.write("b/two.py", &content);
    let first = r.commit("two copies");
    for i in 0..5 {
        r.write("counter.txt", &format!("{i}\n"));
        r.commit(&format!("bump {i}"));
    }
    let s = scan(&r.dir, &[".", "--history-only"]);
    // Three distinct blobs with content: the secret file and two versions... of counter.txt
    // plus the secret: each distinct blob is scanned once.
    let blobs = s.json["summary"]["blobs"].as_u64().unwrap();
    assert_eq!(blobs, 6, "1 secret blob + 5 counter versions");
    // One finding per path, each introduced by the first commit and held by all six.
    let got = summary(&s);
    assert_eq!(
        got,
        [
            ("a/one.py".to_string(), first.clone(), true),
            ("b/two.py".to_string(), first.clone(), true)
        ]
    );
    for f in findings(&s) {
        assert_eq!(f["history"]["commits"], 6);
    }

    // With the working tree, the blob is reported under both of its paths.
    let s = scan(&r.dir, &["."]);
    let paths: Vec<String> = summary(&s).into_iter().map(|x| x.0).collect();
    assert_eq!(paths, ["a/one.py", "b/two.py"]);
}

#[test]
fn a_commit_only_a_tag_reaches_is_scanned() {
    let mut r = Repo::new();
    r.write("README.md", "base\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "release"]);
    r.write("deploy.sh", &format!("export OPENAI_API_KEY={KEY_A}\n"));
    let tagged = r.commit("release build");
    r.git(&["tag", "-a", "v1.0", "-m", "v1.0"]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["branch", "-q", "-D", "release"]);
    let s = scan(&r.dir, &["."]);
    assert_eq!(summary(&s), [("deploy.sh".to_string(), tagged, false)]);
}

#[test]
fn a_dangling_commit_needs_all_objects() {
    let mut r = Repo::new();
    r.write("README.md", "base\n");
    r.commit("base");
    r.write("oops.env", &format!("KEY={KEY_B}\n"));
    let dropped = r.commit("oops");
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);

    let s = scan(&r.dir, &["."]);
    assert_eq!(s.code, 0, "{:?}", summary(&s));
    let s = scan(&r.dir, &[".", "--all-objects"]);
    assert_eq!(s.code, 1);
    assert_eq!(summary(&s), [("oops.env".to_string(), dropped, false)]);
    assert_eq!(findings(&s)[0]["history"]["reachable"], false);
}

#[test]
fn branch_limits_the_history() {
    let mut r = Repo::new();
    r.write("README.md", "base\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("feature.py", &format!("k = '{KEY_A}'\n"));
    r.commit("feature");
    r.git(&["checkout", "-q", "main"]);

    let main = scan(&r.dir, &[".", "--history-only", "--branch", "main"]);
    assert_eq!(main.code, 0);
    let feature = scan(&r.dir, &[".", "--history-only", "--branch", "feature"]);
    assert_eq!(feature.code, 1);
    let all = scan(&r.dir, &[".", "--history-only"]);
    assert_eq!(all.code, 1);
}

#[test]
fn packed_and_loose_objects_give_the_same_answer() {
    let mut r = Repo::new();
    r.write("README.md", "base\n");
    r.commit("base");
    r.write("keys.txt", &format!("{KEY_A}\n"));
    let added = r.commit("keys");
    r.git(&["rm", "-q", "keys.txt"]);
    r.commit("gone");
    let loose = summary(&scan(&r.dir, &["."]));
    r.git(&["gc", "-q", "--aggressive"]);
    assert!(
        std::fs::read_dir(r.dir.join(".git/objects/pack"))
            .unwrap()
            .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "pack")),
        "gc made a pack"
    );
    // A new loose object next to the pack.
    r.write("later.txt", &format!("{KEY_B}\n"));
    let later = r.commit("later");
    let s = scan(&r.dir, &["--history-only", "-v", "."]);
    let mut got = summary(&s);
    got.sort();
    assert_eq!(loose, [("keys.txt".to_string(), added.clone(), false)]);
    assert_eq!(
        got,
        [
            ("keys.txt".to_string(), added, false),
            ("later.txt".to_string(), later, true)
        ]
    );
    assert!(s.stderr.contains("1 packs"), "{}", s.stderr);
}

#[test]
fn bare_shallow_worktree_and_alternates_repositories() {
    let mut r = Repo::new();
    r.write("old.env", &format!("KEY={KEY_A}\n"));
    let old = r.commit("old");
    r.git(&["rm", "-q", "old.env"]);
    r.commit("rm");
    r.write("new.env", &format!("KEY={KEY_B}\n"));
    let new = r.commit("new");
    let parent = r.dir.parent().unwrap().to_path_buf();
    let url = format!("file://{}", r.dir.display());

    // Bare: history only, nothing on disk to walk.
    git_in(
        &parent,
        &["clone", "-q", "--bare", r.dir.to_str().unwrap(), "bare.git"],
    );
    let s = scan(&parent.join("bare.git"), &["."]);
    let mut got = summary(&s);
    got.sort();
    assert_eq!(
        got,
        [
            ("new.env".to_string(), new.clone(), true),
            ("old.env".to_string(), old.clone(), false)
        ]
    );

    // Shallow: the older commit is cut off, and the scan says so.
    git_in(&parent, &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let s = scan(&parent.join("shallow"), &["--history-only", "."]);
    assert_eq!(summary(&s), [("new.env".to_string(), new.clone(), true)]);
    assert!(s.stderr.contains("shallow clone"), "{}", s.stderr);

    // A linked worktree shares the main repository's objects and refs.
    r.git(&["worktree", "add", "-q", "../linked"]);
    let s = scan(&parent.join("linked"), &["--history-only", "."]);
    assert_eq!(summary(&s).len(), 2, "{:?}", summary(&s));

    // `clone --shared` reads its objects through objects/info/alternates.
    git_in(
        &parent,
        &["clone", "-q", "--shared", r.dir.to_str().unwrap(), "shared"],
    );
    assert!(parent.join("shared/.git/objects/info/alternates").exists());
    let s = scan(&parent.join("shared"), &["--history-only", "."]);
    let mut got = summary(&s);
    got.sort();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].1, old);
}

#[test]
fn a_corrupt_object_is_reported_and_the_scan_goes_on() {
    let mut r = Repo::new();
    r.write("good.env", &format!("KEY={KEY_A}\n"));
    r.commit("good");
    r.write("bad.txt", "this blob will be damaged\n");
    r.commit("bad");
    let id = r.git(&["rev-parse", "HEAD:bad.txt"]);
    let path = r.dir.join(".git/objects").join(&id[..2]).join(&id[2..]);
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, b"\x78\x9c garbage, not zlib").unwrap();

    let s = scan(&r.dir, &["--history-only", "."]);
    assert_eq!(s.code, 2, "{}", s.stderr);
    assert!(s.stderr.contains(&id), "{}", s.stderr);
    assert_eq!(summary(&s).len(), 1, "the good blob is still reported");
}

#[test]
fn a_checked_out_submodule_is_a_repository_of_its_own() {
    let mut sub = Repo::new();
    sub.write("inner.env", &format!("KEY={KEY_B}\n"));
    sub.commit("inner");
    let mut r = Repo::new();
    r.write("README.md", "outer\n");
    r.commit("outer");
    r.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.dir.to_str().unwrap(),
        "vendor/sub",
    ]);
    r.commit("add submodule");
    let s = scan(&r.dir, &["--history-only", "."]);
    assert_eq!(s.code, 1, "{:?}", summary(&s));
    let f = findings(&s)[0];
    assert_eq!(f["path"], "vendor/sub/inner.env");
    assert_eq!(f["repository"]["path"], "vendor/sub");
    assert_eq!(s.json["summary"]["repositories"], 2);

    // Not checked out: its history is not here, and the scan says so.
    r.git(&["submodule", "deinit", "-q", "-f", "vendor/sub"]);
    let s = scan(&r.dir, &["--history-only", "."]);
    assert_eq!(s.code, 0, "{:?}", summary(&s));
    assert!(
        s.stderr.contains("1 submodule is not checked out"),
        "{}",
        s.stderr
    );
}

#[test]
fn history_in_every_format() {
    let mut r = Repo::new();
    r.write("old.env", &format!("KEY={KEY_A}\n"));
    let added = r.commit("old");
    r.git(&["rm", "-q", "old.env"]);
    r.commit("rm");
    let out = Command::cargo_bin("keyhound")
        .unwrap()
        .current_dir(&r.dir)
        .args(["scan", ".", "-q", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("introduced in {}", &added[..12])),
        "{text}"
    );
    assert!(text.contains("only in history"), "{text}");
    let out = Command::cargo_bin("keyhound")
        .unwrap()
        .current_dir(&r.dir)
        .args(["scan", ".", "-q", "-f", "sarif"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    let loc = &result["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uri"], "old.env");
    assert_eq!(loc["properties"]["commit"], added.as_str());
    assert_eq!(result["properties"]["commit"]["id"], added.as_str());
    assert_eq!(result["properties"]["inHead"], false);
}

#[test]
fn a_secret_quoted_in_a_commit_message_is_redacted_wherever_the_commit_is_shown() {
    let mut r = Repo::new();
    r.write("README.md", "base\n");
    r.commit("base");
    r.write("deploy.env", &format!("KEY={KEY_A}\n"));
    // The introducing commit's summary quotes the file's secret and another one.
    r.commit(&format!("use {KEY_A} until {KEY_B} works"));
    for format in ["json", "text", "sarif", "jsonl"] {
        let out = Command::cargo_bin("keyhound")
            .unwrap()
            .current_dir(&r.dir)
            .args(["scan", "--history-only", ".", "-q", "--color", "never"])
            .args(["-f", format])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{format}: {stdout}");
        for key in [KEY_A, KEY_B] {
            assert!(!stdout.contains(key), "{format} shows a secret: {stdout}");
        }
    }
    let s = scan(&r.dir, &["--history-only", "."]);
    let f = findings(&s)
        .into_iter()
        .find(|f| f["path"] == "deploy.env")
        .unwrap();
    assert_eq!(
        f["commit"]["summary"],
        "use sk-BcZXa…(51 chars) until sk-AN671…(51 chars) works"
    );
}

#[test]
fn the_commit_count_is_the_commits_in_scope() {
    let mut r = Repo::new();
    r.write("README.md", "base\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "feature"]);
    for i in 0..3 {
        r.write("feature.txt", &format!("{i}\n"));
        r.commit(&format!("feature {i}"));
    }
    // A commit replaced by an amend: only its object is left.
    r.write("feature.txt", "dropped\n");
    r.commit("dropped");
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    r.git(&["checkout", "-q", "main"]);
    let count = |args: &[&str]| {
        let s = scan(&r.dir, &[&["--history-only", "."], args].concat());
        assert_eq!(s.code, 0, "{}", s.stderr);
        s.json["summary"]["commits"].as_u64().unwrap()
    };
    let rev_list = |rev: &str| r.git(&["rev-list", "--count", rev]).parse::<u64>().unwrap();
    assert_eq!(count(&["--branch", "main"]), rev_list("main"));
    assert_eq!(count(&["--branch", "feature"]), rev_list("feature"));
    assert_eq!(count(&[]), rev_list("--all"));
    assert_eq!(count(&["--all-objects"]), rev_list("--all") + 1);
}

#[test]
fn a_secret_in_many_messages_of_one_second_is_reported_at_the_first_commit() {
    let mut r = Repo::new();
    let mut ids = Vec::new();
    for i in 0..6 {
        r.write("counter.txt", &format!("{i}\n"));
        ids.push(r.commit_at(&format!("deploy {i} with {KEY_A}"), "2024-01-01T12:00:00Z"));
    }
    let s = scan(&r.dir, &["--history-only", "."]);
    assert_eq!(
        summary(&s),
        [("<commit message>".to_string(), ids[0].clone(), false)],
        "{}",
        s.stderr
    );
}
