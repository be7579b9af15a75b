//! `RouteTableAssociation`: which route table a subnet uses.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{ec2, filter, not_found};

/// Associates a subnet with a route table. Moving the subnet to another table is an
/// in-place `ReplaceRouteTableAssociation` (AWS gives the association a new id, kept in
/// the `association_id` output); changing the subnet replaces it.
///
/// A subnet that is associated already (with any table) is never taken over: the
/// create's `Resource.AlreadyAssociated` names the conflict.
///
/// ```
/// use strata_core::Stack;
/// use strata_network::*;
/// let mut s = Stack::new("dev");
/// let vpc = s.add("vpc", Vpc::new("10.0.0.0/16"));
/// let subnet = s.add("public-a", Subnet::new(vpc.id(), "10.0.1.0/24", "eu-central-1a"));
/// let table = s.add("public", RouteTable::new(vpc.id()));
/// s.add("public-a-assoc", RouteTableAssociation::new(table.id(), subnet.id()));
/// ```
#[derive(Debug)]
pub struct RouteTableAssociation;

/// The args of a [`RouteTableAssociation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTableAssociationArgs {
    /// The route table.
    pub route_table_id: Input<String>,
    /// The subnet.
    pub subnet_id: Input<String>,
}

impl RouteTableAssociation {
    /// `subnet_id` uses `route_table_id`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        route_table_id: impl Into<Input<String>>,
        subnet_id: impl Into<Input<String>>,
    ) -> RouteTableAssociationArgs {
        RouteTableAssociationArgs {
            route_table_id: route_table_id.into(),
            subnet_id: subnet_id.into(),
        }
    }
}

impl ResourceArgs for RouteTableAssociationArgs {
    type Resource = RouteTableAssociation;
}

/// The outputs of a [`RouteTableAssociation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTableAssociationOutputs {
    /// The current association id (`rtbassoc-…`).
    pub association_id: String,
}

strata_core::outputs!(RouteTableAssociation => RouteTableAssociationHandle {
    /// The current association id (`rtbassoc-…`).
    association_id: String,
});

/// The (table, association id) of the subnet's explicit association.
async fn find(cx: &Cx<'_>, subnet: &str) -> Result<Option<(String, String)>, ProviderError> {
    let out = ec2(cx)?
        .describe_route_tables()
        .filters(filter("association.subnet-id", subnet))
        .send()
        .await
        .map_err(api_error("ec2:DescribeRouteTables"))?;
    Ok(out.route_tables().iter().find_map(|t| {
        t.associations()
            .iter()
            .find(|a| a.subnet_id() == Some(subnet) && a.main() != Some(true))
            .and_then(|a| {
                Some((
                    t.route_table_id()?.to_owned(),
                    a.route_table_association_id()?.to_owned(),
                ))
            })
    }))
}

#[async_trait]
impl Resource for RouteTableAssociation {
    const TYPE: &'static str = "aws:ec2/route-table-association";
    const REPLACE_ON: &'static [&'static str] = &["subnet_id"];
    /// A subnet has one explicit association.
    const IDENTITY: &'static [&'static str] = &["subnet_id"];
    type Args = RouteTableAssociationArgs;
    type Outputs = RouteTableAssociationOutputs;

    fn validate(_: &RouteTableAssociationArgs) -> Vec<FieldError> {
        Vec::new()
    }

    fn estimate(_: &RouteTableAssociationArgs) -> Duration {
        Duration::from_secs(1)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &RouteTableAssociationArgs,
    ) -> Result<Created<RouteTableAssociationOutputs>, ProviderError> {
        let out = ec2(cx)?
            .associate_route_table()
            .route_table_id(args.route_table_id.value()?)
            .subnet_id(args.subnet_id.value()?)
            .send()
            .await
            // `Resource.AlreadyAssociated`: the subnet has an association already (with
            // this table or another); it is not replaced.
            .map_err(api_error("ec2:AssociateRouteTable"))?;
        let id = out.association_id().unwrap_or_default().to_owned();
        Ok(Created {
            outputs: RouteTableAssociationOutputs {
                association_id: id.clone(),
            },
            id,
        })
    }

    /// Found again by the subnet: it has at most one explicit association. Associations
    /// have no tags: the subnet's association is this create's only when it is with the
    /// declared table, and this create was not itself refused because the subnet was
    /// associated already. An association with another table is somebody else's:
    /// absent, and the engine reports the conflict.
    async fn recover(
        cx: &Cx<'_>,
        args: &RouteTableAssociationArgs,
    ) -> Result<Recovery<RouteTableAssociationOutputs>, ProviderError> {
        let want = args.route_table_id.value()?;
        let subnet = args.subnet_id.value()?;
        Ok(match find(cx, subnet).await? {
            Some((table, id)) if &table == want => Recovery::Resembles(Created {
                outputs: RouteTableAssociationOutputs {
                    association_id: id.clone(),
                },
                id,
            }),
            Some((table, id)) => {
                tracing::debug!(
                    urn = %cx.urn,
                    "subnet {subnet} is associated with {table} ({id}), not {want}: not ours"
                );
                Recovery::Absent
            }
            None => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&RouteTableAssociationArgs>,
    ) -> Result<
        Option<Observed<RouteTableAssociationArgs, RouteTableAssociationOutputs>>,
        ProviderError,
    > {
        // By the subnet when it is known (the association id changes on a move), else by
        // the id (import).
        let subnet = args.and_then(|a| a.subnet_id.known());
        let by = match subnet {
            Some(s) => filter("association.subnet-id", s),
            None => filter("association.route-table-association-id", id),
        };
        let out = ec2(cx)?
            .describe_route_tables()
            .filters(by)
            .send()
            .await
            .map_err(api_error("ec2:DescribeRouteTables"))?;
        let found = out.route_tables().iter().find_map(|t| {
            t.associations()
                .iter()
                // A table has an association per subnet: this one is the subnet's (or,
                // on import, the id's).
                .find(|a| {
                    a.main() != Some(true)
                        && match subnet {
                            Some(s) => a.subnet_id() == Some(s.as_str()),
                            None => {
                                a.subnet_id().is_some()
                                    && a.route_table_association_id() == Some(id)
                            }
                        }
                })
                .map(|a| (t, a))
        });
        let Some((t, a)) = found else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: RouteTableAssociationArgs {
                route_table_id: Input::Value(t.route_table_id().unwrap_or_default().to_owned()),
                subnet_id: Input::Value(a.subnet_id().unwrap_or_default().to_owned()),
            },
            outputs: RouteTableAssociationOutputs {
                association_id: a
                    .route_table_association_id()
                    .unwrap_or_default()
                    .to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        _: &str,
        _: &RouteTableAssociationArgs,
        new: &RouteTableAssociationArgs,
        outputs: &RouteTableAssociationOutputs,
    ) -> Result<RouteTableAssociationOutputs, ProviderError> {
        let out = ec2(cx)?
            .replace_route_table_association()
            .association_id(&outputs.association_id)
            .route_table_id(new.route_table_id.value()?)
            .send()
            .await
            .map_err(api_error("ec2:ReplaceRouteTableAssociation"))?;
        Ok(RouteTableAssociationOutputs {
            association_id: out
                .new_association_id()
                .unwrap_or(&outputs.association_id)
                .to_owned(),
        })
    }

    async fn delete(
        cx: &Cx<'_>,
        _: &str,
        _: &RouteTableAssociationArgs,
        outputs: &RouteTableAssociationOutputs,
    ) -> Result<(), ProviderError> {
        match ec2(cx)?
            .disassociate_route_table()
            .association_id(&outputs.association_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("ec2:DisassociateRouteTable")(e)),
        }
    }
}
