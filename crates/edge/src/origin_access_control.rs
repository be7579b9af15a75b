//! `OriginAccessControl`: how CloudFront signs its requests to an origin (an S3 bucket that
//! only CloudFront may read), and [`cloudfront_read_policy`], the bucket policy that lets it.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudfront::error::ProvideErrorMetadata;
use aws_sdk_cloudfront::types::{
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols, OriginAccessControlSummary,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

/// A CloudFront origin access control (OAC).
///
/// A distribution's S3 origin names it ([`crate::DistributionOrigin::s3`]); CloudFront then
/// signs its requests to the bucket (SigV4), and the bucket's policy allows exactly that
/// distribution ([`cloudfront_read_policy`], declared as a `strata_data::BucketPolicy` so
/// that it can take the distribution's ARN). Everything changes in place. Names are
/// unique in the account: a name in use fails the create and changes nothing (`import`
/// takes an OAC over). OACs carry no tags and take no idempotency token: an interrupted
/// create is found again by its name only when every property is the declared one.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::OriginAccessControl;
/// let mut s = Stack::new("dev");
/// s.add("images-oac", OriginAccessControl::s3("shop-images").description("product images"));
/// ```
#[derive(Debug)]
pub struct OriginAccessControl;

/// The kind of origin an OAC signs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OacOriginType {
    /// An S3 bucket.
    S3,
    /// A Lambda function URL.
    Lambda,
    /// An AWS Elemental MediaStore container.
    Mediastore,
    /// An AWS Elemental MediaPackage v2 endpoint.
    Mediapackagev2,
}

/// When CloudFront signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigningBehavior {
    /// Every request (the viewer's `Authorization` header is replaced).
    Always,
    /// Never (the OAC is then inactive).
    Never,
    /// When the viewer's request has no `Authorization` header.
    NoOverride,
    /// Every request, with the viewer's `Authorization` header kept as
    /// `x-amz-cf-forwarded-authorization`.
    AlwaysAmzAuth,
}

/// How CloudFront signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningProtocol {
    /// AWS Signature Version 4.
    Sigv4,
    /// AWS Signature Version 4A (multi-region).
    Sigv4a,
}

/// The args of an [`OriginAccessControl`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginAccessControlArgs {
    /// The name (unique in the account, 1 to 64 characters).
    pub name: String,
    /// A description.
    #[serde(default)]
    pub description: String,
    /// The kind of origin.
    pub origin_type: OacOriginType,
    /// When CloudFront signs.
    pub signing_behavior: SigningBehavior,
    /// How CloudFront signs.
    pub signing_protocol: SigningProtocol,
}

impl OriginAccessControl {
    /// An OAC `name` for S3 origins that signs every request with SigV4.
    pub fn s3(name: impl Into<String>) -> OriginAccessControlArgs {
        OriginAccessControlArgs {
            name: name.into(),
            description: String::new(),
            origin_type: OacOriginType::S3,
            signing_behavior: SigningBehavior::Always,
            signing_protocol: SigningProtocol::Sigv4,
        }
    }
}

impl OriginAccessControlArgs {
    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
    /// Sets when CloudFront signs.
    pub fn signing_behavior(mut self, b: SigningBehavior) -> Self {
        self.signing_behavior = b;
        self
    }
}

impl ResourceArgs for OriginAccessControlArgs {
    type Resource = OriginAccessControl;
}

/// The outputs of an [`OriginAccessControl`]. (Its ETag is read fresh before every change,
/// not kept.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginAccessControlOutputs {
    /// The OAC id; also the provider id.
    pub id: String,
}

strata_core::outputs!(OriginAccessControl => OriginAccessControlHandle {
    /// The OAC id.
    id: String,
});

/// The bucket policy that lets the distribution `distribution_arn` (and only it) read every
/// object of `bucket_name` through an origin access control: `s3:GetObject` on
/// `arn:aws:s3:::BUCKET/*` for the `cloudfront.amazonaws.com` service principal, on
/// condition that `AWS:SourceArn` is the distribution.
///
/// Both names are usually outputs; combine them with [`strata_core::Output::zip`] and
/// [`strata_core::Output::map`], and declare the result as a `strata_data::BucketPolicy` (not
/// as the bucket's own `policy`, which would make the bucket depend on the distribution that
/// depends on it):
///
/// ```
/// use strata_core::Stack;
/// use strata_data::{Bucket, BucketHandle, BucketPolicy};
/// use strata_edge::{cloudfront_read_policy, CacheBehavior, Distribution, DistributionHandle,
///     DistributionOrigin, OriginAccessControl, OriginAccessControlHandle};
/// let mut s = Stack::new("dev");
/// let bucket = s.add("images", Bucket::new("shop-product-images"));
/// let oac = s.add("oac", OriginAccessControl::s3("shop-images"));
/// let cdn = s.add("cdn", Distribution::new(CacheBehavior::static_assets("images"))
///     .origin(DistributionOrigin::s3("images", bucket.regional_domain_name(), oac.id())));
/// let policy = bucket.name().zip(cdn.arn()).map(|(b, arn)| cloudfront_read_policy(&b, &arn));
/// s.add("images-policy", BucketPolicy::new(bucket.name(), policy));
/// ```
pub fn cloudfront_read_policy(bucket_name: &str, distribution_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowCloudFrontServicePrincipalReadOnly",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket_name}/*"),
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}
        }]
    })
}

/// The CloudFront client (a global API).
pub(crate) fn cloudfront(cx: &Cx<'_>) -> Result<aws_sdk_cloudfront::Client, ProviderError> {
    cx.client(aws_sdk_cloudfront::Client::new)
}

fn config(args: &OriginAccessControlArgs) -> Result<OriginAccessControlConfig, ProviderError> {
    OriginAccessControlConfig::builder()
        .name(&args.name)
        .description(&args.description)
        .origin_access_control_origin_type(match args.origin_type {
            OacOriginType::S3 => OriginAccessControlOriginTypes::S3,
            OacOriginType::Lambda => OriginAccessControlOriginTypes::Lambda,
            OacOriginType::Mediastore => OriginAccessControlOriginTypes::Mediastore,
            OacOriginType::Mediapackagev2 => OriginAccessControlOriginTypes::Mediapackagev2,
        })
        .signing_behavior(match args.signing_behavior {
            SigningBehavior::Always => OriginAccessControlSigningBehaviors::Always,
            SigningBehavior::Never => OriginAccessControlSigningBehaviors::Never,
            SigningBehavior::NoOverride => OriginAccessControlSigningBehaviors::NoOverride,
            SigningBehavior::AlwaysAmzAuth => OriginAccessControlSigningBehaviors::AlwaysAmzAuth,
        })
        .signing_protocol(match args.signing_protocol {
            SigningProtocol::Sigv4 => OriginAccessControlSigningProtocols::Sigv4,
            SigningProtocol::Sigv4a => OriginAccessControlSigningProtocols::Sigv4a,
        })
        .build()
        .map_err(|e| ProviderError::Other(e.to_string()))
}

fn gone(code: Option<&str>) -> bool {
    code == Some("NoSuchOriginAccessControl")
}

/// The live configuration and ETag, or `None` when the OAC is gone.
async fn get(
    client: &aws_sdk_cloudfront::Client,
    id: &str,
) -> Result<Option<(OriginAccessControlConfig, String)>, ProviderError> {
    match client.get_origin_access_control().id(id).send().await {
        Ok(o) => Ok(o
            .origin_access_control()
            .and_then(|c| c.origin_access_control_config())
            .cloned()
            .map(|c| (c, o.e_tag().unwrap_or_default().to_owned()))),
        Err(e) if gone(e.code()) => Ok(None),
        Err(e) => Err(api_error("cloudfront:GetOriginAccessControl")(e)),
    }
}

/// The OAC named `name` (names are unique in the account), if any, whoever made it.
async fn by_name(
    client: &aws_sdk_cloudfront::Client,
    name: &str,
) -> Result<Option<OriginAccessControlSummary>, ProviderError> {
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .list_origin_access_controls()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(api_error("cloudfront:ListOriginAccessControls"))?;
        let Some(list) = out.origin_access_control_list() else {
            return Ok(None);
        };
        if let Some(o) = list.items().iter().find(|o| o.name() == name) {
            return Ok(Some(o.clone()));
        }
        match list.next_marker() {
            Some(m) if list.is_truncated() && !m.is_empty() => marker = Some(m.to_owned()),
            _ => return Ok(None),
        }
    }
}

#[async_trait]
impl Resource for OriginAccessControl {
    const TYPE: &'static str = "aws:cloudfront/origin-access-control";
    /// Names are unique in the account.
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = OriginAccessControlArgs;
    type Outputs = OriginAccessControlOutputs;

    fn validate(args: &OriginAccessControlArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if args.name.is_empty() || args.name.chars().count() > 64 {
            errs.push(FieldError::new(
                "name",
                format!("{:?}: an OAC name has 1 to 64 characters", args.name),
            ));
        }
        if args.description.chars().count() > 256 {
            errs.push(FieldError::new(
                "description",
                "a description has at most 256 characters",
            ));
        }
        errs
    }

    fn estimate(_: &OriginAccessControlArgs) -> Duration {
        Duration::from_secs(2)
    }

    /// A name in use fails with `OriginAccessControlAlreadyExists`
    /// ([`ProviderError::AlreadyExists`]), and the OAC of that name is left as it is.
    async fn create(
        cx: &Cx<'_>,
        args: &OriginAccessControlArgs,
    ) -> Result<Created<OriginAccessControlOutputs>, ProviderError> {
        let out = cloudfront(cx)?
            .create_origin_access_control()
            .origin_access_control_config(config(args)?)
            .send()
            .await
            .map_err(|e| {
                if e.code() == Some("OriginAccessControlAlreadyExists") {
                    ProviderError::AlreadyExists {
                        operation: "cloudfront:CreateOriginAccessControl".into(),
                        message: format!(
                            "an origin access control named {} exists in the account, which this resource did not make (`import` takes it over)",
                            args.name
                        ),
                    }
                } else {
                    api_error("cloudfront:CreateOriginAccessControl")(e)
                }
            })?;
        let id = out
            .origin_access_control()
            .map(|o| o.id().to_owned())
            .ok_or_else(|| {
                ProviderError::Other("CreateOriginAccessControl returned no id".into())
            })?;
        Ok(Created {
            outputs: OriginAccessControlOutputs { id: id.clone() },
            id,
        })
    }

    /// An OAC has neither tags nor a creation token: the OAC of this name is this
    /// create's only when every property (description, origin type, signing behaviour and
    /// protocol) is the declared one; otherwise it is not ours: `Absent`.
    async fn recover(
        cx: &Cx<'_>,
        args: &OriginAccessControlArgs,
    ) -> Result<Recovery<OriginAccessControlOutputs>, ProviderError> {
        let want = config(args)?;
        Ok(match by_name(&cloudfront(cx)?, &args.name).await? {
            Some(o)
                if o.description() == want.description().unwrap_or_default()
                    && o.origin_access_control_origin_type()
                        == want.origin_access_control_origin_type()
                    && o.signing_behavior() == want.signing_behavior()
                    && o.signing_protocol() == want.signing_protocol() =>
            {
                Recovery::Resembles(Created {
                    outputs: OriginAccessControlOutputs {
                        id: o.id().to_owned(),
                    },
                    id: o.id().to_owned(),
                })
            }
            _ => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        _: Option<&OriginAccessControlArgs>,
    ) -> Result<Option<Observed<OriginAccessControlArgs, OriginAccessControlOutputs>>, ProviderError>
    {
        let Some((c, _)) = get(&cloudfront(cx)?, id).await? else {
            return Ok(None);
        };
        let origin_type = match c.origin_access_control_origin_type() {
            OriginAccessControlOriginTypes::Lambda => OacOriginType::Lambda,
            OriginAccessControlOriginTypes::Mediastore => OacOriginType::Mediastore,
            OriginAccessControlOriginTypes::Mediapackagev2 => OacOriginType::Mediapackagev2,
            _ => OacOriginType::S3,
        };
        let signing_behavior = match c.signing_behavior() {
            OriginAccessControlSigningBehaviors::Never => SigningBehavior::Never,
            OriginAccessControlSigningBehaviors::NoOverride => SigningBehavior::NoOverride,
            OriginAccessControlSigningBehaviors::AlwaysAmzAuth => SigningBehavior::AlwaysAmzAuth,
            _ => SigningBehavior::Always,
        };
        Ok(Some(Observed {
            args: OriginAccessControlArgs {
                name: c.name().to_owned(),
                description: c.description().unwrap_or_default().to_owned(),
                origin_type,
                signing_behavior,
                signing_protocol: match c.signing_protocol() {
                    OriginAccessControlSigningProtocols::Sigv4a => SigningProtocol::Sigv4a,
                    _ => SigningProtocol::Sigv4,
                },
            },
            outputs: OriginAccessControlOutputs { id: id.to_owned() },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        _: &OriginAccessControlArgs,
        new: &OriginAccessControlArgs,
        outputs: &OriginAccessControlOutputs,
    ) -> Result<OriginAccessControlOutputs, ProviderError> {
        let client = cloudfront(cx)?;
        let (_, etag) = get(&client, id)
            .await?
            .ok_or_else(|| ProviderError::NotFound(format!("origin access control {id}")))?;
        client
            .update_origin_access_control()
            .id(id)
            .if_match(etag)
            .origin_access_control_config(config(new)?)
            .send()
            .await
            .map_err(api_error("cloudfront:UpdateOriginAccessControl"))?;
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &OriginAccessControlArgs,
        _: &OriginAccessControlOutputs,
    ) -> Result<(), ProviderError> {
        let client = cloudfront(cx)?;
        let Some((_, etag)) = get(&client, id).await? else {
            return Ok(());
        };
        match client
            .delete_origin_access_control()
            .id(id)
            .if_match(etag)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if gone(e.code()) => Ok(()),
            Err(e) => Err(api_error("cloudfront:DeleteOriginAccessControl")(e)),
        }
    }
}
