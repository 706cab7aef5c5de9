#!/bin/sh
# bench/44-ann.sh - approximate top-10 search, side by side in one run:
# our IVF-int8 index (lib/store/ann.c, built into the sidecar as
# `ai-index --ann` does) against hnswlib (Debian's libhnswlib-dev, built
# with -march=native, M=16, ef_construction=200).  Clustered unit
# vectors, d = 384, N = 1,000,000 by default.  Recall@10 against the
# exact search, queries per second one query at a time on one thread,
# and the build time with ANN_THREADS threads.
#
#	ANN_SIZES=1000000  ANN_KIND=clustered  ANN_THREADS=2
#	ANN_NLIST=0 (0: sqrt(N))  ANN_NPROBE="1 2 3 4 6 8 12 16 32"
#	ANN_EF="10 16 24 32 48 64 96 128 256"  ANN_PEERS=hnsw
set -eu
cd "$(dirname "$0")/.."
. bench/knn/lib.sh

SIZES=${ANN_SIZES:-1000000}
KIND=${ANN_KIND:-clustered}
T=${ANN_THREADS:-2}
NLIST=${ANN_NLIST:-0}
NPROBE=${ANN_NPROBE:-1 2 3 4 6 8 12 16 32}
EF=${ANN_EF:-10 16 24 32 48 64 96 128 256}
PEERS=${ANN_PEERS:-hnsw}
knn_build $PEERS
knn_machine
echo "build threads: $T; queries: 1,000, one at a time on one thread"

# best TARGET FILE [FIELD]: the highest FIELD (qps_cpu) at recall >= TARGET.
best() {
	awk -v t="$1" -v f="${3:-qps_cpu}" '{ for (i = 1; i <= NF; i++) {
	    split($i, kv, "="); v[kv[1]] = kv[2] } }
	    v["recall"] >= t && v[f] > b { b = v[f] } END { print b ? b : "-" }' "$2"
}

for n in $SIZES; do
	data=$(knn_data "$KIND" "$n")
	q=$W/$KIND-q.f32
	gt=$W/$KIND-$n.gt
	[ -s "$gt" ] || "$W/knnbench" gt "$data" "$q" "$n" "$DIM" "$T" "$gt"

	"$W/knnbench" ann "$data" "$q" "$n" "$DIM" "$gt" "$W/$KIND-$n-ann.vec" \
	    "$NLIST" "$T" $NPROBE >"$W/ann.out"
	rm -f "$W/$KIND-$n-ann.vec"
	echo
	echo "$KIND N=$n: ours (IVF-int8, nlist $(val nlist "$W/ann.out")):" \
	    "built in $(val ann_build_s "$W/ann.out") s" \
	    "($(val ann_build_cpu_s "$W/ann.out") s CPU)"
	grep '^nprobe=' "$W/ann.out" | sed 's/^/  /'
	for p in $PEERS; do
		[ "$p" = hnsw ] || continue
		# The graph is kept in $W and loaded by later runs.
		"$W/hnsw_ann" "$data" "$q" "$n" "$DIM" "$gt" 16 200 "$T" \
		    "$W/hnsw-$KIND-$n.bin" $EF >"$W/hnsw.out"
		echo "$KIND N=$n: hnswlib (M=16, ef_construction=200):" \
		    "built in $(val build_s "$W/hnsw.out") s" \
		    "($(val build_cpu_s "$W/hnsw.out") s CPU; ours" \
		    "$(val ann_build_cpu_s "$W/ann.out") s CPU)$( [ -n "$(val loaded_s "$W/hnsw.out")" ] &&
		    echo ", loaded from an earlier run's build")"
		grep '^ef=' "$W/hnsw.out" | sed 's/^/  /'
		echo "  best queries/s at a recall, on CPU time (wall time in brackets):"
		printf '  %-8s %16s %16s %8s\n' recall ours hnswlib x_hnsw
		for t in 0.90 0.95 0.98 0.99; do
			o=$(best $t "$W/ann.out")
			h=$(best $t "$W/hnsw.out")
			printf '  >= %-5s %16s %16s %8s\n' $t \
			    "$o ($(best $t "$W/ann.out" qps))" \
			    "$h ($(best $t "$W/hnsw.out" qps))" \
			    "$( [ "$o" != - ] && [ "$h" != - ] && ratio "$o" "$h" || echo -)"
		done
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
