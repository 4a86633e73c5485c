//! Contract tests for S3: the real `aws-sdk-s3` (REST-XML, path-style against an endpoint override, as a function
//! configured with `AWS_ENDPOINT_URL_S3` addresses it), signed with a job's artifact credentials, reads artifact
//! objects from the simulator, and gets S3's errors as S3 sends them: `NoSuchKey` as the operation's modeled
//! variant, the others with their S3 codes.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::error::ProvideErrorMetadata;
use pipeline_sim::artifacts::zip_artifact;
use pipeline_sim::codepipeline::artifact_bucket;
use pipeline_sim::model::{ActionDecl, ActionType, ArtifactCredentials, Pipeline, StageDecl};
use pipeline_sim::{Fault, FaultKind, Service, Simulator};

mod support;

const PIPELINE: &str = "storefront";
const KEY: &str = "storefront/BuildArtifact/a1b2c3d";

/// A simulator with a pipeline whose Test action has a job in progress; that job's artifact credentials.
async fn start() -> (Simulator, ArtifactCredentials) {
    let sim = Simulator::start().await.expect("simulator starts");
    let credentials = {
        let mut world = sim.state.world();
        world.put_pipeline(Pipeline::new(
            PIPELINE,
            vec![
                StageDecl::single("Build", ActionDecl::new("Build", ActionType::aws("Build", "CodeBuild"))),
                StageDecl::single(
                    "Test",
                    ActionDecl::new("Smoke", ActionType::lambda_invoke()).with_config("FunctionName", "runner"),
                ),
            ],
        ));
        let execution = world.start_execution(PIPELINE, Vec::new()).unwrap();
        world.start_action(&execution, "Test", "Smoke").unwrap();
        let job = world
            .create_job(&execution, "Test", "Smoke", None, Duration::from_secs(60))
            .unwrap();
        world.job(&job).unwrap().credentials.clone()
    };
    (sim, credentials)
}

/// An S3 client of the SDK (the runner signs its own GetObject, but the simulator must answer the SDK as S3 does):
/// the job's credentials, path-style addressing for the endpoint
/// override, three attempts with millisecond backoff.
async fn client(sim: &Simulator, credentials: Option<&ArtifactCredentials>) -> Client {
    let loader = support::sdk_loader(sim);
    let loader = match credentials {
        Some(c) => loader.credentials_provider(Credentials::new(
            &c.access_key_id,
            &c.secret_access_key,
            Some(c.session_token.clone()),
            None,
            "codepipeline-job",
        )),
        // The SDK's test credentials: a principal that is not the job.
        None => loader.test_credentials(),
    };
    let config = aws_sdk_s3::config::Builder::from(&loader.load().await)
        .force_path_style(true)
        .build();
    Client::from_conf(config)
}

#[tokio::test]
async fn get_object_returns_the_artifact_to_the_jobs_credentials() {
    let (sim, credentials) = start().await;
    let zip = zip_artifact([("checks/smoke.json", r#"{"checks": []}"#)]);
    sim.state.s3().put_object(&artifact_bucket(), KEY, zip.clone());
    let client = client(&sim, Some(&credentials)).await;

    let out = client
        .get_object()
        .bucket(artifact_bucket())
        .key(KEY)
        .send()
        .await
        .expect("GetObject parses");
    assert_eq!(out.content_length(), Some(zip.len() as i64));
    assert_eq!(out.content_type(), Some("application/zip"));
    assert!(out.e_tag().is_some_and(|t| t.starts_with('"')), "{:?}", out.e_tag());
    assert!(out.last_modified().is_some());
    let body = out.body.collect().await.expect("the body streams").into_bytes();
    assert_eq!(body.as_ref(), zip.as_slice());
    assert_eq!(sim.state.call_count(Service::S3, "GetObject"), 1);
}

#[tokio::test]
async fn a_request_signed_with_the_wrong_secret_is_refused_as_s3_refuses_it() {
    let (sim, mut credentials) = start().await;
    sim.state
        .s3()
        .put_object(&artifact_bucket(), KEY, zip_artifact([("a", "b")]));
    // The job's key id and session token, another secret: only the signature can tell.
    credentials.secret_access_key.push('x');
    let err = client(&sim, Some(&credentials))
        .await
        .get_object()
        .bucket(artifact_bucket())
        .key(KEY)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
}

#[tokio::test]
async fn a_missing_key_is_the_modeled_no_such_key() {
    let (sim, credentials) = start().await;
    sim.state.s3().create_bucket(&artifact_bucket());
    let err = client(&sim, Some(&credentials))
        .await
        .get_object()
        .bucket(artifact_bucket())
        .key("storefront/BuildArtifact/missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_key(), "{err:?}");
    assert_eq!(err.code(), Some("NoSuchKey"));
    assert_eq!(err.message(), Some("The specified key does not exist."));
}

#[tokio::test]
async fn other_errors_carry_s3s_codes() {
    let (sim, credentials) = start().await;
    sim.state.s3().put_object(&artifact_bucket(), KEY, b"zip".to_vec());

    // GetObject models only NoSuchKey and InvalidObjectState: these arrive unmodeled, with S3's code and status.
    let err = client(&sim, Some(&credentials))
        .await
        .get_object()
        .bucket("no-such-bucket")
        .key(KEY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    let err = err.into_service_error();
    assert_eq!(err.code(), Some("NoSuchBucket"), "{err:?}");

    // Signed by anyone but a job (here the SDK's test credentials): refused, as the artifact bucket refuses.
    let err = client(&sim, None)
        .await
        .get_object()
        .bucket(artifact_bucket())
        .key(KEY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(err.into_service_error().code(), Some("AccessDenied"));
}

#[tokio::test]
async fn faults_reach_s3_and_the_sdk_retries_them() {
    let (sim, credentials) = start().await;
    sim.state.s3().put_object(&artifact_bucket(), KEY, b"zip".to_vec());
    let client = client(&sim, Some(&credentials)).await;

    // Two 500s, then the object: within the three attempts.
    sim.state
        .faults
        .inject(Fault::new(Service::S3, FaultKind::ServerError).on("GetObject").times(2));
    let out = client.get_object().bucket(artifact_bucket()).key(KEY).send().await;
    assert!(out.is_ok(), "{out:?}");
    assert_eq!(sim.state.call_count(Service::S3, "GetObject"), 3);

    // 500 on every attempt: the call fails with S3's InternalError.
    sim.state.faults.inject(Fault::new(Service::S3, FaultKind::ServerError));
    let err = client
        .get_object()
        .bucket(artifact_bucket())
        .key(KEY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(err.into_service_error().code(), Some("InternalError"));
    assert_eq!(sim.state.call_count(Service::S3, "GetObject"), 6);

    // Throttling is S3's 503 SlowDown.
    sim.state.faults.clear();
    sim.state.faults.inject(Fault::new(Service::S3, FaultKind::Throttle));
    let err = client
        .get_object()
        .bucket(artifact_bucket())
        .key(KEY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert_eq!(err.into_service_error().code(), Some("SlowDown"));
}
