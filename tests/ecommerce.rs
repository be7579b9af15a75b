//! The whole e-commerce stack (`examples/ecommerce.rs`) against a private local AWS: it
//! passes the built-in policy pack, deploys, matches the spec value by value when read
//! back with raw SDK calls, re-plans nothing, reports an out-of-band change as exactly
//! that drift, and destroys to an account that holds exactly what it held before.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../examples/ecommerce.rs"]
#[allow(dead_code, unused_imports)]
mod ecommerce;
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use strata::prelude::*;
use strata_core::aws::Aws;
use strata_core::{Enforcement, MemoryBackend};
use strata_testkit::LocalAws;
use support::inventory::inventory;

fn declare(ami: &str, protect: bool) -> strata_core::SealedStack {
    let config = BTreeMap::from([
        ("ami".to_owned(), ami.to_owned()),
        ("deletion_protection".to_owned(), protect.to_string()),
        // The teardown's config: log buckets emptied by destroy.
        ("force_destroy_logs".to_owned(), (!protect).to_string()),
        // One read replica (the spec's "can be added"; the example's default is none).
        ("read_replicas".to_owned(), "1".to_owned()),
        ("blocked_countries".to_owned(), "KP,IR".to_owned()),
    ]);
    let mut s = Stack::new("shop").with_config(config);
    ecommerce::ecommerce(&mut s);
    s.seal().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn the_ecommerce_stack_deploys_matches_the_spec_replans_nothing_and_destroys_to_an_empty_account(
) {
    let aws = LocalAws::start().unwrap();
    let conf = aws.sdk_config().await;
    let ami = support::first_ami(&conf).await;
    let before = inventory(&conf).await;
    let engine = Engine::new(Arc::new(MemoryBackend::new()))
        .with_context(Context::new().with(Aws::new(conf.clone())))
        .with_registry(&strata::registry())
        .policy_pack(Arc::new(ecommerce::policies()))
        .passphrase(Some("e2e".into()))
        .parallel(10);

    let st = declare(&ami, true);
    let plan = engine.preview(&st, &[]).await.unwrap();
    let mandatory: Vec<_> = plan
        .violations
        .iter()
        .filter(|v| v.enforcement == Enforcement::Mandatory)
        .collect();
    assert!(mandatory.is_empty(), "{mandatory:#?}");
    assert!(
        st.nodes().len() >= 100,
        "every component of the spec: {}",
        st.nodes().len()
    );

    let sum = engine.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let again = engine.preview(&st, &[]).await.unwrap();
    assert!(
        !again.has_changes(),
        "{:#?}",
        again
            .steps
            .iter()
            .filter(|s| s.op != Op::Same)
            .collect::<Vec<_>>()
    );

    verify_spec(&conf).await;

    // The PagerDuty endpoint carries its integration key: it is a secret in state.
    let state = engine.load_state("shop").await.unwrap();
    let pagerduty = state
        .resources
        .values()
        .find(|r| r.urn.name() == "alerts-pagerduty")
        .expect("the PagerDuty subscription");
    assert!(strata_core::value::is_secret(&pagerduty.args["endpoint"]));

    // Out-of-band drift: the ALB's 5xx alarm threshold raised by hand.
    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    let alarm = cw
        .describe_alarms()
        .alarm_names("shop-alb-5xx")
        .send()
        .await
        .unwrap()
        .metric_alarms()[0]
        .clone();
    cw.put_metric_alarm()
        .alarm_name("shop-alb-5xx")
        .namespace(alarm.namespace().unwrap())
        .metric_name(alarm.metric_name().unwrap())
        .set_dimensions(Some(alarm.dimensions().to_vec()))
        .statistic(alarm.statistic().unwrap().clone())
        .period(alarm.period().unwrap())
        .evaluation_periods(alarm.evaluation_periods().unwrap())
        .threshold(500.0)
        .comparison_operator(alarm.comparison_operator().unwrap().clone())
        .set_alarm_actions(Some(alarm.alarm_actions().to_vec()))
        .set_ok_actions(Some(alarm.ok_actions().to_vec()))
        .set_treat_missing_data(alarm.treat_missing_data().map(str::to_owned))
        .set_alarm_description(alarm.alarm_description().map(str::to_owned))
        .send()
        .await
        .unwrap();
    let report = engine
        .refresh("shop", &RunOptions::default())
        .await
        .unwrap();
    let drift: BTreeMap<String, Vec<String>> = report
        .drift
        .into_iter()
        .map(|(u, c)| {
            (
                u.name().to_owned(),
                c.unwrap_or_default().into_iter().map(|c| c.path).collect(),
            )
        })
        .collect();
    assert_eq!(
        drift,
        BTreeMap::from([("alarm-alb-5xx".to_owned(), vec!["threshold".to_owned()])])
    );
    let sum = engine.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let a = cw
        .describe_alarms()
        .alarm_names("shop-alb-5xx")
        .send()
        .await
        .unwrap();
    assert_eq!(
        a.metric_alarms()[0].threshold(),
        Some(100.0),
        "up puts it back"
    );

    // Deletion protection is on by default: a destroy is refused up front, naming the
    // database and the field, before anything is deleted.
    let deployed = inventory(&conf).await;
    let err = engine
        .destroy("shop", &RunOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("shop::aws:rds/dbInstance::db") || err.contains("db"),
        "{err}"
    );
    assert!(err.contains("deletion_protection"), "{err}");
    assert_eq!(
        inventory(&conf).await,
        deployed,
        "a refused destroy deleted something"
    );
    // Lifting it is an in-place update, then the destroy goes through.
    let st = declare(&ami, false);
    let sum = engine.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success(), "{sum:?}");
    // On AWS the log buckets are never empty: with force_destroy_logs, destroy empties
    // them instead of refusing.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    for what in ["audit-logs", "alb-logs", "backups"] {
        s3.put_object()
            .bucket(format!("shop-{what}-123456789012-eu-central-1"))
            .key("AWSLogs/123456789012/log.gz")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"log"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
    }
    let sum = engine
        .destroy("shop", &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
    assert!(engine
        .load_state("shop")
        .await
        .unwrap()
        .resources
        .is_empty());
    let after = inventory(&conf).await;
    // Everything is gone but the database's final snapshot, which a destroy keeps on
    // purpose (the data outlives the stack unless `skip_final_snapshot` says otherwise),
    // and the RDS key that encrypts it, kept (`retain_on_delete`) and enabled, so that the
    // snapshot can be restored.
    let mut diff: Vec<&String> = after.symmetric_difference(&before).collect();
    diff.sort();
    assert!(
        diff.len() == 2
            && diff[0].starts_with("kms:")
            && diff[1].starts_with("snapshot:shop-db-final-"),
        "the account holds exactly what it held before, the final snapshot and its key: {diff:?}"
    );
    let rds = aws_sdk_rds::Client::new(&conf);
    let snapshot = rds
        .describe_db_snapshots()
        .db_snapshot_identifier(diff[1].trim_start_matches("snapshot:"))
        .send()
        .await
        .unwrap();
    let snapshot_key = snapshot.db_snapshots()[0].kms_key_id().unwrap().to_owned();
    let key = aws_sdk_kms::Client::new(&conf)
        .describe_key()
        .key_id(&snapshot_key)
        .send()
        .await
        .unwrap();
    let key = key.key_metadata().unwrap();
    assert_eq!(format!("kms:{}", key.key_id()), *diff[0], "{snapshot_key}");
    assert_eq!(key.key_state().map(|s| s.as_str()), Some("Enabled"));
}

/// The spec's values, read back with raw SDK calls.
async fn verify_spec(conf: &aws_config::SdkConfig) {
    // Network: VPC 10.0.0.0/16, 6 subnets in 2 AZs, 2 NAT gateways, 3 route tables.
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let vpc = vpcs
        .vpcs()
        .iter()
        .find(|v| v.cidr_block() == Some("10.0.0.0/16") && !v.is_default().unwrap_or(false))
        .expect("the shop VPC");
    let vpc_id = vpc.vpc_id().unwrap();
    let filter = aws_sdk_ec2::types::Filter::builder()
        .name("vpc-id")
        .values(vpc_id)
        .build();
    let subnets = ec2
        .describe_subnets()
        .filters(filter.clone())
        .send()
        .await
        .unwrap();
    let mut cidrs: Vec<(&str, &str)> = subnets
        .subnets()
        .iter()
        .map(|s| (s.cidr_block().unwrap(), s.availability_zone().unwrap()))
        .collect();
    cidrs.sort();
    assert_eq!(
        cidrs,
        vec![
            ("10.0.1.0/24", "eu-central-1a"),
            ("10.0.16.0/22", "eu-central-1a"),
            ("10.0.2.0/24", "eu-central-1b"),
            ("10.0.20.0/22", "eu-central-1b"),
            ("10.0.32.0/24", "eu-central-1a"),
            ("10.0.33.0/24", "eu-central-1b"),
        ]
    );
    let nats = ec2
        .describe_nat_gateways()
        .filter(filter.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        nats.nat_gateways()
            .iter()
            .filter(|n| n.state().map(|s| s.as_str()) == Some("available"))
            .count(),
        2
    );
    let tables = ec2
        .describe_route_tables()
        .filters(filter.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tables
            .route_tables()
            .iter()
            .filter(|t| !t.associations().iter().any(|a| a.main() == Some(true)))
            .count(),
        3,
        "1 public and 2 private route tables"
    );
    let flows = ec2.describe_flow_logs().send().await.unwrap();
    assert!(flows
        .flow_logs()
        .iter()
        .any(|f| f.resource_id() == Some(vpc_id)));

    // Compute: t3.medium, 2/4/8, ELB health checks, in the target group.
    let asg = aws_sdk_autoscaling::Client::new(conf);
    let g = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("shop-app")
        .send()
        .await
        .unwrap();
    let g = &g.auto_scaling_groups()[0];
    assert_eq!(
        (g.min_size(), g.desired_capacity(), g.max_size()),
        (Some(2), Some(4), Some(8))
    );
    assert_eq!(g.health_check_type(), Some("ELB"));
    assert_eq!(g.target_group_arns().len(), 1);
    // The minimum (2) on-demand, Spot above it over three types of the same size.
    let mixed = g.mixed_instances_policy().unwrap();
    let d = mixed.instances_distribution().unwrap();
    assert_eq!(
        (
            d.on_demand_base_capacity(),
            d.on_demand_percentage_above_base_capacity(),
            d.spot_allocation_strategy()
        ),
        (Some(2), Some(0), Some("capacity-optimized"))
    );
    assert_eq!(mixed.launch_template().unwrap().overrides().len(), 3);
    let lt = ec2
        .describe_launch_template_versions()
        .launch_template_name("shop-app")
        .versions("$Latest")
        .send()
        .await
        .unwrap();
    let data = lt.launch_template_versions()[0]
        .launch_template_data()
        .unwrap();
    assert_eq!(data.instance_type().map(|t| t.as_str()), Some("t3.medium"));
    assert_eq!(
        data.metadata_options()
            .and_then(|m| m.http_tokens())
            .map(|t| t.as_str()),
        Some("required")
    );
    // The CloudWatch agent publishes the memory metric the memory alarm and policy read.
    let user_data = {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(data.user_data().unwrap())
            .unwrap();
        String::from_utf8(raw).unwrap()
    };
    assert!(
        user_data.contains("amazon-cloudwatch-agent-ctl -a fetch-config")
            && user_data.contains("\"mem_used_percent\"")
            && user_data.contains("mount -a"),
        "{user_data}"
    );
    let policies = asg
        .describe_policies()
        .auto_scaling_group_name("shop-app")
        .send()
        .await
        .unwrap();
    assert_eq!(policies.scaling_policies().len(), 2, "CPU and memory");

    // Edge: the ALB, internet-facing, HTTPS with TLS 1.2+, HTTP redirecting, /health.
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let lbs = elb
        .describe_load_balancers()
        .names("shop-alb")
        .send()
        .await
        .unwrap();
    let lb = &lbs.load_balancers()[0];
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internet-facing"));
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let mut ports: Vec<_> = listeners
        .listeners()
        .iter()
        .map(|l| {
            (
                l.port().unwrap(),
                l.protocol().unwrap().as_str().to_owned(),
                l.ssl_policy().map(str::to_owned),
            )
        })
        .collect();
    ports.sort();
    assert_eq!(ports[0].0, 80);
    assert_eq!(ports[1].0, 443);
    assert_eq!(ports[1].1, "HTTPS");
    assert!(ports[1].2.as_deref().unwrap().contains("TLS13-1-2"));
    let tgs = elb
        .describe_target_groups()
        .names("shop-app")
        .send()
        .await
        .unwrap();
    assert_eq!(tgs.target_groups()[0].health_check_path(), Some("/health"));
    let waf = aws_sdk_wafv2::Client::new(conf);
    let acl = waf
        .get_web_acl_for_resource()
        .resource_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let acl = acl.web_acl().expect("the WAF is attached to the ALB");
    let mut rules: Vec<_> = acl.rules().iter().map(|r| r.name().to_owned()).collect();
    rules.sort();
    assert_eq!(rules.len(), 4, "{rules:?}");
    let rate = acl
        .rules()
        .iter()
        .find_map(|r| r.statement()?.rate_based_statement())
        .expect("a rate-based rule");
    assert_eq!(rate.limit(), 1000);

    // ACM: the domain and its wildcard, issued.
    let acm = aws_sdk_acm::Client::new(conf);
    let certs = acm.list_certificates().send().await.unwrap();
    let arn = certs.certificate_summary_list()[0]
        .certificate_arn()
        .unwrap();
    let cert = acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .unwrap();
    let cert = cert.certificate().unwrap();
    assert_eq!(cert.domain_name(), Some("shop.example.com"));
    assert!(cert
        .subject_alternative_names()
        .contains(&"*.shop.example.com".to_owned()));

    // Route 53: the zone, an alias A record to the ALB, a health check.
    let r53 = aws_sdk_route53::Client::new(conf);
    let zones = r53
        .list_hosted_zones_by_name()
        .dns_name("shop.example.com")
        .send()
        .await
        .unwrap();
    let zone = &zones.hosted_zones()[0];
    let records = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone.id())
        .send()
        .await
        .unwrap();
    let apex = records
        .resource_record_sets()
        .iter()
        .find(|r| r.name() == "shop.example.com." && r.r#type().as_str() == "A")
        .expect("the apex A record");
    assert!(apex
        .alias_target()
        .unwrap()
        .dns_name()
        .contains(lb.dns_name().unwrap()));
    assert!(apex.health_check_id().is_some());

    // CloudFront: S3 images and the ALB as origins, TLS 1.2+.
    let cf = aws_sdk_cloudfront::Client::new(conf);
    let list = cf.list_distributions().send().await.unwrap();
    let d = &list.distribution_list().unwrap().items()[0];
    let origins: Vec<_> = d
        .origins()
        .unwrap()
        .items()
        .iter()
        .map(|o| o.id().to_owned())
        .collect();
    assert_eq!(origins.len(), 2, "{origins:?}");

    // Data: RDS PostgreSQL 14 db.r5.xlarge Multi-AZ 500 GB gp3, 7-day backups, encrypted.
    let rds = aws_sdk_rds::Client::new(conf);
    let db = rds
        .describe_db_instances()
        .db_instance_identifier("shop-db")
        .send()
        .await
        .unwrap();
    let db = &db.db_instances()[0];
    assert_eq!(db.engine(), Some("postgres"));
    assert!(db.engine_version().unwrap().starts_with("14"));
    assert_eq!(db.db_instance_class(), Some("db.r5.xlarge"));
    assert_eq!(db.multi_az(), Some(true));
    assert_eq!(db.allocated_storage(), Some(500));
    assert_eq!(
        db.read_replica_db_instance_identifiers(),
        ["shop-db-replica-1"],
        "the configured read replica"
    );
    assert_eq!(db.storage_type(), Some("gp3"));
    assert_eq!(db.backup_retention_period(), Some(7));
    assert_eq!(db.storage_encrypted(), Some(true));
    assert_eq!(db.publicly_accessible(), Some(false));
    // The master password lives in the secret RDS manages (checked below: its rotation).
    let master_secret = db
        .master_user_secret()
        .and_then(|s| s.secret_arn())
        .expect("the RDS-managed master user secret")
        .to_owned();
    let ec = aws_sdk_elasticache::Client::new(conf);
    let rg = ec
        .describe_replication_groups()
        .replication_group_id("shop-cache")
        .send()
        .await
        .unwrap();
    let rg = &rg.replication_groups()[0];
    assert_eq!(rg.member_clusters().len(), 2);
    assert_eq!(rg.cache_node_type(), Some("cache.r5.large"));
    assert_eq!(rg.at_rest_encryption_enabled(), Some(true));
    assert_eq!(rg.transit_encryption_enabled(), Some(true));
    let efs = aws_sdk_efs::Client::new(conf);
    let fs = efs.describe_file_systems().send().await.unwrap();
    let fs = &fs.file_systems()[0];
    assert_eq!(fs.encrypted(), Some(true));
    let mts = efs
        .describe_mount_targets()
        .file_system_id(fs.file_system_id())
        .send()
        .await
        .unwrap();
    assert_eq!(mts.mount_targets().len(), 2, "one per app subnet");

    // Observability: 5 alarms to SNS (email + PagerDuty), CloudTrail logging, X-Ray.
    let cw = aws_sdk_cloudwatch::Client::new(conf);
    let alarms = cw
        .describe_alarms()
        .alarm_name_prefix("shop-")
        .send()
        .await
        .unwrap();
    let mut thresholds: Vec<_> = alarms
        .metric_alarms()
        .iter()
        .map(|a| (a.alarm_name().unwrap().to_owned(), a.threshold().unwrap()))
        .collect();
    thresholds.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        thresholds,
        vec![
            ("shop-alb-5xx".to_owned(), 100.0),
            ("shop-ec2-cpu-high".to_owned(), 80.0),
            ("shop-memory-high".to_owned(), 85.0),
            ("shop-rds-connections-high".to_owned(), 2883.0),
            ("shop-rds-cpu-high".to_owned(), 75.0),
        ]
    );
    assert!(alarms.metric_alarms().iter().all(|a| a
        .alarm_actions()
        .iter()
        .any(|t| t.contains(":shop-critical"))));
    let sns = aws_sdk_sns::Client::new(conf);
    let subs = sns.list_subscriptions().send().await.unwrap();
    let mut protocols: Vec<_> = subs
        .subscriptions()
        .iter()
        .filter(|s| s.topic_arn().is_some_and(|t| t.ends_with(":shop-critical")))
        .map(|s| s.protocol().unwrap().to_owned())
        .collect();
    protocols.sort();
    assert_eq!(protocols, vec!["email", "https"]);
    let ct = aws_sdk_cloudtrail::Client::new(conf);
    let trails = ct.describe_trails().send().await.unwrap();
    let trail = trails
        .trail_list()
        .iter()
        .find(|t| t.name() == Some("shop-audit"))
        .expect("the trail");
    assert_eq!(trail.is_multi_region_trail(), Some(true));
    assert_eq!(trail.log_file_validation_enabled(), Some(true));
    let status = ct
        .get_trail_status()
        .name("shop-audit")
        .send()
        .await
        .unwrap();
    assert_eq!(status.is_logging(), Some(true));
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    );
    let lc = s3
        .get_bucket_lifecycle_configuration()
        .bucket(trail.s3_bucket_name().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        lc.rules()[0].expiration().and_then(|e| e.days()),
        Some(365),
        "audit logs are kept 365 days"
    );
    let xray = aws_sdk_xray::Client::new(conf);
    let rules = xray.get_sampling_rules().send().await.unwrap();
    assert!(rules
        .sampling_rule_records()
        .iter()
        .any(|r| r.sampling_rule().map(|r| r.rule_name()) == Some(Some("shop-default"))));

    // Security: CMKs rotated, secrets (the DB's managed master secret too) rotated every
    // 90 days, GuardDuty on.
    let kms = aws_sdk_kms::Client::new(conf);
    let aliases = kms.list_aliases().send().await.unwrap();
    for what in ["rds", "s3", "ebs", "efs"] {
        let alias = aliases
            .aliases()
            .iter()
            .find(|a| a.alias_name() == Some(&format!("alias/shop-{what}")))
            .unwrap_or_else(|| panic!("the {what} key"));
        let rot = kms
            .get_key_rotation_status()
            .key_id(alias.target_key_id().unwrap())
            .send()
            .await
            .unwrap();
        assert!(rot.key_rotation_enabled());
    }
    // Key policies: the services that use a key for the account are in its policy (the
    // default policy leaves them out, and AWS then fails silently).
    for (what, services) in [
        (
            "ebs",
            vec!["autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"],
        ),
        ("secrets", vec!["cloudwatch.amazonaws.com"]),
        (
            "s3",
            vec![
                "cloudtrail.amazonaws.com",
                "cloudfront.amazonaws.com",
                "delivery.logs.amazonaws.com",
            ],
        ),
    ] {
        let alias = aliases
            .aliases()
            .iter()
            .find(|a| a.alias_name() == Some(&format!("alias/shop-{what}")))
            .unwrap_or_else(|| panic!("the {what} key"));
        let policy = kms
            .get_key_policy()
            .key_id(alias.target_key_id().unwrap())
            .policy_name("default")
            .send()
            .await
            .unwrap();
        let policy = policy.policy().unwrap();
        for s in services {
            assert!(policy.contains(s), "the {what} key grants {s}: {policy}");
        }
        assert!(
            policy.contains("arn:aws:iam::123456789012:root"),
            "{policy}"
        );
    }
    let sm = aws_sdk_secretsmanager::Client::new(conf);
    for name in [
        "shop/db-app-password",
        "shop/payment-api-key",
        "shop/email-api-key",
    ] {
        let d = sm.describe_secret().secret_id(name).send().await.unwrap();
        assert_eq!(d.rotation_enabled(), Some(true), "{name}");
        assert_eq!(
            d.rotation_rules()
                .and_then(|r| r.automatically_after_days()),
            Some(90),
            "{name}"
        );
    }
    // The RDS-managed master secret too: every 90 days, not AWS's default 7.
    let d = sm
        .describe_secret()
        .secret_id(&master_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(d.rotation_enabled(), Some(true), "the master secret");
    assert_eq!(
        d.rotation_rules()
            .and_then(|r| r.automatically_after_days()),
        Some(90),
        "the master secret"
    );
    let gd = aws_sdk_guardduty::Client::new(conf);
    assert_eq!(
        gd.list_detectors()
            .send()
            .await
            .unwrap()
            .detector_ids()
            .len(),
        1
    );
}
