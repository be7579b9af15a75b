//! Plan and apply over 1k/10k/100k no-op resources (the in-memory cloud with zero latency
//! and the in-memory backend), to measure the engine's own overhead.
//!
//! `cargo bench --bench engine` runs the criterion groups and ends with one line per size:
//! `engine: N=… create … µs/resource, no-op up … µs/resource, plan … µs/resource`.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion};
use strata::prelude::*;
use strata::testing::{MemCloud, Mock, MockHandle};
use strata_core::{MemoryBackend, SealedStack};

/// N resources in chains of 10 (each depends on the previous one), so the graph has real
/// edges and outputs to resolve.
fn stack(n: usize) -> SealedStack {
    let mut s = Stack::new("bench");
    let mut prev: Option<Handle<Mock>> = None;
    for i in 0..n {
        let mut args = Mock::new().prop("v", "x");
        if i % 10 != 0 {
            if let Some(p) = &prev {
                args = args.prop("prev", p.id());
            }
        }
        prev = Some(s.add(format!("r{i}"), args));
    }
    s.seal().expect("bench stack seals")
}

fn engine(cloud: &MemCloud, be: &MemoryBackend) -> Engine {
    Engine::new(Arc::new(be.clone()))
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&strata::registry())
        .parallel(10)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A cloud and backend holding the stack already deployed.
fn deployed(rt: &tokio::runtime::Runtime, st: &SealedStack) -> (MemCloud, MemoryBackend) {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let s = rt
        .block_on(engine(&cloud, &be).up(st, &RunOptions::default()))
        .unwrap();
    assert!(s.is_success());
    (cloud, be)
}

fn benches(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("engine");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for n in [1_000usize, 10_000, 100_000] {
        let st = stack(n);
        let (cloud, be) = deployed(&rt, &st);
        let e = engine(&cloud, &be);
        g.bench_with_input(BenchmarkId::new("plan-noop", n), &n, |b, _| {
            b.iter(|| rt.block_on(e.preview(&st, &[])).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("up-noop", n), &n, |b, _| {
            b.iter(|| rt.block_on(e.up(&st, &RunOptions::default())).unwrap())
        });
        if n <= 10_000 {
            g.bench_with_input(BenchmarkId::new("up-create", n), &n, |b, _| {
                b.iter_batched(
                    || (MemCloud::new(), MemoryBackend::new()),
                    |(cloud, be)| {
                        rt.block_on(engine(&cloud, &be).up(&st, &RunOptions::default()))
                            .unwrap()
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

fn per_resource(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

fn report() {
    let rt = rt();
    for n in [1_000usize, 10_000, 100_000] {
        let st = stack(n);
        let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
        let e = engine(&cloud, &be);
        let t = Instant::now();
        let s = rt.block_on(e.up(&st, &RunOptions::default())).unwrap();
        let create = t.elapsed();
        assert_eq!(s.changed(), n);
        // The first no-op run after the big create also pays for fresh memory (page faults,
        // allocator growth); report the median of three.
        let mut noops: Vec<Duration> = (0..3)
            .map(|_| {
                let t = Instant::now();
                rt.block_on(e.up(&st, &RunOptions::default())).unwrap();
                t.elapsed()
            })
            .collect();
        let first = noops[0];
        noops.sort();
        let noop = noops[1];
        let t = Instant::now();
        rt.block_on(e.preview(&st, &[])).unwrap();
        let plan = t.elapsed();
        println!(
            "engine: N={n} create {:.1} µs/resource, no-op up {:.1} µs/resource (median of 3; first {:.1}), plan {:.1} µs/resource",
            per_resource(create, n),
            per_resource(noop, n),
            per_resource(first, n),
            per_resource(plan, n)
        );
    }
}

/// `--profile-noop`: deploy 100k resources, then run no-op `up`s (for a profiler).
fn profile_noop() {
    let rt = rt();
    let st = stack(100_000);
    let (cloud, be) = deployed(&rt, &st);
    let e = engine(&cloud, &be);
    for _ in 0..5 {
        let t = Instant::now();
        rt.block_on(e.up(&st, &RunOptions::default())).unwrap();
        println!(
            "no-op up: {:.1} µs/resource",
            per_resource(t.elapsed(), 100_000)
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--profile-noop") {
        return profile_noop();
    }
    let quick = std::env::args().any(|a| a == "--report-only");
    if !quick {
        let mut c = Criterion::default().configure_from_args();
        benches(&mut c);
        c.final_summary();
    }
    report();
}
