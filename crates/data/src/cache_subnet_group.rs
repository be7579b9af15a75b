//! `CacheSubnetGroup`: the subnets an ElastiCache replication group may live in.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticache::types::Tag;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

/// A cache subnet group. The description and the subnets change in place. A group of that
/// name that this stack did not make is never taken over.
///
/// ```
/// use strata_core::Stack;
/// use strata_data::CacheSubnetGroup;
/// let mut s = Stack::new("dev");
/// s.add("cache-subnets", CacheSubnetGroup::new("shop-cache", ["subnet-a", "subnet-b"]));
/// ```
#[derive(Debug)]
pub struct CacheSubnetGroup;

/// The args of a [`CacheSubnetGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheSubnetGroupArgs {
    /// The name.
    pub name: String,
    /// The description.
    pub description: String,
    /// The subnets.
    pub subnet_ids: Vec<Input<String>>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl CacheSubnetGroup {
    /// A group `name` of `subnet_ids`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new<I: Into<Input<String>>>(
        name: impl Into<String>,
        subnet_ids: impl IntoIterator<Item = I>,
    ) -> CacheSubnetGroupArgs {
        let name = name.into();
        CacheSubnetGroupArgs {
            description: format!("{name} (strata)"),
            name,
            subnet_ids: subnet_ids.into_iter().map(Into::into).collect(),
            tags: BTreeMap::new(),
        }
    }
}

impl ResourceArgs for CacheSubnetGroupArgs {
    type Resource = CacheSubnetGroup;
}

/// The outputs of a [`CacheSubnetGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheSubnetGroupOutputs {
    /// The name (its id).
    pub name: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(CacheSubnetGroup => CacheSubnetGroupHandle {
    /// The name.
    name: String,
});

pub(crate) fn elasticache(cx: &Cx<'_>) -> Result<aws_sdk_elasticache::Client, ProviderError> {
    cx.client(aws_sdk_elasticache::Client::new)
}

pub(crate) fn create_tags(cx: &Cx<'_>, tags: &BTreeMap<String, String>) -> Vec<Tag> {
    cx.create_tags(tags)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub(crate) fn not_found<E: aws_sdk_elasticache::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code().is_some_and(|c| c.contains("NotFound"))
}

/// The user tags of `arn`.
pub(crate) async fn live_tags(
    client: &aws_sdk_elasticache::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let t = client
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(api_error("elasticache:ListTagsForResource"))?;
    Ok(t.tag_list()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .filter(|(k, _)| strata_core::aws::is_user_tag(k))
        .collect())
}

/// Whether the ElastiCache resource `arn` is this create's: its `strata:token` tag is
/// `cx.token`. A name is never proof; tags that cannot be read are an error, not
/// "someone else's". (ElastiCache lists the tags of a replication group only once it is
/// available.)
pub(crate) async fn owned(
    cx: &Cx<'_>,
    client: &aws_sdk_elasticache::Client,
    arn: &str,
) -> Result<bool, ProviderError> {
    if arn.is_empty() {
        return Err(ProviderError::Other(
            "ElastiCache answered without the resource's ARN: its tags cannot be read".to_owned(),
        ));
    }
    let t = client
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(api_error("elasticache:ListTagsForResource"))?;
    Ok(cx.owns(
        t.tag_list()
            .iter()
            .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))),
    ))
}

/// Makes the user tags of `arn` go from `old` to `new`.
pub(crate) async fn update_tags(
    client: &aws_sdk_elasticache::Client,
    arn: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let (removed, set) = strata_core::aws::tag_changes(old, new);
    if !removed.is_empty() {
        client
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(api_error("elasticache:RemoveTagsFromResource"))?;
    }
    let set: Vec<Tag> = set
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !set.is_empty() {
        client
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(api_error("elasticache:AddTagsToResource"))?;
    }
    Ok(())
}

fn subnets(a: &CacheSubnetGroupArgs) -> Result<Vec<String>, ProviderError> {
    a.subnet_ids
        .iter()
        .map(|s| s.value().cloned().map_err(Into::into))
        .collect()
}

async fn describe(
    cx: &Cx<'_>,
    name: &str,
) -> Result<Option<aws_sdk_elasticache::types::CacheSubnetGroup>, ProviderError> {
    match elasticache(cx)?
        .describe_cache_subnet_groups()
        .cache_subnet_group_name(name)
        .send()
        .await
    {
        Ok(o) => Ok(o.cache_subnet_groups().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("elasticache:DescribeCacheSubnetGroups")(e)),
    }
}

#[async_trait]
impl Resource for CacheSubnetGroup {
    const TYPE: &'static str = "aws:elasticache/subnet-group";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = CacheSubnetGroupArgs;
    type Outputs = CacheSubnetGroupOutputs;

    fn validate(a: &CacheSubnetGroupArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let n = &a.name;
        if n.is_empty()
            || n.len() > 255
            || !n
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            errs.push(FieldError::new(
                "name",
                format!("{n:?}: up to 255 lowercase letters, digits and hyphens"),
            ));
        }
        if a.subnet_ids.is_empty() {
            errs.push(FieldError::new("subnet_ids", "at least one subnet"));
        }
        errs
    }

    fn estimate(_: &CacheSubnetGroupArgs) -> Duration {
        Duration::from_secs(2)
    }

    async fn create(
        cx: &Cx<'_>,
        a: &CacheSubnetGroupArgs,
    ) -> Result<Created<CacheSubnetGroupOutputs>, ProviderError> {
        let out = elasticache(cx)?
            .create_cache_subnet_group()
            .cache_subnet_group_name(&a.name)
            .cache_subnet_group_description(&a.description)
            .set_subnet_ids(Some(subnets(a)?))
            .set_tags(Some(create_tags(cx, &a.tags)))
            .send()
            .await
            .map_err(api_error("elasticache:CreateCacheSubnetGroup"))?;
        let arn = out
            .cache_subnet_group()
            .and_then(|g| g.arn())
            .unwrap_or_default()
            .to_owned();
        Ok(Created {
            id: a.name.clone(),
            outputs: CacheSubnetGroupOutputs {
                name: a.name.clone(),
                arn,
            },
        })
    }

    /// Found again by its name only with proof that this create made it: its
    /// `strata:token` tag.
    async fn recover(
        cx: &Cx<'_>,
        a: &CacheSubnetGroupArgs,
    ) -> Result<Recovery<CacheSubnetGroupOutputs>, ProviderError> {
        let Some(g) = describe(cx, &a.name).await? else {
            return Ok(Recovery::Absent);
        };
        let arn = g.arn().unwrap_or_default().to_owned();
        if !owned(cx, &elasticache(cx)?, &arn).await? {
            return Ok(Recovery::Absent);
        }
        Ok(Recovery::Found(Created {
            id: a.name.clone(),
            outputs: CacheSubnetGroupOutputs {
                name: a.name.clone(),
                arn,
            },
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&CacheSubnetGroupArgs>,
    ) -> Result<Option<Observed<CacheSubnetGroupArgs, CacheSubnetGroupOutputs>>, ProviderError>
    {
        let Some(g) = describe(cx, id).await? else {
            return Ok(None);
        };
        let arn = g.arn().unwrap_or_default().to_owned();
        let live: Vec<String> = g
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_identifier().map(str::to_owned))
            .collect();
        let subnet_ids = match args.map(subnets) {
            Some(Ok(d)) if crate::rds_common::same_set(&d, &live) => {
                args.map(|a| a.subnet_ids.clone()).unwrap_or_default()
            }
            _ => live.into_iter().map(Input::Value).collect(),
        };
        Ok(Some(Observed {
            args: CacheSubnetGroupArgs {
                name: id.to_owned(),
                description: g
                    .cache_subnet_group_description()
                    .unwrap_or_default()
                    .to_owned(),
                subnet_ids,
                tags: live_tags(&elasticache(cx)?, &arn).await?,
            },
            outputs: CacheSubnetGroupOutputs {
                name: id.to_owned(),
                arn,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &CacheSubnetGroupArgs,
        new: &CacheSubnetGroupArgs,
        outputs: &CacheSubnetGroupOutputs,
    ) -> Result<CacheSubnetGroupOutputs, ProviderError> {
        let client = elasticache(cx)?;
        if (&old.description, &old.subnet_ids) != (&new.description, &new.subnet_ids) {
            client
                .modify_cache_subnet_group()
                .cache_subnet_group_name(id)
                .cache_subnet_group_description(&new.description)
                .set_subnet_ids(Some(subnets(new)?))
                .send()
                .await
                .map_err(api_error("elasticache:ModifyCacheSubnetGroup"))?;
        }
        update_tags(&client, &outputs.arn, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &CacheSubnetGroupArgs,
        _: &CacheSubnetGroupOutputs,
    ) -> Result<(), ProviderError> {
        match elasticache(cx)?
            .delete_cache_subnet_group()
            .cache_subnet_group_name(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("elasticache:DeleteCacheSubnetGroup")(e)),
        }
    }
}
