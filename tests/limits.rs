//! Knobs at their extremes: the largest `--max-file-size`, thousands of threads, and files
//! that are binary after all.

mod cmd;

use cmd::{keyhound, tree};

// A random, format-exact fake (an OpenAI legacy key, as in tests/cli.rs).
const KEY: &str = "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";

#[test]
fn the_largest_max_file_size_still_reads_files() {
    let dir = tree(&[("a.env", &format!("OPENAI_API_KEY={KEY}\n"))]);
    for size in ["18446744073709551615", "18446744073709551614"] {
        keyhound()
            .current_dir(dir.path())
            .args(["scan", "--no-history", "-q", "--max-file-size", size, "."])
            .assert()
            .code(1);
    }
}

#[test]
fn thousands_of_threads_are_capped() {
    let dir = tree(&[("a.env", &format!("OPENAI_API_KEY={KEY}\n"))]);
    keyhound()
        .current_dir(dir.path())
        .args(["scan", "-j", "200000", "."])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("warning: -j 200000: using "))
        .stderr(predicates::str::contains("threads (4 per CPU at most)"));
}

#[test]
fn a_nul_in_the_first_8_kib_makes_a_file_binary() {
    let head = format!("{}\0", "x".repeat(8190));
    let late = format!("{}\0", "x".repeat(8192));
    let dir = tree(&[
        ("bin.dat", &format!("{head}\nOPENAI_API_KEY={KEY}\n")),
        ("text.dat", &format!("{late}\nOPENAI_API_KEY={KEY}\n")),
    ]);
    let out = keyhound()
        .current_dir(dir.path())
        .args(["scan", "--no-history", "-f", "json", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["text.dat"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("1 binary skipped"), "{stderr}");
}
