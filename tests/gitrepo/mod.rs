//! Helpers for tests that build real git repositories with the git CLI in temporary
//! directories. Global and system git configuration is isolated: `HOME` is a fresh directory
//! and `GIT_CONFIG_NOSYSTEM` is set, so the machine's setup cannot change a test's outcome.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};

use assert_cmd::Command;
use tempfile::TempDir;

// Random, format-exact fakes (the examples of rules/openai.yaml).
pub const LEGACY: &str = "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";
pub const LEGACY2: &str = "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";
pub const PROJECT: &str = "sk-proj-p85MoKSRbQuQDfZAKXd7T3BlbkFJoowxpVK5Vx0h3tbQKVqT";
pub const SVCACCT: &str = "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";

/// Environment shared by git and keyhound in these tests.
pub fn isolate(cmd: &mut StdCommand, home: &Path) {
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada Tester")
        .env("GIT_AUTHOR_EMAIL", "ada@example.test")
        .env("GIT_COMMITTER_NAME", "Ada Tester")
        .env("GIT_COMMITTER_EMAIL", "ada@example.test")
        .env("GIT_AUTHOR_DATE", "2024-05-01T12:00:00+02:00")
        .env("GIT_COMMITTER_DATE", "2024-05-01T12:00:00+02:00")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .env_remove("NO_COLOR");
}

/// A temporary git repository (in `root/repo`, with `root/home` as `HOME`).
pub struct Repo {
    pub root: TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("home")).unwrap();
        let r = Repo { root };
        r.run_in(
            r.root.path(),
            &["-c", "init.defaultBranch=main", "init", "-q", "repo"],
        );
        r
    }

    pub fn path(&self) -> PathBuf {
        self.root.path().join("repo")
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    pub fn git_cmd(&self, dir: &Path) -> StdCommand {
        let mut c = StdCommand::new("git");
        isolate(&mut c, &self.home());
        c.current_dir(dir);
        c
    }

    /// Runs git in `dir`; panics with its output when it fails.
    pub fn run_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_cmd(dir).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.run_in(&self.path(), args)
    }

    /// Runs git and returns the whole output, failing or not.
    pub fn git_output(&self, args: &[&str]) -> Output {
        self.git_cmd(&self.path()).args(args).output().unwrap()
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path().join(rel)).unwrap()
    }

    pub fn add(&self, paths: &[&str]) {
        let mut args = vec!["add", "--"];
        args.extend_from_slice(paths);
        self.git(&args);
    }

    /// Commits what is staged and returns the commit id.
    pub fn commit(&self, msg: &str) -> String {
        self.git(&["commit", "-q", "--no-verify", "--allow-empty", "-m", msg]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// `keyhound` run in the repository.
    pub fn keyhound(&self) -> Command {
        self.keyhound_in(&self.path())
    }

    pub fn keyhound_in(&self, dir: &Path) -> Command {
        let mut std = StdCommand::new(assert_cmd::cargo::cargo_bin("keyhound"));
        isolate(&mut std, &self.home());
        std.current_dir(dir);
        Command::from_std(std)
    }
}

/// Runs a prepared command and parses its stdout as the JSON report.
pub fn json(cmd: &mut Command) -> (i32, serde_json::Value, String) {
    let out = cmd.args(["-f", "json"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// `(path, line, rule_id)` of each finding in a JSON report.
pub fn found(v: &serde_json::Value) -> Vec<(String, u64, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn f(path: &str, line: u64, rule: &str) -> (String, u64, String) {
    (path.to_string(), line, rule.to_string())
}
