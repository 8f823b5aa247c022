#!/usr/bin/env bash
# The test command: missing packages, a sanitized Debug build in build-test/, a private
# PostgreSQL and RabbitMQ on free ports in a temporary directory, every suite through CTest,
# then the infrastructure stopped and the directory removed (also on failure and Ctrl-C).
# Usage: tests/run.sh [--keep] [ctest arguments...]   e.g. tests/run.sh -L unit
# Exit code: ctest's. --keep leaves the infrastructure running and says how to stop it.
set -euo pipefail

SCRIPT_NAME=run.sh
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../deploy/local/lib.sh"
cd "$REPO_ROOT"

keep=0
ctest_args=()
for arg in "$@"; do
	case $arg in
	--keep) keep=1 ;;
	*) ctest_args+=("$arg") ;;
	esac
done

# The infrastructure is needed unless every label filter given selects only unit, arch or fuzz.
need_infra=1
labels=()
for ((i = 0; i < ${#ctest_args[@]}; i++)); do
	case ${ctest_args[$i]} in
	-LE | --label-exclude) i=$((i + 1)) ;;
	-L | --label-regex) labels+=("${ctest_args[$((i + 1))]:-}") ;;
	-L?*) labels+=("${ctest_args[$i]#-L}") ;;
	--label-regex=*) labels+=("${ctest_args[$i]#*=}") ;;
	esac
done
if ((${#labels[@]})); then
	need_infra=0
	for l in "${labels[@]}"; do
		[[ $l =~ ^\^?\(?(unit|arch|fuzz)(\|(unit|arch|fuzz))*\)?\$?$ ]] || need_infra=1
	done
fi

phase() { say "$1 done in $(elapsed "$2")"; }
t_all=$(now_ms)

INFRA_SH=$REPO_ROOT/deploy/local/infra.sh
LOCAL_DIR=
ctest_pid=

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
	local rc=$? t0
	trap - EXIT INT TERM
	if [[ -n $ctest_pid ]]; then
		# ctest leads its own process group: this reaches the running test and its children
		kill -TERM -- "-$ctest_pid" 2>/dev/null || true
		wait "$ctest_pid" 2>/dev/null || true
	fi
	if [[ -n $LOCAL_DIR && -d $LOCAL_DIR ]]; then
		if ((keep)); then
			say "infrastructure left running in $LOCAL_DIR; stop it with:"
			say "  LOCAL_DIR=$LOCAL_DIR $INFRA_SH stop && rm -rf $LOCAL_DIR"
		else
			t0=$(now_ms)
			"$INFRA_SH" stop >/dev/null 2>&1 || warn "stopping the infrastructure failed"
			rm -rf "$LOCAL_DIR"
			phase "infrastructure stop" "$t0"
		fi
	fi
	say "total $(elapsed "$t_all"), exit code $rc"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(now_ms)
"$REPO_ROOT/deploy/local/deps.sh" --lint
phase deps "$t0"

t0=$(now_ms)
cmake -S . -B build-test -DSANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-test -j "$(nproc)"
phase build "$t0"

# The optimised build up.sh and demo.sh make: gcc -O2 warns (as errors) about what the Debug
# build never sees (format truncation), and a newcomer's first command must not be where it shows.
t0=$(now_ms)
cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
mapfile -t product < <(for m in contexts/*/main.c; do basename "$(dirname "$m")"; done)
cmake --build build-rel -j "$(nproc)" --target "${product[@]}" eventctl migrate >/dev/null
phase "optimised build (what up.sh builds)" "$t0"

if ((need_infra)); then
	t0=$(now_ms)
	LOCAL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/events-test.XXXXXX")
	chmod 755 "$LOCAL_DIR" # the postgres user must traverse it when we are root
	PG_PORT=$(free_port)
	AMQP_PORT=$(free_port "$PG_PORT")
	RABBITMQ_DIST_PORT=$(free_port "$PG_PORT" "$AMQP_PORT")
	RABBITMQ_MANAGEMENT_PORT=$(free_port "$PG_PORT" "$AMQP_PORT" "$RABBITMQ_DIST_PORT")
	# a private epmd too, so parallel runs share nothing and the last one out can stop it
	ERL_EPMD_PORT=$(free_port "$PG_PORT" "$AMQP_PORT" "$RABBITMQ_DIST_PORT" "$RABBITMQ_MANAGEMENT_PORT")
	RABBITMQ_MANAGEMENT=0 # the management plugin adds 5 s to every broker stop
	# TLS listeners too (tests/e2e/test_tls.c): they cost no measurable broker start time
	# (7.7-7.8 s with, 8.1-8.7 s without, 2026-12) and the certificates ~0.1 s
	INFRA_TLS=1
	AMQPS_PORT=$(free_port "$PG_PORT" "$AMQP_PORT" "$RABBITMQ_DIST_PORT" "$RABBITMQ_MANAGEMENT_PORT" "$ERL_EPMD_PORT")
	export LOCAL_DIR PG_PORT AMQP_PORT RABBITMQ_DIST_PORT RABBITMQ_MANAGEMENT_PORT ERL_EPMD_PORT \
		RABBITMQ_MANAGEMENT INFRA_TLS AMQPS_PORT
	unset RABBITMQ_NODENAME DATABASE_URL AMQP_URL AMQPS_URL DATABASE_URL_TLS
	"$INFRA_SH" start
	# every setting infra.sh needs, so a test can run "$INFRA_SH" restart postgres
	set -a
	# shellcheck source=/dev/null
	. "$LOCAL_DIR/infra.env"
	set +a
	export INFRA_SH
	phase "infrastructure start" "$t0"
else
	# unit, arch and fuzz suites need no servers; make sure nothing points at a developer's ones
	unset DATABASE_URL AMQP_URL INFRA_SH
	say "only unit/arch/fuzz tests selected, no infrastructure started"
fi

t0=$(now_ms)
setsid ctest --test-dir build-test --output-on-failure ${ctest_args[@]+"${ctest_args[@]}"} &
ctest_pid=$!
rc=0
wait "$ctest_pid" || rc=$?
ctest_pid=
phase tests "$t0"
exit "$rc"
