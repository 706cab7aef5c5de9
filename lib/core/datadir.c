/*
 * datadir.c - where the shipped data files are.
 *
 * An installed tool finds them under AI_DATADIR; a tool run from its
 * build tree finds them beside itself, so tests and `make demo` need no
 * install; $AI_DATA_DIR overrides both.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datadir.h"

#ifndef AI_DATADIR
#define AI_DATADIR "/usr/local/share/ai-tools"
#endif

static int
try(const char *dir, const char *rel, char *path, size_t len)
{
	int k = snprintf(path, len, "%s/%s", dir, rel);

	return k > 0 && (size_t)k < len && access(path, R_OK) == 0 ? 0 : -1;
}

int
datadir_find(const char *rel, char *path, size_t len)
{
	static const char *const beside[] = { "../share/ai-tools", "../../data",
	    "../data" };
	char exe[PATH_MAX], dir[PATH_MAX + 32], *slash;
	const char *e;
	ssize_t n;
	size_t i;

	if ((e = getenv("AI_DATA_DIR")) != NULL && *e != '\0' &&
	    try(e, rel, path, len) == 0)
		return 0;
	if (try(AI_DATADIR, rel, path, len) == 0)
		return 0;
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
			snprintf(dir, sizeof(dir), "%s/%s", exe, beside[i]);
			if (try(dir, rel, path, len) == 0)
				return 0;
		}
	}
	return -1;
}
