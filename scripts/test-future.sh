#!/usr/bin/env bash
# The suite with every process's clock moved ahead (default 365 days): libfaketime is preloaded
# (LD_PRELOAD, inherited by every child: vitest workers, the CLI, the emulator, DynamoDB Local's JVM).
# Monotonic clocks move by the same offset and keep their rate, so timers and timeouts behave
# (FAKETIME_DONT_FAKE_MONOTONIC=1 would make the JVM start in ~60 s instead of ~4 s). Arguments go to `vitest run`.
#   npm run test:future                       # the whole suite, a year ahead
#   npm run test:future -- --project unit     # only the unit tests
#   FUTURE_DAYS=800 npm run test:future       # another offset
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null 2>&1; then
  echo "test:future needs libfaketime: apt-get install faketime" >&2
  exit 2
fi
days="${FUTURE_DAYS:-365}"
export INVITE_SYNC_FUTURE_DAYS="$days"
expected=$(( $(date +%s) + days * 86400 ))
seen=$(faketime -f "+${days}d" date +%s)
if [ $(( seen - expected )) -gt 120 ] || [ $(( expected - seen )) -gt 120 ]; then
  echo "faketime did not move the clock (got $(date -d "@$seen" -u +%FT%TZ))" >&2
  exit 2
fi
echo "== clock moved ${days} days ahead: $(faketime -f "+${days}d" date -u +%FT%TZ)" >&2
exec faketime -f "+${days}d" npx vitest run "$@"
