//! `Vpc`: a VPC with its CIDR block and DNS settings.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Tenancy, VpcAttributeName};
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{
    arn, check_tags, delete_retrying, ec2, not_found, owned, tag_spec, token_filter, update_tags,
    user_tags, Cidr,
};

/// A VPC.
///
/// ```
/// use strata_core::Stack;
/// use strata_network::{Vpc, VpcHandle};
/// let mut s = Stack::new("dev");
/// let vpc = s.add("vpc", Vpc::new("10.0.0.0/16").dns_hostnames(true));
/// let _id = vpc.id(); // an Output<String> for subnets, gateways, …
/// assert!(s.seal().is_ok());
/// ```
#[derive(Debug)]
pub struct Vpc;

/// Whether instances run on shared or dedicated hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceTenancy {
    /// Shared hardware.
    #[default]
    Default,
    /// Dedicated hardware.
    Dedicated,
}

/// The args of a [`Vpc`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcArgs {
    /// The IPv4 block (a /16 to a /28).
    pub cidr_block: Cidr,
    /// Whether the Amazon DNS server answers in the VPC (default true).
    pub enable_dns_support: bool,
    /// Whether instances get public DNS host names (default false).
    pub enable_dns_hostnames: bool,
    /// Tenancy (default shared).
    pub instance_tenancy: InstanceTenancy,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Vpc {
    /// A VPC with `cidr_block`, DNS support on and host names off.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(cidr_block: impl Into<Cidr>) -> VpcArgs {
        VpcArgs {
            cidr_block: cidr_block.into(),
            enable_dns_support: true,
            enable_dns_hostnames: false,
            instance_tenancy: InstanceTenancy::Default,
            tags: BTreeMap::new(),
        }
    }
}

impl VpcArgs {
    /// Sets whether the Amazon DNS server answers.
    pub fn dns_support(mut self, on: bool) -> Self {
        self.enable_dns_support = on;
        self
    }
    /// Sets whether instances get public DNS host names.
    pub fn dns_hostnames(mut self, on: bool) -> Self {
        self.enable_dns_hostnames = on;
        self
    }
    /// Sets the tenancy.
    pub fn tenancy(mut self, t: InstanceTenancy) -> Self {
        self.instance_tenancy = t;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for VpcArgs {
    type Resource = Vpc;
}

/// The outputs of a [`Vpc`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcOutputs {
    /// `vpc-…`.
    pub id: String,
    /// The ARN.
    pub arn: String,
    /// The IPv4 block.
    pub cidr_block: String,
    /// The owning account.
    pub owner_id: String,
}

strata_core::outputs!(Vpc => VpcHandle {
    /// `vpc-…`.
    id: String,
    /// The ARN.
    arn: String,
    /// The IPv4 block.
    cidr_block: String,
});

async fn set_dns(
    client: &aws_sdk_ec2::Client,
    id: &str,
    support: Option<bool>,
    hostnames: Option<bool>,
) -> Result<(), ProviderError> {
    // One attribute per call, as the API demands; support first (host names need it).
    if let Some(v) = support {
        client
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_support(AttributeBooleanValue::builder().value(v).build())
            .send()
            .await
            .map_err(api_error("ec2:ModifyVpcAttribute"))?;
    }
    if let Some(v) = hostnames {
        client
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(v).build())
            .send()
            .await
            .map_err(api_error("ec2:ModifyVpcAttribute"))?;
    }
    Ok(())
}

async fn attribute(
    client: &aws_sdk_ec2::Client,
    id: &str,
    name: VpcAttributeName,
) -> Result<bool, ProviderError> {
    let out = client
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(name.clone())
        .send()
        .await
        .map_err(api_error("ec2:DescribeVpcAttribute"))?;
    let v = match name {
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
        _ => out.enable_dns_support(),
    };
    Ok(v.and_then(AttributeBooleanValue::value).unwrap_or(false))
}

fn outputs(cx: &Cx<'_>, v: &aws_sdk_ec2::types::Vpc) -> VpcOutputs {
    let id = v.vpc_id().unwrap_or_default().to_owned();
    let owner = v.owner_id().unwrap_or_default().to_owned();
    VpcOutputs {
        arn: arn(cx, &owner, "vpc", &id),
        id,
        cidr_block: v.cidr_block().unwrap_or_default().to_owned(),
        owner_id: owner,
    }
}

#[async_trait]
impl Resource for Vpc {
    const TYPE: &'static str = "aws:ec2/vpc";
    const REPLACE_ON: &'static [&'static str] = &["cidr_block", "instance_tenancy"];
    type Args = VpcArgs;
    type Outputs = VpcOutputs;

    fn validate(args: &VpcArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        match args.cidr_block.net() {
            Err(m) => errs.push(FieldError::new("cidr_block", m)),
            Ok(n) if !(16..=28).contains(&n.prefix_len()) => errs.push(FieldError::new(
                "cidr_block",
                format!("a VPC block is a /16 to a /28, not a /{}", n.prefix_len()),
            )),
            Ok(_) => {}
        }
        if args.enable_dns_hostnames && !args.enable_dns_support {
            errs.push(FieldError::new(
                "enable_dns_hostnames",
                "DNS host names need DNS support (enable_dns_support)",
            ));
        }
        errs
    }

    fn estimate(_: &VpcArgs) -> Duration {
        Duration::from_secs(5)
    }

    async fn create(cx: &Cx<'_>, args: &VpcArgs) -> Result<Created<VpcOutputs>, ProviderError> {
        let client = ec2(cx)?;
        let out = client
            .create_vpc()
            .cidr_block(args.cidr_block.as_str())
            .instance_tenancy(match args.instance_tenancy {
                InstanceTenancy::Default => Tenancy::Default,
                InstanceTenancy::Dedicated => Tenancy::Dedicated,
            })
            .tag_specifications(tag_spec(cx, ResourceType::Vpc, &args.tags))
            .send()
            .await
            .map_err(api_error("ec2:CreateVpc"))?;
        let vpc = out
            .vpc()
            .ok_or_else(|| ProviderError::Other("CreateVpc returned no VPC".into()))?;
        let id = vpc.vpc_id().unwrap_or_default().to_owned();
        client
            .wait_until_vpc_available()
            .vpc_ids(&id)
            .wait(Duration::from_secs(300))
            .await
            .map_err(|e| ProviderError::Timeout {
                after: Duration::from_secs(300),
                what: format!("VPC {id} to be available ({e})"),
            })?;
        set_dns(
            &client,
            &id,
            (!args.enable_dns_support).then_some(false),
            args.enable_dns_hostnames.then_some(true),
        )
        .await?;
        Ok(Created {
            id,
            outputs: outputs(cx, vpc),
        })
    }

    /// Found by this create's `strata:token` tag (set atomically by the create call's tag
    /// specification); a VPC without it is not ours, whatever it looks like.
    async fn recover(cx: &Cx<'_>, _: &VpcArgs) -> Result<Recovery<VpcOutputs>, ProviderError> {
        let out = ec2(cx)?
            .describe_vpcs()
            .filters(token_filter(cx))
            .send()
            .await
            .map_err(api_error("ec2:DescribeVpcs"))?;
        // The DNS attributes are set after the create: update() makes them right, as the
        // engine re-plans from the read.
        Ok(match out.vpcs().iter().find(|v| owned(cx, v.tags())) {
            Some(v) => Recovery::Found(Created {
                id: v.vpc_id().unwrap_or_default().to_owned(),
                outputs: outputs(cx, v),
            }),
            None => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&VpcArgs>,
    ) -> Result<Option<Observed<VpcArgs, VpcOutputs>>, ProviderError> {
        let client = ec2(cx)?;
        let out = match client.describe_vpcs().vpc_ids(id).send().await {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(api_error("ec2:DescribeVpcs")(e)),
        };
        let Some(v) = out.vpcs().first() else {
            return Ok(None);
        };
        let args = VpcArgs {
            cidr_block: Cidr::from(v.cidr_block().unwrap_or_default()),
            enable_dns_support: attribute(&client, id, VpcAttributeName::EnableDnsSupport).await?,
            enable_dns_hostnames: attribute(&client, id, VpcAttributeName::EnableDnsHostnames)
                .await?,
            instance_tenancy: match v.instance_tenancy() {
                Some(Tenancy::Dedicated) => InstanceTenancy::Dedicated,
                _ => InstanceTenancy::Default,
            },
            tags: user_tags(v.tags()),
        };
        Ok(Some(Observed {
            args,
            outputs: outputs(cx, v),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &VpcArgs,
        new: &VpcArgs,
        outputs: &VpcOutputs,
    ) -> Result<VpcOutputs, ProviderError> {
        let client = ec2(cx)?;
        let changed = |a: bool, b: bool| (a != b).then_some(b);
        // Turning support off needs host names off first; turning it on goes first.
        if !new.enable_dns_support && old.enable_dns_support {
            set_dns(
                &client,
                id,
                None,
                changed(old.enable_dns_hostnames, new.enable_dns_hostnames),
            )
            .await?;
            set_dns(&client, id, Some(false), None).await?;
        } else {
            set_dns(
                &client,
                id,
                changed(old.enable_dns_support, new.enable_dns_support),
                changed(old.enable_dns_hostnames, new.enable_dns_hostnames),
            )
            .await?;
        }
        update_tags(&client, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &VpcArgs,
        _: &VpcOutputs,
    ) -> Result<(), ProviderError> {
        let client = ec2(cx)?;
        // Subnets, gateways and groups are deleted before (they depend on it); AWS can
        // still report dependencies for a few seconds while ENIs go away.
        delete_retrying(format!("VPC {id}"), "ec2:DeleteVpc", || {
            client.delete_vpc().vpc_id(id).send()
        })
        .await
    }
}
