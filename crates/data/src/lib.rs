//! strata-data: S3 buckets, RDS, ElastiCache and EFS.
//!
//! One resource type per file, named after the AWS resource. Every type takes its SDK
//! configuration from the engine's context ([`strata_core::aws::Aws`]) and tags what it
//! creates with `strata:stack`, `strata:urn` and `strata:token`.

mod bucket;
mod bucket_policy;
mod cache_subnet_group;
mod db_instance;
mod db_parameter_group;
mod db_snapshot;
mod db_subnet_group;
mod engine_version;
mod file_system;
mod mount_target;
mod rds_common;
mod replication_group;

pub use bucket::{
    Bucket, BucketArgs, BucketEncryption, BucketHandle, BucketOutputs, LifecycleRule, Replication,
    StorageClass, Transition,
};
pub use bucket_policy::{BucketPolicy, BucketPolicyArgs, BucketPolicyHandle, BucketPolicyOutputs};

pub use cache_subnet_group::{
    CacheSubnetGroup, CacheSubnetGroupArgs, CacheSubnetGroupHandle, CacheSubnetGroupOutputs,
};
pub use db_instance::{
    DbInstance, DbInstanceArgs, DbInstanceHandle, DbInstanceOutputs, StorageType,
};
pub use db_parameter_group::{
    DbParameterGroup, DbParameterGroupArgs, DbParameterGroupHandle, DbParameterGroupOutputs,
};
pub use db_snapshot::{DbSnapshot, DbSnapshotArgs, DbSnapshotHandle, DbSnapshotOutputs};
pub use db_subnet_group::{
    DbSubnetGroup, DbSubnetGroupArgs, DbSubnetGroupHandle, DbSubnetGroupOutputs,
};
pub use file_system::{
    FileSystem, FileSystemArgs, FileSystemHandle, FileSystemOutputs, PerformanceMode,
    ThroughputMode,
};
pub use mount_target::{MountTarget, MountTargetArgs, MountTargetHandle, MountTargetOutputs};
pub use replication_group::{
    ReplicationGroup, ReplicationGroupArgs, ReplicationGroupHandle, ReplicationGroupOutputs,
};

/// Registers this crate's resource types with a [`strata_core::Registry`], so that
/// resources that are only in state (removed from the program) can still be deleted.
pub fn register(registry: &mut strata_core::Registry) {
    registry
        .register::<Bucket>()
        .register::<BucketPolicy>()
        .register::<DbSubnetGroup>()
        .register::<DbParameterGroup>()
        .register::<DbInstance>()
        .register::<DbSnapshot>()
        .register::<CacheSubnetGroup>()
        .register::<ReplicationGroup>()
        .register::<FileSystem>()
        .register::<MountTarget>();
}
