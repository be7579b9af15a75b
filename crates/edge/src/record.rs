//! `Record`: a Route 53 record set, with values and a TTL or an alias to an AWS target.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_route53::error::ProvideErrorMetadata;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, RrType,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::api_error;
use strata_core::diff::{diff_values, PropertyChange};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    StackView, Urn,
};

use crate::route53_common::{
    bare_zone_id, check_domain, gone, in_zone, normalize, record_exists, route53, wait_in_sync,
    CHANGE_TIMEOUT,
};

/// A Route 53 record set in a hosted zone.
///
/// Either values with a TTL ([`Record::new`]) or an alias to an AWS target: a CloudFront
/// distribution, a load balancer, another record of the zone ([`Record::alias`]). Every
/// change waits until it is `INSYNC` on every Route 53 name server. The zone and the name
/// replace the record; a change of type or set identifier is made in place, as one change
/// batch that deletes the old record set and creates the new one; values, TTL, alias,
/// routing and health check change by `UPSERT` of the record this resource made.
///
/// Create is a `CREATE`, never an `UPSERT`: a record set of the same name, type and set
/// identifier that is already in the zone fails the create (`InvalidChangeBatch`, "but it
/// already exists") and is left as it is; `import` takes one over. Records carry no tags
/// and take no token, so an interrupted create is found again only when the live record
/// set is exactly the declared one (values and TTL, or alias target, failover role and
/// health check).
///
/// The provider id is `ZONEID_NAME_TYPE` (`Z0123456789ABC_www.shop.example.com_A`), with
/// `_SETIDENTIFIER` appended for a record with a set identifier: the format `import` takes.
/// It is fixed when the record is created; after an in-place change of type the record is
/// found by its args (zone, name, type, set identifier), which state keeps current.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::{HostedZone, HostedZoneHandle, Record, RecordType};
/// let mut s = Stack::new("dev");
/// let zone = s.add("zone", HostedZone::new("shop.example.com"));
/// s.add("www", Record::new(zone.zone_id(), "www.shop.example.com", RecordType::Cname, 300,
///     ["shop.example.com"]));
/// s.add("apex", Record::alias(zone.zone_id(), "shop.example.com", RecordType::A,
///     "d111111abcdef8.cloudfront.net", "Z2FDTNDATAQYW2"));
/// ```
#[derive(Debug)]
pub struct Record;

/// A record type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
    /// Certification authority authorization.
    Caa,
    /// A canonical name (not at the zone apex).
    Cname,
    /// Delegation signer.
    Ds,
    /// HTTPS service binding.
    Https,
    /// Mail exchangers (`10 mail.example.com`).
    Mx,
    /// Naming authority pointer.
    Naptr,
    /// Name servers (delegation of a subdomain).
    Ns,
    /// Pointer (reverse DNS).
    Ptr,
    /// Services (`10 5 5060 sip.example.com`).
    Srv,
    /// SSH fingerprints.
    Sshfp,
    /// Service binding.
    Svcb,
    /// TLS authentication.
    Tlsa,
    /// Text (strata quotes each value; values longer than 255 characters are split).
    Txt,
}

impl RecordType {
    /// The type as Route 53 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Caa => "CAA",
            RecordType::Cname => "CNAME",
            RecordType::Ds => "DS",
            RecordType::Https => "HTTPS",
            RecordType::Mx => "MX",
            RecordType::Naptr => "NAPTR",
            RecordType::Ns => "NS",
            RecordType::Ptr => "PTR",
            RecordType::Srv => "SRV",
            RecordType::Sshfp => "SSHFP",
            RecordType::Svcb => "SVCB",
            RecordType::Tlsa => "TLSA",
            RecordType::Txt => "TXT",
        }
    }

    const ALL: [RecordType; 15] = [
        RecordType::A,
        RecordType::Aaaa,
        RecordType::Caa,
        RecordType::Cname,
        RecordType::Ds,
        RecordType::Https,
        RecordType::Mx,
        RecordType::Naptr,
        RecordType::Ns,
        RecordType::Ptr,
        RecordType::Srv,
        RecordType::Sshfp,
        RecordType::Svcb,
        RecordType::Tlsa,
        RecordType::Txt,
    ];

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    fn aws(self) -> RrType {
        RrType::from(self.as_str())
    }
}

/// An alias to an AWS target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alias {
    /// The target's DNS name (a distribution's `domain_name`, a load balancer's `dns_name`).
    pub dns_name: Input<String>,
    /// The target's hosted zone id (`Z2FDTNDATAQYW2` for CloudFront, the load balancer's
    /// canonical hosted zone id).
    pub zone_id: Input<String>,
    /// Whether Route 53 checks the target's health (off for CloudFront, which AWS
    /// refuses).
    #[serde(default)]
    pub evaluate_target_health: bool,
}

/// The role of a record in failover routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Failover {
    /// Answered while its health check passes.
    Primary,
    /// Answered when the primary is unhealthy.
    Secondary,
}

/// The args of a [`Record`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordArgs {
    /// The hosted zone (its id, without `/hostedzone/`).
    pub zone_id: Input<String>,
    /// The full name (`www.shop.example.com`; `*.shop.example.com` for a wildcard).
    pub name: String,
    /// The type.
    #[serde(rename = "type")]
    pub record_type: RecordType,
    /// The TTL in seconds (not for an alias).
    #[serde(default)]
    pub ttl: Option<i64>,
    /// The values (not for an alias).
    #[serde(default)]
    pub records: Vec<String>,
    /// An alias instead of values.
    #[serde(default)]
    pub alias: Option<Alias>,
    /// Tells apart the records of one name and type in a routing policy.
    #[serde(default)]
    pub set_identifier: Option<String>,
    /// Failover routing (with a set identifier).
    #[serde(default)]
    pub failover: Option<Failover>,
    /// A health check that decides whether Route 53 answers with this record.
    #[serde(default)]
    pub health_check_id: Option<Input<String>>,
}

impl Record {
    /// A record of `values` with a TTL.
    #[allow(clippy::new_ret_no_self)]
    pub fn new<V: Into<String>>(
        zone_id: impl Into<Input<String>>,
        name: impl Into<String>,
        record_type: RecordType,
        ttl: i64,
        values: impl IntoIterator<Item = V>,
    ) -> RecordArgs {
        RecordArgs {
            zone_id: zone_id.into(),
            name: name.into(),
            record_type,
            ttl: Some(ttl),
            records: values.into_iter().map(Into::into).collect(),
            alias: None,
            set_identifier: None,
            failover: None,
            health_check_id: None,
        }
    }

    /// An alias record to the target `dns_name` in the target's hosted zone
    /// `target_zone_id`, without target health evaluation.
    pub fn alias(
        zone_id: impl Into<Input<String>>,
        name: impl Into<String>,
        record_type: RecordType,
        dns_name: impl Into<Input<String>>,
        target_zone_id: impl Into<Input<String>>,
    ) -> RecordArgs {
        RecordArgs {
            zone_id: zone_id.into(),
            name: name.into(),
            record_type,
            ttl: None,
            records: Vec::new(),
            alias: Some(Alias {
                dns_name: dns_name.into(),
                zone_id: target_zone_id.into(),
                evaluate_target_health: false,
            }),
            set_identifier: None,
            failover: None,
            health_check_id: None,
        }
    }
}

impl RecordArgs {
    /// Sets whether Route 53 evaluates the alias target's health.
    pub fn evaluate_target_health(mut self, on: bool) -> Self {
        if let Some(a) = &mut self.alias {
            a.evaluate_target_health = on;
        }
        self
    }
    /// Associates a health check.
    pub fn health_check(mut self, id: impl Into<Input<String>>) -> Self {
        self.health_check_id = Some(id.into());
        self
    }
    /// Makes this the `role` record of failover routing, told apart by `set_identifier`.
    pub fn failover(mut self, role: Failover, set_identifier: impl Into<String>) -> Self {
        self.failover = Some(role);
        self.set_identifier = Some(set_identifier.into());
        self
    }
}

impl ResourceArgs for RecordArgs {
    type Resource = Record;
}

/// The outputs of a [`Record`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordOutputs {
    /// The record's name, lowercase, without the final dot.
    pub fqdn: String,
}

strata_core::outputs!(Record => RecordHandle {
    /// The record's name.
    fqdn: String,
});

/// What finds one record set: the zone, the name, the type and the set identifier.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    zone: String,
    name: String,
    ty: RecordType,
    set_identifier: Option<String>,
}

impl Key {
    fn of(args: &RecordArgs) -> Result<Key, ProviderError> {
        Ok(Key {
            zone: bare_zone_id(args.zone_id.value()?).to_owned(),
            name: normalize(&args.name),
            ty: args.record_type,
            set_identifier: args.set_identifier.clone(),
        })
    }

    /// `ZONE_NAME_TYPE[_SETIDENTIFIER]`.
    fn id(&self) -> String {
        let mut id = format!("{}_{}_{}", self.zone, self.name, self.ty.as_str());
        if let Some(s) = &self.set_identifier {
            id.push('_');
            id.push_str(s);
        }
        id
    }

    /// Parses a provider id (names and set identifiers may hold underscores: the type is
    /// the rightmost segment that is one, after at least one name segment).
    fn parse(id: &str) -> Option<Key> {
        let (zone, rest) = id.split_once('_')?;
        let segs: Vec<&str> = rest.split('_').collect();
        let k = (1..segs.len())
            .rev()
            .find(|&k| RecordType::parse(segs[k]).is_some())?;
        let set = segs[k + 1..].join("_");
        Some(Key {
            zone: zone.to_owned(),
            name: normalize(&segs[..k].join("_")),
            ty: RecordType::parse(segs[k])?,
            set_identifier: (!set.is_empty()).then_some(set),
        })
    }
}

/// TXT values as Route 53 wants them: quoted character strings of at most 255 characters.
/// A value that is already quoted is sent as it is.
fn wire_value(ty: RecordType, v: &str) -> String {
    if ty != RecordType::Txt || v.starts_with('"') {
        return v.to_owned();
    }
    let chars: Vec<char> = v.chars().collect();
    let chunks: Vec<String> = if chars.is_empty() {
        vec![String::new()]
    } else {
        chars.chunks(255).map(|c| c.iter().collect()).collect()
    };
    chunks
        .iter()
        .map(|c| format!("\"{}\"", c.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of a quoted TXT value (the character strings joined), or the value itself.
fn unwire_value(ty: RecordType, v: &str) -> String {
    if ty != RecordType::Txt || !v.starts_with('"') {
        return v.to_owned();
    }
    let mut out = String::new();
    let mut inside = false;
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match (inside, c) {
            (false, '"') => inside = true,
            (true, '"') => inside = false,
            (true, '\\') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (true, c) => out.push(c),
            (false, _) => {}
        }
    }
    out
}

fn build_err(e: aws_sdk_route53::error::BuildError) -> ProviderError {
    ProviderError::Other(e.to_string())
}

fn record_set(args: &RecordArgs) -> Result<ResourceRecordSet, ProviderError> {
    let mut b = ResourceRecordSet::builder()
        .name(normalize(&args.name))
        .r#type(args.record_type.aws())
        .set_set_identifier(args.set_identifier.clone())
        .set_failover(args.failover.map(|f| match f {
            Failover::Primary => ResourceRecordSetFailover::Primary,
            Failover::Secondary => ResourceRecordSetFailover::Secondary,
        }))
        .set_health_check_id(
            args.health_check_id
                .as_ref()
                .map(|h| h.value().cloned())
                .transpose()?,
        );
    match &args.alias {
        Some(a) => {
            b = b.alias_target(
                AliasTarget::builder()
                    .dns_name(a.dns_name.value()?)
                    .hosted_zone_id(bare_zone_id(a.zone_id.value()?))
                    .evaluate_target_health(a.evaluate_target_health)
                    .build()
                    .map_err(build_err)?,
            );
        }
        None => {
            b = b.set_ttl(args.ttl);
            for v in &args.records {
                b = b.resource_records(
                    ResourceRecord::builder()
                        .value(wire_value(args.record_type, v))
                        .build()
                        .map_err(build_err)?,
                );
            }
        }
    }
    b.build().map_err(build_err)
}

/// The live record set of `key`, if any.
async fn find(
    client: &aws_sdk_route53::Client,
    key: &Key,
) -> Result<Option<ResourceRecordSet>, ProviderError> {
    let mut call = client
        .list_resource_record_sets()
        .hosted_zone_id(&key.zone)
        .start_record_name(&key.name)
        .start_record_type(key.ty.aws());
    if let Some(s) = &key.set_identifier {
        call = call.start_record_identifier(s);
    }
    let out = match call.max_items(100).send().await {
        Ok(o) => o,
        Err(e) if gone(e.code()) => return Ok(None),
        Err(e) => return Err(api_error("route53:ListResourceRecordSets")(e)),
    };
    Ok(out
        .resource_record_sets()
        .iter()
        .find(|r| {
            normalize(r.name()) == key.name
                && r.r#type().as_str() == key.ty.as_str()
                && r.set_identifier() == key.set_identifier.as_deref()
        })
        .cloned())
}

/// The live record set as args, keeping the declared inputs and spellings where the live
/// values are the same.
fn observed(live: &ResourceRecordSet, key: &Key, declared: Option<&RecordArgs>) -> RecordArgs {
    let name = match declared {
        Some(d) if normalize(&d.name) == key.name => d.name.clone(),
        _ => key.name.clone(),
    };
    let zone_id = match declared {
        Some(d) if d.zone_id.value().is_ok_and(|z| bare_zone_id(z) == key.zone) => {
            d.zone_id.clone()
        }
        _ => Input::Value(key.zone.clone()),
    };
    let alias = live.alias_target().map(|t| {
        let d = declared.and_then(|d| d.alias.as_ref());
        let dns_name = match d {
            Some(a)
                if a.dns_name
                    .value()
                    .is_ok_and(|n| normalize(n) == normalize(t.dns_name())) =>
            {
                a.dns_name.clone()
            }
            _ => Input::Value(normalize(t.dns_name())),
        };
        let zone_id = match d {
            Some(a)
                if a.zone_id
                    .value()
                    .is_ok_and(|z| bare_zone_id(z) == bare_zone_id(t.hosted_zone_id())) =>
            {
                a.zone_id.clone()
            }
            _ => Input::Value(bare_zone_id(t.hosted_zone_id()).to_owned()),
        };
        Alias {
            dns_name,
            zone_id,
            evaluate_target_health: t.evaluate_target_health(),
        }
    });
    let live_values: Vec<String> = live
        .resource_records()
        .iter()
        .map(|r| r.value().to_owned())
        .collect();
    let records = match declared {
        Some(d) if same_values(d, &live_values) => d.records.clone(),
        _ => live_values
            .iter()
            .map(|v| unwire_value(key.ty, v))
            .collect(),
    };
    let health_check_id =
        live.health_check_id().map(
            |h| match declared.and_then(|d| d.health_check_id.as_ref()) {
                Some(i) if i.value().is_ok_and(|v| v == h) => i.clone(),
                _ => Input::Value(h.to_owned()),
            },
        );
    RecordArgs {
        zone_id,
        name,
        record_type: key.ty,
        ttl: live.ttl(),
        records,
        alias,
        set_identifier: live.set_identifier().map(str::to_owned),
        failover: live.failover().and_then(|f| match f {
            ResourceRecordSetFailover::Primary => Some(Failover::Primary),
            ResourceRecordSetFailover::Secondary => Some(Failover::Secondary),
            _ => None,
        }),
        health_check_id,
    }
}

/// Whether the live record set is exactly the one `args` declare: the same values and TTL
/// (or the same alias target), failover role and health check, and no routing policy
/// strata does not model. Records carry no tags: this is the only sign that an interrupted
/// create made it.
fn is_declared(live: &ResourceRecordSet, args: &RecordArgs) -> Result<bool, ProviderError> {
    let other_routing = live.weight().is_some()
        || live.region().is_some()
        || live.geo_location().is_some()
        || live.multi_value_answer().is_some()
        || live.traffic_policy_instance_id().is_some()
        || live.cidr_routing_config().is_some()
        || live.geo_proximity_location().is_some();
    let failover = live.failover().and_then(|f| match f {
        ResourceRecordSetFailover::Primary => Some(Failover::Primary),
        ResourceRecordSetFailover::Secondary => Some(Failover::Secondary),
        _ => None,
    });
    let health_check = args
        .health_check_id
        .as_ref()
        .map(|h| h.value().cloned())
        .transpose()?;
    if other_routing
        || failover != args.failover
        || live.health_check_id() != health_check.as_deref()
    {
        return Ok(false);
    }
    Ok(match (&args.alias, live.alias_target()) {
        (Some(a), Some(t)) => {
            normalize(a.dns_name.value()?) == normalize(t.dns_name())
                && bare_zone_id(a.zone_id.value()?) == bare_zone_id(t.hosted_zone_id())
                && a.evaluate_target_health == t.evaluate_target_health()
        }
        (None, None) => {
            let values: Vec<String> = live
                .resource_records()
                .iter()
                .map(|r| r.value().to_owned())
                .collect();
            live.ttl() == args.ttl && same_values(args, &values)
        }
        _ => false,
    })
}

/// The error of a CREATE refused because the record set exists: it was not made by this
/// resource, and nothing of it changed.
fn taken(key: &Key, e: ProviderError) -> ProviderError {
    let message = match e {
        ProviderError::Api { message, .. } => message,
        other => other.to_string(),
    };
    ProviderError::AlreadyExists {
        operation: "route53:ChangeResourceRecordSets".into(),
        message: format!(
            "hosted zone {} already has a {} record set {}{}, which this resource did not make; strata does not overwrite it (`import` takes it over): {message}",
            key.zone,
            key.ty.as_str(),
            key.name,
            key.set_identifier
                .as_deref()
                .map(|s| format!(" (set identifier {s})"))
                .unwrap_or_default(),
        ),
    }
}

/// `args` as `Record::diff` compares them: the name and the zone id as Route 53 does
/// (case, final dot and `/hostedzone/` make no difference).
fn comparable(args: &Value) -> Value {
    let mut v = args.clone();
    if let Some(Value::String(n)) = v.get_mut("name") {
        *n = normalize(n);
    }
    if let Some(Value::String(z)) = v.get_mut("zone_id") {
        *z = bare_zone_id(z).to_owned();
    }
    v
}

/// Whether the declared values, as sent, are the live ones (in any order).
fn same_values(d: &RecordArgs, live: &[String]) -> bool {
    let mut a: Vec<String> = d
        .records
        .iter()
        .map(|v| wire_value(d.record_type, v))
        .collect();
    let mut b = live.to_vec();
    a.sort();
    b.sort();
    a == b
}

async fn apply(
    client: &aws_sdk_route53::Client,
    zone: &str,
    changes: Vec<(ChangeAction, ResourceRecordSet)>,
) -> Result<(), ProviderError> {
    let changes = changes
        .into_iter()
        .map(|(action, set)| {
            Change::builder()
                .action(action)
                .resource_record_set(set)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(build_err)?;
    let out = client
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .map_err(build_err)?,
        )
        .send()
        .await
        .map_err(api_error("route53:ChangeResourceRecordSets"))?;
    wait_in_sync(client, out.change_info(), CHANGE_TIMEOUT).await
}

fn check_values(args: &RecordArgs, errs: &mut Vec<FieldError>) {
    for (k, v) in args.records.iter().enumerate() {
        let field = format!("records.{k}");
        let bad = match args.record_type {
            RecordType::A => v
                .parse::<Ipv4Addr>()
                .err()
                .map(|_| format!("{v:?} is not an IPv4 address")),
            RecordType::Aaaa => v
                .parse::<Ipv6Addr>()
                .err()
                .map(|_| format!("{v:?} is not an IPv6 address")),
            RecordType::Cname | RecordType::Ns | RecordType::Ptr => check_domain(v, false),
            RecordType::Mx => {
                let mut parts = v.split_whitespace();
                match (parts.next().map(str::parse::<u16>), parts.next(), parts.next()) {
                    (Some(Ok(_)), Some(host), None) => check_domain(host, false),
                    _ => Some(format!(
                        "{v:?}: an MX value is a priority (0-65535) and a host, like \"10 mail.example.com\""
                    )),
                }
            }
            _ if v.is_empty() => Some("an empty value".to_owned()),
            _ => None,
        };
        if let Some(m) = bad {
            errs.push(FieldError::new(field.clone(), m));
        }
        if v.len() > 4000 {
            errs.push(FieldError::new(
                field,
                "a value has at most 4000 characters",
            ));
        }
    }
}

#[async_trait]
impl Resource for Record {
    const TYPE: &'static str = "aws:route53/record";
    const REPLACE_ON: &'static [&'static str] = &["zone_id", "name"];
    /// A zone holds one record set per name, type and set identifier.
    const IDENTITY: &'static [&'static str] = &["zone_id", "name", "type", "set_identifier"];
    type Args = RecordArgs;
    type Outputs = RecordOutputs;

    fn validate(args: &RecordArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(m) = check_domain(&args.name, true) {
            errs.push(FieldError::new("name", m));
        }
        if args
            .zone_id
            .known()
            .is_some_and(|z| bare_zone_id(z).is_empty())
        {
            errs.push(FieldError::new("zone_id", "an empty hosted zone id"));
        }
        match &args.alias {
            Some(a) => {
                if args.ttl.is_some() || !args.records.is_empty() {
                    errs.push(FieldError::new(
                        "alias",
                        "an alias record takes neither a ttl nor records: Route 53 answers with the target's",
                    ));
                }
                if a.dns_name.known().is_some_and(|n| n.is_empty()) {
                    errs.push(FieldError::new("alias.dns_name", "an empty alias target"));
                }
                if a.zone_id
                    .known()
                    .is_some_and(|z| bare_zone_id(z).is_empty())
                {
                    errs.push(FieldError::new(
                        "alias.zone_id",
                        "an empty hosted zone id of the alias target",
                    ));
                }
                if a.evaluate_target_health
                    && a.zone_id.known().map(String::as_str) == Some(crate::CLOUDFRONT_ZONE_ID)
                {
                    errs.push(FieldError::new(
                        "alias.evaluate_target_health",
                        "Route 53 cannot evaluate the health of a CloudFront distribution",
                    ));
                }
            }
            None => {
                if args.records.is_empty() {
                    errs.push(FieldError::new(
                        "records",
                        "a record without an alias needs at least one value",
                    ));
                }
                if args.ttl.is_none() {
                    errs.push(FieldError::new(
                        "ttl",
                        "a record without an alias needs a TTL",
                    ));
                }
                check_values(args, &mut errs);
                if args.record_type == RecordType::Cname && args.records.len() > 1 {
                    errs.push(FieldError::new(
                        "records",
                        "a CNAME record has exactly one value",
                    ));
                }
            }
        }
        if let Some(t) = args.ttl {
            if !(0..=2_147_483_647).contains(&t) {
                errs.push(FieldError::new(
                    "ttl",
                    format!("{t}: a TTL is 0 to 2147483647 seconds"),
                ));
            }
        }
        match (&args.failover, &args.set_identifier) {
            (Some(_), None) => errs.push(FieldError::new(
                "set_identifier",
                "failover routing needs a set identifier",
            )),
            (None, Some(_)) => errs.push(FieldError::new(
                "failover",
                "a set identifier goes with a routing policy (strata models failover)",
            )),
            _ => {}
        }
        if let Some(s) = &args.set_identifier {
            if s.is_empty() || s.len() > 128 {
                errs.push(FieldError::new(
                    "set_identifier",
                    "a set identifier has 1 to 128 characters",
                ));
            }
        }
        if args
            .health_check_id
            .as_ref()
            .and_then(Input::known)
            .is_some_and(|h| h.is_empty())
        {
            errs.push(FieldError::new(
                "health_check_id",
                "an empty health check id",
            ));
        }
        errs
    }

    /// A record's name lies within its zone, and a CNAME is not at the zone apex: checked
    /// when the zone is a [`crate::HostedZone`] of the stack (whose name is then known).
    fn check_stack(stack: &StackView<'_>) -> Vec<(Urn, FieldError)> {
        let mut out = Vec::new();
        for r in stack.of_type(Self::TYPE) {
            let Some(zone) = r
                .reference("zone_id")
                .and_then(|u| stack.get(u))
                .filter(|z| z.type_name() == crate::HostedZone::TYPE)
            else {
                continue;
            };
            let (Some(zone_name), Some(name)) = (
                zone.literal("name").and_then(Value::as_str),
                r.literal("name").and_then(Value::as_str),
            ) else {
                continue;
            };
            if !in_zone(name, zone_name) {
                out.push((
                    r.urn().clone(),
                    FieldError::new(
                        "name",
                        format!("{name:?} is not within the zone {zone_name:?}"),
                    ),
                ));
            } else if normalize(name) == normalize(zone_name)
                && r.literal("type").and_then(Value::as_str) == Some("CNAME")
            {
                out.push((
                    r.urn().clone(),
                    FieldError::new(
                        "type",
                        format!(
                            "a CNAME cannot be at the zone apex {zone_name:?}: use an alias A record"
                        ),
                    ),
                ));
            }
        }
        out
    }

    /// A change of the name's case or final dot (or of a `/hostedzone/` prefix) is no
    /// change: Route 53 sees the same record set, which a replacement would create and then
    /// delete.
    fn diff(old: &Value, new: &Value) -> Vec<PropertyChange> {
        diff_values(&comparable(old), &comparable(new), Self::REPLACE_ON)
    }

    fn estimate(_: &RecordArgs) -> Duration {
        Duration::from_secs(30)
    }

    /// A `CREATE`: a record set of the same name, type and set identifier in the zone
    /// fails it ([`ProviderError::AlreadyExists`]), and is left as it is.
    async fn create(
        cx: &Cx<'_>,
        args: &RecordArgs,
    ) -> Result<Created<RecordOutputs>, ProviderError> {
        let client = route53(cx)?;
        let key = Key::of(args)?;
        match apply(
            &client,
            &key.zone,
            vec![(ChangeAction::Create, record_set(args)?)],
        )
        .await
        {
            Ok(()) => {}
            Err(e) if record_exists(&e) => return Err(taken(&key, e)),
            Err(e) => return Err(e),
        }
        Ok(Created {
            id: key.id(),
            outputs: RecordOutputs { fqdn: key.name },
        })
    }

    /// Records have no tags and take no token: the record set of these args is this
    /// create's only when every property is the declared one (`is_declared`); another
    /// record set of the same name, type and set identifier is not ours: `Absent`.
    async fn recover(
        cx: &Cx<'_>,
        args: &RecordArgs,
    ) -> Result<Recovery<RecordOutputs>, ProviderError> {
        let key = Key::of(args)?;
        Ok(match find(&route53(cx)?, &key).await? {
            Some(live) if is_declared(&live, args)? => Recovery::Resembles(Created {
                id: key.id(),
                outputs: RecordOutputs { fqdn: key.name },
            }),
            _ => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&RecordArgs>,
    ) -> Result<Option<Observed<RecordArgs, RecordOutputs>>, ProviderError> {
        let key = match args {
            Some(a) => Key::of(a)?,
            None => Key::parse(id).ok_or_else(|| ProviderError::Invalid {
                field: "id".into(),
                message: format!("{id:?} is not ZONEID_NAME_TYPE[_SETIDENTIFIER]"),
            })?,
        };
        let Some(live) = find(&route53(cx)?, &key).await? else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: observed(&live, &key, args),
            outputs: RecordOutputs {
                fqdn: key.name.clone(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        _: &str,
        old: &RecordArgs,
        new: &RecordArgs,
        outputs: &RecordOutputs,
    ) -> Result<RecordOutputs, ProviderError> {
        let client = route53(cx)?;
        let (old_key, new_key) = (Key::of(old)?, Key::of(new)?);
        let set = record_set(new)?;
        let changes = if old_key == new_key {
            // The record set this resource made (it is in state): UPSERT changes it.
            vec![(ChangeAction::Upsert, set)]
        } else {
            // Another type or set identifier: one batch deletes exactly the old record set
            // (as it is live: a DELETE must match it) and CREATEs the new one, which fails
            // the whole batch, changing nothing, if that one exists already.
            let mut c = Vec::new();
            if let Some(live) = find(&client, &old_key).await? {
                c.push((ChangeAction::Delete, live));
            }
            c.push((ChangeAction::Create, set));
            c
        };
        match apply(&client, &new_key.zone, changes).await {
            Ok(()) => Ok(outputs.clone()),
            Err(e) if old_key != new_key && record_exists(&e) => Err(taken(&new_key, e)),
            Err(e) => Err(e),
        }
    }

    async fn delete(
        cx: &Cx<'_>,
        _: &str,
        args: &RecordArgs,
        _: &RecordOutputs,
    ) -> Result<(), ProviderError> {
        let client = route53(cx)?;
        let key = Key::of(args)?;
        let Some(live) = find(&client, &key).await? else {
            return Ok(());
        };
        match apply(&client, &key.zone, vec![(ChangeAction::Delete, live)]).await {
            Ok(()) => Ok(()),
            Err(ProviderError::Api { code: Some(c), .. }) if gone(Some(&c)) => Ok(()),
            // Deleted in between: "it was not found".
            Err(ProviderError::Api {
                code: Some(c),
                message,
                ..
            }) if c == "InvalidChangeBatch" && message.contains("not found") => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_with_underscores_in_names() {
        let k = Key {
            zone: "Z123".into(),
            name: "_dmarc.shop.example.com".into(),
            ty: RecordType::Txt,
            set_identifier: Some("eu_1".into()),
        };
        assert_eq!(k.id(), "Z123__dmarc.shop.example.com_TXT_eu_1");
        assert_eq!(Key::parse(&k.id()), Some(k));
        let plain = Key::parse("Z123_www.shop.example.com_A").unwrap();
        assert_eq!(
            (plain.name.as_str(), plain.ty, plain.set_identifier),
            ("www.shop.example.com", RecordType::A, None)
        );
    }

    #[test]
    fn txt_values_are_quoted_and_split() {
        let long = "x".repeat(300);
        let w = wire_value(RecordType::Txt, &long);
        assert!(w.starts_with('"') && w.contains("\" \""));
        assert_eq!(unwire_value(RecordType::Txt, &w), long);
        assert_eq!(wire_value(RecordType::Txt, "a \"b\""), "\"a \\\"b\\\"\"");
        assert_eq!(unwire_value(RecordType::Txt, "\"a \\\"b\\\"\""), "a \"b\"");
        assert_eq!(wire_value(RecordType::A, "1.2.3.4"), "1.2.3.4");
    }
}
