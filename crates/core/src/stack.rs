//! Declaring a stack and sealing it into a dependency graph.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::Value;

use crate::options::{Reference, ResourceOptions};
use crate::resource::{Handle, Registry, Resource, ResourceArgs};
use crate::urn::Urn;
use crate::value::{to_template, ErasedOutput, Output, OUTPUT_KEY};

/// One declaration error. Every variant names the resource, and the field where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeclarationError {
    /// Two resources share a logical name.
    #[error("duplicate resource name {name:?}: declared as {first} and again as {second}")]
    Duplicate {
        /// The name.
        name: String,
        /// The first declaration.
        first: Urn,
        /// The repeated declaration.
        second: Urn,
    },
    /// A logical name is empty or contains `::`.
    #[error("resource {urn}: invalid name {name:?}: {reason}")]
    InvalidName {
        /// The URN.
        urn: Urn,
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The stack's name is not one strata can use.
    #[error("invalid stack name {name:?}: {reason}")]
    InvalidStackName {
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `validate` rejected a field.
    #[error("resource {urn}: field `{field}`: {message}")]
    Invalid {
        /// The resource.
        urn: Urn,
        /// The field.
        field: String,
        /// Why.
        message: String,
    },
    /// A field or `depends_on` refers to a resource this stack does not declare.
    #[error(
        "resource {urn}: field `{field}` refers to {target}, which this stack does not declare"
    )]
    UnknownReference {
        /// The resource.
        urn: Urn,
        /// The field (`depends_on` for explicit dependencies).
        field: String,
        /// What it refers to.
        target: String,
    },
    /// A stack output refers to a resource this stack does not declare.
    #[error("stack output {name:?} refers to {target}, which this stack does not declare")]
    UnknownExport {
        /// The output's name.
        name: String,
        /// What it refers to.
        target: String,
    },
    /// A configuration value does not parse as its type.
    #[error("configuration {key:?}: {value:?} is not a valid {expected}: {message}")]
    Config {
        /// The key (`--config KEY=VALUE`).
        key: String,
        /// The value given.
        value: String,
        /// The type wanted.
        expected: String,
        /// Why it does not parse.
        message: String,
    },
    /// Two stack outputs have one name.
    #[error("stack output {name:?} is exported twice; each output has one name")]
    DuplicateExport {
        /// The output's name.
        name: String,
    },
    /// The args could not be serialized.
    #[error("resource {urn}: args cannot be serialized: {message}")]
    Serialize {
        /// The resource.
        urn: Urn,
        /// The serde error.
        message: String,
    },
    /// Dependencies form a cycle.
    #[error("dependency cycle: {}", .members.iter().map(ToString::to_string).collect::<Vec<_>>().join(" → "))]
    Cycle {
        /// Every resource on the cycle.
        members: Vec<Urn>,
    },
}

/// All declaration errors of a stack, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DeclarationErrors(pub Vec<DeclarationError>);

impl fmt::Display for DeclarationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the stack has {} declaration error(s):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

/// A declared resource.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its URN.
    pub urn: Urn,
    /// Its type token.
    pub type_name: &'static str,
    /// Its args, with output placeholders.
    pub(crate) template: Arc<Value>,
    /// The outputs its args use.
    pub(crate) inputs: Arc<[ErasedOutput]>,
    /// Its options.
    pub options: ResourceOptions,
    /// The estimated create duration.
    pub estimate: Duration,
    /// Explicit dependencies (`depends_on`), resolved when the stack is sealed.
    pub(crate) explicit: Vec<Reference>,
}

impl Node {
    /// The logical name.
    pub fn name(&self) -> &str {
        self.urn.name()
    }
}

/// A stack being declared. Tiers are plain functions that take `&mut Stack` and return
/// typed handles.
#[derive(Debug)]
pub struct Stack {
    name: String,
    nodes: Vec<Node>,
    by_urn: HashMap<Urn, usize>,
    by_name: HashMap<String, usize>,
    errors: Vec<DeclarationError>,
    exports: BTreeMap<String, ErasedOutput>,
    registry: Registry,
    config: BTreeMap<String, String>,
}

impl Stack {
    /// A new, empty stack called `name` (`dev`, `prod`).
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let errors = match check_stack_name(&name) {
            Ok(()) => Vec::new(),
            Err(reason) => vec![DeclarationError::InvalidStackName {
                name: name.clone(),
                reason,
            }],
        };
        Stack {
            name,
            nodes: Vec::new(),
            by_urn: HashMap::new(),
            by_name: HashMap::new(),
            errors,
            exports: BTreeMap::new(),
            registry: Registry::new(),
            config: BTreeMap::new(),
        }
    }

    /// Sets the stack's configuration (the CLI fills it from `--config KEY=VALUE` and
    /// `STRATA_CONFIG_<KEY>` variables).
    pub fn with_config(mut self, config: BTreeMap<String, String>) -> Self {
        self.config = config;
        self
    }

    /// A configuration value.
    pub fn config(&self, key: &str) -> Option<&str> {
        self.config.get(key).map(String::as_str)
    }

    /// A configuration value, or `default`.
    pub fn config_or(&self, key: &str, default: &str) -> String {
        self.config(key).unwrap_or(default).to_owned()
    }

    /// A configuration value parsed as `T` (a number, a `bool`, an enum with `FromStr`),
    /// or `None` if unset. A value that does not parse is a declaration error naming the
    /// key, reported by [`Stack::seal`] (the CLI exits 2), and `None` is returned so that
    /// declaring can go on.
    pub fn config_as<T>(&mut self, key: &str) -> Option<T>
    where
        T: std::str::FromStr,
        T::Err: fmt::Display,
    {
        let value = self.config.get(key)?;
        match value.trim().parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                let expected = std::any::type_name::<T>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("value")
                    .to_owned();
                self.errors.push(DeclarationError::Config {
                    key: key.to_owned(),
                    value: value.clone(),
                    expected,
                    message: e.to_string(),
                });
                None
            }
        }
    }

    /// [`Stack::config_as`], or `default` when unset (or after reporting a bad value).
    pub fn config_as_or<T>(&mut self, key: &str, default: T) -> T
    where
        T: std::str::FromStr,
        T::Err: fmt::Display,
    {
        self.config_as(key).unwrap_or(default)
    }

    /// The stack's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Declares a resource with default options. Errors are collected and reported by
    /// [`Stack::seal`]; the handle is usable either way.
    pub fn add<A: ResourceArgs>(
        &mut self,
        name: impl Into<String>,
        args: A,
    ) -> Handle<A::Resource> {
        self.add_with(name, args, ResourceOptions::default())
    }

    /// Declares a resource with options.
    pub fn add_with<A: ResourceArgs>(
        &mut self,
        name: impl Into<String>,
        args: A,
        options: ResourceOptions,
    ) -> Handle<A::Resource> {
        type R<A> = <A as ResourceArgs>::Resource;
        let name = name.into();
        let type_name = <R<A> as Resource>::TYPE;
        let urn = Urn::new(&self.name, type_name, &name);
        self.registry.register::<R<A>>();
        let handle = Handle::new(urn.clone());
        if let Err(reason) = check_logical_name(&name, &urn) {
            self.errors.push(DeclarationError::InvalidName {
                urn: urn.clone(),
                name: name.clone(),
                reason,
            });
        }
        if let Some(&first) = self.by_name.get(&name) {
            self.errors.push(DeclarationError::Duplicate {
                name,
                first: self.nodes[first].urn.clone(),
                second: urn,
            });
            return handle;
        }
        for e in <R<A> as Resource>::validate(&args) {
            self.errors.push(DeclarationError::Invalid {
                urn: urn.clone(),
                field: e.field,
                message: e.message,
            });
        }
        let estimate = <R<A> as Resource>::estimate(&args);
        let mut options = options;
        options.delete_before_replace |= <R<A> as Resource>::DELETE_BEFORE_REPLACE;
        let (template, inputs) = match to_template(&args) {
            Ok(t) => t,
            Err(e) => {
                self.errors.push(DeclarationError::Serialize {
                    urn: urn.clone(),
                    message: e.to_string(),
                });
                (Value::Null, Vec::new())
            }
        };
        let idx = self.nodes.len();
        self.by_name.insert(name, idx);
        self.by_urn.insert(urn.clone(), idx);
        self.nodes.push(Node {
            urn,
            type_name,
            template: Arc::new(template),
            inputs: inputs.into(),
            explicit: options.depends_on.clone(),
            options,
            estimate,
        });
        handle
    }

    /// Reports a declaration error found by a component (a builder that composes several
    /// resources), reported by [`Stack::seal`] with all the others.
    pub fn invalid(&mut self, urn: Urn, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(DeclarationError::Invalid {
            urn,
            field: field.into(),
            message: message.into(),
        });
    }

    /// Exports a stack output (shown by `up` and `output`).
    pub fn export<T: 'static>(&mut self, name: impl Into<String>, value: Output<T>) {
        let name = name.into();
        if self.exports.contains_key(&name) {
            // The first stays; sealing reports the second.
            self.errors.push(DeclarationError::DuplicateExport { name });
            return;
        }
        self.exports.insert(name, value.erased().clone());
    }

    /// The resource types this stack declares.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Checks the whole declaration and builds the dependency graph. Every error is
    /// reported together: duplicates, invalid fields, unknown references and cycles.
    pub fn seal(mut self) -> Result<SealedStack, DeclarationErrors> {
        let mut errors = std::mem::take(&mut self.errors);
        let mut deps: Vec<Vec<usize>> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            check_option_paths(node, &self.registry, &mut errors);
            let mut d = Vec::new();
            let paths = placeholder_paths(&node.template);
            for (i, out) in node.inputs.iter().enumerate() {
                for src in out.sources() {
                    match self.by_urn.get(src) {
                        Some(&j) => d.push(j),
                        None => errors.push(DeclarationError::UnknownReference {
                            urn: node.urn.clone(),
                            field: paths.get(&i).cloned().unwrap_or_else(|| "args".to_owned()),
                            target: src.to_string(),
                        }),
                    }
                }
            }
            for r in &node.explicit {
                let found = match r {
                    Reference::Urn(u) => self.by_urn.get(u),
                    Reference::Name(n) => self.by_name.get(n),
                };
                match found {
                    Some(&j) => d.push(j),
                    None => errors.push(DeclarationError::UnknownReference {
                        urn: node.urn.clone(),
                        field: "depends_on".to_owned(),
                        target: match r {
                            Reference::Urn(u) => u.to_string(),
                            Reference::Name(n) => format!("{n:?}"),
                        },
                    }),
                }
            }
            d.sort_unstable();
            d.dedup();
            deps.push(d);
        }
        for (name, out) in &self.exports {
            for src in out.sources() {
                if !self.by_urn.contains_key(src) {
                    errors.push(DeclarationError::UnknownExport {
                        name: name.clone(),
                        target: src.to_string(),
                    });
                }
            }
        }

        // Checks across resources (subnets of one VPC, …), once per declared type.
        let view = StackView {
            nodes: &self.nodes,
            by_urn: &self.by_urn,
        };
        let mut types: Vec<_> = self.registry.types().collect();
        types.sort_by_key(|t| t.type_name());
        for ty in types {
            for (urn, e) in ty.check_stack(&view) {
                errors.push(DeclarationError::Invalid {
                    urn,
                    field: e.field,
                    message: e.message,
                });
            }
        }

        let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(self.nodes.len(), 0);
        for i in 0..self.nodes.len() {
            graph.add_node(i);
        }
        for (i, d) in deps.iter().enumerate() {
            for &j in d {
                graph.add_edge(NodeIndex::new(j), NodeIndex::new(i), ());
            }
        }
        // Kosaraju's algorithm walks with explicit stacks: a chain of 100,000 resources
        // does not overflow a thread's stack (petgraph's Tarjan recurses).
        for scc in petgraph::algo::kosaraju_scc(&graph) {
            let self_loop = scc.len() == 1 && deps[scc[0].index()].contains(&scc[0].index());
            if scc.len() > 1 || self_loop {
                let mut members: Vec<Urn> = scc
                    .iter()
                    .map(|n| self.nodes[n.index()].urn.clone())
                    .collect();
                members.sort();
                errors.push(DeclarationError::Cycle { members });
            }
        }
        if !errors.is_empty() {
            return Err(DeclarationErrors(errors));
        }
        let order = petgraph::algo::toposort(&graph, None)
            .map_err(|c| {
                DeclarationErrors(vec![DeclarationError::Cycle {
                    members: vec![self.nodes[c.node_id().index()].urn.clone()],
                }])
            })?
            .into_iter()
            .map(NodeIndex::index)
            .collect();
        Ok(SealedStack {
            name: self.name,
            index: self.by_urn,
            nodes: self.nodes.into(),
            deps: deps.into(),
            order,
            exports: self.exports,
            registry: self.registry,
        })
    }
}

/// The declared resources, for checks that involve several of them
/// ([`crate::Resource::check_stack`]).
#[derive(Debug, Clone, Copy)]
pub struct StackView<'a> {
    nodes: &'a [Node],
    by_urn: &'a HashMap<Urn, usize>,
}

impl<'a> StackView<'a> {
    /// The declared resources of type `type_name`, in declaration order.
    pub fn of_type(&self, type_name: &'a str) -> impl Iterator<Item = Declared<'a>> + 'a {
        self.nodes
            .iter()
            .filter(move |n| n.type_name == type_name)
            .map(|node| Declared { node })
    }

    /// Every declared resource, in declaration order.
    pub fn all(&self) -> impl Iterator<Item = Declared<'a>> + 'a {
        self.nodes.iter().map(|node| Declared { node })
    }

    /// The declared resource `urn`.
    pub fn get(&self, urn: &Urn) -> Option<Declared<'a>> {
        self.by_urn.get(urn).map(|&i| Declared {
            node: &self.nodes[i],
        })
    }
}

/// One declared resource, seen by a stack check.
#[derive(Debug, Clone, Copy)]
pub struct Declared<'a> {
    node: &'a Node,
}

impl<'a> Declared<'a> {
    /// Its URN.
    pub fn urn(&self) -> &'a Urn {
        &self.node.urn
    }

    /// Its type token.
    pub fn type_name(&self) -> &'static str {
        self.node.type_name
    }

    /// Whether it is declared `retain_on_delete` (kept in the cloud when deleted).
    pub fn retained(&self) -> bool {
        self.node.options.retain_on_delete
    }

    /// The value at the dotted path `path` (`viewer_certificate.minimum_protocol_version`,
    /// `rules.0.priority`) when it is a literal: `None` when it is absent, null, or (at or
    /// above it) an output of another resource.
    pub fn at(&self, path: &str) -> Option<&'a Value> {
        let v = lookup(&self.node.template, path)?;
        if v.is_null() || contains_placeholder(v) {
            return None;
        }
        Some(v)
    }

    /// Whether the value at `path` is declared at all: a literal, or an output of another
    /// resource (known after apply).
    pub fn is_set(&self, path: &str) -> bool {
        lookup(&self.node.template, path).is_some_and(|v| !v.is_null())
    }

    /// The resources whose outputs the value at `path` (or anything below it) takes.
    pub fn references(&self, path: &str) -> Vec<&'a Urn> {
        let mut out = Vec::new();
        if let Some(v) = lookup(&self.node.template, path) {
            let mut idx = Vec::new();
            placeholders(v, &mut idx);
            for i in idx {
                if let Some(o) = self.node.inputs.get(i) {
                    out.extend(o.sources());
                }
            }
        }
        out
    }

    /// The literal value of the top-level args field `field`, if it is one (not an output
    /// of another resource, not absent).
    pub fn literal(&self, field: &str) -> Option<&'a Value> {
        let v = self.node.template.get(field)?;
        match v {
            Value::Object(m) if m.len() == 1 && m.contains_key(OUTPUT_KEY) => None,
            Value::Null => None,
            v => Some(v),
        }
    }

    /// The resource that the top-level args field `field` takes its value from, when it
    /// is an output of exactly one resource (`subnet.vpc_id = vpc.id()`).
    pub fn reference(&self, field: &str) -> Option<&'a Urn> {
        let idx = self.node.template.get(field)?.get(OUTPUT_KEY)?.as_u64()?;
        match self.node.inputs.get(idx as usize)?.sources() {
            [one] => Some(one),
            _ => None,
        }
    }
}

fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(v);
    }
    path.split('.').try_fold(v, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn placeholders(v: &Value, out: &mut Vec<usize>) {
    match v {
        Value::Object(m) => {
            if let (1, Some(i)) = (m.len(), m.get(OUTPUT_KEY).and_then(Value::as_u64)) {
                out.push(i as usize);
                return;
            }
            m.values().for_each(|v| placeholders(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| placeholders(v, out)),
        _ => {}
    }
}

fn contains_placeholder(v: &Value) -> bool {
    let mut idx = Vec::new();
    placeholders(v, &mut idx);
    !idx.is_empty()
}

/// Maps each output placeholder index to the dotted path of the field that holds it.
fn placeholder_paths(template: &Value) -> HashMap<usize, String> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut HashMap<usize, String>) {
        match v {
            Value::Object(m) => {
                if let (1, Some(i)) = (m.len(), m.get(OUTPUT_KEY).and_then(Value::as_u64)) {
                    out.insert(i as usize, path.join("."));
                    return;
                }
                for (k, v) in m {
                    path.push(k.clone());
                    walk(v, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    path.push(i.to_string());
                    walk(v, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = HashMap::new();
    walk(template, &mut Vec::new(), &mut out);
    out
}

/// A checked stack: its resources, their dependencies and a topological order.
#[derive(Debug)]
pub struct SealedStack {
    name: String,
    nodes: Arc<[Node]>,
    index: HashMap<Urn, usize>,
    deps: Arc<[Vec<usize>]>,
    order: Vec<usize>,
    exports: BTreeMap<String, ErasedOutput>,
    registry: Registry,
}

impl SealedStack {
    /// The stack's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The declared resources, in declaration order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    /// The indices of the resources `i` depends on.
    pub fn deps(&self, i: usize) -> &[usize] {
        &self.deps[i]
    }
    /// A topological order (dependencies first).
    pub fn order(&self) -> &[usize] {
        &self.order
    }
    /// The index of a URN.
    pub fn index_of(&self, urn: &Urn) -> Option<usize> {
        self.index.get(urn).copied()
    }
    /// The stack outputs.
    pub fn exports(&self) -> &BTreeMap<String, ErasedOutput> {
        &self.exports
    }
    /// The resource types the stack declares.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
    /// The declared resources, for checks over several of them (policy packs).
    pub fn view(&self) -> StackView<'_> {
        StackView {
            nodes: &self.nodes,
            by_urn: &self.index,
        }
    }
    /// The nodes and their dependencies, shared (for the engine's step tasks).
    pub(crate) fn shared(&self) -> (Arc<[Node]>, Arc<[Vec<usize>]>) {
        (self.nodes.clone(), self.deps.clone())
    }

    pub(crate) fn template(&self, i: usize) -> (&Arc<Value>, &Arc<[ErasedOutput]>) {
        (&self.nodes[i].template, &self.nodes[i].inputs)
    }
}

/// Checks a stack name: it names state files and objects, lock items and the
/// `strata:stack` tag, so it is 1 to 64 letters, digits, `.`, `_` and `-`, not `.` or
/// `..` and not starting with `.`.
pub fn check_stack_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".to_owned());
    }
    if name.len() > 64 {
        return Err(format!("it has {} characters; at most 64", name.len()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "{c:?} is not allowed (letters, digits, '.', '_' and '-' only: the name is part of file and object names)"
        ));
    }
    if name.starts_with('.') || name.contains("..") {
        return Err("it must not start with '.' or contain \"..\"".to_owned());
    }
    Ok(())
}

/// Checks a logical name: it is part of the URN, which every taggable resource carries
/// in its `strata:urn` tag, so it uses only what AWS tags accept (letters, digits,
/// spaces and `_ . : / = + - @`), has no `::` (the URN's separator), and keeps the URN
/// within a tag value's 256 characters.
pub fn check_logical_name(name: &str, urn: &Urn) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".to_owned());
    }
    if name.contains("::") {
        return Err("it must not contain \"::\" (the URN's separator)".to_owned());
    }
    if let Some(c) = name.chars().find(|c| {
        !(c.is_alphanumeric()
            || *c == ' '
            || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@'))
    }) {
        return Err(format!(
            "{c:?} is not allowed: the name goes into the strata:urn tag, which takes letters, digits, spaces and _ . : / = + - @"
        ));
    }
    let len = urn.to_string().chars().count();
    if len > 256 {
        return Err(format!(
            "the URN {urn} has {len} characters; a tag value (strata:urn) takes at most 256"
        ));
    }
    Ok(())
}

/// `ignore_changes` and `replace_on_changes` paths must name a field of the type: a typo
/// (`desired_capcity`) would otherwise be silently ignored. The first segment is checked
/// against the type's args (every field is in the declared args, `null` when unset, and a
/// type that leaves some out lists them in `Resource::FIELDS`); deeper segments may be
/// map keys (`tags.Name`), which no schema lists.
fn check_option_paths(node: &Node, registry: &Registry, errors: &mut Vec<DeclarationError>) {
    let Value::Object(declared) = &*node.template else {
        return;
    };
    let listed = registry.get(node.type_name).map_or(&[][..], |t| t.fields());
    let fields: std::collections::BTreeSet<&str> = declared
        .keys()
        .map(String::as_str)
        .chain(listed.iter().copied())
        .collect();
    let lists = [
        ("ignore_changes", &node.options.ignore_changes),
        ("replace_on_changes", &node.options.replace_on_changes),
    ];
    for (option, paths) in lists {
        for path in paths {
            if path == "*" {
                continue;
            }
            let first = path.split('.').next().unwrap_or_default();
            let message = if path.is_empty() || path.split('.').any(str::is_empty) {
                format!("{path:?} is not a property path (fields joined by '.', or \"*\")")
            } else if fields.contains(first) {
                continue;
            } else {
                let known: Vec<&str> = fields.iter().copied().collect();
                let near = known
                    .iter()
                    .map(|k| (strsim_distance(first, k), *k))
                    .filter(|(d, k)| *d <= 2.max(k.len() / 4))
                    .min();
                let hint =
                    near.map_or_else(String::new, |(_, k)| format!(" (did you mean {k:?}?)"));
                format!(
                    "{path:?} names no field of {}{hint}; its fields are: {}",
                    node.type_name,
                    known.join(", ")
                )
            };
            errors.push(DeclarationError::Invalid {
                urn: node.urn.clone(),
                field: option.to_owned(),
                message,
            });
        }
    }
}

/// The Levenshtein distance of `a` and `b` (for "did you mean").
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}
