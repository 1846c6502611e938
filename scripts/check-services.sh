#!/usr/bin/env bash
# The integration tests need PostgreSQL and Redis; fail loudly (never skip)
# when they are unreachable, saying how to start them.
set -euo pipefail
pg_url=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
redis_url=${TEST_REDIS_URL:-redis://127.0.0.1:6379}
redis_host=$(sed -E 's#^rediss?://([^@/]*@)?([^:/]+).*#\2#' <<<"$redis_url")
redis_port=$(sed -nE 's#^rediss?://([^@/]*@)?[^:/]+:([0-9]+).*#\2#p' <<<"$redis_url")

if ! psql "$pg_url" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  echo "PostgreSQL is unreachable at $pg_url." >&2
  echo "Start it: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
  exit 1
fi
if ! (exec 3<>"/dev/tcp/$redis_host/${redis_port:-6379}" && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; then
  echo "Redis is unreachable at $redis_url." >&2
  echo "Start it: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no" >&2
  exit 1
fi
echo "PostgreSQL and Redis are reachable."
