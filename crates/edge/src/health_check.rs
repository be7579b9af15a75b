//! `HealthCheck`: a Route 53 health check of an endpoint (HTTP, HTTPS, string match, TCP).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_route53::error::ProvideErrorMetadata;
use aws_sdk_route53::types::{
    HealthCheckConfig, HealthCheckRegion as AwsRegion, HealthCheckType as AwsType,
    ResettableElementName, TagResourceType,
};
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, check_tags, user_tags};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::route53_common::{change_tags, check_domain, gone, route53, tags, update_tags};

/// A Route 53 health check of an endpoint, by domain name or IP address.
///
/// Route 53's checkers in several regions request the endpoint every `request_interval`
/// seconds; after `failure_threshold` failures in a row the endpoint counts as unhealthy.
/// A [`crate::Record`] that names the check is answered only while it is healthy.
///
/// The type, the request interval and latency measurement replace the check (Route 53
/// cannot change them); everything else changes in place (`UpdateHealthCheck`, with the
/// check's current version). The create's `CallerReference` is the engine's idempotency
/// token, by which an interrupted create is found again.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::{HealthCheck, HealthCheckType};
/// let mut s = Stack::new("dev");
/// s.add("shop-health", HealthCheck::new(HealthCheckType::Https, "shop.example.com")
///     .resource_path("/health").request_interval(30).failure_threshold(3));
/// ```
#[derive(Debug)]
pub struct HealthCheck;

/// How the endpoint is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthCheckType {
    /// An HTTP request answered with a 2xx or 3xx status.
    Http,
    /// An HTTPS request answered with a 2xx or 3xx status.
    Https,
    /// An HTTP request whose first 5120 bytes of body hold `search_string`.
    HttpStrMatch,
    /// An HTTPS request whose first 5120 bytes of body hold `search_string`.
    HttpsStrMatch,
    /// A TCP connection.
    Tcp,
}

impl HealthCheckType {
    fn aws(self) -> AwsType {
        match self {
            HealthCheckType::Http => AwsType::Http,
            HealthCheckType::Https => AwsType::Https,
            HealthCheckType::HttpStrMatch => AwsType::HttpStrMatch,
            HealthCheckType::HttpsStrMatch => AwsType::HttpsStrMatch,
            HealthCheckType::Tcp => AwsType::Tcp,
        }
    }

    fn from_aws(t: &AwsType) -> Option<Self> {
        Some(match t {
            AwsType::Http => HealthCheckType::Http,
            AwsType::Https => HealthCheckType::Https,
            AwsType::HttpStrMatch => HealthCheckType::HttpStrMatch,
            AwsType::HttpsStrMatch => HealthCheckType::HttpsStrMatch,
            AwsType::Tcp => HealthCheckType::Tcp,
            _ => return None,
        })
    }

    fn https(self) -> bool {
        matches!(
            self,
            HealthCheckType::Https | HealthCheckType::HttpsStrMatch
        )
    }

    fn string_match(self) -> bool {
        matches!(
            self,
            HealthCheckType::HttpStrMatch | HealthCheckType::HttpsStrMatch
        )
    }
}

/// A region Route 53 checks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HealthCheckRegion {
    /// US East (N. Virginia).
    #[serde(rename = "us-east-1")]
    UsEast1,
    /// US West (N. California).
    #[serde(rename = "us-west-1")]
    UsWest1,
    /// US West (Oregon).
    #[serde(rename = "us-west-2")]
    UsWest2,
    /// Europe (Ireland).
    #[serde(rename = "eu-west-1")]
    EuWest1,
    /// Asia Pacific (Singapore).
    #[serde(rename = "ap-southeast-1")]
    ApSoutheast1,
    /// Asia Pacific (Sydney).
    #[serde(rename = "ap-southeast-2")]
    ApSoutheast2,
    /// Asia Pacific (Tokyo).
    #[serde(rename = "ap-northeast-1")]
    ApNortheast1,
    /// South America (São Paulo).
    #[serde(rename = "sa-east-1")]
    SaEast1,
}

impl HealthCheckRegion {
    fn aws(self) -> AwsRegion {
        match self {
            HealthCheckRegion::UsEast1 => AwsRegion::UsEast1,
            HealthCheckRegion::UsWest1 => AwsRegion::UsWest1,
            HealthCheckRegion::UsWest2 => AwsRegion::UsWest2,
            HealthCheckRegion::EuWest1 => AwsRegion::EuWest1,
            HealthCheckRegion::ApSoutheast1 => AwsRegion::ApSoutheast1,
            HealthCheckRegion::ApSoutheast2 => AwsRegion::ApSoutheast2,
            HealthCheckRegion::ApNortheast1 => AwsRegion::ApNortheast1,
            HealthCheckRegion::SaEast1 => AwsRegion::SaEast1,
        }
    }

    fn from_aws(r: &AwsRegion) -> Option<Self> {
        Some(match r {
            AwsRegion::UsEast1 => HealthCheckRegion::UsEast1,
            AwsRegion::UsWest1 => HealthCheckRegion::UsWest1,
            AwsRegion::UsWest2 => HealthCheckRegion::UsWest2,
            AwsRegion::EuWest1 => HealthCheckRegion::EuWest1,
            AwsRegion::ApSoutheast1 => HealthCheckRegion::ApSoutheast1,
            AwsRegion::ApSoutheast2 => HealthCheckRegion::ApSoutheast2,
            AwsRegion::ApNortheast1 => HealthCheckRegion::ApNortheast1,
            AwsRegion::SaEast1 => HealthCheckRegion::SaEast1,
            _ => return None,
        })
    }
}

/// The args of a [`HealthCheck`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheckArgs {
    /// How the endpoint is checked (replaces).
    #[serde(rename = "type")]
    pub check_type: HealthCheckType,
    /// The endpoint's domain name (also the `Host` header and, with `enable_sni`, the
    /// TLS server name).
    #[serde(default)]
    pub fqdn: Option<Input<String>>,
    /// The endpoint's public IP address (instead of resolving `fqdn`).
    #[serde(default)]
    pub ip_address: Option<String>,
    /// The port (80 for HTTP, 443 for HTTPS by default).
    pub port: i32,
    /// The path requested (`/health`); not for TCP.
    #[serde(default)]
    pub resource_path: Option<String>,
    /// The text the body must hold (string-match types only).
    #[serde(default)]
    pub search_string: Option<String>,
    /// Seconds between two requests of one checker: 10 or 30 (replaces).
    pub request_interval: i32,
    /// Failures in a row that make the endpoint unhealthy: 1 to 10.
    pub failure_threshold: i32,
    /// The checker regions (none: Route 53's default set; otherwise at least 3).
    #[serde(default)]
    pub regions: Vec<HealthCheckRegion>,
    /// Measure latency (CloudWatch graphs; replaces).
    #[serde(default)]
    pub measure_latency: bool,
    /// Report healthy when the endpoint is unhealthy and the other way round.
    #[serde(default)]
    pub inverted: bool,
    /// Stop checking (Route 53 then treats the endpoint as healthy).
    #[serde(default)]
    pub disabled: bool,
    /// Send `fqdn` as the TLS server name (HTTPS types).
    #[serde(default)]
    pub enable_sni: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl HealthCheck {
    /// A check of `fqdn` by `check_type` on the type's usual port, every 30 seconds,
    /// unhealthy after 3 failures, with SNI for HTTPS.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(check_type: HealthCheckType, fqdn: impl Into<Input<String>>) -> HealthCheckArgs {
        HealthCheckArgs {
            check_type,
            fqdn: Some(fqdn.into()),
            ip_address: None,
            port: if check_type.https() { 443 } else { 80 },
            resource_path: None,
            search_string: None,
            request_interval: 30,
            failure_threshold: 3,
            regions: Vec::new(),
            measure_latency: false,
            inverted: false,
            disabled: false,
            enable_sni: check_type.https(),
            tags: BTreeMap::new(),
        }
    }
}

impl HealthCheckArgs {
    /// Sets the path requested.
    pub fn resource_path(mut self, path: impl Into<String>) -> Self {
        self.resource_path = Some(path.into());
        self
    }
    /// Sets the port.
    pub fn port(mut self, port: i32) -> Self {
        self.port = port;
        self
    }
    /// Checks this IP address (the `fqdn` stays the `Host` header).
    pub fn ip_address(mut self, ip: impl Into<String>) -> Self {
        self.ip_address = Some(ip.into());
        self
    }
    /// Sets the text a string-match check looks for.
    pub fn search_string(mut self, s: impl Into<String>) -> Self {
        self.search_string = Some(s.into());
        self
    }
    /// Sets the seconds between requests (10 or 30).
    pub fn request_interval(mut self, secs: i32) -> Self {
        self.request_interval = secs;
        self
    }
    /// Sets the failures in a row that make the endpoint unhealthy.
    pub fn failure_threshold(mut self, n: i32) -> Self {
        self.failure_threshold = n;
        self
    }
    /// Checks from these regions (at least 3).
    pub fn regions(mut self, regions: impl IntoIterator<Item = HealthCheckRegion>) -> Self {
        self.regions = regions.into_iter().collect();
        self
    }
    /// Sets whether the check is disabled.
    pub fn disabled(mut self, on: bool) -> Self {
        self.disabled = on;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for HealthCheckArgs {
    type Resource = HealthCheck;
}

/// The outputs of a [`HealthCheck`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheckOutputs {
    /// The health check id (a UUID); also the provider id.
    pub id: String,
    /// `arn:aws:route53:::healthcheck/ID`.
    pub arn: String,
}

strata_core::outputs!(HealthCheck => HealthCheckHandle {
    /// The health check id.
    id: String,
    /// The ARN.
    arn: String,
});

fn outputs(id: &str) -> HealthCheckOutputs {
    HealthCheckOutputs {
        id: id.to_owned(),
        arn: format!("arn:aws:route53:::healthcheck/{id}"),
    }
}

fn fqdn(args: &HealthCheckArgs) -> Result<Option<String>, ProviderError> {
    Ok(args.fqdn.as_ref().map(|f| f.value().cloned()).transpose()?)
}

fn config(args: &HealthCheckArgs) -> Result<HealthCheckConfig, ProviderError> {
    HealthCheckConfig::builder()
        .r#type(args.check_type.aws())
        .set_fully_qualified_domain_name(fqdn(args)?)
        .set_ip_address(args.ip_address.clone())
        .port(args.port)
        .set_resource_path(args.resource_path.clone())
        .set_search_string(args.search_string.clone())
        .request_interval(args.request_interval)
        .failure_threshold(args.failure_threshold)
        .set_regions(
            (!args.regions.is_empty()).then(|| args.regions.iter().map(|r| r.aws()).collect()),
        )
        .measure_latency(args.measure_latency)
        .inverted(args.inverted)
        .disabled(args.disabled)
        .enable_sni(args.enable_sni)
        .build()
        .map_err(|e| ProviderError::Other(e.to_string()))
}

/// Addresses Route 53 refuses to check: local, private, non-routable and multicast ones.
fn unroutable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || v.is_multicast()
                || v.is_unspecified()
                || v.is_broadcast()
                || v.octets()[0] == 0
                || (v.octets()[0] == 100 && (64..128).contains(&v.octets()[1]))
                || v.octets()[0] >= 240
        }
        IpAddr::V6(v) => {
            v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (v.segments()[0] & 0xfe00) == 0xfc00
                || (v.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

async fn get(
    client: &aws_sdk_route53::Client,
    id: &str,
) -> Result<Option<aws_sdk_route53::types::HealthCheck>, ProviderError> {
    match client.get_health_check().health_check_id(id).send().await {
        Ok(o) => Ok(o.health_check().cloned()),
        Err(e) if gone(e.code()) => Ok(None),
        Err(e) => Err(api_error("route53:GetHealthCheck")(e)),
    }
}

async fn by_caller_reference(
    client: &aws_sdk_route53::Client,
    token: &str,
) -> Result<Option<String>, ProviderError> {
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_health_checks()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(api_error("route53:ListHealthChecks"))?;
        if let Some(h) = page
            .health_checks()
            .iter()
            .find(|h| h.caller_reference() == token)
        {
            return Ok(Some(h.id().to_owned()));
        }
        match page.next_marker() {
            Some(m) if page.is_truncated() && !m.is_empty() => marker = Some(m.to_owned()),
            _ => return Ok(None),
        }
    }
}

#[async_trait]
impl Resource for HealthCheck {
    const TYPE: &'static str = "aws:route53/health-check";
    const REPLACE_ON: &'static [&'static str] = &["type", "request_interval", "measure_latency"];
    type Args = HealthCheckArgs;
    type Outputs = HealthCheckOutputs;

    fn validate(args: &HealthCheckArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let known_fqdn = args.fqdn.as_ref().and_then(Input::known);
        if args.fqdn.is_none() && args.ip_address.is_none() {
            errs.push(FieldError::new(
                "fqdn",
                "a health check needs a domain name or an IP address to check",
            ));
        }
        if let Some(f) = known_fqdn {
            if let Some(m) = check_domain(f, false) {
                errs.push(FieldError::new("fqdn", m));
            }
        }
        if let Some(ip) = &args.ip_address {
            match ip.parse::<IpAddr>() {
                Err(_) => errs.push(FieldError::new(
                    "ip_address",
                    format!("{ip:?} is not an IP address"),
                )),
                Ok(a) if unroutable(a) => errs.push(FieldError::new(
                    "ip_address",
                    format!(
                        "{ip}: Route 53 checks only public addresses (not local, private, non-routable or multicast ones)"
                    ),
                )),
                Ok(_) => {}
            }
        }
        if !(1..=65535).contains(&args.port) {
            errs.push(FieldError::new(
                "port",
                format!("{}: a port is 1 to 65535", args.port),
            ));
        }
        match (&args.resource_path, args.check_type) {
            (Some(_), HealthCheckType::Tcp) => errs.push(FieldError::new(
                "resource_path",
                "a TCP check requests no path",
            )),
            (Some(p), _) if !p.starts_with('/') || p.len() > 255 => errs.push(FieldError::new(
                "resource_path",
                format!("{p:?}: a path starts with / and has at most 255 characters"),
            )),
            _ => {}
        }
        match (&args.search_string, args.check_type.string_match()) {
            (None, true) => errs.push(FieldError::new(
                "search_string",
                "a string-match check needs the text to look for",
            )),
            (Some(_), false) => errs.push(FieldError::new(
                "search_string",
                "only HTTP_STR_MATCH and HTTPS_STR_MATCH checks look for a string",
            )),
            (Some(s), true) if s.is_empty() || s.len() > 255 => {
                errs.push(FieldError::new("search_string", "1 to 255 characters"))
            }
            _ => {}
        }
        if ![10, 30].contains(&args.request_interval) {
            errs.push(FieldError::new(
                "request_interval",
                format!(
                    "{} seconds: Route 53 checks every 10 or every 30 seconds",
                    args.request_interval
                ),
            ));
        }
        if !(1..=10).contains(&args.failure_threshold) {
            errs.push(FieldError::new(
                "failure_threshold",
                format!("{}: 1 to 10 failures", args.failure_threshold),
            ));
        }
        let distinct: std::collections::BTreeSet<_> = args.regions.iter().collect();
        if distinct.len() != args.regions.len() {
            errs.push(FieldError::new("regions", "a region is listed twice"));
        } else if !args.regions.is_empty() && args.regions.len() < 3 {
            errs.push(FieldError::new(
                "regions",
                format!(
                    "{} regions: Route 53 checks from at least 3 (or, with none, from its default set)",
                    args.regions.len()
                ),
            ));
        }
        if args.enable_sni && !args.check_type.https() {
            errs.push(FieldError::new(
                "enable_sni",
                "SNI is for HTTPS checks only",
            ));
        }
        errs.extend(check_tags(&args.tags));
        errs
    }

    fn estimate(_: &HealthCheckArgs) -> Duration {
        Duration::from_secs(3)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &HealthCheckArgs,
    ) -> Result<Created<HealthCheckOutputs>, ProviderError> {
        let client = route53(cx)?;
        let id = match client
            .create_health_check()
            .caller_reference(cx.token)
            .health_check_config(config(args)?)
            .send()
            .await
        {
            Ok(o) => o.health_check().map(|h| h.id().to_owned()).ok_or_else(|| {
                ProviderError::Other("CreateHealthCheck returned no check".into())
            })?,
            // The same token with another configuration: a create of ours went through.
            Err(e) if e.code() == Some("HealthCheckAlreadyExists") => {
                match by_caller_reference(&client, cx.token).await? {
                    Some(id) => id,
                    None => return Err(api_error("route53:CreateHealthCheck")(e)),
                }
            }
            Err(e) => return Err(api_error("route53:CreateHealthCheck")(e)),
        };
        change_tags(
            &client,
            TagResourceType::Healthcheck,
            &id,
            &cx.create_tags(&args.tags),
            &[],
        )
        .await?;
        Ok(Created {
            outputs: outputs(&id),
            id,
        })
    }

    /// Found again by its `CallerReference`, the create's token.
    async fn recover(
        cx: &Cx<'_>,
        args: &HealthCheckArgs,
    ) -> Result<Recovery<HealthCheckOutputs>, ProviderError> {
        let client = route53(cx)?;
        let Some(id) = by_caller_reference(&client, cx.token).await? else {
            return Ok(Recovery::Absent);
        };
        // The crash may have come before the tags.
        change_tags(
            &client,
            TagResourceType::Healthcheck,
            &id,
            &cx.create_tags(&args.tags),
            &[],
        )
        .await?;
        Ok(Recovery::Found(Created {
            outputs: outputs(&id),
            id,
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&HealthCheckArgs>,
    ) -> Result<Option<Observed<HealthCheckArgs, HealthCheckOutputs>>, ProviderError> {
        let client = route53(cx)?;
        let Some(h) = get(&client, id).await? else {
            return Ok(None);
        };
        let Some(c) = h.health_check_config() else {
            return Ok(None);
        };
        let check_type = HealthCheckType::from_aws(c.r#type()).ok_or_else(|| {
            ProviderError::Other(format!(
                "health check {id} is of type {}, which strata does not model",
                c.r#type().as_str()
            ))
        })?;
        let live_fqdn = c
            .fully_qualified_domain_name()
            .filter(|f| !f.is_empty())
            .map(str::to_owned);
        let fqdn = match (args.and_then(|a| a.fqdn.as_ref()), &live_fqdn) {
            (Some(d), Some(l)) if d.value().is_ok_and(|v| v == l) => Some(d.clone()),
            (_, l) => l.clone().map(Input::Value),
        };
        let mut regions: Vec<HealthCheckRegion> = c
            .regions()
            .iter()
            .filter_map(HealthCheckRegion::from_aws)
            .collect();
        // Keep the declared order when the set is the same.
        if let Some(a) = args {
            let (mut x, mut y) = (a.regions.clone(), regions.clone());
            x.sort();
            y.sort();
            if x == y {
                regions = a.regions.clone();
            }
        }
        let all = tags(&client, TagResourceType::Healthcheck, id).await?;
        Ok(Some(Observed {
            args: HealthCheckArgs {
                check_type,
                fqdn,
                ip_address: c.ip_address().filter(|i| !i.is_empty()).map(str::to_owned),
                port: c
                    .port()
                    .unwrap_or(if check_type.https() { 443 } else { 80 }),
                resource_path: c
                    .resource_path()
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
                search_string: c
                    .search_string()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                request_interval: c.request_interval().unwrap_or(30),
                failure_threshold: c.failure_threshold().unwrap_or(3),
                regions,
                measure_latency: c.measure_latency().unwrap_or(false),
                inverted: c.inverted().unwrap_or(false),
                disabled: c.disabled().unwrap_or(false),
                enable_sni: c.enable_sni().unwrap_or(false),
                tags: user_tags(all.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            },
            outputs: outputs(id),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &HealthCheckArgs,
        new: &HealthCheckArgs,
        outputs: &HealthCheckOutputs,
    ) -> Result<HealthCheckOutputs, ProviderError> {
        let client = route53(cx)?;
        let mut settings = new.clone();
        settings.tags = old.tags.clone();
        if &settings != old {
            // The version makes the update refuse to overwrite a concurrent one.
            let version = get(&client, id)
                .await?
                .ok_or_else(|| ProviderError::NotFound(format!("health check {id}")))?
                .health_check_version();
            // Every in-place setting is sent (an absent one would be left as it is);
            // removed optional ones are reset.
            let mut reset = Vec::new();
            if new.fqdn.is_none() {
                reset.push(ResettableElementName::FullyQualifiedDomainName);
            }
            if new.resource_path.is_none() && new.check_type != HealthCheckType::Tcp {
                reset.push(ResettableElementName::ResourcePath);
            }
            if new.regions.is_empty() {
                reset.push(ResettableElementName::Regions);
            }
            client
                .update_health_check()
                .health_check_id(id)
                .health_check_version(version)
                .set_fully_qualified_domain_name(fqdn(new)?)
                .set_ip_address(new.ip_address.clone())
                .port(new.port)
                .set_resource_path(new.resource_path.clone())
                .set_search_string(new.search_string.clone())
                .failure_threshold(new.failure_threshold)
                .set_regions(
                    (!new.regions.is_empty())
                        .then(|| new.regions.iter().map(|r| r.aws()).collect()),
                )
                .inverted(new.inverted)
                .disabled(new.disabled)
                .enable_sni(new.enable_sni)
                .set_reset_elements((!reset.is_empty()).then_some(reset))
                .send()
                .await
                .map_err(api_error("route53:UpdateHealthCheck"))?;
        }
        update_tags(
            &client,
            TagResourceType::Healthcheck,
            id,
            &old.tags,
            &new.tags,
        )
        .await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &HealthCheckArgs,
        _: &HealthCheckOutputs,
    ) -> Result<(), ProviderError> {
        match route53(cx)?
            .delete_health_check()
            .health_check_id(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if gone(e.code()) => Ok(()),
            Err(e) => Err(api_error("route53:DeleteHealthCheck")(e)),
        }
    }
}
