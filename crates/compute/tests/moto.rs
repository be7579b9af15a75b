//! Contract tests of the compute types against the local AWS (moto).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use strata_compute::*;
use strata_core::plan::Op;
use strata_core::{RunOptions, Stack};

use strata_testkit::Harness as Env;

async fn env(stack: &str) -> Env {
    Env::new(stack, strata_compute::register).await
}

#[tokio::test]
async fn launch_template_auto_scaling_group_and_policies() {
    let e = env("compute-contract").await;
    let ec2 = aws_sdk_ec2::Client::new(&e.conf);
    let ami = ec2
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .unwrap()
        .images()[0]
        .image_id()
        .unwrap()
        .to_owned();
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.70.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_owned();
    let mut subnets = Vec::new();
    for (k, z) in ["a", "b"].iter().enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.70.{k}.0/24"))
            .availability_zone(format!("eu-central-1{z}"))
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    let build = |itype: &'static str, cpu: f64, spot: bool| {
        let (ami, subnets) = (ami.clone(), subnets.clone());
        move |s: &mut Stack| {
            let lt = s.add(
                "app",
                LaunchTemplate::new("contract-app", ami, itype).user_data("#!/bin/bash\necho hi\n"),
            );
            let mut group =
                AutoScalingGroup::new("contract-app", lt.id(), lt.latest_version(), subnets)
                    .capacity(2, 4, 8)
                    .tag("tier", "app");
            if spot {
                group = group.spot_above_base(2, ["t3.large", "t3a.large", "m5.large"]);
            }
            let asg = s.add("app-asg", group);
            s.add(
                "cpu",
                ScalingPolicy::target_tracking(asg.name(), "cpu", Metric::Cpu, cpu),
            );
            s.add(
                "memory",
                ScalingPolicy::target_tracking(asg.name(), "memory", Metric::Memory, 80.0),
            );
        }
    };
    e.up(&e.stack(build("t3.medium", 70.0, false))).await;
    let asg = aws_sdk_autoscaling::Client::new(&e.conf);
    let g = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("contract-app")
        .send()
        .await
        .unwrap();
    let g = &g.auto_scaling_groups()[0];
    assert_eq!(
        (g.min_size(), g.desired_capacity(), g.max_size()),
        (Some(2), Some(4), Some(8))
    );
    let lt_id = g
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_owned();
    let v = ec2
        .describe_launch_template_versions()
        .launch_template_id(&lt_id)
        .versions("$Default")
        .send()
        .await
        .unwrap();
    let d = v.launch_template_versions()[0]
        .launch_template_data()
        .unwrap();
    assert_eq!(
        d.metadata_options()
            .and_then(|m| m.http_tokens())
            .map(|t| t.as_str()),
        Some("required")
    );
    assert_eq!(
        d.block_device_mappings()[0]
            .ebs()
            .and_then(|e| e.encrypted()),
        Some(true)
    );
    let p = asg
        .describe_policies()
        .auto_scaling_group_name("contract-app")
        .send()
        .await
        .unwrap();
    assert_eq!(p.scaling_policies().len(), 2);
    assert!(e.drift().await.is_empty());

    // A new instance type is a new template version, and the group follows it; the CPU
    // target changes in place.
    let st = e.stack(build("t3.large", 60.0, false));
    let ops = e.ops(&st).await;
    assert_eq!((ops["app"], ops["cpu"]), (Op::Update, Op::Update));
    e.up(&st).await;
    let g = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("contract-app")
        .send()
        .await
        .unwrap();
    assert_eq!(
        g.auto_scaling_groups()[0]
            .launch_template()
            .unwrap()
            .version(),
        Some("2")
    );

    // Drift: the desired capacity changed out of band.
    asg.set_desired_capacity()
        .auto_scaling_group_name("contract-app")
        .desired_capacity(3)
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["app-asg"], vec!["desired_capacity"]);
    e.up(&st).await;

    // Spot above an on-demand base of 2, capacity-optimized, over three types: in place.
    let st = e.stack(build("t3.large", 60.0, true));
    assert_eq!(e.ops(&st).await["app-asg"], Op::Update);
    e.up(&st).await;
    let g = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("contract-app")
        .send()
        .await
        .unwrap();
    let g = &g.auto_scaling_groups()[0];
    let policy = g.mixed_instances_policy().unwrap();
    let d = policy.instances_distribution().unwrap();
    assert_eq!(
        (
            d.on_demand_base_capacity(),
            d.on_demand_percentage_above_base_capacity(),
            d.spot_allocation_strategy()
        ),
        (Some(2), Some(0), Some("capacity-optimized"))
    );
    let types: Vec<_> = policy
        .launch_template()
        .unwrap()
        .overrides()
        .iter()
        .filter_map(|o| o.instance_type())
        .collect();
    assert_eq!(types, ["t3.large", "t3a.large", "m5.large"]);
    let spec = policy
        .launch_template()
        .unwrap()
        .launch_template_specification()
        .unwrap();
    assert_eq!(spec.launch_template_id(), Some(lt_id.as_str()));
    assert!(
        e.drift().await.is_empty(),
        "the policy reads back as declared"
    );

    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
    let g = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("contract-app")
        .send()
        .await
        .unwrap();
    assert!(g.auto_scaling_groups().is_empty());
}

#[tokio::test]
async fn compute_declaration_errors() {
    let mut s = Stack::new("bad-compute");
    s.add("lt", LaunchTemplate::new("x", "not-an-ami", "medium"));
    s.add(
        "asg",
        AutoScalingGroup::new("a", "lt-1", "1", ["subnet-a"])
            .capacity(4, 2, 8)
            .health_check(HealthCheck::Elb, 300),
    );
    s.add(
        "policy",
        ScalingPolicy::target_tracking("a", "p", Metric::Cpu, 0.0),
    );
    let err = s.seal().unwrap_err().to_string();
    for expected in [
        "::lt: field `name`",
        "::lt: field `instance_type`",
        "::lt: field `image_id`",
        "::asg: field `desired_capacity`: 2 is below min_size 4",
        "::asg: field `health_check_type`: ELB health checks need a target group",
        "::policy: field `target_value`",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}

#[tokio::test]
async fn every_replacing_field_replaces() {
    let e = env("compute-replace").await;
    let ec2 = aws_sdk_ec2::Client::new(&e.conf);
    let ami = ec2
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .unwrap()
        .images()[0]
        .image_id()
        .unwrap()
        .to_owned();
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.71.0.0/16")
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
        .cidr_block("10.71.0.0/24")
        .availability_zone("eu-central-1a")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_owned();
    let build = |v: &'static str, metric: Metric| {
        let (ami, subnet) = (ami.clone(), subnet.clone());
        move |s: &mut Stack| {
            let lt = s.add(
                "lt",
                LaunchTemplate::new(format!("replace-{v}"), ami, "t3.micro"),
            );
            let asg = s.add(
                "asg",
                AutoScalingGroup::new(
                    format!("replace-{v}"),
                    lt.id(),
                    lt.latest_version(),
                    [subnet],
                ),
            );
            s.add(
                "policy",
                ScalingPolicy::target_tracking(asg.name(), "p", metric, 50.0),
            );
        }
    };
    e.up(&e.stack(build("a", Metric::Cpu))).await;
    let st = e.stack(build("b", Metric::Memory));
    let ops = e.ops(&st).await;
    for n in ["lt", "asg", "policy"] {
        assert_eq!(ops[n], Op::Replace, "{n}: {ops:?}");
    }
    e.up(&st).await;
    let asg = aws_sdk_autoscaling::Client::new(&e.conf);
    let g = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("replace-a")
        .send()
        .await
        .unwrap();
    assert!(g.auto_scaling_groups().is_empty(), "the old group is gone");
    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(sum.is_success(), "{sum:?}");
}

/// ELB health checks and target groups: attached with the group, another one attached and
/// the first detached in place (AttachLoadBalancerTargetGroups /
/// DetachLoadBalancerTargetGroups), drift reported when one is detached out of band.
#[tokio::test]
async fn target_groups_attach_and_detach_in_place_with_elb_health_checks() {
    let e = env("compute-target-groups").await;
    let ec2 = aws_sdk_ec2::Client::new(&e.conf);
    let ami = ec2
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .unwrap()
        .images()[0]
        .image_id()
        .unwrap()
        .to_owned();
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.71.0.0/16")
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
        .cidr_block("10.71.0.0/24")
        .availability_zone("eu-central-1a")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_owned();
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&e.conf);
    let mut tgs = Vec::new();
    for name in ["tg-blue", "tg-green"] {
        let tg = elb
            .create_target_group()
            .name(name)
            .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
            .port(8080)
            .vpc_id(&vpc)
            .health_check_path("/health")
            .send()
            .await
            .unwrap();
        tgs.push(tg.target_groups()[0].target_group_arn().unwrap().to_owned());
    }
    let build = |tg: String| {
        let (ami, subnet) = (ami.clone(), subnet.clone());
        move |s: &mut Stack| {
            let lt = s.add("app", LaunchTemplate::new("tg-app", ami, "t3.medium"));
            s.add(
                "app-asg",
                AutoScalingGroup::new("tg-app", lt.id(), lt.latest_version(), [subnet])
                    .capacity(1, 1, 2)
                    .target_group(tg)
                    .health_check(HealthCheck::Elb, 300),
            );
        }
    };
    let asg = aws_sdk_autoscaling::Client::new(&e.conf);
    let attached = || async {
        let g = asg
            .describe_auto_scaling_groups()
            .auto_scaling_group_names("tg-app")
            .send()
            .await
            .unwrap();
        let g = g.auto_scaling_groups()[0].clone();
        (
            g.health_check_type().map(str::to_owned),
            g.health_check_grace_period(),
            g.target_group_arns().to_vec(),
        )
    };
    e.up(&e.stack(build(tgs[0].clone()))).await;
    assert_eq!(
        attached().await,
        (Some("ELB".to_owned()), Some(300), vec![tgs[0].clone()])
    );
    assert!(e.drift().await.is_empty());

    // Blue to green: an in-place update of the same group.
    let id = e.id("app-asg").await;
    let st = e.stack(build(tgs[1].clone()));
    assert_eq!(e.ops(&st).await["app-asg"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("app-asg").await, id);
    assert_eq!(attached().await.2, vec![tgs[1].clone()]);

    // Detached out of band: drift on the target groups, and up attaches it again.
    asg.detach_load_balancer_target_groups()
        .auto_scaling_group_name("tg-app")
        .target_group_arns(&tgs[1])
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["app-asg"], vec!["target_group_arns"]);
    e.up(&st).await;
    assert_eq!(attached().await.2, vec![tgs[1].clone()]);
    e.destroy().await;
}

/// Names taken by resources this stack did not make: a launch template name, an auto
/// scaling group name, and two policy names of a group (`PutScalingPolicy` would
/// overwrite either; one of them even equals the declaration). Each create fails naming
/// the conflict, nothing is adopted or changed, and `destroy` leaves them.
#[tokio::test]
async fn taken_names_are_refused_and_left_alone() {
    use aws_sdk_autoscaling::types::{
        LaunchTemplateSpecification, MetricType, PredefinedMetricSpecification,
        TargetTrackingConfiguration,
    };
    use strata_core::resource::{Cx, Recovery, Resource};
    let e = env("compute-taken").await;
    let ec2 = aws_sdk_ec2::Client::new(&e.conf);
    let asg = aws_sdk_autoscaling::Client::new(&e.conf);
    let ami = ec2
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .unwrap()
        .images()[0]
        .image_id()
        .unwrap()
        .to_owned();
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.72.0.0/16")
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
        .cidr_block("10.72.0.0/24")
        .availability_zone("eu-central-1a")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_owned();
    // Somebody else's template, group and policies.
    let lt = ec2
        .create_launch_template()
        .launch_template_name("taken-lt")
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id(&ami)
                .instance_type(aws_sdk_ec2::types::InstanceType::from("t3.micro"))
                .build(),
        )
        .send()
        .await
        .unwrap()
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_owned();
    asg.create_auto_scaling_group()
        .auto_scaling_group_name("taken-asg")
        .launch_template(
            LaunchTemplateSpecification::builder()
                .launch_template_id(&lt)
                .version("1")
                .build(),
        )
        .min_size(0)
        .max_size(1)
        .desired_capacity(0)
        .vpc_zone_identifier(&subnet)
        .tags(
            aws_sdk_autoscaling::types::Tag::builder()
                .resource_id("taken-asg")
                .resource_type("auto-scaling-group")
                .key("owner")
                .value("someone")
                .propagate_at_launch(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for name in ["foreign-cpu", "same-cpu"] {
        asg.put_scaling_policy()
            .auto_scaling_group_name("taken-asg")
            .policy_name(name)
            .policy_type("TargetTrackingScaling")
            .target_tracking_configuration(
                TargetTrackingConfiguration::builder()
                    .predefined_metric_specification(
                        PredefinedMetricSpecification::builder()
                            .predefined_metric_type(MetricType::AsgAverageCpuUtilization)
                            .build(),
                    )
                    .target_value(42.0)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    let st = e.stack(|s| {
        s.add(
            "lt",
            LaunchTemplate::new("taken-lt", ami.clone(), "t3.large"),
        );
        s.add(
            "asg",
            AutoScalingGroup::new("taken-asg", lt.clone(), "1", [subnet.clone()]).capacity(1, 1, 2),
        );
        s.add(
            "policy",
            ScalingPolicy::target_tracking("taken-asg", "foreign-cpu", Metric::Cpu, 70.0),
        );
        // Equal to the existing policy in every property: still not this stack's.
        s.add(
            "same-policy",
            ScalingPolicy::target_tracking("taken-asg", "same-cpu", Metric::Cpu, 42.0),
        );
    });
    for name in ["lt", "asg", "policy", "same-policy"] {
        let err = e.up_conflict(&st, name).await;
        assert!(err.contains("already"), "{name}: {err}");
    }
    let check = || async {
        let t = ec2
            .describe_launch_templates()
            .launch_template_ids(&lt)
            .send()
            .await
            .unwrap();
        let t = &t.launch_templates()[0];
        assert_eq!(t.latest_version_number(), Some(1));
        assert!(t.tags().iter().all(|t| t.key() != Some("strata:token")));
        let g = asg
            .describe_auto_scaling_groups()
            .auto_scaling_group_names("taken-asg")
            .send()
            .await
            .unwrap();
        let g = &g.auto_scaling_groups()[0];
        assert_eq!(
            (g.min_size(), g.desired_capacity(), g.max_size()),
            (Some(0), Some(0), Some(1))
        );
        assert!(g
            .tags()
            .iter()
            .any(|t| t.key() == Some("owner") && t.value() == Some("someone")));
        assert!(g.tags().iter().all(|t| t.key() != Some("strata:token")));
        let p = asg
            .describe_policies()
            .auto_scaling_group_name("taken-asg")
            .send()
            .await
            .unwrap();
        assert_eq!(p.scaling_policies().len(), 2);
        for p in p.scaling_policies() {
            assert_eq!(
                p.target_tracking_configuration()
                    .and_then(|t| t.target_value()),
                Some(42.0),
                "{:?} was overwritten",
                p.policy_name()
            );
        }
    };
    check().await;
    e.destroy().await;
    check().await;

    // Recovery, asked directly with a token of its own: a group or a template without
    // this token is not ours; a policy (no tags) is only when every property is equal.
    let ctx = strata_core::Context::new().with(strata_core::aws::Aws::new(e.conf.clone()));
    let urn = strata_core::Urn::new("compute-taken", ScalingPolicy::TYPE, "p");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-compute-recover",
    };
    let group = AutoScalingGroup::new("taken-asg", lt.clone(), "1", [subnet.clone()]);
    assert!(matches!(
        AutoScalingGroup::recover(&cx, &group).await.unwrap(),
        Recovery::Absent
    ));
    let template = LaunchTemplate::new("taken-lt", ami.clone(), "t3.micro");
    assert!(matches!(
        LaunchTemplate::recover(&cx, &template).await.unwrap(),
        Recovery::Absent
    ));
    let other_target =
        ScalingPolicy::target_tracking("taken-asg", "foreign-cpu", Metric::Cpu, 70.0);
    assert!(matches!(
        ScalingPolicy::recover(&cx, &other_target).await.unwrap(),
        Recovery::Absent
    ));
    let equal = ScalingPolicy::target_tracking("taken-asg", "same-cpu", Metric::Cpu, 42.0);
    let Recovery::Resembles(found) = ScalingPolicy::recover(&cx, &equal).await.unwrap() else {
        panic!("a policy equal in every property was not recovered");
    };
    assert_eq!(found.id, "taken-asg/same-cpu");
}
