//! `DbInstance`: an RDS database instance (PostgreSQL by default).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_rds::client::Waiters;
use aws_sdk_rds::error::ProvideErrorMetadata;
use aws_sdk_secretsmanager::types::RotationRulesType;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::aws::kms::KMS_KEY_TYPE;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    StackView, Urn,
};

use crate::db_subnet_group::DbSubnetGroup;
use crate::engine_version::{offered, satisfies, upgrade_target, version_not_offered, well_formed};
use crate::rds_common::{
    check_identifier, create_tags, not_found, owned, rds, same_set, update_tags, user_tags,
};

const TIMEOUT: Duration = Duration::from_secs(90 * 60);

/// An RDS instance.
///
/// Safe by default: storage encrypted, not publicly accessible, deletion protection on, a
/// final snapshot on delete, 7 days of backups, and the master password managed by RDS
/// in Secrets Manager (never in strata's state). Class, storage, Multi-AZ, backups,
/// groups and protection change in place, applied immediately or in the next maintenance
/// window (`apply_immediately`); the engine, the identifier, the master user, the
/// database name and the encryption replace it. A delete under deletion protection (read
/// live) is refused before the run starts, naming the field. An instance of that
/// identifier that this stack did not make is never taken over.
///
/// **The master secret's rotation.** RDS rotates the secret it keeps the master password
/// in on AWS's default schedule (every 7 days) unless `master_user_secret_rotation_days`
/// sets another: create (and update, in place) set it with Secrets Manager's
/// `RotateSecret`, rotation rules only (the rotation is RDS's own, no function) and no
/// rotation right away; read reports it from `DescribeSecret` (`None` when rotation is
/// off). Back to `None`, the schedule is left as it is.
///
/// ```
/// use strata_core::Stack;
/// use strata_data::{DbInstance, DbSubnetGroup, DbSubnetGroupHandle, StorageType};
/// let mut s = Stack::new("dev");
/// let subnets = s.add("db-subnets", DbSubnetGroup::new("shop-db", ["subnet-a", "subnet-b"]));
/// s.add("db", DbInstance::postgres("shop-db", "14", "db.r5.xlarge", subnets.name())
///     .storage(500, StorageType::Gp3).multi_az(true)
///     .master_user_secret_rotation(90));
/// ```
#[derive(Debug)]
pub struct DbInstance;

/// The storage type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageType {
    /// General purpose SSD, gp3.
    Gp3,
    /// General purpose SSD, gp2.
    Gp2,
    /// Provisioned IOPS SSD.
    Io1,
}

impl StorageType {
    fn as_str(self) -> &'static str {
        match self {
            StorageType::Gp3 => "gp3",
            StorageType::Gp2 => "gp2",
            StorageType::Io1 => "io1",
        }
    }
}

/// The args of a [`DbInstance`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbInstanceArgs {
    /// The instance identifier.
    pub identifier: String,
    /// The engine (`postgres`).
    pub engine: String,
    /// The engine version: a major version (`16`), which RDS fills in with its default
    /// minor, or a minimum minor version (`16.4`). A live instance that a minor upgrade
    /// has moved past it still satisfies it (no diff: AWS never downgrades); a minor RDS
    /// no longer offers is created as the newest offered minor above it.
    pub engine_version: String,
    /// Allow a major version upgrade when `engine_version` changes major.
    #[serde(default)]
    pub allow_major_version_upgrade: bool,
    /// The instance class (`db.r5.xlarge`).
    pub instance_class: String,
    /// Storage, GiB.
    pub allocated_storage: i32,
    /// The storage type.
    pub storage_type: StorageType,
    /// Provisioned IOPS (io1; gp3 above 400 GiB).
    #[serde(default)]
    pub iops: Option<i32>,
    /// A standby in another AZ.
    pub multi_az: bool,
    /// The subnet group's name.
    pub db_subnet_group_name: Input<String>,
    /// Security groups.
    #[serde(default)]
    pub vpc_security_group_ids: Vec<Input<String>>,
    /// The parameter group's name.
    #[serde(default)]
    pub parameter_group_name: Option<Input<String>>,
    /// The initial database.
    #[serde(default)]
    pub db_name: Option<String>,
    /// The master user.
    pub master_username: String,
    /// The KMS key of the master password's secret (default: Secrets Manager's).
    #[serde(default)]
    pub master_user_secret_kms_key_id: Option<Input<String>>,
    /// Days between rotations of the master password's secret (1 to 1000; RDS rotates
    /// it). `None`: AWS's schedule (7 days by default), untouched.
    #[serde(default)]
    pub master_user_secret_rotation_days: Option<i64>,
    /// Days of automated backups (0 to 35).
    pub backup_retention_period: i32,
    /// The daily backup window, UTC (`03:00-04:00`).
    #[serde(default)]
    pub preferred_backup_window: Option<String>,
    /// Encrypted storage.
    pub storage_encrypted: bool,
    /// The KMS key of the storage.
    #[serde(default)]
    pub kms_key_id: Option<Input<String>>,
    /// Reachable from the internet (never, unless said so).
    pub publicly_accessible: bool,
    /// Refuse deletes.
    pub deletion_protection: bool,
    /// Skip the final snapshot on delete.
    pub skip_final_snapshot: bool,
    /// Apply modifications now rather than in the maintenance window.
    pub apply_immediately: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The instance this one is a read replica of (its identifier), in the same region:
    /// made by CreateDBInstanceReadReplica, with the source's engine, storage, encryption
    /// and subnet group. See [`DbInstanceArgs::read_replica`].
    #[serde(default)]
    pub replicate_source_db: Option<Input<String>>,
}

impl DbInstance {
    /// A PostgreSQL instance `identifier` of `engine_version` and `instance_class`, in the
    /// subnet group `subnet_group`, with 20 GiB of gp3.
    pub fn postgres(
        identifier: impl Into<String>,
        engine_version: impl Into<String>,
        instance_class: impl Into<String>,
        subnet_group: impl Into<Input<String>>,
    ) -> DbInstanceArgs {
        DbInstanceArgs {
            identifier: identifier.into(),
            engine: "postgres".into(),
            engine_version: engine_version.into(),
            allow_major_version_upgrade: false,
            instance_class: instance_class.into(),
            allocated_storage: 20,
            storage_type: StorageType::Gp3,
            iops: None,
            multi_az: false,
            db_subnet_group_name: subnet_group.into(),
            vpc_security_group_ids: Vec::new(),
            parameter_group_name: None,
            db_name: None,
            master_username: "app_admin".into(),
            master_user_secret_kms_key_id: None,
            master_user_secret_rotation_days: None,
            backup_retention_period: 7,
            preferred_backup_window: None,
            storage_encrypted: true,
            kms_key_id: None,
            publicly_accessible: false,
            deletion_protection: true,
            skip_final_snapshot: false,
            apply_immediately: true,
            tags: BTreeMap::new(),
            replicate_source_db: None,
        }
    }
}

impl DbInstanceArgs {
    /// Sets the storage.
    pub fn storage(mut self, gib: i32, kind: StorageType) -> Self {
        self.allocated_storage = gib;
        self.storage_type = kind;
        self
    }
    /// Sets Multi-AZ.
    pub fn multi_az(mut self, on: bool) -> Self {
        self.multi_az = on;
        self
    }
    /// Encrypts storage (and the password's secret) with this KMS key.
    pub fn kms_key(mut self, key: impl Into<Input<String>>) -> Self {
        let key = key.into();
        self.kms_key_id = Some(key.clone());
        self.master_user_secret_kms_key_id = Some(key);
        self
    }
    /// Rotates the master password's secret (managed by RDS) every `days` days.
    pub fn master_user_secret_rotation(mut self, days: i64) -> Self {
        self.master_user_secret_rotation_days = Some(days);
        self
    }
    /// Sets the backups.
    pub fn backups(mut self, days: i32, window: impl Into<String>) -> Self {
        self.backup_retention_period = days;
        self.preferred_backup_window = Some(window.into());
        self
    }
    /// Adds a security group.
    pub fn security_group(mut self, id: impl Into<Input<String>>) -> Self {
        self.vpc_security_group_ids.push(id.into());
        self
    }
    /// Sets the parameter group.
    pub fn parameter_group(mut self, name: impl Into<Input<String>>) -> Self {
        self.parameter_group_name = Some(name.into());
        self
    }
    /// Sets the initial database's name.
    pub fn db_name(mut self, name: impl Into<String>) -> Self {
        self.db_name = Some(name.into());
        self
    }
    /// Sets deletion protection.
    pub fn deletion_protection(mut self, on: bool) -> Self {
        self.deletion_protection = on;
        self
    }
    /// Skips (or not) the final snapshot on delete.
    pub fn skip_final_snapshot(mut self, skip: bool) -> Self {
        self.skip_final_snapshot = skip;
        self
    }
    /// Applies modifications now (true) or in the maintenance window (false).
    pub fn apply_immediately(mut self, now: bool) -> Self {
        self.apply_immediately = now;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
    /// A read replica `identifier` of the instance these args declare, whose identifier
    /// is `source` (its handle's `identifier()`, so the replica follows it): the same
    /// engine, version, class, storage, encryption, groups and protection, which a
    /// replica inherits. It has no backups, no master secret of its own, and no final
    /// snapshot (RDS takes none of a replica). Multi-AZ and the class can be set after.
    pub fn read_replica(
        &self,
        identifier: impl Into<String>,
        source: impl Into<Input<String>>,
    ) -> DbInstanceArgs {
        DbInstanceArgs {
            identifier: identifier.into(),
            replicate_source_db: Some(source.into()),
            multi_az: false,
            backup_retention_period: 0,
            preferred_backup_window: None,
            master_user_secret_kms_key_id: None,
            master_user_secret_rotation_days: None,
            skip_final_snapshot: true,
            ..self.clone()
        }
    }
}

impl ResourceArgs for DbInstanceArgs {
    type Resource = DbInstance;
}

/// The outputs of a [`DbInstance`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbInstanceOutputs {
    /// The identifier (its id).
    pub identifier: String,
    /// The ARN.
    pub arn: String,
    /// The endpoint's host name.
    pub address: String,
    /// The port.
    pub port: i32,
    /// `address:port`.
    pub endpoint: String,
    /// The Secrets Manager secret RDS keeps the master password in.
    pub master_user_secret_arn: Option<String>,
    /// The version the instance runs (`14.17` for a declared `14`).
    #[serde(default)]
    pub engine_version: String,
}

strata_core::outputs!(DbInstance => DbInstanceHandle {
    /// The identifier.
    identifier: String,
    /// The ARN.
    arn: String,
    /// The endpoint's host name.
    address: String,
    /// `address:port`.
    endpoint: String,
    /// The master password's secret.
    master_user_secret_arn: Option<String>,
    /// The version the instance runs.
    engine_version: String,
});

fn values(v: &[Input<String>]) -> Result<Vec<String>, ProviderError> {
    v.iter()
        .map(|s| s.value().cloned().map_err(Into::into))
        .collect()
}

fn opt(v: &Option<Input<String>>) -> Result<Option<String>, ProviderError> {
    v.as_ref()
        .map(|s| s.value().cloned())
        .transpose()
        .map_err(Into::into)
}

fn outputs(d: &aws_sdk_rds::types::DbInstance) -> DbInstanceOutputs {
    let address = d
        .endpoint()
        .and_then(|e| e.address())
        .unwrap_or_default()
        .to_owned();
    let port = d.endpoint().and_then(|e| e.port()).unwrap_or(5432);
    DbInstanceOutputs {
        identifier: d.db_instance_identifier().unwrap_or_default().to_owned(),
        arn: d.db_instance_arn().unwrap_or_default().to_owned(),
        endpoint: format!("{address}:{port}"),
        address,
        port,
        master_user_secret_arn: d
            .master_user_secret()
            .and_then(|s| s.secret_arn())
            .map(str::to_owned),
        engine_version: d.engine_version().unwrap_or_default().to_owned(),
    }
}

/// The final snapshot of instance `id` deleted at `at`: `ID-final-YYYYMMDDHHMMSS`, unique
/// per deletion (a fixed name would make the second deploy-and-destroy cycle fail with
/// DBSnapshotAlreadyExists, the first cycle's snapshot being kept on purpose). An instance
/// identifier has at most 63 characters, so the name stays within the 255 allowed.
fn final_snapshot_name(id: &str, at: std::time::SystemTime) -> String {
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // The civil date of a day count (Howard Hinnant's algorithm), UTC.
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{id}-final-{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn secretsmanager(cx: &Cx<'_>) -> Result<aws_sdk_secretsmanager::Client, ProviderError> {
    cx.client(aws_sdk_secretsmanager::Client::new)
}

/// Sets the rotation schedule of instance `id`'s RDS-managed master secret (`secret`, its
/// ARN) to every `days` days: rotation rules only, since RDS rotates it itself (no
/// function), and no rotation now.
async fn set_master_secret_rotation(
    cx: &Cx<'_>,
    id: &str,
    secret: Option<&str>,
    days: i64,
) -> Result<(), ProviderError> {
    let secret = secret.ok_or_else(|| {
        ProviderError::Other(format!(
            "DB instance {id} reports no RDS-managed master user secret to set the rotation of"
        ))
    })?;
    secretsmanager(cx)?
        .rotate_secret()
        .secret_id(secret)
        .rotation_rules(
            RotationRulesType::builder()
                .automatically_after_days(days)
                .build(),
        )
        .rotate_immediately(false)
        .send()
        .await
        .map_err(api_error("secretsmanager:RotateSecret"))?;
    Ok(())
}

/// Sets the declared rotation schedule of the master secret, if one is declared.
async fn ensure_master_secret_rotation(
    cx: &Cx<'_>,
    a: &DbInstanceArgs,
    out: &DbInstanceOutputs,
) -> Result<(), ProviderError> {
    match a.master_user_secret_rotation_days {
        Some(days) => {
            set_master_secret_rotation(
                cx,
                &a.identifier,
                out.master_user_secret_arn.as_deref(),
                days,
            )
            .await
        }
        None => Ok(()),
    }
}

/// The days between rotations of the master secret `secret` (its ARN): `None` when its
/// rotation is off or it is gone.
async fn master_secret_rotation(cx: &Cx<'_>, secret: &str) -> Result<Option<i64>, ProviderError> {
    match secretsmanager(cx)?
        .describe_secret()
        .secret_id(secret)
        .send()
        .await
    {
        Ok(d) if d.rotation_enabled() == Some(true) => Ok(d
            .rotation_rules()
            .and_then(|r| r.automatically_after_days())),
        Ok(_) => Ok(None),
        Err(e)
            if aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(&e)
                == Some("ResourceNotFoundException") =>
        {
            Ok(None)
        }
        Err(e) => Err(api_error("secretsmanager:DescribeSecret")(e)),
    }
}

async fn describe(
    cx: &Cx<'_>,
    id: &str,
) -> Result<Option<aws_sdk_rds::types::DbInstance>, ProviderError> {
    match rds(cx)?
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
    {
        Ok(o) => Ok(o.db_instances().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("rds:DescribeDBInstances")(e)),
    }
}

async fn wait_available(
    cx: &Cx<'_>,
    id: &str,
) -> Result<aws_sdk_rds::types::DbInstance, ProviderError> {
    rds(cx)?
        .wait_until_db_instance_available()
        .db_instance_identifier(id)
        .wait(TIMEOUT)
        .await
        .map_err(|e| ProviderError::Timeout {
            after: TIMEOUT,
            what: format!("DB instance {id} to be available ({e})"),
        })?;
    describe(cx, id)
        .await?
        .ok_or_else(|| ProviderError::NotFound(id.to_owned()))
}

/// `key` as a declaration states it: an AWS managed key (`aws/rds`,
/// `aws/secretsmanager`), which AWS reports by its ARN when no key was given, reads as
/// none. (A state refreshed by an older strata may hold that ARN: read this way, the
/// next refresh heals it instead of planning a replacement.) A key named by an alias is
/// kept as declared; a key that cannot be described is kept as it is.
async fn customer_key(cx: &Cx<'_>, key: Option<Input<String>>) -> Option<Input<String>> {
    let Some(Input::Value(k)) = &key else {
        return key;
    };
    if k.starts_with("alias/") || k.contains(":alias/") {
        return key;
    }
    let Ok(kms) = cx.client(aws_sdk_kms::Client::new) else {
        return key;
    };
    match kms.describe_key().key_id(k).send().await {
        Ok(d)
            if d.key_metadata().and_then(|m| m.key_manager())
                == Some(&aws_sdk_kms::types::KeyManagerType::Aws) =>
        {
            None
        }
        Ok(_) => key,
        Err(e) => {
            tracing::debug!(key = %k, "kms:DescribeKey failed ({e}); the key is read as it is");
            key
        }
    }
}

/// What refuses the delete of instance `id` under deletion protection, and the way out.
fn protected(id: &str) -> FieldError {
    FieldError::new(
        "deletion_protection",
        format!("DB instance {id} has deletion protection on: set deletion_protection(false) and run `up` first, then delete it"),
    )
}

fn check_window(errs: &mut Vec<FieldError>, w: &str) {
    let part = |p: &str| {
        let (h, m) = p.split_once(':')?;
        let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    let ok = w
        .split_once('-')
        .and_then(|(a, b)| Some((part(a)?, part(b)?)));
    match ok {
        Some((a, b)) if (b + 1440 - a) % 1440 >= 30 => {}
        _ => errs.push(FieldError::new(
            "preferred_backup_window",
            format!("{w:?}: hh24:mi-hh24:mi UTC, at least 30 minutes"),
        )),
    }
}

/// Snapshots outlive the stack: the final snapshot a delete takes (unless
/// `skip_final_snapshot`) and the snapshots declared `retain_on_delete`. They are
/// encrypted with the instance's key, so a key of the stack that encrypts one must be
/// kept too (`retain_on_delete`): otherwise `destroy` schedules its deletion, and once it
/// is deleted the snapshots can never be restored. One error per key, on the key.
fn check_kept_keys(stack: &StackView<'_>) -> Vec<(Urn, FieldError)> {
    let mut kept: BTreeMap<&Urn, Vec<String>> = BTreeMap::new();
    let mut keep = |db: &strata_core::Declared<'_>, what: String| {
        for key in db
            .references("kms_key_id")
            .into_iter()
            .filter_map(|k| stack.get(k))
            .filter(|k| k.type_name() == KMS_KEY_TYPE && !k.retained())
        {
            kept.entry(key.urn()).or_default().push(what.clone());
        }
    };
    for db in stack.of_type(DbInstance::TYPE) {
        if db.retained() {
            keep(
                &db,
                format!("DB instance {} (retain_on_delete)", db.urn().name()),
            );
        } else if db.literal("skip_final_snapshot").and_then(|v| v.as_bool()) != Some(true) {
            keep(
                &db,
                format!("the final snapshot of DB instance {}", db.urn().name()),
            );
        }
    }
    for snap in stack
        .of_type(crate::db_snapshot::DbSnapshot::TYPE)
        .filter(|s| s.retained())
    {
        for db in snap.references("db_instance_identifier") {
            if let Some(db) = stack.get(db).filter(|d| d.type_name() == DbInstance::TYPE) {
                keep(
                    &db,
                    format!("snapshot {} (retain_on_delete)", snap.urn().name()),
                );
            }
        }
    }
    kept.into_iter()
        .map(|(key, what)| {
            (
                key.clone(),
                FieldError::new(
                    "retain_on_delete",
                    format!(
                        "{} outlives the stack and is encrypted with this key, which a delete would schedule for deletion (the data could then never be restored): declare the key with ResourceOptions::default().retain_on_delete(), or, for a database whose data need not outlive it, skip_final_snapshot(true)",
                        what.join(" and ")
                    ),
                ),
            )
        })
        .collect()
}

#[async_trait]
impl Resource for DbInstance {
    const TYPE: &'static str = "aws:rds/instance";
    const REPLACE_ON: &'static [&'static str] = &[
        "identifier",
        "engine",
        "master_username",
        "db_name",
        "storage_encrypted",
        "kms_key_id",
        "master_user_secret_kms_key_id",
        "replicate_source_db",
    ];
    const IDENTITY: &'static [&'static str] = &["identifier"];
    type Args = DbInstanceArgs;
    type Outputs = DbInstanceOutputs;

    fn validate(a: &DbInstanceArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        check_identifier(&mut errs, "identifier", &a.identifier, 63);
        if !a.instance_class.starts_with("db.") || a.instance_class.split('.').count() != 3 {
            errs.push(FieldError::new(
                "instance_class",
                format!(
                    "{:?} is not an RDS instance class (db.r5.xlarge)",
                    a.instance_class
                ),
            ));
        }
        let (min, max) = match a.storage_type {
            StorageType::Gp3 | StorageType::Gp2 => (20, 65536),
            StorageType::Io1 => (100, 65536),
        };
        if !(min..=max).contains(&a.allocated_storage) {
            errs.push(FieldError::new(
                "allocated_storage",
                format!(
                    "{} GiB: {} takes {min} to {max}",
                    a.allocated_storage,
                    a.storage_type.as_str()
                ),
            ));
        }
        if a.storage_type == StorageType::Io1 && a.iops.is_none() {
            errs.push(FieldError::new(
                "iops",
                "io1 storage needs provisioned IOPS",
            ));
        }
        if !(0..=35).contains(&a.backup_retention_period) {
            errs.push(FieldError::new(
                "backup_retention_period",
                format!("{} days: RDS keeps 0 to 35", a.backup_retention_period),
            ));
        }
        if let Some(w) = &a.preferred_backup_window {
            check_window(&mut errs, w);
        }
        if a.kms_key_id.is_some() && !a.storage_encrypted {
            errs.push(FieldError::new(
                "kms_key_id",
                "a KMS key needs storage_encrypted",
            ));
        }
        let u = &a.master_username;
        let user_ok = !u.is_empty()
            && u.len() <= 63
            && u.starts_with(|c: char| c.is_ascii_alphabetic())
            && u.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && u != "rdsadmin";
        if !user_ok {
            errs.push(FieldError::new(
                "master_username",
                format!(
                    "{u:?}: 1 to 63 letters, digits or _, starting with a letter; not rdsadmin"
                ),
            ));
        }
        if let Some(days) = a.master_user_secret_rotation_days {
            if !(1..=1000).contains(&days) {
                errs.push(FieldError::new(
                    "master_user_secret_rotation_days",
                    format!("{days} days: Secrets Manager rotates every 1 to 1000"),
                ));
            }
        }
        if a.engine.is_empty() || a.engine_version.is_empty() {
            errs.push(FieldError::new(
                "engine_version",
                "engine and version are required",
            ));
        } else if !well_formed(&a.engine, &a.engine_version) {
            errs.push(FieldError::new(
                "engine_version",
                format!(
                    "{:?}: a major version (\"16\") or a minimum minor version (\"16.4\")",
                    a.engine_version
                ),
            ));
        }
        errs
    }

    /// Multi-AZ needs a subnet group of at least two subnets.
    fn check_stack(stack: &StackView<'_>) -> Vec<(Urn, FieldError)> {
        let mut errs = Vec::new();
        for db in stack.of_type(Self::TYPE) {
            let multi = db.literal("multi_az").and_then(|v| v.as_bool()) == Some(true);
            let group = db
                .reference("db_subnet_group_name")
                .and_then(|u| stack.get(u))
                .filter(|g| g.urn().type_name() == DbSubnetGroup::TYPE);
            let count = group
                .and_then(|g| g.literal("subnet_ids"))
                .and_then(|v| v.as_array().map(Vec::len));
            if multi && count.is_some_and(|n| n < 2) {
                errs.push((db.urn().clone(), FieldError::new("multi_az", "Multi-AZ needs a subnet group with subnets in at least two availability zones")));
            }
        }
        errs.extend(check_kept_keys(stack));
        errs
    }

    fn estimate(a: &DbInstanceArgs) -> Duration {
        Duration::from_secs(if a.multi_az { 900 } else { 600 })
    }

    async fn create(
        cx: &Cx<'_>,
        a: &DbInstanceArgs,
    ) -> Result<Created<DbInstanceOutputs>, ProviderError> {
        if let Some(source) = &a.replicate_source_db {
            // Engine, version, storage, encryption and subnet group come from the source
            // (a subnet group may be named only for a replica in another region).
            rds(cx)?
                .create_db_instance_read_replica()
                .db_instance_identifier(&a.identifier)
                .source_db_instance_identifier(source.value()?)
                .db_instance_class(&a.instance_class)
                .multi_az(a.multi_az)
                .storage_type(a.storage_type.as_str())
                .set_iops(a.iops)
                .set_vpc_security_group_ids(Some(values(&a.vpc_security_group_ids)?))
                .set_db_parameter_group_name(opt(&a.parameter_group_name)?)
                .publicly_accessible(a.publicly_accessible)
                .deletion_protection(a.deletion_protection)
                .set_tags(Some(create_tags(cx, &a.tags)))
                .send()
                .await
                .map_err(api_error("rds:CreateDBInstanceReadReplica"))?;
            let d = wait_available(cx, &a.identifier).await?;
            return Ok(Created {
                id: a.identifier.clone(),
                outputs: outputs(&d),
            });
        }
        let call = rds(cx)?
            .create_db_instance()
            .db_instance_identifier(&a.identifier)
            .engine(&a.engine)
            .engine_version(&a.engine_version)
            .db_instance_class(&a.instance_class)
            .allocated_storage(a.allocated_storage)
            .storage_type(a.storage_type.as_str())
            .set_iops(a.iops)
            .multi_az(a.multi_az)
            .db_subnet_group_name(a.db_subnet_group_name.value()?)
            .set_vpc_security_group_ids(Some(values(&a.vpc_security_group_ids)?))
            .set_db_parameter_group_name(opt(&a.parameter_group_name)?)
            .set_db_name(a.db_name.clone())
            .master_username(&a.master_username)
            .manage_master_user_password(true)
            .set_master_user_secret_kms_key_id(opt(&a.master_user_secret_kms_key_id)?)
            .backup_retention_period(a.backup_retention_period)
            .set_preferred_backup_window(a.preferred_backup_window.clone())
            .storage_encrypted(a.storage_encrypted)
            .set_kms_key_id(opt(&a.kms_key_id)?)
            .publicly_accessible(a.publicly_accessible)
            .deletion_protection(a.deletion_protection)
            .set_tags(Some(create_tags(cx, &a.tags)));
        // A minor version RDS no longer offers: the newest offered one that satisfies it.
        match call.clone().send().await {
            Err(e) if version_not_offered(&e) => {
                let version = offered(cx, &a.engine, &a.engine_version).await?;
                call.engine_version(version).send().await
            }
            r => r,
        }
        .map_err(api_error("rds:CreateDBInstance"))?;
        let d = wait_available(cx, &a.identifier).await?;
        let out = outputs(&d);
        ensure_master_secret_rotation(cx, a, &out).await?;
        Ok(Created {
            id: a.identifier.clone(),
            outputs: out,
        })
    }

    /// Found again by its identifier only with proof that this create made it: its
    /// `strata:token` tag. An instance being deleted is not the one this create made.
    async fn recover(
        cx: &Cx<'_>,
        a: &DbInstanceArgs,
    ) -> Result<Recovery<DbInstanceOutputs>, ProviderError> {
        let Some(d) = describe(cx, &a.identifier).await? else {
            return Ok(Recovery::Absent);
        };
        if d.db_instance_status() == Some("deleting") {
            return Ok(Recovery::Absent);
        }
        if !owned(cx, &rds(cx)?, d.db_instance_arn().unwrap_or_default()).await? {
            return Ok(Recovery::Absent);
        }
        let d = wait_available(cx, &a.identifier).await?;
        let out = outputs(&d);
        // (Recovery only looks: an adopted instance without the schedule reads so, and the
        // plan's update sets it.)
        Ok(Recovery::Found(Created {
            id: a.identifier.clone(),
            outputs: out,
        }))
    }

    /// Deletion protection, as it is on the live instance.
    async fn delete_blocker(
        cx: &Cx<'_>,
        id: &str,
        _: &DbInstanceArgs,
        _: &DbInstanceOutputs,
    ) -> Result<Option<FieldError>, ProviderError> {
        Ok(describe(cx, id)
            .await?
            .filter(|d| d.deletion_protection() == Some(true))
            .map(|_| protected(id)))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&DbInstanceArgs>,
    ) -> Result<Option<Observed<DbInstanceArgs, DbInstanceOutputs>>, ProviderError> {
        let Some(d) = describe(cx, id).await? else {
            return Ok(None);
        };
        if d.db_instance_status() == Some("deleting") {
            return Ok(None);
        }
        let keep = |live: Option<&str>,
                    declared: Option<&Option<Input<String>>>|
         -> Option<Input<String>> {
            match (live, declared.and_then(|d| d.as_ref())) {
                // None declared: the AWS managed key (aws/rds, aws/secretsmanager), which
                // AWS reports by its ARN. Reading it back as declared would be drift, and
                // the key replaces the instance.
                (_, None) if declared.is_some() => None,
                // A key or group declared by ARN and reported by id (or the reverse).
                (Some(l), Some(Input::Value(dv)))
                    if dv.ends_with(l) || l.ends_with(dv.as_str()) =>
                {
                    Some(Input::Value(dv.clone()))
                }
                (Some(l), _) => Some(Input::Value(l.to_owned())),
                (None, _) => None,
            }
        };
        let sgs: Vec<String> = d
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_owned))
            .collect();
        let vpc_security_group_ids = match args {
            Some(a)
                if values(&a.vpc_security_group_ids)
                    .ok()
                    .is_some_and(|v| same_set(&v, &sgs)) =>
            {
                a.vpc_security_group_ids.clone()
            }
            // None declared: RDS put the VPC's default group there.
            Some(a) if a.vpc_security_group_ids.is_empty() => Vec::new(),
            _ => sgs.into_iter().map(Input::Value).collect(),
        };
        // A change waiting for the maintenance window is what the instance will be: it
        // is not drift.
        let pending = d.pending_modified_values();
        // The master secret's schedule, when one is declared (otherwise it is AWS's).
        let master_user_secret_rotation_days = match (
            args.and_then(|a| a.master_user_secret_rotation_days),
            d.master_user_secret().and_then(|s| s.secret_arn()),
        ) {
            (Some(_), Some(secret)) => master_secret_rotation(cx, secret).await?,
            _ => None,
        };
        let storage_type = match pending.and_then(|p| p.storage_type()).or(d.storage_type()) {
            Some("gp2") => StorageType::Gp2,
            Some("io1") => StorageType::Io1,
            _ => StorageType::Gp3,
        };
        Ok(Some(Observed {
            args: DbInstanceArgs {
                identifier: id.to_owned(),
                engine: d.engine().unwrap_or_default().to_owned(),
                engine_version: {
                    let live = pending
                        .and_then(|p| p.engine_version())
                        .or(d.engine_version())
                        .unwrap_or_default();
                    // A newer minor than declared (auto minor upgrade) is what was
                    // declared: AWS would refuse to go back.
                    match args {
                        Some(a) if satisfies(&a.engine, &a.engine_version, live) => {
                            a.engine_version.clone()
                        }
                        _ => live.to_owned(),
                    }
                },
                allow_major_version_upgrade: args.is_some_and(|a| a.allow_major_version_upgrade),
                instance_class: pending
                    .and_then(|p| p.db_instance_class())
                    .or(d.db_instance_class())
                    .unwrap_or_default()
                    .to_owned(),
                allocated_storage: pending
                    .and_then(|p| p.allocated_storage())
                    .or(d.allocated_storage())
                    .unwrap_or_default(),
                storage_type,
                iops: match storage_type {
                    StorageType::Io1 => d.iops(),
                    _ => args.and_then(|a| a.iops),
                },
                multi_az: pending
                    .and_then(|p| p.multi_az())
                    .or(d.multi_az())
                    .unwrap_or(false),
                db_subnet_group_name: Input::Value(
                    d.db_subnet_group()
                        .and_then(|g| g.db_subnet_group_name())
                        .unwrap_or_default()
                        .to_owned(),
                ),
                vpc_security_group_ids,
                parameter_group_name: match args.and_then(|a| a.parameter_group_name.as_ref()) {
                    Some(_) => d
                        .db_parameter_groups()
                        .first()
                        .and_then(|g| g.db_parameter_group_name())
                        .map(|n| Input::Value(n.to_owned())),
                    None => None,
                },
                db_name: d.db_name().map(str::to_owned),
                master_username: d.master_username().unwrap_or_default().to_owned(),
                master_user_secret_kms_key_id: customer_key(
                    cx,
                    keep(
                        d.master_user_secret().and_then(|s| s.kms_key_id()),
                        args.map(|a| &a.master_user_secret_kms_key_id),
                    ),
                )
                .await,
                master_user_secret_rotation_days,
                backup_retention_period: pending
                    .and_then(|p| p.backup_retention_period())
                    .or(d.backup_retention_period())
                    .unwrap_or_default(),
                preferred_backup_window: match args.and_then(|a| a.preferred_backup_window.as_ref())
                {
                    Some(_) => d.preferred_backup_window().map(str::to_owned),
                    None => None,
                },
                storage_encrypted: d.storage_encrypted().unwrap_or(false),
                kms_key_id: customer_key(cx, keep(d.kms_key_id(), args.map(|a| &a.kms_key_id)))
                    .await,
                publicly_accessible: d.publicly_accessible().unwrap_or(false),
                deletion_protection: d.deletion_protection().unwrap_or(false),
                skip_final_snapshot: args.is_some_and(|a| a.skip_final_snapshot),
                apply_immediately: args.is_none_or(|a| a.apply_immediately),
                tags: user_tags(d.tag_list()),
                replicate_source_db: {
                    // Reported by identifier (or by ARN, for a source in another region).
                    let live = d.read_replica_source_db_instance_identifier();
                    let declared = args
                        .and_then(|a| a.replicate_source_db.as_ref())
                        .and_then(|i| i.value().ok());
                    match (live, declared) {
                        (Some(l), Some(dv)) if l == dv || l.ends_with(&format!(":{dv}")) => {
                            Some(Input::Value(dv.clone()))
                        }
                        (l, _) => l.map(|l| Input::Value(l.to_owned())),
                    }
                },
            },
            outputs: outputs(&d),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &DbInstanceArgs,
        new: &DbInstanceArgs,
        outputs_in: &DbInstanceOutputs,
    ) -> Result<DbInstanceOutputs, ProviderError> {
        let client = rds(cx)?;
        let mut call = client
            .modify_db_instance()
            .db_instance_identifier(id)
            .apply_immediately(new.apply_immediately);
        let mut any = false;
        macro_rules! changed {
            ($f:ident, $set:ident, $v:expr) => {
                if old.$f != new.$f {
                    call = call.$set($v);
                    any = true;
                }
            };
        }
        changed!(instance_class, db_instance_class, &new.instance_class);
        changed!(allocated_storage, allocated_storage, new.allocated_storage);
        changed!(storage_type, storage_type, new.storage_type.as_str());
        changed!(multi_az, multi_az, new.multi_az);
        changed!(
            backup_retention_period,
            backup_retention_period,
            new.backup_retention_period
        );
        changed!(
            deletion_protection,
            deletion_protection,
            new.deletion_protection
        );
        changed!(
            publicly_accessible,
            publicly_accessible,
            new.publicly_accessible
        );
        if old.iops != new.iops {
            call = call.set_iops(new.iops);
            any = true;
        }
        // The live version, when the version is to change.
        let mut version = None;
        if old.engine_version != new.engine_version {
            // Only when the live version (or the one pending) does not satisfy the new
            // declaration already (it may have moved past it by a minor upgrade).
            let live = describe(cx, id)
                .await?
                .and_then(|d| {
                    d.pending_modified_values()
                        .and_then(|p| p.engine_version())
                        .or(d.engine_version())
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            if !satisfies(&new.engine, &new.engine_version, &live) {
                call = call
                    .engine_version(&new.engine_version)
                    .allow_major_version_upgrade(new.allow_major_version_upgrade);
                any = true;
                version = Some(live);
            }
        }
        if old.preferred_backup_window != new.preferred_backup_window {
            call = call.set_preferred_backup_window(new.preferred_backup_window.clone());
            any = true;
        }
        if old.vpc_security_group_ids != new.vpc_security_group_ids {
            call = call.set_vpc_security_group_ids(Some(values(&new.vpc_security_group_ids)?));
            any = true;
        }
        if old.parameter_group_name != new.parameter_group_name {
            call = call.set_db_parameter_group_name(opt(&new.parameter_group_name)?);
            any = true;
        }
        if old.db_subnet_group_name != new.db_subnet_group_name {
            call = call.db_subnet_group_name(new.db_subnet_group_name.value()?);
            any = true;
        }
        let mut out = outputs_in.clone();
        if any {
            // A version RDS does not offer, or cannot upgrade to from the live one (a
            // major alone names that major's default minor, which may be older than
            // the live minor's upgrade targets): the newest valid upgrade target that
            // satisfies the declaration.
            match (call.clone().send().await, &version) {
                (Err(e), Some(live)) if version_not_offered(&e) => {
                    let (v, major) =
                        upgrade_target(cx, &new.engine, live, &new.engine_version).await?;
                    if major && !new.allow_major_version_upgrade {
                        return Err(ProviderError::Invalid {
                            field: "allow_major_version_upgrade".to_owned(),
                            message: format!(
                                "the upgrade of DB instance {id} from {live} to {v} is a major version upgrade: set allow_major_version_upgrade"
                            ),
                        });
                    }
                    call.engine_version(v)
                        .allow_major_version_upgrade(major)
                        .send()
                        .await
                }
                (r, _) => r,
            }
            .map_err(api_error("rds:ModifyDBInstance"))?;
            if new.apply_immediately {
                out = outputs(&wait_available(cx, id).await?);
            }
        }
        if let Some(days) = new.master_user_secret_rotation_days {
            if old.master_user_secret_rotation_days != Some(days) {
                set_master_secret_rotation(cx, id, out.master_user_secret_arn.as_deref(), days)
                    .await?;
            }
        }
        update_tags(&client, &outputs_in.arn, &old.tags, &new.tags).await?;
        Ok(out)
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        a: &DbInstanceArgs,
        _: &DbInstanceOutputs,
    ) -> Result<(), ProviderError> {
        let client = rds(cx)?;
        let mut call = client.delete_db_instance().db_instance_identifier(id);
        call = if a.skip_final_snapshot {
            call.skip_final_snapshot(true)
        } else {
            call.skip_final_snapshot(false)
                .final_db_snapshot_identifier(final_snapshot_name(id, std::time::SystemTime::now()))
        };
        match call.send().await {
            Ok(_) => {}
            Err(e) if not_found(&e) => return Ok(()),
            // Deletion protection, as it is live (whatever the args in state say).
            Err(e)
                if e.code() == Some("InvalidParameterCombination")
                    && e.message()
                        .is_some_and(|m| m.contains("deletion protection")) =>
            {
                let f = protected(id);
                return Err(ProviderError::Invalid {
                    field: f.field,
                    message: f.message,
                });
            }
            Err(e) => return Err(api_error("rds:DeleteDBInstance")(e)),
        }
        client
            .wait_until_db_instance_deleted()
            .db_instance_identifier(id)
            .wait(TIMEOUT)
            .await
            .map_err(|e| ProviderError::Timeout {
                after: TIMEOUT,
                what: format!("DB instance {id} to be deleted ({e})"),
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_snapshots_are_named_by_the_time_of_deletion() {
        let leap = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(
            final_snapshot_name("shop-db", leap),
            "shop-db-final-20000229000000"
        );
        let epoch = std::time::UNIX_EPOCH;
        assert_eq!(final_snapshot_name("db", epoch), "db-final-19700101000000");
        let late = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_114_061);
        assert_eq!(final_snapshot_name("db", late), "db-final-20261201083421");
    }
}
