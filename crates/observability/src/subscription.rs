//! `Subscription`: an SNS topic subscription.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sns::error::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::{api_error, wait_for};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    Secret,
};

use crate::common::{is_arn_of, json_eq, taken};
use crate::topic::{not_found, sns};

const TIMEOUT: Duration = Duration::from_secs(2 * 60);

/// A subscription of an endpoint to an SNS topic. The topic, protocol and endpoint replace
/// it; the filter policy (and its scope) and raw delivery change in place
/// (`SetSubscriptionAttributes`).
///
/// **Pending confirmation.** Email, email-json, HTTP and HTTPS endpoints must confirm a
/// subscription (a link in the email, a `SubscriptionConfirmation` POST) before it
/// delivers. As Terraform does, strata subscribes with `ReturnSubscriptionArn=true`, which
/// returns the subscription's ARN even while it is pending (without it, AWS answers
/// `"pending confirmation"`), and that ARN is the id; the `pending_confirmation` output
/// says whether it is confirmed yet. Creates of those protocols do not wait for the
/// confirmation (a person clicks it); creates of SQS, Lambda and SMS subscriptions, which
/// AWS confirms itself, wait until it is confirmed. AWS refuses to unsubscribe a pending
/// subscription: deleting one drops it from state and leaves it to expire on AWS (an
/// unconfirmed subscription is removed once its confirmation link expires).
///
/// **A secret endpoint.** An endpoint can carry a credential (a PagerDuty events URL holds
/// its integration key): [`Subscription::secret`] takes it as a [`Secret<String>`] (or a
/// secret output), which is sealed in state and shown as `[secret]` in plans, events and
/// logs; only the calls to SNS get the plaintext. [`Subscription::new`] takes a plain one.
/// Making an endpoint secret (or plain again) without changing it is an in-place change
/// that touches nothing on AWS. The engine does not check an identity that holds a
/// secret (plan errors show identities), so the plan does not refuse two declarations of
/// one secret endpoint: declare each once.
///
/// ```
/// use strata_core::{Secret, Stack};
/// use strata_observability::{Protocol, Subscription, Topic, TopicHandle};
/// let mut s = Stack::new("dev");
/// let alerts = s.add("alerts", Topic::new("shop-critical"));
/// s.add("devops-email", Subscription::new(alerts.arn(), Protocol::Email, "devops@example.com"));
/// s.add(
///     "pagerduty",
///     Subscription::secret(
///         alerts.arn(),
///         Protocol::Https,
///         Secret::new("https://events.pagerduty.com/integration/KEY/enqueue".to_owned()),
///     ),
/// );
/// ```
#[derive(Debug)]
pub struct Subscription;

/// How SNS delivers to the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// Email (plain text).
    #[serde(rename = "email")]
    Email,
    /// Email with the JSON notification.
    #[serde(rename = "email-json")]
    EmailJson,
    /// An HTTPS endpoint.
    #[serde(rename = "https")]
    Https,
    /// An HTTP endpoint.
    #[serde(rename = "http")]
    Http,
    /// An SQS queue (its ARN).
    #[serde(rename = "sqs")]
    Sqs,
    /// A Lambda function (its ARN).
    #[serde(rename = "lambda")]
    Lambda,
    /// SMS to a phone number (E.164, `+4915…`).
    #[serde(rename = "sms")]
    Sms,
}

impl Protocol {
    /// The protocol as SNS names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Email => "email",
            Protocol::EmailJson => "email-json",
            Protocol::Https => "https",
            Protocol::Http => "http",
            Protocol::Sqs => "sqs",
            Protocol::Lambda => "lambda",
            Protocol::Sms => "sms",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Protocol::Email,
            Protocol::EmailJson,
            Protocol::Https,
            Protocol::Http,
            Protocol::Sqs,
            Protocol::Lambda,
            Protocol::Sms,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// Whether AWS confirms the subscription itself (no person or endpoint has to).
    fn auto_confirms(self) -> bool {
        matches!(self, Protocol::Sqs | Protocol::Lambda | Protocol::Sms)
    }
}

/// What a filter policy is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FilterPolicyScope {
    /// The message attributes (AWS's default).
    #[default]
    MessageAttributes,
    /// The message body (JSON).
    MessageBody,
}

/// A subscription's endpoint: plain, or a secret (sealed in state, redacted in plans,
/// events and logs). It serializes as the plain string or as the secret marker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SubscriptionEndpoint {
    /// A plain endpoint (an email address, a queue's ARN).
    Plain(String),
    /// A secret endpoint (a URL that carries a key).
    Secret(Secret<String>),
}

impl SubscriptionEndpoint {
    /// The plaintext. Only where it is really needed: the calls to SNS, validation.
    pub fn expose(&self) -> &str {
        match self {
            SubscriptionEndpoint::Plain(s) => s,
            SubscriptionEndpoint::Secret(s) => s.expose(),
        }
    }

    /// Whether it was declared secret. Only in a declaration: a provider receives
    /// secrets bare (the engine keeps them secret in state), so in `create`, `read`,
    /// `update` and `delete` every value reads as plain.
    pub fn is_secret(&self) -> bool {
        matches!(self, SubscriptionEndpoint::Secret(_))
    }
}

impl FilterPolicyScope {
    fn as_str(self) -> &'static str {
        match self {
            FilterPolicyScope::MessageAttributes => "MessageAttributes",
            FilterPolicyScope::MessageBody => "MessageBody",
        }
    }
}

/// The args of a [`Subscription`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionArgs {
    /// The topic's ARN.
    pub topic_arn: Input<String>,
    /// The protocol.
    pub protocol: Protocol,
    /// The endpoint: an email address, a URL, a queue's or function's ARN, a phone number;
    /// plain or secret.
    pub endpoint: Input<SubscriptionEndpoint>,
    /// Which messages the endpoint receives (a JSON object); `None`: all of them.
    #[serde(default)]
    pub filter_policy: Option<Value>,
    /// What the filter policy is matched against; `None`: the message attributes.
    #[serde(default)]
    pub filter_policy_scope: Option<FilterPolicyScope>,
    /// Delivers the raw message instead of the JSON envelope (SQS, HTTP and HTTPS only).
    #[serde(default)]
    pub raw_message_delivery: bool,
}

impl Subscription {
    /// Subscribes `endpoint` to `topic_arn` by `protocol`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        topic_arn: impl Into<Input<String>>,
        protocol: Protocol,
        endpoint: impl Into<Input<String>>,
    ) -> SubscriptionArgs {
        let endpoint = match endpoint.into() {
            Input::Value(e) => Input::Value(SubscriptionEndpoint::Plain(e)),
            Input::Output(o) => Input::Output(o.map(SubscriptionEndpoint::Plain)),
        };
        Self::with_endpoint(topic_arn.into(), protocol, endpoint)
    }

    /// Subscribes the secret `endpoint` (`Secret::new(url)` from configuration, or a
    /// secret output) to `topic_arn` by `protocol`: a URL that carries a key.
    pub fn secret(
        topic_arn: impl Into<Input<String>>,
        protocol: Protocol,
        endpoint: impl Into<Input<Secret<String>>>,
    ) -> SubscriptionArgs {
        let endpoint = match endpoint.into() {
            Input::Value(e) => Input::Value(SubscriptionEndpoint::Secret(e)),
            Input::Output(o) => Input::Output(o.map(SubscriptionEndpoint::Secret)),
        };
        Self::with_endpoint(topic_arn.into(), protocol, endpoint)
    }

    fn with_endpoint(
        topic_arn: Input<String>,
        protocol: Protocol,
        endpoint: Input<SubscriptionEndpoint>,
    ) -> SubscriptionArgs {
        SubscriptionArgs {
            topic_arn,
            protocol,
            endpoint,
            filter_policy: None,
            filter_policy_scope: None,
            raw_message_delivery: false,
        }
    }
}

impl SubscriptionArgs {
    /// Delivers only the messages `policy` matches.
    pub fn filter_policy(mut self, policy: Value) -> Self {
        self.filter_policy = Some(policy);
        self
    }
    /// Matches the filter policy against `scope`.
    pub fn filter_policy_scope(mut self, scope: FilterPolicyScope) -> Self {
        self.filter_policy_scope = Some(scope);
        self
    }
    /// Sets raw message delivery.
    pub fn raw_message_delivery(mut self, on: bool) -> Self {
        self.raw_message_delivery = on;
        self
    }
}

impl ResourceArgs for SubscriptionArgs {
    type Resource = Subscription;
}

/// The outputs of a [`Subscription`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionOutputs {
    /// The subscription's ARN (its id), also while it is pending confirmation.
    pub arn: String,
    /// Whether the endpoint has yet to confirm it (email, HTTP/S), as last seen.
    pub pending_confirmation: bool,
}

strata_core::outputs!(Subscription => SubscriptionHandle {
    /// The ARN.
    arn: String,
    /// Whether it is pending confirmation.
    pending_confirmation: bool,
});

/// Whether `s` looks like an email address: `local@domain.tld`, no spaces.
fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && domain
            .split_once('.')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.ends_with('.'))
}

async fn attributes(
    cx: &Cx<'_>,
    arn: &str,
) -> Result<Option<HashMap<String, String>>, ProviderError> {
    match sns(cx)?
        .get_subscription_attributes()
        .subscription_arn(arn)
        .send()
        .await
    {
        Ok(o) => Ok(Some(o.attributes().cloned().unwrap_or_default())),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("sns:GetSubscriptionAttributes")(e)),
    }
}

fn is_true(attrs: &HashMap<String, String>, k: &str) -> bool {
    attrs.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The live filter policy: `None` when absent or `{}` (what removing one leaves).
fn live_filter(attrs: &HashMap<String, String>) -> Result<Option<Value>, ProviderError> {
    match attrs.get("FilterPolicy").filter(|p| !p.trim().is_empty()) {
        None => Ok(None),
        Some(p) => {
            let v: Value = serde_json::from_str(p).map_err(|source| ProviderError::Decode {
                what: "a subscription's filter policy".into(),
                source,
            })?;
            Ok(Some(v).filter(|v| v.as_object().is_none_or(|o| !o.is_empty())))
        }
    }
}

/// The topic's subscription of `endpoint` by `protocol`, as `ListSubscriptionsByTopic`
/// lists it (SNS keeps one per topic, protocol and endpoint): `None` if there is none (or
/// no such topic), else its ARN, `None` while it is pending confirmation (SNS lists a
/// pending subscription without its ARN).
async fn listed(
    cx: &Cx<'_>,
    topic: &str,
    protocol: Protocol,
    endpoint: &str,
) -> Result<Option<Option<String>>, ProviderError> {
    let client = sns(cx)?;
    let mut token = None;
    loop {
        let out = match client
            .list_subscriptions_by_topic()
            .topic_arn(topic)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(api_error("sns:ListSubscriptionsByTopic")(e)),
        };
        if let Some(s) = out
            .subscriptions()
            .iter()
            .find(|s| s.protocol() == Some(protocol.as_str()) && s.endpoint() == Some(endpoint))
        {
            return Ok(Some(
                s.subscription_arn()
                    .filter(|arn| arn.starts_with("arn:"))
                    .map(str::to_owned),
            ));
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(None),
        }
    }
}

/// Whether a live subscription's settings (filter policy, its scope, raw delivery) are the
/// ones `a` asks for.
fn same_settings(
    a: &SubscriptionArgs,
    attrs: &HashMap<String, String>,
) -> Result<bool, ProviderError> {
    let filter = match (live_filter(attrs)?, &a.filter_policy) {
        (Some(live), Some(declared)) => json_eq(&live, declared),
        (None, None) => true,
        _ => false,
    };
    // The scope means something only with a policy; MessageAttributes is the default.
    let scope = a.filter_policy.is_none() || {
        let live = match attrs.get("FilterPolicyScope").map(String::as_str) {
            Some("MessageBody") => FilterPolicyScope::MessageBody,
            _ => FilterPolicyScope::MessageAttributes,
        };
        live == a.filter_policy_scope.unwrap_or_default()
    };
    Ok(filter && scope && is_true(attrs, "RawMessageDelivery") == a.raw_message_delivery)
}

async fn set_attribute(
    cx: &Cx<'_>,
    arn: &str,
    name: &str,
    value: String,
) -> Result<(), ProviderError> {
    sns(cx)?
        .set_subscription_attributes()
        .subscription_arn(arn)
        .attribute_name(name)
        .attribute_value(value)
        .send()
        .await
        .map_err(api_error("sns:SetSubscriptionAttributes"))?;
    Ok(())
}

#[async_trait]
impl Resource for Subscription {
    const TYPE: &'static str = "aws:sns/subscription";
    const REPLACE_ON: &'static [&'static str] = &["topic_arn", "protocol", "endpoint"];
    const IDENTITY: &'static [&'static str] = &["topic_arn", "protocol", "endpoint"];
    type Args = SubscriptionArgs;
    type Outputs = SubscriptionOutputs;

    fn validate(a: &SubscriptionArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(t) = a.topic_arn.known() {
            if !is_arn_of(t, "sns") {
                errs.push(FieldError::new(
                    "topic_arn",
                    format!("{t:?} is not an SNS topic ARN"),
                ));
            }
        }
        // (A secret endpoint is checked too, but not quoted.)
        if let Some(endpoint) = a.endpoint.known() {
            let quoted = if endpoint.is_secret() {
                "[secret]".to_owned()
            } else {
                format!("{:?}", endpoint.expose())
            };
            let (e, q) = (endpoint.expose(), quoted.as_str());
            let problem = if e.trim().is_empty() {
                Some("the endpoint is empty".to_owned())
            } else {
                match a.protocol {
                    Protocol::Email | Protocol::EmailJson if !looks_like_email(e) => {
                        Some(format!("{q} is not an email address"))
                    }
                    Protocol::Https if !e.starts_with("https://") => Some(format!(
                        "{q}: an https endpoint is a URL starting with https://"
                    )),
                    Protocol::Http if !e.starts_with("http://") => Some(format!(
                        "{q}: an http endpoint is a URL starting with http://"
                    )),
                    Protocol::Sqs if !is_arn_of(e, "sqs") => {
                        Some(format!("{q}: an sqs endpoint is a queue's ARN"))
                    }
                    Protocol::Lambda if !is_arn_of(e, "lambda") => {
                        Some(format!("{q}: a lambda endpoint is a function's ARN"))
                    }
                    Protocol::Sms => {
                        let digits = e.strip_prefix('+').unwrap_or(e);
                        (digits.is_empty()
                            || digits.len() > 15
                            || !digits.chars().all(|c| c.is_ascii_digit()))
                        .then(|| format!("{q}: an sms endpoint is an E.164 phone number (+ and up to 15 digits)"))
                    }
                    _ => None,
                }
            };
            if let Some(m) = problem {
                errs.push(FieldError::new("endpoint", m));
            }
        }
        if a.raw_message_delivery
            && !matches!(a.protocol, Protocol::Sqs | Protocol::Http | Protocol::Https)
        {
            errs.push(FieldError::new(
                "raw_message_delivery",
                format!(
                    "raw delivery is for sqs, http and https subscriptions, not {}",
                    a.protocol.as_str()
                ),
            ));
        }
        match &a.filter_policy {
            Some(Value::Object(o)) if o.is_empty() => errs.push(FieldError::new(
                "filter_policy",
                "an empty filter policy: declare none to receive every message",
            )),
            Some(Value::Object(_)) => {
                if a.filter_policy.as_ref().map(|p| p.to_string().len()) > Some(256 * 1024) {
                    errs.push(FieldError::new(
                        "filter_policy",
                        "a filter policy has at most 256 KB",
                    ));
                }
            }
            Some(_) => errs.push(FieldError::new(
                "filter_policy",
                "a filter policy is a JSON object",
            )),
            None => {
                if a.filter_policy_scope.is_some() {
                    errs.push(FieldError::new(
                        "filter_policy_scope",
                        "a scope without a filter policy",
                    ));
                }
            }
        }
        errs
    }

    /// `Subscribe` is idempotent: for an endpoint already subscribed to the topic by the
    /// protocol it answers the existing subscription, without an error. So an existing
    /// one (confirmed or pending) is refused before the call, and nothing of it changes.
    async fn create(
        cx: &Cx<'_>,
        a: &SubscriptionArgs,
    ) -> Result<Created<SubscriptionOutputs>, ProviderError> {
        let (topic, endpoint) = (a.topic_arn.value()?, a.endpoint.value()?.expose());
        if listed(cx, topic, a.protocol, endpoint).await?.is_some() {
            // (Not quoted: the endpoint may be a secret, which a provider sees bare.)
            return Err(taken(
                "sns:Subscribe",
                format!(
                    "the endpoint is already subscribed to {topic} by {}",
                    a.protocol.as_str()
                ),
            ));
        }
        let mut attrs = HashMap::new();
        if let Some(scope) = a.filter_policy_scope {
            attrs.insert("FilterPolicyScope".to_owned(), scope.as_str().to_owned());
        }
        if let Some(p) = &a.filter_policy {
            attrs.insert("FilterPolicy".to_owned(), p.to_string());
        }
        if a.raw_message_delivery {
            attrs.insert("RawMessageDelivery".to_owned(), "true".to_owned());
        }
        let out = sns(cx)?
            .subscribe()
            .topic_arn(topic)
            .protocol(a.protocol.as_str())
            .endpoint(endpoint)
            .set_attributes((!attrs.is_empty()).then_some(attrs))
            .return_subscription_arn(true)
            .send()
            .await
            .map_err(|e| {
                // AWS refuses a subscription that exists with other attributes.
                if e.code() == Some("InvalidParameter")
                    && e.message().is_some_and(|m| m.contains("already exists"))
                {
                    ProviderError::AlreadyExists {
                        operation: "sns:Subscribe".to_owned(),
                        message: e.message().unwrap_or_default().to_owned(),
                    }
                } else {
                    api_error("sns:Subscribe")(e)
                }
            })?;
        let arn = out
            .subscription_arn()
            .filter(|a| a.starts_with("arn:"))
            .ok_or_else(|| {
                ProviderError::Other(format!(
                    "sns:Subscribe returned no subscription ARN ({:?})",
                    out.subscription_arn()
                ))
            })?
            .to_owned();
        let pending = if a.protocol.auto_confirms() {
            match wait_for(
                format!("subscription {arn} to be confirmed"),
                TIMEOUT,
                Duration::from_secs(2),
                || async {
                    Ok(attributes(cx, &arn)
                        .await?
                        .filter(|at| !is_true(at, "PendingConfirmation"))
                        .map(|_| false))
                },
            )
            .await
            {
                Ok(p) => p,
                // Not confirmed in time (a queue in another account whose policy does not
                // allow it yet): the subscription exists and is this create's; it is
                // recorded as pending, as an email one is, rather than lost.
                Err(ProviderError::Timeout { .. }) => true,
                Err(e) => return Err(e),
            }
        } else {
            attributes(cx, &arn)
                .await?
                .is_none_or(|at| is_true(&at, "PendingConfirmation"))
        };
        Ok(Created {
            id: arn.clone(),
            outputs: SubscriptionOutputs {
                arn,
                pending_confirmation: pending,
            },
        })
    }

    /// Subscriptions take no tags, so only the properties can tell: the topic's
    /// subscription of the endpoint by the protocol (SNS keeps one per topic, protocol and
    /// endpoint) with the declared filter policy, scope and raw delivery is the one this
    /// create made, unless this create found it there before it subscribed (then it is
    /// somebody else's, however alike). A pending one is listed without its ARN: absent
    /// (no proof, and no id to adopt).
    async fn recover(
        cx: &Cx<'_>,
        a: &SubscriptionArgs,
    ) -> Result<Recovery<SubscriptionOutputs>, ProviderError> {
        let (topic, endpoint) = (a.topic_arn.value()?, a.endpoint.value()?.expose());
        let Some(Some(arn)) = listed(cx, topic, a.protocol, endpoint).await? else {
            return Ok(Recovery::Absent);
        };
        let Some(attrs) = attributes(cx, &arn).await? else {
            return Ok(Recovery::Absent);
        };
        if !same_settings(a, &attrs)? {
            return Ok(Recovery::Absent);
        }
        Ok(Recovery::Resembles(Created {
            id: arn.clone(),
            outputs: SubscriptionOutputs {
                arn,
                pending_confirmation: is_true(&attrs, "PendingConfirmation"),
            },
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&SubscriptionArgs>,
    ) -> Result<Option<Observed<SubscriptionArgs, SubscriptionOutputs>>, ProviderError> {
        let Some(attrs) = attributes(cx, id).await? else {
            return Ok(None);
        };
        let get = |k: &str| attrs.get(k).cloned().unwrap_or_default();
        let keep = |declared: Option<&Input<String>>, live: String| match declared {
            Some(d) if d.known() == Some(&live) => d.clone(),
            _ => Input::Value(live),
        };
        let filter_policy = match (
            live_filter(&attrs)?,
            args.and_then(|a| a.filter_policy.as_ref()),
        ) {
            (Some(live), Some(d)) if json_eq(&live, d) => Some(d.clone()),
            (live, _) => live,
        };
        let filter_policy_scope = match (
            attrs.get("FilterPolicyScope").map(String::as_str),
            &filter_policy,
        ) {
            (_, None) => None,
            (Some("MessageBody"), _) => Some(FilterPolicyScope::MessageBody),
            // MessageAttributes is the default: declared or not, it is the same.
            _ => args.and_then(|a| a.filter_policy_scope),
        };
        let live_endpoint = get("Endpoint");
        let protocol_live = get("Protocol");
        let protocol = Protocol::parse(&protocol_live).ok_or_else(|| {
            ProviderError::Other(format!(
                "subscription {id} has protocol {protocol_live:?}, which strata does not model"
            ))
        })?;
        Ok(Some(Observed {
            args: SubscriptionArgs {
                topic_arn: keep(args.map(|a| &a.topic_arn), get("TopicArn")),
                protocol,
                // The declared endpoint while its plaintext is the live one (secret or
                // not: the engine keeps a secret one secret).
                endpoint: match args.map(|a| &a.endpoint) {
                    Some(d)
                        if d.known().map(SubscriptionEndpoint::expose)
                            == Some(live_endpoint.as_str()) =>
                    {
                        d.clone()
                    }
                    _ => Input::Value(SubscriptionEndpoint::Plain(live_endpoint)),
                },
                filter_policy,
                filter_policy_scope,
                raw_message_delivery: is_true(&attrs, "RawMessageDelivery"),
            },
            outputs: SubscriptionOutputs {
                arn: id.to_owned(),
                pending_confirmation: is_true(&attrs, "PendingConfirmation"),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &SubscriptionArgs,
        new: &SubscriptionArgs,
        outputs: &SubscriptionOutputs,
    ) -> Result<SubscriptionOutputs, ProviderError> {
        let scope_changed = old.filter_policy_scope.unwrap_or_default()
            != new.filter_policy_scope.unwrap_or_default();
        let new_scope = new.filter_policy_scope.unwrap_or_default();
        // As Terraform orders them: MessageBody (which accepts every policy) before the
        // policy, MessageAttributes (which refuses nested policies) after it.
        if scope_changed && new_scope == FilterPolicyScope::MessageBody {
            set_attribute(cx, id, "FilterPolicyScope", new_scope.as_str().to_owned()).await?;
        }
        let same_policy = match (&old.filter_policy, &new.filter_policy) {
            (Some(a), Some(b)) => json_eq(a, b),
            (a, b) => a == b,
        };
        if !same_policy {
            // `{}` removes a filter policy.
            let p = new
                .filter_policy
                .as_ref()
                .map_or_else(|| "{}".to_owned(), Value::to_string);
            set_attribute(cx, id, "FilterPolicy", p).await?;
        }
        if scope_changed
            && new_scope == FilterPolicyScope::MessageAttributes
            && new.filter_policy.is_some()
        {
            set_attribute(cx, id, "FilterPolicyScope", new_scope.as_str().to_owned()).await?;
        }
        if old.raw_message_delivery != new.raw_message_delivery {
            set_attribute(
                cx,
                id,
                "RawMessageDelivery",
                new.raw_message_delivery.to_string(),
            )
            .await?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &SubscriptionArgs,
        _: &SubscriptionOutputs,
    ) -> Result<(), ProviderError> {
        match sns(cx)?.unsubscribe().subscription_arn(id).send().await {
            Ok(_) => {}
            Err(e) if not_found(&e) => return Ok(()),
            Err(e)
                if e.code() == Some("InvalidParameter")
                    && e.message()
                        .is_some_and(|m| m.contains("pending confirmation")) =>
            {
                tracing::warn!(
                    subscription = id,
                    "a subscription pending confirmation cannot be unsubscribed: AWS removes it when its confirmation expires"
                );
                return Ok(());
            }
            Err(e) => return Err(api_error("sns:Unsubscribe")(e)),
        }
        wait_for(
            format!("subscription {id} to be deleted"),
            TIMEOUT,
            Duration::from_secs(2),
            || async { Ok(attributes(cx, id).await?.is_none().then_some(())) },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses() {
        for ok in ["devops@example.com", "a.b+c@shop.example.co.uk"] {
            assert!(looks_like_email(ok), "{ok}");
        }
        for bad in [
            "devops",
            "@example.com",
            "a@b",
            "a@b.",
            "a b@example.com",
            "a@@b.com",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
