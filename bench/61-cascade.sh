#!/bin/sh
# bench/61-cascade.sh - what a cascade saves: ai-gen --cascade small,large
# --accept against always asking the large model (and, for reference,
# always the small one), on the same questions, in one run.
#
# Two fake providers (tests/progs/fakeprov) play the models: "small"
# (ollama/small, priced like a mini model: $0.15 in, $0.60 out per
# million tokens) echoes the question with its passage, and "large"
# (openai/large: $2.50 in, $10 out) gives a cited answer of its own.
# Every record has one passage, [1]; one question in BENCH_CASCADE_HARD
# (default 4, so 25%) also mentions a passage [9] that does not exist,
# so the small model's answer cites it and fails --accept citations.
# That share is known, so the figures can be checked: the cascade must
# accept every record, ask the large model for the hard share only, and
# cost (share x large + small) of always-large.  Costs come from ai-gen's
# own usage.cost_usd, through a price table given as AI_PRICES; every
# run pays for its answers (--no-cache: the runs ask the same questions).
#
# A fourth run adds a judge (--accept citations,judge>=0.75 --judge
# openai/judge, a third fake priced like the small model that grades
# every answer 4 of 5): it accepts what the plain cascade accepts, so
# the difference is what asking a judge costs in money and time.
#
#	BENCH_CASCADE_N=N	questions (default 400)
#	BENCH_CASCADE_HARD=K	one question in K is hard (default 4)
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}/cascade
mkdir -p "$work"
make -s BUILD="$AI_BUILD" "$AI_BUILD/tests/fakeprov" >/dev/null
fake=$PWD/$AI_BUILD/tests/fakeprov
n=${BENCH_CASCADE_N:-400}
hard=${BENCH_CASCADE_HARD:-4}

printf 'ollama/small\t0.15\t0.075\t0.60\nopenai/large\t2.50\t1.25\t10.00\nopenai/judge\t0.15\t0.075\t0.60\n' \
    >"$work/prices.tsv"
awk -v n="$n" -v k="$hard" 'BEGIN {
	for (i = 1; i <= n; i++) {
		q = "[1] Shipment " i " left the depot at " (i % 12 + 1) \
		    " o'\''clock and reached the port the same day.\\n\\n" \
		    "Question: when did shipment " i " leave the depot?"
		if (i % k == 0)
			q = q " Compare with the log in [9]."
		printf "{\"id\":%d,\"prompt\":\"%s\"}\n", i, q
	}
}' >"$work/questions.jsonl"

small=$("$fake" -d --watch $$ --idle 120 --latency 20)
large=$("$fake" -d --watch $$ --idle 120 --latency 20 \
    --reply "The shipment left the depot in the morning, as the log says [1].")
judge=$("$fake" -d --watch $$ --idle 120 --latency 20 \
    --reply '{"score": 4, "reason": "the answer is in the passage"}')
export AI_PRICES="$work/prices.tsv" OLLAMA_HOST="127.0.0.1:$small" \
    OPENAI_BASE_URL="http://127.0.0.1:$large/v1"

# run NAME ARGS...: prints "NAME accepted all cost seconds large_calls cpu"
run() {
	name=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$work/time" \
	    ai-gen -j 8 --no-cache --accept citations --on-error emit -q "$@" \
	    <"$work/questions.jsonl" >"$work/$name.out" 2>/dev/null || true
	# the last line: time(1) puts "Command exited with ..." before it
	read -r sec usr sys <<EOF
$(tail -n 1 "$work/time")
EOF
	awk -v name="$name" -v sec="$sec" -v cpu="$(echo "$usr $sys" |
	    awk '{ print $1 + $2 }')" '
	{
		if (match($0, /"cost_usd":[0-9.e+-]+/))
			cost += substr($0, RSTART + 11, RLENGTH - 11)
		if ($0 !~ /"error":\{/)
			ok++
		if ($0 ~ /"tried":\[[^]]*"openai\/large"/ ||
		    $0 ~ /"model":"openai\/large","finish_reason"/)
			large++
		all++
	}
	END {
		printf "%s %d %d %.6f %.2f %d %.2f\n", name, ok, all, cost,
		    sec, large, cpu
	}' "$work/$name.out"
}

{
	run small -m ollama/small
	run large -m openai/large
	run cascade --cascade ollama/small,openai/large
	run judged --cascade ollama/small,openai/large \
	    --accept 'citations,judge>=0.75' --judge openai/judge \
	    --judge-base-url "http://127.0.0.1:$judge/v1"
} >"$work/figures"

echo "cascade vs always-large: $n questions, 1 in $hard hard for the small model"
echo "(fakeprov, 20 ms per answer, -j 8; $(nproc) cores, $(uname -m);" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg))"
awk '
{ name[NR] = $1; ok[NR] = $2; all[NR] = $3; cost[NR] = $4; sec[NR] = $5
  large[NR] = $6; cpu[NR] = $7 }
END {
	printf "%-8s %9s %9s %12s %11s %8s %8s\n", "run", "accepted", "rate",
	    "cost_usd", "large_calls", "seconds", "cpu_s"
	for (i = 1; i <= NR; i++)
		printf "%-8s %5d/%-3d %8.1f%% %12.6f %11d %8.2f %8.2f\n",
		    name[i], ok[i], all[i], 100 * ok[i] / all[i], cost[i],
		    large[i], sec[i], cpu[i]
	printf "cascade/large: cost %.3f, accepted %.3f\n", cost[3] / cost[2],
	    ok[3] / ok[2]
	printf "judged/cascade: cost %.3f, accepted %.3f, seconds %.2f," \
	    " cpu %.2f\n", cost[4] / cost[3], ok[4] / ok[3], sec[4] / sec[3],
	    cpu[4] / cpu[3]
}' "$work/figures"
