//! `ElasticIp`: a static public IPv4 address in the VPC domain.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType};
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{
    arn, check_tags, ec2, not_found, owned, tag_spec, token_filter, update_tags, user_tags,
};

/// An Elastic IP address (for a NAT gateway, …).
///
/// ```
/// use strata_core::Stack;
/// use strata_network::ElasticIp;
/// let mut s = Stack::new("dev");
/// s.add("nat-a-ip", ElasticIp::new());
/// ```
#[derive(Debug)]
pub struct ElasticIp;

/// The args of an [`ElasticIp`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ElasticIpArgs {
    /// The network border group (default: the region's).
    #[serde(default)]
    pub network_border_group: Option<String>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl ElasticIp {
    /// An address in the region's border group.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> ElasticIpArgs {
        ElasticIpArgs::default()
    }
}

impl ElasticIpArgs {
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for ElasticIpArgs {
    type Resource = ElasticIp;
}

/// The outputs of an [`ElasticIp`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElasticIpOutputs {
    /// The allocation id (`eipalloc-…`).
    pub id: String,
    /// The ARN.
    pub arn: String,
    /// The address.
    pub public_ip: String,
}

strata_core::outputs!(ElasticIp => ElasticIpHandle {
    /// The allocation id (`eipalloc-…`).
    id: String,
    /// The address.
    public_ip: String,
});

fn outputs(cx: &Cx<'_>, id: &str, ip: &str) -> ElasticIpOutputs {
    ElasticIpOutputs {
        id: id.to_owned(),
        arn: arn(cx, "", "elastic-ip", id),
        public_ip: ip.to_owned(),
    }
}

async fn describe(
    client: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::Address>, ProviderError> {
    match client.describe_addresses().allocation_ids(id).send().await {
        Ok(o) => Ok(o.addresses().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("ec2:DescribeAddresses")(e)),
    }
}

#[async_trait]
impl Resource for ElasticIp {
    const TYPE: &'static str = "aws:ec2/eip";
    const REPLACE_ON: &'static [&'static str] = &["network_border_group"];
    type Args = ElasticIpArgs;
    type Outputs = ElasticIpOutputs;

    fn validate(args: &ElasticIpArgs) -> Vec<FieldError> {
        check_tags(&args.tags)
    }

    fn estimate(_: &ElasticIpArgs) -> Duration {
        Duration::from_secs(2)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &ElasticIpArgs,
    ) -> Result<Created<ElasticIpOutputs>, ProviderError> {
        let out = ec2(cx)?
            .allocate_address()
            .domain(DomainType::Vpc)
            .set_network_border_group(args.network_border_group.clone())
            .tag_specifications(tag_spec(cx, ResourceType::ElasticIp, &args.tags))
            .send()
            .await
            .map_err(api_error("ec2:AllocateAddress"))?;
        let id = out.allocation_id().unwrap_or_default().to_owned();
        Ok(Created {
            outputs: outputs(cx, &id, out.public_ip().unwrap_or_default()),
            id,
        })
    }

    /// Found by this create's `strata:token` tag (set atomically by the create call's tag
    /// specification); an address without it is not ours, whatever it looks like.
    async fn recover(
        cx: &Cx<'_>,
        _: &ElasticIpArgs,
    ) -> Result<Recovery<ElasticIpOutputs>, ProviderError> {
        let out = ec2(cx)?
            .describe_addresses()
            .filters(token_filter(cx))
            .send()
            .await
            .map_err(api_error("ec2:DescribeAddresses"))?;
        Ok(match out.addresses().iter().find(|a| owned(cx, a.tags())) {
            Some(a) => {
                let id = a.allocation_id().unwrap_or_default().to_owned();
                Recovery::Found(Created {
                    outputs: outputs(cx, &id, a.public_ip().unwrap_or_default()),
                    id,
                })
            }
            None => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&ElasticIpArgs>,
    ) -> Result<Option<Observed<ElasticIpArgs, ElasticIpOutputs>>, ProviderError> {
        let Some(a) = describe(&ec2(cx)?, id).await? else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: ElasticIpArgs {
                // AWS reports the region's group even when none was asked for.
                network_border_group: args.and_then(|a| a.network_border_group.clone()),
                tags: user_tags(a.tags()),
            },
            outputs: outputs(cx, id, a.public_ip().unwrap_or_default()),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &ElasticIpArgs,
        new: &ElasticIpArgs,
        outputs: &ElasticIpOutputs,
    ) -> Result<ElasticIpOutputs, ProviderError> {
        update_tags(&ec2(cx)?, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &ElasticIpArgs,
        _: &ElasticIpOutputs,
    ) -> Result<(), ProviderError> {
        match ec2(cx)?.release_address().allocation_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("ec2:ReleaseAddress")(e)),
        }
    }
}
