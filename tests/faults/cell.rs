//! One cell of the matrix, and running a function's cells.

use std::future::Future;
use std::pin::Pin;

use pipeline_sim::lambda::{Invocation, Outcome};

pub type Check = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One function × one fault → what must happen.
pub struct Cell {
    pub function: &'static str,
    pub fault: &'static str,
    pub expect: &'static str,
    pub run: fn() -> Check,
}

pub fn cell(function: &'static str, fault: &'static str, expect: &'static str, run: fn() -> Check) -> Cell {
    Cell {
        function,
        fault,
        expect,
        run,
    }
}

/// Runs every cell (two at a time: each starts its own simulator and function processes) and fails naming every
/// cell that did not hold, after printing the whole matrix with each cell's result.
pub async fn run_cells(group: &str, cells: Vec<Cell>) {
    use futures_util::StreamExt;
    let results: Vec<(usize, Result<(), String>)> = futures_util::stream::iter(cells.iter().enumerate())
        .map(|(index, cell)| async move { (index, (cell.run)().await) })
        .buffer_unordered(2)
        .collect()
        .await;
    let mut results = results;
    results.sort_by_key(|(index, _)| *index);
    let mut failures = Vec::new();
    println!("\n| function | fault | expected | result |\n|---|---|---|---|");
    for (index, result) in &results {
        let cell = &cells[*index];
        let verdict = match result {
            Ok(()) => "ok".to_owned(),
            Err(problem) => {
                failures.push(format!("{} × {}: {problem}", cell.function, cell.fault));
                "FAILED".to_owned()
            }
        };
        println!("| {} | {} | {} | {verdict} |", cell.function, cell.fault, cell.expect);
    }
    assert!(
        failures.is_empty(),
        "{group}: {} cell(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The value a synchronous invocation answered, or why not.
pub fn answered(invocation: &Invocation) -> Result<&serde_json::Value, String> {
    match &invocation.outcome {
        Outcome::Ok(value) => Ok(value),
        other => Err(format!("expected an answer, got {other:?}")),
    }
}

/// The error type an invocation failed with, or why not.
pub fn failed_with(invocation: &Invocation, error_type: &str) -> Result<String, String> {
    match &invocation.outcome {
        Outcome::Error {
            error_type: got,
            error_message,
        } if got == error_type => Ok(error_message.clone()),
        other => Err(format!("expected error {error_type}, got {other:?}")),
    }
}

/// Fails when `secret` appears in any of `places` (log lines, errors, messages).
pub fn never_shows(secret: &str, places: &[String]) -> Result<(), String> {
    match places.iter().find(|place| place.contains(secret)) {
        Some(place) => Err(format!("a secret leaked into: {place}")),
        None => Ok(()),
    }
}

pub fn ensure(condition: bool, problem: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(problem()) }
}
