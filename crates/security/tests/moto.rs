//! Contract tests of the security types against the local AWS (moto).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::json;
use strata_core::plan::Op;
use strata_core::Stack;
use strata_security::rotation::RotationFunction;
use strata_security::*;

use strata_testkit::Harness as Env;

async fn env(stack: &str) -> Env {
    Env::new(stack, strata_security::register)
        .await
        .with_passphrase("test-passphrase")
}

#[tokio::test]
async fn kms_keys_and_aliases() {
    let e = env("kms-contract").await;
    let kms = aws_sdk_kms::Client::new(&e.conf);
    let build = |desc: &'static str, second: bool| {
        move |s: &mut Stack| {
            let a = s.add("key-a", KmsKey::new(desc).tag("tier", "data"));
            let b = s.add("key-b", KmsKey::new("second").rotation(true, 180));
            let target = if second { b.id() } else { a.id() };
            s.add("alias", KmsAlias::new("alias/contract-data", target));
        }
    };
    e.up(&e.stack(build("RDS storage", false))).await;
    let a = e.id("key-a").await;
    let meta = kms.describe_key().key_id(&a).send().await.unwrap();
    assert_eq!(
        meta.key_metadata().unwrap().description(),
        Some("RDS storage")
    );
    let rot = kms
        .get_key_rotation_status()
        .key_id(&a)
        .send()
        .await
        .unwrap();
    assert!(rot.key_rotation_enabled());
    // (moto does not report RotationPeriodInDays; the read keeps the declared period
    // when AWS says nothing.)
    let b = e.id("key-b").await;
    let rot = kms
        .get_key_rotation_status()
        .key_id(&b)
        .send()
        .await
        .unwrap();
    assert!(rot.key_rotation_enabled());
    let aliases = kms.list_aliases().key_id(&a).send().await.unwrap();
    assert_eq!(
        aliases.aliases()[0].alias_name(),
        Some("alias/contract-data")
    );
    assert!(e.drift().await.is_empty());

    // In place: the description, and the alias moves to the other key.
    let st = e.stack(build("RDS storage (prod)", true));
    let ops = e.ops(&st).await;
    assert_eq!((ops["key-a"], ops["alias"]), (Op::Update, Op::Update));
    e.up(&st).await;
    assert_eq!(e.id("key-a").await, a);
    let aliases = kms.list_aliases().key_id(&b).send().await.unwrap();
    assert_eq!(
        aliases.aliases()[0].alias_name(),
        Some("alias/contract-data")
    );

    // Drift: rotation turned off out of band.
    kms.disable_key_rotation().key_id(&a).send().await.unwrap();
    assert_eq!(e.drift().await["key-a"], vec!["enable_key_rotation"]);
    e.up(&st).await;
    assert!(kms
        .get_key_rotation_status()
        .key_id(&a)
        .send()
        .await
        .unwrap()
        .key_rotation_enabled());

    // Multi-Region replaces the key.
    let st = e.stack(|s| {
        let mut k = KmsKey::new("RDS storage (prod)").tag("tier", "data");
        k.multi_region = true;
        let a = s.add("key-a", k);
        s.add("key-b", KmsKey::new("second").rotation(true, 180));
        s.add("alias", KmsAlias::new("alias/contract-data", a.id()));
    });
    assert_eq!(e.ops(&st).await["key-a"], Op::Replace);
    e.up(&st).await;
    assert_ne!(e.id("key-a").await, a);

    e.destroy().await;
    let state = kms.describe_key().key_id(&a).send().await.unwrap();
    assert_eq!(
        state
            .key_metadata()
            .unwrap()
            .key_state()
            .map(|s| s.as_str()),
        Some("PendingDeletion")
    );
    let left = kms.list_aliases().send().await.unwrap();
    assert!(left
        .aliases()
        .iter()
        .all(|x| x.alias_name() != Some("alias/contract-data")));
}

#[tokio::test]
async fn secrets_values_and_rotation() {
    let e = env("secrets-contract").await;
    let sm = aws_sdk_secretsmanager::Client::new(&e.conf);
    let build = |value: &'static str, days: i64| {
        move |s: &mut Stack| {
            let key = s.add("key", KmsKey::new("secrets"));
            s.add(
                "payment",
                Secret::new("contract/payment-api-key")
                    .kms_key(key.arn())
                    .value(value)
                    .recovery_window(7),
            );
            let generated = s.add(
                "email",
                Secret::new("contract/email-api-key").generate_password(32),
            );
            let f = RotationFunction::new("contract-rotation").declare(s);
            s.add(
                "email-rotation",
                SecretRotation::new(generated.arn(), f.arn(), days),
            );
        }
    };
    e.up(&e.stack(build("pay-v1-plaintext", 90))).await;
    let payment = e.id("payment").await;
    let v = sm
        .get_secret_value()
        .secret_id(&payment)
        .send()
        .await
        .unwrap();
    assert_eq!(v.secret_string(), Some("pay-v1-plaintext"));
    let d = sm
        .describe_secret()
        .secret_id(&payment)
        .send()
        .await
        .unwrap();
    let key_arn = e
        .state()
        .await
        .resources
        .values()
        .find(|r| r.urn.name() == "key")
        .unwrap()
        .outputs["arn"]
        .clone();
    assert_eq!(d.kms_key_id(), key_arn.as_str());
    let email = e.id("email").await;
    let v = sm
        .get_secret_value()
        .secret_id(&email)
        .send()
        .await
        .unwrap();
    assert_eq!(v.secret_string().map(str::len), Some(32));
    let d = sm.describe_secret().secret_id(&email).send().await.unwrap();
    assert_eq!(d.rotation_enabled(), Some(true));
    assert_eq!(
        d.rotation_rules()
            .and_then(|r| r.automatically_after_days()),
        Some(90)
    );
    assert!(d
        .rotation_lambda_arn()
        .unwrap()
        .ends_with(":function:contract-rotation"));
    // The plaintext never reaches state in the clear.
    let raw = serde_json::to_string(
        &e.state()
            .await
            .resources
            .values()
            .map(|r| r.args.clone())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(raw.contains("pay-v1-plaintext"), "opened in memory");
    assert!(e.drift().await.is_empty());

    // In place: a new value (PutSecretValue) and a new schedule.
    let st = e.stack(build("pay-v2-plaintext", 30));
    let ops = e.ops(&st).await;
    assert_eq!(
        (ops["payment"], ops["email-rotation"]),
        (Op::Update, Op::Update)
    );
    e.up(&st).await;
    let v = sm
        .get_secret_value()
        .secret_id(&payment)
        .send()
        .await
        .unwrap();
    assert_eq!(v.secret_string(), Some("pay-v2-plaintext"));
    let d = sm.describe_secret().secret_id(&email).send().await.unwrap();
    assert_eq!(
        d.rotation_rules()
            .and_then(|r| r.automatically_after_days()),
        Some(30)
    );

    // Drift: the value changed out of band.
    sm.put_secret_value()
        .secret_id(&payment)
        .secret_string("changed")
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["payment"], vec!["value"]);
    e.up(&st).await;

    e.destroy().await;
    for id in [&payment, &email] {
        let d = sm.describe_secret().secret_id(id).send().await;
        assert!(d.map(|d| d.deleted_date().is_some()).unwrap_or(true));
    }
    let lambda = aws_sdk_lambda::Client::new(&e.conf);
    assert!(lambda
        .get_function()
        .function_name("contract-rotation")
        .send()
        .await
        .is_err());
    let iam = aws_sdk_iam::Client::new(&e.conf);
    assert!(iam
        .get_role()
        .role_name("contract-rotation-role")
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn guardduty_detector() {
    let e = env("guardduty-contract").await;
    let gd = aws_sdk_guardduty::Client::new(&e.conf);
    let build = |f: PublishingFrequency| {
        move |s: &mut Stack| {
            s.add("guardduty", GuardDutyDetector::new().frequency(f));
        }
    };
    e.up(&e.stack(build(PublishingFrequency::FifteenMinutes)))
        .await;
    let id = e.id("guardduty").await;
    let d = gd.get_detector().detector_id(&id).send().await.unwrap();
    assert_eq!(d.status().map(|s| s.as_str()), Some("ENABLED"));
    assert_eq!(
        d.finding_publishing_frequency().map(|f| f.as_str()),
        Some("FIFTEEN_MINUTES")
    );
    assert!(d.tags().unwrap().contains_key("strata:urn"));
    assert!(e.drift().await.is_empty());
    let st = e.stack(build(PublishingFrequency::OneHour));
    assert_eq!(e.ops(&st).await["guardduty"], Op::Update);
    e.up(&st).await;
    assert_eq!(e.id("guardduty").await, id);
    gd.update_detector()
        .detector_id(&id)
        .enable(false)
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["guardduty"], vec!["enable"]);
    e.up(&st).await;
    e.destroy().await;
    assert!(gd.get_detector().detector_id(&id).send().await.is_err());
}

#[tokio::test]
async fn iam_roles_policies_and_instance_profiles() {
    let e = env("iam-contract").await;
    let iam = aws_sdk_iam::Client::new(&e.conf);
    let build = |doc_action: &'static str, with_ssm: bool| {
        move |s: &mut Stack| {
            let policy = s.add(
                "read-secrets",
                IamPolicy::new(
                    "contract-read-secrets",
                    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": doc_action, "Resource": "*"}]}),
                ),
            );
            let mut role = IamRole::for_service("contract-app", "ec2.amazonaws.com")
                .description("app servers")
                .managed_policy(policy.arn())
                .managed_policy("arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy")
                .inline_policy("xray", json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"}]}));
            if with_ssm {
                role = role.managed_policy("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");
            }
            let role = s.add("role", role);
            s.add(
                "profile",
                IamInstanceProfile::new("contract-app", role.name()),
            );
        }
    };
    e.up(&e.stack(build("secretsmanager:GetSecretValue", true)))
        .await;
    let attached = iam
        .list_attached_role_policies()
        .role_name("contract-app")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 3);
    let inline = iam
        .list_role_policies()
        .role_name("contract-app")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["xray".to_owned()]);
    let p = iam
        .get_instance_profile()
        .instance_profile_name("contract-app")
        .send()
        .await
        .unwrap();
    assert_eq!(
        p.instance_profile().unwrap().roles()[0].role_name(),
        "contract-app"
    );
    assert!(e.drift().await.is_empty());

    // In place: a new policy document (a new default version) and one policy detached.
    let st = e.stack(build("secretsmanager:*", false));
    let ops = e.ops(&st).await;
    assert_eq!((ops["read-secrets"], ops["role"]), (Op::Update, Op::Update));
    e.up(&st).await;
    let policy_arn = e.id("read-secrets").await;
    let versions = iam
        .list_policy_versions()
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 2);
    let attached = iam
        .list_attached_role_policies()
        .role_name("contract-app")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 2);

    // Drift: a policy attached out of band.
    iam.attach_role_policy()
        .role_name("contract-app")
        .policy_arn("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
        .send()
        .await
        .unwrap();
    assert_eq!(e.drift().await["role"], vec!["managed_policy_arns"]);
    e.up(&st).await;

    e.destroy().await;
    assert!(iam
        .get_role()
        .role_name("contract-app")
        .send()
        .await
        .is_err());
    assert!(iam
        .get_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .is_err());
    assert!(iam
        .get_instance_profile()
        .instance_profile_name("contract-app")
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn declaration_errors_name_the_resource_and_the_field() {
    let mut s = Stack::new("bad-security");
    s.add("short-window", KmsKey::new("k").deletion_window(3));
    s.add(
        "rsa-rotating",
        KmsKey::new("k").spec(KeyUsage::SignVerify, KeySpec::Rsa2048),
    );
    s.add("rare-rotation", KmsKey::new("k").rotation(true, 30));
    s.add("bad-alias", KmsAlias::new("alias/aws/mine", "key"));
    s.add("bad-window", Secret::new("x").recovery_window(3));
    s.add("both", Secret::new("y").value("v").generate_password(10));
    s.add("rotation", SecretRotation::new("arn", "fn", 2000));
    s.add("role", IamRole::new("bad name", json!({"no": "statement"})));
    s.add(
        "exact-wildcard",
        IamRole::for_service("exact-wildcard", "lambda.amazonaws.com").inline_policy(
            "kms",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}}]}),
        ),
    );
    s.add(
        "big-env",
        LambdaFunction::python("big-env", "arn:aws:iam::123456789012:role/r", "h.handler")
            .file("h.py", "def handler(e, c):\n    return 1\n")
            .secret_env("BLOB", "x".repeat(5000).as_str()),
    );
    // The rotation function's own role passes.
    RotationFunction::new("checked-rotation").declare(&mut s);
    s.add(
        "fn",
        LambdaFunction::python("f", "arn:role", "h").timeout(901),
    );
    let err = s.seal().unwrap_err().to_string();
    for expected in [
        "::short-window: field `deletion_window_days`: 3 days",
        "::rsa-rotating: field `enable_key_rotation`: only symmetric encryption keys rotate",
        "::rare-rotation: field `rotation_period_days`: 30 days",
        "::bad-alias: field `name`: alias/aws/ is reserved",
        "::bad-window: field `recovery_window_days`",
        "::both: field `generate_password`",
        "::rotation: field `automatically_after_days`: 2000 days",
        "::role: field `name`",
        "::role: field `assume_role_policy`",
        "::big-env: field `environment`: about 5010 bytes: Lambda allows 4 KB",
        "::exact-wildcard: field `inline_policies.kms.Statement.0.Condition.StringEquals.kms:ViaService`: StringEquals compares exactly",
        "::fn: field `timeout`: 901 s",
        "::fn: field `files`",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(!err.contains("checked-rotation"), "{err}");
}

#[tokio::test]
async fn profiles_functions_and_secrets_change_in_place_or_replace() {
    let e = env("security-changes").await;
    let build = |role: &'static str, code: &'static str, secret_name: &'static str| {
        move |s: &mut Stack| {
            let a = s.add(
                "role-a",
                IamRole::for_service("changes-a", "ec2.amazonaws.com"),
            );
            let b = s.add(
                "role-b",
                IamRole::for_service("changes-b", "ec2.amazonaws.com"),
            );
            let fn_role = s.add(
                "fn-role",
                IamRole::for_service("changes-fn", "lambda.amazonaws.com"),
            );
            let role_name = if role == "a" { a.name() } else { b.name() };
            s.add("profile", IamInstanceProfile::new("changes", role_name));
            s.add(
                "fn",
                LambdaFunction::python("changes-fn", fn_role.arn(), "index.handler")
                    .file("index.py", code),
            );
            s.add(
                "secret",
                Secret::new(secret_name).value("v").recovery_window(0),
            );
        }
    };
    e.up(&e.stack(build(
        "a",
        "def handler(e, c):\n    return 1\n",
        "changes/one",
    )))
    .await;
    let iam = aws_sdk_iam::Client::new(&e.conf);
    let lambda = aws_sdk_lambda::Client::new(&e.conf);
    let sha = lambda
        .get_function()
        .function_name("changes-fn")
        .send()
        .await
        .unwrap()
        .configuration()
        .unwrap()
        .code_sha256()
        .unwrap()
        .to_owned();
    let secret = e.id("secret").await;

    let st = e.stack(build(
        "b",
        "def handler(e, c):\n    return 2\n",
        "changes/one",
    ));
    let ops = e.ops(&st).await;
    assert_eq!((ops["profile"], ops["fn"]), (Op::Update, Op::Update));
    e.up(&st).await;
    let p = iam
        .get_instance_profile()
        .instance_profile_name("changes")
        .send()
        .await
        .unwrap();
    assert_eq!(
        p.instance_profile().unwrap().roles()[0].role_name(),
        "changes-b"
    );
    let new_sha = lambda
        .get_function()
        .function_name("changes-fn")
        .send()
        .await
        .unwrap()
        .configuration()
        .unwrap()
        .code_sha256()
        .unwrap()
        .to_owned();
    assert_ne!(new_sha, sha, "the code was updated");

    // Code changed out of band shows as drift of the files.
    lambda
        .update_function_code()
        .function_name("changes-fn")
        .zip_file(aws_sdk_lambda::primitives::Blob::new(
            b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec(),
        ))
        .send()
        .await
        .unwrap();
    let drift = e.drift().await;
    assert!(
        drift["fn"].iter().any(|p| p.starts_with("files")),
        "{drift:?}"
    );
    e.up(&st).await;

    // A new name replaces the secret.
    let st = e.stack(build(
        "b",
        "def handler(e, c):\n    return 2\n",
        "changes/two",
    ));
    assert_eq!(e.ops(&st).await["secret"], Op::Replace);
    e.up(&st).await;
    assert_ne!(e.id("secret").await, secret);
    e.destroy().await;
}

#[tokio::test]
async fn every_replacing_field_replaces() {
    let e = env("security-replace").await;
    let build = |v: &'static str| {
        move |s: &mut Stack| {
            let key = s.add("key", KmsKey::new("k"));
            s.add(
                "alias",
                KmsAlias::new(format!("alias/replace-{v}"), key.id()),
            );
            let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
            s.add("policy", IamPolicy::new(format!("replace-{v}"), doc));
            let role = s.add(
                "role",
                IamRole::for_service(format!("replace-{v}"), "lambda.amazonaws.com"),
            );
            s.add(
                "profile",
                IamInstanceProfile::new(format!("replace-{v}"), role.name()),
            );
            let f = s.add(
                "fn",
                LambdaFunction::python(format!("replace-{v}"), role.arn(), "i.h")
                    .file("i.py", "def h(e, c): pass\n"),
            );
            s.add(
                "perm",
                LambdaPermission::new(f.name(), format!("s-{v}"), "events.amazonaws.com"),
            );
        }
    };
    e.up(&e.stack(build("a"))).await;
    let names = ["alias", "policy", "role", "profile", "fn", "perm"];
    let mut before = BTreeMap::new();
    for n in names {
        before.insert(n, e.id(n).await);
    }
    let st = e.stack(build("b"));
    let ops = e.ops(&st).await;
    for n in names {
        assert_eq!(ops[n], Op::Replace, "{n}: {ops:?}");
    }
    e.up(&st).await;
    for (n, id) in &before {
        assert_ne!(&e.id(n).await, id, "{n} was replaced");
    }
    let iam = aws_sdk_iam::Client::new(&e.conf);
    assert!(iam.get_role().role_name("replace-a").send().await.is_err());
    e.destroy().await;
}

/// Recovery of an interrupted create, type by type: nothing is found before the create;
/// after it, the resource is found again (by its `strata:token` tag, or, for what AWS
/// does not tag, by every declared property) and adopted with the create's id. Another
/// create of the same name (another token) is refused as
/// [`ProviderError::AlreadyExists`], changes nothing, and its recovery adopts nothing.
#[tokio::test]
async fn interrupted_creates_are_found_again() {
    use strata_core::aws::Aws;
    use strata_core::{Context, Cx, ProviderError, Recovery, Resource, Urn};

    let conf = strata_testkit::LocalAws::shared().sdk_config().await;
    let ctx = Context::new().with(Aws::new(conf));
    // Secrets Manager takes the token as a ClientRequestToken: 32 to 64 characters.
    const OTHER: &str = "another-create-000000000000000000000000";

    macro_rules! check {
        ($ty:ty, $name:literal, $args:expr) => {
            check!($ty, $name, $args, true)
        };
        ($ty:ty, $name:literal, $args:expr, $tagged:expr) => {{
            let args = $args;
            let urn = Urn::new("recover", <$ty>::TYPE, $name);
            let cx = Cx {
                context: &ctx,
                urn: &urn,
                token: concat!("tokrecover-", $name, "-000000000000000000000000"),
            };
            assert!(
                matches!(<$ty>::recover(&cx, &args).await.unwrap(), Recovery::Absent),
                "{} found before its create",
                $name
            );
            let made = <$ty>::create(&cx, &args).await.unwrap();
            // Tagged types prove it by the token; untagged ones can only resemble.
            let (Recovery::Found(found) | Recovery::Resembles(found)) =
                <$ty>::recover(&cx, &args).await.unwrap()
            else {
                panic!("{} not found again", $name);
            };
            assert_eq!(
                matches!(
                    <$ty>::recover(&cx, &args).await.unwrap(),
                    Recovery::Found(_)
                ),
                $tagged,
                "{}: proof by token only when tagged",
                $name
            );
            assert_eq!(found.id, made.id, "{}", $name);

            // A recovery by another token (the old half of a replace has the same URN).
            let fresh = Cx {
                context: &ctx,
                urn: &urn,
                token: concat!("tokfresh-", $name, "-00000000000000000000000000"),
            };
            let by_fresh = <$ty>::recover(&fresh, &args).await.unwrap();
            if $tagged {
                assert!(
                    matches!(by_fresh, Recovery::Absent),
                    "{} adopted without its token",
                    $name
                );
            } else {
                // Untagged: it resembles by its properties, which is all AWS lets us
                // check (adopted after a crash, never after a refused create).
                assert!(matches!(by_fresh, Recovery::Resembles(_)), "{}", $name);
            }

            // Another create of the same name is refused and adopts nothing.
            let other = Urn::new("recover", <$ty>::TYPE, concat!($name, "-other"));
            let cx = Cx {
                context: &ctx,
                urn: &other,
                token: OTHER,
            };
            let Err(err) = <$ty>::create(&cx, &args).await else {
                panic!("{} created twice", $name);
            };
            assert!(
                matches!(err, ProviderError::AlreadyExists { .. }),
                "{}: {err}",
                $name
            );
            // (An untagged lookalike resembles; the engine never adopts it after the
            // create was refused: crates/core/tests/ownership.rs.)
            assert!(
                match <$ty>::recover(&cx, &args).await.unwrap() {
                    Recovery::Absent => true,
                    Recovery::Resembles(_) => !$tagged,
                    _ => false,
                },
                "{} adopted by another create",
                $name
            );
            made
        }};
    }

    let role = check!(
        IamRole,
        "role",
        IamRole::for_service("recover-fn", "lambda.amazonaws.com").inline_policy(
            "logs",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]})
        )
    );
    check!(
        IamPolicy,
        "policy",
        IamPolicy::new(
            "recover-policy",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
        )
    );
    check!(
        IamInstanceProfile,
        "profile",
        IamInstanceProfile::new("recover-profile", "recover-fn")
    );
    let function = check!(
        LambdaFunction,
        "function",
        LambdaFunction::python("recover-fn", role.outputs.arn.clone(), "i.h")
            .file("i.py", "def h(e, c): pass\n")
    );
    check!(
        LambdaPermission,
        "permission",
        LambdaPermission::new(
            "recover-fn",
            "secretsmanager",
            "secretsmanager.amazonaws.com"
        ),
        false
    );
    let secret = check!(
        Secret,
        "secret",
        Secret::new("recover/secret").value("v").recovery_window(0)
    );
    check!(
        SecretRotation,
        "rotation",
        SecretRotation::new(secret.outputs.arn.clone(), function.outputs.arn.clone(), 30),
        false
    );

    // A key has no name: a second create makes a second key, so only the token counts.
    let urn = Urn::new("recover", KmsKey::TYPE, "key");
    let cx = Cx {
        context: &ctx,
        urn: &urn,
        token: "tokrecover-key-0000000000000000000000000",
    };
    let args = KmsKey::new("recover");
    assert!(matches!(
        KmsKey::recover(&cx, &args).await.unwrap(),
        Recovery::Absent
    ));
    let key = KmsKey::create(&cx, &args).await.unwrap();
    let Recovery::Found(found) = KmsKey::recover(&cx, &args).await.unwrap() else {
        panic!("the key was not found again");
    };
    assert_eq!(found.id, key.id);
    let fresh = Cx {
        context: &ctx,
        urn: &urn,
        token: "tokfresh-key-00000000000000000000000000",
    };
    assert!(matches!(
        KmsKey::recover(&fresh, &args).await.unwrap(),
        Recovery::Absent
    ));

    check!(
        KmsAlias,
        "alias",
        KmsAlias::new("alias/recover", key.outputs.id.clone()),
        false
    );
}

/// An IAM role of the declared name that this stack did not make: the step fails naming
/// the conflict, nothing of the role changes (trust policy, description, policies, tags),
/// and destroy leaves it.
#[tokio::test]
async fn a_role_of_the_same_name_is_not_taken_over() {
    let e = env("iam-owned").await;
    let iam = aws_sdk_iam::Client::new(&e.conf);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name("owned-elsewhere")
        .assume_role_policy_document(trust.to_string())
        .description("theirs")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("owner")
                .value("another-team")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let st = e.stack(|s| {
        s.add(
            "role",
            IamRole::for_service("owned-elsewhere", "lambda.amazonaws.com")
                .description("ours")
                .managed_policy("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
                .inline_policy(
                    "xray",
                    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "xray:*", "Resource": "*"}]}),
                )
                .tag("team", "devops"),
        );
    });
    e.up_conflict(&st, "role").await;

    let unchanged = || {
        let iam = iam.clone();
        async move {
            let role = iam
                .get_role()
                .role_name("owned-elsewhere")
                .send()
                .await
                .unwrap()
                .role
                .unwrap();
            assert_eq!(role.description(), Some("theirs"));
            let trust = role.assume_role_policy_document().unwrap_or_default();
            assert!(
                trust.contains("ec2.amazonaws.com") && !trust.contains("lambda"),
                "{trust}"
            );
            let tags: BTreeMap<_, _> = role
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            assert_eq!(
                tags,
                BTreeMap::from([("owner".to_owned(), "another-team".to_owned())])
            );
            let attached = iam
                .list_attached_role_policies()
                .role_name("owned-elsewhere")
                .send()
                .await
                .unwrap();
            assert!(attached.attached_policies().is_empty());
            let inline = iam
                .list_role_policies()
                .role_name("owned-elsewhere")
                .send()
                .await
                .unwrap();
            assert!(inline.policy_names().is_empty());
        }
    };
    unchanged().await;
    e.destroy().await;
    unchanged().await;
    iam.delete_role()
        .role_name("owned-elsewhere")
        .send()
        .await
        .unwrap();
}

/// A role made just before its function is not visible to Lambda at once: CreateFunction
/// is refused ("cannot be assumed by Lambda", which moto answers while the role does not
/// exist) until IAM has propagated it. The create retries exactly that error, for a
/// bounded time: here the role appears 3 seconds into the create.
#[tokio::test(flavor = "multi_thread")]
async fn a_function_waits_for_its_new_role_to_propagate() {
    let e = env("lambda-propagation").await;
    let iam = aws_sdk_iam::Client::new(&e.conf);
    let role = "late-rotation-role";
    let arn = format!("arn:aws:iam::123456789012:role/{role}");
    let st = e.stack(|s| {
        s.add(
            "late-fn",
            LambdaFunction::python("late-fn", arn.clone(), "index.handler")
                .file("index.py", "def handler(event, context):\n    return 1\n"),
        );
    });
    let appear = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
    });
    let started = std::time::Instant::now();
    e.up(&st).await;
    appear.await.unwrap();
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(3),
        "the create waited for the role"
    );
    assert_eq!(e.id("late-fn").await, "late-fn");
    e.destroy().await;
}
