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

/// Writes `(path, content)` files, scans them and returns `(path, rule)` of each finding, with
/// the secret's length.
fn scan_files(files: &[(&str, &str)]) -> Vec<(String, String, u64)> {
    let tmp = tempfile::tempdir().unwrap();
    for (path, content) in files {
        write(tmp.path(), path, content.as_bytes());
    }
    let (_, v) = scan_tree(tmp.path());
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["secret_length"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn hit(path: &str, rule: &str, len: u64) -> (String, String, u64) {
    (path.to_string(), rule.to_string(), len)
}

#[test]
fn a_hand_written_git_credential_line_keeps_at_signs_in_user_and_password() {
    // The host follows the last `@`: the password is `hun#@ter2` (9 characters).
    let line = "https://ada@acme.example:hun#@ter2@git.acme.internal\n";
    let found = scan_files(&[
        ("home/.git-credentials", line),
        // No password: an e-mail address as the user name, a port.
        (
            "home/.config/git/credentials",
            "https://ada@acme.example@git.acme.internal\nhttps://ada@git.acme.internal:8443/x\n",
        ),
    ]);
    assert_eq!(
        found,
        [hit("home/.git-credentials", "git.credential-store", 9)]
    );
}

#[test]
fn robo3t_connection_files_report_database_and_ssh_passwords() {
    let conn = "{\n \"connections\" : [\n  {\n   \"credentials\" : [\n    {\n     \"userName\" : \"report\",\n     \"userPassword\" : \"hunter2\"\n    }\n   ],\n   \"sshUserPassword\" : \"tr0ub4d\",\n   \"sshPassphrase\" : \"\",\n   \"savePassword\" : true\n  }\n ]\n}\n";
    let found = scan_files(&[
        (".3T/robo-3t/1.4.4/robo3t.json", conn),
        ("config/mongo.json", conn),
    ]);
    assert_eq!(
        found,
        [
            hit(
                ".3T/robo-3t/1.4.4/robo3t.json",
                "robo3t.connection-password",
                7
            ),
            hit(
                ".3T/robo-3t/1.4.4/robo3t.json",
                "robo3t.connection-password",
                7
            ),
        ]
    );
}

#[test]
fn editor_sftp_files_report_passwords_but_not_a_commented_template() {
    let ftpconfig = "{\n    \"protocol\": \"sftp\",\n    \"user\": \"www\",\n    \"pass\": \"hunter2\",\n    \"promptForPass\": false,\n    \"passphrase\": \"tr0ub4d\"\n}\n";
    let vscode = "{\n    \"host\": \"deploy.acme.internal\",\n    \"username\": \"www\",\n    \"password\": \"hunter2\"\n}\n";
    // Sublime SFTP's template, as it is written.
    let sublime = "{\n    \"type\": \"sftp\",\n    \"user\": \"username\",\n    //\"password\": \"hunter2\",\n    \"remote_path\": \"/var/www/\"\n}\n";
    let found = scan_files(&[
        ("site/.ftpconfig", ftpconfig),
        ("site/.vscode/sftp.json", vscode),
        ("site/sftp-config.json", sublime),
        ("site/.vscode/settings.json", vscode),
    ]);
    assert_eq!(
        found,
        [
            hit("site/.ftpconfig", "editor-sftp.password", 7),
            hit("site/.ftpconfig", "editor-sftp.password", 7),
            hit("site/.vscode/sftp.json", "editor-sftp.password", 7),
        ]
    );
}

#[test]
fn voice_chat_server_configs_report_their_passwords() {
    let ventrilo = "[Server]\nName=Guild\nAdminPassword=hunter2\nPassword=tr0ub4d\nSendBuffer=0\n";
    let murmur = "; icesecretwrite=\nicesecretwrite=\nport=64738\nserverpassword=hunter2\n";
    let found = scan_files(&[
        ("srv/ventrilo_srv.ini", ventrilo),
        ("srv/murmur.ini", murmur),
        ("srv/server.ini", ventrilo),
        ("srv/game.ini", murmur),
    ]);
    assert_eq!(
        found,
        [
            hit("srv/murmur.ini", "mumble.server-password", 7),
            hit("srv/ventrilo_srv.ini", "ventrilo.server-password", 7),
            hit("srv/ventrilo_srv.ini", "ventrilo.server-password", 7),
        ]
    );
}

#[test]
fn php_application_configs_report_database_passwords_whatever_their_strength() {
    let wp = "<?php\ndefine( 'DB_USER', 'blog' );\ndefine( 'DB_PASSWORD', 'hunter2' );\n";
    let phpbb = "<?php\n$dbuser = 'forum';\n$dbpasswd = 'hunter2';\n";
    let joomla =
        "<?php\nclass JConfig {\n\tpublic $user = 'site';\n\tpublic $password = 'hunter2';\n}\n";
    let mediawiki = "<?php\n$wgDBuser = \"wiki\";\n$wgDBpassword = \"hunter2\";\n";
    let drupal = "<?php\n$databases['default']['default'] = array (\n  'username' => 'site',\n  'password' => 'hunter2',\n);\n";
    let found = scan_files(&[
        ("blog/wp-config.php", wp),
        ("forum/config.php", phpbb),
        ("cms/configuration.php", joomla),
        ("wiki/LocalSettings.php", mediawiki),
        ("web/sites/default/settings.php", drupal),
        // The same lines in other files, and the distributed templates.
        ("blog/wp-config-sample.php", wp),
        (
            "blog2/wp-config.php",
            "define( 'DB_PASSWORD', 'password_here' );\ndefine( 'DB_PASSWORD', getenv('DB_PASSWORD') );\n",
        ),
        ("forum/includes/db.php", phpbb),
        ("web/sites/default/default.settings.php", " *   'password' => 'hunter2',\n"),
        ("web/lib/settings.php", drupal),
    ]);
    assert_eq!(
        found,
        [
            hit("blog/wp-config.php", "wordpress.db-password", 7),
            hit("cms/configuration.php", "joomla.configuration-password", 7),
            hit("forum/config.php", "phpbb.db-password", 7),
            hit(
                "web/sites/default/settings.php",
                "drupal.settings-db-password",
                7
            ),
            hit(
                "wiki/LocalSettings.php",
                "mediawiki.localsettings-secret",
                7
            ),
        ]
    );
}

#[test]
fn shell_startup_and_history_files_report_exported_passwords() {
    let profile = "export PATH=$PATH:/usr/local/bin\nexport MLAB_PASS='hunter2'\nexport SSH_ASKPASS=/usr/bin/ssh-askpass\nexport DB_PASSWORD=\"$(pass show db)\"\nexport REQUIRE_PASSWORD=1\n";
    let history =
        ": 1700000000:0;export PGPASSWORD=tr0ub4d\n: 1700000001:0;psql -h db.acme.internal\n";
    let found = scan_files(&[
        ("home/.bash_profile", profile),
        ("home/.zsh_history", history),
        ("scripts/deploy.sh", profile),
        ("scripts/notes.txt", history),
    ]);
    assert_eq!(
        found,
        [
            hit("home/.bash_profile", "shell.profile-password", 7),
            hit("home/.zsh_history", "shell.profile-password", 7),
        ]
    );
}

#[test]
fn mail_client_configs_report_their_passwords() {
    let msmtp = "account work\nhost smtp.acme.internal\nuser ada\npassword hunter2\n";
    let msmtp_eval = "account work\npasswordeval \"pass show mail\"\n";
    let mutt = "set imap_user = \"ada@acme.example\"\nset imap_pass = \"hunter2\"\nset smtp_pass = `pass show mail`\n";
    let fetchmail = "poll imap.acme.internal protocol IMAP user \"ada\" password \"hunter2\" ssl\n";
    let found = scan_files(&[
        ("home/.msmtprc", msmtp),
        ("home/.config/msmtp/config", msmtp_eval),
        ("home/.muttrc", mutt),
        ("home/.fetchmailrc", fetchmail),
        ("docs/msmtprc.example", msmtp),
        ("docs/mail.txt", fetchmail),
    ]);
    assert_eq!(
        found,
        [
            hit("home/.fetchmailrc", "fetchmail.password", 7),
            hit("home/.msmtprc", "msmtp.password", 7),
            hit("home/.muttrc", "mutt.password", 7),
        ]
    );
}

#[test]
fn legacy_dbeaver_data_sources_report_connection_passwords() {
    let xml = "<data-sources>\n\t<data-source id=\"pg-1\" provider=\"postgresql\" save-password=\"true\">\n\t\t<connection host=\"db.acme.internal\" port=\"5432\" user=\"report\" password=\"hunter2\"/>\n\t</data-source>\n</data-sources>\n";
    let found = scan_files(&[
        ("General/.dbeaver-data-sources.xml", xml),
        ("config/data-sources.xml", xml),
    ]);
    assert_eq!(
        found,
        [hit(
            "General/.dbeaver-data-sources.xml",
            "dbeaver.legacy-data-source-password",
            7
        )]
    );
}
