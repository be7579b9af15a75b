//! The state document, its backends and locking.
//!
//! On disk a state document is an envelope
//! `{"schema_version":1,"checksum":"sha256:…","state":{…}}` whose checksum covers the
//! exact bytes of `state`. Loading refuses a newer schema version and a checksum mismatch;
//! saving refuses a document of another lineage than the one stored. Nothing that could
//! not be read is ever overwritten.

mod file;
pub(crate) mod journal;
mod memory;
#[cfg(feature = "aws")]
mod s3;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::options::StoredOptions;
use crate::urn::Urn;

pub use file::FileBackend;
pub use memory::MemoryBackend;
#[cfg(feature = "aws")]
pub use s3::{LockKind, S3Backend};

/// The schema version this build writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// One resource as recorded in state. Its `Debug` output redacts secrets.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// Its URN.
    pub urn: Urn,
    /// Its type token.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The provider's id.
    pub id: String,
    /// The resolved args it was last created or updated with.
    pub args: Value,
    /// Its outputs.
    pub outputs: Value,
    /// The resources it depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Urn>,
    /// Its options.
    #[serde(default)]
    pub options: StoredOptions,
}

/// The kind of a pending operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    /// A create was started.
    Create,
    /// An update was started.
    Update,
    /// A delete was started, or is owed (the old half of a create-before-delete replace).
    Delete,
}

/// An operation started (or owed) but not known to be finished. Recorded before the
/// mutating call; cleared when it completes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingOperation {
    /// What kind.
    pub kind: PendingKind,
    /// The resource.
    pub urn: Urn,
    /// Its type token.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The idempotency token passed to the provider.
    pub token: String,
    /// When it started (RFC 3339).
    pub started: String,
    /// For deletes: the resource being deleted (the old one, for a replace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceState>,
    /// For creates: AWS refused the create because the name is taken, and whether an
    /// earlier attempt with this token made the resource could not be checked. Only the
    /// token (or its tag) proves it is ours then: a resource that merely resembles the
    /// declaration was there before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
}

/// A stack's state. Its `Debug` output redacts secrets.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The stack.
    pub stack: String,
    /// Fixed when the state is first created; a document of another lineage is refused.
    pub lineage: String,
    /// Bumped on every write.
    pub serial: u64,
    /// How secrets are encrypted (set once the stack has a passphrase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<crate::secrets::Encryption>,
    /// The resources, by URN.
    pub resources: BTreeMap<Urn, ResourceState>,
    /// Stack outputs.
    #[serde(default)]
    pub outputs: BTreeMap<String, Value>,
    /// Operations started and not known to be finished.
    #[serde(default)]
    pub pending: Vec<PendingOperation>,
    /// Changes made to state by hand (`state pending drop`, `state rm`): who, when, what.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit: Vec<AuditEntry>,
}

impl std::fmt::Debug for ResourceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::value::redact;
        f.debug_struct("ResourceState")
            .field("urn", &self.urn)
            .field("type_name", &self.type_name)
            .field("id", &self.id)
            .field("args", &redact(&self.args))
            .field("outputs", &redact(&self.outputs))
            .field("dependencies", &self.dependencies)
            .field("options", &self.options)
            .finish()
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outputs: BTreeMap<&String, Value> = self
            .outputs
            .iter()
            .map(|(k, v)| (k, crate::value::redact(v)))
            .collect();
        f.debug_struct("State")
            .field("stack", &self.stack)
            .field("lineage", &self.lineage)
            .field("serial", &self.serial)
            .field("encryption", &self.encryption)
            .field("resources", &self.resources)
            .field("outputs", &outputs)
            .field("pending", &self.pending)
            .field("audit", &self.audit)
            .finish()
    }
}

/// A change made to state by hand, outside of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When (RFC 3339).
    pub when: String,
    /// Who (the lock holder's user).
    pub who: String,
    /// On which host.
    pub host: String,
    /// What was done, for example `state rm URN`.
    pub action: String,
}

impl State {
    /// A new, empty state with a fresh lineage.
    pub fn new(stack: &str) -> Self {
        State {
            stack: stack.to_owned(),
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            encryption: None,
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            pending: Vec::new(),
            audit: Vec::new(),
        }
    }

    /// Serializes into the on-disk envelope with its checksum.
    pub fn to_bytes(&self) -> Result<Vec<u8>, StateError> {
        let rendered = self
            .resources
            .iter()
            .map(|(u, r)| serde_json::to_string(r).map(|j| (u, j)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StateError::Encode)?;
        encode(
            &Parts {
                stack: &self.stack,
                lineage: &self.lineage,
                serial: self.serial,
                encryption: self.encryption.as_ref(),
                outputs: &self.outputs,
                pending: &self.pending,
                audit: &self.audit,
            },
            rendered.iter().map(|(u, j)| (*u, j.as_str())),
        )
    }

    /// Parses an envelope, refusing a newer schema or a checksum mismatch. `what` names
    /// the location in errors.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<State, StateError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        #[derive(Deserialize)]
        struct Envelope<'a> {
            checksum: String,
            #[serde(borrow)]
            state: &'a RawValue,
        }
        let corrupt = |e: serde_json::Error| StateError::Corrupt {
            location: what.to_owned(),
            message: e.to_string(),
        };
        let v: Version = serde_json::from_slice(bytes).map_err(corrupt)?;
        if v.schema_version > SCHEMA_VERSION {
            return Err(StateError::NewerSchema {
                location: what.to_owned(),
                found: v.schema_version,
                supported: SCHEMA_VERSION,
            });
        }
        let env: Envelope<'_> = serde_json::from_slice(bytes).map_err(corrupt)?;
        let actual = checksum(env.state.get().as_bytes());
        if actual != env.checksum {
            return Err(StateError::ChecksumMismatch {
                location: what.to_owned(),
                expected: env.checksum,
                actual,
            });
        }
        serde_json::from_str(env.state.get()).map_err(corrupt)
    }
}

/// The small fields of a state document.
pub(crate) struct Parts<'a> {
    pub stack: &'a str,
    pub lineage: &'a str,
    pub serial: u64,
    pub encryption: Option<&'a crate::secrets::Encryption>,
    pub outputs: &'a BTreeMap<String, Value>,
    pub pending: &'a [PendingOperation],
    pub audit: &'a [AuditEntry],
}

/// Lays out a state document field by field, taking each resource's JSON as given (the
/// engine passes cached JSON), in URN order. The same state always gives the same bytes,
/// identical to serde's compact form of [`State`].
pub(crate) fn encode<'a>(
    parts: &Parts<'_>,
    resources: impl Iterator<Item = (&'a Urn, &'a str)>,
) -> Result<Vec<u8>, StateError> {
    let enc = |v: &dyn erased::Ser| v.json().map_err(StateError::Encode);
    let mut body = String::with_capacity(1024);
    body.push_str("{\"stack\":");
    body.push_str(&enc(&parts.stack)?);
    body.push_str(",\"lineage\":");
    body.push_str(&enc(&parts.lineage)?);
    body.push_str(",\"serial\":");
    body.push_str(&parts.serial.to_string());
    if let Some(e) = parts.encryption {
        body.push_str(",\"encryption\":");
        body.push_str(&enc(e)?);
    }
    body.push_str(",\"resources\":{");
    for (k, (urn, json)) in resources.enumerate() {
        if k > 0 {
            body.push(',');
        }
        body.push_str(&enc(urn)?);
        body.push(':');
        body.push_str(json);
    }
    body.push_str("},\"outputs\":");
    body.push_str(&enc(parts.outputs)?);
    body.push_str(",\"pending\":");
    body.push_str(&enc(&parts.pending)?);
    if !parts.audit.is_empty() {
        body.push_str(",\"audit\":");
        body.push_str(&enc(&parts.audit)?);
    }
    body.push('}');
    let sum = checksum(body.as_bytes());
    let mut out = Vec::with_capacity(body.len() + 128);
    out.extend_from_slice(b"{\"schema_version\":");
    out.extend_from_slice(SCHEMA_VERSION.to_string().as_bytes());
    out.extend_from_slice(b",\"checksum\":\"");
    out.extend_from_slice(sum.as_bytes());
    out.extend_from_slice(b"\",\"state\":");
    out.extend_from_slice(body.as_bytes());
    out.push(b'}');
    Ok(out)
}

mod erased {
    /// Serialize, object-safe (for the field-by-field layout).
    pub trait Ser {
        fn json(&self) -> Result<String, serde_json::Error>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> Result<String, serde_json::Error> {
            serde_json::to_string(self)
        }
    }
}

fn checksum(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// State and lock errors.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The state was written by a newer strata.
    #[error("state at {location} has schema version {found}, newer than this strata supports ({supported}); upgrade strata. Nothing was changed.")]
    NewerSchema {
        /// Where.
        location: String,
        /// The version found.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The checksum does not match the content.
    #[error("state at {location} is corrupt: checksum {actual} does not match the recorded {expected}. Nothing was changed; restore it from a backup.")]
    ChecksumMismatch {
        /// Where.
        location: String,
        /// The recorded checksum.
        expected: String,
        /// The computed checksum.
        actual: String,
    },
    /// The state could not be parsed.
    #[error("state at {location} cannot be read: {message}. Nothing was changed.")]
    Corrupt {
        /// Where.
        location: String,
        /// The parse error.
        message: String,
    },
    /// A write would replace state of another lineage.
    #[error("refusing to write state of lineage {ours} over {location}, which holds lineage {theirs}: they are different stacks' states")]
    LineageMismatch {
        /// Where.
        location: String,
        /// The lineage being written.
        ours: String,
        /// The lineage stored.
        theirs: String,
    },
    /// The stack is locked by someone else.
    #[error("stack {stack:?} is locked by {holder}. If that run is gone, release it with `state unlock {}`.", holder.id)]
    Locked {
        /// The stack.
        stack: String,
        /// Who holds the lock.
        holder: Box<LockInfo>,
    },
    /// The run's lock was released while it held it.
    #[error("the lock {id} of stack {stack:?} was released while this run held it (by `state unlock`?), so the run stopped starting steps. What it changed is in AWS; its last state writes may have been refused and kept in a recovery file. Run `up` again to bring state and AWS together")]
    LockLost {
        /// The stack.
        stack: String,
        /// The lost lock's id.
        id: String,
    },
    /// `unlock` named a lock id that is not the current one.
    #[error("stack {stack:?}: the lock id {given} does not match the current lock ({current})")]
    LockMismatch {
        /// The stack.
        stack: String,
        /// The id given.
        given: String,
        /// The current lock, if any.
        current: String,
    },
    /// The state could not be serialized.
    #[error("cannot encode state: {0}")]
    Encode(serde_json::Error),
    /// An I/O error.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Secrets could not be sealed or opened.
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretsError),
    /// The backend URL is not understood.
    #[error("unsupported backend {0:?}: use file://DIR or s3://BUCKET/PREFIX[?lock_table=NAME|?lock=s3]")]
    UnsupportedBackend(String),
    /// The backend URL is ambiguous or incomplete.
    #[error("backend {url:?}: {reason}")]
    BadBackendUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Someone else wrote the state since we read it (our lock was broken): our write was
    /// refused, and kept locally.
    #[error("state at {location} changed since this run read it (was its lock force-released?); this run's state was NOT written there and is kept in {recovery}. Compare the two, then push the right one.")]
    StaleWrite {
        /// Where.
        location: String,
        /// The local recovery file holding the refused state.
        recovery: String,
    },
    /// An AWS call of the backend failed.
    #[error("{operation} on {location} failed: {message}")]
    Aws {
        /// The API operation.
        operation: &'static str,
        /// The bucket, object or table.
        location: String,
        /// The error.
        message: String,
    },
}

/// How often a run refreshes its lock's heartbeat.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);

/// A lock whose heartbeat is older than this looks abandoned: its holder stopped
/// refreshing it (four missed beats).
pub const HEARTBEAT_STALE: Duration = Duration::from_secs(120);

/// What a run asks a lock for: its operation, and who runs it (`None`: `$USER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRequest {
    /// The operation (`up`, `destroy`, …).
    pub operation: String,
    /// Who runs it, if not this process's user (an embedder's own user).
    pub who: Option<String>,
}

impl LockRequest {
    /// The record of a new lock for this request, with a fresh id: backends write this.
    pub fn record(&self) -> LockInfo {
        LockInfo::new(&self.operation).held_by(self.who.as_deref())
    }
}

/// Who holds a lock, for what, since when, and when the holder last showed life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// The lock id (`state unlock <id>`).
    pub id: String,
    /// The user: `$USER` unless the run names its own ([`crate::RunOptions::who`]).
    pub who: String,
    /// The host.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The operation (`up`, `destroy`, …).
    pub operation: String,
    /// When it was taken (RFC 3339).
    pub created: String,
    /// When the holder last refreshed it (RFC 3339); the holder does so every
    /// [`HEARTBEAT_EVERY`] while it runs. `None` in locks written before heartbeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<String>,
}

impl LockInfo {
    /// A new lock record for this process.
    pub fn new(operation: &str) -> Self {
        let now = now_rfc3339();
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            who: std::env::var("USER")
                .or_else(|_| std::env::var("USERNAME"))
                .unwrap_or_else(|_| "unknown".to_owned()),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
            operation: operation.to_owned(),
            created: now.clone(),
            heartbeat: Some(now),
        }
    }

    /// The same record, held by `who` (an embedder's own user) when given.
    pub fn held_by(mut self, who: Option<&str>) -> Self {
        if let Some(w) = who.map(str::trim).filter(|w| !w.is_empty()) {
            w.clone_into(&mut self.who);
        }
        self
    }

    /// How long ago the holder last showed life: its last heartbeat, else when it took
    /// the lock. `None` if neither time reads.
    pub fn silent_for(&self) -> Option<Duration> {
        let last = self.heartbeat.as_deref().unwrap_or(&self.created);
        let at = humantime::parse_rfc3339(last).ok()?;
        Some(SystemTime::now().duration_since(at).unwrap_or_default())
    }

    /// Whether the holder is known to be gone: a process of this host that no longer runs
    /// (Linux), or a heartbeat older than [`HEARTBEAT_STALE`]. A lock without heartbeats
    /// (written by an older strata) is never judged by its age.
    pub fn looks_abandoned(&self) -> bool {
        self.process_gone()
            || (self.heartbeat.is_some() && self.silent_for().is_some_and(|d| d > HEARTBEAT_STALE))
    }

    /// A lock taken on this host by a process that no longer runs (Linux: no
    /// `/proc/<pid>`).
    pub fn process_gone(&self) -> bool {
        let here = gethostname::gethostname().to_string_lossy().into_owned();
        cfg!(target_os = "linux")
            && self.host == here
            && self.pid != std::process::id()
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{} (pid {}) running `{}` since {} (lock id {})",
            self.who, self.host, self.pid, self.operation, self.created, self.id
        )?;
        let age = self
            .silent_for()
            .map(|d| humantime::format_duration(Duration::from_secs(d.as_secs())).to_string());
        match age {
            _ if self.process_gone() => write!(
                f,
                "; its process is no longer running on this host: the holder is gone"
            ),
            Some(age) if self.heartbeat.is_none() => write!(
                f,
                "; taken {age} ago, without heartbeats (an older strata): whether the holder is alive is unknown"
            ),
            Some(age) if self.looks_abandoned() => write!(
                f,
                "; last heartbeat {age} ago: the holder looks gone (its heartbeat stopped)"
            ),
            Some(age) => write!(f, "; last heartbeat {age} ago: the holder looks alive"),
            None => Ok(()),
        }
    }
}

/// When a wait for a lock of `timeout` ends. A timeout beyond a century (`--lock-timeout`
/// of any size) is a century: `Instant + Duration` must not overflow.
pub(crate) fn lock_deadline(timeout: Duration) -> std::time::Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    std::time::Instant::now() + timeout.min(CENTURY)
}

/// The current time, RFC 3339 in UTC.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Bytes and writes a backend has made (for checkpoint reporting). Clones share counts.
#[derive(Debug, Clone, Default)]
pub struct WriteStats(std::sync::Arc<[std::sync::atomic::AtomicU64; 2]>);

impl WriteStats {
    /// Counts one write of `len` bytes.
    pub fn record(&self, len: usize) {
        use std::sync::atomic::Ordering;
        self.0[0].fetch_add(len as u64, Ordering::Relaxed);
        self.0[1].fetch_add(1, Ordering::Relaxed);
    }

    /// Total bytes and writes so far.
    pub fn get(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering;
        (
            self.0[0].load(Ordering::Relaxed),
            self.0[1].load(Ordering::Relaxed),
        )
    }
}

/// Where state lives, and its lock.
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The stack's state, or `None` if it has none yet.
    async fn load(&self, stack: &str) -> Result<Option<State>, StateError>;
    /// Durably writes a snapshot of `stack` (serialized with [`State::to_bytes`]). Refuses
    /// to replace state of another lineage, or state it cannot read.
    async fn save(&self, stack: &str, lineage: &str, bytes: Vec<u8>) -> Result<(), StateError>;
    /// Takes the stack's lock for `request` (the operation, and who runs it), polling up
    /// to `timeout` while someone else holds it. Returns the record written, with a new
    /// lock id.
    async fn acquire(
        &self,
        stack: &str,
        request: &LockRequest,
        timeout: Duration,
    ) -> Result<LockInfo, StateError>;
    /// Takes the stack's lock for `operation`, held by this process's user.
    async fn lock(
        &self,
        stack: &str,
        operation: &str,
        timeout: Duration,
    ) -> Result<LockInfo, StateError> {
        let request = LockRequest {
            operation: operation.to_owned(),
            who: None,
        };
        self.acquire(stack, &request, timeout).await
    }
    /// Refreshes the heartbeat of `lock`, if it still holds the stack: `Ok(false)` if it
    /// no longer does (released by `state unlock`, or taken by another run). Backends
    /// without heartbeats return `Ok(true)`.
    async fn heartbeat(&self, _stack: &str, _lock: &LockInfo) -> Result<bool, StateError> {
        Ok(true)
    }
    /// Releases the lock if (and only if) its id is `lock_id`. `state unlock` uses this to
    /// force-release another run's lock.
    async fn unlock(&self, stack: &str, lock_id: &str) -> Result<(), StateError>;
    /// The current lock, if any.
    async fn current_lock(&self, stack: &str) -> Result<Option<LockInfo>, StateError>;
    /// Durably appends a journal entry (see [`journal`]) after the last snapshot. Backends
    /// without a journal return `Ok(false)`, and the engine writes snapshots only.
    async fn append(
        &self,
        _stack: &str,
        _lineage: &str,
        _entry: Vec<u8>,
    ) -> Result<bool, StateError> {
        Ok(false)
    }
    /// Whether [`Backend::append`] is supported.
    fn supports_journal(&self) -> bool {
        false
    }
    /// Total bytes and writes so far (for checkpoint reporting).
    fn write_stats(&self) -> (u64, u64);
    /// Keeps `bytes` (a whole snapshot that [`Backend::append`] could not write, because
    /// another run changed the state) in a local recovery file, and says where.
    fn keep(&self, _stack: &str, _bytes: &[u8]) -> Option<String> {
        None
    }
}

/// Opens the backend at `url`: `file://DIR` (or a bare directory path), or, with the
/// `aws` feature, `s3://BUCKET/PREFIX[?lock_table=NAME|?lock=s3]` (AWS configuration from
/// the environment, `AWS_ENDPOINT_URL` included).
pub async fn open_backend(url: &str) -> Result<Box<dyn Backend>, StateError> {
    if url.trim().is_empty() {
        return Err(StateError::BadBackendUrl {
            url: url.to_owned(),
            reason: "it is empty".to_owned(),
        });
    }
    if let Some(dir) = url.strip_prefix("file://") {
        if dir.trim().is_empty() {
            return Err(StateError::BadBackendUrl {
                url: url.to_owned(),
                reason: "file:// names no directory (file://DIR)".to_owned(),
            });
        }
        return Ok(Box::new(FileBackend::new(dir)));
    }
    #[cfg(feature = "aws")]
    if url.starts_with("s3://") {
        return Ok(Box::new(S3Backend::open(url).await?));
    }
    if url.contains("://") {
        return Err(StateError::UnsupportedBackend(url.to_owned()));
    }
    Ok(Box::new(FileBackend::new(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_matches_serde() {
        let mut s = State::new("dev");
        s.resources.insert(
            Urn::new("dev", "t", "a\"b"),
            ResourceState {
                urn: Urn::new("dev", "t", "a\"b"),
                type_name: "t".into(),
                id: "i".into(),
                args: serde_json::json!({"x": [1, {"y": null}]}),
                outputs: serde_json::json!({}),
                dependencies: vec![],
                options: Default::default(),
            },
        );
        let bytes = s.to_bytes().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains(&serde_json::to_string(&s).unwrap()), "{text}");
        assert_eq!(State::from_bytes(&bytes, "x").unwrap(), s);
    }

    #[test]
    fn newer_schema_and_bad_checksum_are_refused() {
        let s = State::new("dev");
        let bytes = s.to_bytes().unwrap();
        assert_eq!(State::from_bytes(&bytes, "x").unwrap(), s);
        let newer = String::from_utf8(bytes.clone()).unwrap().replacen(
            "\"schema_version\":1",
            "\"schema_version\":9",
            1,
        );
        assert!(matches!(
            State::from_bytes(newer.as_bytes(), "x"),
            Err(StateError::NewerSchema { found: 9, .. })
        ));
        let tampered =
            String::from_utf8(bytes)
                .unwrap()
                .replacen("\"serial\":0", "\"serial\":7", 1);
        let err = State::from_bytes(tampered.as_bytes(), "x").unwrap_err();
        assert!(matches!(err, StateError::ChecksumMismatch { .. }), "{err}");
    }
}
