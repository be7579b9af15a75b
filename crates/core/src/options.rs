//! Per-resource options, as Pulumi has them.

use serde::{Deserialize, Serialize};

use crate::resource::Handle;
use crate::urn::Urn;

/// A reference to another resource of the same stack, for `depends_on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// By URN (what a handle gives).
    Urn(Urn),
    /// By logical name, which may be declared later in the program.
    Name(String),
}

impl<R> From<&Handle<R>> for Reference
where
    R: crate::resource::Resource,
{
    fn from(h: &Handle<R>) -> Self {
        Reference::Urn(h.urn().clone())
    }
}

impl From<&str> for Reference {
    fn from(name: &str) -> Self {
        Reference::Name(name.to_owned())
    }
}

impl From<Urn> for Reference {
    fn from(u: Urn) -> Self {
        Reference::Urn(u)
    }
}

/// Options of one resource. All default to off.
#[derive(Debug, Clone, Default)]
pub struct ResourceOptions {
    /// Any plan that would delete or replace the resource is refused.
    pub protect: bool,
    /// Deleting the resource only drops it from state; it stays in AWS.
    pub retain_on_delete: bool,
    /// Changes to these args paths are ignored; the value in state is kept.
    pub ignore_changes: Vec<String>,
    /// A change to any of these args paths replaces the resource.
    pub replace_on_changes: Vec<String>,
    /// Replace by deleting first, then creating (for resources whose names must be unique).
    pub delete_before_replace: bool,
    /// Ordering without data flow.
    pub depends_on: Vec<Reference>,
}

impl ResourceOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `protect`.
    pub fn protect(mut self) -> Self {
        self.protect = true;
        self
    }
    /// Sets `retain_on_delete`.
    pub fn retain_on_delete(mut self) -> Self {
        self.retain_on_delete = true;
        self
    }
    /// Adds a path to `ignore_changes` (`*`: every property).
    pub fn ignore_changes(mut self, path: impl Into<String>) -> Self {
        self.ignore_changes.push(path.into());
        self
    }
    /// Adds a path to `replace_on_changes` (`*`: any change replaces).
    pub fn replace_on_changes(mut self, path: impl Into<String>) -> Self {
        self.replace_on_changes.push(path.into());
        self
    }
    /// Sets `delete_before_replace`.
    pub fn delete_before_replace(mut self) -> Self {
        self.delete_before_replace = true;
        self
    }
    /// Adds an explicit dependency.
    pub fn depends_on(mut self, r: impl Into<Reference>) -> Self {
        self.depends_on.push(r.into());
        self
    }

    /// Whether these options are what state records (without allocating).
    pub(crate) fn same_as(&self, s: &StoredOptions) -> bool {
        self.protect == s.protect
            && self.retain_on_delete == s.retain_on_delete
            && self.delete_before_replace == s.delete_before_replace
            && self.ignore_changes == s.ignore_changes
            && self.replace_on_changes == s.replace_on_changes
    }

    pub(crate) fn stored(&self) -> StoredOptions {
        StoredOptions {
            protect: self.protect,
            retain_on_delete: self.retain_on_delete,
            ignore_changes: self.ignore_changes.clone(),
            replace_on_changes: self.replace_on_changes.clone(),
            delete_before_replace: self.delete_before_replace,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The options as recorded in state (dependencies are recorded separately).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOptions {
    /// See [`ResourceOptions::protect`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub protect: bool,
    /// See [`ResourceOptions::retain_on_delete`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub retain_on_delete: bool,
    /// See [`ResourceOptions::ignore_changes`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_changes: Vec<String>,
    /// See [`ResourceOptions::replace_on_changes`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_on_changes: Vec<String>,
    /// See [`ResourceOptions::delete_before_replace`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub delete_before_replace: bool,
}
