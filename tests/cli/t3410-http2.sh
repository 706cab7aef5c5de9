#!/bin/sh
# t3410: HTTP/2 where the server offers it.  nghttpx serves TLS with ALPN
# h2 on 127.0.0.1 in front of the fake provider (so the real provider
# APIs are played), with a certificate from a throwaway CA made here.
# ai-embed and ai-gen, pointed at it with CURL_CA_BUNDLE and TLS
# verification on, speak HTTP/2 (the call log and the proxy's log say
# so) and multiplex their requests over one connection; without the CA
# they refuse the server.  Plain http:// stays HTTP/1.1 and reuses its
# connections.
. "$(dirname "$0")/lib.sh"

if ! command -v nghttpx >/dev/null 2>&1 ||
    ! command -v openssl >/dev/null 2>&1; then
	echo "1..0 # SKIP nghttpx (nghttp2-proxy) or openssl not installed"
	exit 0
fi

# Only the CA given below is trusted, whatever the caller's environment.
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR

# A CA and a server certificate for 127.0.0.1, valid for a day.
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/ext.cnf"
EC='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
openssl req -x509 $EC -days 1 -subj /CN=ai-tools-test-ca \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign \
    -keyout "$T/ca.key" -out "$T/ca.pem" 2>"$T/ssl.err" &&
openssl req $EC -subj /CN=127.0.0.1 -keyout "$T/srv.key" \
    -out "$T/srv.csr" 2>>"$T/ssl.err" &&
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
    -CAcreateserial -days 1 -extfile "$T/ext.cnf" -out "$T/srv.pem" \
    2>>"$T/ssl.err"
ok "a throwaway CA and server certificate" test -s "$T/srv.pem"

FP=$("$TBIN/fakeprov" -d --idle 60 --watch $$ --log "$T/fake.log")

# nghttpx on a free port: try a few; it exits when the port is taken.
NGPID=
trap '[ -z "$NGPID" ] || kill "$NGPID" 2>/dev/null; rm -rf "$T"' EXIT
for try in 1 2 3 4 5 6 7 8; do
	PORT=$(awk -v s="$$$try" 'BEGIN { srand(s); print 20000 + int(rand() * 40000) }')
	: >"$T/ng.err"
	nghttpx --conf=/dev/null --no-ocsp --workers=1 \
	    -f"127.0.0.1,$PORT" -b"127.0.0.1,$FP" \
	    --accesslog-file="$T/access.log" \
	    --accesslog-format='$alpn $remote_port $status $request' \
	    --errorlog-file="$T/ng.err" "$T/srv.key" "$T/srv.pem" \
	    2>>"$T/ng.err" &
	NGPID=$!
	i=0
	while [ $i -lt 100 ] && kill -0 "$NGPID" 2>/dev/null &&
	    ! grep -q 'Created worker thread' "$T/ng.err"; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q 'Created worker thread' "$T/ng.err" && break
	kill "$NGPID" 2>/dev/null
	NGPID=
done
ok "nghttpx listens with TLS on 127.0.0.1:$PORT" test -n "$NGPID"
URL=https://127.0.0.1:$PORT

awk 'BEGIN { for (i = 1; i <= 32; i++) printf "{\"text\":\"text %d\"}\n", i }' \
    >"$T/texts"
# conns FILE: how many TCP connections the proxy saw (client ports).
conns() { awk '{ print $2 }' "$1" | sort -u | wc -l | tr -d ' '; }

# ai-embed: 32 requests, 8 in flight.
CURL_CA_BUNDLE=$T/ca.pem ai-embed --no-cache -m openai/x --base-url "$URL/v1" \
    --batch 1 -j 8 --log "$T/calls" <"$T/texts" >"$T/out" 2>"$T/err"
is "$?" 0 "ai-embed over TLS with the test CA"
is "$(jq -r 'select(.embedding | length == 16) | .text' "$T/out" | wc -l | tr -d ' ')" \
    32 "every record has its vector"
jq -r .text "$T/texts" | "$TBIN/fakeprov" --vector 16 >"$T/want"
jq -c '.embedding | map(. * 1e6 | round)' "$T/out" >"$T/got"
jq -c 'map(. * 1e6 | round)' "$T/want" >"$T/want6"
same_file "$T/got" "$T/want6" "the vectors the provider sent, in order"
is "$(jq -r .http_version "$T/calls" | sort -u)" 2 \
    "the call log says every call used HTTP/2"
is "$(awk '{ print $1, $NF }' "$T/access.log" | sort -u)" "h2 HTTP/2" \
    "the proxy saw ALPN h2 and HTTP/2 requests"
is "$(wc -l <"$T/access.log" | tr -d ' ')" 32 "32 requests"
is "$(conns "$T/access.log")" 1 "multiplexed over one connection"
ok "the provider API behind the proxy was played" \
    grep -q '"via":"2 nghttpx"' "$T/fake.log"

# ai-gen: streamed answers (SSE) over HTTP/2, 16 at once.
: >"$T/access.log"
awk 'BEGIN { for (i = 1; i <= 24; i++) printf "{\"prompt\":\"q %d\"}\n", i }' \
    >"$T/prompts"
SSL_CERT_FILE=$T/ca.pem ai-gen --no-cache -m openai/x --base-url "$URL/v1" \
    -j 16 --log "$T/gcalls" <"$T/prompts" >"$T/gout" 2>"$T/gerr"
is "$?" 0 "ai-gen streams over HTTP/2 (CA from SSL_CERT_FILE)"
jq -r .output "$T/gout" >"$T/answers"
awk 'BEGIN { for (i = 1; i <= 24; i++) print "echo: q " i }' >"$T/want"
same_file "$T/answers" "$T/want" "every answer whole and in order"
is "$(jq -r .http_version "$T/gcalls" | sort -u)" 2 "the calls used HTTP/2"
is "$(conns "$T/access.log")" 1 "24 streams over one connection"

# The idle timer over HTTP/2: a stalled stream is reset and retried, the
# streams beside it and the connection carry on.
: >"$T/access.log"
printf '{"prompt":"[[fake:stall]]"}\n{"prompt":"a"}\n{"prompt":"b"}\n{"prompt":"c"}\n' |
    CURL_CA_BUNDLE=$T/ca.pem ai-gen --no-cache -m openai/x \
    --base-url "$URL/v1" -j 4 --retries 1 --idle-timeout 1 --on-error=emit \
    >"$T/sout" 2>"$T/serr"
is "$(jq -r '.output // "failed"' "$T/sout" | tr '\n' ' ')" \
    "failed echo: a echo: b echo: c " \
    "a stalled stream fails its record after its retry, the others answer"
ok "as a timeout" grep -q 'timed out (nothing received for 1 s) (after 2 attempts)' "$T/serr"
is "$(wc -l <"$T/access.log" | tr -d ' ')/$(conns "$T/access.log")" 5/1 \
    "five requests, one connection: only the stream was reset"

# Verification stays on: without the CA the server is refused.
ai-gen --no-cache -m openai/x --base-url "$URL/v1" --retries 0 \
    <"$T/prompts" >"$T/nout" 2>"$T/nerr"
is "$?" 1 "without the test CA the certificate is refused"
ok "saying why" grep -qi 'certificate' "$T/nerr"
ok "and no answer is written" sh -c "! grep -q '\"output\"' '$T/nout'"

# Plain http:// to the fake provider: HTTP/1.1, connections reused.
: >"$T/fake.log"
ai-embed --no-cache -m openai/x --base-url "http://127.0.0.1:$FP/v1" \
    --batch 1 -j 4 --log "$T/calls1" <"$T/texts" >/dev/null 2>"$T/err"
is "$?" 0 "ai-embed over plain HTTP"
is "$(jq -r .http_version "$T/calls1" | sort -u)" 1.1 "the call log says 1.1"
n=$(jq -r .conn "$T/fake.log" | sort -u | wc -l | tr -d ' ')
ok "32 requests on at most 4 connections ($n)" test "$n" -le 4

# Over plain http:// nothing waits to learn whether a connection can
# multiplex (libcurl would know only from its first answer): while the
# first request hangs, the others are answered on their own connections.
printf '{"prompt":"[[fake:hang]]"}\n{"prompt":"a"}\n{"prompt":"b"}\n{"prompt":"c"}\n' |
    ai-gen --no-cache -m openai/x --base-url "http://127.0.0.1:$FP/v1" -j 4 \
    --retries 0 --idle-timeout 5 --on-error=emit --log "$T/hang" \
    >"$T/hout" 2>/dev/null
is "$(jq -r '.output // "failed"' "$T/hout" | tr '\n' ' ')" \
    "failed echo: a echo: b echo: c " "the hanging request fails, the others are answered"
is "$(jq -r 'select(.error == null and .latency_ms < 5000) | .status' "$T/hang" | wc -l | tr -d ' ')" \
    3 "without waiting for the hanging one's answer"
done_testing
