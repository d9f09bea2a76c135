//! Rules with `path` (credential files): a match counts only at a path the rule takes, for
//! files on disk, versions only history holds, added lines and archive members alike; the
//! same content elsewhere gives nothing. Binary rules find key stores by magic bytes.

mod gitrepo;

use std::io::{Cursor, Write};
use std::path::Path;

use gitrepo::{found, json, Repo, LEGACY};
use serde_json::Value;

// Random fakes: a weak password (too short for the generic rules; a credential file reports
// it all the same) and a strong one.
const NETRC: &str = "machine build.acme.internal login deploy password hunter2\n";
const STRONG: &str = "Vq7mZ2xLp9sK4tWb";
const MASTER_KEY: &str = "48600350f892478a5b76581efc2cce29\n";

/// The head of a PKCS#12 file: SEQUENCE, INTEGER 3, SEQUENCE, then a random salt.
fn pkcs12() -> Vec<u8> {
    let mut b = vec![
        0x30, 0x82, 0x0a, 0x3e, 0x02, 0x01, 0x03, 0x30, 0x82, 0x0a, 0x04,
    ];
    b.extend_from_slice(&[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
    ]);
    b.extend_from_slice(&[0x04, 0x08, 0x49, 0x12, 0xda, 0x7c, 0x53, 0x69, 0x7d, 0x49]);
    b.extend(std::iter::repeat_n(0u8, 64));
    b
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn scan_tree(dir: &Path) -> (i32, Value) {
    let mut cmd = assert_cmd::Command::cargo_bin("keyhound").unwrap();
    cmd.current_dir(dir).args(["scan", ".", "--no-history"]);
    let (code, v, _) = json(&mut cmd);
    (code, v)
}

fn found_rules(v: &Value) -> Vec<(String, String)> {
    found(v).into_iter().map(|(p, _, r)| (p, r)).collect()
}

fn pair(path: &str, rule: &str) -> (String, String) {
    (path.to_string(), rule.to_string())
}

#[test]
fn a_credential_file_reports_what_the_same_text_elsewhere_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "home/.netrc", NETRC.as_bytes());
    write(tmp.path(), "docs/netrc-howto.txt", NETRC.as_bytes());
    write(tmp.path(), "config/master.key", MASTER_KEY.as_bytes());
    write(tmp.path(), "notes/build.key", MASTER_KEY.as_bytes());
    let (code, v) = scan_tree(tmp.path());
    assert_eq!(code, 1);
    assert_eq!(
        found_rules(&v),
        [
            pair("config/master.key", "rails.master-key-file"),
            pair("home/.netrc", "netrc.password"),
        ],
        "{v}"
    );
    let netrc = &v["findings"][1];
    assert_eq!(netrc["secret_length"], 7);
}

#[test]
fn key_stores_are_found_by_path_and_magic_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "certs/prod.p12", &pkcs12());
    write(tmp.path(), "assets/blob.bin", &pkcs12());
    write(tmp.path(), "android/app/debug.keystore", &pkcs12());
    let (code, v) = scan_tree(tmp.path());
    assert_eq!(code, 1);
    assert_eq!(
        found_rules(&v),
        [pair("certs/prod.p12", "keystore.pkcs12")],
        "{v}"
    );
    let f = &v["findings"][0];
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(1), Some(1))
    );
    // The secret is the head of the file in hex (shown redacted).
    let shown = assert_cmd::Command::cargo_bin("keyhound")
        .unwrap()
        .current_dir(tmp.path())
        .args([
            "scan",
            "certs",
            "--no-history",
            "-f",
            "json",
            "--show-secrets",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&shown.stdout).unwrap();
    let secret = v["findings"][0]["secret"].as_str().unwrap();
    assert!(secret.starts_with("30820a3e02010330820a04"), "{secret}");
}

#[test]
fn a_path_rule_displaces_a_generic_match_and_yields_to_a_provider_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let props = format!("signing.password={STRONG}\n");
    write(tmp.path(), "gradle.properties", props.as_bytes());
    write(tmp.path(), "app/app.properties", props.as_bytes());
    let creds = format!("https://ada:{LEGACY}@git.acme.internal\n");
    write(tmp.path(), "home/.git-credentials", creds.as_bytes());
    let (_, v) = scan_tree(tmp.path());
    let rules = found_rules(&v);
    assert!(
        rules.contains(&pair("gradle.properties", "gradle.properties-password")),
        "{rules:?}"
    );
    assert!(!rules
        .iter()
        .any(|(p, r)| p == "gradle.properties" && r.starts_with("generic.")));
    assert!(
        rules
            .iter()
            .any(|(p, r)| p == "app/app.properties" && r.starts_with("generic.")),
        "{rules:?}"
    );
    let creds: Vec<_> = rules
        .iter()
        .filter(|(p, _)| p == "home/.git-credentials")
        .collect();
    assert_eq!(
        creds,
        [&pair("home/.git-credentials", "openai.legacy-key")],
        "{rules:?}"
    );
}

#[test]
fn history_keeps_a_path_rule_match_only_where_the_path_fits() {
    let repo = Repo::new();
    repo.write(".netrc", NETRC);
    repo.write("docs/netrc.txt", NETRC);
    repo.add(&[".netrc", "docs/netrc.txt"]);
    let added = repo.commit("Add credentials");
    repo.git(&["rm", "-q", ".netrc"]);
    repo.commit("Remove credentials");
    let (code, v, stderr) = json(repo.keyhound().args(["scan", "."]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found_rules(&v), [pair(".netrc", "netrc.password")], "{v}");
    assert_eq!(v["findings"][0]["origin"], "history");
    assert_eq!(v["findings"][0]["commit"]["id"], added.as_str());
}

#[test]
fn staged_credential_files_and_archive_members_take_the_gate_too() {
    let repo = Repo::new();
    repo.write("README", "hello\n");
    repo.add(&["README"]);
    repo.commit("Start");
    repo.write("deploy/.pgpass", "db.acme.internal:5432:app:app:hunter2\n");
    repo.write(
        "deploy/pgpass.txt",
        "db.acme.internal:5432:app:app:hunter2\n",
    );
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("BOOT-INF/classes/keystore.p12", opts).unwrap();
    w.write_all(&pkcs12()).unwrap();
    w.start_file("BOOT-INF/classes/blob.bin", opts).unwrap();
    w.write_all(&pkcs12()).unwrap();
    repo.write("dist/app.jar", w.finish().unwrap().into_inner());
    repo.add(&["deploy", "dist"]);
    let (code, v, stderr) = json(repo.keyhound().args(["scan", "--staged"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        found_rules(&v),
        [
            pair("deploy/.pgpass", "postgres.pgpass"),
            pair(
                "dist/app.jar!BOOT-INF/classes/keystore.p12",
                "keystore.pkcs12"
            ),
        ],
        "{v}"
    );
}

#[test]
fn stdin_has_no_path_so_path_rules_stay_silent() {
    let out = assert_cmd::Command::cargo_bin("keyhound")
        .unwrap()
        .args(["scan", "-", "-f", "json"])
        .write_stdin(NETRC)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{v}");
}
