/*
 * template.c - read a template file into compiled messages and render
 * them.  The format is described in template.h and ai-prompt(1).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/datadir.h"
#include "core/jdom.h"
#include "core/sha256.h"
#include "core/utf8.h"
#include "template.h"

#define TEMPLATE_MAX	((size_t)16 << 20)

static int
read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	struct buf b = BUF_INIT(TEMPLATE_MAX);
	char chunk[8192];
	size_t k;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((k = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, k) == -1) {
			snprintf(err, errlen, "%s: larger than %zu bytes", path,
			    TEMPLATE_MAX);
			goto fail;
		}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(fp);
	if (buf_reserve(&b, 0) == -1)
		goto fail;
	*out = buf_detach(&b, len);
	if (*out == NULL)
		*out = strdup("");
	return *out == NULL ? -1 : 0;
fail:
	fclose(fp);
	buf_release(&b);
	return -1;
}

/* Is the line s[0..len) (no newline) a marker?  Set role, or partial name. */
static int
marker(const char *s, size_t len, char *role, size_t rolelen,
    const char **pname, size_t *pnamelen)
{
	static const char *const roles[] = { "system", "user", "assistant",
	    "partial" };
	size_t i, k;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\r'))
		len--;
	if (len < 5 || memcmp(s, "--- ", 4) != 0)
		return 0;
	s += 4;
	len -= 4;
	for (i = 0; i < 4; i++) {
		k = strlen(roles[i]);
		if (len < k || memcmp(s, roles[i], k) != 0)
			continue;
		if (i < 3 && len == k) {
			snprintf(role, rolelen, "%s", roles[i]);
			return 1;
		}
		if (i == 3 && len > k + 1 && s[k] == ' ') {
			*pname = s + k + 1;
			*pnamelen = len - k - 1;
			while (**pname == ' ') {
				(*pname)++;
				(*pnamelen)--;
			}
			if (*pnamelen == 0 || memchr(*pname, ' ', *pnamelen))
				return 0;
			snprintf(role, rolelen, "partial");
			return 1;
		}
	}
	return 0;
}

static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int k;

	k = snprintf(err, errlen, "%s: ", path);
	if (k < 0 || (size_t)k >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + k, errlen - k, fmt, ap);
	va_end(ap);
	return -1;
}

/* A header line "key: value". */
static int
header(struct template *t, const char *s, size_t len, unsigned line,
    char *err, size_t errlen)
{
	const char *colon = memchr(s, ':', len), *v;
	size_t klen, vlen;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\r'))
		len--;
	if (len == 0 || s[0] == '#')
		return 0;
	if (colon == NULL)
		return fail(err, errlen, t->path, "line %u: want 'key: value' "
		    "or a line '--- user' before the first message", line);
	klen = colon - s;
	v = colon + 1;
	vlen = len - klen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	if (klen == 11 && memcmp(s, "description", 11) == 0) {
		free(t->description);
		t->description = strndup(v, vlen);
		return t->description == NULL ? -1 : 0;
	}
	if (klen == 8 && memcmp(s, "requires", 8) == 0) {
		while (vlen > 0) {
			size_t w = 0;
			char **nr;

			while (w < vlen && v[w] != ' ' && v[w] != '\t' &&
			    v[w] != ',')
				w++;
			if (w > 0) {
				nr = realloc(t->requires, (t->nrequires + 1) *
				    sizeof(*nr));
				if (nr == NULL)
					return -1;
				t->requires = nr;
				if ((nr[t->nrequires] = strndup(v, w)) == NULL)
					return -1;
				t->nrequires++;
			}
			while (w < vlen && (v[w] == ' ' || v[w] == '\t' ||
			    v[w] == ','))
				w++;
			v += w;
			vlen -= w;
		}
		return 0;
	}
	return fail(err, errlen, t->path, "line %u: unknown header '%.*s'",
	    line, (int)klen, s);
}

/* Body text: drop trailing blank lines, keep one final newline. */
static size_t
body_len(const char *s, size_t len)
{
	size_t end = len;

	while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r' ||
	    s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	if (end == 0)
		return 0;
	while (end < len && s[end] != '\n')
		end++;
	return end < len ? end + 1 : end;
}

static int
add_section(struct template *t, const char *role, const char *pname,
    size_t pnamelen, const char *body, size_t len, unsigned line0,
    char *err, size_t errlen)
{
	char cerr[512];

	len = body_len(body, len);
	if (strcmp(role, "partial") == 0) {
		struct template_part *np = realloc(t->parts, (t->nparts + 1) *
		    sizeof(*np));

		if (np == NULL)
			return -1;
		t->parts = np;
		np = &t->parts[t->nparts];
		memset(np, 0, sizeof(*np));
		if ((np->name = strndup(pname, pnamelen)) == NULL ||
		    (np->src = malloc(len + 1)) == NULL) {
			free(np->name);
			return -1;
		}
		memcpy(np->src, body, len);
		np->src[len] = '\0';
		np->len = len;
		np->inline_ = 1;
		t->nparts++;
		/* Compile it once now, for its syntax errors and their lines. */
		struct mustache *m = mustache_compile(body, len, line0, cerr,
		    sizeof(cerr));
		if (m == NULL)
			return fail(err, errlen, t->path, "%s", cerr);
		mustache_free(m);
		return 0;
	}
	struct template_msg *nm = realloc(t->msgs, (t->nmsgs + 1) *
	    sizeof(*nm));

	if (nm == NULL)
		return -1;
	t->msgs = nm;
	nm = &t->msgs[t->nmsgs];
	snprintf(nm->role, sizeof(nm->role), "%s", role);
	if ((nm->tpl = mustache_compile(body, len, line0, cerr,
	    sizeof(cerr))) == NULL)
		return fail(err, errlen, t->path, "%s", cerr);
	t->nmsgs++;
	return 0;
}

/* Is name a safe relative path inside the template directory? */
static int
safe_name(const char *name, size_t len)
{
	size_t i = 0, seg;

	if (len == 0 || name[0] == '/' || memchr(name, '\0', len) != NULL)
		return 0;
	while (i < len) {
		seg = 0;
		while (i + seg < len && name[i + seg] != '/')
			seg++;
		if (seg == 0 || (seg == 1 && name[i] == '.') ||
		    (seg == 2 && name[i] == '.' && name[i + 1] == '.'))
			return 0;
		i += seg + 1;
	}
	return 1;
}

static int
load_partial(void *arg, const char *name, size_t len, const char **src,
    size_t *srclen, char *err, size_t errlen)
{
	struct template *t = arg;
	struct template_part *np;
	char path[PATH_MAX + 64], real[PATH_MAX], realdir[PATH_MAX];
	char *text;
	size_t i, tlen, dlen;

	for (i = 0; i < t->nparts; i++)
		if (strlen(t->parts[i].name) == len &&
		    memcmp(t->parts[i].name, name, len) == 0) {
			*src = t->parts[i].src;
			*srclen = t->parts[i].len;
			return 1;
		}
	if (t->dir == NULL)
		return 0;
	if (!safe_name(name, len)) {
		snprintf(err, errlen, "partial '%.*s' is outside the template "
		    "directory", (int)len, name);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%.*s.mustache", t->dir, (int)len,
	    name);
	if (realpath(path, real) == NULL)
		return 0;	/* no such partial: "" as Mustache says */
	if (realpath(t->dir, realdir) == NULL)
		return 0;
	dlen = strlen(realdir);
	if (strncmp(real, realdir, dlen) != 0 || real[dlen] != '/') {
		snprintf(err, errlen, "partial '%.*s' is outside the template "
		    "directory", (int)len, name);
		return -1;
	}
	if (read_file(real, &text, &tlen, err, errlen) == -1)
		return -1;
	np = realloc(t->parts, (t->nparts + 1) * sizeof(*np));
	if (np == NULL || (np[t->nparts].name = strndup(name, len)) == NULL) {
		if (np != NULL)
			t->parts = np;
		free(text);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->parts = np;
	np[t->nparts].src = text;
	np[t->nparts].len = tlen;
	np[t->nparts].inline_ = 0;
	t->nparts++;
	*src = text;
	*srclen = tlen;
	return 1;
}

struct template *
template_parse(const char *name, const char *path, const char *src,
    size_t len, const char *dir, char *err, size_t errlen)
{
	struct template *t;
	char role[16] = "", nrole[16];
	const char *body = NULL, *pname = NULL, *npname = NULL;
	size_t i = 0, e, pnamelen = 0, npnamelen = 0;
	unsigned line = 0, bodyline = 0;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->path, sizeof(t->path), "%s", path);
	if ((i = utf8_valid_prefix(src, len)) < len) {
		for (e = 0; e < i; e++)
			line += src[e] == '\n';
		fail(err, errlen, path, "line %u: invalid UTF-8", line + 1);
		free(t);
		return NULL;
	}
	line = 0;
	i = 0;
	sha256_hex(src, len, t->sha256);
	mustache_env_init(&t->env);
	t->env.load = load_partial;
	t->env.load_arg = t;
	if (dir != NULL && (t->dir = strdup(dir)) == NULL)
		goto oom;
	while (i <= len) {
		const char *nl = i < len ? memchr(src + i, '\n', len - i) : NULL;

		e = nl == NULL ? len : (size_t)(nl - src);
		line++;
		if (i < len && marker(src + i, e - i, nrole, sizeof(nrole),
		    &npname, &npnamelen)) {
			if (role[0] != '\0' && add_section(t, role, pname,
			    pnamelen, body, src + i - body, bodyline, err,
			    errlen) == -1)
				goto fail;
			snprintf(role, sizeof(role), "%s", nrole);
			pname = npname;
			pnamelen = npnamelen;
			body = nl == NULL ? src + len : nl + 1;
			bodyline = line + 1;
		} else if (role[0] == '\0' && i < len &&
		    header(t, src + i, e - i, line, err, errlen) == -1)
			goto fail;
		if (nl == NULL)
			break;
		i = e + 1;
	}
	if (role[0] != '\0' && add_section(t, role, pname, pnamelen, body,
	    src + len - body, bodyline, err, errlen) == -1)
		goto fail;
	if (t->nmsgs == 0) {
		fail(err, errlen, path, "no messages (a line '--- user' starts"
		    " one)");
		goto fail;
	}
	return t;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	template_free(t);
	return NULL;
}

static int
valid_template_name(const char *s)
{
	if (*s == '\0' || *s == '.')
		return 0;
	for (; *s != '\0'; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' ||
		    (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z')))
			return 0;
	return 1;
}

static struct template *
load_path(const char *name, const char *path, char *err, size_t errlen)
{
	struct template *t;
	char *src, *dir, *slash;
	size_t len;

	if (read_file(path, &src, &len, err, errlen) == -1)
		return NULL;
	if ((dir = strdup(path)) == NULL) {
		free(src);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, strlen(dir) + 1, ".");
	err[0] = '\0';
	t = template_parse(name, path, src, len, dir, err, errlen);
	free(src);
	free(dir);
	return t;
}

struct template *
template_load(const char *spec, char *err, size_t errlen)
{
	char path[PATH_MAX], name[256], rel[300];
	const char *base, *e, *home;
	size_t n;

	n = strlen(spec);
	if (strchr(spec, '/') != NULL ||
	    (n > 7 && strcmp(spec + n - 7, ".prompt") == 0)) {
		base = strrchr(spec, '/');
		base = base == NULL ? spec : base + 1;
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(base) >= 7 &&
		    strcmp(base + strlen(base) - 7, ".prompt") == 0 ?
		    strlen(base) - 7 : strlen(base)), base);
		return load_path(name, spec, err, errlen);
	}
	if (!valid_template_name(spec)) {
		snprintf(err, errlen, "template name '%s' is not valid (letters,"
		    " digits, '.', '-', '_')", spec);
		return NULL;
	}
	if ((e = getenv("XDG_CONFIG_HOME")) != NULL && *e != '\0')
		snprintf(path, sizeof(path), "%s/ai-tools/templates/%s.prompt",
		    e, spec);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		snprintf(path, sizeof(path),
		    "%s/.config/ai-tools/templates/%s.prompt", home, spec);
	else
		path[0] = '\0';
	if (path[0] != '\0' && access(path, F_OK) == 0)
		return load_path(spec, path, err, errlen);
	snprintf(rel, sizeof(rel), "templates/%s.prompt", spec);
	if (datadir_find(rel, path, sizeof(path)) == 0)
		return load_path(spec, path, err, errlen);
	snprintf(err, errlen, "template '%s' not found (looked in "
	    "$XDG_CONFIG_HOME/ai-tools/templates and the built-in templates)",
	    spec);
	return NULL;
}

void
template_free(struct template *t)
{
	size_t i;

	if (t == NULL)
		return;
	mustache_env_release(&t->env);
	for (i = 0; i < t->nmsgs; i++)
		mustache_free(t->msgs[i].tpl);
	for (i = 0; i < t->nparts; i++) {
		free(t->parts[i].name);
		free(t->parts[i].src);
	}
	for (i = 0; i < t->nrequires; i++)
		free(t->requires[i]);
	free(t->requires);
	free(t->msgs);
	free(t->parts);
	free(t->dir);
	free(t->description);
	free(t);
}

int
template_uses(const struct template *t, const char *name)
{
	size_t i;
	char err[16];

	for (i = 0; i < t->nmsgs; i++)
		if (mustache_uses(t->msgs[i].tpl, name))
			return 1;
	for (i = 0; i < t->nparts; i++) {
		struct mustache *m;
		int used;

		if (!t->parts[i].inline_)
			continue;
		m = mustache_compile(t->parts[i].src, t->parts[i].len, 1, err,
		    sizeof(err));
		used = m != NULL && mustache_uses(m, name);
		mustache_free(m);
		if (used)
			return 1;
	}
	return 0;
}

void
template_out_init(struct template_out *out)
{
	memset(out, 0, sizeof(*out));
	buf_init(&out->text, 0);
}

void
template_out_release(struct template_out *out)
{
	buf_release(&out->text);
	free(out->msgs);
	template_out_init(out);
}

int
template_render_dom(struct template *t, const struct jval *const *stack,
    size_t n, struct template_out *out)
{
	struct buf *b = &out->text;
	size_t i, off;

	buf_reset(b);
	out->n = 0;
	if (out->cap < t->nmsgs) {
		void *nm = realloc(out->msgs, t->nmsgs * sizeof(*out->msgs));

		if (nm == NULL) {
			snprintf(t->errmsg, sizeof(t->errmsg), "out of memory");
			return -1;
		}
		out->msgs = nm;
		out->cap = t->nmsgs;
	}
	for (i = 0; i < t->nmsgs; i++) {
		off = b->len;
		if (mustache_render_dom(&t->env, t->msgs[i].tpl, stack, n, b) ==
		    -1) {
			snprintf(t->errmsg, sizeof(t->errmsg), "template '%s', "
			    "%s message: %s", t->name, t->msgs[i].role,
			    t->env.errmsg);
			return -1;
		}
		while (b->len > off && (b->data[b->len - 1] == '\n' ||
		    b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t' ||
		    b->data[b->len - 1] == '\r'))
			b->len--;
		if (b->len == off)
			continue;
		out->msgs[out->n].role = t->msgs[i].role;
		out->msgs[out->n].off = off;
		out->msgs[out->n].len = b->len - off;
		out->n++;
	}
	return 0;
}

int
template_render(struct template *t, const json_t *const *stack, size_t n,
    json_t **out)
{
	const struct jval **frames = calloc(n + 1, sizeof(*frames));
	struct template_out r;
	struct jdom d;
	json_t *msgs = NULL;
	size_t i;
	int rc = -1;

	jdom_init(&d);
	template_out_init(&r);
	for (i = 0; frames != NULL && i < n; i++)
		if ((frames[i] = jdom_from_json(&d, stack[i])) == NULL)
			break;
	if (frames == NULL || i < n)
		snprintf(t->errmsg, sizeof(t->errmsg), "out of memory");
	else if (template_render_dom(t, frames, n, &r) == 0 &&
	    (msgs = json_array()) != NULL) {
		/* Valid UTF-8: template and values are, and so is any join. */
		for (i = 0; i < r.n; i++)
			json_array_append_new(msgs, json_pack("{s:s, s:o}",
			    "role", r.msgs[i].role, "content",
			    json_stringn_nocheck(r.text.data + r.msgs[i].off,
			    r.msgs[i].len)));
		*out = msgs;
		rc = 0;
	}
	free(frames);
	template_out_release(&r);
	jdom_release(&d);
	return rc;
}
