# tests/cli/lib.sh - TAP helpers for the shell tests, sourced by each t*.sh.
#
# Sets PATH so the tools under test come first ($AI_BUILD/bin), gives a
# scratch directory $T removed at exit, $TOP (the source tree) and
# $SHARED (../shared, the reference data), and these checks:
#
#	ok NAME CMD...            CMD exits 0
#	fails STATUS NAME CMD...  CMD exits with STATUS
#	is GOT WANT NAME          two strings are equal (diff shown if not)
#	same_file GOT WANT NAME   two files are equal (diff shown if not)
#	skip NAME REASON          a skipped check
#	hold_lock DB SQL, release_lock   another process holds DB's write lock
#	done_testing              print the plan; exit 1 if anything failed

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
: "${AI_BUILD:=build}"
case $AI_BUILD in /*) BIN=$AI_BUILD/bin ;; *) BIN=$TOP/$AI_BUILD/bin ;; esac
case $AI_BUILD in /*) TBIN=$AI_BUILD/tests ;; *) TBIN=$TOP/$AI_BUILD/tests ;; esac
PATH=$BIN:$PATH
SHARED=$TOP/../shared
export PATH TOP BIN TBIN SHARED
# Keep the user's configuration and caches out of the tests.
unset OPENAI_API_KEY OPENAI_BASE_URL ANTHROPIC_API_KEY OLLAMA_HOST \
    AI_ON_ERROR AI_MAX_RECORD AI_LOG AI_TOKENIZER AI_MODEL AI_METRICS AI_JOB \
    TRACEPARENT TRACESTATE OTEL_EXPORTER_OTLP_ENDPOINT \
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT 2>/dev/null || true
T=$(mktemp -d "${TMPDIR:-/tmp}/ai-test.XXXXXX")
export XDG_CACHE_HOME=$T/.cache XDG_CONFIG_HOME=$T/.config
trap 'rm -rf "$T"' EXIT
tap_n=0
tap_failed=0

_tap() {	# _tap PASS NAME
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 1 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

_diag() { sed 's/^/#   /'; }

ok() {
	_name=$1
	shift
	if "$@" >"$T/.out" 2>"$T/.err"; then
		_tap 1 "$_name"
	else
		_st=$?
		_tap 0 "$_name"
		echo "#   exit status $_st: $*"
		head -c 2000 "$T/.err" | _diag
	fi
}

fails() {
	_want=$1
	_name=$2
	shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	_st=$?
	if [ "$_st" -eq "$_want" ]; then
		_tap 1 "$_name"
	else
		_tap 0 "$_name"
		echo "#   exit status $_st, want $_want: $*"
		head -c 2000 "$T/.err" | _diag
	fi
}

is() {
	if [ "$1" = "$2" ]; then
		_tap 1 "$3"
	else
		_tap 0 "$3"
		printf '%s\n' "got:" "$1" "want:" "$2" | head -c 3000 | _diag
	fi
}

same_file() {
	if cmp -s "$1" "$2"; then
		_tap 1 "$3"
	else
		_tap 0 "$3"
		diff -u "$2" "$1" | head -40 | _diag
	fi
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - # skip $1: $2"
}

# hold_lock DB SQL: another process (sqlite3) runs SQL, which should take
# the write lock, and keeps it until release_lock.  It reads its SQL from
# a fifo, so the lock is held until we say, not for a guessed time.
hold_lock() {
	rm -f "$T/.lockfifo"
	mkfifo "$T/.lockfifo"
	sqlite3 "$1" <"$T/.lockfifo" &
	exec 3>"$T/.lockfifo"
	echo "$2" >&3
	_i=0
	while [ $_i -lt 100 ] &&
	    sqlite3 -cmd ".timeout 0" "$1" "BEGIN IMMEDIATE; ROLLBACK;" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

release_lock() {
	echo "ROLLBACK;" >&3
	exec 3>&-
	wait
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
	exit $?
}
