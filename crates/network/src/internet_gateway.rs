//! `InternetGateway`: an internet gateway, attached to a VPC.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{
    arn, check_tags, delete_retrying, ec2, not_found, owned, tag_spec, token_filter, update_tags,
    user_tags,
};

/// An internet gateway with its VPC attachment. Moving it to another VPC (or detaching
/// it) is an in-place change: detach, then attach.
///
/// ```
/// use strata_core::Stack;
/// use strata_network::{InternetGateway, Vpc, VpcHandle};
/// let mut s = Stack::new("dev");
/// let vpc = s.add("vpc", Vpc::new("10.0.0.0/16"));
/// s.add("igw", InternetGateway::new(vpc.id()));
/// ```
#[derive(Debug)]
pub struct InternetGateway;

/// The args of an [`InternetGateway`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InternetGatewayArgs {
    /// The VPC it is attached to (none: detached).
    pub vpc_id: Option<Input<String>>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl InternetGateway {
    /// A gateway attached to `vpc_id`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(vpc_id: impl Into<Input<String>>) -> InternetGatewayArgs {
        InternetGatewayArgs {
            vpc_id: Some(vpc_id.into()),
            tags: BTreeMap::new(),
        }
    }
}

impl InternetGatewayArgs {
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for InternetGatewayArgs {
    type Resource = InternetGateway;
}

/// The outputs of an [`InternetGateway`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InternetGatewayOutputs {
    /// `igw-…`.
    pub id: String,
    /// The ARN.
    pub arn: String,
    /// The attached VPC, if any.
    pub vpc_id: Option<String>,
}

strata_core::outputs!(InternetGateway => InternetGatewayHandle {
    /// `igw-…`.
    id: String,
    /// The ARN.
    arn: String,
});

fn outputs(cx: &Cx<'_>, g: &aws_sdk_ec2::types::InternetGateway) -> InternetGatewayOutputs {
    let id = g.internet_gateway_id().unwrap_or_default().to_owned();
    InternetGatewayOutputs {
        arn: arn(
            cx,
            g.owner_id().unwrap_or_default(),
            "internet-gateway",
            &id,
        ),
        id,
        vpc_id: attached(g),
    }
}

fn attached(g: &aws_sdk_ec2::types::InternetGateway) -> Option<String> {
    g.attachments()
        .iter()
        .find_map(|a| a.vpc_id().map(str::to_owned))
}

async fn attach(client: &aws_sdk_ec2::Client, id: &str, vpc: &str) -> Result<(), ProviderError> {
    client
        .attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(api_error("ec2:AttachInternetGateway"))?;
    Ok(())
}

async fn detach(client: &aws_sdk_ec2::Client, id: &str, vpc: &str) -> Result<(), ProviderError> {
    // Public addresses in the VPC (NAT gateways, EIPs) block a detach for a while after
    // they are released.
    delete_retrying(
        format!("internet gateway {id} (detaching from {vpc})"),
        "ec2:DetachInternetGateway",
        || {
            client
                .detach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(vpc)
                .send()
        },
    )
    .await
}

async fn describe(
    client: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::InternetGateway>, ProviderError> {
    match client
        .describe_internet_gateways()
        .internet_gateway_ids(id)
        .send()
        .await
    {
        Ok(o) => Ok(o.internet_gateways().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("ec2:DescribeInternetGateways")(e)),
    }
}

#[async_trait]
impl Resource for InternetGateway {
    const TYPE: &'static str = "aws:ec2/internet-gateway";
    type Args = InternetGatewayArgs;
    type Outputs = InternetGatewayOutputs;

    fn validate(args: &InternetGatewayArgs) -> Vec<FieldError> {
        check_tags(&args.tags)
    }

    fn estimate(_: &InternetGatewayArgs) -> Duration {
        Duration::from_secs(3)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &InternetGatewayArgs,
    ) -> Result<Created<InternetGatewayOutputs>, ProviderError> {
        let client = ec2(cx)?;
        let out = client
            .create_internet_gateway()
            .tag_specifications(tag_spec(cx, ResourceType::InternetGateway, &args.tags))
            .send()
            .await
            .map_err(api_error("ec2:CreateInternetGateway"))?;
        let g = out.internet_gateway().ok_or_else(|| {
            ProviderError::Other("CreateInternetGateway returned no gateway".into())
        })?;
        let id = g.internet_gateway_id().unwrap_or_default().to_owned();
        let mut o = outputs(cx, g);
        if let Some(vpc) = &args.vpc_id {
            attach(&client, &id, vpc.value()?).await?;
            o.vpc_id = Some(vpc.value()?.clone());
        }
        Ok(Created { id, outputs: o })
    }

    /// Found by this create's `strata:token` tag (set atomically by the create call's tag
    /// specification); a gateway without it is not ours.
    async fn recover(
        cx: &Cx<'_>,
        args: &InternetGatewayArgs,
    ) -> Result<Recovery<InternetGatewayOutputs>, ProviderError> {
        let client = ec2(cx)?;
        let out = client
            .describe_internet_gateways()
            .filters(token_filter(cx))
            .send()
            .await
            .map_err(api_error("ec2:DescribeInternetGateways"))?;
        let Some(g) = out.internet_gateways().iter().find(|g| owned(cx, g.tags())) else {
            return Ok(Recovery::Absent);
        };
        let id = g.internet_gateway_id().unwrap_or_default().to_owned();
        let mut o = outputs(cx, g);
        // The crash may have come between the create and the attach: finish it. When the
        // attach is refused (the VPC has another gateway), the gateway is still ours: it
        // is recorded as it is, and the engine reports the difference and the refusal.
        if let (Some(vpc), None) = (&args.vpc_id, &o.vpc_id) {
            match attach(&client, &id, vpc.value()?).await {
                Ok(()) => o.vpc_id = Some(vpc.value()?.clone()),
                Err(e) => tracing::warn!(%id, "recovered gateway left detached: {e}"),
            }
        }
        Ok(Recovery::Found(Created { id, outputs: o }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&InternetGatewayArgs>,
    ) -> Result<Option<Observed<InternetGatewayArgs, InternetGatewayOutputs>>, ProviderError> {
        let Some(g) = describe(&ec2(cx)?, id).await? else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: InternetGatewayArgs {
                vpc_id: attached(&g).map(Input::Value),
                tags: user_tags(g.tags()),
            },
            outputs: outputs(cx, &g),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &InternetGatewayArgs,
        new: &InternetGatewayArgs,
        outputs: &InternetGatewayOutputs,
    ) -> Result<InternetGatewayOutputs, ProviderError> {
        let client = ec2(cx)?;
        let want = new
            .vpc_id
            .as_ref()
            .map(|v| v.value().cloned())
            .transpose()?;
        let mut o = outputs.clone();
        if want != o.vpc_id {
            if let Some(vpc) = &o.vpc_id {
                detach(&client, id, vpc).await?;
            }
            if let Some(vpc) = &want {
                attach(&client, id, vpc).await?;
            }
            o.vpc_id = want;
        }
        update_tags(&client, id, &old.tags, &new.tags).await?;
        Ok(o)
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &InternetGatewayArgs,
        _: &InternetGatewayOutputs,
    ) -> Result<(), ProviderError> {
        let client = ec2(cx)?;
        let Some(g) = describe(&client, id).await? else {
            return Ok(());
        };
        if let Some(vpc) = attached(&g) {
            detach(&client, id, &vpc).await?;
        }
        delete_retrying(
            format!("internet gateway {id}"),
            "ec2:DeleteInternetGateway",
            || {
                client
                    .delete_internet_gateway()
                    .internet_gateway_id(id)
                    .send()
            },
        )
        .await
    }
}
