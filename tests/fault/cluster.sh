#!/usr/bin/env bash
# A RabbitMQ cluster of two or three nodes on this machine for the fault suite's cluster
# scenario (quorum, then fail-over): nodes "a", "b" (and "c") are private nodes started by
# deploy/local/infra.sh (one LOCAL_DIR each under DIR, same Erlang cookie, same epmd), then the
# others are joined to a. Not a production setup.
# Usage: cluster.sh start DIR [2|3] | stop DIR | stop-node DIR a|b|c | start-node DIR a|b|c |
#        queues DIR [a|b|c]
#   start      writes DIR/cluster.env (AMQP_URL_A, AMQP_URL_B, …, NODE_A, NODE_B, …) once every
#              node (two by default) runs in one cluster; DIR must not hold a running cluster
#   stop       stops every node (a last) and deletes DIR
#   stop-node / start-node   a clean stop (SIGTERM) or a start of one node; a restarted node
#              rejoins the cluster by itself (its membership is on disk)
#   queues     prints "name type leader members online" of every queue of the vhost, one a
#              line, as node a (or the node named after DIR) sees them
# Ports are chosen free at start and recorded by infra.sh in DIR/<node>/infra.env. The epmd
# port is ERL_EPMD_PORT when set (tests/run.sh sets a private one), else the shared 4369.
set -euo pipefail

SCRIPT_NAME=cluster.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=deploy/local/lib.sh
. "$HERE/../../deploy/local/lib.sh"
INFRA=$REPO_ROOT/deploy/local/infra.sh
CTL=${RABBITMQ_BIN_DIR:-/usr/lib/rabbitmq/bin}/rabbitmqctl

usage() {
	echo "usage: cluster.sh start DIR [2|3] | stop DIR | queues DIR [a|b|c] | stop-node|start-node DIR a|b|c" >&2
	exit 2
}

cmd=${1:-}
dir=${2:-}
[[ -n $dir ]] || usage
dir=$(realpath -m "$dir")

# infra NODE ARGS...: infra.sh for one node, with only the settings it recorded itself
infra() {
	local node=$1
	shift
	env -u PG_PORT -u AMQP_PORT -u RABBITMQ_DIST_PORT -u RABBITMQ_NODENAME -u RABBITMQ_MANAGEMENT \
		-u RABBITMQ_MANAGEMENT_PORT -u DATABASE_URL -u AMQP_URL -u INFRA_TLS -u AMQPS_PORT \
		LOCAL_DIR="$dir/$node" "$INFRA" "$@"
}

# recorded NODE KEY: a value infra.sh recorded for the node
recorded() {
	sed -n "s/^$2=//p" "$dir/$1/infra.env" 2>/dev/null | tail -n 1
}

# ctl_out NODE ARGS...: rabbitmqctl against one node, with that node's HOME (cookie) and epmd
ctl_out() {
	local node=$1
	shift
	local epmd
	epmd=$(recorded "$node" ERL_EPMD_PORT)
	env HOME="$dir/$node/rabbitmq/home" ERL_EPMD_ADDRESS=127.0.0.1 \
		${epmd:+ERL_EPMD_PORT=$epmd} \
		RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
		"$CTL" -n "$(recorded "$node" RABBITMQ_NODENAME)" "$@" 2>>"$dir/ctl.log"
}

# ctl NODE ARGS...: ctl_out with the output logged; dies on failure
ctl() {
	ctl_out "$@" >>"$dir/ctl.log" || die "rabbitmqctl ${*:2} on node $1 failed: read $dir/ctl.log"
}

# start_node NODE [AMQP_PORT DIST_PORT]: starts one node; the ports only on its first start
start_node() {
	local node=$1
	if [[ -f $dir/$node/infra.env ]]; then
		infra "$node" start rabbitmq >/dev/null
		return 0
	fi
	mkdir -p "$dir/$node"
	# no TLS listener: the test servers' INFRA_TLS and AMQPS_PORT are in the environment
	env -u PG_PORT -u DATABASE_URL -u AMQP_URL -u RABBITMQ_MANAGEMENT_PORT -u INFRA_TLS \
		-u AMQPS_PORT LOCAL_DIR="$dir/$node" \
		AMQP_PORT="$2" RABBITMQ_DIST_PORT="$3" RABBITMQ_MANAGEMENT=0 \
		RABBITMQ_NODENAME="fault-$node-$$@localhost" "$INFRA" start rabbitmq >/dev/null
}

case $cmd in
start)
	[[ $# -eq 2 || ($# -eq 3 && ($3 == 2 || $3 == 3)) ]] || usage
	t0=$(now_ms)
	[[ ! -e $dir/a/infra.env ]] || die "'$dir' already holds a cluster: stop it first"
	nodes=(a b)
	[[ ${3:-2} == 3 ]] && nodes=(a b c)
	mkdir -p "$dir"
	chmod 755 "$dir"
	echo "${#nodes[@]}" >"$dir/size"
	cookie=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
	# every node boots at once (~8 s each), each on two distinct free ports
	ports=()
	pids=()
	for n in "${nodes[@]}"; do
		mkdir -p "$dir/$n/rabbitmq/home"
		(umask 077 && printf '%s' "$cookie" >"$dir/$n/rabbitmq/home/.erlang.cookie")
		chmod 400 "$dir/$n/rabbitmq/home/.erlang.cookie"
		amqp=$(free_port "${ports[@]}")
		ports+=("$amqp")
		dist=$(free_port "${ports[@]}")
		ports+=("$dist")
		start_node "$n" "$amqp" "$dist" 2>"$dir/$n.err" &
		pids+=($!)
	done
	rc=0
	for pid in "${pids[@]}"; do
		wait "$pid" || rc=1
	done
	if ((rc)); then
		cat "$dir"/*.err >&2
		die "a cluster node failed to start (logs under $dir/*/rabbitmq/log)"
	fi
	for n in "${nodes[@]:1}"; do
		ctl "$n" stop_app
		ctl "$n" reset
		ctl "$n" join_cluster "$(recorded a RABBITMQ_NODENAME)"
		ctl "$n" start_app
	done
	ctl a await_online_nodes "${#nodes[@]}" --timeout 60
	names=()
	for n in "${nodes[@]}"; do
		N=${n^^}
		printf 'AMQP_URL_%s=%s\n' "$N" "$(recorded "$n" AMQP_URL)"
		printf 'NODE_%s=%s\n' "$N" "$(recorded "$n" RABBITMQ_NODENAME)"
		names+=("$(recorded "$n" RABBITMQ_NODENAME)")
	done >"$dir/cluster.env"
	say "${#nodes[@]}-node cluster ${names[*]} ready in $(elapsed "$t0")"
	;;
stop)
	[[ $# -eq 2 ]] || usage
	[[ -d $dir ]] || exit 0
	for n in c b a; do
		[[ -f $dir/$n/infra.env ]] && infra "$n" stop rabbitmq >/dev/null
	done
	rm -rf "$dir"
	;;
stop-node | start-node)
	[[ $# -eq 3 && ($3 == a || $3 == b || $3 == c) ]] || usage
	[[ -f $dir/$3/infra.env ]] || die "no cluster node '$3' in '$dir'"
	t0=$(now_ms)
	if [[ $cmd == stop-node ]]; then
		infra "$3" stop rabbitmq >/dev/null
	else
		infra "$3" start rabbitmq >/dev/null
		# ask a node that is up (a may be the one just started: it answers too)
		ctl "$3" await_online_nodes "$(cat "$dir/size")" --timeout 60
	fi
	if [[ $cmd == stop-node ]]; then say "node $3 stopped in $(elapsed "$t0")"; else say "node $3 started in $(elapsed "$t0")"; fi
	;;
queues)
	[[ $# -eq 2 || ($# -eq 3 && ($3 == a || $3 == b || $3 == c)) ]] || usage
	ctl_out "${3:-a}" list_queues -p events --no-table-headers -q name type leader members online
	;;
*) usage ;;
esac
