//! A stale writer across processes, on the file backend: run A holds the lock and is
//! slow; another process releases A's lock (`state unlock`) and run B (a third process)
//! takes the stack and finishes. When A's next write comes, it is refused: B's state is
//! left intact, and A's state is kept in `DIR/recovery/`.
//!
//! Each run is a child process (this test binary re-executed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_core::testing::{MemCloud, Mock};
use strata_core::*;

/// Run `which` ("a": slow, "b": quick) over the state in `dir`, each with its own cloud.
fn child_main(dir: &Path, which: &str) -> ! {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let code = rt.block_on(async {
        let cloud = MemCloud::persistent(dir.join(format!("cloud-{which}.json"))).unwrap();
        let mut r = Registry::new();
        r.register::<Mock>();
        let e = Engine::new(Arc::new(FileBackend::new(dir.join("state"))))
            .with_context(Context::new().with(cloud))
            .with_registry(&r);
        let mut s = Stack::new("dev");
        if which == "a" {
            s.add("quick", Mock::new());
            s.add("slow", Mock::new().duration(Duration::from_millis(4000)));
        } else {
            s.add("fresh", Mock::new());
        }
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
fn stale_writer_child() {
    if let (Ok(dir), Ok(which)) = (
        std::env::var("STRATA_STALE_DIR"),
        std::env::var("STRATA_STALE_RUN"),
    ) {
        child_main(Path::new(&dir), &which);
    }
}

fn spawn(dir: &Path, which: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "stale_writer_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("STRATA_STALE_DIR", dir)
        .env("STRATA_STALE_RUN", which)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_run_whose_lock_was_released_by_another_process_cannot_overwrite_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let backend = FileBackend::new(d.join("state"));

    let a = spawn(d, "a");
    // Wait until A holds the lock and has recorded its first step.
    let deadline = Instant::now() + Duration::from_secs(30);
    let held = loop {
        let lock = rt.block_on(backend.current_lock("dev")).unwrap();
        let started = d.join("state").join("dev.json").exists();
        if let (Some(l), true) = (lock, started) {
            break l;
        }
        assert!(Instant::now() < deadline, "run A never took the lock");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(held.pid, a.id(), "A holds the lock");

    // Another process (this one) releases A's lock, and run B takes the stack.
    rt.block_on(backend.unlock("dev", &held.id)).unwrap();
    let b = spawn(d, "b").wait_with_output().unwrap();
    assert!(
        b.status.success(),
        "run B: {}",
        String::from_utf8_lossy(&b.stderr)
    );
    let after_b = rt.block_on(backend.load("dev")).unwrap().unwrap();
    assert!(after_b.resources.keys().any(|u| u.name() == "fresh"));

    // A's next write is refused, and says why.
    let a = a.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&a.stderr);
    assert!(!a.status.success(), "run A overwrote B: {err}");
    assert!(
        err.contains("lock was released") || err.contains("another run holds the stack"),
        "{err}"
    );
    // B's state is intact; A's is kept aside.
    let now = rt.block_on(backend.load("dev")).unwrap().unwrap();
    assert_eq!(now.serial, after_b.serial);
    assert_eq!(now.resources, after_b.resources);
    assert!(rt.block_on(backend.current_lock("dev")).unwrap().is_none());
    let kept: Vec<_> = std::fs::read_dir(d.join("state").join("recovery"))
        .unwrap()
        .collect();
    assert!(!kept.is_empty(), "A's refused state was not kept");
}
