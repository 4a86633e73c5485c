//! The same failure as readable plain text, for destinations that are not Slack: an SNS topic's email, Chatbot or
//! pager subscribers get the subject and this text (no Slack markup, nothing escaped), with message attributes to
//! filter on (`pipeline`, `stage`, `action`, `kind`, `error_code`).

use std::collections::BTreeMap;

use hooks_common::console::execution_url;
use hooks_common::notice::Notice;
use hooks_common::slack::SlackMessage;

use crate::enrich::Enrichment;
use crate::message::{error_text, first_line, short_revision};
use crate::triage::ActionFailure;

pub fn notice(failure: &ActionFailure, enrichment: &Enrichment, slack: SlackMessage) -> Notice {
    let console = execution_url(&failure.region, &failure.pipeline, &failure.execution_id);
    let run = enrichment.action_run.as_ref().ok().and_then(Option::as_ref);
    let error_code = run
        .and_then(|r| r.error_code.clone())
        .or_else(|| failure.error_code.clone());
    let external_url = run
        .and_then(|r| r.external_url.clone())
        .or_else(|| failure.external_url.clone());
    let provider = failure.provider.clone().unwrap_or_else(|| "unknown".to_owned());
    let headline = format!("{} failed at {} › {}", failure.pipeline, failure.stage, failure.action);

    let mut lines = vec![
        headline.clone(),
        String::new(),
        format!("Pipeline:   {}", failure.pipeline),
        format!("Stage:      {}", failure.stage),
        format!("Action:     {} ({provider})", failure.action),
        format!("Error code: {}", error_code.as_deref().unwrap_or("not reported")),
        format!("Region:     {}", failure.region),
        format!("Execution:  {}", failure.execution_id),
    ];
    if let Some(error) = error_text(failure, enrichment) {
        lines.extend([String::new(), "Error:".to_owned(), error]);
    }
    if let Ok(revisions) = &enrichment.revisions
        && !revisions.is_empty()
    {
        lines.extend([String::new(), "Revision:".to_owned()]);
        for revision in revisions {
            let mut line = format!("  {}", short_revision(&revision.revision_id));
            if let Some(message) = &revision.message {
                line.push_str(&format!(" {}", first_line(message)));
            }
            if let Some(url) = &revision.url {
                line.push_str(&format!(" <{url}>"));
            }
            lines.push(line);
        }
    }
    lines.extend([String::new(), format!("View the execution: {console}")]);
    if let Some(url) = external_url {
        lines.push(format!("The {provider} run: {url}"));
    }
    let problems: Vec<&str> = [
        enrichment.revisions.as_ref().err(),
        enrichment.action_run.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    .map(String::as_str)
    .collect();
    if !problems.is_empty() {
        lines.push(format!("Some details were unavailable: {}", problems.join("; ")));
    }

    let mut attributes = BTreeMap::from([
        ("pipeline".to_owned(), failure.pipeline.clone()),
        ("stage".to_owned(), failure.stage.clone()),
        ("action".to_owned(), failure.action.clone()),
        ("kind".to_owned(), "action-failed".to_owned()),
    ]);
    if let Some(code) = error_code {
        attributes.insert("error_code".to_owned(), code);
    }
    Notice {
        subject: headline,
        text: lines.join("\n") + "\n",
        slack,
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::{ActionRun, Revision};

    fn failure() -> ActionFailure {
        ActionFailure {
            pipeline: "shop".into(),
            execution_id: "e-1".into(),
            stage: "Build".into(),
            action: "Unit".into(),
            region: "eu-west-1".into(),
            provider: Some("CodeBuild".into()),
            category: Some("Build".into()),
            error_code: Some("JobFailed".into()),
            summary: Some("Build terminated with state: FAILED".into()),
            external_url: None,
            external_id: None,
        }
    }

    #[test]
    fn reads_as_plain_text_with_the_links_and_filterable_attributes() {
        let enrichment = Enrichment {
            revisions: Ok(vec![Revision {
                artifact: "SourceArtifact".into(),
                revision_id: "c0ffee0c0ffee0c0ffee".into(),
                message: Some("Fix <cart> & prices\n\nlong body".into()),
                url: Some("https://github.com/acme/shop/commit/c0ffee0".into()),
            }]),
            action_run: Ok(Some(ActionRun {
                error_message: Some("3 tests failed".into()),
                external_url: Some("https://console.aws.amazon.com/codebuild/b/1".into()),
                ..ActionRun::default()
            })),
        };
        let notice = notice(&failure(), &enrichment, SlackMessage::new("x", vec![]));
        assert_eq!(notice.subject, "shop failed at Build › Unit");
        for expected in [
            "Error code: JobFailed",
            "Error:\n3 tests failed\n",
            "  c0ffee0 Fix <cart> & prices <https://github.com/acme/shop/commit/c0ffee0>",
            "View the execution: https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/shop/executions/e-1/timeline?region=eu-west-1",
            "The CodeBuild run: https://console.aws.amazon.com/codebuild/b/1",
        ] {
            assert!(notice.text.contains(expected), "{expected:?} not in {}", notice.text);
        }
        assert!(
            !notice.text.contains("&lt;"),
            "nothing escaped for Slack: {}",
            notice.text
        );
        assert_eq!(notice.attributes["error_code"], "JobFailed");
        assert_eq!(notice.attributes["kind"], "action-failed");
    }

    #[test]
    fn says_which_details_were_unavailable() {
        let notice = notice(
            &failure(),
            &Enrichment::unavailable("CodePipeline did not answer"),
            SlackMessage::new("x", vec![]),
        );
        assert!(
            notice.text.contains("Error:\nBuild terminated with state: FAILED"),
            "{}",
            notice.text
        );
        assert!(
            notice
                .text
                .contains("Some details were unavailable: CodePipeline did not answer"),
            "{}",
            notice.text
        );
    }
}
