//! Hardening against the in-memory cloud: what embedders and CI runners rely on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use strata_core::testing::{Call, MemCloud, Mock, MockHandle};
use strata_core::*;

use common::{engine, seal};

/// A panicking step fails (with the panic's message), its dependents are skipped, the
/// rest goes on, and the caller's cancel token is untouched (tenants may share it).
#[tokio::test]
async fn a_panicking_step_fails_alone_and_never_cancels_the_callers_token() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    cloud.panic_on("buggy", Call::Create);
    let st = seal(|s| {
        let b = s.add("buggy", Mock::new());
        s.add("after", Mock::new().prop("b", b.id()));
        s.add("independent", Mock::new());
    });
    let opts = RunOptions::default();
    let sum = e.up(&st, &opts).await.unwrap();
    assert!(
        !opts.cancel.is_cancelled(),
        "the caller's token was cancelled"
    );
    assert!(!sum.cancelled);
    let (urn, _, err) = &sum.failed[0];
    assert_eq!(urn.name(), "buggy");
    assert!(err.contains("injected panic of Create on buggy"), "{err}");
    assert_eq!(sum.skipped.len(), 1, "{sum:?}");
    assert_eq!(sum.skipped[0].0.name(), "after");
    assert_eq!(sum.succeeded.len(), 1, "{sum:?}");
    assert!(be.current_lock("dev").await.unwrap().is_none());
}

/// A `--lock-timeout` of any size waits (it does not overflow the clock).
#[tokio::test(start_paused = true)]
async fn a_huge_lock_timeout_waits_instead_of_panicking() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be).lock_timeout(Duration::MAX);
    let st = seal(|s| {
        s.add("a", Mock::new());
    });
    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    let held = be.lock("dev", "someone", Duration::ZERO).await.unwrap();
    let opts = RunOptions::default();
    let waiting = tokio::time::timeout(Duration::from_secs(3600), e.up(&st, &opts)).await;
    assert!(waiting.is_err(), "it should still be waiting for the lock");
    be.unlock("dev", &held.id).await.unwrap();
}

#[test]
fn two_exports_of_one_name_are_a_declaration_error() {
    let mut s = Stack::new("dev");
    let a = s.add("a", Mock::new());
    s.export("id", a.id());
    s.export("id", a.arn());
    let err = s.seal().unwrap_err().to_string();
    assert!(
        err.contains("stack output \"id\" is exported twice"),
        "{err}"
    );
}

#[test]
fn stack_and_logical_names_are_checked_when_the_stack_is_sealed() {
    for (stack, why) in [
        ("", "it is empty"),
        ("../x", "'/' is not allowed"),
        ("a/b", "'/' is not allowed"),
        ("..", "must not start with '.'"),
        ("prod::eu", "':' is not allowed"),
    ] {
        let mut s = Stack::new(stack);
        s.add("a", Mock::new());
        let err = s.seal().unwrap_err().to_string();
        assert!(
            err.contains(&format!("invalid stack name {stack:?}")) && err.contains(why),
            "{stack:?}: {err}"
        );
    }
    let mut s = Stack::new("dev");
    s.add("", Mock::new());
    s.add("web::1", Mock::new());
    s.add("web#1", Mock::new());
    s.add("x".repeat(300), Mock::new());
    s.add("ok name/with:chars=+-@_.", Mock::new());
    let err = s.seal().unwrap_err().to_string();
    assert!(err.contains("invalid name \"\": it is empty"), "{err}");
    assert!(err.contains("invalid name \"web::1\""), "{err}");
    assert!(err.contains("'#' is not allowed"), "{err}");
    assert!(
        err.contains("a tag value (strata:urn) takes at most 256"),
        "{err}"
    );
    assert!(!err.contains("ok name"), "{err}");
}

#[tokio::test]
async fn empty_backend_urls_are_refused() {
    for url in ["", "file://", "file://  "] {
        let err = strata_core::state::open_backend(url)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("backend"), "{url:?}: {err}");
    }
}

/// Dropping a run's future (a timeout, a `select!`) releases its lock: the process's next
/// run goes on, and resolves what the dropped run left pending.
#[tokio::test(start_paused = true)]
async fn a_dropped_run_releases_its_lock_and_the_next_run_resolves_its_pending() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let st = seal(|s| {
        s.add("slow", Mock::new().duration(Duration::from_secs(10)));
    });
    let opts = RunOptions::default();
    assert!(
        tokio::time::timeout(Duration::from_secs(7), e.up(&st, &opts))
            .await
            .is_err()
    );
    // The release runs on the runtime, right after the drop.
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(
        be.current_lock("dev").await.unwrap().is_none(),
        "the lock is still held"
    );
    assert_eq!(e.pending("dev").await.unwrap().len(), 1);
    let sum = e.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert_eq!(
        cloud.resources().len(),
        1,
        "made once: adopted by its token"
    );
    assert!(e.pending("dev").await.unwrap().is_empty());
}

/// A run whose lock was released (`state unlock`) while it ran must not overwrite the
/// state of the run that took the stack over: its next checkpoint is refused, and its
/// state is kept in `DIR/recovery/`. (Two backends over one directory are two processes
/// as far as the file backend knows.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_backend_writer_whose_lock_was_released_is_fenced() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = MemCloud::new();
    let mut r = Registry::new();
    r.register::<Mock>();
    let engine_over = |be: FileBackend| {
        Engine::new(Arc::new(be))
            .with_context(Context::new().with(cloud.clone()))
            .with_registry(&r)
    };
    let a = engine_over(FileBackend::new(dir.path()));
    let b_backend = FileBackend::new(dir.path());
    let b = engine_over(FileBackend::new(dir.path()));
    let old_run = seal(|s| {
        s.add("quick", Mock::new());
        s.add("slow", Mock::new().duration(Duration::from_millis(1500)));
    });
    let stale = tokio::spawn(async move { a.up(&old_run, &RunOptions::default()).await });
    // While `slow` is being made, someone runs `state unlock` and a new `up`.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let held = b_backend
        .current_lock("dev")
        .await
        .unwrap()
        .expect("a's lock");
    b_backend.unlock("dev", &held.id).await.unwrap();
    let new_run = seal(|s| {
        s.add("fresh", Mock::new());
    });
    let sum = b.up(&new_run, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let after_b = b.load_state("dev").await.unwrap();

    let outcome = stale.await.unwrap();
    let err = match outcome {
        Err(e) => e.to_string(),
        Ok(sum) => format!("{sum:?}"),
    };
    assert!(err.contains("lock was released"), "{err}");
    // B's state is intact, and A's is kept aside.
    let now = b.load_state("dev").await.unwrap();
    assert_eq!(now.resources, after_b.resources);
    assert_eq!(now.serial, after_b.serial);
    let kept: Vec<_> = std::fs::read_dir(dir.path().join("recovery"))
        .unwrap()
        .collect();
    assert!(!kept.is_empty(), "the refused state was not kept");
}

#[tokio::test]
async fn import_checks_the_name_it_gives() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let err = e
        .import("dev", "test:mock", "web#1", "mock-1")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("'#' is not allowed"), "{err}");
    assert!(cloud.log().is_empty());
}

/// A delete-first replace deletes the old resource only once what the new one needs is
/// ready: a failed dependency leaves it standing.
#[tokio::test]
async fn a_delete_first_replace_waits_for_its_own_dependencies() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let decl = |v: &'static str, key: &'static str| {
        seal(move |s| {
            let dep = s.add("dep", Mock::new().prop("v", v));
            s.add_with(
                "db",
                Mock::new().key(key).prop("dep", dep.id()),
                ResourceOptions::new().delete_before_replace(),
            );
        })
    };
    e.up(&decl("1", "a"), &RunOptions::default()).await.unwrap();
    let db = cloud
        .resources()
        .into_iter()
        .find(|r| r.name == "db")
        .unwrap();
    cloud.fail_on("dep", Call::Update);
    let sum = e.up(&decl("2", "b"), &RunOptions::default()).await.unwrap();
    assert!(!sum.is_success());
    assert!(
        cloud.get(&db.id).is_some(),
        "the old db was deleted before its dependency was ready"
    );
}

/// The plan shown to `up_approved` is made under the lock: while the caller looks at it,
/// no other run can change the stack, and exactly that plan is applied. Declining
/// changes nothing and releases the lock.
#[tokio::test]
async fn an_approved_up_applies_exactly_the_plan_it_showed_under_the_lock() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let other = engine(&cloud, &be);
    let v1 = seal(|s| {
        s.add("a", Mock::new().prop("size", "1"));
    });
    let v2 = seal(|s| {
        s.add("a", Mock::new().prop("size", "2"));
        s.add("b", Mock::new());
    });
    e.up(&v1, &RunOptions::default()).await.unwrap();
    cloud.reset_log();

    // Declined: nothing changes, and the lock is free again.
    let declined = e
        .up_approved(&v2, &RunOptions::default(), |plan: &Plan| {
            assert_eq!((plan.count(Op::Create), plan.count(Op::Update)), (1, 1));
            std::future::ready(false)
        })
        .await
        .unwrap();
    assert!(declined.is_none());
    assert!(cloud.log().is_empty(), "{:?}", cloud.log());
    assert!(be.current_lock("dev").await.unwrap().is_none());

    // While the plan is being looked at, another run is locked out.
    let shown = std::sync::Mutex::new(None);
    let summary = e
        .up_approved(&v2, &RunOptions::default(), |plan: &Plan| {
            *shown.lock().unwrap() = Some(plan.steps.clone());
            async {
                let err = other.up(&v1, &RunOptions::default()).await.unwrap_err();
                assert!(err.to_string().contains("is locked by"), "{err}");
                true
            }
        })
        .await
        .unwrap()
        .expect("approved");
    let shown = shown.into_inner().unwrap().unwrap();
    let mut applied: Vec<(String, Op)> = summary
        .succeeded
        .iter()
        .map(|(u, op)| (u.name().to_owned(), *op))
        .collect();
    let mut planned: Vec<(String, Op)> = shown
        .iter()
        .filter(|s| s.op != Op::Same)
        .map(|s| (s.urn.name().to_owned(), s.op))
        .collect();
    applied.sort();
    planned.sort();
    assert_eq!(applied, planned);
    assert!(be.current_lock("dev").await.unwrap().is_none());
}

/// `destroy_approved` shows what it would delete, worked out under the lock.
#[tokio::test]
async fn an_approved_destroy_shows_its_deletes_and_declining_keeps_everything() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be);
    let st = seal(|s| {
        let a = s.add("a", Mock::new());
        s.add("b", Mock::new().prop("a", a.id()));
        s.add_with(
            "kept",
            Mock::new(),
            ResourceOptions::new().retain_on_delete(),
        );
    });
    e.up(&st, &RunOptions::default()).await.unwrap();
    let a = Urn::new("dev", "test:mock", "a");
    let opts = RunOptions {
        targets: vec![a],
        ..RunOptions::default()
    };
    let out = e
        .destroy_approved("dev", &opts, |plan: &Plan| {
            let mut names: Vec<&str> = plan.steps.iter().map(|s| s.urn.name()).collect();
            names.sort_unstable();
            assert_eq!(names, ["a", "b"], "the target and what depends on it");
            assert_eq!(plan.count(Op::Delete), 2);
            std::future::ready(false)
        })
        .await
        .unwrap();
    assert!(out.is_none());
    assert_eq!(cloud.resources().len(), 3);
    assert_eq!(e.load_state("dev").await.unwrap().resources.len(), 3);
    let sum = e
        .destroy_approved("dev", &RunOptions::default(), |plan: &Plan| {
            let kept = plan.steps.iter().find(|s| s.urn.name() == "kept").unwrap();
            assert!(kept.retain);
            std::future::ready(true)
        })
        .await
        .unwrap()
        .unwrap();
    assert!(sum.is_success());
    assert_eq!(cloud.resources().len(), 1, "only the retained one stays");
}

/// A run's lock names the holder the embedder gives, and its heartbeat is refreshed
/// while the run goes on; a lock whose heartbeat stopped looks abandoned.
#[tokio::test]
async fn a_runs_lock_names_the_embedders_user_and_keeps_a_heartbeat() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be).heartbeat_every(Duration::from_millis(100));
    // Heartbeats are recorded to the second.
    cloud.set_latency(Duration::from_millis(2200));
    let st = seal(|s| {
        s.add("slow", Mock::new());
    });
    let opts = RunOptions {
        who: Some("svc-deployer".to_owned()),
        ..RunOptions::default()
    };
    let run = e.up(&st, &opts);
    tokio::pin!(run);
    let watch = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let first = be.current_lock("dev").await.unwrap().expect("held");
        assert_eq!(first.who, "svc-deployer");
        tokio::time::sleep(Duration::from_millis(1400)).await;
        let later = be.current_lock("dev").await.unwrap().expect("held");
        (first, later)
    };
    let ((first, later), sum) = tokio::join!(watch, &mut run);
    assert!(sum.unwrap().is_success());
    assert_eq!(first.id, later.id);
    assert!(
        later.heartbeat > first.heartbeat,
        "the heartbeat moved: {:?} then {:?}",
        first.heartbeat,
        later.heartbeat
    );
    let shown = later.to_string();
    assert!(
        shown.contains("svc-deployer@") && shown.contains("looks alive"),
        "{shown}"
    );
    // A record whose heartbeat stopped long ago reads as abandoned.
    let old = LockInfo {
        heartbeat: Some("2020-01-01T00:00:00Z".to_owned()),
        host: "elsewhere".to_owned(),
        ..later
    };
    assert!(old.looks_abandoned());
    assert!(old.to_string().contains("looks gone"), "{old}");
}

/// An `ignore_changes` or `replace_on_changes` path that names no field of the type is a
/// declaration error naming the resource, the option and the nearest field.
#[test]
fn option_paths_that_name_no_field_are_declaration_errors() {
    let mut s = Stack::new("dev");
    s.add_with(
        "a",
        Mock::new(),
        ResourceOptions::new()
            .ignore_changes("prop.v")
            .replace_on_changes("props.w")
            .replace_on_changes("duraton_ms")
            .ignore_changes("props..x"),
    );
    s.add_with(
        "b",
        Mock::new(),
        ResourceOptions::new()
            .ignore_changes("*")
            .ignore_changes("props.anything")
            // A field left unset (and out of the serialized args) is still a field.
            .ignore_changes("key"),
    );
    let err = s.seal().unwrap_err().to_string();
    assert!(
        err.contains(
            "resource urn:strata:dev::test:mock::a: field `ignore_changes`: \"prop.v\" names no field of test:mock (did you mean \"props\"?)"
        ),
        "{err}"
    );
    assert!(
        err.contains("field `replace_on_changes`: \"duraton_ms\" names no field of test:mock (did you mean \"duration_ms\"?); its fields are: duration_ms, key, name, props, secret"),
        "{err}"
    );
    assert!(err.contains("\"props..x\" is not a property path"), "{err}");
    assert!(!err.contains("props.w") && !err.contains("::b"), "{err}");
}

/// A preview without the passphrase cannot compare sealed secrets: it counts them instead
/// of reporting them as changes, so an unchanged stack previews as unchanged; values
/// derived from sealed outputs resolve to secrets it cannot know, not to errors.
#[tokio::test]
async fn a_preview_without_the_passphrase_does_not_report_sealed_secrets_as_changes() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let decl = |pw: &'static str, size: &'static str| {
        seal(move |s| {
            let db = s.add("db", Mock::new().secret(pw).prop("size", size));
            let conn = db.secret().map(|pw: Option<Secret<String>>| {
                format!(
                    "pg://app:{}@db",
                    pw.map(Secret::into_inner).unwrap_or_default()
                )
            });
            s.add("app", Mock::new().prop("conn", conn));
            s.add("plain", Mock::new());
        })
    };
    engine(&cloud, &be)
        .passphrase(Some("correct horse".to_owned()))
        .up(&decl("hunter2-first", "1"), &RunOptions::default())
        .await
        .unwrap();
    let keyless = engine(&cloud, &be);
    let plan = keyless
        .preview(&decl("hunter2-first", "1"), &[])
        .await
        .unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!(plan.secrets_not_compared, 2, "{}", plan.render());
    assert!(plan
        .render()
        .contains("2 secret value(s) were not compared"));
    // Other changes still show.
    let plan = keyless
        .preview(&decl("hunter2-first", "2"), &[])
        .await
        .unwrap();
    assert_eq!(plan.count(Op::Update), 1, "{}", plan.render());
    // State holds nothing derived from the plaintext.
    let raw = String::from_utf8_lossy(&be.raw("dev").unwrap()).into_owned();
    assert!(!raw.contains("hunter2"), "{raw}");
}

/// What `Output::map` derives from a secret is secret: sealed in state, redacted in
/// plans and outputs, never drifting on refresh; the resource gets its plaintext.
#[tokio::test]
async fn a_value_mapped_from_a_secret_is_secret() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be).passphrase(Some("correct horse".to_owned()));
    let decl = || {
        seal(|s| {
            let db = s.add("db", Mock::new().secret("hunter2"));
            let conn = db.secret().map(|pw: Option<Secret<String>>| {
                format!(
                    "postgres://app:{}@db",
                    pw.map(Secret::into_inner).unwrap_or_default()
                )
            });
            s.add("app", Mock::new().prop("conn", conn.clone()));
            s.export("conn", conn);
        })
    };
    let mut events = e.subscribe();
    let plan = e.preview(&decl(), &[]).await.unwrap();
    assert!(plan.has_changes());
    let sum = e.up(&decl(), &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let app = cloud
        .resources()
        .into_iter()
        .find(|r| r.name == "app")
        .unwrap();
    assert_eq!(app.props["conn"], "postgres://app:hunter2@db");
    let state = e.load_state("dev").await.unwrap();
    let shown = value::display_value(&state.outputs["conn"]);
    assert_eq!(shown, "[secret]");
    let app_state = state
        .resources
        .values()
        .find(|r| r.urn.name() == "app")
        .unwrap();
    assert!(
        value::is_secret(&app_state.args["props"]["conn"]),
        "{:?}",
        app_state.args
    );
    // Refresh reads the plain value back: it stays secret, and is no drift.
    let report = e.refresh("dev", &RunOptions::default()).await.unwrap();
    assert!(report.drift.is_empty(), "{:?}", report.drift);
    let plan = e.preview(&decl(), &[]).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    let mut all = plan.render();
    all.push_str(&String::from_utf8_lossy(&be.raw("dev").unwrap()));
    all.push_str(&format!("{:?}", e.load_state("dev").await.unwrap()));
    while let Ok(ev) = events.try_recv() {
        all.push_str(&serde_json::to_string(&ev).unwrap());
    }
    assert!(!all.contains("hunter2"), "{all}");
}

/// `map` returning a value that mixes a secret with what it derives is secret as a whole;
/// a list of secrets read back in another order stays secret.
#[tokio::test]
async fn partly_secret_results_and_reordered_lists_stay_secret() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be).passphrase(Some("correct horse".to_owned()));
    let st = seal(|s| {
        let db = s.add("db", Mock::new().secret("hunter2"));
        let both = db.secret().map(|pw: Option<Secret<String>>| {
            let pw = pw.map(Secret::into_inner).unwrap_or_default();
            (Secret::new(pw.clone()), format!("url-{pw}"))
        });
        let url = both.map(|(_, url): (Secret<String>, String)| url);
        s.add("app", Mock::new().prop("url", url));
    });
    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    let raw = String::from_utf8_lossy(&be.raw("dev").unwrap()).into_owned();
    assert!(!raw.contains("hunter2"), "{raw}");
    let state = e.load_state("dev").await.unwrap();
    let app = state
        .resources
        .values()
        .find(|r| r.urn.name() == "app")
        .unwrap();
    assert!(
        value::is_secret(&app.args["props"]["url"]),
        "{:?}",
        app.args
    );
}

/// A run whose lock is released under it (`state unlock`) notices at its next heartbeat:
/// it starts no new step and fails saying so; the caller's token is untouched.
#[tokio::test]
async fn a_run_that_loses_its_lock_stops_and_fails() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be).heartbeat_every(Duration::from_millis(100));
    let st = seal(|s| {
        let a = s.add("a", Mock::new().duration(Duration::from_millis(600)));
        let b = s.add("b", Mock::new().prop("a", a.id()));
        s.add("c", Mock::new().prop("b", b.id()));
    });
    let opts = RunOptions::default();
    let run = e.up(&st, &opts);
    let unlock = async {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let held = be.current_lock("dev").await.unwrap().expect("held");
        be.unlock("dev", &held.id).await.unwrap();
    };
    let (result, ()) = tokio::join!(run, unlock);
    let err = result.unwrap_err().to_string();
    assert!(err.contains("was released while this run held it"), "{err}");
    let names: Vec<String> = cloud.resources().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["a"], "no step started after the lock was lost");
    assert!(
        !opts.cancel.is_cancelled(),
        "the caller's token was cancelled"
    );
}

/// A lock written without heartbeats (by an older strata) is never judged dead by age.
#[test]
fn a_lock_without_heartbeats_is_not_judged_by_its_age() {
    let old = LockInfo {
        heartbeat: None,
        created: "2020-01-01T00:00:00Z".to_owned(),
        host: "elsewhere".to_owned(),
        ..LockInfo::new("up")
    };
    assert!(!old.looks_abandoned());
    assert!(
        old.to_string()
            .contains("whether the holder is alive is unknown"),
        "{old}"
    );
}

/// A value made secret without changing (a literal, then the same plaintext derived from
/// a secret) is an update that calls nothing: only state is resealed.
#[tokio::test]
async fn a_change_of_secrecy_only_calls_nothing() {
    let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
    let e = engine(&cloud, &be).passphrase(Some("correct horse".to_owned()));
    let decl = |secret: bool| {
        seal(move |s| {
            let db = s.add("db", Mock::new().secret("x"));
            let conn: Input<String> = if secret {
                db.secret()
                    .map(|pw: Option<Secret<String>>| {
                        format!("pg://{}", pw.map(Secret::into_inner).unwrap_or_default())
                    })
                    .into()
            } else {
                "pg://x".into()
            };
            s.add("app", Mock::new().prop("conn", conn));
        })
    };
    assert!(e
        .up(&decl(false), &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    let plan = e.preview(&decl(true), &[]).await.unwrap();
    assert_eq!(plan.count(Op::Update), 1, "{}", plan.render());
    assert!(!plan.render().contains("pg://x"), "{}", plan.render());
    cloud.reset_log();
    assert!(e
        .up(&decl(true), &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert!(
        cloud.log().iter().all(|c| c.call != Call::Update),
        "{:?}",
        cloud.log()
    );
    let state = e.load_state("dev").await.unwrap();
    let app = state
        .resources
        .values()
        .find(|r| r.urn.name() == "app")
        .unwrap();
    assert!(
        value::is_secret(&app.args["props"]["conn"]),
        "{:?}",
        app.args
    );
    assert!(
        value::is_secret(&app.outputs["props"]["conn"]),
        "{:?}",
        app.outputs
    );
    assert!(!e.preview(&decl(true), &[]).await.unwrap().has_changes());
}
