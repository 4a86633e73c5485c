//! Which Slack webhook a pipeline's failures go to: the first matching route, else the default.

use hooks_common::Error;
use hooks_common::settings::Env;
use serde::Deserialize;
use wildmatch::WildMatch;

pub const DEFAULT_SECRET_VAR: &str = "SLACK_WEBHOOK_SECRET_ID";
pub const ROUTES_VAR: &str = "SLACK_ROUTES";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSetting {
    pipeline: String,
    secret_id: String,
}

#[derive(Debug)]
struct Route {
    pattern: String,
    matcher: WildMatch,
    secret_id: String,
}

/// Where one message goes. `label` names the route in logs and errors; the webhook URL never does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub label: String,
    pub secret_id: String,
}

#[derive(Debug)]
pub struct SlackRoutes {
    default_secret_id: String,
    routes: Vec<Route>,
}

impl SlackRoutes {
    pub fn from_env(env: &Env) -> Result<SlackRoutes, Error> {
        let default_secret_id = env.required(
            DEFAULT_SECRET_VAR,
            "set it to the name or ARN of the Secrets Manager secret holding the default Slack webhook URL",
        )?;
        let fix = r#"a JSON array like [{"pipeline": "payments-*", "secret_id": "codepipeline-hooks/slack/payments"}]"#;
        let settings: Vec<RouteSetting> = env.json(ROUTES_VAR, fix)?.unwrap_or_default();
        let mut routes = Vec::with_capacity(settings.len());
        for (index, setting) in settings.into_iter().enumerate() {
            for (field, value) in [("pipeline", &setting.pipeline), ("secret_id", &setting.secret_id)] {
                if value.trim().is_empty() {
                    return Err(Error::Setting {
                        name: format!("{ROUTES_VAR}[{index}].{field}"),
                        problem: "is empty".into(),
                        fix: fix.into(),
                    });
                }
            }
            routes.push(Route {
                matcher: WildMatch::new(&setting.pipeline),
                pattern: setting.pipeline,
                secret_id: setting.secret_id,
            });
        }
        Ok(SlackRoutes {
            default_secret_id,
            routes,
        })
    }

    pub fn destination(&self, pipeline: &str) -> Destination {
        match self.routes.iter().find(|route| route.matcher.matches(pipeline)) {
            Some(route) => Destination {
                label: format!("pipelines `{}` (secret {})", route.pattern, route.secret_id),
                secret_id: route.secret_id.clone(),
            },
            None => Destination {
                label: format!("default (secret {})", self.default_secret_id),
                secret_id: self.default_secret_id.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(json: &str) -> Result<SlackRoutes, Error> {
        SlackRoutes::from_env(&Env::from_pairs(&[
            (DEFAULT_SECRET_VAR, "slack/default"),
            (ROUTES_VAR, json),
        ]))
    }

    #[test]
    fn first_matching_route_wins_else_default() {
        let routes = routes(
            r#"[{"pipeline": "payments-*", "secret_id": "slack/payments"},
                {"pipeline": "*-prod", "secret_id": "slack/prod"},
                {"pipeline": "app-?", "secret_id": "slack/apps"}]"#,
        )
        .unwrap();
        let cases = [
            ("payments-api", "slack/payments"),
            ("payments-prod", "slack/payments"),
            ("search-prod", "slack/prod"),
            ("app-1", "slack/apps"),
            ("app-12", "slack/default"),
            ("demo-app", "slack/default"),
        ];
        for (pipeline, secret) in cases {
            assert_eq!(routes.destination(pipeline).secret_id, secret, "{pipeline}");
        }
        assert_eq!(routes.destination("x").label, "default (secret slack/default)");
    }

    #[test]
    fn bad_settings_name_the_field() {
        let missing = SlackRoutes::from_env(&Env::from_pairs(&[])).unwrap_err().to_string();
        assert!(missing.contains(DEFAULT_SECRET_VAR), "{missing}");
        let cases = [
            (
                r#"[{"pipeline": "", "secret_id": "s"}]"#,
                "SLACK_ROUTES[0].pipeline: is empty",
            ),
            (r#"[{"pipeline": "p"}]"#, "missing field `secret_id`"),
            (r#"{"pipeline": "p"}"#, "expected a sequence"),
        ];
        for (json, expected) in cases {
            let err = routes(json).unwrap_err().to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
    }

    #[test]
    fn no_routes_means_everything_goes_to_the_default() {
        let routes = SlackRoutes::from_env(&Env::from_pairs(&[(DEFAULT_SECRET_VAR, "slack/default")])).unwrap();
        assert_eq!(routes.destination("anything").secret_id, "slack/default");
    }
}
