//! `Certificate`: a public ACM certificate, validated by DNS (optionally in a Route 53
//! zone it writes the validation records to) or by email.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_acm::error::ProvideErrorMetadata;
use aws_sdk_acm::types::{
    CertificateDetail, CertificateStatus, Filters, KeyAlgorithm, Tag, ValidationMethod as AwsMethod,
};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::{api_error, check_tags, is_user_tag, tag_changes, wait_for};
use strata_core::diff::diff_values;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, PropertyChange, ProviderError, Recovery, Resource,
    ResourceArgs,
};

use crate::elb_common::{
    acm, arn_region, check_region, domain_name_problem, route53, same_set, CLOUDFRONT_REGION,
};
use crate::route53_common::record_exists;

/// How long DNS validation records may take to appear on a new certificate.
const RECORDS_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How long a delete retries a certificate still in use (ACM updates `InUseBy` late).
const IN_USE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The TTL of the validation records strata writes.
const RECORD_TTL: i64 = 300;
/// The certificate tag that lists (by their `mark`) the validation records of its zone
/// that the certificate answers for: the ones it wrote, not ones that were there before.
const RECORDS_TAG: &str = "strata:validation-records";

/// A public certificate from AWS Certificate Manager.
///
/// `validation_zone_id` makes it self-validating: create writes the DNS validation CNAME
/// records into that Route 53 zone (one record per distinct name: the apex and its
/// wildcard share one), then waits until ACM has `ISSUED` it, up to
/// `validation_timeout_minutes` (45 by default; on AWS, DNS validation usually takes a
/// few minutes once the zone is authoritative for the domain, and fails after 72 hours).
/// Without a zone, create does not wait: `status` stays `PENDING_VALIDATION` until the
/// records in [`CertificateOutputs::validation_records`] exist wherever the domain's DNS
/// is served. ACM renews DNS-validated certificates by itself while the records remain.
///
/// ACM gives every certificate of a domain (in an account) the same validation record, so
/// these records are shared. Create writes only the missing ones (`CREATE`, never
/// `UPSERT`): a record that is there already with the right value is used as it is, and
/// one that points elsewhere fails the create untouched. The certificate's
/// `strata:validation-records` tag lists the records it answers for: those it wrote, and
/// those it found that another certificate of the stack wrote (the old half of a
/// replace). Delete removes only those, only where they still point at this certificate's
/// values and no other certificate of the region still validates with them; a record
/// that was in the zone for any other reason is never removed. ACM refuses to delete a
/// certificate in use and reports the use late, so delete retries that for up to 10
/// minutes.
///
/// `region` overrides the region of the client: CloudFront takes certificates from
/// us-east-1 only ([`CertificateArgs::for_cloudfront`]). The domain, the alternative names,
/// the validation method and the region replace it; tags and the validation zone change in
/// place. The engine's idempotency token goes to `IdempotencyToken`.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::Certificate;
/// let mut s = Stack::new("dev");
/// s.add(
///     "cert",
///     Certificate::dns("shop.example.com")
///         .wildcard()
///         .validate_in_zone("Z0123456789ABCDEFGHIJ"),
/// );
/// assert!(s.seal().is_ok());
/// ```
#[derive(Debug)]
pub struct Certificate;

/// How ACM checks that the requester controls the domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidationMethod {
    /// CNAME records in the domain's DNS.
    #[default]
    Dns,
    /// Emails to the domain's registered contacts.
    Email,
}

/// The args of a [`Certificate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateArgs {
    /// The domain (lowercase; at most 64 characters, the certificate's subject). Replaces.
    pub domain_name: String,
    /// Further names (`*.shop.example.com`). Replaces.
    #[serde(default)]
    pub subject_alternative_names: Vec<String>,
    /// DNS or email validation. Replaces.
    #[serde(default)]
    pub validation_method: ValidationMethod,
    /// The Route 53 zone to write the DNS validation records to; with it, create waits
    /// until the certificate is issued.
    #[serde(default)]
    pub validation_zone_id: Option<Input<String>>,
    /// How long create waits for `ISSUED` when it validates in a zone (1 to 4320).
    #[serde(default = "default_timeout")]
    pub validation_timeout_minutes: u32,
    /// The region to request it in (default: the configuration's). Replaces.
    #[serde(default)]
    pub region: Option<String>,
    /// The account's quota of names per certificate (ACM's default is 10; it can be raised
    /// to 100).
    #[serde(default = "default_quota")]
    pub domain_names_quota: u32,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_timeout() -> u32 {
    45
}

fn default_quota() -> u32 {
    10
}

impl Certificate {
    /// A DNS-validated certificate for `domain_name`.
    pub fn dns(domain_name: impl Into<String>) -> CertificateArgs {
        CertificateArgs {
            domain_name: domain_name.into(),
            subject_alternative_names: Vec::new(),
            validation_method: ValidationMethod::Dns,
            validation_zone_id: None,
            validation_timeout_minutes: default_timeout(),
            region: None,
            domain_names_quota: default_quota(),
            tags: BTreeMap::new(),
        }
    }
}

impl CertificateArgs {
    /// Adds an alternative name.
    pub fn san(mut self, name: impl Into<String>) -> Self {
        self.subject_alternative_names.push(name.into());
        self
    }
    /// Adds `*.DOMAIN`.
    pub fn wildcard(self) -> Self {
        let w = format!("*.{}", self.domain_name);
        self.san(w)
    }
    /// Sets the validation method.
    pub fn validation_method(mut self, m: ValidationMethod) -> Self {
        self.validation_method = m;
        self
    }
    /// Writes the DNS validation records into Route 53 zone `zone_id` and waits for issue.
    pub fn validate_in_zone(mut self, zone_id: impl Into<Input<String>>) -> Self {
        self.validation_zone_id = Some(zone_id.into());
        self
    }
    /// Sets how long create waits for issue, in minutes.
    pub fn validation_timeout(mut self, minutes: u32) -> Self {
        self.validation_timeout_minutes = minutes;
        self
    }
    /// Requests it in `region`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
    /// Requests it in us-east-1, where CloudFront takes its certificates.
    pub fn for_cloudfront(self) -> Self {
        self.region(CLOUDFRONT_REGION)
    }
    /// Sets the account's quota of names per certificate.
    pub fn domain_names_quota(mut self, n: u32) -> Self {
        self.domain_names_quota = n;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for CertificateArgs {
    type Resource = Certificate;
}

/// A DNS record that proves control of a domain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ValidationRecord {
    /// The record name (`_x1.shop.example.com.`).
    pub name: String,
    /// The record type (`CNAME`).
    pub record_type: String,
    /// The value (`_x2.acm-validations.aws.`).
    pub value: String,
}

/// The outputs of a [`Certificate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateOutputs {
    /// The ARN (its id).
    pub arn: String,
    /// The ACM status when last read: `PENDING_VALIDATION`, `ISSUED`, `FAILED`, …
    pub status: String,
    /// The domain.
    pub domain_name: String,
    /// The DNS validation records, one per distinct name.
    pub validation_records: Vec<ValidationRecord>,
}

strata_core::outputs!(Certificate => CertificateHandle {
    /// The ARN.
    arn: String,
    /// The status when last read.
    status: String,
    /// The domain.
    domain_name: String,
    /// The DNS validation records.
    validation_records: Vec<ValidationRecord>,
});

/// The idempotency token ACM takes (`\w{1,32}`), from the engine's token.
pub(crate) fn idempotency_token(token: &str) -> String {
    let alnum: String = token.chars().filter(char::is_ascii_alphanumeric).collect();
    if !alnum.is_empty() && alnum.len() <= 32 {
        return alnum;
    }
    // Longer: two FNV-1a hashes of the whole token, 32 hex digits.
    let fnv = |seed: u64| {
        token.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}

fn region(a: Option<&CertificateArgs>) -> Option<&str> {
    a.and_then(|a| a.region.as_deref())
}

/// The validation records of `c`, deduplicated and sorted, and whether every name has one.
fn records(c: &CertificateDetail) -> (Vec<ValidationRecord>, bool) {
    let opts = c.domain_validation_options();
    let set: BTreeSet<ValidationRecord> = opts
        .iter()
        .filter_map(|o| o.resource_record())
        .map(|r| ValidationRecord {
            name: r.name().to_owned(),
            record_type: r.r#type().as_str().to_owned(),
            value: r.value().to_owned(),
        })
        .collect();
    let complete = !opts.is_empty() && opts.iter().all(|o| o.resource_record().is_some());
    (set.into_iter().collect(), complete)
}

fn outputs(c: &CertificateDetail) -> CertificateOutputs {
    CertificateOutputs {
        arn: c.certificate_arn().unwrap_or_default().to_owned(),
        status: c
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        domain_name: c.domain_name().unwrap_or_default().to_owned(),
        validation_records: records(c).0,
    }
}

fn not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

async fn describe(
    client: &aws_sdk_acm::Client,
    arn: &str,
) -> Result<Option<CertificateDetail>, ProviderError> {
    match client
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(o) => Ok(o.certificate().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("acm:DescribeCertificate")(e)),
    }
}

async fn wait_records(
    client: &aws_sdk_acm::Client,
    arn: &str,
) -> Result<CertificateDetail, ProviderError> {
    wait_for(
        format!("the DNS validation records of {arn}"),
        RECORDS_TIMEOUT,
        Duration::from_secs(5),
        || async {
            let c = describe(client, arn).await?;
            Ok(c.filter(|c| records(c).1))
        },
    )
    .await
}

async fn wait_issued(
    client: &aws_sdk_acm::Client,
    arn: &str,
    minutes: u32,
) -> Result<CertificateDetail, ProviderError> {
    wait_for(
        format!("certificate {arn} to be issued"),
        Duration::from_secs(u64::from(minutes) * 60),
        Duration::from_secs(10),
        || async {
            let Some(c) = describe(client, arn).await? else {
                return Err(ProviderError::NotFound(arn.to_owned()));
            };
            match c.status() {
                Some(CertificateStatus::Issued) => Ok(Some(c)),
                Some(CertificateStatus::PendingValidation) | None => Ok(None),
                Some(s) => Err(ProviderError::Api {
                    operation: "acm:DescribeCertificate".into(),
                    code: Some(s.as_str().to_owned()),
                    message: format!(
                        "certificate {arn} is {} ({})",
                        s.as_str(),
                        c.failure_reason()
                            .map(|r| r.as_str())
                            .unwrap_or("no reason given")
                    ),
                }),
            }
        },
    )
    .await
}

fn record_set(r: &ValidationRecord, ttl: i64) -> Result<ResourceRecordSet, ProviderError> {
    ResourceRecordSet::builder()
        .name(&r.name)
        .r#type(RrType::from(r.record_type.as_str()))
        .ttl(ttl)
        .resource_records(
            ResourceRecord::builder()
                .value(&r.value)
                .build()
                .map_err(|e| ProviderError::Other(e.to_string()))?,
        )
        .build()
        .map_err(|e| ProviderError::Other(e.to_string()))
}

async fn change(cx: &Cx<'_>, zone: &str, changes: Vec<Change>) -> Result<(), ProviderError> {
    if changes.is_empty() {
        return Ok(());
    }
    route53(cx)?
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .comment("ACM DNS validation (strata)")
                .set_changes(Some(changes))
                .build()
                .map_err(|e| ProviderError::Other(e.to_string()))?,
        )
        .send()
        .await
        .map_err(api_error("route53:ChangeResourceRecordSets"))?;
    Ok(())
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// The short mark (8 hex digits) of validation record `name` in `zone`, as the
/// [`RECORDS_TAG`] lists it.
fn mark(zone: &str, name: &str) -> String {
    let key = format!(
        "{}|{}",
        zone.trim_start_matches("/hostedzone/"),
        name.trim_end_matches('.').to_ascii_lowercase()
    );
    let h = key.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{h:08x}")
}

/// The marks a certificate's tags list.
fn marks_of(tags: &BTreeMap<String, String>) -> Vec<String> {
    tags.get(RECORDS_TAG)
        .map(|v| {
            v.split('.')
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The [`RECORDS_TAG`] value of `marks`: as many as fit in a tag value (28). A record
/// beyond those is left in the zone when the certificate goes.
fn marks_value(marks: &[String]) -> String {
    let mut v = String::new();
    for m in marks {
        if v.len() + 1 + m.len() > 256 {
            break;
        }
        if !v.is_empty() {
            v.push('.');
        }
        v.push_str(m);
    }
    v
}

/// Records what validation records of its zone the certificate `arn` answers for.
async fn set_marks(
    client: &aws_sdk_acm::Client,
    arn: &str,
    marks: &[String],
) -> Result<(), ProviderError> {
    let tag = Tag::builder().key(RECORDS_TAG);
    if marks.is_empty() {
        client
            .remove_tags_from_certificate()
            .certificate_arn(arn)
            .tags(
                tag.build()
                    .map_err(|e| ProviderError::Other(e.to_string()))?,
            )
            .send()
            .await
            .map_err(api_error("acm:RemoveTagsFromCertificate"))?;
    } else {
        client
            .add_tags_to_certificate()
            .certificate_arn(arn)
            .tags(
                tag.value(marks_value(marks))
                    .build()
                    .map_err(|e| ProviderError::Other(e.to_string()))?,
            )
            .send()
            .await
            .map_err(api_error("acm:AddTagsToCertificate"))?;
    }
    Ok(())
}

/// The record set of `zone` with the name and type of validation record `r`, if any;
/// `NotFound` when the zone is gone.
async fn live_record(
    r53: &aws_sdk_route53::Client,
    zone: &str,
    r: &ValidationRecord,
) -> Result<Option<ResourceRecordSet>, ProviderError> {
    let out = match r53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .start_record_name(&r.name)
        .start_record_type(RrType::from(r.record_type.as_str()))
        .max_items(1)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if e.code() == Some("NoSuchHostedZone") => {
            return Err(ProviderError::NotFound(format!("hosted zone {zone}")))
        }
        Err(e) => return Err(api_error("route53:ListResourceRecordSets")(e)),
    };
    Ok(out
        .resource_record_sets()
        .first()
        .filter(|live| same_name(live.name(), &r.name) && live.r#type().as_str() == r.record_type)
        .cloned())
}

/// Whether the live record set holds exactly validation record `r`'s value.
fn holds(live: &ResourceRecordSet, r: &ValidationRecord) -> bool {
    live.alias_target().is_none()
        && live.resource_records().len() == 1
        && live
            .resource_records()
            .iter()
            .all(|v| same_name(v.value(), &r.value))
}

/// Writes the validation records missing from `zone` (`CREATE`: a record set there is
/// never overwritten; one that points elsewhere fails the create), and returns the marks
/// of the records this certificate answers for, which its [`RECORDS_TAG`] then lists
/// (`tagged`: what it lists now). It answers for the records it writes, and for those
/// that are there already because another certificate of this stack wrote them and still
/// answers for them (the old half of a replace, or the same domain's certificate in
/// another region: ACM gives a domain the same record in every region of an account). A
/// record that was there for any other reason is never this certificate's.
///
/// The tag is set before the records are written, so that a certificate of the stack that
/// writes the same record at the same time (and loses: "already exists") finds the
/// writer's claim and answers for the record too.
async fn write_records(
    cx: &Cx<'_>,
    client: &aws_sdk_acm::Client,
    arn: &str,
    zone: &str,
    records: &[ValidationRecord],
    mut tagged: Vec<String>,
) -> Result<Vec<String>, ProviderError> {
    let r53 = route53(cx)?;
    let mut attempts = 0;
    loop {
        let (mut missing, mut present) = (Vec::new(), Vec::new());
        for r in records {
            match live_record(&r53, zone, r).await? {
                None => missing.push(r),
                Some(live) if holds(&live, r) => present.push(r),
                Some(_) => {
                    return Err(ProviderError::Invalid {
                        field: "validation_zone_id".into(),
                        message: format!(
                            "hosted zone {zone} has a {} record {} that does not point at {}; strata does not overwrite it",
                            r.record_type, r.name, r.value
                        ),
                    })
                }
            }
        }
        let mut inherited = Vec::new();
        if !present.is_empty() {
            let others = other_certificates(cx, arn).await?;
            for r in present {
                let m = mark(zone, &r.name);
                if claimed_in_stack(cx, &others, r, &m).await? {
                    inherited.push(m);
                }
            }
        }
        inherited.sort();
        inherited.dedup();
        let mut claim: Vec<String> = missing
            .iter()
            .map(|r| mark(zone, &r.name))
            .chain(inherited.iter().cloned())
            .collect();
        claim.sort();
        claim.dedup();
        if claim != tagged {
            set_marks(client, arn, &claim).await?;
            tagged.clone_from(&claim);
        }
        let changes = missing
            .iter()
            .map(|r| {
                Change::builder()
                    .action(ChangeAction::Create)
                    .resource_record_set(record_set(r, RECORD_TTL)?)
                    .build()
                    .map_err(|e| ProviderError::Other(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        match change(cx, zone, changes).await {
            Ok(()) => return Ok(claim),
            // Written meanwhile (by a certificate of the same domain): look again.
            Err(e) if record_exists(&e) && attempts < 3 => attempts += 1,
            Err(e) => {
                // Nothing was written: claim only what was found (best effort, the error
                // at hand is the one to report).
                if inherited != tagged {
                    let _ = set_marks(client, arn, &inherited).await;
                }
                return Err(e);
            }
        }
    }
}

/// Whether another certificate of this stack that validates with record `r` answers for
/// it (its [`RECORDS_TAG`] lists `m`): then this one may answer for it too.
async fn claimed_in_stack(
    cx: &Cx<'_>,
    others: &[(String, Vec<ValidationRecord>)],
    r: &ValidationRecord,
    m: &str,
) -> Result<bool, ProviderError> {
    for (other, used) in others {
        if !used
            .iter()
            .any(|u| same_name(&u.name, &r.name) && same_name(&u.value, &r.value))
        {
            continue;
        }
        let Some(tags) = tags_if_any(&acm(cx, arn_region(other))?, other).await? else {
            continue;
        };
        let same_stack = tags.get("strata:stack").map(String::as_str) == Some(cx.urn.stack());
        if same_stack && marks_of(&tags).iter().any(|t| t == m) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The regions whose certificates may validate with the same records as certificate
/// `arn`: its own, the configuration's, and us-east-1 (CloudFront's). ACM gives a domain
/// the same validation record in every region of an account.
fn sharing_regions(cx: &Cx<'_>, arn: &str) -> Vec<String> {
    let mut v: Vec<String> = [
        arn_region(arn).map(str::to_owned),
        cx.aws()
            .ok()
            .and_then(|c| c.region())
            .map(ToString::to_string),
        Some(CLOUDFRONT_REGION.to_owned()),
    ]
    .into_iter()
    .flatten()
    .collect();
    v.sort();
    v.dedup();
    v
}

/// A `ListCertificates` filter for every key type (it lists RSA 2048 only by default).
fn every_key_type() -> Filters {
    Filters::builder()
        .set_key_types(Some(
            KeyAlgorithm::values()
                .iter()
                .map(|k| KeyAlgorithm::from(*k))
                .collect(),
        ))
        .build()
}

/// The other certificates (not `arn`) that are pending validation or issued, in the
/// regions that share validation records with it ([`sharing_regions`]), with their
/// validation records.
async fn other_certificates(
    cx: &Cx<'_>,
    arn: &str,
) -> Result<Vec<(String, Vec<ValidationRecord>)>, ProviderError> {
    let mut seen = BTreeSet::new();
    let mut used = Vec::new();
    for region in sharing_regions(cx, arn) {
        let client = acm(cx, Some(region.as_str()))?;
        let mut others = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let out = client
                .list_certificates()
                .certificate_statuses(CertificateStatus::PendingValidation)
                .certificate_statuses(CertificateStatus::Issued)
                .includes(every_key_type())
                .set_next_token(next.take())
                .send()
                .await
                .map_err(api_error("acm:ListCertificates"))?;
            others.extend(
                out.certificate_summary_list()
                    .iter()
                    .filter_map(|s| s.certificate_arn())
                    .filter(|a| *a != arn && seen.insert(a.to_string()))
                    .map(str::to_owned),
            );
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                _ => break,
            }
        }
        for other in others {
            if let Some(c) = describe(&client, &other).await? {
                used.push((other, records(&c).0));
            }
        }
    }
    Ok(used)
}

/// Removes from `zone` the validation records this certificate answers for (`marks`),
/// where they still hold these values and no other certificate uses them (in the regions
/// that share records: [`sharing_regions`]).
/// A record that was in the zone before the certificate wrote its own is never removed.
async fn remove_records(
    cx: &Cx<'_>,
    arn: &str,
    zone: &str,
    records: &[ValidationRecord],
    marks: &[String],
) -> Result<(), ProviderError> {
    let ours: Vec<&ValidationRecord> = records
        .iter()
        .filter(|r| marks.contains(&mark(zone, &r.name)))
        .collect();
    if ours.is_empty() {
        return Ok(());
    }
    let used: Vec<ValidationRecord> = other_certificates(cx, arn)
        .await?
        .into_iter()
        .flat_map(|(_, r)| r)
        .collect();
    let r53 = route53(cx)?;
    for r in ours {
        if used
            .iter()
            .any(|u| same_name(&u.name, &r.name) && same_name(&u.value, &r.value))
        {
            continue;
        }
        let live = match live_record(&r53, zone, r).await {
            Ok(l) => l,
            Err(ProviderError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let Some(live) = live.filter(|l| holds(l, r)) else {
            continue;
        };
        let delete = Change::builder()
            .action(ChangeAction::Delete)
            .resource_record_set(live)
            .build()
            .map_err(|e| ProviderError::Other(e.to_string()))?;
        // One record a batch: a record that another certificate of the domain, going at
        // the same time, deleted first (or that changed meanwhile) is not this one's to
        // remove any more, and must not keep the others.
        match change(cx, zone, vec![delete]).await {
            Ok(()) => {}
            Err(ProviderError::Api {
                code: Some(c),
                message,
                ..
            }) if c == "InvalidChangeBatch"
                && (message.contains("not found") || message.contains("do not match")) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn acm_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::Other(e.to_string()))
        })
        .collect()
}

async fn all_tags(
    client: &aws_sdk_acm::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = client
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(api_error("acm:ListTagsForCertificate"))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
        .collect())
}

/// Every tag of certificate `arn`, or `None` when it is gone.
async fn tags_if_any(
    client: &aws_sdk_acm::Client,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
    match client
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(out) => Ok(Some(
            out.tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
                .collect(),
        )),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("acm:ListTagsForCertificate")(e)),
    }
}

/// Sorts the alternative names, so that their order is no change.
fn sorted_sans(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(Value::Array(a)) = v.get_mut("subject_alternative_names") {
        a.sort_by_key(ToString::to_string);
    }
    v
}

#[async_trait]
impl Resource for Certificate {
    const TYPE: &'static str = "aws:acm/certificate";
    const REPLACE_ON: &'static [&'static str] = &[
        "domain_name",
        "subject_alternative_names",
        "validation_method",
        "region",
    ];
    type Args = CertificateArgs;
    type Outputs = CertificateOutputs;

    fn validate(a: &CertificateArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(p) = domain_name_problem(&a.domain_name) {
            errs.push(FieldError::new("domain_name", p));
        } else if a.domain_name.len() > 64 {
            errs.push(FieldError::new(
                "domain_name",
                format!(
                    "{:?}: ACM's first domain name (the subject) has at most 64 characters; put longer names in subject_alternative_names",
                    a.domain_name
                ),
            ));
        }
        let mut seen = vec![a.domain_name.to_ascii_lowercase()];
        for (k, san) in a.subject_alternative_names.iter().enumerate() {
            let field = format!("subject_alternative_names.{k}");
            if let Some(p) = domain_name_problem(san) {
                errs.push(FieldError::new(field.clone(), p));
            }
            if seen.contains(&san.to_ascii_lowercase()) {
                errs.push(FieldError::new(field, format!("{san:?} is listed twice")));
            }
            seen.push(san.to_ascii_lowercase());
        }
        for (field, name) in std::iter::once(("domain_name".to_owned(), &a.domain_name)).chain(
            a.subject_alternative_names
                .iter()
                .enumerate()
                .map(|(k, s)| (format!("subject_alternative_names.{k}"), s)),
        ) {
            if name.chars().any(|c| c.is_ascii_uppercase()) {
                errs.push(FieldError::new(
                    field,
                    format!("{name:?}: write domain names in lowercase, as ACM reports them"),
                ));
            }
        }
        if !(1..=100).contains(&a.domain_names_quota) {
            errs.push(FieldError::new(
                "domain_names_quota",
                format!(
                    "{}: ACM's quota of names per certificate is 1 to 100",
                    a.domain_names_quota
                ),
            ));
        }
        let names = 1 + a.subject_alternative_names.len();
        if names > a.domain_names_quota as usize {
            errs.push(FieldError::new(
                "subject_alternative_names",
                format!(
                    "{names} domain names: the quota is {} per certificate (ACM's default is 10; raise it and set domain_names_quota)",
                    a.domain_names_quota
                ),
            ));
        }
        if a.validation_zone_id.is_some() && a.validation_method != ValidationMethod::Dns {
            errs.push(FieldError::new(
                "validation_zone_id",
                "validation records in a zone need DNS validation",
            ));
        }
        if let Some(z) = a.validation_zone_id.as_ref().and_then(Input::known) {
            let id = z.trim_start_matches("/hostedzone/");
            if id.is_empty() || id.len() > 32 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                errs.push(FieldError::new(
                    "validation_zone_id",
                    format!("{z:?} is not a Route 53 hosted zone id"),
                ));
            }
        }
        if !(1..=72 * 60).contains(&a.validation_timeout_minutes) {
            errs.push(FieldError::new(
                "validation_timeout_minutes",
                format!(
                    "{} minutes: 1 to 4320 (ACM gives up on DNS validation after 72 hours)",
                    a.validation_timeout_minutes
                ),
            ));
        }
        if let Some(r) = &a.region {
            check_region(&mut errs, "region", r);
        }
        errs.extend(check_tags(&a.tags));
        if a.validation_zone_id.is_some() && a.tags.len() > 46 {
            errs.push(FieldError::new(
                "tags",
                format!(
                    "{} tags: a certificate validated in a zone takes at most 46 (ACM allows 50, and strata adds 4 of its own)",
                    a.tags.len()
                ),
            ));
        }
        errs
    }

    fn diff(old: &Value, new: &Value) -> Vec<PropertyChange> {
        diff_values(&sorted_sans(old), &sorted_sans(new), Self::REPLACE_ON)
    }

    fn estimate(a: &CertificateArgs) -> Duration {
        if a.validation_zone_id.is_some() {
            Duration::from_secs(300)
        } else {
            Duration::from_secs(10)
        }
    }

    async fn create(
        cx: &Cx<'_>,
        a: &CertificateArgs,
    ) -> Result<Created<CertificateOutputs>, ProviderError> {
        let client = acm(cx, a.region.as_deref())?;
        let token = idempotency_token(cx.token);
        let out = client
            .request_certificate()
            .domain_name(&a.domain_name)
            .set_subject_alternative_names(
                (!a.subject_alternative_names.is_empty())
                    .then(|| a.subject_alternative_names.clone()),
            )
            .validation_method(match a.validation_method {
                ValidationMethod::Dns => AwsMethod::Dns,
                ValidationMethod::Email => AwsMethod::Email,
            })
            .set_idempotency_token((!token.is_empty()).then_some(token))
            .set_tags(Some(acm_tags(cx.create_tags(&a.tags))?))
            .send()
            .await
            .map_err(api_error("acm:RequestCertificate"))?;
        let arn = out
            .certificate_arn()
            .ok_or_else(|| ProviderError::Other("RequestCertificate returned no ARN".into()))?
            .to_owned();
        let mut detail = if a.validation_method == ValidationMethod::Dns {
            wait_records(&client, &arn).await?
        } else {
            describe(&client, &arn)
                .await?
                .ok_or_else(|| ProviderError::NotFound(arn.clone()))?
        };
        if let Some(zone) = &a.validation_zone_id {
            write_records(
                cx,
                &client,
                &arn,
                zone.value()?,
                &records(&detail).0,
                Vec::new(),
            )
            .await?;
            detail = wait_issued(&client, &arn, a.validation_timeout_minutes).await?;
        }
        Ok(Created {
            outputs: outputs(&detail),
            id: arn,
        })
    }

    /// Found again among the region's certificates for the domain by its `strata:token`
    /// tag (set in the request itself, with the `IdempotencyToken`); the `strata:urn` tag
    /// alone is not enough (the old half of a replace carries it too).
    async fn recover(
        cx: &Cx<'_>,
        a: &CertificateArgs,
    ) -> Result<Recovery<CertificateOutputs>, ProviderError> {
        let client = acm(cx, a.region.as_deref())?;
        let mut next: Option<String> = None;
        loop {
            let out = client
                .list_certificates()
                .includes(every_key_type())
                .set_next_token(next.take())
                .send()
                .await
                .map_err(api_error("acm:ListCertificates"))?;
            for s in out.certificate_summary_list() {
                let Some(arn) = s.certificate_arn() else {
                    continue;
                };
                if s.domain_name() != Some(a.domain_name.as_str()) {
                    continue;
                }
                let tags = all_tags(&client, arn).await?;
                if cx.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                    let Some(c) = describe(&client, arn).await? else {
                        continue;
                    };
                    return Ok(Recovery::Found(Created {
                        outputs: outputs(&c),
                        id: arn.to_owned(),
                    }));
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                _ => return Ok(Recovery::Absent),
            }
        }
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&CertificateArgs>,
    ) -> Result<Option<Observed<CertificateArgs, CertificateOutputs>>, ProviderError> {
        let client = acm(cx, region(args))?;
        let Some(c) = describe(&client, id).await? else {
            return Ok(None);
        };
        let domain = c.domain_name().unwrap_or_default().to_owned();
        let live: Vec<String> = c
            .subject_alternative_names()
            .iter()
            .filter(|s| **s != domain)
            .cloned()
            .collect();
        let sans = match args {
            Some(a) if same_set(&a.subject_alternative_names, &live) => {
                a.subject_alternative_names.clone()
            }
            _ => live,
        };
        let validation_method = match c
            .domain_validation_options()
            .first()
            .and_then(|o| o.validation_method())
        {
            Some(AwsMethod::Email) => ValidationMethod::Email,
            Some(_) => ValidationMethod::Dns,
            None => args.map(|a| a.validation_method).unwrap_or_default(),
        };
        let tags = all_tags(&client, id)
            .await?
            .into_iter()
            .filter(|(k, _)| is_user_tag(k))
            .collect();
        Ok(Some(Observed {
            args: CertificateArgs {
                domain_name: domain,
                subject_alternative_names: sans,
                validation_method,
                // Not a property of the certificate: as declared.
                validation_zone_id: args.and_then(|a| a.validation_zone_id.clone()),
                validation_timeout_minutes: args
                    .map_or(default_timeout(), |a| a.validation_timeout_minutes),
                region: args.and_then(|a| a.region.clone()),
                domain_names_quota: args.map_or(default_quota(), |a| a.domain_names_quota),
                tags,
            },
            outputs: outputs(&c),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &CertificateArgs,
        new: &CertificateArgs,
        outputs: &CertificateOutputs,
    ) -> Result<CertificateOutputs, ProviderError> {
        let client = acm(cx, new.region.as_deref())?;
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            let keys = removed
                .into_iter()
                .map(|k| {
                    Tag::builder()
                        .key(k)
                        .build()
                        .map_err(|e| ProviderError::Other(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            client
                .remove_tags_from_certificate()
                .certificate_arn(id)
                .set_tags(Some(keys))
                .send()
                .await
                .map_err(api_error("acm:RemoveTagsFromCertificate"))?;
        }
        if !set.is_empty() {
            client
                .add_tags_to_certificate()
                .certificate_arn(id)
                .set_tags(Some(acm_tags(set)?))
                .send()
                .await
                .map_err(api_error("acm:AddTagsToCertificate"))?;
        }
        let old_zone = old.validation_zone_id.as_ref().and_then(|z| z.value().ok());
        let new_zone = new
            .validation_zone_id
            .as_ref()
            .map(|z| z.value().cloned())
            .transpose()?;
        let mut detail = describe(&client, id).await?;
        if old_zone != new_zone.as_ref() {
            let old_marks = tags_if_any(&client, id)
                .await?
                .map(|t| marks_of(&t))
                .unwrap_or_default();
            match (&new_zone, &detail) {
                (Some(zone), Some(c)) => {
                    write_records(cx, &client, id, zone, &records(c).0, old_marks.clone()).await?;
                    if c.status() == Some(&CertificateStatus::PendingValidation) {
                        detail =
                            Some(wait_issued(&client, id, new.validation_timeout_minutes).await?);
                    }
                }
                _ if !old_marks.is_empty() && detail.is_some() => {
                    set_marks(&client, id, &[]).await?;
                }
                _ => {}
            }
            if let Some(zone) = old_zone {
                remove_records(cx, id, zone, &outputs.validation_records, &old_marks).await?;
            }
        }
        Ok(detail.map_or_else(|| outputs.clone(), |c| self::outputs(&c)))
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        a: &CertificateArgs,
        outputs: &CertificateOutputs,
    ) -> Result<(), ProviderError> {
        let client = acm(cx, a.region.as_deref())?;
        // What validation records it answers for, read while it still exists.
        let marks = match &a.validation_zone_id {
            Some(_) => tags_if_any(&client, id)
                .await?
                .map(|t| marks_of(&t))
                .unwrap_or_default(),
            None => Vec::new(),
        };
        wait_for(
            format!("certificate {id} to be released by its users (ResourceInUseException)"),
            IN_USE_TIMEOUT,
            Duration::from_secs(10),
            || async {
                match client.delete_certificate().certificate_arn(id).send().await {
                    Ok(_) => Ok(Some(())),
                    Err(e) if not_found(&e) => Ok(Some(())),
                    Err(e) if e.code() == Some("ResourceInUseException") => Ok(None),
                    Err(e) => Err(api_error("acm:DeleteCertificate")(e)),
                }
            },
        )
        .await?;
        if let Some(zone) = &a.validation_zone_id {
            remove_records(cx, id, zone.value()?, &outputs.validation_records, &marks).await?;
        }
        Ok(())
    }
}
