//! `MountTarget`: an EFS file system's endpoint in one subnet.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_efs::error::ProvideErrorMetadata;
use aws_sdk_efs::types::LifeCycleState;
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, wait_for};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::file_system::{efs, not_found};

const TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// A mount target: one per subnet the instances mount from. Its security groups change
/// in place; the file system and the subnet replace it. Mount targets carry no tags: an
/// interrupted create is found again only when the file system, the subnet and the
/// declared security groups all match; an existing mount target of the file system in
/// that availability zone is a conflict, never taken over.
///
/// ```
/// use strata_core::Stack;
/// use strata_data::{FileSystem, FileSystemHandle, MountTarget};
/// let mut s = Stack::new("dev");
/// let fs = s.add("shared", FileSystem::new());
/// s.add("shared-a", MountTarget::new(fs.id(), "subnet-a").security_group("sg-efs"));
/// ```
#[derive(Debug)]
pub struct MountTarget;

/// The args of a [`MountTarget`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountTargetArgs {
    /// The file system.
    pub file_system_id: Input<String>,
    /// The subnet.
    pub subnet_id: Input<String>,
    /// Security groups (up to 5).
    #[serde(default)]
    pub security_groups: Vec<Input<String>>,
}

impl MountTarget {
    /// `file_system_id` in `subnet_id`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        file_system_id: impl Into<Input<String>>,
        subnet_id: impl Into<Input<String>>,
    ) -> MountTargetArgs {
        MountTargetArgs {
            file_system_id: file_system_id.into(),
            subnet_id: subnet_id.into(),
            security_groups: Vec::new(),
        }
    }
}

impl MountTargetArgs {
    /// Adds a security group.
    pub fn security_group(mut self, id: impl Into<Input<String>>) -> Self {
        self.security_groups.push(id.into());
        self
    }
}

impl ResourceArgs for MountTargetArgs {
    type Resource = MountTarget;
}

/// The outputs of a [`MountTarget`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountTargetOutputs {
    /// `fsmt-…`.
    pub id: String,
    /// Its address in the subnet.
    pub ip_address: String,
}

strata_core::outputs!(MountTarget => MountTargetHandle {
    /// `fsmt-…`.
    id: String,
    /// Its address.
    ip_address: String,
});

fn values(v: &[Input<String>]) -> Result<Vec<String>, ProviderError> {
    v.iter()
        .map(|s| s.value().cloned().map_err(Into::into))
        .collect()
}

async fn describe(
    cx: &Cx<'_>,
    id: &str,
) -> Result<Option<aws_sdk_efs::types::MountTargetDescription>, ProviderError> {
    match efs(cx)?
        .describe_mount_targets()
        .mount_target_id(id)
        .send()
        .await
    {
        Ok(o) => Ok(o.mount_targets().first().cloned()),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("efs:DescribeMountTargets")(e)),
    }
}

async fn wait(cx: &Cx<'_>, id: &str, gone: bool) -> Result<(), ProviderError> {
    wait_for(
        format!("mount target {id}"),
        TIMEOUT,
        Duration::from_secs(5),
        || async {
            Ok(match (gone, describe(cx, id).await?) {
                (true, None) => Some(()),
                (false, Some(m)) if m.life_cycle_state() == &LifeCycleState::Available => Some(()),
                _ => None,
            })
        },
    )
    .await
}

#[async_trait]
impl Resource for MountTarget {
    const TYPE: &'static str = "aws:efs/mount-target";
    const REPLACE_ON: &'static [&'static str] = &["file_system_id", "subnet_id"];
    const IDENTITY: &'static [&'static str] = &["file_system_id", "subnet_id"];
    type Args = MountTargetArgs;
    type Outputs = MountTargetOutputs;

    fn validate(a: &MountTargetArgs) -> Vec<FieldError> {
        if a.security_groups.len() > 5 {
            vec![FieldError::new(
                "security_groups",
                "a mount target takes up to 5 security groups",
            )]
        } else {
            Vec::new()
        }
    }

    fn estimate(_: &MountTargetArgs) -> Duration {
        Duration::from_secs(90)
    }

    async fn create(
        cx: &Cx<'_>,
        a: &MountTargetArgs,
    ) -> Result<Created<MountTargetOutputs>, ProviderError> {
        let out = efs(cx)?
            .create_mount_target()
            .file_system_id(a.file_system_id.value()?)
            .subnet_id(a.subnet_id.value()?)
            .set_security_groups(Some(values(&a.security_groups)?))
            .send()
            .await
            .map_err(|e| {
                // One mount target per file system and availability zone.
                if e.code() == Some("MountTargetConflict") {
                    ProviderError::AlreadyExists {
                        operation: "efs:CreateMountTarget".to_owned(),
                        message: e.message().unwrap_or("mount target conflict").to_owned(),
                    }
                } else {
                    api_error("efs:CreateMountTarget")(e)
                }
            })?;
        let id = out.mount_target_id().to_owned();
        wait(cx, &id, false).await?;
        Ok(Created {
            outputs: MountTargetOutputs {
                id: id.clone(),
                ip_address: out.ip_address().unwrap_or_default().to_owned(),
            },
            id,
        })
    }

    /// Mount targets have no tags and no idempotency token: found again only when every
    /// identifying property is what was asked (the file system, the subnet and, when
    /// declared, the security groups), and it is not being deleted.
    async fn recover(
        cx: &Cx<'_>,
        a: &MountTargetArgs,
    ) -> Result<Recovery<MountTargetOutputs>, ProviderError> {
        let client = efs(cx)?;
        let out = match client
            .describe_mount_targets()
            .file_system_id(a.file_system_id.value()?)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(Recovery::Absent),
            Err(e) => return Err(api_error("efs:DescribeMountTargets")(e)),
        };
        let subnet = a.subnet_id.value()?;
        let Some(m) = out.mount_targets().iter().find(|m| {
            m.subnet_id() == subnet
                && !matches!(
                    m.life_cycle_state(),
                    LifeCycleState::Deleting | LifeCycleState::Deleted
                )
        }) else {
            return Ok(Recovery::Absent);
        };
        let id = m.mount_target_id().to_owned();
        // Its security groups are readable once it is available.
        wait(cx, &id, false).await?;
        if !a.security_groups.is_empty() {
            let live = client
                .describe_mount_target_security_groups()
                .mount_target_id(&id)
                .send()
                .await
                .map_err(api_error("efs:DescribeMountTargetSecurityGroups"))?;
            if !crate::rds_common::same_set(&values(&a.security_groups)?, live.security_groups()) {
                return Ok(Recovery::Absent);
            }
        }
        Ok(Recovery::Resembles(Created {
            outputs: MountTargetOutputs {
                id: id.clone(),
                ip_address: m.ip_address().unwrap_or_default().to_owned(),
            },
            id,
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&MountTargetArgs>,
    ) -> Result<Option<Observed<MountTargetArgs, MountTargetOutputs>>, ProviderError> {
        let Some(m) = describe(cx, id).await? else {
            return Ok(None);
        };
        let sgs = efs(cx)?
            .describe_mount_target_security_groups()
            .mount_target_id(id)
            .send()
            .await
            .map_err(api_error("efs:DescribeMountTargetSecurityGroups"))?;
        let live: Vec<String> = sgs.security_groups().to_vec();
        let security_groups = match args {
            Some(a)
                if values(&a.security_groups)
                    .ok()
                    .is_some_and(|v| crate::rds_common::same_set(&v, &live)) =>
            {
                a.security_groups.clone()
            }
            _ => live.into_iter().map(Input::Value).collect(),
        };
        Ok(Some(Observed {
            args: MountTargetArgs {
                file_system_id: Input::Value(m.file_system_id().to_owned()),
                subnet_id: Input::Value(m.subnet_id().to_owned()),
                security_groups,
            },
            outputs: MountTargetOutputs {
                id: id.to_owned(),
                ip_address: m.ip_address().unwrap_or_default().to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        _: &MountTargetArgs,
        new: &MountTargetArgs,
        outputs: &MountTargetOutputs,
    ) -> Result<MountTargetOutputs, ProviderError> {
        efs(cx)?
            .modify_mount_target_security_groups()
            .mount_target_id(id)
            .set_security_groups(Some(values(&new.security_groups)?))
            .send()
            .await
            .map_err(api_error("efs:ModifyMountTargetSecurityGroups"))?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &MountTargetArgs,
        _: &MountTargetOutputs,
    ) -> Result<(), ProviderError> {
        match efs(cx)?
            .delete_mount_target()
            .mount_target_id(id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if not_found(&e) => return Ok(()),
            Err(e) => return Err(api_error("efs:DeleteMountTarget")(e)),
        }
        wait(cx, id, true).await
    }
}
