//! The seed's data and compute tiers on its network tier, against a private local AWS:
//! RDS Multi-AZ in the DB subnets, Redis with 2 nodes, the 3 buckets with their
//! lifecycles, EFS mounted in both app subnets, and the auto scaling group of t3.medium
//! 2/4/8 with CPU and memory policies. It deploys, re-plans nothing, and destroys to an
//! account that holds exactly what it held before, checked by listing it with the SDK.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use strata::compute::*;
use strata::data::*;
use strata::network::three_tier::ThreeTierVpc;
use strata::network::*;
use strata::prelude::*;
use strata::security::{KeyPolicy, KeyService, KmsKey, KmsKeyHandle};
use strata_core::aws::Aws;
use strata_core::MemoryBackend;
use strata_testkit::LocalAws;
use support::inventory::inventory;

mod support;

fn stack(s: &mut Stack, ami: &str) {
    let net = ThreeTierVpc::default().declare(s, "shop");
    let sg = |s: &mut Stack, name: &str| {
        s.add(
            format!("{name}-sg"),
            SecurityGroup::new(format!("shop-{name}"), format!("shop {name}"), net.vpc.id()),
        )
    };
    let (app, db_sg, cache_sg, efs_sg) = (sg(s, "app"), sg(s, "db"), sg(s, "cache"), sg(s, "efs"));
    for (name, group, port) in [
        ("db-from-app", &db_sg, 5432),
        ("cache-from-app", &cache_sg, 6379),
        ("efs-from-app", &efs_sg, 2049),
    ] {
        s.add(
            name,
            SecurityGroupRule::ingress(group.id())
                .tcp(port)
                .from_group(app.id()),
        );
    }
    let key = |s: &mut Stack, what: &str| {
        let mut args = KmsKey::new(format!("shop: {what}"));
        if what == "ebs" {
            // The auto scaling group launches instances whose volumes use it.
            args = args.key_policy(KeyPolicy::new("123456789012").service(KeyService::AutoScaling));
        }
        s.add(format!("{what}-key"), args)
    };
    let (rds_key, s3_key, efs_key, ebs_key) =
        (key(s, "rds"), key(s, "s3"), key(s, "efs"), key(s, "ebs"));

    let db_subnets = s.add(
        "db-subnets",
        DbSubnetGroup::new("shop-db", net.data.iter().map(|d| d.id())),
    );
    s.add(
        "db",
        DbInstance::postgres("shop-db", "14.10", "db.r5.xlarge", db_subnets.name())
            .storage(500, StorageType::Gp3)
            .multi_az(true)
            .backups(7, "03:00-04:00")
            .kms_key(rds_key.arn())
            .security_group(db_sg.id())
            // A test stack: destroyed to an empty account.
            .deletion_protection(false)
            .skip_final_snapshot(true),
    );
    let cache_subnets = s.add(
        "cache-subnets",
        CacheSubnetGroup::new("shop-cache", net.data.iter().map(|d| d.id())),
    );
    s.add(
        "cache",
        ReplicationGroup::redis("shop-cache", "cache.r5.large", 2, cache_subnets.name())
            .security_group(cache_sg.id()),
    );
    s.add(
        "images",
        Bucket::new("shop-product-images-it")
            .versioning(true)
            .lifecycle(
                LifecycleRule::new("tiering").transition(0, StorageClass::IntelligentTiering),
            ),
    );
    s.add(
        "uploads",
        Bucket::new("shop-user-uploads-it")
            .kms(s3_key.arn())
            .lifecycle(LifecycleRule::new("ia").transition(90, StorageClass::StandardIa)),
    );
    s.add(
        "backups",
        Bucket::new("shop-backups-it").versioning(true).lifecycle(
            LifecycleRule::new("archive")
                .transition(90, StorageClass::Glacier)
                .expire_after(365),
        ),
    );
    let fs = s.add("shared", FileSystem::new().kms_key(efs_key.arn()));
    for (k, subnet) in net.app.iter().enumerate() {
        s.add(
            format!("shared-{k}"),
            MountTarget::new(fs.id(), subnet.id()).security_group(efs_sg.id()),
        );
    }
    let lt = s.add(
        "app",
        LaunchTemplate::new("shop-app", ami, "t3.medium")
            .security_group(app.id())
            .ebs_kms_key(ebs_key.arn())
            .user_data("#!/bin/bash\nmkdir -p /mnt/shared && mount -t efs shared:/ /mnt/shared\n"),
    );
    let asg = s.add(
        "app-asg",
        AutoScalingGroup::new(
            "shop-app",
            lt.id(),
            lt.latest_version(),
            net.app.iter().map(|a| a.id()),
        )
        .capacity(2, 4, 8),
    );
    s.add(
        "cpu",
        ScalingPolicy::target_tracking(asg.name(), "cpu-70", Metric::Cpu, 70.0),
    );
    s.add(
        "memory",
        ScalingPolicy::target_tracking(asg.name(), "memory-80", Metric::Memory, 80.0),
    );
}

#[tokio::test]
async fn the_data_and_compute_tiers_deploy_replan_nothing_and_destroy_to_an_empty_account() {
    let aws = LocalAws::start().unwrap();
    let conf = aws.sdk_config().await;
    let ami = support::first_ami(&conf).await;
    let before = inventory(&conf).await;
    let engine = Engine::new(Arc::new(MemoryBackend::new()))
        .with_context(Context::new().with(Aws::new(conf.clone())))
        .with_registry(&strata::registry())
        .parallel(8);
    let mut s = Stack::new("shop");
    stack(&mut s, &ami);
    let st = s.seal().unwrap();
    let sum = engine.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert!(!engine.preview(&st, &[]).await.unwrap().has_changes());

    // What the seed asks for, read back from AWS.
    let rds = aws_sdk_rds::Client::new(&conf);
    let d = rds
        .describe_db_instances()
        .db_instance_identifier("shop-db")
        .send()
        .await
        .unwrap();
    let d = &d.db_instances()[0];
    assert_eq!(
        (
            d.engine(),
            d.db_instance_class(),
            d.multi_az(),
            d.allocated_storage(),
            d.storage_type()
        ),
        (
            Some("postgres"),
            Some("db.r5.xlarge"),
            Some(true),
            Some(500),
            Some("gp3")
        )
    );
    assert_eq!(
        (
            d.backup_retention_period(),
            d.storage_encrypted(),
            d.publicly_accessible()
        ),
        (Some(7), Some(true), Some(false))
    );
    let ec = aws_sdk_elasticache::Client::new(&conf);
    let g = ec
        .describe_replication_groups()
        .replication_group_id("shop-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            g.replication_groups()[0].cache_node_type(),
            g.replication_groups()[0].member_clusters().len()
        ),
        (Some("cache.r5.large"), 2)
    );
    let efs = aws_sdk_efs::Client::new(&conf);
    let fs = efs.describe_file_systems().send().await.unwrap();
    let fs_id = fs.file_systems()[0].file_system_id().to_owned();
    assert_eq!(
        efs.describe_mount_targets()
            .file_system_id(&fs_id)
            .send()
            .await
            .unwrap()
            .mount_targets()
            .len(),
        2
    );
    let asg = aws_sdk_autoscaling::Client::new(&conf);
    let a = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("shop-app")
        .send()
        .await
        .unwrap();
    let a = &a.auto_scaling_groups()[0];
    assert_eq!(
        (a.min_size(), a.desired_capacity(), a.max_size()),
        (Some(2), Some(4), Some(8))
    );

    let sum = engine
        .destroy("shop", &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let after = inventory(&conf).await;
    let left: Vec<_> = after.difference(&before).collect();
    let gone: Vec<_> = before.difference(&after).collect();
    assert!(
        left.is_empty() && gone.is_empty(),
        "left behind: {left:?}\nremoved: {gone:?}"
    );
}
