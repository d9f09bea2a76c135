//! Offline checksums carried inside some token formats.
//!
//! GitHub's classic tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm's `npm_` tokens are a
//! 4-character prefix, 30 base62 characters of randomness and 6 base62 characters encoding the
//! CRC32 of those 30 characters (digits, then upper case, then lower case; left-padded with `0`).
//! A valid checksum is strong evidence that a string is a real token rather than a look-alike.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62-encodes `n` into exactly 6 characters (CRC32 values always fit).
pub fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Checks a `prefix_` + 30 + 6 token. Returns `None` when the value does not have that shape
/// (so no verdict can be given), `Some(valid)` otherwise.
pub fn crc32_base62(token: &[u8]) -> Option<bool> {
    let underscore = token.iter().position(|&b| b == b'_')?;
    let body = &token[underscore + 1..];
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let (random, check) = body.split_at(30);
    Some(base62_6(crc32fast::hash(random)) == check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_encoding() {
        assert_eq!(&base62_6(0), b"000000");
        assert_eq!(&base62_6(61), b"00000z");
        assert_eq!(&base62_6(62), b"000010");
        assert_eq!(&base62_6(u32::MAX), b"4gfFC3");
    }

    #[test]
    fn valid_and_invalid_tokens() {
        let random = b"aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0";
        let check = base62_6(crc32fast::hash(random));
        let mut tok = b"ghp_".to_vec();
        tok.extend_from_slice(random);
        tok.extend_from_slice(&check);
        assert_eq!(crc32_base62(&tok), Some(true));
        let last = tok.len() - 1;
        tok[last] = if tok[last] == b'a' { b'b' } else { b'a' };
        assert_eq!(crc32_base62(&tok), Some(false));
        assert_eq!(crc32_base62(b"ghp_short"), None);
    }
}
