//! Alarm evaluation (simplified; the rules are in the [`cloudwatch`](super) module documentation): from an
//! alarm and the stored data, as of a given time, the state the alarm should be in, with a reason worded like
//! AWS's and the `StateReasonData` JSON. Pure: deciding whether to apply it is the store's job.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::alarm::{Alarm, AlarmState, TreatMissingData};
use super::events::event_time;
use super::metrics::{Datum, StatisticSet};

/// What an evaluation decided: the state, its reason and its `StateReasonData`.
pub(super) struct Decision {
    pub(super) state: AlarmState,
    pub(super) reason: String,
    pub(super) reason_data: String,
}

/// One evaluation window: where it starts and what it aggregated to (`None`: no data).
struct Window {
    start: DateTime<Utc>,
    value: Option<(f64, f64)>,
}

/// Decides an alarm's state from the data, as of `now`; `None` means "leave it as it is".
pub(super) fn evaluate(alarm: &Alarm, datums: &[Datum], now: DateTime<Utc>) -> Option<Decision> {
    let period = Duration::seconds(i64::from(alarm.period.max(1)));
    let periods = alarm.evaluation_periods.max(1);
    let needed = alarm.datapoints_to_alarm.unwrap_or(periods).clamp(1, periods);
    // Newest window first: (now - period, now], then the one before.
    let windows: Vec<Window> = (0..periods)
        .map(|i| {
            let end = now - period * i;
            let start = end - period;
            let set = datums
                .iter()
                .filter(|d| d.timestamp > start && d.timestamp <= end && alarm.watches(d))
                .filter_map(|d| d.value.summary())
                .reduce(StatisticSet::merge);
            Window {
                start,
                value: set.map(|s| (alarm.statistic.of(&s), s.sample_count)),
            }
        })
        .collect();
    let present: Vec<&Window> = windows.iter().filter(|w| w.value.is_some()).collect();
    let missing = windows.len() - present.len();
    let breaches = |w: &Window| {
        w.value
            .is_some_and(|(v, _)| alarm.comparison.breaches(v, alarm.threshold))
    };
    let mut breaching = present.iter().filter(|w| breaches(w)).count();
    if alarm.treat_missing_data == TreatMissingData::Breaching {
        breaching += missing;
    }

    let state = if breaching >= needed as usize {
        AlarmState::Alarm
    } else if present.is_empty() {
        match alarm.treat_missing_data {
            TreatMissingData::Missing => AlarmState::InsufficientData,
            TreatMissingData::Ignore => return None,
            TreatMissingData::Breaching | TreatMissingData::NotBreaching => AlarmState::Ok,
        }
    } else {
        AlarmState::Ok
    };

    let shown: Vec<String> = present
        .iter()
        .filter(|w| (state == AlarmState::Alarm) == breaches(w))
        .map(|w| {
            let (value, _) = w.value.unwrap_or_default();
            format!("{value:?} ({})", w.start.format("%d/%m/%y %H:%M:%S"))
        })
        .collect();
    let threshold = alarm.threshold;
    let phrase = alarm.comparison.phrase();
    let reason = match state {
        AlarmState::Alarm => format!(
            "Threshold Crossed: {breaching} out of the last {periods} datapoints [{}] was {phrase} the threshold \
             ({threshold:?}) (minimum {needed} datapoint{} for OK -> ALARM transition).",
            shown.join(", "),
            if needed == 1 { "" } else { "s" },
        ),
        AlarmState::Ok if shown.is_empty() => format!(
            "Threshold Crossed: no datapoints were received for {periods} period{} and {missing} missing \
             datapoint{} treated as {}.",
            if periods == 1 { "" } else { "s" },
            if missing == 1 { " was" } else { "s were" },
            alarm.treat_missing_data.as_str(),
        ),
        AlarmState::Ok => format!(
            "Threshold Crossed: {} datapoint{} [{}] was not {phrase} the threshold ({threshold:?}) \
             (minimum 1 datapoint for ALARM -> OK transition).",
            shown.len(),
            if shown.len() == 1 { "" } else { "s" },
            shown.join(", "),
        ),
        AlarmState::InsufficientData => format!(
            "Insufficient Data: {periods} datapoint{} unknown.",
            if periods == 1 { " was" } else { "s were" },
        ),
    };
    let stamp = event_time;
    let reason_data = json!({
        "version": "1.0",
        "queryDate": stamp(now),
        "startDate": stamp(now - period * periods),
        "statistic": alarm.statistic.as_str(),
        "period": alarm.period,
        "recentDatapoints": present.iter().filter_map(|w| w.value.map(|(v, _)| v)).collect::<Vec<f64>>(),
        "threshold": alarm.threshold,
        "evaluatedDatapoints": present.iter().filter_map(|w| w.value.map(|(value, samples)| json!({
            "timestamp": stamp(w.start),
            "sampleCount": samples,
            "value": value,
        }))).collect::<Vec<_>>(),
    });
    Some(Decision {
        state,
        reason,
        reason_data: reason_data.to_string(),
    })
}
