//! Peak heap while many checks read large bodies at once. A binary of its own: the counting allocator sees every
//! allocation in the process, so nothing else may run beside the measurement.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use checks::{AddressPolicy, Suite, Verdict};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only the counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // Counted as the new block arriving before the old one leaves, as a moving realloc does.
            grew(new_size);
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }
}

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: usize = 1024 * 1024;

/// `[ 1,1,…,1]`, exactly 1 MiB: the whole body is read, and a JSON value of it holds half a million numbers.
fn json_array() -> Vec<u8> {
    let mut body = b"[ ".to_vec();
    while body.len() < MIB - 2 {
        body.extend_from_slice(b"1,");
    }
    body.truncate(MIB - 2);
    body.extend_from_slice(b"1]");
    assert_eq!(body.len(), MIB);
    body
}

/// Answers every request with `body` (one shared buffer, so the server adds no heap per connection).
async fn serve(body: Arc<[u8]>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let mut read = 0;
                while !request[..read].windows(4).any(|w| w == b"\r\n\r\n") && read < request.len() {
                    match stream.read(&mut request[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn suite(base_url: &str, concurrency: usize) -> Suite {
    let checks: Vec<_> = (0..concurrency)
        .map(|i| {
            json!({"name": format!("big{i}"), "url": format!("/big/{i}"),
                        "expect": {"json": [{"pointer": "/0", "equals": 1}]}})
        })
        .collect();
    let raw = json!({"base_url": base_url, "concurrency": concurrency, "timeout_ms": 30000, "checks": checks});
    Suite::parse(&raw.to_string()).unwrap()
}

/// The peak heap, in bytes above what was allocated before, while `concurrency` checks each read a 1 MiB body.
async fn peak_while_running(base_url: &str, concurrency: usize) -> usize {
    let suite = suite(base_url, concurrency);
    let policy = AddressPolicy::allowing(&["127.0.0.1/32".parse().unwrap()]);
    let client = checks::http_client_with(&policy).unwrap();
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let report = suite
        .run_with(&client, &policy, Instant::now() + Duration::from_secs(60))
        .await;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.failure_message());
    assert_eq!(report.passed, concurrency);
    peak
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_one_mib_bodies_stay_under_64_mib() {
    let base_url = serve(json_array().into()).await;
    let at_8 = peak_while_running(&base_url, 8).await;
    let at_64 = peak_while_running(&base_url, 64).await;
    println!(
        "peak heap: {:.1} MiB at 8 concurrent, {:.1} MiB at 64",
        at_8 as f64 / MIB as f64,
        at_64 as f64 / MIB as f64
    );
    assert!(at_64 < 64 * MIB, "64 concurrent 1 MiB bodies peaked at {at_64} bytes");
}
