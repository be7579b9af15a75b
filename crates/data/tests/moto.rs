//! Contract tests of the data types against the local AWS (moto).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;
use strata_core::aws::Aws;
use strata_core::plan::Op;
use strata_core::{Context, RunOptions, Stack};
use strata_data::*;
use strata_testkit::LocalAws;

use strata_testkit::Harness as Env;

fn s3_client(e: &Env) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&e.conf)
            .force_path_style(true)
            .build(),
    )
}

async fn env(stack: &str) -> Env {
    Env::new(stack, strata_data::register).await
}

/// A destroy that must be refused: the error, or the failed run's summary.
async fn refusal(e: &Env) -> String {
    match e.engine.destroy(&e.stack, &RunOptions::default()).await {
        Ok(sum) => {
            assert!(!sum.is_success(), "the destroy went through");
            format!("{sum:?}")
        }
        Err(err) => err.to_string(),
    }
}

/// What blocks the delete of the DB instance `contract-db`, read live.
async fn db_blocker(e: &Env) -> Option<strata_core::FieldError> {
    use strata_core::resource::{Cx, Resource};
    let ctx = Context::new().with(Aws::new(e.conf.clone()));
    let urn = strata_core::Urn::new(&e.stack, DbInstance::TYPE, "db");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "t",
    };
    let live = DbInstance::read(&cx, "contract-db", None)
        .await
        .unwrap()
        .expect("the instance");
    DbInstance::delete_blocker(&cx, "contract-db", &live.args, &live.outputs)
        .await
        .unwrap()
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
    let s3 = s3_client(&e);
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
    let refused = refusal(&e).await;
    assert!(refused.contains("force_destroy"), "{refused}");
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
async fn buckets_replicate_across_regions() {
    let e = env("bucket-replication").await;
    let st = e.stack(|s| {
        let dest = s.add(
            "replica",
            Bucket::new("strata-contract-replica").versioning(true),
        );
        s.add(
            "backups",
            Bucket::new("strata-contract-replicated")
                .versioning(true)
                .replicate_to(dest.arn(), "arn:aws:iam::123456789012:role/s3-replication"),
        );
    });
    e.up(&st).await;
    let r = s3_client(&e)
        .get_bucket_replication()
        .bucket("strata-contract-replicated")
        .send()
        .await
        .unwrap();
    let c = r.replication_configuration().unwrap();
    assert_eq!(c.role(), "arn:aws:iam::123456789012:role/s3-replication");
    assert_eq!(
        c.rules()[0].destination().unwrap().bucket(),
        "arn:aws:s3:::strata-contract-replica"
    );
    assert!(e.drift().await.is_empty());
    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
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

/// Two subnets in two AZs, made with the SDK (the network crate is not a dependency).
async fn subnets(conf: &aws_config::SdkConfig, cidr: &str) -> (String, String) {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("{cidr}.0.0/16"))
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let mut ids = Vec::new();
    for (k, az) in ["a", "b"].iter().enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("{cidr}.{k}.0/24"))
            .availability_zone(format!("eu-central-1{az}"))
            .send()
            .await
            .unwrap();
        ids.push(s.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    (ids[0].clone(), ids[1].clone())
}

#[tokio::test]
async fn rds_groups_instance_and_snapshot() {
    let e = env("rds-contract").await;
    let (a, b) = subnets(&e.conf, "10.60").await;
    let kms = aws_sdk_kms::Client::new(&e.conf);
    let key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let build = |class: &'static str, gib: i32, days: i32, protect: bool| {
        let (a, b, key) = (a.clone(), b.clone(), key.clone());
        move |s: &mut Stack| {
            let group = s.add("db-subnets", DbSubnetGroup::new("contract-db", [a, b]));
            let params = s.add(
                "pg14",
                DbParameterGroup::new("contract-pg14", "postgres14")
                    .parameter("rds.force_ssl", "1"),
            );
            s.add(
                "db",
                DbInstance::postgres("contract-db", "14.10", class, group.name())
                    .storage(gib, StorageType::Gp3)
                    .multi_az(true)
                    .parameter_group(params.name())
                    .kms_key(key)
                    .backups(days, "03:00-04:00")
                    // (Tied to the backup days to change with them: 70, then 140.)
                    .master_user_secret_rotation(i64::from(days) * 10)
                    .deletion_protection(protect),
            );
        }
    };
    e.up(&e.stack(build("db.r5.xlarge", 500, 7, true))).await;
    let rds = aws_sdk_rds::Client::new(&e.conf);
    // The RDS-managed master secret rotates on the declared schedule.
    let sm = aws_sdk_secretsmanager::Client::new(&e.conf);
    let rotation = || {
        let (rds, sm) = (rds.clone(), sm.clone());
        async move {
            let d = rds
                .describe_db_instances()
                .db_instance_identifier("contract-db")
                .send()
                .await
                .unwrap();
            let arn = d.db_instances()[0]
                .master_user_secret()
                .and_then(|m| m.secret_arn())
                .expect("an RDS-managed master secret")
                .to_owned();
            let s = sm.describe_secret().secret_id(arn).send().await.unwrap();
            (
                s.rotation_enabled(),
                s.rotation_rules()
                    .and_then(|r| r.automatically_after_days()),
            )
        }
    };
    assert_eq!(rotation().await, (Some(true), Some(70)));
    let d = rds
        .describe_db_instances()
        .db_instance_identifier("contract-db")
        .send()
        .await
        .unwrap();
    let d = &d.db_instances()[0];
    assert_eq!(
        (
            d.engine(),
            d.db_instance_class(),
            d.allocated_storage(),
            d.storage_type(),
            d.multi_az()
        ),
        (
            Some("postgres"),
            Some("db.r5.xlarge"),
            Some(500),
            Some("gp3"),
            Some(true)
        )
    );
    assert_eq!(
        (
            d.storage_encrypted(),
            d.publicly_accessible(),
            d.backup_retention_period()
        ),
        (Some(true), Some(false), Some(7))
    );
    assert!(d.deletion_protection().unwrap());
    let p = rds
        .describe_db_parameters()
        .db_parameter_group_name("contract-pg14")
        .source("user")
        .send()
        .await
        .unwrap();
    assert!(p
        .parameters()
        .iter()
        .any(|p| p.parameter_name() == Some("rds.force_ssl") && p.parameter_value() == Some("1")));
    assert!(e.drift().await.is_empty());

    // In place: class, storage and backups, applied immediately.
    let st = e.stack(build("db.r5.2xlarge", 600, 14, true));
    assert_eq!(e.ops(&st).await["db"], Op::Update);
    e.up(&st).await;
    let d = rds
        .describe_db_instances()
        .db_instance_identifier("contract-db")
        .send()
        .await
        .unwrap();
    let d = &d.db_instances()[0];
    assert_eq!(
        (
            d.db_instance_class(),
            d.allocated_storage(),
            d.backup_retention_period()
        ),
        (Some("db.r5.2xlarge"), Some(600), Some(14))
    );
    assert_eq!(
        rotation().await,
        (Some(true), Some(140)),
        "rotation changed in place"
    );

    // Drift: backups shortened out of band.
    rds.modify_db_instance()
        .db_instance_identifier("contract-db")
        .backup_retention_period(3)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["db"], vec!["backup_retention_period"]);
    e.up(&st).await;

    // A manual snapshot.
    let st2 = e.stack(|s| {
        build("db.r5.2xlarge", 600, 14, true)(s);
        s.add(
            "weekly",
            DbSnapshot::new("contract-db", "contract-db-2026-w47"),
        );
    });
    e.up(&st2).await;
    let snap = rds
        .describe_db_snapshots()
        .db_snapshot_identifier("contract-db-2026-w47")
        .send()
        .await
        .unwrap();
    assert_eq!(
        snap.db_snapshots()[0].db_instance_identifier(),
        Some("contract-db")
    );

    // Deletion protection refuses the destroy, naming the field; then off, and a final
    // snapshot is kept.
    let refused = refusal(&e).await;
    assert!(refused.contains("deletion_protection"), "{refused}");
    // Read live, with the way out.
    let found = db_blocker(&e)
        .await
        .expect("deletion protection blocks the delete");
    assert_eq!(found.field, "deletion_protection");
    assert!(
        found.message.contains("deletion_protection(false)"),
        "{}",
        found.message
    );
    assert!(rds
        .describe_db_instances()
        .db_instance_identifier("contract-db")
        .send()
        .await
        .is_ok());
    e.up(&e.stack(build("db.r5.2xlarge", 600, 14, false))).await;
    assert!(db_blocker(&e).await.is_none());
    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert!(rds
        .describe_db_instances()
        .db_instance_identifier("contract-db")
        .send()
        .await
        .is_err());
    // The final snapshot is named for its deletion (`ID-final-TIMESTAMP`), so a later
    // cycle's final snapshot of the same identifier cannot collide with this kept one.
    let fin = rds
        .describe_db_snapshots()
        .db_instance_identifier("contract-db")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = fin
        .db_snapshots()
        .iter()
        .filter_map(|s| s.db_snapshot_identifier())
        .filter(|n| n.starts_with("contract-db-final-"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[tokio::test]
async fn rds_declaration_errors() {
    let mut s = Stack::new("bad-rds");
    let one = s.add("one-subnet", DbSubnetGroup::new("one", ["subnet-a"]));
    s.add(
        "multi",
        DbInstance::postgres("multi", "14.10", "db.r5.large", one.name()).multi_az(true),
    );
    s.add(
        "class",
        DbInstance::postgres("class", "14.10", "r5.large", "g").backups(40, "3am"),
    );
    s.add(
        "small",
        DbInstance::postgres("Bad--Id", "14.10", "db.t3.micro", "g").storage(10, StorageType::Gp3),
    );
    s.add(
        "rotation",
        DbInstance::postgres("rotation", "14.10", "db.t3.micro", "g")
            .master_user_secret_rotation(1001),
    );
    let err = s.seal().unwrap_err().to_string();
    for expected in [
        "::one-subnet: field `subnet_ids`",
        "::multi: field `multi_az`: Multi-AZ needs a subnet group",
        "::class: field `instance_class`",
        "::class: field `backup_retention_period`: 40 days",
        "::class: field `preferred_backup_window`",
        "::small: field `identifier`",
        "::small: field `allocated_storage`: 10 GiB",
        "::rotation: field `master_user_secret_rotation_days`: 1001 days",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}

#[tokio::test]
async fn elasticache_subnet_group_and_redis() {
    let e = env("cache-contract").await;
    let (a, b) = subnets(&e.conf, "10.61").await;
    let kms = aws_sdk_kms::Client::new(&e.conf);
    let key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let build = |node: &'static str, desc: &'static str| {
        let (a, b, key) = (a.clone(), b.clone(), key.clone());
        move |s: &mut Stack| {
            let mut g = CacheSubnetGroup::new("contract-cache", [a, b]);
            g.description = desc.to_owned();
            let g = s.add("cache-subnets", g);
            s.add(
                "sessions",
                ReplicationGroup::redis("contract-sessions", node, 2, g.name()).kms_key(key),
            );
        }
    };
    e.up(&e.stack(build("cache.r5.large", "sessions"))).await;
    let ec = aws_sdk_elasticache::Client::new(&e.conf);
    let g = ec
        .describe_replication_groups()
        .replication_group_id("contract-sessions")
        .send()
        .await
        .unwrap();
    let g = &g.replication_groups()[0];
    assert_eq!(g.cache_node_type(), Some("cache.r5.large"));
    assert_eq!(g.member_clusters().len(), 2);
    assert_eq!(
        (
            g.at_rest_encryption_enabled(),
            g.transit_encryption_enabled()
        ),
        (Some(true), Some(true))
    );
    assert_eq!(g.automatic_failover().map(|s| s.as_str()), Some("enabled"));
    assert!(e.drift().await.is_empty());

    // In place: the node type, and the subnet group's description (moto_ext serves
    // ModifyCacheSubnetGroup).
    let st = e.stack(build("cache.r5.xlarge", "sessions and catalog"));
    let ops = e.ops(&st).await;
    assert_eq!(
        (ops["sessions"], ops["cache-subnets"]),
        (Op::Update, Op::Update)
    );
    e.up(&st).await;
    let g = ec
        .describe_replication_groups()
        .replication_group_id("contract-sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(
        g.replication_groups()[0].cache_node_type(),
        Some("cache.r5.xlarge")
    );

    // Drift: snapshots turned off out of band.
    ec.modify_replication_group()
        .replication_group_id("contract-sessions")
        .snapshot_retention_limit(0)
        .send()
        .await
        .unwrap();
    assert_eq!(
        e.drift().await["sessions"],
        vec!["snapshot_retention_limit"]
    );
    e.up(&st).await;

    // The subnet group cannot go while the group uses it; destroy deletes in order.
    assert!(ec
        .delete_cache_subnet_group()
        .cache_subnet_group_name("contract-cache")
        .send()
        .await
        .is_err());
    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert!(ec
        .describe_replication_groups()
        .replication_group_id("contract-sessions")
        .send()
        .await
        .is_err());
    assert!(ec
        .describe_cache_subnet_groups()
        .cache_subnet_group_name("contract-cache")
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn elasticache_declaration_errors() {
    let mut s = Stack::new("bad-cache");
    s.add(
        "one-node-failover",
        ReplicationGroup::redis("one", "cache.r5.large", 1, "g").failover(true, false),
    );
    s.add(
        "multi-az-alone",
        ReplicationGroup::redis("two", "cache.r5.large", 2, "g").failover(false, true),
    );
    s.add("type", ReplicationGroup::redis("three", "r5.large", 7, "g"));
    let err = s.seal().unwrap_err().to_string();
    for expected in [
        "::one-node-failover: field `automatic_failover`: automatic failover needs at least two nodes",
        "::multi-az-alone: field `multi_az`: Multi-AZ needs automatic failover",
        "::type: field `node_type`",
        "::type: field `num_cache_clusters`: 7",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}

#[tokio::test]
async fn efs_file_system_and_mount_targets() {
    let e = env("efs-contract").await;
    let (a, b) = subnets(&e.conf, "10.62").await;
    let kms = aws_sdk_kms::Client::new(&e.conf);
    let key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let ec2 = aws_sdk_ec2::Client::new(&e.conf);
    let vpc = ec2
        .describe_subnets()
        .subnet_ids(&a)
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .vpc_id()
        .unwrap()
        .to_owned();
    let mut sgs = Vec::new();
    for n in ["efs-1", "efs-2"] {
        let g = ec2
            .create_security_group()
            .group_name(n)
            .description(n)
            .vpc_id(&vpc)
            .send()
            .await
            .unwrap();
        sgs.push(g.group_id().unwrap().to_owned());
    }
    let build = |ia: i32, tag: &'static str| {
        let (a, b, key) = (a.clone(), b.clone(), key.clone());
        // The second build moves mount target a to the other security group.
        let sg = if ia == 30 {
            sgs[0].clone()
        } else {
            sgs[1].clone()
        };
        move |s: &mut Stack| {
            let fs = s.add(
                "shared",
                FileSystem::new()
                    .kms_key(key)
                    .transition_to_ia(ia)
                    .tag("Name", tag),
            );
            s.add("shared-a", MountTarget::new(fs.id(), a).security_group(sg));
            s.add("shared-b", MountTarget::new(fs.id(), b));
        }
    };
    e.up(&e.stack(build(30, "shop-shared"))).await;
    let efs = aws_sdk_efs::Client::new(&e.conf);
    let id = e
        .state()
        .await
        .resources
        .values()
        .find(|r| r.urn.name() == "shared")
        .unwrap()
        .id
        .clone();
    let f = efs
        .describe_file_systems()
        .file_system_id(&id)
        .send()
        .await
        .unwrap();
    let f = &f.file_systems()[0];
    assert_eq!(
        (
            f.encrypted(),
            f.performance_mode().as_str(),
            f.throughput_mode().map(|t| t.as_str())
        ),
        (Some(true), "generalPurpose", Some("bursting"))
    );
    let bp = efs
        .describe_backup_policy()
        .file_system_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(bp.backup_policy().unwrap().status().as_str(), "ENABLED");
    let m = efs
        .describe_mount_targets()
        .file_system_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(m.mount_targets().len(), 2);
    assert!(e.drift().await.is_empty());

    // In place: the IA transition and a tag.
    let st = e.stack(build(90, "shop-assets"));
    let ops = e.ops(&st).await;
    assert_eq!((ops["shared"], ops["shared-a"]), (Op::Update, Op::Update));
    let mt = e
        .state()
        .await
        .resources
        .values()
        .find(|r| r.urn.name() == "shared-a")
        .unwrap()
        .id
        .clone();
    e.up(&st).await;
    let live = efs
        .describe_mount_target_security_groups()
        .mount_target_id(&mt)
        .send()
        .await
        .unwrap();
    assert_eq!(live.security_groups(), [sgs[1].clone()]);
    assert_eq!(
        e.state()
            .await
            .resources
            .values()
            .find(|r| r.urn.name() == "shared-a")
            .unwrap()
            .id,
        mt
    );
    let lc = efs
        .describe_lifecycle_configuration()
        .file_system_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        lc.lifecycle_policies()[0]
            .transition_to_ia()
            .map(|r| r.as_str()),
        Some("AFTER_90_DAYS")
    );

    // Drift: a tag changed out of band.
    efs.tag_resource()
        .resource_id(&id)
        .tags(
            aws_sdk_efs::types::Tag::builder()
                .key("Name")
                .value("other")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["shared"], vec!["tags.Name"]);
    e.up(&st).await;

    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert!(efs
        .describe_file_systems()
        .file_system_id(&id)
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn every_replacing_field_replaces_and_changes_can_wait_for_the_window() {
    let e = env("data-replace").await;
    let (a, b) = subnets(&e.conf, "10.63").await;
    let (c, _) = subnets(&e.conf, "10.64").await;
    let build = |v: &'static str, window: bool| {
        let (a, b, c) = (a.clone(), b.clone(), c.clone());
        move |s: &mut Stack| {
            s.add("bucket", Bucket::new(format!("strata-replace-{v}")));
            let g = s.add(
                "db-subnets",
                DbSubnetGroup::new(format!("replace-{v}"), [a.clone(), b.clone()]),
            );
            s.add(
                "params",
                DbParameterGroup::new(format!("replace-{v}"), "postgres14"),
            );
            s.add(
                "db",
                DbInstance::postgres(
                    "replace-db",
                    "14.10",
                    if window {
                        "db.r5.2xlarge"
                    } else {
                        "db.r5.large"
                    },
                    g.name(),
                )
                .deletion_protection(false)
                .skip_final_snapshot(true)
                .apply_immediately(!window),
            );
            let cg = s.add(
                "cache-subnets",
                CacheSubnetGroup::new(format!("replace-{v}"), [a.clone()]),
            );
            s.add(
                "cache",
                ReplicationGroup::redis(format!("replace-{v}"), "cache.t3.micro", 1, cg.name()),
            );
            let fs = s.add(
                "fs",
                FileSystem::new().performance(if v == "a" {
                    PerformanceMode::GeneralPurpose
                } else {
                    PerformanceMode::MaxIo
                }),
            );
            s.add(
                "mount",
                MountTarget::new(fs.id(), if v == "a" { a.clone() } else { c.clone() }),
            );
        }
    };
    e.up(&e.stack(build("a", false))).await;
    let names = [
        "bucket",
        "db-subnets",
        "params",
        "cache-subnets",
        "cache",
        "fs",
        "mount",
    ];
    let mut before = BTreeMap::new();
    for n in names {
        before.insert(
            n,
            e.state()
                .await
                .resources
                .values()
                .find(|r| r.urn.name() == n)
                .unwrap()
                .id
                .clone(),
        );
    }
    // The class change is sent for the maintenance window (moto applies it at once; on
    // AWS it stays a pending modification, which the read counts as the desired value).
    let st = e.stack(build("b", true));
    let ops = e.ops(&st).await;
    for n in names {
        assert_eq!(ops[n], Op::Replace, "{n}: {ops:?}");
    }
    assert_eq!(ops["db"], Op::Update);
    let sum = e.engine.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    for (n, id) in &before {
        let now = e
            .state()
            .await
            .resources
            .values()
            .find(|r| r.urn.name() == *n)
            .unwrap()
            .id
            .clone();
        assert_ne!(&now, id, "{n} was replaced");
    }
    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
}

#[tokio::test]
async fn interrupted_creates_are_found_again() {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, Tag};
    use strata_core::resource::{Cx, Recovery, Resource};
    let conf = LocalAws::shared().sdk_config().await;
    let ctx = Context::new().with(Aws::new(conf.clone()));
    // EFS: by the creation token (the engine's token).
    let urn = strata_core::Urn::new("recover", FileSystem::TYPE, "fs");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-recover-efs",
    };
    let args = FileSystem::new();
    assert!(matches!(
        FileSystem::recover(&cx, &args).await.unwrap(),
        Recovery::Absent
    ));
    let made = FileSystem::create(&cx, &args).await.unwrap();
    let Recovery::Found(found) = FileSystem::recover(&cx, &args).await.unwrap() else {
        panic!("not found by token")
    };
    assert_eq!(found.id, made.id);
    FileSystem::delete(&cx, &made.id, &args, &made.outputs)
        .await
        .unwrap();
    assert!(FileSystem::read(&cx, &made.id, None)
        .await
        .unwrap()
        .is_none());
    // S3: by name and the token tag; another create's bucket is not adopted.
    let urn = strata_core::Urn::new("recover", Bucket::TYPE, "b");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-recover-bucket",
    };
    let args = Bucket::new("strata-recover-bucket");
    assert!(matches!(
        Bucket::recover(&cx, &args).await.unwrap(),
        Recovery::Absent
    ));
    Bucket::create(&cx, &args).await.unwrap();
    assert!(matches!(
        Bucket::recover(&cx, &args).await.unwrap(),
        Recovery::Found(_)
    ));
    let other = strata_core::Urn::new("recover", Bucket::TYPE, "other");
    let cx2 = Cx {
        context: &ctx,
        urn: &other,
        token: "t2",
    };
    assert!(matches!(
        Bucket::recover(&cx2, &args).await.unwrap(),
        Recovery::Absent
    ));
    // The same resource, another create (the old half of a replace carries the same URN):
    // not adopted either.
    let cx3 = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-another-create",
    };
    assert!(matches!(
        Bucket::recover(&cx3, &args).await.unwrap(),
        Recovery::Absent
    ));
    Bucket::delete(&cx, "strata-recover-bucket", &args, &made_outputs(&args))
        .await
        .unwrap();
    // A create killed right after CreateBucket: the bucket carries the token tag from
    // its creation (CreateBucketConfiguration's tags) and is found, then finished.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    let killed = Bucket::new("strata-recover-killed").tag("tier", "logs");
    let cx4 = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-killed",
    };
    let mut config = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuCentral1);
    for (k, v) in cx4.create_tags(&killed.tags) {
        config = config.tags(Tag::builder().key(k).value(v).build().unwrap());
    }
    s3.create_bucket()
        .bucket("strata-recover-killed")
        .create_bucket_configuration(config.build())
        .send()
        .await
        .unwrap();
    let Recovery::Found(found) = Bucket::recover(&cx4, &killed).await.unwrap() else {
        panic!("the killed create's bucket is not found by its token tag")
    };
    assert_eq!(found.id, "strata-recover-killed");
    let pab = s3
        .get_public_access_block()
        .bucket("strata-recover-killed")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pab.public_access_block_configuration()
            .unwrap()
            .block_public_acls(),
        Some(true),
        "recover finishes the create"
    );
    Bucket::delete(&cx4, "strata-recover-killed", &killed, &found.outputs)
        .await
        .unwrap();
}

fn made_outputs(args: &BucketArgs) -> BucketOutputs {
    let name = &args.name;
    BucketOutputs {
        name: name.clone(),
        arn: format!("arn:aws:s3:::{name}"),
        domain_name: format!("{name}.s3.amazonaws.com"),
        regional_domain_name: format!("{name}.s3.eu-central-1.amazonaws.com"),
    }
}

/// A read policy, as CloudFront's OAC policy is: an Allow, which moto's request checks let
/// through.
fn read_policy(bucket: &str, sid: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]
    })
}

#[tokio::test]
async fn bucket_policy_is_a_resource_of_its_own() {
    let e = env("bucket-policy-contract").await;
    let s3 = s3_client(&e);
    let live = |bucket: &'static str| {
        let s3 = s3.clone();
        async move {
            match s3.get_bucket_policy().bucket(bucket).send().await {
                Ok(o) => {
                    Some(serde_json::from_str::<serde_json::Value>(o.policy().unwrap()).unwrap())
                }
                Err(err) => {
                    use aws_sdk_s3::error::ProvideErrorMetadata;
                    assert_eq!(err.code(), Some("NoSuchBucketPolicy"), "{err:?}");
                    None
                }
            }
        }
    };
    let build_tagged =
        |target: &'static str, sid: &'static str, with_policy: bool, tier: &'static str| {
            move |s: &mut Stack| {
                let a = s.add("a", Bucket::new("strata-policy-a").tag("tier", tier));
                let b = s.add("b", Bucket::new("strata-policy-b"));
                if with_policy {
                    let bucket = if target == "strata-policy-a" {
                        a.name()
                    } else {
                        b.name()
                    };
                    s.add(
                        "policy",
                        BucketPolicy::new(bucket, read_policy(target, sid)),
                    );
                }
            }
        };
    let build = |target: &'static str, sid: &'static str, with_policy: bool| {
        build_tagged(target, sid, with_policy, "one")
    };
    e.up(&e.stack(build("strata-policy-a", "One", true))).await;
    assert_eq!(
        live("strata-policy-a").await,
        Some(read_policy("strata-policy-a", "One"))
    );
    // The bucket declares no policy: the BucketPolicy's is not the bucket's drift.
    assert!(e.drift().await.is_empty());
    let id = e.id("policy").await;
    assert_eq!(id, "strata-policy-a");

    // In place: another document.
    let st = e.stack(build("strata-policy-a", "Two", true));
    let ops = e.ops(&st).await;
    assert_eq!((ops["policy"], ops["a"]), (Op::Update, Op::Same), "{ops:?}");
    e.up(&st).await;
    assert_eq!(e.id("policy").await, id);
    assert_eq!(
        live("strata-policy-a").await,
        Some(read_policy("strata-policy-a", "Two"))
    );

    // An update of the bucket alone leaves the policy it does not declare in place.
    let tagged = e.stack(build_tagged("strata-policy-a", "Two", true, "two"));
    let ops = e.ops(&tagged).await;
    assert_eq!((ops["a"], ops["policy"]), (Op::Update, Op::Same), "{ops:?}");
    e.up(&tagged).await;
    assert_eq!(
        live("strata-policy-a").await,
        Some(read_policy("strata-policy-a", "Two"))
    );
    e.up(&st).await;

    // Out-of-band drift: another policy put with the SDK is the BucketPolicy's drift only.
    s3.put_bucket_policy()
        .bucket("strata-policy-a")
        .policy(read_policy("strata-policy-a", "Sneaky").to_string())
        .send()
        .await
        .unwrap();
    let drift = e.drift().await;
    assert_eq!(drift.keys().collect::<Vec<_>>(), ["policy"], "{drift:?}");
    assert!(
        drift["policy"].iter().all(|p| p.starts_with("policy")),
        "{drift:?}"
    );
    e.up(&st).await;
    assert_eq!(
        live("strata-policy-a").await,
        Some(read_policy("strata-policy-a", "Two"))
    );

    // Another bucket replaces the policy: the new one is put, the old one deleted.
    let st = e.stack(build("strata-policy-b", "Two", true));
    assert_eq!(e.ops(&st).await["policy"], Op::Replace);
    e.up(&st).await;
    assert_eq!(e.id("policy").await, "strata-policy-b");
    assert_eq!(live("strata-policy-a").await, None);
    assert_eq!(
        live("strata-policy-b").await,
        Some(read_policy("strata-policy-b", "Two"))
    );

    // Removed from the stack: deleted, and the bucket stays.
    e.up(&e.stack(build("strata-policy-b", "Two", false))).await;
    assert_eq!(live("strata-policy-b").await, None);
    assert!(s3
        .head_bucket()
        .bucket("strata-policy-b")
        .send()
        .await
        .is_ok());
    // Deleting it again (already gone) is fine.
    {
        use strata_core::resource::{Cx, Resource};
        let ctx = Context::new().with(Aws::new(e.conf.clone()));
        let urn = strata_core::Urn::new("bucket-policy-contract", BucketPolicy::TYPE, "policy");
        let cx = Cx {
            context: &ctx,
            urn: &urn,
            token: "t",
        };
        let args = BucketPolicy::new("strata-policy-b", read_policy("strata-policy-b", "Two"));
        let out = BucketPolicyOutputs {
            bucket: "strata-policy-b".into(),
        };
        BucketPolicy::delete(&cx, "strata-policy-b", &args, &out)
            .await
            .unwrap();
        assert!(BucketPolicy::read(&cx, "strata-policy-b", Some(&args))
            .await
            .unwrap()
            .is_none());
    }
    e.destroy().await;
}

#[tokio::test]
async fn bucket_policy_declaration_errors() {
    let mut s = Stack::new("bad-policy");
    s.add(
        "no-statement",
        BucketPolicy::new("strata-ok-bucket", json!({"Version": "2012-10-17"})),
    );
    s.add(
        "bad-bucket",
        BucketPolicy::new("Bad_Bucket", read_policy("Bad_Bucket", "X")),
    );
    let err = s.seal().unwrap_err().to_string();
    for expected in [
        "::no-statement: field `policy`",
        "::bad-bucket: field `bucket`",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(!err.contains("::bad-bucket: field `policy`"), "{err}");
}

/// The error code of an SDK call that must fail.
fn code<T, E: aws_sdk_s3::error::ProvideErrorMetadata>(r: Result<T, E>) -> String {
    match r {
        Ok(_) => "no error".to_owned(),
        Err(e) => e.code().unwrap_or("no code").to_owned(),
    }
}

/// A bucket or a DB subnet group of a declared name that this stack did not make (tagged
/// by its owner, or untagged) is never taken over: `up` fails naming the conflict and
/// `import`, nothing of it is changed, and a destroy of the stack leaves it.
#[tokio::test]
async fn a_bucket_or_db_subnet_group_of_the_same_name_is_not_taken_over() {
    use aws_sdk_s3::types::{
        BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Tag, Tagging,
        VersioningConfiguration,
    };
    let e = env("ownership-data").await;
    let s3 = s3_client(&e);
    let rds = aws_sdk_rds::Client::new(&e.conf);
    let (a, b) = subnets(&e.conf, "10.65").await;
    let theirs = ["strata-theirs-tagged", "strata-theirs-untagged"];
    for name in theirs {
        s3.create_bucket()
            .bucket(name)
            .create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::EuCentral1)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    s3.put_bucket_tagging()
        .bucket(theirs[0])
        .tagging(
            Tagging::builder()
                .tag_set(
                    Tag::builder()
                        .key("owner")
                        .value("someone-else")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_versioning()
        .bucket(theirs[0])
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    rds.create_db_subnet_group()
        .db_subnet_group_name("theirs-db")
        .db_subnet_group_description("theirs")
        .subnet_ids(&a)
        .subnet_ids(&b)
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("owner")
                .value("someone-else")
                .build(),
        )
        .send()
        .await
        .unwrap();

    let st = e.stack(|s| {
        for (n, bucket) in [("tagged", theirs[0]), ("untagged", theirs[1])] {
            s.add(
                n,
                Bucket::new(bucket)
                    .lifecycle(LifecycleRule::new("expire").expire_after(1))
                    .tag("tier", "ours"),
            );
        }
        s.add(
            "db-subnets",
            DbSubnetGroup::new("theirs-db", [a.clone(), b.clone()]).tag("tier", "ours"),
        );
    });
    for n in ["tagged", "untagged", "db-subnets"] {
        let err = e.up_conflict(&st, n).await;
        assert!(err.contains("import"), "{n}: {err}");
    }

    // Nothing of theirs changed: tags, versioning, and no part of ours was put.
    let tags = s3
        .get_bucket_tagging()
        .bucket(theirs[0])
        .send()
        .await
        .unwrap();
    let tags: Vec<_> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    assert_eq!(tags, [("owner".to_owned(), "someone-else".to_owned())]);
    assert_eq!(
        code(s3.get_bucket_tagging().bucket(theirs[1]).send().await),
        "NoSuchTagSet"
    );
    let versioning = s3
        .get_bucket_versioning()
        .bucket(theirs[0])
        .send()
        .await
        .unwrap();
    assert_eq!(versioning.status(), Some(&BucketVersioningStatus::Enabled));
    for name in theirs {
        assert_eq!(
            code(
                s3.get_bucket_lifecycle_configuration()
                    .bucket(name)
                    .send()
                    .await
            ),
            "NoSuchLifecycleConfiguration",
            "{name}"
        );
        assert_eq!(
            code(s3.get_public_access_block().bucket(name).send().await),
            "NoSuchPublicAccessBlockConfiguration",
            "{name}"
        );
        assert_eq!(
            code(s3.get_bucket_encryption().bucket(name).send().await),
            "ServerSideEncryptionConfigurationNotFoundError",
            "{name}"
        );
    }
    let g = rds
        .describe_db_subnet_groups()
        .db_subnet_group_name("theirs-db")
        .send()
        .await
        .unwrap();
    let g = &g.db_subnet_groups()[0];
    assert_eq!(g.db_subnet_group_description(), Some("theirs"));
    let t = rds
        .list_tags_for_resource()
        .resource_name(g.db_subnet_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    let t: Vec<_> = t
        .tag_list()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect();
    assert_eq!(t, [("owner".to_owned(), "someone-else".to_owned())]);

    // The stack holds none of them: its destroy leaves them.
    e.destroy().await;
    for name in theirs {
        assert!(s3.head_bucket().bucket(name).send().await.is_ok(), "{name}");
        s3.delete_bucket().bucket(name).send().await.unwrap();
    }
    assert!(rds
        .describe_db_subnet_groups()
        .db_subnet_group_name("theirs-db")
        .send()
        .await
        .is_ok());
    rds.delete_db_subnet_group()
        .db_subnet_group_name("theirs-db")
        .send()
        .await
        .unwrap();
}

/// Replacing a DB subnet group's subnets while an instance uses it modifies the group in
/// place (`ModifyDBSubnetGroup`): the same group, with its ARN, description and tags, now
/// of the new subnets; the instance is untouched.
#[tokio::test]
async fn a_db_subnet_group_changes_its_subnets_in_place_under_an_instance() {
    let e = env("db-subnets-in-place").await;
    let (a, b) = subnets(&e.conf, "10.66").await;
    let ec2 = aws_sdk_ec2::Client::new(&e.conf);
    let vpc = ec2
        .describe_subnets()
        .subnet_ids(&a)
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .vpc_id()
        .unwrap()
        .to_owned();
    let c = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.66.2.0/24")
        .availability_zone("eu-central-1c")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_owned();
    let build = |second: &String| {
        let (a, second) = (a.clone(), second.clone());
        move |s: &mut Stack| {
            let g = s.add(
                "db-subnets",
                DbSubnetGroup::new("in-place-db", [a, second]).tag("tier", "data"),
            );
            s.add(
                "db",
                DbInstance::postgres("in-place-db", "14.10", "db.t3.micro", g.name())
                    .deletion_protection(false)
                    .skip_final_snapshot(true),
            );
        }
    };
    e.up(&e.stack(build(&b))).await;
    let rds = aws_sdk_rds::Client::new(&e.conf);
    let group = || {
        let rds = rds.clone();
        async move {
            rds.describe_db_subnet_groups()
                .db_subnet_group_name("in-place-db")
                .send()
                .await
                .unwrap()
                .db_subnet_groups()[0]
                .clone()
        }
    };
    let before = group().await;

    let st = e.stack(build(&c));
    let ops = e.ops(&st).await;
    assert_eq!(
        (ops["db-subnets"], ops["db"]),
        (Op::Update, Op::Same),
        "{ops:?}"
    );
    e.up(&st).await;
    let after = group().await;
    let mut live: Vec<String> = after
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier().map(str::to_owned))
        .collect();
    live.sort();
    let mut want = vec![a.clone(), c.clone()];
    want.sort();
    assert_eq!(live, want);
    assert_eq!(after.db_subnet_group_arn(), before.db_subnet_group_arn());
    assert_eq!(
        after.db_subnet_group_description(),
        Some("in-place-db (strata)")
    );
    let tags = rds
        .list_tags_for_resource()
        .resource_name(after.db_subnet_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(tags
        .tag_list()
        .iter()
        .any(|t| t.key() == Some("tier") && t.value() == Some("data")));
    assert!(tags
        .tag_list()
        .iter()
        .any(|t| t.key() == Some("strata:token")));
    let d = rds
        .describe_db_instances()
        .db_instance_identifier("in-place-db")
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.db_instances()[0]
            .db_subnet_group()
            .and_then(|g| g.db_subnet_group_name()),
        Some("in-place-db")
    );
    e.destroy().await;
}

fn s3_of(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    )
}

/// `force_destroy` deletes every version it can, and fails naming the ones S3 refuses to
/// delete (here under an object-lock legal hold: DeleteObjects answers AccessDenied for
/// each), instead of trying forever. The bucket is kept. Once the holds are lifted, the
/// delete goes through.
#[tokio::test]
async fn force_destroy_fails_naming_the_objects_s3_refuses_to_delete() {
    use aws_sdk_s3::types::{
        BucketLocationConstraint, ChecksumAlgorithm, CreateBucketConfiguration,
        ObjectLockLegalHold, ObjectLockLegalHoldStatus,
    };
    use strata_core::resource::{Cx, Resource};
    let conf = LocalAws::shared().sdk_config().await;
    let s3 = s3_of(&conf);
    let ctx = Context::new().with(Aws::new(conf));
    let urn = strata_core::Urn::new("locked", Bucket::TYPE, "vault");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-locked",
    };
    let name = "strata-locked-vault";
    s3.create_bucket()
        .bucket(name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuCentral1)
                .build(),
        )
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    for (key, hold) in [
        ("free.txt", false),
        ("held-1.txt", true),
        ("held-2.txt", true),
    ] {
        let mut put = s3
            .put_object()
            .bucket(name)
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .checksum_algorithm(ChecksumAlgorithm::Crc32);
        if hold {
            put = put.object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On);
        }
        put.send().await.unwrap();
    }
    let args = Bucket::new(name).force_destroy(true);
    let outputs = made_outputs(&args);
    let err = Bucket::delete(&cx, name, &args, &outputs)
        .await
        .unwrap_err()
        .to_string();
    for expected in [
        "held-1.txt",
        "held-2.txt",
        "refused to delete 2",
        "AccessDenied",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in: {err}");
    }
    assert!(!err.contains("free.txt"), "{err}");
    let left = s3.list_object_versions().bucket(name).send().await.unwrap();
    let keys: Vec<_> = left.versions().iter().filter_map(|v| v.key()).collect();
    assert_eq!(keys, ["held-1.txt", "held-2.txt"], "the rest is deleted");
    assert!(s3.head_bucket().bucket(name).send().await.is_ok());

    for v in left.versions() {
        s3.put_object_legal_hold()
            .bucket(name)
            .key(v.key().unwrap())
            .version_id(v.version_id().unwrap())
            .legal_hold(
                ObjectLockLegalHold::builder()
                    .status(ObjectLockLegalHoldStatus::Off)
                    .build(),
            )
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .unwrap();
    }
    Bucket::delete(&cx, name, &args, &outputs).await.unwrap();
    assert!(s3.head_bucket().bucket(name).send().await.is_err());
}

/// What blocks the delete of bucket `name` with these args, if anything.
async fn bucket_blocker(
    ctx: &Context,
    urn: &strata_core::Urn,
    name: &str,
    args: BucketArgs,
    outputs: BucketOutputs,
) -> Option<strata_core::FieldError> {
    use strata_core::resource::{Cx, Resource};
    let cx = Cx {
        context: ctx,
        urn,
        token: "t",
    };
    Bucket::delete_blocker(&cx, name, &args, &outputs)
        .await
        .unwrap()
}

/// A bucket that holds any object version (or delete marker) blocks its delete unless
/// `force_destroy` is set, found before anything is deleted, naming the field and the
/// way out. An empty or gone bucket blocks nothing.
#[tokio::test]
async fn a_bucket_holding_objects_blocks_its_delete_without_force_destroy() {
    use strata_core::resource::{Cx, Resource};
    let conf = LocalAws::shared().sdk_config().await;
    let s3 = s3_of(&conf);
    let ctx = Context::new().with(Aws::new(conf));
    let urn = strata_core::Urn::new("blocker", Bucket::TYPE, "b");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-blocker",
    };
    let name = "strata-blocked-bucket";
    let args = Bucket::new(name).versioning(true);
    let made = Bucket::create(&cx, &args).await.unwrap();
    let blocker = |args: BucketArgs| bucket_blocker(&ctx, &urn, name, args, made.outputs.clone());
    assert!(blocker(args.clone()).await.is_none(), "an empty bucket");

    s3.put_object()
        .bucket(name)
        .key("a.txt")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let found = blocker(args.clone())
        .await
        .expect("a bucket holding objects");
    assert_eq!(found.field, "force_destroy");
    for expected in ["a.txt", "force_destroy(true)", "run `up` first"] {
        assert!(found.message.contains(expected), "{}", found.message);
    }
    // Deleted out of band: a delete marker over a version still holds data.
    s3.delete_object()
        .bucket(name)
        .key("a.txt")
        .send()
        .await
        .unwrap();
    assert!(blocker(args.clone()).await.is_some());
    // force_destroy set: nothing blocks, and the delete empties the bucket.
    let forced = args.clone().force_destroy(true);
    assert!(blocker(forced.clone()).await.is_none());
    Bucket::delete(&cx, name, &forced, &made.outputs)
        .await
        .unwrap();
    assert!(
        blocker(args).await.is_none(),
        "a gone bucket blocks nothing"
    );
}

/// Auto minor version upgrade moves a live instance past its declared minor version. That
/// is not drift and never a downgrade (AWS refuses one: "Cannot upgrade postgres from
/// 14.12 to 14.10", which scripts/moto_ext.py reproduces), so refresh and the next `up`
/// leave it. A newer declared minor upgrades in place; loosening the declaration to the
/// major alone makes no call.
#[tokio::test]
async fn a_newer_live_minor_version_satisfies_the_declared_one() {
    let e = env("data-minor").await;
    let (a, b) = subnets(&e.conf, "10.67").await;
    let build = |version: &'static str| {
        let (a, b) = (a.clone(), b.clone());
        move |s: &mut Stack| {
            let g = s.add("db-subnets", DbSubnetGroup::new("minor-db", [a, b]));
            s.add(
                "db",
                DbInstance::postgres("minor-db", version, "db.t3.micro", g.name())
                    .deletion_protection(false)
                    .skip_final_snapshot(true),
            );
        }
    };
    let rds = aws_sdk_rds::Client::new(&e.conf);
    let live = || {
        let rds = rds.clone();
        async move {
            rds.describe_db_instances()
                .db_instance_identifier("minor-db")
                .send()
                .await
                .unwrap()
                .db_instances()[0]
                .engine_version()
                .unwrap()
                .to_owned()
        }
    };
    e.up(&e.stack(build("14.10"))).await;
    assert_eq!(live().await, "14.10");

    // The maintenance window's minor upgrade.
    rds.modify_db_instance()
        .db_instance_identifier("minor-db")
        .engine_version("14.12")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let drift = e.drift().await;
    assert!(!drift.contains_key("db"), "{drift:?}");
    e.up(&e.stack(build("14.10"))).await;
    assert_eq!(live().await, "14.12");
    let outputs = e
        .state()
        .await
        .resources
        .values()
        .find(|r| r.urn.name() == "db")
        .unwrap()
        .outputs
        .clone();
    assert_eq!(
        outputs["engine_version"],
        json!("14.12"),
        "the live version"
    );

    // A newer minimum than the live one: upgraded in place.
    let st = e.stack(build("14.15"));
    assert_eq!(e.ops(&st).await["db"], Op::Update);
    e.up(&st).await;
    assert_eq!(live().await, "14.15");

    // The major alone: satisfied as it is (a ModifyDBInstance to "14" would be refused
    // as a downgrade).
    e.up(&e.stack(build("14"))).await;
    assert_eq!(live().await, "14.15");

    // Declarations RDS cannot take are refused before any call.
    let mut s = Stack::new("data-minor");
    s.add(
        "db",
        DbInstance::postgres("bad-version", "14.x", "db.t3.micro", "g"),
    );
    let err = s.seal().unwrap_err().to_string();
    assert!(
        err.contains("engine_version") && err.contains("14.x"),
        "{err}"
    );
    e.destroy().await;
}

/// Read replicas of an instance: made from it by CreateDBInstanceReadReplica (engine,
/// storage and subnet group inherited), read back without drift, removed one by one as
/// the count drops, and deleted before their primary, without a final snapshot (RDS
/// takes none of a replica).
#[tokio::test]
async fn read_replicas_follow_their_primary() {
    let e = env("data-replicas").await;
    let (a, b) = subnets(&e.conf, "10.68").await;
    let build = |replicas: u32| {
        let (a, b) = (a.clone(), b.clone());
        move |s: &mut Stack| {
            let g = s.add("db-subnets", DbSubnetGroup::new("replicas-db", [a, b]));
            let primary = DbInstance::postgres("replicas-db", "14", "db.t3.micro", g.name())
                .db_name("shop")
                .deletion_protection(false)
                .skip_final_snapshot(true);
            let db = s.add("db", primary.clone());
            for i in 1..=replicas {
                s.add(
                    format!("replica-{i}"),
                    primary.read_replica(format!("replicas-db-r{i}"), db.identifier()),
                );
            }
        }
    };
    let rds = aws_sdk_rds::Client::new(&e.conf);
    let replicas_of = || {
        let rds = rds.clone();
        async move {
            let d = rds
                .describe_db_instances()
                .db_instance_identifier("replicas-db")
                .send()
                .await
                .unwrap();
            let mut r = d.db_instances()[0]
                .read_replica_db_instance_identifiers()
                .to_vec();
            r.sort();
            r
        }
    };
    e.up(&e.stack(build(2))).await;
    assert_eq!(replicas_of().await, ["replicas-db-r1", "replicas-db-r2"]);
    let r1 = rds
        .describe_db_instances()
        .db_instance_identifier("replicas-db-r1")
        .send()
        .await
        .unwrap();
    let r1 = &r1.db_instances()[0];
    assert_eq!(
        r1.read_replica_source_db_instance_identifier(),
        Some("replicas-db")
    );
    assert_eq!(r1.db_instance_class(), Some("db.t3.micro"));
    let drift = e.drift().await;
    assert!(drift.is_empty(), "{drift:?}");

    // One fewer: the second replica goes, the primary stays.
    let st = e.stack(build(1));
    let ops = e.ops(&st).await;
    assert_eq!(
        (ops["db"], ops["replica-1"], ops["replica-2"]),
        (Op::Same, Op::Same, Op::Delete)
    );
    e.up(&st).await;
    assert_eq!(replicas_of().await, ["replicas-db-r1"]);
    e.destroy().await;
}
