//! Property-level diffs of serialized args.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::value::{display_value, is_secret, is_unknown, mark, redact, unmark};

fn redacted<S: serde::Serializer>(v: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().map(redact).serialize(s)
}

/// One changed property, by dotted path (`tags.env`, `ingress`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyChange {
    /// Dotted path of the property within the args.
    pub path: String,
    /// The value in state (`None`: absent). Secrets stay marked in memory and are
    /// redacted when shown or serialized.
    #[serde(serialize_with = "redacted")]
    pub old: Option<Value>,
    /// The declared value (`None`: removed). May be unknown until apply.
    #[serde(serialize_with = "redacted")]
    pub new: Option<Value>,
    /// Whether AWS must replace the resource to make this change.
    pub replaces: bool,
}

/// Redacted, like every other rendering: a `{:?}` of a plan or an event never shows a
/// secret.
impl std::fmt::Debug for PropertyChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PropertyChange")
            .field("path", &self.path)
            .field("old", &self.old.as_ref().map(redact))
            .field("new", &self.new.as_ref().map(redact))
            .field("replaces", &self.replaces)
            .finish()
    }
}

impl PropertyChange {
    /// One line for humans: `path: old → new`, secrets redacted, unknowns as
    /// `(known after apply)`.
    pub fn render(&self) -> String {
        let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_owned(), display_value);
        let mark = if self.replaces {
            " (forces replacement)"
        } else {
            ""
        };
        format!(
            "{}: {} → {}{}",
            self.path,
            show(&self.old),
            show(&self.new),
            mark
        )
    }
}

/// Whether a change at `path` is covered by `rule` (a dotted path prefix).
pub fn path_matches(path: &str, rule: &str) -> bool {
    // `*` is every property (as in Pulumi's `replaceOnChanges: ["*"]`).
    if rule == "*" {
        return true;
    }
    fn prefix(long: &str, short: &str) -> bool {
        long == short
            || (long.len() > short.len()
                && long.starts_with(short)
                && long.as_bytes().get(short.len()) == Some(&b'.'))
    }
    prefix(path, rule) || prefix(rule, path)
}

/// Whether only the secrecy of a property changed: the same plaintext, made secret or
/// plain again.
pub fn secrecy_only(c: &PropertyChange) -> bool {
    match (&c.old, &c.new) {
        (Some(a), Some(b)) => (is_secret(a) || is_secret(b)) && unmark(a) == unmark(b),
        _ => false,
    }
}

/// Compares old and new args property by property. A change under a path listed in
/// `replace_on` forces replacement; any other change is in place.
///
/// Two rules hold for every type: a change on either side of which is a secret shows
/// both sides as secret (the old plaintext of what became secret is not shown); and a
/// change of secrecy only (the same plaintext, made secret or plain again) never forces
/// replacement: it only reseals state.
pub fn diff_values(old: &Value, new: &Value, replace_on: &[&str]) -> Vec<PropertyChange> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(&mut path, Some(old), Some(new), &mut out);
    for c in &mut out {
        c.replaces = !secrecy_only(c) && replace_on.iter().any(|r| path_matches(&c.path, r));
        if c.old.iter().chain(&c.new).any(is_secret) {
            for v in [&mut c.old, &mut c.new].into_iter().flatten() {
                if !is_secret(v) && !crate::secrets::is_sealed(v) && !is_unknown(v) {
                    *v = mark(std::mem::take(v));
                }
            }
        }
    }
    out
}

/// A plain object (not an unknown or secret marker), to recurse into.
fn plain(v: Option<&Value>) -> Option<&serde_json::Map<String, Value>> {
    match v {
        Some(o @ Value::Object(m))
            if !is_unknown(o) && !is_secret(o) && !crate::secrets::is_sealed(o) =>
        {
            Some(m)
        }
        _ => None,
    }
}

/// Walks both values; `path` holds the keys down to here and is joined only for changes.
fn walk<'a>(
    path: &mut Vec<&'a str>,
    old: Option<&'a Value>,
    new: Option<&'a Value>,
    out: &mut Vec<PropertyChange>,
) {
    static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> = std::sync::OnceLock::new();
    let empty = EMPTY.get_or_init(serde_json::Map::new);
    let objects = match (plain(old), plain(new)) {
        (Some(a), Some(b)) => Some((a, b)),
        (Some(a), None) if new.is_none() => Some((a, empty)),
        (None, Some(b)) if old.is_none() => Some((empty, b)),
        _ => None,
    };
    match objects {
        Some((a, b)) => {
            for (k, va) in a {
                path.push(k);
                walk(path, Some(va), b.get(k), out);
                path.pop();
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    path.push(k);
                    walk(path, None, Some(vb), out);
                    path.pop();
                }
            }
        }
        None => {
            // `null` and absent are the same to AWS.
            let a = old.filter(|v| !v.is_null());
            let b = new.filter(|v| !v.is_null());
            let changed = match (a, b) {
                (_, Some(n)) if is_unknown(n) => true,
                // Read without the key, a sealed secret cannot be compared: it is no
                // change (the plan counts what it could not compare).
                (Some(x), Some(y))
                    if crate::secrets::is_sealed(x) || crate::secrets::is_sealed(y) =>
                {
                    false
                }
                (x, y) => x != y,
            };
            if changed {
                out.push(PropertyChange {
                    path: if path.is_empty() {
                        "(args)".to_owned()
                    } else {
                        path.join(".")
                    },
                    old: a.cloned(),
                    new: b.cloned(),
                    replaces: false,
                });
            }
        }
    }
}

/// Copies the values at `paths` from `old` into `new` (`ignore_changes`): the declared
/// value of an ignored property never causes a change; the value in state is kept.
pub fn keep_ignored(old: &Value, new: &mut Value, paths: &[String]) {
    for p in paths {
        if p == "*" {
            // Every property: the declaration changes nothing.
            *new = old.clone();
            continue;
        }
        let segs: Vec<&str> = p.split('.').collect();
        let old_v = segs.iter().try_fold(old, |v, s| v.get(s));
        set_path(new, &segs, old_v.cloned());
    }
}

fn set_path(v: &mut Value, segs: &[&str], val: Option<Value>) {
    let Some((last, parents)) = segs.split_last() else {
        return;
    };
    let mut cur = v;
    for s in parents {
        match cur.get_mut(*s) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Value::Object(m) = cur {
        match val {
            Some(x) => {
                m.insert((*last).to_owned(), x);
            }
            None => {
                m.remove(*last);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::unknown;
    use serde_json::json;

    #[test]
    fn nested_changes_are_classified() {
        let old = json!({"cidr": "10.0.0.0/16", "tags": {"env": "dev", "x": "1"}, "dns": true});
        let new = json!({"cidr": "10.1.0.0/16", "tags": {"env": "prod"}, "dns": true});
        let d = diff_values(&old, &new, &["cidr"]);
        let paths: Vec<_> = d.iter().map(|c| (c.path.as_str(), c.replaces)).collect();
        assert_eq!(
            paths,
            vec![("cidr", true), ("tags.env", false), ("tags.x", false)]
        );
        assert!(d[0].render().contains("forces replacement"));
        let secret = diff_values(
            &json!({}),
            &json!({"pw": {"$strata:secret": "hunter2"}}),
            &[],
        );
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_is_always_a_change_and_null_equals_absent() {
        let old = json!({"vpc": "vpc-1", "n": null});
        let new = json!({"vpc": unknown()});
        let d = diff_values(&old, &new, &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].render(), "vpc: \"vpc-1\" → (known after apply)");
    }

    #[test]
    fn ignored_paths_keep_the_old_value() {
        let old = json!({"a": 1, "t": {"x": "old"}});
        let mut new = json!({"a": 2, "t": {"x": "new", "y": 1}});
        keep_ignored(&old, &mut new, &["t.x".to_owned(), "a".to_owned()]);
        assert_eq!(new, json!({"a": 1, "t": {"x": "old", "y": 1}}));
        assert!(path_matches("tags.env", "tags"));
        assert!(!path_matches("tagsx", "tags"));
    }
}
