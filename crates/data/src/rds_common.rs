//! What the RDS types share: the client, tags by ARN, ownership, and name checks.

use std::collections::BTreeMap;

use aws_sdk_rds::types::Tag;
use strata_core::aws::api_error;
use strata_core::{Cx, FieldError, ProviderError};

pub(crate) fn rds(cx: &Cx<'_>) -> Result<aws_sdk_rds::Client, ProviderError> {
    cx.client(aws_sdk_rds::Client::new)
}

/// The tags of a create: the user's, `strata:stack`, `strata:urn`, `strata:token`.
pub(crate) fn create_tags(cx: &Cx<'_>, tags: &BTreeMap<String, String>) -> Vec<Tag> {
    cx.create_tags(tags)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The user's tags among `tags`.
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

/// Whether the RDS resource `arn` is this create's: its `strata:token` tag (read with
/// `ListTagsForResource`) is `cx.token`. A name is never proof; tags that cannot be read
/// are an error, not "someone else's".
pub(crate) async fn owned(
    cx: &Cx<'_>,
    client: &aws_sdk_rds::Client,
    arn: &str,
) -> Result<bool, ProviderError> {
    if arn.is_empty() {
        return Err(ProviderError::Other(
            "RDS answered without the resource's ARN: its tags cannot be read".to_owned(),
        ));
    }
    let out = client
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(api_error("rds:ListTagsForResource"))?;
    Ok(cx.owns(
        out.tag_list()
            .iter()
            .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))),
    ))
}

/// Makes the user tags of `arn` go from `old` to `new`.
pub(crate) async fn update_tags(
    client: &aws_sdk_rds::Client,
    arn: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let (removed, set) = strata_core::aws::tag_changes(old, new);
    if !removed.is_empty() {
        client
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(api_error("rds:RemoveTagsFromResource"))?;
    }
    let set: Vec<Tag> = set
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !set.is_empty() {
        client
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(api_error("rds:AddTagsToResource"))?;
    }
    Ok(())
}

/// RDS identifiers: 1 to `max` letters, digits or hyphens, starting with a letter, no
/// two hyphens in a row, not ending with one.
pub(crate) fn check_identifier(errs: &mut Vec<FieldError>, field: &str, id: &str, max: usize) {
    let ok = !id.is_empty()
        && id.len() <= max
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.contains("--")
        && !id.ends_with('-');
    if !ok {
        errs.push(FieldError::new(
            field,
            format!("{id:?}: 1 to {max} letters, digits or hyphens, starting with a letter, no -- and no trailing -"),
        ));
    }
}

/// Whether the error is one of RDS's "not found" faults.
pub(crate) fn not_found<E: aws_sdk_rds::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code()
        .is_some_and(|c| c.ends_with("NotFound") || c.ends_with("NotFoundFault"))
}

/// Whether two lists hold the same items, in any order.
pub(crate) fn same_set(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}
