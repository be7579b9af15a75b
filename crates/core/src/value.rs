//! Values flowing between resources: [`Input`], [`Output`] and [`Secret`].
//!
//! A resource's `Args` are plain serde structs whose fields are `Input<T>`. An input is a
//! literal or an [`Output`] of another resource. When a resource is declared, its args are
//! serialized once into a *template*: a JSON value in which every output is a
//! `{"$strata:output": N}` placeholder, plus the list of those outputs. The outputs'
//! sources are the resource's dependencies. At plan and apply time the engine substitutes
//! each placeholder with the resolved value, or with `{"$strata:unknown": true}` while the
//! source has not been created yet, which plans render as `(known after apply)`.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::urn::Urn;

pub(crate) const OUTPUT_KEY: &str = "$strata:output";
/// The JSON key that marks a value not known until apply.
pub const UNKNOWN_KEY: &str = "$strata:unknown";
/// The JSON key that marks a secret value.
pub const SECRET_KEY: &str = "$strata:secret";

/// What looking up a resource's outputs gives.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    /// The resource exists and these are its outputs.
    Known(&'a Value),
    /// The resource will only exist (or change) during apply.
    Unknown,
}

/// Where outputs are looked up when inputs are resolved (the engine's view of state).
pub trait OutputSource {
    /// The outputs of `urn`.
    fn outputs(&self, urn: &Urn) -> Lookup<'_>;
}

/// Resolving an output failed: its source's outputs did not have the expected shape.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot resolve an output of {source_urn}: {message}")]
pub struct ResolveError {
    /// The resource whose outputs were read.
    pub source_urn: String,
    /// What went wrong.
    pub message: String,
}

type ResolveFn = dyn Fn(&dyn OutputSource) -> Result<Option<Value>, ResolveError> + Send + Sync;

/// An [`Output`] with its value type erased: its sources and how to compute its value.
#[derive(Clone)]
pub struct ErasedOutput {
    sources: Arc<[Urn]>,
    resolve: Arc<ResolveFn>,
}

impl ErasedOutput {
    /// The resources this output is computed from.
    pub fn sources(&self) -> &[Urn] {
        &self.sources
    }

    /// Computes the value, or `None` if a source is not known yet.
    pub fn resolve(&self, src: &dyn OutputSource) -> Result<Option<Value>, ResolveError> {
        (self.resolve)(src)
    }
}

impl fmt::Debug for ErasedOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output")
            .field("sources", &self.sources)
            .finish()
    }
}

/// A value that a resource produces (an id, an ARN, an endpoint), available once the
/// resource exists. Using it as another resource's input records a dependency.
///
/// Outputs are obtained from typed accessors on resource handles, never by string path.
/// [`Output::map`] and [`Output::zip`] derive new outputs.
pub struct Output<T> {
    erased: ErasedOutput,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Output<T> {
    fn clone(&self) -> Self {
        Output {
            erased: self.erased.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.erased.fmt(f)
    }
}

fn decode<T: DeserializeOwned>(v: &Value, urn: &Urn) -> Result<T, ResolveError> {
    T::deserialize(v).map_err(|e| ResolveError {
        source_urn: urn.to_string(),
        message: e.to_string(),
    })
}

fn encode<T: Serialize>(v: &T, urn: &Urn) -> Result<Value, ResolveError> {
    serde_json::to_value(v).map_err(|e| ResolveError {
        source_urn: urn.to_string(),
        message: e.to_string(),
    })
}

impl<T: 'static> Output<T> {
    /// An output computed from the outputs (of type `O`) of the resource `urn`.
    /// Resource handles use this to implement their typed accessors.
    pub fn project<O, F>(urn: Urn, f: F) -> Self
    where
        O: DeserializeOwned,
        T: Serialize,
        F: Fn(&O) -> T + Send + Sync + 'static,
    {
        let sources: Arc<[Urn]> = Arc::from(vec![urn.clone()]);
        let resolve = move |src: &dyn OutputSource| match src.outputs(&urn) {
            Lookup::Unknown => Ok(None),
            Lookup::Known(v) => {
                // Typed outputs take secrets bare (a plain field may hold one that an
                // input made secret).
                let decoded = if contains_secret(v) {
                    decode::<O>(&unmark(v), &urn)
                } else {
                    decode::<O>(v, &urn)
                };
                match decoded {
                    Ok(o) => encode(&f(&o), &urn).map(Some),
                    // Read without the key: what depends on a sealed secret is a secret
                    // this run cannot know.
                    Err(_) if crate::secrets::contains_sealed(v) => Ok(Some(sealed_unknown())),
                    Err(e) => Err(e),
                }
            }
        };
        Output {
            erased: ErasedOutput {
                sources,
                resolve: Arc::new(resolve),
            },
            _t: PhantomData,
        }
    }

    /// The output field `field` of the resource `urn`, read straight from its serialized
    /// outputs. [`crate::outputs!`] uses this for its accessors (which check the field's
    /// name and type at compile time); it assumes the field is serialized under its own
    /// name.
    pub fn field(urn: Urn, field: &'static str) -> Self {
        let sources: Arc<[Urn]> = Arc::from(vec![urn.clone()]);
        let resolve = move |src: &dyn OutputSource| match src.outputs(&urn) {
            Lookup::Unknown => Ok(None),
            Lookup::Known(v) => match v.get(field) {
                Some(x) => Ok(Some(x.clone())),
                None => Err(ResolveError {
                    source_urn: urn.to_string(),
                    message: format!("its outputs have no field `{field}`"),
                }),
            },
        };
        Output {
            erased: ErasedOutput {
                sources,
                resolve: Arc::new(resolve),
            },
            _t: PhantomData,
        }
    }

    /// Derives a new output by applying `f` to this one's value once it is known
    /// (Pulumi's `apply`). The new output has the same dependencies. If the value holds a
    /// secret, the derived value is secret too: encrypted in state and redacted in plans,
    /// wherever it goes (a resource receives its plaintext).
    pub fn map<U, F>(self, f: F) -> Output<U>
    where
        T: DeserializeOwned,
        U: Serialize + 'static,
        F: Fn(T) -> U + Send + Sync + 'static,
    {
        let inner = self.erased;
        let sources = inner.sources.clone();
        let resolve = move |src: &dyn OutputSource| {
            let Some(v) = inner.resolve(src)? else {
                return Ok(None);
            };
            let first = inner.sources.first().cloned();
            let err = |e: serde_json::Error| ResolveError {
                source_urn: first.as_ref().map(ToString::to_string).unwrap_or_default(),
                message: e.to_string(),
            };
            // Read without the key: derived from a sealed secret, it cannot be known.
            if crate::secrets::contains_sealed(&v) {
                return Ok(Some(sealed_unknown()));
            }
            // A secret in, a secret out (Pulumi's rule): whatever `f` derives from a
            // secret (a connection string around a password) is secret as a whole.
            let secret = contains_secret(&v);
            let v = if secret { unmark(&v) } else { v };
            let t: T = serde_json::from_value(v).map_err(|e| {
                if secret {
                    // (Its message could quote the plaintext.)
                    ResolveError {
                        source_urn: first.as_ref().map(ToString::to_string).unwrap_or_default(),
                        message: "a secret value does not have the type `map` expects".to_owned(),
                    }
                } else {
                    err(e)
                }
            })?;
            let out = serde_json::to_value(f(t)).map_err(err)?;
            Ok(Some(if secret { mark(unmark(&out)) } else { out }))
        };
        Output {
            erased: ErasedOutput {
                sources,
                resolve: Arc::new(resolve),
            },
            _t: PhantomData,
        }
    }

    /// Combines two outputs into one output of both values.
    pub fn zip<U: 'static>(self, other: Output<U>) -> Output<(T, U)> {
        let (a, b) = (self.erased, other.erased);
        let mut sources: Vec<Urn> = a.sources.iter().chain(b.sources.iter()).cloned().collect();
        sources.sort();
        sources.dedup();
        let resolve = move |src: &dyn OutputSource| {
            let (Some(x), Some(y)) = (a.resolve(src)?, b.resolve(src)?) else {
                return Ok(None);
            };
            Ok(Some(Value::Array(vec![x, y])))
        };
        Output {
            erased: ErasedOutput {
                sources: sources.into(),
                resolve: Arc::new(resolve),
            },
            _t: PhantomData,
        }
    }

    /// The resources this output is computed from.
    pub fn sources(&self) -> &[Urn] {
        self.erased.sources()
    }

    /// The type-erased form.
    pub fn erased(&self) -> &ErasedOutput {
        &self.erased
    }
}

/// A resource argument: a literal value or another resource's [`Output`].
///
/// Anything that converts into `T`, or an `Output<T>`, converts into `Input<T>`, so
/// builders take `impl Into<Input<T>>` and literals and outputs mix freely.
pub enum Input<T> {
    /// A value known when the stack is declared.
    Value(T),
    /// A value another resource produces.
    Output(Output<T>),
}

impl<T: Clone> Clone for Input<T> {
    fn clone(&self) -> Self {
        match self {
            Input::Value(v) => Input::Value(v.clone()),
            Input::Output(o) => Input::Output(o.clone()),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Input<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Value(v) => v.fmt(f),
            Input::Output(o) => o.fmt(f),
        }
    }
}

impl<T: PartialEq> PartialEq for Input<T> {
    /// Literals compare by value; outputs are never equal to anything (their value is not
    /// known at declaration).
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Input::Value(a), Input::Value(b)) => a == b,
            _ => false,
        }
    }
}

/// An input was used before the engine resolved it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("input is not resolved yet (it comes from {sources:?})")]
pub struct Unresolved {
    /// The resources it comes from.
    pub sources: Vec<Urn>,
}

impl<T> Input<T> {
    /// The value, if it is a literal or has been resolved. `validate` uses this: an input
    /// that is still an output is checked when its value is known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Input::Value(v) => Some(v),
            Input::Output(_) => None,
        }
    }

    /// The value. The args a resource's CRUD methods receive are always resolved, so this
    /// only fails on args that did not come from the engine.
    pub fn value(&self) -> Result<&T, Unresolved> {
        match self {
            Input::Value(v) => Ok(v),
            Input::Output(o) => Err(Unresolved {
                sources: o.erased.sources().to_vec(),
            }),
        }
    }
}

impl<T> From<T> for Input<T> {
    fn from(v: T) -> Self {
        Input::Value(v)
    }
}

impl<T> From<Output<T>> for Input<T> {
    fn from(o: Output<T>) -> Self {
        Input::Output(o)
    }
}

impl<T: Clone> From<&Output<T>> for Input<T> {
    fn from(o: &Output<T>) -> Self {
        Input::Output(o.clone())
    }
}

impl From<&str> for Input<String> {
    fn from(v: &str) -> Self {
        Input::Value(v.to_owned())
    }
}

impl From<&String> for Input<String> {
    fn from(v: &String) -> Self {
        Input::Value(v.clone())
    }
}

thread_local! {
    static COLLECTOR: RefCell<Option<Vec<ErasedOutput>>> = const { RefCell::new(None) };
}

impl<T: Serialize> Serialize for Input<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Input::Value(v) => v.serialize(s),
            Input::Output(o) => {
                let idx = COLLECTOR.with(|c| {
                    c.borrow_mut().as_mut().map(|outs| {
                        outs.push(o.erased.clone());
                        outs.len() - 1
                    })
                });
                let Some(idx) = idx else {
                    return Err(serde::ser::Error::custom(
                        "an Output can only be serialized by the strata engine",
                    ));
                };
                let mut m = Map::new();
                m.insert(OUTPUT_KEY.to_owned(), Value::from(idx));
                m.serialize(s)
            }
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Input<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Input::Value)
    }
}

/// Serializes declared args into a template and the outputs it refers to.
pub(crate) fn to_template<A: Serialize>(
    args: &A,
) -> Result<(Value, Vec<ErasedOutput>), serde_json::Error> {
    let saved = COLLECTOR.with(|c| c.borrow_mut().replace(Vec::new()));
    let result = serde_json::to_value(args);
    let outputs = COLLECTOR.with(|c| std::mem::replace(&mut *c.borrow_mut(), saved));
    Ok((result?, outputs.unwrap_or_default()))
}

/// The marker for a value not known until apply.
pub fn unknown() -> Value {
    let mut m = Map::new();
    m.insert(UNKNOWN_KEY.to_owned(), Value::Bool(true));
    Value::Object(m)
}

/// Whether `v` is the unknown marker.
pub fn is_unknown(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.len() == 1 && m.contains_key(UNKNOWN_KEY))
}

/// Whether `v` contains an unknown anywhere.
pub fn contains_unknown(v: &Value) -> bool {
    match v {
        Value::Object(m) => is_unknown(v) || m.values().any(contains_unknown),
        Value::Array(a) => a.iter().any(contains_unknown),
        _ => false,
    }
}

/// Whether `v` is a secret marker.
pub fn is_secret(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.len() == 1 && m.contains_key(SECRET_KEY))
}

/// Whether `v` holds a plaintext secret marker anywhere.
pub(crate) fn contains_secret(v: &Value) -> bool {
    match v {
        _ if is_secret(v) => true,
        Value::Object(m) => m.values().any(contains_secret),
        Value::Array(a) => a.iter().any(contains_secret),
        _ => false,
    }
}

/// A secret that cannot be known without the stack's key: a sealed marker with nothing
/// sealed. Never written: only previews without the key make it.
pub(crate) fn sealed_unknown() -> Value {
    let mut m = serde_json::Map::new();
    m.insert(
        crate::secrets::SEALED_KEY.to_owned(),
        Value::String(String::new()),
    );
    Value::Object(m)
}

/// `v` marked secret: `{"$strata:secret": v}`.
pub(crate) fn mark(v: Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(SECRET_KEY.to_owned(), v);
    Value::Object(m)
}

/// A copy of `v` with every plaintext secret marker replaced by its value: what typed
/// args deserialize from ([`Secret`] fields take the bare value too), so that a secret
/// derived with [`Output::map`] can feed a plain field.
pub(crate) fn unmark(v: &Value) -> Value {
    match v {
        _ if is_secret(v) => unmark(v.get(SECRET_KEY).unwrap_or(&Value::Null)),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), unmark(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(unmark).collect()),
        other => other.clone(),
    }
}

/// Where `old` holds a secret and `new` (the same args as a provider read them back,
/// in plain fields) does not, marks it secret in `new`: a property secret in the
/// declaration stays secret in state and drift reports, whatever its field's type.
pub(crate) fn carry_secrets(old: &Value, new: &mut Value) {
    if is_secret(old) {
        if !is_secret(new) && !new.is_null() {
            *new = mark(std::mem::take(new));
        }
        return;
    }
    if let (Value::Array(a), Value::Array(b)) = (old, &*new) {
        let matched = a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_shape(x, y));
        if !matched && a.iter().any(contains_secret) {
            // Read back in another order or length: the elements cannot be matched, so
            // the whole list stays secret.
            *new = mark(std::mem::take(new));
            return;
        }
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                if let Some(vb) = b.get_mut(k) {
                    carry_secrets(va, vb);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (va, vb) in a.iter().zip(b.iter_mut()) {
                carry_secrets(va, vb);
            }
        }
        _ => {}
    }
}

/// Whether `new` plausibly is `old` read back: a secret's plain value equals it, other
/// values of one kind.
fn same_shape(old: &Value, new: &Value) -> bool {
    if is_secret(old) {
        return old.get(SECRET_KEY) == Some(new) || is_secret(new);
    }
    std::mem::discriminant(old) == std::mem::discriminant(new)
}

/// Whether `v` is a secret, plaintext or sealed (as read without the passphrase).
fn is_any_secret(v: &Value) -> bool {
    is_secret(v)
        || matches!(v, Value::Object(m) if m.len() == 1 && m.contains_key(crate::secrets::SEALED_KEY))
}

/// Substitutes every output placeholder of `template` with its value (or the unknown
/// marker).
pub(crate) fn resolve_template(
    template: &Value,
    outputs: &[ErasedOutput],
    src: &dyn OutputSource,
) -> Result<Value, ResolveError> {
    if outputs.is_empty() {
        return Ok(template.clone());
    }
    let resolved = outputs
        .iter()
        .map(|o| o.resolve(src).map(|v| v.unwrap_or_else(unknown)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(substitute(template, &resolved))
}

fn substitute(v: &Value, resolved: &[Value]) -> Value {
    match v {
        Value::Object(m) => {
            if m.len() == 1 {
                if let Some(idx) = m.get(OUTPUT_KEY).and_then(Value::as_u64) {
                    if let Some(r) = usize::try_from(idx).ok().and_then(|i| resolved.get(i)) {
                        return r.clone();
                    }
                }
            }
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), substitute(v, resolved)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| substitute(v, resolved)).collect()),
        other => other.clone(),
    }
}

/// A sensitive value: redacted as `[secret]` in plans, events and logs.
///
/// It serializes as `{"$strata:secret": value}` so that every layer can recognise it.
/// (Encryption of secrets at rest in state arrives with the state/secrets issue.)
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a sensitive value.
    pub fn new(v: T) -> Self {
        Secret(v)
    }

    /// The plaintext. Call it only where the value is really needed (an API call).
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the plaintext.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

impl<T: Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(SECRET_KEY, &self.0)?;
        m.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire<T> {
            #[serde(rename = "$strata:secret")]
            value: T,
        }
        // Marked (`{"$strata:secret": value}`) or, as typed args are decoded for a
        // provider, bare.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either<T> {
            Marked(Wire<T>),
            Bare(T),
        }
        Either::deserialize(d).map(|e| match e {
            Either::Marked(w) => Secret(w.value),
            Either::Bare(v) => Secret(v),
        })
    }
}

impl From<&str> for Input<Secret<String>> {
    fn from(v: &str) -> Self {
        Input::Value(Secret::new(v.to_owned()))
    }
}

/// A copy of `v` with every secret replaced by the string `[secret]`.
pub fn redact(v: &Value) -> Value {
    match v {
        _ if is_any_secret(v) => Value::String("[secret]".to_owned()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), redact(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// Renders a value for humans: secrets as `[secret]`, unknowns as `(known after apply)`.
pub fn display_value(v: &Value) -> String {
    if is_unknown(v) {
        return "(known after apply)".to_owned();
    }
    if is_any_secret(v) {
        return "[secret]".to_owned();
    }
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Object(_) | Value::Array(_) => {
            let r = redact(v);
            serde_json::to_string(&r).unwrap_or_default()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn secrets_read_back_stay_secret_even_reordered() {
        use serde_json::json;
        let old =
            json!({"env": {"K": {"$strata:secret": "v"}}, "list": [{"$strata:secret": "a"}, "b"]});
        // Same order: element by element.
        let mut new = json!({"env": {"K": "v"}, "list": ["a", "b"]});
        carry_secrets(&old, &mut new);
        assert_eq!(
            new,
            json!({"env": {"K": {"$strata:secret": "v"}}, "list": [{"$strata:secret": "a"}, "b"]})
        );
        // Another order or length: the whole list.
        let mut new = json!({"env": {"K": "changed"}, "list": ["b", "a"]});
        carry_secrets(&old, &mut new);
        assert!(is_secret(&new["list"]), "{new}");
        assert!(is_secret(&new["env"]["K"]), "{new}");
        let mut new = json!({"list": ["a"]});
        carry_secrets(&old, &mut new);
        assert!(is_secret(&new["list"]), "{new}");
    }

    use super::*;

    #[derive(Serialize)]
    struct Args {
        a: Input<String>,
        b: Vec<Input<u32>>,
        s: Input<Secret<String>>,
    }

    struct Src(Value);
    impl OutputSource for Src {
        fn outputs(&self, urn: &Urn) -> Lookup<'_> {
            if urn.name() == "known" {
                Lookup::Known(&self.0)
            } else {
                Lookup::Unknown
            }
        }
    }

    #[derive(Deserialize)]
    struct Outs {
        id: String,
        n: u32,
    }

    #[test]
    fn template_resolves_known_and_unknown_outputs() {
        let known = Urn::new("s", "t", "known");
        let later = Urn::new("s", "t", "later");
        let args = Args {
            a: Output::project(known.clone(), |o: &Outs| o.id.clone()).into(),
            b: vec![
                1.into(),
                Output::project(later, |o: &Outs| o.n).into(),
                Output::project(known, |o: &Outs| o.n)
                    .map(|n: u32| n * 2)
                    .into(),
            ],
            s: "hunter2".into(),
        };
        let (tpl, outs) = to_template(&args).unwrap();
        assert_eq!(outs.len(), 3);
        let src = Src(serde_json::json!({"id": "vpc-1", "n": 21}));
        let v = resolve_template(&tpl, &outs, &src).unwrap();
        assert_eq!(v["a"], "vpc-1");
        assert_eq!(v["b"][0], 1);
        assert!(is_unknown(&v["b"][1]));
        assert_eq!(v["b"][2], 42);
        assert!(contains_unknown(&v));
        assert_eq!(display_value(&v["s"]), "[secret]");
        assert!(!redact(&v).to_string().contains("hunter2"));
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "[secret]");
    }

    #[test]
    fn outputs_refuse_serialization_outside_the_engine() {
        let o: Output<String> = Output::project(Urn::new("s", "t", "x"), |o: &Outs| o.id.clone());
        let i: Input<String> = o.into();
        assert!(serde_json::to_value(&i).is_err());
    }
}
