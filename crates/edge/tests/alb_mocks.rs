//! What moto does not do, against `aws-smithy-mocks` with AWS's answers: the transient
//! refusals AWS gives while it catches up (WAF's `WAFUnavailableEntityException` on
//! `AssociateWebACL` right after a web ACL is made, ACM's `ResourceInUseException` on
//! `DeleteCertificate` while `InUseBy` lags, ELB's `ResourceInUse` on `DeleteTargetGroup`
//! just after its listener went, WAF's `WAFOptimisticLockException` on `UpdateWebACL`
//! when another writer got in between), deletion protection (moto's
//! `DeleteLoadBalancer` ignores it) and a failed DNS validation (moto always issues).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_acm::operation::add_tags_to_certificate::AddTagsToCertificateOutput;
use aws_sdk_acm::operation::delete_certificate::{DeleteCertificateError, DeleteCertificateOutput};
use aws_sdk_acm::operation::describe_certificate::DescribeCertificateOutput;
use aws_sdk_acm::operation::request_certificate::RequestCertificateOutput;
use aws_sdk_acm::types::{
    CertificateDetail, CertificateStatus, DomainStatus, DomainValidation, FailureReason,
    RecordType, ResourceRecord,
};
use aws_sdk_elasticloadbalancingv2::operation::delete_load_balancer::DeleteLoadBalancerError;
use aws_sdk_elasticloadbalancingv2::operation::delete_target_group::{
    DeleteTargetGroupError, DeleteTargetGroupOutput,
};
use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsOutput;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
use aws_sdk_route53::types::{ChangeInfo, ChangeStatus};
use aws_sdk_wafv2::operation::associate_web_acl::{AssociateWebACLError, AssociateWebAclOutput};
use aws_sdk_wafv2::operation::get_web_acl::GetWebAclOutput;
use aws_sdk_wafv2::operation::get_web_acl_for_resource::GetWebAclForResourceOutput;
use aws_sdk_wafv2::operation::update_web_acl::{UpdateWebACLError, UpdateWebAclOutput};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use strata_core::resource::{Cx, Resource};
use strata_core::{Context, ProviderError, Urn};
use strata_edge::*;

const ACL_ARN: &str = "arn:aws:wafv2:eu-central-1:123456789012:regional/webacl/shop-waf/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111";
const LB_ARN: &str =
    "arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/app/shop-alb/50dc6c495c0c9188";
const TG_ARN: &str =
    "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/shop-app/73e2d6bc24d8a067";
const CERT_ARN: &str =
    "arn:aws:acm:eu-central-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";

fn cx<'a>(ctx: &'a Context, urn: &'a Urn) -> Cx<'a> {
    Cx {
        context: ctx,
        urn,
        token: "0123456789abcdef0123456789abcdef",
    }
}

/// moto associates at once; AWS answers `WAFUnavailableEntityException` while a new web
/// ACL propagates.
#[tokio::test]
async fn association_retries_a_web_acl_waf_does_not_serve_yet() {
    let associate = mock!(aws_sdk_wafv2::Client::associate_web_acl)
        .match_requests(|r| r.web_acl_arn() == Some(ACL_ARN) && r.resource_arn() == Some(LB_ARN))
        .sequence()
        .error(|| {
            AssociateWebACLError::WafUnavailableEntityException(
                aws_sdk_wafv2::types::error::WafUnavailableEntityException::builder()
                    .message("AWS WAF couldn't retrieve the resource that you requested. Retry your request.")
                    .meta(
                        aws_sdk_wafv2::error::ErrorMetadata::builder()
                            .code("WAFUnavailableEntityException")
                            .message("AWS WAF couldn't retrieve the resource that you requested. Retry your request.")
                            .build(),
                    )
                    .build(),
            )
        })
        .output(|| AssociateWebAclOutput::builder().build())
        .build();
    // Not behind any web ACL yet (create asks first: AssociateWebACL would move it).
    let current = mock!(aws_sdk_wafv2::Client::get_web_acl_for_resource)
        .match_requests(|r| r.resource_arn() == Some(LB_ARN))
        .then_output(|| GetWebAclForResourceOutput::builder().build());
    let client = mock_client!(aws_sdk_wafv2, RuleMode::MatchAny, [&associate, &current]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", WebAclAssociation::TYPE, "waf-alb");
    let made = WebAclAssociation::create(&cx(&ctx, &urn), &WebAclAssociation::new(ACL_ARN, LB_ARN))
        .await
        .unwrap();
    assert_eq!(made.id, LB_ARN);
    assert_eq!(made.outputs.web_acl_arn, ACL_ARN);
    assert_eq!(associate.num_calls(), 2);
}

/// moto deletes a certificate whatever uses it; AWS refuses with `ResourceInUseException`
/// until `InUseBy` catches up with the listener that moved off it.
#[tokio::test]
async fn a_certificate_still_in_use_is_deleted_once_released() {
    let delete = mock!(aws_sdk_acm::Client::delete_certificate)
        .match_requests(|r| r.certificate_arn() == Some(CERT_ARN))
        .sequence()
        .error(|| {
            DeleteCertificateError::ResourceInUseException(
                aws_sdk_acm::types::error::ResourceInUseException::builder()
                    .message(format!(
                        "Certificate {CERT_ARN} in account 123456789012 is in use."
                    ))
                    .meta(
                        aws_sdk_acm::error::ErrorMetadata::builder()
                            .code("ResourceInUseException")
                            .build(),
                    )
                    .build(),
            )
        })
        .output(|| DeleteCertificateOutput::builder().build())
        .build();
    let client = mock_client!(aws_sdk_acm, RuleMode::MatchAny, [&delete]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", Certificate::TYPE, "cert");
    let outputs = CertificateOutputs {
        arn: CERT_ARN.into(),
        status: "ISSUED".into(),
        domain_name: "shop.example.com".into(),
        validation_records: vec![],
    };
    Certificate::delete(
        &cx(&ctx, &urn),
        CERT_ARN,
        &Certificate::dns("shop.example.com"),
        &outputs,
    )
    .await
    .unwrap();
    assert_eq!(delete.num_calls(), 2);
}

/// moto never fails a DNS validation; AWS sets `FAILED` with a reason (here CAA records
/// that forbid Amazon), and create reports it instead of waiting out its timeout.
#[tokio::test]
async fn a_failed_validation_fails_the_create() {
    let detail = |status: CertificateStatus| {
        let record = ResourceRecord::builder()
            .name("_x1.shop.example.com.")
            .r#type(RecordType::Cname)
            .value("_x2.acm-validations.aws.")
            .build()
            .unwrap();
        let option = |name: &str| {
            DomainValidation::builder()
                .domain_name(name)
                .validation_domain(name)
                .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
                .validation_status(if status == CertificateStatus::Failed {
                    DomainStatus::Failed
                } else {
                    DomainStatus::PendingValidation
                })
                .resource_record(record.clone())
                .build()
                .unwrap()
        };
        let mut d = CertificateDetail::builder()
            .certificate_arn(CERT_ARN)
            .domain_name("shop.example.com")
            .subject_alternative_names("shop.example.com")
            .subject_alternative_names("*.shop.example.com")
            .domain_validation_options(option("shop.example.com"))
            .domain_validation_options(option("*.shop.example.com"))
            .status(status.clone());
        if status == CertificateStatus::Failed {
            d = d.failure_reason(FailureReason::CaaError);
        }
        DescribeCertificateOutput::builder()
            .certificate(d.build())
            .build()
    };
    let request = mock!(aws_sdk_acm::Client::request_certificate)
        .match_requests(|r| {
            r.domain_name() == Some("shop.example.com")
                && r.idempotency_token() == Some("0123456789abcdef0123456789abcdef")
        })
        .then_output(|| {
            RequestCertificateOutput::builder()
                .certificate_arn(CERT_ARN)
                .build()
        });
    let describe = mock!(aws_sdk_acm::Client::describe_certificate)
        .sequence()
        .output(move || detail(CertificateStatus::PendingValidation))
        .output(move || detail(CertificateStatus::Failed))
        .build();
    // The zone has no record of that name yet: create CREATEs it (never UPSERTs).
    let lookup = mock!(aws_sdk_route53::Client::list_resource_record_sets)
        .match_requests(|r| r.hosted_zone_id() == Some("Z0123456789ABCDEFGHIJ"))
        .then_output(|| {
            ListResourceRecordSetsOutput::builder()
                .set_resource_record_sets(Some(vec![]))
                .max_items(1)
                .build()
                .unwrap()
        });
    let create = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .match_requests(|r| {
            let changes = r.change_batch().map(|b| b.changes()).unwrap_or_default();
            r.hosted_zone_id() == Some("Z0123456789ABCDEFGHIJ")
                && changes.len() == 1
                && changes[0].action().as_str() == "CREATE"
        })
        .then_output(|| {
            ChangeResourceRecordSetsOutput::builder()
                .change_info(
                    ChangeInfo::builder()
                        .id("/change/C2682N5HXP0BZ4")
                        .status(ChangeStatus::Pending)
                        .submitted_at(aws_smithy_types::DateTime::from_secs(1_700_000_000))
                        .build()
                        .unwrap(),
                )
                .build()
        });
    // The certificate records that it wrote the record (its strata:validation-records tag).
    let mark = mock!(aws_sdk_acm::Client::add_tags_to_certificate)
        .match_requests(|r| {
            r.certificate_arn() == Some(CERT_ARN)
                && r.tags().len() == 1
                && r.tags()[0].key() == "strata:validation-records"
        })
        .then_output(|| AddTagsToCertificateOutput::builder().build());
    let acm = mock_client!(
        aws_sdk_acm,
        RuleMode::MatchAny,
        [&request, &describe, &mark]
    );
    let r53 = mock_client!(aws_sdk_route53, RuleMode::MatchAny, [&lookup, &create]);
    let ctx = Context::new().with(acm).with(r53);
    let urn = Urn::new("dev", Certificate::TYPE, "cert");
    let args = Certificate::dns("shop.example.com")
        .wildcard()
        .validate_in_zone("Z0123456789ABCDEFGHIJ");
    let err = Certificate::create(&cx(&ctx, &urn), &args)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("FAILED") && msg.contains("CAA_ERROR"), "{msg}");
    // One record for the apex and its wildcard.
    assert_eq!(create.num_calls(), 1);
    assert_eq!(mark.num_calls(), 1);
}

/// moto's `DeleteLoadBalancer` ignores deletion protection; AWS answers
/// `OperationNotPermitted`, which names the field to change.
#[tokio::test]
async fn deletion_protection_stops_a_delete_and_says_so() {
    let delete = mock!(aws_sdk_elasticloadbalancingv2::Client::delete_load_balancer).then_error(|| {
        DeleteLoadBalancerError::OperationNotPermittedException(
            aws_sdk_elasticloadbalancingv2::types::error::OperationNotPermittedException::builder()
                .message(format!("Load balancer '{LB_ARN}' cannot be deleted because deletion protection is enabled"))
                .meta(
                    aws_sdk_elasticloadbalancingv2::error::ErrorMetadata::builder()
                        .code("OperationNotPermitted")
                        .build(),
                )
                .build(),
        )
    });
    let client = mock_client!(
        aws_sdk_elasticloadbalancingv2,
        RuleMode::MatchAny,
        [&delete]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", LoadBalancer::TYPE, "alb");
    let args = LoadBalancer::new("shop-alb", ["subnet-a", "subnet-b"])
        .security_group("sg-1")
        .deletion_protection(true);
    let outputs = LoadBalancerOutputs {
        arn: LB_ARN.into(),
        arn_suffix: "app/shop-alb/50dc6c495c0c9188".into(),
        dns_name: "shop-alb-1234567890.eu-central-1.elb.amazonaws.com".into(),
        zone_id: "Z215JYRZR1TBD5".into(),
        name: "shop-alb".into(),
        vpc_id: "vpc-0123".into(),
    };
    let err = LoadBalancer::delete(&cx(&ctx, &urn), LB_ARN, &args, &outputs)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProviderError::Invalid { field, .. } if field == "deletion_protection"),
        "{err}"
    );
}

/// moto refuses a target group in use for as long as a listener uses it; AWS also says
/// `ResourceInUse` for a moment after the listener moved away, and delete retries that.
#[tokio::test]
async fn a_target_group_just_released_is_deleted() {
    let delete = mock!(aws_sdk_elasticloadbalancingv2::Client::delete_target_group)
        .sequence()
        .error(|| {
            DeleteTargetGroupError::ResourceInUseException(
                aws_sdk_elasticloadbalancingv2::types::error::ResourceInUseException::builder()
                    .message(format!(
                        "Target group '{TG_ARN}' is currently in use by a listener or a rule"
                    ))
                    .meta(
                        aws_sdk_elasticloadbalancingv2::error::ErrorMetadata::builder()
                            .code("ResourceInUse")
                            .build(),
                    )
                    .build(),
            )
        })
        .output(|| DeleteTargetGroupOutput::builder().build())
        .build();
    let client = mock_client!(
        aws_sdk_elasticloadbalancingv2,
        RuleMode::MatchAny,
        [&delete]
    );
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", TargetGroup::TYPE, "app");
    let outputs = TargetGroupOutputs {
        arn: TG_ARN.into(),
        arn_suffix: "targetgroup/shop-app/73e2d6bc24d8a067".into(),
        name: "shop-app".into(),
    };
    TargetGroup::delete(
        &cx(&ctx, &urn),
        TG_ARN,
        &TargetGroup::http("shop-app", 80, "vpc-0123"),
        &outputs,
    )
    .await
    .unwrap();
    assert_eq!(delete.num_calls(), 2);
}

/// Another writer between `GetWebACL` and `UpdateWebACL` makes AWS answer
/// `WAFOptimisticLockException`; the update reads the new lock token and tries again.
#[tokio::test]
async fn a_web_acl_update_retries_with_a_fresh_lock_token() {
    let acl = |lock: &'static str| {
        move || {
            GetWebAclOutput::builder()
                .web_acl(
                    aws_sdk_wafv2::types::WebAcl::builder()
                        .name("shop-waf")
                        .id("a1b2c3d4-5678-90ab-cdef-EXAMPLE11111")
                        .arn(ACL_ARN)
                        .capacity(1002)
                        .default_action(
                            aws_sdk_wafv2::types::DefaultAction::builder()
                                .allow(aws_sdk_wafv2::types::AllowAction::builder().build())
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .lock_token(lock)
                .build()
        }
    };
    let get = mock!(aws_sdk_wafv2::Client::get_web_acl)
        .sequence()
        .output(acl("lock-1"))
        .output(acl("lock-2"))
        .output(acl("lock-3"))
        .build();
    let update = mock!(aws_sdk_wafv2::Client::update_web_acl)
        .sequence()
        .error(|| {
            UpdateWebACLError::WafOptimisticLockException(
                aws_sdk_wafv2::types::error::WafOptimisticLockException::builder()
                    .message("AWS WAF couldn't save your changes because someone changed the resource after you started to edit it.")
                    .meta(
                        aws_sdk_wafv2::error::ErrorMetadata::builder()
                            .code("WAFOptimisticLockException")
                            .build(),
                    )
                    .build(),
            )
        })
        .output(|| UpdateWebAclOutput::builder().next_lock_token("lock-3").build())
        .build();
    let client = mock_client!(aws_sdk_wafv2, RuleMode::MatchAny, [&get, &update]);
    let ctx = Context::new().with(client);
    let urn = Urn::new("dev", WebAcl::TYPE, "waf");
    let old = WebAcl::regional("shop-waf").rule(Rule::rate_limit(1, 1000));
    let new = WebAcl::regional("shop-waf").rule(Rule::rate_limit(1, 2000));
    let before = WebAclOutputs {
        arn: ACL_ARN.into(),
        id: "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111".into(),
        name: "shop-waf".into(),
        capacity: 2,
    };
    let out = WebAcl::update(&cx(&ctx, &urn), ACL_ARN, &old, &new, &before)
        .await
        .unwrap();
    assert_eq!(update.num_calls(), 2);
    assert_eq!(out.capacity, 1002);
}
