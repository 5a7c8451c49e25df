#!/usr/bin/env bash
# Runs the given compiled test files under libfaketime (Debian package `faketime`) at wall-clock instants
# where a test that assumes a time of day breaks: just before and after midnight UTC, an hour boundary,
# Sunday->Monday, month and year end, Feb 28 -> 29 of a leap year, and both daylight-saving changes in
# Europe/Berlin. The clock starts at each instant and runs on, so a test that takes a minute crosses it.
# Not part of `npm test`: run it after `npm run build` when a change reads the clock or a calendar.
#
#   scripts/clock-check.sh dist/test/oee/*.test.js dist/test/assistant/parse.test.js
#   CLOCK_AT='2026-12-07 23:58:30' scripts/clock-check.sh dist/test/oee/oee.node.test.js   # one instant (UTC)
#
# Each instant is "TZ|time" (the time is local to TZ). Exit status 1 if any run failed. Integration tests
# talk to servers that keep the real clock; a failure there that comes only from the two clocks disagreeing
# (e.g. a write far in the server's future) is not the code's.
set -u
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null; then
  echo "clock-check: faketime is not installed (apt-get install faketime)" >&2
  exit 2
fi
if [ "$#" -eq 0 ]; then
  echo "usage: scripts/clock-check.sh dist/test/<feature>/<file>.test.js ..." >&2
  exit 2
fi
if [ -n "${CLOCK_AT:-}" ]; then
  INSTANTS=("UTC|${CLOCK_AT}")
else
  INSTANTS=(
    'UTC|2026-12-07 23:58:30'
    'UTC|2026-12-08 00:00:30'
    'UTC|2026-12-08 09:59:45'
    'UTC|2026-12-06 23:58:30'
    'UTC|2026-12-31 23:59:00'
    'UTC|2028-02-28 23:59:00'
    'Europe/Berlin|2027-03-28 01:59:30'
    'Europe/Berlin|2027-10-31 02:59:30'
  )
fi
export PATH="$PWD/node_modules/.bin:$PATH"
failed=()
for at in "${INSTANTS[@]}"; do
  tz="${at%%|*}"
  t="${at#*|}"
  echo "=== TZ=$tz $t"
  out=$(TZ="$tz" faketime "$t" mocha --no-config --timeout 30000 --exit --enable-source-maps \
    --reporter dot "$@" 2>&1)
  rc=$?
  echo "$out" | grep -E "passing|failing|pending" | sed 's/^ */    /'
  if [ "$rc" -ne 0 ]; then
    echo "$out" | sed -n '/failing/,$p' | head -60
    failed+=("TZ=$tz $t")
  fi
done
echo
if [ "${#failed[@]}" -eq 0 ]; then
  echo "clock-check: passed at all ${#INSTANTS[@]} instants"
else
  echo "clock-check: failed at ${#failed[@]} of ${#INSTANTS[@]} instants:"
  printf '    %s\n' "${failed[@]}"
  exit 1
fi
