//! `DbSnapshot`: a manual snapshot of an RDS instance.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_rds::client::Waiters;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::rds_common::{
    check_identifier, create_tags, not_found, owned, rds, update_tags, user_tags,
};

const TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

/// A manual DB snapshot. It lives until deleted (automated backups expire; this does
/// not). The seed's weekly snapshots are a schedule of these, named per week. A snapshot
/// of that identifier that this stack did not make is never taken over.
///
/// ```
/// use strata_core::Stack;
/// use strata_data::DbSnapshot;
/// let mut s = Stack::new("dev");
/// s.add("db-2026-w47", DbSnapshot::new("shop-db", "shop-db-2026-w47"));
/// ```
#[derive(Debug)]
pub struct DbSnapshot;

/// The args of a [`DbSnapshot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbSnapshotArgs {
    /// The instance.
    pub db_instance_identifier: Input<String>,
    /// The snapshot identifier.
    pub identifier: String,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl DbSnapshot {
    /// A snapshot `identifier` of the instance `db_instance`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        db_instance: impl Into<Input<String>>,
        identifier: impl Into<String>,
    ) -> DbSnapshotArgs {
        DbSnapshotArgs {
            db_instance_identifier: db_instance.into(),
            identifier: identifier.into(),
            tags: BTreeMap::new(),
        }
    }
}

impl ResourceArgs for DbSnapshotArgs {
    type Resource = DbSnapshot;
}

/// The outputs of a [`DbSnapshot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbSnapshotOutputs {
    /// The identifier (its id).
    pub identifier: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(DbSnapshot => DbSnapshotHandle {
    /// The ARN.
    arn: String,
});

async fn describe(
    cx: &Cx<'_>,
    id: &str,
) -> Result<Option<aws_sdk_rds::types::DbSnapshot>, ProviderError> {
    match rds(cx)?
        .describe_db_snapshots()
        .db_snapshot_identifier(id)
        .send()
        .await
    {
        Ok(o) => Ok(o.db_snapshots().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("rds:DescribeDBSnapshots")(e)),
    }
}

async fn wait_available(cx: &Cx<'_>, id: &str) -> Result<(), ProviderError> {
    rds(cx)?
        .wait_until_db_snapshot_available()
        .db_snapshot_identifier(id)
        .wait(TIMEOUT)
        .await
        .map_err(|e| ProviderError::Timeout {
            after: TIMEOUT,
            what: format!("snapshot {id} to be available ({e})"),
        })?;
    Ok(())
}

#[async_trait]
impl Resource for DbSnapshot {
    const TYPE: &'static str = "aws:rds/snapshot";
    const REPLACE_ON: &'static [&'static str] = &["db_instance_identifier", "identifier"];
    const IDENTITY: &'static [&'static str] = &["identifier"];
    type Args = DbSnapshotArgs;
    type Outputs = DbSnapshotOutputs;

    fn validate(a: &DbSnapshotArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        check_identifier(&mut errs, "identifier", &a.identifier, 255);
        errs
    }

    fn estimate(_: &DbSnapshotArgs) -> Duration {
        Duration::from_secs(300)
    }

    async fn create(
        cx: &Cx<'_>,
        a: &DbSnapshotArgs,
    ) -> Result<Created<DbSnapshotOutputs>, ProviderError> {
        let client = rds(cx)?;
        let out = client
            .create_db_snapshot()
            .db_instance_identifier(a.db_instance_identifier.value()?)
            .db_snapshot_identifier(&a.identifier)
            .set_tags(Some(create_tags(cx, &a.tags)))
            .send()
            .await
            .map_err(api_error("rds:CreateDBSnapshot"))?;
        wait_available(cx, &a.identifier).await?;
        let arn = out
            .db_snapshot()
            .and_then(|s| s.db_snapshot_arn())
            .unwrap_or_default()
            .to_owned();
        Ok(Created {
            id: a.identifier.clone(),
            outputs: DbSnapshotOutputs {
                identifier: a.identifier.clone(),
                arn,
            },
        })
    }

    /// Found again by its identifier only with proof that this create made it: its
    /// `strata:token` tag. A snapshot being deleted is not the one this create made.
    async fn recover(
        cx: &Cx<'_>,
        a: &DbSnapshotArgs,
    ) -> Result<Recovery<DbSnapshotOutputs>, ProviderError> {
        let Some(s) = describe(cx, &a.identifier).await? else {
            return Ok(Recovery::Absent);
        };
        if s.status() == Some("deleting") {
            return Ok(Recovery::Absent);
        }
        let arn = s.db_snapshot_arn().unwrap_or_default().to_owned();
        if !owned(cx, &rds(cx)?, &arn).await? {
            return Ok(Recovery::Absent);
        }
        wait_available(cx, &a.identifier).await?;
        Ok(Recovery::Found(Created {
            id: a.identifier.clone(),
            outputs: DbSnapshotOutputs {
                identifier: a.identifier.clone(),
                arn,
            },
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&DbSnapshotArgs>,
    ) -> Result<Option<Observed<DbSnapshotArgs, DbSnapshotOutputs>>, ProviderError> {
        let Some(s) = describe(cx, id).await? else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: DbSnapshotArgs {
                db_instance_identifier: Input::Value(
                    s.db_instance_identifier().unwrap_or_default().to_owned(),
                ),
                identifier: id.to_owned(),
                tags: user_tags(s.tag_list()),
            },
            outputs: DbSnapshotOutputs {
                identifier: id.to_owned(),
                arn: s.db_snapshot_arn().unwrap_or_default().to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        _: &str,
        old: &DbSnapshotArgs,
        new: &DbSnapshotArgs,
        outputs: &DbSnapshotOutputs,
    ) -> Result<DbSnapshotOutputs, ProviderError> {
        update_tags(&rds(cx)?, &outputs.arn, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &DbSnapshotArgs,
        _: &DbSnapshotOutputs,
    ) -> Result<(), ProviderError> {
        match rds(cx)?
            .delete_db_snapshot()
            .db_snapshot_identifier(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("rds:DeleteDBSnapshot")(e)),
        }
    }
}
