#!/bin/sh
# t1086: one tool of each kind runs clean under valgrind's memcheck: no
# invalid read or write, no use of uninitialised memory, no definite
# leak.  ai-chunk (text), ai-embed and ai-gen against the fake provider
# (the model layer, libcurl loaded with dlopen), ai-index and ai-search
# (the store), ai-prompt (templates), ai-eval (metrics and reports).
# Skipped when valgrind is not installed.
. "$(dirname "$0")/lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
	skip "valgrind" "valgrind is not installed"
	done_testing
fi
# Tools built with AddressSanitizer (make check-sanitize) cannot run under
# valgrind; the sanitizers check them there instead.
if ldd "$BIN/ai-chunk" 2>/dev/null | grep -q -e libasan -e libubsan; then
	skip "valgrind" "the tools are built with the sanitizers"
	done_testing
fi
vg() {	# vg NAME CMD... : CMD under memcheck, status 99 on any error
	_n=$1
	shift
	valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	    --track-origins=no --log-file="$T/vg-$_n.log" "$@"
}
clean() {	# clean NAME STATUS: status 0 and an empty memcheck log
	if [ "$2" -eq 0 ] && [ ! -s "$T/vg-$1.log" ]; then
		_tap 1 "$1: clean under valgrind"
	else
		_tap 0 "$1: clean under valgrind (status $2)"
		head -40 "$T/vg-$1.log" | _diag
	fi
}

P=$("$TBIN/fakeprov" -d --idle 60 --watch $$ --script 500,ok)
URL=http://127.0.0.1:$P/v1
printf '# Keys\n\nAPI keys rotate every 90 days. Old keys stop working.\n\n## Office\n\nThe office is in Paris, near the river.\n' >"$T/doc.md"

vg ai-chunk ai-chunk -s 12 -o 2 "$T/doc.md" >"$T/chunks"
clean ai-chunk $?
vg ai-embed ai-embed -m openai/e --base-url "$URL" --no-cache <"$T/chunks" >"$T/emb"
clean ai-embed $?
vg ai-index ai-index --db "$T/kb.db" <"$T/emb" >/dev/null
clean ai-index $?
echo '{"id":"q1","query":"how often do keys rotate","embedding":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]}' >"$T/q"
vg ai-search ai-search --db "$T/kb.db" --mode bm25 -k 3 <"$T/q" >"$T/hits"
clean ai-search $?
vg ai-prompt ai-prompt <"$T/hits" >"$T/prompts"
clean ai-prompt $?
vg ai-gen ai-gen -m openai/x --base-url "$URL" <"$T/prompts" >"$T/answers"
clean ai-gen $?
jq -c '. + {expected: "Every 90 days."}' "$T/answers" >"$T/scored" 2>/dev/null ||
    cp "$T/answers" "$T/scored"
vg ai-eval ai-eval -f json <"$T/scored" >"$T/report" 2>"$T/report.err"
clean ai-eval $?
ok "the pipeline made answers" grep -q '"output":' "$T/answers"
done_testing
