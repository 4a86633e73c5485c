//! The fault suite: every function against the faults production throws at it (AWS 5xx, throttling, hangs and
//! answers it cannot read; Slack's refusals and silences; targets down, slow, huge or flapping; malformed and
//! duplicate events; a deadline about to pass), each cell one function × one fault → the expected outcome, run
//! with the real binaries through the simulator. A cell fails with what happened instead; `print_matrix` prints
//! the table the README carries.
//!
//! Across every cell: the function answers before its deadline (never `Timeout` or `Crashed` unless the cell says
//! so), a release is never approved on a fault, and no secret (webhook URL, approval token) reaches a log line or
//! an error.

mod cell;
mod gates;
mod notifier;
mod observers;

use cell::run_cells;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_notifier_under_faults() {
    run_cells("failure notifier", notifier::cells()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_gates_under_faults() {
    run_cells("approval gates", gates::cells()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_and_canary_under_faults() {
    run_cells("runner and canary", observers::cells()).await;
}
