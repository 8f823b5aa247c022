#!/usr/bin/env bash
# Runs the booking-saga benchmark (saga_bench.c) on a Release build against a private PostgreSQL
# and RabbitMQ on free ports, then stops them. Prints figures; fails only on errors (a booking
# that never reaches a final state, a service that does not start or stop cleanly), never on them.
# Usage: tests/bench/saga.sh [--quick] [--duration S] [--rates R,R…] [--rate-seconds S]
#                            [--connections N] [--offerings N] [--ref-seconds S] [--pg-stats]
#        --pg-stats loads pg_stat_statements and prints, after the run, the statements that cost
#        PostgreSQL the most (planning + execution; the pgbench reference's own are among them)
#        (defaults: 15 s per throughput phase, 50 bookings/s for 10 s, 16 connections, 10 offerings)
set -euo pipefail
SCRIPT_NAME=saga
PG_STAT_STATEMENTS=0
args=()
for a in "$@"; do
	if [[ $a == --pg-stats ]]; then PG_STAT_STATEMENTS=1; else args+=("$a"); fi
done
export PG_STAT_STATEMENTS
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/deploy/local/deps.sh"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)" --target saga_bench >/dev/null

LOCAL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/events-saga.XXXXXX")
chmod 755 "$LOCAL_DIR"
PG_PORT=$(free_port)
AMQP_PORT=$(free_port "$PG_PORT")
RABBITMQ_DIST_PORT=$(free_port "$PG_PORT" "$AMQP_PORT")
RABBITMQ_MANAGEMENT_PORT=$(free_port "$PG_PORT" "$AMQP_PORT" "$RABBITMQ_DIST_PORT")
ERL_EPMD_PORT=$(free_port "$PG_PORT" "$AMQP_PORT" "$RABBITMQ_DIST_PORT" "$RABBITMQ_MANAGEMENT_PORT")
RABBITMQ_MANAGEMENT=0
export LOCAL_DIR PG_PORT AMQP_PORT RABBITMQ_DIST_PORT RABBITMQ_MANAGEMENT_PORT ERL_EPMD_PORT RABBITMQ_MANAGEMENT
unset RABBITMQ_NODENAME DATABASE_URL AMQP_URL
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
	local rc=$? log
	if ((rc != 0)) && [[ -d $LOCAL_DIR/saga-bench-logs ]]; then
		for log in "$LOCAL_DIR"/saga-bench-logs/*.log; do
			[[ -s $log ]] || continue
			warn "last lines of $(basename "$log"):"
			tail -n 20 "$log" >&2
		done
	fi
	"$REPO_ROOT/deploy/local/infra.sh" stop >/dev/null 2>&1 || true
	rm -rf "$LOCAL_DIR"
	exit "$rc"
}
trap cleanup EXIT
"$REPO_ROOT/deploy/local/infra.sh" start
set -a
# shellcheck source=/dev/null
. "$LOCAL_DIR/infra.env"
set +a
# saga_bench flushes the database between phases (CHECKPOINT), as bench_hop does.
pg_as_superuser() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_as_superuser psql -X -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d events -c 'GRANT pg_checkpoint TO events' ||
	warn "could not grant pg_checkpoint: phases will not start from a flushed database"
if ((PG_STAT_STATEMENTS)); then
	pg_as_superuser psql -X -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d events \
		-c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements'
fi
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
build-bench/tests/saga_bench "${args[@]}"
if ((PG_STAT_STATEMENTS)); then
	say "statements by PostgreSQL time (plan + execute), the whole run:"
	pg_as_superuser psql -X -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d events -P pager=off -c "
		SELECT calls, round((total_plan_time + total_exec_time)::numeric / 1000, 2) AS seconds,
		       round(total_plan_time::numeric / 1000, 2) AS planning,
		       round(((total_plan_time + total_exec_time) / nullif(calls, 0) * 1000)::numeric, 0) AS us_per_call,
		       rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
		  FROM pg_stat_statements ORDER BY total_plan_time + total_exec_time DESC LIMIT 25"
	PG_LOG=$LOCAL_DIR/pg/postgres.log
	slow=$(grep -c 'duration: .* plan:' "$PG_LOG" || true)
	say "statements slower than 5 ms: $slow (auto_explain); one plan for each of the first five:"
	awk '/ LOG: / { on = 0; head = "" } / LOG: .*duration: .* plan:/ { head = $0; next }
		head != "" && /Query Text:/ { key = substr($0, 1, 90); if (!(key in seen) && key !~ /bench_ref|pg_catalog/ && n < 5) {
			seen[key] = 1; n++; on = 1; print head } head = "" }
		on' "$PG_LOG" | cut -c1-200 | head -n 150
fi
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows here)"
