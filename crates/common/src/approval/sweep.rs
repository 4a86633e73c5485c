//! The sweep: look into every pipeline the gate serves and decide its pending approvals again, within the
//! invocation's deadline. Pipelines are read a few at a time and each approval is decided as soon as its pipeline
//! is read; each gets a bounded share of what is left; no work starts that could not finish; and the next sweep
//! starts where this one stopped, so a pipeline that hangs or a slow day cannot starve the ones after it.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use futures_util::stream;

use super::gate::{Gate, GateFunction, Handled, Settled};
use crate::runtime::remaining;

/// Pipelines read at once: enough that a few hanging reads do not stall the sweep, few enough to stay well inside
/// CodePipeline's read rate limits.
pub(super) const READ_CONCURRENCY: usize = 4;
/// The longest one pipeline's read may take before the sweep moves on without it.
const READ_LIMIT: Duration = Duration::from_secs(5);
/// Less than this left, and no new approval is started: it could not be decided and answered in time.
pub(super) const MIN_SHARE: Duration = Duration::from_secs(2);

/// Where a fresh container's first sweep starts: a different pipeline each schedule period, so even sweeps that are
/// always cut short reach every pipeline in turn.
pub(super) fn first_start(pipelines: usize, interval: chrono::Duration) -> usize {
    let period = interval.num_seconds().max(60) as u64;
    let epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    ((epoch / period) as usize).checked_rem(pipelines).unwrap_or(0)
}

/// The deadline for one of `waiting` pieces of work still to do before `deadline`: an even share of what is left,
/// but at least `MIN_SHARE` (never past `deadline`).
pub(super) fn share(deadline: Instant, waiting: usize) -> Instant {
    let left = remaining(deadline, Duration::ZERO);
    let even = left / waiting.max(1) as u32;
    (Instant::now() + even.max(MIN_SHARE)).min(deadline)
}

/// `pipelines` in sweep order, starting at `start`.
pub(super) fn rotation(pipelines: &[String], start: usize) -> Vec<(usize, &str)> {
    let count = pipelines.len();
    (0..count)
        .map(|i| (start + i) % count.max(1))
        .map(|i| (i, pipelines[i].as_str()))
        .collect()
}

pub(super) async fn run<G: Gate>(
    function: &GateFunction<G>,
    deadline: Instant,
    settled: &mut Vec<Settled<G::Notice>>,
) -> Vec<Handled> {
    let pipelines = &function.settings.pipelines;
    if pipelines.is_empty() {
        tracing::info!("sweep: no pipelines to look into (GATE_PIPELINES is empty)");
        return Vec::new();
    }
    let start = function.cursor.load(Ordering::Relaxed) % pipelines.len();
    let order = rotation(pipelines, start);
    let topic = function.settings.topic_arn.as_str();
    let desk = &function.desk;
    // Owned names: a stream of borrowed ones trips the compiler's higher-ranked `Send` check on the future.
    let owned: Vec<(usize, String)> = order
        .iter()
        .map(|(index, pipeline)| (*index, (*pipeline).to_owned()))
        .collect();
    let mut reads = stream::iter(owned)
        .map(|(index, pipeline)| async move {
            let read_by = (Instant::now() + READ_LIMIT).min(deadline);
            let read = desk.pending_approvals(&pipeline, topic, read_by).await;
            (index, pipeline, read)
        })
        .buffer_unordered(READ_CONCURRENCY);

    let mut handled = Vec::new();
    let mut finished: HashSet<usize> = HashSet::new();
    let (mut unread, mut failed, mut unreached) = (order.len(), 0usize, 0usize);
    while remaining(deadline, MIN_SHARE) > Duration::ZERO {
        let Some((index, pipeline, read)) = reads.next().await else {
            break;
        };
        unread -= 1;
        let pending = match read {
            Ok(pending) => pending,
            Err(error) => {
                failed += 1;
                tracing::error!(%pipeline, %error, "sweep could not read the pipeline; the next sweep tries again");
                finished.insert(index);
                continue;
            }
        };
        let count = pending.len();
        let mut complete = true;
        for (done, request) in pending.into_iter().enumerate() {
            if remaining(deadline, MIN_SHARE).is_zero() {
                unreached += count - done;
                complete = false;
                break;
            }
            // Pipelines not yet read are read a few at a time, and most hold no approval: weigh them so.
            let waiting = (count - done) + unread.div_ceil(READ_CONCURRENCY);
            let place = request.place();
            match function.handle_one(request, share(deadline, waiting), settled).await {
                Ok(done) => handled.push(done),
                Err(error) => {
                    failed += 1;
                    tracing::error!(approval = %place, %error, "sweep could not answer the approval; the next sweep \
                                    tries again");
                }
            }
        }
        if complete {
            finished.insert(index);
        }
    }
    drop(reads);
    // The next sweep starts at the first pipeline (in this sweep's order) not finished; if all were, one further on,
    // so the order itself rotates and no pipeline is always last.
    let next = order
        .iter()
        .map(|(index, _)| *index)
        .find(|index| !finished.contains(index))
        .unwrap_or((start + 1) % pipelines.len());
    function.cursor.store(next, Ordering::Relaxed);
    let not_reached = pipelines.len() - finished.len();
    if not_reached > 0 || unreached > 0 {
        tracing::warn!(
            not_reached,
            unreached_approvals = unreached,
            next_start = %pipelines[next],
            "sweep stopped at its deadline; the next sweep starts where this one stopped"
        );
    }
    tracing::info!(
        pipelines = pipelines.len(),
        decided = handled.len(),
        failed,
        not_reached,
        "sweep"
    );
    handled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_starts_anywhere_and_visits_each_pipeline_once() {
        let pipelines: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let names = |start| {
            rotation(&pipelines, start)
                .into_iter()
                .map(|(_, p)| p)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(0), ["a", "b", "c"]);
        assert_eq!(names(2), ["c", "a", "b"]);
        assert!(first_start(3, chrono::Duration::minutes(5)) < 3);
        assert_eq!(first_start(0, chrono::Duration::minutes(5)), 0);
    }

    #[test]
    fn a_share_is_even_but_never_below_the_minimum_nor_past_the_deadline() {
        let deadline = Instant::now() + Duration::from_secs(40);
        let one = share(deadline, 4).saturating_duration_since(Instant::now());
        assert!(
            one > Duration::from_secs(9) && one <= Duration::from_secs(10),
            "{one:?}"
        );
        let tiny = share(deadline, 1000).saturating_duration_since(Instant::now());
        assert!(tiny > Duration::from_millis(1900), "{tiny:?}");
        let near = Instant::now() + Duration::from_millis(500);
        assert!(share(near, 1) <= near);
    }
}
