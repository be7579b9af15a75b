//! The calls moto lacks, against `aws-smithy-mocks` with realistic responses: EFS
//! PutBackupPolicy and UpdateFileSystem, and ElastiCache ModifyCacheSubnetGroup and
//! DeleteCacheSubnetGroup (which the moto tests get from scripts/moto_ext.py); and the
//! states moto skips: a replication group `creating`, whose tags AWS does not list yet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput;
use aws_sdk_efs::operation::put_backup_policy::PutBackupPolicyOutput;
use aws_sdk_efs::operation::update_file_system::UpdateFileSystemOutput;
use aws_sdk_efs::types::{
    BackupPolicy, FileSystemDescription, FileSystemSize, LifeCycleState, PerformanceMode, Status,
};
use aws_sdk_elasticache::operation::delete_cache_subnet_group::DeleteCacheSubnetGroupError;
use aws_sdk_elasticache::operation::describe_replication_groups::DescribeReplicationGroupsOutput;
use aws_sdk_elasticache::operation::list_tags_for_resource::{
    ListTagsForResourceError, ListTagsForResourceOutput,
};
use aws_sdk_elasticache::operation::modify_cache_subnet_group::ModifyCacheSubnetGroupOutput;
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use strata_core::resource::{Cx, Recovery, Resource};
use strata_core::{Context, Urn};
use strata_data::*;

fn fs_outputs() -> FileSystemOutputs {
    FileSystemOutputs {
        id: "fs-0123456789abcdef0".into(),
        arn: "arn:aws:elasticfilesystem:eu-central-1:123456789012:file-system/fs-0123456789abcdef0"
            .into(),
        dns_name: "fs-0123456789abcdef0.efs.eu-central-1.amazonaws.com".into(),
    }
}

/// moto has no EFS PutBackupPolicy nor UpdateFileSystem.
#[tokio::test]
async fn efs_backups_and_throughput_change_in_place() {
    let backup = mock!(aws_sdk_efs::Client::put_backup_policy)
        .match_requests(|r| {
            r.file_system_id() == Some("fs-0123456789abcdef0")
                && r.backup_policy().map(|p| p.status()) == Some(&Status::Disabled)
        })
        .then_output(|| {
            PutBackupPolicyOutput::builder()
                .backup_policy(
                    BackupPolicy::builder()
                        .status(Status::Disabling)
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let update = mock!(aws_sdk_efs::Client::update_file_system)
        .match_requests(|r| r.throughput_mode().map(|t| t.as_str()) == Some("elastic"))
        .then_output(|| {
            UpdateFileSystemOutput::builder()
                .owner_id("123456789012")
                .creation_token("t")
                .file_system_id("fs-0123456789abcdef0")
                .creation_time(aws_smithy_types::DateTime::from_secs(0))
                .life_cycle_state(LifeCycleState::Updating)
                .number_of_mount_targets(2)
                .size_in_bytes(FileSystemSize::builder().value(6144).build())
                .performance_mode(PerformanceMode::GeneralPurpose)
                .set_tags(Some(vec![]))
                .build()
                .unwrap()
        });
    let describe = mock!(aws_sdk_efs::Client::describe_file_systems).then_output(|| {
        DescribeFileSystemsOutput::builder()
            .file_systems(
                FileSystemDescription::builder()
                    .owner_id("123456789012")
                    .creation_token("t")
                    .file_system_id("fs-0123456789abcdef0")
                    .creation_time(aws_smithy_types::DateTime::from_secs(0))
                    .life_cycle_state(LifeCycleState::Available)
                    .number_of_mount_targets(2)
                    .size_in_bytes(FileSystemSize::builder().value(6144).build())
                    .performance_mode(PerformanceMode::GeneralPurpose)
                    .set_tags(Some(vec![]))
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let client = mock_client!(
        aws_sdk_efs,
        RuleMode::MatchAny,
        [&backup, &update, &describe]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", FileSystem::TYPE, "shared");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "t",
    };
    let old = FileSystem::new();
    let new = FileSystem::new()
        .backup(false)
        .throughput(ThroughputMode::Elastic);
    let out = FileSystem::update(&cx, "fs-0123456789abcdef0", &old, &new, &fs_outputs())
        .await
        .unwrap();
    assert_eq!(out, fs_outputs());
    assert_eq!((backup.num_calls(), update.num_calls()), (1, 1));
}

/// moto has no ElastiCache ModifyCacheSubnetGroup nor DeleteCacheSubnetGroup.
#[tokio::test]
async fn cache_subnet_groups_change_in_place_and_delete_idempotently() {
    let modify = mock!(aws_sdk_elasticache::Client::modify_cache_subnet_group)
        .match_requests(|r| {
            r.cache_subnet_group_name() == Some("shop-cache")
                && r.subnet_ids() == ["subnet-a", "subnet-c"]
        })
        .then_output(|| ModifyCacheSubnetGroupOutput::builder().build());
    let gone = mock!(aws_sdk_elasticache::Client::delete_cache_subnet_group).then_error(|| {
        DeleteCacheSubnetGroupError::CacheSubnetGroupNotFoundFault(
            aws_sdk_elasticache::types::error::CacheSubnetGroupNotFoundFault::builder()
                .message("CacheSubnetGroup shop-cache not found.")
                .meta(
                    aws_sdk_elasticache::error::ErrorMetadata::builder()
                        .code("CacheSubnetGroupNotFoundFault")
                        .message("CacheSubnetGroup shop-cache not found.")
                        .build(),
                )
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_elasticache, RuleMode::MatchAny, [&modify, &gone]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", CacheSubnetGroup::TYPE, "cache-subnets");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "t",
    };
    let outputs = CacheSubnetGroupOutputs {
        name: "shop-cache".into(),
        arn: "arn:aws:elasticache:eu-central-1:123456789012:subnetgroup:shop-cache".into(),
    };
    let old = CacheSubnetGroup::new("shop-cache", ["subnet-a", "subnet-b"]);
    let new = CacheSubnetGroup::new("shop-cache", ["subnet-a", "subnet-c"]);
    CacheSubnetGroup::update(&cx, "shop-cache", &old, &new, &outputs)
        .await
        .unwrap();
    assert_eq!(modify.num_calls(), 1);
    // Already gone counts as deleted.
    CacheSubnetGroup::delete(&cx, "shop-cache", &new, &outputs)
        .await
        .unwrap();
    assert_eq!(gone.num_calls(), 1);
}

const GROUP_ARN: &str = "arn:aws:elasticache:eu-central-1:123456789012:replicationgroup:shop-cache";

fn replication_group(status: &str) -> aws_sdk_elasticache::types::ReplicationGroup {
    use aws_sdk_elasticache::types::{Endpoint, NodeGroup};
    aws_sdk_elasticache::types::ReplicationGroup::builder()
        .replication_group_id("shop-cache")
        .arn(GROUP_ARN)
        .status(status)
        .member_clusters("shop-cache-001")
        .member_clusters("shop-cache-002")
        .node_groups(
            NodeGroup::builder()
                .node_group_id("0001")
                .primary_endpoint(
                    Endpoint::builder()
                        .address("master.shop-cache.abc123.euc1.cache.amazonaws.com")
                        .port(6379)
                        .build(),
                )
                .reader_endpoint(
                    Endpoint::builder()
                        .address("replica.shop-cache.abc123.euc1.cache.amazonaws.com")
                        .port(6379)
                        .build(),
                )
                .build(),
        )
        .build()
}

/// moto makes a replication group available at once; AWS builds it for minutes
/// (`creating`), and ListTagsForResource refuses a group that is not available
/// (InvalidReplicationGroupState). A create killed meanwhile is found again: recover waits
/// for the group, then reads its `strata:token` tag. Another token's group, or a group
/// being deleted, is not this create's.
#[tokio::test]
async fn a_replication_group_still_creating_is_found_by_its_token_tag() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let described = Arc::new(AtomicUsize::new(0));
    let d = described.clone();
    let describe = mock!(aws_sdk_elasticache::Client::describe_replication_groups)
        .then_compute_output(move |_| {
            let status = if d.fetch_add(1, Ordering::SeqCst) == 0 {
                "creating"
            } else {
                "available"
            };
            DescribeReplicationGroupsOutput::builder()
                .replication_groups(replication_group(status))
                .build()
        });
    let d = described.clone();
    let tags = mock!(aws_sdk_elasticache::Client::list_tags_for_resource)
        .match_requests(|r| r.resource_name() == Some(GROUP_ARN))
        .then_compute_response(move |_| {
            if d.load(Ordering::SeqCst) < 2 {
                let message = "Replication group shop-cache is not in available state.";
                return MockResponse::Error(
                    ListTagsForResourceError::InvalidReplicationGroupStateFault(
                        aws_sdk_elasticache::types::error::InvalidReplicationGroupStateFault::builder()
                            .message(message)
                            .meta(
                                aws_sdk_elasticache::error::ErrorMetadata::builder()
                                    .code("InvalidReplicationGroupState")
                                    .message(message)
                                    .build(),
                            )
                            .build(),
                    ),
                );
            }
            let tag = |k: &str, v: &str| {
                aws_sdk_elasticache::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
            };
            MockResponse::Output(
                ListTagsForResourceOutput::builder()
                    .tag_list(tag("strata:stack", "shop"))
                    .tag_list(tag(
                        "strata:urn",
                        "urn:strata:shop::aws:elasticache/replication-group::cache",
                    ))
                    .tag_list(tag("strata:token", "tok-killed"))
                    .build(),
            )
        });
    let client = mock_client!(aws_sdk_elasticache, RuleMode::MatchAny, [&describe, &tags]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("shop", ReplicationGroup::TYPE, "cache");
    let args = ReplicationGroup::redis("shop-cache", "cache.r5.large", 2, "shop-cache");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-killed",
    };
    let Recovery::Found(found) = ReplicationGroup::recover(&cx, &args).await.unwrap() else {
        panic!("the killed create's group is not found")
    };
    assert_eq!(found.id, "shop-cache");
    assert_eq!(
        found.outputs.primary_endpoint,
        "master.shop-cache.abc123.euc1.cache.amazonaws.com"
    );
    assert_eq!(
        tags.num_calls(),
        1,
        "tags are read once the group is available"
    );

    // Another create's token: not this create's group.
    let other = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-other",
    };
    assert!(matches!(
        ReplicationGroup::recover(&other, &args).await.unwrap(),
        Recovery::Absent
    ));

    // A group being deleted is not the one a create made.
    let deleting =
        mock!(aws_sdk_elasticache::Client::describe_replication_groups).then_output(|| {
            DescribeReplicationGroupsOutput::builder()
                .replication_groups(replication_group("deleting"))
                .build()
        });
    let client = mock_client!(aws_sdk_elasticache, RuleMode::MatchAny, [&deleting]);
    let ctx = Context::new().with(client);
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-killed",
    };
    assert!(matches!(
        ReplicationGroup::recover(&cx, &args).await.unwrap(),
        Recovery::Absent
    ));
}

/// RDS retires old minor versions: CreateDBInstance refuses one it no longer offers
/// ("Cannot find version 14.10 for postgres"). A declared minimum minor is then created as
/// the newest minor of its major that RDS offers (DescribeDBEngineVersions), and with
/// nothing offered at or above it the error names the field and what is offered. moto
/// offers every version and has no DescribeDBEngineVersions.
#[tokio::test]
async fn a_retired_minor_version_is_created_as_the_newest_offered_one() {
    use aws_sdk_rds::operation::create_db_instance::{
        CreateDBInstanceError, CreateDbInstanceOutput,
    };
    use aws_sdk_rds::operation::describe_db_engine_versions::DescribeDbEngineVersionsOutput;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    use aws_sdk_rds::types::DbEngineVersion;

    let refused = |v: &'static str| {
        mock!(aws_sdk_rds::Client::create_db_instance)
            .match_requests(move |r| r.engine_version() == Some(v))
            .then_error(move || {
                CreateDBInstanceError::generic(
                    aws_sdk_rds::error::ErrorMetadata::builder()
                        .code("InvalidParameterCombination")
                        .message(format!("Cannot find version {v} for postgres"))
                        .build(),
                )
            })
    };
    let versions = mock!(aws_sdk_rds::Client::describe_db_engine_versions)
        .match_requests(|r| r.engine() == Some("postgres"))
        .then_output(|| {
            DescribeDbEngineVersionsOutput::builder()
                .set_db_engine_versions(Some(
                    ["13.20", "14.9", "14.13", "14.17", "15.12"]
                        .into_iter()
                        .map(|v| {
                            DbEngineVersion::builder()
                                .engine("postgres")
                                .engine_version(v)
                                .build()
                        })
                        .collect(),
                ))
                .build()
        });
    let created = mock!(aws_sdk_rds::Client::create_db_instance)
        .match_requests(|r| r.engine_version() == Some("14.17"))
        .then_output(|| CreateDbInstanceOutput::builder().build());
    let available = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
        DescribeDbInstancesOutput::builder()
            .db_instances(
                aws_sdk_rds::types::DbInstance::builder()
                    .db_instance_identifier("shop-db")
                    .db_instance_arn("arn:aws:rds:eu-central-1:123456789012:db:shop-db")
                    .db_instance_status("available")
                    .engine("postgres")
                    .engine_version("14.17")
                    .build(),
            )
            .build()
    });
    let (too_new, retired) = (refused("14.18"), refused("14.10"));
    let client = mock_client!(
        aws_sdk_rds,
        RuleMode::MatchAny,
        [&retired, &too_new, &versions, &created, &available]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", DbInstance::TYPE, "db");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "t",
    };
    let args = |v: &str| DbInstance::postgres("shop-db", v, "db.r5.large", "shop-db");
    let made = DbInstance::create(&cx, &args("14.10")).await.unwrap();
    assert_eq!(made.outputs.engine_version, "14.17");
    assert_eq!(
        (
            retired.num_calls(),
            versions.num_calls(),
            created.num_calls()
        ),
        (1, 1, 1)
    );

    let err = DbInstance::create(&cx, &args("14.18")).await.unwrap_err();
    let strata_core::ProviderError::Invalid { field, message } = err else {
        panic!("{err:?}");
    };
    assert_eq!(field, "engine_version");
    assert!(
        message.contains("14.18") && message.contains("14.9, 14.13, 14.17"),
        "{message}"
    );
    assert_eq!(created.num_calls(), 1, "nothing more was created");
}

/// RDS applies a dynamic parameter at once only when asked to (`immediate`), and refuses
/// `immediate` for a static one. Each parameter gets the method its `ApplyType` allows
/// (DescribeDBParameters); moto reports no apply types.
#[tokio::test]
async fn dynamic_parameters_apply_at_once_and_static_ones_at_the_next_reboot() {
    use aws_sdk_rds::operation::describe_db_parameters::DescribeDbParametersOutput;
    use aws_sdk_rds::operation::modify_db_parameter_group::ModifyDbParameterGroupOutput;
    use aws_sdk_rds::types::{ApplyMethod, Parameter};

    let describe = mock!(aws_sdk_rds::Client::describe_db_parameters)
        .match_requests(|r| {
            r.db_parameter_group_name() == Some("shop-pg14") && r.source().is_none()
        })
        .then_output(|| {
            let p = |name: &str, apply: &str| {
                Parameter::builder()
                    .parameter_name(name)
                    .apply_type(apply)
                    .build()
            };
            DescribeDbParametersOutput::builder()
                .parameters(p("rds.force_ssl", "dynamic"))
                .parameters(p("shared_preload_libraries", "static"))
                .parameters(p("work_mem", "dynamic"))
                .build()
        });
    let method =
        |r: &aws_sdk_rds::operation::modify_db_parameter_group::ModifyDbParameterGroupInput,
         name: &str| {
            r.parameters()
                .iter()
                .find(|p| p.parameter_name() == Some(name))
                .and_then(|p| p.apply_method().cloned())
        };
    let modify = mock!(aws_sdk_rds::Client::modify_db_parameter_group)
        .match_requests(move |r| {
            method(r, "rds.force_ssl") == Some(ApplyMethod::Immediate)
                && method(r, "shared_preload_libraries") == Some(ApplyMethod::PendingReboot)
                && r.parameters().len() == 2
        })
        .then_output(|| {
            ModifyDbParameterGroupOutput::builder()
                .db_parameter_group_name("shop-pg14")
                .build()
        });
    let client = mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&describe, &modify]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", DbParameterGroup::TYPE, "params");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "t",
    };
    let old = DbParameterGroup::new("shop-pg14", "postgres14");
    let new = old
        .clone()
        .parameter("rds.force_ssl", "1")
        .parameter("shared_preload_libraries", "pg_stat_statements");
    let outputs = DbParameterGroupOutputs {
        name: "shop-pg14".into(),
        arn: "arn:aws:rds:eu-central-1:123456789012:pg:shop-pg14".into(),
    };
    DbParameterGroup::update(&cx, "shop-pg14", &old, &new, &outputs)
        .await
        .unwrap();
    assert_eq!((describe.num_calls(), modify.num_calls()), (1, 1));
}

fn db_cx_test<'a>(ctx: &'a Context, urn: &'a Urn) -> Cx<'a> {
    Cx {
        context: ctx,
        urn,
        token: "t",
    }
}

fn live_db(version: &str, kms_key: &str) -> aws_sdk_rds::types::DbInstance {
    aws_sdk_rds::types::DbInstance::builder()
        .db_instance_identifier("shop-db")
        .db_instance_arn("arn:aws:rds:eu-central-1:123456789012:db:shop-db")
        .db_instance_status("available")
        .engine("postgres")
        .engine_version(version)
        .db_instance_class("db.r5.large")
        .storage_encrypted(true)
        .kms_key_id(kms_key)
        .build()
}

/// A major version alone names that major's default minor, which RDS refuses when it is
/// not an upgrade target of the live minor ("Cannot upgrade postgres from 16.13 to
/// 17.6"; terraform-aws-modules/terraform-aws-rds#627). The upgrade then goes to the
/// newest valid upgrade target that satisfies the declaration, as a major upgrade only
/// with allow_major_version_upgrade.
#[tokio::test]
async fn a_major_upgrade_goes_to_a_valid_upgrade_target_of_the_live_minor() {
    use aws_sdk_rds::operation::describe_db_engine_versions::DescribeDbEngineVersionsOutput;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    use aws_sdk_rds::operation::modify_db_instance::{
        ModifyDBInstanceError, ModifyDbInstanceOutput,
    };
    use aws_sdk_rds::types::{DbEngineVersion, UpgradeTarget};

    let key = "arn:aws:kms:eu-central-1:123456789012:key/0123";
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(move || {
        DescribeDbInstancesOutput::builder()
            .db_instances(live_db("16.13", key))
            .build()
    });
    let refused = mock!(aws_sdk_rds::Client::modify_db_instance)
        .match_requests(|r| r.engine_version() == Some("17"))
        .then_error(|| {
            ModifyDBInstanceError::generic(
                aws_sdk_rds::error::ErrorMetadata::builder()
                    .code("InvalidParameterCombination")
                    .message("Cannot upgrade postgres from 16.13 to 17.6")
                    .build(),
            )
        });
    let targets = mock!(aws_sdk_rds::Client::describe_db_engine_versions)
        .match_requests(|r| r.engine() == Some("postgres") && r.engine_version() == Some("16.13"))
        .then_output(|| {
            let t = |v: &str, major: bool| {
                UpgradeTarget::builder()
                    .engine("postgres")
                    .engine_version(v)
                    .is_major_version_upgrade(major)
                    .build()
            };
            DescribeDbEngineVersionsOutput::builder()
                .db_engine_versions(
                    DbEngineVersion::builder()
                        .engine("postgres")
                        .engine_version("16.13")
                        .valid_upgrade_target(t("16.14", false))
                        .valid_upgrade_target(t("17.9", true))
                        .valid_upgrade_target(t("17.10", true))
                        .build(),
                )
                .build()
        });
    let upgraded = mock!(aws_sdk_rds::Client::modify_db_instance)
        .match_requests(|r| {
            r.engine_version() == Some("17.10") && r.allow_major_version_upgrade() == Some(true)
        })
        .then_output(|| ModifyDbInstanceOutput::builder().build());
    let client = mock_client!(
        aws_sdk_rds,
        RuleMode::MatchAny,
        [&describe, &refused, &targets, &upgraded]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", DbInstance::TYPE, "db");
    let cx = db_cx_test(&ctx, &urn);
    let old = DbInstance::postgres("shop-db", "16", "db.r5.large", "shop-db");
    let outputs = DbInstanceOutputs {
        identifier: "shop-db".into(),
        arn: "arn:aws:rds:eu-central-1:123456789012:db:shop-db".into(),
        address: "shop-db.rds".into(),
        port: 5432,
        endpoint: "shop-db.rds:5432".into(),
        master_user_secret_arn: None,
        engine_version: "16.13".into(),
    };
    // Without allow_major_version_upgrade: refused, naming the field, before any change.
    let mut new = old.clone();
    new.engine_version = "17".into();
    let err = DbInstance::update(&cx, "shop-db", &old, &new, &outputs)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, strata_core::ProviderError::Invalid { field, message }
            if field == "allow_major_version_upgrade" && message.contains("16.13 to 17.10")),
        "{err:?}"
    );
    assert_eq!(upgraded.num_calls(), 0);
    new.allow_major_version_upgrade = true;
    DbInstance::update(&cx, "shop-db", &old, &new, &outputs)
        .await
        .unwrap();
    assert_eq!(upgraded.num_calls(), 1);
}

/// An encrypted instance declared without a key reports AWS's managed key by its ARN. A
/// state refreshed by an older strata holds that ARN, which planned a replacement
/// (`kms_key_id` replaces): read now reads an AWS managed key as none, so a refresh heals
/// the state. A customer managed key reads as itself.
#[tokio::test]
async fn an_aws_managed_key_reads_as_no_key() {
    use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
    use aws_sdk_kms::types::{KeyManagerType, KeyMetadata};
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;

    let aws_key = "arn:aws:kms:eu-central-1:123456789012:key/aws-rds";
    let cmk = "arn:aws:kms:eu-central-1:123456789012:key/customer";
    for (live, manager, want) in [
        (aws_key, KeyManagerType::Aws, None),
        (cmk, KeyManagerType::Customer, Some(cmk)),
    ] {
        let describe = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(move || {
            DescribeDbInstancesOutput::builder()
                .db_instances(live_db("14.17", live))
                .build()
        });
        let manager = manager.clone();
        let key = mock!(aws_sdk_kms::Client::describe_key)
            .match_requests(move |r| r.key_id() == Some(live))
            .then_output(move || {
                DescribeKeyOutput::builder()
                    .key_metadata(
                        KeyMetadata::builder()
                            .key_id(live)
                            .key_manager(manager.clone())
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let ctx = Context::new()
            .with(mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&describe]))
            .with(mock_client!(aws_sdk_kms, RuleMode::MatchAny, [&key]));
        let urn = Urn::new("dev", DbInstance::TYPE, "db");
        let cx = db_cx_test(&ctx, &urn);
        // The state as an older refresh left it: the live key's ARN.
        let mut state = DbInstance::postgres("shop-db", "14", "db.r5.large", "shop-db");
        state.kms_key_id = Some(live.to_owned().into());
        let read = DbInstance::read(&cx, "shop-db", Some(&state))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            read.args.kms_key_id.and_then(|k| k.value().ok().cloned()),
            want.map(str::to_owned),
            "{live}"
        );
        assert_eq!(key.num_calls(), 1);
    }
}
