//! Organisation, user and group listings against loopback imitations of the GitHub and GitLab
//! APIs (HTTPS with a test CA), the listed repositories served by git http-backend on
//! 127.0.0.1 behind the same token.

mod common;
mod githost;
mod gitrepo;

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use common::{Pki, Reply, Server};
use gitrepo::{json, Repo, LEGACY, LEGACY2};
use serde_json::{json, Value};

// Random stand-ins for real tokens.
const GH_TOKEN: &str = "ghtest-4JkQ9wZr2Lm8Xv1Pc6Tb";
const GL_TOKEN: &str = "gltest-Hs3Vn7Yq0Ke5Ru2Wd9Fa";

fn keyhound(r: &Repo, dir: &Path) -> Command {
    let mut std = StdCommand::new(assert_cmd::cargo::cargo_bin("keyhound"));
    gitrepo::isolate(&mut std, &r.home());
    for v in [
        "GITHUB_TOKEN",
        "GITLAB_TOKEN",
        "KEYHOUND_GIT_TOKEN",
        "KEYHOUND_CACHE",
        "XDG_CACHE_HOME",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
    ] {
        std.env_remove(v);
    }
    std.current_dir(dir);
    Command::from_std(std)
}

/// Three repositories served over smart HTTP behind `user:token`: two with a key each, and
/// one clean.
struct Served {
    _repos: Vec<Repo>,
    http: githost::Http,
    home: Repo,
}

fn serve(user: &str, token: &str) -> Served {
    let home = Repo::new();
    let base = home.root.path().join("served");
    std::fs::create_dir(&base).unwrap();
    let mut repos = Vec::new();
    for (name, content) in [
        ("o/a.git", format!("KEY={LEGACY}\n")),
        ("o/b.git", format!("KEY={LEGACY2}\n")),
        ("o/fork.git", format!("KEY={LEGACY}\n")),
    ] {
        let r = Repo::new();
        r.write("k.env", content);
        r.add(&["k.env"]);
        r.commit(name);
        githost::publish(&r.path(), &base, name);
        repos.push(r);
    }
    let http = githost::Http::start(&base, Some((user, token)));
    Served {
        _repos: repos,
        http,
        home,
    }
}

fn ca_file(r: &Repo, pki: &Pki) -> String {
    let p = r.root.path().join("ca.pem");
    std::fs::write(&p, &pki.ca_pem).unwrap();
    p.display().to_string()
}

fn repositories(v: &Value) -> Vec<String> {
    let mut r: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["repository"]["path"].as_str().unwrap().to_string())
        .collect();
    r.dedup();
    r
}

#[test]
fn a_github_organization_is_listed_page_by_page_and_cloned_with_the_token() {
    let s = serve("x-access-token", GH_TOKEN);
    let pki = Pki::new(&["localhost"]);
    let git = s.http.url_on("localhost", "");
    let api_port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let port = api_port.clone();
    let page2 = std::sync::atomic::AtomicUsize::new(0);
    let api = Server::start(&pki, move |req, _| {
        let p = port.get().copied().unwrap_or(0);
        let second = || page2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match req.target.as_str() {
            t if t.starts_with("/api/v3/orgs/o/repos?") => Reply::json(
                200,
                json!([{"clone_url": format!("{git}o/a.git"), "fork": false, "archived": false},
                       {"clone_url": format!("{git}o/fork.git"), "fork": true, "archived": false}]),
            )
            .header(
                "link",
                &format!(
                    "<https://localhost:{p}/api/v3/organizations/9/repos?page=2>; rel=\"next\""
                ),
            ),
            // The second page is rate limited once, then served.
            "/api/v3/organizations/9/repos?page=2" if second() == 0 => Reply::new(403, "")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", "1"),
            "/api/v3/organizations/9/repos?page=2" => Reply::json(
                200,
                json!([{"clone_url": format!("{git}o/b.git"), "archived": true}]),
            ),
            _ => Reply::new(404, "{}"),
        }
    });
    api_port.set(api.addr.port()).unwrap();
    let ca = ca_file(&s.home, &pki);
    let clones = s.home.root.path().join("clones");
    let run = |extra: &[&str]| {
        json(
            keyhound(&s.home, s.home.root.path())
                .env("GITHUB_TOKEN", GH_TOKEN)
                .args(["scan", "--github-org", "o", "--ca-cert", &ca, "--clone-dir"])
                .arg(&clones)
                .args([
                    "--api-url",
                    &format!("https://localhost:{}/api/v3", api.addr.port()),
                ])
                .args(extra),
        )
    };
    let (code, v, stderr) = run(&[]);
    assert_eq!(code, 1, "{stderr}");
    let port = s.http.addr.port();
    // The fork and the archived repository are left out.
    assert_eq!(repositories(&v), [format!("localhost:{port}/o/a")]);
    let seen = api.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen
        .iter()
        .all(|r| r.header("authorization") == Some(&format!("Bearer {GH_TOKEN}"))));
    assert!(!stderr.contains(GH_TOKEN));

    let (code, v, stderr) = run(&["--include-forks", "--include-archived"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        repositories(&v),
        [
            format!("localhost:{port}/o/a"),
            format!("localhost:{port}/o/b"),
            format!("localhost:{port}/o/fork"),
        ]
    );
}

#[test]
fn a_gitlab_group_is_listed_with_subgroups_and_its_token() {
    let s = serve("oauth2", GL_TOKEN);
    let pki = Pki::new(&["localhost"]);
    let git = s.http.url_on("localhost", "");
    let api = Server::start(&pki, move |req, _| {
        if req
            .target
            .starts_with("/api/v4/groups/team%2Fsub/projects?")
            && req.target.contains("include_subgroups=true")
            && req.header("private-token") == Some(GL_TOKEN)
        {
            Reply::json(
                200,
                json!([
                    {"http_url_to_repo": format!("{git}o/b.git"), "archived": false},
                    {"http_url_to_repo": format!("{git}o/fork.git"), "archived": false,
                     "forked_from_project": {"id": 1}},
                    {"http_url_to_repo": "https://elsewhere.example/o/x.git"}
                ]),
            )
        } else {
            Reply::new(401, "{}")
        }
    });
    let ca = ca_file(&s.home, &pki);
    let (code, v, stderr) = json(
        keyhound(&s.home, s.home.root.path())
            .env("GITLAB_TOKEN", GL_TOKEN)
            .args(["scan", "--gitlab-group", "team/sub", "--ca-cert", &ca])
            .args([
                "--api-url",
                &format!("https://localhost:{}/api/v4", api.addr.port()),
            ])
            .arg("--clone-dir")
            .arg(s.home.root.path().join("clones")),
    );
    assert_eq!(code, 1, "{stderr}");
    let port = s.http.addr.port();
    assert_eq!(repositories(&v), [format!("localhost:{port}/o/b")]);
    assert!(
        stderr.contains("skipped https://elsewhere.example/o/x.git"),
        "{stderr}"
    );
}

#[test]
fn listing_errors_say_what_to_do() {
    let home = Repo::new();
    let pki = Pki::new(&["localhost"]);
    let api = Server::start(&pki, |_, _| Reply::new(404, "{}"));
    let ca = ca_file(&home, &pki);
    let out = keyhound(&home, home.root.path())
        .args(["scan", "--github-user", "nobody", "--ca-cert", &ca])
        .args([
            "--api-url",
            &format!("https://localhost:{}/api/v3", api.addr.port()),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("GitHub user nobody: not found"), "{stderr}");
    // Plain http is refused before anything is sent.
    let out = keyhound(&home, home.root.path())
        .args([
            "scan",
            "--github-org",
            "o",
            "--api-url",
            "http://ghe.example/api/v3",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be https://"));
}
