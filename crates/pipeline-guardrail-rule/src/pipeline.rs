//! A pipeline's declaration as far as the release practices care: stages in order, and their actions with type,
//! run order, region and configuration. Parsed once at the edge, from a Config configuration item (JSON) or from
//! `GetPipeline` (SDK types), into the same shape.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineShape {
    pub name: String,
    /// `V1` or `V2`; V1 declarations written before V2 existed carry none.
    #[serde(default)]
    pub pipeline_type: Option<String>,
    pub stages: Vec<Stage>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub name: String,
    pub actions: Vec<Action>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    pub name: String,
    pub action_type_id: ActionTypeId,
    /// Actions of a stage with the same run order run in parallel; CodePipeline's default is 1.
    #[serde(default = "first_run_order")]
    pub run_order: i32,
    /// Set on cross-region actions.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub configuration: BTreeMap<String, String>,
}

fn first_run_order() -> i32 {
    1
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ActionTypeId {
    pub category: String,
    pub owner: String,
    pub provider: String,
}

impl Action {
    pub fn is_deploy(&self) -> bool {
        self.action_type_id.category == "Deploy"
    }

    pub fn is_manual_approval(&self) -> bool {
        let t = &self.action_type_id;
        (t.category.as_str(), t.owner.as_str(), t.provider.as_str()) == ("Approval", "AWS", "Manual")
    }

    pub fn is_lambda_invoke(&self) -> bool {
        let t = &self.action_type_id;
        (t.category.as_str(), t.owner.as_str(), t.provider.as_str()) == ("Invoke", "AWS", "Lambda")
    }

    pub fn is_test_category(&self) -> bool {
        self.action_type_id.category == "Test"
    }

    pub fn config(&self, key: &str) -> Option<&str> {
        self.configuration.get(key).map(String::as_str)
    }
}

impl PipelineShape {
    /// From a configuration item's `configuration`: GetPipeline's answer (`{"pipeline": {...}, "metadata": {...}}`),
    /// or a bare declaration. Errors name the path inside it.
    pub fn from_configuration(configuration: &serde_json::Value) -> Result<PipelineShape, String> {
        #[derive(Deserialize)]
        struct Wrapped {
            pipeline: PipelineShape,
        }
        let text = configuration.to_string();
        if configuration.get("pipeline").is_some() {
            hooks_common::settings::parse_json::<Wrapped>(&text).map(|w| w.pipeline)
        } else {
            hooks_common::settings::parse_json::<PipelineShape>(&text)
        }
    }

    /// From `GetPipeline`'s declaration.
    pub fn from_sdk(declaration: &aws_sdk_codepipeline::types::PipelineDeclaration) -> PipelineShape {
        PipelineShape {
            name: declaration.name().to_owned(),
            pipeline_type: declaration.pipeline_type().map(|t| t.as_str().to_owned()),
            stages: declaration
                .stages()
                .iter()
                .map(|stage| Stage {
                    name: stage.name().to_owned(),
                    actions: stage
                        .actions()
                        .iter()
                        .map(|action| {
                            let t = action.action_type_id();
                            Action {
                                name: action.name().to_owned(),
                                action_type_id: ActionTypeId {
                                    category: t.map(|t| t.category().as_str().to_owned()).unwrap_or_default(),
                                    owner: t.map(|t| t.owner().as_str().to_owned()).unwrap_or_default(),
                                    provider: t.map(|t| t.provider().to_owned()).unwrap_or_default(),
                                },
                                run_order: action.run_order().unwrap_or(1),
                                region: action.region().map(str::to_owned),
                                configuration: action
                                    .configuration()
                                    .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                                    .unwrap_or_default(),
                            }
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_configuration_item_and_a_bare_declaration() {
        let declaration = json!({"name": "shop", "roleArn": "arn:aws:iam::1:role/r", "version": 3,
            "stages": [{"name": "Source", "actions": [{"name": "Checkout", "runOrder": 1,
                "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"},
                "configuration": {"BranchName": "main"}}]},
                {"name": "Prod", "actions": [{"name": "Deploy", "region": "eu-west-1",
                "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "CodeDeploy", "version": "1"}}]}]});
        let wrapped = json!({"pipeline": declaration.clone(), "metadata": {"pipelineArn": "arn"}});
        for configuration in [wrapped, declaration] {
            let shape = PipelineShape::from_configuration(&configuration).unwrap();
            assert_eq!(shape.name, "shop");
            assert_eq!(shape.pipeline_type, None, "a V1 declaration without pipelineType");
            assert_eq!(shape.stages[1].actions[0].run_order, 1, "runOrder defaults to 1");
            assert_eq!(shape.stages[1].actions[0].region.as_deref(), Some("eu-west-1"));
            assert!(shape.stages[1].actions[0].is_deploy());
        }
    }

    #[test]
    fn a_broken_configuration_names_the_path() {
        let broken = json!({"pipeline": {"name": "shop", "stages": [{"name": "Source", "actions": [{"name": "x"}]}]}});
        let err = PipelineShape::from_configuration(&broken).unwrap_err();
        assert!(
            err.contains("pipeline.stages[0].actions[0]") && err.contains("actionTypeId"),
            "{err}"
        );
    }
}
