#!/usr/bin/env bash
# run.sh - runs one node check of tests/standards/ (check_asyncapi.js,
# validate_payloads.js) with the modules pinned by package-lock.json, which
# deploy/local/deps.sh --lint installs (npm ci). Without node or the modules it
# fails with a line saying what to run: it never skips.
#
# Usage: tests/standards/run.sh <script.js> [arguments...]
set -euo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
	echo "standards: $*" >&2
	exit 1
}

[[ $# -ge 1 && -f $dir/${1:-} ]] || die "usage: run.sh <script.js of $dir> [arguments...]"
command -v node >/dev/null || die "node not found: install Node.js >= 20 with npm, then run deploy/local/deps.sh --lint"
# deps.sh writes the lock file's hash into the stamp after a successful 'npm ci'.
stamp=$dir/node_modules/.deps-stamp
if [[ ! -f $stamp ]] || [[ $(cat "$stamp") != "$(sha256sum <"$dir/package-lock.json" | cut -d' ' -f1)" ]]; then
	die "$dir/node_modules is missing or older than package-lock.json: run deploy/local/deps.sh --lint (npm ci --prefix tests/standards)"
fi
script=$1
shift
exec node "$dir/$script" "$@"
