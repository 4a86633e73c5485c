#!/usr/bin/env python3
"""Size of each deployable function as Lambda gets it: the stripped release binary, and the zip
(`bootstrap` deflated, as cargo-lambda and SAM package it). Run after `cargo build --release --bins`;
`make demo` prints each function's exec -> first Runtime API poll time and peak memory."""
import io
import os
import sys
import zipfile

release = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release")
print(f"{'function':<28}{'binary':>10}{'zip':>10}")
for function in sys.argv[1:]:
    binary = os.path.join(release, function)
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} missing: cargo build --release --bins")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.write(binary, "bootstrap")
    print(f"{function:<28}{os.path.getsize(binary) / 1e6:>8.1f}MB{len(buffer.getvalue()) / 1e6:>8.1f}MB")
