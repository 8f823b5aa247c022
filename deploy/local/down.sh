#!/usr/bin/env bash
# Stops what deploy/local/up.sh started: the services (SIGTERM, up to 10 s to drain, then
# SIGKILL), then the private PostgreSQL and RabbitMQ. Only processes recorded in .local/run
# and still running our binaries are signalled. Idempotent.
# Usage: down.sh [--purge]   (--purge also deletes .local/: data, logs, env)
set -euo pipefail

SCRIPT_NAME=down.sh
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=0
case ${1:-} in
--purge) purge=1 ;;
"") ;;
*)
	echo "usage: down.sh [--purge]" >&2
	exit 2
	;;
esac

LOCAL_DIR=$(realpath -m "${LOCAL_DIR:-$REPO_ROOT/.local}")
export LOCAL_DIR
BIN=$REPO_ROOT/build/bin

# our_pid PIDFILE NAME: the pid in PIDFILE if that process still runs build/bin/NAME
our_pid() {
	local pid
	pid=$(read_pidfile "$1")
	proc_runs "$pid" "$BIN/$2" && printf '%s\n' "$pid"
	return 0
}

gone() { ! pid_alive "$1"; }

# SIGTERM every service first so they drain in parallel, then wait for each in turn
names=() pids=()
if [[ -d $LOCAL_DIR/run ]]; then
	for pidfile in "$LOCAL_DIR"/run/*.pid; do
		[[ -e $pidfile ]] || continue
		name=$(basename "$pidfile" .pid)
		pid=$(our_pid "$pidfile" "$(service_program "$name")")
		rm -f "$pidfile"
		[[ -n $pid ]] || continue
		kill -TERM "$pid" 2>/dev/null || true
		names+=("$name")
		pids+=("$pid")
	done
fi
t0=$(now_ms)
deadline=$((t0 + 10000))
while ((${#pids[@]})); do
	for i in "${!pids[@]}"; do
		if gone "${pids[$i]}"; then
			say "${names[$i]} stopped in $(elapsed "$t0")"
			unset "pids[$i]" "names[$i]"
		elif (($(now_ms) >= deadline)); then
			kill -KILL "${pids[$i]}" 2>/dev/null || true
			wait_until 5 gone "${pids[$i]}" || die "${names[$i]} (pid ${pids[$i]}) will not die"
			warn "${names[$i]} did not stop within 10 s of SIGTERM, killed it"
			unset "pids[$i]" "names[$i]"
		fi
	done
	((${#pids[@]})) && sleep 0.1
done

"$REPO_ROOT/deploy/local/prometheus.sh" stop # a no-op unless PROMETHEUS=1 up.sh started it
"$REPO_ROOT/deploy/local/infra.sh" stop

if ((purge)); then
	# the cluster may live elsewhere (infra.sh: root, a clone postgres cannot reach)
	[[ -L $LOCAL_DIR/pg ]] && rm -rf "$(readlink -f "$LOCAL_DIR/pg")"
	rm -rf "$LOCAL_DIR"
	say "deleted $LOCAL_DIR"
fi
