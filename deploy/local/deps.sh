#!/usr/bin/env bash
# Installs the packages the project needs to build, test and run locally, and only the missing
# ones: Debian/Ubuntu through apt-get (sudo when not root); elsewhere it checks the tools and
# libraries and names what is missing. Takes well under a second when nothing is missing.
# SKIP_DEPS=1 skips the whole check (for machines set up by other means).
# --lint also installs the static analysers and the formatter the arch.lint test runs, clang with its
# libFuzzer runtime for the fuzz.all test (tests/fuzz/run.sh), and Prometheus (promtool for
# arch.prometheus and e2e.metrics, prometheus for PROMETHEUS=1 up.sh) and chromium (the browser
# browser.dashboard drives, tests/browser/); tests/run.sh passes it.
set -euo pipefail

SCRIPT_NAME=deps.sh
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ ${SKIP_DEPS:-0} == 1 ]] && exit 0

PACKAGES=(build-essential cmake pkg-config postgresql postgresql-contrib rabbitmq-server
	librabbitmq-dev amqp-tools libjansson-dev libcmocka-dev libmicrohttpd-dev libpq-dev uuid-dev
	libcurl4-openssl-dev curl jq python3 python3-yaml openssl ca-certificates)
LINT_TOOLS=()
if [[ ${1:-} == --lint ]]; then
	PACKAGES+=(cppcheck clang-tidy clang-format clang libclang-rt-dev prometheus chromium)
	LINT_TOOLS=(cppcheck clang-tidy clang-format clang promtool prometheus chromium)
fi

# With --lint, the node modules of tests/standards/ (the AsyncAPI parser and ajv that
# arch.standards and e2e.contract_schemas run, the OTLP definitions e2e.otlp decodes with) and of
# tests/browser/ (playwright-core, which drives Debian's chromium for browser.dashboard): 'npm ci'
# from each committed package-lock.json when its modules are missing or older than it.
# Node.js and npm are not installed here (Debian's are older than the Node 20 we test with):
# without npm, or offline with no modules yet, it fails saying so. finish() runs it at every
# successful exit.
node_modules() {
	local dir=$REPO_ROOT/tests/$1 stamp hash t0
	stamp=$dir/node_modules/.deps-stamp
	hash=$(sha256sum <"$dir/package-lock.json" | cut -d' ' -f1)
	[[ -f $stamp && $(cat "$stamp") == "$hash" ]] && return 0
	command -v npm >/dev/null && command -v node >/dev/null ||
		die "npm not found: install Node.js >= 20 with npm (https://nodejs.org, or Debian's nodejs and npm), then run deploy/local/deps.sh --lint again; tests/$1 needs it"
	say "installing the node modules of tests/$1 (npm ci)"
	t0=$(now_ms)
	npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error ||
		die "npm ci --prefix tests/$1 failed (offline? the registry must be reachable once)"
	echo "$hash" >"$stamp"
	say "node modules installed in $(elapsed "$t0")"
}
LINT=${1:-}
finish() {
	if [[ $LINT == --lint ]]; then
		node_modules standards
		node_modules browser
	fi
	exit 0
}

if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
	# Not Debian: accept the machine if what we use is there, else say what to install.
	missing=()
	for tool in cc cmake pkg-config curl jq psql amqp-declare-queue ${LINT_TOOLS[@]+"${LINT_TOOLS[@]}"}; do
		command -v "$tool" >/dev/null || missing+=("$tool")
	done
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null ||
		missing+=("postgresql server (initdb)")
	[[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || command -v rabbitmq-server >/dev/null ||
		missing+=(rabbitmq-server)
	for lib in libpq librabbitmq jansson cmocka libmicrohttpd uuid libcurl; do
		pkg-config --exists "$lib" 2>/dev/null || missing+=("$lib (pkg-config)")
	done
	((${#missing[@]} == 0)) && finish
	warn "no apt-get here: install these yourself (Debian names: ${PACKAGES[*]})"
	warn "missing: ${missing[*]}"
	exit 1
fi

# One dpkg-query for all: it prints the installed ones, and nothing for unknown names.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for pkg in "${PACKAGES[@]}"; do
	[[ $'\n'$installed == *$'\n'"$pkg ii"* ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && finish

say "installing missing packages: ${missing[*]}"
sudo=()
if ! is_root; then
	if command -v sudo >/dev/null; then
		sudo=(sudo)
	else
		warn "not root and no sudo: run as root"
		die "apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
	fi
fi
t0=$(now_ms)
# Installing postgresql, rabbitmq-server or prometheus may try to start the system services; a
# policy-rc.d that forbids it, or a machine without an init system, is fine: we run our own.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}"
say "packages installed in $(elapsed "$t0")"
finish
