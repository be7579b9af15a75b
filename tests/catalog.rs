//! The catalog of bad input and faults: declarations, the engine, state files, backends
//! and CLI flags. Each case asserts that
//! - the error names what is wrong: the resource and field, or the flag, or the file;
//! - no cloud call was made where none should be (the in-memory cloud's log; for the
//!   CLI, AWS is unreachable, so a call would fail differently);
//! - state is unchanged (byte for byte) and still loads.
//!
//! Add a case here for every bad input a user meets that is not yet refused cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use strata_core::testing::{Call, MemCloud, Mock, MockHandle};
use strata_core::*;

/// One in-memory cloud and backend, with a deployed stack `dev` (`a`; `b` uses `a`;
/// `locked` is protected; `named` holds a unique name).
struct Fx {
    cloud: MemCloud,
    be: MemoryBackend,
    engine: Engine,
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register::<Mock>();
    r
}

fn base(s: &mut Stack) {
    let a = s.add("a", Mock::new().prop("size", "1"));
    s.add("b", Mock::new().prop("a", a.id()));
    s.add_with("locked", Mock::new(), ResourceOptions::new().protect());
    s.add("named", Mock::new().name("unique-1"));
    s.export("a_id", a.id());
}

fn sealed(f: impl FnOnce(&mut Stack)) -> SealedStack {
    let mut s = Stack::new("dev");
    f(&mut s);
    s.seal().unwrap()
}

impl Fx {
    async fn new() -> Fx {
        let (cloud, be) = (MemCloud::new(), MemoryBackend::new());
        let engine = Engine::new(Arc::new(be.clone()))
            .with_context(Context::new().with(cloud.clone()))
            .with_registry(&registry())
            .passphrase(Some("catalog".to_owned()));
        let sum = engine
            .up(&sealed(base), &RunOptions::default())
            .await
            .unwrap();
        assert!(sum.is_success(), "{sum:?}");
        Fx { cloud, be, engine }
    }

    fn snapshot(&self) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        (self.be.raw("dev"), self.be.raw_journal("dev"))
    }
}

/// Cases run and what went wrong with them.
#[derive(Default)]
struct Catalog {
    cases: usize,
    wrong: Vec<String>,
}

impl Catalog {
    fn check(&mut self, case: &str, err: Option<String>, want: &[&str]) {
        self.cases += 1;
        match err {
            None => self.wrong.push(format!("{case}: accepted")),
            Some(e) => {
                for w in want {
                    if !e.contains(w) {
                        self.wrong.push(format!("{case}: {w:?} missing from: {e}"));
                    }
                }
            }
        }
    }

    /// A declaration refused when sealed.
    fn declaration(&mut self, case: &str, f: impl FnOnce(&mut Stack), want: &[&str]) {
        self.declaration_of("dev", case, f, want);
    }

    fn declaration_of(
        &mut self,
        stack: &str,
        case: &str,
        f: impl FnOnce(&mut Stack),
        want: &[&str],
    ) {
        let mut s = Stack::new(stack);
        s = s.with_config(
            [
                ("count".to_owned(), "many".to_owned()),
                ("flag".to_owned(), "yes please".to_owned()),
            ]
            .into(),
        );
        f(&mut s);
        self.check(case, s.seal().err().map(|e| e.to_string()), want);
    }

    /// An engine operation refused without a mutating cloud call (reads are allowed when
    /// `reads` is set: deletability checks read), leaving state as it was.
    async fn engine<T, F>(&mut self, fx: &Fx, case: &str, reads: bool, op: F, want: &[&str])
    where
        F: Future<Output = Result<T, EngineError>>,
    {
        let before = fx.snapshot();
        fx.cloud.reset_log();
        let err = op.await.err().map(|e| e.to_string());
        self.check(case, err, want);
        let calls: Vec<_> = fx
            .cloud
            .log()
            .into_iter()
            .filter(|c| !reads || c.call != Call::Read)
            .collect();
        if !calls.is_empty() {
            self.wrong
                .push(format!("{case}: cloud calls were made: {calls:?}"));
        }
        if fx.snapshot() != before {
            self.wrong.push(format!("{case}: state changed"));
        }
        if let Err(e) = fx.engine.load_state("dev").await {
            self.wrong
                .push(format!("{case}: state no longer loads: {e}"));
        }
    }
}

#[tokio::test]
async fn declarations_are_refused_naming_the_resource_and_field() {
    let mut c = Catalog::default();
    let urn = "urn:strata:dev::test:mock::";
    c.declaration_of(
        "",
        "empty stack name",
        |_| {},
        &["invalid stack name \"\"", "empty"],
    );
    c.declaration_of(
        "../x",
        "stack name with a path",
        |_| {},
        &["invalid stack name \"../x\"", "'/'"],
    );
    c.declaration_of(
        "a::b",
        "stack name with ::",
        |_| {},
        &["invalid stack name \"a::b\""],
    );
    c.declaration_of(
        &"s".repeat(200),
        "overlong stack name",
        |_| {},
        &["invalid stack name", "it has 200 characters; at most 64"],
    );
    c.declaration(
        "empty logical name",
        |s| {
            s.add("", Mock::new());
        },
        &["invalid name \"\"", "empty"],
    );
    c.declaration(
        "logical name with #",
        |s| {
            s.add("web#1", Mock::new());
        },
        &["invalid name \"web#1\"", "'#' is not allowed"],
    );
    c.declaration(
        "logical name with ::",
        |s| {
            s.add("a::b", Mock::new());
        },
        &["invalid name \"a::b\""],
    );
    c.declaration(
        "overlong logical name",
        |s| {
            s.add("n".repeat(300), Mock::new());
        },
        &["invalid name", "a tag value (strata:urn) takes at most 256"],
    );
    c.declaration(
        "duplicate name",
        |s| {
            s.add("a", Mock::new());
            s.add("a", Mock::new());
        },
        &["duplicate resource name \"a\""],
    );
    c.declaration(
        "empty property name",
        |s| {
            s.add("a", Mock::new().prop("", "x"));
        },
        &[&format!(
            "resource {urn}a: field `props`: property names must not be empty"
        )],
    );
    c.declaration(
        "overlong property",
        |s| {
            s.add("a", Mock::new().prop("p", "x".repeat(300)));
        },
        &[&format!(
            "resource {urn}a: field `props.p`: longer than 256 characters"
        )],
    );
    c.declaration(
        "reference to another stack's resource",
        |s| {
            let mut other = Stack::new("other");
            let x = other.add("x", Mock::new());
            s.add("a", Mock::new().prop("x", x.id()));
        },
        &[
            &format!("{urn}a"),
            "field `props.x`",
            "urn:strata:other::test:mock::x",
        ],
    );
    c.declaration(
        "depends_on an undeclared name",
        |s| {
            s.add_with("a", Mock::new(), ResourceOptions::new().depends_on("ghost"));
        },
        &[&format!("{urn}a"), "depends_on", "\"ghost\""],
    );
    c.declaration(
        "dependency cycle",
        |s| {
            s.add_with("a", Mock::new(), ResourceOptions::new().depends_on("b"));
            s.add_with("b", Mock::new(), ResourceOptions::new().depends_on("a"));
        },
        &["dependency cycle", &format!("{urn}a"), &format!("{urn}b")],
    );
    c.declaration(
        "an export exported twice",
        |s| {
            let a = s.add("a", Mock::new());
            s.export("id", a.id());
            s.export("id", a.arn());
        },
        &["stack output \"id\" is exported twice"],
    );
    c.declaration(
        "an export of an undeclared resource",
        |s| {
            let mut other = Stack::new("other");
            let x = other.add("x", Mock::new());
            s.export("x", x.id());
        },
        &["stack output \"x\" refers to urn:strata:other::test:mock::x"],
    );
    c.declaration("ignore_changes typo", |s| {
        s.add_with("a", Mock::new(), ResourceOptions::new().ignore_changes("prop"));
    }, &[&format!("{urn}a: field `ignore_changes`: \"prop\" names no field of test:mock (did you mean \"props\"?)")]);
    c.declaration(
        "replace_on_changes typo",
        |s| {
            s.add_with(
                "a",
                Mock::new(),
                ResourceOptions::new().replace_on_changes("duraton_ms"),
            );
        },
        &[
            &format!("{urn}a: field `replace_on_changes`: \"duraton_ms\""),
            "did you mean \"duration_ms\"",
        ],
    );
    c.declaration(
        "empty option path",
        |s| {
            s.add_with("a", Mock::new(), ResourceOptions::new().ignore_changes(""));
        },
        &[&format!(
            "{urn}a: field `ignore_changes`: \"\" is not a property path"
        )],
    );
    c.declaration(
        "option path with an empty segment",
        |s| {
            s.add_with(
                "a",
                Mock::new(),
                ResourceOptions::new().replace_on_changes("props..x"),
            );
        },
        &[&format!(
            "{urn}a: field `replace_on_changes`: \"props..x\" is not a property path"
        )],
    );
    c.declaration(
        "config value that is not a number",
        |s| {
            let n: u32 = s.config_as_or("count", 1);
            s.add("a", Mock::new().prop("n", n.to_string()));
        },
        &["configuration \"count\": \"many\" is not a valid u32"],
    );
    c.declaration(
        "config value that is not a bool",
        |s| {
            let _: bool = s.config_as_or("flag", false);
        },
        &["configuration \"flag\": \"yes please\" is not a valid bool"],
    );
    c.declaration(
        "invalid field reported by a component",
        |s| {
            let a = s.add("a", Mock::new());
            s.invalid(a.urn().clone(), "size", "must be at least 1");
        },
        &[&format!(
            "resource {urn}a: field `size`: must be at least 1"
        )],
    );
    assert!(
        c.wrong.is_empty(),
        "{} of {} cases:\n{}",
        c.wrong.len(),
        c.cases,
        c.wrong.join("\n")
    );
    assert!(c.cases >= 23);
}

#[tokio::test]
async fn the_engine_refuses_without_calling_or_changing_state() {
    let fx = Fx::new().await;
    let mut c = Catalog::default();
    let e = &fx.engine;
    let urn = |n: &str| Urn::new("dev", "test:mock", n);
    let opts = RunOptions::default();
    let targets = |t: Urn| RunOptions {
        targets: vec![t],
        ..RunOptions::default()
    };
    c.engine(
        &fx,
        "import of an unknown type",
        false,
        e.import("dev", "test:nope", "x", "id-1"),
        &[
            "import of urn:strata:dev::test:nope::x",
            "unknown resource type \"test:nope\"",
        ],
    )
    .await;
    c.engine(
        &fx,
        "import with a bad name",
        false,
        e.import("dev", "test:mock", "x#1", "id-1"),
        &["invalid name \"x#1\"", "'#'"],
    )
    .await;
    c.engine(
        &fx,
        "import into a bad stack name",
        false,
        e.import("../x", "test:mock", "x", "id-1"),
        &["invalid stack name \"../x\""],
    )
    .await;
    let a_id = e.load_state("dev").await.unwrap().resources[&urn("a")]
        .id
        .clone();
    c.engine(
        &fx,
        "import of a managed id",
        false,
        e.import("dev", "test:mock", "again", &a_id),
        &["is already managed by this stack as urn:strata:dev::test:mock::a"],
    )
    .await;
    c.engine(
        &fx,
        "import over a name in state",
        false,
        e.import("dev", "test:mock", "a", "mock-999"),
        &["import of urn:strata:dev::test:mock::a", "already in state"],
    )
    .await;
    c.engine(
        &fx,
        "import of a missing id",
        true,
        e.import("dev", "test:mock", "x", "mock-999"),
        &["no test:mock with id \"mock-999\" exists"],
    )
    .await;
    c.engine(
        &fx,
        "state rm of an unknown resource",
        false,
        e.forget("dev", &urn("ghost")),
        &["urn:strata:dev::test:mock::ghost"],
    )
    .await;
    c.engine(
        &fx,
        "pending drop of an unknown token",
        false,
        e.drop_pending("dev", "no-such-token"),
        &["no-such-token"],
    )
    .await;
    c.engine(
        &fx,
        "up with an unknown target",
        false,
        e.up(&sealed(base), &targets(urn("ghost"))),
        &["--target urn:strata:dev::test:mock::ghost matches no resource"],
    )
    .await;
    c.engine(
        &fx,
        "destroy with an unknown target",
        false,
        e.destroy("dev", &targets(urn("ghost"))),
        &["--target urn:strata:dev::test:mock::ghost matches no resource"],
    )
    .await;
    c.engine(
        &fx,
        "destroy of a protected resource",
        false,
        e.destroy("dev", &opts),
        &["resource urn:strata:dev::test:mock::locked is protected, but the plan would delete it"],
    )
    .await;
    c.engine(
        &fx,
        "up dropping a protected resource",
        false,
        e.up(
            &sealed(|s| {
                let a = s.add("a", Mock::new().prop("size", "1"));
                s.add("b", Mock::new().prop("a", a.id()));
                s.add("named", Mock::new().name("unique-1"));
            }),
            &opts,
        ),
        &["resource urn:strata:dev::test:mock::locked is protected, but the plan would delete it"],
    )
    .await;
    c.engine(&fx, "up replacing a protected resource", false, e.up(&sealed(|s| {
        let a = s.add("a", Mock::new().prop("size", "1"));
        s.add("b", Mock::new().prop("a", a.id()));
        s.add_with("locked", Mock::new().key("k2"), ResourceOptions::new().protect());
        s.add("named", Mock::new().name("unique-1"));
    }), &opts), &["resource urn:strata:dev::test:mock::locked is protected, but the plan would replace it (because of key)"]).await;
    c.engine(&fx, "a rename that would lose the identity", false, e.up(&sealed(|s| {
        let a = s.add("a", Mock::new().prop("size", "1"));
        s.add("b", Mock::new().prop("a", a.id()));
        s.add_with("locked", Mock::new(), ResourceOptions::new().protect());
        s.add("renamed", Mock::new().name("unique-1"));
        s.export("a_id", a.id());
    }), &opts), &["urn:strata:dev::test:mock::renamed would create the test:mock name=unique-1, which urn:strata:dev::test:mock::named is and this plan deletes"]).await;
    c.engine(&fx, "a targeted delete that dependents still use", false, e.up(&sealed(|s| {
        s.add_with("locked", Mock::new(), ResourceOptions::new().protect());
        s.add("named", Mock::new().name("unique-1"));
        s.add("b", Mock::new().prop("a", "x"));
    }), &targets(urn("a"))), &["--target would delete urn:strata:dev::test:mock::a, which urn:strata:dev::test:mock::b still use"]).await;
    let wrong = Engine::new(Arc::new(fx.be.clone()))
        .with_context(Context::new().with(fx.cloud.clone()))
        .with_registry(&registry())
        .passphrase(Some("not it".to_owned()));
    c.engine(
        &fx,
        "wrong passphrase",
        false,
        wrong.up(&sealed(base), &opts),
        &["not this stack's passphrase"],
    )
    .await;
    let keyless = Engine::new(Arc::new(fx.be.clone()))
        .with_context(Context::new().with(fx.cloud.clone()))
        .with_registry(&registry());
    c.engine(
        &fx,
        "destroy without the passphrase",
        false,
        keyless.destroy("dev", &opts),
        &["set STRATA_PASSPHRASE"],
    )
    .await;
    let unregistered = Engine::new(Arc::new(fx.be.clone()))
        .with_context(Context::new().with(fx.cloud.clone()))
        .passphrase(Some("catalog".to_owned()));
    c.engine(&fx, "destroy of a type the program does not register", false, unregistered.destroy("dev", &targets(urn("b"))), &["resource urn:strata:dev::test:mock::b in state has type test:mock, which this program does not register"]).await;
    let held = fx.be.lock("dev", "someone", Duration::ZERO).await.unwrap();
    c.engine(
        &fx,
        "a held lock",
        false,
        e.up(&sealed(base), &opts),
        &["stack \"dev\" is locked by", &held.id, "state unlock"],
    )
    .await;
    c.engine(
        &fx,
        "unlock with the wrong id",
        false,
        async {
            fx.be
                .unlock("dev", "not-the-id")
                .await
                .map_err(EngineError::from)
        },
        &[
            "the lock id not-the-id does not match the current lock",
            &held.id,
        ],
    )
    .await;
    fx.be.unlock("dev", &held.id).await.unwrap();
    assert!(
        c.wrong.is_empty(),
        "{} of {} cases:\n{}",
        c.wrong.len(),
        c.cases,
        c.wrong.join("\n")
    );
    assert!(c.cases >= 20);
}

/// A file backend in a temporary directory with a deployed stack `dev`.
struct FileFx {
    dir: tempfile::TempDir,
    cloud: MemCloud,
}

impl FileFx {
    async fn new() -> FileFx {
        let fx = FileFx {
            dir: tempfile::tempdir().unwrap(),
            cloud: MemCloud::new(),
        };
        let sum = fx
            .engine()
            .up(&sealed(base), &RunOptions::default())
            .await
            .unwrap();
        assert!(sum.is_success());
        fx
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn engine(&self) -> Engine {
        Engine::new(Arc::new(FileBackend::new(self.state_dir())))
            .with_context(Context::new().with(self.cloud.clone()))
            .with_registry(&registry())
            .passphrase(Some("catalog".to_owned()))
    }

    fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.state_dir())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    }
}

/// A damaged state file: `up` (and a load) is refused naming the file, nothing is
/// called, and the file stays as it is (for the user to restore).
#[tokio::test]
async fn damaged_state_files_are_refused_naming_the_file() {
    let mut c = Catalog::default();
    type Damage = Box<dyn Fn(&str) -> String>;
    let damage: Vec<(&str, &str, Damage, Vec<&str>)> = vec![
        (
            "not json",
            "dev.json",
            Box::new(|_| "{not json".to_owned()),
            vec!["dev.json", "cannot be read"],
        ),
        (
            "truncated",
            "dev.json",
            Box::new(|t| t[..t.len() / 2].to_owned()),
            vec!["dev.json", "cannot be read"],
        ),
        (
            "empty file",
            "dev.json",
            Box::new(|_| String::new()),
            vec!["dev.json", "cannot be read"],
        ),
        (
            "tampered serial",
            "dev.json",
            Box::new(|t| t.replacen("\"serial\":", "\"serial\":9", 1)),
            vec!["dev.json", "is corrupt: checksum"],
        ),
        (
            "tampered id",
            "dev.json",
            Box::new(|t| t.replacen("mock-1", "mock-7", 1)),
            vec!["dev.json", "is corrupt: checksum"],
        ),
        (
            "newer schema",
            "dev.json",
            Box::new(|t| t.replacen("\"schema_version\":1", "\"schema_version\":99", 1)),
            vec!["dev.json", "schema version 99", "upgrade strata"],
        ),
        (
            "journal garbage",
            "dev.journal",
            Box::new(|_| "garbage\n".to_owned()),
            vec!["dev.journal"],
        ),
        (
            "journal entry tampered",
            "dev.journal",
            Box::new(|t| t.replacen("\"k\":1", "\"k\":7", 1)),
            vec!["dev.journal"],
        ),
        (
            "journal serial gap",
            "dev.journal",
            Box::new(|t| {
                // Drop the first entry: the second follows a serial nobody wrote.
                t.split_inclusive('\n').skip(1).collect()
            }),
            vec!["dev.journal", "gap"],
        ),
        (
            "unreadable lock file",
            "dev.lock",
            Box::new(|_| "{not json".to_owned()),
            vec!["dev.lock"],
        ),
    ];
    for (case, file, f, want) in damage {
        let fx = FileFx::new().await;
        let engine = fx.engine();
        // Journal cases need a journal: two checkpoints after the snapshot.
        if file == "dev.journal" {
            let be = FileBackend::new(fx.state_dir());
            let st = be.load("dev").await.unwrap().unwrap();
            for k in 1..=2u64 {
                let outputs = [("k".to_owned(), serde_json::json!(k))].into();
                let entry =
                    strata_core::testing::journal_entry(&st.lineage, st.serial + k, &outputs)
                        .unwrap();
                assert!(be.append("dev", &st.lineage, entry).await.unwrap());
            }
        }
        let path = fx.state_dir().join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if file == "dev.journal" && text.lines().count() < 2 {
            c.wrong
                .push(format!("{case}: the run left no journal to damage"));
            continue;
        }
        std::fs::write(&path, f(&text)).unwrap();
        let before = fx.files();
        fx.cloud.reset_log();
        let err = engine
            .up(&sealed(base), &RunOptions::default())
            .await
            .err()
            .map(|e| e.to_string());
        c.check(case, err, &want);
        if !fx.cloud.log().is_empty() {
            c.wrong.push(format!("{case}: cloud calls were made"));
        }
        if fx.files() != before {
            c.wrong.push(format!("{case}: the state files changed"));
        }
    }
    // Another stack's state under this stack's name.
    let fx = FileFx::new().await;
    let other = std::fs::read(fx.state_dir().join("dev.json")).unwrap();
    std::fs::write(fx.state_dir().join("prod.json"), &other).unwrap();
    let before = fx.files();
    let err = fx
        .engine()
        .load_state("prod")
        .await
        .err()
        .map(|e| e.to_string());
    c.check(
        "another stack's state file",
        err,
        &["state for stack \"dev\" was returned for stack \"prod\""],
    );
    if fx.files() != before {
        c.wrong
            .push("another stack's state file: files changed".to_owned());
    }
    assert!(
        c.wrong.is_empty(),
        "{} of {} cases:\n{}",
        c.wrong.len(),
        c.cases,
        c.wrong.join("\n")
    );
    assert!(c.cases >= 11);
}

#[tokio::test]
async fn bad_backend_urls_are_refused_naming_the_url() {
    let mut c = Catalog::default();
    for (case, url, want) in [
        ("empty URL", "", vec!["backend \"\"", "empty"]),
        ("blank URL", "   ", vec!["empty"]),
        (
            "file:// without a directory",
            "file://",
            vec!["backend \"file://\"", "names no directory"],
        ),
        (
            "unknown scheme",
            "gs://bucket/x",
            vec!["unsupported backend \"gs://bucket/x\""],
        ),
        (
            "two lock kinds",
            "s3://b/p?lock=s3&lock_table=t",
            vec!["s3://b/p?lock=s3&lock_table=t"],
        ),
        ("s3 without a bucket", "s3://", vec!["backend \"s3://\""]),
        (
            "unknown s3 option",
            "s3://b/p?lock_tabel=t",
            vec!["lock_tabel"],
        ),
        (
            "empty lock table",
            "s3://b/p?lock_table=",
            vec!["lock_table"],
        ),
    ] {
        let err = strata_core::state::open_backend(url)
            .await
            .err()
            .map(|e| e.to_string());
        c.check(case, err, &want);
    }
    assert!(
        c.wrong.is_empty(),
        "{} of {} cases:\n{}",
        c.wrong.len(),
        c.cases,
        c.wrong.join("\n")
    );
}

/// The example binary, which `cargo test` builds next to the test binaries.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().unwrap().parent().unwrap();
    debug.join("examples").join("ecommerce")
}

/// Runs the example with `args` and no reachable AWS: (exit code, stderr).
fn cli(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(example())
        .current_dir(dir)
        .env("STRATA_BACKEND", dir.join("state"))
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("STRATA_PASSPHRASE")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

/// Bad flags exit 2 naming the flag, before any state is read or AWS called.
#[test]
fn bad_cli_flags_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut c = Catalog::default();
    for (case, args, want) in [
        ("a stack name with a path", vec!["--stack", "../x", "preview"], vec!["--stack", "../x"]),
        ("an empty stack name", vec!["--stack", "", "preview"], vec!["--stack"]),
        ("a parallelism of zero", vec!["--parallel", "0", "preview"], vec!["--parallel"]),
        ("a parallelism that is no number", vec!["--parallel", "many", "preview"], vec!["--parallel"]),
        ("a lock timeout that is no duration", vec!["--lock-timeout", "soon", "up", "--yes"], vec!["--lock-timeout"]),
        ("a config without =", vec!["--config", "max_size", "preview"], vec!["--config", "KEY=VALUE"]),
        ("a config with an empty key", vec!["--config", "=3", "preview"], vec!["--config"]),
        ("a config value of the wrong type", vec!["--config", "max_size=abc", "preview"], vec!["configuration \"max_size\": \"abc\" is not a valid i32"]),
        ("a config flag of the wrong type", vec!["--config", "deletion_protection=maybe", "preview"], vec!["configuration \"deletion_protection\": \"maybe\" is not a valid bool"]),
        ("an unknown target", vec!["--target", "ghost", "preview"], vec!["--target \"ghost\" is neither a URN nor a declared resource name"]),
        ("an unknown graph format", vec!["graph", "--format", "png"], vec!["--format", "png"]),
        ("an unknown command", vec!["deploy"], vec!["deploy"]),
        ("import with an empty name", vec!["import", "aws:s3/bucket", "", "b"], vec!["'<NAME>'", "it is empty"]),
        ("import of an unknown type", vec!["import", "aws:nope/thing", "x", "id-1"], vec!["import: unknown resource type \"aws:nope/thing\"", "aws:s3/bucket"]),
        ("up without --yes and without a terminal", vec!["up"], vec!["pass --yes"]),
        ("destroy of a stack with no state", vec!["destroy", "--yes"], vec!["has no resources"]),
        ("an output the stack does not have", vec!["output", "nope"], vec!["has no output \"nope\""]),
        ("an empty backend URL", vec!["--backend", "", "preview"], vec!["--backend: backend \"\": it is empty"]),
        ("file:// without a directory", vec!["--backend", "file://", "preview"], vec!["--backend: backend \"file://\": file:// names no directory"]),
        ("an ambiguous S3 backend", vec!["--backend", "s3://b/p?lock=s3&lock_table=t", "preview"], vec!["--backend: backend \"s3://b/p?lock=s3&lock_table=t\": lock=s3 locks with an S3 object, and lock_table names a DynamoDB table: choose one"]),
    ] {
        let (code, out) = cli(d, &args);
        // `destroy` of an empty stack is no error: it says so and succeeds.
        let want_code = match case {
            "destroy of a stack with no state" => Some(0),
            _ => Some(2),
        };
        if code != want_code || code.is_none() {
            c.wrong.push(format!("{case}: exit {code:?}: {out}"));
        }
        c.check(case, Some(out), &want);
        if d.join("state").join("shop.json").exists() || d.join("state").join("dev.json").exists() {
            c.wrong.push(format!("{case}: state was written"));
        }
    }
    assert!(
        c.wrong.is_empty(),
        "{} of {} cases:\n{}",
        c.wrong.len(),
        c.cases,
        c.wrong.join("\n")
    );
    assert!(c.cases >= 20);
}

/// A customer managed key that an AWS service uses for the account must grant that
/// service in its key policy: AWS's default policy leaves services out, and the failure is
/// silent on AWS (alarms that notify nobody, instances that never launch, logs never
/// written). Each use is refused at seal time, on the key's `policy`, naming the user and
/// the grant to add; with the grants, the same stack seals.
#[test]
fn keys_that_aws_services_use_must_grant_them() {
    use strata::compute::{AutoScalingGroup, LaunchTemplate, LaunchTemplateHandle as _};
    use strata::data::{Bucket, BucketHandle as _};
    use strata::network::FlowLog;
    use strata::observability::{Comparison, MetricAlarm, Topic, TopicHandle as _, Trail};
    use strata::security::{KeyPolicy, KeyService, KmsKey, KmsKeyHandle as _};

    let declare = |grants: bool| {
        let mut s = Stack::new("dev");
        let key = |s: &mut Stack, name: &str, services: &[KeyService]| {
            let mut args = KmsKey::new(name);
            if grants {
                args = args.key_policy(
                    services
                        .iter()
                        .fold(KeyPolicy::new("123456789012"), |p, k| p.service(*k)),
                );
            }
            s.add(name, args)
        };
        let alerts_key = key(&mut s, "alerts-key", &[KeyService::CloudWatchAlarms]);
        let topic = s.add("alerts", Topic::new("alerts").kms_key(alerts_key.arn()));
        for name in ["cpu", "errors"] {
            s.add(
                name,
                MetricAlarm::new(name, "AWS/EC2", "CPUUtilization")
                    .when(Comparison::GreaterThanThreshold, 80.0)
                    .alarm_action(topic.arn()),
            );
        }
        let ebs = key(&mut s, "ebs-key", &[KeyService::AutoScaling]);
        let lt = s.add(
            "template",
            LaunchTemplate::new("app", "ami-12345678", "t3.micro").ebs_kms_key(ebs.arn()),
        );
        s.add(
            "group",
            AutoScalingGroup::new("app", lt.id(), lt.latest_version(), ["subnet-a"]),
        );
        let logs_key = key(
            &mut s,
            "logs-key",
            &[KeyService::LogDelivery, KeyService::CloudTrail],
        );
        let logs = s.add(
            "logs",
            Bucket::new("strata-catalog-logs").kms(logs_key.arn()),
        );
        s.add("flow", FlowLog::to_s3("vpc-1", logs.arn()));
        s.add("trail", Trail::new("audit", logs.name()));
        s.seal()
    };
    let err = declare(false).unwrap_err().to_string();
    for want in [
        "urn:strata:dev::aws:kms/key::alerts-key: field `policy`: alarm cpu notifies SNS topic alerts, which is encrypted with this key; alarm errors notifies SNS topic alerts, which is encrypted with this key, but the key policy does not let cloudwatch.amazonaws.com use the key (kms:Decrypt, kms:GenerateDataKey*): add KeyService::CloudWatchAlarms to it (KeyPolicy::service)",
        "urn:strata:dev::aws:kms/key::ebs-key: field `policy`: auto scaling group group launches instances from launch template template, whose EBS volumes are encrypted with this key, but the key policy does not let autoscaling.amazonaws.com use the key",
        "urn:strata:dev::aws:kms/key::logs-key: field `policy`: flow log flow writes to bucket logs, whose default encryption uses this key, but the key policy does not let delivery.logs.amazonaws.com use the key",
        "urn:strata:dev::aws:kms/key::logs-key: field `policy`: trail trail writes to bucket logs, whose default encryption uses this key, but the key policy does not let cloudtrail.amazonaws.com use the key",
    ] {
        assert!(err.contains(want), "missing:\n{want}\nin:\n{err}");
    }
    declare(true).unwrap_or_else(|e| panic!("{e}"));
}

/// Snapshots that outlive the stack (an instance's final snapshot, snapshots declared
/// `retain_on_delete`) need their key kept too: a key that `destroy` would schedule for
/// deletion is refused at seal time, on the key, naming the snapshots.
#[test]
fn keys_of_snapshots_that_outlive_the_stack_are_kept() {
    use strata::data::{DbInstance, DbInstanceHandle as _, DbSnapshot};
    use strata::security::{KmsKey, KmsKeyHandle as _};

    let declare = |keep_key: bool, skip_final: bool| {
        let mut s = Stack::new("dev");
        let options = if keep_key {
            ResourceOptions::default().retain_on_delete()
        } else {
            ResourceOptions::default()
        };
        let key = s.add_with("rds-key", KmsKey::new("rds"), options);
        let db = s.add(
            "db",
            DbInstance::postgres("shop-db", "14", "db.t3.micro", "shop-db")
                .kms_key(key.arn())
                .skip_final_snapshot(skip_final),
        );
        s.add_with(
            "weekly",
            DbSnapshot::new(db.identifier(), "shop-db-weekly"),
            ResourceOptions::default().retain_on_delete(),
        );
        s.seal()
    };
    let err = declare(false, false).unwrap_err().to_string();
    assert!(
        err.contains("urn:strata:dev::aws:kms/key::rds-key: field `retain_on_delete`: the final snapshot of DB instance db and snapshot weekly (retain_on_delete) outlives the stack and is encrypted with this key"),
        "{err}"
    );
    let err = declare(false, true).unwrap_err().to_string();
    assert!(
        err.contains("field `retain_on_delete`: snapshot weekly (retain_on_delete) outlives"),
        "{err}"
    );
    declare(true, false).unwrap_or_else(|e| panic!("{e}"));
}
