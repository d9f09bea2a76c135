//! Remote and many repositories: git URLs (`url`), bare clones kept in a cache directory
//! (`clone`), organisation and group listings from hosting APIs (`hosting`), and the
//! deterministic share of a list of repositories one machine takes (`Shard`).
//!
//! Cloning, fetching and listing are the only network use of a scan besides `--validate` and
//! `--access-map`.

pub mod clone;
pub mod hosting;
pub mod url;

use std::fmt;
use std::str::FromStr;

/// `--shard K/N`: this machine takes the repositories whose identity hashes to share `K` of
/// `N` (1-based). The share of a repository depends on its identity alone, so adding
/// repositories to the list never moves the others between shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl Shard {
    /// Whether the repository named `identity` belongs to this shard.
    pub fn takes(&self, identity: &str) -> bool {
        shard_of(identity, self.n) == self.k
    }
}

/// The 1-based share of `identity` among `n`: the first 8 bytes of its SHA-1, modulo `n`.
pub fn shard_of(identity: &str, n: u32) -> u32 {
    let id = crate::blob::BlobId::of(identity.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&id.0[..8]);
    (u64::from_be_bytes(b) % u64::from(n.max(1))) as u32 + 1
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let usage = || format!("`{s}`: expected K/N with 1 <= K <= N (e.g. 2/7)");
        let (k, n) = s.trim().split_once('/').ok_or_else(usage)?;
        let k: u32 = k.trim().parse().map_err(|_| usage())?;
        let n: u32 = n.trim().parse().map_err(|_| usage())?;
        if k == 0 || n == 0 || k > n {
            return Err(usage());
        }
        Ok(Shard { k, n })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse() {
        assert_eq!("2/7".parse::<Shard>(), Ok(Shard { k: 2, n: 7 }));
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_repository_is_in_exactly_one_shard_and_stays_there() {
        let names: Vec<String> = (0..200).map(|i| format!("github.com/o/r{i}")).collect();
        for n in [1, 3, 7] {
            let mut counts = vec![0; n as usize];
            for name in &names {
                let owners: Vec<u32> = (1..=n).filter(|&k| Shard { k, n }.takes(name)).collect();
                assert_eq!(owners.len(), 1);
                counts[owners[0] as usize - 1] += 1;
                // The share depends on the name alone.
                assert_eq!(shard_of(name, n), owners[0]);
            }
            assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
        }
        // Pinned: a change of the hash would move repositories between existing shards.
        assert_eq!(shard_of("github.com/o/r", 7), 2);
        assert_eq!(shard_of("gitlab.com/g/p", 7), 1);
        assert_eq!(shard_of("gitlab.com/g/p", 3), 3);
    }
}
