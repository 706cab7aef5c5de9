#!/bin/sh
# A stream of a million small records (issue 4): memory stays flat.  On
# the local embedder, so it is quick; the window and batching it goes
# through are the same as for a remote model.
. "$(dirname "$0")/lib.sh"
export T

if ! [ -x /usr/bin/time ]; then
	skip "a million records in flat memory" "/usr/bin/time is not installed"
	done_testing
fi
# Under AddressSanitizer (make check-sanitize), freed memory waits in a
# quarantine of 256 MB; keep it small so the measure means something.
ASAN_OPTIONS=quarantine_size_mb=1:thread_local_quarantine_size_kb=64${ASAN_OPTIONS:+:$ASAN_OPTIONS}
export ASAN_OPTIONS
gen() { awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"id\":%d,\"text\":\"r%d\"}\n", i, i }'; }

gen 10000 | /usr/bin/time -f %M -o "$T/rss.small" ai-embed --dimensions 4 |
    wc -l >"$T/n.small"
gen 1000000 | /usr/bin/time -f %M -o "$T/rss.big" ai-embed --dimensions 4 |
    wc -l >"$T/n.big"
is "$(tr -d ' ' <"$T/n.small")" 10000 "10,000 records out"
is "$(tr -d ' ' <"$T/n.big")" 1000000 "a million records out"
small=$(tail -1 "$T/rss.small")
big=$(tail -1 "$T/rss.big")
ok "memory is flat: ${small} KB for 10,000, ${big} KB for 1,000,000" \
    test "$big" -le $((small + 2048))
done_testing
