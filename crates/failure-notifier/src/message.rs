//! The Slack message for one failed action: what failed, why, which change, and where to look.

use hooks_common::console::execution_url as console_execution_url;
use hooks_common::slack::SlackMessage;
use hooks_common::slack::blocks::{context, divider, escape, fields, header, link, section};

use crate::enrich::{Enrichment, Revision};
use crate::triage::ActionFailure;

/// A short id for a commit, as people quote them; other revision ids (S3 versions, image digests) stay whole.
pub(crate) fn short_revision(id: &str) -> &str {
    let is_commit = id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit());
    if is_commit { &id[..7] } else { id }
}

pub(crate) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}

/// The error worth reading: the action's own error message when CodePipeline had one, else the summary.
pub(crate) fn error_text(failure: &ActionFailure, enrichment: &Enrichment) -> Option<String> {
    let run = enrichment.action_run.as_ref().ok().and_then(Option::as_ref);
    run.and_then(|r| r.error_message.clone())
        .or_else(|| run.and_then(|r| r.external_summary.clone()))
        .or_else(|| failure.summary.clone())
        .filter(|t| !t.trim().is_empty())
}

fn revision_line(revision: &Revision) -> String {
    let id = escape(short_revision(&revision.revision_id));
    let id = match revision.url.as_deref().and_then(|url| link(url, &id)) {
        Some(linked) => linked,
        None => format!("`{id}`"),
    };
    match &revision.message {
        Some(message) => format!("{id} {}", escape(first_line(message))),
        None => id,
    }
}

pub fn render(failure: &ActionFailure, enrichment: &Enrichment) -> SlackMessage {
    let console = console_execution_url(&failure.region, &failure.pipeline, &failure.execution_id);
    let run = enrichment.action_run.as_ref().ok().and_then(Option::as_ref);
    let error_code = run
        .and_then(|r| r.error_code.clone())
        .or_else(|| failure.error_code.clone());
    let external_url = run
        .and_then(|r| r.external_url.clone())
        .or_else(|| failure.external_url.clone());
    let error = error_text(failure, enrichment);
    let provider = failure.provider.clone().unwrap_or_else(|| "unknown".to_owned());

    let mut blocks = vec![
        header(&format!(
            "❌ {} failed at {} › {}",
            failure.pipeline, failure.stage, failure.action
        )),
        fields(&[
            ("Pipeline", escape(&failure.pipeline)),
            (
                "Stage › Action",
                format!("{} › {}", escape(&failure.stage), escape(&failure.action)),
            ),
            ("Provider", escape(&provider)),
            ("Error code", escape(error_code.as_deref().unwrap_or("not reported"))),
            (
                "Execution",
                link(&console, &failure.execution_id).unwrap_or_else(|| escape(&failure.execution_id)),
            ),
            ("Region", escape(&failure.region)),
        ]),
    ];
    if let Some(error) = &error {
        blocks.push(section(&format!("*Error*\n```{}```", escape(error))));
    }
    match &enrichment.revisions {
        Ok(revisions) if !revisions.is_empty() => {
            let lines: Vec<String> = revisions.iter().map(revision_line).collect();
            blocks.push(section(&format!("*Revision*\n{}", lines.join("\n"))));
        }
        _ => {}
    }
    blocks.push(divider());
    let mut links = vec![link(&console, "View the execution in CodePipeline").unwrap_or_default()];
    if let Some(linked) = external_url
        .as_deref()
        .and_then(|url| link(url, &format!("Open the {provider} run")))
    {
        links.push(linked);
    }
    blocks.push(context(&[links.join("  •  ")]));
    let problems: Vec<&str> = [
        enrichment.revisions.as_ref().err(),
        enrichment.action_run.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    .map(String::as_str)
    .collect();
    if !problems.is_empty() {
        blocks.push(context(&[format!(
            "⚠️ Some details were unavailable: {}",
            escape(&problems.join("; "))
        )]));
    }

    let mut text = format!(
        "{} failed at {} › {} ({})",
        failure.pipeline,
        failure.stage,
        failure.action,
        error_code.as_deref().unwrap_or("no error code")
    );
    if let Some(error) = &error {
        text.push_str(&format!(": {}", first_line(error)));
    }
    if let Ok([revision, ..]) = enrichment.revisions.as_deref() {
        text.push_str(&format!(". Revision {}", short_revision(&revision.revision_id)));
        if let Some(message) = &revision.message {
            text.push_str(&format!(" \"{}\"", first_line(message)));
        }
    }
    text.push_str(&format!(". {console}"));
    SlackMessage::new(text, blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::ActionRun;

    fn failure() -> ActionFailure {
        ActionFailure {
            pipeline: "demo-app".into(),
            execution_id: "0d1e2f30-1111-4222-8333-444455556666".into(),
            stage: "Build".into(),
            action: "Compile".into(),
            region: "eu-west-1".into(),
            provider: Some("CodeBuild".into()),
            category: Some("Build".into()),
            error_code: Some("JobFailed".into()),
            summary: Some("Build terminated with state: FAILED".into()),
            external_url: Some("https://console.aws.amazon.com/codebuild/run/1".into()),
            external_id: Some("demo-app-build:1".into()),
        }
    }

    fn enriched() -> Enrichment {
        Enrichment {
            revisions: Ok(vec![Revision {
                artifact: "SourceArtifact".into(),
                revision_id: "4f9c2a1b7d3e5f60718293a4b5c6d7e8f9012345".into(),
                message: Some("Make checkout <faster>\n\nDetails".into()),
                url: Some("https://github.com/acme/demo-app/commit/4f9c2a1".into()),
            }]),
            action_run: Ok(Some(ActionRun {
                action_execution_id: Some("ae-1".into()),
                error_code: Some("JobFailed".into()),
                error_message: Some("Phase BUILD: 3 tests failed in checkout_test.rs".into()),
                external_url: Some("https://console.aws.amazon.com/codebuild/run/1".into()),
                external_summary: None,
            })),
        }
    }

    fn all_text(message: &SlackMessage) -> String {
        serde_json::to_string(&message.blocks).unwrap()
    }

    #[test]
    fn a_full_message_names_everything_a_person_needs() {
        let message = render(&failure(), &enriched());
        let blocks = all_text(&message);
        for expected in [
            "demo-app failed at Build › Compile",
            "CodeBuild",
            "JobFailed",
            "3 tests failed in checkout_test.rs",
            "4f9c2a1",
            "Make checkout &lt;faster&gt;",
            "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/demo-app/executions/0d1e2f30-1111-4222-8333-444455556666/timeline?region=eu-west-1",
            "https://console.aws.amazon.com/codebuild/run/1|Open the CodeBuild run",
        ] {
            assert!(blocks.contains(expected), "missing {expected:?} in {blocks}");
        }
        assert!(
            !blocks.contains("Details"),
            "only the commit's first line belongs in the message"
        );
        assert!(!blocks.contains("unavailable"));
        assert_eq!(
            message.text,
            "demo-app failed at Build › Compile (JobFailed): Phase BUILD: 3 tests failed in checkout_test.rs. \
             Revision 4f9c2a1 \"Make checkout &lt;faster&gt;\". https://eu-west-1.console.aws.amazon.com/codesuite/\
             codepipeline/pipelines/demo-app/executions/0d1e2f30-1111-4222-8333-444455556666/timeline?region=eu-west-1"
        );
    }

    #[test]
    fn without_details_the_event_still_makes_a_message_and_says_so() {
        let message = render(&failure(), &Enrichment::unavailable("no time left"));
        let blocks = all_text(&message);
        assert!(blocks.contains("Build terminated with state: FAILED"), "{blocks}");
        assert!(
            blocks.contains("Some details were unavailable: no time left"),
            "{blocks}"
        );
        assert!(blocks.contains("Open the CodeBuild run"), "{blocks}");
        assert!(
            message
                .text
                .starts_with("demo-app failed at Build › Compile (JobFailed)")
        );
    }

    #[test]
    fn minimal_failures_render_without_optional_parts() {
        let bare = ActionFailure {
            provider: None,
            error_code: None,
            summary: None,
            external_url: None,
            ..failure()
        };
        let enrichment = Enrichment {
            revisions: Ok(vec![]),
            action_run: Ok(None),
        };
        let message = render(&bare, &enrichment);
        let blocks = all_text(&message);
        assert!(blocks.contains("not reported"));
        assert!(!blocks.contains("*Error*"));
        assert!(!blocks.contains("*Revision*"));
        assert!(!blocks.contains("Open the"));
    }

    #[test]
    fn revision_ids_shorten_only_when_they_are_commits() {
        assert_eq!(short_revision("4f9c2a1b7d3e5f60718293a4b5c6d7e8f9012345"), "4f9c2a1");
        assert_eq!(short_revision("v1.2.3"), "v1.2.3");
        assert_eq!(short_revision("abc"), "abc");
    }
}
