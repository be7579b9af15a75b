//! Contract tests of the load-balancing, WAF and ACM types against the local AWS (moto):
//! create then read equals the declaration, in-place updates keep the resource,
//! replacing changes replace it, out-of-band drift is reported by refresh, delete leaves
//! nothing, an interrupted create is found again, and the declaration checks refuse bad
//! args without calling AWS.
//!
//! moto issues an ACM certificate 60 s after its request unless
//! `MOTO_ACM_VALIDATION_WAIT` says otherwise; strata-testkit starts it with 0, so a
//! certificate validated in a zone is issued at its first check, as a real one is once its
//! records resolve.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, LoadBalancerAttribute,
    LoadBalancerSchemeEnum, LoadBalancerTypeEnum, Matcher, RedirectActionStatusCodeEnum,
};
use aws_sdk_wafv2::types::Scope;
use serde_json::Value;
use strata_core::aws::Aws;
use strata_core::plan::Op;
use strata_core::resource::{Cx, Recovery, Resource};
use strata_core::{Context, Handle, ProviderError, Stack};
use strata_edge::*;
use strata_network::{
    InternetGateway, SecurityGroup, SecurityGroupHandle, Subnet, SubnetHandle, Vpc, VpcHandle,
};
use strata_testkit::{Harness as Env, LocalAws, REGION};

/// The shared moto, issuing ACM certificates at once.
fn moto() -> &'static LocalAws {
    LocalAws::shared()
}

async fn env(stack: &str) -> Env {
    moto();
    Env::new(stack, |r| {
        strata_network::register(r);
        strata_edge::register(r);
    })
    .await
}

fn elb(e: &Env) -> aws_sdk_elasticloadbalancingv2::Client {
    aws_sdk_elasticloadbalancingv2::Client::new(&e.conf)
}

fn acm_in(e: &Env, region: &str) -> aws_sdk_acm::Client {
    aws_sdk_acm::Client::from_conf(
        aws_sdk_acm::config::Builder::from(&e.conf)
            .region(aws_sdk_acm::config::Region::new(region.to_owned()))
            .build(),
    )
}

fn waf(e: &Env) -> aws_sdk_wafv2::Client {
    aws_sdk_wafv2::Client::new(&e.conf)
}

fn r53(e: &Env) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(&e.conf)
}

/// Refresh finds nothing changed.
async fn no_drift(e: &Env) {
    let drift = e.drift().await;
    assert!(drift.is_empty(), "{drift:?}");
}

/// The outputs of `name` in state.
async fn outputs(e: &Env, name: &str) -> Value {
    e.state()
        .await
        .resources
        .values()
        .find(|r| r.urn.name() == name)
        .map(|r| r.outputs.clone())
        .unwrap_or_else(|| panic!("{name} is not in state"))
}

/// A hosted zone made with a raw Route 53 call (not with strata's HostedZone).
async fn zone(e: &Env, domain: &str) -> String {
    let out = r53(e)
        .create_hosted_zone()
        .name(domain)
        .caller_reference(format!("alb-tests-{domain}"))
        .send()
        .await
        .unwrap();
    out.hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned()
}

/// The CNAME records of a zone, `(name, value)`.
async fn cnames(e: &Env, zone: &str) -> Vec<(String, String)> {
    let out = r53(e)
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    out.resource_record_sets()
        .iter()
        .filter(|r| r.r#type().as_str() == "CNAME")
        .map(|r| {
            (
                r.name().to_owned(),
                r.resource_records()[0].value().to_owned(),
            )
        })
        .collect()
}

struct Net {
    subnets: Vec<Handle<Subnet>>,
    vpc: Handle<Vpc>,
    sg: Handle<SecurityGroup>,
    sg2: Handle<SecurityGroup>,
}

/// A VPC `10.OCTET.0.0/16` with an internet gateway, two public subnets in two of the
/// region's zones, and two security groups.
fn network(s: &mut Stack, p: &str, octet: u8) -> Net {
    let vpc = s.add(format!("{p}-vpc"), Vpc::new(format!("10.{octet}.0.0/16")));
    s.add(format!("{p}-igw"), InternetGateway::new(vpc.id()));
    let subnets = ["a", "b"]
        .iter()
        .enumerate()
        .map(|(k, z)| {
            s.add(
                format!("{p}-public-{z}"),
                Subnet::new(
                    vpc.id(),
                    format!("10.{octet}.{}.0/24", k + 1),
                    format!("{REGION}{z}"),
                )
                .map_public_ip(true),
            )
        })
        .collect();
    let sg = s.add(
        format!("{p}-alb-sg"),
        SecurityGroup::new(format!("{p}-alb"), "ALB", vpc.id()),
    );
    let sg2 = s.add(
        format!("{p}-alb-sg2"),
        SecurityGroup::new(format!("{p}-alb2"), "ALB too", vpc.id()),
    );
    Net {
        subnets,
        vpc,
        sg,
        sg2,
    }
}

fn alb(net: &Net, name: &str) -> LoadBalancerArgs {
    LoadBalancer::new(name, net.subnets.iter().map(SubnetHandle::id)).security_group(net.sg.id())
}

async fn lb_attributes(e: &Env, arn: &str) -> BTreeMap<String, String> {
    elb(e)
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn)
        .send()
        .await
        .unwrap()
        .attributes()
        .iter()
        .map(|a| (a.key().unwrap().to_owned(), a.value().unwrap().to_owned()))
        .collect()
}

async fn elb_tags(e: &Env, arn: &str) -> BTreeMap<String, String> {
    elb(e)
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .unwrap()
        .tag_descriptions()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn load_balancer_create_update_drift_replace_delete() {
    let e = env("alb-lb").await;
    let build = |name: &'static str, idle: u32, second_sg: bool, env_tag: &'static str| {
        move |s: &mut Stack| {
            let net = network(s, "lbc", 21);
            let sg = if second_sg { net.sg2.id() } else { net.sg.id() };
            s.add(
                "alb",
                LoadBalancer::new(name, net.subnets.iter().map(SubnetHandle::id))
                    .security_group(sg)
                    .idle_timeout(idle)
                    .tag("env", env_tag),
            );
        }
    };
    e.up(&e.stack(build("lbc-alb", 60, false, "dev"))).await;
    let arn = e.id("alb").await;
    let lb = elb(&e)
        .describe_load_balancers()
        .load_balancer_arns(&arn)
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .clone();
    assert_eq!(lb.scheme(), Some(&LoadBalancerSchemeEnum::InternetFacing));
    assert_eq!(lb.r#type(), Some(&LoadBalancerTypeEnum::Application));
    assert_eq!(lb.availability_zones().len(), 2);
    let attrs = lb_attributes(&e, &arn).await;
    assert_eq!(attrs["load_balancing.cross_zone.enabled"], "true");
    assert_eq!(
        attrs["routing.http.drop_invalid_header_fields.enabled"],
        "true"
    );
    assert_eq!(attrs["deletion_protection.enabled"], "false");
    let tags = elb_tags(&e, &arn).await;
    assert_eq!(tags["env"], "dev");
    assert!(tags["strata:urn"].ends_with("::alb"));
    assert!(tags.contains_key("strata:token"));
    let out = outputs(&e, "alb").await;
    assert_eq!(out["arn"], arn.as_str());
    assert!(out["arn_suffix"]
        .as_str()
        .unwrap()
        .starts_with("app/lbc-alb/"));
    assert_eq!(out["dns_name"], lb.dns_name().unwrap());
    assert_eq!(out["zone_id"], lb.canonical_hosted_zone_id().unwrap());
    assert_eq!(out["name"], "lbc-alb");
    no_drift(&e).await;

    // In place: the idle timeout, the security group and a tag.
    let st = e.stack(build("lbc-alb", 120, true, "prod"));
    assert_eq!(e.ops(&st).await["alb"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("alb").await, arn);
    assert_eq!(
        lb_attributes(&e, &arn).await["idle_timeout.timeout_seconds"],
        "120"
    );
    let sg2 = e.id("lbc-alb-sg2").await;
    let lb = elb(&e)
        .describe_load_balancers()
        .load_balancer_arns(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(lb.load_balancers()[0].security_groups(), [sg2]);
    assert_eq!(elb_tags(&e, &arn).await["env"], "prod");

    // Out-of-band drift, reported by refresh, then put back by up.
    elb(&e)
        .modify_load_balancer_attributes()
        .load_balancer_arn(&arn)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("routing.http2.enabled")
                .value("false")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["alb"], vec!["http2"]);
    e.up(&st).await;
    assert_eq!(
        lb_attributes(&e, &arn).await["routing.http2.enabled"],
        "true"
    );

    // A new name replaces it.
    let st = e.stack(build("lbc-alb-2", 120, true, "prod"));
    assert_eq!(e.ops(&st).await["alb"], Op::Replace);
    e.up(&st).await;
    let new_arn = e.id("alb").await;
    assert_ne!(new_arn, arn);
    assert!(elb(&e)
        .describe_load_balancers()
        .load_balancer_arns(&arn)
        .send()
        .await
        .is_err());

    e.destroy().await;
    assert!(elb(&e)
        .describe_load_balancers()
        .load_balancer_arns(&new_arn)
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn target_group_create_update_drift_replace_delete() {
    let e = env("alb-tg").await;
    let build = |name: &'static str, port: u16, path: &'static str, delay: u32| {
        move |s: &mut Stack| {
            let vpc = s.add("tgc-vpc", Vpc::new("10.22.0.0/16"));
            s.add(
                "tg",
                TargetGroup::http(name, port, vpc.id())
                    .health_check_path(path)
                    .deregistration_delay(delay)
                    .tag("tier", "app"),
            );
        }
    };
    e.up(&e.stack(build("tgc-app", 8080, "/health", 30))).await;
    let arn = e.id("tg").await;
    let tg = elb(&e)
        .describe_target_groups()
        .target_group_arns(&arn)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .clone();
    assert_eq!(tg.port(), Some(8080));
    assert_eq!(tg.health_check_path(), Some("/health"));
    assert_eq!(tg.matcher().and_then(|m| m.http_code()), Some("200"));
    assert_eq!(tg.health_check_interval_seconds(), Some(30));
    assert_eq!(tg.health_check_timeout_seconds(), Some(5));
    assert_eq!(tg.healthy_threshold_count(), Some(5));
    assert_eq!(tg.unhealthy_threshold_count(), Some(2));
    let out = outputs(&e, "tg").await;
    assert!(out["arn_suffix"]
        .as_str()
        .unwrap()
        .starts_with("targetgroup/tgc-app/"));
    assert_eq!(elb_tags(&e, &arn).await["tier"], "app");
    no_drift(&e).await;

    // In place: the health check path and the deregistration delay.
    let st = e.stack(build("tgc-app", 8080, "/healthz", 60));
    assert_eq!(e.ops(&st).await["tg"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("tg").await, arn);
    let tg = elb(&e)
        .describe_target_groups()
        .target_group_arns(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tg.target_groups()[0].health_check_path(), Some("/healthz"));
    let attrs = elb(&e)
        .describe_target_group_attributes()
        .target_group_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(attrs.attributes().iter().any(|a| a.key()
        == Some("deregistration_delay.timeout_seconds")
        && a.value() == Some("60")));

    // Out-of-band drift of the matcher.
    elb(&e)
        .modify_target_group()
        .target_group_arn(&arn)
        .matcher(Matcher::builder().http_code("200-299").build())
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["tg"], vec!["health_check.matcher"]);
    e.up(&st).await;

    // A new port (with a new name: names are unique) replaces it.
    let st = e.stack(build("tgc-app-81", 8081, "/healthz", 60));
    assert_eq!(e.ops(&st).await["tg"], Op::Replace);
    e.up(&st).await;
    let new_arn = e.id("tg").await;
    assert_ne!(new_arn, arn);
    assert!(elb(&e)
        .describe_target_groups()
        .target_group_arns(&arn)
        .send()
        .await
        .is_err());

    e.destroy().await;
    assert!(elb(&e)
        .describe_target_groups()
        .target_group_arns(&new_arn)
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn listeners_https_with_the_certificate_and_http_redirect() {
    let e = env("alb-listener").await;
    let build = |tg2: bool, policy: &'static str, second_lb: bool| {
        move |s: &mut Stack| {
            let net = network(s, "lsc", 23);
            let lb = s.add("alb", alb(&net, "lsc-alb"));
            let lb2 = s.add("alb2", alb(&net, "lsc-alb2"));
            let app = s.add("app", TargetGroup::http("lsc-app", 80, net.vpc.id()));
            let app2 = s.add("app2", TargetGroup::http("lsc-app2", 80, net.vpc.id()));
            let cert = s.add("cert", Certificate::dns("lsc.example.com"));
            let on = if second_lb { lb2.arn() } else { lb.arn() };
            let to = if tg2 { app2.arn() } else { app.arn() };
            s.add(
                "https",
                Listener::https(on, 443, cert.arn(), to)
                    .ssl_policy(policy)
                    .tag("kind", "https"),
            );
            s.add("http", Listener::http_redirect(lb.arn()));
        }
    };
    e.up(&e.stack(build(false, DEFAULT_SSL_POLICY, false)))
        .await;
    let (https, http) = (e.id("https").await, e.id("http").await);
    let cert = e.id("cert").await;
    let l = elb(&e)
        .describe_listeners()
        .listener_arns(&https)
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .clone();
    assert_eq!(l.port(), Some(443));
    assert_eq!(l.protocol().map(|p| p.as_str()), Some("HTTPS"));
    assert_eq!(l.ssl_policy(), Some("ELBSecurityPolicy-TLS13-1-2-2021-06"));
    assert_eq!(l.certificates()[0].certificate_arn(), Some(cert.as_str()));
    assert_eq!(
        l.default_actions()[0].target_group_arn(),
        Some(e.id("app").await.as_str())
    );
    let l = elb(&e)
        .describe_listeners()
        .listener_arns(&http)
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .clone();
    assert_eq!(l.port(), Some(80));
    let redirect = l.default_actions()[0].redirect_config().unwrap();
    assert_eq!(
        (redirect.protocol(), redirect.port(), redirect.status_code()),
        (
            Some("HTTPS"),
            Some("443"),
            Some(&RedirectActionStatusCodeEnum::Http301)
        )
    );
    assert_eq!(elb_tags(&e, &https).await["kind"], "https");
    no_drift(&e).await;

    // In place: another target group and a TLS 1.3-only policy.
    let st = e.stack(build(true, "ELBSecurityPolicy-TLS13-1-3-2021-06", false));
    assert_eq!(e.ops(&st).await["https"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("https").await, https);
    let l = elb(&e)
        .describe_listeners()
        .listener_arns(&https)
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .clone();
    assert_eq!(l.ssl_policy(), Some("ELBSecurityPolicy-TLS13-1-3-2021-06"));
    assert_eq!(
        l.default_actions()[0].target_group_arn(),
        Some(e.id("app2").await.as_str())
    );

    // Out-of-band drift: the redirect became a fixed response.
    elb(&e)
        .modify_listener()
        .listener_arn(&http)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .status_code("503")
                        .content_type("text/plain")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drift = e.drift().await;
    assert!(
        !drift["http"].is_empty()
            && drift["http"]
                .iter()
                .all(|p| p.starts_with("default_action")),
        "{drift:?}"
    );
    e.up(&st).await;
    let l = elb(&e)
        .describe_listeners()
        .listener_arns(&http)
        .send()
        .await
        .unwrap();
    assert!(l.listeners()[0].default_actions()[0]
        .redirect_config()
        .is_some());

    // Another load balancer replaces it.
    let st = e.stack(build(true, "ELBSecurityPolicy-TLS13-1-3-2021-06", true));
    assert_eq!(e.ops(&st).await["https"], Op::Replace);
    e.up(&st).await;
    let moved = e.id("https").await;
    assert_ne!(moved, https);
    assert!(moved.contains("/lsc-alb2/"));
    assert!(elb(&e)
        .describe_listeners()
        .listener_arns(&https)
        .send()
        .await
        .is_err());

    e.destroy().await;
    for arn in [moved, http] {
        assert!(elb(&e)
            .describe_listeners()
            .listener_arns(&arn)
            .send()
            .await
            .is_err());
    }
}

#[tokio::test]
async fn certificate_validated_in_a_zone_update_drift_replace_delete() {
    let e = env("alb-cert").await;
    let zone_id = zone(&e, "crt.example.com").await;
    let build = |api: bool, owner: &'static str| {
        let zone_id = zone_id.clone();
        move |s: &mut Stack| {
            let mut c = Certificate::dns("crt.example.com")
                .wildcard()
                .validate_in_zone(zone_id)
                .tag("owner", owner);
            if api {
                c = c.san("api.crt.example.com");
            }
            s.add("cert", c);
        }
    };
    e.up(&e.stack(build(false, "web"))).await;
    let arn = e.id("cert").await;
    let out = outputs(&e, "cert").await;
    assert_eq!(out["status"], "ISSUED");
    // The apex and its wildcard share one validation record.
    let records = out["validation_records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    let live = cnames(&e, &zone_id).await;
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0].1, records[0]["value"].as_str().unwrap());
    let c = acm_in(&e, REGION)
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    let c = c.certificate().unwrap();
    assert_eq!(c.domain_name(), Some("crt.example.com"));
    assert!(c
        .subject_alternative_names()
        .contains(&"*.crt.example.com".to_owned()));
    no_drift(&e).await;

    // In place: a tag.
    let st = e.stack(build(false, "shop"));
    assert_eq!(e.ops(&st).await["cert"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("cert").await, arn);

    // Out-of-band drift: a tag added by hand.
    acm_in(&e, REGION)
        .add_tags_to_certificate()
        .certificate_arn(&arn)
        .tags(
            aws_sdk_acm::types::Tag::builder()
                .key("cost-center")
                .value("42")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["cert"], vec!["tags.cost-center"]);
    e.up(&st).await;

    // Another name replaces it; the record the new one shares stays.
    let st = e.stack(build(true, "shop"));
    assert_eq!(e.ops(&st).await["cert"], Op::Replace);
    e.up(&st).await;
    let new_arn = e.id("cert").await;
    assert_ne!(new_arn, arn);
    assert!(acm_in(&e, REGION)
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .is_err());
    let live = cnames(&e, &zone_id).await;
    assert_eq!(live.len(), 2, "{live:?}");
    assert_eq!(outputs(&e, "cert").await["status"], "ISSUED");

    // A validation record pointed elsewhere by hand is no longer this certificate's:
    // delete leaves it, and removes the other.
    let api = live
        .iter()
        .find(|(name, _)| name.contains("api.crt."))
        .unwrap()
        .0
        .clone();
    r53(&e)
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(
            aws_sdk_route53::types::ChangeBatch::builder()
                .changes(
                    aws_sdk_route53::types::Change::builder()
                        .action(aws_sdk_route53::types::ChangeAction::Upsert)
                        .resource_record_set(
                            aws_sdk_route53::types::ResourceRecordSet::builder()
                                .name(&api)
                                .r#type(aws_sdk_route53::types::RrType::Cname)
                                .ttl(60)
                                .resource_records(
                                    aws_sdk_route53::types::ResourceRecord::builder()
                                        .value("elsewhere.example.net.")
                                        .build()
                                        .unwrap(),
                                )
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    e.destroy().await;
    assert!(acm_in(&e, REGION)
        .describe_certificate()
        .certificate_arn(&new_arn)
        .send()
        .await
        .is_err());
    assert_eq!(
        cnames(&e, &zone_id).await,
        vec![(api, "elsewhere.example.net.".to_owned())]
    );
}

/// ACM gives every certificate of a domain in an account the same validation record, in
/// every region. The e-commerce stack has two: the ALB's in the stack's region and
/// CloudFront's in us-east-1. Deleting one must leave the record the other needs to
/// renew; deleting the last removes it.
#[tokio::test]
async fn a_validation_record_shared_across_regions_outlives_one_certificate() {
    let e = env("alb-cert-shared").await;
    let zone_id = zone(&e, "shared.example.com").await;
    let build = |both: bool| {
        let zone_id = zone_id.clone();
        move |s: &mut Stack| {
            if both {
                s.add(
                    "alb-cert",
                    Certificate::dns("shared.example.com").validate_in_zone(zone_id.clone()),
                );
            }
            s.add(
                "cdn-cert",
                Certificate::dns("shared.example.com")
                    .for_cloudfront()
                    .validate_in_zone(zone_id),
            );
        }
    };
    e.up(&e.stack(build(true))).await;
    let (alb, cdn) = (e.id("alb-cert").await, e.id("cdn-cert").await);
    assert!(alb.contains(&format!(":{REGION}:")) && cdn.contains(":us-east-1:"));
    let record = cnames(&e, &zone_id).await;
    assert_eq!(record.len(), 1, "one record for both: {record:?}");

    // The ALB's certificate goes; CloudFront's still validates (and renews) with it.
    let st = e.stack(build(false));
    assert_eq!(e.ops(&st).await["alb-cert"], Op::Delete);
    e.up(&st).await;
    assert!(acm_in(&e, REGION)
        .describe_certificate()
        .certificate_arn(&alb)
        .send()
        .await
        .is_err());
    assert_eq!(cnames(&e, &zone_id).await, record, "the record stays");

    e.destroy().await;
    assert_eq!(
        cnames(&e, &zone_id).await,
        vec![],
        "the last one removes it"
    );
}

#[tokio::test]
async fn a_certificate_for_cloudfront_lives_in_us_east_1() {
    let e = env("alb-cert-cf").await;
    let st = e.stack(|s| {
        s.add(
            "cdn-cert",
            Certificate::dns("cdn.crtcf.example.com").for_cloudfront(),
        );
    });
    e.up(&st).await;
    let arn = e.id("cdn-cert").await;
    assert!(arn.contains(":us-east-1:"), "{arn}");
    assert!(acm_in(&e, "us-east-1")
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .is_ok());
    // Without a zone, create does not wait: the records are for whoever serves the DNS.
    let out = outputs(&e, "cdn-cert").await;
    assert_eq!(out["validation_records"].as_array().unwrap().len(), 1);
    no_drift(&e).await;
    e.destroy().await;
    assert!(acm_in(&e, "us-east-1")
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .is_err());
}

fn shop_waf(name: &'static str, limit: u64) -> WebAclArgs {
    WebAcl::regional(name)
        .rule(Rule::sql_injection(1))
        .rule(Rule::common(2))
        .rule(Rule::rate_limit(3, limit))
        .rule(Rule::geo_block(4, ["KP"]))
        .tag("tier", "edge")
}

async fn get_acl(e: &Env, arn: &str) -> Option<(aws_sdk_wafv2::types::WebAcl, String)> {
    let parts: Vec<&str> = arn.rsplit('/').take(2).collect();
    let (id, name) = (parts[0], parts[1]);
    waf(e)
        .get_web_acl()
        .name(name)
        .id(id)
        .scope(Scope::Regional)
        .send()
        .await
        .ok()
        .map(|o| {
            (
                o.web_acl().unwrap().clone(),
                o.lock_token().unwrap().to_owned(),
            )
        })
}

/// Checks the e-commerce WAF: SQLi and the common set (XSS), 1000 requests per 5 minutes
/// per IP, and geo blocking.
fn assert_shop_rules(acl: &aws_sdk_wafv2::types::WebAcl, limit: i64) {
    let rules = acl.rules();
    assert_eq!(rules.len(), 4);
    let managed = |k: usize| {
        rules[k]
            .statement()
            .unwrap()
            .managed_rule_group_statement()
            .unwrap()
            .name()
            .to_owned()
    };
    assert_eq!(managed(0), "AWSManagedRulesSQLiRuleSet");
    assert_eq!(managed(1), "AWSManagedRulesCommonRuleSet");
    let rate = rules[2]
        .statement()
        .unwrap()
        .rate_based_statement()
        .unwrap();
    assert_eq!(
        (
            rate.limit(),
            rate.evaluation_window_sec(),
            rate.aggregate_key_type().as_str()
        ),
        (limit, 300, "IP")
    );
    assert!(rules[2].action().unwrap().block().is_some());
    let geo = rules[3].statement().unwrap().geo_match_statement().unwrap();
    assert_eq!(geo.country_codes()[0].as_str(), "KP");
    for r in rules {
        let v = r.visibility_config().unwrap();
        assert!(v.cloud_watch_metrics_enabled() && v.sampled_requests_enabled());
        assert_eq!(v.metric_name(), r.name());
    }
    assert!(acl.default_action().unwrap().allow().is_some());
}

#[tokio::test]
async fn web_acl_create_update_drift_replace_delete() {
    let e = env("alb-waf").await;
    let build = |name: &'static str, limit: u64| {
        move |s: &mut Stack| {
            s.add("waf", shop_waf(name, limit));
        }
    };
    e.up(&e.stack(build("wafc-shop", 1000))).await;
    let arn = e.id("waf").await;
    let (acl, _) = get_acl(&e, &arn).await.unwrap();
    assert_shop_rules(&acl, 1000);
    let out = outputs(&e, "waf").await;
    assert_eq!(out["id"], acl.id());
    assert_eq!(out["name"], "wafc-shop");
    no_drift(&e).await;

    // In place: a higher limit.
    let st = e.stack(build("wafc-shop", 2000));
    assert_eq!(e.ops(&st).await["waf"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("waf").await, arn);
    let (acl, lock) = get_acl(&e, &arn).await.unwrap();
    assert_shop_rules(&acl, 2000);

    // Out-of-band drift: another country blocked.
    let mut rules = acl.rules().to_vec();
    rules[3] = aws_sdk_wafv2::types::Rule::builder()
        .name("geo-block")
        .priority(4)
        .statement(
            aws_sdk_wafv2::types::Statement::builder()
                .geo_match_statement(
                    aws_sdk_wafv2::types::GeoMatchStatement::builder()
                        .country_codes("KP".into())
                        .country_codes("IR".into())
                        .build(),
                )
                .build(),
        )
        .action(
            aws_sdk_wafv2::types::RuleAction::builder()
                .block(aws_sdk_wafv2::types::BlockAction::builder().build())
                .build(),
        )
        .visibility_config(rules[3].visibility_config().unwrap().clone())
        .build()
        .unwrap();
    waf(&e)
        .update_web_acl()
        .name(acl.name())
        .id(acl.id())
        .scope(Scope::Regional)
        .lock_token(lock)
        .default_action(acl.default_action().unwrap().clone())
        .set_rules(Some(rules))
        .visibility_config(acl.visibility_config().unwrap().clone())
        .send()
        .await
        .unwrap();
    let drift = e.drift().await;
    assert_eq!(drift["waf"], vec!["rules"], "{drift:?}");
    e.up(&st).await;
    assert_shop_rules(&get_acl(&e, &arn).await.unwrap().0, 2000);

    // A new name replaces it.
    let st = e.stack(build("wafc-shop-2", 2000));
    assert_eq!(e.ops(&st).await["waf"], Op::Replace);
    e.up(&st).await;
    let new_arn = e.id("waf").await;
    assert_ne!(new_arn, arn);
    assert!(get_acl(&e, &arn).await.is_none());

    e.destroy().await;
    assert!(get_acl(&e, &new_arn).await.is_none());
}

async fn acl_for(e: &Env, resource: &str) -> Option<String> {
    waf(e)
        .get_web_acl_for_resource()
        .resource_arn(resource)
        .send()
        .await
        .unwrap()
        .web_acl()
        .map(|w| w.arn().to_owned())
}

#[tokio::test]
async fn web_acl_association_create_drift_replace_delete() {
    let e = env("alb-waf-assoc").await;
    let build = |second: bool| {
        move |s: &mut Stack| {
            let net = network(s, "wac", 24);
            let lb = s.add("alb", alb(&net, "wac-alb"));
            let w1 = s.add("waf", WebAcl::regional("wac-waf").rule(Rule::common(1)));
            let w2 = s.add(
                "waf2",
                WebAcl::regional("wac-waf2").rule(Rule::sql_injection(1)),
            );
            let w = if second { w2.arn() } else { w1.arn() };
            s.add("waf-alb", WebAclAssociation::new(w, lb.arn()));
        }
    };
    e.up(&e.stack(build(false))).await;
    let lb = e.id("alb").await;
    assert_eq!(e.id("waf-alb").await, lb);
    assert_eq!(acl_for(&e, &lb).await, Some(e.id("waf").await));
    no_drift(&e).await;

    // Out-of-band removal, reported, then made again by up.
    waf(&e)
        .disassociate_web_acl()
        .resource_arn(&lb)
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await.get("waf-alb"), Some(&vec![]));
    let st = e.stack(build(false));
    assert_eq!(e.ops(&st).await["waf-alb"], Op::Create);
    e.up(&st).await;
    assert_eq!(acl_for(&e, &lb).await, Some(e.id("waf").await));

    // Another web ACL replaces it.
    let st = e.stack(build(true));
    assert_eq!(e.ops(&st).await["waf-alb"], Op::Replace);
    e.up(&st).await;
    assert_eq!(acl_for(&e, &lb).await, Some(e.id("waf2").await));

    e.destroy().await;
    assert_eq!(acl_for(&e, &lb).await, None);
}

/// The e-commerce edge: an internet-facing ALB across two zones with cross-zone
/// balancing, health checks on /health, HTTPS with an ACM certificate for the domain and
/// its wildcard validated in the zone, HTTP redirected to HTTPS, and a WAF with SQL
/// injection, XSS, rate limiting and geo blocking in front of it.
#[tokio::test]
async fn the_e_commerce_edge() {
    let e = env("alb-shop").await;
    let zone_id = zone(&e, "shop.example.com").await;
    let st = e.stack(|s| {
        let net = network(s, "shop", 25);
        let lb = s.add("alb", alb(&net, "shop-alb"));
        let app = s.add(
            "app",
            TargetGroup::http("shop-app", 80, net.vpc.id()).health_check_path("/health"),
        );
        let cert = s.add(
            "cert",
            Certificate::dns("shop.example.com")
                .wildcard()
                .validate_in_zone(zone_id.clone()),
        );
        s.add(
            "https",
            Listener::https(lb.arn(), 443, cert.arn(), app.arn()),
        );
        s.add("http", Listener::http_redirect(lb.arn()));
        let waf = s.add("waf", shop_waf("shop-waf", 1000));
        s.add("waf-alb", WebAclAssociation::new(waf.arn(), lb.arn()));
    });
    e.up(&st).await;
    let lb = e.id("alb").await;
    let cert = e.id("cert").await;
    assert_eq!(outputs(&e, "cert").await["status"], "ISSUED");
    assert_eq!(cnames(&e, &zone_id).await.len(), 1);
    let listeners = elb(&e)
        .describe_listeners()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    let https = listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(443))
        .unwrap();
    assert_eq!(
        https.certificates()[0].certificate_arn(),
        Some(cert.as_str())
    );
    assert_eq!(https.ssl_policy(), Some(DEFAULT_SSL_POLICY));
    let http = listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(80))
        .unwrap();
    assert_eq!(
        http.default_actions()[0]
            .redirect_config()
            .and_then(|r| r.protocol()),
        Some("HTTPS")
    );
    let attrs = lb_attributes(&e, &lb).await;
    assert_eq!(attrs["load_balancing.cross_zone.enabled"], "true");
    let waf_arn = e.id("waf").await;
    assert_shop_rules(&get_acl(&e, &waf_arn).await.unwrap().0, 1000);
    assert_eq!(acl_for(&e, &lb).await, Some(waf_arn));
    no_drift(&e).await;

    e.destroy().await;
    assert!(elb(&e)
        .describe_load_balancers()
        .load_balancer_arns(&lb)
        .send()
        .await
        .is_err());
    assert!(cnames(&e, &zone_id).await.is_empty());
}

#[tokio::test]
async fn interrupted_creates_are_found_again() {
    let conf = moto().sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.26.0.0/16")
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
        subnets.push(
            ec2.create_subnet()
                .vpc_id(&vpc)
                .cidr_block(format!("10.26.{}.0/24", k + 1))
                .availability_zone(format!("{REGION}{z}"))
                .send()
                .await
                .unwrap()
                .subnet()
                .unwrap()
                .subnet_id()
                .unwrap()
                .to_owned(),
        );
    }
    let sg = ec2
        .create_security_group()
        .group_name("rec-alb")
        .description("ALB")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned();
    let ctx = Context::new().with(Aws::new(conf));

    macro_rules! check {
        ($ty:ty, $name:literal, $args:expr) => {{
            let args = $args;
            let urn = strata_core::Urn::new("recover", <$ty>::TYPE, $name);
            let cx = Cx {
                context: &ctx,
                urn: &urn,
                token: concat!("tokrecover", $name),
            };
            assert!(
                matches!(<$ty>::recover(&cx, &args).await.unwrap(), Recovery::Absent),
                "{} found before its create",
                $name
            );
            let made = <$ty>::create(&cx, &args).await.unwrap();
            // (An association has no tags: it can only resemble.)
            let (Recovery::Found(found) | Recovery::Resembles(found)) =
                <$ty>::recover(&cx, &args).await.unwrap()
            else {
                panic!("{} not found again", $name);
            };
            assert_eq!(found.id, made.id);
            assert!(<$ty>::read(&cx, &made.id, Some(&args))
                .await
                .unwrap()
                .is_some());
            (cx.urn.clone(), made, args)
        }};
    }

    let (_, lb, lb_args) = check!(
        LoadBalancer,
        "lb",
        LoadBalancer::new("rec-alb", subnets.clone()).security_group(sg.clone())
    );
    let (_, tg, tg_args) = check!(
        TargetGroup,
        "tg",
        TargetGroup::http("rec-app", 80, vpc.clone())
    );
    let (_, l, l_args) = check!(
        Listener,
        "listener",
        Listener::new(
            lb.outputs.arn.clone(),
            8080,
            ListenerProtocol::Http,
            ListenerAction::forward(tg.outputs.arn.clone())
        )
    );
    let (_, cert, cert_args) = check!(Certificate, "cert", Certificate::dns("rec.example.com"));
    let (_, acl, acl_args) = check!(
        WebAcl,
        "waf",
        WebAcl::regional("rec-waf").rule(Rule::common(1))
    );
    let (_, assoc, assoc_args) = check!(
        WebAclAssociation,
        "assoc",
        WebAclAssociation::new(acl.outputs.arn.clone(), lb.outputs.arn.clone())
    );

    // Another resource's create (another token) does not find them, and is refused their
    // names and port without changing them: the name alone is no proof.
    let other = strata_core::Urn::new("recover", LoadBalancer::TYPE, "another");
    let cx = Cx {
        context: &ctx,
        urn: &other,
        token: "another",
    };
    macro_rules! not_ours {
        ($ty:ty, $args:expr) => {{
            assert!(
                matches!(<$ty>::recover(&cx, &$args).await.unwrap(), Recovery::Absent),
                "{} adopted by another token",
                stringify!($ty)
            );
            let err = <$ty>::create(&cx, &$args).await.unwrap_err();
            assert!(
                matches!(err, ProviderError::AlreadyExists { .. }),
                "{}: {err}",
                stringify!($ty)
            );
        }};
    }
    not_ours!(LoadBalancer, lb_args);
    not_ours!(TargetGroup, tg_args);
    not_ours!(Listener, l_args);
    // A web ACL name in use: refused (moto 5.2.5 answers `WafV2DuplicateItem` where AWS
    // answers `WAFDuplicateItemException`, so only the refusal is checked here).
    assert!(matches!(
        WebAcl::recover(&cx, &acl_args).await.unwrap(),
        Recovery::Absent
    ));
    assert!(WebAcl::create(&cx, &acl_args).await.is_err());
    let raw_elb = aws_sdk_elasticloadbalancingv2::Client::new(&moto().sdk_config().await);
    assert_eq!(
        raw_elb
            .describe_load_balancers()
            .names("rec-alb")
            .send()
            .await
            .unwrap()
            .load_balancers()
            .len(),
        1,
        "a second load balancer of the name"
    );
    // A load balancer behind a web ACL is not moved behind another one (AssociateWebACL
    // would silently do that): the create is refused and the association stays.
    let acl2_args = WebAcl::regional("rec-waf-2").rule(Rule::common(1));
    let acl2 = WebAcl::create(&cx, &acl2_args).await.unwrap();
    let moved = WebAclAssociation::new(acl2.outputs.arn.clone(), lb.outputs.arn.clone());
    let err = WebAclAssociation::create(&cx, &moved).await.unwrap_err();
    assert!(matches!(err, ProviderError::AlreadyExists { .. }), "{err}");
    assert!(matches!(
        WebAclAssociation::recover(&cx, &moved).await.unwrap(),
        Recovery::Absent
    ));
    let raw_waf = aws_sdk_wafv2::Client::new(&moto().sdk_config().await);
    assert_eq!(
        raw_waf
            .get_web_acl_for_resource()
            .resource_arn(&lb.outputs.arn)
            .send()
            .await
            .unwrap()
            .web_acl()
            .map(|w| w.arn().to_owned()),
        Some(acl.outputs.arn.clone())
    );
    WebAcl::delete(&cx, &acl2.id, &acl2_args, &acl2.outputs)
        .await
        .unwrap();

    // Deleting twice is fine, and read then finds nothing.
    macro_rules! gone {
        ($ty:ty, $made:expr, $args:expr) => {{
            for _ in 0..2 {
                <$ty>::delete(&cx, &$made.id, &$args, &$made.outputs)
                    .await
                    .unwrap();
            }
            assert!(<$ty>::read(&cx, &$made.id, Some(&$args))
                .await
                .unwrap()
                .is_none());
        }};
    }
    gone!(WebAclAssociation, assoc, assoc_args);
    gone!(WebAcl, acl, acl_args);
    gone!(Listener, l, l_args);
    gone!(TargetGroup, tg, tg_args);
    gone!(LoadBalancer, lb, lb_args);
    gone!(Certificate, cert, cert_args);
}

/// A VPC `10.OCTET.0.0/16` with two subnets in two of the region's zones and a security
/// group `sg_name`, made with raw EC2 calls (outside any stack): `(subnets, group)`.
async fn raw_network(
    conf: &aws_config::SdkConfig,
    octet: u8,
    sg_name: &str,
) -> (Vec<String>, String) {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{octet}.0.0/16"))
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
        subnets.push(
            ec2.create_subnet()
                .vpc_id(&vpc)
                .cidr_block(format!("10.{octet}.{}.0/24", k + 1))
                .availability_zone(format!("{REGION}{z}"))
                .send()
                .await
                .unwrap()
                .subnet()
                .unwrap()
                .subnet_id()
                .unwrap()
                .to_owned(),
        );
    }
    let sg = ec2
        .create_security_group()
        .group_name(sg_name)
        .description("ALB")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned();
    (subnets, sg)
}

/// The load balancer `name` is still `arn` alone, with only its owner's tag and the
/// attributes `before`.
async fn untouched_load_balancer(
    e: &Env,
    name: &str,
    arn: &str,
    before: &BTreeMap<String, String>,
) {
    let lbs = elb(e)
        .describe_load_balancers()
        .names(name)
        .send()
        .await
        .unwrap();
    let arns: Vec<&str> = lbs
        .load_balancers()
        .iter()
        .filter_map(|l| l.load_balancer_arn())
        .collect();
    assert_eq!(arns, [arn], "one load balancer of the name");
    assert_eq!(
        elb_tags(e, arn).await,
        BTreeMap::from([("owner".to_owned(), "someone-else".to_owned())])
    );
    assert_eq!(&lb_attributes(e, arn).await, before);
}

/// A load balancer name that something else holds: the step fails as not managed by this
/// stack, the load balancer keeps its tags and attributes (and is not duplicated), and
/// destroy leaves it.
#[tokio::test]
async fn a_load_balancer_name_in_use_is_not_taken_over() {
    let e = env("alb-taken").await;
    let (subnets, sg) = raw_network(&e.conf, 27, "taken-alb").await;
    let existing = elb(&e)
        .create_load_balancer()
        .name("taken-alb")
        .set_subnets(Some(subnets.clone()))
        .security_groups(&sg)
        .tags(
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key("owner")
                .value("someone-else")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    let before = lb_attributes(&e, &existing).await;
    let st = e.stack(|s| {
        s.add(
            "alb",
            LoadBalancer::new("taken-alb", subnets.clone())
                .security_group(sg.clone())
                .idle_timeout(120)
                .tag("owner", "strata"),
        );
    });
    e.up_conflict(&st, "alb").await;
    untouched_load_balancer(&e, "taken-alb", &existing, &before).await;
    e.destroy().await;
    untouched_load_balancer(&e, "taken-alb", &existing, &before).await;
    elb(&e)
        .delete_load_balancer()
        .load_balancer_arn(&existing)
        .send()
        .await
        .unwrap();
}

/// Deletion protection is found before anything is deleted: read live (not from the args),
/// naming the field and the way out. Switched off, nothing blocks the delete, and a load
/// balancer that is gone blocks nothing either.
#[tokio::test]
async fn deletion_protection_blocks_a_delete_up_front() {
    let conf = moto().sdk_config().await;
    let (subnets, sg) = raw_network(&conf, 28, "protected-alb").await;
    let ctx = Context::new().with(Aws::new(conf.clone()));
    let urn = strata_core::Urn::new("blocker", LoadBalancer::TYPE, "alb");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tokprotectedalb",
    };
    let args = LoadBalancer::new("protected-alb", subnets)
        .security_group(sg)
        .deletion_protection(true);
    let lb = LoadBalancer::create(&cx, &args).await.unwrap();
    let blocker = LoadBalancer::delete_blocker(&cx, &lb.id, &args, &lb.outputs)
        .await
        .unwrap()
        .expect("deletion protection blocks the delete");
    assert_eq!(blocker.field, "deletion_protection");
    assert!(
        blocker.message.contains("deletion_protection to false"),
        "{}",
        blocker.message
    );
    // Off by hand: nothing blocks, though the args still say on.
    aws_sdk_elasticloadbalancingv2::Client::new(&conf)
        .modify_load_balancer_attributes()
        .load_balancer_arn(&lb.id)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("deletion_protection.enabled")
                .value("false")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        LoadBalancer::delete_blocker(&cx, &lb.id, &args, &lb.outputs)
            .await
            .unwrap()
            .is_none()
    );
    LoadBalancer::delete(&cx, &lb.id, &args, &lb.outputs)
        .await
        .unwrap();
    assert!(
        LoadBalancer::delete_blocker(&cx, &lb.id, &args, &lb.outputs)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn declaration_errors_name_the_resource_and_field_and_call_nothing() {
    let lb_arn = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/app/shop/0123456789abcdef";
    let tg_arn =
        "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/app/0123456789abcdef";
    let cert_arn =
        "arn:aws:acm:eu-central-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";
    let acl_arn = "arn:aws:wafv2:eu-central-1:123456789012:regional/webacl/shop/11111111-2222-3333-4444-555555555555";
    let mut s = Stack::new("bad-edge");
    let two = ["subnet-a", "subnet-b"];
    // Load balancers.
    s.add(
        "lb-ok",
        LoadBalancer::new("val-lb-ok", two).security_group("sg-1"),
    );
    s.add(
        "lb-hyphen",
        LoadBalancer::new("-val", two).security_group("sg-1"),
    );
    s.add(
        "lb-long",
        LoadBalancer::new("a".repeat(33), two).security_group("sg-1"),
    );
    s.add(
        "lb-internal",
        LoadBalancer::new("internal-shop", two).security_group("sg-1"),
    );
    s.add(
        "lb-one-subnet",
        LoadBalancer::new("val-one", ["subnet-a"]).security_group("sg-1"),
    );
    s.add(
        "lb-twice",
        LoadBalancer::new("val-twice", ["subnet-a", "subnet-a"]).security_group("sg-1"),
    );
    s.add("lb-no-sg", LoadBalancer::new("val-nosg", two));
    s.add(
        "lb-six-sgs",
        LoadBalancer::new("val-six", two).security_groups(["a", "b", "c", "d", "e", "f"]),
    );
    s.add(
        "lb-cross",
        LoadBalancer::new("val-cross", two)
            .security_group("sg-1")
            .cross_zone(false),
    );
    s.add(
        "lb-idle",
        LoadBalancer::new("val-idle", two)
            .security_group("sg-1")
            .idle_timeout(4001),
    );
    s.add(
        "lb-logs",
        LoadBalancer::new("val-logs", two)
            .security_group("sg-1")
            .access_logs("Bad_Bucket", Some("/alb")),
    );
    s.add(
        "lb-tag",
        LoadBalancer::new("val-tag", two)
            .security_group("sg-1")
            .tag("aws:x", "1"),
    );
    // Target groups.
    s.add("tg-name", TargetGroup::http("val_tg", 80, "vpc-1"));
    s.add("tg-port", TargetGroup::http("val-port", 0, "vpc-1"));
    let hc = |f: &dyn Fn(&mut TargetHealthCheck)| {
        let mut h = TargetHealthCheck::default();
        f(&mut h);
        h
    };
    s.add(
        "tg-interval",
        TargetGroup::http("val-i", 80, "vpc-1").health_check(hc(&|h| h.interval = 4)),
    );
    s.add(
        "tg-timeout",
        TargetGroup::http("val-t", 80, "vpc-1").health_check(hc(&|h| h.timeout = 1)),
    );
    s.add(
        "tg-timeout-interval",
        TargetGroup::http("val-ti", 80, "vpc-1").health_check(hc(&|h| {
            h.interval = 10;
            h.timeout = 10;
        })),
    );
    s.add(
        "tg-healthy",
        TargetGroup::http("val-h", 80, "vpc-1").health_check(hc(&|h| h.healthy_threshold = 11)),
    );
    s.add(
        "tg-unhealthy",
        TargetGroup::http("val-u", 80, "vpc-1").health_check(hc(&|h| h.unhealthy_threshold = 1)),
    );
    s.add(
        "tg-path",
        TargetGroup::http("val-p", 80, "vpc-1").health_check_path("health"),
    );
    s.add(
        "tg-matcher",
        TargetGroup::http("val-m", 80, "vpc-1").matcher("200-600"),
    );
    s.add(
        "tg-delay",
        TargetGroup::http("val-d", 80, "vpc-1").deregistration_delay(3601),
    );
    // Listeners.
    s.add(
        "l-no-cert",
        Listener::new(
            lb_arn,
            443,
            ListenerProtocol::Https,
            ListenerAction::forward(tg_arn),
        ),
    );
    s.add(
        "l-http-cert",
        Listener::http_redirect(lb_arn).certificate(cert_arn),
    );
    s.add(
        "l-http-policy",
        Listener::http_redirect(lb_arn).ssl_policy(DEFAULT_SSL_POLICY),
    );
    s.add(
        "l-legacy",
        Listener::https(lb_arn, 443, cert_arn, tg_arn).ssl_policy("ELBSecurityPolicy-2016-08"),
    );
    s.add(
        "l-tls11",
        Listener::https(lb_arn, 443, cert_arn, tg_arn)
            .ssl_policy("ELBSecurityPolicy-TLS13-1-1-2021-06"),
    );
    s.add(
        "l-custom",
        Listener::https(lb_arn, 443, cert_arn, tg_arn).ssl_policy("MyPolicy"),
    );
    s.add(
        "l-port",
        Listener::http_redirect(lb_arn).default_action(ListenerAction::fixed_response(
            200,
            FixedResponseContentType::TextPlain,
            Some("ok"),
        )),
    );
    s.add(
        "l-nlb",
        Listener::http_redirect(
            "arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/net/shop/0123",
        ),
    );
    s.add(
        "l-cert-arn",
        Listener::https(lb_arn, 443, "my-cert", tg_arn),
    );
    s.add("l-tg-arn", Listener::https(lb_arn, 443, cert_arn, "my-tg"));
    s.add(
        "l-redirect-status",
        Listener::http_redirect(lb_arn).default_action(ListenerAction::RedirectToHttps {
            port: 443,
            status_code: 307,
        }),
    );
    s.add(
        "l-loop",
        Listener::https(lb_arn, 443, cert_arn, tg_arn)
            .default_action(ListenerAction::redirect_to_https()),
    );
    s.add(
        "l-fixed-status",
        Listener::http_redirect(lb_arn).default_action(ListenerAction::fixed_response(
            302,
            FixedResponseContentType::TextPlain,
            None,
        )),
    );
    let long_body = "x".repeat(1025);
    s.add(
        "l-fixed-body",
        Listener::http_redirect(lb_arn).default_action(ListenerAction::fixed_response(
            503,
            FixedResponseContentType::TextHtml,
            Some(&long_body),
        )),
    );
    s.add(
        "l-unsupported",
        Listener::http_redirect(lb_arn).default_action(ListenerAction::Unsupported {
            description: "authenticate-oidc".into(),
        }),
    );
    s.add(
        "l-redirect-port",
        Listener::http_redirect(lb_arn).default_action(ListenerAction::RedirectToHttps {
            port: 0,
            status_code: 301,
        }),
    );
    let mut zero = Listener::http_redirect(lb_arn);
    zero.port = 0;
    s.add("l-zero", zero);
    // Certificates.
    s.add("c-wild-inner", Certificate::dns("shop.*.example.com"));
    s.add("c-wild-tld", Certificate::dns("*.com"));
    s.add("c-one-label", Certificate::dns("localhost"));
    s.add(
        "c-label",
        Certificate::dns(format!("{}.example.com", "a".repeat(64))),
    );
    let long = format!("{}.example.com", ["abcdefghij"; 23].join("."));
    s.add("c-total", Certificate::dns("shop.example.com").san(long));
    s.add(
        "c-subject",
        Certificate::dns(format!("{}.example.com", "a".repeat(60))),
    );
    s.add("c-upper", Certificate::dns("Shop.example.com"));
    s.add("c-tld", Certificate::dns("shop.example.c"));
    s.add("c-empty-label", Certificate::dns("shop..example.com"));
    s.add("c-chars", Certificate::dns("shop_1.example.com"));
    s.add("c-hyphen", Certificate::dns("-shop.example.com"));
    s.add(
        "c-twice",
        Certificate::dns("shop.example.com").san("shop.example.com"),
    );
    let mut many = Certificate::dns("many.example.com");
    for k in 0..10 {
        many = many.san(format!("n{k}.many.example.com"));
    }
    s.add("c-quota", many);
    s.add(
        "c-quota-0",
        Certificate::dns("q.example.com").domain_names_quota(101),
    );
    s.add(
        "c-email-zone",
        Certificate::dns("mail.example.com")
            .validation_method(ValidationMethod::Email)
            .validate_in_zone("Z123"),
    );
    s.add(
        "c-zone",
        Certificate::dns("z.example.com").validate_in_zone("not a zone"),
    );
    s.add(
        "c-timeout",
        Certificate::dns("t.example.com").validation_timeout(0),
    );
    s.add("c-region", Certificate::dns("r.example.com").region("mars"));
    // Web ACLs.
    s.add("w-name", WebAcl::regional("shop waf"));
    s.add(
        "w-priority",
        WebAcl::regional("w-priority")
            .rule(Rule::sql_injection(1))
            .rule(Rule::common(1)),
    );
    s.add(
        "w-rule-name",
        WebAcl::regional("w-rule-name")
            .rule(Rule::rate_limit(1, 1000))
            .rule(Rule::rate_limit(2, 2000)),
    );
    s.add(
        "w-limit",
        WebAcl::regional("w-limit").rule(Rule::rate_limit(1, 9)),
    );
    s.add(
        "w-window",
        WebAcl::regional("w-window").rule(Rule::RateBased {
            name: "rate".into(),
            priority: 1,
            limit: 1000,
            evaluation_window_sec: 30,
            aggregate: RateAggregate::Ip,
            action: WafRuleAction::Block,
        }),
    );
    s.add(
        "w-geo-empty",
        WebAcl::regional("w-geo-empty").rule(Rule::geo_block(1, Vec::<String>::new())),
    );
    s.add(
        "w-geo-lower",
        WebAcl::regional("w-geo-lower").rule(Rule::geo_block(1, ["kp"])),
    );
    s.add(
        "w-geo-unknown",
        WebAcl::regional("w-geo-unknown").rule(Rule::geo_block(1, ["XX"])),
    );
    s.add(
        "w-geo-twice",
        WebAcl::regional("w-geo-twice").rule(Rule::geo_block(1, ["KP", "KP"])),
    );
    s.add(
        "w-cf-region",
        WebAcl::cloudfront("w-cf-region").region("eu-central-1"),
    );
    s.add(
        "w-reserved",
        WebAcl::regional("w-reserved").rule(Rule::rate_limit(1, 1000).named("All")),
    );
    s.add(
        "w-vendor",
        WebAcl::regional("w-vendor").rule(Rule::managed("", "Group", 1)),
    );
    s.add(
        "w-unsupported",
        WebAcl::regional("w-unsupported").rule(Rule::Unsupported {
            name: "x".into(),
            priority: 1,
        }),
    );
    s.add(
        "w-description",
        WebAcl::regional("w-description").description(""),
    );
    s.add("w-region", WebAcl::regional("w-region").region("europe"));
    s.add(
        "w-rule-chars",
        WebAcl::regional("w-rule-chars").rule(Rule::rate_limit(1, 1000).named("rate limit")),
    );
    // Associations.
    s.add("a-acl", WebAclAssociation::new("my-acl", lb_arn));
    s.add(
        "a-global",
        WebAclAssociation::new(
            "arn:aws:wafv2:us-east-1:123456789012:global/webacl/cdn/1111",
            lb_arn,
        ),
    );
    s.add(
        "a-cloudfront",
        WebAclAssociation::new(acl_arn, "arn:aws:cloudfront::123456789012:distribution/E1"),
    );
    s.add("a-resource", WebAclAssociation::new(acl_arn, "my-alb"));
    s.add(
        "a-region",
        WebAclAssociation::new(
            acl_arn,
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/0123",
        ),
    );

    let err = s.seal().unwrap_err().to_string();
    for expected in [
        "::lb-hyphen: field `name`",
        "::lb-long: field `name`",
        "::lb-internal: field `name`: \"internal-shop\": a load balancer name cannot start with internal-",
        "::lb-one-subnet: field `subnets`: an Application Load Balancer needs subnets in at least two availability zones",
        "::lb-twice: field `subnets`: a subnet is listed twice",
        "::lb-no-sg: field `security_groups`: 0 security groups",
        "::lb-six-sgs: field `security_groups`: 6 security groups",
        "::lb-cross: field `cross_zone`",
        "::lb-idle: field `idle_timeout`: 4001 seconds",
        "::lb-logs: field `access_logs.bucket`",
        "::lb-logs: field `access_logs.prefix`",
        "::lb-tag: field `tags.aws:x`",
        "::tg-name: field `name`",
        "::tg-port: field `port`",
        "::tg-interval: field `health_check.interval`: 4 seconds",
        "::tg-timeout: field `health_check.timeout`: 1 seconds",
        "::tg-timeout-interval: field `health_check.timeout`: 10 seconds: the timeout must be less than the interval",
        "::tg-healthy: field `health_check.healthy_threshold`: 11",
        "::tg-unhealthy: field `health_check.unhealthy_threshold`: 1",
        "::tg-path: field `health_check.path`",
        "::tg-matcher: field `health_check.matcher`",
        "::tg-delay: field `deregistration_delay`: 3601 seconds",
        "::l-no-cert: field `certificate_arn`: an HTTPS listener needs a certificate",
        "::l-http-cert: field `certificate_arn`: an HTTP listener takes no certificate",
        "::l-http-policy: field `ssl_policy`: an HTTP listener takes no TLS policy",
        "::l-legacy: field `ssl_policy`: \"ELBSecurityPolicy-2016-08\" accepts TLS 1.0 or 1.1",
        "::l-tls11: field `ssl_policy`: \"ELBSecurityPolicy-TLS13-1-1-2021-06\" accepts TLS 1.0 or 1.1",
        "::l-custom: field `ssl_policy`",
        "::l-nlb: field `load_balancer_arn`",
        "::l-cert-arn: field `certificate_arn`",
        "::l-tg-arn: field `default_action.forward.target_group_arn`",
        "::l-redirect-status: field `default_action.redirect_to_https.status_code`: 307",
        "::l-loop: field `default_action.redirect_to_https.port`",
        "::l-fixed-status: field `default_action.fixed_response.status_code`: 302",
        "::l-fixed-body: field `default_action.fixed_response.body`",
        "::l-unsupported: field `default_action`",
        "::l-zero: field `port`",
        "::l-redirect-port: field `default_action.redirect_to_https.port`: 0 is outside 1-65535",
        "::c-tld: field `domain_name`: \"shop.example.c\": the top-level domain has at least two characters",
        "::c-empty-label: field `domain_name`: \"shop..example.com\": each label has 1 to 63 characters",
        "::c-chars: field `domain_name`: \"shop_1.example.com\": labels have letters, digits and hyphens",
        "::w-region: field `region`",
        "::w-rule-chars: field `rules.0.name`",
        "::a-resource: field `resource_arn`",
        "::c-wild-inner: field `domain_name`",
        "::c-wild-tld: field `domain_name`",
        "::c-one-label: field `domain_name`",
        "::c-label: field `domain_name`",
        "::c-total: field `subject_alternative_names.0`",
        "::c-subject: field `domain_name`",
        "::c-upper: field `domain_name`",
        "::c-hyphen: field `domain_name`",
        "::c-twice: field `subject_alternative_names.0`",
        "::c-quota: field `subject_alternative_names`: 11 domain names",
        "::c-quota-0: field `domain_names_quota`",
        "::c-email-zone: field `validation_zone_id`",
        "::c-zone: field `validation_zone_id`",
        "::c-timeout: field `validation_timeout_minutes`",
        "::c-region: field `region`",
        "::w-name: field `name`",
        "::w-priority: field `rules.1.priority`",
        "::w-rule-name: field `rules.1.name`",
        "::w-limit: field `rules.0.limit`: 9",
        "::w-window: field `rules.0.evaluation_window_sec`: 30",
        "::w-geo-empty: field `rules.0.country_codes`",
        "::w-geo-lower: field `rules.0.country_codes.0`",
        "::w-geo-unknown: field `rules.0.country_codes.0`",
        "::w-geo-twice: field `rules.0.country_codes.1`",
        "::w-cf-region: field `region`",
        "::w-reserved: field `rules.0.name`",
        "::w-vendor: field `rules.0.vendor`",
        "::w-unsupported: field `rules.0`",
        "::w-description: field `description`",
        "::a-acl: field `web_acl_arn`",
        "::a-global: field `web_acl_arn`",
        "::a-cloudfront: field `resource_arn`",
        "::a-region: field `web_acl_arn`",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    // What is valid is not refused.
    for fine in ["::lb-ok:", "::l-port:"] {
        assert!(!err.contains(fine), "{fine} refused:\n{err}");
    }
    // Sealing is pure: nothing of this stack reached AWS.
    let conf = moto().sdk_config().await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    assert!(elb
        .describe_load_balancers()
        .names("val-lb-ok")
        .send()
        .await
        .is_err());
    let acls = aws_sdk_wafv2::Client::new(&conf)
        .list_web_acls()
        .scope(Scope::Regional)
        .send()
        .await
        .unwrap();
    assert!(!acls
        .web_acls()
        .iter()
        .any(|w| w.name().is_some_and(|n| n.starts_with("w-"))));
}

/// Access logs need a bucket policy that lets the region's log writer put objects: in
/// eu-central-1 (older than August 2022) the regional Elastic Load Balancing account, not
/// the log delivery service, which AWS refuses there ("Access Denied for bucket").
#[tokio::test]
async fn access_logs_need_the_regions_log_writer_in_the_bucket_policy() {
    let e = Env::new("alb-access-logs", |r| {
        strata_network::register(r);
        strata_edge::register(r);
        strata_data::register(r);
    })
    .await;
    assert_eq!(REGION, "eu-central-1");
    let bucket = "strata-contract-alb-logs";
    let build = |policy: Value| {
        move |s: &mut Stack| {
            let net = network(s, "lbl", 31);
            let logs = s.add(
                "logs",
                strata_data::Bucket::new(bucket).policy(policy.clone()),
            );
            s.add(
                "lb",
                alb(&net, "strata-contract-logged")
                    .access_logs(strata_data::BucketHandle::name(&logs), Some("alb")),
            );
        }
    };
    let wrong = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": format!("arn:aws:s3:::{bucket}/alb/AWSLogs/123456789012/*")}]
    });
    let sum = e
        .engine
        .up(&e.stack(build(wrong)), &strata_core::RunOptions::default())
        .await
        .unwrap();
    let failed = format!("{:?}", sum.failed);
    assert!(
        failed.contains("::lb") && failed.contains("Access Denied for bucket"),
        "{failed}"
    );
    let right = access_log_bucket_policy(bucket, "alb", "123456789012", REGION);
    assert_eq!(
        right["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::054676820928:root"
    );
    e.up(&e.stack(build(right))).await;
    let attrs = lb_attributes(&e, &e.id("lb").await).await;
    assert_eq!(attrs["access_logs.s3.enabled"], "true");
    assert_eq!(attrs["access_logs.s3.bucket"], bucket);
    e.destroy().await;
}
