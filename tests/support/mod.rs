//! What the stack tests share.

#![allow(dead_code)]

pub mod inventory;

/// The id of an image the local AWS offers (moto's first Amazon-owned AMI).
pub async fn first_ami(conf: &aws_config::SdkConfig) -> String {
    aws_sdk_ec2::Client::new(conf)
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .unwrap()
        .images()[0]
        .image_id()
        .unwrap()
        .to_owned()
}
