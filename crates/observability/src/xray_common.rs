//! What the X-Ray types share: the client, "not found" and tags.

use std::collections::BTreeMap;

use aws_sdk_xray::error::ProvideErrorMetadata;
use aws_sdk_xray::types::Tag;
use strata_core::aws::{api_error, tag_changes};
use strata_core::{Cx, ProviderError};

pub(crate) fn xray(cx: &Cx<'_>) -> Result<aws_sdk_xray::Client, ProviderError> {
    cx.client(aws_sdk_xray::Client::new)
}

/// X-Ray answers a missing rule or group with `InvalidRequestException` ("Sampling rule
/// does not exist", "Group not found"), a missing tagged resource with
/// `ResourceNotFoundException`.
pub(crate) fn not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    match e.code() {
        Some("ResourceNotFoundException") => true,
        Some("InvalidRequestException") => e
            .message()
            .is_some_and(|m| m.contains("does not exist") || m.contains("not found")),
        _ => false,
    }
}

pub(crate) fn xray_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| ProviderError::Other(e.to_string()))
}

pub(crate) async fn tags_of(
    cx: &Cx<'_>,
    arn: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let client = xray(cx)?;
    let mut all = BTreeMap::new();
    let mut token = None;
    loop {
        let out = client
            .list_tags_for_resource()
            .resource_arn(arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(api_error("xray:ListTagsForResource"))?;
        all.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned())),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(all),
        }
    }
}

pub(crate) async fn update_tags(
    cx: &Cx<'_>,
    arn: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let client = xray(cx)?;
    let (removed, set) = tag_changes(old, new);
    if !removed.is_empty() {
        client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(api_error("xray:UntagResource"))?;
    }
    if !set.is_empty() {
        client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(xray_tags(set)?))
            .send()
            .await
            .map_err(api_error("xray:TagResource"))?;
    }
    Ok(())
}
