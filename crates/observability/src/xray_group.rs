//! `XrayGroup`: an X-Ray group (traces matching a filter expression).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_xray::types::InsightsConfiguration;
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, check_tags, user_tags};
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{recovery_by_token, taken_if};
use crate::xray_common::{not_found, tags_of, update_tags, xray, xray_tags};

/// An X-Ray group: the traces matching a filter expression, with their own service map
/// and, with insights on, anomaly detection (and notifications through EventBridge).
///
/// The name replaces it; the filter expression, the insights settings and the tags
/// change in place (`UpdateGroup`, `TagResource` / `UntagResource`). Its id is its ARN.
///
/// ```
/// use strata_core::Stack;
/// use strata_observability::XrayGroup;
/// let mut s = Stack::new("dev");
/// s.add(
///     "checkout-errors",
///     XrayGroup::new("shop-errors", "service(\"shop-app\") AND (error OR fault)")
///         .insights(true, true),
/// );
/// ```
#[derive(Debug)]
pub struct XrayGroup;

/// The args of an [`XrayGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XrayGroupArgs {
    /// The name (1 to 32 characters; `Default` is AWS's).
    pub group_name: String,
    /// The filter expression selecting the group's traces.
    pub filter_expression: String,
    /// X-Ray Insights for the group.
    #[serde(default)]
    pub insights_enabled: bool,
    /// Insights notifications (needs insights).
    #[serde(default)]
    pub notifications_enabled: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl XrayGroup {
    /// A group `group_name` of the traces `filter_expression` selects, insights off.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        group_name: impl Into<String>,
        filter_expression: impl Into<String>,
    ) -> XrayGroupArgs {
        XrayGroupArgs {
            group_name: group_name.into(),
            filter_expression: filter_expression.into(),
            insights_enabled: false,
            notifications_enabled: false,
            tags: BTreeMap::new(),
        }
    }
}

impl XrayGroupArgs {
    /// Sets insights and their notifications.
    pub fn insights(mut self, enabled: bool, notifications: bool) -> Self {
        self.insights_enabled = enabled;
        self.notifications_enabled = notifications;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for XrayGroupArgs {
    type Resource = XrayGroup;
}

/// The outputs of an [`XrayGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XrayGroupOutputs {
    /// The ARN (its id).
    pub arn: String,
    /// The name.
    pub name: String,
}

strata_core::outputs!(XrayGroup => XrayGroupHandle {
    /// The ARN.
    arn: String,
    /// The name.
    name: String,
});

fn insights(a: &XrayGroupArgs) -> InsightsConfiguration {
    InsightsConfiguration::builder()
        .insights_enabled(a.insights_enabled)
        .notifications_enabled(a.notifications_enabled)
        .build()
}

/// The group whose ARN (or, with `by_name`, name) is `id`.
async fn get(
    cx: &Cx<'_>,
    id: &str,
    by_name: bool,
) -> Result<Option<aws_sdk_xray::types::Group>, ProviderError> {
    let call = xray(cx)?.get_group();
    let call = if by_name {
        call.group_name(id)
    } else {
        call.group_arn(id)
    };
    match call.send().await {
        Ok(o) => Ok(o.group().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("xray:GetGroup")(e)),
    }
}

#[async_trait]
impl Resource for XrayGroup {
    const TYPE: &'static str = "aws:xray/group";
    const REPLACE_ON: &'static [&'static str] = &["group_name"];
    const IDENTITY: &'static [&'static str] = &["group_name"];
    type Args = XrayGroupArgs;
    type Outputs = XrayGroupOutputs;

    fn validate(a: &XrayGroupArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let n = &a.group_name;
        if n.is_empty() || n.chars().count() > 32 {
            errs.push(FieldError::new(
                "group_name",
                format!("{n:?}: 1 to 32 characters"),
            ));
        } else if n == "Default" {
            errs.push(FieldError::new(
                "group_name",
                "Default is a reserved group name",
            ));
        }
        if a.filter_expression.trim().is_empty() {
            errs.push(FieldError::new(
                "filter_expression",
                "a group needs a filter expression (service(\"name\"), fault, responsetime > 5, …)",
            ));
        }
        if a.notifications_enabled && !a.insights_enabled {
            errs.push(FieldError::new(
                "notifications_enabled",
                "insights notifications need insights_enabled",
            ));
        }
        errs.extend(check_tags(&a.tags));
        errs
    }

    async fn create(
        cx: &Cx<'_>,
        a: &XrayGroupArgs,
    ) -> Result<Created<XrayGroupOutputs>, ProviderError> {
        let out = xray(cx)?
            .create_group()
            .group_name(&a.group_name)
            .filter_expression(&a.filter_expression)
            .insights_configuration(insights(a))
            .set_tags(Some(xray_tags(cx.create_tags(&a.tags))?))
            .send()
            .await
            .map_err(api_error("xray:CreateGroup"))
            // X-Ray says a name is taken with InvalidRequestException "… already exists".
            .map_err(|e| taken_if("InvalidRequestException", e))?;
        let arn = out
            .group()
            .and_then(|g| g.group_arn())
            .ok_or_else(|| ProviderError::Other("xray:CreateGroup returned no group ARN".into()))?
            .to_owned();
        Ok(Created {
            id: arn.clone(),
            outputs: XrayGroupOutputs {
                arn,
                name: a.group_name.clone(),
            },
        })
    }

    /// Found again by its name, if it carries this create's `strata:token` tag (which the
    /// create call sets with the X-Ray group).
    async fn recover(
        cx: &Cx<'_>,
        a: &XrayGroupArgs,
    ) -> Result<Recovery<XrayGroupOutputs>, ProviderError> {
        let found = match get(cx, &a.group_name, true).await? {
            None => None,
            Some(g) => {
                let arn = g.group_arn().unwrap_or_default().to_owned();
                let tags = tags_of(cx, &arn).await?;
                Some((
                    Created {
                        id: arn.clone(),
                        outputs: XrayGroupOutputs {
                            arn,
                            name: a.group_name.clone(),
                        },
                    },
                    tags,
                ))
            }
        };
        Ok(recovery_by_token(cx, "X-Ray group", found))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&XrayGroupArgs>,
    ) -> Result<Option<Observed<XrayGroupArgs, XrayGroupOutputs>>, ProviderError> {
        let Some(g) = get(cx, id, false).await? else {
            return Ok(None);
        };
        let tags = tags_of(cx, id).await?;
        let ins = g.insights_configuration();
        let name = g.group_name().unwrap_or_default().to_owned();
        Ok(Some(Observed {
            args: XrayGroupArgs {
                group_name: name.clone(),
                filter_expression: g.filter_expression().unwrap_or_default().to_owned(),
                insights_enabled: ins.and_then(|i| i.insights_enabled()).unwrap_or(false),
                notifications_enabled: ins.and_then(|i| i.notifications_enabled()).unwrap_or(false),
                tags: user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            },
            outputs: XrayGroupOutputs {
                arn: id.to_owned(),
                name,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &XrayGroupArgs,
        new: &XrayGroupArgs,
        outputs: &XrayGroupOutputs,
    ) -> Result<XrayGroupOutputs, ProviderError> {
        if (
            &old.filter_expression,
            old.insights_enabled,
            old.notifications_enabled,
        ) != (
            &new.filter_expression,
            new.insights_enabled,
            new.notifications_enabled,
        ) {
            xray(cx)?
                .update_group()
                .group_arn(id)
                .filter_expression(&new.filter_expression)
                .insights_configuration(insights(new))
                .send()
                .await
                .map_err(api_error("xray:UpdateGroup"))?;
        }
        update_tags(cx, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &XrayGroupArgs,
        _: &XrayGroupOutputs,
    ) -> Result<(), ProviderError> {
        match xray(cx)?.delete_group().group_arn(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("xray:DeleteGroup")(e)),
        }
    }
}
