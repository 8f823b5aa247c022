#!/usr/bin/env bash
# check_lint.sh - static analysis of the product code: cppcheck, then clang-tidy with the
# checks of /.clang-tidy (each check left out says why there), over common/src,
# common/eventctl and contexts/; then clang-format --dry-run -Werror with /.clang-format over
# every tracked C source and header (tests too), so the layout is mechanical. Any finding
# fails; a deliberate exception is an inline "NOLINT(check): why" or "cppcheck-suppress
# check" next to the line, or a "// clang-format off" / "on" pair around a hand-laid table.
#
# Usage: check_lint.sh <build dir with compile_commands.json>   (ctest passes its own)
# deploy/local/deps.sh --lint installs the tools (tests/run.sh does).
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-}
if [[ -z $build || ! -f $build/compile_commands.json ]]; then
	echo "check_lint: usage: check_lint.sh <build dir with compile_commands.json> (got '${build}')" >&2
	exit 2
fi
for tool in cppcheck clang-tidy clang-format; do
	command -v "$tool" >/dev/null || {
		echo "check_lint: $tool is not installed: run deploy/local/deps.sh --lint" >&2
		exit 2
	}
done

mapfile -t files < <(find common/src common/eventctl contexts -name '*.c' | sort)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

t0=$(date +%s)
if ! cppcheck --quiet --enable=warning,performance,portability --std=c11 --inline-suppr \
	--error-exitcode=1 -I common/include "${files[@]}" 2>"$tmp/cppcheck"; then
	echo "check_lint: cppcheck:" >&2
	cat "$tmp/cppcheck" >&2
	fail=1
fi

# One clang-tidy per file, as many at once as there are cores.
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet \
	>"$tmp/tidy" 2>"$tmp/tidy.err" || true
if grep -qE ': (warning|error):' "$tmp/tidy"; then
	echo "check_lint: clang-tidy:" >&2
	cat "$tmp/tidy" >&2
	fail=1
elif grep -qE 'Error while processing|error:' "$tmp/tidy.err"; then
	echo "check_lint: clang-tidy did not run:" >&2
	cat "$tmp/tidy.err" >&2
	fail=1
fi
# The layout: what clang-format would change is a finding (run clang-format -i on the file).
mapfile -t sources < <(git ls-files -- '*.c' '*.h' 2>/dev/null || find common contexts tests -name '*.[ch]')
if ! clang-format --dry-run -Werror "${sources[@]}" 2>"$tmp/format"; then
	echo "check_lint: clang-format (run clang-format -i on these files):" >&2
	grep -E '^[^ ].*: (error|warning):' "$tmp/format" | cut -d: -f1 | sort | uniq -c >&2
	head -n 40 "$tmp/format" >&2
	fail=1
fi
echo "check_lint: ${#files[@]} files, cppcheck and clang-tidy; ${#sources[@]} files, clang-format; $(($(date +%s) - t0)) s"
exit "$fail"
