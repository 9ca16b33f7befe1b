//! The environment fingerprint of a toolchain: a fixed, sorted set of `go env` keys that decide
//! what a build produces and where modules come from, hashed into one value.
//!
//! Machine-specific paths (GOROOT, GOPATH, GOCACHE, ...) are left out, so two machines with the
//! same release and the same settings have the same fingerprint.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::integrity::hex;

/// The keys that make up the fingerprint (`docs/integrity.md`, "Fingerprint and env-diff").
pub const KEYS: &[&str] = &[
    "CC",
    "CGO_ENABLED",
    "CXX",
    "GO386",
    "GOAMD64",
    "GOARCH",
    "GOARM",
    "GOARM64",
    "GOEXPERIMENT",
    "GOFLAGS",
    "GOINSECURE",
    "GOMIPS",
    "GOMIPS64",
    "GONOSUMDB",
    "GOOS",
    "GOPPC64",
    "GOPRIVATE",
    "GOPROXY",
    "GORISCV64",
    "GOSUMDB",
    "GOTOOLCHAIN",
    "GOVERSION",
    "GOWASM",
];

#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    #[error("cannot run {go}: {cause}")]
    Run { go: String, cause: std::io::Error },
    #[error("{go} env -json failed: {stderr}")]
    Failed { go: String, stderr: String },
    #[error("{go} env -json printed something that is not JSON: {cause}")]
    BadOutput { go: String, cause: serde_json::Error },
    #[error(
        "cannot read the saved fingerprint {path}: {detail}; save one with: gomig fingerprint VERSION --json > {path}"
    )]
    BadFile { path: String, detail: String },
}

/// The fingerprint: the keys (empty values left out) and the SHA-256 over them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The toolchain it was taken from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolchain: Option<String>,
    pub fingerprint: String,
    pub keys: BTreeMap<String, String>,
}

impl Fingerprint {
    /// Picks the fingerprint keys out of a `go env` map and hashes them: `KEY=value\n` for each
    /// non-empty key, in sorted order.
    pub fn from_env(toolchain: Option<String>, env: &BTreeMap<String, String>) -> Fingerprint {
        let keys: BTreeMap<String, String> = KEYS
            .iter()
            .filter_map(|k| {
                env.get(*k)
                    .filter(|v| !v.is_empty())
                    .map(|v| (k.to_string(), v.clone()))
            })
            .collect();
        Fingerprint {
            toolchain,
            fingerprint: digest(&keys),
            keys,
        }
    }

    /// A fingerprint saved with `gomig fingerprint --json`. The digest is recomputed from the
    /// keys, so an edited file cannot claim another fingerprint.
    pub fn load(path: &Path) -> Result<Fingerprint, FingerprintError> {
        let bad = |detail: String| FingerprintError::BadFile {
            path: path.display().to_string(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let mut fp: Fingerprint = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let recomputed = digest(&fp.keys);
        if recomputed != fp.fingerprint {
            return Err(bad(format!(
                "its fingerprint {} does not match its keys ({recomputed})",
                fp.fingerprint
            )));
        }
        fp.keys.retain(|_, v| !v.is_empty());
        Ok(fp)
    }
}

fn digest(keys: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in keys {
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

/// One key that differs between two fingerprints (`None`: unset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyDiff {
    pub key: String,
    pub a: Option<String>,
    pub b: Option<String>,
}

pub fn diff(a: &Fingerprint, b: &Fingerprint) -> Vec<KeyDiff> {
    let mut keys: Vec<&String> = a.keys.keys().chain(b.keys.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.keys.get(*k) != b.keys.get(*k))
        .map(|k| KeyDiff {
            key: k.clone(),
            a: a.keys.get(k).cloned(),
            b: b.keys.get(k).cloned(),
        })
        .collect()
}

/// `go env -json KEYS...` of the toolchain at `root`, as the shim would run it: the user's
/// environment, GOROOT set to the tree, and GOTOOLCHAIN=local unless the environment sets it.
/// It runs in `/` so that no go.mod or go.work around the caller can switch toolchains.
pub fn go_env(root: &Path, keys: &[&str]) -> Result<BTreeMap<String, String>, FingerprintError> {
    let go_name = crate::gotool::go_binary(root).display().to_string();
    // Never let `go env` download a toolchain; the real GOTOOLCHAIN is put back below.
    let out = crate::gotool::as_the_shim_runs(root)
        .env("GOTOOLCHAIN", "local")
        .arg("env")
        .arg("-json")
        .args(keys)
        .output()
        .map_err(|cause| FingerprintError::Run {
            go: go_name.clone(),
            cause,
        })?;
    if !out.status.success() {
        return Err(FingerprintError::Failed {
            go: go_name,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let mut env: BTreeMap<String, String> =
        serde_json::from_slice(&out.stdout).map_err(|cause| FingerprintError::BadOutput { go: go_name, cause })?;
    if keys.contains(&"GOTOOLCHAIN") {
        // What the toolchain really runs with: the shim passes an exported GOTOOLCHAIN through
        // and sets `local` otherwise.
        let effective = std::env::var("GOTOOLCHAIN").unwrap_or_else(|_| "local".into());
        env.insert("GOTOOLCHAIN".into(), effective);
    }
    Ok(env)
}

/// The fingerprint of the toolchain at `root`.
pub fn of_toolchain(root: &Path, name: Option<&str>) -> Result<Fingerprint, FingerprintError> {
    Ok(Fingerprint::from_env(name.map(str::to_string), &go_env(root, KEYS)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn only_the_fixed_keys_count_and_empty_values_are_unset() {
        let a = Fingerprint::from_env(
            None,
            &env(&[
                ("GOOS", "linux"),
                ("GOROOT", "/a"),
                ("GOFLAGS", ""),
                ("GOARCH", "amd64"),
            ]),
        );
        let b = Fingerprint::from_env(None, &env(&[("GOARCH", "amd64"), ("GOOS", "linux"), ("GOROOT", "/b")]));
        assert_eq!(
            a.fingerprint, b.fingerprint,
            "GOROOT is machine-specific, GOFLAGS empty"
        );
        assert_eq!(a.keys.len(), 2);
        let c = Fingerprint::from_env(
            None,
            &env(&[("GOARCH", "amd64"), ("GOOS", "linux"), ("GOFLAGS", "-mod=mod")]),
        );
        assert_ne!(a.fingerprint, c.fingerprint);
        assert_eq!(
            diff(&a, &c),
            vec![KeyDiff {
                key: "GOFLAGS".into(),
                a: None,
                b: Some("-mod=mod".into())
            }]
        );
    }
}
