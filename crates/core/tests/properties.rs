//! Property tests of the engine's invariants over random DAGs, against the in-memory cloud.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use proptest::prelude::*;
use strata_core::testing::strategies::{dag, DagSpec};
use strata_core::testing::{Call, CallRecord, MemCloud, Mock};
use strata_core::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

fn engine(cloud: &MemCloud, be: &MemoryBackend, parallel: usize) -> Engine {
    let mut r = Registry::new();
    r.register::<Mock>();
    Engine::new(Arc::new(be.clone()))
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&r)
        .parallel(parallel)
}

fn sealed(spec: &DagSpec) -> SealedStack {
    let mut s = Stack::new("dev");
    spec.declare(&mut s);
    s.seal().unwrap()
}

fn spans(log: &[CallRecord], call: Call) -> HashMap<String, (u64, u64)> {
    log.iter()
        .filter(|r| r.call == call && !r.failed)
        .map(|r| (r.name.clone(), (r.start, r.end)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every step starts after all its dependencies finished; running steps never exceed
    /// `parallel`; a second `up` plans nothing; destroy runs in reverse order; state
    /// round-trips byte-stable.
    #[test]
    fn apply_and_destroy_respect_order_and_bound(spec in dag(24, 40), parallel in 1usize..6) {
        rt().block_on(async {
            let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
            let e = engine(&cloud, &be, parallel);
            let stack = sealed(&spec);
            let sum = e.up(&stack, &RunOptions::default()).await.unwrap();
            prop_assert!(sum.is_success());
            prop_assert_eq!(cloud.resources().len(), spec.nodes.len());
            prop_assert!(cloud.max_in_flight() <= parallel);

            let created = spans(&cloud.log(), Call::Create);
            for (i, n) in spec.nodes.iter().enumerate() {
                let me = created[&DagSpec::name(i)];
                for &d in &n.deps {
                    let dep = created[&DagSpec::name(d)];
                    prop_assert!(dep.1 < me.0, "n{} started before its dependency n{} ended", i, d);
                }
            }

            // Idempotent re-apply.
            prop_assert!(!e.preview(&stack, &[]).await.unwrap().has_changes());
            cloud.reset_log();
            let again = e.up(&stack, &RunOptions::default()).await.unwrap();
            prop_assert_eq!(again.changed(), 0);
            prop_assert!(cloud.log().is_empty());

            // Byte-stable state round trip, of the snapshot and of the whole state
            // (snapshot plus journal).
            let raw = be.raw("dev").unwrap();
            let st = State::from_bytes(&raw, "memory").unwrap();
            prop_assert_eq!(st.to_bytes().unwrap(), raw);
            let full = be.load("dev").await.unwrap().unwrap();
            prop_assert_eq!(full.resources.len(), spec.nodes.len());
            let bytes = full.to_bytes().unwrap();
            let again = State::from_bytes(&bytes, "memory").unwrap();
            prop_assert_eq!(&again, &full);
            prop_assert_eq!(again.to_bytes().unwrap(), bytes);

            // Destroy: a resource is deleted only after everything that depends on it.
            cloud.reset_log();
            let sum = e.destroy("dev", &RunOptions::default()).await.unwrap();
            prop_assert!(sum.is_success());
            prop_assert!(cloud.resources().is_empty());
            prop_assert!(cloud.max_in_flight() <= parallel);
            let deleted = spans(&cloud.log(), Call::Delete);
            for (i, n) in spec.nodes.iter().enumerate() {
                let me = deleted[&DagSpec::name(i)];
                for &d in &n.deps {
                    let dep = deleted[&DagSpec::name(d)];
                    prop_assert!(me.1 < dep.0, "n{} deleted before its dependent n{}", d, i);
                }
            }
            Ok(())
        })?;
    }

    /// A failed step skips exactly its (transitive) dependents; everything else is created.
    #[test]
    fn a_failure_skips_exactly_the_dependents(spec in dag(20, 10), pick in any::<prop::sample::Index>()) {
        rt().block_on(async {
            let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
            let e = engine(&cloud, &be, 4);
            let f = pick.index(spec.nodes.len());
            cloud.fail_on(&DagSpec::name(f), Call::Create);
            let sum = e.up(&sealed(&spec), &RunOptions::default()).await.unwrap();
            let expected_skipped = spec.dependents_of(f);
            let skipped: BTreeSet<usize> = sum
                .skipped
                .iter()
                .map(|(u, _, _)| u.name()[1..].parse().unwrap())
                .collect();
            prop_assert_eq!(&skipped, &expected_skipped);
            prop_assert_eq!(sum.failed.len(), 1);
            let created: BTreeSet<usize> = cloud
                .resources()
                .iter()
                .map(|r| r.name[1..].parse().unwrap())
                .collect();
            let expected: BTreeSet<usize> = (0..spec.nodes.len())
                .filter(|i| *i != f && !expected_skipped.contains(i))
                .collect();
            prop_assert_eq!(created, expected);
            Ok(())
        })?;
    }
}
