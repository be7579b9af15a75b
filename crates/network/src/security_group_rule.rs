//! `SecurityGroupRule`: one ingress or egress rule of a security group.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, PrefixListId, ResourceType, SecurityGroupRuleRequest,
    SecurityGroupRuleUpdate, UserIdGroupPair,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::api_error;
use strata_core::diff::{diff_values, PropertyChange};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{
    check_tags, ec2, filter, not_found, owned, tag_spec, token_filter, update_tags, user_tags, Cidr,
};
use crate::security_group::allowed_text;

/// A security group rule.
///
/// Ports, protocol, the source's value and the description change in place
/// (`ModifySecurityGroupRules`); the group, the direction, or the kind of source (CIDR,
/// group, prefix list) replace the rule.
///
/// A rule that duplicates one the group has already (`InvalidPermission.Duplicate`,
/// including the allow-all egress rule AWS gives a new group) is never taken over: the
/// create fails naming the conflict.
///
/// ```
/// use strata_core::Stack;
/// use strata_network::*;
/// let mut s = Stack::new("dev");
/// let vpc = s.add("vpc", Vpc::new("10.0.0.0/16"));
/// let alb = s.add("alb-sg", SecurityGroup::new("alb", "load balancer", vpc.id()));
/// s.add("alb-https", SecurityGroupRule::ingress(alb.id()).tcp(443).from_cidr("0.0.0.0/0"));
/// // A port outside 1-65535 is a declaration error naming the field:
/// s.add("bad", SecurityGroupRule::ingress(alb.id()).tcp(70000).from_cidr("0.0.0.0/0"));
/// assert!(s.seal().unwrap_err().to_string().contains("from_port"));
/// ```
#[derive(Debug)]
pub struct SecurityGroupRule;

/// Ingress or egress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Traffic into the group.
    Ingress,
    /// Traffic out of the group.
    Egress,
}

/// The IP protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// TCP, with a port range.
    Tcp,
    /// UDP, with a port range.
    Udp,
    /// ICMP, with a type (from) and code (to); -1 means all.
    Icmp,
    /// Every protocol and port.
    All,
}

impl Protocol {
    fn aws(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::All => "-1",
        }
    }

    fn from_aws(s: &str) -> Self {
        match s {
            "tcp" | "6" => Protocol::Tcp,
            "udp" | "17" => Protocol::Udp,
            "icmp" | "1" => Protocol::Icmp,
            _ => Protocol::All,
        }
    }
}

/// Where traffic comes from (ingress) or goes to (egress).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSource {
    /// An IPv4 block.
    Cidr(Cidr),
    /// Another security group (ALB → app → DB).
    SecurityGroupId(Input<String>),
    /// A managed prefix list.
    PrefixListId(String),
}

/// The args of a [`SecurityGroupRule`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroupRuleArgs {
    /// The group the rule belongs to.
    pub security_group_id: Input<String>,
    /// Ingress or egress.
    pub direction: Direction,
    /// The protocol.
    pub protocol: Protocol,
    /// First port (TCP/UDP) or ICMP type; none for all protocols.
    pub from_port: Option<i32>,
    /// Last port (TCP/UDP) or ICMP code; none for all protocols.
    pub to_port: Option<i32>,
    /// The peer.
    pub source: RuleSource,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl SecurityGroupRule {
    /// An ingress rule of `group` (all traffic from nowhere until set).
    pub fn ingress(group: impl Into<Input<String>>) -> SecurityGroupRuleArgs {
        Self::rule(group, Direction::Ingress)
    }

    /// An egress rule of `group`.
    pub fn egress(group: impl Into<Input<String>>) -> SecurityGroupRuleArgs {
        Self::rule(group, Direction::Egress)
    }

    fn rule(group: impl Into<Input<String>>, direction: Direction) -> SecurityGroupRuleArgs {
        SecurityGroupRuleArgs {
            security_group_id: group.into(),
            direction,
            protocol: Protocol::All,
            from_port: None,
            to_port: None,
            source: RuleSource::Cidr(Cidr::from("0.0.0.0/0")),
            description: None,
            tags: BTreeMap::new(),
        }
    }
}

impl SecurityGroupRuleArgs {
    /// TCP on one port.
    pub fn tcp(self, port: i32) -> Self {
        self.tcp_range(port, port)
    }
    /// TCP on a port range.
    pub fn tcp_range(mut self, from: i32, to: i32) -> Self {
        self.protocol = Protocol::Tcp;
        self.from_port = Some(from);
        self.to_port = Some(to);
        self
    }
    /// UDP on one port.
    pub fn udp(mut self, port: i32) -> Self {
        self.protocol = Protocol::Udp;
        self.from_port = Some(port);
        self.to_port = Some(port);
        self
    }
    /// Every protocol and port.
    pub fn all_traffic(mut self) -> Self {
        self.protocol = Protocol::All;
        self.from_port = None;
        self.to_port = None;
        self
    }
    /// From (or, for egress, to) an IPv4 block.
    pub fn from_cidr(mut self, cidr: impl Into<Cidr>) -> Self {
        self.source = RuleSource::Cidr(cidr.into());
        self
    }
    /// Same as [`SecurityGroupRuleArgs::from_cidr`], reading better for egress.
    pub fn to_cidr(self, cidr: impl Into<Cidr>) -> Self {
        self.from_cidr(cidr)
    }
    /// From (or, for egress, to) another security group.
    pub fn from_group(mut self, group: impl Into<Input<String>>) -> Self {
        self.source = RuleSource::SecurityGroupId(group.into());
        self
    }
    /// Same as [`SecurityGroupRuleArgs::from_group`], reading better for egress.
    pub fn to_group(self, group: impl Into<Input<String>>) -> Self {
        self.from_group(group)
    }
    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for SecurityGroupRuleArgs {
    type Resource = SecurityGroupRule;
}

/// The outputs of a [`SecurityGroupRule`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroupRuleOutputs {
    /// `sgr-…`.
    pub id: String,
}

strata_core::outputs!(SecurityGroupRule => SecurityGroupRuleHandle {
    /// `sgr-…`.
    id: String,
});

fn ports(args: &SecurityGroupRuleArgs) -> (i32, i32) {
    match args.protocol {
        Protocol::All => (-1, -1),
        _ => (args.from_port.unwrap_or(-1), args.to_port.unwrap_or(-1)),
    }
}

fn request(args: &SecurityGroupRuleArgs) -> Result<SecurityGroupRuleRequest, ProviderError> {
    let (from, to) = ports(args);
    let mut r = SecurityGroupRuleRequest::builder()
        .ip_protocol(args.protocol.aws())
        .from_port(from)
        .to_port(to)
        .set_description(args.description.clone());
    r = match &args.source {
        RuleSource::Cidr(c) => r.cidr_ipv4(c.as_str()),
        RuleSource::SecurityGroupId(g) => r.referenced_group_id(g.value()?),
        RuleSource::PrefixListId(p) => r.prefix_list_id(p),
    };
    Ok(r.build())
}

fn permission(args: &SecurityGroupRuleArgs) -> Result<IpPermission, ProviderError> {
    let (from, to) = ports(args);
    let mut p = IpPermission::builder()
        .ip_protocol(args.protocol.aws())
        .from_port(from)
        .to_port(to);
    let d = args.description.clone();
    p = match &args.source {
        RuleSource::Cidr(c) => p.ip_ranges(
            IpRange::builder()
                .cidr_ip(c.as_str())
                .set_description(d)
                .build(),
        ),
        RuleSource::SecurityGroupId(g) => p.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(g.value()?)
                .set_description(d)
                .build(),
        ),
        RuleSource::PrefixListId(l) => p.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(l)
                .set_description(d)
                .build(),
        ),
    };
    Ok(p.build())
}

fn args_of(r: &aws_sdk_ec2::types::SecurityGroupRule) -> SecurityGroupRuleArgs {
    let protocol = Protocol::from_aws(r.ip_protocol().unwrap_or("-1"));
    let port = |p: Option<i32>| match protocol {
        Protocol::All => None,
        _ => p,
    };
    let source = if let Some(g) = r.referenced_group_info().and_then(|g| g.group_id()) {
        RuleSource::SecurityGroupId(Input::Value(g.to_owned()))
    } else if let Some(p) = r.prefix_list_id() {
        RuleSource::PrefixListId(p.to_owned())
    } else {
        RuleSource::Cidr(Cidr::from(r.cidr_ipv4().unwrap_or_default()))
    };
    SecurityGroupRuleArgs {
        security_group_id: Input::Value(r.group_id().unwrap_or_default().to_owned()),
        direction: if r.is_egress() == Some(true) {
            Direction::Egress
        } else {
            Direction::Ingress
        },
        protocol,
        from_port: port(r.from_port()),
        to_port: port(r.to_port()),
        source,
        description: r.description().filter(|d| !d.is_empty()).map(str::to_owned),
        tags: user_tags(r.tags()),
    }
}

fn check_port(errs: &mut Vec<FieldError>, field: &str, p: Option<i32>, range: (i32, i32)) {
    match p {
        None => errs.push(FieldError::new(field, "required for this protocol")),
        Some(p) if p < range.0 || p > range.1 => errs.push(FieldError::new(
            field,
            format!("{p} is outside {}-{}", range.0, range.1),
        )),
        Some(_) => {}
    }
}

#[async_trait]
impl Resource for SecurityGroupRule {
    const TYPE: &'static str = "aws:ec2/security-group-rule";
    /// AWS refuses a second rule with the same group, direction, protocol, ports and
    /// source (the description is not part of it). All-traffic rules have no ports: their
    /// null ports are part of the identity.
    const IDENTITY: &'static [&'static str] = &[
        "security_group_id",
        "direction",
        "protocol",
        "from_port",
        "to_port",
        "source",
    ];
    type Args = SecurityGroupRuleArgs;
    type Outputs = SecurityGroupRuleOutputs;

    fn validate(args: &SecurityGroupRuleArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        match args.protocol {
            Protocol::Tcp | Protocol::Udp => {
                check_port(&mut errs, "from_port", args.from_port, (1, 65535));
                check_port(&mut errs, "to_port", args.to_port, (1, 65535));
                if let (Some(f), Some(t)) = (args.from_port, args.to_port) {
                    if f > t {
                        errs.push(FieldError::new(
                            "to_port",
                            format!("the range {f}-{t} ends before it starts"),
                        ));
                    }
                }
            }
            Protocol::Icmp => {
                check_port(&mut errs, "from_port", args.from_port, (-1, 255));
                check_port(&mut errs, "to_port", args.to_port, (-1, 255));
            }
            Protocol::All => {
                if args.from_port.is_some() || args.to_port.is_some() {
                    errs.push(FieldError::new(
                        "from_port",
                        "all-traffic rules take no ports",
                    ));
                }
            }
        }
        if let RuleSource::Cidr(c) = &args.source {
            if let Err(m) = c.net() {
                errs.push(FieldError::new("source.cidr", m));
            }
        }
        if let Some(d) = &args.description {
            if d.len() > 255 || !allowed_text(d) {
                errs.push(FieldError::new(
                    "description",
                    "up to 255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*",
                ));
            }
        }
        errs
    }

    /// The group and the direction replace the rule, and so does switching the kind of
    /// source (`source.cidr` → `source.security_group_id`); the rest is in place.
    fn diff(old: &Value, new: &Value) -> Vec<PropertyChange> {
        let kind = |v: &Value| {
            v.get("source")
                .and_then(Value::as_object)
                .and_then(|m| m.keys().next().cloned())
        };
        let mut changes = diff_values(old, new, &["security_group_id", "direction"]);
        if kind(old) != kind(new) {
            for c in &mut changes {
                if c.path.starts_with("source") {
                    c.replaces = true;
                }
            }
        }
        changes
    }

    fn estimate(_: &SecurityGroupRuleArgs) -> Duration {
        Duration::from_secs(1)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &SecurityGroupRuleArgs,
    ) -> Result<Created<SecurityGroupRuleOutputs>, ProviderError> {
        let client = ec2(cx)?;
        let group = args.security_group_id.value()?;
        let tags = tag_spec(cx, ResourceType::SecurityGroupRule, &args.tags);
        let rules = match args.direction {
            Direction::Ingress => client
                .authorize_security_group_ingress()
                .group_id(group)
                .ip_permissions(permission(args)?)
                .tag_specifications(tags)
                .send()
                .await
                .map_err(api_error("ec2:AuthorizeSecurityGroupIngress"))?
                .security_group_rules
                .unwrap_or_default(),
            Direction::Egress => client
                .authorize_security_group_egress()
                .group_id(group)
                .ip_permissions(permission(args)?)
                .tag_specifications(tags)
                .send()
                .await
                .map_err(api_error("ec2:AuthorizeSecurityGroupEgress"))?
                .security_group_rules
                .unwrap_or_default(),
        };
        let id = rules
            .first()
            .and_then(|r| r.security_group_rule_id())
            .ok_or_else(|| ProviderError::Other("the authorize call returned no rule id".into()))?
            .to_owned();
        Ok(Created {
            outputs: SecurityGroupRuleOutputs { id: id.clone() },
            id,
        })
    }

    /// Found by this create's `strata:token` tag (set atomically by the authorize call's
    /// tag specification); an equal rule without it is somebody else's.
    async fn recover(
        cx: &Cx<'_>,
        _: &SecurityGroupRuleArgs,
    ) -> Result<Recovery<SecurityGroupRuleOutputs>, ProviderError> {
        let out = ec2(cx)?
            .describe_security_group_rules()
            .filters(token_filter(cx))
            .send()
            .await
            .map_err(api_error("ec2:DescribeSecurityGroupRules"))?;
        Ok(
            match out
                .security_group_rules()
                .iter()
                .find(|r| owned(cx, r.tags()))
                .and_then(|r| r.security_group_rule_id())
            {
                Some(id) => Recovery::Found(Created {
                    outputs: SecurityGroupRuleOutputs { id: id.to_owned() },
                    id: id.to_owned(),
                }),
                None => Recovery::Absent,
            },
        )
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&SecurityGroupRuleArgs>,
    ) -> Result<Option<Observed<SecurityGroupRuleArgs, SecurityGroupRuleOutputs>>, ProviderError>
    {
        let out = match ec2(cx)?
            .describe_security_group_rules()
            .filters(filter("security-group-rule-id", id))
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(api_error("ec2:DescribeSecurityGroupRules")(e)),
        };
        let Some(r) = out
            .security_group_rules()
            .iter()
            .find(|r| r.security_group_rule_id() == Some(id))
        else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: args_of(r),
            outputs: SecurityGroupRuleOutputs { id: id.to_owned() },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &SecurityGroupRuleArgs,
        new: &SecurityGroupRuleArgs,
        outputs: &SecurityGroupRuleOutputs,
    ) -> Result<SecurityGroupRuleOutputs, ProviderError> {
        let client = ec2(cx)?;
        let mut old_rest = old.clone();
        old_rest.tags = new.tags.clone();
        if &old_rest != new {
            client
                .modify_security_group_rules()
                .group_id(new.security_group_id.value()?)
                .security_group_rules(
                    SecurityGroupRuleUpdate::builder()
                        .security_group_rule_id(id)
                        .security_group_rule(request(new)?)
                        .build(),
                )
                .send()
                .await
                .map_err(api_error("ec2:ModifySecurityGroupRules"))?;
        }
        update_tags(&client, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        args: &SecurityGroupRuleArgs,
        _: &SecurityGroupRuleOutputs,
    ) -> Result<(), ProviderError> {
        let client = ec2(cx)?;
        let group = args.security_group_id.value()?;
        let r = match args.direction {
            Direction::Ingress => client
                .revoke_security_group_ingress()
                .group_id(group)
                .security_group_rule_ids(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    (
                        not_found(&e),
                        api_error("ec2:RevokeSecurityGroupIngress")(e),
                    )
                }),
            Direction::Egress => client
                .revoke_security_group_egress()
                .group_id(group)
                .security_group_rule_ids(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (not_found(&e), api_error("ec2:RevokeSecurityGroupEgress")(e))),
        };
        match r {
            Ok(()) | Err((true, _)) => Ok(()),
            Err((false, e)) => Err(e),
        }
    }
}
