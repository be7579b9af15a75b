//! `MetricAlarm`: a CloudWatch alarm on one metric, with a static threshold.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, Dimension, Tag};
use serde::{Deserialize, Serialize};
use strata_core::aws::kms::{check_key_uses, keys_at, KeyService, KeyUse};
use strata_core::aws::{api_error, check_tags, tag_changes, user_tags};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    StackView, Urn,
};

use crate::common::{recovery_by_token, same_set, taken};

/// A CloudWatch metric alarm. The name replaces it; everything else changes in place
/// (`PutMetricAlarm` again, and `TagResource` / `UntagResource` for the tags, which
/// `PutMetricAlarm` ignores on an existing alarm).
///
/// The spec's "EC2 CPU > 80% for 5 minutes", notifying an SNS topic:
///
/// ```
/// use strata_core::Stack;
/// use strata_observability::{Comparison, MetricAlarm, Statistic, Topic, TopicHandle};
/// let mut s = Stack::new("dev");
/// let alerts = s.add("alerts", Topic::new("shop-critical"));
/// s.add(
///     "ec2-cpu",
///     MetricAlarm::new("shop-ec2-cpu-high", "AWS/EC2", "CPUUtilization")
///         .statistic(Statistic::Average)
///         .period(300)
///         .evaluation_periods(1)
///         .when(Comparison::GreaterThanThreshold, 80.0)
///         .dimension("AutoScalingGroupName", "shop-app")
///         .alarm_action(alerts.arn())
///         .ok_action(alerts.arn()),
/// );
/// ```
#[derive(Debug)]
pub struct MetricAlarm;

/// The statistic an alarm evaluates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    /// The mean.
    Average,
    /// The sum.
    Sum,
    /// The minimum.
    Minimum,
    /// The maximum.
    Maximum,
    /// The number of data points.
    SampleCount,
    /// A percentile, 0 to 100 with up to two decimals (`p99`, `p99.9`): an extended
    /// statistic.
    Percentile(f64),
    /// Another extended statistic: trimmed mean `tm90`, `tm(10%:90%)`, winsorized mean
    /// `wm90`, trimmed count `tc90`, trimmed sum `ts90`, `IQM`, percentile rank `PR(n:m)`.
    Extended(String),
}

impl Statistic {
    fn plain(&self) -> Option<aws_sdk_cloudwatch::types::Statistic> {
        use aws_sdk_cloudwatch::types::Statistic as S;
        Some(match self {
            Statistic::Average => S::Average,
            Statistic::Sum => S::Sum,
            Statistic::Minimum => S::Minimum,
            Statistic::Maximum => S::Maximum,
            Statistic::SampleCount => S::SampleCount,
            Statistic::Percentile(_) | Statistic::Extended(_) => return None,
        })
    }

    fn extended(&self) -> Option<String> {
        match self {
            Statistic::Percentile(p) => Some(format!("p{p}")),
            Statistic::Extended(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn from_live(plain: Option<&aws_sdk_cloudwatch::types::Statistic>, ext: Option<&str>) -> Self {
        use aws_sdk_cloudwatch::types::Statistic as S;
        if let Some(e) = ext {
            return match e.strip_prefix('p').and_then(|n| n.parse::<f64>().ok()) {
                Some(p) => Statistic::Percentile(p),
                None => Statistic::Extended(e.to_owned()),
            };
        }
        match plain {
            Some(S::Sum) => Statistic::Sum,
            Some(S::Minimum) => Statistic::Minimum,
            Some(S::Maximum) => Statistic::Maximum,
            Some(S::SampleCount) => Statistic::SampleCount,
            _ => Statistic::Average,
        }
    }
}

/// How the statistic is compared with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// `>=`.
    GreaterThanOrEqualToThreshold,
    /// `>`.
    GreaterThanThreshold,
    /// `<`.
    LessThanThreshold,
    /// `<=`.
    LessThanOrEqualToThreshold,
}

impl Comparison {
    fn aws(self) -> ComparisonOperator {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => {
                ComparisonOperator::GreaterThanOrEqualToThreshold
            }
            Comparison::GreaterThanThreshold => ComparisonOperator::GreaterThanThreshold,
            Comparison::LessThanThreshold => ComparisonOperator::LessThanThreshold,
            Comparison::LessThanOrEqualToThreshold => {
                ComparisonOperator::LessThanOrEqualToThreshold
            }
        }
    }

    fn from_live(c: Option<&ComparisonOperator>) -> Self {
        match c {
            Some(ComparisonOperator::GreaterThanOrEqualToThreshold) => {
                Comparison::GreaterThanOrEqualToThreshold
            }
            Some(ComparisonOperator::LessThanThreshold) => Comparison::LessThanThreshold,
            Some(ComparisonOperator::LessThanOrEqualToThreshold) => {
                Comparison::LessThanOrEqualToThreshold
            }
            _ => Comparison::GreaterThanThreshold,
        }
    }
}

/// What a period without data counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TreatMissingData {
    /// Breaching the threshold.
    Breaching,
    /// Within the threshold.
    NotBreaching,
    /// Ignored: the alarm keeps its state.
    Ignore,
    /// Missing (AWS's default): the alarm goes to INSUFFICIENT_DATA.
    #[default]
    Missing,
}

impl TreatMissingData {
    fn aws(self) -> &'static str {
        match self {
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::NotBreaching => "notBreaching",
            TreatMissingData::Ignore => "ignore",
            TreatMissingData::Missing => "missing",
        }
    }

    fn from_live(s: Option<&str>) -> Self {
        match s {
            Some("breaching") => TreatMissingData::Breaching,
            Some("notBreaching") => TreatMissingData::NotBreaching,
            Some("ignore") => TreatMissingData::Ignore,
            _ => TreatMissingData::Missing,
        }
    }
}

/// The args of a [`MetricAlarm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricAlarmArgs {
    /// The name (1 to 255 characters, unique in the region).
    pub name: String,
    /// The description (up to 1024 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// The metric's namespace (`AWS/EC2`, `CWAgent`, …).
    pub namespace: String,
    /// The metric's name.
    pub metric_name: String,
    /// The statistic.
    pub statistic: Statistic,
    /// The period, in seconds: 10, 20, 30 (high resolution) or a multiple of 60.
    pub period: i32,
    /// How many periods are evaluated (N).
    pub evaluation_periods: i32,
    /// How many of them must breach (M of N); `None`: all of them.
    #[serde(default)]
    pub datapoints_to_alarm: Option<i32>,
    /// The threshold.
    pub threshold: f64,
    /// The comparison.
    pub comparison: Comparison,
    /// The metric's dimensions.
    #[serde(default)]
    pub dimensions: BTreeMap<String, Input<String>>,
    /// What to notify on ALARM (ARNs: SNS topics, scaling policies; at most 5).
    #[serde(default)]
    pub alarm_actions: Vec<Input<String>>,
    /// What to notify on OK (at most 5).
    #[serde(default)]
    pub ok_actions: Vec<Input<String>>,
    /// What missing data counts as.
    #[serde(default)]
    pub treat_missing_data: TreatMissingData,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl MetricAlarm {
    /// An alarm `name` on `namespace`/`metric_name`: the average over 5 minutes, one
    /// period, greater than 0 (set the condition with [`MetricAlarmArgs::when`]).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        name: impl Into<String>,
        namespace: impl Into<String>,
        metric_name: impl Into<String>,
    ) -> MetricAlarmArgs {
        MetricAlarmArgs {
            name: name.into(),
            description: None,
            namespace: namespace.into(),
            metric_name: metric_name.into(),
            statistic: Statistic::Average,
            period: 300,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
            threshold: 0.0,
            comparison: Comparison::GreaterThanThreshold,
            dimensions: BTreeMap::new(),
            alarm_actions: Vec::new(),
            ok_actions: Vec::new(),
            treat_missing_data: TreatMissingData::Missing,
            tags: BTreeMap::new(),
        }
    }
}

impl MetricAlarmArgs {
    /// Alarms when the statistic compares so with `threshold`.
    pub fn when(mut self, comparison: Comparison, threshold: f64) -> Self {
        self.comparison = comparison;
        self.threshold = threshold;
        self
    }
    /// Sets the statistic.
    pub fn statistic(mut self, s: Statistic) -> Self {
        self.statistic = s;
        self
    }
    /// Sets the period, in seconds.
    pub fn period(mut self, secs: i32) -> Self {
        self.period = secs;
        self
    }
    /// Sets the number of periods evaluated.
    pub fn evaluation_periods(mut self, n: i32) -> Self {
        self.evaluation_periods = n;
        self
    }
    /// Alarms when `m` of the evaluated periods breach.
    pub fn datapoints_to_alarm(mut self, m: i32) -> Self {
        self.datapoints_to_alarm = Some(m);
        self
    }
    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
    /// Adds a dimension.
    pub fn dimension(mut self, name: impl Into<String>, value: impl Into<Input<String>>) -> Self {
        self.dimensions.insert(name.into(), value.into());
        self
    }
    /// Adds an action on ALARM.
    pub fn alarm_action(mut self, arn: impl Into<Input<String>>) -> Self {
        self.alarm_actions.push(arn.into());
        self
    }
    /// Adds an action on OK.
    pub fn ok_action(mut self, arn: impl Into<Input<String>>) -> Self {
        self.ok_actions.push(arn.into());
        self
    }
    /// Sets what missing data counts as.
    pub fn treat_missing_data(mut self, t: TreatMissingData) -> Self {
        self.treat_missing_data = t;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for MetricAlarmArgs {
    type Resource = MetricAlarm;
}

/// The outputs of a [`MetricAlarm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricAlarmOutputs {
    /// The name (its id).
    pub name: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(MetricAlarm => MetricAlarmHandle {
    /// The name.
    name: String,
    /// The ARN.
    arn: String,
});

pub(crate) fn cloudwatch(cx: &Cx<'_>) -> Result<aws_sdk_cloudwatch::Client, ProviderError> {
    cx.client(aws_sdk_cloudwatch::Client::new)
}

pub(crate) fn not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    matches!(
        e.code(),
        Some("ResourceNotFound" | "ResourceNotFoundException")
    )
}

/// Checks an extended statistic other than a percentile, in the forms PutMetricAlarm
/// documents.
fn check_extended(s: &str) -> Result<(), String> {
    let number =
        |x: &str| x.is_empty() || x.parse::<f64>().is_ok_and(|n| (0.0..=100.0).contains(&n));
    let range = |x: &str| {
        x.strip_prefix('(')
            .and_then(|x| x.strip_suffix(')'))
            .and_then(|x| x.split_once(':'))
            .is_some_and(|(a, b)| {
                number(a.trim_end_matches('%')) && number(b.trim_end_matches('%'))
            })
    };
    if s == "IQM" {
        return Ok(());
    }
    if s.strip_prefix('p')
        .is_some_and(|n| n.parse::<f64>().is_ok())
    {
        return Err(format!(
            "{s:?}: declare a percentile as Statistic::Percentile"
        ));
    }
    if let Some(rest) = s.strip_prefix("PR") {
        if rest.starts_with('(') && rest.ends_with(')') && rest.contains(':') {
            return Ok(());
        }
    }
    for prefix in ["tm", "wm", "tc", "ts", "TM", "WM", "TC", "TS"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            if (!rest.is_empty() && !rest.starts_with('(') && number(rest)) || range(rest) {
                return Ok(());
            }
        }
    }
    Err(format!(
        "{s:?} is not an extended statistic (tmNN, tm(X%:Y%), wmNN, tcNN, tsNN, IQM, PR(n:m))"
    ))
}

fn values(v: &[Input<String>]) -> Result<Vec<String>, ProviderError> {
    v.iter()
        .map(|x| x.value().cloned().map_err(Into::into))
        .collect()
}

async fn describe(
    cx: &Cx<'_>,
    name: &str,
) -> Result<Option<aws_sdk_cloudwatch::types::MetricAlarm>, ProviderError> {
    let out = cloudwatch(cx)?
        .describe_alarms()
        .alarm_names(name)
        .alarm_types(AlarmType::MetricAlarm)
        .send()
        .await
        .map_err(api_error("cloudwatch:DescribeAlarms"))?;
    Ok(out
        .metric_alarms()
        .iter()
        .find(|a| a.alarm_name() == Some(name))
        .cloned())
}

/// Whether any alarm, metric or composite, is named `name` (`PutMetricAlarm` would
/// overwrite a metric alarm of that name).
async fn exists(cx: &Cx<'_>, name: &str) -> Result<bool, ProviderError> {
    let out = cloudwatch(cx)?
        .describe_alarms()
        .alarm_names(name)
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .map_err(api_error("cloudwatch:DescribeAlarms"))?;
    Ok(out
        .metric_alarms()
        .iter()
        .any(|a| a.alarm_name() == Some(name))
        || out
            .composite_alarms()
            .iter()
            .any(|a| a.alarm_name() == Some(name)))
}

async fn tags_of(cx: &Cx<'_>, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = cloudwatch(cx)?
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(api_error("cloudwatch:ListTagsForResource"))?;
    Ok(out
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect())
}

async fn put(
    cx: &Cx<'_>,
    a: &MetricAlarmArgs,
    tags: Option<BTreeMap<String, String>>,
) -> Result<(), ProviderError> {
    let mut dims = Vec::new();
    for (k, v) in &a.dimensions {
        dims.push(Dimension::builder().name(k).value(v.value()?).build());
    }
    cloudwatch(cx)?
        .put_metric_alarm()
        .alarm_name(&a.name)
        .set_alarm_description(a.description.clone())
        .namespace(&a.namespace)
        .metric_name(&a.metric_name)
        .set_statistic(a.statistic.plain())
        .set_extended_statistic(a.statistic.extended())
        .period(a.period)
        .evaluation_periods(a.evaluation_periods)
        .set_datapoints_to_alarm(a.datapoints_to_alarm)
        .threshold(a.threshold)
        .comparison_operator(a.comparison.aws())
        .set_dimensions(Some(dims))
        .actions_enabled(true)
        .set_alarm_actions(Some(values(&a.alarm_actions)?))
        .set_ok_actions(Some(values(&a.ok_actions)?))
        .treat_missing_data(a.treat_missing_data.aws())
        .set_tags(tags.map(|t| {
            t.into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect()
        }))
        .send()
        .await
        .map_err(api_error("cloudwatch:PutMetricAlarm"))?;
    Ok(())
}

/// The declared list when it holds the live values (in any order), else the live list.
fn keep_declared(declared: Option<&Vec<Input<String>>>, live: &[String]) -> Vec<Input<String>> {
    match declared {
        Some(d) if values(d).is_ok_and(|d| same_set(&d, live)) => d.clone(),
        _ => live.iter().cloned().map(Input::Value).collect(),
    }
}

#[async_trait]
impl Resource for MetricAlarm {
    const TYPE: &'static str = "aws:cloudwatch/alarm";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = MetricAlarmArgs;
    type Outputs = MetricAlarmOutputs;

    /// The key of an encrypted SNS topic that an alarm notifies must let CloudWatch use
    /// it: otherwise the alarm notifies nobody.
    fn check_stack(stack: &StackView<'_>) -> Vec<(Urn, FieldError)> {
        let mut uses = Vec::new();
        for alarm in stack.of_type(Self::TYPE) {
            let mut topics = alarm.references("alarm_actions");
            topics.extend(alarm.references("ok_actions"));
            for topic in topics {
                let Some(topic) = stack
                    .get(topic)
                    .filter(|t| t.type_name() == "aws:sns/topic")
                else {
                    continue;
                };
                for key in keys_at(stack, &topic, "kms_master_key_id") {
                    uses.push(KeyUse {
                        key,
                        service: KeyService::CloudWatchAlarms,
                        why: format!(
                            "alarm {} notifies SNS topic {}, which is encrypted with this key",
                            alarm.urn().name(),
                            topic.urn().name()
                        ),
                    });
                }
            }
        }
        check_key_uses(stack, uses)
    }

    fn validate(a: &MetricAlarmArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if a.name.is_empty() || a.name.len() > 255 || a.name.chars().any(|c| c.is_ascii_control()) {
            errs.push(FieldError::new(
                "name",
                format!("{:?}: 1 to 255 characters, no control characters", a.name),
            ));
        }
        if a.description.as_ref().is_some_and(|d| d.len() > 1024) {
            errs.push(FieldError::new(
                "description",
                "a description has at most 1024 characters",
            ));
        }
        for (field, v) in [("namespace", &a.namespace), ("metric_name", &a.metric_name)] {
            if v.is_empty() || v.len() > 255 {
                errs.push(FieldError::new(
                    field,
                    format!("{v:?}: 1 to 255 characters"),
                ));
            }
        }
        let statistic_problem = match &a.statistic {
            Statistic::Percentile(p)
                if !p.is_finite()
                    || !(0.0..=100.0).contains(p)
                    || ((p * 100.0).round() - p * 100.0).abs() > 1e-9 =>
            {
                Some(format!(
                    "percentile {p}: 0 to 100, with at most two decimals"
                ))
            }
            Statistic::Extended(s) => check_extended(s).err(),
            _ => None,
        };
        if let Some(m) = statistic_problem {
            errs.push(FieldError::new("statistic", m));
        }
        let p = a.period;
        if !(p == 10 || p == 20 || p == 30 || (p > 0 && p % 60 == 0)) {
            errs.push(FieldError::new(
                "period",
                format!("{p} seconds: 10, 20, 30 or a multiple of 60"),
            ));
        }
        if a.evaluation_periods < 1 {
            errs.push(FieldError::new(
                "evaluation_periods",
                format!("{}: at least 1", a.evaluation_periods),
            ));
        } else if p > 0 {
            let total = i64::from(p) * i64::from(a.evaluation_periods);
            let limit = if p < 3600 { 86_400 } else { 604_800 };
            if total > limit {
                errs.push(FieldError::new(
                    "evaluation_periods",
                    format!(
                        "{} periods of {p} s evaluate {total} s: at most {limit} s ({})",
                        a.evaluation_periods,
                        if p < 3600 {
                            "one day, for periods under an hour"
                        } else {
                            "seven days"
                        }
                    ),
                ));
            }
        }
        if let Some(m) = a.datapoints_to_alarm {
            if m < 1 || m > a.evaluation_periods {
                errs.push(FieldError::new(
                    "datapoints_to_alarm",
                    format!("{m}: 1 to evaluation_periods ({})", a.evaluation_periods),
                ));
            }
        }
        if !a.threshold.is_finite() {
            errs.push(FieldError::new(
                "threshold",
                format!("{}: a threshold is a finite number", a.threshold),
            ));
        }
        if a.dimensions.len() > 30 {
            errs.push(FieldError::new(
                "dimensions",
                format!("{} dimensions: a metric has at most 30", a.dimensions.len()),
            ));
        }
        for (k, v) in &a.dimensions {
            if k.is_empty() || k.len() > 255 {
                errs.push(FieldError::new(
                    format!("dimensions.{k}"),
                    "a dimension name has 1 to 255 characters",
                ));
            }
            if v.known().is_some_and(|v| v.is_empty() || v.len() > 1024) {
                errs.push(FieldError::new(
                    format!("dimensions.{k}"),
                    "a dimension value has 1 to 1024 characters",
                ));
            }
        }
        for (field, actions) in [
            ("alarm_actions", &a.alarm_actions),
            ("ok_actions", &a.ok_actions),
        ] {
            if actions.len() > 5 {
                errs.push(FieldError::new(
                    field,
                    format!("{} actions: at most 5", actions.len()),
                ));
            }
            for (i, act) in actions.iter().enumerate() {
                if let Some(v) = act.known() {
                    if !v.starts_with("arn:") {
                        errs.push(FieldError::new(
                            format!("{field}.{i}"),
                            format!(
                                "{v:?}: an action is an ARN (an SNS topic, a scaling policy, …)"
                            ),
                        ));
                    }
                }
            }
        }
        errs.extend(check_tags(&a.tags));
        errs
    }

    async fn create(
        cx: &Cx<'_>,
        a: &MetricAlarmArgs,
    ) -> Result<Created<MetricAlarmOutputs>, ProviderError> {
        // PutMetricAlarm is an upsert: it would overwrite an alarm of the same name.
        // Refuse a taken name instead, before any change.
        if exists(cx, &a.name).await? {
            return Err(taken(
                "cloudwatch:PutMetricAlarm",
                format!("an alarm named {} already exists", a.name),
            ));
        }
        put(cx, a, Some(cx.create_tags(&a.tags))).await?;
        let live = describe(cx, &a.name)
            .await?
            .ok_or_else(|| ProviderError::NotFound(format!("alarm {}", a.name)))?;
        Ok(Created {
            id: a.name.clone(),
            outputs: MetricAlarmOutputs {
                name: a.name.clone(),
                arn: live.alarm_arn().unwrap_or_default().to_owned(),
            },
        })
    }

    /// Found again by its name, if it carries this create's `strata:token` tag (which
    /// `PutMetricAlarm` sets with the alarm, in one call).
    async fn recover(
        cx: &Cx<'_>,
        a: &MetricAlarmArgs,
    ) -> Result<Recovery<MetricAlarmOutputs>, ProviderError> {
        let found = match describe(cx, &a.name).await? {
            None => None,
            Some(live) => {
                let arn = live.alarm_arn().unwrap_or_default().to_owned();
                let tags = tags_of(cx, &arn).await?;
                Some((
                    Created {
                        id: a.name.clone(),
                        outputs: MetricAlarmOutputs {
                            name: a.name.clone(),
                            arn,
                        },
                    },
                    tags,
                ))
            }
        };
        Ok(recovery_by_token(cx, "alarm", found))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&MetricAlarmArgs>,
    ) -> Result<Option<Observed<MetricAlarmArgs, MetricAlarmOutputs>>, ProviderError> {
        let Some(live) = describe(cx, id).await? else {
            return Ok(None);
        };
        let arn = live.alarm_arn().unwrap_or_default().to_owned();
        let tags = tags_of(cx, &arn).await?;
        let live_dims: BTreeMap<String, String> = live
            .dimensions()
            .iter()
            .filter_map(|d| Some((d.name()?.to_owned(), d.value()?.to_owned())))
            .collect();
        let dimensions = match args {
            Some(a)
                if a.dimensions.len() == live_dims.len()
                    && a.dimensions
                        .iter()
                        .all(|(k, v)| v.known() == live_dims.get(k)) =>
            {
                a.dimensions.clone()
            }
            _ => live_dims
                .into_iter()
                .map(|(k, v)| (k, Input::Value(v)))
                .collect(),
        };
        let statistic = {
            let s = Statistic::from_live(live.statistic(), live.extended_statistic());
            match (args.map(|a| &a.statistic), &s) {
                // `p99` and `p99.0` are the same percentile.
                (Some(d @ Statistic::Percentile(x)), Statistic::Percentile(y)) if x == y => {
                    d.clone()
                }
                _ => s,
            }
        };
        Ok(Some(Observed {
            args: MetricAlarmArgs {
                name: id.to_owned(),
                description: live
                    .alarm_description()
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned),
                namespace: live.namespace().unwrap_or_default().to_owned(),
                metric_name: live.metric_name().unwrap_or_default().to_owned(),
                statistic,
                period: live.period().unwrap_or_default(),
                evaluation_periods: live.evaluation_periods().unwrap_or_default(),
                datapoints_to_alarm: live.datapoints_to_alarm(),
                threshold: live.threshold().unwrap_or_default(),
                comparison: Comparison::from_live(live.comparison_operator()),
                dimensions,
                alarm_actions: keep_declared(args.map(|a| &a.alarm_actions), live.alarm_actions()),
                ok_actions: keep_declared(args.map(|a| &a.ok_actions), live.ok_actions()),
                treat_missing_data: TreatMissingData::from_live(live.treat_missing_data()),
                tags: user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            },
            outputs: MetricAlarmOutputs {
                name: id.to_owned(),
                arn,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        _id: &str,
        old: &MetricAlarmArgs,
        new: &MetricAlarmArgs,
        outputs: &MetricAlarmOutputs,
    ) -> Result<MetricAlarmOutputs, ProviderError> {
        let strip = |a: &MetricAlarmArgs| {
            let mut a = a.clone();
            a.tags.clear();
            serde_json::to_value(a).ok()
        };
        if strip(old) != strip(new) {
            put(cx, new, None).await?;
        }
        let client = cloudwatch(cx)?;
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_resource()
                .resource_arn(&outputs.arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("cloudwatch:UntagResource"))?;
        }
        if !set.is_empty() {
            client
                .tag_resource()
                .resource_arn(&outputs.arn)
                .set_tags(Some(
                    set.into_iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build())
                        .collect(),
                ))
                .send()
                .await
                .map_err(api_error("cloudwatch:TagResource"))?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &MetricAlarmArgs,
        _: &MetricAlarmOutputs,
    ) -> Result<(), ProviderError> {
        match cloudwatch(cx)?.delete_alarms().alarm_names(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("cloudwatch:DeleteAlarms")(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_statistics() {
        for ok in [
            "IQM",
            "tm90",
            "wm99.5",
            "tc(10%:90%)",
            "ts(:95%)",
            "PR(100:2000)",
        ] {
            assert!(check_extended(ok).is_ok(), "{ok}");
        }
        for bad in ["p99", "tm", "xx90", "tm101", ""] {
            assert!(check_extended(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Statistic::Percentile(99.0).extended().as_deref(),
            Some("p99")
        );
        assert_eq!(
            Statistic::Percentile(99.9).extended().as_deref(),
            Some("p99.9")
        );
        assert_eq!(
            Statistic::from_live(None, Some("p99")),
            Statistic::Percentile(99.0)
        );
    }
}
