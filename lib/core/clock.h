/*
 * clock.h - a clock's reading in seconds, as a double.
 *
 * Durations (latency, back-off, idle timers, progress) are measured on
 * CLOCK_MONOTONIC, which no clock adjustment moves; CPU time on the
 * process or thread CPU clocks.
 */
#ifndef AI_CORE_CLOCK_H
#define AI_CORE_CLOCK_H

#include <time.h>

static inline double
clock_seconds(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) == -1)
		return 0;
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds on the monotonic clock: subtract two readings. */
static inline double
mono_seconds(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

#endif
