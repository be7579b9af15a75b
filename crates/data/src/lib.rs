//! strata-data: S3 buckets (so far), with RDS, ElastiCache and EFS to come.
//!
//! One resource type per file, named after the AWS resource. Every type takes its SDK
//! configuration from the engine's context ([`strata_core::aws::Aws`]) and tags what it
//! creates with `strata:stack`, `strata:urn` and `strata:token`.

mod bucket;

pub use bucket::{
    Bucket, BucketArgs, BucketEncryption, BucketHandle, BucketOutputs, LifecycleRule, Replication,
    StorageClass, Transition,
};

/// Registers this crate's resource types with a [`strata_core::Registry`], so that
/// resources that are only in state (removed from the program) can still be deleted.
pub fn register(registry: &mut strata_core::Registry) {
    registry.register::<Bucket>();
}
