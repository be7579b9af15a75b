//! strata-security: KMS keys and aliases, Secrets Manager secrets and their rotation
//! (with the Lambda function, role and permission it needs), GuardDuty, and IAM roles,
//! policies and instance profiles.
//!
//! One resource type per file, named after the AWS resource. Every type takes its SDK
//! configuration from the engine's context ([`strata_core::aws::Aws`]) and tags what it
//! creates with `strata:stack`, `strata:urn` and `strata:token`. A create never takes
//! over or changes an existing resource of the same name: a taken name is
//! [`strata_core::ProviderError::AlreadyExists`]. After a failed or interrupted create a
//! type adopts a resource only when it carries the create's `strata:token` tag (keys,
//! secrets, detectors, IAM, Lambda functions); aliases, Lambda permissions and a secret's
//! rotation, which take no tags, only when every declared property matches and the create
//! did not find them there before.
//!
//! [`policies`] holds what the app servers need (CloudWatch agent, X-Ray, SSM, EFS, and
//! reading their secrets); [`rotation`] declares the rotation function.

mod common;
mod guardduty_detector;
mod iam_instance_profile;
mod iam_policy;
mod iam_role;
mod key_policy;
mod kms_alias;
mod kms_key;
mod lambda_function;
mod lambda_permission;
pub mod policies;
pub mod rotation;
mod secret;
mod secret_rotation;
mod zip;

pub use guardduty_detector::{
    GuardDutyDetector, GuardDutyDetectorArgs, GuardDutyDetectorHandle, GuardDutyDetectorOutputs,
    PublishingFrequency,
};
pub use iam_instance_profile::{
    IamInstanceProfile, IamInstanceProfileArgs, IamInstanceProfileHandle, IamInstanceProfileOutputs,
};
pub use iam_policy::{IamPolicy, IamPolicyArgs, IamPolicyHandle, IamPolicyOutputs};
pub use iam_role::{IamRole, IamRoleArgs, IamRoleHandle, IamRoleOutputs};
pub use key_policy::{KeyPolicy, KeyService};
pub use kms_alias::{KmsAlias, KmsAliasArgs, KmsAliasHandle, KmsAliasOutputs};
pub use kms_key::{KeySpec, KeyUsage, KmsKey, KmsKeyArgs, KmsKeyHandle, KmsKeyOutputs};
pub use lambda_function::{
    EnvValue, LambdaFunction, LambdaFunctionArgs, LambdaFunctionHandle, LambdaFunctionOutputs,
};
pub use lambda_permission::{
    LambdaPermission, LambdaPermissionArgs, LambdaPermissionHandle, LambdaPermissionOutputs,
};
pub use secret::{Secret, SecretArgs, SecretHandle, SecretOutputs};
pub use secret_rotation::{
    SecretRotation, SecretRotationArgs, SecretRotationHandle, SecretRotationOutputs,
};

/// Registers this crate's resource types with a [`strata_core::Registry`], so that
/// resources that are only in state (removed from the program) can still be deleted.
pub fn register(registry: &mut strata_core::Registry) {
    registry
        .register::<KmsKey>()
        .register::<KmsAlias>()
        .register::<Secret>()
        .register::<SecretRotation>()
        .register::<GuardDutyDetector>()
        .register::<IamRole>()
        .register::<IamPolicy>()
        .register::<IamInstanceProfile>()
        .register::<LambdaFunction>()
        .register::<LambdaPermission>();
}
