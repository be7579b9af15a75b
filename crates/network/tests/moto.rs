//! Contract tests of the network types against the local AWS (moto): create then read
//! equals the declaration, in-place updates, replacements, out-of-band drift reported by
//! refresh, delete, recovery of an interrupted create by its token tag, and the
//! declaration checks (which make no call at all).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, Tag};
use strata_core::aws::Aws;
use strata_core::plan::Op;
use strata_core::{Context, Engine, MemoryBackend, Registry, RunOptions, SealedStack, Stack, State};
use strata_network::*;
use strata_testkit::LocalAws;

struct Env {
    engine: Engine,
    ec2: aws_sdk_ec2::Client,
    stack: String,
}

async fn env(stack: &str) -> Env {
    let conf = LocalAws::shared().sdk_config().await;
    let mut reg = Registry::new();
    strata_network::register(&mut reg);
    Env {
        engine: Engine::new(Arc::new(MemoryBackend::new()))
            .with_context(Context::new().with(Aws::new(conf.clone())))
            .with_registry(&reg),
        ec2: aws_sdk_ec2::Client::new(&conf),
        stack: stack.to_owned(),
    }
}

impl Env {
    fn stack(&self, build: impl FnOnce(&mut Stack)) -> SealedStack {
        let mut s = Stack::new(&self.stack);
        build(&mut s);
        s.seal().unwrap()
    }

    /// The planned op of each resource, by name.
    async fn ops(&self, st: &SealedStack) -> BTreeMap<String, Op> {
        self.engine
            .preview(st, &[])
            .await
            .unwrap()
            .steps
            .into_iter()
            .map(|s| (s.urn.name().to_owned(), s.op))
            .collect()
    }

    async fn up(&self, st: &SealedStack) {
        let sum = self.engine.up(st, &RunOptions::default()).await.unwrap();
        assert!(sum.is_success(), "{sum:?}");
        assert!(
            !self.engine.preview(st, &[]).await.unwrap().has_changes(),
            "a second up would change something"
        );
    }

    async fn state(&self) -> State {
        self.engine.load_state(&self.stack).await.unwrap()
    }

    async fn id(&self, name: &str) -> String {
        self.state()
            .await
            .resources
            .values()
            .find(|r| r.urn.name() == name)
            .map(|r| r.id.clone())
            .unwrap_or_else(|| panic!("{name} is not in state"))
    }

    async fn drift(&self) -> BTreeMap<String, Vec<String>> {
        let report = self
            .engine
            .refresh(&self.stack, &RunOptions::default())
            .await
            .unwrap();
        report
            .drift
            .into_iter()
            .map(|(u, c)| {
                (
                    u.name().to_owned(),
                    c.unwrap_or_default().into_iter().map(|c| c.path).collect(),
                )
            })
            .collect()
    }

    async fn destroy(&self) {
        let sum = self
            .engine
            .destroy(&self.stack, &RunOptions::default())
            .await
            .unwrap();
        assert!(sum.is_success(), "{sum:?}");
        assert!(self.state().await.resources.is_empty());
    }
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
        s.add("vpc", Vpc::new("10.1.0.0/16").dns_hostnames(true).tag("env", "dev"));
    });
    e.up(&st).await;
    let id = e.id("vpc").await;
    let live = e.ec2.describe_vpcs().vpc_ids(&id).send().await.unwrap();
    let v = &live.vpcs()[0];
    assert_eq!(v.cidr_block(), Some("10.1.0.0/16"));
    let t = tags(v.tags());
    assert_eq!(t["env"], "dev");
    assert_eq!(t["strata:stack"], "vpc-contract");
    assert!(t["strata:urn"].ends_with("::vpc"));
    assert!(t.contains_key("strata:token"));
    assert!(vpc_hostnames(&e.ec2, &id).await);
    // Read equals the declaration: nothing drifted.
    assert!(e.drift().await.is_empty());

    // In place: host names off, a tag changed.
    let st = e.stack(|s| {
        s.add("vpc", Vpc::new("10.1.0.0/16").tag("env", "prod"));
    });
    assert_eq!(e.ops(&st).await["vpc"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("vpc").await, id);
    assert!(!vpc_hostnames(&e.ec2, &id).await);

    // Out-of-band drift, reported by refresh, then put back by up.
    e.ec2
        .modify_vpc_attribute()
        .vpc_id(&id)
        .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["vpc"], vec!["enable_dns_hostnames"]);
    e.up(&st).await;
    assert!(!vpc_hostnames(&e.ec2, &id).await);

    // A new block replaces it.
    let st = e.stack(|s| {
        s.add("vpc", Vpc::new("10.2.0.0/16").tag("env", "prod"));
    });
    assert_eq!(e.ops(&st).await["vpc"], Op::Replace);
    e.up(&st).await;
    let new_id = e.id("vpc").await;
    assert_ne!(new_id, id);
    assert!(e.ec2.describe_vpcs().vpc_ids(&id).send().await.is_err());

    e.destroy().await;
    assert!(e.ec2.describe_vpcs().vpc_ids(&new_id).send().await.is_err());
}

#[tokio::test]
async fn declaration_errors_name_the_resource_and_field_and_call_nothing() {
    let mut s = Stack::new("bad-network");
    let vpc = s.add("vpc", Vpc::new("10.0.0.0/33"));
    let ok_vpc = s.add("vpc2", Vpc::new("10.9.0.0/16"));
    s.add("outside", Subnet::new(ok_vpc.id(), "10.8.1.0/24", "eu-central-1a"));
    s.add("a", Subnet::new(ok_vpc.id(), "10.9.0.0/24", "eu-central-1a"));
    s.add("overlaps-a", Subnet::new(ok_vpc.id(), "10.9.0.128/25", "eu-central-1b"));
    s.add("host-bits", Subnet::new(vpc.id(), "10.0.1.5/24", "eu-central-1a"));
    s.add("no-az", Subnet::new(vpc.id(), "10.0.2.0/24", "eu"));
    let sg = s.add("sg", SecurityGroup::new("sg-bad", "x", ok_vpc.id()));
    s.add("port", SecurityGroupRule::ingress(sg.id()).tcp(0).from_cidr("0.0.0.0/0"));
    s.add("range", SecurityGroupRule::ingress(sg.id()).tcp_range(443, 80).from_cidr("0.0.0.0/0"));
    let ip = s.add("ip", ElasticIp::new());
    let public = s.add("pub", Subnet::new(ok_vpc.id(), "10.9.1.0/24", "eu-central-1a"));
    s.add("nat", NatGateway::private(public.id()));
    let mut public_nat = NatGateway::public(public.id(), ip.id());
    public_nat.allocation_id = None;
    s.add("nat-no-ip", public_nat);
    s.add("flow", FlowLog::to_s3(ok_vpc.id(), "my-bucket").aggregation_interval(300));
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
        .filters(Filter::builder().name("tag:strata:stack").values("bad-network").build())
        .send()
        .await
        .unwrap();
    assert!(found.vpcs().is_empty());
}
