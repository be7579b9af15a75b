//! A three-tier VPC across availability zones: public, app and data subnets, an internet
//! gateway, one NAT gateway per AZ, one public route table and one private route table per
//! AZ (app and data subnets route through their AZ's NAT gateway; nothing private routes
//! to the internet gateway).
//!
//! It is ordinary composition of this crate's resource types: [`ThreeTierVpc::declare`]
//! only calls `Stack::add`, and every resource it declares is in the returned
//! [`ThreeTier`], typed.
//!
//! ```
//! use strata_core::Stack;
//! use strata_network::three_tier::ThreeTierVpc;
//! let mut s = Stack::new("dev");
//! // The e-commerce seed's layout: 10.0.0.0/16 over eu-central-1a and 1b.
//! let net = ThreeTierVpc::default().declare(&mut s, "shop");
//! assert_eq!((net.public.len(), net.app.len(), net.data.len(), net.nat.len()), (2, 2, 2, 2));
//! assert!(s.seal().is_ok());
//! ```

use strata_core::{Handle, ResourceOptions, Stack};

use crate::*;

/// The layout to declare.
#[derive(Debug, Clone)]
pub struct ThreeTierVpc {
    /// The VPC block.
    pub cidr: Cidr,
    /// The availability zones, one subnet of each tier per zone.
    pub azs: Vec<String>,
    /// Public subnet blocks, one per AZ.
    pub public: Vec<Cidr>,
    /// App subnet blocks, one per AZ.
    pub app: Vec<Cidr>,
    /// Data subnet blocks, one per AZ.
    pub data: Vec<Cidr>,
}

impl Default for ThreeTierVpc {
    /// The e-commerce seed: 10.0.0.0/16 in eu-central-1a/1b, public 10.0.1.0/24 and
    /// 10.0.2.0/24, app 10.0.16.0/22 and 10.0.20.0/22, data 10.0.32.0/24 and 10.0.33.0/24.
    fn default() -> Self {
        let c = |v: &[&str]| v.iter().map(|s| Cidr::from(*s)).collect();
        ThreeTierVpc {
            cidr: Cidr::from("10.0.0.0/16"),
            azs: vec!["eu-central-1a".into(), "eu-central-1b".into()],
            public: c(&["10.0.1.0/24", "10.0.2.0/24"]),
            app: c(&["10.0.16.0/22", "10.0.20.0/22"]),
            data: c(&["10.0.32.0/24", "10.0.33.0/24"]),
        }
    }
}

/// Everything [`ThreeTierVpc::declare`] declared.
#[derive(Debug, Clone)]
pub struct ThreeTier {
    /// The VPC.
    pub vpc: Handle<Vpc>,
    /// The internet gateway.
    pub igw: Handle<InternetGateway>,
    /// Public subnets, by AZ.
    pub public: Vec<Handle<Subnet>>,
    /// App subnets, by AZ.
    pub app: Vec<Handle<Subnet>>,
    /// Data subnets, by AZ.
    pub data: Vec<Handle<Subnet>>,
    /// The NAT gateways' Elastic IPs, by AZ.
    pub nat_ips: Vec<Handle<ElasticIp>>,
    /// NAT gateways, by AZ.
    pub nat: Vec<Handle<NatGateway>>,
    /// The public route table.
    pub public_routes: Handle<RouteTable>,
    /// The private route tables, by AZ.
    pub private_routes: Vec<Handle<RouteTable>>,
}

impl ThreeTierVpc {
    /// Declares the layout, names prefixed with `prefix` (`shop-vpc`, `shop-public-a`, …,
    /// the AZ's letter as the suffix). Fewer or more subnet blocks than AZs is a
    /// declaration error.
    pub fn declare(&self, s: &mut Stack, prefix: &str) -> ThreeTier {
        let vpc = s.add(
            format!("{prefix}-vpc"),
            Vpc::new(self.cidr.clone())
                .dns_hostnames(true)
                .tag("Name", format!("{prefix}-vpc")),
        );
        for (field, blocks) in [
            ("public", &self.public),
            ("app", &self.app),
            ("data", &self.data),
        ] {
            if blocks.len() != self.azs.len() {
                s.invalid(
                    vpc.urn().clone(),
                    format!("three_tier.{field}"),
                    format!(
                        "{} {field} subnet blocks for {} availability zones",
                        blocks.len(),
                        self.azs.len()
                    ),
                );
            }
        }
        let igw = s.add(
            format!("{prefix}-igw"),
            InternetGateway::new(vpc.id()).tag("Name", format!("{prefix}-igw")),
        );
        let public_routes = s.add(
            format!("{prefix}-public-routes"),
            RouteTable::new(vpc.id()).tag("Name", format!("{prefix}-public")),
        );
        s.add(
            format!("{prefix}-public-default"),
            Route::new(
                public_routes.id(),
                "0.0.0.0/0",
                RouteTarget::gateway(igw.id()),
            ),
        );
        let mut out = ThreeTier {
            vpc: vpc.clone(),
            igw: igw.clone(),
            public: Vec::new(),
            app: Vec::new(),
            data: Vec::new(),
            nat_ips: Vec::new(),
            nat: Vec::new(),
            public_routes: public_routes.clone(),
            private_routes: Vec::new(),
        };
        for (k, az) in self.azs.iter().enumerate() {
            let tag = az
                .chars()
                .last()
                .map(String::from)
                .unwrap_or_else(|| k.to_string());
            let subnet = |s: &mut Stack, tier: &str, blocks: &[Cidr], public: bool| {
                blocks.get(k).map(|block| {
                    let name = format!("{prefix}-{tier}-{tag}");
                    s.add(
                        name.clone(),
                        Subnet::new(vpc.id(), block.clone(), az.clone())
                            .map_public_ip(public)
                            .tag("Name", name)
                            .tag("Tier", tier),
                    )
                })
            };
            let (Some(public), Some(app), Some(data)) = (
                subnet(s, "public", &self.public, true),
                subnet(s, "app", &self.app, false),
                subnet(s, "data", &self.data, false),
            ) else {
                continue;
            };
            s.add(
                format!("{prefix}-public-{tag}-routes"),
                RouteTableAssociation::new(public_routes.id(), public.id()),
            );
            // A public NAT gateway made before the internet gateway is attached goes
            // `failed`, and the gateway cannot be detached while their addresses are
            // mapped: both wait for it, and go before it.
            let after_igw = || ResourceOptions::new().depends_on(igw.urn().clone());
            let ip = s.add_with(
                format!("{prefix}-nat-{tag}-ip"),
                ElasticIp::new().tag("Name", format!("{prefix}-nat-{tag}")),
                after_igw(),
            );
            let nat = s.add_with(
                format!("{prefix}-nat-{tag}"),
                NatGateway::public(public.id(), ip.id()).tag("Name", format!("{prefix}-nat-{tag}")),
                after_igw(),
            );
            let private = s.add(
                format!("{prefix}-private-{tag}-routes"),
                RouteTable::new(vpc.id()).tag("Name", format!("{prefix}-private-{tag}")),
            );
            s.add(
                format!("{prefix}-private-{tag}-default"),
                Route::new(
                    private.id(),
                    "0.0.0.0/0",
                    RouteTarget::nat_gateway(nat.id()),
                ),
            );
            s.add(
                format!("{prefix}-app-{tag}-routes"),
                RouteTableAssociation::new(private.id(), app.id()),
            );
            s.add(
                format!("{prefix}-data-{tag}-routes"),
                RouteTableAssociation::new(private.id(), data.id()),
            );
            out.public.push(public);
            out.app.push(app);
            out.data.push(data);
            out.nat_ips.push(ip);
            out.nat.push(nat);
            out.private_routes.push(private);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nat_gateways_and_their_addresses_come_after_the_internet_gateway() {
        let mut s = Stack::new("dev");
        ThreeTierVpc::default().declare(&mut s, "shop");
        let st = s.seal().unwrap_or_else(|e| panic!("{e}"));
        let index = |name: &str| {
            st.nodes()
                .iter()
                .position(|n| n.name() == name)
                .unwrap_or_else(|| panic!("no {name}"))
        };
        let igw = index("shop-igw");
        let mut checked = 0;
        for (i, n) in st.nodes().iter().enumerate() {
            if n.name().starts_with("shop-nat-") {
                assert!(
                    st.deps(i).contains(&igw),
                    "{} does not wait for the gateway",
                    n.name()
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 4, "two NAT gateways and their two addresses");
    }
}
