//! Private key blocks: PEM (PKCS#1, SEC1, DSA, PKCS#8, encrypted PKCS#8, legacy OpenSSL
//! encryption), OpenSSH, PuTTY `.ppk` and OpenPGP armor. The body is decoded and its structure
//! checked without any cryptography:
//!
//! - DER bodies are one ASN.1 SEQUENCE whose length is exactly the body's;
//! - OpenSSH bodies are `openssh-key-v1\0` followed by length-prefixed fields that end exactly
//!   where the body does;
//! - legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`) bodies are whole cipher blocks;
//! - PuTTY bodies decode; OpenPGP bodies match their CRC-24 line when they have one.
//!
//! A well-formed key keeps its rule's confidence; a truncated or malformed one is still a leak
//! (part of a key, or a key mangled in copying) but drops to medium at most. Details: `format`,
//! `encrypted: yes` when a passphrase protects the key, `structure: truncated|malformed`.

use super::decode;
use super::inspect::{detail, Candidate, Verdict};
use crate::finding::{Confidence, Detail};

/// Largest block read (a 16384-bit RSA key in PEM is about 12 KiB).
const MAX_BLOCK: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    WellFormed,
    Truncated,
    Malformed,
}

/// What a key block says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBlock {
    pub format: &'static str,
    pub encrypted: bool,
    pub structure: Structure,
}

/// A block's lines with string escapes (`\n` as two characters), quotes and concatenation
/// (`"…\n" +`) taken away: what a PEM reader would see.
fn lines(block: &str) -> Vec<String> {
    let unescaped = block
        .replace("\\r\\n", "\n")
        .replace("\\n", "\n")
        .replace("\\r", "\n");
    unescaped
        .lines()
        .map(|l| clean(l).to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// A line without the quotes, commas and `+` operators of the string literal it sat in. A `+`
/// is an operator only next to a quote or a space: base64 lines may start or end with `+`.
fn clean(line: &str) -> &str {
    let quote_or_space = |c: char| c.is_whitespace() || c == '"' || c == '\'';
    let mut s = line.trim();
    loop {
        let before = s;
        if let Some(r) = s
            .strip_prefix('+')
            .filter(|r| r.starts_with(quote_or_space))
        {
            s = r.trim_start();
        }
        s = s.trim_start_matches(['"', '\'']);
        s = s.trim_end_matches([',', ';']).trim_end();
        if let Some(r) = s.strip_suffix('+').filter(|r| r.ends_with(quote_or_space)) {
            s = r.trim_end();
        }
        s = s.trim_end_matches(['"', '\'', '\\']).trim();
        if s == before {
            return s;
        }
    }
}

fn is_base64_line(l: &str) -> bool {
    l.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// Reads a key block (the text a private-key rule captured).
pub fn read(block: &[u8]) -> Option<KeyBlock> {
    if block.len() > MAX_BLOCK {
        return None;
    }
    let text = std::str::from_utf8(block).ok()?;
    let lines = lines(text);
    let first = lines.first()?;
    if let Some(rest) = first.strip_prefix("PuTTY-User-Key-File-") {
        return Some(putty(rest, &lines));
    }
    let label = first.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?;
    let armor = Armor::read(label, &lines[1..]);
    let data = decode::base64(armor.body.as_bytes());
    Some(match label {
        "OPENSSH PRIVATE KEY" => openssh(data.as_deref()),
        "PGP PRIVATE KEY BLOCK" => KeyBlock {
            format: "OpenPGP",
            encrypted: false,
            structure: pgp(data.as_deref(), armor.crc.as_deref()),
        },
        _ => {
            let format = match label {
                "RSA PRIVATE KEY" => "PKCS#1 (RSA)",
                "EC PRIVATE KEY" => "SEC1 (EC)",
                "DSA PRIVATE KEY" => "DSA",
                "ENCRYPTED PRIVATE KEY" | "PRIVATE KEY" => "PKCS#8",
                _ => return None,
            };
            let legacy_encrypted = armor
                .headers
                .iter()
                .any(|(n, v)| n == "Proc-Type" && v.contains("ENCRYPTED"));
            let structure = match data.as_deref() {
                None => Structure::Malformed,
                Some(d) if legacy_encrypted => cipher_blocks(d),
                Some(d) => der(d),
            };
            KeyBlock {
                format,
                encrypted: legacy_encrypted || label == "ENCRYPTED PRIVATE KEY",
                structure,
            }
        }
    })
}

/// What lies between the BEGIN and END lines: RFC 1421 / OpenPGP headers, the base64 body
/// (up to the first line that is neither), and an OpenPGP `=XXXX` checksum.
struct Armor {
    headers: Vec<(String, String)>,
    body: String,
    crc: Option<String>,
}

impl Armor {
    fn read(label: &str, lines: &[String]) -> Armor {
        let mut armor = Armor {
            headers: Vec::new(),
            body: String::new(),
            crc: None,
        };
        for l in lines {
            if l.starts_with("-----END ") {
                break;
            }
            if let Some((name, value)) = l.split_once(':') {
                armor
                    .headers
                    .push((name.trim().to_string(), value.trim().to_string()));
            } else if label == "PGP PRIVATE KEY BLOCK" && l.len() == 5 && l.starts_with('=') {
                armor.crc = Some(l[1..].to_string());
            } else if is_base64_line(l) {
                armor.body.push_str(l);
            } else {
                break;
            }
        }
        armor
    }
}

/// One DER SEQUENCE spanning exactly `d`.
fn der(d: &[u8]) -> Structure {
    if d.len() < 2 || d[0] != 0x30 {
        return Structure::Malformed;
    }
    let (len, header) = match d[1] {
        n if n < 0x80 => (n as usize, 2),
        n @ 0x81..=0x84 => {
            let k = (n - 0x80) as usize;
            let Some(bytes) = d.get(2..2 + k) else {
                return Structure::Truncated;
            };
            (
                bytes.iter().fold(0usize, |a, &b| a << 8 | b as usize),
                2 + k,
            )
        }
        _ => return Structure::Malformed,
    };
    match (header + len).cmp(&d.len()) {
        std::cmp::Ordering::Equal => Structure::WellFormed,
        std::cmp::Ordering::Greater => Structure::Truncated,
        std::cmp::Ordering::Less => Structure::Malformed,
    }
}

/// Ciphertext of a block cipher (DES-EDE3-CBC, AES-*-CBC): whole 8-byte blocks.
fn cipher_blocks(d: &[u8]) -> Structure {
    if !d.is_empty() && d.len() % 8 == 0 {
        Structure::WellFormed
    } else {
        Structure::Truncated
    }
}

/// OpenSSH's `openssh-key-v1` container (PROTOCOL.key).
fn openssh(data: Option<&[u8]>) -> KeyBlock {
    let mut key = KeyBlock {
        format: "OpenSSH",
        encrypted: false,
        structure: Structure::Malformed,
    };
    let Some(d) = data else {
        return key;
    };
    let Some(mut rest) = d.strip_prefix(b"openssh-key-v1\0") else {
        return key;
    };
    let string = |rest: &mut &[u8]| -> Option<Vec<u8>> {
        let n = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let end = n.checked_add(4)?;
        let s = rest.get(4..end)?.to_vec();
        *rest = &rest[end..];
        Some(s)
    };
    let Some(cipher) = string(&mut rest) else {
        key.structure = Structure::Truncated;
        return key;
    };
    key.encrypted = cipher != b"none";
    let fields = (|| {
        string(&mut rest)?; // kdf name
        string(&mut rest)?; // kdf options
        let n = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
        rest = &rest[4..];
        if n == 0 || n > 16 {
            return Some(false);
        }
        for _ in 0..n {
            string(&mut rest)?; // public keys
        }
        string(&mut rest)?; // the private section
        Some(rest.is_empty())
    })();
    key.structure = match fields {
        Some(true) => Structure::WellFormed,
        Some(false) => Structure::Malformed,
        None => Structure::Truncated,
    };
    key
}

/// PuTTY `.ppk`: the header line (`2: ssh-rsa`), `Encryption:`, and base64 sections whose
/// line counts `Public-Lines:`/`Private-Lines:` announce.
fn putty(version: &str, lines: &[String]) -> KeyBlock {
    let mut key = KeyBlock {
        format: if version.starts_with('3') {
            "PuTTY v3"
        } else {
            "PuTTY v2"
        },
        encrypted: false,
        structure: Structure::WellFormed,
    };
    let mut i = 1;
    while i < lines.len() {
        let (name, value) = lines[i].split_once(':').unwrap_or((&lines[i], ""));
        let value = value.trim();
        match name {
            "Encryption" => key.encrypted = value != "none",
            "Public-Lines" | "Private-Lines" => {
                let n: usize = value.parse().unwrap_or(0);
                let section: Vec<&String> = lines.iter().skip(i + 1).take(n).collect();
                let body: String = section.iter().map(|s| s.as_str()).collect();
                if section.len() < n || !section.iter().all(|l| is_base64_line(l)) {
                    key.structure = Structure::Truncated;
                } else if n == 0 || decode::base64(body.as_bytes()).is_none() {
                    key.structure = Structure::Malformed;
                }
                i = i.saturating_add(n);
            }
            _ => {}
        }
        i = i.saturating_add(1);
    }
    key
}

/// OpenPGP armor: the body decodes and, when a `=XXXX` line is present, its CRC-24 matches.
fn pgp(data: Option<&[u8]>, crc: Option<&str>) -> Structure {
    let Some(d) = data else {
        return Structure::Malformed;
    };
    let Some(crc) = crc else {
        return Structure::WellFormed;
    };
    let Some(want) = decode::base64(crc.as_bytes()).filter(|w| w.len() == 3) else {
        return Structure::Malformed;
    };
    let mut c: u32 = 0xB7_04CE;
    for &b in d {
        c ^= (b as u32) << 16;
        for _ in 0..8 {
            c <<= 1;
            if c & 0x100_0000 != 0 {
                c ^= 0x186_4CFB;
            }
        }
    }
    let got = [(c >> 16) as u8, (c >> 8) as u8, c as u8];
    if got[..] == want[..] {
        Structure::WellFormed
    } else {
        Structure::Malformed
    }
}

/// The `inspect: private-key` check.
pub fn inspect(c: &Candidate<'_>) -> Option<Verdict> {
    let key = read(&c.hay[c.secret.clone()])?;
    let mut details: Vec<Detail> = vec![detail("format", key.format)];
    if key.encrypted {
        details.push(detail("encrypted", "yes"));
    }
    let confidence = match key.structure {
        Structure::WellFormed => c.confidence,
        s => {
            details.push(detail(
                "structure",
                if s == Structure::Truncated {
                    "truncated"
                } else {
                    "malformed"
                },
            ));
            c.confidence.min(Confidence::Medium)
        }
    };
    Some(Verdict {
        confidence,
        details,
        secret: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(d: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in d.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |acc, &x| acc << 8 | x as u32) << (8 * (3 - chunk.len()));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    fn pem(label: &str, headers: &str, body: &[u8]) -> String {
        let enc = b64(body);
        let lines: Vec<&str> = enc
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{headers}{}\n-----END {label}-----",
            lines.join("\n")
        )
    }

    /// A DER SEQUENCE of `n` pseudo-random content bytes, with a long-form length.
    fn der_body(n: usize) -> Vec<u8> {
        let mut d = vec![0x30, 0x82, (n >> 8) as u8, n as u8];
        let mut x: u32 = 0x1234_5678;
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            d.push(x as u8);
        }
        d
    }

    #[test]
    fn der_keys_well_formed_truncated_and_malformed() {
        let body = der_body(600);
        let k = read(pem("RSA PRIVATE KEY", "", &body).as_bytes()).unwrap();
        assert_eq!(k.format, "PKCS#1 (RSA)");
        assert_eq!(k.structure, Structure::WellFormed);
        assert!(!k.encrypted);
        let k = read(pem("PRIVATE KEY", "", &body[..300]).as_bytes()).unwrap();
        assert_eq!(k.structure, Structure::Truncated);
        let mut junk = body.clone();
        junk[0] = 0x31;
        let k = read(pem("EC PRIVATE KEY", "", &junk).as_bytes()).unwrap();
        assert_eq!(k.structure, Structure::Malformed);
        // Without an END line, the body read is what is there.
        let open = pem("RSA PRIVATE KEY", "", &body);
        let cut = &open[..open.find("-----END").unwrap() - 200];
        assert_eq!(
            read(cut.as_bytes()).unwrap().structure,
            Structure::Truncated
        );
    }

    #[test]
    fn escaped_and_concatenated_blocks_read_the_same() {
        let block = pem("PRIVATE KEY", "", &der_body(200));
        let json = block.replace('\n', "\\n");
        assert_eq!(
            read(json.as_bytes()).unwrap().structure,
            Structure::WellFormed
        );
        let concat: String = block.lines().map(|l| format!("    \"{l}\\n\"\n")).collect();
        assert_eq!(
            read(concat.trim().as_bytes()).unwrap().structure,
            Structure::WellFormed
        );
    }

    #[test]
    fn encrypted_keys_are_marked() {
        let k = read(pem("ENCRYPTED PRIVATE KEY", "", &der_body(300)).as_bytes()).unwrap();
        assert!(k.encrypted);
        assert_eq!(k.structure, Structure::WellFormed);
        let headers =
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,5E22A2BD85A653FB7A3ED20DE84F54CD\n\n";
        let k = read(pem("RSA PRIVATE KEY", headers, &[7u8; 608]).as_bytes()).unwrap();
        assert!(k.encrypted);
        assert_eq!(k.structure, Structure::WellFormed);
        let k = read(pem("RSA PRIVATE KEY", headers, &[7u8; 605]).as_bytes()).unwrap();
        assert_eq!(k.structure, Structure::Truncated);
    }

    fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s);
    }

    fn openssh_body(cipher: &str, private_len: usize) -> Vec<u8> {
        let mut d = b"openssh-key-v1\0".to_vec();
        ssh_string(&mut d, cipher.as_bytes());
        ssh_string(&mut d, if cipher == "none" { b"none" } else { b"bcrypt" });
        ssh_string(&mut d, b"");
        d.extend_from_slice(&1u32.to_be_bytes());
        ssh_string(&mut d, &[5u8; 51]);
        ssh_string(&mut d, &vec![9u8; private_len]);
        d
    }

    #[test]
    fn openssh_container() {
        let k =
            read(pem("OPENSSH PRIVATE KEY", "", &openssh_body("none", 144)).as_bytes()).unwrap();
        assert_eq!(
            (k.format, k.encrypted, k.structure),
            ("OpenSSH", false, Structure::WellFormed)
        );
        let k = read(pem("OPENSSH PRIVATE KEY", "", &openssh_body("aes256-ctr", 144)).as_bytes())
            .unwrap();
        assert!(k.encrypted);
        let body = openssh_body("none", 144);
        let k = read(pem("OPENSSH PRIVATE KEY", "", &body[..120]).as_bytes()).unwrap();
        assert_eq!(k.structure, Structure::Truncated);
        let k =
            read(pem("OPENSSH PRIVATE KEY", "", b"not-openssh-at-all-here").as_bytes()).unwrap();
        assert_eq!(k.structure, Structure::Malformed);
    }

    #[test]
    fn putty_sections() {
        let ppk = |enc: &str, private_lines: usize| {
            format!(
                "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: {enc}\nComment: k\nPublic-Lines: 2\n{}\n{}\nPrivate-Lines: {private_lines}\n{}\nPrivate-MAC: {}",
                b64(&[1u8; 45]),
                b64(&[2u8; 6]),
                b64(&[3u8; 36]),
                "ab".repeat(32)
            )
        };
        let k = read(ppk("none", 1).as_bytes()).unwrap();
        assert_eq!(
            (k.format, k.encrypted, k.structure),
            ("PuTTY v3", false, Structure::WellFormed)
        );
        assert!(read(ppk("aes256-cbc", 1).as_bytes()).unwrap().encrypted);
        assert_eq!(
            read(ppk("none", 3).as_bytes()).unwrap().structure,
            Structure::Truncated
        );
    }

    #[test]
    fn pgp_checksum() {
        // CRC-24/OPENPGP of "123456789" is 0x21CF02 (RFC 4880's algorithm, standard check).
        let armor = |crc: &[u8]| {
            format!(
                "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{}\n={}\n-----END PGP PRIVATE KEY BLOCK-----",
                b64(b"123456789"),
                b64(crc)
            )
        };
        let k = read(armor(&[0x21, 0xCF, 0x02]).as_bytes()).unwrap();
        assert_eq!((k.format, k.structure), ("OpenPGP", Structure::WellFormed));
        let k = read(armor(&[0x21, 0xCF, 0x03]).as_bytes()).unwrap();
        assert_eq!(k.structure, Structure::Malformed);
    }

    #[test]
    fn hostile_blocks_do_not_panic() {
        for t in [
            &b"-----BEGIN PRIVATE KEY-----"[..],
            b"-----BEGIN PRIVATE KEY-----\nMIIB\n",
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA/////w==\n",
            b"PuTTY-User-Key-File-2: x\nPrivate-Lines: 99999999999999999999\n",
            b"PuTTY-User-Key-File-2: x\nPrivate-Lines: 18446744073709551615\nAAAA\n",
            b"\xff\xfe-----BEGIN",
        ] {
            let _ = read(t);
        }
        assert!(read(&vec![b'A'; MAX_BLOCK + 1]).is_none());
    }
}
