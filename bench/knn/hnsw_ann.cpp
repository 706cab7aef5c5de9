// hnsw_ann.cpp - the hnswlib peer of bench/44-ann.sh: build an HNSW graph
// (inner product, M and ef_construction as given) with THREADS, then
// recall@10 and queries per second on one thread for each ef.
//
//	hnsw_ann DATA QUERIES N DIM GT M EFC THREADS EF...
#include <hnswlib/hnswlib.h>
#include <atomic>
#include <thread>
#include <vector>

#include "common.h"

int
main(int argc, char **argv)
{
	if (argc < 10) {
		fprintf(stderr, "usage: hnsw_ann DATA QUERIES N DIM GT M EFC THREADS EF...\n");
		return 2;
	}
	size_t n = atol(argv[3]), dim = atol(argv[4]), nq = 1000;
	const float *x = (const float *)map_file(argv[1], n * dim * 4);
	const float *q = (const float *)map_file(argv[2], nq * dim * 4);
	const uint32_t *gt = (const uint32_t *)map_file(argv[5], nq * K * 4);
	int M = atoi(argv[6]), efc = atoi(argv[7]), threads = atoi(argv[8]);

	hnswlib::InnerProductSpace space(dim);
	hnswlib::HierarchicalNSW<float> index(&space, n, M, efc, 100);
	std::atomic<size_t> next(0);
	double t0 = now();
	std::vector<std::thread> pool;
	for (int t = 0; t < threads; t++)
		pool.emplace_back([&] {
			for (size_t i; (i = next++) < n;)
				index.addPoint(x + i * dim, i);
		});
	for (auto &t : pool)
		t.join();
	printf("build_s=%.3f\nbuild_cpu_s=%.3f\n", now() - t0, cpu());

	for (int a = 9; a < argc; a++) {
		int ef = atoi(argv[a]);
		long hit = 0;
		int64_t got[K];

		index.setEf(ef);
		double c0 = cpu();
		t0 = now();
		for (size_t i = 0; i < nq; i++) {
			auto res = index.searchKnn(q + i * dim, K);
			for (int j = K - 1; j >= 0 && !res.empty(); j--) {
				got[j] = (int64_t)res.top().second;
				res.pop();
			}
			hit += overlap(got, gt + i * K);
		}
		double dt = now() - t0, ct = cpu() - c0;
		printf("ef=%d recall=%.4f qps=%.0f qps_cpu=%.0f\n", ef,
		    (double)hit / (nq * K), nq / dt, nq / ct);
	}
	return 0;
}
