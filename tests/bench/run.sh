#!/usr/bin/env bash
# Runs the single-hop benchmark (bench_hop.c) on a Release build against a private
# PostgreSQL and RabbitMQ on free ports, then stops them. Prints figures; never fails on them.
# Usage: tests/bench/run.sh [events] [rate/s] [seconds]     (defaults 8000 200 10)
set -euo pipefail
SCRIPT_NAME=bench
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/deploy/local/deps.sh"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)" --target bench_hop probe >/dev/null

LOCAL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/events-bench.XXXXXX")
chmod 755 "$LOCAL_DIR"
PG_PORT=$(free_port)
AMQP_PORT=$(free_port "$PG_PORT")
RABBITMQ_DIST_PORT=$(free_port "$PG_PORT" "$AMQP_PORT")
RABBITMQ_MANAGEMENT_PORT=$(free_port "$PG_PORT" "$AMQP_PORT" "$RABBITMQ_DIST_PORT")
ERL_EPMD_PORT=$(free_port "$PG_PORT" "$AMQP_PORT" "$RABBITMQ_DIST_PORT" "$RABBITMQ_MANAGEMENT_PORT")
RABBITMQ_MANAGEMENT=0
export LOCAL_DIR PG_PORT AMQP_PORT RABBITMQ_DIST_PORT RABBITMQ_MANAGEMENT_PORT ERL_EPMD_PORT RABBITMQ_MANAGEMENT
unset RABBITMQ_NODENAME DATABASE_URL AMQP_URL
# shellcheck disable=SC2317
cleanup() { "$REPO_ROOT/deploy/local/infra.sh" stop >/dev/null 2>&1 || true; rm -rf "$LOCAL_DIR"; }
trap cleanup EXIT
"$REPO_ROOT/deploy/local/infra.sh" start
set -a
# shellcheck source=/dev/null
. "$LOCAL_DIR/infra.env"
set +a
# bench_hop flushes the database between phases (CHECKPOINT), so one phase's checkpoint does not
# land in the next: let its role do that (PostgreSQL 15's pg_checkpoint role).
pg_as_superuser() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_as_superuser psql -X -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d events -c 'GRANT pg_checkpoint TO events' ||
	warn "could not grant pg_checkpoint: phases will not start from a flushed database"
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
build-bench/tests/bench_hop "$@"
