//! The recipes for audits across machines (examples/kubernetes, examples/github): their shard
//! arithmetic and wiring are checked here, and the scripts they run are run for real with a
//! stand-in `keyhound` that records its arguments. (scripts/lint-ci lints them: actionlint for
//! the workflow, shellcheck for the containers' scripts.)

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize as _;
use serde_yaml::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    fs::read_to_string(root().join(rel)).unwrap()
}

/// Every document of a YAML file.
fn documents(rel: &str) -> Vec<Value> {
    let text = read(rel);
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{rel}: {e}")))
        .collect()
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v:?}"))
}

/// The one document of `kind` named `name`.
fn resource(docs: &[Value], kind: &str, name: &str) -> Value {
    let found: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "one {kind} {name}");
    found[0].clone()
}

/// A stand-in for keyhound: writes its arguments, one a line, to $FAKE_LOG, writes the `-o`
/// file when $FAKE_WRITE is 1, and exits with $FAKE_STATUS.
fn fake_keyhound(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let exe = dir.join("keyhound");
    fs::write(
        &exe,
        r#"#!/bin/sh
printf '%s\n' "$@" > "$FAKE_LOG"
out=
while [ $# -gt 0 ]; do
  if [ "$1" = -o ]; then out=$2; fi
  shift
done
if [ -n "$out" ] && [ "$FAKE_WRITE" = 1 ]; then echo '{}' > "$out"; fi
exit "$FAKE_STATUS"
"#,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
    }
    exe
}

/// What one run of a recipe's script did: its exit status and the fake keyhound's arguments.
struct Ran {
    out: Output,
    args: Vec<String>,
}

impl Ran {
    /// The value after `flag`.
    fn flag(&self, flag: &str) -> &str {
        let i = self
            .args
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("no {flag} in {:?}", self.args));
        &self.args[i + 1]
    }
}

/// Runs `shell` `script` with only `env` (and PATH), the fake keyhound answering `status`.
fn run_script(
    shell: &[&str],
    script: &str,
    env: &BTreeMap<String, String>,
    log: &Path,
    status: i32,
    write: bool,
) -> Ran {
    let _ = fs::remove_file(log);
    let out = Command::new(shell[0])
        .args(&shell[1..])
        .arg(script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env)
        .env("FAKE_LOG", log)
        .env("FAKE_STATUS", status.to_string())
        .env("FAKE_WRITE", if write { "1" } else { "0" })
        .output()
        .unwrap();
    let args = fs::read_to_string(log)
        .map(|s| s.lines().map(String::from).collect())
        .unwrap_or_default();
    Ran { out, args }
}

// ---- Kubernetes: examples/kubernetes ----

/// A container of a Job's pod as the test runs it: its `sh -c` script, with every volume's
/// mount path moved to `volumes/<volume name>` under `dir`, and its literal env values.
struct Container {
    script: String,
    env: BTreeMap<String, String>,
    /// Volume name → where it is here.
    mounts: BTreeMap<String, PathBuf>,
    spec: Value,
}

fn container(job: &Value, list: &str, name: &str, dir: &Path) -> Container {
    let pod = &job["spec"]["template"]["spec"];
    let spec = pod[list]
        .as_sequence()
        .unwrap_or_else(|| panic!("no {list}"))
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name}"))
        .clone();
    let command: Vec<&str> = spec["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| str_of(v, "command"))
        .collect();
    assert_eq!(command.len(), 3, "{command:?}");
    assert_eq!(command[..2], ["sh", "-c"]);
    let mut script = command[2].to_string();
    let mut mounts = BTreeMap::new();
    let mut by_path: Vec<(String, PathBuf)> = Vec::new();
    for m in spec["volumeMounts"].as_sequence().unwrap() {
        let volume = str_of(&m["name"], "volume");
        let here = dir.join("volumes").join(volume);
        fs::create_dir_all(&here).unwrap();
        mounts.insert(volume.to_string(), here.clone());
        by_path.push((str_of(&m["mountPath"], "mountPath").to_string(), here));
    }
    // Longer mount paths first, so that one inside another is moved as a whole.
    by_path.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    for (path, here) in by_path {
        script = script.replace(&path, here.to_str().unwrap());
    }
    let mut env = BTreeMap::new();
    for e in spec["env"].as_sequence().into_iter().flatten() {
        if let Some(v) = e["value"].as_str() {
            env.insert(str_of(&e["name"], "env name").to_string(), v.to_string());
        }
    }
    Container {
        script,
        env,
        mounts,
        spec,
    }
}

/// The persistent volume claim a pod's volume `volume` is.
fn claim(job: &Value, volume: &str) -> String {
    let pod = &job["spec"]["template"]["spec"];
    let v = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == volume)
        .unwrap_or_else(|| panic!("no volume {volume}"));
    str_of(&v["persistentVolumeClaim"]["claimName"], "claimName").to_string()
}

/// The keyhound version an install container's script pip-installs.
fn installed_version(install: &Container) -> &str {
    let script = &install.script;
    let at = script
        .find("keyhound-cli==")
        .unwrap_or_else(|| panic!("no pinned keyhound-cli in {script}"));
    script[at + "keyhound-cli==".len()..]
        .split(|c: char| c.is_whitespace() || c == '\'' || c == '"')
        .next()
        .unwrap()
}

#[test]
fn kubernetes_indexed_job_gives_each_pod_one_shard_and_the_merge_job_takes_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let docs = documents("examples/kubernetes/keyhound-indexed-job.yaml");
    let job = resource(&docs, "Job", "keyhound-shards");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().expect("completions") as u32;
    assert!(n >= 2, "completions {n}");
    let parallelism = spec["parallelism"].as_u64().expect("parallelism") as u32;
    assert!((1..=n).contains(&parallelism));
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");

    // The reports' volume is the claim declared beside the Job, shared by every pod.
    let data_claim = claim(&job, "data");
    let pvc = resource(&docs, "PersistentVolumeClaim", &data_claim);
    assert!(pvc["spec"]["accessModes"]
        .as_sequence()
        .unwrap()
        .contains(&Value::from("ReadWriteMany")));

    // keyhound is installed at this tree's version, where the scan container finds it.
    let install = container(&job, "initContainers", "install", dir.path());
    assert_eq!(installed_version(&install), env!("CARGO_PKG_VERSION"));
    let scan = container(&job, "containers", "scan", dir.path());
    assert_eq!(install.mounts["keyhound"], scan.mounts["keyhound"]);
    fake_keyhound(&scan.mounts["keyhound"].join("bin"));

    // The token comes from a Secret, through the environment.
    let token = scan.spec["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "GITHUB_TOKEN")
        .expect("GITHUB_TOKEN");
    assert!(token["valueFrom"]["secretKeyRef"]["name"].is_string());
    assert!(!scan.script.contains("GITHUB_TOKEN"));

    // Pod I scans share I+1 of N (keyhound counts shards from 1), each into its own report on
    // the data volume.
    let log = dir.path().join("args");
    let reports = scan.mounts["data"].join("reports");
    let mut names = Vec::new();
    for index in 0..n {
        let mut env = scan.env.clone();
        env.insert("JOB_COMPLETION_INDEX".into(), index.to_string());
        let ran = run_script(&["sh", "-c"], &scan.script, &env, &log, 1, true);
        assert!(
            ran.out.status.success(),
            "pod {index}: {}",
            String::from_utf8_lossy(&ran.out.stderr)
        );
        assert_eq!(ran.args[0], "scan");
        assert_eq!(ran.flag("--shard"), format!("{}/{n}", index + 1));
        assert_eq!(ran.flag("-f"), "json");
        let report = PathBuf::from(ran.flag("-o"));
        assert_eq!(report.parent().unwrap(), reports, "pod {index}");
        assert!(report.is_file());
        names.push(report);
        for flag in ["--clone-dir", "--cache"] {
            assert!(
                Path::new(ran.flag(flag)).starts_with(&scan.mounts["data"]),
                "{flag} on the volume"
            );
        }
        assert_eq!(ran.flag("--github-org"), env["ORG"]);
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n as usize, "one report per shard");

    // A pod whose scan wrote no report, or failed otherwise, fails (and is retried); findings
    // (1) and errors named in the report (2) do not.
    let mut env = scan.env.clone();
    env.insert("JOB_COMPLETION_INDEX".into(), "0".into());
    for (status, write, ok) in [
        (0, true, true),
        (2, true, true),
        (2, false, false),
        (3, true, false),
    ] {
        let ran = run_script(&["sh", "-c"], &scan.script, &env, &log, status, write);
        assert_eq!(
            ran.out.status.success(),
            ok,
            "exit {status}, report {write}"
        );
    }
    // Every report is written again for the merge below.
    for index in 0..n {
        env.insert("JOB_COMPLETION_INDEX".into(), index.to_string());
        assert!(run_script(&["sh", "-c"], &scan.script, &env, &log, 1, true)
            .out
            .status
            .success());
    }

    // The merge Job reads the same claim, expects as many reports as there are shards, and
    // merges them all.
    let merge_docs = documents("examples/kubernetes/keyhound-merge-job.yaml");
    let merge_job = resource(&merge_docs, "Job", "keyhound-merge");
    assert_eq!(claim(&merge_job, "data"), data_claim);
    let merge_dir = tempfile::tempdir().unwrap();
    let install = container(&merge_job, "initContainers", "install", merge_dir.path());
    assert_eq!(installed_version(&install), env!("CARGO_PKG_VERSION"));
    let merge = container(&merge_job, "containers", "merge", merge_dir.path());
    assert_eq!(
        merge.env["SHARDS"],
        n.to_string(),
        "the merge's N is completions"
    );
    fake_keyhound(&merge.mounts["keyhound"].join("bin"));
    // The shards' volume, as the merge sees it.
    fs::remove_dir(&merge.mounts["data"]).unwrap();
    copy_dir(&scan.mounts["data"], &merge.mounts["data"]);
    let merge_log = merge_dir.path().join("args");
    let ran = run_script(
        &["sh", "-c"],
        &merge.script,
        &merge.env,
        &merge_log,
        1,
        true,
    );
    assert_eq!(
        ran.out.status.code(),
        Some(1),
        "the merge's exit code is keyhound's"
    );
    assert_eq!(ran.args[0], "merge");
    let mut merged: Vec<String> = ran.args[1..]
        .iter()
        .take_while(|a| *a != "-o")
        .map(|a| a.replace(merge.mounts["data"].to_str().unwrap(), ""))
        .collect();
    merged.sort();
    let mut expected: Vec<String> = names
        .iter()
        .map(|p| {
            p.to_str()
                .unwrap()
                .replace(scan.mounts["data"].to_str().unwrap(), "")
        })
        .collect();
    expected.sort();
    assert_eq!(merged, expected);
    assert!(Path::new(ran.flag("-o")).starts_with(&merge.mounts["data"]));

    // One report missing: no merge.
    fs::remove_file(
        merge.mounts["data"].join(names[0].strip_prefix(&scan.mounts["data"]).unwrap()),
    )
    .unwrap();
    let ran = run_script(
        &["sh", "-c"],
        &merge.script,
        &merge.env,
        &merge_log,
        0,
        true,
    );
    assert!(!ran.out.status.success());
    assert!(ran.args.is_empty(), "keyhound merge did not run");
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

// ---- GitHub Actions: examples/github/keyhound-shards.yml ----

/// A step of `job` by name, or by the action it uses.
fn step<'a>(job: &'a Value, key: &str, value: &str) -> &'a Value {
    job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s[key].as_str().is_some_and(|v| v.starts_with(value)))
        .unwrap_or_else(|| panic!("no step with {key} {value}"))
}

/// `text` with the matrix's shard set to `k` and other expressions to placeholders.
fn expand(text: &str, k: u32) -> String {
    let mut s = text.replace("${{ matrix.shard }}", &k.to_string());
    while let Some(start) = s.find("${{") {
        let end = s[start..].find("}}").unwrap() + start + 2;
        s.replace_range(start..end, "from-github");
    }
    s
}

#[test]
fn github_matrix_lists_every_shard_of_its_n_and_the_merge_job_downloads_them_all() {
    let docs = documents("examples/github/keyhound-shards.yml");
    let wf = &docs[0];
    let shard_job = &wf["jobs"]["shard"];
    let shards: Vec<u32> = shard_job["strategy"]["matrix"]["shard"]
        .as_sequence()
        .expect("a matrix over shards")
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let n = shards.len() as u32;
    assert!(n >= 2);
    assert_eq!(shards, (1..=n).collect::<Vec<_>>(), "shards 1..=N");
    assert_eq!(shard_job["strategy"]["fail-fast"], false);

    let install = str_of(&step(shard_job, "name", "Install")["run"], "run");
    assert_eq!(
        install,
        format!("pipx install keyhound-cli=={}", env!("CARGO_PKG_VERSION"))
    );
    let scan = step(shard_job, "name", "Scan");
    let upload = step(shard_job, "uses", "actions/upload-artifact@");
    let cache = str_of(
        &step(shard_job, "uses", "actions/cache@")["with"]["path"],
        "cache path",
    );
    assert!(
        str_of(&scan["env"]["GITHUB_TOKEN"], "token").starts_with("${{ secrets."),
        "the token from a secret"
    );

    // Each job of the matrix runs its shard of N, into the file it uploads; the runner's bash
    // runs the step as `bash -e` with pipefail.
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let bin = dir.path().join("bin");
    fake_keyhound(&bin);
    let log = dir.path().join("args");
    let script = str_of(&scan["run"], "run");
    let mut artifacts = Vec::new();
    for &k in &shards {
        let mut env: BTreeMap<String, String> = scan["env"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(key, v)| (str_of(key, "env").to_string(), expand(str_of(v, "env"), k)))
            .collect();
        env.insert("HOME".into(), home.to_str().unwrap().into());
        let work = dir.path().join(format!("job-{k}"));
        fs::create_dir_all(&work).unwrap();
        let script = format!(
            "cd '{}'\nexport PATH='{}':\"$PATH\"\n{script}",
            work.display(),
            bin.display()
        );
        let shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"];
        let ran = run_script(&shell, &script, &env, &log, 1, true);
        assert!(
            ran.out.status.success(),
            "shard {k}: {}",
            String::from_utf8_lossy(&ran.out.stderr)
        );
        assert_eq!(ran.args[0], "scan");
        assert_eq!(
            ran.flag("--shard"),
            format!("{k}/{n}"),
            "shard {k} of the matrix's {n}"
        );
        assert_eq!(ran.flag("-f"), "sarif");
        let report = ran.flag("-o");
        assert!(work.join(report).is_file());
        assert_eq!(expand(str_of(&upload["with"]["path"], "path"), k), report);
        // The Actions cache keeps the scan cache and the clones (keyhound's default
        // --clone-dir, ~/.cache/keyhound/repos).
        let cache_dir = cache.replace('~', home.to_str().unwrap());
        assert!(Path::new(ran.flag("--cache")).starts_with(&cache_dir));
        assert!(ran.args.iter().all(|a| a != "--clone-dir"));
        assert_eq!(cache, "~/.cache/keyhound");
        artifacts.push(expand(str_of(&upload["with"]["name"], "name"), k));
        // No report: the job fails.
        assert!(!run_script(&shell, &script, &env, &log, 2, false)
            .out
            .status
            .success());
    }
    artifacts.sort();
    artifacts.dedup();
    assert_eq!(artifacts.len(), n as usize, "one artifact per shard");

    // The merge job waits for every shard, downloads every shard's artifact into one place
    // and merges all the reports there.
    let merge = &wf["jobs"]["merge"];
    assert_eq!(merge["needs"], "shard");
    let download = &step(merge, "uses", "actions/download-artifact@")["with"];
    let pattern = str_of(&download["pattern"], "pattern");
    let prefix = pattern.strip_suffix('*').expect("a pattern NAME*");
    assert!(artifacts.iter().all(|a| a.starts_with(prefix)));
    assert_eq!(download["merge-multiple"], true);
    let into = str_of(&download["path"], "path");
    let merge_run = str_of(&step(merge, "name", "Merge")["run"], "run");
    let reports = expand(str_of(&upload["with"]["path"], "path"), 0).replace('0', "*");
    assert!(
        merge_run.starts_with(&format!("keyhound merge {into}/{reports} -o ")),
        "{merge_run}"
    );
    let merged = merge_run.rsplit(' ').next().unwrap();
    let upload = step(merge, "uses", "actions/upload-artifact@");
    assert_eq!(upload["with"]["path"], merged);
    assert_eq!(
        upload["if"], "${{ !cancelled() }}",
        "uploaded with findings too"
    );
}
