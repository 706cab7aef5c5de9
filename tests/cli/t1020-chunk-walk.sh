#!/bin/sh
# ai-chunk on directories: sorted order, hidden entries skipped, an empty
# directory passed over, --include and --exclude, symbolic links inside
# the tree followed, out of it only with --follow, loops never.
. "$(dirname "$0")/lib.sh"

docs() { perl -MJSON::PP -ne 'print JSON::PP->new->decode($_)->{doc_id}, "\n"' | uniq; }

mkdir -p "$T/d/sub" "$T/d/.git" "$T/d/.hidden" "$T/d/empty" "$T/out/x"
for f in b.txt a.md sub/c.py sub/B.txt .dot .git/config .hidden/h.txt; do
	echo "text of $f" >"$T/d/$f"
done
echo "outside" >"$T/out/x/o.txt"
cd "$T" || exit 1

ai-chunk d | docs >got
printf '%s\n' d/a.md d/b.txt d/sub/B.txt d/sub/c.py >want
same_file got want "sorted by name, hidden entries skipped"
ai-chunk d/ | docs >got
same_file got want "a trailing slash gives the same ids"
ai-chunk d/.dot | docs >got
is "$(cat got)" "d/.dot" "a hidden file named as an operand is read"

ai-chunk -i '*.txt' d | docs >got
printf '%s\n' d/b.txt d/sub/B.txt >want
same_file got want "--include by name"
ai-chunk -i 'sub/*' d | docs >got
printf '%s\n' d/sub/B.txt d/sub/c.py >want
same_file got want "--include by path below the operand"
ai-chunk -x sub -x '*.md' d | docs >got
is "$(cat got)" "d/b.txt" "--exclude prunes a directory and a name"

ln -s ../b.txt d/sub/link.txt
ln -s ../../out/x d/sub/outlink
ln -s .. d/sub/up
ai-chunk d >o 2>err
is "$?" 0 "links: status 0"
docs <o >got
printf '%s\n' d/a.md d/b.txt d/sub/B.txt d/sub/c.py d/sub/link.txt >want
same_file got want "a link inside the tree is followed, out of it and up it not"
grep -q "d/sub/outlink: skipped: symbolic link out of the tree" err
is $? 0 "a link out of the tree: a warning"
grep -q "d/sub/up: skipped: symbolic link loop" err
is $? 0 "a link back up the tree: a loop, a warning"
ai-chunk -L d 2>/dev/null | docs | grep -c outlink/o.txt >got
is "$(cat got)" 1 "--follow follows a link out of the tree"
ai-chunk -q d 2>err >/dev/null
is "$(wc -c <err)" 0 "-q silences the skips"

# The walk opens files relative to their directory, with O_NOATIME where
# allowed, and takes a directory's word that an entry is a regular file.
# O_NOATIME is refused (EPERM) on a file another user owns: the files must
# still be read, and one the user cannot read must be named.
mkdir -p n/sub
for f in a.txt sub/b.txt; do echo "text of $f" >"n/$f"; done
ln -s a.txt n/link.txt
ai-chunk n >n.want 2>/dev/null
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	echo "secret" >n/z.txt
	chmod 600 n/z.txt
	chmod a+rx "$T"
	setpriv --reuid=65534 --regid=65534 --clear-groups ai-chunk n >got 2>err
	is "$?" 1 "another user's files: status 1 for the one unreadable"
	same_file got n.want "... the readable ones read though O_NOATIME is refused"
	is "$(cat err)" "ai-chunk: n/z.txt: Permission denied" \
	    "... the unreadable one named"
	rm -f n/z.txt
else
	skip "O_NOATIME refused" "needs root and setpriv"
	skip "O_NOATIME refused" "needs root and setpriv"
	skip "O_NOATIME refused" "needs root and setpriv"
fi
# A file system whose directories give no entry types (DT_UNKNOWN): ext2
# without the filetype feature.  Each entry is looked at instead.
mkdir -p m
if command -v mkfs.ext2 >/dev/null && truncate -s 4M img &&
    mkfs.ext2 -q -F -O ^filetype img >/dev/null 2>&1 &&
    mount -o loop img m 2>/dev/null; then
	trap 'umount "$T/m" 2>/dev/null; rm -rf "$T"' EXIT
	cp -a n/. m/
	ln -s ../../out/x m/sub/outlink
	ai-chunk m >got 2>err
	is "$?" 0 "no entry types: status 0"
	sed 's,"m/,"n/,g' got >got.n
	same_file got.n n.want "no entry types: the same chunks, links followed"
	is "$(cat err)" "ai-chunk: m/sub/outlink: skipped: symbolic link out of the tree" \
	    "no entry types: a link out of the tree still skipped"
	umount m
else
	skip "DT_UNKNOWN" "cannot mount an ext2 image here"
	skip "DT_UNKNOWN" "cannot mount an ext2 image here"
	skip "DT_UNKNOWN" "cannot mount an ext2 image here"
fi

ln -s nowhere d/broken
ai-chunk d >/dev/null 2>err
is "$?:$(grep -c broken err)" "1:1" "a broken link: status 1 and a message"
done_testing
