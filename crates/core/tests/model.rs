//! A model-based property test of the engine, in the spirit of Pulumi's lifecycle
//! fuzzing (`pkg/engine/lifecycletest/fuzzing`).
//!
//! A program is a model: up to [`SLOTS`] resources, each with an in-place property, a
//! replacing key, an optional dependency on an earlier resource (its id, so the cloud
//! refuses to delete a resource something live still uses), and the options
//! delete-before-replace, protect and retain-on-delete. Random sequences of edits (add,
//! remove, update, replace, toggle an option, rewire a dependency) are each applied with
//! `up`, under a random fault: none, a crash (the run's future dropped midway), a
//! transient failure, or a permanent failure of one call. Then faults stop and `up` runs
//! again to settle. After every settled run:
//! - the cloud equals the declaration: each declared resource exists once, as declared;
//! - nothing is duplicated or orphaned (a resource in the cloud but not in state was
//!   retained on delete);
//! - state matches the cloud, with nothing pending.
//!
//! An edit that the engine refuses (removing or replacing a protected resource), or
//! that the cloud refuses (deleting the old half of a delete-before-replace that a
//! dependent updated in place still uses), is undone, as a user would. Only resources that use nothing are retained (a retained
//! resource that still used another would keep the cloud from deleting that one). At the end, `destroy` (after unprotecting) leaves only what
//! was retained.
//!
//! Cases: `STRATA_MODEL_CASES` (default 300; thousands for a long run).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use strata_core::testing::{Call, MemCloud, Mock, MockHandle};
use strata_core::*;

const SLOTS: usize = 8;

#[derive(Debug, Clone, Default, PartialEq)]
struct Res {
    value: u32,
    key: u32,
    dep: Option<usize>,
    /// The dependency is held in the replacing key (the dependent is replaced with it),
    /// else in an in-place property (the dependent is updated).
    dep_in_key: bool,
    dbr: bool,
    protect: bool,
    retain: bool,
}

type Program = BTreeMap<usize, Res>;

#[derive(Debug, Clone)]
enum Edit {
    Add(usize),
    Remove(usize),
    Update(usize),
    Replace(usize),
    Dbr(usize),
    Protect(usize),
    Retain(usize),
    Rewire(usize, Option<usize>, bool),
}

#[derive(Debug, Clone)]
enum Fault {
    None,
    /// The run is dropped after this many virtual milliseconds.
    Crash(u64),
    /// The next call of this kind on this slot fails transiently (after the change, or
    /// before it).
    Transient(usize, Call, bool),
    /// Every call of this kind on this slot fails, for this run.
    Permanent(usize, Call),
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![Just(Call::Create), Just(Call::Update), Just(Call::Delete)]
}

fn edit() -> impl Strategy<Value = Edit> {
    let slot = 0..SLOTS;
    prop_oneof![
        3 => slot.clone().prop_map(Edit::Add),
        1 => slot.clone().prop_map(Edit::Remove),
        2 => slot.clone().prop_map(Edit::Update),
        2 => slot.clone().prop_map(Edit::Replace),
        1 => slot.clone().prop_map(Edit::Dbr),
        1 => slot.clone().prop_map(Edit::Protect),
        1 => slot.clone().prop_map(Edit::Retain),
        2 => (slot.clone(), proptest::option::of(0..SLOTS), any::<bool>())
            .prop_map(|(i, j, in_key)| Edit::Rewire(i, j, in_key)),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        3 => Just(Fault::None),
        2 => (1u64..60).prop_map(Fault::Crash),
        1 => (0..SLOTS, call(), any::<bool>()).prop_map(|(i, c, a)| Fault::Transient(i, c, a)),
        1 => (0..SLOTS, call()).prop_map(|(i, c)| Fault::Permanent(i, c)),
    ]
}

fn name(i: usize) -> String {
    format!("r{i}")
}

/// Applies `edit` to `p`; `false` if it changes nothing.
fn apply(p: &mut Program, edit: &Edit) -> bool {
    match *edit {
        Edit::Add(i) => {
            if p.contains_key(&i) {
                return false;
            }
            p.insert(i, Res::default());
        }
        Edit::Remove(i) => {
            if p.remove(&i).is_none() {
                return false;
            }
            // What used it now depends on nothing (a program that still referred to it
            // would not compile).
            for r in p.values_mut() {
                if r.dep == Some(i) {
                    r.dep = None;
                }
            }
        }
        Edit::Rewire(i, j, in_key) => {
            let j = j.filter(|j| *j < i && p.contains_key(j));
            match p.get_mut(&i) {
                // (A retained resource uses nothing: see `Edit::Retain`.)
                Some(r) if (r.dep, r.dep_in_key) != (j, in_key) && !(r.retain && j.is_some()) => {
                    r.dep = j;
                    r.dep_in_key = in_key;
                }
                _ => return false,
            }
        }
        // Only a resource that uses nothing is retained: one left in the cloud while
        // using another keeps that one from being deleted, by the cloud (as AWS refuses
        // to delete a subnet an instance still sits in), which no engine can plan for.
        Edit::Retain(i) if p.get(&i).is_some_and(|r| !r.retain && r.dep.is_some()) => {
            return false;
        }
        Edit::Update(i) | Edit::Replace(i) | Edit::Dbr(i) | Edit::Protect(i) | Edit::Retain(i) => {
            let Some(r) = p.get_mut(&i) else {
                return false;
            };
            match edit {
                Edit::Update(_) => r.value += 1,
                Edit::Replace(_) => r.key += 1,
                Edit::Dbr(_) => r.dbr = !r.dbr,
                Edit::Protect(_) => r.protect = !r.protect,
                _ => r.retain = !r.retain,
            }
        }
    }
    true
}

fn declare(p: &Program) -> SealedStack {
    let mut s = Stack::new("dev");
    let mut handles: BTreeMap<usize, Handle<Mock>> = BTreeMap::new();
    for (&i, r) in p {
        let mut args = Mock::new()
            .prop("v", r.value.to_string())
            .key(format!("k{}", r.key))
            .duration(Duration::from_millis(5 + (i as u64 * 7) % 11));
        if let Some(h) = r.dep.and_then(|j| handles.get(&j)) {
            if r.dep_in_key {
                let key = r.key;
                args = args.key(h.id().map(move |id: String| format!("k{key}-{id}")));
            } else {
                args = args.prop("dep", h.id());
            }
        }
        let mut o = ResourceOptions::new();
        if r.dbr {
            o = o.delete_before_replace();
        }
        if r.protect {
            o = o.protect();
        }
        if r.retain {
            o = o.retain_on_delete();
        }
        handles.insert(i, s.add_with(name(i), args, o));
    }
    s.seal().unwrap()
}

fn engine(cloud: &MemCloud, be: &MemoryBackend) -> Engine {
    let mut r = Registry::new();
    r.register::<Mock>();
    Engine::new(Arc::new(be.clone()))
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&r)
        .parallel(3)
}

/// Checks the invariants after a settled run of `p`. `retained` holds the ids of
/// resources that may stay in the cloud unmanaged.
async fn check(
    p: &Program,
    cloud: &MemCloud,
    e: &Engine,
    retained: &BTreeSet<String>,
) -> Result<(), TestCaseError> {
    let st = e.load_state("dev").await.unwrap();
    prop_assert!(
        st.pending.is_empty(),
        "pending after a settled run: {:?}",
        st.pending
    );
    let live = cloud.resources();
    let by_id: BTreeMap<&str, &testing::CloudResource> =
        live.iter().map(|r| (r.id.as_str(), r)).collect();
    // Declared = state = cloud, as declared.
    prop_assert_eq!(
        st.resources.len(),
        p.len(),
        "state: {:?}",
        st.resources.keys()
    );
    for (&i, r) in p {
        let urn = Urn::new("dev", "test:mock", &name(i));
        let Some(rs) = st.resources.get(&urn) else {
            return Err(TestCaseError::fail(format!("{urn} missing from state")));
        };
        let Some(c) = by_id.get(rs.id.as_str()) else {
            return Err(TestCaseError::fail(format!(
                "{urn} ({}) missing from the cloud",
                rs.id
            )));
        };
        prop_assert_eq!(&c.name, &name(i));
        prop_assert_eq!(c.props.get("v"), Some(&r.value.to_string()), "{}", urn);
        let dep_id = r.dep.map(|j| {
            st.resources[&Urn::new("dev", "test:mock", &name(j))]
                .id
                .clone()
        });
        let (key, prop) = match (&dep_id, r.dep_in_key) {
            (Some(d), true) => (format!("k{}-{d}", r.key), None),
            _ => (format!("k{}", r.key), dep_id.clone()),
        };
        prop_assert_eq!(c.key.clone(), Some(key), "{}", urn);
        prop_assert_eq!(c.props.get("dep").cloned(), prop, "{}", urn);
    }
    // Nothing duplicated or orphaned: what state does not hold was retained.
    let managed: BTreeSet<&str> = st.resources.values().map(|r| r.id.as_str()).collect();
    for c in &live {
        if !managed.contains(c.id.as_str()) {
            prop_assert!(
                retained.contains(&c.id),
                "orphan {} ({}) was never retained; cloud: {:?}",
                c.name,
                c.id,
                live
            );
        }
    }
    Ok(())
}

/// Runs `up` of `p` under `fault`; the outcome does not matter (a fault may fail it).
async fn faulty_up(e: &Engine, cloud: &MemCloud, p: &Program, fault: &Fault) {
    let st = declare(p);
    match fault {
        Fault::None => {
            let _ = e.up(&st, &RunOptions::default()).await;
        }
        Fault::Crash(ms) => {
            let _ = tokio::time::timeout(
                Duration::from_millis(*ms),
                e.up(&st, &RunOptions::default()),
            )
            .await;
            // The dropped run's lock is released by a spawned task.
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Fault::Transient(i, c, after) => {
            cloud.fail_transiently(&name(*i), *c, 1, *after);
            let _ = e.up(&st, &RunOptions::default()).await;
        }
        Fault::Permanent(i, c) => {
            cloud.fail_on(&name(*i), *c);
            let _ = e.up(&st, &RunOptions::default()).await;
        }
    }
    cloud.clear_failures();
}

/// Names whose resource may be left in the cloud when `before` becomes `after`: retained
/// ones that are removed or replaced.
fn newly_retained(before: &Program, after: &Program, out: &mut BTreeSet<String>) {
    for (i, r) in before {
        if r.retain && after.get(i).is_none_or(|a| a.key != r.key) {
            out.insert(name(*i));
        }
    }
}

/// Whether going from `before` to `after` replaces a delete-before-replace resource (or
/// one replaced because of it) that a dependent only updates in place still uses: its
/// delete comes while the dependent holds it, and the cloud refuses.
fn deletes_first_under_an_updated_dependent(before: &Program, after: &Program) -> bool {
    let replacing = |r: &Res| (r.key, r.dep_in_key.then_some(r.dep));
    let mut replaced: BTreeSet<usize> = after
        .iter()
        .filter(|(i, r)| before.get(i).is_some_and(|b| replacing(b) != replacing(r)))
        .map(|(i, _)| *i)
        .collect();
    // What holds a replaced resource in its key is replaced too.
    for (k, r) in after {
        if r.dep_in_key && r.dep.is_some_and(|d| replaced.contains(&d)) {
            replaced.insert(*k);
        }
    }
    // What goes first: replaced delete-before-replace resources, and what holds them in
    // its key.
    let mut first: BTreeSet<usize> = replaced.iter().copied().filter(|i| after[i].dbr).collect();
    for (k, r) in after {
        if r.dep_in_key && r.dep.is_some_and(|d| first.contains(&d)) {
            first.insert(*k);
        }
    }
    after
        .values()
        .any(|r| !r.dep_in_key && r.dep.is_some_and(|d| first.contains(&d)))
}

fn cases() -> u32 {
    std::env::var("STRATA_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_programs_under_faults_converge(
        initial in proptest::collection::vec(proptest::option::of(0..SLOTS), 3..=SLOTS),
        steps in proptest::collection::vec((edit(), fault()), 3..14)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
            let e = engine(&cloud, &be);
            // A first program of a few resources, deployed cleanly.
            let mut program = Program::new();
            for (i, dep) in initial.iter().enumerate() {
                let dep = dep.filter(|j| *j < i);
                program.insert(i, Res { dep, ..Res::default() });
            }
            let sum = e.up(&declare(&program), &RunOptions::default()).await.unwrap();
            prop_assert!(sum.is_success(), "{:?}", sum);
            let mut retained = BTreeSet::new();
            for (edit, fault) in &steps {
                let mut next = program.clone();
                if !apply(&mut next, edit) {
                    continue;
                }
                // A retained resource may stay behind even when the run is refused
                // later on: the allowance (for the resource as it is now) is made as soon
                // as the edit is tried.
                let mut names = BTreeSet::new();
                newly_retained(&program, &next, &mut names);
                let st = e.load_state("dev").await.unwrap();
                for r in st.resources.values() {
                    if names.contains(r.urn.name()) {
                        retained.insert(r.id.clone());
                    }
                }
                faulty_up(&e, &cloud, &next, fault).await;
                let settled = e.up(&declare(&next), &RunOptions::default()).await;
                // Deleting the old half of a delete-before-replace that a dependent only
                // updated in place still uses: the cloud refuses, as AWS does (Pulumi
                // and Terraform fail there too). Nothing changed; the user undoes it.
                let updated_dependent = deletes_first_under_an_updated_dependent(&program, &next);
                let in_use = updated_dependent
                    && matches!(&settled, Ok(sum) if !sum.failed.is_empty()
                    && sum.failed.iter().all(|(_, op, e)| {
                        *op == strata_core::plan::Op::Delete && e.contains("is still used by")
                    }));
                match settled {
                    Ok(sum) if sum.is_success() => program = next,
                    Ok(_) if in_use => {
                        let sum = e.up(&declare(&program), &RunOptions::default()).await;
                        prop_assert!(
                            matches!(&sum, Ok(s) if s.is_success()),
                            "undoing an edit the cloud refused {:?}: {:?}", edit, sum
                        );
                    }
                    Err(EngineError::Plan(why)) if why.to_string().contains("protected") => {
                        // Refused: the user undoes the edit, and the stack settles back.
                        let sum = e.up(&declare(&program), &RunOptions::default()).await;
                        prop_assert!(
                            matches!(&sum, Ok(s) if s.is_success()),
                            "undoing a refused edit {:?}: {:?}", edit, sum
                        );
                    }
                    other => {
                        return Err(TestCaseError::fail(format!(
                            "{edit:?} after {fault:?} did not settle: {other:?}"
                        )));
                    }
                }
                check(&program, &cloud, &e, &retained).await?;
            }
            // Unprotect, then destroy: only retained resources stay.
            for r in program.values_mut() {
                r.protect = false;
            }
            let sum = e.up(&declare(&program), &RunOptions::default()).await.unwrap();
            prop_assert!(sum.is_success(), "{:?}", sum);
            let st = e.load_state("dev").await.unwrap();
            for (i, r) in &program {
                if r.retain {
                    let urn = Urn::new("dev", "test:mock", &name(*i));
                    retained.insert(st.resources[&urn].id.clone());
                }
            }
            let sum = e.destroy("dev", &RunOptions::default()).await.unwrap();
            prop_assert!(sum.is_success(), "{:?}", sum);
            prop_assert!(e.load_state("dev").await.unwrap().resources.is_empty());
            for c in cloud.resources() {
                prop_assert!(retained.contains(&c.id), "{} ({}) survived destroy", c.name, c.id);
            }
            Ok(())
        })?;
    }
}
