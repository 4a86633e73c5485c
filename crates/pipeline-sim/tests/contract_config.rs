//! Contract tests for AWS Config (and CodePipeline's ListPipelines): the real `aws-sdk-config`, pointed at the
//! simulator, parses every answer with the values put in, pages where Config pages, and gets every error the
//! operation models as its typed variant.

use std::time::Duration;

use aws_sdk_config::Client;
use aws_sdk_config::error::ProvideErrorMetadata;
use aws_sdk_config::primitives::DateTime as AwsTime;
use aws_sdk_config::types::{ComplianceType, ConfigurationItemStatus, Evaluation, ResourceType};
use chrono::Utc;
use pipeline_sim::config::{ConfigRule, PIPELINE_RESOURCE_TYPE};
use pipeline_sim::{Fault, FaultKind, Service, Simulator};

mod support;
use support::sdk_config;

async fn start() -> (Simulator, Client) {
    let sim = Simulator::start().await.expect("simulator starts");
    let config = Client::new(&sdk_config(&sim, Duration::from_secs(5)).await);
    (sim, config)
}

fn managed(name: &str) -> ConfigRule {
    ConfigRule::managed(name, "CODEPIPELINE_DEPLOYMENT_COUNT_CHECK", &[PIPELINE_RESOURCE_TYPE])
}

fn code(error: &impl ProvideErrorMetadata) -> String {
    error.code().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn describe_config_rules_by_name_and_all_pages() {
    let (sim, config) = start().await;
    for i in 0..30 {
        sim.state.config().put_rule(managed(&format!("rule-{i:02}")));
    }
    let one = config
        .describe_config_rules()
        .config_rule_names("rule-07")
        .send()
        .await
        .unwrap();
    let rule = &one.config_rules()[0];
    assert_eq!(rule.config_rule_name(), Some("rule-07"));
    assert_eq!(
        rule.scope().unwrap().compliance_resource_types(),
        [PIPELINE_RESOURCE_TYPE]
    );
    assert_eq!(rule.config_rule_state().map(|s| s.as_str()), Some("ACTIVE"));
    assert!(
        rule.config_rule_arn()
            .unwrap()
            .starts_with("arn:aws:config:us-east-1:123456789012:config-rule/")
    );

    let first = config.describe_config_rules().send().await.unwrap();
    assert_eq!(first.config_rules().len(), 25);
    let second = config
        .describe_config_rules()
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.config_rules().len(), 5);
    assert!(second.next_token().is_none());

    let err = config
        .describe_config_rules()
        .config_rule_names("nope")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_no_such_config_rule_exception(),
        "{}",
        code(&err)
    );
    let many: Vec<String> = (0..26).map(|i| format!("rule-{i:02}")).collect();
    let err = config
        .describe_config_rules()
        .set_config_rule_names(Some(many))
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_value_exception());
    let err = config
        .describe_config_rules()
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_next_token_exception());
}

#[tokio::test]
async fn evaluation_status_carries_times_and_errors() {
    let (sim, config) = start().await;
    let at = Utc::now() - chrono::Duration::minutes(3);
    {
        let mut state = sim.state.config();
        state.put_rule(managed("practices"));
        state.set_result("practices", PIPELINE_RESOURCE_TYPE, "shop", "COMPLIANT", None, at);
        let rule = state.rules.get_mut("practices").unwrap();
        rule.status.last_failed_evaluation = Some(at + chrono::Duration::minutes(1));
        rule.status.last_error_code = Some("Unhandled".into());
        rule.status.last_error_message = Some("the function timed out".into());
    }
    let out = config
        .describe_config_rule_evaluation_status()
        .config_rule_names("practices")
        .send()
        .await
        .unwrap();
    let status = &out.config_rules_evaluation_status()[0];
    support::assert_time(status.last_successful_evaluation_time(), at.timestamp_millis());
    support::assert_time(
        status.last_failed_evaluation_time(),
        (at + chrono::Duration::minutes(1)).timestamp_millis(),
    );
    assert_eq!(status.last_error_code(), Some("Unhandled"));
    assert!(status.first_evaluation_started());

    let err = config
        .describe_config_rule_evaluation_status()
        .config_rule_names("gone")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_no_such_config_rule_exception());
    let err = config
        .describe_config_rule_evaluation_status()
        .limit(51)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_value_exception());
}

#[tokio::test]
async fn compliance_by_rule_aggregates_counts_caps_and_pages() {
    let (sim, config) = start().await;
    let now = Utc::now();
    {
        let mut state = sim.state.config();
        for name in ["all-good", "one-bad", "many-bad", "nothing", "not-applicable"] {
            state.put_rule(managed(name));
        }
        for i in 0..12 {
            state.put_rule(managed(&format!("filler-{i:02}")));
        }
        state.set_result("all-good", PIPELINE_RESOURCE_TYPE, "shop", "COMPLIANT", None, now);
        state.set_result("one-bad", PIPELINE_RESOURCE_TYPE, "shop", "COMPLIANT", None, now);
        state.set_result(
            "one-bad",
            PIPELINE_RESOURCE_TYPE,
            "cart",
            "NON_COMPLIANT",
            Some("add tests"),
            now,
        );
        for i in 0..101 {
            state.set_result(
                "many-bad",
                PIPELINE_RESOURCE_TYPE,
                &format!("p{i}"),
                "NON_COMPLIANT",
                None,
                now,
            );
        }
        state.set_result(
            "not-applicable",
            PIPELINE_RESOURCE_TYPE,
            "shop",
            "NOT_APPLICABLE",
            None,
            now,
        );
    }
    let names = ["all-good", "one-bad", "many-bad", "nothing", "not-applicable"];
    let out = config
        .describe_compliance_by_config_rule()
        .set_config_rule_names(Some(names.iter().map(|n| n.to_string()).collect()))
        .send()
        .await
        .unwrap();
    let of = |name: &str| {
        out.compliance_by_config_rules()
            .iter()
            .find(|c| c.config_rule_name() == Some(name))
            .and_then(|c| c.compliance())
            .cloned()
            .unwrap()
    };
    assert_eq!(of("all-good").compliance_type(), Some(&ComplianceType::Compliant));
    let one = of("one-bad");
    assert_eq!(one.compliance_type(), Some(&ComplianceType::NonCompliant));
    assert_eq!(one.compliance_contributor_count().unwrap().capped_count(), 1);
    let many = of("many-bad").compliance_contributor_count().cloned().unwrap();
    assert_eq!((many.capped_count(), many.cap_exceeded()), (100, true));
    assert_eq!(of("nothing").compliance_type(), Some(&ComplianceType::InsufficientData));
    assert_eq!(
        of("not-applicable").compliance_type(),
        Some(&ComplianceType::InsufficientData)
    );

    // Without names: every rule, in pages of the simulator's page size (10).
    let first = config.describe_compliance_by_config_rule().send().await.unwrap();
    assert_eq!(first.compliance_by_config_rules().len(), 10);
    let second = config
        .describe_compliance_by_config_rule()
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.compliance_by_config_rules().len(), 7);

    let err = config
        .describe_compliance_by_config_rule()
        .config_rule_names("gone")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_no_such_config_rule_exception());
    let many: Vec<String> = (0..26).map(|i| format!("filler-{i:02}")).collect();
    let err = config
        .describe_compliance_by_config_rule()
        .set_config_rule_names(Some(many))
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_value_exception());
    let err = config
        .describe_compliance_by_config_rule()
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_next_token_exception());
}

#[tokio::test]
async fn compliance_details_by_rule_and_by_resource() {
    let (sim, config) = start().await;
    let at = Utc::now() - chrono::Duration::minutes(2);
    {
        let mut state = sim.state.config();
        state.put_rule(managed("practices"));
        state.put_rule(managed("other"));
        for i in 0..15 {
            state.set_result(
                "practices",
                PIPELINE_RESOURCE_TYPE,
                &format!("p{i:02}"),
                "NON_COMPLIANT",
                Some("add tests"),
                at,
            );
        }
        state.set_result(
            "practices",
            PIPELINE_RESOURCE_TYPE,
            "shop",
            "COMPLIANT",
            Some("fine"),
            at,
        );
        state.set_result("other", PIPELINE_RESOURCE_TYPE, "shop", "NOT_APPLICABLE", None, at);
    }
    let first = config
        .get_compliance_details_by_config_rule()
        .config_rule_name("practices")
        .compliance_types(ComplianceType::NonCompliant)
        .limit(10)
        .send()
        .await
        .unwrap();
    assert_eq!(first.evaluation_results().len(), 10);
    let result = &first.evaluation_results()[0];
    let q = result
        .evaluation_result_identifier()
        .unwrap()
        .evaluation_result_qualifier()
        .unwrap();
    assert_eq!(
        (q.config_rule_name(), q.resource_type()),
        (Some("practices"), Some(PIPELINE_RESOURCE_TYPE))
    );
    assert_eq!(result.annotation(), Some("add tests"));
    support::assert_time(result.result_recorded_time(), at.timestamp_millis());
    let second = config
        .get_compliance_details_by_config_rule()
        .config_rule_name("practices")
        .compliance_types(ComplianceType::NonCompliant)
        .limit(10)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.evaluation_results().len(), 5);
    assert!(second.next_token().is_none());
    let err = config
        .get_compliance_details_by_config_rule()
        .config_rule_name("gone")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_no_such_config_rule_exception());
    let err = config
        .get_compliance_details_by_config_rule()
        .config_rule_name("practices")
        .limit(101)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_value_exception());
    let err = config
        .get_compliance_details_by_config_rule()
        .config_rule_name("practices")
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_next_token_exception());

    let shop = config
        .get_compliance_details_by_resource()
        .resource_type(PIPELINE_RESOURCE_TYPE)
        .resource_id("shop")
        .send()
        .await
        .unwrap();
    let rules: Vec<&str> = shop
        .evaluation_results()
        .iter()
        .filter_map(|r| {
            r.evaluation_result_identifier()?
                .evaluation_result_qualifier()?
                .config_rule_name()
        })
        .collect();
    assert_eq!(rules, ["practices", "other"]);
    let err = config
        .get_compliance_details_by_resource()
        .resource_id("shop")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_value_exception());
}

#[tokio::test]
async fn conformance_pack_compliance() {
    let (sim, config) = start().await;
    {
        let mut state = sim.state.config();
        state.put_rule(managed("pack-a"));
        state.put_rule(managed("pack-b"));
        state.put_pack("baseline", &["pack-a", "pack-b"]);
        state.set_result(
            "pack-a",
            PIPELINE_RESOURCE_TYPE,
            "shop",
            "NON_COMPLIANT",
            None,
            Utc::now(),
        );
    }
    let out = config
        .describe_conformance_pack_compliance()
        .conformance_pack_name("baseline")
        .send()
        .await
        .unwrap();
    assert_eq!(out.conformance_pack_name(), "baseline");
    let kinds: Vec<(&str, &str)> = out
        .conformance_pack_rule_compliance_list()
        .iter()
        .map(|c| (c.config_rule_name().unwrap(), c.compliance_type().unwrap().as_str()))
        .collect();
    assert_eq!(kinds, [("pack-a", "NON_COMPLIANT"), ("pack-b", "INSUFFICIENT_DATA")]);
    let err = config
        .describe_conformance_pack_compliance()
        .conformance_pack_name("none")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_no_such_conformance_pack_exception());
    let err = config
        .describe_conformance_pack_compliance()
        .conformance_pack_name("baseline")
        .limit(1001)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_limit_exception());
}

#[tokio::test]
async fn start_evaluation_is_rate_limited() {
    let (sim, config) = start().await;
    sim.state.config().put_rule(managed("practices"));
    config
        .start_config_rules_evaluation()
        .config_rule_names("practices")
        .send()
        .await
        .unwrap();
    let err = config
        .start_config_rules_evaluation()
        .config_rule_names("practices")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_limit_exceeded_exception(),
        "{}",
        code(&err)
    );
    assert_eq!(sim.state.config().starts.len(), 1);
    let err = config
        .start_config_rules_evaluation()
        .config_rule_names("gone")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_no_such_config_rule_exception());
    let err = config.start_config_rules_evaluation().send().await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_value_exception());
}

fn evaluation(id: &str, kind: ComplianceType, annotation: &str) -> Evaluation {
    Evaluation::builder()
        .compliance_resource_type(PIPELINE_RESOURCE_TYPE)
        .compliance_resource_id(id)
        .compliance_type(kind)
        .annotation(annotation)
        .ordering_timestamp(AwsTime::from_secs(1_800_000_000))
        .build()
        .unwrap()
}

#[tokio::test]
async fn put_evaluations_records_test_mode_failures_and_errors() {
    let (sim, config) = start().await;
    let token = {
        let mut state = sim.state.config();
        state.put_rule(managed("practices"));
        state.issue_token("practices", Utc::now())
    };
    let out = config
        .put_evaluations()
        .result_token(&token)
        .evaluations(evaluation("shop", ComplianceType::NonCompliant, "add tests"))
        .send()
        .await
        .unwrap();
    assert!(out.failed_evaluations().is_empty());
    assert_eq!(
        sim.state
            .config()
            .result("practices", "shop")
            .map(|r| (r.compliance.clone(), r.annotation.clone())),
        Some(("NON_COMPLIANT".into(), Some("add tests".into())))
    );

    config
        .put_evaluations()
        .result_token("TESTMODE")
        .evaluations(evaluation("cart", ComplianceType::Compliant, "fine"))
        .test_mode(true)
        .send()
        .await
        .unwrap();
    assert!(
        sim.state.config().result("practices", "cart").is_none(),
        "test mode stores nothing"
    );

    sim.state.config().fail_next_evaluations = 1;
    let out = config
        .put_evaluations()
        .result_token(&token)
        .evaluations(evaluation("a", ComplianceType::Compliant, "x"))
        .evaluations(evaluation("b", ComplianceType::Compliant, "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_evaluations().len(), 1);
    assert_eq!(out.failed_evaluations()[0].compliance_resource_id(), "a");

    let err = config
        .put_evaluations()
        .result_token("TESTMODE")
        .evaluations(evaluation("a", ComplianceType::Compliant, "x"))
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_result_token_exception());
    let too_many: Vec<Evaluation> = (0..101)
        .map(|i| evaluation(&format!("p{i}"), ComplianceType::Compliant, "x"))
        .collect();
    let err = config
        .put_evaluations()
        .result_token(&token)
        .set_evaluations(Some(too_many))
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_value_exception());
    let err = config
        .put_evaluations()
        .result_token(&token)
        .evaluations(evaluation("a", ComplianceType::Compliant, &"x".repeat(257)))
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_value_exception());
    sim.state.config().rules.remove("practices");
    let err = config
        .put_evaluations()
        .result_token(&token)
        .evaluations(evaluation("a", ComplianceType::Compliant, "x"))
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_no_such_config_rule_exception());
}

#[tokio::test]
async fn resource_config_history_newest_first() {
    let (sim, config) = start().await;
    {
        let mut state = sim.state.config();
        state.record_item(
            PIPELINE_RESOURCE_TYPE,
            "shop",
            "ResourceDiscovered",
            serde_json::json!({"pipeline": {"name": "shop", "version": 1}}),
        );
        state.record_item(
            PIPELINE_RESOURCE_TYPE,
            "shop",
            "OK",
            serde_json::json!({"pipeline": {"name": "shop", "version": 2}}),
        );
    }
    let out = config
        .get_resource_config_history()
        .resource_type(ResourceType::from(PIPELINE_RESOURCE_TYPE))
        .resource_id("shop")
        .limit(1)
        .send()
        .await
        .unwrap();
    let item = &out.configuration_items()[0];
    assert_eq!(item.configuration_item_status(), Some(&ConfigurationItemStatus::Ok));
    let configuration: serde_json::Value = serde_json::from_str(item.configuration().unwrap()).unwrap();
    assert_eq!(configuration["pipeline"]["version"], 2);
    assert!(out.next_token().is_some(), "the older version is on the next page");
    let err = config
        .get_resource_config_history()
        .resource_type(ResourceType::from(PIPELINE_RESOURCE_TYPE))
        .resource_id("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_discovered_exception());
    let err = config
        .get_resource_config_history()
        .resource_type(ResourceType::from(PIPELINE_RESOURCE_TYPE))
        .resource_id("shop")
        .limit(101)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_limit_exception());
}

#[tokio::test]
async fn faults_reach_config_callers_as_throttling_and_server_errors() {
    let (sim, config) = start().await;
    sim.state.config().put_rule(managed("practices"));
    sim.state
        .faults
        .inject(Fault::new(Service::Config, FaultKind::Throttle).on("DescribeComplianceByConfigRule"));
    let err = config.describe_compliance_by_config_rule().send().await.unwrap_err();
    assert_eq!(code(&err), "ThrottlingException");
    sim.state.faults.clear();
    sim.state
        .faults
        .inject(Fault::new(Service::Config, FaultKind::ServerError).times(1));
    // One 500, then the SDK's retry gets the answer.
    config.describe_config_rules().send().await.unwrap();
    assert_eq!(sim.state.call_count(Service::Config, "DescribeConfigRules"), 2);
}

#[tokio::test]
async fn list_pipelines_pages_by_one_hundred() {
    let sim = Simulator::start().await.expect("simulator starts");
    {
        let mut world = sim.state.world();
        for i in 0..120 {
            world.put_pipeline(pipeline_sim::samples::tested_pipeline(
                &format!("app-{i:03}"),
                "{}",
                Duration::from_secs(30),
            ));
        }
    }
    let codepipeline = aws_sdk_codepipeline::Client::new(&sdk_config(&sim, Duration::from_secs(5)).await);
    let first = codepipeline.list_pipelines().send().await.unwrap();
    assert_eq!(first.pipelines().len(), 100);
    assert_eq!(first.pipelines()[0].name(), Some("app-000"));
    let second = codepipeline
        .list_pipelines()
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.pipelines().len(), 20);
    assert!(second.next_token().is_none());
    let small = codepipeline.list_pipelines().max_results(7).send().await.unwrap();
    assert_eq!(small.pipelines().len(), 7);
    let err = codepipeline.list_pipelines().max_results(0).send().await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_validation_exception());
    let err = codepipeline
        .list_pipelines()
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_next_token_exception());
}
