//! The wheelhouse: a directory with the `keyhound-cli` wheel of this version and the other
//! wheels the packaging tests install with pip kept off the network (`--no-index
//! --find-links`). `./scripts/test` builds it (`scripts/wheelhouse`) and sets
//! `KEYHOUND_WHEELHOUSE`; without it these tests fail and say so.

#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;

pub fn wheelhouse() -> PathBuf {
    let dir = std::env::var_os("KEYHOUND_WHEELHOUSE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "KEYHOUND_WHEELHOUSE is not set: run the tests with ./scripts/test (it builds \
                 the keyhound-cli wheel with maturin, see scripts/wheelhouse), or point it at \
                 a directory with the keyhound-cli wheel and a setuptools wheel"
            )
        });
    let names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("KEYHOUND_WHEELHOUSE {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let wheel = format!("keyhound_cli-{}-", env!("CARGO_PKG_VERSION"));
    assert!(
        names
            .iter()
            .any(|n| n.starts_with(&wheel) && n.ends_with(".whl")),
        "no {wheel}*.whl in KEYHOUND_WHEELHOUSE {}: {names:?}",
        dir.display()
    );
    dir
}

/// Environment that makes pip install from the wheelhouse only.
pub fn pip_offline() -> Vec<(&'static str, OsString)> {
    vec![
        ("PIP_NO_INDEX", "1".into()),
        ("PIP_FIND_LINKS", wheelhouse().into_os_string()),
        ("PIP_CONFIG_FILE", "/dev/null".into()),
        ("PIP_DISABLE_PIP_VERSION_CHECK", "1".into()),
    ]
}
