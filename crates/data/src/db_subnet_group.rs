//! `DbSubnetGroup`: the subnets an RDS instance may live in.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::rds_common::{create_tags, not_found, owned, rds, same_set, update_tags, user_tags};

/// A DB subnet group (at least two subnets in two AZs, as RDS demands). The description
/// and the subnets change in place (`ModifyDBSubnetGroup`); the name replaces it. A group
/// of that name that this stack did not make is never taken over: the create fails naming
/// the conflict, and `import` is the way to manage it.
///
/// ```
/// use strata_core::Stack;
/// use strata_data::DbSubnetGroup;
/// let mut s = Stack::new("dev");
/// s.add("db-subnets", DbSubnetGroup::new("shop-db", ["subnet-a", "subnet-b"]));
/// ```
#[derive(Debug)]
pub struct DbSubnetGroup;

/// The args of a [`DbSubnetGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbSubnetGroupArgs {
    /// The name (lowercase).
    pub name: String,
    /// The description.
    pub description: String,
    /// The subnets.
    pub subnet_ids: Vec<Input<String>>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl DbSubnetGroup {
    /// A group `name` of `subnet_ids`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new<I: Into<Input<String>>>(
        name: impl Into<String>,
        subnet_ids: impl IntoIterator<Item = I>,
    ) -> DbSubnetGroupArgs {
        let name = name.into();
        DbSubnetGroupArgs {
            description: format!("{name} (strata)"),
            name,
            subnet_ids: subnet_ids.into_iter().map(Into::into).collect(),
            tags: BTreeMap::new(),
        }
    }
}

impl DbSubnetGroupArgs {
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for DbSubnetGroupArgs {
    type Resource = DbSubnetGroup;
}

/// The outputs of a [`DbSubnetGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbSubnetGroupOutputs {
    /// The name (its id).
    pub name: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(DbSubnetGroup => DbSubnetGroupHandle {
    /// The name.
    name: String,
    /// The ARN.
    arn: String,
});

fn subnets(args: &DbSubnetGroupArgs) -> Result<Vec<String>, ProviderError> {
    args.subnet_ids
        .iter()
        .map(|s| s.value().cloned().map_err(Into::into))
        .collect()
}

async fn describe(
    cx: &Cx<'_>,
    name: &str,
) -> Result<Option<aws_sdk_rds::types::DbSubnetGroup>, ProviderError> {
    match rds(cx)?
        .describe_db_subnet_groups()
        .db_subnet_group_name(name)
        .send()
        .await
    {
        Ok(o) => Ok(o.db_subnet_groups().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("rds:DescribeDBSubnetGroups")(e)),
    }
}

#[async_trait]
impl Resource for DbSubnetGroup {
    const TYPE: &'static str = "aws:rds/subnet-group";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = DbSubnetGroupArgs;
    type Outputs = DbSubnetGroupOutputs;

    fn validate(args: &DbSubnetGroupArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let n = &args.name;
        if n.is_empty()
            || n.len() > 255
            || n == "default"
            || !n
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || " ._-".contains(c))
        {
            errs.push(FieldError::new(
                "name",
                format!(
                    "{n:?}: up to 255 lowercase letters, digits, spaces, . _ -; not \"default\""
                ),
            ));
        }
        if args.subnet_ids.len() < 2 {
            errs.push(FieldError::new(
                "subnet_ids",
                "RDS needs subnets in at least two availability zones",
            ));
        }
        errs
    }

    fn estimate(_: &DbSubnetGroupArgs) -> Duration {
        Duration::from_secs(2)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &DbSubnetGroupArgs,
    ) -> Result<Created<DbSubnetGroupOutputs>, ProviderError> {
        let out = rds(cx)?
            .create_db_subnet_group()
            .db_subnet_group_name(&args.name)
            .db_subnet_group_description(&args.description)
            .set_subnet_ids(Some(subnets(args)?))
            .set_tags(Some(create_tags(cx, &args.tags)))
            .send()
            .await
            .map_err(api_error("rds:CreateDBSubnetGroup"))?;
        let arn = out
            .db_subnet_group()
            .and_then(|g| g.db_subnet_group_arn())
            .unwrap_or_default()
            .to_owned();
        Ok(Created {
            id: args.name.clone(),
            outputs: DbSubnetGroupOutputs {
                name: args.name.clone(),
                arn,
            },
        })
    }

    /// Found again by its name only with proof that this create made it: its
    /// `strata:token` tag. A group of that name without the tag is someone else's.
    async fn recover(
        cx: &Cx<'_>,
        args: &DbSubnetGroupArgs,
    ) -> Result<Recovery<DbSubnetGroupOutputs>, ProviderError> {
        let Some(g) = describe(cx, &args.name).await? else {
            return Ok(Recovery::Absent);
        };
        let arn = g.db_subnet_group_arn().unwrap_or_default().to_owned();
        if !owned(cx, &rds(cx)?, &arn).await? {
            return Ok(Recovery::Absent);
        }
        Ok(Recovery::Found(Created {
            id: args.name.clone(),
            outputs: DbSubnetGroupOutputs {
                name: args.name.clone(),
                arn,
            },
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&DbSubnetGroupArgs>,
    ) -> Result<Option<Observed<DbSubnetGroupArgs, DbSubnetGroupOutputs>>, ProviderError> {
        let Some(g) = describe(cx, id).await? else {
            return Ok(None);
        };
        let arn = g.db_subnet_group_arn().unwrap_or_default().to_owned();
        let tags = rds(cx)?
            .list_tags_for_resource()
            .resource_name(&arn)
            .send()
            .await
            .map_err(api_error("rds:ListTagsForResource"))?;
        let live: Vec<String> = g
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_identifier().map(str::to_owned))
            .collect();
        // Keep the declared order when the set is the same.
        let subnet_ids = match args.map(subnets) {
            Some(Ok(d)) if same_set(&d, &live) => {
                args.map(|a| a.subnet_ids.clone()).unwrap_or_default()
            }
            _ => live.into_iter().map(Input::Value).collect(),
        };
        Ok(Some(Observed {
            args: DbSubnetGroupArgs {
                name: id.to_owned(),
                description: g
                    .db_subnet_group_description()
                    .unwrap_or_default()
                    .to_owned(),
                subnet_ids,
                tags: user_tags(tags.tag_list()),
            },
            outputs: DbSubnetGroupOutputs {
                name: id.to_owned(),
                arn,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &DbSubnetGroupArgs,
        new: &DbSubnetGroupArgs,
        outputs: &DbSubnetGroupOutputs,
    ) -> Result<DbSubnetGroupOutputs, ProviderError> {
        let client = rds(cx)?;
        if (&old.description, &old.subnet_ids) != (&new.description, &new.subnet_ids) {
            client
                .modify_db_subnet_group()
                .db_subnet_group_name(id)
                .db_subnet_group_description(&new.description)
                .set_subnet_ids(Some(subnets(new)?))
                .send()
                .await
                .map_err(api_error("rds:ModifyDBSubnetGroup"))?;
        }
        update_tags(&client, &outputs.arn, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &DbSubnetGroupArgs,
        _: &DbSubnetGroupOutputs,
    ) -> Result<(), ProviderError> {
        match rds(cx)?
            .delete_db_subnet_group()
            .db_subnet_group_name(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("rds:DeleteDBSubnetGroup")(e)),
        }
    }
}
