//! Which input artifact holds the suite file, as a pure function of the job's input artifacts and the reference
//! in `suite_from_artifact`: a plain path when the action has exactly one input artifact, `ArtifactName::path`
//! (CodePipeline's own convention) to pick one of several.

use std::fmt;

use checks::{ArtifactFile, FieldError};

/// An input artifact of the job, as its event names and places it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputArtifact {
    /// Empty when the event gives no name (it always does for declared input artifacts).
    pub name: String,
    /// `None` when the event gives no complete S3 location.
    pub location: Option<S3Location>,
}

/// Where an artifact's zip lives in the pipeline's artifact store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// The artifact the suite file is in, with its location.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Located<'a> {
    pub name: &'a str,
    pub location: &'a S3Location,
}

const FIELD: &str = checks::suite::ARTIFACT_KEY;

fn names(artifacts: &[InputArtifact]) -> String {
    artifacts
        .iter()
        .map(|a| {
            if a.name.is_empty() {
                "(unnamed)"
            } else {
                a.name.as_str()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The input artifact `file` is in. Errors name `suite_from_artifact`, what the action has, and the fix.
pub fn locate<'a>(artifacts: &'a [InputArtifact], file: &ArtifactFile) -> Result<Located<'a>, FieldError> {
    let chosen = match (artifacts, &file.artifact) {
        ([], _) => {
            return Err(FieldError::new(
                FIELD,
                format!("names {file}, but the action has no input artifact"),
                "add the artifact that holds the file (e.g. the build's output) to the action's InputArtifacts",
            ));
        }
        ([only], None) => only,
        (several, None) => {
            let first = several.first().map_or("BuildOutput", |a| a.name.as_str());
            return Err(FieldError::new(
                FIELD,
                format!(
                    "names {file}, but the action has {} input artifacts ({}): which one holds it?",
                    several.len(),
                    names(several)
                ),
                format!(
                    "name the artifact before the path, CodePipeline's ArtifactName::path form: \"{first}::{}\"",
                    file.path
                ),
            ));
        }
        (all, Some(wanted)) => all.iter().find(|a| &a.name == wanted).ok_or_else(|| {
            FieldError::new(
                FIELD,
                format!(
                    "names the artifact {wanted}, but the action's input artifacts are {}",
                    names(all)
                ),
                "use the name of one of the action's input artifacts (names are case-sensitive), or add \
                 the artifact to the action's InputArtifacts",
            )
        })?,
    };
    let location = chosen.location.as_ref().ok_or_else(|| {
        FieldError::new(
            FIELD,
            format!(
                "names {file}, but the job gives input artifact {} no S3 location",
                chosen.name
            ),
            "keep the pipeline's artifact store in S3 (the only store CodePipeline has)",
        )
    })?;
    Ok(Located {
        name: &chosen.name,
        location,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(name: &str) -> InputArtifact {
        InputArtifact {
            name: name.into(),
            location: Some(S3Location {
                bucket: "codepipeline-us-east-1-123456789012".into(),
                key: format!("storefront/{name}/Xk3Lm9Q"),
            }),
        }
    }

    fn file(reference: &str) -> ArtifactFile {
        match reference.split_once("::") {
            Some((artifact, path)) => ArtifactFile {
                artifact: Some(artifact.into()),
                path: path.into(),
            },
            None => ArtifactFile {
                artifact: None,
                path: reference.into(),
            },
        }
    }

    /// The artifact chosen, or words of the problem and of the fix.
    type Expected = Result<&'static str, (&'static str, &'static str)>;

    #[test]
    fn the_artifact_is_the_only_one_or_the_one_named() {
        let build = artifact("BuildOutput");
        let source = artifact("SourceOutput");
        let mut unplaced = artifact("Unplaced");
        unplaced.location = None;
        // (input artifacts, reference, the artifact chosen, or words of the problem and the fix)
        let cases: Vec<(Vec<InputArtifact>, &str, Expected)> = vec![
            (vec![build.clone()], "checks/smoke.json", Ok("BuildOutput")),
            (vec![build.clone()], "BuildOutput::checks/smoke.json", Ok("BuildOutput")),
            (
                vec![build.clone(), source.clone()],
                "SourceOutput::checks/smoke.json",
                Ok("SourceOutput"),
            ),
            (
                vec![],
                "checks/smoke.json",
                Err(("has no input artifact", "to the action's InputArtifacts")),
            ),
            (
                vec![],
                "BuildOutput::checks/smoke.json",
                Err(("has no input artifact", "to the action's InputArtifacts")),
            ),
            (
                vec![build.clone(), source.clone()],
                "checks/smoke.json",
                Err((
                    "has 2 input artifacts (BuildOutput, SourceOutput)",
                    "\"BuildOutput::checks/smoke.json\"",
                )),
            ),
            (
                vec![build.clone(), source.clone()],
                "buildoutput::checks/smoke.json",
                Err(("input artifacts are BuildOutput, SourceOutput", "case-sensitive")),
            ),
            (
                vec![build.clone()],
                "SourceOutput::checks/smoke.json",
                Err(("names the artifact SourceOutput", "InputArtifacts")),
            ),
            (
                vec![unplaced],
                "checks/smoke.json",
                Err(("no S3 location", "artifact store in S3")),
            ),
        ];
        for (artifacts, reference, expected) in cases {
            let got = locate(&artifacts, &file(reference));
            match (got, expected) {
                (Ok(located), Ok(name)) => {
                    assert_eq!(located.name, name, "{reference}");
                    assert!(located.location.key.contains(name), "{reference}");
                }
                (Err(e), Err((problem, fix))) => {
                    assert_eq!(e.field, "suite_from_artifact");
                    assert!(e.problem.contains(problem), "{reference}: {problem:?} not in {e}");
                    assert!(e.fix.contains(fix), "{reference}: {fix:?} not in {e}");
                }
                (got, expected) => panic!("{reference}: got {got:?}, expected {expected:?}"),
            }
        }
    }
}
