#!/usr/bin/env bash
# check_docs.sh - the generated documents match the code (STYLE.md 3.5, 3.6).
#
# docs/events.md, docs/config.md, docs/asyncapi.yaml and the JSON Schemas of
# docs/schemas/ are written by eventctl from the contract, subscription and
# configuration tables compiled into it. This regenerates them into a
# temporary directory and fails with the diff when a committed copy is stale
# or missing (or, for docs/schemas/, a file is left over), so a new event,
# field, consumer or setting cannot land without its documentation.
#
# Usage: check_docs.sh <path of eventctl>   (ctest passes build/bin/eventctl)
set -euo pipefail
cd "$(dirname "$0")/../.."

eventctl=${1:-}
if [[ -z $eventctl || ! -x $eventctl ]]; then
    echo "check_docs: usage: check_docs.sh <path of eventctl> (got '${eventctl}')" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# check <doc> <eventctl command...>
check() {
    local doc=$1; shift
    if ! "$eventctl" "$@" >"$tmp/new.md" 2>"$tmp/stderr"; then
        echo "check_docs: 'eventctl $*' failed:" >&2
        cat "$tmp/stderr" >&2
        fail=1
        return
    fi
    # Warnings (a type nobody consumes) are the catalog's to report, not a stale doc.
    [[ -s $tmp/stderr ]] && cat "$tmp/stderr" >&2
    if [[ ! -f $doc ]]; then
        echo "check_docs: $doc is missing; generate it with: build/bin/eventctl $* > $doc"
        fail=1
    elif ! diff -u "$doc" "$tmp/new.md" >"$tmp/diff"; then
        echo "check_docs: $doc differs from what the code's tables generate; regenerate it with:"
        echo "    build/bin/eventctl $* > $doc"
        cat "$tmp/diff"
        fail=1
    fi
}

# check_dir <dir> <eventctl command...>: the command writes the whole directory (its last argument).
check_dir() {
    local dir=$1; shift
    local regen="rm -rf $dir && build/bin/eventctl $* $dir"
    if ! "$eventctl" "$@" "$tmp/dir" 2>"$tmp/stderr"; then
        echo "check_docs: 'eventctl $* DIR' failed:" >&2
        cat "$tmp/stderr" >&2
        fail=1
    elif [[ ! -d $dir ]]; then
        echo "check_docs: $dir/ is missing; generate it with: $regen"
        fail=1
    elif ! diff -ru "$dir" "$tmp/dir" >"$tmp/diff"; then
        echo "check_docs: $dir/ differs from what the code's tables generate; regenerate it with:"
        echo "    $regen"
        cat "$tmp/diff"
        fail=1
    fi
}

check docs/events.md catalog --markdown
check docs/config.md config --markdown
check docs/asyncapi.yaml catalog --asyncapi
check_dir docs/schemas catalog --schemas
exit $fail
