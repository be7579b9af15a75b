//! `KeyPolicy`: a typed key policy for a [`crate::KmsKey`], with the grants AWS services
//! need to use the key for the account.

use std::collections::BTreeSet;

use serde_json::{json, Value};
pub use strata_core::aws::kms::KeyService;

/// A key policy: the account's root may do everything with the key, so the account's IAM
/// policies decide who else may (AWS's default policy), and each [`KeyService`] added
/// may use the key on the account's behalf, with the actions AWS documents for it.
///
/// A key that a topic notified by CloudWatch alarms, a launch template of an auto scaling
/// group, a flow-log bucket or a trail uses is refused at seal time when its policy leaves
/// that service out: the failure would otherwise be silent (alarms that notify nobody,
/// instances that never launch).
///
/// ```
/// use strata_security::{KeyPolicy, KeyService, KmsKey};
/// let key = KmsKey::new("EBS volumes")
///     .key_policy(KeyPolicy::new("123456789012").service(KeyService::AutoScaling));
/// assert!(key.policy.is_some());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPolicy {
    account_id: String,
    services: BTreeSet<KeyService>,
    statements: Vec<Value>,
}

impl KeyPolicy {
    /// The policy of a key of account `account_id` (12 digits): the account's root may do
    /// everything with it.
    pub fn new(account_id: impl Into<String>) -> Self {
        KeyPolicy {
            account_id: account_id.into(),
            services: BTreeSet::new(),
            statements: Vec::new(),
        }
    }

    /// Lets `service` use the key on the account's behalf.
    pub fn service(mut self, service: KeyService) -> Self {
        self.services.insert(service);
        self
    }

    /// Adds a statement of its own (for grants the builder does not name).
    pub fn statement(mut self, statement: Value) -> Self {
        self.statements.push(statement);
        self
    }

    /// The account the policy is for.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The policy document.
    pub fn to_value(&self) -> Value {
        let account = &self.account_id;
        let mut statements = vec![json!({
            "Sid": "Account",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*",
        })];
        for s in &self.services {
            statements.extend(s.statements(account));
        }
        statements.extend(self.statements.iter().cloned());
        json!({"Version": "2012-10-17", "Statement": statements})
    }
}
