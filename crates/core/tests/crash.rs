//! Crash safety: an apply killed with SIGKILL at random points, again and again, then run
//! to completion, leaves exactly the declared resources: no duplicates, no orphans.
//!
//! Each run is a child process (this test binary re-executed) using the file backend and a
//! persistent in-memory cloud in a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use strata_core::testing::{MemCloud, Mock, MockHandle};
use strata_core::*;

const N: usize = 24;

/// The declaration of round `variant`: 0 creates; 1 replaces some (one of them
/// delete-before-replace) and updates others; 2 also deletes the last third.
fn declare(s: &mut Stack, variant: u32) {
    let mut handles: Vec<Handle<Mock>> = Vec::new();
    let count = if variant >= 2 { N * 2 / 3 } else { N };
    for i in 0..count {
        let key = if variant >= 1 && (4..8).contains(&i) {
            "k1"
        } else {
            "k0"
        };
        let v = if variant >= 1 && i < 4 {
            "changed"
        } else {
            "v"
        };
        let mut args = Mock::new()
            .key(key)
            .prop("v", v)
            .duration(Duration::from_millis(20 + (i as u64 * 13) % 40));
        if i / 3 == 6 {
            // The dependents of the delete-before-replace n6 hold its id in their key:
            // they are replaced with it, deleted before it and made again after it (a
            // cloud refuses to delete what something live still uses).
            args = args.key(handles[6].id());
        } else if i >= 3 {
            args = args.prop("dep", handles[i / 3].id());
        }
        let opts = if i == 6 {
            ResourceOptions::new().delete_before_replace()
        } else {
            ResourceOptions::new()
        };
        handles.push(s.add_with(format!("n{i}"), args, opts));
    }
}

fn child_main(dir: &Path, variant: u32) -> ! {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let code = rt.block_on(async {
        let cloud = MemCloud::persistent(dir.join("cloud.json")).unwrap();
        let mut r = Registry::new();
        r.register::<Mock>();
        let e = Engine::new(Arc::new(FileBackend::new(dir.join("state"))))
            .with_context(Context::new().with(cloud))
            .with_registry(&r)
            .parallel(4);
        let mut s = Stack::new("dev");
        declare(&mut s, variant);
        match e.up(&s.seal().unwrap(), &RunOptions::default()).await {
            Ok(sum) if sum.is_success() => 0,
            Ok(sum) => {
                eprintln!("{sum:?}");
                1
            }
            Err(err) => {
                eprintln!("{err}");
                1
            }
        }
    });
    std::process::exit(code)
}

#[test]
fn crash_child() {
    if let (Ok(dir), Ok(v)) = (
        std::env::var("STRATA_CRASH_DIR"),
        std::env::var("STRATA_CRASH_VARIANT"),
    ) {
        child_main(Path::new(&dir), v.parse().unwrap());
    }
}

fn spawn(dir: &Path, variant: u32) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("STRATA_CRASH_DIR", dir)
        .env("STRATA_CRASH_VARIANT", variant.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn killed_applies_leave_no_duplicates_and_no_orphans() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut kills = 0;
    for variant in 0..3u32 {
        for _ in 0..5 {
            let mut child = spawn(d, variant);
            std::thread::sleep(Duration::from_millis(10 + next() % 250));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                kills += 1;
            }
            child.wait().unwrap();
        }
        // Then to completion.
        let out = spawn(d, variant).wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "seed {seed}: variant {variant} did not complete: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(kills > 0, "seed {seed}: no run was killed");

    // The cloud holds exactly the declared resources, once each, as declared.
    let cloud = MemCloud::persistent(d.join("cloud.json")).unwrap();
    let mut by_name: BTreeMap<String, Vec<testing::CloudResource>> = BTreeMap::new();
    for r in cloud.resources() {
        by_name.entry(r.name.clone()).or_default().push(r);
    }
    let expected: Vec<String> = (0..N * 2 / 3).map(|i| format!("n{i}")).collect();
    let mut names: Vec<String> = by_name.keys().cloned().collect();
    names.sort_by_key(|n| n[1..].parse::<usize>().unwrap());
    assert_eq!(names, expected, "seed {seed}: orphans or missing resources");
    for (name, rs) in &by_name {
        assert_eq!(rs.len(), 1, "seed {seed}: duplicates of {name}: {rs:#?}");
        let i: usize = name[1..].parse().unwrap();
        let want = if (4..8).contains(&i) { "k1" } else { "k0" };
        assert_eq!(rs[0].key.as_deref(), Some(want), "seed {seed}: {name}");
    }
    // State agrees with the cloud, and nothing is left pending.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let st = rt
        .block_on(FileBackend::new(d.join("state")).load("dev"))
        .unwrap()
        .unwrap();
    assert!(st.pending.is_empty(), "seed {seed}: {:#?}", st.pending);
    assert_eq!(st.resources.len(), expected.len());
    for r in st.resources.values() {
        assert_eq!(by_name[r.urn.name()][0].id, r.id, "seed {seed}: {}", r.urn);
    }
}
