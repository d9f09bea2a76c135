//! The CI integrations: the GitHub Action (`action.yml` and the scripts it runs in
//! `ci/github/`) and the GitLab CI template (`ci/keyhound.gitlab-ci.yml`).
//!
//! The action's scripts run here for real: `install.sh` installs the locally built wheel with
//! pip kept off the network (see tests/wheelhouse), and `scan.sh` scans a pull request in a
//! shallow clone, deepening it as it must. Its metadata is checked against SchemaStore's
//! schema for action files; its example workflow is linted by actionlint (`scripts/lint-ci`).

mod gitrepo;
mod wheelhouse;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};

use gitrepo::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_file(rel: &str) -> serde_yaml::Value {
    serde_yaml::from_str(&fs::read_to_string(root().join(rel)).unwrap())
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// PATH with the directory of the built `keyhound` first.
fn path_with_keyhound() -> std::ffi::OsString {
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let mut paths = vec![bin.parent().unwrap().to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

// ---- action.yml ----

#[test]
fn action_metadata_matches_the_schema_for_action_files() {
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(root().join("tests/data/github/github-action.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let action = serde_json::to_value(yaml_file("action.yml")).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&action)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The validator is live: a composite step without a shell is rejected.
    let mut bad = action.clone();
    bad["runs"]["steps"][0]
        .as_object_mut()
        .unwrap()
        .remove("shell");
    assert!(!validator.is_valid(&bad));
}

#[test]
fn action_declares_the_inputs_it_uses_and_runs_scripts_that_exist() {
    let action = yaml_file("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let declared: Vec<String> = action["inputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    for input in ["args", "validate", "sarif", "version", "baseline"] {
        assert!(declared.iter().any(|d| d == input), "no input {input}");
    }
    let source = fs::read_to_string(root().join("action.yml")).unwrap();
    let used: Vec<&str> = source
        .split("inputs.")
        .skip(1)
        .map(|s| s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')))
        .filter_map(|mut s| s.next())
        .collect();
    for u in &used {
        assert!(
            declared.iter().any(|d| d == u),
            "inputs.{u} is not declared"
        );
    }
    for d in &declared {
        assert!(used.contains(&d.as_str()), "input {d} is never used");
    }
    // Inputs reach the scripts through the environment, never spliced into a script.
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    for step in steps {
        if let Some(run) = step["run"].as_str() {
            assert!(!run.contains("${{"), "expression in a run script: {run}");
            let script = run
                .split('"')
                .find(|p| p.starts_with("$GITHUB_ACTION_PATH/"))
                .unwrap_or_else(|| panic!("not a script of the action: {run}"));
            let rel = script.trim_start_matches("$GITHUB_ACTION_PATH/");
            assert!(root().join(rel).is_file(), "{rel} does not exist");
        }
    }
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("a step uploads the SARIF report");
    assert_eq!(
        upload["with"]["sarif_file"],
        "${{ steps.scan.outputs.sarif }}"
    );
}

/// A pull request on GitHub, as the action sees it after `actions/checkout` with its default
/// depth of 1: `work` holds only the merge commit of `feature` into `main`.
struct PullRequest {
    r: Repo,
    base: String,
    work: PathBuf,
}

impl PullRequest {
    /// `main` has a key committed before the branch point (not the pull request's doing);
    /// `feature` adds three commits, the second of which (unless `clean`) adds a key.
    fn new(clean: bool) -> PullRequest {
        let r = Repo::new();
        r.write("README.md", "hello\n");
        r.write("old.py", format!("KEY = '{LEGACY}'\n"));
        r.add(&["."]);
        r.commit("start");
        for i in 0..3 {
            r.write("notes.txt", format!("{i}\n"));
            r.add(&["notes.txt"]);
            r.commit("notes");
        }
        r.git(&["checkout", "-q", "-b", "feature"]);
        r.write("app.py", "import os\n");
        r.add(&["app.py"]);
        r.commit("app");
        let settings = if clean {
            "KEY = os.environ['OPENAI_KEY']\n".to_string()
        } else {
            format!("KEY = '{PROJECT}'\n")
        };
        r.write("settings.py", settings);
        r.add(&["settings.py"]);
        r.commit("settings");
        r.write("app.py", "import os\nimport sys\n");
        r.add(&["app.py"]);
        r.commit("more app");
        r.git(&["checkout", "-q", "main"]);
        r.write("notes.txt", "main moved on\n");
        r.add(&["notes.txt"]);
        let base = r.commit("main moves on");
        r.git(&["checkout", "-q", "-b", "pull-merge"]);
        r.git(&["merge", "-q", "--no-ff", "--no-edit", "feature"]);
        // GitHub serves commits by id to fetches, as the action's deepening needs.
        r.git(&["config", "uploadpack.allowAnySHA1InWant", "true"]);

        let work = r.root.path().join("work");
        let url = format!("file://{}", r.path().display());
        r.run_in(
            r.root.path(),
            &[
                "clone",
                "-q",
                "--depth",
                "1",
                "--branch",
                "pull-merge",
                &url,
                "work",
            ],
        );
        assert_eq!(
            r.run_in(&work, &["rev-parse", "--is-shallow-repository"])
                .trim(),
            "true"
        );
        PullRequest { r, base, work }
    }

    /// Runs the action's scan script in the clone with `env`.
    fn scan(&self, env: &[(&str, &str)]) -> (Output, String) {
        let outputs = self.r.root.path().join("github-output");
        let _ = fs::remove_file(&outputs);
        let mut c = StdCommand::new("bash");
        isolate(&mut c, &self.r.home());
        c.arg(root().join("ci/github/scan.sh"))
            .current_dir(&self.work)
            .env("PATH", path_with_keyhound())
            .env("GITHUB_OUTPUT", &outputs)
            .env("KEYHOUND_BASE", &self.base)
            .env("KEYHOUND_COMMITS", "3");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let outputs = fs::read_to_string(&outputs).unwrap_or_default();
        (out, outputs)
    }
}

#[test]
fn action_scan_deepens_a_shallow_checkout_and_reports_the_pull_requests_key() {
    let pr = PullRequest::new(false);
    let (out, outputs) = pr.scan(&[("KEYHOUND_SARIF", "keyhound.sarif")]);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("fetching"), "{log}");
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");
    assert!(outputs.contains("sarif=keyhound.sarif\n"), "{outputs}");

    let sarif: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(pr.work.join("keyhound.sarif")).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    // The pull request's key, not the one main had before it.
    assert_eq!(uris, ["settings.py"], "{log}");
    assert_eq!(results[0]["ruleId"], "openai.project-key");
    // The log lists the finding, redacted, with workflow commands stopped around it.
    let listing = log
        .lines()
        .find(|l| l.starts_with("settings.py:1"))
        .unwrap();
    assert!(listing.contains("openai.project-key"), "{listing}");
    assert!(!log.contains(PROJECT), "the secret was printed:\n{log}");
    let stop = log
        .lines()
        .find_map(|l| l.strip_prefix("::stop-commands::"))
        .expect("workflow commands are stopped");
    assert!(stop.len() >= 32, "{stop}");
    assert!(log.contains(&format!("::{stop}::")), "{log}");
}

#[test]
fn action_scan_passes_a_clean_pull_request_and_honours_a_baseline() {
    let pr = PullRequest::new(true);
    let (out, outputs) = pr.scan(&[("KEYHOUND_SARIF", "")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(outputs, "exit-code=0\n");

    let pr = PullRequest::new(false);
    // Accept the pull request's key in a baseline; the default name is used when the
    // configuration names none.
    let create =
        pr.r.keyhound_in(&pr.work)
            .args(["baseline", "create", "-o", ".keyhound-baseline.yaml", "."])
            .output()
            .unwrap();
    assert_eq!(create.status.code(), Some(0), "{}", text(&create));
    let (out, _) = pr.scan(&[
        ("KEYHOUND_SARIF", ""),
        ("KEYHOUND_BASELINE", ".keyhound-baseline.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Without it the same scan fails, in text on the log.
    let (out, _) = pr.scan(&[("KEYHOUND_SARIF", ""), ("KEYHOUND_BASELINE", "")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("settings.py:1:"), "{}", text(&out));
}

#[test]
fn action_scan_passes_extra_arguments_and_scans_everything_without_a_base() {
    let pr = PullRequest::new(false);
    // No base (a push that created the branch): the checkout is scanned.
    let (out, _) = pr.scan(&[
        ("KEYHOUND_BASE", "0000000000000000000000000000000000000000"),
        ("KEYHOUND_SARIF", ""),
        ("KEYHOUND_ARGS", "--no-history --min-confidence high"),
    ]);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("--no-history --min-confidence high ."),
        "{log}"
    );
    assert!(log.contains("old.py:1:"), "{log}");
    assert!(log.contains("settings.py:1:"), "{log}");
}

#[test]
fn action_scan_falls_back_to_the_checkout_when_the_base_is_gone() {
    // A force push: the commit the push started from is on no branch any more.
    let pr = PullRequest::new(true);
    let (out, _) = pr.scan(&[
        ("KEYHOUND_BASE", "5e1f0c3b9a7d2e4f6a8b0c1d3e5f7a9b2c4d6e8f"),
        ("KEYHOUND_SARIF", ""),
        ("KEYHOUND_ARGS", "--no-history"),
    ]);
    let log = text(&out);
    assert!(
        log.contains("::warning title=keyhound::cannot fetch the history"),
        "{log}"
    );
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("old.py:1:"), "{log}");
}

#[test]
fn action_install_puts_the_wheel_of_the_actions_version_on_path() {
    let tmp = tempfile::tempdir().unwrap();
    let install = |version: &str| {
        let github_path = tmp.path().join("github-path");
        let mut c = StdCommand::new("bash");
        c.arg(root().join("ci/github/install.sh"))
            .current_dir(tmp.path())
            .env("GITHUB_ACTION_PATH", root())
            .env("RUNNER_TEMP", tmp.path())
            .env("GITHUB_PATH", &github_path)
            .env("KEYHOUND_VERSION", version);
        for (k, v) in wheelhouse::pip_offline() {
            c.env(k, v);
        }
        (
            c.output().unwrap(),
            fs::read_to_string(github_path).unwrap_or_default(),
        )
    };
    // A version that is not published fails: the version is pinned.
    let (out, _) = install("0.0.0");
    assert!(!out.status.success(), "{}", text(&out));
    // By default, the action's own version.
    let (out, github_path) = install("");
    assert!(out.status.success(), "{}", text(&out));
    let bin = PathBuf::from(github_path.trim());
    assert_eq!(bin, tmp.path().join("keyhound-bin"));
    // Only keyhound is put on PATH, not the virtualenv's Python.
    let names: Vec<_> = fs::read_dir(&bin)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["keyhound"]);
    let version = StdCommand::new(bin.join("keyhound"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("keyhound {}", env!("CARGO_PKG_VERSION"))
    );
}

// ---- the GitLab CI template ----

const GITLAB_TEMPLATE: &str = "ci/keyhound.gitlab-ci.yml";

#[test]
fn gitlab_template_publishes_a_secret_detection_report() {
    let doc = yaml_file(GITLAB_TEMPLATE);
    let job = &doc["keyhound"];
    assert!(job.is_mapping(), "no `keyhound` job");
    assert!(job["image"].as_str().is_some_and(|i| !i.is_empty()));
    assert!(job["stage"].as_str().is_some());
    assert_eq!(
        job["artifacts"]["reports"]["secret_detection"],
        "gl-secret-detection-report.json"
    );
    assert_eq!(job["artifacts"]["when"], "always");
    assert_eq!(job["variables"]["GIT_DEPTH"], "0");
    // It installs the keyhound-cli wheel of this version.
    assert_eq!(
        job["variables"]["KEYHOUND_VERSION"],
        env!("CARGO_PKG_VERSION")
    );
    let before: Vec<&str> = job["before_script"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        before
            .iter()
            .any(|s| s.contains("pip install")
                && s.contains("\"keyhound-cli==${KEYHOUND_VERSION}\"")),
        "{before:?}"
    );
    // Merge requests and branches, not both for one push.
    let rules = serde_yaml::to_string(&job["rules"]).unwrap();
    assert!(rules.contains("merge_request_event"), "{rules}");
}

/// Runs the template's script with `env`, a stand-in `keyhound` recording its arguments.
fn gitlab_script_args(env: &[(&str, &str)]) -> Vec<String> {
    let doc = yaml_file(GITLAB_TEMPLATE);
    let script: Vec<&str> = doc["keyhound"]["script"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let record = tmp.path().join("args");
    let fake = tmp.path().join("keyhound");
    fs::write(
        &fake,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    let status = StdCommand::new("chmod")
        .arg("+x")
        .arg(&fake)
        .status()
        .unwrap();
    assert!(status.success());
    let path = format!(
        "{}:{}",
        tmp.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = StdCommand::new("sh");
    c.args(["-euc", &script.join("\n")])
        .current_dir(tmp.path())
        .env("PATH", path)
        .env("KEYHOUND_ARGS", "--min-confidence high")
        .env_remove("CI_MERGE_REQUEST_DIFF_BASE_SHA")
        .env_remove("CI_COMMIT_BEFORE_SHA");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    fs::read_to_string(record)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn gitlab_template_scans_what_a_merge_request_or_push_adds() {
    let report = [
        "scan",
        "--format",
        "gitlab",
        "-o",
        "gl-secret-detection-report.json",
    ];
    let with = |rest: &[&str]| -> Vec<String> {
        report
            .iter()
            .chain(["--min-confidence", "high"].iter())
            .chain(rest)
            .map(|s| s.to_string())
            .collect()
    };
    let base = "3f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39";
    let before = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b";
    assert_eq!(
        gitlab_script_args(&[
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base),
            ("CI_COMMIT_BEFORE_SHA", before),
        ]),
        with(&["--since-commit", base])
    );
    assert_eq!(
        gitlab_script_args(&[("CI_COMMIT_BEFORE_SHA", before)]),
        with(&["--since-commit", before])
    );
    // A new branch (no commit before) or a scheduled pipeline: the whole repository.
    assert_eq!(
        gitlab_script_args(&[(
            "CI_COMMIT_BEFORE_SHA",
            "0000000000000000000000000000000000000000"
        )]),
        with(&["."])
    );
    assert_eq!(gitlab_script_args(&[]), with(&["."]));
}

#[test]
fn gitlab_schema_copy_validates_secret_detection_reports() {
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(
            root().join("tests/data/gitlab/secret-detection-report-format-15.2.1.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(schema["self"]["version"], "15.2.1");
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let report = serde_json::json!({
        "version": "15.2.1",
        "scan": {
            "type": "secret_detection",
            "status": "success",
            "start_time": "2026-01-02T03:04:05",
            "end_time": "2026-01-02T03:04:06",
            "analyzer": {"id": "keyhound", "name": "keyhound", "version": "0.1.0",
                         "vendor": {"name": "keyhound"}},
            "scanner": {"id": "keyhound", "name": "keyhound", "version": "0.1.0",
                        "vendor": {"name": "keyhound"}}
        },
        "vulnerabilities": [{
            "id": "7083766ceaf65528c43fef9b60cc8f51",
            "name": "OpenAI project API key",
            "severity": "High",
            "identifiers": [{"type": "keyhound_rule_id", "name": "openai.project-key",
                             "value": "openai.project-key"}],
            "location": {"file": "settings.py", "start_line": 1,
                         "commit": {"sha": "0000000"}}
        }]
    });
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // What the schema demands is enforced.
    for (pointer, value) in [
        ("/scan/type", serde_json::json!("sast")),
        ("/scan/end_time", serde_json::json!("2026-01-02 03:04:06")),
        ("/vulnerabilities/0/severity", serde_json::json!("Severe")),
        ("/vulnerabilities/0/identifiers", serde_json::json!([])),
    ] {
        let mut bad = report.clone();
        *bad.pointer_mut(pointer).unwrap() = value;
        assert!(!validator.is_valid(&bad), "{pointer} accepted");
    }
    let mut bad = report.clone();
    bad["vulnerabilities"][0]["location"]
        .as_object_mut()
        .unwrap()
        .remove("commit");
    assert!(!validator.is_valid(&bad));
}
