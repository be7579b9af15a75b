//! strata-observability: CloudWatch log groups, alarms and dashboards, SNS topics and
//! subscriptions, CloudTrail, and X-Ray sampling rules and groups.
//!
//! One resource type per file, named after the AWS resource. Every type takes its SDK
//! configuration from the engine's context ([`strata_core::aws::Aws`]) and tags what it
//! creates (all but dashboards and subscriptions, which AWS does not tag) with
//! `strata:stack`, `strata:urn` and `strata:token`. A create never takes over or changes
//! an existing resource of the same name: where AWS's call is an upsert (alarms,
//! dashboards) or idempotent by name (topics, subscriptions) the name is checked first, and
//! a taken name is [`strata_core::ProviderError::AlreadyExists`]. After a failed or
//! interrupted create a type adopts a resource of that name only when it carries the
//! create's `strata:token` tag; dashboards and subscriptions, which take no tags, only when
//! every declared property matches and the create did not find it there before.
//!
//! | type | AWS | replaced by a change of |
//! |---|---|---|
//! | [`LogGroup`] | `aws:logs/log-group` | name |
//! | [`MetricAlarm`] | `aws:cloudwatch/alarm` | name |
//! | [`Dashboard`] | `aws:cloudwatch/dashboard` | name |
//! | [`Topic`] | `aws:sns/topic` | name, fifo |
//! | [`Subscription`] | `aws:sns/subscription` | topic, protocol, endpoint |
//! | [`Trail`] | `aws:cloudtrail/trail` | name |
//! | [`SamplingRule`] | `aws:xray/sampling-rule` | rule name, version |
//! | [`XrayGroup`] | `aws:xray/group` | group name |
//!
//! The spec's monitoring in strata:
//!
//! ```
//! use strata_core::Stack;
//! use strata_observability::*;
//! let mut s = Stack::new("prod");
//! let alerts = s.add("alerts", Topic::new("shop-critical").kms_key("alias/aws/sns"));
//! s.add("devops", Subscription::new(alerts.arn(), Protocol::Email, "devops@example.com"));
//! s.add("app-logs", LogGroup::new("/shop/app").retention(30));
//! s.add(
//!     "alb-5xx",
//!     MetricAlarm::new("shop-alb-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count")
//!         .statistic(Statistic::Sum)
//!         .period(60)
//!         .when(Comparison::GreaterThanThreshold, 100.0)
//!         .treat_missing_data(TreatMissingData::NotBreaching)
//!         .alarm_action(alerts.arn()),
//! );
//! s.add("tracing", SamplingRule::new("shop-all", 1000));
//! s.seal().unwrap();
//! ```

mod common;
mod dashboard;
mod log_group;
mod metric_alarm;
mod sampling_rule;
mod subscription;
mod topic;
mod trail;
mod xray_common;
mod xray_group;

pub use dashboard::{Dashboard, DashboardArgs, DashboardHandle, DashboardOutputs};
pub use log_group::{LogGroup, LogGroupArgs, LogGroupHandle, LogGroupOutputs, RETENTION_DAYS};
pub use metric_alarm::{
    Comparison, MetricAlarm, MetricAlarmArgs, MetricAlarmHandle, MetricAlarmOutputs, Statistic,
    TreatMissingData,
};
pub use sampling_rule::{SamplingRule, SamplingRuleArgs, SamplingRuleHandle, SamplingRuleOutputs};
pub use subscription::{
    FilterPolicyScope, Protocol, Subscription, SubscriptionArgs, SubscriptionEndpoint,
    SubscriptionHandle, SubscriptionOutputs,
};
pub use topic::{Topic, TopicArgs, TopicHandle, TopicOutputs};
pub use trail::{
    bucket_policy, bucket_policy_with_prefix, Trail, TrailArgs, TrailCloudWatchLogs, TrailHandle,
    TrailOutputs,
};
pub use xray_group::{XrayGroup, XrayGroupArgs, XrayGroupHandle, XrayGroupOutputs};

/// Registers this crate's resource types with a [`strata_core::Registry`], so that
/// resources that are only in state (removed from the program) can still be deleted.
pub fn register(registry: &mut strata_core::Registry) {
    registry
        .register::<LogGroup>()
        .register::<MetricAlarm>()
        .register::<Dashboard>()
        .register::<Topic>()
        .register::<Subscription>()
        .register::<Trail>()
        .register::<SamplingRule>()
        .register::<XrayGroup>();
}
