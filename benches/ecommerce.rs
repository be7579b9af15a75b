//! `cargo bench --bench ecommerce`: times `up` of the whole e-commerce stack on a private
//! local AWS (moto) at `--parallel 1` and at the default bound, in one run, and reports
//! both and their ratio; then the stack's critical path in the engine's duration
//! estimates, which are what real AWS takes (RDS and CloudFront dominate).
//!
//! On moto every call answers at once, so the ratio measures how much of a deploy's
//! waiting (waiter polls, NAT gateways, RDS, ElastiCache, CloudFront) the scheduler
//! overlaps; on real AWS the critical path bounds the deploy from below.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../examples/ecommerce.rs"]
#[allow(dead_code, unused_imports)]
mod ecommerce;
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata::prelude::*;
use strata_core::aws::Aws;
use strata_core::{MemoryBackend, SealedStack, DEFAULT_PARALLEL};
use strata_testkit::LocalAws;

/// The longest chain of estimates through the dependency graph, and its resources.
fn critical_path(st: &SealedStack) -> (Duration, Vec<String>) {
    let n = st.nodes().len();
    let mut best: Vec<(Duration, Option<usize>)> = vec![(Duration::ZERO, None); n];
    for &i in st.order() {
        let (d, from) = st
            .deps(i)
            .iter()
            .map(|&d| (best[d].0, Some(d)))
            .max()
            .unwrap_or((Duration::ZERO, None));
        best[i] = (d + st.nodes()[i].estimate, from);
    }
    let Some(mut i) = (0..n).max_by_key(|&i| best[i].0) else {
        return (Duration::ZERO, Vec::new());
    };
    let total = best[i].0;
    let mut path = vec![st.nodes()[i].name().to_owned()];
    while let Some(p) = best[i].1 {
        path.push(st.nodes()[p].name().to_owned());
        i = p;
    }
    path.reverse();
    (total, path)
}

async fn deploy(aws: &LocalAws, st: &SealedStack, parallel: usize) -> Duration {
    aws.reset().unwrap();
    let conf = aws.sdk_config().await;
    let engine = Engine::new(Arc::new(MemoryBackend::new()))
        .with_context(Context::new().with(Aws::new(conf)))
        .with_registry(&strata::registry())
        .passphrase(Some("bench".into()))
        .parallel(parallel);
    let start = Instant::now();
    let sum = engine.up(st, &RunOptions::default()).await.unwrap();
    let took = start.elapsed();
    assert!(sum.is_success(), "{sum:?}");
    took
}

#[tokio::main]
async fn main() {
    let aws = LocalAws::start().unwrap();
    let conf = aws.sdk_config().await;
    let ami = support::first_ami(&conf).await;
    let config = BTreeMap::from([
        ("ami".to_owned(), ami),
        ("deletion_protection".to_owned(), "false".to_owned()),
    ]);
    let mut s = Stack::new("shop").with_config(config);
    ecommerce::ecommerce(&mut s);
    let st = s.seal().unwrap();

    let serial = deploy(&aws, &st, 1).await;
    let parallel = deploy(&aws, &st, DEFAULT_PARALLEL).await;
    let (path, chain) = critical_path(&st);
    let all: Duration = st.nodes().iter().map(|n| n.estimate).sum();
    println!(
        "ecommerce: {} resources; up on moto: parallel 1 {:.1} s, parallel {} {:.1} s, ratio {:.2}x",
        st.nodes().len(),
        serial.as_secs_f64(),
        DEFAULT_PARALLEL,
        parallel.as_secs_f64(),
        serial.as_secs_f64() / parallel.as_secs_f64()
    );
    println!(
        "ecommerce: critical path on real AWS (engine estimates) {:.0} min of {:.0} min in all: {}",
        path.as_secs_f64() / 60.0,
        all.as_secs_f64() / 60.0,
        chain.join(" -> ")
    );
}
