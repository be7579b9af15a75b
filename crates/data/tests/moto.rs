//! Contract tests of the data types against the local AWS (moto).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;
use strata_core::aws::Aws;
use strata_core::plan::Op;
use strata_core::{
    Context, Engine, MemoryBackend, Registry, RunOptions, SealedStack, Stack, State,
};
use strata_data::*;
use strata_testkit::LocalAws;

struct Env {
    engine: Engine,
    conf: aws_config::SdkConfig,
    stack: String,
}

async fn env(stack: &str) -> Env {
    let conf = LocalAws::shared().sdk_config().await;
    let mut reg = Registry::new();
    strata_data::register(&mut reg);
    Env {
        engine: Engine::new(Arc::new(MemoryBackend::new()))
            .with_context(Context::new().with(Aws::new(conf.clone())))
            .with_registry(&reg),
        conf,
        stack: stack.to_owned(),
    }
}

impl Env {
    fn stack(&self, build: impl FnOnce(&mut Stack)) -> SealedStack {
        let mut s = Stack::new(&self.stack);
        build(&mut s);
        s.seal().unwrap()
    }

    async fn ops(&self, st: &SealedStack) -> BTreeMap<String, Op> {
        self.engine
            .preview(st, &[])
            .await
            .unwrap()
            .steps
            .into_iter()
            .map(|s| (s.urn.name().to_owned(), s.op))
            .collect()
    }

    async fn up(&self, st: &SealedStack) {
        let sum = self.engine.up(st, &RunOptions::default()).await.unwrap();
        assert!(sum.is_success(), "{sum:?}");
        let again = self.engine.preview(st, &[]).await.unwrap();
        assert!(
            !again.has_changes(),
            "a second up would change: {:?}",
            again.steps
        );
    }

    async fn state(&self) -> State {
        self.engine.load_state(&self.stack).await.unwrap()
    }

    async fn drift(&self) -> BTreeMap<String, Vec<String>> {
        let report = self
            .engine
            .refresh(&self.stack, &RunOptions::default())
            .await
            .unwrap();
        assert!(report.summary.is_success(), "{:?}", report.summary);
        report
            .drift
            .into_iter()
            .map(|(u, c)| {
                (
                    u.name().to_owned(),
                    c.unwrap_or_default().into_iter().map(|c| c.path).collect(),
                )
            })
            .collect()
    }

    fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.conf)
                .force_path_style(true)
                .build(),
        )
    }
}

fn images(name: &'static str, versioned: bool, ia_days: i32) -> impl FnOnce(&mut Stack) {
    move |s: &mut Stack| {
        s.add(
            "images",
            Bucket::new(name)
                .versioning(versioned)
                .lifecycle(
                    LifecycleRule::new("tiering").transition(0, StorageClass::IntelligentTiering),
                )
                .tag("tier", "storage"),
        );
        s.add(
            "uploads",
            Bucket::new(format!("{name}-uploads"))
                .kms("arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555")
                .lifecycle(LifecycleRule::new("ia").transition(ia_days, StorageClass::StandardIa)),
        );
        s.add(
            "backups",
            Bucket::new(format!("{name}-backups"))
                .versioning(true)
                .lifecycle(LifecycleRule::new("archive").transition(90, StorageClass::Glacier).expire_after(365))
                .policy(json!({
                    "Version": "2012-10-17",
                    "Statement": [{"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                        "Resource": [format!("arn:aws:s3:::{name}-backups"), format!("arn:aws:s3:::{name}-backups/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
                })),
        );
    }
}

#[tokio::test]
async fn buckets_with_their_parts() {
    let e = env("bucket-contract").await;
    e.up(&e.stack(images("strata-contract-images", true, 90)))
        .await;
    let s3 = e.s3();
    let enc = s3
        .get_bucket_encryption()
        .bucket("strata-contract-images-uploads")
        .send()
        .await
        .unwrap();
    let d = enc.server_side_encryption_configuration().unwrap().rules()[0]
        .apply_server_side_encryption_by_default()
        .unwrap()
        .clone();
    assert_eq!(d.sse_algorithm().as_str(), "aws:kms");
    let pab = s3
        .get_public_access_block()
        .bucket("strata-contract-images")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pab.public_access_block_configuration()
            .unwrap()
            .block_public_policy(),
        Some(true)
    );
    let lc = s3
        .get_bucket_lifecycle_configuration()
        .bucket("strata-contract-images-backups")
        .send()
        .await
        .unwrap();
    let rule = &lc.rules()[0];
    assert_eq!(
        (
            rule.transitions()[0].days(),
            rule.expiration().and_then(|x| x.days())
        ),
        (Some(90), Some(365))
    );
    let tags = s3
        .get_bucket_tagging()
        .bucket("strata-contract-images")
        .send()
        .await
        .unwrap();
    assert!(tags.tag_set().iter().any(|t| t.key() == "strata:urn"));
    assert!(e.drift().await.is_empty());

    // In place: versioning suspended, a lifecycle change.
    let st = e.stack(images("strata-contract-images", false, 120));
    let ops = e.ops(&st).await;
    assert_eq!((ops["images"], ops["uploads"]), (Op::Update, Op::Update));
    e.up(&st).await;
    let tags = s3
        .get_bucket_tagging()
        .bucket("strata-contract-images")
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_set().iter().any(|t| t.key() == "strata:token"),
        "strata's tags survive tag updates"
    );

    // Drift: the public access block lifted out of band.
    s3.delete_public_access_block()
        .bucket("strata-contract-images")
        .send()
        .await
        .unwrap();
    let drift = e.drift().await;
    assert_eq!(
        drift.get("images"),
        Some(&vec!["block_public_access".to_owned()]),
        "{drift:?}"
    );
    e.up(&st).await;

    // A bucket with objects is not emptied unless force_destroy says so.
    // (Into the images bucket: moto enforces the backups bucket's TLS-only policy, and
    // these calls are plain HTTP.)
    s3.put_object()
        .bucket("strata-contract-images")
        .key("a.jpg")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(!sum.is_success());
    assert!(format!("{sum:?}").contains("force_destroy"), "{sum:?}");
    assert!(s3
        .head_bucket()
        .bucket("strata-contract-images")
        .send()
        .await
        .is_ok());
    // With force_destroy, every version goes and then the bucket.
    let st = e.stack(|s| {
        s.add(
            "images",
            Bucket::new("strata-contract-images")
                .lifecycle(
                    LifecycleRule::new("tiering").transition(0, StorageClass::IntelligentTiering),
                )
                .tag("tier", "storage")
                .force_destroy(true),
        );
    });
    e.up(&st).await;
    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert!(e.state().await.resources.is_empty());
    assert!(s3
        .head_bucket()
        .bucket("strata-contract-images")
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn bucket_declaration_errors() {
    let mut s = Stack::new("bad-data");
    s.add("upper", Bucket::new("Bad_Bucket"));
    s.add("ip", Bucket::new("192.168.1.1"));
    s.add(
        "early-ia",
        Bucket::new("early-ia")
            .lifecycle(LifecycleRule::new("r").transition(10, StorageClass::StandardIa)),
    );
    s.add(
        "expire-first",
        Bucket::new("expire-first").lifecycle(
            LifecycleRule::new("r")
                .transition(90, StorageClass::Glacier)
                .expire_after(30),
        ),
    );
    s.add(
        "replica",
        Bucket::new("replica-no-versioning")
            .replicate_to("arn:aws:s3:::dest", "arn:aws:iam::1:role/r"),
    );
    let err = s.seal().unwrap_err().to_string();
    for expected in [
        "::upper: field `name`",
        "::ip: field `name`: \"192.168.1.1\": a bucket name cannot look like an IP address",
        "::early-ia: field `lifecycle_rules.0.transitions.0.days`: 10 days",
        "::expire-first: field `lifecycle_rules.0.expiration_days`",
        "::replica: field `replication`",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}
