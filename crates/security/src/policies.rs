//! Ready-made policies for the platform's roles.

use serde_json::{json, Value};

/// The AWS managed policies an application server needs: the CloudWatch agent (metrics
/// and logs), X-Ray's daemon, Systems Manager (Session Manager, patching), and EFS mounts.
pub const APP_SERVER_MANAGED_POLICIES: &[&str] = &[
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
    "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/AmazonElasticFileSystemClientReadWriteAccess",
];

/// An inline policy that lets a role read these secrets (and decrypt them with these
/// KMS keys): least privilege for the app servers' access to Secrets Manager.
pub fn read_secrets(secret_arns: &[String], kms_key_arns: &[String]) -> Value {
    let mut statements = vec![json!({
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "Resource": secret_arns,
    })];
    if !kms_key_arns.is_empty() {
        statements.push(json!({
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": kms_key_arns,
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// An inline policy that lets a role read these secrets, whatever customer managed key of
/// account `account` in `region` encrypts them: `kms:Decrypt` on the account's keys, only
/// through Secrets Manager (`kms:ViaService`), as AWS documents. For keys whose ARNs are
/// not known when the role is declared (made by the same stack).
pub fn read_secrets_via_kms(secret_arns: &[String], region: &str, account: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": secret_arns,
        },
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": format!("arn:aws:kms:{region}:{account}:key/*"),
            "Condition": {"StringEquals": {"kms:ViaService": format!("secretsmanager.{region}.amazonaws.com")}},
        },
    ]})
}
