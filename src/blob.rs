//! Blob identity: git's content hash, used to scan identical content once.
//!
//! Owns `BlobId` and how it is computed from bytes. Knows nothing about files, rules or git
//! repositories beyond the object-hash convention.

use std::fmt;

use sha1::{Digest, Sha1};

/// Git's object id of a blob: SHA-1 over `"blob <len>\0"` followed by the content.
///
/// The same bytes in a working tree, the index and a thousand commits share one `BlobId`, so
/// they are scanned once.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(pub [u8; 20]);

impl BlobId {
    /// Hashes `bytes` the way `git hash-object` does.
    pub fn of(bytes: &[u8]) -> Self {
        let mut h = Sha1::new();
        h.update(b"blob ");
        h.update(bytes.len().to_string().as_bytes());
        h.update([0u8]);
        h.update(bytes);
        BlobId(h.finalize().into())
    }

    /// Lower-case hex, as git prints it.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({})", self.to_hex())
    }
}

/// Lower-case hex of a byte slice.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// True when the content looks binary: a NUL byte in the first 8 KiB (git's and ripgrep's test).
pub fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    memchr::memchr(0, head).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_git_hash_object() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            BlobId::of(b"hello\n").to_hex(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        // The empty blob.
        assert_eq!(
            BlobId::of(b"").to_hex(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
    }

    #[test]
    fn binary_detection_uses_nul_in_head() {
        assert!(looks_binary(b"abc\0def"));
        assert!(!looks_binary(b"plain text\n"));
        let mut late = vec![b'a'; 9000];
        late.push(0);
        assert!(!looks_binary(&late));
    }
}

/// A hasher for keys that are already uniformly random (object ids, their prefixes): it folds
/// the key's bytes with a multiply, instead of running SipHash over data that needs no mixing.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn write(&mut self, bytes: &[u8]) {
        // Ids are random from their first byte: eight bytes are plenty.
        let mut b = [0u8; 8];
        let n = bytes.len().min(8);
        b[..n].copy_from_slice(&bytes[..n]);
        self.write_u64(u64::from_le_bytes(b));
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(23) ^ v).wrapping_mul(0x2545_F491_4F6C_DD1D);
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64)
    }
}

/// A `HashMap` keyed by ids (see `IdHasher`).
pub type IdMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;
