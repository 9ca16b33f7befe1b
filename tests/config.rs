//! `gomig config`: settings read and changed in place (comments kept, nothing written that would
//! not load), and a `--mirror` that worked is offered to be kept.

#[path = "support/dlsite.rs"]
mod dlsite;
#[path = "support/install_kit.rs"]
mod kit;
mod support;

use std::fs;

use kit::mini_site;
use support::*;

#[test]
fn config_shows_sets_and_unsets_keeping_the_users_comments() {
    let env = TestEnv::new();
    let file = env.root().join("config.toml");
    let shown = env.gomig_ok(&["config"]);
    assert!(shown.contains(&format!("# {}", file.display())), "{shown}");
    assert!(shown.contains("auto_install   false"), "{shown}");

    fs::write(&file, "# our team's settings\nauto_install = false # for now\n").unwrap();
    env.gomig_ok(&["config", "set", "mirror", "https://mirror.example/dl/"]);
    env.gomig_ok(&["config", "set", "auto_install", "true"]);
    env.gomig_ok(&["config", "set", "project_roots", "/src/a, /src/b"]);
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# our team's settings\n"), "{text}");
    assert!(text.contains("mirror = \"https://mirror.example/dl/\""), "{text}");
    assert!(text.contains("auto_install = true"), "{text}");
    assert_eq!(
        env.gomig_ok(&["config", "get", "project_roots"]).trim(),
        "/src/a,/src/b"
    );
    assert_eq!(env.gomig_ok(&["config", "get", "auto_install"]).trim(), "true");

    // A value the file could not hold is refused and the file is left as it was.
    let err = fails(&mut env.gomig(&["config", "set", "auto_install", "yes"]));
    assert!(
        err.contains("auto_install is true or false") && err.contains("gomig config set auto_install true"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), text);

    env.gomig_ok(&["config", "unset", "mirror"]);
    assert!(!fs::read_to_string(&file).unwrap().contains("mirror"));
    assert!(env.gomig_ok(&["config", "get", "mirror"]).contains("not set"));
}

#[test]
fn a_mirror_given_once_is_offered_to_be_kept_and_then_used() {
    let m = mini_site();
    let env = TestEnv::new();
    let url = m.site.url();
    let out = run(&mut env.gomig(&["install", GO_122, "--mirror", &url]));
    assert!(out.status.success(), "{}", describe(&out));
    let hint = format!("gomig config set mirror {url}");
    assert!(stderr(&out).contains(&hint), "{}", describe(&out));

    env.gomig_ok(&["config", "set", "mirror", &url]);
    env.gomig_ok(&["uninstall", GO_122, "--force"]);
    // No --mirror, no GOMIG_MIRROR: the saved one.
    let out = run(&mut env.gomig(&["install", GO_122]));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(!stderr(&out).contains("gomig config set mirror"), "{}", describe(&out));
}
