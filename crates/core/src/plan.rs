//! Preview: what `up` would do, property by property, without any mutating call.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diff::{diff_values, keep_ignored, path_matches, PropertyChange};
use crate::resource::Registry;
use crate::stack::SealedStack;
use crate::state::{PendingKind, ResourceState, State};
use crate::urn::Urn;
use crate::value::{resolve_template, Lookup, OutputSource};

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Nothing to do.
    Same,
    /// Create a new resource.
    Create,
    /// Change in place.
    Update,
    /// Replace (create-before-delete unless `delete_before_replace`).
    Replace,
    /// Delete (or, with `retain_on_delete`, drop from state).
    Delete,
    /// Read (refresh).
    Read,
}

impl Op {
    /// The plan symbol: `+`, `~`, `+-`, `-`, ` `.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Same => " ",
            Op::Create => "+",
            Op::Update => "~",
            Op::Replace => "+-",
            Op::Delete => "-",
            Op::Read => "?",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Same => "same",
            Op::Create => "create",
            Op::Update => "update",
            Op::Replace => "replace",
            Op::Delete => "delete",
            Op::Read => "read",
        })
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedStep {
    /// The resource.
    pub urn: Urn,
    /// Its type token.
    #[serde(rename = "type")]
    pub type_name: String,
    /// What will happen.
    pub op: Op,
    /// The changed properties (for creates: every property).
    pub changes: Vec<PropertyChange>,
    /// For deletes: the resource stays in AWS and is only dropped from state. For
    /// replaces: the old resource does (`retain_on_delete`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retain: bool,
    /// For replaces: delete first, then create.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delete_before_replace: bool,
}

/// Why a plan cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A protected resource would be deleted or replaced.
    #[error("resource {urn} is protected, but the plan would {op} it{}", if .fields.is_empty() { String::new() } else { format!(" (because of {})", .fields.join(", ")) })]
    Protected {
        /// The resource.
        urn: Urn,
        /// Delete or replace.
        op: Op,
        /// The properties that force it.
        fields: Vec<String>,
    },
    /// State holds a resource of a type this program does not register.
    #[error("resource {urn} in state has type {type_name}, which this program does not register; it cannot be {action}")]
    UnknownType {
        /// The resource.
        urn: Urn,
        /// Its type.
        type_name: String,
        /// What was needed.
        action: &'static str,
    },
    /// A `--target` names no declared resource and nothing in state.
    #[error("--target {0} matches no resource of this stack")]
    UnknownTarget(String),
    /// A targeted delete or replace would pull a resource from under others that are not
    /// targeted.
    #[error("--target would {op} {urn}, which {} still use; target them too", .dependents.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    TargetDependents {
        /// The resource.
        urn: Urn,
        /// Delete or replace.
        op: Op,
        /// What still uses it.
        dependents: Vec<Urn>,
    },
    /// The changes cannot be ordered: replacing or deleting these resources would need
    /// each to go before another (for example a delete-before-replace under resources that
    /// are both updated and deleted).
    #[error("these changes cannot be ordered safely: {}; split them over two runs (for example with --target)", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    Ordering(Vec<Urn>),
    /// Two declared resources name one physical resource.
    #[error(
        "{first} and {second} both declare the {identity}; each physical resource is declared once"
    )]
    DuplicateIdentity {
        /// The first declaration.
        first: Urn,
        /// The second.
        second: Urn,
        /// The type and identity (`aws:s3/bucket bucket=shop-assets`).
        identity: String,
    },
    /// The plan would create a physical resource that it deletes under another logical
    /// name: the delete would destroy it (and its data) while the create fails or takes it
    /// over.
    #[error("{created} would create the {identity}, which {deleted} is and this plan deletes: a rename of the logical name would lose it. Keep the logical name {:?} (until aliases let a resource change its name), or give the new one another name", .deleted.name())]
    SameIdentity {
        /// The resource the plan creates.
        created: Urn,
        /// The resource the plan deletes.
        deleted: Urn,
        /// The type and identity.
        identity: String,
    },
    /// A create-first replace that keeps the resource's unique name: AWS cannot hold the
    /// old and the new one at once, so it could never finish.
    #[error("{urn} would be replaced (because of {}) keeping its {identity}, which the old one holds until the new one exists, so the replace could never finish. Change the name along with it, or set delete_before_replace to delete the old one first", .fields.join(", "))]
    ReplaceKeepsIdentity {
        /// The resource.
        urn: Urn,
        /// The type and identity.
        identity: String,
        /// The properties that force the replace.
        fields: Vec<String>,
    },
    /// A replace that keeps the resource's unique name, with `retain_on_delete`: the kept
    /// old resource would hold the name the new one needs.
    #[error("{urn} would be replaced keeping its {identity}, but retain_on_delete keeps the old one, which holds it; change the name, or drop retain_on_delete for this run")]
    RetainKeepsIdentity {
        /// The resource.
        urn: Urn,
        /// The type and identity.
        identity: String,
    },
    /// A delete (of a resource no longer declared, the old half of a replace, or a
    /// destroy) would fail on AWS; nothing was changed.
    #[error("{urn} cannot be deleted, so the plan cannot {op} it: {field}: {message}")]
    Undeletable {
        /// The resource.
        urn: Urn,
        /// Delete or replace.
        op: Op,
        /// The field that stops it.
        field: String,
        /// Why, and the way out.
        message: String,
    },
    /// An output could not be resolved.
    #[error("resource {urn}: {message}")]
    Resolve {
        /// The resource.
        urn: Urn,
        /// Why.
        message: String,
    },
}

/// All plan errors, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PlanErrors(pub Vec<PlanError>);

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the plan cannot be applied:")?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

/// A deletion the plan makes: a resource no longer declared, or the old half of an earlier
/// create-before-delete replace that did not finish.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Deletion {
    pub resource: ResourceState,
    pub retain: bool,
    /// Index into `State::pending` when this is an owed delete.
    pub pending: Option<usize>,
}

/// The result of a preview.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The stack.
    pub stack: String,
    /// Every step: declared resources in dependency order, then deletions.
    pub steps: Vec<PlannedStep>,
    /// Per declared resource (by index): its op, or `None` if `--target` excludes it.
    pub(crate) ops: Vec<Option<Op>>,
    /// Per declared resource: whether a replace deletes first (the option, or a replace
    /// that keeps the resource's identity).
    pub(crate) dbr: Vec<bool>,
    pub(crate) deletions: Vec<Deletion>,
    /// What the engine's policy packs found (see [`crate::policy`]); mandatory ones stop
    /// `up`.
    pub violations: Vec<crate::policy::Violation>,
    /// Secret values in state that a preview without the stack's key could not compare
    /// with the declaration (they are not counted as changes).
    pub secrets_not_compared: usize,
}

impl Plan {
    /// What applying the plan removes from AWS: the old halves of replaces (unless
    /// retained) and the deletions (unless retained), with the op that removes each.
    pub(crate) fn removals<'a>(
        &'a self,
        stack: &SealedStack,
        state: &'a State,
    ) -> Vec<(&'a ResourceState, Op)> {
        let mut out = Vec::new();
        for (i, op) in self.ops.iter().enumerate() {
            let node = &stack.nodes()[i];
            if *op == Some(Op::Replace) && !node.options.retain_on_delete {
                if let Some(r) = state.resources.get(&node.urn) {
                    out.push((r, Op::Replace));
                }
            }
        }
        for d in self.deletions.iter().filter(|d| !d.retain) {
            out.push((&d.resource, Op::Delete));
        }
        out
    }

    /// Whether anything would change.
    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(|s| s.op != Op::Same)
    }

    /// The number of steps per op.
    pub fn count(&self, op: Op) -> usize {
        self.steps.iter().filter(|s| s.op == op).count()
    }

    /// The plan for humans: one line per changing step, then its properties.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for s in self.steps.iter().filter(|s| s.op != Op::Same) {
            let extra = match (s.op, s.retain, s.delete_before_replace) {
                (Op::Delete, true, _) => " (retain: dropped from state only)",
                (Op::Replace, true, _) => " (retain: the old one stays in AWS, unmanaged)",
                (Op::Replace, _, true) => " (delete before replace)",
                _ => "",
            };
            out.push_str(&format!(
                "{:>2} {:<8} {}{}\n",
                s.op.symbol(),
                s.op.to_string(),
                s.urn,
                extra
            ));
            if s.op != Op::Delete {
                for c in &s.changes {
                    out.push_str(&format!("       {}\n", c.render()));
                }
            }
        }
        let same = self.count(Op::Same);
        if self.secrets_not_compared > 0 {
            out.push_str(&format!(
                "note: {} secret value(s) were not compared: this preview has no key for the stack's secrets (a changed secret shows once it has)\n",
                self.secrets_not_compared
            ));
        }
        out.push_str(&format!(
            "plan: {} to create, {} to update, {} to replace, {} to delete, {} unchanged\n",
            self.count(Op::Create),
            self.count(Op::Update),
            self.count(Op::Replace),
            self.count(Op::Delete),
            same
        ));
        out
    }
}

/// Output lookups during planning: state outputs, except for resources that are created
/// or replaced by this plan, whose outputs are unknown.
struct PlanSource<'a> {
    state: &'a State,
    unknown: &'a HashSet<Urn>,
}

impl OutputSource for PlanSource<'_> {
    fn outputs(&self, urn: &Urn) -> Lookup<'_> {
        if self.unknown.contains(urn) {
            return Lookup::Unknown;
        }
        match self.state.resources.get(urn) {
            Some(r) => Lookup::Known(&r.outputs),
            None => Lookup::Unknown,
        }
    }
}

/// The declared resources selected by `targets` and everything they depend on; `None`
/// when there are no targets (everything).
pub(crate) fn target_closure(
    stack: &SealedStack,
    state: &State,
    targets: &[Urn],
) -> Result<Option<Vec<bool>>, PlanError> {
    if targets.is_empty() {
        return Ok(None);
    }
    let mut sel = vec![false; stack.nodes().len()];
    let mut todo = Vec::new();
    for t in targets {
        match stack.index_of(t) {
            Some(i) => todo.push(i),
            None if state.resources.contains_key(t) => {}
            None => return Err(PlanError::UnknownTarget(t.to_string())),
        }
    }
    while let Some(i) = todo.pop() {
        if !sel[i] {
            sel[i] = true;
            todo.extend_from_slice(stack.deps(i));
        }
    }
    Ok(Some(sel))
}

/// Computes the plan. It reads nothing but `state` and makes no call.
pub fn plan(
    stack: &SealedStack,
    state: &State,
    registry: &Registry,
    targets: &[Urn],
) -> Result<Plan, PlanErrors> {
    let mut errors = Vec::new();
    let selected = target_closure(stack, state, targets).map_err(|e| PlanErrors(vec![e]))?;
    let n = stack.nodes().len();
    let mut ops: Vec<Option<Op>> = vec![None; n];
    let mut steps: Vec<PlannedStep> = Vec::with_capacity(n);
    let mut unknown: HashSet<Urn> = HashSet::new();
    // Physical identities (type and identity, URN, op) of what is declared, and (type and
    // identity, URN) of what the plan removes.
    let mut dbr = vec![false; n];
    // Replaces that keep their identity: (node, type and identity, replacing fields).
    let mut kept_identity: Vec<(usize, String, Vec<String>)> = Vec::new();
    let mut declared_ids: Vec<(String, Urn, Op)> = Vec::new();
    let mut removed_ids: Vec<(String, Urn)> = Vec::new();
    for &i in stack.order() {
        if selected.as_ref().is_some_and(|s| !s[i]) {
            continue;
        }
        let node = &stack.nodes()[i];
        let (template, inputs) = stack.template(i);
        let src = PlanSource {
            state,
            unknown: &unknown,
        };
        let new = match resolve_template(template, inputs, &src) {
            Ok(v) => v,
            Err(e) => {
                errors.push(PlanError::Resolve {
                    urn: node.urn.clone(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        // (the args the apply would use: the declared ones, with ignored properties kept
        // as in state)
        let (op, changes, args) = match state.resources.get(&node.urn) {
            None => (
                Op::Create,
                diff_values(&Value::Object(Default::default()), &new, &[]),
                new,
            ),
            Some(old) => classify(old, new, node.type_name, &node.options, registry),
        };
        let identity = registry.get(node.type_name).and_then(|t| t.identity(&args));
        if op == Op::Replace && node.options.protect {
            errors.push(PlanError::Protected {
                urn: node.urn.clone(),
                op,
                fields: changes
                    .iter()
                    .filter(|c| c.replaces)
                    .map(|c| c.path.clone())
                    .collect(),
            });
        }
        // A replace that keeps the resource's unique name cannot make the new one while
        // the old one exists: it must delete first, which only the user may choose (a
        // delete can take more with it: an IAM policy's attachments, a role's instance
        // profiles), so without `delete_before_replace` it is refused.
        let keeps_identity = op == Op::Replace
            && identity.is_some()
            && state.resources.get(&node.urn).is_some_and(|old| {
                old.type_name == node.type_name
                    && registry
                        .get(&old.type_name)
                        .and_then(|t| t.identity(&old.args))
                        == identity
            });
        if keeps_identity {
            // Checked once the delete-first cascade is known (below).
            kept_identity.push((
                i,
                format!(
                    "{} {}",
                    node.type_name,
                    identity.clone().unwrap_or_default()
                ),
                changes
                    .iter()
                    .filter(|c| c.replaces)
                    .map(|c| c.path.clone())
                    .collect::<Vec<_>>(),
            ));
        }
        dbr[i] = node.options.delete_before_replace;
        if let Some(id) = identity {
            declared_ids.push((format!("{} {id}", node.type_name), node.urn.clone(), op));
        }
        if op == Op::Replace && !node.options.retain_on_delete {
            // The old half goes.
            if let Some(old) = state.resources.get(&node.urn) {
                if let Some(id) = registry
                    .get(&old.type_name)
                    .and_then(|t| t.identity(&old.args))
                {
                    removed_ids.push((format!("{} {id}", old.type_name), node.urn.clone()));
                }
            }
        }
        if matches!(op, Op::Create | Op::Replace) {
            unknown.insert(node.urn.clone());
        }
        ops[i] = Some(op);
        steps.push(PlannedStep {
            urn: node.urn.clone(),
            type_name: node.type_name.to_owned(),
            op,
            changes,
            retain: op == Op::Replace && node.options.retain_on_delete,
            delete_before_replace: op == Op::Replace && dbr[i],
        });
    }

    // A resource replaced delete-first cannot be deleted while what uses it still stands:
    // the resources replaced because of it (their inputs are its outputs, or they used it
    // in state) are deleted before it and made again after it, so they are replaced
    // delete-first too, and so on down (as Pulumi's step generator does).
    let mut users: std::collections::HashMap<&Urn, Vec<usize>> = Default::default();
    for (j, node) in stack.nodes().iter().enumerate() {
        if let Some(r) = state.resources.get(&node.urn) {
            for d in &r.dependencies {
                users.entry(d).or_default().push(j);
            }
        }
        for &k in stack.deps(j) {
            users.entry(&stack.nodes()[k].urn).or_default().push(j);
        }
    }
    let mut todo: Vec<usize> = (0..n)
        .filter(|&i| ops[i] == Some(Op::Replace) && dbr[i])
        .collect();
    while let Some(i) = todo.pop() {
        for &j in users.get(&stack.nodes()[i].urn).into_iter().flatten() {
            if ops[j] == Some(Op::Replace) && !dbr[j] {
                dbr[j] = true;
                todo.push(j);
            }
        }
    }
    for step in &mut steps {
        if let Some(i) = stack.index_of(&step.urn) {
            step.delete_before_replace = step.op == Op::Replace && dbr[i];
        }
    }
    for (i, identity, fields) in kept_identity {
        let node = &stack.nodes()[i];
        if node.options.retain_on_delete {
            errors.push(PlanError::RetainKeepsIdentity {
                urn: node.urn.clone(),
                identity,
            });
        } else if !dbr[i] {
            errors.push(PlanError::ReplaceKeepsIdentity {
                urn: node.urn.clone(),
                identity,
                fields,
            });
        }
    }

    let targeted: BTreeSet<&Urn> = targets.iter().collect();
    let mut deletions = Vec::new();
    for (urn, r) in &state.resources {
        if stack.index_of(urn).is_some() || (!targets.is_empty() && !targeted.contains(urn)) {
            continue;
        }
        deletions.push(Deletion {
            resource: r.clone(),
            retain: r.options.retain_on_delete,
            pending: None,
        });
    }
    for (k, p) in state.pending.iter().enumerate() {
        if let (PendingKind::Delete, Some(r)) = (p.kind, &p.resource) {
            deletions.push(Deletion {
                resource: r.clone(),
                retain: false,
                pending: Some(k),
            });
        }
    }
    for d in deletions.iter().filter(|d| !d.retain) {
        let r = &d.resource;
        if let Some(id) = registry.get(&r.type_name).and_then(|t| t.identity(&r.args)) {
            removed_ids.push((format!("{} {id}", r.type_name), r.urn.clone()));
        }
    }
    errors.extend(identity_conflicts(&declared_ids, &removed_ids));
    for d in &deletions {
        let r = &d.resource;
        if d.pending.is_none() && r.options.protect {
            errors.push(PlanError::Protected {
                urn: r.urn.clone(),
                op: Op::Delete,
                fields: Vec::new(),
            });
        }
        if !d.retain && registry.get(&r.type_name).is_none() {
            errors.push(PlanError::UnknownType {
                urn: r.urn.clone(),
                type_name: r.type_name.clone(),
                action: "deleted",
            });
        }
        steps.push(PlannedStep {
            urn: r.urn.clone(),
            type_name: r.type_name.clone(),
            op: Op::Delete,
            changes: Vec::new(),
            retain: d.retain,
            delete_before_replace: false,
        });
    }
    if let Some(sel) = &selected {
        // With targets, what is deleted or replaced must not be in use by resources left
        // out of the run.
        let removed: Vec<(&Urn, Op)> = steps
            .iter()
            .filter(|s| matches!(s.op, Op::Replace | Op::Delete))
            .map(|s| (&s.urn, s.op))
            .collect();
        for (urn, op) in removed {
            let dependents: Vec<Urn> = state
                .resources
                .values()
                .filter(|r| r.dependencies.contains(urn))
                .filter(|r| match stack.index_of(&r.urn) {
                    Some(i) => !sel[i],
                    None => !targeted.contains(&r.urn),
                })
                .map(|r| r.urn.clone())
                .collect();
            if !dependents.is_empty() {
                errors.push(PlanError::TargetDependents {
                    urn: urn.clone(),
                    op,
                    dependents,
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(PlanErrors(errors));
    }
    Ok(Plan {
        stack: stack.name().to_owned(),
        steps,
        ops,
        dbr,
        deletions,
        violations: Vec::new(),
        secrets_not_compared: 0,
    })
}

/// The identity conflicts of a plan: two declarations of one physical resource, and a
/// create of a physical resource that the plan deletes under another logical name (a
/// rename, which would make the create fail or take the resource over, and the delete
/// destroy it).
fn identity_conflicts(declared: &[(String, Urn, Op)], removed: &[(String, Urn)]) -> Vec<PlanError> {
    let mut errors = Vec::new();
    let mut first: std::collections::HashMap<&str, &Urn> = std::collections::HashMap::new();
    for (id, urn, _) in declared {
        match first.get(id.as_str()) {
            Some(other) => errors.push(PlanError::DuplicateIdentity {
                first: (*other).clone(),
                second: urn.clone(),
                identity: id.clone(),
            }),
            None => {
                first.insert(id, urn);
            }
        }
    }
    for (id, urn, op) in declared {
        if !matches!(op, Op::Create | Op::Replace) {
            continue;
        }
        for (rid, removed) in removed {
            if rid == id && removed != urn {
                errors.push(PlanError::SameIdentity {
                    created: urn.clone(),
                    deleted: removed.clone(),
                    identity: id.clone(),
                });
            }
        }
    }
    errors
}

/// Diffs a declared resource against its state: same, update or replace, with the
/// property changes (after `ignore_changes`, with `replace_on_changes` applied), and the
/// args to apply (the declared args with ignored properties kept as in state).
pub(crate) fn classify(
    old: &ResourceState,
    mut new: Value,
    type_name: &str,
    options: &crate::options::ResourceOptions,
    registry: &Registry,
) -> (Op, Vec<PropertyChange>, Value) {
    keep_ignored(&old.args, &mut new, &options.ignore_changes);
    if old.type_name != type_name {
        let mut changes = diff_values(&old.args, &new, &[]);
        for c in &mut changes {
            c.replaces = true;
        }
        return (Op::Replace, changes, new);
    }
    let mut changes = match registry.get(type_name) {
        Some(t) => t.diff(&old.args, &new),
        None => diff_values(&old.args, &new, &[]),
    };
    for c in &mut changes {
        if !crate::diff::secrecy_only(c)
            && options
                .replace_on_changes
                .iter()
                .any(|p| path_matches(&c.path, p))
        {
            c.replaces = true;
        }
    }
    let op = if changes.is_empty() {
        Op::Same
    } else if changes.iter().any(|c| c.replaces) {
        Op::Replace
    } else {
        Op::Update
    };
    (op, changes, new)
}
