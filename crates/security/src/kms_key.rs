//! `KmsKey`: a customer managed KMS key, with annual rotation and a key policy.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_kms::types::{KeySpec as AwsKeySpec, KeyState, KeyUsageType, Tag};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{check_policy, check_tags, create_tags, parse_policy, tag_changes, user_tags};
use crate::key_policy::KeyPolicy;

/// A customer managed key (CMK). Rotation is on by default (every 365 days, as the
/// platform requires); deletion schedules the key for deletion after a waiting period.
///
/// ```
/// use strata_core::Stack;
/// use strata_security::{KmsKey, KmsKeyHandle};
/// let mut s = Stack::new("dev");
/// let rds = s.add("rds-key", KmsKey::new("RDS storage"));
/// let _arn = rds.arn();
/// ```
#[derive(Debug)]
pub struct KmsKey;

/// What the key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyUsage {
    /// Symmetric encryption (data stores, envelope encryption).
    #[default]
    EncryptDecrypt,
    /// Signatures.
    SignVerify,
    /// HMAC.
    GenerateVerifyMac,
}

/// The key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySpec {
    /// AES-256-GCM.
    #[default]
    SymmetricDefault,
    /// RSA 2048.
    Rsa2048,
    /// ECC P-256.
    EccNistP256,
    /// HMAC SHA-256.
    Hmac256,
}

/// The args of a [`KmsKey`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsKeyArgs {
    /// The description.
    pub description: String,
    /// What the key is for.
    pub key_usage: KeyUsage,
    /// The key material.
    pub key_spec: KeySpec,
    /// Whether the key material rotates automatically (symmetric keys only).
    pub enable_key_rotation: bool,
    /// Days between rotations (90 to 2560; default 365).
    pub rotation_period_days: i32,
    /// The key policy (default: AWS's, which lets the account's IAM policies decide).
    #[serde(default)]
    pub policy: Option<Value>,
    /// Days between `delete` and the key's deletion (7 to 30).
    pub deletion_window_days: i32,
    /// A multi-Region primary key.
    #[serde(default)]
    pub multi_region: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl KmsKey {
    /// A symmetric encryption key, rotated every 365 days, deleted 30 days after `delete`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(description: impl Into<String>) -> KmsKeyArgs {
        KmsKeyArgs {
            description: description.into(),
            key_usage: KeyUsage::EncryptDecrypt,
            key_spec: KeySpec::SymmetricDefault,
            enable_key_rotation: true,
            rotation_period_days: 365,
            policy: None,
            deletion_window_days: 30,
            multi_region: false,
            tags: BTreeMap::new(),
        }
    }
}

impl KmsKeyArgs {
    /// Sets whether the key rotates, and how often.
    pub fn rotation(mut self, on: bool, period_days: i32) -> Self {
        self.enable_key_rotation = on;
        self.rotation_period_days = period_days;
        self
    }
    /// Sets the key policy.
    pub fn policy(mut self, policy: Value) -> Self {
        self.policy = Some(policy);
        self
    }
    /// Sets the key policy from a typed [`KeyPolicy`]: the account's root, and the AWS
    /// services that use the key for the account.
    pub fn key_policy(mut self, policy: KeyPolicy) -> Self {
        self.policy = Some(policy.to_value());
        self
    }
    /// Sets the deletion waiting period.
    pub fn deletion_window(mut self, days: i32) -> Self {
        self.deletion_window_days = days;
        self
    }
    /// Sets usage and spec.
    pub fn spec(mut self, usage: KeyUsage, spec: KeySpec) -> Self {
        self.key_usage = usage;
        self.key_spec = spec;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for KmsKeyArgs {
    type Resource = KmsKey;
}

/// The outputs of a [`KmsKey`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsKeyOutputs {
    /// The key id.
    pub id: String,
    /// The key ARN (what data stores take).
    pub arn: String,
}

strata_core::outputs!(KmsKey => KmsKeyHandle {
    /// The key id.
    id: String,
    /// The key ARN.
    arn: String,
});

pub(crate) fn kms(cx: &Cx<'_>) -> Result<aws_sdk_kms::Client, ProviderError> {
    cx.client(aws_sdk_kms::Client::new)
}

fn tags(map: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    map.iter()
        .map(|(k, v)| {
            Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| ProviderError::Other(e.to_string()))
        })
        .collect()
}

fn not_found<E: aws_sdk_kms::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("NotFoundException")
}

async fn live_tags(
    client: &aws_sdk_kms::Client,
    id: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = client
        .list_resource_tags()
        .key_id(id)
        .send()
        .await
        .map_err(api_error("kms:ListResourceTags"))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
        .collect())
}

async fn set_rotation(
    client: &aws_sdk_kms::Client,
    id: &str,
    args: &KmsKeyArgs,
) -> Result<(), ProviderError> {
    if args.enable_key_rotation {
        client
            .enable_key_rotation()
            .key_id(id)
            .rotation_period_in_days(args.rotation_period_days)
            .send()
            .await
            .map_err(api_error("kms:EnableKeyRotation"))?;
    } else {
        client
            .disable_key_rotation()
            .key_id(id)
            .send()
            .await
            .map_err(api_error("kms:DisableKeyRotation"))?;
    }
    Ok(())
}

#[async_trait]
impl Resource for KmsKey {
    const TYPE: &'static str = "aws:kms/key";
    const REPLACE_ON: &'static [&'static str] = &["key_usage", "key_spec", "multi_region"];
    type Args = KmsKeyArgs;
    type Outputs = KmsKeyOutputs;

    fn validate(args: &KmsKeyArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        if args.description.len() > 8192 {
            errs.push(FieldError::new("description", "at most 8192 characters"));
        }
        if !(7..=30).contains(&args.deletion_window_days) {
            errs.push(FieldError::new(
                "deletion_window_days",
                format!("{} days: AWS waits 7 to 30", args.deletion_window_days),
            ));
        }
        if args.enable_key_rotation {
            if args.key_spec != KeySpec::SymmetricDefault {
                errs.push(FieldError::new(
                    "enable_key_rotation",
                    "only symmetric encryption keys rotate automatically",
                ));
            }
            if !(90..=2560).contains(&args.rotation_period_days) {
                errs.push(FieldError::new(
                    "rotation_period_days",
                    format!(
                        "{} days: AWS rotates every 90 to 2560",
                        args.rotation_period_days
                    ),
                ));
            }
        }
        let usage_fits = match args.key_spec {
            KeySpec::SymmetricDefault => args.key_usage == KeyUsage::EncryptDecrypt,
            KeySpec::Hmac256 => args.key_usage == KeyUsage::GenerateVerifyMac,
            KeySpec::Rsa2048 => args.key_usage != KeyUsage::GenerateVerifyMac,
            KeySpec::EccNistP256 => args.key_usage == KeyUsage::SignVerify,
        };
        if !usage_fits {
            errs.push(FieldError::new(
                "key_usage",
                format!(
                    "{:?} keys cannot be used for {:?}",
                    args.key_spec, args.key_usage
                ),
            ));
        }
        if let Some(p) = &args.policy {
            errs.extend(check_policy("policy", p));
        }
        errs
    }

    fn estimate(_: &KmsKeyArgs) -> Duration {
        Duration::from_secs(3)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &KmsKeyArgs,
    ) -> Result<Created<KmsKeyOutputs>, ProviderError> {
        let client = kms(cx)?;
        let out = client
            .create_key()
            .description(&args.description)
            .key_usage(match args.key_usage {
                KeyUsage::EncryptDecrypt => KeyUsageType::EncryptDecrypt,
                KeyUsage::SignVerify => KeyUsageType::SignVerify,
                KeyUsage::GenerateVerifyMac => KeyUsageType::GenerateVerifyMac,
            })
            .key_spec(match args.key_spec {
                KeySpec::SymmetricDefault => AwsKeySpec::SymmetricDefault,
                KeySpec::Rsa2048 => AwsKeySpec::Rsa2048,
                KeySpec::EccNistP256 => AwsKeySpec::EccNistP256,
                KeySpec::Hmac256 => AwsKeySpec::Hmac256,
            })
            .multi_region(args.multi_region)
            .set_policy(args.policy.as_ref().map(Value::to_string))
            .set_tags(Some(tags(&create_tags(cx, &args.tags))?))
            .send()
            .await
            .map_err(api_error("kms:CreateKey"))?;
        let meta = out
            .key_metadata()
            .ok_or_else(|| ProviderError::Other("CreateKey returned no key".into()))?;
        let id = meta.key_id().to_owned();
        if args.enable_key_rotation {
            set_rotation(&client, &id, args).await?;
        }
        Ok(Created {
            outputs: KmsKeyOutputs {
                id: id.clone(),
                arn: meta.arn().unwrap_or_default().to_owned(),
            },
            id,
        })
    }

    /// A key has no name: `CreateKey` takes the tags, this create's `strata:token`
    /// included, in the same call, and the key carrying that token is this create's (its
    /// rotation is then set, as the create would have). KMS cannot search by tag: the
    /// account's keys are listed and their tags read. A key pending deletion is not
    /// adopted. When some key's tags could not be read (other than a key gone meanwhile)
    /// and no key carries the token, the answer is unknown: that error, not "absent".
    async fn recover(
        cx: &Cx<'_>,
        args: &KmsKeyArgs,
    ) -> Result<Recovery<KmsKeyOutputs>, ProviderError> {
        let client = kms(cx)?;
        let mut marker = None;
        let mut unreadable = None;
        loop {
            let page = client
                .list_keys()
                .set_marker(marker.take())
                .send()
                .await
                .map_err(api_error("kms:ListKeys"))?;
            for k in page.keys() {
                let Some(id) = k.key_id() else { continue };
                let t = match live_tags(&client, id).await {
                    Ok(t) => t,
                    // Gone meanwhile, or a key whose policy does not let this account
                    // read it (it cannot be one this create made: a created key's
                    // default policy lets the account in).
                    Err(ProviderError::Api { code: Some(c), .. })
                        if c == "NotFoundException" || c == "AccessDeniedException" =>
                    {
                        continue
                    }
                    Err(e) => {
                        if unreadable.is_none() {
                            unreadable = Some(e);
                        }
                        continue;
                    }
                };
                if !cx.owns(t.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                    continue;
                }
                let meta = client
                    .describe_key()
                    .key_id(id)
                    .send()
                    .await
                    .map_err(api_error("kms:DescribeKey"))?;
                if meta.key_metadata().is_none_or(|m| {
                    matches!(
                        m.key_state(),
                        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
                    )
                }) {
                    continue;
                }
                if args.enable_key_rotation {
                    set_rotation(&client, id, args).await?;
                }
                return Ok(Recovery::Found(Created {
                    outputs: KmsKeyOutputs {
                        id: id.to_owned(),
                        arn: k.key_arn().unwrap_or_default().to_owned(),
                    },
                    id: id.to_owned(),
                }));
            }
            match page.next_marker() {
                Some(m) if page.truncated() => marker = Some(m.to_owned()),
                _ => {
                    return match unreadable {
                        Some(e) => Err(e),
                        None => Ok(Recovery::Absent),
                    }
                }
            }
        }
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&KmsKeyArgs>,
    ) -> Result<Option<Observed<KmsKeyArgs, KmsKeyOutputs>>, ProviderError> {
        let client = kms(cx)?;
        let out = match client.describe_key().key_id(id).send().await {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(api_error("kms:DescribeKey")(e)),
        };
        let Some(m) = out.key_metadata() else {
            return Ok(None);
        };
        if matches!(
            m.key_state(),
            Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
        ) {
            return Ok(None);
        }
        let rotation = client
            .get_key_rotation_status()
            .key_id(id)
            .send()
            .await
            .map_err(api_error("kms:GetKeyRotationStatus"))?;
        // The policy is compared only when the program manages it (AWS writes a default).
        let policy = match args.and_then(|a| a.policy.as_ref()) {
            Some(_) => client
                .get_key_policy()
                .key_id(id)
                .policy_name("default")
                .send()
                .await
                .map_err(api_error("kms:GetKeyPolicy"))?
                .policy()
                .map(parse_policy),
            None => None,
        };
        let tags = live_tags(&client, id).await?;
        let enabled = rotation.key_rotation_enabled();
        Ok(Some(Observed {
            args: KmsKeyArgs {
                description: m.description().unwrap_or_default().to_owned(),
                key_usage: match m.key_usage() {
                    Some(KeyUsageType::SignVerify) => KeyUsage::SignVerify,
                    Some(KeyUsageType::GenerateVerifyMac) => KeyUsage::GenerateVerifyMac,
                    _ => KeyUsage::EncryptDecrypt,
                },
                key_spec: match m.key_spec() {
                    Some(AwsKeySpec::Rsa2048) => KeySpec::Rsa2048,
                    Some(AwsKeySpec::EccNistP256) => KeySpec::EccNistP256,
                    Some(AwsKeySpec::Hmac256) => KeySpec::Hmac256,
                    _ => KeySpec::SymmetricDefault,
                },
                enable_key_rotation: enabled,
                // The period only means something while rotation is on.
                rotation_period_days: match (enabled, rotation.rotation_period_in_days()) {
                    (true, Some(d)) => d,
                    _ => args.map_or(365, |a| a.rotation_period_days),
                },
                policy,
                // Not a property of the key: how `delete` schedules it.
                deletion_window_days: args.map_or(30, |a| a.deletion_window_days),
                multi_region: m.multi_region().unwrap_or(false),
                tags: user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            },
            outputs: KmsKeyOutputs {
                id: id.to_owned(),
                arn: m.arn().unwrap_or_default().to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &KmsKeyArgs,
        new: &KmsKeyArgs,
        outputs: &KmsKeyOutputs,
    ) -> Result<KmsKeyOutputs, ProviderError> {
        let client = kms(cx)?;
        if old.description != new.description {
            client
                .update_key_description()
                .key_id(id)
                .description(&new.description)
                .send()
                .await
                .map_err(api_error("kms:UpdateKeyDescription"))?;
        }
        if (old.enable_key_rotation, old.rotation_period_days)
            != (new.enable_key_rotation, new.rotation_period_days)
        {
            set_rotation(&client, id, new).await?;
        }
        if old.policy != new.policy {
            if let Some(p) = &new.policy {
                client
                    .put_key_policy()
                    .key_id(id)
                    .policy_name("default")
                    .policy(p.to_string())
                    .send()
                    .await
                    .map_err(api_error("kms:PutKeyPolicy"))?;
            }
        }
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_resource()
                .key_id(id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("kms:UntagResource"))?;
        }
        if !set.is_empty() {
            client
                .tag_resource()
                .key_id(id)
                .set_tags(Some(tags(&set)?))
                .send()
                .await
                .map_err(api_error("kms:TagResource"))?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        args: &KmsKeyArgs,
        _: &KmsKeyOutputs,
    ) -> Result<(), ProviderError> {
        match kms(cx)?
            .schedule_key_deletion()
            .key_id(id)
            .pending_window_in_days(args.deletion_window_days)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            // Already pending deletion.
            Err(e)
                if aws_sdk_kms::error::ProvideErrorMetadata::code(&e)
                    == Some("KMSInvalidStateException") =>
            {
                Ok(())
            }
            Err(e) => Err(api_error("kms:ScheduleKeyDeletion")(e)),
        }
    }
}
