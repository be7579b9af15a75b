//! `LogGroup`: a CloudWatch Logs log group, with its retention and KMS key.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, check_tags, tag_changes, user_tags};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::recovery_by_token;

/// The retentions CloudWatch Logs offers, in days (`PutRetentionPolicy`).
pub const RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// A CloudWatch Logs log group. The name replaces it; the retention (none: never expire),
/// the KMS key and the tags change in place (`PutRetentionPolicy` /
/// `DeleteRetentionPolicy`, `AssociateKmsKey` / `DisassociateKmsKey`, `TagResource` /
/// `UntagResource`).
///
/// ```
/// use strata_core::Stack;
/// use strata_observability::LogGroup;
/// let mut s = Stack::new("dev");
/// s.add("app-logs", LogGroup::new("/shop/app").retention(30).tag("tier", "app"));
/// ```
#[derive(Debug)]
pub struct LogGroup;

/// The args of a [`LogGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroupArgs {
    /// The name (1 to 512 of `a-z A-Z 0-9 _ - / . #`, not starting with `aws/`).
    pub name: String,
    /// How many days events are kept (one of [`RETENTION_DAYS`]); `None`: never expire.
    #[serde(default)]
    pub retention_in_days: Option<i32>,
    /// The ARN of the (symmetric) KMS key that encrypts the events.
    #[serde(default)]
    pub kms_key_id: Option<Input<String>>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl LogGroup {
    /// A log group `name` whose events never expire.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>) -> LogGroupArgs {
        LogGroupArgs {
            name: name.into(),
            retention_in_days: None,
            kms_key_id: None,
            tags: BTreeMap::new(),
        }
    }
}

impl LogGroupArgs {
    /// Keeps events `days` days.
    pub fn retention(mut self, days: i32) -> Self {
        self.retention_in_days = Some(days);
        self
    }
    /// Encrypts with this KMS key (its ARN).
    pub fn kms_key(mut self, key_arn: impl Into<Input<String>>) -> Self {
        self.kms_key_id = Some(key_arn.into());
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for LogGroupArgs {
    type Resource = LogGroup;
}

/// The outputs of a [`LogGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroupOutputs {
    /// The name (its id).
    pub name: String,
    /// The ARN, without the `:*` suffix (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME`).
    /// A [`crate::Trail`] takes it as is.
    pub arn: String,
}

strata_core::outputs!(LogGroup => LogGroupHandle {
    /// The name.
    name: String,
    /// The ARN (without `:*`).
    arn: String,
});

pub(crate) fn logs(cx: &Cx<'_>) -> Result<aws_sdk_cloudwatchlogs::Client, ProviderError> {
    cx.client(aws_sdk_cloudwatchlogs::Client::new)
}

fn not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

async fn describe(
    cx: &Cx<'_>,
    name: &str,
) -> Result<Option<aws_sdk_cloudwatchlogs::types::LogGroup>, ProviderError> {
    let client = logs(cx)?;
    let mut token = None;
    loop {
        let out = client
            .describe_log_groups()
            .log_group_name_prefix(name)
            .set_next_token(token)
            .send()
            .await
            .map_err(api_error("logs:DescribeLogGroups"))?;
        if let Some(g) = out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
        {
            return Ok(Some(g.clone()));
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(None),
        }
    }
}

/// The ARN without `:*`: `logGroupArn`, or `arn` stripped.
fn arn_of(g: &aws_sdk_cloudwatchlogs::types::LogGroup) -> String {
    g.log_group_arn()
        .map(str::to_owned)
        .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_owned()))
        .unwrap_or_default()
}

async fn tags_of(cx: &Cx<'_>, arn: &str) -> Result<HashMap<String, String>, ProviderError> {
    let out = logs(cx)?
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(api_error("logs:ListTagsForResource"))?;
    Ok(out.tags().cloned().unwrap_or_default())
}

#[async_trait]
impl Resource for LogGroup {
    const TYPE: &'static str = "aws:logs/log-group";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = LogGroupArgs;
    type Outputs = LogGroupOutputs;

    fn validate(a: &LogGroupArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let n = &a.name;
        if n.is_empty()
            || n.len() > 512
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c))
        {
            errs.push(FieldError::new(
                "name",
                format!("{n:?}: 1 to 512 of a-z, A-Z, 0-9, _ - / . #"),
            ));
        } else if n.starts_with("aws/") {
            errs.push(FieldError::new(
                "name",
                format!("{n:?}: the aws/ prefix is reserved for AWS's own log groups"),
            ));
        }
        if let Some(d) = a.retention_in_days {
            if !RETENTION_DAYS.contains(&d) {
                errs.push(FieldError::new(
                    "retention_in_days",
                    format!(
                        "{d} days: CloudWatch Logs offers {} (or none: never expire)",
                        RETENTION_DAYS.map(|d| d.to_string()).join(", ")
                    ),
                ));
            }
        }
        if let Some(k) = a.kms_key_id.as_ref().and_then(Input::known) {
            if !(crate::common::is_arn_of(k, "kms") && k.contains(":key/")) {
                errs.push(FieldError::new(
                    "kms_key_id",
                    format!("{k:?}: CloudWatch Logs takes the key's ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not an id or alias"),
                ));
            }
        }
        errs.extend(check_tags(&a.tags));
        errs
    }

    async fn create(
        cx: &Cx<'_>,
        a: &LogGroupArgs,
    ) -> Result<Created<LogGroupOutputs>, ProviderError> {
        let client = logs(cx)?;
        client
            .create_log_group()
            .log_group_name(&a.name)
            .set_kms_key_id(
                a.kms_key_id
                    .as_ref()
                    .map(|k| k.value().cloned())
                    .transpose()?,
            )
            .set_tags(Some(cx.create_tags(&a.tags).into_iter().collect()))
            .send()
            .await
            .map_err(api_error("logs:CreateLogGroup"))?;
        if let Some(days) = a.retention_in_days {
            client
                .put_retention_policy()
                .log_group_name(&a.name)
                .retention_in_days(days)
                .send()
                .await
                .map_err(api_error("logs:PutRetentionPolicy"))?;
        }
        let g = describe(cx, &a.name)
            .await?
            .ok_or_else(|| ProviderError::NotFound(format!("log group {}", a.name)))?;
        Ok(Created {
            id: a.name.clone(),
            outputs: LogGroupOutputs {
                name: a.name.clone(),
                arn: arn_of(&g),
            },
        })
    }

    /// `CreateLogGroup` refuses a taken name (`ResourceAlreadyExistsException`, which
    /// the engine sees as [`ProviderError::AlreadyExists`]) and takes the tags, token
    /// included, in the same call: a log group of that name is this create's only when it
    /// carries its `strata:token` tag.
    async fn recover(
        cx: &Cx<'_>,
        a: &LogGroupArgs,
    ) -> Result<Recovery<LogGroupOutputs>, ProviderError> {
        let found = match describe(cx, &a.name).await? {
            None => None,
            Some(g) => {
                let arn = arn_of(&g);
                let tags = tags_of(cx, &arn).await?.into_iter().collect();
                let created = Created {
                    id: a.name.clone(),
                    outputs: LogGroupOutputs {
                        name: a.name.clone(),
                        arn,
                    },
                };
                Some((created, tags))
            }
        };
        Ok(recovery_by_token(cx, "log group", found))
    }

    /// A log group with deletion protection on refuses `DeleteLogGroup`.
    async fn delete_blocker(
        cx: &Cx<'_>,
        id: &str,
        _: &LogGroupArgs,
        _: &LogGroupOutputs,
    ) -> Result<Option<FieldError>, ProviderError> {
        let Some(g) = describe(cx, id).await? else {
            return Ok(None);
        };
        Ok((g.deletion_protection_enabled() == Some(true)).then(|| {
            FieldError::new(
                "deletion_protection_enabled",
                format!(
                    "log group {id} has deletion protection on, so CloudWatch Logs refuses to \
                     delete it: turn it off first (logs:PutLogGroupDeletionProtection with \
                     DeletionProtectionEnabled=false, or the console), or keep the log group"
                ),
            )
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&LogGroupArgs>,
    ) -> Result<Option<Observed<LogGroupArgs, LogGroupOutputs>>, ProviderError> {
        let Some(g) = describe(cx, id).await? else {
            return Ok(None);
        };
        let arn = arn_of(&g);
        let tags = tags_of(cx, &arn).await?;
        let kms_key_id = match (g.kms_key_id(), args.and_then(|a| a.kms_key_id.as_ref())) {
            (Some(live), Some(declared)) if declared.known().map(String::as_str) == Some(live) => {
                Some(declared.clone())
            }
            (live, _) => live.map(|k| Input::Value(k.to_owned())),
        };
        Ok(Some(Observed {
            args: LogGroupArgs {
                name: id.to_owned(),
                retention_in_days: g.retention_in_days(),
                kms_key_id,
                tags: user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            },
            outputs: LogGroupOutputs {
                name: id.to_owned(),
                arn,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &LogGroupArgs,
        new: &LogGroupArgs,
        outputs: &LogGroupOutputs,
    ) -> Result<LogGroupOutputs, ProviderError> {
        let client = logs(cx)?;
        if old.retention_in_days != new.retention_in_days {
            match new.retention_in_days {
                Some(days) => {
                    client
                        .put_retention_policy()
                        .log_group_name(id)
                        .retention_in_days(days)
                        .send()
                        .await
                        .map_err(api_error("logs:PutRetentionPolicy"))?;
                }
                None => {
                    client
                        .delete_retention_policy()
                        .log_group_name(id)
                        .send()
                        .await
                        .map_err(api_error("logs:DeleteRetentionPolicy"))?;
                }
            }
        }
        if old.kms_key_id != new.kms_key_id {
            match &new.kms_key_id {
                Some(k) => {
                    client
                        .associate_kms_key()
                        .log_group_name(id)
                        .kms_key_id(k.value()?)
                        .send()
                        .await
                        .map_err(api_error("logs:AssociateKmsKey"))?;
                }
                None => {
                    client
                        .disassociate_kms_key()
                        .log_group_name(id)
                        .send()
                        .await
                        .map_err(api_error("logs:DisassociateKmsKey"))?;
                }
            }
        }
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_resource()
                .resource_arn(&outputs.arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("logs:UntagResource"))?;
        }
        if !set.is_empty() {
            client
                .tag_resource()
                .resource_arn(&outputs.arn)
                .set_tags(Some(set.into_iter().collect()))
                .send()
                .await
                .map_err(api_error("logs:TagResource"))?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &LogGroupArgs,
        _: &LogGroupOutputs,
    ) -> Result<(), ProviderError> {
        match logs(cx)?.delete_log_group().log_group_name(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("logs:DeleteLogGroup")(e)),
        }
    }
}
