//! Benchmark (not a test): the real runner binary, through the simulator's Lambda Runtime API, runs one job of
//! N checks at concurrency C against a local target service, and this prints the wall time and the runner
//! process's peak memory (`VmHWM` of the child process, read from /proc: what Lambda's "Max Memory Used" shows).
//!
//! ```sh
//! cargo build --release -p post-deploy-test-runner --bins --examples
//! target/release/examples/bench_checks [--bin-dir target/release] [--checks 500] [--concurrency 50] [--delay-ms 0]
//! ```
//!
//! The suite is far longer than the 1000 characters CodePipeline allows in `UserParameters` (the simulator does not
//! enforce that limit); it measures the engine and the binary, not the configuration path.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pipeline_sim::model::JobState;
use pipeline_sim::samples::{self, TEST_ACTION, TEST_STAGE};
use pipeline_sim::scenario::Timeline;
use pipeline_sim::stack::Stack;
use pipeline_sim::target::{TargetMode, TargetService};

struct Args {
    bin_dir: PathBuf,
    checks: usize,
    concurrency: usize,
    delay_ms: u64,
}

fn args() -> Result<Args, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/examples/bench_checks → target/<profile>
    let default_dir = exe.parent().and_then(|d| d.parent()).map(PathBuf::from);
    let mut args = Args {
        bin_dir: default_dir.unwrap_or_else(|| PathBuf::from("target/release")),
        checks: 500,
        concurrency: 50,
        delay_ms: 0,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let value = given.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--bin-dir" => args.bin_dir = PathBuf::from(&value),
            "--checks" => args.checks = number()? as usize,
            "--concurrency" => args.concurrency = number()? as usize,
            "--delay-ms" => args.delay_ms = number()?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(args)
}

fn suite(target: &TargetService, checks: usize, concurrency: usize) -> String {
    let checks: Vec<String> = (0..checks)
        .map(|i| format!(r#"{{"name": "c{i:04}", "url": "/c/{i}", "expect": {{"headers_present": ["x-version"]}}}}"#))
        .collect();
    format!(
        r#"{{"base_url": "{}", "concurrency": {concurrency}, "timeout_ms": 10000, "checks": [{}]}}"#,
        target.base_url(),
        checks.join(", ")
    )
}

/// Lambda's "Duration" and "Max Memory Used" of the last REPORT line.
fn report_line(logs: &[String]) -> Option<String> {
    logs.iter().rev().find(|l| l.starts_with("REPORT ")).map(|line| {
        line.split('\t')
            .filter(|part| part.starts_with("Duration") || part.starts_with("Max Memory"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = args()?;
    let target = TargetService::start().await.map_err(|e| e.to_string())?;
    if args.delay_ms > 0 {
        target.set_mode(TargetMode::Slow(Duration::from_millis(args.delay_ms)));
    }
    let stack = Stack::start(&args.bin_dir).await.map_err(|e| e.to_string())?;
    let runner = stack
        .post_deploy_test_runner(&[("RUST_LOG", "warn")], Duration::from_secs(900))
        .await
        .map_err(|e| e.to_string())?;
    let waited = Instant::now();
    while runner.startup_time().is_none() && waited.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let idle_kib = runner.peak_rss_kib();

    let parameters = suite(&target, args.checks, args.concurrency);
    stack
        .sim
        .state
        .world()
        .put_pipeline(samples::tested_pipeline("bench", &parameters, Duration::from_secs(900)));
    let started = Instant::now();
    let played = stack
        .play(&samples::tested_release("bench"), &Timeline::new(false))
        .await
        .ok_or("the release did not play")?;
    let played_for = started.elapsed();
    let job = played
        .jobs_of(TEST_STAGE, TEST_ACTION)
        .first()
        .cloned()
        .ok_or("no job")?
        .clone();
    let peak_kib = runner.peak_rss_kib();

    let summary = match &job.state {
        JobState::Succeeded(success) => success.summary.clone().unwrap_or_default(),
        JobState::Failed(failure) => format!("FAILED: {}", failure.message.lines().next().unwrap_or_default()),
        other => format!("{other:?}"),
    };
    let reported_after = job
        .reports
        .first()
        .and_then(|r| (r.at - job.created).to_std().ok())
        .unwrap_or_default();
    let kib = |v: Option<u64>| {
        v.map_or_else(
            || "n/a".to_owned(),
            |k| format!("{k} KiB ({:.1} MiB)", k as f64 / 1024.0),
        )
    };
    println!(
        "bench_checks: {} checks, concurrency {}, target delay {} ms, runner {}",
        args.checks,
        args.concurrency,
        args.delay_ms,
        args.bin_dir.join("post-deploy-test-runner").display()
    );
    println!("  job result:              {summary}");
    println!("  job created → reported:  {:.3} s", reported_after.as_secs_f64());
    println!("  release played in:       {:.3} s", played_for.as_secs_f64());
    println!(
        "  lambda REPORT:           {}",
        report_line(&runner.logs()).unwrap_or_default()
    );
    println!("  runner peak RSS idle:    {}", kib(idle_kib));
    println!("  runner peak RSS (VmHWM): {}", kib(peak_kib));
    println!(
        "  target: {} requests, at most {} at once",
        target.requests(),
        target.max_in_flight()
    );
    Ok(())
}
