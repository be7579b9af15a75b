//! `Distribution`: a CloudFront distribution with S3 and custom (load balancer) origins,
//! cache behaviours, aliases, an ACM viewer certificate and an optional WAF web ACL.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudfront::client::Waiters;
use aws_sdk_cloudfront::error::ProvideErrorMetadata;
use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods as AwsAllowed, CacheBehavior as AwsBehavior, CacheBehaviors,
    CachedMethods as AwsCached, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig,
    DistributionConfigWithTags, Method, MinimumProtocolVersion as AwsMinimum, Origin,
    OriginProtocolPolicy as AwsOriginPolicy, OriginSslProtocols, Origins,
    PriceClass as AwsPriceClass, S3OriginConfig, SslProtocol, SslSupportMethod as AwsSsl, Tag,
    TagKeys, Tags, ViewerCertificate as AwsViewerCertificate,
    ViewerProtocolPolicy as AwsViewerPolicy,
};
use serde::{Deserialize, Serialize};
use strata_core::aws::{api_error, check_tags, tag_changes, user_tags};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::origin_access_control::cloudfront;
use crate::route53_common::check_domain;

/// CloudFront's hosted zone id, the target zone of every Route 53 alias to a distribution.
pub const CLOUDFRONT_ZONE_ID: &str = "Z2FDTNDATAQYW2";

/// The ids of AWS-managed CloudFront policies.
pub mod managed_policies {
    /// Cache policy `Managed-CachingOptimized`: long TTLs, compression, no cookies, query
    /// strings or headers in the key. For static content (S3).
    pub const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
    /// Cache policy `Managed-CachingDisabled`: nothing cached. For dynamic content (a load
    /// balancer).
    pub const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
    /// Origin request policy `Managed-AllViewer`: every header (`Host` included), cookie and
    /// query string goes to the origin.
    pub const ALL_VIEWER: &str = "216adef6-5c7f-47e4-b989-5492eafa07d3";
    /// Origin request policy `Managed-AllViewerExceptHostHeader`: as `ALL_VIEWER`, but the
    /// origin sees its own domain in `Host` (for an origin whose certificate does not cover
    /// the viewer's domain).
    pub const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
    /// Origin request policy `Managed-CORS-S3Origin`.
    pub const CORS_S3_ORIGIN: &str = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf";
    /// Response headers policy `Managed-SecurityHeadersPolicy` (HSTS, X-Frame-Options, …).
    pub const SECURITY_HEADERS: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";
}

use managed_policies::{ALL_VIEWER, CACHING_DISABLED, CACHING_OPTIMIZED};

/// A CloudFront distribution.
///
/// Created with `CreateDistributionWithTags`, whose `CallerReference` is the engine's
/// idempotency token (an interrupted create is found again by its `strata:token` tag), then
/// waited for until `Deployed` (`deploy_timeout_secs`, 40 minutes by default: AWS takes
/// minutes). Everything changes in place: an update reads the live configuration and its
/// ETag, changes what the args declare (settings strata does not model, such as logging or
/// geo restrictions, are kept as they are), sends it with `IfMatch`, and waits for the
/// deployment. A delete disables the distribution first, waits for that to deploy, then
/// deletes it with the fresh ETag.
///
/// ```
/// use strata_core::Stack;
/// use strata_edge::{CacheBehavior, Distribution, DistributionOrigin, PriceClass};
/// let mut s = Stack::new("dev");
/// s.add("cdn", Distribution::new(CacheBehavior::dynamic("alb"))
///     .origin(DistributionOrigin::custom("alb", "shop-alb-123.eu-central-1.elb.amazonaws.com"))
///     .origin(DistributionOrigin::s3("images", "shop-images.s3.eu-central-1.amazonaws.com",
///         "E2QWRUHAPOMQZL"))
///     .behavior("/images/*", CacheBehavior::static_assets("images"))
///     .alias("shop.example.com")
///     .certificate("arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab")
///     .price_class(PriceClass::Class100));
/// ```
#[derive(Debug)]
pub struct Distribution;

/// How CloudFront reaches a custom origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OriginProtocolPolicy {
    /// Plain HTTP.
    HttpOnly,
    /// HTTPS.
    HttpsOnly,
    /// The viewer's protocol.
    MatchViewer,
}

/// A TLS version CloudFront may use with a custom origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OriginSslProtocol {
    /// SSLv3.
    #[serde(rename = "SSLv3")]
    SslV3,
    /// TLS 1.0.
    #[serde(rename = "TLSv1")]
    TlsV1,
    /// TLS 1.1.
    #[serde(rename = "TLSv1.1")]
    TlsV1_1,
    /// TLS 1.2.
    #[serde(rename = "TLSv1.2")]
    TlsV1_2,
}

impl OriginSslProtocol {
    fn aws(self) -> SslProtocol {
        match self {
            OriginSslProtocol::SslV3 => SslProtocol::SsLv3,
            OriginSslProtocol::TlsV1 => SslProtocol::TlSv1,
            OriginSslProtocol::TlsV1_1 => SslProtocol::TlSv11,
            OriginSslProtocol::TlsV1_2 => SslProtocol::TlSv12,
        }
    }

    fn from_aws(p: &SslProtocol) -> Option<Self> {
        Some(match p {
            SslProtocol::SsLv3 => OriginSslProtocol::SslV3,
            SslProtocol::TlSv1 => OriginSslProtocol::TlsV1,
            SslProtocol::TlSv11 => OriginSslProtocol::TlsV1_1,
            SslProtocol::TlSv12 => OriginSslProtocol::TlsV1_2,
            _ => return None,
        })
    }
}

/// What kind of origin, and how CloudFront talks to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    /// An S3 bucket, by its REST endpoint.
    S3 {
        /// The origin access control CloudFront signs with (the bucket stays private).
        #[serde(default)]
        origin_access_control_id: Option<Input<String>>,
    },
    /// Any HTTP server: a load balancer, a website.
    Custom {
        /// The HTTP port (80, 443 or 1024-65535).
        http_port: i32,
        /// The HTTPS port (80, 443 or 1024-65535).
        https_port: i32,
        /// HTTP, HTTPS or the viewer's protocol.
        protocol_policy: OriginProtocolPolicy,
        /// The TLS versions CloudFront may use with the origin.
        ssl_protocols: Vec<OriginSslProtocol>,
        /// Seconds CloudFront waits for a response (1-180).
        read_timeout: i32,
        /// Seconds CloudFront keeps an idle connection (1-180).
        keepalive_timeout: i32,
    },
}

/// An origin of a [`Distribution`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionOrigin {
    /// The origin's id in the distribution, which cache behaviours target.
    pub id: String,
    /// The origin's domain name (a bucket's `regional_domain_name`, a load balancer's
    /// `dns_name`).
    pub domain_name: Input<String>,
    /// A path prefixed to every request (`/production`).
    #[serde(default)]
    pub origin_path: Option<String>,
    /// S3 or custom.
    pub kind: OriginKind,
}

impl DistributionOrigin {
    /// A private S3 bucket `domain_name` (its regional domain name), read through the
    /// origin access control `origin_access_control_id`.
    pub fn s3(
        id: impl Into<String>,
        domain_name: impl Into<Input<String>>,
        origin_access_control_id: impl Into<Input<String>>,
    ) -> Self {
        DistributionOrigin {
            id: id.into(),
            domain_name: domain_name.into(),
            origin_path: None,
            kind: OriginKind::S3 {
                origin_access_control_id: Some(origin_access_control_id.into()),
            },
        }
    }

    /// An HTTP server `domain_name` (a load balancer's DNS name), reached over HTTPS only,
    /// with TLS 1.2, on port 443.
    pub fn custom(id: impl Into<String>, domain_name: impl Into<Input<String>>) -> Self {
        DistributionOrigin {
            id: id.into(),
            domain_name: domain_name.into(),
            origin_path: None,
            kind: OriginKind::Custom {
                http_port: 80,
                https_port: 443,
                protocol_policy: OriginProtocolPolicy::HttpsOnly,
                ssl_protocols: vec![OriginSslProtocol::TlsV1_2],
                read_timeout: 30,
                keepalive_timeout: 5,
            },
        }
    }

    /// Prefixes `path` to every request to this origin.
    pub fn origin_path(mut self, path: impl Into<String>) -> Self {
        self.origin_path = Some(path.into());
        self
    }
}

/// What viewers may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViewerProtocolPolicy {
    /// HTTP and HTTPS.
    AllowAll,
    /// HTTPS only (HTTP is refused).
    HttpsOnly,
    /// HTTP is redirected to HTTPS.
    RedirectToHttps,
}

/// The HTTP methods CloudFront forwards (CloudFront's three sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowedMethods {
    /// GET and HEAD.
    GetHead,
    /// GET, HEAD and OPTIONS.
    GetHeadOptions,
    /// GET, HEAD, OPTIONS, PUT, POST, PATCH and DELETE.
    All,
}

impl AllowedMethods {
    fn methods(self) -> Vec<Method> {
        match self {
            AllowedMethods::GetHead => vec![Method::Get, Method::Head],
            AllowedMethods::GetHeadOptions => vec![Method::Get, Method::Head, Method::Options],
            AllowedMethods::All => vec![
                Method::Get,
                Method::Head,
                Method::Options,
                Method::Put,
                Method::Post,
                Method::Patch,
                Method::Delete,
            ],
        }
    }

    fn from_methods(m: &[Method]) -> Self {
        if m.contains(&Method::Post) || m.contains(&Method::Put) || m.contains(&Method::Delete) {
            AllowedMethods::All
        } else if m.contains(&Method::Options) {
            AllowedMethods::GetHeadOptions
        } else {
            AllowedMethods::GetHead
        }
    }
}

/// The methods whose responses CloudFront caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CachedMethods {
    /// GET and HEAD.
    GetHead,
    /// GET, HEAD and OPTIONS.
    GetHeadOptions,
}

impl CachedMethods {
    fn methods(self) -> Vec<Method> {
        match self {
            CachedMethods::GetHead => vec![Method::Get, Method::Head],
            CachedMethods::GetHeadOptions => vec![Method::Get, Method::Head, Method::Options],
        }
    }
}

/// How requests are cached and sent to an origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheBehavior {
    /// The origin (its id in the distribution).
    pub target_origin_id: String,
    /// What viewers may use.
    pub viewer_protocol_policy: ViewerProtocolPolicy,
    /// The methods forwarded.
    pub allowed_methods: AllowedMethods,
    /// The methods cached.
    pub cached_methods: CachedMethods,
    /// The cache policy (see [`managed_policies`]).
    pub cache_policy_id: String,
    /// The origin request policy: what else goes to the origin.
    #[serde(default)]
    pub origin_request_policy_id: Option<String>,
    /// The response headers policy.
    #[serde(default)]
    pub response_headers_policy_id: Option<String>,
    /// Compress responses (gzip, brotli).
    pub compress: bool,
}

impl CacheBehavior {
    /// Requests to `target_origin_id` cached by `cache_policy_id`: GET and HEAD, HTTP
    /// redirected to HTTPS, compressed.
    pub fn new(target_origin_id: impl Into<String>, cache_policy_id: impl Into<String>) -> Self {
        CacheBehavior {
            target_origin_id: target_origin_id.into(),
            viewer_protocol_policy: ViewerProtocolPolicy::RedirectToHttps,
            allowed_methods: AllowedMethods::GetHead,
            cached_methods: CachedMethods::GetHead,
            cache_policy_id: cache_policy_id.into(),
            origin_request_policy_id: None,
            response_headers_policy_id: None,
            compress: true,
        }
    }

    /// Dynamic content (a load balancer): every method, nothing cached
    /// (`Managed-CachingDisabled`), every header, cookie and query string forwarded
    /// (`Managed-AllViewer`).
    pub fn dynamic(target_origin_id: impl Into<String>) -> Self {
        CacheBehavior {
            allowed_methods: AllowedMethods::All,
            origin_request_policy_id: Some(ALL_VIEWER.to_owned()),
            ..CacheBehavior::new(target_origin_id, CACHING_DISABLED)
        }
    }

    /// Static content (S3): GET and HEAD, cached by `Managed-CachingOptimized`.
    pub fn static_assets(target_origin_id: impl Into<String>) -> Self {
        CacheBehavior::new(target_origin_id, CACHING_OPTIMIZED)
    }

    /// Sets the methods forwarded.
    pub fn allowed_methods(mut self, m: AllowedMethods) -> Self {
        self.allowed_methods = m;
        self
    }
    /// Sets the methods cached.
    pub fn cached_methods(mut self, m: CachedMethods) -> Self {
        self.cached_methods = m;
        self
    }
    /// Sets what viewers may use.
    pub fn viewer_protocol_policy(mut self, p: ViewerProtocolPolicy) -> Self {
        self.viewer_protocol_policy = p;
        self
    }
    /// Sets the origin request policy.
    pub fn origin_request_policy(mut self, id: impl Into<String>) -> Self {
        self.origin_request_policy_id = Some(id.into());
        self
    }
    /// Sets the response headers policy.
    pub fn response_headers_policy(mut self, id: impl Into<String>) -> Self {
        self.response_headers_policy_id = Some(id.into());
        self
    }
}

/// A cache behaviour for the requests whose path matches `path_pattern`, tried in order
/// before the default one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderedCacheBehavior {
    /// The path pattern (`/images/*`, `*.jpg`).
    pub path_pattern: String,
    /// The behaviour.
    #[serde(flatten)]
    pub behavior: CacheBehavior,
}

/// How viewers' TLS connections are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslSupportMethod {
    /// SNI (every modern client).
    SniOnly,
    /// Dedicated IP addresses (costly; for clients without SNI).
    Vip,
}

/// The oldest TLS version (and the ciphers) CloudFront accepts from viewers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_camel_case_types)]
pub enum MinimumProtocolVersion {
    /// SSLv3 (refused by strata).
    #[serde(rename = "SSLv3")]
    SslV3,
    /// TLS 1.0 (refused by strata).
    #[serde(rename = "TLSv1")]
    TlsV1,
    /// TLS 1.0, 2016 ciphers (refused by strata).
    #[serde(rename = "TLSv1_2016")]
    TlsV1_2016,
    /// TLS 1.1, 2016 ciphers (refused by strata).
    #[serde(rename = "TLSv1.1_2016")]
    TlsV1_1_2016,
    /// TLS 1.2, 2018 ciphers.
    #[serde(rename = "TLSv1.2_2018")]
    TlsV1_2_2018,
    /// TLS 1.2, 2019 ciphers.
    #[serde(rename = "TLSv1.2_2019")]
    TlsV1_2_2019,
    /// TLS 1.2, 2021 ciphers (the default).
    #[serde(rename = "TLSv1.2_2021")]
    TlsV1_2_2021,
    /// TLS 1.2, 2025 ciphers.
    #[serde(rename = "TLSv1.2_2025")]
    TlsV1_2_2025,
    /// TLS 1.3 only.
    #[serde(rename = "TLSv1.3_2025")]
    TlsV1_3_2025,
}

impl MinimumProtocolVersion {
    fn as_str(self) -> &'static str {
        match self {
            MinimumProtocolVersion::SslV3 => "SSLv3",
            MinimumProtocolVersion::TlsV1 => "TLSv1",
            MinimumProtocolVersion::TlsV1_2016 => "TLSv1_2016",
            MinimumProtocolVersion::TlsV1_1_2016 => "TLSv1.1_2016",
            MinimumProtocolVersion::TlsV1_2_2018 => "TLSv1.2_2018",
            MinimumProtocolVersion::TlsV1_2_2019 => "TLSv1.2_2019",
            MinimumProtocolVersion::TlsV1_2_2021 => "TLSv1.2_2021",
            MinimumProtocolVersion::TlsV1_2_2025 => "TLSv1.2_2025",
            MinimumProtocolVersion::TlsV1_3_2025 => "TLSv1.3_2025",
        }
    }

    const ALL: [MinimumProtocolVersion; 9] = [
        MinimumProtocolVersion::SslV3,
        MinimumProtocolVersion::TlsV1,
        MinimumProtocolVersion::TlsV1_2016,
        MinimumProtocolVersion::TlsV1_1_2016,
        MinimumProtocolVersion::TlsV1_2_2018,
        MinimumProtocolVersion::TlsV1_2_2019,
        MinimumProtocolVersion::TlsV1_2_2021,
        MinimumProtocolVersion::TlsV1_2_2025,
        MinimumProtocolVersion::TlsV1_3_2025,
    ];

    /// Whether it accepts only TLS 1.2 and later.
    pub fn tls12_or_later(self) -> bool {
        !matches!(
            self,
            MinimumProtocolVersion::SslV3
                | MinimumProtocolVersion::TlsV1
                | MinimumProtocolVersion::TlsV1_2016
                | MinimumProtocolVersion::TlsV1_1_2016
        )
    }
}

/// The certificate viewers see for the distribution's aliases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewerCertificate {
    /// An ACM certificate in us-east-1 (CloudFront takes certificates from there only).
    pub acm_certificate_arn: Input<String>,
    /// SNI or dedicated IPs.
    pub ssl_support_method: SslSupportMethod,
    /// The oldest TLS version accepted: TLS 1.2 or later.
    pub minimum_protocol_version: MinimumProtocolVersion,
}

/// Which edge locations serve the distribution (and what it costs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PriceClass {
    /// Every edge location.
    #[serde(rename = "PriceClass_All")]
    All,
    /// North America, Europe, Asia, the Middle East and Africa.
    #[serde(rename = "PriceClass_200")]
    Class200,
    /// North America and Europe.
    #[serde(rename = "PriceClass_100")]
    Class100,
}

/// The args of a [`Distribution`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionArgs {
    /// The origins.
    pub origins: Vec<DistributionOrigin>,
    /// The behaviour of requests no ordered behaviour matches.
    pub default_cache_behavior: CacheBehavior,
    /// Behaviours by path pattern, first match wins.
    #[serde(default)]
    pub ordered_cache_behaviors: Vec<OrderedCacheBehavior>,
    /// Alternate domain names (CNAMEs) the distribution answers for; they need a viewer
    /// certificate that covers them.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The viewer certificate (none: CloudFront's `*.cloudfront.net` one, and no aliases).
    #[serde(default)]
    pub viewer_certificate: Option<ViewerCertificate>,
    /// A WAF web ACL (a WAFv2 web ACL ARN of scope CLOUDFRONT).
    #[serde(default)]
    pub web_acl_id: Option<Input<String>>,
    /// The edge locations.
    pub price_class: PriceClass,
    /// Whether the distribution serves requests.
    pub enabled: bool,
    /// A comment (at most 128 characters).
    #[serde(default)]
    pub comment: String,
    /// The object returned for `/` (`index.html`).
    #[serde(default)]
    pub default_root_object: Option<String>,
    /// IPv6 addresses for the distribution.
    pub ipv6_enabled: bool,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// How long a create, update or delete waits for the deployment, in seconds.
    #[serde(default = "default_deploy_timeout")]
    pub deploy_timeout_secs: u64,
}

fn default_deploy_timeout() -> u64 {
    2400
}

impl Distribution {
    /// An enabled distribution, on every edge location, with IPv6, whose default behaviour
    /// is `default_cache_behavior`; add its origins with [`DistributionArgs::origin`].
    #[allow(clippy::new_ret_no_self)]
    pub fn new(default_cache_behavior: CacheBehavior) -> DistributionArgs {
        DistributionArgs {
            origins: Vec::new(),
            default_cache_behavior,
            ordered_cache_behaviors: Vec::new(),
            aliases: Vec::new(),
            viewer_certificate: None,
            web_acl_id: None,
            price_class: PriceClass::All,
            enabled: true,
            comment: String::new(),
            default_root_object: None,
            ipv6_enabled: true,
            tags: BTreeMap::new(),
            deploy_timeout_secs: default_deploy_timeout(),
        }
    }
}

impl DistributionArgs {
    /// Adds an origin.
    pub fn origin(mut self, origin: DistributionOrigin) -> Self {
        self.origins.push(origin);
        self
    }
    /// Adds a behaviour for requests matching `path_pattern` (after those added before).
    pub fn behavior(mut self, path_pattern: impl Into<String>, behavior: CacheBehavior) -> Self {
        self.ordered_cache_behaviors.push(OrderedCacheBehavior {
            path_pattern: path_pattern.into(),
            behavior,
        });
        self
    }
    /// Adds an alternate domain name.
    pub fn alias(mut self, name: impl Into<String>) -> Self {
        self.aliases.push(name.into());
        self
    }
    /// Serves the aliases with the ACM certificate `acm_certificate_arn` (in us-east-1),
    /// by SNI, TLS 1.2 or later (`TLSv1.2_2021`).
    pub fn certificate(mut self, acm_certificate_arn: impl Into<Input<String>>) -> Self {
        self.viewer_certificate = Some(ViewerCertificate {
            acm_certificate_arn: acm_certificate_arn.into(),
            ssl_support_method: SslSupportMethod::SniOnly,
            minimum_protocol_version: MinimumProtocolVersion::TlsV1_2_2021,
        });
        self
    }
    /// Sets the oldest TLS version viewers may use (with a certificate).
    pub fn minimum_protocol_version(mut self, v: MinimumProtocolVersion) -> Self {
        if let Some(c) = &mut self.viewer_certificate {
            c.minimum_protocol_version = v;
        }
        self
    }
    /// Protects the distribution with a WAFv2 web ACL (scope CLOUDFRONT), by its ARN.
    pub fn web_acl(mut self, arn: impl Into<Input<String>>) -> Self {
        self.web_acl_id = Some(arn.into());
        self
    }
    /// Sets the price class.
    pub fn price_class(mut self, p: PriceClass) -> Self {
        self.price_class = p;
        self
    }
    /// Enables or disables the distribution.
    pub fn enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }
    /// Sets the comment.
    pub fn comment(mut self, c: impl Into<String>) -> Self {
        self.comment = c.into();
        self
    }
    /// Sets whether the distribution has IPv6 addresses.
    pub fn ipv6_enabled(mut self, on: bool) -> Self {
        self.ipv6_enabled = on;
        self
    }
    /// Sets the object returned for `/`.
    pub fn default_root_object(mut self, o: impl Into<String>) -> Self {
        self.default_root_object = Some(o.into());
        self
    }
    /// Sets how long to wait for deployments.
    pub fn deploy_timeout(mut self, t: Duration) -> Self {
        self.deploy_timeout_secs = t.as_secs();
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }
}

impl ResourceArgs for DistributionArgs {
    type Resource = Distribution;
}

/// The outputs of a [`Distribution`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionOutputs {
    /// The distribution id (`E2QWRUHAPOMQZL`); also the provider id.
    pub id: String,
    /// `arn:aws:cloudfront::ACCOUNT:distribution/ID` (for a bucket policy's `AWS:SourceArn`).
    pub arn: String,
    /// `d111111abcdef8.cloudfront.net`.
    pub domain_name: String,
    /// CloudFront's hosted zone id, `Z2FDTNDATAQYW2` (for Route 53 aliases).
    pub hosted_zone_id: String,
}

strata_core::outputs!(Distribution => DistributionHandle {
    /// The distribution id.
    id: String,
    /// The ARN.
    arn: String,
    /// The domain name.
    domain_name: String,
    /// CloudFront's hosted zone id.
    hosted_zone_id: String,
});

fn build_err(e: aws_sdk_cloudfront::error::BuildError) -> ProviderError {
    ProviderError::Other(e.to_string())
}

fn allowed(b: &CacheBehavior) -> Result<AwsAllowed, ProviderError> {
    let items = b.allowed_methods.methods();
    let cached = b.cached_methods.methods();
    AwsAllowed::builder()
        .quantity(items.len() as i32)
        .set_items(Some(items))
        .cached_methods(
            AwsCached::builder()
                .quantity(cached.len() as i32)
                .set_items(Some(cached))
                .build()
                .map_err(build_err)?,
        )
        .build()
        .map_err(build_err)
}

fn viewer_policy(p: ViewerProtocolPolicy) -> AwsViewerPolicy {
    match p {
        ViewerProtocolPolicy::AllowAll => AwsViewerPolicy::AllowAll,
        ViewerProtocolPolicy::HttpsOnly => AwsViewerPolicy::HttpsOnly,
        ViewerProtocolPolicy::RedirectToHttps => AwsViewerPolicy::RedirectToHttps,
    }
}

fn default_behavior(b: &CacheBehavior) -> Result<DefaultCacheBehavior, ProviderError> {
    DefaultCacheBehavior::builder()
        .target_origin_id(&b.target_origin_id)
        .viewer_protocol_policy(viewer_policy(b.viewer_protocol_policy))
        .allowed_methods(allowed(b)?)
        .cache_policy_id(&b.cache_policy_id)
        .set_origin_request_policy_id(b.origin_request_policy_id.clone())
        .set_response_headers_policy_id(b.response_headers_policy_id.clone())
        .compress(b.compress)
        .build()
        .map_err(build_err)
}

fn ordered_behavior(o: &OrderedCacheBehavior) -> Result<AwsBehavior, ProviderError> {
    let b = &o.behavior;
    AwsBehavior::builder()
        .path_pattern(&o.path_pattern)
        .target_origin_id(&b.target_origin_id)
        .viewer_protocol_policy(viewer_policy(b.viewer_protocol_policy))
        .allowed_methods(allowed(b)?)
        .cache_policy_id(&b.cache_policy_id)
        .set_origin_request_policy_id(b.origin_request_policy_id.clone())
        .set_response_headers_policy_id(b.response_headers_policy_id.clone())
        .compress(b.compress)
        .build()
        .map_err(build_err)
}

fn origin(o: &DistributionOrigin) -> Result<Origin, ProviderError> {
    let b = Origin::builder()
        .id(&o.id)
        .domain_name(o.domain_name.value()?)
        .origin_path(o.origin_path.clone().unwrap_or_default());
    let b = match &o.kind {
        OriginKind::S3 {
            origin_access_control_id,
        } => b
            // With an OAC, the legacy origin access identity is empty.
            .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
            .set_origin_access_control_id(
                origin_access_control_id
                    .as_ref()
                    .map(|i| i.value().cloned())
                    .transpose()?,
            ),
        OriginKind::Custom {
            http_port,
            https_port,
            protocol_policy,
            ssl_protocols,
            read_timeout,
            keepalive_timeout,
        } => b.custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(*http_port)
                .https_port(*https_port)
                .origin_protocol_policy(match protocol_policy {
                    OriginProtocolPolicy::HttpOnly => AwsOriginPolicy::HttpOnly,
                    OriginProtocolPolicy::HttpsOnly => AwsOriginPolicy::HttpsOnly,
                    OriginProtocolPolicy::MatchViewer => AwsOriginPolicy::MatchViewer,
                })
                .origin_ssl_protocols(
                    OriginSslProtocols::builder()
                        .quantity(ssl_protocols.len() as i32)
                        .set_items(Some(ssl_protocols.iter().map(|p| p.aws()).collect()))
                        .build()
                        .map_err(build_err)?,
                )
                .origin_read_timeout(*read_timeout)
                .origin_keepalive_timeout(*keepalive_timeout)
                .build()
                .map_err(build_err)?,
        ),
    };
    b.build().map_err(build_err)
}

/// Sets every part of `cfg` that the args declare; the rest stays as it is.
fn apply_args(cfg: &mut DistributionConfig, args: &DistributionArgs) -> Result<(), ProviderError> {
    let origins = args
        .origins
        .iter()
        .map(origin)
        .collect::<Result<Vec<_>, _>>()?;
    cfg.origins = Some(
        Origins::builder()
            .quantity(origins.len() as i32)
            .set_items(Some(origins))
            .build()
            .map_err(build_err)?,
    );
    cfg.default_cache_behavior = Some(default_behavior(&args.default_cache_behavior)?);
    let ordered = args
        .ordered_cache_behaviors
        .iter()
        .map(ordered_behavior)
        .collect::<Result<Vec<_>, _>>()?;
    cfg.cache_behaviors = Some(
        CacheBehaviors::builder()
            .quantity(ordered.len() as i32)
            .set_items((!ordered.is_empty()).then_some(ordered))
            .build()
            .map_err(build_err)?,
    );
    cfg.aliases = Some(
        Aliases::builder()
            .quantity(args.aliases.len() as i32)
            .set_items((!args.aliases.is_empty()).then(|| args.aliases.clone()))
            .build()
            .map_err(build_err)?,
    );
    cfg.viewer_certificate = Some(match &args.viewer_certificate {
        Some(c) => AwsViewerCertificate::builder()
            .cloud_front_default_certificate(false)
            .acm_certificate_arn(c.acm_certificate_arn.value()?)
            .ssl_support_method(match c.ssl_support_method {
                SslSupportMethod::SniOnly => AwsSsl::SniOnly,
                SslSupportMethod::Vip => AwsSsl::Vip,
            })
            .minimum_protocol_version(AwsMinimum::from(c.minimum_protocol_version.as_str()))
            .build(),
        None => AwsViewerCertificate::builder()
            .cloud_front_default_certificate(true)
            .build(),
    });
    cfg.web_acl_id = Some(
        args.web_acl_id
            .as_ref()
            .map(|w| w.value().cloned())
            .transpose()?
            .unwrap_or_default(),
    );
    cfg.price_class = Some(match args.price_class {
        PriceClass::All => AwsPriceClass::PriceClassAll,
        PriceClass::Class200 => AwsPriceClass::PriceClass200,
        PriceClass::Class100 => AwsPriceClass::PriceClass100,
    });
    cfg.enabled = args.enabled;
    cfg.comment = args.comment.clone();
    cfg.default_root_object = Some(args.default_root_object.clone().unwrap_or_default());
    cfg.is_ipv6_enabled = Some(args.ipv6_enabled);
    Ok(())
}

fn gone(code: Option<&str>) -> bool {
    code == Some("NoSuchDistribution")
}

fn timeout(args: &DistributionArgs) -> Duration {
    Duration::from_secs(args.deploy_timeout_secs)
}

async fn wait_deployed(
    client: &aws_sdk_cloudfront::Client,
    id: &str,
    timeout: Duration,
) -> Result<(), ProviderError> {
    client
        .wait_until_distribution_deployed()
        .id(id)
        .wait(timeout)
        .await
        .map_err(|e| ProviderError::Timeout {
            after: timeout,
            what: format!("CloudFront distribution {id} to be Deployed ({e})"),
        })?;
    Ok(())
}

/// The live distribution and its ETag, or `None` when it is gone.
async fn get(
    client: &aws_sdk_cloudfront::Client,
    id: &str,
) -> Result<Option<(aws_sdk_cloudfront::types::Distribution, String)>, ProviderError> {
    match client.get_distribution().id(id).send().await {
        Ok(o) => Ok(o
            .distribution()
            .cloned()
            .map(|d| (d, o.e_tag().unwrap_or_default().to_owned()))),
        Err(e) if gone(e.code()) => Ok(None),
        Err(e) => Err(api_error("cloudfront:GetDistribution")(e)),
    }
}

fn outputs(d: &aws_sdk_cloudfront::types::Distribution) -> DistributionOutputs {
    DistributionOutputs {
        id: d.id().to_owned(),
        arn: d.arn().to_owned(),
        domain_name: d.domain_name().to_owned(),
        hosted_zone_id: CLOUDFRONT_ZONE_ID.to_owned(),
    }
}

async fn all_tags(
    client: &aws_sdk_cloudfront::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = client
        .list_tags_for_resource()
        .resource(arn)
        .send()
        .await
        .map_err(api_error("cloudfront:ListTagsForResource"))?;
    Ok(out
        .tags()
        .map(|t| {
            t.items()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default())
}

fn tags(all: &BTreeMap<String, String>) -> Result<Tags, ProviderError> {
    let items = all
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(build_err)?;
    Ok(Tags::builder().set_items(Some(items)).build())
}

/// The distribution whose `strata:token` tag is this create's token (`cx.owns`), if any.
async fn by_token(
    client: &aws_sdk_cloudfront::Client,
    cx: &Cx<'_>,
) -> Result<Option<aws_sdk_cloudfront::types::Distribution>, ProviderError> {
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .list_distributions()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(api_error("cloudfront:ListDistributions"))?;
        let Some(list) = out.distribution_list() else {
            return Ok(None);
        };
        for d in list.items() {
            let tags = all_tags(client, d.arn()).await?;
            if cx.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                return Ok(get(client, d.id()).await?.map(|(d, _)| d));
            }
        }
        match list.next_marker() {
            Some(m) if list.is_truncated() && !m.is_empty() => marker = Some(m.to_owned()),
            _ => return Ok(None),
        }
    }
}

fn observed_behavior(
    target: &str,
    vpp: &AwsViewerPolicy,
    allowed_m: Option<&AwsAllowed>,
    cache_policy: Option<&str>,
    orp: Option<&str>,
    rhp: Option<&str>,
    compress: Option<bool>,
) -> CacheBehavior {
    let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
    CacheBehavior {
        target_origin_id: target.to_owned(),
        viewer_protocol_policy: match vpp {
            AwsViewerPolicy::AllowAll => ViewerProtocolPolicy::AllowAll,
            AwsViewerPolicy::HttpsOnly => ViewerProtocolPolicy::HttpsOnly,
            _ => ViewerProtocolPolicy::RedirectToHttps,
        },
        allowed_methods: AllowedMethods::from_methods(allowed_m.map(|a| a.items()).unwrap_or(&[])),
        cached_methods: if allowed_m
            .and_then(|a| a.cached_methods())
            .is_some_and(|c| c.items().contains(&Method::Options))
        {
            CachedMethods::GetHeadOptions
        } else {
            CachedMethods::GetHead
        },
        cache_policy_id: cache_policy.unwrap_or_default().to_owned(),
        origin_request_policy_id: nonempty(orp),
        response_headers_policy_id: nonempty(rhp),
        compress: compress.unwrap_or(false),
    }
}

/// The live configuration as args, keeping the declared inputs (and spellings) where the
/// live values are the same.
fn observed(
    cfg: &DistributionConfig,
    declared: Option<&DistributionArgs>,
    tags: BTreeMap<String, String>,
) -> DistributionArgs {
    let keep = |d: Option<&Input<String>>, live: &str| -> Input<String> {
        match d {
            Some(i) if i.value().is_ok_and(|v| v == live) => i.clone(),
            _ => Input::Value(live.to_owned()),
        }
    };
    let origins = cfg
        .origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .map(|o| {
            let d = declared.and_then(|a| a.origins.iter().find(|x| x.id == o.id()));
            let kind = match o.custom_origin_config() {
                Some(c) => OriginKind::Custom {
                    http_port: c.http_port(),
                    https_port: c.https_port(),
                    protocol_policy: match c.origin_protocol_policy() {
                        AwsOriginPolicy::HttpOnly => OriginProtocolPolicy::HttpOnly,
                        AwsOriginPolicy::MatchViewer => OriginProtocolPolicy::MatchViewer,
                        _ => OriginProtocolPolicy::HttpsOnly,
                    },
                    ssl_protocols: {
                        let live: Vec<OriginSslProtocol> = c
                            .origin_ssl_protocols()
                            .map(|p| p.items())
                            .unwrap_or_default()
                            .iter()
                            .filter_map(OriginSslProtocol::from_aws)
                            .collect();
                        // Keep the declared order when the set is the same.
                        match d.map(|d| &d.kind) {
                            Some(OriginKind::Custom { ssl_protocols, .. })
                                if ssl_protocols.iter().collect::<BTreeSet<_>>()
                                    == live.iter().collect::<BTreeSet<_>>() =>
                            {
                                ssl_protocols.clone()
                            }
                            _ => live,
                        }
                    },
                    read_timeout: c.origin_read_timeout().unwrap_or(30),
                    keepalive_timeout: c.origin_keepalive_timeout().unwrap_or(5),
                },
                // AWS answers with an S3OriginConfig for S3 origins; an origin without a
                // custom configuration is one.
                None => {
                    let declared_oac = match d.map(|d| &d.kind) {
                        Some(OriginKind::S3 {
                            origin_access_control_id,
                        }) => origin_access_control_id.as_ref(),
                        _ => None,
                    };
                    OriginKind::S3 {
                        origin_access_control_id: o
                            .origin_access_control_id()
                            .filter(|i| !i.is_empty())
                            .map(|live| keep(declared_oac, live)),
                    }
                }
            };
            DistributionOrigin {
                id: o.id().to_owned(),
                domain_name: keep(d.map(|d| &d.domain_name), o.domain_name()),
                origin_path: o.origin_path().filter(|p| !p.is_empty()).map(str::to_owned),
                kind,
            }
        })
        .collect();
    let default_cache_behavior = match cfg.default_cache_behavior() {
        Some(b) => observed_behavior(
            b.target_origin_id(),
            b.viewer_protocol_policy(),
            b.allowed_methods(),
            b.cache_policy_id(),
            b.origin_request_policy_id(),
            b.response_headers_policy_id(),
            b.compress(),
        ),
        None => CacheBehavior::new("", ""),
    };
    let ordered_cache_behaviors = cfg
        .cache_behaviors()
        .map(|c| c.items())
        .unwrap_or_default()
        .iter()
        .map(|b| OrderedCacheBehavior {
            path_pattern: b.path_pattern().to_owned(),
            behavior: observed_behavior(
                b.target_origin_id(),
                b.viewer_protocol_policy(),
                b.allowed_methods(),
                b.cache_policy_id(),
                b.origin_request_policy_id(),
                b.response_headers_policy_id(),
                b.compress(),
            ),
        })
        .collect();
    let live_aliases: Vec<String> = cfg
        .aliases()
        .map(|a| a.items().to_vec())
        .unwrap_or_default();
    let aliases = match declared {
        Some(d)
            if d.aliases.iter().collect::<BTreeSet<_>>()
                == live_aliases.iter().collect::<BTreeSet<_>>() =>
        {
            d.aliases.clone()
        }
        _ => live_aliases,
    };
    let viewer_certificate = cfg.viewer_certificate().and_then(|c| {
        let arn = c.acm_certificate_arn().filter(|a| !a.is_empty())?;
        if c.cloud_front_default_certificate() == Some(true) {
            return None;
        }
        let declared_arn = declared
            .and_then(|d| d.viewer_certificate.as_ref())
            .map(|v| &v.acm_certificate_arn);
        Some(ViewerCertificate {
            acm_certificate_arn: keep(declared_arn, arn),
            ssl_support_method: match c.ssl_support_method() {
                Some(AwsSsl::Vip) => SslSupportMethod::Vip,
                _ => SslSupportMethod::SniOnly,
            },
            minimum_protocol_version: c
                .minimum_protocol_version()
                .and_then(|m| {
                    MinimumProtocolVersion::ALL
                        .into_iter()
                        .find(|v| v.as_str() == m.as_str())
                })
                .unwrap_or(MinimumProtocolVersion::TlsV1),
        })
    });
    let web_acl_id = cfg
        .web_acl_id()
        .filter(|w| !w.is_empty())
        .map(|w| keep(declared.and_then(|d| d.web_acl_id.as_ref()), w));
    DistributionArgs {
        origins,
        default_cache_behavior,
        ordered_cache_behaviors,
        aliases,
        viewer_certificate,
        web_acl_id,
        price_class: match cfg.price_class() {
            Some(AwsPriceClass::PriceClass100) => PriceClass::Class100,
            Some(AwsPriceClass::PriceClass200) => PriceClass::Class200,
            _ => PriceClass::All,
        },
        enabled: cfg.enabled(),
        comment: cfg.comment().to_owned(),
        default_root_object: cfg
            .default_root_object()
            .filter(|o| !o.is_empty())
            .map(str::to_owned),
        ipv6_enabled: cfg.is_ipv6_enabled().unwrap_or(true),
        tags,
        deploy_timeout_secs: declared
            .map_or_else(default_deploy_timeout, |d| d.deploy_timeout_secs),
    }
}

fn port_ok(p: i32) -> bool {
    p == 80 || p == 443 || (1024..=65535).contains(&p)
}

fn check_behavior(
    field: &str,
    b: &CacheBehavior,
    origin_ids: &BTreeSet<&str>,
    errs: &mut Vec<FieldError>,
) {
    if !origin_ids.contains(b.target_origin_id.as_str()) {
        errs.push(FieldError::new(
            format!("{field}.target_origin_id"),
            format!(
                "{:?} is not the id of one of the distribution's origins",
                b.target_origin_id
            ),
        ));
    }
    if b.cached_methods == CachedMethods::GetHeadOptions
        && b.allowed_methods == AllowedMethods::GetHead
    {
        errs.push(FieldError::new(
            format!("{field}.cached_methods"),
            "OPTIONS is cached only where it is an allowed method",
        ));
    }
    if b.cache_policy_id.is_empty() {
        errs.push(FieldError::new(
            format!("{field}.cache_policy_id"),
            "a cache behaviour needs a cache policy (see managed_policies)",
        ));
    }
}

#[async_trait]
impl Resource for Distribution {
    const TYPE: &'static str = "aws:cloudfront/distribution";
    type Args = DistributionArgs;
    type Outputs = DistributionOutputs;

    fn validate(args: &DistributionArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if args.origins.is_empty() {
            errs.push(FieldError::new("origins", "a distribution needs an origin"));
        }
        let mut ids = BTreeSet::new();
        for (k, o) in args.origins.iter().enumerate() {
            let f = |s: &str| format!("origins.{k}.{s}");
            if o.id.is_empty() || o.id.len() > 128 {
                errs.push(FieldError::new(
                    f("id"),
                    "an origin id has 1 to 128 characters",
                ));
            } else if !ids.insert(o.id.as_str()) {
                errs.push(FieldError::new(
                    f("id"),
                    format!("origin id {:?} is used twice", o.id),
                ));
            }
            if let Some(d) = o.domain_name.known() {
                if d.is_empty() {
                    errs.push(FieldError::new(f("domain_name"), "an empty domain name"));
                } else if matches!(o.kind, OriginKind::S3 { .. })
                    && !(d.ends_with(".amazonaws.com") && d.contains(".s3"))
                {
                    errs.push(FieldError::new(
                        f("domain_name"),
                        format!(
                            "{d:?} is not an S3 bucket endpoint (BUCKET.s3.REGION.amazonaws.com, the bucket's regional_domain_name)"
                        ),
                    ));
                }
            }
            if let Some(p) = &o.origin_path {
                if !p.starts_with('/') || p.ends_with('/') || p.len() > 255 {
                    errs.push(FieldError::new(
                        f("origin_path"),
                        format!("{p:?}: a path starts with / and does not end with one"),
                    ));
                }
            }
            if let OriginKind::Custom {
                http_port,
                https_port,
                ssl_protocols,
                read_timeout,
                keepalive_timeout,
                ..
            } = &o.kind
            {
                for (name, p) in [("http_port", http_port), ("https_port", https_port)] {
                    if !port_ok(*p) {
                        errs.push(FieldError::new(
                            f(&format!("kind.custom.{name}")),
                            format!("{p}: CloudFront reaches origins on 80, 443 or 1024-65535"),
                        ));
                    }
                }
                if ssl_protocols.is_empty() {
                    errs.push(FieldError::new(
                        f("kind.custom.ssl_protocols"),
                        "at least one TLS version (TLSv1.2)",
                    ));
                }
                for (name, t) in [
                    ("read_timeout", read_timeout),
                    ("keepalive_timeout", keepalive_timeout),
                ] {
                    if !(1..=180).contains(t) {
                        errs.push(FieldError::new(
                            f(&format!("kind.custom.{name}")),
                            format!("{t} seconds: 1 to 180"),
                        ));
                    }
                }
            }
        }
        check_behavior(
            "default_cache_behavior",
            &args.default_cache_behavior,
            &ids,
            &mut errs,
        );
        let mut patterns = BTreeSet::new();
        for (k, o) in args.ordered_cache_behaviors.iter().enumerate() {
            let field = format!("ordered_cache_behaviors.{k}");
            if o.path_pattern.is_empty() || o.path_pattern.len() > 255 {
                errs.push(FieldError::new(
                    format!("{field}.path_pattern"),
                    "a path pattern has 1 to 255 characters (`/images/*`)",
                ));
            } else if !patterns.insert(o.path_pattern.as_str()) {
                errs.push(FieldError::new(
                    format!("{field}.path_pattern"),
                    format!("path pattern {:?} is used twice", o.path_pattern),
                ));
            }
            check_behavior(&field, &o.behavior, &ids, &mut errs);
        }
        if !args.aliases.is_empty() && args.viewer_certificate.is_none() {
            errs.push(FieldError::new(
                "aliases",
                "aliases need a viewer certificate that covers them (CloudFront's own covers only *.cloudfront.net)",
            ));
        }
        let mut seen = BTreeSet::new();
        for (k, a) in args.aliases.iter().enumerate() {
            if let Some(m) = check_domain(a, true) {
                errs.push(FieldError::new(format!("aliases.{k}"), m));
            } else if !seen.insert(a.to_ascii_lowercase()) {
                errs.push(FieldError::new(
                    format!("aliases.{k}"),
                    format!("{a} is listed twice"),
                ));
            }
        }
        if let Some(c) = &args.viewer_certificate {
            if !c.minimum_protocol_version.tls12_or_later() {
                errs.push(FieldError::new(
                    "viewer_certificate.minimum_protocol_version",
                    format!(
                        "{}: viewers must use TLS 1.2 or later (TLSv1.2_2018 and newer)",
                        c.minimum_protocol_version.as_str()
                    ),
                ));
            }
            if let Some(arn) = c.acm_certificate_arn.known() {
                if !arn.starts_with("arn:aws:acm:us-east-1:") || !arn.contains(":certificate/") {
                    errs.push(FieldError::new(
                        "viewer_certificate.acm_certificate_arn",
                        format!(
                            "{arn:?}: CloudFront takes ACM certificates from us-east-1 only (arn:aws:acm:us-east-1:ACCOUNT:certificate/ID)"
                        ),
                    ));
                }
            }
        }
        if let Some(w) = args.web_acl_id.as_ref().and_then(Input::known) {
            if !w.starts_with("arn:aws:wafv2:us-east-1:") || !w.contains(":global/webacl/") {
                errs.push(FieldError::new(
                    "web_acl_id",
                    format!(
                        "{w:?}: a distribution takes a WAFv2 web ACL of scope CLOUDFRONT, by its ARN (arn:aws:wafv2:us-east-1:ACCOUNT:global/webacl/NAME/ID)"
                    ),
                ));
            }
        }
        if args.comment.chars().count() > 128 {
            errs.push(FieldError::new(
                "comment",
                "a comment has at most 128 characters",
            ));
        }
        if let Some(o) = &args.default_root_object {
            if o.is_empty() || o.starts_with('/') || o.len() > 255 {
                errs.push(FieldError::new(
                    "default_root_object",
                    format!("{o:?}: an object name (index.html), not starting with /"),
                ));
            }
        }
        if args.deploy_timeout_secs == 0 {
            errs.push(FieldError::new(
                "deploy_timeout_secs",
                "a deployment takes minutes: give it more than 0 seconds",
            ));
        }
        errs.extend(check_tags(&args.tags));
        errs
    }

    fn estimate(_: &DistributionArgs) -> Duration {
        Duration::from_secs(900)
    }

    async fn create(
        cx: &Cx<'_>,
        args: &DistributionArgs,
    ) -> Result<Created<DistributionOutputs>, ProviderError> {
        let client = cloudfront(cx)?;
        let mut cfg = DistributionConfig::builder()
            .caller_reference(cx.token)
            .comment("")
            .enabled(true)
            .build()
            .map_err(build_err)?;
        apply_args(&mut cfg, args)?;
        let d = match client
            .create_distribution_with_tags()
            .distribution_config_with_tags(
                DistributionConfigWithTags::builder()
                    .distribution_config(cfg)
                    .tags(tags(&cx.create_tags(&args.tags))?)
                    .build(),
            )
            .send()
            .await
        {
            Ok(o) => o.distribution().cloned().ok_or_else(|| {
                ProviderError::Other("CreateDistributionWithTags returned no distribution".into())
            })?,
            // A retried create with the same token: the distribution is ours.
            Err(e) if e.code() == Some("DistributionAlreadyExists") => {
                match by_token(&client, cx).await? {
                    Some(d) => d,
                    None => return Err(api_error("cloudfront:CreateDistributionWithTags")(e)),
                }
            }
            Err(e) => return Err(api_error("cloudfront:CreateDistributionWithTags")(e)),
        };
        wait_deployed(&client, d.id(), timeout(args)).await?;
        Ok(Created {
            id: d.id().to_owned(),
            outputs: outputs(&d),
        })
    }

    /// Found again by its `strata:token` tag (set in the create call itself, with the
    /// `CallerReference`).
    async fn recover(
        cx: &Cx<'_>,
        _: &DistributionArgs,
    ) -> Result<Recovery<DistributionOutputs>, ProviderError> {
        Ok(match by_token(&cloudfront(cx)?, cx).await? {
            Some(d) => Recovery::Found(Created {
                id: d.id().to_owned(),
                outputs: outputs(&d),
            }),
            None => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&DistributionArgs>,
    ) -> Result<Option<Observed<DistributionArgs, DistributionOutputs>>, ProviderError> {
        let client = cloudfront(cx)?;
        let Some((d, _)) = get(&client, id).await? else {
            return Ok(None);
        };
        let Some(cfg) = d.distribution_config() else {
            return Ok(None);
        };
        let all = all_tags(&client, d.arn()).await?;
        let tags = user_tags(all.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok(Some(Observed {
            args: observed(cfg, args, tags),
            outputs: outputs(&d),
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &DistributionArgs,
        new: &DistributionArgs,
        outputs: &DistributionOutputs,
    ) -> Result<DistributionOutputs, ProviderError> {
        let client = cloudfront(cx)?;
        let mut settings = new.clone();
        settings.tags = old.tags.clone();
        settings.deploy_timeout_secs = old.deploy_timeout_secs;
        if &settings != old {
            let out = client
                .get_distribution_config()
                .id(id)
                .send()
                .await
                .map_err(api_error("cloudfront:GetDistributionConfig"))?;
            let mut cfg = out
                .distribution_config()
                .cloned()
                .ok_or_else(|| ProviderError::NotFound(format!("distribution {id}")))?;
            apply_args(&mut cfg, new)?;
            client
                .update_distribution()
                .id(id)
                .if_match(out.e_tag().unwrap_or_default())
                .distribution_config(cfg)
                .send()
                .await
                .map_err(api_error("cloudfront:UpdateDistribution"))?;
            wait_deployed(&client, id, timeout(new)).await?;
        }
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !set.is_empty() {
            client
                .tag_resource()
                .resource(&outputs.arn)
                .tags(tags(&set)?)
                .send()
                .await
                .map_err(api_error("cloudfront:TagResource"))?;
        }
        if !removed.is_empty() {
            client
                .untag_resource()
                .resource(&outputs.arn)
                .tag_keys(TagKeys::builder().set_items(Some(removed)).build())
                .send()
                .await
                .map_err(api_error("cloudfront:UntagResource"))?;
        }
        Ok(outputs.clone())
    }

    /// Disables the distribution (AWS deletes only disabled ones), waits for that to
    /// deploy, then deletes it with the fresh ETag.
    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        args: &DistributionArgs,
        _: &DistributionOutputs,
    ) -> Result<(), ProviderError> {
        let client = cloudfront(cx)?;
        let out = match client.get_distribution_config().id(id).send().await {
            Ok(o) => o,
            Err(e) if gone(e.code()) => return Ok(()),
            Err(e) => return Err(api_error("cloudfront:GetDistributionConfig")(e)),
        };
        if let Some(mut cfg) = out.distribution_config().cloned().filter(|c| c.enabled) {
            cfg.enabled = false;
            match client
                .update_distribution()
                .id(id)
                .if_match(out.e_tag().unwrap_or_default())
                .distribution_config(cfg)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if gone(e.code()) => return Ok(()),
                Err(e) => return Err(api_error("cloudfront:UpdateDistribution")(e)),
            }
        }
        wait_deployed(&client, id, timeout(args)).await?;
        let Some((_, etag)) = get(&client, id).await? else {
            return Ok(());
        };
        match client
            .delete_distribution()
            .id(id)
            .if_match(etag)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if gone(e.code()) => Ok(()),
            Err(e) => Err(api_error("cloudfront:DeleteDistribution")(e)),
        }
    }
}
