//! `keyhound hook install|uninstall` with real `git commit` runs.

mod gitrepo;

use std::fs;
use std::path::Path;

use gitrepo::*;
use predicates::prelude::*;

fn init(r: &Repo) {
    r.write("README.md", "hello\n");
    r.add(&["."]);
    r.commit("init");
}

/// `git commit` (hooks enabled); returns (success, stdout + stderr).
fn commit(r: &Repo, args: &[&str]) -> (bool, String) {
    let mut a = vec!["commit", "-m", "change"];
    a.extend_from_slice(args);
    let out = r.git_output(&a);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[cfg(unix)]
fn write_hook(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn installed_hook_blocks_staged_keys_and_passes_clean_commits() {
    let r = Repo::new();
    init(&r);
    r.keyhound()
        .args(["hook", "install"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("installed the pre-commit hook"));
    let hook = r.path().join(".git/hooks/pre-commit");
    assert!(fs::read_to_string(&hook).unwrap().contains("scan --staged"));

    r.write("config.py", format!("KEY = '{LEGACY}'\n"));
    r.add(&["config.py"]);
    let (ok, out) = commit(&r, &[]);
    assert!(!ok, "the commit went through:\n{out}");
    assert!(out.contains("config.py:1:8"), "{out}");
    assert!(out.contains("commit blocked"), "{out}");
    assert!(!out.contains(LEGACY), "the hook printed the secret:\n{out}");

    // Fixed: the commit passes.
    r.write("config.py", "KEY = os.environ['KEY']\n");
    r.add(&["config.py"]);
    let (ok, out) = commit(&r, &[]);
    assert!(ok, "{out}");

    // `git commit -a` commits a temporary index (GIT_INDEX_FILE): the hook must see it.
    r.write("config.py", format!("KEY = '{PROJECT}'\n"));
    let (ok, out) = commit(&r, &["-a"]);
    assert!(!ok, "commit -a went through:\n{out}");
    // And `git commit <path>` too.
    let (ok, out) = commit(&r, &["--", "config.py"]);
    assert!(!ok, "commit <path> went through:\n{out}");
    r.git(&["checkout", "--", "config.py"]);

    // Reinstalling updates in place.
    r.keyhound()
        .args(["hook", "install"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("updated the pre-commit hook"));
    r.keyhound()
        .args(["hook", "uninstall"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("removed the pre-commit hook"));
    assert!(!hook.exists());
    r.keyhound()
        .args(["hook", "uninstall"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("nothing to remove"));
}

#[cfg(unix)]
#[test]
fn existing_hooks_are_kept_chained_or_replaced_only_when_asked() {
    let r = Repo::new();
    init(&r);
    let hooks = r.path().join(".git/hooks");
    let theirs = "#!/bin/sh\necho their-hook-ran >> \"$(git rev-parse --git-dir)/their.log\"\n";
    write_hook(&hooks.join("pre-commit"), theirs);

    // Refused by default, with the way out in the message.
    r.keyhound()
        .args(["hook", "install"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("was not written by keyhound"))
        .stderr(predicate::str::contains("--chain"))
        .stderr(predicate::str::contains("--force"));
    assert_eq!(
        fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        theirs
    );
    // Uninstall never removes a hook keyhound did not write.
    r.keyhound()
        .args(["hook", "uninstall"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not removing it"));

    // --chain: both run, theirs first.
    r.keyhound()
        .args(["hook", "install", "--chain"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("runs first"));
    r.write("a.txt", "clean\n");
    r.add(&["a.txt"]);
    let (ok, out) = commit(&r, &[]);
    assert!(ok, "{out}");
    assert!(r.path().join(".git/their.log").exists());
    r.write("b.txt", format!("{LEGACY}\n"));
    r.add(&["b.txt"]);
    let (ok, out) = commit(&r, &[]);
    assert!(!ok, "{out}");
    let log = fs::read_to_string(r.path().join(".git/their.log")).unwrap();
    assert_eq!(log.lines().count(), 2);

    // A failing chained hook stops the commit before keyhound runs.
    r.git(&["reset", "-q"]);
    fs::remove_file(r.path().join("b.txt")).unwrap();
    write_hook(
        &hooks.join("pre-commit.before-keyhound"),
        "#!/bin/sh\necho theirs says no\nexit 3\n",
    );
    r.write("c.txt", "clean\n");
    r.add(&["c.txt"]);
    let (ok, out) = commit(&r, &[]);
    assert!(!ok && out.contains("theirs says no"), "{out}");
    write_hook(&hooks.join("pre-commit.before-keyhound"), theirs);

    // Uninstall restores theirs.
    r.keyhound()
        .args(["hook", "uninstall"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("restored the previous hook"));
    assert_eq!(
        fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        theirs
    );
    assert!(!hooks.join("pre-commit.before-keyhound").exists());

    // --force replaces.
    r.keyhound()
        .args(["hook", "install", "--force"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("replacing the previous hook"));
    let ours = fs::read_to_string(hooks.join("pre-commit")).unwrap();
    assert!(ours.contains("keyhound pre-commit hook"));
}

#[cfg(unix)]
#[test]
fn core_hooks_path_is_respected() {
    let r = Repo::new();
    init(&r);
    r.git(&["config", "core.hooksPath", ".githooks"]);
    let sub = r.path().join("src/deep");
    fs::create_dir_all(&sub).unwrap();
    r.keyhound_in(&sub)
        .args(["hook", "install"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(".githooks/pre-commit"));
    assert!(r.path().join(".githooks/pre-commit").is_file());
    assert!(!r.path().join(".git/hooks/pre-commit").exists());
    r.write("k.env", format!("K={PROJECT}\n"));
    r.add(&["k.env"]);
    let (ok, out) = commit(&r, &[]);
    assert!(!ok, "{out}");
    r.keyhound().args(["hook", "uninstall"]).assert().code(0);
    assert!(!r.path().join(".githooks/pre-commit").exists());
}

#[cfg(unix)]
#[test]
fn pre_commit_framework_hook_gets_a_pointer_to_the_framework() {
    let r = Repo::new();
    init(&r);
    write_hook(
        &r.path().join(".git/hooks/pre-commit"),
        "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\n",
    );
    r.keyhound()
        .args(["hook", "install"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(".pre-commit-config.yaml"));
}
