//! The rotation Lambda that [`crate::SecretRotation`] needs, with what real AWS requires
//! around it: an execution role that may read and write the secrets (and use their KMS
//! keys), the function, and the permission for Secrets Manager to invoke it.
//!
//! The function implements the four steps of Secrets Manager's rotation protocol for
//! generated secrets (createSecret: a new random value as `AWSPENDING`; finishSecret:
//! promote it to `AWSCURRENT`). `setSecret` and `testSecret` are the place to push the
//! new value to the system that uses it (a payment provider's API, …): the generated
//! code leaves them as no-ops, marked in the source.

use serde_json::json;
use strata_core::{Handle, Output, Stack};

use crate::*;

/// The Python source of the rotation function.
pub const ROTATION_SOURCE: &str = r#"# strata: generic Secrets Manager rotation for generated secrets.
import boto3

sm = boto3.client("secretsmanager")


def handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    meta = sm.describe_secret(SecretId=arn)
    if not meta.get("RotationEnabled"):
        raise ValueError(f"rotation is not enabled for {arn}")
    stages = meta["VersionIdsToStages"].get(token, [])
    if "AWSCURRENT" in stages:
        return
    if step == "createSecret":
        try:
            sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except sm.exceptions.ResourceNotFoundException:
            value = sm.get_random_password(PasswordLength=40, ExcludePunctuation=True)["RandomPassword"]
            sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=value, VersionStages=["AWSPENDING"])
    elif step == "setSecret":
        pass  # Push the AWSPENDING value to the system that uses it.
    elif step == "testSecret":
        pass  # Check that the AWSPENDING value works there.
    elif step == "finishSecret":
        current = next(v for v, s in meta["VersionIdsToStages"].items() if "AWSCURRENT" in s)
        sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current)
    else:
        raise ValueError(f"unknown step {step}")
"#;

/// The rotation function to declare.
#[derive(Debug, Clone)]
pub struct RotationFunction {
    name: String,
}

/// What [`RotationFunction::declare`] declared.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The execution role.
    pub role: Handle<IamRole>,
    /// The function.
    pub function: Handle<LambdaFunction>,
    /// Secrets Manager's permission to invoke it.
    pub permission: Handle<LambdaPermission>,
}

impl Rotation {
    /// The function's ARN, for [`SecretRotation`]. It depends on the permission too, so
    /// rotation is set up only once Secrets Manager may invoke the function.
    pub fn arn(&self) -> Output<String> {
        self.function
            .arn()
            .zip(self.permission.id())
            .map(|(arn, _)| arn.clone())
    }
}

impl RotationFunction {
    /// A function (and role) named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        RotationFunction { name: name.into() }
    }

    /// Declares the role, the function and the permission, named after the function.
    pub fn declare(&self, s: &mut Stack) -> Rotation {
        let n = &self.name;
        let secrets = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"
                ],
                // Only the secrets this function rotates: the condition key is the one
                // AWS documents for a secret's rotation function, compared as an ARN
                // pattern (the region and account are the function's own).
                "Resource": "*",
                "Condition": {"ArnLike": {"secretsmanager:resource/AllowRotationLambdaArn": format!("arn:aws:lambda:*:*:function:{n}")}}
            }, {
                "Effect": "Allow",
                "Action": "secretsmanager:GetRandomPassword",
                "Resource": "*"
            }, {
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}
            }]
        });
        let role = s.add(
            format!("{n}-role"),
            IamRole::for_service(format!("{n}-role"), "lambda.amazonaws.com")
                .description("strata: secret rotation function")
                .managed_policy("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
                .inline_policy("rotate-secrets", secrets),
        );
        let function = s.add(
            n.clone(),
            LambdaFunction::python(n.clone(), role.arn(), "rotation.handler")
                .file("rotation.py", ROTATION_SOURCE)
                .timeout(60),
        );
        let permission = s.add(
            format!("{n}-invoke"),
            LambdaPermission::new(
                function.name(),
                "secretsmanager",
                "secretsmanager.amazonaws.com",
            ),
        );
        Rotation {
            role,
            function,
            permission,
        }
    }
}
