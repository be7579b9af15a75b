//! `Dashboard`: a CloudWatch dashboard.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_core::aws::api_error;
use strata_core::{
    Created, Cx, FieldError, Observed, ProviderError, Recovery, Resource, ResourceArgs,
};

use crate::common::{json_eq, taken};
use crate::metric_alarm::{cloudwatch, not_found};

/// A CloudWatch dashboard. The name replaces it; the body changes in place
/// (`PutDashboard`). Reads compare the body by meaning (key order, `1` and `1.0`), so a
/// body AWS re-serializes is not drift. Dashboards take no tags.
///
/// ```
/// use serde_json::json;
/// use strata_core::Stack;
/// use strata_observability::Dashboard;
/// let mut s = Stack::new("dev");
/// s.add(
///     "overview",
///     Dashboard::new("shop-overview", json!({
///         "widgets": [{
///             "type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
///             "properties": {
///                 "metrics": [["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", "shop-app"]],
///                 "period": 300, "stat": "Average", "region": "eu-central-1",
///                 "title": "EC2 CPU"
///             }
///         }]
///     })),
/// );
/// ```
#[derive(Debug)]
pub struct Dashboard;

/// The args of a [`Dashboard`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardArgs {
    /// The name (up to 255 of `A-Z a-z 0-9 - _`).
    pub name: String,
    /// The body: an object with a `widgets` array (CloudWatch's dashboard body structure).
    pub body: Value,
}

impl Dashboard {
    /// A dashboard `name` with `body`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>, body: Value) -> DashboardArgs {
        DashboardArgs {
            name: name.into(),
            body,
        }
    }
}

impl ResourceArgs for DashboardArgs {
    type Resource = Dashboard;
}

/// The outputs of a [`Dashboard`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardOutputs {
    /// The name (its id).
    pub name: String,
    /// The ARN.
    pub arn: String,
}

strata_core::outputs!(Dashboard => DashboardHandle {
    /// The name.
    name: String,
    /// The ARN.
    arn: String,
});

/// The live dashboard: its ARN and body.
async fn get(cx: &Cx<'_>, name: &str) -> Result<Option<(String, Value)>, ProviderError> {
    match cloudwatch(cx)?
        .get_dashboard()
        .dashboard_name(name)
        .send()
        .await
    {
        Ok(o) => {
            let body = o.dashboard_body().unwrap_or("{}");
            let body = serde_json::from_str(body).map_err(|source| ProviderError::Decode {
                what: format!("the body of dashboard {name}"),
                source,
            })?;
            Ok(Some((
                o.dashboard_arn().unwrap_or_default().to_owned(),
                body,
            )))
        }
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(api_error("cloudwatch:GetDashboard")(e)),
    }
}

async fn put(cx: &Cx<'_>, a: &DashboardArgs) -> Result<(), ProviderError> {
    let out = cloudwatch(cx)?
        .put_dashboard()
        .dashboard_name(&a.name)
        .dashboard_body(a.body.to_string())
        .send()
        .await
        .map_err(api_error("cloudwatch:PutDashboard"))?;
    for m in out.dashboard_validation_messages() {
        tracing::warn!(
            dashboard = %a.name,
            path = m.data_path().unwrap_or_default(),
            "{}",
            m.message().unwrap_or_default()
        );
    }
    Ok(())
}

#[async_trait]
impl Resource for Dashboard {
    const TYPE: &'static str = "aws:cloudwatch/dashboard";
    const REPLACE_ON: &'static [&'static str] = &["name"];
    const IDENTITY: &'static [&'static str] = &["name"];
    type Args = DashboardArgs;
    type Outputs = DashboardOutputs;

    fn validate(a: &DashboardArgs) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let n = &a.name;
        if n.is_empty()
            || n.len() > 255
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errs.push(FieldError::new(
                "name",
                format!("{n:?}: 1 to 255 of A-Z, a-z, 0-9, - and _"),
            ));
        }
        match a.body.get("widgets") {
            _ if !a.body.is_object() => errs.push(FieldError::new(
                "body",
                "a dashboard body is a JSON object with a \"widgets\" array",
            )),
            Some(Value::Array(ws)) => {
                if ws.len() > 500 {
                    errs.push(FieldError::new(
                        "body.widgets",
                        format!("{} widgets: a dashboard has at most 500", ws.len()),
                    ));
                }
                for (i, w) in ws.iter().enumerate() {
                    if !w.get("type").is_some_and(Value::is_string) {
                        errs.push(FieldError::new(
                            format!("body.widgets.{i}"),
                            "a widget is an object with a \"type\" (metric, text, log, alarm, …)",
                        ));
                    }
                }
            }
            _ => errs.push(FieldError::new(
                "body.widgets",
                "a dashboard body needs a \"widgets\" array",
            )),
        }
        errs
    }

    async fn create(
        cx: &Cx<'_>,
        a: &DashboardArgs,
    ) -> Result<Created<DashboardOutputs>, ProviderError> {
        // PutDashboard is an upsert: it would overwrite a dashboard of the same name.
        // Refuse a taken name instead, before any change.
        if get(cx, &a.name).await?.is_some() {
            return Err(taken(
                "cloudwatch:PutDashboard",
                format!("a dashboard named {} already exists", a.name),
            ));
        }
        put(cx, a).await?;
        let (arn, _) = get(cx, &a.name)
            .await?
            .ok_or_else(|| ProviderError::NotFound(format!("dashboard {}", a.name)))?;
        Ok(Created {
            id: a.name.clone(),
            outputs: DashboardOutputs {
                name: a.name.clone(),
                arn,
            },
        })
    }

    /// Dashboards take no tags, so only the properties can tell: a dashboard of that name
    /// with the declared body (compared by meaning) is the one this create put, unless
    /// this create found the name taken before it put anything (then it is somebody
    /// else's, even with the same body). One with another body is somebody else's.
    async fn recover(
        cx: &Cx<'_>,
        a: &DashboardArgs,
    ) -> Result<Recovery<DashboardOutputs>, ProviderError> {
        Ok(match get(cx, &a.name).await? {
            Some((arn, body)) if json_eq(&body, &a.body) => Recovery::Resembles(Created {
                id: a.name.clone(),
                outputs: DashboardOutputs {
                    name: a.name.clone(),
                    arn,
                },
            }),
            Some(_) | None => Recovery::Absent,
        })
    }

    async fn read(
        cx: &Cx<'_>,
        id: &str,
        args: Option<&DashboardArgs>,
    ) -> Result<Option<Observed<DashboardArgs, DashboardOutputs>>, ProviderError> {
        let Some((arn, body)) = get(cx, id).await? else {
            return Ok(None);
        };
        let body = match args {
            Some(a) if json_eq(&a.body, &body) => a.body.clone(),
            _ => body,
        };
        Ok(Some(Observed {
            args: DashboardArgs {
                name: id.to_owned(),
                body,
            },
            outputs: DashboardOutputs {
                name: id.to_owned(),
                arn,
            },
        }))
    }

    async fn update(
        cx: &Cx<'_>,
        _id: &str,
        old: &DashboardArgs,
        new: &DashboardArgs,
        outputs: &DashboardOutputs,
    ) -> Result<DashboardOutputs, ProviderError> {
        if !json_eq(&old.body, &new.body) {
            put(cx, new).await?;
        }
        Ok(outputs.clone())
    }

    async fn delete(
        cx: &Cx<'_>,
        id: &str,
        _: &DashboardArgs,
        _: &DashboardOutputs,
    ) -> Result<(), ProviderError> {
        match cloudwatch(cx)?
            .delete_dashboards()
            .dashboard_names(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(api_error("cloudwatch:DeleteDashboards")(e)),
        }
    }
}
