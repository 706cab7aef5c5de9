#!/bin/sh
# t1085: every tool against a full disk (/dev/full), a reader that goes
# away, an input that cannot be read (/proc/self/mem fails with EIO even
# for root), and ai-index against a database on a read-only file system
# and on one that fills up: one clear line naming the tool and the file,
# the documented status, never a crash (a status of 128 or more) or a
# silent truncation.
. "$(dirname "$0")/lib.sh"

# Inputs each tool takes, big enough to overflow a pipe's buffer.
awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "Paragraph %d has some words in it.\n\n", i }' >"$T/doc.md"
ai-chunk "$T/doc.md" >"$T/chunks"
ai-embed -m local/hash <"$T/chunks" >"$T/emb"
ai-index --db "$T/kb.db" <"$T/emb" >/dev/null
awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "{\"id\":\"q%d\",\"query\":\"paragraph %d\",\"prompt\":\"say %d\",\"hits\":[{\"id\":\"doc.md#1\",\"text\":\"Paragraph %d\"}],\"output\":\"Paragraph %d [1]\",\"expected\":\"Paragraph %d\"}\n", i, i, i, i, i, i }' >"$T/recs"
ok "the inputs are there" test -s "$T/emb" -a -s "$T/kb.db"

# NAME|COMMAND (reading standard input)
cat >"$T/tools" <<X
ai-chunk|ai-chunk --text --id=doc.md
ai-embed|ai-embed -m local/hash
ai-index|ai-index --db $T/w.db
ai-search|ai-search --db $T/kb.db -k 3
ai-prompt|ai-prompt
ai-gen|ai-gen -m local/echo
ai-eval|ai-eval
X
input_for() {
	case $1 in
	ai-chunk) echo "$T/doc.md" ;;
	ai-embed) echo "$T/chunks" ;;
	ai-index) echo "$T/emb" ;;
	*) echo "$T/recs" ;;
	esac
}

while IFS='|' read -r name cmd; do
	in=$(input_for "$name")
	# A full disk.
	$cmd <"$in" >/dev/full 2>"$T/err"
	is "$?" 1 "$name: a full disk is status 1"
	is "$(cat "$T/err")" "$name: standard output: No space left on device" \
	    "$name: ... with one line saying so"
	# A reader that goes away: the tool ends quietly.
	st=$( { $cmd <"$in" 2>"$T/err"; echo $? >"$T/st"; } | head -c 100 >/dev/null; cat "$T/st")
	is "$st" 0 "$name: a closed pipe ends it quietly, status 0"
	is "$(cat "$T/err")" "" "$name: ... with nothing on standard error"
	# An input that cannot be read.
	rm -f "$T/w.db" "$T/w.db.vec"
	$cmd </proc/self/mem >"$T/out" 2>"$T/err"
	st=$?
	ok "$name: an unreadable input fails (status $st)" test "$st" -ge 1 -a "$st" -le 2
	ok "$name: ... naming the input and the error" \
	    grep -q "^$name: -\(:[0-9]*\)\?: Input/output error" "$T/err"
done <"$T/tools"

# Files given as operands are named in the message.
for name in ai-chunk ai-embed ai-prompt ai-gen ai-eval; do
	case $name in ai-gen) a="-m local/echo" ;; *) a= ;; esac
	$name $a /proc/self/mem >/dev/null 2>"$T/err"
	ok "$name: an unreadable file is named" \
	    grep -q "^$name: /proc/self/mem\(:[0-9]*\)\?: Input/output error" "$T/err"
done

# A database on a read-only file system, and one that fills up.
M=$T/mnt
mkdir -p "$M"
if mount -t tmpfs -o size=64m tmpfs "$M" 2>/dev/null; then
	trap 'umount "$M" 2>/dev/null; rm -rf "$T"' EXIT
	cp "$T/kb.db" "$T/kb.db.vec" "$M/"
	sqlite3 "$T/kb.db" 'SELECT id, text FROM chunks ORDER BY id' >"$T/before"
	mount -o remount,ro "$M"
	ai-index --db "$M/kb.db" <"$T/emb" >"$T/out" 2>"$T/err"
	st=$?
	ok "ai-index: a database on a read-only file system fails (status $st)" \
	    test "$st" -ge 1 -a "$st" -le 2
	ok "ai-index: ... naming the database" grep -q "^ai-index: $M/kb.db: " "$T/err"
	ai-index --db "$M/new.db" <"$T/emb" >"$T/out" 2>"$T/err"
	st=$?
	ok "ai-index: a new database there fails too (status $st)" \
	    test "$st" -ge 1 -a "$st" -le 2
	ok "ai-search: reads the read-only database" sh -c \
	    "ai-search --db '$M/kb.db' -k 1 paragraph | grep -q '\"hits\":\[{'"
	umount "$M"

	# A disk that fills up in the middle of an ingest.
	mount -t tmpfs -o size=128k tmpfs "$M"
	ai-index --db "$M/full.db" <"$T/emb" >"$T/out" 2>"$T/err"
	st=$?
	ok "ai-index: a disk that fills up fails (status $st)" test "$st" -ge 1 -a "$st" -le 2
	ok "ai-index: ... saying so" grep -qi -e 'full' -e 'No space' "$T/err"
	if [ -f "$M/full.db" ]; then
		is "$(sqlite3 "$M/full.db" 'PRAGMA integrity_check' 2>&1)" ok \
		    "ai-index: the database is sound after ENOSPC"
	fi
	mount -o remount,size=64m "$M"
	ok "ai-index: with room again, a rerun completes" sh -c \
	    "ai-index --db '$M/full.db' <'$T/emb' >/dev/null"
	sqlite3 "$M/full.db" 'SELECT id, text FROM chunks ORDER BY id' >"$T/after"
	same_file "$T/after" "$T/before" "ai-index: ... and stores everything"
	umount "$M"
else
	skip "read-only and full file systems" "cannot mount a tmpfs here"
fi
done_testing
