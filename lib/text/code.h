/*
 * code.h - where source code may be cut: definitions by language.
 *
 * A language is known by name ("c", "cpp", "python", "javascript",
 * "typescript", "go", "rust", "java", "shell") and chosen from a file
 * name's extension.  For a line of code it says how good a place the
 * start of that line is to begin a chunk (lower is better):
 *
 *	0  a top-level definition, or the comment or decorator above one,
 *	   after a blank line
 *	1  any other line after a blank line
 *	2  a definition (nested, or without a blank line before it)
 *	3  any other line
 */
#ifndef AI_CODE_H
#define AI_CODE_H

#include <stddef.h>

struct code_lang;

/* The language called name, or NULL. */
const struct code_lang *code_lang(const char *name);
const char *code_lang_name(const struct code_lang *);

/* The language name of a path by its extension, or NULL. */
const char *code_lang_of_path(const char *path);

/* The level (0..3) of the line starting at s[p]; p > 0, s[p-1] == '\n'. */
int	code_line_level(const struct code_lang *, const char *s, size_t len,
	    size_t p);

#endif
