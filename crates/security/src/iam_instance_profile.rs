//! `IamInstanceProfile`: the container that hands an IAM role to EC2 instances.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{check_tags, create_tags, tag_changes, user_tags};
use crate::iam_role::{check_name, iam, iam_tags, no_such};

/// An instance profile with (at most) one role. Changing the role is in place: the old
/// one is removed, the new one added.
///
/// ```
/// use strata_core::Stack;
/// use strata_security::{IamInstanceProfile, IamRole, IamRoleHandle};
/// let mut s = Stack::new("dev");
/// let role = s.add("app-role", IamRole::for_service("shop-app", "ec2.amazonaws.com"));
/// s.add("app-profile", IamInstanceProfile::new("shop-app", role.name()));
/// ```
#[derive(Debug)]
pub struct IamInstanceProfile;

/// The args of an [`IamInstanceProfile`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamInstanceProfileArgs {
    /// The name.
    pub name: String,
    /// The path (`/`).
    pub path: String,
    /// The role's name.
    pub role: Option<Input<String>>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl IamInstanceProfile {
    /// A profile `name` holding the role `role` (by name).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, role: impl Into<Input<String>>) -> IamInstanceProfileArgs {
        IamInstanceProfileArgs {
            name: name.into(),
            path: "/".into(),
            role: Some(role.into()),
            tags: BTreeMap::new(),
        }
    }
}

impl IamInstanceProfileArgs {
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for IamInstanceProfileArgs {
    type Resource = IamInstanceProfile;
}

/// The outputs of an [`IamInstanceProfile`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamInstanceProfileOutputs {
    /// The name (its id; what launch templates take).
    pub name: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(IamInstanceProfile => IamInstanceProfileHandle {
    /// The name.
    name: String,
    /// The ARN.
    arn: String,
});

async fn set_role(
    client: &aws_sdk_iam::Client,
    name: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> Result<(), ProviderError> {
    if old == new {
        return Ok(());
    }
    if let Some(r) = old {
        match client
            .remove_role_from_instance_profile()
            .instance_profile_name(name)
            .role_name(r)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if no_such(&e) => {}
            Err(e) => return Err(api_error("iam:RemoveRoleFromInstanceProfile")(e)),
        }
    }
    if let Some(r) = new {
        client
            .add_role_to_instance_profile()
            .instance_profile_name(name)
            .role_name(r)
            .send()
            .await
            .map_err(api_error("iam:AddRoleToInstanceProfile"))?;
    }
    Ok(())
}

async fn get(
    client: &aws_sdk_iam::Client,
    name: &str,
) -> Result<Option<aws_sdk_iam::types::InstanceProfile>, ProviderError> {
    match client
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Ok(p) => Ok(p.instance_profile),
        Err(e) if no_such(&e) => Ok(None),
        Err(e) => Err(api_error("iam:GetInstanceProfile")(e)),
    }
}

fn role_of(p: &aws_sdk_iam::types::InstanceProfile) -> Option<String> {
    p.roles().first().map(|r| r.role_name().to_owned())
}

#[async_trait]
impl Resource for IamInstanceProfile {
    const TYPE: &'static str = "aws:iam/instance-profile";
    const REPLACE_ON: &'static [&'static str] = &["name", "path"];
    /// Instance profile names are unique in the account whatever the path.
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = IamInstanceProfileArgs;
    type Outputs = IamInstanceProfileOutputs;

    fn validate(args: &IamInstanceProfileArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        check_name(&mut errs, &args.name, 128, &args.path);
        errs
    }

    fn estimate(_: &IamInstanceProfileArgs) -> Duration {
        Duration::from_secs(2)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &IamInstanceProfileArgs,
    ) -> Result<Created<IamInstanceProfileOutputs>, ProviderError> {
        let client = iam(cx)?;
        let out = client
            .create_instance_profile()
            .instance_profile_name(&args.name)
            .path(&args.path)
            .set_tags(Some(iam_tags(&create_tags(cx, &args.tags))?))
            .send()
            .await
            .map_err(api_error("iam:CreateInstanceProfile"))?;
        let role = args.role.as_ref().map(|r| r.value().cloned()).transpose()?;
        set_role(&client, &args.name, None, role.as_deref()).await?;
        Ok(Created {
            id: args.name.clone(),
            outputs: IamInstanceProfileOutputs {
                name: args.name.clone(),
                arn: out
                    .instance_profile()
                    .map(|p| p.arn().to_owned())
                    .unwrap_or_default(),
            },
        })
    }

    /// `CreateInstanceProfile` refuses a taken name (`EntityAlreadyExists`) and takes the
    /// tags, this create's `strata:token` included, in the same call: the profile of that
    /// name is this create's only when it carries the token (its role is then set, as the
    /// create would have). Without it, it is somebody else's: absent.
    async fn recover(
        cx: &Cx<'_>,
        args: &IamInstanceProfileArgs,
    ) -> Result<Recovery<IamInstanceProfileOutputs>, ProviderError> {
        let client = iam(cx)?;
        let Some(p) = get(&client, &args.name).await? else {
            return Ok(Recovery::Absent);
        };
        if !cx.owns(p.tags().iter().map(|t| (t.key(), t.value()))) {
            return Ok(Recovery::Absent);
        }
        let role = args.role.as_ref().map(|r| r.value().cloned()).transpose()?;
        set_role(&client, &args.name, role_of(&p).as_deref(), role.as_deref()).await?;
        Ok(Recovery::Found(Created {
            id: args.name.clone(),
            outputs: IamInstanceProfileOutputs {
                name: args.name.clone(),
                arn: p.arn().to_owned(),
            },
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&IamInstanceProfileArgs>,
    ) -> Result<Option<Observed<IamInstanceProfileArgs, IamInstanceProfileOutputs>>, ProviderError>
    {
        let Some(p) = get(&iam(cx)?, id).await? else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: IamInstanceProfileArgs {
                name: p.instance_profile_name().to_owned(),
                path: p.path().to_owned(),
                role: role_of(&p).map(Input::Value),
                tags: user_tags(p.tags().iter().map(|t| (t.key(), t.value()))),
            },
            outputs: IamInstanceProfileOutputs {
                name: p.instance_profile_name().to_owned(),
                arn: p.arn().to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &IamInstanceProfileArgs,
        new: &IamInstanceProfileArgs,
        outputs: &IamInstanceProfileOutputs,
    ) -> Result<IamInstanceProfileOutputs, ProviderError> {
        let client = iam(cx)?;
        let live = get(&client, id).await?.as_ref().and_then(role_of);
        let role = new.role.as_ref().map(|r| r.value().cloned()).transpose()?;
        set_role(&client, id, live.as_deref(), role.as_deref()).await?;
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_instance_profile()
                .instance_profile_name(id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("iam:UntagInstanceProfile"))?;
        }
        if !set.is_empty() {
            client
                .tag_instance_profile()
                .instance_profile_name(id)
                .set_tags(Some(iam_tags(&set)?))
                .send()
                .await
                .map_err(api_error("iam:TagInstanceProfile"))?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &IamInstanceProfileArgs,
        _: &IamInstanceProfileOutputs,
    ) -> Result<(), ProviderError> {
        let client = iam(cx)?;
        let Some(p) = get(&client, id).await? else {
            return Ok(());
        };
        set_role(&client, id, role_of(&p).as_deref(), None).await?;
        match client
            .delete_instance_profile()
            .instance_profile_name(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if no_such(&e) => Ok(()),
            Err(e) => Err(api_error("iam:DeleteInstanceProfile")(e)),
        }
    }
}
