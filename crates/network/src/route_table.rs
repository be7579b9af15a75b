//! `RouteTable`: a route table of a VPC. Its routes are [`crate::Route`] resources.

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

/// A route table.
///
/// ```
/// use strata_core::Stack;
/// use strata_network::{RouteTable, Vpc, VpcHandle};
/// let mut s = Stack::new("dev");
/// let vpc = s.add("vpc", Vpc::new("10.0.0.0/16"));
/// s.add("public", RouteTable::new(vpc.id()));
/// ```
#[derive(Debug)]
pub struct RouteTable;

/// The args of a [`RouteTable`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTableArgs {
    /// The VPC.
    pub vpc_id: Input<String>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl RouteTable {
    /// A route table in `vpc_id`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(vpc_id: impl Into<Input<String>>) -> RouteTableArgs {
        RouteTableArgs {
            vpc_id: vpc_id.into(),
            tags: BTreeMap::new(),
        }
    }
}

impl RouteTableArgs {
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for RouteTableArgs {
    type Resource = RouteTable;
}

/// The outputs of a [`RouteTable`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTableOutputs {
    /// `rtb-…`.
    pub id: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(RouteTable => RouteTableHandle {
    /// `rtb-…`.
    id: String,
});

fn outputs(cx: &Cx<'_>, t: &aws_sdk_ec2::types::RouteTable) -> RouteTableOutputs {
    let id = t.route_table_id().unwrap_or_default().to_owned();
    RouteTableOutputs {
        arn: arn(cx, t.owner_id().unwrap_or_default(), "route-table", &id),
        id,
    }
}

pub(crate) async fn describe(
    client: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::RouteTable>, ProviderError> {
    match client
        .describe_route_tables()
        .route_table_ids(id)
        .send()
        .await
    {
        Ok(o) => Ok(o.route_tables().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("ec2:DescribeRouteTables")(e)),
    }
}

#[async_trait]
impl Resource for RouteTable {
    const TYPE: &'static str = "aws:ec2/route-table";
    const REPLACE_ON: &'static [&'static str] = &["vpc_id"];
    type Args = RouteTableArgs;
    type Outputs = RouteTableOutputs;

    fn validate(args: &RouteTableArgs) -> Vec<FieldError> {
        check_tags(&args.tags)
    }

    fn estimate(_: &RouteTableArgs) -> Duration {
        Duration::from_secs(2)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &RouteTableArgs,
    ) -> Result<Created<RouteTableOutputs>, ProviderError> {
        let out = ec2(cx)?
            .create_route_table()
            .vpc_id(args.vpc_id.value()?)
            .client_token(cx.token)
            .tag_specifications(tag_spec(cx, ResourceType::RouteTable, &args.tags))
            .send()
            .await
            .map_err(api_error("ec2:CreateRouteTable"))?;
        let t = out
            .route_table()
            .ok_or_else(|| ProviderError::Other("CreateRouteTable returned no table".into()))?;
        Ok(Created {
            id: t.route_table_id().unwrap_or_default().to_owned(),
            outputs: outputs(cx, t),
        })
    }

    /// Found by this create's `strata:token` tag (set atomically by the create call's tag
    /// specification); a table without it is not ours, whatever it looks like.
    async fn recover(
        cx: &Cx<'_>,
        _: &RouteTableArgs,
    ) -> Result<Recovery<RouteTableOutputs>, ProviderError> {
        let out = ec2(cx)?
            .describe_route_tables()
            .filters(token_filter(cx))
            .send()
            .await
            .map_err(api_error("ec2:DescribeRouteTables"))?;
        Ok(
            match out.route_tables().iter().find(|t| owned(cx, t.tags())) {
                Some(t) => Recovery::Found(Created {
                    id: t.route_table_id().unwrap_or_default().to_owned(),
                    outputs: outputs(cx, t),
                }),
                None => Recovery::Absent,
            },
        )
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&RouteTableArgs>,
    ) -> Result<Option<Observed<RouteTableArgs, RouteTableOutputs>>, ProviderError> {
        let Some(t) = describe(&ec2(cx)?, id).await? else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: RouteTableArgs {
                vpc_id: Input::Value(t.vpc_id().unwrap_or_default().to_owned()),
                tags: user_tags(t.tags()),
            },
            outputs: outputs(cx, &t),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &RouteTableArgs,
        new: &RouteTableArgs,
        outputs: &RouteTableOutputs,
    ) -> Result<RouteTableOutputs, ProviderError> {
        update_tags(&ec2(cx)?, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &RouteTableArgs,
        _: &RouteTableOutputs,
    ) -> Result<(), ProviderError> {
        let client = ec2(cx)?;
        delete_retrying(format!("route table {id}"), "ec2:DeleteRouteTable", || {
            client.delete_route_table().route_table_id(id).send()
        })
        .await
    }
}
