//! Contract tests of the Route 53 and CloudFront types against the local AWS (moto): hosted
//! zones, records, health checks, origin access controls and distributions, and a whole
//! CDN stack with a bucket, its CloudFront read policy (strata-data's `BucketPolicy`) and
//! DNS aliases.
//!
//! A distribution's S3 origins (their `S3OriginConfig` and `OriginAccessControlId`) read
//! back as declared: moto 5.2.5 drops them, `scripts/moto_ext.py` keeps them as AWS does.
//! moto makes a second hosted zone for a repeated `CallerReference`, where AWS refuses:
//! that retry is tested with mocks (`dns_cdn_mocks.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HealthCheckRegion as AwsRegion, ResourceRecord,
    ResourceRecordSet, RrType,
};
use strata_core::plan::Op;
use strata_core::resource::{Cx, Recovery, Resource};
use strata_core::{aws::Aws, Context, RunOptions, Stack, Urn};
use strata_data::{Bucket, BucketHandle, BucketPolicy};
use strata_edge::*;
use strata_testkit::Harness as Env;

async fn env(stack: &str) -> Env {
    Env::new(stack, |r| {
        strata_edge::register(r);
        strata_data::register(r);
    })
    .await
}

fn r53(e: &Env) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(&e.conf)
}

fn cf(e: &Env) -> aws_sdk_cloudfront::Client {
    aws_sdk_cloudfront::Client::new(&e.conf)
}

fn s3(e: &Env) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&e.conf)
            .force_path_style(true)
            .build(),
    )
}

/// The record sets of a zone, by (name, type).
async fn records(e: &Env, zone: &str) -> BTreeMap<(String, String), ResourceRecordSet> {
    r53(e)
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap()
        .resource_record_sets()
        .iter()
        .map(|r| {
            (
                (
                    r.name().trim_end_matches('.').to_owned(),
                    r.r#type().as_str().to_owned(),
                ),
                r.clone(),
            )
        })
        .collect()
}

fn values(r: &ResourceRecordSet) -> Vec<String> {
    r.resource_records()
        .iter()
        .map(|v| v.value().to_owned())
        .collect()
}

async fn zone_gone(e: &Env, id: &str) -> bool {
    use aws_sdk_route53::error::ProvideErrorMetadata;
    match r53(e).get_hosted_zone().id(id).send().await {
        Ok(_) => false,
        Err(err) => {
            assert_eq!(err.code(), Some("NoSuchHostedZone"), "{err:?}");
            true
        }
    }
}

#[tokio::test]
async fn hosted_zone_contract() {
    let e = env("zone-contract").await;
    let build = |name: &'static str, comment: &'static str, force: bool| {
        move |s: &mut Stack| {
            s.add(
                "zone",
                HostedZone::new(name)
                    .comment(comment)
                    .force_destroy(force)
                    .tag("team", "edge"),
            );
        }
    };
    e.up(&e.stack(build("zone-contract.example.com", "one", false)))
        .await;
    let id = e.id("zone").await;
    assert!(!id.contains('/'), "the id has no /hostedzone/ prefix: {id}");
    let z = r53(&e).get_hosted_zone().id(&id).send().await.unwrap();
    let hz = z.hosted_zone().unwrap();
    assert_eq!(hz.name(), "zone-contract.example.com.");
    assert_eq!(hz.config().and_then(|c| c.comment()), Some("one"));
    assert!(!hz.config().unwrap().private_zone());
    let st = e.state().await;
    let outputs = &st
        .resources
        .values()
        .find(|r| r.urn.name() == "zone")
        .unwrap()
        .outputs;
    assert_eq!(outputs["zone_id"], id.as_str());
    assert_eq!(outputs["name"], "zone-contract.example.com");
    assert_eq!(
        outputs["arn"],
        format!("arn:aws:route53:::hostedzone/{id}").as_str()
    );
    assert!(!outputs["name_servers"].as_array().unwrap().is_empty());
    let tags = r53(&e)
        .list_tags_for_resource()
        .resource_type(aws_sdk_route53::types::TagResourceType::Hostedzone)
        .resource_id(&id)
        .send()
        .await
        .unwrap();
    let tags: BTreeMap<_, _> = tags
        .resource_tag_set()
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect();
    assert_eq!(tags.get("team").map(String::as_str), Some("edge"));
    assert!(tags.contains_key("strata:urn") && tags.contains_key("strata:token"));
    assert!(e.drift().await.is_empty());

    // In place: the comment.
    let st = e.stack(build("zone-contract.example.com", "two", false));
    assert_eq!(e.ops(&st).await["zone"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("zone").await, id);
    let z = r53(&e).get_hosted_zone().id(&id).send().await.unwrap();
    assert_eq!(
        z.hosted_zone().unwrap().config().and_then(|c| c.comment()),
        Some("two")
    );

    // Out-of-band drift.
    r53(&e)
        .update_hosted_zone_comment()
        .id(&id)
        .comment("sneaky")
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["zone"], vec!["comment"]);
    e.up(&st).await;

    // The name replaces.
    let st = e.stack(build("zone-contract-2.example.com", "two", false));
    assert_eq!(e.ops(&st).await["zone"], Op::Replace);
    e.up(&st).await;
    let id2 = e.id("zone").await;
    assert_ne!(id2, id);
    assert!(zone_gone(&e, &id).await);

    // A zone holding a record strata does not manage is not deleted unless force_destroy
    // says so.
    r53(&e)
        .change_resource_record_sets()
        .hosted_zone_id(&id2)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(
                            ResourceRecordSet::builder()
                                .name("extra.zone-contract-2.example.com")
                                .r#type(RrType::Txt)
                                .ttl(60)
                                .resource_records(
                                    ResourceRecord::builder().value("\"x\"").build().unwrap(),
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
    let sum = e
        .engine
        .destroy(&e.stack, &RunOptions::default())
        .await
        .unwrap();
    assert!(!sum.is_success());
    assert!(format!("{sum:?}").contains("force_destroy"), "{sum:?}");
    assert!(!zone_gone(&e, &id2).await);
    let st = e.stack(build("zone-contract-2.example.com", "two", true));
    assert_eq!(e.ops(&st).await["zone"], Op::Update);
    e.up(&st).await;
    e.destroy().await;
    assert!(zone_gone(&e, &id2).await);
}

async fn vpc(e: &Env, cidr: &str) -> String {
    aws_sdk_ec2::Client::new(&e.conf)
        .create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn private_zone_vpc_associations_change_in_place() {
    let e = env("private-zone").await;
    let (a, b) = (vpc(&e, "10.80.0.0/16").await, vpc(&e, "10.81.0.0/16").await);
    let build = |vpcs: Vec<String>| {
        move |s: &mut Stack| {
            let mut z = HostedZone::new("internal.private-zone.example.com");
            for v in &vpcs {
                z = z.private_vpc(v.clone(), "eu-central-1");
            }
            s.add("zone", z);
        }
    };
    let live = |id: String| {
        let c = r53(&e);
        async move {
            let z = c.get_hosted_zone().id(id).send().await.unwrap();
            assert!(z.hosted_zone().unwrap().config().unwrap().private_zone());
            let mut v: Vec<String> = z
                .vpcs()
                .iter()
                .map(|v| v.vpc_id().unwrap().to_owned())
                .collect();
            v.sort();
            v
        }
    };
    e.up(&e.stack(build(vec![a.clone()]))).await;
    let id = e.id("zone").await;
    assert_eq!(live(id.clone()).await, vec![a.clone()]);
    assert!(e.drift().await.is_empty());

    // Another VPC, then the first one gone: in place.
    let st = e.stack(build(vec![a.clone(), b.clone()]));
    assert_eq!(e.ops(&st).await["zone"], Op::Update);
    e.up(&st).await;
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(live(id.clone()).await, both);
    let st = e.stack(build(vec![b.clone()]));
    assert_eq!(e.ops(&st).await["zone"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("zone").await, id);
    assert_eq!(live(id.clone()).await, vec![b.clone()]);

    // Public instead of private: a new zone.
    assert_eq!(e.ops(&e.stack(build(vec![]))).await["zone"], Op::Replace);
    e.destroy().await;
    assert!(zone_gone(&e, &id).await);
}

#[tokio::test]
async fn records_contract() {
    let e = env("records-contract").await;
    const ZONE: &str = "records-contract.example.com";
    let build = |a_ip: &'static str, ttl: i64, svc: RecordType, cname: &'static str| {
        move |s: &mut Stack| {
            let zone = s.add("zone", HostedZone::new(ZONE));
            s.add(
                "a",
                Record::new(
                    zone.zone_id(),
                    format!("app.{ZONE}"),
                    RecordType::A,
                    ttl,
                    [a_ip],
                ),
            );
            s.add(
                "txt",
                Record::new(zone.zone_id(), ZONE, RecordType::Txt, 300, ["v=spf1 -all"]),
            );
            s.add(
                "mx",
                Record::new(
                    zone.zone_id(),
                    ZONE,
                    RecordType::Mx,
                    300,
                    [format!("10 mail.{ZONE}")],
                ),
            );
            s.add(
                "www",
                Record::new(
                    zone.zone_id(),
                    cname,
                    RecordType::Cname,
                    300,
                    [format!("app.{ZONE}")],
                ),
            );
            let value = if svc == RecordType::A {
                "192.0.2.20"
            } else {
                "2001:db8::20"
            };
            s.add(
                "svc",
                Record::new(zone.zone_id(), format!("svc.{ZONE}"), svc, 60, [value]),
            );
        }
    };
    let www = "www.records-contract.example.com";
    e.up(&e.stack(build("192.0.2.10", 300, RecordType::A, www)))
        .await;
    let zone = e.id("zone").await;
    let live = records(&e, &zone).await;
    let a = &live[&(format!("app.{ZONE}"), "A".to_owned())];
    assert_eq!(
        (a.ttl(), values(a)),
        (Some(300), vec!["192.0.2.10".to_owned()])
    );
    assert_eq!(
        values(&live[&(ZONE.to_owned(), "TXT".to_owned())]),
        vec!["\"v=spf1 -all\"".to_owned()],
        "TXT values go quoted"
    );
    assert_eq!(
        values(&live[&(www.to_owned(), "CNAME".to_owned())]),
        vec![format!("app.{ZONE}")]
    );
    assert_eq!(e.id("a").await, format!("{zone}_app.{ZONE}_A"));
    assert!(e.drift().await.is_empty());

    // In place: values and TTL; a change of type (one batch: DELETE the A, CREATE the AAAA).
    let st = e.stack(build("192.0.2.11", 120, RecordType::Aaaa, www));
    let ops = e.ops(&st).await;
    assert_eq!(
        (ops["a"], ops["svc"], ops["txt"]),
        (Op::Update, Op::Update, Op::Same)
    );
    e.up(&st).await;
    assert_eq!(e.id("a").await, format!("{zone}_app.{ZONE}_A"));
    let live = records(&e, &zone).await;
    let a = &live[&(format!("app.{ZONE}"), "A".to_owned())];
    assert_eq!(
        (a.ttl(), values(a)),
        (Some(120), vec!["192.0.2.11".to_owned()])
    );
    assert!(!live.contains_key(&(format!("svc.{ZONE}"), "A".to_owned())));
    assert_eq!(
        values(&live[&(format!("svc.{ZONE}"), "AAAA".to_owned())]),
        vec!["2001:db8::20".to_owned()]
    );
    assert!(e.drift().await.is_empty());

    // Out-of-band drift: the TTL changed with the SDK.
    r53(&e)
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(
                            ResourceRecordSet::builder()
                                .name(format!("app.{ZONE}"))
                                .r#type(RrType::A)
                                .ttl(60)
                                .resource_records(
                                    ResourceRecord::builder()
                                        .value("192.0.2.11")
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
    assert_eq!(e.drift().await["a"], vec!["ttl"]);
    e.up(&st).await;

    // The name replaces.
    let st = e.stack(build(
        "192.0.2.11",
        120,
        RecordType::Aaaa,
        "web.records-contract.example.com",
    ));
    assert_eq!(e.ops(&st).await["www"], Op::Replace);
    e.up(&st).await;
    let live = records(&e, &zone).await;
    assert!(!live.contains_key(&(www.to_owned(), "CNAME".to_owned())));
    assert!(live.contains_key(&(format!("web.{ZONE}"), "CNAME".to_owned())));

    // Destroy: every record, then the zone (which then holds only its SOA and NS).
    e.destroy().await;
    assert!(zone_gone(&e, &zone).await);
}

#[tokio::test]
async fn health_check_contract() {
    use aws_sdk_route53::error::ProvideErrorMetadata;
    let e = env("health-contract").await;
    let build = |threshold: i32, path: &'static str, interval: i32| {
        move |s: &mut Stack| {
            s.add(
                "hc",
                HealthCheck::new(HealthCheckType::Https, "health-contract.example.com")
                    .resource_path(path)
                    .request_interval(interval)
                    .failure_threshold(threshold)
                    .regions([
                        HealthCheckRegion::UsEast1,
                        HealthCheckRegion::EuWest1,
                        HealthCheckRegion::ApSoutheast1,
                    ])
                    .tag("team", "edge"),
            );
        }
    };
    let get = |id: String| {
        let c = r53(&e);
        async move {
            c.get_health_check()
                .health_check_id(id)
                .send()
                .await
                .map(|o| {
                    o.health_check()
                        .unwrap()
                        .health_check_config()
                        .unwrap()
                        .clone()
                })
        }
    };
    e.up(&e.stack(build(3, "/health", 30))).await;
    let id = e.id("hc").await;
    let c = get(id.clone()).await.unwrap();
    assert_eq!(c.r#type().as_str(), "HTTPS");
    assert_eq!(
        (
            c.fully_qualified_domain_name(),
            c.port(),
            c.resource_path(),
            c.request_interval(),
            c.failure_threshold(),
            c.enable_sni()
        ),
        (
            Some("health-contract.example.com"),
            Some(443),
            Some("/health"),
            Some(30),
            Some(3),
            Some(true)
        )
    );
    assert_eq!(c.regions().len(), 3);
    assert!(e.drift().await.is_empty());

    // In place, with the check's version: threshold and path.
    let st = e.stack(build(5, "/healthz", 30));
    assert_eq!(e.ops(&st).await["hc"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("hc").await, id);
    let c = get(id.clone()).await.unwrap();
    assert_eq!(
        (c.failure_threshold(), c.resource_path(), c.regions().len()),
        (Some(5), Some("/healthz"), 3)
    );

    // Out-of-band drift (the regions are sent too: moto clears them otherwise).
    r53(&e)
        .update_health_check()
        .health_check_id(&id)
        .failure_threshold(7)
        .regions(AwsRegion::UsEast1)
        .regions(AwsRegion::EuWest1)
        .regions(AwsRegion::ApSoutheast1)
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["hc"], vec!["failure_threshold"]);
    e.up(&st).await;

    // The request interval replaces.
    let st = e.stack(build(5, "/healthz", 10));
    assert_eq!(e.ops(&st).await["hc"], Op::Replace);
    e.up(&st).await;
    let id2 = e.id("hc").await;
    assert_ne!(id2, id);
    assert_eq!(
        get(id.clone()).await.unwrap_err().code(),
        Some("NoSuchHealthCheck")
    );
    assert_eq!(get(id2.clone()).await.unwrap().request_interval(), Some(10));
    e.destroy().await;
    assert_eq!(
        get(id2).await.unwrap_err().code(),
        Some("NoSuchHealthCheck")
    );
}

/// An ACM certificate in us-east-1 (the only region CloudFront takes them from), requested
/// with the SDK: the `Certificate` type is tested in its own file.
async fn certificate(e: &Env, domain: &str) -> String {
    let acm = aws_sdk_acm::Client::from_conf(
        aws_sdk_acm::config::Builder::from(&e.conf)
            .region(aws_sdk_acm::config::Region::new("us-east-1"))
            .build(),
    );
    acm.request_certificate()
        .domain_name(domain)
        .subject_alternative_names(format!("*.{domain}"))
        .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
        .send()
        .await
        .unwrap()
        .certificate_arn()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn cdn_stack_with_bucket_policy_dns_and_health_check() {
    const DOMAIN: &str = "cdn-contract.example.com";
    const BUCKET: &str = "strata-cdn-contract-images";
    let e = env("cdn-contract").await;
    let cert = certificate(&e, DOMAIN).await;
    let build = |comment: &'static str, price: PriceClass, oac_desc: &'static str, extra: bool| {
        let cert = cert.clone();
        move |s: &mut Stack| {
            let bucket = s.add("images", Bucket::new(BUCKET));
            let oac = s.add(
                "oac",
                OriginAccessControl::s3("strata-cdn-contract").description(oac_desc),
            );
            let mut dist = Distribution::new(CacheBehavior::dynamic("alb"))
                .origin(DistributionOrigin::custom("alb", "origin.example.com"))
                .origin(DistributionOrigin::s3(
                    "images",
                    bucket.regional_domain_name(),
                    oac.id(),
                ))
                .behavior("/images/*", CacheBehavior::static_assets("images"))
                .alias(DOMAIN)
                .alias(format!("www.{DOMAIN}"))
                .certificate(cert)
                .price_class(price)
                .comment(comment)
                .default_root_object("index.html")
                .tag("team", "edge");
            if extra {
                dist = dist.behavior("/static/*", CacheBehavior::static_assets("images"));
            }
            let cdn = s.add("cdn", dist);
            let policy = bucket
                .name()
                .zip(cdn.arn())
                .map(|(b, arn)| cloudfront_read_policy(&b, &arn));
            s.add("images-policy", BucketPolicy::new(bucket.name(), policy));
            let zone = s.add("zone", HostedZone::new(DOMAIN));
            s.add(
                "apex",
                Record::alias(
                    zone.zone_id(),
                    DOMAIN,
                    RecordType::A,
                    cdn.domain_name(),
                    cdn.hosted_zone_id(),
                ),
            );
            let hc = s.add(
                "health",
                HealthCheck::new(HealthCheckType::Https, DOMAIN).resource_path("/health"),
            );
            s.add(
                "www",
                Record::alias(
                    zone.zone_id(),
                    format!("www.{DOMAIN}"),
                    RecordType::A,
                    cdn.domain_name(),
                    cdn.hosted_zone_id(),
                )
                .failover(Failover::Primary, "primary")
                .health_check(hc.id()),
            );
        }
    };
    e.up(&e.stack(build("shop", PriceClass::Class100, "images", false)))
        .await;
    let cdn_id = e.id("cdn").await;
    let oac_id = e.id("oac").await;
    let st = e.state().await;
    let out = |name: &str| {
        st.resources
            .values()
            .find(|r| r.urn.name() == name)
            .unwrap()
            .outputs
            .clone()
    };
    let cdn_out = out("cdn");
    let (arn, domain) = (
        cdn_out["arn"].as_str().unwrap().to_owned(),
        cdn_out["domain_name"].as_str().unwrap().to_owned(),
    );
    assert_eq!(cdn_out["hosted_zone_id"], "Z2FDTNDATAQYW2");
    assert_eq!(cdn_out["id"], cdn_id.as_str());
    assert!(arn.ends_with(&format!(":distribution/{cdn_id}")), "{arn}");

    // The distribution as AWS has it.
    let d = cf(&e).get_distribution().id(&cdn_id).send().await.unwrap();
    let d = d.distribution().unwrap();
    assert_eq!(d.status(), "Deployed");
    let c = d.distribution_config().unwrap();
    assert_eq!(c.aliases().unwrap().items().len(), 2);
    let origins = c.origins().unwrap().items();
    assert_eq!(origins.len(), 2);
    let alb = origins.iter().find(|o| o.id() == "alb").unwrap();
    let custom = alb.custom_origin_config().unwrap();
    assert_eq!(custom.origin_protocol_policy().as_str(), "https-only");
    assert_eq!(
        custom.origin_ssl_protocols().unwrap().items()[0].as_str(),
        "TLSv1.2"
    );
    let images = origins.iter().find(|o| o.id() == "images").unwrap();
    assert_eq!(
        images.domain_name(),
        format!("{BUCKET}.s3.eu-central-1.amazonaws.com")
    );
    let dcb = c.default_cache_behavior().unwrap();
    assert_eq!(
        (
            dcb.target_origin_id(),
            dcb.viewer_protocol_policy().as_str(),
            dcb.cache_policy_id(),
            dcb.origin_request_policy_id()
        ),
        (
            "alb",
            "redirect-to-https",
            Some(managed_policies::CACHING_DISABLED),
            Some(managed_policies::ALL_VIEWER)
        )
    );
    assert_eq!(dcb.allowed_methods().unwrap().items().len(), 7);
    let behaviors = c.cache_behaviors().unwrap().items();
    assert_eq!(
        (
            behaviors[0].path_pattern(),
            behaviors[0].target_origin_id(),
            behaviors[0].cache_policy_id()
        ),
        (
            "/images/*",
            "images",
            Some(managed_policies::CACHING_OPTIMIZED)
        )
    );
    let vc = c.viewer_certificate().unwrap();
    assert_eq!(vc.acm_certificate_arn(), Some(cert.as_str()));
    assert_eq!(
        (
            vc.ssl_support_method().map(|m| m.as_str()),
            vc.minimum_protocol_version().map(|m| m.as_str())
        ),
        (Some("sni-only"), Some("TLSv1.2_2021"))
    );
    assert_eq!(c.price_class().map(|p| p.as_str()), Some("PriceClass_100"));
    assert_eq!(c.default_root_object(), Some("index.html"));
    let tags = cf(&e)
        .list_tags_for_resource()
        .resource(&arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = tags
        .tags()
        .unwrap()
        .items()
        .iter()
        .map(|t| t.key())
        .collect();
    assert!(
        keys.contains(&"team") && keys.contains(&"strata:token"),
        "{keys:?}"
    );

    // The bucket's policy lets exactly this distribution read.
    let policy = s3(&e)
        .get_bucket_policy()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(policy.policy().unwrap()).unwrap(),
        cloudfront_read_policy(BUCKET, &arn)
    );
    // The OAC.
    let oac = cf(&e)
        .get_origin_access_control()
        .id(&oac_id)
        .send()
        .await
        .unwrap();
    let oc = oac
        .origin_access_control()
        .unwrap()
        .origin_access_control_config()
        .unwrap();
    assert_eq!(
        (
            oc.name(),
            oc.description(),
            oc.signing_behavior().as_str(),
            oc.signing_protocol().as_str(),
            oc.origin_access_control_origin_type().as_str()
        ),
        (
            "strata-cdn-contract",
            Some("images"),
            "always",
            "sigv4",
            "s3"
        )
    );
    // DNS: aliases to the distribution, the www one in failover with the health check.
    let zone = e.id("zone").await;
    let live = records(&e, &zone).await;
    let apex = &live[&(DOMAIN.to_owned(), "A".to_owned())];
    let target = apex.alias_target().unwrap();
    assert_eq!(
        (
            target.dns_name().trim_end_matches('.'),
            target.hosted_zone_id()
        ),
        (domain.as_str(), "Z2FDTNDATAQYW2")
    );
    let www = &live[&(format!("www.{DOMAIN}"), "A".to_owned())];
    assert_eq!(www.set_identifier(), Some("primary"));
    assert_eq!(www.health_check_id(), Some(e.id("health").await.as_str()));
    assert_eq!(e.id("www").await, format!("{zone}_www.{DOMAIN}_A_primary"));

    let drift = e.drift().await;
    assert!(drift.is_empty(), "{drift:?}");

    // In place: the distribution's comment, price class and another behaviour; the OAC's
    // description.
    let st = e.stack(build(
        "shop (static too)",
        PriceClass::Class200,
        "product images",
        true,
    ));
    let ops = e.ops(&st).await;
    assert_eq!(
        (ops["cdn"], ops["oac"]),
        (Op::Update, Op::Update),
        "{ops:?}"
    );
    assert_eq!(ops["images-policy"], Op::Same);
    e.up(&st).await;
    assert_eq!(
        (e.id("cdn").await, e.id("oac").await),
        (cdn_id.clone(), oac_id.clone())
    );
    let c = cf(&e)
        .get_distribution_config()
        .id(&cdn_id)
        .send()
        .await
        .unwrap();
    let c = c.distribution_config().unwrap();
    assert_eq!(c.comment(), "shop (static too)");
    assert_eq!(c.price_class().map(|p| p.as_str()), Some("PriceClass_200"));
    assert_eq!(c.cache_behaviors().unwrap().items().len(), 2);
    let oac = cf(&e)
        .get_origin_access_control()
        .id(&oac_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        oac.origin_access_control()
            .unwrap()
            .origin_access_control_config()
            .unwrap()
            .description(),
        Some("product images")
    );

    // Out-of-band drift: the price class changed with the SDK (GetDistributionConfig, then
    // UpdateDistribution with its ETag).
    let got = cf(&e)
        .get_distribution_config()
        .id(&cdn_id)
        .send()
        .await
        .unwrap();
    let mut cfg = got.distribution_config().unwrap().clone();
    cfg.price_class = Some(aws_sdk_cloudfront::types::PriceClass::PriceClassAll);
    cf(&e)
        .update_distribution()
        .id(&cdn_id)
        .if_match(got.e_tag().unwrap())
        .distribution_config(cfg)
        .send()
        .await
        .unwrap();
    let drift = e.drift().await;
    assert_eq!(drift["cdn"], vec!["price_class"], "{drift:?}");
    e.up(&st).await;

    // Destroy: the distribution is disabled, then deleted; everything is gone.
    e.destroy().await;
    {
        use aws_sdk_cloudfront::error::ProvideErrorMetadata;
        let err = cf(&e)
            .get_distribution()
            .id(&cdn_id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("NoSuchDistribution"));
        let err = cf(&e)
            .get_origin_access_control()
            .id(&oac_id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("NoSuchOriginAccessControl"));
    }
    assert!(zone_gone(&e, &zone).await);
    assert!(s3(&e).head_bucket().bucket(BUCKET).send().await.is_err());
}

#[tokio::test]
async fn a_distribution_is_disabled_in_place() {
    let e = env("cdn-disable").await;
    let build = |enabled: bool| {
        move |s: &mut Stack| {
            s.add(
                "cdn",
                Distribution::new(CacheBehavior::dynamic("web"))
                    .origin(DistributionOrigin::custom(
                        "web",
                        "web.cdn-disable.example.com",
                    ))
                    .enabled(enabled),
            );
        }
    };
    e.up(&e.stack(build(true))).await;
    let id = e.id("cdn").await;
    assert!(e.drift().await.is_empty());
    let st = e.stack(build(false));
    assert_eq!(e.ops(&st).await["cdn"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("cdn").await, id);
    let c = cf(&e)
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .unwrap();
    assert!(!c.distribution_config().unwrap().enabled());
    e.destroy().await;
    assert!(cf(&e).get_distribution().id(&id).send().await.is_err());
}

/// The zone holds one record set named `name`: the A record of TTL 60 and value
/// 192.0.2.99 that another writer made.
async fn untouched_record(e: &Env, zone: &str, name: &str) {
    let all = r53(e)
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    let found: Vec<&ResourceRecordSet> = all
        .resource_record_sets()
        .iter()
        .filter(|r| r.name().trim_end_matches('.') == name)
        .collect();
    assert_eq!(found.len(), 1, "one record set of the name: {found:?}");
    assert_eq!(
        (found[0].r#type(), found[0].ttl(), values(found[0])),
        (&RrType::A, Some(60), vec!["192.0.2.99".to_owned()])
    );
}

/// A record set of the declared name and type that something else made (here a raw
/// `CREATE`, with other values): the step fails as not managed by this stack, the record
/// keeps its values, and destroy leaves it. The zone is made outside the stack too, so that
/// destroy does not try to delete it.
///
/// moto 5.2.5 accepts a `CREATE` of an existing record set unless the very same `CREATE` is
/// in its change journal (it then holds two record sets of one name and type); AWS refuses
/// it with `InvalidChangeBatch`. This test expects AWS's answer.
#[tokio::test]
async fn a_record_that_exists_is_not_taken_over() {
    let e = env("record-taken").await;
    const ZONE: &str = "record-taken.example.com";
    let zone = r53(&e)
        .create_hosted_zone()
        .name(ZONE)
        .caller_reference("record-taken-zone")
        .send()
        .await
        .unwrap()
        .hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned();
    let theirs = ResourceRecordSet::builder()
        .name(format!("www.{ZONE}"))
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(
            ResourceRecord::builder()
                .value("192.0.2.99")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let change = |action: ChangeAction| {
        ChangeBatch::builder()
            .changes(
                Change::builder()
                    .action(action)
                    .resource_record_set(theirs.clone())
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    r53(&e)
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(change(ChangeAction::Create))
        .send()
        .await
        .unwrap();
    let st = e.stack(|s| {
        s.add(
            "www",
            Record::new(
                zone.clone(),
                format!("www.{ZONE}"),
                RecordType::A,
                300,
                ["192.0.2.1"],
            ),
        );
    });
    e.up_conflict(&st, "www").await;
    untouched_record(&e, &zone, &format!("www.{ZONE}")).await;
    e.destroy().await;
    untouched_record(&e, &zone, &format!("www.{ZONE}")).await;
    r53(&e)
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(change(ChangeAction::Delete))
        .send()
        .await
        .unwrap();
    r53(&e).delete_hosted_zone().id(&zone).send().await.unwrap();
}

#[tokio::test]
async fn interrupted_creates_are_found_again() {
    let conf = strata_testkit::LocalAws::shared().sdk_config().await;
    let ctx = Context::new().with(Aws::new(conf));

    // Hosted zone: by its CallerReference.
    let urn = Urn::new("recover", HostedZone::TYPE, "zone");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-recover-zone",
    };
    let args = HostedZone::new("recover.example.com");
    assert!(matches!(
        HostedZone::recover(&cx, &args).await.unwrap(),
        Recovery::Absent
    ));
    let made = HostedZone::create(&cx, &args).await.unwrap();
    let Recovery::Found(found) = HostedZone::recover(&cx, &args).await.unwrap() else {
        panic!("zone not found by its caller reference")
    };
    assert_eq!(found.id, made.id);

    // Record: a CREATE, found again by zone, name and type only when the live record set
    // is exactly the declared one (records have no tags).
    let urn = Urn::new("recover", Record::TYPE, "r");
    let rcx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-recover-record",
    };
    let rargs = Record::new(
        made.id.clone(),
        "a.recover.example.com",
        RecordType::A,
        60,
        ["192.0.2.1"],
    );
    assert!(matches!(
        Record::recover(&rcx, &rargs).await.unwrap(),
        Recovery::Absent
    ));
    let r = Record::create(&rcx, &rargs).await.unwrap();
    assert!(matches!(
        Record::recover(&rcx, &rargs).await.unwrap(),
        Recovery::Resembles(_)
    ));
    // The same name and type with other values, or another TTL, is not the declared
    // record: not adopted.
    let other_value = Record::new(
        made.id.clone(),
        "a.recover.example.com",
        RecordType::A,
        60,
        ["192.0.2.2"],
    );
    assert!(matches!(
        Record::recover(&rcx, &other_value).await.unwrap(),
        Recovery::Absent
    ));
    let other_ttl = Record::new(
        made.id.clone(),
        "a.recover.example.com",
        RecordType::A,
        300,
        ["192.0.2.1"],
    );
    assert!(matches!(
        Record::recover(&rcx, &other_ttl).await.unwrap(),
        Recovery::Absent
    ));
    // Read by the id alone (as import does), then delete twice.
    let seen = Record::read(&rcx, &r.id, None).await.unwrap().unwrap();
    assert_eq!(
        (seen.args.records.clone(), seen.args.ttl),
        (vec!["192.0.2.1".to_owned()], Some(60))
    );
    Record::delete(&rcx, &r.id, &rargs, &r.outputs)
        .await
        .unwrap();
    Record::delete(&rcx, &r.id, &rargs, &r.outputs)
        .await
        .unwrap();
    assert!(Record::read(&rcx, &r.id, Some(&rargs))
        .await
        .unwrap()
        .is_none());
    HostedZone::delete(&cx, &made.id, &args, &made.outputs)
        .await
        .unwrap();
    HostedZone::delete(&cx, &made.id, &args, &made.outputs)
        .await
        .unwrap();
    assert!(HostedZone::read(&cx, &made.id, None)
        .await
        .unwrap()
        .is_none());

    // Health check: by its CallerReference.
    let urn = Urn::new("recover", HealthCheck::TYPE, "hc");
    let hcx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-recover-hc",
    };
    let hargs = HealthCheck::new(HealthCheckType::Http, "recover.example.com");
    assert!(matches!(
        HealthCheck::recover(&hcx, &hargs).await.unwrap(),
        Recovery::Absent
    ));
    let h = HealthCheck::create(&hcx, &hargs).await.unwrap();
    let Recovery::Found(found) = HealthCheck::recover(&hcx, &hargs).await.unwrap() else {
        panic!("health check not found by its caller reference")
    };
    assert_eq!(found.id, h.id);
    HealthCheck::delete(&hcx, &h.id, &hargs, &h.outputs)
        .await
        .unwrap();
    HealthCheck::delete(&hcx, &h.id, &hargs, &h.outputs)
        .await
        .unwrap();
    assert!(HealthCheck::read(&hcx, &h.id, None)
        .await
        .unwrap()
        .is_none());

    // OAC: by its name, when every property is the declared one (OACs have no tags).
    let urn = Urn::new("recover", OriginAccessControl::TYPE, "oac");
    let ocx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-recover-oac",
    };
    let oargs = OriginAccessControl::s3("strata-recover-oac");
    assert!(matches!(
        OriginAccessControl::recover(&ocx, &oargs).await.unwrap(),
        Recovery::Absent
    ));
    let o = OriginAccessControl::create(&ocx, &oargs).await.unwrap();
    let Recovery::Resembles(found) = OriginAccessControl::recover(&ocx, &oargs).await.unwrap()
    else {
        panic!("OAC not found by its name")
    };
    assert_eq!(found.id, o.id);
    assert!(matches!(
        OriginAccessControl::recover(&ocx, &oargs.clone().description("another one"))
            .await
            .unwrap(),
        Recovery::Absent
    ));
    OriginAccessControl::delete(&ocx, &o.id, &oargs, &o.outputs)
        .await
        .unwrap();
    OriginAccessControl::delete(&ocx, &o.id, &oargs, &o.outputs)
        .await
        .unwrap();
    assert!(OriginAccessControl::read(&ocx, &o.id, None)
        .await
        .unwrap()
        .is_none());

    // Distribution: by its strata:token tag; a create retried with the same token (the
    // same CallerReference: DistributionAlreadyExists) returns the same distribution.
    let urn = Urn::new("recover", Distribution::TYPE, "cdn");
    let dcx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tok-recover-cdn",
    };
    let dargs = Distribution::new(CacheBehavior::dynamic("web"))
        .origin(DistributionOrigin::custom("web", "web.recover.example.com"));
    assert!(matches!(
        Distribution::recover(&dcx, &dargs).await.unwrap(),
        Recovery::Absent
    ));
    let d = Distribution::create(&dcx, &dargs).await.unwrap();
    let Recovery::Found(found) = Distribution::recover(&dcx, &dargs).await.unwrap() else {
        panic!("distribution not found by its token tag")
    };
    assert_eq!(found.id, d.id);
    assert_eq!(Distribution::create(&dcx, &dargs).await.unwrap().id, d.id);
    Distribution::delete(&dcx, &d.id, &dargs, &d.outputs)
        .await
        .unwrap();
    Distribution::delete(&dcx, &d.id, &dargs, &d.outputs)
        .await
        .unwrap();
    assert!(Distribution::read(&dcx, &d.id, None)
        .await
        .unwrap()
        .is_none());
}

fn errors(build: impl FnOnce(&mut Stack)) -> String {
    let mut s = Stack::new("bad-edge");
    build(&mut s);
    s.seal().unwrap_err().to_string()
}

fn expect_all(err: &str, expected: &[&str]) {
    for x in expected {
        assert!(err.contains(x), "missing {x:?} in:\n{err}");
    }
}

#[test]
fn hosted_zone_declaration_errors() {
    let err = errors(|s| {
        s.add("name", HostedZone::new("bad..example.com"));
        s.add(
            "comment",
            HostedZone::new("ok.example.com").comment("c".repeat(257)),
        );
        s.add(
            "vpcs",
            HostedZone::new("private.example.com")
                .private_vpc("vpc-1", "Frankfurt")
                .private_vpc("subnet-1", "eu-central-1")
                .private_vpc("vpc-1", "eu-central-1"),
        );
        s.add(
            "tags",
            HostedZone::new("tags.example.com").tag("strata:urn", "x"),
        );
    });
    expect_all(
        &err,
        &[
            "::name: field `name`",
            "::comment: field `comment`",
            "::vpcs: field `vpcs.0.region`",
            "::vpcs: field `vpcs.1.vpc_id`",
            "::vpcs: field `vpcs.2.vpc_id`: vpc-1 is associated twice",
            "::tags: field `tags.strata:urn`",
        ],
    );
}

#[test]
fn record_declaration_errors() {
    let err = errors(|s| {
        let zone = s.add("zone", HostedZone::new("shop.example.com"));
        s.add(
            "outside",
            Record::new(
                zone.zone_id(),
                "www.other.example.com",
                RecordType::A,
                60,
                ["192.0.2.1"],
            ),
        );
        s.add(
            "apex-cname",
            Record::new(
                zone.zone_id(),
                "shop.example.com",
                RecordType::Cname,
                60,
                ["x.example.com"],
            ),
        );
        s.add(
            "bad-name",
            Record::new("Z1", "a b.example.com", RecordType::A, 60, ["192.0.2.1"]),
        );
        let mut both = Record::alias(
            "Z1",
            "both.example.com",
            RecordType::A,
            "d1.cloudfront.net",
            "Z2FDTNDATAQYW2",
        );
        both.ttl = Some(60);
        s.add("both", both);
        let mut neither = Record::new(
            "Z1",
            "neither.example.com",
            RecordType::A,
            60,
            Vec::<String>::new(),
        );
        neither.ttl = None;
        s.add("neither", neither);
        s.add(
            "ttl",
            Record::new(
                "Z1",
                "ttl.example.com",
                RecordType::A,
                2_147_483_648,
                ["192.0.2.1"],
            ),
        );
        s.add(
            "negative-ttl",
            Record::new("Z1", "neg.example.com", RecordType::A, -1, ["192.0.2.1"]),
        );
        s.add(
            "a",
            Record::new("Z1", "a.example.com", RecordType::A, 60, ["2001:db8::1"]),
        );
        s.add(
            "aaaa",
            Record::new(
                "Z1",
                "aaaa.example.com",
                RecordType::Aaaa,
                60,
                ["192.0.2.1"],
            ),
        );
        s.add(
            "cname",
            Record::new(
                "Z1",
                "c.example.com",
                RecordType::Cname,
                60,
                ["a.example.com", "b.example.com"],
            ),
        );
        s.add(
            "mx",
            Record::new(
                "Z1",
                "example.com",
                RecordType::Mx,
                60,
                ["mail.example.com"],
            ),
        );
        s.add(
            "long",
            Record::new(
                "Z1",
                "long.example.com",
                RecordType::Txt,
                60,
                ["x".repeat(4001)],
            ),
        );
        let mut set_only = Record::new("Z1", "s.example.com", RecordType::A, 60, ["192.0.2.1"]);
        set_only.set_identifier = Some("x".repeat(129));
        s.add("set-only", set_only);
        let mut failover_only =
            Record::new("Z1", "f.example.com", RecordType::A, 60, ["192.0.2.1"]);
        failover_only.failover = Some(Failover::Secondary);
        s.add("failover-only", failover_only);
        s.add(
            "empty",
            Record::alias("", "e.example.com", RecordType::A, "", "").health_check(""),
        );
        s.add(
            "cf-health",
            Record::alias(
                "Z1",
                "cf.example.com",
                RecordType::A,
                "d1.cloudfront.net",
                CLOUDFRONT_ZONE_ID,
            )
            .evaluate_target_health(true),
        );
    });
    expect_all(
        &err,
        &[
            "::outside: field `name`: \"www.other.example.com\" is not within the zone",
            "::apex-cname: field `type`: a CNAME cannot be at the zone apex",
            "::bad-name: field `name`",
            "::both: field `alias`",
            "::neither: field `records`",
            "::neither: field `ttl`",
            "::ttl: field `ttl`: 2147483648",
            "::negative-ttl: field `ttl`: -1",
            "::a: field `records.0`",
            "::aaaa: field `records.0`",
            "::cname: field `records`: a CNAME record has exactly one value",
            "::mx: field `records.0`",
            "::long: field `records.0`: a value has at most 4000 characters",
            "::set-only: field `failover`",
            "::set-only: field `set_identifier`: a set identifier has 1 to 128 characters",
            "::failover-only: field `set_identifier`",
            "::empty: field `zone_id`",
            "::empty: field `alias.dns_name`",
            "::empty: field `alias.zone_id`",
            "::empty: field `health_check_id`",
            "::cf-health: field `alias.evaluate_target_health`",
        ],
    );
    // A record within its zone, and a CNAME below the apex, are fine.
    let mut s = Stack::new("good-edge");
    let zone = s.add("zone", HostedZone::new("shop.example.com"));
    s.add(
        "www",
        Record::new(
            zone.zone_id(),
            "www.Shop.example.com.",
            RecordType::Cname,
            60,
            ["shop.example.com"],
        ),
    );
    s.add(
        "wild",
        Record::new(
            zone.zone_id(),
            "*.shop.example.com",
            RecordType::Txt,
            60,
            ["hello"],
        ),
    );
    s.seal().unwrap();
}

#[test]
fn health_check_declaration_errors() {
    let err = errors(|s| {
        let mut nothing = HealthCheck::new(HealthCheckType::Http, "x.example.com");
        nothing.fqdn = None;
        s.add("nothing", nothing);
        s.add(
            "fqdn",
            HealthCheck::new(HealthCheckType::Http, "bad_host-.example.com"),
        );
        s.add(
            "ip",
            HealthCheck::new(HealthCheckType::Http, "x.example.com").ip_address("300.1.1.1"),
        );
        s.add(
            "private",
            HealthCheck::new(HealthCheckType::Http, "x.example.com").ip_address("10.0.1.5"),
        );
        s.add(
            "port",
            HealthCheck::new(HealthCheckType::Http, "x.example.com").port(0),
        );
        s.add(
            "tcp-path",
            HealthCheck::new(HealthCheckType::Tcp, "x.example.com").resource_path("/health"),
        );
        s.add(
            "path",
            HealthCheck::new(HealthCheckType::Http, "x.example.com").resource_path("health"),
        );
        s.add(
            "no-search",
            HealthCheck::new(HealthCheckType::HttpsStrMatch, "x.example.com"),
        );
        s.add(
            "search",
            HealthCheck::new(HealthCheckType::Http, "x.example.com").search_string("ok"),
        );
        s.add(
            "long-search",
            HealthCheck::new(HealthCheckType::HttpStrMatch, "x.example.com")
                .search_string("x".repeat(256)),
        );
        s.add(
            "interval",
            HealthCheck::new(HealthCheckType::Http, "x.example.com").request_interval(20),
        );
        s.add(
            "threshold",
            HealthCheck::new(HealthCheckType::Http, "x.example.com").failure_threshold(11),
        );
        s.add(
            "regions",
            HealthCheck::new(HealthCheckType::Http, "x.example.com")
                .regions([HealthCheckRegion::UsEast1, HealthCheckRegion::EuWest1]),
        );
        s.add(
            "dup-regions",
            HealthCheck::new(HealthCheckType::Http, "x.example.com").regions([
                HealthCheckRegion::UsEast1,
                HealthCheckRegion::UsEast1,
                HealthCheckRegion::EuWest1,
            ]),
        );
        let mut sni = HealthCheck::new(HealthCheckType::Http, "x.example.com");
        sni.enable_sni = true;
        s.add("sni", sni);
        s.add(
            "tags",
            HealthCheck::new(HealthCheckType::Http, "x.example.com").tag("aws:x", "y"),
        );
    });
    expect_all(
        &err,
        &[
            "::nothing: field `fqdn`: a health check needs a domain name or an IP address",
            "::fqdn: field `fqdn`",
            "::ip: field `ip_address`: \"300.1.1.1\" is not an IP address",
            "::private: field `ip_address`: 10.0.1.5: Route 53 checks only public addresses",
            "::port: field `port`",
            "::tcp-path: field `resource_path`: a TCP check requests no path",
            "::path: field `resource_path`",
            "::no-search: field `search_string`",
            "::search: field `search_string`",
            "::long-search: field `search_string`: 1 to 255 characters",
            "::interval: field `request_interval`: 20 seconds",
            "::threshold: field `failure_threshold`: 11",
            "::regions: field `regions`: 2 regions",
            "::dup-regions: field `regions`: a region is listed twice",
            "::sni: field `enable_sni`",
            "::tags: field `tags.aws:x`",
        ],
    );
}

#[test]
fn origin_access_control_declaration_errors() {
    let err = errors(|s| {
        s.add("empty", OriginAccessControl::s3(""));
        s.add("long", OriginAccessControl::s3("x".repeat(65)));
        s.add(
            "description",
            OriginAccessControl::s3("ok").description("d".repeat(257)),
        );
    });
    expect_all(
        &err,
        &[
            "::empty: field `name`",
            "::long: field `name`",
            "::description: field `description`",
        ],
    );
}

#[test]
fn distribution_declaration_errors() {
    let cert =
        "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab";
    let good = || {
        Distribution::new(CacheBehavior::dynamic("alb"))
            .origin(DistributionOrigin::custom("alb", "alb.example.com"))
    };
    let err = errors(|s| {
        s.add(
            "no-origin",
            Distribution::new(CacheBehavior::dynamic("alb")),
        );
        s.add(
            "origins",
            good()
                .origin(DistributionOrigin::custom("alb", "other.example.com"))
                .origin(DistributionOrigin::custom("", "x.example.com"))
                .origin(DistributionOrigin::s3("s3", "images.example.com", "E123"))
                .origin(DistributionOrigin::custom("path", "y.example.com").origin_path("/v1/")),
        );
        let mut custom = DistributionOrigin::custom("odd", "odd.example.com");
        if let OriginKind::Custom {
            http_port,
            ssl_protocols,
            read_timeout,
            keepalive_timeout,
            ..
        } = &mut custom.kind
        {
            *http_port = 81;
            ssl_protocols.clear();
            *read_timeout = 0;
            *keepalive_timeout = 181;
        }
        s.add("custom", good().origin(custom));
        s.add(
            "behaviors",
            Distribution::new(
                CacheBehavior::dynamic("nowhere").cached_methods(CachedMethods::GetHeadOptions),
            )
            .origin(DistributionOrigin::custom("alb", "alb.example.com"))
            .behavior("", CacheBehavior::static_assets("alb"))
            .behavior("/a/*", CacheBehavior::static_assets("missing"))
            .behavior("/a/*", CacheBehavior::new("alb", ""))
            .behavior(
                "/b/*",
                CacheBehavior::static_assets("alb").cached_methods(CachedMethods::GetHeadOptions),
            ),
        );
        s.add("aliases", good().alias("shop.example.com"));
        s.add(
            "alias-names",
            good()
                .certificate(cert)
                .alias("bad_alias-.example.com")
                .alias("Shop.example.com")
                .alias("shop.example.com"),
        );
        s.add(
            "tls",
            good()
                .certificate(cert)
                .minimum_protocol_version(MinimumProtocolVersion::TlsV1_1_2016),
        );
        s.add(
            "cert-region",
            good().certificate(
                "arn:aws:acm:eu-central-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
        );
        s.add(
            "waf",
            good().web_acl(
                "arn:aws:wafv2:eu-central-1:123456789012:regional/webacl/shop/1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
        );
        s.add("comment", good().comment("c".repeat(129)));
        s.add("root", good().default_root_object("/index.html"));
        s.add("timeout", good().deploy_timeout(std::time::Duration::ZERO));
        s.add("tags", good().tag("strata:stack", "x"));
    });
    expect_all(
        &err,
        &[
            "::no-origin: field `origins`: a distribution needs an origin",
            "::no-origin: field `default_cache_behavior.target_origin_id`",
            "::origins: field `origins.1.id`: origin id \"alb\" is used twice",
            "::origins: field `origins.2.id`",
            "::origins: field `origins.3.domain_name`: \"images.example.com\" is not an S3 bucket endpoint",
            "::origins: field `origins.4.origin_path`",
            "::custom: field `origins.1.kind.custom.http_port`: 81",
            "::custom: field `origins.1.kind.custom.ssl_protocols`",
            "::custom: field `origins.1.kind.custom.read_timeout`: 0 seconds",
            "::custom: field `origins.1.kind.custom.keepalive_timeout`: 181 seconds",
            "::behaviors: field `default_cache_behavior.target_origin_id`: \"nowhere\"",
            "::behaviors: field `ordered_cache_behaviors.0.path_pattern`",
            "::behaviors: field `ordered_cache_behaviors.1.target_origin_id`: \"missing\"",
            "::behaviors: field `ordered_cache_behaviors.2.path_pattern`: path pattern \"/a/*\" is used twice",
            "::behaviors: field `ordered_cache_behaviors.2.cache_policy_id`",
            "::behaviors: field `ordered_cache_behaviors.3.cached_methods`",
            "::aliases: field `aliases`: aliases need a viewer certificate",
            "::alias-names: field `aliases.0`",
            "::alias-names: field `aliases.2`: shop.example.com is listed twice",
            "::tls: field `viewer_certificate.minimum_protocol_version`: TLSv1.1_2016",
            "::cert-region: field `viewer_certificate.acm_certificate_arn`",
            "::waf: field `web_acl_id`",
            "::comment: field `comment`",
            "::root: field `default_root_object`",
            "::timeout: field `deploy_timeout_secs`",
            "::tags: field `tags.strata:stack`",
        ],
    );
    // The dynamic default behaviour allows every method: caching OPTIONS there is fine.
    assert!(
        !err.contains("::behaviors: field `default_cache_behavior.cached_methods`"),
        "{err}"
    );
    // The weak viewer versions are refused, TLS 1.2 and later accepted.
    for v in [
        MinimumProtocolVersion::SslV3,
        MinimumProtocolVersion::TlsV1,
        MinimumProtocolVersion::TlsV1_2016,
        MinimumProtocolVersion::TlsV1_1_2016,
    ] {
        assert!(!v.tls12_or_later());
    }
    let mut s = Stack::new("good-cdn");
    s.add(
        "cdn",
        good()
            .certificate(cert)
            .alias("shop.example.com")
            .alias("*.shop.example.com")
            .minimum_protocol_version(MinimumProtocolVersion::TlsV1_2_2019)
            .web_acl("arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop/1234abcd-12ab-34cd-56ef-1234567890ab"),
    );
    s.seal().unwrap();
}
