//! Git servers on 127.0.0.1 for remote-repository tests: `git daemon` (git://) and `git
//! http-backend` behind a small HTTP/1.1 server (smart HTTP, optionally behind Basic
//! authentication). Both serve the bare repositories under one base directory and stop when
//! dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `git daemon` serving `base` read-only on 127.0.0.1.
pub struct Daemon {
    child: Child,
    pub port: u16,
}

impl Daemon {
    pub fn start(base: &Path) -> Daemon {
        let port = free_port();
        // The daemon itself, not `git daemon`: killing git would leave its child serving.
        let exec_path = Command::new("git")
            .arg("--exec-path")
            .output()
            .unwrap()
            .stdout;
        let exec_path = PathBuf::from(String::from_utf8(exec_path).unwrap().trim());
        let child = Command::new(exec_path.join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--informative-errors"])
            .arg(format!("--base-path={}", base.display()))
            .args(["--listen=127.0.0.1", &format!("--port={port}")])
            .arg(base)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not start");
            thread::sleep(Duration::from_millis(20));
        }
        Daemon { child, port }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Smart HTTP through `git http-backend`, on 127.0.0.1.
pub struct Http {
    pub addr: SocketAddr,
    /// Every `Authorization` header received (absent: `None`).
    pub auth_seen: Arc<Mutex<Vec<Option<String>>>>,
    stop: Arc<AtomicBool>,
}

impl Http {
    /// Serves `base`; with `basic` (user, password), every request must carry them.
    pub fn start(base: &Path, basic: Option<(&str, &str)>) -> Http {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let auth_seen = Arc::new(Mutex::new(Vec::new()));
        let expected =
            basic.map(|(u, p)| format!("Basic {}", base64(format!("{u}:{p}").as_bytes())));
        {
            let (stop, seen, base) = (stop.clone(), auth_seen.clone(), base.to_path_buf());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (seen, base, expected) = (seen.clone(), base.clone(), expected.clone());
                    thread::spawn(move || serve(stream, &base, expected.as_deref(), &seen));
                }
            });
        }
        Http {
            addr,
            auth_seen,
            stop,
        }
    }

    /// The URL of a repository, with `host` as the host name (`127.0.0.1` or `localhost`).
    pub fn url_on(&self, host: &str, repo: &str) -> String {
        format!("http://{host}:{}/{repo}", self.addr.port())
    }

    pub fn url(&self, repo: &str) -> String {
        self.url_on("127.0.0.1", repo)
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    stream: TcpStream,
    base: &Path,
    expected: Option<&str>,
    seen: &Mutex<Vec<Option<String>>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let mut parts = first.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = read_chunked(&mut reader);
    }
    let auth = header("authorization");
    seen.lock().unwrap().push(auth.clone());
    let mut out = stream;
    if let Some(expected) = expected {
        if auth.as_deref() != Some(expected) {
            let _ = out.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"test\"\r\n\
                  content-length: 0\r\nconnection: close\r\n\r\n",
            );
            return;
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut cgi = Command::new("git");
    cgi.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", base)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", base)
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(t) = header("content-type") {
        cgi.env("CONTENT_TYPE", t);
    }
    if let Some(p) = header("git-protocol") {
        cgi.env("GIT_PROTOCOL", p);
    }
    if let Some(e) = header("content-encoding") {
        cgi.env("HTTP_CONTENT_ENCODING", e);
    }
    if auth.is_some() {
        cgi.env("REMOTE_USER", "tester");
    }
    let mut child = cgi.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let mut output = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut output)
        .unwrap();
    let _ = writer.join();
    let _ = child.wait();
    let split = output
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| output.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((at, gap)) = split else { return };
    let head = String::from_utf8_lossy(&output[..at]).into_owned();
    let payload = &output[at + gap..];
    let mut status = "200 OK".to_string();
    let mut response = Vec::new();
    for line in head.lines() {
        match line.split_once(':') {
            Some((n, v)) if n.eq_ignore_ascii_case("status") => status = v.trim().to_string(),
            Some(_) => response.push(line.to_string()),
            None => {}
        }
    }
    let mut reply = format!("HTTP/1.1 {status}\r\n");
    for h in response {
        reply.push_str(&h);
        reply.push_str("\r\n");
    }
    reply.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        payload.len()
    ));
    let _ = out.write_all(reply.as_bytes());
    let _ = out.write_all(payload);
}

fn read_chunked(r: &mut impl BufRead) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        if r.read_line(&mut size).unwrap_or(0) == 0 {
            break;
        }
        let n =
            usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if n == 0 {
            let mut end = String::new();
            let _ = r.read_line(&mut end);
            break;
        }
        let mut chunk = vec![0; n];
        if r.read_exact(&mut chunk).is_err() {
            break;
        }
        body.extend_from_slice(&chunk);
        let mut crlf = String::new();
        let _ = r.read_line(&mut crlf);
    }
    body
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A bare copy of the repository at `src` as `base/name` (what a server serves).
pub fn publish(src: &Path, base: &Path, name: &str) -> PathBuf {
    let dest = base.join(name);
    let out = Command::new("git")
        .args(["clone", "--bare", "--quiet"])
        .arg(src)
        .arg(&dest)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", base)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dest
}

/// Pushes every branch and tag of `src` to the bare repository `dest`, forcing.
pub fn push_all(src: &Path, dest: &Path) {
    for refs in ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"] {
        let out = Command::new("git")
            .arg("-C")
            .arg(src)
            .args(["push", "--quiet", "--prune"])
            .arg(dest)
            .arg(refs)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dest)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
