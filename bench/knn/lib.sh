# bench/knn/lib.sh - what bench/43-knn.sh and bench/44-ann.sh share:
# build the programs, make the data sets once, describe the machine.
# Sourced with the working directory at the top of the tree.

: "${AI_BUILD:=build}"
W=bench/work/knn
mkdir -p "$W"
DIM=${KNN_DIM:-384}
SO=bench/node_modules/sqlite-vec-linux-x64/vec0.so

knn_build() {	# knn_build [peers...]: ours always; faiss sqlitevec hnsw
	sh .ci/deps --if-missing gcc g++ libsqlite3-dev libfaiss-dev \
	    libopenblas0-pthread libhnswlib-dev time
	make -s BUILD="$AI_BUILD" "$AI_BUILD/libaitools.a"
	cc -std=c11 -O2 -D_GNU_SOURCE -Ilib -o "$W/knnbench" \
	    bench/knn/knnbench.c "$AI_BUILD/libaitools.a" -lm -lpthread
	for p in "$@"; do
		case $p in
		faiss)	g++ -O2 -o "$W/faiss_knn" bench/knn/faiss_knn.cpp \
			    -lfaiss -fopenmp -lblas -llapack ;;
		hnsw)	g++ -O2 -march=native -o "$W/hnsw_ann" \
			    bench/knn/hnsw_ann.cpp -lpthread ;;
		sqlitevec)
			[ -f "$SO" ] || npm install --no-save --no-audit --no-fund \
			    --prefix bench sqlite-vec-linux-x64@0.1.9 >/dev/null
			cc -O2 -o "$W/sqlitevec_knn" bench/knn/sqlitevec_knn.c \
			    -lsqlite3 ;;
		esac
	done
}

# knn_data KIND N: the data set's path, generated on first use (seed 1);
# the 1,000 queries come from the same generator with another seed.
knn_data() {
	_f=$W/$1-$2.f32
	[ -s "$_f" ] || "$W/knnbench" gen "$1" "$2" "$DIM" 1 "$_f"
	[ -s "$W/$1-q.f32" ] || "$W/knnbench" gen "$1" 1000 "$DIM" 99 "$W/$1-q.f32"
	echo "$_f"
}

# val KEY FILE: the value of key=value in FILE.
val() { sed -n "s/^$1=//p" "$2" | head -1; }

# ratio A B: A/B to two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

knn_machine() {
	echo "machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	    "$(grep -c ^processor /proc/cpuinfo) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)," \
	    "kernel $(uname -r)"
	echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
}
