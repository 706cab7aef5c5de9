#!/bin/sh
# tests/fuzz/run.sh BUILD SECONDS NAME... - run each libFuzzer target.
#
# Each target starts from its seed corpus, tests/fuzz/corpus/NAME (read,
# never written), and keeps what it finds in BUILD/corpus/NAME.  A crash
# is saved as BUILD/crashes/NAME-crash-*; to keep one as a regression
# test, fix it, then copy the file into tests/fuzz/corpus/NAME.  The
# table at the end gives each target's executions, coverage (libFuzzer's
# cov: edges and ft: features) and crashes; any crash fails the run.
set -u
build=$1
secs=$2
shift 2
mkdir -p "$build/crashes" "$build/logs"
summary=$build/fuzz-summary.txt
printf '%-12s %12s %8s %8s %8s\n' target execs exec/s cov ft >"$summary"
failed=0
for name in "$@"; do
	mkdir -p "$build/corpus/$name"
	log=$build/logs/$name.log
	echo "fuzz: $name for ${secs}s"
	"$build/fuzz/$name" -max_total_time="$secs" -print_final_stats=1 \
	    -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	    -artifact_prefix="$build/crashes/$name-" \
	    "$build/corpus/$name" "tests/fuzz/corpus/$name" >"$log" 2>&1
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	printf '%-12s %12s %8s %8s %8s\n' "$name" "${execs:-?}" "${rate:-?}" \
	    "${cov:-?}" "${ft:-?}" >>"$summary"
	if [ "$st" -ne 0 ]; then
		echo "fuzz: $name failed (status $st); see $log:"
		grep -A12 '^==[0-9]*==ERROR\|invariant failed\|runtime error' \
		    "$log" | head -30
		failed=1
	fi
done
cat "$summary"
exit $failed
