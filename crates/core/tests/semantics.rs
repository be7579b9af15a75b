//! Engine semantics a Pulumi user relies on, against the in-memory cloud, whose deletes
//! fail while something live still uses the resource (as AWS's `DependencyViolation`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use strata_core::testing::{Call, CallRecord, MemCloud, Mock, MockHandle};
use strata_core::*;

use common::{engine, seal};

/// The (call, name) of every successful mutating call, in order of start.
fn changes(log: &[CallRecord]) -> Vec<(Call, String)> {
    let mut l: Vec<&CallRecord> = log
        .iter()
        .filter(|r| !r.failed && r.call != Call::Read)
        .collect();
    l.sort_by_key(|r| r.start);
    l.into_iter().map(|r| (r.call, r.name.clone())).collect()
}

fn dbr() -> ResourceOptions {
    ResourceOptions::new().delete_before_replace()
}

/// A delete-before-replace resource under dependents that are replaced because of it:
/// they are deleted first (deepest first), then it; then it is made, then they are.
#[tokio::test]
async fn delete_before_replace_deletes_the_dependents_it_replaces_first() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |key: &'static str| {
        seal(move |s| {
            let subnet = s.add_with("subnet", Mock::new().key(key), dbr());
            let instance = s.add("instance", Mock::new().key(subnet.id()));
            s.add("volume", Mock::new().key(instance.id()));
            s.add(
                "alarm",
                Mock::new().prop("instance", instance.id()).prop("x", "1"),
            );
        })
    };
    e.up(&decl("10.0.1.0/24"), &RunOptions::default())
        .await
        .unwrap();
    let plan = e.preview(&decl("10.0.2.0/24"), &[]).await.unwrap();
    let text = plan.render();
    for name in ["subnet", "instance", "volume"] {
        assert!(
            text.contains(&format!("mock::{name} (delete before replace)")),
            "{text}"
        );
    }
    // The next program also drops the alarm, which watches the instance: it is deleted
    // before the instance goes.
    cloud.reset_log();
    let next = seal(|s| {
        let subnet = s.add_with("subnet", Mock::new().key("10.0.2.0/24"), dbr());
        let instance = s.add("instance", Mock::new().key(subnet.id()));
        s.add("volume", Mock::new().key(instance.id()));
    });
    let sum = e.up(&next, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let c = changes(&cloud.log());
    let at = |call: Call, name: &str| {
        c.iter()
            .position(|(k, n)| *k == call && n == name)
            .unwrap_or_else(|| panic!("no {call:?} of {name}: {c:?}"))
    };
    assert!(
        at(Call::Delete, "alarm") < at(Call::Delete, "instance"),
        "{c:?}"
    );
    assert!(
        at(Call::Delete, "volume") < at(Call::Delete, "instance"),
        "{c:?}"
    );
    assert!(
        at(Call::Delete, "instance") < at(Call::Delete, "subnet"),
        "{c:?}"
    );
    assert!(
        at(Call::Delete, "subnet") < at(Call::Create, "subnet"),
        "{c:?}"
    );
    assert!(
        at(Call::Create, "subnet") < at(Call::Create, "instance"),
        "{c:?}"
    );
    assert!(
        at(Call::Create, "instance") < at(Call::Create, "volume"),
        "{c:?}"
    );
    assert_eq!(cloud.resources().len(), 3);
    assert!(!e.preview(&next, &[]).await.unwrap().has_changes());
    let replaced: Vec<_> = sum
        .succeeded
        .iter()
        .filter(|(_, op)| *op == Op::Replace)
        .map(|(u, _)| u.name().to_owned())
        .collect();
    assert_eq!(replaced.len(), 3, "{sum:?}");
}

/// The dependency may exist only in state: the program no longer declares it, but the
/// old dependent still uses the old resource, so it goes first (replaced) or moves off
/// it first (updated).
#[tokio::test]
async fn a_dependency_known_only_from_state_orders_a_delete_before_replace() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    e.up(
        &seal(|s| {
            let sg = s.add_with("sg", Mock::new().key("a"), dbr());
            s.add("eni", Mock::new().key(sg.id()));
            s.add("rule", Mock::new().prop("source", sg.id()));
        }),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    cloud.reset_log();
    // The new program: the group is replaced; the ENI is replaced for its own reasons and
    // no longer uses it; the rule's source changes to a literal (in place).
    let next = seal(|s| {
        s.add_with("sg", Mock::new().key("b"), dbr());
        s.add("eni", Mock::new().key("standalone"));
        s.add("rule", Mock::new().prop("source", "0.0.0.0/0"));
    });
    let sum = e.up(&next, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let c = changes(&cloud.log());
    let at = |call: Call, name: &str| {
        c.iter()
            .position(|(k, n)| *k == call && n == name)
            .unwrap_or_else(|| panic!("no {call:?} of {name}: {c:?}"))
    };
    assert!(at(Call::Delete, "eni") < at(Call::Delete, "sg"), "{c:?}");
    assert!(at(Call::Update, "rule") < at(Call::Delete, "sg"), "{c:?}");
    assert_eq!(cloud.resources().len(), 3);
}

#[tokio::test]
async fn replace_on_changes_star_replaces_on_any_change() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |v: &'static str| {
        seal(move |s| {
            s.add_with(
                "cfg",
                Mock::new().prop("v", v),
                ResourceOptions::new().replace_on_changes("*"),
            );
        })
    };
    e.up(&decl("1"), &RunOptions::default()).await.unwrap();
    let plan = e.preview(&decl("2"), &[]).await.unwrap();
    assert_eq!(plan.count(Op::Replace), 1, "{}", plan.render());
    let old = cloud.resources()[0].id.clone();
    assert!(e
        .up(&decl("2"), &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(cloud.get(&old).is_none());
    assert_eq!(cloud.resources().len(), 1);
    // And `ignore_changes("*")` ignores every change.
    let st = seal(|s| {
        s.add_with(
            "cfg",
            Mock::new().prop("v", "3"),
            ResourceOptions::new().ignore_changes("*"),
        );
    });
    assert!(!e.preview(&st, &[]).await.unwrap().has_changes());
}

#[tokio::test]
async fn refresh_of_a_gone_resource_rewrites_its_dependents_lists() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    e.up(
        &seal(|s| {
            let a = s.add("a", Mock::new());
            s.add("b", Mock::new().prop("a", a.id()));
        }),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    let a = Urn::new("dev", "test:mock", "a");
    let b = Urn::new("dev", "test:mock", "b");
    let state = e.load_state("dev").await.unwrap();
    assert_eq!(state.resources[&b].dependencies, vec![a.clone()]);
    cloud.remove(&state.resources[&a].id);
    let report = e.refresh("dev", &RunOptions::default()).await.unwrap();
    assert_eq!(report.drift.get(&a), Some(&None));
    let state = e.load_state("dev").await.unwrap();
    assert!(!state.resources.contains_key(&a));
    assert!(state.resources[&b].dependencies.is_empty(), "{state:?}");
}

/// A deep chain seals, plans, applies and destroys on a test thread's default stack
/// (2 MiB). `STRATA_DEEP_CHAIN` sets the depth (default 100,000).
#[test]
fn a_very_deep_chain_does_not_overflow_the_stack() {
    let depth: usize = std::env::var("STRATA_DEEP_CHAIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
        let e = engine(&cloud, &be).parallel(16);
        let st = seal(|s| {
            let mut prev = s.add("n0", Mock::new());
            for i in 1..depth {
                prev = s.add(format!("n{i}"), Mock::new().prop("p", prev.id()));
            }
        });
        let plan = e.preview(&st, &[]).await.unwrap();
        assert_eq!(plan.count(Op::Create), depth);
        let sum = e.up(&st, &RunOptions::default()).await.unwrap();
        assert!(sum.is_success());
        assert_eq!(cloud.resources().len(), depth);
        let sum = e.destroy("dev", &RunOptions::default()).await.unwrap();
        assert!(sum.is_success());
        assert!(cloud.resources().is_empty());
    });
}

/// A dependent with a fixed name, replaced because its delete-first dependency is, is
/// deleted first too: its replace can finish, so it is not refused.
#[tokio::test]
async fn a_named_dependent_of_a_delete_first_replace_is_not_refused() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |key: &'static str| {
        seal(move |s| {
            let vpc = s.add_with("vpc", Mock::new().key(key), dbr());
            s.add("sg", Mock::new().name("shop-sg").key(vpc.id()));
        })
    };
    e.up(&decl("a"), &RunOptions::default()).await.unwrap();
    let sum = e.up(&decl("b"), &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert_eq!(cloud.resources().len(), 2);
}

/// A refactor that moves a dependency behind another resource is no cycle: X used A
/// directly, now through Y; A (delete-first by option) only changes in place.
#[tokio::test]
async fn moving_a_dependency_behind_another_resource_is_not_a_cycle() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    e.up(
        &seal(|s| {
            let a = s.add_with("a", Mock::new().prop("v", "1"), dbr());
            s.add("x", Mock::new().prop("a", a.id()));
        }),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    let next = seal(|s| {
        let a = s.add_with("a", Mock::new().prop("v", "2"), dbr());
        let y = s.add("y", Mock::new().prop("a", a.id()));
        s.add("x", Mock::new().prop("y", y.id()));
    });
    let sum = e.up(&next, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert_eq!(cloud.resources().len(), 3);
}
