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

/// A mirror that is not an http(s) URL is refused where it is typed, with install's own words,
/// and the file is left as it was; the same list with the typo fixed is saved.
#[test]
fn a_mirror_that_is_not_an_http_url_is_refused_by_config_set() {
    let env = TestEnv::new();
    let file = env.root().join("config.toml");
    fs::write(&file, "# ours\n").unwrap();
    for bad in [
        "htps://golang.google.cn/dl/",
        "https://go.dev/dl/,go.dev/dl/",
        "file:///srv/go",
    ] {
        let err = fails(&mut env.gomig(&["config", "set", "mirror", bad]));
        assert!(err.contains("is not an http:// or https:// URL"), "{bad}: {err}");
        assert!(err.contains("gomig config set mirror URL"), "{bad}: {err}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "# ours\n", "{bad}");
    }
    env.gomig_ok(&[
        "config",
        "set",
        "mirror",
        "https://golang.google.cn/dl/,https://go.dev/dl/",
    ]);
    assert_eq!(
        env.gomig_ok(&["config", "get", "mirror"]).trim(),
        "https://golang.google.cn/dl/,https://go.dev/dl/"
    );
}

#[test]
fn the_check_cache_bounds_are_set_in_their_own_table_and_a_bad_one_is_refused() {
    let env = TestEnv::new();
    let file = env.root().join("config.toml");
    fs::write(&file, "# ours\nauto_install = false\n").unwrap();
    env.gomig_ok(&["config", "set", "check_cache.max_size", "500MB"]);
    env.gomig_ok(&["config", "set", "check_cache.max_age", "2weeks"]);
    let text = fs::read_to_string(&file).unwrap();
    assert!(
        text.ends_with("\n[check_cache]\nmax_size = \"500MB\"\nmax_age = \"2weeks\"\n"),
        "{text}"
    );
    assert_eq!(env.gomig_ok(&["config", "get", "check_cache.max_size"]).trim(), "500MB");
    let cache: serde_json::Value = serde_json::from_str(&env.gomig_ok(&["cache", "--json"])).unwrap();
    assert_eq!(cache["caches"][0]["max_bytes"], 500_000_000, "{cache:#}");
    assert_eq!(cache["caches"][0]["max_age_seconds"], 14 * 24 * 3600, "{cache:#}");

    let err = fails(&mut env.gomig(&["config", "set", "check_cache.max_size", "lots"]));
    assert!(
        err.contains("check_cache.max_size is a size") && err.contains("gomig config set check_cache.max_size 2GiB"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), text);

    env.gomig_ok(&["config", "unset", "check_cache.max_size"]);
    assert!(
        env.gomig_ok(&["config", "get", "check_cache.max_size"])
            .contains("not set: 2GiB")
    );
    assert!(fs::read_to_string(&file).unwrap().contains("max_age = \"2weeks\""));
}
