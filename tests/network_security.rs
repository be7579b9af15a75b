//! The network and security tiers of the e-commerce seed, made only of strata-network and
//! strata-security, against a private local AWS: it deploys, plans nothing on a second
//! `up`, and destroys to an account that holds exactly what it held before (moto's
//! default VPC), checked by listing it with the SDK.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use strata::network::three_tier::{ThreeTier, ThreeTierVpc};
use strata::network::*;
use strata::prelude::*;
use strata::security::rotation::RotationFunction;
use strata::security::*;
// The resource, not the prelude's `Secret<T>` value wrapper.
use strata::security::Secret;
use strata_core::aws::Aws;
use strata_core::MemoryBackend;
use strata_testkit::LocalAws;
use support::inventory::inventory;

mod support;

fn rule(s: &mut Stack, name: &str, group: Output<String>, port: i32, from: Output<String>) {
    s.add(
        name,
        SecurityGroupRule::ingress(group).tcp(port).from_group(from),
    );
}

/// The seed's network tier: the three-tier VPC and the security groups ALB → app → data.
fn network(s: &mut Stack) -> ThreeTier {
    let net = ThreeTierVpc::default().declare(s, "shop");
    let sg = |s: &mut Stack, name: &str, what: &str| {
        s.add(
            format!("{name}-sg"),
            SecurityGroup::new(format!("shop-{name}"), what, net.vpc.id()),
        )
    };
    let alb = sg(s, "alb", "ALB: HTTPS and HTTP from the internet");
    let app = sg(s, "app", "app servers: from the ALB");
    let db = sg(s, "db", "PostgreSQL: from the app servers");
    let cache = sg(s, "cache", "Redis: from the app servers");
    let efs = sg(s, "efs", "EFS: NFS from the app servers");
    for (name, port) in [("alb-https", 443), ("alb-http", 80)] {
        s.add(
            name,
            SecurityGroupRule::ingress(alb.id())
                .tcp(port)
                .from_cidr("0.0.0.0/0"),
        );
    }
    rule(s, "app-from-alb", app.id(), 8080, alb.id());
    rule(s, "db-from-app", db.id(), 5432, app.id());
    rule(s, "cache-from-app", cache.id(), 6379, app.id());
    rule(s, "efs-from-app", efs.id(), 2049, app.id());
    net
}

/// The seed's security tier: CMKs with rotation for RDS, S3, EBS and EFS; the DB password
/// and the payment and email API keys, rotated every 90 days; GuardDuty; the app servers'
/// role and instance profile.
fn security(s: &mut Stack) {
    let mut keys = Vec::new();
    for data in ["rds", "s3", "ebs", "efs", "secrets"] {
        let key = s.add(
            format!("{data}-key"),
            KmsKey::new(format!("shop: {data} encryption")),
        );
        s.add(
            format!("{data}-key-alias"),
            KmsAlias::new(format!("alias/shop-{data}"), key.id()),
        );
        keys.push(key);
    }
    let secrets_key = keys[4].arn();
    let rotation = RotationFunction::new("shop-secret-rotation").declare(s);
    let db = s.add(
        "db-password",
        Secret::new("shop/db-password")
            .kms_key(secrets_key.clone())
            .generate_password(32)
            .recovery_window(0),
    );
    let payment = s.add(
        "payment-api-key",
        Secret::new("shop/payment-api-key")
            .kms_key(secrets_key.clone())
            .value("pay-key-plaintext")
            .recovery_window(0),
    );
    let email = s.add(
        "email-api-key",
        Secret::new("shop/email-api-key")
            .kms_key(secrets_key)
            .value("mail-key-plaintext")
            .recovery_window(0),
    );
    for (name, secret) in [
        ("db-password", &db),
        ("payment-api-key", &payment),
        ("email-api-key", &email),
    ] {
        s.add(
            format!("{name}-rotation"),
            SecretRotation::new(secret.arn(), rotation.arn(), 90),
        );
    }
    s.add("guardduty", GuardDutyDetector::new());
    let role = s.add(
        "app-role",
        IamRole::for_service("shop-app", "ec2.amazonaws.com")
            .managed_policies(
                policies::APP_SERVER_MANAGED_POLICIES
                    .iter()
                    .map(|a| a.to_string()),
            )
            .inline_policy(
                "read-secrets",
                policies::read_secrets(
                    &["arn:aws:secretsmanager:*:*:secret:shop/*".to_owned()],
                    &[],
                ),
            ),
    );
    s.add(
        "app-profile",
        IamInstanceProfile::new("shop-app", role.name()),
    );
}

#[tokio::test]
async fn the_network_and_security_tiers_deploy_replan_nothing_and_destroy_to_an_empty_account() {
    let aws = LocalAws::start().unwrap();
    let conf = aws.sdk_config().await;
    let before = inventory(&conf).await;

    let engine = Engine::new(Arc::new(MemoryBackend::new()))
        .with_context(Context::new().with(Aws::new(conf.clone())))
        .with_registry(&strata::registry())
        .passphrase(Some("test".into()))
        .parallel(8);
    let mut s = Stack::new("shop");
    let net = network(&mut s);
    security(&mut s);
    let st = s.seal().unwrap();
    let sum = engine.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert!(!engine.preview(&st, &[]).await.unwrap().has_changes());

    // What the seed asks for, read back from AWS.
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let state = engine.load_state("shop").await.unwrap();
    let id = |h: &strata::core::Urn| state.resources[h].id.clone();
    let vpc = id(net.vpc.urn());
    let subnets = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let blocks: BTreeSet<_> = subnets
        .subnets()
        .iter()
        .map(|s| {
            (
                s.cidr_block().unwrap().to_owned(),
                s.availability_zone().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<_> = [
        ("10.0.1.0/24", "a"),
        ("10.0.2.0/24", "b"),
        ("10.0.16.0/22", "a"),
        ("10.0.20.0/22", "b"),
        ("10.0.32.0/24", "a"),
        ("10.0.33.0/24", "b"),
    ]
    .into_iter()
    .map(|(c, z)| (c.to_owned(), format!("eu-central-1{z}")))
    .collect();
    assert_eq!(blocks, expected);
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    let live: Vec<_> = nats
        .nat_gateways()
        .iter()
        .filter(|n| {
            n.vpc_id() == Some(vpc.as_str()) && n.state().map(|s| s.as_str()) == Some("available")
        })
        .collect();
    assert_eq!(live.len(), 2);
    let tables = ec2
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:strata:stack")
                .values("shop")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(tables.route_tables().len(), 3);
    // No data subnet routes to the internet gateway.
    let igw = id(net.igw.urn());
    for data in &net.data {
        let sid = id(data.urn());
        let t = tables
            .route_tables()
            .iter()
            .find(|t| {
                t.associations()
                    .iter()
                    .any(|a| a.subnet_id() == Some(sid.as_str()))
            })
            .unwrap();
        assert!(t
            .routes()
            .iter()
            .all(|r| r.gateway_id() != Some(igw.as_str())));
    }

    let sum = engine
        .destroy("shop", &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let after = inventory(&conf).await;
    let left: Vec<_> = after.difference(&before).collect();
    let gone: Vec<_> = before.difference(&after).collect();
    assert!(
        left.is_empty() && gone.is_empty(),
        "left behind: {left:?}\nremoved: {gone:?}"
    );
}
