//! The built-in policy pack, `strata::policy::Baseline`, rule by rule: for each rule a
//! small stack that breaks it is listed by `preview` with the rule, the resource's logical
//! name and the field, and refused by `up` (mandatory) before any call or lock. No AWS:
//! the checks run over the declared stack, and `up` refuses before it reaches a provider.
//!
//! Also: a stack that meets every rule has no violation at all, `advisory` and `waive`
//! turn violations advisory, and the e-commerce example passes with its one waiver.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../examples/ecommerce.rs"]
#[allow(dead_code, unused_imports)]
mod ecommerce;

use std::collections::BTreeMap;
use std::sync::Arc;

use strata::compute::LaunchTemplate;
use strata::data::{
    Bucket, BucketArgs, BucketHandle, DbInstance, DbInstanceArgs, DbSubnetGroup,
    DbSubnetGroupHandle, FileSystem, LifecycleRule, ReplicationGroup, ReplicationGroupArgs,
};
use strata::edge::{
    CacheBehavior, Certificate, CertificateHandle, Distribution, DistributionArgs,
    DistributionOrigin, Listener, ListenerAction, ListenerProtocol, LoadBalancer,
    LoadBalancerHandle, MinimumProtocolVersion, TargetGroup, TargetGroupHandle,
    ViewerProtocolPolicy,
};
use strata::network::{
    InternetGateway, InternetGatewayHandle, Route, RouteTable, RouteTableAssociation,
    RouteTableHandle, RouteTarget, SecurityGroup, SecurityGroupHandle, SecurityGroupRule, Subnet,
    SubnetHandle, Vpc, VpcHandle,
};
use strata::observability::Trail;
use strata::policy::Baseline;
use strata::prelude::{Engine, Handle, RunOptions, Stack};
use strata::security::{
    GuardDutyDetector, KeyPolicy, KeyService, KeySpec, KeyUsage, KmsKey, KmsKeyHandle, Secret,
    SecretHandle, SecretRotation,
};
use strata_core::{
    DeclarationError, Enforcement, EngineError, MemoryBackend, ResourceOptions, SealedStack,
    Violation,
};

const ROTATION_LAMBDA: &str = "arn:aws:lambda:eu-central-1:123456789012:function:rotate";
const CDN_CERTIFICATE: &str = "arn:aws:acm:us-east-1:123456789012:certificate/0123-4567";

/// (rule, logical name or `None` for the stack as a whole, field).
type Expected = (&'static str, Option<&'static str>, &'static str);

fn engine(pack: Baseline) -> Engine {
    Engine::new(Arc::new(MemoryBackend::new()))
        .with_registry(&strata::registry())
        .policy_pack(Arc::new(pack))
}

/// What the stack-wide rules ask for: a trail into a (SSE-KMS) bucket that keeps its logs
/// `expire_days` (or forever), and a GuardDuty detector. Each knob breaks one rule.
struct Base {
    trail: bool,
    multi_region: bool,
    expire_days: Option<i32>,
    guardduty: bool,
}

impl Default for Base {
    fn default() -> Self {
        Base {
            trail: true,
            multi_region: true,
            expire_days: Some(365),
            guardduty: true,
        }
    }
}

impl Base {
    /// Declares the base; returns its (rotated, customer-managed) KMS key.
    fn declare(&self, s: &mut Stack) -> Handle<KmsKey> {
        // CloudTrail writes with it; the database's final snapshot outlives the stack.
        let key = s.add_with(
            "key",
            KmsKey::new("test: encryption at rest")
                .key_policy(KeyPolicy::new("123456789012").service(KeyService::CloudTrail)),
            ResourceOptions::default().retain_on_delete(),
        );
        let mut logs = Bucket::new("test-audit-logs-123456789012").kms(key.arn());
        if let Some(days) = self.expire_days {
            logs = logs.lifecycle(LifecycleRule::new("retention").expire_after(days));
        }
        let logs = s.add("audit-logs", logs);
        if self.trail {
            s.add(
                "trail",
                Trail::new("test-audit", logs.name())
                    .kms_key(key.arn())
                    .multi_region(self.multi_region),
            );
        }
        if self.guardduty {
            s.add("guardduty", GuardDutyDetector::new());
        }
        key
    }
}

/// The base, then what `f` adds.
fn stack(f: impl FnOnce(&mut Stack, &Handle<KmsKey>)) -> SealedStack {
    stack_on(Base::default(), f)
}

fn stack_on(base: Base, f: impl FnOnce(&mut Stack, &Handle<KmsKey>)) -> SealedStack {
    let mut s = Stack::new("policy");
    let key = base.declare(&mut s);
    f(&mut s, &key);
    s.seal().unwrap_or_else(|e| panic!("{e}"))
}

/// A PostgreSQL instance (encrypted storage, no key yet) in a declared subnet group.
fn postgres(s: &mut Stack) -> DbInstanceArgs {
    let subnets = s.add(
        "db-subnets",
        DbSubnetGroup::new("test-db", ["subnet-0a", "subnet-0b"]),
    );
    DbInstance::postgres("test-db", "14.10", "db.t3.micro", subnets.name())
}

/// A one-node Redis group (encrypted at rest and in transit, no key yet).
fn redis() -> ReplicationGroupArgs {
    ReplicationGroup::redis("test-cache", "cache.t3.micro", 1, "test-cache-subnets")
}

/// A distribution of one custom origin, HTTP redirected to HTTPS, no certificate yet.
fn distribution() -> DistributionArgs {
    Distribution::new(CacheBehavior::dynamic("app"))
        .origin(DistributionOrigin::custom("app", "origin.example.com"))
}

fn keys(violations: &[Violation]) -> Vec<(String, Option<String>, String)> {
    let mut k: Vec<_> = violations
        .iter()
        .map(|v| {
            (
                v.rule.clone(),
                v.urn.as_ref().map(|u| u.name().to_owned()),
                v.field.clone(),
            )
        })
        .collect();
    k.sort();
    k
}

fn owned(expected: &[Expected]) -> Vec<(String, Option<String>, String)> {
    let mut k: Vec<_> = expected
        .iter()
        .map(|(rule, name, field)| {
            (
                (*rule).to_owned(),
                name.map(str::to_owned),
                (*field).to_owned(),
            )
        })
        .collect();
    k.sort();
    k
}

/// `preview` lists exactly `expected`, all mandatory; `up` refuses with exactly those,
/// naming each resource and field, and leaves the state empty.
async fn assert_refused(st: &SealedStack, expected: &[Expected]) {
    assert_refused_by(Baseline::new(), st, expected).await;
}

async fn assert_refused_by(pack: Baseline, st: &SealedStack, expected: &[Expected]) {
    let e = engine(pack);
    let plan = e.preview(st, &[]).await.unwrap();
    assert_eq!(
        keys(&plan.violations),
        owned(expected),
        "{:#?}",
        plan.violations
    );
    for v in &plan.violations {
        assert_eq!(v.pack, "baseline");
        assert_eq!(v.enforcement, Enforcement::Mandatory, "{v}");
        assert!(!v.message.is_empty(), "{v}");
    }

    let err = e.up(st, &RunOptions::default()).await.unwrap_err();
    let EngineError::Policy(refused) = &err else {
        panic!("{err}")
    };
    assert_eq!(refused.0, plan.violations);
    let text = err.to_string();
    for (rule, name, field) in expected {
        assert!(text.contains(&format!("baseline/{rule}: ")), "{text}");
        let at = match (name, field.is_empty()) {
            (Some(n), false) => format!("::{n} field {field}: "),
            (Some(n), true) => format!("::{n}: "),
            (None, _) => "stack: ".to_owned(),
        };
        assert!(text.contains(&at), "{at:?} in {text}");
    }
    assert!(
        e.load_state(st.name()).await.unwrap().resources.is_empty(),
        "nothing deployed"
    );
}

#[tokio::test]
async fn a_stack_that_meets_every_rule_has_no_violation() {
    let st = stack(|s, key| {
        // Data, each with the customer-managed key.
        let db_sg = s.add(
            "db-sg",
            SecurityGroup::new("test-db", "PostgreSQL", "vpc-0abc"),
        );
        let cache_sg = s.add(
            "cache-sg",
            SecurityGroup::new("test-cache", "Redis", "vpc-0abc"),
        );
        let alb_sg = s.add("alb-sg", SecurityGroup::new("test-alb", "ALB", "vpc-0abc"));
        let db = postgres(s).kms_key(key.arn()).security_group(db_sg.id());
        s.add("db", db);
        s.add(
            "cache",
            redis().kms_key(key.arn()).security_group(cache_sg.id()),
        );
        s.add(
            "uploads",
            Bucket::new("test-uploads-123456789012").kms(key.arn()),
        );
        s.add(
            "critical",
            Bucket::new("test-critical-123456789012")
                .kms("arn:aws:kms:eu-central-1:123456789012:key/0123")
                .versioning(true)
                .tag("critical", "true"),
        );
        s.add("files", FileSystem::new().kms_key(key.arn()));
        s.add(
            "app",
            LaunchTemplate::new("test-app", "ami-0123456789abcdef0", "t3.micro")
                .ebs_kms_key(key.arn()),
        );
        // The internet reaches the ALB only; the databases' groups admit groups, and may
        // send anywhere.
        s.add(
            "alb-https",
            SecurityGroupRule::ingress(alb_sg.id())
                .tcp(443)
                .from_cidr("0.0.0.0/0"),
        );
        s.add(
            "db-from-alb",
            SecurityGroupRule::ingress(db_sg.id())
                .tcp(5432)
                .from_group(alb_sg.id()),
        );
        s.add(
            "db-egress",
            SecurityGroupRule::egress(db_sg.id()).to_cidr("0.0.0.0/0"),
        );
        // TLS 1.2+ everywhere, plain HTTP redirected.
        let alb = s.add(
            "alb",
            LoadBalancer::new("test-alb", ["subnet-0a", "subnet-0b"]).security_group(alb_sg.id()),
        );
        let targets = s.add("targets", TargetGroup::http("test-app", 8080, "vpc-0abc"));
        let cert = s.add("cert", Certificate::dns("shop.example.com"));
        s.add(
            "https",
            Listener::https(alb.arn(), 443, cert.arn(), targets.arn()),
        );
        s.add("http", Listener::http_redirect(alb.arn()));
        s.add(
            "cdn",
            distribution()
                .behavior(
                    "/static/*",
                    CacheBehavior::static_assets("app")
                        .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly),
                )
                .certificate(CDN_CERTIFICATE),
        );
        // Signing keys do not rotate automatically: not asked of them.
        s.add(
            "signing-key",
            KmsKey::new("test: signing")
                .spec(KeyUsage::SignVerify, KeySpec::EccNistP256)
                .rotation(false, 365),
        );
        let secret = s.add("api-key", Secret::new("test/api-key").kms_key(key.arn()));
        s.add(
            "api-key-rotation",
            SecretRotation::new(secret.arn(), ROTATION_LAMBDA, 90),
        );
    });
    let e = engine(Baseline::new());
    let plan = e.preview(&st, &[]).await.unwrap();
    assert!(plan.violations.is_empty(), "{:#?}", plan.violations);

    // A trail bucket without any lifecycle keeps its logs forever: fine too.
    let st = stack_on(
        Base {
            expire_days: None,
            ..Base::default()
        },
        |_, _| {},
    );
    assert!(e.check_policies(&st).is_empty());
}

// --- encryption-at-rest -------------------------------------------------------------

#[tokio::test]
async fn encryption_at_rest_refuses_a_database_without_a_customer_key() {
    // No key: RDS would use the AWS-managed aws/rds key.
    let st = stack(|s, _| {
        let db = postgres(s);
        s.add("db", db);
    });
    assert_refused(&st, &[("encryption-at-rest", Some("db"), "kms_key_id")]).await;

    // An AWS-managed alias is not a customer-managed key.
    let st = stack(|s, _| {
        let db = postgres(s).kms_key("alias/aws/rds");
        s.add("db", db);
    });
    assert_refused(&st, &[("encryption-at-rest", Some("db"), "kms_key_id")]).await;

    // Unencrypted storage (there is no builder for it: the field is public).
    let st = stack(|s, _| {
        let mut db = postgres(s);
        db.storage_encrypted = false;
        s.add("db", db);
    });
    assert_refused(
        &st,
        &[("encryption-at-rest", Some("db"), "storage_encrypted")],
    )
    .await;
}

#[tokio::test]
async fn encryption_at_rest_refuses_a_cache_without_a_customer_key() {
    let st = stack(|s, _| {
        s.add("cache", redis());
    });
    assert_refused(&st, &[("encryption-at-rest", Some("cache"), "kms_key_id")]).await;

    let st = stack(|s, _| {
        let mut cache = redis();
        cache.at_rest_encryption = false;
        s.add("cache", cache);
    });
    assert_refused(
        &st,
        &[("encryption-at-rest", Some("cache"), "at_rest_encryption")],
    )
    .await;
}

#[tokio::test]
async fn encryption_at_rest_refuses_an_sse_s3_bucket() {
    let st = stack(|s, _| {
        s.add("uploads", Bucket::new("test-uploads-123456789012"));
    });
    assert_refused(
        &st,
        &[("encryption-at-rest", Some("uploads"), "encryption")],
    )
    .await;

    let st = stack(|s, _| {
        s.add(
            "uploads",
            Bucket::new("test-uploads-123456789012")
                .kms("arn:aws:kms:eu-central-1:123456789012:alias/aws/s3"),
        );
    });
    assert_refused(
        &st,
        &[("encryption-at-rest", Some("uploads"), "encryption")],
    )
    .await;
}

#[tokio::test]
async fn encryption_at_rest_refuses_a_file_system_without_a_customer_key() {
    let st = stack(|s, _| {
        s.add("files", FileSystem::new());
    });
    assert_refused(&st, &[("encryption-at-rest", Some("files"), "kms_key_id")]).await;

    let st = stack(|s, _| {
        let mut files = FileSystem::new();
        files.encrypted = false;
        s.add("files", files);
    });
    assert_refused(&st, &[("encryption-at-rest", Some("files"), "encrypted")]).await;
}

#[tokio::test]
async fn encryption_at_rest_refuses_a_launch_template_without_an_ebs_key() {
    let st = stack(|s, _| {
        s.add(
            "app",
            LaunchTemplate::new("test-app", "ami-0123456789abcdef0", "t3.micro"),
        );
    });
    assert_refused(
        &st,
        &[("encryption-at-rest", Some("app"), "ebs_kms_key_id")],
    )
    .await;
}

// --- tls ------------------------------------------------------------------------------

/// An ALB with a target group and a certificate, and the listeners `f` declares.
fn with_alb(
    f: impl FnOnce(&mut Stack, Handle<LoadBalancer>, Handle<TargetGroup>, Handle<Certificate>),
) -> Result<SealedStack, strata_core::DeclarationErrors> {
    let mut s = Stack::new("policy");
    Base::default().declare(&mut s);
    let alb = s.add(
        "alb",
        LoadBalancer::new("test-alb", ["subnet-0a", "subnet-0b"]).security_group("sg-0abc"),
    );
    let targets = s.add("targets", TargetGroup::http("test-app", 8080, "vpc-0abc"));
    let cert = s.add("cert", Certificate::dns("shop.example.com"));
    f(&mut s, alb, targets, cert);
    s.seal()
}

#[tokio::test]
async fn tls_refuses_a_plain_http_listener_that_does_not_redirect() {
    let st = with_alb(|s, alb, targets, cert| {
        s.add(
            "https",
            Listener::https(alb.arn(), 443, cert.arn(), targets.arn()),
        );
        s.add(
            "http",
            Listener::new(
                alb.arn(),
                80,
                ListenerProtocol::Http,
                ListenerAction::forward(targets.arn()),
            ),
        );
    })
    .unwrap();
    assert_refused(&st, &[("tls", Some("http"), "default_action")]).await;
}

#[tokio::test]
async fn tls_legacy_listener_policies_are_refused_at_seal_already() {
    // `Listener` validation refuses the policies that accept TLS 1.0/1.1, so a stack
    // with one never reaches the pack (whose `ssl_policy` check is a second line).
    let err = with_alb(|s, alb, targets, cert| {
        s.add(
            "https",
            Listener::https(alb.arn(), 443, cert.arn(), targets.arn())
                .ssl_policy("ELBSecurityPolicy-2016-08"),
        );
    })
    .unwrap_err();
    assert!(
        err.0.iter().any(|e| matches!(
            e,
            DeclarationError::Invalid { urn, field, .. }
                if urn.name() == "https" && field == "ssl_policy"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn tls_refuses_a_distribution_without_a_tls12_viewer_certificate() {
    // CloudFront's default certificate accepts TLSv1.
    let st = stack(|s, _| {
        s.add("cdn", distribution());
    });
    assert_refused(
        &st,
        &[(
            "tls",
            Some("cdn"),
            "viewer_certificate.minimum_protocol_version",
        )],
    )
    .await;

    // A certificate with a legacy minimum: `Distribution` validation refuses it at seal,
    // before the pack.
    let mut s = Stack::new("policy");
    Base::default().declare(&mut s);
    s.add(
        "cdn",
        distribution()
            .certificate(CDN_CERTIFICATE)
            .minimum_protocol_version(MinimumProtocolVersion::TlsV1),
    );
    let err = s.seal().unwrap_err();
    assert!(
        err.0.iter().any(|e| matches!(
            e,
            DeclarationError::Invalid { urn, field, .. }
                if urn.name() == "cdn" && field == "viewer_certificate.minimum_protocol_version"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn tls_refuses_a_distribution_behaviour_that_allows_plain_http() {
    let st = stack(|s, _| {
        s.add(
            "cdn",
            distribution()
                .behavior("/images/*", CacheBehavior::static_assets("app"))
                .behavior(
                    "/static/*",
                    CacheBehavior::static_assets("app")
                        .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll),
                )
                .certificate(CDN_CERTIFICATE),
        );
    });
    assert_refused(
        &st,
        &[(
            "tls",
            Some("cdn"),
            "ordered_cache_behaviors.1.viewer_protocol_policy",
        )],
    )
    .await;

    let st = stack(|s, _| {
        s.add(
            "cdn",
            Distribution::new(
                CacheBehavior::dynamic("app")
                    .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll),
            )
            .origin(DistributionOrigin::custom("app", "origin.example.com"))
            .certificate(CDN_CERTIFICATE),
        );
    });
    assert_refused(
        &st,
        &[(
            "tls",
            Some("cdn"),
            "default_cache_behavior.viewer_protocol_policy",
        )],
    )
    .await;
}

#[tokio::test]
async fn tls_refuses_a_cache_without_transit_encryption() {
    let st = stack(|s, key| {
        let mut cache = redis().kms_key(key.arn());
        cache.transit_encryption = false;
        s.add("cache", cache);
    });
    assert_refused(&st, &[("tls", Some("cache"), "transit_encryption")]).await;
}

// --- no-public-data -----------------------------------------------------------------

#[tokio::test]
async fn no_public_data_refuses_a_publicly_accessible_database() {
    let st = stack(|s, key| {
        let mut db = postgres(s).kms_key(key.arn());
        db.publicly_accessible = true;
        s.add("db", db);
    });
    assert_refused(
        &st,
        &[("no-public-data", Some("db"), "publicly_accessible")],
    )
    .await;
}

#[tokio::test]
async fn no_public_data_refuses_a_data_security_group_open_to_the_internet() {
    let st = stack(|s, key| {
        let sg = s.add(
            "db-sg",
            SecurityGroup::new("test-db", "PostgreSQL", "vpc-0abc"),
        );
        let db = postgres(s).kms_key(key.arn()).security_group(sg.id());
        s.add("db", db);
        s.add(
            "db-open",
            SecurityGroupRule::ingress(sg.id())
                .tcp(5432)
                .from_cidr("0.0.0.0/0"),
        );
        // Egress anywhere is not the question.
        s.add(
            "db-egress",
            SecurityGroupRule::egress(sg.id()).to_cidr("0.0.0.0/0"),
        );
    });
    assert_refused(&st, &[("no-public-data", Some("db-open"), "source")]).await;

    // The cache's group too (a bare ingress rule admits all traffic from 0.0.0.0/0).
    let st = stack(|s, key| {
        let sg = s.add(
            "cache-sg",
            SecurityGroup::new("test-cache", "Redis", "vpc-0abc"),
        );
        s.add("cache", redis().kms_key(key.arn()).security_group(sg.id()));
        s.add("cache-open", SecurityGroupRule::ingress(sg.id()));
    });
    assert_refused(&st, &[("no-public-data", Some("cache-open"), "source")]).await;
}

#[tokio::test]
async fn no_public_data_refuses_a_db_subnet_routed_to_an_internet_gateway() {
    // A VPC with a public subnet (routed to the internet gateway: fine) and two data
    // subnets, whose table routes 0.0.0.0/0 to `target`.
    let declare = |target: fn(&Handle<InternetGateway>) -> RouteTarget| {
        stack(|s, key| {
            let vpc = s.add("vpc", Vpc::new("10.0.0.0/16"));
            let igw = s.add("igw", InternetGateway::new(vpc.id()));
            let public = s.add(
                "public-a",
                Subnet::new(vpc.id(), "10.0.1.0/24", "eu-central-1a"),
            );
            let public_routes = s.add("public-routes", RouteTable::new(vpc.id()));
            s.add(
                "public-a-routes",
                RouteTableAssociation::new(public_routes.id(), public.id()),
            );
            s.add(
                "public-internet",
                Route::new(
                    public_routes.id(),
                    "0.0.0.0/0",
                    RouteTarget::gateway(igw.id()),
                ),
            );
            let data_routes = s.add("data-routes", RouteTable::new(vpc.id()));
            let mut data = Vec::new();
            for (name, cidr, az) in [
                ("data-a", "10.0.32.0/24", "eu-central-1a"),
                ("data-b", "10.0.33.0/24", "eu-central-1b"),
            ] {
                let subnet = s.add(name, Subnet::new(vpc.id(), cidr, az));
                s.add(
                    format!("{name}-routes"),
                    RouteTableAssociation::new(data_routes.id(), subnet.id()),
                );
                data.push(subnet.id());
            }
            s.add(
                "data-internet",
                Route::new(data_routes.id(), "0.0.0.0/0", target(&igw)),
            );
            let subnets = s.add("db-subnets", DbSubnetGroup::new("test-db", data));
            s.add(
                "db",
                DbInstance::postgres("test-db", "14.10", "db.t3.micro", subnets.name())
                    .kms_key(key.arn()),
            );
        })
    };
    // The declared gateway, and a literal gateway id.
    let st = declare(|igw| RouteTarget::gateway(igw.id()));
    assert_refused(&st, &[("no-public-data", Some("data-internet"), "target")]).await;
    let st = declare(|_| RouteTarget::gateway("igw-0123456789abcdef0"));
    assert_refused(&st, &[("no-public-data", Some("data-internet"), "target")]).await;
    // Through a NAT gateway: fine.
    let st = declare(|_| RouteTarget::nat_gateway("nat-0123456789abcdef0"));
    assert!(engine(Baseline::new()).check_policies(&st).is_empty());
}

// --- cloudtrail -----------------------------------------------------------------------

#[tokio::test]
async fn cloudtrail_refuses_a_stack_without_a_trail() {
    let st = stack_on(
        Base {
            trail: false,
            ..Base::default()
        },
        |_, _| {},
    );
    assert_refused(&st, &[("cloudtrail", None, "")]).await;
}

#[tokio::test]
async fn cloudtrail_refuses_a_single_region_trail() {
    let st = stack_on(
        Base {
            multi_region: false,
            ..Base::default()
        },
        |_, _| {},
    );
    assert_refused(&st, &[("cloudtrail", Some("trail"), "multi_region")]).await;
}

#[tokio::test]
async fn cloudtrail_refuses_a_trail_without_validation_or_logging() {
    let st = stack_on(
        Base {
            trail: false,
            ..Base::default()
        },
        |s, _| {
            s.add(
                "trail",
                Trail::new("test-audit", "test-audit-logs-123456789012")
                    .log_file_validation(false)
                    .logging(false),
            );
        },
    );
    assert_refused(
        &st,
        &[
            ("cloudtrail", Some("trail"), "log_file_validation"),
            ("cloudtrail", Some("trail"), "logging"),
        ],
    )
    .await;
}

#[tokio::test]
async fn cloudtrail_refuses_a_trail_bucket_that_expires_logs_within_a_year() {
    let st = stack_on(
        Base {
            expire_days: Some(90),
            ..Base::default()
        },
        |_, _| {},
    );
    assert_refused(
        &st,
        &[(
            "cloudtrail",
            Some("audit-logs"),
            "lifecycle_rules.0.expiration_days",
        )],
    )
    .await;
}

// --- guardduty ------------------------------------------------------------------------

#[tokio::test]
async fn guardduty_refuses_a_stack_without_a_detector() {
    let st = stack_on(
        Base {
            guardduty: false,
            ..Base::default()
        },
        |_, _| {},
    );
    assert_refused(&st, &[("guardduty", None, "")]).await;
}

#[tokio::test]
async fn guardduty_refuses_a_disabled_detector() {
    let st = stack_on(
        Base {
            guardduty: false,
            ..Base::default()
        },
        |s, _| {
            let mut detector = GuardDutyDetector::new();
            detector.enable = false;
            s.add("guardduty", detector);
        },
    );
    assert_refused(&st, &[("guardduty", Some("guardduty"), "enable")]).await;
}

// --- key-rotation ---------------------------------------------------------------------

#[tokio::test]
async fn key_rotation_refuses_a_key_that_does_not_rotate() {
    let st = stack(|s, _| {
        s.add(
            "static-key",
            KmsKey::new("test: never rotated").rotation(false, 365),
        );
    });
    assert_refused(
        &st,
        &[("key-rotation", Some("static-key"), "enable_key_rotation")],
    )
    .await;
}

// --- secret-rotation ------------------------------------------------------------------

#[tokio::test]
async fn secret_rotation_refuses_a_secret_without_rotation() {
    let st = stack(|s, key| {
        s.add("api-key", Secret::new("test/api-key").kms_key(key.arn()));
    });
    assert_refused(&st, &[("secret-rotation", Some("api-key"), "")]).await;
}

#[tokio::test]
async fn secret_rotation_refuses_a_rotation_longer_than_90_days() {
    let st = stack(|s, key| {
        let secret = s.add("api-key", Secret::new("test/api-key").kms_key(key.arn()));
        s.add(
            "api-key-rotation",
            SecretRotation::new(secret.arn(), ROTATION_LAMBDA, 180),
        );
    });
    assert_refused(
        &st,
        &[(
            "secret-rotation",
            Some("api-key-rotation"),
            "automatically_after_days",
        )],
    )
    .await;
}

// --- versioning -----------------------------------------------------------------------

fn critical(name: &str, key: &Handle<KmsKey>) -> BucketArgs {
    Bucket::new(format!("test-{name}-123456789012")).kms(key.arn())
}

#[tokio::test]
async fn versioning_refuses_an_unversioned_critical_bucket() {
    // Critical by its tag.
    let st = stack(|s, key| {
        s.add("backups", critical("backups", key).tag("critical", "true"));
    });
    assert_refused(&st, &[("versioning", Some("backups"), "versioning")]).await;

    // Critical by the pack's configuration (the trail bucket, here, is not versioned).
    let st = stack(|_, _| {});
    assert_refused_by(
        Baseline::new().critical_bucket("audit-logs"),
        &st,
        &[("versioning", Some("audit-logs"), "versioning")],
    )
    .await;

    // Not critical, or versioned: fine.
    let st = stack(|s, key| {
        s.add("scratch", critical("scratch", key));
        s.add(
            "backups",
            critical("backups", key)
                .versioning(true)
                .tag("critical", "true"),
        );
    });
    assert!(engine(Baseline::new()).check_policies(&st).is_empty());
}

// --- advisory and waivers -------------------------------------------------------------

#[tokio::test]
async fn an_advisory_rule_is_listed_but_not_enforced() {
    let st = stack(|s, _| {
        s.add(
            "static-key",
            KmsKey::new("test: never rotated").rotation(false, 365),
        );
        s.add("uploads", Bucket::new("test-uploads-123456789012"));
    });
    let e = engine(Baseline::new().advisory("key-rotation"));
    let plan = e.preview(&st, &[]).await.unwrap();
    let by_rule = |rule: &str| {
        plan.violations
            .iter()
            .find(|v| v.rule == rule)
            .unwrap_or_else(|| panic!("no {rule} in {:#?}", plan.violations))
    };
    assert_eq!(plan.violations.len(), 2, "{:#?}", plan.violations);
    let rotation = by_rule("key-rotation");
    assert_eq!(rotation.enforcement, Enforcement::Advisory);
    assert_eq!(rotation.urn.as_ref().unwrap().name(), "static-key");
    assert_eq!(rotation.field, "enable_key_rotation");
    // The other rules stay mandatory: `up` still refuses, for the bucket only.
    assert_eq!(
        by_rule("encryption-at-rest").enforcement,
        Enforcement::Mandatory
    );
    let err = e.up(&st, &RunOptions::default()).await.unwrap_err();
    let EngineError::Policy(refused) = &err else {
        panic!("{err}")
    };
    assert_eq!(
        keys(&refused.0),
        owned(&[("encryption-at-rest", Some("uploads"), "encryption")])
    );

    // With the key alone, nothing mandatory is left: `up` would go ahead (not run here:
    // it would call AWS).
    let st = stack(|s, _| {
        s.add(
            "static-key",
            KmsKey::new("test: never rotated").rotation(false, 365),
        );
    });
    let violations = e.check_policies(&st);
    assert_eq!(violations.len(), 1);
    assert!(violations
        .iter()
        .all(|v| v.enforcement == Enforcement::Advisory));
}

#[tokio::test]
async fn a_waiver_makes_one_resource_advisory_with_its_reason() {
    let st = stack(|s, _| {
        s.add("alb-logs", Bucket::new("test-alb-logs-123456789012"));
        s.add("uploads", Bucket::new("test-uploads-123456789012"));
    });
    let pack = Baseline::new().waive(
        "encryption-at-rest",
        "alb-logs",
        "ALB access logs can only be written to SSE-S3 buckets",
    );
    let e = engine(pack);
    let plan = e.preview(&st, &[]).await.unwrap();
    assert_eq!(plan.violations.len(), 2, "{:#?}", plan.violations);
    let of = |name: &str| {
        plan.violations
            .iter()
            .find(|v| v.urn.as_ref().is_some_and(|u| u.name() == name))
            .unwrap()
    };
    let waived = of("alb-logs");
    assert_eq!(waived.enforcement, Enforcement::Advisory);
    assert_eq!(waived.field, "encryption");
    assert!(
        waived
            .message
            .ends_with("(waived: ALB access logs can only be written to SSE-S3 buckets)"),
        "{}",
        waived.message
    );
    // The waiver names one resource: the other bucket is still refused.
    let other = of("uploads");
    assert_eq!(other.enforcement, Enforcement::Mandatory);
    assert!(!other.message.contains("waived"));
    let err = e.up(&st, &RunOptions::default()).await.unwrap_err();
    let EngineError::Policy(refused) = &err else {
        panic!("{err}")
    };
    assert_eq!(
        keys(&refused.0),
        owned(&[("encryption-at-rest", Some("uploads"), "encryption")])
    );

    // A waiver of another rule does not cover this one.
    let st = stack(|s, _| {
        s.add("alb-logs", Bucket::new("test-alb-logs-123456789012"));
    });
    let strict = Baseline::new().waive("versioning", "alb-logs", "logs are not versioned");
    assert_refused_by(
        strict,
        &st,
        &[("encryption-at-rest", Some("alb-logs"), "encryption")],
    )
    .await;
}

// --- the e-commerce example -----------------------------------------------------------

#[tokio::test]
async fn the_ecommerce_stack_has_one_advisory_violation_its_waiver() {
    let config = BTreeMap::from([("ami".to_owned(), "ami-0123456789abcdef0".to_owned())]);
    let mut s = Stack::new("shop").with_config(config);
    ecommerce::ecommerce(&mut s);
    let st = s.seal().unwrap_or_else(|e| panic!("{e}"));

    let e = engine(ecommerce::policies());
    let plan = e.preview(&st, &[]).await.unwrap();
    assert_eq!(
        keys(&plan.violations),
        owned(&[("encryption-at-rest", Some("alb-logs"), "encryption")]),
        "{:#?}",
        plan.violations
    );
    let v = &plan.violations[0];
    assert_eq!(v.enforcement, Enforcement::Advisory);
    assert!(v.message.contains("(waived: "), "{}", v.message);

    // Without the waiver, the same finding refuses the stack.
    assert_refused(
        &st,
        &[("encryption-at-rest", Some("alb-logs"), "encryption")],
    )
    .await;
}
