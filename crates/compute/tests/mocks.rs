//! What moto cannot show, against `aws-smithy-mocks` answering as AWS does: instances that
//! fail to launch. moto launches every instance at once and keeps no scaling activities.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_sdk_autoscaling::operation::create_auto_scaling_group::CreateAutoScalingGroupOutput;
use aws_sdk_autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput;
use aws_sdk_autoscaling::operation::describe_scaling_activities::DescribeScalingActivitiesOutput;
use aws_sdk_autoscaling::types::{Activity, AutoScalingGroup as Group, ScalingActivityStatusCode};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use strata_compute::*;
use strata_core::resource::{Cx, Resource};
use strata_core::{Context, ProviderError, Urn};

fn group() -> Group {
    Group::builder()
        .auto_scaling_group_name("shop-app")
        .auto_scaling_group_arn("arn:aws:autoscaling:eu-central-1:123456789012:autoScalingGroup:1:autoScalingGroupName/shop-app")
        .min_size(2)
        .max_size(4)
        .desired_capacity(2)
        .build()
}

/// Instances that fail to launch (here an EBS key Auto Scaling's role may not use) are a
/// failed scaling activity on AWS, and a group with no instances. The create fails with
/// Auto Scaling's reason instead of reporting success. A failure Auto Scaling retries past
/// does not end the wait; when it times out, it says how many instances are healthy and
/// the last failure.
#[tokio::test]
async fn a_group_whose_instances_fail_to_launch_fails_its_create() {
    let create = mock!(aws_sdk_autoscaling::Client::create_auto_scaling_group)
        .then_output(|| CreateAutoScalingGroupOutput::builder().build());
    let describe =
        mock!(aws_sdk_autoscaling::Client::describe_auto_scaling_groups).then_output(|| {
            DescribeAutoScalingGroupsOutput::builder()
                .auto_scaling_groups(group())
                .build()
        });
    let failed = mock!(aws_sdk_autoscaling::Client::describe_scaling_activities).then_output(|| {
        DescribeScalingActivitiesOutput::builder()
            .activities(
                Activity::builder()
                    .activity_id("a-1")
                    .auto_scaling_group_name("shop-app")
                    .cause("At 2026-12-01T10:00:00Z an instance was started in response to a difference between desired and actual capacity")
                    .description("Launching a new EC2 instance. Status Reason: Client.InternalError: Client error on launch.")
                    .status_code(ScalingActivityStatusCode::Failed)
                    .status_message("Client.InternalError: Client error on launch.")
                    .start_time(aws_smithy_types::DateTime::from(std::time::SystemTime::now()))
                    .build(),
            )
            .build()
    });
    let client = mock_client!(
        aws_sdk_autoscaling,
        RuleMode::MatchAny,
        [&create, &describe, &failed]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", AutoScalingGroup::TYPE, "app");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "t",
    };
    let args = AutoScalingGroup::new("shop-app", "lt-0123", "1", ["subnet-a"])
        .capacity(2, 2, 4)
        .wait_for_capacity(Duration::from_secs(30));
    let err = AutoScalingGroup::create(&cx, &args).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("auto scaling group shop-app could not launch instances: Client.InternalError: Client error on launch."),
        "{err}"
    );
    assert_eq!(failed.num_calls(), 1, "it failed at the first look");

    // A failure Auto Scaling retries past (no capacity in one zone) is not the end: the
    // wait goes on, and its timeout names it.
    let old = mock!(aws_sdk_autoscaling::Client::describe_scaling_activities).then_output(|| {
        DescribeScalingActivitiesOutput::builder()
            .activities(
                Activity::builder()
                    .activity_id("a-0")
                    .auto_scaling_group_name("shop-app")
                    .status_code(ScalingActivityStatusCode::Failed)
                    .status_message("We currently do not have sufficient t3.medium capacity in the Availability Zone you requested (eu-central-1a). InsufficientInstanceCapacity")
                    .start_time(aws_smithy_types::DateTime::from(std::time::SystemTime::now()))
                    .build(),
            )
            .build()
    });
    let client = mock_client!(
        aws_sdk_autoscaling,
        RuleMode::MatchAny,
        [&create, &describe, &old]
    );
    let ctx = Context::new().with(client);
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "t",
    };
    let args = args.wait_for_capacity(Duration::from_secs(1));
    let err = AutoScalingGroup::create(&cx, &args).await.unwrap_err();
    let ProviderError::Timeout { what, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(
        what.starts_with("auto scaling group shop-app to have 2 healthy instances in service (it has 0; last failed launch: We currently do not have sufficient t3.medium capacity"),
        "{what}"
    );
}
