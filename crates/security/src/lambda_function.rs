//! `LambdaFunction`: a Lambda function from source files kept in the program (the
//! secret rotation function is one).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use strata_core::aws::{api_error, api_error_is, retry_while_propagating};
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
    Secret as SecretValue,
};

use crate::common::{check_tags, create_tags, tag_changes, taken_if, user_tags};

const TIMEOUT: Duration = Duration::from_secs(300);

/// A Lambda function. Its code is a set of source files (name → text), packaged as a
/// ZIP at create and update; a change of any file is an in-place code update, detected
/// by the package's SHA-256.
///
/// An environment value that is a credential is declared secret
/// ([`LambdaFunctionArgs::secret_env`]: a `strata_core::Secret<String>` or a secret
/// output): sealed in state, `[secret]` in plans, events and logs; only the function's
/// configuration sent to Lambda has the plaintext (and whoever may read the function's
/// configuration can read it there). Making a value secret (or plain again) without
/// changing it is an in-place change that calls nothing on AWS.
///
/// ```
/// use strata_core::Stack;
/// use strata_security::{IamRole, IamRoleHandle, LambdaFunction};
/// let mut s = Stack::new("dev");
/// let role = s.add("fn-role", IamRole::for_service("hello", "lambda.amazonaws.com"));
/// s.add("hello", LambdaFunction::python("hello", role.arn(), "index.handler")
///     .file("index.py", "def handler(event, context):\n    return 'hi'\n")
///     .env("GREETING", "hi")
///     .secret_env("API_TOKEN", strata_core::Secret::new("tok_…".to_owned())));
/// ```
#[derive(Debug)]
pub struct LambdaFunction;

/// The args of a [`LambdaFunction`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaFunctionArgs {
    /// The function name.
    pub name: String,
    /// The runtime (`python3.12`).
    pub runtime: String,
    /// The handler (`index.handler`).
    pub handler: String,
    /// The execution role's ARN.
    pub role_arn: Input<String>,
    /// The source files.
    pub files: BTreeMap<String, String>,
    /// Seconds (1 to 900).
    pub timeout: i32,
    /// Megabytes (128 to 10240).
    pub memory_size: i32,
    /// Environment variables, each plain or secret.
    #[serde(default)]
    pub environment: BTreeMap<String, Input<EnvValue>>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// The value of a Lambda environment variable: plain, or a secret (sealed in state,
/// redacted in plans, events and logs). It serializes as the plain string or as the
/// secret marker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EnvValue {
    /// A plain value.
    Plain(String),
    /// A secret value (a token, a password).
    Secret(SecretValue<String>),
}

impl EnvValue {
    /// The plaintext. Only where it is really needed: the configuration sent to Lambda.
    pub fn expose(&self) -> &str {
        match self {
            EnvValue::Plain(s) => s,
            EnvValue::Secret(s) => s.expose(),
        }
    }

    /// Whether it was declared secret. Only in a declaration: a provider receives
    /// secrets bare (the engine keeps them secret in state), so in `create`, `read`,
    /// `update` and `delete` every value reads as plain.
    pub fn is_secret(&self) -> bool {
        matches!(self, EnvValue::Secret(_))
    }
}

impl LambdaFunction {
    /// A Python 3.12 function.
    pub fn python(
        name: impl Into<String>,
        role_arn: impl Into<Input<String>>,
        handler: impl Into<String>,
    ) -> LambdaFunctionArgs {
        LambdaFunctionArgs {
            name: name.into(),
            runtime: "python3.12".into(),
            handler: handler.into(),
            role_arn: role_arn.into(),
            files: BTreeMap::new(),
            timeout: 30,
            memory_size: 128,
            environment: BTreeMap::new(),
            tags: BTreeMap::new(),
        }
    }
}

impl LambdaFunctionArgs {
    /// Adds a source file.
    pub fn file(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.files.insert(name.into(), text.into());
        self
    }
    /// Sets an environment variable (a literal or an output).
    pub fn env(mut self, k: impl Into<String>, v: impl Into<Input<String>>) -> Self {
        let v = match v.into() {
            Input::Value(v) => Input::Value(EnvValue::Plain(v)),
            Input::Output(o) => Input::Output(o.map(EnvValue::Plain)),
        };
        self.environment.insert(k.into(), v);
        self
    }
    /// Sets a secret environment variable: a `strata_core::Secret<String>` or a secret
    /// output.
    pub fn secret_env(
        mut self,
        k: impl Into<String>,
        v: impl Into<Input<SecretValue<String>>>,
    ) -> Self {
        let v = match v.into() {
            Input::Value(v) => Input::Value(EnvValue::Secret(v)),
            Input::Output(o) => Input::Output(o.map(EnvValue::Secret)),
        };
        self.environment.insert(k.into(), v);
        self
    }
    /// Sets the timeout.
    pub fn timeout(mut self, seconds: i32) -> Self {
        self.timeout = seconds;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.insert(k.into(), v.into());
        self
    }

    fn package(&self) -> Vec<u8> {
        crate::zip::stored(self.files.iter().map(|(n, t)| (n.as_str(), t.as_bytes())))
    }
}

impl ResourceArgs for LambdaFunctionArgs {
    type Resource = LambdaFunction;
}

/// The outputs of a [`LambdaFunction`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaFunctionOutputs {
    /// The name (its id).
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// The package's SHA-256, base64 (as Lambda reports it).
    pub code_sha256: String,
}

strata_core::outputs!(LambdaFunction => LambdaFunctionHandle {
    /// The name.
    name: String,
    /// The ARN.
    arn: String,
});

/// An error of Lambda's with the environment it quotes ("String measured: {…}", values and
/// secrets included) cut off.
fn unquoted_environment(e: ProviderError) -> ProviderError {
    match e {
        ProviderError::Api {
            operation,
            code,
            message,
        } if message.contains("String measured:") => ProviderError::Api {
            operation,
            code,
            message: message
                .split("String measured:")
                .next()
                .unwrap_or_default()
                .trim_end()
                .to_owned()
                + " (the environment it quoted is not shown: it may hold secrets)",
        },
        other => other,
    }
}

pub(crate) fn lambda(cx: &Cx<'_>) -> Result<aws_sdk_lambda::Client, ProviderError> {
    cx.client(aws_sdk_lambda::Client::new)
}

pub(crate) fn not_found<E: aws_sdk_lambda::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

fn sha256_b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

fn environment(args: &LambdaFunctionArgs) -> Result<Environment, ProviderError> {
    let vars = args
        .environment
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.value()?.expose().to_owned())))
        .collect::<Result<_, ProviderError>>()?;
    Ok(Environment::builder().set_variables(Some(vars)).build())
}

async fn wait_updated(client: &aws_sdk_lambda::Client, name: &str) -> Result<(), ProviderError> {
    client
        .wait_until_function_updated_v2()
        .function_name(name)
        .wait(TIMEOUT)
        .await
        .map_err(|e| ProviderError::Timeout {
            after: TIMEOUT,
            what: format!("Lambda function {name} to finish updating ({e})"),
        })?;
    Ok(())
}

#[async_trait]
impl Resource for LambdaFunction {
    const TYPE: &'static str = "aws:lambda/function";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = LambdaFunctionArgs;
    type Outputs = LambdaFunctionOutputs;

    fn validate(args: &LambdaFunctionArgs) -> Vec<FieldError> {
        let mut errs = check_tags(&args.tags);
        // Lambda allows 4 KB of environment in all; past that, its error quotes the whole
        // environment, secrets included. Refused here, values unquoted.
        let known: Option<usize> = args
            .environment
            .iter()
            .map(|(k, v)| v.known().map(|v| k.len() + v.expose().len() + 6))
            .sum();
        if let Some(size) = known.filter(|n| *n > 4096) {
            errs.push(FieldError::new(
                "environment",
                format!("about {size} bytes: Lambda allows 4 KB of environment variables in all"),
            ));
        }
        let n = &args.name;
        if n.is_empty()
            || n.len() > 64
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            errs.push(FieldError::new(
                "name",
                format!("{n:?}: 1 to 64 of a-z, A-Z, 0-9, - and _"),
            ));
        }
        if !(1..=900).contains(&args.timeout) {
            errs.push(FieldError::new(
                "timeout",
                format!("{} s: Lambda allows 1 to 900", args.timeout),
            ));
        }
        if !(128..=10240).contains(&args.memory_size) {
            errs.push(FieldError::new(
                "memory_size",
                format!("{} MB: Lambda allows 128 to 10240", args.memory_size),
            ));
        }
        if !Runtime::values().contains(&args.runtime.as_str()) {
            errs.push(FieldError::new(
                "runtime",
                format!("{:?} is not a Lambda runtime", args.runtime),
            ));
        }
        if args.files.is_empty() {
            errs.push(FieldError::new(
                "files",
                "a function needs at least one source file",
            ));
        }
        errs
    }

    fn estimate(_: &LambdaFunctionArgs) -> Duration {
        Duration::from_secs(10)
    }

    /// `CreateFunction` refuses a taken name with `ResourceConflictException` "Function
    /// already exist", a taken identity, and takes the tags, this create's
    /// `strata:token` included, in the same call.
    async fn create(
        cx: &Cx<'_>,
        args: &LambdaFunctionArgs,
    ) -> Result<Created<LambdaFunctionOutputs>, ProviderError> {
        let client = lambda(cx)?;
        let zip = args.package();
        let call = client
            .create_function()
            .function_name(&args.name)
            .runtime(Runtime::from(args.runtime.as_str()))
            .handler(&args.handler)
            .role(args.role_arn.value()?)
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(zip.clone()))
                    .build(),
            )
            .timeout(args.timeout)
            .memory_size(args.memory_size)
            .environment(environment(args)?)
            .set_tags(Some(create_tags(cx, &args.tags).into_iter().collect()));
        // A role made just before is refused until IAM has propagated it.
        let out = retry_while_propagating(
            |e| {
                api_error_is(
                    e,
                    "InvalidParameterValueException",
                    "cannot be assumed by Lambda",
                )
            },
            || {
                let call = call.clone();
                async move {
                    call.send()
                        .await
                        .map_err(api_error("lambda:CreateFunction"))
                        .map_err(unquoted_environment)
                }
            },
        )
        .await
        .map_err(|e| taken_if("ResourceConflictException", &["already exist"], e))?;
        client
            .wait_until_function_active_v2()
            .function_name(&args.name)
            .wait(TIMEOUT)
            .await
            .map_err(|e| ProviderError::Timeout {
                after: TIMEOUT,
                what: format!("Lambda function {} to be active ({e})", args.name),
            })?;
        Ok(Created {
            id: args.name.clone(),
            outputs: LambdaFunctionOutputs {
                name: args.name.clone(),
                arn: out.function_arn().unwrap_or_default().to_owned(),
                code_sha256: out
                    .code_sha256()
                    .map_or_else(|| sha256_b64(&zip), str::to_owned),
            },
        })
    }

    /// The function of that name is this create's only when it carries the create's
    /// `strata:token` tag (also while it is still `Pending`). Without it, it is somebody
    /// else's: absent.
    async fn recover(
        cx: &Cx<'_>,
        args: &LambdaFunctionArgs,
    ) -> Result<Recovery<LambdaFunctionOutputs>, ProviderError> {
        let out = match lambda(cx)?
            .get_function()
            .function_name(&args.name)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(Recovery::Absent),
            Err(e) => return Err(api_error("lambda:GetFunction")(e)),
        };
        let ours = out
            .tags()
            .is_some_and(|t| cx.owns(t.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        if !ours {
            return Ok(Recovery::Absent);
        }
        let c = out.configuration();
        Ok(Recovery::Found(Created {
            id: args.name.clone(),
            outputs: LambdaFunctionOutputs {
                name: args.name.clone(),
                arn: c
                    .and_then(|c| c.function_arn())
                    .unwrap_or_default()
                    .to_owned(),
                code_sha256: c
                    .and_then(|c| c.code_sha256())
                    .unwrap_or_default()
                    .to_owned(),
            },
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&LambdaFunctionArgs>,
    ) -> Result<Option<Observed<LambdaFunctionArgs, LambdaFunctionOutputs>>, ProviderError> {
        let out = match lambda(cx)?.get_function().function_name(id).send().await {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(api_error("lambda:GetFunction")(e)),
        };
        let Some(c) = out.configuration() else {
            return Ok(None);
        };
        let live_sha = c.code_sha256().unwrap_or_default().to_owned();
        // The code cannot be read back: the declared files stand for it while the
        // package's hash matches; otherwise the drift shows as an unknown file.
        let files = match args {
            Some(a) if sha256_b64(&a.package()) == live_sha => a.files.clone(),
            _ => BTreeMap::from([("(deployed package)".to_owned(), live_sha.clone())]),
        };
        // Each declared value (secret or not) while its plaintext is the live one.
        let declared = args.map(|a| &a.environment);
        let environment = c
            .environment()
            .and_then(|e| e.variables())
            .map(|vars| {
                vars.iter()
                    .map(|(k, live)| {
                        let kept = declared
                            .and_then(|d| d.get(k))
                            .filter(|d| d.known().map(EnvValue::expose) == Some(live.as_str()));
                        let v = match kept {
                            Some(d) => d.clone(),
                            None => Input::Value(EnvValue::Plain(live.clone())),
                        };
                        (k.clone(), v)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(Observed {
            args: LambdaFunctionArgs {
                name: c.function_name().unwrap_or(id).to_owned(),
                runtime: c
                    .runtime()
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default(),
                handler: c.handler().unwrap_or_default().to_owned(),
                role_arn: Input::Value(c.role().unwrap_or_default().to_owned()),
                files,
                timeout: c.timeout().unwrap_or(3),
                memory_size: c.memory_size().unwrap_or(128),
                environment,
                tags: user_tags(
                    out.tags()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                ),
            },
            outputs: LambdaFunctionOutputs {
                name: id.to_owned(),
                arn: c.function_arn().unwrap_or_default().to_owned(),
                code_sha256: live_sha,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        id: &str,
        old: &LambdaFunctionArgs,
        new: &LambdaFunctionArgs,
        outputs: &LambdaFunctionOutputs,
    ) -> Result<LambdaFunctionOutputs, ProviderError> {
        let client = lambda(cx)?;
        let mut out = outputs.clone();
        if (
            &old.runtime,
            &old.handler,
            &old.role_arn,
            old.timeout,
            old.memory_size,
            &old.environment,
        ) != (
            &new.runtime,
            &new.handler,
            &new.role_arn,
            new.timeout,
            new.memory_size,
            &new.environment,
        ) {
            client
                .update_function_configuration()
                .function_name(id)
                .runtime(Runtime::from(new.runtime.as_str()))
                .handler(&new.handler)
                .role(new.role_arn.value()?)
                .timeout(new.timeout)
                .memory_size(new.memory_size)
                .environment(environment(new)?)
                .send()
                .await
                .map_err(api_error("lambda:UpdateFunctionConfiguration"))
                .map_err(unquoted_environment)?;
            wait_updated(&client, id).await?;
        }
        if old.files != new.files {
            let zip = new.package();
            let r = client
                .update_function_code()
                .function_name(id)
                .zip_file(Blob::new(zip.clone()))
                .send()
                .await
                .map_err(api_error("lambda:UpdateFunctionCode"))?;
            out.code_sha256 = r
                .code_sha256()
                .map_or_else(|| sha256_b64(&zip), str::to_owned);
            wait_updated(&client, id).await?;
        }
        let (removed, set) = tag_changes(&old.tags, &new.tags);
        if !removed.is_empty() {
            client
                .untag_resource()
                .resource(&outputs.arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(api_error("lambda:UntagResource"))?;
        }
        if !set.is_empty() {
            client
                .tag_resource()
                .resource(&outputs.arn)
                .set_tags(Some(set.into_iter().collect()))
                .send()
                .await
                .map_err(api_error("lambda:TagResource"))?;
        }
        Ok(out)
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &LambdaFunctionArgs,
        _: &LambdaFunctionOutputs,
    ) -> Result<(), ProviderError> {
        match lambda(cx)?.delete_function().function_name(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("lambda:DeleteFunction")(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_is_base64_like_lambda_reports_it() {
        // sha256("abc") = ba7816bf…, base64 "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=".
        assert_eq!(
            super::sha256_b64(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
