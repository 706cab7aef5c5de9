/*
 * route.h - which model answers a record: rules chosen before the
 * request (--route FILE) and checks on the answer that send it down a
 * cascade of models (--cascade A,B,... --accept CHECKS).
 *
 * Acceptance checks.  --accept takes a comma-separated list:
 *
 *   schema        the answer parsed and matched --schema
 *   citations     it cites at least one passage and none that is missing
 *   no-refusal    it does not refuse or say it does not know
 *   min-words=N   it has at least N words
 *   max-words=N   it has at most N words
 *   judge>=X      a judge model grades it at least X, on the 0..1 scale
 *                 of ai-eval's judged metrics ((grade - 1) / 4)
 *
 * The judge is asked by the caller (it is a model request), after every
 * other check has passed; route_judge_check() compares its score.
 *
 * The trail.  Each record that went through a cascade carries
 *
 *   "route": {"tried": [MODEL...], "accepted_by": MODEL or null,
 *             "reasons": [{"model": MODEL, "reason": TEXT}...]}
 *
 * (plus "rule": N when a --route rule chose the first model).
 *
 * Rule files.  One rule a line, "MODEL CONDITION"; blank lines and lines
 * starting with '#' are ignored; the first rule whose condition holds
 * for the record chooses its model.  MODEL may be a cascade, A,B,...
 * Conditions:
 *
 *   tokens OP N          the prompt's tokens; OP is < <= > >= = !=
 *   field NAME = TEXT    the record's field NAME (a dotted path, a.b or
 *                        a.0 for an array element, as ndjson_lookup) is the
 *                        string TEXT, or the number or boolean it spells
 *   field NAME != TEXT   ... is not (a missing field is not TEXT)
 *   field NAME ~ REGEX   ... is a string that matches the POSIX extended
 *                        REGEX (the rest of the line)
 *   field NAME exists    ... is present and not null
 *   template NAME        ai-prompt's template.name (or "template") is NAME
 *   default              always; nothing may follow it
 */
#ifndef AI_ROUTE_H
#define AI_ROUTE_H

#include <regex.h>
#include <stddef.h>
#include <jansson.h>

struct buf;

enum {
	ACCEPT_SCHEMA		= 1 << 0,
	ACCEPT_CITATIONS	= 1 << 1,
	ACCEPT_NO_REFUSAL	= 1 << 2,
	ACCEPT_JUDGE		= 1 << 3
};

struct route_accept {
	unsigned	 checks;
	long		 min_words;	/* 0: no bound */
	long		 max_words;	/* 0: no bound */
	double		 judge_min;	/* ACCEPT_JUDGE: the least score */
};

/* Parse an --accept list into a.  0, or -1 with a message in err. */
int	route_accept_parse(struct route_accept *a, const char *spec,
	    char *err, size_t errlen);

/*
 * Judge an answer: text[0..len), its parsed JSON (NULL when there is no
 * --schema or it did not parse) and its grounding object (NULL when
 * citations were not checked).  1 when every check passes, 0 with the
 * first failing check's reason in why.  The judge is not asked here.
 */
int	route_accept_check(const struct route_accept *a, const char *text,
	    size_t len, const json_t *parsed, const json_t *grounding,
	    char *why, size_t whylen);

/*
 * The judge check: 1 when score (0..1) is at least a->judge_min, else 0
 * with "judge: SCORE < MIN" in why.
 */
int	route_judge_check(const struct route_accept *a, double score,
	    char *why, size_t whylen);

/* Does the answer refuse, or say that it (or its context) does not know? */
int	route_is_refusal(const char *text, size_t len);

/* Words in text: runs of bytes that are not ASCII white space. */
long	route_count_words(const char *text, size_t len);

/* The trail: a new {"tried": [], "accepted_by": null, "reasons": []}. */
json_t	*route_trail_new(void);

/* model was asked and rejected (or failed) because of why ("MODEL: "
   at its start is dropped). */
void	route_trail_reject(json_t *trail, const char *model, const char *why);

/* model was asked and its answer accepted. */
void	route_trail_accept(json_t *trail, const char *model);

/* Append "MODEL: REASON; MODEL: REASON" to out.  0, or -1 (full). */
int	route_trail_reasons(const json_t *trail, struct buf *out);

/* ---- rule files ---- */

enum route_kind {
	RULE_TOKENS,
	RULE_FIELD_EQ,
	RULE_FIELD_NE,
	RULE_FIELD_RE,
	RULE_FIELD_EXISTS,
	RULE_TEMPLATE,
	RULE_DEFAULT
};

enum route_op { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE };

struct route_rule {
	enum route_kind	 kind;
	char		*models;	/* "A" or "A,B,..." */
	char		*field;		/* RULE_FIELD_*: the path */
	char		*value;		/* _EQ, _NE, _RE, TEMPLATE: the text */
	enum route_op	 op;		/* RULE_TOKENS */
	long		 n;
	regex_t		 re;		/* RULE_FIELD_RE */
	unsigned long	 line;
};

struct route_rules {
	struct route_rule *r;
	size_t		 n, cap;
	char		 errmsg[512];	/* after -1: "FILE:LINE: what" */
};

void	route_rules_init(struct route_rules *);
void	route_rules_release(struct route_rules *);

/* Parse the rule file at path.  0, or -1 with errmsg "path:line: what". */
int	route_rules_load(struct route_rules *, const char *path);

/* Parse rules from text[0..len), named name in messages.  0 or -1. */
int	route_rules_parse(struct route_rules *, const char *text, size_t len,
	    const char *name);

/*
 * The first rule that holds for rec, whose prompt has tokens tokens;
 * NULL when none does.
 */
const struct route_rule *route_match(const struct route_rules *,
	    const json_t *rec, long tokens);

/* A rule's condition as written back, for --explain-route. */
int	route_rule_describe(const struct route_rule *, struct buf *out);

#endif
