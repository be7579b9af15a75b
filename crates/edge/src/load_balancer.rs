//! `LoadBalancer`: an Application Load Balancer.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::client::Waiters;
use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerTypeEnum,
};
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, check_tags};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::elb_common::{
    check_elb_name, elb_all_tags, elb_create_tags, elb_not_found, elb_owned, elb_update_tags,
    elbv2, keep_declared, keep_one, resolved, same_set, taken, user_only,
};

/// How long a load balancer may take to become active, or to go.
const TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// An Application Load Balancer (type `application`, IPv4).
///
/// Created with its subnets (at least two, in two availability zones), security groups
/// and tags, then waits until it is `active`, then sets its attributes. The name and the
/// scheme replace it; security groups (`SetSecurityGroups`), subnets (`SetSubnets`),
/// attributes (`ModifyLoadBalancerAttributes`) and tags change in place. Delete waits until
/// it is gone.
///
/// Defaults: internet-facing, cross-zone load balancing on (ALBs always balance across
/// zones; turn it off per target group), idle timeout 60 s, HTTP/2 on, invalid header
/// fields dropped, no access logs, and **deletion protection off**, so that `destroy`
/// works; turn it on with [`LoadBalancerArgs::deletion_protection`] for production, and
/// off again (an update) before destroying.
///
/// Names are unique per region and account: a replacement that keeps the name (a new
/// scheme) is refused by the plan (by `IDENTITY`): change the name with it, or set
/// `delete_before_replace` to delete the old load balancer first. A name taken
/// by a load balancer this resource did not make (one without this create's
/// `strata:token` tag) fails the create and changes nothing; `import` takes one over.
///
/// Deletion protection on the live load balancer is found before a plan deletes or
/// replaces it ([`strata_core::Resource::delete_blocker`]); strata never switches it off by itself.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::LoadBalancer;
/// let mut s = Stack::new("dev");
/// s.add(
///     "alb",
///     LoadBalancer::new("shop-alb", ["subnet-0aaa", "subnet-0bbb"])
///         .security_group("sg-0123")
///         .access_logs("shop-alb-logs", Some("alb"))
///         .tag("tier", "edge"),
/// );
/// assert!(s.seal().is_ok());
/// ```
#[derive(Debug)]
pub struct LoadBalancer;

/// Whether a load balancer faces the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancerScheme {
    /// Public addresses, reachable from the internet.
    #[default]
    InternetFacing,
    /// Private addresses only, reachable from the VPC.
    Internal,
}

/// Where a load balancer writes its access logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessLogs {
    /// The S3 bucket (its policy must let Elastic Load Balancing write).
    pub bucket: Input<String>,
    /// The key prefix (none: the bucket's root).
    #[serde(default)]
    pub prefix: Option<String>,
}

/// The args of a [`LoadBalancer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancerArgs {
    /// The name: 1 to 32 letters, digits or hyphens, not starting or ending with a hyphen,
    /// not starting with `internal-`. Replaces.
    pub name: String,
    /// Internet-facing or internal. Replaces.
    #[serde(default)]
    pub scheme: LoadBalancerScheme,
    /// The subnets, at least two in different availability zones.
    pub subnets: Vec<Input<String>>,
    /// The security groups (1 to 5).
    #[serde(default)]
    pub security_groups: Vec<Input<String>>,
    /// Cross-zone load balancing (`load_balancing.cross_zone.enabled`); always on for ALBs.
    #[serde(default = "yes")]
    pub cross_zone: bool,
    /// Seconds a connection may stay idle (1 to 4000).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: u32,
    /// Whether AWS refuses to delete it. Off by default so that `destroy` works.
    #[serde(default)]
    pub deletion_protection: bool,
    /// Access logs to S3 (`access_logs.s3.*`).
    #[serde(default)]
    pub access_logs: Option<AccessLogs>,
    /// HTTP/2 (`routing.http2.enabled`).
    #[serde(default = "yes")]
    pub http2: bool,
    /// Drop headers with invalid fields (`routing.http.drop_invalid_header_fields.enabled`).
    #[serde(default = "yes")]
    pub drop_invalid_header_fields: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

fn default_idle_timeout() -> u32 {
    60
}

impl LoadBalancer {
    /// An internet-facing ALB `name` in `subnets`, with the defaults above.
    #[allow(clippy::new_ret_no_self)]
    pub fn new<I: Into<Input<String>>>(
        name: impl Into<String>,
        subnets: impl IntoIterator<Item = I>,
    ) -> LoadBalancerArgs {
        LoadBalancerArgs {
            name: name.into(),
            scheme: LoadBalancerScheme::InternetFacing,
            subnets: subnets.into_iter().map(Into::into).collect(),
            security_groups: Vec::new(),
            cross_zone: true,
            idle_timeout: default_idle_timeout(),
            deletion_protection: false,
            access_logs: None,
            http2: true,
            drop_invalid_header_fields: true,
            tags: BTreeMap::new(),
        }
    }
}

impl LoadBalancerArgs {
    /// Sets the scheme.
    pub fn scheme(mut self, scheme: LoadBalancerScheme) -> Self {
        self.scheme = scheme;
        self
    }
    /// Makes it internal.
    pub fn internal(self) -> Self {
        self.scheme(LoadBalancerScheme::Internal)
    }
    /// Adds a security group.
    pub fn security_group(mut self, sg: impl Into<Input<String>>) -> Self {
        self.security_groups.push(sg.into());
        self
    }
    /// Sets the security groups.
    pub fn security_groups<I: Into<Input<String>>>(
        mut self,
        sgs: impl IntoIterator<Item = I>,
    ) -> Self {
        self.security_groups = sgs.into_iter().map(Into::into).collect();
        self
    }
    /// Sets cross-zone load balancing (ALBs accept only `true`).
    pub fn cross_zone(mut self, on: bool) -> Self {
        self.cross_zone = on;
        self
    }
    /// Sets the idle timeout, in seconds.
    pub fn idle_timeout(mut self, seconds: u32) -> Self {
        self.idle_timeout = seconds;
        self
    }
    /// Sets deletion protection.
    pub fn deletion_protection(mut self, on: bool) -> Self {
        self.deletion_protection = on;
        self
    }
    /// Writes access logs to `bucket`, under `prefix`.
    pub fn access_logs(mut self, bucket: impl Into<Input<String>>, prefix: Option<&str>) -> Self {
        self.access_logs = Some(AccessLogs {
            bucket: bucket.into(),
            prefix: prefix.map(str::to_owned),
        });
        self
    }
    /// Sets HTTP/2.
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }
    /// Sets whether headers with invalid fields are dropped.
    pub fn drop_invalid_header_fields(mut self, on: bool) -> Self {
        self.drop_invalid_header_fields = on;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for LoadBalancerArgs {
    type Resource = LoadBalancer;
}

/// The outputs of a [`LoadBalancer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancerOutputs {
    /// The ARN (its id).
    pub arn: String,
    /// `app/NAME/ID`: the `LoadBalancer` dimension of its CloudWatch metrics.
    pub arn_suffix: String,
    /// The DNS name.
    pub dns_name: String,
    /// The canonical hosted zone id, for Route 53 alias records.
    pub zone_id: String,
    /// The name.
    pub name: String,
    /// The VPC of its subnets.
    pub vpc_id: String,
}

strata_core::outputs!(LoadBalancer => LoadBalancerHandle {
    /// The ARN.
    arn: String,
    /// `app/NAME/ID`, the CloudWatch `LoadBalancer` dimension.
    arn_suffix: String,
    /// The DNS name.
    dns_name: String,
    /// The canonical hosted zone id (for Route 53 aliases).
    zone_id: String,
    /// The name.
    name: String,
    /// The VPC.
    vpc_id: String,
});

const CROSS_ZONE: &str = "load_balancing.cross_zone.enabled";
const IDLE_TIMEOUT: &str = "idle_timeout.timeout_seconds";
const DELETION_PROTECTION: &str = "deletion_protection.enabled";
const HTTP2: &str = "routing.http2.enabled";
const DROP_INVALID: &str = "routing.http.drop_invalid_header_fields.enabled";
const LOGS_ENABLED: &str = "access_logs.s3.enabled";
const LOGS_BUCKET: &str = "access_logs.s3.bucket";
const LOGS_PREFIX: &str = "access_logs.s3.prefix";

/// The attributes these args declare.
fn attributes(a: &LoadBalancerArgs) -> Result<Vec<(&'static str, String)>, ProviderError> {
    let mut v = vec![
        (CROSS_ZONE, a.cross_zone.to_string()),
        (IDLE_TIMEOUT, a.idle_timeout.to_string()),
        (DELETION_PROTECTION, a.deletion_protection.to_string()),
        (HTTP2, a.http2.to_string()),
        (DROP_INVALID, a.drop_invalid_header_fields.to_string()),
        (LOGS_ENABLED, a.access_logs.is_some().to_string()),
    ];
    if let Some(l) = &a.access_logs {
        v.push((LOGS_BUCKET, l.bucket.value()?.clone()));
        v.push((LOGS_PREFIX, l.prefix.clone().unwrap_or_default()));
    }
    Ok(v)
}

async fn live_attributes(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
) -> Result<HashMap<String, String>, ProviderError> {
    let out = client
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn)
        .send()
        .await
        .map_err(api_error(
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
        ))?;
    Ok(out
        .attributes()
        .iter()
        .filter_map(|a| Some((a.key()?.to_owned(), a.value()?.to_owned())))
        .collect())
}

async fn modify_attributes(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
    attrs: Vec<(&'static str, String)>,
) -> Result<(), ProviderError> {
    if attrs.is_empty() {
        return Ok(());
    }
    client
        .modify_load_balancer_attributes()
        .load_balancer_arn(arn)
        .set_attributes(Some(
            attrs
                .into_iter()
                .map(|(k, v)| LoadBalancerAttribute::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(api_error(
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
        ))?;
    Ok(())
}

async fn describe(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
) -> Result<Option<aws_sdk_elasticloadbalancingv2::types::LoadBalancer>, ProviderError> {
    match client
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
    {
        Ok(o) => Ok(o.load_balancers().first().cloned()),
        Err(e) if elb_not_found(&e) => Ok(None),
        Err(e) => Err(api_error("elasticloadbalancing:DescribeLoadBalancers")(e)),
    }
}

/// The ARN of the load balancer named `name` in the region, if any (whoever made it).
async fn by_name(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    name: &str,
) -> Result<Option<String>, ProviderError> {
    match client.describe_load_balancers().names(name).send().await {
        Ok(o) => Ok(o
            .load_balancers()
            .iter()
            .find(|l| l.load_balancer_name() == Some(name))
            .and_then(|l| l.load_balancer_arn())
            .map(str::to_owned)),
        Err(e) if elb_not_found(&e) => Ok(None),
        Err(e) => Err(api_error("elasticloadbalancing:DescribeLoadBalancers")(e)),
    }
}

fn outputs(lb: &aws_sdk_elasticloadbalancingv2::types::LoadBalancer) -> LoadBalancerOutputs {
    let arn = lb.load_balancer_arn().unwrap_or_default().to_owned();
    LoadBalancerOutputs {
        arn_suffix: arn
            .split_once(":loadbalancer/")
            .map(|(_, s)| s.to_owned())
            .unwrap_or_default(),
        arn,
        dns_name: lb.dns_name().unwrap_or_default().to_owned(),
        zone_id: lb.canonical_hosted_zone_id().unwrap_or_default().to_owned(),
        name: lb.load_balancer_name().unwrap_or_default().to_owned(),
        vpc_id: lb.vpc_id().unwrap_or_default().to_owned(),
    }
}

fn aws_scheme(s: LoadBalancerScheme) -> LoadBalancerSchemeEnum {
    match s {
        LoadBalancerScheme::InternetFacing => LoadBalancerSchemeEnum::InternetFacing,
        LoadBalancerScheme::Internal => LoadBalancerSchemeEnum::Internal,
    }
}

async fn wait_active(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
) -> Result<aws_sdk_elasticloadbalancingv2::types::LoadBalancer, ProviderError> {
    client
        .wait_until_load_balancer_available()
        .load_balancer_arns(arn)
        .wait(TIMEOUT)
        .await
        .map_err(|e| ProviderError::Timeout {
            after: TIMEOUT,
            what: format!("load balancer {arn} to be active ({e})"),
        })?;
    describe(client, arn)
        .await?
        .ok_or_else(|| ProviderError::NotFound(arn.to_owned()))
}

#[async_trait]
impl Resource for LoadBalancer {
    const TYPE: &'static str = "aws:elbv2/load-balancer";
    const REPLACE_ON: &'static [&'static str] = &["name", "scheme"];
    /// Names are unique per account and region.
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = LoadBalancerArgs;
    type Outputs = LoadBalancerOutputs;

    fn validate(a: &LoadBalancerArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        check_elb_name(&mut errs, &a.name);
        if a.name.starts_with("internal-") {
            errs.push(FieldError::new(
                "name",
                format!(
                    "{:?}: a load balancer name cannot start with internal-",
                    a.name
                ),
            ));
        }
        if a.subnets.len() < 2 {
            errs.push(FieldError::new(
                "subnets",
                "an Application Load Balancer needs subnets in at least two availability zones",
            ));
        }
        let known: Vec<&String> = a.subnets.iter().filter_map(Input::known).collect();
        if (1..known.len()).any(|i| known[..i].contains(&known[i])) {
            errs.push(FieldError::new("subnets", "a subnet is listed twice"));
        }
        if a.security_groups.is_empty() || a.security_groups.len() > 5 {
            errs.push(FieldError::new(
                "security_groups",
                format!(
                    "{} security groups: an Application Load Balancer takes 1 to 5 (none would mean the VPC's default group)",
                    a.security_groups.len()
                ),
            ));
        }
        if !a.cross_zone {
            errs.push(FieldError::new(
                "cross_zone",
                "an Application Load Balancer always balances across zones; turn it off per target group instead",
            ));
        }
        if !(1..=4000).contains(&a.idle_timeout) {
            errs.push(FieldError::new(
                "idle_timeout",
                format!("{} seconds: the idle timeout is 1 to 4000", a.idle_timeout),
            ));
        }
        if let Some(l) = &a.access_logs {
            if let Some(b) = l.bucket.known() {
                let ok = (3..=63).contains(&b.len())
                    && b.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                    });
                if !ok {
                    errs.push(FieldError::new(
                        "access_logs.bucket",
                        format!("{b:?} is not an S3 bucket name"),
                    ));
                }
            }
            if let Some(p) = &l.prefix {
                if p.is_empty() || p.starts_with('/') || p.ends_with('/') || p.contains("AWSLogs") {
                    errs.push(FieldError::new(
                        "access_logs.prefix",
                        format!("{p:?}: a prefix is not empty, does not start or end with / and does not contain AWSLogs"),
                    ));
                }
            }
        }
        errs.extend(check_tags(&a.tags));
        errs
    }

    fn estimate(_: &LoadBalancerArgs) -> Duration {
        Duration::from_secs(180)
    }

    async fn create(
        cx: &Cx<'_>,
        a: &LoadBalancerArgs,
    ) -> Result<Created<LoadBalancerOutputs>, ProviderError> {
        const OP: &str = "elasticloadbalancing:CreateLoadBalancer";
        let client = elbv2(cx)?;
        let conflict = || {
            taken(
                OP,
                format!(
                    "a load balancer named {} exists in this region and was not made by this resource (a replacement needs a new name; `import` takes over an existing one)",
                    a.name
                ),
            )
        };
        // AWS answers a create with a name in use and the same settings with the existing
        // load balancer (CreateLoadBalancer is idempotent), and one with other settings
        // with DuplicateLoadBalancerName: look first, and after the create check that
        // what came back carries this create's token.
        let arn = match by_name(&client, &a.name).await? {
            Some(arn) if elb_owned(cx, &client, &arn).await? => arn,
            Some(_) => return Err(conflict()),
            None => {
                let out = client
                    .create_load_balancer()
                    .name(&a.name)
                    .r#type(LoadBalancerTypeEnum::Application)
                    .scheme(aws_scheme(a.scheme))
                    .ip_address_type(IpAddressType::Ipv4)
                    .set_subnets(Some(resolved(&a.subnets)?))
                    .set_security_groups(Some(resolved(&a.security_groups)?))
                    .set_tags(Some(elb_create_tags(cx, &a.tags)))
                    .send()
                    .await
                    .map_err(|e| {
                        if e.code() == Some("DuplicateLoadBalancerName") {
                            conflict()
                        } else {
                            api_error(OP)(e)
                        }
                    })?;
                let arn = out
                    .load_balancers()
                    .first()
                    .and_then(|l| l.load_balancer_arn())
                    .ok_or_else(|| {
                        ProviderError::Other("CreateLoadBalancer returned no ARN".into())
                    })?
                    .to_owned();
                if !elb_owned(cx, &client, &arn).await? {
                    return Err(conflict());
                }
                arn
            }
        };
        let lb = wait_active(&client, &arn).await?;
        // Only what differs from AWS's defaults (an ALB's cross-zone is already on).
        let live = live_attributes(&client, &arn).await?;
        let changed = attributes(a)?
            .into_iter()
            .filter(|(k, v)| live.get(*k) != Some(v))
            .collect();
        modify_attributes(&client, &arn, changed).await?;
        Ok(Created {
            id: arn,
            outputs: outputs(&lb),
        })
    }

    /// Found again by its name, only if it carries this create's `strata:token` tag (set
    /// in the create call itself); a load balancer of that name without it is not this
    /// resource's: `Absent`.
    async fn recover(
        cx: &Cx<'_>,
        a: &LoadBalancerArgs,
    ) -> Result<Recovery<LoadBalancerOutputs>, ProviderError> {
        let client = elbv2(cx)?;
        let Some(arn) = by_name(&client, &a.name).await? else {
            return Ok(Recovery::Absent);
        };
        if !elb_owned(cx, &client, &arn).await? {
            return Ok(Recovery::Absent);
        }
        let lb = wait_active(&client, &arn).await?;
        Ok(Recovery::Found(Created {
            id: arn,
            outputs: outputs(&lb),
        }))
    }

    /// Deletion protection, read live (`deletion_protection.enabled`): AWS refuses the
    /// delete while it is on, and strata never switches it off by itself.
    async fn delete_blocker(
        cx: &Cx<'_>,
        id: &str,
        _: &LoadBalancerArgs,
        outputs: &LoadBalancerOutputs,
    ) -> Result<Option<FieldError>, ProviderError> {
        let client = elbv2(cx)?;
        let out = match client
            .describe_load_balancer_attributes()
            .load_balancer_arn(id)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if elb_not_found(&e) => return Ok(None),
            Err(e) => {
                return Err(api_error(
                    "elasticloadbalancing:DescribeLoadBalancerAttributes",
                )(e))
            }
        };
        let protected = out
            .attributes()
            .iter()
            .any(|a| a.key() == Some(DELETION_PROTECTION) && a.value() == Some("true"));
        Ok(protected.then(|| {
            FieldError::new(
                "deletion_protection",
                format!(
                    "load balancer {} ({id}) has deletion protection on, and AWS refuses to delete it: set deletion_protection to false and run `up` first, then delete or replace it",
                    outputs.name
                ),
            )
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&LoadBalancerArgs>,
    ) -> Result<Option<Observed<LoadBalancerArgs, LoadBalancerOutputs>>, ProviderError> {
        let client = elbv2(cx)?;
        let Some(lb) = describe(&client, id).await? else {
            return Ok(None);
        };
        let attrs = live_attributes(&client, id).await?;
        let flag = |k: &str, default: bool| attrs.get(k).map_or(default, |v| v == "true");
        let subnets: Vec<String> = lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id().map(str::to_owned))
            .collect();
        let sgs: Vec<String> = lb.security_groups().to_vec();
        let access_logs = if flag(LOGS_ENABLED, false) {
            Some(AccessLogs {
                bucket: keep_one(
                    args.and_then(|a| a.access_logs.as_ref()).map(|l| &l.bucket),
                    attrs.get(LOGS_BUCKET).cloned().unwrap_or_default(),
                ),
                prefix: attrs.get(LOGS_PREFIX).filter(|p| !p.is_empty()).cloned(),
            })
        } else {
            None
        };
        Ok(Some(Observed {
            args: LoadBalancerArgs {
                name: lb.load_balancer_name().unwrap_or_default().to_owned(),
                scheme: match lb.scheme() {
                    Some(LoadBalancerSchemeEnum::Internal) => LoadBalancerScheme::Internal,
                    _ => LoadBalancerScheme::InternetFacing,
                },
                subnets: keep_declared(args.map(|a| a.subnets.as_slice()), subnets),
                security_groups: keep_declared(args.map(|a| a.security_groups.as_slice()), sgs),
                cross_zone: flag(CROSS_ZONE, true),
                idle_timeout: attrs
                    .get(IDLE_TIMEOUT)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(60),
                deletion_protection: flag(DELETION_PROTECTION, false),
                access_logs,
                http2: flag(HTTP2, true),
                drop_invalid_header_fields: flag(DROP_INVALID, false),
                tags: user_only(elb_all_tags(&client, id).await?),
            },
            outputs: outputs(&lb),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &LoadBalancerArgs,
        new: &LoadBalancerArgs,
        outputs: &LoadBalancerOutputs,
    ) -> Result<LoadBalancerOutputs, ProviderError> {
        let client = elbv2(cx)?;
        let sgs = resolved(&new.security_groups)?;
        if !resolved(&old.security_groups).is_ok_and(|o| same_set(&o, &sgs)) {
            client
                .set_security_groups()
                .load_balancer_arn(id)
                .set_security_groups(Some(sgs))
                .send()
                .await
                .map_err(api_error("elasticloadbalancing:SetSecurityGroups"))?;
        }
        let subnets = resolved(&new.subnets)?;
        if !resolved(&old.subnets).is_ok_and(|o| same_set(&o, &subnets)) {
            client
                .set_subnets()
                .load_balancer_arn(id)
                .set_subnets(Some(subnets))
                .send()
                .await
                .map_err(api_error("elasticloadbalancing:SetSubnets"))?;
        }
        let before: HashMap<&str, String> = attributes(old)
            .map(|v| v.into_iter().collect())
            .unwrap_or_default();
        let changed = attributes(new)?
            .into_iter()
            .filter(|(k, v)| before.get(k) != Some(v))
            .collect();
        modify_attributes(&client, id, changed).await?;
        elb_update_tags(&client, id, &old.tags, &new.tags).await?;
        Ok(match describe(&client, id).await? {
            Some(lb) => self::outputs(&lb),
            None => outputs.clone(),
        })
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &LoadBalancerArgs,
        _: &LoadBalancerOutputs,
    ) -> Result<(), ProviderError> {
        let client = elbv2(cx)?;
        match client.delete_load_balancer().load_balancer_arn(id).send().await {
            Ok(_) => {}
            Err(e) if elb_not_found(&e) => return Ok(()),
            Err(e) if e.code() == Some("OperationNotPermitted") => {
                return Err(ProviderError::Invalid {
                    field: "deletion_protection".into(),
                    message: format!(
                        "{id} has deletion protection on: turn it off (an update) before destroying it"
                    ),
                })
            }
            Err(e) => return Err(api_error("elasticloadbalancing:DeleteLoadBalancer")(e)),
        }
        client
            .wait_until_load_balancers_deleted()
            .load_balancer_arns(id)
            .wait(TIMEOUT)
            .await
            .map_err(|e| ProviderError::Timeout {
                after: TIMEOUT,
                what: format!("load balancer {id} to be deleted ({e})"),
            })?;
        Ok(())
    }
}
