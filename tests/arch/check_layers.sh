#!/usr/bin/env bash
# check_layers.sh - the architecture rules of STYLE.md §3.8, enforced by grep.
#
# The build alone cannot stop an include of a header that sits in
# /usr/include, so this script does: foreign headers only where allowed,
# pure domains, contexts talking to each other only through *_contract.h.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail=0
violation() { echo "arch: $*"; fail=1; }

# Each foreign library is confined to its one wrapper (and contexts' store.c for libpq).
check_confined() {
    local header=$1; shift
    local allowed="$*" f
    while IFS= read -r f; do
        local ok=0 a
        for a in $allowed; do
            # shellcheck disable=SC2053
            [[ $f == $a ]] && ok=1
        done
        [ $ok = 1 ] || violation "$f includes <$header>, allowed only in: $allowed"
    done < <(grep -rlE "#include[[:space:]]*<$header>" common contexts 2>/dev/null || true)
}
check_confined 'amqp\.h|amqp_[a-z_]+\.h' common/src/bus_amqp.c
check_confined 'microhttpd\.h' common/src/http_mhd.c
check_confined 'libpq-fe\.h' common/src/db.c 'contexts/*/store.c'

# Domains are pure: no I/O library, no database/broker/HTTP module, no jansson.
if [ -d contexts ]; then
    while IFS= read -r f; do
        violation "$f: domain code includes an I/O header"
    done < <(grep -rlE '#include[[:space:]]*[<"](libpq-fe|amqp|jansson|microhttpd|common/(db|bus|http|outbox|inbox|consumer|relay|service))\.h[>"]' contexts/*/domain 2>/dev/null || true)
fi

# A context includes another context's code only through its contract header.
for dir in contexts/*/; do
    [ -d "$dir" ] || continue
    ctx=$(basename "$dir")
    while IFS=: read -r f _ inc; do
        other=$(sed -E 's|.*"([a-z_]+)/.*|\1|' <<<"$inc")
        [ "$other" = "$ctx" ] && continue
        [[ $inc =~ contract/[a-z_]+_contract\.h ]] || violation "$f includes $inc: only <other>/contract/<other>_contract.h is allowed"
    done < <(grep -rnE '#include[[:space:]]*"[a-z_]+/' "$dir" 2>/dev/null | grep -v '"common/' || true)
done

# No reaching around the include paths.
while IFS= read -r f; do
    violation "$f: '#include \"../…\"' bypasses the public include directories"
done < <(grep -rlE '#include[[:space:]]*"\.\./' common contexts tests 2>/dev/null || true)

# common/ knows nothing of any context: no context name in its code. Comments may
# use them as examples, so they are cut away before looking.
for f in common/src/* common/include/common/*; do
    while IFS=: read -r line _; do
        violation "$f:$line: the event library names a context"
    done < <(sed -E 's#/\*.*\*/##g; s#//.*##; s#^[[:space:]]*\*.*##' "$f" \
                 | grep -nwE '(servicecatalog|usermanagement|booking|inventory|payment|notification)' || true)
done

# Every context's outbox, inbox and dead letters come from one DDL: the copies stay identical.
for shared in 0002_outbox_inbox.sql 0003_dead_letters_and_traces.sql 0006_outbox_claim_order.sql 0008_attempt_errors.sql; do
    reference=tests/integration/contexts/probe/$shared
    for ctx in migrations/*/; do
        f=$ctx$shared
        [ -e "$f" ] || violation "$f is missing (the event library's DDL is one copy per context)"
        [ -e "$f" ] && { cmp -s "$reference" "$f" || violation "$f differs from $reference (the event library's DDL is one copy per context)"; }
    done
done

# The instances' heartbeats (common/heartbeat.h) likewise: one table, the same in every context.
for file in 0007_heartbeat.sql 0009_heartbeat_paused.sql; do
    heartbeat=tests/integration/contexts/probe/$file
    for ctx in migrations/*/; do
        cmp -s "$heartbeat" "${ctx}$file" ||
            violation "${ctx}$file is missing or differs from $heartbeat (one copy per context)"
    done
done

[ $fail = 0 ] && echo "arch: all layering rules hold"
exit $fail
