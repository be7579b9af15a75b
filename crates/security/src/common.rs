//! What the security types share: tag maps, the refusal of a taken name, JSON policy
//! documents, name checks.

use std::collections::BTreeMap;

use serde_json::Value;
use strata_core::{Cx, FieldError, ProviderError};

/// The tags a create sends: the user's, `strata:stack`, `strata:urn` and `strata:token`.
pub(crate) fn create_tags(
    cx: &Cx<'_>,
    tags: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    cx.create_tags(tags)
}

/// The user's tags among live ones (without `strata:` and `aws:` keys).
pub(crate) fn user_tags<'a>(
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    tags.into_iter()
        .filter(|(k, _)| strata_core::aws::is_user_tag(k))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The refusal of a create whose identity is taken (for the types AWS does not tag, the
/// engine never adopts a lookalike after it: [`strata_core::Recovery::Resembles`]).
pub(crate) use strata_core::aws::taken;

/// `e`, or [`ProviderError::AlreadyExists`] when it is an error with `code` whose message
/// says that the name is taken: for the services that say so with a generic code
/// (Lambda's `ResourceConflictException` "… already exists", GuardDuty's
/// `BadRequestException` "… detector already exists", Secrets Manager's
/// `InvalidRequestException` for a name scheduled for deletion).
pub(crate) fn taken_if(code: &str, needles: &[&str], e: ProviderError) -> ProviderError {
    match e {
        ProviderError::Api {
            operation,
            code: Some(c),
            message,
        } if c == code && {
            let m = message.to_ascii_lowercase();
            needles.iter().any(|n| m.contains(n))
        } =>
        {
            ProviderError::AlreadyExists { operation, message }
        }
        other => other,
    }
}

pub(crate) use strata_core::aws::check_tags;
pub(crate) use strata_core::aws::tag_changes;

/// Parses a policy document that AWS returned (IAM returns it URL-encoded).
pub(crate) fn parse_policy(text: &str) -> Value {
    let decoded = if text.trim_start().starts_with('{') {
        text.to_owned()
    } else {
        percent_decode(text)
    };
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Condition operators that compare exactly: a `*` or `?` in their values is a literal
/// character, never a wildcard, so such a condition silently matches nothing.
/// (`ArnEquals` is not among them: AWS matches each part of an ARN with `*` and `?`,
/// as `ArnLike` does. A `?` is left alone too: it is common in literal URLs.)
const EXACT_OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
];

/// Checks that a policy document is a JSON object with a `Statement`, within AWS's size,
/// and that no exact-match condition holds a wildcard (`StringEquals` with
/// `secretsmanager.*.amazonaws.com` denies every call it was meant to allow: the
/// wildcard operators are `StringLike` and `ArnLike`).
pub(crate) fn check_policy(field: &str, doc: &Value) -> Vec<FieldError> {
    match doc {
        Value::Object(m) if m.contains_key("Statement") => {
            let mut errs = Vec::new();
            let len = doc.to_string().len();
            if len > 20_480 {
                errs.push(FieldError::new(
                    field,
                    format!("{len} characters: too long for AWS"),
                ));
            }
            let statements = match &m["Statement"] {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for (k, st) in statements.into_iter().enumerate() {
                let Some(Value::Object(conditions)) = st.get("Condition") else {
                    continue;
                };
                for (op, keys) in conditions {
                    // (`ForAnyValue:StringEquals` and `…IfExists` compare exactly too.)
                    let base = op.rsplit(':').next().unwrap_or(op);
                    let base = base.strip_suffix("IfExists").unwrap_or(base);
                    if !EXACT_OPERATORS.contains(&base) {
                        continue;
                    }
                    let Value::Object(keys) = keys else { continue };
                    for (key, values) in keys {
                        let wild = match values {
                            Value::Array(a) => a.iter().any(has_wildcard),
                            v => has_wildcard(v),
                        };
                        if wild {
                            let message = if base.starts_with("StringNot") {
                                format!("{op} compares exactly, so its `*` never equals a value and the condition always holds: use StringNotLike for a pattern")
                            } else {
                                format!("{op} compares exactly, so its `*` never matches anything: use StringLike for a pattern")
                            };
                            errs.push(FieldError::new(
                                format!("{field}.Statement.{k}.Condition.{op}.{key}"),
                                message,
                            ));
                        }
                    }
                }
            }
            errs
        }
        _ => vec![FieldError::new(
            field,
            "a policy document is a JSON object with a Statement",
        )],
    }
}

fn has_wildcard(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.contains('*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_conditions_with_wildcards_are_refused() {
        let doc = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"StringLike": {"s3:prefix": "logs/*"},
                           "ArnEquals": {"aws:SourceArn": ["arn:aws:sns:eu-central-1:1:t", "arn:aws:lambda:*:*:function:f"]},
                           "StringEquals": {"aws:Referer": "https://example.com/?a=1"}}},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["team-*"]}}}
        ]});
        let errs = check_policy("inline_policies.p", &doc);
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        // (ArnEquals matches `*` per ARN part; a `?` in a URL is literal.)
        assert_eq!(
            fields,
            [
                "inline_policies.p.Statement.0.Condition.StringEquals.kms:ViaService",
                "inline_policies.p.Statement.2.Condition.ForAnyValue:StringNotEquals.aws:TagKeys"
            ]
        );
        assert!(
            errs[0].message.contains("use StringLike"),
            "{}",
            errs[0].message
        );
        assert!(
            errs[1].message.contains("always holds") && errs[1].message.contains("StringNotLike"),
            "{}",
            errs[1].message
        );
    }

    #[test]
    fn iam_policies_are_url_decoded() {
        let v = parse_policy("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D");
        assert_eq!(
            v,
            serde_json::json!({"Version": "2012-10-17", "Statement": []})
        );
        assert_eq!(parse_policy("{\"a\":1}"), serde_json::json!({"a": 1}));
    }
}
