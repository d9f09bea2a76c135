//! Incremental re-scans (`--cache`): a re-scan reads only what is new and reports exactly
//! what a scan without the cache reports, after new commits, new packs, a force-push that
//! drops commits (before and after git prunes them), and a change of rules (which starts
//! over). Damaged cache files are ignored with a warning.

mod gitrepo;

use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};

use gitrepo::{Repo, LEGACY, LEGACY2, PROJECT, SVCACCT};
use serde_json::Value;

/// Findings and errors of a JSON report, and its summary.
struct Report {
    findings: Value,
    errors: Value,
    summary: Value,
    stderr: String,
}

fn scan(r: &Repo, target: &Path, cache: Option<&Path>, extra: &[&str]) -> Report {
    let mut cmd = r.keyhound_in(r.root.path());
    cmd.env_remove("KEYHOUND_CACHE")
        .args(["scan", "-f", "json", "--all-objects"])
        .arg(target)
        .args(extra);
    if let Some(c) = cache {
        cmd.arg("--cache").arg(c);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    Report {
        findings: v["findings"].clone(),
        errors: v["errors"].clone(),
        summary: v["summary"].clone(),
        stderr,
    }
}

/// Scans `target` with the cache and without it, and checks that both report the same.
fn same(r: &Repo, target: &Path, cache: &Path, extra: &[&str]) -> Report {
    let full = scan(r, target, None, extra);
    let cached = scan(r, target, Some(cache), extra);
    assert_eq!(cached.findings, full.findings, "{}", cached.stderr);
    assert_eq!(cached.errors, full.errors);
    assert_eq!(cached.summary["commits"], full.summary["commits"]);
    assert_eq!(
        cached.summary["skipped_large"],
        full.summary["skipped_large"]
    );
    assert!(!full.findings.as_array().unwrap().is_empty());
    cached
}

fn cached(r: &Report) -> u64 {
    r.summary["cached"].as_u64().unwrap_or(0)
}

fn scanned(r: &Report) -> u64 {
    r.summary["blobs"].as_u64().unwrap()
}

/// A history with secrets in files, moved, deleted and re-added, in a commit message and an
/// annotated tag's message, plus some clean files; packed, then a bare copy.
fn history() -> (Repo, PathBuf) {
    let r = Repo::new();
    for i in 0..12 {
        r.write(&format!("src/m{i}.txt"), format!("module {i}\n"));
    }
    r.write("conf/app.env", format!("OPENAI_API_KEY={LEGACY}\n"));
    r.write("data/big.txt", "x".repeat(4096));
    r.add(&["."]);
    r.commit("start");
    r.git(&["mv", "conf/app.env", "conf/prod.env"]);
    r.write("src/m1.txt", "module 1, changed\n");
    r.add(&["."]);
    r.commit(&format!("move it; token {LEGACY2}"));
    r.git(&["tag", "-a", "v1", "-m", &format!("release with {PROJECT}")]);
    r.git(&["rm", "-q", "conf/prod.env"]);
    r.commit("remove it");
    r.git(&["gc", "-q"]);
    let bare = r.root.path().join("bare.git");
    r.run_in(
        r.root.path(),
        &["clone", "-q", "--bare", "--no-local", "repo", "bare.git"],
    );
    (r, bare)
}

fn commit_in(r: &Repo, bare: &Path, files: &[(&str, String)], msg: &str) {
    for (p, c) in files {
        r.write(p, c);
    }
    r.add(&["."]);
    r.commit(msg);
    r.git(&["push", "-q", "--force"]);
    let _ = bare;
}

#[test]
fn re_scans_read_only_what_is_new_and_report_the_same() {
    let (r, bare) = history();
    r.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    r.git(&["push", "-q", "--set-upstream", "origin", "main", "--tags"]);
    let cache = r.root.path().join("cache");

    // First scan: everything is read, and recorded.
    let first = same(&r, &bare, &cache, &[]);
    assert_eq!(cached(&first), 0);
    assert!(scanned(&first) >= 14);
    // Nothing changed: nothing is scanned but the blobs with findings.
    let again = same(&r, &bare, &cache, &[]);
    assert!(cached(&again) >= 12, "{}", again.summary);
    assert!(scanned(&again) <= 2, "{}", again.summary);

    // New commits arrive as loose objects: an old secret at a new path, a new secret, a
    // message with a secret; then as a pack of their own.
    commit_in(
        &r,
        &bare,
        &[
            ("copy/app.env", format!("OPENAI_API_KEY={LEGACY}\n")),
            ("src/m2.txt", format!("module 2 key {SVCACCT}\n")),
        ],
        &format!("more, {LEGACY2}"),
    );
    let loose = same(&r, &bare, &cache, &[]);
    assert!(cached(&loose) >= 12, "{}", loose.summary);
    commit_in(&r, &bare, &[("src/m3.txt", "module 3 v2\n".into())], "tidy");
    r.run_in(&bare, &["repack", "-q", "-d"]);
    let packed = same(&r, &bare, &cache, &[]);
    assert!(cached(&packed) >= 12, "{}", packed.summary);
    assert!(scanned(&packed) <= 4, "{}", packed.summary);

    // A force-push drops the last two commits: their objects stay until git prunes them.
    r.git(&["reset", "-q", "--hard", "HEAD~2"]);
    r.git(&["push", "-q", "--force"]);
    same(&r, &bare, &cache, &[]);
    r.run_in(&bare, &["reflog", "expire", "--expire=now", "--all"]);
    r.run_in(&bare, &["gc", "-q", "--prune=now"]);
    let pruned = same(&r, &bare, &cache, &[]);
    // After the repack every pack is new; what it holds is known all the same.
    assert!(cached(&pruned) >= 12, "{}", pruned.summary);
}

#[test]
fn other_rules_start_over_and_work_trees_are_covered() {
    let (r, _bare) = history();
    let cache = r.root.path().join("cache");
    let work = r.path();
    same(&r, &work, &cache, &[]);
    let again = same(&r, &work, &cache, &[]);
    assert!(cached(&again) > 0, "{}", again.summary);
    // Another rule set: nothing recorded under the old one applies.
    let other = same(&r, &work, &cache, &["--disable-rule", "openai.project-key"]);
    assert_eq!(cached(&other), 0, "{}", other.summary);
    let size = same(&r, &work, &cache, &["--max-file-size", "2K"]);
    assert_eq!(cached(&size), 0, "{}", size.summary);
    // Blobs over the limit are counted as a full scan counts them, read or not.
    let size = same(&r, &work, &cache, &["--max-file-size", "2K"]);
    assert!(cached(&size) > 0, "{}", size.summary);
    assert!(size.summary["skipped_large"].as_u64().unwrap_or(0) > 0);
    // And back: the default rules' record was replaced, so this starts over too.
    let back = same(&r, &work, &cache, &[]);
    assert_eq!(cached(&back), 0);
    assert!(cached(&same(&r, &work, &cache, &[])) > 0);
}

#[test]
fn damaged_cache_files_are_ignored_with_a_warning() {
    let (r, bare) = history();
    let cache = r.root.path().join("cache");
    same(&r, &bare, &cache, &[]);
    let files: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one record, no temporary files: {files:?}");
    let whole = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &whole[..whole.len() / 2]).unwrap();
    let torn = same(&r, &bare, &cache, &[]);
    assert!(
        torn.stderr.contains("warning: cache:") && torn.stderr.contains("damaged"),
        "{}",
        torn.stderr
    );
    assert_eq!(cached(&torn), 0);
    // Replaced by a whole record.
    let after = same(&r, &bare, &cache, &[]);
    assert!(!after.stderr.contains("warning"), "{}", after.stderr);
    assert!(cached(&after) > 0);
    // Something else under its name: ignored with a warning too.
    std::fs::write(&files[0], b"KHCACHE\nnot really").unwrap();
    let foreign = same(&r, &bare, &cache, &[]);
    assert!(
        foreign.stderr.contains("warning: cache:"),
        "{}",
        foreign.stderr
    );
    assert_eq!(cached(&foreign), 0);
    assert!(cached(&same(&r, &bare, &cache, &[])) > 0);
}

#[test]
fn two_runs_at_once_leave_a_whole_record() {
    let (r, bare) = history();
    let cache = r.root.path().join("cache");
    let run = || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyhound"));
        gitrepo::isolate(&mut cmd, &r.home());
        cmd.current_dir(r.root.path())
            .env_remove("KEYHOUND_CACHE")
            .args(["scan", "-q", "-f", "json", "--cache"])
            .arg(&cache)
            .arg(&bare)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = (0..4).map(|_| run()).collect();
    for mut c in children {
        assert_eq!(c.wait().unwrap().code(), Some(1));
    }
    let again = same(&r, &bare, &cache, &[]);
    assert!(!again.stderr.contains("warning"), "{}", again.stderr);
    assert!(cached(&again) > 0);
}

#[test]
fn archives_are_read_again_and_report_the_same() {
    let (r, bare) = history();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("conf/app.env", opts).unwrap();
    w.write_all(format!("OPENAI_API_KEY={SVCACCT}\n").as_bytes())
        .unwrap();
    w.start_file("readme.txt", opts).unwrap();
    w.write_all(b"nothing here\n").unwrap();
    let zip = w.finish().unwrap().into_inner();
    let mut torn = zip.clone();
    torn.truncate(zip.len() - 30);
    r.write("dist/app.jar", &zip);
    r.write("dist/broken.zip", &torn);
    r.add(&["."]);
    r.commit("archives");
    r.git(&["rm", "-q", "dist/app.jar", "dist/broken.zip"]);
    r.commit("no archives");
    r.git(&["gc", "-q"]);
    let cache = r.root.path().join("cache");
    let work = r.path();
    let first = same(&r, &work, &cache, &[]);
    let again = same(&r, &work, &cache, &[]);
    assert!(cached(&again) > 0, "{}", again.summary);
    assert_eq!(first.summary["archives"], again.summary["archives"]);
    let jar = |r: &Report| r.findings.to_string().contains("app.jar");
    assert!(jar(&first) && jar(&again), "{}", again.findings);
    // The damaged archive's warning is given again.
    let warned = |r: &Report| r.stderr.contains("broken.zip") || r.stderr.contains("warning");
    assert_eq!(
        warned(&first),
        warned(&again),
        "{}\n{}",
        first.stderr,
        again.stderr
    );
    let _ = bare;
}

/// A credential-file rule reads a blob only where a tree names it so (history scans blobs
/// before their paths are known): a file the cache knows to hold nothing, renamed later to a
/// name such a rule takes, is read again and reported there, and only there.
#[test]
fn a_clean_file_renamed_to_a_credential_file_is_found_after_a_cached_scan() {
    let r = Repo::new();
    // A random fake, too weak for the generic rules: only `netrc.password` reports it.
    let netrc = "machine ci.acme.internal login deploy password tq7wz3\n";
    r.write("docs/netrc-sample.txt", netrc);
    r.write("src/main.txt", format!("OPENAI_API_KEY={LEGACY}\n"));
    r.add(&["."]);
    r.commit("start");
    r.git(&["gc", "-q"]);
    let cache = r.root.path().join("cache");
    let work = r.path();
    let first = same(&r, &work, &cache, &[]);
    assert!(!first.findings.to_string().contains("netrc.password"));

    r.write("home/.netrc", netrc);
    r.git(&["rm", "-q", "docs/netrc-sample.txt"]);
    r.add(&["."]);
    r.commit("use it");
    // Gone from the working tree: only history holds it.
    r.git(&["rm", "-q", "home/.netrc"]);
    r.commit("drop it");
    let renamed = same(&r, &work, &cache, &[]);
    let at: Vec<(String, String)> = (renamed.findings.as_array().unwrap().iter())
        .map(|f| (f["rule_id"].as_str().unwrap().into(), f["path"].to_string()))
        .filter(|(rule, _)| rule == "netrc.password")
        .collect();
    assert_eq!(at.len(), 1, "{at:?}");
    assert!(at[0].1.ends_with("home/.netrc\""), "{at:?}");
}
