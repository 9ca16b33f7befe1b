//! The shim and `gomig current` share one resolver: on hundreds of generated layouts (files at
//! random depths, random contents, environment overrides) they pick the same toolchain, or
//! fail with the same message.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::*;

/// xorshift64*: deterministic per seed, so a failure can be replayed with GOMIG_AGREE_SEED.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const TOOLCHAINS: &[&str] = &[
    "go1.20",
    "go1.21.13",
    "go1.22.3",
    "go1.22.10",
    "go1.23rc1",
    "go1.23.9",
    "go1.24.11",
];
const PINS: &[&str] = &[
    "1.22.10",
    "go1.22.3",
    "1.22",
    "1.23",
    "1",
    "latest",
    "system",
    "1.24.11",
    "1.25.0",
    "1.23rc1",
    "garbage",
    "1.22/../../x",
    "",
    "# just a comment\n",
    "\u{feff}1.21.13\r\n",
    "  1.20  ",
];
const GO_LINES: &[&str] = &[
    "1.20",
    "1.21",
    "1.22",
    "1.22.5",
    "1.23.0",
    "1.23rc1",
    "1.24",
    "1.26.1",
    "1.x",
    "1.21.0 // c",
];
const TOOLCHAIN_LINES: &[&str] = &["go1.22.10", "go1.23.4", "default", "go1.21.1", "go1.99.0", "bogus"];

const GOTOOLCHAINS: &[&str] = &[
    "local",
    "auto",
    "path",
    "local+auto",
    "go1.23.9",
    "go1.22.10+auto",
    "go1.21.13+path",
    "go1.99.0",
    "go1.22",
    "bash",
    "go1.23.9+never",
];

/// What the exec'd go must see for a GOTOOLCHAIN setting (docs/resolution.md, GOTOOLCHAIN).
fn child_gotoolchain(setting: Option<&str>) -> String {
    match setting {
        None | Some("local") => "local".into(),
        Some("auto" | "path" | "local+auto" | "local+path") => "path".into(),
        Some(v) => match v.split_once('+') {
            Some((name, _)) => format!("{name}+path"),
            None => v.to_string(),
        },
    }
}

struct Layout {
    dir: PathBuf,
    vars: Vec<(String, String)>,
}

fn go_mod(rng: &mut Rng, module: bool) -> String {
    let mut text = String::new();
    if module {
        text.push_str("module example.com/x\n\n");
    }
    if rng.chance(30) {
        text.push_str("require (\n\tgo v1.0.0\n\ttoolchain v1.0.0\n)\n");
    }
    if rng.chance(85) {
        text.push_str(&format!("go {}\n", rng.pick(GO_LINES)));
    }
    if rng.chance(40) {
        text.push_str(&format!("toolchain {}\n", rng.pick(TOOLCHAIN_LINES)));
    }
    if rng.chance(30) {
        text = text.replace('\n', "\r\n");
    }
    text
}

fn generate(env: &TestEnv, rng: &mut Rng, case: usize, system_bin: &Path) -> Layout {
    let root = env.work.join(format!("case{case}"));
    let depth = 1 + rng.below(8);
    let mut dir = root.clone();
    for level in 0..depth {
        dir = dir.join(format!("d{level}"));
        fs::create_dir_all(&dir).unwrap();
        if rng.chance(12) {
            fs::write(dir.join(".go-version"), rng.pick(PINS)).unwrap();
        }
        if rng.chance(6) {
            fs::write(
                dir.join(".tool-versions"),
                format!("nodejs 20\ngolang {}\n", rng.pick(PINS)),
            )
            .unwrap();
        }
        if rng.chance(25) {
            fs::write(dir.join("go.mod"), go_mod(rng, true)).unwrap();
        }
        if rng.chance(10) {
            fs::write(dir.join("go.work"), go_mod(rng, false) + "use .\n").unwrap();
        }
    }
    let mut vars = vec![(
        "PATH".to_string(),
        format!("{}:{}:/usr/bin:/bin", env.shims_dir().display(), system_bin.display()),
    )];
    if rng.chance(10) {
        vars.push(("GOMIG_GO_VERSION".into(), rng.pick(PINS).trim().to_string()));
    }
    if rng.chance(10) {
        let gowork = match rng.below(3) {
            0 => "off".to_string(),
            1 => root.join("d0/go.work").display().to_string(),
            _ => "relative/go.work".to_string(),
        };
        vars.push(("GOWORK".into(), gowork));
    }
    if rng.chance(8) {
        vars.push(("GOROOT".into(), "/stale/goroot".into()));
    }
    if rng.chance(12) {
        vars.push(("GOTOOLCHAIN".into(), rng.pick(GOTOOLCHAINS).to_string()));
    }
    Layout { dir, vars }
}

/// Rebuilds the store: a random subset of toolchains and a random default (sometimes none or
/// dangling).
fn reset_store(env: &TestEnv, rng: &mut Rng) {
    let tc = env.gomig_home.join("toolchains");
    let _ = fs::remove_dir_all(&tc);
    let _ = fs::remove_file(env.gomig_home.join("default"));
    let mut installed = Vec::new();
    for name in TOOLCHAINS {
        if rng.chance(60) {
            env.fake_toolchain(name);
            installed.push(*name);
        }
    }
    fs::create_dir_all(&tc).unwrap();
    match rng.below(10) {
        0 => {}
        1 => env.set_default_link("go1.25.0"),
        _ if !installed.is_empty() => env.set_default_link(installed[rng.below(installed.len())]),
        _ => {}
    }
}

#[test]
fn shim_and_current_agree_on_generated_layouts() {
    let seed = std::env::var("GOMIG_AGREE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_abcd_0001u64);
    let cases: usize = std::env::var("GOMIG_AGREE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut rng = Rng(seed);
    let env = TestEnv::new();
    env.install_shims();
    let system_bin = env.dir("system-bin");
    let sys_go = system_bin.join("go");
    fs::write(&sys_go, "#!/bin/sh\necho \"system go GOROOT=$GOROOT\"\n").unwrap();
    fs::set_permissions(&sys_go, fs::Permissions::from_mode(0o755)).unwrap();

    let (mut agreed_ok, mut agreed_err) = (0, 0);
    for case in 0..cases {
        if case % 20 == 0 {
            reset_store(&env, &mut rng);
        }
        let layout = generate(&env, &mut rng, case, &system_bin);
        let mut shim = env.go_in(&layout.dir, &["version"]);
        let mut current = env.gomig_in(&layout.dir, &["current", "--json"]);
        for (k, v) in &layout.vars {
            shim.env(k, v);
            current.env(k, v);
        }
        let shim_out = run(&mut shim);
        let cur_out = run(&mut current);
        let context = format!(
            "case {case} (seed {seed:#x}) in {}\nvars {:?}",
            layout.dir.display(),
            layout.vars
        );
        match (shim_out.status.success(), cur_out.status.success()) {
            (true, true) => {
                let json: serde_json::Value = serde_json::from_slice(&cur_out.stdout).unwrap();
                let printed = stdout(&shim_out);
                let version = json["version"].as_str().unwrap();
                if version == "system" {
                    assert!(
                        printed.starts_with("system go"),
                        "{context}\nshim: {printed}\ncurrent: {json}"
                    );
                    assert_eq!(json["exe"].as_str().unwrap(), sys_go.to_str().unwrap(), "{context}");
                } else {
                    let goroot = json["goroot"].as_str().unwrap();
                    let setting = layout
                        .vars
                        .iter()
                        .find(|(k, _)| k == "GOTOOLCHAIN")
                        .map(|(_, v)| v.as_str());
                    let seen = child_gotoolchain(setting);
                    assert_eq!(
                        printed.trim(),
                        format!("{version} go GOROOT={goroot} GOTOOLCHAIN={seen} args=version"),
                        "{context}\ncurrent: {json}"
                    );
                }
                agreed_ok += 1;
            }
            (false, false) => {
                let shim_msg = stderr(&shim_out).trim().strip_prefix("gomig: ").map(str::to_string);
                let cur_msg = stderr(&cur_out).trim().strip_prefix("error: ").map(str::to_string);
                assert_eq!(shim_out.status.code(), Some(1), "{context}\n{}", describe(&shim_out));
                assert_eq!(shim_msg, cur_msg, "{context}");
                agreed_err += 1;
            }
            _ => panic!(
                "{context}\nshim:\n{}\ncurrent:\n{}",
                describe(&shim_out),
                describe(&cur_out)
            ),
        }
    }
    eprintln!("{agreed_ok} layouts resolved alike, {agreed_err} failed alike");
    assert!(
        agreed_ok > cases / 4 && agreed_err > cases / 20,
        "the generator should exercise both outcomes"
    );
}

/// The trust rule lives in the resolver too, so the shim and `gomig current` refuse an
/// untrusted store alike, with the same message naming the path.
#[test]
fn shim_and_current_agree_on_untrusted_stores() {
    let env = TestEnv::new();
    env.install_shims();
    env.fake_toolchain("go1.22.10");
    env.set_default_link("go1.22.10");
    let config = env.root().join("config.toml");
    fs::write(&config, "").unwrap();
    let tree = env.gomig_home.join("toolchains/go1.22.10");
    let cases = [
        (env.gomig_home.clone(), 0o775, 0o755),
        (env.gomig_home.clone(), 0o757, 0o755),
        (env.root().to_path_buf(), 0o777, 0o700),
        (env.gomig_home.join("toolchains"), 0o777, 0o755),
        (tree.clone(), 0o777, 0o755),
        (tree.join("bin/go"), 0o777, 0o755),
        (config.clone(), 0o666, 0o644),
    ];
    for (path, bad, good) in cases {
        fs::set_permissions(&path, fs::Permissions::from_mode(bad)).unwrap();
        let shim_out = run(&mut env.go_in(&env.work, &["version"]));
        let cur_out = run(&mut env.gomig(&["current", "--json"]));
        fs::set_permissions(&path, fs::Permissions::from_mode(good)).unwrap();
        assert_eq!(shim_out.status.code(), Some(1), "{}", describe(&shim_out));
        assert_eq!(cur_out.status.code(), Some(1), "{}", describe(&cur_out));
        let shim_msg = stderr(&shim_out).trim().strip_prefix("gomig: ").map(str::to_string);
        let cur_msg = stderr(&cur_out).trim().strip_prefix("error: ").map(str::to_string);
        assert_eq!(shim_msg, cur_msg, "{} mode {bad:o}", path.display());
        let msg = shim_msg.unwrap();
        assert!(
            msg.contains(&format!("{} is writable by other users", path.display())),
            "{msg}"
        );
    }
    assert!(run(&mut env.go_in(&env.work, &["version"])).status.success());
}
