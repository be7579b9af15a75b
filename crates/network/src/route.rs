//! `Route`: one route of a route table, to an internet gateway, a NAT gateway, …

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{ec2, not_found, Cidr};
use crate::route_table::describe;

/// A route. Its id is `TABLE_DESTINATION`. Changing the target is an in-place
/// `ReplaceRoute`; changing the table or the destination replaces the route.
///
/// Routes carry no tags, so nothing proves who made one: a create never takes over a
/// route that is already there (`RouteAlreadyExists` is an error naming the conflict),
/// and the recovery of an interrupted create adopts only a route whose table,
/// destination and target are all the declared ones.
///
/// ```
/// use strata_core::Stack;
/// use strata_network::*;
/// let mut s = Stack::new("dev");
/// let vpc = s.add("vpc", Vpc::new("10.0.0.0/16"));
/// let igw = s.add("igw", InternetGateway::new(vpc.id()));
/// let public = s.add("public", RouteTable::new(vpc.id()));
/// s.add("public-default", Route::new(public.id(), "0.0.0.0/0", RouteTarget::gateway(igw.id())));
/// ```
#[derive(Debug)]
pub struct Route;

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteTarget {
    /// An internet gateway (or a virtual private gateway).
    GatewayId(Input<String>),
    /// A NAT gateway.
    NatGatewayId(Input<String>),
    /// A network interface.
    NetworkInterfaceId(Input<String>),
    /// A transit gateway.
    TransitGatewayId(Input<String>),
    /// A VPC peering connection.
    VpcPeeringConnectionId(Input<String>),
    /// A gateway load balancer endpoint.
    VpcEndpointId(Input<String>),
}

impl RouteTarget {
    /// To an internet gateway.
    pub fn gateway(id: impl Into<Input<String>>) -> Self {
        RouteTarget::GatewayId(id.into())
    }
    /// To a NAT gateway.
    pub fn nat_gateway(id: impl Into<Input<String>>) -> Self {
        RouteTarget::NatGatewayId(id.into())
    }

    /// The target's id (`igw-…`, `nat-…`, `eni-…`): its prefix names its kind.
    fn id(&self) -> &Input<String> {
        match self {
            RouteTarget::GatewayId(i)
            | RouteTarget::NatGatewayId(i)
            | RouteTarget::NetworkInterfaceId(i)
            | RouteTarget::TransitGatewayId(i)
            | RouteTarget::VpcPeeringConnectionId(i)
            | RouteTarget::VpcEndpointId(i) => i,
        }
    }
}

/// The args of a [`Route`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteArgs {
    /// The route table.
    pub route_table_id: Input<String>,
    /// The destination block (`0.0.0.0/0` for the default route).
    pub destination_cidr_block: Cidr,
    /// The target.
    pub target: RouteTarget,
}

impl Route {
    /// A route in `route_table_id` for `destination` to `target`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        route_table_id: impl Into<Input<String>>,
        destination: impl Into<Cidr>,
        target: RouteTarget,
    ) -> RouteArgs {
        RouteArgs {
            route_table_id: route_table_id.into(),
            destination_cidr_block: destination.into(),
            target,
        }
    }
}

impl ResourceArgs for RouteArgs {
    type Resource = Route;
}

/// The outputs of a [`Route`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteOutputs {
    /// `TABLE_DESTINATION`.
    pub id: String,
    /// `active` or `blackhole`.
    pub state: String,
}

strata_core::outputs!(Route => RouteHandle {
    /// `TABLE_DESTINATION`.
    id: String,
});

/// Sets the target on a CreateRoute or ReplaceRoute call (the two builders share the
/// setter names, not a type).
macro_rules! with_target {
    ($call:expr, $target:expr, $id:expr) => {
        match $target {
            RouteTarget::GatewayId(_) => $call.gateway_id($id),
            RouteTarget::NatGatewayId(_) => $call.nat_gateway_id($id),
            RouteTarget::NetworkInterfaceId(_) => $call.network_interface_id($id),
            RouteTarget::TransitGatewayId(_) => $call.transit_gateway_id($id),
            RouteTarget::VpcPeeringConnectionId(_) => $call.vpc_peering_connection_id($id),
            RouteTarget::VpcEndpointId(_) => $call.vpc_endpoint_id($id),
        }
    };
}

fn split(id: &str) -> Result<(&str, &str), ProviderError> {
    id.split_once('_').ok_or_else(|| ProviderError::Invalid {
        field: "id".into(),
        message: format!("{id:?} is not TABLE_DESTINATION (rtb-…_0.0.0.0/0)"),
    })
}

fn target_of(r: &aws_sdk_ec2::types::Route) -> Option<RouteTarget> {
    let v = |s: &str| Input::Value(s.to_owned());
    if let Some(g) = r.nat_gateway_id() {
        Some(RouteTarget::NatGatewayId(v(g)))
    } else if let Some(g) = r.transit_gateway_id() {
        Some(RouteTarget::TransitGatewayId(v(g)))
    } else if let Some(g) = r.vpc_peering_connection_id() {
        Some(RouteTarget::VpcPeeringConnectionId(v(g)))
    } else if let Some(g) = r.network_interface_id() {
        Some(RouteTarget::NetworkInterfaceId(v(g)))
    } else {
        r.gateway_id().map(|g| {
            if g.starts_with("vpce-") {
                RouteTarget::VpcEndpointId(v(g))
            } else {
                RouteTarget::GatewayId(v(g))
            }
        })
    }
}

async fn find(
    cx: &Cx<'_>,
    table: &str,
    destination: &str,
) -> Result<Option<aws_sdk_ec2::types::Route>, ProviderError> {
    let Some(t) = describe(&ec2(cx)?, table).await? else {
        return Ok(None);
    };
    Ok(t.routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some(destination))
        .cloned())
}

fn outputs(id: String, r: &aws_sdk_ec2::types::Route) -> RouteOutputs {
    RouteOutputs {
        id,
        state: r.state().map_or("active", |s| s.as_str()).to_owned(),
    }
}

#[async_trait]
impl Resource for Route {
    const TYPE: &'static str = "aws:ec2/route";
    /// `ReplaceRoute` takes any kind of target, so every target change is in place.
    const REPLACE_ON: &'static [&'static str] = &["route_table_id", "destination_cidr_block"];
    /// A table has one route per destination.
    const IDENTITY: &'static [&'static str] = &["route_table_id", "destination_cidr_block"];
    type Args = RouteArgs;
    type Outputs = RouteOutputs;

    fn validate(args: &RouteArgs) -> Vec<FieldError> {
        match args.destination_cidr_block.net() {
            Err(m) => vec![FieldError::new("destination_cidr_block", m)],
            Ok(_) => Vec::new(),
        }
    }

    fn estimate(_: &RouteArgs) -> Duration {
        Duration::from_secs(1)
    }

    async fn create(cx: &Cx<'_>, args: &RouteArgs) -> Result<Created<RouteOutputs>, ProviderError> {
        let table = args.route_table_id.value()?;
        let dest = args.destination_cidr_block.as_str();
        let target = args.target.id().value()?;
        let mut call = ec2(cx)?
            .create_route()
            .route_table_id(table)
            .destination_cidr_block(dest);
        call = with_target!(call, &args.target, target);
        // `RouteAlreadyExists` (a route of that destination, whatever its target) is the
        // conflict: CreateRoute never replaces a route, and neither does this create.
        call.send().await.map_err(api_error("ec2:CreateRoute"))?;
        let id = format!("{table}_{dest}");
        Ok(Created {
            outputs: RouteOutputs {
                id: id.clone(),
                state: "active".into(),
            },
            id,
        })
    }

    /// Routes have no tags: a route is this create's only when its table, destination and
    /// target are all the declared ones, and this create was not itself refused because
    /// the route was already there. A route of that destination with another target is
    /// somebody else's: absent, and the engine reports the conflict.
    async fn recover(
        cx: &Cx<'_>,
        args: &RouteArgs,
    ) -> Result<Recovery<RouteOutputs>, ProviderError> {
        let table = args.route_table_id.value()?;
        let dest = args.destination_cidr_block.as_str();
        let want = args.target.id().value()?;
        let same_target = |r: &aws_sdk_ec2::types::Route| {
            target_of(r).is_some_and(|t| t.id().known() == Some(want))
        };
        Ok(match find(cx, table, dest).await? {
            Some(r) if same_target(&r) => {
                let id = format!("{table}_{dest}");
                Recovery::Resembles(Created {
                    outputs: outputs(id.clone(), &r),
                    id,
                })
            }
            Some(r) => {
                tracing::debug!(
                    urn = %cx.urn,
                    "route {table} {dest} exists with another target ({:?}): not ours",
                    target_of(&r)
                );
                Recovery::Absent
            }
            None => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&RouteArgs>,
    ) -> Result<Option<Observed<RouteArgs, RouteOutputs>>, ProviderError> {
        let (table, dest) = split(id)?;
        let Some(r) = find(cx, table, dest).await? else {
            return Ok(None);
        };
        let Some(target) = target_of(&r) else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: RouteArgs {
                route_table_id: Input::Value(table.to_owned()),
                destination_cidr_block: Cidr::from(dest),
                target,
            },
            outputs: outputs(id.to_owned(), &r),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        _: &RouteArgs,
        new: &RouteArgs,
        outputs: &RouteOutputs,
    ) -> Result<RouteOutputs, ProviderError> {
        let (table, dest) = split(id)?;
        let target = new.target.id().value()?;
        let mut call = ec2(cx)?
            .replace_route()
            .route_table_id(table)
            .destination_cidr_block(dest);
        call = with_target!(call, &new.target, target);
        call.send().await.map_err(api_error("ec2:ReplaceRoute"))?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &RouteArgs,
        _: &RouteOutputs,
    ) -> Result<(), ProviderError> {
        let (table, dest) = split(id)?;
        match ec2(cx)?
            .delete_route()
            .route_table_id(table)
            .destination_cidr_block(dest)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("ec2:DeleteRoute")(e)),
        }
    }
}
