//! The engine against its own in-memory cloud.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use strata_core::testing::{Call, MemCloud, Mock, MockHandle};
use strata_core::*;

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register::<Mock>();
    r
}

fn engine(cloud: &MemCloud, backend: &MemoryBackend) -> Engine {
    Engine::new(Arc::new(backend.clone()))
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&registry())
}

fn seal(f: impl FnOnce(&mut Stack)) -> SealedStack {
    let mut s = Stack::new("dev");
    f(&mut s);
    s.seal().expect("stack seals")
}

fn abc(s: &mut Stack, a_value: &str) {
    let a = s.add("a", Mock::new().prop("v", a_value));
    let b = s.add("b", Mock::new().prop("vpc", a.id()));
    s.add("c", Mock::new().prop("b", b.arn()));
    s.export("a_id", a.id());
}

fn pos(log: &[testing::CallRecord], call: Call, name: &str) -> (u64, u64) {
    let r = log
        .iter()
        .find(|r| r.call == call && r.name == name && !r.failed)
        .unwrap_or_else(|| panic!("no {call:?} of {name} in {log:#?}"));
    (r.start, r.end)
}

#[tokio::test]
async fn up_creates_in_order_and_a_second_up_changes_nothing() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let stack = seal(|s| abc(s, "1"));
    let preview = e.preview(&stack, &[]).await.unwrap();
    assert_eq!(preview.count(Op::Create), 3);
    let rendered = preview.render();
    assert!(
        rendered.contains("vpc: (none) → (known after apply)"),
        "{rendered}"
    );
    assert!(cloud.resources().is_empty(), "preview made a call");

    let summary = e.up(&stack, &RunOptions::default()).await.unwrap();
    assert!(summary.is_success(), "{summary:?}");
    assert_eq!(summary.changed(), 3);
    let log = cloud.log();
    assert!(pos(&log, Call::Create, "a").1 < pos(&log, Call::Create, "b").0);
    assert!(pos(&log, Call::Create, "b").1 < pos(&log, Call::Create, "c").0);
    let res = cloud.resources();
    let a = res.iter().find(|r| r.name == "a").unwrap();
    let b = res.iter().find(|r| r.name == "b").unwrap();
    assert_eq!(b.props["vpc"], a.id);
    assert_eq!(b.urn, "urn:strata:dev::test:mock::b");

    let state = e.load_state("dev").await.unwrap();
    assert_eq!(state.outputs["a_id"], serde_json::json!(a.id));
    assert!(state.pending.is_empty());
    assert_eq!(
        state.resources[&Urn::parse(&b.urn).unwrap()].dependencies,
        vec![Urn::new("dev", "test:mock", "a")]
    );

    cloud.reset_log();
    assert!(!e.preview(&stack, &[]).await.unwrap().has_changes());
    let again = e.up(&stack, &RunOptions::default()).await.unwrap();
    assert_eq!(again.changed(), 0);
    assert_eq!(again.unchanged, 3);
    assert!(cloud.log().is_empty(), "a no-op up called the provider");
}

#[tokio::test]
async fn update_in_place_and_replace_create_before_delete() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    e.up(&seal(|s| abc(s, "1")), &RunOptions::default())
        .await
        .unwrap();
    let id_a = cloud
        .resources()
        .iter()
        .find(|r| r.name == "a")
        .unwrap()
        .id
        .clone();

    let plan = e.preview(&seal(|s| abc(s, "2")), &[]).await.unwrap();
    let step = plan.steps.iter().find(|s| s.urn.name() == "a").unwrap();
    assert_eq!(step.op, Op::Update);
    assert_eq!(step.changes[0].render(), "props.v: \"1\" → \"2\"");
    e.up(&seal(|s| abc(s, "2")), &RunOptions::default())
        .await
        .unwrap();
    let a = cloud.get(&id_a).unwrap();
    assert_eq!(a.props["v"], "2", "updated in place, same id");

    // Changing the key replaces `a`; `b` follows the new id; the old `a` goes last.
    cloud.reset_log();
    let keyed = |s: &mut Stack| {
        let a = s.add("a", Mock::new().prop("v", "2").key("k2"));
        let b = s.add("b", Mock::new().prop("vpc", a.id()));
        s.add("c", Mock::new().prop("b", b.arn()));
        s.export("a_id", a.id());
    };
    let plan = e.preview(&seal(keyed), &[]).await.unwrap();
    let ops: Vec<_> = plan
        .steps
        .iter()
        .map(|s| (s.urn.name().to_owned(), s.op))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("a".into(), Op::Replace),
            ("b".into(), Op::Update),
            ("c".into(), Op::Same)
        ]
    );
    let sum = e.up(&seal(keyed), &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let log = cloud.log();
    let create_a = pos(&log, Call::Create, "a");
    let update_b = pos(&log, Call::Update, "b");
    let delete_a = pos(&log, Call::Delete, "a");
    assert!(
        create_a.1 < update_b.0 && update_b.1 < delete_a.0,
        "{log:#?}"
    );
    assert!(cloud.get(&id_a).is_none(), "old a deleted");
    let new_a = cloud
        .resources()
        .into_iter()
        .find(|r| r.name == "a")
        .unwrap();
    assert_ne!(new_a.id, id_a);
    let b = cloud
        .resources()
        .into_iter()
        .find(|r| r.name == "b")
        .unwrap();
    assert_eq!(b.props["vpc"], new_a.id);
    assert!(e.load_state("dev").await.unwrap().pending.is_empty());
}

#[tokio::test]
async fn delete_before_replace_deletes_first() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |key: &'static str| {
        seal(move |s| {
            s.add_with(
                "x",
                Mock::new().key(key),
                ResourceOptions::new().delete_before_replace(),
            );
        })
    };
    e.up(&decl("1"), &RunOptions::default()).await.unwrap();
    cloud.reset_log();
    let plan = e.preview(&decl("2"), &[]).await.unwrap();
    assert!(plan.render().contains("(delete before replace)"));
    e.up(&decl("2"), &RunOptions::default()).await.unwrap();
    let log = cloud.log();
    assert!(pos(&log, Call::Delete, "x").1 < pos(&log, Call::Create, "x").0);
    assert_eq!(cloud.resources().len(), 1);
}

#[tokio::test]
async fn protect_refuses_delete_and_replace_at_plan_time() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |key: &'static str| {
        seal(move |s| {
            s.add_with("db", Mock::new().key(key), ResourceOptions::new().protect());
        })
    };
    e.up(&decl("1"), &RunOptions::default()).await.unwrap();
    cloud.reset_log();
    let err = e.up(&decl("2"), &RunOptions::default()).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("db") && msg.contains("protected") && msg.contains("key"),
        "{msg}"
    );
    let err = e
        .up(&seal(|_| {}), &RunOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("protected"), "{err}");
    let err = e.destroy("dev", &RunOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("protected"), "{err}");
    assert!(cloud.log().is_empty(), "a refused plan made calls");
    assert_eq!(cloud.resources().len(), 1);
    // The lock was released after the refusal.
    assert!(be.current_lock("dev").await.unwrap().is_none());
}

#[tokio::test]
async fn retain_on_delete_only_drops_from_state() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    e.up(
        &seal(|s| {
            s.add_with(
                "logs",
                Mock::new(),
                ResourceOptions::new().retain_on_delete(),
            );
        }),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    let plan = e.preview(&seal(|_| {}), &[]).await.unwrap();
    assert!(plan.render().contains("retain"), "{}", plan.render());
    e.up(&seal(|_| {}), &RunOptions::default()).await.unwrap();
    assert_eq!(cloud.resources().len(), 1);
    assert!(e.load_state("dev").await.unwrap().resources.is_empty());
}

#[tokio::test]
async fn ignore_changes_and_replace_on_changes() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |v: &'static str, w: &'static str| {
        seal(move |s| {
            s.add_with(
                "x",
                Mock::new().prop("v", v).prop("w", w),
                ResourceOptions::new()
                    .ignore_changes("props.v")
                    .replace_on_changes("props.w"),
            );
        })
    };
    e.up(&decl("1", "1"), &RunOptions::default()).await.unwrap();
    assert!(!e.preview(&decl("2", "1"), &[]).await.unwrap().has_changes());
    let plan = e.preview(&decl("2", "2"), &[]).await.unwrap();
    assert_eq!(plan.steps[0].op, Op::Replace);
    assert_eq!(
        plan.steps[0].changes.len(),
        1,
        "the ignored change is not shown"
    );
    e.up(&decl("2", "2"), &RunOptions::default()).await.unwrap();
    let x = cloud.resources().pop().unwrap();
    assert_eq!((x.props["v"].as_str(), x.props["w"].as_str()), ("1", "2"));
}

#[tokio::test]
async fn depends_on_orders_without_data_and_may_refer_forward() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let stack = seal(|s| {
        s.add_with(
            "first",
            Mock::new(),
            ResourceOptions::new().depends_on("second"),
        );
        s.add("second", Mock::new().duration(Duration::from_millis(5)));
    });
    e.up(&stack, &RunOptions::default()).await.unwrap();
    let log = cloud.log();
    assert!(pos(&log, Call::Create, "second").1 < pos(&log, Call::Create, "first").0);
    e.destroy("dev", &RunOptions::default()).await.unwrap();
    let log = cloud.log();
    assert!(pos(&log, Call::Delete, "first").1 < pos(&log, Call::Delete, "second").0);
}

#[test]
fn declaration_errors_are_collected_and_name_resource_and_field() {
    let mut other = Stack::new("other");
    let foreign = other.add("foreign", Mock::new());
    let mut s = Stack::new("dev");
    s.add("a", Mock::new());
    s.add("a", Mock::new());
    s.add("long", Mock::new().prop("v", "x".repeat(300)));
    s.add("refs", Mock::new().prop("vpc", foreign.id()));
    s.add_with("p", Mock::new(), ResourceOptions::new().depends_on("q"));
    s.add_with("q", Mock::new(), ResourceOptions::new().depends_on("p"));
    s.add_with(
        "r",
        Mock::new(),
        ResourceOptions::new().depends_on("missing"),
    );
    let errs = s.seal().unwrap_err();
    let msg = errs.to_string();
    assert_eq!(errs.0.len(), 5, "{msg}");
    assert!(msg.contains("duplicate resource name \"a\""), "{msg}");
    assert!(
        msg.contains("urn:strata:dev::test:mock::long: field `props.v`"),
        "{msg}"
    );
    assert!(
        msg.contains("refs: field `props.vpc` refers to urn:strata:other"),
        "{msg}"
    );
    assert!(
        msg.contains("field `depends_on` refers to \"missing\""),
        "{msg}"
    );
    assert!(
        msg.contains("cycle: urn:strata:dev::test:mock::p → urn:strata:dev::test:mock::q"),
        "{msg}"
    );
}

#[tokio::test]
async fn target_applies_only_the_targets_and_their_dependencies() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let stack = seal(|s| abc(s, "1"));
    let opts = RunOptions {
        targets: vec![Urn::new("dev", "test:mock", "b")],
        ..Default::default()
    };
    e.up(&stack, &opts).await.unwrap();
    let mut names: Vec<_> = cloud.resources().into_iter().map(|r| r.name).collect();
    names.sort();
    assert_eq!(names, vec!["a", "b"]);
    let bad = RunOptions {
        targets: vec![Urn::new("dev", "test:mock", "nope")],
        ..Default::default()
    };
    assert!(e
        .up(&stack, &bad)
        .await
        .unwrap_err()
        .to_string()
        .contains("--target"));
}

#[tokio::test]
async fn destroy_runs_in_reverse_order_and_empties_everything() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    e.up(&seal(|s| abc(s, "1")), &RunOptions::default())
        .await
        .unwrap();
    cloud.reset_log();
    let sum = e.destroy("dev", &RunOptions::default()).await.unwrap();
    assert_eq!(sum.succeeded.len(), 3);
    let log = cloud.log();
    assert!(pos(&log, Call::Delete, "c").1 < pos(&log, Call::Delete, "b").0);
    assert!(pos(&log, Call::Delete, "b").1 < pos(&log, Call::Delete, "a").0);
    assert!(cloud.resources().is_empty());
    let st = e.load_state("dev").await.unwrap();
    assert!(st.resources.is_empty() && st.outputs.is_empty());
}

#[tokio::test]
async fn a_failure_skips_only_its_dependents_and_the_next_up_finishes() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = || {
        seal(|s| {
            abc(s, "1");
            s.add(
                "independent",
                Mock::new().duration(Duration::from_millis(20)),
            );
        })
    };
    cloud.fail_on("b", Call::Create);
    let mut events = e.subscribe();
    let sum = e.up(&decl(), &RunOptions::default()).await.unwrap();
    assert!(!sum.is_success());
    assert_eq!(sum.failed.len(), 1);
    assert_eq!(sum.failed[0].0.name(), "b");
    assert_eq!(sum.skipped.len(), 1);
    assert_eq!(sum.skipped[0].0.name(), "c");
    assert!(sum.skipped[0].2.contains("::b failed"));
    let mut names: Vec<_> = cloud.resources().into_iter().map(|r| r.name).collect();
    names.sort();
    assert_eq!(names, vec!["a", "independent"]);
    let mut kinds = Vec::new();
    while let Ok(ev) = events.try_recv() {
        kinds.push(
            serde_json::to_value(&ev).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert!(
        kinds.contains(&"step_failed".to_owned()) && kinds.contains(&"step_skipped".to_owned())
    );
    assert_eq!(kinds.last().map(String::as_str), Some("summary"));

    cloud.clear_failures();
    let sum = e.up(&decl(), &RunOptions::default()).await.unwrap();
    assert!(sum.is_success());
    assert_eq!(sum.changed(), 2);
    assert_eq!(cloud.resources().len(), 4);
}

#[tokio::test]
async fn refresh_reports_drift_property_by_property_and_updates_state() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let stack = seal(|s| abc(s, "1"));
    e.up(&stack, &RunOptions::default()).await.unwrap();
    let res = cloud.resources();
    let a = res.iter().find(|r| r.name == "a").unwrap();
    let c = res.iter().find(|r| r.name == "c").unwrap();
    cloud.tamper(&a.id, "v", "edited");
    cloud.remove(&c.id);

    let report = e.refresh("dev", &RunOptions::default()).await.unwrap();
    assert_eq!(report.drift.len(), 2);
    let a_drift = report.drift[&Urn::new("dev", "test:mock", "a")]
        .as_ref()
        .unwrap();
    assert_eq!(a_drift.len(), 1);
    assert_eq!(a_drift[0].render(), "props.v: \"1\" → \"edited\"");
    assert!(report.drift[&Urn::new("dev", "test:mock", "c")].is_none());

    let plan = e.preview(&stack, &[]).await.unwrap();
    let ops: Vec<_> = plan
        .steps
        .iter()
        .map(|s| (s.urn.name().to_owned(), s.op))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("a".into(), Op::Update),
            ("b".into(), Op::Same),
            ("c".into(), Op::Create)
        ]
    );
    e.up(&stack, &RunOptions::default()).await.unwrap();
    assert!(e
        .refresh("dev", &RunOptions::default())
        .await
        .unwrap()
        .drift
        .is_empty());
}

#[tokio::test]
async fn import_adopts_an_existing_resource() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    // Something made outside this stack.
    let mut outside = Stack::new("outside");
    outside.add("legacy", Mock::new().prop("v", "old"));
    e.up(&outside.seal().unwrap(), &RunOptions::default())
        .await
        .unwrap();
    let id = cloud.resources()[0].id.clone();

    let r = e.import("dev", "test:mock", "legacy", &id).await.unwrap();
    assert_eq!(r.urn, Urn::new("dev", "test:mock", "legacy"));
    let stack = seal(|s| {
        s.add("legacy", Mock::new().prop("v", "old"));
    });
    assert!(!e.preview(&stack, &[]).await.unwrap().has_changes());
    let err = e
        .import("dev", "test:mock", "legacy", &id)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already in state"));
    let err = e
        .import("dev", "test:mock", "ghost", "mock-999")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no test:mock with id \"mock-999\""),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn cancel_starts_nothing_new_and_saves_what_finished() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be).parallel(1);
    let stack = seal(|s| {
        for i in 0..5 {
            s.add(
                format!("r{i}"),
                Mock::new().duration(Duration::from_secs(1)),
            );
        }
    });
    let opts = RunOptions::default();
    let mut events = e.subscribe();
    let cancel = opts.cancel.clone();
    let watcher = tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if matches!(ev, Event::StepStarted { .. }) {
                cancel.cancel();
            }
        }
    });
    let sum = e.up(&stack, &opts).await.unwrap();
    watcher.abort();
    assert!(sum.cancelled);
    assert_eq!(sum.succeeded.len(), 1, "the running step finished");
    assert_eq!(sum.skipped.len(), 4);
    assert_eq!(cloud.resources().len(), 1);
    assert_eq!(e.load_state("dev").await.unwrap().resources.len(), 1);
    assert!(
        be.current_lock("dev").await.unwrap().is_none(),
        "lock released"
    );
}

#[tokio::test]
async fn secrets_never_appear_in_plans_events_or_state() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be).passphrase(Some("correct horse".to_owned()));
    let decl = |pw: &'static str| {
        seal(move |s| {
            let db = s.add("db", Mock::new().secret(pw));
            s.export("db_arn", db.arn());
        })
    };
    let mut events = e.subscribe();
    e.up(&decl("hunter2-first"), &RunOptions::default())
        .await
        .unwrap();
    let plan = e.preview(&decl("hunter2-second"), &[]).await.unwrap();
    let text = plan.render();
    assert!(text.contains("secret: [secret] → [secret]"), "{text}");
    e.up(&decl("hunter2-second"), &RunOptions::default())
        .await
        .unwrap();
    cloud.tamper(&cloud.resources()[0].id, "x", "y");
    e.refresh("dev", &RunOptions::default()).await.unwrap();
    let mut all = text;
    all.push_str(&serde_json::to_string(&plan.steps).unwrap());
    while let Ok(ev) = events.try_recv() {
        all.push_str(&serde_json::to_string(&ev).unwrap());
    }
    all.push_str(&String::from_utf8_lossy(&be.raw("dev").unwrap()));
    all.push_str(&String::from_utf8_lossy(
        &be.raw_journal("dev").unwrap_or_default(),
    ));
    assert!(!all.contains("hunter2"), "{all}");
    assert!(all.contains("$strata:sealed"));
    assert_eq!(
        cloud.resources()[0].secret.as_deref(),
        Some("hunter2-second")
    );
    // With the passphrase the secret reads back: the same value plans no change to it
    // (only the out-of-band `x` is undone).
    let plan = e.preview(&decl("hunter2-second"), &[]).await.unwrap();
    let paths: Vec<&str> = plan.steps[0]
        .changes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(paths, vec!["props.x"]);
}

#[tokio::test]
async fn secrets_need_the_right_passphrase_and_are_never_written_in_plaintext() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let decl = || {
        seal(|s| {
            s.add("db", Mock::new().secret("hunter2"));
        })
    };
    // No passphrase: the create is refused before any call.
    let sum = engine(&cloud, &be)
        .up(&decl(), &RunOptions::default())
        .await;
    let failed = match sum {
        Ok(s) => s
            .failed
            .iter()
            .map(|f| f.2.clone())
            .collect::<Vec<_>>()
            .join(";"),
        Err(e) => e.to_string(),
    };
    assert!(failed.contains("STRATA_PASSPHRASE"), "{failed}");
    assert!(cloud.resources().is_empty(), "a call was made");
    let raw = String::from_utf8_lossy(&be.raw("dev").unwrap_or_default()).into_owned();
    assert!(!raw.contains("hunter2"));

    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    engine(&cloud, &be)
        .passphrase(Some("right".to_owned()))
        .up(&decl(), &RunOptions::default())
        .await
        .unwrap();
    let wrong = engine(&cloud, &be).passphrase(Some("wrong".to_owned()));
    let err = wrong.up(&decl(), &RunOptions::default()).await.unwrap_err();
    assert!(
        err.to_string().contains("not this stack's passphrase"),
        "{err}"
    );
    let none = engine(&cloud, &be);
    let err = none
        .destroy("dev", &RunOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("set STRATA_PASSPHRASE"), "{err}");
    // Reading without it works: the secret stays sealed.
    let st = none.load_state("dev").await.unwrap();
    assert_eq!(st.resources.len(), 1);
    assert!(!serde_json::to_string(&st).unwrap().contains("hunter2"));
    let sealed = &st.resources.values().next().unwrap().args["secret"];
    assert_eq!(strata_core::value::display_value(sealed), "[secret]");
}

#[tokio::test]
async fn a_held_lock_fails_fast_naming_the_holder() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let held = be.lock("dev", "up", Duration::ZERO).await.unwrap();
    let err = e
        .up(&seal(|s| abc(s, "1")), &RunOptions::default())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&held.id) && msg.contains(&held.host), "{msg}");
    assert!(cloud.resources().is_empty());
}

#[tokio::test]
async fn file_backend_checkpoints_survive_and_refuse_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = MemCloud::new();
    let be = FileBackend::new(dir.path());
    let e = Engine::new(Arc::new(FileBackend::new(dir.path())))
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&registry());
    e.up(&seal(|s| abc(s, "1")), &RunOptions::default())
        .await
        .unwrap();
    // Snapshot plus journal hold the whole state.
    let st = be.load("dev").await.unwrap().unwrap();
    assert_eq!(st.resources.len(), 3);
    assert!(st.pending.is_empty());
    let snapshot = std::fs::read(be.state_path("dev")).unwrap();
    let snap = State::from_bytes(&snapshot, "x").unwrap();
    assert_eq!(snap.to_bytes().unwrap(), snapshot, "byte-stable round trip");
    let journal = std::fs::read_to_string(be.journal_path("dev")).unwrap();
    assert!(journal.lines().count() >= 1, "{journal}");
    assert!(snap.serial < st.serial);

    // A tampered journal line is refused, and nothing is overwritten.
    let tampered = journal.replacen("mock-1", "mock-9", 1);
    std::fs::write(be.journal_path("dev"), &tampered).unwrap();
    let err = e
        .up(&seal(|s| abc(s, "1")), &RunOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("checksum"), "{err}");
    assert_eq!(
        std::fs::read_to_string(be.journal_path("dev")).unwrap(),
        tampered
    );
    assert_eq!(std::fs::read(be.state_path("dev")).unwrap(), snapshot);
}

#[tokio::test(start_paused = true)]
async fn the_longest_remaining_path_starts_first() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be).parallel(1);
    let stack = seal(|s| {
        // Declared first, but short: a 5 s leaf.
        s.add("quick", Mock::new().duration(Duration::from_secs(5)));
        // A 1 s subnet-like step in front of a 600 s database.
        let subnet = s.add("subnet", Mock::new().duration(Duration::from_secs(1)));
        s.add(
            "db",
            Mock::new()
                .prop("subnet", subnet.id())
                .duration(Duration::from_secs(600)),
        );
    });
    e.up(&stack, &RunOptions::default()).await.unwrap();
    let order: Vec<String> = cloud.log().into_iter().map(|r| r.name).collect();
    assert_eq!(order, vec!["subnet", "db", "quick"]);
}

#[tokio::test]
async fn a_failed_update_does_not_report_unplanned_deletes_as_skipped() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    e.up(&seal(|s| abc(s, "1")), &RunOptions::default())
        .await
        .unwrap();
    cloud.fail_on("a", Call::Update);
    let sum = e
        .up(&seal(|s| abc(s, "2")), &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(sum.failed.len(), 1);
    let skipped: Vec<_> = sum
        .skipped
        .iter()
        .map(|(u, op, _)| (u.name(), *op))
        .collect();
    assert_eq!(skipped, vec![("b", Op::Same), ("c", Op::Same)]);
}

#[tokio::test]
async fn checkpoints_write_o_n_bytes() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be).parallel(10);
    let n = 5000;
    let stack = seal(|s| {
        for i in 0..n {
            s.add(format!("r{i}"), Mock::new().prop("v", "x"));
        }
    });
    e.up(&stack, &RunOptions::default()).await.unwrap();
    let (bytes, writes) = be.write_stats();
    let final_size = e.load_state("dev").await.unwrap().to_bytes().unwrap().len() as u64;
    let ratio = bytes as f64 / final_size as f64;
    // Whole snapshots per step would write about n/2 times the final size.
    assert!(
        ratio <= 5.0,
        "wrote {bytes} bytes in {writes} writes for a {final_size}-byte state ({ratio:.1}x)"
    );
    assert!(writes >= 2);
    eprintln!("checkpoints: {bytes} bytes in {writes} writes, final {final_size} ({ratio:.2}x)");
}

#[tokio::test]
async fn an_old_half_owed_by_an_earlier_replace_waits_for_its_dependents() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |key: &'static str| {
        seal(move |s| {
            let subnet = s.add("subnet", Mock::new().key(key));
            s.add("instance", Mock::new().prop("subnet", subnet.id()));
        })
    };
    e.up(&decl("a"), &RunOptions::default()).await.unwrap();
    let old = cloud
        .resources()
        .into_iter()
        .find(|r| r.name == "subnet")
        .unwrap();

    // The replace creates the new subnet, but the instance cannot move: the old subnet
    // must stay, owed a delete.
    cloud.fail_on("instance", Call::Update);
    let sum = e.up(&decl("b"), &RunOptions::default()).await.unwrap();
    assert_eq!(sum.failed.len(), 1);
    assert!(
        cloud.get(&old.id).is_some(),
        "old subnet deleted under its instance"
    );
    let st = e.load_state("dev").await.unwrap();
    assert_eq!(st.pending.len(), 1, "{:?}", st.pending);

    // Next run: the instance moves first, then the old subnet goes, once.
    cloud.clear_failures();
    cloud.reset_log();
    let sum = e.up(&decl("b"), &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let log = cloud.log();
    let deletes: Vec<_> = log.iter().filter(|r| r.call == Call::Delete).collect();
    assert_eq!(deletes.len(), 1, "{log:#?}");
    assert_eq!(deletes[0].id, old.id);
    assert!(
        pos(&log, Call::Update, "instance").1 < deletes[0].start,
        "{log:#?}"
    );
    assert!(cloud.get(&old.id).is_none());
    assert!(e.load_state("dev").await.unwrap().pending.is_empty());
}

#[tokio::test]
async fn a_target_cannot_pull_a_resource_from_under_untargeted_ones() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |key: &'static str| {
        seal(move |s| {
            let a = s.add("a", Mock::new().key(key));
            s.add("b", Mock::new().prop("a", a.id()));
        })
    };
    e.up(&decl("1"), &RunOptions::default()).await.unwrap();
    cloud.reset_log();
    let only_a = RunOptions {
        targets: vec![Urn::new("dev", "test:mock", "a")],
        ..Default::default()
    };
    let err = e.up(&decl("2"), &only_a).await.unwrap_err().to_string();
    assert!(
        err.contains("would replace") && err.contains("::b"),
        "{err}"
    );
    assert!(cloud.log().is_empty());
    // Targeting both is fine.
    let both = RunOptions {
        targets: vec![
            Urn::new("dev", "test:mock", "a"),
            Urn::new("dev", "test:mock", "b"),
        ],
        ..Default::default()
    };
    assert!(e.up(&decl("2"), &both).await.unwrap().is_success());
}

#[tokio::test]
async fn changes_that_cannot_be_ordered_are_refused_before_any_call() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    // X is replaced delete-before-replace; r (deleted) uses X; y (updated) used r.
    e.up(
        &seal(|s| {
            let x = s.add_with(
                "x",
                Mock::new().key("a"),
                ResourceOptions::new().delete_before_replace(),
            );
            let r = s.add("r", Mock::new().prop("x", x.id()));
            s.add("y", Mock::new().prop("x", x.id()).prop("r", r.id()));
        }),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    cloud.reset_log();
    let next = seal(|s| {
        let x = s.add_with(
            "x",
            Mock::new().key("b"),
            ResourceOptions::new().delete_before_replace(),
        );
        s.add("y", Mock::new().prop("x", x.id()));
    });
    let err = e
        .up(&next, &RunOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be ordered"), "{err}");
    assert!(cloud.log().is_empty(), "calls were made: {:?}", cloud.log());
}

/// Throttling that outlives the SDK's retries: the engine tries the step again with
/// backoff. A create whose answer was lost after the cloud made the resource is
/// recovered by its token and adopted, never made twice.
#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_and_a_lost_create_is_adopted_not_repeated() {
    let cloud = MemCloud::new();
    let backend = MemoryBackend::new();
    let e = engine(&cloud, &backend);
    cloud.fail_transiently("a", Call::Create, 2, false);
    cloud.fail_transiently("b", Call::Create, 1, true);
    let st = seal(|s| abc(s, "1"));
    let sum = e.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert_eq!(
        cloud.resources().len(),
        3,
        "one resource each: b was not made twice"
    );
    let log = cloud.log();
    let creates = |name: &str| {
        log.iter()
            .filter(|r| r.call == Call::Create && r.name == name)
            .count()
    };
    assert_eq!(
        (creates("a"), creates("b")),
        (3, 1),
        "b's retry found it by its token"
    );
    assert!(!e.preview(&st, &[]).await.unwrap().has_changes());

    // An update and a delete that are throttled once each go through too.
    cloud.fail_transiently("a", Call::Update, 1, false);
    let st = seal(|s| abc(s, "2"));
    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    cloud.fail_transiently("c", Call::Delete, 1, false);
    assert!(e
        .destroy("dev", &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(cloud.resources().is_empty());

    // Past the engine's retries, the step fails and says why.
    cloud.fail_transiently("a", Call::Create, 10, false);
    let st = seal(|s| abc(s, "1"));
    let sum = e.up(&st, &RunOptions::default()).await.unwrap();
    assert!(!sum.is_success());
    assert!(
        format!("{sum:?}").contains("injected throttling"),
        "{sum:?}"
    );
}
