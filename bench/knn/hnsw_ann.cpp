// hnsw_ann.cpp - the hnswlib peer of bench/44-ann.sh: build an HNSW graph
// (inner product, M and ef_construction as given) with THREADS, then
// recall@10 and queries per second on one thread for each ef.  The graph
// is saved to SAVE with its build times in SAVE.build, and loaded from
// there by later runs (building 1,000,000 rows takes many minutes).
//
//	hnsw_ann DATA QUERIES N DIM GT M EFC THREADS SAVE EF...
#include <hnswlib/hnswlib.h>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common.h"

int
main(int argc, char **argv)
{
	if (argc < 11) {
		fprintf(stderr, "usage: hnsw_ann DATA QUERIES N DIM GT M EFC THREADS SAVE EF...\n");
		return 2;
	}
	size_t n = atol(argv[3]), dim = atol(argv[4]), nq = 1000;
	const float *x = (const float *)map_file(argv[1], n * dim * 4);
	const float *q = (const float *)map_file(argv[2], nq * dim * 4);
	const uint32_t *gt = (const uint32_t *)map_file(argv[5], nq * K * 4);
	int M = atoi(argv[6]), efc = atoi(argv[7]), threads = atoi(argv[8]);

	const char *save = argv[9];
	std::string times = std::string(save) + ".build";
	hnswlib::InnerProductSpace space(dim);
	hnswlib::HierarchicalNSW<float> *index;
	double t0 = now();
	FILE *fp;

	if (access(save, R_OK) == 0 && (fp = fopen(times.c_str(), "r")) != NULL) {
		char line[128];

		index = new hnswlib::HierarchicalNSW<float>(&space, save, false, n);
		while (fgets(line, sizeof(line), fp) != NULL)
			fputs(line, stdout);
		fclose(fp);
		printf("loaded_s=%.3f\n", now() - t0);
	} else {
		index = new hnswlib::HierarchicalNSW<float>(&space, n, M, efc, 100);
		std::atomic<size_t> next(0);
		std::vector<std::thread> pool;
		for (int t = 0; t < threads; t++)
			pool.emplace_back([&] {
				for (size_t i; (i = next++) < n;)
					index->addPoint(x + i * dim, i);
			});
		for (auto &t : pool)
			t.join();
		if ((fp = fopen(times.c_str(), "w")) == NULL)
			return 1;
		fprintf(fp, "build_s=%.3f\nbuild_cpu_s=%.3f\n", now() - t0, cpu());
		fclose(fp);
		index->saveIndex(save);
		printf("build_s=%.3f\nbuild_cpu_s=%.3f\n", now() - t0, cpu());
	}
	fflush(stdout);

	for (int a = 10; a < argc; a++) {
		int ef = atoi(argv[a]);
		long hit = 0;
		int64_t got[K];

		index->setEf(ef);
		double c0 = cpu();
		t0 = now();
		for (size_t i = 0; i < nq; i++) {
			auto res = index->searchKnn(q + i * dim, K);
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
