//! Checkpoint cost: total bytes and writes of an apply of N resources, relative to the
//! final state's size, for N = 1,000 and 5,000 (in-memory cloud with no latency,
//! parallel 10).
//!
//! `cargo bench --bench checkpoints` ends with `checkpoints: bytes/final X at N=5000`
//! (target X ≤ 3), X being the worst of the file and S3 backends. Backends: file (journal
//! file + snapshots), S3 on the local AWS (moto, started by strata-testkit; journal entries
//! as objects + snapshots), and memory (the same journal logic without I/O, for
//! comparison).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use strata::prelude::*;
use strata::testing::{MemCloud, Mock, MockHandle};
use strata_core::{Backend, FileBackend, MemoryBackend};

fn stack(n: usize) -> strata_core::SealedStack {
    let mut s = Stack::new("bench");
    let mut prev: Option<Handle<Mock>> = None;
    for i in 0..n {
        let mut args = Mock::new()
            .prop("v", "x")
            .prop("name", format!("resource-{i}"));
        if i % 10 != 0 {
            if let Some(p) = &prev {
                args = args.prop("prev", p.id());
            }
        }
        prev = Some(s.add(format!("r{i}"), args));
    }
    s.seal().unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn s3_backend(n: usize) -> Arc<dyn Backend> {
    let rt = runtime();
    let conf = rt.block_on(strata_testkit::LocalAws::shared().sdk_config());
    let b = strata_core::state::S3Backend::from_url(
        &format!("s3://strata-bench-{n}/state?lock=s3"),
        &conf,
    )
    .unwrap();
    rt.block_on(b.bootstrap()).unwrap();
    Arc::new(b)
}

fn measure(name: &str, backend: Arc<dyn Backend>, n: usize) -> f64 {
    let rt = runtime();
    let st = stack(n);
    let e = Engine::new(backend.clone())
        .with_context(Context::new().with(MemCloud::new()))
        .with_registry(&strata::registry())
        .parallel(10);
    let sum = rt.block_on(e.up(&st, &RunOptions::default())).unwrap();
    assert!(sum.is_success());
    let (bytes, writes) = backend.write_stats();
    let final_size = rt
        .block_on(e.load_state("bench"))
        .unwrap()
        .to_bytes()
        .unwrap()
        .len() as f64;
    let ratio = bytes as f64 / final_size;
    println!(
        "{name:<7} N={n:<5} bytes {bytes:>11} writes {writes:>6} final {final_size:>10.0} bytes/final {ratio:>5.2} writes/N {:.2}",
        writes as f64 / n as f64
    );
    ratio
}

fn main() {
    let mut at_5000 = 0f64;
    for n in [1_000usize, 5_000] {
        let dir = tempfile::tempdir().unwrap();
        let file = measure("file", Arc::new(FileBackend::new(dir.path())), n);
        let s3 = measure("s3", s3_backend(n), n);
        measure("memory", Arc::new(MemoryBackend::new()), n);
        if n == 5_000 {
            at_5000 = file.max(s3);
        }
    }
    println!("checkpoints: bytes/final {at_5000:.2} at N=5000");
}
