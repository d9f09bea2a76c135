//! The repositories a scan takes besides its PATHs: git URLs among the PATHs, `--repos` lists
//! and organisation and group listings, each scanned on its own; and `--shard`'s share of
//! them all (PATHs included).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};

use crate::cli::{RemoteArgs, ValidationArgs};
use crate::remote::clone::Credential;
use crate::remote::hosting::{self, Listing};
use crate::remote::url::{RemoteUrl, Scheme};
use crate::remote::Shard;

/// A repository scanned on its own.
#[derive(Debug, Clone)]
pub enum Target {
    /// A path from a `--repos` list.
    Local(PathBuf),
    Remote {
        url: RemoteUrl,
        credential: Option<Credential>,
    },
}

impl Target {
    /// What names the repository for `--shard` and for de-duplication.
    pub fn identity(&self) -> String {
        match self {
            Target::Local(p) => path_identity(p),
            Target::Remote { url, .. } => url.identity(),
        }
    }
}

/// A path as written, with `.` components and trailing slashes dropped.
pub fn path_identity(p: &Path) -> String {
    let n = super::scope::normalize(p);
    let s = n.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

/// What the command line asks for besides local PATHs.
#[derive(Debug, Clone, Default)]
pub struct RemoteOptions {
    pub targets: Vec<Target>,
    pub listings: Vec<Listing>,
    pub list: hosting::ListOptions,
    /// The HTTPS client for listings (`--ca-cert`, `--connect-to`).
    pub client: Option<crate::validate::ClientOptions>,
    pub clone_dir: PathBuf,
    pub shard: Option<Shard>,
    /// URLs, `--repos` or listings were given (even if they name nothing): no default `.`.
    pub asked: bool,
}

impl RemoteOptions {
    /// Reads URLs among `paths` (which keeps only the paths) and the `--repos` files.
    pub fn resolve(
        args: &RemoteArgs,
        validation: &ValidationArgs,
        paths: &mut Vec<PathBuf>,
    ) -> Result<RemoteOptions> {
        let mut targets = Vec::new();
        let mut kept = Vec::new();
        for p in paths.drain(..) {
            match url_of(&p)? {
                Some(url) => targets.push(remote(url)),
                None => kept.push(p),
            }
        }
        *paths = kept;
        for file in &args.repos {
            targets.extend(read_list(file)?);
        }
        let mut listings: Vec<Listing> = Vec::new();
        listings.extend(args.github_org.iter().cloned().map(Listing::GithubOrg));
        listings.extend(args.github_user.iter().cloned().map(Listing::GithubUser));
        listings.extend(args.gitlab_group.iter().cloned().map(Listing::GitlabGroup));
        let github = listings
            .iter()
            .any(|l| !matches!(l, Listing::GitlabGroup(_)));
        let gitlab = listings
            .iter()
            .any(|l| matches!(l, Listing::GitlabGroup(_)));
        if github && gitlab && args.api_url.is_some() {
            bail!("--api-url names one API: list GitHub and GitLab repositories in separate runs");
        }
        if args.api_url.is_some() && listings.is_empty() {
            bail!("--api-url needs --github-org, --github-user or --gitlab-group");
        }
        let client = if listings.is_empty() {
            None
        } else {
            Some(client_options(validation)?)
        };
        let asked = !targets.is_empty() || !args.repos.is_empty() || !listings.is_empty();
        Ok(RemoteOptions {
            asked,
            targets,
            listings,
            list: hosting::ListOptions {
                api_url: args.api_url.clone(),
                include_forks: args.include_forks,
                include_archived: args.include_archived,
                token: None,
                max_wait: Duration::from_secs(15 * 60),
            },
            client,
            clone_dir: match &args.clone_dir {
                Some(d) => d.clone(),
                None => default_cache_dir()?.join("repos"),
            },
            shard: args.shard,
        })
    }

    /// Whether anything besides local PATHs was asked for.
    pub fn any(&self) -> bool {
        !self.targets.is_empty() || !self.listings.is_empty()
    }

    /// Lists the organisations and groups (the network), and returns every target once, in
    /// order: the command line's and lists' first, then the listings', each sorted.
    pub fn expand(&self, notes: &mut Vec<String>) -> Result<Vec<Target>> {
        let mut out = self.targets.clone();
        if !self.listings.is_empty() {
            let opts = self.client.clone().unwrap_or_default();
            let transport = crate::validate::UreqTransport::new(&crate::validate::ClientOptions {
                timeout: Duration::from_secs(60),
                ..opts
            });
            for what in &self.listings {
                let github = !matches!(what, Listing::GitlabGroup(_));
                let list = hosting::ListOptions {
                    token: token(if github {
                        "GITHUB_TOKEN"
                    } else {
                        "GITLAB_TOKEN"
                    }),
                    ..self.list.clone()
                };
                let found = hosting::list(what, &list, &transport, &std::thread::sleep)?;
                notes.extend(found.warnings.iter().map(|w| format!("warning: {w}")));
                if found.left_out > 0 {
                    log::info!(
                        "{} forks or archived repositories left out (--include-forks, --include-archived)",
                        found.left_out
                    );
                }
                out.extend(found.repos.into_iter().map(|l| Target::Remote {
                    url: l.url,
                    credential: l.credential,
                }));
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|t| seen.insert(t.identity()));
        Ok(out)
    }
}

/// A PATH that is a git URL (and not an existing file or directory).
fn url_of(p: &Path) -> Result<Option<RemoteUrl>> {
    if p.symlink_metadata().is_ok() {
        return Ok(None);
    }
    let Some(text) = p.to_str() else {
        return Ok(None);
    };
    match RemoteUrl::recognise(text) {
        None => Ok(None),
        Some(r) => r.map(Some).map_err(anyhow::Error::from),
    }
}

/// Reads a `--repos` file: one URL or path per line, blank lines and `#` comment lines
/// skipped. Paths are relative to the current directory, as PATHs are.
fn read_list(file: &Path) -> Result<Vec<Target>> {
    let text = read_list_text(file).with_context(|| format!("--repos {}", file.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let entry = Path::new(line);
        match url_of(entry).with_context(|| format!("{}:{}", file.display(), n + 1))? {
            Some(url) => out.push(remote(url)),
            None => out.push(Target::Local(entry.to_path_buf())),
        }
    }
    Ok(out)
}

/// A list's text, at most 16 MiB. A pipe is fine (`--repos <(gh repo list ...)`).
fn read_list_text(file: &Path) -> Result<String> {
    use std::io::Read;
    const LIMIT: u64 = 16 << 20;
    let mut bytes = Vec::new();
    std::fs::File::open(file)?
        .take(LIMIT + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > LIMIT {
        bail!("larger than {LIMIT} bytes");
    }
    String::from_utf8(bytes).context("not UTF-8 text")
}

/// A URL from the command line or a list, with the token meant for its host, if any:
/// `KEYHOUND_GIT_TOKEN` for any HTTPS host, else `GITHUB_TOKEN` for github.com and
/// `GITLAB_TOKEN` for gitlab.com.
fn remote(url: RemoteUrl) -> Target {
    let credential = url.credential_origin().and_then(|origin| {
        let (password, username) = if let Some(t) = token("KEYHOUND_GIT_TOKEN") {
            let user = std::env::var("KEYHOUND_GIT_USERNAME")
                .ok()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "x-access-token".into());
            (t, user)
        } else if url.scheme == Scheme::Https && url.host == "github.com" {
            (token("GITHUB_TOKEN")?, "x-access-token".into())
        } else if url.scheme == Scheme::Https && url.host == "gitlab.com" {
            (token("GITLAB_TOKEN")?, "oauth2".into())
        } else {
            return None;
        };
        Some(Credential {
            origin,
            username,
            password,
        })
    });
    Target::Remote { url, credential }
}

fn token(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|t| !t.trim().is_empty())
}

/// The HTTPS client for listings: the validation client's `--ca-cert` and `--connect-to`.
fn client_options(v: &ValidationArgs) -> Result<crate::validate::ClientOptions> {
    let mut extra_ca = Vec::new();
    for path in &v.ca_cert {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read --ca-cert {}", path.display()))?;
        extra_ca.extend(
            crate::validate::read_pem_certificates(&pem)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("--ca-cert {}", path.display()))?,
        );
    }
    Ok(crate::validate::ClientOptions {
        timeout: Duration::from_secs(60),
        connect_to: v.connect_to.clone(),
        extra_ca,
        env_proxy: true,
    })
}

/// keyhound's directory in the user's cache directory: `$XDG_CACHE_HOME/keyhound`, else
/// `~/.cache/keyhound` (`~/Library/Caches/keyhound` on macOS, `%LOCALAPPDATA%\keyhound` on
/// Windows).
pub fn default_cache_dir() -> Result<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| h.join("Library/Caches"))
    } else {
        var("XDG_CACHE_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| var("HOME").map(|h| h.join(".cache")))
    };
    base.map(|b| b.join("keyhound"))
        .context("cannot find a cache directory (no HOME); pass --clone-dir")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repos_files_mix_urls_paths_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("repos.txt");
        std::fs::write(
            &list,
            "# the audit\n\nhttps://github.com/o/a.git\n  git@github.com:o/b  \n./local/repo\n# end\n",
        )
        .unwrap();
        let t = read_list(&list).unwrap();
        let ids: Vec<String> = t.iter().map(Target::identity).collect();
        assert_eq!(ids, ["github.com/o/a", "github.com/o/b", "local/repo"]);
        std::fs::write(&list, "https://u:tok@github.com/o/a\n").unwrap();
        let e = format!("{:#}", read_list(&list).unwrap_err());
        assert!(e.contains("repos.txt:1") && !e.contains("tok@"), "{e}");
    }

    #[test]
    fn path_identities() {
        assert_eq!(path_identity(Path::new("./a/b/")), "a/b");
        assert_eq!(path_identity(Path::new(".")), ".");
        assert_eq!(path_identity(Path::new("/srv/x")), "/srv/x");
    }
}
