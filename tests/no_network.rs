//! Without `--validate` a scan never builds an HTTP client. Its own test binary, so the
//! process-wide client counter sees only these runs.

use clap::Parser;
use keyhound::cli::Cli;
use keyhound::commands::{self, Exit};
use keyhound::validate::clients_built;

#[test]
fn the_http_client_is_built_only_with_validate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("leak.txt"),
        "OPENAI_API_KEY=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\n",
    )
    .unwrap();
    let report = dir.path().join("report.json");
    // A loopback port with nothing listening: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let connect_to = format!("::127.0.0.1:{port}");
    let run = |extra: &[&str]| {
        let mut args = vec!["keyhound", "scan", "-q", "-f", "json", "-o"];
        args.push(report.to_str().unwrap());
        args.push(
            dir.path()
                .join("leak.txt")
                .to_str()
                .unwrap()
                .to_owned()
                .leak(),
        );
        args.extend_from_slice(extra);
        commands::run(Cli::parse_from(args)).unwrap()
    };
    // Even with every network option but --validate: no client.
    assert_eq!(
        run(&[
            "--connect-to",
            &connect_to,
            "--allow-validation-host",
            "x.example"
        ]),
        Exit::Findings
    );
    assert_eq!(clients_built(), 0);
    // With --validate the one client of the run is built (the connection is refused at once
    // and the key's state is unknown).
    assert_eq!(
        run(&["--validate", "--connect-to", &connect_to]),
        Exit::Findings
    );
    assert_eq!(clients_built(), 1);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        v["findings"][0]["validation"]["reason"],
        "connection-failed"
    );
}
