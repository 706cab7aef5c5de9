#!/bin/sh
# t3400: the provider layer's idle timer.  An answer that stops arriving
# midway is abandoned once nothing has come for --idle-timeout (not after
# libcurl's whole-second low-speed check), reported as a timeout and
# retried as one; a stream that is slow but alive is never cut by it.
. "$(dirname "$0")/lib.sh"

fake() { "$TBIN/fakeprov" -d --idle 60 --watch $$ "$@"; }
gen() { ai-gen --no-cache -m openai/x --base-url "http://127.0.0.1:$P/v1" "$@"; }

echo '{"prompt":"hello"}' >"$T/in"

# The server sends the headers and half the stream, then nothing for a
# minute (until it idles out itself).
P=$(fake --log "$T/log" --script stall,stall,stall)
t0=$(date +%s)
gen --idle-timeout 1 --retries 0 <"$T/in" >"$T/out" 2>"$T/err"
st=$?
t1=$(date +%s)
is "$st" 1 "a stalled stream fails the record"
ok "within seconds, not the server's minute ($((t1 - t0)) s)" \
    test $((t1 - t0)) -lt 20
ok "reported as a timeout naming the idle limit" \
    grep -q 'timed out (nothing received for 1 s)' "$T/err"
ok "no half answer is written" sh -c "! grep -q '\"output\"' '$T/out'"

# Timeouts are retried: two more stalls, each ended by the timer.
: >"$T/log"
t0=$(date +%s)
gen --idle-timeout 0.5 --retries 1 <"$T/in" >"$T/out" 2>"$T/err"
st=$?
t1=$(date +%s)
is "$st" 1 "still stalled after the retry: the record fails"
is "$(wc -l <"$T/log" | tr -d ' ')" 2 "the stall was retried once"
ok "both attempts ended by the timer ($((t1 - t0)) s)" test $((t1 - t0)) -lt 20
ok "the message counts the attempts" grep -q 'after 2 attempts' "$T/err"

# A whole (not streamed) answer that stalls halfway, then a good one.
P=$(fake --script stall)
gen --no-stream --idle-timeout 0.5 --retries 2 <"$T/in" >"$T/out" 2>"$T/err"
is "$?" 0 "a whole answer that stalls is retried to success"
is "$(jq -r .output "$T/out")" "echo: hello" "with the whole answer"
is "$(jq -r .usage.attempts "$T/out")" 2 "in two attempts"

# Slow but alive: eight events 300 ms apart take longer than the idle
# limit in all, but no gap reaches it.
P=$(fake --chunk-ms 300 --reply "one two three four five six seven eight")
gen --idle-timeout 1.5 --retries 0 <"$T/in" >"$T/out" 2>"$T/err"
is "$?" 0 "a slow stream with short gaps is not cut"
is "$(jq -r .output "$T/out")" "one two three four five six seven eight" \
    "the whole answer arrives"
is "$(jq -r .usage.attempts "$T/out")" 1 "in one attempt"

fails 2 "--idle-timeout must be a positive number" \
    gen --idle-timeout 0 <"$T/in"
done_testing
