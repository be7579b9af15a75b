//! strata-compute: launch templates, auto scaling groups and scaling policies.
//!
//! This crate is a documented shell for now: its resource types arrive with the compute
//! issue. Each type will live in its own file named after the AWS resource
//! (for example `resource`.rs) and implement [`strata_core::Resource`].

/// Registers this crate's resource types with a [`strata_core::Registry`], so that
/// resources that are only in state (removed from the program) can still be deleted.
pub fn register(_registry: &mut strata_core::Registry) {}
