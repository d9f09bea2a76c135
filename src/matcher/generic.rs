//! The randomness test for values captured by generic rules (assignments, headers, `.env`
//! lines) that have no provider format to vouch for them.
//!
//! A value passes when it is not made only of word characters in a word-like shape. Concretely,
//! a value with no digit and no symbol (only letters, `_`, `-`, `.`) is treated as a word,
//! an identifier or a CamelCase name (`sampleKey`, `get_password`, `changeme`) unless its letter
//! case flips often: random mixed-case strings flip case on roughly half their letters, words
//! and identifiers flip once per word. The threshold is one flip per three letters.
//! Entropy gating and the data-driven `generic_ignore` filters (paths, versions, code
//! references) run before this test.
//!
//! Then come shapes that generated secrets never have, whatever their name:
//! - an alphabet walk (`entropy::gapped_sequence`, eight or more): letters or digits in order
//!   with other characters between them, `A4bC5dE6fG7hI8jK9lM0`, `abc123def456ghi789`. Random
//!   keys hold none (for 40 base62 characters, one chance in 10^8); hand-typed samples do.
//!   Provider rules are not held to this: a value in a provider's format has that to vouch for
//!   it, and their straight sequences (`abcdef`) are caught by the global filters;
//! - altered hex (`altered_hex`): hex with one or two letters past `f` (`5488620aa9073q09…`).
//!   A hex key has none, and a random alphanumeric value of 20 characters or more has many
//!   (for 20 base36 characters, one or two with a chance of one in 10^4);
//! - an encoded placeholder (`encoded_placeholder`): base64 of `user:password` whose password
//!   is a placeholder word, such as `my_username:my_password` in a Docker `auth`.

use super::{decode, entropy};

/// The name a generic match assigns its value to: the last run of name characters (letters,
/// digits, `_`, `-`, `.`, `$`) in the text the match has before the value, once the operator,
/// quotes and spaces after it are set aside. `nonMatchingToken := "` gives `nonMatchingToken`,
/// `"secret_key" => "` gives `secret_key`, `Authorization: Bearer ` gives `Bearer`.
pub fn assigned_name(before: &[u8]) -> &[u8] {
    let name_byte = |b: &u8| b.is_ascii_alphanumeric() || b"_-.$".contains(b);
    let end = before.iter().rposition(name_byte).map_or(0, |i| i + 1);
    let start = before[..end]
        .iter()
        .rposition(|b| !name_byte(b))
        .map_or(0, |i| i + 1);
    &before[start..end]
}

/// Length of an alphabet walk (`entropy::gapped_sequence`) that marks a typed value.
const WALK: usize = 8;

/// True when `v` could plausibly be a random secret rather than a word, an identifier or a
/// value made up by hand.
pub fn plausible_secret(v: &[u8]) -> bool {
    entropy::gapped_sequence(v) < WALK && !altered_hex(v) && !encoded_placeholder(v) && !wordy(v)
}

/// Hex of 20 digits or more, after a short prefix (`SK`, `spu-`), with one or two letters
/// from `g-z` or `G-Z`. Values written `0x…` are left alone: Ethereum addresses carry their
/// checksum in the letter case.
pub fn altered_hex(v: &[u8]) -> bool {
    if v.starts_with(b"0x") {
        return false;
    }
    let lead = v.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let body = match v.get(lead) {
        Some(b'-' | b'_') if (1..=8).contains(&lead) => &v[lead + 1..],
        _ if lead <= 4 => &v[lead..],
        _ => v,
    };
    if body.len() < 20 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let beyond = body.iter().filter(|b| !b.is_ascii_hexdigit()).count();
    matches!(beyond, 1 | 2)
}

/// Base64 (12 characters or more) of `user:password` (HTTP Basic credentials, a Docker
/// `auth`) whose password is a placeholder word: `pass`, `password`, `passwd`, `secret`,
/// `changeme`, `example` or `dummy`, perhaps after `my_` or `your_` and before digits. Other
/// encoded text is left alone: a real configuration may well mention a password.
pub fn encoded_placeholder(v: &[u8]) -> bool {
    if v.len() < 12 {
        return false;
    }
    let Some(text) = decode::base64(v) else {
        return false;
    };
    let Some(colon) = text.iter().position(|&b| b == b':') else {
        return false;
    };
    let (user, password) = (&text[..colon], text[colon + 1..].to_ascii_lowercase());
    let user_ok = |b: &u8| b.is_ascii_alphanumeric() || b"._@+-".contains(b);
    !user.is_empty() && user.len() <= 64 && user.iter().all(user_ok) && placeholder_word(&password)
}

/// `pass`, `password`, ... as in `encoded_placeholder`.
fn placeholder_word(p: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"password",
        b"passwd",
        b"pass",
        b"secret",
        b"changeme",
        b"example",
        b"dummy",
    ];
    let p = ["my_", "my", "your_", "your"]
        .iter()
        .find_map(|x| p.strip_prefix(x.as_bytes()))
        .unwrap_or(p);
    let digits = p.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let word = &p[..p.len() - digits];
    WORDS.contains(&word)
}

/// Only letters, `_`, `-` and `.`, in the shape of words (see the module documentation).
fn wordy(v: &[u8]) -> bool {
    let wordy = v
        .iter()
        .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.'));
    if !wordy {
        return false;
    }
    let letters: Vec<u8> = v.iter().copied().filter(u8::is_ascii_alphabetic).collect();
    if letters.len() < 8 {
        return true;
    }
    let flips = letters
        .windows(2)
        .filter(|w| w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase())
        .count();
    flips * 3 < letters.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assigned_name_is_the_last_name_before_the_value() {
        for (before, name) in [
            ("nonMatchingToken := \"", "nonMatchingToken"),
            ("  \"secret_key\" => \"", "secret_key"),
            ("export DUMMY_SECRET=", "DUMMY_SECRET"),
            ("-H \"Authorization: Bearer ", "Bearer"),
            ("$config.fake-token: ", "$config.fake-token"),
            ("", ""),
            (" = '", ""),
        ] {
            assert_eq!(
                assigned_name(before.as_bytes()),
                name.as_bytes(),
                "{before}"
            );
        }
    }

    #[test]
    fn words_and_identifiers_are_not_secrets() {
        for w in [
            "changeme",
            "sampleHerokuKey",
            "get_password",
            "SECRET_KEY_BASE",
            "my-secret-value",
            "Password",
        ] {
            assert!(!plausible_secret(w.as_bytes()), "{w}");
        }
    }

    #[test]
    fn random_looking_values_pass() {
        for s in ["hunter2", "xKqPzWmRtBvLnYhJ", "9f8e7d6c5b4a", "p@ss:w0rd!"] {
            assert!(plausible_secret(s.as_bytes()), "{s}");
        }
    }

    /// Random values over an alphabet, from a fixed seed (a small xorshift).
    fn random_values(alphabet: &[u8], len: usize, n: usize) -> Vec<Vec<u8>> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n)
            .map(|_| {
                (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        alphabet[(x % alphabet.len() as u64) as usize]
                    })
                    .collect()
            })
            .collect()
    }

    const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    #[test]
    fn generated_keys_are_not_altered_hex() {
        for (alphabet, len) in [
            (&b"0123456789abcdef"[..], 32),
            (b"0123456789ABCDEF", 40),
            (BASE62, 20),
            (BASE62, 40),
            (b"abcdefghijklmnopqrstuvwxyz0123456789", 32),
        ] {
            for v in random_values(alphabet, len, 2000) {
                assert!(!altered_hex(&v), "{}", String::from_utf8_lossy(&v));
            }
        }
        // Ethereum keys and addresses are written with 0x (addresses in mixed case); Twilio
        // SIDs put two capitals before their hex.
        for v in [
            "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "SKa1b9c3d7e5f60718293a4b5c6d7e8f90",
            "AC3f9e2d1c0b4a59687766554433221100",
            "key-3f10194ca38240ddb880bab79492384b",
        ] {
            assert!(!altered_hex(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn hex_with_foreign_letters_is_altered() {
        for v in [
            "5488620aa9073q09f1a16e2b1dc357b6",
            "c09761h99f39f79ae28eaaf8df20d7c9",
            "5cb4a5f04cd412fe946667b17f0129ba17aeb2e0c7b5b7264efcebf7d022bfe2R21",
            "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A0X",
            "spu-3f10194ca38240ddb880bab79492384badwad",
        ] {
            assert!(altered_hex(v.as_bytes()), "{v}");
            assert!(!plausible_secret(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn alphabet_walks_are_typed_values() {
        for v in [
            "A4bC5dE6fG7hI8jK9lM0nO1pQ2rS3tU4",
            "xbc123def456ghi789jkl012mno345",
            "Aa1Bb2Cc3Dd4Ee5Ff6Gg7H",
            "k9l8m7n6o5p4q3r2s1t0",
        ] {
            assert!(!plausible_secret(v.as_bytes()), "{v}");
        }
        for v in random_values(BASE62, 40, 2000) {
            assert!(plausible_secret(&v), "{}", String::from_utf8_lossy(&v));
        }
    }

    #[test]
    fn encoded_placeholders() {
        // my_username:my_password, user:pass, admin:changeme
        for v in [
            "bXlfdXNlcm5hbWU6bXlfcGFzc3dvcmQ=",
            "dXNlcjpwYXNz",
            "YWRtaW46Y2hhbmdlbWU=",
        ] {
            assert!(encoded_placeholder(v.as_bytes()), "{v}");
        }
        // deploy:Gh7vXq2mRk9pWt4z; {"user":"app","password":"Gh7vXq2mRk9pWt4z"};
        // vault:secret/data/app#DB_PASSWORD (a reference that names a password); random base64
        for v in [
            "ZGVwbG95OkdoN3ZYcTJtUms5cFd0NHo=",
            "eyJ1c2VyIjoiYXBwIiwicGFzc3dvcmQiOiJHaDd2WHEybVJrOXBXdDR6In0=",
            "dmF1bHQ6c2VjcmV0L2RhdGEvYXBwI0RCX1BBU1NXT1JE",
            "Hxoie9k/7nTgHhplWoBVMIe+SThWdwI3Kg19WqGy1s+O=",
        ] {
            assert!(!encoded_placeholder(v.as_bytes()), "{v}");
        }
    }
}
