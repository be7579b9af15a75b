//! The local AWS answers real SDK calls.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use strata_testkit::LocalAws;

#[tokio::test]
async fn s3_round_trip_against_moto() {
    let aws = LocalAws::shared();
    assert!(aws.endpoint().starts_with("http://127.0.0.1:"));
    let conf = aws.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("testkit-bucket")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuCentral1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let names: Vec<String> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert!(names.contains(&"testkit-bucket".to_owned()), "{names:?}");
}

#[test]
fn a_private_server_stops_when_dropped() {
    let aws = LocalAws::start().unwrap();
    let port: u16 = aws.endpoint().rsplit(':').next().unwrap().parse().unwrap();
    aws.reset().unwrap();
    drop(aws);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
