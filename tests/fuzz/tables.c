/*
 * tables.c - fuzz the data tables users may supply: prices (AI_PRICES,
 * lib/gen/prices), models (AI_MODELS, lib/core/models), and the wait
 * values of Retry-After and x-ratelimit-reset-* headers (lib/model/http).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/models.h"
#include "gen/prices.h"
#include "model/http.h"
#include "fuzz.h"

static const char *const models[] = {
	"openai/gpt-4o",
	"anthropic/claude-sonnet-4-5-20250929",
	"ollama/llama3", "", "*", "x/[a-"
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_info mi;
	struct prices pr;
	char path[64], err[512], *s;
	size_t i;
	int fd, r;

	fd = fuzz_memfd(data, size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	prices_init(&pr);
	if (prices_load(&pr, path) == -1)
		FUZZ_ASSERT(pr.errmsg[0] != '\0');
	for (i = 0; i < sizeof(models) / sizeof(*models); i++) {
		const struct price *p = prices_find(&pr, models[i]);

		if (p != NULL)
			(void)price_cost(p, 1000, 10, 5, 100);
	}
	prices_release(&pr);

	for (i = 0; i < sizeof(models) / sizeof(*models); i++) {
		err[0] = '\0';
		r = models_lookup_file(path, models[i], &mi, err, sizeof(err));
		FUZZ_ASSERT(r >= -1 && r <= 1);
		if (r == -1)
			FUZZ_ASSERT(err[0] != '\0');
		if (r == 1)
			FUZZ_ASSERT(mi.context > 0 && mi.max_output >= 0);
	}
	close(fd);

	s = fuzz_strndup(data, size);
	{
		double w = http_parse_wait(s, 1.7e9);

		FUZZ_ASSERT(w == -1 || (w >= 0 && !isnan(w)));
	}
	free(s);
	return 0;
}
