//! `Bucket`: an S3 bucket with its parts: versioning, lifecycle rules, default encryption,
//! public access block, bucket policy, cross-region replication and tags.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, Delete, DeleteMarkerReplication, DeleteMarkerReplicationStatus,
    Destination, ExpirationStatus, LifecycleExpiration, LifecycleRule as AwsRule,
    LifecycleRuleFilter, NoncurrentVersionExpiration, ObjectIdentifier,
    PublicAccessBlockConfiguration, ReplicationConfiguration, ReplicationRule,
    ReplicationRuleFilter, ReplicationRuleStatus, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging, Transition as AwsTransition, TransitionStorageClass, VersioningConfiguration,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

/// An S3 bucket.
///
/// Public access is blocked and objects are encrypted (SSE-S3) by default. A bucket that
/// holds objects is not deleted unless `force_destroy` is set (the run is refused up
/// front): strata never empties a bucket of user data unasked. With `force_destroy`, the
/// delete removes every object version, for at most ten minutes, and fails naming the
/// objects S3 refuses to delete (object lock, a legal hold).
///
/// The bucket is tagged with strata's tags as it is created. A bucket of that name that
/// this stack did not make (another account's, or this account's without this create's
/// `strata:token` tag) is a conflict: nothing of it is changed, and `import` is the way to
/// manage it.
///
/// The bucket's policy is declared in one place only: the bucket's `policy`, or a
/// [`crate::BucketPolicy`] when the policy names outputs of resources that depend on the
/// bucket (a CloudFront distribution's ARN). A bucket without a declared `policy` leaves
/// the live one alone: it is not drift, and an update does not remove it.
///
/// ```
/// use strata_core::Stack;
/// use strata_data::{Bucket, LifecycleRule, StorageClass};
/// let mut s = Stack::new("dev");
/// s.add("images", Bucket::new("shop-product-images").versioning(true)
///     .lifecycle(LifecycleRule::new("tiering").transition(0, StorageClass::IntelligentTiering)));
/// ```
#[derive(Debug)]
pub struct Bucket;

/// Where objects go after N days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StorageClass {
    /// S3 Intelligent-Tiering.
    IntelligentTiering,
    /// Standard-Infrequent Access (at least 30 days after creation).
    StandardIa,
    /// One Zone-Infrequent Access (at least 30 days after creation).
    OnezoneIa,
    /// Glacier Flexible Retrieval.
    Glacier,
    /// Glacier Instant Retrieval.
    GlacierIr,
    /// Glacier Deep Archive.
    DeepArchive,
}

impl StorageClass {
    fn aws(self) -> TransitionStorageClass {
        match self {
            StorageClass::IntelligentTiering => TransitionStorageClass::IntelligentTiering,
            StorageClass::StandardIa => TransitionStorageClass::StandardIa,
            StorageClass::OnezoneIa => TransitionStorageClass::OnezoneIa,
            StorageClass::Glacier => TransitionStorageClass::Glacier,
            StorageClass::GlacierIr => TransitionStorageClass::GlacierIr,
            StorageClass::DeepArchive => TransitionStorageClass::DeepArchive,
        }
    }

    fn from_aws(c: &TransitionStorageClass) -> Option<Self> {
        Some(match c {
            TransitionStorageClass::IntelligentTiering => StorageClass::IntelligentTiering,
            TransitionStorageClass::StandardIa => StorageClass::StandardIa,
            TransitionStorageClass::OnezoneIa => StorageClass::OnezoneIa,
            TransitionStorageClass::Glacier => StorageClass::Glacier,
            TransitionStorageClass::GlacierIr => StorageClass::GlacierIr,
            TransitionStorageClass::DeepArchive => StorageClass::DeepArchive,
            _ => return None,
        })
    }
}

/// A transition of a lifecycle rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// Days after creation.
    pub days: i32,
    /// To this class.
    pub storage_class: StorageClass,
}

/// A lifecycle rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    /// The rule id.
    pub id: String,
    /// Only objects under this prefix (default: all).
    #[serde(default)]
    pub prefix: Option<String>,
    /// Transitions, by days.
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// Expire current versions after N days.
    #[serde(default)]
    pub expiration_days: Option<i32>,
    /// Expire noncurrent versions N days after they became noncurrent.
    #[serde(default)]
    pub noncurrent_expiration_days: Option<i32>,
}

impl LifecycleRule {
    /// A rule `id` for every object.
    pub fn new(id: impl Into<String>) -> Self {
        LifecycleRule {
            id: id.into(),
            prefix: None,
            transitions: Vec::new(),
            expiration_days: None,
            noncurrent_expiration_days: None,
        }
    }
    /// Moves objects to `class` after `days`.
    pub fn transition(mut self, days: i32, class: StorageClass) -> Self {
        self.transitions.push(Transition {
            days,
            storage_class: class,
        });
        self
    }
    /// Expires objects after `days`.
    pub fn expire_after(mut self, days: i32) -> Self {
        self.expiration_days = Some(days);
        self
    }
    /// Expires noncurrent versions after `days`.
    pub fn expire_noncurrent_after(mut self, days: i32) -> Self {
        self.noncurrent_expiration_days = Some(days);
        self
    }
    /// Only objects under `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }
}

/// Default encryption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketEncryption {
    /// SSE-S3 (AES-256, keys managed by S3).
    S3Managed,
    /// SSE-KMS with this key.
    Kms {
        /// The key's ARN.
        key_arn: Input<String>,
        /// S3 Bucket Keys (fewer KMS calls).
        bucket_key: bool,
    },
}

/// Cross-region replication of every object to another bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replication {
    /// The role S3 assumes to replicate.
    pub role_arn: Input<String>,
    /// The destination bucket's ARN (versioned, in another region).
    pub destination_bucket_arn: Input<String>,
}

/// The args of a [`Bucket`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketArgs {
    /// The bucket name (global).
    pub name: String,
    /// Versioning on (off after on means suspended).
    pub versioning: bool,
    /// Default encryption.
    pub encryption: BucketEncryption,
    /// Block all public access (default on).
    pub block_public_access: bool,
    /// Lifecycle rules.
    #[serde(default)]
    pub lifecycle_rules: Vec<LifecycleRule>,
    /// The bucket policy. A bucket's policy is declared in one place only: here, or as a
    /// [`crate::BucketPolicy`] (needed when the policy names an output of a resource that
    /// depends on the bucket, such as a CloudFront distribution). With no policy declared
    /// here, the bucket neither reports a live policy as drift nor removes it.
    #[serde(default)]
    pub policy: Option<Value>,
    /// Cross-region replication.
    #[serde(default)]
    pub replication: Option<Replication>,
    /// Delete every object (and version) on delete. Off by default.
    #[serde(default)]
    pub force_destroy: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Bucket {
    /// A private, SSE-S3-encrypted, unversioned bucket `name`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>) -> BucketArgs {
        BucketArgs {
            name: name.into(),
            versioning: false,
            encryption: BucketEncryption::S3Managed,
            block_public_access: true,
            lifecycle_rules: Vec::new(),
            policy: None,
            replication: None,
            force_destroy: false,
            tags: BTreeMap::new(),
        }
    }
}

impl BucketArgs {
    /// Sets versioning.
    pub fn versioning(mut self, on: bool) -> Self {
        self.versioning = on;
        self
    }
    /// Encrypts with SSE-KMS and this key (with S3 Bucket Keys).
    pub fn kms(mut self, key_arn: impl Into<Input<String>>) -> Self {
        self.encryption = BucketEncryption::Kms {
            key_arn: key_arn.into(),
            bucket_key: true,
        };
        self
    }
    /// Adds a lifecycle rule.
    pub fn lifecycle(mut self, rule: LifecycleRule) -> Self {
        self.lifecycle_rules.push(rule);
        self
    }
    /// Sets the bucket policy.
    pub fn policy(mut self, policy: Value) -> Self {
        self.policy = Some(policy);
        self
    }
    /// Replicates to another bucket.
    pub fn replicate_to(
        mut self,
        destination_bucket_arn: impl Into<Input<String>>,
        role_arn: impl Into<Input<String>>,
    ) -> Self {
        self.replication = Some(Replication {
            role_arn: role_arn.into(),
            destination_bucket_arn: destination_bucket_arn.into(),
        });
        self
    }
    /// Sets whether delete empties the bucket first.
    pub fn force_destroy(mut self, on: bool) -> Self {
        self.force_destroy = on;
        self
    }
    /// Sets public access blocking.
    pub fn block_public_access(mut self, on: bool) -> Self {
        self.block_public_access = on;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for BucketArgs {
    type Resource = Bucket;
}

/// The outputs of a [`Bucket`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketOutputs {
    /// The name (its id).
    pub name: String,
    /// `arn:aws:s3:::NAME`.
    pub arn: String,
    /// `NAME.s3.amazonaws.com`.
    pub domain_name: String,
    /// `NAME.s3.REGION.amazonaws.com` (CloudFront origins).
    pub regional_domain_name: String,
}

strata_core::outputs!(Bucket => BucketHandle {
    /// The name.
    name: String,
    /// The ARN.
    arn: String,
    /// The regional domain name.
    regional_domain_name: String,
});

pub(crate) fn s3(cx: &Cx<'_>) -> Result<aws_sdk_s3::Client, ProviderError> {
    cx.client(|conf| {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(conf)
                .force_path_style(conf.endpoint_url().is_some())
                .build(),
        )
    })
}

fn outputs(cx: &Cx<'_>, name: &str) -> BucketOutputs {
    let region = cx
        .aws()
        .ok()
        .and_then(|c| c.region().map(ToString::to_string))
        .unwrap_or_default();
    BucketOutputs {
        name: name.to_owned(),
        arn: format!("arn:aws:s3:::{name}"),
        domain_name: format!("{name}.s3.amazonaws.com"),
        regional_domain_name: format!("{name}.s3.{region}.amazonaws.com"),
    }
}

/// S3 tags from a map.
fn s3_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ProviderError::Other(e.to_string()))
}

/// AWS's bucket naming rules.
pub(crate) fn check_name(name: &str) -> Option<String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ip_like = name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok());
    if !(3..=63).contains(&name.len()) {
        Some(format!("{name:?}: a bucket name has 3 to 63 characters"))
    } else if !ok_chars {
        Some(format!(
            "{name:?}: only lowercase letters, digits, dots and hyphens"
        ))
    } else if !edge(name.chars().next()) || !edge(name.chars().last()) {
        Some(format!(
            "{name:?}: it must start and end with a letter or digit"
        ))
    } else if name.contains("..") || name.contains(".-") || name.contains("-.") {
        Some(format!(
            "{name:?}: no adjacent dots, nor a dot next to a hyphen"
        ))
    } else if ip_like {
        Some(format!(
            "{name:?}: a bucket name cannot look like an IP address"
        ))
    } else if name.starts_with("xn--")
        || name.starts_with("sthree-")
        || name.ends_with("-s3alias")
        || name.ends_with("--ol-s3")
    {
        Some(format!("{name:?}: that prefix or suffix is reserved"))
    } else {
        None
    }
}

fn lifecycle(rules: &[LifecycleRule]) -> Result<BucketLifecycleConfiguration, ProviderError> {
    let build = |e: aws_sdk_s3::error::BuildError| ProviderError::Other(e.to_string());
    let rules = rules
        .iter()
        .map(|r| {
            let mut b = AwsRule::builder()
                .id(&r.id)
                .status(ExpirationStatus::Enabled)
                .filter(
                    LifecycleRuleFilter::builder()
                        .prefix(r.prefix.clone().unwrap_or_default())
                        .build(),
                );
            for t in &r.transitions {
                b = b.transitions(
                    AwsTransition::builder()
                        .days(t.days)
                        .storage_class(t.storage_class.aws())
                        .build(),
                );
            }
            if let Some(d) = r.expiration_days {
                b = b.expiration(LifecycleExpiration::builder().days(d).build());
            }
            if let Some(d) = r.noncurrent_expiration_days {
                b = b.noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(d)
                        .build(),
                );
            }
            b.build().map_err(build)
        })
        .collect::<Result<Vec<_>, _>>()?;
    BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(build)
}

fn not_found_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "NoSuchLifecycleConfiguration"
                | "NoSuchBucketPolicy"
                | "ServerSideEncryptionConfigurationNotFoundError"
                | "NoSuchPublicAccessBlockConfiguration"
                | "ReplicationConfigurationNotFoundError"
                | "NoSuchTagSet"
                | "NoSuchTagSetError"
        )
    )
}

/// Puts (or removes) every part of the bucket that differs between `old` and `new`
/// (everything, at create, when `old` is `None`).
async fn apply_parts(
    cx: &Cx<'_>,
    old: Option<&BucketArgs>,
    new: &BucketArgs,
) -> Result<(), ProviderError> {
    let client = s3(cx)?;
    let name = &new.name;
    let changed = |f: &dyn Fn(&BucketArgs) -> bool| old.is_none_or(|o| f(o) != f(new));
    if old.is_none_or(|o| o.tags != new.tags) {
        // PutBucketTagging replaces the whole set: strata's own tags are kept as they are.
        let mut all = match old {
            None => cx.create_tags(&BTreeMap::new()),
            Some(_) => match client.get_bucket_tagging().bucket(name).send().await {
                Ok(t) => t
                    .tag_set()
                    .iter()
                    .filter(|t| t.key().starts_with("strata:"))
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
                Err(e) if not_found_code(e.code()) => cx.tags_with(&BTreeMap::new()),
                Err(e) => return Err(api_error("s3:GetBucketTagging")(e)),
            },
        };
        all.extend(new.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        let tags = s3_tags(all)?;
        client
            .put_bucket_tagging()
            .bucket(name)
            .tagging(
                Tagging::builder()
                    .set_tag_set(Some(tags))
                    .build()
                    .map_err(|e| ProviderError::Other(e.to_string()))?,
            )
            .send()
            .await
            .map_err(api_error("s3:PutBucketTagging"))?;
    }
    if changed(&|a| a.versioning) && (new.versioning || old.is_some()) {
        client
            .put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(if new.versioning {
                        BucketVersioningStatus::Enabled
                    } else {
                        BucketVersioningStatus::Suspended
                    })
                    .build(),
            )
            .send()
            .await
            .map_err(api_error("s3:PutBucketVersioning"))?;
    }
    if old.is_none_or(|o| o.encryption != new.encryption) {
        let by_default = match &new.encryption {
            BucketEncryption::S3Managed => {
                ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
            }
            BucketEncryption::Kms { key_arn, .. } => ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(key_arn.value()?),
        }
        .build()
        .map_err(|e| ProviderError::Other(e.to_string()))?;
        let bucket_key = matches!(
            new.encryption,
            BucketEncryption::Kms {
                bucket_key: true,
                ..
            }
        );
        client
            .put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(by_default)
                            .bucket_key_enabled(bucket_key)
                            .build(),
                    )
                    .build()
                    .map_err(|e| ProviderError::Other(e.to_string()))?,
            )
            .send()
            .await
            .map_err(api_error("s3:PutBucketEncryption"))?;
    }
    if changed(&|a| a.block_public_access) {
        let on = new.block_public_access;
        client
            .put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(on)
                    .ignore_public_acls(on)
                    .block_public_policy(on)
                    .restrict_public_buckets(on)
                    .build(),
            )
            .send()
            .await
            .map_err(api_error("s3:PutPublicAccessBlock"))?;
    }
    if old.is_none_or(|o| o.lifecycle_rules != new.lifecycle_rules) {
        if new.lifecycle_rules.is_empty() {
            if old.is_some() {
                client
                    .delete_bucket_lifecycle()
                    .bucket(name)
                    .send()
                    .await
                    .map_err(api_error("s3:DeleteBucketLifecycle"))?;
            }
        } else {
            client
                .put_bucket_lifecycle_configuration()
                .bucket(name)
                .lifecycle_configuration(lifecycle(&new.lifecycle_rules)?)
                .send()
                .await
                .map_err(api_error("s3:PutBucketLifecycleConfiguration"))?;
        }
    }
    if old.is_none_or(|o| o.policy != new.policy) {
        match &new.policy {
            Some(p) => {
                client
                    .put_bucket_policy()
                    .bucket(name)
                    .policy(p.to_string())
                    .send()
                    .await
                    .map_err(api_error("s3:PutBucketPolicy"))?;
            }
            None if old.is_some() => {
                client
                    .delete_bucket_policy()
                    .bucket(name)
                    .send()
                    .await
                    .map_err(api_error("s3:DeleteBucketPolicy"))?;
            }
            None => {}
        }
    }
    if old.is_none_or(|o| o.replication != new.replication) {
        match &new.replication {
            Some(r) => {
                let rule = ReplicationRule::builder()
                    .id("strata-replication")
                    .priority(1)
                    .status(ReplicationRuleStatus::Enabled)
                    .filter(ReplicationRuleFilter::builder().prefix("").build())
                    .delete_marker_replication(
                        DeleteMarkerReplication::builder()
                            .status(DeleteMarkerReplicationStatus::Disabled)
                            .build(),
                    )
                    .destination(
                        Destination::builder()
                            .bucket(r.destination_bucket_arn.value()?)
                            .build()
                            .map_err(|e| ProviderError::Other(e.to_string()))?,
                    )
                    .build()
                    .map_err(|e| ProviderError::Other(e.to_string()))?;
                client
                    .put_bucket_replication()
                    .bucket(name)
                    .replication_configuration(
                        ReplicationConfiguration::builder()
                            .role(r.role_arn.value()?)
                            .rules(rule)
                            .build()
                            .map_err(|e| ProviderError::Other(e.to_string()))?,
                    )
                    .send()
                    .await
                    .map_err(api_error("s3:PutBucketReplication"))?;
            }
            None if old.is_some() => {
                client
                    .delete_bucket_replication()
                    .bucket(name)
                    .send()
                    .await
                    .map_err(api_error("s3:DeleteBucketReplication"))?;
            }
            None => {}
        }
    }
    Ok(())
}

/// How long a `force_destroy` delete empties a bucket at most.
const EMPTY_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How many times it lists the whole bucket again (objects written meanwhile) at most.
const EMPTY_PASSES: usize = 20;
/// How many of the objects S3 refuses to delete an error names.
const NAMED: usize = 5;

/// The object versions S3 refused to delete in one pass.
#[derive(Debug, Default)]
struct Refused {
    count: usize,
    code: Option<String>,
    named: Vec<String>,
}

impl Refused {
    fn into_error(self, bucket: &str) -> ProviderError {
        let more = self.count.saturating_sub(self.named.len());
        ProviderError::Api {
            operation: "s3:DeleteObjects".to_owned(),
            code: self.code,
            message: format!(
                "bucket {bucket} is kept: S3 refused to delete {} object version(s) (object lock, a legal hold or a policy protects them): {}{}",
                self.count,
                self.named.join("; "),
                if more > 0 {
                    format!("; and {more} more")
                } else {
                    String::new()
                }
            ),
        }
    }
}

/// Deletes every object version and delete marker of the bucket: in passes over the
/// whole listing, for at most [`EMPTY_TIMEOUT`] and [`EMPTY_PASSES`]. Versions that S3
/// refuses to delete fail the delete, naming them.
async fn empty(client: &aws_sdk_s3::Client, name: &str) -> Result<(), ProviderError> {
    let deadline = Instant::now() + EMPTY_TIMEOUT;
    let build = |e: aws_sdk_s3::error::BuildError| ProviderError::Other(e.to_string());
    for _ in 0..EMPTY_PASSES {
        let mut refused = Refused::default();
        let mut deleted = 0usize;
        let (mut key_marker, mut version_marker) = (None, None);
        loop {
            if Instant::now() > deadline {
                return Err(ProviderError::Timeout {
                    after: EMPTY_TIMEOUT,
                    what: format!(
                        "bucket {name} to be emptied ({deleted} object versions deleted in this pass)"
                    ),
                });
            }
            let page = client
                .list_object_versions()
                .bucket(name)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(api_error("s3:ListObjectVersions"))?;
            let versions = page
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    page.delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                );
            let ids = versions
                .map(|(key, version)| {
                    ObjectIdentifier::builder()
                        .key(key.unwrap_or_default())
                        .set_version_id(version.map(str::to_owned))
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(build)?;
            if !ids.is_empty() {
                let asked = ids.len();
                let out = client
                    .delete_objects()
                    .bucket(name)
                    .delete(
                        Delete::builder()
                            .set_objects(Some(ids))
                            .quiet(true)
                            .build()
                            .map_err(build)?,
                    )
                    .send()
                    .await
                    .map_err(api_error("s3:DeleteObjects"))?;
                for e in out.errors() {
                    refused.count += 1;
                    if refused.code.is_none() {
                        refused.code = e.code().map(str::to_owned);
                    }
                    if refused.named.len() < NAMED {
                        refused.named.push(format!(
                            "{:?} (version {}): {}",
                            e.key().unwrap_or_default(),
                            e.version_id().unwrap_or("null"),
                            e.code().or(e.message()).unwrap_or("refused")
                        ));
                    }
                }
                deleted += asked.saturating_sub(out.errors().len());
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                break;
            }
        }
        if refused.count > 0 {
            return Err(refused.into_error(name));
        }
        if deleted == 0 {
            return Ok(());
        }
    }
    Err(ProviderError::Other(format!(
        "bucket {name} still holds objects after {EMPTY_PASSES} passes deleting every version: something keeps writing to it"
    )))
}

#[async_trait]
impl Resource for Bucket {
    const TYPE: &'static str = "aws:s3/bucket";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = BucketArgs;
    type Outputs = BucketOutputs;

    fn validate(args: &BucketArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(m) = check_name(&args.name) {
            errs.push(FieldError::new("name", m));
        }
        if args.tags.len() > 47 {
            errs.push(FieldError::new(
                "tags",
                "S3 allows 50 tags, and strata adds 3",
            ));
        }
        let mut ids = std::collections::BTreeSet::new();
        for (k, r) in args.lifecycle_rules.iter().enumerate() {
            let f = |s: &str| format!("lifecycle_rules.{k}.{s}");
            if r.id.is_empty() || r.id.len() > 255 || !ids.insert(&r.id) {
                errs.push(FieldError::new(
                    f("id"),
                    "1 to 255 characters, unique in the bucket",
                ));
            }
            if r.transitions.is_empty()
                && r.expiration_days.is_none()
                && r.noncurrent_expiration_days.is_none()
            {
                errs.push(FieldError::new(
                    f("transitions"),
                    "a rule needs a transition or an expiration",
                ));
            }
            let mut last = -1;
            for (j, t) in r.transitions.iter().enumerate() {
                let min = match t.storage_class {
                    StorageClass::StandardIa | StorageClass::OnezoneIa => 30,
                    _ => 0,
                };
                if t.days < min {
                    errs.push(FieldError::new(
                        f(&format!("transitions.{j}.days")),
                        format!(
                            "{} days: S3 moves objects to {:?} after at least {min} days",
                            t.days, t.storage_class
                        ),
                    ));
                }
                if t.days <= last {
                    errs.push(FieldError::new(
                        f(&format!("transitions.{j}.days")),
                        "transitions go in increasing days",
                    ));
                }
                last = t.days;
            }
            if let Some(d) = r.expiration_days {
                if d < 1 || d <= last {
                    errs.push(FieldError::new(
                        f("expiration_days"),
                        format!("{d} days: at least 1, and after the last transition ({last})"),
                    ));
                }
            }
            if r.noncurrent_expiration_days.is_some_and(|d| d < 1) {
                errs.push(FieldError::new(
                    f("noncurrent_expiration_days"),
                    "at least 1 day",
                ));
            }
        }
        if args.replication.is_some() && !args.versioning {
            errs.push(FieldError::new(
                "replication",
                "replication needs versioning on the bucket (and the destination)",
            ));
        }
        if let Some(p) = &args.policy {
            if p.get("Statement").is_none() {
                errs.push(FieldError::new(
                    "policy",
                    "a policy document is a JSON object with a Statement",
                ));
            }
        }
        errs
    }

    fn estimate(_: &BucketArgs) -> Duration {
        Duration::from_secs(5)
    }

    /// Creates the bucket with strata's tags, then puts its parts. A bucket of that name
    /// that already exists is never created "again": in us-east-1, `CreateBucket` answers
    /// 200 for a bucket this account owns, so an existing bucket is refused before it.
    async fn create(
        cx: &Cx<'_>,
        args: &BucketArgs,
    ) -> Result<Created<BucketOutputs>, ProviderError> {
        let client = s3(cx)?;
        let taken = |message: String| ProviderError::AlreadyExists {
            operation: "s3:CreateBucket".to_owned(),
            message,
        };
        if client.head_bucket().bucket(&args.name).send().await.is_ok() {
            return Err(taken(format!("bucket {} already exists", args.name)));
        }
        let mut conf = CreateBucketConfiguration::builder()
            .set_tags(Some(s3_tags(cx.create_tags(&args.tags))?));
        if let Some(r) = cx
            .aws()?
            .region()
            .map(ToString::to_string)
            .filter(|r| r != "us-east-1")
        {
            conf = conf.location_constraint(BucketLocationConstraint::from(r.as_str()));
        }
        match client
            .create_bucket()
            .bucket(&args.name)
            .create_bucket_configuration(conf.build())
            .send()
            .await
        {
            Ok(_) => {}
            // This account's bucket or another account's: never ours to change.
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                }) =>
            {
                return Err(taken(e.message().map_or_else(
                    || format!("bucket {} exists", args.name),
                    str::to_owned,
                )));
            }
            Err(e) => return Err(api_error("s3:CreateBucket")(e)),
        }
        apply_parts(cx, None, args).await?;
        Ok(Created {
            id: args.name.clone(),
            outputs: outputs(cx, &args.name),
        })
    }

    /// Found again by its name only with proof that this create made it: its
    /// `strata:token` tag (set as the bucket is created). A bucket without tags, or with
    /// another token, is not this create's. Then its parts are put (the create may have
    /// stopped before them).
    async fn recover(
        cx: &Cx<'_>,
        args: &BucketArgs,
    ) -> Result<Recovery<BucketOutputs>, ProviderError> {
        let client = s3(cx)?;
        match client.head_bucket().bucket(&args.name).send().await {
            Ok(_) => {}
            // No such bucket (404), or another account's or region's (403, 301): nothing
            // this create made.
            Err(e)
                if e.raw_response()
                    .is_some_and(|r| matches!(r.status().as_u16(), 301 | 403 | 404)) =>
            {
                return Ok(Recovery::Absent);
            }
            Err(e) => return Err(api_error("s3:HeadBucket")(e)),
        }
        let tags = match client.get_bucket_tagging().bucket(&args.name).send().await {
            Ok(t) => t.tag_set().to_vec(),
            Err(e) if not_found_code(e.code()) => return Ok(Recovery::Absent),
            Err(e) => return Err(api_error("s3:GetBucketTagging")(e)),
        };
        if !cx.owns(tags.iter().map(|t| (t.key(), t.value()))) {
            return Ok(Recovery::Absent);
        }
        apply_parts(cx, None, args).await?;
        Ok(Recovery::Found(Created {
            id: args.name.clone(),
            outputs: outputs(cx, &args.name),
        }))
    }

    /// A bucket that holds any object version or delete marker, without `force_destroy`.
    async fn delete_blocker(
        cx: &Cx<'_>,
        id: &str,
        args: &BucketArgs,
        _: &BucketOutputs,
    ) -> Result<Option<FieldError>, ProviderError> {
        if args.force_destroy {
            return Ok(None);
        }
        let page = match s3(cx)?
            .list_object_versions()
            .bucket(id)
            .max_keys(1)
            .send()
            .await
        {
            Ok(p) => p,
            Err(e) if e.code() == Some("NoSuchBucket") => return Ok(None),
            Err(e) => return Err(api_error("s3:ListObjectVersions")(e)),
        };
        let first = page
            .versions()
            .iter()
            .map(|v| v.key())
            .chain(page.delete_markers().iter().map(|m| m.key()))
            .next();
        Ok(first.map(|key| {
            FieldError::new(
                "force_destroy",
                format!(
                    "bucket {id} holds objects ({:?}, and maybe more), and strata never empties a bucket unasked: set force_destroy(true) and run `up` first, or empty the bucket yourself",
                    key.unwrap_or_default()
                ),
            )
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&BucketArgs>,
    ) -> Result<Option<Observed<BucketArgs, BucketOutputs>>, ProviderError> {
        let client = s3(cx)?;
        match client.head_bucket().bucket(id).send().await {
            Ok(_) => {}
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                return Ok(None)
            }
            Err(e) => return Err(api_error("s3:HeadBucket")(e)),
        }
        let versioning = client
            .get_bucket_versioning()
            .bucket(id)
            .send()
            .await
            .map_err(api_error("s3:GetBucketVersioning"))?
            .status()
            == Some(&BucketVersioningStatus::Enabled);
        let encryption = match client.get_bucket_encryption().bucket(id).send().await {
            Ok(o) => {
                let rule = o
                    .server_side_encryption_configuration()
                    .and_then(|c| c.rules().first())
                    .cloned();
                let d = rule
                    .as_ref()
                    .and_then(|r| r.apply_server_side_encryption_by_default());
                match d.map(|d| (d.sse_algorithm(), d.kms_master_key_id())) {
                    Some((ServerSideEncryption::AwsKms, key)) => BucketEncryption::Kms {
                        key_arn: Input::Value(key.unwrap_or_default().to_owned()),
                        bucket_key: rule.and_then(|r| r.bucket_key_enabled()).unwrap_or(false),
                    },
                    _ => BucketEncryption::S3Managed,
                }
            }
            Err(e) if not_found_code(e.code()) => BucketEncryption::S3Managed,
            Err(e) => return Err(api_error("s3:GetBucketEncryption")(e)),
        };
        let block_public_access = match client.get_public_access_block().bucket(id).send().await {
            Ok(o) => o.public_access_block_configuration().is_some_and(|c| {
                c.block_public_acls() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.restrict_public_buckets() == Some(true)
            }),
            Err(e) if not_found_code(e.code()) => false,
            Err(e) => return Err(api_error("s3:GetPublicAccessBlock")(e)),
        };
        let lifecycle_rules = match client
            .get_bucket_lifecycle_configuration()
            .bucket(id)
            .send()
            .await
        {
            Ok(o) => o
                .rules()
                .iter()
                .map(|r| LifecycleRule {
                    id: r.id().unwrap_or_default().to_owned(),
                    prefix: r
                        .filter()
                        .and_then(|f| f.prefix())
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned),
                    transitions: r
                        .transitions()
                        .iter()
                        .filter_map(|t| {
                            Some(Transition {
                                days: t.days()?,
                                storage_class: StorageClass::from_aws(t.storage_class()?)?,
                            })
                        })
                        .collect(),
                    expiration_days: r.expiration().and_then(|e| e.days()),
                    noncurrent_expiration_days: r
                        .noncurrent_version_expiration()
                        .and_then(|e| e.noncurrent_days()),
                })
                .collect(),
            Err(e) if not_found_code(e.code()) => Vec::new(),
            Err(e) => return Err(api_error("s3:GetBucketLifecycleConfiguration")(e)),
        };
        // A bucket that declares no policy leaves it to a `BucketPolicy` (or to no one):
        // what it finds is not its drift.
        let policy = if args.is_some_and(|a| a.policy.is_none()) {
            None
        } else {
            match client.get_bucket_policy().bucket(id).send().await {
                Ok(o) => o.policy().and_then(|p| serde_json::from_str(p).ok()),
                Err(e) if not_found_code(e.code()) => None,
                Err(e) => return Err(api_error("s3:GetBucketPolicy")(e)),
            }
        };
        let replication = match client.get_bucket_replication().bucket(id).send().await {
            Ok(o) => o.replication_configuration().and_then(|c| {
                Some(Replication {
                    role_arn: Input::Value(c.role().to_owned()),
                    destination_bucket_arn: Input::Value(
                        c.rules().first()?.destination()?.bucket().to_owned(),
                    ),
                })
            }),
            Err(e) if not_found_code(e.code()) => None,
            Err(e) => return Err(api_error("s3:GetBucketReplication")(e)),
        };
        let tags = match client.get_bucket_tagging().bucket(id).send().await {
            Ok(t) => t
                .tag_set()
                .iter()
                .filter(|t| strata_core::aws::is_user_tag(t.key()))
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
            Err(e) if not_found_code(e.code()) => BTreeMap::new(),
            Err(e) => return Err(api_error("s3:GetBucketTagging")(e)),
        };
        Ok(Some(Observed {
            args: BucketArgs {
                name: id.to_owned(),
                versioning,
                encryption,
                block_public_access,
                lifecycle_rules,
                policy,
                replication,
                force_destroy: args.is_some_and(|a| a.force_destroy),
                tags,
            },
            outputs: outputs(cx, id),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        _: &str,
        old: &BucketArgs,
        new: &BucketArgs,
        outputs: &BucketOutputs,
    ) -> Result<BucketOutputs, ProviderError> {
        apply_parts(cx, Some(old), new).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        args: &BucketArgs,
        _: &BucketOutputs,
    ) -> Result<(), ProviderError> {
        let client = s3(cx)?;
        if args.force_destroy {
            match empty(&client, id).await {
                Ok(()) => {}
                Err(ProviderError::Api { code: Some(c), .. }) if c == "NoSuchBucket" => {
                    return Ok(())
                }
                Err(e) => return Err(e),
            }
        }
        match client.delete_bucket().bucket(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("NoSuchBucket") => Ok(()),
            Err(e) if e.code() == Some("BucketNotEmpty") => Err(ProviderError::Invalid {
                field: "force_destroy".into(),
                message: format!("bucket {id} holds objects, and strata never empties a bucket unasked: set force_destroy(true) and run `up` first, or empty the bucket yourself"),
            }),
            Err(e) => Err(api_error("s3:DeleteBucket")(e)),
        }
    }
}
