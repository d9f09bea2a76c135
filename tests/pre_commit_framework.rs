//! keyhound under the real pre-commit framework (https://pre-commit.com).
//!
//! The framework is a test dependency: `./scripts/test` (the README's test command, also run
//! by CI) installs it in a cached virtualenv and sets `KEYHOUND_PRE_COMMIT`. Without it these
//! tests fail and say how to get it; they never skip silently.
//!
//! What is tested:
//! - `.pre-commit-hooks.yaml` is a valid manifest (`pre-commit validate-manifest`, which checks
//!   the schema, `language: rust` included);
//! - the hook it declares, run by the framework on a temporary repository, blocks a commit
//!   that stages a key and lets a clean one through. The hook is declared as a `repo: local`
//!   hook with the manifest's own `entry`, `pass_filenames` and `stages`, and `language:
//!   system` with the freshly built binary on `PATH`: `language: rust` would `cargo install`
//!   this crate from scratch (minutes on a small CI machine) on every run, and building is
//!   cargo's business, not the hook's. `pre_commit_try_repo_builds_the_rust_hook` does the full
//!   `language: rust` round trip; it is `#[ignore]`d for that cost and run on demand with
//!   `./scripts/test --test pre_commit_framework -- --ignored`.

mod gitrepo;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use gitrepo::*;

fn pre_commit() -> PathBuf {
    if let Some(p) = std::env::var_os("KEYHOUND_PRE_COMMIT").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(home) = std::env::var_os("HOME") {
        let cached = Path::new(&home).join(".cache/keyhound-ci/venv/bin/pre-commit");
        if cached.is_file() {
            return cached;
        }
    }
    if let Ok(out) = StdCommand::new("pre-commit").arg("--version").output() {
        if out.status.success() {
            return PathBuf::from("pre-commit");
        }
    }
    panic!(
        "the pre-commit framework is needed for this test and was not found: run the tests \
         with ./scripts/test (it installs pre-commit into ~/.cache/keyhound-ci/venv), or set \
         KEYHOUND_PRE_COMMIT to a pre-commit executable"
    );
}

fn manifest_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml")
}

/// The single hook declared by `.pre-commit-hooks.yaml`.
fn manifest_hook() -> serde_yaml::Mapping {
    let text = fs::read_to_string(manifest_path()).unwrap();
    let hooks: Vec<serde_yaml::Mapping> = serde_yaml::from_str(&text).unwrap();
    assert_eq!(hooks.len(), 1);
    hooks.into_iter().next().unwrap()
}

fn run_pre_commit(r: &Repo, args: &[&str]) -> std::process::Output {
    let mut c = StdCommand::new(pre_commit());
    isolate(&mut c, &r.home());
    c.env("PRE_COMMIT_HOME", r.root.path().join("pre-commit-home"))
        .current_dir(r.path())
        .args(args)
        .output()
        .unwrap()
}

/// PATH with the directory of the built `keyhound` first.
fn path_with_keyhound() -> std::ffi::OsString {
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let mut paths = vec![bin.parent().unwrap().to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

#[test]
fn manifest_is_valid_and_declares_the_staged_scan() {
    let hook = manifest_hook();
    let get = |k: &str| hook.get(k).cloned().unwrap_or(serde_yaml::Value::Null);
    assert_eq!(get("id"), "keyhound");
    assert_eq!(get("language"), "rust");
    assert_eq!(get("entry"), "keyhound scan --staged");
    assert_eq!(get("pass_filenames"), false);

    let r = Repo::new();
    let out = run_pre_commit(
        &r,
        &["validate-manifest", manifest_path().to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The validator is live: a manifest with an unknown language fails.
    let bad = r.root.path().join("bad-hooks.yaml");
    fs::write(
        &bad,
        fs::read_to_string(manifest_path())
            .unwrap()
            .replace("language: rust", "language: rusty"),
    )
    .unwrap();
    assert!(
        !run_pre_commit(&r, &["validate-manifest", bad.to_str().unwrap()])
            .status
            .success()
    );
}

#[test]
fn framework_blocks_a_staged_key_and_passes_a_clean_change() {
    let r = Repo::new();
    // The manifest's hook, as a local hook using the binary under test.
    let mut hook = manifest_hook();
    hook.insert("language".into(), "system".into());
    hook.remove("minimum_pre_commit_version");
    let config = serde_yaml::to_string(&serde_yaml::Value::Mapping({
        let mut repo = serde_yaml::Mapping::new();
        repo.insert("repo".into(), "local".into());
        repo.insert(
            "hooks".into(),
            serde_yaml::Value::Sequence(vec![serde_yaml::Value::Mapping(hook)]),
        );
        let mut top = serde_yaml::Mapping::new();
        top.insert(
            "repos".into(),
            serde_yaml::Value::Sequence(vec![serde_yaml::Value::Mapping(repo)]),
        );
        top
    }))
    .unwrap();
    r.write(".pre-commit-config.yaml", &config);
    r.write("README.md", "hello\n");
    r.add(&["."]);
    r.commit("init");

    let out = run_pre_commit(&r, &["install"]);
    assert!(
        out.status.success(),
        "pre-commit install failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let commit = |msg: &str| {
        let out = r
            .git_cmd(&r.path())
            .env("PATH", path_with_keyhound())
            .env("PRE_COMMIT_HOME", r.root.path().join("pre-commit-home"))
            .args(["commit", "-m", msg])
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };

    // A staged key fails the commit, and the output says where.
    r.write(
        "settings.py",
        format!("DEBUG = True\nOPENAI_KEY = '{PROJECT}'\n"),
    );
    r.add(&["settings.py"]);
    let (ok, out) = commit("add settings");
    assert!(!ok, "the commit went through:\n{out}");
    assert!(out.contains("keyhound"), "{out}");
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("settings.py:2:15"), "{out}");
    assert!(!out.contains(PROJECT), "the secret was printed:\n{out}");
    let head_before = r.head();

    // A clean change passes.
    r.write(
        "settings.py",
        "DEBUG = True\nOPENAI_KEY = os.environ['OPENAI_KEY']\n",
    );
    r.add(&["settings.py"]);
    let (ok, out) = commit("add settings");
    assert!(ok, "a clean commit was blocked:\n{out}");
    assert!(out.contains("Passed"), "{out}");
    assert_ne!(r.head(), head_before);
}

/// The full `language: rust` path: the framework clones this repository, builds keyhound
/// with `cargo install` and runs the hook. Slow (a release build of the crate), so ignored by
/// default; run it with `./scripts/test --test pre_commit_framework -- --ignored`. Set
/// `CARGO_TARGET_DIR` to reuse an existing build's dependencies.
#[test]
#[ignore = "builds keyhound with cargo install (minutes); run with --ignored"]
fn pre_commit_try_repo_builds_the_rust_hook() {
    let r = Repo::new();
    // A snapshot of this source tree as a git repository for the framework to clone.
    let src = r.root.path().join("keyhound-src");
    fs::create_dir_all(&src).unwrap();
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in [
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "README.md",
        ".pre-commit-hooks.yaml",
        "src",
        "rules",
    ] {
        let status = StdCommand::new("cp")
            .arg("-R")
            .arg(manifest_dir.join(entry))
            .arg(&src)
            .status()
            .unwrap();
        assert!(status.success());
    }
    r.run_in(&src, &["-c", "init.defaultBranch=main", "init", "-q"]);
    r.run_in(&src, &["add", "."]);
    r.run_in(&src, &["commit", "-q", "-m", "snapshot"]);

    r.write("README.md", "hello\n");
    r.add(&["."]);
    r.commit("init");
    r.write("k.py", format!("K = '{LEGACY}'\n"));
    r.add(&["k.py"]);
    let mut c = StdCommand::new(pre_commit());
    isolate(&mut c, &r.home());
    // cargo needs its real home for the registry cache.
    if let Some(h) = std::env::var_os("CARGO_HOME") {
        c.env("CARGO_HOME", h);
    } else if let Some(h) = std::env::var_os("HOME") {
        c.env("CARGO_HOME", Path::new(&h).join(".cargo"));
    }
    if let Some(h) = std::env::var_os("RUSTUP_HOME") {
        c.env("RUSTUP_HOME", h);
    } else if let Some(h) = std::env::var_os("HOME") {
        c.env("RUSTUP_HOME", Path::new(&h).join(".rustup"));
    }
    let out = c
        .env("PRE_COMMIT_HOME", r.root.path().join("pre-commit-home"))
        .current_dir(r.path())
        .args(["try-repo", src.to_str().unwrap(), "keyhound"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "try-repo passed with a staged key:\n{text}"
    );
    assert!(text.contains("k.py:1:6"), "{text}");
}
