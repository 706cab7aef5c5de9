# bench/lib/measure.sh - shell helpers shared by the throughput benches
# (bench/31-embed-throughput.sh, bench/60-gen.sh).  Source it after
# setting $work, the bench's scratch directory.

# cpu_of PID: its user + system CPU so far, in seconds.
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / t }' "/proc/$1/stat"; }
# pid_on PORT: the process listening on 127.0.0.1:PORT.
pid_on() { ss -Hltnp "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }
# load: the 1-minute load average.
load() { cut -d' ' -f1 /proc/loadavg; }

# timed CMD...: run it, print "wall user+sys" seconds.
timed() {
	/usr/bin/time -f '%e %U %S' -o "$work/time" "$@"
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/time"
}
