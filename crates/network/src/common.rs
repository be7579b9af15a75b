//! What the network types share: the EC2 client, CIDRs, tags, recovery by token tag (the
//! proof of ownership), the refusal of a taken identity and "not found" codes.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{Cx, ProviderError};

/// The token tag: EC2's `ClientToken` cannot be searched, the tag can.
pub(crate) use strata_core::aws::TOKEN_TAG;

/// An IPv4 CIDR block, as declared. It is parsed (with `ipnet`) when the stack is
/// sealed, so `"10.0.0.0/33"` is a declaration error naming the resource and the field,
/// never a panic or an AWS error.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cidr(String);

impl Cidr {
    /// The parsed network, or why it is not one. A block with host bits set
    /// (`10.0.1.5/24`) is refused, as AWS does.
    pub fn net(&self) -> Result<Ipv4Net, String> {
        let net: Ipv4Net = self
            .0
            .parse()
            .map_err(|_| format!("{:?} is not an IPv4 CIDR block (a.b.c.d/n)", self.0))?;
        if net.trunc() != net {
            return Err(format!(
                "{:?} has host bits set: the block is {}",
                self.0,
                net.trunc()
            ));
        }
        Ok(net)
    }

    /// The text of the block.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Cidr {
    fn from(s: &str) -> Self {
        Cidr(s.to_owned())
    }
}

impl From<String> for Cidr {
    fn from(s: String) -> Self {
        Cidr(s)
    }
}

impl From<Ipv4Net> for Cidr {
    fn from(n: Ipv4Net) -> Self {
        Cidr(n.to_string())
    }
}

pub(crate) fn ec2(cx: &Cx<'_>) -> Result<aws_sdk_ec2::Client, ProviderError> {
    cx.client(aws_sdk_ec2::Client::new)
}

/// The region and account of ARNs.
pub(crate) fn arn(cx: &Cx<'_>, owner: &str, kind: &str, id: &str) -> String {
    let region = cx
        .aws()
        .ok()
        .and_then(|c| c.region().map(ToString::to_string))
        .unwrap_or_default();
    format!("arn:aws:ec2:{region}:{owner}:{kind}/{id}")
}

/// The tag specification of a create: the user's tags, `strata:stack`, `strata:urn` and
/// the create's token.
pub(crate) fn tag_spec(
    cx: &Cx<'_>,
    kind: ResourceType,
    tags: &BTreeMap<String, String>,
) -> TagSpecification {
    let all = cx.create_tags(tags);
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            all.into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build()
}

/// The user's tags among `tags` (without the `strata:` ones).
pub(crate) fn user_tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .filter(|(k, _)| strata_core::aws::is_user_tag(k))
        .collect()
}

/// Makes the user tags of `id` go from `old` to `new`.
pub(crate) async fn update_tags(
    client: &aws_sdk_ec2::Client,
    id: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let (removed, changed) = strata_core::aws::tag_changes(old, new);
    let removed: Vec<Tag> = removed
        .into_iter()
        .map(|k| Tag::builder().key(k).build())
        .collect();
    if !removed.is_empty() {
        client
            .delete_tags()
            .resources(id)
            .set_tags(Some(removed))
            .send()
            .await
            .map_err(api_error("ec2:DeleteTags"))?;
    }
    let changed: Vec<Tag> = changed
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !changed.is_empty() {
        client
            .create_tags()
            .resources(id)
            .set_tags(Some(changed))
            .send()
            .await
            .map_err(api_error("ec2:CreateTags"))?;
    }
    Ok(())
}

/// The filter for resources made by the create with `cx.token`.
pub(crate) fn token_filter(cx: &Cx<'_>) -> Filter {
    Filter::builder()
        .name(format!("tag:{TOKEN_TAG}"))
        .values(cx.token)
        .build()
}

/// Whether tags read from EC2 prove that the create with `cx.token` made the resource:
/// its `strata:token` tag is that token. The server-side [`token_filter`] narrows a
/// search; this is the proof, checked on what came back (a filter that is ignored, as
/// moto 5.2.5 ignores tag filters on NAT gateways, must not make a stranger ours).
pub(crate) fn owned(cx: &Cx<'_>, tags: &[Tag]) -> bool {
    cx.owns(tags.iter().filter_map(|t| Some((t.key()?, t.value()?))))
}

/// A filter on one value.
pub(crate) fn filter(name: &str, value: impl Into<String>) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// Whether `e` says the resource does not exist (`InvalidVpcID.NotFound`, …).
pub(crate) fn not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code()
        .is_some_and(|c| c.ends_with(".NotFound") || c.ends_with("NotFound"))
}

pub(crate) use strata_core::aws::check_tags;

/// Runs a delete call until it succeeds or finds nothing, retrying while AWS reports
/// `DependencyViolation` (ENIs and attachments go away a few seconds after their owners),
/// for up to five minutes.
pub(crate) async fn delete_retrying<F, Fut, T, E>(
    what: String,
    operation: &'static str,
    mut call: F,
) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: ProvideErrorMetadata + std::error::Error,
{
    strata_core::aws::wait_for(
        format!("{what} to be deletable"),
        std::time::Duration::from_secs(300),
        std::time::Duration::from_secs(5),
        || {
            let fut = call();
            let what = what.clone();
            async move {
                match fut.await {
                    Ok(_) => Ok(Some(())),
                    Err(e) if not_found(&e) => Ok(Some(())),
                    Err(e) if e.code() == Some("DependencyViolation") => {
                        tracing::debug!("{what} still has dependencies; retrying");
                        Ok(None)
                    }
                    Err(e) => Err(api_error(operation)(e)),
                }
            }
        },
    )
    .await
}
