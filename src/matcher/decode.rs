//! Decoders for secrets hidden one level down: base64 (Kubernetes `Secret` data, Docker
//! configs) and percent-encoding (URLs). Rules with `decode:` capture the encoded text; the
//! matcher decodes it with these functions and scans the result again, to a bounded depth.

/// Largest decoded text scanned for one capture.
pub const MAX_DECODED: usize = 64 * 1024;

pub use crate::rules::syntax::Encoding;

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
        }
    }

    /// Decodes `input`; `None` when it is not valid in this encoding, decodes to something
    /// that is not text, or is larger than `MAX_DECODED`.
    pub fn decode(self, input: &[u8]) -> Option<Vec<u8>> {
        let out = match self {
            Encoding::Base64 => base64(input)?,
            Encoding::Percent => percent(input)?,
        };
        (out.len() <= MAX_DECODED && looks_like_text(&out)).then_some(out)
    }
}

fn base64_value(b: u8) -> Option<u8> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    })
}

/// Standard and URL-safe alphabets; padding optional; whitespace (line-wrapped base64) ignored.
pub fn base64(input: &[u8]) -> Option<Vec<u8>> {
    if input.len() / 4 * 3 > MAX_DECODED + 3 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = false;
    for &b in input {
        match b {
            b'=' => padding = true,
            b' ' | b'\n' | b'\r' | b'\t' => {}
            _ if padding => return None,
            _ => {
                acc = (acc << 6) | u32::from(base64_value(b)?);
                bits += 6;
                if bits >= 8 {
                    bits -= 8;
                    out.push((acc >> bits) as u8);
                }
            }
        }
    }
    // Leftover bits must be zero padding bits of a well-formed encoding.
    (bits < 6 && acc & ((1 << bits) - 1) == 0).then_some(out)
}

/// `%XX` escapes and `+` as a space; a malformed escape makes the input not percent-encoded.
pub fn percent(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' => {
                let hex = input.get(i + 1..i + 3)?;
                out.push(hex_value(hex[0])? << 4 | hex_value(hex[1])?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// The value of one hex digit (`u8::from_str_radix` would also take a sign: `%+1`).
fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Valid UTF-8 with no NUL and at most 5% control characters (tabs and newlines aside): the
/// decoded bytes of a binary blob (an image, a DER certificate) are not rescanned.
fn looks_like_text(b: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(b) else {
        return false;
    };
    if s.is_empty() || s.contains('\0') {
        return false;
    }
    let controls = s
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    controls * 20 <= s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_both_alphabets_with_and_without_padding() {
        assert_eq!(base64(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64(b"aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64(b"Pz8_").unwrap(), b"???");
        assert_eq!(base64(b"Pz8/").unwrap(), b"???");
        assert_eq!(base64(b"aGVs\nbG8=").unwrap(), b"hello");
        assert!(base64(b"aGVsbG8=x").is_none());
        assert!(base64(b"a!b").is_none());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent(b"a%2Db%20c+d").unwrap(), b"a-b c d");
        assert!(percent(b"%zz").is_none());
        assert!(percent(b"%2").is_none());
        // Found by fuzzing: a sign is not a hex digit.
        assert!(percent(b"a%+2b").is_none());
        assert!(percent(b"%-1").is_none());
        assert_eq!(percent(b"%fF%0a").unwrap(), b"\xff\n");
    }

    #[test]
    fn binary_is_not_rescanned() {
        assert!(Encoding::Base64.decode(b"AAECAwQF").is_none());
        assert_eq!(
            Encoding::Base64.decode(b"c2stcHJvag==").unwrap(),
            b"sk-proj"
        );
    }
}
