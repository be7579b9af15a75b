//! `Trail`: a CloudTrail trail, and the bucket policy it needs.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudtrail::error::ProvideErrorMetadata;
use aws_sdk_cloudtrail::types::Tag;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use strata_core::aws::kms::{bucket_key_uses, check_key_uses, keys_at, KeyService, KeyUse};
use strata_core::aws::{api_error, check_tags, tag_changes, user_tags};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    StackView, Urn,
};

use crate::common::{is_arn_of, partition, recovery_by_token};

/// A CloudTrail trail: every API call of the account, delivered to an S3 bucket. By
/// default it covers all regions and the global services (IAM, STS, CloudFront),
/// validates its log files (digest files) and logs from creation (`StartLogging`).
///
/// The name replaces it; the bucket, key prefix, regions, global events, validation, KMS
/// key, CloudWatch Logs delivery and tags change in place (`UpdateTrail`, `AddTags` /
/// `RemoveTags`), and `logging` starts or stops it (`StartLogging` / `StopLogging`).
///
/// **The bucket.** CloudTrail checks, when the trail is created or its bucket changed, that
/// the bucket's policy lets it write: give the bucket [`bucket_policy`]. **Retention** of
/// the logs (the spec's 365 days) is not a trail setting: it is the audit bucket's
/// lifecycle rule (a `strata_data::Bucket` with `expire_after(365)`).
///
/// ```
/// use strata_core::Stack;
/// use strata_data::{Bucket, BucketHandle, LifecycleRule};
/// use strata_observability::{bucket_policy, Trail};
/// let mut s = Stack::new("prod");
/// let logs = s.add(
///     "audit-logs",
///     Bucket::new("shop-audit-logs")
///         .policy(bucket_policy("shop-audit-logs", "shop-audit", "123456789012", "eu-central-1"))
///         // The spec's 365-day retention of the audit logs.
///         .lifecycle(LifecycleRule::new("retention").expire_after(365)),
/// );
/// s.add("audit", Trail::new("shop-audit", logs.name()).tag("compliance", "audit"));
/// ```
#[derive(Debug)]
pub struct Trail;

/// Delivery of the trail's events to CloudWatch Logs as well.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailCloudWatchLogs {
    /// The log group's ARN ([`crate::LogGroupHandle::arn`]; strata appends the `:*`
    /// CloudTrail wants when it is missing).
    pub log_group_arn: Input<String>,
    /// The role CloudTrail assumes to write to it.
    pub role_arn: Input<String>,
}

/// The args of a [`Trail`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailArgs {
    /// The name (3 to 128 of `A-Z a-z 0-9 . _ -`, starting and ending with a letter or
    /// digit, no two separators in a row, not an IP address).
    pub name: String,
    /// The bucket the logs go to.
    pub s3_bucket_name: Input<String>,
    /// The key prefix in the bucket (up to 200 characters).
    #[serde(default)]
    pub s3_key_prefix: Option<String>,
    /// All regions (default `true`).
    #[serde(default = "yes")]
    pub multi_region: bool,
    /// Events of global services (IAM, STS, CloudFront) (default `true`; a multi-region
    /// trail must include them).
    #[serde(default = "yes")]
    pub include_global_service_events: bool,
    /// Log file integrity validation (digest files) (default `true`).
    #[serde(default = "yes")]
    pub log_file_validation: bool,
    /// The KMS key that encrypts the log files (SSE-KMS): a key id, key ARN, alias name or
    /// alias ARN.
    #[serde(default)]
    pub kms_key_id: Option<Input<String>>,
    /// Delivery to CloudWatch Logs as well.
    #[serde(default)]
    pub cloud_watch_logs: Option<TrailCloudWatchLogs>,
    /// Whether the trail logs (default `true`).
    #[serde(default = "yes")]
    pub logging: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

impl Trail {
    /// A logging, multi-region trail `name` with global service events and log file
    /// validation, delivering to `bucket`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, bucket: impl Into<Input<String>>) -> TrailArgs {
        TrailArgs {
            name: name.into(),
            s3_bucket_name: bucket.into(),
            s3_key_prefix: None,
            multi_region: true,
            include_global_service_events: true,
            log_file_validation: true,
            kms_key_id: None,
            cloud_watch_logs: None,
            logging: true,
            tags: BTreeMap::new(),
        }
    }
}

impl TrailArgs {
    /// Sets the key prefix in the bucket.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.s3_key_prefix = Some(prefix.into());
        self
    }
    /// Sets whether it covers all regions.
    pub fn multi_region(mut self, on: bool) -> Self {
        self.multi_region = on;
        self
    }
    /// Sets whether it includes global service events.
    pub fn global_service_events(mut self, on: bool) -> Self {
        self.include_global_service_events = on;
        self
    }
    /// Sets log file validation.
    pub fn log_file_validation(mut self, on: bool) -> Self {
        self.log_file_validation = on;
        self
    }
    /// Encrypts the log files with this KMS key.
    pub fn kms_key(mut self, key: impl Into<Input<String>>) -> Self {
        self.kms_key_id = Some(key.into());
        self
    }
    /// Delivers to a CloudWatch Logs log group as well, through `role_arn`.
    pub fn cloud_watch_logs(
        mut self,
        log_group_arn: impl Into<Input<String>>,
        role_arn: impl Into<Input<String>>,
    ) -> Self {
        self.cloud_watch_logs = Some(TrailCloudWatchLogs {
            log_group_arn: log_group_arn.into(),
            role_arn: role_arn.into(),
        });
        self
    }
    /// Sets whether it logs.
    pub fn logging(mut self, on: bool) -> Self {
        self.logging = on;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for TrailArgs {
    type Resource = Trail;
}

/// The outputs of a [`Trail`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailOutputs {
    /// The name (its id).
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// The region it was created in.
    pub home_region: String,
}

strata_core::outputs!(Trail => TrailHandle {
    /// The name.
    name: String,
    /// The ARN.
    arn: String,
    /// The home region.
    home_region: String,
});

/// The bucket policy CloudTrail needs to deliver trail `trail_name`'s logs to `bucket`
/// (without a key prefix): `s3:GetBucketAcl` on the bucket and `s3:PutObject` on
/// `AWSLogs/ACCOUNT/*` with the `bucket-owner-full-control` ACL, both for the CloudTrail
/// service principal and only on behalf of that trail (`aws:SourceArn`).
pub fn bucket_policy(bucket: &str, trail_name: &str, account_id: &str, region: &str) -> Value {
    bucket_policy_with_prefix(bucket, None, trail_name, account_id, region)
}

/// [`bucket_policy`] for a trail with a key prefix: objects go under
/// `PREFIX/AWSLogs/ACCOUNT/*`.
pub fn bucket_policy_with_prefix(
    bucket: &str,
    prefix: Option<&str>,
    trail_name: &str,
    account_id: &str,
    region: &str,
) -> Value {
    let p = partition(region);
    let trail_arn = format!("arn:{p}:cloudtrail:{region}:{account_id}:trail/{trail_name}");
    let objects = match prefix
        .map(|x| x.trim_matches('/'))
        .filter(|x| !x.is_empty())
    {
        Some(prefix) => format!("arn:{p}:s3:::{bucket}/{prefix}/AWSLogs/{account_id}/*"),
        None => format!("arn:{p}:s3:::{bucket}/AWSLogs/{account_id}/*"),
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": format!("arn:{p}:s3:::{bucket}"),
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {"StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "aws:SourceArn": trail_arn
                }}
            }
        ]
    })
}

pub(crate) fn cloudtrail(cx: &Cx<'_>) -> Result<aws_sdk_cloudtrail::Client, ProviderError> {
    cx.client(aws_sdk_cloudtrail::Client::new)
}

fn not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("TrailNotFoundException")
}

/// The log group ARN as CloudTrail wants it, with the `:*` stream wildcard.
fn log_group_arn(arn: &str) -> String {
    if arn.ends_with(":*") {
        arn.to_owned()
    } else {
        format!("{arn}:*")
    }
}

async fn get(
    cx: &Cx<'_>,
    name: &str,
) -> Result<Option<aws_sdk_cloudtrail::types::Trail>, ProviderError> {
    match cloudtrail(cx)?.get_trail().name(name).send().await {
        Ok(o) => Ok(o.trail().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("cloudtrail:GetTrail")(e)),
    }
}

async fn tags_of(cx: &Cx<'_>, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = cloudtrail(cx)?
        .list_tags()
        .resource_id_list(arn)
        .send()
        .await
        .map_err(api_error("cloudtrail:ListTags"))?;
    Ok(out
        .resource_tag_list()
        .iter()
        .flat_map(|r| r.tags_list())
        .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
        .collect())
}

fn trail_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| ProviderError::Other(e.to_string()))
}

fn outputs(name: &str, t: &aws_sdk_cloudtrail::types::Trail) -> TrailOutputs {
    TrailOutputs {
        name: name.to_owned(),
        arn: t.trail_arn().unwrap_or_default().to_owned(),
        home_region: t.home_region().unwrap_or_default().to_owned(),
    }
}

async fn set_logging(cx: &Cx<'_>, name: &str, on: bool) -> Result<(), ProviderError> {
    let client = cloudtrail(cx)?;
    if on {
        client
            .start_logging()
            .name(name)
            .send()
            .await
            .map_err(api_error("cloudtrail:StartLogging"))?;
    } else {
        client
            .stop_logging()
            .name(name)
            .send()
            .await
            .map_err(api_error("cloudtrail:StopLogging"))?;
    }
    Ok(())
}

/// Whether the live KMS key (always a key ARN) is the declared one: the same ARN, its key
/// id, or an alias (which only KMS could resolve; taken as the same).
fn same_key(declared: &str, live: &str) -> bool {
    declared == live
        || live.ends_with(&format!("/{declared}"))
        || declared.starts_with("alias/")
        || declared.contains(":alias/")
}

#[async_trait]
impl Resource for Trail {
    const TYPE: &'static str = "aws:cloudtrail/trail";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = TrailArgs;
    type Outputs = TrailOutputs;

    /// The trail's key (or, without one, the key of its bucket's default encryption)
    /// must let CloudTrail use it: otherwise no log file is ever written.
    fn check_stack(stack: &StackView<'_>) -> Vec<(Urn, FieldError)> {
        let mut uses = Vec::new();
        for trail in stack.of_type(Self::TYPE) {
            let name = trail.urn().name();
            for key in keys_at(stack, &trail, "kms_key_id") {
                uses.push(KeyUse {
                    key,
                    service: KeyService::CloudTrail,
                    why: format!("trail {name} encrypts its log files with this key"),
                });
            }
            // A trail with a key of its own writes with it, not the bucket's default.
            if trail.is_set("kms_key_id") {
                continue;
            }
            uses.extend(bucket_key_uses(
                stack,
                &trail,
                "s3_bucket_name",
                KeyService::CloudTrail,
                &format!("trail {name}"),
            ));
        }
        check_key_uses(stack, uses)
    }

    fn validate(a: &TrailArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let n = &a.name;
        let separators = |c: char| ".-_".contains(c);
        let problem = if n.len() < 3 || n.len() > 128 {
            Some("3 to 128 characters")
        } else if !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || separators(c))
        {
            Some("only A-Z, a-z, 0-9, ., _ and -")
        } else if !n.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !n.ends_with(|c: char| c.is_ascii_alphanumeric())
        {
            Some("it starts and ends with a letter or a digit")
        } else if n
            .as_bytes()
            .windows(2)
            .any(|w| separators(char::from(w[0])) && separators(char::from(w[1])))
        {
            Some("no two of . _ - in a row")
        } else if n.parse::<std::net::Ipv4Addr>().is_ok() {
            Some("it cannot look like an IP address")
        } else {
            None
        };
        if let Some(p) = problem {
            errs.push(FieldError::new("name", format!("{n:?}: {p}")));
        }
        if let Some(b) = a.s3_bucket_name.known() {
            if b.len() < 3 || b.len() > 63 {
                errs.push(FieldError::new(
                    "s3_bucket_name",
                    format!("{b:?} is not a bucket name"),
                ));
            }
        }
        if a.s3_key_prefix.as_ref().is_some_and(|p| p.len() > 200) {
            errs.push(FieldError::new(
                "s3_key_prefix",
                "a key prefix has at most 200 characters",
            ));
        }
        if a.multi_region && !a.include_global_service_events {
            errs.push(FieldError::new(
                "include_global_service_events",
                "a multi-region trail must include global service events",
            ));
        }
        if a.kms_key_id
            .as_ref()
            .and_then(Input::known)
            .is_some_and(|k| k.trim().is_empty())
        {
            errs.push(FieldError::new(
                "kms_key_id",
                "an empty key: name a key (id, ARN, alias), or none",
            ));
        }
        if let Some(c) = &a.cloud_watch_logs {
            if let Some(g) = c.log_group_arn.known() {
                if !(is_arn_of(g, "logs") && g.contains(":log-group:")) {
                    errs.push(FieldError::new(
                        "cloud_watch_logs.log_group_arn",
                        format!("{g:?} is not a log group ARN"),
                    ));
                }
            }
            if let Some(r) = c.role_arn.known() {
                if !(is_arn_of(r, "iam") && r.contains(":role/")) {
                    errs.push(FieldError::new(
                        "cloud_watch_logs.role_arn",
                        format!("{r:?} is not an IAM role ARN"),
                    ));
                }
            }
        }
        errs.extend(check_tags(&a.tags));
        errs
    }

    /// `CreateTrail` refuses a taken name (`TrailAlreadyExistsException`). The name is
    /// also checked first (`GetTrail`, which also sees another region's multi-region trail
    /// of that name), so that no API that overwrites a trail of the same name (moto's does)
    /// can change somebody else's.
    async fn create(cx: &Cx<'_>, a: &TrailArgs) -> Result<Created<TrailOutputs>, ProviderError> {
        if get(cx, &a.name).await?.is_some() {
            return Err(ProviderError::AlreadyExists {
                operation: "cloudtrail:CreateTrail".to_owned(),
                message: format!("a trail named {} already exists", a.name),
            });
        }
        let (cwl_group, cwl_role) = match &a.cloud_watch_logs {
            Some(c) => (
                Some(log_group_arn(c.log_group_arn.value()?)),
                Some(c.role_arn.value()?.clone()),
            ),
            None => (None, None),
        };
        let out = cloudtrail(cx)?
            .create_trail()
            .name(&a.name)
            .s3_bucket_name(a.s3_bucket_name.value()?)
            .set_s3_key_prefix(a.s3_key_prefix.clone())
            .is_multi_region_trail(a.multi_region)
            .include_global_service_events(a.include_global_service_events)
            .enable_log_file_validation(a.log_file_validation)
            .set_kms_key_id(
                a.kms_key_id
                    .as_ref()
                    .map(|k| k.value().cloned())
                    .transpose()?,
            )
            .set_cloud_watch_logs_log_group_arn(cwl_group)
            .set_cloud_watch_logs_role_arn(cwl_role)
            .set_tags_list(Some(trail_tags(cx.create_tags(&a.tags))?))
            .send()
            .await
            .map_err(api_error("cloudtrail:CreateTrail"))?;
        if a.logging {
            set_logging(cx, &a.name, true).await?;
        }
        let region = cx
            .aws()
            .ok()
            .and_then(|c| c.region().map(ToString::to_string));
        Ok(Created {
            id: a.name.clone(),
            outputs: TrailOutputs {
                name: a.name.clone(),
                arn: out.trail_arn().unwrap_or_default().to_owned(),
                home_region: region.unwrap_or_default(),
            },
        })
    }

    /// Found again by its name, if it carries this create's `strata:token` tag (which
    /// `CreateTrail` sets with the trail, in one call). Another region's trail of that
    /// name (a multi-region trail's shadow) is not this create's.
    async fn recover(cx: &Cx<'_>, a: &TrailArgs) -> Result<Recovery<TrailOutputs>, ProviderError> {
        let region = cx
            .aws()
            .ok()
            .and_then(|c| c.region().map(ToString::to_string));
        let found = match get(cx, &a.name).await? {
            None => None,
            Some(t)
                if region
                    .as_deref()
                    .zip(t.home_region())
                    .is_some_and(|(ours, home)| ours != home) =>
            {
                None
            }
            Some(t) => {
                let out = outputs(&a.name, &t);
                let tags = tags_of(cx, &out.arn).await?;
                Some((
                    Created {
                        id: a.name.clone(),
                        outputs: out,
                    },
                    tags,
                ))
            }
        };
        Ok(recovery_by_token(cx, "trail", found))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&TrailArgs>,
    ) -> Result<Option<Observed<TrailArgs, TrailOutputs>>, ProviderError> {
        let Some(t) = get(cx, id).await? else {
            return Ok(None);
        };
        let out = outputs(id, &t);
        let tags = tags_of(cx, &out.arn).await?;
        let status = cloudtrail(cx)?
            .get_trail_status()
            .name(id)
            .send()
            .await
            .map_err(api_error("cloudtrail:GetTrailStatus"))?;
        let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        let bucket = t.s3_bucket_name().unwrap_or_default().to_owned();
        let s3_bucket_name = match args {
            Some(a) if a.s3_bucket_name.known() == Some(&bucket) => a.s3_bucket_name.clone(),
            _ => Input::Value(bucket),
        };
        let kms_key_id = match (
            nonempty(t.kms_key_id()),
            args.and_then(|a| a.kms_key_id.as_ref()),
        ) {
            (Some(live), Some(d)) if d.known().is_some_and(|d| same_key(d, &live)) => {
                Some(d.clone())
            }
            (live, _) => live.map(Input::Value),
        };
        let cloud_watch_logs = match (
            nonempty(t.cloud_watch_logs_log_group_arn()),
            nonempty(t.cloud_watch_logs_role_arn()),
        ) {
            (Some(group), Some(role)) => {
                Some(match args.and_then(|a| a.cloud_watch_logs.as_ref()) {
                    Some(d)
                        if d.log_group_arn.known().map(|g| log_group_arn(g))
                            == Some(group.clone())
                            && d.role_arn.known() == Some(&role) =>
                    {
                        d.clone()
                    }
                    _ => TrailCloudWatchLogs {
                        log_group_arn: Input::Value(group),
                        role_arn: Input::Value(role),
                    },
                })
            }
            _ => None,
        };
        Ok(Some(Observed {
            args: TrailArgs {
                name: id.to_owned(),
                s3_bucket_name,
                s3_key_prefix: nonempty(t.s3_key_prefix()),
                multi_region: t.is_multi_region_trail().unwrap_or(false),
                include_global_service_events: t.include_global_service_events().unwrap_or(false),
                log_file_validation: t.log_file_validation_enabled().unwrap_or(false),
                kms_key_id,
                cloud_watch_logs,
                logging: status.is_logging().unwrap_or(false),
                tags: user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            },
            outputs: out,
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &TrailArgs,
        new: &TrailArgs,
        outputs: &TrailOutputs,
    ) -> Result<TrailOutputs, ProviderError> {
        let client = cloudtrail(cx)?;
        let settings = |a: &TrailArgs| {
            let mut a = a.clone();
            a.tags.clear();
            a.logging = true;
            serde_json::to_value(a).ok()
        };
        if settings(old) != settings(new) {
            // Empty strings remove a prefix, a key and the CloudWatch Logs delivery.
            let (group, role) = match &new.cloud_watch_logs {
                Some(c) => (
                    log_group_arn(c.log_group_arn.value()?),
                    c.role_arn.value()?.clone(),
                ),
                None => (String::new(), String::new()),
            };
            let key = match &new.kms_key_id {
                Some(k) => k.value()?.clone(),
                None => String::new(),
            };
            client
                .update_trail()
                .name(id)
                .s3_bucket_name(new.s3_bucket_name.value()?)
                .s3_key_prefix(new.s3_key_prefix.clone().unwrap_or_default())
                .is_multi_region_trail(new.multi_region)
                .include_global_service_events(new.include_global_service_events)
                .enable_log_file_validation(new.log_file_validation)
                .kms_key_id(key)
                .cloud_watch_logs_log_group_arn(group)
                .cloud_watch_logs_role_arn(role)
                .send()
                .await
                .map_err(api_error("cloudtrail:UpdateTrail"))?;
        }
        if old.logging != new.logging {
            set_logging(cx, id, new.logging).await?;
        }
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .remove_tags()
                .resource_id(&outputs.arn)
                .set_tags_list(Some(
                    removed
                        .into_iter()
                        .map(|k| Tag::builder().key(k).build())
                        .collect::<Result<_, _>>()
                        .map_err(|e| ProviderError::Other(e.to_string()))?,
                ))
                .send()
                .await
                .map_err(api_error("cloudtrail:RemoveTags"))?;
        }
        if !set.is_empty() {
            client
                .add_tags()
                .resource_id(&outputs.arn)
                .set_tags_list(Some(trail_tags(set)?))
                .send()
                .await
                .map_err(api_error("cloudtrail:AddTags"))?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &TrailArgs,
        _: &TrailOutputs,
    ) -> Result<(), ProviderError> {
        match cloudtrail(cx)?.delete_trail().name(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("cloudtrail:DeleteTrail")(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_policy_lets_only_this_trail_write() {
        let p = bucket_policy("audit", "shop-audit", "123456789012", "eu-central-1");
        let trail = "arn:aws:cloudtrail:eu-central-1:123456789012:trail/shop-audit";
        assert_eq!(p["Statement"][0]["Action"], "s3:GetBucketAcl");
        assert_eq!(p["Statement"][0]["Resource"], "arn:aws:s3:::audit");
        assert_eq!(p["Statement"][1]["Action"], "s3:PutObject");
        assert_eq!(
            p["Statement"][1]["Resource"],
            "arn:aws:s3:::audit/AWSLogs/123456789012/*"
        );
        for s in 0..2 {
            assert_eq!(
                p["Statement"][s]["Condition"]["StringEquals"]["aws:SourceArn"],
                trail
            );
        }
        assert_eq!(
            p["Statement"][1]["Condition"]["StringEquals"]["s3:x-amz-acl"],
            "bucket-owner-full-control"
        );
        let p = bucket_policy_with_prefix("audit", Some("/trail/"), "t", "1", "cn-north-1");
        assert_eq!(
            p["Statement"][1]["Resource"],
            "arn:aws-cn:s3:::audit/trail/AWSLogs/1/*"
        );
    }
}
