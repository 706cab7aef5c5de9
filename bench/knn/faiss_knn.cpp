// faiss_knn.cpp - the FAISS peer of bench/43-knn.sh: IndexFlatIP (exact
// inner product) over the same unit vectors, single queries and one batch.
//
//	faiss_knn DATA QUERIES N DIM THREADS GT
#include <faiss/IndexFlat.h>
#include <omp.h>
#include <vector>

#include "common.h"

int
main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: faiss_knn DATA QUERIES N DIM THREADS GT\n");
		return 2;
	}
	size_t n = atol(argv[3]), dim = atol(argv[4]), nq = 1000;
	int threads = atoi(argv[5]);
	const float *x = (const float *)map_file(argv[1], n * dim * 4);
	const float *q = (const float *)map_file(argv[2], nq * dim * 4);
	const uint32_t *gt = (const uint32_t *)map_file(argv[6], nq * K * 4);
	std::vector<float> D(nq * K);
	std::vector<faiss::Index::idx_t> I(nq * K);

	omp_set_num_threads(threads);
	faiss::IndexFlatIP index(dim);
	double t0 = now();
	index.add(n, x);
	printf("add_s=%.3f\n", now() - t0);

	size_t ns = n >= 1000000 ? 30 : 100;
	std::vector<double> lat(ns), clat(ns);
	index.search(1, q, K, D.data(), I.data());	// warm
	for (size_t i = 0; i < ns; i++) {
		double c0 = cpu();
		t0 = now();
		index.search(1, q + i * dim, K, D.data(), I.data());
		lat[i] = (now() - t0) * 1e3;
		clat[i] = (cpu() - c0) * 1e3;
	}
	qsort(lat.data(), ns, sizeof(double), cmp_double);
	qsort(clat.data(), ns, sizeof(double), cmp_double);
	printf("single_ms_median=%.3f\nsingle_cpu_ms_median=%.3f\n",
	    lat[ns / 2], clat[ns / 2]);

	double best = 1e30, cbest = 1e30;
	for (int r = 0; r < 3; r++) {
		double c0 = cpu();
		t0 = now();
		index.search(nq, q, K, D.data(), I.data());
		double dt = now() - t0, ct = cpu() - c0;
		if (dt < best)
			best = dt;
		if (ct < cbest)
			cbest = ct;
	}
	printf("batch_qps=%.1f\nbatch_qps_cpu=%.1f\n", nq / best, nq / cbest);
	long hit = 0;
	for (size_t i = 0; i < nq; i++)
		hit += overlap(reinterpret_cast<const int64_t *>(&I[i * K]), gt + i * K);
	printf("agree=%.4f\n", (double)hit / (nq * K));
	return 0;
}
