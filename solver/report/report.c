/*
 * report.c: the run report (include/pacer/report.h): summary.json through
 * jansson, the comparison of two runs, and finding the previous run. The
 * HTML page is drawn in report_html.c.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "pacer/csv.h"
#include "pacer/report.h"
#include "pacer/solver.h"
#include "pacer/str.h"
#include "report_int.h"

#define REPORT_JSON_DIGITS	12	/* significant digits of summary.json */

static const char *const report_nothing_names[REPORT_NOTHING_NREASONS] = {
	"no_consent", "saturated", "holdout", "suppressed", "not_worth_cost",
	"budget_exhausted",
};

/* Name of a nothing-reason as summary.json spells it ("no_consent"). */
const char *
report_nothing_name(enum report_nothing r)
{
	if ((int)r < 0 || r >= REPORT_NOTHING_NREASONS)
		return "unknown";
	return report_nothing_names[r];
}

/* Release the arrays of run (not the struct) and zero it; accepts NULL. */
void
report_free(struct report_run *run)
{
	if (run == NULL)
		return;
	free(run->offers);
	free(run->campaigns);
	free(run->segments);
	free(run->fairness);
	free(run->iterations);
	memset(run, 0, sizeof *run);
}

/* Release the arrays of changes and zero it; accepts NULL. */
void
report_changes_free(struct report_changes *changes)
{
	if (changes == NULL)
		return;
	free(changes->offers);
	memset(changes, 0, sizeof *changes);
}

/* A segment's allocation rate (allocated / customers), 0 when empty. */
double
report_segment_rate(const struct report_segment *s)
{
	return s->customers > 0 ? (double)s->allocated / (double)s->customers : 0;
}

/* The highest allocation rate of any non-empty segment. */
double
report_highest_rate(const struct report_run *run)
{
	double	 best = 0;
	int	 i;

	for (i = 0; i < run->nsegments; i++)
		if (run->segments[i].customers > 0 &&
		    report_segment_rate(&run->segments[i]) > best)
			best = report_segment_rate(&run->segments[i]);
	return best;
}

/* Whether segment i's allocation rate is below 4/5 of the highest one's. */
int
report_segment_flagged(const struct report_run *run, int i)
{
	const struct report_segment *s;

	if (i < 0 || i >= run->nsegments)
		return 0;
	s = &run->segments[i];
	/* An empty segment has no rate to be unfair about. */
	if (s->customers <= 0)
		return 0;
	/* The four-fifths rule, compared without rounding: 5 r < 4 max. */
	return 5.0 * report_segment_rate(s) < 4.0 * report_highest_rate(run);
}

/* Total customers who got nothing, over every reason. */
long
report_nothing_total(const struct report_run *run)
{
	long	 n = 0;
	int	 i;

	for (i = 0; i < REPORT_NOTHING_NREASONS; i++)
		n += run->nothing[i];
	return n;
}

/* The parent folder of dir (caller frees); "." when it has none. */
char *
report_parent(const char *dir)
{
	size_t	 n = strlen(dir);
	char	*p;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	while (n > 0 && dir[n - 1] != '/')
		n--;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 0)
		return str_printf(".");
	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, dir, n);
	p[n] = '\0';
	return p;
}

/* The last path component of dir, into buf. */
static void
report_basename(const char *dir, char *buf, size_t len)
{
	size_t	 n = strlen(dir), start;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	start = n;
	while (start > 0 && dir[start - 1] != '/')
		start--;
	if (n - start >= len)
		n = start + len - 1;
	memcpy(buf, dir + start, n - start);
	buf[n - start] = '\0';
}

/* A real number as JSON; null for NaN or infinities. */
static json_t *
report_jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The [fairness] rows as a JSON array (new reference). */
static json_t *
report_fairness_json(const struct report_run *run)
{
	json_t	*a = json_array(), *fj;
	int	 i;

	for (i = 0; i < run->nfairness; i++) {
		const struct report_fairness *f = &run->fairness[i];

		fj = json_object();
		json_object_set_new(fj, "segment", json_string(f->segment));
		json_object_set_new(fj, "customers", json_integer(f->customers));
		json_object_set_new(fj, "sends", json_integer(f->sends));
		json_object_set_new(fj, "sends_per_customer",
		    report_jreal(f->sends_per_customer));
		json_object_set_new(fj, "base_sends_per_customer",
		    report_jreal(f->base_sends_per_customer));
		json_object_set_new(fj, "min_ratio", report_jreal(f->min_ratio));
		json_object_set_new(fj, "required_sends_per_customer",
		    report_jreal(f->min_ratio * f->base_sends_per_customer));
		json_object_set_new(fj, "binding", json_boolean(f->binding));
		json_object_set_new(fj, "shadow_price",
		    report_jreal(f->shadow_price));
		json_array_append_new(a, fj);
	}
	return a;
}

/* The run's creation time as ISO 8601 UTC into buf. */
static void
report_iso(int64_t t, char *buf, size_t len)
{
	time_t	 tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "unknown");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The JSON of one offer. */
static json_t *
report_offer_json(const struct report_offer *o)
{
	json_t	*j = json_object(), *bind = json_array();
	double	 sp;

	/* One "shadow_price" as SPEC names it: the budget's when it has one. */
	sp = o->budget >= 0 ? o->shadow_price_budget :
	    (o->capacity >= 0 ? o->shadow_price_capacity : 0);
	json_object_set_new(j, "name", json_string(o->name));
	json_object_set_new(j, "channel", json_string(o->channel));
	json_object_set_new(j, "campaign", json_string(o->campaign));
	json_object_set_new(j, "category", json_string(o->category));
	json_object_set_new(j, "value", report_jreal(o->value));
	json_object_set_new(j, "cost", report_jreal(o->cost));
	json_object_set_new(j, "budget", o->budget >= 0 ?
	    report_jreal(o->budget) : json_null());
	json_object_set_new(j, "capacity", o->capacity >= 0 ?
	    json_integer(o->capacity) : json_null());
	json_object_set_new(j, "sends", json_integer(o->sends));
	json_object_set_new(j, "spend", report_jreal(o->spend));
	json_object_set_new(j, "expected_value", report_jreal(o->expected_value));
	json_object_set_new(j, "shadow_price", report_jreal(sp));
	json_object_set_new(j, "shadow_price_budget",
	    report_jreal(o->shadow_price_budget));
	json_object_set_new(j, "shadow_price_capacity",
	    report_jreal(o->shadow_price_capacity));
	json_object_set_new(j, "budget_binding", json_boolean(o->budget_binding));
	json_object_set_new(j, "capacity_binding",
	    json_boolean(o->capacity_binding));
	json_object_set_new(j, "budget_used", o->budget > 0 ?
	    report_jreal(o->spend / o->budget) : json_null());
	json_object_set_new(j, "capacity_used", o->capacity > 0 ?
	    report_jreal((double)o->sends / (double)o->capacity) : json_null());
	if (o->budget_binding)
		json_array_append_new(bind, json_string("budget"));
	if (o->capacity_binding)
		json_array_append_new(bind, json_string("capacity"));
	json_object_set_new(j, "binding", bind);
	return j;
}

/* The JSON of the comparison with a previous run. */
static json_t *
report_changes_json(const struct report_changes *c)
{
	json_t	*j = json_object(), *offers = json_array();
	int	 i;

	json_object_set_new(j, "previous_run_id", json_string(c->before_id));
	json_object_set_new(j, "objective_before", report_jreal(c->objective_before));
	json_object_set_new(j, "objective_after", report_jreal(c->objective_after));
	json_object_set_new(j, "objective_change",
	    report_jreal(c->objective_after - c->objective_before));
	json_object_set_new(j, "gap_before", report_jreal(c->gap_before));
	json_object_set_new(j, "gap_after", report_jreal(c->gap_after));
	json_object_set_new(j, "assignments_before",
	    json_integer(c->assignments_before));
	json_object_set_new(j, "assignments_after",
	    json_integer(c->assignments_after));
	json_object_set_new(j, "new_assignments", c->new_assignments >= 0 ?
	    json_integer(c->new_assignments) : json_null());
	json_object_set_new(j, "dropped_assignments",
	    c->dropped_assignments >= 0 ?
	    json_integer(c->dropped_assignments) : json_null());
	for (i = 0; i < c->noffers; i++) {
		const struct report_offer_change *o = &c->offers[i];
		json_t *oj = json_object();

		json_object_set_new(oj, "name", json_string(o->name));
		json_object_set_new(oj, "in_before", json_boolean(o->in_before));
		json_object_set_new(oj, "in_after", json_boolean(o->in_after));
		json_object_set_new(oj, "sends_before", json_integer(o->sends_before));
		json_object_set_new(oj, "sends_after", json_integer(o->sends_after));
		json_object_set_new(oj, "sends_change",
		    json_integer(o->sends_after - o->sends_before));
		json_object_set_new(oj, "shadow_price_budget_before",
		    report_jreal(o->shadow_budget_before));
		json_object_set_new(oj, "shadow_price_budget_after",
		    report_jreal(o->shadow_budget_after));
		json_object_set_new(oj, "shadow_price_capacity_before",
		    report_jreal(o->shadow_capacity_before));
		json_object_set_new(oj, "shadow_price_capacity_after",
		    report_jreal(o->shadow_capacity_after));
		json_array_append_new(offers, oj);
	}
	json_object_set_new(j, "offers", offers);
	return j;
}

/* The run's figures at the top of summary.json, set into j. */
static void
report_head_json(json_t *j, const struct report_run *run)
{
	char	 iso[64];

	json_object_set_new(j, "run_id", json_string(run->run_id));
	json_object_set_new(j, "previous_run_id", run->previous_run_id[0] ?
	    json_string(run->previous_run_id) : json_null());
	json_object_set_new(j, "created", json_integer(run->created));
	report_iso(run->created, iso, sizeof iso);
	json_object_set_new(j, "created_utc", json_string(iso));
	json_object_set_new(j, "runtime_s", report_jreal(run->runtime_s));
	json_object_set_new(j, "status", json_string(run->status));
	json_object_set_new(j, "method", json_string(run->method));
	json_object_set_new(j, "objective", report_jreal(run->objective));
	/* Rounded up at the precision written: still a bound. */
	json_object_set_new(j, "bound", report_jreal(solver_round_up_digits(
	    run->bound, REPORT_JSON_DIGITS)));
	json_object_set_new(j, "gap", report_jreal(solver_round_up_digits(
	    run->gap, REPORT_JSON_DIGITS)));
	json_object_set_new(j, "exact_fallback",
	    json_boolean(run->exact_fallback));
	json_object_set_new(j, "publish_needs_force", run->publish_blocked[0] ?
	    json_string(run->publish_blocked) : json_null());
	json_object_set_new(j, "customers", json_integer(run->customers));
	json_object_set_new(j, "eligible_pairs", json_integer(run->eligible_pairs));
	json_object_set_new(j, "assignments", json_integer(run->assignments));
}

/* Contacts per customer before and after the plan (new reference). */
static json_t *
report_hist_json(const struct report_run *run)
{
	json_t	*o = json_object(), *bins, *before, *after;
	char	 bin[16];
	int	 i;

	bins = json_array();
	before = json_array();
	after = json_array();
	for (i = 0; i < REPORT_HIST_BINS; i++) {
		snprintf(bin, sizeof bin, "%d%s", i,
		    i == REPORT_HIST_BINS - 1 ? "+" : "");
		json_array_append_new(bins, json_string(bin));
		json_array_append_new(before, json_integer(run->hist_before[i]));
		json_array_append_new(after, json_integer(run->hist_after[i]));
	}
	json_object_set_new(o, "bins", bins);
	json_object_set_new(o, "before", before);
	json_object_set_new(o, "after", after);
	return o;
}

/* The channels: sends, value and saturation (new reference). */
static json_t *
report_channels_json(const struct report_run *run)
{
	json_t	*a = json_array();
	int	 i;

	for (i = 0; i < run->nchannels; i++) {
		const struct report_channel *c = &run->channels[i];
		json_t *cj = json_object();

		json_object_set_new(cj, "name", json_string(c->name));
		json_object_set_new(cj, "sends", json_integer(c->sends));
		json_object_set_new(cj, "expected_value",
		    report_jreal(c->expected_value));
		json_object_set_new(cj, "saturated_before",
		    json_integer(c->saturated_before));
		json_object_set_new(cj, "saturated_after",
		    json_integer(c->saturated_after));
		json_object_set_new(cj, "saturation_before", run->customers > 0 ?
		    report_jreal((double)c->saturated_before /
		    (double)run->customers) : json_real(0));
		json_object_set_new(cj, "saturation_after", run->customers > 0 ?
		    report_jreal((double)c->saturated_after /
		    (double)run->customers) : json_real(0));
		json_array_append_new(a, cj);
	}
	return a;
}

/* The campaigns: sends and value (new reference). */
static json_t *
report_campaigns_json(const struct report_run *run)
{
	json_t	*a = json_array();
	int	 i;

	for (i = 0; i < run->ncampaigns; i++) {
		const struct report_campaign *c = &run->campaigns[i];
		json_t *cj = json_object();

		json_object_set_new(cj, "name", json_string(c->name));
		json_object_set_new(cj, "sends", json_integer(c->sends));
		json_object_set_new(cj, "expected_value",
		    report_jreal(c->expected_value));
		json_array_append_new(a, cj);
	}
	return a;
}

/* Why customers were planned nothing, per reason and in all. */
static json_t *
report_nothing_json(const struct report_run *run)
{
	json_t	*o = json_object();
	int	 i;

	for (i = 0; i < REPORT_NOTHING_NREASONS; i++)
		json_object_set_new(o, report_nothing_name(i),
		    json_integer(run->nothing[i]));
	json_object_set_new(o, "total", json_integer(report_nothing_total(run)));
	return o;
}

/* The segments' allocation rates, flagged below 0.8 x the highest. */
static json_t *
report_segments_json(const struct report_run *run)
{
	json_t	*a = json_array();
	int	 i;

	for (i = 0; i < run->nsegments; i++) {
		const struct report_segment *s = &run->segments[i];
		json_t *sj = json_object();

		json_object_set_new(sj, "name", json_string(s->name));
		json_object_set_new(sj, "customers", json_integer(s->customers));
		json_object_set_new(sj, "allocated", json_integer(s->allocated));
		json_object_set_new(sj, "allocation_rate",
		    report_jreal(report_segment_rate(s)));
		json_object_set_new(sj, "mean_expected_value",
		    report_jreal(s->mean_expected_value));
		json_object_set_new(sj, "caps", json_string(s->caps));
		json_object_set_new(sj, "exclude", json_string(s->exclude));
		json_object_set_new(sj, "flagged",
		    json_boolean(report_segment_flagged(run, i)));
		json_array_append_new(a, sj);
	}
	return a;
}

/* The solver's progress, one entry per iteration (new reference). */
static json_t *
report_iterations_json(const struct report_run *run)
{
	json_t	*a = json_array();
	int	 i;

	for (i = 0; i < run->niterations; i++) {
		const struct report_iteration *it = &run->iterations[i];
		json_t *ij = json_object();

		json_object_set_new(ij, "iteration", json_integer(it->iteration));
		json_object_set_new(ij, "elapsed_s", report_jreal(it->elapsed_s));
		json_object_set_new(ij, "objective", report_jreal(it->objective));
		json_object_set_new(ij, "bound", report_jreal(
		    solver_round_up_digits(it->bound, REPORT_JSON_DIGITS)));
		json_array_append_new(a, ij);
	}
	return a;
}

/* The whole summary.json document (caller decrefs). */
static json_t *
report_json(const struct report_run *run, const struct report_changes *changes,
    const char *changes_note)
{
	json_t	*j = json_object(), *a, *o;
	double	 top;

	report_head_json(j, run);
	a = json_array();
	for (int i = 0; i < run->noffers; i++)
		json_array_append_new(a, report_offer_json(&run->offers[i]));
	json_object_set_new(j, "offers", a);
	json_object_set_new(j, "contacts_per_customer", report_hist_json(run));
	json_object_set_new(j, "channels", report_channels_json(run));
	json_object_set_new(j, "campaigns", report_campaigns_json(run));
	json_object_set_new(j, "nothing", report_nothing_json(run));

	top = report_highest_rate(run);
	o = json_object();
	json_object_set_new(o, "highest_allocation_rate", report_jreal(top));
	json_object_set_new(o, "flag_below", report_jreal(0.8 * top));
	a = report_segments_json(run);
	json_object_set_new(o, "segments", a);
	/* The [fairness] rows the optimizer honoured, with their prices. */
	json_object_set_new(o, "base_customers",
	    json_integer(run->fairness_base));
	json_object_set_new(o, "constraints", report_fairness_json(run));
	json_object_set_new(j, "fairness", o);
	/* The same array at the top level, where scripts look first. */
	json_object_set(j, "segments", a);
	json_object_set_new(j, "iterations", report_iterations_json(run));

	if (changes != NULL)
		json_object_set_new(j, "changes", report_changes_json(changes));
	else
		json_object_set_new(j, "changes", json_null());
	if (changes_note != NULL)
		json_object_set_new(j, "changes_note", json_string(changes_note));
	return j;
}

/*
 * Write data (len bytes) to dir/name through a temporary file and a
 * rename, so readers never see half a file. 0 or -1 with *cause set.
 */
int
report_write_file(const char *dir, const char *name, const char *data,
    size_t len, char **cause)
{
	char	*path = NULL, *tmp = NULL;
	FILE	*fp = NULL;

	path = str_printf("%s/%s", dir, name);
	tmp = str_printf("%s/.%s.tmp", dir, name);
	if (path == NULL || tmp == NULL) {
		*cause = str_printf("out of memory");
		goto fail;
	}
	if ((fp = fopen(tmp, "w")) == NULL) {
		*cause = str_printf("%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fwrite(data, 1, len, fp) != len || fflush(fp) != 0) {
		*cause = str_printf("%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		*cause = str_printf("%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fp = NULL;
	if (rename(tmp, path) != 0) {
		*cause = str_printf("%s: %s", path, strerror(errno));
		goto fail;
	}
	free(path);
	free(tmp);
	return 0;
fail:
	if (fp != NULL) {
		fclose(fp);
		unlink(tmp);
	}
	free(path);
	free(tmp);
	return -1;
}

/*
 * Load the previous run named by run->previous_run_id and compare. Returns
 * 1 with changes filled, or 0 with *note set (caller frees) saying why
 * there is no comparison (NULL when there is no previous run).
 */
int
report_previous_changes(const struct report_run *run, const char *dir,
    struct report_changes *changes, char **note)
{
	struct report_run prev;
	char	*parent = NULL, *prev_dir = NULL, *path = NULL, *cause = NULL;
	int	 found = 0;

	*note = NULL;
	memset(changes, 0, sizeof *changes);
	memset(&prev, 0, sizeof prev);
	if (run->previous_run_id[0] == '\0')
		return 0;
	if ((parent = report_parent(dir)) == NULL ||
	    (prev_dir = str_printf("%s/%s", parent, run->previous_run_id)) == NULL ||
	    (path = str_printf("%s/summary.json", prev_dir)) == NULL) {
		*note = str_printf("out of memory");
		goto out;
	}
	if (report_load_summary(path, &prev, &cause) != 0) {
		*note = str_printf("previous run %s could not be read: %s",
		    run->previous_run_id, cause);
		goto out;
	}
	if (report_compare(&prev, prev_dir, run, dir, changes, &cause) != 0) {
		*note = str_printf("comparison with %s failed: %s",
		    run->previous_run_id, cause);
		report_changes_free(changes);
		goto out;
	}
	found = 1;
out:
	report_free(&prev);
	free(cause);
	free(parent);
	free(prev_dir);
	free(path);
	return found;
}

/* Write only dir/summary.json (with the changes) given them; 0 or -1. */
int
report_write_summary_with(const struct report_run *run, const char *dir,
    const struct report_changes *changes, const char *note, char **cause)
{
	json_t	*j;
	char	*text;
	int	 rc;

	if ((j = report_json(run, changes, note)) == NULL) {
		*cause = str_printf("out of memory");
		return -1;
	}
	text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(REPORT_JSON_DIGITS));
	json_decref(j);
	if (text == NULL) {
		*cause = str_printf("out of memory");
		return -1;
	}
	rc = report_write_file(dir, "summary.json", text, strlen(text), cause);
	free(text);
	return rc;
}

/* Write only dir/summary.json (changes as in report_write); 0 or -1. */
int
report_write_summary(const struct report_run *run, const char *dir,
    char **cause)
{
	struct report_changes changes;
	char	*note = NULL;
	int	 have, rc;

	have = report_previous_changes(run, dir, &changes, &note);
	rc = report_write_summary_with(run, dir, have ? &changes : NULL, note,
	    cause);
	report_changes_free(&changes);
	free(note);
	return rc;
}

/* Write dir/summary.json and dir/report.html; 0 or -1. */
int
report_write(const struct report_run *run, const char *dir, char **cause)
{
	struct report_changes changes;
	char	*note = NULL;
	int	 have, rc;

	have = report_previous_changes(run, dir, &changes, &note);
	rc = report_write_summary_with(run, dir, have ? &changes : NULL, note,
	    cause);
	if (rc == 0)
		rc = report_write_html(run, have ? &changes : NULL, note, dir,
		    cause);
	report_changes_free(&changes);
	free(note);
	return rc;
}

/* Parsing context for report_load_summary: where, and the first error. */
struct report_reader {
	const char	*path;
	char		**cause;
	int		 failed;
};

/* Record the first error as "path: field NAME: message". */
static void
report_bad(struct report_reader *r, const char *field, const char *what)
{
	if (r->failed)
		return;
	r->failed = 1;
	*r->cause = str_printf("%s: field %s: %s", r->path, field, what);
}

/* Read a number field (null reads as dflt when nullable). */
static double
report_get_num(struct report_reader *r, json_t *obj, const char *key,
    const char *where, int nullable, double dflt)
{
	json_t	*v = json_object_get(obj, key);
	char	 field[160];

	if (where != NULL)
		snprintf(field, sizeof field, "%s.%s", where, key);
	else
		snprintf(field, sizeof field, "%s", key);
	if (v == NULL || json_is_null(v)) {
		if (!nullable)
			report_bad(r, field, "missing number");
		return dflt;
	}
	if (!json_is_number(v)) {
		report_bad(r, field, "not a number");
		return dflt;
	}
	return json_number_value(v);
}

/* Read a string field into buf (len bytes); missing reads as "". */
static void
report_get_str(struct report_reader *r, json_t *obj, const char *key,
    const char *where, char *buf, size_t len)
{
	json_t	*v = json_object_get(obj, key);
	char	 field[160];

	buf[0] = '\0';
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		snprintf(field, sizeof field, "%s%s%s", where ? where : "",
		    where ? "." : "", key);
		report_bad(r, field, "not a string");
		return;
	}
	snprintf(buf, len, "%s", json_string_value(v));
}

/* Read a boolean field; missing reads as false. */
static int
report_get_bool(json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

/* An array field, or NULL (missing reads as empty, other types fail). */
static json_t *
report_get_array(struct report_reader *r, json_t *obj, const char *key)
{
	json_t	*v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_array(v)) {
		report_bad(r, key, "not an array");
		return NULL;
	}
	return v;
}

/* Read the offers array of a summary. */
static void
report_load_offers(struct report_reader *r, json_t *root, struct report_run *run)
{
	json_t	*a = report_get_array(r, root, "offers"), *o;
	size_t	 i, n = a ? json_array_size(a) : 0;
	char	 where[64];

	if (n == 0)
		return;
	if ((run->offers = calloc(n, sizeof *run->offers)) == NULL) {
		report_bad(r, "offers", "out of memory");
		return;
	}
	run->noffers = (int)n;
	json_array_foreach(a, i, o) {
		struct report_offer *of = &run->offers[i];

		snprintf(where, sizeof where, "offers[%zu]", i);
		if (!json_is_object(o)) {
			report_bad(r, where, "not an object");
			return;
		}
		report_get_str(r, o, "name", where, of->name, sizeof of->name);
		report_get_str(r, o, "channel", where, of->channel,
		    sizeof of->channel);
		report_get_str(r, o, "campaign", where, of->campaign,
		    sizeof of->campaign);
		report_get_str(r, o, "category", where, of->category,
		    sizeof of->category);
		of->value = report_get_num(r, o, "value", where, 1, 0);
		of->cost = report_get_num(r, o, "cost", where, 1, 0);
		of->budget = report_get_num(r, o, "budget", where, 1, -1);
		of->capacity = (long)report_get_num(r, o, "capacity", where, 1, -1);
		of->sends = (long)report_get_num(r, o, "sends", where, 0, 0);
		of->spend = report_get_num(r, o, "spend", where, 0, 0);
		of->expected_value = report_get_num(r, o, "expected_value",
		    where, 1, 0);
		of->shadow_price_budget = report_get_num(r, o,
		    "shadow_price_budget", where, 1, 0);
		of->shadow_price_capacity = report_get_num(r, o,
		    "shadow_price_capacity", where, 1, 0);
		/* A summary with only the SPEC's single shadow_price. */
		if (json_object_get(o, "shadow_price_budget") == NULL &&
		    json_object_get(o, "shadow_price_capacity") == NULL) {
			double sp = report_get_num(r, o, "shadow_price", where, 1, 0);

			if (of->budget >= 0)
				of->shadow_price_budget = sp;
			else
				of->shadow_price_capacity = sp;
		}
		of->budget_binding = report_get_bool(o, "budget_binding");
		of->capacity_binding = report_get_bool(o, "capacity_binding");
	}
}

/* Read a histogram row ("before" or "after") into out. */
static void
report_load_hist(struct report_reader *r, json_t *h, const char *key, long *out)
{
	json_t	*a = report_get_array(r, h, key), *v;
	size_t	 i;

	if (a == NULL)
		return;
	json_array_foreach(a, i, v) {
		if (!json_is_number(v)) {
			report_bad(r, key, "histogram count not a number");
			return;
		}
		/* Fold longer histograms into the last bin. */
		out[i < REPORT_HIST_BINS ? i : REPORT_HIST_BINS - 1] +=
		    (long)json_number_value(v);
	}
}

/* Read the [fairness] rows of a summary (fairness.constraints). */
static void
report_load_fairness(struct report_reader *r, json_t *root,
    struct report_run *run)
{
	json_t	*f = json_object_get(root, "fairness"), *a, *o;
	size_t	 i, n;
	char	 where[64];

	if (!json_is_object(f))
		return;
	run->fairness_base = (long)report_get_num(r, f, "base_customers",
	    "fairness", 1, 0);
	a = report_get_array(r, f, "constraints");
	n = a ? json_array_size(a) : 0;
	if (n == 0 || (run->fairness = calloc(n, sizeof *run->fairness)) == NULL)
		return;
	run->nfairness = (int)n;
	json_array_foreach(a, i, o) {
		struct report_fairness *fr = &run->fairness[i];

		snprintf(where, sizeof where, "fairness.constraints[%zu]", i);
		report_get_str(r, o, "segment", where, fr->segment,
		    sizeof fr->segment);
		fr->customers = (long)report_get_num(r, o, "customers", where,
		    0, 0);
		fr->sends = (long)report_get_num(r, o, "sends", where, 0, 0);
		fr->sends_per_customer = report_get_num(r, o,
		    "sends_per_customer", where, 1, 0);
		fr->base_sends_per_customer = report_get_num(r, o,
		    "base_sends_per_customer", where, 1, 0);
		fr->min_ratio = report_get_num(r, o, "min_ratio", where, 0, 0);
		fr->binding = report_get_bool(o, "binding");
		fr->shadow_price = report_get_num(r, o, "shadow_price", where,
		    1, 0);
	}
}

/* The channels of summary.json into run (at most CONF_MAX_CHANNELS). */
static void
report_load_channels(struct report_reader *r, json_t *root,
    struct report_run *run)
{
	json_t	*a = report_get_array(r, root, "channels"), *o;
	size_t	 i;
	char	 where[64];

	json_array_foreach(a, i, o) {
		struct report_channel *c;

		if (i >= CONF_MAX_CHANNELS)
			break;
		c = &run->channels[i];
		snprintf(where, sizeof where, "channels[%zu]", i);
		report_get_str(r, o, "name", where, c->name, sizeof c->name);
		c->sends = (long)report_get_num(r, o, "sends", where, 1, 0);
		c->expected_value = report_get_num(r, o, "expected_value",
		    where, 1, 0);
		c->saturated_before = (long)report_get_num(r, o,
		    "saturated_before", where, 1, 0);
		c->saturated_after = (long)report_get_num(r, o,
		    "saturated_after", where, 1, 0);
		run->nchannels = (int)i + 1;
	}
}

/* The campaigns of summary.json into run. */
static void
report_load_campaigns(struct report_reader *r, json_t *root,
    struct report_run *run)
{
	json_t	*a = report_get_array(r, root, "campaigns"), *o;
	size_t	 i, n = a ? json_array_size(a) : 0;
	char	 where[64];

	if (n == 0 || (run->campaigns = calloc(n, sizeof *run->campaigns)) ==
	    NULL)
		return;
	run->ncampaigns = (int)n;
	json_array_foreach(a, i, o) {
		struct report_campaign *c = &run->campaigns[i];

		snprintf(where, sizeof where, "campaigns[%zu]", i);
		report_get_str(r, o, "name", where, c->name, sizeof c->name);
		c->sends = (long)report_get_num(r, o, "sends", where, 1, 0);
		c->expected_value = report_get_num(r, o,
		    "expected_value", where, 1, 0);
	}
}

/* The segments of summary.json into run. */
static void
report_load_segments(struct report_reader *r, json_t *root,
    struct report_run *run)
{
	json_t	*a = report_get_array(r, root, "segments"), *o;
	size_t	 i, n = a ? json_array_size(a) : 0;
	char	 where[64];

	if (n == 0 || (run->segments = calloc(n, sizeof *run->segments)) ==
	    NULL)
		return;
	run->nsegments = (int)n;
	json_array_foreach(a, i, o) {
		struct report_segment *s = &run->segments[i];

		snprintf(where, sizeof where, "segments[%zu]", i);
		report_get_str(r, o, "name", where, s->name, sizeof s->name);
		s->customers = (long)report_get_num(r, o, "customers",
		    where, 1, 0);
		s->allocated = (long)report_get_num(r, o, "allocated",
		    where, 1, 0);
		s->mean_expected_value = report_get_num(r, o,
		    "mean_expected_value", where, 1, 0);
		report_get_str(r, o, "caps", where, s->caps, sizeof s->caps);
		report_get_str(r, o, "exclude", where, s->exclude,
		    sizeof s->exclude);
		s->flagged = report_get_bool(o, "flagged");
	}
}

/* The solver's iterations of summary.json into run. */
static void
report_load_iterations(struct report_reader *r, json_t *root,
    struct report_run *run)
{
	json_t	*a = report_get_array(r, root, "iterations"), *o;
	size_t	 i, n = a ? json_array_size(a) : 0;
	char	 where[64];

	if (n == 0 || (run->iterations = calloc(n, sizeof *run->iterations)) ==
	    NULL)
		return;
	run->niterations = (int)n;
	json_array_foreach(a, i, o) {
		struct report_iteration *it = &run->iterations[i];

		snprintf(where, sizeof where, "iterations[%zu]", i);
		it->iteration = (int)report_get_num(r, o, "iteration",
		    where, 1, (double)i);
		it->elapsed_s = report_get_num(r, o, "elapsed_s", where,
		    1, 0);
		it->objective = report_get_num(r, o, "objective", where,
		    1, 0);
		it->bound = report_get_num(r, o, "bound", where, 1, 0);
	}
}

/* Read channels, campaigns, segments and iterations of a summary. */
static void
report_load_rest(struct report_reader *r, json_t *root, struct report_run *run)
{
	json_t	*o, *h;
	int	 k;

	if ((h = json_object_get(root, "contacts_per_customer")) != NULL &&
	    json_is_object(h)) {
		report_load_hist(r, h, "before", run->hist_before);
		report_load_hist(r, h, "after", run->hist_after);
	}
	report_load_channels(r, root, run);
	report_load_campaigns(r, root, run);
	if ((o = json_object_get(root, "nothing")) != NULL && json_is_object(o)) {
		for (k = 0; k < REPORT_NOTHING_NREASONS; k++)
			run->nothing[k] = (long)report_get_num(r, o,
			    report_nothing_name(k), "nothing", 1, 0);
	}
	report_load_segments(r, root, run);
	report_load_fairness(r, root, run);
	report_load_iterations(r, root, run);
}

/* Read a summary.json back into run; 0 or -1 naming file and field. */
int
report_load_summary(const char *path, struct report_run *run, char **cause)
{
	struct report_reader r = { path, cause, 0 };
	json_error_t err;
	json_t	*root;

	memset(run, 0, sizeof *run);
	if ((root = json_load_file(path, 0, &err)) == NULL) {
		if (err.line > 0)
			*cause = str_printf("%s:%d: %s", path, err.line, err.text);
		else
			*cause = str_printf("%s: %s", path, err.text);
		return -1;
	}
	if (!json_is_object(root)) {
		*cause = str_printf("%s: not a JSON object", path);
		json_decref(root);
		return -1;
	}
	report_get_str(&r, root, "run_id", NULL, run->run_id, sizeof run->run_id);
	if (run->run_id[0] == '\0') {
		/* Older or hand-made summaries: the folder names the run. */
		char *parent = report_parent(path);

		if (parent != NULL)
			report_basename(parent, run->run_id, sizeof run->run_id);
		free(parent);
	}
	report_get_str(&r, root, "previous_run_id", NULL, run->previous_run_id,
	    sizeof run->previous_run_id);
	run->created = (int64_t)report_get_num(&r, root, "created", NULL, 1, 0);
	run->runtime_s = report_get_num(&r, root, "runtime_s", NULL, 1, 0);
	report_get_str(&r, root, "status", NULL, run->status, sizeof run->status);
	report_get_str(&r, root, "method", NULL, run->method, sizeof run->method);
	run->objective = report_get_num(&r, root, "objective", NULL, 0, 0);
	run->bound = report_get_num(&r, root, "bound", NULL, 1, NAN);
	run->gap = report_get_num(&r, root, "gap", NULL, 1, NAN);
	run->exact_fallback = report_get_bool(root, "exact_fallback");
	report_get_str(&r, root, "publish_needs_force", NULL,
	    run->publish_blocked, sizeof run->publish_blocked);
	run->customers = (long)report_get_num(&r, root, "customers", NULL, 1, 0);
	run->eligible_pairs = (long)report_get_num(&r, root, "eligible_pairs",
	    NULL, 1, 0);
	run->assignments = (long)report_get_num(&r, root, "assignments", NULL,
	    1, 0);
	report_load_offers(&r, root, run);
	if (!r.failed)
		report_load_rest(&r, root, run);
	json_decref(root);
	if (r.failed) {
		report_free(run);
		return -1;
	}
	return 0;
}

/* 64-bit FNV-1a of customer, a separator, and offer. */
static uint64_t
report_pair_hash(const char *customer, const char *offer)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)customer; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ 0x1f) * 1099511628211ULL;
	for (p = (const unsigned char *)offer; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	/* Final avalanche so that sorted order spreads evenly. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/*
 * Sort v (n hashes) ascending: a radix sort, a byte a pass (millions of
 * pairs: qsort's comparisons took seconds). 0, or -1 out of memory.
 */
static int
report_sort_u64(uint64_t *v, size_t n)
{
	uint64_t	*tmp, *from = v, *to, *t;
	size_t		 count[256];

	if (n < 2)
		return 0;
	if ((tmp = malloc(n * sizeof *tmp)) == NULL)
		return -1;
	to = tmp;
	for (int shift = 0; shift < 64; shift += 8) {
		size_t	 at = 0;

		memset(count, 0, sizeof count);
		for (size_t i = 0; i < n; i++)
			count[(from[i] >> shift) & 0xff]++;
		for (int b = 0; b < 256; b++) {
			size_t	 c = count[b];

			count[b] = at;
			at += c;
		}
		for (size_t i = 0; i < n; i++)
			to[count[(from[i] >> shift) & 0xff]++] = from[i];
		t = from;
		from = to;
		to = t;
	}
	/* Eight passes: the sorted keys are back in v. */
	free(tmp);
	return 0;
}

/*
 * Read dir/assignments.csv into a sorted array of (customer, offer)
 * hashes. Returns 1 with *out (caller frees) and *n, 0 when the file does
 * not exist, -1 with *cause on a malformed file. Hashes stand for pairs:
 * with 64 bits, two runs of millions of pairs collide with odds below one
 * in a million, and a collision only shifts a count by one.
 */
static int
report_read_pairs(const char *dir, uint64_t **out, size_t *n, char **cause)
{
	static const char *const want[] = { "customer", "offer", NULL };
	struct csv *csv;
	char	*path;
	uint64_t *v = NULL, *nv;
	size_t	 len = 0, cap = 0;
	int	 idx[2], rc;
	struct stat st;

	*out = NULL;
	*n = 0;
	if (dir == NULL || (path = str_printf("%s/assignments.csv", dir)) == NULL)
		return 0;
	if (stat(path, &st) != 0) {
		free(path);
		return 0;
	}
	if ((csv = csv_open(path, cause)) == NULL) {
		free(path);
		return -1;
	}
	if (csv_require(csv, want, idx, cause) != 0)
		goto fail;
	while ((rc = csv_next(csv, cause)) == 1) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				*cause = str_printf("out of memory");
				goto fail;
			}
			v = nv;
		}
		if (idx[0] >= csv->nfields || idx[1] >= csv->nfields) {
			*cause = csv_error(csv, idx[0] >= csv->nfields ?
			    "customer" : "offer", "missing");
			goto fail;
		}
		v[len++] = report_pair_hash(csv->field[idx[0]], csv->field[idx[1]]);
	}
	if (rc < 0)
		goto fail;
	csv_close(csv);
	free(path);
	if (report_sort_u64(v, len) != 0) {
		*cause = str_printf("out of memory");
		free(v);
		return -1;
	}
	*out = v;
	*n = len;
	return 1;
fail:
	csv_close(csv);
	free(path);
	free(v);
	return -1;
}

/* Offer p of the earlier run as the "before" side of change c. */
static void
report_change_before(struct report_offer_change *c,
    const struct report_offer *p)
{
	c->in_before = 1;
	c->sends_before = p->sends;
	c->shadow_budget_before = p->shadow_price_budget;
	c->shadow_capacity_before = p->shadow_price_capacity;
}

/*
 * The offers' changes: the new run's offers in its order, then the ones
 * it dropped. 0, or -1 with *cause.
 */
static int
report_compare_offers(const struct report_run *before,
    const struct report_run *after, struct report_changes *changes,
    char **cause)
{
	int	 k, m, n;

	n = after->noffers + before->noffers;
	if (n > 0 && (changes->offers = calloc((size_t)n,
	    sizeof *changes->offers)) == NULL) {
		*cause = str_printf("out of memory");
		return -1;
	}
	for (k = 0; k < after->noffers; k++) {
		struct report_offer_change *c = &changes->offers[changes->noffers++];
		const struct report_offer *o = &after->offers[k];

		snprintf(c->name, sizeof c->name, "%s", o->name);
		c->in_after = 1;
		c->sends_after = o->sends;
		c->shadow_budget_after = o->shadow_price_budget;
		c->shadow_capacity_after = o->shadow_price_capacity;
		for (m = 0; m < before->noffers; m++) {
			if (!strcmp(before->offers[m].name, o->name)) {
				report_change_before(c, &before->offers[m]);
				break;
			}
		}
	}
	for (m = 0; m < before->noffers; m++) {
		const struct report_offer *p = &before->offers[m];
		struct report_offer_change *c;

		for (k = 0; k < after->noffers; k++)
			if (!strcmp(p->name, after->offers[k].name))
				break;
		if (k < after->noffers)
			continue;
		c = &changes->offers[changes->noffers++];
		snprintf(c->name, sizeof c->name, "%s", p->name);
		report_change_before(c, p);
	}
	return 0;
}

/*
 * Merge two sorted lists of assignments: *fresh counts those only in pa
 * (the new run), *dropped those only in pb; duplicates count once.
 */
static void
report_count_changes(const uint64_t *pa, size_t na, const uint64_t *pb,
    size_t nb, long *fresh, long *dropped)
{
	size_t		 i, j;
	uint64_t	 h;

	*fresh = *dropped = 0;
	for (i = j = 0; i < na || j < nb;) {
		if (j >= nb || (i < na && pa[i] < pb[j])) {
			(*fresh)++;
			h = pa[i];
			while (i < na && pa[i] == h)
				i++;
		} else if (i >= na || pb[j] < pa[i]) {
			(*dropped)++;
			h = pb[j];
			while (j < nb && pb[j] == h)
				j++;
		} else {
			h = pa[i];
			while (i < na && pa[i] == h)
				i++;
			while (j < nb && pb[j] == h)
				j++;
		}
	}
}

/* Compare two runs (borrowed) into changes; 0 or -1 with *cause. */
int
report_compare(const struct report_run *before, const char *before_dir,
    const struct report_run *after, const char *after_dir,
    struct report_changes *changes, char **cause)
{
	uint64_t *pa = NULL, *pb = NULL;
	size_t	 na = 0, nb = 0;
	int	 ra, rb;

	memset(changes, 0, sizeof *changes);
	snprintf(changes->before_id, sizeof changes->before_id, "%s",
	    before->run_id);
	snprintf(changes->after_id, sizeof changes->after_id, "%s",
	    after->run_id);
	changes->objective_before = before->objective;
	changes->objective_after = after->objective;
	changes->gap_before = before->gap;
	changes->gap_after = after->gap;
	changes->assignments_before = before->assignments;
	changes->assignments_after = after->assignments;
	if (report_compare_offers(before, after, changes, cause) != 0)
		return -1;

	changes->new_assignments = -1;
	changes->dropped_assignments = -1;
	if ((rb = report_read_pairs(before_dir, &pb, &nb, cause)) < 0)
		goto fail;
	if ((ra = report_read_pairs(after_dir, &pa, &na, cause)) < 0)
		goto fail;
	if (ra == 1 && rb == 1)
		report_count_changes(pa, na, pb, nb, &changes->new_assignments,
		    &changes->dropped_assignments);
	free(pa);
	free(pb);
	return 0;
fail:
	free(pa);
	free(pb);
	report_changes_free(changes);
	return -1;
}

/* The most recent sibling run folder other than run_dir; 1 or 0. */
int
report_find_previous(const char *run_dir, char *id, size_t len)
{
	char	*parent, self[REPORT_ID_MAX], *path;
	DIR	*d;
	struct dirent *e;
	int64_t	 best_t = INT64_MIN;
	int	 found = 0;

	if ((parent = report_parent(run_dir)) == NULL)
		return 0;
	report_basename(run_dir, self, sizeof self);
	if ((d = opendir(parent)) == NULL) {
		free(parent);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		json_t	*root, *c;
		int64_t	 t;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, self))
			continue;
		if ((path = str_printf("%s/%s/summary.json", parent,
		    e->d_name)) == NULL)
			continue;
		root = json_load_file(path, 0, NULL);
		free(path);
		if (root == NULL)
			continue;
		c = json_object_get(root, "created");
		t = json_is_number(c) ? (int64_t)json_number_value(c) : 0;
		json_decref(root);
		/* Ties go to the larger name: run ids sort by time. */
		if (t > best_t || (t == best_t && found &&
		    strcmp(e->d_name, id) > 0)) {
			best_t = t;
			snprintf(id, len, "%s", e->d_name);
			found = 1;
		}
	}
	closedir(d);
	free(parent);
	return found;
}
