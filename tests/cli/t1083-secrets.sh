#!/bin/sh
# t1083: secrets and trust.  Every model-calling tool runs with a
# recognisable fake key in OPENAI_API_KEY and ANTHROPIC_API_KEY, and
# nothing it writes (standard output and error, --log files, the cache,
# the index, the budget ledger) holds the key; cache and budget files are
# created 0600.  Nothing turns TLS verification off.  Hostile ids and
# filters reach SQLite only as bound parameters; template partials cannot
# be read from outside the template's directory; ai-eval runs its judge
# without a shell, so no argument can run a command.
. "$(dirname "$0")/lib.sh"

KEY=sk-FAKEKEY-1083-do-not-leak-Zq7
OPENAI_API_KEY=$KEY
ANTHROPIC_API_KEY=$KEY
export OPENAI_API_KEY ANTHROPIC_API_KEY
umask 022
P=$("$TBIN/fakeprov" -d --idle 60 --watch $$ --key "$KEY" --log "$T/fake.log")
URL=http://127.0.0.1:$P/v1
# A server that wants another key: every request is refused with a 401.
P2=$("$TBIN/fakeprov" -d --idle 60 --watch $$ --key other-key)
BAD=http://127.0.0.1:$P2/v1
W=$T/work
mkdir -p "$W"
printf 'openai/x\t1\t0.5\t2\nanthropic/x\t1\t0.5\t2\n' >"$T/prices.tsv"
AI_PRICES=$T/prices.tsv
export AI_PRICES

printf '%s\n' '{"id":"q1","prompt":"hello"}' '{"id":"q2","prompt":"[[fake:500]] again"}' >"$W/prompts"
ai-gen -m openai/x --base-url "$URL" --budget "$W/budget" -v --retries 1 \
    --on-error=emit <"$W/prompts" >"$W/gen.out" 2>"$W/gen.err"
ok "ai-gen: the key is sent (the server wants it)" grep -q '"output":"echo: hello"' "$W/gen.out"
ai-gen -m anthropic/x --base-url "http://127.0.0.1:$P" --budget "$W/budget" \
    <"$W/prompts" >"$W/gen2.out" 2>"$W/gen2.err"
ai-gen -m openai/x --base-url "$BAD" --budget "$W/budget" -v <"$W/prompts" >"$W/gen3.out" 2>"$W/gen3.err"
is "$?" 2 "ai-gen: a refused key is a configuration error (status 2)"
ok "ai-gen: ... and says so" grep -q '401' "$W/gen3.err"
ok "ai-gen: the budget ledger exists" test -f "$W/budget"
is "$(stat -c %a "$W/budget")" 600 "ai-gen: the budget ledger is created 0600"

cat >"$W/eval.in" <<'X'
{"id":"q1","query":"How often do keys rotate?","hits":[{"id":"k#0","text":"Keys rotate every 90 days."}],"output":"Every 90 days [1].","expected":"Every 90 days."}
X
ai-eval --judge openai/judge --judge-base-url "$URL" -f json <"$W/eval.in" \
    >"$W/eval.out" 2>"$W/eval.err"
ok "ai-eval --judge ran" grep -q '"judgements"' "$W/eval.out"
ai-eval --judge openai/judge --judge-base-url "$BAD" -f json <"$W/eval.in" \
    >"$W/eval2.out" 2>"$W/eval2.err"

if command -v ai-embed >/dev/null 2>&1; then
	printf '%s\n' '{"id":"a#0","doc_id":"a","text":"Keys rotate every 90 days."}' \
	    '{"id":"b#0","doc_id":"b","text":"The office is in Paris."}' >"$W/chunks"
	ai-embed -m openai/e --base-url "$URL" --log "$W/embed.log" <"$W/chunks" \
	    >"$W/embedded" 2>"$W/embed.err"
	is "$?" 0 "ai-embed: embeds with the key"
	ai-embed -m openai/e --base-url "$BAD" --no-cache --log "$W/embed2.log" \
	    <"$W/chunks" >"$W/embed2.out" 2>"$W/embed2.err"
	is "$?" 2 "ai-embed: a refused key is a configuration error (status 2)"
	cache=$XDG_CACHE_HOME/ai-tools/cache.db
	ok "ai-embed: the default cache exists" test -f "$cache"
	is "$(stat -c %a "$cache")" 600 "ai-embed: the cache is created 0600"
	ai-embed -m openai/e --base-url "$URL" --cache "$W/own-cache.db" \
	    <"$W/chunks" >/dev/null 2>&1
	is "$(stat -c %a "$W/own-cache.db")" 600 "ai-embed: a --cache file is created 0600"
	ai-index --db "$W/kb.db" <"$W/embedded" >"$W/index.out" 2>"$W/index.err"
	ai-search --db "$W/kb.db" --base-url "$URL" --no-cache --mode vector \
	    'how often do keys rotate' >"$W/search.out" 2>"$W/search.err"
	ok "ai-search: embeds the query with the key" grep -q '"a#0"' "$W/search.out"
	ai-search --db "$W/kb.db" --base-url "$BAD" --no-cache --mode vector \
	    'keys' >"$W/search2.out" 2>"$W/search2.err"
else
	skip "ai-embed and ai-search embedding a query" "no ai-embed in this tree yet"
fi

# Everything written, the fake's own log included (it redacts keys).
grep -rl --binary-files=text -e "$KEY" "$T" >"$T/leaks" 2>/dev/null
is "$(cat "$T/leaks")" "" "the key is in nothing the tools wrote"
n=$(find "$W" "$XDG_CACHE_HOME" -type f | wc -l)
ok "... and there was something to look in ($n files)" test "$n" -ge 10

# TLS: verification is asked for, and no source sets it any other way.
grep -rn -e 'SSL_VERIFYPEER' -e 'SSL_VERIFYHOST' -e 'PROXY_SSL_VERIFY' \
    -e 'SSL_OPTIONS' "$TOP/lib" "$TOP/cmd" >"$T/tls" 2>/dev/null
ok "CURLOPT_SSL_VERIFYPEER is set to 1" grep -q 'CURLOPT_SSL_VERIFYPEER, 1L)' "$T/tls"
ok "CURLOPT_SSL_VERIFYHOST is set to 2" grep -q 'CURLOPT_SSL_VERIFYHOST, 2L)' "$T/tls"
is "$(grep -v -e 'CURLOPT_SSL_VERIFYPEER, 1L)' -e 'CURLOPT_SSL_VERIFYHOST, 2L)' "$T/tls")" "" \
    "nothing else touches verification"
is "$(grep -rli -e 'insecure' -e 'no-verify' -e 'verify-tls' "$TOP/cmd" | head -1)" "" \
    "no tool has an option that skips verification"

# --- SQL: hostile ids, documents, meta and filters are data ---
cat >"$W/hostile" <<'X'
{"id":"x'; DROP TABLE chunks; --","doc_id":"d\" OR 1=1 --","text":"robert tables","meta":{"k'ey":"v'al","a\"b":1,"n":5}}
{"id":"y%_*?[","doc_id":"%","text":"wildcards as text"}
X
ok "hostile ids index" ai-index --db "$W/h.db" "$W/hostile"
ok "hostile ids come back as they were" sh -c "ai-search --db '$W/h.db' --mode bm25 -k 5 robert wildcards | jq -r .hits[].id | sort >'$T/ids'"
printf '%s\n' "x'; DROP TABLE chunks; --" 'y%_*?[' >"$T/want"
same_file "$T/ids" "$T/want" "... both of them, unchanged"
ai-search --db "$W/h.db" --mode bm25 --filter "doc_id=' OR 1=1 --" robert >"$T/o" 2>&1
is "$(jq -r '.hits[].id' "$T/o" 2>&1)" "" "a filter value that is SQL matches nothing"
ai-search --db "$W/h.db" --mode bm25 --filter 'doc_id=d" OR 1=1 --' robert >"$T/o" 2>&1
is "$(jq -r '.hits[].id' "$T/o" 2>&1)" "x'; DROP TABLE chunks; --" "... and matches the doc_id it spells"
ai-search --db "$W/h.db" --mode bm25 --filter 'doc_id=%' wildcards >"$T/o" 2>&1
is "$(jq -r '.hits[].id' "$T/o" 2>&1)" 'y%_*?[' "a LIKE wildcard is a plain character"
echo '{"id":"x'"'"'; DROP TABLE chunks; --"}' >"$W/del"
ok "a hostile --delete" ai-index --db "$W/h.db" --delete "$W/del"
is "$(sqlite3 "$W/h.db" 'SELECT id FROM chunks ORDER BY id' 2>&1)" 'y%_*?[' \
    "deletes that one record, and the table is still there"
ok "the database is sound" sqlite3 "$W/h.db" 'PRAGMA integrity_check'

# --- template partials stay in the template's directory ---
mkdir -p "$W/tpl/sub"
printf 'SECRET-OUTSIDE' >"$W/outside.mustache"
printf 'inside' >"$W/tpl/sub/ok.mustache"
for name in ../../../../../../etc/passwd /etc/passwd ../outside \
    '../tpl/../outside' sub/../../outside; do
	printf '%s\n' '--- user' "[{{> $name}}]" >"$W/tpl/t.prompt"
	echo '{"query":"q"}' | ai-prompt -t "$W/tpl/t.prompt" >"$T/o" 2>"$T/e"
	st=$?
	if grep -q -e 'root:' -e 'SECRET-OUTSIDE' "$T/o" "$T/e"; then
		_tap 0 "partial '$name' is not read"
	else
		_tap 1 "partial '$name' is not read (status $st)"
	fi
done
ln -s "$W/outside.mustache" "$W/tpl/link.mustache"
printf '%s\n' '--- user' '[{{> link}}]' >"$W/tpl/t.prompt"
echo '{"query":"q"}' | ai-prompt -t "$W/tpl/t.prompt" >"$T/o" 2>"$T/e"
ok "a symbolic link out of the directory is not followed" \
    sh -c "! grep -q SECRET-OUTSIDE '$T/o'"

# --- no shell: the judge is exec'd with its arguments as they are ---
cd "$W" || exit 1
ai-eval --judge 'openai/x; touch pwned1' --judge-base-url "$URL"'$(touch pwned2)' \
    --judge-opt '--system=`touch pwned3`' --judge-opt ';touch pwned4' \
    -f json <"$W/eval.in" >/dev/null 2>&1
ls pwned* 2>/dev/null >"$T/pwned"
is "$(cat "$T/pwned")" "" "judge arguments are never run as commands"
cd "$TOP" || exit 1
done_testing
