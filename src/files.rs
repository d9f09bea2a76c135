//! Reading the small files keyhound is told to read (configuration, rule files, baselines)
//! as the hostile input they may be: only regular files, only up to a size limit, only inside
//! the repository that named them, and never echoing their content in an error.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest configuration, rule or baseline file keyhound reads.
pub const MAX_TEXT_FILE: u64 = 8 << 20;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{file}: cannot read")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: not a regular file")]
    NotAFile { file: String },
    #[error("{file}: larger than {limit} bytes")]
    TooLarge { file: String, limit: u64 },
    #[error("{file}: not UTF-8 text")]
    NotText { file: String },
    #[error(
        "{file}: refused: it resolves outside {root}, and a repository's configuration may only \
         name files inside the repository"
    )]
    Outside { file: String, root: String },
}

/// Reads `path` as text: a regular file of at most `limit` bytes. With `inside`, the file
/// must resolve (symbolic links followed) to a place under that directory.
pub fn read_text(path: &Path, limit: u64, inside: Option<&Path>) -> Result<String, ReadError> {
    let file = path.display().to_string();
    if let Some(root) = inside {
        confine(path, root)?;
    }
    let io = |source| ReadError::Io {
        file: file.clone(),
        source,
    };
    // Checked before opening: opening a FIFO for reading blocks until a writer appears.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile { file });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { file, limit });
    }
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.by_ref()
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { file, limit });
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotText { file })
}

/// Fails unless `path` resolves to a place under `root`.
pub fn confine(path: &Path, root: &Path) -> Result<PathBuf, ReadError> {
    let outside = || ReadError::Outside {
        file: path.display().to_string(),
        root: root.display().to_string(),
    };
    let root = std::fs::canonicalize(root).map_err(|source| ReadError::Io {
        file: root.display().to_string(),
        source,
    })?;
    let real = std::fs::canonicalize(path).map_err(|source| ReadError::Io {
        file: path.display().to_string(),
        source,
    })?;
    if real.starts_with(&root) {
        Ok(real)
    } else {
        Err(outside())
    }
}

/// A parser's error message with every quoted value cut short: parse errors quote the text
/// they choked on, and that text may be a secret (a configuration file that is really a
/// credentials file). Quoted values longer than a few characters keep only their start and
/// length; names in backticks (fields, variants) are kept when short.
pub fn redact_message(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[i] as char;
        out.push_str(&rest[..=i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find(quote) else {
            out.push_str(&redact_value(after, quote));
            return out;
        };
        out.push_str(&redact_value(&after[..j], quote));
        out.push(quote);
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

fn redact_value(v: &str, quote: char) -> String {
    let keep = if quote == '`' { 40 } else { 6 };
    let n = v.chars().count();
    if n <= keep {
        return crate::text::sanitize(v);
    }
    let start: String = v.chars().take(4.min(n / 4)).collect();
    format!("{}…({n} chars)", crate::text::sanitize(&start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_cut_short() {
        let m = "invalid type: string \"https://user:ghp_aaaaaaaaaaaaaaaaaaaa@github.com\", expected struct";
        let r = redact_message(m);
        assert!(!r.contains("ghp_"), "{r}");
        assert!(r.contains("\"http…(48 chars)\""), "{r}");
        let m = "unknown field `rotat`, expected one of `id`, `name`";
        assert_eq!(redact_message(m), m);
        let m = "unterminated \"abcdefghijklmnop";
        assert!(!redact_message(m).contains("ijkl"));
    }

    #[test]
    fn only_regular_bounded_files_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let inside = d.path().join("repo");
        std::fs::create_dir(&inside).unwrap();
        let secret = d.path().join("credentials");
        std::fs::write(&secret, "https://user:tok@example.com\n").unwrap();
        let link = inside.join(".keyhound.yaml");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        #[cfg(unix)]
        {
            let e = read_text(&link, 100, Some(&inside))
                .unwrap_err()
                .to_string();
            assert!(e.contains("resolves outside"), "{e}");
            assert!(!e.contains("tok@"), "{e}");
        }
        std::fs::write(inside.join("big"), vec![b'a'; 101]).unwrap();
        let e = read_text(&inside.join("big"), 100, Some(&inside)).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { .. }));
        let e = read_text(&inside, 100, None).unwrap_err();
        assert!(matches!(e, ReadError::NotAFile { .. }));
        std::fs::write(inside.join("ok"), "x: 1\n").unwrap();
        assert_eq!(
            read_text(&inside.join("ok"), 100, Some(&inside)).unwrap(),
            "x: 1\n"
        );
    }
}
