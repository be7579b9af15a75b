//! What the observability types share: recovery by the `strata:token` tag, the refusal
//! of a taken name, JSON compared by meaning, ARN shapes and the partition of a region.

use std::collections::BTreeMap;

use serde_json::Value;
use strata_core::{Created, Cx, ProviderError, Recovery};

/// The recovery of a resource found by its name after a create failed or was
/// interrupted: ours only when its `strata:token` tag is this create's token (a name, or
/// the `strata:urn` tag, which the old half of a replace carries too, is no proof).
/// Anything else, a resource of that name without the tag or with another token, is
/// somebody else's: absent, so that the engine reports the conflict and adopts nothing.
pub(crate) fn recovery_by_token<O>(
    cx: &Cx<'_>,
    what: &str,
    found: Option<(Created<O>, BTreeMap<String, String>)>,
) -> Recovery<O> {
    match found {
        None => Recovery::Absent,
        Some((created, tags)) => {
            if cx.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                Recovery::Found(created)
            } else {
                tracing::debug!(
                    urn = %cx.urn,
                    id = %created.id,
                    "a {what} of that name exists without this create's strata:token tag: not ours"
                );
                Recovery::Absent
            }
        }
    }
}

/// The refusal of a create whose identity is taken (for the types AWS does not tag, the
/// engine never adopts a lookalike after it: [`strata_core::Recovery::Resembles`]).
pub(crate) use strata_core::aws::taken;

/// `e`, or [`ProviderError::AlreadyExists`] when it is an error with `code` whose message
/// says that the name is taken: for the services that say so with a generic code (X-Ray's
/// `InvalidRequestException` "… already exists").
pub(crate) fn taken_if(code: &str, e: ProviderError) -> ProviderError {
    match e {
        ProviderError::Api {
            operation,
            code: Some(c),
            message,
        } if c == code && message.to_ascii_lowercase().contains("already exist") => {
            ProviderError::AlreadyExists { operation, message }
        }
        other => other,
    }
}

/// Whether two JSON documents mean the same: objects compare by key whatever their order,
/// numbers by value (`1` and `1.0` are equal), the rest exactly.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// The partition of a region: `aws`, `aws-cn` or `aws-us-gov`.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Whether `s` looks like an ARN of `service` (`arn:PARTITION:SERVICE:…`).
pub(crate) fn is_arn_of(s: &str, service: &str) -> bool {
    let mut parts = s.splitn(6, ':');
    parts.next() == Some("arn")
        && parts.next().is_some_and(|p| p.starts_with("aws"))
        && parts.next() == Some(service)
        && parts.count() == 3
}

/// Whether two lists hold the same values, whatever their order.
pub(crate) fn same_set(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_compares_by_meaning() {
        assert!(json_eq(
            &json!({"a": 1, "b": [1.0, "x"]}),
            &json!({"b": [1, "x"], "a": 1.0})
        ));
        assert!(!json_eq(&json!({"a": 1}), &json!({"a": 1, "b": null})));
        assert!(!json_eq(&json!([1, 2]), &json!([2, 1])));
    }

    #[test]
    fn arns_and_partitions() {
        assert!(is_arn_of(
            "arn:aws:sns:eu-central-1:123456789012:alerts",
            "sns"
        ));
        assert!(is_arn_of(
            "arn:aws:logs:eu-central-1:123456789012:log-group:app:*",
            "logs"
        ));
        assert!(!is_arn_of("arn:aws:sqs:eu-central-1:123456789012:q", "sns"));
        assert!(!is_arn_of("alerts", "sns"));
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("eu-central-1"), "aws");
    }
}
