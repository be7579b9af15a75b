//! The built-in policy pack: the "Compliance & Security" rules of a production platform,
//! checked at plan time over the declared stack (see [`strata_core::policy`]).
//!
//! [`Baseline`] checks, each violation naming the resource and the field:
//!
//! | rule | what it asks |
//! |---|---|
//! | `encryption-at-rest` | RDS instances, Redis replication groups, buckets, EFS file systems and launch templates' EBS volumes are encrypted with a customer-managed KMS key (a declared `KmsKey`, or a key ARN that is not an `alias/aws/...` AWS-managed alias) |
//! | `tls` | HTTPS listeners use a TLS 1.2+ policy, HTTP listeners only redirect to HTTPS, CloudFront viewers get TLS 1.2+ and are redirected to HTTPS, Redis encrypts in transit |
//! | `no-public-data` | no DB instance is publicly accessible; no security group of a database or cache admits 0.0.0.0/0; no DB subnet's route table routes to an internet gateway |
//! | `cloudtrail` | a trail exists, multi-region, with log file validation and logging on, and its bucket keeps logs at least 365 days |
//! | `guardduty` | an enabled GuardDuty detector exists |
//! | `key-rotation` | every symmetric KMS key has rotation on |
//! | `secret-rotation` | every Secrets Manager secret has a rotation of at most 90 days |
//! | `versioning` | critical buckets (tagged `critical = "true"`, or named with [`Baseline::critical_bucket`]) are versioned |
//!
//! Every rule is mandatory: `up` refuses the stack. [`Baseline::advisory`] makes a rule
//! advisory instead (listed by `preview`, not enforced). Values that are outputs of other
//! resources count as set (an output-valued KMS key is taken to be a customer key); the
//! checks judge only what the program states.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;
use strata_core::policy::{Enforcement, PolicyPack, Violation};
use strata_core::{Declared, Resource, StackView, Urn};

use crate::compute::LaunchTemplate;
use crate::data::{Bucket, DbInstance, DbSubnetGroup, FileSystem, ReplicationGroup};
use crate::edge::{Distribution, Listener, MinimumProtocolVersion, LEGACY_SSL_POLICIES};
use crate::network::{InternetGateway, Route, RouteTableAssociation, SecurityGroupRule};
use crate::observability::Trail;
use crate::security::{GuardDutyDetector, KmsKey, SecretRotation};

const PACK: &str = "baseline";

/// The rule ids of [`Baseline`].
pub const RULES: &[&str] = &[
    "encryption-at-rest",
    "tls",
    "no-public-data",
    "cloudtrail",
    "guardduty",
    "key-rotation",
    "secret-rotation",
    "versioning",
];

/// The built-in pack. See the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    advisory: BTreeSet<String>,
    critical: BTreeSet<String>,
    /// (rule, logical name) → why the rule does not apply.
    waivers: std::collections::BTreeMap<(String, String), String>,
}

impl Baseline {
    /// Every rule, mandatory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes rule `rule` (one of [`RULES`]) advisory.
    pub fn advisory(mut self, rule: &str) -> Self {
        self.advisory.insert(rule.to_owned());
        self
    }

    /// Waives rule `rule` for the resource with logical name `resource`, for a stated
    /// reason: its violations become advisory, and their message carries the reason, so
    /// the waiver stays visible in every preview.
    pub fn waive(mut self, rule: &str, resource: &str, reason: impl Into<String>) -> Self {
        self.waivers
            .insert((rule.to_owned(), resource.to_owned()), reason.into());
        self
    }

    /// Treats the bucket with logical name `name` as critical (it must be versioned).
    pub fn critical_bucket(mut self, name: impl Into<String>) -> Self {
        self.critical.insert(name.into());
        self
    }

    fn v(&self, rule: &str, r: Option<&Declared<'_>>, field: &str, msg: String) -> Violation {
        let waiver = r.and_then(|r| {
            self.waivers
                .get(&(rule.to_owned(), r.urn().name().to_owned()))
        });
        let level = if self.advisory.contains(rule) || waiver.is_some() {
            Enforcement::Advisory
        } else {
            Enforcement::Mandatory
        };
        let msg = match waiver {
            Some(why) => format!("{msg} (waived: {why})"),
            None => msg,
        };
        let mut v = Violation::new(PACK, rule, level).field(field).message(msg);
        if let Some(r) = r {
            v = v.resource(r.urn());
        }
        v
    }
}

fn truthy(r: &Declared<'_>, path: &str) -> bool {
    r.at(path).and_then(Value::as_bool).unwrap_or(false)
}

fn text<'a>(r: &Declared<'a>, path: &str) -> Option<&'a str> {
    r.at(path).and_then(Value::as_str)
}

/// Whether the key at `path` is customer-managed: declared (a literal ARN or another
/// resource's output) and not an AWS-managed `alias/aws/...`.
fn customer_key(r: &Declared<'_>, path: &str) -> bool {
    r.is_set(path) && !text(r, path).is_some_and(|k| k.contains("alias/aws/"))
}

impl PolicyPack for Baseline {
    fn name(&self) -> &str {
        PACK
    }

    fn check(&self, stack: &StackView<'_>) -> Vec<Violation> {
        let mut out = Vec::new();
        self.encryption(stack, &mut out);
        self.tls(stack, &mut out);
        self.no_public_data(stack, &mut out);
        self.cloudtrail(stack, &mut out);
        self.guardduty(stack, &mut out);
        self.key_rotation(stack, &mut out);
        self.secret_rotation(stack, &mut out);
        self.versioning(stack, &mut out);
        out
    }
}

impl Baseline {
    fn encryption(&self, stack: &StackView<'_>, out: &mut Vec<Violation>) {
        const R: &str = "encryption-at-rest";
        let cmk = "must be encrypted with a customer-managed KMS key";
        for r in stack.of_type(DbInstance::TYPE) {
            if !truthy(&r, "storage_encrypted") {
                out.push(self.v(
                    R,
                    Some(&r),
                    "storage_encrypted",
                    format!("the database {cmk}"),
                ));
            } else if !customer_key(&r, "kms_key_id") {
                out.push(self.v(R, Some(&r), "kms_key_id", format!("the database {cmk}")));
            }
        }
        for r in stack.of_type(ReplicationGroup::TYPE) {
            if !truthy(&r, "at_rest_encryption") {
                out.push(self.v(
                    R,
                    Some(&r),
                    "at_rest_encryption",
                    format!("the cache {cmk}"),
                ));
            } else if !customer_key(&r, "kms_key_id") {
                out.push(self.v(R, Some(&r), "kms_key_id", format!("the cache {cmk}")));
            }
        }
        for r in stack.of_type(Bucket::TYPE) {
            if !customer_key(&r, "encryption.kms.key_arn") {
                out.push(self.v(
                    R,
                    Some(&r),
                    "encryption",
                    format!("the bucket {cmk} (SSE-KMS), not SSE-S3"),
                ));
            }
        }
        for r in stack.of_type(FileSystem::TYPE) {
            if !truthy(&r, "encrypted") {
                out.push(self.v(R, Some(&r), "encrypted", format!("the file system {cmk}")));
            } else if !customer_key(&r, "kms_key_id") {
                out.push(self.v(R, Some(&r), "kms_key_id", format!("the file system {cmk}")));
            }
        }
        for r in stack.of_type(LaunchTemplate::TYPE) {
            if !customer_key(&r, "ebs_kms_key_id") {
                out.push(self.v(
                    R,
                    Some(&r),
                    "ebs_kms_key_id",
                    format!("the instances' EBS volumes {cmk}"),
                ));
            }
        }
    }

    fn tls(&self, stack: &StackView<'_>, out: &mut Vec<Violation>) {
        const R: &str = "tls";
        for r in stack.of_type(Listener::TYPE) {
            if text(&r, "protocol") == Some("HTTPS") {
                // No policy declared means the type's default, a TLS 1.2+ one.
                if let Some(policy) = text(&r, "ssl_policy") {
                    if LEGACY_SSL_POLICIES.contains(&policy) {
                        out.push(self.v(
                            R,
                            Some(&r),
                            "ssl_policy",
                            format!("{policy:?} allows TLS below 1.2"),
                        ));
                    }
                }
            } else if r.at("default_action.redirect_to_https").is_none() {
                out.push(self.v(
                    R,
                    Some(&r),
                    "default_action",
                    "a plain-HTTP listener must only redirect to HTTPS".to_owned(),
                ));
            }
        }
        for r in stack.of_type(Distribution::TYPE) {
            let field = "viewer_certificate.minimum_protocol_version";
            let min = r
                .at(field)
                .and_then(|v| serde_json::from_value::<MinimumProtocolVersion>(v.clone()).ok());
            if !min.is_some_and(MinimumProtocolVersion::tls12_or_later) {
                out.push(self.v(
                    R,
                    Some(&r),
                    field,
                    format!(
                        "viewers must get TLS 1.2+ (TLSv1.2_2021), not {}",
                        text(&r, field).unwrap_or("CloudFront's default certificate (TLSv1)")
                    ),
                ));
            }
            let behaviours = r
                .at("ordered_cache_behaviors")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let paths = std::iter::once("default_cache_behavior".to_owned())
                .chain((0..behaviours).map(|i| format!("ordered_cache_behaviors.{i}")));
            for p in paths {
                let field = format!("{p}.viewer_protocol_policy");
                if text(&r, &field) == Some("allow-all") {
                    out.push(self.v(
                        R,
                        Some(&r),
                        &field,
                        "viewers must be redirected to HTTPS".to_owned(),
                    ));
                }
            }
        }
        for r in stack.of_type(ReplicationGroup::TYPE) {
            if !truthy(&r, "transit_encryption") {
                out.push(self.v(
                    R,
                    Some(&r),
                    "transit_encryption",
                    "the cache must encrypt in transit".to_owned(),
                ));
            }
        }
    }

    fn no_public_data(&self, stack: &StackView<'_>, out: &mut Vec<Violation>) {
        const R: &str = "no-public-data";
        let mut data_groups: HashSet<&Urn> = HashSet::new();
        let mut db_subnets: HashSet<&Urn> = HashSet::new();
        for r in stack.of_type(DbInstance::TYPE) {
            if truthy(&r, "publicly_accessible") {
                out.push(self.v(
                    R,
                    Some(&r),
                    "publicly_accessible",
                    "a database is never reachable from the internet".to_owned(),
                ));
            }
            data_groups.extend(r.references("vpc_security_group_ids"));
            for g in r.references("db_subnet_group_name") {
                if let Some(group) = stack.get(g) {
                    db_subnets.extend(group.references("subnet_ids"));
                }
            }
        }
        for r in stack.of_type(ReplicationGroup::TYPE) {
            data_groups.extend(r.references("security_group_ids"));
        }
        for r in stack.of_type(DbSubnetGroup::TYPE) {
            db_subnets.extend(r.references("subnet_ids"));
        }
        for r in stack.of_type(SecurityGroupRule::TYPE) {
            let open = text(&r, "source.cidr").is_some_and(|c| c.ends_with("/0"));
            let ingress = text(&r, "direction") != Some("egress");
            if open
                && ingress
                && r.references("security_group_id")
                    .iter()
                    .any(|g| data_groups.contains(g))
            {
                out.push(self.v(
                    R,
                    Some(&r),
                    "source",
                    "a database or cache security group admits the whole internet".to_owned(),
                ));
            }
        }
        // DB subnets → their route tables → routes to an internet gateway.
        let db_tables: HashSet<&Urn> = stack
            .of_type(RouteTableAssociation::TYPE)
            .filter(|a| {
                a.references("subnet_id")
                    .iter()
                    .any(|s| db_subnets.contains(s))
            })
            .flat_map(|a| a.references("route_table_id"))
            .collect();
        for r in stack.of_type(Route::TYPE) {
            let to_igw = r.references("target.gateway_id").iter().any(|g| {
                stack
                    .get(g)
                    .is_some_and(|g| g.type_name() == InternetGateway::TYPE)
            }) || text(&r, "target.gateway_id").is_some_and(|g| g.starts_with("igw-"));
            if to_igw
                && r.references("route_table_id")
                    .iter()
                    .any(|t| db_tables.contains(t))
            {
                out.push(self.v(
                    R,
                    Some(&r),
                    "target",
                    "a DB subnet's route table must not route to an internet gateway".to_owned(),
                ));
            }
        }
    }

    fn cloudtrail(&self, stack: &StackView<'_>, out: &mut Vec<Violation>) {
        const R: &str = "cloudtrail";
        let trails: Vec<_> = stack.of_type(Trail::TYPE).collect();
        if trails.is_empty() {
            out.push(
                self.v(
                    R,
                    None,
                    "",
                    "the stack declares no CloudTrail trail (audit logging of every API call)"
                        .to_owned(),
                ),
            );
        }
        for r in &trails {
            for (field, what) in [
                ("multi_region", "record every region"),
                ("log_file_validation", "validate its log files"),
                ("logging", "be logging"),
            ] {
                if r.at(field).and_then(Value::as_bool) == Some(false) {
                    out.push(self.v(R, Some(r), field, format!("the trail must {what}")));
                }
            }
            for b in r.references("s3_bucket_name") {
                let Some(bucket) = stack.get(b) else { continue };
                let rules = bucket
                    .at("lifecycle_rules")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for (i, rule) in rules.iter().enumerate() {
                    let days = rule.get("expiration_days").and_then(Value::as_i64);
                    if days.is_some_and(|d| d < 365) {
                        out.push(self.v(
                            R,
                            Some(&bucket),
                            &format!("lifecycle_rules.{i}.expiration_days"),
                            format!(
                                "the trail's logs are kept 365 days at least, not {}",
                                days.unwrap_or_default()
                            ),
                        ));
                    }
                }
            }
        }
    }

    fn guardduty(&self, stack: &StackView<'_>, out: &mut Vec<Violation>) {
        const R: &str = "guardduty";
        let detectors: Vec<_> = stack.of_type(GuardDutyDetector::TYPE).collect();
        if detectors.is_empty() {
            out.push(self.v(
                R,
                None,
                "",
                "the stack declares no GuardDuty detector".to_owned(),
            ));
        }
        for r in &detectors {
            if r.at("enable").and_then(Value::as_bool) == Some(false) {
                out.push(self.v(R, Some(r), "enable", "GuardDuty must be on".to_owned()));
            }
        }
    }

    fn key_rotation(&self, stack: &StackView<'_>, out: &mut Vec<Violation>) {
        for r in stack.of_type(KmsKey::TYPE) {
            let symmetric = text(&r, "key_spec").is_none_or(|s| s == "symmetric_default");
            if symmetric && !truthy(&r, "enable_key_rotation") {
                out.push(self.v(
                    "key-rotation",
                    Some(&r),
                    "enable_key_rotation",
                    "customer-managed keys rotate (yearly or more often)".to_owned(),
                ));
            }
        }
    }

    fn secret_rotation(&self, stack: &StackView<'_>, out: &mut Vec<Violation>) {
        const R: &str = "secret-rotation";
        let rotations: Vec<_> = stack.of_type(SecretRotation::TYPE).collect();
        for r in stack.of_type(crate::security::Secret::TYPE) {
            let rotation = rotations
                .iter()
                .find(|rot| rot.references("secret_id").contains(&r.urn()));
            match rotation {
                None => out.push(self.v(
                    R,
                    Some(&r),
                    "",
                    "the secret has no rotation (a SecretRotation of at most 90 days)".to_owned(),
                )),
                Some(rot) => {
                    let days = rot.at("automatically_after_days").and_then(Value::as_i64);
                    if days.is_some_and(|d| d > 90) {
                        out.push(self.v(
                            R,
                            Some(rot),
                            "automatically_after_days",
                            format!("secrets rotate within 90 days, not {}", days.unwrap_or(0)),
                        ));
                    }
                }
            }
        }
    }

    fn versioning(&self, stack: &StackView<'_>, out: &mut Vec<Violation>) {
        for r in stack.of_type(Bucket::TYPE) {
            let critical =
                self.critical.contains(r.urn().name()) || text(&r, "tags.critical") == Some("true");
            if critical && !truthy(&r, "versioning") {
                out.push(self.v(
                    "versioning",
                    Some(&r),
                    "versioning",
                    "critical buckets keep every version of their objects".to_owned(),
                ));
            }
        }
    }
}
