//! Text keyhound did not write, made safe to show: what a character may do to a terminal
//! (`is_unsafe`), rule-file text cleaned when it loads (`clean`), scanned text cleaned before
//! any report shows it (`sanitize`), and `rotate` URLs that must be plain `https://` links.
//! Rule files and scanned content come from users and from scanned repositories alike.

/// Whether `c` could change how a terminal shows text or hide what is there: control
/// characters (ESC starts escape sequences, CR rewrites a line), bidirectional controls
/// (they reorder what follows: "Trojan Source"), invisible formatting characters (zero-width
/// spaces and joiners, word joiners, the byte-order mark) and the Unicode line separators.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'                      // Arabic letter mark
            | '\u{200B}'..='\u{200F}'       // zero-width space, (non-)joiner, LRM, RLM
            | '\u{2028}' | '\u{2029}'       // line and paragraph separators
            | '\u{202A}'..='\u{202E}'       // embeddings and overrides
            | '\u{2060}'..='\u{206F}'       // word joiner, isolates, deprecated format chars
            | '\u{FEFF}'                    // zero-width no-break space (BOM)
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
        )
}

/// `s` with whitespace controls (tab, newline, carriage return, line separators) turned into
/// spaces and every other unsafe character (see `is_unsafe`) removed.
pub fn clean(s: &str) -> String {
    if !s.chars().any(is_unsafe) {
        return s.to_string();
    }
    s.chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => Some(' '),
            c if is_unsafe(c) => None,
            c => Some(c),
        })
        .collect()
}

/// `s` as one line for a report: tabs become spaces, every other unsafe character (see
/// `is_unsafe`; newlines and carriage returns included) is removed.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            c if is_unsafe(c) => None,
            c => Some(c),
        })
        .collect()
}

/// Checks a `rotate` URL: `https://`, a host name (and optional port) with no user name or
/// password, and only the characters a URL may hold (RFC 3986), so no whitespace, control,
/// quote or non-ASCII character that could disguise where the link goes.
pub fn check_rotate_url(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err("must be an https:// URL".into());
    };
    if let Some(bad) = url.chars().find(|&c| !is_url_char(c)) {
        let what = if bad.is_ascii_graphic() {
            format!("`{bad}`")
        } else {
            format!("U+{:04X}", bad as u32)
        };
        return Err(format!(
            "must be a plain URL: {what} is not a URL character (percent-encode it)"
        ));
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err("must not hold a user name or password (`user@`)".into());
    }
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        Some(_) => return Err("has a malformed port".into()),
        None => authority,
    };
    let host_ok = !host.is_empty()
        && !host.starts_with(['.', '-'])
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !host_ok {
        return Err("must name a host (letters, digits, `-` and `.`)".into());
    }
    Ok(())
}

/// The characters RFC 3986 allows in a URL: unreserved, reserved and `%`.
fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_escapes_bidi_and_invisible_characters() {
        assert_eq!(
            clean("Acme\x1b[2J\x1b]8;;https://x\x07 token"),
            "Acme[2J]8;;https://x token"
        );
        assert_eq!(
            clean("a\u{202E}b\u{2066}c\u{200B}d\u{FEFF}e\u{061C}f"),
            "abcdef"
        );
        assert_eq!(clean("one\ttwo\nthree\r\u{2028}"), "one two three  ");
        assert_eq!(clean("\u{9b}31m C1"), "31m C1");
        assert_eq!(clean("Zoë's key — ok"), "Zoë's key — ok");
    }

    #[test]
    fn rotate_urls_must_be_plain_https() {
        for good in [
            "https://github.com/settings/tokens",
            "https://console.example.com:8443/a/b?c=d&e=%20#top",
            "https://x.example/(path)",
        ] {
            assert_eq!(check_rotate_url(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("http://example.com", "https://"),
            ("HTTPS://example.com", "https://"),
            ("javascript:alert(1)", "https://"),
            ("https://user:pw@example.com/", "user name"),
            ("https://example.com@evil.example/", "user name"),
            ("https://example.com/\x1b[8m", "U+001B"),
            ("https://example.com/ x", "U+0020"),
            ("https://example.com/\u{202E}moc.live", "U+202E"),
            ("https://exämple.com/", "U+00E4"),
            ("https://example.com/\"onclick", "`\"`"),
            ("https:///path", "host"),
            ("https://-x.example/", "host"),
            ("https://x.example:/", "port"),
            ("https://x.example:8a/", "port"),
        ] {
            let e = check_rotate_url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
