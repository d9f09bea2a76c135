//! Remote repositories: cloned over file://, git:// (git daemon) and smart HTTP (git
//! http-backend) on 127.0.0.1, fetched again on the next run, with credentials that reach git
//! only through its credential machinery; `--repos` lists.

mod githost;
mod gitrepo;

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use gitrepo::{json, Repo, LEGACY, LEGACY2, PROJECT};
use serde_json::Value;

/// keyhound with the repository's isolated environment and none of the caller's tokens.
fn keyhound(r: &Repo, dir: &Path) -> Command {
    let mut std = StdCommand::new(assert_cmd::cargo::cargo_bin("keyhound"));
    gitrepo::isolate(&mut std, &r.home());
    for v in [
        "GITHUB_TOKEN",
        "GITLAB_TOKEN",
        "KEYHOUND_GIT_TOKEN",
        "KEYHOUND_GIT_USERNAME",
        "KEYHOUND_CACHE",
        "XDG_CACHE_HOME",
    ] {
        std.env_remove(v);
    }
    std.current_dir(dir);
    Command::from_std(std)
}

/// A repository with a key committed then deleted, and a second key still in HEAD.
fn leaky() -> Repo {
    let r = Repo::new();
    r.write("old.env", format!("OPENAI_API_KEY={LEGACY}\n"));
    r.add(&["old.env"]);
    r.commit("add a key");
    r.git(&["rm", "-q", "old.env"]);
    r.write("app/settings.py", format!("KEY = \"{PROJECT}\"\n"));
    r.add(&["app/settings.py"]);
    r.commit("move the key");
    r
}

/// `(path, origin, repository path, repository remote)` of each finding.
fn places(v: &Value) -> Vec<(String, String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["origin"].as_str().unwrap().to_string(),
                f["repository"]["path"].as_str().unwrap_or("").to_string(),
                f["repository"]["remote"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_git_daemon_repository_is_cloned_then_fetched() {
    let r = leaky();
    let served = r.root.path().join("served");
    std::fs::create_dir(&served).unwrap();
    let bare = githost::publish(&r.path(), &served, "team/leaky.git");
    let daemon = githost::Daemon::start(&served);
    let clones = r.root.path().join("clones");
    let url = daemon.url("team/leaky.git");
    let scan = || {
        json(
            keyhound(&r, r.root.path())
                .args(["scan", "--clone-dir"])
                .arg(&clones)
                .arg(&url),
        )
    };
    let (code, v, stderr) = scan();
    assert_eq!(code, 1, "{stderr}");
    let id = format!("127.0.0.1:{}/team/leaky", daemon.port);
    let mut expected = vec![
        (
            format!("{id}/app/settings.py"),
            "history".into(),
            id.clone(),
            url.clone(),
        ),
        (
            format!("{id}/old.env"),
            "history".into(),
            id.clone(),
            url.clone(),
        ),
    ];
    assert_eq!(places(&v), expected);
    assert_eq!(v["findings"][0]["history"]["in_head"], true);
    assert_eq!(v["findings"][1]["history"]["in_head"], false);
    let dir = clones.join(format!("127.0.0.1_{}/team/leaky.git", daemon.port));
    assert!(
        dir.join("objects").is_dir(),
        "the clone is kept: {}",
        dir.display()
    );
    assert!(!stderr.contains(&clones.display().to_string()), "{stderr}");

    // A new commit upstream: the next run fetches it.
    r.write("later.txt", format!("token = {LEGACY2}\n"));
    r.add(&["later.txt"]);
    r.commit("another");
    githost::push_all(&r.path(), &bare);
    let (code, v, stderr) = scan();
    assert_eq!(code, 1, "{stderr}");
    expected.push((
        format!("{id}/later.txt"),
        "history".into(),
        id.clone(),
        url.clone(),
    ));
    expected.sort();
    let mut got = places(&v);
    got.sort();
    assert_eq!(got, expected);

    // The server is gone: the clone is scanned as it was, and the run says it failed.
    drop(daemon);
    let (code, v, _) = scan();
    assert_eq!(code, 2);
    assert_eq!(v["findings"].as_array().unwrap().len(), 3);
    let err = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        err.contains("fetch") && err.contains("last successful fetch"),
        "{err}"
    );
    assert_eq!(v["errors"][0]["path"], id.as_str());
}

#[test]
fn a_force_push_that_drops_a_commit_drops_its_findings() {
    let r = leaky();
    let served = r.root.path().join("served");
    std::fs::create_dir(&served).unwrap();
    r.write("oops.txt", format!("token = {LEGACY2}\n"));
    r.add(&["oops.txt"]);
    r.commit("oops");
    let bare = githost::publish(&r.path(), &served, "x.git");
    let url = format!("file://{}", bare.display());
    let clones = r.root.path().join("clones");
    let scan = || {
        json(
            keyhound(&r, r.root.path())
                .args(["scan", "--clone-dir"])
                .arg(&clones)
                .arg(&url),
        )
    };
    let (_, v, _) = scan();
    assert!(places(&v).iter().any(|p| p.0.ends_with("/oops.txt")));
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    githost::push_all(&r.path(), &bare);
    let (code, v, stderr) = scan();
    assert_eq!(code, 1, "{stderr}");
    let got = places(&v);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|p| !p.0.ends_with("/oops.txt")), "{got:?}");
    // Still in the clone's objects, but no ref reaches it: --all-objects finds it.
    let (_, v, _) = json(
        keyhound(&r, r.root.path())
            .args(["scan", "--all-objects", "--clone-dir"])
            .arg(&clones)
            .arg(&url),
    );
    assert!(places(&v).iter().any(|p| p.0.ends_with("/oops.txt")), "{v}");
}

/// A `git` on PATH that records its arguments and environment names, then runs the real git.
fn git_shim(r: &Repo) -> (std::path::PathBuf, std::path::PathBuf) {
    let bin = r.root.path().join("shim");
    std::fs::create_dir_all(&bin).unwrap();
    let log = r.root.path().join("git-args.log");
    let real = String::from_utf8(
        StdCommand::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
        log.display(),
        real.trim()
    );
    let shim = bin.join("git");
    std::fs::write(&shim, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

#[test]
fn an_http_token_reaches_git_only_through_its_credential_helper() {
    let r = leaky();
    let served = r.root.path().join("served");
    std::fs::create_dir(&served).unwrap();
    githost::publish(&r.path(), &served, "private.git");
    // A random stand-in for a real token.
    let token = "tok-8Yq2LrV0xWn3Kd7PzA5s";
    let http = githost::Http::start(&served, Some(("x-access-token", token)));
    // The user's own helper would store what it is given: it must never see the token.
    std::fs::write(
        r.home().join(".gitconfig"),
        "[credential]\n\thelper = store\n",
    )
    .unwrap();
    let (shim, log) = git_shim(&r);
    let path = format!(
        "{}:{}",
        shim.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let clones = r.root.path().join("clones");
    let url = http.url("private.git");
    let run = |token: Option<&str>| {
        let mut cmd = keyhound(&r, r.root.path());
        cmd.env("PATH", &path)
            .args(["scan", "--clone-dir"])
            .arg(&clones)
            .arg(&url);
        if let Some(t) = token {
            cmd.env("KEYHOUND_GIT_TOKEN", t);
        }
        let out = cmd.args(["-f", "sarif"]).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Without a token git cannot authenticate, and does not prompt.
    let (code, _, stderr) = run(None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("git fetch failed"), "{stderr}");
    let (code, report, stderr) = run(Some(token));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(report.contains("old.env"), "{report}");
    let expected = format!(
        "Basic {}",
        githost::base64(format!("x-access-token:{token}").as_bytes())
    );
    assert!(http
        .auth_seen
        .lock()
        .unwrap()
        .iter()
        .any(|a| a.as_deref() == Some(expected.as_str())));
    let args = std::fs::read_to_string(&log).unwrap();
    assert!(args.contains("fetch"), "{args}");
    for text in [&args, &report, &stderr] {
        assert!(!text.contains(token), "the token leaked: {text}");
    }
    assert!(
        !r.home().join(".git-credentials").exists(),
        "the user's helper stored the token"
    );
}

#[test]
fn credentials_in_urls_are_refused_without_repeating_them() {
    let r = Repo::new();
    let out = keyhound(&r, r.root.path())
        .args(["scan", "https://me:ghp_notreal123@example.com/o/r.git"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("credentials in a URL are refused"),
        "{stderr}"
    );
    assert!(stderr.contains("https://example.com/o/r.git"), "{stderr}");
    assert!(!stderr.contains("ghp_notreal123"), "{stderr}");
    let out = keyhound(&r, r.root.path())
        .args(["scan", "http://example.com/o/r.git"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use https://"));
}

#[test]
fn repos_lists_mix_urls_and_paths_and_each_is_its_own_repository() {
    let a = leaky();
    let b = Repo::new();
    b.write("k.txt", format!("OPENAI_API_KEY={LEGACY2}\n"));
    b.add(&["k.txt"]);
    b.commit("b");
    let served = a.root.path().join("served");
    std::fs::create_dir(&served).unwrap();
    let bare = githost::publish(&a.path(), &served, "a.git");
    let list = a.root.path().join("repos.txt");
    std::fs::write(
        &list,
        format!(
            "# remote, then local\nfile://{}\n\n{}\n",
            bare.display(),
            b.path().display()
        ),
    )
    .unwrap();
    let clones = a.root.path().join("clones");
    let (code, v, stderr) = json(
        keyhound(&a, a.root.path())
            .args(["scan", "-j", "2", "--clone-dir"])
            .arg(&clones)
            .arg("--repos")
            .arg(&list),
    );
    assert_eq!(code, 1, "{stderr}");
    let got = places(&v);
    let remote_id = bare
        .display()
        .to_string()
        .trim_end_matches(".git")
        .to_string();
    assert!(
        got.iter()
            .any(|p| p.2 == remote_id && p.3 == format!("file://{}", bare.display())),
        "{got:?}"
    );
    let local = got
        .iter()
        .find(|p| p.0.ends_with("k.txt"))
        .expect("the local repository's file");
    assert_eq!(local.1, "file");
    assert_eq!(v["summary"]["repositories"], 2);
    // Nothing else: without PATHs, a list does not add the current directory.
    assert_eq!(got.len(), 3, "{got:?}");
}
