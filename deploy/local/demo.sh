#!/usr/bin/env bash
# The main job: start everything (up.sh), then run both choreographies of SPEC §1 over HTTP
# while narrating them: provider registration, then a booking confirmed, one rejected for lack
# of stock and one cancelled by a declined payment with its stock released. After each, the
# event flow of its correlation id is printed as a timeline (eventctl trace).
# Usage: deploy/local/demo.sh [--once]   --once: exit 0 only if every expectation held
#                                        (the system is left running; down.sh stops it).
set -euo pipefail
SCRIPT_NAME=demo
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

once=0
for arg in "$@"; do
	case $arg in
	--once) once=1 ;;
	-h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) warn "unknown option '$arg' (see --help)"; exit 2 ;;
	esac
done

"$REPO_ROOT/deploy/local/up.sh"
set -a
# shellcheck source=/dev/null
. "${LOCAL_DIR:-$REPO_ROOT/.local}/env"
set +a
EVENTCTL=$REPO_ROOT/build/bin/eventctl

failures=0
run=$(date +%s)
bold='' plain=''
if [[ -t 1 ]]; then
	bold=$(tput bold 2>/dev/null || true) plain=$(tput sgr0 2>/dev/null || true)
fi

title() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$plain"; }
step() { printf '  %-68s' "$*"; }
ok() { printf 'ok %s\n' "${1:-}"; }
bad() { printf 'FAILED %s\n' "$*"; failures=$((failures + 1)); }

# request METHOD URL CORRELATION [JSON]: prints "<status> <body>"
request() {
	local out
	out=$(curl -s -m 10 -X "$1" -H 'Content-Type: application/json' -H "X-Correlation-ID: $3" \
		-w '\n%{http_code}' "$2" ${4:+-d "$4"}) || out=$'\n000'
	printf '%s %s\n' "${out##*$'\n'}" "${out%$'\n'*}"
}

# until_status WANT METHOD URL CORRELATION [JSON]: repeats the request (a replica may lag) until
# it answers WANT, at most 10 s; prints the body.
until_status() {
	local want=$1 answer i
	shift
	for ((i = 0; i < 100; i++)); do
		answer=$(request "$@")
		[[ ${answer%% *} == "$want" ]] && { printf '%s\n' "${answer#* }"; return 0; }
		sleep 0.1
	done
	printf '%s\n' "${answer#* }"
	return 1
}

# until_json URL JQ_FILTER: polls GET URL until the jq filter is true, at most 15 s.
until_json() {
	local i
	for ((i = 0; i < 150; i++)); do
		curl -s -m 5 "$1" | jq -e "$2" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

trace() {
	printf '\n  event flow of correlation id %s:\n' "$1"
	if [[ -x $EVENTCTL ]]; then
		"$EVENTCTL" trace "$1" | sed 's/^/    /' || bad "eventctl trace $1"
	else
		pg_url_split "$DATABASE_URL" # the password through PGPASSWORD, never on a command line
		PGPASSWORD=$PG_URL_PASSWORD psql "$PG_URL_NO_PASSWORD" -Atc "select to_char(created_at,'HH24:MI:SS.MS'), type from (
			select created_at, type from servicecatalog.outbox where correlation_id = '$1' union all
			select created_at, type from usermanagement.outbox where correlation_id = '$1' union all
			select created_at, type from booking.outbox where correlation_id = '$1' union all
			select created_at, type from inventory.outbox where correlation_id = '$1' union all
			select created_at, type from payment.outbox where correlation_id = '$1' union all
			select created_at, type from notification.outbox where correlation_id = '$1') e
			order by created_at" | sed 's/^/    /'
	fi
}

# ---------------------------------------------------------------------------------------------
title "provider registration"
cid=demo-$run-provider
step "POST /users: Ann signs up (usermanagement)"
user=$(until_status 201 POST "$USERMANAGEMENT_URL/users" "$cid" \
	"{\"email\":\"ann.$run@example.org\",\"name\":\"Ann\"}") && ok || bad "$user"
uid=$(jq -r .id <<<"$user")
step "POST /providers: Ann registers her salon (servicecatalog)"
provider=$(until_status 201 POST "$SERVICECATALOG_URL/providers" "$cid" \
	"{\"owner_id\":\"$uid\",\"business_name\":\"Ann's salon\",\"provider_type\":\"salon\"}") &&
	ok "(once servicecatalog knew the user)" || bad "$provider"
pid=$(jq -r .id <<<"$provider")
step "usermanagement grants the role 'provider'"
until_json "$USERMANAGEMENT_URL/users/$uid" '.roles == ["provider"] and .provider_status == "pending"' &&
	ok || bad "roles: $(curl -s "$USERMANAGEMENT_URL/users/$uid")"
step "notification sends the welcome"
until_json "$NOTIFICATION_URL/notifications?user_id=$uid" '[.notifications[] | select(.kind == "welcome")] | length == 1' &&
	ok || bad "notifications: $(curl -s "$NOTIFICATION_URL/notifications?user_id=$uid")"
step "POST /providers/{id}/activate"
answer=$(request POST "$SERVICECATALOG_URL/providers/$pid/activate" "$cid" '{}')
[[ ${answer%% *} == 200 ]] && ok || bad "$answer"
step "usermanagement marks the provider active"
until_json "$USERMANAGEMENT_URL/users/$uid" '.provider_status == "active"' && ok || bad "not active"
trace "$cid"

# ---------------------------------------------------------------------------------------------
title "booking confirmed"
cid=demo-$run-confirmed
step "POST offering: haircut, 25.00, capacity 10 (servicecatalog)"
offering=$(until_status 201 POST "$SERVICECATALOG_URL/providers/$pid/offerings" "$cid" \
	'{"name":"Haircut","price_cents":2500,"capacity":10}') && ok || bad "$offering"
oid=$(jq -r .id <<<"$offering")
step "inventory opens the stock"
until_json "$INVENTORY_URL/stock/$oid" '.available == 10' && ok || bad "no stock"
step "POST /bookings: 2 haircuts (booking learns the price first)"
booking=$(until_status 202 POST "$BOOKING_URL/bookings" "$cid" \
	"{\"user_id\":\"$uid\",\"offering_id\":\"$oid\",\"quantity\":2}") && ok "(amount $(jq -r .amount_cents <<<"$booking"))" || bad "$booking"
bid=$(jq -r .id <<<"$booking")
step "reserved, paid, debited: the booking is confirmed"
until_json "$BOOKING_URL/bookings/$bid" '.status == "confirmed"' && ok || bad "$(curl -s "$BOOKING_URL/bookings/$bid")"
step "stock: 10 = 8 available + 0 reserved + 2 sold"
until_json "$INVENTORY_URL/stock/$oid" '[.available,.reserved,.sold] == [8,0,2]' && ok || bad "$(curl -s "$INVENTORY_URL/stock/$oid")"
step "one notification 'booking_confirmed'"
until_json "$NOTIFICATION_URL/notifications?user_id=$uid" "[.notifications[] | select(.reference_id == \"$bid\" and .kind == \"booking_confirmed\")] | length == 1" &&
	ok || bad "no notification"
trace "$cid"

# ---------------------------------------------------------------------------------------------
title "booking rejected: not enough stock"
cid=demo-$run-rejected
step "POST /bookings: 50 haircuts, 8 left"
booking=$(until_status 202 POST "$BOOKING_URL/bookings" "$cid" \
	"{\"user_id\":\"$uid\",\"offering_id\":\"$oid\",\"quantity\":50}") && ok || bad "$booking"
bid=$(jq -r .id <<<"$booking")
step "inventory refuses: the booking is rejected (insufficient_stock)"
until_json "$BOOKING_URL/bookings/$bid" '.status == "rejected" and .reason == "insufficient_stock"' && ok || bad "$(curl -s "$BOOKING_URL/bookings/$bid")"
step "stock unchanged: 8 / 0 / 2, no payment"
until_json "$INVENTORY_URL/stock/$oid" '[.available,.reserved,.sold] == [8,0,2]' &&
	until_json "$PAYMENT_URL/payments?booking_id=$bid" '.payments == []' && ok || bad "stock or payment changed"
trace "$cid"

# ---------------------------------------------------------------------------------------------
title "booking cancelled: payment declined, stock released (compensation)"
cid=demo-$run-cancelled
step "POST offering: wedding styling, 900.00, capacity 5"
offering=$(until_status 201 POST "$SERVICECATALOG_URL/providers/$pid/offerings" "$cid" \
	'{"name":"Wedding styling","price_cents":90000,"capacity":5}') && ok || bad "$offering"
oid=$(jq -r .id <<<"$offering")
until_json "$INVENTORY_URL/stock/$oid" '.available == 5' || true
step "POST /bookings: 2 of them, 1800.00 > the 1000.00 payment limit"
booking=$(until_status 202 POST "$BOOKING_URL/bookings" "$cid" \
	"{\"user_id\":\"$uid\",\"offering_id\":\"$oid\",\"quantity\":2}") && ok || bad "$booking"
bid=$(jq -r .id <<<"$booking")
step "payment declines (limit_exceeded): the booking is cancelled"
until_json "$BOOKING_URL/bookings/$bid" '.status == "cancelled"' && ok || bad "$(curl -s "$BOOKING_URL/bookings/$bid")"
step "inventory released the reservation: 5 / 0 / 0"
until_json "$INVENTORY_URL/stock/$oid" '[.available,.reserved,.sold] == [5,0,0]' && ok || bad "$(curl -s "$INVENTORY_URL/stock/$oid")"
step "movements: reserve, then release"
until_json "$INVENTORY_URL/stock/$oid/movements" '[.movements[].kind] == ["reserve","release"]' && ok || bad "$(curl -s "$INVENTORY_URL/stock/$oid/movements")"
trace "$cid"

# ---------------------------------------------------------------------------------------------
title "where everything is"
for s in SERVICECATALOG USERMANAGEMENT BOOKING INVENTORY PAYMENT NOTIFICATION; do
	url=${s}_URL
	printf '  %-16s %s   (/health, /metrics)\n' "${s,,}" "${!url}"
done
printf '  %-16s %s/   (eventctl dashboard: messages, failures with Retry, flows)\n' "dashboard" \
	"${DASHBOARD_URL:-http://127.0.0.1:8080}"
printf '  %-16s http://127.0.0.1:%s/  (user events, password events)\n' "RabbitMQ UI" "${RABBITMQ_MANAGEMENT_PORT:-55673}"
printf '  %-16s %s\n' "database" "$(mask_url "$DATABASE_URL")"
printf '  %-16s %s\n' "logs" "${LOCAL_DIR:-.local}/log/<service>.log"
printf '  %-16s %s\n' "eventctl" "build/bin/eventctl messages | trace <correlation-id> [--mermaid] | requeue <id> | catalog"
printf '  %-16s %s\n' "stop" "deploy/local/down.sh"

if ((failures)); then
	say "$failures expectation(s) failed"
else
	say "every expectation held"
fi
if ((once)); then
	exit $((failures > 0))
fi
say "the system keeps running; Ctrl-C stops it"
trap '"$REPO_ROOT/deploy/local/down.sh"; exit 0' INT TERM
while true; do sleep 3600; done
