//! Reading `go vet -json` output: per package, per analyzer findings, plus the packages vet could
//! not check (type errors, printed as plain `vet: ...` lines).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::test2json::{package_key, split_blocks};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VetFinding {
    pub package: String,
    pub analyzer: String,
    /// `file:line:col`, relative to the project directory when inside it.
    pub position: String,
    pub message: String,
}

impl VetFinding {
    /// `file:line`, without the column: releases move the column of the same finding.
    pub fn line_key(&self) -> &str {
        let p = &self.position;
        let number = |s: &str| s.parse::<u32>().is_ok();
        match p.rfind(':') {
            Some(i) if number(&p[i + 1..]) && p[..i].rsplit(':').next().is_some_and(number) => &p[..i],
            _ => p,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VetRun {
    pub findings: Vec<VetFinding>,
    /// Packages vet could not analyse, with its message.
    pub errors: BTreeMap<String, Vec<String>>,
    /// stderr lines outside any package (`go: ...`).
    pub stderr: Vec<String>,
    /// The go command failed before reporting on any package.
    pub load_error: Option<String>,
}

fn relative(posn: &str, dir: &Path) -> String {
    let dir = dir.to_string_lossy();
    posn.strip_prefix(dir.as_ref())
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or(posn)
        .to_string()
}

/// Parses the stderr of `go vet -json` run in `dir`.
pub fn parse(stderr: &str, success: bool, dir: &Path) -> VetRun {
    let (blocks, loose) = split_blocks(stderr);
    let mut run = VetRun {
        stderr: loose,
        ..VetRun::default()
    };
    for (id, lines) in blocks {
        let mut json = String::new();
        let mut depth = 0usize;
        for line in lines {
            if depth == 0 && line == "{" {
                json.clear();
            }
            if depth > 0 || line == "{" {
                json.push_str(&line);
                json.push('\n');
                depth += line.matches('{').count();
                depth = depth.saturating_sub(line.matches('}').count());
                if depth == 0 {
                    add_json(&mut run, &json, dir);
                }
                continue;
            }
            if !line.trim().is_empty() {
                let msg = line.strip_prefix("vet: ").unwrap_or(&line);
                run.errors.entry(package_key(&id)).or_default().push(relative(msg, dir));
            }
        }
    }
    run.findings
        .sort_by(|a, b| (&a.package, &a.position, &a.analyzer).cmp(&(&b.package, &b.position, &b.analyzer)));
    run.findings.dedup();
    if !success && run.findings.is_empty() && run.errors.is_empty() {
        let text = run.stderr.join("\n");
        run.load_error = Some(if text.trim().is_empty() {
            "go vet failed without output".into()
        } else {
            text
        });
    }
    run
}

/// `{"pkg": {"analyzer": [{"posn": ..., "message": ...}] | {"error": ...}}}`
fn add_json(run: &mut VetRun, text: &str, dir: &Path) {
    let Ok(Value::Object(tree)) = serde_json::from_str::<Value>(text) else {
        return;
    };
    for (pkg_id, analyzers) in tree {
        let package = package_key(&pkg_id);
        let Value::Object(analyzers) = analyzers else {
            continue;
        };
        for (analyzer, diags) in analyzers {
            match diags {
                Value::Array(items) => {
                    for d in items {
                        run.findings.push(VetFinding {
                            package: package.clone(),
                            analyzer: analyzer.clone(),
                            position: relative(d["posn"].as_str().unwrap_or(""), dir),
                            message: d["message"].as_str().unwrap_or("").to_string(),
                        });
                    }
                }
                Value::Object(obj) => {
                    if let Some(err) = obj.get("error").and_then(Value::as_str) {
                        run.errors
                            .entry(package.clone())
                            .or_default()
                            .push(format!("{analyzer}: {err}"));
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_and_errors_are_attributed_to_their_packages() {
        let stderr = "# example.com/m/sub\nvet: sub/sub.go:3:28: undefined: x\n# example.com/m\n# [example.com/m]\n{\n\t\"example.com/m\": {\n\t\t\"stdversion\": [\n\t\t\t{\n\t\t\t\t\"posn\": \"/w/m/main.go:5:45\",\n\t\t\t\t\"message\": \"slices.Concat requires go1.22 or later (module is go1.21)\"\n\t\t\t}\n\t\t]\n\t}\n}\n";
        let run = parse(stderr, false, Path::new("/w/m"));
        assert_eq!(
            run.findings,
            vec![VetFinding {
                package: "example.com/m".into(),
                analyzer: "stdversion".into(),
                position: "main.go:5:45".into(),
                message: "slices.Concat requires go1.22 or later (module is go1.21)".into(),
            }]
        );
        assert_eq!(run.findings[0].line_key(), "main.go:5");
        assert_eq!(run.errors["example.com/m/sub"], vec!["sub/sub.go:3:28: undefined: x"]);
        assert!(run.load_error.is_none());
    }
}
