//! Policy checks at plan time: packs of rules over the declared stack.
//!
//! A [`PolicyPack`] looks at the sealed stack (every resource's type and declared args,
//! through a [`StackView`]) and reports [`Violation`]s, each naming the resource and the
//! field. `preview` lists them in [`crate::Plan::violations`]; `up` refuses to start when
//! any is [`Enforcement::Mandatory`], before it takes the lock or makes any call.
//!
//! Packs are plain trait objects, so a team adds its own rules next to the built-in pack
//! (`strata::policy::Baseline`) with [`crate::Engine::policy_pack`]:
//!
//! ```
//! use strata_core::policy::{Enforcement, PolicyPack, Violation};
//! use strata_core::StackView;
//!
//! /// Every resource must be named in kebab case.
//! #[derive(Debug)]
//! struct KebabNames;
//!
//! impl PolicyPack for KebabNames {
//!     fn name(&self) -> &str {
//!         "kebab-names"
//!     }
//!     fn check(&self, stack: &StackView<'_>) -> Vec<Violation> {
//!         stack
//!             .all()
//!             .filter(|r| r.urn().name().contains('_'))
//!             .map(|r| {
//!                 Violation::new(self.name(), "kebab-case", Enforcement::Advisory)
//!                     .resource(r.urn())
//!                     .message("use hyphens in logical names")
//!             })
//!             .collect()
//!     }
//! }
//! ```

use std::fmt;

use serde::Serialize;

use crate::stack::StackView;
use crate::urn::Urn;

/// What a violation does to `up`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// `up` refuses to run.
    Mandatory,
    /// Reported, not enforced.
    Advisory,
}

/// One finding of a policy pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The pack.
    pub pack: String,
    /// The rule's id (`encryption-at-rest`).
    pub rule: String,
    /// The resource, or `None` when the finding is about the stack as a whole (a
    /// required resource that is missing).
    pub urn: Option<Urn>,
    /// The args field, as a dotted path (empty for stack-wide findings).
    pub field: String,
    /// What is wrong and how to put it right.
    pub message: String,
    /// Whether `up` refuses it.
    pub enforcement: Enforcement,
}

impl Violation {
    /// A finding of rule `rule` of pack `pack`.
    pub fn new(pack: impl Into<String>, rule: impl Into<String>, enforcement: Enforcement) -> Self {
        Violation {
            pack: pack.into(),
            rule: rule.into(),
            urn: None,
            field: String::new(),
            message: String::new(),
            enforcement,
        }
    }

    /// About resource `urn`.
    pub fn resource(mut self, urn: &Urn) -> Self {
        self.urn = Some(urn.clone());
        self
    }

    /// About field `field` of the resource.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }

    /// What is wrong.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.enforcement {
            Enforcement::Mandatory => "mandatory",
            Enforcement::Advisory => "advisory",
        };
        write!(f, "[{level}] {}/{}: ", self.pack, self.rule)?;
        match &self.urn {
            Some(urn) if self.field.is_empty() => write!(f, "{urn}: ")?,
            Some(urn) => write!(f, "{urn} field {}: ", self.field)?,
            None => write!(f, "stack: ")?,
        }
        f.write_str(&self.message)
    }
}

/// A set of rules over a declared stack.
pub trait PolicyPack: Send + Sync + fmt::Debug {
    /// The pack's name, shown with each of its violations.
    fn name(&self) -> &str;
    /// Every violation in `stack`. It must not call AWS: it runs at plan time.
    fn check(&self, stack: &StackView<'_>) -> Vec<Violation>;
}

/// The mandatory violations that stop an `up`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyViolations(pub Vec<Violation>);

impl fmt::Display for PolicyViolations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the stack violates {} mandatory polic{}:",
            self.0.len(),
            if self.0.len() == 1 { "y" } else { "ies" }
        )?;
        for v in &self.0 {
            writeln!(f, "  - {v}")?;
        }
        Ok(())
    }
}

/// Runs every pack over `stack`, in order.
pub fn check_all(
    packs: &[std::sync::Arc<dyn PolicyPack>],
    stack: &StackView<'_>,
) -> Vec<Violation> {
    packs.iter().flat_map(|p| p.check(stack)).collect()
}
