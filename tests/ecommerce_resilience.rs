//! The e-commerce stack under stress, against private local AWS servers:
//! - **crash:** `up` killed with SIGKILL at evenly spaced moments across a deploy
//!   (`STRATA_KILL_ROUNDS`, default 10), each followed by one `up` to the end: the account
//!   holds exactly what a clean deploy makes (no duplicate, no orphan), and state matches
//!   it (a preview plans nothing);
//! - **lock:** two `up` processes at once on the S3 backend: one runs, the other is
//!   refused with the holder's details, and state is intact;
//! - **faults:** a fault-injecting HTTP layer under the SDK answers a share of calls with
//!   throttling and 5xx errors; `up` still converges to the same account.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

#[path = "../examples/ecommerce.rs"]
#[allow(dead_code, unused_imports)]
mod ecommerce;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata::prelude::*;
use strata_core::aws::Aws;
use strata_core::{FileBackend, MemoryBackend};
use strata_testkit::LocalAws;
use support::inventory::inventory;

/// The example binary, which `cargo test` builds next to the test binaries.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().unwrap().parent().unwrap();
    let bin = debug.join("examples").join("ecommerce");
    assert!(
        bin.exists(),
        "{} (cargo test builds examples)",
        bin.display()
    );
    bin
}

async fn ami(conf: &aws_config::SdkConfig) -> String {
    support::first_ami(conf).await
}

/// The example as a process against `aws`, with state at `backend`.
fn cli(aws: &LocalAws, ami: &str, backend: &str, args: &[&str]) -> Command {
    let mut c = Command::new(example());
    c.env("AWS_ENDPOINT_URL", aws.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", strata_testkit::REGION)
        .env("STRATA_PASSPHRASE", "resilience")
        .env("STRATA_CONFIG_AMI", ami)
        .env("STRATA_CONFIG_ACCOUNT_ID", "123456789012")
        .env("STRATA_CONFIG_DELETION_PROTECTION", "false")
        .env("STRATA_BACKEND", backend)
        .args(["--stack", "shop", "--parallel", "10"])
        .args(args)
        .stdin(Stdio::null());
    c
}

fn run(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    eprintln!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// How many resources of each kind `after` adds to `before`.
fn added(before: &BTreeSet<String>, after: &BTreeSet<String>) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for k in after.difference(before) {
        *kinds
            .entry(k.split(':').next().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    kinds
}

/// What a clean deploy of the stack adds to an empty local AWS, per kind, and how long its
/// `up` took.
async fn clean_deploy() -> (BTreeMap<String, usize>, Duration) {
    let aws = LocalAws::start().unwrap();
    let conf = aws.sdk_config().await;
    let ami = ami(&conf).await;
    let before = inventory(&conf).await;
    let dir = tempfile::tempdir().unwrap();
    let backend = format!("file://{}", dir.path().display());
    let start = Instant::now();
    let out = run(&mut cli(&aws, &ami, &backend, &["up", "--yes"]));
    let took = start.elapsed();
    assert!(out.status.success());
    (added(&before, &inventory(&conf).await), took)
}

/// Kill rounds: `STRATA_KILL_ROUNDS` (default 10) moments spread evenly over one `up`.
fn kill_rounds() -> u32 {
    std::env::var("STRATA_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(10)
}

/// One `up` SIGKILLed at each of N moments spread evenly across the length of a clean
/// deploy (each on a fresh local AWS), then `up` again with no manual step but the unlock
/// that the refusal names: the account holds exactly what a clean deploy makes (no
/// duplicate, no orphan) and state matches it (a preview plans nothing).
#[tokio::test(flavor = "multi_thread")]
async fn killed_ups_leave_no_duplicate_and_no_orphan() {
    let (expected, took) = clean_deploy().await;
    let rounds = kill_rounds();
    eprintln!("a clean up took {took:?}; {rounds} kill rounds");
    for k in 1..=rounds {
        let at = took * k / (rounds + 1);
        eprintln!("round {k}: kill at {at:?}");
        let aws = LocalAws::start().unwrap();
        let conf = aws.sdk_config().await;
        let ami = ami(&conf).await;
        let before = inventory(&conf).await;
        let dir = tempfile::tempdir().unwrap();
        let backend = format!("file://{}", dir.path().display());
        let mut child = cli(&aws, &ami, &backend, &["up", "--yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while start.elapsed() < at {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap(); // SIGKILL: no cleanup, no lock release, no final save
        child.wait().unwrap();
        // The killed run's lock is still held: a new `up` names it and is refused.
        let out = run(&mut cli(&aws, &ami, &backend, &["up", "--yes"]));
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("locked by"), "round {k}: {err}");
            let held = strata_core::Backend::current_lock(&FileBackend::new(dir.path()), "shop")
                .await
                .unwrap()
                .expect("the killed run's lock");
            assert!(err.contains(&held.id), "the refusal names the lock: {err}");
            let out = run(&mut cli(
                &aws,
                &ami,
                &backend,
                &["state", "unlock", &held.id],
            ));
            assert!(out.status.success());
            let out = run(&mut cli(&aws, &ami, &backend, &["up", "--yes"]));
            assert!(
                out.status.success(),
                "round {k} (kill at {at:?}): up after the crash converges"
            );
        }
        let out = run(&mut cli(
            &aws,
            &ami,
            &backend,
            &["preview", "--expect-no-changes"],
        ));
        assert!(
            out.status.success(),
            "round {k} (kill at {at:?}): state matches the account"
        );
        let out = run(&mut cli(&aws, &ami, &backend, &["state", "pending"]));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("no pending operations"),
            "round {k}: nothing is left pending"
        );
        assert_eq!(
            added(&before, &inventory(&conf).await),
            expected,
            "round {k} (kill at {at:?}): exactly one of each declared resource"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_ups_at_once_on_s3_one_runs_and_the_other_is_refused_with_the_holder() {
    let aws = LocalAws::start().unwrap();
    let conf = aws.sdk_config().await;
    let ami = ami(&conf).await;
    let backend = "s3://shop-state/stacks";
    let out = run(&mut cli(&aws, &ami, backend, &["backend", "bootstrap"]));
    assert!(out.status.success());
    let a = cli(&aws, &ami, backend, &["up", "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = cli(&aws, &ami, backend, &["up", "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let ok = [&a, &b].iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "exactly one runs");
    let refused = if a.status.success() { &b } else { &a };
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("locked"), "{err}");
    assert!(err.contains("up"), "the holder's operation: {err}");
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    assert!(err.contains(&host), "the holder's host: {err}");
    let out = run(&mut cli(
        &aws,
        &ami,
        backend,
        &["preview", "--expect-no-changes"],
    ));
    assert!(out.status.success(), "state is intact and complete");
}

#[tokio::test(flavor = "multi_thread")]
async fn up_converges_through_throttling_and_server_errors() {
    let (expected, _) = clean_deploy().await;

    let aws = LocalAws::start().unwrap();
    let clean = aws.sdk_config().await;
    let ami = ami(&clean).await;
    let before = inventory(&clean).await;
    let (faulty, counts) = aws.faulty_sdk_config(15, 0x5eed).await;
    let engine = Engine::new(Arc::new(MemoryBackend::new()))
        .with_context(Context::new().with(Aws::new(faulty)))
        .with_registry(&strata::registry())
        .passphrase(Some("faults".into()))
        .parallel(10);
    let config = BTreeMap::from([
        ("ami".to_owned(), ami.clone()),
        ("deletion_protection".to_owned(), "false".to_owned()),
    ]);
    let mut s = Stack::new("shop").with_config(config);
    ecommerce::ecommerce(&mut s);
    let st = s.seal().unwrap();
    let sum = engine.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let again = engine.preview(&st, &[]).await.unwrap();
    assert!(!again.has_changes());
    assert!(
        counts.injected() > 20,
        "faults were injected: {} of {} calls",
        counts.injected(),
        counts.calls.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert!(counts.throttled.load(std::sync::atomic::Ordering::Relaxed) > 0);
    assert_eq!(added(&before, &inventory(&clean).await), expected);
}

/// A typed `--config` value that does not parse is a usage error naming the key, before
/// any state is read or AWS called: nothing deploys the default instead.
#[test]
fn a_config_value_of_the_wrong_type_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(example())
        .env("STRATA_BACKEND", dir.path().join("state"))
        // Nowhere: any AWS call would fail.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["--stack", "shop", "preview", "--config", "max_size=abc"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("configuration \"max_size\": \"abc\" is not a valid i32"),
        "{err}"
    );
    assert!(!dir.path().join("state").exists(), "no state was touched");
}
