//! The S3 backend: `s3://BUCKET/PREFIX`, state object `PREFIX/STACK.json`.
//!
//! - Writes are conditional on the ETag this process last read or wrote (`If-Match`), or
//!   on there being no object (`If-None-Match: *`), so a writer whose lock was broken can
//!   never overwrite a newer state: it stops with [`StateError::StaleWrite`] and keeps its
//!   state in a local recovery file (`.strata/recovery/`).
//! - Locks: by default an item in a DynamoDB table (`?lock_table=NAME`, default
//!   `strata-locks`), put with `attribute_not_exists(LockID)` and deleted only on a
//!   matching lock id (Terraform deletes unconditionally); or (`?lock=s3`) a lock object
//!   `PREFIX/STACK.lock` written with `If-None-Match: *`.
//! - [`S3Backend::bootstrap`] creates the bucket (versioned, encrypted, public access
//!   blocked) and the table (pay per request, key `LockID`); running it twice is harmless.
//!
//! - Checkpoints are journal entries, one small object each, next to the snapshot:
//!   `PREFIX/STACK.journal/BASE-SERIAL.json`, where BASE is the serial of the snapshot the
//!   entry follows. An entry is written with `If-None-Match: *`, so two writers can never
//!   both write one serial on one snapshot; after it, a `HEAD` of the snapshot conditional
//!   on its ETag proves nobody replaced the snapshot meanwhile (a writer that finds it
//!   replaced removes its entry and stops). A load replays the entries of its snapshot's
//!   BASE in order, so entries of a stale writer on an older snapshot are never replayed.
//!   A snapshot (a compaction) first lists the journal and refuses if it holds an entry on
//!   its base that this process did not write or load, then deletes the entries it covers.
//!   An apply of N resources so writes O(N) bytes to S3, as on the file backend.
//!   (S3 has no multi-object condition: a stale writer could still slip an entry into the
//!   milliseconds between another writer's listing and its snapshot write. Locks make that
//!   a second failure on top of a force-released lock.)

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};

use super::{Backend, LockInfo, LockRequest, State, StateError, WriteStats};

/// How an S3 backend locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockKind {
    /// An item in this DynamoDB table.
    DynamoDb(String),
    /// A lock object next to the state object.
    S3Object,
}

/// What this process knows of a stack's journal.
#[derive(Debug, Default)]
struct Journal {
    /// The serial of the snapshot the entries follow.
    base: u64,
    /// The entries above it that this process loaded or wrote.
    ours: BTreeSet<u64>,
}

/// State in S3.
#[derive(Debug)]
pub struct S3Backend {
    s3: aws_sdk_s3::Client,
    ddb: aws_sdk_dynamodb::Client,
    bucket: String,
    prefix: String,
    lock: LockKind,
    region: Option<String>,
    /// Per stack: the ETag last read or written (`None`: no object).
    etags: Mutex<HashMap<String, Option<String>>>,
    lineages: Mutex<HashMap<String, String>>,
    /// Per stack: the serials of the journal entries this process loaded or wrote above
    /// the current snapshot.
    journals: Mutex<HashMap<String, Journal>>,
    recovery_dir: PathBuf,
    stats: WriteStats,
}

fn aws_err<E: ProvideErrorMetadata + std::fmt::Debug>(
    operation: &'static str,
    location: String,
) -> impl FnOnce(E) -> StateError {
    move |e| StateError::Aws {
        operation,
        location,
        message: e
            .message()
            .map(str::to_owned)
            .or_else(|| e.code().map(str::to_owned))
            .unwrap_or_else(|| format!("{e:?}")),
    }
}

/// The bucket, prefix and lock of `s3://BUCKET/PREFIX[?lock_table=NAME|?lock=s3]`. An
/// option given twice, or options that contradict each other (`lock=s3` with a
/// `lock_table`), are refused rather than one silently winning.
fn parse_url(url: &str) -> Result<(&str, &str, LockKind), StateError> {
    let bad = |reason: &str| StateError::BadBackendUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| StateError::UnsupportedBackend(url.to_owned()))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
    if bucket.is_empty() {
        return Err(bad("it names no bucket (s3://BUCKET/PREFIX)"));
    }
    let (mut table, mut kind) = (None, None);
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        match kv.split_once('=') {
            Some(("lock_table", t)) if !t.is_empty() => {
                if table.replace(t).is_some() {
                    return Err(bad("lock_table is given twice"));
                }
            }
            Some(("lock", k @ ("s3" | "dynamodb"))) => {
                if kind.replace(k).is_some() {
                    return Err(bad("lock is given twice"));
                }
            }
            _ => {
                return Err(bad(&format!(
                    "{kv:?} is not an option (lock_table=NAME, lock=s3 or lock=dynamodb)"
                )))
            }
        }
    }
    let lock = match (kind, table) {
        (Some("s3"), Some(_)) => return Err(bad(
            "lock=s3 locks with an S3 object, and lock_table names a DynamoDB table: choose one",
        )),
        (Some("s3"), None) => LockKind::S3Object,
        (_, Some(t)) => LockKind::DynamoDb(t.to_owned()),
        (_, None) => LockKind::DynamoDb("strata-locks".to_owned()),
    };
    Ok((bucket, prefix, lock))
}

impl S3Backend {
    /// A backend from `s3://BUCKET/PREFIX[?lock_table=NAME|?lock=s3]` and an SDK config.
    /// With a custom endpoint (a local emulator), S3 is addressed path-style.
    pub fn from_url(url: &str, conf: &aws_config::SdkConfig) -> Result<Self, StateError> {
        let (bucket, prefix, lock) = parse_url(url)?;
        let s3conf = aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(conf.endpoint_url().is_some())
            .build();
        Ok(S3Backend {
            s3: aws_sdk_s3::Client::from_conf(s3conf),
            ddb: aws_sdk_dynamodb::Client::new(conf),
            bucket: bucket.to_owned(),
            prefix: prefix.trim_end_matches('/').to_owned(),
            lock,
            region: conf.region().map(ToString::to_string),
            etags: Mutex::new(HashMap::new()),
            lineages: Mutex::new(HashMap::new()),
            journals: Mutex::new(HashMap::new()),
            recovery_dir: PathBuf::from(".strata/recovery"),
            stats: WriteStats::default(),
        })
    }

    /// A backend from its URL, with the AWS configuration of the environment
    /// (`AWS_ENDPOINT_URL` included).
    pub async fn open(url: &str) -> Result<Self, StateError> {
        let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::from_url(url, &conf)
    }

    /// Where refused writes are kept (default `.strata/recovery`).
    pub fn with_recovery_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.recovery_dir = dir.into();
        self
    }

    fn key(&self, stack: &str, ext: &str) -> String {
        if self.prefix.is_empty() {
            format!("{stack}.{ext}")
        } else {
            format!("{}/{stack}.{ext}", self.prefix)
        }
    }

    fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn lock_id(&self, stack: &str) -> String {
        format!("{}/{}", self.bucket, self.key(stack, "json"))
    }

    fn journal_key(&self, stack: &str, base: u64, serial: u64) -> String {
        format!(
            "{}/{base:020}-{serial:020}.json",
            self.key(stack, "journal")
        )
    }

    /// The journal's entries as (base, serial, key), in order.
    async fn journal_keys(&self, stack: &str) -> Result<Vec<(u64, u64, String)>, StateError> {
        let prefix = format!("{}/", self.key(stack, "journal"));
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(aws_err("s3:ListObjectsV2", self.location(&prefix)))?;
            for o in out.contents() {
                let Some(key) = o.key() else { continue };
                let parsed = key
                    .strip_prefix(&prefix)
                    .and_then(|k| k.strip_suffix(".json"))
                    .and_then(|k| k.split_once('-'))
                    .and_then(|(b, n)| Some((b.parse::<u64>().ok()?, n.parse::<u64>().ok()?)));
                match parsed {
                    Some((b, n)) => keys.push((b, n, key.to_owned())),
                    None => tracing::warn!(key, "ignoring an object that is not a journal entry"),
                }
            }
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// The journal entries on the snapshot of serial `base`, concatenated in order, and
    /// their serials.
    async fn read_journal(
        &self,
        stack: &str,
        base: u64,
    ) -> Result<(Vec<u8>, BTreeSet<u64>), StateError> {
        let keys: Vec<(u64, String)> = self
            .journal_keys(stack)
            .await?
            .into_iter()
            .filter(|(b, n, _)| *b == base && *n > base)
            .map(|(_, n, k)| (n, k))
            .collect();
        let mut bodies: Vec<Option<Vec<u8>>> = vec![None; keys.len()];
        // A few reads in flight at once: after a crash the journal can hold many entries.
        for (chunk_no, chunk) in keys.chunks(16).enumerate() {
            let mut set = tokio::task::JoinSet::new();
            for (k, (_, key)) in chunk.iter().enumerate() {
                let (s3, bucket, key) = (self.s3.clone(), self.bucket.clone(), key.clone());
                set.spawn(async move {
                    let r = get_object(&s3, &bucket, &key).await;
                    (chunk_no * 16 + k, r)
                });
            }
            while let Some(joined) = set.join_next().await {
                let (k, r) = joined.map_err(|e| StateError::Aws {
                    operation: "s3:GetObject",
                    location: self.location(&self.key(stack, "journal")),
                    message: e.to_string(),
                })?;
                bodies[k] = r?.map(|(b, _)| b);
            }
        }
        let mut all = Vec::new();
        let mut serials = BTreeSet::new();
        for ((n, _), body) in keys.iter().zip(bodies) {
            // An entry deleted between the listing and the read was compacted meanwhile:
            // replay then refuses the gap in serials, and the load is simply retried.
            if let Some(mut b) = body {
                if b.last() != Some(&b'\n') {
                    b.push(b'\n');
                }
                all.extend_from_slice(&b);
                serials.insert(*n);
            }
        }
        Ok((all, serials))
    }

    fn remember_journal(&self, stack: &str, base: u64, ours: BTreeSet<u64>) {
        if let Ok(mut m) = self.journals.lock() {
            m.insert(stack.to_owned(), Journal { base, ours });
        }
    }

    fn seen_etag(&self, stack: &str) -> Option<String> {
        self.etags
            .lock()
            .ok()
            .and_then(|m| m.get(stack).cloned())
            .flatten()
    }

    /// Deletes journal entries (after a snapshot that covers them).
    async fn delete_keys(&self, keys: &[String]) -> Result<(), StateError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>();
            let delete = objects
                .and_then(|o| Delete::builder().set_objects(Some(o)).quiet(true).build())
                .map_err(|e| StateError::Aws {
                    operation: "s3:DeleteObjects",
                    location: self.location(&chunk[0]),
                    message: e.to_string(),
                })?;
            self.s3
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(aws_err("s3:DeleteObjects", self.location(&chunk[0])))?;
        }
        Ok(())
    }

    /// Creates the bucket (versioned, encrypted with SSE-S3, public access blocked) and,
    /// for DynamoDB locking, the lock table (pay per request, key `LockID`). Harmless to
    /// run again.
    pub async fn bootstrap(&self) -> Result<(), StateError> {
        let loc = format!("s3://{}", self.bucket);
        let mut create = self.s3.create_bucket().bucket(&self.bucket);
        if let Some(r) = self.region.as_deref().filter(|r| *r != "us-east-1") {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(r))
                    .build(),
            );
        }
        if let Err(e) = create.send().await {
            let owned = e
                .as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you());
            if !owned {
                return Err(aws_err("s3:CreateBucket", loc.clone())(e));
            }
        }
        self.s3
            .put_bucket_versioning()
            .bucket(&self.bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(aws_err("s3:PutBucketVersioning", loc.clone()))?;
        let sse = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()
            .map_err(|e| StateError::Aws {
                operation: "s3:PutBucketEncryption",
                location: loc.clone(),
                message: e.to_string(),
            })?;
        let enc = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(sse)
                    .build(),
            )
            .build()
            .map_err(|e| StateError::Aws {
                operation: "s3:PutBucketEncryption",
                location: loc.clone(),
                message: e.to_string(),
            })?;
        self.s3
            .put_bucket_encryption()
            .bucket(&self.bucket)
            .server_side_encryption_configuration(enc)
            .send()
            .await
            .map_err(aws_err("s3:PutBucketEncryption", loc.clone()))?;
        self.s3
            .put_public_access_block()
            .bucket(&self.bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(aws_err("s3:PutPublicAccessBlock", loc))?;
        if let LockKind::DynamoDb(table) = &self.lock {
            let schema_err = |e: aws_sdk_dynamodb::error::BuildError| StateError::Aws {
                operation: "dynamodb:CreateTable",
                location: table.clone(),
                message: e.to_string(),
            };
            let r = self
                .ddb
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("LockID")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(schema_err)?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("LockID")
                        .key_type(KeyType::Hash)
                        .build()
                        .map_err(schema_err)?,
                )
                .send()
                .await;
            if let Err(e) = r {
                let exists = e
                    .as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception());
                if !exists {
                    return Err(aws_err("dynamodb:CreateTable", table.clone())(e));
                }
            }
        }
        Ok(())
    }

    fn keep_locally(&self, stack: &str, bytes: &[u8]) -> String {
        let path = self
            .recovery_dir
            .join(format!("{stack}-{}.json", uuid::Uuid::new_v4().simple()));
        let _ = std::fs::create_dir_all(&self.recovery_dir);
        match std::fs::write(&path, bytes) {
            Ok(()) => path.display().to_string(),
            Err(e) => format!("(nowhere: writing {} failed: {e})", path.display()),
        }
    }

    /// The object's bytes and ETag, or `None` if there is no such object.
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Option<String>)>, StateError> {
        get_object(&self.s3, &self.bucket, key).await
    }

    async fn read_lock_item(&self, stack: &str) -> Result<Option<LockInfo>, StateError> {
        match &self.lock {
            LockKind::DynamoDb(table) => {
                let out = self
                    .ddb
                    .get_item()
                    .table_name(table)
                    .key("LockID", AttributeValue::S(self.lock_id(stack)))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(aws_err("dynamodb:GetItem", table.clone()))?;
                let Some(item) = out.item() else {
                    return Ok(None);
                };
                item.get("Info")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|s| serde_json::from_str(s).ok())
                    .map(Some)
                    .ok_or_else(|| StateError::Corrupt {
                        location: format!("{table}/{}", self.lock_id(stack)),
                        message: "the lock item has no readable Info (release it with `state unlock <any id>`)".to_owned(),
                    })
            }
            LockKind::S3Object => {
                let key = self.key(stack, "lock");
                match self.get(&key).await? {
                    None => Ok(None),
                    Some((body, _)) => {
                        serde_json::from_slice(&body)
                            .map(Some)
                            .map_err(|e| StateError::Corrupt {
                                location: self.location(&key),
                                message: format!("{e} (release it with `state unlock <any id>`)"),
                            })
                    }
                }
            }
        }
    }

    /// Writes the lock item of `stack` holding `info` (serialized as `body`): a new lock
    /// where there is none (`held_by: None`), or a rewrite of the lock `held_by` holds.
    /// `Ok(false)` if the condition fails.
    async fn put_lock_item(
        &self,
        table: &str,
        stack: &str,
        info: &LockInfo,
        body: String,
        held_by: Option<&str>,
    ) -> Result<bool, StateError> {
        let put = self
            .ddb
            .put_item()
            .table_name(table)
            .item("LockID", AttributeValue::S(self.lock_id(stack)))
            .item("LockId", AttributeValue::S(info.id.clone()))
            .item("Info", AttributeValue::S(body));
        let put = match held_by {
            None => put.condition_expression("attribute_not_exists(LockID)"),
            Some(id) => put
                .condition_expression("LockId = :id")
                .expression_attribute_values(":id", AttributeValue::S(id.to_owned())),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(aws_err("dynamodb:PutItem", table.to_owned())(e)),
        }
    }

    /// Tries once to take the lock: `Ok(true)` if taken, `Ok(false)` if held.
    async fn try_lock(&self, stack: &str, info: &LockInfo) -> Result<bool, StateError> {
        let body = serde_json::to_string(info).map_err(StateError::Encode)?;
        match &self.lock {
            LockKind::DynamoDb(table) => self.put_lock_item(table, stack, info, body, None).await,
            LockKind::S3Object => {
                let key = self.key(stack, "lock");
                let r = self
                    .s3
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .if_none_match("*")
                    .body(ByteStream::from(body.into_bytes()))
                    .send()
                    .await;
                match r {
                    Ok(_) => Ok(true),
                    Err(e) if precondition_failed(&e) => Ok(false),
                    Err(e) => Err(aws_err("s3:PutObject", self.location(&key))(e)),
                }
            }
        }
    }
}

/// The object's bytes and ETag, or `None` if there is no such object.
async fn get_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<(Vec<u8>, Option<String>)>, StateError> {
    let location = format!("s3://{bucket}/{key}");
    let out = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => o,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(aws_err("s3:GetObject", location)(e)),
    };
    let etag = out.e_tag().map(str::to_owned);
    let body = out.body.collect().await.map_err(|e| StateError::Aws {
        operation: "s3:GetObject",
        location,
        message: e.to_string(),
    })?;
    Ok(Some((body.into_bytes().to_vec(), etag)))
}

/// The serial of a snapshot (`{"state":{"serial":N,…},…}`) or a journal entry
/// (`{"serial":N,…}`), read from its bytes.
fn serial_of(bytes: &[u8], location: &str) -> Result<u64, StateError> {
    #[derive(serde::Deserialize)]
    struct Inner {
        serial: u64,
    }
    #[derive(serde::Deserialize)]
    struct Head {
        serial: Option<u64>,
        state: Option<Inner>,
    }
    let corrupt = |message: String| StateError::Corrupt {
        location: location.to_owned(),
        message,
    };
    let h: Head = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    h.serial
        .or(h.state.map(|s| s.serial))
        .ok_or_else(|| corrupt("no serial".to_owned()))
}

fn precondition_failed<E: ProvideErrorMetadata, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> bool
where
    R: std::fmt::Debug,
{
    match e {
        aws_sdk_s3::error::SdkError::ServiceError(s) => {
            matches!(
                s.err().code(),
                Some("PreconditionFailed" | "ConditionalRequestConflict")
            )
        }
        _ => false,
    }
}

#[async_trait]
impl Backend for S3Backend {
    async fn load(&self, stack: &str) -> Result<Option<State>, StateError> {
        let key = self.key(stack, "json");
        let location = self.location(&key);
        let Some((body, etag)) = self.get(&key).await? else {
            if let Ok(mut m) = self.etags.lock() {
                m.insert(stack.to_owned(), None);
            }
            return Ok(None);
        };
        let mut state = State::from_bytes(&body, &location)?;
        let base = state.serial;
        let (journal, ours) = self.read_journal(stack, base).await?;
        if !journal.is_empty() {
            let jloc = self.location(&self.key(stack, "journal"));
            super::journal::replay(&mut state, &journal, &jloc)?;
        }
        self.remember_journal(stack, base, ours);
        if let Ok(mut m) = self.etags.lock() {
            m.insert(stack.to_owned(), etag);
        }
        if let Ok(mut m) = self.lineages.lock() {
            m.insert(stack.to_owned(), state.lineage.clone());
        }
        Ok(Some(state))
    }

    async fn save(&self, stack: &str, lineage: &str, bytes: Vec<u8>) -> Result<(), StateError> {
        let key = self.key(stack, "json");
        let location = self.location(&key);
        if let Some(theirs) = self
            .lineages
            .lock()
            .ok()
            .and_then(|m| m.get(stack).cloned())
        {
            if theirs != lineage {
                return Err(StateError::LineageMismatch {
                    location,
                    ours: lineage.to_owned(),
                    theirs,
                });
            }
        }
        // What we last saw: an ETag, no object, or (never loaded here) nothing known, in
        // which case only a new object may be written.
        let seen = self.seen_etag(stack);
        // Entries somebody else wrote above our snapshot would be lost under this one.
        let journal = self.journal_keys(stack).await?;
        let foreign = self.journals.lock().ok().and_then(|m| {
            let known = m.get(stack);
            journal
                .iter()
                // Never loaded here: the write is conditional on there being no snapshot,
                // and entries without one are leftovers.
                .find(|(b, n, _)| known.is_some_and(|j| *b == j.base && !j.ours.contains(n)))
                .map(|(_, n, _)| *n)
        });
        if let Some(n) = foreign {
            tracing::warn!(
                stack,
                serial = n,
                "the journal holds an entry of another writer"
            );
            return Err(StateError::StaleWrite {
                location,
                recovery: self.keep_locally(stack, &bytes),
            });
        }
        let serial = serial_of(&bytes, &location)?;
        let len = bytes.len();
        let mut put = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(bytes.clone()));
        put = match &seen {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(out) => {
                if let Ok(mut m) = self.etags.lock() {
                    m.insert(stack.to_owned(), out.e_tag().map(str::to_owned));
                }
                if let Ok(mut m) = self.lineages.lock() {
                    m.insert(stack.to_owned(), lineage.to_owned());
                }
                self.stats.record(len);
                self.remember_journal(stack, serial, BTreeSet::new());
                // The snapshot holds everything the journal had.
                let keys: Vec<String> = journal.into_iter().map(|(_, _, k)| k).collect();
                self.delete_keys(&keys).await
            }
            Err(e) if precondition_failed(&e) => {
                // The SDK may have retried a write whose first attempt landed: then the
                // object is ours.
                if let Some((stored, etag)) = self.get(&key).await? {
                    if stored == bytes {
                        if let Ok(mut m) = self.etags.lock() {
                            m.insert(stack.to_owned(), etag);
                        }
                        self.stats.record(len);
                        return Ok(());
                    }
                }
                Err(StateError::StaleWrite {
                    location,
                    recovery: self.keep_locally(stack, &bytes),
                })
            }
            Err(e) => Err(aws_err("s3:PutObject", location)(e)),
        }
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
            if self.try_lock(stack, &info).await? {
                return Ok(info);
            }
            // A retried put whose first attempt landed reads as "held" by ourselves.
            let holder = self.read_lock_item(stack).await?;
            if holder.as_ref().is_some_and(|h| h.id == info.id) {
                return Ok(info);
            }
            if Instant::now() >= deadline {
                let holder = self
                    .read_lock_item(stack)
                    .await?
                    .unwrap_or_else(|| LockInfo {
                        id: "(released meanwhile; try again)".to_owned(),
                        ..LockInfo::new("unknown")
                    });
                return Err(StateError::Locked {
                    stack: stack.to_owned(),
                    holder: Box::new(holder),
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn unlock(&self, stack: &str, lock_id: &str) -> Result<(), StateError> {
        let mismatch = |current: Option<LockInfo>| StateError::LockMismatch {
            stack: stack.to_owned(),
            given: lock_id.to_owned(),
            current: current.map_or_else(|| "none: the stack is not locked".to_owned(), |l| l.id),
        };
        match &self.lock {
            LockKind::DynamoDb(table) => {
                let r = self
                    .ddb
                    .delete_item()
                    .table_name(table)
                    .key("LockID", AttributeValue::S(self.lock_id(stack)))
                    .condition_expression("LockId = :id")
                    .expression_attribute_values(":id", AttributeValue::S(lock_id.to_owned()))
                    .send()
                    .await;
                match r {
                    Ok(_) => Ok(()),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                    {
                        match self.read_lock_item(stack).await {
                            // An unreadable lock item can only be cleared by hand: any id.
                            Err(StateError::Corrupt { .. }) => {
                                tracing::warn!(table, "removing an unreadable lock item");
                                self.ddb
                                    .delete_item()
                                    .table_name(table)
                                    .key("LockID", AttributeValue::S(self.lock_id(stack)))
                                    .send()
                                    .await
                                    .map_err(aws_err("dynamodb:DeleteItem", table.clone()))?;
                                Ok(())
                            }
                            Ok(current) => Err(mismatch(current)),
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(aws_err("dynamodb:DeleteItem", table.clone())(e)),
                }
            }
            LockKind::S3Object => {
                let key = self.key(stack, "lock");
                // A heartbeat rewrite landing between the read and the delete changes the
                // ETag: read again, a few times, while the lock is still ours.
                for _ in 0..4 {
                    let Some((body, etag)) = self.get(&key).await? else {
                        return Err(mismatch(None));
                    };
                    match serde_json::from_slice::<LockInfo>(&body) {
                        Ok(l) if l.id == lock_id => {}
                        Ok(l) => return Err(mismatch(Some(l))),
                        // An unreadable lock object can only be cleared by hand: any id.
                        Err(_) => tracing::warn!(key, "removing an unreadable lock object"),
                    }
                    // Only the object we read: not a lock someone took since.
                    let mut delete = self.s3.delete_object().bucket(&self.bucket).key(&key);
                    if let Some(etag) = etag {
                        delete = delete.if_match(etag);
                    }
                    match delete.send().await {
                        Ok(_) => return Ok(()),
                        Err(e) if precondition_failed(&e) => continue,
                        Err(e) => return Err(aws_err("s3:DeleteObject", self.location(&key))(e)),
                    }
                }
                Err(mismatch(self.read_lock_item(stack).await?))
            }
        }
    }

    async fn heartbeat(&self, stack: &str, lock: &LockInfo) -> Result<bool, StateError> {
        let beat = LockInfo {
            heartbeat: Some(super::now_rfc3339()),
            ..lock.clone()
        };
        let body = serde_json::to_string(&beat).map_err(StateError::Encode)?;
        match &self.lock {
            // Only while the item is still this run's lock.
            LockKind::DynamoDb(table) => {
                self.put_lock_item(table, stack, lock, body, Some(&lock.id))
                    .await
            }
            LockKind::S3Object => {
                let key = self.key(stack, "lock");
                let Some((current, etag)) = self.get(&key).await? else {
                    return Ok(false);
                };
                match serde_json::from_slice::<LockInfo>(&current) {
                    Ok(l) if l.id == lock.id => {}
                    _ => return Ok(false),
                }
                // Only over the object just read: never over a lock another run took since
                // (without an ETag to condition on, no write at all).
                let Some(etag) = etag else {
                    return Ok(false);
                };
                let put = self
                    .s3
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .if_match(etag)
                    .body(ByteStream::from(body.into_bytes()));
                match put.send().await {
                    Ok(_) => Ok(true),
                    Err(e) if precondition_failed(&e) => Ok(false),
                    Err(e) => Err(aws_err("s3:PutObject", self.location(&key))(e)),
                }
            }
        }
    }

    async fn current_lock(&self, stack: &str) -> Result<Option<LockInfo>, StateError> {
        self.read_lock_item(stack).await
    }

    async fn append(&self, stack: &str, lineage: &str, entry: Vec<u8>) -> Result<bool, StateError> {
        let known = self
            .lineages
            .lock()
            .ok()
            .and_then(|l| l.get(stack).cloned());
        let seen = self.seen_etag(stack);
        let (Some(etag), true) = (seen, known.as_deref() == Some(lineage)) else {
            // Only after a snapshot of this lineage was loaded or written here.
            return Ok(false);
        };
        let snapshot = self.key(stack, "json");
        let location = self.location(&snapshot);
        let serial = serial_of(&entry, &location)?;
        let base = self
            .journals
            .lock()
            .ok()
            .and_then(|m| m.get(stack).map(|j| j.base))
            .unwrap_or_default();
        let key = self.journal_key(stack, base, serial);
        let len = entry.len();
        let put = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(entry.clone()))
            .send()
            .await;
        let mut entry_etag = None;
        match put {
            Ok(out) => entry_etag = out.e_tag().map(str::to_owned),
            Err(e) if precondition_failed(&e) => {
                // A retried write whose first attempt landed is ours; anything else at
                // this serial was written by another run.
                let ours = self.get(&key).await?.is_some_and(|(b, _)| b == entry);
                if !ours {
                    return Err(StateError::StaleWrite {
                        location: self.location(&key),
                        recovery: String::new(),
                    });
                }
            }
            Err(e) => return Err(aws_err("s3:PutObject", self.location(&key))(e)),
        }
        self.stats.record(len);
        if let Ok(mut m) = self.journals.lock() {
            m.entry(stack.to_owned()).or_default().ours.insert(serial);
        }
        // The entry counts only on top of the snapshot we know.
        let head = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(&snapshot)
            .if_match(&etag)
            .send()
            .await;
        match head {
            Ok(_) => Ok(true),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => {
                // Our entry follows a snapshot that is gone: take it back (it would never
                // be replayed, but it need not linger either).
                let mut delete = self.s3.delete_object().bucket(&self.bucket).key(&key);
                if let Some(t) = entry_etag {
                    delete = delete.if_match(t);
                }
                if let Err(e) = delete.send().await {
                    tracing::warn!(key, error = ?e, "could not remove a refused journal entry");
                }
                Err(StateError::StaleWrite {
                    location,
                    recovery: String::new(),
                })
            }
            Err(e) => Err(aws_err("s3:HeadObject", location)(e)),
        }
    }

    fn supports_journal(&self) -> bool {
        true
    }

    fn keep(&self, stack: &str, bytes: &[u8]) -> Option<String> {
        Some(self.keep_locally(stack, bytes))
    }

    fn write_stats(&self) -> (u64, u64) {
        self.stats.get()
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn ambiguous_or_incomplete_urls_are_refused() {
        for (url, why) in [
            ("s3://b?lock=s3&lock_table=t", "choose one"),
            (
                "s3://b?lock_table=a&lock_table=b",
                "lock_table is given twice",
            ),
            ("s3://b?lock=s3&lock=dynamodb", "lock is given twice"),
            ("s3://?lock=s3", "names no bucket"),
            ("s3://b?lock=redis", "is not an option"),
        ] {
            let err = parse_url(url)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(why), "{url}: {err}");
        }
        assert!(matches!(
            parse_url("s3://b/team?lock=s3"),
            Ok(("b", "team", LockKind::S3Object))
        ));
        assert!(matches!(
            parse_url("s3://b?lock_table=t&lock=dynamodb"),
            Ok(("b", "", LockKind::DynamoDb(t))) if t == "t"
        ));
    }
}
