//! Policy packs at plan time, against the engine's in-memory cloud: preview lists every
//! violation with its resource and field, `up` refuses mandatory ones before any call or
//! lock, and advisory ones do not stop it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use strata_core::policy::{Enforcement, PolicyPack, Violation};
use strata_core::testing::{MemCloud, Mock, MockHandle};
use strata_core::*;

/// Mock resources of kind "db" must declare `encrypted = "true"` (mandatory), and every
/// resource should have a `team` prop (advisory). One "trail" is required in the stack.
#[derive(Debug)]
struct Pack;

impl PolicyPack for Pack {
    fn name(&self) -> &str {
        "test-pack"
    }
    fn check(&self, stack: &StackView<'_>) -> Vec<Violation> {
        let mut out = Vec::new();
        for r in stack.of_type(<Mock as Resource>::TYPE) {
            let kind = r.at("props.kind").and_then(|v| v.as_str());
            if kind == Some("db")
                && r.at("props.encrypted").and_then(|v| v.as_str()) != Some("true")
            {
                out.push(
                    Violation::new(self.name(), "encrypted", Enforcement::Mandatory)
                        .resource(r.urn())
                        .field("props.encrypted")
                        .message("databases are encrypted"),
                );
            }
            if !r.is_set("props.team") {
                out.push(
                    Violation::new(self.name(), "team", Enforcement::Advisory)
                        .resource(r.urn())
                        .field("props.team"),
                );
            }
        }
        if !stack
            .all()
            .any(|r| r.at("props.kind").and_then(|v| v.as_str()) == Some("trail"))
        {
            out.push(
                Violation::new(self.name(), "trail", Enforcement::Mandatory)
                    .message("the stack declares no trail"),
            );
        }
        out
    }
}

fn engine(cloud: &MemCloud) -> Engine {
    let mut r = Registry::new();
    r.register::<Mock>();
    Engine::new(Arc::new(MemoryBackend::new()))
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&r)
        .policy_pack(Arc::new(Pack))
}

fn stack(encrypted: &str, trail: bool) -> SealedStack {
    let mut s = Stack::new("dev");
    let team = s.add("team", Mock::new().prop("kind", "x").prop("team", "a"));
    s.add(
        "db",
        Mock::new()
            .prop("kind", "db")
            .prop("encrypted", encrypted)
            .prop("team", team.id()),
    );
    if trail {
        s.add("trail", Mock::new().prop("kind", "trail").prop("team", "a"));
    }
    s.seal().unwrap()
}

#[tokio::test]
async fn preview_lists_violations_and_up_refuses_mandatory_ones() {
    let cloud = MemCloud::new();
    let e = engine(&cloud);
    let st = stack("false", false);
    let plan = e.preview(&st, &[]).await.unwrap();
    let found: Vec<(Option<String>, String, String)> = plan
        .violations
        .iter()
        .map(|v| {
            (
                v.urn.as_ref().map(|u| u.name().to_owned()),
                v.field.clone(),
                v.rule.clone(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                Some("db".into()),
                "props.encrypted".into(),
                "encrypted".into()
            ),
            (None, String::new(), "trail".into()),
        ],
        "an output-valued prop counts as set: {:?}",
        plan.violations
    );

    let err = e.up(&st, &RunOptions::default()).await.unwrap_err();
    let EngineError::Policy(v) = &err else {
        panic!("{err}")
    };
    assert_eq!(v.0.len(), 2);
    let text = err.to_string();
    assert!(text.contains("db field props.encrypted"), "{text}");
    assert!(cloud.log().is_empty(), "no call before the refusal");
    assert!(cloud.resources().is_empty());
    assert!(e.load_state("dev").await.unwrap().resources.is_empty());
}

#[tokio::test]
async fn advisory_violations_do_not_stop_up() {
    let cloud = MemCloud::new();
    let e = engine(&cloud);
    let mut s = Stack::new("dev");
    s.add(
        "db",
        Mock::new().prop("kind", "db").prop("encrypted", "true"),
    );
    s.add("trail", Mock::new().prop("kind", "trail").prop("team", "a"));
    let st = s.seal().unwrap();
    let plan = e.preview(&st, &[]).await.unwrap();
    assert_eq!(plan.violations.len(), 1);
    assert_eq!(plan.violations[0].enforcement, Enforcement::Advisory);
    assert_eq!(plan.violations[0].field, "props.team");
    let sum = e.up(&st, &RunOptions::default()).await.unwrap();
    assert!(sum.is_success());
    assert_eq!(cloud.resources().len(), 2);
}

#[tokio::test]
async fn a_compliant_stack_deploys() {
    let cloud = MemCloud::new();
    let e = engine(&cloud);
    let st = stack("true", true);
    assert!(e.preview(&st, &[]).await.unwrap().violations.is_empty());
    assert!(e
        .up(&st, &RunOptions::default())
        .await
        .unwrap()
        .is_success());
    assert_eq!(cloud.resources().len(), 3);
}
