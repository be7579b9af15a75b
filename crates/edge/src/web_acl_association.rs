//! `WebAclAssociation`: puts a regional resource (a load balancer, an API stage) behind a
//! WAF web ACL.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_wafv2::error::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, wait_for};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::elb_common::{arn_region, keep_one, wafv2};

/// How long an association retries a web ACL that WAF does not serve yet.
const UNAVAILABLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The association of a web ACL with a regional resource (`AssociateWebACL`).
///
/// Both ARNs replace it; there is nothing to update. Its id is the resource's ARN (a
/// resource has at most one web ACL). Read asks `GetWebACLForResource`. The calls go to the
/// resource's region. A new web ACL may not be usable at once (`WAFUnavailableEntity`):
/// create retries that for up to 5 minutes. CloudFront distributions are not associated
/// this way but through their own web ACL setting.
///
/// `AssociateWebACL` silently moves a resource that is behind another web ACL: create
/// therefore asks first and refuses a resource that already has a web ACL (it was not put
/// there by this resource). For the same reason a replacement removes the old association
/// before it makes the new one (for that moment the resource has no web ACL). Associations
/// carry no tags: an interrupted create is found again only when the resource is behind
/// exactly the declared web ACL.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::{LoadBalancer, LoadBalancerHandle, WebAcl, WebAclHandle, WebAclAssociation, Rule};
/// let mut s = Stack::new("dev");
/// let alb = s.add("alb", LoadBalancer::new("shop-alb", ["subnet-a", "subnet-b"]).security_group("sg-1"));
/// let waf = s.add("waf", WebAcl::regional("shop-waf").rule(Rule::common(1)));
/// s.add("waf-alb", WebAclAssociation::new(waf.arn(), alb.arn()));
/// assert!(s.seal().is_ok());
/// ```
#[derive(Debug)]
pub struct WebAclAssociation;

/// The args of a [`WebAclAssociation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebAclAssociationArgs {
    /// The regional web ACL. Replaces.
    pub web_acl_arn: Input<String>,
    /// The protected resource. Replaces.
    pub resource_arn: Input<String>,
}

impl WebAclAssociation {
    /// Puts `resource_arn` behind `web_acl_arn`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        web_acl_arn: impl Into<Input<String>>,
        resource_arn: impl Into<Input<String>>,
    ) -> WebAclAssociationArgs {
        WebAclAssociationArgs {
            web_acl_arn: web_acl_arn.into(),
            resource_arn: resource_arn.into(),
        }
    }
}

impl ResourceArgs for WebAclAssociationArgs {
    type Resource = WebAclAssociation;
}

/// The outputs of a [`WebAclAssociation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebAclAssociationOutputs {
    /// The web ACL.
    pub web_acl_arn: String,
    /// The protected resource (the association's id).
    pub resource_arn: String,
}

strata_core::outputs!(WebAclAssociation => WebAclAssociationHandle {
    /// The web ACL.
    web_acl_arn: String,
    /// The protected resource.
    resource_arn: String,
});

fn client(cx: &Cx<'_>, resource_arn: &str) -> Result<aws_sdk_wafv2::Client, ProviderError> {
    wafv2(cx, arn_region(resource_arn))
}

/// The ARN of the web ACL `resource_arn` is behind, if any.
async fn acl_of(
    client: &aws_sdk_wafv2::Client,
    resource_arn: &str,
) -> Result<Option<String>, ProviderError> {
    match client
        .get_web_acl_for_resource()
        .resource_arn(resource_arn)
        .send()
        .await
    {
        Ok(o) => Ok(o.web_acl().map(|w| w.arn().to_owned())),
        Err(e) if e.code() == Some("WAFNonexistentItemException") => Ok(None),
        Err(e) => Err(api_error("wafv2:GetWebACLForResource")(e)),
    }
}

#[async_trait]
impl Resource for WebAclAssociation {
    const TYPE: &'static str = "aws:wafv2/web-acl-association";
    const REPLACE_ON: &'static [&'static str] = &["web_acl_arn", "resource_arn"];
    /// A resource is behind at most one web ACL.
    const IDENTITY: &'static [&'static str] = &["resource_arn"];
    /// The new association of a replacement would be refused while the old one holds the
    /// resource.
    const DELETE_BEFORE_REPLACE: bool = true;
    type Args = WebAclAssociationArgs;
    type Outputs = WebAclAssociationOutputs;

    fn validate(a: &WebAclAssociationArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(w) = a.web_acl_arn.known() {
            if !w.starts_with("arn:") || !w.contains(":wafv2:") || !w.contains("/webacl/") {
                errs.push(FieldError::new(
                    "web_acl_arn",
                    format!("{w:?} is not a WAFv2 web ACL ARN"),
                ));
            } else if w.contains(":global/webacl/") {
                errs.push(FieldError::new(
                    "web_acl_arn",
                    "a CloudFront-scope web ACL is set on the distribution, not associated",
                ));
            }
        }
        if let Some(r) = a.resource_arn.known() {
            if !r.starts_with("arn:") || arn_region(r).is_none() {
                errs.push(FieldError::new(
                    "resource_arn",
                    format!("{r:?} is not the ARN of a regional resource"),
                ));
            } else if r.contains(":cloudfront:") {
                errs.push(FieldError::new(
                    "resource_arn",
                    "a CloudFront distribution takes its web ACL in its own configuration",
                ));
            }
        }
        if let (Some(w), Some(r)) = (a.web_acl_arn.known(), a.resource_arn.known()) {
            if let (Some(wr), Some(rr)) = (arn_region(w), arn_region(r)) {
                if wr != rr {
                    errs.push(FieldError::new(
                        "web_acl_arn",
                        format!("the web ACL is in {wr} and the resource in {rr}: they must share a region"),
                    ));
                }
            }
        }
        errs
    }

    fn estimate(_: &WebAclAssociationArgs) -> Duration {
        Duration::from_secs(5)
    }

    async fn create(
        cx: &Cx<'_>,
        a: &WebAclAssociationArgs,
    ) -> Result<Created<WebAclAssociationOutputs>, ProviderError> {
        let (acl, resource) = (a.web_acl_arn.value()?, a.resource_arn.value()?);
        let client = client(cx, resource)?;
        // AssociateWebACL replaces whatever web ACL the resource is behind: refuse instead,
        // even when it is this very ACL (an association made outside the stack; the engine
        // never adopts a lookalike after a refused create).
        if let Some(live) = acl_of(&client, resource).await? {
            return Err(ProviderError::AlreadyExists {
                operation: "wafv2:AssociateWebACL".into(),
                message: format!(
                    "{resource} is already behind web ACL {live}, which this resource did not associate (AWS would silently replace it); disassociate it or `import` the association"
                ),
            });
        }
        wait_for(
            format!("WAF to accept web ACL {acl} for {resource}"),
            UNAVAILABLE_TIMEOUT,
            Duration::from_secs(5),
            || async {
                match client
                    .associate_web_acl()
                    .web_acl_arn(acl)
                    .resource_arn(resource)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Some(())),
                    Err(e) if e.code() == Some("WAFUnavailableEntityException") => Ok(None),
                    Err(e) => Err(api_error("wafv2:AssociateWebACL")(e)),
                }
            },
        )
        .await?;
        Ok(Created {
            id: resource.clone(),
            outputs: WebAclAssociationOutputs {
                web_acl_arn: acl.clone(),
                resource_arn: resource.clone(),
            },
        })
    }

    /// Resembles the declaration only if the resource is behind exactly this web ACL (an
    /// association has no tags, and nothing else identifies it); behind another one or
    /// none: `Absent`.
    async fn recover(
        cx: &Cx<'_>,
        a: &WebAclAssociationArgs,
    ) -> Result<Recovery<WebAclAssociationOutputs>, ProviderError> {
        let (acl, resource) = (a.web_acl_arn.value()?, a.resource_arn.value()?);
        Ok(match acl_of(&client(cx, resource)?, resource).await? {
            Some(live) if live == *acl => Recovery::Resembles(Created {
                id: resource.clone(),
                outputs: WebAclAssociationOutputs {
                    web_acl_arn: live,
                    resource_arn: resource.clone(),
                },
            }),
            _ => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&WebAclAssociationArgs>,
    ) -> Result<Option<Observed<WebAclAssociationArgs, WebAclAssociationOutputs>>, ProviderError>
    {
        let Some(acl) = acl_of(&client(cx, id)?, id).await? else {
            return Ok(None);
        };
        Ok(Some(Observed {
            args: WebAclAssociationArgs {
                web_acl_arn: keep_one(args.map(|a| &a.web_acl_arn), acl.clone()),
                resource_arn: keep_one(args.map(|a| &a.resource_arn), id.to_owned()),
            },
            outputs: WebAclAssociationOutputs {
                web_acl_arn: acl,
                resource_arn: id.to_owned(),
            },
        }))
    }

    async fn update(
        _: &Cx<'_>,
        _: &str,
        _: &WebAclAssociationArgs,
        _: &WebAclAssociationArgs,
        outputs: &WebAclAssociationOutputs,
    ) -> Result<WebAclAssociationOutputs, ProviderError> {
        // Every property replaces it.
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &WebAclAssociationArgs,
        outputs: &WebAclAssociationOutputs,
    ) -> Result<(), ProviderError> {
        let client = client(cx, id)?;
        // Only if the resource is still behind this association's ACL: a replacement may
        // already have put it behind another.
        match acl_of(&client, id).await? {
            Some(live) if live == outputs.web_acl_arn => {}
            _ => return Ok(()),
        }
        match client.disassociate_web_acl().resource_arn(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("WAFNonexistentItemException") => Ok(()),
            Err(e) => Err(api_error("wafv2:DisassociateWebACL")(e)),
        }
    }
}
