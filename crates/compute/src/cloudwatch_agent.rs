//! The CloudWatch agent on the instances of an auto scaling group: what publishes the
//! memory metric (`CWAgent/mem_used_percent` by `AutoScalingGroupName`) that
//! [`crate::Metric::Memory`] scales on. EC2 reports no memory metric of its own, so
//! without the agent a memory alarm or scaling policy watches a metric that never exists.

use serde_json::json;

/// Where the agent reads its configuration.
const CONFIG: &str = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json";

/// The agent's configuration: memory and root-disk use every 60 seconds, in the
/// `CWAgent` namespace, aggregated by the instance's auto scaling group (the dimension
/// the alarms and the scaling policy read).
pub fn agent_config() -> serde_json::Value {
    json!({
        "agent": {"metrics_collection_interval": 60},
        "metrics": {
            "namespace": "CWAgent",
            "append_dimensions": {
                "AutoScalingGroupName": "${aws:AutoScalingGroupName}",
                "InstanceId": "${aws:InstanceId}"
            },
            "aggregation_dimensions": [["AutoScalingGroupName"]],
            "metrics_collected": {
                "mem": {"measurement": ["mem_used_percent"]},
                "disk": {"measurement": ["used_percent"], "resources": ["/"]}
            }
        }
    })
}

/// A bash fragment for user data that installs the agent from the distribution's
/// packages (Amazon Linux 2 and 2023), writes [`agent_config`] and starts it. The
/// instance profile needs `CloudWatchAgentServerPolicy`
/// (`strata_security::policies::APP_SERVER_MANAGED_POLICIES` has it).
pub fn install_script() -> String {
    format!(
        "yum install -y amazon-cloudwatch-agent\n\
         cat > {CONFIG} <<'CWAGENT'\n{}\nCWAGENT\n\
         /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:{CONFIG}\n",
        agent_config()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_publishes_the_metric_the_memory_signals_read() {
        let c = agent_config();
        assert_eq!(c["metrics"]["namespace"], "CWAgent");
        assert_eq!(
            c["metrics"]["metrics_collected"]["mem"]["measurement"][0],
            "mem_used_percent"
        );
        // Aggregated by the group alone: the alarm's and the policy's one dimension.
        assert_eq!(
            c["metrics"]["aggregation_dimensions"],
            json!([["AutoScalingGroupName"]])
        );
        let script = install_script();
        let body = script
            .split("<<'CWAGENT'\n")
            .nth(1)
            .and_then(|r| r.split("\nCWAGENT\n").next())
            .unwrap_or_default();
        let parsed: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(parsed, c, "the heredoc holds the configuration as JSON");
    }
}
