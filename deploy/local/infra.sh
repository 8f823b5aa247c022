#!/usr/bin/env bash
# The private infrastructure alone: one PostgreSQL 15 cluster and one RabbitMQ node under
# $LOCAL_DIR (default <repo>/.local), listening on 127.0.0.1 only, on ports from the environment.
# Usage: infra.sh start|stop|restart|status [postgres|rabbitmq]   (status exits 3 if not running)
#        infra.sh rabbitmqctl ARGS...   (rabbitmqctl against the private node, e.g. list_queues -p events)
# Not a production setup: fixed credentials events/events, trust auth on a private 0700 socket.
# INFRA_TLS=1 adds TLS: a throw-away CA made with openssl under $LOCAL_DIR/tls/, PostgreSQL with
# ssl=on on its port, and a RabbitMQ amqps:// listener on AMQPS_PORT that wants a client
# certificate; infra.env then names the files and gives AMQPS_URL and DATABASE_URL_TLS.
# PG_STAT_STATEMENTS=1 loads pg_stat_statements (with planning time) and auto_explain (plans of
# statements slower than 5 ms, to the server log) for profiling: the saga benchmark's --pg-stats
# prints what each statement cost and the slowest plans.
# Settings: env > what the last start recorded in $LOCAL_DIR/infra.env > defaults.
set -euo pipefail

SCRIPT_NAME=infra.sh
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: infra.sh start|stop|restart|status [postgres|rabbitmq] | rabbitmqctl ARGS..." >&2
	exit 2
}

cmd=${1:-}
if [[ $cmd == rabbitmqctl ]]; then
	shift # the rest goes to rabbitmqctl
	what=rabbitmq
else
	what=${2:-all}
	[[ $# -le 2 ]] || usage
	case $cmd in start | stop | restart | status) ;; *) usage ;; esac
	case $what in all | postgres | rabbitmq) ;; *) usage ;; esac
fi

LOCAL_DIR=$(realpath -m "${LOCAL_DIR:-$REPO_ROOT/.local}")
INFRA_ENV=$LOCAL_DIR/infra.env

# One start/stop at a time per LOCAL_DIR (a test may restart a server while another script
# looks on); the daemons never inherit the lock, close_extra_fds drops it before they start.
if [[ $cmd != status && $cmd != rabbitmqctl ]] && { [[ $cmd != stop ]] || [[ -d $LOCAL_DIR ]]; }; then
	mkdir -p "$LOCAL_DIR"
	exec 9>>"$LOCAL_DIR/.infra.lock"
	flock -w 300 9 || die "another infra.sh holds $LOCAL_DIR/.infra.lock"
fi

# Settings recorded by the last start fill in what the environment leaves unset, so that
# 'infra.sh status' or 'stop' after 'PG_PORT=6000 infra.sh start' talks about the same instance.
ENV_DIST_PORT=${RABBITMQ_DIST_PORT:-}
RECORDED_KEYS=(PG_PORT AMQP_PORT RABBITMQ_MANAGEMENT RABBITMQ_MANAGEMENT_PORT RABBITMQ_DIST_PORT
	RABBITMQ_NODENAME ERL_EPMD_PORT INFRA_TLS AMQPS_PORT)
if [[ -f $INFRA_ENV ]]; then
	while IFS='=' read -r key value; do
		for k in "${RECORDED_KEYS[@]}"; do
			if [[ $key == "$k" && -z ${!k:-} && $value =~ ^[A-Za-z0-9@._-]+$ ]]; then
				printf -v "$k" '%s' "$value"
			fi
		done
	done <"$INFRA_ENV"
fi

PG_PORT=${PG_PORT:-55432}
AMQP_PORT=${AMQP_PORT:-55672}
RABBITMQ_MANAGEMENT=${RABBITMQ_MANAGEMENT:-1}
RABBITMQ_MANAGEMENT_PORT=${RABBITMQ_MANAGEMENT_PORT:-55673}
INFRA_TLS=${INFRA_TLS:-0}
PG_STAT_STATEMENTS=${PG_STAT_STATEMENTS:-0}
AMQPS_PORT=${AMQPS_PORT:-55671}
[[ $INFRA_TLS == 0 || $INFRA_TLS == 1 ]] || die "invalid INFRA_TLS '$INFRA_TLS': want 0 or 1"
[[ $PG_STAT_STATEMENTS == 0 || $PG_STAT_STATEMENTS == 1 ]] ||
	die "invalid PG_STAT_STATEMENTS '$PG_STAT_STATEMENTS': want 0 or 1"
if [[ -z ${RABBITMQ_NODENAME:-} ]]; then
	hash=$(printf '%s' "$LOCAL_DIR" | sha1sum)
	RABBITMQ_NODENAME=events-${hash:0:8}@localhost
fi
for v in PG_PORT AMQP_PORT RABBITMQ_MANAGEMENT_PORT AMQPS_PORT; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1 || ${!v} > 65535)); then
		die "invalid $v '${!v}'"
	fi
done
DATABASE_URL_PRIVATE=postgresql://events:events@127.0.0.1:$PG_PORT/events
AMQP_URL_PRIVATE=amqp://events:events@127.0.0.1:$AMQP_PORT/events

# ----------------------------------------------------------------------------------- TLS
# One CA signs a server certificate (for 127.0.0.1 and localhost) that both servers present
# and a client certificate (CN events) for RabbitMQ, which asks for one. EC P-256 keys: made in
# milliseconds. Kept across restarts; made again when missing or expiring within a day.
# 127.0.0.1 is a DNS name too: rabbitmq-c 0.11 checks a host against DNS names only (libpq
# checks the IP address).
TLS_DIR=$LOCAL_DIR/tls
TLS_CA_FILE=$TLS_DIR/ca.crt
TLS_SERVER_CERT=$TLS_DIR/server.crt
TLS_SERVER_KEY=$TLS_DIR/server.key
TLS_CLIENT_CERT_FILE=$TLS_DIR/client.crt
TLS_CLIENT_KEY_FILE=$TLS_DIR/client.key
AMQPS_URL_PRIVATE=amqps://events:events@127.0.0.1:$AMQPS_PORT/events
DATABASE_URL_TLS_PRIVATE="$DATABASE_URL_PRIVATE?sslmode=verify-full&sslrootcert=$TLS_CA_FILE"

# tls_issue NAME SUBJECT [EXTENSIONS]: NAME.key and NAME.crt signed by the CA in $TLS_DIR
tls_issue() {
	local name=$1 subject=$2 ext=${3:-}
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subject" \
		-keyout "$TLS_DIR/$name.key" -out "$TLS_DIR/$name.csr" 2>/dev/null &&
		openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$TLS_CA_FILE" -CAkey "$TLS_DIR/ca.key" \
			-CAcreateserial -days 825 -sha256 -out "$TLS_DIR/$name.crt" \
			-extfile <(printf '%s\n' "basicConstraints = CA:FALSE" "$ext") 2>/dev/null &&
		rm -f "$TLS_DIR/$name.csr"
}

tls_make() {
	local f ok=1
	for f in "$TLS_CA_FILE" "$TLS_SERVER_CERT" "$TLS_CLIENT_CERT_FILE"; do
		openssl x509 -checkend 86400 -noout -in "$f" >/dev/null 2>&1 || ok=0
	done
	((ok)) && return 0
	command -v openssl >/dev/null || die "no openssl for INFRA_TLS=1: run deploy/local/deps.sh"
	rm -rf "$TLS_DIR"
	mkdir -p "$TLS_DIR"
	chmod 755 "$TLS_DIR" # the certificates are public; only the keys are 0600
	(
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -sha256 \
			-subj "/CN=integration-events local CA" -keyout "$TLS_DIR/ca.key" -out "$TLS_CA_FILE" \
			2>/dev/null &&
			tls_issue server /CN=localhost \
				"subjectAltName = DNS:localhost, IP:127.0.0.1, DNS:127.0.0.1" &&
			tls_issue client /CN=events "extendedKeyUsage = clientAuth"
	) || die "openssl could not make the TLS certificates in $TLS_DIR"
	chmod 644 "$TLS_DIR"/*.crt
	say "made a CA and certificates for 127.0.0.1 and localhost in $TLS_DIR"
}

# ---------------------------------------------------------------------------- PostgreSQL
PG_DIR=$LOCAL_DIR/pg
# As root, PostgreSQL runs as the 'postgres' user, who must reach $PG_DIR. A clone under a
# private directory (root's home is 0700) cannot be: then the cluster lives under /var/tmp
# and $LOCAL_DIR/pg links to it (down.sh --purge deletes both).
if [[ $cmd == start || $cmd == restart ]] && is_root && id postgres >/dev/null 2>&1 && [[ ! -L $PG_DIR ]]; then
	parent=$(dirname "$LOCAL_DIR")
	while [[ ! -d $parent ]]; do parent=$(dirname "$parent"); done
	if ! as_pg_user test -x "$parent"; then
		hash=$(printf '%s' "$LOCAL_DIR" | sha1sum)
		relocated=/var/tmp/integration-events-pg-${hash:0:12}
		[[ -e $PG_DIR ]] && die "user 'postgres' cannot reach '$PG_DIR' (a parent directory is not traversable): chmod o+x its parents, or delete it to move the cluster to /var/tmp"
		mkdir -p "$LOCAL_DIR" "$relocated"
		chmod 0755 "$relocated"
		ln -s "$relocated" "$PG_DIR"
		say "user 'postgres' cannot reach $LOCAL_DIR: the PostgreSQL cluster lives in $relocated ($PG_DIR links to it)"
	fi
fi
[[ -L $PG_DIR ]] && PG_DIR=$(readlink -f "$PG_DIR")
PG_DATA=$PG_DIR/data
PG_LOG=$PG_DIR/postgres.log
if [[ -n ${PG_BINDIR:-} ]]; then
	:
elif compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null; then
	PG_BINDIR=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
else
	PG_BINDIR=$(dirname "$(command -v pg_ctl || echo /usr/bin/pg_ctl)")
fi

# The socket directory: $PG_DIR/sock, or a short directory under /tmp when that path would
# exceed the ~100 bytes a unix socket path may have (recorded in $PG_DIR/sockdir).
pg_socket_dir() {
	local dir=$PG_DIR/sock recorded
	recorded=$(cat "$PG_DIR/sockdir" 2>/dev/null || true)
	if [[ -n $recorded ]]; then
		printf '%s\n' "$recorded"
	else
		printf '%s\n' "$dir"
	fi
}

pg_choose_socket_dir() {
	local dir=$PG_DIR/sock recorded
	recorded=$(cat "$PG_DIR/sockdir" 2>/dev/null || true)
	if [[ -n $recorded && -d $recorded ]]; then
		dir=$recorded
	elif ((${#dir} + 16 > 100)); then
		dir=$(mktemp -d /tmp/pgsock.XXXXXX)
		printf '%s\n' "$dir" >"$PG_DIR/sockdir"
	else
		rm -f "$PG_DIR/sockdir"
		mkdir -p "$dir"
	fi
	chmod 700 "$dir"
	is_root && chown postgres: "$dir"
	printf '%s\n' "$dir"
}

pg_running() {
	[[ -f $PG_DATA/PG_VERSION ]] && as_pg_user "$PG_BINDIR/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

# pg_actual N: line N of postmaster.pid (1 = pid, 4 = port)
pg_actual() { sed -n "${1}p" "$PG_DATA/postmaster.pid" 2>/dev/null || true; }

# pg_provision: creates role and database 'events' if missing (through the socket, as superuser)
pg_provision() {
	"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$(pg_socket_dir)" -p "$(pg_actual 4)" \
		-U postgres -d postgres >/dev/null <<-'SQL'
		DO $$ BEGIN
		  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'events') THEN
		    CREATE ROLE events LOGIN CREATEROLE CREATEDB PASSWORD 'events';
		  END IF;
		END $$;
		SELECT 'CREATE DATABASE events OWNER events'
		  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'events') \gexec
	SQL
}

# pg_ssl_conf: the ssl settings of infra.conf. With INFRA_TLS=1 the server's key and certificate
# are copied into the cluster's directory: the server reads them as its own user, and refuses
# a key that others may read (mode 0600, owned by that user).
pg_ssl_conf() {
	if [[ $INFRA_TLS != 1 ]]; then
		echo "ssl = off"
		return 0
	fi
	local dir=$PG_DIR/tls
	mkdir -p "$dir"
	install -m 0644 "$TLS_SERVER_CERT" "$dir/server.crt"
	install -m 0600 "$TLS_SERVER_KEY" "$dir/server.key"
	is_root && chown -R postgres: "$dir"
	printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" "$dir/server.crt" "$dir/server.key"
}

pg_start() {
	local t0 sock ssl_conf
	t0=$(now_ms)
	if pg_running; then
		say "postgres already running on 127.0.0.1:$(pg_actual 4)"
		return 0
	fi
	if port_in_use "$PG_PORT"; then
		die "postgres cannot start: port $PG_PORT is in use by another process (set PG_PORT)"
	fi
	[[ -x $PG_BINDIR/initdb ]] || die "no PostgreSQL server in '$PG_BINDIR': run deploy/local/deps.sh"
	mkdir -p "$PG_DIR"
	if is_root; then
		id postgres >/dev/null 2>&1 || die "no 'postgres' OS user to run PostgreSQL as"
		chmod a+x "$LOCAL_DIR"
		[[ $(stat -c %U "$PG_DIR") == postgres ]] || chown -R postgres: "$PG_DIR"
		if ! as_pg_user test -w "$PG_DIR"; then
			die "user 'postgres' cannot write '$PG_DIR': make its parent directories traversable (chmod o+x)"
		fi
	fi
	sock=$(pg_choose_socket_dir)
	if [[ ! -f $PG_DATA/PG_VERSION ]]; then
		if ! as_pg_user "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
			--auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1; then
			die "postgres initdb failed: read $PG_DIR/initdb.log"
		fi
		as_pg_user sh -c "echo \"include_if_exists = 'infra.conf'\" >>'$PG_DATA/postgresql.conf'"
	fi
	ssl_conf=$(pg_ssl_conf) || die "postgres: cannot install the TLS key and certificate in $PG_DIR/tls"
	# rewritten on every start, so a changed PG_PORT, socket directory or INFRA_TLS takes effect
	as_pg_user sh -c "cat >'$PG_DATA/infra.conf'" <<-EOF
		# written by deploy/local/infra.sh on every start
		listen_addresses = '127.0.0.1'
		port = $PG_PORT
		unix_socket_directories = '$sock'
		max_connections = 200
		$ssl_conf
		$(((PG_STAT_STATEMENTS)) && printf "%s\n" "shared_preload_libraries = 'pg_stat_statements, auto_explain'" \
			"pg_stat_statements.track_planning = on" "auto_explain.log_min_duration = '5ms'" \
			"auto_explain.log_analyze = on" "auto_explain.log_buffers = on")
	EOF
	if ! (close_extra_fds && as_pg_user "$PG_BINDIR/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
		</dev/null >/dev/null 2>&1); then
		die "postgres failed to start: read $PG_LOG"
	fi
	wait_until 30 "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" ||
		die "postgres is not accepting connections after 30 s: read $PG_LOG"
	pg_provision || die "postgres: creating role and database 'events' failed: read $PG_LOG"
	say "postgres ready on 127.0.0.1:$PG_PORT in $(elapsed "$t0") ($(mask_url "$DATABASE_URL_PRIVATE"))"
}

pg_stop() {
	local t0 recorded
	t0=$(now_ms)
	if pg_running; then
		if ! as_pg_user "$PG_BINDIR/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null 2>&1; then
			warn "postgres did not stop in 60 s, stopping it with -m immediate"
			as_pg_user "$PG_BINDIR/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 30 >/dev/null 2>&1 ||
				die "postgres failed to stop: read $PG_LOG"
		fi
		say "postgres stopped in $(elapsed "$t0")"
	else
		say "postgres already stopped"
	fi
	recorded=$(cat "$PG_DIR/sockdir" 2>/dev/null || true)
	if [[ -n $recorded ]]; then
		rm -rf "$recorded"
		rm -f "$PG_DIR/sockdir"
	fi
}

pg_status() {
	if pg_running; then
		say "postgres: running on 127.0.0.1:$(pg_actual 4) (pid $(pg_actual 1), data $PG_DATA)"
		return 0
	fi
	say "postgres: stopped (port $PG_PORT, data $PG_DATA)"
	return 3
}

# ------------------------------------------------------------------------------ RabbitMQ
RMQ_DIR=$LOCAL_DIR/rabbitmq
RMQ_PIDFILE=$RMQ_DIR/rabbitmq.pid
RMQ_LAUNCHER_PIDFILE=$RMQ_DIR/launcher.pid
RMQ_LOG=$RMQ_DIR/log/rabbit.log
RMQ_STDOUT=$RMQ_DIR/log/stdout.log
if [[ -z ${RABBITMQ_BIN_DIR:-} ]]; then
	RABBITMQ_BIN_DIR=/usr/lib/rabbitmq/bin
	[[ -x $RABBITMQ_BIN_DIR/rabbitmq-server ]] ||
		RABBITMQ_BIN_DIR=$(dirname "$(command -v rabbitmq-server || echo /usr/sbin/rabbitmq-server)")
fi

# The distribution port defaults to AMQP + 20000, which is invalid above 45535 (boot then
# fails while rabbitmq-server exits 0), and 25672 may belong to a system node: always choose.
rmq_choose_dist_port() {
	local p
	if [[ -n $ENV_DIST_PORT ]]; then
		printf '%s\n' "$ENV_DIST_PORT"
		return 0
	fi
	p=${RABBITMQ_DIST_PORT:-$((AMQP_PORT + 20000))} # the recorded one, else the usual one
	[[ -z ${RABBITMQ_DIST_PORT:-} ]] && ((AMQP_PORT == 55672)) && p=25672
	if ((p > 65535)) || port_in_use "$p"; then
		p=$(free_port "$PG_PORT" "$AMQP_PORT" "$RABBITMQ_MANAGEMENT_PORT" "$AMQPS_PORT") ||
			die "rabbitmq: no free port for Erlang distribution (set RABBITMQ_DIST_PORT)"
	fi
	printf '%s\n' "$p"
}

# +sbwt none (and for the dirty schedulers): Erlang's schedulers spin before they sleep, which on
# a small machine shared with PostgreSQL and the services takes CPU they need. Measured by the
# saga benchmark at 50 bookings/s, three runs each: created → final p50 15–16 ms and p99 29–31 ms
# without the spinning against 18–22 and 40–56 ms with it, 5–20 % less CPU per booking
# (docs/benchmark.md, the levers).
rmq_env() {
	RMQ_ENV=(
		HOME="$RMQ_DIR/home"
		RABBITMQ_NODENAME="$RABBITMQ_NODENAME"
		RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
		RABBITMQ_NODE_PORT="$AMQP_PORT"
		RABBITMQ_DIST_PORT="${RABBITMQ_DIST_PORT:-0}"
		RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia"
		RABBITMQ_LOG_BASE="$RMQ_DIR/log"
		RABBITMQ_LOGS="$RMQ_LOG"
		RABBITMQ_PID_FILE="$RMQ_PIDFILE"
		RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
		RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
		RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
		RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"
		RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
		ERL_EPMD_ADDRESS=127.0.0.1
		ERL_CRASH_DUMP="$RMQ_DIR/log/erl_crash.dump"
	)
	[[ -n ${ERL_EPMD_PORT:-} ]] && RMQ_ENV+=(ERL_EPMD_PORT="$ERL_EPMD_PORT")
	return 0
}

# proc_is_ours PID: true when PID is alive and was started with our RABBITMQ_PID_FILE (this
# survives pid reuse and tells our node from other nodes on the machine)
proc_is_ours() {
	[[ -n $1 && -r /proc/$1/environ ]] &&
		grep -qzxF "RABBITMQ_PID_FILE=$RMQ_PIDFILE" "/proc/$1/environ" 2>/dev/null
}

rmq_node_pid() {
	local pid
	pid=$(read_pidfile "$RMQ_PIDFILE")
	proc_is_ours "$pid" && printf '%s\n' "$pid"
	return 0
}

rmq_launcher_pid() {
	local pid
	pid=$(read_pidfile "$RMQ_LAUNCHER_PIDFILE")
	proc_is_ours "$pid" && printf '%s\n' "$pid"
	return 0
}

rmq_ready() {
	port_in_use "$AMQP_PORT" || return 1
	[[ $INFRA_TLS == 1 ]] && ! port_in_use "$AMQPS_PORT" && return 1
	[[ $RABBITMQ_MANAGEMENT == 1 ]] && ! port_in_use "$RABBITMQ_MANAGEMENT_PORT" && return 1
	return 0
}

rmq_write_config() {
	mkdir -p "$RMQ_DIR/home" "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
	if [[ ! -f $RMQ_DIR/home/.erlang.cookie ]]; then
		(umask 077 && od -An -N20 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F \
			>"$RMQ_DIR/home/.erlang.cookie")
		chmod 400 "$RMQ_DIR/home/.erlang.cookie"
	fi
	: >"$RMQ_DIR/rabbitmq-env.conf"
	{
		echo "# written by deploy/local/infra.sh on every start"
		echo "default_user = events"
		echo "default_pass = events"
		echo "default_vhost = events"
		echo "loopback_users = none"
		echo "log.file.level = info"
		echo "log.console = false"
		if [[ $RABBITMQ_MANAGEMENT == 1 ]]; then
			echo "management.tcp.port = $RABBITMQ_MANAGEMENT_PORT"
			echo "management.tcp.ip = 127.0.0.1"
		fi
		if [[ $INFRA_TLS == 1 ]]; then
			# beside the plain listener; a client must present a certificate of our CA
			echo "listeners.ssl.default = 127.0.0.1:$AMQPS_PORT"
			echo "ssl_options.cacertfile = $TLS_CA_FILE"
			echo "ssl_options.certfile = $TLS_SERVER_CERT"
			echo "ssl_options.keyfile = $TLS_SERVER_KEY"
			echo "ssl_options.verify = verify_peer"
			echo "ssl_options.fail_if_no_peer_cert = true"
		fi
	} >"$RMQ_DIR/rabbitmq.conf"
	if [[ $RABBITMQ_MANAGEMENT == 1 ]]; then
		echo '[rabbitmq_management].' >"$RMQ_DIR/enabled_plugins"
	else
		echo '[].' >"$RMQ_DIR/enabled_plugins"
	fi
}

# rmq_launch: starts the node in the background unless it is up or booting; sets RMQ_T0
# (0 when nothing was launched) so rmq_wait can report the boot time, and RMQ_LOG_OFFSET to
# where this boot's lines start in the log
RMQ_T0=0
RMQ_LOG_OFFSET=
RMQ_LAUNCHED=
rmq_launch() {
	local p
	if [[ -n $(rmq_node_pid) ]] || [[ -n $(rmq_launcher_pid) ]]; then
		return 0
	fi
	[[ -x $RABBITMQ_BIN_DIR/rabbitmq-server ]] ||
		die "no rabbitmq-server in '$RABBITMQ_BIN_DIR': run deploy/local/deps.sh"
	RABBITMQ_DIST_PORT=$(rmq_choose_dist_port)
	for p in "$AMQP_PORT" "$RABBITMQ_DIST_PORT"; do
		port_in_use "$p" && die "rabbitmq cannot start: port $p is in use by another process"
	done
	if [[ $RABBITMQ_MANAGEMENT == 1 ]] && port_in_use "$RABBITMQ_MANAGEMENT_PORT"; then
		die "rabbitmq cannot start: management port $RABBITMQ_MANAGEMENT_PORT is in use (set RABBITMQ_MANAGEMENT_PORT)"
	fi
	if [[ $INFRA_TLS == 1 ]] && port_in_use "$AMQPS_PORT"; then
		die "rabbitmq cannot start: amqps port $AMQPS_PORT is in use (set AMQPS_PORT)"
	fi
	rmq_write_config
	rmq_env
	rm -f "$RMQ_PIDFILE"
	RMQ_LOG_OFFSET=$(stat -c %s "$RMQ_LOG" 2>/dev/null || echo 0)
	RMQ_T0=$(now_ms)
	(
		close_extra_fds
		cd "$RMQ_DIR"
		export "${RMQ_ENV[@]}"
		exec setsid nohup "$RABBITMQ_BIN_DIR/rabbitmq-server" </dev/null >>"$RMQ_STDOUT" 2>&1
	) &
	RMQ_LAUNCHED=$!
	echo "$RMQ_LAUNCHED" >"$RMQ_LAUNCHER_PIDFILE"
}

# rmq_booting: true while a launcher runs; the one we just forked is checked by pid alone,
# as its /proc environ shows our variables only once it has exec'd rabbitmq-server
rmq_booting() {
	if [[ -n $RMQ_LAUNCHED ]]; then
		pid_alive "$RMQ_LAUNCHED"
	else
		[[ -n $(rmq_launcher_pid) ]]
	fi
}

# rmq_booted: true once the boot we launched logged its end (the AMQP listener opens a few
# hundred ms before the node has finished booting)
rmq_booted() {
	[[ -z $RMQ_LOG_OFFSET ]] && return 0
	tail -c +"$((RMQ_LOG_OFFSET + 1))" "$RMQ_LOG" 2>/dev/null | grep -c 'Server startup complete' >/dev/null
}

rmq_wait() {
	local t0=$RMQ_T0 limit=${RABBITMQ_START_TIMEOUT:-120} deadline
	[[ $t0 == 0 ]] && t0=$(now_ms)
	deadline=$((t0 + limit * 1000))
	until [[ -n $(rmq_node_pid) ]] && rmq_ready && rmq_booted; do
		if [[ -z $(rmq_node_pid) ]] && ! rmq_booting; then
			die "rabbitmq failed to start: read $RMQ_LOG and $RMQ_STDOUT"
		fi
		if (($(now_ms) >= deadline)); then
			warn "rabbitmq not ready after $limit s, stopping it"
			rmq_stop >/dev/null 2>&1 || true
			die "rabbitmq failed to start: read $RMQ_LOG and $RMQ_STDOUT"
		fi
		sleep 0.2
	done
	if [[ $RMQ_T0 == 0 ]]; then
		say "rabbitmq already running on 127.0.0.1:$AMQP_PORT (node $RABBITMQ_NODENAME)"
	else
		say "rabbitmq ready on 127.0.0.1:$AMQP_PORT in $(elapsed "$RMQ_T0") ($(mask_url "$AMQP_URL_PRIVATE"))"
	fi
	if [[ $INFRA_TLS == 1 ]]; then
		say "rabbitmq amqps:// on 127.0.0.1:$AMQPS_PORT ($(mask_url "$AMQPS_URL_PRIVATE"), CA $TLS_CA_FILE)"
	fi
	if [[ $RABBITMQ_MANAGEMENT == 1 ]]; then
		say "rabbitmq management UI on http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT/ (user events)"
	fi
}

rmq_stop() {
	local t0 pid launcher
	t0=$(now_ms)
	pid=$(rmq_node_pid)
	launcher=$(rmq_launcher_pid)
	if [[ -z $pid && -z $launcher ]]; then
		say "rabbitmq already stopped"
	else
		# SIGTERM makes the node shut down cleanly, as 'rabbitmqctl stop' does, without the
		# second of CLI start-up
		kill -TERM "${pid:-$launcher}" 2>/dev/null || true
		if ! wait_until 60 rmq_gone "$pid" "$launcher"; then
			warn "rabbitmq did not stop in 60 s, killing it"
			kill -KILL ${pid:+"$pid"} ${launcher:+"$launcher"} 2>/dev/null || true
			wait_until 10 rmq_gone "$pid" "$launcher" || die "rabbitmq (pid $pid) will not die"
		fi
		say "rabbitmq stopped in $(elapsed "$t0")"
	fi
	rm -f "$RMQ_PIDFILE" "$RMQ_LAUNCHER_PIDFILE"
	rmq_stop_private_epmd
}

rmq_gone() {
	! proc_is_ours "$1" && ! proc_is_ours "$2"
}

# A private epmd (ERL_EPMD_PORT other than 4369, as tests/run.sh uses) is ours alone: stop it
# once no node is registered with it. The shared one on 4369 is left to whoever else uses it.
rmq_stop_private_epmd() {
	local epmd names
	[[ -n ${ERL_EPMD_PORT:-} && $ERL_EPMD_PORT != 4369 ]] || return 0
	port_in_use "$ERL_EPMD_PORT" || return 0
	epmd=$(command -v epmd || true)
	[[ -n $epmd ]] || return 0
	names=$(ERL_EPMD_ADDRESS=127.0.0.1 "$epmd" -port "$ERL_EPMD_PORT" -names 2>/dev/null || true)
	if [[ -n $names ]] && ! grep -q '^name ' <<<"$names"; then
		ERL_EPMD_ADDRESS=127.0.0.1 "$epmd" -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true
	fi
}

rmq_status() {
	local pid
	pid=$(rmq_node_pid)
	if [[ -n $pid ]] && rmq_ready; then
		say "rabbitmq: running on 127.0.0.1:$AMQP_PORT (pid $pid, node $RABBITMQ_NODENAME$(
			[[ $RABBITMQ_MANAGEMENT == 1 ]] && printf ', management port %s' "$RABBITMQ_MANAGEMENT_PORT"
		))"
		return 0
	fi
	if [[ -n $pid || -n $(rmq_launcher_pid) ]]; then
		say "rabbitmq: starting or not answering on 127.0.0.1:$AMQP_PORT (node $RABBITMQ_NODENAME, log $RMQ_LOG)"
	else
		say "rabbitmq: stopped (port $AMQP_PORT, node $RABBITMQ_NODENAME)"
	fi
	return 3
}

# ------------------------------------------------------------------------------ infra.env
write_infra_env() {
	local tmp=$INFRA_ENV.tmp.$$
	{
		echo "# written by deploy/local/infra.sh; load with: set -a; . $(printf '%q' "$INFRA_ENV"); set +a"
		printf 'LOCAL_DIR=%q\n' "$LOCAL_DIR"
		printf 'PG_PORT=%q\n' "$PG_PORT"
		printf 'PG_SOCKET_DIR=%q\n' "$(pg_socket_dir)"
		printf 'AMQP_PORT=%q\n' "$AMQP_PORT"
		printf 'RABBITMQ_MANAGEMENT=%q\n' "$RABBITMQ_MANAGEMENT"
		printf 'RABBITMQ_MANAGEMENT_PORT=%q\n' "$RABBITMQ_MANAGEMENT_PORT"
		[[ -n ${RABBITMQ_DIST_PORT:-} ]] && printf 'RABBITMQ_DIST_PORT=%q\n' "$RABBITMQ_DIST_PORT"
		printf 'RABBITMQ_NODENAME=%q\n' "$RABBITMQ_NODENAME"
		[[ -n ${ERL_EPMD_PORT:-} ]] && printf 'ERL_EPMD_PORT=%q\n' "$ERL_EPMD_PORT"
		printf 'DATABASE_URL=%q\n' "$DATABASE_URL_PRIVATE"
		printf 'AMQP_URL=%q\n' "$AMQP_URL_PRIVATE"
		printf 'INFRA_TLS=%q\n' "$INFRA_TLS"
		if [[ $INFRA_TLS == 1 ]]; then
			printf 'AMQPS_PORT=%q\n' "$AMQPS_PORT"
			printf 'AMQPS_URL=%q\n' "$AMQPS_URL_PRIVATE"
			printf 'DATABASE_URL_TLS=%q\n' "$DATABASE_URL_TLS_PRIVATE"
			printf 'TLS_CA_FILE=%q\n' "$TLS_CA_FILE"
			printf 'TLS_CLIENT_CERT_FILE=%q\n' "$TLS_CLIENT_CERT_FILE"
			printf 'TLS_CLIENT_KEY_FILE=%q\n' "$TLS_CLIENT_KEY_FILE"
		fi
	} >"$tmp"
	mv -f "$tmp" "$INFRA_ENV"
}

# ---------------------------------------------------------------------------------- main
do_start() {
	mkdir -p "$LOCAL_DIR"
	[[ $INFRA_TLS == 1 ]] && tls_make
	# RabbitMQ boots for ~8 s: launch it first and bring PostgreSQL up meanwhile
	[[ $what != postgres ]] && rmq_launch
	[[ $what != rabbitmq ]] && pg_start
	[[ $what != postgres ]] && rmq_wait
	write_infra_env
	return 0
}

do_stop() {
	[[ $what != postgres ]] && rmq_stop
	[[ $what != rabbitmq ]] && pg_stop
	return 0
}

do_status() {
	local rc=0
	if [[ $what != rabbitmq ]]; then pg_status || rc=3; fi
	if [[ $what != postgres ]]; then rmq_status || rc=3; fi
	return "$rc"
}

case $cmd in
start) do_start ;;
stop) do_stop ;;
restart)
	do_stop
	do_start
	;;
status) do_status || exit 3 ;;
rabbitmqctl)
	# the CLI needs the node's name and HOME (its Erlang cookie) and, with a private epmd, its port
	[[ -n $(rmq_node_pid) ]] || die "rabbitmq is not running (node $RABBITMQ_NODENAME, $LOCAL_DIR)"
	rmq_env
	exec env "${RMQ_ENV[@]}" "$RABBITMQ_BIN_DIR/rabbitmqctl" -n "$RABBITMQ_NODENAME" "$@"
	;;
esac
