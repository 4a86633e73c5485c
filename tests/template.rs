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
