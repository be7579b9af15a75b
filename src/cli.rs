//! The command-line runner for stack programs.
//!
//! A stack program's `main` is one call: `strata::cli::run(build)` or, to set the provider
//! context, `Program::new(build).context(ctx).run()`. It gets this interface:
//!
//! ```text
//! <program> preview | up | destroy | refresh | import <type> <name> <id> | output [name]
//!           | graph [--format dot|mermaid|svg] [--output FILE]
//!           | state list | state show <urn> | state unlock <lock-id> | backend bootstrap
//! --stack NAME (default dev)
//! --backend URL (file://DIR or s3://BUCKET/PREFIX[?lock_table=NAME|?lock=s3];
//!               default file://.strata; env STRATA_BACKEND)
//! --parallel N   --yes (required for up/destroy without a terminal)   --json (JSON-lines events)
//! --target URN (or logical name; repeatable)   --lock-timeout DURATION   --refresh
//! --expect-no-changes   --config KEY=VALUE (repeatable; env STRATA_CONFIG_<KEY>)
//! --show-secrets
//! ```
//!
//! Exit codes: 0 ok; 1 failed (a step failed, state or lock trouble, declaration errors);
//! 2 usage (including `up`/`destroy` without `--yes` and without a terminal); 3 changes
//! planned with `--expect-no-changes` (nothing is applied then).
//!
//! On a terminal, `up`, `destroy` and `refresh` show a live progress bar; otherwise each
//! event is one plain line, or one JSON object per line with `--json`. Ctrl-C stops
//! starting new steps, lets running ones finish, saves state and releases the lock; a
//! second Ctrl-C exits at once (state as of the last checkpoint).
//!
//! Secrets are encrypted in state (see `strata_core::secrets`). `--secrets-provider`
//! (`STRATA_SECRETS_PROVIDER`) says where a new state's key comes from: `passphrase` (a key
//! derived from `STRATA_PASSPHRASE`; the default on the file backend) or `awskms://KEY`
//! (KMS envelope encryption; the default on the S3 backend is
//! `awskms://alias/strata-state`, which `backend bootstrap` creates). An existing state is
//! opened with the kind it records; changing a stack whose state holds secrets needs its
//! key.
//!
//! AWS resource types use the AWS configuration of the environment (credentials, region,
//! `AWS_ENDPOINT_URL`), with adaptive retries, unless the program's context holds its own
//! `strata_core::aws::Aws`.
//!
//! Logs (`tracing`) go to stderr at the level given by `STRATA_LOG` (default: warn); the
//! AWS SDK's and the HTTP stack's at `STRATA_SDK_LOG` (default: warn), a separate switch
//! because at debug and trace they print request bodies, secrets included.

// The runner's job is to talk to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

/// `println!` that ignores a closed stdout (`| head`) instead of panicking.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use strata_core::graph::{service_group, to_dot, to_mermaid, to_svg};
use strata_core::stack::Node;
use strata_core::state::open_backend;
use strata_core::value::{display_value, redact};
use strata_core::{
    CancelToken, Context, DeclarationErrors, Engine, EngineError, Event, Registry, RunOptions,
    SealedStack, Stack, StateError, Summary, Urn,
};

/// Exit code: changes were planned under `--expect-no-changes`.
pub const EXIT_CHANGES: u8 = 3;

#[derive(Debug, Parser)]
#[command(about = "Preview, deploy and manage this strata stack", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The stack (an independent copy of the infrastructure, with its own state).
    #[arg(long, global = true, default_value = "dev", value_parser = stack_name)]
    stack: String,
    /// Where state lives: file://DIR (default) or a directory.
    #[arg(
        long,
        global = true,
        env = "STRATA_BACKEND",
        default_value = "file://.strata"
    )]
    backend: String,
    /// How many steps may run at once (at least 1).
    #[arg(long, global = true, default_value_t = strata_core::DEFAULT_PARALLEL, value_parser = at_least_one)]
    parallel: usize,
    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short = 'y', global = true)]
    yes: bool,
    /// Print events as JSON lines.
    #[arg(long, global = true)]
    json: bool,
    /// Only these resources (URN or logical name) and what they depend on.
    #[arg(long = "target", global = true)]
    targets: Vec<String>,
    /// Wait this long for a held lock (for example 30s, 5m).
    #[arg(long, global = true, value_parser = humantime_duration, default_value = "0s")]
    lock_timeout: Duration,
    /// Refresh state from the cloud before `up`.
    #[arg(long, global = true)]
    refresh: bool,
    /// Fail with exit code 3, applying nothing, if `up` or `preview` would change anything.
    #[arg(long, global = true)]
    expect_no_changes: bool,
    /// Stack configuration, KEY=VALUE (repeatable).
    #[arg(long = "config", global = true, value_parser = key_value)]
    config: Vec<(String, String)>,
    /// Show secret values in `output` and `state show`.
    #[arg(long, global = true)]
    show_secrets: bool,
    /// Where a new state's secrets key comes from: `passphrase` (STRATA_PASSPHRASE) or
    /// `awskms://KEY`. Default: awskms://alias/strata-state on S3, passphrase otherwise.
    #[arg(long, global = true, env = "STRATA_SECRETS_PROVIDER")]
    secrets_provider: Option<String>,
}

/// The KMS key of `--secrets-provider`, or of the backend's default (`None`: passphrase).
fn kms_key(cli: &Cli) -> Result<Option<String>, CliError> {
    match cli.secrets_provider.as_deref() {
        Some("passphrase") => Ok(None),
        Some(p) => match p.strip_prefix("awskms://") {
            Some(key) if !key.is_empty() => Ok(Some(key.to_owned())),
            _ => Err(CliError::Usage(format!(
                "--secrets-provider {p:?}: expected `passphrase` or `awskms://KEY` (a key id, ARN or alias/NAME)"
            ))),
        },
        None if cli.backend.starts_with("s3://") => Ok(Some(
            strata_core::secrets::KmsKeys::DEFAULT_KEY.to_owned(),
        )),
        None => Ok(None),
    }
}

async fn kms_keys(key: &str) -> strata_core::secrets::KmsKeys {
    let conf = aws_config_from_env().await;
    strata_core::secrets::KmsKeys::new(&conf, key)
}

async fn aws_config_from_env() -> strata_core::aws_config::SdkConfig {
    strata_core::aws_config::load_defaults(strata_core::aws_config::BehaviorVersion::latest()).await
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what `up` would do, changing nothing.
    Preview,
    /// Create, update and delete resources until the cloud matches the program.
    Up,
    /// Delete every resource of the stack, in reverse dependency order.
    Destroy,
    /// Read every resource and report drift.
    Refresh,
    /// Adopt an existing resource into state.
    Import {
        /// The resource type token (for example aws:ec2/vpc).
        #[arg(value_parser = non_empty)]
        type_name: String,
        /// The logical name to give it.
        #[arg(value_parser = logical_name)]
        name: String,
        /// The provider id.
        #[arg(value_parser = non_empty)]
        id: String,
    },
    /// Show stack outputs.
    Output {
        /// Only this output.
        name: Option<String>,
    },
    /// Draw the stack's dependency graph.
    Graph {
        /// The format.
        #[arg(long, value_enum, default_value = "svg")]
        format: GraphFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Inspect state and locks.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Set up the state backend.
    Backend {
        #[command(subcommand)]
        command: BackendCommand,
    },
}

#[derive(Debug, Subcommand)]
enum BackendCommand {
    /// Create what the backend needs: for s3://, the bucket (versioned, encrypted, public
    /// access blocked) and the DynamoDB lock table; for file://, the directory. Harmless
    /// to run twice.
    Bootstrap,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
    Svg,
}

#[derive(Debug, Subcommand)]
enum StateCommand {
    /// List the resources in state.
    List,
    /// Show one resource.
    Show {
        /// Its URN or logical name.
        urn: String,
    },
    /// Release a lock left by a run that is gone.
    Unlock {
        /// The lock id (shown in the "locked by" message).
        lock_id: String,
    },
    /// List the operations an interrupted run left pending (or drop one).
    Pending {
        #[command(subcommand)]
        command: Option<PendingCommand>,
    },
    /// Forget a resource without deleting it: it stays in AWS, no longer managed.
    Rm {
        /// Its URN or logical name.
        urn: String,
    },
}

#[derive(Debug, Subcommand)]
enum PendingCommand {
    /// Drop a pending operation whose outcome you have checked, without any call to AWS.
    Drop {
        /// Its token (shown by `state pending`).
        token: String,
    },
}

fn stack_name(s: &str) -> Result<String, String> {
    strata_core::stack::check_stack_name(s).map(|()| s.to_owned())
}

fn logical_name(s: &str) -> Result<String, String> {
    let urn = strata_core::Urn::new("stack", "type", s);
    strata_core::stack::check_logical_name(s, &urn).map(|()| s.to_owned())
}

fn non_empty(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("it is empty".to_owned())
    } else {
        Ok(s.to_owned())
    }
}

fn humantime_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| e.to_string())
}

/// The type tokens a program registers, sorted, for error messages.
fn known_types(a: &Registry, b: &Registry) -> String {
    let mut names: Vec<&str> = a.types().chain(b.types()).map(|t| t.type_name()).collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        "no types".to_owned()
    } else {
        names.join(", ")
    }
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("0 steps at once would never run anything; give at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("expected a number of steps, got {s:?}: {e}")),
    }
}

fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))
}

/// What can end a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The stack does not declare cleanly.
    #[error(transparent)]
    Declaration(#[from] DeclarationErrors),
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// State or lock trouble.
    #[error(transparent)]
    State(#[from] StateError),
    /// Wrong usage.
    #[error("{0}")]
    Usage(String),
    /// Terminal or file I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

type Build = Box<dyn Fn(&mut Stack) + Send + Sync>;
type Group = Box<dyn Fn(&Node) -> String + Send + Sync>;

/// A stack program: how to declare the stack, and the context its providers need.
pub struct Program {
    build: Build,
    context: Context,
    registry: Registry,
    group: Group,
    packs: Vec<Arc<dyn strata_core::PolicyPack>>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("context", &self.context)
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

/// Runs the CLI for the stack that `build` declares, with the default context.
pub fn run(build: impl Fn(&mut Stack) + Send + Sync + 'static) -> ExitCode {
    Program::new(build).run()
}

impl Program {
    /// A program declaring its stack with `build`.
    pub fn new(build: impl Fn(&mut Stack) + Send + Sync + 'static) -> Self {
        Program {
            build: Box::new(build),
            context: Context::new(),
            registry: crate::registry(),
            group: Box::new(service_group),
            packs: Vec::new(),
        }
    }

    /// Adds a policy pack: `preview` lists its violations and `up` refuses mandatory ones
    /// (see [`strata_core::policy`]; the built-in pack is [`crate::policy::Baseline`]).
    pub fn policy_pack(mut self, pack: impl strata_core::PolicyPack + 'static) -> Self {
        self.packs.push(Arc::new(pack));
        self
    }

    /// Sets the providers' context.
    pub fn context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Adds resource types (for resources in state the program no longer declares).
    pub fn registry(mut self, registry: &Registry) -> Self {
        self.registry.merge(registry);
        self
    }

    /// Sets how `graph` groups resources (default: by AWS service).
    pub fn group(mut self, f: impl Fn(&Node) -> String + Send + Sync + 'static) -> Self {
        self.group = Box::new(f);
        self
    }

    /// Parses the process's arguments and runs the command.
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// Parses `args` (the first is the program name) and runs the command.
    pub fn run_from<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let cli = match Cli::try_parse_from(args) {
            Ok(c) => c,
            Err(e) => {
                let _ = e.print();
                return if e.use_stderr() {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
        };
        init_tracing();
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("error: cannot start the async runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        let outcome = rt.block_on(self.main(cli));
        // A prompt's reader may still wait on stdin: do not wait for it.
        rt.shutdown_background();
        match outcome {
            Ok(code) => code,
            Err(CliError::Usage(m)) => {
                eprintln!("error: {m}");
                ExitCode::from(2)
            }
            // A `--config` value of the wrong type is a usage error too.
            Err(CliError::Declaration(d))
                if d.0
                    .iter()
                    .any(|e| matches!(e, strata_core::DeclarationError::Config { .. })) =>
            {
                eprintln!("error: {d}");
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    }

    fn declare(&self, cli: &Cli) -> Stack {
        let mut config: BTreeMap<String, String> = std::env::vars()
            .filter_map(|(k, v)| {
                k.strip_prefix("STRATA_CONFIG_")
                    .map(|k| (k.to_ascii_lowercase(), v))
            })
            .collect();
        config.extend(cli.config.iter().cloned());
        let mut stack = Stack::new(&cli.stack).with_config(config);
        (self.build)(&mut stack);
        stack
    }

    async fn main(self, cli: Cli) -> Result<ExitCode, CliError> {
        let sig = Signals::listen();
        let declared = self.declare(&cli);
        if let Command::Backend {
            command: BackendCommand::Bootstrap,
        } = &cli.command
        {
            return bootstrap(&cli).await;
        }
        let backend: Arc<dyn strata_core::Backend> = match open_backend(&cli.backend).await {
            Ok(b) => Arc::from(b),
            // A URL that names no backend is a usage error.
            Err(e @ (StateError::BadBackendUrl { .. } | StateError::UnsupportedBackend(_))) => {
                return Err(CliError::Usage(format!("--backend: {e}")))
            }
            Err(e) => return Err(e.into()),
        };
        let mut engine = Engine::new(backend.clone());
        if let Some(key) = kms_key(&cli)? {
            engine = engine.secrets(Arc::new(kms_keys(&key).await));
        }
        // AWS resource types take their configuration from the context: the environment's,
        // unless the program gave its own.
        let mut context = self.context.clone();
        if context.get::<strata_core::aws::Aws>().is_none() {
            context = context.with(strata_core::aws::Aws::from_env().await);
        }
        for pack in &self.packs {
            engine = engine.policy_pack(pack.clone());
        }
        let engine = engine
            .with_context(context)
            .with_registry(&self.registry)
            .with_registry(declared.registry())
            .parallel(cli.parallel)
            .lock_timeout(cli.lock_timeout)
            .passphrase(std::env::var("STRATA_PASSPHRASE").ok());
        let out = Output { json: cli.json };
        match &cli.command {
            Command::Preview => {
                let stack = declared.seal()?;
                let targets = resolve_targets(&cli.targets, &stack)?;
                let plan = engine.preview(&stack, &targets).await?;
                out.plan(&plan);
                if cli.expect_no_changes && plan.has_changes() {
                    return Ok(ExitCode::from(EXIT_CHANGES));
                }
                Ok(ExitCode::SUCCESS)
            }
            Command::Up => {
                let stack = declared.seal()?;
                let targets = resolve_targets(&cli.targets, &stack)?;
                let opts = RunOptions {
                    targets,
                    cancel: sig.cancel.clone(),
                    ..RunOptions::default()
                };
                if cli.refresh {
                    let report =
                        with_progress(&engine, &out, &sig, engine.refresh(stack.name(), &opts))
                            .await?;
                    out.drift(&report);
                }
                // Without a terminal and without --yes, nothing can be asked: a plan with
                // changes is refused before the lock is taken (as before any state is
                // touched).
                let unattended = !cli.yes && !std::io::stdin().is_terminal();
                if unattended {
                    let plan = engine.preview(&stack, &opts.targets).await?;
                    if plan.has_changes() {
                        out.plan(&plan);
                        if cli.expect_no_changes {
                            out.line("changes are planned and --expect-no-changes was given; nothing was applied");
                            return Ok(ExitCode::from(EXIT_CHANGES));
                        }
                        return Err(CliError::Usage(format!(
                            "refusing to up stack {:?} without confirmation: there is no terminal; pass --yes",
                            cli.stack
                        )));
                    }
                }
                // The plan is made under the lock and shown; if approved, exactly that plan
                // is applied under the same lock.
                let declined = std::cell::Cell::new(None);
                let approve = |plan: &strata_core::Plan| {
                    out.plan(plan);
                    let ask = if cli.expect_no_changes && plan.has_changes() {
                        out.line("changes are planned and --expect-no-changes was given; nothing was applied");
                        declined.set(Some(ExitCode::from(EXIT_CHANGES)));
                        Ask::No
                    } else if plan.has_changes() {
                        ask(&cli, "up", &declined)
                    } else {
                        Ask::Yes
                    };
                    ask.answer(&cli.stack, "up", &sig.cancel)
                };
                let applied = with_progress(
                    &engine,
                    &out,
                    &sig,
                    engine.up_approved(&stack, &opts, approve),
                )
                .await?;
                let Some(summary) = applied else {
                    return Ok(not_applied(declined.get(), &out, &sig));
                };
                out.summary(&summary);
                let state = engine.load_state(stack.name()).await?;
                out.outputs(&state.outputs, None, cli.show_secrets);
                Ok(code(&summary))
            }
            Command::Destroy => {
                let state = engine.load_state(&cli.stack).await?;
                if state.resources.is_empty() && state.pending.is_empty() {
                    out.line(&format!("stack {:?} has no resources", cli.stack));
                    return Ok(ExitCode::SUCCESS);
                }
                let targets = cli
                    .targets
                    .iter()
                    .map(|t| target_in_state(t, &state))
                    .collect::<Result<Vec<_>, _>>()?;
                let opts = RunOptions {
                    targets,
                    cancel: sig.cancel.clone(),
                    ..RunOptions::default()
                };
                // What is deleted is worked out under the lock and shown; if approved,
                // exactly that is deleted under the same lock.
                let declined = std::cell::Cell::new(None);
                let approve = |plan: &strata_core::Plan| {
                    out.plan(plan);
                    ask(&cli, "destroy", &declined).answer(&cli.stack, "destroy", &sig.cancel)
                };
                let applied = with_progress(
                    &engine,
                    &out,
                    &sig,
                    engine.destroy_approved(&cli.stack, &opts, approve),
                )
                .await?;
                let Some(summary) = applied else {
                    return Ok(not_applied(declined.get(), &out, &sig));
                };
                out.summary(&summary);
                Ok(code(&summary))
            }
            Command::Refresh => {
                let opts = RunOptions {
                    cancel: sig.cancel.clone(),
                    ..RunOptions::default()
                };
                let report =
                    with_progress(&engine, &out, &sig, engine.refresh(&cli.stack, &opts)).await?;
                out.drift(&report);
                out.summary(&report.summary);
                Ok(code(&report.summary))
            }
            Command::Import {
                type_name,
                name,
                id,
            } => {
                if self.registry.get(type_name).is_none()
                    && declared.registry().get(type_name).is_none()
                {
                    return Err(CliError::Usage(format!(
                        "import: unknown resource type {type_name:?} (this program registers {})",
                        known_types(&self.registry, declared.registry())
                    )));
                }
                let _held = sig.hold();
                let r = engine.import(&cli.stack, type_name, name, id).await?;
                out.line(&format!("imported {} as {}", r.id, r.urn));
                Ok(ExitCode::SUCCESS)
            }
            Command::Output { name } => {
                let state = engine.load_state(&cli.stack).await?;
                if let Some(n) = name {
                    if !state.outputs.contains_key(n) {
                        return Err(CliError::Usage(format!(
                            "stack {:?} has no output {n:?}",
                            cli.stack
                        )));
                    }
                }
                out.outputs(&state.outputs, name.as_deref(), cli.show_secrets);
                Ok(ExitCode::SUCCESS)
            }
            Command::Graph { format, output } => {
                let stack = declared.seal()?;
                let text = match format {
                    GraphFormat::Dot => to_dot(&stack, &*self.group),
                    GraphFormat::Mermaid => to_mermaid(&stack, &*self.group),
                    GraphFormat::Svg => to_svg(&stack, &*self.group),
                };
                match output {
                    Some(p) => {
                        std::fs::write(p, text)?;
                        out.line(&format!("wrote {}", p.display()));
                    }
                    None => {
                        let _ = std::io::stdout().lock().write_all(text.as_bytes());
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Command::Backend { .. } => Ok(ExitCode::SUCCESS),
            Command::State { command } => {
                match command {
                    StateCommand::List => {
                        let state = engine.load_state(&cli.stack).await?;
                        for r in state.resources.values() {
                            say!("{}\t{}", r.urn, r.id);
                        }
                        for p in &state.pending {
                            say!("(pending {:?})\t{}", p.kind, p.urn);
                        }
                    }
                    StateCommand::Show { urn } => {
                        let state = engine.load_state(&cli.stack).await?;
                        let u = target_in_state(urn, &state)?;
                        let r = &state.resources[&u];
                        let v = serde_json::to_value(r).unwrap_or(Value::Null);
                        let v = if cli.show_secrets {
                            reveal(&v)
                        } else {
                            redact(&v)
                        };
                        say!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                    }
                    StateCommand::Pending { command: None } => {
                        let pending = engine.pending(&cli.stack).await?;
                        if pending.is_empty() {
                            out.line("no pending operations");
                        }
                        for p in &pending {
                            say!(
                                "{}\t{:?}\t{}\tstarted {}",
                                p.token,
                                p.kind,
                                p.urn,
                                p.started
                            );
                        }
                    }
                    StateCommand::Pending {
                        command: Some(PendingCommand::Drop { token }),
                    } => {
                        let _held = sig.hold();
                        let p = engine.drop_pending(&cli.stack, token).await?;
                        out.line(&format!(
                            "dropped the pending {:?} of {} (token {})",
                            p.kind, p.urn, p.token
                        ));
                    }
                    StateCommand::Rm { urn } => {
                        let state = engine.load_state(&cli.stack).await?;
                        let u = target_in_state(urn, &state)?;
                        let _held = sig.hold();
                        let r = engine.forget(&cli.stack, &u).await?;
                        out.line(&format!(
                            "forgot {} ({}): it stays in AWS and is no longer managed",
                            r.urn, r.id
                        ));
                    }
                    StateCommand::Unlock { lock_id } => {
                        // Say whose lock it is, how long it has been silent, and whether
                        // its holder looks alive; releasing a live run's lock lets two
                        // runs write, so that takes --yes (or a yes on the terminal).
                        let current = match backend.current_lock(&cli.stack).await {
                            Ok(c) => c,
                            // Unreadable: `unlock` clears it with any id.
                            Err(StateError::Corrupt { .. }) => None,
                            Err(e) => return Err(e.into()),
                        };
                        if let Some(held) = current {
                            if held.id == *lock_id {
                                out.line(&format!("the lock is held by {held}"));
                                if !held.looks_abandoned() {
                                    let declined = std::cell::Cell::new(None);
                                    let what = "force-release the lock of";
                                    if !ask(&cli, what, &declined)
                                        .answer(&cli.stack, what, &sig.cancel)
                                        .await
                                    {
                                        return Ok(declined.get().unwrap_or_else(|| {
                                            out.line("cancelled; the lock is still held");
                                            ExitCode::SUCCESS
                                        }));
                                    }
                                }
                            }
                        }
                        let _held = sig.hold();
                        backend.unlock(&cli.stack, lock_id).await?;
                        out.line(&format!("released lock {lock_id} of stack {:?}", cli.stack));
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

async fn bootstrap(cli: &Cli) -> Result<ExitCode, CliError> {
    let url = &cli.backend;
    if url.starts_with("s3://") {
        strata_core::state::S3Backend::open(url)
            .await?
            .bootstrap()
            .await?;
    }
    if let Some(key) = kms_key(cli)? {
        kms_keys(&key)
            .await
            .bootstrap()
            .await
            .map_err(StateError::from)?;
        say!("secrets key {key} is ready");
    }
    if url.starts_with("s3://") {
        say!("backend {url} is ready");
        return Ok(ExitCode::SUCCESS);
    }
    let dir = url.strip_prefix("file://").unwrap_or(url);
    std::fs::create_dir_all(dir)?;
    say!("backend {url} is ready");
    Ok(ExitCode::SUCCESS)
}

fn code(summary: &Summary) -> ExitCode {
    if summary.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let filter = log_filter(
        std::env::var("STRATA_LOG").ok().as_deref(),
        std::env::var("STRATA_SDK_LOG").ok().as_deref(),
    );
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .finish()
        .with(filter);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// What a stack program logs: its own and strata's events at the level `strata` names
/// (`STRATA_LOG`: error, warn, info, debug, trace; default warn), and the AWS SDK's,
/// smithy's and the HTTP stack's at the level `sdk` names (`STRATA_SDK_LOG`, default
/// warn). The SDK has its own switch because at debug and trace it logs requests and
/// responses, bodies included: a `CreateSecret`'s value, a KMS data key. Turn it up only
/// to debug a call, never in CI logs that others read.
pub fn log_filter(strata: Option<&str>, sdk: Option<&str>) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::LevelFilter;
    let level = |v: Option<&str>| {
        v.and_then(|l| l.trim().parse::<LevelFilter>().ok())
            .unwrap_or(LevelFilter::WARN)
    };
    let sdk = level(sdk);
    ["aws", "hyper", "h2", "rustls", "tower", "reqwest"]
        .into_iter()
        .fold(
            tracing_subscriber::filter::Targets::new().with_default(level(strata)),
            |t, target| t.with_target(target, sdk),
        )
}

/// Targets given as URNs or as logical names of declared resources.
fn resolve_targets(targets: &[String], stack: &SealedStack) -> Result<Vec<Urn>, CliError> {
    targets
        .iter()
        .map(|t| {
            if let Some(u) = Urn::parse(t) {
                return Ok(u);
            }
            stack
                .nodes()
                .iter()
                .find(|n| n.name() == t)
                .map(|n| n.urn.clone())
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "--target {t:?} is neither a URN nor a declared resource name"
                    ))
                })
        })
        .collect()
}

fn target_in_state(t: &str, state: &strata_core::State) -> Result<Urn, CliError> {
    if let Some(u) = Urn::parse(t) {
        if state.resources.contains_key(&u) {
            return Ok(u);
        }
    }
    state
        .resources
        .keys()
        .find(|u| u.name() == t)
        .cloned()
        .ok_or_else(|| {
            CliError::Usage(format!(
                "{t:?} is not in the state of stack {:?}",
                state.stack
            ))
        })
}

/// Unwraps secret markers (for `--show-secrets`).
fn reveal(v: &Value) -> Value {
    match v {
        _ if strata_core::value::is_secret(v) => reveal(
            v.get(strata_core::value::SECRET_KEY)
                .unwrap_or(&Value::Null),
        ),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), reveal(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(reveal).collect()),
        other => other.clone(),
    }
}

/// The exit code of a plan that was not applied: why it was declined (`--expect-no-changes`,
/// no terminal), or the answer no, or the signal that interrupted the question.
fn not_applied(declined: Option<ExitCode>, out: &Output, sig: &Signals) -> ExitCode {
    declined.unwrap_or_else(|| {
        out.line("cancelled; nothing was applied");
        sig.exit_code()
    })
}

/// Whether to go ahead with a plan: at once, not at all, or after asking on the terminal.
enum Ask {
    Yes,
    No,
    Prompt,
}

/// `--yes` goes ahead; without a terminal, nothing can be asked: refused, exit 2.
fn ask(cli: &Cli, what: &str, declined: &std::cell::Cell<Option<ExitCode>>) -> Ask {
    if cli.yes {
        Ask::Yes
    } else if !std::io::stdin().is_terminal() {
        eprintln!(
            "error: refusing to {what} without confirmation: there is no terminal; pass --yes"
        );
        declined.set(Some(ExitCode::from(2)));
        Ask::No
    } else {
        Ask::Prompt
    }
}

impl Ask {
    /// The answer; a prompt is abandoned (no) when the run is cancelled (Ctrl-C, SIGTERM).
    fn answer(
        self,
        stack: &str,
        what: &str,
        cancel: &CancelToken,
    ) -> impl std::future::Future<Output = bool> {
        let question = format!("Do you want to {what} stack {stack:?}? [y/N] ");
        let cancel = cancel.clone();
        async move {
            match self {
                Ask::Yes => true,
                Ask::No => false,
                Ask::Prompt => {
                    // A thread of its own, never joined: a read of stdin cannot be
                    // interrupted, and the runtime must not wait for it on the way out.
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    std::thread::spawn(move || {
                        eprint!("{question}");
                        let _ = std::io::stderr().flush();
                        let mut line = String::new();
                        let read = std::io::stdin().lock().read_line(&mut line).ok();
                        let _ = tx.send(read.map(|_| line));
                    });
                    tokio::select! {
                        line = rx => matches!(
                            line.ok().flatten().as_deref().map(str::trim),
                            Some("y" | "Y" | "yes")
                        ),
                        () = cancel.cancelled() => false,
                    }
                }
            }
        }
    }
}

/// Waits for Ctrl-C or, on Unix, SIGTERM (what CI runners send to cancel a job), and
/// names it; `None` if neither can be listened for.
async fn interrupted() -> Option<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                r = tokio::signal::ctrl_c() => r.ok().map(|()| "Ctrl-C"),
                _ = term.recv() => Some("SIGTERM"),
            };
        }
    }
    tokio::signal::ctrl_c().await.ok().map(|()| "Ctrl-C")
}

/// The process's one Ctrl-C/SIGTERM listener, from the start of the command to its end,
/// so that no signal falls between two runs unheard. While a run is active, the first
/// signal cancels it (no new step starts; running steps finish, state is saved, the lock
/// released) and a second exits at once; otherwise the first exits at once (nothing is
/// held).
struct Signals {
    cancel: CancelToken,
    active: Arc<std::sync::atomic::AtomicBool>,
    got: Arc<std::sync::OnceLock<&'static str>>,
    task: tokio::task::JoinHandle<()>,
}

fn exit_code_of(signal: &str) -> u8 {
    if signal == "SIGTERM" {
        143
    } else {
        130
    }
}

impl Signals {
    fn listen() -> Self {
        let cancel = CancelToken::new();
        let active = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let got = Arc::new(std::sync::OnceLock::new());
        let task = {
            let (cancel, active, got) = (cancel.clone(), active.clone(), got.clone());
            tokio::spawn(async move {
                let Some(what) = interrupted().await else {
                    return;
                };
                let _ = got.set(what);
                if !active.load(std::sync::atomic::Ordering::SeqCst) {
                    eprintln!("\n{what}: exiting");
                    std::process::exit(exit_code_of(what).into());
                }
                eprintln!("\n{what}: stopping: no new steps start; running steps finish, state is saved and the lock released ({what} again to exit at once)");
                cancel.cancel();
                if let Some(again) = interrupted().await {
                    eprintln!("{again}: exiting at once; state is as of the last checkpoint");
                    std::process::exit(exit_code_of(again).into());
                }
            })
        };
        Signals {
            cancel,
            active,
            got,
            task,
        }
    }

    /// Marks a lock-holding operation outside [`with_progress`] as active until dropped:
    /// a first signal then lets it finish and release its lock.
    fn hold(&self) -> ActiveGuard {
        self.active.store(true, std::sync::atomic::Ordering::SeqCst);
        ActiveGuard(self.active.clone())
    }

    /// 130 after Ctrl-C, 143 after SIGTERM, else 0.
    fn exit_code(&self) -> ExitCode {
        self.got
            .get()
            .map_or(ExitCode::SUCCESS, |s| ExitCode::from(exit_code_of(s)))
    }
}

/// See [`Signals::hold`].
struct ActiveGuard(Arc<std::sync::atomic::AtomicBool>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs `fut` while rendering the engine's events; while it runs, Ctrl-C or SIGTERM
/// cancels it (see [`Signals`]).
async fn with_progress<T>(
    engine: &Engine,
    out: &Output,
    sig: &Signals,
    fut: impl std::future::Future<Output = Result<T, EngineError>>,
) -> Result<T, CliError> {
    sig.active.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut rx = engine.subscribe();
    let mut view = View::new(out);
    tokio::pin!(fut);
    let result = loop {
        tokio::select! {
            r = &mut fut => break r,
            Some(ev) = rx.recv() => view.handle(&ev),
        }
    };
    while let Ok(ev) = rx.try_recv() {
        view.handle(&ev);
    }
    view.done();
    sig.active.store(false, std::sync::atomic::Ordering::SeqCst);
    Ok(result?)
}

/// How results are printed.
struct Output {
    json: bool,
}

impl Output {
    fn line(&self, s: &str) {
        if self.json {
            let v = serde_json::json!({"event": "message", "message": s});
            say!("{v}");
        } else {
            say!("{s}");
        }
    }

    fn plan(&self, plan: &strata_core::Plan) {
        if self.json {
            let v = serde_json::json!({"event": "plan", "stack": plan.stack, "steps": plan.steps, "violations": plan.violations});
            say!("{v}");
        } else {
            let _ = std::io::stdout().lock().write_all(plan.render().as_bytes());
            if !plan.violations.is_empty() {
                say!("policy violations ({}):", plan.violations.len());
                for v in &plan.violations {
                    say!("  {v}");
                }
            }
        }
    }

    fn summary(&self, s: &Summary) {
        if self.json {
            return; // already emitted as an event
        }
        say!("{}", s.render());
        for (urn, op, e) in &s.failed {
            say!("  failed  {op} {urn}: {e}");
        }
        for (urn, op, why) in &s.skipped {
            say!("  skipped {op} {urn}: {why}");
        }
    }

    fn drift(&self, r: &strata_core::RefreshReport) {
        if self.json {
            return; // drift events were emitted
        }
        if r.drift.is_empty() {
            say!("refresh: no drift");
        }
        for (urn, d) in &r.drift {
            match d {
                None => say!("drift: {urn} was deleted outside strata"),
                Some(changes) => {
                    say!("drift: {urn}");
                    for c in changes {
                        say!("       {}", c.render());
                    }
                }
            }
        }
    }

    fn outputs(&self, outputs: &BTreeMap<String, Value>, only: Option<&str>, show_secrets: bool) {
        let shown = |v: &Value| if show_secrets { reveal(v) } else { redact(v) };
        if self.json {
            let m: BTreeMap<&String, Value> = outputs
                .iter()
                .filter(|(k, _)| only.is_none_or(|o| o == k.as_str()))
                .map(|(k, v)| (k, shown(v)))
                .collect();
            say!("{}", serde_json::json!({"event": "outputs", "outputs": m}));
            return;
        }
        if let Some(name) = only {
            if let Some(v) = outputs.get(name) {
                match shown(v) {
                    Value::String(s) => say!("{s}"),
                    other => say!("{other}"),
                }
            }
            return;
        }
        if outputs.is_empty() {
            return;
        }
        say!("Outputs:");
        let width = outputs.keys().map(String::len).max().unwrap_or(0);
        for (k, v) in outputs {
            let text = match shown(v) {
                Value::String(s) => s,
                other => display_value(&other),
            };
            say!("  {k:<width$}  {text}");
        }
    }
}

/// Renders events live: a progress bar on a terminal, plain lines otherwise, JSON lines
/// with `--json`.
struct View<'a> {
    out: &'a Output,
    bar: Option<ProgressBar>,
}

impl<'a> View<'a> {
    fn new(out: &'a Output) -> Self {
        View { out, bar: None }
    }

    fn say(&self, s: String) {
        match &self.bar {
            Some(b) => b.println(s),
            None => say!("{s}"),
        }
    }

    fn handle(&mut self, ev: &Event) {
        if self.out.json {
            if let Ok(s) = serde_json::to_string(ev) {
                say!("{s}");
            }
            return;
        }
        match ev {
            Event::RunStarted {
                operation,
                stack,
                steps,
            } => {
                if std::io::stdout().is_terminal() && *steps > 0 {
                    let bar = ProgressBar::new(*steps as u64);
                    if let Ok(style) = ProgressStyle::with_template(
                        "{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}",
                    ) {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar.set_message(format!("{operation} {stack}"));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    self.bar = Some(bar);
                } else {
                    self.say(format!("{operation} {stack}: {steps} step(s)"));
                }
            }
            Event::StepStarted { urn, op } => {
                if self.bar.is_none() {
                    self.say(format!("  {:<2} {op} {urn} ...", op.symbol()));
                }
            }
            Event::StepFinished {
                urn,
                op,
                elapsed_ms,
            } => {
                self.say(format!(
                    "  {:<2} {op} {urn} done ({:.1}s)",
                    op.symbol(),
                    *elapsed_ms as f64 / 1000.0
                ));
                if let Some(b) = &self.bar {
                    b.inc(1);
                }
            }
            Event::StepFailed { urn, op, error } => {
                self.say(format!("  !! {op} {urn} failed: {error}"));
                if let Some(b) = &self.bar {
                    b.inc(1);
                }
            }
            Event::StepSkipped { urn, op, reason } => {
                self.say(format!("  -- {op} {urn} skipped: {reason}"));
                if let Some(b) = &self.bar {
                    b.inc(1);
                }
            }
            Event::Drift { .. } | Event::Summary(_) => {}
            Event::Diagnostic {
                level,
                urn,
                message,
            } => {
                let urn = urn.as_ref().map(|u| format!("{u}: ")).unwrap_or_default();
                self.say(format!("  {level:?}: {urn}{message}"));
            }
        }
    }

    fn done(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
