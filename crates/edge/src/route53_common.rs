//! What the Route 53 types share: the client, DNS name checks and normalisation, tags, and
//! waiting until a change is in sync.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_route53::client::Waiters;
use aws_sdk_route53::types::{ChangeInfo, ChangeStatus, Tag, TagResourceType};
use strata_core::aws::{api_error, tag_changes};
use strata_core::{Cx, ProviderError};

/// How long a change batch may take to reach every Route 53 name server.
pub(crate) const CHANGE_TIMEOUT: Duration = Duration::from_secs(600);

/// Route 53's API is global: the client's region only picks the signing region.
pub(crate) fn route53(cx: &Cx<'_>) -> Result<aws_sdk_route53::Client, ProviderError> {
    cx.client(aws_sdk_route53::Client::new)
}

/// A hosted zone id without the `/hostedzone/` prefix that some answers carry.
pub(crate) fn bare_zone_id(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/")
}

/// A DNS name as Route 53 compares it: lowercase, without the final dot, with the octal
/// escapes of its answers (`\052` for `*`) decoded.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let digits: String = chars.clone().take(3).collect();
            if digits.len() == 3 && digits.chars().all(|d| ('0'..='7').contains(&d)) {
                if let Some(decoded) = u8::from_str_radix(&digits, 8).ok().map(char::from) {
                    out.push(decoded);
                    for _ in 0..3 {
                        chars.next();
                    }
                    continue;
                }
            }
        }
        out.push(c);
    }
    let out = out.to_ascii_lowercase();
    out.strip_suffix('.').map(str::to_owned).unwrap_or(out)
}

/// Whether `name` is `zone` or a name under it.
pub(crate) fn in_zone(name: &str, zone: &str) -> bool {
    let (n, z) = (normalize(name), normalize(zone));
    n == z || n.ends_with(&format!(".{z}"))
}

/// Checks a DNS name as Route 53 takes it: at most 255 characters, labels of 1 to 63
/// characters of letters, digits, hyphens and underscores (no hyphen at either end), and,
/// where `wildcard` allows it, `*` as the whole leftmost label.
pub(crate) fn check_domain(name: &str, wildcard: bool) -> Option<String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() || trimmed.len() > 255 {
        return Some(format!("{name:?}: a domain name has 1 to 255 characters"));
    }
    for (k, label) in trimmed.split('.').enumerate() {
        if label == "*" && wildcard && k == 0 {
            continue;
        }
        if label.is_empty() || label.len() > 63 {
            return Some(format!(
                "{name:?}: every label has 1 to 63 characters (no empty label)"
            ));
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Some(format!(
                "{name:?}: only letters, digits, hyphens and underscores{}",
                if wildcard {
                    ", and `*` as the whole leftmost label"
                } else {
                    ""
                }
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!(
                "{name:?}: a label neither starts nor ends with a hyphen"
            ));
        }
    }
    None
}

/// Whether a change batch was refused because a record set it CREATEs already exists
/// (`InvalidChangeBatch`: "Tried to create resource record set [...] but it already
/// exists"). Nothing of the batch was applied.
pub(crate) fn record_exists(e: &ProviderError) -> bool {
    matches!(
        e,
        ProviderError::Api { code: Some(c), message, .. }
            if c == "InvalidChangeBatch" && message.contains("already exists")
    )
}

/// Whether an error code says the zone or health check is gone.
pub(crate) fn gone(code: Option<&str>) -> bool {
    matches!(code, Some("NoSuchHostedZone" | "NoSuchHealthCheck"))
}

/// Every tag of a hosted zone or health check (strata's own included).
pub(crate) async fn tags(
    client: &aws_sdk_route53::Client,
    kind: TagResourceType,
    id: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = client
        .list_tags_for_resource()
        .resource_type(kind)
        .resource_id(id)
        .send()
        .await
        .map_err(api_error("route53:ListTagsForResource"))?;
    Ok(out
        .resource_tag_set()
        .map(|s| {
            s.tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                .collect()
        })
        .unwrap_or_default())
}

/// Adds (or overwrites) `add` and removes `remove`, ten at a time as the API takes them.
pub(crate) async fn change_tags(
    client: &aws_sdk_route53::Client,
    kind: TagResourceType,
    id: &str,
    add: &BTreeMap<String, String>,
    remove: &[String],
) -> Result<(), ProviderError> {
    let add: Vec<Tag> = add
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    for chunk in add.chunks(10) {
        client
            .change_tags_for_resource()
            .resource_type(kind.clone())
            .resource_id(id)
            .set_add_tags(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(api_error("route53:ChangeTagsForResource"))?;
    }
    for chunk in remove.chunks(10) {
        client
            .change_tags_for_resource()
            .resource_type(kind.clone())
            .resource_id(id)
            .set_remove_tag_keys(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(api_error("route53:ChangeTagsForResource"))?;
    }
    Ok(())
}

/// Moves the user tags from `old` to `new` (strata's own tags are never touched).
pub(crate) async fn update_tags(
    client: &aws_sdk_route53::Client,
    kind: TagResourceType,
    id: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let (removed, set) = tag_changes(old, new);
    change_tags(client, kind, id, &set, &removed).await
}

/// Waits until the change `info` (the answer of a change call) is `INSYNC`: on every
/// Route 53 name server. A change already in sync returns at once.
pub(crate) async fn wait_in_sync(
    client: &aws_sdk_route53::Client,
    info: Option<&ChangeInfo>,
    timeout: Duration,
) -> Result<(), ProviderError> {
    let Some(info) = info else {
        return Ok(());
    };
    if info.status() == &ChangeStatus::Insync {
        return Ok(());
    }
    let id = info.id().trim_start_matches("/change/").to_owned();
    client
        .wait_until_resource_record_sets_changed()
        .id(&id)
        .wait(timeout)
        .await
        .map_err(|e| ProviderError::Timeout {
            after: timeout,
            what: format!("Route 53 change {id} to be INSYNC ({e})"),
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_route53_does() {
        assert_eq!(normalize("\\052.Shop.Example.com."), "*.shop.example.com");
        assert!(in_zone("www.shop.example.com", "shop.example.com."));
        assert!(in_zone("shop.example.com.", "Shop.example.com"));
        assert!(!in_zone("evilshop.example.com", "shop.example.com"));
        assert!(check_domain("*.shop.example.com", true).is_none());
        assert!(check_domain("*.shop.example.com", false).is_some());
        assert!(check_domain("a..b", false).is_some());
        assert!(check_domain("-a.b", false).is_some());
        assert!(check_domain(&format!("{}.com", "a".repeat(64)), false).is_some());
    }
}
