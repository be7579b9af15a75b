//! Contract tests of the network types against the local AWS (moto): create then read
//! equals the declaration, in-place updates, replacements, out-of-band drift reported by
//! refresh, delete, recovery of an interrupted create by its token tag, and the
//! declaration checks (which make no call at all).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, Tag};
use strata_core::aws::Aws;
use strata_core::plan::Op;
use strata_core::{Context, ResourceOptions, Stack};
use strata_network::*;
use strata_testkit::LocalAws;

use strata_testkit::Harness as Env;

fn ec2(e: &Env) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&e.conf)
}

async fn env(stack: &str) -> Env {
    Env::new(stack, strata_network::register).await
}

fn tags(t: &[Tag]) -> BTreeMap<String, String> {
    t.iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect()
}

async fn vpc_hostnames(ec2: &aws_sdk_ec2::Client, id: &str) -> bool {
    ec2.describe_vpc_attribute()
        .vpc_id(id)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap()
        .enable_dns_hostnames()
        .unwrap()
        .value()
        .unwrap()
}

#[tokio::test]
async fn vpc_create_read_update_replace_drift_delete() {
    let e = env("vpc-contract").await;
    let st = e.stack(|s| {
        s.add(
            "vpc",
            Vpc::new("10.1.0.0/16")
                .dns_hostnames(true)
                .tag("env", "dev"),
        );
    });
    e.up(&st).await;
    let id = e.id("vpc").await;
    let live = ec2(&e).describe_vpcs().vpc_ids(&id).send().await.unwrap();
    let v = &live.vpcs()[0];
    assert_eq!(v.cidr_block(), Some("10.1.0.0/16"));
    let t = tags(v.tags());
    assert_eq!(t["env"], "dev");
    assert_eq!(t["strata:stack"], "vpc-contract");
    assert!(t["strata:urn"].ends_with("::vpc"));
    assert!(t.contains_key("strata:token"));
    assert!(vpc_hostnames(&ec2(&e), &id).await);
    // Read equals the declaration: nothing drifted.
    assert!(e.drift().await.is_empty());

    // In place: host names off, a tag changed.
    let st = e.stack(|s| {
        s.add("vpc", Vpc::new("10.1.0.0/16").tag("env", "prod"));
    });
    assert_eq!(e.ops(&st).await["vpc"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("vpc").await, id);
    assert!(!vpc_hostnames(&ec2(&e), &id).await);

    // Out-of-band drift, reported by refresh, then put back by up.
    ec2(&e)
        .modify_vpc_attribute()
        .vpc_id(&id)
        .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["vpc"], vec!["enable_dns_hostnames"]);
    e.up(&st).await;
    assert!(!vpc_hostnames(&ec2(&e), &id).await);

    // A new block replaces it.
    let st = e.stack(|s| {
        s.add("vpc", Vpc::new("10.2.0.0/16").tag("env", "prod"));
    });
    assert_eq!(e.ops(&st).await["vpc"], Op::Replace);
    e.up(&st).await;
    let new_id = e.id("vpc").await;
    assert_ne!(new_id, id);
    assert!(ec2(&e).describe_vpcs().vpc_ids(&id).send().await.is_err());

    e.destroy().await;
    assert!(ec2(&e)
        .describe_vpcs()
        .vpc_ids(&new_id)
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn declaration_errors_name_the_resource_and_field_and_call_nothing() {
    let mut s = Stack::new("bad-network");
    let vpc = s.add("vpc", Vpc::new("10.0.0.0/33"));
    let ok_vpc = s.add("vpc2", Vpc::new("10.9.0.0/16"));
    s.add(
        "outside",
        Subnet::new(ok_vpc.id(), "10.8.1.0/24", "eu-central-1a"),
    );
    s.add(
        "a",
        Subnet::new(ok_vpc.id(), "10.9.0.0/24", "eu-central-1a"),
    );
    s.add(
        "overlaps-a",
        Subnet::new(ok_vpc.id(), "10.9.0.128/25", "eu-central-1b"),
    );
    s.add(
        "host-bits",
        Subnet::new(vpc.id(), "10.0.1.5/24", "eu-central-1a"),
    );
    s.add("no-az", Subnet::new(vpc.id(), "10.0.2.0/24", "eu"));
    let sg = s.add("sg", SecurityGroup::new("sg-bad", "x", ok_vpc.id()));
    s.add(
        "port",
        SecurityGroupRule::ingress(sg.id())
            .tcp(0)
            .from_cidr("0.0.0.0/0"),
    );
    s.add(
        "range",
        SecurityGroupRule::ingress(sg.id())
            .tcp_range(443, 80)
            .from_cidr("0.0.0.0/0"),
    );
    let ip = s.add("ip", ElasticIp::new());
    let public = s.add(
        "pub",
        Subnet::new(ok_vpc.id(), "10.9.1.0/24", "eu-central-1a"),
    );
    s.add("nat", NatGateway::private(public.id()));
    let mut public_nat = NatGateway::public(public.id(), ip.id());
    public_nat.allocation_id = None;
    s.add("nat-no-ip", public_nat);
    s.add(
        "flow",
        FlowLog::to_s3(ok_vpc.id(), "my-bucket").aggregation_interval(300),
    );
    let err = s.seal().unwrap_err().to_string();
    for expected in [
        "::vpc: field `cidr_block`: \"10.0.0.0/33\" is not an IPv4 CIDR block",
        "::outside: field `cidr_block`: 10.8.1.0/24 is not inside the VPC's block 10.9.0.0/16",
        "::overlaps-a: field `cidr_block`: 10.9.0.128/25 overlaps 10.9.0.0/24 of a",
        "::host-bits: field `cidr_block`: \"10.0.1.5/24\" has host bits set",
        "::no-az: field `availability_zone`",
        "::sg: field `name`: a group name cannot start with sg-",
        "::port: field `from_port`: 0 is outside 1-65535",
        "::range: field `to_port`: the range 443-80 ends before it starts",
        "::nat-no-ip: field `allocation_id`: a public NAT gateway needs an Elastic IP",
        "::flow: field `max_aggregation_interval`: 300 seconds",
        "::flow: field `destination.s3.bucket_arn`",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    // A private NAT gateway without an address is fine.
    assert!(!err.contains("::nat: field"), "{err}");
    // Sealing is pure: nothing of this stack reached AWS.
    let ec2 = aws_sdk_ec2::Client::new(&LocalAws::shared().sdk_config().await);
    let found = ec2
        .describe_vpcs()
        .filters(
            Filter::builder()
                .name("tag:strata:stack")
                .values("bad-network")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(found.vpcs().is_empty());
}

#[tokio::test]
async fn subnet_gateways_routes_and_associations() {
    let e = env("routing-contract").await;
    let build = |public_ip: bool, to_nat: bool, igw_tag: &'static str| {
        move |s: &mut Stack| {
            let vpc = s.add("vpc", Vpc::new("10.3.0.0/16"));
            let public = s.add(
                "public",
                Subnet::new(vpc.id(), "10.3.1.0/24", "eu-central-1a").map_public_ip(public_ip),
            );
            let private = s.add(
                "private",
                Subnet::new(vpc.id(), "10.3.2.0/24", "eu-central-1a"),
            );
            let igw = s.add("igw", InternetGateway::new(vpc.id()).tag("t", igw_tag));
            let after_igw = || ResourceOptions::new().depends_on(igw.urn().clone());
            let ip = s.add_with("ip", ElasticIp::new(), after_igw());
            let nat = s.add_with("nat", NatGateway::public(public.id(), ip.id()), after_igw());
            let rt = s.add("rt", RouteTable::new(vpc.id()));
            let other = s.add("other-rt", RouteTable::new(vpc.id()));
            let target = if to_nat {
                RouteTarget::nat_gateway(nat.id())
            } else {
                RouteTarget::gateway(igw.id())
            };
            s.add("default", Route::new(rt.id(), "0.0.0.0/0", target));
            let table = if to_nat { other.id() } else { rt.id() };
            s.add("assoc", RouteTableAssociation::new(table, private.id()));
        }
    };
    let st = e.stack(build(true, false, "a"));
    e.up(&st).await;
    let (vpc, subnet, igw, nat, ip, rt) = (
        e.id("vpc").await,
        e.id("public").await,
        e.id("igw").await,
        e.id("nat").await,
        e.id("ip").await,
        e.id("rt").await,
    );
    let s = ec2(&e)
        .describe_subnets()
        .subnet_ids(&subnet)
        .send()
        .await
        .unwrap();
    let s = &s.subnets()[0];
    assert_eq!(
        (
            s.vpc_id(),
            s.cidr_block(),
            s.availability_zone(),
            s.map_public_ip_on_launch()
        ),
        (
            Some(vpc.as_str()),
            Some("10.3.1.0/24"),
            Some("eu-central-1a"),
            Some(true)
        )
    );
    let g = ec2(&e)
        .describe_internet_gateways()
        .internet_gateway_ids(&igw)
        .send()
        .await
        .unwrap();
    assert_eq!(
        g.internet_gateways()[0].attachments()[0].vpc_id(),
        Some(vpc.as_str())
    );
    let n = ec2(&e)
        .describe_nat_gateways()
        .nat_gateway_ids(&nat)
        .send()
        .await
        .unwrap();
    let n = &n.nat_gateways()[0];
    assert_eq!(n.state().map(|s| s.as_str()), Some("available"));
    assert_eq!(
        n.nat_gateway_addresses()[0].allocation_id(),
        Some(ip.as_str())
    );
    let t = ec2(&e)
        .describe_route_tables()
        .route_table_ids(&rt)
        .send()
        .await
        .unwrap();
    let t = &t.route_tables()[0];
    let default = t
        .routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
        .unwrap();
    assert_eq!(default.gateway_id(), Some(igw.as_str()));
    assert_eq!(e.id("default").await, format!("{rt}_0.0.0.0/0"));
    let private = e.id("private").await;
    assert!(t
        .associations()
        .iter()
        .any(|a| a.subnet_id() == Some(private.as_str())));
    assert!(e.drift().await.is_empty());

    // In place: the subnet stops mapping public IPs, the IGW's tag changes, the route
    // goes to the NAT gateway (ReplaceRoute), the subnet moves to the other table
    // (ReplaceRouteTableAssociation).
    let st = e.stack(build(false, true, "b"));
    let ops = e.ops(&st).await;
    for name in ["public", "igw", "default", "assoc"] {
        assert_eq!(ops[name], Op::Update, "{name}: {ops:?}");
    }
    e.up(&st).await;
    assert_eq!(e.id("public").await, subnet);
    let t = ec2(&e)
        .describe_route_tables()
        .route_table_ids(&rt)
        .send()
        .await
        .unwrap();
    let default = t.route_tables()[0]
        .routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
        .cloned()
        .unwrap();
    assert_eq!(default.nat_gateway_id(), Some(nat.as_str()));
    let other = e.id("other-rt").await;
    let t = ec2(&e)
        .describe_route_tables()
        .route_table_ids(&other)
        .send()
        .await
        .unwrap();
    assert!(t.route_tables()[0]
        .associations()
        .iter()
        .any(|a| a.subnet_id() == Some(private.as_str())));

    // Drift made out of band: the subnet maps public IPs again, a tag on the gateway.
    ec2(&e)
        .modify_subnet_attribute()
        .subnet_id(&subnet)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .unwrap();
    ec2(&e)
        .create_tags()
        .resources(&igw)
        .tags(Tag::builder().key("t").value("changed").build())
        .send()
        .await
        .unwrap();
    let drift = e.drift().await;
    assert_eq!(drift["public"], vec!["map_public_ip_on_launch"]);
    assert_eq!(drift["igw"], vec!["tags.t"]);
    assert_eq!(drift.len(), 2, "{drift:?}");

    // A new block replaces the subnet (and what sits in it).
    let st = e.stack(|s| {
        build(false, true, "b")(s);
    });
    e.up(&st).await;
    e.destroy().await;
    assert!(ec2(&e)
        .describe_subnets()
        .subnet_ids(&subnet)
        .send()
        .await
        .is_err());
    assert!(ec2(&e).describe_vpcs().vpc_ids(&vpc).send().await.is_err());
    let n = ec2(&e)
        .describe_nat_gateways()
        .nat_gateway_ids(&nat)
        .send()
        .await
        .unwrap();
    assert!(n
        .nat_gateways()
        .iter()
        .all(|g| g.state().map(|s| s.as_str()) == Some("deleted")));
    assert!(ec2(&e)
        .describe_addresses()
        .allocation_ids(&ip)
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn security_groups_and_rules_referencing_each_other() {
    let e = env("sg-contract").await;
    let build = |port: i32, desc: &'static str, from_group: bool| {
        move |s: &mut Stack| {
            let vpc = s.add("vpc", Vpc::new("10.4.0.0/16"));
            let alb = s.add("alb", SecurityGroup::new("alb", "load balancer", vpc.id()));
            let app = s.add(
                "app",
                SecurityGroup::new("app", "app servers", vpc.id()).revoke_default_egress(),
            );
            s.add(
                "alb-https",
                SecurityGroupRule::ingress(alb.id())
                    .tcp(443)
                    .from_cidr("0.0.0.0/0"),
            );
            let rule = SecurityGroupRule::ingress(app.id()).tcp(port);
            // (moto does not report the description of a rule that refers to a group.)
            let rule = if from_group {
                rule.from_group(alb.id())
            } else {
                rule.from_cidr("10.4.0.0/16").description(desc)
            };
            s.add("app-from-alb", rule);
            s.add(
                "app-out",
                SecurityGroupRule::egress(app.id())
                    .tcp(443)
                    .to_cidr("0.0.0.0/0"),
            );
        }
    };
    let st = e.stack(build(8080, "from the ALB", true));
    e.up(&st).await;
    let (alb, app, rule) = (
        e.id("alb").await,
        e.id("app").await,
        e.id("app-from-alb").await,
    );
    let g = ec2(&e)
        .describe_security_groups()
        .group_ids(&app)
        .send()
        .await
        .unwrap();
    let g = &g.security_groups()[0];
    assert_eq!(
        (g.group_name(), g.description()),
        (Some("app"), Some("app servers"))
    );
    // Only the declared egress rule: AWS's allow-all one was revoked.
    assert_eq!(
        g.ip_permissions_egress().len(),
        1,
        "{:?}",
        g.ip_permissions_egress()
    );
    let r = ec2(&e)
        .describe_security_group_rules()
        .filters(
            Filter::builder()
                .name("security-group-rule-id")
                .values(&rule)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let r = &r.security_group_rules()[0];
    assert_eq!(
        (r.from_port(), r.to_port(), r.ip_protocol()),
        (Some(8080), Some(8080), Some("tcp"))
    );
    assert_eq!(
        r.referenced_group_info().and_then(|g| g.group_id()),
        Some(alb.as_str())
    );
    let drift = e.drift().await;
    assert!(drift.is_empty(), "{drift:?}");

    // The port in place (ModifySecurityGroupRules); same rule id.
    let st = e.stack(build(8443, "TLS from the ALB", true));
    assert_eq!(e.ops(&st).await["app-from-alb"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("app-from-alb").await, rule);
    // Switching the source from a group to a CIDR replaces the rule.
    let st = e.stack(build(8443, "TLS from the VPC", false));
    assert_eq!(e.ops(&st).await["app-from-alb"], Op::Replace);
    e.up(&st).await;
    let cidr_rule = e.id("app-from-alb").await;
    assert_ne!(cidr_rule, rule);
    // The description in place.
    let st = e.stack(build(8443, "TLS from the whole VPC", false));
    assert_eq!(e.ops(&st).await["app-from-alb"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("app-from-alb").await, cidr_rule);
    e.destroy().await;
    assert!(ec2(&e)
        .describe_security_groups()
        .group_ids(&app)
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn flow_logs_to_s3() {
    let e = env("flow-contract").await;
    let conf = LocalAws::shared().sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("flow-logs-contract")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuCentral1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let build = |tag: &'static str, interval: i32| {
        move |s: &mut Stack| {
            let vpc = s.add("vpc", Vpc::new("10.5.0.0/16"));
            s.add(
                "flow",
                // (moto takes a folder in the ARN for part of the bucket name, so none.)
                FlowLog::to_s3(vpc.id(), "arn:aws:s3:::flow-logs-contract")
                    .aggregation_interval(interval)
                    .tag("t", tag),
            );
        }
    };
    e.up(&e.stack(build("a", 600))).await;
    let id = e.id("flow").await;
    let f = ec2(&e)
        .describe_flow_logs()
        .flow_log_ids(&id)
        .send()
        .await
        .unwrap();
    let f = &f.flow_logs()[0];
    assert_eq!(f.log_destination(), Some("arn:aws:s3:::flow-logs-contract"));
    assert_eq!(f.resource_id(), Some(e.id("vpc").await.as_str()));
    assert!(e.drift().await.is_empty());
    let st = e.stack(build("b", 600));
    assert_eq!(e.ops(&st).await["flow"], Op::Update);
    e.up(&st).await;
    let st = e.stack(build("b", 60));
    assert_eq!(e.ops(&st).await["flow"], Op::Replace);
    e.up(&st).await;
    assert_ne!(e.id("flow").await, id);
    e.destroy().await;
    let left = ec2(&e)
        .describe_flow_logs()
        .flow_log_ids(&id)
        .send()
        .await
        .unwrap();
    assert!(left.flow_logs().is_empty());
}

#[tokio::test]
async fn an_interrupted_create_is_found_again_by_its_token() {
    use strata_core::resource::{Cx, Recovery, Resource};
    let conf = LocalAws::shared().sdk_config().await;
    let ctx = Context::new().with(Aws::new(conf));
    let urn = strata_core::Urn::new("recover", Vpc::TYPE, "vpc");
    let args = Vpc::new("10.6.0.0/16");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-recover-vpc",
    };
    assert!(matches!(
        Vpc::recover(&cx, &args).await.unwrap(),
        Recovery::Absent
    ));
    let made = Vpc::create(&cx, &args).await.unwrap();
    let Recovery::Found(found) = Vpc::recover(&cx, &args).await.unwrap() else {
        panic!("not found by token");
    };
    assert_eq!(found.id, made.id);
    // Another create's token does not find it.
    let other = Cx {
        token: "another",
        ..cx.clone()
    };
    assert!(matches!(
        Vpc::recover(&other, &args).await.unwrap(),
        Recovery::Absent
    ));
    Vpc::delete(&cx, &made.id, &args, &made.outputs)
        .await
        .unwrap();
    assert!(Vpc::read(&cx, &made.id, None).await.unwrap().is_none());
    // Deleting again is fine.
    Vpc::delete(&cx, &made.id, &args, &made.outputs)
        .await
        .unwrap();
}

#[tokio::test]
async fn tags_change_in_place_and_replacing_fields_replace() {
    let e = env("network-tags").await;
    let build = |tag: &'static str, sg_name: &'static str, second_vpc: bool| {
        move |s: &mut Stack| {
            let vpc = s.add("vpc", Vpc::new("10.7.0.0/16"));
            let other = s.add("other-vpc", Vpc::new("10.8.0.0/16"));
            let third = s.add("third-vpc", Vpc::new("10.9.0.0/16"));
            let subnet = s.add(
                "subnet",
                Subnet::new(vpc.id(), "10.7.1.0/24", "eu-central-1a").tag("t", tag),
            );
            // The NAT gateway's VPC keeps its own internet gateway (a public NAT gateway
            // needs one); the one that moves goes between two others.
            let nat_igw = s.add("nat-igw", InternetGateway::new(vpc.id()));
            let igw_vpc = if second_vpc { other.id() } else { third.id() };
            s.add("igw", InternetGateway::new(igw_vpc));
            let after_igw = || ResourceOptions::new().depends_on(nat_igw.urn().clone());
            let ip = s.add_with("ip", ElasticIp::new().tag("t", tag), after_igw());
            s.add_with(
                "nat",
                NatGateway::public(subnet.id(), ip.id()).tag("t", tag),
                after_igw(),
            );
            s.add("rt", RouteTable::new(vpc.id()).tag("t", tag));
            s.add(
                "sg",
                SecurityGroup::new(sg_name, "tags test", vpc.id()).tag("t", tag),
            );
        }
    };
    e.up(&e.stack(build("a", "tags-a", false))).await;
    let ids: BTreeMap<&str, String> = ids_of(&e, &["ip", "nat", "rt", "sg", "igw", "subnet"]).await;
    let st = e.stack(build("b", "tags-a", true));
    let ops = e.ops(&st).await;
    for name in ["ip", "nat", "rt", "sg", "igw", "subnet"] {
        assert_eq!(ops[name], Op::Update, "{name}: {ops:?}");
    }
    e.up(&st).await;
    for (name, id) in &ids {
        assert_eq!(&e.id(name).await, id, "{name} kept its id");
    }
    let tagged = |t: &[Tag]| tags(t).get("t").cloned();
    let o = ec2(&e)
        .describe_addresses()
        .allocation_ids(&ids["ip"])
        .send()
        .await
        .unwrap();
    assert_eq!(tagged(o.addresses()[0].tags()), Some("b".into()));
    let o = ec2(&e)
        .describe_nat_gateways()
        .nat_gateway_ids(&ids["nat"])
        .send()
        .await
        .unwrap();
    assert_eq!(tagged(o.nat_gateways()[0].tags()), Some("b".into()));
    let o = ec2(&e)
        .describe_route_tables()
        .route_table_ids(&ids["rt"])
        .send()
        .await
        .unwrap();
    assert_eq!(tagged(o.route_tables()[0].tags()), Some("b".into()));
    let o = ec2(&e)
        .describe_security_groups()
        .group_ids(&ids["sg"])
        .send()
        .await
        .unwrap();
    assert_eq!(tagged(o.security_groups()[0].tags()), Some("b".into()));
    // The gateway moved to the other VPC (detach, attach).
    let other = e.id("other-vpc").await;
    let o = ec2(&e)
        .describe_internet_gateways()
        .internet_gateway_ids(&ids["igw"])
        .send()
        .await
        .unwrap();
    assert_eq!(
        o.internet_gateways()[0].attachments()[0].vpc_id(),
        Some(other.as_str())
    );
    // A new group name replaces the group.
    let st = e.stack(build("b", "tags-b", true));
    assert_eq!(e.ops(&st).await["sg"], Op::Replace);
    e.up(&st).await;
    assert_ne!(e.id("sg").await, ids["sg"]);
    e.destroy().await;
}

async fn ids_of<'a>(e: &Env, names: &[&'a str]) -> BTreeMap<&'a str, String> {
    let mut out = BTreeMap::new();
    for n in names {
        out.insert(*n, e.id(n).await);
    }
    out
}

#[tokio::test]
async fn flow_logs_to_cloudwatch_logs() {
    let e = env("flow-cw-contract").await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&LocalAws::shared().sdk_config().await);
    logs.create_log_group()
        .log_group_name("/shop/vpc-flow-logs")
        .send()
        .await
        .unwrap();
    let st = e.stack(|s| {
        let vpc = s.add("vpc", Vpc::new("10.9.0.0/16"));
        s.add(
            "flow",
            FlowLog::to_cloudwatch(
                vpc.id(),
                "/shop/vpc-flow-logs",
                "arn:aws:iam::123456789012:role/flow-logs",
            )
            .traffic(Traffic::Reject),
        );
    });
    e.up(&st).await;
    let id = e.id("flow").await;
    let f = ec2(&e)
        .describe_flow_logs()
        .flow_log_ids(&id)
        .send()
        .await
        .unwrap();
    let f = &f.flow_logs()[0];
    assert_eq!(f.log_group_name(), Some("/shop/vpc-flow-logs"));
    assert_eq!(f.traffic_type().map(|t| t.as_str()), Some("REJECT"));
    assert_eq!(
        f.deliver_logs_permission_arn(),
        Some("arn:aws:iam::123456789012:role/flow-logs")
    );
    assert!(e.drift().await.is_empty());
    e.destroy().await;
}

#[tokio::test]
async fn every_replacing_field_replaces() {
    let e = env("network-replace").await;
    let build = |v: u8| {
        move |s: &mut Stack| {
            let vpc = s.add("vpc", Vpc::new("10.10.0.0/16"));
            let other = s.add("other", Vpc::new("10.11.0.0/16"));
            let third = s.add("third", Vpc::new("10.12.0.0/16"));
            let a = s.add("a", Subnet::new(vpc.id(), "10.10.1.0/24", "eu-central-1a"));
            let b = s.add("b", Subnet::new(vpc.id(), "10.10.2.0/24", "eu-central-1b"));
            // The NAT gateways' VPC keeps its own internet gateway (without one, AWS
            // fails a public NAT gateway); the one that moves goes between two others.
            let nat_igw = s.add("nat-igw", InternetGateway::new(vpc.id()));
            let (subnet, table_vpc, dest) = if v == 0 {
                (a.id(), third.id(), "0.0.0.0/0")
            } else {
                (b.id(), other.id(), "10.20.0.0/16")
            };
            let igw = s.add("igw", InternetGateway::new(table_vpc.clone()));
            let rt = s.add("rt", RouteTable::new(table_vpc));
            s.add(
                "route",
                Route::new(rt.id(), dest, RouteTarget::gateway(igw.id())),
            );
            // (The replacement takes another address here. It could keep the same: the
            // old gateway is deleted first, which frees its address.)
            let after_igw = || ResourceOptions::new().depends_on(nat_igw.urn().clone());
            let ip = s.add_with(
                if v == 0 { "ip" } else { "ip-2" },
                ElasticIp::new(),
                after_igw(),
            );
            s.add_with(
                "nat",
                NatGateway::public(subnet.clone(), ip.id()),
                after_igw(),
            );
            let table = s.add("assoc-rt", RouteTable::new(vpc.id()));
            s.add("assoc", RouteTableAssociation::new(table.id(), subnet));
        }
    };
    e.up(&e.stack(build(0))).await;
    let before: BTreeMap<&str, String> = ids_of(&e, &["rt", "route", "nat", "assoc"]).await;
    let st = e.stack(build(1));
    let ops = e.ops(&st).await;
    for name in ["rt", "route", "nat", "assoc"] {
        assert_eq!(ops[name], Op::Replace, "{name}: {ops:?}");
    }
    e.up(&st).await;
    for (name, id) in &before {
        assert_ne!(&e.id(name).await, id, "{name} was replaced");
    }
    // The old ones are gone.
    assert!(ec2(&e)
        .describe_route_tables()
        .route_table_ids(&before["rt"])
        .send()
        .await
        .is_err());
    let n = ec2(&e)
        .describe_nat_gateways()
        .nat_gateway_ids(&before["nat"])
        .send()
        .await
        .unwrap();
    assert_eq!(
        n.nat_gateways()[0].state().map(|s| s.as_str()),
        Some("deleted")
    );
    e.destroy().await;
}

/// An id made with a raw SDK call, as the tests' "somebody else" makes things.
async fn raw_vpc_and_subnet(ec2: &aws_sdk_ec2::Client, block: u8) -> (String, String) {
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{block}.0.0/16"))
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_owned();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block(format!("10.{block}.1.0/24"))
        .availability_zone("eu-central-1a")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_owned();
    (vpc, subnet)
}

/// An internet gateway made and attached to `vpc` outside strata.
async fn raw_attached_igw(ec2: &aws_sdk_ec2::Client, vpc: &str) -> String {
    let igw = ec2
        .create_internet_gateway()
        .send()
        .await
        .unwrap()
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_owned();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(vpc)
        .send()
        .await
        .unwrap();
    igw
}

/// The target of the route for `destination` in `table`: (gateway, network interface).
async fn route_target(
    ec2: &aws_sdk_ec2::Client,
    table: &str,
    destination: &str,
) -> Option<(Option<String>, Option<String>)> {
    let t = ec2
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .unwrap();
    t.route_tables()[0]
        .routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some(destination))
        .map(|r| {
            (
                r.gateway_id().map(str::to_owned),
                r.network_interface_id().map(str::to_owned),
            )
        })
}

/// Routes have no tags: a route of the declared table and destination that goes
/// somewhere else is somebody else's. `up` reports the conflict and changes nothing,
/// `destroy` leaves it, and recovery adopts only a route whose target is the declared one.
#[tokio::test]
async fn a_route_with_another_target_is_not_taken_over() {
    use strata_core::resource::{Cx, Recovery, Resource};
    let e = env("route-ownership").await;
    let ec2 = ec2(&e);
    let (vpc, subnet) = raw_vpc_and_subnet(&ec2, 12).await;
    let igw = raw_attached_igw(&ec2, &vpc).await;
    let table = ec2
        .create_route_table()
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_owned();
    let eni = ec2
        .create_network_interface()
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap()
        .network_interface()
        .unwrap()
        .network_interface_id()
        .unwrap()
        .to_owned();
    // Somebody else's default route: to a network interface.
    ec2.create_route()
        .route_table_id(&table)
        .destination_cidr_block("0.0.0.0/0")
        .network_interface_id(&eni)
        .send()
        .await
        .unwrap();
    let theirs = Some((None, Some(eni.clone())));
    assert_eq!(route_target(&ec2, &table, "0.0.0.0/0").await, theirs);

    // The stack declares the default route of that table to the internet gateway.
    let st = e.stack(|s| {
        s.add(
            "default",
            Route::new(
                table.clone(),
                "0.0.0.0/0",
                RouteTarget::gateway(igw.clone()),
            ),
        );
    });
    let err = e.up_conflict(&st, "default").await;
    assert!(err.contains("already exists"), "{err}");
    // Not replaced (no ReplaceRoute), not adopted.
    assert_eq!(route_target(&ec2, &table, "0.0.0.0/0").await, theirs);
    e.destroy().await;
    assert_eq!(route_target(&ec2, &table, "0.0.0.0/0").await, theirs);

    // Recovery, asked directly: another target is not ours; the same table, destination
    // and target is all a route can show, and is adopted.
    let ctx = Context::new().with(Aws::new(e.conf.clone()));
    let urn = strata_core::Urn::new("route-ownership", Route::TYPE, "default");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-route-recover",
    };
    let to_igw = Route::new(
        table.clone(),
        "0.0.0.0/0",
        RouteTarget::gateway(igw.clone()),
    );
    assert!(matches!(
        Route::recover(&cx, &to_igw).await.unwrap(),
        Recovery::Absent
    ));
    let to_eni = Route::new(
        table.clone(),
        "0.0.0.0/0",
        RouteTarget::NetworkInterfaceId(eni.clone().into()),
    );
    let Recovery::Resembles(found) = Route::recover(&cx, &to_eni).await.unwrap() else {
        panic!("a route equal in table, destination and target was not recovered");
    };
    assert_eq!(found.id, format!("{table}_0.0.0.0/0"));
    // Another destination: nothing there.
    let elsewhere = Route::new(
        table.clone(),
        "10.99.0.0/16",
        RouteTarget::NetworkInterfaceId(eni.clone().into()),
    );
    assert!(matches!(
        Route::recover(&cx, &elsewhere).await.unwrap(),
        Recovery::Absent
    ));
}

/// A NAT gateway whose create was interrupted (made, never recorded) is found again by
/// its create's token, in whatever order the region lists gateways, and by nothing else;
/// the create repeated with the same token answers the same gateway (EC2 `ClientToken`);
/// another create for the same Elastic IP is the conflict; a deleted gateway is nobody's.
#[tokio::test]
async fn an_interrupted_nat_gateway_create_is_found_by_its_token_only() {
    use aws_sdk_ec2::types::{DomainType, ResourceType, TagSpecification};
    use strata_core::resource::{Cx, Recovery, Resource};
    use strata_core::ProviderError;
    let e = env("nat-ownership").await;
    let ec2 = ec2(&e);
    let (vpc, subnet) = raw_vpc_and_subnet(&ec2, 13).await;
    // A public NAT gateway needs the VPC's internet gateway (without, AWS fails it).
    raw_attached_igw(&ec2, &vpc).await;
    let mut ips = Vec::new();
    for _ in 0..2 {
        ips.push(
            ec2.allocate_address()
                .domain(DomainType::Vpc)
                .send()
                .await
                .unwrap()
                .allocation_id()
                .unwrap()
                .to_owned(),
        );
    }
    let ctx = Context::new().with(Aws::new(e.conf.clone()));
    let urn = strata_core::Urn::new("nat-ownership", NatGateway::TYPE, "nat");
    let cx = |token: &'static str| Cx {
        context: &ctx,
        urn: &urn,
        token,
    };
    // Another resource's gateway, listed before ours.
    let decoy_args = NatGateway::public(subnet.clone(), ips[1].clone());
    let decoy = NatGateway::create(&cx("tok-nat-decoy"), &decoy_args)
        .await
        .unwrap();

    // What a create killed after its call leaves: the gateway, made with the token as
    // ClientToken and as the strata:token tag, and nothing in state.
    let args = NatGateway::public(subnet.clone(), ips[0].clone());
    let made = ec2
        .create_nat_gateway()
        .subnet_id(&subnet)
        .allocation_id(&ips[0])
        .connectivity_type(aws_sdk_ec2::types::ConnectivityType::Public)
        .client_token("tok-nat-1")
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Natgateway)
                .tags(
                    Tag::builder()
                        .key("strata:token")
                        .value("tok-nat-1")
                        .build(),
                )
                .tags(
                    Tag::builder()
                        .key("strata:urn")
                        .value(urn.to_string())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_owned();
    let Recovery::Found(found) = NatGateway::recover(&cx("tok-nat-1"), &args).await.unwrap() else {
        panic!("the gateway made with tok-nat-1 was not recovered");
    };
    assert_eq!(found.id, made);
    assert_ne!(found.id, decoy.id);
    // Another token finds neither gateway.
    assert!(matches!(
        NatGateway::recover(&cx("tok-nat-other"), &args)
            .await
            .unwrap(),
        Recovery::Absent
    ));
    // The create repeated with the killed create's token is the same gateway.
    let again = NatGateway::create(&cx("tok-nat-1"), &args).await.unwrap();
    assert_eq!(again.id, made);
    // A create with another token for the same address is the conflict.
    assert!(matches!(
        NatGateway::create(&cx("tok-nat-2"), &args).await,
        Err(ProviderError::AlreadyExists { .. })
    ));
    assert!(matches!(
        NatGateway::recover(&cx("tok-nat-2"), &args).await.unwrap(),
        Recovery::Absent
    ));
    // Through the engine: the address is held by a gateway this stack did not make.
    let st = e.stack(|s| {
        s.add("nat", NatGateway::public(subnet.clone(), ips[0].clone()));
    });
    e.up_conflict(&st, "nat").await;
    let live = ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&made)
        .send()
        .await
        .unwrap();
    assert_eq!(
        live.nat_gateways()[0].state().map(|s| s.as_str()),
        Some("available")
    );

    // Deleted, it is nobody's (and its address is free again).
    NatGateway::delete(&cx("tok-nat-1"), &made, &args, &found.outputs)
        .await
        .unwrap();
    assert!(matches!(
        NatGateway::recover(&cx("tok-nat-1"), &args).await.unwrap(),
        Recovery::Absent
    ));
    let a = ec2
        .describe_addresses()
        .allocation_ids(&ips[0])
        .send()
        .await
        .unwrap();
    assert_eq!(a.addresses()[0].association_id(), None);
    NatGateway::delete(&cx("tok-nat-decoy"), &decoy.id, &decoy_args, &decoy.outputs)
        .await
        .unwrap();
    for ip in &ips {
        ec2.release_address()
            .allocation_id(ip)
            .send()
            .await
            .unwrap();
    }
}

/// Names and identities taken by resources this stack did not make: a security group
/// name in the VPC, a rule the group has already (AWS's allow-all egress), a subnet's
/// association. Each create fails naming the conflict, nothing is adopted or changed, and
/// `destroy` leaves them.
#[tokio::test]
async fn taken_identities_are_refused_and_left_alone() {
    let e = env("network-taken").await;
    let ec2 = ec2(&e);
    let (vpc, subnet) = raw_vpc_and_subnet(&ec2, 14).await;
    let mut tables = Vec::new();
    for _ in 0..2 {
        tables.push(
            ec2.create_route_table()
                .vpc_id(&vpc)
                .send()
                .await
                .unwrap()
                .route_table()
                .unwrap()
                .route_table_id()
                .unwrap()
                .to_owned(),
        );
    }
    let theirs = ec2
        .associate_route_table()
        .route_table_id(&tables[0])
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap()
        .association_id()
        .unwrap()
        .to_owned();
    let group = ec2
        .create_security_group()
        .group_name("taken-sg")
        .description("somebody else's")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned();
    let st = e.stack(|s| {
        s.add(
            "sg",
            SecurityGroup::new("taken-sg", "the stack group", vpc.clone()),
        );
        let own = s.add(
            "own-sg",
            SecurityGroup::new("own-sg", "the stack group", vpc.clone()),
        );
        // AWS gave the new group this very rule.
        s.add("all-out", SecurityGroupRule::egress(own.id()));
        s.add(
            "assoc",
            RouteTableAssociation::new(tables[1].clone(), subnet.clone()),
        );
    });
    for name in ["sg", "all-out", "assoc"] {
        let err = e.up_conflict(&st, name).await;
        assert!(
            err.contains("Duplicate")
                || err.contains("already exists")
                || err.contains("existing association"),
            "{name}: {err}"
        );
    }
    let own = e.id("own-sg").await;
    let check = || async {
        let g = ec2
            .describe_security_groups()
            .group_ids(&group)
            .send()
            .await
            .unwrap();
        let g = &g.security_groups()[0];
        assert_eq!(g.description(), Some("somebody else's"));
        assert!(!tags(g.tags()).contains_key("strata:token"));
        let t = ec2
            .describe_route_tables()
            .route_table_ids(&tables[0])
            .send()
            .await
            .unwrap();
        assert!(t.route_tables()[0]
            .associations()
            .iter()
            .any(|a| a.route_table_association_id() == Some(theirs.as_str())
                && a.subnet_id() == Some(subnet.as_str())));
    };
    check().await;
    e.destroy().await;
    check().await;
    assert!(ec2
        .describe_security_groups()
        .group_ids(&own)
        .send()
        .await
        .is_err());
}
