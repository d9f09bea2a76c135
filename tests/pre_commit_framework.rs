//! keyhound under the real pre-commit framework (https://pre-commit.com).
//!
//! The framework is a test dependency: `./scripts/test` (the README's test command, also run
//! by CI) installs it in a cached virtualenv and sets `KEYHOUND_PRE_COMMIT`, builds the
//! `keyhound-cli` wheel and sets `KEYHOUND_WHEELHOUSE`. Without them these tests fail and say
//! how to get them; they never skip silently.
//!
//! Two hook repositories declare keyhound's hooks:
//! - this repository's `.pre-commit-hooks.yaml`: `keyhound` (`language: rust`, the framework
//!   builds keyhound with `cargo install`) and `keyhound-system` (`language: system`, a
//!   keyhound already on `PATH`);
//! - `pre-commit-mirror/`, published as its own repository: `keyhound` (`language: python`,
//!   `pip install` of a package whose only dependency is the prebuilt wheel) and
//!   `keyhound-system`.
//!
//! What is tested:
//! - both manifests are valid (`pre-commit validate-manifest`), declare the same staged scan,
//!   and the mirror pins the wheel of this crate's version;
//! - the framework, cloning each hook repository like a user's configuration does, blocks a
//!   commit that stages a key and lets a clean one through: `keyhound-system` with the freshly
//!   built binary on `PATH`, and the mirror's `keyhound` installed from the locally built wheel
//!   with pip kept off the network (`--no-index --find-links`) and no other keyhound on `PATH`;
//! - `pre_commit_try_repo_builds_the_rust_hook` does the full `language: rust` round trip; it
//!   is `#[ignore]`d for its cost (a release build of the crate) and run on demand with
//!   `./scripts/test --test pre_commit_framework -- --ignored`.

mod gitrepo;
mod wheelhouse;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use gitrepo::*;
use wheelhouse::pip_offline;

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

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn manifest_path() -> PathBuf {
    root().join(".pre-commit-hooks.yaml")
}

fn mirror_dir() -> PathBuf {
    root().join("pre-commit-mirror")
}

/// The hooks a manifest declares, by id.
fn manifest_hooks(path: &Path) -> Vec<(String, serde_yaml::Mapping)> {
    let text = fs::read_to_string(path).unwrap();
    let hooks: Vec<serde_yaml::Mapping> = serde_yaml::from_str(&text).unwrap();
    hooks
        .into_iter()
        .map(|h| (h["id"].as_str().unwrap().to_string(), h))
        .collect()
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

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// PATH with the directory of the built `keyhound` first.
fn path_with_keyhound() -> OsString {
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let mut paths = vec![bin.parent().unwrap().to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

/// PATH without any directory that holds a `keyhound`, so a hook can only use its own.
fn path_without_keyhound() -> OsString {
    let paths = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|d| !d.join("keyhound").exists())
        .collect::<Vec<_>>();
    std::env::join_paths(paths).unwrap()
}

/// A git repository (a sibling of `r`'s) holding `files`, as a hook repository for the
/// framework to clone; returns its path and commit.
fn hook_repo(r: &Repo, name: &str, files: &[(&str, PathBuf)]) -> (PathBuf, String) {
    let dir = r.root.path().join(name);
    fs::create_dir_all(&dir).unwrap();
    for (dest, src) in files {
        fs::copy(src, dir.join(dest)).unwrap();
    }
    r.run_in(&dir, &["-c", "init.defaultBranch=main", "init", "-q"]);
    r.run_in(&dir, &["add", "."]);
    r.run_in(&dir, &["commit", "-q", "-m", "hooks"]);
    let rev = r.run_in(&dir, &["rev-parse", "HEAD"]).trim().to_string();
    (dir, rev)
}

/// Commits `.pre-commit-config.yaml` using hook `id` of the hook repository at `repo`/`rev`,
/// and installs the framework's git hook.
fn use_hook(r: &Repo, repo: &Path, rev: &str, id: &str) {
    r.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {id}\n",
            repo.display()
        ),
    );
    r.write("README.md", "hello\n");
    r.add(&["."]);
    r.commit("init");
    let out = run_pre_commit(r, &["install"]);
    assert!(
        out.status.success(),
        "pre-commit install failed: {}",
        text(&out)
    );
}

/// `git commit` with the framework's hook, with `env` added; returns success and the output.
fn commit_with(r: &Repo, env: &[(&str, OsString)], msg: &str) -> (bool, String) {
    let mut c = r.git_cmd(&r.path());
    c.env("PRE_COMMIT_HOME", r.root.path().join("pre-commit-home"));
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.args(["commit", "-m", msg]).output().unwrap();
    (out.status.success(), text(&out))
}

/// A staged key fails the commit (the output says where, without the secret); a clean change
/// then passes.
fn assert_blocks_a_key_and_passes_a_clean_change(r: &Repo, env: &[(&str, OsString)]) {
    r.write(
        "settings.py",
        format!("DEBUG = True\nOPENAI_KEY = '{PROJECT}'\n"),
    );
    r.add(&["settings.py"]);
    let (ok, out) = commit_with(r, env, "add settings");
    assert!(!ok, "the commit went through:\n{out}");
    assert!(out.contains("keyhound"), "{out}");
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("settings.py:2:15"), "{out}");
    assert!(!out.contains(PROJECT), "the secret was printed:\n{out}");
    let head_before = r.head();

    r.write(
        "settings.py",
        "DEBUG = True\nOPENAI_KEY = os.environ['OPENAI_KEY']\n",
    );
    r.add(&["settings.py"]);
    let (ok, out) = commit_with(r, env, "add settings");
    assert!(ok, "a clean commit was blocked:\n{out}");
    assert!(out.contains("Passed"), "{out}");
    assert_ne!(r.head(), head_before);
}

#[test]
fn manifests_are_valid_and_declare_the_staged_scan() {
    let mirror = mirror_dir().join(".pre-commit-hooks.yaml");
    let languages = |path: &Path| -> Vec<(String, String)> {
        manifest_hooks(path)
            .into_iter()
            .map(|(id, h)| (id, h["language"].as_str().unwrap().to_string()))
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        languages(&manifest_path()),
        pairs(&[("keyhound", "rust"), ("keyhound-system", "system")])
    );
    assert_eq!(
        languages(&mirror),
        pairs(&[("keyhound", "python"), ("keyhound-system", "system")])
    );
    // Every hook runs the same scan, the same way.
    for (id, hook) in manifest_hooks(&manifest_path())
        .into_iter()
        .chain(manifest_hooks(&mirror))
    {
        let get = |k: &str| hook.get(k).cloned().unwrap_or(serde_yaml::Value::Null);
        assert_eq!(get("entry"), "keyhound scan --staged", "{id}");
        assert_eq!(get("pass_filenames"), false, "{id}");
        assert_eq!(
            get("stages"),
            serde_yaml::from_str::<serde_yaml::Value>("[pre-commit]").unwrap(),
            "{id}"
        );
    }

    let r = Repo::new();
    for path in [manifest_path(), mirror] {
        let out = run_pre_commit(&r, &["validate-manifest", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", path.display(), text(&out));
    }
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

/// The strings at `path` in a TOML file: the value, or the items of an array.
fn toml_strings(file: &Path, path: &[&str]) -> Vec<String> {
    let text = fs::read_to_string(file).unwrap();
    let doc = toml::de::DeTable::parse(&text).unwrap();
    let (last, tables) = path.split_last().unwrap();
    let mut table = doc.get_ref();
    for key in tables {
        table = table[*key].get_ref().as_table().unwrap();
    }
    match table[*last].get_ref() {
        toml::de::DeValue::Array(items) => items
            .iter()
            .map(|v| v.get_ref().as_str().unwrap().to_string())
            .collect(),
        v => vec![v.as_str().unwrap().to_string()],
    }
}

#[test]
fn mirror_package_pins_this_version_of_the_wheel() {
    let mirror = mirror_dir().join("pyproject.toml");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(toml_strings(&mirror, &["project", "version"]), [version]);
    assert_eq!(
        toml_strings(&mirror, &["project", "dependencies"]),
        [format!("keyhound-cli=={version}")]
    );
    // The pinned project is the wheel this repository builds.
    let wheel = root().join("pyproject.toml");
    assert_eq!(toml_strings(&wheel, &["project", "name"]), ["keyhound-cli"]);
    assert_eq!(
        toml_strings(&wheel, &["tool", "maturin", "bindings"]),
        ["bin"]
    );
}

#[test]
fn system_hook_blocks_a_staged_key_and_passes_a_clean_change() {
    let r = Repo::new();
    let (repo, rev) = hook_repo(&r, "hooks", &[(".pre-commit-hooks.yaml", manifest_path())]);
    use_hook(&r, &repo, &rev, "keyhound-system");
    assert_blocks_a_key_and_passes_a_clean_change(&r, &[("PATH", path_with_keyhound())]);
}

#[test]
fn wheel_hook_installs_the_wheel_and_blocks_a_staged_key() {
    let r = Repo::new();
    let mirror = mirror_dir();
    let files: Vec<(&str, PathBuf)> = [".pre-commit-hooks.yaml", "pyproject.toml", "README.md"]
        .into_iter()
        .map(|f| (f, mirror.join(f)))
        .collect();
    let (repo, rev) = hook_repo(&r, "keyhound-pre-commit", &files);
    use_hook(&r, &repo, &rev, "keyhound");
    // pip may use nothing but the wheelhouse, and no other keyhound is on PATH.
    let mut env = pip_offline();
    env.push(("PATH", path_without_keyhound()));
    assert_blocks_a_key_and_passes_a_clean_change(&r, &env);
    // The framework's environment for the hook holds the wheel's binary.
    let envs = fs::read_dir(r.root.path().join("pre-commit-home"))
        .unwrap()
        .flat_map(|d| fs::read_dir(d.unwrap().path()).into_iter().flatten())
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("bin/keyhound").is_file())
        .collect::<Vec<_>>();
    assert_eq!(envs.len(), 1, "{envs:?}");
    let dist = envs[0].join(format!(
        "lib/python3.{}/site-packages",
        python_minor(&envs[0])
    ));
    assert!(
        dist.join(format!(
            "keyhound_cli-{}.dist-info",
            env!("CARGO_PKG_VERSION")
        ))
        .is_dir(),
        "keyhound-cli is not installed in {}",
        dist.display()
    );
}

/// The minor version of the Python in a virtualenv (`lib/python3.N`).
fn python_minor(venv: &Path) -> String {
    fs::read_dir(venv.join("lib"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find_map(|n| n.strip_prefix("python3.").map(str::to_string))
        .unwrap()
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
