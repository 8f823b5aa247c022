#!/usr/bin/env bash
# run.sh - runs tests/browser/dashboard.js with the playwright-core pinned by
# package-lock.json, which deploy/local/deps.sh --lint installs (npm ci), and
# Debian's chromium. Without node, the modules or chromium it fails with a line
# saying what to run: it never skips.
#
# Usage: tests/browser/run.sh <dashboard-url> <screenshot-dir> <step> [arguments...]
set -euo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
	echo "browser: $*" >&2
	exit 1
}

command -v node >/dev/null || die "node not found: install Node.js >= 20 with npm, then run deploy/local/deps.sh --lint"
command -v chromium >/dev/null || die "chromium not found: run deploy/local/deps.sh --lint"
# deps.sh writes the lock file's hash into the stamp after a successful 'npm ci'.
stamp=$dir/node_modules/.deps-stamp
if [[ ! -f $stamp ]] || [[ $(cat "$stamp") != "$(sha256sum <"$dir/package-lock.json" | cut -d' ' -f1)" ]]; then
	die "$dir/node_modules is missing or older than package-lock.json: run deploy/local/deps.sh --lint (npm ci --prefix tests/browser)"
fi
exec node "$dir/dashboard.js" "$@"
