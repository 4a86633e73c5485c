//! Contract tests for CloudWatch: the real `aws-sdk-cloudwatch` (RPC v2 CBOR), pointed at the simulator, parses
//! every answer with the values that were put in, and gets every error the operation models as its typed variant.

use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy, StandardUnit,
    StateValue, Statistic, StatisticSet, StatusCode,
};
use chrono::{DateTime as ChronoTime, Duration as ChronoDuration, DurationRound, Utc};
use pipeline_sim::cloudwatch::{self as cw, AlarmState, MetricValue};
use pipeline_sim::{ACCOUNT, Fault, FaultKind, Service, Simulator};

mod support;
use support::{assert_time, sdk_config};

const NS: &str = "CodePipelineHooks/Canary";
const CANARY_ALARM: &str = "demo-app-canary-failing";
const LATENCY_ALARM: &str = "demo-app-p99-latency";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:demo-app-alarms";

/// A simulator holding two metric alarms: the canary's (`Success` Minimum < 1 over one minute, with every field
/// set) and a latency alarm (defaults, OK since an hour ago).
async fn start() -> Simulator {
    let sim = Simulator::start().await.expect("simulator starts");
    {
        let mut cloudwatch = sim.state.cloudwatch();
        cloudwatch.put_alarm(canary_alarm());
        cloudwatch.put_alarm(
            cw::Alarm::new(LATENCY_ALARM, "DemoApp", "Latency")
                .with_statistic(cw::Statistic::Maximum)
                .with_threshold(cw::ComparisonOperator::GreaterThanThreshold, 2500.0),
        );
        cloudwatch
            .set_alarm_state_at(
                LATENCY_ALARM,
                AlarmState::Ok,
                "healthy",
                Utc::now() - ChronoDuration::hours(1),
            )
            .unwrap();
    }
    sim
}

fn canary_alarm() -> cw::Alarm {
    cw::Alarm::new(CANARY_ALARM, NS, "Success")
        .with_description("The synthetic canary failed")
        .with_dimension("Canary", "demo-app-home")
        .with_dimension("Stage", "Production")
        .with_statistic(cw::Statistic::Minimum)
        .with_threshold(cw::ComparisonOperator::LessThanThreshold, 1.0)
        .with_evaluation(60, 3, 1)
        .with_treat_missing_data(cw::TreatMissingData::Breaching)
        .with_unit("Count")
        .with_alarm_action(TOPIC)
        .with_ok_action(TOPIC)
}

async fn client(sim: &Simulator) -> Client {
    Client::new(&sdk_config(sim, Duration::from_secs(5)).await)
}

fn sdk_time(at: ChronoTime<Utc>) -> DateTime {
    DateTime::from_millis(at.timestamp_millis())
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

fn datum(name: &str, value: f64) -> MetricDatum {
    MetricDatum::builder().metric_name(name).value(value).build()
}

// ---- PutMetricData ----

#[tokio::test]
async fn put_metric_data_is_stored_with_dimensions_units_and_values_intact() {
    let sim = start().await;
    let at = Utc::now().duration_trunc(ChronoDuration::milliseconds(1)).unwrap() - ChronoDuration::minutes(3);
    client(&sim)
        .await
        .put_metric_data()
        .namespace(NS)
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dimension("Canary", "demo-app-home"))
                .dimensions(dimension("Stage", "Production"))
                .timestamp(sdk_time(at))
                .value(412.5)
                .unit(StandardUnit::Milliseconds)
                .storage_resolution(1)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .values(100.0)
                .values(250.0)
                .counts(3.0)
                .counts(1.0)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Bytes")
                .statistic_values(
                    StatisticSet::builder()
                        .sample_count(4.0)
                        .sum(4096.0)
                        .minimum(512.0)
                        .maximum(2048.0)
                        .build(),
                )
                .unit(StandardUnit::Bytes)
                .build(),
        )
        .metric_data(datum("Success", 1.0))
        .send()
        .await
        .expect("PutMetricData parses");

    let stored = sim.state.cloudwatch().metrics(NS);
    assert_eq!(stored.len(), 4);
    let latency = &stored[0];
    assert_eq!(
        (latency.namespace.as_str(), latency.metric_name.as_str()),
        (NS, "Latency")
    );
    assert_eq!(
        latency.dimensions,
        [
            cw::Dimension::new("Canary", "demo-app-home"),
            cw::Dimension::new("Stage", "Production")
        ]
    );
    assert_eq!(latency.dimension("Stage"), Some("Production"));
    assert_eq!(latency.timestamp, at);
    assert_eq!(latency.value, MetricValue::Value(412.5));
    assert_eq!(latency.unit.as_deref(), Some("Milliseconds"));
    assert_eq!(latency.storage_resolution, 1);

    let distribution = &stored[1];
    assert_eq!(
        distribution.value,
        MetricValue::Values {
            values: vec![100.0, 250.0],
            counts: vec![3.0, 1.0]
        }
    );
    assert!(distribution.dimensions.is_empty());
    assert_eq!(distribution.storage_resolution, 60);
    assert!(
        (Utc::now() - distribution.timestamp).num_seconds() < 5,
        "no Timestamp: stamped on receipt"
    );

    let bytes = &stored[2];
    let set = match &bytes.value {
        MetricValue::StatisticSet(set) => *set,
        other => panic!("a statistic set, not {other:?}"),
    };
    assert_eq!(
        (set.sample_count, set.sum, set.minimum, set.maximum),
        (4.0, 4096.0, 512.0, 2048.0)
    );
    assert_eq!(bytes.unit.as_deref(), Some("Bytes"));
    assert_eq!(stored[3].unit, None, "no Unit sent, none stored");
    assert!(sim.state.cloudwatch().metrics("Other").is_empty());
    assert_eq!(sim.state.call_count(Service::CloudWatch, "PutMetricData"), 1);
}

#[tokio::test]
async fn large_put_metric_data_arrives_gzipped_and_is_read() {
    let sim = start().await;
    // Default config: the SDK gzips bodies of 10 KiB and more; 1000 datums are well above that.
    let data: Vec<MetricDatum> = (0..1000)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("Requests")
                .dimensions(dimension("Route", &format!("/items/{i}")))
                .value(f64::from(i))
                .unit(StandardUnit::Count)
                .build()
        })
        .collect();
    client(&sim)
        .await
        .put_metric_data()
        .namespace(NS)
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("1000 datums are accepted");
    let stored = sim.state.cloudwatch().metrics(NS);
    assert_eq!(stored.len(), 1000);
    assert_eq!(stored[999].dimension("Route"), Some("/items/999"));
    assert_eq!(stored[999].value, MetricValue::Value(999.0));

    // Compression forced on a small body too.
    let config = aws_sdk_cloudwatch::config::Builder::from(&sdk_config(&sim, Duration::from_secs(5)).await)
        .request_min_compression_size_bytes(0)
        .build();
    Client::from_conf(config)
        .put_metric_data()
        .namespace(NS)
        .metric_data(datum("Tiny", 7.0))
        .send()
        .await
        .expect("a gzip'd small body");
    assert_eq!(sim.state.cloudwatch().metrics(NS).last().unwrap().metric_name, "Tiny");
}

#[tokio::test]
async fn put_metric_data_errors_are_modeled() {
    let sim = start().await;
    let client = client(&sim).await;
    let put = |namespace: Option<&str>, data: Vec<MetricDatum>| {
        client
            .put_metric_data()
            .set_namespace(namespace.map(str::to_owned))
            .set_metric_data(Some(data))
            .send()
    };

    let err = put(None, vec![datum("Success", 1.0)])
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_missing_required_parameter_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("Namespace")), "{err:?}");

    let err = put(Some("AWS/Lambda"), vec![datum("Success", 1.0)])
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("AWS/")), "{err:?}");

    let err = put(Some(NS), Vec::new()).await.unwrap_err().into_service_error();
    assert!(err.is_missing_required_parameter_exception(), "{err:?}");

    let too_many: Vec<MetricDatum> = (0..1001).map(|_| datum("Success", 1.0)).collect();
    let err = put(Some(NS), too_many).await.unwrap_err().into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("1000")), "{err:?}");

    let mut wide = MetricDatum::builder().metric_name("Wide").value(1.0);
    for i in 0..31 {
        wide = wide.dimensions(dimension(&format!("D{i}"), "x"));
    }
    let err = put(Some(NS), vec![wide.build()])
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("Dimensions")), "{err:?}");

    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300] {
        let err = put(Some(NS), vec![datum("Success", 1.0), datum("Success", bad)])
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_invalid_parameter_value_exception(), "{bad}: {err:?}");
        assert!(
            err.message().is_some_and(|m| m.contains("MetricData.member.2.Value")),
            "names the member: {err:?}"
        );
    }

    let both = MetricDatum::builder()
        .metric_name("Both")
        .value(1.0)
        .statistic_values(
            StatisticSet::builder()
                .sample_count(1.0)
                .sum(1.0)
                .minimum(1.0)
                .maximum(1.0)
                .build(),
        )
        .build();
    let err = put(Some(NS), vec![both]).await.unwrap_err().into_service_error();
    assert!(err.is_invalid_parameter_combination_exception(), "{err:?}");

    let uneven = MetricDatum::builder()
        .metric_name("Uneven")
        .values(1.0)
        .values(2.0)
        .counts(1.0)
        .build();
    let err = put(Some(NS), vec![uneven]).await.unwrap_err().into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");

    let nameless = MetricDatum::builder().value(1.0).build();
    let err = put(Some(NS), vec![nameless]).await.unwrap_err().into_service_error();
    assert!(err.is_missing_required_parameter_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("MetricName")), "{err:?}");

    let valueless = MetricDatum::builder().metric_name("Nothing").build();
    let err = put(Some(NS), vec![valueless]).await.unwrap_err().into_service_error();
    assert!(err.is_missing_required_parameter_exception(), "{err:?}");

    let odd_unit = MetricDatum::builder()
        .metric_name("Odd")
        .value(1.0)
        .unit(StandardUnit::from("Furlongs"))
        .build();
    let err = put(Some(NS), vec![odd_unit]).await.unwrap_err().into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");

    let stale = MetricDatum::builder()
        .metric_name("Stale")
        .value(1.0)
        .timestamp(sdk_time(Utc::now() - ChronoDuration::days(15)))
        .build();
    let err = put(Some(NS), vec![stale]).await.unwrap_err().into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");

    let resolution = MetricDatum::builder()
        .metric_name("Res")
        .value(1.0)
        .storage_resolution(5)
        .build();
    let err = put(Some(NS), vec![resolution]).await.unwrap_err().into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");

    assert!(
        sim.state.cloudwatch().datums().is_empty(),
        "a rejected request stores nothing, not even its valid datums"
    );
}

// ---- DescribeAlarms ----

#[tokio::test]
async fn describe_alarms_returns_every_member() {
    let sim = start().await;
    let model = sim.state.cloudwatch().alarm(CANARY_ALARM).unwrap().clone();
    let out = client(&sim)
        .await
        .describe_alarms()
        .alarm_names(CANARY_ALARM)
        .send()
        .await
        .expect("DescribeAlarms parses");
    assert!(out.next_token().is_none());
    assert!(out.composite_alarms.is_none(), "metric alarms only unless asked");
    let [alarm] = out.metric_alarms() else {
        panic!("one alarm expected: {out:?}")
    };
    assert_eq!(alarm.alarm_name(), Some(CANARY_ALARM));
    assert_eq!(
        alarm.alarm_arn(),
        Some(format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{CANARY_ALARM}").as_str())
    );
    assert_eq!(alarm.alarm_description(), Some("The synthetic canary failed"));
    assert_eq!(alarm.actions_enabled(), Some(true));
    assert_eq!(alarm.alarm_actions(), [TOPIC]);
    assert_eq!(alarm.ok_actions(), [TOPIC]);
    assert!(alarm.insufficient_data_actions().is_empty());
    assert_eq!(alarm.state_value(), Some(&StateValue::InsufficientData));
    assert_eq!(alarm.state_reason(), Some("Unchecked: Initial alarm creation"));
    assert!(alarm.state_reason_data().is_none());
    assert_time(alarm.state_updated_timestamp(), model.state_updated.timestamp_millis());
    assert_time(
        alarm.state_transitioned_timestamp(),
        model.state_transitioned.timestamp_millis(),
    );
    assert_time(
        alarm.alarm_configuration_updated_timestamp(),
        model.configuration_updated.timestamp_millis(),
    );
    assert_eq!(alarm.namespace(), Some(NS));
    assert_eq!(alarm.metric_name(), Some("Success"));
    assert_eq!(alarm.statistic(), Some(&Statistic::Minimum));
    assert_eq!(
        alarm.dimensions(),
        [dimension("Canary", "demo-app-home"), dimension("Stage", "Production")]
    );
    assert_eq!(alarm.period(), Some(60));
    assert_eq!(alarm.unit(), Some(&StandardUnit::Count));
    assert_eq!(alarm.evaluation_periods(), Some(3));
    assert_eq!(alarm.datapoints_to_alarm(), Some(1));
    assert_eq!(alarm.threshold(), Some(1.0));
    assert_eq!(
        alarm.comparison_operator(),
        Some(&ComparisonOperator::LessThanThreshold)
    );
    assert_eq!(alarm.treat_missing_data(), Some("breaching"));

    // The other alarm: defaults, and a backdated OK.
    let latency = client(&sim)
        .await
        .describe_alarms()
        .alarm_names(LATENCY_ALARM)
        .send()
        .await
        .unwrap();
    let alarm = &latency.metric_alarms()[0];
    let model = sim.state.cloudwatch().alarm(LATENCY_ALARM).unwrap().clone();
    assert_eq!(alarm.state_value(), Some(&StateValue::Ok));
    assert_eq!(alarm.state_reason(), Some("healthy"));
    assert_time(
        alarm.state_transitioned_timestamp(),
        model.state_transitioned.timestamp_millis(),
    );
    let since = alarm.state_transitioned_timestamp().unwrap().secs();
    assert!(Utc::now().timestamp() - since >= 3600, "OK for an hour");
    assert!(alarm.alarm_description().is_none() && alarm.unit().is_none());
    assert!(alarm.dimensions().is_empty() && alarm.alarm_actions().is_empty());
    assert_eq!(alarm.datapoints_to_alarm(), None);
    assert_eq!(alarm.threshold(), Some(2500.0));
}

#[tokio::test]
async fn describe_alarms_filters_like_aws() {
    let sim = start().await;
    let client = client(&sim).await;
    let names = |out: &aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput| -> Vec<String> {
        out.metric_alarms()
            .iter()
            .map(|a| a.alarm_name().unwrap().to_owned())
            .collect()
    };

    let all = client.describe_alarms().send().await.unwrap();
    assert_eq!(names(&all), [CANARY_ALARM, LATENCY_ALARM], "sorted by name");

    let by_prefix = client
        .describe_alarms()
        .alarm_name_prefix("demo-app-p")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_prefix), [LATENCY_ALARM]);

    let by_state = client
        .describe_alarms()
        .state_value(StateValue::Ok)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_state), [LATENCY_ALARM]);

    let by_action = client
        .describe_alarms()
        .action_prefix("arn:aws:sns:")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_action), [CANARY_ALARM]);

    let unknown = client
        .describe_alarms()
        .alarm_names("no-such-alarm")
        .send()
        .await
        .unwrap();
    assert!(unknown.metric_alarms().is_empty());

    let composite = client
        .describe_alarms()
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap();
    assert!(composite.metric_alarms.is_none());
    assert_eq!(composite.composite_alarms.as_deref(), Some(&[][..]));

    let both = client
        .describe_alarms()
        .alarm_types(AlarmType::CompositeAlarm)
        .alarm_types(AlarmType::MetricAlarm)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&both).len(), 2);
    assert!(both.composite_alarms.is_some());
}

#[tokio::test]
async fn describe_alarms_pages_through_every_alarm() {
    let sim = start().await;
    {
        let mut cloudwatch = sim.state.cloudwatch();
        for i in 1..=5 {
            cloudwatch.put_alarm(cw::Alarm::new(&format!("page-{i}"), "DemoApp", "Errors"));
        }
    }
    let client = client(&sim).await;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = client
            .describe_alarms()
            .alarm_name_prefix("page-")
            .max_records(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("a page parses");
        pages += 1;
        assert!(out.metric_alarms().len() <= 2);
        seen.extend(out.metric_alarms().iter().map(|a| a.alarm_name().unwrap().to_owned()));
        match out.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["page-1", "page-2", "page-3", "page-4", "page-5"]);

    // The SDK's paginator walks the same pages.
    let pages: Vec<_> = client
        .describe_alarms()
        .alarm_name_prefix("page-")
        .into_paginator()
        .page_size(2)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginator");
    assert_eq!(pages.len(), 3);
    let paged: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.metric_alarms())
        .map(|a| a.alarm_name().unwrap())
        .collect();
    assert_eq!(paged, seen);

    // A token points after an alarm, not at an offset: alarms added before it or removed do not shift pages.
    let first = client
        .describe_alarms()
        .alarm_name_prefix("page-")
        .max_records(2)
        .send()
        .await
        .unwrap();
    let next = first.next_token().expect("more pages").to_owned();
    {
        let mut cloudwatch = sim.state.cloudwatch();
        cloudwatch.put_alarm(cw::Alarm::new("page-0", "DemoApp", "Errors"));
        cloudwatch.remove_alarm("page-2");
    }
    let second = client
        .describe_alarms()
        .alarm_name_prefix("page-")
        .max_records(2)
        .next_token(&next)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = second.metric_alarms().iter().map(|a| a.alarm_name().unwrap()).collect();
    assert_eq!(names, ["page-3", "page-4"]);

    // Tokens that were never issued, or were issued for another query, are InvalidNextToken.
    for bad in ["not-a-token", "00", next.as_str()] {
        let request = client.describe_alarms().next_token(bad);
        let request = if bad == next {
            request.state_value(StateValue::Alarm)
        } else {
            request
        };
        let err = request.send().await.unwrap_err().into_service_error();
        assert!(err.is_invalid_next_token(), "{bad}: {err:?}");
    }
}

#[tokio::test]
async fn describe_alarms_rejects_what_aws_rejects() {
    // AWS answers these with errors DescribeAlarms does not model (only InvalidNextToken is): the SDK gives
    // them as unmodeled errors whose code is AWS's query code.
    let sim = start().await;
    let client = client(&sim).await;
    let err = client
        .describe_alarms()
        .alarm_names(CANARY_ALARM)
        .alarm_name_prefix("demo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterCombination"), "{err:?}");
    let err = client.describe_alarms().max_records(0).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"), "{err:?}");
    let err = client.describe_alarms().max_records(101).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"), "{err:?}");
}

// ---- SetAlarmState ----

#[tokio::test]
async fn set_alarm_state_is_what_describe_alarms_then_shows() {
    let sim = start().await;
    let client = client(&sim).await;
    let before = Utc::now() - ChronoDuration::milliseconds(1);
    client
        .set_alarm_state()
        .alarm_name(CANARY_ALARM)
        .state_value(StateValue::Alarm)
        .state_reason("Testing the transition disabler")
        .state_reason_data(r#"{"source":"contract test"}"#)
        .send()
        .await
        .expect("SetAlarmState parses");

    let described = client.describe_alarms().alarm_names(CANARY_ALARM).send().await.unwrap();
    let alarm = &described.metric_alarms()[0];
    assert_eq!(alarm.state_value(), Some(&StateValue::Alarm));
    assert_eq!(alarm.state_reason(), Some("Testing the transition disabler"));
    assert_eq!(alarm.state_reason_data(), Some(r#"{"source":"contract test"}"#));
    let transitioned = alarm.state_transitioned_timestamp().unwrap().to_millis().unwrap();
    assert!(transitioned >= before.timestamp_millis());
    assert_eq!(alarm.state_updated_timestamp(), alarm.state_transitioned_timestamp());

    // Same state again: the reason and update time change, the transition time does not (as in AWS).
    tokio::time::sleep(Duration::from_millis(5)).await;
    client
        .set_alarm_state()
        .alarm_name(CANARY_ALARM)
        .state_value(StateValue::Alarm)
        .state_reason("still failing")
        .send()
        .await
        .unwrap();
    let model = sim.state.cloudwatch().alarm(CANARY_ALARM).unwrap().clone();
    assert_eq!(model.state_reason, "still failing");
    assert_eq!(model.state_reason_data, None);
    assert!(model.state_updated > model.state_transitioned);
    assert!((model.state_transitioned.timestamp_millis() - transitioned).abs() <= 1);

    let transitions = sim.state.cloudwatch().transitions().to_vec();
    assert_eq!(transitions.len(), 2, "the seeded OK, then ALARM: {transitions:?}");
    let last = &transitions[1];
    assert_eq!(
        (last.alarm.as_str(), last.previous, last.state),
        (CANARY_ALARM, AlarmState::InsufficientData, AlarmState::Alarm)
    );

    // The filter sees the new state.
    let firing = client
        .describe_alarms()
        .state_value(StateValue::Alarm)
        .send()
        .await
        .unwrap();
    assert_eq!(firing.metric_alarms()[0].alarm_name(), Some(CANARY_ALARM));
}

#[tokio::test]
async fn set_alarm_state_errors_are_modeled() {
    let sim = start().await;
    let client = client(&sim).await;
    let err = client
        .set_alarm_state()
        .alarm_name("no-such-alarm")
        .state_value(StateValue::Ok)
        .state_reason("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    let err = err.into_service_error();
    assert!(err.is_resource_not_found(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("no-such-alarm")), "{err:?}");

    let err = client
        .set_alarm_state()
        .alarm_name(CANARY_ALARM)
        .state_value(StateValue::Ok)
        .state_reason("x")
        .state_reason_data("{not json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_format_fault(), "{err:?}");
    assert_eq!(
        sim.state.cloudwatch().alarm(CANARY_ALARM).unwrap().state,
        AlarmState::InsufficientData,
        "a rejected call changes nothing"
    );

    // Constraints SetAlarmState does not model an error for come back as AWS's ValidationError.
    let err = client
        .set_alarm_state()
        .alarm_name(CANARY_ALARM)
        .state_value(StateValue::from("BROKEN"))
        .state_reason("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"), "{err:?}");
}

// ---- The canary -> alarm chain ----

#[tokio::test]
async fn canary_metrics_move_the_alarm() {
    let sim = start().await;
    {
        // One period, one datapoint, no missing-data surprises: the first failed run fires it.
        let mut cloudwatch = sim.state.cloudwatch();
        cloudwatch.put_alarm(
            canary_alarm()
                .with_evaluation(60, 1, 1)
                .with_treat_missing_data(cw::TreatMissingData::Missing),
        );
    }
    let client = client(&sim).await;
    let run = |success: f64| {
        client
            .put_metric_data()
            .namespace(NS)
            .metric_data(
                MetricDatum::builder()
                    .metric_name("Success")
                    .dimensions(dimension("Stage", "Production"))
                    .dimensions(dimension("Canary", "demo-app-home"))
                    .value(success)
                    .unit(StandardUnit::Count)
                    .build(),
            )
            .send()
    };
    let state = || async {
        let out = client.describe_alarms().alarm_names(CANARY_ALARM).send().await.unwrap();
        out.metric_alarms()[0].clone()
    };

    run(1.0).await.unwrap();
    assert_eq!(state().await.state_value(), Some(&StateValue::Ok));
    run(0.0).await.unwrap();
    let alarm = state().await;
    assert_eq!(alarm.state_value(), Some(&StateValue::Alarm));
    let reason = alarm.state_reason().unwrap();
    assert!(
        reason.starts_with("Threshold Crossed: 1 out of the last 1 datapoints [0.0 ("),
        "{reason}"
    );
    assert!(reason.contains("less than the threshold (1.0)"), "{reason}");
    let data: serde_json::Value = serde_json::from_str(alarm.state_reason_data().unwrap()).unwrap();
    assert_eq!(data["statistic"], "Minimum");
    assert_eq!(data["recentDatapoints"], serde_json::json!([0.0]));

    // A success within the same minute does not clear a Minimum; a clean minute later does.
    run(1.0).await.unwrap();
    assert_eq!(state().await.state_value(), Some(&StateValue::Alarm));
    let moved = sim
        .state
        .cloudwatch()
        .evaluate_alarms(Utc::now() + ChronoDuration::seconds(90));
    let canary: Vec<_> = moved.iter().filter(|t| t.alarm == CANARY_ALARM).collect();
    assert_eq!(canary.len(), 1, "{moved:?}");
    assert_eq!(canary[0].state, AlarmState::InsufficientData, "nothing in that minute");
    let states: Vec<AlarmState> = sim
        .state
        .cloudwatch()
        .transitions()
        .iter()
        .filter(|t| t.alarm == CANARY_ALARM)
        .map(|t| t.state)
        .collect();
    assert_eq!(
        states,
        [AlarmState::Ok, AlarmState::Alarm, AlarmState::InsufficientData]
    );
}

// ---- GetMetricData ----

#[tokio::test]
async fn get_metric_data_aggregates_per_period() {
    let sim = start().await;
    let minute = Utc::now().duration_trunc(ChronoDuration::minutes(1)).unwrap() - ChronoDuration::minutes(5);
    let at = |m: i64, s: i64| minute + ChronoDuration::minutes(m) + ChronoDuration::seconds(s);
    let client = client(&sim).await;
    client
        .put_metric_data()
        .namespace(NS)
        .set_metric_data(Some(
            [(0, 5, 100.0), (0, 40, 300.0), (1, 10, 50.0), (3, 0, 80.0)]
                .into_iter()
                .map(|(m, s, v)| {
                    MetricDatum::builder()
                        .metric_name("Latency")
                        .dimensions(dimension("Stage", "Production"))
                        .timestamp(sdk_time(at(m, s)))
                        .value(v)
                        .unit(StandardUnit::Milliseconds)
                        .build()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    let metric = Metric::builder()
        .namespace(NS)
        .metric_name("Latency")
        .dimensions(dimension("Stage", "Production"))
        .build();
    let labelled = |id: &str, stat: &str, label: Option<&str>| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(metric.clone())
                    .period(60)
                    .stat(stat)
                    .build(),
            )
            .set_label(label.map(str::to_owned))
            .build()
    };
    let query = |id: &str, stat: &str| labelled(id, stat, None);
    let out = client
        .get_metric_data()
        .metric_data_queries(query("avg", "Average"))
        .metric_data_queries(labelled("max", "Maximum", Some("Worst")))
        .metric_data_queries(MetricDataQuery::builder().id("doubled").expression("avg * 2").build())
        .start_time(sdk_time(minute))
        .end_time(sdk_time(at(10, 0)))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .expect("GetMetricData parses");
    assert!(out.next_token().is_none());
    let [avg, max, doubled] = out.metric_data_results() else {
        panic!("three results: {out:?}")
    };
    assert_eq!((avg.id(), avg.label()), (Some("avg"), Some("Latency")));
    assert_eq!(avg.status_code(), Some(&StatusCode::Complete));
    let stamps: Vec<i64> = avg.timestamps().iter().map(|t| t.secs()).collect();
    assert_eq!(stamps, [at(0, 0), at(1, 0), at(3, 0)].map(|t| t.timestamp()));
    assert_eq!(avg.values(), [200.0, 50.0, 80.0]);
    assert_eq!(max.label(), Some("Worst"));
    assert_eq!(max.values(), [300.0, 50.0, 80.0]);
    assert_eq!(doubled.status_code(), Some(&StatusCode::InternalError));
    assert!(doubled.messages()[0].value().is_some_and(|m| m.contains("expressions")));

    // Newest first by default, and pages of MaxDatapoints.
    let mut values = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .get_metric_data()
            .metric_data_queries(query("sum", "Sum"))
            .start_time(sdk_time(minute))
            .end_time(sdk_time(at(10, 0)))
            .max_datapoints(2)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        let result = &page.metric_data_results()[0];
        values.extend_from_slice(result.values());
        token = page.next_token().map(str::to_owned);
        let expected = if token.is_some() {
            StatusCode::PartialData
        } else {
            StatusCode::Complete
        };
        assert_eq!(result.status_code(), Some(&expected));
        if token.is_none() {
            break;
        }
    }
    assert_eq!(values, [80.0, 50.0, 400.0]);

    let err = client
        .get_metric_data()
        .metric_data_queries(query("sum", "Sum"))
        .start_time(sdk_time(minute))
        .end_time(sdk_time(at(10, 0)))
        .next_token("garbage")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_next_token(), "{err:?}");
}

// ---- Everything else ----

#[tokio::test]
async fn unimplemented_operations_answer_a_modeled_error() {
    let sim = start().await;
    let err = client(&sim)
        .await
        .list_metrics()
        .namespace(NS)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("ListMetrics")), "{err:?}");
}

#[tokio::test]
async fn wire_format_is_rpc_v2_cbor() {
    let sim = start().await;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap();
    let url = |op: &str| {
        format!(
            "{}/service/GraniteServiceVersion20100801/operation/{op}",
            sim.endpoint_url()
        )
    };
    let cbor_headers = |request: reqwest::RequestBuilder| {
        request
            .header("smithy-protocol", "rpc-v2-cbor")
            .header("content-type", "application/cbor")
            .header("accept", "application/cbor")
    };

    // An empty body is an empty input; the output is CBOR, with the protocol header.
    let response = cbor_headers(http.post(url("DescribeAlarms"))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/cbor");
    assert_eq!(response.headers()["smithy-protocol"], "rpc-v2-cbor");
    assert!(response.headers().contains_key("x-amzn-requestid"));
    let body = response.bytes().await.unwrap();
    assert_eq!(body[0] & 0xe0, 0xa0, "a CBOR map");

    // An operation without output: empty body, no Content-Type.
    // {"AlarmName": CANARY_ALARM, "StateValue": "OK", "StateReason": "raw"}
    let mut request = vec![0xa3];
    for text in ["AlarmName", CANARY_ALARM, "StateValue", "OK", "StateReason", "raw"] {
        request.push(0x60 | u8::try_from(text.len()).unwrap());
        request.extend_from_slice(text.as_bytes());
    }
    let response = cbor_headers(http.post(url("SetAlarmState")))
        .body(request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(!response.headers().contains_key("content-type"));
    assert_eq!(response.headers()["smithy-protocol"], "rpc-v2-cbor");
    assert!(response.bytes().await.unwrap().is_empty());
    assert_eq!(sim.state.cloudwatch().alarm(CANARY_ALARM).unwrap().state_reason, "raw");

    // Errors: the query-compatible code header only when asked for with x-amzn-query-mode.
    let response = cbor_headers(http.post(url("PutMetricData")))
        .header("x-amzn-query-mode", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["x-amzn-query-error"], "MissingParameter;Sender");
    assert_eq!(response.headers()["content-type"], "application/cbor");
    let body = response.bytes().await.unwrap();
    let needle = b"com.amazonaws.cloudwatch#MissingRequiredParameterException";
    assert!(
        body.windows(needle.len()).any(|w| w == needle),
        "__type is the shape ID"
    );
    let response = cbor_headers(http.post(url("PutMetricData"))).send().await.unwrap();
    assert!(!response.headers().contains_key("x-amzn-query-error"));

    // Not speaking the protocol is refused.
    let response = http
        .post(url("DescribeAlarms"))
        .header("content-type", "application/cbor")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

// ---- Faults ----

#[tokio::test]
async fn throttling_is_retried_by_the_sdk() {
    let sim = start().await;
    sim.state.faults.inject(
        Fault::new(Service::CloudWatch, FaultKind::Throttle)
            .on("DescribeAlarms")
            .times(1),
    );
    let out = client(&sim)
        .await
        .describe_alarms()
        .alarm_names(CANARY_ALARM)
        .send()
        .await
        .expect("the retry succeeds");
    assert_eq!(out.metric_alarms()[0].alarm_name(), Some(CANARY_ALARM));
    assert_eq!(sim.state.call_count(Service::CloudWatch, "DescribeAlarms"), 2);
}

#[tokio::test]
async fn server_errors_beyond_max_attempts_fail_the_call() {
    let sim = start().await;
    sim.state.faults.inject(
        Fault::new(Service::CloudWatch, FaultKind::ServerError)
            .on("PutMetricData")
            .times(10),
    );
    let err = client(&sim)
        .await
        .put_metric_data()
        .namespace(NS)
        .metric_data(datum("Success", 1.0))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::ServiceError(_)), "{err:?}");
    assert_eq!(err.code(), Some("InternalServiceError"));
    assert!(
        err.into_service_error().is_internal_service_fault(),
        "modeled for PutMetricData"
    );
    assert_eq!(
        sim.state.call_count(Service::CloudWatch, "PutMetricData"),
        3,
        "max attempts, then give up"
    );
    assert!(sim.state.cloudwatch().datums().is_empty());
    // Other operations are untouched by a fault aimed at one.
    let described = client(&sim).await.describe_alarms().send().await;
    assert!(described.is_ok(), "{described:?}");
}

#[tokio::test]
async fn slow_answers_hit_the_operation_timeout() {
    let sim = start().await;
    sim.state.faults.inject(
        Fault::new(Service::CloudWatch, FaultKind::Delay(Duration::from_secs(3)))
            .on("DescribeAlarms")
            .times(1),
    );
    let client = Client::new(&sdk_config(&sim, Duration::from_millis(300)).await);
    let started = Instant::now();
    let err = client.describe_alarms().send().await.unwrap_err();
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}
