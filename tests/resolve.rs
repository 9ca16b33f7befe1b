//! The resolution contract (`docs/resolution.md`), case by case, through the same
//! resolver the shim runs. Toolchains here are fake trees; real Go runs in tests/toolchains.rs.

mod support;

use std::path::Path;

use gomig::lookup::{EnvSnapshot, resolve_in, text_of};
use gomig::resolve::{ErrorKind, Resolution, Rule, Source, Tool};
use support::TestEnv;

struct Case {
    env: TestEnv,
    extra: Vec<(String, String)>,
}

impl Case {
    /// A store with the given fake toolchains and default.
    fn new(installed: &[&str], default: Option<&str>) -> Case {
        let env = TestEnv::new();
        for name in installed {
            env.fake_toolchain(name);
        }
        if let Some(d) = default {
            env.set_default_link(d);
        }
        Case { env, extra: Vec::new() }
    }

    fn var(mut self, k: &str, v: &str) -> Case {
        self.extra.push((k.into(), v.into()));
        self
    }

    fn snapshot(&self) -> EnvSnapshot {
        let mut vars = vec![
            ("GOMIG_HOME".to_string(), self.env.gomig_home.display().to_string()),
            ("HOME".to_string(), self.env.home.display().to_string()),
            ("PATH".to_string(), "/usr/bin:/bin".to_string()),
            ("TMPDIR".to_string(), self.env.root().join("tmp").display().to_string()),
        ];
        vars.extend(self.extra.iter().cloned());
        EnvSnapshot::from_vars(vars)
    }

    fn resolve(&self, rel: &str) -> Result<Box<Resolution>, gomig::lookup::ResolveFailure> {
        let dir = self.env.dir(rel);
        resolve_in(&self.snapshot(), &dir, Tool::Go)
    }

    /// Asserts the toolchain chosen in `rel`.
    fn picks(&self, rel: &str, want: &str) -> Box<Resolution> {
        let res = self.resolve(rel).unwrap_or_else(|e| panic!("resolving in {rel}: {e}"));
        assert_eq!(text_of(res.name.as_bytes()), want, "in {rel}");
        res
    }

    fn error(&self, rel: &str) -> gomig::lookup::ResolveFailure {
        match self.resolve(rel) {
            Ok(res) => panic!("expected an error in {rel}, got {}", text_of(res.name.as_bytes())),
            Err(e) => e,
        }
    }

    fn write(&self, rel: &str, text: &str) {
        self.env.write(rel, text);
    }
}

fn file_of(res: &Resolution) -> String {
    text_of(res.file.as_bytes())
}

#[test]
fn the_default_applies_where_nothing_asks() {
    let c = Case::new(&["go1.21.13", "go1.22.10"], Some("go1.21.13"));
    let res = c.picks("empty/dir", "go1.21.13");
    assert_eq!(res.source, Source::Default);
    assert!(text_of(res.goroot.as_bytes()).ends_with("toolchains/go1.21.13"));
    assert!(text_of(res.exe.as_bytes()).ends_with("toolchains/go1.21.13/bin/go"));
}

#[test]
fn env_beats_version_files_and_go_mod() {
    let c = Case::new(&["go1.21.13", "go1.22.10", "go1.23.9"], Some("go1.21.13")).var("GOMIG_GO_VERSION", "1.22.10");
    c.write("p/.go-version", "1.23.9\n");
    c.write("p/go.mod", "module x\ngo 1.23.0\n");
    let res = c.picks("p", "go1.22.10");
    assert_eq!(res.source, Source::Env);
}

#[test]
fn nearest_go_version_walking_up_wins_even_over_a_nearer_go_mod() {
    let c = Case::new(&["go1.21.13", "go1.22.10", "go1.23.9"], Some("go1.21.13"));
    c.write("top/.go-version", "1.22.10\n");
    c.write("top/mod/go.mod", "module m\n\ngo 1.23.0\n");
    let res = c.picks("top/mod/deep/er", "go1.22.10");
    assert_eq!(res.source, Source::GoVersionFile);
    assert!(file_of(&res).ends_with("top/.go-version"));
    c.write("top/mod/.go-version", "go1.23.9");
    c.picks("top/mod/deep", "go1.23.9");
}

#[test]
fn go_version_accepts_comments_blank_lines_crlf_bom_and_no_final_newline() {
    let c = Case::new(&["go1.22.10", "go1.23.9"], None);
    for (i, text) in [
        "1.22.10",
        "1.22.10\n",
        "\u{feff}1.22.10\r\n",
        "# pinned for the release\n\n   1.22.10   \n",
        "\t1.22.10\t# trailing comment is part of the line? no: first token only\n",
    ]
    .iter()
    .enumerate()
    {
        c.write(&format!("d{i}/.go-version"), text);
        if i == 4 {
            // goenv reads the whole trimmed line; a trailing comment makes it invalid.
            assert_eq!(c.error(&format!("d{i}")).kind, ErrorKind::BadVersion);
        } else {
            c.picks(&format!("d{i}"), "go1.22.10");
        }
    }
}

#[test]
fn go_version_prefixes_latest_and_go_prefix() {
    let c = Case::new(
        &[
            "go1.21.13",
            "go1.22.3",
            "go1.22.10",
            "go1.23rc1",
            "go1.23.9",
            "go1.24rc2",
        ],
        Some("go1.21.13"),
    );
    for (text, want) in [
        ("1.22", "go1.22.10"),
        ("go1.22", "go1.22.10"),
        ("1.22.3", "go1.22.3"),
        ("go1.22.3", "go1.22.3"),
        ("1", "go1.23.9"),
        ("latest", "go1.23.9"),
        ("1.23rc1", "go1.23rc1"),
        ("1.24rc2", "go1.24rc2"),
    ] {
        c.write(&format!("p-{text}/.go-version"), text);
        let res = c.picks(&format!("p-{text}"), want);
        assert_eq!(
            res.rule,
            if text.matches('.').count() >= 2 || text.contains("rc") {
                Rule::Exact
            } else {
                Rule::Newest
            }
        );
    }
}

#[test]
fn tool_versions_counts_as_a_version_file_after_go_version() {
    let c = Case::new(&["go1.21.13", "go1.22.10", "go1.23.9"], Some("go1.21.13"));
    c.write(
        "asdf/.tool-versions",
        "nodejs 20.1.0\n# comment\ngolang 1.22.10 1.21.13\n",
    );
    let res = c.picks("asdf/sub", "go1.22.10");
    assert_eq!(res.source, Source::ToolVersions);
    assert_eq!(res.line, 3);
    c.write("mise/.tool-versions", "go 1.23.9\n");
    c.picks("mise", "go1.23.9");
    c.write("both/.tool-versions", "go 1.23.9\n");
    c.write("both/.go-version", "1.22.10\n");
    assert_eq!(c.picks("both", "go1.22.10").source, Source::GoVersionFile);
    // No Go in it: it pins nothing, the walk goes on.
    c.write("other/.tool-versions", "python 3.12\n");
    c.picks("other", "go1.21.13");
}

/// Version files are first read through a small buffer and, past it, again through the full
/// one: the answer must not depend on where a line falls against either.
#[test]
fn version_files_longer_than_the_first_read_give_the_same_answer() {
    let c = Case::new(&["go1.21.13", "go1.22.10", "go1.23.9"], Some("go1.21.13"));
    let comments: String = (0..200).map(|i| format!("# comment line {i}\n")).collect();
    c.write("comments/.go-version", &format!("{comments}1.22.10\n"));
    let res = c.picks("comments", "go1.22.10");
    assert_eq!(res.line, 201);
    // A line longer than every buffer is cut and skipped, the line after it still counts.
    c.write(
        "longline/.tool-versions",
        &format!("nodejs {}\ngolang 1.23.9\n", "9".repeat(40_000)),
    );
    let res = c.picks("longline", "go1.23.9");
    assert_eq!(res.line, 2);
    // The version right at the small buffer's edge, with no newline after it.
    for pad in [230, 240, 247, 248, 249, 256, 260, 1000, 1017, 1018, 1019, 1024, 1030] {
        let text = format!("{}\n1.22.10", "#".repeat(pad));
        let dir = format!("edge{pad}");
        c.write(&format!("{dir}/.go-version"), &text);
        assert_eq!(c.picks(&dir, "go1.22.10").line, 2, "pad {pad}");
    }
}

#[test]
fn go_mod_go_line_is_a_minimum_met_by_the_default_when_it_can() {
    let c = Case::new(&["go1.21.13", "go1.22.3", "go1.22.10", "go1.23.9"], Some("go1.22.3"));
    c.write("m/go.mod", "module m\n\ngo 1.22\n");
    let res = c.picks("m/pkg", "go1.22.3");
    assert_eq!((res.source, res.rule), (Source::GoMod, Rule::BaseSatisfies));
    assert_eq!(text_of(res.requirement.as_bytes()), "go1.22.0");
    assert_eq!(res.line, 3);
}

#[test]
fn go_mod_upgrade_takes_the_newest_patch_of_the_lowest_satisfying_minor() {
    // The spec's examples.
    let c = Case::new(&["go1.21.13", "go1.22.3", "go1.22.10"], Some("go1.21.13"));
    c.write("m/go.mod", "module m\ngo 1.22\n");
    let res = c.picks("m", "go1.22.10");
    assert_eq!(res.rule, Rule::Upgrade);
    let c = Case::new(&["go1.21.13", "go1.23.9", "go1.24.11"], Some("go1.21.13"));
    c.write("m/go.mod", "module m\ngo 1.22\n");
    c.picks("m", "go1.23.9");
    // Releases before pre-releases within the line.
    let c = Case::new(&["go1.21.13", "go1.24rc1", "go1.24rc2", "go1.24.0"], Some("go1.21.13"));
    c.write("m/go.mod", "module m\ngo 1.24rc1\n");
    c.picks("m", "go1.24.0");
    let c = Case::new(&["go1.21.13", "go1.24rc1", "go1.24rc2"], Some("go1.21.13"));
    c.write("m/go.mod", "module m\ngo 1.24rc1\n");
    c.picks("m", "go1.24rc2");
}

#[test]
fn language_version_1_21_and_later_means_dot_zero_older_ones_stay() {
    let c = Case::new(&["go1.20", "go1.21rc2", "go1.21.0"], Some("go1.20"));
    c.write("a/go.mod", "module a\ngo 1.21\n");
    // go1.21rc2 < go1.21.0: a `go 1.21` line needs go1.21.0.
    c.picks("a", "go1.21.0");
    c.write("b/go.mod", "module b\ngo 1.20\n");
    assert_eq!(c.picks("b", "go1.20").rule, Rule::BaseSatisfies);
}

#[test]
fn toolchain_line_raises_the_minimum_and_an_older_one_is_ignored() {
    let c = Case::new(&["go1.21.13", "go1.22.10", "go1.23.9"], Some("go1.21.13"));
    c.write("t/go.mod", "module t\ngo 1.22.0\ntoolchain go1.23.2\n");
    let res = c.picks("t", "go1.23.9");
    assert_eq!(text_of(res.requirement.as_bytes()), "go1.23.2");
    assert_eq!(res.line, 3);
    c.write("old/go.mod", "module t\ngo 1.22.5\ntoolchain go1.22.1\n");
    let res = c.picks("old", "go1.22.10");
    assert_eq!(text_of(res.requirement.as_bytes()), "go1.22.5");
    c.write("def/go.mod", "module t\ngo 1.23.0\ntoolchain default\n");
    let res = c.picks("def", "go1.21.13");
    assert_eq!(res.rule, Rule::ToolchainDefault);
}

#[test]
fn go_work_beats_go_mod_and_gowork_controls_it() {
    let c = Case::new(&["go1.21.13", "go1.22.10", "go1.23.9"], Some("go1.21.13"));
    c.write("ws/go.work", "go 1.23.0\n\nuse ./a\n");
    c.write("ws/a/go.mod", "module a\ngo 1.22.0\n");
    let res = c.picks("ws/a", "go1.23.9");
    assert_eq!(res.source, Source::GoWork);
    let off = Case {
        env: c.env,
        extra: vec![("GOWORK".into(), "off".into())],
    };
    assert_eq!(off.picks("ws/a", "go1.22.10").source, Source::GoMod);
    let path = off.env.write("elsewhere/my.work", "go 1.21.0\n");
    let named = Case {
        env: off.env,
        extra: vec![("GOWORK".into(), path.display().to_string())],
    };
    assert_eq!(named.picks("ws/a", "go1.21.13").source, Source::GoWork);
    // A GOWORK naming a file that does not exist yet (go work init): go.mod applies.
    let missing = Case {
        env: named.env,
        extra: vec![("GOWORK".into(), "/nonexistent/go.work".into())],
    };
    assert_eq!(missing.picks("ws/a", "go1.22.10").source, Source::GoMod);
    let relative = Case {
        env: missing.env,
        extra: vec![("GOWORK".into(), "rel/go.work".into())],
    };
    assert_eq!(relative.error("ws/a").kind, ErrorKind::GoworkNotAbsolute);
}

#[test]
fn go_mod_is_read_loosely_like_go_does() {
    let c = Case::new(&["go1.21.13", "go1.22.10", "go1.23.9", "go1.24.11"], Some("go1.21.13"));
    let cases: &[(&str, &str)] = &[
        // comments, CRLF, BOM, tabs, unknown directives, blocks, no final newline
        ("\u{feff}module x\r\n\r\ngo 1.23.0 // needs iterators\r\n", "go1.23.9"),
        ("module x\n\n\tgo\t1.23.0\n", "go1.23.9"),
        (
            "module x\ngodebug default=go1.21\ntool example.com/t\nignore ./x\nfuture directive\ngo 1.23.0",
            "go1.23.9",
        ),
        (
            "module x\nrequire (\n\tgo v1.99.0\n\ttoolchain v2.0.0\n)\nreplace (\n\tgo => ./go\n)\ngo 1.22.0\n",
            "go1.22.10",
        ),
        ("module x\n// go 1.24.0\n/* */\ngo 1.22.0\n", "go1.22.10"),
        ("module x\ngo 1.22.0\ngo 1.24.0\n", "go1.22.10"),
        ("module x\n", "go1.21.13"),
        ("", "go1.21.13"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        c.write(&format!("m{i}/go.mod"), text);
        c.picks(&format!("m{i}"), want);
    }
}

#[test]
fn a_huge_go_mod_with_the_go_line_at_the_end_is_read() {
    let c = Case::new(&["go1.21.13", "go1.23.9"], Some("go1.21.13"));
    let mut text = String::from("module big\n\nrequire (\n");
    while text.len() < 1_000_000 {
        text.push_str("\texample.com/some/long/module/path/number v1.2.3 // indirect\n");
    }
    text.push_str(")\n");
    text.push_str(&format!("// {}\n", "x".repeat(40_000))); // a line longer than the read buffer
    text.push_str("go 1.23.0\n");
    c.write("big/go.mod", &text);
    let res = c.picks("big", "go1.23.9");
    assert!(res.line > 15_000, "line {}", res.line);
}

#[test]
fn a_comment_longer_than_two_read_buffers_stays_one_comment() {
    let c = Case::new(&["go1.21.13", "go1.23.9"], Some("go1.21.13"));
    // Where the reader cuts this line (at 16 KiB), its rest begins with what looks like a go line.
    let comment = format!("// {}go 1.99.0 {}", "x".repeat(16 * 1024 - 3), "y".repeat(20_000));
    c.write("long/go.mod", &format!("module long\n{comment}\ngo 1.23.0\n"));
    let res = c.picks("long", "go1.23.9");
    assert_eq!(res.line, 3);
}

#[test]
fn go_mod_in_the_temp_root_is_ignored_like_go_does() {
    let c = Case::new(&["go1.21.13", "go1.23.9"], Some("go1.21.13"));
    let tmp = c.env.root().join("tmp");
    std::fs::write(tmp.join("go.mod"), "module t\ngo 1.23.0\n").unwrap();
    let res = resolve_in(&c.snapshot(), &tmp, Tool::Go).unwrap();
    assert_eq!(text_of(res.name.as_bytes()), "go1.21.13");
}

#[test]
fn go111module_off_ignores_go_mod() {
    let c = Case::new(&["go1.21.13", "go1.23.9"], Some("go1.21.13")).var("GO111MODULE", "off");
    c.write("m/go.mod", "module m\ngo 1.23.0\n");
    c.picks("m", "go1.21.13");
}

#[test]
fn errors_name_the_file_line_and_fix() {
    let c = Case::new(&["go1.21.13"], Some("go1.21.13"));
    c.write("garbage/.go-version", "not-a-version\n");
    let e = c.error("garbage");
    assert_eq!(e.kind, ErrorKind::BadVersion);
    assert!(e.message.contains("garbage/.go-version line 1"), "{}", e.message);
    c.write("escape/.go-version", "# comment\n1.22/../../x\n");
    let e = c.error("escape");
    assert!(e.message.contains("escape/.go-version line 2"), "{}", e.message);
    c.write("empty/.go-version", "\n# only a comment\n");
    assert_eq!(c.error("empty").kind, ErrorKind::EmptyVersionFile);
    c.env.dir("isdir/.go-version");
    assert_eq!(c.error("isdir").kind, ErrorKind::VersionFileIsDir);
    c.write("missing/.go-version", "1.25.4\n");
    let e = c.error("missing");
    assert_eq!(e.kind, ErrorKind::NotInstalled);
    assert!(e.message.contains("gomig install 1.25.4"), "{}", e.message);
    c.write("needs/go.mod", "module n\n\ngo 1.26.0\n");
    let e = c.error("needs");
    assert!(
        e.message.contains("needs/go.mod line 3") && e.message.contains("gomig install 1.26.0"),
        "{}",
        e.message
    );
    c.write("badgo/go.mod", "module n\ngo 1.x\n");
    let e = c.error("badgo");
    assert_eq!(e.kind, ErrorKind::BadGoLine);
    assert!(e.message.contains("badgo/go.mod line 2"), "{}", e.message);
    c.write("badtc/go.mod", "module n\ngo 1.21.0\ntoolchain go1.999999-/run.sh\n");
    assert_eq!(c.error("badtc").kind, ErrorKind::BadToolchainLine);
    let bad_env = Case {
        env: c.env,
        extra: vec![("GOMIG_GO_VERSION".into(), "nonsense".into())],
    };
    let e = bad_env.error("anywhere");
    assert!(e.message.contains("GOMIG_GO_VERSION"), "{}", e.message);
}

#[test]
fn a_dangling_default_is_reported_not_skipped() {
    let c = Case::new(&["go1.21.13"], None);
    c.env.set_default_link("go1.22.10");
    let e = c.error("x");
    assert_eq!(e.kind, ErrorKind::DefaultBroken);
    assert!(e.message.contains("go1.22.10"), "{}", e.message);
}

#[test]
fn system_is_the_first_go_on_path_that_is_not_a_shim() {
    let c = Case::new(&["go1.21.13"], None);
    c.env.install_shims();
    let fake_bin = c.env.dir("fakebin");
    std::fs::write(fake_bin.join("go"), "#!/bin/sh\necho system\n").unwrap();
    std::fs::set_permissions(fake_bin.join("go"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // A copy of the shim dir's path and a relative entry come first; both are skipped.
    let path = format!(
        "{}::relative/bin:{}:/usr/bin",
        c.env.shims_dir().display(),
        fake_bin.display()
    );
    let c = c.var("PATH", &path);
    c.write("s/.go-version", "system\n");
    let res = c.resolve("s").unwrap();
    assert_eq!(res.source, Source::GoVersionFile);
    assert_eq!(Path::new(&text_of(res.exe.as_bytes())), fake_bin.join("go"));
    // No default and no pin: system too.
    let res = c.resolve("nothing").unwrap();
    assert_eq!(res.source, Source::System);
}

#[test]
fn names_that_could_escape_the_store_never_reach_the_file_system() {
    let c = Case::new(&["go1.21.13"], Some("go1.21.13"));
    for bad in ["../../etc", "1.22/../..", "go1.22\\x", "..", "/etc/passwd"] {
        c.write("n/.go-version", bad);
        assert_eq!(c.error("n").kind, ErrorKind::BadVersion, "{bad}");
    }
}

#[test]
fn current_and_doctor_show_a_pin_older_than_go_mod_requires_installed_or_not() {
    let c = Case::new(&["go1.21.13", "go1.22.10"], Some("go1.21.13"));
    c.env.install_shims();
    c.write("app/.go-version", "1.21.13\n");
    c.write("app/go.mod", "module app\n\n// comment\ngo 1.22.0\n");
    let dir = c.env.dir("app");
    let pin = dir.join(".go-version").display().to_string();
    let gomod = dir.join("go.mod").display().to_string();
    let expect = |why: &str, want: &str| {
        let current = support::run(&mut c.env.gomig_in(&dir, &["current"]));
        let warning = support::stderr(&current);
        assert!(current.status.success(), "{}", support::describe(&current));
        for part in [
            pin.as_str(),
            gomod.as_str(),
            "line 4",
            want,
            "raise the pin or remove it",
        ] {
            assert!(
                warning.contains(part),
                "{why}: `gomig current` should name {part:?}:\n{warning}"
            );
        }
        let json: serde_json::Value =
            serde_json::from_str(&support::ok(&mut c.env.gomig_in(&dir, &["current", "--json"]))).unwrap();
        assert!(
            json["conflict"].as_str().is_some_and(|c| c.contains(&gomod)),
            "{why}: {json}"
        );
        let doctor = support::run(&mut c.env.gomig_in(&dir, &["doctor"]));
        let text = format!("{}{}", support::stdout(&doctor), support::stderr(&doctor));
        assert!(text.contains(&pin) && text.contains(&gomod), "{why}: doctor:\n{text}");
    };
    // A toolchain that meets go.mod is installed (1.22.10).
    expect("requirement met by an installed toolchain", "requires go1.22.0");
    // None is: the requirement still counts.
    c.write("app/go.mod", "module app\n\n// comment\ngo 1.23.0\n");
    expect("requirement met by no installed toolchain", "requires go1.23.0");
    // No conflict when the pin is new enough.
    c.write("app/.go-version", "1.22.10\n");
    c.write("app/go.mod", "module app\n\n// comment\ngo 1.22.0\n");
    let current = support::run(&mut c.env.gomig_in(&dir, &["current"]));
    assert!(
        !support::stderr(&current).contains("warning"),
        "{}",
        support::describe(&current)
    );
    // A newer toolchain line alone is a suggestion Go does not enforce: no conflict.
    c.write("app/go.mod", "module app\n\ngo 1.22.0\n\ntoolchain go1.23.9\n");
    let current = support::run(&mut c.env.gomig_in(&dir, &["current"]));
    assert!(
        !support::stderr(&current).contains("warning"),
        "{}",
        support::describe(&current)
    );
}

#[test]
fn current_names_the_line_that_decided_by_kind_and_number() {
    let c = Case::new(&["go1.21.13", "go1.23.9"], Some("go1.21.13"));
    // (go.mod, the line that decides, its number, as written)
    let cases = [
        (
            "module a\n\ngo 1.23.0\n\ntoolchain go1.23.9\n",
            "toolchain",
            5,
            "go1.23.9",
        ),
        ("module a\n\ngo 1.23.9\n\ntoolchain go1.23.0\n", "go", 3, "1.23.9"),
        ("module a\n\ngo 1.23.0\n", "go", 3, "1.23.0"),
        ("module a\ntoolchain go1.23.2\n", "toolchain", 2, "go1.23.2"),
        // Base satisfies: still the line that set the requirement.
        (
            "module a\n\ngo 1.21.0\ntoolchain go1.21.5\n",
            "toolchain",
            4,
            "go1.21.5",
        ),
    ];
    for (i, (gomod, kind, line, text)) in cases.into_iter().enumerate() {
        let rel = format!("m{i}");
        c.write(&format!("{rel}/go.mod"), gomod);
        let dir = c.env.dir(&rel);
        let out = support::ok(&mut c.env.gomig_in(&dir, &["current"]));
        let want = format!("{} {kind} line {line} ({text})", dir.join("go.mod").display());
        assert!(out.contains(&want), "{gomod:?}: want {want:?} in:\n{out}");
        let other = if kind == "go" { "toolchain line" } else { "go line" };
        assert!(!out.contains(other), "{gomod:?}: {out}");
        let json: serde_json::Value =
            serde_json::from_str(&support::ok(&mut c.env.gomig_in(&dir, &["current", "--json"]))).unwrap();
        assert_eq!(json["decided_by"]["kind"], kind, "{json}");
        assert_eq!(json["decided_by"]["line"], line, "{json}");
        assert_eq!(json["decided_by"]["text"], text, "{json}");
        assert_eq!(json["line"], line, "{json}");
    }
    // No go.mod: nothing decided by a line.
    let json: serde_json::Value = serde_json::from_str(&support::ok(
        &mut c.env.gomig_in(&c.env.dir("plain"), &["current", "--json"]),
    ))
    .unwrap();
    assert!(json["decided_by"].is_null(), "{json}");
}
