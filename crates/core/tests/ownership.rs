//! The first promise, against the in-memory cloud: strata never takes over what it did not
//! make, never loses a resource to a rename, and never leaves a stack that the next run
//! cannot move.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use strata_core::testing::{Call, MemCloud, Mock, MockHandle, DELETION_PROTECTION, UNTAGGABLE};
use strata_core::*;

use common::{engine, seal};

fn failure<'a>(sum: &'a Summary, name: &str) -> &'a str {
    sum.failed
        .iter()
        .find(|(u, _, _)| u.name() == name)
        .map(|(_, _, e)| e.as_str())
        .unwrap_or_else(|| panic!("{name} did not fail: {sum:?}"))
}

#[tokio::test]
async fn a_failed_create_leaves_nothing_pending_and_the_stack_moves_on() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    cloud.fail_on("alarm", Call::Create);
    let st = seal(|s| {
        s.add("alarm", Mock::new().prop("threshold", "5"));
        s.add("topic", Mock::new());
    });
    let sum = e.up(&st, &RunOptions::default()).await.unwrap();
    assert!(
        failure(&sum, "alarm").contains("injected failure"),
        "{sum:?}"
    );
    let state = e.load_state("dev").await.unwrap();
    assert!(state.pending.is_empty(), "{:?}", state.pending);
    // Every later operation works: refresh, up once the cause is gone, destroy.
    let report = e.refresh("dev", &RunOptions::default()).await.unwrap();
    assert!(report.summary.is_success(), "{:?}", report.summary);
    cloud.clear_failures();
    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(e
        .destroy("dev", &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(cloud.resources().is_empty());
}

#[tokio::test]
async fn a_taken_name_fails_the_step_and_the_existing_resource_is_never_touched() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let foreign = cloud.add_foreign("shop-assets", &[("owner", "someone-else")]);
    let decl = |name: &'static str| {
        seal(move |s| {
            s.add("assets", Mock::new().name(name).prop("owner", "us"));
        })
    };
    let sum = e
        .up(&decl("shop-assets"), &RunOptions::default())
        .await
        .unwrap();
    let err = failure(&sum, "assets");
    assert!(
        err.contains("already exists") && err.contains("not managed by this stack"),
        "{err}"
    );
    assert!(err.contains("import test:mock assets"), "{err}");
    let state = e.load_state("dev").await.unwrap();
    assert!(state.pending.is_empty(), "{:?}", state.pending);
    assert!(state.resources.is_empty());
    assert_eq!(cloud.get(&foreign).unwrap().props["owner"], "someone-else");

    // Renamed, it deploys; destroy leaves the foreign resource alone. No hand edit of
    // state was needed at any point.
    assert!(e
        .up(&decl("shop-assets-2"), &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(e
        .destroy("dev", &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    let left = cloud.resources();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, foreign);
    assert_eq!(left[0].props["owner"], "someone-else");
}

#[tokio::test(start_paused = true)]
async fn a_create_that_fails_after_aws_made_it_is_recorded_not_orphaned() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    // Every answer is lost, past the engine's retries, but the first call made it.
    cloud.fail_transiently("db", Call::Create, 10, true);
    let st = seal(|s| {
        s.add("db", Mock::new().prop("size", "10"));
    });
    let sum = e.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert_eq!(cloud.resources().len(), 1, "made once");
    let state = e.load_state("dev").await.unwrap();
    assert!(state.pending.is_empty());
    assert_eq!(state.resources.len(), 1);
    assert!(!e.preview(&st, &[]).await.unwrap().has_changes());

    // A permanent failure after the change (a waiter that timed out): the step fails, and
    // what was made is recorded, nothing pending, so the next run moves on.
    cloud.clear_failures();
    cloud.fail_after_change("cache", Call::Create);
    let st = seal(|s| {
        s.add("db", Mock::new().prop("size", "10"));
        s.add("cache", Mock::new().prop("nodes", "2"));
    });
    let sum = e.up(&st, &RunOptions::default()).await.unwrap();
    let err = failure(&sum, "cache");
    assert!(err.contains("was made nonetheless"), "{err}");
    let state = e.load_state("dev").await.unwrap();
    assert!(state.pending.is_empty(), "{:?}", state.pending);
    let cache = &state.resources[&Urn::new("dev", "test:mock", "cache")];
    assert_eq!(cloud.get(&cache.id).unwrap().props["nodes"], "2");
    cloud.clear_failures();
    assert!(!e.preview(&st, &[]).await.unwrap().has_changes());
    assert_eq!(cloud.resources().len(), 2);
}

#[tokio::test]
async fn a_rename_that_would_delete_the_renamed_resource_is_refused_at_plan_time() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |logical: &'static str| {
        seal(move |s| {
            s.add(logical, Mock::new().name("artifacts-bucket"));
        })
    };
    e.up(&decl("artifacts"), &RunOptions::default())
        .await
        .unwrap();
    let id = cloud.resources()[0].id.clone();
    cloud.reset_log();
    for err in [
        e.preview(&decl("artifact-store"), &[]).await.unwrap_err(),
        e.up(&decl("artifact-store"), &RunOptions::default())
            .await
            .unwrap_err(),
    ] {
        let msg = err.to_string();
        assert!(
            msg.contains("urn:strata:dev::test:mock::artifact-store")
                && msg.contains("urn:strata:dev::test:mock::artifacts")
                && msg.contains("name=artifacts-bucket")
                && msg.contains("Keep the logical name \"artifacts\""),
            "{msg}"
        );
    }
    assert!(
        cloud.log().iter().all(|c| c.call == Call::Read),
        "a refused plan changed something: {:?}",
        cloud.log()
    );
    assert_eq!(cloud.resources()[0].id, id);
    assert!(be.current_lock("dev").await.unwrap().is_none());

    // Two declarations of one physical resource are refused too.
    let err = e
        .preview(
            &seal(|s| {
                s.add("artifacts", Mock::new().name("artifacts-bucket"));
                s.add("copy", Mock::new().name("artifacts-bucket"));
            }),
            &[],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("both declare"), "{err}");
    // A declared replace of the same logical resource is not a rename (keeping its name,
    // it deletes first).
    let st = seal(|s| {
        s.add_with(
            "artifacts",
            Mock::new().name("artifacts-bucket").key("v2"),
            ResourceOptions::new().delete_before_replace(),
        );
    });
    assert_eq!(e.preview(&st, &[]).await.unwrap().count(Op::Replace), 1);
}

#[tokio::test]
async fn what_cannot_be_deleted_is_found_before_anything_is_deleted() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let st = seal(|s| {
        let net = s.add("net", Mock::new());
        for i in 0..5 {
            s.add(format!("app{i}"), Mock::new().prop("net", net.id()));
        }
        s.add("db", Mock::new().key("1").prop("net", net.id()));
    });
    e.up(&st, &RunOptions::default()).await.unwrap();
    // Deletion protection switched on live (state still says nothing of it).
    let db = e.load_state("dev").await.unwrap().resources[&Urn::new("dev", "test:mock", "db")]
        .id
        .clone();
    cloud.tamper(&db, DELETION_PROTECTION, "true");
    cloud.reset_log();

    let err = e.destroy("dev", &RunOptions::default()).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("db")
            && msg.contains("props.deletion_protection")
            && msg.contains("switch it off"),
        "{msg}"
    );
    assert!(cloud.log().iter().all(|c| c.call == Call::Read));
    assert_eq!(cloud.resources().len(), 7, "nothing was deleted");

    // A replace whose old half could never be deleted is refused at plan time too.
    let replaced = seal(|s| {
        let net = s.add("net", Mock::new());
        for i in 0..5 {
            s.add(format!("app{i}"), Mock::new().prop("net", net.id()));
        }
        s.add("db", Mock::new().key("2").prop("net", net.id()));
    });
    let err = e.preview(&replaced, &[]).await.unwrap_err();
    assert!(err.to_string().contains("cannot replace it"), "{err}");
    let err = e.up(&replaced, &RunOptions::default()).await.unwrap_err();
    assert!(
        err.to_string().contains("props.deletion_protection"),
        "{err}"
    );
    assert_eq!(cloud.resources().len(), 7);

    // Switched off, both go through.
    cloud.tamper(&db, DELETION_PROTECTION, "false");
    assert!(e
        .up(&replaced, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(e
        .destroy("dev", &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(cloud.resources().is_empty());
}

#[tokio::test]
async fn retain_on_delete_holds_on_replace() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    for dbr in [false, true] {
        let decl = |key: &'static str| {
            seal(move |s| {
                let mut o = ResourceOptions::new().retain_on_delete();
                if dbr {
                    o = o.delete_before_replace();
                }
                s.add_with("logs", Mock::new().key(key), o);
            })
        };
        e.up(&decl("1"), &RunOptions::default()).await.unwrap();
        let old = e
            .load_state("dev")
            .await
            .unwrap()
            .resources
            .values()
            .next()
            .unwrap()
            .id
            .clone();
        let plan = e.preview(&decl("2"), &[]).await.unwrap();
        assert!(
            plan.render().contains("the old one stays in AWS"),
            "{}",
            plan.render()
        );
        assert!(e
            .up(&decl("2"), &RunOptions::default())
            .await
            .unwrap()
            .is_success());
        let state = e.load_state("dev").await.unwrap();
        assert!(state.pending.is_empty(), "{:?}", state.pending);
        let new = state.resources.values().next().unwrap().id.clone();
        assert_ne!(old, new);
        assert!(
            cloud.get(&old).is_some(),
            "the replaced resource was deleted (dbr {dbr})"
        );
        assert!(cloud.get(&new).is_some());
        e.destroy("dev", &RunOptions::default()).await.unwrap();
        // Retained: the new one stays too.
        assert!(cloud.get(&new).is_some());
        for r in cloud.resources() {
            cloud.remove(&r.id);
        }
    }
}

#[tokio::test]
async fn import_refuses_an_id_the_stack_already_manages() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    e.up(
        &seal(|s| {
            s.add("web", Mock::new());
        }),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    let id = cloud.resources()[0].id.clone();
    let err = e.import("dev", "test:mock", "web2", &id).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("already managed by this stack as urn:strata:dev::test:mock::web"),
        "{err}"
    );
    assert_eq!(e.load_state("dev").await.unwrap().resources.len(), 1);
}

/// An `up` dropped in the middle of a create: the pending create is durable, the call is
/// cut off `at` into its 1 s latency (the change happens half-way). The lock the dropped
/// run held is released by hand, as `state unlock` would.
async fn interrupted_up(e: &Engine, be: &MemoryBackend, st: &SealedStack, at: Duration) {
    let opts = RunOptions::default();
    let run = e.up(st, &opts);
    assert!(
        tokio::time::timeout(at, run).await.is_err(),
        "the run finished"
    );
    if let Some(l) = be.current_lock("dev").await.unwrap() {
        be.unlock("dev", &l.id).await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_create_that_did_not_happen_is_retried_with_its_token() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    cloud.set_latency(Duration::from_secs(1));
    let st = seal(|s| {
        s.add("cache", Mock::new().prop("nodes", "2"));
    });
    interrupted_up(&e, &be, &st, Duration::from_millis(300)).await;
    assert!(cloud.resources().is_empty());
    let pending = e.pending("dev").await.unwrap();
    assert_eq!(pending.len(), 1);
    let token = pending[0].token.clone();
    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    let made = cloud.resources();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].token, token, "the retried create reused the token");
    assert!(e.pending("dev").await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn pending_creates_of_resources_no_longer_declared_do_not_block_the_stack() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let st = seal(|s| {
        // The change happens half-way through a call.
        s.add("made", Mock::new().duration(Duration::from_secs(1)));
        s.add("not-made", Mock::new().duration(Duration::from_secs(3)));
    });
    // Cut off after the first create went through, before the second did.
    interrupted_up(&e, &be, &st, Duration::from_millis(700)).await;
    assert_eq!(e.pending("dev").await.unwrap().len(), 2);
    assert_eq!(cloud.resources().len(), 1);
    // Both are dropped from the program: the one that exists is ours (by its token) and
    // deleted; the next run is not blocked.
    let sum = e.up(&seal(|_| {}), &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert!(cloud.resources().is_empty());
    let state = e.load_state("dev").await.unwrap();
    assert!(state.pending.is_empty() && state.resources.is_empty());

    // The same through destroy.
    interrupted_up(&e, &be, &st, Duration::from_millis(700)).await;
    assert_eq!(cloud.resources().len(), 1);
    assert!(e
        .destroy("dev", &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(cloud.resources().is_empty());
    assert!(e.pending("dev").await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn state_pending_drop_and_state_rm_are_recorded_with_who_and_when() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    cloud.set_latency(Duration::from_secs(1));
    let st = seal(|s| {
        s.add("a", Mock::new());
    });
    interrupted_up(&e, &be, &st, Duration::from_millis(300)).await;
    let token = e.pending("dev").await.unwrap()[0].token.clone();
    let err = e.drop_pending("dev", "nope").await.unwrap_err();
    assert!(err.to_string().contains(&token), "{err}");
    let dropped = e.drop_pending("dev", &token).await.unwrap();
    assert_eq!(dropped.urn.name(), "a");
    assert!(e.pending("dev").await.unwrap().is_empty());

    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    let urn = Urn::new("dev", "test:mock", "a");
    let forgotten = e.forget("dev", &urn).await.unwrap();
    let state = e.load_state("dev").await.unwrap();
    assert!(state.resources.is_empty());
    assert!(
        cloud.get(&forgotten.id).is_some(),
        "state rm deletes nothing"
    );
    assert_eq!(state.audit.len(), 2);
    assert!(state.audit[0]
        .action
        .contains(&format!("state pending drop {token}")));
    assert!(state.audit[1]
        .action
        .starts_with("state rm urn:strata:dev::test:mock::a"));
    assert!(state
        .audit
        .iter()
        .all(|a| !a.who.is_empty() && !a.when.is_empty()));
    let err = e.forget("dev", &urn).await.unwrap_err();
    assert!(err.to_string().contains("is not in the state"), "{err}");
    assert!(be.current_lock("dev").await.unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn an_untaggable_lookalike_is_never_adopted_after_a_refused_create() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    // A record-like resource made by someone else, identical to the declaration.
    let foreign = cloud.add_foreign("www", &[(UNTAGGABLE, "true"), ("value", "1.2.3.4")]);
    let st = seal(|s| {
        s.add(
            "www",
            Mock::new()
                .name("www")
                .prop(UNTAGGABLE, "true")
                .prop("value", "1.2.3.4"),
        );
    });
    let sum = e.up(&st, &RunOptions::default()).await.unwrap();
    assert!(
        failure(&sum, "www").contains("not managed by this stack"),
        "{sum:?}"
    );
    assert!(e.load_state("dev").await.unwrap().resources.is_empty());
    assert!(e.pending("dev").await.unwrap().is_empty());
    cloud.remove(&foreign);

    // One that an interrupted create of ours made is adopted by its properties (all that
    // such a service allows).
    let st = seal(|s| {
        s.add(
            "www",
            Mock::new()
                .name("www")
                .prop(UNTAGGABLE, "true")
                .prop("value", "1.2.3.4")
                .duration(Duration::from_secs(1)),
        );
    });
    interrupted_up(&e, &be, &st, Duration::from_millis(700)).await;
    assert_eq!(cloud.resources().len(), 1);
    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert_eq!(cloud.resources().len(), 1);
    assert_eq!(e.load_state("dev").await.unwrap().resources.len(), 1);
}

/// A replace that keeps the resource's unique name cannot create the new one beside the
/// old one (AWS would answer "already exists"), so a create-first replace could never
/// finish: it is refused at plan time, naming the field. With `delete_before_replace` it
/// deletes first.
#[tokio::test]
async fn a_replace_that_keeps_its_name_is_refused_unless_it_deletes_first() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |key: &'static str, o: ResourceOptions| {
        seal(move |s| {
            s.add_with("lb", Mock::new().name("shop-alb").key(key), o);
        })
    };
    e.up(
        &decl("internet-facing", ResourceOptions::new()),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    cloud.reset_log();
    let err = e
        .up(
            &decl("internal", ResourceOptions::new()),
            &RunOptions::default(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "mock::lb would be replaced (because of key) keeping its test:mock name=shop-alb"
        ) && err.contains("set delete_before_replace"),
        "{err}"
    );
    assert!(cloud.log().iter().all(|c| c.call == Call::Read));

    let dbr = || ResourceOptions::new().delete_before_replace();
    let plan = e.preview(&decl("internal", dbr()), &[]).await.unwrap();
    assert!(
        plan.render().contains("(delete before replace)"),
        "{}",
        plan.render()
    );
    let sum = e
        .up(&decl("internal", dbr()), &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let log = cloud.log();
    let at = |call: Call| {
        log.iter()
            .find(|r| r.call == call && !r.failed)
            .map(|r| r.start)
            .unwrap()
    };
    assert!(at(Call::Delete) < at(Call::Create), "{log:?}");
    assert_eq!(cloud.resources().len(), 1);

    // Retaining the old one would keep the name from the new one: refused up front.
    let err = e
        .up(
            &decl("internet-facing", dbr().retain_on_delete()),
            &RunOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("retain_on_delete keeps the old one"),
        "{err}"
    );
}

/// A create refused because the name is taken, whose recovery could not look (the read
/// failed), stays pending marked refused: no later run adopts the lookalike for it.
#[tokio::test]
async fn a_refused_create_never_adopts_a_lookalike_later() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let foreign = cloud.add_foreign("www", &[(UNTAGGABLE, "true"), ("value", "1.2.3.4")]);
    let st = seal(|s| {
        s.add(
            "www",
            Mock::new()
                .name("www")
                .prop(UNTAGGABLE, "true")
                .prop("value", "1.2.3.4"),
        );
    });
    cloud.fail_on("www", Call::Read);
    let sum = e.up(&st, &RunOptions::default()).await.unwrap();
    assert!(failure(&sum, "www").contains("stays pending"), "{sum:?}");
    let pending = e.pending("dev").await.unwrap();
    assert!(pending.len() == 1 && pending[0].refused, "{pending:?}");
    cloud.clear_failures();
    // The next runs look again: the lookalike is no proof.
    let sum = e.up(&st, &RunOptions::default()).await.unwrap();
    assert!(
        failure(&sum, "www").contains("not managed by this stack"),
        "{sum:?}"
    );
    assert!(e.load_state("dev").await.unwrap().resources.is_empty());
    assert!(e.pending("dev").await.unwrap().is_empty());
    assert!(e
        .destroy("dev", &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(cloud.get(&foreign).is_some(), "the lookalike was deleted");
}

/// `retain_on_delete` declared with the replace holds when that replace was interrupted
/// after its create: the next run does not delete the old resource.
#[tokio::test(start_paused = true)]
async fn retain_on_delete_holds_for_a_replace_interrupted_after_its_create() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    e.up(
        &seal(|s| {
            s.add("logs", Mock::new().key("a"));
        }),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    let old = cloud.resources()[0].id.clone();
    let next = seal(|s| {
        s.add_with(
            "logs",
            Mock::new().key("b").duration(Duration::from_secs(1)),
            ResourceOptions::new().retain_on_delete(),
        );
    });
    interrupted_up(&e, &be, &next, Duration::from_millis(700)).await;
    assert_eq!(cloud.resources().len(), 2, "the new one was made");
    assert!(e
        .up(&next, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(
        cloud.get(&old).is_some(),
        "the retained old one was deleted"
    );
    let state = e.load_state("dev").await.unwrap();
    assert!(state.pending.is_empty(), "{:?}", state.pending);
    assert_eq!(state.resources.len(), 1);
}
