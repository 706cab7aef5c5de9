#!/bin/sh
# bench/43-knn.sh - exact top-10 vector search, side by side in one run:
# ours (lib/store/vec.c over the mmap'd sidecar) against FAISS
# IndexFlatIP (Debian's libfaiss-dev, batches through OpenBLAS) and
# sqlite-vec (vec0.so from the npm package sqlite-vec-linux-x64).
# Unit vectors, d = 384, clustered (embedding-like) and random, N =
# 100,000 and 1,000,000; single-query latency, the throughput of one
# batch of 1,000 queries, and a cold start: a fresh process mapping the
# sidecar against one copying the vectors into fresh memory, and cold
# `ai-search` from start to answer.
#
#	KNN_SIZES="100000 1000000"  KNN_KINDS="clustered random"
#	KNN_THREADS=1  KNN_PEERS="faiss sqlitevec"
set -eu
cd "$(dirname "$0")/.."
. bench/knn/lib.sh

SIZES=${KNN_SIZES:-100000 1000000}
KINDS=${KNN_KINDS:-clustered random}
T=${KNN_THREADS:-1}
PEERS=${KNN_PEERS:-faiss sqlitevec}
knn_build $PEERS
export OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T
knn_machine
echo "threads: $T"
printf '\nsingle: median ms per query (wall, and CPU of the process); batch: queries/s\n'
printf 'of one batch of 1,000 (best of 3); x: how many times faster ours is, on CPU time\n'
row() { printf '%-9s %8s %-11s %9s %9s %7s %10s %10s %7s %s\n' "$@"; }
row kind N engine single single_cpu x batch batch_cpu x ""

for kind in $KINDS; do
	for n in $SIZES; do
		data=$(knn_data "$kind" "$n")
		q=$W/$kind-q.f32
		gt=$W/$kind-$n.gt
		"$W/knnbench" exact "$data" "$q" "$n" "$DIM" "$T" \
		    "$W/$kind-$n.vec" "$gt" >"$W/ours.out"
		o=$W/ours.out
		os=$(val single_cpu_ms_median "$o")
		ob=$(val batch_qps_cpu "$o")
		fl=$(val floor_ms "$o")
		row "$kind" "$n" "ours/$(val isa "$o")" "$(val single_ms_median "$o")" \
		    "$os" 1.00 "$(val batch_qps "$o")" "$ob" 1.00 ""
		row "$kind" "$n" read-floor "$fl" - - - - - \
		    "(one pass over the rows: $(val floor_gb_per_s "$o") GB/s; ours is $(ratio "$(val single_ms_median "$o")" "$fl")x it)"
		for p in $PEERS; do
			case $p in
			faiss)
				"$W/faiss_knn" "$data" "$q" "$n" "$DIM" "$T" "$gt" \
				    >"$W/peer.out" ;;
			sqlitevec)
				"$W/sqlitevec_knn" "$SO" "$W/sqlitevec.db" "$data" \
				    "$q" "$n" "$DIM" "$gt" >"$W/peer.out"
				rm -f "$W/sqlitevec.db"* ;;
			*)	continue ;;
			esac
			P=$W/peer.out
			ps=$(val single_cpu_ms_median "$P")
			pb=$(val batch_qps_cpu "$P")
			row "$kind" "$n" "$p" "$(val single_ms_median "$P")" "$ps" \
			    "$(ratio "$ps" "$os")" "$(val batch_qps "$P")" "${pb:--}" \
			    "$( [ -n "$pb" ] && ratio "$ob" "$pb" || echo -)" \
			    "(same top 10 as ours: $(val agree "$P")$( [ -n "$(val insert_rows_per_s "$P")" ] && echo "; inserts $(val insert_rows_per_s "$P")/s"))"
		done
		echo "#   sidecar written at $(val sidecar_write_rows_per_s "$o") rows/s;" \
		    "similarity top-1 $(val sim_top1 "$o"), top-10" \
		    "$(val sim_top10 "$o"), random pair $(val sim_random "$o")"
		[ "$kind" = clustered ] || rm -f "$W/$kind-$n.vec"
	done
done

# Cold: a fresh process, the sidecar in the page cache (median of 7).
n=$(echo "$SIZES" | cut -d' ' -f1)
side=$W/clustered-$n.vec
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
if [ -f "$side" ]; then
	echo
	for how in map read; do
		for i in 1 2 3 4 5 6 7; do
			"$W/knnbench" cold "$side" "$W/clustered-q.f32" "$DIM" $how >"$W/cold.out"
			echo "$(val cold_${how}_ms "$W/cold.out") $(val minflt_$how "$W/cold.out")" \
			    "$(val cold_${how}_cpu_ms "$W/cold.out")"
		done >"$W/cold.$how"
		echo "cold $how, N=$n: $(cut -d' ' -f1 "$W/cold.$how" | median) ms" \
		    "($(cut -d' ' -f3 "$W/cold.$how" | median) ms CPU) from main() to" \
		    "the answer, $(cut -d' ' -f2 "$W/cold.$how" | median) minor faults"
	done
fi

# Cold ai-search, start to answer, when the tools are built.
if [ -x "$AI_BUILD/bin/ai-index" ] && [ -x "$AI_BUILD/bin/ai-search" ]; then
	db=$W/cold-$n.db
	if [ ! -f "$db" ] || [ ! -f "$db.vec" ]; then
		rm -f "$db" "$db.vec" "$db-wal" "$db-shm"
		"$W/knnbench" ndjson "$W/clustered-$n.f32" "$n" "$DIM" |
		    "$AI_BUILD/bin/ai-index" --db "$db" --no-status
	fi
	"$W/knnbench" ndjson "$W/clustered-q.f32" 1 "$DIM" query >"$W/q1.ndjson"
	cat "$db" "$db.vec" >/dev/null	# in the page cache, as promised
	# timed ARGS...: "wall_ms cpu_ms" of one ai-search run (GNU time).
	timed() {
		/usr/bin/time -f '%e %U %S' "$AI_BUILD/bin/ai-search" "$@" \
		    <"$W/q1.ndjson" 2>&1 >/dev/null | tail -1 |
		    awk '{ printf "%.0f %.0f\n", $1 * 1000, ($2 + $3) * 1000 }'
	}
	if [ -x /usr/bin/time ]; then
		for i in 1 2 3 4 5 6 7; do timed --db "$db" --mode vector -k 10; done >"$W/cold.ai"
		echo "cold ai-search --mode vector, N=$n, start to answer:" \
		    "$(cut -d' ' -f1 "$W/cold.ai" | median) ms" \
		    "($(cut -d' ' -f2 "$W/cold.ai" | median) ms CPU, 10 ms steps)"
		mv "$db.vec" "$db.vec.off"
		for i in 1 2 3; do timed -q --db "$db" --mode vector -k 10; done >"$W/cold.ai"
		mv "$db.vec.off" "$db.vec"
		echo "  the same without the sidecar (blobs from SQLite):" \
		    "$(cut -d' ' -f1 "$W/cold.ai" | median) ms" \
		    "($(cut -d' ' -f2 "$W/cold.ai" | median) ms CPU)"
	fi
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
