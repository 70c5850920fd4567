/*
 * pacer report: the run report in the terminal. `pacer report RUN_DIR`
 * prints the verdict and the top lines of RUN_DIR/summary.json;
 * `pacer report --compare A B` compares two runs (objective, per-offer
 * sends and shadow prices, new and dropped assignments).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "pacer/str.h"
#include "pacer/report.h"
#include "pacer/solver.h"
#include "pacer/svg.h"

#define REPORT_TOP 10

/* A number for people, into buf (see svg_number). */
static const char *
report_cmd_num(double v, int decimals, char *buf, size_t len)
{
	return svg_number(v, decimals, buf, len);
}

/* Load RUN_DIR/summary.json (or a summary.json path) into run; 0 or -1. */
static int
report_cmd_load(const char *arg, struct report_run *run, char **dir)
{
	struct stat	 st;
	char		*path, *cause = NULL;
	size_t		 n;

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		path = str_printf("%s/summary.json", arg);
		*dir = strdup(arg);
	} else {
		/* A summary.json named directly: its folder is the run's. */
		path = strdup(arg);
		*dir = strdup(arg);
		if (*dir != NULL) {
			n = strlen(*dir);
			while (n > 0 && (*dir)[n - 1] != '/')
				n--;
			if (n == 0)
				strcpy(*dir, ".");
			else
				(*dir)[n > 1 ? n - 1 : 1] = '\0';
		}
	}
	if (path == NULL || *dir == NULL) {
		fprintf(stderr, "pacer report: out of memory\n");
		free(path);
		return -1;
	}
	if (report_load_summary(path, run, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* Order offers by expected value, largest first. */
static int
report_cmd_by_value(const void *a, const void *b)
{
	const struct report_offer *x = *(const struct report_offer *const *)a;
	const struct report_offer *y = *(const struct report_offer *const *)b;

	return (x->expected_value < y->expected_value) -
	    (x->expected_value > y->expected_value);
}

/* The run's figures: status, objective and bound, customers and sends. */
static void
report_cmd_head(const struct report_run *run)
{
	char	 a[64], b[64], c[64];

	printf("run %s  status %s  method %s\n", run->run_id, run->status,
	    run->method[0] ? run->method : "-");
	printf("objective %s  certified bound %s  gap %.4f%%  runtime %.2f s\n",
	    report_cmd_num(run->objective, 2, a, sizeof a),
	    report_cmd_num(solver_round_up(run->bound, 2), 2, b, sizeof b),
	    solver_round_up(100 * run->gap, 4),
	    run->runtime_s);
	if (run->exact_fallback)
		printf("scale mode stalled above the gap: exact mode on the whole "
		    "instance\n");
	if (run->publish_blocked[0] != '\0')
		printf("not published automatically: %s (pacer plan publish %s "
		    "--force)\n", run->publish_blocked, run->run_id);
	printf("customers %s  eligible pairs %s  planned sends %s\n",
	    report_cmd_num((double)run->customers, 0, a, sizeof a),
	    report_cmd_num((double)run->eligible_pairs, 0, b, sizeof b),
	    report_cmd_num((double)run->assignments, 0, c, sizeof c));
}

/* The first REPORT_TOP offers by expected value (none if out of memory). */
static void
report_cmd_top_offers(const struct report_run *run)
{
	const struct report_offer **order;
	char	 a[64], b[64], c[64];
	int	 i;

	if (run->noffers <= 0 || (order = calloc((size_t)run->noffers,
	    sizeof *order)) == NULL)
		return;
	for (i = 0; i < run->noffers; i++)
		order[i] = &run->offers[i];
	qsort(order, (size_t)run->noffers, sizeof *order, report_cmd_by_value);
	printf("\ntop offers by expected value%s\n", run->noffers >
	    REPORT_TOP ? " (first 10)" : "");
	printf("  %-24s %10s %14s %14s %12s %12s  %s\n", "offer", "sends",
	    "spend", "budget", "price/budget", "price/send", "binds");
	for (i = 0; i < run->noffers && i < REPORT_TOP; i++) {
		const struct report_offer *o = order[i];

		printf("  %-24s %10s %14s %14s %12.4f %12.4f  %s%s%s\n",
		    o->name, report_cmd_num((double)o->sends, 0, a, sizeof a),
		    report_cmd_num(o->spend, 2, b, sizeof b),
		    o->budget >= 0 ? report_cmd_num(o->budget, 2, c,
		    sizeof c) : "none", o->shadow_price_budget,
		    o->shadow_price_capacity,
		    o->budget_binding ? "budget" : "",
		    o->budget_binding && o->capacity_binding ? "," : "",
		    o->capacity_binding ? "capacity" : "");
	}
	free(order);
}

/* Customers with nothing planned, by reason, and each channel's sends. */
static void
report_cmd_nothing(const struct report_run *run)
{
	char	 a[64], b[64], c[64];
	long	 nothing = 0;
	int	 i;

	for (i = 0; i < REPORT_NOTHING_NREASONS; i++)
		nothing += run->nothing[i];
	printf("\ncustomers with nothing planned: %s", report_cmd_num(
	    (double)nothing, 0, a, sizeof a));
	for (i = 0; i < REPORT_NOTHING_NREASONS; i++)
		if (run->nothing[i] > 0)
			printf("  %s %s", report_nothing_name(i), report_cmd_num(
			    (double)run->nothing[i], 0, a, sizeof a));
	printf("\n");
	for (i = 0; i < run->nchannels; i++)
		printf("channel %-10s sends %s  at cap before %s, after %s\n",
		    run->channels[i].name, report_cmd_num(
		    (double)run->channels[i].sends, 0, a, sizeof a),
		    report_cmd_num((double)run->channels[i].saturated_before, 0,
		    b, sizeof b), report_cmd_num(
		    (double)run->channels[i].saturated_after, 0, c, sizeof c));
}

/* The segments flagged below 4/5 of the highest allocation rate. */
static void
report_cmd_flags(const struct report_run *run)
{
	char	 a[64], b[64], d[64];
	int	 i, nflag = 0;

	for (i = 0; i < run->nsegments; i++) {
		const struct report_segment *s = &run->segments[i];

		if (!s->flagged)
			continue;
		if (nflag++ == 0)
			printf("\nfairness flags (allocation rate below 4/5 of the "
			    "highest):\n");
		printf("  %-20s %s of %s allocated (%.1f%%)  mean EV %s\n",
		    s->name, report_cmd_num((double)s->allocated, 0, a, sizeof a),
		    report_cmd_num((double)s->customers, 0, b, sizeof b),
		    s->customers > 0 ? 100.0 * (double)s->allocated /
		    (double)s->customers : 0.0,
		    report_cmd_num(s->mean_expected_value, 3, d, sizeof d));
	}
}

/* Print the verdict and the top lines of one run. */
static void
report_cmd_show(const struct report_run *run)
{
	report_cmd_head(run);
	report_cmd_top_offers(run);
	report_cmd_nothing(run);
	report_cmd_flags(run);
	if (run->previous_run_id[0] != '\0')
		printf("\nprevious run: %s (pacer report --compare to see the "
		    "changes)\n", run->previous_run_id);
}

/* Print the comparison of two runs. */
static void
report_cmd_compare(const struct report_changes *ch)
{
	char	 a[64], b[64], c[64];
	int	 i;

	printf("compare %s -> %s\n", ch->before_id, ch->after_id);
	printf("objective %s -> %s (%s%s)\n",
	    report_cmd_num(ch->objective_before, 2, a, sizeof a),
	    report_cmd_num(ch->objective_after, 2, b, sizeof b),
	    ch->objective_after >= ch->objective_before ? "+" : "",
	    report_cmd_num(ch->objective_after - ch->objective_before, 2, c,
	    sizeof c));
	printf("planned sends %ld -> %ld", ch->assignments_before,
	    ch->assignments_after);
	if (ch->new_assignments >= 0)
		printf("; new assignments %ld, dropped %ld\n",
		    ch->new_assignments, ch->dropped_assignments);
	else
		printf("; new/dropped assignments unknown (assignments.csv "
		    "missing)\n");
	printf("\n  %-24s %12s %10s %8s %14s %14s\n", "offer", "sends before",
	    "now", "change", "price before", "price now");
	for (i = 0; i < ch->noffers; i++) {
		const struct report_offer_change *o = &ch->offers[i];
		double pb = o->shadow_budget_before + o->shadow_capacity_before;
		double pa = o->shadow_budget_after + o->shadow_capacity_after;

		printf("  %-24s %12ld %10ld %+8ld %14.4f %14.4f%s\n", o->name,
		    o->sends_before, o->sends_after,
		    o->sends_after - o->sends_before, pb, pa,
		    !o->in_before ? "  (new offer)" :
		    (!o->in_after ? "  (no longer offered)" : ""));
	}
}

/* pacer report RUN_DIR | pacer report --compare A B */
int
cmd_report(int argc, char **argv)
{
	struct report_run	 a, b;
	struct report_changes	 ch;
	char			*da = NULL, *db = NULL, *cause = NULL;
	int			 rc = CMD_BAD_INPUT;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: pacer report RUN_DIR | pacer report --compare A B\n");
		return CMD_OK;
	}
	if (argc == 2 && argv[1][0] != '-') {
		if (report_cmd_load(argv[1], &a, &da) != 0)
			goto out;
		report_cmd_show(&a);
		rc = CMD_OK;
		goto out;
	}
	if (argc == 4 && !strcmp(argv[1], "--compare")) {
		if (report_cmd_load(argv[2], &a, &da) != 0 ||
		    report_cmd_load(argv[3], &b, &db) != 0)
			goto out;
		if (report_compare(&a, da, &b, db, &ch, &cause) != 0) {
			fprintf(stderr, "%s\n", cause);
			free(cause);
			goto out;
		}
		report_cmd_compare(&ch);
		report_changes_free(&ch);
		rc = CMD_OK;
		goto out;
	}
	fprintf(stderr, "usage: pacer report RUN_DIR | pacer report --compare "
	    "A B\n");
out:
	report_free(&a);
	report_free(&b);
	free(da);
	free(db);
	return rc;
}
