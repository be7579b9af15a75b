//! The file backend: `DIR/STACK.json`, written atomically (write, fsync, rename, fsync the
//! directory), and a lock file `DIR/STACK.lock` created exclusively.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Backend, LockInfo, LockRequest, State, StateError, WriteStats};

/// State in a local directory (the default: `.strata` in the working directory).
#[derive(Debug)]
pub struct FileBackend {
    dir: PathBuf,
    /// The lineage of each stack as last loaded or written: a save of another lineage is
    /// refused.
    lineages: Mutex<HashMap<String, String>>,
    /// The lock this backend holds, by stack: while it holds one, every write first checks
    /// that the lock file still holds it (a `state unlock` may have released it).
    held: Mutex<HashMap<String, String>>,
    /// What the state files looked like after this backend's last load or write, by
    /// stack: a write first checks that nobody changed them since.
    seen: Mutex<HashMap<String, Seen>>,
    /// Stacks whose lock this backend held and released: a write after that (a dropped
    /// run's writer finishing late) is refused until the lock is taken again.
    released: Mutex<std::collections::HashSet<String>>,
    stats: WriteStats,
}

/// The state file's size and modification time, and the journal's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    state: Option<(u64, std::time::SystemTime)>,
    journal: u64,
}

fn seen(state: &Path, journal: &Path) -> Seen {
    Seen {
        state: std::fs::metadata(state)
            .ok()
            .and_then(|m| Some((m.len(), m.modified().ok()?))),
        journal: std::fs::metadata(journal).map_or(0, |m| m.len()),
    }
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        op,
        path: path.display().to_string(),
        source,
    }
}

impl FileBackend {
    /// A backend rooted at `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileBackend {
            dir: dir.into(),
            lineages: Mutex::new(HashMap::new()),
            held: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
            released: Mutex::new(Default::default()),
            stats: WriteStats::default(),
        }
    }

    /// Records what the files of `stack` look like now, after a write (or, `first_load`,
    /// the first load under this backend's lock: later loads in the process, a preview
    /// beside the run, must not record an older look than the run's own last write).
    fn saw(&self, stack: &str, first_load: bool) {
        if let Ok(mut m) = self.seen.lock() {
            if first_load {
                let holds = self.held.lock().is_ok_and(|h| h.contains_key(stack));
                if !holds || m.contains_key(stack) {
                    return;
                }
            }
            // Read while the map is locked, so that two recorders cannot cross.
            m.insert(
                stack.to_owned(),
                seen(&self.state_path(stack), &self.journal_path(stack)),
            );
        }
    }

    /// Before a write of `stack`'s state (`bytes`, kept if refused): while this backend
    /// holds the stack's lock, the lock file must still hold it, and the state files must
    /// be as this backend last saw them. Otherwise another run owns the state now: the
    /// write is refused, and the refused state kept in `DIR/recovery/`.
    fn fence(&self, stack: &str, bytes: &[u8]) -> Result<(), StateError> {
        let held = self.held.lock().ok().and_then(|m| m.get(stack).cloned());
        let why = match held {
            None if self.released.lock().is_ok_and(|r| r.contains(stack)) => {
                Some("its lock was released (the run had ended or was dropped)")
            }
            None => return Ok(()),
            Some(id) => self.lock_still_held(stack, &id),
        };
        match why {
            None => Ok(()),
            Some(why) => {
                tracing::warn!(stack, "refusing a stale write: {why}");
                Err(StateError::StaleWrite {
                    location: format!("{} ({why})", self.state_path(stack).display()),
                    recovery: self.keep_locally(stack, bytes),
                })
            }
        }
    }

    /// Why the lock `id` of `stack` no longer guards this backend's writes, if it does not.
    fn lock_still_held(&self, stack: &str, id: &str) -> Option<&'static str> {
        match self.read_lock(stack) {
            Ok(Some(l)) if l.id == id => {
                let expected = self.seen.lock().ok().and_then(|m| m.get(stack).copied());
                let now = seen(&self.state_path(stack), &self.journal_path(stack));
                match expected {
                    Some(e) if e != now => {
                        Some("the state files changed since this run last read or wrote them")
                    }
                    _ => None,
                }
            }
            Ok(Some(_)) => Some("its lock was released and another run holds the stack now"),
            Ok(None) | Err(_) => Some("its lock was released (state unlock)"),
        }
    }

    fn keep_locally(&self, stack: &str, bytes: &[u8]) -> String {
        let dir = self.dir.join("recovery");
        let path = dir.join(format!("{stack}-{}.json", uuid::Uuid::new_v4().simple()));
        let _ = std::fs::create_dir_all(&dir);
        match std::fs::write(&path, bytes) {
            Ok(()) => path.display().to_string(),
            Err(e) => format!("(nowhere: writing {} failed: {e})", path.display()),
        }
    }

    /// The state file of `stack`.
    pub fn state_path(&self, stack: &str) -> PathBuf {
        self.dir.join(format!("{stack}.json"))
    }

    /// The journal file of `stack`.
    pub fn journal_path(&self, stack: &str) -> PathBuf {
        self.dir.join(format!("{stack}.journal"))
    }

    fn lock_path(&self, stack: &str) -> PathBuf {
        self.dir.join(format!("{stack}.lock"))
    }

    fn remember(&self, stack: &str, lineage: &str) {
        if let Ok(mut l) = self.lineages.lock() {
            l.insert(stack.to_owned(), lineage.to_owned());
        }
    }

    fn read_lock(&self, stack: &str) -> Result<Option<LockInfo>, StateError> {
        read_lock_file(&self.lock_path(stack))
    }
}

/// The lock record at `path`; its heartbeat is the file's modification time.
fn read_lock_file(path: &Path) -> Result<Option<LockInfo>, StateError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("reading", path)(e)),
    };
    let mut info: LockInfo = serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
        location: path.display().to_string(),
        message: e.to_string(),
    })?;
    // The holder touches the file to beat (only a record that keeps heartbeats: one
    // written by an older strata is left without).
    if info.heartbeat.is_some() {
        if let Ok(m) = std::fs::metadata(path).and_then(|m| m.modified()) {
            info.heartbeat = Some(humantime::format_rfc3339_seconds(m).to_string());
        }
    }
    Ok(Some(info))
}

/// Removes the lock file at `path` if it holds `lock_id` (or does not read).
fn unlock_file(path: &Path, stack: &str, lock_id: &str) -> Result<(), StateError> {
    let current = match read_lock_file(path) {
        Ok(c) => c,
        // An unreadable lock file (written by something else, or damaged) can only be
        // cleared by hand: any id releases it.
        Err(StateError::Corrupt { .. }) => {
            tracing::warn!(path = %path.display(), "removing an unreadable lock file");
            return std::fs::remove_file(path).map_err(io("removing", path));
        }
        Err(e) => return Err(e),
    };
    match current {
        Some(l) if l.id == lock_id => std::fs::remove_file(path).map_err(io("removing", path)),
        Some(l) => Err(StateError::LockMismatch {
            stack: stack.to_owned(),
            given: lock_id.to_owned(),
            current: l.id,
        }),
        None => Err(StateError::LockMismatch {
            stack: stack.to_owned(),
            given: lock_id.to_owned(),
            current: "none: the stack is not locked".to_owned(),
        }),
    }
}

/// One try at the lock file.
enum Attempt {
    Taken,
    /// A stale lock was moved aside: try again.
    BrokeStale,
    /// Someone holds it.
    Held(LockInfo),
}

fn try_lock(dir: &Path, path: &Path, stack: &str, info: &LockInfo) -> Result<Attempt, StateError> {
    std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    // Write the record to a private file, then link it into place: the lock file appears
    // atomically with its content, or not at all.
    let tmp = dir.join(format!(".{stack}.lock.{}", info.id));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io("creating", &tmp))?;
        let body = serde_json::to_vec_pretty(info).map_err(StateError::Encode)?;
        f.write_all(&body).map_err(io("writing", &tmp))?;
        f.sync_all().map_err(io("syncing", &tmp))?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(dir);
            Ok(Attempt::Taken)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let Some(holder) = read_lock_file(path)? else {
                // Released meanwhile.
                return Ok(Attempt::BrokeStale);
            };
            if !holder.process_gone() {
                return Ok(Attempt::Held(holder));
            }
            // Its process is gone (killed, crashed): the lock protects nothing. Pending
            // operations in state are resolved by the run.
            tracing::warn!(lock = %holder, "breaking a stale lock: its process is no longer running");
            // Move it aside, then check that what was moved is the stale lock and not one
            // another run took meanwhile (put that back).
            let aside = dir.join(format!(
                ".{stack}.lock.stale.{}",
                uuid::Uuid::new_v4().simple()
            ));
            match std::fs::rename(path, &aside) {
                Ok(()) => {
                    let moved: Option<LockInfo> = std::fs::read(&aside)
                        .ok()
                        .and_then(|b| serde_json::from_slice(&b).ok());
                    if moved.map(|m| m.id) != Some(holder.id.clone()) {
                        let _ = std::fs::hard_link(&aside, path);
                    }
                    let _ = std::fs::remove_file(&aside);
                    Ok(Attempt::BrokeStale)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Attempt::BrokeStale),
                Err(e) => Err(io("moving aside", path)(e)),
            }
        }
        Err(e) => Err(io("creating", path)(e)),
    }
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io("creating", &tmp))?;
    f.write_all(bytes).map_err(io("writing", &tmp))?;
    f.sync_all().map_err(io("syncing", &tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io("renaming into", path))?;
    // Make the rename itself durable.
    sync_dir(dir);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[async_trait]
impl Backend for FileBackend {
    async fn load(&self, stack: &str) -> Result<Option<State>, StateError> {
        let path = self.state_path(stack);
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("reading", &path)(e)),
        };
        let mut state = State::from_bytes(&bytes, &path.display().to_string())?;
        let jpath = self.journal_path(stack);
        match tokio::fs::read(&jpath).await {
            Ok(j) => super::journal::replay(&mut state, &j, &jpath.display().to_string())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("reading", &jpath)(e)),
        }
        self.remember(&state.stack, &state.lineage);
        self.saw(stack, true);
        Ok(Some(state))
    }

    async fn save(&self, stack: &str, lineage: &str, bytes: Vec<u8>) -> Result<(), StateError> {
        let path = self.state_path(stack);
        let known = self
            .lineages
            .lock()
            .ok()
            .and_then(|l| l.get(stack).cloned());
        let stored = match known {
            Some(l) => Some(l),
            // First write from this process: check what is there, and refuse to replace
            // anything unreadable or of another lineage.
            None => match tokio::fs::read(&path).await {
                Ok(b) => Some(State::from_bytes(&b, &path.display().to_string())?.lineage),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io("reading", &path)(e)),
            },
        };
        if let Some(theirs) = stored {
            if theirs != lineage {
                return Err(StateError::LineageMismatch {
                    location: path.display().to_string(),
                    ours: lineage.to_owned(),
                    theirs,
                });
            }
        }
        self.fence(stack, &bytes)?;
        let len = bytes.len();
        let dir = self.dir.clone();
        let journal = self.journal_path(stack);
        tokio::task::spawn_blocking(move || {
            write_atomic(&dir, &path, &bytes)?;
            // The snapshot now holds everything the journal had.
            match std::fs::remove_file(&journal) {
                Ok(()) => sync_dir(&dir),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("removing", &journal)(e)),
            }
            Ok(())
        })
        .await
        .map_err(|e| StateError::Io {
            op: "writing",
            path: self.dir.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })??;
        self.remember(stack, lineage);
        self.saw(stack, false);
        self.stats.record(len);
        Ok(())
    }

    async fn append(&self, stack: &str, lineage: &str, entry: Vec<u8>) -> Result<bool, StateError> {
        let known = self
            .lineages
            .lock()
            .ok()
            .and_then(|l| l.get(stack).cloned());
        if known.as_deref() != Some(lineage) {
            // Only after a snapshot of this lineage was loaded or written here.
            return Ok(false);
        }
        if let Err(StateError::StaleWrite { location, .. }) = self.fence(stack, &[]) {
            // The engine keeps its whole state (see `Backend::keep`).
            return Err(StateError::StaleWrite {
                location,
                recovery: String::new(),
            });
        }
        let path = self.journal_path(stack);
        let dir = self.dir.clone();
        let len = entry.len();
        tokio::task::spawn_blocking(move || -> Result<(), StateError> {
            let created = !path.exists();
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io("opening", &path))?;
            f.write_all(&entry).map_err(io("appending to", &path))?;
            f.sync_data().map_err(io("syncing", &path))?;
            if created {
                // The new file's directory entry must be durable too.
                sync_dir(&dir);
            }
            Ok(())
        })
        .await
        .map_err(|e| StateError::Io {
            op: "appending",
            path: self.dir.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })??;
        self.saw(stack, false);
        self.stats.record(len);
        Ok(true)
    }

    fn supports_journal(&self) -> bool {
        true
    }

    fn keep(&self, stack: &str, bytes: &[u8]) -> Option<String> {
        Some(self.keep_locally(stack, bytes))
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
            let (dir, path, name, record) = (
                self.dir.clone(),
                self.lock_path(stack),
                stack.to_owned(),
                info.clone(),
            );
            // Files, fsyncs and links block: off the runtime's threads.
            let attempt =
                tokio::task::spawn_blocking(move || try_lock(&dir, &path, &name, &record))
                    .await
                    .map_err(|e| StateError::Io {
                        op: "locking",
                        path: self.dir.display().to_string(),
                        source: std::io::Error::other(e.to_string()),
                    })??;
            match attempt {
                Attempt::Taken => {
                    if let Ok(mut m) = self.held.lock() {
                        m.insert(stack.to_owned(), info.id.clone());
                    }
                    if let Ok(mut r) = self.released.lock() {
                        r.remove(stack);
                    }
                    // A new run records what it sees at its first load.
                    if let Ok(mut m) = self.seen.lock() {
                        m.remove(stack);
                    }
                    return Ok(info);
                }
                Attempt::BrokeStale => continue,
                Attempt::Held(holder) => {
                    if Instant::now() >= deadline {
                        return Err(StateError::Locked {
                            stack: stack.to_owned(),
                            holder: Box::new(holder),
                        });
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }

    async fn heartbeat(&self, stack: &str, lock: &LockInfo) -> Result<bool, StateError> {
        let (path, id) = (self.lock_path(stack), lock.id.clone());
        // The heartbeat is the lock file's modification time: touching it never rewrites
        // the record, so it cannot overwrite a lock another run took meanwhile.
        tokio::task::spawn_blocking(move || -> Result<bool, StateError> {
            use std::io::Read as _;
            // One handle: the record read is the file touched, even if the lock changes
            // hands in between.
            let mut f = match std::fs::OpenOptions::new()
                .read(true)
                .append(true)
                .open(&path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(io("opening", &path)(e)),
            };
            let mut body = Vec::new();
            f.read_to_end(&mut body).map_err(io("reading", &path))?;
            match serde_json::from_slice::<LockInfo>(&body) {
                Ok(l) if l.id == id => {}
                _ => return Ok(false),
            }
            f.set_modified(std::time::SystemTime::now())
                .map_err(io("touching", &path))?;
            Ok(true)
        })
        .await
        .map_err(|e| StateError::Io {
            op: "touching",
            path: self.dir.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })?
    }

    async fn unlock(&self, stack: &str, lock_id: &str) -> Result<(), StateError> {
        if let Ok(mut m) = self.held.lock() {
            if m.get(stack).is_some_and(|id| id == lock_id) {
                m.remove(stack);
                if let Ok(mut r) = self.released.lock() {
                    r.insert(stack.to_owned());
                }
            }
        }
        let (path, name, id) = (self.lock_path(stack), stack.to_owned(), lock_id.to_owned());
        tokio::task::spawn_blocking(move || unlock_file(&path, &name, &id))
            .await
            .map_err(|e| StateError::Io {
                op: "unlocking",
                path: self.dir.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?
    }

    async fn current_lock(&self, stack: &str) -> Result<Option<LockInfo>, StateError> {
        self.read_lock(stack)
    }

    fn write_stats(&self) -> (u64, u64) {
        self.stats.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lineage_mismatch_is_refused_and_nothing_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBackend::new(dir.path());
        let a = State::new("dev");
        b.save("dev", &a.lineage, a.to_bytes().unwrap())
            .await
            .unwrap();
        let before = std::fs::read(b.state_path("dev")).unwrap();
        let other = State::new("dev");
        let err = b
            .save("dev", &other.lineage, other.to_bytes().unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, StateError::LineageMismatch { .. }), "{err}");
        // A fresh process (no remembered lineage) refuses too.
        let b2 = FileBackend::new(dir.path());
        assert!(b2
            .save("dev", &other.lineage, other.to_bytes().unwrap())
            .await
            .is_err());
        assert_eq!(std::fs::read(b.state_path("dev")).unwrap(), before);
    }

    #[tokio::test]
    async fn corrupt_state_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBackend::new(dir.path());
        std::fs::write(b.state_path("dev"), b"{not json").unwrap();
        assert!(b.load("dev").await.is_err());
        let s = State::new("dev");
        assert!(b
            .save("dev", &s.lineage, s.to_bytes().unwrap())
            .await
            .is_err());
        assert_eq!(std::fs::read(b.state_path("dev")).unwrap(), b"{not json");
    }

    #[tokio::test]
    async fn held_lock_names_the_holder_and_unlock_needs_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBackend::new(dir.path());
        let held = b.lock("dev", "up", Duration::ZERO).await.unwrap();
        let err = b
            .lock("dev", "destroy", Duration::from_millis(300))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&held.id) && msg.contains("`up`"), "{msg}");
        assert!(msg.contains("state unlock"), "{msg}");
        assert!(b.unlock("dev", "wrong").await.is_err());
        b.unlock("dev", &held.id).await.unwrap();
        assert!(b.current_lock("dev").await.unwrap().is_none());
        b.lock("dev", "up", Duration::ZERO).await.unwrap();
    }

    #[tokio::test]
    async fn an_unreadable_lock_file_can_be_released() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBackend::new(dir.path());
        std::fs::write(b.lock_path("dev"), b"").unwrap();
        let err = b.lock("dev", "up", Duration::ZERO).await.unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
        b.unlock("dev", "anything").await.unwrap();
        b.lock("dev", "up", Duration::ZERO).await.unwrap();
    }

    #[tokio::test]
    async fn a_lock_of_a_dead_process_on_this_host_is_broken() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBackend::new(dir.path());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = child.id();
        child.wait().unwrap();
        let stale = LockInfo {
            pid: dead_pid,
            ..LockInfo::new("up")
        };
        std::fs::write(b.lock_path("dev"), serde_json::to_vec(&stale).unwrap()).unwrap();
        let got = b.lock("dev", "up", Duration::ZERO).await.unwrap();
        assert_ne!(got.id, stale.id);
        // A live holder (this process's parent, say) is respected.
        let live = LockInfo {
            pid: 1,
            ..LockInfo::new("up")
        };
        std::fs::write(b.lock_path("dev"), serde_json::to_vec(&live).unwrap()).unwrap();
        assert!(b.lock("dev", "up", Duration::ZERO).await.is_err());
    }

    #[tokio::test]
    async fn the_heartbeat_touches_the_lock_file_only_while_it_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBackend::new(dir.path());
        let held = b.lock("dev", "up", Duration::ZERO).await.unwrap();
        let old = std::time::SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .append(true)
            .open(b.lock_path("dev"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let stale = b.current_lock("dev").await.unwrap().unwrap();
        assert!(stale.looks_abandoned(), "{stale}");
        assert!(b.heartbeat("dev", &held).await.unwrap());
        let fresh = b.current_lock("dev").await.unwrap().unwrap();
        assert!(!fresh.looks_abandoned(), "{fresh}");
        assert!(fresh.to_string().contains("looks alive"), "{fresh}");
        b.unlock("dev", &held.id).await.unwrap();
        let theirs = b.lock("dev", "destroy", Duration::ZERO).await.unwrap();
        assert!(!b.heartbeat("dev", &held).await.unwrap());
        assert_eq!(b.current_lock("dev").await.unwrap().unwrap().id, theirs.id);
    }
}
