//! strata-compute: launch templates, auto scaling groups and scaling policies.
//!
//! One resource type per file, named after the AWS resource. Every type takes its SDK
//! configuration from the engine's context ([`strata_core::aws::Aws`]) and tags what it
//! creates with `strata:stack`, `strata:urn` and `strata:token`.

mod auto_scaling_group;
pub mod cloudwatch_agent;
mod launch_template;
mod scaling_policy;

pub use auto_scaling_group::{
    AutoScalingGroup, AutoScalingGroupArgs, AutoScalingGroupHandle, AutoScalingGroupOutputs,
    HealthCheck, MixedInstances, SpotAllocation,
};
pub use launch_template::{
    LaunchTemplate, LaunchTemplateArgs, LaunchTemplateHandle, LaunchTemplateOutputs, UserData,
};
pub use scaling_policy::{
    Metric, ScalingPolicy, ScalingPolicyArgs, ScalingPolicyHandle, ScalingPolicyOutputs,
};

/// Registers this crate's resource types with a [`strata_core::Registry`], so that
/// resources that are only in state (removed from the program) can still be deleted.
pub fn register(registry: &mut strata_core::Registry) {
    registry
        .register::<LaunchTemplate>()
        .register::<AutoScalingGroup>()
        .register::<ScalingPolicy>();
}
