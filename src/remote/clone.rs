//! Bare clones of remote repositories, kept in a cache directory and fetched again on the next
//! run, through the `git` command.
//!
//! Why the git command rather than gix's network client: git already speaks every transport
//! and authentication scheme people use (https with proxies, `insteadOf`, credential helpers
//! and managers, ssh with agents, Kerberos), and costs keyhound nothing to build; gix's client
//! added 15 crates and 3.5 MB to a release binary before any HTTPS transport, and its HTTPS
//! transports bring either curl or reqwest with tokio.
//!
//! git runs with a cleared environment (only what finding the user's configuration, proxies
//! and ssh agent needs is kept), never prompts, and never sees a credential on its command
//! line: a token from the environment reaches it through a credential helper scoped to the
//! one host it is for, which reads the token from git's own environment. That helper also
//! replaces the user's helpers for that host, so the token is never stored by them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::url::{RemoteUrl, Scheme};

/// Why a repository could not be cloned or fetched.
#[derive(Debug, thiserror::Error)]
pub enum CloneError {
    #[error("cannot run git: {0} (remote repositories are cloned with the git command)")]
    NoGit(std::io::Error),
    #[error("git {step} failed: {message}")]
    Git { step: &'static str, message: String },
    #[error("{0} exists and is not a clone keyhound made; choose another --clone-dir")]
    NotOurs(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// A token for HTTPS remotes: sent as the password of `username` to `origin` only.
#[derive(Clone)]
pub struct Credential {
    /// `scheme://host[:port]`.
    pub origin: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({} as {})", self.origin, self.username)
    }
}

/// The result of bringing a clone up to date.
#[derive(Debug)]
pub struct Mirror {
    /// The bare repository.
    pub dir: PathBuf,
    /// Set when an existing clone could not be fetched: it is scanned as it was.
    pub stale: Option<String>,
}

/// The configuration key that marks a clone as keyhound's, with the repository's identity.
const MARK: &str = "keyhound.identity";

/// Where the clone of `url` lives under `root`: `root/<host>/<path>.git`, each part reduced
/// to safe characters (with a hash of the identity when that changed anything).
pub fn clone_dir(root: &Path, url: &RemoteUrl) -> PathBuf {
    let identity = url.identity();
    let host = if url.scheme == Scheme::File {
        "file".to_string()
    } else {
        identity.split('/').next().unwrap_or("").replace(':', "_")
    };
    let rest = if url.scheme == Scheme::File {
        identity.as_str()
    } else {
        identity.split_once('/').map_or("", |(_, r)| r)
    };
    let mut changed = false;
    let mut dir = root.join(safe_part(&host, &mut changed));
    let parts: Vec<String> = rest
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| safe_part(p, &mut changed))
        .collect();
    let mut last = parts.last().cloned().unwrap_or_else(|| "repo".into());
    for p in &parts[..parts.len().saturating_sub(1)] {
        dir.push(p);
    }
    if changed {
        let digest = crate::blob::BlobId::of(identity.as_bytes()).to_hex();
        last = format!("{last}-{}", &digest[..8]);
    }
    dir.join(format!("{last}.git"))
}

fn safe_part(p: &str, changed: &mut bool) -> String {
    let mut s: String = p
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with('.') || s.is_empty() {
        s.insert(0, '_');
    }
    if s != p {
        *changed = true;
    }
    s
}

/// Clones `url` under `root`, or fetches the clone that is there, and returns it.
pub fn update(
    url: &RemoteUrl,
    root: &Path,
    credential: Option<&Credential>,
) -> Result<Mirror, CloneError> {
    let dir = clone_dir(root, url);
    if dir.exists() {
        return fetch(url, &dir, credential);
    }
    let parent = dir.parent().unwrap_or(root);
    std::fs::create_dir_all(parent).map_err(|e| CloneError::Io(parent.to_path_buf(), e))?;
    // Cloned beside its place and renamed into it: an interrupted clone leaves nothing that
    // looks like a clone, and two runs cloning at once both end with a whole one.
    let temp = parent.join(format!(
        ".{}.tmp-{}-{}",
        dir.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        unique()
    ));
    if let Err(e) = init(url, &temp).and_then(|()| fetch_into(&temp, credential)) {
        let _ = std::fs::remove_dir_all(&temp);
        return Err(e);
    }
    follow_head(&temp, credential);
    if let Err(e) = std::fs::rename(&temp, &dir) {
        let _ = std::fs::remove_dir_all(&temp);
        if !dir.exists() {
            return Err(CloneError::Io(dir, e));
        }
    }
    Ok(Mirror { dir, stale: None })
}

/// An empty bare repository at `dir` set up to fetch every branch and tag of `url` (and
/// nothing else: no pull-request refs, no notes), marked as keyhound's. No templates: nothing
/// of the user's (hooks) is copied in.
fn init(url: &RemoteUrl, dir: &Path) -> Result<(), CloneError> {
    let mut cmd = git(None);
    cmd.args(["init", "--bare", "--quiet", "--template="])
        .arg(dir);
    run(cmd, "init")?;
    let config = |args: &[&str]| {
        let mut cmd = git(None);
        cmd.arg("-C").arg(dir).arg("config").args(args);
        run(cmd, "config")
    };
    config(&["remote.origin.url", url.as_str()])?;
    config(&["--add", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"])?;
    config(&["--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"])?;
    config(&[MARK, &url.identity()])
}

/// Fetches every branch and tag into `dir`, dropping what the remote dropped.
fn fetch_into(dir: &Path, credential: Option<&Credential>) -> Result<(), CloneError> {
    let mut cmd = git(credential);
    cmd.arg("-C").arg(dir).args([
        "fetch",
        "--quiet",
        "--prune",
        "--no-tags",
        "--force",
        "origin",
    ]);
    run(cmd, "fetch")
}

/// Fetches an existing clone: every branch and tag, dropping what the remote dropped, and
/// HEAD moved to the remote's default branch.
fn fetch(
    url: &RemoteUrl,
    dir: &Path,
    credential: Option<&Credential>,
) -> Result<Mirror, CloneError> {
    let mut check = git(None);
    check.arg("-C").arg(dir).args(["config", "--get", MARK]);
    match output(check, "config") {
        Ok(id) if id.trim() == url.identity() => {}
        _ => return Err(CloneError::NotOurs(dir.to_path_buf())),
    }
    let mut set_url = git(None);
    set_url
        .arg("-C")
        .arg(dir)
        .args(["remote", "set-url", "origin", "--"])
        .arg(url.as_str());
    run(set_url, "remote set-url")?;
    if let Err(e) = fetch_into(dir, credential) {
        return Ok(Mirror {
            dir: dir.to_path_buf(),
            stale: Some(e.to_string()),
        });
    }
    follow_head(dir, credential);
    Ok(Mirror {
        dir: dir.to_path_buf(),
        stale: None,
    })
}

/// Points HEAD at the remote's default branch, if the remote says which it is.
fn follow_head(dir: &Path, credential: Option<&Credential>) {
    let mut cmd = git(credential);
    cmd.arg("-C")
        .arg(dir)
        .args(["ls-remote", "--symref", "origin", "HEAD"]);
    let Ok(out) = output(cmd, "ls-remote") else {
        return;
    };
    let target = out.lines().find_map(|l| {
        let rest = l.strip_prefix("ref: ")?;
        let (target, name) = rest.split_once('\t')?;
        (name == "HEAD" && target.starts_with("refs/heads/")).then(|| target.to_string())
    });
    if let Some(t) = target {
        let mut cmd = git(None);
        cmd.arg("-C").arg(dir).args(["symbolic-ref", "HEAD", &t]);
        let _ = run(cmd, "symbolic-ref");
    }
}

/// Environment variables git may use: finding the user's configuration and credential
/// helpers, proxies, and the ssh agent. Everything else (`GIT_DIR`, `GIT_CONFIG_*`, ...) is
/// cleared.
const KEEP: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "XDG_CONFIG_HOME",
    "XDG_RUNTIME_DIR",
    "TMPDIR",
    "SSH_AUTH_SOCK",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_SSL_CAINFO",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SYSTEMROOT",
    "APPDATA",
    "USERPROFILE",
];

/// The helper that answers for the credential's origin: it prints the user name and token git
/// got in its environment, so neither is ever on a command line.
const HELPER: &str = "!f() { test \"$1\" = get || exit 0; \
    printf 'username=%s\\npassword=%s\\n' \"$KEYHOUND_GIT_USERNAME\" \"$KEYHOUND_GIT_PASSWORD\"; }; f";

fn git(credential: Option<&Credential>) -> Command {
    let mut cmd = Command::new("git");
    cmd.env_clear();
    for k in KEEP {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        // A stalled transfer gives up instead of hanging the audit.
        .args([
            "-c",
            "http.lowSpeedLimit=1000",
            "-c",
            "http.lowSpeedTime=120",
        ]);
    if let Some(c) = credential {
        let key = format!("credential.{}.helper", c.origin);
        cmd.args(["-c", &format!("{key}=")])
            .args(["-c", &format!("{key}={HELPER}")])
            .env("KEYHOUND_GIT_USERNAME", &c.username)
            .env("KEYHOUND_GIT_PASSWORD", &c.password);
    }
    cmd
}

fn run(cmd: Command, step: &'static str) -> Result<(), CloneError> {
    output(cmd, step).map(|_| ())
}

fn output(mut cmd: Command, step: &'static str) -> Result<String, CloneError> {
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(CloneError::NoGit)?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| crate::report::sanitize(&super::url::strip_userinfo(l)))
        .collect::<Vec<_>>()
        .join("; ");
    Err(CloneError::Git {
        step,
        message: if message.is_empty() {
            format!("exit status {}", out.status)
        } else {
            message
        },
    })
}

fn unique() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_dirs_follow_the_identity_and_stay_inside_the_root() {
        let root = Path::new("/c");
        let d = |u: &str| clone_dir(root, &RemoteUrl::parse(u).unwrap());
        assert_eq!(
            d("https://github.com/o/r.git"),
            Path::new("/c/github.com/o/r.git")
        );
        assert_eq!(d("git@github.com:o/r"), Path::new("/c/github.com/o/r.git"));
        assert_eq!(
            d("https://h.example:8443/g/p"),
            Path::new("/c/h.example_8443/g/p.git")
        );
        assert_eq!(
            d("file:///srv/git/a.git"),
            Path::new("/c/file/srv/git/a.git")
        );
        for hostile in [
            "https://h.example/../../etc/x",
            "https://h.example/a/.git/b",
            "ssh://h.example/~user/r",
        ] {
            let p = d(hostile);
            assert!(p.starts_with("/c/h.example"), "{}", p.display());
            assert!(
                p.components()
                    .all(|c| c.as_os_str() != ".." && c.as_os_str() != ".git"),
                "{}",
                p.display()
            );
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.contains('-') && name.ends_with(".git"), "{name}");
        }
    }

    #[test]
    fn a_credential_never_shows_in_debug() {
        let c = Credential {
            origin: "https://h".into(),
            username: "x-access-token".into(),
            password: "tok-123".into(),
        };
        assert!(!format!("{c:?}").contains("tok-123"));
    }
}
