#!/usr/bin/env bash
# A private Prometheus for the local system (docs/observability.md): Debian's prometheus binary
# scraping the six services with deploy/prometheus/prometheus.yml and its rules, on 127.0.0.1
# only, data and log under LOCAL_DIR (default .local/). up.sh runs 'start' when PROMETHEUS=1,
# down.sh runs 'stop'. 'start' appends PROMETHEUS_URL to LOCAL_DIR/env. Idempotent.
# Usage: prometheus.sh start|stop
# Environment: PROMETHEUS_PORT (default 55690), PROMETHEUS_CONFIG (default
# deploy/prometheus/prometheus.yml), PROMETHEUS_BIN (default: prometheus on PATH), LOCAL_DIR.
set -euo pipefail

SCRIPT_NAME=prometheus.sh
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOCAL_DIR=$(realpath -m "${LOCAL_DIR:-$REPO_ROOT/.local}")
PROMETHEUS_PORT=${PROMETHEUS_PORT:-55690}
PROMETHEUS_CONFIG=$(realpath -m "${PROMETHEUS_CONFIG:-$REPO_ROOT/deploy/prometheus/prometheus.yml}")
PROM_DIR=$LOCAL_DIR/prometheus
PIDFILE=$PROM_DIR/prometheus.pid # not in run/: down.sh treats run/*.pid as build/bin programs
LOG=$LOCAL_DIR/log/prometheus.log
URL=http://127.0.0.1:$PROMETHEUS_PORT

# our_pid: the pid of the Prometheus this script started, if it still runs
our_pid() {
	local pid bin
	pid=$(read_pidfile "$PIDFILE")
	bin=$(read_pidfile_bin)
	[[ -n $bin ]] && proc_runs "$pid" "$bin" && printf '%s\n' "$pid"
	return 0
}

# read_pidfile_bin: the binary recorded on the pid file's second line
read_pidfile_bin() {
	[[ -f $PIDFILE ]] && sed -n 2p "$PIDFILE"
	return 0
}

ready() { curl -sf -m 2 -o /dev/null "$URL/-/ready"; }

gone() { ! pid_alive "$1"; }

# write_env: PROMETHEUS_URL in LOCAL_DIR/env, replacing an older line (up.sh rewrites the file
# on every run, so this runs after it)
write_env() {
	local env=$LOCAL_DIR/env
	{
		[[ -f $env ]] && grep -v '^PROMETHEUS_URL=' "$env"
		printf 'PROMETHEUS_URL=%s\n' "$URL"
	} >"$env.prom.tmp"
	mv -f "$env.prom.tmp" "$env"
}

start() {
	local bin pid
	bin=${PROMETHEUS_BIN:-$(command -v prometheus || true)}
	[[ -n $bin && -x $bin ]] ||
		die "no prometheus binary: install Debian's 'prometheus' package (deploy/local/deps.sh --lint)"
	bin=$(realpath "$bin")
	[[ -f $PROMETHEUS_CONFIG ]] || die "no Prometheus configuration '$PROMETHEUS_CONFIG'"
	pid=$(our_pid)
	if [[ -n $pid ]]; then
		say "prometheus already running (pid $pid): $URL"
		write_env
		return 0
	fi
	port_in_use "$PROMETHEUS_PORT" &&
		die "port $PROMETHEUS_PORT is in use by another process: set PROMETHEUS_PORT"
	mkdir -p "$PROM_DIR/data" "$LOCAL_DIR/log"
	(
		close_extra_fds
		exec setsid nohup "$bin" --config.file="$PROMETHEUS_CONFIG" \
			--storage.tsdb.path="$PROM_DIR/data" --storage.tsdb.retention.time=7d \
			--web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
			</dev/null >>"$LOG" 2>&1
	) &
	pid=$!
	printf '%s\n%s\n' "$pid" "$bin" >"$PIDFILE"
	local t0
	t0=$(now_ms)
	if ! wait_until 30 ready; then
		pid_alive "$pid" && kill -TERM "$pid" 2>/dev/null
		rm -f "$PIDFILE"
		die "prometheus not ready on $URL after 30 s: read $LOG"
	fi
	write_env
	say "prometheus up on $URL in $(elapsed "$t0") (pid $pid, log ${LOG#"$REPO_ROOT"/})"
}

stop() {
	local pid
	pid=$(our_pid)
	rm -f "$PIDFILE"
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_until 10 gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		warn "prometheus did not stop within 10 s of SIGTERM, killed it"
	fi
	say "prometheus stopped"
}

case ${1:-} in
start) start ;;
stop) stop ;;
*)
	echo "usage: prometheus.sh start|stop" >&2
	exit 2
	;;
esac
