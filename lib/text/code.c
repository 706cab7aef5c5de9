/*
 * code.c - definitions by language, for the code strategy.  See code.h.
 *
 * Nothing here parses: a definition is recognised by how its line
 * begins ("def ", "func ", "fn ", a C declaration at column 0), which is
 * right for code laid out the way each language's own formatter does.
 */
#include <string.h>

#include "code.h"

struct code_lang {
	const char		*name;
	const char		*exts;		/* " c h " */
	int			 c_like;	/* any identifier at column 0 */
	const char *const	*defs;		/* how definitions begin */
	const char *const	*comments;	/* how comments begin */
};

static const char *const c_defs[] = { "struct ", "union ", "enum ",
	"typedef ", "static ", "extern ", "#define ", NULL };
static const char *const cpp_defs[] = { "struct ", "union ", "enum ",
	"typedef ", "static ", "extern ", "#define ", "class ", "namespace ",
	"template", "inline ", "virtual ", "using ", NULL };
static const char *const c_comments[] = { "/*", "//", NULL };
static const char *const py_defs[] = { "def ", "async def ", "class ", "@",
	NULL };
static const char *const hash_comments[] = { "#", NULL };
static const char *const js_defs[] = { "function ", "async function",
	"class ", "export ", "const ", "let ", "var ", "interface ", "type ",
	"enum ", "module.exports", "abstract class", "declare ", NULL };
static const char *const go_defs[] = { "func ", "type ", "var ", "const ",
	NULL };
static const char *const rust_defs[] = { "fn ", "pub ", "impl", "struct ",
	"enum ", "trait ", "mod ", "#[", "macro_rules!", "const ", "static ",
	"type ", "unsafe ", "async fn", "extern ", NULL };
static const char *const java_defs[] = { "public ", "private ",
	"protected ", "static ", "final ", "abstract ", "class ", "interface ",
	"enum ", "record ", "@", "void ", NULL };
static const char *const sh_defs[] = { "function ", NULL };

static const struct code_lang langs[] = {
	{ "c", " c h ", 1, c_defs, c_comments },
	{ "cpp", " cc cpp cxx c++ hh hpp hxx h++ ipp ", 1, cpp_defs, c_comments },
	{ "python", " py pyi pyw ", 0, py_defs, hash_comments },
	{ "javascript", " js mjs cjs jsx ", 0, js_defs, c_comments },
	{ "typescript", " ts mts cts tsx ", 0, js_defs, c_comments },
	{ "go", " go ", 0, go_defs, c_comments },
	{ "rust", " rs ", 0, rust_defs, c_comments },
	{ "java", " java ", 0, java_defs, c_comments },
	{ "shell", " sh bash zsh ksh ", 0, sh_defs, hash_comments },
};

#define NLANGS	(sizeof(langs) / sizeof(langs[0]))

const struct code_lang *
code_lang(const char *name)
{
	size_t i;

	for (i = 0; i < NLANGS; i++)
		if (strcmp(name, langs[i].name) == 0)
			return &langs[i];
	return NULL;
}

const char *
code_lang_name(const struct code_lang *l)
{
	return l->name;
}

const char *
code_lang_of_path(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot;
	char key[16];
	size_t i, n;

	dot = strrchr(slash ? slash + 1 : path, '.');
	if (dot == NULL || dot[1] == '\0')
		return NULL;
	n = strlen(dot + 1);
	if (n + 3 > sizeof(key))
		return NULL;
	key[0] = ' ';
	for (i = 0; i < n; i++)
		key[i + 1] = (char)(dot[1 + i] >= 'A' && dot[1 + i] <= 'Z' ?
		    dot[1 + i] | 0x20 : dot[1 + i]);
	key[n + 1] = ' ';
	key[n + 2] = '\0';
	for (i = 0; i < NLANGS; i++)
		if (strstr(langs[i].exts, key) != NULL)
			return langs[i].name;
	return NULL;
}

static int
starts(const char *s, size_t len, size_t p, const char *const *list)
{
	size_t i, n;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		n = strlen(list[i]);
		if (len - p >= n && memcmp(s + p, list[i], n) == 0)
			return 1;
	}
	return 0;
}

static int
ident_start(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? 1 : c == '_';
}

/* A shell function without the keyword: "name() {". */
static int
sh_func(const char *s, size_t len, size_t p)
{
	size_t i = p;

	while (i < len && (ident_start((unsigned char)s[i]) ||
	    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == ':'))
		i++;
	return i > p && i + 1 < len && s[i] == '(' && s[i + 1] == ')';
}

/* Is the line ending just before s[p] blank? */
static int
after_blank(const char *s, size_t p)
{
	size_t i = p - 1;		/* s[i] == '\n' */

	while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\r'))
		i--;
	return i == 0 || s[i - 1] == '\n';
}

int
code_line_level(const struct code_lang *l, const char *s, size_t len,
    size_t p)
{
	size_t q = p;
	int blank = after_blank(s, p), def, top;

	while (q < len && (s[q] == ' ' || s[q] == '\t'))
		q++;
	if (q == len || s[q] == '\n' || s[q] == '\r')
		return 3;		/* a blank line itself: cut after it */
	top = q == p || (strcmp(l->name, "java") == 0 && q - p <= 4);
	def = starts(s, len, q, l->defs) ||
	    (strcmp(l->name, "shell") == 0 && sh_func(s, len, q)) ||
	    (l->c_like && q == p && ident_start((unsigned char)s[q]));
	if (blank && top && (def || starts(s, len, q, l->comments)))
		return 0;
	if (blank)
		return 1;
	return def ? 2 : 3;
}
