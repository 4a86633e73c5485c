//! Contract tests for stage transitions and SNS Publish: the real AWS SDK, pointed at the simulator, disables and
//! enables transitions, reads them back in `GetPipelineState`, publishes to topics, and gets every error as the
//! operation's modeled variant (or, for throttling, the code the SDK's retry treats as throttling).

use std::time::Duration;

use aws_sdk_codepipeline::error::ProvideErrorMetadata;
use aws_sdk_codepipeline::types::StageTransitionType;
use aws_sdk_sns::types::MessageAttributeValue;
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::{ACCOUNT, Simulator, samples};

mod support;
use support::sdk_config;

async fn start() -> Simulator {
    let sim = Simulator::start().await.expect("simulator starts");
    sim.state.world().put_pipeline(samples::pipeline());
    sim
}

async fn codepipeline(sim: &Simulator) -> aws_sdk_codepipeline::Client {
    aws_sdk_codepipeline::Client::new(&sdk_config(sim, Duration::from_secs(5)).await)
}

async fn sns(sim: &Simulator) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&sdk_config(sim, Duration::from_secs(5)).await)
}

const PIPELINE: &str = samples::PIPELINE;

#[tokio::test]
async fn a_disabled_transition_shows_who_when_and_why_until_enabled() {
    let sim = start().await;
    let client = codepipeline(&sim).await;
    // The hostile alarm name sanitised as the transition disabler writes it, at the full 300 characters.
    let reason = format!(
        "Closed by the transition disabler (alarm {}) is ALARM",
        "x-".repeat(150)
    );
    let reason = &reason[..300];
    client
        .disable_stage_transition()
        .pipeline_name(PIPELINE)
        .stage_name("Deploy")
        .transition_type(StageTransitionType::Inbound)
        .reason(reason)
        .send()
        .await
        .expect("disable accepted");
    let state = client.get_pipeline_state().name(PIPELINE).send().await.unwrap();
    let stages = state.stage_states();
    assert!(
        stages[0].inbound_transition_state().is_none(),
        "the first stage has no inbound transition"
    );
    assert!(stages[1].inbound_transition_state().unwrap().enabled());
    let deploy = stages[2].inbound_transition_state().unwrap();
    assert!(!deploy.enabled());
    assert_eq!(deploy.disabled_reason(), Some(reason));
    assert_eq!(
        deploy.last_changed_by(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/simulator-role/ANOTREAL").as_str()),
        "the caller, from its access key"
    );
    let changed = deploy.last_changed_at().unwrap().to_millis().unwrap();
    assert!((chrono::Utc::now().timestamp_millis() - changed).abs() < 5_000);

    // Outbound of Build is the inbound transition of Deploy.
    client
        .enable_stage_transition()
        .pipeline_name(PIPELINE)
        .stage_name("Build")
        .transition_type(StageTransitionType::Outbound)
        .send()
        .await
        .expect("enable accepted");
    let state = client.get_pipeline_state().name(PIPELINE).send().await.unwrap();
    let deploy = state.stage_states()[2].inbound_transition_state().unwrap();
    assert!(deploy.enabled() && deploy.disabled_reason().is_none());
    assert_eq!(sim.state.world().transitions.changes_of(PIPELINE, "Deploy").len(), 2);
}

#[tokio::test]
async fn registered_callers_and_people_are_recorded_as_themselves() {
    let sim = start().await;
    sim.state
        .world()
        .transitions
        .register_caller("ANOTREAL", "arn:aws:sts::123456789012:assumed-role/Role/fn");
    let client = codepipeline(&sim).await;
    client
        .disable_stage_transition()
        .pipeline_name(PIPELINE)
        .stage_name("Deploy")
        .transition_type(StageTransitionType::Inbound)
        .reason("Automation")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sim.transition(PIPELINE, "Deploy").last_changed_by.as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/Role/fn")
    );
    sim.enable_transition_as_person(PIPELINE, "Deploy").unwrap();
    let state = client.get_pipeline_state().name(PIPELINE).send().await.unwrap();
    let deploy = state.stage_states()[2].inbound_transition_state().unwrap();
    assert!(deploy.enabled());
    assert_eq!(
        deploy.last_changed_by(),
        Some("arn:aws:iam::123456789012:user/release-manager")
    );
    let refused = sim
        .disable_transition_as_person(PIPELINE, "Deploy", "freeze: audit")
        .unwrap_err();
    assert_eq!(refused.code, "ValidationException");
}

#[tokio::test]
async fn transition_errors_are_modeled() {
    let sim = start().await;
    let client = codepipeline(&sim).await;
    let disable = |pipeline: &str, stage: &str, kind: StageTransitionType, reason: &str| {
        client
            .disable_stage_transition()
            .pipeline_name(pipeline)
            .stage_name(stage)
            .transition_type(kind)
            .reason(reason)
            .send()
    };
    let long = "a".repeat(301);
    let cases = [
        (
            disable(
                PIPELINE,
                "Deploy",
                StageTransitionType::Inbound,
                "alarm shop_canary: 5xx",
            )
            .await,
            "ValidationException",
        ),
        (
            disable(PIPELINE, "Deploy", StageTransitionType::Inbound, "a/b").await,
            "ValidationException",
        ),
        (
            disable(PIPELINE, "Deploy", StageTransitionType::Inbound, &long).await,
            "ValidationException",
        ),
        (
            disable(PIPELINE, "Deploy", StageTransitionType::Inbound, "").await,
            "ValidationException",
        ),
        (
            disable(PIPELINE, "Source", StageTransitionType::Inbound, "first").await,
            "ValidationException",
        ),
        (
            disable(PIPELINE, "Deploy", StageTransitionType::Outbound, "last").await,
            "ValidationException",
        ),
        (
            disable(PIPELINE, "Nope", StageTransitionType::Inbound, "x").await,
            "StageNotFoundException",
        ),
        (
            disable("nope", "Deploy", StageTransitionType::Inbound, "x").await,
            "PipelineNotFoundException",
        ),
    ];
    for (result, code) in cases {
        let error = result.expect_err("refused");
        let service = error.as_service_error().expect("a modeled error");
        assert_eq!(service.code(), Some(code), "{:?}", service.message());
        let modeled = match code {
            "ValidationException" => service.is_validation_exception(),
            "StageNotFoundException" => service.is_stage_not_found_exception(),
            _ => service.is_pipeline_not_found_exception(),
        };
        assert!(modeled, "{code} arrives as its variant");
    }
    assert!(
        sim.transition(PIPELINE, "Deploy").enabled,
        "nothing refused changed anything"
    );
    let enable = client
        .enable_stage_transition()
        .pipeline_name(PIPELINE)
        .stage_name("Nope")
        .transition_type(StageTransitionType::Inbound)
        .send()
        .await
        .unwrap_err();
    assert!(enable.as_service_error().unwrap().is_stage_not_found_exception());
}

#[tokio::test]
async fn publish_records_subject_text_and_attributes() {
    let sim = start().await;
    let topic = sim.state.sns_topics().create_topic("notices");
    assert!(sim.state.sns_topics().subscribe(&topic, "email:ops@example.com"));
    let client = sns(&sim).await;
    let output = client
        .publish()
        .topic_arn(&topic)
        .subject("Transition into Production closed: shop")
        .message("The transition into Production of pipeline shop is closed.\nAlarm: x & <y>")
        .message_attributes(
            "pipeline",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("shop")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("published");
    let published = sim.state.sns_topics().published(&topic);
    assert_eq!(published.len(), 1);
    assert_eq!(output.message_id(), Some(published[0].message_id.as_str()));
    assert_eq!(
        published[0].subject.as_deref(),
        Some("Transition into Production closed: shop")
    );
    assert!(published[0].message.ends_with("Alarm: x & <y>"));
    assert_eq!(
        published[0].attributes["pipeline"],
        ("String".to_owned(), "shop".to_owned())
    );
}

#[tokio::test]
async fn publish_errors_are_modeled_and_throttling_is_retried() {
    let sim = start().await;
    let topic = sim.state.sns_topics().create_topic("notices");
    let client = sns(&sim).await;
    let publish = |topic: &str, subject: &str| client.publish().topic_arn(topic).subject(subject).message("m").send();
    let missing = publish("arn:aws:sns:us-east-1:123456789012:gone", "s")
        .await
        .unwrap_err();
    assert!(missing.as_service_error().unwrap().is_not_found_exception());
    for subject in ["two\nlines", "ünïcode", &"x".repeat(100)] {
        let bad = publish(&topic, subject).await.unwrap_err();
        let service = bad.as_service_error().unwrap();
        assert!(
            service.is_invalid_parameter_exception(),
            "{subject:?}: {:?}",
            service.code()
        );
    }
    let too_many = (0..11).fold(client.publish().topic_arn(&topic).message("m"), |request, n| {
        request.message_attributes(
            format!("a{n}"),
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("v")
                .build()
                .unwrap(),
        )
    });
    assert!(
        too_many
            .send()
            .await
            .unwrap_err()
            .as_service_error()
            .unwrap()
            .is_invalid_parameter_exception()
    );
    assert!(sim.state.sns_topics().published(&topic).is_empty());

    // Throttled twice, then accepted: the SDK's retry (3 attempts) delivers one message.
    sim.state
        .faults
        .inject(Fault::new(Service::Sns, FaultKind::Throttle).on("Publish").times(2));
    publish(&topic, "after throttling")
        .await
        .expect("retried through throttling");
    assert_eq!(sim.state.sns_topics().published(&topic).len(), 1);
    // Refusals are not retried (1 + 3 + 1 calls); the throttled message took 3.
    assert_eq!(sim.state.call_count(Service::Sns, "Publish"), 1 + 3 + 1 + 3);
    // Throttled beyond the retries: the code the SDK classifies as throttling.
    sim.state
        .faults
        .inject(Fault::new(Service::Sns, FaultKind::Throttle).on("Publish").times(3));
    let throttled = publish(&topic, "s").await.unwrap_err();
    assert_eq!(throttled.as_service_error().and_then(|e| e.code()), Some("Throttling"));
}

/// Executions wait before a disabled transition; a newer one arriving there supersedes the older (CodePipeline lets
/// only the newest through), and the newest goes on when the transition is enabled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_wait_before_a_disabled_transition_and_the_newest_goes_on() {
    use pipeline_sim::eventbridge::EventBus;
    use pipeline_sim::model::Status;
    use pipeline_sim::scenario::{Timeline, play};

    let sim = start().await;
    sim.disable_transition_as_person(PIPELINE, "Deploy", "Hold for the release train")
        .unwrap();
    let bus = EventBus::default();
    let timeline = Timeline::new(false);
    let waiting = |n: usize| {
        let sim = sim.clone();
        async move {
            while sim.state.world().transitions.waiting.len() < n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let older = samples::good_release();
    let mut newer = samples::good_release();
    newer.revision.revision_id = "b".repeat(40);
    let (first, second, ()) = tokio::join!(
        play(&sim, &bus, &older, &timeline),
        async {
            waiting(1).await;
            play(&sim, &bus, &newer, &timeline).await
        },
        async {
            waiting(1).await;
            // The newer one arrives (the older is superseded), then the transition opens.
            let newer_waits = || {
                let world = sim.state.world();
                let newest = world.executions.last().map(|e| e.id.clone());
                world.executions.len() == 2 && world.transitions.waiting.iter().any(|w| Some(&w.2) == newest.as_ref())
            };
            while !newer_waits() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            sim.enable_transition_as_person(PIPELINE, "Deploy").unwrap();
        }
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(
        first.status,
        Status::Abandoned,
        "the older release was superseded while it waited"
    );
    assert_eq!(
        second.status,
        Status::Succeeded,
        "the newest went on once the transition opened"
    );
    let world = sim.state.world();
    assert!(
        world
            .execution(&first.execution_id)
            .unwrap()
            .latest_run("Deploy", "Deploy")
            .is_none()
    );
    assert!(
        world
            .execution(&second.execution_id)
            .unwrap()
            .latest_run("Deploy", "Deploy")
            .is_some()
    );
    assert!(world.transitions.waiting.is_empty());
    assert!(timeline.lines().iter().any(|l| l.contains("waits before Deploy")));
}
