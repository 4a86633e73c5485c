//! The simulator runs each function as `template.yaml` deploys it: this keeps `pipeline_sim::stack::deployment`
//! (timeout, memory, asynchronous retries) in step with the template, so a change to one fails until the
//! other follows.

use std::time::Duration;

use pipeline_sim::stack::{Deployment, deployment};

const TEMPLATE: &str = include_str!("../template.yaml");

/// A resource's lines: from `  Name:` (two spaces in) to the next resource or section.
fn resources(template: &str) -> Vec<(&str, Vec<&str>)> {
    let body = template
        .split_once("\nResources:\n")
        .expect("the template has a Resources section")
        .1;
    let mut resources: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in body.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('#') {
            break; // the next top-level section (Outputs)
        }
        let is_resource = line.starts_with("  ")
            && !line.starts_with("   ")
            && !line.trim_start().starts_with('#')
            && line.trim_end().ends_with(':');
        if is_resource {
            resources.push((line.trim().trim_end_matches(':'), Vec::new()));
        } else if let Some((_, lines)) = resources.last_mut() {
            lines.push(line);
        }
    }
    resources
}

/// The value of the first `key: value` line at or after `from` (a line containing `from`), if any.
fn value_after<'a>(lines: &[&'a str], from: &str, key: &str) -> Option<&'a str> {
    let start = lines.iter().position(|l| l.contains(from))?;
    lines[start..]
        .iter()
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':').map(str::trim))
}

fn number(value: Option<&str>, what: &str) -> Option<u64> {
    value.map(|v| v.parse().unwrap_or_else(|_| panic!("{what} `{v}` is not a number")))
}

#[test]
fn the_simulator_deploys_every_function_as_the_template_does() {
    let global_memory = number(
        value_after(&TEMPLATE.lines().collect::<Vec<_>>(), "Globals:", "MemorySize"),
        "MemorySize",
    );
    let mut seen = Vec::new();
    for (name, lines) in resources(TEMPLATE) {
        let Some(binary) = value_after(&lines, "Binary:", "Binary") else {
            continue;
        };
        let timeout = number(value_after(&lines, "Properties:", "Timeout"), "Timeout")
            .unwrap_or_else(|| panic!("{name}: no Timeout"));
        let memory = number(value_after(&lines, "Properties:", "MemorySize"), "MemorySize")
            .or(global_memory)
            .unwrap_or(128);
        let retries = number(
            value_after(&lines, "EventInvokeConfig:", "MaximumRetryAttempts"),
            "MaximumRetryAttempts",
        )
        .unwrap_or(2);
        let template = Deployment {
            timeout: Duration::from_secs(timeout),
            memory_mb: memory as u32,
            async_retries: retries as u32,
        };
        assert_eq!(deployment(binary), template, "{name} ({binary})");
        seen.push(binary);
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            "approval-auto-approver",
            "blackday-gate",
            "config-compliance-approver",
            "failure-notifier",
            "job-reaper",
            "pipeline-guardrail-rule",
            "post-deploy-test-runner",
            "synthetic-canary",
            "transition-disabler"
        ],
        "every deployed function was compared"
    );
}

// ---- Schedules ---------------------------------------------------------------------------------------------
//
// EventBridge refuses `rate(1 minutes)` (one wants the singular) and any rate that is not a positive whole number,
// and it refuses it only at deploy time. So every schedule expression the template can produce must be provable
// here: each `Schedule:` is a literal, or `!FindInMap [Map, !Ref Parameter, Key]` over a parameter whose
// AllowedValues list every value it may take; this renders each allowed value of each such parameter and checks the
// expression. An expression built with `!Sub` from a parameter cannot be proven for every value and fails the test.

/// The lines of a top-level section (`Parameters:`, `Mappings:`), up to the next top-level key.
fn section<'a>(template: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("\n{name}:\n");
    let body = template
        .split_once(header.as_str())
        .unwrap_or_else(|| panic!("the template has a {name} section"))
        .1;
    body.lines()
        .take_while(|l| l.is_empty() || l.starts_with(' ') || l.starts_with('#'))
        .collect()
}

/// The entries of a section two spaces in (parameters, mapping names): name -> its lines.
fn entries<'a>(lines: &[&'a str], indent: usize) -> Vec<(String, Vec<&'a str>)> {
    let mut entries: Vec<(String, Vec<&'a str>)> = Vec::new();
    for line in lines {
        let depth = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if depth == indent && trimmed.ends_with(':') {
            let name = trimmed.trim_end_matches(':').trim_matches('\'').to_string();
            entries.push((name, Vec::new()));
        } else if depth > indent
            && let Some((_, body)) = entries.last_mut()
        {
            body.push(line);
        }
    }
    entries
}

/// `['1', '5', x]` -> ["1", "5", "x"]
fn flow_list(value: &str) -> Vec<String> {
    value
        .trim()
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or_else(|| panic!("`{value}` is not a [flow, list]"))
        .split(',')
        .map(|v| v.trim().trim_matches('\'').trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// A parameter's AllowedValues, if it declares them.
fn allowed_values(template: &str, parameter: &str) -> Option<Vec<String>> {
    let parameters = entries(&section(template, "Parameters"), 2);
    let (_, lines) = parameters
        .iter()
        .find(|(name, _)| name == parameter)
        .unwrap_or_else(|| panic!("no parameter {parameter}"));
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("AllowedValues:"))
        .map(flow_list)
}

/// `Mappings: Map: 'key': {Field: value, ...}` -> value
fn mapping(template: &str, map: &str, key: &str, field: &str) -> Option<String> {
    let maps = entries(&section(template, "Mappings"), 2);
    let (_, lines) = maps.iter().find(|(name, _)| name == map)?;
    lines.iter().find_map(|line| {
        let (k, v) = line.trim().split_once(':')?;
        if k.trim().trim_matches('\'').trim_matches('"') != key {
            return None;
        }
        let fields = v.trim().strip_prefix('{')?.strip_suffix('}')?;
        fields.split(", ").find_map(|f| {
            let (name, value) = f.split_once(':')?;
            (name.trim() == field).then(|| value.trim().to_string())
        })
    })
}

/// Whether EventBridge accepts a schedule expression: `rate(N unit)` with N a positive whole number and the unit
/// singular exactly when N is 1, or `cron(...)` with six fields.
fn valid_schedule(expression: &str) -> Result<(), String> {
    if let Some(rate) = expression.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let (value, unit) = rate.split_once(' ').ok_or("rate() needs `value unit`")?;
        let value: u64 = value.parse().map_err(|_| format!("`{value}` is not a whole number"))?;
        if value == 0 {
            return Err("a rate must be positive".into());
        }
        let (singular, plural) = match unit.trim_end_matches('s') {
            "minute" => ("minute", "minutes"),
            "hour" => ("hour", "hours"),
            "day" => ("day", "days"),
            other => return Err(format!("`{other}` is not minute, hour or day")),
        };
        let expected = if value == 1 { singular } else { plural };
        return if unit == expected {
            Ok(())
        } else {
            Err(format!("rate({value} {unit}): EventBridge wants `{expected}`"))
        };
    }
    if let Some(cron) = expression.strip_prefix("cron(").and_then(|c| c.strip_suffix(')')) {
        let fields = cron.split_whitespace().count();
        return if fields == 6 {
            Ok(())
        } else {
            Err(format!("cron() has {fields} fields, not 6"))
        };
    }
    Err("neither rate(...) nor cron(...)".into())
}

/// Every schedule the template declares, rendered for every allowed value: (resource, rendering, expression).
fn rendered_schedules(template: &str) -> Vec<(String, String, String)> {
    let mut rendered = Vec::new();
    for (resource, lines) in resources(template) {
        for line in &lines {
            let Some(value) = line.trim().strip_prefix("Schedule:").map(str::trim) else {
                continue;
            };
            if value.is_empty() {
                continue; // an event named Schedule
            }
            if let Some(args) = value.strip_prefix("!FindInMap") {
                let args = flow_list(args);
                let [map, parameter, field] = args.as_slice() else {
                    panic!("{resource}: `{value}` is not [Map, !Ref Parameter, Key]");
                };
                let parameter = parameter
                    .strip_prefix("!Ref ")
                    .unwrap_or_else(|| panic!("{resource}: `{value}` does not key the map by a parameter"));
                let values = allowed_values(template, parameter).unwrap_or_else(|| {
                    panic!("{resource}: {parameter} has no AllowedValues, so its schedules cannot all be checked")
                });
                for allowed in values {
                    let expression = mapping(template, map, &allowed, field)
                        .unwrap_or_else(|| panic!("{resource}: {map} has no {field} for {parameter}={allowed}"));
                    rendered.push((resource.to_string(), format!("{parameter}={allowed}"), expression));
                }
            } else if value.starts_with('!') {
                panic!("{resource}: `{value}` cannot be proven valid for every parameter value; use a mapping");
            } else {
                rendered.push((resource.to_string(), "literal".to_string(), value.to_string()));
            }
        }
    }
    rendered
}

#[test]
fn the_schedule_checker_refuses_what_eventbridge_refuses() {
    for good in [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(2 days)",
        "cron(0 12 * * ? *)",
    ] {
        assert_eq!(valid_schedule(good), Ok(()), "{good}");
    }
    for bad in [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(1.5 minutes)",
        "rate(5 weeks)",
        "rate(5)",
        "cron(0 12 * * ?)",
        "every 5 minutes",
    ] {
        assert!(valid_schedule(bad).is_err(), "{bad} was accepted");
    }
}

#[test]
fn every_schedule_is_valid_for_every_allowed_parameter_value() {
    let rendered = rendered_schedules(TEMPLATE);
    let mut failures = Vec::new();
    for (resource, rendering, expression) in &rendered {
        if let Err(why) = valid_schedule(expression) {
            failures.push(format!("{resource} with {rendering}: `{expression}`: {why}"));
        }
    }
    assert!(failures.is_empty(), "invalid schedules:\n{}", failures.join("\n"));
    // Each scheduled function was rendered for each value of its interval parameter.
    for (resource, parameter) in [
        ("AutoApproverFunction", "SweepIntervalMinutes"),
        ("BlackDayGateFunction", "SweepIntervalMinutes"),
        ("SyntheticCanaryFunction", "CanaryIntervalMinutes"),
    ] {
        let values = allowed_values(TEMPLATE, parameter).expect("an interval parameter lists its values");
        let seen = rendered
            .iter()
            .filter(|(r, how, _)| r == resource && how.starts_with(&format!("{parameter}=")))
            .count();
        assert_eq!(seen, values.len(), "{resource}: every value of {parameter} rendered");
        assert!(
            values.contains(&"1".to_string()),
            "{parameter} allows 1, the singular case"
        );
    }
}

#[test]
fn every_schedule_rule_has_a_retry_policy_and_a_dead_letter_queue() {
    for (resource, lines) in resources(TEMPLATE) {
        for (i, line) in lines.iter().enumerate() {
            if line.trim() != "Type: Schedule" {
                continue;
            }
            let depth = line.len() - line.trim_start().len();
            let event: Vec<&str> = lines[i + 1..]
                .iter()
                .copied()
                .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() >= depth)
                .collect();
            let name = lines[i - 1].trim();
            for key in ["RetryPolicy:", "DeadLetterConfig:"] {
                assert!(
                    event.iter().any(|l| l.trim() == key),
                    "{resource} event {name}: no {key} (an undeliverable scheduled event would vanish silently)"
                );
            }
        }
    }
}

// ---- Nothing parked unseen ---------------------------------------------------------------------------------
//
// Every queue holds events that were never handled, so every queue is kept when the stack goes (Retain) and has an
// alarm on its depth, and every function has an alarm on its errors; a block added later (the job reaper) that
// forgets either fails here.

/// The value of a resource's own `key:` (Type, Condition, DeletionPolicy: four spaces in), if it has one.
fn property<'a>(lines: &[&'a str], key: &str) -> Option<&'a str> {
    lines.iter().find_map(|l| {
        let own = l.strip_prefix("    ").filter(|rest| !rest.starts_with(' '))?;
        own.strip_prefix(key)?.strip_prefix(':').map(str::trim)
    })
}

#[test]
fn every_queue_is_retained_and_alarmed_and_every_function_has_an_errors_alarm() {
    let resources = resources(TEMPLATE);
    let alarm_on = |value: &str| {
        resources.iter().find(|(_, lines)| {
            lines.iter().any(|l| l.trim() == "Type: AWS::CloudWatch::Alarm")
                && lines.iter().any(|l| l.trim() == format!("Value: {value}"))
        })
    };
    let mut queues = 0;
    for (name, lines) in &resources {
        let kind = property(lines, "Type").unwrap_or_default();
        let condition = property(lines, "Condition");
        let alarm = match kind {
            "AWS::SQS::Queue" => {
                queues += 1;
                for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
                    assert_eq!(property(lines, policy), Some("Retain"), "{name}: {policy}");
                }
                alarm_on(&format!("!GetAtt {name}.QueueName"))
                    .unwrap_or_else(|| panic!("{name}: no alarm on its depth"))
            }
            "AWS::Serverless::Function" => {
                alarm_on(&format!("!Ref {name}")).unwrap_or_else(|| panic!("{name}: no alarm on its errors"))
            }
            _ => continue,
        };
        let (alarm_name, alarm_lines) = alarm;
        assert_eq!(
            property(alarm_lines, "Condition"),
            condition,
            "{alarm_name} is deployed exactly when {name} is"
        );
        assert!(
            alarm_lines
                .iter()
                .any(|l| l.contains("AlarmActions: !If [HasAlarmNotificationTopic")),
            "{alarm_name} notifies AlarmNotificationTopicArn"
        );
    }
    assert!(queues >= 11, "the template's queues were found ({queues})");
}

// ---- Notices to SNS topics ---------------------------------------------------------------------------------
//
// The failure notifier (an `sns_topic_arn` in SLACK_ROUTES) and the BlackDay gate (HOLD_NOTICE_SNS_TOPIC_ARN) can
// publish to topics of the operator's own. Their roles may do so on exactly the topics the parameters name, and only
// when some are named: an IAM statement with an empty Resource is invalid, and one on `*` would let them publish
// anywhere. Each sns:Publish statement is therefore `!If [Condition, statement, !Ref AWS::NoValue]` over a
// condition that tests the very parameter its Resource names.

/// The functions that publish notices to the topics named by NoticeTopicArns.
const NOTICE_PUBLISHERS: [&str; 2] = ["FailureNotifierFunction", "BlackDayGateFunction"];

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Whether a line is YAML content (not blank, not a comment).
fn content(line: &str) -> bool {
    let trimmed = line.trim();
    !trimmed.is_empty() && !trimmed.starts_with('#')
}

fn resource<'a>(template: &'a str, name: &str) -> Vec<&'a str> {
    resources(template)
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no resource {name}"))
        .1
}

/// A parameter's lines.
fn parameter<'a>(template: &'a str, name: &str) -> Vec<&'a str> {
    entries(&section(template, "Parameters"), 2)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .1
}

/// A parameter's own `key:` (four spaces in), quotes removed.
fn parameter_value(template: &str, name: &str, key: &str) -> Option<String> {
    parameter(template, name).iter().find_map(|l| {
        let own = l.strip_prefix("    ").filter(|rest| !rest.starts_with(' '))?;
        let value = own.strip_prefix(key)?.strip_prefix(':')?.trim();
        Some(value.trim_matches('\'').trim_matches('"').to_string())
    })
}

/// The parameter a condition tests for being non-empty: `!Not [!Equals [!Ref P, '']]`, or for a list
/// `!Not [!Equals [!Join ['', !Ref P], '']]`. Any other form panics: the tests below cannot evaluate it.
fn non_empty_test(template: &str, condition: &str) -> String {
    let expression = section(template, "Conditions")
        .iter()
        .find_map(|l| {
            let (name, expression) = l.strip_prefix("  ")?.split_once(':')?;
            (name == condition).then(|| expression.trim())
        })
        .unwrap_or_else(|| panic!("no condition {condition}"));
    let tested = expression
        .strip_prefix("!Not [!Equals [")
        .and_then(|e| e.strip_suffix(", '']]"))
        .unwrap_or_else(|| panic!("{condition}: `{expression}` is not `!Not [!Equals [..., '']]`"));
    let parameter = tested
        .strip_prefix("!Ref ")
        .or_else(|| tested.strip_prefix("!Join ['', !Ref ")?.strip_suffix(']'))
        .unwrap_or_else(|| panic!("{condition}: `{tested}` is neither !Ref P nor !Join ['', !Ref P]"));
    parameter.to_string()
}

/// One IAM statement of a function's inline policies that allows an SNS action.
#[derive(Debug)]
struct SnsStatement {
    sid: Option<String>,
    /// The `!If` condition the statement is the true branch of, if any (`None`: always there).
    condition: Option<String>,
    resource: String,
}

/// Every statement of a function's inline policies that names an SNS action, with the `!If` around it. A grant of
/// SNS in a form this cannot read (a SAM policy template, a flow-style statement) panics, so that it is looked at.
fn sns_statements(function: &str, lines: &[&str]) -> Vec<SnsStatement> {
    let mut statements = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        // An SNS action (`sns:Publish`, `sns:*`; an ARN's `:sns:` is followed by a region) or a SAM policy template.
        let names_action = trimmed
            .match_indices("sns:")
            .any(|(at, _)| trimmed[at + 4..].starts_with(|c: char| c.is_ascii_uppercase() || c == '*'));
        let policy_template = trimmed.starts_with("- SNS") && trimmed.contains("Policy");
        if !content(line) || !(names_action || policy_template) {
            continue;
        }
        // The `Action:` key: this line, or the one above a `- sns:...` list item.
        let action = if trimmed.starts_with("Action:") {
            i
        } else if trimmed.starts_with("- sns:") {
            (0..i)
                .rev()
                .find(|&j| content(lines[j]) && indent(lines[j]) < indent(line))
                .filter(|&j| lines[j].trim() == "Action:")
                .unwrap_or_else(|| panic!("{function}: `{trimmed}` is not in an Action list"))
        } else {
            panic!("{function}: `{trimmed}` grants SNS in a form this test cannot read");
        };
        let key_indent = indent(lines[action]);
        let start = (0..action)
            .rev()
            .find(|&j| content(lines[j]) && indent(lines[j]) < key_indent)
            .filter(|&j| lines[j].trim_start().starts_with("- ") && indent(lines[j]) + 2 == key_indent)
            .unwrap_or_else(|| panic!("{function}: the statement around `{trimmed}` is not a block list item"));
        let item_indent = indent(lines[start]);
        let body: Vec<&str> = std::iter::once(&lines[start][item_indent + 2..])
            .chain(
                lines[start + 1..]
                    .iter()
                    .take_while(|l| !content(l) || indent(l) > item_indent)
                    .map(|l| l.trim()),
            )
            .collect();
        let key = |key: &str| {
            body.iter()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(':').map(str::trim))
                .map(str::to_string)
        };
        let resource = key("Resource").unwrap_or_else(|| panic!("{function}: an SNS statement has no Resource"));
        // `- !If` / `- Condition` / `- statement` / `- !Ref AWS::NoValue`, all as block list items.
        let before: Vec<usize> = (0..start).rev().filter(|&j| content(lines[j])).take(2).collect();
        let after = lines[start + 1..]
            .iter()
            .find(|l| content(l) && indent(l) <= item_indent);
        let condition = match before.as_slice() {
            [name, open, ..]
                if lines[*open].trim() == "- !If"
                    && indent(lines[*open]) + 2 == item_indent
                    && indent(lines[*name]) == item_indent
                    && lines[*name].trim_start().starts_with("- ") =>
            {
                let else_branch = after.map(|l| l.trim());
                assert_eq!(
                    else_branch,
                    Some("- !Ref AWS::NoValue"),
                    "{function}: a conditional SNS statement is left out, not replaced, when its condition is false"
                );
                Some(lines[*name].trim().trim_start_matches("- ").to_string())
            }
            _ => None,
        };
        statements.push(SnsStatement {
            sid: key("Sid"),
            condition,
            resource,
        });
    }
    statements
}

/// A function's SNS statements that exist when every parameter is at `values` (else at its Default).
fn sns_statements_with(template: &str, function: &str, values: &[(&str, &str)]) -> Vec<SnsStatement> {
    sns_statements(function, &resource(template, function))
        .into_iter()
        .filter(|statement| {
            let Some(condition) = &statement.condition else {
                return true;
            };
            let tested = non_empty_test(template, condition);
            let value = values
                .iter()
                .find(|(name, _)| *name == tested)
                .map(|(_, value)| value.to_string())
                .or_else(|| parameter_value(template, &tested, "Default"))
                .unwrap_or_default();
            // What `!Join ['', list]` or the string itself is: empty exactly when no value is given.
            !value.split(',').map(str::trim).collect::<String>().is_empty()
        })
        .collect()
}

#[test]
fn notice_publishers_may_not_publish_to_sns_with_the_parameters_at_their_defaults() {
    for parameter in ["NoticeTopicArns", "BlackDayHoldNoticeTopicArn"] {
        assert_eq!(
            parameter_value(TEMPLATE, parameter, "Default").as_deref(),
            Some(""),
            "{parameter} defaults to empty"
        );
    }
    assert_eq!(
        parameter_value(TEMPLATE, "NoticeTopicArns", "Type").as_deref(),
        Some("CommaDelimitedList")
    );
    for function in NOTICE_PUBLISHERS {
        let granted = sns_statements_with(TEMPLATE, function, &[]);
        assert!(
            granted.is_empty(),
            "{function}: sns:Publish with the parameters at their defaults: {granted:?}"
        );
    }
}

#[test]
fn notice_publishers_may_publish_to_exactly_the_named_topics() {
    let topics = "arn:aws:sns:eu-west-1:111122223333:deploys,arn:aws:sns:eu-west-1:111122223333:holds";
    for function in NOTICE_PUBLISHERS {
        let granted = sns_statements_with(TEMPLATE, function, &[("NoticeTopicArns", topics)]);
        let resources: Vec<&str> = granted.iter().map(|s| s.resource.as_str()).collect();
        assert_eq!(
            resources,
            ["!Ref NoticeTopicArns"],
            "{function}: sns:Publish on the listed topics alone once NoticeTopicArns names some"
        );
    }
    // The hold notice's topic is granted to the gate by itself, without being listed in NoticeTopicArns too.
    let hold = [("BlackDayHoldNoticeTopicArn", "arn:aws:sns:eu-west-1:111122223333:holds")];
    let granted = sns_statements_with(TEMPLATE, "BlackDayGateFunction", &hold);
    let resources: Vec<&str> = granted.iter().map(|s| s.resource.as_str()).collect();
    assert_eq!(
        resources,
        ["!Ref BlackDayHoldNoticeTopicArn"],
        "the gate may publish its hold notices"
    );
    assert!(
        sns_statements_with(TEMPLATE, "FailureNotifierFunction", &hold).is_empty(),
        "the failure notifier has no business with the hold notice's topic"
    );
}

#[test]
fn every_sns_publish_statement_on_a_parameter_is_conditioned_on_that_parameter() {
    for function in NOTICE_PUBLISHERS {
        let statements = sns_statements(function, &resource(TEMPLATE, function));
        assert!(
            !statements.is_empty(),
            "{function}: its sns:Publish statements were found"
        );
        for statement in statements {
            let SnsStatement {
                sid,
                condition,
                resource,
            } = &statement;
            let named = resource
                .strip_prefix("!Ref ")
                .unwrap_or_else(|| panic!("{function} {sid:?}: Resource `{resource}` is not a parameter's topics"));
            let condition = condition.as_deref().unwrap_or_else(|| {
                panic!("{function} {sid:?}: sns:Publish on {named} is not conditioned on it (empty: invalid IAM)")
            });
            assert_eq!(
                non_empty_test(TEMPLATE, condition),
                named,
                "{function} {sid:?}: conditioned on {condition}, which does not test {named}"
            );
        }
    }
}

#[test]
fn the_blackday_gate_sends_hold_notices_where_the_parameter_says() {
    let gate = resource(TEMPLATE, "BlackDayGateFunction");
    assert_eq!(
        value_after(&gate, "Variables:", blackday_gate::notice::TOPIC_VAR),
        Some("!Ref BlackDayHoldNoticeTopicArn"),
        "the gate's {} comes from BlackDayHoldNoticeTopicArn",
        blackday_gate::notice::TOPIC_VAR
    );
    // Empty means Slack because the gate reads an empty setting as unset; a topic must be a full ARN.
    assert_eq!(
        parameter_value(TEMPLATE, "BlackDayHoldNoticeTopicArn", "Type").as_deref(),
        Some("String")
    );
    // Full ARNs of standard topics, as the template takes AlarmNotificationTopicArn (a wildcard or a partial ARN
    // would be refused by the function, or widen the grant, only after the deploy).
    let topic_arn = parameter_value(TEMPLATE, "AlarmNotificationTopicArn", "AllowedPattern");
    assert!(topic_arn.as_deref().is_some_and(|p| p.starts_with("^(arn:aws")));
    for parameter in ["BlackDayHoldNoticeTopicArn", "NoticeTopicArns"] {
        assert_eq!(
            parameter_value(TEMPLATE, parameter, "AllowedPattern"),
            topic_arn,
            "{parameter}: a topic ARN or empty"
        );
    }
    // The failure notifier's routes, SNS ones included, still come from SlackRoutes.
    let notifier = resource(TEMPLATE, "FailureNotifierFunction");
    assert_eq!(
        value_after(&notifier, "Variables:", failure_notifier::routing::ROUTES_VAR),
        Some("!Ref SlackRoutes")
    );
}
