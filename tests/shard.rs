//! `--shard K/N` and `keyhound merge`: the shards of a list of repositories, merged, give the
//! report of one scan of the whole list, byte for byte, in JSON, JSON Lines and SARIF.

mod gitrepo;

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use gitrepo::{Repo, LEGACY, LEGACY2, PROJECT, SVCACCT};

fn keyhound(home: &Path, dir: &Path) -> Command {
    let mut std = StdCommand::new(assert_cmd::cargo::cargo_bin("keyhound"));
    gitrepo::isolate(&mut std, home);
    for v in [
        "GITHUB_TOKEN",
        "GITLAB_TOKEN",
        "KEYHOUND_GIT_TOKEN",
        "KEYHOUND_CACHE",
    ] {
        std.env_remove(v);
    }
    std.current_dir(dir);
    Command::from_std(std)
}

/// Several repositories with secrets in history, in their files, in a commit message, one
/// fork sharing blobs with another, a clean one, and two entries that fail.
fn repositories(root: &Path) -> PathBuf {
    let mut lines = vec!["# the audit".to_string()];
    let a = Repo::new();
    a.write("conf/old.env", format!("OPENAI_API_KEY={LEGACY}\n"));
    a.add(&["conf/old.env"]);
    a.commit("first");
    a.git(&["rm", "-q", "conf/old.env"]);
    a.write("src/app.py", format!("KEY = \"{PROJECT}\"\n"));
    a.add(&["src/app.py"]);
    a.commit("second");
    let b = Repo::new();
    b.write("notes.txt", "nothing here\n");
    b.add(&["notes.txt"]);
    b.commit(&format!("deploy with {LEGACY2}"));
    b.write("local.env", format!("TOKEN={SVCACCT}\n"));
    let c = Repo::new();
    c.write("README", "clean\n");
    c.add(&["README"]);
    c.commit("clean");
    let mut repos = vec![a, b, c];
    for i in 0..2 {
        let r = Repo::new();
        r.write(&format!("k{i}.txt"), format!("api_key = {LEGACY}\n"));
        r.add(&[&format!("k{i}.txt")]);
        r.commit("k");
        repos.push(r);
    }
    for (i, r) in repos.into_iter().enumerate() {
        let dest = root.join(format!("repo-{i}"));
        std::fs::rename(r.path(), &dest).unwrap();
        lines.push(dest.display().to_string());
    }
    // A fork of repository 0: every blob shared, one commit more.
    let fork = root.join("fork");
    let out = StdCommand::new("git")
        .args(["clone", "-q"])
        .arg(root.join("repo-0"))
        .arg(&fork)
        .env("HOME", root)
        .output()
        .unwrap();
    assert!(out.status.success());
    lines.push(fork.display().to_string());
    lines.push(root.join("missing").display().to_string());
    lines.push(format!("file://{}/gone.git", root.display()));
    let list = root.join("repos.txt");
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();
    list
}

fn scan(home: &Path, root: &Path, list: &Path, format: &str, shard: Option<(u32, u32)>) -> PathBuf {
    let name = match shard {
        Some((k, n)) => format!("{format}-{k}-of-{n}.out"),
        None => format!("{format}-single.out"),
    };
    let out = root.join("reports").join(name);
    let mut cmd = keyhound(home, root);
    cmd.args(["scan", "-q", "--no-config", "-f", format, "--clone-dir"])
        .arg(root.join("clones"))
        .arg("--repos")
        .arg(list)
        .arg("-o")
        .arg(&out);
    if let Some((k, n)) = shard {
        cmd.args(["--shard", &format!("{k}/{n}")]);
    }
    let code = cmd.output().unwrap().status.code();
    match shard {
        // The list has entries that fail.
        None => assert_eq!(code, Some(2)),
        Some(_) => assert!(matches!(code, Some(0..=2)), "{code:?}"),
    }
    out
}

#[test]
fn merged_shards_equal_one_scan_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir(root.join("reports")).unwrap();
    let home = root.join("home");
    std::fs::create_dir(&home).unwrap();
    let list = repositories(root);
    for (format, shards) in [("json", &[1, 3, 7][..]), ("jsonl", &[3]), ("sarif", &[3])] {
        // Every shard exits as its own scan would; the single scan has the errors.
        let mut single_cmd = keyhound(&home, root);
        let single = root.join("reports").join(format!("{format}-single.out"));
        let code = single_cmd
            .args(["scan", "-q", "--no-config", "-f", format, "--clone-dir"])
            .arg(root.join("clones"))
            .arg("--repos")
            .arg(&list)
            .arg("-o")
            .arg(&single)
            .output()
            .unwrap()
            .status
            .code();
        assert_eq!(code, Some(2));
        let expected = std::fs::read(&single).unwrap();
        let text = String::from_utf8_lossy(&expected);
        assert!(text.contains("repo-0/src/app.py") && text.contains("fork/conf/old.env"));
        assert!(text.contains("missing") && text.contains("gone"), "{text}");
        // A report merged with itself is itself: findings and errors are de-duplicated (a
        // JSON report's summary would count twice: shards are meant to be disjoint).
        let twice = root.join("reports").join(format!("{format}-twice.out"));
        keyhound(&home, root)
            .arg("merge")
            .args([&single, &single])
            .arg("-o")
            .arg(&twice)
            .assert()
            .code(2);
        let twice = std::fs::read(&twice).unwrap();
        if format == "json" {
            let (a, b): (serde_json::Value, serde_json::Value) = (
                serde_json::from_slice(&twice).unwrap(),
                serde_json::from_slice(&expected).unwrap(),
            );
            assert_eq!(a["findings"], b["findings"]);
            assert_eq!(a["errors"], b["errors"]);
            assert_eq!(
                a["summary"]["commits"],
                2 * b["summary"]["commits"].as_u64().unwrap()
            );
        } else {
            assert!(twice == expected, "{format}: merged with itself");
        }
        for &n in shards {
            let parts: Vec<PathBuf> = (1..=n)
                .map(|k| {
                    let out = root
                        .join("reports")
                        .join(format!("{format}-{k}-of-{n}.out"));
                    let code = keyhound(&home, root)
                        .args(["scan", "-q", "--no-config", "-f", format, "--clone-dir"])
                        .arg(root.join("clones"))
                        .arg("--repos")
                        .arg(&list)
                        .args(["--shard", &format!("{k}/{n}"), "-o"])
                        .arg(&out)
                        .output()
                        .unwrap()
                        .status
                        .code();
                    assert!(matches!(code, Some(0..=2)), "{code:?}");
                    out
                })
                .collect();
            let merged = root
                .join("reports")
                .join(format!("{format}-merged-{n}.out"));
            let out = keyhound(&home, root)
                .arg("merge")
                .args(&parts)
                .arg("-o")
                .arg(&merged)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(2),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got = std::fs::read(&merged).unwrap();
            assert!(
                got == expected,
                "{format}, {n} shards: merged report differs:\n--- single\n{}\n--- merged\n{}",
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&got)
            );
        }
    }
}

#[test]
fn shards_split_a_list_and_merge_refuses_mixed_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir(root.join("reports")).unwrap();
    let home = root.join("home");
    std::fs::create_dir(&home).unwrap();
    let list = repositories(root);
    // Each repository is in exactly one of 3 shards.
    let mut seen: Vec<String> = Vec::new();
    for k in 1..=3 {
        let out = scan(&home, root, &list, "jsonl", Some((k, 3)));
        let text = std::fs::read_to_string(out).unwrap();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let repo = v["repository"]["path"]
                .as_str()
                .or(v["error"]["path"].as_str())
                .unwrap_or("")
                .to_string();
            if !repo.is_empty() {
                seen.push(format!("{k} {repo}"));
            }
        }
    }
    let mut owners: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for s in &seen {
        let (k, repo) = s.split_once(' ').unwrap();
        owners
            .entry(repo.to_string())
            .or_default()
            .insert(k.to_string());
    }
    assert!(owners.len() >= 5, "{owners:?}");
    assert!(owners.values().all(|k| k.len() == 1), "{owners:?}");
    // JSON and JSON Lines do not mix.
    let json = scan(&home, root, &list, "json", None);
    let jsonl = (1..=3)
        .map(|k| root.join("reports").join(format!("jsonl-{k}-of-3.out")))
        .find(|p| std::fs::metadata(p).unwrap().len() > 0)
        .unwrap();
    let out = keyhound(&home, root)
        .arg("merge")
        .arg(&json)
        .arg(&jsonl)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("merge reports of one format"), "{stderr}");
    // A shard with nothing to report wrote an empty file: it goes with any format, first or
    // last, and adds nothing.
    let empty = root.join("reports").join("empty.out");
    std::fs::write(&empty, "").unwrap();
    let alone = keyhound(&home, root)
        .arg("merge")
        .arg(&json)
        .output()
        .unwrap();
    for args in [[&empty, &json], [&json, &empty]] {
        let out = keyhound(&home, root)
            .arg("merge")
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), alone.status.code(), "{stderr}");
        assert!(out.stdout == alone.stdout, "{stderr}");
    }
}
