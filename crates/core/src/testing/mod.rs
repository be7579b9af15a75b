//! Testing support for stack programs and for the engine itself.
//!
//! [`MemCloud`] is a deterministic in-memory cloud; [`Mock`] is a resource type that lives
//! in it. A `MemCloud` can inject failures and latency (tokio's clock, so tests with a
//! paused clock run in virtual time), counts calls in flight, and logs every call with a
//! sequence number so tests can check ordering. With [`MemCloud::persistent`] it survives
//! the process (for kill tests).
//!
//! With the `proptest` feature, [`strategies`] generates random DAG stacks of mocks.

#[cfg(feature = "proptest")]
pub mod strategies;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::resource::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};
use crate::value::{Input, Secret};

/// A kind of provider call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Call {
    /// create
    Create,
    /// read
    Read,
    /// update
    Update,
    /// delete
    Delete,
}

/// One logged call: `start < end` are positions in one global sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The call.
    pub call: Call,
    /// The resource's logical name.
    pub name: String,
    /// The provider id (empty for a failed create).
    pub id: String,
    /// Sequence number when it started.
    pub start: u64,
    /// Sequence number when it ended.
    pub end: u64,
    /// Whether it failed.
    pub failed: bool,
}

/// A resource living in the in-memory cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudResource {
    /// Its id.
    pub id: String,
    /// Its logical name (from the URN).
    pub name: String,
    /// Its URN tag.
    pub urn: String,
    /// The idempotency token it was created with.
    pub token: String,
    /// The replace-only key.
    pub key: Option<String>,
    /// Its unique name, if it has one (no two resources share one, as bucket names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<String>,
    /// Its in-place properties.
    pub props: BTreeMap<String, String>,
    /// Its secret, if any (kept as given).
    pub secret: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Store {
    next_id: u64,
    resources: BTreeMap<String, CloudResource>,
    /// Idempotency token → id (rebuilt on load).
    #[serde(skip)]
    tokens: HashMap<String, String>,
    /// A value held in a resource's key or props (an id, an ARN) → the resources holding
    /// it (rebuilt on load), so that a delete finds its users without a scan.
    #[serde(skip)]
    refs: HashMap<String, BTreeSet<String>>,
}

impl Store {
    fn held(r: &CloudResource) -> impl Iterator<Item = &String> {
        r.key.iter().chain(r.props.values())
    }

    fn link(&mut self, r: &CloudResource) {
        for v in Self::held(r) {
            self.refs.entry(v.clone()).or_default().insert(r.id.clone());
        }
    }

    fn unlink(&mut self, r: &CloudResource) {
        for v in Self::held(r) {
            if let Some(users) = self.refs.get_mut(v) {
                users.remove(&r.id);
                if users.is_empty() {
                    self.refs.remove(v);
                }
            }
        }
    }

    fn insert(&mut self, r: CloudResource) {
        self.link(&r);
        if !r.token.is_empty() {
            self.tokens.insert(r.token.clone(), r.id.clone());
        }
        self.resources.insert(r.id.clone(), r);
    }

    fn remove(&mut self, id: &str) -> Option<CloudResource> {
        let r = self.resources.remove(id)?;
        self.unlink(&r);
        self.tokens.remove(&r.token);
        Some(r)
    }

    /// Changes a resource's props, keeping the index.
    fn set_props(&mut self, id: &str, f: impl FnOnce(&mut BTreeMap<String, String>)) -> bool {
        let Some(mut r) = self.resources.remove(id) else {
            return false;
        };
        self.unlink(&r);
        f(&mut r.props);
        self.link(&r);
        self.resources.insert(id.to_owned(), r);
        true
    }

    /// A live resource other than `id` that holds `id` or its ARN.
    fn user_of(&self, id: &str) -> Option<String> {
        let arn = format!("arn:mem:mock:{id}");
        let user = [id, arn.as_str()]
            .into_iter()
            .filter_map(|v| self.refs.get(v))
            .flatten()
            .find(|u| *u != id)
            .cloned();
        user
    }
}

#[derive(Debug, Default)]
struct Inner {
    store: Store,
    seq: u64,
    log: Vec<CallRecord>,
    in_flight: usize,
    max_in_flight: usize,
    failures: HashSet<(String, Call)>,
    /// (name, call) whose calls make their change, then fail.
    failures_after: HashSet<(String, Call)>,
    /// (name, call) whose calls panic, as a provider with a bug would.
    panics: HashSet<(String, Call)>,
    /// (name, call) → (failures left, whether the change happens before the failure).
    transient: HashMap<(String, Call), (u32, bool)>,
    latency: Option<Duration>,
    persist: Option<PathBuf>,
}

/// A deterministic in-memory cloud. Clones share it. Put it in the engine's
/// [`crate::Context`] with `Context::new().with(cloud.clone())`.
#[derive(Debug, Clone, Default)]
pub struct MemCloud {
    inner: Arc<Mutex<Inner>>,
}

impl MemCloud {
    /// An empty cloud.
    pub fn new() -> Self {
        Self::default()
    }

    /// A cloud stored in `path` (loaded if it exists, rewritten after every change), so
    /// that it outlives a killed process.
    pub fn persistent(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let store = match std::fs::read(&path) {
            Ok(b) => {
                let loaded: Store = serde_json::from_slice(&b).map_err(std::io::Error::other)?;
                let mut s = Store {
                    next_id: loaded.next_id,
                    ..Store::default()
                };
                for r in loaded.resources.into_values() {
                    s.insert(r);
                }
                s
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Store::default(),
            Err(e) => return Err(e),
        };
        let cloud = MemCloud::new();
        {
            let mut g = cloud.lock();
            g.store = store;
            g.persist = Some(path);
        }
        Ok(cloud)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes every later `call` on the resource named `name` fail.
    pub fn fail_on(&self, name: &str, call: Call) {
        self.lock().failures.insert((name.to_owned(), call));
    }

    /// Makes every later `call` on the resource named `name` panic (a provider's bug).
    pub fn panic_on(&self, name: &str, call: Call) {
        self.lock().panics.insert((name.to_owned(), call));
    }

    /// Makes every later `call` on the resource named `name` make its change and then
    /// fail with a permanent error, as a create whose waiter times out after AWS made the
    /// resource.
    pub fn fail_after_change(&self, name: &str, call: Call) {
        self.lock().failures_after.insert((name.to_owned(), call));
    }

    /// Makes the next `times` calls `call` on the resource named `name` fail with a
    /// transient error (throttling that outlived the SDK's retries). With `after_change`,
    /// the change is made first and only the answer is lost, as when a connection drops
    /// after AWS acted.
    pub fn fail_transiently(&self, name: &str, call: Call, times: u32, after_change: bool) {
        self.lock()
            .transient
            .insert((name.to_owned(), call), (times, after_change));
    }

    /// Removes every injected failure.
    pub fn clear_failures(&self) {
        let mut g = self.lock();
        g.failures.clear();
        g.failures_after.clear();
        g.panics.clear();
        g.transient.clear();
    }

    /// Adds a latency to every call (in addition to each mock's own `duration`).
    pub fn set_latency(&self, d: Duration) {
        self.lock().latency = Some(d);
    }

    /// Every resource, by id.
    pub fn resources(&self) -> Vec<CloudResource> {
        self.lock().store.resources.values().cloned().collect()
    }

    /// The resource with this id.
    pub fn get(&self, id: &str) -> Option<CloudResource> {
        self.lock().store.resources.get(id).cloned()
    }

    /// Changes a property out of band (drift).
    pub fn tamper(&self, id: &str, prop: &str, value: &str) -> bool {
        let mut g = self.lock();
        let changed = g.store.set_props(id, |p| {
            p.insert(prop.to_owned(), value.to_owned());
        });
        Self::persist(&g);
        changed
    }

    /// Makes a resource out of band, as another tool or a person would: named `unique`,
    /// with no token of any strata run. Returns its id.
    pub fn add_foreign(&self, unique: &str, props: &[(&str, &str)]) -> String {
        let mut g = self.lock();
        g.store.next_id += 1;
        let id = format!("mock-{}", g.store.next_id);
        let r = CloudResource {
            id: id.clone(),
            name: String::new(),
            urn: String::new(),
            token: String::new(),
            key: None,
            unique: Some(unique.to_owned()),
            props: props
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            secret: None,
        };
        g.store.insert(r);
        Self::persist(&g);
        id
    }

    /// Deletes a resource out of band.
    pub fn remove(&self, id: &str) -> bool {
        let mut g = self.lock();
        let removed = g.store.remove(id).is_some();
        Self::persist(&g);
        removed
    }

    /// Every call so far.
    pub fn log(&self) -> Vec<CallRecord> {
        self.lock().log.clone()
    }

    /// The most calls that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// Forgets the log and the in-flight maximum.
    pub fn reset_log(&self) {
        let mut g = self.lock();
        g.log.clear();
        g.max_in_flight = 0;
    }

    fn persist(g: &Inner) {
        if let Some(p) = &g.persist {
            let tmp = p.with_extension("tmp");
            if let Ok(b) = serde_json::to_vec(&g.store) {
                if std::fs::write(&tmp, b).is_ok() {
                    let _ = std::fs::rename(&tmp, p);
                }
            }
        }
    }

    async fn call<T>(
        &self,
        call: Call,
        name: &str,
        duration: Duration,
        f: impl FnOnce(&mut Store) -> Result<(String, T), ProviderError>,
    ) -> Result<T, ProviderError> {
        let injected_panic = self.lock().panics.contains(&(name.to_owned(), call));
        if injected_panic {
            panic!("injected panic of {call:?} on {name}");
        }
        let (start, latency) = {
            let mut g = self.lock();
            g.seq += 1;
            g.in_flight += 1;
            g.max_in_flight = g.max_in_flight.max(g.in_flight);
            (g.seq, g.latency.unwrap_or_default())
        };
        // Like a real API: the change happens half-way, then the response takes the rest of
        // the time (a crash in between leaves a resource the caller never heard of).
        let wait = duration + latency;
        if !wait.is_zero() {
            tokio::time::sleep(wait / 2).await;
        }
        let result = {
            let mut g = self.lock();
            let key = (name.to_owned(), call);
            let transient = match g.transient.get_mut(&key) {
                Some((left, after)) if *left > 0 => {
                    *left -= 1;
                    Some(*after)
                }
                _ => None,
            };
            let result = if g.failures.contains(&key) {
                Err(ProviderError::Api {
                    operation: format!("mock:{call:?}"),
                    code: Some("InjectedFailure".to_owned()),
                    message: format!("injected failure of {call:?} on {name}"),
                })
            } else if g.failures_after.contains(&key) {
                let _ = f(&mut g.store);
                Self::persist(&g);
                Err(ProviderError::Timeout {
                    after: Duration::from_secs(1),
                    what: format!("{name} to become ready (injected)"),
                })
            } else if let Some(after_change) = transient {
                if after_change {
                    let _ = f(&mut g.store);
                    Self::persist(&g);
                }
                Err(ProviderError::Transient(format!(
                    "injected throttling of {call:?} on {name}"
                )))
            } else {
                f(&mut g.store)
            };
            if result.is_ok() && call != Call::Read {
                Self::persist(&g);
            }
            result
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait - wait / 2).await;
        }
        let mut g = self.lock();
        g.seq += 1;
        g.in_flight -= 1;
        let end = g.seq;
        let (id, failed) = match &result {
            Ok((id, _)) => (id.clone(), false),
            Err(_) => (String::new(), true),
        };
        g.log.push(CallRecord {
            call,
            name: name.to_owned(),
            id,
            start,
            end,
            failed,
        });
        result.map(|(_, t)| t)
    }
}

/// A resource type that lives in a [`MemCloud`].
///
/// `key` forces replacement when it changes; `props` change in place; `duration` is both
/// the simulated API latency and the scheduler's estimate. Like AWS, the cloud refuses to
/// delete a resource whose id or ARN another live resource's key or props still hold.
#[derive(Debug, Clone, Copy)]
pub struct Mock;

/// The args of a [`Mock`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MockArgs {
    /// Replace-only key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Input<String>>,
    /// A unique name (replace-only): a create of a name another resource has fails with
    /// "already exists", as for an S3 bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Input<String>>,
    /// In-place properties; values may be other resources' outputs.
    #[serde(default)]
    pub props: BTreeMap<String, Input<String>>,
    /// A secret property.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Input<Secret<String>>>,
    /// Simulated duration of each call, in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
}

impl Mock {
    /// Args with nothing set.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> MockArgs {
        MockArgs::default()
    }
}

impl MockArgs {
    /// Sets an in-place property.
    pub fn prop(mut self, k: impl Into<String>, v: impl Into<Input<String>>) -> Self {
        self.props.insert(k.into(), v.into());
        self
    }
    /// Sets the replace-only key.
    pub fn key(mut self, v: impl Into<Input<String>>) -> Self {
        self.key = Some(v.into());
        self
    }
    /// Sets the unique name.
    pub fn name(mut self, v: impl Into<Input<String>>) -> Self {
        self.name = Some(v.into());
        self
    }
    /// Sets the secret.
    pub fn secret(mut self, v: impl Into<Input<Secret<String>>>) -> Self {
        self.secret = Some(v.into());
        self
    }
    /// Sets the simulated duration.
    pub fn duration(mut self, d: Duration) -> Self {
        self.duration_ms = d.as_millis() as u64;
        self
    }
}

impl ResourceArgs for MockArgs {
    type Resource = Mock;
}

/// The outputs of a [`Mock`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockOutputs {
    /// Its id (`mock-N`).
    pub id: String,
    /// An ARN-like name.
    pub arn: String,
    /// Its properties as stored.
    pub props: BTreeMap<String, String>,
    /// Its secret, as stored (an output that is secret by type).
    #[serde(default)]
    pub secret: Option<Secret<String>>,
}

crate::outputs!(Mock => MockHandle {
    /// The id.
    id: String,
    /// The ARN.
    arn: String,
    /// The secret.
    secret: Option<Secret<String>>,
});

/// Resolved mock args: key, props, secret.
type Resolved = (Option<String>, BTreeMap<String, String>, Option<String>);

/// The property that makes a mock stand for an untaggable type: recovered by its name and
/// properties ([`Recovery::Resembles`]), not by its token.
pub const UNTAGGABLE: &str = "untaggable";

/// The live property that stops a delete, as deletion protection does on AWS.
pub const DELETION_PROTECTION: &str = "deletion_protection";

fn resolved(a: &MockArgs) -> Result<Resolved, ProviderError> {
    let key = a.key.as_ref().map(|k| k.value().cloned()).transpose()?;
    let props = a
        .props
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.value()?.clone())))
        .collect::<Result<_, ProviderError>>()?;
    let secret = a
        .secret
        .as_ref()
        .map(|s| s.value().map(|s| s.expose().clone()))
        .transpose()?;
    Ok((key, props, secret))
}

fn outputs_of(r: &CloudResource) -> MockOutputs {
    MockOutputs {
        id: r.id.clone(),
        arn: format!("arn:mem:mock:{}", r.id),
        props: r.props.clone(),
        secret: r.secret.clone().map(Secret::new),
    }
}

#[async_trait]
impl Resource for Mock {
    const TYPE: &'static str = "test:mock";
    const REPLACE_ON: &'static [&'static str] = &["key", "name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    const FIELDS: &'static [&'static str] = &["key", "name", "props", "secret", "duration_ms"];
    type Args = MockArgs;
    type Outputs = MockOutputs;

    fn validate(args: &MockArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        for (k, v) in &args.props {
            if k.is_empty() {
                errs.push(FieldError::new("props", "property names must not be empty"));
            }
            if v.known().is_some_and(|v| v.len() > 256) {
                errs.push(FieldError::new(
                    format!("props.{k}"),
                    "longer than 256 characters",
                ));
            }
        }
        errs
    }

    fn estimate(args: &MockArgs) -> Duration {
        Duration::from_millis(args.duration_ms.max(1))
    }

    async fn create(cx: &Cx<'_>, args: &MockArgs) -> Result<Created<MockOutputs>, ProviderError> {
        let cloud = cx.require::<MemCloud>()?;
        let (key, props, secret) = resolved(args)?;
        let unique = args.name.as_ref().map(|n| n.value().cloned()).transpose()?;
        let (urn, token) = (cx.urn.to_string(), cx.token.to_owned());
        let d = Duration::from_millis(args.duration_ms);
        cloud
            .call(Call::Create, cx.urn.name(), d, move |s| {
                // Idempotency: a create retried with the same token returns the same
                // resource.
                if let Some(r) = s.tokens.get(&token).and_then(|id| s.resources.get(id)) {
                    return Ok((r.id.clone(), outputs_of(r)));
                }
                if let Some(n) = &unique {
                    if s.resources.values().any(|r| r.unique.as_ref() == Some(n)) {
                        return Err(ProviderError::AlreadyExists {
                            operation: "mock:Create".to_owned(),
                            message: format!("a resource named {n} already exists"),
                        });
                    }
                }
                s.next_id += 1;
                let id = format!("mock-{}", s.next_id);
                let r = CloudResource {
                    id: id.clone(),
                    name: Urn::parse(&urn)
                        .map(|u| u.name().to_owned())
                        .unwrap_or_default(),
                    urn,
                    token,
                    key,
                    unique,
                    props,
                    secret,
                };
                let out = outputs_of(&r);
                s.insert(r);
                Ok((id, out))
            })
            .await
            .map(|outputs| Created {
                id: outputs.id.clone(),
                outputs,
            })
    }

    async fn recover(cx: &Cx<'_>, args: &MockArgs) -> Result<Recovery<MockOutputs>, ProviderError> {
        let cloud = cx.require::<MemCloud>()?;
        let token = cx.token.to_owned();
        let (_, props, _) = resolved(args)?;
        // A mock whose props say `untaggable` stands for a service without tags: it is
        // found by its name and properties, which only resemble.
        let untaggable = props.get(UNTAGGABLE).is_some_and(|v| v == "true");
        let unique = args.name.as_ref().map(|n| n.value().cloned()).transpose()?;
        cloud
            .call(Call::Read, cx.urn.name(), Duration::ZERO, move |s| {
                if untaggable {
                    let found = s
                        .resources
                        .values()
                        .find(|r| r.unique.is_some() && r.unique == unique && r.props == props);
                    return Ok((
                        found.map(|r| r.id.clone()).unwrap_or_default(),
                        match found {
                            Some(r) => Recovery::Resembles(Created {
                                id: r.id.clone(),
                                outputs: outputs_of(r),
                            }),
                            None => Recovery::Absent,
                        },
                    ));
                }
                // By the create's token, as EC2's ClientToken would. (Not by the urn tag:
                // during a replace the old resource carries the same tag.)
                let found = s.tokens.get(&token).and_then(|id| s.resources.get(id));
                Ok((
                    found.map(|r| r.id.clone()).unwrap_or_default(),
                    match found {
                        Some(r) => Recovery::Found(Created {
                            id: r.id.clone(),
                            outputs: outputs_of(r),
                        }),
                        None => Recovery::Absent,
                    },
                ))
            })
            .await
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&MockArgs>,
    ) -> Result<Option<Observed<MockArgs, MockOutputs>>, ProviderError> {
        let cloud = cx.require::<MemCloud>()?;
        let id = id.to_owned();
        let duration_ms = args.map_or(0, |a| a.duration_ms);
        let found = cloud
            .call(Call::Read, cx.urn.name(), Duration::ZERO, move |s| {
                Ok((id.clone(), s.resources.get(&id).cloned()))
            })
            .await?;
        Ok(found.map(|r| Observed {
            outputs: outputs_of(&r),
            args: MockArgs {
                key: r.key.map(Input::Value),
                name: r.unique.map(Input::Value),
                props: r
                    .props
                    .into_iter()
                    .map(|(k, v)| (k, Input::Value(v)))
                    .collect(),
                secret: r.secret.map(|s| Input::Value(Secret::new(s))),
                duration_ms,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        _old: &MockArgs,
        new: &MockArgs,
        _outputs: &MockOutputs,
    ) -> Result<MockOutputs, ProviderError> {
        let cloud = cx.require::<MemCloud>()?;
        let (_, props, secret) = resolved(new)?;
        let id = id.to_owned();
        cloud
            .call(
                Call::Update,
                cx.urn.name(),
                Duration::from_millis(new.duration_ms),
                move |s| {
                    if !s.set_props(&id, |p| *p = props) {
                        return Err(ProviderError::NotFound(id.clone()));
                    }
                    let r = s
                        .resources
                        .get_mut(&id)
                        .ok_or_else(|| ProviderError::NotFound(id.clone()))?;
                    r.secret = secret;
                    Ok((id.clone(), outputs_of(r)))
                },
            )
            .await
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        args: &MockArgs,
        _outputs: &MockOutputs,
    ) -> Result<(), ProviderError> {
        let cloud = cx.require::<MemCloud>()?;
        let id = id.to_owned();
        cloud
            .call(
                Call::Delete,
                cx.urn.name(),
                Duration::from_millis(args.duration_ms),
                move |s| {
                    // As AWS refuses to delete what something live still uses (a subnet
                    // with instances in it: DependencyViolation).
                    if let Some(user) = s.user_of(&id) {
                        return Err(ProviderError::Api {
                            operation: "mock:Delete".to_owned(),
                            code: Some("DependencyViolation".to_owned()),
                            message: format!("{id} is still used by {user}"),
                        });
                    }
                    if s.resources.get(&id).is_some_and(protected) {
                        return Err(ProviderError::Api {
                            operation: "mock:Delete".to_owned(),
                            code: Some("InvalidParameterCombination".to_owned()),
                            message: format!("{id} has deletion protection on"),
                        });
                    }
                    // Idempotent: already gone counts as deleted.
                    s.remove(&id);
                    Ok((id.clone(), ()))
                },
            )
            .await
    }

    async fn delete_blocker(
        cx: &Cx<'_>,
        id: &str,
        _args: &MockArgs,
        _outputs: &MockOutputs,
    ) -> Result<Option<FieldError>, ProviderError> {
        let cloud = cx.require::<MemCloud>()?;
        let id = id.to_owned();
        let on = cloud
            .call(Call::Read, cx.urn.name(), Duration::ZERO, move |s| {
                Ok((id.clone(), s.resources.get(&id).is_some_and(protected)))
            })
            .await?;
        Ok(on.then(|| {
            FieldError::new(
                format!("props.{DELETION_PROTECTION}"),
                "deletion protection is on (live); switch it off with `up` first",
            )
        }))
    }
}

fn protected(r: &CloudResource) -> bool {
    r.props.get(DELETION_PROTECTION).map(String::as_str) == Some("true")
}

use crate::urn::Urn;

/// A journal entry (see [`crate::state::Backend::append`]) that sets the stack's outputs to
/// `outputs` at `serial`: for tests that drive a backend directly.
pub fn journal_entry(
    lineage: &str,
    serial: u64,
    outputs: &BTreeMap<String, serde_json::Value>,
) -> Result<Vec<u8>, crate::state::StateError> {
    crate::state::journal::encode_entry(
        lineage,
        serial,
        std::iter::empty(),
        &[],
        &[],
        &[],
        Some(outputs),
    )
}
