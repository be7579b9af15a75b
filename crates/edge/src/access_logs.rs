//! The bucket policy that lets a load balancer deliver its access logs.
//!
//! Who writes the logs depends on the region (AWS's "Enable access logs for your
//! Application Load Balancer"): in regions available before August 2022, the regional
//! Elastic Load Balancing account (`arn:aws:iam::054676820928:root` in eu-central-1); in
//! regions launched since, the `logdelivery.elasticloadbalancing.amazonaws.com` service.
//! Granting the service in an older region makes `ModifyLoadBalancerAttributes` fail with
//! "Access Denied for bucket".

use serde_json::{json, Value};

/// The Elastic Load Balancing account of each region that predates the log delivery
/// service principal.
const ELB_ACCOUNTS: &[(&str, &str)] = &[
    ("us-east-1", "127311923021"),
    ("us-east-2", "033677994240"),
    ("us-west-1", "027434742980"),
    ("us-west-2", "797873946194"),
    ("af-south-1", "098369216593"),
    ("ap-east-1", "754344448648"),
    ("ap-southeast-3", "589379963580"),
    ("ap-south-1", "718504428378"),
    ("ap-northeast-3", "383597477331"),
    ("ap-northeast-2", "600734575887"),
    ("ap-southeast-1", "114774131450"),
    ("ap-southeast-2", "783225319266"),
    ("ap-northeast-1", "582318560864"),
    ("ca-central-1", "985666609251"),
    ("eu-central-1", "054676820928"),
    ("eu-west-1", "156460612806"),
    ("eu-west-2", "652711504416"),
    ("eu-south-1", "635631232127"),
    ("eu-west-3", "009996457667"),
    ("eu-north-1", "897822967062"),
    ("me-south-1", "076674570225"),
    ("sa-east-1", "507241528517"),
    ("us-gov-west-1", "048591011584"),
    ("us-gov-east-1", "190560391635"),
    ("cn-north-1", "638102146993"),
    ("cn-northwest-1", "037604701340"),
];

/// Who delivers load balancer access logs in `region`, as a policy principal.
pub fn access_log_principal(region: &str) -> Value {
    match ELB_ACCOUNTS.iter().find(|(r, _)| *r == region) {
        Some((r, account)) => {
            let partition = if r.starts_with("cn-") {
                "aws-cn"
            } else if r.starts_with("us-gov-") {
                "aws-us-gov"
            } else {
                "aws"
            };
            json!({"AWS": format!("arn:{partition}:iam::{account}:root")})
        }
        None => json!({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
    }
}

/// The policy of `bucket` that lets load balancers of `account_id` in `region` write
/// access logs under `prefix` (`""`: the bucket's root).
pub fn access_log_bucket_policy(
    bucket: &str,
    prefix: &str,
    account_id: &str,
    region: &str,
) -> Value {
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    let path = if prefix.is_empty() {
        format!("AWSLogs/{account_id}/*")
    } else {
        format!("{}/AWSLogs/{account_id}/*", prefix.trim_end_matches('/'))
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AlbLogDelivery",
            "Effect": "Allow",
            "Principal": access_log_principal(region),
            "Action": "s3:PutObject",
            "Resource": format!("arn:{partition}:s3:::{bucket}/{path}")
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_regions_grant_their_elb_account_and_newer_ones_the_service() {
        assert_eq!(
            access_log_principal("eu-central-1"),
            json!({"AWS": "arn:aws:iam::054676820928:root"})
        );
        assert_eq!(
            access_log_principal("us-gov-west-1"),
            json!({"AWS": "arn:aws-us-gov:iam::048591011584:root"})
        );
        // Zurich opened in November 2022.
        assert_eq!(
            access_log_principal("eu-central-2"),
            json!({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"})
        );
        let p = access_log_bucket_policy("logs", "alb/", "123456789012", "eu-central-1");
        assert_eq!(
            p["Statement"][0]["Resource"],
            "arn:aws:s3:::logs/alb/AWSLogs/123456789012/*"
        );
        assert_eq!(
            p["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::054676820928:root"
        );
    }
}
