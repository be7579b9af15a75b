//! `ReplicationGroup`: an ElastiCache for Redis replication group (a primary and its
//! replicas).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticache::client::Waiters;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::cache_subnet_group::{
    create_tags, elasticache, live_tags, not_found, owned, update_tags,
};

const TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// A Redis replication group, encrypted at rest and in transit by default.
///
/// The node type, automatic failover, Multi-AZ, the snapshot retention and the security
/// groups change in place (`ModifyReplicationGroup`, applied immediately); the id, the
/// subnet group, the port and the encryption settings replace it. Automatic failover
/// needs at least two nodes, and Multi-AZ needs automatic failover. A group of that id
/// that this stack did not make is never taken over.
///
/// ```
/// use strata_core::Stack;
/// use strata_data::{CacheSubnetGroup, CacheSubnetGroupHandle, ReplicationGroup};
/// let mut s = Stack::new("dev");
/// let subnets = s.add("cache-subnets", CacheSubnetGroup::new("shop-cache", ["subnet-a", "subnet-b"]));
/// s.add("sessions", ReplicationGroup::redis("shop-sessions", "cache.r5.large", 2, subnets.name()));
/// ```
#[derive(Debug)]
pub struct ReplicationGroup;

/// The args of a [`ReplicationGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationGroupArgs {
    /// The id.
    pub id: String,
    /// The description.
    pub description: String,
    /// The node type (`cache.r5.large`).
    pub node_type: String,
    /// Nodes: a primary and replicas (1 to 6).
    pub num_cache_clusters: i32,
    /// Promote a replica when the primary fails.
    pub automatic_failover: bool,
    /// Replicas in other AZs, failed over across AZs.
    pub multi_az: bool,
    /// The subnet group's name.
    pub subnet_group_name: Input<String>,
    /// Security groups.
    #[serde(default)]
    pub security_group_ids: Vec<Input<String>>,
    /// The engine version (default: the latest).
    #[serde(default)]
    pub engine_version: Option<String>,
    /// Encryption at rest.
    pub at_rest_encryption: bool,
    /// The KMS key of the encryption at rest.
    #[serde(default)]
    pub kms_key_id: Option<Input<String>>,
    /// TLS between clients and nodes.
    pub transit_encryption: bool,
    /// The port.
    pub port: i32,
    /// Days of automatic snapshots (0: none).
    pub snapshot_retention_limit: i32,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl ReplicationGroup {
    /// A Redis group `id` of `nodes` nodes of `node_type`; with two nodes or more,
    /// automatic failover and Multi-AZ are on.
    pub fn redis(
        id: impl Into<String>,
        node_type: impl Into<String>,
        nodes: i32,
        subnet_group: impl Into<Input<String>>,
    ) -> ReplicationGroupArgs {
        let id = id.into();
        ReplicationGroupArgs {
            description: format!("{id} (strata)"),
            id,
            node_type: node_type.into(),
            num_cache_clusters: nodes,
            automatic_failover: nodes > 1,
            multi_az: nodes > 1,
            subnet_group_name: subnet_group.into(),
            security_group_ids: Vec::new(),
            engine_version: None,
            at_rest_encryption: true,
            kms_key_id: None,
            transit_encryption: true,
            port: 6379,
            snapshot_retention_limit: 1,
            tags: BTreeMap::new(),
        }
    }
}

impl ReplicationGroupArgs {
    /// Encrypts at rest with this KMS key.
    pub fn kms_key(mut self, key: impl Into<Input<String>>) -> Self {
        self.at_rest_encryption = true;
        self.kms_key_id = Some(key.into());
        self
    }
    /// Adds a security group.
    pub fn security_group(mut self, id: impl Into<Input<String>>) -> Self {
        self.security_group_ids.push(id.into());
        self
    }
    /// Sets failover and Multi-AZ.
    pub fn failover(mut self, automatic: bool, multi_az: bool) -> Self {
        self.automatic_failover = automatic;
        self.multi_az = multi_az;
        self
    }
    /// Sets the snapshot retention.
    pub fn snapshots(mut self, days: i32) -> Self {
        self.snapshot_retention_limit = days;
        self
    }
    /// Sets the node type.
    pub fn node_type(mut self, t: impl Into<String>) -> Self {
        self.node_type = t.into();
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for ReplicationGroupArgs {
    type Resource = ReplicationGroup;
}

/// The outputs of a [`ReplicationGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationGroupOutputs {
    /// The id.
    pub id: String,
    /// The ARN.
    pub arn: String,
    /// The primary endpoint's host (writes).
    pub primary_endpoint: String,
    /// The reader endpoint's host.
    pub reader_endpoint: String,
    /// The port.
    pub port: i32,
}

strata_core::outputs!(ReplicationGroup => ReplicationGroupHandle {
    /// The ARN.
    arn: String,
    /// The primary endpoint's host.
    primary_endpoint: String,
    /// The reader endpoint's host.
    reader_endpoint: String,
});

fn values(v: &[Input<String>]) -> Result<Vec<String>, ProviderError> {
    v.iter()
        .map(|s| s.value().cloned().map_err(Into::into))
        .collect()
}

fn outputs(g: &aws_sdk_elasticache::types::ReplicationGroup, port: i32) -> ReplicationGroupOutputs {
    let ng = g.node_groups().first();
    ReplicationGroupOutputs {
        id: g.replication_group_id().unwrap_or_default().to_owned(),
        arn: g.arn().unwrap_or_default().to_owned(),
        primary_endpoint: ng
            .and_then(|n| n.primary_endpoint())
            .and_then(|e| e.address())
            .unwrap_or_default()
            .to_owned(),
        reader_endpoint: ng
            .and_then(|n| n.reader_endpoint())
            .and_then(|e| e.address())
            .unwrap_or_default()
            .to_owned(),
        port: ng
            .and_then(|n| n.primary_endpoint())
            .and_then(|e| e.port())
            .unwrap_or(port),
    }
}

async fn describe(
    cx: &Cx<'_>,
    id: &str,
) -> Result<Option<aws_sdk_elasticache::types::ReplicationGroup>, ProviderError> {
    match elasticache(cx)?
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
    {
        Ok(o) => Ok(o.replication_groups().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("elasticache:DescribeReplicationGroups")(e)),
    }
}

async fn wait_available(cx: &Cx<'_>, id: &str) -> Result<(), ProviderError> {
    elasticache(cx)?
        .wait_until_replication_group_available()
        .replication_group_id(id)
        .wait(TIMEOUT)
        .await
        .map_err(|e| ProviderError::Timeout {
            after: TIMEOUT,
            what: format!("replication group {id} to be available ({e})"),
        })?;
    Ok(())
}

#[async_trait]
impl Resource for ReplicationGroup {
    const TYPE: &'static str = "aws:elasticache/replication-group";
    const REPLACE_ON: &'static [&'static str] = &[
        "id",
        "subnet_group_name",
        "port",
        "at_rest_encryption",
        "kms_key_id",
        "transit_encryption",
    ];
    const IDENTITY: &'static [&'static str] = &["id"];
    type Args = ReplicationGroupArgs;
    type Outputs = ReplicationGroupOutputs;

    fn validate(a: &ReplicationGroupArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let id = &a.id;
        let ok = !id.is_empty()
            && id.len() <= 40
            && id.starts_with(|c: char| c.is_ascii_alphabetic())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !id.contains("--")
            && !id.ends_with('-');
        if !ok {
            errs.push(FieldError::new(
                "id",
                format!("{id:?}: 1 to 40 letters, digits or hyphens, starting with a letter"),
            ));
        }
        if !a.node_type.starts_with("cache.") {
            errs.push(FieldError::new(
                "node_type",
                format!(
                    "{:?} is not a cache node type (cache.r5.large)",
                    a.node_type
                ),
            ));
        }
        if !(1..=6).contains(&a.num_cache_clusters) {
            errs.push(FieldError::new(
                "num_cache_clusters",
                format!("{}: a group has 1 to 6 nodes", a.num_cache_clusters),
            ));
        }
        if a.automatic_failover && a.num_cache_clusters < 2 {
            errs.push(FieldError::new(
                "automatic_failover",
                "automatic failover needs at least two nodes",
            ));
        }
        if a.multi_az && !a.automatic_failover {
            errs.push(FieldError::new(
                "multi_az",
                "Multi-AZ needs automatic failover",
            ));
        }
        if a.kms_key_id.is_some() && !a.at_rest_encryption {
            errs.push(FieldError::new(
                "kms_key_id",
                "a KMS key needs at_rest_encryption",
            ));
        }
        if !(1..=65535).contains(&a.port) {
            errs.push(FieldError::new(
                "port",
                format!("{} is outside 1-65535", a.port),
            ));
        }
        if !(0..=35).contains(&a.snapshot_retention_limit) {
            errs.push(FieldError::new(
                "snapshot_retention_limit",
                format!("{} days: 0 to 35", a.snapshot_retention_limit),
            ));
        }
        errs
    }

    fn estimate(_: &ReplicationGroupArgs) -> Duration {
        Duration::from_secs(600)
    }

    async fn create(
        cx: &Cx<'_>,
        a: &ReplicationGroupArgs,
    ) -> Result<Created<ReplicationGroupOutputs>, ProviderError> {
        elasticache(cx)?
            .create_replication_group()
            .replication_group_id(&a.id)
            .replication_group_description(&a.description)
            .engine("redis")
            .set_engine_version(a.engine_version.clone())
            .cache_node_type(&a.node_type)
            .num_cache_clusters(a.num_cache_clusters)
            .automatic_failover_enabled(a.automatic_failover)
            .multi_az_enabled(a.multi_az)
            .cache_subnet_group_name(a.subnet_group_name.value()?)
            .set_security_group_ids(Some(values(&a.security_group_ids)?))
            .at_rest_encryption_enabled(a.at_rest_encryption)
            .set_kms_key_id(
                a.kms_key_id
                    .as_ref()
                    .map(|k| k.value().cloned())
                    .transpose()?,
            )
            .transit_encryption_enabled(a.transit_encryption)
            .port(a.port)
            .snapshot_retention_limit(a.snapshot_retention_limit)
            .set_tags(Some(create_tags(cx, &a.tags)))
            .send()
            .await
            .map_err(api_error("elasticache:CreateReplicationGroup"))?;
        wait_available(cx, &a.id).await?;
        let g = describe(cx, &a.id)
            .await?
            .ok_or_else(|| ProviderError::NotFound(a.id.clone()))?;
        Ok(Created {
            id: a.id.clone(),
            outputs: outputs(&g, a.port),
        })
    }

    /// Found again by its id only with proof that this create made it: its `strata:token`
    /// tag, passed to `CreateReplicationGroup`. A group that is still `creating` (a create
    /// killed while AWS builds it) is waited for first: ElastiCache lists the tags of a
    /// replication group only once it is available. A group being deleted is not the one
    /// this create made.
    async fn recover(
        cx: &Cx<'_>,
        a: &ReplicationGroupArgs,
    ) -> Result<Recovery<ReplicationGroupOutputs>, ProviderError> {
        let Some(mut g) = describe(cx, &a.id).await? else {
            return Ok(Recovery::Absent);
        };
        match g.status() {
            Some("deleting") => return Ok(Recovery::Absent),
            Some("create-failed") => {
                return Ok(Recovery::Unknown(format!(
                    "replication group {} is in state create-failed, and its tags cannot be read: if it carries the tag strata:token={}, delete it and run `up` again; otherwise it is not this stack's, and the group needs another id",
                    a.id, cx.token
                )));
            }
            Some("available") => {}
            // A group this create made is `creating` (its tags are readable once it is
            // available); one modifying or snapshotting was there before: not this
            // create's.
            Some("creating") => {
                wait_available(cx, &a.id).await?;
                g = describe(cx, &a.id)
                    .await?
                    .ok_or_else(|| ProviderError::NotFound(a.id.clone()))?;
            }
            _ => return Ok(Recovery::Absent),
        }
        if !owned(cx, &elasticache(cx)?, g.arn().unwrap_or_default()).await? {
            return Ok(Recovery::Absent);
        }
        Ok(Recovery::Found(Created {
            id: a.id.clone(),
            outputs: outputs(&g, a.port),
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&ReplicationGroupArgs>,
    ) -> Result<Option<Observed<ReplicationGroupArgs, ReplicationGroupOutputs>>, ProviderError>
    {
        let Some(g) = describe(cx, id).await? else {
            return Ok(None);
        };
        if g.status() == Some("deleting") {
            return Ok(None);
        }
        let port = args.map_or(6379, |a| a.port);
        let on = |s: Option<&str>| s == Some("enabled");
        Ok(Some(Observed {
            args: ReplicationGroupArgs {
                id: id.to_owned(),
                description: g.description().unwrap_or_default().to_owned(),
                node_type: g.cache_node_type().unwrap_or_default().to_owned(),
                num_cache_clusters: i32::try_from(g.member_clusters().len()).unwrap_or(0),
                automatic_failover: on(g.automatic_failover().map(|s| s.as_str())),
                multi_az: on(g.multi_az().map(|s| s.as_str())),
                // Not reported by DescribeReplicationGroups: kept as declared.
                subnet_group_name: args.map_or_else(
                    || Input::Value(String::new()),
                    |a| a.subnet_group_name.clone(),
                ),
                security_group_ids: args
                    .map(|a| a.security_group_ids.clone())
                    .unwrap_or_default(),
                engine_version: args.and_then(|a| a.engine_version.clone()),
                at_rest_encryption: g.at_rest_encryption_enabled().unwrap_or(false),
                kms_key_id: match (g.kms_key_id(), args.and_then(|a| a.kms_key_id.clone())) {
                    (Some(_), Some(declared)) => Some(declared),
                    (live, _) => live.map(|k| Input::Value(k.to_owned())),
                },
                transit_encryption: g.transit_encryption_enabled().unwrap_or(false),
                port: outputs(&g, port).port,
                snapshot_retention_limit: g.snapshot_retention_limit().unwrap_or(0),
                tags: live_tags(&elasticache(cx)?, g.arn().unwrap_or_default()).await?,
            },
            outputs: outputs(&g, port),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &ReplicationGroupArgs,
        new: &ReplicationGroupArgs,
        outputs_in: &ReplicationGroupOutputs,
    ) -> Result<ReplicationGroupOutputs, ProviderError> {
        let client = elasticache(cx)?;
        let (mut a, mut b) = (old.clone(), new.clone());
        a.tags.clear();
        b.tags.clear();
        a.num_cache_clusters = 0;
        b.num_cache_clusters = 0;
        if a != b {
            client
                .modify_replication_group()
                .replication_group_id(id)
                .replication_group_description(&new.description)
                .cache_node_type(&new.node_type)
                .automatic_failover_enabled(new.automatic_failover)
                .multi_az_enabled(new.multi_az)
                .snapshot_retention_limit(new.snapshot_retention_limit)
                .set_security_group_ids(Some(values(&new.security_group_ids)?))
                .set_engine_version(new.engine_version.clone())
                .apply_immediately(true)
                .send()
                .await
                .map_err(api_error("elasticache:ModifyReplicationGroup"))?;
            wait_available(cx, id).await?;
        }
        if old.num_cache_clusters != new.num_cache_clusters {
            let replicas = new.num_cache_clusters - 1;
            if new.num_cache_clusters > old.num_cache_clusters {
                client
                    .increase_replica_count()
                    .replication_group_id(id)
                    .new_replica_count(replicas)
                    .apply_immediately(true)
                    .send()
                    .await
                    .map_err(api_error("elasticache:IncreaseReplicaCount"))?;
            } else {
                client
                    .decrease_replica_count()
                    .replication_group_id(id)
                    .new_replica_count(replicas)
                    .apply_immediately(true)
                    .send()
                    .await
                    .map_err(api_error("elasticache:DecreaseReplicaCount"))?;
            }
            wait_available(cx, id).await?;
        }
        update_tags(&client, &outputs_in.arn, &old.tags, &new.tags).await?;
        Ok(outputs_in.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &ReplicationGroupArgs,
        _: &ReplicationGroupOutputs,
    ) -> Result<(), ProviderError> {
        let client = elasticache(cx)?;
        match client
            .delete_replication_group()
            .replication_group_id(id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if not_found(&e) => return Ok(()),
            Err(e) => return Err(api_error("elasticache:DeleteReplicationGroup")(e)),
        }
        client
            .wait_until_replication_group_deleted()
            .replication_group_id(id)
            .wait(TIMEOUT)
            .await
            .map_err(|e| ProviderError::Timeout {
                after: TIMEOUT,
                what: format!("replication group {id} to be deleted ({e})"),
            })?;
        Ok(())
    }
}
