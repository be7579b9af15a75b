//! `Secret`: a Secrets Manager secret, encrypted with a KMS key. Its value is a
//! [`strata_core::Secret`], sealed in state and redacted everywhere.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    Secret as SecretValue,
};

use crate::common::{check_tags, create_tags, tag_changes, taken_if, user_tags};

/// A Secrets Manager secret.
///
/// The value is either declared (`value`, a `strata_core::Secret<String>`, typically from
/// configuration) or generated once at create by Secrets Manager (`generate_password`).
/// While rotation is on, the live value is the rotation's business: refresh does not
/// report it as drift. `delete` schedules deletion after `recovery_window_days` (0:
/// delete at once).
///
/// ```
/// use strata_core::Stack;
/// use strata_security::{KmsKey, KmsKeyHandle, Secret};
/// let mut s = Stack::new("dev");
/// let key = s.add("secrets-key", KmsKey::new("secrets"));
/// s.add("payment-api-key", Secret::new("shop/payment-api-key").kms_key(key.arn()).value("sk_live_…"));
/// ```
#[derive(Debug)]
pub struct Secret;

/// The args of a [`Secret`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretArgs {
    /// The name (`shop/db-password`).
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// The KMS key that encrypts it (default: `aws/secretsmanager`).
    #[serde(default)]
    pub kms_key_id: Option<Input<String>>,
    /// The value.
    #[serde(default)]
    pub value: Option<Input<SecretValue<String>>>,
    /// Without a value: generate a password of this length at create.
    #[serde(default)]
    pub generate_password: Option<i64>,
    /// Days between `delete` and the deletion (0, or 7 to 30).
    pub recovery_window_days: i64,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Secret {
    /// A secret named `name`, with no value yet and a 30-day recovery window.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>) -> SecretArgs {
        SecretArgs {
            name: name.into(),
            description: None,
            kms_key_id: None,
            value: None,
            generate_password: None,
            recovery_window_days: 30,
            tags: BTreeMap::new(),
        }
    }
}

impl SecretArgs {
    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
    /// Encrypts it with this KMS key (id or ARN).
    pub fn kms_key(mut self, key: impl Into<Input<String>>) -> Self {
        self.kms_key_id = Some(key.into());
        self
    }
    /// Sets the value.
    pub fn value(mut self, v: impl Into<Input<SecretValue<String>>>) -> Self {
        self.value = Some(v.into());
        self
    }
    /// Generates a password of `length` characters at create.
    pub fn generate_password(mut self, length: i64) -> Self {
        self.generate_password = Some(length);
        self
    }
    /// Sets the recovery window.
    pub fn recovery_window(mut self, days: i64) -> Self {
        self.recovery_window_days = days;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for SecretArgs {
    type Resource = Secret;
}

/// The outputs of a [`Secret`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretOutputs {
    /// The ARN (also its id).
    pub arn: String,
    /// The name.
    pub name: String,
}

strata_core::outputs!(Secret => SecretHandle {
    /// The ARN.
    arn: String,
    /// The name.
    name: String,
});

pub(crate) fn sm(cx: &Cx<'_>) -> Result<aws_sdk_secretsmanager::Client, ProviderError> {
    cx.client(aws_sdk_secretsmanager::Client::new)
}

pub(crate) fn not_found<E: aws_sdk_secretsmanager::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

fn tag_list(map: &BTreeMap<String, String>) -> Vec<Tag> {
    map.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

#[async_trait]
impl Resource for Secret {
    const TYPE: &'static str = "aws:secretsmanager/secret";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = SecretArgs;
    type Outputs = SecretOutputs;

    fn validate(args: &SecretArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        let n = &args.name;
        if n.is_empty()
            || n.len() > 512
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
        {
            errs.push(FieldError::new(
                "name",
                format!("{n:?}: 1 to 512 of a-z, A-Z, 0-9 and /_+=.@-"),
            ));
        }
        if args.recovery_window_days != 0 && !(7..=30).contains(&args.recovery_window_days) {
            errs.push(FieldError::new(
                "recovery_window_days",
                format!("{} days: 0 (at once) or 7 to 30", args.recovery_window_days),
            ));
        }
        if let Some(l) = args.generate_password {
            if args.value.is_some() {
                errs.push(FieldError::new(
                    "generate_password",
                    "a secret has a declared value or a generated one, not both",
                ));
            }
            if !(1..=4096).contains(&l) {
                errs.push(FieldError::new(
                    "generate_password",
                    format!("{l}: 1 to 4096 characters"),
                ));
            }
        }
        if args.description.as_ref().is_some_and(|d| d.len() > 2048) {
            errs.push(FieldError::new("description", "at most 2048 characters"));
        }
        errs
    }

    fn estimate(_: &SecretArgs) -> Duration {
        Duration::from_secs(2)
    }

    /// `CreateSecret` refuses a taken name (`ResourceExistsException`; for a secret of
    /// that name scheduled for deletion, `InvalidRequestException`, also a taken name
    /// until it is deleted or restored) and changes nothing. Its `ClientRequestToken` is
    /// the create's token: the same create retried gets the same secret back.
    async fn create(
        cx: &Cx<'_>,
        args: &SecretArgs,
    ) -> Result<Created<SecretOutputs>, ProviderError> {
        let client = sm(cx)?;
        let mut value = args
            .value
            .as_ref()
            .map(|v| v.value().map(|s| s.expose().clone()))
            .transpose()?;
        if let (None, Some(length)) = (&value, args.generate_password) {
            let out = client
                .get_random_password()
                .password_length(length)
                .send()
                .await
                .map_err(api_error("secretsmanager:GetRandomPassword"))?;
            value = out.random_password().map(str::to_owned);
        }
        let out = client
            .create_secret()
            .name(&args.name)
            .set_description(args.description.clone())
            .set_kms_key_id(
                args.kms_key_id
                    .as_ref()
                    .map(|k| k.value().cloned())
                    .transpose()?,
            )
            .set_secret_string(value)
            // The version's idempotency token: a retried create makes no second version.
            .client_request_token(cx.token)
            .set_tags(Some(tag_list(&create_tags(cx, &args.tags))))
            .send()
            .await
            .map_err(api_error("secretsmanager:CreateSecret"))
            .map_err(|e| {
                taken_if(
                    "InvalidRequestException",
                    &["scheduled for deletion", "marked for deletion"],
                    e,
                )
            })?;
        let arn = out.arn().unwrap_or_default().to_owned();
        Ok(Created {
            outputs: SecretOutputs {
                arn: arn.clone(),
                name: args.name.clone(),
            },
            id: arn,
        })
    }

    /// The secret carrying this create's `strata:token` tag (set with the secret, in one
    /// call), found by that tag's value; one scheduled for deletion is not adopted. A
    /// secret of that name without the token is somebody else's.
    async fn recover(
        cx: &Cx<'_>,
        _: &SecretArgs,
    ) -> Result<Recovery<SecretOutputs>, ProviderError> {
        let client = sm(cx)?;
        let mut next = None;
        loop {
            let out = client
                .list_secrets()
                .filters(
                    Filter::builder()
                        .key(FilterNameStringType::TagValue)
                        .values(cx.token)
                        .build(),
                )
                .set_next_token(next.take())
                .send()
                .await
                .map_err(api_error("secretsmanager:ListSecrets"))?;
            let found = out.secret_list().iter().find(|s| {
                s.deleted_date().is_none()
                    && cx.owns(s.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))))
            });
            if let Some(s) = found {
                return Ok(Recovery::Found(Created {
                    id: s.arn().unwrap_or_default().to_owned(),
                    outputs: SecretOutputs {
                        arn: s.arn().unwrap_or_default().to_owned(),
                        name: s.name().unwrap_or_default().to_owned(),
                    },
                }));
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
        args: Option<&SecretArgs>,
    ) -> Result<Option<Observed<SecretArgs, SecretOutputs>>, ProviderError> {
        let client = sm(cx)?;
        let d = match client.describe_secret().secret_id(id).send().await {
            Ok(d) => d,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(api_error("secretsmanager:DescribeSecret")(e)),
        };
        if d.deleted_date().is_some() {
            return Ok(None);
        }
        // The value is compared when it is declared and no rotation changes it.
        let value = match args.and_then(|a| a.value.as_ref()) {
            Some(declared) if d.rotation_enabled() != Some(true) => {
                let v = client
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(api_error("secretsmanager:GetSecretValue"))?;
                match v.secret_string() {
                    Some(s) => Some(Input::Value(SecretValue::new(s.to_owned()))),
                    None => Some(declared.clone()),
                }
            }
            Some(declared) => Some(declared.clone()),
            None => None,
        };
        // A key given by ARN and reported by id (or the reverse) is the same key.
        let kms_key_id = match (d.kms_key_id(), args.and_then(|a| a.kms_key_id.as_ref())) {
            (Some(live), Some(Input::Value(declared)))
                if declared.ends_with(live) || live.ends_with(declared.as_str()) =>
            {
                Some(Input::Value(declared.clone()))
            }
            (live, _) => live.map(|k| Input::Value(k.to_owned())),
        };
        Ok(Some(Observed {
            args: SecretArgs {
                name: d.name().unwrap_or_default().to_owned(),
                description: d.description().filter(|s| !s.is_empty()).map(str::to_owned),
                kms_key_id,
                value,
                generate_password: args.and_then(|a| a.generate_password),
                recovery_window_days: args.map_or(30, |a| a.recovery_window_days),
                tags: user_tags(d.tags().iter().filter_map(|t| Some((t.key()?, t.value()?)))),
            },
            outputs: SecretOutputs {
                arn: d.arn().unwrap_or(id).to_owned(),
                name: d.name().unwrap_or_default().to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &SecretArgs,
        new: &SecretArgs,
        outputs: &SecretOutputs,
    ) -> Result<SecretOutputs, ProviderError> {
        let client = sm(cx)?;
        if old.description != new.description || old.kms_key_id != new.kms_key_id {
            client
                .update_secret()
                .secret_id(id)
                .description(new.description.clone().unwrap_or_default())
                .set_kms_key_id(
                    new.kms_key_id
                        .as_ref()
                        .map(|k| k.value().cloned())
                        .transpose()?,
                )
                .send()
                .await
                .map_err(api_error("secretsmanager:UpdateSecret"))?;
        }
        if old.value != new.value {
            if let Some(v) = &new.value {
                client
                    .put_secret_value()
                    .secret_id(id)
                    .secret_string(v.value()?.expose())
                    .client_request_token(cx.token)
                    .send()
                    .await
                    .map_err(api_error("secretsmanager:PutSecretValue"))?;
            }
        }
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_resource()
                .secret_id(id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("secretsmanager:UntagResource"))?;
        }
        if !set.is_empty() {
            client
                .tag_resource()
                .secret_id(id)
                .set_tags(Some(tag_list(&set)))
                .send()
                .await
                .map_err(api_error("secretsmanager:TagResource"))?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        args: &SecretArgs,
        _: &SecretOutputs,
    ) -> Result<(), ProviderError> {
        let mut call = sm(cx)?.delete_secret().secret_id(id);
        call = if args.recovery_window_days == 0 {
            call.force_delete_without_recovery(true)
        } else {
            call.recovery_window_in_days(args.recovery_window_days)
        };
        match call.send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("secretsmanager:DeleteSecret")(e)),
        }
    }
}
