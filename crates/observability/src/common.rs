//! What the observability types share: recovery by the `strata:urn` tag, JSON compared by
//! meaning, ARN shapes and the partition of a region.

use std::collections::BTreeMap;

use serde_json::Value;
use strata_core::{Created, Cx, Recovery};

/// The recovery of a resource found by its name after an interrupted create: ours when its
/// `strata:urn` tag is this resource's URN, unknown when a resource of that name exists
/// without it (it may be somebody else's), absent when there is none.
pub(crate) fn recovery_by_urn<O>(
    cx: &Cx<'_>,
    what: &str,
    found: Option<(Created<O>, BTreeMap<String, String>)>,
) -> Recovery<O> {
    match found {
        None => Recovery::Absent,
        Some((created, tags)) => {
            if tags.get("strata:urn").map(String::as_str) == Some(&cx.urn.to_string()) {
                Recovery::Found(created)
            } else {
                Recovery::Unknown(format!(
                    "{what} {} exists but is not tagged strata:urn={}: if it is the one this \
                     create made, import it with `import {} {} {}`; otherwise rename the \
                     resource or delete the existing one",
                    created.id,
                    cx.urn,
                    cx.urn.type_name(),
                    cx.urn.name(),
                    created.id
                ))
            }
        }
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
