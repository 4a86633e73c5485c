//! Unit tests of the CloudWatch model as tests and the demo use it: alarm evaluation on incoming data, M out of
//! N and missing-data treatments, backdated states, the state-change event, and value summaries. (The wire
//! format is tested against the real SDK in `tests/contract_cloudwatch.rs`.)

use chrono::Duration;
use serde_json::json;

use super::*;

const NS: &str = "Hooks/Canary";

fn canary_alarm() -> Alarm {
    Alarm::new("canary-failing", NS, "Success")
        .with_dimension("Canary", "home")
        .with_statistic(Statistic::Minimum)
        .with_threshold(ComparisonOperator::LessThanThreshold, 1.0)
        .with_evaluation(60, 1, 1)
}

fn success(value: f64) -> Datum {
    Datum::new(NS, "Success", value).with_dimension("Canary", "home")
}

#[test]
fn a_failed_canary_run_fires_the_alarm_and_a_clean_period_clears_it() {
    let mut cw = CloudWatchState::default();
    cw.put_alarm(canary_alarm());
    cw.put_metric_data(vec![success(1.0)]);
    assert_eq!(cw.alarm("canary-failing").unwrap().state, AlarmState::Ok);
    cw.put_metric_data(vec![success(0.0)]);
    let alarm = cw.alarm("canary-failing").unwrap();
    assert_eq!(alarm.state, AlarmState::Alarm);
    assert!(
        alarm
            .state_reason
            .starts_with("Threshold Crossed: 1 out of the last 1 datapoints [0.0 (")
    );
    assert!(alarm.state_reason.contains("was less than the threshold (1.0)"));
    let data: serde_json::Value = serde_json::from_str(alarm.state_reason_data.as_deref().unwrap()).unwrap();
    assert_eq!(data["recentDatapoints"], json!([0.0]));

    // Later, a period that holds only passes brings it back.
    let later = now() + Duration::seconds(120);
    cw.put_metric_data(vec![success(1.0).at(later - Duration::seconds(1))]);
    let moved = cw.evaluate_alarms(later);
    assert_eq!(moved.len(), 1);
    assert_eq!((moved[0].previous, moved[0].state), (AlarmState::Alarm, AlarmState::Ok));
    let states: Vec<AlarmState> = cw.transitions().iter().map(|t| t.state).collect();
    assert_eq!(states, [AlarmState::Ok, AlarmState::Alarm, AlarmState::Ok]);
}

#[test]
fn other_dimensions_and_units_do_not_count() {
    let mut cw = CloudWatchState::default();
    cw.put_alarm(canary_alarm().with_unit("Count"));
    cw.put_metric_data(vec![
        Datum::new(NS, "Success", 0.0).with_dimension("Canary", "other"),
        success(0.0).with_dimension("Extra", "x").with_unit("Count"),
        success(0.0).with_unit("Percent"),
    ]);
    assert_eq!(cw.alarm("canary-failing").unwrap().state, AlarmState::InsufficientData);
    assert!(cw.transitions().is_empty());
}

#[test]
fn m_out_of_n_and_missing_data_treatments() {
    let start = now();
    let at = |s: i64| start + Duration::seconds(s);
    let alarm = Alarm::new("errors", "App", "Errors")
        .with_statistic(Statistic::Sum)
        .with_threshold(ComparisonOperator::GreaterThanOrEqualToThreshold, 5.0)
        .with_evaluation(60, 3, 2);
    let mut cw = CloudWatchState::default();
    cw.put_alarm(alarm.clone());
    cw.put_metric_data(vec![
        Datum::new("App", "Errors", 7.0).at(at(-150)),
        Datum::new("App", "Errors", 1.0).at(at(-90)),
        Datum::new("App", "Errors", 2.0).at(at(-10)),
        Datum::new("App", "Errors", 3.0).at(at(-5)),
    ]);
    // Windows (newest first): 5 (breach), 1, 7 (breach) -> 2 of 3.
    cw.evaluate_alarms(start);
    assert_eq!(cw.alarm("errors").unwrap().state, AlarmState::Alarm);

    // Nothing in the last three minutes: missing -> INSUFFICIENT_DATA, ignore -> unchanged,
    // breaching -> ALARM, notBreaching -> OK.
    let quiet = at(600);
    for (treatment, expected) in [
        (TreatMissingData::Missing, AlarmState::InsufficientData),
        (TreatMissingData::Ignore, AlarmState::Ok),
        (TreatMissingData::Breaching, AlarmState::Alarm),
        (TreatMissingData::NotBreaching, AlarmState::Ok),
    ] {
        cw.put_alarm(alarm.clone().with_treat_missing_data(treatment));
        cw.set_alarm_state("errors", AlarmState::Ok, "reset").unwrap();
        cw.evaluate_alarms(quiet);
        assert_eq!(cw.alarm("errors").unwrap().state, expected, "{treatment:?}");
    }
}

#[test]
fn backdated_states_keep_their_time() {
    let mut cw = CloudWatchState::default();
    cw.put_alarm(canary_alarm());
    let two_hours_ago = now() - Duration::hours(2);
    cw.set_alarm_state_at("canary-failing", AlarmState::Ok, "baked", two_hours_ago)
        .unwrap();
    let alarm = cw.alarm("canary-failing").unwrap();
    assert_eq!(
        (alarm.state_updated, alarm.state_transitioned),
        (two_hours_ago, two_hours_ago)
    );
    assert!(cw.set_alarm_state("missing", AlarmState::Ok, "x").is_none());
}

#[test]
fn transitions_carry_what_the_eventbridge_event_needs() {
    let mut cw = CloudWatchState::default();
    cw.put_alarm(canary_alarm().with_description("Canary failing"));
    let ok_since = now() - Duration::minutes(30);
    cw.set_alarm_state_at("canary-failing", AlarmState::Ok, "all good", ok_since)
        .unwrap();
    cw.put_metric_data(vec![success(0.0)]);
    let transition = cw.transitions().last().unwrap().clone();
    assert_eq!(
        (transition.previous, transition.state),
        (AlarmState::Ok, AlarmState::Alarm)
    );
    assert_eq!(transition.previous_at, ok_since);

    let detail = state_change_detail(cw.alarm("canary-failing").unwrap(), &transition);
    assert_eq!(detail["alarmName"], "canary-failing");
    assert_eq!(detail["configuration"]["description"], "Canary failing");
    let stat = &detail["configuration"]["metrics"][0]["metricStat"];
    assert_eq!(stat["metric"]["dimensions"], json!({ "Canary": "home" }));
    assert_eq!(
        (&stat["metric"]["name"], &stat["stat"], &stat["period"]),
        (&json!("Success"), &json!("Minimum"), &json!(60))
    );
    assert_eq!(detail["state"]["value"], "ALARM");
    assert!(detail["state"]["reasonData"].as_str().unwrap().starts_with('{'));
    assert_eq!(detail["previousState"]["value"], "OK");
    assert_eq!(detail["previousState"]["reason"], "all good");
    assert!(detail["previousState"].get("reasonData").is_none());
    let stamp = detail["previousState"]["timestamp"].as_str().unwrap();
    assert_eq!(stamp, ok_since.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string());
    assert!(stamp.ends_with("+0000") && stamp.len() == 28, "{stamp}");
}

#[test]
fn values_and_statistic_sets_summarise() {
    let values = MetricValue::Values {
        values: vec![1.0, 3.0],
        counts: vec![2.0, 1.0],
    };
    let set = values.summary().unwrap();
    assert_eq!(
        (set.sample_count, set.sum, set.minimum, set.maximum),
        (3.0, 5.0, 1.0, 3.0)
    );
    assert_eq!(Statistic::Average.of(&set), 5.0 / 3.0);
}
