//! Links to the CodePipeline console, built from names we read from CodePipeline, never copied from a message:
//! whoever can publish to a topic could otherwise choose where "Review the approval" takes a person.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters, so a name with `/` or spaces stays one path segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn segment(text: &str) -> String {
    utf8_percent_encode(text, PATH_SEGMENT).to_string()
}

/// The console page of one execution, as AWS's own notifiers link it.
pub fn execution_url(region: &str, pipeline: &str, execution_id: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{}/executions/{}/timeline?region={region}",
        segment(pipeline),
        segment(execution_id),
    )
}

/// The console page of a pipeline, where its pending approvals are reviewed and its transitions are opened.
pub fn pipeline_url(region: &str, pipeline: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{}/view?region={region}",
        segment(pipeline)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_one_path_segment() {
        assert_eq!(
            execution_url("eu-west-1", "shop/prod x", "e-1"),
            "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/shop%2Fprod%20x/executions/e-1/timeline?region=eu-west-1"
        );
        assert_eq!(
            pipeline_url("us-east-1", "shop"),
            "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/shop/view?region=us-east-1"
        );
    }
}
