//! `SamplingRule`: an X-Ray sampling rule.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_xray::types::SamplingRuleUpdate;
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, check_tags, user_tags};
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{recovery_by_token, taken_if};
use crate::xray_common::{not_found, tags_of, update_tags, xray, xray_tags};

/// An X-Ray sampling rule: which requests the X-Ray SDKs and agents trace. A request
/// matching the rule's service, host, method, path and resource (`*` and `?` wildcards) is
/// traced `reservoir_size` times a second, then at `fixed_rate`. Rules are evaluated by
/// ascending priority; AWS's `Default` rule (priority 10000) catches the rest.
///
/// The rule name and the format version replace it; everything else changes in place
/// (`UpdateSamplingRule`, `TagResource` / `UntagResource`).
///
/// ```
/// use strata_core::Stack;
/// use strata_observability::SamplingRule;
/// let mut s = Stack::new("dev");
/// s.add(
///     "checkout-tracing",
///     SamplingRule::new("shop-checkout", 100)
///         .rate(1, 0.1)
///         .service("shop-app")
///         .http_method("POST")
///         .url_path("/checkout*"),
/// );
/// ```
#[derive(Debug)]
pub struct SamplingRule;

/// The args of a [`SamplingRule`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingRuleArgs {
    /// The name (1 to 32 characters; `Default` is AWS's).
    pub rule_name: String,
    /// The priority, 1 to 9999: lower is evaluated first.
    pub priority: i32,
    /// The fraction of matching requests traced once the reservoir is used up, 0 to 1.
    pub fixed_rate: f64,
    /// Matching requests traced per second before the fixed rate applies.
    pub reservoir_size: i32,
    /// Matches the service name in segments (up to 64 characters).
    #[serde(default = "star")]
    pub service_name: String,
    /// Matches the service type (origin), `AWS::EC2::Instance`, … (up to 64 characters).
    #[serde(default = "star")]
    pub service_type: String,
    /// Matches the request's host (up to 64 characters).
    #[serde(default = "star")]
    pub host: String,
    /// Matches the request's HTTP method (up to 10 characters).
    #[serde(default = "star")]
    pub http_method: String,
    /// Matches the request's URL path (up to 128 characters).
    #[serde(default = "star")]
    pub url_path: String,
    /// Matches the ARN of the resource the service runs on (up to 500 characters).
    #[serde(default = "star")]
    pub resource_arn: String,
    /// The rule format version: 1.
    #[serde(default = "one")]
    pub version: i32,
    /// Matches segment attributes (keys and values of 1 to 32 characters).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn star() -> String {
    "*".to_owned()
}

fn one() -> i32 {
    1
}

impl SamplingRule {
    /// A rule `rule_name` of `priority` matching every request: 1 a second, then 5%.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(rule_name: impl Into<String>, priority: i32) -> SamplingRuleArgs {
        SamplingRuleArgs {
            rule_name: rule_name.into(),
            priority,
            fixed_rate: 0.05,
            reservoir_size: 1,
            service_name: star(),
            service_type: star(),
            host: star(),
            http_method: star(),
            url_path: star(),
            resource_arn: star(),
            version: 1,
            attributes: BTreeMap::new(),
            tags: BTreeMap::new(),
        }
    }
}

impl SamplingRuleArgs {
    /// Traces `reservoir_size` requests a second, then `fixed_rate` of the rest.
    pub fn rate(mut self, reservoir_size: i32, fixed_rate: f64) -> Self {
        self.reservoir_size = reservoir_size;
        self.fixed_rate = fixed_rate;
        self
    }
    /// Matches this service name.
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.service_name = name.into();
        self
    }
    /// Matches this service type.
    pub fn service_type(mut self, t: impl Into<String>) -> Self {
        self.service_type = t.into();
        self
    }
    /// Matches this host.
    pub fn host(mut self, h: impl Into<String>) -> Self {
        self.host = h.into();
        self
    }
    /// Matches this HTTP method.
    pub fn http_method(mut self, m: impl Into<String>) -> Self {
        self.http_method = m.into();
        self
    }
    /// Matches this URL path.
    pub fn url_path(mut self, p: impl Into<String>) -> Self {
        self.url_path = p.into();
        self
    }
    /// Matches this resource ARN.
    pub fn resource_arn(mut self, arn: impl Into<String>) -> Self {
        self.resource_arn = arn.into();
        self
    }
    /// Matches a segment attribute.
    pub fn attribute(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.attributes.insert(k.into(), v.into());
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for SamplingRuleArgs {
    type Resource = SamplingRule;
}

/// The outputs of a [`SamplingRule`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingRuleOutputs {
    /// The name (its id).
    pub name: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(SamplingRule => SamplingRuleHandle {
    /// The name.
    name: String,
    /// The ARN.
    arn: String,
});

/// The rule named `name`, from the paginated `GetSamplingRules` (there is no get by name).
async fn find(
    cx: &Cx<'_>,
    name: &str,
) -> Result<Option<aws_sdk_xray::types::SamplingRule>, ProviderError> {
    let client = xray(cx)?;
    let mut token = None;
    loop {
        let out = client
            .get_sampling_rules()
            .set_next_token(token)
            .send()
            .await
            .map_err(api_error("xray:GetSamplingRules"))?;
        if let Some(r) = out
            .sampling_rule_records()
            .iter()
            .filter_map(|r| r.sampling_rule())
            .find(|r| r.rule_name() == Some(name))
        {
            return Ok(Some(r.clone()));
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(None),
        }
    }
}

fn outputs(name: &str, r: &aws_sdk_xray::types::SamplingRule) -> SamplingRuleOutputs {
    SamplingRuleOutputs {
        name: name.to_owned(),
        arn: r.rule_arn().unwrap_or_default().to_owned(),
    }
}

#[async_trait]
impl Resource for SamplingRule {
    const TYPE: &'static str = "aws:xray/sampling-rule";
    const REPLACE_ON: &'static [&'static str] = &["rule_name", "version"];
    const IDENTITY: &'static [&'static str] = &["rule_name"];
    type Args = SamplingRuleArgs;
    type Outputs = SamplingRuleOutputs;

    fn validate(a: &SamplingRuleArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let n = &a.rule_name;
        if n.is_empty() || n.chars().count() > 32 {
            errs.push(FieldError::new(
                "rule_name",
                format!("{n:?}: 1 to 32 characters"),
            ));
        } else if n == "Default" {
            errs.push(FieldError::new(
                "rule_name",
                "Default is AWS's own rule: change it in the console, or pick another name",
            ));
        }
        if !(1..=9999).contains(&a.priority) {
            errs.push(FieldError::new(
                "priority",
                format!("{}: 1 to 9999", a.priority),
            ));
        }
        if !a.fixed_rate.is_finite() || !(0.0..=1.0).contains(&a.fixed_rate) {
            errs.push(FieldError::new(
                "fixed_rate",
                format!("{}: a fraction, 0 to 1", a.fixed_rate),
            ));
        }
        if a.reservoir_size < 0 {
            errs.push(FieldError::new(
                "reservoir_size",
                format!("{}: at least 0", a.reservoir_size),
            ));
        }
        for (field, v, max) in [
            ("service_name", &a.service_name, 64),
            ("service_type", &a.service_type, 64),
            ("host", &a.host, 64),
            ("http_method", &a.http_method, 10),
            ("url_path", &a.url_path, 128),
            ("resource_arn", &a.resource_arn, 500),
        ] {
            if v.is_empty() || v.chars().count() > max {
                errs.push(FieldError::new(
                    field,
                    format!("{v:?}: 1 to {max} characters (* matches anything)"),
                ));
            }
        }
        if a.version != 1 {
            errs.push(FieldError::new(
                "version",
                format!("{}: the only sampling rule format is 1", a.version),
            ));
        }
        for (k, v) in &a.attributes {
            if k.is_empty() || k.chars().count() > 32 || v.is_empty() || v.chars().count() > 32 {
                errs.push(FieldError::new(
                    format!("attributes.{k}"),
                    "attribute keys and values have 1 to 32 characters",
                ));
            }
        }
        errs.extend(check_tags(&a.tags));
        errs
    }

    async fn create(
        cx: &Cx<'_>,
        a: &SamplingRuleArgs,
    ) -> Result<Created<SamplingRuleOutputs>, ProviderError> {
        let rule = aws_sdk_xray::types::SamplingRule::builder()
            .rule_name(&a.rule_name)
            .priority(a.priority)
            .fixed_rate(a.fixed_rate)
            .reservoir_size(a.reservoir_size)
            .service_name(&a.service_name)
            .service_type(&a.service_type)
            .host(&a.host)
            .http_method(&a.http_method)
            .url_path(&a.url_path)
            .resource_arn(&a.resource_arn)
            .version(a.version)
            .set_attributes(
                (!a.attributes.is_empty()).then(|| a.attributes.clone().into_iter().collect()),
            )
            .build()
            .map_err(|e| ProviderError::Other(e.to_string()))?;
        let out = xray(cx)?
            .create_sampling_rule()
            .sampling_rule(rule)
            .set_tags(Some(xray_tags(cx.create_tags(&a.tags))?))
            .send()
            .await
            .map_err(api_error("xray:CreateSamplingRule"))
            // X-Ray says a name is taken with InvalidRequestException "… already exists".
            .map_err(|e| taken_if("InvalidRequestException", e))?;
        let arn = out
            .sampling_rule_record()
            .and_then(|r| r.sampling_rule())
            .and_then(|r| r.rule_arn())
            .unwrap_or_default()
            .to_owned();
        Ok(Created {
            id: a.rule_name.clone(),
            outputs: SamplingRuleOutputs {
                name: a.rule_name.clone(),
                arn,
            },
        })
    }

    /// Found again by its name, if it carries this create's `strata:token` tag (which the
    /// create call sets with the sampling rule).
    async fn recover(
        cx: &Cx<'_>,
        a: &SamplingRuleArgs,
    ) -> Result<Recovery<SamplingRuleOutputs>, ProviderError> {
        let found = match find(cx, &a.rule_name).await? {
            None => None,
            Some(r) => {
                let out = outputs(&a.rule_name, &r);
                let tags = tags_of(cx, &out.arn).await?;
                Some((
                    Created {
                        id: a.rule_name.clone(),
                        outputs: out,
                    },
                    tags,
                ))
            }
        };
        Ok(recovery_by_token(cx, "sampling rule", found))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&SamplingRuleArgs>,
    ) -> Result<Option<Observed<SamplingRuleArgs, SamplingRuleOutputs>>, ProviderError> {
        let Some(r) = find(cx, id).await? else {
            return Ok(None);
        };
        let out = outputs(id, &r);
        let tags = tags_of(cx, &out.arn).await?;
        Ok(Some(Observed {
            args: SamplingRuleArgs {
                rule_name: id.to_owned(),
                priority: r.priority(),
                fixed_rate: r.fixed_rate(),
                reservoir_size: r.reservoir_size(),
                service_name: r.service_name().to_owned(),
                service_type: r.service_type().to_owned(),
                host: r.host().to_owned(),
                http_method: r.http_method().to_owned(),
                url_path: r.url_path().to_owned(),
                resource_arn: r.resource_arn().to_owned(),
                version: r.version(),
                attributes: r
                    .attributes()
                    .map(|m| m.clone().into_iter().collect())
                    .unwrap_or_default(),
                tags: user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            },
            outputs: out,
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &SamplingRuleArgs,
        new: &SamplingRuleArgs,
        outputs: &SamplingRuleOutputs,
    ) -> Result<SamplingRuleOutputs, ProviderError> {
        let rule = |a: &SamplingRuleArgs| {
            let mut a = a.clone();
            a.tags.clear();
            a
        };
        if rule(old) != rule(new) {
            let update = SamplingRuleUpdate::builder()
                .rule_name(id)
                .priority(new.priority)
                .fixed_rate(new.fixed_rate)
                .reservoir_size(new.reservoir_size)
                .service_name(&new.service_name)
                .service_type(&new.service_type)
                .host(&new.host)
                .http_method(&new.http_method)
                .url_path(&new.url_path)
                .resource_arn(&new.resource_arn)
                .set_attributes(Some(new.attributes.clone().into_iter().collect()))
                .build();
            xray(cx)?
                .update_sampling_rule()
                .sampling_rule_update(update)
                .send()
                .await
                .map_err(api_error("xray:UpdateSamplingRule"))?;
        }
        update_tags(cx, &outputs.arn, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &SamplingRuleArgs,
        _: &SamplingRuleOutputs,
    ) -> Result<(), ProviderError> {
        match xray(cx)?.delete_sampling_rule().rule_name(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("xray:DeleteSamplingRule")(e)),
        }
    }
}
