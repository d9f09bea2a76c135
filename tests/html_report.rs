//! `--format html` end to end: a real repository with a key still in HEAD and a key only in
//! history, under a hostile file name and commit message.

mod gitrepo;

use gitrepo::{Repo, LEGACY, PROJECT};

const NAME: &str = "<img src=x onerror=alert(1)> \"q\" 'a'.py";
const MESSAGE: &str = "Add client </script><img src=x onerror=alert(1)>";

/// The JSON of the page's data block.
fn data(page: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"keyhound-data\">";
    let start = page.find(open).expect("data block") + open.len();
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).unwrap()
}

fn repo() -> (Repo, String) {
    let r = Repo::new();
    r.write(&format!("app/{NAME}"), format!("KEY = \"{LEGACY}\"\n"));
    r.add(&["."]);
    let first = r.commit(MESSAGE);
    r.git(&["rm", "-q", &format!("app/{NAME}")]);
    r.write("cfg.env", format!("OPENAI_API_KEY={PROJECT}\n"));
    r.add(&["."]);
    r.commit("Move the key");
    (r, first)
}

#[test]
fn html_report_of_a_repository() {
    let (r, first) = repo();
    let out = r
        .keyhound()
        .args(["scan", ".", "-f", "html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        page.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';")
    );
    assert!(
        !page.contains(LEGACY) && !page.contains(PROJECT),
        "secrets are redacted"
    );
    assert!(!page.contains("<img") && page.matches("</script>").count() == 2);
    assert!(page.contains("<strong>2</strong> findings"));

    let d = data(&page);
    let findings = d["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    let old = findings
        .iter()
        .find(|f| f["head"] == "no")
        .expect("history-only finding");
    assert_eq!(old["path"], format!("app/{NAME}"));
    assert_eq!(old["origin"], "history");
    assert_eq!(old["at"], first[..8]);
    let commit = &d["commits"][old["commit"].as_u64().unwrap() as usize];
    assert_eq!(commit["id"], first);
    assert_eq!(commit["summary"], MESSAGE);
    assert_eq!(commit["author"], "Ada Tester");
    let now = findings
        .iter()
        .find(|f| f["head"] == "yes")
        .expect("finding in HEAD");
    assert_eq!(now["path"], "cfg.env");
    assert!(now["at"].is_null());
    // Both secrets were introduced on the test clock's one day.
    assert!(page.contains("<title>2024-05-01: 2 introduced, 1 still in HEAD</title>"));
}

#[test]
fn html_report_to_a_file_with_secrets_shown() {
    let (r, _) = repo();
    let target = r.root.path().join("report.html");
    r.keyhound()
        .args(["scan", ".", "--show-secrets", "-f", "html", "-o"])
        .arg(&target)
        .assert()
        .code(1)
        .stdout("");
    let page = std::fs::read_to_string(&target).unwrap();
    assert!(page.contains("shows secrets in full"));
    let d = data(&page);
    assert_eq!(d["redacted"], false);
    let secrets: Vec<&str> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert!(
        secrets.contains(&LEGACY) && secrets.contains(&PROJECT),
        "{secrets:?}"
    );
}
