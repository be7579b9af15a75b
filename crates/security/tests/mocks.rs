//! The calls moto lacks, against `aws-smithy-mocks` with realistic responses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use aws_sdk_guardduty::operation::tag_resource::TagResourceOutput;
use aws_sdk_guardduty::operation::untag_resource::UntagResourceOutput;
use aws_sdk_guardduty::operation::update_detector::{UpdateDetectorError, UpdateDetectorOutput};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use strata_core::resource::{Cx, ProviderError, Resource};
use strata_core::{Context, Urn};
use strata_security::{GuardDutyDetector, GuardDutyDetectorOutputs, PublishingFrequency};

const ARN: &str =
    "arn:aws:guardduty:eu-central-1:123456789012:detector/12abc34d567e8fa901bc2d34e56789f0";

fn outputs() -> GuardDutyDetectorOutputs {
    GuardDutyDetectorOutputs {
        id: "12abc34d567e8fa901bc2d34e56789f0".into(),
        arn: ARN.into(),
    }
}

/// moto has no GuardDuty `TagResource` / `UntagResource`: a tag change of a detector is
/// checked here. Only the tag calls are made (no `UpdateDetector`).
#[tokio::test]
async fn a_detectors_tags_change_in_place_by_tag_and_untag_resource() {
    let tag = mock!(aws_sdk_guardduty::Client::tag_resource)
        .match_requests(|r| {
            r.resource_arn() == Some(ARN)
                && r.tags().is_some_and(|t| {
                    t.len() == 1 && t.get("team").map(String::as_str) == Some("security")
                })
        })
        .then_output(|| TagResourceOutput::builder().build());
    let untag = mock!(aws_sdk_guardduty::Client::untag_resource)
        .match_requests(|r| r.resource_arn() == Some(ARN) && r.tag_keys() == ["owner".to_owned()])
        .then_output(|| UntagResourceOutput::builder().build());
    let update = mock!(aws_sdk_guardduty::Client::update_detector)
        .then_output(|| UpdateDetectorOutput::builder().build());
    let client = mock_client!(
        aws_sdk_guardduty,
        RuleMode::MatchAny,
        [&tag, &untag, &update]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", GuardDutyDetector::TYPE, "guardduty");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "t",
    };
    let mut old = GuardDutyDetector::new();
    old.tags = BTreeMap::from([("owner".to_owned(), "ops".to_owned())]);
    let mut new = GuardDutyDetector::new();
    new.tags = BTreeMap::from([("team".to_owned(), "security".to_owned())]);
    let out = GuardDutyDetector::update(&cx, &outputs().id, &old, &new, &outputs())
        .await
        .unwrap();
    assert_eq!(out, outputs());
    assert_eq!(
        (tag.num_calls(), untag.num_calls(), update.num_calls()),
        (1, 1, 0)
    );
}

/// Throttling that outlasts the SDK's retries surfaces as a transient error, named.
#[tokio::test]
async fn throttling_is_reported_as_transient() {
    let throttled = mock!(aws_sdk_guardduty::Client::update_detector).then_error(|| {
        UpdateDetectorError::generic(
            aws_sdk_guardduty::error::ErrorMetadata::builder()
                .code("ThrottlingException")
                .message("Rate exceeded")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_guardduty, RuleMode::MatchAny, [&throttled]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", GuardDutyDetector::TYPE, "guardduty");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "t",
    };
    let old = GuardDutyDetector::new();
    let new = GuardDutyDetector::new().frequency(PublishingFrequency::OneHour);
    let err = GuardDutyDetector::update(&cx, &outputs().id, &old, &new, &outputs())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProviderError::Transient(m) if m.contains("guardduty:UpdateDetector") && m.contains("Rate exceeded")),
        "{err}"
    );
}

/// An account with a detector already (Organizations enable GuardDuty for members): the
/// create refuses before `CreateDetector`, naming the detector and the import, and never
/// adopts it.
#[tokio::test]
async fn an_existing_detector_is_named_for_import_not_adopted() {
    let listed = mock!(aws_sdk_guardduty::Client::list_detectors).then_output(|| {
        aws_sdk_guardduty::operation::list_detectors::ListDetectorsOutput::builder()
            .detector_ids("12abc34d567e8fa901bc2d34e56789f0")
            .build()
    });
    let create = mock!(aws_sdk_guardduty::Client::create_detector).then_output(|| {
        aws_sdk_guardduty::operation::create_detector::CreateDetectorOutput::builder()
            .detector_id("ffff")
            .build()
    });
    let client = mock_client!(aws_sdk_guardduty, RuleMode::MatchAny, [&listed, &create]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", GuardDutyDetector::TYPE, "guardduty");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "t",
    };
    let err = GuardDutyDetector::create(&cx, &GuardDutyDetector::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProviderError::AlreadyExists { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("12abc34d567e8fa901bc2d34e56789f0")
            && text.contains("import aws:guardduty/detector NAME 12abc34d567e8fa901bc2d34e56789f0"),
        "{text}"
    );
    assert_eq!(create.num_calls(), 0, "no second detector is asked for");
}
