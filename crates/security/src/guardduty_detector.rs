//! `GuardDutyDetector`: GuardDuty threat detection for the account and region, with its
//! data sources.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_guardduty::types::{
    DetectorFeature, DetectorFeatureConfiguration, DetectorFeatureResult, FeatureStatus,
    FindingPublishingFrequency,
};
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{check_tags, create_tags, tag_changes, taken_if, user_tags};

/// A GuardDuty detector. Its foundational sources (VPC flow logs, CloudTrail events, DNS
/// logs) are always on; S3 data events, EKS audit logs and EBS malware scans are
/// options. AWS allows one detector per account and region.
///
/// ```
/// use strata_core::Stack;
/// use strata_security::GuardDutyDetector;
/// let mut s = Stack::new("dev");
/// s.add("guardduty", GuardDutyDetector::new());
/// ```
#[derive(Debug)]
pub struct GuardDutyDetector;

/// How often findings are exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishingFrequency {
    /// Every 15 minutes.
    FifteenMinutes,
    /// Every hour.
    OneHour,
    /// Every 6 hours (AWS's default).
    #[default]
    SixHours,
}

/// The args of a [`GuardDutyDetector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardDutyDetectorArgs {
    /// Whether it is on.
    pub enable: bool,
    /// How often findings are exported.
    pub finding_publishing_frequency: PublishingFrequency,
    /// S3 data events.
    pub s3_logs: bool,
    /// EKS audit logs.
    pub kubernetes_audit_logs: bool,
    /// EBS scans of instances with findings.
    pub malware_protection: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl GuardDutyDetector {
    /// On, findings every 15 minutes, S3 data events on.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> GuardDutyDetectorArgs {
        GuardDutyDetectorArgs {
            enable: true,
            finding_publishing_frequency: PublishingFrequency::FifteenMinutes,
            s3_logs: true,
            kubernetes_audit_logs: false,
            malware_protection: false,
            tags: BTreeMap::new(),
        }
    }
}

impl GuardDutyDetectorArgs {
    /// Sets the export frequency.
    pub fn frequency(mut self, f: PublishingFrequency) -> Self {
        self.finding_publishing_frequency = f;
        self
    }
    /// Sets the optional data sources.
    pub fn sources(
        mut self,
        s3_logs: bool,
        kubernetes_audit_logs: bool,
        malware_protection: bool,
    ) -> Self {
        self.s3_logs = s3_logs;
        self.kubernetes_audit_logs = kubernetes_audit_logs;
        self.malware_protection = malware_protection;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for GuardDutyDetectorArgs {
    type Resource = GuardDutyDetector;
}

/// The outputs of a [`GuardDutyDetector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardDutyDetectorOutputs {
    /// The detector id.
    pub id: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(GuardDutyDetector => GuardDutyDetectorHandle {
    /// The detector id.
    id: String,
    /// The ARN.
    arn: String,
});

fn gd(cx: &Cx<'_>) -> Result<aws_sdk_guardduty::Client, ProviderError> {
    cx.client(aws_sdk_guardduty::Client::new)
}

fn frequency(f: PublishingFrequency) -> FindingPublishingFrequency {
    match f {
        PublishingFrequency::FifteenMinutes => FindingPublishingFrequency::FifteenMinutes,
        PublishingFrequency::OneHour => FindingPublishingFrequency::OneHour,
        PublishingFrequency::SixHours => FindingPublishingFrequency::SixHours,
    }
}

/// The optional protection plans, as detector features (the successor of data sources).
fn features(a: &GuardDutyDetectorArgs) -> Vec<DetectorFeatureConfiguration> {
    [
        (DetectorFeature::S3DataEvents, a.s3_logs),
        (DetectorFeature::EksAuditLogs, a.kubernetes_audit_logs),
        (DetectorFeature::EbsMalwareProtection, a.malware_protection),
    ]
    .into_iter()
    .map(|(name, on)| {
        DetectorFeatureConfiguration::builder()
            .name(name)
            .status(if on {
                FeatureStatus::Enabled
            } else {
                FeatureStatus::Disabled
            })
            .build()
    })
    .collect()
}

/// `arn:aws:guardduty:REGION:ACCOUNT:detector/ID` (the account from STS).
async fn arn(cx: &Cx<'_>, id: &str) -> Result<String, ProviderError> {
    let conf = cx.aws()?;
    let who = cx
        .client(aws_sdk_sts::Client::new)?
        .get_caller_identity()
        .send()
        .await
        .map_err(api_error("sts:GetCallerIdentity"))?;
    Ok(format!(
        "arn:aws:guardduty:{}:{}:detector/{id}",
        conf.region().map(|r| r.to_string()).unwrap_or_default(),
        who.account().unwrap_or_default()
    ))
}

fn gone<E: aws_sdk_guardduty::error::ProvideErrorMetadata>(e: &E) -> bool {
    // GuardDuty answers an unknown detector with a 400 BadRequestException.
    matches!(
        e.code(),
        Some("BadRequestException" | "ResourceNotFoundException")
    )
}

#[async_trait]
impl Resource for GuardDutyDetector {
    const TYPE: &'static str = "aws:guardduty/detector";
    type Args = GuardDutyDetectorArgs;
    type Outputs = GuardDutyDetectorOutputs;

    fn validate(args: &GuardDutyDetectorArgs) -> Vec<FieldError> {
        check_tags(&args.tags)
    }

    fn estimate(_: &GuardDutyDetectorArgs) -> Duration {
        Duration::from_secs(3)
    }

    /// `CreateDetector` takes the create's token as its `ClientToken` and the tags, token
    /// included, in the same call. AWS allows one detector per account and region: with
    /// one there already it answers `BadRequestException` "… a detector already exists",
    /// a taken identity.
    /// An account has at most one detector per region, and accounts often have one
    /// already (enabled by hand, or by AWS Organizations for every member). So the create
    /// looks first: an existing detector is never adopted silently, the create fails
    /// naming it and the `import` that would manage it. (A detector an earlier attempt of
    /// this create made is found again by the engine, through `recover`.)
    async fn create(
        cx: &Cx<'_>,
        args: &GuardDutyDetectorArgs,
    ) -> Result<Created<GuardDutyDetectorOutputs>, ProviderError> {
        let client = gd(cx)?;
        let existing = client
            .list_detectors()
            .send()
            .await
            .map_err(api_error("guardduty:ListDetectors"))?;
        if let Some(id) = existing.detector_ids().first() {
            return Err(ProviderError::AlreadyExists {
                operation: "guardduty:CreateDetector".to_owned(),
                message: format!(
                    "a GuardDuty detector ({id}) exists for this account in this region, and a region has one: import it (`import {} NAME {id}`) rather than create another",
                    Self::TYPE
                ),
            });
        }
        let out = client
            .create_detector()
            .enable(args.enable)
            .finding_publishing_frequency(frequency(args.finding_publishing_frequency))
            .set_features(Some(features(args)))
            .client_token(cx.token)
            .set_tags(Some(create_tags(cx, &args.tags).into_iter().collect()))
            .send()
            .await
            .map_err(api_error("guardduty:CreateDetector"))
            .map_err(|e| taken_if("BadRequestException", &["already exists"], e))?;
        let id = out
            .detector_id()
            .ok_or_else(|| ProviderError::Other("CreateDetector returned no id".into()))?
            .to_owned();
        Ok(Created {
            outputs: GuardDutyDetectorOutputs {
                arn: arn(cx, &id).await?,
                id: id.clone(),
            },
            id,
        })
    }

    /// The region's detector carrying this create's `strata:token` tag. A detector
    /// without it (enabled by hand, or by another stack) is not this create's.
    async fn recover(
        cx: &Cx<'_>,
        _: &GuardDutyDetectorArgs,
    ) -> Result<Recovery<GuardDutyDetectorOutputs>, ProviderError> {
        let client = gd(cx)?;
        let list = client
            .list_detectors()
            .send()
            .await
            .map_err(api_error("guardduty:ListDetectors"))?;
        for id in list.detector_ids() {
            let d = client
                .get_detector()
                .detector_id(id)
                .send()
                .await
                .map_err(api_error("guardduty:GetDetector"))?;
            let ours = d
                .tags()
                .is_some_and(|t| cx.owns(t.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
            if ours {
                return Ok(Recovery::Found(Created {
                    outputs: GuardDutyDetectorOutputs {
                        arn: arn(cx, id).await?,
                        id: id.clone(),
                    },
                    id: id.clone(),
                }));
            }
        }
        Ok(Recovery::Absent)
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&GuardDutyDetectorArgs>,
    ) -> Result<Option<Observed<GuardDutyDetectorArgs, GuardDutyDetectorOutputs>>, ProviderError>
    {
        let d = match gd(cx)?.get_detector().detector_id(id).send().await {
            Ok(d) => d,
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(api_error("guardduty:GetDetector")(e)),
        };
        let on = |name: DetectorFeatureResult| {
            d.features()
                .iter()
                .any(|f| f.name() == Some(&name) && f.status() == Some(&FeatureStatus::Enabled))
        };
        Ok(Some(Observed {
            args: GuardDutyDetectorArgs {
                enable: d.status().is_some_and(|s| s.as_str() == "ENABLED"),
                finding_publishing_frequency: match d.finding_publishing_frequency() {
                    Some(FindingPublishingFrequency::FifteenMinutes) => {
                        PublishingFrequency::FifteenMinutes
                    }
                    Some(FindingPublishingFrequency::OneHour) => PublishingFrequency::OneHour,
                    _ => PublishingFrequency::SixHours,
                },
                s3_logs: on(DetectorFeatureResult::S3DataEvents),
                kubernetes_audit_logs: on(DetectorFeatureResult::EksAuditLogs),
                malware_protection: on(DetectorFeatureResult::EbsMalwareProtection),
                tags: user_tags(
                    d.tags()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                ),
            },
            outputs: GuardDutyDetectorOutputs {
                arn: arn(cx, id).await?,
                id: id.to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &GuardDutyDetectorArgs,
        new: &GuardDutyDetectorArgs,
        outputs: &GuardDutyDetectorOutputs,
    ) -> Result<GuardDutyDetectorOutputs, ProviderError> {
        let client = gd(cx)?;
        let (mut a, mut b) = (old.clone(), new.clone());
        a.tags.clear();
        b.tags.clear();
        if a != b {
            client
                .update_detector()
                .detector_id(id)
                .enable(new.enable)
                .finding_publishing_frequency(frequency(new.finding_publishing_frequency))
                .set_features(Some(features(new)))
                .send()
                .await
                .map_err(api_error("guardduty:UpdateDetector"))?;
        }
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_resource()
                .resource_arn(&outputs.arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("guardduty:UntagResource"))?;
        }
        if !set.is_empty() {
            client
                .tag_resource()
                .resource_arn(&outputs.arn)
                .set_tags(Some(set.into_iter().collect()))
                .send()
                .await
                .map_err(api_error("guardduty:TagResource"))?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &GuardDutyDetectorArgs,
        _: &GuardDutyDetectorOutputs,
    ) -> Result<(), ProviderError> {
        match gd(cx)?.delete_detector().detector_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(api_error("guardduty:DeleteDetector")(e)),
        }
    }
}
