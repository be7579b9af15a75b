//! What moto lacks of Route 53 and CloudFront, against `aws-smithy-mocks` with AWS's
//! answers:
//!
//! - CloudFront GetDistribution: AWS's answer carries an S3 origin's `S3OriginConfig` and
//!   `OriginAccessControlId` (moto 5.2.5 drops them; `scripts/moto_ext.py` keeps them), and
//!   the read gives back exactly what was declared.
//! - CloudFront DeleteDistribution: AWS deletes only a disabled, deployed distribution, with
//!   the current ETag in `IfMatch`; moto deletes anything and ignores the ETag.
//! - CloudFront UpdateOriginAccessControl: moto ignores `IfMatch`.
//! - Route 53 UpdateHealthCheck: moto ignores `HealthCheckVersion` and `ResetElements`.
//! - Route 53 ChangeResourceRecordSets: moto answers `INSYNC` at once; AWS answers `PENDING`
//!   and GetChange says when the change is `INSYNC`.
//! - Route 53 ChangeResourceRecordSets CREATE of a record set that exists: AWS refuses the
//!   batch (`InvalidChangeBatch`); moto 5.2.5 refuses it only when the very same CREATE is
//!   in its change journal, and otherwise adds a second record set of that name and type.
//! - Route 53 CreateHostedZone: AWS refuses a second create with the same `CallerReference`
//!   (`HostedZoneAlreadyExists`); moto makes another zone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_cloudfront::operation::delete_distribution::DeleteDistributionOutput;
use aws_sdk_cloudfront::operation::get_distribution::GetDistributionOutput;
use aws_sdk_cloudfront::operation::get_distribution_config::{
    GetDistributionConfigError, GetDistributionConfigOutput,
};
use aws_sdk_cloudfront::operation::get_origin_access_control::GetOriginAccessControlOutput;
use aws_sdk_cloudfront::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_cloudfront::operation::update_distribution::UpdateDistributionOutput;
use aws_sdk_cloudfront::operation::update_origin_access_control::UpdateOriginAccessControlOutput;
use aws_sdk_cloudfront::types as cft;
use aws_sdk_route53::operation::change_resource_record_sets::{
    ChangeResourceRecordSetsError, ChangeResourceRecordSetsOutput,
};
use aws_sdk_route53::operation::change_tags_for_resource::ChangeTagsForResourceOutput;
use aws_sdk_route53::operation::create_hosted_zone::CreateHostedZoneError;
use aws_sdk_route53::operation::get_change::GetChangeOutput;
use aws_sdk_route53::operation::get_health_check::GetHealthCheckOutput;
use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneOutput;
use aws_sdk_route53::operation::list_hosted_zones::ListHostedZonesOutput;
use aws_sdk_route53::operation::update_health_check::UpdateHealthCheckOutput;
use aws_sdk_route53::types as r53t;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use strata_core::resource::{Cx, Resource};
use strata_core::{Context, ProviderError, Urn};
use strata_edge::*;

const CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab";
const ARN: &str = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL";

fn cx<'a>(ctx: &'a Context, urn: &'a Urn) -> Cx<'a> {
    Cx {
        context: ctx,
        urn,
        token: "tok-mock",
    }
}

/// The declared distribution of these tests.
fn declared() -> DistributionArgs {
    Distribution::new(CacheBehavior::dynamic("alb"))
        .origin(DistributionOrigin::custom(
            "alb",
            "shop-alb-1234567890.eu-central-1.elb.amazonaws.com",
        ))
        .origin(DistributionOrigin::s3(
            "images",
            "shop-images.s3.eu-central-1.amazonaws.com",
            "E1OACEXAMPLE",
        ))
        .behavior("/images/*", CacheBehavior::static_assets("images"))
        .alias("shop.example.com")
        .certificate(CERT)
        .price_class(PriceClass::Class100)
        .comment("shop")
        .tag("team", "edge")
}

fn methods(items: &[cft::Method]) -> Vec<cft::Method> {
    items.to_vec()
}

fn allowed(items: &[cft::Method]) -> cft::AllowedMethods {
    cft::AllowedMethods::builder()
        .quantity(items.len() as i32)
        .set_items(Some(methods(items)))
        .cached_methods(
            cft::CachedMethods::builder()
                .quantity(2)
                .items(cft::Method::Head)
                .items(cft::Method::Get)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

/// The configuration as AWS answers it for `declared()`: every origin with its kind's
/// configuration, the OAC id on the S3 origin, empty strings and defaults where nothing was
/// declared, methods in AWS's order.
fn aws_config(enabled: bool) -> cft::DistributionConfig {
    use cft::Method::*;
    let empty_headers = cft::CustomHeaders::builder().quantity(0).build().unwrap();
    let s3 = cft::Origin::builder()
        .id("images")
        .domain_name("shop-images.s3.eu-central-1.amazonaws.com")
        .origin_path("")
        .custom_headers(empty_headers.clone())
        .s3_origin_config(
            cft::S3OriginConfig::builder()
                .origin_access_identity("")
                .build(),
        )
        .connection_attempts(3)
        .connection_timeout(10)
        .origin_shield(cft::OriginShield::builder().enabled(false).build().unwrap())
        .origin_access_control_id("E1OACEXAMPLE")
        .build()
        .unwrap();
    let alb = cft::Origin::builder()
        .id("alb")
        .domain_name("shop-alb-1234567890.eu-central-1.elb.amazonaws.com")
        .origin_path("")
        .custom_headers(empty_headers)
        .custom_origin_config(
            cft::CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(cft::OriginProtocolPolicy::HttpsOnly)
                .origin_ssl_protocols(
                    cft::OriginSslProtocols::builder()
                        .quantity(1)
                        .items(cft::SslProtocol::TlSv12)
                        .build()
                        .unwrap(),
                )
                .origin_read_timeout(30)
                .origin_keepalive_timeout(5)
                .build()
                .unwrap(),
        )
        .connection_attempts(3)
        .connection_timeout(10)
        .origin_access_control_id("")
        .build()
        .unwrap();
    cft::DistributionConfig::builder()
        .caller_reference("tok-mock")
        .aliases(
            cft::Aliases::builder()
                .quantity(1)
                .items("shop.example.com")
                .build()
                .unwrap(),
        )
        .default_root_object("")
        .origins(
            cft::Origins::builder()
                .quantity(2)
                .items(alb)
                .items(s3)
                .build()
                .unwrap(),
        )
        .origin_groups(cft::OriginGroups::builder().quantity(0).build().unwrap())
        .default_cache_behavior(
            cft::DefaultCacheBehavior::builder()
                .target_origin_id("alb")
                .viewer_protocol_policy(cft::ViewerProtocolPolicy::RedirectToHttps)
                .allowed_methods(allowed(&[Head, Delete, Post, Get, Options, Put, Patch]))
                .smooth_streaming(false)
                .compress(true)
                .field_level_encryption_id("")
                .cache_policy_id(managed_policies::CACHING_DISABLED)
                .origin_request_policy_id(managed_policies::ALL_VIEWER)
                .build()
                .unwrap(),
        )
        .cache_behaviors(
            cft::CacheBehaviors::builder()
                .quantity(1)
                .items(
                    cft::CacheBehavior::builder()
                        .path_pattern("/images/*")
                        .target_origin_id("images")
                        .viewer_protocol_policy(cft::ViewerProtocolPolicy::RedirectToHttps)
                        .allowed_methods(allowed(&[Head, Get]))
                        .smooth_streaming(false)
                        .compress(true)
                        .field_level_encryption_id("")
                        .cache_policy_id(managed_policies::CACHING_OPTIMIZED)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .custom_error_responses(
            cft::CustomErrorResponses::builder()
                .quantity(0)
                .build()
                .unwrap(),
        )
        .comment("shop")
        .logging(
            cft::LoggingConfig::builder()
                .enabled(false)
                .include_cookies(false)
                .bucket("")
                .prefix("")
                .build(),
        )
        .price_class(cft::PriceClass::PriceClass100)
        .enabled(enabled)
        .viewer_certificate(
            cft::ViewerCertificate::builder()
                .cloud_front_default_certificate(false)
                .acm_certificate_arn(CERT)
                .ssl_support_method(cft::SslSupportMethod::SniOnly)
                .minimum_protocol_version(cft::MinimumProtocolVersion::TlSv122021)
                .build(),
        )
        .restrictions(
            cft::Restrictions::builder()
                .geo_restriction(
                    cft::GeoRestriction::builder()
                        .restriction_type(cft::GeoRestrictionType::None)
                        .quantity(0)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .web_acl_id("")
        .http_version(cft::HttpVersion::Http2)
        .is_ipv6_enabled(true)
        .build()
        .unwrap()
}

fn aws_distribution(status: &str, enabled: bool) -> cft::Distribution {
    cft::Distribution::builder()
        .id("E2QWRUHAPOMQZL")
        .arn(ARN)
        .status(status)
        .last_modified_time(aws_smithy_types::DateTime::from_secs(1_700_000_000))
        .in_progress_invalidation_batches(0)
        .domain_name("d111111abcdef8.cloudfront.net")
        .distribution_config(aws_config(enabled))
        .build()
        .unwrap()
}

fn aws_tags() -> cft::Tags {
    cft::Tags::builder()
        .items(
            cft::Tag::builder()
                .key("team")
                .value("edge")
                .build()
                .unwrap(),
        )
        .items(
            cft::Tag::builder()
                .key("strata:urn")
                .value("urn:strata:dev::aws:cloudfront/distribution::cdn")
                .build()
                .unwrap(),
        )
        .items(
            cft::Tag::builder()
                .key("strata:token")
                .value("tok-mock")
                .build()
                .unwrap(),
        )
        .build()
}

/// With AWS's answer (an S3 origin's `S3OriginConfig` and `OriginAccessControlId` in it),
/// the read is exactly the declaration (no drift).
#[tokio::test]
async fn a_distribution_reads_back_as_declared() {
    let get = mock!(aws_sdk_cloudfront::Client::get_distribution)
        .match_requests(|r| r.id() == Some("E2QWRUHAPOMQZL"))
        .then_output(|| {
            GetDistributionOutput::builder()
                .distribution(aws_distribution("Deployed", true))
                .e_tag("E1")
                .build()
        });
    let tags = mock!(aws_sdk_cloudfront::Client::list_tags_for_resource)
        .match_requests(|r| r.resource() == Some(ARN))
        .then_output(|| {
            ListTagsForResourceOutput::builder()
                .tags(aws_tags())
                .build()
        });
    let client = mock_client!(aws_sdk_cloudfront, RuleMode::MatchAny, [&get, &tags]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", Distribution::TYPE, "cdn");
    let args = declared();
    let seen = Distribution::read(&cx(&ctx, &urn), "E2QWRUHAPOMQZL", Some(&args))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.args, args);
    assert_eq!(
        (
            seen.outputs.domain_name.as_str(),
            seen.outputs.hosted_zone_id.as_str(),
            seen.outputs.arn.as_str()
        ),
        ("d111111abcdef8.cloudfront.net", "Z2FDTNDATAQYW2", ARN)
    );
    // Without declared args (import), the same values.
    let imported = Distribution::read(&cx(&ctx, &urn), "E2QWRUHAPOMQZL", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(imported.args, args);
}

/// AWS deletes only a disabled, deployed distribution, with its current ETag; moto deletes
/// anything.
#[tokio::test]
async fn delete_disables_waits_for_the_deployment_then_deletes_with_the_fresh_etag() {
    let get_config = mock!(aws_sdk_cloudfront::Client::get_distribution_config).then_output(|| {
        GetDistributionConfigOutput::builder()
            .distribution_config(aws_config(true))
            .e_tag("E1")
            .build()
    });
    let disable = mock!(aws_sdk_cloudfront::Client::update_distribution)
        .match_requests(|r| {
            r.if_match() == Some("E1")
                && r.distribution_config().is_some_and(|c| {
                    // Only Enabled changes: everything else is sent back as it was.
                    let mut want = aws_config(false);
                    want.caller_reference = c.caller_reference.clone();
                    !c.enabled && *c == want
                })
        })
        .then_output(|| {
            UpdateDistributionOutput::builder()
                .distribution(aws_distribution("InProgress", false))
                .e_tag("E2")
                .build()
        });
    let get = mock!(aws_sdk_cloudfront::Client::get_distribution).then_output(|| {
        GetDistributionOutput::builder()
            .distribution(aws_distribution("Deployed", false))
            .e_tag("E2")
            .build()
    });
    let delete = mock!(aws_sdk_cloudfront::Client::delete_distribution)
        .match_requests(|r| r.id() == Some("E2QWRUHAPOMQZL") && r.if_match() == Some("E2"))
        .then_output(|| DeleteDistributionOutput::builder().build());
    let client = mock_client!(
        aws_sdk_cloudfront,
        RuleMode::MatchAny,
        [&get_config, &disable, &get, &delete]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", Distribution::TYPE, "cdn");
    let outputs = DistributionOutputs {
        id: "E2QWRUHAPOMQZL".into(),
        arn: ARN.into(),
        domain_name: "d111111abcdef8.cloudfront.net".into(),
        hosted_zone_id: CLOUDFRONT_ZONE_ID.into(),
    };
    Distribution::delete(&cx(&ctx, &urn), "E2QWRUHAPOMQZL", &declared(), &outputs)
        .await
        .unwrap();
    assert_eq!((disable.num_calls(), delete.num_calls()), (1, 1));
    assert!(
        get.num_calls() >= 2,
        "waited for Deployed, then read the fresh ETag"
    );

    // Already gone counts as deleted.
    let gone = mock!(aws_sdk_cloudfront::Client::get_distribution_config).then_error(|| {
        GetDistributionConfigError::NoSuchDistribution(
            cft::error::NoSuchDistribution::builder()
                .message("The specified distribution does not exist.")
                .meta(
                    aws_sdk_cloudfront::error::ErrorMetadata::builder()
                        .code("NoSuchDistribution")
                        .message("The specified distribution does not exist.")
                        .build(),
                )
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_cloudfront, RuleMode::MatchAny, [&gone]);
    let ctx = Context::new().with(client);
    Distribution::delete(&cx(&ctx, &urn), "E2QWRUHAPOMQZL", &declared(), &outputs)
        .await
        .unwrap();
    assert_eq!(gone.num_calls(), 1);
}

fn oac_config(description: &str) -> cft::OriginAccessControlConfig {
    cft::OriginAccessControlConfig::builder()
        .name("shop-images")
        .description(description)
        .signing_protocol(cft::OriginAccessControlSigningProtocols::Sigv4)
        .signing_behavior(cft::OriginAccessControlSigningBehaviors::Always)
        .origin_access_control_origin_type(cft::OriginAccessControlOriginTypes::S3)
        .build()
        .unwrap()
}

/// moto ignores `IfMatch` on UpdateOriginAccessControl; AWS refuses a stale ETag.
#[tokio::test]
async fn an_oac_update_sends_its_current_etag() {
    let get = mock!(aws_sdk_cloudfront::Client::get_origin_access_control).then_output(|| {
        GetOriginAccessControlOutput::builder()
            .origin_access_control(
                cft::OriginAccessControl::builder()
                    .id("E1OACEXAMPLE")
                    .origin_access_control_config(oac_config("old"))
                    .build()
                    .unwrap(),
            )
            .e_tag("ETAG7")
            .build()
    });
    let update = mock!(aws_sdk_cloudfront::Client::update_origin_access_control)
        .match_requests(|r| {
            r.id() == Some("E1OACEXAMPLE")
                && r.if_match() == Some("ETAG7")
                && r.origin_access_control_config() == Some(&oac_config("new"))
        })
        .then_output(|| {
            UpdateOriginAccessControlOutput::builder()
                .e_tag("ETAG8")
                .build()
        });
    let client = mock_client!(aws_sdk_cloudfront, RuleMode::MatchAny, [&get, &update]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", OriginAccessControl::TYPE, "oac");
    let outputs = OriginAccessControlOutputs {
        id: "E1OACEXAMPLE".into(),
    };
    OriginAccessControl::update(
        &cx(&ctx, &urn),
        "E1OACEXAMPLE",
        &OriginAccessControl::s3("shop-images").description("old"),
        &OriginAccessControl::s3("shop-images").description("new"),
        &outputs,
    )
    .await
    .unwrap();
    assert_eq!(update.num_calls(), 1);
}

/// moto ignores `HealthCheckVersion` and `ResetElements`; AWS refuses a stale version, and
/// keeps a setting that is only left out.
#[tokio::test]
async fn a_health_check_update_sends_its_version_and_resets_what_was_removed() {
    let get = mock!(aws_sdk_route53::Client::get_health_check).then_output(|| {
        GetHealthCheckOutput::builder()
            .health_check(
                r53t::HealthCheck::builder()
                    .id("abcdef11-2222-3333-4444-555555555555")
                    .caller_reference("tok-mock")
                    .health_check_config(
                        r53t::HealthCheckConfig::builder()
                            .r#type(r53t::HealthCheckType::Https)
                            .fully_qualified_domain_name("shop.example.com")
                            .port(443)
                            .resource_path("/health")
                            .request_interval(30)
                            .failure_threshold(3)
                            .build()
                            .unwrap(),
                    )
                    .health_check_version(4)
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let update = mock!(aws_sdk_route53::Client::update_health_check)
        .match_requests(|r| {
            r.health_check_id() == Some("abcdef11-2222-3333-4444-555555555555")
                && r.health_check_version() == Some(4)
                && r.failure_threshold() == Some(5)
                && r.resource_path().is_none()
                && r.reset_elements()
                    .contains(&r53t::ResettableElementName::ResourcePath)
                && r.reset_elements()
                    .contains(&r53t::ResettableElementName::Regions)
        })
        .then_output(|| UpdateHealthCheckOutput::builder().build());
    let client = mock_client!(aws_sdk_route53, RuleMode::MatchAny, [&get, &update]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", HealthCheck::TYPE, "hc");
    let old = HealthCheck::new(HealthCheckType::Https, "shop.example.com").resource_path("/health");
    let mut new = HealthCheck::new(HealthCheckType::Https, "shop.example.com").failure_threshold(5);
    new.resource_path = None;
    let outputs = HealthCheckOutputs {
        id: "abcdef11-2222-3333-4444-555555555555".into(),
        arn: "arn:aws:route53:::healthcheck/abcdef11-2222-3333-4444-555555555555".into(),
    };
    HealthCheck::update(&cx(&ctx, &urn), &outputs.id, &old, &new, &outputs)
        .await
        .unwrap();
    assert_eq!(update.num_calls(), 1);
}

/// moto answers every change `INSYNC`; AWS answers `PENDING`, and the record's create waits
/// (GetChange) until the change is on every name server.
#[tokio::test]
async fn a_record_waits_until_its_change_is_in_sync() {
    let change = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .match_requests(|r| {
            r.hosted_zone_id() == Some("Z0123456789ABCDEFGHIJ")
                && r.change_batch().is_some_and(|b| {
                    let c = &b.changes()[0];
                    c.action() == &r53t::ChangeAction::Create
                        && c.resource_record_set().is_some_and(|s| {
                            s.name() == "www.shop.example.com"
                                && s.ttl() == Some(300)
                                && s.resource_records()[0].value() == "\"hello \\\"world\\\"\""
                        })
                })
        })
        .then_output(|| {
            ChangeResourceRecordSetsOutput::builder()
                .change_info(
                    r53t::ChangeInfo::builder()
                        .id("/change/C2682N5HXP0BZ4")
                        .status(r53t::ChangeStatus::Pending)
                        .submitted_at(aws_smithy_types::DateTime::from_secs(1_700_000_000))
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let poll = mock!(aws_sdk_route53::Client::get_change)
        .match_requests(|r| r.id() == Some("C2682N5HXP0BZ4"))
        .then_output(|| {
            GetChangeOutput::builder()
                .change_info(
                    r53t::ChangeInfo::builder()
                        .id("/change/C2682N5HXP0BZ4")
                        .status(r53t::ChangeStatus::Insync)
                        .submitted_at(aws_smithy_types::DateTime::from_secs(1_700_000_000))
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let client = mock_client!(aws_sdk_route53, RuleMode::MatchAny, [&change, &poll]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", Record::TYPE, "www");
    let args = Record::new(
        "/hostedzone/Z0123456789ABCDEFGHIJ",
        "WWW.shop.example.com.",
        RecordType::Txt,
        300,
        ["hello \"world\""],
    );
    let made = Record::create(&cx(&ctx, &urn), &args).await.unwrap();
    assert_eq!(made.id, "Z0123456789ABCDEFGHIJ_www.shop.example.com_TXT");
    assert_eq!(made.outputs.fqdn, "www.shop.example.com");
    assert_eq!((change.num_calls(), poll.num_calls()), (1, 1));
}

/// A record's create is a `CREATE`: where the zone already has a record set of that name
/// and type, AWS refuses the batch (`InvalidChangeBatch`, "but it already exists") and
/// changes nothing; create reports that as `AlreadyExists` (the engine then asks
/// `recover`, which adopts the record set only if it is exactly the declared one).
#[tokio::test]
async fn a_record_create_never_overwrites() {
    const TAKEN: &str = "[Tried to create resource record set [name='www.shop.example.com.', type='A'] but it already exists]";
    let change = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .match_requests(|r| {
            r.change_batch().is_some_and(|b| {
                b.changes().len() == 1 && b.changes()[0].action() == &r53t::ChangeAction::Create
            })
        })
        .then_error(|| {
            ChangeResourceRecordSetsError::InvalidChangeBatch(
                r53t::error::InvalidChangeBatch::builder()
                    .message(TAKEN)
                    .meta(
                        aws_sdk_route53::error::ErrorMetadata::builder()
                            .code("InvalidChangeBatch")
                            .message(TAKEN)
                            .build(),
                    )
                    .build(),
            )
        });
    let client = mock_client!(aws_sdk_route53, RuleMode::MatchAny, [&change]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", Record::TYPE, "www");
    let args = Record::new(
        "Z0123456789ABCDEFGHIJ",
        "www.shop.example.com",
        RecordType::A,
        300,
        ["192.0.2.1"],
    );
    let err = Record::create(&cx(&ctx, &urn), &args).await.unwrap_err();
    assert!(
        matches!(&err, ProviderError::AlreadyExists { message, .. } if message.contains("already exists")),
        "{err}"
    );
    assert_eq!(change.num_calls(), 1);
}

/// AWS refuses a second CreateHostedZone with the same `CallerReference`; the retried create
/// then finds its zone by that reference. moto makes a second zone instead.
#[tokio::test]
async fn a_retried_zone_create_finds_the_zone_of_its_token() {
    let create = mock!(aws_sdk_route53::Client::create_hosted_zone)
        .match_requests(|r| r.caller_reference() == Some("tok-mock"))
        .then_error(|| {
            CreateHostedZoneError::HostedZoneAlreadyExists(
                r53t::error::HostedZoneAlreadyExists::builder()
                    .message("A hosted zone has already been created with the specified caller reference.")
                    .meta(
                        aws_sdk_route53::error::ErrorMetadata::builder()
                            .code("HostedZoneAlreadyExists")
                            .build(),
                    )
                    .build(),
            )
        });
    let zone = || {
        r53t::HostedZone::builder()
            .id("/hostedzone/Z0123456789ABCDEFGHIJ")
            .name("shop.example.com.")
            .caller_reference("tok-mock")
            .config(
                r53t::HostedZoneConfig::builder()
                    .private_zone(false)
                    .build(),
            )
            .resource_record_set_count(2)
            .build()
            .unwrap()
    };
    let list = mock!(aws_sdk_route53::Client::list_hosted_zones).then_output(move || {
        ListHostedZonesOutput::builder()
            .hosted_zones(
                r53t::HostedZone::builder()
                    .id("/hostedzone/ZOTHER")
                    .name("other.example.com.")
                    .caller_reference("someone-else")
                    .build()
                    .unwrap(),
            )
            .hosted_zones(zone())
            .marker("")
            .is_truncated(false)
            .max_items(100)
            .build()
            .unwrap()
    });
    let tag = mock!(aws_sdk_route53::Client::change_tags_for_resource)
        .match_requests(|r| {
            r.resource_id() == Some("Z0123456789ABCDEFGHIJ")
                && r.add_tags()
                    .iter()
                    .any(|t| t.key() == Some("strata:token") && t.value() == Some("tok-mock"))
        })
        .then_output(|| ChangeTagsForResourceOutput::builder().build());
    let get = mock!(aws_sdk_route53::Client::get_hosted_zone).then_output(move || {
        GetHostedZoneOutput::builder()
            .hosted_zone(zone())
            .delegation_set(
                r53t::DelegationSet::builder()
                    .name_servers("ns-1.awsdns-01.org")
                    .name_servers("ns-2.awsdns-02.co.uk")
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let client = mock_client!(
        aws_sdk_route53,
        RuleMode::MatchAny,
        [&create, &list, &tag, &get]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", HostedZone::TYPE, "zone");
    let made = HostedZone::create(&cx(&ctx, &urn), &HostedZone::new("shop.example.com"))
        .await
        .unwrap();
    assert_eq!(made.id, "Z0123456789ABCDEFGHIJ");
    assert_eq!(made.outputs.name_servers.len(), 2);
    assert_eq!(made.outputs.name, "shop.example.com");
    assert_eq!((create.num_calls(), tag.num_calls()), (1, 1));
}
