#!/usr/bin/env bash
# Helpers shared by deploy/local/*.sh and tests/run.sh: logging, the repository root, URL
# masking, free ports, waiting with a timeout, and running PostgreSQL tools as the right user.
# Sourced, not run: it defines functions and REPO_ROOT, and sets the strict options that its
# callers set anyway.
set -euo pipefail

# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
SCRIPT_NAME=${SCRIPT_NAME:-$(basename "$0")}

# say MESSAGE...: one progress line on stdout, prefixed with the script's name
say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*"; }

# warn MESSAGE...: one line on stderr
warn() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }

# die MESSAGE...: one line on stderr, then exit 1
die() {
	warn "$@"
	exit 1
}

# is_root: true when running as uid 0
is_root() { [[ $EUID -eq 0 ]]; }

# mask_url URL: prints URL with its password replaced by *** (amqp://events:***@host/vhost)
mask_url() {
	local re='^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):[^@/]*@(.*)$'
	if [[ $1 =~ $re ]]; then
		printf '%s:***@%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	else
		printf '%s\n' "$1"
	fi
}

# pg_url_split URL: sets PG_URL_NO_PASSWORD (URL without its password) and PG_URL_PASSWORD (the
# password, percent-decoded; empty when none), so that psql gets the password from PGPASSWORD
# and never on its command line, where ps shows it to every user
pg_url_split() {
	local re='^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):([^@/]*)@(.*)$'
	# shellcheck disable=SC2034 # used by the callers
	if [[ $1 =~ $re ]]; then
		PG_URL_NO_PASSWORD=${BASH_REMATCH[1]}@${BASH_REMATCH[3]}
		printf -v PG_URL_PASSWORD '%b' "${BASH_REMATCH[2]//%/\\x}"
	else
		PG_URL_NO_PASSWORD=$1 PG_URL_PASSWORD=
	fi
}

# now_ms: milliseconds since the epoch, without forking
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	printf '%s\n' "$((10#$t / 1000))"
}

# elapsed START_MS: prints the time since START_MS as "1.2 s"
elapsed() {
	local ms=$(($(now_ms) - $1))
	printf '%d.%d s\n' "$((ms / 1000))" "$((ms % 1000 / 100))"
}

# port_in_use PORT: true when something accepts TCP connections on 127.0.0.1:PORT
port_in_use() { (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port [TAKEN...]: prints a port in 20000-31999 that nobody listens on and that is not
# one of TAKEN (below the kernel's ephemeral range and RabbitMQ's CLI ports 35672-35682)
free_port() {
	local p i x taken
	for ((i = 0; i < 500; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		taken=0
		for x in "$@"; do
			[[ $x == "$p" ]] && taken=1
		done
		((taken)) && continue
		if ! port_in_use "$p"; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds; returns 1 when
# SECONDS pass first
wait_until() {
	local limit=$1 deadline
	shift
	deadline=$(($(now_ms) + limit * 1000))
	until "$@"; do
		(($(now_ms) >= deadline)) && return 1
		sleep 0.2
	done
	return 0
}

# pid_alive PID: true when PID is a live process we may signal (zombies count as dead: an
# init that reaps slowly leaves them around for seconds)
pid_alive() {
	local stat
	[[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 1
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 0
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# read_pidfile FILE: prints the first line of FILE if it is a number, else nothing
read_pidfile() {
	local pid=
	[[ -f $1 ]] && read -r pid <"$1" 2>/dev/null
	[[ $pid =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
	return 0
}

# proc_runs PID PATH: true when PID is alive and runs the program PATH (its argv[0], or argv[1]
# behind an interpreter), which guards against a pid file's pid reused by another program
proc_runs() {
	local args=()
	pid_alive "$1" || return 1
	mapfile -d '' -t args <"/proc/$1/cmdline" 2>/dev/null || return 1
	[[ ${args[0]:-} == "$2" || ${args[1]:-} == "$2" ]]
}

# service_program NAME: the program under build/bin/ that runs service NAME of deploy/local/up.sh:
# the dashboard is a command of eventctl ('eventctl dashboard'), every other service its own binary
service_program() {
	if [[ $1 == dashboard ]]; then
		printf 'eventctl\n'
	else
		printf '%s\n' "$1"
	fi
}

# as_pg_user COMMAND...: runs COMMAND as the OS user that owns the private PostgreSQL cluster:
# 'postgres' when we are root (the server refuses root), ourselves otherwise; cwd is / so
# that the postgres user never needs access to our working directory
as_pg_user() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# close_extra_fds: closes every descriptor above 2 in the current (sub)shell; call it in the
# subshell that launches a daemon, so the daemon cannot hold a caller's pipe open (ctest waits
# for EOF on its test's output pipe)
close_extra_fds() {
	local fd
	for fd in /proc/self/fd/*; do
		fd=${fd##*/}
		if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2 && fd != 255)); then
			eval "exec $fd>&-" 2>/dev/null || true
		fi
	done
}
