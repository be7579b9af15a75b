//! The calls moto lacks, against `aws-smithy-mocks` with realistic responses:
//! - X-Ray CreateSamplingRule, GetSamplingRules, UpdateSamplingRule, DeleteSamplingRule,
//!   CreateGroup, GetGroup, UpdateGroup, DeleteGroup, TagResource, UntagResource and
//!   ListTagsForResource (moto 5.2.5 serves only X-Ray's trace APIs; the moto tests get
//!   them from scripts/moto_ext.py);
//! - CloudWatch Logs AssociateKmsKey and DisassociateKmsKey;
//! - SNS behaviour moto does not have: an email subscription pending confirmation, which
//!   AWS refuses to unsubscribe.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::DateTime;
use strata_core::resource::{Cx, Recovery, Resource};
use strata_core::{Context, Urn};
use strata_observability::*;

const RULE_ARN: &str = "arn:aws:xray:eu-central-1:123456789012:sampling-rule/shop-checkout";
const GROUP_ARN: &str =
    "arn:aws:xray:eu-central-1:123456789012:group/shop-errors/QWERTYUIOPASDFGHJKLZXCVBNM234567";

fn cx<'a>(ctx: &'a Context, urn: &'a Urn) -> Cx<'a> {
    Cx {
        context: ctx,
        urn,
        token: "tok-1",
    }
}

fn xray_tag(k: &str, v: &str) -> aws_sdk_xray::types::Tag {
    aws_sdk_xray::types::Tag::builder()
        .key(k)
        .value(v)
        .build()
        .unwrap()
}

fn invalid_request(message: &'static str) -> aws_sdk_xray::types::error::InvalidRequestException {
    aws_sdk_xray::types::error::InvalidRequestException::builder()
        .message(message)
        .meta(
            ErrorMetadata::builder()
                .code("InvalidRequestException")
                .message(message)
                .build(),
        )
        .build()
}

// ---------------------------------------------------------------- sampling rules

fn declared_rule() -> SamplingRuleArgs {
    SamplingRule::new("shop-checkout", 100)
        .rate(2, 0.1)
        .service("shop-app")
        .http_method("POST")
        .url_path("/checkout*")
        .attribute("tier", "web")
        .tag("team", "shop")
        .tag("owner", "payments")
}

/// A rule as X-Ray returns it in a `SamplingRuleRecord`.
fn rule_record(name: &str, arn: &str, priority: i32) -> aws_sdk_xray::types::SamplingRuleRecord {
    aws_sdk_xray::types::SamplingRuleRecord::builder()
        .sampling_rule(
            aws_sdk_xray::types::SamplingRule::builder()
                .rule_name(name)
                .rule_arn(arn)
                .resource_arn("*")
                .priority(priority)
                .fixed_rate(if name == "Default" { 0.05 } else { 0.1 })
                .reservoir_size(if name == "Default" { 1 } else { 2 })
                .service_name(if name == "Default" { "*" } else { "shop-app" })
                .service_type("*")
                .host("*")
                .http_method(if name == "Default" { "*" } else { "POST" })
                .url_path(if name == "Default" { "*" } else { "/checkout*" })
                .version(1)
                .set_attributes(Some(if name == "Default" {
                    Default::default()
                } else {
                    [("tier".to_owned(), "web".to_owned())].into()
                }))
                .build()
                .unwrap(),
        )
        .created_at(DateTime::from_secs(1_717_000_000))
        .modified_at(DateTime::from_secs(1_717_000_000))
        .build()
}

/// moto has no X-Ray CreateSamplingRule, GetSamplingRules, UpdateSamplingRule,
/// DeleteSamplingRule, TagResource, UntagResource nor ListTagsForResource.
#[tokio::test]
async fn sampling_rules_create_read_update_delete() {
    use aws_sdk_xray::operation::create_sampling_rule::CreateSamplingRuleOutput;
    use aws_sdk_xray::operation::delete_sampling_rule::{
        DeleteSamplingRuleError, DeleteSamplingRuleOutput,
    };
    use aws_sdk_xray::operation::get_sampling_rules::GetSamplingRulesOutput;
    use aws_sdk_xray::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_xray::operation::tag_resource::TagResourceOutput;
    use aws_sdk_xray::operation::untag_resource::UntagResourceOutput;
    use aws_sdk_xray::operation::update_sampling_rule::UpdateSamplingRuleOutput;

    let urn = Urn::new("dev", SamplingRule::TYPE, "checkout");
    let urn_s = urn.to_string();
    let create = mock!(aws_sdk_xray::Client::create_sampling_rule)
        .match_requests(move |r| {
            let rule = r.sampling_rule().unwrap();
            let tags: BTreeMap<_, _> = r.tags().iter().map(|t| (t.key(), t.value())).collect();
            rule.rule_name() == Some("shop-checkout")
                && (rule.priority(), rule.fixed_rate(), rule.reservoir_size()) == (100, 0.1, 2)
                && (rule.url_path(), rule.http_method(), rule.version())
                    == ("/checkout*", "POST", 1)
                && tags.get("team") == Some(&"shop")
                && tags.get("strata:urn") == Some(&urn_s.as_str())
                && tags.get("strata:token") == Some(&"tok-1")
        })
        .then_output(|| {
            CreateSamplingRuleOutput::builder()
                .sampling_rule_record(rule_record("shop-checkout", RULE_ARN, 100))
                .build()
        });
    let list = mock!(aws_sdk_xray::Client::get_sampling_rules).then_output(|| {
        GetSamplingRulesOutput::builder()
            .sampling_rule_records(rule_record("shop-checkout", RULE_ARN, 100))
            .sampling_rule_records(rule_record(
                "Default",
                "arn:aws:xray:eu-central-1:123456789012:sampling-rule/Default",
                10000,
            ))
            .build()
    });
    let urn_s = urn.to_string();
    let tags = mock!(aws_sdk_xray::Client::list_tags_for_resource)
        .match_requests(|r| r.resource_arn() == Some(RULE_ARN))
        .then_output(move || {
            ListTagsForResourceOutput::builder()
                .tags(xray_tag("team", "shop"))
                .tags(xray_tag("owner", "payments"))
                .tags(xray_tag("strata:stack", "dev"))
                .tags(xray_tag("strata:urn", &urn_s))
                .tags(xray_tag("strata:token", "tok-1"))
                .build()
        });
    let update = mock!(aws_sdk_xray::Client::update_sampling_rule)
        .match_requests(|r| {
            let u = r.sampling_rule_update().unwrap();
            u.rule_name() == Some("shop-checkout")
                && u.priority() == Some(200)
                && u.fixed_rate() == Some(0.2)
                && u.url_path() == Some("/checkout*")
        })
        .then_output(|| {
            UpdateSamplingRuleOutput::builder()
                .sampling_rule_record(rule_record("shop-checkout", RULE_ARN, 200))
                .build()
        });
    let untag = mock!(aws_sdk_xray::Client::untag_resource)
        .match_requests(|r| r.resource_arn() == Some(RULE_ARN) && r.tag_keys() == ["owner"])
        .then_output(|| UntagResourceOutput::builder().build());
    let tag = mock!(aws_sdk_xray::Client::tag_resource)
        .match_requests(|r| {
            r.resource_arn() == Some(RULE_ARN)
                && r.tags().len() == 1
                && (r.tags()[0].key(), r.tags()[0].value()) == ("team", "checkout")
        })
        .then_output(|| TagResourceOutput::builder().build());
    let delete = mock!(aws_sdk_xray::Client::delete_sampling_rule)
        .match_requests(|r| r.rule_name() == Some("shop-checkout"))
        .sequence()
        .output(|| {
            DeleteSamplingRuleOutput::builder()
                .sampling_rule_record(rule_record("shop-checkout", RULE_ARN, 200))
                .build()
        })
        .error(|| {
            DeleteSamplingRuleError::InvalidRequestException(invalid_request(
                "Sampling rule does not exist",
            ))
        })
        .build();
    let client = mock_client!(
        aws_sdk_xray,
        RuleMode::MatchAny,
        [&create, &list, &tags, &update, &untag, &tag, &delete]
    );
    let ctx = Context::new().with(client);
    let cx = cx(&ctx, &urn);
    let declared = declared_rule();

    let created = SamplingRule::create(&cx, &declared).await.unwrap();
    assert_eq!(created.id, "shop-checkout");
    assert_eq!(created.outputs.arn, RULE_ARN);
    assert_eq!(create.num_calls(), 1);

    // Read: the declaration, strata's tags left out.
    let seen = SamplingRule::read(&cx, "shop-checkout", Some(&declared))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.args, declared);
    assert_eq!(seen.outputs, created.outputs);
    assert!(matches!(
        SamplingRule::recover(&cx, &declared).await.unwrap(),
        Recovery::Found(c) if c.id == "shop-checkout"
    ));
    // Another rule's name is not there.
    assert!(SamplingRule::read(&cx, "shop-search", None)
        .await
        .unwrap()
        .is_none());

    // In place: priority, rate, a tag changed and one removed.
    let mut new = declared.clone();
    new.priority = 200;
    new.fixed_rate = 0.2;
    new.tags = BTreeMap::from([("team".to_owned(), "checkout".to_owned())]);
    SamplingRule::update(&cx, "shop-checkout", &declared, &new, &created.outputs)
        .await
        .unwrap();
    assert_eq!(
        (update.num_calls(), untag.num_calls(), tag.num_calls()),
        (1, 1, 1)
    );
    // Delete, and deleting again (already gone) succeeds.
    SamplingRule::delete(&cx, "shop-checkout", &new, &created.outputs)
        .await
        .unwrap();
    SamplingRule::delete(&cx, "shop-checkout", &new, &created.outputs)
        .await
        .unwrap();
    assert_eq!(delete.num_calls(), 2);
}

// ---------------------------------------------------------------- groups

fn group(filter: &str, insights: bool) -> aws_sdk_xray::types::Group {
    aws_sdk_xray::types::Group::builder()
        .group_name("shop-errors")
        .group_arn(GROUP_ARN)
        .filter_expression(filter)
        .insights_configuration(
            aws_sdk_xray::types::InsightsConfiguration::builder()
                .insights_enabled(insights)
                .notifications_enabled(false)
                .build(),
        )
        .build()
}

/// moto has no X-Ray CreateGroup, GetGroup, UpdateGroup, DeleteGroup, TagResource nor
/// ListTagsForResource.
#[tokio::test]
async fn xray_groups_create_read_update_delete() {
    use aws_sdk_xray::operation::create_group::CreateGroupOutput;
    use aws_sdk_xray::operation::delete_group::{DeleteGroupError, DeleteGroupOutput};
    use aws_sdk_xray::operation::get_group::{GetGroupError, GetGroupOutput};
    use aws_sdk_xray::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_xray::operation::update_group::UpdateGroupOutput;

    let urn = Urn::new("dev", XrayGroup::TYPE, "errors");
    let urn_s = urn.to_string();
    let create = mock!(aws_sdk_xray::Client::create_group)
        .match_requests(move |r| {
            let ins = r.insights_configuration().unwrap();
            r.group_name() == Some("shop-errors")
                && r.filter_expression() == Some("fault")
                && ins.insights_enabled() == Some(true)
                && ins.notifications_enabled() == Some(false)
                && r.tags()
                    .iter()
                    .any(|t| t.key() == "strata:urn" && t.value() == urn_s)
        })
        .then_output(|| {
            CreateGroupOutput::builder()
                .group(group("fault", true))
                .build()
        });
    let get = mock!(aws_sdk_xray::Client::get_group)
        .match_requests(|r| r.group_arn() == Some(GROUP_ARN))
        .then_output(|| {
            GetGroupOutput::builder()
                .group(group("fault", true))
                .build()
        });
    let gone = mock!(aws_sdk_xray::Client::get_group)
        .match_requests(|r| r.group_arn() != Some(GROUP_ARN))
        .then_error(|| GetGroupError::InvalidRequestException(invalid_request("Group not found")));
    let urn_s = urn.to_string();
    let tags = mock!(aws_sdk_xray::Client::list_tags_for_resource).then_output(move || {
        ListTagsForResourceOutput::builder()
            .tags(xray_tag("team", "shop"))
            .tags(xray_tag("strata:urn", &urn_s))
            .build()
    });
    let update = mock!(aws_sdk_xray::Client::update_group)
        .match_requests(|r| {
            r.group_arn() == Some(GROUP_ARN)
                && r.filter_expression() == Some("fault OR error")
                && r.insights_configuration()
                    .and_then(|i| i.insights_enabled())
                    == Some(false)
        })
        .then_output(|| {
            UpdateGroupOutput::builder()
                .group(group("fault OR error", false))
                .build()
        });
    let delete = mock!(aws_sdk_xray::Client::delete_group)
        .sequence()
        .output(|| DeleteGroupOutput::builder().build())
        .error(|| DeleteGroupError::InvalidRequestException(invalid_request("Group not found")))
        .build();
    let client = mock_client!(
        aws_sdk_xray,
        RuleMode::MatchAny,
        [&create, &get, &gone, &tags, &update, &delete]
    );
    let ctx = Context::new().with(client);
    let cx = cx(&ctx, &urn);
    let declared = XrayGroup::new("shop-errors", "fault")
        .insights(true, false)
        .tag("team", "shop");

    let created = XrayGroup::create(&cx, &declared).await.unwrap();
    assert_eq!(created.id, GROUP_ARN);
    assert_eq!(created.outputs.name, "shop-errors");

    let seen = XrayGroup::read(&cx, GROUP_ARN, Some(&declared))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.args, declared);
    // A group that is gone reads as None.
    let other = "arn:aws:xray:eu-central-1:123456789012:group/old/AAAA";
    assert!(XrayGroup::read(&cx, other, None).await.unwrap().is_none());

    let new = XrayGroup::new("shop-errors", "fault OR error").tag("team", "shop");
    XrayGroup::update(&cx, GROUP_ARN, &declared, &new, &created.outputs)
        .await
        .unwrap();
    assert_eq!(update.num_calls(), 1);

    XrayGroup::delete(&cx, GROUP_ARN, &new, &created.outputs)
        .await
        .unwrap();
    XrayGroup::delete(&cx, GROUP_ARN, &new, &created.outputs)
        .await
        .unwrap();
    assert_eq!(delete.num_calls(), 2);
}

// ---------------------------------------------------------------- log group KMS keys

/// moto has no CloudWatch Logs AssociateKmsKey nor DisassociateKmsKey.
#[tokio::test]
async fn log_group_kms_keys_change_in_place() {
    use aws_sdk_cloudwatchlogs::operation::associate_kms_key::AssociateKmsKeyOutput;
    use aws_sdk_cloudwatchlogs::operation::disassociate_kms_key::DisassociateKmsKeyOutput;

    const KEY: &str =
        "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555";
    let associate = mock!(aws_sdk_cloudwatchlogs::Client::associate_kms_key)
        .match_requests(|r| r.log_group_name() == Some("/shop/app") && r.kms_key_id() == Some(KEY))
        .then_output(|| AssociateKmsKeyOutput::builder().build());
    let disassociate = mock!(aws_sdk_cloudwatchlogs::Client::disassociate_kms_key)
        .match_requests(|r| r.log_group_name() == Some("/shop/app"))
        .then_output(|| DisassociateKmsKeyOutput::builder().build());
    let client = mock_client!(
        aws_sdk_cloudwatchlogs,
        RuleMode::MatchAny,
        [&associate, &disassociate]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", LogGroup::TYPE, "app-logs");
    let cx = cx(&ctx, &urn);
    let outputs = LogGroupOutputs {
        name: "/shop/app".into(),
        arn: "arn:aws:logs:eu-central-1:123456789012:log-group:/shop/app".into(),
    };
    let plain = LogGroup::new("/shop/app").retention(30);
    let encrypted = LogGroup::new("/shop/app").retention(30).kms_key(KEY);
    LogGroup::update(&cx, "/shop/app", &plain, &encrypted, &outputs)
        .await
        .unwrap();
    assert_eq!((associate.num_calls(), disassociate.num_calls()), (1, 0));
    LogGroup::update(&cx, "/shop/app", &encrypted, &plain, &outputs)
        .await
        .unwrap();
    assert_eq!((associate.num_calls(), disassociate.num_calls()), (1, 1));
}

// ---------------------------------------------------------------- log group deletion protection

/// moto has no log group deletion protection: a log group with it on is found before a
/// delete (which CloudWatch Logs would refuse), by a read-only describe.
#[tokio::test]
async fn a_protected_log_group_blocks_its_delete() {
    use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;

    let describe = |name: &'static str, protected: bool| {
        mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
            .match_requests(move |r| r.log_group_name_prefix() == Some(name))
            .then_output(move || {
                DescribeLogGroupsOutput::builder()
                    .log_groups(
                        aws_sdk_cloudwatchlogs::types::LogGroup::builder()
                            .log_group_name(name)
                            .deletion_protection_enabled(protected)
                            .build(),
                    )
                    .build()
            })
    };
    let protected = describe("/shop/audit", true);
    let plain = describe("/shop/app", false);
    let client = mock_client!(
        aws_sdk_cloudwatchlogs,
        RuleMode::MatchAny,
        [&protected, &plain]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", LogGroup::TYPE, "logs");
    let cx = cx(&ctx, &urn);
    let outputs = |n: &str| LogGroupOutputs {
        name: n.into(),
        arn: format!("arn:aws:logs:eu-central-1:123456789012:log-group:{n}"),
    };
    let blocker = LogGroup::delete_blocker(
        &cx,
        "/shop/audit",
        &LogGroup::new("/shop/audit"),
        &outputs("/shop/audit"),
    )
    .await
    .unwrap()
    .expect("a blocker");
    assert_eq!(blocker.field, "deletion_protection_enabled");
    assert!(
        blocker.message.contains("/shop/audit"),
        "{}",
        blocker.message
    );
    assert!(LogGroup::delete_blocker(
        &cx,
        "/shop/app",
        &LogGroup::new("/shop/app"),
        &outputs("/shop/app")
    )
    .await
    .unwrap()
    .is_none());
}

// ---------------------------------------------------------------- pending subscriptions

/// moto confirms every subscription at once; AWS leaves email ones pending until the
/// recipient confirms, and refuses to unsubscribe them.
#[tokio::test]
async fn email_subscriptions_pending_confirmation() {
    use aws_sdk_sns::operation::get_subscription_attributes::GetSubscriptionAttributesOutput;
    use aws_sdk_sns::operation::list_subscriptions_by_topic::ListSubscriptionsByTopicOutput;
    use aws_sdk_sns::operation::subscribe::SubscribeOutput;
    use aws_sdk_sns::operation::unsubscribe::UnsubscribeError;

    const TOPIC: &str = "arn:aws:sns:eu-central-1:123456789012:shop-critical";
    const SUB: &str =
        "arn:aws:sns:eu-central-1:123456789012:shop-critical:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    // The create first checks that the endpoint is not subscribed yet.
    let listed = mock!(aws_sdk_sns::Client::list_subscriptions_by_topic)
        .match_requests(|r| r.topic_arn() == Some(TOPIC))
        .then_output(|| ListSubscriptionsByTopicOutput::builder().build());
    let subscribe = mock!(aws_sdk_sns::Client::subscribe)
        .match_requests(|r| {
            r.return_subscription_arn() == Some(true)
                && r.protocol() == Some("email")
                && r.endpoint() == Some("devops@example.com")
        })
        .then_output(|| SubscribeOutput::builder().subscription_arn(SUB).build());
    let attrs = mock!(aws_sdk_sns::Client::get_subscription_attributes).then_output(|| {
        GetSubscriptionAttributesOutput::builder()
            .attributes("SubscriptionArn", SUB)
            .attributes("TopicArn", TOPIC)
            .attributes("Protocol", "email")
            .attributes("Endpoint", "devops@example.com")
            .attributes("Owner", "123456789012")
            .attributes("PendingConfirmation", "true")
            .attributes("ConfirmationWasAuthenticated", "false")
            .attributes("RawMessageDelivery", "false")
            .build()
    });
    let unsubscribe = mock!(aws_sdk_sns::Client::unsubscribe).then_error(|| {
        let m = "Invalid parameter: Cannot unsubscribe a subscription that is pending confirmation";
        UnsubscribeError::InvalidParameterException(
            aws_sdk_sns::types::error::InvalidParameterException::builder()
                .message(m)
                .meta(
                    ErrorMetadata::builder()
                        .code("InvalidParameter")
                        .message(m)
                        .build(),
                )
                .build(),
        )
    });
    let client = mock_client!(
        aws_sdk_sns,
        RuleMode::MatchAny,
        [&listed, &subscribe, &attrs, &unsubscribe]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", Subscription::TYPE, "devops");
    let cx = cx(&ctx, &urn);
    let declared = Subscription::new(TOPIC, Protocol::Email, "devops@example.com");

    // The id is the ARN AWS returns with ReturnSubscriptionArn, even while pending; the
    // create does not wait for a person to click the link.
    let created = Subscription::create(&cx, &declared).await.unwrap();
    assert_eq!(created.id, SUB);
    assert!(created.outputs.pending_confirmation);
    assert_eq!(listed.num_calls(), 1);
    let seen = Subscription::read(&cx, SUB, Some(&declared))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.args, declared);
    assert!(seen.outputs.pending_confirmation);

    // AWS refuses to unsubscribe it: the delete succeeds (it expires on AWS) without
    // waiting for it to disappear.
    Subscription::delete(&cx, SUB, &declared, &created.outputs)
        .await
        .unwrap();
    assert_eq!(unsubscribe.num_calls(), 1);
}
