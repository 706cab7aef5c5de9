#!/bin/sh
# bench/30-startup.sh - what libcurl costs at start-up, and that a run
# that makes no request does not pay it.
#
# Issue 4 measured a program linked against jansson, libcurl and sqlite3
# at 20.6 ms to start, one without libcurl at 2.6 ms.  lib/model loads
# libcurl with dlopen() on the first request instead.  This script shows
# (1) that ai-embed does not link libcurl (ldd), (2) that a local run
# never maps it while a remote run does (LD_DEBUG), and (3) start-up
# times side by side: the two reference programs of the issue, ai-embed
# --version, ai-embed embedding one record locally, and ai-embed
# embedding one record through the fake provider (which loads libcurl).
# Each is exec'd R times by perl (fork and exec, no shell between); the
# mean wall time per run is printed.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}/startup
reps=${AI_BENCH_REPS:-200}
mkdir -p "$work"
make -s BUILD="$AI_BUILD" "$AI_BUILD/tests/fakeprov" >/dev/null
fake=$PWD/$AI_BUILD/tests/fakeprov

# The issue's two reference programs: each uses every library it links.
cat >"$work/ref.c" <<'C'
#include <jansson.h>
#include <sqlite3.h>
#ifdef WITH_CURL
#include <curl/curl.h>
#endif
int main(void) {
	json_t *j = json_object();
	int r = sqlite3_libversion_number() > 0;
#ifdef WITH_CURL
	r += curl_version_info(CURLVERSION_NOW) != NULL;
#endif
	json_decref(j);
	return r > 0 ? 0 : 1;
}
C
cc -O2 -o "$work/with-curl" -DWITH_CURL "$work/ref.c" -ljansson -lsqlite3 -lcurl
cc -O2 -o "$work/without-curl" "$work/ref.c" -ljansson -lsqlite3

echo '{"id":1,"text":"how often are keys rotated?"}' >"$work/one.jsonl"
port=$("$fake" -d --idle 120)
export XDG_CACHE_HOME=$work/cache

echo "== linked libraries"
printf 'ai-embed links libcurl: %s\n' \
    "$(ldd "$AI_BUILD/bin/ai-embed" | grep -c libcurl || true)"
printf 'ai-embed links %d shared libraries; with-curl links %d\n' \
    "$(ldd "$AI_BUILD/bin/ai-embed" | wc -l)" "$(ldd "$work/with-curl" | wc -l)"

echo "== libraries mapped at run time (LD_DEBUG=files)"
LD_DEBUG=files ai-embed <"$work/one.jsonl" >/dev/null 2>"$work/ld.local"
LD_DEBUG=files ai-embed -m openai/x --base-url "http://127.0.0.1:$port/v1" \
    --no-cache <"$work/one.jsonl" >/dev/null 2>"$work/ld.remote"
printf 'local run:  %d objects loaded, libcurl among them: %s\n' \
    "$(grep -c 'file=.*generating link map' "$work/ld.local")" \
    "$(grep -c 'file=libcurl' "$work/ld.local" || true)"
printf 'remote run: %d objects loaded, libcurl among them: %s\n' \
    "$(grep -c 'file=.*generating link map' "$work/ld.remote")" \
    "$(grep -c 'file=libcurl' "$work/ld.remote" | head -1 || true)"

echo "== start-up, mean of $reps runs"
perl -MTime::HiRes=time -e '
	my ($reps, $in, @cmds) = @ARGV;
	my %t;
	sub run {	# fork and exec argv with stdin from $in, no shell
		my $pid = fork;
		if ($pid == 0) {
			open(STDIN, "<", $in); open(STDOUT, ">", "/dev/null");
			open(STDERR, ">", "/dev/null");
			exec(@_) or exit 127;
		}
		waitpid($pid, 0);
		die "@_: status $?\n" if $?;
	}
	for my $c (@cmds) {
		my ($name, @argv) = split /\t/, $c;
		run(@argv) for 1 .. 5;		# warm the page cache
		my $t0 = time;
		run(@argv) for 1 .. $reps;
		$t{$name} = (time - $t0) / $reps * 1000;
		printf "%-38s %7.2f ms\n", $name, $t{$name};
	}
	printf "%-38s %7.1fx\n", "with-curl / ai-embed local",
	    $t{"with-curl (jansson+sqlite3+libcurl)"} / $t{"ai-embed, one record, local"};
	printf "%-38s %7.1fx\n", "ai-embed remote / ai-embed local",
	    $t{"ai-embed, one record, remote"} / $t{"ai-embed, one record, local"};
' "$reps" "$work/one.jsonl" \
    "without-curl (jansson+sqlite3)	$work/without-curl" \
    "with-curl (jansson+sqlite3+libcurl)	$work/with-curl" \
    "ai-embed --version	$AI_BUILD/bin/ai-embed	--version" \
    "ai-embed, one record, local	$AI_BUILD/bin/ai-embed" \
    "ai-embed, one record, remote	$AI_BUILD/bin/ai-embed	-m	openai/x	--base-url	http://127.0.0.1:$port/v1	--no-cache"
