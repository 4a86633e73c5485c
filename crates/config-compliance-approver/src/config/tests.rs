//! Reading Config through the real SDK with mocked answers: chunks of 25 names, pages to the end, a rule matched
//! on a later page, unknown names, this pipeline's newest result, and evaluations already running.

use std::time::{Duration, Instant};

use aws_sdk_config::operation::describe_compliance_by_config_rule::DescribeComplianceByConfigRuleOutput;
use aws_sdk_config::operation::describe_config_rule_evaluation_status::DescribeConfigRuleEvaluationStatusOutput;
use aws_sdk_config::operation::describe_config_rules::{DescribeConfigRulesError, DescribeConfigRulesOutput};
use aws_sdk_config::operation::describe_conformance_pack_compliance::DescribeConformancePackComplianceError;
use aws_sdk_config::operation::get_compliance_details_by_config_rule::GetComplianceDetailsByConfigRuleOutput;
use aws_sdk_config::operation::get_compliance_details_by_resource::GetComplianceDetailsByResourceOutput;
use aws_sdk_config::operation::start_config_rules_evaluation::{
    StartConfigRulesEvaluationError, StartConfigRulesEvaluationOutput,
};
use aws_sdk_config::primitives::DateTime as AwsTime;
use aws_sdk_config::types::error::{
    InvalidParameterValueException, LimitExceededException, NoSuchConfigRuleException, NoSuchConformancePackException,
};
use aws_sdk_config::types::{
    Compliance as AwsCompliance, ComplianceByConfigRule, ComplianceContributorCount, ConfigRuleEvaluationStatus,
    EvaluationResultIdentifier, EvaluationResultQualifier, Scope,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use hooks_common::gate::FailurePolicy;

use super::*;
use crate::settings::Selection;

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn check(names: &[String], prefix: Option<&str>, resources: Resources) -> Check {
    Check {
        selection: Selection {
            names: names.to_vec(),
            prefix: prefix.map(str::to_owned),
            pack: None,
        },
        resources,
        max_age: chrono::Duration::minutes(60),
        on_error: FailurePolicy::Hold,
        recheck: chrono::Duration::minutes(5),
    }
}

fn config_rule(name: &str, types: &[&str]) -> ConfigRule {
    let mut scope = Scope::builder();
    for t in types {
        scope = scope.compliance_resource_types(*t);
    }
    ConfigRule::builder()
        .config_rule_name(name)
        .scope(scope.build())
        .build()
}

fn compliance(name: &str, kind: ComplianceType) -> ComplianceByConfigRule {
    ComplianceByConfigRule::builder()
        .config_rule_name(name)
        .compliance(AwsCompliance::builder().compliance_type(kind).build())
        .build()
}

fn result(rule: &str, id: &str, kind: ComplianceType, recorded: i64, annotation: &str) -> EvaluationResult {
    EvaluationResult::builder()
        .evaluation_result_identifier(
            EvaluationResultIdentifier::builder()
                .evaluation_result_qualifier(
                    EvaluationResultQualifier::builder()
                        .config_rule_name(rule)
                        .resource_type(PIPELINE_RESOURCE_TYPE)
                        .resource_id(id)
                        .build(),
                )
                .build(),
        )
        .compliance_type(kind)
        .result_recorded_time(AwsTime::from_secs(recorded))
        .annotation(annotation)
        .build()
}

fn names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("rule-{i:02}")).collect()
}

#[tokio::test]
async fn thirty_rules_the_non_compliant_one_in_the_second_chunk_on_a_later_page_counts() {
    let all = names(30);
    // Each chunk is answered with exactly the rules it asked for.
    let rules = mock!(Client::describe_config_rules)
        .match_requests(|r| r.config_rule_names().len() == NAMES_PER_CALL && r.config_rule_names()[0] == "rule-01")
        .then_output(|| {
            let mut out = DescribeConfigRulesOutput::builder();
            for name in names(25) {
                out = out.config_rules(config_rule(&name, &[PIPELINE_RESOURCE_TYPE]));
            }
            out.build()
        });
    let rules_second = mock!(Client::describe_config_rules)
        .match_requests(|r| r.config_rule_names().len() == 5 && r.config_rule_names()[0] == "rule-26")
        .then_output(|| {
            let mut out = DescribeConfigRulesOutput::builder();
            for name in &names(30)[25..] {
                out = out.config_rules(config_rule(name, &[]));
            }
            out.build()
        });
    let statuses = mock!(Client::describe_config_rule_evaluation_status)
        .match_requests(|r| r.config_rule_names().len() <= NAMES_PER_CALL)
        .then_output(|| {
            DescribeConfigRuleEvaluationStatusOutput::builder()
                .config_rules_evaluation_status(
                    ConfigRuleEvaluationStatus::builder()
                        .config_rule_name("rule-29")
                        .last_successful_evaluation_time(AwsTime::from_secs(1_800_000_000))
                        .last_successful_invocation_time(AwsTime::from_secs(1_800_000_000))
                        .build(),
                )
                .build()
        });
    // The second chunk answers in two pages; rule-29 is on the second.
    let chunk_one = mock!(Client::describe_compliance_by_config_rule)
        .match_requests(|r| r.config_rule_names().len() == 25)
        .then_output(|| {
            let mut out = DescribeComplianceByConfigRuleOutput::builder();
            for name in names(25) {
                out = out.compliance_by_config_rules(compliance(&name, ComplianceType::Compliant));
            }
            out.build()
        });
    let chunk_two_page_one = mock!(Client::describe_compliance_by_config_rule)
        .match_requests(|r| r.config_rule_names().len() == 5 && r.next_token().is_none())
        .then_output(|| {
            DescribeComplianceByConfigRuleOutput::builder()
                .compliance_by_config_rules(compliance("rule-26", ComplianceType::Compliant))
                .compliance_by_config_rules(compliance("rule-27", ComplianceType::Compliant))
                .next_token("page-2")
                .build()
        });
    let chunk_two_page_two = mock!(Client::describe_compliance_by_config_rule)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            DescribeComplianceByConfigRuleOutput::builder()
                .compliance_by_config_rules(compliance("rule-28", ComplianceType::Compliant))
                .compliance_by_config_rules(
                    ComplianceByConfigRule::builder()
                        .config_rule_name("rule-29")
                        .compliance(
                            AwsCompliance::builder()
                                .compliance_type(ComplianceType::NonCompliant)
                                .compliance_contributor_count(
                                    ComplianceContributorCount::builder()
                                        .capped_count(100)
                                        .cap_exceeded(true)
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .compliance_by_config_rules(compliance("rule-30", ComplianceType::Compliant))
                .build()
        });
    let details_one = mock!(Client::get_compliance_details_by_config_rule)
        .match_requests(|r| r.config_rule_name() == Some("rule-29") && r.next_token().is_none())
        .then_output(|| {
            GetComplianceDetailsByConfigRuleOutput::builder()
                .evaluation_results(result(
                    "rule-29",
                    "shop",
                    ComplianceType::NonCompliant,
                    1_800_000_000,
                    "add tests",
                ))
                .next_token("more")
                .build()
        });
    let details_two = mock!(Client::get_compliance_details_by_config_rule)
        .match_requests(|r| r.next_token() == Some("more"))
        .then_output(|| {
            GetComplianceDetailsByConfigRuleOutput::builder()
                .evaluation_results(result(
                    "rule-29",
                    "cart",
                    ComplianceType::NonCompliant,
                    1_800_000_000,
                    "add a gate",
                ))
                .build()
        });
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [
            &rules,
            &rules_second,
            &statuses,
            &chunk_one,
            &chunk_two_page_one,
            &chunk_two_page_two,
            &details_one,
            &details_two
        ]
    );
    let gathered = gather(&client, &check(&all, None, Resources::All), "shop", deadline())
        .await
        .unwrap();
    assert!(
        gathered.unknown.is_empty() && gathered.matched_nothing.is_empty(),
        "{gathered:?}"
    );
    assert_eq!(gathered.rules.len(), 30);
    let rule_29 = gathered.rules.iter().find(|r| r.name == "rule-29").unwrap();
    assert_eq!(
        rule_29.compliance,
        Compliance::NonCompliant {
            contributors: Some(Contributors {
                count: 100,
                capped: true
            })
        }
    );
    let ids: Vec<&str> = rule_29.offenders.iter().map(|o| o.resource_id.as_str()).collect();
    assert_eq!(ids, ["shop", "cart"], "every page of the details is read");
    assert_eq!(rule_29.evaluated_at.map(|t| t.timestamp()), Some(1_800_000_000));
    assert_eq!(
        (
            chunk_one.num_calls(),
            chunk_two_page_one.num_calls(),
            chunk_two_page_two.num_calls()
        ),
        (1, 1, 1)
    );
    let rule_30 = gathered.rules.iter().find(|r| r.name == "rule-30").unwrap();
    assert_eq!(rule_30.compliance, Compliance::Compliant);
}

#[tokio::test]
async fn an_unknown_name_is_found_by_listing_every_rule() {
    let by_name = mock!(Client::describe_config_rules)
        .match_requests(|r| !r.config_rule_names().is_empty())
        .then_error(|| {
            DescribeConfigRulesError::NoSuchConfigRuleException(
                NoSuchConfigRuleException::builder()
                    .message("The ConfigRule 'gone' provided in the request is invalid.")
                    .build(),
            )
        });
    let first = mock!(Client::describe_config_rules)
        .match_requests(|r| r.config_rule_names().is_empty() && r.next_token().is_none())
        .then_output(|| {
            DescribeConfigRulesOutput::builder()
                .config_rules(config_rule("a", &[]))
                .next_token("t")
                .build()
        });
    let second = mock!(Client::describe_config_rules)
        .match_requests(|r| r.next_token() == Some("t"))
        .then_output(|| {
            DescribeConfigRulesOutput::builder()
                .config_rules(config_rule("b", &[]))
                .build()
        });
    let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&by_name, &first, &second]);
    let wanted = vec!["a".to_owned(), "gone".to_owned(), "b".to_owned()];
    let gathered = gather(&client, &check(&wanted, None, Resources::All), "shop", deadline())
        .await
        .unwrap();
    assert_eq!(gathered.unknown, ["gone"]);
    assert!(gathered.rules.is_empty(), "nothing more is read for a wrong CustomData");
    assert_eq!(second.num_calls(), 1, "the listing pages to its end");
}

#[tokio::test]
async fn a_prefix_matching_nothing_and_a_rule_not_for_pipelines_are_told() {
    let listing = mock!(Client::describe_config_rules).then_output(|| {
        DescribeConfigRulesOutput::builder()
            .config_rules(config_rule("restricted-ssh", &["AWS::EC2::SecurityGroup"]))
            .build()
    });
    let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&listing]);
    let gathered = gather(&client, &check(&[], Some("prod-"), Resources::All), "shop", deadline())
        .await
        .unwrap();
    assert_eq!(gathered.matched_nothing, ["rule_prefix `prod-`"]);

    let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&listing]);
    let wanted = vec!["restricted-ssh".to_owned()];
    let gathered = gather(
        &client,
        &check(&wanted, None, Resources::ThisPipeline),
        "shop",
        deadline(),
    )
    .await
    .unwrap();
    assert_eq!(gathered.not_for_pipelines, ["restricted-ssh"]);
}

#[tokio::test]
async fn this_pipeline_takes_each_rules_newest_result_across_pages() {
    let rules = mock!(Client::describe_config_rules).then_output(|| {
        DescribeConfigRulesOutput::builder()
            .config_rules(config_rule("practices", &[PIPELINE_RESOURCE_TYPE]))
            .config_rules(config_rule("tagged", &[]))
            .build()
    });
    let statuses = mock!(Client::describe_config_rule_evaluation_status)
        .then_output(|| DescribeConfigRuleEvaluationStatusOutput::builder().build());
    let page_one = mock!(Client::get_compliance_details_by_resource)
        .match_requests(|r| {
            r.next_token().is_none()
                && r.resource_type() == Some(PIPELINE_RESOURCE_TYPE)
                && r.resource_id() == Some("shop")
                && r.compliance_types().contains(&ComplianceType::NotApplicable)
        })
        .then_output(|| {
            GetComplianceDetailsByResourceOutput::builder()
                .evaluation_results(result(
                    "practices",
                    "shop",
                    ComplianceType::Compliant,
                    1_800_000_000,
                    "ok",
                ))
                .evaluation_results(result(
                    "someone-elses",
                    "shop",
                    ComplianceType::NonCompliant,
                    1_800_000_000,
                    "x",
                ))
                .next_token("p2")
                .build()
        });
    let page_two = mock!(Client::get_compliance_details_by_resource)
        .match_requests(|r| r.next_token() == Some("p2"))
        .then_output(|| {
            GetComplianceDetailsByResourceOutput::builder()
                .evaluation_results(result(
                    "practices",
                    "shop",
                    ComplianceType::NonCompliant,
                    1_800_000_600,
                    "tests gone",
                ))
                .build()
        });
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&rules, &statuses, &page_one, &page_two]
    );
    let wanted = vec!["practices".to_owned(), "tagged".to_owned()];
    let gathered = gather(
        &client,
        &check(&wanted, None, Resources::ThisPipeline),
        "shop",
        deadline(),
    )
    .await
    .unwrap();
    let practices = &gathered.rules[0];
    assert_eq!(practices.compliance, Compliance::NonCompliant { contributors: None });
    assert_eq!(practices.offenders[0].annotation.as_deref(), Some("tests gone"));
    assert_eq!(
        gathered.rules[1].compliance,
        Compliance::NoResult,
        "no result for this pipeline"
    );
    assert_eq!(gathered.rules.len(), 2, "rules not asked about are ignored");
}

#[tokio::test]
async fn a_missing_conformance_pack_is_named() {
    let pack = mock!(Client::describe_conformance_pack_compliance).then_error(|| {
        DescribeConformancePackComplianceError::NoSuchConformancePackException(
            NoSuchConformancePackException::builder().message("no pack").build(),
        )
    });
    let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&pack]);
    let mut check = check(&[], None, Resources::All);
    check.selection.pack = Some("baseline".into());
    let gathered = gather(&client, &check, "shop", deadline()).await.unwrap();
    assert_eq!(
        gathered.matched_nothing,
        ["conformance_pack `baseline` (Config has no such pack)"]
    );
}

#[tokio::test]
async fn an_evaluation_already_running_is_not_a_failure_but_others_are() {
    let limited = mock!(Client::start_config_rules_evaluation).then_error(|| {
        StartConfigRulesEvaluationError::LimitExceededException(
            LimitExceededException::builder()
                .message("evaluation in progress")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&limited]);
    assert_eq!(start_evaluation(&client, &names(1), deadline()).await, Ok(()));

    let invalid = mock!(Client::start_config_rules_evaluation).then_error(|| {
        StartConfigRulesEvaluationError::InvalidParameterValueException(
            InvalidParameterValueException::builder().message("bad names").build(),
        )
    });
    let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&invalid]);
    let err = start_evaluation(&client, &names(1), deadline()).await.unwrap_err();
    assert!(
        err.starts_with("StartConfigRulesEvaluation: InvalidParameterValueException: bad names"),
        "{err}"
    );

    let chunks = mock!(Client::start_config_rules_evaluation)
        .match_requests(|r| r.config_rule_names().len() <= NAMES_PER_CALL)
        .then_output(|| StartConfigRulesEvaluationOutput::builder().build());
    let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&chunks]);
    start_evaluation(&client, &names(30), deadline()).await.unwrap();
    assert_eq!(chunks.num_calls(), 2, "30 rules: 25 + 5");
}
