//! `scan --staged` and commit-range scans (`--since-commit`, `--range`) on real repositories
//! built with the git CLI.

mod gitrepo;

use gitrepo::*;
use predicates::prelude::*;

const LEGACY_ID: &str = "openai.legacy-key";
const PROJECT_ID: &str = "openai.project-key";

fn staged(r: &Repo) -> (i32, serde_json::Value, String) {
    json(r.keyhound().args(["scan", "--staged"]))
}

#[test]
fn staged_scans_the_index_not_the_working_tree() {
    let r = Repo::new();
    r.write("app.py", "print('hi')\n");
    r.add(&["app.py"]);
    r.commit("init");

    // Staged with a key, then fixed on disk only: the key is still what would be committed.
    r.write("app.py", format!("print('hi')\nKEY = '{LEGACY}'\n"));
    r.add(&["app.py"]);
    r.write("app.py", "print('hi')\nKEY = os.environ['KEY']\n");
    let (code, v, _) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(found(&v), [f("app.py", 2, LEGACY_ID)]);

    // The other way round: clean in the index, a key only in an unstaged edit.
    r.add(&["app.py"]);
    r.write("app.py", format!("print('hi')\nKEY = '{PROJECT}'\n"));
    let (code, v, _) = staged(&r);
    assert_eq!(code, 0, "{v}");
    assert!(found(&v).is_empty());
}

#[test]
fn clean_staged_run_is_silent_and_nothing_staged_is_clean() {
    let r = Repo::new();
    r.write("a.txt", "one\n");
    r.add(&["a.txt"]);
    r.keyhound()
        .args(["scan", "--staged"])
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
    r.commit("init");
    r.keyhound()
        .args(["scan", "--staged"])
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
}

#[test]
fn only_added_lines_count() {
    let r = Repo::new();
    let body = |lines: &[&str]| lines.join("\n") + "\n";
    r.write(
        "config.py",
        body(&["import os", &format!("OLD = '{LEGACY}'"), "DEBUG = False"]),
    );
    r.add(&["config.py"]);
    r.commit("existing key (already committed)");

    // An unrelated edit: the old key is not new.
    r.write(
        "config.py",
        body(&["import os", &format!("OLD = '{LEGACY}'"), "DEBUG = True"]),
    );
    r.add(&["config.py"]);
    assert_eq!(staged(&r).0, 0);

    // The key moved (and re-indented): still not new.
    r.write(
        "config.py",
        body(&[
            "import os",
            "DEBUG = True",
            "if True:",
            &format!("    OLD = '{LEGACY}'"),
        ]),
    );
    r.add(&["config.py"]);
    let (code, v, _) = staged(&r);
    assert_eq!(code, 0, "{v}");

    // A new key on a new line is reported, at its line in the staged content.
    r.write(
        "config.py",
        body(&[
            "import os",
            "DEBUG = True",
            &format!("NEW = '{PROJECT}'"),
            "if True:",
            &format!("    OLD = '{LEGACY}'"),
        ]),
    );
    r.add(&["config.py"]);
    let (code, v, stderr) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(found(&v), [f("config.py", 3, PROJECT_ID)]);
    assert!(stderr.contains("commit blocked"), "{stderr}");
    assert!(v["findings"][0].get("commit").is_none());
}

#[test]
fn renames_deletions_and_binaries() {
    let r = Repo::new();
    r.write("old/name.env", format!("A=1\nKEY={LEGACY}\n"));
    r.write("gone.env", format!("KEY={PROJECT}\n"));
    r.add(&["."]);
    r.commit("init");

    // A pure rename and a deletion add nothing.
    std::fs::create_dir_all(r.path().join("new")).unwrap();
    r.git(&["mv", "old/name.env", "new/place.env"]);
    r.git(&["rm", "-q", "gone.env"]);
    let (code, v, _) = staged(&r);
    assert_eq!(code, 0, "{v}");

    // A rename with an edit: the moved key is not new, a new one is.
    r.write(
        "new/place.env",
        format!("A=2\nKEY={LEGACY}\nOTHER={LEGACY2}\n"),
    );
    r.add(&["new/place.env"]);
    let (code, v, _) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(found(&v), [f("new/place.env", 3, LEGACY_ID)]);

    // A binary file is skipped and counted.
    r.git(&["reset", "-q", "--hard"]);
    let mut bin = b"\x00\x01\x02".to_vec();
    bin.extend_from_slice(format!("KEY={PROJECT}\n").as_bytes());
    r.write("blob.bin", bin);
    r.add(&["blob.bin"]);
    let (code, v, _) = staged(&r);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["skipped_binary"], 1);
}

#[test]
fn first_commit_and_subdirectory() {
    let r = Repo::new();
    r.write("deep/er/keys.txt", format!("x\n{PROJECT}\n"));
    r.add(&["."]);
    // Unborn HEAD: everything staged is added. Run from a subdirectory: the repository is
    // found upwards and paths stay relative to its root.
    let sub = r.path().join("deep/er");
    let (code, v, _) = json(r.keyhound_in(&sub).args(["scan", "--staged"]));
    assert_eq!(code, 1);
    assert_eq!(found(&v), [f("deep/er/keys.txt", 2, PROJECT_ID)]);
}

#[test]
fn many_directories_untouched_subtrees_are_skipped_correctly() {
    // Exercises the cache-tree shortcut: many committed directories, one change deep down.
    let r = Repo::new();
    for i in 0..30 {
        r.write(&format!("d{i}/sub/f.txt"), format!("{i}\n"));
        r.write(&format!("d{i}.txt"), format!("{i}\n"));
    }
    r.add(&["."]);
    r.commit("init");
    r.git(&["status", "-s"]); // refreshes the index like a user would
    r.write("d17/sub/f.txt", format!("17\nT={LEGACY}\n"));
    r.write("d17/sub/new.txt", format!("N={PROJECT}\n"));
    r.add(&["."]);
    let (code, v, _) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(
        found(&v),
        [
            f("d17/sub/f.txt", 2, LEGACY_ID),
            f("d17/sub/new.txt", 1, PROJECT_ID)
        ]
    );
    assert_eq!(v["summary"]["items"], 2);
}

#[test]
fn symlinks_and_submodule_like_entries_are_not_content() {
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.add(&["a.txt"]);
    r.commit("init");
    // A symlink whose target text looks like a key is not file content.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(LEGACY, r.path().join("link")).unwrap();
        r.add(&["link"]);
        assert_eq!(staged(&r).0, 0);
    }
}

#[test]
fn range_scans_report_each_commit() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.add(&["."]);
    let base = r.commit("base");
    r.write("a.py", format!("import os\nKEY = '{LEGACY}'\n"));
    r.add(&["."]);
    let c2 = r.commit("add a.py");
    // Moves the old key into another file and adds a new one.
    r.git(&["rm", "-q", "a.py"]);
    r.write("b.py", format!("KEY = '{LEGACY}'\nP = '{PROJECT}'\n"));
    r.add(&["."]);
    let c3 = r.commit("split into b.py\n\nwith a body");

    let (code, v, stderr) = json(r.keyhound().args(["scan", "--since-commit", &base]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        found(&v),
        [f("a.py", 2, LEGACY_ID), f("b.py", 2, PROJECT_ID)]
    );
    let c = &v["findings"][0]["commit"];
    assert_eq!(c["id"], c2.as_str());
    assert_eq!(c["author"], "Ada Tester");
    assert_eq!(c["email"], "ada@example.test");
    assert_eq!(c["date"], "2024-05-01T10:00:00Z");
    assert_eq!(c["summary"], "add a.py");
    assert_eq!(v["findings"][1]["commit"]["id"], c3.as_str());
    assert_eq!(v["findings"][1]["commit"]["summary"], "split into b.py");
    assert_eq!(v["summary"]["commits"], 2);

    let (_, v2, _) = json(
        r.keyhound()
            .args(["scan", "--range", &format!("{base}..{c3}")]),
    );
    assert_eq!(found(&v2), found(&v));
    let (_, v3, _) = json(r.keyhound().args(["scan", "--range", &format!("{c2}..")]));
    assert_eq!(found(&v3), [f("b.py", 2, PROJECT_ID)]);

    // Text output names the commit.
    r.keyhound()
        .args(["scan", "--since-commit", &c2, "--color", "never"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!("commit {}", &c3[..12])))
        .stderr(predicate::str::contains(
            "1 finding in 1 changed file of 1 commit",
        ));

    // Nothing new since HEAD.
    r.keyhound()
        .args(["scan", "--since-commit", "HEAD", "-q"])
        .assert()
        .code(0);
    r.keyhound()
        .args(["scan", "--range", "a...b"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a range"));
}

#[test]
fn merge_commits_report_only_what_the_merge_itself_added() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.add(&["."]);
    let base = r.commit("base");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("feature.py", format!("K = '{LEGACY}'\n"));
    r.add(&["."]);
    let feat = r.commit("feature adds a key");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.txt", "main work\n");
    r.add(&["."]);
    r.commit("main work");
    r.git(&["merge", "-q", "--no-ff", "--no-commit", "feature"]);
    // A key written while merging belongs to the merge commit.
    r.write("merge.py", format!("M = '{PROJECT}'\n"));
    r.add(&["merge.py"]);
    r.git(&["commit", "-q", "--no-verify", "-m", "merge feature"]);
    let merge = r.head();

    let (code, v, stderr) = json(r.keyhound().args(["scan", "--since-commit", &base]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        found(&v),
        [f("feature.py", 1, LEGACY_ID), f("merge.py", 1, PROJECT_ID)],
        "the feature's key is reported once, with its own commit"
    );
    assert_eq!(v["findings"][0]["commit"]["id"], feat.as_str());
    assert_eq!(v["findings"][1]["commit"]["id"], merge.as_str());
    assert_eq!(v["summary"]["commits"], 3);
}

#[test]
fn shallow_clone_without_the_base_fails_with_advice() {
    let r = Repo::new();
    let mut ids = Vec::new();
    for i in 0..4 {
        r.write("f.txt", format!("{i}\n"));
        r.add(&["."]);
        ids.push(r.commit(&format!("c{i}")));
    }
    r.git(&["checkout", "-q", "-b", "side", &ids[0]]);
    r.write("side.txt", "side\n");
    r.add(&["."]);
    r.commit("side");
    r.git(&["checkout", "-q", "main"]);

    let url = format!("file://{}", r.path().display());
    r.run_in(
        r.root.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let shallow = r.root.path().join("shallow");
    let advice = |cmd: &mut assert_cmd::Command| {
        cmd.assert()
            .code(2)
            .stderr(predicate::str::contains("fetch-depth: 0"))
            .stderr(predicate::str::contains("git fetch --unshallow"))
            .stderr(predicate::str::contains("--deepen"));
    };
    // The base commit is not in the clone at all.
    advice(
        r.keyhound_in(&shallow)
            .args(["scan", "--since-commit", "HEAD~2"]),
    );
    advice(
        r.keyhound_in(&shallow)
            .args(["scan", "--range", &format!("{}..HEAD", ids[1])]),
    );

    // The base is there, but the range runs into the shallow boundary.
    r.run_in(
        r.root.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "2",
            "--no-single-branch",
            &url,
            "shallow2",
        ],
    );
    let shallow2 = r.root.path().join("shallow2");
    let out = r
        .keyhound_in(&shallow2)
        .args(["scan", "--range", "origin/side..origin/main"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("shallow clone"), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
    assert!(!stderr.contains("delegate"), "{stderr}");
}

#[test]
fn range_sarif_has_commit_properties_and_a_path_location() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.add(&["."]);
    let base = r.commit("base");
    r.write("src/k.rs", format!("const K: &str = \"{LEGACY}\";\n"));
    r.add(&["."]);
    let c = r.commit("add key");
    let out = r
        .keyhound()
        .args(["scan", "--since-commit", &base, "-f", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let res = &doc["runs"][0]["results"][0];
    assert_eq!(
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/k.rs"
    );
    assert_eq!(res["properties"]["commit"]["id"], c.as_str());
    assert_eq!(res["properties"]["commit"]["summary"], "add key");
}

#[test]
fn not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyhound"));
    isolate(&mut c, &home);
    c.current_dir(dir.path());
    assert_cmd::Command::from_std(c)
        .args(["scan", "--staged"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not inside a git repository"));
}

/// The index-vs-HEAD comparison (with its cache-tree shortcut) agrees with git on random
/// sequences of edits, renames, deletions, mode changes and commits.
#[test]
fn staged_changes_agree_with_git_diff_cached() {
    for seed in [1u64, 7, 42] {
        let r = Repo::new();
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let dirs = ["", "a/", "a/b/", "a-b/", "a.b/", "c/d/e/", "z/"];
        let names = ["f", "f.txt", "g", "a", "b0", "x-y"];
        for step in 0..40 {
            let files: Vec<String> = r.git(&["ls-files"]).lines().map(str::to_string).collect();
            match rnd(6) {
                0 | 1 => {
                    let p = format!(
                        "{}{}",
                        dirs[rnd(dirs.len() as u64) as usize],
                        names[rnd(names.len() as u64) as usize]
                    );
                    // A file where a directory of the same name exists (or the reverse)
                    // cannot be created; skip those draws.
                    if r.path().join(&p).is_dir()
                        || std::path::Path::new(&p)
                            .ancestors()
                            .skip(1)
                            .any(|a| r.path().join(a).is_file())
                    {
                        continue;
                    }
                    r.write(&p, format!("{step} {}\n", rnd(1000)));
                    r.add(&[&p]);
                }
                2 if !files.is_empty() => {
                    let p = &files[rnd(files.len() as u64) as usize];
                    r.git(&["rm", "-q", "-f", "--cached", "--", p]);
                    std::fs::remove_file(r.path().join(p)).unwrap();
                }
                3 if !files.is_empty() => {
                    let p = &files[rnd(files.len() as u64) as usize];
                    r.git(&["update-index", "--chmod=+x", "--", p]);
                }
                4 => {
                    r.commit(&format!("step {step}"));
                    if rnd(2) == 0 {
                        r.git(&["status", "-s"]);
                    }
                }
                _ if !files.is_empty() => {
                    let p = &files[rnd(files.len() as u64) as usize];
                    r.write(p, format!("edit {step}\n"));
                    r.add(&[p]);
                }
                _ => {}
            }
            let mut expected: Vec<String> = r
                .git(&["diff", "--cached", "--name-only", "--no-renames", "-z"])
                .split('\0')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            expected.sort();
            let repo = gix::open_opts(r.path(), gix::open::Options::isolated()).unwrap();
            let got = keyhound::source::git::diff::staged_paths(&repo).unwrap();
            assert_eq!(got, expected, "seed {seed} step {step}");
        }
    }
}
