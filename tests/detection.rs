//! Detection of credential classes that other scanners' test suites showed missing: each test
//! scans a tree holding the format in the places it is really written, and the look-alikes that
//! must stay silent. Every value is random; none is a real credential.

mod gitrepo;

use std::path::Path;

use gitrepo::{found, json};

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Scans a tree made of `files` and returns `(path, rule_id)` of every finding.
fn scan(files: &[(&str, String)]) -> Vec<(String, String)> {
    let tmp = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(tmp.path(), rel, text);
    }
    let mut cmd = assert_cmd::Command::cargo_bin("keyhound").unwrap();
    cmd.current_dir(tmp.path())
        .args(["scan", ".", "--no-history", "--no-config"]);
    let (code, v, stderr) = json(&mut cmd);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    found(&v).into_iter().map(|(p, _, r)| (p, r)).collect()
}

/// Asserts that `path` gave a finding of `rule`, and `silent` paths none at all.
fn expect(got: &[(String, String)], hits: &[(&str, &str)], silent: &[&str]) {
    for (path, rule) in hits {
        assert!(
            got.iter().any(|(p, r)| p == path && r == rule),
            "{path}: no {rule} finding in {got:?}"
        );
    }
    for path in silent {
        assert!(
            !got.iter().any(|(p, _)| p == path),
            "{path} must give nothing: {got:?}"
        );
    }
}

#[test]
fn a_long_base64_json_web_token_is_decoded_whole() {
    // An RS256 token with a 48-character key id: over 900 characters once encoded.
    let got = scan(&[
        ("ci/token.env", "JWT_B64=ZXlKaGJHY2lPaUpTVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0lzSW10cFpDSTZJamwxY3preVlUbE1hbnBIU1V0S05rRnBaMjlMTWtsMlJITnFlbWxIV25ORmRWRnZXRFp4WjA4MVZrOXZTV3d6VnlKOS5leUpwYzNNaU9pSm9kSFJ3Y3pvdkwyeHZaMmx1TGpCMVptMTBZbW91YVc4aUxDSnpkV0lpT2lKemRtTXRObTlxY25Gc05IWWlMQ0psZUhBaU9qUXhNREkwTkRRNE1EQjkuX0k2ampPOFJsVnM4b1lMLVFGSnlYd2xzc0wtd3JDbVFPUWxFVXpVcHd3bnQxQUIwWDNKWk5ZU3lEdHpKUkJoTFZ6aTF0MTZ1cDNiU2J3dDYxM3c1aWNRVGpQQ0tlZXZFWDNVd3F6R0xIeVRCNWdsMV8yVXp5Qndpd1U1TEtIQlhrNWdxM01PNGhZdmZCSENmM1oyTU94WGZ4WWJkXzZ2eUpsRnNWRmU0QVNrWXdsTkFOTnFuREc2SC1sdFBZNVN5clZhdFNKcFczWW5tOFA5UDhiMlhFejNkS21RYnpjQmFrNmhXWHJzQkNaUHZwMFlYcTJBUllzUkVCNWQyTnlkSzlGMjV3dnM5aTN5UkxITDZNSjlIQy1sbU82dE4yLUdpU2ZqX2JEODdicEo0bk1LMVQyNFdOc29oWmRJc2hhRk1xWHd6ZDlxM0Q1cm0tZ0lQYVZGSmRn\n".to_string()),
        ("docs/jwt.txt", "ZXlKIGlzIGhvdyBldmVyeSBKU09OIFdlYiBUb2tlbiBzdGFydHM7IHRoaXMgbGluZSBpcyBwcm9zZSBhYm91dCBpdCBhbmQgbm90aGluZyBtb3JlLCBsb25nIGVub3VnaCB0byBiZSBkZWNvZGVkLg==\n".to_string()),
    ]);
    expect(&got, &[("ci/token.env", "jwt.token")], &["docs/jwt.txt"]);
}

/// A token without credential claims: where it sits decides.
const PLAIN_JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1LWNjZjFhNmFmIiwiZXhwIjo0MTAyNDQ0ODAwfQ.b_SxA747Fd4e8fWOlayCf_rNhDGODmqZ7Z5apNNKU1o";

#[test]
fn json_web_tokens_in_cookies_and_secret_named_options() {
    let got = scan(&[
        (
            "http/cookie.txt",
            format!("Cookie: lang=en; id={PLAIN_JWT}\n"),
        ),
        (
            "http/scheme.py",
            format!("headers = {{\"Authorization\": \"JWT {PLAIN_JWT}\"}}\n"),
        ),
        (
            "bin/export.sh",
            format!("python export.py --token {PLAIN_JWT} --out r.csv\n"),
        ),
        ("bin/decode.sh", format!("python decode.py {PLAIN_JWT}\n")),
        (
            "bin/input.sh",
            format!("python decode.py --input {PLAIN_JWT}\n"),
        ),
    ]);
    expect(
        &got,
        &[
            ("http/cookie.txt", "jwt.token"),
            ("http/scheme.py", "jwt.token"),
            ("bin/export.sh", "jwt.token"),
        ],
        &["bin/decode.sh", "bin/input.sh"],
    );
}

#[test]
fn sidekiq_license_credentials() {
    let got = scan(&[
        (".env", "BUNDLE_ENTERPRISE__CONTRIBSYS__COM=76fb3866:d11a8268\n".to_string()),
        ("Dockerfile", "RUN bundle config gems.contribsys.com efa0e7af:cd1ae9c7 && bundle install\n".to_string()),
        ("Gemfile", "source 'https://76fb3866:d11a8268@gems.contribsys.com/' do\n  gem 'sidekiq-pro'\nend\n".to_string()),
        ("Dockerfile.ci", "ARG SIDEKIQ_CREDS\nRUN bundle config gems.contribsys.com $SIDEKIQ_CREDS\n".to_string()),
        ("Gemfile.oss", "source 'https://gems.contribsys.com/' do\n  gem 'sidekiq-pro'\nend\n".to_string()),
    ]);
    expect(
        &got,
        &[
            (".env", "sidekiq.license-credential"),
            ("Dockerfile", "sidekiq.license-credential"),
            ("Gemfile", "sidekiq.source-url"),
        ],
        &["Dockerfile.ci", "Gemfile.oss"],
    );
}

#[test]
fn kubernetes_secret_values_in_either_key_order() {
    let secret = |data_first: bool| {
        let data = "data:\n  webhook-signing: VTRiWDlEVVBpdzFwaGJPQWhLaDZvU04y\n";
        let head = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: billing\n";
        if data_first {
            format!("apiVersion: v1\n{data}kind: Secret\nmetadata:\n  name: billing\n")
        } else {
            format!("{head}type: Opaque\n{data}")
        }
    };
    let got = scan(&[
        ("k8s/after.yaml", secret(false)),
        ("k8s/before.yaml", secret(true)),
        (
            "k8s/configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  webhook-signing: VTRiWDlEVVBpdzFwaGJPQWhLaDZvU04y\n".to_string(),
        ),
        (
            "k8s/short.yaml",
            "apiVersion: v1\nkind: Secret\ndata:\n  ttl: MzYwMAo=\n  username: ZGVwbG95LWJvdC1wcm9kdWN0aW9u\n".to_string(),
        ),
    ]);
    expect(
        &got,
        &[
            ("k8s/after.yaml", "kubernetes.secret-data"),
            ("k8s/before.yaml", "kubernetes.secret-data"),
        ],
        &["k8s/configmap.yaml", "k8s/short.yaml"],
    );
}

#[test]
fn curl_user_options_and_authorization_headers() {
    let got = scan(&[
        (
            "scripts/put.sh",
            "curl -sS -X PUT https://files.acme.io/v1/exports/a.csv \\\n  --data-binary @a.csv \\\n  -u exporter:A5CNnto0KYHKmLbNuU\n".to_string(),
        ),
        ("scripts/key-as-user.sh", "curl https://api.acme.io/v2/shipments -u TS0byAWJxp9WsHCfINXrl4iz:\n".to_string()),
        (
            "scripts/metrics.sh",
            "curl -H \"Authorization: Api-Token 535630469bd40d0d52053afff3b19c7d66eb6954\" https://acme.live.dynatrace.com/api/v2/metrics\n".to_string(),
        ),
        (
            "scripts/deploy.sh",
            "curl -X GET https://octopus.acme.io/api \\\n     -H \"X-Octopus-ApiKey: 9109dba5-6531-4306-a7c3-9bde447f6643\"\n".to_string(),
        ),
        ("scripts/env.sh", "curl -u \"$API_USER:$API_PASSWORD\" https://api.acme.io\n".to_string()),
        ("scripts/docker.sh", "docker run --rm \\\n  -u 1000:1000 builder\n".to_string()),
        ("scripts/trace.sh", "curl -H \"X-Request-Id: 9109dba5-6531-4306-a7c3-9bde447f6643\" https://acme.io\n".to_string()),
    ]);
    expect(
        &got,
        &[
            ("scripts/put.sh", "generic.curl-user"),
            ("scripts/key-as-user.sh", "generic.curl-user-token"),
            ("scripts/metrics.sh", "generic.auth-header"),
            ("scripts/deploy.sh", "generic.auth-header"),
        ],
        &["scripts/env.sh", "scripts/docker.sh", "scripts/trace.sh"],
    );
}

#[test]
fn nuget_config_passwords_count_only_in_nuget_config_files() {
    let creds = "<packageSourceCredentials>\n  <Acme>\n    <add key=\"Username\" value=\"ci\" />\n    <add key=\"ClearTextPassword\" value=\"S5FEZLugkzFCXqEE\" />\n  </Acme>\n</packageSourceCredentials>\n";
    let got = scan(&[
        ("src/NuGet.Config", creds.to_string()),
        ("docs/feeds.xml", creds.to_string()),
        (
            "build/nuget.config",
            "<add key=\"ClearTextPassword\" value=\"%NUGET_FEED_PASSWORD%\" />\n".to_string(),
        ),
    ]);
    // Elsewhere the same line is a generic password at most, never a NuGet.Config one.
    expect(
        &got,
        &[("src/NuGet.Config", "nuget.config-password")],
        &["build/nuget.config"],
    );
    assert!(
        !got.iter()
            .any(|(p, r)| p == "docs/feeds.xml" && r == "nuget.config-password"),
        "{got:?}"
    );
}

#[test]
fn provider_tokens_with_a_format_of_their_own() {
    let got = scan(&[
        ("easypost.env", "EASYPOST_TEST_API_KEY=EZTKlx6PxpweycSNLG0ww2zcNW7CUZzbeocRyOa9HCzkSLvwxoII7hZ8oR\n".to_string()),
        ("fb.yaml", "FACEBOOK_PAGE_TOKEN: \"EAAGL3z6SwxgLcEPqa57QX3wnn709Ze135lACiFebg0js3yqjZZybghjPA9uXrMosxefXP9RbYmWWUs22WXx6AdwaT5CtbyCGlZVTcc96dxZaQcFFJxrnfoRDqpDu01LXQZyJPBiFFT0otoZCRnzjthfEf1tmhQp3vne\"\n".to_string()),
        ("fb.json", "{\"access_token\":\"1953374475764807|7sb-GDeSz1yrC8rhjEVPzdTxkUe\",\"token_type\":\"bearer\"}\n".to_string()),
        ("intra.env", "FT_CLIENT_SECRET=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\n".to_string()),
        ("crdb.tf", "provider \"cockroach\" { apikey = \"CCDB1_OemL9bRCdGeTZQakk6g8aH_zxhFAG9zq6r1oaxeA7z8AQ0PhOzUP0Ts3ksQWVx9\" }\n".to_string()),
        ("photo.py", "headers = {\"x-api-key\": \"sk_pr_prod_2a56173b3e587799df2f96f710ddd1db795a77cb\"}\n".to_string()),
        ("scrape.js", "// ScrapingBee\nconst key = \"N3KKTAUW2ABBBQNFZ1BQ2DEK68USPN9JMYEAS0AF06KUNJBRZW5TG13KTQP2YXHWKCI22I647E2VPA87\";\n".to_string()),
        ("vf.env", "VF_PROJECT_API='VF.DM.38b4387fb51afd8d39d53992.pL1ffwuy12xdW0j2'\n".to_string()),
        ("airtable.env", "AIRTABLE_ACCESS_TOKEN=u9eOnix1ADenYlrgs.v1.eyJ1c2VySWQiOiAidXNyeVZ2OU11dlRHN2VXNTEiLCAib2F1dGhBcHBsaWNhdGlvbklkIjogIm9hcGhwb09wMXJCcElJbkZKIiwgInNlY3JldCI6ICI2M2M0ZWY4MWQ3ZmYyNDc3MjlhZjA0ZThkYmUyMDBiM2U1ODhmYThmNGI5YjdkNTA5YWM0ODhiYTdjY2U4Mjc2In0.81177ae14ef6d72cd4fc8e37b4c02ec32acae93c56eac19d8aab2223afefd9be\n".to_string()),
        ("Storage.cs", "var pairs = new[] { (\"AccountKey\", \"lvWTlmZYhjUr2SgE5vuRWa/MG1FebQGsMoYQz8sIhDVXGbMSvBKiiB0m0zFVwuvFXixjdpK2D4BMZh+3VFbaNg==\") };\n".to_string()),
        ("msal.json", "{\"refresh_token\": \"0.A-nJyNaNjBHTnQij6Ss1NWZGOEsMA1a13HboR5gyzLv7A4QxbAPgFZxe6Ms.AgABySwZfBYquBT-_BzzjT1rbbb2t5O09USZjoNdYwq_OgYN-X4zjkeEP4zSmYX3aLimQmwj1vEi1h1JNAM6t8iS5xA4ejzvgX7yZZUihen0GVxcVrtYTrYS6ejq4krSgRZ50YjSrPW_Kp0mHFCIJWGDMH1ruohxN8l3e3QRcvjpV5ho1fsMt7WLyAjqmlnl5DEa7ciLuAOiXl-yoEsUt0NySN4th5lS7mKsJZMyIV7LvD6tIxVsBM1YBi9FamzqrFxjYnJQYUFZ00Wb3-O1cgZTgso_qMomAO0SyFgBaIx5dQEalmta93hkuBCoYVu6hy2Y\"}\n".to_string()),
        // Look-alikes: the same prefixes with placeholders, inside base64, without context.
        (
            "lookalike.txt",
            "EASYPOST_TEST_API_KEY=EZTK...\nsignature=k4OILkQwpM6xztWohvfz5Q+EZTKlx6PxpweycSNLG0ww2zcNW7CUZzbeocRyOa9HCzkSLvwxoII7hZ8oR/zlKeMnd\nFACEBOOK_PAGE_TOKEN=EAAG...\nVOICEFLOW_KEY='VF.DM.6axxxxxxxxxxxxxxxxxxxxxx'\nconst key = \"N3KKTAUW2ABBBQNFZ1BQ2DEK68USPN9JMYEAS0AF06KUNJBRZW5TG13KTQP2YXHWKCI22I647E2VPA87\";\n".to_string(),
        ),
    ]);
    expect(
        &got,
        &[
            ("easypost.env", "easypost.test-api-key"),
            ("fb.yaml", "facebook.access-token"),
            ("fb.json", "facebook.app-access-token"),
            ("intra.env", "intra42.client-secret"),
            ("crdb.tf", "cockroachlabs.cloud-api-key"),
            ("photo.py", "photoroom.api-key"),
            ("scrape.js", "scrapingbee.api-key"),
            ("vf.env", "voiceflow.api-key"),
            ("airtable.env", "airtable.oauth-token"),
            ("Storage.cs", "azure.storage-account-key"),
            ("msal.json", "azure.entra-refresh-token"),
        ],
        &["lookalike.txt"],
    );
}

#[test]
fn a_generic_value_whose_name_says_it_is_fake_gives_nothing() {
    let got = scan(&[
        ("app/real.py", "api_token = \"TACCjUqoIU21FnuaM4mPzVOW7wwC6AmD\"\n".to_string()),
        ("app/fake.py", "fake_api_token = \"TACCjUqoIU21FnuaM4mPzVOW7wwC6AmD\"\n".to_string()),
        ("app/tests.go", "nonMatchingToken := \"uYks527ZGj49rwnb4RtopE8Cc3z7\"\n".to_string()),
        ("app/.env", "DUMMY_SECRET=HxCMzSrZxRdbH9LLfeEH9pB6v6Jxo05wOqZU0B8W\n".to_string()),
        // Only the name is read: the rest of the line may say anything.
        (
            "docs/curl.sh",
            "curl https://api.example.com -H \"Authorization: Bearer HxCMzSrZxRdbH9LLfeEH9pB6v6Jxo05wOqZU0B8W\"\n".to_string(),
        ),
        // A provider's format vouches for the key whatever its name.
        ("app/mock.py", "mock_token = \"ghp_7a9jqH6kdUXQmI8XAFr9XzS0wwOOGXzJClON\"\n".to_string()),
    ]);
    expect(
        &got,
        &[
            ("app/real.py", "generic.assignment"),
            ("docs/curl.sh", "generic.auth-header"),
            ("app/mock.py", "github.classic-pat"),
        ],
        &["app/fake.py", "app/tests.go", "app/.env"],
    );
}
