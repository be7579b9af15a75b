//! `Listener`: a port an Application Load Balancer listens on, and what it does with
//! requests by default.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum,
};
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, check_tags};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::elb_common::{
    elb_all_tags, elb_create_tags, elb_not_found, elb_owned, elb_update_tags, elbv2, keep_one,
    taken, user_only,
};

/// The TLS policy of HTTPS listeners unless one is given: TLS 1.3 and 1.2 only.
pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// The predefined policies that still accept TLS 1.0 or 1.1, refused by
/// [`Listener`]'s validation (TLS 1.2+ only). `ELBSecurityPolicy-TLS13-1-0-*` and
/// `ELBSecurityPolicy-TLS13-1-1-*` are refused by prefix.
pub const LEGACY_SSL_POLICIES: &[&str] = &[
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-2015-05",
    "ELBSecurityPolicy-TLS-1-0-2015-04",
    "ELBSecurityPolicy-TLS-1-1-2017-01",
    "ELBSecurityPolicy-FS-2018-06",
    "ELBSecurityPolicy-FS-1-1-2019-08",
];

/// A listener of an Application Load Balancer.
///
/// The load balancer replaces it; the port, protocol, certificate, TLS policy and default
/// action change in place (`ModifyListener`), and so do tags. HTTPS listeners take a
/// certificate and a TLS 1.2+ policy ([`DEFAULT_SSL_POLICY`] unless set; the policies in
/// [`LEGACY_SSL_POLICIES`] are refused). A port taken by a listener this resource did not
/// make (one without this create's `strata:token` tag) fails the create and changes
/// nothing.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::{Certificate, LoadBalancer, LoadBalancerHandle, Listener, TargetGroup,
///     TargetGroupHandle, CertificateHandle};
/// let mut s = Stack::new("dev");
/// let alb = s.add("alb", LoadBalancer::new("shop-alb", ["subnet-a", "subnet-b"]).security_group("sg-1"));
/// let tg = s.add("app", TargetGroup::http("shop-app", 8080, "vpc-1"));
/// let cert = s.add("cert", Certificate::dns("shop.example.com"));
/// s.add("https", Listener::https(alb.arn(), 443, cert.arn(), tg.arn()));
/// s.add("http", Listener::http_redirect(alb.arn()));
/// assert!(s.seal().is_ok());
/// ```
#[derive(Debug)]
pub struct Listener;

/// The protocol clients speak to a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ListenerProtocol {
    /// Plain HTTP.
    Http,
    /// HTTPS, terminated at the load balancer.
    Https,
}

/// The content type of a fixed response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixedResponseContentType {
    /// `text/plain`.
    #[default]
    TextPlain,
    /// `text/css`.
    TextCss,
    /// `text/html`.
    TextHtml,
    /// `application/javascript`.
    ApplicationJavascript,
    /// `application/json`.
    ApplicationJson,
}

impl FixedResponseContentType {
    /// The MIME type.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::TextPlain => "text/plain",
            Self::TextCss => "text/css",
            Self::TextHtml => "text/html",
            Self::ApplicationJavascript => "application/javascript",
            Self::ApplicationJson => "application/json",
        }
    }
}

/// What a listener does with a request by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListenerAction {
    /// Forward to a target group.
    Forward {
        /// The target group.
        target_group_arn: Input<String>,
    },
    /// Redirect to the same host, path and query over HTTPS.
    RedirectToHttps {
        /// The HTTPS port.
        port: u16,
        /// 301 (permanent) or 302 (found).
        status_code: u16,
    },
    /// Answer with a fixed response.
    FixedResponse {
        /// The status code (2XX, 4XX or 5XX).
        status_code: u16,
        /// The content type.
        content_type: FixedResponseContentType,
        /// The body (at most 1024 characters).
        #[serde(default)]
        body: Option<String>,
    },
    /// What read reports for a live action strata does not model (authentication, a
    /// redirect elsewhere, a weighted forward); refused in declarations.
    Unsupported {
        /// The live action, described.
        description: String,
    },
}

impl ListenerAction {
    /// Forward to `target_group_arn`.
    pub fn forward(target_group_arn: impl Into<Input<String>>) -> Self {
        ListenerAction::Forward {
            target_group_arn: target_group_arn.into(),
        }
    }
    /// Redirect permanently (301) to HTTPS on port 443.
    pub fn redirect_to_https() -> Self {
        ListenerAction::RedirectToHttps {
            port: 443,
            status_code: 301,
        }
    }
    /// Answer `status_code` with `body`.
    pub fn fixed_response(
        status_code: u16,
        content_type: FixedResponseContentType,
        body: Option<&str>,
    ) -> Self {
        ListenerAction::FixedResponse {
            status_code,
            content_type,
            body: body.map(str::to_owned),
        }
    }
}

/// The args of a [`Listener`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerArgs {
    /// The load balancer. Replaces.
    pub load_balancer_arn: Input<String>,
    /// The port (1 to 65535).
    pub port: u16,
    /// The protocol.
    pub protocol: ListenerProtocol,
    /// The server certificate (ACM or IAM); required for HTTPS, refused for HTTP.
    #[serde(default)]
    pub certificate_arn: Option<Input<String>>,
    /// The TLS policy of an HTTPS listener ([`DEFAULT_SSL_POLICY`] when `None`).
    #[serde(default)]
    pub ssl_policy: Option<String>,
    /// The default action.
    pub default_action: ListenerAction,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Listener {
    /// A listener of `load_balancer_arn` on `port` doing `action`; HTTPS listeners get
    /// [`DEFAULT_SSL_POLICY`] and still need [`ListenerArgs::certificate`].
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        load_balancer_arn: impl Into<Input<String>>,
        port: u16,
        protocol: ListenerProtocol,
        action: ListenerAction,
    ) -> ListenerArgs {
        ListenerArgs {
            load_balancer_arn: load_balancer_arn.into(),
            port,
            protocol,
            certificate_arn: None,
            ssl_policy: (protocol == ListenerProtocol::Https)
                .then(|| DEFAULT_SSL_POLICY.to_owned()),
            default_action: action,
            tags: BTreeMap::new(),
        }
    }

    /// HTTPS on `port` with `certificate_arn` and [`DEFAULT_SSL_POLICY`], forwarding to
    /// `target_group_arn`.
    pub fn https(
        load_balancer_arn: impl Into<Input<String>>,
        port: u16,
        certificate_arn: impl Into<Input<String>>,
        target_group_arn: impl Into<Input<String>>,
    ) -> ListenerArgs {
        Self::new(
            load_balancer_arn,
            port,
            ListenerProtocol::Https,
            ListenerAction::forward(target_group_arn),
        )
        .certificate(certificate_arn)
    }

    /// HTTP on port 80, redirecting permanently (301) to HTTPS on 443.
    pub fn http_redirect(load_balancer_arn: impl Into<Input<String>>) -> ListenerArgs {
        Self::new(
            load_balancer_arn,
            80,
            ListenerProtocol::Http,
            ListenerAction::redirect_to_https(),
        )
    }
}

impl ListenerArgs {
    /// Sets the certificate.
    pub fn certificate(mut self, arn: impl Into<Input<String>>) -> Self {
        self.certificate_arn = Some(arn.into());
        self
    }
    /// Sets the TLS policy.
    pub fn ssl_policy(mut self, policy: impl Into<String>) -> Self {
        self.ssl_policy = Some(policy.into());
        self
    }
    /// Sets the default action.
    pub fn default_action(mut self, action: ListenerAction) -> Self {
        self.default_action = action;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for ListenerArgs {
    type Resource = Listener;
}

/// The outputs of a [`Listener`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerOutputs {
    /// The ARN (its id).
    pub arn: String,
}

strata_core::outputs!(Listener => ListenerHandle {
    /// The ARN.
    arn: String,
});

/// Why `policy` is refused: not a predefined ELB policy, or one that accepts TLS 1.0/1.1.
pub(crate) fn ssl_policy_problem(policy: &str) -> Option<String> {
    if !policy.starts_with("ELBSecurityPolicy-") {
        return Some(format!(
            "{policy:?}: Application Load Balancers take only the predefined ELBSecurityPolicy-* policies"
        ));
    }
    if LEGACY_SSL_POLICIES.contains(&policy)
        || policy.starts_with("ELBSecurityPolicy-TLS13-1-0-")
        || policy.starts_with("ELBSecurityPolicy-TLS13-1-1-")
    {
        return Some(format!(
            "{policy:?} accepts TLS 1.0 or 1.1; use a TLS 1.2+ policy such as {DEFAULT_SSL_POLICY}"
        ));
    }
    None
}

fn aws_protocol(p: ListenerProtocol) -> ProtocolEnum {
    match p {
        ListenerProtocol::Http => ProtocolEnum::Http,
        ListenerProtocol::Https => ProtocolEnum::Https,
    }
}

fn aws_action(a: &ListenerAction) -> Result<Action, ProviderError> {
    Ok(match a {
        ListenerAction::Forward { target_group_arn } => Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(target_group_arn.value()?)
            .build(),
        ListenerAction::RedirectToHttps { port, status_code } => Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port(port.to_string())
                    .host("#{host}")
                    .path("/#{path}")
                    .query("#{query}")
                    .status_code(if *status_code == 302 {
                        RedirectActionStatusCodeEnum::Http302
                    } else {
                        RedirectActionStatusCodeEnum::Http301
                    })
                    .build(),
            )
            .build(),
        ListenerAction::FixedResponse {
            status_code,
            content_type,
            body,
        } => Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(
                FixedResponseActionConfig::builder()
                    .status_code(status_code.to_string())
                    .content_type(content_type.as_str())
                    .set_message_body(body.clone())
                    .build(),
            )
            .build(),
        ListenerAction::Unsupported { description } => {
            return Err(ProviderError::Invalid {
                field: "default_action".into(),
                message: format!("cannot declare an unsupported action ({description})"),
            })
        }
    })
}

/// The live action as args, keeping the declared target group input when it matches.
fn from_aws(a: &Action, declared: Option<&ListenerAction>) -> ListenerAction {
    let unsupported = || ListenerAction::Unsupported {
        description: format!("{a:?}"),
    };
    match a.r#type() {
        Some(ActionTypeEnum::Forward) => {
            let tgs: Vec<&str> = a
                .forward_config()
                .map(|f| {
                    f.target_groups()
                        .iter()
                        .filter_map(|t| t.target_group_arn())
                        .collect()
                })
                .unwrap_or_default();
            let tg = match (a.target_group_arn(), tgs.as_slice()) {
                (Some(t), _) => t,
                (None, [t]) => t,
                _ => return unsupported(),
            };
            let declared = match declared {
                Some(ListenerAction::Forward { target_group_arn }) => Some(target_group_arn),
                _ => None,
            };
            ListenerAction::Forward {
                target_group_arn: keep_one(declared, tg.to_owned()),
            }
        }
        Some(ActionTypeEnum::Redirect) => {
            let Some(r) = a.redirect_config() else {
                return unsupported();
            };
            let same = |v: Option<&str>, d: &str| v.is_none_or(|v| v == d);
            if r.protocol() == Some("HTTPS")
                && same(r.host(), "#{host}")
                && same(r.path(), "/#{path}")
                && same(r.query(), "#{query}")
            {
                match r.port().unwrap_or("443").parse() {
                    Ok(port) => ListenerAction::RedirectToHttps {
                        port,
                        status_code: match r.status_code() {
                            Some(RedirectActionStatusCodeEnum::Http302) => 302,
                            _ => 301,
                        },
                    },
                    Err(_) => unsupported(),
                }
            } else {
                unsupported()
            }
        }
        Some(ActionTypeEnum::FixedResponse) => {
            let Some(f) = a.fixed_response_config() else {
                return unsupported();
            };
            let content_type = match f.content_type().unwrap_or("text/plain") {
                "text/css" => FixedResponseContentType::TextCss,
                "text/html" => FixedResponseContentType::TextHtml,
                "application/javascript" => FixedResponseContentType::ApplicationJavascript,
                "application/json" => FixedResponseContentType::ApplicationJson,
                _ => FixedResponseContentType::TextPlain,
            };
            match f.status_code().and_then(|s| s.parse().ok()) {
                Some(status_code) => ListenerAction::FixedResponse {
                    status_code,
                    content_type,
                    body: f
                        .message_body()
                        .filter(|b| !b.is_empty())
                        .map(str::to_owned),
                },
                None => unsupported(),
            }
        }
        _ => unsupported(),
    }
}

fn validate_action(errs: &mut Vec<FieldError>, a: &ListenerArgs) {
    match &a.default_action {
        ListenerAction::Forward { target_group_arn } => {
            if let Some(t) = target_group_arn.known() {
                if !t.starts_with("arn:") || !t.contains(":targetgroup/") {
                    errs.push(FieldError::new(
                        "default_action.forward.target_group_arn",
                        format!("{t:?} is not a target group ARN"),
                    ));
                }
            }
        }
        ListenerAction::RedirectToHttps { port, status_code } => {
            if *port == 0 {
                errs.push(FieldError::new(
                    "default_action.redirect_to_https.port",
                    "0 is outside 1-65535",
                ));
            }
            if !matches!(status_code, 301 | 302) {
                errs.push(FieldError::new(
                    "default_action.redirect_to_https.status_code",
                    format!("{status_code}: a redirect is 301 or 302"),
                ));
            }
            if a.protocol == ListenerProtocol::Https && *port == a.port {
                errs.push(FieldError::new(
                    "default_action.redirect_to_https.port",
                    format!("an HTTPS listener on {port} redirecting to HTTPS on {port} loops"),
                ));
            }
        }
        ListenerAction::FixedResponse {
            status_code, body, ..
        } => {
            if !(matches!(status_code / 100, 2 | 4 | 5) && *status_code < 600) {
                errs.push(FieldError::new(
                    "default_action.fixed_response.status_code",
                    format!("{status_code}: a fixed response is 2XX, 4XX or 5XX"),
                ));
            }
            if body.as_ref().is_some_and(|b| b.chars().count() > 1024) {
                errs.push(FieldError::new(
                    "default_action.fixed_response.body",
                    "a fixed response body has at most 1024 characters",
                ));
            }
        }
        ListenerAction::Unsupported { .. } => errs.push(FieldError::new(
            "default_action",
            "unsupported is what read reports for actions strata does not model; declare forward, redirect_to_https or fixed_response",
        )),
    }
}

async fn describe(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
) -> Result<Option<aws_sdk_elasticloadbalancingv2::types::Listener>, ProviderError> {
    match client.describe_listeners().listener_arns(arn).send().await {
        Ok(o) => Ok(o.listeners().first().cloned()),
        Err(e) if elb_not_found(&e) => Ok(None),
        Err(e) => Err(api_error("elasticloadbalancing:DescribeListeners")(e)),
    }
}

/// The ARN of the listener of load balancer `lb` on `port`, if any (whoever made it);
/// none when the load balancer is gone.
async fn on_port(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    lb: &str,
    port: u16,
) -> Result<Option<String>, ProviderError> {
    match client
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
    {
        Ok(o) => Ok(o
            .listeners()
            .iter()
            .find(|l| l.port() == Some(i32::from(port)))
            .and_then(|l| l.listener_arn())
            .map(str::to_owned)),
        Err(e) if elb_not_found(&e) => Ok(None),
        Err(e) => Err(api_error("elasticloadbalancing:DescribeListeners")(e)),
    }
}

fn certificates(a: &ListenerArgs) -> Result<Option<Vec<Certificate>>, ProviderError> {
    Ok(match (&a.protocol, &a.certificate_arn) {
        (ListenerProtocol::Https, Some(c)) => Some(vec![Certificate::builder()
            .certificate_arn(c.value()?)
            .build()]),
        _ => None,
    })
}

fn ssl_policy(a: &ListenerArgs) -> Option<String> {
    (a.protocol == ListenerProtocol::Https).then(|| {
        a.ssl_policy
            .clone()
            .unwrap_or_else(|| DEFAULT_SSL_POLICY.to_owned())
    })
}

#[async_trait]
impl Resource for Listener {
    const TYPE: &'static str = "aws:elbv2/listener";
    const REPLACE_ON: &'static [&'static str] = &["load_balancer_arn"];
    /// A load balancer has one listener per port.
    const IDENTITY: &'static [&'static str] = &["load_balancer_arn", "port"];
    type Args = ListenerArgs;
    type Outputs = ListenerOutputs;

    fn validate(a: &ListenerArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(lb) = a.load_balancer_arn.known() {
            if !lb.starts_with("arn:") || !lb.contains(":loadbalancer/app/") {
                errs.push(FieldError::new(
                    "load_balancer_arn",
                    format!("{lb:?} is not the ARN of an Application Load Balancer"),
                ));
            }
        }
        if a.port == 0 {
            errs.push(FieldError::new("port", "0 is outside 1-65535"));
        }
        match a.protocol {
            ListenerProtocol::Https => {
                if a.certificate_arn.is_none() {
                    errs.push(FieldError::new(
                        "certificate_arn",
                        "an HTTPS listener needs a certificate",
                    ));
                }
            }
            ListenerProtocol::Http => {
                if a.certificate_arn.is_some() {
                    errs.push(FieldError::new(
                        "certificate_arn",
                        "an HTTP listener takes no certificate",
                    ));
                }
                if a.ssl_policy.is_some() {
                    errs.push(FieldError::new(
                        "ssl_policy",
                        "an HTTP listener takes no TLS policy",
                    ));
                }
            }
        }
        if let Some(c) = a.certificate_arn.as_ref().and_then(Input::known) {
            if !c.starts_with("arn:") || !(c.contains(":acm:") || c.contains(":iam:")) {
                errs.push(FieldError::new(
                    "certificate_arn",
                    format!("{c:?} is not an ACM or IAM certificate ARN"),
                ));
            }
        }
        if let Some(msg) = a.ssl_policy.as_deref().and_then(ssl_policy_problem) {
            errs.push(FieldError::new("ssl_policy", msg));
        }
        validate_action(&mut errs, a);
        errs.extend(check_tags(&a.tags));
        errs
    }

    fn estimate(_: &ListenerArgs) -> Duration {
        Duration::from_secs(3)
    }

    async fn create(
        cx: &Cx<'_>,
        a: &ListenerArgs,
    ) -> Result<Created<ListenerOutputs>, ProviderError> {
        const OP: &str = "elasticloadbalancing:CreateListener";
        let client = elbv2(cx)?;
        let lb = a.load_balancer_arn.value()?;
        let conflict = || {
            taken(
                OP,
                format!(
                    "the load balancer already has a listener on port {} that this resource did not make (DuplicateListener; `import` takes it over)",
                    a.port
                ),
            )
        };
        // AWS answers a create on a port in use with the same settings with the existing
        // listener (CreateListener is idempotent), and one with other settings with
        // DuplicateListener: look first, and after the create check that what came back
        // carries this create's token.
        let arn = match on_port(&client, lb, a.port).await? {
            Some(arn) if elb_owned(cx, &client, &arn).await? => arn,
            Some(_) => return Err(conflict()),
            None => {
                let out = client
                    .create_listener()
                    .load_balancer_arn(lb)
                    .port(i32::from(a.port))
                    .protocol(aws_protocol(a.protocol))
                    .set_certificates(certificates(a)?)
                    .set_ssl_policy(ssl_policy(a))
                    .default_actions(aws_action(&a.default_action)?)
                    .set_tags(Some(elb_create_tags(cx, &a.tags)))
                    .send()
                    .await
                    .map_err(|e| {
                        if e.code() == Some("DuplicateListener") {
                            conflict()
                        } else {
                            api_error(OP)(e)
                        }
                    })?;
                let arn = out
                    .listeners()
                    .first()
                    .and_then(|l| l.listener_arn())
                    .ok_or_else(|| ProviderError::Other("CreateListener returned no ARN".into()))?
                    .to_owned();
                if !elb_owned(cx, &client, &arn).await? {
                    return Err(conflict());
                }
                arn
            }
        };
        Ok(Created {
            outputs: ListenerOutputs { arn: arn.clone() },
            id: arn,
        })
    }

    /// Found again by its port on its load balancer, only if it carries this create's
    /// `strata:token` tag (set in the create call itself); a listener on that port without
    /// it is not this resource's: `Absent`.
    async fn recover(
        cx: &Cx<'_>,
        a: &ListenerArgs,
    ) -> Result<Recovery<ListenerOutputs>, ProviderError> {
        let client = elbv2(cx)?;
        let Some(arn) = on_port(&client, a.load_balancer_arn.value()?, a.port).await? else {
            return Ok(Recovery::Absent);
        };
        if !elb_owned(cx, &client, &arn).await? {
            return Ok(Recovery::Absent);
        }
        Ok(Recovery::Found(Created {
            outputs: ListenerOutputs { arn: arn.clone() },
            id: arn,
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&ListenerArgs>,
    ) -> Result<Option<Observed<ListenerArgs, ListenerOutputs>>, ProviderError> {
        let client = elbv2(cx)?;
        let Some(l) = describe(&client, id).await? else {
            return Ok(None);
        };
        let protocol = match l.protocol() {
            Some(ProtocolEnum::Https) => ListenerProtocol::Https,
            _ => ListenerProtocol::Http,
        };
        let certs = l.certificates();
        let cert = certs
            .iter()
            .find(|c| c.is_default() == Some(true))
            .or_else(|| certs.first())
            .and_then(|c| c.certificate_arn())
            .map(|c| keep_one(args.and_then(|a| a.certificate_arn.as_ref()), c.to_owned()));
        let declared_policy = args.and_then(|a| a.ssl_policy.as_deref());
        let ssl_policy = match (protocol, l.ssl_policy(), declared_policy) {
            // HTTP listeners have no TLS policy (moto reports its default anyway).
            (ListenerProtocol::Http, _, _) => None,
            // Undeclared and AWS has strata's default: as declared.
            (_, Some(p), None) if p == DEFAULT_SSL_POLICY => None,
            (_, p, _) => p.map(str::to_owned),
        };
        let Some(action) = l.default_actions().first() else {
            return Err(ProviderError::Other(format!(
                "listener {id} has no default action"
            )));
        };
        Ok(Some(Observed {
            args: ListenerArgs {
                load_balancer_arn: keep_one(
                    args.map(|a| &a.load_balancer_arn),
                    l.load_balancer_arn().unwrap_or_default().to_owned(),
                ),
                port: l
                    .port()
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or_default(),
                protocol,
                certificate_arn: cert,
                ssl_policy,
                default_action: from_aws(action, args.map(|a| &a.default_action)),
                tags: user_only(elb_all_tags(&client, id).await?),
            },
            outputs: ListenerOutputs { arn: id.to_owned() },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &ListenerArgs,
        new: &ListenerArgs,
        outputs: &ListenerOutputs,
    ) -> Result<ListenerOutputs, ProviderError> {
        let client = elbv2(cx)?;
        let changed = (
            old.port,
            old.protocol,
            &old.certificate_arn,
            ssl_policy(old),
        ) != (
            new.port,
            new.protocol,
            &new.certificate_arn,
            ssl_policy(new),
        ) || old.default_action != new.default_action;
        if changed {
            client
                .modify_listener()
                .listener_arn(id)
                .port(i32::from(new.port))
                .protocol(aws_protocol(new.protocol))
                .set_certificates(certificates(new)?)
                .set_ssl_policy(ssl_policy(new))
                .default_actions(aws_action(&new.default_action)?)
                .send()
                .await
                .map_err(api_error("elasticloadbalancing:ModifyListener"))?;
        }
        elb_update_tags(&client, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &ListenerArgs,
        _: &ListenerOutputs,
    ) -> Result<(), ProviderError> {
        match elbv2(cx)?.delete_listener().listener_arn(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if elb_not_found(&e) => Ok(()),
            Err(e) => Err(api_error("elasticloadbalancing:DeleteListener")(e)),
        }
    }
}
