/*
 * ratelimit.c - a token bucket, as the public API uses per customer key.
 */
#include <stdint.h>

struct bucket {
	double	tokens;		/* tokens available now */
	double	rate;		/* tokens added per second */
	double	burst;		/* most tokens the bucket holds */
	double	last;		/* time of the last refill, seconds */
};

static void
bucket_refill(struct bucket *b, double now)
{
	b->tokens += (now - b->last) * b->rate;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last = now;
}

/* Take one token; return 0 when allowed, or the seconds to wait. */
double
bucket_take(struct bucket *b, double now)
{
	bucket_refill(b, now);
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	return (1.0 - b->tokens) / b->rate;
}

int
bucket_init(struct bucket *b, double per_minute, double burst, double now)
{
	if (per_minute <= 0 || burst < 1)
		return -1;
	b->rate = per_minute / 60.0;
	b->burst = burst;
	b->tokens = burst;
	b->last = now;
	return 0;
}
