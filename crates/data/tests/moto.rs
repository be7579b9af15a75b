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
                    .deletion_protection(protect),
            );
        }
    };
    e.up(&e.stack(build("db.r5.xlarge", 500, 7, true))).await;
    let rds = aws_sdk_rds::Client::new(&e.conf);
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
    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(!sum.is_success());
    assert!(
        format!("{sum:?}").contains("deletion_protection"),
        "{sum:?}"
    );
    assert!(rds
        .describe_db_instances()
        .db_instance_identifier("contract-db")
        .send()
        .await
        .is_ok());
    e.up(&e.stack(build("db.r5.2xlarge", 600, 14, false))).await;
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
    let fin = rds
        .describe_db_snapshots()
        .db_snapshot_identifier("contract-db-final")
        .send()
        .await
        .unwrap();
    assert_eq!(fin.db_snapshots().len(), 1);
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
    let err = s.seal().unwrap_err().to_string();
    for expected in [
        "::one-subnet: field `subnet_ids`",
        "::multi: field `multi_az`: Multi-AZ needs a subnet group",
        "::class: field `instance_class`",
        "::class: field `backup_retention_period`: 40 days",
        "::class: field `preferred_backup_window`",
        "::small: field `identifier`",
        "::small: field `allocated_storage`: 10 GiB",
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
    use strata_core::resource::{Cx, Recovery, Resource};
    let conf = LocalAws::shared().sdk_config().await;
    let ctx = Context::new().with(Aws::new(conf));
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
    // S3: by name and URN tag; another resource's bucket is not adopted.
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
        Recovery::Unknown(_)
    ));
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
