#!/bin/sh
# Golden cases: tests/golden/TOOL/STEM.{args,in,out,err,status}.
# Each case runs "TOOL ARGS < STEM.in" inside tests/golden/TOOL and
# compares standard output, standard error (when STEM.err exists) and the
# exit status (STEM.status, default 0).  AI_GOLDEN_UPDATE=1 rewrites the
# .out files instead (make golden-update): read the diff before you commit.
. "$(dirname "$0")/lib.sh"

for args in "$TOP"/tests/golden/*/*.args; do
	[ -e "$args" ] || continue
	dir=$(dirname "$args")
	tool=$(basename "$dir")
	stem=$(basename "$args" .args)
	in=$dir/$stem.in
	[ -e "$in" ] || in=/dev/null
	want_status=0
	[ -e "$dir/$stem.status" ] && want_status=$(cat "$dir/$stem.status")
	(cd "$dir" && eval "set -- $(cat "$args")" &&
	    "$tool" "$@" <"$in" >"$T/out" 2>"$T/err")
	status=$?
	if [ "${AI_GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$T/out" "$dir/$stem.out"
		[ -e "$dir/$stem.err" ] && cp "$T/err" "$dir/$stem.err"
		continue
	fi
	pass=1
	cmp -s "$T/out" "$dir/$stem.out" || pass=0
	if [ -e "$dir/$stem.err" ]; then
		cmp -s "$T/err" "$dir/$stem.err" || pass=0
	fi
	[ "$status" -eq "$want_status" ] || pass=0
	_tap $pass "$tool/$stem"
	if [ $pass -eq 0 ]; then
		echo "#   status $status, want $want_status"
		diff -u "$dir/$stem.out" "$T/out" | head -30 | _diag
		[ -e "$dir/$stem.err" ] &&
		    diff -u "$dir/$stem.err" "$T/err" | head -10 | _diag
	fi
done
done_testing
