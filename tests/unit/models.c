/*
 * models.c - the model table: patterns, later rows winning, AI_MODELS,
 * bad rows; and that the shipped table is found and sane.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/datadir.h"
#include "core/models.h"
#include "tap.h"

int
main(void)
{
	struct model_info mi;
	char err[512], path[] = "/tmp/ai-models-test.XXXXXX", shipped[4096];
	FILE *fp;
	int fd;

	ok(datadir_find("models.tsv", shipped, sizeof(shipped)) == 0,
	    "the shipped table is found beside the build");
	ok(models_lookup("openai/gpt-4o-2024-08-06", &mi, err, sizeof(err)) == 1
	    && mi.context == 128000, "a dated version matches its pattern");
	ok(models_lookup("anthropic/claude-sonnet-4-5", &mi, err,
	    sizeof(err)) == 1 && mi.context == 200000 && mi.max_output > 0,
	    "anthropic/claude-sonnet-4-5");
	ok(models_lookup("local/extractive", &mi, err, sizeof(err)) == 1,
	    "local models have a window");
	is_int(models_lookup("nope/nothing", &mi, err, sizeof(err)), 0,
	    "an unknown model is not found");

	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL)
		return 1;
	fputs("# comment\n\nx/*\t1000\t10\nx/big\t9000\n", fp);
	fclose(fp);
	ok(models_lookup_file(path, "x/big", &mi, err, sizeof(err)) == 1 &&
	    mi.context == 9000 && mi.max_output == 0, "a later row wins");
	ok(models_lookup_file(path, "x/small", &mi, err, sizeof(err)) == 1 &&
	    mi.context == 1000 && mi.max_output == 10, "a pattern row");
	setenv("AI_MODELS", path, 1);
	ok(models_lookup("openai/gpt-4o", &mi, err, sizeof(err)) == 1 &&
	    mi.context == 128000, "AI_MODELS adds rows");
	ok(models_lookup("x/big", &mi, err, sizeof(err)) == 1 &&
	    mi.context == 9000, "and is read after the shipped table");
	fp = fopen(path, "w");
	fputs("x/y\tmany\n", fp);
	fclose(fp);
	is_int(models_lookup("x/y", &mi, err, sizeof(err)), -1, "a bad row fails");
	ok(strstr(err, ":1: want 'MODEL CONTEXT [MAX_OUTPUT]'") != NULL,
	    "naming the file and line: %s", err);
	unlink(path);
	is_int(models_lookup("x/y", &mi, err, sizeof(err)), -1,
	    "a missing AI_MODELS file fails");
	return done_testing();
}
