//! The resource model: the [`Resource`] trait that every AWS resource type implements,
//! the context its CRUD methods get, and the type-erased form the engine drives.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::diff::{diff_values, PropertyChange};
use crate::urn::Urn;
use crate::value::{Output, Unresolved};

/// A problem with one field of a resource's args, found by `validate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as a dotted path (`cidr_block`, `rules.0.port`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What a provider call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The args are invalid (AWS said so, or the provider found it).
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// The reason.
        message: String,
    },
    /// The resource does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A transient failure (throttling, a 5xx) that survived the SDK's retries.
    #[error("transient failure: {0}")]
    Transient(String),
    /// The create was refused because something of that name (or identity) already
    /// exists. Nothing was made by this call. The engine then asks the type to
    /// [`Resource::recover`] the resource: it is adopted only when it is provably this
    /// operation's (an earlier attempt with the same token), never because of the name.
    #[error("{operation} failed: {message}")]
    AlreadyExists {
        /// The API operation, for example `s3:CreateBucket`.
        operation: String,
        /// The AWS error message.
        message: String,
    },
    /// An AWS API call failed.
    #[error("{operation} failed: {message}")]
    Api {
        /// The API operation, for example `ec2:CreateVpc`.
        operation: String,
        /// The AWS error code, when there is one.
        code: Option<String>,
        /// The AWS error message.
        message: String,
    },
    /// The resource did not reach its ready state in time.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout {
        /// How long the waiter waited.
        after: Duration,
        /// What it was waiting for.
        what: String,
    },
    /// The engine's context lacks something the provider needs (an AWS config, a client).
    #[error("the provider context has no {0}")]
    MissingContext(&'static str),
    /// Args or outputs could not be decoded.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// What was decoded.
        what: String,
        /// The serde error.
        source: serde_json::Error,
    },
    /// An input was not resolved.
    #[error(transparent)]
    Unresolved(#[from] Unresolved),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// Shared services for providers: AWS configuration, SDK clients, the in-memory cloud.
///
/// A type map: the program inserts what its providers need, providers look it up by type.
#[derive(Clone, Default)]
pub struct Context {
    entries: Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a service.
    pub fn with<T: Any + Send + Sync>(mut self, value: T) -> Self {
        Arc::make_mut(&mut self.entries).insert(TypeId::of::<T>(), Arc::new(value));
        self
    }

    /// The service of type `T`, if present.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.entries
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
    }
}

/// What a provider call knows about the step it runs in.
#[derive(Debug, Clone)]
pub struct Cx<'a> {
    /// Shared services.
    pub context: &'a Context,
    /// The resource's URN.
    pub urn: &'a Urn,
    /// The idempotency token for this operation. Creates pass it to APIs that take one
    /// (EC2 `ClientToken`, Route 53 `CallerReference`, …) so a retried create returns the
    /// same resource.
    pub token: &'a str,
}

impl Cx<'_> {
    /// A service from the context, or [`ProviderError::MissingContext`].
    pub fn require<T: Any + Send + Sync>(&self) -> Result<&T, ProviderError> {
        self.context
            .get::<T>()
            .ok_or(ProviderError::MissingContext(std::any::type_name::<T>()))
    }

    /// The tags every taggable resource carries: `strata:stack` and `strata:urn`.
    pub fn tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("strata:stack".to_owned(), self.urn.stack().to_owned()),
            ("strata:urn".to_owned(), self.urn.to_string()),
        ])
    }
}

/// What a create returns: the provider id and the outputs.
#[derive(Debug, Clone)]
pub struct Created<O> {
    /// The provider's id for the resource (`vpc-0abc…`, an ARN, a name).
    pub id: String,
    /// The outputs.
    pub outputs: O,
}

/// What a read observes of a live resource.
#[derive(Debug, Clone)]
pub struct Observed<A, O> {
    /// The live properties, as args.
    pub args: A,
    /// The live outputs.
    pub outputs: O,
}

/// What a type finds when asked for the resource of an interrupted create.
#[derive(Debug, Clone)]
pub enum Recovery<O> {
    /// The create went through: this is the resource. The engine adopts it.
    Found(Created<O>),
    /// Only for types AWS cannot tag (a Route 53 record, a route, an alias, a dashboard):
    /// a resource whose every identifying property equals what was asked, which is all the
    /// proof such a service allows. The engine adopts it after an interrupted create or a
    /// create that failed after its call, but never when the create was just refused
    /// because the resource already existed: then it was there before, and is not ours.
    Resembles(Created<O>),
    /// The create certainly did not go through. The engine creates it again.
    Absent,
    /// The type cannot tell. The run stops before touching the resource; the text says
    /// exactly what to check.
    Unknown(String),
}

/// An AWS resource type.
///
/// Implementors are usually unit structs; `Args` are the desired properties (fields of
/// type [`crate::Input`] where a value may come from another resource) and `Outputs` what
/// AWS returns. The engine calls `validate` when the stack is sealed, `diff` when planning,
/// and the CRUD methods during apply, destroy, refresh and import.
#[async_trait]
pub trait Resource: Send + Sync + Sized + 'static {
    /// The type token, for example `aws:ec2/vpc`. It is part of every URN and of state.
    const TYPE: &'static str;
    /// Top-level args fields (or dotted paths) whose change forces replacement. Every other
    /// change, tags included, is made in place.
    const REPLACE_ON: &'static [&'static str] = &[];
    /// Whether a replacement must delete the old resource first, because AWS refuses two
    /// of them at once (a flow log with the same configuration). Sets the
    /// `delete_before_replace` option of every resource of this type.
    const DELETE_BEFORE_REPLACE: bool = false;
    /// The args fields (dotted paths) that together name the resource uniquely in its
    /// account and region: a bucket's `bucket`, a topic's `name`, a security group's
    /// `vpc_id` and `name`. Two resources of the type with equal values are the same
    /// physical resource. The engine refuses a plan that creates one identity while it
    /// deletes it under another logical name (a rename that would lose the resource), and
    /// two declarations of one identity. Empty: AWS makes the identity (an id), so no two
    /// declarations can share it. A field that is absent or not yet known takes part in no
    /// comparison.
    const IDENTITY: &'static [&'static str] = &[];
    /// The fields of its args, for types whose serialized args leave some out (with
    /// `skip_serializing_if`): `ignore_changes` and `replace_on_changes` paths are checked
    /// against them, and against the fields the declared args hold.
    const FIELDS: &'static [&'static str] = &[];

    /// The desired properties.
    type Args: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// What AWS returns.
    type Outputs: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// Checks args before any API call. Inputs that are still outputs are unknown here and
    /// are skipped ([`crate::Input::known`]).
    fn validate(_args: &Self::Args) -> Vec<FieldError> {
        Vec::new()
    }

    /// Checks that involve several declared resources (the subnets of one VPC must lie in
    /// it and not overlap), run once per type when the stack is sealed. Each finding names
    /// the resource and the field.
    fn check_stack(_stack: &crate::stack::StackView<'_>) -> Vec<(Urn, FieldError)> {
        Vec::new()
    }

    /// How long a create (or replace) of these args typically takes on AWS. The scheduler
    /// starts the longest remaining path first.
    fn estimate(_args: &Self::Args) -> Duration {
        Duration::from_secs(2)
    }

    /// Classifies every changed property as in-place or replacing. `old` is the args in
    /// state, `new` the declared args; `new` may contain unknowns during preview. The
    /// default uses [`Resource::REPLACE_ON`].
    fn diff(old: &Value, new: &Value) -> Vec<PropertyChange> {
        diff_values(old, new, Self::REPLACE_ON)
    }

    /// Creates the resource and waits until it is usable.
    async fn create(
        cx: &Cx<'_>,
        args: &Self::Args,
    ) -> Result<Created<Self::Outputs>, ProviderError>;

    /// Finds the resource that an interrupted create made, if any, after a crash: by the
    /// idempotency token `cx.token` that create used, or by the `strata:urn` tag
    /// (`cx.urn`). The default cannot tell.
    async fn recover(
        cx: &Cx<'_>,
        _args: &Self::Args,
    ) -> Result<Recovery<Self::Outputs>, ProviderError> {
        Ok(Recovery::Unknown(format!(
            "look for a {} tagged strata:urn={} (create token {}); if it exists, import it with `import {} {} <id>`, otherwise delete the pending operation's resource from state",
            Self::TYPE,
            cx.urn,
            cx.token,
            Self::TYPE,
            cx.urn.name()
        )))
    }

    /// What would make a delete of this live resource fail, if anything: deletion
    /// protection switched on (read live, not from `args`), a bucket holding objects
    /// without `force_destroy`. The engine asks before a plan or a destroy deletes or
    /// replaces the resource, and refuses the whole run up front rather than stopping
    /// half-way. The finding names the field and the way out. Makes no mutating call.
    async fn delete_blocker(
        _cx: &Cx<'_>,
        _id: &str,
        _args: &Self::Args,
        _outputs: &Self::Outputs,
    ) -> Result<Option<FieldError>, ProviderError> {
        Ok(None)
    }

    /// Reads the live resource, or `None` if it is gone. `args` are the args in state, when
    /// there are any (not during import).
    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&Self::Args>,
    ) -> Result<Option<Observed<Self::Args, Self::Outputs>>, ProviderError>;

    /// Changes in place what AWS can change in place.
    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &Self::Args,
        new: &Self::Args,
        outputs: &Self::Outputs,
    ) -> Result<Self::Outputs, ProviderError>;

    /// Deletes the resource and waits until it is gone. An already-gone resource counts as
    /// deleted.
    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        args: &Self::Args,
        outputs: &Self::Outputs,
    ) -> Result<(), ProviderError>;
}

/// Ties an args type to its resource type, so `stack.add(name, args)` infers the type.
pub trait ResourceArgs: Serialize + Send + 'static {
    /// The resource type these args declare.
    type Resource: Resource<Args = Self>;
}

/// A declared resource in a stack: cheap to clone, with typed output accessors.
pub struct Handle<R> {
    urn: Urn,
    _r: PhantomData<fn() -> R>,
}

impl<R> Clone for Handle<R> {
    fn clone(&self) -> Self {
        Handle {
            urn: self.urn.clone(),
            _r: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Handle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Handle").field(&self.urn).finish()
    }
}

impl<R: Resource> Handle<R> {
    pub(crate) fn new(urn: Urn) -> Self {
        Handle {
            urn,
            _r: PhantomData,
        }
    }

    /// The resource's URN.
    pub fn urn(&self) -> &Urn {
        &self.urn
    }

    /// An output computed from this resource's outputs. Resource crates build their typed
    /// accessors (`vpc.id()`) on this; see [`crate::outputs!`].
    pub fn output<T, F>(&self, f: F) -> Output<T>
    where
        T: Serialize + 'static,
        F: Fn(&R::Outputs) -> T + Send + Sync + 'static,
    {
        Output::project::<R::Outputs, F>(self.urn.clone(), f)
    }
}

/// Declares typed output accessors for a resource's handle, as an extension trait.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata_core::*;
/// # struct Vpc;
/// # #[derive(Serialize, Deserialize)] struct VpcArgs;
/// #[derive(Serialize, Deserialize)]
/// pub struct VpcOutputs { pub id: String, pub arn: String }
/// # #[async_trait::async_trait] impl Resource for Vpc {
/// #   const TYPE: &'static str = "aws:ec2/vpc"; type Args = VpcArgs; type Outputs = VpcOutputs;
/// #   async fn create(_: &Cx<'_>, _: &VpcArgs) -> Result<Created<VpcOutputs>, ProviderError> { Err(ProviderError::Other("".into())) }
/// #   async fn read(_: &Cx<'_>, _: &str, _: Option<&VpcArgs>) -> Result<Option<Observed<VpcArgs, VpcOutputs>>, ProviderError> { Ok(None) }
/// #   async fn update(_: &Cx<'_>, _: &str, _: &VpcArgs, _: &VpcArgs, o: &VpcOutputs) -> Result<VpcOutputs, ProviderError> { Err(ProviderError::Other("".into())) }
/// #   async fn delete(_: &Cx<'_>, _: &str, _: &VpcArgs, _: &VpcOutputs) -> Result<(), ProviderError> { Ok(()) }
/// # }
/// strata_core::outputs!(Vpc => VpcHandle { id: String, arn: String });
/// // `vpc.id()` is now an `Output<String>` for any `vpc: Handle<Vpc>`.
/// ```
#[macro_export]
macro_rules! outputs {
    ($res:ty => $trait:ident { $( $(#[$m:meta])* $field:ident : $t:ty ),* $(,)? }) => {
        /// Typed output accessors.
        pub trait $trait {
            $( $(#[$m])* fn $field(&self) -> $crate::Output<$t>; )*
        }
        impl $trait for $crate::Handle<$res> {
            $( fn $field(&self) -> $crate::Output<$t> {
                // Checks, at compile time, that the field exists with this type.
                let _: fn(&<$res as $crate::Resource>::Outputs) -> &$t = |o| &o.$field;
                $crate::Output::field(self.urn().clone(), stringify!($field))
            } )*
        }
    };
}

/// The engine's view of a resource type: args and outputs as JSON.
#[async_trait]
pub trait ErasedResource: Send + Sync {
    /// The type token.
    fn type_name(&self) -> &'static str;
    /// See [`Resource::diff`].
    fn diff(&self, old: &Value, new: &Value) -> Vec<PropertyChange>;
    /// See [`Resource::check_stack`].
    fn check_stack(&self, stack: &crate::stack::StackView<'_>) -> Vec<(Urn, FieldError)>;
    /// See [`Resource::estimate`]; a default when the args do not decode.
    fn estimate(&self, args: &Value) -> Duration;
    /// The physical identity of a resource with these (resolved) args, per
    /// [`Resource::IDENTITY`]: `None` when the type has none or a part is unknown.
    fn identity(&self, args: &Value) -> Option<String>;
    /// See [`Resource::FIELDS`].
    fn fields(&self) -> &'static [&'static str];
    /// See [`Resource::delete_blocker`].
    async fn delete_blocker(
        &self,
        cx: &Cx<'_>,
        id: &str,
        args: &Value,
        outputs: &Value,
    ) -> Result<Option<FieldError>, ProviderError>;
    /// See [`Resource::create`].
    async fn create(&self, cx: &Cx<'_>, args: &Value) -> Result<Created<Value>, ProviderError>;
    /// See [`Resource::recover`].
    async fn recover(&self, cx: &Cx<'_>, args: &Value) -> Result<Recovery<Value>, ProviderError>;
    /// See [`Resource::read`].
    async fn read(
        &self,
        cx: &Cx<'_>,
        id: &str,
        args: Option<&Value>,
    ) -> Result<Option<Observed<Value, Value>>, ProviderError>;
    /// See [`Resource::update`].
    async fn update(
        &self,
        cx: &Cx<'_>,
        id: &str,
        old: &Value,
        new: &Value,
        outputs: &Value,
    ) -> Result<Value, ProviderError>;
    /// See [`Resource::delete`].
    async fn delete(
        &self,
        cx: &Cx<'_>,
        id: &str,
        args: &Value,
        outputs: &Value,
    ) -> Result<(), ProviderError>;
}

struct Adapter<R>(PhantomData<fn() -> R>);

/// The identity made of the values at `paths` in `args` (see [`Resource::IDENTITY`]):
/// `None` without paths, or when a value is missing or not yet known. A null is a value
/// (a record without a set identifier).
pub(crate) fn identity_of(paths: &[&str], args: &Value) -> Option<String> {
    if paths.is_empty() {
        return None;
    }
    let mut parts = Vec::with_capacity(paths.len());
    for p in paths {
        let mut v = args;
        for seg in p.split('.') {
            v = v.get(seg)?;
        }
        // Unknown yet, or secret (an identity is shown in plan errors): not checked.
        if crate::value::contains_unknown(v)
            || crate::value::contains_secret(v)
            || crate::secrets::contains_sealed(v)
        {
            return None;
        }
        parts.push(match v {
            Value::String(s) => format!("{p}={s}"),
            other => format!("{p}={other}"),
        });
    }
    Some(parts.join(","))
}

/// `outputs` with every property that is secret in `args` at the same path marked
/// secret (Pulumi's rule): a type that echoes an input among its outputs does not reveal
/// it.
fn secret_outputs(args: &Value, mut outputs: Value) -> Value {
    if crate::value::contains_secret(args) {
        crate::value::carry_secrets(args, &mut outputs);
    }
    outputs
}

/// Typed args or outputs from their JSON. Secret markers are removed first: a secret
/// may sit in a plain field (derived with `Output::map`), and `Secret` fields take the
/// bare value.
fn de<T: DeserializeOwned>(v: &Value, what: &str) -> Result<T, ProviderError> {
    let secret = crate::value::contains_secret(v);
    let v = if secret {
        crate::value::unmark(v)
    } else {
        v.clone()
    };
    serde_json::from_value(v).map_err(|source| ProviderError::Decode {
        what: what.to_owned(),
        // serde's message may quote a value: with secrets among them, only where.
        source: if secret {
            <serde_json::Error as serde::de::Error>::custom(format!(
                "they do not match the type (values not shown: they hold secrets; line {}, column {})",
                source.line(),
                source.column()
            ))
        } else {
            source
        },
    })
}

fn ser<T: Serialize>(v: &T, what: &str) -> Result<Value, ProviderError> {
    serde_json::to_value(v).map_err(|source| ProviderError::Decode {
        what: what.to_owned(),
        source,
    })
}

#[async_trait]
impl<R: Resource> ErasedResource for Adapter<R> {
    fn type_name(&self) -> &'static str {
        R::TYPE
    }

    fn diff(&self, old: &Value, new: &Value) -> Vec<PropertyChange> {
        R::diff(old, new)
    }

    fn check_stack(&self, stack: &crate::stack::StackView<'_>) -> Vec<(Urn, FieldError)> {
        R::check_stack(stack)
    }

    fn estimate(&self, args: &Value) -> Duration {
        de::<R::Args>(args, "args").map_or(Duration::from_secs(2), |a| R::estimate(&a))
    }

    fn fields(&self) -> &'static [&'static str] {
        R::FIELDS
    }

    fn identity(&self, args: &Value) -> Option<String> {
        identity_of(R::IDENTITY, args)
    }

    async fn delete_blocker(
        &self,
        cx: &Cx<'_>,
        id: &str,
        args: &Value,
        outputs: &Value,
    ) -> Result<Option<FieldError>, ProviderError> {
        let args: R::Args = de(args, "args")?;
        let outputs: R::Outputs = de(outputs, "outputs")?;
        R::delete_blocker(cx, id, &args, &outputs).await
    }

    async fn create(&self, cx: &Cx<'_>, args: &Value) -> Result<Created<Value>, ProviderError> {
        let known = args;
        let args: R::Args = de(args, "args")?;
        let c = R::create(cx, &args).await?;
        Ok(Created {
            id: c.id,
            outputs: secret_outputs(known, ser(&c.outputs, "outputs")?),
        })
    }

    async fn recover(&self, cx: &Cx<'_>, args: &Value) -> Result<Recovery<Value>, ProviderError> {
        let known = args;
        let args: R::Args = de(args, "args")?;
        Ok(match R::recover(cx, &args).await? {
            Recovery::Found(c) => Recovery::Found(Created {
                id: c.id,
                outputs: secret_outputs(known, ser(&c.outputs, "outputs")?),
            }),
            Recovery::Resembles(c) => Recovery::Resembles(Created {
                id: c.id,
                outputs: secret_outputs(known, ser(&c.outputs, "outputs")?),
            }),
            Recovery::Absent => Recovery::Absent,
            Recovery::Unknown(s) => Recovery::Unknown(s),
        })
    }

    async fn read(
        &self,
        cx: &Cx<'_>,
        id: &str,
        args: Option<&Value>,
    ) -> Result<Option<Observed<Value, Value>>, ProviderError> {
        let known = args;
        let args: Option<R::Args> = args.map(|a| de(a, "args")).transpose()?;
        match R::read(cx, id, args.as_ref()).await? {
            None => Ok(None),
            Some(o) => {
                let mut observed = ser(&o.args, "args")?;
                // What was secret stays secret, whatever the field's type.
                if let Some(known) = known {
                    crate::value::carry_secrets(known, &mut observed);
                }
                let outputs = ser(&o.outputs, "outputs")?;
                Ok(Some(Observed {
                    outputs: secret_outputs(&observed, outputs),
                    args: observed,
                }))
            }
        }
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        id: &str,
        old: &Value,
        new: &Value,
        outputs: &Value,
    ) -> Result<Value, ProviderError> {
        let known = new;
        let (old, new): (R::Args, R::Args) = (de(old, "old args")?, de(new, "args")?);
        let outputs: R::Outputs = de(outputs, "outputs")?;
        let outputs = ser(&R::update(cx, id, &old, &new, &outputs).await?, "outputs")?;
        Ok(secret_outputs(known, outputs))
    }

    async fn delete(
        &self,
        cx: &Cx<'_>,
        id: &str,
        args: &Value,
        outputs: &Value,
    ) -> Result<(), ProviderError> {
        let args: R::Args = de(args, "args")?;
        let outputs: R::Outputs = de(outputs, "outputs")?;
        R::delete(cx, id, &args, &outputs).await
    }
}

/// The resource types a program knows, by type token. The engine needs the type of every
/// resource in state, including ones no longer declared (to delete them).
#[derive(Clone, Default)]
pub struct Registry {
    types: HashMap<&'static str, Arc<dyn ErasedResource>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.types.keys().collect();
        names.sort();
        f.debug_struct("Registry").field("types", &names).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `R`.
    pub fn register<R: Resource>(&mut self) -> &mut Self {
        self.types
            .entry(R::TYPE)
            .or_insert_with(|| Arc::new(Adapter::<R>(PhantomData)));
        self
    }

    /// The type registered under `type_name`.
    pub fn get(&self, type_name: &str) -> Option<Arc<dyn ErasedResource>> {
        self.types.get(type_name).cloned()
    }

    /// The registered types.
    pub fn types(&self) -> impl Iterator<Item = &Arc<dyn ErasedResource>> {
        self.types.values()
    }

    /// Adds every type of `other`.
    pub fn merge(&mut self, other: &Registry) {
        for (k, v) in &other.types {
            self.types.entry(k).or_insert_with(|| v.clone());
        }
    }
}
