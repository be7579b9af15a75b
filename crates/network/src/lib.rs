//! strata-network: VPC, subnets, internet and NAT gateways, route tables, security groups
//! and flow logs, on EC2.
//!
//! One resource type per file, named after the AWS resource. Every type takes its SDK
//! configuration from the engine's context ([`strata_core::aws::Aws`]), tags what it
//! creates with `strata:stack`, `strata:urn` and `strata:token` (the create's idempotency
//! token, which also goes to EC2's `ClientToken` where the API takes one), and finds an
//! interrupted create again by that token tag.
//!
//! Stack-level checks run when the stack is sealed: the subnets of one VPC must lie inside
//! its block and must not overlap each other ([`Subnet`]).
//!
//! [`three_tier`] composes these types into the usual public / app / data layout across
//! availability zones, with no hidden API calls.

mod common;
mod elastic_ip;
mod flow_log;
mod internet_gateway;
mod nat_gateway;
mod route;
mod route_table;
mod route_table_association;
mod security_group;
mod security_group_rule;
mod subnet;
pub mod three_tier;
mod vpc;

pub use common::Cidr;
pub use elastic_ip::{ElasticIp, ElasticIpArgs, ElasticIpHandle, ElasticIpOutputs};
pub use flow_log::{
    FlowLog, FlowLogArgs, FlowLogDestination, FlowLogHandle, FlowLogOutputs, Traffic,
};
pub use internet_gateway::{
    InternetGateway, InternetGatewayArgs, InternetGatewayHandle, InternetGatewayOutputs,
};
pub use nat_gateway::{
    ConnectivityType, NatGateway, NatGatewayArgs, NatGatewayHandle, NatGatewayOutputs,
};
pub use route::{Route, RouteArgs, RouteHandle, RouteOutputs, RouteTarget};
pub use route_table::{RouteTable, RouteTableArgs, RouteTableHandle, RouteTableOutputs};
pub use route_table_association::{
    RouteTableAssociation, RouteTableAssociationArgs, RouteTableAssociationHandle,
    RouteTableAssociationOutputs,
};
pub use security_group::{
    SecurityGroup, SecurityGroupArgs, SecurityGroupHandle, SecurityGroupOutputs,
};
pub use security_group_rule::{
    Direction, Protocol, RuleSource, SecurityGroupRule, SecurityGroupRuleArgs,
    SecurityGroupRuleHandle, SecurityGroupRuleOutputs,
};
pub use subnet::{Subnet, SubnetArgs, SubnetHandle, SubnetOutputs};
pub use vpc::{InstanceTenancy, Vpc, VpcArgs, VpcHandle, VpcOutputs};

/// Registers this crate's resource types with a [`strata_core::Registry`], so that
/// resources that are only in state (removed from the program) can still be deleted.
pub fn register(registry: &mut strata_core::Registry) {
    registry
        .register::<Vpc>()
        .register::<Subnet>()
        .register::<InternetGateway>()
        .register::<ElasticIp>()
        .register::<NatGateway>()
        .register::<RouteTable>()
        .register::<Route>()
        .register::<RouteTableAssociation>()
        .register::<SecurityGroup>()
        .register::<SecurityGroupRule>()
        .register::<FlowLog>();
}
