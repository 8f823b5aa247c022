#!/usr/bin/env bash
# Brings the whole system up on this machine: missing packages, a RelWithDebInfo build, the
# private PostgreSQL and RabbitMQ (unless DATABASE_URL and AMQP_URL point elsewhere), the
# migrations, then every service whose binary exists, each on its fixed port, with pid file
# and log under .local/. Writes .local/env (mode 600: it holds passwords) and prints where
# everything is. Idempotent: what already runs is left alone (deploy/local/down.sh stops it all).
# Least privilege by default: each context runs, and is migrated, as its own PostgreSQL role and
# RabbitMQ user, and an admin step declares the shared topology (deploy/local/isolation.sh,
# docs/isolation.md); ISOLATION=0 runs everything as the admin instead.
# With PROMETHEUS=1, a private Prometheus scrapes the services (deploy/local/prometheus.sh).
set -euo pipefail

SCRIPT_NAME=up.sh
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# name:port of each service, in start order; the dashboard is 'eventctl dashboard' (service_program)
SERVICES=(servicecatalog:8081 usermanagement:8082 booking:8083 inventory:8084 payment:8085
	notification:8086 dashboard:8080)
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-20}

cd "$REPO_ROOT"
LOCAL_DIR=$(realpath -m "${LOCAL_DIR:-$REPO_ROOT/.local}")
export LOCAL_DIR
BIN=$REPO_ROOT/build/bin
INFRA=$REPO_ROOT/deploy/local/infra.sh
t_all=$(now_ms)

# 1. packages, build
"$REPO_ROOT/deploy/local/deps.sh"
t0=$(now_ms)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
say "build done in $(elapsed "$t0")"

# 2. infrastructure: ours, unless both URLs are given and are not ours (a shell that sourced
# .local/env passes our own URLs back, and those still need our servers)
env_value() { (
	set +u
	# shellcheck disable=SC1090
	. "$1"
	printf '%s\n' "${!2}"
); }
mkdir -p "$LOCAL_DIR"
if [[ -f $LOCAL_DIR/infra.env ]]; then
	private_db=$(env_value "$LOCAL_DIR/infra.env" DATABASE_URL)
	private_amqp=$(env_value "$LOCAL_DIR/infra.env" AMQP_URL)
else
	private_db=postgresql://events:events@127.0.0.1:${PG_PORT:-55432}/events
	private_amqp=amqp://events:events@127.0.0.1:${AMQP_PORT:-55672}/events
fi
if [[ -n ${DATABASE_URL:-} && -n ${AMQP_URL:-} && $DATABASE_URL != "$private_db" &&
	$AMQP_URL != "$private_amqp" ]]; then
	say "using the given DATABASE_URL and AMQP_URL, no private infrastructure"
	external=1
else
	external=0
	"$INFRA" start
	DATABASE_URL=$(env_value "$LOCAL_DIR/infra.env" DATABASE_URL)
	AMQP_URL=$(env_value "$LOCAL_DIR/infra.env" AMQP_URL)
	RABBITMQ_MANAGEMENT_PORT=$(env_value "$LOCAL_DIR/infra.env" RABBITMQ_MANAGEMENT_PORT)
fi
RABBITMQ_MANAGEMENT_PORT=${RABBITMQ_MANAGEMENT_PORT:-55673}
export DATABASE_URL AMQP_URL

# 3. isolation, the default: a role and a user per context and the shared topology, made before
# the migrations so that each context migrates its own schema as its own role (ADR 0007).
# ISOLATION=0 hands a schema isolation once took back to the admin (migrate and eventctl act on a
# schema only as its owner), then runs everything as the admin.
ISOLATION=${ISOLATION:-1}
[[ $ISOLATION == 0 || $ISOLATION == 1 ]] || die "ISOLATION must be 0 or 1, not '$ISOLATION'"
ISOLATION_ENV=$(realpath -m "${ISOLATION_ENV:-$LOCAL_DIR/isolation.env}")
export ISOLATION_ENV
CONTEXTS=()
for entry in "${SERVICES[@]}"; do
	[[ ${entry%%:*} == dashboard ]] || CONTEXTS+=("${entry%%:*}")
done
# isolation.sh reaches RabbitMQ through its management API when it has one: one HTTP call instead
# of a few rabbitmqctl runs, each of which boots an Erlang VM (seconds)
mgmt_url=${RABBITMQ_MANAGEMENT_URL:-}
if [[ -z $mgmt_url ]] && ((!external)) &&
	[[ $(env_value "$LOCAL_DIR/infra.env" RABBITMQ_MANAGEMENT) == 1 ]]; then
	mgmt_url=http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT
fi
if [[ $ISOLATION == 1 ]]; then
	((external)) && [[ -z $mgmt_url ]] &&
		die "isolation on the given servers needs RABBITMQ_MANAGEMENT_URL (or run with ISOLATION=0)"
	RABBITMQ_MANAGEMENT_URL=$mgmt_url "$REPO_ROOT/deploy/local/isolation.sh" apply ||
		die "isolation failed"
	# each context's database URL, for migrate, eventctl and the dashboard only: a service gets
	# its own URLs and never another context's password (it could read its own environment)
	for c in "${CONTEXTS[@]}"; do
		printf -v "${c^^}_DATABASE_URL" '%s' "$(env_value "$ISOLATION_ENV" "${c^^}_DATABASE_URL")"
	done
else
	# a shell that sourced an isolated .local/env must not lead migrate or the dashboard there
	for c in "${CONTEXTS[@]}"; do unset "${c^^}_DATABASE_URL"; done
	if [[ -f $ISOLATION_ENV ]]; then
		RABBITMQ_MANAGEMENT_URL=$mgmt_url "$REPO_ROOT/deploy/local/isolation.sh" drop ||
			die "handing the schemas back to the admin failed"
	fi
fi

# 4. migrations: each context's through its <CONTEXT>_DATABASE_URL when isolated
if [[ -x $BIN/migrate ]]; then
	t0=$(now_ms)
	(
		[[ $ISOLATION == 1 ]] && for c in "${CONTEXTS[@]}"; do export "${c^^}_DATABASE_URL"; done
		exec "$BIN/migrate" --dir "$REPO_ROOT/migrations"
	) || die "migrations failed"
	say "migrations applied in $(elapsed "$t0")"
else
	say "no build/bin/migrate yet, skipping migrations"
fi

# 5. services
mkdir -p "$LOCAL_DIR/run" "$LOCAL_DIR/log"

# service_pid NAME: prints the pid of our running NAME, if any (the pid file's process must
# still be running our binary, which guards against a reused pid)
service_pid() {
	local pid
	pid=$(read_pidfile "$LOCAL_DIR/run/$1.pid")
	proc_runs "$pid" "$BIN/$(service_program "$1")" && printf '%s\n' "$pid"
	return 0
}

# http_answers PORT: true when something answers GET /health with any HTTP status
http_answers() {
	local code
	code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/health" || true)
	[[ -n $code && $code != 000 ]]
}

# launched[name]: pid of each process started here; checked by pid alone while it may still
# be between fork and exec (its command line is not yet the binary's)
declare -A launched=()
started=()
for entry in "${SERVICES[@]}"; do
	name=${entry%%:*}
	port=${entry##*:}
	program=$(service_program "$name")
	if [[ ! -x $BIN/$program ]]; then
		say "$name: no build/bin/$program yet, skipping"
		continue
	fi
	cmdline=("$BIN/$program")
	[[ $name == dashboard ]] && cmdline+=(dashboard --port "$port")
	pid=$(service_pid "$name")
	if [[ -n $pid ]]; then
		say "$name already running (pid $pid, port $port)"
		continue
	fi
	if port_in_use "$port"; then
		warn "$name: port $port is in use by another process, not starting it"
		continue
	fi
	# the dashboard keeps the admin's URL and reaches each context through its own
	# <CONTEXT>_DATABASE_URL (exported below for it alone), as eventctl does
	db_url=$DATABASE_URL amqp_url=$AMQP_URL
	if [[ $ISOLATION == 1 && $name != dashboard ]]; then
		db_url=$(env_value "$ISOLATION_ENV" "${name^^}_DATABASE_URL")
		amqp_url=$(env_value "$ISOLATION_ENV" "${name^^}_AMQP_URL")
	fi
	(
		close_extra_fds
		for c in "${CONTEXTS[@]}"; do
			unset "${c^^}_AMQP_URL"
			if [[ $ISOLATION == 1 && $name == dashboard ]]; then
				export "${c^^}_DATABASE_URL"
			else
				unset "${c^^}_DATABASE_URL"
			fi
		done
		# the environment of exec, not 'env NAME=value ...': a command line shows its passwords
		# to every user in ps
		DATABASE_URL=$db_url AMQP_URL=$amqp_url HTTP_PORT=$port INSTANCE_ID=$name-1 \
			LOG_LEVEL=${LOG_LEVEL:-info} exec setsid nohup "${cmdline[@]}" \
			</dev/null >>"$LOCAL_DIR/log/$name.log" 2>&1
	) &
	echo "$!" >"$LOCAL_DIR/run/$name.pid"
	launched[$name]=$!
	started+=("$entry")
done

failed=0
if ((${#started[@]})); then
	t0=$(now_ms)
	deadline=$((t0 + HEALTH_TIMEOUT * 1000))
	waiting=("${started[@]}")
	while ((${#waiting[@]})); do
		still=()
		for entry in "${waiting[@]}"; do
			name=${entry%%:*}
			port=${entry##*:}
			if http_answers "$port"; then
				say "$name up on http://127.0.0.1:$port in $(elapsed "$t0")"
			elif ! pid_alive "${launched[$name]}"; then
				warn "$name exited during start-up: read $LOCAL_DIR/log/$name.log"
				rm -f "$LOCAL_DIR/run/$name.pid"
				failed=1
			elif (($(now_ms) >= deadline)); then
				warn "$name not answering /health after $HEALTH_TIMEOUT s: read $LOCAL_DIR/log/$name.log"
				failed=1
			else
				still+=("$entry")
			fi
		done
		waiting=(${still[@]+"${still[@]}"})
		((${#waiting[@]})) && sleep 0.2
	done
fi

# 6. .local/env (mode 600: passwords) and the summary
(
	umask 077
	{
		echo "# written by deploy/local/up.sh; source it: . .local/env (secrets: mode 600, never commit)"
		printf 'DATABASE_URL=%q\n' "$DATABASE_URL"
		printf 'AMQP_URL=%q\n' "$AMQP_URL"
		printf 'RABBITMQ_MANAGEMENT_PORT=%q\n' "$RABBITMQ_MANAGEMENT_PORT"
		for entry in "${SERVICES[@]}"; do
			name=${entry%%:*}
			printf '%s_URL=http://127.0.0.1:%s\n' "${name^^}" "${entry##*:}"
		done
		if [[ $ISOLATION == 1 ]]; then
			echo "# each context's own login: eventctl and migrate act on a context only as its owner"
			for c in "${CONTEXTS[@]}"; do
				url=${c^^}_DATABASE_URL
				printf '%s=%q\n' "$url" "${!url}"
			done
		fi
	} >"$LOCAL_DIR/env.tmp"
)
chmod 600 "$LOCAL_DIR/env.tmp"
mv -f "$LOCAL_DIR/env.tmp" "$LOCAL_DIR/env"

say "DATABASE_URL=$(mask_url "$DATABASE_URL")"
say "AMQP_URL=$(mask_url "$AMQP_URL")"
((external)) ||
	say "RabbitMQ management UI: http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT/ (user events)"
for entry in "${SERVICES[@]}"; do
	name=${entry%%:*}
	pid=$(service_pid "$name")
	[[ -n $pid ]] && say "$name: http://127.0.0.1:${entry##*:} (pid $pid, log ${LOCAL_DIR#"$REPO_ROOT"/}/log/$name.log)"
done
if [[ $ISOLATION == 1 ]]; then
	say "isolation: each service runs as its own <context>_svc role and user (${ISOLATION_ENV#"$REPO_ROOT"/}); ISOLATION=0 runs all as the admin"
else
	say "isolation off (ISOLATION=0): every service runs as the admin"
fi
say "environment in ${LOCAL_DIR#"$REPO_ROOT"/}/env; stop with deploy/local/down.sh; up in $(elapsed "$t_all")"

# 6. a private Prometheus, opt-in (deploy/local/prometheus.sh, docs/observability.md); after
# .local/env is written, since it adds PROMETHEUS_URL there
if [[ ${PROMETHEUS:-0} == 1 ]]; then
	"$REPO_ROOT/deploy/local/prometheus.sh" start || failed=1
fi
exit "$failed"
