//! `SecretRotation`: automatic rotation of a secret every N days by a rotation Lambda.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_secretsmanager::types::RotationRulesType;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::taken;
use crate::secret::{not_found, sm};

/// Rotation of a secret. Its id is the secret's ARN; the function and the schedule change
/// in place, the secret replaces it. Delete turns rotation off (`CancelRotateSecret`).
///
/// The function must let Secrets Manager invoke it: [`crate::rotation::RotationFunction`]
/// declares it with its role and permission.
///
/// ```
/// use strata_core::Stack;
/// use strata_security::{rotation::RotationFunction, Secret, SecretHandle, SecretRotation};
/// let mut s = Stack::new("dev");
/// let key = s.add("payment-api-key", Secret::new("shop/payment-api-key").generate_password(40));
/// let f = RotationFunction::new("shop-rotation").declare(&mut s);
/// s.add("payment-api-key-rotation", SecretRotation::new(key.arn(), f.arn(), 90));
/// ```
#[derive(Debug)]
pub struct SecretRotation;

/// The args of a [`SecretRotation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretRotationArgs {
    /// The secret (ARN or name).
    pub secret_id: Input<String>,
    /// The rotation function's ARN.
    pub rotation_lambda_arn: Input<String>,
    /// Days between rotations (1 to 1000).
    pub automatically_after_days: i64,
    /// Rotate once right away when set up (default: wait for the schedule).
    #[serde(default)]
    pub rotate_immediately: bool,
}

impl SecretRotation {
    /// Rotates `secret_id` with `lambda_arn` every `days` days.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        secret_id: impl Into<Input<String>>,
        lambda_arn: impl Into<Input<String>>,
        days: i64,
    ) -> SecretRotationArgs {
        SecretRotationArgs {
            secret_id: secret_id.into(),
            rotation_lambda_arn: lambda_arn.into(),
            automatically_after_days: days,
            rotate_immediately: false,
        }
    }
}

impl ResourceArgs for SecretRotationArgs {
    type Resource = SecretRotation;
}

/// The outputs of a [`SecretRotation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretRotationOutputs {
    /// The secret's ARN.
    pub secret_arn: String,
}

strata_core::outputs!(SecretRotation => SecretRotationHandle {
    /// The secret's ARN.
    secret_arn: String,
});

async fn rotate(cx: &Cx<'_>, args: &SecretRotationArgs) -> Result<String, ProviderError> {
    let out = sm(cx)?
        .rotate_secret()
        .secret_id(args.secret_id.value()?)
        .rotation_lambda_arn(args.rotation_lambda_arn.value()?)
        .rotation_rules(
            RotationRulesType::builder()
                .automatically_after_days(args.automatically_after_days)
                .build(),
        )
        .rotate_immediately(args.rotate_immediately)
        .send()
        .await
        .map_err(api_error("secretsmanager:RotateSecret"))?;
    Ok(out.arn().unwrap_or_default().to_owned())
}

/// The secret, unless it is gone or scheduled for deletion.
async fn describe(
    cx: &Cx<'_>,
    secret: &str,
) -> Result<
    Option<aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput>,
    ProviderError,
> {
    match sm(cx)?.describe_secret().secret_id(secret).send().await {
        Ok(d) if d.deleted_date().is_some() => Ok(None),
        Ok(d) => Ok(Some(d)),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("secretsmanager:DescribeSecret")(e)),
    }
}

#[async_trait]
impl Resource for SecretRotation {
    const TYPE: &'static str = "aws:secretsmanager/secret-rotation";
    const REPLACE_ON: &'static [&'static str] = &["secret_id"];
    const IDENTITY: &'static [&'static str] = &["secret_id"];
    type Args = SecretRotationArgs;
    type Outputs = SecretRotationOutputs;

    fn validate(args: &SecretRotationArgs) -> Vec<FieldError> {
        if (1..=1000).contains(&args.automatically_after_days) {
            Vec::new()
        } else {
            vec![FieldError::new(
                "automatically_after_days",
                format!(
                    "{} days: Secrets Manager rotates every 1 to 1000",
                    args.automatically_after_days
                ),
            )]
        }
    }

    fn estimate(_: &SecretRotationArgs) -> Duration {
        Duration::from_secs(5)
    }

    /// `RotateSecret` overwrites the rotation a secret has: a secret whose rotation is
    /// on already (somebody else's, or another declaration's) is refused before the call,
    /// and nothing of it changes.
    async fn create(
        cx: &Cx<'_>,
        args: &SecretRotationArgs,
    ) -> Result<Created<SecretRotationOutputs>, ProviderError> {
        let secret = args.secret_id.value()?;
        if describe(cx, secret)
            .await?
            .is_some_and(|d| d.rotation_enabled() == Some(true))
        {
            return Err(taken(
                "secretsmanager:RotateSecret",
                format!("secret {secret} already has rotation configured"),
            ));
        }
        let arn = rotate(cx, args).await?;
        Ok(Created {
            outputs: SecretRotationOutputs {
                secret_arn: arn.clone(),
            },
            id: arn,
        })
    }

    /// A rotation takes no tags of its own, so only the properties can tell: the secret's
    /// rotation, on, with the declared function and schedule, is the one this create set
    /// up, unless this create found rotation on before it called (then it is somebody
    /// else's, however alike). Rotation off, or with another function or schedule, is not
    /// this create's.
    async fn recover(
        cx: &Cx<'_>,
        args: &SecretRotationArgs,
    ) -> Result<Recovery<SecretRotationOutputs>, ProviderError> {
        let Some(d) = describe(cx, args.secret_id.value()?).await? else {
            return Ok(Recovery::Absent);
        };
        let same = d.rotation_enabled() == Some(true)
            && d.rotation_lambda_arn() == Some(args.rotation_lambda_arn.value()?.as_str())
            && d.rotation_rules()
                .and_then(|r| r.automatically_after_days())
                == Some(args.automatically_after_days);
        Ok(match d.arn() {
            Some(arn) if same => Recovery::Resembles(Created {
                outputs: SecretRotationOutputs {
                    secret_arn: arn.to_owned(),
                },
                id: arn.to_owned(),
            }),
            _ => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&SecretRotationArgs>,
    ) -> Result<Option<Observed<SecretRotationArgs, SecretRotationOutputs>>, ProviderError> {
        let Some(d) = describe(cx, id).await? else {
            return Ok(None);
        };
        if d.rotation_enabled() != Some(true) {
            return Ok(None);
        }
        Ok(Some(Observed {
            args: SecretRotationArgs {
                secret_id: args
                    .map_or_else(|| Input::Value(id.to_owned()), |a| a.secret_id.clone()),
                rotation_lambda_arn: Input::Value(
                    d.rotation_lambda_arn().unwrap_or_default().to_owned(),
                ),
                automatically_after_days: d
                    .rotation_rules()
                    .and_then(|r| r.automatically_after_days())
                    .unwrap_or_default(),
                // A create-time choice, not a property.
                rotate_immediately: args.is_some_and(|a| a.rotate_immediately),
            },
            outputs: SecretRotationOutputs {
                secret_arn: id.to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        _: &str,
        _: &SecretRotationArgs,
        new: &SecretRotationArgs,
        outputs: &SecretRotationOutputs,
    ) -> Result<SecretRotationOutputs, ProviderError> {
        let mut new = new.clone();
        new.rotate_immediately = false;
        rotate(cx, &new).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &SecretRotationArgs,
        _: &SecretRotationOutputs,
    ) -> Result<(), ProviderError> {
        match sm(cx)?.cancel_rotate_secret().secret_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            // A secret scheduled for deletion cannot be changed: its rotation goes with it.
            Err(e)
                if aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(&e)
                    == Some("InvalidRequestException") =>
            {
                Ok(())
            }
            Err(e) => Err(api_error("secretsmanager:CancelRotateSecret")(e)),
        }
    }
}
