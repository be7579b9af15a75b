//! proptest strategies for random DAG stacks of [`Mock`] resources.

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::Index;

use super::{Mock, MockHandle};
use crate::resource::Handle;
use crate::stack::Stack;

/// One node of a random DAG.
#[derive(Debug, Clone)]
pub struct DagNode {
    /// Indices of earlier nodes it depends on (through an output).
    pub deps: Vec<usize>,
    /// Simulated duration, in milliseconds.
    pub duration_ms: u64,
    /// A property value.
    pub value: String,
}

/// A random DAG: node `i` only depends on nodes before it.
#[derive(Debug, Clone)]
pub struct DagSpec {
    /// The nodes.
    pub nodes: Vec<DagNode>,
}

impl DagSpec {
    /// The logical name of node `i`.
    pub fn name(i: usize) -> String {
        format!("n{i}")
    }

    /// Declares the DAG: node `i` gets a prop `v`, and a prop `dep-j` set to node `j`'s
    /// id for every dependency `j`.
    pub fn declare(&self, s: &mut Stack) -> Vec<Handle<Mock>> {
        let mut handles: Vec<Handle<Mock>> = Vec::with_capacity(self.nodes.len());
        for (i, n) in self.nodes.iter().enumerate() {
            let mut args = Mock::new()
                .prop("v", n.value.as_str())
                .duration(Duration::from_millis(n.duration_ms));
            for &j in &n.deps {
                args = args.prop(format!("dep-{j}"), handles[j].id());
            }
            handles.push(s.add(Self::name(i), args));
        }
        handles
    }

    /// Every node that depends on `i`, directly or not.
    pub fn dependents_of(&self, i: usize) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        for (k, n) in self.nodes.iter().enumerate().skip(i + 1) {
            if n.deps.iter().any(|&d| d == i || out.contains(&d)) {
                out.insert(k);
            }
        }
        out
    }
}

/// DAGs of 1 to `max_nodes` nodes, each with up to 3 dependencies and a duration of up to
/// `max_duration_ms`.
pub fn dag(max_nodes: usize, max_duration_ms: u64) -> impl Strategy<Value = DagSpec> {
    (1..=max_nodes.max(1))
        .prop_flat_map(move |n| {
            (
                proptest::collection::vec(proptest::collection::vec(any::<Index>(), 0..4), n),
                proptest::collection::vec(0..=max_duration_ms, n),
                proptest::collection::vec("[a-z]{1,4}", n),
            )
        })
        .prop_map(|(deps, durations, values)| DagSpec {
            nodes: deps
                .into_iter()
                .zip(durations)
                .zip(values)
                .enumerate()
                .map(|(i, ((d, duration_ms), value))| {
                    let mut deps: Vec<usize> = if i == 0 {
                        Vec::new()
                    } else {
                        d.iter().map(|ix| ix.index(i)).collect()
                    };
                    deps.sort_unstable();
                    deps.dedup();
                    DagNode {
                        deps,
                        duration_ms,
                        value,
                    }
                })
                .collect(),
        })
}
