//! The engine: runs plans against providers with bounded, critical-path-first parallelism,
//! checkpointing state after every step.
//!
//! The pure scheduling lives in [`crate::queue`]; this module is the async driver (a
//! `JoinSet` with at most `parallel` jobs in flight), the step implementations and the
//! checkpoint writer.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::diff::{diff_values, PropertyChange};
use crate::events::{Event, EventBus, Level, Summary};
use crate::plan::{classify, plan, Op, Plan, PlanError, PlanErrors};
use crate::policy::{check_all, Enforcement, PolicyPack, PolicyViolations, Violation};
use crate::queue::{DependencyQueue, Policy};
use crate::resource::{Context, Cx, ErasedResource, ProviderError, Recovery, Registry};
use crate::secrets::{
    contains_secret, open_value, seal_value, Crypter, Encryption, KeySource, Passphrase,
    SecretsError,
};
use crate::stack::SealedStack;
use crate::state::{
    now_rfc3339, Backend, PendingKind, PendingOperation, ResourceState, State, StateError,
};
use crate::urn::Urn;
use crate::value::{contains_unknown, redact, resolve_template, Lookup, OutputSource};

/// The default bound on steps running at once.
pub const DEFAULT_PARALLEL: usize = 10;

/// How often a step's provider call is tried again after a transient failure (throttling
/// or a 5xx that outlived the SDK's own retries), with backoff: 2, 4, 8 seconds. A create
/// asks the type to recover its resource first, so that a create that went through
/// before the failure is adopted, not made twice.
const TRANSIENT_RETRIES: u32 = 3;

fn transient(e: &crate::resource::ProviderError) -> bool {
    matches!(e, crate::resource::ProviderError::Transient(_))
}

async fn backoff(attempt: u32) {
    tokio::time::sleep(Duration::from_secs(2u64 << attempt.min(4))).await;
}

/// Stops a run: no new step starts; running steps finish; state is saved; the lock is
/// released. Clones share the flag. It can be awaited ([`CancelToken::cancelled`]).
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<CancelInner>);

#[derive(Debug, Default)]
struct CancelInner {
    flag: AtomicBool,
    notify: tokio::sync::Notify,
    parent: Option<CancelToken>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// A token cancelled with this one, or on its own: cancelling it leaves this one
    /// alone (a run's own token, under its caller's).
    pub fn child(&self) -> Self {
        CancelToken(Arc::new(CancelInner {
            parent: Some(self.clone()),
            ..CancelInner::default()
        }))
    }
    /// Cancels.
    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }
    /// Whether it (or the token it is a child of) was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
            || self
                .0
                .parent
                .as_ref()
                .is_some_and(CancelToken::is_cancelled)
    }
    /// Waits until it is cancelled.
    pub fn cancelled(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            loop {
                let notified = self.0.notify.notified();
                tokio::pin!(notified);
                // Registered before the check: a cancel in between still wakes it.
                notified.as_mut().enable();
                if self.is_cancelled() {
                    return;
                }
                match &self.0.parent {
                    Some(parent) => tokio::select! {
                        () = notified => {}
                        () = parent.cancelled() => return,
                    },
                    None => notified.await,
                }
            }
        })
    }
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only these resources and what they depend on (for `destroy`: what depends on them).
    pub targets: Vec<Urn>,
    /// Refresh state from AWS before planning (`up --refresh`).
    pub refresh: bool,
    /// Cancels the run.
    pub cancel: CancelToken,
    /// Who runs it, as the lock and audit record it (an embedder's own user); `$USER`
    /// (or the engine's [`Engine::run_as`]) when `None`.
    pub who: Option<String>,
}

/// What can stop a run as a whole (step failures are reported in the [`Summary`]).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// State or lock trouble.
    #[error(transparent)]
    State(#[from] StateError),
    /// The plan is refused.
    #[error(transparent)]
    Plan(#[from] PlanErrors),
    /// The stack violates mandatory policies; nothing was called or locked.
    #[error(transparent)]
    Policy(#[from] PolicyViolations),
    /// The state belongs to another stack.
    #[error("state for stack {found:?} was returned for stack {expected:?}")]
    WrongStack {
        /// The stack asked for.
        expected: String,
        /// The stack in the document.
        found: String,
    },
    /// A pending operation of an interrupted run could not be resolved automatically.
    #[error("an interrupted run left {urn} unresolved: {message}")]
    Pending {
        /// The resource.
        urn: Urn,
        /// What to check.
        message: String,
    },
    /// `state pending drop` or `state rm` named nothing in state.
    #[error("{0}")]
    NotInState(String),
    /// Import failed.
    #[error("import of {urn}: {message}")]
    Import {
        /// The URN the resource would get.
        urn: Urn,
        /// Why.
        message: String,
    },
}

/// The outcome of a refresh.
#[derive(Debug, Clone, Default)]
pub struct RefreshReport {
    /// The run summary.
    pub summary: Summary,
    /// Per drifted resource: its property changes (state → live, redacted), or `None` if
    /// it is gone.
    pub drift: BTreeMap<Urn, Option<Vec<PropertyChange>>>,
}

/// Runs previews, applies, destroys, refreshes and imports for stacks in one backend.
#[derive(Debug, Clone)]
pub struct Engine {
    backend: Arc<dyn Backend>,
    registry: Registry,
    context: Context,
    events: EventBus,
    parallel: usize,
    policy: Policy,
    /// Policy packs checked at plan time.
    packs: Vec<Arc<dyn PolicyPack>>,
    lock_timeout: Duration,
    /// How often a run refreshes its lock's heartbeat.
    heartbeat: Duration,
    /// Who runs operations by default (the lock's holder), instead of `$USER`.
    who: Option<String>,
    /// Where data keys come from: the first makes new states' keys; a state is opened
    /// with the source of the kind it records.
    keys: Vec<Arc<dyn KeySource>>,
    /// Opened keys, by fingerprint (the KDF is deliberately slow, KMS is a round trip).
    crypters: Arc<Mutex<HashMap<String, Arc<Crypter>>>>,
}

impl Engine {
    /// An engine over `backend`, with an empty context and registry.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Engine {
            backend,
            registry: Registry::new(),
            context: Context::new(),
            events: EventBus::new(),
            parallel: DEFAULT_PARALLEL,
            policy: Policy::CriticalPath,
            packs: Vec::new(),
            lock_timeout: Duration::ZERO,
            heartbeat: crate::state::HEARTBEAT_EVERY,
            who: None,
            keys: Vec::new(),
            crypters: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The passphrase that encrypts the stack's secrets in state (the CLI passes
    /// `STRATA_PASSPHRASE`). See [`crate::secrets`]. It makes new states' keys unless
    /// [`Engine::secrets`] named another source, and opens states that record a passphrase.
    pub fn passphrase(mut self, passphrase: Option<String>) -> Self {
        self.keys.retain(|k| k.kind() != "passphrase");
        if let Some(p) = passphrase.filter(|p| !p.is_empty()) {
            self.keys.push(Arc::new(Passphrase::new(p)));
        }
        self
    }

    /// The key source of new states' secrets (for example [`crate::secrets::KmsKeys`]),
    /// also used to open states of its kind.
    pub fn secrets(mut self, source: Arc<dyn KeySource>) -> Self {
        let kind = source.kind();
        self.keys.retain(|k| k.kind() != kind);
        self.keys.insert(0, source);
        self
    }

    fn key_source(&self, kind: &str) -> Option<&Arc<dyn KeySource>> {
        self.keys.iter().find(|k| k.kind() == kind)
    }

    /// The key for the state's secrets: opened with the source of the kind the state
    /// records, or created (and recorded in the state) if the state has none yet.
    async fn crypter(&self, state: &mut State) -> Result<Option<Arc<Crypter>>, EngineError> {
        let cached = |f: &str| self.crypters.lock().ok().and_then(|m| m.get(f).cloned());
        let remember = |f: String, c: Arc<Crypter>| {
            if let Ok(mut m) = self.crypters.lock() {
                m.insert(f, c);
            }
        };
        match &state.encryption {
            Some(enc) => {
                let f = enc.fingerprint();
                if let Some(c) = cached(&f) {
                    return Ok(Some(c));
                }
                let Some(source) = self.key_source(&enc.kind) else {
                    let err = match enc.kind.as_str() {
                        "passphrase" => SecretsError::PassphraseMissing,
                        "awskms" => SecretsError::NoKeySource(format!(
                            "the AWS KMS key {} (set STRATA_SECRETS_PROVIDER=awskms://KEY)",
                            enc.key_id.as_deref().unwrap_or("(unknown)")
                        )),
                        other => SecretsError::NoKeySource(format!("{other:?}")),
                    };
                    return Err(StateError::from(err).into());
                };
                let c = Arc::new(
                    source
                        .open(&state.stack, enc)
                        .await
                        .map_err(StateError::from)?,
                );
                remember(f, c.clone());
                Ok(Some(c))
            }
            None => {
                let Some(source) = self.keys.first() else {
                    return Ok(None);
                };
                let (c, enc) = source
                    .create(&state.stack)
                    .await
                    .map_err(StateError::from)?;
                let c = Arc::new(c);
                remember(enc.fingerprint(), c.clone());
                state.encryption = Some(enc);
                Ok(Some(c))
            }
        }
    }

    /// Sets the provider context (AWS config, the in-memory cloud, …).
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Adds resource types, for resources in state that the program no longer declares.
    pub fn with_registry(mut self, registry: &Registry) -> Self {
        self.registry.merge(registry);
        self
    }

    /// Sets the bound on steps running at once (at least 1).
    pub fn parallel(mut self, n: usize) -> Self {
        self.parallel = n.max(1);
        self
    }

    /// Sets the order of ready steps (critical path first by default).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Adds a policy pack. `preview` lists its violations; `up` refuses to start while
    /// any mandatory one remains. See [`crate::policy`].
    pub fn policy_pack(mut self, pack: Arc<dyn PolicyPack>) -> Self {
        self.packs.push(pack);
        self
    }

    /// Every policy violation of `stack`, by every pack, in pack order.
    pub fn check_policies(&self, stack: &SealedStack) -> Vec<Violation> {
        check_all(&self.packs, &stack.view())
    }

    fn enforce_policies(&self, stack: &SealedStack) -> Result<(), EngineError> {
        let mandatory: Vec<Violation> = self
            .check_policies(stack)
            .into_iter()
            .filter(|v| v.enforcement == Enforcement::Mandatory)
            .collect();
        if mandatory.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Policy(PolicyViolations(mandatory)))
        }
    }

    /// How long to wait for a held lock before failing (default: fail at once).
    pub fn lock_timeout(mut self, d: Duration) -> Self {
        self.lock_timeout = d;
        self
    }

    /// How often a run refreshes its lock's heartbeat (default and most
    /// [`crate::state::HEARTBEAT_EVERY`]; at least a tenth of a second).
    pub fn heartbeat_every(mut self, d: Duration) -> Self {
        // At most the default: a slower beat would make a live lock look abandoned.
        self.heartbeat = d.clamp(Duration::from_millis(100), crate::state::HEARTBEAT_EVERY);
        self
    }

    /// Who runs this engine's operations, as locks and the state's audit record it (a
    /// service's own user), instead of `$USER`. [`RunOptions::who`] overrides it per run.
    pub fn run_as(mut self, who: impl Into<String>) -> Self {
        self.who = Some(who.into());
        self
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The event bus.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// Subscribes to events.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        self.events.subscribe()
    }

    fn registry_for(&self, stack: Option<&SealedStack>) -> Registry {
        let mut r = self.registry.clone();
        if let Some(s) = stack {
            r.merge(s.registry());
        }
        r
    }

    /// The stack's state, or a new empty one.
    pub async fn load_state(&self, stack: &str) -> Result<State, EngineError> {
        match self.backend.load(stack).await? {
            Some(s) if s.stack != stack => Err(EngineError::WrongStack {
                expected: stack.to_owned(),
                found: s.stack,
            }),
            Some(mut s) => {
                // With the passphrase, secrets are opened; without it they stay sealed
                // (shown as `[secret]`), and changing the stack asks for it.
                let openable = s
                    .encryption
                    .as_ref()
                    .is_some_and(|e| self.key_source(&e.kind).is_some());
                if openable {
                    if let Some(c) = self.crypter(&mut s).await? {
                        open_state(&mut s, &c)?;
                    }
                }
                Ok(s)
            }
            None => Ok(State::new(stack)),
        }
    }

    /// Previews `up`: no lock, no mutating call.
    pub async fn preview(&self, stack: &SealedStack, targets: &[Urn]) -> Result<Plan, EngineError> {
        let state = self.load_state(stack.name()).await?;
        let registry = self.registry_for(Some(stack));
        let mut plan = plan(stack, &state, &registry, targets)?;
        self.check_deletable(&plan.removals(stack, &state), &registry)
            .await?;
        plan.violations = self.check_policies(stack);
        // Read without the key, sealed secrets of declared resources were not compared.
        plan.secrets_not_compared = state
            .resources
            .values()
            .filter(|r| stack.index_of(&r.urn).is_some())
            .map(|r| crate::secrets::count_sealed(&r.args))
            .sum();
        Ok(plan)
    }

    /// Runs `f` under the stack's lock, with the lock's record and the run's cancel token:
    /// a child of `cancel` (the caller's token is never cancelled by the engine), which the
    /// heartbeat cancels if the lock is lost.
    async fn locked<T, F, Fut>(
        &self,
        stack: &str,
        op: &str,
        who: Option<&str>,
        cancel: Option<&CancelToken>,
        f: F,
    ) -> Result<T, EngineError>
    where
        F: FnOnce(crate::state::LockInfo, CancelToken) -> Fut,
        Fut: Future<Output = Result<T, EngineError>>,
    {
        let request = crate::state::LockRequest {
            operation: op.to_owned(),
            who: who.or(self.who.as_deref()).map(str::to_owned),
        };
        let lock = self
            .backend
            .acquire(stack, &request, self.lock_timeout)
            .await?;
        // Released below; if this future is dropped first (a timeout, a `select!`), the
        // guard releases it, so that the process's next run is not locked out. What the
        // dropped run left pending stays for the next run to resolve, as after a crash.
        let mut guard = LockGuard {
            backend: self.backend.clone(),
            stack: stack.to_owned(),
            id: Some(lock.id.clone()),
        };
        let run_cancel = cancel.map_or_else(CancelToken::new, CancelToken::child);
        let beat = Heartbeat::start(self, stack, &lock, run_cancel.clone());
        let result = f(lock.clone(), run_cancel).await;
        if beat.stop().await {
            // Not ours any more: nothing to release.
            guard.id = None;
            result?;
            return Err(StateError::LockLost {
                stack: stack.to_owned(),
                id: lock.id,
            }
            .into());
        }
        let released = self.backend.unlock(stack, &lock.id).await;
        guard.id = None;
        let value = result?;
        released?;
        Ok(value)
    }

    /// Creates, updates, replaces and deletes until AWS matches the declaration.
    pub async fn up(&self, stack: &SealedStack, opts: &RunOptions) -> Result<Summary, EngineError> {
        let unasked: Option<fn(&Plan) -> std::future::Ready<bool>> = None;
        Ok(self
            .up_with(stack, opts, unasked)
            .await?
            .unwrap_or_default())
    }

    /// [`Engine::up`] that asks first: the plan is made under the stack's lock and shown
    /// to `approve`; if it approves, exactly that plan is applied, under the same lock
    /// (nobody can change the state in between). `Ok(None)` if it declines: nothing was
    /// changed, and the lock is released. Interactive `up` uses this.
    pub async fn up_approved<A, Fut>(
        &self,
        stack: &SealedStack,
        opts: &RunOptions,
        approve: A,
    ) -> Result<Option<Summary>, EngineError>
    where
        A: FnOnce(&Plan) -> Fut,
        Fut: Future<Output = bool>,
    {
        self.up_with(stack, opts, Some(approve)).await
    }

    /// `up`, asking `approve` first when there is one.
    async fn up_with<A, Fut>(
        &self,
        stack: &SealedStack,
        opts: &RunOptions,
        approve: Option<A>,
    ) -> Result<Option<Summary>, EngineError>
    where
        A: FnOnce(&Plan) -> Fut,
        Fut: Future<Output = bool>,
    {
        self.enforce_policies(stack)?;
        self.locked(
            stack.name(),
            "up",
            opts.who.as_deref(),
            Some(&opts.cancel),
            |_, cancel| async move {
                let opts = &RunOptions {
                    cancel,
                    ..opts.clone()
                };
                let registry = self.registry_for(Some(stack));
                let mut state = self.load_state(stack.name()).await?;
                self.crypter(&mut state).await?;
                let declared = |u: &Urn| stack.index_of(u).is_some();
                self.resolve_pending(&mut state, &registry, &declared)
                    .await?;
                if opts.refresh {
                    let (s, _) = self.refresh_state(state, &registry, opts).await?;
                    state = s;
                }
                let mut plan = plan(stack, &state, &registry, &opts.targets)?;
                plan.violations = self.check_policies(stack);
                // Sound and deletable before anyone approves it.
                let graph = self.prepare(stack, &plan, &state, &registry).await?;
                if let Some(approve) = approve {
                    if !approve(&plan).await {
                        return Ok(None);
                    }
                    // Again: an answer can take a while (deletion protection switched on
                    // meanwhile would stop the run half-way). Reads only.
                    self.check_deletable(&plan.removals(stack, &state), &registry)
                        .await?;
                }
                self.apply(stack, plan, graph, state, registry, opts)
                    .await
                    .map(Some)
            },
        )
        .await
    }

    /// Deletes every resource in state (or the targets and what depends on them), in
    /// reverse dependency order.
    pub async fn destroy(&self, stack: &str, opts: &RunOptions) -> Result<Summary, EngineError> {
        let approve = |_: &Plan| std::future::ready(true);
        Ok(self
            .destroy_approved(stack, opts, approve)
            .await?
            .unwrap_or_default())
    }

    /// [`Engine::destroy`] that asks first: what it would delete is worked out under the
    /// stack's lock and shown to `approve` as a plan of deletes; if it approves, exactly
    /// that is deleted, under the same lock. `Ok(None)` if it declines.
    pub async fn destroy_approved<A, Fut>(
        &self,
        stack: &str,
        opts: &RunOptions,
        approve: A,
    ) -> Result<Option<Summary>, EngineError>
    where
        A: FnOnce(&Plan) -> Fut,
        Fut: Future<Output = bool>,
    {
        self.locked(
            stack,
            "destroy",
            opts.who.as_deref(),
            Some(&opts.cancel),
            |_, cancel| async move {
                let opts = &RunOptions {
                    cancel,
                    ..opts.clone()
                };
                let mut state = self.load_state(stack).await?;
                let registry = self.registry.clone();
                self.crypter(&mut state).await?;
                // Nothing is created again: a create that did not happen is forgotten.
                self.resolve_pending(&mut state, &registry, &|_| false)
                    .await?;
                self.run_destroy(state, registry, opts, approve).await
            },
        )
        .await
    }

    /// Reads every resource, reports drift property by property and updates state.
    pub async fn refresh(
        &self,
        stack: &str,
        opts: &RunOptions,
    ) -> Result<RefreshReport, EngineError> {
        self.locked(
            stack,
            "refresh",
            opts.who.as_deref(),
            Some(&opts.cancel),
            |_, cancel| async move {
                let opts = &RunOptions {
                    cancel,
                    ..opts.clone()
                };
                let mut state = self.load_state(stack).await?;
                let registry = self.registry.clone();
                self.crypter(&mut state).await?;
                // Keep a create that did not happen for the next `up` to retry by its token.
                self.resolve_pending(&mut state, &registry, &|_| true)
                    .await?;
                let (_, report) = self.refresh_state(state, &registry, opts).await?;
                Ok(report)
            },
        )
        .await
    }

    /// Adopts an existing resource, by its provider id, into state as `name`.
    pub async fn import(
        &self,
        stack: &str,
        type_name: &str,
        name: &str,
        id: &str,
    ) -> Result<ResourceState, EngineError> {
        let urn = Urn::new(stack, type_name, name);
        let fail = |message: String| EngineError::Import {
            urn: urn.clone(),
            message,
        };
        if let Err(why) = crate::stack::check_stack_name(stack) {
            return Err(fail(format!("invalid stack name {stack:?}: {why}")));
        }
        if let Err(why) = crate::stack::check_logical_name(name, &urn) {
            return Err(fail(format!("invalid name {name:?}: {why}")));
        }
        let Some(ty) = self.registry.get(type_name) else {
            return Err(fail(format!("unknown resource type {type_name:?}")));
        };
        self.locked(stack, "import", None, None, |_, _| async {
            let mut state = self.load_state(stack).await?;
            if state.resources.contains_key(&urn) {
                return Err(fail(
                    "a resource with this URN is already in state".to_owned(),
                ));
            }
            if let Some(other) = state
                .resources
                .values()
                .find(|r| r.type_name == type_name && r.id == id)
            {
                return Err(fail(format!(
                    "{id} is already managed by this stack as {}; a resource is managed under one name only",
                    other.urn
                )));
            }
            let cx = Cx {
                context: &self.context,
                urn: &urn,
                token: "",
            };
            let observed = ty
                .read(&cx, id, None)
                .await
                .map_err(|e| fail(e.to_string()))?
                .ok_or_else(|| fail(format!("no {type_name} with id {id:?} exists")))?;
            let r = ResourceState {
                urn: urn.clone(),
                type_name: type_name.to_owned(),
                id: id.to_owned(),
                args: observed.args,
                outputs: observed.outputs,
                dependencies: Vec::new(),
                options: Default::default(),
            };
            state.resources.insert(urn.clone(), r.clone());
            self.save_whole(&mut state).await?;
            self.events.emit(Event::Diagnostic {
                level: Level::Info,
                urn: Some(urn.clone()),
                message: format!("imported {type_name} {id}"),
            });
            Ok(r)
        })
        .await
    }

    /// Asks each type whether its live resource can be deleted, for everything a run is
    /// about to delete or replace, and refuses the run up front, naming every resource and
    /// field that would stop it half-way. Makes no mutating call. A check that cannot be
    /// made (the read fails) is reported as a warning and does not stop the run.
    async fn check_deletable(
        &self,
        going: &[(&ResourceState, Op)],
        registry: &Registry,
    ) -> Result<(), EngineError> {
        let mut errors = Vec::new();
        for (r, op) in going {
            let Some(ty) = registry.get(&r.type_name) else {
                continue;
            };
            let cx = Cx {
                context: &self.context,
                urn: &r.urn,
                token: "",
            };
            match ty.delete_blocker(&cx, &r.id, &r.args, &r.outputs).await {
                Ok(None) => {}
                Ok(Some(f)) => errors.push(PlanError::Undeletable {
                    urn: r.urn.clone(),
                    op: *op,
                    field: f.field,
                    message: f.message,
                }),
                Err(e) => self.events.emit(Event::Diagnostic {
                    level: Level::Warning,
                    urn: Some(r.urn.clone()),
                    message: format!("could not check that {} can be deleted: {e}", r.id),
                }),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(PlanErrors(errors).into())
        }
    }

    /// The operations an interrupted run left pending (`state pending`).
    pub async fn pending(&self, stack: &str) -> Result<Vec<PendingOperation>, EngineError> {
        Ok(self.load_state(stack).await?.pending)
    }

    /// Drops the pending operation `token` from state, under the lock, without any call to
    /// AWS (`state pending drop`): for an operation whose outcome a person has checked.
    /// Recorded in the state's audit with the lock holder and the time.
    pub async fn drop_pending(
        &self,
        stack: &str,
        token: &str,
    ) -> Result<PendingOperation, EngineError> {
        self.edit_state(stack, "state pending drop", |state| {
            let k = state
                .pending
                .iter()
                .position(|p| p.token == token)
                .ok_or_else(|| {
                    let known: Vec<&str> = state.pending.iter().map(|p| p.token.as_str()).collect();
                    EngineError::NotInState(format!(
                        "no pending operation has token {token:?} (pending: {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ))
                })?;
            let p = state.pending.remove(k);
            let action = format!("state pending drop {token} ({:?} of {})", p.kind, p.urn);
            Ok((p, action))
        })
        .await
    }

    /// Forgets the resource `urn` without deleting it (`state rm`): it stays in AWS and
    /// is no longer managed. Recorded in the state's audit with the lock holder and the
    /// time.
    pub async fn forget(&self, stack: &str, urn: &Urn) -> Result<ResourceState, EngineError> {
        self.edit_state(stack, "state rm", |state| {
            let r = state.resources.remove(urn).ok_or_else(|| {
                EngineError::NotInState(format!("{urn} is not in the state of stack {stack:?}"))
            })?;
            // Nothing left refers to it.
            for other in state.resources.values_mut() {
                other.dependencies.retain(|d| d != urn);
            }
            let action = format!("state rm {urn} (id {})", r.id);
            Ok((r, action))
        })
        .await
    }

    /// Changes state by hand under the lock, and records who did what in its audit.
    async fn edit_state<T>(
        &self,
        stack: &str,
        op: &str,
        f: impl FnOnce(&mut State) -> Result<(T, String), EngineError>,
    ) -> Result<T, EngineError> {
        self.locked(stack, op, None, None, |lock, _| async move {
            let mut state = self.load_state(stack).await?;
            let (value, action) = f(&mut state)?;
            state.audit.push(crate::state::AuditEntry {
                when: now_rfc3339(),
                who: lock.who.clone(),
                host: lock.host.clone(),
                action: action.clone(),
            });
            self.save_whole(&mut state).await?;
            self.events.emit(Event::Diagnostic {
                level: Level::Info,
                urn: None,
                message: format!("{action}, by {}@{}", lock.who, lock.host),
            });
            Ok(value)
        })
        .await
    }

    /// Writes `state` whole (outside a run's checkpoints), with the next serial.
    async fn save_whole(&self, state: &mut State) -> Result<(), EngineError> {
        state.serial += 1;
        let c = self.crypter(state).await?;
        self.backend
            .save(
                &state.stack,
                &state.lineage,
                sealed_bytes(state, c.as_deref())?,
            )
            .await?;
        Ok(())
    }

    /// Resolves what an interrupted run left pending, before anything else happens:
    /// - a pending create is asked of its type by its token: what it finds is ours and is
    ///   adopted (as it is live, so that the plan completes it); if nothing is found, the
    ///   create did not happen: for a resource that `retry` says will be created again the
    ///   pending create stays, so that the retried create reuses its token, otherwise it
    ///   is dropped. An adopted resource that is no longer declared is then deleted by the
    ///   plan like any other.
    /// - a started delete is confirmed; a pending update is refreshed;
    /// - the old half of a replace stays owed and is deleted by the plan.
    ///
    /// What a type cannot tell stops the run with exactly what to check, and the command
    /// that drops the pending operation once checked.
    async fn resolve_pending(
        &self,
        state: &mut State,
        registry: &Registry,
        retry: &(dyn Fn(&Urn) -> bool + Sync),
    ) -> Result<(), EngineError> {
        if state.pending.iter().all(|p| is_owed(p, state)) {
            return Ok(());
        }
        let mut keep = Vec::new();
        let mut failure = None;
        let drop_hint = |p: &PendingOperation| {
            format!(
                "once checked, drop the pending operation with `state pending drop {}`",
                p.token
            )
        };
        for p in std::mem::take(&mut state.pending) {
            if failure.is_some() || is_owed(&p, state) {
                keep.push(p);
                continue;
            }
            let Some(ty) = registry.get(&p.type_name) else {
                failure = Some(EngineError::Pending {
                    urn: p.urn.clone(),
                    message: format!(
                        "its type {} is not registered; {}",
                        p.type_name,
                        drop_hint(&p)
                    ),
                });
                keep.push(p);
                continue;
            };
            let cx = Cx {
                context: &self.context,
                urn: &p.urn,
                token: &p.token,
            };
            let say = |message: String| {
                self.events.emit(Event::Diagnostic {
                    level: Level::Warning,
                    urn: Some(p.urn.clone()),
                    message,
                })
            };
            // Whether to keep `p` (a create that did not happen, to be retried with its
            // token).
            let outcome: Result<bool, String> = async {
                match (p.kind, &p.resource) {
                    (PendingKind::Create, Some(intended)) => {
                        match ty
                            .recover(&cx, &intended.args)
                            .await
                            .map_err(|e| e.to_string())?
                        {
                            // A lookalike is adopted only for a create that will be
                            // made again and was not refused because the name was taken
                            // (else it is forgotten: leaking one of ours is the safe side
                            // of deleting somebody else's).
                            Recovery::Resembles(_) if p.refused || !retry(&p.urn) => {
                                say("what resembles an interrupted create is no proof that it happened; the create is forgotten".to_owned());
                                Ok(false)
                            }
                            // (Ids are unique per type only: a cache subnet group and
                            // its replication group may share a name.)
                            Recovery::Found(c) | Recovery::Resembles(c)
                                if !state
                                    .resources
                                    .values()
                                    .any(|r| r.type_name == p.type_name && r.id == c.id) =>
                            {
                                let r = adopt(ty.as_ref(), &cx, intended, c).await;
                                say(format!("adopted {} created by an interrupted run", r.id));
                                if let Some(old) = state.resources.insert(r.urn.clone(), r) {
                                    // It was a replace: the old one is now owed a delete
                                    // (unless it is retained).
                                    // (The retain option of the declaration that asked
                                    // for the replace, or of the old one.)
                                    if !old.options.retain_on_delete
                                        && !intended.options.retain_on_delete
                                    {
                                        keep.push(PendingOperation {
                                            kind: PendingKind::Delete,
                                            urn: old.urn.clone(),
                                            type_name: old.type_name.clone(),
                                            token: uuid::Uuid::new_v4().simple().to_string(),
                                            started: now_rfc3339(),
                                            resource: Some(old),
                                            refused: false,
                                        });
                                    }
                                }
                                Ok(false)
                            }
                            Recovery::Found(_) | Recovery::Resembles(_) | Recovery::Absent => {
                                if retry(&p.urn) {
                                    say("an interrupted create did not happen; it is made again with the same token".to_owned());
                                    Ok(true)
                                } else {
                                    say("an interrupted create did not happen; it is forgotten".to_owned());
                                    Ok(false)
                                }
                            }
                            Recovery::Unknown(check) => Err(format!("{check}; {}", drop_hint(&p))),
                        }
                    }
                    (PendingKind::Update, _) | (PendingKind::Delete, _) => {
                        let Some(current) = state.resources.get(&p.urn).cloned() else {
                            return Ok(false);
                        };
                        match ty
                            .read(&cx, &current.id, Some(&current.args))
                            .await
                            .map_err(|e| e.to_string())?
                        {
                            None => {
                                say(format!(
                                    "{} is gone after an interrupted {:?}",
                                    current.id, p.kind
                                ));
                                state.resources.remove(&p.urn);
                                for u in state.resources.values_mut() {
                                    u.dependencies.retain(|d| *d != p.urn);
                                }
                            }
                            Some(o) => {
                                say(format!(
                                    "refreshed {} after an interrupted {:?}",
                                    current.id, p.kind
                                ));
                                if let Some(r) = state.resources.get_mut(&p.urn) {
                                    r.args = o.args;
                                    r.outputs = o.outputs;
                                }
                            }
                        }
                        Ok(false)
                    }
                    (PendingKind::Create, None) => Ok(false),
                }
            }
            .await;
            match outcome {
                Ok(true) => keep.push(p),
                Ok(false) => {}
                Err(message) => {
                    failure = Some(EngineError::Pending {
                        urn: p.urn.clone(),
                        message,
                    });
                    keep.push(p);
                }
            }
        }
        state.pending = keep;
        self.save_whole(state).await?;
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// What must hold before a plan is applied (or shown for approval): its changes can
    /// be ordered, and what it removes can be deleted. Makes no mutating call; the
    /// deletability check reads only once the order is known to be sound.
    async fn prepare(
        &self,
        stack: &SealedStack,
        plan: &Plan,
        state: &State,
        registry: &Registry,
    ) -> Result<ApplyGraph, EngineError> {
        let graph = ApplyGraph::build(stack, plan, state);
        if let Some(stuck) = graph.cycle() {
            return Err(PlanErrors(vec![PlanError::Ordering(stuck)]).into());
        }
        self.check_deletable(&plan.removals(stack, state), registry)
            .await?;
        Ok(graph)
    }

    async fn apply(
        &self,
        stack: &SealedStack,
        plan: Plan,
        graph: ApplyGraph,
        state: State,
        registry: Registry,
        opts: &RunOptions,
    ) -> Result<Summary, EngineError> {
        let run = Arc::new(Run::new(self, state, registry).await?);
        let (nodes, deps) = stack.shared();
        let shared = Arc::new(ApplyShared {
            nodes,
            deps,
            deletions: plan.deletions.clone(),
        });
        let mut summary = Summary {
            operation: "up".to_owned(),
            ..Summary::default()
        };
        let steps = graph
            .jobs
            .iter()
            .filter(|j| {
                j.op != Op::Same
                    && !matches!(j.kind, JobKind::DeleteOld(_) | JobKind::DeleteFirst(_))
            })
            .count();
        self.events.emit(Event::RunStarted {
            operation: "up".to_owned(),
            stack: stack.name().to_owned(),
            steps,
        });
        let started = Instant::now();
        let exec = {
            let run = run.clone();
            let shared = shared.clone();
            move |job: &Job| -> Exec {
                match job.kind {
                    JobKind::Apply(_) if job.op == Op::Same && !job.may_change => {
                        Exec::Done(Ok(Op::Same))
                    }
                    JobKind::Apply(i) => {
                        let (run, shared) = (run.clone(), shared.clone());
                        Exec::Spawn(Box::pin(async move { run.apply_node(&shared, i).await }))
                    }
                    JobKind::DeleteOld(i) => {
                        let urn = shared.nodes[i].urn.clone();
                        if !run.has_owed_delete(&urn) {
                            return Exec::Done(Ok(Op::Same));
                        }
                        let run = run.clone();
                        Exec::Spawn(Box::pin(async move { run.delete_owed(&urn).await }))
                    }
                    JobKind::DeleteFirst(i) => {
                        let urn = shared.nodes[i].urn.clone();
                        let retain = shared.nodes[i].options.retain_on_delete;
                        let run = run.clone();
                        Exec::Spawn(Box::pin(
                            async move { run.delete_first(&urn, retain).await },
                        ))
                    }
                    JobKind::Delete(k) => {
                        let (run, shared) = (run.clone(), shared.clone());
                        Exec::Spawn(Box::pin(async move {
                            let d = &shared.deletions[k];
                            run.delete_resource(&d.resource, d.retain, d.pending.is_some())
                                .await
                        }))
                    }
                }
            }
        };
        drive(self, &run, graph, opts, exec, &mut summary).await;
        // Stack outputs, from the final state.
        run.with_state(None, |st| {
            let src = StateSource(st);
            let mut outs = BTreeMap::new();
            for (name, o) in stack.exports() {
                match o.resolve(&src) {
                    Ok(Some(v)) => {
                        outs.insert(name.clone(), v);
                    }
                    // Not computable now (its resource failed or was not targeted): keep
                    // the last known value, and say so.
                    other => {
                        let why = match other {
                            Err(e) => e.to_string(),
                            _ => "its resources do not exist yet".to_owned(),
                        };
                        self.events.emit(Event::Diagnostic {
                            level: Level::Warning,
                            urn: None,
                            message: format!("stack output {name:?} is not updated: {why}"),
                        });
                        if let Some(v) = st.outputs.get(name) {
                            outs.insert(name.clone(), v.clone());
                        }
                    }
                }
            }
            if st.outputs != outs {
                st.outputs = outs;
                ((), true)
            } else {
                ((), false)
            }
        });
        run.finish().await?;
        summary.elapsed_ms = started.elapsed().as_millis() as u64;
        self.events.emit(Event::Summary(summary.clone()));
        Ok(summary)
    }

    async fn run_destroy<A, Fut>(
        &self,
        state: State,
        registry: Registry,
        opts: &RunOptions,
        approve: A,
    ) -> Result<Option<Summary>, EngineError>
    where
        A: FnOnce(&Plan) -> Fut,
        Fut: Future<Output = bool>,
    {
        // Targets and everything in state that depends on them; otherwise everything.
        let mut dependents: HashMap<&Urn, Vec<&Urn>> = HashMap::new();
        for r in state.resources.values() {
            for d in &r.dependencies {
                dependents.entry(d).or_default().push(&r.urn);
            }
        }
        let mut selected: Vec<&ResourceState> = Vec::new();
        if opts.targets.is_empty() {
            selected.extend(state.resources.values());
        } else {
            let mut seen = std::collections::HashSet::new();
            let mut todo: Vec<&Urn> = opts.targets.iter().collect();
            while let Some(u) = todo.pop() {
                if seen.insert(u) {
                    if let Some(r) = state.resources.get(u) {
                        selected.push(r);
                    } else {
                        return Err(
                            PlanErrors(vec![PlanError::UnknownTarget(u.to_string())]).into()
                        );
                    }
                    todo.extend(dependents.get(u).into_iter().flatten().copied());
                }
            }
        }
        let mut errors = Vec::new();
        for r in &selected {
            if r.options.protect {
                errors.push(PlanError::Protected {
                    urn: r.urn.clone(),
                    op: Op::Delete,
                    fields: Vec::new(),
                });
            }
            if !r.options.retain_on_delete && registry.get(&r.type_name).is_none() {
                errors.push(PlanError::UnknownType {
                    urn: r.urn.clone(),
                    type_name: r.type_name.clone(),
                    action: "deleted",
                });
            }
        }
        if !errors.is_empty() {
            return Err(PlanErrors(errors).into());
        }
        let going: Vec<(&ResourceState, Op)> = selected
            .iter()
            .filter(|r| !r.options.retain_on_delete)
            .map(|r| (*r, Op::Delete))
            .chain(
                state
                    .pending
                    .iter()
                    .filter_map(|p| match (p.kind, &p.resource) {
                        (PendingKind::Delete, Some(r)) if opts.targets.is_empty() => {
                            Some((r, Op::Delete))
                        }
                        _ => None,
                    }),
            )
            .collect();
        self.check_deletable(&going, &registry).await?;
        let mut deletions: Vec<crate::plan::Deletion> = selected
            .iter()
            .map(|r| crate::plan::Deletion {
                resource: (*r).clone(),
                retain: r.options.retain_on_delete,
                pending: None,
            })
            .collect();
        if opts.targets.is_empty() {
            for (k, p) in state.pending.iter().enumerate() {
                if let (PendingKind::Delete, Some(r)) = (p.kind, &p.resource) {
                    deletions.push(crate::plan::Deletion {
                        resource: r.clone(),
                        retain: false,
                        pending: Some(k),
                    });
                }
            }
        }
        let shown = Plan {
            stack: state.stack.clone(),
            steps: deletions
                .iter()
                .map(|d| crate::plan::PlannedStep {
                    urn: d.resource.urn.clone(),
                    type_name: d.resource.type_name.clone(),
                    op: Op::Delete,
                    changes: Vec::new(),
                    retain: d.retain,
                    delete_before_replace: false,
                })
                .collect(),
            ops: Vec::new(),
            dbr: Vec::new(),
            deletions: Vec::new(),
            violations: Vec::new(),
            secrets_not_compared: 0,
        };
        if !approve(&shown).await {
            return Ok(None);
        }
        // Every deletion by URN (a resource and an old half owed by an earlier replace can
        // share one).
        let mut index: HashMap<&Urn, Vec<usize>> = HashMap::new();
        for (k, d) in deletions.iter().enumerate() {
            index.entry(&d.resource.urn).or_default().push(k);
        }
        let mut edges = Vec::new();
        for (k, d) in deletions.iter().enumerate() {
            // What `d` depends on waits until `d` is gone.
            for dep in &d.resource.dependencies {
                for &j in index.get(dep).into_iter().flatten() {
                    if j != k {
                        edges.push((k, j));
                    }
                }
            }
        }
        let jobs: Vec<Job> = deletions
            .iter()
            .enumerate()
            .map(|(k, d)| Job {
                kind: JobKind::Delete(k),
                urn: d.resource.urn.clone(),
                op: Op::Delete,
                may_change: true,
                cost: registry
                    .get(&d.resource.type_name)
                    .map_or(1, |t| t.estimate(&d.resource.args).as_millis() as u64),
            })
            .collect();
        let graph = ApplyGraph { jobs, edges };
        let run = Arc::new(Run::new(self, state, registry).await?);
        let deletions = Arc::new(deletions);
        let mut summary = Summary {
            operation: "destroy".to_owned(),
            ..Summary::default()
        };
        self.events.emit(Event::RunStarted {
            operation: "destroy".to_owned(),
            stack: run.stack.clone(),
            steps: graph.jobs.len(),
        });
        let started = Instant::now();
        let exec = {
            let run = run.clone();
            move |job: &Job| -> Exec {
                let JobKind::Delete(k) = job.kind else {
                    return Exec::Done(Ok(Op::Same));
                };
                let (run, deletions) = (run.clone(), deletions.clone());
                Exec::Spawn(Box::pin(async move {
                    let d = &deletions[k];
                    run.delete_resource(&d.resource, d.retain, d.pending.is_some())
                        .await
                }))
            }
        };
        drive(self, &run, graph, opts, exec, &mut summary).await;
        run.with_state(None, |st| {
            if st.resources.is_empty() && !st.outputs.is_empty() {
                st.outputs.clear();
                ((), true)
            } else {
                ((), false)
            }
        });
        run.finish().await?;
        summary.elapsed_ms = started.elapsed().as_millis() as u64;
        self.events.emit(Event::Summary(summary.clone()));
        Ok(Some(summary))
    }

    async fn refresh_state(
        &self,
        state: State,
        registry: &Registry,
        opts: &RunOptions,
    ) -> Result<(State, RefreshReport), EngineError> {
        let resources: Arc<Vec<ResourceState>> =
            Arc::new(state.resources.values().cloned().collect());
        let jobs: Vec<Job> = resources
            .iter()
            .enumerate()
            .map(|(k, r)| Job {
                kind: JobKind::Delete(k),
                urn: r.urn.clone(),
                op: Op::Read,
                may_change: true,
                cost: 1,
            })
            .collect();
        let graph = ApplyGraph {
            jobs,
            edges: Vec::new(),
        };
        let run = Arc::new(Run::new(self, state, registry.clone()).await?);
        let drift = Arc::new(Mutex::new(BTreeMap::new()));
        let mut summary = Summary {
            operation: "refresh".to_owned(),
            ..Summary::default()
        };
        self.events.emit(Event::RunStarted {
            operation: "refresh".to_owned(),
            stack: run.stack.clone(),
            steps: graph.jobs.len(),
        });
        let started = Instant::now();
        let exec = {
            let (run, drift) = (run.clone(), drift.clone());
            move |job: &Job| -> Exec {
                let JobKind::Delete(k) = job.kind else {
                    return Exec::Done(Ok(Op::Same));
                };
                let (run, resources, drift) = (run.clone(), resources.clone(), drift.clone());
                Exec::Spawn(Box::pin(async move {
                    let found = run.read_resource(&resources[k]).await?;
                    if let Some(d) = found {
                        if let Ok(mut m) = drift.lock() {
                            m.insert(resources[k].urn.clone(), d);
                        }
                    }
                    Ok(Op::Read)
                }))
            }
        };
        drive(self, &run, graph, opts, exec, &mut summary).await;
        run.finish().await?;
        summary.elapsed_ms = started.elapsed().as_millis() as u64;
        self.events.emit(Event::Summary(summary.clone()));
        let state = run.with_state(None, |st| (st.clone(), false));
        let drift = drift.lock().map(|m| m.clone()).unwrap_or_default();
        Ok((state, RefreshReport { summary, drift }))
    }
}

/// Refreshes a run's lock heartbeat until stopped. If the lock is found no longer held
/// (`state unlock` released it, and maybe another run took it), the run is cancelled (no
/// new step starts) and fails with [`StateError::LockLost`]: it must not go on changing
/// AWS without the lock.
struct Heartbeat {
    task: tokio::task::JoinHandle<()>,
    stop: Arc<tokio::sync::Notify>,
    lost: Arc<AtomicBool>,
}

impl Heartbeat {
    fn start(
        engine: &Engine,
        stack: &str,
        lock: &crate::state::LockInfo,
        cancel: CancelToken,
    ) -> Self {
        let (backend, events, every) = (
            engine.backend.clone(),
            engine.events.clone(),
            engine.heartbeat,
        );
        let (stack, lock) = (stack.to_owned(), lock.clone());
        let stop = Arc::new(tokio::sync::Notify::new());
        let lost = Arc::new(AtomicBool::new(false));
        let task = {
            let (stop, lost) = (stop.clone(), lost.clone());
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(every) => {}
                        () = stop.notified() => return,
                    }
                    match backend.heartbeat(&stack, &lock).await {
                        Ok(true) => {}
                        Ok(false) => {
                            lost.store(true, Ordering::SeqCst);
                            cancel.cancel();
                            events.emit(Event::Diagnostic {
                                level: Level::Error,
                                urn: None,
                                message: format!(
                                    "the lock {} of stack {stack:?} is no longer held by this run (released by `state unlock`?): no new step starts",
                                    lock.id
                                ),
                            });
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(%stack, lock = %lock.id, error = %e, "the lock's heartbeat could not be refreshed");
                        }
                    }
                }
            })
        };
        Heartbeat { task, stop, lost }
    }

    /// Stops it, after a refresh in flight (so that it cannot land after the unlock), and
    /// says whether the lock was found lost.
    async fn stop(mut self) -> bool {
        self.stop.notify_one();
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Releases a run's lock if the run's future is dropped before it released it.
struct LockGuard {
    backend: Arc<dyn Backend>,
    stack: String,
    /// The lock still to release.
    id: Option<String>,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let (backend, stack) = (self.backend.clone(), std::mem::take(&mut self.stack));
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Err(e) = backend.unlock(&stack, &id).await {
                        tracing::warn!(%stack, lock = %id, error = %e, "a dropped run's lock could not be released");
                    }
                });
            }
            Err(_) => {
                tracing::warn!(%stack, lock = %id, "a dropped run's lock is left held (no runtime to release it)")
            }
        }
    }
}

/// A create that failed: why, and what it made nonetheless (the resource, as it is live,
/// and the token of its pending create), which the caller records before failing.
struct CreateFailed {
    message: String,
    made: Option<(ResourceState, String)>,
}

impl CreateFailed {
    fn plain(message: String) -> Self {
        CreateFailed {
            message,
            made: None,
        }
    }
}

/// The resource `intended` once adopted from what recovery found: with the id and, when
/// it can be read, the live args and outputs, so that the next plan brings it to its
/// declaration if an interrupted create left it incomplete.
async fn adopt(
    ty: &dyn ErasedResource,
    cx: &Cx<'_>,
    intended: &ResourceState,
    found: crate::resource::Created<Value>,
) -> ResourceState {
    let mut r = intended.clone();
    r.id = found.id;
    r.outputs = found.outputs;
    // Unreadable or not yet visible: the declared args stand.
    if let Ok(Some(o)) = ty.read(cx, &r.id, Some(&intended.args)).await {
        r.args = o.args;
        r.outputs = o.outputs;
    }
    r
}

/// Pending operations by token, with their resources.
fn by_token(pending: &[PendingOperation]) -> HashMap<String, PendingOperation> {
    pending
        .iter()
        .map(|p| (p.token.clone(), p.clone()))
        .collect()
}

/// Whether `r` is the resource `intended` once created (same declaration, plus the id and
/// outputs AWS gave).
fn completes(intended: &ResourceState, r: &ResourceState) -> bool {
    intended.urn == r.urn
        && intended.type_name == r.type_name
        && intended.id.is_empty()
        && intended.args == r.args
        && intended.dependencies == r.dependencies
        && intended.options == r.options
}

/// A resource's JSON for state, its secrets sealed.
fn render_resource(r: &ResourceState, c: Option<&Crypter>) -> Result<String, StateError> {
    if !contains_secret(&r.args) && !contains_secret(&r.outputs) {
        return serde_json::to_string(r).map_err(StateError::Encode);
    }
    let what = format!("resource {}", r.urn);
    let mut sealed = r.clone();
    sealed.args = seal_value(&r.args, c, &what)?;
    sealed.outputs = seal_value(&r.outputs, c, &what)?;
    serde_json::to_string(&sealed).map_err(StateError::Encode)
}

fn seal_resource(r: &ResourceState, c: Option<&Crypter>) -> Result<ResourceState, StateError> {
    let what = format!("resource {}", r.urn);
    Ok(ResourceState {
        args: seal_value(&r.args, c, &what)?,
        outputs: seal_value(&r.outputs, c, &what)?,
        ..r.clone()
    })
}

fn seal_pending(p: &PendingOperation, c: Option<&Crypter>) -> Result<PendingOperation, StateError> {
    Ok(PendingOperation {
        resource: p
            .resource
            .as_ref()
            .map(|r| seal_resource(r, c))
            .transpose()?,
        ..p.clone()
    })
}

fn seal_outputs(
    o: &BTreeMap<String, Value>,
    c: Option<&Crypter>,
) -> Result<BTreeMap<String, Value>, StateError> {
    o.iter()
        .map(|(k, v)| Ok((k.clone(), seal_value(v, c, &format!("stack output {k:?}"))?)))
        .collect()
}

/// The state as written: every secret sealed.
fn sealed_bytes(state: &State, c: Option<&Crypter>) -> Result<Vec<u8>, StateError> {
    let sealed = State {
        resources: state
            .resources
            .iter()
            .map(|(u, r)| Ok((u.clone(), seal_resource(r, c)?)))
            .collect::<Result<_, StateError>>()?,
        pending: state
            .pending
            .iter()
            .map(|p| seal_pending(p, c))
            .collect::<Result<_, _>>()?,
        outputs: seal_outputs(&state.outputs, c)?,
        ..state.clone()
    };
    sealed.to_bytes()
}

/// Opens every sealed secret of a loaded state.
fn open_state(state: &mut State, c: &Crypter) -> Result<(), StateError> {
    for r in state.resources.values_mut() {
        open_value(&mut r.args, c)?;
        open_value(&mut r.outputs, c)?;
    }
    for p in &mut state.pending {
        if let Some(r) = &mut p.resource {
            open_value(&mut r.args, c)?;
            open_value(&mut r.outputs, c)?;
        }
    }
    for v in state.outputs.values_mut() {
        open_value(v, c)?;
    }
    Ok(())
}

/// Whether `p` is the owed delete of a replaced resource (as opposed to an operation that
/// was in flight): the resource it deletes is no longer the one in state.
fn is_owed(p: &PendingOperation, state: &State) -> bool {
    p.kind == PendingKind::Delete
        && p.resource.as_ref().is_some_and(|old| {
            state
                .resources
                .get(&old.urn)
                .is_none_or(|cur| cur.id != old.id)
        })
}

/// Looks outputs up in state.
struct StateSource<'a>(&'a State);

impl OutputSource for StateSource<'_> {
    fn outputs(&self, urn: &Urn) -> Lookup<'_> {
        match self.0.resources.get(urn) {
            Some(r) => Lookup::Known(&r.outputs),
            None => Lookup::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum JobKind {
    /// Bring declared resource `i` to its declaration (create, update, replace, or nothing).
    Apply(usize),
    /// Delete the old half of a create-before-delete replace of declared resource `i`.
    DeleteOld(usize),
    /// Delete declared resource `i`'s old resource ahead of its delete-first replace.
    DeleteFirst(usize),
    /// Deletion `k` (apply and destroy), or read `k` (refresh).
    Delete(usize),
}

#[derive(Debug)]
struct Job {
    kind: JobKind,
    urn: Urn,
    op: Op,
    /// Whether the op may turn out different from the plan at run time (a dependency
    /// changes).
    may_change: bool,
    cost: u64,
}

/// Whether declared resource `i` depends, directly or through others, on `target`.
fn reaches(stack: &SealedStack, i: usize, target: &Urn) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![i];
    while let Some(k) = todo.pop() {
        for &d in stack.deps(k) {
            if stack.nodes()[d].urn == *target {
                return true;
            }
            if seen.insert(d) {
                todo.push(d);
            }
        }
    }
    false
}

struct ApplyGraph {
    jobs: Vec<Job>,
    /// (dependency, dependent)
    edges: Vec<(usize, usize)>,
}

impl ApplyGraph {
    /// The resources whose steps cannot be ordered (a cycle), if any.
    fn cycle(&self) -> Option<Vec<Urn>> {
        let n = self.jobs.len();
        let mut indeg = vec![0usize; n];
        let mut out = vec![Vec::new(); n];
        for &(a, b) in &self.edges {
            indeg[b] += 1;
            out[a].push(b);
        }
        let mut ready: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut seen = 0;
        while let Some(i) = ready.pop() {
            seen += 1;
            for &d in &out[i] {
                indeg[d] -= 1;
                if indeg[d] == 0 {
                    ready.push(d);
                }
            }
        }
        if seen == n {
            return None;
        }
        let mut stuck: Vec<Urn> = (0..n)
            .filter(|&i| indeg[i] > 0)
            .map(|i| self.jobs[i].urn.clone())
            .collect();
        stuck.sort();
        stuck.dedup();
        Some(stuck)
    }

    fn build(stack: &SealedStack, plan: &Plan, state: &State) -> Self {
        let n = stack.nodes().len();
        let mut jobs = Vec::with_capacity(n + plan.deletions.len());
        let mut edges = Vec::new();
        let mut apply_job = vec![usize::MAX; n];
        let mut old_job = vec![usize::MAX; n];
        let mut may_change = vec![false; n];
        for &i in stack.order() {
            let Some(op) = plan.ops[i] else { continue };
            let node = &stack.nodes()[i];
            let meta_changed = state.resources.get(&node.urn).is_some_and(|r| {
                !node.options.same_as(&r.options)
                    || r.dependencies.len() != stack.deps(i).len()
                    || r.dependencies
                        .iter()
                        .zip(stack.deps(i))
                        .any(|(u, &j)| *u != stack.nodes()[j].urn)
            });
            may_change[i] = op != Op::Same
                || meta_changed
                || stack
                    .deps(i)
                    .iter()
                    .any(|&j| plan.ops[j].is_some() && may_change[j]);
        }
        for (i, node) in stack.nodes().iter().enumerate() {
            let Some(op) = plan.ops[i] else { continue };
            apply_job[i] = jobs.len();
            let cost = if may_change[i] {
                node.estimate.as_millis() as u64
            } else {
                0
            };
            jobs.push(Job {
                kind: JobKind::Apply(i),
                urn: node.urn.clone(),
                op,
                may_change: may_change[i],
                cost,
            });
        }
        for (i, node) in stack.nodes().iter().enumerate() {
            if apply_job[i] == usize::MAX
                || !may_change[i]
                || plan.dbr[i]
                || !state.resources.contains_key(&node.urn)
            {
                continue;
            }
            old_job[i] = jobs.len();
            jobs.push(Job {
                kind: JobKind::DeleteOld(i),
                urn: node.urn.clone(),
                op: Op::Delete,
                // Planned only when the resource is planned to be replaced; otherwise it
                // runs just in case a dependency's new outputs force a replacement.
                may_change: plan.ops[i] == Some(Op::Replace),
                cost: node.estimate.as_millis() as u64 / 2,
            });
            edges.push((apply_job[i], old_job[i]));
        }
        // Planned delete-first replaces: the old resource goes in a job of its own, ahead of
        // the create, after everything that still uses it is gone (see `plan`).
        let mut first_job = vec![usize::MAX; n];
        for (i, node) in stack.nodes().iter().enumerate() {
            if apply_job[i] == usize::MAX
                || plan.ops[i] != Some(Op::Replace)
                || !plan.dbr[i]
                || !state.resources.contains_key(&node.urn)
            {
                continue;
            }
            first_job[i] = jobs.len();
            jobs.push(Job {
                kind: JobKind::DeleteFirst(i),
                urn: node.urn.clone(),
                op: Op::Delete,
                may_change: true,
                cost: node.estimate.as_millis() as u64 / 2,
            });
            edges.push((first_job[i], apply_job[i]));
        }
        // The old resource goes only once what the new one needs is ready: a failed or
        // cancelled dependency leaves it standing, and it is down only for its own
        // re-create.
        for i in 0..n {
            if first_job[i] == usize::MAX {
                continue;
            }
            for &k in stack.deps(i) {
                if apply_job[k] != usize::MAX && first_job[k] == usize::MAX {
                    edges.push((apply_job[k], first_job[i]));
                }
            }
        }
        let mut delete_job = vec![usize::MAX; plan.deletions.len()];
        for (k, d) in plan.deletions.iter().enumerate() {
            delete_job[k] = jobs.len();
            jobs.push(Job {
                kind: JobKind::Delete(k),
                urn: d.resource.urn.clone(),
                op: Op::Delete,
                may_change: true,
                cost: 1000,
            });
        }
        // Forward edges between applies.
        for i in 0..n {
            if apply_job[i] == usize::MAX {
                continue;
            }
            for &j in stack.deps(i) {
                if apply_job[j] != usize::MAX {
                    edges.push((apply_job[j], apply_job[i]));
                }
                // Old `j` goes only after its new dependents moved off it.
                if old_job[j] != usize::MAX {
                    edges.push((apply_job[i], old_job[j]));
                }
            }
        }
        // What in state depends on what: a resource is deleted only after everything that
        // depended on it is deleted, replaced or updated away.
        // Every job that removes a resource, by URN: deletions (including old halves owed
        // by an earlier run's replace) and this run's old halves of replacements.
        let mut old_of: HashMap<&Urn, Vec<usize>> = HashMap::new();
        for (k, d) in plan.deletions.iter().enumerate() {
            old_of
                .entry(&d.resource.urn)
                .or_default()
                .push(delete_job[k]);
        }
        for (i, node) in stack.nodes().iter().enumerate() {
            if old_job[i] != usize::MAX {
                old_of.entry(&node.urn).or_default().push(old_job[i]);
            }
        }
        // Resources replaced delete-first: the job that deletes the old one (its own job
        // when the replace is planned, else its apply, should it turn into one at run
        // time).
        let dbr_apply: HashMap<&Urn, usize> = stack
            .nodes()
            .iter()
            .enumerate()
            .filter(|(i, n)| {
                apply_job[*i] != usize::MAX
                    && may_change[*i]
                    && (plan.dbr[*i] || n.options.delete_before_replace)
                    && state.resources.contains_key(&n.urn)
            })
            .map(|(i, n)| {
                let j = if first_job[i] != usize::MAX {
                    first_job[i]
                } else {
                    apply_job[i]
                };
                (&n.urn, j)
            })
            .collect();
        if !old_of.is_empty() || !dbr_apply.is_empty() {
            // Who depended on what, in state: a resource is removed only after everything
            // that depended on it is removed, replaced or updated away.
            // (its dependencies, the deletion removing it, the job replacing it, its apply,
            // its declaration)
            type Dependent<'a> = (
                &'a [Urn],
                Option<usize>,
                Option<usize>,
                Option<usize>,
                Option<usize>,
            );
            let mut dependents: Vec<Dependent<'_>> = Vec::new();
            let deletion_of: HashMap<&Urn, usize> = plan
                .deletions
                .iter()
                .enumerate()
                .filter(|(_, d)| d.pending.is_none())
                .map(|(k, d)| (&d.resource.urn, delete_job[k]))
                .collect();
            for r in state.resources.values() {
                let idx = stack.index_of(&r.urn);
                // A resource deleted first is removed by that job.
                let old = idx
                    .map(|i| {
                        if first_job[i] != usize::MAX {
                            first_job[i]
                        } else {
                            old_job[i]
                        }
                    })
                    .filter(|&j| j != usize::MAX);
                let apply = idx.map(|i| apply_job[i]).filter(|&j| j != usize::MAX);
                dependents.push((
                    &r.dependencies,
                    deletion_of.get(&r.urn).copied(),
                    old,
                    apply,
                    idx,
                ));
            }
            for (k, d) in plan.deletions.iter().enumerate() {
                if d.pending.is_some() {
                    dependents.push((
                        &d.resource.dependencies,
                        Some(delete_job[k]),
                        None,
                        None,
                        None,
                    ));
                }
            }
            for (deps, deletion, old, apply, idx) in &dependents {
                for dep in deps.iter() {
                    for &target in old_of.get(dep).into_iter().flatten() {
                        for &own in deletion.iter().chain(old).chain(apply) {
                            if own != target {
                                edges.push((own, target));
                            }
                        }
                    }
                    // What is deleted (or deleted first) goes before a delete-first
                    // replace deletes what it uses. (A declared dependent that keeps using
                    // it is updated after the replace; an edge from it would be a cycle.)
                    if let Some(&j) = dbr_apply.get(dep) {
                        // A declared dependent whose new declaration no longer uses it
                        // moves off it first.
                        let moves_off = idx.is_some_and(|i| {
                            !stack.deps(i).iter().any(|&k| stack.nodes()[k].urn == *dep)
                        });
                        // Deleted first itself (not merely an old half that may go later).
                        let first = idx.map(|i| first_job[i]).filter(|&f| f != usize::MAX);
                        // Only towards a planned delete-first (not an apply that may turn
                        // into one), only for a dependent that is not deleted first itself,
                        // and only when its new declaration does not reach `dep` through
                        // others (the edge would close a cycle).
                        let planned_first = matches!(jobs[j].kind, JobKind::DeleteFirst(_));
                        let apply = apply.filter(|_| {
                            moves_off
                                && first.is_none()
                                && planned_first
                                && !idx.is_some_and(|i| reaches(stack, i, dep))
                        });
                        for &own in deletion.iter().chain(first.iter()).chain(apply.iter()) {
                            if own != j {
                                edges.push((own, j));
                            }
                        }
                    }
                }
            }
        }
        ApplyGraph { jobs, edges }
    }
}

struct ApplyShared {
    nodes: Arc<[crate::stack::Node]>,
    deps: Arc<[Vec<usize>]>,
    deletions: Vec<crate::plan::Deletion>,
}

type StepFuture = Pin<Box<dyn Future<Output = Result<Op, String>> + Send>>;

enum Exec {
    /// Finished without any call.
    Done(Result<Op, String>),
    /// Run this.
    Spawn(StepFuture),
}

/// Runs `graph` with at most `engine.parallel` jobs in flight, longest remaining path
/// first; a failure skips exactly its dependents; cancellation starts nothing new.
async fn drive<F>(
    engine: &Engine,
    run: &Run,
    graph: ApplyGraph,
    opts: &RunOptions,
    mut exec: F,
    summary: &mut Summary,
) where
    F: FnMut(&Job) -> Exec,
{
    let costs: Vec<u64> = graph.jobs.iter().map(|j| j.cost).collect();
    let mut queue = DependencyQueue::new(&costs, &graph.edges, engine.policy);
    let jobs = graph.jobs;
    let mut set: JoinSet<(usize, Result<Op, String>)> = JoinSet::new();
    // Each running task's job, so that a panic is reported as that step's failure.
    let mut tasks: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut stopped = false;
    let record =
        |summary: &mut Summary, queue: &mut DependencyQueue, i: usize, r: Result<Op, String>| {
            let job = &jobs[i];
            match r {
                Ok(op) => {
                    queue.finish(i);
                    if op == Op::Same {
                        if matches!(job.kind, JobKind::Apply(_)) {
                            summary.unchanged += 1;
                        }
                    } else {
                        summary.succeeded.push((job.urn.clone(), op));
                    }
                }
                Err(e) => {
                    tracing::warn!(urn = %job.urn, op = %job.op, error = %e, "step failed");
                    engine.events.emit(Event::StepFailed {
                        urn: job.urn.clone(),
                        op: job.op,
                        error: e.clone(),
                    });
                    summary.failed.push((job.urn.clone(), job.op, e));
                    for s in queue.fail(i) {
                        let reason = format!("dependency {} failed", job.urn);
                        skip(engine, summary, &jobs[s], reason);
                    }
                }
            }
        };
    loop {
        if !stopped && (opts.cancel.is_cancelled() || run.failed_checkpoint()) {
            stopped = true;
            summary.cancelled = true;
            for s in queue.skip_rest() {
                skip(engine, summary, &jobs[s], "cancelled".to_owned());
            }
        }
        while !stopped && set.len() < engine.parallel {
            let Some(i) = queue.pop() else { break };
            match exec(&jobs[i]) {
                Exec::Done(r) => record(summary, &mut queue, i, r),
                Exec::Spawn(fut) => {
                    let job = &jobs[i];
                    let span = tracing::info_span!("step", urn = %job.urn, op = %job.op);
                    let task = set.spawn(async move { (i, fut.await) }.instrument(span));
                    tasks.insert(task.id(), i);
                }
            }
        }
        match set.join_next_with_id().await {
            Some(Ok((id, (i, r)))) => {
                tasks.remove(&id);
                record(summary, &mut queue, i, r)
            }
            Some(Err(e)) => {
                // A step panicked (a bug in a provider): that step failed, with the panic's
                // message, and its dependents are skipped. The caller's cancel token is
                // not touched: other runs may share it.
                let id = e.id();
                let why = if e.is_panic() {
                    let payload = e.into_panic();
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(no message)".to_owned());
                    format!("the step panicked: {message}")
                } else {
                    format!("the step's task ended abnormally: {e}")
                };
                match tasks.remove(&id) {
                    Some(i) => record(summary, &mut queue, i, Err(why)),
                    None => engine.events.emit(Event::Diagnostic {
                        level: Level::Error,
                        urn: None,
                        message: why,
                    }),
                }
            }
            None => {
                if queue.open() == 0 || stopped {
                    break;
                }
                // Nothing running and nothing ready: only left-over jobs on a cycle (which
                // sealing rules out) remain.
                for s in queue.skip_rest() {
                    skip(engine, summary, &jobs[s], "unreachable".to_owned());
                }
                break;
            }
        }
    }
}

fn skip(engine: &Engine, summary: &mut Summary, job: &Job, reason: String) {
    // Jobs that were not going to do anything are not reported as skipped.
    if !job.may_change && (job.op == Op::Same || matches!(job.kind, JobKind::DeleteOld(_))) {
        return;
    }
    engine.events.emit(Event::StepSkipped {
        urn: job.urn.clone(),
        op: job.op,
        reason: reason.clone(),
    });
    summary.skipped.push((job.urn.clone(), job.op, reason));
}

/// One run's shared state: the state document being updated and its checkpoint writer.
struct Run {
    stack: String,
    registry: Registry,
    context: Context,
    events: EventBus,
    state: Arc<Mutex<Tracked>>,
    /// (generation of the newest change, stop the writer)
    dirty: watch::Sender<(u64, bool)>,
    /// The newest generation known durable.
    written: Arc<watch::Sender<u64>>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    write_error: Arc<Mutex<Option<StateError>>>,
    backend: Arc<dyn Backend>,
    /// The owed delete (its token) of each resource this run replaced create-before-delete.
    owed_here: Mutex<HashMap<Urn, String>>,
    /// The resources whose old resource this run deleted ahead of their replace.
    deleted_first: Mutex<std::collections::HashSet<Urn>>,
}

/// The state of a run, with each resource's JSON cached, and what was last written.
///
/// A checkpoint is a journal entry with only what changed since the previous one (the
/// resources touched, the pending operations, the outputs if they changed), so an apply of
/// N resources writes O(N) bytes. When the journal has grown past twice the last snapshot
/// (and for the first checkpoint of a run, or on a backend without a journal) the
/// checkpoint is a full snapshot instead, made of the cached JSON: unchanged resources are
/// copied, never re-serialized, and the lock is held only to take the pieces.
struct Tracked {
    state: State,
    cache: HashMap<Urn, Arc<str>>,
    stale: std::collections::BTreeSet<Urn>,
    journal: bool,
    snapshot_written: bool,
    snapshot_bytes: u64,
    journal_bytes: u64,
    written_outputs: BTreeMap<String, Value>,
    /// The tokens of the pending operations already written.
    /// The pending operations already written, by token (with their resource: a create's
    /// completion is then written as just its id and outputs).
    written_pending: HashMap<String, PendingOperation>,
    /// Seals secrets before anything is written.
    crypter: Option<Arc<Crypter>>,
}

impl std::ops::Deref for Tracked {
    type Target = State;
    fn deref(&self) -> &State {
        &self.state
    }
}

enum Write {
    Snapshot(Snapshot),
    Entry {
        stack: String,
        lineage: String,
        bytes: Vec<u8>,
    },
}

impl Tracked {
    fn new(state: State, journal: bool, crypter: Option<Arc<Crypter>>) -> Self {
        Tracked {
            crypter,
            written_outputs: state.outputs.clone(),
            written_pending: by_token(&state.pending),
            state,
            cache: HashMap::new(),
            stale: Default::default(),
            journal,
            snapshot_written: false,
            snapshot_bytes: 0,
            journal_bytes: 0,
        }
    }

    fn json(&mut self, u: &Urn) -> Result<Option<Arc<str>>, StateError> {
        let Some(r) = self.state.resources.get(u) else {
            self.cache.remove(u);
            return Ok(None);
        };
        if let Some(j) = self.cache.get(u) {
            return Ok(Some(j.clone()));
        }
        let j: Arc<str> = render_resource(r, self.crypter.as_deref())?.into();
        self.cache.insert(u.clone(), j.clone());
        Ok(Some(j))
    }

    /// Bumps the serial and takes the next checkpoint: a journal entry, or the pieces of a
    /// snapshot.
    fn take(&mut self, force_snapshot: bool) -> Result<Write, StateError> {
        let stale = std::mem::take(&mut self.stale);
        let mut changed = Vec::with_capacity(stale.len());
        for u in stale {
            self.cache.remove(&u);
            let j = self.json(&u)?;
            changed.push((u, j));
        }
        self.state.serial += 1;
        let snapshot = force_snapshot
            || !self.journal
            || !self.snapshot_written
            || self.journal_bytes > 2 * self.snapshot_bytes;
        if !snapshot {
            let crypter = self.crypter.as_deref();
            let outputs = if self.state.outputs != self.written_outputs {
                Some(seal_outputs(&self.state.outputs, crypter)?)
            } else {
                None
            };
            // New and changed operations are added; gone and changed ones removed (a
            // replay removes before it adds).
            let added = self
                .state
                .pending
                .iter()
                .filter(|p| self.written_pending.get(&p.token) != Some(*p))
                .map(|p| seal_pending(p, crypter))
                .collect::<Result<Vec<_>, _>>()?;
            let added: Vec<&PendingOperation> = added.iter().collect();
            let current: HashMap<&str, &PendingOperation> = self
                .state
                .pending
                .iter()
                .map(|p| (p.token.as_str(), p))
                .collect();
            let gone: Vec<&str> = self
                .written_pending
                .keys()
                .map(String::as_str)
                .filter(|t| !current.contains_key(t))
                .collect();
            let removed: Vec<&str> = self
                .written_pending
                .iter()
                .filter(|(t, p)| current.get(t.as_str()).is_some_and(|c| *c != *p))
                .map(|(t, _)| t.as_str())
                .chain(gone.iter().copied())
                .collect();
            // A create that completed: its intended resource is already in the journal, so
            // only the id and outputs are written.
            let mut created: Vec<(&str, &str, Value)> = Vec::new();
            let mut puts: Vec<(&Urn, Option<&str>)> = Vec::new();
            for (u, j) in &changed {
                let done = self.state.resources.get(u).and_then(|r| {
                    gone.iter().find_map(|t| {
                        match self
                            .written_pending
                            .get(*t)
                            .and_then(|p| p.resource.as_ref())
                        {
                            Some(intended) if completes(intended, r) => Some((*t, r)),
                            _ => None,
                        }
                    })
                });
                match done {
                    Some((t, r)) => {
                        let outputs =
                            seal_value(&r.outputs, crypter, &format!("resource {}", r.urn))?;
                        created.push((t, r.id.as_str(), outputs));
                    }
                    None => puts.push((u, j.as_deref())),
                }
            }
            let bytes = crate::state::journal::encode_entry(
                &self.state.lineage,
                self.state.serial,
                puts.into_iter(),
                &created,
                &added,
                &removed,
                outputs.as_ref(),
            )?;
            self.written_pending = by_token(&self.state.pending);
            if outputs.is_some() {
                self.written_outputs = self.state.outputs.clone();
            }
            self.journal_bytes += bytes.len() as u64;
            return Ok(Write::Entry {
                stack: self.state.stack.clone(),
                lineage: self.state.lineage.clone(),
                bytes,
            });
        }
        let urns: Vec<Urn> = self.state.resources.keys().cloned().collect();
        let mut resources = Vec::with_capacity(urns.len());
        let mut size = 0u64;
        for u in urns {
            if let Some(j) = self.json(&u)? {
                size += j.len() as u64;
                resources.push((u, j));
            }
        }
        self.snapshot_written = true;
        self.written_pending = by_token(&self.state.pending);
        self.snapshot_bytes = size;
        self.journal_bytes = 0;
        self.written_outputs = self.state.outputs.clone();
        let crypter = self.crypter.as_deref();
        Ok(Write::Snapshot(Snapshot {
            stack: self.state.stack.clone(),
            lineage: self.state.lineage.clone(),
            serial: self.state.serial,
            encryption: self.state.encryption.clone(),
            outputs: seal_outputs(&self.state.outputs, crypter)?,
            pending: self
                .state
                .pending
                .iter()
                .map(|p| seal_pending(p, crypter))
                .collect::<Result<_, _>>()?,
            audit: self.state.audit.clone(),
            resources,
        }))
    }
}

struct Snapshot {
    stack: String,
    lineage: String,
    serial: u64,
    encryption: Option<Encryption>,
    outputs: BTreeMap<String, Value>,
    pending: Vec<PendingOperation>,
    audit: Vec<crate::state::AuditEntry>,
    resources: Vec<(Urn, Arc<str>)>,
}

impl Snapshot {
    fn encode(&self) -> Result<Vec<u8>, StateError> {
        crate::state::encode(
            &crate::state::Parts {
                stack: &self.stack,
                lineage: &self.lineage,
                serial: self.serial,
                encryption: self.encryption.as_ref(),
                outputs: &self.outputs,
                pending: &self.pending,
                audit: &self.audit,
            },
            self.resources.iter().map(|(u, j)| (u, &**j)),
        )
    }
}

fn lock(m: &Mutex<Tracked>) -> MutexGuard<'_, Tracked> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Run {
    async fn new(
        engine: &Engine,
        mut state: State,
        registry: Registry,
    ) -> Result<Self, EngineError> {
        let stack = state.stack.clone();
        let journal = engine.backend.supports_journal();
        let crypter = engine.crypter(&mut state).await?;
        let state = Arc::new(Mutex::new(Tracked::new(state, journal, crypter)));
        let (dirty, mut rx) = watch::channel((0u64, false));
        let written = Arc::new(watch::Sender::new(0u64));
        let write_error = Arc::new(Mutex::new(None));
        let writer = {
            let (state, backend, write_error, written) = (
                state.clone(),
                engine.backend.clone(),
                write_error.clone(),
                written.clone(),
            );
            // Coalescing checkpoint writer: one write in flight; whatever changed while it
            // ran is written next, as one checkpoint.
            tokio::spawn(async move {
                while rx.changed().await.is_ok() {
                    let (gen, stop) = *rx.borrow_and_update();
                    if stop {
                        break;
                    }
                    if let Err(e) = save(&state, backend.as_ref()).await {
                        if let Ok(mut w) = write_error.lock() {
                            w.get_or_insert(e);
                        }
                        // Wake anyone waiting for durability; they see the error.
                        written.send_modify(|_| {});
                        return;
                    }
                    written.send_modify(|w| *w = (*w).max(gen));
                }
            })
        };
        Ok(Run {
            stack,
            registry,
            context: engine.context.clone(),
            events: engine.events.clone(),
            state,
            dirty,
            written,
            writer: Mutex::new(Some(writer)),
            write_error,
            backend: engine.backend.clone(),
            owed_here: Mutex::new(HashMap::new()),
            deleted_first: Mutex::new(Default::default()),
        })
    }

    fn failed_checkpoint(&self) -> bool {
        self.write_error.lock().map(|w| w.is_some()).unwrap_or(true)
    }

    /// Runs `f` on the state; if it returns `true`, a checkpoint is scheduled. `touched` is
    /// the one resource `f` may change.
    fn with_state<T>(&self, touched: Option<&Urn>, f: impl FnOnce(&mut State) -> (T, bool)) -> T {
        let (value, changed) = {
            let mut g = lock(&self.state);
            if let Some(u) = touched {
                g.stale.insert(u.clone());
            }
            f(&mut g.state)
        };
        if changed {
            self.dirty.send_modify(|v| v.0 += 1);
        }
        value
    }

    /// Stops the writer and makes the final state durable.
    async fn finish(&self) -> Result<(), StateError> {
        let handle = self.writer.lock().ok().and_then(|mut w| w.take());
        // The writer stops after its in-flight write (never in the middle of one); then
        // whatever it did not write yet is written here.
        self.dirty.send_modify(|v| v.1 = true);
        if let Some(h) = handle {
            let _ = h.await;
        }
        if let Some(e) = self.write_error.lock().ok().and_then(|mut w| w.take()) {
            return Err(e);
        }
        let newest = self.dirty.borrow().0;
        if newest > *self.written.borrow() {
            save(&self.state, self.backend.as_ref()).await?;
            self.written.send_replace(newest);
        }
        Ok(())
    }

    fn ty(&self, type_name: &str) -> Result<Arc<dyn ErasedResource>, String> {
        self.registry
            .get(type_name)
            .ok_or_else(|| format!("no provider is registered for type {type_name}"))
    }

    /// Records a pending operation and waits until it is durable: only then may the
    /// mutating call start.
    async fn begin(
        &self,
        kind: PendingKind,
        urn: &Urn,
        type_name: &str,
        resource: Option<ResourceState>,
    ) -> Result<String, String> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let op = PendingOperation {
            kind,
            urn: urn.clone(),
            type_name: type_name.to_owned(),
            token: token.clone(),
            started: now_rfc3339(),
            resource,
            refused: false,
        };
        self.with_state(None, |st| {
            if kind == PendingKind::Create {
                // A create left pending by an interrupted run, and found not to have
                // happened, is superseded by this one.
                st.pending
                    .retain(|p| !(p.kind == PendingKind::Create && p.urn == *urn));
            }
            st.pending.push(op);
            ((), true)
        });
        self.durable().await?;
        Ok(token)
    }

    /// Waits until every change made so far is in durable state.
    async fn durable(&self) -> Result<(), String> {
        let wanted = self.dirty.borrow().0;
        let mut rx = self.written.subscribe();
        loop {
            if self.failed_checkpoint() {
                return Err("state could not be saved, so the call was not made".to_owned());
            }
            if *rx.borrow_and_update() >= wanted {
                return Ok(());
            }
            if rx.changed().await.is_err() {
                return Err("the checkpoint writer stopped".to_owned());
            }
        }
    }

    fn emit_start(&self, urn: &Urn, op: Op) -> Instant {
        tracing::debug!(%urn, %op, "step started");
        self.events.emit(Event::StepStarted {
            urn: urn.clone(),
            op,
        });
        Instant::now()
    }

    fn emit_finish(&self, urn: &Urn, op: Op, t: Instant) {
        tracing::debug!(%urn, %op, elapsed_ms = t.elapsed().as_millis() as u64, "step finished");
        self.events.emit(Event::StepFinished {
            urn: urn.clone(),
            op,
            elapsed_ms: t.elapsed().as_millis() as u64,
        });
    }

    async fn apply_node(&self, shared: &ApplyShared, i: usize) -> Result<Op, String> {
        let node = &shared.nodes[i];
        let deps: Vec<Urn> = shared.deps[i]
            .iter()
            .map(|&j| shared.nodes[j].urn.clone())
            .collect();
        let ty = self.ty(node.type_name)?;
        let (resolved, old) = {
            let st = lock(&self.state);
            let v = resolve_template(&node.template, &node.inputs, &StateSource(&st))
                .map_err(|e| e.to_string())?;
            (v, st.resources.get(&node.urn).cloned())
        };
        if contains_unknown(&resolved) {
            return Err("an input is unknown: a dependency has no outputs in state".to_owned());
        }
        let stored_options = node.options.stored();
        let make = |id: String, args: Value, outputs: Value| ResourceState {
            urn: node.urn.clone(),
            type_name: node.type_name.to_owned(),
            id,
            args,
            outputs,
            dependencies: deps.clone(),
            options: stored_options.clone(),
        };
        let Some(old) = old else {
            // The second half of a delete-first replace, or a plain create.
            let op = if self
                .deleted_first
                .lock()
                .is_ok_and(|d| d.contains(&node.urn))
            {
                Op::Replace
            } else {
                Op::Create
            };
            let t = self.emit_start(&node.urn, op);
            let (created, token) = self
                .create(&ty, make(String::new(), resolved, Value::Null))
                .await
                .map_err(|f| self.record_failed(f))?;
            self.put(created, Some(&token));
            self.emit_finish(&node.urn, op, t);
            return Ok(op);
        };
        let (op, _, args) = classify(
            &old,
            resolved,
            node.type_name,
            &node.options,
            &self.registry,
        );
        match op {
            Op::Same => {
                if old.dependencies != deps || old.options != stored_options {
                    self.put(make(old.id, old.args, old.outputs), None);
                }
                Ok(Op::Same)
            }
            // Only secrecy changed (a value made secret, or plain again): AWS holds the
            // same; only state is resealed.
            Op::Update if crate::value::unmark(&old.args) == crate::value::unmark(&args) => {
                let t = self.emit_start(&node.urn, op);
                // Outputs that repeat a newly secret input become secret too.
                let mut outputs = old.outputs;
                crate::value::carry_secrets(&args, &mut outputs);
                self.put(make(old.id, args, outputs), None);
                self.emit_finish(&node.urn, op, t);
                Ok(op)
            }
            Op::Update => {
                let t = self.emit_start(&node.urn, op);
                let token = self
                    .begin(PendingKind::Update, &node.urn, node.type_name, None)
                    .await?;
                let cx = Cx {
                    context: &self.context,
                    urn: &node.urn,
                    token: &token,
                };
                let mut result = ty
                    .update(&cx, &old.id, &old.args, &args, &old.outputs)
                    .await;
                // Updates converge on the declared args: trying again is safe.
                let mut attempt = 0;
                while attempt < TRANSIENT_RETRIES && result.as_ref().is_err_and(transient) {
                    backoff(attempt).await;
                    attempt += 1;
                    result = ty
                        .update(&cx, &old.id, &old.args, &args, &old.outputs)
                        .await;
                }
                match result {
                    Ok(outputs) => {
                        self.put(make(old.id, args, outputs), Some(&token));
                        self.emit_finish(&node.urn, op, t);
                        Ok(op)
                    }
                    Err(e) => {
                        self.clear(&token);
                        Err(e.to_string())
                    }
                }
            }
            _ => {
                if node.options.protect {
                    return Err(format!("{} is protected and would be replaced", node.urn));
                }
                let t = self.emit_start(&node.urn, Op::Replace);
                let retain = node.options.retain_on_delete;
                // A create-first replace keeping the old one's unique name could never
                // finish (the plan refuses it when it can tell; here the args are known).
                let keeps_identity = ty
                    .identity(&old.args)
                    .is_some_and(|id| Some(id) == ty.identity(&args));
                if keeps_identity && !node.options.delete_before_replace {
                    return Err(format!(
                        "{} would be replaced keeping its {} {}, which the old one holds until the new one exists; change the name along with it, or set delete_before_replace",
                        node.urn,
                        node.type_name,
                        ty.identity(&args).unwrap_or_default()
                    ));
                }
                if node.options.delete_before_replace {
                    // With retain_on_delete the old one stays in AWS and only leaves state.
                    self.delete_resource(&old, retain, false).await?;
                    let (created, token) = self
                        .create(&ty, make(String::new(), args, Value::Null))
                        .await
                        .map_err(|f| self.record_failed(f))?;
                    self.put(created, Some(&token));
                } else {
                    let (new, token, failed) = match self
                        .create(&ty, make(String::new(), args, Value::Null))
                        .await
                    {
                        Ok((new, token)) => (new, token, None),
                        Err(CreateFailed {
                            message,
                            made: Some((new, token)),
                        }) => (new, token, Some(message)),
                        Err(f) => return Err(f.message),
                    };
                    // The old resource is now owed a delete, recorded in the same checkpoint
                    // as the new one; with retain_on_delete it stays in AWS and only leaves
                    // state.
                    let owed = (!retain).then(|| PendingOperation {
                        kind: PendingKind::Delete,
                        urn: node.urn.clone(),
                        type_name: old.type_name.clone(),
                        token: uuid::Uuid::new_v4().simple().to_string(),
                        started: now_rfc3339(),
                        resource: Some(old.clone()),
                        refused: false,
                    });
                    if let (Some(owed), Ok(mut m)) = (&owed, self.owed_here.lock()) {
                        m.insert(node.urn.clone(), owed.token.clone());
                    }
                    self.with_state(Some(&node.urn), |st| {
                        st.resources.insert(new.urn.clone(), new);
                        st.pending.retain(|p| p.token != token);
                        st.pending.extend(owed);
                        ((), true)
                    });
                    if retain {
                        self.events.emit(Event::Diagnostic {
                            level: Level::Info,
                            urn: Some(node.urn.clone()),
                            message: format!(
                                "retain_on_delete: the replaced {} stays in AWS and is no longer managed",
                                old.id
                            ),
                        });
                    }
                    if let Some(message) = failed {
                        return Err(message);
                    }
                }
                self.emit_finish(&node.urn, Op::Replace, t);
                Ok(Op::Replace)
            }
        }
    }

    /// Creates `intended` (its id and outputs still empty). The pending create, recorded
    /// durably first, holds the intended resource and the idempotency token, so that after
    /// a crash the resource can be found again. A pending create of the same resource left
    /// by an interrupted run (and found not to have happened) lends its token, so that a
    /// create AWS had accepted but not yet shown is deduplicated by the API. Returns the
    /// created resource and the token, whose pending operation the caller clears in the
    /// same checkpoint that records it.
    ///
    /// A create that fails leaves no pending operation unless its outcome is unknown: the
    /// type is asked for the resource by the token. What it finds (the call failed after
    /// AWS made it, or an earlier attempt with the same token made it) is adopted as it is
    /// live; if nothing is found, nothing was made, and an "already exists" is a name that
    /// belongs to something else.
    async fn create(
        &self,
        ty: &Arc<dyn ErasedResource>,
        mut intended: ResourceState,
    ) -> Result<(ResourceState, String), CreateFailed> {
        // (the token of an interrupted create of the same declaration, the token of one
        // of another declaration, which this create supersedes)
        let (reused, superseded) = {
            let st = lock(&self.state);
            let earlier = st
                .pending
                .iter()
                .find(|p| p.kind == PendingKind::Create && p.urn == intended.urn);
            match earlier {
                Some(p) if p.resource.as_ref() == Some(&intended) => (Some(p.token.clone()), None),
                Some(p) => (None, Some(p.token.clone())),
                None => (None, None),
            }
        };
        let token = match reused {
            Some(t) => t,
            None => self
                .begin(
                    PendingKind::Create,
                    &intended.urn,
                    ty.type_name(),
                    Some(intended.clone()),
                )
                .await
                .map_err(CreateFailed::plain)?,
        };
        let cx = Cx {
            context: &self.context,
            urn: &intended.urn,
            token: &token,
        };
        let mut result = ty.create(&cx, &intended.args).await;
        // Whether the resource was found by its token after a lost answer (the create may
        // have stopped before configuring all of it).
        let mut recovered = false;
        let mut attempt = 0;
        while attempt < TRANSIENT_RETRIES && result.as_ref().is_err_and(transient) {
            tracing::warn!(urn = %intended.urn, attempt, "transient failure; retrying the create");
            backoff(attempt).await;
            attempt += 1;
            // The failed call may have made the resource: find it by its token first.
            // Only proof counts: what merely resembles the declaration may have been there
            // before, so the create is tried again and a refusal says so.
            result = match ty.recover(&cx, &intended.args).await {
                Ok(Recovery::Found(c)) => {
                    recovered = true;
                    Ok(c)
                }
                Ok(Recovery::Absent | Recovery::Resembles(_)) => {
                    ty.create(&cx, &intended.args).await
                }
                Ok(Recovery::Unknown(why)) => Err(crate::resource::ProviderError::Other(format!(
                    "a create failed transiently and its outcome is unknown: {why}"
                ))),
                Err(e) => Err(e),
            };
        }
        let e = match result {
            Ok(c) if recovered => {
                return self
                    .complete(ty.as_ref(), &cx, &intended, c)
                    .await
                    .map(|r| (r, token.clone()))
                    .map_err(|(r, message)| CreateFailed {
                        message,
                        made: Some((r, token.clone())),
                    });
            }
            Ok(c) => {
                intended.id = c.id;
                intended.outputs = c.outputs;
                return Ok((intended, token));
            }
            Err(e) => e,
        };
        let conflict = matches!(e, ProviderError::AlreadyExists { .. });
        let mut found = ty.recover(&cx, &intended.args).await;
        if let (true, Ok(Recovery::Absent), Some(earlier)) = (conflict, &found, &superseded) {
            // The name may be taken by what the superseded create made (its listing lagged
            // when this run started): that is ours too.
            let earlier_cx = Cx {
                token: earlier,
                ..cx.clone()
            };
            if let Ok(Recovery::Found(c)) = ty.recover(&earlier_cx, &intended.args).await {
                found = Ok(Recovery::Found(c));
            }
        }
        if conflict {
            if let Ok(Recovery::Resembles(_)) = found {
                // Refused because it exists: it was there before this create, whatever it
                // looks like.
                found = Ok(Recovery::Absent);
            }
        }
        match found {
            Ok(Recovery::Found(c)) if conflict => {
                // An earlier attempt with this token made it: completed, it is the create.
                self.events.emit(Event::Diagnostic {
                    level: Level::Info,
                    urn: Some(intended.urn.clone()),
                    message: format!("found {} made by an earlier attempt", c.id),
                });
                self.complete(ty.as_ref(), &cx, &intended, c)
                    .await
                    .map(|r| (r, token.clone()))
                    .map_err(|(r, message)| CreateFailed {
                        message: format!("{e}; {message}"),
                        made: Some((r, token.clone())),
                    })
            }
            Ok(Recovery::Found(c) | Recovery::Resembles(c)) => {
                let adopted = adopt(ty.as_ref(), &cx, &intended, c).await;
                let differs = ty.diff(&adopted.args, &intended.args);
                let message = format!(
                    "{e}; {} was made nonetheless and is recorded in state as it is{}; the next `up` brings it to its declaration",
                    adopted.id,
                    if differs.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (it differs in {})",
                            differs
                                .iter()
                                .map(|c| c.path.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                );
                Err(CreateFailed {
                    message,
                    made: Some((adopted, token)),
                })
            }
            Ok(Recovery::Absent) => {
                // Nothing was made: the failed create leaves nothing pending.
                self.clear(&token);
                Err(CreateFailed::plain(if conflict {
                    format!(
                        "{e}: that name belongs to a resource that is not managed by this stack (nothing proves this stack made it). Choose another name, or take the existing resource over with `import {} {} <id>`",
                        intended.type_name,
                        intended.urn.name()
                    )
                } else {
                    e.to_string()
                }))
            }
            Ok(Recovery::Unknown(why)) => {
                self.mark_refused(&token, conflict);
                Err(CreateFailed::plain(format!(
                    "{e}; whether the resource was made is unknown, so the create stays pending: {why}"
                )))
            }
            Err(re) => {
                self.mark_refused(&token, conflict);
                Err(CreateFailed::plain(format!(
                    "{e}; looking for what the create may have made failed too ({re}), so it stays pending and the next run looks again"
                )))
            }
        }
    }

    /// The resource `intended` from what its create's token found (a create that went
    /// through before its answer was lost): as it is live, brought to its declaration in
    /// place where it differs. What cannot be completed in place is given back, recorded as
    /// it is, with why.
    async fn complete(
        &self,
        ty: &dyn ErasedResource,
        cx: &Cx<'_>,
        intended: &ResourceState,
        found: crate::resource::Created<Value>,
    ) -> Result<ResourceState, (ResourceState, String)> {
        let adopted = adopt(ty, cx, intended, found).await;
        let differs = ty.diff(&adopted.args, &intended.args);
        if differs.is_empty() {
            return Ok(adopted);
        }
        let fields = differs
            .iter()
            .map(|c| c.path.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if differs.iter().any(|c| c.replaces) {
            return Err((
                adopted.clone(),
                format!(
                    "{} was made but differs from its declaration in {fields}, which replaces it; it is recorded as it is and the next `up` replaces it",
                    adopted.id
                ),
            ));
        }
        match ty
            .update(cx, &adopted.id, &adopted.args, &intended.args, &adopted.outputs)
            .await
        {
            Ok(outputs) => Ok(ResourceState {
                args: intended.args.clone(),
                outputs,
                ..adopted
            }),
            Err(e) => Err((
                adopted.clone(),
                format!(
                    "{} was made but completing {fields} failed ({e}); it is recorded as it is and the next `up` completes it",
                    adopted.id
                ),
            )),
        }
    }

    /// Marks the pending create `token` as refused because its name was taken (when
    /// `conflict`), so that no later recovery adopts a mere lookalike for it.
    fn mark_refused(&self, token: &str, conflict: bool) {
        if conflict {
            self.with_state(None, |st| {
                for p in st.pending.iter_mut().filter(|p| p.token == token) {
                    p.refused = true;
                }
                ((), true)
            });
        }
    }

    /// Records what a failed create made nonetheless, and gives the step's error.
    fn record_failed(&self, f: CreateFailed) -> String {
        if let Some((r, token)) = f.made {
            self.put(r, Some(&token));
        }
        f.message
    }

    /// Records `r` in state and clears the pending operation `token`, in one snapshot.
    fn put(&self, r: ResourceState, token: Option<&str>) {
        let urn = r.urn.clone();
        self.with_state(Some(&urn), |st| {
            st.resources.insert(r.urn.clone(), r);
            if let Some(t) = token {
                st.pending.retain(|p| p.token != t);
            }
            ((), true)
        });
    }

    fn clear(&self, token: &str) {
        self.with_state(None, |st| {
            st.pending.retain(|p| p.token != token);
            ((), true)
        });
    }

    /// Whether this run replaced `urn` create-before-delete (owed deletes left by earlier
    /// runs are planned deletions of their own).
    fn has_owed_delete(&self, urn: &Urn) -> bool {
        self.owed_here
            .lock()
            .map(|m| m.contains_key(urn))
            .unwrap_or(false)
    }

    /// Deletes `urn`'s old resource ahead of its delete-first replace (its apply then
    /// creates the new one).
    async fn delete_first(&self, urn: &Urn, retain: bool) -> Result<Op, String> {
        let old = lock(&self.state).resources.get(urn).cloned();
        if let Some(old) = old {
            self.delete_resource(&old, retain, false).await?;
            if let Ok(mut d) = self.deleted_first.lock() {
                d.insert(urn.clone());
            }
        }
        Ok(Op::Same)
    }

    async fn delete_owed(&self, urn: &Urn) -> Result<Op, String> {
        let token = self.owed_here.lock().ok().and_then(|m| m.get(urn).cloned());
        let owed = lock(&self.state)
            .pending
            .iter()
            .find(|p| Some(&p.token) == token.as_ref())
            .and_then(|p| p.resource.clone());
        match owed {
            Some(r) => self
                .delete_resource(&r, false, true)
                .await
                .map(|_| Op::Same),
            None => Ok(Op::Same),
        }
    }

    async fn delete_resource_inner(
        &self,
        ty: &Arc<dyn ErasedResource>,
        r: &ResourceState,
    ) -> Result<(), String> {
        let cx = Cx {
            context: &self.context,
            urn: &r.urn,
            token: "",
        };
        // Deletes are idempotent (gone counts as deleted): trying again is safe.
        let mut result = ty.delete(&cx, &r.id, &r.args, &r.outputs).await;
        let mut attempt = 0;
        while attempt < TRANSIENT_RETRIES && result.as_ref().is_err_and(transient) {
            backoff(attempt).await;
            attempt += 1;
            result = ty.delete(&cx, &r.id, &r.args, &r.outputs).await;
        }
        result.map_err(|e| e.to_string())
    }

    /// Deletes `r` (or only drops it from state with `retain`). `owed`: it is the old half
    /// of a replace, recorded as a pending delete rather than as a resource.
    async fn delete_resource(
        &self,
        r: &ResourceState,
        retain: bool,
        owed: bool,
    ) -> Result<Op, String> {
        let t = self.emit_start(&r.urn, Op::Delete);
        if !retain {
            let ty = self.ty(&r.type_name)?;
            if !owed {
                // Record the intent; the owed delete of a replace is already recorded.
                let token = self
                    .begin(PendingKind::Delete, &r.urn, &r.type_name, Some(r.clone()))
                    .await?;
                let res = self.delete_resource_inner(&ty, r).await;
                self.with_state(Some(&r.urn), |st| {
                    st.pending.retain(|p| p.token != token);
                    if res.is_ok() {
                        st.resources.remove(&r.urn);
                    }
                    ((), true)
                });
                res?;
            } else {
                self.delete_resource_inner(&ty, r).await?;
                self.with_state(None, |st| {
                    st.pending.retain(|p| {
                        !(p.kind == PendingKind::Delete
                            && p.resource
                                .as_ref()
                                .is_some_and(|o| o.id == r.id && o.urn == r.urn))
                    });
                    ((), true)
                });
            }
        } else {
            self.with_state(Some(&r.urn), |st| (st.resources.remove(&r.urn), true));
        }
        self.emit_finish(&r.urn, Op::Delete, t);
        Ok(Op::Delete)
    }

    /// Reads `r` and updates state. Returns the drift: `Some(None)` if it is gone,
    /// `Some(Some(changes))` if it changed, `None` if it matches.
    async fn read_resource(
        &self,
        r: &ResourceState,
    ) -> Result<Option<Option<Vec<PropertyChange>>>, String> {
        let ty = self.ty(&r.type_name)?;
        let cx = Cx {
            context: &self.context,
            urn: &r.urn,
            token: "",
        };
        let observed = ty
            .read(&cx, &r.id, Some(&r.args))
            .await
            .map_err(|e| e.to_string())?;
        let Some(o) = observed else {
            self.with_state(Some(&r.urn), |st| (st.resources.remove(&r.urn), true));
            // Nothing in state refers to it any more.
            let users: Vec<Urn> = lock(&self.state)
                .resources
                .values()
                .filter(|u| u.dependencies.contains(&r.urn))
                .map(|u| u.urn.clone())
                .collect();
            for u in users {
                self.with_state(Some(&u), |st| {
                    if let Some(x) = st.resources.get_mut(&u) {
                        x.dependencies.retain(|d| *d != r.urn);
                    }
                    ((), true)
                });
            }
            self.events.emit(Event::Drift {
                urn: r.urn.clone(),
                changes: Vec::new(),
                deleted: true,
            });
            return Ok(Some(None));
        };
        let changes: Vec<PropertyChange> = diff_values(&r.args, &o.args, &[])
            .into_iter()
            .map(|c| PropertyChange {
                old: c.old.as_ref().map(redact),
                new: c.new.as_ref().map(redact),
                ..c
            })
            .collect();
        if changes.is_empty() && o.outputs == r.outputs {
            return Ok(None);
        }
        self.with_state(Some(&r.urn), |st| {
            if let Some(cur) = st.resources.get_mut(&r.urn) {
                cur.args = o.args;
                cur.outputs = o.outputs;
            }
            ((), true)
        });
        if changes.is_empty() {
            return Ok(None);
        }
        self.events.emit(Event::Drift {
            urn: r.urn.clone(),
            changes: changes.clone(),
            deleted: false,
        });
        Ok(Some(Some(changes)))
    }
}

/// Writes a checkpoint. The lock is held only to take the pieces; a snapshot is laid out
/// and checksummed outside it.
async fn save(state: &Mutex<Tracked>, backend: &dyn Backend) -> Result<(), StateError> {
    let write = lock(state).take(false)?;
    let snap = match write {
        Write::Entry {
            stack,
            lineage,
            bytes,
        } => {
            match backend.append(&stack, &lineage, bytes).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                // The entry was refused: keep the whole state of this run locally.
                Err(StateError::StaleWrite { location, .. }) => {
                    let recovery = match lock(state).take(true)? {
                        Write::Snapshot(s) => backend.keep(&stack, &s.encode()?),
                        Write::Entry { .. } => None,
                    };
                    return Err(StateError::StaleWrite {
                        location,
                        recovery: recovery.unwrap_or_else(|| "(nowhere)".to_owned()),
                    });
                }
                Err(e) => return Err(e),
            }
            // The backend could not append: write everything as a snapshot.
            match lock(state).take(true)? {
                Write::Snapshot(s) => s,
                Write::Entry { .. } => return Ok(()),
            }
        }
        Write::Snapshot(s) => s,
    };
    let bytes = snap.encode()?;
    backend.save(&snap.stack, &snap.lineage, bytes).await
}
