//! `FlowLog`: VPC flow logs to S3 or CloudWatch Logs (what GuardDuty and audits expect).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType};
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::aws::kms::{bucket_key_uses, check_key_uses, KeyService};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    StackView, Urn,
};

use crate::common::{check_tags, ec2, owned, token_filter, update_tags, user_tags};

/// Flow logs of a VPC. Everything but the tags replaces it (AWS has no update call), and
/// the old one is deleted first: AWS refuses a second flow log of the same VPC to the
/// same destination.
///
/// ```
/// use strata_core::Stack;
/// use strata_network::*;
/// let mut s = Stack::new("dev");
/// let vpc = s.add("vpc", Vpc::new("10.0.0.0/16"));
/// s.add("flow-logs", FlowLog::to_s3(vpc.id(), "arn:aws:s3:::audit-logs/vpc/"));
/// ```
#[derive(Debug)]
pub struct FlowLog;

/// Which traffic is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Traffic {
    /// Accepted and rejected traffic.
    #[default]
    All,
    /// Accepted traffic.
    Accept,
    /// Rejected traffic.
    Reject,
}

/// Where the records go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowLogDestination {
    /// An S3 bucket (or a folder of it), by ARN.
    S3 {
        /// `arn:aws:s3:::BUCKET[/PREFIX/]`.
        bucket_arn: Input<String>,
    },
    /// A CloudWatch Logs group, written with a role.
    CloudWatchLogs {
        /// The log group.
        log_group_name: Input<String>,
        /// The role flow logs assume to write.
        role_arn: Input<String>,
    },
}

/// The args of a [`FlowLog`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowLogArgs {
    /// The VPC.
    pub vpc_id: Input<String>,
    /// Which traffic.
    pub traffic_type: Traffic,
    /// Where to.
    pub destination: FlowLogDestination,
    /// Seconds per aggregation: 60 or 600.
    pub max_aggregation_interval: i32,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl FlowLog {
    /// All traffic of `vpc_id` to the S3 location `bucket_arn`.
    pub fn to_s3(
        vpc_id: impl Into<Input<String>>,
        bucket_arn: impl Into<Input<String>>,
    ) -> FlowLogArgs {
        Self::with(
            vpc_id,
            FlowLogDestination::S3 {
                bucket_arn: bucket_arn.into(),
            },
        )
    }

    /// All traffic of `vpc_id` to the log group `log_group_name`, written as `role_arn`.
    pub fn to_cloudwatch(
        vpc_id: impl Into<Input<String>>,
        log_group_name: impl Into<Input<String>>,
        role_arn: impl Into<Input<String>>,
    ) -> FlowLogArgs {
        Self::with(
            vpc_id,
            FlowLogDestination::CloudWatchLogs {
                log_group_name: log_group_name.into(),
                role_arn: role_arn.into(),
            },
        )
    }

    fn with(vpc_id: impl Into<Input<String>>, destination: FlowLogDestination) -> FlowLogArgs {
        FlowLogArgs {
            vpc_id: vpc_id.into(),
            traffic_type: Traffic::All,
            destination,
            max_aggregation_interval: 600,
            tags: BTreeMap::new(),
        }
    }
}

impl FlowLogArgs {
    /// Sets which traffic is logged.
    pub fn traffic(mut self, t: Traffic) -> Self {
        self.traffic_type = t;
        self
    }
    /// Sets the aggregation interval (60 or 600 seconds).
    pub fn aggregation_interval(mut self, seconds: i32) -> Self {
        self.max_aggregation_interval = seconds;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for FlowLogArgs {
    type Resource = FlowLog;
}

/// The outputs of a [`FlowLog`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowLogOutputs {
    /// `fl-…`.
    pub id: String,
}

strata_core::outputs!(FlowLog => FlowLogHandle {
    /// `fl-…`.
    id: String,
});

fn traffic(t: Traffic) -> TrafficType {
    match t {
        Traffic::All => TrafficType::All,
        Traffic::Accept => TrafficType::Accept,
        Traffic::Reject => TrafficType::Reject,
    }
}

async fn describe(
    cx: &Cx<'_>,
    by: aws_sdk_ec2::types::Filter,
) -> Result<Vec<aws_sdk_ec2::types::FlowLog>, ProviderError> {
    let out = ec2(cx)?
        .describe_flow_logs()
        .filter(by)
        .send()
        .await
        .map_err(api_error("ec2:DescribeFlowLogs"))?;
    Ok(out.flow_logs().to_vec())
}

#[async_trait]
impl Resource for FlowLog {
    const TYPE: &'static str = "aws:ec2/flow-log";
    const REPLACE_ON: &'static [&'static str] = &[
        "vpc_id",
        "traffic_type",
        "destination",
        "max_aggregation_interval",
    ];
    const DELETE_BEFORE_REPLACE: bool = true;
    type Args = FlowLogArgs;
    type Outputs = FlowLogOutputs;

    /// The key of the bucket a flow log writes to must let log delivery use it:
    /// otherwise no record is ever written.
    fn check_stack(stack: &StackView<'_>) -> Vec<(Urn, FieldError)> {
        let mut uses = Vec::new();
        for log in stack.of_type(Self::TYPE) {
            uses.extend(bucket_key_uses(
                stack,
                &log,
                "destination",
                KeyService::LogDelivery,
                &format!("flow log {}", log.urn().name()),
            ));
        }
        check_key_uses(stack, uses)
    }

    fn validate(args: &FlowLogArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        if ![60, 600].contains(&args.max_aggregation_interval) {
            errs.push(FieldError::new(
                "max_aggregation_interval",
                format!(
                    "{} seconds: AWS offers 60 or 600",
                    args.max_aggregation_interval
                ),
            ));
        }
        if let FlowLogDestination::S3 { bucket_arn } = &args.destination {
            if let Some(a) = bucket_arn.known() {
                if !a.starts_with("arn:aws:s3:::") || a.len() <= "arn:aws:s3:::".len() {
                    errs.push(FieldError::new(
                        "destination.s3.bucket_arn",
                        format!("{a:?} is not an S3 ARN (arn:aws:s3:::BUCKET[/PREFIX/])"),
                    ));
                }
            }
        }
        errs
    }

    fn estimate(_: &FlowLogArgs) -> Duration {
        Duration::from_secs(3)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &FlowLogArgs,
    ) -> Result<Created<FlowLogOutputs>, ProviderError> {
        let mut call = ec2(cx)?
            .create_flow_logs()
            .resource_ids(args.vpc_id.value()?)
            .resource_type(FlowLogsResourceType::Vpc)
            .traffic_type(traffic(args.traffic_type))
            .max_aggregation_interval(args.max_aggregation_interval)
            .client_token(cx.token)
            .tag_specifications(crate::common::tag_spec(
                cx,
                ResourceType::VpcFlowLog,
                &args.tags,
            ));
        call = match &args.destination {
            FlowLogDestination::S3 { bucket_arn } => call
                .log_destination_type(LogDestinationType::S3)
                .log_destination(bucket_arn.value()?),
            FlowLogDestination::CloudWatchLogs {
                log_group_name,
                role_arn,
            } => call
                .log_destination_type(LogDestinationType::CloudWatchLogs)
                .log_group_name(log_group_name.value()?)
                .deliver_logs_permission_arn(role_arn.value()?),
        };
        let out = call.send().await.map_err(api_error("ec2:CreateFlowLogs"))?;
        if let Some(u) = out.unsuccessful().first() {
            let e = u.error();
            let code = e.and_then(|e| e.code());
            let message = e.and_then(|e| e.message()).unwrap_or("failed").to_owned();
            // `FlowLogAlreadyExists` (the VPC logs to that destination already) comes
            // back as an unsuccessful item, not as an error: it is the conflict.
            if strata_core::aws::already_exists(code) {
                return Err(ProviderError::AlreadyExists {
                    operation: "ec2:CreateFlowLogs".into(),
                    message,
                });
            }
            return Err(ProviderError::Api {
                operation: "ec2:CreateFlowLogs".into(),
                code: code.map(str::to_owned),
                message,
            });
        }
        let id = out
            .flow_log_ids()
            .first()
            .ok_or_else(|| ProviderError::Other("CreateFlowLogs returned no id".into()))?
            .clone();
        Ok(Created {
            outputs: FlowLogOutputs { id: id.clone() },
            id,
        })
    }

    /// Found by this create's `strata:token` tag (set atomically by the create call's tag
    /// specification; the token is also the call's `ClientToken`); a flow log of the same
    /// configuration without it is somebody else's.
    async fn recover(
        cx: &Cx<'_>,
        _: &FlowLogArgs,
    ) -> Result<Recovery<FlowLogOutputs>, ProviderError> {
        Ok(
            match describe(cx, token_filter(cx))
                .await?
                .iter()
                .find(|f| owned(cx, f.tags()))
                .and_then(|f| f.flow_log_id().map(str::to_owned))
            {
                Some(id) => Recovery::Found(Created {
                    outputs: FlowLogOutputs { id: id.clone() },
                    id,
                }),
                None => Recovery::Absent,
            },
        )
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&FlowLogArgs>,
    ) -> Result<Option<Observed<FlowLogArgs, FlowLogOutputs>>, ProviderError> {
        let Some(f) = describe(cx, crate::common::filter("flow-log-id", id))
            .await?
            .into_iter()
            .find(|f| f.flow_log_id() == Some(id))
        else {
            return Ok(None);
        };
        let v = |s: Option<&str>| Input::Value(s.unwrap_or_default().to_owned());
        let destination = match f.log_destination_type() {
            Some(LogDestinationType::S3) => FlowLogDestination::S3 {
                bucket_arn: v(f.log_destination()),
            },
            _ => FlowLogDestination::CloudWatchLogs {
                log_group_name: v(f.log_group_name()),
                role_arn: v(f.deliver_logs_permission_arn()),
            },
        };
        Ok(Some(Observed {
            args: FlowLogArgs {
                vpc_id: v(f.resource_id()),
                traffic_type: match f.traffic_type() {
                    Some(TrafficType::Accept) => Traffic::Accept,
                    Some(TrafficType::Reject) => Traffic::Reject,
                    _ => Traffic::All,
                },
                destination,
                max_aggregation_interval: f.max_aggregation_interval().unwrap_or(600),
                tags: user_tags(f.tags()),
            },
            outputs: FlowLogOutputs { id: id.to_owned() },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &FlowLogArgs,
        new: &FlowLogArgs,
        outputs: &FlowLogOutputs,
    ) -> Result<FlowLogOutputs, ProviderError> {
        update_tags(&ec2(cx)?, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &FlowLogArgs,
        _: &FlowLogOutputs,
    ) -> Result<(), ProviderError> {
        let out = ec2(cx)?
            .delete_flow_logs()
            .flow_log_ids(id)
            .send()
            .await
            .map_err(api_error("ec2:DeleteFlowLogs"))?;
        match out.unsuccessful().first().and_then(|u| u.error()) {
            Some(e) if !e.code().unwrap_or_default().contains("NotFound") => {
                Err(ProviderError::Api {
                    operation: "ec2:DeleteFlowLogs".into(),
                    code: e.code().map(str::to_owned),
                    message: e.message().unwrap_or("failed").to_owned(),
                })
            }
            _ => Ok(()),
        }
    }
}
