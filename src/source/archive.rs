//! Archives: zip (jar, war, apk, whl, nupkg, ...), tar, and gzip, bzip2, xz and zstd streams
//! (a compressed tar is one archive). An archive is opened from memory and its members are
//! handed out one by one with their path inside it; an archive inside an archive is opened in
//! turn, down to a depth limit, its members named `outer!inner`. Knows nothing about rules or
//! the scanner.
//!
//! Archive content is hostile. No size a header claims is used to allocate: every member is
//! read as a stream into a buffer of at most `max_member` bytes, and reading stops at limits
//! on the bytes inflated from one outermost archive, on its entries, and on the compression
//! ratio of a stream once it has produced a MiB (zip bombs). Decoders get bounded windows.

use std::cell::Cell;
use std::io::{self, Read};

/// Most bytes inflated from one outermost archive, nested archives included.
pub const MAX_INFLATED: u64 = 512 << 20;
/// Most entries read from one outermost archive, nested archives included.
pub const MAX_ENTRIES: u64 = 100_000;
/// Highest compression ratio accepted once a member or stream has produced `RATIO_AFTER` bytes.
pub const MAX_RATIO: u64 = 100;
const RATIO_AFTER: u64 = 1 << 20;
/// Largest decoder window (xz dictionary, zstd window); larger ones are refused.
const MAX_WINDOW: u64 = 64 << 20;
/// Bounds on tar extension records (GNU long names, pax headers).
const MAX_LONG_NAME: u64 = 4096;
const MAX_PAX: u64 = 64 << 10;

/// An archive format, recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

/// The archive format `bytes` start with, if any.
pub fn detect(bytes: &[u8]) -> Option<Kind> {
    let head = |magic: &[u8]| bytes.starts_with(magic);
    if head(b"PK\x03\x04") || head(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if head(b"\x1f\x8b\x08") {
        Some(Kind::Gzip)
    } else if bytes.len() >= 10
        && head(b"BZh")
        && (b'1'..=b'9').contains(&bytes[3])
        && (&bytes[4..10] == b"1AY&SY" || &bytes[4..10] == b"\x17rE8P\x90")
    {
        Some(Kind::Bzip2)
    } else if head(b"\xfd7zXZ\x00") {
        Some(Kind::Xz)
    } else if head(b"\x28\xb5\x2f\xfd") {
        Some(Kind::Zstd)
    } else if bytes.get(257..262) == Some(b"ustar") && tar_checksum_ok(&bytes[..512]) {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// How far to open archives.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Archives opened one inside the other: 1 opens only the outermost.
    pub depth: usize,
    /// Largest member read; larger ones are skipped.
    pub max_member: u64,
}

/// What opening an archive hands out. `path` is the member's path inside the outermost
/// archive (nested archives joined by `!`); it is empty for the content of a compressed
/// stream that is not a tar (its name is the archive's, without the compression suffix).
pub enum Entry<'a> {
    /// A member's content (not an archive opened further).
    Member { path: &'a str, bytes: &'a [u8] },
    /// A member larger than `max_member`, not read.
    TooLarge { path: &'a str },
    /// What could not be read, or was left unread at a limit: `path` is the member, empty for
    /// the archive itself.
    Problem { path: &'a str, message: String },
}

/// Opens the outermost archive `bytes` of format `kind` and hands its entries to `visit`.
pub fn open(bytes: &[u8], kind: Kind, limits: &Limits, visit: &mut dyn FnMut(Entry<'_>)) {
    let inflated = Cell::new(0);
    let mut ctx = Ctx {
        limits: *limits,
        inflated: &inflated,
        entries: 0,
        stopped: false,
        visit,
    };
    ctx.open(bytes, kind, "", "", 1);
}

/// The name of a compressed stream's content, from the stream's own name: `app.log.gz` →
/// `app.log`, `x.tgz` → `x.tar`.
pub fn stream_name(name: &str) -> String {
    let base = name.rsplit(['/', '!']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    for (suffix, replace) in [
        (".tgz", ".tar"),
        (".tbz2", ".tar"),
        (".tbz", ".tar"),
        (".txz", ".tar"),
        (".tzst", ".tar"),
        (".gz", ""),
        (".bz2", ""),
        (".xz", ""),
        (".zst", ""),
        (".zstd", ""),
    ] {
        if lower.ends_with(suffix) && base.len() > suffix.len() {
            return format!("{}{replace}", &base[..base.len() - suffix.len()]);
        }
    }
    base.to_string()
}

/// Why reading stopped early.
#[derive(Debug)]
enum Limit {
    Inflated,
    Ratio,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Inflated => write!(
                f,
                "more than {} MiB inflated from one archive: the rest is not read",
                MAX_INFLATED >> 20
            ),
            Limit::Ratio => write!(
                f,
                "compression ratio above {MAX_RATIO}:1 (a zip bomb?): not read further"
            ),
        }
    }
}

impl std::error::Error for Limit {}

/// The state of one outermost archive being opened.
struct Ctx<'a> {
    limits: Limits,
    inflated: &'a Cell<u64>,
    entries: u64,
    /// A limit of the whole archive was reached: nothing more is read.
    stopped: bool,
    visit: &'a mut dyn FnMut(Entry<'_>),
}

impl Ctx<'_> {
    /// Opens `bytes` (an archive named `name` inside its parent, `prefix` naming the parent
    /// with its trailing `!`) at nesting `depth`.
    fn open(&mut self, bytes: &[u8], kind: Kind, prefix: &str, name: &str, depth: usize) {
        match kind {
            Kind::Zip => self.zip(bytes, prefix, depth),
            Kind::Tar => {
                let mut input = bytes;
                self.tar(&mut input, prefix, depth);
            }
            _ => self.stream(bytes, kind, prefix, name, depth),
        }
    }

    fn problem(&mut self, path: &str, message: impl std::fmt::Display) {
        (self.visit)(Entry::Problem {
            path,
            message: message.to_string(),
        });
    }

    /// Counts one entry; false (once reported) when the archive has too many.
    fn next_entry(&mut self, prefix: &str) -> bool {
        if self.stopped {
            return false;
        }
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            self.stopped = true;
            let archive = prefix.strip_suffix('!').unwrap_or(prefix);
            self.problem(
                archive,
                format!("more than {MAX_ENTRIES} entries: the rest is not read"),
            );
            return false;
        }
        true
    }

    /// Reads one member from `r` into a buffer (at most `max_member` bytes); `None` when it
    /// is larger (reported). A limit or a read error is reported and ends the member.
    fn read_member(&mut self, r: &mut dyn Read, path: &str) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        match (&mut *r)
            .take(self.limits.max_member + 1)
            .read_to_end(&mut buf)
        {
            Ok(_) if buf.len() as u64 > self.limits.max_member => {
                (self.visit)(Entry::TooLarge { path });
                None
            }
            Ok(_) => Some(buf),
            Err(e) => {
                self.read_error(path, &e);
                None
            }
        }
    }

    /// Reports a read error; a limit of the whole archive stops it.
    fn read_error(&mut self, path: &str, e: &io::Error) {
        if let Some(Limit::Inflated) = e.get_ref().and_then(|x| x.downcast_ref::<Limit>()) {
            self.stopped = true;
        }
        self.problem(path, e);
    }

    /// A member read whole: opened when it is an archive (within the depth), else handed out.
    fn member(&mut self, prefix: &str, name: &str, bytes: &[u8], depth: usize) {
        let path = format!("{prefix}{name}");
        match detect(bytes) {
            Some(kind) if depth < self.limits.depth => {
                let inner = format!("{path}!");
                self.open(bytes, kind, &inner, name, depth + 1);
            }
            Some(_) => self.problem(
                &path,
                format!(
                    "archive nested deeper than {} levels: not opened",
                    self.limits.depth
                ),
            ),
            None => (self.visit)(Entry::Member { path: &path, bytes }),
        }
    }

    fn zip(&mut self, bytes: &[u8], prefix: &str, depth: usize) {
        let archive = prefix.strip_suffix('!').unwrap_or(prefix);
        if !zip_claims_plausible(bytes) {
            return self.problem(
                archive,
                "damaged zip: its directory claims more entries than it can hold",
            );
        }
        let mut zip = match zip::ZipArchive::new(io::Cursor::new(bytes)) {
            Ok(z) => z,
            Err(e) => return self.problem(archive, format!("damaged zip: {e}")),
        };
        for i in 0..zip.len() {
            if !self.next_entry(prefix) {
                return;
            }
            let name = zip.name_for_index(i).unwrap_or("").to_string();
            let mut file = match zip.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    self.problem(&format!("{prefix}{name}"), format!("not read: {e}"));
                    continue;
                }
            };
            if file.is_dir() {
                continue;
            }
            let path = format!("{prefix}{name}");
            let compressed = Cell::new(file.compressed_size());
            let mut guard = Guard::new(&mut file, self.inflated, Ratio::Declared(&compressed));
            if let Some(data) = self.read_member(&mut guard, &path) {
                self.member(prefix, &name, &data, depth);
            }
        }
    }

    /// A gzip, bzip2, xz or zstd stream: a tar inside is read as the archive's members, any
    /// other content is one member.
    fn stream(&mut self, bytes: &[u8], kind: Kind, prefix: &str, name: &str, depth: usize) {
        let archive = prefix.strip_suffix('!').unwrap_or(prefix);
        let consumed = Cell::new(0);
        let input = Counted {
            inner: bytes,
            count: &consumed,
        };
        let decoder: Box<dyn Read + '_> = match kind {
            Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Kind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(input)),
            Kind::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
                input,
                true,
                (MAX_WINDOW >> 10) as u32,
            )),
            _ => match ruzstd::decoding::StreamingDecoder::new_with_max_window_size(
                input, MAX_WINDOW,
            ) {
                Ok(d) => Box::new(d),
                Err(e) => return self.problem(archive, format!("damaged zstd stream: {e}")),
            },
        };
        let mut guard = Guard::new(decoder, self.inflated, Ratio::Counted(&consumed));
        let mut head = [0u8; 512];
        let n = match read_full(&mut guard, &mut head) {
            Ok(n) => n,
            Err(e) => return self.read_error(archive, &e),
        };
        if n == 512 && head.get(257..262) == Some(b"ustar") && tar_checksum_ok(&head) {
            let mut tar = (&head[..]).chain(guard);
            return self.tar(&mut tar, prefix, depth);
        }
        let inner = if name.is_empty() {
            String::new()
        } else {
            stream_name(name)
        };
        let mut all = (&head[..n]).chain(guard);
        let path = format!("{prefix}{inner}");
        if self.next_entry(prefix) {
            if let Some(data) = self.read_member(&mut all, &path) {
                self.member(prefix, &inner, &data, depth);
            }
        }
    }

    /// A tar stream: regular files are members; GNU long names and pax `path` records name
    /// them; everything else is skipped.
    fn tar(&mut self, r: &mut dyn Read, prefix: &str, depth: usize) {
        let archive = prefix.strip_suffix('!').unwrap_or(prefix).to_string();
        let mut long_name: Option<String> = None;
        let mut header = [0u8; 512];
        loop {
            match read_full(r, &mut header) {
                Ok(512) => {}
                Ok(0) => return,
                Ok(_) => return self.problem(&archive, "damaged tar: cut short"),
                Err(e) => return self.read_error(&archive, &e),
            }
            if header.iter().all(|&b| b == 0) {
                return;
            }
            if !tar_checksum_ok(&header) {
                return self.problem(&archive, "damaged tar: bad header checksum");
            }
            let Some(size) = tar_size(&header) else {
                return self.problem(&archive, "damaged tar: bad size field");
            };
            let padded = size.div_ceil(512) * 512;
            let mut body = (&mut *r).take(padded);
            let outcome = match header[156] {
                b'0' | 0 | b'7' => {
                    let name = long_name.take().unwrap_or_else(|| tar_name(&header));
                    self.tar_file(&mut body, size, prefix, &name, depth)
                }
                b'L' => read_text(&mut body, MAX_LONG_NAME).map(|t| {
                    long_name = Some(t.trim_end_matches('\0').to_string());
                }),
                b'x' => read_text(&mut body, MAX_PAX).map(|t| {
                    if let Some(p) = pax_path(&t) {
                        long_name = Some(p);
                    }
                }),
                _ => Ok(()),
            };
            // The rest of the entry (what was not read, and the padding).
            let skipped = outcome.and_then(|()| io::copy(&mut body, &mut io::sink()).map(drop));
            if let Err(e) = skipped {
                return self.read_error(&archive, &e);
            }
            if self.stopped {
                return;
            }
        }
    }

    /// One regular file of a tar.
    fn tar_file(
        &mut self,
        body: &mut dyn Read,
        size: u64,
        prefix: &str,
        name: &str,
        depth: usize,
    ) -> io::Result<()> {
        if !self.next_entry(prefix) {
            return Ok(());
        }
        let path = format!("{prefix}{name}");
        if size > self.limits.max_member {
            (self.visit)(Entry::TooLarge { path: &path });
            return Ok(());
        }
        let mut data = Vec::new();
        (&mut *body).take(size).read_to_end(&mut data)?;
        if (data.len() as u64) < size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "cut short"));
        }
        self.member(prefix, name, &data, depth);
        Ok(())
    }
}

/// Fills `buf` as far as the reader allows; the count read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// At most `max` bytes of `r`, as text.
fn read_text(r: &mut dyn Read, max: u64) -> io::Result<String> {
    let mut buf = Vec::new();
    (&mut *r).take(max).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The `path` record of a pax extended header (`LEN path=VALUE\n` records).
fn pax_path(text: &str) -> Option<String> {
    text.lines().find_map(|rec| {
        let (_, kv) = rec.split_once(' ')?;
        kv.strip_prefix("path=").map(str::to_string)
    })
}

/// A tar header's name: ustar `prefix/name`, else `name`.
fn tar_name(h: &[u8; 512]) -> String {
    let field = |b: &[u8]| {
        let end = memchr::memchr(0, b).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    let name = field(&h[0..100]);
    let prefix = field(&h[345..500]);
    if &h[257..262] == b"ustar" && !prefix.is_empty() {
        format!("{prefix}/{name}")
    } else {
        name
    }
}

/// A tar header's size: octal, or base-256 when the first byte has its high bit set.
fn tar_size(h: &[u8; 512]) -> Option<u64> {
    let field = &h[124..136];
    if field[0] & 0x80 != 0 {
        let mut n: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            n = n.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(n);
    }
    let digits = field
        .iter()
        .skip_while(|&&b| b == b' ')
        .take_while(|&&b| (b'0'..=b'7').contains(&b));
    let mut n: u64 = 0;
    for &b in digits {
        n = n.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// Whether a tar header's checksum (the sum of its bytes, the checksum field read as spaces)
/// matches the one it records.
fn tar_checksum_ok(h: &[u8]) -> bool {
    if h.len() < 512 {
        return false;
    }
    let recorded = h[148..156]
        .iter()
        .skip_while(|&&b| b == b' ')
        .take_while(|&&b| (b'0'..=b'7').contains(&b))
        .fold(0u64, |n, &b| n * 8 + u64::from(b - b'0'));
    let sum: u64 = h[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    sum == recorded
}

/// Whether a zip's end-of-directory record claims no more entries than its directory can
/// hold (46 bytes each at least): the zip reader sizes its table from that claim.
fn zip_claims_plausible(bytes: &[u8]) -> bool {
    let u16le = |b: &[u8], at: usize| u64::from(u16::from_le_bytes([b[at], b[at + 1]]));
    let u32le = |b: &[u8], at: usize| {
        u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
    };
    let u64le = |b: &[u8], at: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(a)
    };
    let tail = bytes.len().saturating_sub(22 + 0xFFFF);
    let Some(at) = memchr::memmem::rfind(&bytes[tail..], b"PK\x05\x06").map(|i| tail + i) else {
        return true; // no directory: the reader reports the damage
    };
    let eocd = &bytes[at..];
    if eocd.len() < 22 {
        return false;
    }
    let (mut entries, mut size) = (u16le(eocd, 10).max(u16le(eocd, 8)), u32le(eocd, 12));
    if entries == 0xFFFF || size == 0xFFFF_FFFF {
        let Some(loc) = at.checked_sub(20).map(|l| &bytes[l..at]) else {
            return false;
        };
        if !loc.starts_with(b"PK\x06\x07") {
            return false;
        }
        let Some(rec) = usize::try_from(u64le(loc, 8))
            .ok()
            .and_then(|o| bytes.get(o..o.checked_add(56)?))
        else {
            return false;
        };
        if !rec.starts_with(b"PK\x06\x06") {
            return false;
        }
        (entries, size) = (u64le(rec, 32).max(u64le(rec, 24)), u64le(rec, 40));
    }
    entries.saturating_mul(46) <= size && size <= bytes.len() as u64
}

/// A reader over compressed bytes that counts what it hands out.
struct Counted<'a> {
    inner: &'a [u8],
    count: &'a Cell<u64>,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// How much compressed input a decoder has used: declared by a zip entry, or counted.
enum Ratio<'a> {
    Declared(&'a Cell<u64>),
    Counted(&'a Cell<u64>),
}

/// Wraps a decoder: every byte it produces counts against the archive's inflated budget, and
/// past `RATIO_AFTER` bytes its output may not exceed `MAX_RATIO` times its input.
struct Guard<'a, R> {
    inner: R,
    inflated: &'a Cell<u64>,
    input: Ratio<'a>,
    out: u64,
}

impl<'a, R: Read> Guard<'a, R> {
    fn new(inner: R, inflated: &'a Cell<u64>, input: Ratio<'a>) -> Self {
        Guard {
            inner,
            inflated,
            input,
            out: 0,
        }
    }
}

impl<R: Read> Read for Guard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let total = self.inflated.get() + n as u64;
        self.inflated.set(total);
        if total > MAX_INFLATED {
            return Err(io::Error::other(Limit::Inflated));
        }
        let input = match &self.input {
            Ratio::Declared(c) | Ratio::Counted(c) => c.get(),
        };
        if self.out > RATIO_AFTER && self.out > input.saturating_mul(MAX_RATIO) {
            return Err(io::Error::other(Limit::Ratio));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_drop_the_compression_suffix() {
        assert_eq!(stream_name("logs/app.log.gz"), "app.log");
        assert_eq!(stream_name("a.zip!dump.sql.zst"), "dump.sql");
        assert_eq!(stream_name("x.tgz"), "x.tar");
        assert_eq!(stream_name("data"), "data");
        assert_eq!(stream_name(".gz"), ".gz");
    }

    #[test]
    fn tar_sizes_octal_and_base_256() {
        let mut h = [0u8; 512];
        h[124..136].copy_from_slice(b"00000001750\0");
        assert_eq!(tar_size(&h), Some(1000));
        h[124..136].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0]);
        assert_eq!(tar_size(&h), Some(4096));
    }

    #[test]
    fn pax_path_records() {
        assert_eq!(
            pax_path("30 mtime=1.0\n27 path=deep/dir/file.txt\n").as_deref(),
            Some("deep/dir/file.txt")
        );
        assert_eq!(pax_path("12 mtime=1\n"), None);
    }

    #[test]
    fn formats_are_told_by_magic_bytes() {
        assert_eq!(detect(b"PK\x03\x04rest"), Some(Kind::Zip));
        assert_eq!(detect(b"\x1f\x8b\x08\x00"), Some(Kind::Gzip));
        assert_eq!(detect(b"BZh91AY&SYxx"), Some(Kind::Bzip2));
        assert_eq!(detect(b"\xfd7zXZ\x00\x00"), Some(Kind::Xz));
        assert_eq!(detect(b"\x28\xb5\x2f\xfd\x00"), Some(Kind::Zstd));
        assert_eq!(detect(b"BZh9 is not bzip2"), None);
        assert_eq!(detect(b"plain text"), None);
        let mut tar = [0u8; 512];
        tar[..5].copy_from_slice(b"a.txt");
        tar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(detect(&tar), None); // checksum missing
        let sum: u32 = tar.iter().map(|&b| u32::from(b)).sum::<u32>() + 8 * 32;
        tar[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        assert_eq!(detect(&tar), Some(Kind::Tar));
    }

    #[test]
    fn the_guard_stops_at_the_inflated_budget_and_at_the_ratio() {
        let inflated = Cell::new(MAX_INFLATED - 10);
        let plenty = Cell::new(u64::MAX / MAX_RATIO);
        let mut g = Guard::new(io::repeat(0).take(100), &inflated, Ratio::Declared(&plenty));
        let e = io::copy(&mut g, &mut io::sink()).unwrap_err();
        assert!(matches!(
            e.get_ref().unwrap().downcast_ref(),
            Some(Limit::Inflated)
        ));

        let inflated = Cell::new(0);
        let small = Cell::new(10_000);
        let mut g = Guard::new(io::repeat(0), &inflated, Ratio::Counted(&small));
        let e = io::copy(&mut g, &mut io::sink()).unwrap_err();
        assert!(matches!(
            e.get_ref().unwrap().downcast_ref(),
            Some(Limit::Ratio)
        ));
        // It stopped soon after the first MiB, at 100 times the input at most.
        assert!(
            inflated.get() <= (1 << 20) + (64 << 10),
            "{}",
            inflated.get()
        );
    }

    #[test]
    fn a_zip_directory_claiming_too_many_entries_is_refused() {
        let mut z = b"PK\x05\x06\0\0\0\0".to_vec();
        z.extend_from_slice(&100u16.to_le_bytes());
        z.extend_from_slice(&100u16.to_le_bytes());
        z.extend_from_slice(&46u32.to_le_bytes()); // room for one entry
        z.extend_from_slice(&[0; 6]);
        assert!(!zip_claims_plausible(&z));
        z[8..12].copy_from_slice(&[1, 0, 1, 0]);
        assert!(!zip_claims_plausible(&z)); // 46 bytes of directory in a 22-byte file
    }
}
