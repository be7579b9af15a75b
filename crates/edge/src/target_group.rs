//! `TargetGroup`: where a load balancer sends requests, with its health check.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetGroupAttribute, TargetTypeEnum,
};
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, check_tags, wait_for};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::elb_common::{
    check_elb_name, elb_all_tags, elb_create_tags, elb_not_found, elb_owned, elb_update_tags,
    elbv2, keep_one, taken, user_only,
};

/// A target group of an Application Load Balancer (HTTP or HTTPS, instance or IP
/// targets).
///
/// The name, port, protocol, VPC and target type replace it; the health check
/// (`ModifyTargetGroup`), the deregistration delay (an attribute) and tags change in
/// place. The health check defaults to `GET /health` every 30 s expecting `200`, 5 s
/// timeout, 5 successes to become healthy and 2 failures to become unhealthy, on the
/// traffic port with the group's protocol.
///
/// Names are unique per region and account: a replacement that keeps the name is refused
/// by the plan (by `IDENTITY`); change the name with the port, protocol, VPC or target
/// type (or set `delete_before_replace`, which AWS refuses while a listener forwards to
/// the old group).
/// A name taken by a group this resource did not make (one without this create's
/// `strata:token` tag) fails the create and changes nothing; `import` takes one over.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::TargetGroup;
/// let mut s = Stack::new("dev");
/// s.add(
///     "app",
///     TargetGroup::http("shop-app", 8080, "vpc-0123")
///         .health_check_path("/health")
///         .deregistration_delay(30),
/// );
/// assert!(s.seal().is_ok());
/// ```
#[derive(Debug)]
pub struct TargetGroup;

/// The protocol between the load balancer and its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetProtocol {
    /// HTTP.
    #[default]
    Http,
    /// HTTPS.
    Https,
}

/// What the targets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    /// EC2 instances, by id (what auto scaling groups register).
    #[default]
    Instance,
    /// IP addresses.
    Ip,
}

/// A target group's health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealthCheck {
    /// The path requested (starts with `/`).
    pub path: String,
    /// The HTTP codes that mean healthy: `200`, `200,202`, `200-299` (200 to 499).
    pub matcher: String,
    /// Seconds between checks (5 to 300).
    pub interval: u32,
    /// Seconds without an answer that fail a check (2 to 120, less than the interval).
    pub timeout: u32,
    /// Successes in a row that make a target healthy (2 to 10).
    pub healthy_threshold: u32,
    /// Failures in a row that make a target unhealthy (2 to 10).
    pub unhealthy_threshold: u32,
}

impl Default for TargetHealthCheck {
    /// `GET /health` expecting 200, every 30 s, 5 s timeout, thresholds 5 and 2.
    fn default() -> Self {
        TargetHealthCheck {
            path: "/health".into(),
            matcher: "200".into(),
            interval: 30,
            timeout: 5,
            healthy_threshold: 5,
            unhealthy_threshold: 2,
        }
    }
}

/// The args of a [`TargetGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroupArgs {
    /// The name: 1 to 32 letters, digits or hyphens, not starting or ending with a hyphen.
    /// Replaces.
    pub name: String,
    /// The port targets receive traffic on. Replaces.
    pub port: u16,
    /// The protocol to the targets. Replaces.
    #[serde(default)]
    pub protocol: TargetProtocol,
    /// The VPC. Replaces.
    pub vpc_id: Input<String>,
    /// Instance or IP targets. Replaces.
    #[serde(default)]
    pub target_type: TargetType,
    /// The health check.
    #[serde(default)]
    pub health_check: TargetHealthCheck,
    /// Seconds a deregistering target keeps its in-flight requests (0 to 3600).
    #[serde(default = "default_deregistration_delay")]
    pub deregistration_delay: u32,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_deregistration_delay() -> u32 {
    300
}

impl TargetGroup {
    /// A group `name` of instances on `port` over `protocol` in `vpc_id`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        name: impl Into<String>,
        port: u16,
        protocol: TargetProtocol,
        vpc_id: impl Into<Input<String>>,
    ) -> TargetGroupArgs {
        TargetGroupArgs {
            name: name.into(),
            port,
            protocol,
            vpc_id: vpc_id.into(),
            target_type: TargetType::Instance,
            health_check: TargetHealthCheck::default(),
            deregistration_delay: default_deregistration_delay(),
            tags: BTreeMap::new(),
        }
    }

    /// An HTTP group `name` of instances on `port` in `vpc_id`.
    pub fn http(
        name: impl Into<String>,
        port: u16,
        vpc_id: impl Into<Input<String>>,
    ) -> TargetGroupArgs {
        Self::new(name, port, TargetProtocol::Http, vpc_id)
    }
}

impl TargetGroupArgs {
    /// Sets the target type.
    pub fn target_type(mut self, t: TargetType) -> Self {
        self.target_type = t;
        self
    }
    /// Sets the whole health check.
    pub fn health_check(mut self, hc: TargetHealthCheck) -> Self {
        self.health_check = hc;
        self
    }
    /// Sets the health check's path.
    pub fn health_check_path(mut self, path: impl Into<String>) -> Self {
        self.health_check.path = path.into();
        self
    }
    /// Sets the HTTP codes that mean healthy.
    pub fn matcher(mut self, codes: impl Into<String>) -> Self {
        self.health_check.matcher = codes.into();
        self
    }
    /// Sets the deregistration delay, in seconds.
    pub fn deregistration_delay(mut self, seconds: u32) -> Self {
        self.deregistration_delay = seconds;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for TargetGroupArgs {
    type Resource = TargetGroup;
}

/// The outputs of a [`TargetGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroupOutputs {
    /// The ARN (its id).
    pub arn: String,
    /// `targetgroup/NAME/ID`: the `TargetGroup` dimension of CloudWatch metrics.
    pub arn_suffix: String,
    /// The name.
    pub name: String,
}

strata_core::outputs!(TargetGroup => TargetGroupHandle {
    /// The ARN.
    arn: String,
    /// `targetgroup/NAME/ID`, the CloudWatch `TargetGroup` dimension.
    arn_suffix: String,
    /// The name.
    name: String,
});

/// How long a delete retries a group still in use.
const IN_USE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

fn aws_protocol(p: TargetProtocol) -> ProtocolEnum {
    match p {
        TargetProtocol::Http => ProtocolEnum::Http,
        TargetProtocol::Https => ProtocolEnum::Https,
    }
}

fn outputs(arn: &str, name: &str) -> TargetGroupOutputs {
    TargetGroupOutputs {
        arn: arn.to_owned(),
        arn_suffix: arn.rsplit(':').next().unwrap_or_default().to_owned(),
        name: name.to_owned(),
    }
}

async fn describe(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
) -> Result<Option<aws_sdk_elasticloadbalancingv2::types::TargetGroup>, ProviderError> {
    match client
        .describe_target_groups()
        .target_group_arns(arn)
        .send()
        .await
    {
        Ok(o) => Ok(o.target_groups().first().cloned()),
        Err(e) if elb_not_found(&e) => Ok(None),
        Err(e) => Err(api_error("elasticloadbalancing:DescribeTargetGroups")(e)),
    }
}

async fn deregistration_delay(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
) -> Result<Option<u32>, ProviderError> {
    let out = client
        .describe_target_group_attributes()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(api_error(
            "elasticloadbalancing:DescribeTargetGroupAttributes",
        ))?;
    Ok(out
        .attributes()
        .iter()
        .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
        .and_then(|a| a.value())
        .and_then(|v| v.parse().ok()))
}

async fn set_deregistration_delay(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
    seconds: u32,
) -> Result<(), ProviderError> {
    client
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(
            TargetGroupAttribute::builder()
                .key(DEREGISTRATION_DELAY)
                .value(seconds.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(api_error(
            "elasticloadbalancing:ModifyTargetGroupAttributes",
        ))?;
    Ok(())
}

/// Whether `m` is a list of HTTP codes or ranges of them, each 200 to 499.
fn matcher_ok(m: &str) -> bool {
    let code = |s: &str| s.len() == 3 && s.parse::<u16>().is_ok_and(|c| (200..=499).contains(&c));
    !m.is_empty()
        && m.split(',').all(|part| match part.split_once('-') {
            Some((a, b)) => code(a) && code(b) && a < b,
            None => code(part),
        })
}

/// The ARN of the target group named `name` in the region, if any (whoever made it).
async fn by_name(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    name: &str,
) -> Result<Option<String>, ProviderError> {
    match client.describe_target_groups().names(name).send().await {
        Ok(o) => Ok(o
            .target_groups()
            .iter()
            .find(|t| t.target_group_name() == Some(name))
            .and_then(|t| t.target_group_arn())
            .map(str::to_owned)),
        Err(e) if elb_not_found(&e) => Ok(None),
        Err(e) => Err(api_error("elasticloadbalancing:DescribeTargetGroups")(e)),
    }
}

#[async_trait]
impl Resource for TargetGroup {
    const TYPE: &'static str = "aws:elbv2/target-group";
    const REPLACE_ON: &'static [&'static str] =
        &["name", "port", "protocol", "vpc_id", "target_type"];
    /// Names are unique per account and region.
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = TargetGroupArgs;
    type Outputs = TargetGroupOutputs;

    fn validate(a: &TargetGroupArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        check_elb_name(&mut errs, &a.name);
        if a.port == 0 {
            errs.push(FieldError::new("port", "0 is outside 1-65535"));
        }
        let hc = &a.health_check;
        if !(5..=300).contains(&hc.interval) {
            errs.push(FieldError::new(
                "health_check.interval",
                format!("{} seconds: the interval is 5 to 300", hc.interval),
            ));
        }
        if !(2..=120).contains(&hc.timeout) {
            errs.push(FieldError::new(
                "health_check.timeout",
                format!("{} seconds: the timeout is 2 to 120", hc.timeout),
            ));
        } else if hc.timeout >= hc.interval {
            errs.push(FieldError::new(
                "health_check.timeout",
                format!(
                    "{} seconds: the timeout must be less than the interval ({} s)",
                    hc.timeout, hc.interval
                ),
            ));
        }
        for (field, n) in [
            ("health_check.healthy_threshold", hc.healthy_threshold),
            ("health_check.unhealthy_threshold", hc.unhealthy_threshold),
        ] {
            if !(2..=10).contains(&n) {
                errs.push(FieldError::new(
                    field,
                    format!("{n}: a threshold is 2 to 10"),
                ));
            }
        }
        if !hc.path.starts_with('/') || hc.path.len() > 1024 {
            errs.push(FieldError::new(
                "health_check.path",
                format!(
                    "{:?}: a path starts with / and has at most 1024 characters",
                    hc.path
                ),
            ));
        }
        if !matcher_ok(&hc.matcher) {
            errs.push(FieldError::new(
                "health_check.matcher",
                format!(
                    "{:?}: HTTP codes 200 to 499, as 200, 200,202 or 200-299",
                    hc.matcher
                ),
            ));
        }
        if a.deregistration_delay > 3600 {
            errs.push(FieldError::new(
                "deregistration_delay",
                format!("{} seconds: the delay is 0 to 3600", a.deregistration_delay),
            ));
        }
        errs.extend(check_tags(&a.tags));
        errs
    }

    async fn create(
        cx: &Cx<'_>,
        a: &TargetGroupArgs,
    ) -> Result<Created<TargetGroupOutputs>, ProviderError> {
        const OP: &str = "elasticloadbalancing:CreateTargetGroup";
        let client = elbv2(cx)?;
        let conflict = || {
            taken(
                OP,
                format!(
                    "a target group named {} exists in this region and was not made by this resource (a replacement needs a new name; `import` takes over an existing one)",
                    a.name
                ),
            )
        };
        // AWS answers a create with a name in use and the same settings with the existing
        // group (CreateTargetGroup is idempotent), and one with other settings with
        // DuplicateTargetGroupName: look first, and after the create check that what came
        // back carries this create's token.
        let arn = match by_name(&client, &a.name).await? {
            Some(arn) if elb_owned(cx, &client, &arn).await? => arn,
            Some(_) => return Err(conflict()),
            None => {
                let hc = &a.health_check;
                let out = client
                    .create_target_group()
                    .name(&a.name)
                    .port(i32::from(a.port))
                    .protocol(aws_protocol(a.protocol))
                    .vpc_id(a.vpc_id.value()?)
                    .target_type(match a.target_type {
                        TargetType::Instance => TargetTypeEnum::Instance,
                        TargetType::Ip => TargetTypeEnum::Ip,
                    })
                    .health_check_enabled(true)
                    .health_check_protocol(aws_protocol(a.protocol))
                    .health_check_port("traffic-port")
                    .health_check_path(&hc.path)
                    .health_check_interval_seconds(hc.interval as i32)
                    .health_check_timeout_seconds(hc.timeout as i32)
                    .healthy_threshold_count(hc.healthy_threshold as i32)
                    .unhealthy_threshold_count(hc.unhealthy_threshold as i32)
                    .matcher(Matcher::builder().http_code(&hc.matcher).build())
                    .set_tags(Some(elb_create_tags(cx, &a.tags)))
                    .send()
                    .await
                    .map_err(|e| {
                        if e.code() == Some("DuplicateTargetGroupName") {
                            conflict()
                        } else {
                            api_error(OP)(e)
                        }
                    })?;
                let arn = out
                    .target_groups()
                    .first()
                    .and_then(|t| t.target_group_arn())
                    .ok_or_else(|| {
                        ProviderError::Other("CreateTargetGroup returned no ARN".into())
                    })?
                    .to_owned();
                if !elb_owned(cx, &client, &arn).await? {
                    return Err(conflict());
                }
                arn
            }
        };
        if deregistration_delay(&client, &arn).await? != Some(a.deregistration_delay) {
            set_deregistration_delay(&client, &arn, a.deregistration_delay).await?;
        }
        Ok(Created {
            outputs: outputs(&arn, &a.name),
            id: arn,
        })
    }

    /// Found again by its name, only if it carries this create's `strata:token` tag (set
    /// in the create call itself); a group of that name without it is not this
    /// resource's: `Absent`.
    async fn recover(
        cx: &Cx<'_>,
        a: &TargetGroupArgs,
    ) -> Result<Recovery<TargetGroupOutputs>, ProviderError> {
        let client = elbv2(cx)?;
        let Some(arn) = by_name(&client, &a.name).await? else {
            return Ok(Recovery::Absent);
        };
        if !elb_owned(cx, &client, &arn).await? {
            return Ok(Recovery::Absent);
        }
        Ok(Recovery::Found(Created {
            outputs: outputs(&arn, &a.name),
            id: arn,
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&TargetGroupArgs>,
    ) -> Result<Option<Observed<TargetGroupArgs, TargetGroupOutputs>>, ProviderError> {
        let client = elbv2(cx)?;
        let Some(tg) = describe(&client, id).await? else {
            return Ok(None);
        };
        let name = tg.target_group_name().unwrap_or_default().to_owned();
        let n = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok()).unwrap_or_default();
        Ok(Some(Observed {
            args: TargetGroupArgs {
                port: tg
                    .port()
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or_default(),
                protocol: match tg.protocol() {
                    Some(ProtocolEnum::Https) => TargetProtocol::Https,
                    _ => TargetProtocol::Http,
                },
                vpc_id: keep_one(
                    args.map(|a| &a.vpc_id),
                    tg.vpc_id().unwrap_or_default().to_owned(),
                ),
                target_type: match tg.target_type() {
                    Some(TargetTypeEnum::Ip) => TargetType::Ip,
                    _ => TargetType::Instance,
                },
                health_check: TargetHealthCheck {
                    path: tg.health_check_path().unwrap_or_default().to_owned(),
                    matcher: tg
                        .matcher()
                        .and_then(|m| m.http_code())
                        .unwrap_or_default()
                        .to_owned(),
                    interval: n(tg.health_check_interval_seconds()),
                    timeout: n(tg.health_check_timeout_seconds()),
                    healthy_threshold: n(tg.healthy_threshold_count()),
                    unhealthy_threshold: n(tg.unhealthy_threshold_count()),
                },
                deregistration_delay: deregistration_delay(&client, id)
                    .await?
                    .unwrap_or(default_deregistration_delay()),
                tags: user_only(elb_all_tags(&client, id).await?),
                name: name.clone(),
            },
            outputs: outputs(id, &name),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &TargetGroupArgs,
        new: &TargetGroupArgs,
        outputs: &TargetGroupOutputs,
    ) -> Result<TargetGroupOutputs, ProviderError> {
        let client = elbv2(cx)?;
        let hc = &new.health_check;
        if old.health_check != *hc {
            client
                .modify_target_group()
                .target_group_arn(id)
                .health_check_enabled(true)
                .health_check_protocol(aws_protocol(new.protocol))
                .health_check_port("traffic-port")
                .health_check_path(&hc.path)
                .health_check_interval_seconds(hc.interval as i32)
                .health_check_timeout_seconds(hc.timeout as i32)
                .healthy_threshold_count(hc.healthy_threshold as i32)
                .unhealthy_threshold_count(hc.unhealthy_threshold as i32)
                .matcher(Matcher::builder().http_code(&hc.matcher).build())
                .send()
                .await
                .map_err(api_error("elasticloadbalancing:ModifyTargetGroup"))?;
        }
        if old.deregistration_delay != new.deregistration_delay {
            set_deregistration_delay(&client, id, new.deregistration_delay).await?;
        }
        elb_update_tags(&client, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &TargetGroupArgs,
        _: &TargetGroupOutputs,
    ) -> Result<(), ProviderError> {
        let client = elbv2(cx)?;
        // A listener that stopped forwarding here may keep the group "in use" a little
        // while on AWS: retry that.
        wait_for(
            format!("target group {id} to be released by its listeners"),
            IN_USE_TIMEOUT,
            Duration::from_secs(10),
            || async {
                match client
                    .delete_target_group()
                    .target_group_arn(id)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Some(())),
                    Err(e) if elb_not_found(&e) => Ok(Some(())),
                    Err(e) if e.code() == Some("ResourceInUse") => Ok(None),
                    Err(e) => Err(api_error("elasticloadbalancing:DeleteTargetGroup")(e)),
                }
            },
        )
        .await
    }
}
