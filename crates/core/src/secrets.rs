//! Encryption of secrets at rest in state.
//!
//! Every [`crate::Secret`] value is stored in state as `{"$strata:sealed": "…"}`: its JSON
//! encrypted with ChaCha20-Poly1305 under a key derived from `STRATA_PASSPHRASE` with
//! Argon2id and a random per-state salt (recorded in the state's `encryption` field with a
//! check value that tells a wrong passphrase from corrupt data). Each value has its own
//! random nonce. In memory, values are plaintext secrets, redacted everywhere they are
//! shown.
//!
//! A state with sealed values can be read without the passphrase (they stay sealed and
//! show as `[secret]`), but not changed: `up`, `destroy`, `refresh` and `import` ask for
//! it. A secret is never written in plaintext: without a passphrase, a checkpoint that
//! would hold one fails and names the variable to set.

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
    /// `passphrase`.
    pub kind: String,
    /// The KDF salt, base64.
    pub salt: String,
    /// A known value sealed with the key: opening it proves the passphrase.
    pub check: String,
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

fn derive(passphrase: &str, salt: &[u8]) -> Result<ChaCha20Poly1305, SecretsError> {
    let mut key = [0u8; 32];
    argon2::Argon2::default()
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| SecretsError::Crypto(e.to_string()))?;
    Ok(ChaCha20Poly1305::new(Key::from_slice(&key)))
}

impl Crypter {
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
                salt: b64().encode(salt),
                check,
            },
        ))
    }

    /// The key of a state with `enc`, checking the passphrase.
    pub fn open_with(passphrase: &str, enc: &Encryption) -> Result<Crypter, SecretsError> {
        let salt = b64()
            .decode(&enc.salt)
            .map_err(|e| SecretsError::Corrupt(e.to_string()))?;
        let c = Crypter {
            cipher: derive(passphrase, &salt)?,
        };
        match c.open(&enc.check) {
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

/// Whether `v` holds a plaintext secret anywhere.
pub fn contains_secret(v: &Value) -> bool {
    match v {
        _ if is_secret(v) => true,
        Value::Object(m) => m.values().any(contains_secret),
        Value::Array(a) => a.iter().any(contains_secret),
        _ => false,
    }
}

fn is_sealed(v: &Value) -> bool {
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
