//! Archives in trees, in history and in changes: zip (jar), tar.gz, gz, nested archives, the
//! depth limit, zip bombs and damaged archives. Every archive is built by the test.

mod gitrepo;

use std::io::{Cursor, Write};
use std::path::Path;

use gitrepo::{found, json, Repo, LEGACY, LEGACY2};
use serde_json::Value;
use zip::write::SimpleFileOptions;

/// A zip of `(name, content)` members, deflated.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(content).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A gzip-compressed tar of `(name, content)` members.
fn tar_gz_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, content) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, *content).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

fn gz_of(content: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(content).unwrap();
    gz.finish().unwrap()
}

/// Properties whose line 12 holds `key`.
fn properties(key: &str) -> Vec<u8> {
    let mut text: String = (1..12)
        .map(|i| format!("app.setting{i}=value{i}\n"))
        .collect();
    text.push_str(&format!("openai.api-key={key}\n"));
    text.into_bytes()
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// Scans `dir`'s files (no history) with `args`; the exit code and the JSON report.
fn scan_tree(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut cmd = assert_cmd::Command::cargo_bin("keyhound").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["scan", ".", "--no-history"])
        .args(args);
    json(&mut cmd)
}

fn paths(v: &Value) -> Vec<String> {
    found(v).into_iter().map(|(p, _, _)| p).collect()
}

#[test]
fn a_secret_in_a_jar_is_located_inside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        (
            "BOOT-INF/classes/App.class",
            b"\xca\xfe\xba\xbe\x00\x00\x00\x41",
        ),
        (
            "BOOT-INF/classes/application.properties",
            &properties(LEGACY),
        ),
    ]);
    write(tmp.path(), "dist/app.jar", &jar);
    let (code, v, stderr) = scan_tree(tmp.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    let f = &v["findings"][0];
    assert_eq!(
        f["path"], "dist/app.jar!BOOT-INF/classes/application.properties",
        "{v}"
    );
    assert_eq!(f["line"], 12);
    assert_eq!(f["origin"], "file");
    assert_eq!(f["archive"]["path"], "dist/app.jar");
    assert_eq!(
        f["archive"]["member"],
        "BOOT-INF/classes/application.properties"
    );
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["summary"]["archives"], 1);

    // The text report shows the same location.
    let out = assert_cmd::Command::cargo_bin("keyhound")
        .unwrap()
        .current_dir(tmp.path())
        .args(["scan", ".", "--no-history", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("dist/app.jar!BOOT-INF/classes/application.properties:12:"),
        "{text}"
    );
}

#[test]
fn tar_gz_gz_and_nested_archives() {
    let tmp = tempfile::tempdir().unwrap();
    let inner = zip_of(&[(
        "conf/app.env",
        format!("OPENAI_API_KEY={LEGACY}\n").as_bytes(),
    )]);
    write(
        tmp.path(),
        "bundle.tgz",
        &tar_gz_of(&[("README", b"hello\n"), ("lib/inner.zip", &inner)]),
    );
    write(
        tmp.path(),
        "logs/app.log.gz",
        &gz_of(format!("started\nkey={LEGACY2}\n").as_bytes()),
    );
    let (code, v, stderr) = scan_tree(tmp.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        paths(&v),
        [
            "bundle.tgz!lib/inner.zip!conf/app.env",
            "logs/app.log.gz!app.log"
        ],
        "{v}"
    );
    assert_eq!(v["findings"][1]["line"], 2);
}

/// `depth` zips one inside the other; the innermost holds a key.
fn nested(depth: usize) -> Vec<u8> {
    let mut bytes = zip_of(&[(
        "secret.env",
        format!("OPENAI_API_KEY={LEGACY}\n").as_bytes(),
    )]);
    for i in 1..depth {
        bytes = zip_of(&[(&format!("level{i}.zip"), &bytes)]);
    }
    bytes
}

#[test]
fn archives_deeper_than_the_limit_stay_closed_and_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "deep.zip", &nested(3));
    let (code, v, stderr) = scan_tree(tmp.path(), &[]);
    assert_eq!(code, 0, "{v}");
    assert!(
        stderr.contains("deep.zip!level2.zip!level1.zip: archive nested deeper than 2 levels"),
        "{stderr}"
    );
    let (code, v, _) = scan_tree(tmp.path(), &["--max-archive-depth", "3"]);
    assert_eq!(code, 1);
    assert_eq!(
        paths(&v),
        ["deep.zip!level2.zip!level1.zip!secret.env"],
        "{v}"
    );
    let (code, v, stderr) = scan_tree(tmp.path(), &["--max-archive-depth", "0"]);
    assert_eq!(code, 0, "{v}");
    assert!(!stderr.contains("deeper"), "{stderr}");
    assert_eq!(v["summary"]["skipped_binary"], 1);
}

#[test]
fn a_zip_bomb_is_cut_short_and_the_scan_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    // 24 MiB of zeros deflate to about 24 KiB: a ratio near 1000:1.
    let zeros = vec![0u8; 24 << 20];
    let bomb = zip_of(&[
        ("bomb.bin", &zeros),
        ("later.env", format!("OPENAI_API_KEY={LEGACY}\n").as_bytes()),
    ]);
    assert!(bomb.len() < 100 << 10, "{}", bomb.len());
    write(tmp.path(), "bomb.zip", &bomb);
    let (code, v, stderr) = scan_tree(tmp.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("bomb.zip!bomb.bin: compression ratio above 100:1"),
        "{stderr}"
    );
    assert_eq!(paths(&v), ["bomb.zip!later.env"]);
}

#[test]
fn damaged_archives_are_named_and_the_scan_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tar_gz_of(&[("a.env", format!("OPENAI_API_KEY={LEGACY}\n").as_bytes())]);
    let mut cut = tar_gz_of(&[
        (
            "first.env",
            format!("OPENAI_API_KEY={LEGACY2}\n").as_bytes(),
        ),
        ("second.bin", &[7u8; 300_000]),
    ]);
    cut.truncate(cut.len() - 40);
    let jar = zip_of(&[("x.properties", &properties(LEGACY))]);
    write(tmp.path(), "good.tgz", &good);
    write(tmp.path(), "cut.tgz", &cut);
    write(tmp.path(), "broken.jar", &jar[..jar.len() / 2]);
    write(
        tmp.path(),
        "garbage.gz",
        b"\x1f\x8b\x08\x00not really gzip at all",
    );
    let (code, v, stderr) = scan_tree(tmp.path(), &[]);
    // Damage is a warning, not an error: the findings decide the exit code.
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(v["summary"]["errors"], 0);
    for name in ["broken.jar", "garbage.gz", "cut.tgz"] {
        assert!(
            stderr.contains(&format!("warning: {name}")),
            "{name}: {stderr}"
        );
    }
    // What was read before the damage still counts.
    assert_eq!(paths(&v), ["cut.tgz!first.env", "good.tgz!a.env"], "{v}");
}

#[test]
fn a_member_identical_to_a_file_is_scanned_once() {
    let tmp = tempfile::tempdir().unwrap();
    let env = format!("OPENAI_API_KEY={LEGACY}\n");
    write(tmp.path(), "conf/app.env", env.as_bytes());
    write(
        tmp.path(),
        "dist/a.zip",
        &zip_of(&[("conf/app.env", env.as_bytes())]),
    );
    let (_, v, _) = scan_tree(tmp.path(), &[]);
    assert_eq!(paths(&v), ["conf/app.env", "dist/a.zip!conf/app.env"]);
    // Two files and one member seen; the text once, the archive once.
    assert_eq!(v["summary"]["items"], 3);
    assert_eq!(v["summary"]["blobs"], 2);
    let blobs: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["blob"])
        .collect();
    assert_eq!(blobs[0], blobs[1]);
}

#[test]
fn an_archive_only_history_holds_is_opened_and_placed() {
    let repo = Repo::new();
    repo.write(
        "dist/app.jar",
        zip_of(&[("config/app.properties", &properties(LEGACY))]),
    );
    repo.add(&["dist/app.jar"]);
    let added = repo.commit("Add the build");
    repo.git(&["rm", "-q", "dist/app.jar"]);
    repo.commit("Remove the build");
    let (code, v, stderr) = json(repo.keyhound().args(["scan", "."]));
    assert_eq!(code, 1, "{stderr}");
    let f = &v["findings"][0];
    assert_eq!(f["path"], "dist/app.jar!config/app.properties", "{v}");
    assert_eq!(f["line"], 12);
    assert_eq!(f["origin"], "history");
    assert_eq!(f["commit"]["id"], added.as_str());
    assert_eq!(f["history"]["path"], "dist/app.jar");
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    // The text report gives the archive's history, at the member's location.
    let out = repo
        .keyhound()
        .args(["scan", ".", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("dist/app.jar!config/app.properties:12:"),
        "{text}"
    );
    assert!(text.contains("history: introduced in"), "{text}");
    assert!(!text.contains(" as dist/app.jar"), "{text}");
}

#[test]
fn a_staged_archive_reports_its_members() {
    let repo = Repo::new();
    repo.write("README", "hello\n");
    repo.add(&["README"]);
    repo.commit("Start");
    repo.write(
        "lib/tool.zip",
        zip_of(&[("tool/.env", format!("OPENAI_API_KEY={LEGACY}\n").as_bytes())]),
    );
    repo.add(&["lib/tool.zip"]);
    let (code, v, stderr) = json(repo.keyhound().args(["scan", "--staged"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths(&v), ["lib/tool.zip!tool/.env"]);
    assert_eq!(v["findings"][0]["origin"], "staged");
}
