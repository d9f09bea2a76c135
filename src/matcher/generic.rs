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

/// True when `v` could plausibly be a random secret rather than a word or identifier.
pub fn plausible_secret(v: &[u8]) -> bool {
    let wordy = v
        .iter()
        .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.'));
    if !wordy {
        return true;
    }
    let letters: Vec<u8> = v.iter().copied().filter(u8::is_ascii_alphabetic).collect();
    if letters.len() < 8 {
        return false;
    }
    let flips = letters
        .windows(2)
        .filter(|w| w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase())
        .count();
    flips * 3 >= letters.len()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
