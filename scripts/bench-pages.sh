#!/usr/bin/env bash
# The public room page (50 messages) against a static file of the same size,
# served by the same release server in the same run: wrk, 32 connections.
# BENCH_PAGE=thread measures a thread's page instead (its first message and
# 50 replies).
# Targets: the page's throughput >= 25 % of the static file's, its p99 <= 20 ms.
# The page is measured twice: as visitors get it (shared for a second between
# them, server/src/shared_pages.rs), and rendered for every request
# (`Cache-Control: no-cache`, as a hard reload asks).
# A report, not a gate: prints MET or MISSED and exits 0 either way.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/release-server.sh

THREADS=2 CONNECTIONS=32 DURATION=${DURATION:-15s}  # DURATION=3s for a quick try
STATIC=target/site/bench-static.html

if ! command -v wrk >/dev/null; then
  echo "==> installing wrk"
  sudo_cmd=$([ "$(id -u)" = 0 ] && echo "" || echo "sudo")
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk
fi

start_release_server bench 50 50
if [ "${BENCH_PAGE:-room}" = thread ]; then
  ROOM_PATH=$THREAD_PATH
fi
trap 'rm -f "$STATIC"; stop_release_server' EXIT

# The page as wrk gets it: no Accept-Encoding, so neither side is compressed.
# Its own bytes make the static file: exactly the same size and content.
curl -fsS -o "$STATIC" "$BASE_URL$ROOM_PATH"
bytes=$(wc -c <"$STATIC")
echo "Room page: $bytes bytes; static copy: /${STATIC#target/site/}"
[ "$(curl -fsS "$BASE_URL/${STATIC#target/site/}" | wc -c)" = "$bytes" ] || { echo "The static file is not served whole." >&2; exit 1; }

# Prints "REQ_PER_SEC P50_MS P99_MS ERRORS" from wrk --latency's output.
summarize() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
      return v + 0
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 }
    # Socket errors and non-2xx answers would make the figures meaningless.
    /Socket errors:/ { errors += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { errors += $5 }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, errors }
  '
}

# Runs wrk on a path (then any extra wrk arguments), showing its output and
# keeping it in a file to summarize.
run_wrk() {
  local path=$1 name=$2
  shift 2
  echo "==> wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency $* $path"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$BASE_URL$path" | tee "$SERVER_TMP/$name.wrk"
}
run_wrk "$ROOM_PATH" page
run_wrk "$ROOM_PATH" rendered -H "Cache-Control: no-cache"
run_wrk "/${STATIC#target/site/}" static
read -r page_rps page_p50 page_p99 page_errors < <(summarize <"$SERVER_TMP/page.wrk")
read -r rendered_rps rendered_p50 rendered_p99 rendered_errors < <(summarize <"$SERVER_TMP/rendered.wrk")
read -r static_rps static_p50 static_p99 static_errors < <(summarize <"$SERVER_TMP/static.wrk")

awk -v bytes="$bytes" \
    -v prps="$page_rps" -v pp50="$page_p50" -v pp99="$page_p99" -v perr="$page_errors" \
    -v rrps="$rendered_rps" -v rp50="$rendered_p50" -v rp99="$rendered_p99" -v rerr="$rendered_errors" \
    -v srps="$static_rps" -v sp50="$static_p50" -v sp99="$static_p99" -v serr="$static_errors" \
    -v room="$ROOM_PATH" -v conns="$CONNECTIONS" -v dur="$DURATION" '
  BEGIN {
    ratio = srps > 0 ? 100 * prps / srps : 0
    rendered_ratio = srps > 0 ? 100 * rrps / srps : 0
    printf "\nRoom page vs static file, %d bytes each, %d connections, %s each\n", bytes, conns, dur
    printf "%-26s %10s %10s %10s %8s\n", "", "req/s", "p50 ms", "p99 ms", "errors"
    printf "%-26s %10d %10.2f %10.2f %8d\n", room " (50 msgs)", prps, pp50, pp99, perr
    printf "%-26s %10d %10.2f %10.2f %8d\n", "  rendered every time", rrps, rp50, rp99, rerr
    printf "%-26s %10d %10.2f %10.2f %8d\n", "static file", srps, sp50, sp99, serr
    printf "page / static: %.1f %% (rendered every time: %.1f %%)\n", ratio, rendered_ratio
    printf "throughput >= 25 %% of static: %s\n", ratio >= 25 ? "MET" : "MISSED"
    printf "page p99 <= 20 ms:            %s\n", pp99 <= 20 ? "MET" : "MISSED"
    if (perr + rerr + serr > 0) print "WARNING: errors during the run; the figures are not reliable."
  }'
