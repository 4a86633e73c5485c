#!/usr/bin/env bash
# Lints the SAM template, and proves the linter still catches what matters.
#
#   1. template.yaml (and the CloudFormation wiring example, docs/wiring/cloudformation.yaml) must be clean (errors, warnings and informational findings all count: informational checks are
#      switched on with --include-checks I, so that e.g. a stateful resource without a deliberate DeletionPolicy, I3011,
#      fails the lint).
#   2. tests/fixtures/broken-template.yaml must be rejected. It carries three deliberate defects (a bad runtime,
#      an unknown property, an invalid event type). Because a SAM transform error stops cfn-lint at the first
#      defect, "the file fails" alone would not notice a linter that lost two of the three checks (cfn-lint 1.58
#      let the runtime and event type through). So each defect is also checked ALONE: the other two are repaired
#      and the linter must still reject the file, naming the defect. With all three repaired the file must pass
#      (the control: the failures come from the defects and nothing else).
#
# Pin: cfn-lint==1.51.0 (it applies the SAM transform; see .ci/run).
set -euo pipefail

cd "$(dirname "$0")/.."

TEMPLATE=template.yaml
BROKEN=tests/fixtures/broken-template.yaml
WIRING=docs/wiring/cloudformation.yaml
PINNED=1.51.0

# name | sed expression that repairs the defect | text cfn-lint must print when it catches it
CANARIES=(
  'bad runtime|s/provided\.al2099/provided.al2023/|provided.al2099'
  'unknown property|s/ReservedConcurrency: 1/ReservedConcurrentExecutions: 1/|ReservedConcurrency'
  'invalid event type|s/Type: EventBridge$/Type: EventBridgeRule/|Event Type is: EventBridge'
)

failures=0
pass() { printf 'ok    %s\n' "$1"; }
fail() {
  printf 'FAIL  %s\n' "$1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/        /'
  failures=$((failures + 1))
}

# A fresh machine has Python and pip but maybe not the linter: use (or make) the private virtualenv .ci/run uses,
# since Debian's Python refuses a plain `pip install` (PEP 668), and fetch the pinned linter into it from PyPI.
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/codepipeline-hooks/venv"
if ! command -v cfn-lint >/dev/null 2>&1 || [ "$(cfn-lint --version 2>&1 | awk '{print $NF}')" != "$PINNED" ]; then
  if [ "$("$VENV/bin/cfn-lint" --version 2>/dev/null | awk '{print $NF}')" != "$PINNED" ]; then
    echo "installing cfn-lint==$PINNED (pip, into $VENV)"
    { python3 -m venv "$VENV" && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "cfn-lint==$PINNED"; } ||
      { echo "FAIL  could not install cfn-lint==$PINNED into $VENV (python3 -m venv, then pip install cfn-lint==$PINNED)"; exit 1; }
  fi
  export PATH="$VENV/bin:$PATH"
  hash -r
fi
version="$(cfn-lint --version 2>&1 | awk '{print $NF}')"
if [ "$version" != "$PINNED" ]; then
  echo "note  cfn-lint $version is not the pinned $PINNED; the canaries below show whether it still bites"
fi

# lint FILE -> sets $out and $rc (cfn-lint exit code: bit 2 = error, 4 = warning, 8 = informational).
lint() {
  set +e
  out="$(cfn-lint --include-checks I -- "$1" 2>&1)"
  rc=$?
  set -e
}

# 1. The real template.
lint "$TEMPLATE"
if [ "$rc" -eq 0 ]; then
  pass "$TEMPLATE is clean"
else
  fail "$TEMPLATE has cfn-lint findings (exit $rc)" "$out"
fi

# 1b. The CloudFormation wiring example in the docs: documentation that must stay deployable.
lint "$WIRING"
if [ "$rc" -eq 0 ]; then
  pass "$WIRING is clean"
else
  fail "$WIRING has cfn-lint findings (exit $rc)" "$out"
fi

# 2. The broken fixture, whole.
lint "$BROKEN"
if [ $((rc & 2)) -ne 0 ]; then
  pass "$BROKEN is rejected"
else
  fail "$BROKEN passed cfn-lint (exit $rc): the linter no longer bites" "$out"
fi

# 3. Each defect alone, then the control with every defect repaired.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Every repair must change the fixture, or the fixture and the table above drifted apart.
drift=0
for c in "${CANARIES[@]}"; do
  IFS='|' read -r name fix _ <<<"$c"
  if sed -e "$fix" "$BROKEN" | cmp -s - "$BROKEN"; then
    fail "$BROKEN no longer contains the $name that '$fix' repairs: fixture and script drifted apart"
    drift=1
  fi
done

# variant DST SKIP: the fixture with every defect repaired except number SKIP (-1 = repair all).
variant() {
  local expr=() j fix
  for j in "${!CANARIES[@]}"; do
    [ "$j" -eq "$2" ] && continue
    IFS='|' read -r _ fix _ <<<"${CANARIES[$j]}"
    expr+=(-e "$fix")
  done
  sed "${expr[@]}" "$BROKEN" >"$1"
}

if [ "$drift" -eq 0 ]; then
  for i in "${!CANARIES[@]}"; do
    IFS='|' read -r name _ expect <<<"${CANARIES[$i]}"
    variant "$work/only-$i.yaml" "$i"
    lint "$work/only-$i.yaml"
    if [ $((rc & 2)) -ne 0 ] && grep -qF -- "$expect" <<<"$out"; then
      pass "$BROKEN: the $name alone is caught"
    elif [ $((rc & 2)) -ne 0 ]; then
      fail "$BROKEN: with only the $name left, cfn-lint failed but never mentioned '$expect'" "$out"
    else
      fail "$BROKEN: the $name alone passed cfn-lint (exit $rc): the linter no longer bites" "$out"
    fi
  done

  variant "$work/repaired.yaml" -1
  lint "$work/repaired.yaml"
  if [ "$rc" -eq 0 ]; then
    pass "$BROKEN with its defects repaired is clean (control)"
  else
    fail "$BROKEN with its defects repaired still has findings: it is broken in an unintended way" "$out"
  fi
fi

if [ "$failures" -ne 0 ]; then
  echo "lint-template: $failures check(s) failed"
  exit 1
fi
