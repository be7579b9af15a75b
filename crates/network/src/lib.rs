//! strata-network: VPC, subnets, internet and NAT gateways, route tables, security groups
//! and flow logs.
//!
//! This crate is a documented shell for now: its resource types arrive with the network
//! issue. Each type will live in its own file named after the AWS resource
//! (`vpc.rs`, `nat_gateway.rs`, …) and implement [`strata_core::Resource`].

/// Registers this crate's resource types with a [`strata_core::Registry`], so that
/// resources that are only in state (removed from the program) can still be deleted.
pub fn register(_registry: &mut strata_core::Registry) {}
