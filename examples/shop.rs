//! A runnable example stack against strata's in-memory cloud: the shape of the e-commerce
//! platform (network, data, compute, edge, observability), with mock resources whose
//! simulated durations mirror AWS (the database and the CDN are the slow ones).
//!
//! ```text
//! export STRATA_PASSPHRASE=strata-demo          # encrypts the example's secret in state
//! cargo run --example shop -- up --yes        # deploy (state and cloud in .strata/)
//! cargo run --example shop -- up --yes        # again: nothing changes
//! cargo run --example shop -- graph --format svg -o shop.svg
//! cargo run --example shop -- destroy --yes   # tear down
//! ```
//!
//! The real e-commerce stack (`examples/ecommerce.rs`) uses the AWS resource crates; this
//! one runs anywhere, without AWS or an emulator.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Duration;

use strata::prelude::*;
use strata::testing::{MemCloud, Mock, MockArgs, MockHandle};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn res(kind: &str, d: u64) -> MockArgs {
    Mock::new().prop("kind", kind).duration(ms(d))
}

struct Network {
    vpc: Handle<Mock>,
    public: Vec<Handle<Mock>>,
    app: Vec<Handle<Mock>>,
    db: Vec<Handle<Mock>>,
}

fn network(s: &mut Stack, azs: &[&str]) -> Network {
    let vpc = s.add("vpc", res("vpc", 100).key("10.0.0.0/16"));
    let igw = s.add("igw", res("internet-gateway", 100).prop("vpc", vpc.id()));
    let public_rt = s.add(
        "rt-public",
        res("route-table", 50)
            .prop("vpc", vpc.id())
            .prop("igw", igw.id()),
    );
    let mut net = Network {
        vpc: vpc.clone(),
        public: vec![],
        app: vec![],
        db: vec![],
    };
    for (i, az) in azs.iter().enumerate() {
        let subnet = |tier: &str, cidr: String| {
            res("subnet", 80)
                .key(cidr)
                .prop("vpc", vpc.id())
                .prop("az", *az)
                .prop("tier", tier)
        };
        let public = s.add(
            format!("public-{az}"),
            subnet("public", format!("10.0.{}.0/24", i + 1)),
        );
        s.add(
            format!("rta-public-{az}"),
            res("route-table-association", 30)
                .prop("subnet", public.id())
                .prop("rt", public_rt.id()),
        );
        let nat = s.add(
            format!("nat-{az}"),
            res("nat-gateway", 900).prop("subnet", public.id()),
        );
        let private_rt = s.add(
            format!("rt-private-{az}"),
            res("route-table", 50)
                .prop("vpc", vpc.id())
                .prop("nat", nat.id()),
        );
        let app = s.add(
            format!("app-{az}"),
            subnet("app", format!("10.0.{}.0/22", 16 + 4 * i)),
        );
        s.add(
            format!("rta-app-{az}"),
            res("route-table-association", 30)
                .prop("subnet", app.id())
                .prop("rt", private_rt.id()),
        );
        let db = s.add(
            format!("db-{az}"),
            subnet("db", format!("10.0.{}.0/24", 32 + i)),
        );
        net.public.push(public);
        net.app.push(app);
        net.db.push(db);
    }
    net
}

struct Data {
    db: Handle<Mock>,
    cache: Handle<Mock>,
    images: Handle<Mock>,
}

fn data(s: &mut Stack, net: &Network, key: &Handle<Mock>) -> Data {
    let db_subnets = s.add(
        "db-subnets",
        res("db-subnet-group", 50)
            .prop("a", net.db[0].id())
            .prop("b", net.db[1].id()),
    );
    let password = s.add(
        "db-password",
        res("secret", 50)
            .prop("kms", key.arn())
            .secret("change-me-in-real-life"),
    );
    let db = s.add(
        "db",
        res("rds-postgres-14", 2400)
            .prop("class", "db.r5.xlarge")
            .prop("subnets", db_subnets.id())
            .prop("password", password.arn())
            .prop("kms", key.arn()),
    );
    let cache_subnets = s.add(
        "cache-subnets",
        res("cache-subnet-group", 50)
            .prop("a", net.db[0].id())
            .prop("b", net.db[1].id()),
    );
    let cache = s.add(
        "cache",
        res("redis", 1200)
            .prop("node", "cache.r5.large")
            .prop("subnets", cache_subnets.id()),
    );
    let images = s.add(
        "images",
        res("s3-bucket", 100)
            .prop("kms", key.arn())
            .prop("versioning", "on"),
    );
    Data { db, cache, images }
}

fn main() -> ExitCode {
    let cloud = match MemCloud::persistent(".strata/memcloud.json") {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot open the in-memory cloud's file: {e}");
            return ExitCode::FAILURE;
        }
    };
    strata::cli::Program::new(|s: &mut Stack| {
        let azs = ["eu-central-1a", "eu-central-1b"];
        let key = s.add("kms-data", res("kms-key", 60).prop("rotation", "annual"));
        let net = network(s, &azs);
        let data = data(s, &net, &key);
        // Compute and edge.
        let alb = s.add(
            "alb",
            res("load-balancer", 300)
                .prop("a", net.public[0].id())
                .prop("b", net.public[1].id()),
        );
        let tg = s.add(
            "tg",
            res("target-group", 60)
                .prop("vpc", net.vpc.id())
                .prop("health", "/health"),
        );
        s.add(
            "listener-https",
            res("listener", 60)
                .prop("alb", alb.arn())
                .prop("tg", tg.arn())
                .prop("policy", "TLS13-1-2"),
        );
        let lt = s.add(
            "launch-template",
            res("launch-template", 60)
                .prop("db", data.db.id())
                .prop("cache", data.cache.id()),
        );
        s.add(
            "asg",
            res("auto-scaling-group", 400)
                .prop("lt", lt.id())
                .prop("tg", tg.arn())
                .prop("a", net.app[0].id())
                .prop("b", net.app[1].id()),
        );
        let cdn = s.add(
            "cdn",
            res("cloudfront", 1500)
                .prop("images", data.images.arn())
                .prop("alb", alb.arn()),
        );
        // Observability.
        let topic = s.add("alerts", res("sns-topic", 50));
        s.add(
            "alarm-db-cpu",
            res("alarm", 40)
                .prop("db", data.db.id())
                .prop("topic", topic.arn()),
        );
        s.add(
            "alarm-5xx",
            res("alarm", 40)
                .prop("alb", alb.arn())
                .prop("topic", topic.arn()),
        );
        s.export(
            "alb_dns",
            alb.id().map(|id| format!("{id}.eu-central-1.elb.example")),
        );
        s.export(
            "cdn_domain",
            cdn.id().map(|id| format!("{id}.cloudfront.example")),
        );
        s.export(
            "db_endpoint",
            data.db.id().map(|id| format!("{id}.rds.example:5432")),
        );
    })
    .context(Context::new().with(cloud))
    .run()
}
