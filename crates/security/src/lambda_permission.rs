//! `LambdaPermission`: lets a service (or account) invoke a Lambda function.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Input, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{taken, taken_if};
use crate::lambda_function::{lambda, not_found};

/// One statement of a function's resource policy. Every field replaces it (Lambda has no
/// update call); its id is `FUNCTION/STATEMENT`.
///
/// ```
/// use strata_core::Stack;
/// use strata_security::{LambdaPermission};
/// let mut s = Stack::new("dev");
/// s.add("rotation-invoke", LambdaPermission::new("shop-rotation", "secretsmanager", "secretsmanager.amazonaws.com"));
/// ```
#[derive(Debug)]
pub struct LambdaPermission;

/// The args of a [`LambdaPermission`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaPermissionArgs {
    /// The function (name or ARN).
    pub function_name: Input<String>,
    /// The statement id.
    pub statement_id: String,
    /// The action (`lambda:InvokeFunction`).
    pub action: String,
    /// Who (`secretsmanager.amazonaws.com`, an account id).
    pub principal: String,
    /// Only for this source ARN.
    #[serde(default)]
    pub source_arn: Option<Input<String>>,
}

impl LambdaPermission {
    /// Lets `principal` invoke `function_name`, as statement `statement_id`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        function_name: impl Into<Input<String>>,
        statement_id: impl Into<String>,
        principal: impl Into<String>,
    ) -> LambdaPermissionArgs {
        LambdaPermissionArgs {
            function_name: function_name.into(),
            statement_id: statement_id.into(),
            action: "lambda:InvokeFunction".into(),
            principal: principal.into(),
            source_arn: None,
        }
    }
}

impl LambdaPermissionArgs {
    /// Only for calls about this resource.
    pub fn source_arn(mut self, arn: impl Into<Input<String>>) -> Self {
        self.source_arn = Some(arn.into());
        self
    }
}

impl ResourceArgs for LambdaPermissionArgs {
    type Resource = LambdaPermission;
}

/// The outputs of a [`LambdaPermission`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaPermissionOutputs {
    /// `FUNCTION/STATEMENT`.
    pub id: String,
}

strata_core::outputs!(LambdaPermission => LambdaPermissionHandle {
    /// `FUNCTION/STATEMENT`.
    id: String,
});

fn split(id: &str) -> Result<(&str, &str), ProviderError> {
    id.rsplit_once('/').ok_or_else(|| ProviderError::Invalid {
        field: "id".into(),
        message: format!("{id:?} is not FUNCTION/STATEMENT"),
    })
}

/// The statement `sid` of the function's policy.
async fn statement(cx: &Cx<'_>, function: &str, sid: &str) -> Result<Option<Value>, ProviderError> {
    let out = match lambda(cx)?
        .get_policy()
        .function_name(function)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if not_found(&e) => return Ok(None),
        Err(e) => return Err(api_error("lambda:GetPolicy")(e)),
    };
    let policy: Value = serde_json::from_str(out.policy().unwrap_or("{}")).unwrap_or(Value::Null);
    Ok(policy
        .get("Statement")
        .and_then(Value::as_array)
        .and_then(|s| {
            s.iter()
                .find(|st| st.get("Sid").and_then(Value::as_str) == Some(sid))
        })
        .cloned())
}

/// The principal of a statement: the service, account or ARN.
fn principal_of(st: &Value) -> String {
    st.get("Principal")
        .and_then(|p| p.get("Service").or_else(|| p.get("AWS")).or(Some(p)))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The source ARN condition of a statement.
fn source_arn_of(st: &Value) -> Option<&str> {
    st.pointer("/Condition/ArnLike/AWS:SourceArn")
        .and_then(Value::as_str)
}

/// Whether a statement grants what `args` asks: the action, the principal (an account id
/// is stored as `arn:aws:iam::ACCOUNT:root`) and the source ARN.
fn grants(st: &Value, args: &LambdaPermissionArgs) -> Result<bool, ProviderError> {
    let principal = principal_of(st);
    let same_principal = principal == args.principal
        || (args.principal.chars().all(|c| c.is_ascii_digit())
            && principal.starts_with("arn:aws")
            && principal.ends_with(&format!(":iam::{}:root", args.principal)));
    let source = args
        .source_arn
        .as_ref()
        .map(|a| a.value().map(String::as_str))
        .transpose()?;
    Ok(
        st.get("Action").and_then(Value::as_str) == Some(args.action.as_str())
            && same_principal
            && source_arn_of(st) == source,
    )
}

#[async_trait]
impl Resource for LambdaPermission {
    const TYPE: &'static str = "aws:lambda/permission";
    const REPLACE_ON: &'static [&'static str] = &[
        "function_name",
        "statement_id",
        "action",
        "principal",
        "source_arn",
    ];
    /// A function's statement ids are unique in its policy.
    const IDENTITY: &'static [&'static str] = &["function_name", "statement_id"];
    type Args = LambdaPermissionArgs;
    type Outputs = LambdaPermissionOutputs;

    fn validate(args: &LambdaPermissionArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let sid = &args.statement_id;
        if sid.is_empty()
            || sid.len() > 100
            || !sid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            errs.push(FieldError::new(
                "statement_id",
                format!("{sid:?}: 1 to 100 of a-z, A-Z, 0-9, - and _"),
            ));
        }
        if !args.action.starts_with("lambda:") {
            errs.push(FieldError::new(
                "action",
                format!("{:?} is not a lambda: action", args.action),
            ));
        }
        if args.principal.is_empty() {
            errs.push(FieldError::new("principal", "required"));
        }
        errs
    }

    fn estimate(_: &LambdaPermissionArgs) -> Duration {
        Duration::from_secs(1)
    }

    /// `AddPermission` refuses a statement id the policy has (`ResourceConflictException`
    /// "… already exists"); the policy is also checked first, as not every API refuses
    /// (moto's adds a second statement of that id). Nothing of an existing statement
    /// changes.
    async fn create(
        cx: &Cx<'_>,
        args: &LambdaPermissionArgs,
    ) -> Result<Created<LambdaPermissionOutputs>, ProviderError> {
        let function = args.function_name.value()?;
        if statement(cx, function, &args.statement_id).await?.is_some() {
            return Err(taken(
                "lambda:AddPermission",
                format!(
                    "the policy of {function} already has a statement {}",
                    args.statement_id
                ),
            ));
        }
        lambda(cx)?
            .add_permission()
            .function_name(function)
            .statement_id(&args.statement_id)
            .action(&args.action)
            .principal(&args.principal)
            .set_source_arn(
                args.source_arn
                    .as_ref()
                    .map(|a| a.value().cloned())
                    .transpose()?,
            )
            .send()
            .await
            .map_err(api_error("lambda:AddPermission"))
            .map_err(|e| taken_if("ResourceConflictException", &["already exist"], e))?;
        let id = format!("{function}/{}", args.statement_id);
        Ok(Created {
            outputs: LambdaPermissionOutputs { id: id.clone() },
            id,
        })
    }

    /// Statements take no tags, so only the properties can tell: the function's
    /// statement of that id granting the declared action to the declared principal (and
    /// source) is the one this create added, unless this create found the id taken before
    /// it added anything (then it is somebody else's, however alike).
    async fn recover(
        cx: &Cx<'_>,
        args: &LambdaPermissionArgs,
    ) -> Result<Recovery<LambdaPermissionOutputs>, ProviderError> {
        let function = args.function_name.value()?;
        let ours = match statement(cx, function, &args.statement_id).await? {
            Some(st) => grants(&st, args)?,
            None => false,
        };
        if !ours {
            return Ok(Recovery::Absent);
        }
        let id = format!("{function}/{}", args.statement_id);
        Ok(Recovery::Resembles(Created {
            outputs: LambdaPermissionOutputs { id: id.clone() },
            id,
        }))
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&LambdaPermissionArgs>,
    ) -> Result<Option<Observed<LambdaPermissionArgs, LambdaPermissionOutputs>>, ProviderError>
    {
        let (function, sid) = split(id)?;
        let Some(st) = statement(cx, function, sid).await? else {
            return Ok(None);
        };
        let principal = principal_of(&st);
        let source_arn = source_arn_of(&st).map(|a| Input::Value(a.to_owned()));
        Ok(Some(Observed {
            args: LambdaPermissionArgs {
                // Keep the declared form of the function (name or ARN).
                function_name: args.map_or_else(
                    || Input::Value(function.to_owned()),
                    |a| a.function_name.clone(),
                ),
                statement_id: sid.to_owned(),
                action: st
                    .get("Action")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                principal,
                source_arn,
            },
            outputs: LambdaPermissionOutputs { id: id.to_owned() },
        }))
    }

    async fn update(
        _: &Cx<'_>,
        _: &str,
        _: &LambdaPermissionArgs,
        _: &LambdaPermissionArgs,
        outputs: &LambdaPermissionOutputs,
    ) -> Result<LambdaPermissionOutputs, ProviderError> {
        // Every field replaces it: nothing changes in place.
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &LambdaPermissionArgs,
        _: &LambdaPermissionOutputs,
    ) -> Result<(), ProviderError> {
        let (function, sid) = split(id)?;
        match lambda(cx)?
            .remove_permission()
            .function_name(function)
            .statement_id(sid)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("lambda:RemovePermission")(e)),
        }
    }
}
