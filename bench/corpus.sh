#!/bin/sh
# bench/corpus.sh - build the English bench corpus and print its path.
#
# At least 50 MB of real English prose and reference text, made at bench
# time from Debian packages and never committed:
#
#	man/     the manual pages of manpages and manpages-dev, rendered
#	         to plain text by mandoc (one file per page, ~2,500 files)
#	python/  the reStructuredText sources of the Python 3.11
#	         documentation (python3.11-doc)
#	gcide/   the Collaborative International Dictionary of English
#	         (dict-gcide), cut into files of about 1.5 MB
#
# The corpus is built once into bench/work/corpus (or $AI_BENCH_WORK/corpus)
# and reused; delete the directory to rebuild it.  Missing packages are
# installed when run as root; otherwise the apt-get line is printed and
# the script fails.  The last line of output is the corpus path, so other
# benchmarks can say:  corpus=$(sh bench/corpus.sh | tail -1)
set -eu
cd "$(dirname "$0")/.."
work=${AI_BENCH_WORK:-$PWD/bench/work}
dir=$work/corpus
pkgs="manpages manpages-dev python3.11-doc dict-gcide mandoc bsdextrautils"

if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench/corpus.sh: run as root: apt-get install -y$missing" >&2
		exit 1
	fi
	echo "bench/corpus.sh: installing$missing" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $missing >/dev/null
fi

rm -rf "$dir"
mkdir -p "$dir/man" "$dir/python" "$dir/gcide"

# Manual pages: render each real page (not the one-line ".so" aliases).
dpkg -L manpages manpages-dev | grep '/man/man[1-8]/.*\.gz$' | sort |
while read -r f; do
	name=$(basename "$f" .gz)
	if zcat "$f" | head -c 200 | grep -q '^\.so '; then
		continue
	fi
	zcat "$f" | mandoc -man -Tascii 2>/dev/null | col -bx >"$dir/man/$name.txt" ||
	    rm -f "$dir/man/$name.txt"
done

# The Python documentation sources, their tree flattened into names.
src=/usr/share/doc/python3.11/html/_sources
(cd "$src" && find . -name '*.rst.txt' | sort) | while read -r f; do
	name=$(echo "${f#./}" | tr / _)
	cp "$src/$f" "$dir/python/${name%.txt}"
done

# The dictionary: dictd's data file, cut at an entry (a line that is
# not indented) after every 1.5 MB or so.
zcat /usr/share/dictd/gcide.dict.dz | awk -v dir="$dir/gcide" '
	function next_file() {
		if (out != "")
			close(out)
		out = sprintf("%s/gcide-%02d.txt", dir, ++n)
		size = 0
	}
	BEGIN { next_file() }
	size > 1500000 && /^[^ \t]/ { next_file() }
	{ print > out; size += length($0) + 1 }'

bytes=$(du -sb "$dir" | cut -f1)
files=$(find "$dir" -type f | wc -l)
if [ "$bytes" -lt 50000000 ]; then
	echo "bench/corpus.sh: corpus is only $bytes bytes" >&2
	exit 1
fi
touch "$dir/.complete"
echo "bench/corpus.sh: $files files, $bytes bytes" >&2
echo "$dir"
