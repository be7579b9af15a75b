//! `NatGateway`: a NAT gateway in a public subnet (with an Elastic IP) or a private one.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{ConnectivityType as AwsConnectivity, NatGatewayState, ResourceType};
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{
    arn, check_tags, ec2, not_found, owned, tag_spec, token_filter, update_tags, user_tags,
};

/// How long a NAT gateway may take to become available or to go away.
const TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// A NAT gateway. Create waits until it is `available`; delete waits until it is
/// `deleted` (its Elastic IP can only be released then).
///
/// A replacement deletes the old gateway first: an Elastic IP belongs to one gateway at a
/// time, so the new one could not take it while the old one holds it. Egress through it
/// stops for the minutes that takes.
///
/// ```
/// use strata_core::Stack;
/// use strata_network::{ElasticIp, ElasticIpHandle, NatGateway, Subnet, SubnetHandle, Vpc, VpcHandle};
/// let mut s = Stack::new("dev");
/// let vpc = s.add("vpc", Vpc::new("10.0.0.0/16"));
/// let public = s.add("public-a", Subnet::new(vpc.id(), "10.0.1.0/24", "eu-central-1a"));
/// let ip = s.add("nat-a-ip", ElasticIp::new());
/// s.add("nat-a", NatGateway::public(public.id(), ip.id()));
/// ```
#[derive(Debug)]
pub struct NatGateway;

/// Whether the gateway reaches the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectivityType {
    /// Through an internet gateway, with an Elastic IP.
    #[default]
    Public,
    /// To other VPCs and on-premises networks only.
    Private,
}

/// The args of a [`NatGateway`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NatGatewayArgs {
    /// The subnet it lives in.
    pub subnet_id: Input<String>,
    /// The Elastic IP's allocation id (public gateways).
    pub allocation_id: Option<Input<String>>,
    /// Public or private.
    pub connectivity_type: ConnectivityType,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl NatGateway {
    /// A public gateway in `subnet_id` with the Elastic IP `allocation_id`.
    pub fn public(
        subnet_id: impl Into<Input<String>>,
        allocation_id: impl Into<Input<String>>,
    ) -> NatGatewayArgs {
        NatGatewayArgs {
            subnet_id: subnet_id.into(),
            allocation_id: Some(allocation_id.into()),
            connectivity_type: ConnectivityType::Public,
            tags: BTreeMap::new(),
        }
    }

    /// A private gateway in `subnet_id`.
    pub fn private(subnet_id: impl Into<Input<String>>) -> NatGatewayArgs {
        NatGatewayArgs {
            subnet_id: subnet_id.into(),
            allocation_id: None,
            connectivity_type: ConnectivityType::Private,
            tags: BTreeMap::new(),
        }
    }
}

impl NatGatewayArgs {
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for NatGatewayArgs {
    type Resource = NatGateway;
}

/// The outputs of a [`NatGateway`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NatGatewayOutputs {
    /// `nat-…`.
    pub id: String,
    /// The ARN.
    pub arn: String,
    /// The public address, for public gateways.
    pub public_ip: Option<String>,
    /// The private address.
    pub private_ip: Option<String>,
}

strata_core::outputs!(NatGateway => NatGatewayHandle {
    /// `nat-…`.
    id: String,
    /// The public address, for public gateways.
    public_ip: Option<String>,
});

fn outputs(cx: &Cx<'_>, g: &aws_sdk_ec2::types::NatGateway) -> NatGatewayOutputs {
    let id = g.nat_gateway_id().unwrap_or_default().to_owned();
    let addr = g.nat_gateway_addresses().first();
    NatGatewayOutputs {
        arn: arn(cx, "", "natgateway", &id),
        id,
        public_ip: addr.and_then(|a| a.public_ip()).map(str::to_owned),
        private_ip: addr.and_then(|a| a.private_ip()).map(str::to_owned),
    }
}

async fn describe(
    client: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::NatGateway>, ProviderError> {
    match client
        .describe_nat_gateways()
        .nat_gateway_ids(id)
        .send()
        .await
    {
        Ok(o) => Ok(o.nat_gateways().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("ec2:DescribeNatGateways")(e)),
    }
}

/// Waits until gateway `id` is available. A gateway that fails instead says why in its
/// failure code: AWS makes the gateway first and checks its Elastic IP after, so an
/// address another gateway holds shows here (`Resource.AlreadyAssociated`), as the
/// conflict it is.
async fn wait_available(
    client: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<aws_sdk_ec2::types::NatGateway, ProviderError> {
    let waited = client
        .wait_until_nat_gateway_available()
        .nat_gateway_ids(id)
        .wait(TIMEOUT)
        .await;
    if let Err(e) = waited {
        let failed = describe(client, id)
            .await?
            .filter(|g| g.state() == Some(&NatGatewayState::Failed));
        return Err(match failed {
            Some(g) => {
                let code = g.failure_code();
                let message = format!(
                    "NAT gateway {id} failed: {}",
                    g.failure_message().unwrap_or("no reason given")
                );
                if strata_core::aws::already_exists(code) {
                    ProviderError::AlreadyExists {
                        operation: "ec2:CreateNatGateway".into(),
                        message,
                    }
                } else {
                    ProviderError::Api {
                        operation: "ec2:CreateNatGateway".into(),
                        code: code.map(str::to_owned),
                        message,
                    }
                }
            }
            None => ProviderError::Timeout {
                after: TIMEOUT,
                what: format!("NAT gateway {id} to be available ({e})"),
            },
        });
    }
    describe(client, id)
        .await?
        .ok_or_else(|| ProviderError::NotFound(id.to_owned()))
}

#[async_trait]
impl Resource for NatGateway {
    const TYPE: &'static str = "aws:ec2/nat-gateway";
    const REPLACE_ON: &'static [&'static str] =
        &["subnet_id", "allocation_id", "connectivity_type"];
    const DELETE_BEFORE_REPLACE: bool = true;
    type Args = NatGatewayArgs;
    type Outputs = NatGatewayOutputs;

    fn validate(args: &NatGatewayArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        match (args.connectivity_type, &args.allocation_id) {
            (ConnectivityType::Public, None) => errs.push(FieldError::new(
                "allocation_id",
                "a public NAT gateway needs an Elastic IP allocation",
            )),
            (ConnectivityType::Private, Some(_)) => errs.push(FieldError::new(
                "allocation_id",
                "a private NAT gateway takes no Elastic IP",
            )),
            _ => {}
        }
        errs
    }

    fn estimate(_: &NatGatewayArgs) -> Duration {
        Duration::from_secs(120)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &NatGatewayArgs,
    ) -> Result<Created<NatGatewayOutputs>, ProviderError> {
        let client = ec2(cx)?;
        let out = client
            .create_nat_gateway()
            .subnet_id(args.subnet_id.value()?)
            .set_allocation_id(
                args.allocation_id
                    .as_ref()
                    .map(|a| a.value().cloned())
                    .transpose()?,
            )
            .connectivity_type(match args.connectivity_type {
                ConnectivityType::Public => AwsConnectivity::Public,
                ConnectivityType::Private => AwsConnectivity::Private,
            })
            .client_token(cx.token)
            .tag_specifications(tag_spec(cx, ResourceType::Natgateway, &args.tags))
            .send()
            .await
            .map_err(api_error("ec2:CreateNatGateway"))?;
        let id = out
            .nat_gateway()
            .and_then(|g| g.nat_gateway_id())
            .ok_or_else(|| ProviderError::Other("CreateNatGateway returned no id".into()))?
            .to_owned();
        let g = wait_available(&client, &id).await?;
        Ok(Created {
            outputs: outputs(cx, &g),
            id,
        })
    }

    /// Found by this create's `strata:token` tag (set atomically by the create call's tag
    /// specification), in any state but `deleting`, `deleted` and `failed`: a crash
    /// leaves it `pending`, and recovery waits until it is available. The tag is checked
    /// on every gateway that comes back, not left to the filter: a gateway without this
    /// token (another resource's, or one that holds the same Elastic IP) is never ours.
    async fn recover(
        cx: &Cx<'_>,
        _: &NatGatewayArgs,
    ) -> Result<Recovery<NatGatewayOutputs>, ProviderError> {
        let client = ec2(cx)?;
        let mut next: Option<String> = None;
        let found = loop {
            let out = client
                .describe_nat_gateways()
                .filter(token_filter(cx))
                .set_next_token(next.take())
                .send()
                .await
                .map_err(api_error("ec2:DescribeNatGateways"))?;
            let live = out
                .nat_gateways()
                .iter()
                .filter(|g| owned(cx, g.tags()))
                .find(|g| {
                    !matches!(
                        g.state(),
                        Some(
                            NatGatewayState::Deleted
                                | NatGatewayState::Deleting
                                | NatGatewayState::Failed
                        )
                    )
                })
                .and_then(|g| g.nat_gateway_id())
                .map(str::to_owned);
            if live.is_some() {
                break live;
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                _ => break None,
            }
        };
        let Some(id) = found else {
            return Ok(Recovery::Absent);
        };
        let g = wait_available(&client, &id).await?;
        Ok(Recovery::Found(Created {
            outputs: outputs(cx, &g),
            id,
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&NatGatewayArgs>,
    ) -> Result<Option<Observed<NatGatewayArgs, NatGatewayOutputs>>, ProviderError> {
        let Some(g) = describe(&ec2(cx)?, id).await? else {
            return Ok(None);
        };
        if matches!(
            g.state(),
            Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
        ) {
            return Ok(None);
        }
        let public = !matches!(g.connectivity_type(), Some(AwsConnectivity::Private));
        Ok(Some(Observed {
            args: NatGatewayArgs {
                subnet_id: Input::Value(g.subnet_id().unwrap_or_default().to_owned()),
                allocation_id: g
                    .nat_gateway_addresses()
                    .first()
                    .and_then(|a| a.allocation_id())
                    .map(|a| Input::Value(a.to_owned())),
                connectivity_type: if public {
                    ConnectivityType::Public
                } else {
                    ConnectivityType::Private
                },
                tags: user_tags(g.tags()),
            },
            outputs: outputs(cx, &g),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &NatGatewayArgs,
        new: &NatGatewayArgs,
        outputs: &NatGatewayOutputs,
    ) -> Result<NatGatewayOutputs, ProviderError> {
        update_tags(&ec2(cx)?, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &NatGatewayArgs,
        _: &NatGatewayOutputs,
    ) -> Result<(), ProviderError> {
        let client = ec2(cx)?;
        match client.delete_nat_gateway().nat_gateway_id(id).send().await {
            Ok(_) => {}
            Err(e) if not_found(&e) => return Ok(()),
            Err(e) => return Err(api_error("ec2:DeleteNatGateway")(e)),
        }
        client
            .wait_until_nat_gateway_deleted()
            .nat_gateway_ids(id)
            .wait(TIMEOUT)
            .await
            .map_err(|e| ProviderError::Timeout {
                after: TIMEOUT,
                what: format!("NAT gateway {id} to be deleted ({e})"),
            })?;
        Ok(())
    }
}
