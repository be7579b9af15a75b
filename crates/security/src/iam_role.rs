//! `IamRole`: an IAM role with its trust policy, managed policies and inline policies.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_iam::types::Tag;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{check_policy, check_tags, create_tags, parse_policy, tag_changes, user_tags};

/// An IAM role. Its managed policies (by ARN) and inline policies (by name) are managed
/// as sets: attached, detached, put and deleted in place, like the trust policy, the
/// description, the session duration and the tags. The name and path replace it.
///
/// ```
/// use strata_core::Stack;
/// use strata_security::{policies, IamRole};
/// let mut s = Stack::new("dev");
/// s.add(
///     "app-role",
///     IamRole::for_service("shop-app", "ec2.amazonaws.com")
///         .managed_policies(policies::APP_SERVER_MANAGED_POLICIES.iter().map(|a| a.to_string())),
/// );
/// ```
#[derive(Debug)]
pub struct IamRole;

/// The args of an [`IamRole`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamRoleArgs {
    /// The role name.
    pub name: String,
    /// The path (`/`).
    pub path: String,
    /// Who may assume it.
    pub assume_role_policy: Value,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Longest session, seconds (3600 to 43200).
    pub max_session_duration: i32,
    /// Attached managed policies, by ARN.
    #[serde(default)]
    pub managed_policy_arns: Vec<Input<String>>,
    /// Inline policies, by name.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, Value>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl IamRole {
    /// A role `name` with the trust policy `assume_role_policy`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, assume_role_policy: Value) -> IamRoleArgs {
        IamRoleArgs {
            name: name.into(),
            path: "/".into(),
            assume_role_policy,
            description: None,
            max_session_duration: 3600,
            managed_policy_arns: Vec::new(),
            inline_policies: BTreeMap::new(),
            tags: BTreeMap::new(),
        }
    }

    /// A role that the AWS service `principal` (`ec2.amazonaws.com`) may assume.
    pub fn for_service(name: impl Into<String>, principal: &str) -> IamRoleArgs {
        Self::new(
            name,
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": principal},
                    "Action": "sts:AssumeRole"
                }]
            }),
        )
    }
}

impl IamRoleArgs {
    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
    /// Attaches a managed policy.
    pub fn managed_policy(mut self, arn: impl Into<Input<String>>) -> Self {
        self.managed_policy_arns.push(arn.into());
        self
    }
    /// Attaches managed policies.
    pub fn managed_policies<I: Into<Input<String>>>(
        mut self,
        arns: impl IntoIterator<Item = I>,
    ) -> Self {
        self.managed_policy_arns
            .extend(arns.into_iter().map(Into::into));
        self
    }
    /// Adds an inline policy.
    pub fn inline_policy(mut self, name: impl Into<String>, document: Value) -> Self {
        self.inline_policies.insert(name.into(), document);
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for IamRoleArgs {
    type Resource = IamRole;
}

/// The outputs of an [`IamRole`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamRoleOutputs {
    /// The role name (its id).
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// AWS's unique id (`AROA…`).
    pub unique_id: String,
}

strata_core::outputs!(IamRole => IamRoleHandle {
    /// The role name.
    name: String,
    /// The ARN.
    arn: String,
});

pub(crate) fn iam(cx: &Cx<'_>) -> Result<aws_sdk_iam::Client, ProviderError> {
    cx.client(aws_sdk_iam::Client::new)
}

pub(crate) fn iam_tags(map: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    map.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::Other(e.to_string()))
        })
        .collect()
}

pub(crate) fn no_such<E: aws_sdk_iam::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("NoSuchEntity")
}

/// IAM names: 1 to `max` of a-z, A-Z, 0-9 and +=,.@_-; paths: `/` or `/…/`.
pub(crate) fn check_name(errs: &mut Vec<FieldError>, name: &str, max: usize, path: &str) {
    if name.is_empty()
        || name.len() > max
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    {
        errs.push(FieldError::new(
            "name",
            format!("{name:?}: 1 to {max} of a-z, A-Z, 0-9 and +=,.@_-"),
        ));
    }
    if !path.starts_with('/') || !path.ends_with('/') || path.len() > 512 {
        errs.push(FieldError::new(
            "path",
            format!("{path:?}: a path starts and ends with /"),
        ));
    }
}

async fn attached(
    client: &aws_sdk_iam::Client,
    name: &str,
) -> Result<BTreeSet<String>, ProviderError> {
    let out = client
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(api_error("iam:ListAttachedRolePolicies"))?;
    Ok(out
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect())
}

async fn inline(
    client: &aws_sdk_iam::Client,
    name: &str,
) -> Result<BTreeMap<String, Value>, ProviderError> {
    let names = client
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(api_error("iam:ListRolePolicies"))?;
    let mut out = BTreeMap::new();
    for p in names.policy_names() {
        let doc = client
            .get_role_policy()
            .role_name(name)
            .policy_name(p)
            .send()
            .await
            .map_err(api_error("iam:GetRolePolicy"))?;
        out.insert(p.clone(), parse_policy(doc.policy_document()));
    }
    Ok(out)
}

fn declared_arns(args: &IamRoleArgs) -> Result<BTreeSet<String>, ProviderError> {
    args.managed_policy_arns
        .iter()
        .map(|a| a.value().cloned().map_err(Into::into))
        .collect()
}

/// Attaches, detaches, puts and deletes policies to go from `old` to `new`.
async fn sync_policies(
    client: &aws_sdk_iam::Client,
    name: &str,
    old_arns: &BTreeSet<String>,
    new_arns: &BTreeSet<String>,
    old_inline: &BTreeMap<String, Value>,
    new_inline: &BTreeMap<String, Value>,
) -> Result<(), ProviderError> {
    for arn in new_arns.difference(old_arns) {
        client
            .attach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map_err(api_error("iam:AttachRolePolicy"))?;
    }
    for arn in old_arns.difference(new_arns) {
        match client
            .detach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if no_such(&e) => {}
            Err(e) => return Err(api_error("iam:DetachRolePolicy")(e)),
        }
    }
    for (p, doc) in new_inline {
        if old_inline.get(p) != Some(doc) {
            client
                .put_role_policy()
                .role_name(name)
                .policy_name(p)
                .policy_document(doc.to_string())
                .send()
                .await
                .map_err(api_error("iam:PutRolePolicy"))?;
        }
    }
    for p in old_inline.keys().filter(|p| !new_inline.contains_key(*p)) {
        match client
            .delete_role_policy()
            .role_name(name)
            .policy_name(p)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if no_such(&e) => {}
            Err(e) => return Err(api_error("iam:DeleteRolePolicy")(e)),
        }
    }
    Ok(())
}

#[async_trait]
impl Resource for IamRole {
    const TYPE: &'static str = "aws:iam/role";
    const REPLACE_ON: &'static [&'static str] = &["name", "path"];
    /// IAM role names are unique in the account whatever the path (and whatever the
    /// case, which this comparison does not see).
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = IamRoleArgs;
    type Outputs = IamRoleOutputs;

    fn validate(args: &IamRoleArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        check_name(&mut errs, &args.name, 64, &args.path);
        errs.extend(check_policy("assume_role_policy", &args.assume_role_policy));
        for (n, doc) in &args.inline_policies {
            errs.extend(check_policy(&format!("inline_policies.{n}"), doc));
        }
        if !(3600..=43200).contains(&args.max_session_duration) {
            errs.push(FieldError::new(
                "max_session_duration",
                format!("{} s: AWS allows 3600 to 43200", args.max_session_duration),
            ));
        }
        if args.managed_policy_arns.len() > 20 {
            errs.push(FieldError::new(
                "managed_policy_arns",
                "AWS attaches at most 20 managed policies to a role",
            ));
        }
        errs
    }

    fn estimate(_: &IamRoleArgs) -> Duration {
        Duration::from_secs(3)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &IamRoleArgs,
    ) -> Result<Created<IamRoleOutputs>, ProviderError> {
        let client = iam(cx)?;
        let out = client
            .create_role()
            .role_name(&args.name)
            .path(&args.path)
            .assume_role_policy_document(args.assume_role_policy.to_string())
            .set_description(args.description.clone())
            .max_session_duration(args.max_session_duration)
            .set_tags(Some(iam_tags(&create_tags(cx, &args.tags))?))
            .send()
            .await
            .map_err(api_error("iam:CreateRole"))?;
        let role = out
            .role()
            .ok_or_else(|| ProviderError::Other("CreateRole returned no role".into()))?;
        sync_policies(
            &client,
            &args.name,
            &BTreeSet::new(),
            &declared_arns(args)?,
            &BTreeMap::new(),
            &args.inline_policies,
        )
        .await?;
        Ok(Created {
            id: args.name.clone(),
            outputs: IamRoleOutputs {
                name: args.name.clone(),
                arn: role.arn().to_owned(),
                unique_id: role.role_id().to_owned(),
            },
        })
    }

    /// `CreateRole` refuses a taken name (`EntityAlreadyExists`) and takes the tags, this
    /// create's `strata:token` included, in the same call: the role of that name is this
    /// create's only when it carries the token (its policies are then made complete, as
    /// the create would have). Without it, it is somebody else's: absent.
    async fn recover(
        cx: &Cx<'_>,
        args: &IamRoleArgs,
    ) -> Result<Recovery<IamRoleOutputs>, ProviderError> {
        let client = iam(cx)?;
        let role = match client.get_role().role_name(&args.name).send().await {
            Ok(r) => r.role,
            Err(e) if no_such(&e) => return Ok(Recovery::Absent),
            Err(e) => return Err(api_error("iam:GetRole")(e)),
        };
        let Some(role) = role else {
            return Ok(Recovery::Absent);
        };
        if !cx.owns(role.tags().iter().map(|t| (t.key(), t.value()))) {
            return Ok(Recovery::Absent);
        }
        let (arns, policies) = (
            attached(&client, &args.name).await?,
            inline(&client, &args.name).await?,
        );
        sync_policies(
            &client,
            &args.name,
            &arns,
            &declared_arns(args)?,
            &policies,
            &args.inline_policies,
        )
        .await?;
        Ok(Recovery::Found(Created {
            id: args.name.clone(),
            outputs: IamRoleOutputs {
                name: args.name.clone(),
                arn: role.arn().to_owned(),
                unique_id: role.role_id().to_owned(),
            },
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&IamRoleArgs>,
    ) -> Result<Option<Observed<IamRoleArgs, IamRoleOutputs>>, ProviderError> {
        let client = iam(cx)?;
        let role = match client.get_role().role_name(id).send().await {
            Ok(r) => r.role,
            Err(e) if no_such(&e) => return Ok(None),
            Err(e) => return Err(api_error("iam:GetRole")(e)),
        };
        let Some(role) = role else { return Ok(None) };
        let live_arns = attached(&client, id).await?;
        // Keep the declared order when the set is the same.
        let managed_policy_arns = match args {
            Some(a) if declared_arns(a).ok().as_ref() == Some(&live_arns) => {
                a.managed_policy_arns.clone()
            }
            _ => live_arns.into_iter().map(Input::Value).collect(),
        };
        Ok(Some(Observed {
            args: IamRoleArgs {
                name: role.role_name().to_owned(),
                path: role.path().to_owned(),
                assume_role_policy: role
                    .assume_role_policy_document()
                    .map(parse_policy)
                    .unwrap_or(Value::Null),
                description: role
                    .description()
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned),
                max_session_duration: role.max_session_duration().unwrap_or(3600),
                managed_policy_arns,
                inline_policies: inline(&client, id).await?,
                tags: user_tags(role.tags().iter().map(|t| (t.key(), t.value()))),
            },
            outputs: IamRoleOutputs {
                name: role.role_name().to_owned(),
                arn: role.arn().to_owned(),
                unique_id: role.role_id().to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &IamRoleArgs,
        new: &IamRoleArgs,
        outputs: &IamRoleOutputs,
    ) -> Result<IamRoleOutputs, ProviderError> {
        let client = iam(cx)?;
        if old.assume_role_policy != new.assume_role_policy {
            client
                .update_assume_role_policy()
                .role_name(id)
                .policy_document(new.assume_role_policy.to_string())
                .send()
                .await
                .map_err(api_error("iam:UpdateAssumeRolePolicy"))?;
        }
        if (&old.description, old.max_session_duration)
            != (&new.description, new.max_session_duration)
        {
            client
                .update_role()
                .role_name(id)
                .description(new.description.clone().unwrap_or_default())
                .max_session_duration(new.max_session_duration)
                .send()
                .await
                .map_err(api_error("iam:UpdateRole"))?;
        }
        sync_policies(
            &client,
            id,
            &declared_arns(old)?,
            &declared_arns(new)?,
            &old.inline_policies,
            &new.inline_policies,
        )
        .await?;
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_role()
                .role_name(id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("iam:UntagRole"))?;
        }
        if !set.is_empty() {
            client
                .tag_role()
                .role_name(id)
                .set_tags(Some(iam_tags(&set)?))
                .send()
                .await
                .map_err(api_error("iam:TagRole"))?;
        }
        Ok(outputs.clone())
    }

    /// Detaches its policies, deletes its inline ones and leaves its instance profiles
    /// first, as IAM requires.
    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &IamRoleArgs,
        _: &IamRoleOutputs,
    ) -> Result<(), ProviderError> {
        let client = iam(cx)?;
        let arns = match attached(&client, id).await {
            Ok(a) => a,
            Err(ProviderError::Api { code: Some(c), .. }) if c == "NoSuchEntity" => return Ok(()),
            Err(e) => return Err(e),
        };
        let policies = inline(&client, id).await?;
        sync_policies(
            &client,
            id,
            &arns,
            &BTreeSet::new(),
            &policies,
            &BTreeMap::new(),
        )
        .await?;
        let profiles = client
            .list_instance_profiles_for_role()
            .role_name(id)
            .send()
            .await
            .map_err(api_error("iam:ListInstanceProfilesForRole"))?;
        for p in profiles.instance_profiles() {
            client
                .remove_role_from_instance_profile()
                .instance_profile_name(p.instance_profile_name())
                .role_name(id)
                .send()
                .await
                .map_err(api_error("iam:RemoveRoleFromInstanceProfile"))?;
        }
        match client.delete_role().role_name(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if no_such(&e) => Ok(()),
            Err(e) => Err(api_error("iam:DeleteRole")(e)),
        }
    }
}
