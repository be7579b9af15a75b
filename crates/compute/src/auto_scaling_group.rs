//! `AutoScalingGroup`: the app servers, across subnets, behind target groups.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_autoscaling::types::{
    DeletionProtection, InstancesDistribution, LaunchTemplateOverrides,
    LaunchTemplateSpecification, MixedInstancesPolicy, Tag,
};
use serde::{Deserialize, Serialize};
use strata_core::aws::kms::{check_key_uses, keys_at, KeyService, KeyUse};
use strata_core::aws::{api_error, api_error_is, retry_while_propagating, wait_for};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    StackView, Urn,
};

const TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// An auto scaling group that follows a launch template's version. Sizes, subnets,
/// target groups, the health check and the template version change in place; the name
/// replaces it. Delete terminates its instances and waits until they are gone.
///
/// A name that is taken (`AlreadyExists`) is never taken over: the create fails naming the
/// conflict. A group whose deletion protection is on (set outside this stack) is found
/// before a plan deletes it.
///
/// ```
/// use strata_core::Stack;
/// use strata_compute::{AutoScalingGroup, HealthCheck, LaunchTemplate, LaunchTemplateHandle};
/// let mut s = Stack::new("dev");
/// let lt = s.add("app", LaunchTemplate::new("shop-app", "ami-0123456789abcdef0", "t3.medium"));
/// s.add("app-asg", AutoScalingGroup::new("shop-app", lt.id(), lt.latest_version(), ["subnet-a", "subnet-b"])
///     .capacity(2, 4, 8).health_check(HealthCheck::Elb, 300));
/// ```
#[derive(Debug)]
pub struct AutoScalingGroup;

/// Which health check replaces instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthCheck {
    /// EC2 status checks.
    Ec2,
    /// The load balancer's target health (and EC2's).
    Elb,
}

/// How Spot capacity is chosen among the instance types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpotAllocation {
    /// From the pools with the most spare capacity (fewest interruptions).
    #[default]
    CapacityOptimized,
    /// Capacity first, then price (AWS's recommendation for most workloads).
    PriceCapacityOptimized,
    /// The cheapest pools.
    LowestPrice,
}

impl SpotAllocation {
    fn as_str(self) -> &'static str {
        match self {
            SpotAllocation::CapacityOptimized => "capacity-optimized",
            SpotAllocation::PriceCapacityOptimized => "price-capacity-optimized",
            SpotAllocation::LowestPrice => "lowest-price",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "price-capacity-optimized" => SpotAllocation::PriceCapacityOptimized,
            "lowest-price" => SpotAllocation::LowestPrice,
            _ => SpotAllocation::CapacityOptimized,
        }
    }
}

/// A mixed instances policy: on-demand instances up to a base, Spot above it, across
/// several instance types (which override the launch template's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixedInstances {
    /// The instance types, in priority order for on-demand.
    pub instance_types: Vec<String>,
    /// On-demand instances before any Spot.
    pub on_demand_base_capacity: i32,
    /// Percent on-demand above the base (0: all Spot).
    pub on_demand_percentage_above_base: i32,
    /// How Spot capacity is chosen.
    pub spot_allocation_strategy: SpotAllocation,
}

/// The args of an [`AutoScalingGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoScalingGroupArgs {
    /// The group name.
    pub name: String,
    /// The launch template.
    pub launch_template_id: Input<String>,
    /// Its version (follow `latest_version`).
    pub launch_template_version: Input<String>,
    /// Fewest instances.
    pub min_size: i32,
    /// Instances wanted.
    pub desired_capacity: i32,
    /// Most instances.
    pub max_size: i32,
    /// The subnets.
    pub subnet_ids: Vec<Input<String>>,
    /// Target groups the instances register with.
    #[serde(default)]
    pub target_group_arns: Vec<Input<String>>,
    /// The health check.
    pub health_check_type: HealthCheck,
    /// Seconds after launch before health checks count.
    pub health_check_grace_period: i32,
    /// User tags (propagated to instances).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Seconds a create, or an update of the sizes or the launch template, waits for
    /// `min_size` instances to be in service and healthy (0: no wait). A launch that
    /// fails meanwhile fails the step at once, with Auto Scaling's reason.
    #[serde(default = "default_capacity_wait")]
    pub wait_for_capacity_timeout: u32,
    /// On-demand up to a base and Spot above it, over several instance types (`None`: the
    /// launch template's type, on-demand).
    #[serde(default)]
    pub mixed_instances: Option<MixedInstances>,
}

fn default_capacity_wait() -> u32 {
    600
}

impl AutoScalingGroup {
    /// A group `name` of 1 instance of the template, in `subnet_ids`, with EC2 checks.
    #[allow(clippy::new_ret_no_self)]
    pub fn new<I: Into<Input<String>>>(
        name: impl Into<String>,
        launch_template_id: impl Into<Input<String>>,
        version: impl Into<Input<String>>,
        subnet_ids: impl IntoIterator<Item = I>,
    ) -> AutoScalingGroupArgs {
        AutoScalingGroupArgs {
            name: name.into(),
            launch_template_id: launch_template_id.into(),
            launch_template_version: version.into(),
            min_size: 1,
            desired_capacity: 1,
            max_size: 1,
            subnet_ids: subnet_ids.into_iter().map(Into::into).collect(),
            target_group_arns: Vec::new(),
            health_check_type: HealthCheck::Ec2,
            health_check_grace_period: 300,
            tags: BTreeMap::new(),
            wait_for_capacity_timeout: default_capacity_wait(),
            mixed_instances: None,
        }
    }
}

impl AutoScalingGroupArgs {
    /// Sets min, desired and max.
    pub fn capacity(mut self, min: i32, desired: i32, max: i32) -> Self {
        self.min_size = min;
        self.desired_capacity = desired;
        self.max_size = max;
        self
    }
    /// Sets the health check and its grace period.
    pub fn health_check(mut self, kind: HealthCheck, grace_seconds: i32) -> Self {
        self.health_check_type = kind;
        self.health_check_grace_period = grace_seconds;
        self
    }
    /// Sets how long a create or a resize waits for `min_size` healthy instances (zero:
    /// no wait; default 10 minutes, as Terraform's `wait_for_capacity_timeout`).
    pub fn wait_for_capacity(mut self, timeout: Duration) -> Self {
        self.wait_for_capacity_timeout = u32::try_from(timeout.as_secs()).unwrap_or(u32::MAX);
        self
    }
    /// Runs `base` on-demand instances and Spot above them, capacity-optimized, over
    /// `instance_types` (the template's type is overridden; several types make Spot
    /// capacity likelier): for burst capacity of non-critical work.
    pub fn spot_above_base<T: Into<String>>(
        mut self,
        base: i32,
        instance_types: impl IntoIterator<Item = T>,
    ) -> Self {
        self.mixed_instances = Some(MixedInstances {
            instance_types: instance_types.into_iter().map(Into::into).collect(),
            on_demand_base_capacity: base,
            on_demand_percentage_above_base: 0,
            spot_allocation_strategy: SpotAllocation::CapacityOptimized,
        });
        self
    }
    /// Registers instances with a target group.
    pub fn target_group(mut self, arn: impl Into<Input<String>>) -> Self {
        self.target_group_arns.push(arn.into());
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for AutoScalingGroupArgs {
    type Resource = AutoScalingGroup;
}

/// The outputs of an [`AutoScalingGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoScalingGroupOutputs {
    /// The name (its id).
    pub name: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(AutoScalingGroup => AutoScalingGroupHandle {
    /// The name.
    name: String,
    /// The ARN.
    arn: String,
});

pub(crate) fn autoscaling(cx: &Cx<'_>) -> Result<aws_sdk_autoscaling::Client, ProviderError> {
    cx.client(aws_sdk_autoscaling::Client::new)
}

fn values(v: &[Input<String>]) -> Result<Vec<String>, ProviderError> {
    v.iter()
        .map(|s| s.value().cloned().map_err(Into::into))
        .collect()
}

fn tag(name: &str, k: &str, v: &str) -> Tag {
    Tag::builder()
        .resource_id(name)
        .resource_type("auto-scaling-group")
        .key(k)
        .value(v)
        .propagate_at_launch(true)
        .build()
}

fn health(h: HealthCheck) -> &'static str {
    match h {
        HealthCheck::Ec2 => "EC2",
        HealthCheck::Elb => "ELB",
    }
}

async fn describe(
    cx: &Cx<'_>,
    name: &str,
) -> Result<Option<aws_sdk_autoscaling::types::AutoScalingGroup>, ProviderError> {
    let out = autoscaling(cx)?
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(name)
        .send()
        .await
        .map_err(api_error("autoscaling:DescribeAutoScalingGroups"))?;
    Ok(out.auto_scaling_groups().first().cloned())
}

/// The launch template of the group: `LaunchTemplate`, or inside a
/// `MixedInstancesPolicy` (the two are exclusive).
fn template_of(
    a: &AutoScalingGroupArgs,
) -> Result<
    (
        Option<LaunchTemplateSpecification>,
        Option<MixedInstancesPolicy>,
    ),
    ProviderError,
> {
    let spec = LaunchTemplateSpecification::builder()
        .launch_template_id(a.launch_template_id.value()?)
        .version(a.launch_template_version.value()?)
        .build();
    let Some(m) = &a.mixed_instances else {
        return Ok((Some(spec), None));
    };
    let policy = MixedInstancesPolicy::builder()
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplate::builder()
                .launch_template_specification(spec)
                .set_overrides(Some(
                    m.instance_types
                        .iter()
                        .map(|t| LaunchTemplateOverrides::builder().instance_type(t).build())
                        .collect(),
                ))
                .build(),
        )
        .instances_distribution(
            InstancesDistribution::builder()
                .on_demand_base_capacity(m.on_demand_base_capacity)
                .on_demand_percentage_above_base_capacity(m.on_demand_percentage_above_base)
                .spot_allocation_strategy(m.spot_allocation_strategy.as_str())
                .build(),
        )
        .build();
    Ok((None, Some(policy)))
}

/// Launch failures Auto Scaling cannot get past by retrying: a key it may not use
/// (`Client.InternalError`), an image, key pair, group or subnet that is not there, an
/// invalid parameter. Others (capacity in one zone, an instance profile IAM has not
/// propagated yet) it retries on its own, so the wait goes on.
const FATAL_LAUNCH: &[&str] = &[
    "Client.InternalError",
    "InvalidAMIID",
    "InvalidKeyPair",
    "InvalidGroup.NotFound",
    "InvalidSubnetID",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "InvalidBlockDeviceMapping",
];

/// Waits until group `a.name` has `min_size` instances in service and healthy (Auto
/// Scaling's health: with ELB checks, during the grace period that is being in service),
/// for at most `wait_for_capacity_timeout`. A launch failure Auto Scaling cannot retry
/// past fails the wait at once with its reason; others are named in the timeout's
/// message. `since`: activities before it are an earlier change's (`None` at create: a
/// new group has no earlier ones). Transient errors while looking only look again.
async fn wait_for_capacity(
    cx: &Cx<'_>,
    a: &AutoScalingGroupArgs,
    since: Option<std::time::SystemTime>,
) -> Result<(), ProviderError> {
    if a.wait_for_capacity_timeout == 0 || a.min_size == 0 {
        return Ok(());
    }
    let timeout = Duration::from_secs(a.wait_for_capacity_timeout.into());
    let client = autoscaling(cx)?;
    // A minute of slack for the difference between this clock and AWS's.
    let since =
        since.map(|t| aws_sdk_autoscaling::primitives::DateTime::from(t).secs() - CLOCK_SLACK_SECS);
    let healthy = std::sync::atomic::AtomicUsize::new(0);
    let healthy = &healthy;
    let last_failure = std::sync::Mutex::new(None::<String>);
    let last_failure = &last_failure;
    let waited = wait_for(
        format!(
            "auto scaling group {} to have {} healthy instances in service",
            a.name, a.min_size
        ),
        timeout,
        CAPACITY_POLL.min(timeout),
        || {
            let client = client.clone();
            async move {
                let look = async {
                    let g = describe(cx, &a.name).await?.ok_or_else(|| {
                        ProviderError::Transient(format!("group {} not visible yet", a.name))
                    })?;
                    let now = g
                        .instances()
                        .iter()
                        .filter(|i| {
                            i.lifecycle_state().map(|s| s.as_str()) == Some("InService")
                                && i.health_status()
                                    .is_some_and(|h| h.eq_ignore_ascii_case("healthy"))
                        })
                        .count();
                    healthy.store(now, std::sync::atomic::Ordering::Relaxed);
                    if now >= usize::try_from(a.min_size).unwrap_or(0) {
                        return Ok(Some(()));
                    }
                    let activities = client
                        .describe_scaling_activities()
                        .auto_scaling_group_name(&a.name)
                        .max_records(20)
                        .send()
                        .await
                        .map_err(api_error("autoscaling:DescribeScalingActivities"))?;
                    let failed = activities.activities().iter().find(|x| {
                        x.status_code().map(|c| c.as_str()) == Some("Failed")
                            && since.is_none_or(|s| x.start_time().is_some_and(|t| t.secs() >= s))
                    });
                    let Some(x) = failed else { return Ok(None) };
                    let reason = format!(
                        "{} ({})",
                        x.status_message().unwrap_or("no reason given"),
                        x.description().unwrap_or_default()
                    );
                    if FATAL_LAUNCH.iter().any(|f| reason.contains(f)) {
                        return Err(ProviderError::Other(format!(
                            "auto scaling group {} could not launch instances: {reason}",
                            a.name
                        )));
                    }
                    if let Ok(mut l) = last_failure.lock() {
                        *l = Some(reason);
                    }
                    Ok::<_, ProviderError>(None)
                };
                match look.await {
                    Err(ProviderError::Transient(_)) => Ok(None),
                    r => r,
                }
            }
        },
    )
    .await;
    match waited {
        Err(ProviderError::Timeout { after, what }) => Err(ProviderError::Timeout {
            after,
            what: format!(
                "{what} (it has {}{})",
                healthy.load(std::sync::atomic::Ordering::Relaxed),
                last_failure
                    .lock()
                    .ok()
                    .and_then(|l| l.clone())
                    .map(|r| format!("; last failed launch: {r}"))
                    .unwrap_or_default()
            ),
        }),
        r => r,
    }
}

/// Seconds an activity may seem to predate the change that caused it (clock skew).
const CLOCK_SLACK_SECS: i64 = 60;

/// How often the capacity wait looks.
const CAPACITY_POLL: Duration = Duration::from_secs(10);

#[async_trait]
impl Resource for AutoScalingGroup {
    const TYPE: &'static str = "aws:autoscaling/group";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    /// A group name is unique in its account and region.
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = AutoScalingGroupArgs;
    type Outputs = AutoScalingGroupOutputs;

    /// The EBS key of the group's launch template must let Auto Scaling's service-linked
    /// role use it: otherwise instances never launch.
    fn check_stack(stack: &StackView<'_>) -> Vec<(Urn, FieldError)> {
        let mut uses = Vec::new();
        for group in stack.of_type(Self::TYPE) {
            for lt in group.references("launch_template_id") {
                let Some(lt) = stack.get(lt) else { continue };
                for key in keys_at(stack, &lt, "ebs_kms_key_id") {
                    uses.push(KeyUse {
                        key,
                        service: KeyService::AutoScaling,
                        why: format!(
                            "auto scaling group {} launches instances from launch template {}, whose EBS volumes are encrypted with this key",
                            group.urn().name(),
                            lt.urn().name()
                        ),
                    });
                }
            }
        }
        check_key_uses(stack, uses)
    }

    fn validate(a: &AutoScalingGroupArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if a.name.is_empty() || a.name.len() > 255 {
            errs.push(FieldError::new("name", "1 to 255 characters"));
        }
        if a.min_size < 0 {
            errs.push(FieldError::new("min_size", "at least 0"));
        }
        if a.min_size > a.desired_capacity {
            errs.push(FieldError::new(
                "desired_capacity",
                format!("{} is below min_size {}", a.desired_capacity, a.min_size),
            ));
        }
        if a.desired_capacity > a.max_size {
            errs.push(FieldError::new(
                "desired_capacity",
                format!("{} is above max_size {}", a.desired_capacity, a.max_size),
            ));
        }
        if a.subnet_ids.is_empty() {
            errs.push(FieldError::new("subnet_ids", "at least one subnet"));
        }
        if !(0..=7200).contains(&a.health_check_grace_period) {
            errs.push(FieldError::new(
                "health_check_grace_period",
                format!("{} s: 0 to 7200", a.health_check_grace_period),
            ));
        }
        if let Some(m) = &a.mixed_instances {
            if m.instance_types.is_empty() || m.instance_types.len() > 40 {
                errs.push(FieldError::new(
                    "mixed_instances.instance_types",
                    format!("{} types: 1 to 40", m.instance_types.len()),
                ));
            }
            if !(0..=a.max_size).contains(&m.on_demand_base_capacity) {
                errs.push(FieldError::new(
                    "mixed_instances.on_demand_base_capacity",
                    format!(
                        "{}: 0 to max_size ({})",
                        m.on_demand_base_capacity, a.max_size
                    ),
                ));
            }
            if !(0..=100).contains(&m.on_demand_percentage_above_base) {
                errs.push(FieldError::new(
                    "mixed_instances.on_demand_percentage_above_base",
                    format!("{}%: 0 to 100", m.on_demand_percentage_above_base),
                ));
            }
        }
        if a.health_check_type == HealthCheck::Elb && a.target_group_arns.is_empty() {
            errs.push(FieldError::new(
                "health_check_type",
                "ELB health checks need a target group",
            ));
        }
        errs
    }

    fn estimate(_: &AutoScalingGroupArgs) -> Duration {
        Duration::from_secs(180)
    }

    async fn create(
        cx: &Cx<'_>,
        a: &AutoScalingGroupArgs,
    ) -> Result<Created<AutoScalingGroupOutputs>, ProviderError> {
        let tags = cx.create_tags(&a.tags);
        let client = autoscaling(cx)?;
        let (template, mixed) = template_of(a)?;
        let call = client
            .create_auto_scaling_group()
            .auto_scaling_group_name(&a.name)
            .set_launch_template(template)
            .set_mixed_instances_policy(mixed)
            .min_size(a.min_size)
            .max_size(a.max_size)
            .desired_capacity(a.desired_capacity)
            .vpc_zone_identifier(values(&a.subnet_ids)?.join(","))
            .set_target_group_arns(Some(values(&a.target_group_arns)?))
            .health_check_type(health(a.health_check_type))
            .health_check_grace_period(a.health_check_grace_period)
            .set_tags(Some(tags.iter().map(|(k, v)| tag(&a.name, k, v)).collect()));
        // The launch template's instance profile may be new: until IAM has propagated it,
        // the group's template is refused as naming an invalid profile.
        retry_while_propagating(
            |e| api_error_is(e, "ValidationError", "Invalid IAM Instance Profile"),
            || {
                let call = call.clone();
                async move {
                    call.send()
                        .await
                        .map_err(api_error("autoscaling:CreateAutoScalingGroup"))
                }
            },
        )
        .await?;
        wait_for_capacity(cx, a, None).await?;
        let g = describe(cx, &a.name)
            .await?
            .ok_or_else(|| ProviderError::NotFound(a.name.clone()))?;
        Ok(Created {
            id: a.name.clone(),
            outputs: AutoScalingGroupOutputs {
                name: a.name.clone(),
                arn: g.auto_scaling_group_arn().unwrap_or_default().to_owned(),
            },
        })
    }

    /// The group of that name is this create's only with its `strata:token` tag (sent
    /// with the create call itself), and not while it is being deleted. A group of that
    /// name without it (somebody else's, or the old half of a replace, which carries the
    /// same `strata:urn`) is absent: the engine reports the conflict.
    async fn recover(
        cx: &Cx<'_>,
        a: &AutoScalingGroupArgs,
    ) -> Result<Recovery<AutoScalingGroupOutputs>, ProviderError> {
        let Some(g) = describe(cx, &a.name).await? else {
            return Ok(Recovery::Absent);
        };
        let ours = cx.owns(g.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))));
        if !ours || g.status().is_some_and(|s| s.contains("Delete")) {
            tracing::debug!(
                urn = %cx.urn,
                "group {} lacks this create's token or is being deleted: not ours",
                a.name
            );
            return Ok(Recovery::Absent);
        }
        Ok(Recovery::Found(Created {
            id: a.name.clone(),
            outputs: AutoScalingGroupOutputs {
                name: a.name.clone(),
                arn: g.auto_scaling_group_arn().unwrap_or_default().to_owned(),
            },
        }))
    }

    /// `DeleteAutoScalingGroup` (with `ForceDelete`, as delete sends it) is refused while
    /// the group's deletion protection is `prevent-force-deletion` or
    /// `prevent-all-deletion`.
    async fn delete_blocker(
        cx: &Cx<'_>,
        id: &str,
        _: &AutoScalingGroupArgs,
        _: &AutoScalingGroupOutputs,
    ) -> Result<Option<FieldError>, ProviderError> {
        let Some(g) = describe(cx, id).await? else {
            return Ok(None);
        };
        let on = |p: &DeletionProtection| {
            matches!(
                p,
                DeletionProtection::PreventAllDeletion | DeletionProtection::PreventForceDeletion
            )
        };
        Ok(match g.deletion_protection() {
            Some(p) if on(p) => Some(FieldError::new(
                "deletion_protection",
                format!(
                    "auto scaling group {id} has deletion protection {}, so Auto Scaling \
                     refuses to delete it with its instances: turn it off first \
                     (autoscaling:UpdateAutoScalingGroup with DeletionProtection=none), or \
                     keep the group",
                    p.as_str()
                ),
            )),
            _ => None,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&AutoScalingGroupArgs>,
    ) -> Result<Option<Observed<AutoScalingGroupArgs, AutoScalingGroupOutputs>>, ProviderError>
    {
        let Some(g) = describe(cx, id).await? else {
            return Ok(None);
        };
        if g.status().is_some_and(|s| s.contains("Delete")) {
            return Ok(None);
        }
        let subnets: Vec<String> = g
            .vpc_zone_identifier()
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let same = |live: &[String], declared: Option<&Vec<Input<String>>>| {
            declared.and_then(|d| values(d).ok()).is_some_and(|mut d| {
                let mut l = live.to_vec();
                d.sort();
                l.sort();
                d == l
            })
        };
        let tgs: Vec<String> = g.target_group_arns().to_vec();
        let policy = g.mixed_instances_policy();
        let lt = g.launch_template().or_else(|| {
            policy
                .and_then(|p| p.launch_template())
                .and_then(|l| l.launch_template_specification())
        });
        let mixed_instances = policy.map(|p| {
            let d = p.instances_distribution();
            MixedInstances {
                instance_types: p
                    .launch_template()
                    .map(|l| {
                        l.overrides()
                            .iter()
                            .filter_map(|o| o.instance_type().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                // AWS's defaults when a field is not reported: base 0, 100% on-demand.
                on_demand_base_capacity: d.and_then(|d| d.on_demand_base_capacity()).unwrap_or(0),
                on_demand_percentage_above_base: d
                    .and_then(|d| d.on_demand_percentage_above_base_capacity())
                    .unwrap_or(100),
                spot_allocation_strategy: SpotAllocation::parse(
                    d.and_then(|d| d.spot_allocation_strategy())
                        .unwrap_or_default(),
                ),
            }
        });
        Ok(Some(Observed {
            args: AutoScalingGroupArgs {
                name: id.to_owned(),
                launch_template_id: Input::Value(
                    lt.and_then(|l| l.launch_template_id())
                        .unwrap_or_default()
                        .to_owned(),
                ),
                launch_template_version: Input::Value(
                    lt.and_then(|l| l.version()).unwrap_or_default().to_owned(),
                ),
                min_size: g.min_size().unwrap_or_default(),
                desired_capacity: g.desired_capacity().unwrap_or_default(),
                max_size: g.max_size().unwrap_or_default(),
                subnet_ids: if same(&subnets, args.map(|a| &a.subnet_ids)) {
                    args.map(|a| a.subnet_ids.clone()).unwrap_or_default()
                } else {
                    subnets.into_iter().map(Input::Value).collect()
                },
                target_group_arns: if same(&tgs, args.map(|a| &a.target_group_arns)) {
                    args.map(|a| a.target_group_arns.clone())
                        .unwrap_or_default()
                } else {
                    tgs.into_iter().map(Input::Value).collect()
                },
                health_check_type: if g.health_check_type() == Some("ELB") {
                    HealthCheck::Elb
                } else {
                    HealthCheck::Ec2
                },
                health_check_grace_period: g.health_check_grace_period().unwrap_or_default(),
                tags: g
                    .tags()
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.key()?.to_owned(),
                            t.value().unwrap_or_default().to_owned(),
                        ))
                    })
                    .filter(|(k, _)| strata_core::aws::is_user_tag(k))
                    .collect(),
                wait_for_capacity_timeout: args
                    .map_or_else(default_capacity_wait, |a| a.wait_for_capacity_timeout),
                mixed_instances,
            },
            outputs: AutoScalingGroupOutputs {
                name: id.to_owned(),
                arn: g.auto_scaling_group_arn().unwrap_or_default().to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &AutoScalingGroupArgs,
        new: &AutoScalingGroupArgs,
        outputs: &AutoScalingGroupOutputs,
    ) -> Result<AutoScalingGroupOutputs, ProviderError> {
        let client = autoscaling(cx)?;
        let (mut a, mut b) = (old.clone(), new.clone());
        a.tags.clear();
        b.tags.clear();
        a.target_group_arns.clear();
        b.target_group_arns.clear();
        a.wait_for_capacity_timeout = b.wait_for_capacity_timeout;
        let started = std::time::SystemTime::now();
        let resized = a != b;
        if resized {
            let (template, mixed) = template_of(new)?;
            client
                .update_auto_scaling_group()
                .auto_scaling_group_name(id)
                .set_launch_template(template)
                .set_mixed_instances_policy(mixed)
                .min_size(new.min_size)
                .max_size(new.max_size)
                .desired_capacity(new.desired_capacity)
                .vpc_zone_identifier(values(&new.subnet_ids)?.join(","))
                .health_check_type(health(new.health_check_type))
                .health_check_grace_period(new.health_check_grace_period)
                .send()
                .await
                .map_err(api_error("autoscaling:UpdateAutoScalingGroup"))?;
        }
        let (old_tg, new_tg) = (
            values(&old.target_group_arns)?,
            values(&new.target_group_arns)?,
        );
        let added: Vec<String> = new_tg
            .iter()
            .filter(|t| !old_tg.contains(t))
            .cloned()
            .collect();
        let removed: Vec<String> = old_tg
            .iter()
            .filter(|t| !new_tg.contains(t))
            .cloned()
            .collect();
        if !added.is_empty() {
            client
                .attach_load_balancer_target_groups()
                .auto_scaling_group_name(id)
                .set_target_group_arns(Some(added))
                .send()
                .await
                .map_err(api_error("autoscaling:AttachLoadBalancerTargetGroups"))?;
        }
        if !removed.is_empty() {
            client
                .detach_load_balancer_target_groups()
                .auto_scaling_group_name(id)
                .set_target_group_arns(Some(removed))
                .send()
                .await
                .map_err(api_error("autoscaling:DetachLoadBalancerTargetGroups"))?;
        }
        let gone: Vec<Tag> = old
            .tags
            .iter()
            .filter(|(k, _)| !new.tags.contains_key(*k))
            .map(|(k, v)| tag(id, k, v))
            .collect();
        if !gone.is_empty() {
            client
                .delete_tags()
                .set_tags(Some(gone))
                .send()
                .await
                .map_err(api_error("autoscaling:DeleteTags"))?;
        }
        let set: Vec<Tag> = new
            .tags
            .iter()
            .filter(|(k, v)| old.tags.get(*k) != Some(*v))
            .map(|(k, v)| tag(id, k, v))
            .collect();
        if !set.is_empty() {
            client
                .create_or_update_tags()
                .set_tags(Some(set))
                .send()
                .await
                .map_err(api_error("autoscaling:CreateOrUpdateTags"))?;
        }
        // New sizes (or a new template or subnets, which reach new instances only): the
        // minimum in service first.
        if resized {
            wait_for_capacity(cx, new, Some(started)).await?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &AutoScalingGroupArgs,
        _: &AutoScalingGroupOutputs,
    ) -> Result<(), ProviderError> {
        let client = autoscaling(cx)?;
        match client
            .delete_auto_scaling_group()
            .auto_scaling_group_name(id)
            .force_delete(true)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e)
                if aws_sdk_autoscaling::error::ProvideErrorMetadata::message(&e)
                    .is_some_and(|m| m.contains("not found")) =>
            {
                return Ok(())
            }
            Err(e) => return Err(api_error("autoscaling:DeleteAutoScalingGroup")(e)),
        }
        // Its instances terminate first; the group goes with the last of them.
        wait_for(
            format!("auto scaling group {id} to be deleted"),
            TIMEOUT,
            Duration::from_secs(10),
            || async { Ok(describe(cx, id).await?.is_none().then_some(())) },
        )
        .await
    }
}
