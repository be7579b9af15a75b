//! The e-commerce platform, every tier of it, as one strata stack.
//!
//! ```text
//! bash scripts/demo.sh                      # local AWS (moto) + up + outputs + diagram
//! cargo run --example ecommerce -- preview  # against whatever AWS the environment names
//! cargo run --example ecommerce -- up --yes
//! cargo run --example ecommerce -- graph --format svg -o ecommerce.svg
//! ```
//!
//! Each tier is a plain function that takes the stack and what earlier tiers made, and
//! returns typed handles: `security` (keys, secrets, GuardDuty, the app role), `network`
//! (VPC, subnets, gateways, routes, security groups, flow logs), `data` (RDS, Redis, the
//! buckets, EFS), `edge` (DNS, certificates, the ALB, WAF, CloudFront), `compute` (the
//! launch template and auto scaling group) and `observability` (logs, alarms, SNS, X-Ray,
//! CloudTrail, a dashboard).
//!
//! Settings that differ per deployment come from `--config key=value` or
//! `STRATA_CONFIG_<KEY>`, with the platform spec's values as defaults: see [`Config`].
//!
//! Weekly manual RDS snapshots: run `up --config weekly_snapshot=2026-48` from a weekly
//! scheduled job; each run adds a `DbSnapshot` named after the week (and the previous
//! week's snapshot, no longer declared, is deleted unless you keep it with
//! `retain_on_delete`: this example keeps them).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use serde_json::json;
use strata::compute::{
    AutoScalingGroup, HealthCheck as AsgHealthCheck, LaunchTemplate, Metric, ScalingPolicy,
};
use strata::compute::{AutoScalingGroupHandle, LaunchTemplateHandle};
use strata::data::*;
use strata::edge::*;
use strata::network::three_tier::{ThreeTier, ThreeTierVpc};
use strata::network::{
    FlowLog, SecurityGroup, SecurityGroupHandle, SecurityGroupRule, SubnetHandle, VpcHandle,
};
use strata::observability::*;
use strata::prelude::*;
use strata::security::rotation::RotationFunction;
use strata::security::{
    policies, GuardDutyDetector, IamInstanceProfile, IamInstanceProfileHandle, IamRole,
    IamRoleHandle, KeyPolicy, KeyService, KmsAlias, KmsKey, KmsKeyHandle, SecretHandle,
    SecretRotation,
};

/// What differs per deployment. Every field has the spec's value as its default.
#[derive(Debug, Clone)]
pub struct Config {
    /// A short prefix of every name (`shop`).
    pub name: String,
    /// The region (`eu-central-1`); the AZs are its `a` and `b`.
    pub region: String,
    /// The AWS account, for bucket names and the CloudTrail bucket policy (the example's
    /// `main` asks STS when it is not given).
    pub account_id: String,
    /// The shop's domain (`shop.example.com`).
    pub domain: String,
    /// The DevOps team's alert address.
    pub alert_email: String,
    /// The PagerDuty events endpoint.
    pub pagerduty_url: String,
    /// The app servers' AMI.
    pub ami: String,
    /// The app servers' instance type (`t3.medium`).
    pub instance_type: String,
    /// Let `destroy` empty the log buckets (CloudTrail's, the ALB's, and the backups
    /// bucket the flow logs write to) instead of refusing them: off, so production logs
    /// outlive the stack; a non-production teardown turns it on with an `up` first, as it
    /// lifts deletion protection.
    pub force_destroy_logs: bool,
    /// Read replicas of the database (0).
    pub read_replicas: u32,
    /// Instance types for Spot burst capacity above the on-demand base (the minimum
    /// size): `t3.medium,t3a.medium,t2.medium` (the same 2 vCPUs and 4 GiB); empty turns
    /// Spot off.
    pub spot_instance_types: Vec<String>,
    /// The auto scaling group's min, desired and max (2, 4, 8).
    pub capacity: (i32, i32, i32),
    /// The database class (`db.r5.xlarge`) and storage in GB (500).
    pub db_class: String,
    /// Storage, GB.
    pub db_storage_gb: i32,
    /// The Redis node type (`cache.r5.large`) and node count (2).
    pub cache_node_type: String,
    /// Redis nodes.
    pub cache_nodes: i32,
    /// Countries the WAF blocks (ISO codes; none by default).
    pub blocked_countries: Vec<String>,
    /// Deletion protection on the database (on by default: turn it off before a
    /// `destroy`).
    pub deletion_protection: bool,
    /// When set, a manual DB snapshot named after it (the weekly job).
    pub weekly_snapshot: Option<String>,
}

impl Config {
    /// The stack's configuration over the spec's defaults.
    /// A value that does not parse (`--config max_size=abc`) is a declaration error naming
    /// the key: the CLI exits 2 and nothing is deployed.
    pub fn from_stack(s: &mut Stack) -> Config {
        let capacity = (
            s.config_as_or("min_size", 2),
            s.config_as_or("desired_capacity", 4),
            s.config_as_or("max_size", 8),
        );
        let db_storage_gb = s.config_as_or("db_storage_gb", 500);
        let cache_nodes = s.config_as_or("cache_nodes", 2);
        let read_replicas = s.config_as_or("read_replicas", 0);
        let force_destroy_logs = s.config_as_or("force_destroy_logs", false);
        let deletion_protection = s.config_as_or("deletion_protection", true);
        let get = |k: &str, d: &str| s.config_or(k, d);
        let region = get("region", "eu-central-1");
        Config {
            name: get("name", "shop"),
            account_id: get("account_id", "123456789012"),
            domain: get("domain", "shop.example.com"),
            alert_email: get("alert_email", "devops@example.com"),
            pagerduty_url: get(
                "pagerduty_url",
                "https://events.pagerduty.com/integration/0123456789abcdef/enqueue",
            ),
            ami: get("ami", "ami-0123456789abcdef0"),
            instance_type: get("instance_type", "t3.medium"),
            capacity,
            db_class: get("db_class", "db.r5.xlarge"),
            db_storage_gb,
            cache_node_type: get("cache_node_type", "cache.r5.large"),
            cache_nodes,
            read_replicas,
            force_destroy_logs,
            spot_instance_types: s
                .config_or("spot_instance_types", "t3.medium,t3a.medium,t2.medium")
                .split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect(),
            blocked_countries: s
                .config("blocked_countries")
                .map(|v| {
                    v.split(',')
                        .map(|c| c.trim().to_owned())
                        .filter(|c| !c.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            deletion_protection,
            weekly_snapshot: s.config("weekly_snapshot").map(str::to_owned),
            region,
        }
    }

    /// A globally unique bucket name.
    fn bucket(&self, what: &str) -> String {
        format!("{}-{what}-{}-{}", self.name, self.account_id, self.region)
    }
}

/// The customer-managed keys (rotated yearly) and what else the security tier makes.
#[derive(Debug)]
pub struct Security {
    pub rds: Handle<KmsKey>,
    pub s3: Handle<KmsKey>,
    pub ebs: Handle<KmsKey>,
    pub efs: Handle<KmsKey>,
    pub secrets: Handle<KmsKey>,
    pub app_role: Handle<IamRole>,
    pub app_profile: Handle<IamInstanceProfile>,
    pub api_keys: Vec<Handle<strata::security::Secret>>,
}

fn security(s: &mut Stack, cfg: &Config) -> Security {
    let n = &cfg.name;
    let mut key = |what: &str, services: &[KeyService]| {
        // The account's root (so IAM policies decide for roles and users), and the AWS
        // services that use the key for the account, which only the key policy can let
        // in: `up` refuses a key that a service needs and is not granted.
        let policy = services
            .iter()
            .fold(KeyPolicy::new(&cfg.account_id), |p, s| p.service(*s));
        // The RDS key encrypts the snapshots that outlive the stack (the final one and
        // the weekly ones): it is kept on delete, or they could never be restored.
        let options = if what == "rds" {
            ResourceOptions::default().retain_on_delete()
        } else {
            ResourceOptions::default()
        };
        let key = s.add_with(
            format!("{what}-key"),
            KmsKey::new(format!("{n}: {what} encryption")).key_policy(policy),
            options,
        );
        s.add(
            format!("{what}-key-alias"),
            KmsAlias::new(format!("alias/{n}-{what}"), key.id()),
        );
        key
    };
    let (rds, s3, ebs, efs, secrets) = (
        key("rds", &[]),
        // CloudTrail writes, CloudFront reads, and flow logs write objects under it.
        key(
            "s3",
            &[
                KeyService::CloudTrail,
                KeyService::CloudFront,
                KeyService::LogDelivery,
            ],
        ),
        // The auto scaling group launches instances whose volumes use it.
        key("ebs", &[KeyService::AutoScaling]),
        key("efs", &[]),
        // The alerts topic is encrypted with it, and CloudWatch alarms publish there.
        key("secrets", &[KeyService::CloudWatchAlarms]),
    );

    // Credentials: the DB's master password is managed by RDS in Secrets Manager and
    // rotated by it every 90 days (see `data`); the app's DB password and the third-party
    // API keys rotate every 90 days.
    let rotation = RotationFunction::new(format!("{n}-secret-rotation")).declare(s);
    let mut api_keys = Vec::new();
    for (name, env) in [
        ("db-app-password", None),
        ("payment-api-key", Some("PAYMENT_API_KEY")),
        ("email-api-key", Some("EMAIL_API_KEY")),
    ] {
        let mut args = strata::security::Secret::new(format!("{n}/{name}")).kms_key(secrets.arn());
        args = match env.and_then(|e| std::env::var(e).ok()) {
            Some(value) => args.value(value.as_str()),
            None => args.generate_password(40),
        };
        let secret = s.add(name, args);
        s.add(
            format!("{name}-rotation"),
            SecretRotation::new(secret.arn(), rotation.arn(), 90),
        );
        api_keys.push(secret);
    }

    s.add("guardduty", GuardDutyDetector::new());

    let app_role = s.add(
        "app-role",
        IamRole::for_service(format!("{n}-app"), "ec2.amazonaws.com")
            .managed_policies(
                policies::APP_SERVER_MANAGED_POLICIES
                    .iter()
                    .map(|a| a.to_string()),
            )
            .inline_policy(
                "read-secrets",
                policies::read_secrets_via_kms(
                    &[format!("arn:aws:secretsmanager:*:*:secret:{n}/*")],
                    &cfg.region,
                    &cfg.account_id,
                ),
            ),
    );
    let app_profile = s.add(
        "app-profile",
        IamInstanceProfile::new(format!("{n}-app"), app_role.name()),
    );
    Security {
        rds,
        s3,
        ebs,
        efs,
        secrets,
        app_role,
        app_profile,
        api_keys,
    }
}

/// The three-tier VPC and the security groups of each tier.
#[derive(Debug)]
pub struct Network {
    pub net: ThreeTier,
    pub alb_sg: Handle<SecurityGroup>,
    pub app_sg: Handle<SecurityGroup>,
    pub db_sg: Handle<SecurityGroup>,
    pub cache_sg: Handle<SecurityGroup>,
    pub efs_sg: Handle<SecurityGroup>,
}

fn network(s: &mut Stack, cfg: &Config) -> Network {
    let n = &cfg.name;
    let layout = ThreeTierVpc {
        azs: vec![format!("{}a", cfg.region), format!("{}b", cfg.region)],
        ..ThreeTierVpc::default()
    };
    let net = layout.declare(s, n);
    let vpc = net.vpc.id();
    let mut sg = |name: &str, what: &str| {
        s.add(
            format!("{name}-sg"),
            SecurityGroup::new(format!("{n}-{name}"), what, vpc.clone()),
        )
    };
    let alb_sg = sg("alb", "ALB: HTTPS and HTTP from the internet");
    let app_sg = sg("app", "app servers: from the ALB");
    let db_sg = sg("db", "PostgreSQL: from the app servers");
    let cache_sg = sg("cache", "Redis: from the app servers");
    let efs_sg = sg("efs", "EFS: NFS from the app servers");
    for (name, port) in [("alb-https", 443), ("alb-http", 80)] {
        s.add(
            name,
            SecurityGroupRule::ingress(alb_sg.id())
                .tcp(port)
                .from_cidr("0.0.0.0/0"),
        );
    }
    for (name, group, port, from) in [
        ("app-from-alb", &app_sg, 8080, &alb_sg),
        ("db-from-app", &db_sg, 5432, &app_sg),
        ("cache-from-app", &cache_sg, 6379, &app_sg),
        ("efs-from-app", &efs_sg, 2049, &app_sg),
    ] {
        s.add(
            name,
            SecurityGroupRule::ingress(group.id())
                .tcp(port)
                .from_group(from.id()),
        );
    }
    Network {
        net,
        alb_sg,
        app_sg,
        db_sg,
        cache_sg,
        efs_sg,
    }
}

/// The data stores.
#[derive(Debug)]
pub struct Data {
    pub db: Handle<DbInstance>,
    pub cache: Handle<ReplicationGroup>,
    pub images: Handle<Bucket>,
    pub uploads: Handle<Bucket>,
    pub backups: Handle<Bucket>,
    pub audit_logs: Handle<Bucket>,
    pub alb_logs: Handle<Bucket>,
    pub files: Handle<FileSystem>,
}

fn data(s: &mut Stack, cfg: &Config, net: &Network, keys: &Security) -> Data {
    let n = &cfg.name;
    let data_subnets = || net.net.data.iter().map(|d| d.id());

    let db_subnets = s.add(
        "db-subnets",
        DbSubnetGroup::new(format!("{n}-db"), data_subnets()),
    );
    let params = s.add(
        "db-params",
        DbParameterGroup::new(format!("{n}-postgres14"), "postgres14")
            .parameter("rds.force_ssl", "1"),
    );
    let db_args = DbInstance::postgres(format!("{n}-db"), "14", &cfg.db_class, db_subnets.name())
        .storage(cfg.db_storage_gb, StorageType::Gp3)
        .multi_az(true)
        .backups(7, "03:00-04:00")
        .kms_key(keys.rds.arn())
        .security_group(net.db_sg.id())
        .parameter_group(params.name())
        .db_name("shop")
        // The RDS-managed master secret rotates every 90 days, as the app's secrets do.
        .master_user_secret_rotation(90)
        .deletion_protection(cfg.deletion_protection);
    let db = s.add("db", db_args.clone());
    // Read replicas for read-heavy work (none by default), following the primary.
    for i in 1..=cfg.read_replicas {
        s.add(
            format!("db-replica-{i}"),
            db_args.read_replica(format!("{n}-db-replica-{i}"), db.identifier()),
        );
    }
    if let Some(week) = &cfg.weekly_snapshot {
        s.add_with(
            format!("db-snapshot-{week}"),
            DbSnapshot::new(db.identifier(), format!("{n}-db-weekly-{week}")),
            ResourceOptions::default().retain_on_delete(),
        );
    }

    let cache_subnets = s.add(
        "cache-subnets",
        CacheSubnetGroup::new(format!("{n}-cache"), data_subnets()),
    );
    let cache = s.add(
        "cache",
        ReplicationGroup::redis(
            format!("{n}-cache"),
            &cfg.cache_node_type,
            cfg.cache_nodes,
            cache_subnets.name(),
        )
        .kms_key(keys.rds.arn())
        .security_group(net.cache_sg.id()),
    );

    let bucket = |name: &str| Bucket::new(cfg.bucket(name)).kms(keys.s3.arn());
    let images = s.add(
        "images",
        bucket("product-images")
            .versioning(true)
            .lifecycle(
                LifecycleRule::new("tiering").transition(0, StorageClass::IntelligentTiering),
            )
            .tag("critical", "true"),
    );
    let uploads = s.add(
        "uploads",
        bucket("user-uploads")
            .lifecycle(LifecycleRule::new("ia").transition(90, StorageClass::StandardIa)),
    );
    let backups = s.add(
        "backups",
        bucket("backups")
            .versioning(true)
            .lifecycle(
                LifecycleRule::new("archive")
                    .transition(90, StorageClass::Glacier)
                    .expire_after(365),
            )
            .force_destroy(cfg.force_destroy_logs)
            .tag("critical", "true"),
    );
    let trail_name = format!("{n}-audit");
    let audit_logs = s.add(
        "audit-logs",
        bucket("audit-logs")
            .versioning(true)
            .lifecycle(
                LifecycleRule::new("retention")
                    .transition(90, StorageClass::Glacier)
                    .expire_after(365),
            )
            .policy(strata::observability::bucket_policy(
                &cfg.bucket("audit-logs"),
                &trail_name,
                &cfg.account_id,
                &cfg.region,
            ))
            .force_destroy(cfg.force_destroy_logs)
            .tag("critical", "true"),
    );

    // ALB access logs: S3-managed encryption (the only kind ALBs write), delivered by the
    // region's Elastic Load Balancing account (or, in regions opened since August 2022,
    // the log delivery service).
    let alb_logs_name = cfg.bucket("alb-logs");
    let alb_logs = s.add(
        "alb-logs",
        Bucket::new(&alb_logs_name)
            .lifecycle(LifecycleRule::new("retention").expire_after(90))
            .force_destroy(cfg.force_destroy_logs)
            .policy(strata::edge::access_log_bucket_policy(
                &alb_logs_name,
                "alb",
                &cfg.account_id,
                &cfg.region,
            )),
    );

    let files = s.add("files", FileSystem::new().kms_key(keys.efs.arn()));
    for (k, subnet) in net.net.app.iter().enumerate() {
        s.add(
            format!("files-mount-{k}"),
            MountTarget::new(files.id(), subnet.id()).security_group(net.efs_sg.id()),
        );
    }
    Data {
        db,
        cache,
        images,
        uploads,
        backups,
        audit_logs,
        alb_logs,
        files,
    }
}

/// What users reach: DNS, the ALB behind WAF, CloudFront.
#[derive(Debug)]
pub struct Edge {
    pub zone: Handle<HostedZone>,
    pub alb: Handle<LoadBalancer>,
    pub targets: Handle<TargetGroup>,
    pub cdn: Handle<Distribution>,
}

fn edge(s: &mut Stack, cfg: &Config, net: &Network, data: &Data) -> Edge {
    let (n, domain) = (&cfg.name, &cfg.domain);
    let zone = s.add("zone", HostedZone::new(domain));

    // One certificate for the ALB (in the region), one for CloudFront (in us-east-1),
    // both for the domain and its wildcard, validated by DNS in the zone.
    let cert = s.add(
        "cert",
        Certificate::dns(domain)
            .wildcard()
            .validate_in_zone(zone.zone_id()),
    );
    let cdn_cert = s.add(
        "cdn-cert",
        Certificate::dns(domain)
            .wildcard()
            .validate_in_zone(zone.zone_id())
            .for_cloudfront(),
    );

    let targets = s.add(
        "app-targets",
        TargetGroup::http(format!("{n}-app"), 8080, net.net.vpc.id()).health_check_path("/health"),
    );
    // Internet-facing: AWS refuses it in a VPC without an attached internet gateway, and
    // the gateway's detach waits for its addresses to go.
    let alb = s.add_with(
        "alb",
        LoadBalancer::new(format!("{n}-alb"), net.net.public.iter().map(|p| p.id()))
            .security_group(net.alb_sg.id())
            .cross_zone(true)
            .access_logs(data.alb_logs.name(), Some("alb")),
        ResourceOptions::new().depends_on(net.net.igw.urn().clone()),
    );
    s.add(
        "https",
        Listener::https(alb.arn(), 443, cert.arn(), targets.arn()),
    );
    s.add("http", Listener::http_redirect(alb.arn()));

    let mut waf = WebAcl::regional(format!("{n}-waf"))
        .rule(Rule::sql_injection(1))
        .rule(Rule::common(2))
        .rule(Rule::rate_limit(3, 1000));
    if !cfg.blocked_countries.is_empty() {
        waf = waf.rule(Rule::geo_block(4, cfg.blocked_countries.clone()));
    }
    let waf = s.add("waf", waf);
    s.add("waf-alb", WebAclAssociation::new(waf.arn(), alb.arn()));

    // CloudFront: product images from S3 (through origin access control), the rest from
    // the ALB; the images bucket lets only this distribution read.
    let oac = s.add("images-oac", OriginAccessControl::s3(format!("{n}-images")));
    let cdn = s.add(
        "cdn",
        Distribution::new(CacheBehavior::dynamic("alb"))
            .origin(DistributionOrigin::s3(
                "images",
                data.images.regional_domain_name(),
                oac.id(),
            ))
            .origin(DistributionOrigin::custom("alb", alb.dns_name()))
            .behavior("/images/*", CacheBehavior::static_assets("images"))
            .behavior("/static/*", CacheBehavior::static_assets("images"))
            .alias(format!("cdn.{domain}"))
            .certificate(cdn_cert.arn())
            .comment(format!("{n}: images and the app")),
    );
    let images_bucket = cfg.bucket("product-images");
    s.add(
        "images-cdn-read",
        BucketPolicy::new(
            data.images.name(),
            cdn.arn()
                .map(move |arn| cloudfront_read_policy(&images_bucket, &arn)),
        ),
    );

    let health = s.add(
        "health",
        HealthCheck::new(HealthCheckType::Https, domain.clone()).resource_path("/health"),
    );
    s.add(
        "apex",
        Record::alias(
            zone.zone_id(),
            domain.clone(),
            RecordType::A,
            alb.dns_name(),
            alb.zone_id(),
        )
        .evaluate_target_health(true)
        .health_check(health.id()),
    );
    s.add(
        "cdn-record",
        Record::alias(
            zone.zone_id(),
            format!("cdn.{domain}"),
            RecordType::A,
            cdn.domain_name(),
            cdn.hosted_zone_id(),
        ),
    );
    Edge {
        zone,
        alb,
        targets,
        cdn,
    }
}

/// The app servers.
#[derive(Debug)]
pub struct Compute {
    pub template: Handle<LaunchTemplate>,
    pub group: Handle<AutoScalingGroup>,
}

fn compute(
    s: &mut Stack,
    cfg: &Config,
    net: &Network,
    keys: &Security,
    data: &Data,
    edge: &Edge,
) -> Compute {
    let n = &cfg.name;
    // Every instance mounts the shared EFS file system at boot, and runs the CloudWatch
    // agent, which publishes the memory metric the memory alarm and policy read.
    let user_data = data.files.id().map(|fs| {
        format!(
            "#!/bin/bash\nset -e\nyum install -y amazon-efs-utils\nmkdir -p /mnt/shared\n\
             echo '{fs}:/ /mnt/shared efs _netdev,tls 0 0' >> /etc/fstab\nmount -a\n{}",
            strata::compute::cloudwatch_agent::install_script()
        )
    });
    let template = s.add(
        "app",
        LaunchTemplate::new(format!("{n}-app"), &cfg.ami, &cfg.instance_type)
            .security_group(net.app_sg.id())
            .instance_profile(keys.app_profile.name())
            .ebs_kms_key(keys.ebs.arn())
            .user_data(user_data),
    );
    let (min, desired, max) = cfg.capacity;
    let mut group = AutoScalingGroup::new(
        format!("{n}-app"),
        template.id(),
        template.latest_version(),
        net.net.app.iter().map(|a| a.id()),
    )
    .capacity(min, desired, max)
    .target_group(edge.targets.arn())
    .health_check(AsgHealthCheck::Elb, 300);
    // The minimum runs on-demand; burst capacity above it runs on Spot.
    if !cfg.spot_instance_types.is_empty() {
        group = group.spot_above_base(min, cfg.spot_instance_types.clone());
    }
    let group = s.add("app-asg", group);
    s.add(
        "scale-cpu",
        ScalingPolicy::target_tracking(group.name(), "cpu-70", Metric::Cpu, 70.0),
    );
    s.add(
        "scale-memory",
        ScalingPolicy::target_tracking(group.name(), "memory-75", Metric::Memory, 75.0),
    );
    Compute { template, group }
}

/// `max_connections` of RDS PostgreSQL for an instance class:
/// LEAST(DBInstanceClassMemory / 9531392, 5000).
fn postgres_max_connections(class: &str) -> f64 {
    let gib: f64 = match class.rsplit('.').next().unwrap_or_default() {
        "large" => 16.0,
        "xlarge" => 32.0,
        "2xlarge" => 64.0,
        "4xlarge" => 128.0,
        _ => 8.0,
    };
    // r5: 8 GiB per vCPU pair; m5 and t3 halve it. Only r5 sizes are in the table above.
    let gib = if class.starts_with("db.r") {
        gib
    } else {
        gib / 2.0
    };
    (gib * 1024.0 * 1024.0 * 1024.0 / 9_531_392.0)
        .floor()
        .min(5000.0)
}

fn observability(
    s: &mut Stack,
    cfg: &Config,
    net: &Network,
    keys: &Security,
    data: &Data,
    edge: &Edge,
    compute: &Compute,
) {
    let n = &cfg.name;
    s.add("app-logs", LogGroup::new(format!("/{n}/app")).retention(30));
    s.add(
        "flow-logs",
        FlowLog::to_s3(net.net.vpc.id(), data.backups.arn()),
    );

    let alerts = s.add(
        "alerts",
        Topic::new(format!("{n}-critical")).kms_key(keys.secrets.arn()),
    );
    s.add(
        "alerts-devops",
        Subscription::new(alerts.arn(), Protocol::Email, cfg.alert_email.clone()),
    );
    // The PagerDuty URL carries the integration key: a secret endpoint.
    s.add(
        "alerts-pagerduty",
        Subscription::secret(
            alerts.arn(),
            Protocol::Https,
            Secret::new(cfg.pagerduty_url.clone()),
        ),
    );

    // The five critical alarms.
    let alarm = |name: &str, ns: &str, metric: &str| {
        MetricAlarm::new(format!("{n}-{name}"), ns, metric)
            .alarm_action(alerts.arn())
            .ok_action(alerts.arn())
    };
    let asg = compute.group.name();
    s.add(
        "alarm-ec2-cpu",
        alarm("ec2-cpu-high", "AWS/EC2", "CPUUtilization")
            .dimension("AutoScalingGroupName", asg.clone())
            .period(60)
            .evaluation_periods(5)
            .when(Comparison::GreaterThanThreshold, 80.0)
            .description("EC2 CPU > 80% for 5 minutes"),
    );
    s.add(
        "alarm-memory",
        alarm("memory-high", "CWAgent", "mem_used_percent")
            .dimension("AutoScalingGroupName", asg)
            .period(300)
            .when(Comparison::GreaterThanThreshold, 85.0)
            .description("memory utilization > 85%"),
    );
    s.add(
        "alarm-alb-5xx",
        alarm("alb-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count")
            .dimension("LoadBalancer", edge.alb.arn_suffix())
            .statistic(Statistic::Sum)
            .period(60)
            .when(Comparison::GreaterThanThreshold, 100.0)
            .treat_missing_data(TreatMissingData::NotBreaching)
            .description("ALB 5xx errors > 100 per minute"),
    );
    s.add(
        "alarm-rds-cpu",
        alarm("rds-cpu-high", "AWS/RDS", "CPUUtilization")
            .dimension("DBInstanceIdentifier", data.db.identifier())
            .period(300)
            .when(Comparison::GreaterThanThreshold, 75.0)
            .description("RDS CPU > 75%"),
    );
    let max_connections = postgres_max_connections(&cfg.db_class);
    s.add(
        "alarm-rds-connections",
        alarm("rds-connections-high", "AWS/RDS", "DatabaseConnections")
            .dimension("DBInstanceIdentifier", data.db.identifier())
            .period(300)
            .when(
                Comparison::GreaterThanThreshold,
                (max_connections * 0.8).floor(),
            )
            .description(format!(
                "RDS connections > 80% of max_connections ({max_connections})"
            )),
    );

    s.add(
        "tracing",
        SamplingRule::new(format!("{n}-default"), 1000).rate(1, 0.05),
    );
    s.add(
        "tracing-errors",
        XrayGroup::new(format!("{n}-errors"), "error = true OR fault = true").insights(true, true),
    );

    s.add(
        "audit-trail",
        Trail::new(format!("{n}-audit"), data.audit_logs.name()).kms_key(keys.s3.arn()),
    );

    let widget = |title: &str, metrics: serde_json::Value| {
        json!({"type": "metric", "width": 12, "height": 6,
               "properties": {"title": title, "region": cfg.region, "stat": "Average", "period": 300, "metrics": metrics}})
    };
    s.add(
        "dashboard",
        Dashboard::new(
            format!("{n}-overview"),
            json!({"widgets": [
                widget("EC2 CPU", json!([["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", format!("{n}-app")]])),
                widget("Memory", json!([["CWAgent", "mem_used_percent", "AutoScalingGroupName", format!("{n}-app")]])),
                widget("RDS CPU and connections", json!([
                    ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", format!("{n}-db")],
                    ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", format!("{n}-db")]
                ])),
                widget("Redis CPU", json!([["AWS/ElastiCache", "EngineCPUUtilization", "ReplicationGroupId", format!("{n}-cache")]])),
            ]}),
        ),
    );
}

/// The whole platform.
pub fn ecommerce(s: &mut Stack) {
    let cfg = Config::from_stack(s);
    let keys = security(s, &cfg);
    let net = network(s, &cfg);
    let data = data(s, &cfg, &net, &keys);
    let edge = edge(s, &cfg, &net, &data);
    let compute = compute(s, &cfg, &net, &keys, &data, &edge);
    observability(s, &cfg, &net, &keys, &data, &edge, &compute);

    s.export("alb_dns_name", edge.alb.dns_name());
    s.export("cloudfront_domain", edge.cdn.domain_name());
    s.export("name_servers", edge.zone.name_servers());
    s.export("db_endpoint", data.db.endpoint());
    s.export("cache_endpoint", data.cache.primary_endpoint());
    s.export("efs_id", data.files.id());
    s.export("images_bucket", data.images.name());
    s.export("uploads_bucket", data.uploads.name());
    s.export("vpc_id", net.net.vpc.id());
    s.export("app_role", keys.app_role.arn());
    s.export("app_asg", compute.group.name());
}

/// The built-in compliance pack, with this stack's one documented waiver.
pub fn policies() -> strata::policy::Baseline {
    strata::policy::Baseline::new().waive(
        "encryption-at-rest",
        "alb-logs",
        "ALB access logs can only be written to SSE-S3 buckets",
    )
}

#[allow(dead_code)]
fn main() -> ExitCode {
    // The region and account, unless configured: the region defaults to the spec's, the
    // account is the caller's (STS), so bucket names are unique and the CloudTrail bucket
    // policy names the right trail.
    if std::env::var_os("AWS_REGION").is_none() {
        let region =
            std::env::var("STRATA_CONFIG_REGION").unwrap_or_else(|_| "eu-central-1".into());
        std::env::set_var("AWS_REGION", region);
    }
    if std::env::var_os("STRATA_CONFIG_ACCOUNT_ID").is_none() {
        if let Some(account) = caller_account() {
            std::env::set_var("STRATA_CONFIG_ACCOUNT_ID", account);
        }
    }
    strata::cli::Program::new(ecommerce)
        .policy_pack(policies())
        .group(strata::layer)
        .run()
}

/// The account of the environment's credentials, if STS answers within 10 seconds.
fn caller_account() -> Option<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        let conf = strata::core::aws_config::load_from_env().await;
        let sts = aws_sdk_sts::Client::new(&conf);
        let call = sts.get_caller_identity().send();
        let out = tokio::time::timeout(std::time::Duration::from_secs(10), call)
            .await
            .ok()?
            .ok()?;
        out.account().map(str::to_owned)
    })
}
