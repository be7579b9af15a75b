//! `KmsAlias`: a friendly name (`alias/…`) for a KMS key.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::kms_key::kms;

/// An alias. Its id is its name; pointing it at another key is an in-place `UpdateAlias`.
///
/// ```
/// use strata_core::Stack;
/// use strata_security::{KmsAlias, KmsKey, KmsKeyHandle};
/// let mut s = Stack::new("dev");
/// let key = s.add("rds-key", KmsKey::new("RDS storage"));
/// s.add("rds-key-alias", KmsAlias::new("alias/shop-rds", key.id()));
/// ```
#[derive(Debug)]
pub struct KmsAlias;

/// The args of a [`KmsAlias`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsAliasArgs {
    /// `alias/NAME`.
    pub name: String,
    /// The key it points to.
    pub target_key_id: Input<String>,
}

impl KmsAlias {
    /// `name` for `key_id`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, key_id: impl Into<Input<String>>) -> KmsAliasArgs {
        KmsAliasArgs {
            name: name.into(),
            target_key_id: key_id.into(),
        }
    }
}

impl ResourceArgs for KmsAliasArgs {
    type Resource = KmsAlias;
}

/// The outputs of a [`KmsAlias`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsAliasOutputs {
    /// `alias/NAME`.
    pub name: String,
    /// The alias ARN.
    pub arn: String,
}

strata_core::outputs!(KmsAlias => KmsAliasHandle {
    /// `alias/NAME`.
    name: String,
    /// The alias ARN.
    arn: String,
});

/// The alias's (target key id, ARN), if it exists.
async fn find(cx: &Cx<'_>, name: &str) -> Result<Option<(String, String)>, ProviderError> {
    let client = kms(cx)?;
    let mut marker = None;
    loop {
        let page = client
            .list_aliases()
            .set_marker(marker.take())
            .send()
            .await
            .map_err(api_error("kms:ListAliases"))?;
        if let Some(a) = page.aliases().iter().find(|a| a.alias_name() == Some(name)) {
            return Ok(Some((
                a.target_key_id().unwrap_or_default().to_owned(),
                a.alias_arn().unwrap_or_default().to_owned(),
            )));
        }
        match page.next_marker() {
            Some(m) if page.truncated() => marker = Some(m.to_owned()),
            _ => return Ok(None),
        }
    }
}

/// A key given by ARN is compared by its id.
fn key_id_of(key: &str) -> &str {
    key.rsplit_once(":key/").map_or(key, |(_, id)| id)
}

#[async_trait]
impl Resource for KmsAlias {
    const TYPE: &'static str = "aws:kms/alias";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = KmsAliasArgs;
    type Outputs = KmsAliasOutputs;

    fn validate(args: &KmsAliasArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let n = &args.name;
        let rest = n.strip_prefix("alias/");
        if rest.is_none_or(str::is_empty) || n.len() > 256 {
            errs.push(FieldError::new(
                "name",
                format!("{n:?}: an alias is alias/NAME, at most 256 characters"),
            ));
        }
        if n.starts_with("alias/aws/") {
            errs.push(FieldError::new(
                "name",
                "alias/aws/ is reserved for AWS managed keys",
            ));
        }
        if !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        {
            errs.push(FieldError::new(
                "name",
                "only a-z, A-Z, 0-9, /, _ and - are allowed",
            ));
        }
        errs
    }

    fn estimate(_: &KmsAliasArgs) -> Duration {
        Duration::from_secs(1)
    }

    /// `CreateAlias` refuses a taken name (`AlreadyExistsException`) and changes nothing.
    async fn create(
        cx: &Cx<'_>,
        args: &KmsAliasArgs,
    ) -> Result<Created<KmsAliasOutputs>, ProviderError> {
        kms(cx)?
            .create_alias()
            .alias_name(&args.name)
            .target_key_id(args.target_key_id.value()?)
            .send()
            .await
            .map_err(api_error("kms:CreateAlias"))?;
        let arn = find(cx, &args.name)
            .await?
            .map(|(_, a)| a)
            .unwrap_or_default();
        Ok(Created {
            id: args.name.clone(),
            outputs: KmsAliasOutputs {
                name: args.name.clone(),
                arn,
            },
        })
    }

    /// Aliases take no tags, so only the properties can tell: the alias of that name
    /// pointing to the declared key is the one this create made, unless this create was
    /// refused because the name was taken (then it is somebody else's, however alike). An
    /// alias pointing elsewhere is somebody else's.
    async fn recover(
        cx: &Cx<'_>,
        args: &KmsAliasArgs,
    ) -> Result<Recovery<KmsAliasOutputs>, ProviderError> {
        let want = key_id_of(args.target_key_id.value()?);
        Ok(match find(cx, &args.name).await? {
            Some((key, arn)) if key_id_of(&key) == want => Recovery::Resembles(Created {
                id: args.name.clone(),
                outputs: KmsAliasOutputs {
                    name: args.name.clone(),
                    arn,
                },
            }),
            Some(_) | None => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&KmsAliasArgs>,
    ) -> Result<Option<Observed<KmsAliasArgs, KmsAliasOutputs>>, ProviderError> {
        let Some((key, arn)) = find(cx, id).await? else {
            return Ok(None);
        };
        // Keep the declared form (id or ARN) when it names the same key.
        let target = match args.and_then(|a| a.target_key_id.known()) {
            Some(k) if key_id_of(k) == key_id_of(&key) => k.clone(),
            _ => key,
        };
        Ok(Some(Observed {
            args: KmsAliasArgs {
                name: id.to_owned(),
                target_key_id: Input::Value(target),
            },
            outputs: KmsAliasOutputs {
                name: id.to_owned(),
                arn,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        _: &KmsAliasArgs,
        new: &KmsAliasArgs,
        outputs: &KmsAliasOutputs,
    ) -> Result<KmsAliasOutputs, ProviderError> {
        kms(cx)?
            .update_alias()
            .alias_name(id)
            .target_key_id(new.target_key_id.value()?)
            .send()
            .await
            .map_err(api_error("kms:UpdateAlias"))?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &KmsAliasArgs,
        _: &KmsAliasOutputs,
    ) -> Result<(), ProviderError> {
        match kms(cx)?.delete_alias().alias_name(id).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if aws_sdk_kms::error::ProvideErrorMetadata::code(&e)
                    == Some("NotFoundException") =>
            {
                Ok(())
            }
            Err(e) => Err(api_error("kms:DeleteAlias")(e)),
        }
    }
}
