//! An in-memory backend: for tests, benchmarks and embedding programs that keep state
//! themselves. It enforces the same rules as the file backend.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Backend, LockInfo, LockRequest, State, StateError, WriteStats};

#[derive(Debug, Default)]
struct Inner {
    states: HashMap<String, Vec<u8>>,
    locks: HashMap<String, LockInfo>,
    /// The lineage last written per stack (so a save does not re-parse the stored state).
    lineages: HashMap<String, String>,
    journals: HashMap<String, Vec<u8>>,
}

/// State held in memory. Clones share the same store.
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    inner: Arc<Mutex<Inner>>,
    stats: WriteStats,
}

impl MemoryBackend {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        match self.inner.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// The raw bytes stored for `stack`.
    pub fn raw(&self, stack: &str) -> Option<Vec<u8>> {
        self.with(|i| i.states.get(stack).cloned())
    }

    /// The raw journal stored for `stack`.
    pub fn raw_journal(&self, stack: &str) -> Option<Vec<u8>> {
        self.with(|i| i.journals.get(stack).cloned())
    }

    /// Replaces the raw bytes stored for `stack` (to test corrupt or foreign state).
    pub fn set_raw(&self, stack: &str, bytes: Vec<u8>) {
        self.with(|i| {
            i.lineages.remove(stack);
            i.journals.remove(stack);
            i.states.insert(stack.to_owned(), bytes)
        });
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    async fn load(&self, stack: &str) -> Result<Option<State>, StateError> {
        let location = format!("memory:{stack}");
        let Some(bytes) = self.raw(stack) else {
            return Ok(None);
        };
        let mut state = State::from_bytes(&bytes, &location)?;
        if let Some(j) = self.with(|i| i.journals.get(stack).cloned()) {
            super::journal::replay(&mut state, &j, &location)?;
        }
        self.with(|i| i.lineages.insert(stack.to_owned(), state.lineage.clone()));
        Ok(Some(state))
    }

    async fn append(&self, stack: &str, lineage: &str, entry: Vec<u8>) -> Result<bool, StateError> {
        let ok = self.with(|i| {
            if i.lineages.get(stack).map(String::as_str) != Some(lineage) {
                return false;
            }
            i.journals
                .entry(stack.to_owned())
                .or_default()
                .extend_from_slice(&entry);
            true
        });
        if ok {
            self.stats.record(entry.len());
        }
        Ok(ok)
    }

    fn supports_journal(&self) -> bool {
        true
    }

    async fn save(&self, stack: &str, lineage: &str, bytes: Vec<u8>) -> Result<(), StateError> {
        let location = format!("memory:{stack}");
        let known = self.with(|i| i.lineages.get(stack).cloned());
        let stored = match known {
            Some(l) => Some(l),
            None => self
                .raw(stack)
                .map(|old| State::from_bytes(&old, &location).map(|s| s.lineage))
                .transpose()?,
        };
        if let Some(theirs) = stored {
            if theirs != lineage {
                return Err(StateError::LineageMismatch {
                    location,
                    ours: lineage.to_owned(),
                    theirs,
                });
            }
        }
        self.with(|i| i.lineages.insert(stack.to_owned(), lineage.to_owned()));
        self.stats.record(bytes.len());
        self.with(|i| {
            i.states.insert(stack.to_owned(), bytes);
            i.journals.remove(stack);
        });
        Ok(())
    }

    async fn acquire(
        &self,
        stack: &str,
        request: &LockRequest,
        timeout: Duration,
    ) -> Result<LockInfo, StateError> {
        let info = request.record();
        let deadline = super::lock_deadline(timeout);
        loop {
            let held = self.with(|i| match i.locks.get(stack) {
                Some(h) => Some(h.clone()),
                None => {
                    i.locks.insert(stack.to_owned(), info.clone());
                    None
                }
            });
            match held {
                None => return Ok(info),
                Some(holder) if Instant::now() >= deadline => {
                    return Err(StateError::Locked {
                        stack: stack.to_owned(),
                        holder: Box::new(holder),
                    })
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn unlock(&self, stack: &str, lock_id: &str) -> Result<(), StateError> {
        self.with(|i| match i.locks.get(stack) {
            Some(l) if l.id == lock_id => {
                i.locks.remove(stack);
                Ok(())
            }
            other => Err(StateError::LockMismatch {
                stack: stack.to_owned(),
                given: lock_id.to_owned(),
                current: other.map_or_else(|| "none".to_owned(), |l| l.id.clone()),
            }),
        })
    }

    async fn heartbeat(&self, stack: &str, lock: &LockInfo) -> Result<bool, StateError> {
        Ok(self.with(|i| match i.locks.get_mut(stack) {
            Some(l) if l.id == lock.id => {
                l.heartbeat = Some(super::now_rfc3339());
                true
            }
            _ => false,
        }))
    }

    async fn current_lock(&self, stack: &str) -> Result<Option<LockInfo>, StateError> {
        Ok(self.with(|i| i.locks.get(stack).cloned()))
    }

    fn write_stats(&self) -> (u64, u64) {
        self.stats.get()
    }
}
