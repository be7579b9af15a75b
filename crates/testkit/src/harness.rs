//! The harness of the resource crates' contract tests: an engine over an in-memory
//! backend whose providers talk to the shared local AWS, with the steps every contract
//! test takes (preview ops, up and re-plan nothing, refresh drift, destroy).
//!
//! It panics on failure with what went wrong: it is test support, used only by tests.

use std::collections::BTreeMap;
use std::sync::Arc;

use strata_core::aws::Aws;
use strata_core::plan::Op;
use strata_core::{
    Context, Engine, MemoryBackend, Registry, RunOptions, SealedStack, Stack, State,
};

use crate::LocalAws;

/// One stack's engine against the shared local AWS.
#[derive(Debug)]
pub struct Harness {
    /// The engine.
    pub engine: Engine,
    /// The SDK configuration of the local AWS (for raw SDK calls).
    pub conf: aws_config::SdkConfig,
    /// The stack's name.
    pub stack: String,
}

impl Harness {
    /// A harness for stack `stack`, with the types `register` adds.
    pub async fn new(stack: &str, register: impl FnOnce(&mut Registry)) -> Self {
        let conf = LocalAws::shared().sdk_config().await;
        let mut reg = Registry::new();
        register(&mut reg);
        Harness {
            engine: Engine::new(Arc::new(MemoryBackend::new()))
                .with_context(Context::new().with(Aws::new(conf.clone())))
                .with_registry(&reg),
            conf,
            stack: stack.to_owned(),
        }
    }

    /// The same, with a passphrase for secrets in state.
    pub fn with_passphrase(mut self, passphrase: &str) -> Self {
        self.engine = self.engine.passphrase(Some(passphrase.to_owned()));
        self
    }

    /// The stack that `build` declares, sealed.
    pub fn stack(&self, build: impl FnOnce(&mut Stack)) -> SealedStack {
        let mut s = Stack::new(&self.stack);
        build(&mut s);
        s.seal().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The planned op of each resource, by logical name.
    pub async fn ops(&self, st: &SealedStack) -> BTreeMap<String, Op> {
        let plan = self
            .engine
            .preview(st, &[])
            .await
            .unwrap_or_else(|e| panic!("preview: {e}"));
        plan.steps
            .into_iter()
            .map(|s| (s.urn.name().to_owned(), s.op))
            .collect()
    }

    /// Runs `up`, which must succeed, after which a preview must plan nothing.
    pub async fn up(&self, st: &SealedStack) {
        let sum = self
            .engine
            .up(st, &RunOptions::default())
            .await
            .unwrap_or_else(|e| panic!("up: {e}"));
        assert!(sum.is_success(), "{sum:?}");
        let again = self
            .engine
            .preview(st, &[])
            .await
            .unwrap_or_else(|e| panic!("preview: {e}"));
        assert!(
            !again.has_changes(),
            "a second up would change: {:?}",
            again.steps
        );
    }

    /// Runs `up`, whose step for the resource named `name` must fail because its name
    /// is taken by something this stack did not make. Checks that the run left no pending
    /// operation and no state for `name` behind, and returns the step's error.
    pub async fn up_conflict(&self, st: &SealedStack, name: &str) -> String {
        let sum = self
            .engine
            .up(st, &RunOptions::default())
            .await
            .unwrap_or_else(|e| panic!("up: {e}"));
        let error = sum
            .failed
            .iter()
            .find(|(u, _, _)| u.name() == name)
            .map(|(_, _, e)| e.clone())
            .unwrap_or_else(|| panic!("{name} did not fail: {sum:?}"));
        assert!(
            error.contains("not managed by this stack"),
            "{name} failed for another reason: {error}"
        );
        let state = self.state().await;
        assert!(
            state.pending.is_empty(),
            "a failed create left pending operations: {:?}",
            state.pending
        );
        assert!(
            !state.resources.values().any(|r| r.urn.name() == name),
            "{name} was adopted into state"
        );
        error
    }

    /// The stack's state.
    pub async fn state(&self) -> State {
        self.engine
            .load_state(&self.stack)
            .await
            .unwrap_or_else(|e| panic!("state: {e}"))
    }

    /// The provider id of the resource named `name`.
    pub async fn id(&self, name: &str) -> String {
        self.state()
            .await
            .resources
            .values()
            .find(|r| r.urn.name() == name)
            .map(|r| r.id.clone())
            .unwrap_or_else(|| panic!("{name} is not in state"))
    }

    /// Refreshes (which must succeed: a failed read is not "no drift") and gives the
    /// drifted properties' paths by resource name.
    pub async fn drift(&self) -> BTreeMap<String, Vec<String>> {
        let report = self
            .engine
            .refresh(&self.stack, &RunOptions::default())
            .await
            .unwrap_or_else(|e| panic!("refresh: {e}"));
        assert!(report.summary.is_success(), "{:?}", report.summary);
        report
            .drift
            .into_iter()
            .map(|(u, c)| {
                (
                    u.name().to_owned(),
                    c.unwrap_or_default().into_iter().map(|c| c.path).collect(),
                )
            })
            .collect()
    }

    /// Destroys the stack, which must succeed and leave its state empty.
    pub async fn destroy(&self) {
        let sum = self
            .engine
            .destroy(&self.stack, &RunOptions::default())
            .await
            .unwrap_or_else(|e| panic!("destroy: {e}"));
        assert!(sum.is_success(), "{sum:?}");
        assert!(self.state().await.resources.is_empty());
    }
}
