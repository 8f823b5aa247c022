#!/usr/bin/env bash
# Least privilege per context (SPEC §5 "Isolation"; docs/isolation.md, ADR 0005 and 0007). For
# each of the six contexts: a PostgreSQL role <c>_svc that owns schema <c> (made here when missing)
# and everything in it and can use no other context's schema, and a RabbitMQ user <c>_svc that may
# configure nothing, bind and consume only its own queues, publish only its own event types (<c>.*)
# and dead letters routed to itself (<c>). This admin step also declares the shared topology: both
# exchanges, every context's two queues and its dead-letter binding. Writes $ISOLATION_ENV (default
# $LOCAL_DIR/isolation.env, mode 600): <CONTEXT>_DATABASE_URL and <CONTEXT>_AMQP_URL per context.
# Passwords come from those variables when the environment sets them (compose), else from the
# file, else are generated once; they are re-applied on every run. Idempotent. Run it before the
# migrations (each context then migrates its own schema) and again after any migration run as the
# admin: it takes over what the admin created.
# Usage: isolation.sh [apply|drop]   (drop hands the schemas back to the admin role and deletes
#        the roles and users; no data is lost)
# Settings (env > $LOCAL_DIR/infra.env): DATABASE_URL, a role that may create roles and owns the
# migrated schemas (e.g. 'events'); AMQP_URL, a user that may manage users (e.g. 'events');
# EVENTS_EXCHANGE, DEAD_LETTER_EXCHANGE, AMQP_QUEUE_TYPE as the services have them (the queues
# are declared here with the services' arguments). RabbitMQ is changed through
# RABBITMQ_MANAGEMENT_URL (the HTTP API, e.g. http://127.0.0.1:55673) when set, else through
# '$INFRA_SH rabbitmqctl' (default deploy/local/infra.sh) on the private node of $LOCAL_DIR.
set -euo pipefail

SCRIPT_NAME=isolation.sh
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONTEXTS=(servicecatalog usermanagement booking inventory payment notification)

cmd=${1:-apply}
case $cmd in
apply | drop) ;;
*)
	echo "usage: isolation.sh [apply|drop]" >&2
	exit 2
	;;
esac
[[ $# -le 1 ]] || {
	echo "usage: isolation.sh [apply|drop]" >&2
	exit 2
}

LOCAL_DIR=$(realpath -m "${LOCAL_DIR:-$REPO_ROOT/.local}")
export LOCAL_DIR
ISOLATION_ENV=$(realpath -m "${ISOLATION_ENV:-$LOCAL_DIR/isolation.env}")
INFRA_SH=${INFRA_SH:-$REPO_ROOT/deploy/local/infra.sh}
EVENTS_EXCHANGE=${EVENTS_EXCHANGE:-integration.events}
DEAD_LETTER_EXCHANGE=${DEAD_LETTER_EXCHANGE:-integration.dead-letter}
AMQP_QUEUE_TYPE=${AMQP_QUEUE_TYPE:-classic}
# x-delivery-limit of quorum queues: the services' own (BUS_QUORUM_DELIVERY_LIMIT in common/bus.h)
QUORUM_DELIVERY_LIMIT=120
# The bound of every <context>.dead-letter queue (ADR 0010): a policy keeps its newest
# DEAD_LETTER_MAX_LENGTH messages and drops the oldest; each letter's record is in the
# context's database (dead_letter, inbox), which the bound never touches.
DEAD_LETTER_MAX_LENGTH=${DEAD_LETTER_MAX_LENGTH:-10000}
[[ $DEAD_LETTER_MAX_LENGTH =~ ^[1-9][0-9]{0,8}$ ]] ||
	die "DEAD_LETTER_MAX_LENGTH '$DEAD_LETTER_MAX_LENGTH': want a whole number of messages, 1 or more"
[[ $AMQP_QUEUE_TYPE == classic || $AMQP_QUEUE_TYPE == quorum ]] ||
	die "AMQP_QUEUE_TYPE '$AMQP_QUEUE_TYPE': want classic or quorum"

# infra_value KEY: KEY's value in $LOCAL_DIR/infra.env (what infra.sh started), else nothing
infra_value() { (
	set +u
	[[ -f $LOCAL_DIR/infra.env ]] || exit 0
	# shellcheck disable=SC1091
	. "$LOCAL_DIR/infra.env"
	printf '%s\n' "${!1}"
); }
DATABASE_URL=${DATABASE_URL:-$(infra_value DATABASE_URL)}
AMQP_URL=${AMQP_URL:-$(infra_value AMQP_URL)}
[[ -n $DATABASE_URL ]] || die "DATABASE_URL is not set (and no $LOCAL_DIR/infra.env)"
[[ -n $AMQP_URL ]] || die "AMQP_URL is not set (and no $LOCAL_DIR/infra.env)"

# ------------------------------------------------------------------------------ URLs
# Both URLs must be URIs: scheme://[user[:password]@]rest. The per-context URLs keep the rest
# (host, port, database or vhost, parameters) and put the context's user and password in front.
pg_re='^(postgres(ql)?://)([^@/?]*@)?(.+)$'
amqp_re='^(amqps?://)([^@/?#]*@)?(.+)$'
[[ $DATABASE_URL =~ $pg_re ]] || die "DATABASE_URL must be a postgresql:// URI"
PG_SCHEME=${BASH_REMATCH[1]} PG_REST=${BASH_REMATCH[4]}
[[ $AMQP_URL =~ $amqp_re ]] || die "AMQP_URL must be an amqp:// or amqps:// URI"
AMQP_SCHEME=${BASH_REMATCH[1]} AMQP_USERINFO=${BASH_REMATCH[2]%@} AMQP_REST=${BASH_REMATCH[3]}

# The vhost: the URL's one path segment, percent-decoded; none means "/" (as the services read it)
if [[ $AMQP_REST == */* ]]; then
	vhost_enc=${AMQP_REST#*/}
	[[ -n $vhost_enc && $vhost_enc != */* ]] || die "AMQP_URL: the vhost must be one path segment"
	printf -v VHOST '%b' "${vhost_enc//%/\\x}"
else
	VHOST=/
fi
[[ $VHOST =~ ^[A-Za-z0-9/._:-]+$ ]] || die "vhost '$VHOST': only letters, digits and / . _ : - are supported"
for x in "$EVENTS_EXCHANGE" "$DEAD_LETTER_EXCHANGE"; do
	[[ $x =~ ^[A-Za-z0-9._:-]+$ ]] || die "exchange '$x': only letters, digits and . _ : - are supported"
done

# ------------------------------------------------------------------------- passwords
# One lock per env file: two runs at once would race on CREATE ROLE and on the file.
mkdir -p "$(dirname "$ISOLATION_ENV")"
exec 8>>"$(dirname "$ISOLATION_ENV")/.isolation.lock"
flock -w 120 8 || die "another isolation.sh holds $(dirname "$ISOLATION_ENV")/.isolation.lock"

new_password() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# Passwords are limited to URL-safe characters, so they need no quoting in URLs, SQL or JSON.
pw_re='[A-Za-z0-9._~-]{16,128}'

# kept_password KEY: the password in KEY's URL in the environment (e.g. compose passes each
# context's URLs), else in the existing env file, else nothing
kept_password() {
	local line re="[a-z]+://${2}:(${pw_re})@"
	if [[ -n ${!1:-} ]]; then
		[[ ${!1} =~ ^$re ]] || die "$1 must be <scheme>://${2}:<16 to 128 of A-Za-z0-9._~->@..."
		printf '%s\n' "${BASH_REMATCH[1]}"
		return 0
	fi
	[[ -f $ISOLATION_ENV ]] || return 0
	re="^$1=$re"
	while IFS= read -r line; do
		if [[ $line =~ $re ]]; then
			printf '%s\n' "${BASH_REMATCH[1]}"
			return 0
		fi
	done <"$ISOLATION_ENV"
}

declare -A PG_PW=() AMQP_PW=()
for c in "${CONTEXTS[@]}"; do
	C=${c^^}
	PG_PW[$c]=$(kept_password "${C}_DATABASE_URL" "${c}_svc")
	[[ -n ${PG_PW[$c]} ]] || PG_PW[$c]=$(new_password)
	AMQP_PW[$c]=$(kept_password "${C}_AMQP_URL" "${c}_svc")
	[[ -n ${AMQP_PW[$c]} ]] || AMQP_PW[$c]=$(new_password)
done

# write_env: the env file, mode 600, replaced atomically (written before anything is applied,
# so a failed run keeps the passwords the next run applies)
write_env() {
	local tmp=$ISOLATION_ENV.tmp.$$ c C
	(
		umask 077
		{
			echo "# written by deploy/local/isolation.sh: one PostgreSQL role and one RabbitMQ user per"
			echo "# context (docs/isolation.md). Secrets: keep this file mode 600, never commit it."
			for c in "${CONTEXTS[@]}"; do
				C=${c^^}
				printf '%s_DATABASE_URL=%q\n' "$C" "$PG_SCHEME${c}_svc:${PG_PW[$c]}@$PG_REST"
				printf '%s_AMQP_URL=%q\n' "$C" "$AMQP_SCHEME${c}_svc:${AMQP_PW[$c]}@$AMQP_REST"
			done
		} >"$tmp"
	)
	chmod 600 "$tmp"
	mv -f "$tmp" "$ISOLATION_ENV"
}

# ------------------------------------------------------------------------ PostgreSQL
# psql_admin: runs the SQL on stdin as the admin role, in one transaction, stopping at the first
# error (which rolls everything back). Passwords travel on stdin, never on a command line.
psql_admin() {
	pg_url_split "$DATABASE_URL"
	PGPASSWORD=$PG_URL_PASSWORD PGAPPNAME=isolation.sh PGCONNECT_TIMEOUT=10 \
		psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$PG_URL_NO_PASSWORD" -f - >/dev/null
}

sql_list() { # sql_list SUFFIX: 'servicecatalogSUFFIX', 'usermanagementSUFFIX', ...
	local c out=''
	for c in "${CONTEXTS[@]}"; do out+="${out:+, }'$c$1'"; done
	printf '%s\n' "$out"
}

pg_apply_sql() {
	local c o
	echo "SET client_min_messages = warning;"
	# 1. every role exists with its password and no attribute beyond LOGIN; the admin becomes a
	# member of each role (ALTER ... OWNER and CREATE SCHEMA ... AUTHORIZATION need it, and the
	# admin's own checks read every schema with it; eventctl and migrate still refuse to act on a
	# schema their login does not own, ADR 0007); a missing schema is made, owned by its role,
	# so the context's migrations run as the context
	for c in "${CONTEXTS[@]}"; do
		cat <<-SQL
			DO \$\$ BEGIN
			  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${c}_svc') THEN
			    CREATE ROLE ${c}_svc LOGIN;
			  END IF;
			  EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${c}_svc', current_database());
			END \$\$;
			ALTER ROLE ${c}_svc LOGIN PASSWORD '${PG_PW[$c]}';
			GRANT ${c}_svc TO CURRENT_USER;
			CREATE SCHEMA IF NOT EXISTS $c AUTHORIZATION ${c}_svc;
		SQL
	done
	# 2. each role owns its schema and everything in it (sequences of identity and serial columns
	# follow their table, indexes too); nothing in it is open to PUBLIC
	for c in "${CONTEXTS[@]}"; do
		cat <<-SQL
			ALTER SCHEMA $c OWNER TO ${c}_svc;
			REVOKE ALL ON SCHEMA $c FROM PUBLIC;
			REVOKE ALL ON ALL TABLES IN SCHEMA $c FROM PUBLIC;
			REVOKE ALL ON ALL SEQUENCES IN SCHEMA $c FROM PUBLIC;
			DO \$\$
			DECLARE o record;
			BEGIN
			  FOR o IN
			    SELECT cl.oid::regclass AS name,
			           CASE cl.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
			                WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
			                WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END AS kind
			      FROM pg_class cl
			     WHERE cl.relnamespace = '$c'::regnamespace
			       AND cl.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
			       AND cl.relowner <> '${c}_svc'::regrole
			       AND NOT EXISTS (SELECT FROM pg_depend d  -- owned by a column: follows its table
			                        WHERE d.classid = 'pg_class'::regclass AND d.objid = cl.oid
			                          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
			  LOOP
			    EXECUTE format('ALTER %s %s OWNER TO ${c}_svc', o.kind, o.name);
			  END LOOP;
			  FOR o IN SELECT p.oid::regprocedure AS name FROM pg_proc p
			            WHERE p.pronamespace = '$c'::regnamespace AND p.proowner <> '${c}_svc'::regrole
			  LOOP
			    EXECUTE format('ALTER ROUTINE %s OWNER TO ${c}_svc', o.name);
			  END LOOP;
			  FOR o IN SELECT t.oid::regtype AS name, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kind
			             FROM pg_type t
			            WHERE t.typnamespace = '$c'::regnamespace AND t.typtype IN ('d', 'e', 'r')
			              AND t.typowner <> '${c}_svc'::regrole
			  LOOP
			    EXECUTE format('ALTER %s %s OWNER TO ${c}_svc', o.kind, o.name);
			  END LOOP;
			END \$\$;
		SQL
	done
	# 3. no role keeps a grant on another context's schema or its objects
	for c in "${CONTEXTS[@]}"; do
		for o in "${CONTEXTS[@]}"; do
			[[ $o == "$c" ]] && continue
			cat <<-SQL
				REVOKE ALL ON SCHEMA $o FROM ${c}_svc;
				REVOKE ALL ON ALL TABLES IN SCHEMA $o FROM ${c}_svc;
				REVOKE ALL ON ALL SEQUENCES IN SCHEMA $o FROM ${c}_svc;
				REVOKE ALL ON ALL ROUTINES IN SCHEMA $o FROM ${c}_svc;
			SQL
		done
	done
	# 4. check the result as PostgreSQL sees it (memberships and PUBLIC included); any
	# violation raises, and the whole transaction is rolled back
	cat <<-SQL
		DO \$\$
		DECLARE problems text;
		BEGIN
		  SELECT string_agg(p, '; ') INTO problems FROM (
		    SELECT format('%s can use schema %s', r.rolname, n.nspname) AS p
		      FROM pg_roles r JOIN pg_namespace n ON n.nspname IN ($(sql_list ''))
		     WHERE r.rolname IN ($(sql_list _svc)) AND r.rolname <> n.nspname || '_svc'
		       AND (has_schema_privilege(r.oid, n.oid, 'USAGE') OR has_schema_privilege(r.oid, n.oid, 'CREATE'))
		    UNION ALL
		    SELECT format('%s is not owned by %s_svc', cl.oid::regclass, n.nspname)
		      FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
		     WHERE n.nspname IN ($(sql_list '')) AND cl.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
		       AND pg_get_userbyid(cl.relowner) <> n.nspname || '_svc'
		    UNION ALL
		    SELECT format('schema %s is not owned by %s_svc', n.nspname, n.nspname)
		      FROM pg_namespace n
		     WHERE n.nspname IN ($(sql_list '')) AND pg_get_userbyid(n.nspowner) <> n.nspname || '_svc'
		    UNION ALL
		    SELECT format('%s has more than LOGIN (superuser, createrole, createdb, replication or bypassrls)', rolname)
		      FROM pg_roles
		     WHERE rolname IN ($(sql_list _svc))
		       AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)
		    UNION ALL
		    SELECT format('%s is a member of %s', pg_get_userbyid(m.member), pg_get_userbyid(m.roleid))
		      FROM pg_auth_members m
		     WHERE pg_get_userbyid(m.member) IN ($(sql_list _svc))
		        OR (pg_get_userbyid(m.roleid) IN ($(sql_list _svc)) AND m.member <> current_user::regrole)
		  ) v;
		  IF problems IS NOT NULL THEN
		    RAISE EXCEPTION 'isolation check failed: %', problems;
		  END IF;
		END \$\$;
	SQL
}

pg_drop_sql() {
	local c
	echo "SET client_min_messages = warning;"
	for c in "${CONTEXTS[@]}"; do
		cat <<-SQL
			DO \$\$ BEGIN
			  IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${c}_svc') THEN
			    EXECUTE 'GRANT ${c}_svc TO CURRENT_USER';
			    EXECUTE 'REASSIGN OWNED BY ${c}_svc TO CURRENT_USER';
			    EXECUTE 'DROP OWNED BY ${c}_svc';
			    EXECUTE 'DROP ROLE ${c}_svc';
			  END IF;
			END \$\$;
		SQL
	done
}

# -------------------------------------------------------------------------- RabbitMQ
# re_escape TEXT: TEXT as a regular expression matching exactly itself
re_escape() {
	local s=$1 out='' ch i
	for ((i = 0; i < ${#s}; i++)); do
		ch=${s:i:1}
		case $ch in [.\\^\$\*+?\(\)\[\]\{\}\|]) out+="\\$ch" ;; *) out+=$ch ;; esac
	done
	printf '%s\n' "$out"
}

json_str() { # json_str TEXT: TEXT as a JSON string (our texts hold no quotes or control characters)
	local s=${1//\\/\\\\}
	printf '"%s"' "${s//\"/\\\"}"
}

# definitions: the shared topology (both exchanges, every context's two queues with the
# services' arguments, each dead-letter queue's binding) and the users with their permissions and
# topic permissions, as one RabbitMQ definitions document (imported in one step by either
# transport; import adds and updates, never deletes)
definitions() {
	local c q ex dlx vh users='' perms='' topics='' queues='' bindings='' sep='' limit='' names='' policy
	ex=$(re_escape "$EVENTS_EXCHANGE")
	dlx=$(re_escape "$DEAD_LETTER_EXCHANGE")
	vh=$(json_str "$VHOST")
	[[ $AMQP_QUEUE_TYPE == quorum ]] && limit=",\"x-delivery-limit\":$QUORUM_DELIVERY_LIMIT"
	for c in "${CONTEXTS[@]}"; do
		q=$(re_escape "$c")
		# the queues exactly as bus_declare_topology declares them (common/src/bus_amqp.c):
		# <c>.events dead-letters to the dead-letter exchange with key <c>; <c>.dead-letter is
		# bound there with key <c>
		queues+="$sep{\"name\":\"$c.events\",\"vhost\":$vh,\"durable\":true,\"auto_delete\":false"
		queues+=",\"arguments\":{\"x-queue-type\":\"$AMQP_QUEUE_TYPE\",\"x-dead-letter-exchange\":"
		queues+="$(json_str "$DEAD_LETTER_EXCHANGE"),\"x-dead-letter-routing-key\":\"$c\"$limit}}"
		queues+=",{\"name\":\"$c.dead-letter\",\"vhost\":$vh,\"durable\":true,\"auto_delete\":false"
		queues+=",\"arguments\":{\"x-queue-type\":\"$AMQP_QUEUE_TYPE\"}}"
		bindings+="$sep{\"source\":$(json_str "$DEAD_LETTER_EXCHANGE"),\"vhost\":$vh"
		bindings+=",\"destination\":\"$c.dead-letter\",\"destination_type\":\"queue\""
		bindings+=",\"routing_key\":\"$c\",\"arguments\":{}}"
		users+="$sep{\"name\":\"${c}_svc\",\"password\":\"${AMQP_PW[$c]}\",\"tags\":\"\"}"
		# configure: nothing (the exchanges and queues are declared above; a user that could
		# redeclare its queue could give it another dead-letter routing key). write: publish
		# to the two exchanges (events, dead letters), bind its two queues. read: consume its
		# events queue, bind to the two exchanges. Another context's queues are out of reach.
		perms+="$sep{\"user\":\"${c}_svc\",\"vhost\":$vh,\"configure\":\"^\$\""
		perms+=",\"write\":$(json_str "^($q\\.(events|dead-letter)|$ex|$dlx)$")"
		perms+=",\"read\":$(json_str "^($q\\.events|$ex|$dlx)$")}"
		# on the events exchange, publish only its own event types (a type starts with the
		# context's name) and bind to any (every event type is public within the system); on
		# the dead-letter exchange, publish and bind only its own key (its name)
		topics+="$sep{\"user\":\"${c}_svc\",\"vhost\":$vh,\"exchange\":$(json_str "$EVENTS_EXCHANGE")"
		topics+=",\"write\":$(json_str "^$q\\."),\"read\":\".*\"}"
		topics+=",{\"user\":\"${c}_svc\",\"vhost\":$vh,\"exchange\":$(json_str "$DEAD_LETTER_EXCHANGE")"
		topics+=",\"write\":$(json_str "^$q$"),\"read\":$(json_str "^$q$")}"
		names+="${sep:+|}$q"
		sep=,
	done
	# the dead-letter queues' bound (ADR 0010), a policy: a queue's arguments cannot change once
	# it exists, a policy applies to queues already there and can be changed later
	policy="{\"vhost\":$vh,\"name\":\"dead-letter-bound\",\"pattern\":$(json_str "^($names)\\.dead-letter$")"
	policy+=",\"apply-to\":\"queues\",\"priority\":0,\"definition\":{\"max-length\":$DEAD_LETTER_MAX_LENGTH"
	policy+=",\"overflow\":\"drop-head\"}}"
	printf '{"exchanges":[%s,%s],"queues":[%s],"bindings":[%s],"users":[%s],"permissions":[%s],"topic_permissions":[%s],"policies":[%s]}\n' \
		"{\"name\":$(json_str "$EVENTS_EXCHANGE"),\"vhost\":$vh,\"type\":\"topic\",\"durable\":true,\"auto_delete\":false,\"internal\":false,\"arguments\":{}}" \
		"{\"name\":$(json_str "$DEAD_LETTER_EXCHANGE"),\"vhost\":$vh,\"type\":\"topic\",\"durable\":true,\"auto_delete\":false,\"internal\":false,\"arguments\":{}}" \
		"$queues" "$bindings" "$users" "$perms" "$topics" "$policy"
}

# mgmt_curl METHOD PATH [curl args...]: the management HTTP API as the AMQP_URL's user (the
# credentials reach curl through a config on a pipe, never on its command line); the answer's
# body goes to $MGMT_OUT when set
mgmt_curl() {
	local method=$1 path=$2 user pass code
	shift 2
	user=${AMQP_USERINFO%%:*} pass=''
	[[ $AMQP_USERINFO == *:* ]] && pass=${AMQP_USERINFO#*:}
	printf -v user '%b' "${user//%/\\x}"
	printf -v pass '%b' "${pass//%/\\x}"
	code=$(curl -sS -o "${MGMT_OUT:-/dev/null}" -w '%{http_code}' -m 30 -X "$method" \
		-K <(printf 'user = "%s:%s"\n' "${user//\"/\\\"}" "${pass//\"/\\\"}") \
		"${RABBITMQ_MANAGEMENT_URL%/}/api/$path" "$@") || return 1
	[[ $code == 2?? || ($method == DELETE && $code == 404) ]] || {
		warn "rabbitmq management API: $method /api/$path answered $code"
		return 1
	}
}

rmq_ctl() { "$INFRA_SH" rabbitmqctl "$@"; }

# rmq_imported: true once the CLI's asynchronous import shows both topic permissions of every
# user and every dead-letter queue's binding
rmq_imported() {
	local topics bindings c
	topics=$(rmq_ctl -q list_topic_permissions -p "$VHOST" 2>/dev/null) || return 1
	bindings=$(rmq_ctl -q list_bindings -p "$VHOST" source_name destination_name routing_key 2>/dev/null) ||
		return 1
	for c in "${CONTEXTS[@]}"; do
		[[ $(grep -c "^${c}_svc[[:space:]]" <<<"$topics") -ge 2 ]] || return 1
		grep -qF "$DEAD_LETTER_EXCHANGE"$'\t'"$c.dead-letter"$'\t'"$c" <<<"$bindings" || return 1
	done
}

# rmq_replace_direct_dlx: a dead-letter exchange declared before ADR 0007 is direct, and topic
# permissions do not apply to a direct exchange. An exchange holds no messages: it is deleted
# (its bindings with it) and the import makes it again as a topic exchange with the dead-letter
# queues' bindings. The services look their exchanges up passively, so they notice nothing.
rmq_replace_direct_dlx() {
	local type='' path body
	if [[ -n ${RABBITMQ_MANAGEMENT_URL:-} ]]; then
		path="exchanges/${VHOST//\//%2F}/$DEAD_LETTER_EXCHANGE"
		body=$(mktemp)
		# a missing exchange answers 404: nothing to replace
		if MGMT_OUT=$body mgmt_curl GET "$path" 2>/dev/null; then
			type=$(jq -r '.type // empty' "$body") || type=''
		fi
		rm -f "$body"
		[[ $type == direct ]] || return 0
		mgmt_curl DELETE "$path" || die "rabbitmq: deleting the direct exchange $DEAD_LETTER_EXCHANGE failed"
	else
		type=$(rmq_ctl -q list_exchanges -p "$VHOST" name type |
			awk -F'\t' -v n="$DEAD_LETTER_EXCHANGE" '$1 == n { print $2 }') ||
			die "rabbitmq: listing the exchanges failed (is the private node of $LOCAL_DIR running?)"
		[[ $type == direct ]] || return 0
		rmq_ctl -q eval "rabbit_exchange:delete(rabbit_misc:r(<<\"$VHOST\">>, exchange, <<\"$DEAD_LETTER_EXCHANGE\">>), false, <<\"isolation.sh\">>)." >/dev/null ||
			die "rabbitmq: deleting the direct exchange $DEAD_LETTER_EXCHANGE failed"
	fi
	say "rabbitmq: replaced the direct exchange $DEAD_LETTER_EXCHANGE by a topic one (ADR 0007)"
}

rmq_apply() {
	rmq_replace_direct_dlx
	if [[ -n ${RABBITMQ_MANAGEMENT_URL:-} ]]; then
		definitions | mgmt_curl POST definitions -H 'content-type: application/json' --data-binary @- ||
			die "rabbitmq: importing the users and permissions through $RABBITMQ_MANAGEMENT_URL failed"
	else
		definitions | rmq_ctl -q import_definitions --format json >/dev/null ||
			die "rabbitmq: importing the users and permissions failed (is the private node of $LOCAL_DIR running?)"
		wait_until 30 rmq_imported || die "rabbitmq: the users' permissions did not appear within 30 s"
	fi
}

rmq_drop() {
	local c users
	if [[ -n ${RABBITMQ_MANAGEMENT_URL:-} ]]; then
		for c in "${CONTEXTS[@]}"; do
			mgmt_curl DELETE "users/${c}_svc" || die "rabbitmq: deleting user ${c}_svc failed"
		done
	else
		users=$(rmq_ctl -q list_users) || die "rabbitmq: listing the users failed"
		for c in "${CONTEXTS[@]}"; do
			if grep -q "^${c}_svc[[:space:]]" <<<"$users"; then
				rmq_ctl -q delete_user "${c}_svc" >/dev/null || die "rabbitmq: deleting user ${c}_svc failed"
			fi
		done
	fi
}

# ------------------------------------------------------------------------------ main
t0=$(now_ms)
if [[ $cmd == apply ]]; then
	write_env
	pg_apply_sql | psql_admin || die "postgres: creating the roles or handing them their schemas failed"
	say "postgres: each context's role <context>_svc owns its schema and can use no other ($(mask_url "$DATABASE_URL"))"
	rmq_apply
	say "rabbitmq: shared exchanges and queues declared; each context's user <context>_svc may use only its own queues and publish only its own events and dead letters (vhost $VHOST)"
	say "credentials for ${#CONTEXTS[@]} contexts in $ISOLATION_ENV (mode 600) in $(elapsed "$t0")"
else
	pg_drop_sql | psql_admin || die "postgres: dropping the roles failed"
	say "postgres: roles dropped, schemas owned by the admin role again"
	rmq_drop
	say "rabbitmq: users deleted"
	rm -f "$ISOLATION_ENV"
	say "removed $ISOLATION_ENV in $(elapsed "$t0")"
fi
