//! # strata
//!
//! Composable, typed infrastructure as code for AWS. Declare resources in plain Rust;
//! strata builds the dependency graph, previews the changes, and creates, updates and
//! deletes the real resources with bounded, critical-path-first parallelism, keeping state
//! in a checksummed, locked document.
//!
//! ```no_run
//! use strata::prelude::*;
//! use strata::testing::{MemCloud, Mock, MockHandle};
//!
//! fn main() -> std::process::ExitCode {
//!     strata::cli::Program::new(|s: &mut Stack| {
//!         let net = s.add("net", Mock::new().prop("cidr", "10.0.0.0/16"));
//!         let app = s.add("app", Mock::new().prop("net", net.id()));
//!         s.export("app_arn", app.arn());
//!     })
//!     .context(Context::new().with(MemCloud::new()))
//!     .run()
//! }
//! ```
//!
//! - [`prelude`]: what a stack program needs.
//! - [`cli`]: the command-line runner a stack program's `main` hands over to.
//! - [`testing`]: the in-memory cloud, a mock resource type and (with the `proptest`
//!   feature) proptest strategies for random stacks.
//! - The domain crates, re-exported: [`network`], [`compute`], [`data`], [`edge`],
//!   [`observability`], [`security`].

pub mod cli;
pub mod policy;

pub use strata_compute as compute;
pub use strata_core as core;
pub use strata_core::testing;
pub use strata_data as data;
pub use strata_edge as edge;
pub use strata_network as network;
pub use strata_observability as observability;
pub use strata_security as security;

/// What a stack program needs in scope.
pub mod prelude {
    pub use strata_core::{
        CancelToken, Context, Engine, Event, Handle, Input, Op, Output, Reference, Registry,
        Resource, ResourceArgs, ResourceOptions, RunOptions, Secret, Stack, Summary, Urn,
    };
}

/// Every resource type of every domain crate, so that resources only in state (removed
/// from the program) can still be deleted.
pub fn registry() -> strata_core::Registry {
    let mut r = strata_core::Registry::new();
    strata_network::register(&mut r);
    strata_compute::register(&mut r);
    strata_data::register(&mut r);
    strata_edge::register(&mut r);
    strata_observability::register(&mut r);
    strata_security::register(&mut r);
    r.register::<strata_core::testing::Mock>();
    r
}

/// The architecture layer of a resource, for `graph` (`Program::group(strata::layer)`):
/// `1 network`, `2 compute and edge`, `3 data and storage`, `4 observability`,
/// `5 security` (numbered so the diagram draws them in that order).
pub fn layer(node: &strata_core::stack::Node) -> String {
    let t = node.type_name;
    let service = t
        .split_once(':')
        .map_or(t, |(_, r)| r)
        .split('/')
        .next()
        .unwrap_or_default();
    let layer = match (service, t) {
        (_, "aws:ec2/launch-template") => "2 compute and edge",
        ("ec2", _) => "1 network",
        ("autoscaling" | "elbv2" | "acm" | "wafv2" | "route53" | "cloudfront", _) => {
            "2 compute and edge"
        }
        ("rds" | "elasticache" | "s3" | "efs", _) => "3 data and storage",
        ("logs" | "cloudwatch" | "sns" | "cloudtrail" | "xray", _) => "4 observability",
        ("kms" | "secretsmanager" | "guardduty" | "iam" | "lambda", _) => "5 security",
        _ => "6 other",
    };
    layer.to_owned()
}

/// The README's code compiles.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
