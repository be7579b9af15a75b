//! `Subnet`: a block of a VPC in one availability zone.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    StackView, Urn,
};

use crate::common::{
    arn, check_tags, delete_retrying, ec2, not_found, owned, tag_spec, token_filter, update_tags,
    user_tags, Cidr,
};
use crate::vpc::Vpc;

/// A subnet. The VPC, the block and the zone cannot change in place; moving a subnet to
/// another zone with the same block needs the `delete_before_replace` option (two subnets
/// cannot hold one block at once).
///
/// ```
/// use strata_core::Stack;
/// use strata_network::{Subnet, Vpc, VpcHandle};
/// let mut s = Stack::new("dev");
/// let vpc = s.add("vpc", Vpc::new("10.0.0.0/16"));
/// s.add("public-a", Subnet::new(vpc.id(), "10.0.1.0/24", "eu-central-1a").map_public_ip(true));
/// // Overlapping a sibling, or lying outside the VPC, is a declaration error:
/// s.add("bad", Subnet::new(vpc.id(), "10.0.1.128/25", "eu-central-1b"));
/// assert!(s.seal().is_err());
/// ```
#[derive(Debug)]
pub struct Subnet;

/// The args of a [`Subnet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetArgs {
    /// The VPC.
    pub vpc_id: Input<String>,
    /// The IPv4 block, inside the VPC's (a /16 to a /28).
    pub cidr_block: Cidr,
    /// The availability zone (`eu-central-1a`).
    pub availability_zone: String,
    /// Whether instances launched here get a public IPv4 address.
    pub map_public_ip_on_launch: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Subnet {
    /// A subnet of `vpc_id` with `cidr_block` in `availability_zone`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        vpc_id: impl Into<Input<String>>,
        cidr_block: impl Into<Cidr>,
        availability_zone: impl Into<String>,
    ) -> SubnetArgs {
        SubnetArgs {
            vpc_id: vpc_id.into(),
            cidr_block: cidr_block.into(),
            availability_zone: availability_zone.into(),
            map_public_ip_on_launch: false,
            tags: BTreeMap::new(),
        }
    }
}

impl SubnetArgs {
    /// Sets whether instances get a public IPv4 address.
    pub fn map_public_ip(mut self, on: bool) -> Self {
        self.map_public_ip_on_launch = on;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for SubnetArgs {
    type Resource = Subnet;
}

/// The outputs of a [`Subnet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetOutputs {
    /// `subnet-…`.
    pub id: String,
    /// The ARN.
    pub arn: String,
    /// The VPC.
    pub vpc_id: String,
    /// The IPv4 block.
    pub cidr_block: String,
    /// The availability zone.
    pub availability_zone: String,
}

strata_core::outputs!(Subnet => SubnetHandle {
    /// `subnet-…`.
    id: String,
    /// The ARN.
    arn: String,
    /// The IPv4 block.
    cidr_block: String,
    /// The availability zone.
    availability_zone: String,
});

fn outputs(cx: &Cx<'_>, s: &aws_sdk_ec2::types::Subnet) -> SubnetOutputs {
    let id = s.subnet_id().unwrap_or_default().to_owned();
    SubnetOutputs {
        arn: s
            .subnet_arn()
            .map(str::to_owned)
            .unwrap_or_else(|| arn(cx, s.owner_id().unwrap_or_default(), "subnet", &id)),
        id,
        vpc_id: s.vpc_id().unwrap_or_default().to_owned(),
        cidr_block: s.cidr_block().unwrap_or_default().to_owned(),
        availability_zone: s.availability_zone().unwrap_or_default().to_owned(),
    }
}

async fn set_public_ip(
    client: &aws_sdk_ec2::Client,
    id: &str,
    on: bool,
) -> Result<(), ProviderError> {
    client
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build())
        .send()
        .await
        .map_err(api_error("ec2:ModifySubnetAttribute"))?;
    Ok(())
}

#[async_trait]
impl Resource for Subnet {
    const TYPE: &'static str = "aws:ec2/subnet";
    const REPLACE_ON: &'static [&'static str] = &["vpc_id", "cidr_block", "availability_zone"];
    type Args = SubnetArgs;
    type Outputs = SubnetOutputs;

    fn validate(args: &SubnetArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        match args.cidr_block.net() {
            Err(m) => errs.push(FieldError::new("cidr_block", m)),
            Ok(n) if !(16..=28).contains(&n.prefix_len()) => errs.push(FieldError::new(
                "cidr_block",
                format!(
                    "a subnet block is a /16 to a /28, not a /{}",
                    n.prefix_len()
                ),
            )),
            Ok(_) => {}
        }
        let az = &args.availability_zone;
        let looks_like_az = az.len() > 2
            && az.chars().last().is_some_and(|c| c.is_ascii_lowercase())
            && az.contains('-');
        if !looks_like_az {
            errs.push(FieldError::new(
                "availability_zone",
                format!("{az:?} is not an availability zone name (like eu-central-1a)"),
            ));
        }
        errs
    }

    /// The subnets of one VPC (declared with `vpc.id()`) must lie inside its block and
    /// must not overlap each other.
    fn check_stack(stack: &StackView<'_>) -> Vec<(Urn, FieldError)> {
        let mut errs = Vec::new();
        let mut by_vpc: BTreeMap<&Urn, Vec<(&Urn, ipnet::Ipv4Net)>> = BTreeMap::new();
        for s in stack.of_type(Self::TYPE) {
            let Some(vpc) = s.reference("vpc_id") else {
                continue;
            };
            let Some(net) = s
                .literal("cidr_block")
                .and_then(|v| v.as_str())
                .and_then(|c| Cidr::from(c).net().ok())
            else {
                continue;
            };
            let vpc_block = stack
                .get(vpc)
                .filter(|v| v.urn().type_name() == Vpc::TYPE)
                .and_then(|v| v.literal("cidr_block"))
                .and_then(|v| v.as_str())
                .and_then(|c| Cidr::from(c).net().ok());
            if let Some(block) = vpc_block {
                if !block.contains(&net) {
                    errs.push((
                        s.urn().clone(),
                        FieldError::new(
                            "cidr_block",
                            format!("{net} is not inside the VPC's block {block} ({vpc})"),
                        ),
                    ));
                }
            }
            let siblings = by_vpc.entry(vpc).or_default();
            for (other, theirs) in siblings.iter() {
                if theirs.contains(&net) || net.contains(theirs) {
                    errs.push((
                        s.urn().clone(),
                        FieldError::new(
                            "cidr_block",
                            format!("{net} overlaps {theirs} of {}", other.name()),
                        ),
                    ));
                }
            }
            siblings.push((s.urn(), net));
        }
        errs
    }

    fn estimate(_: &SubnetArgs) -> Duration {
        Duration::from_secs(3)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &SubnetArgs,
    ) -> Result<Created<SubnetOutputs>, ProviderError> {
        let client = ec2(cx)?;
        let out = client
            .create_subnet()
            .vpc_id(args.vpc_id.value()?)
            .cidr_block(args.cidr_block.as_str())
            .availability_zone(&args.availability_zone)
            .tag_specifications(tag_spec(cx, ResourceType::Subnet, &args.tags))
            .send()
            .await
            .map_err(api_error("ec2:CreateSubnet"))?;
        let subnet = out
            .subnet()
            .ok_or_else(|| ProviderError::Other("CreateSubnet returned no subnet".into()))?;
        let id = subnet.subnet_id().unwrap_or_default().to_owned();
        client
            .wait_until_subnet_available()
            .subnet_ids(&id)
            .wait(Duration::from_secs(300))
            .await
            .map_err(|e| ProviderError::Timeout {
                after: Duration::from_secs(300),
                what: format!("subnet {id} to be available ({e})"),
            })?;
        if args.map_public_ip_on_launch {
            set_public_ip(&client, &id, true).await?;
        }
        Ok(Created {
            id,
            outputs: outputs(cx, subnet),
        })
    }

    /// Found by this create's `strata:token` tag (set atomically by the create call's tag
    /// specification); a subnet without it is not ours, whatever it looks like.
    async fn recover(
        cx: &Cx<'_>,
        _: &SubnetArgs,
    ) -> Result<Recovery<SubnetOutputs>, ProviderError> {
        let out = ec2(cx)?
            .describe_subnets()
            .filters(token_filter(cx))
            .send()
            .await
            .map_err(api_error("ec2:DescribeSubnets"))?;
        Ok(match out.subnets().iter().find(|s| owned(cx, s.tags())) {
            Some(s) => Recovery::Found(Created {
                id: s.subnet_id().unwrap_or_default().to_owned(),
                outputs: outputs(cx, s),
            }),
            None => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&SubnetArgs>,
    ) -> Result<Option<Observed<SubnetArgs, SubnetOutputs>>, ProviderError> {
        let out = match ec2(cx)?.describe_subnets().subnet_ids(id).send().await {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(api_error("ec2:DescribeSubnets")(e)),
        };
        let Some(s) = out.subnets().first() else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: SubnetArgs {
                vpc_id: Input::Value(s.vpc_id().unwrap_or_default().to_owned()),
                cidr_block: Cidr::from(s.cidr_block().unwrap_or_default()),
                availability_zone: s.availability_zone().unwrap_or_default().to_owned(),
                map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
                tags: user_tags(s.tags()),
            },
            outputs: outputs(cx, s),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &SubnetArgs,
        new: &SubnetArgs,
        outputs: &SubnetOutputs,
    ) -> Result<SubnetOutputs, ProviderError> {
        let client = ec2(cx)?;
        if old.map_public_ip_on_launch != new.map_public_ip_on_launch {
            set_public_ip(&client, id, new.map_public_ip_on_launch).await?;
        }
        update_tags(&client, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &SubnetArgs,
        _: &SubnetOutputs,
    ) -> Result<(), ProviderError> {
        let client = ec2(cx)?;
        delete_retrying(format!("subnet {id}"), "ec2:DeleteSubnet", || {
            client.delete_subnet().subnet_id(id).send()
        })
        .await
    }
}
