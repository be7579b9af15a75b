//! Logs hold no secret: at the most verbose level `STRATA_LOG` allows, a deploy and
//! refresh that send a secret to AWS and read it back (Secrets Manager `CreateSecret`,
//! `GetSecretValue`, against moto) log strata's own trace events but never the secret's
//! plaintext, even with the SDK's `LOG_SENSITIVE_BODIES=true`. The SDK's own switch
//! (`STRATA_SDK_LOG`) is what would print bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use strata_core::Stack;
use strata_security::Secret;
use strata_testkit::Harness;
use tracing_subscriber::layer::SubscriberExt as _;

const CANARY: &str = "canary-plaintext-7f3a9c";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Deploys a secret with the CLI's log filter for these settings, and returns the logs.
/// With `global`, the subscriber is the process's (as the CLI installs it), so that
/// events of every thread, blocking ones included, are captured.
fn deploy_logging(strata: &str, sdk: Option<&str>, stack: &str, global: bool) -> String {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .with(strata::cli::log_filter(Some(strata), sdk));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let deploy = || {
        rt.block_on(async {
            let env = Harness::new(stack, strata_security::register)
                .await
                .with_passphrase("logging-test");
            let name = format!("{stack}/api-key");
            let st = env.stack(|s: &mut Stack| {
                s.add("key", Secret::new(name).value(CANARY).recovery_window(0));
            });
            env.up(&st).await;
            // Refresh reads the value back (`GetSecretValue`: the plaintext in a response).
            env.engine
                .refresh(stack, &strata_core::RunOptions::default())
                .await
                .unwrap();
            env.destroy().await;
        });
    };
    if global {
        tracing::subscriber::set_global_default(subscriber).unwrap();
        deploy();
    } else {
        tracing::subscriber::with_default(subscriber, deploy);
    }
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    text
}

#[test]
fn trace_logs_hold_no_secret_plaintext() {
    // The SDK redacts sensitive bodies unless told not to; say so, as someone chasing a
    // bug might have: strata's filter must still keep the SDK's bodies out.
    std::env::set_var("LOG_SENSITIVE_BODIES", "true");
    let logs = deploy_logging("trace", None, "logging-quiet-sdk", true);
    assert!(
        logs.contains("strata_core"),
        "strata's own trace events are logged: {logs}"
    );
    assert!(!logs.contains(CANARY), "a secret leaked into the logs");
    // The SDK's switch is what prints bodies: with it up, the same deploy logs the
    // plaintext (so the check above can fail).
    let loud = deploy_logging("trace", Some("trace"), "logging-loud-sdk", false);
    assert!(
        loud.contains(CANARY),
        "expected the SDK's trace logs to show request bodies"
    );
}
