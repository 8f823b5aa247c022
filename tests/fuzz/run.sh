#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) with clang into build-fuzz/ and runs
# each from its seed corpus (tests/fuzz/corpus/<target>/, with tests/fuzz/<target>.dict) for
# FUZZ_SECONDS, FUZZ_JOBS at a time. The seeds are copied to a scratch directory first, so the repository stays clean.
# A crash, a leak, undefined behaviour, a failed check or a hang fails the run; the input is
# kept in build-fuzz/artifacts/<target>/ and printed in base64, so a CI log is enough to
# reproduce it:  base64 -d > crash && build-fuzz/bin/fuzz_<target> crash
# Usage: tests/fuzz/run.sh [target...]   (default: every tests/fuzz/fuzz_*.c)
# CTest runs it as fuzz.all (label fuzz): ./tests/run.sh -L fuzz, or longer with
# FUZZ_SECONDS=600 ./tests/run.sh -L fuzz. Needs clang and its fuzzer runtime
# (deploy/local/deps.sh --lint installs them); without them it fails, it never skips.
set -euo pipefail

SCRIPT_NAME=fuzz/run.sh
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib.sh"
cd "$REPO_ROOT"

# The defaults make the four targets take about 60 s of wall time on 2 cores.
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZ_JOBS=${FUZZ_JOBS:-2}
FUZZ_CC=${FUZZ_CC:-clang}
BUILD=$REPO_ROOT/build-fuzz
[[ $FUZZ_SECONDS =~ ^[1-9][0-9]*$ ]] || die "FUZZ_SECONDS must be a positive number of seconds"
[[ $FUZZ_JOBS =~ ^[1-9][0-9]*$ ]] || die "FUZZ_JOBS must be a positive number"

if (($#)); then
	targets=("$@")
else
	targets=()
	for f in tests/fuzz/fuzz_*.c; do
		t=${f#tests/fuzz/fuzz_}
		targets+=("${t%.c}")
	done
fi

# --- the toolchain: missing is a failure, not a skip ------------------------------------
command -v "$FUZZ_CC" >/dev/null ||
	die "'$FUZZ_CC' not found: install clang and libclang-rt-dev (deploy/local/deps.sh --lint)"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n%s\n' \
	'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return (int)(d && n) * 0; }' \
	>"$probe/probe.c"
"$FUZZ_CC" -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" 2>"$probe/err" || {
	cat "$probe/err" >&2
	die "'$FUZZ_CC' cannot link -fsanitize=fuzzer: install libclang-rt-dev (deploy/local/deps.sh --lint)"
}

# --- build ----------------------------------------------------------------------------
t0=$(now_ms)
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined"
flags+=" -fno-sanitize-recover=undefined"
cmake -S tests/fuzz -B "$BUILD" -DCMAKE_C_COMPILER="$FUZZ_CC" -DCMAKE_BUILD_TYPE= \
	-DCMAKE_C_FLAGS="$flags" >"$probe/cmake.log" 2>&1 || {
	cat "$probe/cmake.log" >&2
	die "configuring build-fuzz failed"
}
cmake --build "$BUILD" -j "$FUZZ_JOBS" --target "${targets[@]/#/fuzz_}"
say "build done in $(elapsed "$t0")"

# --- run --------------------------------------------------------------------------------
# Each target in its own scratch corpus (new inputs land there, never in tests/fuzz/corpus/),
# writing crash-/leak-/timeout- files to artifacts/<target>/. The last-run artifacts are
# removed first, so what is there after a run belongs to that run.
rm -rf "$BUILD/work" "$BUILD/artifacts"
mkdir -p "$BUILD/work" "$BUILD/artifacts" "$BUILD/logs"

run_target() {
	local t=$1 work=$BUILD/work/$1 seeds=tests/fuzz/corpus/$1 dict=()
	mkdir -p "$work" "$BUILD/artifacts/$t"
	[[ -d $seeds ]] && cp -R "$seeds/." "$work/"
	[[ -f tests/fuzz/$t.dict ]] && dict=(-dict="tests/fuzz/$t.dict")
	# ASan's leak check and UBSan both abort; libFuzzer then keeps the input. A smaller
	# quarantine keeps each fuzzer well under its memory limit on a shared machine.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=64 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		timeout -k 10 $((FUZZ_SECONDS + 120)) \
		"$BUILD/bin/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=1024 \
		-max_len=4096 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t/" \
		"${dict[@]}" "$work" >"$BUILD/logs/$t.log" 2>&1
}

t0=$(now_ms)
declare -A pid_of
failed=()
running=0
for t in "${targets[@]}"; do
	[[ -x $BUILD/bin/fuzz_$t ]] || die "no harness fuzz_$t in $BUILD/bin"
	if ((running >= FUZZ_JOBS)); then
		wait -n || true
		running=$((running - 1))
	fi
	run_target "$t" &
	pid_of[$t]=$!
	running=$((running + 1))
done

rc=0
for t in "${targets[@]}"; do
	trc=0
	wait "${pid_of[$t]}" || trc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/logs/$t.log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$BUILD/logs/$t.log" | tail -1 || true)
	if ((trc == 0)); then
		say "$t: ok, ${execs:-?} inputs, ${cov:-cov: ?} edges"
		continue
	fi
	rc=1
	failed+=("$t")
	warn "$t: FAILED (exit $trc); the end of $BUILD/logs/$t.log:"
	tail -n 60 "$BUILD/logs/$t.log" >&2
	found=0
	for a in "$BUILD/artifacts/$t"/*; do
		[[ -f $a ]] || continue
		found=1
		warn "$t: failing input kept in $a ($(stat -c %s "$a") bytes), base64:"
		base64 -w 76 "$a" >&2
		warn "$t: reproduce with: $BUILD/bin/fuzz_$t $a"
	done
	((found)) || warn "$t: no input was kept (the fuzzer itself failed?)"
done
say "fuzzing done in $(elapsed "$t0")"
((rc == 0)) || die "failed: ${failed[*]}"
