//! strata-edge: load balancers, target groups, listeners, ACM, WAF, Route 53 and CloudFront.
//!
//! One resource type per file, named after the AWS resource. Every type takes its SDK
//! configuration from the engine's context ([`strata_core::aws::Aws`]) and tags what it
//! creates with `strata:stack`, `strata:urn` and `strata:token` where AWS allows tags.

// --- load balancing, WAF and ACM ---
mod access_logs;
mod certificate;
mod elb_common;
mod listener;
mod load_balancer;
mod target_group;
mod web_acl;
mod web_acl_association;

pub use access_logs::{access_log_bucket_policy, access_log_principal};
pub use certificate::{
    Certificate, CertificateArgs, CertificateHandle, CertificateOutputs, ValidationMethod,
    ValidationRecord,
};
pub use listener::{
    FixedResponseContentType, Listener, ListenerAction, ListenerArgs, ListenerHandle,
    ListenerOutputs, ListenerProtocol, DEFAULT_SSL_POLICY, LEGACY_SSL_POLICIES,
};
pub use load_balancer::{
    AccessLogs, LoadBalancer, LoadBalancerArgs, LoadBalancerHandle, LoadBalancerOutputs,
    LoadBalancerScheme,
};
pub use target_group::{
    TargetGroup, TargetGroupArgs, TargetGroupHandle, TargetGroupOutputs, TargetHealthCheck,
    TargetProtocol, TargetType,
};
pub use web_acl::{
    ManagedRuleOverride, RateAggregate, Rule, WafDefaultAction, WafRuleAction, WafScope, WebAcl,
    WebAclArgs, WebAclHandle, WebAclOutputs,
};
pub use web_acl_association::{
    WebAclAssociation, WebAclAssociationArgs, WebAclAssociationHandle, WebAclAssociationOutputs,
};

// --- Route 53 and CloudFront ---
mod distribution;
mod health_check;
mod hosted_zone;
mod origin_access_control;
mod record;
mod route53_common;

pub use distribution::{
    managed_policies, AllowedMethods, CacheBehavior, CachedMethods, Distribution, DistributionArgs,
    DistributionHandle, DistributionOrigin, DistributionOutputs, MinimumProtocolVersion,
    OrderedCacheBehavior, OriginKind, OriginProtocolPolicy, OriginSslProtocol, PriceClass,
    SslSupportMethod, ViewerCertificate, ViewerProtocolPolicy, CLOUDFRONT_ZONE_ID,
};
pub use health_check::{
    HealthCheck, HealthCheckArgs, HealthCheckHandle, HealthCheckOutputs, HealthCheckRegion,
    HealthCheckType,
};
pub use hosted_zone::{HostedZone, HostedZoneArgs, HostedZoneHandle, HostedZoneOutputs, ZoneVpc};
pub use origin_access_control::{
    cloudfront_read_policy, OacOriginType, OriginAccessControl, OriginAccessControlArgs,
    OriginAccessControlHandle, OriginAccessControlOutputs, SigningBehavior, SigningProtocol,
};
pub use record::{Alias, Failover, Record, RecordArgs, RecordHandle, RecordOutputs, RecordType};

/// Registers this crate's resource types with a [`strata_core::Registry`], so that
/// resources that are only in state (removed from the program) can still be deleted.
pub fn register(registry: &mut strata_core::Registry) {
    let _ = &registry;
    // ALB side:
    registry
        .register::<LoadBalancer>()
        .register::<TargetGroup>()
        .register::<Listener>()
        .register::<Certificate>()
        .register::<WebAcl>()
        .register::<WebAclAssociation>();
    // DNS/CDN side:
    registry
        .register::<HostedZone>()
        .register::<Record>()
        .register::<HealthCheck>()
        .register::<OriginAccessControl>()
        .register::<Distribution>();
}
