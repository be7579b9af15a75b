//! The typed event stream of a run, fanned out to every subscriber.
//!
//! Subscribers get an unbounded channel each: the engine never blocks on a slow consumer
//! and no event is dropped. Values in events are redacted (no secret in plaintext).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::diff::PropertyChange;
use crate::plan::Op;
use crate::urn::Urn;

/// Severity of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Informational.
    Info,
    /// Something to look at.
    Warning,
    /// An error.
    Error,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The operation (`up`, `destroy`, `refresh`).
    pub operation: String,
    /// Steps that succeeded, with what they did.
    pub succeeded: Vec<(Urn, Op)>,
    /// Steps that failed, with the error.
    pub failed: Vec<(Urn, Op, String)>,
    /// Steps skipped because a dependency failed (with that dependency), or because the
    /// run was cancelled.
    pub skipped: Vec<(Urn, Op, String)>,
    /// Resources that needed nothing.
    pub unchanged: usize,
    /// Whether Ctrl-C (or a cancel token) stopped the run early.
    pub cancelled: bool,
    /// Wall time, in milliseconds.
    pub elapsed_ms: u64,
}

impl Summary {
    /// Whether every step succeeded and the run was not cancelled.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && !self.cancelled
    }

    /// How many steps changed something.
    pub fn changed(&self) -> usize {
        self.succeeded
            .iter()
            .filter(|(_, op)| *op != Op::Same)
            .count()
    }

    /// One line: `up: 3 created, 1 updated, … in 1.2s`.
    pub fn render(&self) -> String {
        let count = |op: Op| self.succeeded.iter().filter(|(_, o)| *o == op).count();
        let mut parts = Vec::new();
        for (op, word) in [
            (Op::Create, "created"),
            (Op::Update, "updated"),
            (Op::Replace, "replaced"),
            (Op::Delete, "deleted"),
            (Op::Read, "refreshed"),
        ] {
            let n = count(op);
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        parts.push(format!("{} unchanged", self.unchanged + count(Op::Same)));
        if !self.failed.is_empty() {
            parts.push(format!("{} failed", self.failed.len()));
        }
        if !self.skipped.is_empty() {
            parts.push(format!("{} skipped", self.skipped.len()));
        }
        let mut s = format!(
            "{}: {} in {:.1}s",
            self.operation,
            parts.join(", "),
            Duration::from_millis(self.elapsed_ms).as_secs_f64()
        );
        if self.cancelled {
            s.push_str(" (cancelled)");
        }
        s
    }
}

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run starts, with this many steps.
    RunStarted {
        /// `up`, `destroy`, `refresh`.
        operation: String,
        /// The stack.
        stack: String,
        /// Steps that will do something.
        steps: usize,
    },
    /// A step started.
    StepStarted {
        /// The resource.
        urn: Urn,
        /// What the step does.
        op: Op,
    },
    /// A step finished.
    StepFinished {
        /// The resource.
        urn: Urn,
        /// What it did.
        op: Op,
        /// How long it took, in milliseconds.
        elapsed_ms: u64,
    },
    /// A step failed.
    StepFailed {
        /// The resource.
        urn: Urn,
        /// What it tried.
        op: Op,
        /// The error.
        error: String,
    },
    /// A step was skipped.
    StepSkipped {
        /// The resource.
        urn: Urn,
        /// What it would have done.
        op: Op,
        /// Why: the failed dependency, or cancellation.
        reason: String,
    },
    /// Refresh found a difference between state and AWS.
    Drift {
        /// The resource.
        urn: Urn,
        /// Property by property (redacted).
        changes: Vec<PropertyChange>,
        /// Whether the resource is gone.
        deleted: bool,
    },
    /// A message.
    Diagnostic {
        /// Its severity.
        level: Level,
        /// The resource it concerns, if any.
        urn: Option<Urn>,
        /// The text.
        message: String,
    },
    /// The run ended.
    Summary(Summary),
}

/// Fans events out to subscribers.
#[derive(Debug, Clone, Default)]
pub struct EventBus {
    subscribers: Arc<Mutex<Vec<mpsc::UnboundedSender<Event>>>>,
}

impl EventBus {
    /// A bus with no subscribers.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new subscriber: it receives every event emitted from now on.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut s) = self.subscribers.lock() {
            s.push(tx);
        }
        rx
    }

    /// Sends `event` to every live subscriber.
    pub fn emit(&self, event: Event) {
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.retain(|s| !s.is_closed());
            if let Some((last, rest)) = subs.split_last() {
                for s in rest {
                    let _ = s.send(event.clone());
                }
                let _ = last.send(event);
            }
        }
    }
}
