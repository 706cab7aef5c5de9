#!/bin/sh
# t1080: every input the fuzzers were seeded with or ever crashed on
# (tests/fuzz/corpus/NAME) replays through its target without a crash or
# a broken invariant; here without libFuzzer, so a regression fails
# make check (and make check-sanitize, under ASan and UBSan).
. "$(dirname "$0")/lib.sh"

n=0
for src in "$TOP"/tests/fuzz/*.c; do
	name=$(basename "$src" .c)
	case $name in driver|util) continue ;; esac
	n=$((n + 1))
	if [ ! -d "$TOP/tests/fuzz/corpus/$name" ]; then
		_tap 0 "$name: has a seed corpus"
		continue
	fi
	ok "$name: corpus replays" "$TBIN/fuzz-$name" "$TOP/tests/fuzz/corpus/$name"
	files=$(find "$TOP/tests/fuzz/corpus/$name" -type f | wc -l)
	got=$(sed -n 's/ inputs$//p' "$T/.out")
	is "$got" "$files" "$name: all $files inputs ran"
done
ok "there are fuzz targets" test "$n" -ge 10
done_testing
