//! The S3 backend against the local AWS (moto): bootstrap, conditional writes, stale
//! writers, both lock kinds racing, force-unlock, and refusing corrupt or newer state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use strata_core::state::{Backend, S3Backend, State, StateError};
use strata_core::testing::{MemCloud, Mock, MockHandle};
use strata_core::{Context, Engine, Registry, RunOptions, Stack};
use strata_testkit::LocalAws;

/// A plain, unsigned HTTP GET (moto does not check signatures).
fn raw_get(endpoint: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let host = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

async fn conf() -> aws_config::SdkConfig {
    LocalAws::shared().sdk_config().await
}

fn s3(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    )
}

async fn backend(url: &str) -> S3Backend {
    let dir = tempfile::tempdir().unwrap().keep();
    S3Backend::from_url(url, &conf().await)
        .unwrap()
        .with_recovery_dir(dir)
}

#[tokio::test]
async fn bootstrap_is_idempotent_and_sets_the_bucket_up_properly() {
    let b = backend("s3://strata-boot/state?lock_table=boot-locks").await;
    b.bootstrap().await.unwrap();
    b.bootstrap().await.unwrap();
    let c = conf().await;
    let s3 = s3(&c);
    // moto answers GetBucketVersioning with a root element the Rust SDK refuses
    // (`GetBucketVersioningResponse`), so read it over plain HTTP.
    let v = raw_get(LocalAws::shared().endpoint(), "/strata-boot?versioning");
    assert!(v.contains("<Status>Enabled</Status>"), "{v}");
    let enc = s3
        .get_bucket_encryption()
        .bucket("strata-boot")
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert!(rule.apply_server_side_encryption_by_default().is_some());
    let pab = s3
        .get_public_access_block()
        .bucket("strata-boot")
        .send()
        .await
        .unwrap();
    let cfg = pab.public_access_block_configuration().unwrap();
    assert_eq!(cfg.block_public_acls(), Some(true));
    assert_eq!(cfg.restrict_public_buckets(), Some(true));
    let ddb = aws_sdk_dynamodb::Client::new(&c);
    let t = ddb
        .describe_table()
        .table_name("boot-locks")
        .send()
        .await
        .unwrap();
    let t = t.table().unwrap();
    assert_eq!(t.key_schema()[0].attribute_name(), "LockID");
    assert_eq!(
        t.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str()),
        Some("PAY_PER_REQUEST")
    );
}

#[tokio::test]
async fn an_engine_runs_against_s3_state() {
    let url = "s3://strata-engine/p?lock_table=engine-locks";
    let b = backend(url).await;
    b.bootstrap().await.unwrap();
    let cloud = MemCloud::new();
    let mut reg = Registry::new();
    reg.register::<Mock>();
    let e = Engine::new(Arc::new(b))
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&reg);
    let mut s = Stack::new("dev");
    let a = s.add("a", Mock::new());
    s.add("b", Mock::new().prop("a", a.id()));
    let st = s.seal().unwrap();
    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    // A second process sees the same state and plans nothing.
    let e2 = Engine::new(Arc::new(backend(url).await))
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&reg);
    assert!(!e2.preview(&st, &[]).await.unwrap().has_changes());
    assert!(e2
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    e2.destroy("dev", &RunOptions::default()).await.unwrap();
    assert!(cloud.resources().is_empty());
}

#[tokio::test]
async fn a_stale_writer_is_refused_and_keeps_its_state_locally() {
    let url = "s3://strata-stale/x?lock=s3";
    let first = backend(url).await;
    first.bootstrap().await.unwrap();
    let mut st = State::new("dev");
    first
        .save("dev", &st.lineage, st.to_bytes().unwrap())
        .await
        .unwrap();

    // Two writers read the same version; the second one to write is refused.
    let a = backend(url).await;
    let b = backend(url).await;
    let mut sa = a.load("dev").await.unwrap().unwrap();
    let mut sb = b.load("dev").await.unwrap().unwrap();
    sa.serial += 1;
    a.save("dev", &sa.lineage, sa.to_bytes().unwrap())
        .await
        .unwrap();
    sb.serial += 5;
    let err = b
        .save("dev", &sb.lineage, sb.to_bytes().unwrap())
        .await
        .unwrap_err();
    let StateError::StaleWrite { recovery, .. } = &err else {
        panic!("{err}");
    };
    let kept = State::from_bytes(&std::fs::read(recovery).unwrap(), "x").unwrap();
    assert_eq!(kept.serial, sb.serial);
    // The object still holds the first writer's state.
    let now = backend(url).await.load("dev").await.unwrap().unwrap();
    assert_eq!(now.serial, sa.serial);

    // A writer that never read the state may not overwrite it either.
    st.serial = 99;
    let blind = backend(url).await;
    assert!(matches!(
        blind.save("dev", &st.lineage, st.to_bytes().unwrap()).await,
        Err(StateError::StaleWrite { .. })
    ));
}

#[tokio::test]
async fn corrupt_or_newer_state_is_refused_and_never_overwritten() {
    let url = "s3://strata-corrupt/y?lock=s3";
    let b = backend(url).await;
    b.bootstrap().await.unwrap();
    let c = conf().await;
    let s3 = s3(&c);
    for (stack, body) in [
        ("garbage", b"{not json".to_vec()),
        (
            "newer",
            br#"{"schema_version":99,"checksum":"x","state":{}}"#.to_vec(),
        ),
    ] {
        s3.put_object()
            .bucket("strata-corrupt")
            .key(format!("y/{stack}.json"))
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        let err = b.load(stack).await.unwrap_err();
        assert!(
            matches!(
                err,
                StateError::Corrupt { .. } | StateError::NewerSchema { .. }
            ),
            "{err}"
        );
        let st = State::new(stack);
        assert!(b
            .save(stack, &st.lineage, st.to_bytes().unwrap())
            .await
            .is_err());
        let now = s3
            .get_object()
            .bucket("strata-corrupt")
            .key(format!("y/{stack}.json"))
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        assert_eq!(now.to_vec(), body);
    }
}

async fn race(url: &str, contenders: usize, rounds: usize) {
    let first = backend(url).await;
    first.bootstrap().await.unwrap();
    let mut backends = Vec::new();
    for _ in 0..contenders {
        backends.push(Arc::new(backend(url).await));
    }
    for round in 0..rounds {
        let tasks: Vec<_> = backends
            .iter()
            .map(|b| {
                let b = b.clone();
                tokio::spawn(async move { b.lock("dev", "up", Duration::ZERO).await.ok() })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            if let Some(l) = t.await.unwrap() {
                winners.push(l);
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "{url}: round {round}: {} winners",
            winners.len()
        );
        first.unlock("dev", &winners[0].id).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_for_the_dynamodb_lock_exactly_one_wins_each_time() {
    race("s3://strata-race-ddb/r?lock_table=race-locks", 6, 15).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_for_the_s3_lock_object_exactly_one_wins_each_time() {
    race("s3://strata-race-s3/r?lock=s3", 6, 15).await;
}

#[tokio::test]
async fn a_held_lock_names_its_holder_and_only_its_id_releases_it() {
    for url in [
        "s3://strata-held/h?lock_table=held-locks",
        "s3://strata-held/h2?lock=s3",
    ] {
        let a = backend(url).await;
        a.bootstrap().await.unwrap();
        let held = a.lock("dev", "up", Duration::ZERO).await.unwrap();
        let b = backend(url).await;
        let err = b
            .lock("dev", "destroy", Duration::from_millis(600))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&held.id) && msg.contains("state unlock"),
            "{msg}"
        );
        assert!(b.unlock("dev", "not-the-id").await.is_err());
        assert_eq!(b.current_lock("dev").await.unwrap().unwrap().id, held.id);
        // Force-unlock from another process, with the id from the message.
        b.unlock("dev", &held.id).await.unwrap();
        assert!(b.current_lock("dev").await.unwrap().is_none());
        b.lock("dev", "up", Duration::ZERO).await.unwrap();
    }
}

/// The holder refreshes its lock's heartbeat; once its lock was released (and taken by
/// another), its heartbeat says so and never overwrites the new holder's record.
#[tokio::test]
async fn a_locks_heartbeat_is_refreshed_only_by_its_holder() {
    for url in [
        "s3://strata-beat/h?lock_table=beat-locks",
        "s3://strata-beat/h2?lock=s3",
    ] {
        let a = backend(url).await;
        a.bootstrap().await.unwrap();
        let held = a.lock("dev", "up", Duration::ZERO).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(a.heartbeat("dev", &held).await.unwrap(), "{url}");
        let now = a.current_lock("dev").await.unwrap().unwrap();
        assert_eq!(now.id, held.id);
        assert!(now.heartbeat > held.heartbeat, "{url}: {now:?}");
        assert!(now.to_string().contains("looks alive"), "{now}");
        let b = backend(url).await;
        b.unlock("dev", &held.id).await.unwrap();
        let theirs = b.lock("dev", "destroy", Duration::ZERO).await.unwrap();
        assert!(!a.heartbeat("dev", &held).await.unwrap(), "{url}");
        assert_eq!(
            b.current_lock("dev").await.unwrap().unwrap(),
            theirs,
            "{url}: the new holder's record is untouched"
        );
    }
}

#[tokio::test]
async fn an_unreadable_lock_item_is_an_error_and_can_be_released() {
    let url = "s3://strata-garbled/g?lock_table=garbled-locks";
    let b = backend(url).await;
    b.bootstrap().await.unwrap();
    let ddb = aws_sdk_dynamodb::Client::new(&conf().await);
    ddb.put_item()
        .table_name("garbled-locks")
        .item(
            "LockID",
            aws_sdk_dynamodb::types::AttributeValue::S("strata-garbled/g/dev.json".to_owned()),
        )
        .item(
            "Info",
            aws_sdk_dynamodb::types::AttributeValue::S("{not json".to_owned()),
        )
        .send()
        .await
        .unwrap();
    let err = b.lock("dev", "up", Duration::ZERO).await.unwrap_err();
    assert!(err.to_string().contains("state unlock"), "{err}");
    b.unlock("dev", "any").await.unwrap();
    b.lock("dev", "up", Duration::ZERO).await.unwrap();
}

#[tokio::test]
async fn checkpoints_are_journal_entries_and_a_new_process_replays_them() {
    let url = "s3://strata-journal/j?lock=s3";
    let b = Arc::new(backend(url).await);
    b.bootstrap().await.unwrap();
    let cloud = MemCloud::new();
    let mut reg = Registry::new();
    reg.register::<Mock>();
    let e = Engine::new(b.clone())
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&reg)
        .parallel(4);
    let mut s = Stack::new("dev");
    let mut prev: Option<strata_core::Handle<Mock>> = None;
    for k in 0..120 {
        let mut m = Mock::new().prop("k", k.to_string());
        if let Some(p) = &prev {
            if k % 3 != 0 {
                m = m.prop("after", p.id());
            }
        }
        prev = Some(s.add(format!("r{k}"), m));
    }
    let st = s.seal().unwrap();
    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    // Entries were written as their own objects, and everything written is a small
    // multiple of the final state (whole snapshots per step would be about N/2 times it).
    let c = conf().await;
    let listed = s3(&c)
        .list_objects_v2()
        .bucket("strata-journal")
        .prefix("j/dev.journal/")
        .send()
        .await
        .unwrap();
    let snapshot = s3(&c)
        .get_object()
        .bucket("strata-journal")
        .key("j/dev.json")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let on_disk = State::from_bytes(&snapshot, "x").unwrap();
    let (bytes, writes) = b.write_stats();
    assert!(writes > 10, "{writes} writes");
    let fresh = backend(url).await.load("dev").await.unwrap().unwrap();
    assert_eq!(fresh.resources.len(), 120);
    let final_size = fresh.to_bytes().unwrap().len() as u64;
    assert!(bytes < 8 * final_size, "{bytes} bytes for {final_size}");
    // The snapshot alone is behind: the journal carries the rest.
    if listed.key_count().unwrap_or(0) > 0 {
        assert!(on_disk.serial < fresh.serial);
    }
    for r in fresh.resources.values() {
        assert!(
            cloud.resources().iter().any(|c| c.id == r.id),
            "{} not in the cloud",
            r.urn
        );
    }
    // A second process plans nothing, and a destroy through it empties the cloud.
    let e2 = Engine::new(Arc::new(backend(url).await))
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&reg);
    assert!(!e2.preview(&st, &[]).await.unwrap().has_changes());
    e2.destroy("dev", &RunOptions::default()).await.unwrap();
    assert!(cloud.resources().is_empty());
    assert!(backend(url)
        .await
        .load("dev")
        .await
        .unwrap()
        .unwrap()
        .resources
        .is_empty());
}

#[tokio::test]
async fn a_stale_journal_writer_is_refused() {
    let url = "s3://strata-stale-journal/x?lock=s3";
    let first = backend(url).await;
    first.bootstrap().await.unwrap();
    let st = State::new("dev");
    first
        .save("dev", &st.lineage, st.to_bytes().unwrap())
        .await
        .unwrap();
    let outputs = |v: u64| {
        [("v".to_owned(), serde_json::json!(v))]
            .into_iter()
            .collect()
    };
    let entry =
        |serial, v| strata_core::testing::journal_entry(&st.lineage, serial, &outputs(v)).unwrap();

    // Two writers read the same state; both append serial 1: the second is refused.
    let a = backend(url).await;
    let b = backend(url).await;
    a.load("dev").await.unwrap().unwrap();
    b.load("dev").await.unwrap().unwrap();
    assert!(a.append("dev", &st.lineage, entry(1, 1)).await.unwrap());
    // Writing the same entry again (a retried request) is harmless.
    assert!(a.append("dev", &st.lineage, entry(1, 1)).await.unwrap());
    assert!(matches!(
        b.append("dev", &st.lineage, entry(1, 2)).await,
        Err(StateError::StaleWrite { .. })
    ));
    // b cannot compact over a's entry either.
    let mut sb = st.clone();
    sb.serial = 2;
    assert!(matches!(
        b.save("dev", &sb.lineage, sb.to_bytes().unwrap()).await,
        Err(StateError::StaleWrite { .. })
    ));
    let now = backend(url).await.load("dev").await.unwrap().unwrap();
    assert_eq!(
        (now.serial, now.outputs["v"].clone()),
        (1, serde_json::json!(1))
    );

    // a compacts; an entry b then writes on top of the replaced snapshot is refused too.
    let mut sa = now.clone();
    sa.serial = 2;
    a.save("dev", &sa.lineage, sa.to_bytes().unwrap())
        .await
        .unwrap();
    let c = conf().await;
    let left = s3(&c)
        .list_objects_v2()
        .bucket("strata-stale-journal")
        .prefix("x/dev.journal/")
        .send()
        .await
        .unwrap();
    assert_eq!(left.key_count(), Some(0), "the snapshot covers the journal");
    assert!(matches!(
        b.append("dev", &st.lineage, entry(3, 3)).await,
        Err(StateError::StaleWrite { .. })
    ));
    // a goes on appending on its own snapshot, and a reader sees a's entry only.
    assert!(a.append("dev", &st.lineage, entry(3, 4)).await.unwrap());
    let now = backend(url).await.load("dev").await.unwrap().unwrap();
    assert_eq!(
        (now.serial, now.outputs["v"].clone()),
        (3, serde_json::json!(4))
    );
}

async fn all_objects(bucket: &str) -> String {
    let c = conf().await;
    let client = s3(&c);
    let listed = client
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let mut all = String::new();
    for o in listed.contents() {
        let body = client
            .get_object()
            .bucket(bucket)
            .key(o.key().unwrap())
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        all.push_str(&String::from_utf8_lossy(&body));
    }
    all
}

#[tokio::test]
async fn secrets_on_s3_use_kms_envelope_encryption() {
    use strata_core::secrets::{KeySource, KmsKeys};
    let c = conf().await;
    let keys = KmsKeys::new(&c, "alias/strata-test-secrets");
    keys.bootstrap().await.unwrap();
    keys.bootstrap().await.unwrap();
    let kms = aws_sdk_kms::Client::new(&c);
    let key = kms
        .describe_key()
        .key_id("alias/strata-test-secrets")
        .send()
        .await
        .unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    let rotation = kms
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    assert!(rotation.key_rotation_enabled());

    let url = "s3://strata-kms/s?lock=s3";
    backend(url).await.bootstrap().await.unwrap();
    let cloud = MemCloud::new();
    let mut reg = Registry::new();
    reg.register::<Mock>();
    let engine = |keys: Option<KmsKeys>, passphrase: Option<&'static str>| {
        let cloud = cloud.clone();
        let reg = reg.clone();
        async move {
            let mut e = Engine::new(Arc::new(backend(url).await))
                .with_context(Context::new().with(cloud))
                .with_registry(&reg);
            if let Some(k) = keys {
                e = e.secrets(Arc::new(k));
            }
            e.passphrase(passphrase.map(str::to_owned))
        }
    };
    let mut s = Stack::new("dev");
    s.add("db", Mock::new().secret("kms-plaintext-pw"));
    let st = s.seal().unwrap();
    let e = engine(Some(keys.clone()), None).await;
    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());

    // Nothing in the bucket holds the plaintext; the state records the encrypted data key.
    let stored = all_objects("strata-kms").await;
    assert!(!stored.contains("kms-plaintext-pw"), "{stored}");
    let raw = backend(url).await.load("dev").await.unwrap().unwrap();
    let enc = raw.encryption.clone().unwrap();
    assert_eq!(enc.kind, "awskms");
    assert!(enc.key_id.as_deref().unwrap().contains(&key_id), "{enc:?}");
    assert!(enc.data_key.is_some() && enc.salt.is_none());

    // Another process with the key opens the secrets and plans nothing.
    let e2 = engine(Some(KmsKeys::new(&c, "alias/strata-test-secrets")), None).await;
    let opened = e2.load_state("dev").await.unwrap();
    let db = opened.resources.values().next().unwrap();
    assert!(db.args.to_string().contains("kms-plaintext-pw"));
    assert!(!e2.preview(&st, &[]).await.unwrap().has_changes());

    // Without the KMS key source (a passphrase does not help), changing it is refused.
    for e in [engine(None, None).await, engine(None, Some("pw")).await] {
        let err = e.up(&st, &RunOptions::default()).await.unwrap_err();
        assert!(err.to_string().contains("AWS KMS key"), "{err}");
    }
    // The data key is bound to its stack: under another stack's name it does not open.
    assert!(keys.open("other", &enc).await.is_err());
    assert!(keys.open("dev", &enc).await.is_ok());
    e2.destroy("dev", &RunOptions::default()).await.unwrap();
}
