//! `WebAcl`: an AWS WAF (v2) web ACL with typed rules: AWS managed rule groups, rate
//! limits per IP and geo blocking.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_wafv2::error::ProvideErrorMetadata;
use aws_sdk_wafv2::types::{
    AllowAction, BlockAction, CountAction, CountryCode, DefaultAction, GeoMatchStatement,
    ManagedRuleGroupStatement, NoneAction, OverrideAction, RateBasedStatement,
    RateBasedStatementAggregateKeyType, RuleAction, Scope, Statement, Tag, VisibilityConfig,
};
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, check_tags, is_user_tag, tag_changes, wait_for};
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::elb_common::{arn_region, check_region, wafv2, CLOUDFRONT_REGION};

/// How long a delete retries a web ACL still associated (AWS reports disassociation late).
const ASSOCIATED_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A WAF web ACL.
///
/// Rules are typed ([`Rule`]): AWS managed rule groups (SQL injection, the common rule set
/// with its XSS rules, …), a rate limit per client IP, and geo blocking. Every rule and the
/// ACL itself publish CloudWatch metrics named after them, with sampled requests.
///
/// The name and the scope replace it; the rules, the default action, the description and
/// tags change in place (`UpdateWebACL` with the lock token of a fresh `GetWebACL`,
/// retried when another writer got in between). A `cloudfront` scope ACL lives in
/// us-east-1 whatever the configuration's region (a `region` override may only say
/// us-east-1); a `regional` one in `region` or the configuration's region. A name taken
/// by an ACL this resource did not make (`WAFDuplicateItemException`) fails the create and
/// changes nothing; `import` takes one over.
///
/// Its id in state is its ARN, `arn:aws:wafv2:REGION:ACCOUNT:SCOPE/webacl/NAME/ID`
/// (`SCOPE` is `regional` or `global`): the name, id, scope and region every WAF call
/// needs, so that an ACL can be read, imported and deleted from the id alone.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::{Rule, WebAcl};
/// let mut s = Stack::new("dev");
/// s.add(
///     "waf",
///     WebAcl::regional("shop-waf")
///         .rule(Rule::sql_injection(1))
///         .rule(Rule::common(2))
///         .rule(Rule::rate_limit(3, 1000))
///         .rule(Rule::geo_block(4, ["KP"])),
/// );
/// assert!(s.seal().is_ok());
/// ```
#[derive(Debug)]
pub struct WebAcl;

/// What a web ACL protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WafScope {
    /// Regional resources: load balancers, API Gateway stages, …
    Regional,
    /// CloudFront distributions (the ACL lives in us-east-1).
    #[serde(rename = "cloudfront")]
    CloudFront,
}

/// What happens to a request no rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WafDefaultAction {
    /// Let it through.
    #[default]
    Allow,
    /// Refuse it (403).
    Block,
}

/// What a rule does with a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WafRuleAction {
    /// Refuse it (403).
    #[default]
    Block,
    /// Only count it (CloudWatch metrics), to try a rule out.
    Count,
}

/// How a managed rule group's own actions apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagedRuleOverride {
    /// As the group says (block what it blocks).
    #[default]
    None,
    /// Count instead of acting, to try a group out.
    Count,
}

/// What requests a rate limit counts together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateAggregate {
    /// Per client IP address.
    #[default]
    Ip,
}

/// A rule of a [`WebAcl`]. Its `name` is also its CloudWatch metric name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A managed rule group, named after the group.
    ManagedRuleGroup {
        /// The vendor (`AWS`).
        vendor: String,
        /// The group (`AWSManagedRulesSQLiRuleSet`), also the rule's name.
        name: String,
        /// The evaluation order (lowest first; unique in the ACL).
        priority: u32,
        /// Whether the group acts or only counts.
        #[serde(default)]
        override_action: ManagedRuleOverride,
    },
    /// A rate limit: requests over `limit` per `evaluation_window_sec` from one client.
    RateBased {
        /// The rule's name.
        name: String,
        /// The evaluation order.
        priority: u32,
        /// Requests allowed per window (10 to 2,000,000,000).
        limit: u64,
        /// The window: 60, 120, 300 or 600 seconds.
        evaluation_window_sec: u32,
        /// What is counted together.
        #[serde(default)]
        aggregate: RateAggregate,
        /// What happens above the limit.
        #[serde(default)]
        action: WafRuleAction,
    },
    /// Requests from these countries.
    GeoBlock {
        /// The rule's name.
        name: String,
        /// The evaluation order.
        priority: u32,
        /// ISO 3166 alpha-2 country codes (`KP`).
        country_codes: Vec<String>,
        /// What happens to them.
        #[serde(default)]
        action: WafRuleAction,
    },
    /// What read reports for a live rule strata does not model; refused in declarations.
    Unsupported {
        /// The rule's name.
        name: String,
        /// Its priority.
        priority: u32,
    },
}

impl Rule {
    /// The managed rule group `vendor`/`name` at `priority`, acting as the group says.
    pub fn managed(vendor: impl Into<String>, name: impl Into<String>, priority: u32) -> Self {
        Rule::ManagedRuleGroup {
            vendor: vendor.into(),
            name: name.into(),
            priority,
            override_action: ManagedRuleOverride::None,
        }
    }
    /// AWS's SQL injection rule group (`AWSManagedRulesSQLiRuleSet`).
    pub fn sql_injection(priority: u32) -> Self {
        Self::managed("AWS", "AWSManagedRulesSQLiRuleSet", priority)
    }
    /// AWS's common rule set (`AWSManagedRulesCommonRuleSet`), with its cross-site
    /// scripting rules.
    pub fn common(priority: u32) -> Self {
        Self::managed("AWS", "AWSManagedRulesCommonRuleSet", priority)
    }
    /// `rate-limit`: blocks a client IP above `limit` requests per 5 minutes.
    pub fn rate_limit(priority: u32, limit: u64) -> Self {
        Rule::RateBased {
            name: "rate-limit".into(),
            priority,
            limit,
            evaluation_window_sec: 300,
            aggregate: RateAggregate::Ip,
            action: WafRuleAction::Block,
        }
    }
    /// `geo-block`: blocks requests from `country_codes`.
    pub fn geo_block<S: Into<String>>(
        priority: u32,
        country_codes: impl IntoIterator<Item = S>,
    ) -> Self {
        Rule::GeoBlock {
            name: "geo-block".into(),
            priority,
            country_codes: country_codes.into_iter().map(Into::into).collect(),
            action: WafRuleAction::Block,
        }
    }
    /// Renames a rate or geo rule (a managed group's rule is named after the group).
    pub fn named(mut self, new: impl Into<String>) -> Self {
        match &mut self {
            Rule::RateBased { name, .. } | Rule::GeoBlock { name, .. } => *name = new.into(),
            Rule::ManagedRuleGroup { .. } | Rule::Unsupported { .. } => {}
        }
        self
    }
    /// Only counts what the rule matches.
    pub fn count(mut self) -> Self {
        match &mut self {
            Rule::ManagedRuleGroup {
                override_action, ..
            } => *override_action = ManagedRuleOverride::Count,
            Rule::RateBased { action, .. } | Rule::GeoBlock { action, .. } => {
                *action = WafRuleAction::Count
            }
            Rule::Unsupported { .. } => {}
        }
        self
    }
    /// The rule's name.
    pub fn name(&self) -> &str {
        match self {
            Rule::ManagedRuleGroup { name, .. }
            | Rule::RateBased { name, .. }
            | Rule::GeoBlock { name, .. }
            | Rule::Unsupported { name, .. } => name,
        }
    }
    /// The rule's priority.
    pub fn priority(&self) -> u32 {
        match self {
            Rule::ManagedRuleGroup { priority, .. }
            | Rule::RateBased { priority, .. }
            | Rule::GeoBlock { priority, .. }
            | Rule::Unsupported { priority, .. } => *priority,
        }
    }
}

/// The args of a [`WebAcl`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebAclArgs {
    /// The name: 1 to 128 letters, digits, `_` or `-`. Replaces.
    pub name: String,
    /// Regional or CloudFront. Replaces.
    pub scope: WafScope,
    /// What happens to requests no rule decided.
    #[serde(default)]
    pub default_action: WafDefaultAction,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// A description (1 to 256 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// The region (default: the configuration's; us-east-1 for CloudFront). Replaces.
    #[serde(default)]
    pub region: Option<String>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl WebAcl {
    /// A regional ACL `name` that allows by default, without rules yet.
    pub fn regional(name: impl Into<String>) -> WebAclArgs {
        Self::with_scope(name, WafScope::Regional)
    }
    /// A CloudFront ACL `name` (in us-east-1) that allows by default, without rules yet.
    pub fn cloudfront(name: impl Into<String>) -> WebAclArgs {
        Self::with_scope(name, WafScope::CloudFront)
    }
    fn with_scope(name: impl Into<String>, scope: WafScope) -> WebAclArgs {
        WebAclArgs {
            name: name.into(),
            scope,
            default_action: WafDefaultAction::Allow,
            rules: Vec::new(),
            description: None,
            region: None,
            tags: BTreeMap::new(),
        }
    }
}

impl WebAclArgs {
    /// Adds a rule.
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }
    /// Sets the rules.
    pub fn rules(mut self, rules: impl IntoIterator<Item = Rule>) -> Self {
        self.rules = rules.into_iter().collect();
        self
    }
    /// Sets the default action.
    pub fn default_action(mut self, a: WafDefaultAction) -> Self {
        self.default_action = a;
        self
    }
    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
    /// Sets the region.
    pub fn region(mut self, r: impl Into<String>) -> Self {
        self.region = Some(r.into());
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for WebAclArgs {
    type Resource = WebAcl;
}

/// The outputs of a [`WebAcl`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebAclOutputs {
    /// The ARN (its id in state, and what associations and CloudFront take).
    pub arn: String,
    /// WAF's id of the ACL (a UUID).
    pub id: String,
    /// The name.
    pub name: String,
    /// The web ACL capacity units its rules use (AWS allows 5000 per ACL).
    pub capacity: i64,
}

strata_core::outputs!(WebAcl => WebAclHandle {
    /// The ARN.
    arn: String,
    /// WAF's id (a UUID).
    id: String,
    /// The name.
    name: String,
    /// The capacity units used.
    capacity: i64,
});

/// The parts of a web ACL ARN: region, scope, name, id.
pub(crate) fn parse_arn(arn: &str) -> Result<(String, Scope, String, String), ProviderError> {
    let bad = || ProviderError::Invalid {
        field: "id".into(),
        message: format!(
            "{arn:?} is not a web ACL ARN (arn:aws:wafv2:REGION:ACCOUNT:SCOPE/webacl/NAME/ID)"
        ),
    };
    let region = arn_region(arn).ok_or_else(bad)?.to_owned();
    let resource = arn.splitn(6, ':').nth(5).ok_or_else(bad)?;
    let parts: Vec<&str> = resource.split('/').collect();
    let [scope, "webacl", name, id] = parts.as_slice() else {
        return Err(bad());
    };
    let scope = match *scope {
        "regional" => Scope::Regional,
        "global" => Scope::Cloudfront,
        _ => return Err(bad()),
    };
    Ok((region, scope, (*name).to_owned(), (*id).to_owned()))
}

/// The region the ACL of these args lives in (`None`: the configuration's).
fn region(a: &WebAclArgs) -> Option<&str> {
    match a.scope {
        WafScope::CloudFront => Some(CLOUDFRONT_REGION),
        WafScope::Regional => a.region.as_deref(),
    }
}

fn aws_scope(s: WafScope) -> Scope {
    match s {
        WafScope::Regional => Scope::Regional,
        WafScope::CloudFront => Scope::Cloudfront,
    }
}

fn other(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Other(e.to_string())
}

fn visibility(metric: &str) -> Result<VisibilityConfig, ProviderError> {
    VisibilityConfig::builder()
        .sampled_requests_enabled(true)
        .cloud_watch_metrics_enabled(true)
        .metric_name(metric)
        .build()
        .map_err(other)
}

fn rule_action(a: WafRuleAction) -> RuleAction {
    match a {
        WafRuleAction::Block => RuleAction::builder()
            .block(BlockAction::builder().build())
            .build(),
        WafRuleAction::Count => RuleAction::builder()
            .count(CountAction::builder().build())
            .build(),
    }
}

fn aws_rule(r: &Rule) -> Result<aws_sdk_wafv2::types::Rule, ProviderError> {
    let b = aws_sdk_wafv2::types::Rule::builder()
        .name(r.name())
        .priority(r.priority() as i32)
        .visibility_config(visibility(r.name())?);
    let b = match r {
        Rule::ManagedRuleGroup {
            vendor,
            name,
            override_action,
            ..
        } => b
            .statement(
                Statement::builder()
                    .managed_rule_group_statement(
                        ManagedRuleGroupStatement::builder()
                            .vendor_name(vendor)
                            .name(name)
                            .build()
                            .map_err(other)?,
                    )
                    .build(),
            )
            .override_action(match override_action {
                ManagedRuleOverride::None => OverrideAction::builder()
                    .none(NoneAction::builder().build())
                    .build(),
                ManagedRuleOverride::Count => OverrideAction::builder()
                    .count(CountAction::builder().build())
                    .build(),
            }),
        Rule::RateBased {
            limit,
            evaluation_window_sec,
            action,
            ..
        } => b
            .statement(
                Statement::builder()
                    .rate_based_statement(
                        RateBasedStatement::builder()
                            .limit(*limit as i64)
                            .evaluation_window_sec(i64::from(*evaluation_window_sec))
                            .aggregate_key_type(RateBasedStatementAggregateKeyType::Ip)
                            .build()
                            .map_err(other)?,
                    )
                    .build(),
            )
            .action(rule_action(*action)),
        Rule::GeoBlock {
            country_codes,
            action,
            ..
        } => b
            .statement(
                Statement::builder()
                    .geo_match_statement(
                        GeoMatchStatement::builder()
                            .set_country_codes(Some(
                                country_codes
                                    .iter()
                                    .map(|c| CountryCode::from(c.as_str()))
                                    .collect(),
                            ))
                            .build(),
                    )
                    .build(),
            )
            .action(rule_action(*action)),
        Rule::Unsupported { name, .. } => {
            return Err(ProviderError::Invalid {
                field: "rules".into(),
                message: format!("rule {name}: cannot declare an unsupported rule"),
            })
        }
    };
    b.build().map_err(other)
}

fn live_action(a: Option<&RuleAction>) -> Option<WafRuleAction> {
    match a {
        Some(a) if a.block().is_some() => Some(WafRuleAction::Block),
        Some(a) if a.count().is_some() => Some(WafRuleAction::Count),
        _ => None,
    }
}

/// A live rule as args ([`Rule::Unsupported`] for what strata does not model).
fn from_aws(r: &aws_sdk_wafv2::types::Rule) -> Rule {
    let name = r.name().to_owned();
    let priority = u32::try_from(r.priority()).unwrap_or_default();
    let unsupported = Rule::Unsupported {
        name: name.clone(),
        priority,
    };
    let Some(st) = r.statement() else {
        return unsupported;
    };
    if let Some(m) = st.managed_rule_group_statement() {
        let plain = m.name() == name
            && m.version().is_none()
            && m.excluded_rules().is_empty()
            && m.scope_down_statement().is_none()
            && m.rule_action_overrides().is_empty()
            && m.managed_rule_group_configs().is_empty();
        if !plain {
            return unsupported;
        }
        return Rule::ManagedRuleGroup {
            vendor: m.vendor_name().to_owned(),
            name,
            priority,
            override_action: if r.override_action().and_then(|o| o.count()).is_some() {
                ManagedRuleOverride::Count
            } else {
                ManagedRuleOverride::None
            },
        };
    }
    if let Some(rb) = st.rate_based_statement() {
        let (Some(action), RateBasedStatementAggregateKeyType::Ip, None) = (
            live_action(r.action()),
            rb.aggregate_key_type(),
            rb.scope_down_statement(),
        ) else {
            return unsupported;
        };
        return Rule::RateBased {
            name,
            priority,
            limit: u64::try_from(rb.limit()).unwrap_or_default(),
            evaluation_window_sec: u32::try_from(rb.evaluation_window_sec())
                .ok()
                .filter(|w| *w > 0)
                .unwrap_or(300),
            aggregate: RateAggregate::Ip,
            action,
        };
    }
    if let (Some(g), Some(action)) = (st.geo_match_statement(), live_action(r.action())) {
        return Rule::GeoBlock {
            name,
            priority,
            country_codes: g
                .country_codes()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            action,
        };
    }
    unsupported
}

fn default_action(a: WafDefaultAction) -> DefaultAction {
    match a {
        WafDefaultAction::Allow => DefaultAction::builder()
            .allow(AllowAction::builder().build())
            .build(),
        WafDefaultAction::Block => DefaultAction::builder()
            .block(BlockAction::builder().build())
            .build(),
    }
}

fn rules(a: &WebAclArgs) -> Result<Vec<aws_sdk_wafv2::types::Rule>, ProviderError> {
    a.rules.iter().map(aws_rule).collect()
}

fn word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The ACL and its lock token, or `None` if it is gone.
async fn get(
    client: &aws_sdk_wafv2::Client,
    scope: &Scope,
    name: &str,
    id: &str,
) -> Result<Option<(aws_sdk_wafv2::types::WebAcl, String)>, ProviderError> {
    match client
        .get_web_acl()
        .name(name)
        .scope(scope.clone())
        .id(id)
        .send()
        .await
    {
        Ok(o) => Ok(o
            .web_acl()
            .cloned()
            .map(|w| (w, o.lock_token().unwrap_or_default().to_owned()))),
        Err(e) if e.code() == Some("WAFNonexistentItemException") => Ok(None),
        Err(e) => Err(api_error("wafv2:GetWebACL")(e)),
    }
}

async fn all_tags(
    client: &aws_sdk_wafv2::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(api_error("wafv2:ListTagsForResource"))?;
    Ok(out
        .tag_info_for_resource()
        .map(|t| t.tag_list())
        .unwrap_or_default()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect())
}

fn waf_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(other))
        .collect()
}

fn outputs(w: &aws_sdk_wafv2::types::WebAcl) -> WebAclOutputs {
    WebAclOutputs {
        arn: w.arn().to_owned(),
        id: w.id().to_owned(),
        name: w.name().to_owned(),
        capacity: w.capacity(),
    }
}

#[async_trait]
impl Resource for WebAcl {
    const TYPE: &'static str = "aws:wafv2/web-acl";
    const REPLACE_ON: &'static [&'static str] = &["name", "scope", "region"];
    /// Names are unique per scope (and region).
    const IDENTITY: &'static [&'static str] = &["name", "scope", "region"];
    type Args = WebAclArgs;
    type Outputs = WebAclOutputs;

    fn validate(a: &WebAclArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if !word(&a.name) || a.name.len() > 128 {
            errs.push(FieldError::new(
                "name",
                format!("{:?}: 1 to 128 letters, digits, _ or -", a.name),
            ));
        }
        if let Some(d) = &a.description {
            if d.is_empty() || d.chars().count() > 256 {
                errs.push(FieldError::new(
                    "description",
                    "a description has 1 to 256 characters",
                ));
            }
        }
        if let Some(r) = &a.region {
            check_region(&mut errs, "region", r);
            if a.scope == WafScope::CloudFront && r != CLOUDFRONT_REGION {
                errs.push(FieldError::new(
                    "region",
                    format!("{r}: web ACLs for CloudFront live in {CLOUDFRONT_REGION}"),
                ));
            }
        }
        for (k, r) in a.rules.iter().enumerate() {
            let field = |f: &str| format!("rules.{k}.{f}");
            let name = r.name();
            if !word(name) || name.len() > 128 {
                errs.push(FieldError::new(
                    field("name"),
                    format!("{name:?}: 1 to 128 letters, digits, _ or -"),
                ));
            } else if name == "All" || name == "Default_Action" {
                errs.push(FieldError::new(
                    field("name"),
                    format!("{name:?} is a metric name WAF reserves"),
                ));
            }
            if a.rules[..k].iter().any(|o| o.name() == name) {
                errs.push(FieldError::new(
                    field("name"),
                    format!("two rules are named {name:?}"),
                ));
            }
            if let Some(o) = a.rules[..k].iter().find(|o| o.priority() == r.priority()) {
                errs.push(FieldError::new(
                    field("priority"),
                    format!("{} is also the priority of {}", r.priority(), o.name()),
                ));
            }
            match r {
                Rule::ManagedRuleGroup { vendor, .. } => {
                    if !word(vendor) || vendor.len() > 128 {
                        errs.push(FieldError::new(
                            field("vendor"),
                            format!("{vendor:?}: 1 to 128 letters, digits, _ or -"),
                        ));
                    }
                }
                Rule::RateBased {
                    limit,
                    evaluation_window_sec,
                    ..
                } => {
                    if !(10..=2_000_000_000).contains(limit) {
                        errs.push(FieldError::new(
                            field("limit"),
                            format!(
                                "{limit}: a rate limit is 10 to 2,000,000,000 requests per window"
                            ),
                        ));
                    }
                    if ![60, 120, 300, 600].contains(evaluation_window_sec) {
                        errs.push(FieldError::new(
                            field("evaluation_window_sec"),
                            format!("{evaluation_window_sec}: the window is 60, 120, 300 or 600 seconds"),
                        ));
                    }
                }
                Rule::GeoBlock { country_codes, .. } => {
                    if country_codes.is_empty() {
                        errs.push(FieldError::new(
                            field("country_codes"),
                            "a geo rule needs at least one country",
                        ));
                    }
                    for (j, c) in country_codes.iter().enumerate() {
                        let two_upper = c.len() == 2 && c.chars().all(|c| c.is_ascii_uppercase());
                        if !two_upper || !CountryCode::values().contains(&c.as_str()) {
                            errs.push(FieldError::new(
                                format!("rules.{k}.country_codes.{j}"),
                                format!("{c:?} is not an ISO 3166 alpha-2 country code WAF knows (uppercase, like KP)"),
                            ));
                        }
                        if country_codes[..j].contains(c) {
                            errs.push(FieldError::new(
                                format!("rules.{k}.country_codes.{j}"),
                                format!("{c} is listed twice"),
                            ));
                        }
                    }
                }
                Rule::Unsupported { .. } => errs.push(FieldError::new(
                    format!("rules.{k}"),
                    "unsupported is what read reports for rules strata does not model",
                )),
            }
        }
        errs.extend(check_tags(&a.tags));
        errs
    }

    fn estimate(_: &WebAclArgs) -> Duration {
        Duration::from_secs(5)
    }

    async fn create(cx: &Cx<'_>, a: &WebAclArgs) -> Result<Created<WebAclOutputs>, ProviderError> {
        let client = wafv2(cx, region(a))?;
        let scope = aws_scope(a.scope);
        let out = client
            .create_web_acl()
            .name(&a.name)
            .scope(scope.clone())
            .default_action(default_action(a.default_action))
            .set_rules(Some(rules(a)?))
            .visibility_config(visibility(&a.name)?)
            .set_description(a.description.clone())
            .set_tags(Some(waf_tags(cx.create_tags(&a.tags))?))
            .send()
            .await
            .map_err(|e| {
                if e.code() == Some("WAFDuplicateItemException") {
                    ProviderError::AlreadyExists {
                        operation: "wafv2:CreateWebACL".into(),
                        message: format!(
                            "a web ACL named {} exists in this scope and region (a replacement needs a new name; `import` takes over an existing one)",
                            a.name
                        ),
                    }
                } else {
                    api_error("wafv2:CreateWebACL")(e)
                }
            })?;
        let summary = out
            .summary()
            .ok_or_else(|| ProviderError::Other("CreateWebACL returned no summary".into()))?;
        let (arn, id) = (
            summary.arn().unwrap_or_default().to_owned(),
            summary.id().unwrap_or_default().to_owned(),
        );
        let outputs = match get(&client, &scope, &a.name, &id).await? {
            Some((w, _)) => outputs(&w),
            None => WebAclOutputs {
                arn: arn.clone(),
                id,
                name: a.name.clone(),
                capacity: 0,
            },
        };
        Ok(Created { id: arn, outputs })
    }

    /// Found again by its name in its scope, only if it carries this create's
    /// `strata:token` tag (set in the create call itself); an ACL of that name without it
    /// is not this resource's: `Absent`.
    async fn recover(
        cx: &Cx<'_>,
        a: &WebAclArgs,
    ) -> Result<Recovery<WebAclOutputs>, ProviderError> {
        let client = wafv2(cx, region(a))?;
        let scope = aws_scope(a.scope);
        let mut next: Option<String> = None;
        loop {
            let out = client
                .list_web_acls()
                .scope(scope.clone())
                .limit(100)
                .set_next_marker(next.take())
                .send()
                .await
                .map_err(api_error("wafv2:ListWebACLs"))?;
            for s in out.web_acls() {
                if s.name() != Some(a.name.as_str()) {
                    continue;
                }
                let (Some(arn), Some(id)) = (s.arn(), s.id()) else {
                    continue;
                };
                let tags = all_tags(&client, arn).await?;
                if !cx.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                    return Ok(Recovery::Absent);
                }
                let Some((w, _)) = get(&client, &scope, &a.name, id).await? else {
                    continue;
                };
                return Ok(Recovery::Found(Created {
                    id: arn.to_owned(),
                    outputs: outputs(&w),
                }));
            }
            match out.next_marker() {
                Some(m) if !m.is_empty() && !out.web_acls().is_empty() => next = Some(m.to_owned()),
                _ => return Ok(Recovery::Absent),
            }
        }
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&WebAclArgs>,
    ) -> Result<Option<Observed<WebAclArgs, WebAclOutputs>>, ProviderError> {
        let (arn_region, scope, name, waf_id) = parse_arn(id)?;
        let client = wafv2(cx, Some(&arn_region))?;
        let Some((w, _)) = get(&client, &scope, &name, &waf_id).await? else {
            return Ok(None);
        };
        let mut live: Vec<Rule> = w.rules().iter().map(from_aws).collect();
        let declared: Vec<&str> = args
            .map(|a| a.rules.iter().map(Rule::name).collect())
            .unwrap_or_default();
        let mut live_names: Vec<&str> = live.iter().map(Rule::name).collect();
        let mut sorted_declared = declared.clone();
        live_names.sort_unstable();
        sorted_declared.sort_unstable();
        if !declared.is_empty() && live_names == sorted_declared {
            // The declared order.
            live.sort_by_key(|r| declared.iter().position(|d| *d == r.name()));
        } else {
            live.sort_by_key(Rule::priority);
        }
        let tags = all_tags(&client, id)
            .await?
            .into_iter()
            .filter(|(k, _)| is_user_tag(k))
            .collect();
        Ok(Some(Observed {
            args: WebAclArgs {
                name: w.name().to_owned(),
                scope: if scope == Scope::Cloudfront {
                    WafScope::CloudFront
                } else {
                    WafScope::Regional
                },
                default_action: if w.default_action().and_then(|d| d.block()).is_some() {
                    WafDefaultAction::Block
                } else {
                    WafDefaultAction::Allow
                },
                rules: live,
                description: w.description().filter(|d| !d.is_empty()).map(str::to_owned),
                region: args.and_then(|a| a.region.clone()),
                tags,
            },
            outputs: outputs(&w),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &WebAclArgs,
        new: &WebAclArgs,
        outputs: &WebAclOutputs,
    ) -> Result<WebAclOutputs, ProviderError> {
        let (arn_region, scope, name, waf_id) = parse_arn(id)?;
        let client = wafv2(cx, Some(&arn_region))?;
        if (&old.rules, old.default_action, &old.description)
            != (&new.rules, new.default_action, &new.description)
        {
            let rules = rules(new)?;
            let mut attempts = 0;
            loop {
                let Some((_, lock)) = get(&client, &scope, &name, &waf_id).await? else {
                    return Err(ProviderError::NotFound(id.to_owned()));
                };
                match client
                    .update_web_acl()
                    .name(&name)
                    .scope(scope.clone())
                    .id(&waf_id)
                    .lock_token(lock)
                    .default_action(default_action(new.default_action))
                    .set_rules(Some(rules.clone()))
                    .visibility_config(visibility(&name)?)
                    .set_description(new.description.clone())
                    .send()
                    .await
                {
                    Ok(_) => break,
                    // Someone else changed it between our get and update: read again.
                    Err(e) if e.code() == Some("WAFOptimisticLockException") && attempts < 5 => {
                        attempts += 1;
                    }
                    Err(e) => return Err(api_error("wafv2:UpdateWebACL")(e)),
                }
            }
        }
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_resource()
                .resource_arn(id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("wafv2:UntagResource"))?;
        }
        if !set.is_empty() {
            client
                .tag_resource()
                .resource_arn(id)
                .set_tags(Some(waf_tags(set)?))
                .send()
                .await
                .map_err(api_error("wafv2:TagResource"))?;
        }
        Ok(match get(&client, &scope, &name, &waf_id).await? {
            Some((w, _)) => self::outputs(&w),
            None => outputs.clone(),
        })
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &WebAclArgs,
        _: &WebAclOutputs,
    ) -> Result<(), ProviderError> {
        let (arn_region, scope, name, waf_id) = parse_arn(id)?;
        let client = wafv2(cx, Some(&arn_region))?;
        wait_for(
            format!("web ACL {name} to be deleted (still associated, or changed meanwhile)"),
            ASSOCIATED_TIMEOUT,
            Duration::from_secs(5),
            || async {
                let Some((_, lock)) = get(&client, &scope, &name, &waf_id).await? else {
                    return Ok(Some(()));
                };
                match client
                    .delete_web_acl()
                    .name(&name)
                    .scope(scope.clone())
                    .id(&waf_id)
                    .lock_token(lock)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Some(())),
                    Err(e) => match e.code() {
                        Some("WAFNonexistentItemException") => Ok(Some(())),
                        Some("WAFOptimisticLockException" | "WAFAssociatedItemException") => {
                            Ok(None)
                        }
                        _ => Err(api_error("wafv2:DeleteWebACL")(e)),
                    },
                }
            },
        )
        .await
    }
}
