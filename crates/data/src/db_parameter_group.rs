//! `DbParameterGroup`: engine parameters for RDS instances (for example `rds.force_ssl`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_rds::types::{ApplyMethod, Parameter};
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::rds_common::{
    check_identifier, create_tags, not_found, owned, rds, update_tags, user_tags,
};

/// A DB parameter group. Parameters change in place: dynamic ones at once, static ones
/// at the next reboot of the instances (a warning names them); removed ones are reset to
/// the engine default. A group of that name that this
/// stack did not make is never taken over (nor are its parameters set).
///
/// ```
/// use strata_core::Stack;
/// use strata_data::DbParameterGroup;
/// let mut s = Stack::new("dev");
/// s.add("pg14", DbParameterGroup::new("shop-pg14", "postgres14").parameter("rds.force_ssl", "1"));
/// ```
#[derive(Debug)]
pub struct DbParameterGroup;

/// The args of a [`DbParameterGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbParameterGroupArgs {
    /// The name.
    pub name: String,
    /// The family (`postgres14`).
    pub family: String,
    /// The description.
    pub description: String,
    /// Parameters set by the user.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl DbParameterGroup {
    /// A group `name` of `family`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, family: impl Into<String>) -> DbParameterGroupArgs {
        let name = name.into();
        DbParameterGroupArgs {
            description: format!("{name} (strata)"),
            name,
            family: family.into(),
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
        }
    }
}

impl DbParameterGroupArgs {
    /// Sets a parameter.
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.insert(name.into(), value.into());
        self
    }
}

impl ResourceArgs for DbParameterGroupArgs {
    type Resource = DbParameterGroup;
}

/// The outputs of a [`DbParameterGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbParameterGroupOutputs {
    /// The name (its id).
    pub name: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(DbParameterGroup => DbParameterGroupHandle {
    /// The name.
    name: String,
});

/// Which of `names` are dynamic parameters of group `name` (`ApplyType` in
/// DescribeDBParameters): those apply at once, the others only at the next reboot.
/// RDS refuses the `immediate` method for a static parameter, and a parameter whose
/// apply type RDS does not report is treated as static.
async fn dynamic(
    client: &aws_sdk_rds::Client,
    name: &str,
    names: &[&String],
) -> Result<BTreeSet<String>, ProviderError> {
    let mut found = BTreeSet::new();
    if names.is_empty() {
        return Ok(found);
    }
    let mut pages = client
        .describe_db_parameters()
        .db_parameter_group_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(api_error("rds:DescribeDBParameters"))?;
        for p in page.parameters() {
            if let (Some(k), Some("dynamic")) = (p.parameter_name(), p.apply_type()) {
                if names.iter().any(|n| n.as_str() == k) {
                    found.insert(k.to_owned());
                }
            }
        }
    }
    Ok(found)
}

/// The method each of `names` takes: `immediate` for a dynamic parameter, otherwise
/// `pending-reboot`.
fn method(now: &BTreeSet<String>, name: &str) -> ApplyMethod {
    if now.contains(name) {
        ApplyMethod::Immediate
    } else {
        ApplyMethod::PendingReboot
    }
}

/// Sets parameters `p` of group `name`: dynamic ones applied immediately, static ones at
/// the instances' next reboot, which a warning names when the group may be in use
/// (`in_use`: not right after its create, when instances made with it start with them).
async fn set(
    client: &aws_sdk_rds::Client,
    name: &str,
    p: &BTreeMap<String, String>,
    in_use: bool,
) -> Result<(), ProviderError> {
    let names: Vec<&String> = p.keys().collect();
    let now = dynamic(client, name, &names).await?;
    let all: Vec<Parameter> = p
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_name(k)
                .parameter_value(v)
                .apply_method(method(&now, k))
                .build()
        })
        .collect();
    // At most 20 parameters per call.
    for chunk in all.chunks(20) {
        client
            .modify_db_parameter_group()
            .db_parameter_group_name(name)
            .set_parameters(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(api_error("rds:ModifyDBParameterGroup"))?;
    }
    let later: Vec<&str> = names
        .iter()
        .filter(|n| !now.contains(n.as_str()))
        .map(|n| n.as_str())
        .collect();
    if in_use && !later.is_empty() {
        tracing::warn!(
            "DB parameter group {name}: {} take effect at the next reboot of the instances that use it (static parameters, or of unknown apply type)",
            later.join(", ")
        );
    }
    Ok(())
}

#[async_trait]
impl Resource for DbParameterGroup {
    const TYPE: &'static str = "aws:rds/parameter-group";
    const REPLACE_ON: &'static [&'static str] = &["name", "family", "description"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = DbParameterGroupArgs;
    type Outputs = DbParameterGroupOutputs;

    fn validate(args: &DbParameterGroupArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        check_identifier(&mut errs, "name", &args.name, 255);
        if args.family.is_empty() {
            errs.push(FieldError::new(
                "family",
                "required (postgres14, mysql8.0, …)",
            ));
        }
        errs
    }

    fn estimate(_: &DbParameterGroupArgs) -> Duration {
        Duration::from_secs(2)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &DbParameterGroupArgs,
    ) -> Result<Created<DbParameterGroupOutputs>, ProviderError> {
        let client = rds(cx)?;
        let out = client
            .create_db_parameter_group()
            .db_parameter_group_name(&args.name)
            .db_parameter_group_family(&args.family)
            .description(&args.description)
            .set_tags(Some(create_tags(cx, &args.tags)))
            .send()
            .await
            .map_err(api_error("rds:CreateDBParameterGroup"))?;
        set(&client, &args.name, &args.parameters, false).await?;
        let arn = out
            .db_parameter_group()
            .and_then(|g| g.db_parameter_group_arn())
            .unwrap_or_default()
            .to_owned();
        Ok(Created {
            id: args.name.clone(),
            outputs: DbParameterGroupOutputs {
                name: args.name.clone(),
                arn,
            },
        })
    }

    /// Found again by its name only with proof that this create made it: its
    /// `strata:token` tag. Then the parameters are set (the create may have stopped before
    /// them).
    async fn recover(
        cx: &Cx<'_>,
        args: &DbParameterGroupArgs,
    ) -> Result<Recovery<DbParameterGroupOutputs>, ProviderError> {
        let client = rds(cx)?;
        let arn = match client
            .describe_db_parameter_groups()
            .db_parameter_group_name(&args.name)
            .send()
            .await
        {
            Ok(o) => match o.db_parameter_groups().first() {
                Some(g) => g.db_parameter_group_arn().unwrap_or_default().to_owned(),
                None => return Ok(Recovery::Absent),
            },
            Err(e) if not_found(&e) => return Ok(Recovery::Absent),
            Err(e) => return Err(api_error("rds:DescribeDBParameterGroups")(e)),
        };
        if !owned(cx, &client, &arn).await? {
            return Ok(Recovery::Absent);
        }
        set(&client, &args.name, &args.parameters, false).await?;
        Ok(Recovery::Found(Created {
            id: args.name.clone(),
            outputs: DbParameterGroupOutputs {
                name: args.name.clone(),
                arn,
            },
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&DbParameterGroupArgs>,
    ) -> Result<Option<Observed<DbParameterGroupArgs, DbParameterGroupOutputs>>, ProviderError>
    {
        let client = rds(cx)?;
        let g = match client
            .describe_db_parameter_groups()
            .db_parameter_group_name(id)
            .send()
            .await
        {
            Ok(o) => o.db_parameter_groups().first().cloned(),
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(api_error("rds:DescribeDBParameterGroups")(e)),
        };
        let Some(g) = g else { return Ok(None) };
        let arn = g.db_parameter_group_arn().unwrap_or_default().to_owned();
        let mut parameters = BTreeMap::new();
        let mut marker = None;
        loop {
            let page = client
                .describe_db_parameters()
                .db_parameter_group_name(id)
                .source("user")
                .set_marker(marker.take())
                .send()
                .await
                .map_err(api_error("rds:DescribeDBParameters"))?;
            for p in page.parameters() {
                if let (Some(k), Some(v)) = (p.parameter_name(), p.parameter_value()) {
                    parameters.insert(k.to_owned(), v.to_owned());
                }
            }
            match page.marker() {
                Some(m) => marker = Some(m.to_owned()),
                None => break,
            }
        }
        let tags = client
            .list_tags_for_resource()
            .resource_name(&arn)
            .send()
            .await
            .map_err(api_error("rds:ListTagsForResource"))?;
        Ok(Some(Observed {
            args: DbParameterGroupArgs {
                name: id.to_owned(),
                family: g.db_parameter_group_family().unwrap_or_default().to_owned(),
                description: g.description().unwrap_or_default().to_owned(),
                parameters,
                tags: user_tags(tags.tag_list()),
            },
            outputs: DbParameterGroupOutputs {
                name: id.to_owned(),
                arn,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &DbParameterGroupArgs,
        new: &DbParameterGroupArgs,
        outputs: &DbParameterGroupOutputs,
    ) -> Result<DbParameterGroupOutputs, ProviderError> {
        let client = rds(cx)?;
        let changed: BTreeMap<String, String> = new
            .parameters
            .iter()
            .filter(|(k, v)| old.parameters.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        set(&client, id, &changed, true).await?;
        let gone: Vec<&String> = old
            .parameters
            .keys()
            .filter(|k| !new.parameters.contains_key(*k))
            .collect();
        let now = dynamic(&client, id, &gone).await?;
        let removed: Vec<Parameter> = gone
            .iter()
            .map(|k| {
                Parameter::builder()
                    .parameter_name(*k)
                    .apply_method(method(&now, k))
                    .build()
            })
            .collect();
        if !removed.is_empty() {
            client
                .reset_db_parameter_group()
                .db_parameter_group_name(id)
                .set_parameters(Some(removed))
                .send()
                .await
                .map_err(api_error("rds:ResetDBParameterGroup"))?;
        }
        update_tags(&client, &outputs.arn, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &DbParameterGroupArgs,
        _: &DbParameterGroupOutputs,
    ) -> Result<(), ProviderError> {
        match rds(cx)?
            .delete_db_parameter_group()
            .db_parameter_group_name(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("rds:DeleteDBParameterGroup")(e)),
        }
    }
}
