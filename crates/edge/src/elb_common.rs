//! What the load-balancing, WAF and ACM types share: their SDK clients (ACM and WAF with a
//! region override, for what CloudFront needs in us-east-1), ELBv2 tags, name, region and
//! domain name checks, and keeping declared inputs on read.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::Tag;
use strata_core::aws::{api_error, is_user_tag, tag_changes};
use strata_core::{Cx, FieldError, Input, ProviderError};

/// The region of CloudFront's certificates and web ACLs.
pub(crate) const CLOUDFRONT_REGION: &str = "us-east-1";

pub(crate) fn elbv2(cx: &Cx<'_>) -> Result<aws_sdk_elasticloadbalancingv2::Client, ProviderError> {
    cx.client(aws_sdk_elasticloadbalancingv2::Client::new)
}

/// An ACM client in `region` (the configuration's region when `None`).
pub(crate) fn acm(cx: &Cx<'_>, region: Option<&str>) -> Result<aws_sdk_acm::Client, ProviderError> {
    cx.client(|c| match region {
        Some(r) => aws_sdk_acm::Client::from_conf(
            aws_sdk_acm::config::Builder::from(c)
                .region(aws_sdk_acm::config::Region::new(r.to_owned()))
                .build(),
        ),
        None => aws_sdk_acm::Client::new(c),
    })
}

/// A WAFv2 client in `region` (the configuration's region when `None`).
pub(crate) fn wafv2(
    cx: &Cx<'_>,
    region: Option<&str>,
) -> Result<aws_sdk_wafv2::Client, ProviderError> {
    cx.client(|c| match region {
        Some(r) => aws_sdk_wafv2::Client::from_conf(
            aws_sdk_wafv2::config::Builder::from(c)
                .region(aws_sdk_wafv2::config::Region::new(r.to_owned()))
                .build(),
        ),
        None => aws_sdk_wafv2::Client::new(c),
    })
}

pub(crate) fn route53(cx: &Cx<'_>) -> Result<aws_sdk_route53::Client, ProviderError> {
    cx.client(aws_sdk_route53::Client::new)
}

/// The region field of an ARN (`arn:aws:SERVICE:REGION:ACCOUNT:…`), if it has one.
pub(crate) fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// Whether an ELBv2 error says the resource does not exist.
pub(crate) fn elb_not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code().is_some_and(|c| c.ends_with("NotFound"))
}

/// The tags of an ELBv2 create: the user's, `strata:stack`, `strata:urn`, `strata:token`.
pub(crate) fn elb_create_tags(cx: &Cx<'_>, tags: &BTreeMap<String, String>) -> Vec<Tag> {
    cx.create_tags(tags)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// All tags of an ELBv2 resource.
pub(crate) async fn elb_all_tags(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = client
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(api_error("elasticloadbalancing:DescribeTags"))?;
    Ok(out
        .tag_descriptions()
        .iter()
        .filter(|d| d.resource_arn() == Some(arn))
        .flat_map(|d| d.tags())
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect())
}

/// Whether the ELBv2 resource `arn` carries this create's `strata:token` tag: the only
/// proof that this very create made it (a name, or the `strata:urn` tag alone, is not).
pub(crate) async fn elb_owned(
    cx: &Cx<'_>,
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
) -> Result<bool, ProviderError> {
    let tags = elb_all_tags(client, arn).await?;
    Ok(cx.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

/// The error of a create that found its name (or port) taken by something it did not
/// make: nothing was changed, and the engine then asks `recover`, which adopts only what
/// carries the create's token.
pub(crate) fn taken(operation: &str, message: String) -> ProviderError {
    ProviderError::AlreadyExists {
        operation: operation.to_owned(),
        message,
    }
}

/// The user's tags of an ELBv2 resource.
pub(crate) fn user_only(tags: BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.into_iter().filter(|(k, _)| is_user_tag(k)).collect()
}

/// Makes the user tags of an ELBv2 resource go from `old` to `new`.
pub(crate) async fn elb_update_tags(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let (removed, set) = tag_changes(old, new);
    if !removed.is_empty() {
        client
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(api_error("elasticloadbalancing:RemoveTags"))?;
    }
    if !set.is_empty() {
        client
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(
                set.into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(api_error("elasticloadbalancing:AddTags"))?;
    }
    Ok(())
}

/// Load balancer and target group names: 1 to 32 letters, digits or hyphens, not starting
/// or ending with a hyphen (AWS's `CreateLoadBalancer`/`CreateTargetGroup` rules).
pub(crate) fn check_elb_name(errs: &mut Vec<FieldError>, name: &str) {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        errs.push(FieldError::new(
            "name",
            format!("{name:?}: 1 to 32 letters, digits or hyphens, not starting or ending with a hyphen"),
        ));
    }
}

/// An AWS region name such as `eu-central-1` or `us-gov-west-1`.
pub(crate) fn check_region(errs: &mut Vec<FieldError>, field: &str, region: &str) {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts
            .first()
            .is_some_and(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts.last().is_some_and(|p| {
            !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit())
        })
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()));
    if !ok {
        errs.push(FieldError::new(
            field,
            format!("{region:?} is not an AWS region name (like eu-central-1)"),
        ));
    }
}

/// Checks a DNS name as ACM takes it: at most 253 characters, at least two labels of 1 to
/// 63 letters, digits or hyphens (not at a label's ends), and a `*` only as the whole
/// leftmost label. Returns the reason it is refused.
pub(crate) fn domain_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 253 {
        return Some(format!("{name:?}: a domain name has 1 to 253 characters"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Some(format!(
            "{name:?}: a domain name has at least two labels (example.com)"
        ));
    }
    for (k, label) in labels.iter().enumerate() {
        if *label == "*" {
            if k == 0 {
                continue;
            }
            return Some(format!(
                "{name:?}: a wildcard is allowed only as the leftmost label (*.example.com)"
            ));
        }
        if label.is_empty() || label.len() > 63 {
            return Some(format!("{name:?}: each label has 1 to 63 characters"));
        }
        if label.contains('*') {
            return Some(format!(
                "{name:?}: a wildcard is allowed only as the whole leftmost label (*.example.com)"
            ));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Some(format!(
                "{name:?}: labels have letters, digits and hyphens, not at their ends"
            ));
        }
    }
    if labels.last().is_some_and(|l| l.len() < 2) {
        return Some(format!(
            "{name:?}: the top-level domain has at least two characters"
        ));
    }
    if labels.len() == 2 && labels[0] == "*" {
        return Some(format!(
            "{name:?}: a wildcard needs a domain below a top-level domain (*.example.com)"
        ));
    }
    None
}

/// The values of inputs that the engine resolved.
pub(crate) fn resolved(inputs: &[Input<String>]) -> Result<Vec<String>, ProviderError> {
    inputs
        .iter()
        .map(|i| i.value().cloned().map_err(Into::into))
        .collect()
}

/// Whether two lists hold the same items, in any order.
pub(crate) fn same_set(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

/// What read reports for a list of inputs: the declared inputs (their order, their
/// references) when the live values are the same set, else the live values.
pub(crate) fn keep_declared(
    declared: Option<&[Input<String>]>,
    live: Vec<String>,
) -> Vec<Input<String>> {
    match declared {
        Some(d) if resolved(d).is_ok_and(|v| same_set(&v, &live)) => d.to_vec(),
        _ => live.into_iter().map(Input::Value).collect(),
    }
}

/// What read reports for one input: the declared input when the live value equals it.
pub(crate) fn keep_one(declared: Option<&Input<String>>, live: String) -> Input<String> {
    match declared {
        Some(d) if d.value().is_ok_and(|v| *v == live) => d.clone(),
        _ => Input::Value(live),
    }
}
