//! strata-core: the model, graph, plan, engine, state, locking and events of strata.
//!
//! Most users reach this through the `strata` facade and its `prelude`. Resource crates
//! implement [`Resource`] for each AWS resource type.

#[cfg(feature = "aws")]
pub mod aws;
pub mod diff;
pub mod engine;
pub mod events;
pub mod graph;
pub mod options;
pub mod plan;
pub mod policy;
pub mod queue;
pub mod resource;
pub mod secrets;
pub mod stack;
pub mod state;
pub mod testing;
pub mod urn;
pub mod value;

pub use diff::PropertyChange;
pub use engine::{CancelToken, Engine, EngineError, RefreshReport, RunOptions, DEFAULT_PARALLEL};
pub use events::{Event, EventBus, Level, Summary};
pub use options::{Reference, ResourceOptions};
pub use plan::{plan, Op, Plan, PlanError, PlanErrors, PlannedStep};
pub use policy::{Enforcement, PolicyPack, PolicyViolations, Violation};
pub use queue::{DependencyQueue, Policy};
pub use resource::{
    Context, Created, Cx, ErasedResource, FieldError, Handle, Observed, ProviderError, Recovery,
    Registry, Resource, ResourceArgs,
};
pub use stack::{DeclarationError, DeclarationErrors, Declared, SealedStack, Stack, StackView};
pub use state::{Backend, FileBackend, LockInfo, LockRequest, MemoryBackend, State, StateError};
pub use urn::Urn;
pub use value::{Input, Output, Secret};

#[doc(hidden)]
pub use async_trait::async_trait;
/// The AWS SDK's configuration loader (feature `aws`), for programs that build AWS
/// contexts and key sources.
#[cfg(feature = "aws")]
pub use aws_config;
