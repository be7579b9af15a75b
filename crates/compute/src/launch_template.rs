//! `LaunchTemplate`: how the app servers are launched: AMI, instance type, security
//! groups, instance profile, user data, encrypted EBS, IMDSv2.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData, ResourceType, Tag,
    TagSpecification, VolumeType,
};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    Secret,
};

/// A launch template. Every change of what it launches is a new version, made the
/// default (`CreateLaunchTemplateVersion` + `ModifyLaunchTemplate`); the `latest_version`
/// output moves with it, so an auto scaling group that follows it updates too. IMDSv2 is
/// always required, and the root volume is always encrypted.
///
/// A name that is taken in the region (`InvalidLaunchTemplateName.AlreadyExistsException`)
/// is never taken over: the create fails naming the conflict.
///
/// User data that holds a credential is declared secret
/// ([`LaunchTemplateArgs::secret_user_data`]: a [`Secret<String>`] or a secret output):
/// sealed in state, `[secret]` in plans, events and logs; only the launch template data
/// sent to EC2 has the plaintext (and whoever may describe the template's versions can
/// read it there). Making user data secret (or plain again) without changing it is an
/// in-place change that makes no new version.
///
/// ```
/// use strata_core::{Secret, Stack};
/// use strata_compute::LaunchTemplate;
/// let mut s = Stack::new("dev");
/// s.add("app", LaunchTemplate::new("shop-app", "ami-0123456789abcdef0", "t3.medium")
///     .user_data("#!/bin/bash\nmount -t efs fs-1:/ /mnt/shared\n"));
/// s.add("worker", LaunchTemplate::new("shop-worker", "ami-0123456789abcdef0", "t3.medium")
///     .secret_user_data(Secret::new("#!/bin/bash\nexport TOKEN=…\n".to_owned())));
/// ```
#[derive(Debug)]
pub struct LaunchTemplate;

/// The args of a [`LaunchTemplate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplateArgs {
    /// The template name.
    pub name: String,
    /// The AMI.
    pub image_id: Input<String>,
    /// The instance type (`t3.medium`).
    pub instance_type: String,
    /// Security groups.
    #[serde(default)]
    pub security_group_ids: Vec<Input<String>>,
    /// The instance profile's name.
    #[serde(default)]
    pub instance_profile: Option<Input<String>>,
    /// User data (plain text; base64-encoded for AWS), plain or secret. It may be computed
    /// from other resources' outputs (the EFS file system id in a mount command).
    #[serde(default)]
    pub user_data: Option<Input<UserData>>,
    /// Root volume size, GiB.
    pub root_volume_size: i32,
    /// The KMS key of the (always encrypted) root volume.
    #[serde(default)]
    pub ebs_kms_key_id: Option<Input<String>>,
    /// User tags (of the template).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A launch template's user data: plain, or a secret (sealed in state, redacted in plans,
/// events and logs). It serializes as the plain string or as the secret marker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserData {
    /// Plain user data.
    Plain(String),
    /// Secret user data (a script that holds a credential).
    Secret(Secret<String>),
}

impl UserData {
    /// The plaintext. Only where it is really needed: the template data sent to EC2.
    pub fn expose(&self) -> &str {
        match self {
            UserData::Plain(s) => s,
            UserData::Secret(s) => s.expose(),
        }
    }

    /// Whether it was declared secret. Only in a declaration: a provider receives
    /// secrets bare (the engine keeps them secret in state), so in `create`, `read`,
    /// `update` and `delete` every value reads as plain.
    pub fn is_secret(&self) -> bool {
        matches!(self, UserData::Secret(_))
    }
}

impl LaunchTemplate {
    /// A template `name` for `image_id` on `instance_type`, with a 30 GiB encrypted gp3
    /// root volume.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        name: impl Into<String>,
        image_id: impl Into<Input<String>>,
        instance_type: impl Into<String>,
    ) -> LaunchTemplateArgs {
        LaunchTemplateArgs {
            name: name.into(),
            image_id: image_id.into(),
            instance_type: instance_type.into(),
            security_group_ids: Vec::new(),
            instance_profile: None,
            user_data: None,
            root_volume_size: 30,
            ebs_kms_key_id: None,
            tags: BTreeMap::new(),
        }
    }
}

impl LaunchTemplateArgs {
    /// Adds a security group.
    pub fn security_group(mut self, id: impl Into<Input<String>>) -> Self {
        self.security_group_ids.push(id.into());
        self
    }
    /// Sets the instance profile (by name).
    pub fn instance_profile(mut self, name: impl Into<Input<String>>) -> Self {
        self.instance_profile = Some(name.into());
        self
    }
    /// Sets the user data (a literal or an output).
    pub fn user_data(mut self, script: impl Into<Input<String>>) -> Self {
        self.user_data = Some(match script.into() {
            Input::Value(s) => Input::Value(UserData::Plain(s)),
            Input::Output(o) => Input::Output(o.map(UserData::Plain)),
        });
        self
    }
    /// Sets secret user data: a [`Secret<String>`] or a secret output.
    pub fn secret_user_data(mut self, script: impl Into<Input<Secret<String>>>) -> Self {
        self.user_data = Some(match script.into() {
            Input::Value(s) => Input::Value(UserData::Secret(s)),
            Input::Output(o) => Input::Output(o.map(UserData::Secret)),
        });
        self
    }
    /// Encrypts the root volume with this KMS key.
    pub fn ebs_kms_key(mut self, key: impl Into<Input<String>>) -> Self {
        self.ebs_kms_key_id = Some(key.into());
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for LaunchTemplateArgs {
    type Resource = LaunchTemplate;
}

/// The outputs of a [`LaunchTemplate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplateOutputs {
    /// `lt-…`.
    pub id: String,
    /// The name.
    pub name: String,
    /// The newest (and default) version.
    pub latest_version: String,
}

strata_core::outputs!(LaunchTemplate => LaunchTemplateHandle {
    /// `lt-…`.
    id: String,
    /// The newest (and default) version.
    latest_version: String,
});

pub(crate) fn ec2(cx: &Cx<'_>) -> Result<aws_sdk_ec2::Client, ProviderError> {
    cx.client(aws_sdk_ec2::Client::new)
}

fn data(a: &LaunchTemplateArgs) -> Result<RequestLaunchTemplateData, ProviderError> {
    let sgs = a
        .security_group_ids
        .iter()
        .map(|s| s.value().cloned())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RequestLaunchTemplateData::builder()
        .image_id(a.image_id.value()?)
        .instance_type(aws_sdk_ec2::types::InstanceType::from(
            a.instance_type.as_str(),
        ))
        .set_security_group_ids(Some(sgs))
        .set_iam_instance_profile(
            a.instance_profile
                .as_ref()
                .map(|p| {
                    p.value().map(|n| {
                        LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                            .name(n)
                            .build()
                    })
                })
                .transpose()?,
        )
        .set_user_data(
            a.user_data
                .as_ref()
                .map(|u| {
                    u.value()
                        .map(|u| base64::engine::general_purpose::STANDARD.encode(u.expose()))
                })
                .transpose()?,
        )
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::Required)
                .http_put_response_hop_limit(2)
                .build(),
        )
        .block_device_mappings(
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name("/dev/xvda")
                .ebs(
                    LaunchTemplateEbsBlockDeviceRequest::builder()
                        .volume_size(a.root_volume_size)
                        .volume_type(VolumeType::Gp3)
                        .encrypted(true)
                        .set_kms_key_id(
                            a.ebs_kms_key_id
                                .as_ref()
                                .map(|k| k.value().cloned())
                                .transpose()?,
                        )
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .build())
}

fn check_type(t: &str) -> bool {
    let mut parts = t.split('.');
    matches!((parts.next(), parts.next(), parts.next()), (Some(f), Some(s), None) if !f.is_empty() && !s.is_empty())
}

/// The template by id.
async fn describe(
    cx: &Cx<'_>,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::LaunchTemplate>, ProviderError> {
    match ec2(cx)?
        .describe_launch_templates()
        .launch_template_ids(id)
        .send()
        .await
    {
        Ok(o) => Ok(o.launch_templates().first().cloned()),
        Err(e)
            if aws_sdk_ec2::error::ProvideErrorMetadata::code(&e)
                .is_some_and(|c| c.contains("NotFound")) =>
        {
            Ok(None)
        }
        Err(e) => Err(api_error("ec2:DescribeLaunchTemplates")(e)),
    }
}

fn outputs(t: &aws_sdk_ec2::types::LaunchTemplate) -> LaunchTemplateOutputs {
    LaunchTemplateOutputs {
        id: t.launch_template_id().unwrap_or_default().to_owned(),
        name: t.launch_template_name().unwrap_or_default().to_owned(),
        latest_version: t.latest_version_number().unwrap_or(1).to_string(),
    }
}

#[async_trait]
impl Resource for LaunchTemplate {
    const TYPE: &'static str = "aws:ec2/launch-template";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    /// A template name is unique in its account and region.
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = LaunchTemplateArgs;
    type Outputs = LaunchTemplateOutputs;

    fn validate(a: &LaunchTemplateArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let n = &a.name;
        if n.len() < 3
            || n.len() > 128
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "()./_-".contains(c))
        {
            errs.push(FieldError::new(
                "name",
                format!("{n:?}: 3 to 128 of a-z, A-Z, 0-9 and ()./_-"),
            ));
        }
        if !check_type(&a.instance_type) {
            errs.push(FieldError::new(
                "instance_type",
                format!("{:?} is not an instance type (t3.medium)", a.instance_type),
            ));
        }
        if let Some(ami) = a.image_id.known() {
            if !ami.starts_with("ami-") {
                errs.push(FieldError::new(
                    "image_id",
                    format!("{ami:?} is not an AMI id (ami-…)"),
                ));
            }
        }
        if !(8..=16384).contains(&a.root_volume_size) {
            errs.push(FieldError::new(
                "root_volume_size",
                format!(
                    "{} GiB: gp3 takes 8 to 16384 for a root volume",
                    a.root_volume_size
                ),
            ));
        }
        if a.user_data
            .as_ref()
            .and_then(Input::known)
            .is_some_and(|u| {
                base64::engine::general_purpose::STANDARD
                    .encode(u.expose())
                    .len()
                    > 16384
            })
        {
            errs.push(FieldError::new(
                "user_data",
                "more than 16 KB once base64-encoded",
            ));
        }
        errs
    }

    fn estimate(_: &LaunchTemplateArgs) -> Duration {
        Duration::from_secs(2)
    }

    async fn create(
        cx: &Cx<'_>,
        a: &LaunchTemplateArgs,
    ) -> Result<Created<LaunchTemplateOutputs>, ProviderError> {
        let tags = cx.create_tags(&a.tags);
        let out = ec2(cx)?
            .create_launch_template()
            .launch_template_name(&a.name)
            .client_token(cx.token)
            .launch_template_data(data(a)?)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::LaunchTemplate)
                    .set_tags(Some(
                        tags.into_iter()
                            .map(|(k, v)| Tag::builder().key(k).value(v).build())
                            .collect(),
                    ))
                    .build(),
            )
            .send()
            .await
            .map_err(api_error("ec2:CreateLaunchTemplate"))?;
        let t = out.launch_template().ok_or_else(|| {
            ProviderError::Other("CreateLaunchTemplate returned no template".into())
        })?;
        Ok(Created {
            id: t.launch_template_id().unwrap_or_default().to_owned(),
            outputs: outputs(t),
        })
    }

    /// Found by this create's `strata:token` tag (set atomically by the create call's tag
    /// specification; the token is also its `ClientToken`), checked on what comes back;
    /// a template of that name without it is somebody else's.
    async fn recover(
        cx: &Cx<'_>,
        _: &LaunchTemplateArgs,
    ) -> Result<Recovery<LaunchTemplateOutputs>, ProviderError> {
        let by = Filter::builder()
            .name(format!("tag:{}", strata_core::aws::TOKEN_TAG))
            .values(cx.token)
            .build();
        let out = ec2(cx)?
            .describe_launch_templates()
            .filters(by)
            .send()
            .await
            .map_err(api_error("ec2:DescribeLaunchTemplates"))?;
        let ours = out
            .launch_templates()
            .iter()
            .find(|t| cx.owns(t.tags().iter().filter_map(|t| Some((t.key()?, t.value()?)))));
        Ok(match ours {
            Some(t) => Recovery::Found(Created {
                id: t.launch_template_id().unwrap_or_default().to_owned(),
                outputs: outputs(t),
            }),
            None => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&LaunchTemplateArgs>,
    ) -> Result<Option<Observed<LaunchTemplateArgs, LaunchTemplateOutputs>>, ProviderError> {
        let Some(t) = describe(cx, id).await? else {
            return Ok(None);
        };
        let v = ec2(cx)?
            .describe_launch_template_versions()
            .launch_template_id(id)
            .versions("$Default")
            .send()
            .await
            .map_err(api_error("ec2:DescribeLaunchTemplateVersions"))?;
        let d = v
            .launch_template_versions()
            .first()
            .and_then(|v| v.launch_template_data())
            .cloned();
        let Some(d) = d else { return Ok(None) };
        let ebs = d.block_device_mappings().first().and_then(|m| m.ebs());
        let keep = |live: Vec<String>, declared: Option<&Vec<Input<String>>>| match declared {
            Some(dec)
                if dec
                    .iter()
                    .map(|i| i.known().cloned())
                    .collect::<Option<Vec<_>>>()
                    .is_some_and(|d| d == live) =>
            {
                dec.clone()
            }
            _ => live.into_iter().map(Input::Value).collect(),
        };
        // The declared user data (secret or not) while its plaintext is the live one.
        let user_data = d
            .user_data()
            .and_then(|u| base64::engine::general_purpose::STANDARD.decode(u).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map(|live| match args.and_then(|a| a.user_data.as_ref()) {
                Some(declared) if declared.known().map(UserData::expose) == Some(live.as_str()) => {
                    declared.clone()
                }
                _ => Input::Value(UserData::Plain(live)),
            });
        Ok(Some(Observed {
            args: LaunchTemplateArgs {
                name: t.launch_template_name().unwrap_or_default().to_owned(),
                image_id: Input::Value(d.image_id().unwrap_or_default().to_owned()),
                instance_type: d
                    .instance_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                security_group_ids: keep(
                    d.security_group_ids().to_vec(),
                    args.map(|a| &a.security_group_ids),
                ),
                instance_profile: d
                    .iam_instance_profile()
                    .and_then(|p| p.name())
                    .map(|n| Input::Value(n.to_owned())),
                user_data,
                root_volume_size: ebs.and_then(|e| e.volume_size()).unwrap_or(30),
                ebs_kms_key_id: match (
                    ebs.and_then(|e| e.kms_key_id()),
                    args.and_then(|a| a.ebs_kms_key_id.clone()),
                ) {
                    (Some(_), Some(declared)) => Some(declared),
                    (live, _) => live.map(|k| Input::Value(k.to_owned())),
                },
                tags: t
                    .tags()
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.key()?.to_owned(),
                            t.value().unwrap_or_default().to_owned(),
                        ))
                    })
                    .filter(|(k, _)| strata_core::aws::is_user_tag(k))
                    .collect(),
            },
            outputs: outputs(&t),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &LaunchTemplateArgs,
        new: &LaunchTemplateArgs,
        outputs_in: &LaunchTemplateOutputs,
    ) -> Result<LaunchTemplateOutputs, ProviderError> {
        let client = ec2(cx)?;
        let mut out = outputs_in.clone();
        let (mut a, mut b) = (old.clone(), new.clone());
        a.tags.clear();
        b.tags.clear();
        if a != b {
            let v = client
                .create_launch_template_version()
                .launch_template_id(id)
                .client_token(cx.token)
                .launch_template_data(data(new)?)
                .send()
                .await
                .map_err(api_error("ec2:CreateLaunchTemplateVersion"))?;
            let n = v
                .launch_template_version()
                .and_then(|v| v.version_number())
                .unwrap_or(1)
                .to_string();
            client
                .modify_launch_template()
                .launch_template_id(id)
                .default_version(&n)
                .send()
                .await
                .map_err(api_error("ec2:ModifyLaunchTemplate"))?;
            out.latest_version = n;
        }
        let removed: Vec<Tag> = old
            .tags
            .keys()
            .filter(|k| !new.tags.contains_key(*k))
            .map(|k| Tag::builder().key(k).build())
            .collect();
        if !removed.is_empty() {
            client
                .delete_tags()
                .resources(id)
                .set_tags(Some(removed))
                .send()
                .await
                .map_err(api_error("ec2:DeleteTags"))?;
        }
        let set: Vec<Tag> = new
            .tags
            .iter()
            .filter(|(k, v)| old.tags.get(*k) != Some(*v))
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        if !set.is_empty() {
            client
                .create_tags()
                .resources(id)
                .set_tags(Some(set))
                .send()
                .await
                .map_err(api_error("ec2:CreateTags"))?;
        }
        Ok(out)
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &LaunchTemplateArgs,
        _: &LaunchTemplateOutputs,
    ) -> Result<(), ProviderError> {
        match ec2(cx)?
            .delete_launch_template()
            .launch_template_id(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if aws_sdk_ec2::error::ProvideErrorMetadata::code(&e)
                    .is_some_and(|c| c.contains("NotFound")) =>
            {
                Ok(())
            }
            Err(e) => Err(api_error("ec2:DeleteLaunchTemplate")(e)),
        }
    }
}
