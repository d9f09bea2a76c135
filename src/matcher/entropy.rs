//! Randomness measures for captured values: Shannon entropy, runs of one character and
//! sequences (`abcdef`, `654321`, `a1b2c3d4e5f6`), with gaps (`ABC123DEF456GHI789`).

/// Shannon entropy in bits per byte of `s` (0 for empty input; at most 8).
pub fn shannon(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Length of the longest run of one repeated byte.
pub fn longest_run(s: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &b in s {
        if Some(b) == prev {
            run += 1;
        } else {
            run = 1;
            prev = Some(b);
        }
        best = best.max(run);
    }
    best
}

/// Length of the longest sequence of letters or digits that step by one in a single direction
/// (`abcdef`, `123456`, `FEDCBA`), counting two such sequences interleaved (`a1b2c3d4e5f6`)
/// as one of half their combined length. Typed placeholders look like this; a random key of
/// 40 base62 characters holds a sequence of six with a probability of about one in 10^7.
pub fn longest_sequence(s: &[u8]) -> usize {
    let steps = |gap: usize| {
        let mut best = 0;
        let mut run = 0;
        let mut dir = 0i16;
        for i in gap..s.len() {
            let (a, b) = (s[i - gap], s[i]);
            let d = b as i16 - a as i16;
            let same_class = (a.is_ascii_digit() && b.is_ascii_digit())
                || (a.is_ascii_lowercase() && b.is_ascii_lowercase())
                || (a.is_ascii_uppercase() && b.is_ascii_uppercase());
            if same_class && (d == 1 || d == -1) && (run == 0 || d == dir) {
                run += 1;
                dir = d;
            } else if same_class && (d == 1 || d == -1) {
                run = 1;
                dir = d;
            } else {
                run = 0;
            }
            best = best.max(run);
        }
        best
    };
    let straight = match steps(1) {
        0 => 1.min(s.len()),
        n => n + 1,
    };
    // Interleaved: every step two apart holds; the characters covered are `n + 2`.
    let interleaved = match steps(2) {
        0 => 0,
        n => (n + 2) / 2,
    };
    straight.max(interleaved)
}

/// The longest sequence (as in `longest_sequence`) of the letters alone or of the digits
/// alone, whatever stands between them: the alphabet walked through by hand, in groups or in
/// either case (`ABC123DEF456GHI`, `a1B2c3D4e5F6g7H8`, `Aa1Bb2Cc3Dd4`: letters `abcdefghi`,
/// digits `123456`). Letters are compared without case, and a letter or digit repeated at once
/// counts once. A random key of 40 base62 characters holds such a sequence of eight with a
/// probability of about one in 10^8; hex has six letters, and a hex key of 64 digits holds
/// eight digits in sequence with a probability of about one in 10^5.
pub fn gapped_sequence(s: &[u8]) -> usize {
    let walk = |class: fn(&u8) -> bool| {
        let mut best = 0;
        let (mut run, mut dir, mut prev) = (0usize, 0i16, None::<u8>);
        for b in s.iter().filter(|b| class(b)).map(u8::to_ascii_lowercase) {
            match prev {
                Some(p) if p == b => continue,
                Some(p) if (b as i16 - p as i16).abs() == 1 => {
                    let d = b as i16 - p as i16;
                    run = if run > 1 && d == dir { run + 1 } else { 2 };
                    dir = d;
                }
                _ => run = 1,
            }
            prev = Some(b);
            best = best.max(run);
        }
        best
    };
    walk(u8::is_ascii_alphabetic).max(walk(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_bounds() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"abab") - 1.0).abs() < 1e-9);
        assert!((shannon(b"0123456789abcdef") - 4.0).abs() < 1e-9);
    }

    #[test]
    fn runs() {
        assert_eq!(longest_run(b""), 0);
        assert_eq!(longest_run(b"abc"), 1);
        assert_eq!(longest_run(b"abxxxxc"), 4);
    }

    #[test]
    fn sequences() {
        assert_eq!(longest_sequence(b""), 0);
        assert_eq!(longest_sequence(b"x"), 1);
        assert_eq!(longest_sequence(b"xabcdefy"), 6);
        assert_eq!(longest_sequence(b"K987654q"), 6);
        assert_eq!(longest_sequence(b"abcdef123456"), 6);
        assert_eq!(longest_sequence(b"a1b2c3d4e5f6"), 6);
        assert_eq!(longest_sequence(b"A1B2C3"), 3);
        // A step that changes direction starts a new sequence; `9` to `:` is not a digit step.
        assert_eq!(longest_sequence(b"abcba"), 3);
        assert_eq!(longest_sequence(b"789:;<"), 3);
        assert_eq!(longest_sequence(b"Zq9vX2mK7pL4wR8n"), 1);
    }

    #[test]
    fn gapped_sequences() {
        assert_eq!(gapped_sequence(b""), 0);
        assert_eq!(gapped_sequence(b"ABC123DEF456GHI789"), 9);
        assert_eq!(gapped_sequence(b"xbc123def456ghi789jkl012mno345"), 14);
        assert_eq!(gapped_sequence(b"a1B2c3D4e5F6g7H8i9J0"), 10);
        assert_eq!(gapped_sequence(b"Aa1Bb2Cc3Dd4Ee5Ff6Gg7H"), 8);
        assert_eq!(gapped_sequence(b"SBX-1a2b3c4d-5e6f-7a8b-9c0d"), 9);
        assert_eq!(gapped_sequence(b"zyx-987-wvu-654"), 6);
        // Steps of two are no sequence (`xYz` is one of three); a change of direction starts a
        // new one.
        assert_eq!(gapped_sequence(b"aB3dE6gH9jK2mN5qR8tV1xY4zC7fG0iL"), 3);
        assert_eq!(gapped_sequence(b"abcba"), 3);
    }

    #[test]
    fn random_keys_hold_no_long_gapped_sequence() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |alphabet: &[u8]| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize]
        };
        let base62 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        for (alphabet, len) in [(&base62[..], 40), (b"0123456789abcdef", 64)] {
            for _ in 0..5000 {
                let key: Vec<u8> = (0..len).map(|_| next(alphabet)).collect();
                assert!(
                    gapped_sequence(&key) < 8,
                    "{}",
                    String::from_utf8_lossy(&key)
                );
            }
        }
    }
}
