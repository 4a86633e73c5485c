#!/usr/bin/env python3
"""`make bench`: the performance budget of issue 14, measured side by side in one run.

For every deployable function and a bare `lambda_runtime` hello binary (the floor, never packaged), built with the
same size-tuned release profile: the zip Lambda gets, exec -> first Runtime API poll over interleaved cold starts
(median [min-max]), the first invocation of a sample event (and init + first together) and a warm one against the
simulator, and peak RSS. Then the runner's 500-check benchmark and the calendar engine's. Ends with a table of
budget rows, each pass or fail, and (with --readme) rewrites README.md's "What it costs" section from it.

    scripts/bench.py --functions "failure-notifier ..." [--rounds 15] [--quick] [--readme README.md]

--quick (CI): 3 rounds, binaries of the `e2e` profile unless --bin-dir says otherwise, and timings never fail the
run (only a harness that breaks does). Run through `make bench` / `make bench QUICK=1`, which build first.
"""
import argparse
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")

# The budget (issue 14). Ratios and sizes, so the machine's speed does not decide them.
COLD_START_RATIO = 2.0
ZIP_MB = 2.5
PEAK_RSS_MIB = 12.0
RUNNER_RATIO = 1.2
FIRST_INVOCATION_GROWTH_MS = 1.0

# Before issue 14's work (the same harness, 15 rounds, this machine): median init + first invocation, ms. The first
# invocation may not grow by more than 1 ms through start-up work moved into it.
BASELINE_INIT_PLUS_FIRST_MS_FILE = os.path.join(ROOT, "scripts", "bench-baseline.json")

HELLO = "hello (bare lambda_runtime)"
# Required settings of functions whose Cargo.toml has no [package.metadata.lambda.env] for them (template.yaml's).
WITHOUT_METADATA = {"job-reaper": {"RUNNER_FUNCTION_NAME": "post-deploy-test-runner"}}
LOCAL_HOSTS = re.compile(r"https://[a-z0-9.-]*example\.com")


def zip_size(binary):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.write(binary, "bootstrap")
    return len(buffer.getvalue())


def sample_events(function):
    """The function's sample event (events/<function>.*.json), the first of a preferred kind; None: a schedule."""
    events = os.path.join(ROOT, "events")
    names = sorted(n for n in os.listdir(events) if n.startswith(function + ".") and n.endswith(".json"))
    for kind in ("action-failed", "sns-approval", "job", "scheduled"):
        if f"{function}.{kind}.json" in names:
            names = [f"{function}.{kind}.json"]
            break
    if not names:
        return None, None
    with open(os.path.join(events, names[0])) as f:
        # Targets and feeds become the local target service: nothing leaves the machine.
        event = json.loads(LOCAL_HOSTS.sub("{target}", f.read()))
    warm = json.loads(json.dumps(event))
    detail = warm.get("detail")
    if isinstance(detail, dict) and "execution-id" in detail:
        # The notifier remembers what it notified: the warm event is another failure, not a duplicate.
        detail["execution-id"] = detail["execution-id"][:-4] + "beef"
    return event, warm


def function_env(function):
    """The template's settings at their defaults (the crate's [package.metadata.lambda.env]) plus what the
    simulator needs, as `stack.rs` gives them."""
    manifest = os.path.join(ROOT, "crates", function, "Cargo.toml")
    with open(manifest, "rb") as f:
        package = tomllib.load(f).get("package", {})
    env = dict(package.get("metadata", {}).get("lambda", {}).get("env", {}))
    # Settings a crate does not declare there yet (template.yaml gives them).
    env = {**WITHOUT_METADATA.get(function, {}), **env}
    env = {k: LOCAL_HOSTS.sub("{target}", str(v)) for k, v in env.items()}
    env["RUST_LOG"] = "info"
    env["TARGET_ALLOW_CIDRS"] = "127.0.0.1/32"
    env.setdefault("SLACK_WEBHOOK_SECRET_ID", "codepipeline-hooks/slack/default")
    return env


def median_range(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def fmt_range(values, unit="ms"):
    med, lo, hi = median_range(values)
    if med is None:
        return "n/a"
    return f"{med:.1f} {unit} [{lo:.1f}–{hi:.1f}]"


def run(cmd, **kw):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=False, text=True, **kw)


def machine():
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if models:
            cpu = f"{models[0]}, {len(models)} cores"
    except OSError:
        pass
    return f"{platform.machine()} Linux ({cpu})"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", required=True)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--bin-dir")
    parser.add_argument("--harness-dir", default=os.path.join(TARGET, "e2e", "examples"))
    parser.add_argument("--readme")
    parser.add_argument("--skip-calendar", action="store_true")
    args = parser.parse_args()
    functions = args.functions.split()
    rounds = args.rounds or (3 if args.quick else 15)
    bin_dir = args.bin_dir or os.path.join(TARGET, "e2e" if args.quick else "release")
    hello = os.path.join(bin_dir, "bench-hello")

    rows = []  # (budget row, measured, pass)
    report = {}
    missing = [f for f in functions if not os.access(os.path.join(bin_dir, f), os.X_OK)]
    if missing or not os.access(hello, os.X_OK):
        sys.exit(f"missing in {bin_dir}: {' '.join(missing) or 'bench-hello'} (make bench builds them)")

    # --- functions and the floor, interleaved -------------------------------------------------------------------
    spec = [{"name": HELLO, "binary": hello, "env": {}, "event": {"hello": "world"}, "warm_event": None}]
    for function in functions:
        event, warm = sample_events(function)
        spec.append({
            "name": function,
            "binary": os.path.join(bin_dir, function),
            "env": function_env(function),
            "event": event,
            "warm_event": warm,
        })
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
        spec_path = f.name
    harness = os.path.join(args.harness_dir, "bench_functions")
    done = run([harness, "--spec", spec_path, "--rounds", str(rounds)], stdout=subprocess.PIPE)
    os.unlink(spec_path)
    if done.returncode != 0:
        sys.exit(f"bench_functions failed ({done.returncode})")
    starts = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            result = json.loads(line)
            starts.setdefault(result["name"], []).append(result)

    def series(name, key):
        return [s[key] for s in starts.get(name, [])]

    hello_median = median_range(series(HELLO, "startup_ms"))[0]
    baseline = {}
    if os.path.exists(BASELINE_INIT_PLUS_FIRST_MS_FILE):
        with open(BASELINE_INIT_PLUS_FIRST_MS_FILE) as f:
            baseline = json.load(f)

    print(f"\nFunctions on {machine()}, binaries from {bin_dir}, {rounds} interleaved cold starts each\n")
    header = f"{'function':<28}{'zip':>8}  {'cold start (exec→poll)':<26}{'ratio':>6}  {'init+first':<10}  {'first':<22}{'warm':<22}{'peak RSS':>9}  outcome"
    print(header)
    table = []
    for name in [HELLO] + functions:
        binary = hello if name == HELLO else os.path.join(bin_dir, name)
        size = zip_size(binary)
        startup = series(name, "startup_ms")
        first = series(name, "first_ms")
        warm = series(name, "warm_ms")
        init_first = [s + f for s, f in zip(startup, first) if s is not None]
        rss = [r / 1024 for r in series(name, "rss_peak_kib") if r is not None]
        med = median_range(startup)[0]
        ratio = med / hello_median if med and hello_median else None
        outcomes = sorted(set(series(name, "first_outcome") + series(name, "warm_outcome")))
        entry = {
            "zip_mb": size / 1e6,
            "binary_mb": os.path.getsize(binary) / 1e6,
            "startup": median_range(startup),
            "ratio": ratio,
            "first": median_range(first),
            "warm": median_range(warm),
            "init_first": median_range(init_first),
            "rss_mib": max(rss) if rss else None,
            "outcomes": outcomes,
        }
        report[name] = entry
        table.append((name, entry))
        print(
            f"{name[:27]:<28}{size / 1e6:>6.2f}MB  {fmt_range(startup):<26}"
            f"{(f'{ratio:.2f}×' if ratio else 'n/a'):>6}  {entry['init_first'][0] or 0:>6.1f} ms  "
            f"{fmt_range(first):<22}{fmt_range(warm):<22}{(max(rss) if rss else 0):>6.1f}MiB  {', '.join(outcomes)}"
        )
        for s in starts.get(name, []):
            if s.get("log_tail"):
                print("    " + "\n    ".join(s["log_tail"]))
                break
        if name == HELLO:
            continue
        rows.append((f"{name}: cold start ≤ {COLD_START_RATIO}× hello", f"{ratio:.2f}×" if ratio else "n/a",
                     ratio is not None and ratio <= COLD_START_RATIO))
        rows.append((f"{name}: zip ≤ {ZIP_MB} MB", f"{size / 1e6:.2f} MB", size / 1e6 <= ZIP_MB))
        peak = max(rss) if rss else None
        rows.append((f"{name}: peak RSS ≤ {PEAK_RSS_MIB:g} MiB", f"{peak:.1f} MiB" if peak else "n/a",
                     peak is not None and peak <= PEAK_RSS_MIB))
        before = baseline.get(name, {}).get("first_ms")
        now = entry["first"][0]
        if before is not None and now is not None:
            rows.append((f"{name}: first invocation ≤ before + {FIRST_INVOCATION_GROWTH_MS:g} ms ({before:.1f} ms)",
                         f"{now:.1f} ms", now <= before + FIRST_INVOCATION_GROWTH_MS))

    # --- the runner's benchmark --------------------------------------------------------------------------------
    runner_results = []
    bench_checks = os.path.join(args.harness_dir, "bench_checks")
    if os.access(bench_checks, os.X_OK) and os.access(os.path.join(bin_dir, "post-deploy-test-runner"), os.X_OK):
        for delay in (0, 20):
            print(f"\nRunner: 500 checks at concurrency 50, target delay {delay} ms", flush=True)
            done = run([bench_checks, "--bin-dir", bin_dir, "--checks", "500", "--concurrency", "50",
                        "--delay-ms", str(delay)], stdout=subprocess.PIPE)
            print(done.stdout, end="")
            reported = re.search(r"job created → reported:\s+([\d.]+) s", done.stdout)
            peak = re.search(r"peak RSS \(VmHWM\):\s+(\d+) KiB", done.stdout)
            result = re.search(r"job result:\s+(.*)", done.stdout)
            seconds = float(reported.group(1)) if reported else None
            peak_mib = int(peak.group(1)) / 1024 if peak else None
            runner_results.append((delay, seconds, peak_mib))
            ok = done.returncode == 0 and result is not None and not result.group(1).startswith("FAILED")
            rows.append((f"runner bench (delay {delay} ms): job succeeded", result.group(1)[:40] if result else "n/a", ok))
            if delay > 0:
                limit = 500 / 50 * delay / 1000
                rows.append((f"runner bench: ≤ {RUNNER_RATIO}× loopback limit ({limit * 1000:.0f} ms)",
                             f"{seconds * 1000:.0f} ms ({seconds / limit:.2f}×)" if seconds else "n/a",
                             seconds is not None and seconds <= RUNNER_RATIO * limit))
            rows.append((f"runner bench (delay {delay} ms): peak RSS ≤ {PEAK_RSS_MIB:g} MiB",
                         f"{peak_mib:.1f} MiB" if peak_mib else "n/a", peak_mib is not None and peak_mib <= PEAK_RSS_MIB))
    else:
        print(f"\n(no {bench_checks}: the runner's benchmark is skipped)")

    # --- the calendar engine's ----------------------------------------------------------------------------------
    calendar_ok = None
    calendar = os.path.join(ROOT, "crates", "blackday-calendar", "examples", "bench_calendar.rs")
    if os.path.exists(calendar) and not args.skip_calendar:
        print("\nCalendar engine (make bench-calendar)", flush=True)
        cmd = ["make", "--no-print-directory", "-C", ROOT, "bench-calendar"] + (["QUICK=1"] if args.quick else [])
        done = run(cmd)
        calendar_ok = done.returncode == 0
        rows.append(("calendar engine: make bench-calendar within its budget", "exit 0" if calendar_ok else
                     f"exit {done.returncode}", calendar_ok))

    # --- the table -----------------------------------------------------------------------------------------------
    width = max(len(r[0]) for r in rows) + 2
    print(f"\nBudget ({'quick mode: timings not enforced' if args.quick else 'issue 14'}), {machine()}\n")
    print(f"{'row':<{width}}{'measured':<24}result")
    for row, measured, ok in rows:
        print(f"{row:<{width}}{measured:<24}{'pass' if ok else 'FAIL'}")
    failed = [r for r in rows if not r[2]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} rows pass")

    if args.readme and not args.quick:
        write_readme(args.readme, table, runner_results, rounds, bin_dir, rows)

    if args.quick:
        # A harness that produced no measurement is broken; timings decide nothing here.
        broken = [name for name, e in table if e["startup"][0] is None]
        sys.exit(f"no start-up measured for {', '.join(broken)}" if broken else 0)
    sys.exit(1 if failed else 0)


def write_readme(path, table, runner_results, rounds, bin_dir, rows):
    lines = [
        "### What it costs",
        "",
        f"Measured by `make bench` on {machine()}, `{os.path.basename(bin_dir.rstrip('/'))}` profile (size-tuned),",
        f"{rounds} cold starts of each binary interleaved in one run, against the local simulator. Start-up is exec → the",
        "first Runtime API poll; the floor is a bare `lambda_runtime` hello binary built the same way (`crates/bench-hello`,",
        "never packaged). The first invocation is a sample event from `events/` (a scheduled event where there is none)",
        "over fresh connections; warm is the next one in the same process; the outcome is the function's answer (the",
        "sample events name pipelines and jobs the simulator does not hold, so some end at their first CodePipeline call).",
        "Peak memory is the process's `VmHWM` after both. The zip is `bootstrap` deflated as cargo-lambda packages it;",
        "Lambda runs arm64 (`make package`), whose zips were 7–21% smaller than x86_64's when last cross-built.",
        "",
        "| function | zip x86_64 | start-up, median [min–max] | × hello | init + first invocation | warm invocation | peak memory | outcome |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, e in table:
        med, lo, hi = e["startup"]
        lines.append(
            f"| {name} | {e['zip_mb']:.2f} MB | {med:.1f} ms [{lo:.1f}–{hi:.1f}] | "
            f"{'' if name == HELLO else format(e['ratio'], '.2f')} | {e['init_first'][0]:.1f} ms | {e['warm'][0]:.1f} ms | "
            f"{e['rss_mib']:.1f} MiB | {', '.join(e['outcomes'])} |"
        )
    lines.append("")
    for delay, seconds, peak in runner_results:
        if seconds is not None:
            lines.append(
                f"The runner's benchmark, 500 checks at concurrency 50 against a local target answering "
                f"{'at once' if delay == 0 else f'after {delay} ms'}: job created → reported in {seconds * 1000:.0f} ms"
                + (f" (the loopback limit is {500 / 50 * delay:.0f} ms)" if delay else "")
                + f", peak memory {peak:.1f} MiB."
            )
    over = [f"{row} — {measured}" for row, measured, ok in rows if not ok]
    lines += [
        "",
        "Over budget in this run: " + ("; ".join(over) if over else "nothing") + ".",
        "",
        "The budget (issue 14): start-up ≤ 2× the hello binary's in the same run, zips ≤ 2.5 MB, peak memory ≤ 12 MiB,",
        "the runner's benchmark within 1.2× of its loopback limit; `make bench` prints each as a pass/fail row, and",
        "`make bench QUICK=1` (CI) runs the same harness briefly without judging timings. Start-up and memory on arm64",
        "(what Lambda runs; `make package` cross-builds it) are not measured here: there is no arm64 machine to run on.",
        "",
    ]
    with open(path) as f:
        text = f.read()
    start = text.index("### What it costs")
    end = text.index("\n## ", start) + 1
    with open(path, "w") as f:
        f.write(text[:start] + "\n".join(lines) + "\n" + text[end:])
    print(f"\n{path}: \"What it costs\" regenerated")


if __name__ == "__main__":
    main()
