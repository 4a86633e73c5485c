//! Where a pipeline's failures go: the first matching route, else the default. A route names a Slack webhook (by
//! the Secrets Manager secret holding its URL) or an SNS topic (email, Chatbot and pagers subscribe to it).

use hooks_common::Error;
use hooks_common::notice::{self, DestinationSetting};
use hooks_common::settings::Env;
use serde::Deserialize;
use wildmatch::WildMatch;

pub const DEFAULT_SECRET_VAR: &str = "SLACK_WEBHOOK_SECRET_ID";
pub const ROUTES_VAR: &str = "SLACK_ROUTES";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSetting {
    pipeline: String,
    #[serde(default)]
    secret_id: Option<String>,
    #[serde(default)]
    sns_topic_arn: Option<String>,
}

#[derive(Debug)]
struct Route {
    pattern: String,
    matcher: WildMatch,
    to: notice::Destination,
}

/// Where one message goes. `label` names the route in logs and errors; a webhook URL never does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub label: String,
    pub to: notice::Destination,
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
        let fix = r#"a JSON array like [{"pipeline": "payments-*", "secret_id": "codepipeline-hooks/slack/payments"}, {"pipeline": "data-*", "sns_topic_arn": "arn:aws:sns:eu-west-1:111122223333:data-deploys"}]"#;
        let settings: Vec<RouteSetting> = env.json(ROUTES_VAR, fix)?.unwrap_or_default();
        let mut routes = Vec::with_capacity(settings.len());
        for (index, setting) in settings.into_iter().enumerate() {
            if setting.pipeline.trim().is_empty() {
                return Err(Error::Setting {
                    name: format!("{ROUTES_VAR}[{index}].pipeline"),
                    problem: "is empty".into(),
                    fix: fix.into(),
                });
            }
            let to = DestinationSetting {
                secret_id: setting.secret_id,
                sns_topic_arn: setting.sns_topic_arn,
            }
            .destination(&format!("{ROUTES_VAR}[{index}]"))?;
            routes.push(Route {
                matcher: WildMatch::new(&setting.pipeline),
                pattern: setting.pipeline,
                to,
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
                label: format!("pipelines `{}` ({})", route.pattern, route.to),
                to: route.to.clone(),
            },
            None => Destination {
                label: format!("default (secret {})", self.default_secret_id),
                to: notice::Destination::Slack {
                    secret_id: self.default_secret_id.clone(),
                },
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
            let slack = notice::Destination::Slack {
                secret_id: secret.into(),
            };
            assert_eq!(routes.destination(pipeline).to, slack, "{pipeline}");
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
            (r#"[{"pipeline": "p"}]"#, "SLACK_ROUTES[0]: names no destination"),
            (
                r#"[{"pipeline": "p", "secret_id": "s", "sns_topic_arn": "arn:aws:sns:eu-west-1:111122223333:t"}]"#,
                "SLACK_ROUTES[0]: names both",
            ),
            (
                r#"[{"pipeline": "p", "sns_topic_arn": "arn:aws:sqs:eu-west-1:111122223333:q"}]"#,
                "SLACK_ROUTES[0].sns_topic_arn",
            ),
            (r#"{"pipeline": "p"}"#, "expected a sequence"),
        ];
        for (json, expected) in cases {
            let err = routes(json).unwrap_err().to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
    }

    #[test]
    fn a_route_can_name_an_sns_topic() {
        let topic = "arn:aws:sns:eu-west-1:111122223333:data-deploys";
        let routes = routes(&format!(
            r#"[{{"pipeline": "data-*", "sns_topic_arn": "{topic}"}}, {{"pipeline": "*", "secret_id": "slack/all"}}]"#
        ))
        .unwrap();
        let data = routes.destination("data-lake");
        assert_eq!(
            data.to,
            notice::Destination::Sns {
                topic_arn: topic.into()
            }
        );
        assert_eq!(data.label, format!("pipelines `data-*` (SNS topic {topic})"));
        assert_eq!(
            routes.destination("web").to,
            notice::Destination::Slack {
                secret_id: "slack/all".into()
            }
        );
    }

    #[test]
    fn no_routes_means_everything_goes_to_the_default() {
        let routes = SlackRoutes::from_env(&Env::from_pairs(&[(DEFAULT_SECRET_VAR, "slack/default")])).unwrap();
        assert_eq!(
            routes.destination("anything").to,
            notice::Destination::Slack {
                secret_id: "slack/default".into()
            }
        );
    }
}
