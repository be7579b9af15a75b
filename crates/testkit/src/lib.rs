//! strata-testkit: a local AWS (moto in server mode) for tests. A dev-dependency only.
//!
//! [`LocalAws::shared`] starts one moto server per test process on a free loopback port,
//! waits until it answers, and gives test code an SDK config pointed at it (dummy
//! credentials, `eu-central-1`). The server stops when the test process ends, even if it is
//! killed: it runs under a small shell that exits when the test process's end of a pipe
//! closes. [`LocalAws::start`] starts a private server, stopped on drop.
//!
//! moto is installed by `bash scripts/local-aws.sh install` (CI does it). If it is not
//! installed, tests fail with a message that says so; they never pass silently.
//! `STRATA_MOTO_SERVER` overrides the path of the `moto_server` executable.

pub mod faults;
pub mod harness;
pub use harness::Harness;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The region tests use.
pub const REGION: &str = "eu-central-1";

/// What can go wrong starting the local AWS.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// moto is not installed.
    #[error("moto is not installed (no {}): run `bash scripts/local-aws.sh install`", .0.display())]
    NotInstalled(PathBuf),
    /// The server could not be started or did not answer.
    #[error("cannot start moto: {0}")]
    Start(String),
}

/// strata's moto server: moto with fixes of answers the AWS SDK refuses.
const MOTO_EXT: &str = include_str!("../../../scripts/moto_ext.py");

/// The moto configuration strata's tests and demo use (see [`LocalAws::start`]).
pub const CONFIG: &str = r#"{"lambda": {"use_docker": false}}"#;

/// A running moto server.
#[derive(Debug)]
pub struct LocalAws {
    endpoint: String,
    child: Option<Child>,
}

/// The `moto_server` executable: `STRATA_MOTO_SERVER`, or the repository's `.venv`.
pub fn moto_server_path() -> PathBuf {
    if let Some(p) = std::env::var_os("STRATA_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    if let Some(v) = std::env::var_os("STRATA_VENV") {
        return PathBuf::from(v).join("bin/moto_server");
    }
    // The nearest `.venv` above the working directory (tests run in their package's
    // directory), else the one of the checkout this crate was compiled in: a target
    // directory shared between checkouts may hold a build from another one.
    let from_cwd = std::env::current_dir().ok().and_then(|d| {
        d.ancestors()
            .map(|a| a.join(".venv/bin/moto_server"))
            .find(|p| p.exists())
    });
    from_cwd.unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server")
    })
}

fn free_port() -> Result<u16, Error> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Start(e.to_string()))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Start(e.to_string()))
}

fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req =
        format!("GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && buf.starts_with(b"HTTP/1.1 200"))
}

impl LocalAws {
    /// The server shared by every test of this process, started on first use.
    ///
    /// # Panics
    /// If moto is not installed or does not start: the message says how to fix it.
    pub fn shared() -> &'static LocalAws {
        static SHARED: OnceLock<LocalAws> = OnceLock::new();
        SHARED.get_or_init(|| match LocalAws::start() {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        })
    }

    /// Starts a private server on a free loopback port and waits until it answers.
    pub fn start() -> Result<LocalAws, Error> {
        let server = moto_server_path();
        if !server.exists() {
            return Err(Error::NotInstalled(server));
        }
        let port = free_port()?;
        // moto's server with strata's fixes (scripts/moto_ext.py, embedded here so that a
        // target directory shared between checkouts cannot point at a stale copy), run by
        // the virtualenv's python next to `moto_server`.
        let python = server.with_file_name("python");
        let ext =
            std::env::temp_dir().join(format!("strata-moto-ext-{}-{port}.py", std::process::id()));
        std::fs::write(&ext, MOTO_EXT)
            .map_err(|e| Error::Start(format!("{}: {e}", ext.display())))?;
        // The shell stops moto when our end of its stdin closes, i.e. when this process
        // ends for whatever reason. `STRATA_MOTO_LOG=FILE` keeps moto's log (its
        // tracebacks explain a 500).
        let script = r#"python="$1"; ext="$2"; port="$3"; "$python" "$ext" -H 127.0.0.1 -p "$port" >"${STRATA_MOTO_LOG:-/dev/null}" 2>&1 & pid=$!; cat >/dev/null; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$ext""#;
        let mut child = Command::new("sh")
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            // ACM issues DNS-validated certificates at once (moto waits 60 s by default).
            .env("MOTO_ACM_VALIDATION_WAIT", "0")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(&python)
            .arg(&ext)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::Start(format!("{}: {e}", server.display())))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !answers(port) {
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(Error::Start(format!(
                    "no answer on 127.0.0.1:{port} within 30 s"
                )));
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(Error::Start(format!("moto exited: {status}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let aws = LocalAws {
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        };
        aws.configure()?;
        Ok(aws)
    }

    /// moto's configuration for strata (the same as `scripts/local-aws.sh start`):
    /// - Lambda functions are registered and "invoked" without Docker (moto's
    ///   `lambda.use_docker = false`: an invocation answers a fixed success). Secrets
    ///   Manager invokes the rotation function when rotation is set up, and these machines
    ///   have no Docker.
    /// - AWS managed IAM policies exist (`MOTO_IAM_LOAD_MANAGED_POLICIES=true` when the
    ///   server starts), so roles can attach `CloudWatchAgentServerPolicy` and the like
    ///   as on real AWS.
    fn configure(&self) -> Result<(), Error> {
        self.post("/moto-api/config", CONFIG)
    }

    fn post(&self, path: &str, body: &str) -> Result<(), Error> {
        let port = self
            .endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or(0);
        let mut s =
            TcpStream::connect(("127.0.0.1", port)).map_err(|e| Error::Start(e.to_string()))?;
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes())
            .map_err(|e| Error::Start(e.to_string()))?;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        if out.starts_with(b"HTTP/1.1 2") {
            Ok(())
        } else {
            Err(Error::Start(format!(
                "{path}: {}",
                String::from_utf8_lossy(&out)
            )))
        }
    }

    /// The endpoint, `http://127.0.0.1:PORT` (not `localhost`: S3 would try
    /// `BUCKET.localhost`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An SDK config for the emulator: its endpoint, `eu-central-1`, dummy credentials.
    /// Build S3 clients from it with `force_path_style(true)`.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_credential_types::Credentials::new(
                "test",
                "test",
                None,
                None,
                "strata-testkit",
            ))
            .load()
            .await
    }

    /// The same configuration, with the fault-injecting HTTP layer under it: `percent` %
    /// of calls are answered with throttling or 5xx errors ([`faults::FaultyHttp`]).
    pub async fn faulty_sdk_config(
        &self,
        percent: u64,
        seed: u64,
    ) -> (aws_config::SdkConfig, std::sync::Arc<faults::FaultCounts>) {
        let conf = self.sdk_config().await;
        // The local AWS speaks plain HTTP: the SDK's own HTTP client, without TLS.
        let inner = aws_smithy_http_client::Builder::new().build_http();
        let layer = faults::FaultyHttp::new(inner, percent, seed);
        let counts = layer.counts();
        // The retries strata runs with on AWS (`Aws::from_env`): adaptive, 8 attempts.
        let conf = conf
            .to_builder()
            .http_client(layer)
            .retry_config(aws_config::retry::RetryConfig::adaptive().with_max_attempts(8))
            .build();
        (conf, counts)
    }

    /// Resets every service's state in the emulator (moto's reset API), and configures it
    /// again.
    pub fn reset(&self) -> Result<(), Error> {
        self.post("/moto-api/reset", "")?;
        self.configure()
    }
}

impl Drop for LocalAws {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // Closing stdin makes the shell stop moto.
            drop(c.stdin.take());
            let _ = c.wait();
        }
    }
}
