//! `IamPolicy`: a customer managed IAM policy.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{check_policy, check_tags, create_tags, parse_policy, tag_changes, user_tags};
use crate::iam_role::{check_name, iam, iam_tags, no_such};

/// A managed policy. A new document is a new default version (the oldest non-default
/// version is deleted when AWS's limit of 5 is reached); the name, path and description
/// replace it. Delete detaches it from every role, user and group first.
///
/// ```
/// use strata_core::Stack;
/// use strata_security::IamPolicy;
/// let mut s = Stack::new("dev");
/// s.add("read-secrets", IamPolicy::new("shop-read-secrets", serde_json::json!({
///     "Version": "2012-10-17",
///     "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]
/// })));
/// ```
#[derive(Debug)]
pub struct IamPolicy;

/// The args of an [`IamPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamPolicyArgs {
    /// The name.
    pub name: String,
    /// The path (`/`).
    pub path: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// The document.
    pub document: Value,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl IamPolicy {
    /// A policy `name` with `document`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, document: Value) -> IamPolicyArgs {
        IamPolicyArgs {
            name: name.into(),
            path: "/".into(),
            description: None,
            document,
            tags: BTreeMap::new(),
        }
    }
}

impl IamPolicyArgs {
    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for IamPolicyArgs {
    type Resource = IamPolicy;
}

/// The outputs of an [`IamPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamPolicyOutputs {
    /// The ARN (its id).
    pub arn: String,
    /// The name.
    pub name: String,
}

strata_core::outputs!(IamPolicy => IamPolicyHandle {
    /// The ARN.
    arn: String,
});

async fn document(
    client: &aws_sdk_iam::Client,
    arn: &str,
    version: &str,
) -> Result<Value, ProviderError> {
    let v = client
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map_err(api_error("iam:GetPolicyVersion"))?;
    Ok(v.policy_version()
        .and_then(|p| p.document())
        .map(parse_policy)
        .unwrap_or(Value::Null))
}

#[async_trait]
impl Resource for IamPolicy {
    const TYPE: &'static str = "aws:iam/policy";
    const REPLACE_ON: &'static [&'static str] = &["name", "path", "description"];
    /// Managed policy names are unique in the account whatever the path.
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = IamPolicyArgs;
    type Outputs = IamPolicyOutputs;

    fn validate(args: &IamPolicyArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        check_name(&mut errs, &args.name, 128, &args.path);
        errs.extend(check_policy("document", &args.document));
        if args.document.to_string().len() > 6144 {
            errs.push(FieldError::new(
                "document",
                "a managed policy has at most 6144 characters",
            ));
        }
        errs
    }

    fn estimate(_: &IamPolicyArgs) -> Duration {
        Duration::from_secs(2)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &IamPolicyArgs,
    ) -> Result<Created<IamPolicyOutputs>, ProviderError> {
        let out = iam(cx)?
            .create_policy()
            .policy_name(&args.name)
            .path(&args.path)
            .set_description(args.description.clone())
            .policy_document(args.document.to_string())
            .set_tags(Some(iam_tags(&create_tags(cx, &args.tags))?))
            .send()
            .await
            .map_err(api_error("iam:CreatePolicy"))?;
        let arn = out
            .policy()
            .and_then(|p| p.arn())
            .unwrap_or_default()
            .to_owned();
        Ok(Created {
            outputs: IamPolicyOutputs {
                arn: arn.clone(),
                name: args.name.clone(),
            },
            id: arn,
        })
    }

    /// `CreatePolicy` refuses a taken name (`EntityAlreadyExists`) and takes the tags,
    /// this create's `strata:token` included, in the same call: the account's policy of
    /// that name and path is this create's only when it carries the token. Without it, it
    /// is somebody else's: absent.
    async fn recover(
        cx: &Cx<'_>,
        args: &IamPolicyArgs,
    ) -> Result<Recovery<IamPolicyOutputs>, ProviderError> {
        let client = iam(cx)?;
        let mut marker = None;
        let arn = loop {
            let list = client
                .list_policies()
                .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                .path_prefix(&args.path)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(api_error("iam:ListPolicies"))?;
            if let Some(p) = list.policies().iter().find(|p| {
                p.policy_name() == Some(args.name.as_str()) && p.path() == Some(args.path.as_str())
            }) {
                break p.arn().unwrap_or_default().to_owned();
            }
            match list.marker() {
                Some(m) if list.is_truncated() => marker = Some(m.to_owned()),
                _ => return Ok(Recovery::Absent),
            }
        };
        let tags = client
            .list_policy_tags()
            .policy_arn(&arn)
            .send()
            .await
            .map_err(api_error("iam:ListPolicyTags"))?;
        if !cx.owns(tags.tags().iter().map(|t| (t.key(), t.value()))) {
            return Ok(Recovery::Absent);
        }
        Ok(Recovery::Found(Created {
            outputs: IamPolicyOutputs {
                arn: arn.clone(),
                name: args.name.clone(),
            },
            id: arn,
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&IamPolicyArgs>,
    ) -> Result<Option<Observed<IamPolicyArgs, IamPolicyOutputs>>, ProviderError> {
        let client = iam(cx)?;
        let p = match client.get_policy().policy_arn(id).send().await {
            Ok(p) => p.policy,
            Err(e) if no_such(&e) => return Ok(None),
            Err(e) => return Err(api_error("iam:GetPolicy")(e)),
        };
        let Some(p) = p else { return Ok(None) };
        let doc = document(&client, id, p.default_version_id().unwrap_or("v1")).await?;
        Ok(Some(Observed {
            args: IamPolicyArgs {
                name: p.policy_name().unwrap_or_default().to_owned(),
                path: p.path().unwrap_or("/").to_owned(),
                description: p.description().filter(|d| !d.is_empty()).map(str::to_owned),
                document: doc,
                tags: user_tags(p.tags().iter().map(|t| (t.key(), t.value()))),
            },
            outputs: IamPolicyOutputs {
                arn: id.to_owned(),
                name: p.policy_name().unwrap_or_default().to_owned(),
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &IamPolicyArgs,
        new: &IamPolicyArgs,
        outputs: &IamPolicyOutputs,
    ) -> Result<IamPolicyOutputs, ProviderError> {
        let client = iam(cx)?;
        if old.document != new.document {
            let versions = client
                .list_policy_versions()
                .policy_arn(id)
                .send()
                .await
                .map_err(api_error("iam:ListPolicyVersions"))?;
            let mut old_versions: Vec<_> = versions
                .versions()
                .iter()
                .filter(|v| !v.is_default_version())
                .collect();
            if versions.versions().len() >= 5 {
                old_versions.sort_by_key(|v| v.create_date().map(|d| d.secs()));
                if let Some(v) = old_versions.first().and_then(|v| v.version_id()) {
                    client
                        .delete_policy_version()
                        .policy_arn(id)
                        .version_id(v)
                        .send()
                        .await
                        .map_err(api_error("iam:DeletePolicyVersion"))?;
                }
            }
            client
                .create_policy_version()
                .policy_arn(id)
                .policy_document(new.document.to_string())
                .set_as_default(true)
                .send()
                .await
                .map_err(api_error("iam:CreatePolicyVersion"))?;
        }
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_policy()
                .policy_arn(id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("iam:UntagPolicy"))?;
        }
        if !set.is_empty() {
            client
                .tag_policy()
                .policy_arn(id)
                .set_tags(Some(iam_tags(&set)?))
                .send()
                .await
                .map_err(api_error("iam:TagPolicy"))?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &IamPolicyArgs,
        _: &IamPolicyOutputs,
    ) -> Result<(), ProviderError> {
        let client = iam(cx)?;
        let entities = match client
            .list_entities_for_policy()
            .policy_arn(id)
            .send()
            .await
        {
            Ok(e) => e,
            Err(e) if no_such(&e) => return Ok(()),
            Err(e) => return Err(api_error("iam:ListEntitiesForPolicy")(e)),
        };
        for r in entities.policy_roles() {
            if let Some(name) = r.role_name() {
                client
                    .detach_role_policy()
                    .role_name(name)
                    .policy_arn(id)
                    .send()
                    .await
                    .map_err(api_error("iam:DetachRolePolicy"))?;
            }
        }
        for u in entities.policy_users() {
            if let Some(name) = u.user_name() {
                client
                    .detach_user_policy()
                    .user_name(name)
                    .policy_arn(id)
                    .send()
                    .await
                    .map_err(api_error("iam:DetachUserPolicy"))?;
            }
        }
        for g in entities.policy_groups() {
            if let Some(name) = g.group_name() {
                client
                    .detach_group_policy()
                    .group_name(name)
                    .policy_arn(id)
                    .send()
                    .await
                    .map_err(api_error("iam:DetachGroupPolicy"))?;
            }
        }
        let versions = client
            .list_policy_versions()
            .policy_arn(id)
            .send()
            .await
            .map_err(api_error("iam:ListPolicyVersions"))?;
        for v in versions
            .versions()
            .iter()
            .filter(|v| !v.is_default_version())
        {
            if let Some(vid) = v.version_id() {
                client
                    .delete_policy_version()
                    .policy_arn(id)
                    .version_id(vid)
                    .send()
                    .await
                    .map_err(api_error("iam:DeletePolicyVersion"))?;
            }
        }
        match client.delete_policy().policy_arn(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if no_such(&e) => Ok(()),
            Err(e) => Err(api_error("iam:DeletePolicy")(e)),
        }
    }
}
