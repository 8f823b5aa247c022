#!/usr/bin/env bash
# check_prometheus.sh - the shipped Prometheus files (deploy/prometheus/, docs/observability.md):
# the scrape config and the rules load, and the rules' unit tests pass (promtool test rules
# rules_test.yml). No servers needed. promtool comes from Debian's 'prometheus' package, which
# deploy/local/deps.sh --lint installs (tests/run.sh does); without it this fails, never skips.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if ! command -v promtool >/dev/null; then
	echo "check_prometheus: promtool not found: install Debian's 'prometheus' package" \
		"(deploy/local/deps.sh --lint does)" >&2
	exit 1
fi
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/rules.yml
promtool test rules deploy/prometheus/rules_test.yml
