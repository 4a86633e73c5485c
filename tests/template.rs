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
        let is_resource = line.starts_with("  ") && !line.starts_with("   ") && line.trim_end().ends_with(':');
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
            "failure-notifier",
            "post-deploy-test-runner",
            "synthetic-canary"
        ],
        "every deployed function was compared"
    );
}
