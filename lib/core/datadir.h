/*
 * datadir.h - find the run-time data files the tools ship (data/ in the
 * source tree, $(DATADIR) once installed).
 */
#ifndef AI_DATADIR_H
#define AI_DATADIR_H

#include <stddef.h>

/*
 * Find rel ("models.tsv", "templates/rag.prompt") in $AI_DATA_DIR, then
 * the compiled-in AI_DATADIR, then beside the running program
 * (../share/ai-tools, and ../../data or ../data in a build tree).
 * Return 0 with the path in path[0..len), or -1 when it is nowhere.
 */
int	datadir_find(const char *rel, char *path, size_t len);

#endif
