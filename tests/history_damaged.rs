//! History scans of damaged, incomplete and hostile object databases, built by the tests with
//! the git CLI: compressed bombs, a damaged pack entry, a partial clone, deleted objects.

mod gitrepo;

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use gitrepo::{json, Repo, LEGACY, LEGACY2};
use serde_json::Value;

/// A format-exact fake OpenAI key, different for every `n` (xorshift over a fixed seed).
fn key(n: u64) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = (n + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut part = || -> String {
        (0..20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ALNUM[(x % 62) as usize] as char
            })
            .collect()
    };
    let (a, b) = (part(), part());
    format!("sk-{a}T3BlbkFJ{b}")
}

/// A shell in the repository, with the tests' isolated environment.
fn sh(r: &Repo, script: &str) -> StdCommand {
    sh_in(r, &r.path(), script)
}

fn sh_in(r: &Repo, dir: &Path, script: &str) -> StdCommand {
    let mut c = StdCommand::new("sh");
    gitrepo::isolate(&mut c, &r.home());
    c.current_dir(dir).arg("-c").arg(script);
    c
}

/// keyhound in the repository with its address space capped at `kib` KiB (`ulimit -v`):
/// an allocation beyond that fails, and the process with it.
fn keyhound_capped(r: &Repo, kib: u64, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = sh(r, &format!("ulimit -v {kib}; exec \"$0\" \"$@\""))
        .arg(assert_cmd::cargo::cargo_bin("keyhound"))
        .args(["scan", "-f", "json"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), v, stderr)
}

fn pack_files(r: &Repo, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(r.path().join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

fn loose_path(r: &Repo, id: &str) -> PathBuf {
    r.path().join(".git/objects").join(&id[..2]).join(&id[2..])
}

fn make_writable(p: &Path) {
    let mut perms = std::fs::metadata(p).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(p, perms).unwrap();
}

/// The error lines keyhound printed.
fn errors(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(": object ")).collect()
}

fn paths(v: &Value) -> Vec<String> {
    let mut p: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    p.sort();
    p
}

/// Two 2 GiB blobs of zeros (4 MB of `.git`), loose and then packed. keyhound runs with its
/// address space capped at 1 GiB (a scan of this repository needs less than 200 MB without
/// the bombs), so it passes only if it skips them unread.
#[test]
fn compressed_bombs_are_skipped_without_being_inflated() {
    let r = Repo::new();
    r.write("keys.env", format!("KEY={LEGACY}\n"));
    // Sparse files; below the big-file threshold git writes them as loose objects.
    let ok = sh(
        &r,
        "truncate -s 2G a.bin && truncate -s 2G b.bin && printf x >> b.bin && \
         git -c core.bigFileThreshold=4g add a.bin b.bin keys.env && rm a.bin b.bin",
    )
    .status()
    .unwrap();
    assert!(ok.success());
    r.commit("bombs");
    r.git(&["rm", "-q", "--cached", "a.bin", "b.bin"]);
    r.commit("bombs gone");
    let a = r.git(&["rev-parse", "HEAD~1:a.bin"]).trim().to_string();

    let check = |label: &str| {
        let (code, v, stderr) = keyhound_capped(&r, 1 << 20, &["--history-only", "-j2", "."]);
        assert_eq!(code, Some(1), "{label}: {stderr}");
        assert_eq!(v["summary"]["skipped_large"], 2, "{label}: {v}");
        assert_eq!(v["summary"]["errors"], 0, "{label}: {stderr}");
        assert_eq!(paths(&v), ["keys.env"], "{label}");
    };
    assert!(loose_path(&r, &a).exists());
    check("loose");
    r.git(&["repack", "-adq"]);
    assert!(!loose_path(&r, &a).exists(), "repacked");
    check("packed");
}

/// One pack, 120 blobs each holding its own key (in history only), and one blob in the middle
/// of the pack damaged: the other 119 keys are still found, the damaged object is named, the
/// exit code is 2, and the outcome is the same on every run and with any number of threads.
#[test]
fn a_damaged_pack_entry_costs_only_itself() {
    let r = Repo::new();
    const N: u64 = 120;
    for i in 0..N {
        r.write(&format!("keys/k{i:03}.env"), format!("KEY={}\n", key(i)));
    }
    r.add(&["keys"]);
    r.commit("keys");
    r.git(&["rm", "-q", "-r", "keys"]);
    r.commit("keys gone");
    r.git(&["repack", "-adq"]);
    let idx = pack_files(&r, "idx").remove(0);

    // Entries by offset (`git show-index`: offset, id, crc), and the middle one of the blobs.
    let index = sh(&r, &format!("git show-index < {}", idx.display()))
        .output()
        .unwrap();
    let mut entries: Vec<(u64, String)> = String::from_utf8(index.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut f = l.split_whitespace();
            (
                f.next().unwrap().parse().unwrap(),
                f.next().unwrap().to_string(),
            )
        })
        .collect();
    entries.sort();
    let files = r.git(&["ls-tree", "HEAD~1:keys"]);
    let blob_file = |id: &str| {
        files
            .lines()
            .find(|l| l.contains(id))
            .map(|l| l.rsplit('\t').next().unwrap().to_string())
    };
    let blobs: Vec<usize> = (0..entries.len())
        .filter(|&i| blob_file(&entries[i].1).is_some())
        .collect();
    assert_eq!(blobs.len(), N as usize);
    let victim = blobs[blobs.len() / 2];
    let (offset, id) = entries[victim].clone();
    let victim_file = format!("keys/{}", blob_file(&id).unwrap());

    // Flip four bytes inside the victim's compressed data.
    let pack = idx.with_extension("pack");
    make_writable(&pack);
    let mut bytes = std::fs::read(&pack).unwrap();
    let end = entries
        .get(victim + 1)
        .map_or(bytes.len() - 20, |e| e.0 as usize);
    let mid = (offset as usize + end) / 2;
    for b in &mut bytes[mid - 2..mid + 2] {
        *b ^= 0xff;
    }
    std::fs::write(&pack, bytes).unwrap();

    let run = |threads: &str| {
        let (code, v, stderr) =
            json(
                r.keyhound()
                    .args(["scan", "--history-only", "-j", threads, "."]),
            );
        assert_eq!(code, 2, "{stderr}");
        (
            v["findings"].clone(),
            errors(&stderr).join("\n"),
            v["summary"]["errors"].clone(),
        )
    };
    let first = run("2");
    let expected: Vec<String> = (0..N)
        .map(|i| format!("keys/k{i:03}.env"))
        .filter(|p| *p != victim_file)
        .collect();
    let mut found: Vec<String> = first
        .0
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    assert_eq!(found, expected);
    assert!(first.1.contains(&format!("object {id}")), "{}", first.1);
    assert_eq!(first.2, 1, "one object is unreadable: {}", first.1);
    for threads in ["2", "1", "2", "4"] {
        assert_eq!(run(threads), first, "-j {threads}");
    }
}

/// A partial clone (`--filter=blob:none`) lacks the blobs of history: the scan says that
/// history is incomplete and how to complete it, and does not call the absent blobs errors.
#[test]
fn a_partial_clone_says_history_is_incomplete() {
    let src = Repo::new();
    src.write("old.env", format!("KEY={LEGACY}\n"));
    // A credential file: the tree names it so, but its blob is not here either.
    src.write(
        ".netrc",
        "machine ci.acme.internal login deploy password tq7wz3\n",
    );
    src.add(&["old.env", ".netrc"]);
    src.commit("old");
    src.git(&["rm", "-q", "old.env", ".netrc"]);
    src.commit("gone");
    src.write("new.env", format!("KEY={LEGACY2}\n"));
    src.add(&["new.env"]);
    src.commit("new");
    src.git(&["config", "uploadpack.allowFilter", "true"]);
    let url = format!("file://{}", src.path().display());
    src.run_in(
        src.root.path(),
        &["clone", "-q", "--filter=blob:none", &url, "partial"],
    );
    let dir = src.root.path().join("partial");

    let (code, v, stderr) = json(src.keyhound_in(&dir).args(["scan", "--history-only", "."]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths(&v), ["new.env"], "only the checked-out blob is here");
    assert_eq!(v["summary"]["errors"], 0, "{stderr}");
    assert!(
        stderr.contains(
            "partial clone (--filter=blob:none): history is incomplete, \
             2 objects it leads to are not here"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("git fetch --refetch origin"), "{stderr}");

    // Fetched as the message says, nothing is missing and nothing more is said. (A refetch
    // ends with an automatic repack, in the background by default: it would remove packs
    // while the scan reads them.)
    let refetch = "git config --unset remote.origin.partialclonefilter && \
                   git -c gc.autoDetach=false -c maintenance.autoDetach=false \
                   fetch -q --refetch origin";
    assert!(sh_in(&src, &dir, refetch).status().unwrap().success());
    let (code, v, stderr) = json(src.keyhound_in(&dir).args(["scan", "--history-only", "."]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths(&v), [".netrc", "new.env", "old.env"]);
    assert!(!stderr.contains("partial clone"), "{stderr}");
}

/// Objects that history leads to and that the object database lacks are errors, each named:
/// a deleted blob, then the deleted tree that listed it.
#[test]
fn a_missing_reachable_object_is_an_error() {
    let r = Repo::new();
    r.write("dir/old.env", format!("KEY={LEGACY}\n"));
    r.write("README.md", "hello\n");
    r.add(&["."]);
    r.commit("old");
    r.git(&["rm", "-q", "-r", "dir"]);
    r.commit("gone");
    r.write("new.env", format!("KEY={LEGACY2}\n"));
    r.add(&["new.env"]);
    r.commit("new");
    let blob = r
        .git(&["rev-parse", "HEAD~2:dir/old.env"])
        .trim()
        .to_string();
    let tree = r.git(&["rev-parse", "HEAD~2:dir"]).trim().to_string();

    let (code, v, _) = json(r.keyhound().args(["scan", "--history-only", "."]));
    assert_eq!(
        (code, paths(&v)),
        (1, vec!["dir/old.env".to_string(), "new.env".to_string()])
    );

    std::fs::remove_file(loose_path(&r, &blob)).unwrap();
    let (code, v, stderr) = json(r.keyhound().args(["scan", "--history-only", "."]));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(paths(&v), ["new.env"]);
    assert!(
        stderr.contains(&format!("object {blob}: missing: blob {blob} is missing from the object database (tree {tree} points at it)")),
        "{stderr}"
    );

    std::fs::remove_file(loose_path(&r, &tree)).unwrap();
    let (code, _, stderr) = json(r.keyhound().args(["scan", "--history-only", "."]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("object {tree}: missing: tree {tree}")),
        "{stderr}"
    );
}

/// Two 300 MiB blobs of zeros that a pack stores as a base and a delta: the delta's result
/// size is read from its header, so neither is inflated (the address space is capped at
/// 256 MiB; a scan of this repository needs less than 200 MB without them).
#[test]
fn a_delta_bomb_is_skipped_by_its_header() {
    let r = Repo::new();
    r.write("keys.env", format!("KEY={LEGACY}\n"));
    let ok = sh(
        &r,
        "truncate -s 300M a.bin && truncate -s 300M b.bin && printf x >> b.bin && \
         git add a.bin b.bin keys.env && git commit -qm bombs && \
         git -c pack.compression=1 repack -adq && rm a.bin b.bin",
    )
    .status()
    .unwrap();
    assert!(ok.success());
    let b = r.git(&["rev-parse", "HEAD:b.bin"]).trim().to_string();
    let a = r.git(&["rev-parse", "HEAD:a.bin"]).trim().to_string();
    let idx = pack_files(&r, "idx").remove(0);
    let stats = r.git(&["verify-pack", "-v", idx.to_str().unwrap()]);
    let is_delta = |id: &str| {
        stats
            .lines()
            .any(|l| l.starts_with(id) && l.split_whitespace().count() > 5)
    };
    assert!(is_delta(&a) || is_delta(&b), "one is a delta:\n{stats}");

    let (code, v, stderr) = keyhound_capped(&r, 256 << 10, &["--history-only", "-j2", "."]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(v["summary"]["skipped_large"], 2, "{v}");
    assert_eq!(v["summary"]["errors"], 0, "{stderr}");
}

/// A blob over the size limit that a smaller blob is a delta of is built as its base (and
/// still counted as too large), so the smaller one is scanned.
#[test]
fn a_large_delta_base_still_yields_its_smaller_deltas() {
    let r = Repo::new();
    let filler: String = (0..40_000).map(|i| format!("line {i}\n")).collect();
    r.write("big.txt", format!("KEY={LEGACY}\n{filler}{filler}"));
    r.add(&["big.txt"]);
    r.commit("big");
    r.write("big.txt", format!("KEY={LEGACY2}\n{filler}"));
    r.add(&["big.txt"]);
    r.commit("smaller");
    r.git(&["repack", "-adq", "--window=10"]);
    let small = r.git(&["rev-parse", "HEAD:big.txt"]).trim().to_string();
    let idx = pack_files(&r, "idx").remove(0);
    let stats = r.git(&["verify-pack", "-v", idx.to_str().unwrap()]);
    assert!(
        stats
            .lines()
            .any(|l| l.starts_with(&small) && l.split_whitespace().count() > 5),
        "the smaller blob is a delta:\n{stats}"
    );
    let (code, v, stderr) =
        json(
            r.keyhound()
                .args(["scan", "--history-only", "--max-file-size", "500K", "."]),
        );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(v["summary"]["skipped_large"], 1, "{v}");
    let secrets: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(secrets, ["big.txt"], "{v}");
}

/// git treats the empty tree as present whether or not it was written: a commit of it, with
/// no tree object in the database, is not a missing object.
#[test]
fn the_empty_tree_is_never_missing() {
    let r = Repo::new();
    let empty = r
        .git(&["hash-object", "-t", "tree", "/dev/null"])
        .trim()
        .to_string();
    assert!(!loose_path(&r, &empty).exists());
    let commit = r
        .git(&["commit-tree", &empty, "-m", "empty"])
        .trim()
        .to_string();
    r.git(&["update-ref", "refs/heads/main", &commit]);
    let (code, _, stderr) = json(r.keyhound().args(["scan", "--history-only", "."]));
    assert_eq!(code, 0, "{stderr}");
}

/// A packed tree stored as a delta names a blob that was never packed and is gone: the
/// entry the delta inserted is checked, so the blob is named.
#[test]
fn a_blob_missing_under_a_delta_tree_is_named() {
    let r = Repo::new();
    for i in 0..30 {
        r.write(&format!("dir/f{i:02}.txt"), format!("file {i}\n"));
    }
    r.add(&["dir"]);
    r.commit("files");
    r.git(&["repack", "-adq"]);
    // Smaller than before, so that the new tree is the delta (git bases deltas on the larger).
    r.write("dir/f07.txt", format!("KEY={LEGACY}\n"));
    r.git(&["rm", "-q", "dir/f29.txt"]);
    r.add(&["dir"]);
    r.commit("key");
    let blob = r.git(&["rev-parse", "HEAD:dir/f07.txt"]).trim().to_string();
    // The two versions of `dir` and of the root tree in a pack of their own, where the newer
    // ones are deltas; the new blob stays loose, and is then lost.
    let trees = ["HEAD:dir", "HEAD~1:dir", "HEAD^{tree}", "HEAD~1^{tree}"]
        .map(|t| r.git(&["rev-parse", t]).trim().to_string())
        .join("\n");
    let ok = sh(
        &r,
        &format!(
            "printf '{trees}\\n' | git pack-objects -q --window=10 .git/objects/pack/pack && \
             git prune-packed"
        ),
    )
    .status()
    .unwrap();
    assert!(ok.success());
    let new_dir = r.git(&["rev-parse", "HEAD:dir"]).trim().to_string();
    assert!(!loose_path(&r, &new_dir).exists(), "packed");
    let stats: String = pack_files(&r, "idx")
        .iter()
        .map(|i| r.git(&["verify-pack", "-v", i.to_str().unwrap()]))
        .collect();
    assert!(
        stats
            .lines()
            .any(|l| l.starts_with(&new_dir) && l.split_whitespace().count() > 5),
        "the new tree is a delta:\n{stats}"
    );
    std::fs::remove_file(loose_path(&r, &blob)).unwrap();

    let (code, _, stderr) = json(r.keyhound().args(["scan", "--history-only", "."]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("object {blob}: missing: blob {blob}")),
        "{stderr}"
    );
}

/// A tree that cannot be read hides where the blobs below it are: a secret found in one of
/// them is still reported (by blob id), not taken for an unreachable object and dropped.
#[test]
fn a_secret_below_an_unreadable_tree_is_still_reported() {
    let r = Repo::new();
    r.write("top.env", format!("KEY={LEGACY}\n"));
    r.write("dir/below.env", format!("KEY={LEGACY2}\n"));
    r.add(&["."]);
    r.commit("both");
    let blob = r
        .git(&["rev-parse", "HEAD:dir/below.env"])
        .trim()
        .to_string();
    let tree = r.git(&["rev-parse", "HEAD:dir"]).trim().to_string();
    let (_, v, _) = json(r.keyhound().args(["scan", "--history-only", "."]));
    assert_eq!(paths(&v), ["dir/below.env", "top.env"]);

    let path = loose_path(&r, &tree);
    make_writable(&path);
    std::fs::write(&path, b"\x78\x9c not a tree").unwrap();
    for damage in ["damaged", "missing"] {
        if damage == "missing" {
            std::fs::remove_file(&path).unwrap();
        }
        let (code, v, stderr) = json(r.keyhound().args(["scan", "--history-only", "."]));
        assert_eq!(code, 2, "{damage}: {stderr}");
        assert!(stderr.contains(&format!("object {tree}")), "{stderr}");
        assert_eq!(
            paths(&v),
            [format!("<blob {blob}>"), "top.env".to_string()],
            "{damage}: {stderr}"
        );
    }
}

/// A missing commit cuts its ancestors off from the refs: a secret only they hold is still
/// reported (by blob id), not taken for an unreachable object and dropped.
#[test]
fn a_secret_beyond_a_missing_commit_is_still_reported() {
    let r = Repo::new();
    r.write("old.env", format!("KEY={LEGACY}\n"));
    r.add(&["."]);
    r.commit("old");
    r.git(&["rm", "-q", "old.env"]);
    r.commit("gone");
    r.write("README.md", "hello\n");
    r.add(&["."]);
    r.commit("later");
    let blob = r.git(&["rev-parse", "HEAD~2:old.env"]).trim().to_string();
    let lost = r.git(&["rev-parse", "HEAD~1"]).trim().to_string();
    std::fs::remove_file(loose_path(&r, &lost)).unwrap();
    let (code, v, stderr) = json(r.keyhound().args(["scan", "--history-only", "."]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("object {lost}")), "{stderr}");
    assert_eq!(paths(&v), [format!("<blob {blob}>")], "{stderr}");
}
