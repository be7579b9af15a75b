//! `BucketPolicy`: an S3 bucket's policy as a resource of its own.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::bucket::{check_name, s3};

/// The policy of an S3 bucket, declared apart from the [`crate::Bucket`].
///
/// It exists for policies that name another resource's outputs, which themselves depend on
/// the bucket: a CloudFront distribution reads the bucket through an origin access control,
/// and the bucket's policy allows that distribution's ARN. Declared as the bucket's own
/// `policy`, that would be a dependency cycle; as a `BucketPolicy` it is bucket →
/// distribution → policy.
///
/// A bucket's policy is declared in one place only: either the bucket's `policy` or one
/// `BucketPolicy`. A [`crate::Bucket`] without a declared `policy` neither reports the
/// policy it finds as drift nor removes it. The bucket replaces the policy; the document
/// changes in place (`PutBucketPolicy`); delete is `DeleteBucketPolicy`. A bucket that
/// already has another policy is a conflict: the create never overwrites it.
///
/// ```
/// use serde_json::json;
/// use strata_core::Stack;
/// use strata_data::{Bucket, BucketHandle, BucketPolicy};
/// let mut s = Stack::new("dev");
/// let bucket = s.add("images", Bucket::new("shop-product-images"));
/// s.add("images-tls-only", BucketPolicy::new(bucket.name(), json!({
///     "Version": "2012-10-17",
///     "Statement": [{"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
///         "Resource": ["arn:aws:s3:::shop-product-images", "arn:aws:s3:::shop-product-images/*"],
///         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
/// })));
/// ```
#[derive(Debug)]
pub struct BucketPolicy;

/// The args of a [`BucketPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketPolicyArgs {
    /// The bucket's name (replaces).
    pub bucket: Input<String>,
    /// The policy document (a JSON object with a `Statement`).
    pub policy: Input<Value>,
}

impl BucketPolicy {
    /// The policy `policy` of the bucket `bucket`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        bucket: impl Into<Input<String>>,
        policy: impl Into<Input<Value>>,
    ) -> BucketPolicyArgs {
        BucketPolicyArgs {
            bucket: bucket.into(),
            policy: policy.into(),
        }
    }
}

impl ResourceArgs for BucketPolicyArgs {
    type Resource = BucketPolicy;
}

/// The outputs of a [`BucketPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketPolicyOutputs {
    /// The bucket's name (also the provider id).
    pub bucket: String,
}

strata_core::outputs!(BucketPolicy => BucketPolicyHandle {
    /// The bucket's name.
    bucket: String,
});

fn gone(code: Option<&str>) -> bool {
    matches!(code, Some("NoSuchBucketPolicy" | "NoSuchBucket"))
}

/// The live policy, or `None` when the bucket has none (or is gone).
async fn live(cx: &Cx<'_>, bucket: &str) -> Result<Option<Value>, ProviderError> {
    match s3(cx)?.get_bucket_policy().bucket(bucket).send().await {
        Ok(o) => Ok(o
            .policy()
            .map(|p| serde_json::from_str(p).unwrap_or_else(|_| Value::String(p.to_owned())))),
        Err(e) if gone(e.code()) => Ok(None),
        Err(e) => Err(api_error("s3:GetBucketPolicy")(e)),
    }
}

async fn put(cx: &Cx<'_>, args: &BucketPolicyArgs) -> Result<(), ProviderError> {
    s3(cx)?
        .put_bucket_policy()
        .bucket(args.bucket.value()?)
        .policy(args.policy.value()?.to_string())
        .send()
        .await
        .map_err(api_error("s3:PutBucketPolicy"))?;
    Ok(())
}

#[async_trait]
impl Resource for BucketPolicy {
    const TYPE: &'static str = "aws:s3/bucket-policy";
    const REPLACE_ON: &'static [&'static str] = &["bucket"];
    const IDENTITY: &'static [&'static str] = &["bucket"];
    type Args = BucketPolicyArgs;
    type Outputs = BucketPolicyOutputs;

    fn validate(args: &BucketPolicyArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(m) = args.bucket.known().and_then(|b| check_name(b)) {
            errs.push(FieldError::new("bucket", m));
        }
        if let Some(p) = args.policy.known() {
            let statements = p.get("Statement");
            if !p.is_object()
                || !statements
                    .is_some_and(|s| s.is_object() || s.as_array().is_some_and(|a| !a.is_empty()))
            {
                errs.push(FieldError::new(
                    "policy",
                    "a policy document is a JSON object with at least one Statement",
                ));
            } else if p.to_string().len() > 20 * 1024 {
                errs.push(FieldError::new(
                    "policy",
                    "S3 takes bucket policies of at most 20 KB",
                ));
            }
        }
        errs
    }

    fn estimate(_: &BucketPolicyArgs) -> Duration {
        Duration::from_secs(2)
    }

    /// A policy has no tags: a bucket that already has one (someone else's, or the
    /// bucket's own `policy`) is a conflict, and `recover` adopts it only when it is the
    /// declared document.
    async fn create(
        cx: &Cx<'_>,
        args: &BucketPolicyArgs,
    ) -> Result<Created<BucketPolicyOutputs>, ProviderError> {
        let bucket = args.bucket.value()?.clone();
        if live(cx, &bucket).await?.is_some() {
            return Err(ProviderError::AlreadyExists {
                operation: "s3:PutBucketPolicy".to_owned(),
                message: format!("bucket {bucket} already has a policy"),
            });
        }
        put(cx, args).await?;
        Ok(Created {
            id: bucket.clone(),
            outputs: BucketPolicyOutputs { bucket },
        })
    }

    /// A policy has no tags: the create went through only if the bucket has exactly the
    /// declared document; any other policy is not this create's.
    async fn recover(
        cx: &Cx<'_>,
        args: &BucketPolicyArgs,
    ) -> Result<Recovery<BucketPolicyOutputs>, ProviderError> {
        let bucket = args.bucket.value()?.clone();
        Ok(match live(cx, &bucket).await? {
            Some(p) if &p == args.policy.value()? => Recovery::Resembles(Created {
                id: bucket.clone(),
                outputs: BucketPolicyOutputs { bucket },
            }),
            _ => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&BucketPolicyArgs>,
    ) -> Result<Option<Observed<BucketPolicyArgs, BucketPolicyOutputs>>, ProviderError> {
        let Some(policy) = live(cx, id).await? else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: BucketPolicyArgs {
                bucket: Input::Value(id.to_owned()),
                policy: Input::Value(policy),
            },
            outputs: BucketPolicyOutputs {
                bucket: id.to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        _: &str,
        _: &BucketPolicyArgs,
        new: &BucketPolicyArgs,
        outputs: &BucketPolicyOutputs,
    ) -> Result<BucketPolicyOutputs, ProviderError> {
        put(cx, new).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &BucketPolicyArgs,
        _: &BucketPolicyOutputs,
    ) -> Result<(), ProviderError> {
        match s3(cx)?.delete_bucket_policy().bucket(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(e.code()) => Ok(()),
            Err(e) => Err(api_error("s3:DeleteBucketPolicy")(e)),
        }
    }
}
