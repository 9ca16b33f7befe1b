//! `state/history` stays bounded and meaningful (issue 10, item 13): at most
//! `HISTORY_LIMIT` entries, no two equal neighbours, never the default at the top; and
//! rollback still walks back through it.

mod support;

use std::fs;

use support::*;

const LIMIT: usize = gomig::store::HISTORY_LIMIT;

fn history(env: &TestEnv) -> Vec<String> {
    fs::read_to_string(env.gomig_home.join("state/history"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn assert_meaningful(history: &[String], default: &str, when: &str) {
    assert!(
        history.len() <= LIMIT,
        "{when}: {} entries, more than {LIMIT}",
        history.len()
    );
    for pair in history.windows(2) {
        assert_ne!(pair[0], pair[1], "{when}: equal neighbours in {history:?}");
    }
    assert_ne!(
        history.last().map(String::as_str),
        Some(default),
        "{when}: the default {default} is the rollback target in {history:?}"
    );
}

#[test]
fn sixty_switches_leave_a_bounded_history_that_rollback_still_walks_back() {
    let env = TestEnv::new();
    let names = ["go1.20.1", "go1.21.1", "go1.22.1"];
    for name in names {
        env.fake_toolchain(name);
    }
    // Back and forth, with a third now and then: A B A C A B A C ...
    let order = [0, 1, 0, 2];
    for i in 0..60 {
        let name = names[order[i % order.len()]];
        env.gomig_ok(&["switch", name, "--no-verify"]);
        assert_meaningful(&history(&env), name, &format!("after switch {i} to {name}"));
    }
    let h = history(&env);
    assert_eq!(h.len(), LIMIT, "59 previous defaults, the newest {LIMIT} kept: {h:?}");
    // The newest entries are the previous defaults, newest last.
    let expected: Vec<String> = (0..59).map(|i| names[order[i % order.len()]].to_string()).collect();
    assert_eq!(h, expected[59 - LIMIT..], "the oldest entries are the ones dropped");

    // Rollback walks back one entry at a time, to each previous default in turn.
    let mut before = h;
    for step in 0..10 {
        let target = before.last().unwrap().clone();
        env.gomig_ok(&["rollback", "--no-verify"]);
        assert_eq!(env.default_name(), target, "rollback {step}");
        let after = history(&env);
        assert_eq!(
            after,
            before[..before.len() - 1],
            "rollback {step} drops only its target"
        );
        assert_meaningful(&after, &target, &format!("after rollback {step}"));
        before = after;
    }
}

#[test]
fn prune_leaves_no_equal_neighbours_in_the_history() {
    let env = TestEnv::new();
    let (a, b, c) = ("go1.20.1", "go1.21.1", "go1.22.1");
    for name in [a, b, c] {
        env.fake_toolchain(name);
        env.gomig_ok(&["snapshot", name]);
    }
    for name in [a, b, a, c] {
        env.gomig_ok(&["switch", name, "--no-verify"]);
    }
    assert_eq!(history(&env), [a, b, a]);
    // b is neither the default, the rollback target nor in the last 1 of the history.
    let out = env.gomig_ok(&["prune", "--keep", "1", "--no-archive"]);
    assert!(!env.gomig_home.join("toolchains").join(b).exists(), "{out}");
    assert_eq!(
        history(&env),
        [a],
        "a b a without b is one step back to a, not two:\n{out}"
    );
    env.gomig_ok(&["rollback", "--no-verify"]);
    assert_eq!(env.default_name(), a);
    assert_eq!(history(&env), Vec::<String>::new());
}
