//! What an account holds, listed with the SDK service by service, independently of
//! strata's state: the stack tests compare it before a deploy and after a destroy.

use std::collections::BTreeSet;

fn ids<'a>(kind: &str, v: impl IntoIterator<Item = Option<&'a str>>) -> Vec<String> {
    v.into_iter()
        .flatten()
        .map(|i| format!("{kind}:{i}"))
        .collect()
}

/// Every resource of every service the e-commerce stack uses, as `kind:id` strings.
pub async fn inventory(conf: &aws_config::SdkConfig) -> BTreeSet<String> {
    let mut all = BTreeSet::new();

    let ec2 = aws_sdk_ec2::Client::new(conf);
    let o = ec2.describe_vpcs().send().await.unwrap();
    all.extend(ids("vpc", o.vpcs().iter().map(|v| v.vpc_id())));
    let o = ec2.describe_subnets().send().await.unwrap();
    all.extend(ids("subnet", o.subnets().iter().map(|v| v.subnet_id())));
    let o = ec2.describe_security_groups().send().await.unwrap();
    all.extend(ids("sg", o.security_groups().iter().map(|v| v.group_id())));
    let o = ec2.describe_internet_gateways().send().await.unwrap();
    all.extend(ids(
        "igw",
        o.internet_gateways()
            .iter()
            .map(|v| v.internet_gateway_id()),
    ));
    let o = ec2.describe_nat_gateways().send().await.unwrap();
    all.extend(ids(
        "nat",
        o.nat_gateways()
            .iter()
            .filter(|n| n.state().map(|s| s.as_str()) != Some("deleted"))
            .map(|v| v.nat_gateway_id()),
    ));
    let o = ec2.describe_addresses().send().await.unwrap();
    all.extend(ids("eip", o.addresses().iter().map(|v| v.allocation_id())));
    let o = ec2.describe_route_tables().send().await.unwrap();
    all.extend(ids(
        "rtb",
        o.route_tables().iter().map(|v| v.route_table_id()),
    ));
    let o = ec2.describe_flow_logs().send().await.unwrap();
    all.extend(ids(
        "flowlog",
        o.flow_logs().iter().map(|v| v.flow_log_id()),
    ));
    let o = ec2.describe_launch_templates().send().await.unwrap();
    all.extend(ids(
        "lt",
        o.launch_templates().iter().map(|v| v.launch_template_id()),
    ));
    let o = ec2.describe_instances().send().await.unwrap();
    for r in o.reservations() {
        all.extend(ids(
            "instance",
            r.instances()
                .iter()
                .filter(|i| {
                    i.state().and_then(|s| s.name()).map(|n| n.as_str()) != Some("terminated")
                })
                .map(|i| i.instance_id()),
        ));
    }

    let rds = aws_sdk_rds::Client::new(conf);
    let o = rds.describe_db_instances().send().await.unwrap();
    all.extend(ids(
        "db",
        o.db_instances().iter().map(|v| v.db_instance_identifier()),
    ));
    let o = rds.describe_db_subnet_groups().send().await.unwrap();
    all.extend(ids(
        "dbsubnets",
        o.db_subnet_groups()
            .iter()
            .map(|v| v.db_subnet_group_name()),
    ));
    let o = rds.describe_db_parameter_groups().send().await.unwrap();
    all.extend(ids(
        "dbparams",
        o.db_parameter_groups()
            .iter()
            .map(|v| v.db_parameter_group_name())
            .filter(|n| !n.is_some_and(|n| n.starts_with("default."))),
    ));
    let o = rds.describe_db_snapshots().send().await.unwrap();
    all.extend(ids(
        "snapshot",
        o.db_snapshots().iter().map(|v| v.db_snapshot_identifier()),
    ));

    let ec = aws_sdk_elasticache::Client::new(conf);
    let o = ec.describe_replication_groups().send().await.unwrap();
    all.extend(ids(
        "redis",
        o.replication_groups()
            .iter()
            .map(|v| v.replication_group_id()),
    ));
    let o = ec.describe_cache_subnet_groups().send().await.unwrap();
    all.extend(ids(
        "cachesubnets",
        o.cache_subnet_groups()
            .iter()
            .map(|v| v.cache_subnet_group_name())
            .filter(|n| *n != Some("default")),
    ));

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    );
    let o = s3.list_buckets().send().await.unwrap();
    all.extend(ids("bucket", o.buckets().iter().map(|v| v.name())));

    let efs = aws_sdk_efs::Client::new(conf);
    let o = efs.describe_file_systems().send().await.unwrap();
    all.extend(ids(
        "efs",
        o.file_systems().iter().map(|v| Some(v.file_system_id())),
    ));

    let asg = aws_sdk_autoscaling::Client::new(conf);
    let o = asg.describe_auto_scaling_groups().send().await.unwrap();
    all.extend(ids(
        "asg",
        o.auto_scaling_groups()
            .iter()
            .map(|v| v.auto_scaling_group_name()),
    ));
    let o = asg.describe_policies().send().await.unwrap();
    all.extend(ids(
        "scaling",
        o.scaling_policies().iter().map(|v| v.policy_name()),
    ));

    let kms = aws_sdk_kms::Client::new(conf);
    for k in kms.list_keys().send().await.unwrap().keys() {
        let m = kms
            .describe_key()
            .key_id(k.key_id().unwrap())
            .send()
            .await
            .unwrap();
        let m = m.key_metadata().unwrap();
        let managed_by_aws = m.key_manager().map(|k| k.as_str()) == Some("AWS");
        if !managed_by_aws && m.key_state().map(|s| s.as_str()) != Some("PendingDeletion") {
            all.insert(format!("kms:{}", m.key_id()));
        }
    }
    let o = kms.list_aliases().send().await.unwrap();
    all.extend(ids(
        "alias",
        o.aliases()
            .iter()
            .map(|a| a.alias_name())
            .filter(|n| !n.is_some_and(|n| n.starts_with("alias/aws/"))),
    ));

    let sm = aws_sdk_secretsmanager::Client::new(conf);
    let o = sm.list_secrets().send().await.unwrap();
    all.extend(ids(
        "secret",
        o.secret_list()
            .iter()
            .filter(|s| s.deleted_date().is_none())
            .map(|s| s.name()),
    ));

    let iam = aws_sdk_iam::Client::new(conf);
    let o = iam.list_roles().send().await.unwrap();
    all.extend(ids("role", o.roles().iter().map(|r| Some(r.role_name()))));
    let o = iam.list_instance_profiles().send().await.unwrap();
    all.extend(ids(
        "profile",
        o.instance_profiles()
            .iter()
            .map(|r| Some(r.instance_profile_name())),
    ));
    let o = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    all.extend(ids("policy", o.policies().iter().map(|p| p.policy_name())));

    let lambda = aws_sdk_lambda::Client::new(conf);
    let o = lambda.list_functions().send().await.unwrap();
    all.extend(ids(
        "function",
        o.functions().iter().map(|f| f.function_name()),
    ));

    let gd = aws_sdk_guardduty::Client::new(conf);
    let o = gd.list_detectors().send().await.unwrap();
    all.extend(ids(
        "detector",
        o.detector_ids().iter().map(|d| Some(d.as_str())),
    ));

    let elb = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let o = elb.describe_load_balancers().send().await.unwrap();
    all.extend(ids(
        "alb",
        o.load_balancers().iter().map(|l| l.load_balancer_arn()),
    ));
    let o = elb.describe_target_groups().send().await.unwrap();
    all.extend(ids(
        "tg",
        o.target_groups().iter().map(|l| l.target_group_arn()),
    ));

    for region in [strata_testkit::REGION, "us-east-1"] {
        let acm = aws_sdk_acm::Client::from_conf(
            aws_sdk_acm::config::Builder::from(conf)
                .region(aws_config::Region::new(region))
                .build(),
        );
        let o = acm.list_certificates().send().await.unwrap();
        all.extend(ids(
            &format!("cert@{region}"),
            o.certificate_summary_list()
                .iter()
                .map(|c| c.certificate_arn()),
        ));
    }

    let waf = aws_sdk_wafv2::Client::new(conf);
    let o = waf
        .list_web_acls()
        .scope(aws_sdk_wafv2::types::Scope::Regional)
        .send()
        .await
        .unwrap();
    all.extend(ids("webacl", o.web_acls().iter().map(|w| w.arn())));

    let r53 = aws_sdk_route53::Client::new(conf);
    let o = r53.list_hosted_zones().send().await.unwrap();
    all.extend(ids("zone", o.hosted_zones().iter().map(|z| Some(z.id()))));
    let o = r53.list_health_checks().send().await.unwrap();
    all.extend(ids(
        "healthcheck",
        o.health_checks().iter().map(|h| Some(h.id())),
    ));

    let cf = aws_sdk_cloudfront::Client::new(conf);
    let o = cf.list_distributions().send().await.unwrap();
    if let Some(l) = o.distribution_list() {
        all.extend(ids("distribution", l.items().iter().map(|d| Some(d.id()))));
    }
    let o = cf.list_origin_access_controls().send().await.unwrap();
    if let Some(l) = o.origin_access_control_list() {
        all.extend(ids("oac", l.items().iter().map(|d| Some(d.id()))));
    }

    let logs = aws_sdk_cloudwatchlogs::Client::new(conf);
    let o = logs.describe_log_groups().send().await.unwrap();
    all.extend(ids(
        "loggroup",
        o.log_groups().iter().map(|g| g.log_group_name()),
    ));

    let cw = aws_sdk_cloudwatch::Client::new(conf);
    let o = cw.describe_alarms().send().await.unwrap();
    all.extend(ids(
        "alarm",
        o.metric_alarms().iter().map(|a| a.alarm_name()),
    ));
    let o = cw.list_dashboards().send().await.unwrap();
    all.extend(ids(
        "dashboard",
        o.dashboard_entries().iter().map(|d| d.dashboard_name()),
    ));

    let sns = aws_sdk_sns::Client::new(conf);
    let o = sns.list_topics().send().await.unwrap();
    all.extend(ids("topic", o.topics().iter().map(|t| t.topic_arn())));
    let o = sns.list_subscriptions().send().await.unwrap();
    all.extend(ids(
        "subscription",
        o.subscriptions().iter().map(|t| t.subscription_arn()),
    ));

    let ct = aws_sdk_cloudtrail::Client::new(conf);
    let o = ct.describe_trails().send().await.unwrap();
    all.extend(ids("trail", o.trail_list().iter().map(|t| t.name())));

    let xray = aws_sdk_xray::Client::new(conf);
    let o = xray.get_sampling_rules().send().await.unwrap();
    all.extend(ids(
        "sampling",
        o.sampling_rule_records()
            .iter()
            .filter_map(|r| r.sampling_rule())
            .map(|r| r.rule_name()),
    ));
    let o = xray.get_groups().send().await.unwrap();
    all.extend(ids("xraygroup", o.groups().iter().map(|g| g.group_name())));
    all
}
