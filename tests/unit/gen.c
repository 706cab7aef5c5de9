/*
 * gen.c - unit tests for lib/gen: the extractive generator.
 */
#include <stdlib.h>

#include "core/buf.h"
#include "gen/extractive.h"
#include "tap.h"

static struct buf out = BUF_INIT(0);

/* Answer a system + user conversation; return extractive_answer's rc. */
static int
answer(const char *system, const char *user)
{
	struct extractive_opts o = EXTRACTIVE_OPTS_INIT;
	json_t *m = json_array();
	int rc;

	if (system != NULL)
		json_array_append_new(m, json_pack("{s:s, s:s}", "role",
		    "system", "content", system));
	json_array_append_new(m, json_pack("{s:s, s:s}", "role", "user",
	    "content", user));
	buf_reset(&out);
	rc = extractive_answer(&out, m, &o);
	buf_putc(&out, '\0');
	json_decref(m);
	return rc;
}

static const char *ctx =
    "Answer from the context and cite passages as [n].\n\n"
    "Context:\n"
    "[1] handbook/key-rotation.md\n"
    "# Key rotation\n"
    "Service keys are rotated every 90 days. The rotation is done by the\n"
    "platform team, e.g. by Dr. Lee, with larkctl.\n"
    "\n"
    "After the new key is promoted, the old key stays valid for 24 hours.\n"
    "[2] handbook/backups.md\n"
    "All production databases are backed up automatically.\n"
    "- Redis sessions are snapshotted every 6 hours.\n"
    "```sh\n"
    "larkctl keys rotate --every 90 days is not prose.\n"
    "```\n";

static void
test_answers(void)
{
	struct buf u = BUF_INIT(0);

	buf_printf(&u, "%s\nQuestion: How often are service keys rotated?\n"
	    "Answer:", ctx);
	is_int(answer(NULL, u.data), 1, "answers from the context");
	is_str(out.data, "Service keys are rotated every 90 days [1].",
	    "the supporting sentence, with its citation");

	is_int(answer(ctx, "How long does the old key stay valid after"
	    " promoting the new key?"), 1, "context in the system message");
	is_str(out.data, "After the new key is promoted, the old key stays"
	    " valid for 24 hours [1].", "stemming joins promoting/promoted");

	is_int(answer(ctx, "How often are Redis sessions snapshotted?"), 1,
	    "a list item is a sentence");
	is_str(out.data, "Redis sessions are snapshotted every 6 hours [2].",
	    "its list marker is dropped, its passage cited");

	is_int(answer(ctx, "Which team does the rotation?"), 1,
	    "abbreviations");
	ok(strstr(out.data, "platform team, e.g. by Dr. Lee, with larkctl"
	    " [1].") != NULL, "'e.g.' and 'Dr.' do not end a sentence");

	is_int(answer(ctx, "What is the capital of France?"), 0,
	    "nothing supports the question");
	is_str(out.data, EXTRACTIVE_UNKNOWN, "it says it does not know");

	buf_reset(&u);
	buf_printf(&u, "%s\nHow often are keys rotated?", ctx);
	is_int(answer(NULL, u.data), 1, "unlabelled last paragraph");
	ok(strncmp(out.data, "Service keys are rotated every 90 days [1].",
	    43) == 0, "is the question");

	is_int(answer(NULL, "How often are keys rotated?"), 0,
	    "no context at all");
	is_int(answer(ctx, "larkctl keys rotate every"), 1, "code blocks");
	ok(strstr(out.data, "not prose") == NULL, "are never quoted");
	buf_release(&u);
}

static void
test_content(void)
{
	struct extractive_opts o = EXTRACTIVE_OPTS_INIT;
	json_t *m;

	m = json_loads("[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
	    "\"text\":\"[3] The cache holds entries for ten minutes.\"},"
	    "{\"type\":\"text\",\"text\":\"Question: how long are cache"
	    " entries held?\"}]}]", 0, NULL);
	buf_reset(&out);
	is_int(extractive_answer(&out, m, &o), 1, "content as parts");
	buf_putc(&out, '\0');
	is_str(out.data, "The cache holds entries for ten minutes [3].",
	    "parts are joined");
	json_decref(m);

	m = json_array();
	buf_reset(&out);
	is_int(extractive_answer(&out, m, &o), 0, "no messages");
	json_decref(m);
}

static void
test_deterministic(void)
{
	struct buf a = BUF_INIT(0);

	answer(ctx, "How long is the old key valid, and how often are"
	    " keys rotated?");
	buf_puts(&a, out.data);
	answer(ctx, "How long is the old key valid, and how often are"
	    " keys rotated?");
	is_str(out.data, a.data, "the same messages give the same answer");
	ok(strstr(a.data, "[1]") != NULL, "with citations");
	buf_release(&a);
}

static void
test_tables_and_numbers(void)
{
	const char *tctx =
	    "[1] handbook/backups.md\n"
	    "This page explains what is kept, for how long, and how to"
	    " restore.\n\n"
	    "| Store            | Frequency     | Retention |\n"
	    "|------------------|---------------|-----------|\n"
	    "| Primary Postgres | continuous    | 35 days   |\n"
	    "| Redis sessions   | every 6 hours | 7 days    |\n"
	    "\n"
	    "[2] handbook/logging.md\n"
	    "The shipper keeps logs for 30 days in the log store.\n";

	is_int(answer(tctx, "What is the retention of Redis sessions?"), 1,
	    "a table row answers");
	is_str(out.data, "Store: Redis sessions; Frequency: every 6 hours;"
	    " Retention: 7 days [1].",
	    "a row reads with its column names, the header is no candidate");
	answer(tctx, "How long are logs kept in the log store?");
	is_str(out.data, "The shipper keeps logs for 30 days in the log store"
	    " [2].", "'kept' finds 'keeps'; a number is preferred for 'how"
	    " long'");
}

static void
test_code(void)
{
	const char *cctx =
	    "[1] (code/rotate-keys.sh)\n"
	    "rotate keys every 90 days with larkctl keys rotate now\n"
	    "\n"
	    "[2] (handbook/keys.md)\n"
	    "Run service=${1:?usage} to rotate keys every day.\n"
	    "Keys are rotated every 90 days by the platform team.\n";

	is_int(answer(cctx, "How often are keys rotated?"), 1, "code");
	is_str(out.data, "Keys are rotated every 90 days by the platform team"
	    " [2].", "a source file's passage and a line of shell are not"
	    " quoted");
}

int
main(void)
{
	test_answers();
	test_content();
	test_deterministic();
	test_tables_and_numbers();
	test_code();
	buf_release(&out);
	return done_testing();
}
