//! Processes racing for a stack's lock, many times over: exactly one wins each time. For
//! the file lock, the S3 lock object and the DynamoDB lock item (against moto).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::process::{Command, Stdio};
use std::time::Duration;

use strata_core::state::{Backend, FileBackend, S3Backend};
use strata_testkit::LocalAws;

async fn open(url: &str) -> Box<dyn Backend> {
    if let Some(dir) = url.strip_prefix("file://") {
        return Box::new(FileBackend::new(dir));
    }
    let endpoint = std::env::var("STRATA_RACE_ENDPOINT").unwrap();
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-central-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::Credentials::new(
            "t", "t", None, None, "race",
        ))
        .load()
        .await;
    Box::new(S3Backend::from_url(url, &conf).unwrap())
}

/// A contender: tries once, prints the lock id it won (or nothing), exits.
#[test]
fn race_child() {
    let Ok(url) = std::env::var("STRATA_RACE_URL") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let b = open(&url).await;
        // Line up: start together.
        let go: u128 = std::env::var("STRATA_RACE_AT").unwrap().parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        if go > now {
            tokio::time::sleep(Duration::from_millis((go - now) as u64)).await;
        }
        if let Ok(l) = b.lock("dev", "up", Duration::ZERO).await {
            println!("WON {}", l.id);
            // Stay alive while the others try: a lock whose process is gone is stale and
            // may be broken (file backend).
            tokio::time::sleep(Duration::from_millis(800)).await;
        }
    });
}

fn race(url: &str, endpoint: &str, contenders: usize, rounds: usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    if url.starts_with("s3://") {
        std::env::set_var("STRATA_RACE_ENDPOINT", endpoint);
        rt.block_on(async {
            let conf = LocalAws::shared().sdk_config().await;
            S3Backend::from_url(url, &conf)
                .unwrap()
                .bootstrap()
                .await
                .unwrap();
        });
    }
    for round in 0..rounds {
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 400;
        let children: Vec<_> = (0..contenders)
            .map(|_| {
                Command::new(std::env::current_exe().unwrap())
                    .args([
                        "--exact",
                        "race_child",
                        "--nocapture",
                        "--test-threads",
                        "1",
                    ])
                    .env("STRATA_RACE_URL", url)
                    .env("STRATA_RACE_ENDPOINT", endpoint)
                    .env("STRATA_RACE_AT", at.to_string())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let winners: Vec<String> = children
            .into_iter()
            .filter_map(|c| {
                let out = String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap();
                out.split("WON ")
                    .nth(1)
                    .map(|s| s.split_whitespace().next().unwrap().to_owned())
            })
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "{url}: round {round}: winners {winners:?}"
        );
        rt.block_on(async { open(url).await.unlock("dev", &winners[0]).await.unwrap() });
    }
}

#[test]
fn processes_racing_for_each_kind_of_lock_exactly_one_wins_each_time() {
    let aws = LocalAws::shared();
    let dir = tempfile::tempdir().unwrap();
    race(
        &format!("file://{}", dir.path().display()),
        aws.endpoint(),
        5,
        8,
    );
    race("s3://strata-race-proc/p?lock=s3", aws.endpoint(), 5, 6);
    race(
        "s3://strata-race-proc/q?lock_table=race-proc-locks",
        aws.endpoint(),
        5,
        8,
    );
}
