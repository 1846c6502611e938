# Sourced by audit.sh and bench-pages.sh: runs the release build on a free
# port with a fresh SQLite database holding one seeded public room.
#   start_release_server SLUG MESSAGES [THREAD_REPLIES]
# sets BASE_URL, ROOM_PATH and (with THREAD_REPLIES) THREAD_PATH, the page of
# a thread of that many replies; it stops the server (and deletes the
# database) when the calling script exits. Run from the repository root.

stop_release_server() {
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
  fi
  [ -n "${SERVER_TMP:-}" ] && rm -rf "$SERVER_TMP"
}

start_release_server() {
  local slug=$1 messages=$2 thread=${3:-0}
  if [ ! -x target/release/tchatche ] || [ ! -d target/site/pkg ]; then
    echo "No release build (target/release/tchatche, target/site/pkg): run cargo leptos build --release." >&2
    exit 1
  fi
  SERVER_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tchatche-release-XXXXXX")
  trap stop_release_server EXIT
  # A port the kernel just said was free.
  SERVER_PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  BASE_URL="http://127.0.0.1:$SERVER_PORT"
  # The release server as `make run` starts it, on its own database and
  # port; REDIS_URL empty so a .env cannot switch it to Redis.
  SERVER_ENV=(LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=tchatche LEPTOS_ENV=PROD
    DATABASE_URL="sqlite://$SERVER_TMP/server.db" REDIS_URL=
    LEPTOS_SITE_ADDR="127.0.0.1:$SERVER_PORT" PUBLIC_URL="$BASE_URL" RUST_LOG=warn)

  # Seeding before the server starts: no request ever sees a half-filled room.
  local seeded
  seeded=$(env "${SERVER_ENV[@]}" ./target/release/tchatche admin seed-room --slug "$slug" --messages "$messages" --thread "$thread")
  echo "$seeded"
  # The command prints the room's path, then the thread's.
  ROOM_PATH=$(grep -xE '/r/[a-z0-9-]+' <<<"$seeded" | tail -n 1 || true)
  ROOM_PATH=${ROOM_PATH:-/r/$slug}
  THREAD_PATH=$(grep -xE '/r/[a-z0-9-]+/t/[0-9a-f-]+' <<<"$seeded" | tail -n 1 || true)

  # env execs the binary: $! is the server itself, which the trap stops.
  env "${SERVER_ENV[@]}" ./target/release/tchatche >"$SERVER_TMP/server.log" 2>&1 &
  SERVER_PID=$!
  local tries=0
  until curl -fsS -o /dev/null "$BASE_URL/healthz" 2>/dev/null; do
    tries=$((tries + 1))
    if ! kill -0 "$SERVER_PID" 2>/dev/null || [ "$tries" -ge 300 ]; then
      echo "The server did not answer $BASE_URL/healthz; its log:" >&2
      cat "$SERVER_TMP/server.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "Release server on $BASE_URL (room $ROOM_PATH, $messages messages)."
}
