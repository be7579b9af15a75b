//! Encryption of secrets at rest in state.
//!
//! Every [`crate::Secret`] value is stored in state as `{"$strata:sealed": "…"}`: its JSON
//! encrypted with ChaCha20-Poly1305 under the state's data key, each value with its own
//! random nonce. The data key comes from a [`KeySource`], recorded in the state's
//! `encryption` field:
//!
//! - [`Passphrase`] (`kind: passphrase`, the file backend's default): the key is derived
//!   from `STRATA_PASSPHRASE` with Argon2id and a random per-state salt, recorded with a
//!   check value that tells a wrong passphrase from corrupt data.
//! - [`KmsKeys`] (`kind: awskms`, the S3 backend's default; feature `aws`): envelope
//!   encryption. One random data key per stack from KMS `GenerateDataKey`, stored only in
//!   its encrypted form (`data_key`) and opened with `Decrypt`, both under the encryption
//!   context `strata:stack = STACK`, so a data key cannot be replayed into another stack.
//!
//! A state is always opened with the kind it records; a new state gets the engine's first
//! key source. In memory, values are plaintext secrets, redacted everywhere they are shown.
//!
//! A state with sealed values can be read without its key (they stay sealed and show as
//! `[secret]`). A preview without the key cannot compare a sealed value with the declared
//! one, so it does not count it as a change: the plan says how many secret values it
//! could not compare ([`crate::plan::Plan::secrets_not_compared`]), and a changed secret
//! shows once the key is given. (Nothing derived from a secret, not even a hash, is kept
//! in state: a slow salted hash would still let a reader of the state test guesses, and
//! small secrets, a PIN or a flag, would fall at once.) It cannot be changed: `up`, `destroy`, `refresh` and `import` ask for it. A
//! secret is never written in plaintext: without a key source, a checkpoint that would
//! hold one fails and names the variable to set.

use async_trait::async_trait;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::value::{is_secret, SECRET_KEY};

/// The JSON key of a sealed (encrypted) secret in state.
pub const SEALED_KEY: &str = "$strata:sealed";
const CHECK: &[u8] = b"strata-passphrase-check";

/// How a state's secrets are encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// `passphrase` or `awskms`.
    pub kind: String,
    /// `passphrase`: the KDF salt, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// `passphrase`: a known value sealed with the key: opening it proves the passphrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// `awskms`: the KMS key (its ARN) that encrypted the data key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `awskms`: the data key, encrypted by KMS, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_key: Option<String>,
}

impl Encryption {
    /// What identifies this key (to cache opened keys).
    pub fn fingerprint(&self) -> String {
        format!(
            "{}:{}",
            self.kind,
            self.salt
                .as_deref()
                .or(self.data_key.as_deref())
                .unwrap_or_default()
        )
    }
}

/// Where a state's data key comes from.
#[async_trait]
pub trait KeySource: Send + Sync + std::fmt::Debug {
    /// The `kind` recorded in [`Encryption`].
    fn kind(&self) -> &'static str;
    /// A new key for `stack`'s state, and the record to store with it.
    async fn create(&self, stack: &str) -> Result<(Crypter, Encryption), SecretsError>;
    /// The key of `stack`'s state recorded as `enc`.
    async fn open(&self, stack: &str, enc: &Encryption) -> Result<Crypter, SecretsError>;
}

/// Keys derived from a passphrase (`STRATA_PASSPHRASE`).
pub struct Passphrase(String);

impl Passphrase {
    /// A key source for `passphrase`.
    pub fn new(passphrase: impl Into<String>) -> Self {
        Passphrase(passphrase.into())
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase([secret])")
    }
}

#[async_trait]
impl KeySource for Passphrase {
    fn kind(&self) -> &'static str {
        "passphrase"
    }
    // The key derivation is deliberately slow (tens of milliseconds): it runs on a
    // blocking thread, never on the runtime's.
    async fn create(&self, _stack: &str) -> Result<(Crypter, Encryption), SecretsError> {
        let p = self.0.clone();
        tokio::task::spawn_blocking(move || Crypter::create(&p))
            .await
            .map_err(|e| SecretsError::Crypto(e.to_string()))?
    }
    async fn open(&self, _stack: &str, enc: &Encryption) -> Result<Crypter, SecretsError> {
        let (p, enc) = (self.0.clone(), enc.clone());
        tokio::task::spawn_blocking(move || Crypter::open_with(&p, &enc))
            .await
            .map_err(|e| SecretsError::Crypto(e.to_string()))?
    }
}

/// Secret encryption errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// The state has encrypted secrets and no passphrase was given.
    #[error("the state holds encrypted secrets: set STRATA_PASSPHRASE to the stack's passphrase")]
    PassphraseMissing,
    /// A secret would be written and no passphrase was given.
    #[error("{0} holds a secret, which is never stored in plaintext: set STRATA_PASSPHRASE to encrypt it")]
    NeedPassphrase(String),
    /// The passphrase does not open this state's secrets.
    #[error("STRATA_PASSPHRASE is not this stack's passphrase")]
    WrongPassphrase,
    /// The state's secrets are encrypted with a key source this run does not have.
    #[error("the state's secrets are encrypted with {0}, which this run is not configured for")]
    NoKeySource(String),
    /// A KMS call failed.
    #[error("AWS KMS {operation} with key {key} failed: {message}")]
    Kms {
        /// The KMS operation.
        operation: &'static str,
        /// The key.
        key: String,
        /// What KMS said.
        message: String,
    },
    /// A sealed value could not be opened.
    #[error("a sealed secret in state cannot be decrypted: {0}")]
    Corrupt(String),
    /// Randomness or key derivation failed.
    #[error("secret encryption failed: {0}")]
    Crypto(String),
}

/// Seals and opens secrets with one state's key.
pub struct Crypter {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Crypter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypter([key])")
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Keys derived in this process, by a digest of the passphrase and the salt: the KDF is
/// deliberately slow, and a service runs many engines over the same states.
type DerivedKeys = std::sync::Mutex<std::collections::HashMap<[u8; 32], [u8; 32]>>;
static DERIVED: std::sync::OnceLock<DerivedKeys> = std::sync::OnceLock::new();

fn derive(passphrase: &str, salt: &[u8]) -> Result<ChaCha20Poly1305, SecretsError> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update((passphrase.len() as u64).to_le_bytes());
    h.update(passphrase.as_bytes());
    h.update(salt);
    let id: [u8; 32] = h.finalize().into();
    let cache = DERIVED.get_or_init(Default::default);
    let known = cache.lock().ok().and_then(|m| m.get(&id).copied());
    let key = match known {
        Some(k) => k,
        None => {
            let mut key = [0u8; 32];
            argon2::Argon2::default()
                .hash_password_into(passphrase.as_bytes(), salt, &mut key)
                .map_err(|e| SecretsError::Crypto(e.to_string()))?;
            if let Ok(mut m) = cache.lock() {
                m.insert(id, key);
            }
            key
        }
    };
    Ok(ChaCha20Poly1305::new(Key::from_slice(&key)))
}

impl Crypter {
    /// A crypter with a 32-byte data key.
    pub fn from_key(key: &[u8]) -> Result<Crypter, SecretsError> {
        if key.len() != 32 {
            return Err(SecretsError::Crypto(format!(
                "a data key has 32 bytes, not {}",
                key.len()
            )));
        }
        Ok(Crypter {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        })
    }

    /// A new key for a state that has none yet, and the record to store with it.
    pub fn create(passphrase: &str) -> Result<(Crypter, Encryption), SecretsError> {
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt).map_err(|e| SecretsError::Crypto(e.to_string()))?;
        let c = Crypter {
            cipher: derive(passphrase, &salt)?,
        };
        let check = c.seal(CHECK)?;
        Ok((
            c,
            Encryption {
                kind: "passphrase".to_owned(),
                salt: Some(b64().encode(salt)),
                check: Some(check),
                key_id: None,
                data_key: None,
            },
        ))
    }

    /// The key of a state with `enc`, checking the passphrase.
    pub fn open_with(passphrase: &str, enc: &Encryption) -> Result<Crypter, SecretsError> {
        let salt = b64()
            .decode(enc.salt.as_deref().unwrap_or_default())
            .map_err(|e| SecretsError::Corrupt(e.to_string()))?;
        let c = Crypter {
            cipher: derive(passphrase, &salt)?,
        };
        match c.open(enc.check.as_deref().unwrap_or_default()) {
            Ok(v) if v == CHECK => Ok(c),
            _ => Err(SecretsError::WrongPassphrase),
        }
    }

    fn seal(&self, plain: &[u8]) -> Result<String, SecretsError> {
        let mut nonce = [0u8; 12];
        getrandom::getrandom(&mut nonce).map_err(|e| SecretsError::Crypto(e.to_string()))?;
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain)
            .map_err(|e| SecretsError::Crypto(e.to_string()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(b64().encode(out))
    }

    fn open(&self, sealed: &str) -> Result<Vec<u8>, SecretsError> {
        let raw = b64()
            .decode(sealed)
            .map_err(|e| SecretsError::Corrupt(e.to_string()))?;
        if raw.len() < 12 {
            return Err(SecretsError::Corrupt("too short".to_owned()));
        }
        let (nonce, ct) = raw.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| SecretsError::Corrupt("authentication failed".to_owned()))
    }
}

/// Envelope encryption with AWS KMS: one data key per stack, stored encrypted.
#[cfg(feature = "aws")]
#[derive(Debug, Clone)]
pub struct KmsKeys {
    client: aws_sdk_kms::Client,
    key_id: String,
}

#[cfg(feature = "aws")]
impl KmsKeys {
    /// The default key, which `backend bootstrap` creates.
    pub const DEFAULT_KEY: &'static str = "alias/strata-state";

    /// Data keys from the KMS key `key_id` (an id, ARN, alias name or alias ARN).
    pub fn new(conf: &aws_config::SdkConfig, key_id: impl Into<String>) -> Self {
        KmsKeys {
            client: aws_sdk_kms::Client::new(conf),
            key_id: key_id.into(),
        }
    }

    /// The configured key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn err<E: aws_sdk_kms::error::ProvideErrorMetadata + std::fmt::Debug>(
        &self,
        operation: &'static str,
    ) -> impl FnOnce(E) -> SecretsError + '_ {
        move |e| SecretsError::Kms {
            operation,
            key: self.key_id.clone(),
            message: e
                .message()
                .map(str::to_owned)
                .or_else(|| e.code().map(str::to_owned))
                .unwrap_or_else(|| format!("{e:?}")),
        }
    }

    /// Creates the key (symmetric, annual rotation) and, for an alias, the alias, unless
    /// the alias exists already. Harmless to run again.
    pub async fn bootstrap(&self) -> Result<(), SecretsError> {
        let Some(alias) = self.key_id.strip_prefix("alias/") else {
            // A key given by id or ARN must exist: check it.
            self.client
                .describe_key()
                .key_id(&self.key_id)
                .send()
                .await
                .map_err(self.err("DescribeKey"))?;
            return Ok(());
        };
        let found = self.client.describe_key().key_id(&self.key_id).send().await;
        match found {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) => {}
            Err(e) => return Err(self.err("DescribeKey")(e)),
        }
        let key = self
            .client
            .create_key()
            .description(format!("strata: state secrets ({alias})"))
            .tags(
                aws_sdk_kms::types::Tag::builder()
                    .tag_key("strata:purpose")
                    .tag_value("state-secrets")
                    .build()
                    .map_err(|e| SecretsError::Crypto(e.to_string()))?,
            )
            .send()
            .await
            .map_err(self.err("CreateKey"))?;
        let id = key
            .key_metadata()
            .map(|m| m.key_id().to_owned())
            .unwrap_or_default();
        self.client
            .enable_key_rotation()
            .key_id(&id)
            .send()
            .await
            .map_err(self.err("EnableKeyRotation"))?;
        self.client
            .create_alias()
            .alias_name(&self.key_id)
            .target_key_id(&id)
            .send()
            .await
            .map_err(self.err("CreateAlias"))?;
        Ok(())
    }
}

#[cfg(feature = "aws")]
#[async_trait]
impl KeySource for KmsKeys {
    fn kind(&self) -> &'static str {
        "awskms"
    }

    async fn create(&self, stack: &str) -> Result<(Crypter, Encryption), SecretsError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
            .encryption_context("strata:stack", stack)
            .send()
            .await
            .map_err(self.err("GenerateDataKey"))?;
        let plain = out
            .plaintext()
            .ok_or_else(|| SecretsError::Crypto("GenerateDataKey returned no key".to_owned()))?;
        let blob = out.ciphertext_blob().ok_or_else(|| {
            SecretsError::Crypto("GenerateDataKey returned no encrypted key".to_owned())
        })?;
        let c = Crypter::from_key(plain.as_ref())?;
        Ok((
            c,
            Encryption {
                kind: "awskms".to_owned(),
                salt: None,
                check: None,
                key_id: Some(out.key_id().unwrap_or(&self.key_id).to_owned()),
                data_key: Some(b64().encode(blob.as_ref())),
            },
        ))
    }

    async fn open(&self, stack: &str, enc: &Encryption) -> Result<Crypter, SecretsError> {
        let blob = b64()
            .decode(enc.data_key.as_deref().unwrap_or_default())
            .map_err(|e| SecretsError::Corrupt(e.to_string()))?;
        let out = self
            .client
            .decrypt()
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
            .encryption_context("strata:stack", stack)
            .send()
            .await
            .map_err(|e| SecretsError::Kms {
                operation: "Decrypt",
                key: enc.key_id.clone().unwrap_or_default(),
                message: aws_sdk_kms::error::ProvideErrorMetadata::message(&e)
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{e:?}")),
            })?;
        let plain = out
            .plaintext()
            .ok_or_else(|| SecretsError::Crypto("Decrypt returned no key".to_owned()))?;
        Crypter::from_key(plain.as_ref())
    }
}

/// Whether `v` holds a plaintext secret anywhere.
pub fn contains_secret(v: &Value) -> bool {
    match v {
        _ if is_secret(v) => true,
        Value::Object(m) => m.values().any(contains_secret),
        Value::Array(a) => a.iter().any(contains_secret),
        _ => false,
    }
}

/// Whether `v` is a sealed secret (as read without the key).
pub fn is_sealed(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.len() == 1 && m.get(SEALED_KEY).is_some_and(Value::is_string))
}

/// A copy of `v` with every plaintext secret sealed. `what` names the holder in errors.
pub fn seal_value(v: &Value, c: Option<&Crypter>, what: &str) -> Result<Value, SecretsError> {
    match v {
        _ if is_secret(v) => {
            let c = c.ok_or_else(|| SecretsError::NeedPassphrase(what.to_owned()))?;
            let inner = v.get(SECRET_KEY).cloned().unwrap_or(Value::Null);
            let plain =
                serde_json::to_vec(&inner).map_err(|e| SecretsError::Crypto(e.to_string()))?;
            let mut m = Map::new();
            m.insert(SEALED_KEY.to_owned(), Value::String(c.seal(&plain)?));
            Ok(Value::Object(m))
        }
        Value::Object(m) => Ok(Value::Object(
            m.iter()
                .map(|(k, v)| seal_value(v, c, what).map(|v| (k.clone(), v)))
                .collect::<Result<_, _>>()?,
        )),
        Value::Array(a) => Ok(Value::Array(
            a.iter()
                .map(|v| seal_value(v, c, what))
                .collect::<Result<_, _>>()?,
        )),
        other => Ok(other.clone()),
    }
}

/// Opens every sealed secret of `v` in place (back to `{"$strata:secret": …}`).
pub fn open_value(v: &mut Value, c: &Crypter) -> Result<(), SecretsError> {
    if is_sealed(v) {
        let sealed = v
            .get(SEALED_KEY)
            .and_then(Value::as_str)
            .unwrap_or_default();
        let plain = c.open(sealed)?;
        let inner: Value =
            serde_json::from_slice(&plain).map_err(|e| SecretsError::Corrupt(e.to_string()))?;
        let mut m = Map::new();
        m.insert(SECRET_KEY.to_owned(), inner);
        *v = Value::Object(m);
        return Ok(());
    }
    match v {
        Value::Object(m) => m.values_mut().try_for_each(|v| open_value(v, c)),
        Value::Array(a) => a.iter_mut().try_for_each(|v| open_value(v, c)),
        _ => Ok(()),
    }
}

/// How many sealed secrets `v` holds.
pub fn count_sealed(v: &Value) -> usize {
    match v {
        _ if is_sealed(v) => 1,
        Value::Object(m) => m.values().map(count_sealed).sum(),
        Value::Array(a) => a.iter().map(count_sealed).sum(),
        _ => 0,
    }
}

/// Whether `v` holds a sealed secret anywhere.
pub fn contains_sealed(v: &Value) -> bool {
    match v {
        _ if is_sealed(v) => true,
        Value::Object(m) => m.values().any(contains_sealed),
        Value::Array(a) => a.iter().any(contains_sealed),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seal_and_open_round_trip_and_a_wrong_passphrase_is_refused() {
        let (c, enc) = Crypter::create("correct horse").unwrap();
        let v = json!({"a": 1, "pw": {"$strata:secret": "hunter2"}, "l": [{"$strata:secret": {"k": 2}}]});
        let sealed = seal_value(&v, Some(&c), "x").unwrap();
        let text = sealed.to_string();
        assert!(
            !text.contains("hunter2") && text.contains(SEALED_KEY),
            "{text}"
        );
        assert!(contains_sealed(&sealed) && !contains_secret(&sealed));
        let again = Crypter::open_with("correct horse", &enc).unwrap();
        let mut opened = sealed.clone();
        open_value(&mut opened, &again).unwrap();
        assert_eq!(opened, v);
        assert_eq!(
            Crypter::open_with("wrong", &enc).unwrap_err(),
            SecretsError::WrongPassphrase
        );
        assert!(matches!(
            seal_value(&v, None, "resource x"),
            Err(SecretsError::NeedPassphrase(w)) if w == "resource x"
        ));
    }
}
