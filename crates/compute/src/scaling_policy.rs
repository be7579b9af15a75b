//! `ScalingPolicy`: target tracking on CPU, or on memory through the CloudWatch agent.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_autoscaling::types::{
    CustomizedMetricSpecification, MetricDimension, MetricStatistic, MetricType,
    PredefinedMetricSpecification, TargetTrackingConfiguration,
};
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::auto_scaling_group::autoscaling;

/// A target tracking policy of an auto scaling group: keep the group's average CPU (or
/// memory, as the CloudWatch agent reports it in `CWAgent`/`mem_used_percent`) at a
/// target. The target changes in place (`PutScalingPolicy`); the group, the name and the
/// metric replace it.
///
/// `PutScalingPolicy` creates or overwrites: so a create first looks for a policy of that
/// name on the group, and when there is one it fails naming the conflict, leaving that
/// policy as it is. (Between the look and the put, a policy that appears is overwritten:
/// AWS offers no create-only call.) Policies carry no tags: the recovery of an
/// interrupted create adopts only a policy whose group, name, metric and target are all
/// the declared ones.
///
/// ```
/// use strata_core::Stack;
/// use strata_compute::{Metric, ScalingPolicy};
/// let mut s = Stack::new("dev");
/// s.add("cpu-70", ScalingPolicy::target_tracking("shop-app", "cpu-70", Metric::Cpu, 70.0));
/// ```
#[derive(Debug)]
pub struct ScalingPolicy;

/// The tracked metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// `ASGAverageCPUUtilization`.
    Cpu,
    /// The CloudWatch agent's `mem_used_percent`, averaged over the group.
    Memory,
}

/// The args of a [`ScalingPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingPolicyArgs {
    /// The group's name.
    pub auto_scaling_group_name: Input<String>,
    /// The policy name.
    pub name: String,
    /// The metric.
    pub metric: Metric,
    /// The target, percent.
    pub target_value: f64,
}

impl ScalingPolicy {
    /// Keeps `metric` of the group at `target` percent.
    pub fn target_tracking(
        group: impl Into<Input<String>>,
        name: impl Into<String>,
        metric: Metric,
        target: f64,
    ) -> ScalingPolicyArgs {
        ScalingPolicyArgs {
            auto_scaling_group_name: group.into(),
            name: name.into(),
            metric,
            target_value: target,
        }
    }
}

impl ResourceArgs for ScalingPolicyArgs {
    type Resource = ScalingPolicy;
}

/// The outputs of a [`ScalingPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingPolicyOutputs {
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(ScalingPolicy => ScalingPolicyHandle {
    /// The ARN.
    arn: String,
});

fn config(
    a: &ScalingPolicyArgs,
    group: &str,
) -> Result<TargetTrackingConfiguration, ProviderError> {
    let b = TargetTrackingConfiguration::builder().target_value(a.target_value);
    let b = match a.metric {
        Metric::Cpu => b.predefined_metric_specification(
            PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::AsgAverageCpuUtilization)
                .build(),
        ),
        Metric::Memory => b.customized_metric_specification(
            CustomizedMetricSpecification::builder()
                .namespace("CWAgent")
                .metric_name("mem_used_percent")
                .statistic(MetricStatistic::Average)
                .dimensions(
                    MetricDimension::builder()
                        .name("AutoScalingGroupName")
                        .value(group)
                        .build(),
                )
                .build(),
        ),
    };
    Ok(b.build())
}

async fn put(cx: &Cx<'_>, a: &ScalingPolicyArgs) -> Result<String, ProviderError> {
    let group = a.auto_scaling_group_name.value()?;
    let out = autoscaling(cx)?
        .put_scaling_policy()
        .auto_scaling_group_name(group)
        .policy_name(&a.name)
        .policy_type("TargetTrackingScaling")
        .target_tracking_configuration(config(a, group)?)
        .send()
        .await
        .map_err(api_error("autoscaling:PutScalingPolicy"))?;
    Ok(out.policy_arn().unwrap_or_default().to_owned())
}

/// The policy `name` of group `group`, if there is one.
async fn find(
    cx: &Cx<'_>,
    group: &str,
    name: &str,
) -> Result<Option<aws_sdk_autoscaling::types::ScalingPolicy>, ProviderError> {
    let out = autoscaling(cx)?
        .describe_policies()
        .auto_scaling_group_name(group)
        .policy_names(name)
        .send()
        .await
        .map_err(api_error("autoscaling:DescribePolicies"))?;
    Ok(out
        .scaling_policies()
        .iter()
        .find(|p| p.policy_name() == Some(name))
        .cloned())
}

/// Whether the live policy `p` is what `a` declares for group `group`: target tracking
/// of the same metric (and, for memory, the same agent metric of this group) at the same
/// target.
fn is_declared(
    p: &aws_sdk_autoscaling::types::ScalingPolicy,
    a: &ScalingPolicyArgs,
    group: &str,
) -> bool {
    let Some(t) = p.target_tracking_configuration() else {
        return false;
    };
    let metric = match a.metric {
        Metric::Cpu => {
            t.customized_metric_specification().is_none()
                && t.predefined_metric_specification()
                    .and_then(|m| m.predefined_metric_type())
                    == Some(&MetricType::AsgAverageCpuUtilization)
        }
        Metric::Memory => t.customized_metric_specification().is_some_and(|m| {
            m.namespace() == Some("CWAgent")
                && m.metric_name() == Some("mem_used_percent")
                && m.statistic() == Some(&MetricStatistic::Average)
                && m.dimensions().len() == 1
                && m.dimensions()
                    .iter()
                    .all(|d| d.name() == Some("AutoScalingGroupName") && d.value() == Some(group))
        }),
    };
    p.policy_type() == Some("TargetTrackingScaling")
        && metric
        && t.target_value() == Some(a.target_value)
        && t.disable_scale_in() != Some(true)
}

fn split(id: &str) -> Result<(&str, &str), ProviderError> {
    id.split_once('/').ok_or_else(|| ProviderError::Invalid {
        field: "id".into(),
        message: format!("{id:?} is not GROUP/POLICY"),
    })
}

#[async_trait]
impl Resource for ScalingPolicy {
    const TYPE: &'static str = "aws:autoscaling/policy";
    const REPLACE_ON: &'static [&'static str] = &["auto_scaling_group_name", "name", "metric"];
    /// A policy name is unique in its group.
    const IDENTITY: &'static [&'static str] = &["auto_scaling_group_name", "name"];
    type Args = ScalingPolicyArgs;
    type Outputs = ScalingPolicyOutputs;

    fn validate(a: &ScalingPolicyArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if a.name.is_empty() || a.name.len() > 255 || a.name.contains('/') {
            errs.push(FieldError::new("name", "1 to 255 characters, no /"));
        }
        if !(a.target_value > 0.0 && a.target_value <= 100.0) {
            errs.push(FieldError::new(
                "target_value",
                format!(
                    "{}: a utilization target is a percentage above 0",
                    a.target_value
                ),
            ));
        }
        errs
    }

    fn estimate(_: &ScalingPolicyArgs) -> Duration {
        Duration::from_secs(2)
    }

    /// Refuses a name the group has already: `PutScalingPolicy` would overwrite it.
    async fn create(
        cx: &Cx<'_>,
        a: &ScalingPolicyArgs,
    ) -> Result<Created<ScalingPolicyOutputs>, ProviderError> {
        let group = a.auto_scaling_group_name.value()?;
        if find(cx, group, &a.name).await?.is_some() {
            return Err(ProviderError::AlreadyExists {
                operation: "autoscaling:PutScalingPolicy".into(),
                message: format!(
                    "auto scaling group {group} has a scaling policy named {} already (a \
                     put would overwrite it)",
                    a.name
                ),
            });
        }
        let arn = put(cx, a).await?;
        Ok(Created {
            id: format!("{group}/{}", a.name),
            outputs: ScalingPolicyOutputs { arn },
        })
    }

    /// Policies have no tags: the group's policy of that name resembles this create's
    /// when its metric and target are the declared ones (the engine adopts it after an
    /// interrupted create, never after this create was refused because the name was
    /// taken). Anything else is somebody else's: absent, and the engine reports the
    /// conflict.
    async fn recover(
        cx: &Cx<'_>,
        a: &ScalingPolicyArgs,
    ) -> Result<Recovery<ScalingPolicyOutputs>, ProviderError> {
        let group = a.auto_scaling_group_name.value()?;
        Ok(match find(cx, group, &a.name).await? {
            Some(p) if is_declared(&p, a, group) => Recovery::Resembles(Created {
                id: format!("{group}/{}", a.name),
                outputs: ScalingPolicyOutputs {
                    arn: p.policy_arn().unwrap_or_default().to_owned(),
                },
            }),
            _ => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&ScalingPolicyArgs>,
    ) -> Result<Option<Observed<ScalingPolicyArgs, ScalingPolicyOutputs>>, ProviderError> {
        let (group, name) = split(id)?;
        let out = autoscaling(cx)?
            .describe_policies()
            .auto_scaling_group_name(group)
            .policy_names(name)
            .send()
            .await
            .map_err(api_error("autoscaling:DescribePolicies"))?;
        let Some(p) = out.scaling_policies().first() else {
            return Ok(None);
        };
        let t = p.target_tracking_configuration();
        Ok(Some(Observed {
            args: ScalingPolicyArgs {
                auto_scaling_group_name: Input::Value(group.to_owned()),
                name: name.to_owned(),
                metric: if t
                    .and_then(|t| t.customized_metric_specification())
                    .is_some()
                {
                    Metric::Memory
                } else {
                    Metric::Cpu
                },
                target_value: t.and_then(|t| t.target_value()).unwrap_or_default(),
            },
            outputs: ScalingPolicyOutputs {
                arn: p.policy_arn().unwrap_or_default().to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        _: &str,
        _: &ScalingPolicyArgs,
        new: &ScalingPolicyArgs,
        _: &ScalingPolicyOutputs,
    ) -> Result<ScalingPolicyOutputs, ProviderError> {
        Ok(ScalingPolicyOutputs {
            arn: put(cx, new).await?,
        })
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &ScalingPolicyArgs,
        _: &ScalingPolicyOutputs,
    ) -> Result<(), ProviderError> {
        let (group, name) = split(id)?;
        match autoscaling(cx)?
            .delete_policy()
            .auto_scaling_group_name(group)
            .policy_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if aws_sdk_autoscaling::error::ProvideErrorMetadata::message(&e)
                    .is_some_and(|m| m.contains("not found")) =>
            {
                Ok(())
            }
            Err(e) => Err(api_error("autoscaling:DeletePolicy")(e)),
        }
    }
}
