//! Error messages: each cause is said once.

mod cmd;

use cmd::{keyhound, tree};

/// Runs keyhound in a fresh directory; returns its exit code and stderr.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let dir = tree(&[("t.txt", "x\n")]);
    let out = keyhound()
        .current_dir(dir.path())
        .args(args)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn a_missing_file_names_its_cause_once() {
    for (args, start) in [
        (
            &["scan", "--rules", "missing.yaml", "t.txt"][..],
            "keyhound: error: cannot load rules: missing.yaml: cannot read rule file: ",
        ),
        (
            &["scan", "--config", "missing.yaml", "t.txt"][..],
            "keyhound: error: cannot read the configuration: missing.yaml: cannot read: ",
        ),
        (
            &["scan", "--baseline", "missing.yaml", "t.txt"][..],
            "keyhound: error: cannot read the baseline: missing.yaml: cannot read: ",
        ),
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(stderr.starts_with(start), "{args:?}: {stderr}");
        assert_eq!(stderr.matches("(os error 2)").count(), 1, "{stderr}");
    }
}

#[test]
fn an_unwritable_hook_names_its_cause_once() {
    let dir = tree(&[]);
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    // The hooks directory is a file, so no hook can be written below it.
    let hooks = dir.path().join(".git/hooks");
    std::fs::remove_dir_all(&hooks).unwrap();
    std::fs::write(&hooks, "not a directory\n").unwrap();
    let out = keyhound()
        .current_dir(dir.path())
        .args(["hook", "install"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.matches("(os error ").count(), 1, "{stderr}");
}
