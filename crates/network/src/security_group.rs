//! `SecurityGroup`: a VPC security group. Its rules are [`crate::SecurityGroupRule`]
//! resources, so groups can refer to each other (ALB → app → DB) without cycles.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType};
use serde::{Deserialize, Serialize};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{
    arn, check_tags, delete_retrying, ec2, not_found, owned, tag_spec, token_filter, update_tags,
    user_tags,
};

/// A security group.
///
/// AWS gives a new group an egress rule that allows everything; `revoke_default_egress`
/// removes it at create, so that only declared [`crate::SecurityGroupRule`]s apply.
///
/// The name, description and VPC cannot change in place. A replacement that keeps the
/// name (a change of the description alone) cannot create the new group beside the old
/// one, so the plan refuses it (see `Resource::IDENTITY`): change the name with it, or set
/// `delete_before_replace` (AWS refuses that delete while network interfaces or other
/// groups' rules still use the group).
///
/// A name that is taken in the VPC (`InvalidGroup.Duplicate`) is never taken over: the
/// create fails naming the conflict, and the existing group is left as it is.
///
/// ```
/// use strata_core::Stack;
/// use strata_network::*;
/// let mut s = Stack::new("dev");
/// let vpc = s.add("vpc", Vpc::new("10.0.0.0/16"));
/// let alb = s.add("alb-sg", SecurityGroup::new("shop-alb", "ALB: HTTPS from anywhere", vpc.id()));
/// let app = s.add("app-sg", SecurityGroup::new("shop-app", "app servers", vpc.id()));
/// s.add("app-from-alb", SecurityGroupRule::ingress(app.id()).tcp(8080).from_group(alb.id()));
/// ```
#[derive(Debug)]
pub struct SecurityGroup;

/// The args of a [`SecurityGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroupArgs {
    /// The group name (unique in the VPC).
    pub name: String,
    /// The description.
    pub description: String,
    /// The VPC.
    pub vpc_id: Input<String>,
    /// Remove AWS's allow-all egress rule at create.
    #[serde(default)]
    pub revoke_default_egress: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl SecurityGroup {
    /// A group `name` in `vpc_id`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        vpc_id: impl Into<Input<String>>,
    ) -> SecurityGroupArgs {
        SecurityGroupArgs {
            name: name.into(),
            description: description.into(),
            vpc_id: vpc_id.into(),
            revoke_default_egress: false,
            tags: BTreeMap::new(),
        }
    }
}

impl SecurityGroupArgs {
    /// Removes AWS's allow-all egress rule at create.
    pub fn revoke_default_egress(mut self) -> Self {
        self.revoke_default_egress = true;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for SecurityGroupArgs {
    type Resource = SecurityGroup;
}

/// The outputs of a [`SecurityGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroupOutputs {
    /// `sg-…`.
    pub id: String,
    /// The ARN.
    pub arn: String,
    /// The name.
    pub name: String,
}

strata_core::outputs!(SecurityGroup => SecurityGroupHandle {
    /// `sg-…`.
    id: String,
    /// The ARN.
    arn: String,
});

/// The characters AWS allows in VPC group names and descriptions.
pub(crate) fn allowed_text(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c))
}

fn outputs(cx: &Cx<'_>, g: &aws_sdk_ec2::types::SecurityGroup) -> SecurityGroupOutputs {
    let id = g.group_id().unwrap_or_default().to_owned();
    SecurityGroupOutputs {
        arn: g
            .security_group_arn()
            .map(str::to_owned)
            .unwrap_or_else(|| arn(cx, g.owner_id().unwrap_or_default(), "security-group", &id)),
        id,
        name: g.group_name().unwrap_or_default().to_owned(),
    }
}

/// Revokes the allow-all egress rule AWS gives a new group; already gone is fine.
async fn revoke_default_egress(
    client: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<(), ProviderError> {
    match client
        .revoke_security_group_egress()
        .group_id(id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("-1")
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if not_found(&e) => Ok(()),
        Err(e) => Err(api_error("ec2:RevokeSecurityGroupEgress")(e)),
    }
}

#[async_trait]
impl Resource for SecurityGroup {
    const TYPE: &'static str = "aws:ec2/security-group";
    const REPLACE_ON: &'static [&'static str] =
        &["name", "description", "vpc_id", "revoke_default_egress"];
    /// A group name is unique in its VPC.
    const IDENTITY: &'static [&'static str] = &["vpc_id", "name"];
    type Args = SecurityGroupArgs;
    type Outputs = SecurityGroupOutputs;

    fn validate(args: &SecurityGroupArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        if args.name.is_empty() || args.name.len() > 255 {
            errs.push(FieldError::new(
                "name",
                "a group name has 1 to 255 characters",
            ));
        }
        if args.name.to_ascii_lowercase().starts_with("sg-") {
            errs.push(FieldError::new(
                "name",
                "a group name cannot start with sg-",
            ));
        }
        if !allowed_text(&args.name) {
            errs.push(FieldError::new(
                "name",
                "only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* are allowed",
            ));
        }
        if args.description.is_empty() || args.description.len() > 255 {
            errs.push(FieldError::new(
                "description",
                "a group description has 1 to 255 characters",
            ));
        }
        if !allowed_text(&args.description) {
            errs.push(FieldError::new(
                "description",
                "only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* are allowed",
            ));
        }
        errs
    }

    fn estimate(_: &SecurityGroupArgs) -> Duration {
        Duration::from_secs(2)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &SecurityGroupArgs,
    ) -> Result<Created<SecurityGroupOutputs>, ProviderError> {
        let client = ec2(cx)?;
        let out = client
            .create_security_group()
            .group_name(&args.name)
            .description(&args.description)
            .vpc_id(args.vpc_id.value()?)
            .tag_specifications(tag_spec(cx, ResourceType::SecurityGroup, &args.tags))
            .send()
            .await
            .map_err(api_error("ec2:CreateSecurityGroup"))?;
        let id = out.group_id().unwrap_or_default().to_owned();
        if args.revoke_default_egress {
            revoke_default_egress(&client, &id).await?;
        }
        Ok(Created {
            outputs: SecurityGroupOutputs {
                arn: out
                    .security_group_arn()
                    .map(str::to_owned)
                    .unwrap_or_else(|| arn(cx, "", "security-group", &id)),
                id: id.clone(),
                name: args.name.clone(),
            },
            id,
        })
    }

    /// Found by this create's `strata:token` tag (set atomically by the create call's tag
    /// specification); a group of that name without it is somebody else's. A crash may
    /// have come before the default egress rule was revoked: recovery finishes that.
    async fn recover(
        cx: &Cx<'_>,
        args: &SecurityGroupArgs,
    ) -> Result<Recovery<SecurityGroupOutputs>, ProviderError> {
        let client = ec2(cx)?;
        let out = client
            .describe_security_groups()
            .filters(token_filter(cx))
            .send()
            .await
            .map_err(api_error("ec2:DescribeSecurityGroups"))?;
        let Some(g) = out.security_groups().iter().find(|g| owned(cx, g.tags())) else {
            return Ok(Recovery::Absent);
        };
        let id = g.group_id().unwrap_or_default().to_owned();
        if args.revoke_default_egress {
            revoke_default_egress(&client, &id).await?;
        }
        Ok(Recovery::Found(Created {
            id,
            outputs: outputs(cx, g),
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&SecurityGroupArgs>,
    ) -> Result<Option<Observed<SecurityGroupArgs, SecurityGroupOutputs>>, ProviderError> {
        let out = match ec2(cx)?
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(api_error("ec2:DescribeSecurityGroups")(e)),
        };
        let Some(g) = out.security_groups().first() else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: SecurityGroupArgs {
                name: g.group_name().unwrap_or_default().to_owned(),
                description: g.description().unwrap_or_default().to_owned(),
                vpc_id: Input::Value(g.vpc_id().unwrap_or_default().to_owned()),
                // A create-time action, not a property.
                revoke_default_egress: args.is_some_and(|a| a.revoke_default_egress),
                tags: user_tags(g.tags()),
            },
            outputs: outputs(cx, g),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &SecurityGroupArgs,
        new: &SecurityGroupArgs,
        outputs: &SecurityGroupOutputs,
    ) -> Result<SecurityGroupOutputs, ProviderError> {
        update_tags(&ec2(cx)?, id, &old.tags, &new.tags).await?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &SecurityGroupArgs,
        _: &SecurityGroupOutputs,
    ) -> Result<(), ProviderError> {
        let client = ec2(cx)?;
        // Network interfaces of deleted instances and load balancers hold a group for a
        // while after their owners are gone.
        delete_retrying(
            format!("security group {id}"),
            "ec2:DeleteSecurityGroup",
            || client.delete_security_group().group_id(id).send(),
        )
        .await
    }
}
