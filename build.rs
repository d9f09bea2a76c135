//! Compiles the built-in rule files (`rules/*.yaml`) into the binary.
//!
//! Parsing ~300 rules of YAML at every start would cost more than a whole pre-commit scan, so
//! each file is converted here, once, to two JSON documents: one without the rules' examples
//! (all a scan needs; parsed in about a millisecond) and one with them (for `rules check`).
//! The line of each rule's `id:` is recorded for messages. A file that is not valid YAML, or
//! does not fit the rule schema (`src/rules/syntax.rs`, the one the loader uses), fails the
//! build.

use std::{env, fmt::Write as _, fs, path::Path};

use serde_json::Value;

#[path = "src/rules/locate.rs"]
mod locate;
use locate::line_of_id;

// The rule schema the loader uses: each file is read into it here, so a schema error in a
// built-in rule fails the build, and built-in rules parse exactly as user rule files do.
#[path = "src/confidence.rs"]
#[allow(dead_code)]
mod confidence;
mod finding {
    pub use super::confidence::Confidence;
}
#[path = "src/rules/syntax.rs"]
#[allow(dead_code)]
mod syntax;

fn main() {
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("rules");
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=src/rules/locate.rs");
    println!("cargo:rerun-if-changed=src/rules/syntax.rs");
    println!("cargo:rerun-if-changed=src/confidence.rs");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("rules/ directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect();
    names.sort();
    let mut out = String::from("static BUILTIN_RULE_FILES: &[BuiltinFile] = &[\n");
    for n in &names {
        let path = dir.join(n);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(&path).expect("read rule file");
        let mut full: Value = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("rules/{n}: not valid YAML: {e}"));
        stringify_scalars(&mut full, "");
        if let Err(e) = serde_json::from_value::<syntax::RuleFileSyntax>(full.clone()) {
            panic!("rules/{n}: {e}");
        }
        let mut scan = full.clone();
        let mut lines = Vec::new();
        if let Some(rules) = scan.get_mut("rules").and_then(Value::as_array_mut) {
            for r in rules {
                if let Some(obj) = r.as_object_mut() {
                    obj.remove("examples");
                    obj.remove("negative_examples");
                    obj.remove("negative_paths");
                    if let Some(id) = obj.get("id").and_then(Value::as_str) {
                        lines.push((id.to_string(), line_of_id(&text, id)));
                    }
                }
            }
        }
        let lines: String = lines
            .iter()
            .map(|(id, l)| format!("({id:?}, {l}), "))
            .collect();
        writeln!(
            out,
            "    BuiltinFile {{ name: {n:?}, scan: {}, full: {}, lines: &[{lines}] }},",
            raw(&scan.to_string()),
            raw(&full.to_string()),
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("builtin_rules.rs");
    fs::write(dest, out).expect("write builtin_rules.rs");
}

/// Fields of the rule schema whose values are numbers or booleans; `json` holds the JSON values
/// a validation outcome compares with. Everywhere else the schema wants strings, and YAML's
/// plain scalars (`123456789`, `yes`) must stay the strings they were written as.
const TYPED: &[&str] = &[
    "min_entropy",
    "window",
    "single_line",
    "binary",
    "secret_group",
    "generic",
    "skip_global_filters",
    "within_lines",
    "max_repeat",
    "max_sequence",
    "partner_only",
    "secret_in_query",
    "status",
    "json",
];

fn stringify_scalars(v: &mut Value, key: &str) {
    if TYPED.contains(&key) {
        return;
    }
    match v {
        Value::Number(n) => *v = Value::String(n.to_string()),
        Value::Bool(b) => *v = Value::String(b.to_string()),
        Value::Array(items) => items.iter_mut().for_each(|i| stringify_scalars(i, key)),
        Value::Object(map) => map.iter_mut().for_each(|(k, i)| stringify_scalars(i, k)),
        Value::Null | Value::String(_) => {}
    }
}

/// A raw string literal that can hold `s`.
fn raw(s: &str) -> String {
    let mut hashes = String::from("#");
    while s.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{s}\"{hashes}")
}
