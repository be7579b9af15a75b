//! `HostedZone`: a Route 53 hosted zone, public or private to VPCs.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_route53::error::ProvideErrorMetadata;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HostedZoneConfig, ResourceRecordSet, RrType,
    TagResourceType, Vpc, VpcRegion,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::{api_error, check_tags, user_tags};
use strata_core::diff::{diff_values, PropertyChange};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::route53_common::{
    bare_zone_id, change_tags, check_domain, gone, normalize, route53, tags, update_tags,
    wait_in_sync, CHANGE_TIMEOUT,
};

/// A Route 53 hosted zone.
///
/// A zone with no VPC is public; a zone declared with VPCs is private to them. Route 53
/// makes that choice when the zone is created, so going from no VPC to some (or back)
/// replaces the zone; adding or removing VPCs of a private zone is in place (it keeps at
/// least one). The comment and the tags change in place; the name replaces.
///
/// The create's `CallerReference` is the engine's idempotency token, by which an
/// interrupted create is found again.
///
/// `delete` of a zone that holds records other than its own SOA and NS records fails,
/// naming `force_destroy`, unless `force_destroy` is set: then those records are deleted
/// first. Records strata manages ([`crate::Record`]) are deleted before their zone anyway.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::HostedZone;
/// let mut s = Stack::new("dev");
/// let zone = s.add("zone", HostedZone::new("shop.example.com").comment("the shop"));
/// ```
#[derive(Debug)]
pub struct HostedZone;

/// A VPC a private zone is associated with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneVpc {
    /// The VPC's id.
    pub vpc_id: Input<String>,
    /// The VPC's region (`eu-central-1`).
    pub region: String,
}

/// The args of a [`HostedZone`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostedZoneArgs {
    /// The domain (`shop.example.com`); Route 53 keeps it in lowercase.
    pub name: String,
    /// A comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// The VPCs of a private zone (none: a public zone).
    #[serde(default)]
    pub vpcs: Vec<ZoneVpc>,
    /// Delete the zone's records (other than its SOA and NS) before the zone. Off by
    /// default: a zone with records is not deleted.
    #[serde(default)]
    pub force_destroy: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl HostedZone {
    /// A public zone for `name`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>) -> HostedZoneArgs {
        HostedZoneArgs {
            name: name.into(),
            comment: None,
            vpcs: Vec::new(),
            force_destroy: false,
            tags: BTreeMap::new(),
        }
    }
}

impl HostedZoneArgs {
    /// Sets the comment.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
    /// Makes the zone private to (also) this VPC.
    pub fn private_vpc(
        mut self,
        vpc_id: impl Into<Input<String>>,
        region: impl Into<String>,
    ) -> Self {
        self.vpcs.push(ZoneVpc {
            vpc_id: vpc_id.into(),
            region: region.into(),
        });
        self
    }
    /// Sets whether delete removes the zone's records first.
    pub fn force_destroy(mut self, on: bool) -> Self {
        self.force_destroy = on;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for HostedZoneArgs {
    type Resource = HostedZone;
}

/// The outputs of a [`HostedZone`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostedZoneOutputs {
    /// The zone id (`Z0123456789ABC`, without `/hostedzone/`); also the provider id.
    pub zone_id: String,
    /// The domain, lowercase, without the final dot.
    pub name: String,
    /// The name servers to delegate to (none for a private zone).
    pub name_servers: Vec<String>,
    /// `arn:aws:route53:::hostedzone/ID`.
    pub arn: String,
}

strata_core::outputs!(HostedZone => HostedZoneHandle {
    /// The zone id.
    zone_id: String,
    /// The domain.
    name: String,
    /// The name servers.
    name_servers: Vec<String>,
    /// The ARN.
    arn: String,
});

fn vpc(v: &ZoneVpc) -> Result<Vpc, ProviderError> {
    Ok(Vpc::builder()
        .vpc_id(v.vpc_id.value()?)
        .vpc_region(VpcRegion::from(v.region.as_str()))
        .build())
}

fn vpc_key(v: &ZoneVpc) -> Result<(String, String), ProviderError> {
    Ok((v.vpc_id.value()?.clone(), v.region.clone()))
}

async fn outputs(
    client: &aws_sdk_route53::Client,
    id: &str,
) -> Result<
    Option<(
        HostedZoneOutputs,
        aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneOutput,
    )>,
    ProviderError,
> {
    let out = match client.get_hosted_zone().id(id).send().await {
        Ok(o) => o,
        Err(e) if gone(e.code()) => return Ok(None),
        Err(e) => return Err(api_error("route53:GetHostedZone")(e)),
    };
    let Some(z) = out.hosted_zone() else {
        return Ok(None);
    };
    let zone_id = bare_zone_id(z.id()).to_owned();
    let o = HostedZoneOutputs {
        arn: format!("arn:aws:route53:::hostedzone/{zone_id}"),
        name: normalize(z.name()),
        name_servers: out
            .delegation_set()
            .map(|d| d.name_servers().to_vec())
            .unwrap_or_default(),
        zone_id,
    };
    Ok(Some((o, out)))
}

async fn by_caller_reference(
    client: &aws_sdk_route53::Client,
    token: &str,
) -> Result<Option<String>, ProviderError> {
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_hosted_zones()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(api_error("route53:ListHostedZones"))?;
        if let Some(z) = page
            .hosted_zones()
            .iter()
            .find(|z| z.caller_reference() == token)
        {
            return Ok(Some(bare_zone_id(z.id()).to_owned()));
        }
        match page.next_marker() {
            Some(m) if page.is_truncated() && !m.is_empty() => marker = Some(m.to_owned()),
            _ => return Ok(None),
        }
    }
}

/// Every record set of the zone.
pub(crate) async fn all_records(
    client: &aws_sdk_route53::Client,
    zone_id: &str,
) -> Result<Vec<ResourceRecordSet>, ProviderError> {
    let mut out = Vec::new();
    let mut start: Option<(String, RrType, Option<String>)> = None;
    loop {
        let mut call = client.list_resource_record_sets().hosted_zone_id(zone_id);
        if let Some((name, ty, ident)) = start.take() {
            call = call
                .start_record_name(name)
                .start_record_type(ty)
                .set_start_record_identifier(ident);
        }
        let page = call
            .send()
            .await
            .map_err(api_error("route53:ListResourceRecordSets"))?;
        out.extend(page.resource_record_sets().iter().cloned());
        match (
            page.is_truncated(),
            page.next_record_name(),
            page.next_record_type(),
        ) {
            (true, Some(n), Some(t)) => {
                start = Some((
                    n.to_owned(),
                    t.clone(),
                    page.next_record_identifier().map(str::to_owned),
                ))
            }
            _ => return Ok(out),
        }
    }
}

/// Deletes every record set but the zone's own SOA and NS records.
async fn empty(
    client: &aws_sdk_route53::Client,
    zone_id: &str,
    zone_name: &str,
) -> Result<(), ProviderError> {
    let records = all_records(client, zone_id).await?;
    let doomed: Vec<ResourceRecordSet> = records
        .into_iter()
        .filter(|r| {
            let apex = normalize(r.name()) == normalize(zone_name);
            !(apex && matches!(r.r#type(), RrType::Soa | RrType::Ns))
        })
        .collect();
    for chunk in doomed.chunks(100) {
        let changes = chunk
            .iter()
            .map(|r| {
                Change::builder()
                    .action(ChangeAction::Delete)
                    .resource_record_set(r.clone())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ProviderError::Other(e.to_string()))?;
        let out = client
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(
                ChangeBatch::builder()
                    .set_changes(Some(changes))
                    .comment("strata: force_destroy of the zone")
                    .build()
                    .map_err(|e| ProviderError::Other(e.to_string()))?,
            )
            .send()
            .await
            .map_err(api_error("route53:ChangeResourceRecordSets"))?;
        wait_in_sync(client, out.change_info(), CHANGE_TIMEOUT).await?;
    }
    Ok(())
}

fn region_like(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
}

#[async_trait]
impl Resource for HostedZone {
    const TYPE: &'static str = "aws:route53/hosted-zone";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    type Args = HostedZoneArgs;
    type Outputs = HostedZoneOutputs;

    fn validate(args: &HostedZoneArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(m) = check_domain(&args.name, false) {
            errs.push(FieldError::new("name", m));
        }
        if args.comment.as_ref().is_some_and(|c| c.len() > 256) {
            errs.push(FieldError::new("comment", "at most 256 characters"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (k, v) in args.vpcs.iter().enumerate() {
            if !region_like(&v.region) {
                errs.push(FieldError::new(
                    format!("vpcs.{k}.region"),
                    format!("{:?} is not an AWS region (like eu-central-1)", v.region),
                ));
            }
            if let Some(id) = v.vpc_id.known() {
                if !id.starts_with("vpc-") {
                    errs.push(FieldError::new(
                        format!("vpcs.{k}.vpc_id"),
                        format!("{id:?} is not a VPC id (vpc-…)"),
                    ));
                }
                if !seen.insert(id.clone()) {
                    errs.push(FieldError::new(
                        format!("vpcs.{k}.vpc_id"),
                        format!("{id} is associated twice"),
                    ));
                }
            }
        }
        errs.extend(check_tags(&args.tags));
        errs
    }

    /// The name replaces, and so does going from public to private or back (no VPC to
    /// some, or some to none); the rest is in place.
    fn diff(old: &Value, new: &Value) -> Vec<PropertyChange> {
        let private = |v: &Value| {
            v.get("vpcs")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        };
        let mut changes = diff_values(old, new, Self::REPLACE_ON);
        if private(old) != private(new) {
            for c in &mut changes {
                if c.path.starts_with("vpcs") {
                    c.replaces = true;
                }
            }
        }
        changes
    }

    fn estimate(_: &HostedZoneArgs) -> Duration {
        Duration::from_secs(40)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &HostedZoneArgs,
    ) -> Result<Created<HostedZoneOutputs>, ProviderError> {
        let client = route53(cx)?;
        let mut call = client
            .create_hosted_zone()
            .name(normalize(&args.name))
            .caller_reference(cx.token);
        if args.comment.is_some() || !args.vpcs.is_empty() {
            call = call.hosted_zone_config(
                HostedZoneConfig::builder()
                    .set_comment(args.comment.clone())
                    .private_zone(!args.vpcs.is_empty())
                    .build(),
            );
        }
        if let Some(first) = args.vpcs.first() {
            call = call.vpc(vpc(first)?);
        }
        let id = match call.send().await {
            Ok(out) => {
                wait_in_sync(&client, out.change_info(), CHANGE_TIMEOUT).await?;
                out.hosted_zone()
                    .map(|z| bare_zone_id(z.id()).to_owned())
                    .ok_or_else(|| {
                        ProviderError::Other("CreateHostedZone returned no zone".into())
                    })?
            }
            // A retried create with the same token: the zone is ours.
            Err(e) if e.code() == Some("HostedZoneAlreadyExists") => {
                match by_caller_reference(&client, cx.token).await? {
                    Some(id) => id,
                    None => return Err(api_error("route53:CreateHostedZone")(e)),
                }
            }
            Err(e) => return Err(api_error("route53:CreateHostedZone")(e)),
        };
        for v in args.vpcs.iter().skip(1) {
            let out = client
                .associate_vpc_with_hosted_zone()
                .hosted_zone_id(&id)
                .vpc(vpc(v)?)
                .send()
                .await
                .map_err(api_error("route53:AssociateVPCWithHostedZone"))?;
            wait_in_sync(&client, out.change_info(), CHANGE_TIMEOUT).await?;
        }
        change_tags(
            &client,
            TagResourceType::Hostedzone,
            &id,
            &cx.create_tags(&args.tags),
            &[],
        )
        .await?;
        let (outputs, _) = outputs(&client, &id)
            .await?
            .ok_or_else(|| ProviderError::NotFound(format!("hosted zone {id}")))?;
        Ok(Created { id, outputs })
    }

    /// Found again by its `CallerReference`, the create's token.
    async fn recover(
        cx: &Cx<'_>,
        args: &HostedZoneArgs,
    ) -> Result<Recovery<HostedZoneOutputs>, ProviderError> {
        let client = route53(cx)?;
        let Some(id) = by_caller_reference(&client, cx.token).await? else {
            return Ok(Recovery::Absent);
        };
        // The crash may have come before the tags: they are set again (idempotent). Missing
        // VPC associations show in the read, and the next plan adds them.
        change_tags(
            &client,
            TagResourceType::Hostedzone,
            &id,
            &cx.create_tags(&args.tags),
            &[],
        )
        .await?;
        Ok(match outputs(&client, &id).await? {
            Some((outputs, _)) => Recovery::Found(Created { id, outputs }),
            None => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&HostedZoneArgs>,
    ) -> Result<Option<Observed<HostedZoneArgs, HostedZoneOutputs>>, ProviderError> {
        let client = route53(cx)?;
        let Some((outputs, out)) = outputs(&client, id).await? else {
            return Ok(None);
        };
        let zone = out.hosted_zone();
        let name = match args {
            Some(a) if normalize(&a.name) == outputs.name => a.name.clone(),
            _ => outputs.name.clone(),
        };
        let comment = zone
            .and_then(|z| z.config())
            .and_then(|c| c.comment())
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let private = zone
            .and_then(|z| z.config())
            .is_some_and(|c| c.private_zone());
        let live: Vec<ZoneVpc> = if private {
            out.vpcs()
                .iter()
                .map(|v| ZoneVpc {
                    vpc_id: Input::Value(v.vpc_id().unwrap_or_default().to_owned()),
                    region: v
                        .vpc_region()
                        .map(|r| r.as_str().to_owned())
                        .unwrap_or_default(),
                })
                .collect()
        } else {
            Vec::new()
        };
        // Keep the declared order (and inputs) when the associations are the same.
        let declared = args.map(|a| {
            a.vpcs
                .iter()
                .map(vpc_key)
                .collect::<Result<std::collections::BTreeSet<_>, _>>()
        });
        let live_keys = live
            .iter()
            .map(vpc_key)
            .collect::<Result<std::collections::BTreeSet<_>, _>>()?;
        let vpcs = match (args, declared) {
            (Some(a), Some(Ok(d))) if d == live_keys && d.len() == a.vpcs.len() => a.vpcs.clone(),
            _ => live,
        };
        let all = tags(&client, TagResourceType::Hostedzone, id).await?;
        Ok(Some(Observed {
            args: HostedZoneArgs {
                name,
                comment,
                vpcs,
                force_destroy: args.is_some_and(|a| a.force_destroy),
                tags: user_tags(all.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            },
            outputs,
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &HostedZoneArgs,
        new: &HostedZoneArgs,
        outputs: &HostedZoneOutputs,
    ) -> Result<HostedZoneOutputs, ProviderError> {
        let client = route53(cx)?;
        if old.comment != new.comment {
            client
                .update_hosted_zone_comment()
                .id(id)
                .set_comment(new.comment.clone())
                .send()
                .await
                .map_err(api_error("route53:UpdateHostedZoneComment"))?;
        }
        let old_vpcs = old
            .vpcs
            .iter()
            .map(vpc_key)
            .collect::<Result<Vec<_>, _>>()?;
        let new_vpcs = new
            .vpcs
            .iter()
            .map(vpc_key)
            .collect::<Result<Vec<_>, _>>()?;
        // Associate first, so that the zone always keeps a VPC.
        for (v, key) in new.vpcs.iter().zip(&new_vpcs) {
            if !old_vpcs.contains(key) {
                let out = client
                    .associate_vpc_with_hosted_zone()
                    .hosted_zone_id(id)
                    .vpc(vpc(v)?)
                    .send()
                    .await
                    .map_err(api_error("route53:AssociateVPCWithHostedZone"))?;
                wait_in_sync(&client, out.change_info(), CHANGE_TIMEOUT).await?;
            }
        }
        for (v, key) in old.vpcs.iter().zip(&old_vpcs) {
            if !new_vpcs.contains(key) {
                let out = client
                    .disassociate_vpc_from_hosted_zone()
                    .hosted_zone_id(id)
                    .vpc(vpc(v)?)
                    .send()
                    .await
                    .map_err(api_error("route53:DisassociateVPCFromHostedZone"))?;
                wait_in_sync(&client, out.change_info(), CHANGE_TIMEOUT).await?;
            }
        }
        update_tags(
            &client,
            TagResourceType::Hostedzone,
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
        args: &HostedZoneArgs,
        outputs: &HostedZoneOutputs,
    ) -> Result<(), ProviderError> {
        let client = route53(cx)?;
        if args.force_destroy {
            match empty(&client, id, &outputs.name).await {
                Ok(()) => {}
                Err(ProviderError::Api { code: Some(c), .. }) if gone(Some(&c)) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        match client.delete_hosted_zone().id(id).send().await {
            Ok(out) => wait_in_sync(&client, out.change_info(), CHANGE_TIMEOUT).await,
            Err(e) if gone(e.code()) => Ok(()),
            Err(e) if e.code() == Some("HostedZoneNotEmpty") => Err(ProviderError::Invalid {
                field: "force_destroy".into(),
                message: format!(
                    "hosted zone {} ({id}) holds records other than its SOA and NS; strata deletes them only when force_destroy is set",
                    outputs.name
                ),
            }),
            Err(e) => Err(api_error("route53:DeleteHostedZone")(e)),
        }
    }
}
