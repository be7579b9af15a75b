//! AWS glue for resource types (feature `aws`): the SDK configuration in the provider
//! context, error mapping, tags and waiting.
//!
//! A program puts an [`Aws`] into the engine's [`crate::Context`]; resource types build
//! their SDK clients from [`Cx::aws`]. Retries of throttling and transient errors are the
//! SDK's, in adaptive mode with up to 8 attempts; validation errors are not retried.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::resource::{Cx, ProviderError};

pub mod kms;

/// The tag that records the idempotency token of the create that made a resource.
pub const TOKEN_TAG: &str = "strata:token";

/// The AWS configuration resource types use.
#[derive(Debug, Clone)]
pub struct Aws {
    config: aws_config::SdkConfig,
}

impl Aws {
    /// From a ready SDK configuration (tests point it at the local AWS).
    pub fn new(config: aws_config::SdkConfig) -> Self {
        Aws { config }
    }

    /// From the environment (credentials, region, `AWS_ENDPOINT_URL`), with adaptive
    /// retries.
    pub async fn from_env() -> Self {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .retry_config(aws_config::retry::RetryConfig::adaptive().with_max_attempts(8))
            .load()
            .await;
        Aws { config }
    }

    /// The SDK configuration.
    pub fn config(&self) -> &aws_config::SdkConfig {
        &self.config
    }

    /// The region, if configured.
    pub fn region(&self) -> Option<String> {
        self.config.region().map(ToString::to_string)
    }
}

impl Cx<'_> {
    /// The SDK configuration from the context's [`Aws`].
    pub fn aws(&self) -> Result<&aws_config::SdkConfig, ProviderError> {
        self.require::<Aws>().map(Aws::config)
    }

    /// An SDK client: the one the context holds, if a program or a test put one there (a
    /// client built by `aws-smithy-mocks` for an API the local AWS lacks), else a new one
    /// from the [`Aws`] configuration.
    pub fn client<C: Clone + Send + Sync + 'static>(
        &self,
        new: impl FnOnce(&aws_config::SdkConfig) -> C,
    ) -> Result<C, ProviderError> {
        if let Some(c) = self.context.get::<C>() {
            return Ok(c.clone());
        }
        Ok(new(self.aws()?))
    }

    /// The tags a create sends: [`Cx::tags_with`] and [`TOKEN_TAG`] with the create's
    /// idempotency token, by which an interrupted create is found again.
    pub fn create_tags(&self, tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut all = self.tags_with(tags);
        all.insert(TOKEN_TAG.to_owned(), self.token.to_owned());
        all
    }

    /// Whether tags read from AWS prove that this very operation made the resource: its
    /// [`TOKEN_TAG`] is this create's idempotency token. A name, or the `strata:urn` tag
    /// alone (an old half of a replace carries it too), is never proof.
    pub fn owns<'t>(&self, tags: impl IntoIterator<Item = (&'t str, &'t str)>) -> bool {
        !self.token.is_empty()
            && tags
                .into_iter()
                .any(|(k, v)| k == TOKEN_TAG && v == self.token)
    }

    /// The tags a resource is created with: the user's `tags`, then `strata:stack` and
    /// `strata:urn` (which win).
    pub fn tags_with(&self, tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut all = tags.clone();
        all.extend(self.tags());
        all
    }
}

/// The AWS error code of `e`, if any.
pub fn error_code<E: ProvideErrorMetadata>(e: &E) -> Option<&str> {
    e.code()
}

/// Whether `e` is a throttling or transient service error (left after the SDK's retries).
fn transient(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "Throttling"
                | "ThrottlingException"
                | "ThrottledException"
                | "RequestLimitExceeded"
                | "RequestThrottled"
                | "RequestThrottledException"
                | "TooManyRequestsException"
                | "ProvisionedThroughputExceededException"
                | "SlowDown"
                | "PriorRequestNotComplete"
                | "ServiceUnavailable"
                | "ServiceUnavailableException"
                | "Unavailable"
                | "InternalError"
                | "InternalFailure"
                | "InternalServerError"
                | "InternalServiceError"
                | "InternalServiceException"
        )
    )
}

/// Whether an AWS error code says that the name (or identity) a create asked for is
/// taken: by another account's or this account's resource, or by one an earlier attempt
/// of the same create made.
pub fn already_exists(code: Option<&str>) -> bool {
    let Some(code) = code else { return false };
    code.contains("AlreadyExists")
        || code.contains("AlreadyOwned")
        || code.starts_with("Duplicate")
        || matches!(
            code,
            "EntityAlreadyExists"
                | "WAFDuplicateItemException"
                | "ResourceExistsException"
                | "InvalidGroup.Duplicate"
                | "InvalidPermission.Duplicate"
                | "RouteAlreadyExists"
                | "Resource.AlreadyAssociated"
                | "CNAMEAlreadyExists"
                | "HostedZoneAlreadyExists"
                | "OriginAccessControlAlreadyExists"
                | "TrailAlreadyExistsException"
                | "DBSubnetGroupAlreadyExists"
                | "DBParameterGroupAlreadyExists"
                | "DBInstanceAlreadyExists"
                | "DBSnapshotAlreadyExists"
                | "AlreadyExistsException"
        )
}

/// The refusal of a create whose name (or identity) is taken, found before an API that
/// would overwrite or silently reuse the existing resource (an upsert such as
/// `PutMetricAlarm`, or SNS `CreateTopic`, which answers the existing topic).
pub fn taken(operation: &str, message: String) -> ProviderError {
    ProviderError::AlreadyExists {
        operation: operation.to_owned(),
        message,
    }
}

/// Maps an SDK error of `operation` (for example `ec2:CreateVpc`) to a [`ProviderError`].
pub fn api_error<E>(operation: &'static str) -> impl FnOnce(E) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error,
{
    move |e| {
        let code = e.code().map(str::to_owned);
        let message = e
            .message()
            .map(str::to_owned)
            .unwrap_or_else(|| aws_smithy_display(&e));
        if transient(code.as_deref()) {
            return ProviderError::Transient(format!("{operation}: {message}"));
        }
        if already_exists(code.as_deref()) {
            return ProviderError::AlreadyExists {
                operation: operation.to_owned(),
                message,
            };
        }
        ProviderError::Api {
            operation: operation.to_owned(),
            code,
            message,
        }
    }
}

fn aws_smithy_display(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Polls `check` every `interval` until it returns `Some`, or fails with
/// [`ProviderError::Timeout`] after `timeout`. For states the SDK has no waiter for.
pub async fn wait_for<T, F, Fut>(
    what: impl Into<String>,
    timeout: Duration,
    interval: Duration,
    mut check: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if start.elapsed() >= timeout {
            return Err(ProviderError::Timeout {
                after: timeout,
                what: what.into(),
            });
        }
        tokio::time::sleep(interval).await;
    }
}

/// How long a call is retried while IAM propagates a role or instance profile just made
/// (AWS documents that IAM changes take a while to be visible everywhere; Terraform's
/// provider waits 2 minutes too).
pub const IAM_PROPAGATION: Duration = Duration::from_secs(120);

/// Calls `call` until it succeeds, fails otherwise than `propagating` says, or
/// [`IAM_PROPAGATION`] has passed (then the last error stands), waiting 2, 4, 8, then 10
/// seconds between tries. For exactly the errors that mean "IAM has not propagated yet":
/// a Lambda function whose new role "cannot be assumed by Lambda", a launch with a new
/// instance profile that is an "Invalid IAM Instance Profile name".
pub async fn retry_while_propagating<T, F, Fut>(
    propagating: impl Fn(&ProviderError) -> bool,
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let start = Instant::now();
    let mut wait = Duration::from_secs(2);
    loop {
        match call().await {
            Err(e) if propagating(&e) && start.elapsed() + wait <= IAM_PROPAGATION => {
                tracing::info!(error = %e, "waiting for IAM to propagate");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
            other => return other,
        }
    }
}

/// Whether `e` is an API error of `code` whose message contains `needle`.
pub fn api_error_is(e: &ProviderError, code: &str, needle: &str) -> bool {
    matches!(e, ProviderError::Api { code: Some(c), message, .. } if c == code && message.contains(needle))
}

/// Whether a tag key is the user's: not `aws:` (AWS's) and not `strata:` (strata's own).
/// Reads report only user tags, so strata's bookkeeping tags are never drift.
pub fn is_user_tag(key: &str) -> bool {
    !key.starts_with("strata:") && !key.starts_with("aws:")
}

/// The user's tags among `(key, value)` pairs read from AWS.
pub fn user_tags<'a>(
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    tags.into_iter()
        .filter(|(k, _)| is_user_tag(k))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// What a tag update from `old` to `new` sends: the keys to remove and the tags to set.
pub fn tag_changes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> (Vec<String>, BTreeMap<String, String>) {
    let removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    let set = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (removed, set)
}

/// Declaration checks of user tags, common to every taggable type: at most 47 (AWS allows
/// 50 and strata adds 3), keys of 1 to 128 characters without the reserved `aws:` and
/// `strata:` prefixes, values of at most 256.
pub fn check_tags(tags: &BTreeMap<String, String>) -> Vec<crate::FieldError> {
    use crate::FieldError;
    let mut errs = Vec::new();
    if tags.len() > 47 {
        errs.push(FieldError::new(
            "tags",
            format!(
                "{} tags: AWS allows 50, and strata adds 3 of its own",
                tags.len()
            ),
        ));
    }
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 {
            errs.push(FieldError::new(
                format!("tags.{k}"),
                "a tag key has 1 to 128 characters",
            ));
        }
        if !is_user_tag(k) {
            errs.push(FieldError::new(
                format!("tags.{k}"),
                "the aws: and strata: prefixes are reserved",
            ));
        }
        if v.len() > 256 {
            errs.push(FieldError::new(
                format!("tags.{k}"),
                "a tag value has at most 256 characters",
            ));
        }
    }
    errs
}

#[cfg(test)]
mod tag_tests {
    use super::*;

    #[test]
    fn tag_changes_remove_and_set_only_what_differs() {
        let old = BTreeMap::from([
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "2".to_owned()),
        ]);
        let new = BTreeMap::from([
            ("b".to_owned(), "3".to_owned()),
            ("c".to_owned(), "4".to_owned()),
        ]);
        let (removed, set) = tag_changes(&old, &new);
        assert_eq!(removed, vec!["a".to_owned()]);
        assert_eq!(
            set,
            BTreeMap::from([
                ("b".to_owned(), "3".to_owned()),
                ("c".to_owned(), "4".to_owned())
            ])
        );
        assert_eq!(tag_changes(&new, &new), (vec![], BTreeMap::new()));
    }

    #[test]
    fn reserved_and_oversized_tags_are_refused() {
        let tags = BTreeMap::from([
            ("strata:urn".to_owned(), "x".to_owned()),
            ("ok".to_owned(), "v".repeat(257)),
        ]);
        let errs = check_tags(&tags);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs.iter().any(|e| e.field == "tags.strata:urn"));
        assert!(errs.iter().any(|e| e.field == "tags.ok"));
        assert!(user_tags([("aws:x", "1"), ("strata:urn", "u"), ("k", "v")]).contains_key("k"));
        assert_eq!(user_tags([("aws:x", "1"), ("k", "v")]).len(), 1);
    }
}
