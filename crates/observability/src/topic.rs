//! `Topic`: an SNS topic.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::Tag;
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, check_tags, tag_changes, user_tags};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::recovery_by_token;

/// An SNS topic. The name and FIFO-ness replace it; the display name, the KMS key and the
/// tags change in place (`SetTopicAttributes`, `TagResource` / `UntagResource`). Its id is
/// its ARN.
///
/// ```
/// use strata_core::Stack;
/// use strata_observability::Topic;
/// let mut s = Stack::new("dev");
/// s.add(
///     "alerts",
///     Topic::new("shop-critical")
///         .display_name("Shop critical alarms")
///         .kms_key("alias/aws/sns")
///         .tag("team", "devops"),
/// );
/// ```
#[derive(Debug)]
pub struct Topic;

/// The args of a [`Topic`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicArgs {
    /// The name (1 to 256 of `A-Z a-z 0-9 - _`; a FIFO topic's ends in `.fifo`).
    pub name: String,
    /// The display name (the sender of SMS and email notifications; up to 100 characters).
    #[serde(default)]
    pub display_name: Option<String>,
    /// The KMS key that encrypts messages at rest: `alias/aws/sns`, or a customer managed
    /// key's id, ARN or alias.
    #[serde(default)]
    pub kms_master_key_id: Option<Input<String>>,
    /// A FIFO topic (ordered, deduplicated; for SQS subscribers).
    #[serde(default)]
    pub fifo: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Topic {
    /// A standard topic `name`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>) -> TopicArgs {
        TopicArgs {
            name: name.into(),
            display_name: None,
            kms_master_key_id: None,
            fifo: false,
            tags: BTreeMap::new(),
        }
    }
}

impl TopicArgs {
    /// Sets the display name.
    pub fn display_name(mut self, d: impl Into<String>) -> Self {
        self.display_name = Some(d.into());
        self
    }
    /// Encrypts messages at rest with this KMS key.
    pub fn kms_key(mut self, key: impl Into<Input<String>>) -> Self {
        self.kms_master_key_id = Some(key.into());
        self
    }
    /// Makes it a FIFO topic (its name must end in `.fifo`).
    pub fn fifo(mut self, on: bool) -> Self {
        self.fifo = on;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for TopicArgs {
    type Resource = Topic;
}

/// The outputs of a [`Topic`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicOutputs {
    /// The ARN (its id): what alarms notify and subscriptions subscribe to.
    pub arn: String,
    /// The name.
    pub name: String,
}

strata_core::outputs!(Topic => TopicHandle {
    /// The ARN.
    arn: String,
    /// The name.
    name: String,
});

pub(crate) fn sns(cx: &Cx<'_>) -> Result<aws_sdk_sns::Client, ProviderError> {
    cx.client(aws_sdk_sns::Client::new)
}

pub(crate) fn not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    matches!(e.code(), Some("NotFound" | "NotFoundException"))
}

async fn attributes(
    cx: &Cx<'_>,
    arn: &str,
) -> Result<Option<HashMap<String, String>>, ProviderError> {
    match sns(cx)?.get_topic_attributes().topic_arn(arn).send().await {
        Ok(o) => Ok(Some(o.attributes().cloned().unwrap_or_default())),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("sns:GetTopicAttributes")(e)),
    }
}

async fn tags_of(cx: &Cx<'_>, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = sns(cx)?
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(api_error("sns:ListTagsForResource"))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect())
}

fn sns_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| ProviderError::Other(e.to_string()))
}

fn name_of(arn: &str) -> String {
    arn.rsplit(':').next().unwrap_or_default().to_owned()
}

/// The ARN of the account's topic named `name` in this region, if any (`ListTopics`:
/// there is no lookup by name).
async fn find(cx: &Cx<'_>, name: &str) -> Result<Option<String>, ProviderError> {
    let client = sns(cx)?;
    let mut token = None;
    loop {
        let out = client
            .list_topics()
            .set_next_token(token)
            .send()
            .await
            .map_err(api_error("sns:ListTopics"))?;
        if let Some(arn) = out
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|arn| name_of(arn) == name)
        {
            return Ok(Some(arn.to_owned()));
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(None),
        }
    }
}

fn taken(name: &str) -> ProviderError {
    ProviderError::AlreadyExists {
        operation: "sns:CreateTopic".to_owned(),
        message: format!("a topic named {name} already exists"),
    }
}

async fn set_attribute(
    cx: &Cx<'_>,
    arn: &str,
    name: &str,
    value: &str,
) -> Result<(), ProviderError> {
    sns(cx)?
        .set_topic_attributes()
        .topic_arn(arn)
        .attribute_name(name)
        .attribute_value(value)
        .send()
        .await
        .map_err(api_error("sns:SetTopicAttributes"))?;
    Ok(())
}

#[async_trait]
impl Resource for Topic {
    const TYPE: &'static str = "aws:sns/topic";
    const REPLACE_ON: &'static [&'static str] = &["name", "fifo"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = TopicArgs;
    type Outputs = TopicOutputs;

    fn validate(a: &TopicArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let n = &a.name;
        let base = n.strip_suffix(".fifo").unwrap_or(n);
        if n.is_empty()
            || n.len() > 256
            || base.is_empty()
            || !base
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errs.push(FieldError::new(
                "name",
                format!("{n:?}: 1 to 256 of A-Z, a-z, 0-9, - and _ (plus .fifo for a FIFO topic)"),
            ));
        } else if a.fifo != n.ends_with(".fifo") {
            errs.push(FieldError::new(
                "name",
                if a.fifo {
                    format!("{n:?}: a FIFO topic's name ends in .fifo")
                } else {
                    format!("{n:?}: only a FIFO topic's name ends in .fifo")
                },
            ));
        }
        if a.display_name
            .as_ref()
            .is_some_and(|d| d.chars().count() > 100)
        {
            errs.push(FieldError::new(
                "display_name",
                "a display name has at most 100 characters",
            ));
        }
        if a.kms_master_key_id
            .as_ref()
            .and_then(Input::known)
            .is_some_and(|k| k.trim().is_empty())
        {
            errs.push(FieldError::new(
                "kms_master_key_id",
                "an empty key: name a key (alias/aws/sns, or a key's id, ARN or alias), or none",
            ));
        }
        errs.extend(check_tags(&a.tags));
        errs
    }

    /// `CreateTopic` is idempotent by name: for a topic that exists it answers that
    /// topic's ARN, without an error. So a taken name is refused before the call, and the
    /// topic the call answers is checked to carry this create's token (a topic made by
    /// somebody else in between is refused too). Nothing of an existing topic changes.
    async fn create(cx: &Cx<'_>, a: &TopicArgs) -> Result<Created<TopicOutputs>, ProviderError> {
        if find(cx, &a.name).await?.is_some() {
            return Err(taken(&a.name));
        }
        let mut attrs = HashMap::new();
        if let Some(d) = &a.display_name {
            attrs.insert("DisplayName".to_owned(), d.clone());
        }
        if let Some(k) = &a.kms_master_key_id {
            attrs.insert("KmsMasterKeyId".to_owned(), k.value()?.clone());
        }
        if a.fifo {
            attrs.insert("FifoTopic".to_owned(), "true".to_owned());
        }
        let out = sns(cx)?
            .create_topic()
            .name(&a.name)
            .set_attributes(Some(attrs))
            .set_tags(Some(sns_tags(cx.create_tags(&a.tags))?))
            .send()
            .await
            .map_err(|e| {
                // AWS refuses a topic that exists with other attributes or tags.
                if e.code() == Some("InvalidParameter")
                    && e.message().is_some_and(|m| m.contains("already exists"))
                {
                    taken(&a.name)
                } else {
                    api_error("sns:CreateTopic")(e)
                }
            })?;
        let arn = out.topic_arn().unwrap_or_default().to_owned();
        let tags = tags_of(cx, &arn).await?;
        if !cx.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            return Err(taken(&a.name));
        }
        Ok(Created {
            id: arn.clone(),
            outputs: TopicOutputs {
                arn,
                name: a.name.clone(),
            },
        })
    }

    /// Found again among the account's topics by its name, if it carries this create's
    /// `strata:token` tag (which `CreateTopic` sets with the topic, in one call).
    async fn recover(cx: &Cx<'_>, a: &TopicArgs) -> Result<Recovery<TopicOutputs>, ProviderError> {
        let found = match find(cx, &a.name).await? {
            None => None,
            Some(arn) => {
                let tags = tags_of(cx, &arn).await?;
                Some((
                    Created {
                        id: arn.clone(),
                        outputs: TopicOutputs {
                            arn,
                            name: a.name.clone(),
                        },
                    },
                    tags,
                ))
            }
        };
        Ok(recovery_by_token(cx, "topic", found))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&TopicArgs>,
    ) -> Result<Option<Observed<TopicArgs, TopicOutputs>>, ProviderError> {
        let Some(attrs) = attributes(cx, id).await? else {
            return Ok(None);
        };
        let tags = tags_of(cx, id).await?;
        let get = |k: &str| attrs.get(k).filter(|v| !v.is_empty()).cloned();
        let kms_master_key_id = match (
            get("KmsMasterKeyId"),
            args.and_then(|a| a.kms_master_key_id.as_ref()),
        ) {
            (Some(live), Some(d)) if d.known() == Some(&live) => Some(d.clone()),
            (live, _) => live.map(Input::Value),
        };
        let name = name_of(id);
        Ok(Some(Observed {
            args: TopicArgs {
                fifo: get("FifoTopic").is_some_and(|v| v.eq_ignore_ascii_case("true")),
                name: name.clone(),
                display_name: get("DisplayName"),
                kms_master_key_id,
                tags: user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            },
            outputs: TopicOutputs {
                arn: id.to_owned(),
                name,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &TopicArgs,
        new: &TopicArgs,
        outputs: &TopicOutputs,
    ) -> Result<TopicOutputs, ProviderError> {
        if old.display_name != new.display_name {
            set_attribute(
                cx,
                id,
                "DisplayName",
                new.display_name.as_deref().unwrap_or(""),
            )
            .await?;
        }
        if old.kms_master_key_id != new.kms_master_key_id {
            // An empty value turns encryption off.
            let key = match &new.kms_master_key_id {
                Some(k) => k.value()?.clone(),
                None => String::new(),
            };
            set_attribute(cx, id, "KmsMasterKeyId", &key).await?;
        }
        let client = sns(cx)?;
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_resource()
                .resource_arn(id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("sns:UntagResource"))?;
        }
        if !set.is_empty() {
            client
                .tag_resource()
                .resource_arn(id)
                .set_tags(Some(sns_tags(set)?))
                .send()
                .await
                .map_err(api_error("sns:TagResource"))?;
        }
        Ok(outputs.clone())
    }

    /// `DeleteTopic` is idempotent; it also deletes the topic's subscriptions.
    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &TopicArgs,
        _: &TopicOutputs,
    ) -> Result<(), ProviderError> {
        match sns(cx)?.delete_topic().topic_arn(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("sns:DeleteTopic")(e)),
        }
    }
}
