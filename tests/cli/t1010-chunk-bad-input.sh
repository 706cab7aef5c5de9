#!/bin/sh
# ai-chunk on bad input (issue 2's list): each case has its message,
# its exit status, and the records before the failure already written.
. "$(dirname "$0")/lib.sh"

good='{"id":"a","text":"alpha beta"}'

# chunks DOC-ID FILE: the number of chunks of that document in FILE
chunks() { grep -c "\"doc_id\":\"$1\"" "$2"; }

printf '%s\n{"id":"b","text":\n%s\n' "$good" "$good" >"$T/json"
fails 1 "invalid JSON line: status 1" sh -c 'ai-chunk <"$1" >"$2"' - \
    "$T/json" "$T/out"
is "$(chunks a "$T/out")" 1 "invalid JSON line: the record before is out"
grep -q '^ai-chunk: -:2: invalid JSON' "$T/.err"
is $? 0 "invalid JSON line: 'ai-chunk: -:2: invalid JSON ...'"

printf '%s\n[1, 2]\n' "$good" >"$T/array"
ai-chunk <"$T/array" >"$T/out" 2>"$T/err"
is "$?:$(chunks a "$T/out")" "1:1" "a line that is not an object: status 1, record before out"
is "$(cat "$T/err")" "ai-chunk: -:2: not a JSON object" "a line that is not an object: message"

printf '%s\n{"id":"b"}\n{"id":"c","text":42}\n%s\n' "$good" "$good" >"$T/text"
ai-chunk <"$T/text" >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/err")" "1:ai-chunk: -:2: field 'text' is missing" \
    "'text' missing: status 1, stops at the first"
ai-chunk --on-error=skip <"$T/text" >"$T/out" 2>"$T/err"
is "$?:$(chunks a "$T/out")" "1:2" "--on-error=skip goes on, status 1"
is "$(sed -n 2p "$T/err")" "ai-chunk: -:3: field 'text' is not a string" \
    "'text' not a string: message"
ai-chunk --on-error=emit <"$T/text" >"$T/out" 2>/dev/null
is "$(grep -c '"error":{"tool":"ai-chunk"' "$T/out")" 2 \
    "--on-error=emit writes the bad records with an error field"

printf '{"id":"m","text":"x","meta":[1]}\n' >"$T/meta"
fails 1 "'meta' not an object" sh -c 'ai-chunk <"$1"' - "$T/meta"
printf '{"id":{"x":1},"text":"x"}\n' >"$T/id"
fails 1 "'id' not a string" sh -c 'ai-chunk <"$1"' - "$T/id"

# Invalid UTF-8 inside a file: replaced with a warning, or rejected.
printf 'good line\nbad \377 byte\n' >"$T/latin1.txt"
ai-chunk -u chars "$T/latin1.txt" >"$T/out" 2>"$T/err"
is "$?" 0 "invalid UTF-8 in a file: replaced, status 0"
grep -q 'latin1.txt:2: invalid UTF-8 replaced by U+FFFD' "$T/err"
is $? 0 "invalid UTF-8 in a file: a warning with the line"
grep -q 'bad \\ufffd byte\|bad � byte' "$T/out"
is $? 0 "invalid UTF-8 in a file: U+FFFD in the text"
ai-chunk --invalid-utf8=reject "$T/latin1.txt" >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/err")" "1:ai-chunk: $T/latin1.txt:2: invalid UTF-8 at byte 14" \
    "--invalid-utf8=reject: status 1 and the line"

: >"$T/empty.txt"
ai-chunk "$T/empty.txt" >"$T/out" 2>"$T/err"
is "$?:$(wc -c <"$T/out"):$(wc -c <"$T/err")" "0:0:0" \
    "empty file: no chunks, no message, status 0"
ai-chunk </dev/null >"$T/out" 2>"$T/err"
is "$?:$(wc -c <"$T/out")" "0:0" "empty standard input: nothing, status 0"
ai-chunk --text </dev/null >"$T/out" 2>"$T/err"
is "$?:$(wc -c <"$T/out")" "0:0" "empty --text: nothing, status 0"

printf 'text\0with a NUL\n' >"$T/bin.dat"
ai-chunk "$T/bin.dat" "$T/latin1.txt" >"$T/out" 2>"$T/err"
is "$?:$(grep -c . "$T/out")" "0:1" "binary file: skipped, the next file read"
is "$(head -1 "$T/err")" "ai-chunk: $T/bin.dat: binary file skipped" \
    "binary file: a warning"
ai-chunk -q "$T/bin.dat" >/dev/null 2>"$T/err"
is "$(wc -c <"$T/err")" 0 "binary file: -q keeps quiet"

# An unreadable file.  Root reads anything, so as root run ai-chunk as
# nobody (setpriv), in a directory nobody may enter.
mkdir "$T/perm"
chmod 755 "$T" "$T/perm"
printf 'readable\n' >"$T/perm/ok.txt"
printf 'secret\n' >"$T/perm/locked.txt"
chmod 644 "$T/perm/ok.txt"
chmod 000 "$T/perm/locked.txt"
as=
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	as="setpriv --reuid=65534 --regid=65534 --clear-groups"
	# nobody must be able to run the build (not so under /root)
	$as ai-chunk "$T/perm/ok.txt" >/dev/null 2>&1 || as=
fi
if [ "$(id -u)" -eq 0 ] && [ -z "$as" ]; then
	skip "unreadable file" "root reads any file and nobody cannot run the build"
else
	$as ai-chunk "$T/perm/ok.txt" "$T/perm/locked.txt" >"$T/out" 2>"$T/err"
	is "$?:$(grep -c . "$T/out")" "1:1" \
	    "unreadable file: status 1, the file before is out"
	is "$(cat "$T/err")" "ai-chunk: $T/perm/locked.txt: Permission denied" \
	    "unreadable file: message"
fi
chmod 700 "$T"

ai-chunk "$T/latin1.txt" "$T/nope" "$T/latin1.txt" >"$T/out" 2>"$T/err"
is "$?:$(grep -c . "$T/out")" "1:1" "missing path: status 1, stops after the file before"
is "$(tail -1 "$T/err")" "ai-chunk: $T/nope: No such file or directory" \
    "missing path: message"
ai-chunk --on-error=skip "$T/nope" "$T/latin1.txt" >"$T/out" 2>/dev/null
is "$?:$(grep -c . "$T/out")" "1:1" "missing path, --on-error=skip: goes on"

ln -s loop "$T/loop"
ai-chunk "$T/loop" >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/err")" "1:ai-chunk: $T/loop: symbolic link loop" \
    "a symbolic link loop as an operand"

fails 2 "--overlap equal to --size: usage error" ai-chunk -s 10 -o 10
fails 2 "--overlap over --size: usage error" ai-chunk -u chars -s 10 -o 20
fails 2 "--size 0: usage error" ai-chunk -s 0
fails 2 "unknown strategy: usage error" ai-chunk --by words
fails 2 "unknown language: usage error" ai-chunk --language cobol
fails 2 "--text with operands: usage error" ai-chunk --text x

# A document over --max-record on standard input: reported, and the
# records before it are out.
{
	echo "$good"
	printf '{"id":"big","text":"'
	head -c 3000000 /dev/zero | tr '\0' 'x'
	printf '"}\n'
	echo "$good"
} >"$T/big"
ai-chunk --max-record=1M <"$T/big" >"$T/out" 2>"$T/err"
is "$?:$(chunks a "$T/out")" "1:1" "record over --max-record: status 1, the one before out"
grep -q '^ai-chunk: -:2: .*1048576' "$T/err"
is $? 0 "record over --max-record: message with the line and the limit"

# A 200 MB document on one line, as a file: chunked in bounded time.
yes 'lorem ipsum dolor sit amet' | tr -d '\n' | head -c 199999999 >"$T/huge.txt"
ai-chunk -u chars -s 100000 --no-tokens "$T/huge.txt" >"$T/out" 2>"$T/err"
is "$?:$(tail -1 "$T/out" | grep -o '"end":[0-9]*')" "0:\"end\":199999999" \
    "a 200 MB document on one line, to its end"
# The same as a record on standard input: over the default --max-record
# (64 MiB), so reported and skipped over without being held; the
# records around it are chunked.
{
	echo "$good"
	printf '{"id":"huge","text":"'
	cat "$T/huge.txt"
	printf '"}\n'
	echo "$good"
} | ai-chunk --on-error=skip >"$T/out" 2>"$T/err"
is "$?:$(chunks a "$T/out")" "1:2" "a 200 MB record on standard input: skipped, the rest chunked"
grep -q '^ai-chunk: -:2: .*67108864' "$T/err"
is $? 0 "a 200 MB record on standard input: the limit is named"
rm -f "$T/huge.txt" "$T/out"

if [ -w /dev/full ]; then
	ai-chunk -q "$T/latin1.txt" >/dev/full 2>"$T/err"
	is "$?:$(cat "$T/err")" "1:ai-chunk: standard output: No space left on device" \
	    ">/dev/full: status 1 and a message"
else
	skip ">/dev/full" "no /dev/full"
fi
{ yes "$good" | head -100000 | ai-chunk 2>"$T/err"; echo $? >"$T/st"; } |
    head -1 >/dev/null
is "$(cat "$T/st"):$(wc -c <"$T/err")" "0:0" \
    "a reader that goes away early: quiet, status 0"
done_testing
