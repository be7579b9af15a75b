//! The CLI runner end to end: each case runs a stack program in a child process (this test
//! binary re-executed), with no terminal on stdin, and checks exit codes and output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use strata::prelude::*;
use strata::testing::{Call, MemCloud, Mock, MockHandle};

/// The stack program the children run: its cloud lives in `$STRATA_TEST_DIR/cloud.json`.
fn child_main() -> ! {
    let dir = std::env::var("STRATA_TEST_DIR").unwrap();
    let cloud = MemCloud::persistent(Path::new(&dir).join("cloud.json")).unwrap();
    if let Ok(name) = std::env::var("STRATA_TEST_FAIL") {
        cloud.fail_on(&name, Call::Create);
    }
    let args: Vec<String> =
        serde_json::from_str(&std::env::var("STRATA_TEST_ARGS").unwrap()).unwrap();
    // Something another tool made, named `STRATA_TEST_FOREIGN`.
    if let Ok(name) = std::env::var("STRATA_TEST_FOREIGN") {
        if !cloud
            .resources()
            .iter()
            .any(|r| r.unique.as_deref() == Some(name.as_str()))
        {
            cloud.add_foreign(&name, &[("owner", "another-team")]);
        }
    }
    let db_name = std::env::var("STRATA_TEST_DB_NAME").ok();
    // Each call on the database takes this long (for tests that interrupt a run).
    let slow = std::env::var("STRATA_TEST_SLOW_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let code = strata::cli::Program::new(move |s: &mut Stack| {
        let size = s.config_or("size", "1");
        let vpc = s.add("vpc", Mock::new().prop("cidr", "10.0.0.0/16"));
        let mut db = Mock::new()
            .prop("vpc", vpc.id())
            .prop("size", size)
            .secret("pw-plaintext");
        if let Some(n) = &db_name {
            db = db.name(n.clone());
        }
        if slow > 0 {
            db = db.duration(std::time::Duration::from_millis(slow));
        }
        let db = s.add("db", db);
        s.add("app", Mock::new().prop("db", db.arn()));
        s.export("db_arn", db.arn());
        s.export("vpc_id", vpc.id());
    })
    .context(Context::new().with(cloud))
    .run_from(std::iter::once("prog".to_owned()).chain(args));
    // ExitCode has no accessor; map through the debug form.
    let text = format!("{code:?}");
    let n: i32 = text
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(1);
    std::process::exit(n)
}

#[test]
fn child_entry() {
    if std::env::var("STRATA_TEST_ARGS").is_ok() {
        child_main();
    }
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_entry",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env("STRATA_TEST_DIR", dir)
    .env("STRATA_TEST_ARGS", serde_json::to_string(args).unwrap())
    .env(
        "STRATA_BACKEND",
        format!("file://{}", dir.join("state").display()),
    )
    .env_remove("STRATA_TEST_FAIL")
    .env("STRATA_PASSPHRASE", "cli-test-passphrase")
    .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    // Drop the test harness's own lines (it prefixes the first line of output too).
    let stdout = stdout
        .lines()
        .map(|l| l.strip_prefix("test child_entry ... ").unwrap_or(l))
        .filter(|l| !l.starts_with("running ") && !l.is_empty() && !l.starts_with("test result"))
        .collect::<Vec<_>>()
        .join("\n");
    (
        status.code().unwrap_or(-1),
        stdout,
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[test]
fn up_preview_output_state_and_destroy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let (code, out, err) = run(d, &["up"], &[]);
    assert_eq!(
        code, 2,
        "up without --yes and without a terminal is a usage error: {out}{err}"
    );
    assert!(err.contains("pass --yes"), "{err}");

    let (code, out, err) = run(d, &["up", "--yes"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("plan: 3 to create"), "{out}");
    assert!(out.contains("up: 3 created"), "{out}");
    assert!(
        out.contains("db_arn") && out.contains("arn:mem:mock:"),
        "{out}"
    );
    assert!(!out.contains("pw-plaintext") && !err.contains("pw-plaintext"));
    for f in ["dev.json", "dev.journal"] {
        let text = std::fs::read_to_string(d.join("state").join(f)).unwrap_or_default();
        assert!(!text.contains("pw-plaintext"), "{f}: {text}");
    }

    let (code, out, _) = run(d, &["up", "--yes", "--expect-no-changes"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 unchanged"), "{out}");

    let (code, out, _) = run(
        d,
        &["preview", "--expect-no-changes", "--config", "size=2"],
        &[],
    );
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("props.size: \"1\" → \"2\""), "{out}");
    let (code, out, _) = run(d, &["preview"], &[("STRATA_CONFIG_SIZE", "2")]);
    assert_eq!(code, 0);
    assert!(out.contains("1 to update"), "{out}");

    let (code, out, _) = run(d, &["output", "vpc_id"], &[]);
    assert_eq!(code, 0);
    assert!(out.trim().starts_with("mock-"), "{out}");
    let (code, _, err) = run(d, &["output", "nope"], &[]);
    assert_eq!(code, 2, "{err}");

    let (code, out, _) = run(d, &["state", "list"], &[]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 3, "{out}");
    let (code, out, _) = run(d, &["state", "show", "db"], &[]);
    assert_eq!(code, 0);
    assert!(
        out.contains("[secret]") && !out.contains("pw-plaintext"),
        "{out}"
    );
    let (_, out, _) = run(d, &["state", "show", "db", "--show-secrets"], &[]);
    assert!(out.contains("pw-plaintext"), "{out}");

    let (code, out, _) = run(d, &["graph", "--format", "dot"], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("digraph") && out.contains("n0 -> n1"), "{out}");

    let (code, out, err) = run(d, &["destroy", "--yes"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("destroy: 3 deleted"), "{out}");
    let cloud: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("cloud.json")).unwrap()).unwrap();
    assert_eq!(cloud["resources"], serde_json::json!({}));
}

#[test]
fn json_events_failures_and_targets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, out, err) = run(
        d,
        &["up", "--yes", "--json"],
        &[("STRATA_TEST_FAIL", "db"), ("STRATA_LOG", "trace")],
    );
    assert_eq!(code, 1, "a failed step exits 1: {out}{err}");
    // Neither the JSON events nor the trace logs hold the secret.
    assert!(err.contains("step"), "no trace logs: {err}");
    assert!(!out.contains("pw-plaintext") && !err.contains("pw-plaintext"));
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(
        kinds.contains(&"plan") && kinds.contains(&"step_failed"),
        "{kinds:?}"
    );
    let skipped = events
        .iter()
        .find(|e| e["event"] == "step_skipped")
        .unwrap();
    assert_eq!(skipped["urn"], "urn:strata:dev::test:mock::app");
    let summary = events.iter().find(|e| e["event"] == "summary").unwrap();
    assert_eq!(summary["failed"].as_array().unwrap().len(), 1);

    // --target by name: only vpc (already there) and db.
    let (code, out, _) = run(d, &["up", "--yes", "--target", "db"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("up: 1 created"), "{out}");
    let (_, out, _) = run(d, &["preview"], &[]);
    assert!(out.contains("1 to create"), "{out}");
    let (code, _, err) = run(d, &["up", "--yes", "--target", "ghost"], &[]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_held_lock_fails_naming_the_holder_until_unlocked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let be = strata_core::FileBackend::new(d.join("state"));
    let held = rt
        .block_on(strata_core::Backend::lock(
            &be,
            "dev",
            "up",
            std::time::Duration::ZERO,
        ))
        .unwrap();
    let (code, out, err) = run(d, &["up", "--yes"], &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&held.id) && err.contains("state unlock") && err.contains("looks alive"),
        "{err}"
    );
    // The plan is made under the lock: none is shown while another run holds it.
    assert!(!out.contains("to create"), "{out}");
    let (code, _, err) = run(d, &["up", "--yes", "--lock-timeout", "1s"], &[]);
    assert_eq!(code, 1, "{err}");
    // The holder looks alive: releasing its lock takes a confirmation.
    let (code, out, err) = run(d, &["state", "unlock", &held.id], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("looks alive") && err.contains("pass --yes"),
        "{out}{err}"
    );
    let (code, out, err) = run(d, &["state", "unlock", &held.id, "--yes"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(d, &["up", "--yes"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, _) = run(d, &["bogus-command"], &[]);
    assert_eq!(code, 2);
}

#[test]
fn an_s3_backend_is_bootstrapped_and_used_end_to_end() {
    let aws = strata_testkit::LocalAws::shared();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let env = [
        ("AWS_ENDPOINT_URL", aws.endpoint()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", strata_testkit::REGION),
        (
            "STRATA_BACKEND",
            "s3://strata-cli-state/team?lock_table=cli-locks",
        ),
    ];
    for _ in 0..2 {
        let (code, out, err) = run(d, &["backend", "bootstrap"], &env);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("is ready"), "{out}");
        assert!(
            out.contains("secrets key alias/strata-state is ready"),
            "{out}"
        );
    }
    let mut bad = env.to_vec();
    bad.push(("STRATA_SECRETS_PROVIDER", "vault://x"));
    let (code, _, err) = run(d, &["preview"], &bad);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("expected `passphrase` or `awskms://KEY`"),
        "{err}"
    );
    let (code, out, err) = run(d, &["up", "--yes"], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("up: 3 created"), "{out}");
    let (code, out, err) = run(d, &["up", "--yes", "--expect-no-changes"], &env);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(d, &["state", "list"], &env);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 3, "{out}");
    let (code, out, err) = run(d, &["destroy", "--yes"], &env);
    assert_eq!(code, 0, "{out}{err}");
}

/// A name conflict never strands the stack: the failed step says why and leaves nothing
/// pending; after a rename `up` goes through, and `destroy` leaves the other team's
/// resource alone. No hand edit of state at any point. `state rm` and `state pending drop`
/// are the escape hatches.
#[test]
fn a_name_conflict_then_a_rename_then_destroy_without_touching_state() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let taken = [
        ("STRATA_TEST_FOREIGN", "shop-db"),
        ("STRATA_TEST_DB_NAME", "shop-db"),
    ];
    let (code, out, err) = run(d, &["up", "--yes"], &taken);
    assert_eq!(code, 1, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("not managed by this stack"), "{all}");
    assert!(all.contains("import test:mock db"), "{all}");
    let (code, out, err) = run(d, &["state", "pending"], &taken);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no pending operations"), "{out}");
    for op in [&["refresh"][..], &["preview"][..]] {
        let (code, out, err) = run(d, op, &taken);
        assert_eq!(code, 0, "{op:?} after the conflict: {out}{err}");
    }

    let renamed = [
        ("STRATA_TEST_FOREIGN", "shop-db"),
        ("STRATA_TEST_DB_NAME", "shop-db-2"),
    ];
    let (code, out, err) = run(d, &["up", "--yes"], &renamed);
    assert_eq!(code, 0, "{out}{err}");

    // state rm forgets without deleting; the audit records it.
    let (code, out, err) = run(d, &["state", "rm", "app"], &renamed);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(d, &["state", "pending", "drop", "no-such-token"], &renamed);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no pending operation has token"), "{err}");
    let state = std::fs::read_to_string(d.join("state").join("dev.json")).unwrap();
    assert!(
        state.contains("\"audit\"") && state.contains("state rm urn:strata:dev::test:mock::app"),
        "{state}"
    );

    // The forgotten `app` still uses the database: as AWS would, the cloud refuses to
    // delete it, and the destroy says so.
    let (code, out, err) = run(d, &["destroy", "--yes"], &renamed);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("still used by"), "{out}");
    // Its owner deletes it by hand; then the destroy finishes.
    let path = d.join("cloud.json");
    let mut cloud: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    cloud["resources"]
        .as_object_mut()
        .unwrap()
        .retain(|_, r| !r["urn"].as_str().unwrap_or("").ends_with("::app"));
    std::fs::write(&path, serde_json::to_vec(&cloud).unwrap()).unwrap();
    let (code, out, err) = run(d, &["destroy", "--yes"], &renamed);
    assert_eq!(code, 0, "{out}{err}");
    let cloud: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let left: Vec<&serde_json::Value> = cloud["resources"].as_object().unwrap().values().collect();
    assert_eq!(left.len(), 1, "{cloud}");
    assert_eq!(left[0]["props"]["owner"], "another-team", "{cloud}");
}

#[test]
fn bad_stack_and_import_names_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        &["--stack", "../x", "preview"][..],
        &["--stack", "", "preview"][..],
        &["import", "test:mock", "", "mock-1"][..],
        &["import", "test:mock", "a::b", "mock-1"][..],
        &["import", "", "a", "mock-1"][..],
    ] {
        let (code, out, err) = run(d, args, &[]);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
    }
    // Nothing was written.
    assert!(!d.join("state").exists());
}

/// SIGTERM (how CI runners cancel a job) is handled like Ctrl-C: nothing new starts, the
/// running step finishes, state is saved and the lock released.
#[cfg(unix)]
#[test]
fn sigterm_stops_the_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_entry",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env("STRATA_TEST_DIR", d)
    .env(
        "STRATA_TEST_ARGS",
        serde_json::to_string(&["up", "--yes"]).unwrap(),
    )
    .env(
        "STRATA_BACKEND",
        format!("file://{}", d.join("state").display()),
    )
    .env("STRATA_PASSPHRASE", "cli-test-passphrase")
    .env("STRATA_TEST_SLOW_MS", "1500")
    .env_remove("STRATA_TEST_FAIL")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Once the vpc exists, the database's create (1.5 s) is under way and app waits.
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(d.join("cloud.json"))
        .unwrap_or_default()
        .contains("\"name\":\"vpc\"")
    {
        assert!(start.elapsed().as_secs() < 30, "the run never made the vpc");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stderr.contains("SIGTERM: stopping"), "{stdout}{stderr}");
    assert!(
        stdout.contains("skipped") || stdout.contains("cancelled"),
        "{stdout}"
    );
    // The running step finished and was saved; the lock is gone; a new run finishes.
    assert!(
        !d.join("state").join("dev.lock").exists(),
        "the lock was left"
    );
    let (code, out, err) = run(d, &["up", "--yes"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 created"), "only app was left: {out}");
}
