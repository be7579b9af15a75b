//! `FileSystem`: an EFS file system, encrypted, with automatic backups.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_efs::types::{
    BackupPolicy, LifeCycleState, LifecyclePolicy, PerformanceMode as AwsPerformance, Status, Tag,
    ThroughputMode as AwsThroughput, TransitionToIaRules,
};
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, wait_for};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

const TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// An EFS file system. The creation token is the engine's idempotency token, so a
/// retried create finds the same file system (and never makes a second one). Throughput
/// mode, backups, the infrequent-access transition and tags change in place; the
/// performance mode and the encryption replace it. Mount it with [`crate::MountTarget`]s,
/// one per subnet.
///
/// ```
/// use strata_core::Stack;
/// use strata_data::{FileSystem, ThroughputMode};
/// let mut s = Stack::new("dev");
/// s.add("shared", FileSystem::new().throughput(ThroughputMode::Bursting).tag("Name", "shop-shared"));
/// ```
#[derive(Debug)]
pub struct FileSystem;

/// The performance mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PerformanceMode {
    /// General purpose (the default, lowest latency).
    #[default]
    GeneralPurpose,
    /// Max I/O.
    MaxIo,
}

/// The throughput mode.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThroughputMode {
    /// Scales with the size stored.
    #[default]
    Bursting,
    /// Scales with the workload.
    Elastic,
    /// A fixed rate, MiB/s.
    Provisioned(f64),
}

/// The args of a [`FileSystem`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSystemArgs {
    /// The performance mode.
    pub performance_mode: PerformanceMode,
    /// The throughput mode.
    pub throughput_mode: ThroughputMode,
    /// Encrypted at rest.
    pub encrypted: bool,
    /// The KMS key (default: `aws/elasticfilesystem`).
    #[serde(default)]
    pub kms_key_id: Option<Input<String>>,
    /// Automatic backups (AWS Backup's daily plan).
    pub backup: bool,
    /// Move files to Infrequent Access after N days (1, 7, 14, 30, 60, 90, 180, 270, 365).
    #[serde(default)]
    pub transition_to_ia_days: Option<i32>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl FileSystem {
    /// General purpose, bursting, encrypted, backed up.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> FileSystemArgs {
        FileSystemArgs {
            performance_mode: PerformanceMode::GeneralPurpose,
            throughput_mode: ThroughputMode::Bursting,
            encrypted: true,
            kms_key_id: None,
            backup: true,
            transition_to_ia_days: None,
            tags: BTreeMap::new(),
        }
    }
}

impl FileSystemArgs {
    /// Sets the throughput mode.
    pub fn throughput(mut self, t: ThroughputMode) -> Self {
        self.throughput_mode = t;
        self
    }
    /// Sets the performance mode.
    pub fn performance(mut self, p: PerformanceMode) -> Self {
        self.performance_mode = p;
        self
    }
    /// Encrypts with this KMS key.
    pub fn kms_key(mut self, key: impl Into<Input<String>>) -> Self {
        self.encrypted = true;
        self.kms_key_id = Some(key.into());
        self
    }
    /// Sets automatic backups.
    pub fn backup(mut self, on: bool) -> Self {
        self.backup = on;
        self
    }
    /// Moves files to Infrequent Access after `days`.
    pub fn transition_to_ia(mut self, days: i32) -> Self {
        self.transition_to_ia_days = Some(days);
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for FileSystemArgs {
    type Resource = FileSystem;
}

/// The outputs of a [`FileSystem`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSystemOutputs {
    /// `fs-…`.
    pub id: String,
    /// The ARN.
    pub arn: String,
    /// `fs-….efs.REGION.amazonaws.com` (what instances mount).
    pub dns_name: String,
}

strata_core::outputs!(FileSystem => FileSystemHandle {
    /// `fs-…`.
    id: String,
    /// The ARN.
    arn: String,
    /// The DNS name to mount.
    dns_name: String,
});

pub(crate) fn efs(cx: &Cx<'_>) -> Result<aws_sdk_efs::Client, ProviderError> {
    cx.client(aws_sdk_efs::Client::new)
}

pub(crate) fn not_found<E: aws_sdk_efs::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code().is_some_and(|c| c.ends_with("NotFound"))
}

const IA_DAYS: [(i32, TransitionToIaRules); 9] = [
    (1, TransitionToIaRules::After1Day),
    (7, TransitionToIaRules::After7Days),
    (14, TransitionToIaRules::After14Days),
    (30, TransitionToIaRules::After30Days),
    (60, TransitionToIaRules::After60Days),
    (90, TransitionToIaRules::After90Days),
    (180, TransitionToIaRules::After180Days),
    (270, TransitionToIaRules::After270Days),
    (365, TransitionToIaRules::After365Days),
];

fn outputs(cx: &Cx<'_>, f: &aws_sdk_efs::types::FileSystemDescription) -> FileSystemOutputs {
    let id = f.file_system_id().to_owned();
    let region = cx
        .aws()
        .ok()
        .and_then(|c| c.region().map(ToString::to_string))
        .unwrap_or_default();
    FileSystemOutputs {
        arn: f.file_system_arn().unwrap_or_default().to_owned(),
        dns_name: format!("{id}.efs.{region}.amazonaws.com"),
        id,
    }
}

async fn describe(
    cx: &Cx<'_>,
    id: &str,
) -> Result<Option<aws_sdk_efs::types::FileSystemDescription>, ProviderError> {
    match efs(cx)?
        .describe_file_systems()
        .file_system_id(id)
        .send()
        .await
    {
        Ok(o) => Ok(o.file_systems().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("efs:DescribeFileSystems")(e)),
    }
}

async fn wait_state(
    cx: &Cx<'_>,
    id: &str,
    gone: bool,
) -> Result<Option<aws_sdk_efs::types::FileSystemDescription>, ProviderError> {
    wait_for(
        format!(
            "file system {id} to be {}",
            if gone { "deleted" } else { "available" }
        ),
        TIMEOUT,
        Duration::from_secs(5),
        || async {
            let f = describe(cx, id).await?;
            Ok(match (gone, f) {
                (true, None) => Some(None),
                (true, Some(f)) if f.life_cycle_state() == &LifeCycleState::Deleted => Some(None),
                (false, Some(f)) if f.life_cycle_state() == &LifeCycleState::Available => {
                    Some(Some(f))
                }
                _ => None,
            })
        },
    )
    .await
}

async fn put_lifecycle(cx: &Cx<'_>, id: &str, days: Option<i32>) -> Result<(), ProviderError> {
    let policies: Vec<LifecyclePolicy> = days
        .and_then(|d| IA_DAYS.iter().find(|(n, _)| *n == d))
        .map(|(_, r)| {
            vec![LifecyclePolicy::builder()
                .transition_to_ia(r.clone())
                .build()]
        })
        .unwrap_or_default();
    efs(cx)?
        .put_lifecycle_configuration()
        .file_system_id(id)
        .set_lifecycle_policies(Some(policies))
        .send()
        .await
        .map_err(api_error("efs:PutLifecycleConfiguration"))?;
    Ok(())
}

#[async_trait]
impl Resource for FileSystem {
    const TYPE: &'static str = "aws:efs/file-system";
    const REPLACE_ON: &'static [&'static str] = &["performance_mode", "encrypted", "kms_key_id"];
    type Args = FileSystemArgs;
    type Outputs = FileSystemOutputs;

    fn validate(a: &FileSystemArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let ThroughputMode::Provisioned(m) = a.throughput_mode {
            if !(1.0..=3414.0).contains(&m) {
                errs.push(FieldError::new(
                    "throughput_mode",
                    format!("{m} MiB/s: provisioned throughput is 1 to 3414"),
                ));
            }
        }
        if a.performance_mode == PerformanceMode::MaxIo
            && a.throughput_mode == ThroughputMode::Elastic
        {
            errs.push(FieldError::new(
                "throughput_mode",
                "elastic throughput needs the general purpose performance mode",
            ));
        }
        if a.kms_key_id.is_some() && !a.encrypted {
            errs.push(FieldError::new("kms_key_id", "a KMS key needs encrypted"));
        }
        if let Some(d) = a.transition_to_ia_days {
            if !IA_DAYS.iter().any(|(n, _)| *n == d) {
                errs.push(FieldError::new(
                    "transition_to_ia_days",
                    format!("{d} days: EFS offers 1, 7, 14, 30, 60, 90, 180, 270 or 365"),
                ));
            }
        }
        errs
    }

    fn estimate(_: &FileSystemArgs) -> Duration {
        Duration::from_secs(30)
    }

    async fn create(
        cx: &Cx<'_>,
        a: &FileSystemArgs,
    ) -> Result<Created<FileSystemOutputs>, ProviderError> {
        let tags = cx.create_tags(&a.tags);
        let mut call = efs(cx)?
            .create_file_system()
            .creation_token(cx.token)
            .performance_mode(match a.performance_mode {
                PerformanceMode::GeneralPurpose => AwsPerformance::GeneralPurpose,
                PerformanceMode::MaxIo => AwsPerformance::MaxIo,
            })
            .encrypted(a.encrypted)
            .set_kms_key_id(
                a.kms_key_id
                    .as_ref()
                    .map(|k| k.value().cloned())
                    .transpose()?,
            )
            .backup(a.backup)
            .set_tags(Some(
                tags.into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect::<Result<_, _>>()
                    .map_err(|e| ProviderError::Other(e.to_string()))?,
            ));
        call = match a.throughput_mode {
            ThroughputMode::Bursting => call.throughput_mode(AwsThroughput::Bursting),
            ThroughputMode::Elastic => call.throughput_mode(AwsThroughput::Elastic),
            ThroughputMode::Provisioned(m) => call
                .throughput_mode(AwsThroughput::Provisioned)
                .provisioned_throughput_in_mibps(m),
        };
        let out = call
            .send()
            .await
            .map_err(api_error("efs:CreateFileSystem"))?;
        let id = out.file_system_id().to_owned();
        let f = wait_state(cx, &id, false)
            .await?
            .ok_or_else(|| ProviderError::NotFound(id.clone()))?;
        if a.transition_to_ia_days.is_some() {
            put_lifecycle(cx, &id, a.transition_to_ia_days).await?;
        }
        Ok(Created {
            outputs: outputs(cx, &f),
            id,
        })
    }

    /// Found again by its creation token, the create's idempotency token (EFS refuses a
    /// second file system of one token). A file system being deleted is not the one this
    /// create made. The create is finished: available, with its IA transition.
    async fn recover(
        cx: &Cx<'_>,
        a: &FileSystemArgs,
    ) -> Result<Recovery<FileSystemOutputs>, ProviderError> {
        let out = efs(cx)?
            .describe_file_systems()
            .creation_token(cx.token)
            .send()
            .await
            .map_err(api_error("efs:DescribeFileSystems"))?;
        let Some(f) = out.file_systems().first() else {
            return Ok(Recovery::Absent);
        };
        let id = f.file_system_id().to_owned();
        match f.life_cycle_state() {
            LifeCycleState::Deleting | LifeCycleState::Deleted => return Ok(Recovery::Absent),
            LifeCycleState::Error => {
                return Ok(Recovery::Unknown(format!(
                    "file system {id}, made with this create's token {}, is in state error: delete it and run `up` again",
                    cx.token
                )));
            }
            _ => {}
        }
        let f = wait_state(cx, &id, false)
            .await?
            .ok_or_else(|| ProviderError::NotFound(id.clone()))?;
        if a.transition_to_ia_days.is_some() {
            put_lifecycle(cx, &id, a.transition_to_ia_days).await?;
        }
        Ok(Recovery::Found(Created {
            outputs: outputs(cx, &f),
            id,
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&FileSystemArgs>,
    ) -> Result<Option<Observed<FileSystemArgs, FileSystemOutputs>>, ProviderError> {
        let Some(f) = describe(cx, id).await? else {
            return Ok(None);
        };
        if matches!(
            f.life_cycle_state(),
            LifeCycleState::Deleted | LifeCycleState::Deleting
        ) {
            return Ok(None);
        }
        let client = efs(cx)?;
        let backup = match client
            .describe_backup_policy()
            .file_system_id(id)
            .send()
            .await
        {
            Ok(b) => b.backup_policy().map(|p| p.status()) == Some(&Status::Enabled),
            Err(e)
                if aws_sdk_efs::error::ProvideErrorMetadata::code(&e) == Some("PolicyNotFound") =>
            {
                false
            }
            Err(e) => return Err(api_error("efs:DescribeBackupPolicy")(e)),
        };
        let lc = client
            .describe_lifecycle_configuration()
            .file_system_id(id)
            .send()
            .await
            .map_err(api_error("efs:DescribeLifecycleConfiguration"))?;
        let transition_to_ia_days = lc
            .lifecycle_policies()
            .iter()
            .find_map(|p| p.transition_to_ia())
            .and_then(|r| IA_DAYS.iter().find(|(_, x)| x == r).map(|(n, _)| *n));
        let throughput_mode = match f.throughput_mode() {
            Some(AwsThroughput::Elastic) => ThroughputMode::Elastic,
            Some(AwsThroughput::Provisioned) => {
                ThroughputMode::Provisioned(f.provisioned_throughput_in_mibps().unwrap_or_default())
            }
            _ => ThroughputMode::Bursting,
        };
        let kms_key_id = match (f.kms_key_id(), args.and_then(|a| a.kms_key_id.clone())) {
            (Some(live), Some(Input::Value(d)))
                if d.ends_with(live) || live.ends_with(d.as_str()) =>
            {
                Some(Input::Value(d))
            }
            (Some(_), None) => None,
            (live, _) => live.map(|k| Input::Value(k.to_owned())),
        };
        Ok(Some(Observed {
            args: FileSystemArgs {
                performance_mode: match f.performance_mode() {
                    AwsPerformance::MaxIo => PerformanceMode::MaxIo,
                    _ => PerformanceMode::GeneralPurpose,
                },
                throughput_mode,
                encrypted: f.encrypted().unwrap_or(false),
                kms_key_id,
                backup,
                transition_to_ia_days,
                tags: f
                    .tags()
                    .iter()
                    .filter(|t| strata_core::aws::is_user_tag(t.key()))
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
            },
            outputs: outputs(cx, &f),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &FileSystemArgs,
        new: &FileSystemArgs,
        outputs: &FileSystemOutputs,
    ) -> Result<FileSystemOutputs, ProviderError> {
        let client = efs(cx)?;
        if old.throughput_mode != new.throughput_mode {
            let mut call = client.update_file_system().file_system_id(id);
            call = match new.throughput_mode {
                ThroughputMode::Bursting => call.throughput_mode(AwsThroughput::Bursting),
                ThroughputMode::Elastic => call.throughput_mode(AwsThroughput::Elastic),
                ThroughputMode::Provisioned(m) => call
                    .throughput_mode(AwsThroughput::Provisioned)
                    .provisioned_throughput_in_mibps(m),
            };
            call.send()
                .await
                .map_err(api_error("efs:UpdateFileSystem"))?;
            wait_state(cx, id, false).await?;
        }
        if old.backup != new.backup {
            client
                .put_backup_policy()
                .file_system_id(id)
                .backup_policy(
                    BackupPolicy::builder()
                        .status(if new.backup {
                            Status::Enabled
                        } else {
                            Status::Disabled
                        })
                        .build()
                        .map_err(|e| ProviderError::Other(e.to_string()))?,
                )
                .send()
                .await
                .map_err(api_error("efs:PutBackupPolicy"))?;
        }
        if old.transition_to_ia_days != new.transition_to_ia_days {
            put_lifecycle(cx, id, new.transition_to_ia_days).await?;
        }
        let removed: Vec<String> = old
            .tags
            .keys()
            .filter(|k| !new.tags.contains_key(*k))
            .cloned()
            .collect();
        if !removed.is_empty() {
            client
                .untag_resource()
                .resource_id(id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("efs:UntagResource"))?;
        }
        let set = new
            .tags
            .iter()
            .filter(|(k, v)| old.tags.get(*k) != Some(*v))
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ProviderError::Other(e.to_string()))?;
        if !set.is_empty() {
            client
                .tag_resource()
                .resource_id(id)
                .set_tags(Some(set))
                .send()
                .await
                .map_err(api_error("efs:TagResource"))?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &FileSystemArgs,
        _: &FileSystemOutputs,
    ) -> Result<(), ProviderError> {
        match efs(cx)?
            .delete_file_system()
            .file_system_id(id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if not_found(&e) => return Ok(()),
            Err(e) => return Err(api_error("efs:DeleteFileSystem")(e)),
        }
        wait_state(cx, id, true).await?;
        Ok(())
    }
}
