//! The state journal: checkpoints as small appended deltas, so an apply of N resources
//! writes O(N) bytes in total instead of a whole snapshot per step.
//!
//! A stack's state is its last snapshot plus the journal entries written after it. Each
//! entry is one line: `{"v":2,"lineage":…,"serial":N,"checksum":"sha256:…","delta":{…}}`,
//! the checksum covering the lineage, the serial and the exact bytes of `delta`. A delta sets or removes resources, adds
//! and removes pending operations (by token), and replaces the outputs when they changed. Replaying skips
//! entries at or below the snapshot's serial (a compaction that crashed before clearing
//! the journal) and ignores a torn last line (a crash mid-append); a gap in the serials,
//! and anything else that does not verify, is refused.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{checksum, PendingOperation, ResourceState, State, StateError};
use crate::urn::Urn;

#[derive(Deserialize)]
struct Entry<'a> {
    /// 2: the checksum covers the lineage and the serial too (see [`entry_checksum`]);
    /// absent in entries of older builds, whose checksum covers the delta only.
    #[serde(default)]
    v: u32,
    lineage: String,
    serial: u64,
    checksum: String,
    #[serde(borrow)]
    delta: &'a RawValue,
}

#[derive(Deserialize)]
struct Completed {
    id: String,
    outputs: Value,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    resources: BTreeMap<Urn, Option<ResourceState>>,
    /// Creates that completed, by the token of their pending operation: the resource is
    /// the operation's intended resource with this id and these outputs.
    #[serde(default)]
    created: BTreeMap<String, Completed>,
    #[serde(default)]
    pending_add: Vec<PendingOperation>,
    #[serde(default)]
    pending_remove: Vec<String>,
    #[serde(default)]
    outputs: Option<BTreeMap<String, Value>>,
}

/// Encodes one journal line (with its trailing newline). `resources` gives each changed
/// resource's JSON, or `None` for a removal.
pub(crate) fn encode_entry<'a>(
    lineage: &str,
    serial: u64,
    resources: impl Iterator<Item = (&'a Urn, Option<&'a str>)>,
    created: &[(&str, &str, Value)],
    pending_add: &[&PendingOperation],
    pending_remove: &[&str],
    outputs: Option<&BTreeMap<String, Value>>,
) -> Result<Vec<u8>, StateError> {
    let enc = |v: &dyn super::erased::Ser| v.json().map_err(StateError::Encode);
    let mut delta = String::from("{\"resources\":{");
    for (k, (urn, json)) in resources.enumerate() {
        if k > 0 {
            delta.push(',');
        }
        delta.push_str(&enc(urn)?);
        delta.push(':');
        delta.push_str(json.unwrap_or("null"));
    }
    delta.push('}');
    if !created.is_empty() {
        delta.push_str(",\"created\":{");
        for (k, (token, id, outputs)) in created.iter().enumerate() {
            if k > 0 {
                delta.push(',');
            }
            delta.push_str(&enc(token)?);
            delta.push_str(":{\"id\":");
            delta.push_str(&enc(id)?);
            delta.push_str(",\"outputs\":");
            delta.push_str(&enc(outputs)?);
            delta.push('}');
        }
        delta.push('}');
    }
    if !pending_add.is_empty() {
        delta.push_str(",\"pending_add\":");
        delta.push_str(&enc(&pending_add)?);
    }
    if !pending_remove.is_empty() {
        delta.push_str(",\"pending_remove\":");
        delta.push_str(&enc(&pending_remove)?);
    }
    if let Some(o) = outputs {
        delta.push_str(",\"outputs\":");
        delta.push_str(&enc(o)?);
    }
    delta.push('}');
    let mut line = format!(
        "{{\"v\":2,\"lineage\":{},\"serial\":{serial},\"checksum\":\"{}\",\"delta\":",
        enc(&lineage)?,
        entry_checksum(lineage, serial, delta.as_bytes())
    );
    line.push_str(&delta);
    line.push_str("}\n");
    Ok(line.into_bytes())
}

/// The checksum of an entry: over its lineage, serial and delta, so that an entry moved
/// to another position or another stack's journal does not verify.
fn entry_checksum(lineage: &str, serial: u64, delta: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(lineage.len() + delta.len() + 24);
    bytes.extend_from_slice(lineage.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(serial.to_string().as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(delta);
    checksum(&bytes)
}

/// Applies the journal `bytes` to `state` (its snapshot).
pub(crate) fn replay(state: &mut State, bytes: &[u8], location: &str) -> Result<(), StateError> {
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let complete = bytes.last() == Some(&b'\n');
    for (k, line) in lines.iter().enumerate() {
        let last = k + 1 == lines.len();
        let torn = |what: String| -> Result<(), StateError> {
            if last && !complete {
                tracing::warn!(location, "ignoring a torn last journal line: {what}");
                Ok(())
            } else {
                Err(StateError::Corrupt {
                    location: format!("{location} (journal line {})", k + 1),
                    message: what,
                })
            }
        };
        let entry: Entry<'_> = match serde_json::from_slice(line) {
            Ok(e) => e,
            Err(e) => return torn(e.to_string()),
        };
        if entry.lineage != state.lineage {
            return Err(StateError::LineageMismatch {
                location: location.to_owned(),
                ours: state.lineage.clone(),
                theirs: entry.lineage,
            });
        }
        let actual = if entry.v >= 2 {
            entry_checksum(&entry.lineage, entry.serial, entry.delta.get().as_bytes())
        } else {
            checksum(entry.delta.get().as_bytes())
        };
        if actual != entry.checksum {
            if last && !complete {
                return torn("checksum mismatch".to_owned());
            }
            return Err(StateError::ChecksumMismatch {
                location: format!("{location} (journal line {})", k + 1),
                expected: entry.checksum,
                actual,
            });
        }
        if entry.serial <= state.serial {
            continue;
        }
        if entry.serial != state.serial + 1 {
            // An entry is missing (lost, or compacted away while this load read): what
            // follows cannot be applied on top of what precedes it.
            return Err(StateError::Corrupt {
                location: format!("{location} (journal line {})", k + 1),
                message: format!(
                    "a gap in the journal: serial {} follows serial {}",
                    entry.serial, state.serial
                ),
            });
        }
        let delta: Delta =
            serde_json::from_str(entry.delta.get()).map_err(|e| StateError::Corrupt {
                location: format!("{location} (journal line {})", k + 1),
                message: e.to_string(),
            })?;
        for (urn, r) in delta.resources {
            match r {
                Some(r) => {
                    state.resources.insert(urn, r);
                }
                None => {
                    state.resources.remove(&urn);
                }
            }
        }
        for (token, c) in delta.created {
            let intended = state
                .pending
                .iter()
                .find(|p| p.token == token)
                .and_then(|p| p.resource.clone());
            let Some(mut r) = intended else {
                return Err(StateError::Corrupt {
                    location: format!("{location} (journal line {})", k + 1),
                    message: format!("a completed create refers to an unknown operation {token}"),
                });
            };
            r.id = c.id;
            r.outputs = c.outputs;
            state.resources.insert(r.urn.clone(), r);
        }
        state
            .pending
            .retain(|p| !delta.pending_remove.contains(&p.token));
        state.pending.extend(delta.pending_add);
        if let Some(o) = delta.outputs {
            state.outputs = o;
        }
        state.serial = entry.serial;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(name: &str) -> ResourceState {
        ResourceState {
            urn: Urn::new("dev", "t", name),
            type_name: "t".into(),
            id: format!("id-{name}"),
            args: serde_json::json!({"n": name}),
            outputs: serde_json::json!({}),
            dependencies: vec![],
            options: Default::default(),
        }
    }

    fn line(st: &State, serial: u64, put: &[&str], remove: &[&str]) -> Vec<u8> {
        let rs: Vec<(Urn, Option<String>)> = put
            .iter()
            .map(|n| {
                (
                    Urn::new("dev", "t", n),
                    Some(serde_json::to_string(&resource(n)).unwrap()),
                )
            })
            .chain(remove.iter().map(|n| (Urn::new("dev", "t", n), None)))
            .collect();
        encode_entry(
            &st.lineage,
            serial,
            rs.iter().map(|(u, j)| (u, j.as_deref())),
            &[],
            &[],
            &[],
            None,
        )
        .unwrap()
    }

    #[test]
    fn a_completed_create_is_the_intended_resource_with_its_id_and_outputs() {
        let base = State::new("dev");
        let mut intended = resource("a");
        intended.id = String::new();
        let op = PendingOperation {
            kind: super::super::PendingKind::Create,
            urn: intended.urn.clone(),
            type_name: "t".into(),
            token: "tok".into(),
            started: "now".into(),
            resource: Some(intended),
            refused: false,
        };
        let mut journal =
            encode_entry(&base.lineage, 1, std::iter::empty(), &[], &[&op], &[], None).unwrap();
        let outputs = serde_json::json!({"arn": "x"});
        journal.extend(
            encode_entry(
                &base.lineage,
                2,
                std::iter::empty(),
                &[("tok", "id-a", outputs.clone())],
                &[],
                &["tok"],
                None,
            )
            .unwrap(),
        );
        let mut st = base.clone();
        replay(&mut st, &journal, "x").unwrap();
        assert!(st.pending.is_empty());
        let a = &st.resources[&Urn::new("dev", "t", "a")];
        assert_eq!((a.id.as_str(), &a.outputs), ("id-a", &outputs));
        assert_eq!(a.args, serde_json::json!({"n": "a"}));
    }

    #[test]
    fn replay_applies_in_order_skips_old_entries_and_ignores_a_torn_tail() {
        let base = State::new("dev");
        let mut journal = line(&base, 1, &["a", "b"], &[]);
        journal.extend(line(&base, 2, &["c"], &["a"]));
        let mut st = base.clone();
        replay(&mut st, &journal, "x").unwrap();
        let names: Vec<_> = st.resources.keys().map(|u| u.name().to_owned()).collect();
        assert_eq!(names, vec!["b", "c"]);
        assert_eq!(st.serial, 2);

        // Entries already in the snapshot are skipped.
        let mut snap = st.clone();
        replay(&mut snap, &journal, "x").unwrap();
        assert_eq!(snap, st);

        // A torn last line is ignored; a corrupt middle line is refused.
        let mut torn = journal.clone();
        let third = line(&base, 3, &["d"], &[]);
        torn.extend_from_slice(&third[..third.len() / 2]);
        let mut st2 = base.clone();
        replay(&mut st2, &torn, "x").unwrap();
        assert_eq!(st2, st);
        let mut bad = line(&base, 1, &["a"], &[]);
        bad[40] ^= 1;
        bad.extend(line(&base, 2, &["c"], &[]));
        assert!(replay(&mut base.clone(), &bad, "x").is_err());

        // Another lineage is refused.
        let other = State::new("dev");
        assert!(matches!(
            replay(&mut base.clone(), &line(&other, 1, &["a"], &[]), "x"),
            Err(StateError::LineageMismatch { .. })
        ));
    }

    #[test]
    fn a_gap_in_serials_and_a_moved_entry_are_refused() {
        let base = State::new("dev");
        // Serial 1, then 3: 2 is missing.
        let mut j = line(&base, 1, &["a"], &[]);
        j.extend(line(&base, 3, &["b"], &[]));
        let mut st = base.clone();
        let err = replay(&mut st, &j, "j").unwrap_err().to_string();
        assert!(
            err.contains("a gap in the journal: serial 3 follows serial 1"),
            "{err}"
        );
        // An entry whose serial was rewritten (moved) no longer verifies.
        let moved = String::from_utf8(line(&base, 1, &["a"], &[]))
            .unwrap()
            .replace("\"serial\":1", "\"serial\":2");
        let mut j = line(&base, 1, &["x"], &[]);
        j.extend(moved.into_bytes());
        let mut st = base.clone();
        let err = replay(&mut st, &j, "j").unwrap_err();
        assert!(matches!(err, StateError::ChecksumMismatch { .. }), "{err}");
        // Entries of an older build (checksum over the delta only) still replay.
        let delta = "{\"outputs\":{\"k\":1}}";
        let old = format!(
            "{{\"lineage\":\"{}\",\"serial\":1,\"checksum\":\"{}\",\"delta\":{delta}}}\n",
            base.lineage,
            checksum(delta.as_bytes())
        );
        let mut st = base.clone();
        replay(&mut st, old.as_bytes(), "j").unwrap();
        assert_eq!(st.serial, 1);
    }
}
