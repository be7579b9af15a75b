//! Who may use a KMS key when an AWS service uses it on the account's behalf, read from
//! the key's policy; and the seal-time check that such a key grants its service.
//!
//! AWS's default key policy lets the account's IAM policies decide who uses a key. That
//! covers roles and users, but not AWS services acting for the account: their access has
//! to be in the key policy itself. Without it nothing fails at deploy time. Instead:
//! - CloudWatch alarms cannot publish to an SNS topic encrypted with the key, so they
//!   notify nobody;
//! - Auto Scaling cannot launch instances whose EBS volumes use the key;
//! - flow logs (log delivery) cannot write to a bucket encrypted with it;
//! - CloudTrail cannot write its log files, and CloudFront cannot read the objects.
//!
//! [`KeyService`] names these users, builds the statement that grants each one (the
//! typed key-policy builder of `strata_security` uses it), and [`check_key_uses`] lets
//! the types that use a key refuse, at seal time, a key whose policy leaves their service
//! out.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::stack::{Declared, StackView};
use crate::{FieldError, Urn};

/// The type token of a customer managed key (`strata_security::KmsKey`).
pub const KMS_KEY_TYPE: &str = "aws:kms/key";

/// The type token of an S3 bucket (`strata_data::Bucket`), whose `encryption` may name a
/// key.
pub const BUCKET_TYPE: &str = "aws:s3/bucket";

/// An AWS service that uses a key on the account's behalf, which only the key policy can
/// let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyService {
    /// CloudWatch alarms publishing to an SNS topic encrypted with the key.
    CloudWatchAlarms,
    /// Log delivery (`delivery.logs.amazonaws.com`): VPC flow logs and other vended logs
    /// written to an S3 bucket encrypted with the key.
    LogDelivery,
    /// EC2 Auto Scaling (its service-linked role `AWSServiceRoleForAutoScaling`) launching
    /// instances whose EBS volumes are encrypted with the key.
    AutoScaling,
    /// CloudTrail writing log files encrypted with the key.
    CloudTrail,
    /// CloudFront (origin access control) reading S3 objects encrypted with the key.
    CloudFront,
}

/// The service-linked role of EC2 Auto Scaling, after `arn:aws:iam::ACCOUNT:role`.
const AUTO_SCALING_ROLE: &str =
    "/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";

impl KeyService {
    /// Every service, in a fixed order.
    pub const ALL: [KeyService; 5] = [
        KeyService::CloudWatchAlarms,
        KeyService::LogDelivery,
        KeyService::AutoScaling,
        KeyService::CloudTrail,
        KeyService::CloudFront,
    ];

    /// The service principal, or for Auto Scaling the service its role belongs to.
    pub fn principal(self) -> &'static str {
        match self {
            KeyService::CloudWatchAlarms => "cloudwatch.amazonaws.com",
            KeyService::LogDelivery => "delivery.logs.amazonaws.com",
            KeyService::AutoScaling => "autoscaling.amazonaws.com",
            KeyService::CloudTrail => "cloudtrail.amazonaws.com",
            KeyService::CloudFront => "cloudfront.amazonaws.com",
        }
    }

    /// The actions AWS documents for this use of a key.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            KeyService::CloudWatchAlarms => &["kms:Decrypt", "kms:GenerateDataKey*"],
            KeyService::LogDelivery | KeyService::AutoScaling => &[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
            KeyService::CloudTrail => &["kms:GenerateDataKey*", "kms:DescribeKey"],
            KeyService::CloudFront => &["kms:Decrypt"],
        }
    }

    /// The calls without which the use fails (what the check looks for).
    fn needs(self) -> &'static [&'static str] {
        match self {
            KeyService::CloudWatchAlarms => &["kms:Decrypt", "kms:GenerateDataKey"],
            KeyService::LogDelivery | KeyService::CloudTrail => &["kms:GenerateDataKey"],
            KeyService::AutoScaling => &[
                "kms:Decrypt",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:CreateGrant",
            ],
            KeyService::CloudFront => &["kms:Decrypt"],
        }
    }

    /// Its name in Rust, for messages.
    pub fn name(self) -> &'static str {
        match self {
            KeyService::CloudWatchAlarms => "KeyService::CloudWatchAlarms",
            KeyService::LogDelivery => "KeyService::LogDelivery",
            KeyService::AutoScaling => "KeyService::AutoScaling",
            KeyService::CloudTrail => "KeyService::CloudTrail",
            KeyService::CloudFront => "KeyService::CloudFront",
        }
    }

    /// The key-policy statements that grant this service the use of a key of account
    /// `account`.
    ///
    /// Auto Scaling's role is named through an `aws:PrincipalArn` condition rather than as
    /// the principal: a key policy naming a role that does not exist yet is refused
    /// (`MalformedPolicyDocumentException`), and the service-linked role appears only with
    /// the account's first auto scaling group. Its grants are limited to AWS resources
    /// (`kms:GrantIsForAWSResource`), as AWS documents.
    pub fn statements(self, account: &str) -> Vec<Value> {
        let sid = self.name().trim_start_matches("KeyService::");
        match self {
            KeyService::AutoScaling => {
                let role = json!({
                    "ArnEquals": {"aws:PrincipalArn": format!("arn:aws:iam::{account}:role{AUTO_SCALING_ROLE}")},
                    "StringEquals": {"kms:CallerAccount": account},
                });
                let mut grant = role.clone();
                grant["Bool"] = json!({"kms:GrantIsForAWSResource": "true"});
                vec![
                    json!({
                        "Sid": sid,
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": self.actions(),
                        "Resource": "*",
                        "Condition": role,
                    }),
                    json!({
                        "Sid": format!("{sid}Grants"),
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "kms:CreateGrant",
                        "Resource": "*",
                        "Condition": grant,
                    }),
                ]
            }
            _ => {
                let mut statement = json!({
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"Service": self.principal()},
                    "Action": self.actions(),
                    "Resource": "*",
                });
                // Log delivery only on this account's behalf (the confused-deputy
                // condition AWS documents for it). CloudTrail's documented conditions
                // (its trail ARN in the encryption context) do not hold when it writes
                // through a bucket's default key, and none is documented for alarms.
                if self == KeyService::LogDelivery {
                    statement["Condition"] =
                        json!({"StringEquals": {"aws:SourceAccount": account}});
                }
                vec![statement]
            }
        }
    }
}

/// The values of a policy element that may be a string or a list of strings.
fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether the IAM action pattern `pattern` (`kms:*`, `kms:GenerateDataKey*`) covers
/// `action`; action names compare without regard to case.
fn covers(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    match p.strip_suffix('*') {
        Some(prefix) => a.starts_with(prefix),
        None => p == a,
    }
}

/// Whether an Allow statement's principal is `service`: named as such, or anyone
/// (`*`) unless an `aws:PrincipalArn` condition narrows it to other principals (other
/// conditions are not weighed).
fn names(statement: &Value, service: KeyService) -> bool {
    let principal = statement.get("Principal");
    let aws = strings(principal.and_then(|p| p.get("AWS")));
    let role = |arn: &str| arn.starts_with("arn:aws:iam::") && arn.ends_with(AUTO_SCALING_ROLE);
    let named = match service {
        KeyService::AutoScaling => aws.iter().any(|a| role(a)),
        _ => strings(principal.and_then(|p| p.get("Service"))).contains(&service.principal()),
    };
    let anyone = principal.is_some_and(|p| p == "*") || aws.contains(&"*");
    if named || !anyone {
        return named;
    }
    let narrowed_to: Vec<&str> = statement
        .get("Condition")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|c| c.values().filter_map(Value::as_object))
        .flat_map(|keys| {
            keys.iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("aws:PrincipalArn"))
                .flat_map(|(_, v)| strings(Some(v)))
        })
        .collect();
    narrowed_to.is_empty()
        || (service == KeyService::AutoScaling && narrowed_to.into_iter().any(role))
}

/// Whether the key policy `policy` lets `service` make the calls its use of the key
/// needs (Allow statements only; a Deny is not weighed).
pub fn grants(policy: &Value, service: KeyService) -> bool {
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    service.needs().iter().all(|needed| {
        statements.iter().any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some("Allow")
                && names(s, service)
                && strings(s.get("Action"))
                    .into_iter()
                    .any(|p| covers(p, needed))
        })
    })
}

/// One use of a key by an AWS service, for [`check_key_uses`].
#[derive(Debug, Clone)]
pub struct KeyUse<'a> {
    /// The key (a resource of the stack).
    pub key: &'a Urn,
    /// The service that uses it.
    pub service: KeyService,
    /// Who has the service use it, for the message ("alarm high-cpu notifies topic
    /// alerts, which is encrypted with this key").
    pub why: String,
}

/// The customer managed keys of the stack that the value at `path` of `user` takes.
pub fn keys_at<'a>(stack: &StackView<'a>, user: &Declared<'a>, path: &str) -> Vec<&'a Urn> {
    user.references(path)
        .into_iter()
        .filter(|u| stack.get(u).is_some_and(|k| k.type_name() == KMS_KEY_TYPE))
        .collect()
}

/// The uses of keys by `service` through the default encryption of the S3 buckets of the
/// stack that the value at `path` of `user` names (a flow log's destination, a trail's
/// bucket): `writer` says who writes there, for the message ("flow log vpc-logs").
pub fn bucket_key_uses<'a>(
    stack: &StackView<'a>,
    user: &Declared<'a>,
    path: &str,
    service: KeyService,
    writer: &str,
) -> Vec<KeyUse<'a>> {
    user.references(path)
        .into_iter()
        .filter_map(|b| stack.get(b).filter(|b| b.type_name() == BUCKET_TYPE))
        .flat_map(|bucket| {
            keys_at(stack, &bucket, "encryption")
                .into_iter()
                .map(move |key| KeyUse {
                    key,
                    service,
                    why: format!(
                        "{writer} writes to bucket {}, whose default encryption uses this key",
                        bucket.urn().name()
                    ),
                })
        })
        .collect()
}

/// The seal-time check for the types that have an AWS service use a key: each key whose
/// policy is known must grant each service that uses it. One error per key and service,
/// on the key's `policy`, naming every use. A key whose policy is an output of another
/// resource is not judged; one with no policy has AWS's default, which grants no service.
pub fn check_key_uses<'a>(
    stack: &StackView<'a>,
    uses: impl IntoIterator<Item = KeyUse<'a>>,
) -> Vec<(Urn, FieldError)> {
    let mut by_key: BTreeMap<(&Urn, KeyService), Vec<String>> = BTreeMap::new();
    for u in uses {
        let whys = by_key.entry((u.key, u.service)).or_default();
        if !whys.contains(&u.why) {
            whys.push(u.why);
        }
    }
    by_key
        .into_iter()
        .filter(|((key, service), _)| {
            let Some(node) = stack.get(key).filter(|k| k.type_name() == KMS_KEY_TYPE) else {
                return false;
            };
            match node.literal("policy") {
                Some(policy) => !grants(policy, *service),
                None => !node.is_set("policy"),
            }
        })
        .map(|((key, service), whys)| {
            (
                key.clone(),
                FieldError::new(
                    "policy",
                    format!(
                        "{}, but the key policy does not let {} use the key ({}): add {} to it (KeyPolicy::service)",
                        whys.join("; "),
                        service.principal(),
                        service.actions().join(", "),
                        service.name()
                    ),
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(statements: Vec<Value>) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn the_built_statements_grant_their_service_and_no_other() {
        for service in KeyService::ALL {
            let p = policy(service.statements("123456789012"));
            for other in KeyService::ALL {
                assert_eq!(
                    grants(&p, other),
                    other == service,
                    "{service:?} / {other:?}"
                );
            }
        }
    }

    #[test]
    fn a_policy_without_the_service_or_its_calls_does_not_grant() {
        let root = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                          "Action": "kms:*", "Resource": "*"});
        assert!(!grants(
            &policy(vec![root.clone()]),
            KeyService::CloudWatchAlarms
        ));
        // Decrypt without GenerateDataKey: SNS cannot encrypt the message.
        let half = json!({"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                          "Action": "kms:Decrypt", "Resource": "*"});
        assert!(!grants(
            &policy(vec![root.clone(), half]),
            KeyService::CloudWatchAlarms
        ));
        let whole = json!({"Effect": "Allow", "Principal": {"Service": ["sns.amazonaws.com", "cloudwatch.amazonaws.com"]},
                           "Action": ["kms:decrypt", "kms:GenerateDataKey*"], "Resource": "*"});
        assert!(grants(
            &policy(vec![root, whole.clone()]),
            KeyService::CloudWatchAlarms
        ));
        let mut denied = whole;
        denied["Effect"] = json!("Deny");
        assert!(!grants(&policy(vec![denied]), KeyService::CloudWatchAlarms));
        // The role named as the principal counts as well.
        let named = json!({"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::123456789012:role{AUTO_SCALING_ROLE}")},
            "Action": ["kms:*"], "Resource": "*"});
        assert!(grants(&policy(vec![named]), KeyService::AutoScaling));
        // Anyone is everyone, Auto Scaling's role included, unless narrowed to others.
        let anyone =
            json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"});
        assert!(grants(
            &policy(vec![anyone.clone()]),
            KeyService::AutoScaling
        ));
        let mut others = anyone;
        others["Condition"] =
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/app"}});
        assert!(!grants(
            &policy(vec![others.clone()]),
            KeyService::AutoScaling
        ));
        assert!(!grants(&policy(vec![others]), KeyService::CloudTrail));
    }
}
