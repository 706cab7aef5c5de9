/*
 * budget.h - a spending limit, for one run or shared through a ledger.
 *
 * ai-gen --max-cost USD stops sending requests once the run has spent
 * USD.  With --budget FILE the spending is kept in FILE, so several
 * processes (cron jobs, GNU parallel) draw on one budget: each check
 * and each charge takes an exclusive flock(2) on the file, reads it,
 * and writes it back, so concurrent runs never lose a charge.  The file
 * is created mode 0600 and holds one JSON object:
 *
 *	{"limit_usd":5,"spent_usd":1.2345,"requests":321}
 *
 * A limit given when the ledger is opened replaces the stored one; a
 * ledger opened without one keeps its stored limit (none: unlimited,
 * the ledger only counts).
 *
 * A check happens before a request is sent and a charge after its
 * answer arrives, so requests already in flight when the limit is
 * reached still finish and are charged: the overshoot is bounded by
 * what --jobs requests cost.
 */
#ifndef AI_BUDGET_H
#define AI_BUDGET_H

struct budget {
	int	 fd;		/* the ledger, or -1 for a run-only budget */
	char	*path;
	double	 limit;		/* USD; < 0: no limit */
	double	 spent;		/* USD, as of the last check or charge */
	long	 requests;
	char	 errmsg[512];
};

/*
 * A budget of limit USD (< 0: none).  path NULL: this process only.
 * Otherwise open or create the ledger at path.  0, or -1 with errmsg.
 */
int	budget_open(struct budget *, const char *path, double limit);
void	budget_close(struct budget *);

/* 1 when the limit is reached (spent >= limit), 0 when not, -1 on error. */
int	budget_exhausted(struct budget *);

/* Add usd for one request.  0, or -1 with errmsg set. */
int	budget_charge(struct budget *, double usd);

#endif
