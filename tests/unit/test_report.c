/*
 * Unit tests for the run report (solver/report/report.c, report_html.c):
 * every figure of summary.json on a hand-computed tiny run, the round trip
 * through report_load_summary, the HTML page's sections and escaping, and
 * the changes against a previous run.
 *
 * The tiny run (worked by hand):
 *   offers   card  email spring  credit value 100 cost 2   budget 4  -> at most 2 sends
 *            phone sms   spring  retail value 50  cost 1   capacity 1
 *            tips  email care    info   value 10  cost 0.5 no limits
 *   customers (segment, scores -> net EV = p*value - cost)
 *     c1 young       card .5 -> 48, tips .2 -> 1.5           plan: card, tips
 *     c2 young       card .3 -> 28, phone .4 -> 19           plan: card, phone
 *     c3 vulnerable  card .5 (credit: excluded), tips .1 -> .5  plan: tips
 *     c4 vulnerable  card .9 (excluded)                       nothing: suppressed
 *     c5 young       card .2 -> 18 (budget gone), phone .1 -> 4 (capacity gone)
 *                                                              nothing: budget_exhausted
 *     c6             tips (holdout)                           nothing: holdout
 *     c7             tips (no consent)                        nothing: no_consent
 *   sends: card 2 (spend 4, EV 76), phone 1 (spend 1, EV 19), tips 2 (spend 1, EV 2)
 *   objective 97 = 76 + 19 + 2; eligible pairs 2+2+2+1+2+1+1 = 11; assignments 5
 *   channels: email 4 sends EV 78, sms 1 send EV 19; campaigns: spring 3 / 95,
 *   care 2 / 2.
 *   shadow prices: card's budget is binding; c5's card (20 - 2 = 18 for 2 of
 *   budget) sets its price at 18 / 2 = 9. phone's capacity binds; c5's phone
 *   (4) sets its price at 4.
 *   segments: young 3 customers, 2 allocated (rate 2/3), mean EV
 *   (49.5 + 47) / 3 = 32.1666...; vulnerable 2, 1 allocated (rate 1/2), mean
 *   EV .5 / 2 = .25. Highest rate 2/3; 4/5 of it = 8/15 = .5333 > .5, so
 *   vulnerable is flagged, young is not.
 *   contacts before (c1..c7): 1 0 0 1 2 0 3 -> bins 0:3 1:2 2:1 3:1
 *   contacts after (+plan):   3 2 1 1 2 0 3 -> bins 0:1 1:2 2:2 3:2
 *   saturation (email 3/7d, sms 1/1d): email before c7 (1), after c7 and c1
 *   (2); sms before 0, after c2 (1). Shares over 7 customers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "pacer/report.h"

#define EPS 1e-9

/*
 * Fill run with the tiny run above (arrays malloc'd; report_free). Long on
 * purpose: a literal fixture, field by field, that test_summary_figures's
 * hand-worked figures follow line by line.
 */
static void
tiny_run(struct report_run *run)
{
	struct report_offer *o;

	memset(run, 0, sizeof *run);
	snprintf(run->run_id, sizeof run->run_id, "r2");
	run->created = 1767236400;	/* 2026-01-01T03:00:00Z */
	run->runtime_s = 1.25;
	snprintf(run->status, sizeof run->status, "gap_reached");
	snprintf(run->method, sizeof run->method, "scale");
	run->objective = 97;
	run->bound = 97.5;
	run->gap = 0.5 / 97.5;
	run->customers = 7;
	run->eligible_pairs = 11;
	run->assignments = 5;

	run->noffers = 3;
	run->offers = calloc(3, sizeof *run->offers);
	o = &run->offers[0];
	snprintf(o->name, sizeof o->name, "card");
	snprintf(o->channel, sizeof o->channel, "email");
	snprintf(o->campaign, sizeof o->campaign, "spring \"sale\" <2026> & co");
	snprintf(o->category, sizeof o->category, "credit");
	o->value = 100;
	o->cost = 2;
	o->budget = 4;
	o->capacity = -1;
	o->sends = 2;
	o->spend = 4;
	o->expected_value = 76;
	o->shadow_price_budget = 9;
	o->budget_binding = 1;
	o = &run->offers[1];
	snprintf(o->name, sizeof o->name, "phone");
	snprintf(o->channel, sizeof o->channel, "sms");
	snprintf(o->campaign, sizeof o->campaign, "spring \"sale\" <2026> & co");
	snprintf(o->category, sizeof o->category, "retail");
	o->value = 50;
	o->cost = 1;
	o->budget = -1;
	o->capacity = 1;
	o->sends = 1;
	o->spend = 1;
	o->expected_value = 19;
	o->shadow_price_capacity = 4;
	o->capacity_binding = 1;
	o = &run->offers[2];
	snprintf(o->name, sizeof o->name, "tips");
	snprintf(o->channel, sizeof o->channel, "email");
	snprintf(o->campaign, sizeof o->campaign, "care");
	snprintf(o->category, sizeof o->category, "info");
	o->value = 10;
	o->cost = 0.5;
	o->budget = -1;
	o->capacity = -1;
	o->sends = 2;
	o->spend = 1;
	o->expected_value = 2;

	run->hist_before[0] = 3;
	run->hist_before[1] = 2;
	run->hist_before[2] = 1;
	run->hist_before[3] = 1;
	run->hist_after[0] = 1;
	run->hist_after[1] = 2;
	run->hist_after[2] = 2;
	run->hist_after[3] = 2;

	run->nchannels = 2;
	snprintf(run->channels[0].name, sizeof run->channels[0].name, "email");
	run->channels[0].sends = 4;
	run->channels[0].expected_value = 78;
	run->channels[0].saturated_before = 1;
	run->channels[0].saturated_after = 2;
	snprintf(run->channels[1].name, sizeof run->channels[1].name, "sms");
	run->channels[1].sends = 1;
	run->channels[1].expected_value = 19;
	run->channels[1].saturated_before = 0;
	run->channels[1].saturated_after = 1;

	run->ncampaigns = 2;
	run->campaigns = calloc(2, sizeof *run->campaigns);
	snprintf(run->campaigns[0].name, sizeof run->campaigns[0].name,
	    "spring \"sale\" <2026> & co");
	run->campaigns[0].sends = 3;
	run->campaigns[0].expected_value = 95;
	snprintf(run->campaigns[1].name, sizeof run->campaigns[1].name, "care");
	run->campaigns[1].sends = 2;
	run->campaigns[1].expected_value = 2;

	run->nothing[REPORT_NOTHING_NO_CONSENT] = 1;
	run->nothing[REPORT_NOTHING_HOLDOUT] = 1;
	run->nothing[REPORT_NOTHING_SUPPRESSED] = 1;
	run->nothing[REPORT_NOTHING_BUDGET_EXHAUSTED] = 1;

	run->nsegments = 2;
	run->segments = calloc(2, sizeof *run->segments);
	snprintf(run->segments[0].name, sizeof run->segments[0].name, "young");
	run->segments[0].customers = 3;
	run->segments[0].allocated = 2;
	run->segments[0].mean_expected_value = (49.5 + 47) / 3;
	snprintf(run->segments[1].name, sizeof run->segments[1].name,
	    "vulnerable");
	run->segments[1].customers = 2;
	run->segments[1].allocated = 1;
	run->segments[1].mean_expected_value = 0.25;
	snprintf(run->segments[1].caps, sizeof run->segments[1].caps, "1/7d");
	snprintf(run->segments[1].exclude, sizeof run->segments[1].exclude,
	    "credit");
	/* Deliberately wrong: report_write computes the flag itself. */
	run->segments[0].flagged = 1;

	run->niterations = 3;
	run->iterations = calloc(3, sizeof *run->iterations);
	run->iterations[0] = (struct report_iteration){ 1, 0.1, 80, 120 };
	run->iterations[1] = (struct report_iteration){ 2, 0.5, 95, 100 };
	run->iterations[2] = (struct report_iteration){ 3, 1.0, 97, 97.5 };
}

/* A fresh temporary folder holding run folders (caller frees). */
static char *
tmp_parent(void)
{
	char	*p = strdup("/tmp/pacer-test-report-XXXXXX");

	assert_non_null(mkdtemp(p));
	return p;
}

/* Make parent/name and return its path (caller frees). */
static char *
run_dir(const char *parent, const char *name)
{
	size_t	 n = strlen(parent) + strlen(name) + 2;
	char	*p = malloc(n);

	snprintf(p, n, "%s/%s", parent, name);
	mkdir(p, 0755);
	return p;
}

/* Write text to dir/name. */
static void
write_text(const char *dir, const char *name, const char *text)
{
	char	 path[512];
	FILE	*fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Read a whole file (caller frees). */
static char *
read_text(const char *dir, const char *name)
{
	char	 path[512], *buf;
	FILE	*fp;
	long	 n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Remove a run tree made by the tests (two levels, files only). */
static void
rm_tree(const char *parent)
{
	char	 cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", parent);
	assert_int_equal(system(cmd), 0);
}

/* Number at a JSON path of object keys. */
static double
jnum(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_non_null(v);
	assert_true(json_is_number(v));
	return json_number_value(v);
}

/*
 * Every figure of summary.json for the tiny run, as worked by hand. Long
 * on purpose: one assertion per figure, in the document's order, against
 * the one hand-worked table above (split, a reader would lose it).
 */
static void
test_summary_figures(void **state)
{
	struct report_run run;
	char	*parent = tmp_parent(), *dir = run_dir(parent, "r2"), *cause = NULL;
	char	 path[512];
	json_t	*j, *a, *o, *h;
	json_error_t err;
	size_t	 i;
	static const long before[REPORT_HIST_BINS] = { 3, 2, 1, 1 };
	static const long after[REPORT_HIST_BINS] = { 1, 2, 2, 2 };

	(void)state;
	tiny_run(&run);
	if (report_write(&run, dir, &cause) != 0)
		fail_msg("report_write: %s", cause);
	snprintf(path, sizeof path, "%s/summary.json", dir);
	j = json_load_file(path, 0, &err);
	assert_non_null(j);

	assert_string_equal(json_string_value(json_object_get(j, "run_id")), "r2");
	assert_true(json_is_null(json_object_get(j, "previous_run_id")));
	assert_int_equal((long)jnum(j, "created"), 1767236400);
	assert_string_equal(json_string_value(json_object_get(j, "created_utc")),
	    "2026-01-01T03:00:00Z");
	assert_float_equal(jnum(j, "runtime_s"), 1.25, EPS);
	assert_string_equal(json_string_value(json_object_get(j, "status")),
	    "gap_reached");
	assert_string_equal(json_string_value(json_object_get(j, "method")), "scale");
	assert_float_equal(jnum(j, "objective"), 97, EPS);
	assert_float_equal(jnum(j, "bound"), 97.5, EPS);
	assert_float_equal(jnum(j, "gap"), 0.5 / 97.5, 1e-12);
	assert_int_equal((long)jnum(j, "customers"), 7);
	assert_int_equal((long)jnum(j, "eligible_pairs"), 11);
	assert_int_equal((long)jnum(j, "assignments"), 5);

	a = json_object_get(j, "offers");
	assert_int_equal(json_array_size(a), 3);
	o = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "card");
	assert_string_equal(json_string_value(json_object_get(o, "campaign")),
	    "spring \"sale\" <2026> & co");
	assert_int_equal((long)jnum(o, "sends"), 2);
	assert_float_equal(jnum(o, "spend"), 4, EPS);
	assert_float_equal(jnum(o, "budget"), 4, EPS);
	assert_true(json_is_null(json_object_get(o, "capacity")));
	assert_float_equal(jnum(o, "expected_value"), 76, EPS);
	assert_float_equal(jnum(o, "shadow_price"), 9, EPS);
	assert_float_equal(jnum(o, "shadow_price_budget"), 9, EPS);
	assert_float_equal(jnum(o, "shadow_price_capacity"), 0, EPS);
	assert_true(json_is_true(json_object_get(o, "budget_binding")));
	assert_true(json_is_false(json_object_get(o, "capacity_binding")));
	assert_float_equal(jnum(o, "budget_used"), 1, EPS);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(o, "binding"), 0)), "budget");
	o = json_array_get(a, 1);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "phone");
	assert_true(json_is_null(json_object_get(o, "budget")));
	assert_int_equal((long)jnum(o, "capacity"), 1);
	assert_int_equal((long)jnum(o, "sends"), 1);
	assert_float_equal(jnum(o, "spend"), 1, EPS);
	assert_float_equal(jnum(o, "expected_value"), 19, EPS);
	/* No budget: the single shadow_price is the capacity's. */
	assert_float_equal(jnum(o, "shadow_price"), 4, EPS);
	assert_float_equal(jnum(o, "shadow_price_capacity"), 4, EPS);
	assert_true(json_is_true(json_object_get(o, "capacity_binding")));
	assert_float_equal(jnum(o, "capacity_used"), 1, EPS);
	o = json_array_get(a, 2);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "tips");
	assert_int_equal((long)jnum(o, "sends"), 2);
	assert_float_equal(jnum(o, "spend"), 1, EPS);
	assert_float_equal(jnum(o, "expected_value"), 2, EPS);
	assert_float_equal(jnum(o, "shadow_price"), 0, EPS);
	assert_int_equal(json_array_size(json_object_get(o, "binding")), 0);
	/* Offers' expected values add up to the objective. */
	assert_float_equal(76 + 19 + 2, jnum(j, "objective"), EPS);

	h = json_object_get(j, "contacts_per_customer");
	assert_int_equal(json_array_size(json_object_get(h, "bins")),
	    REPORT_HIST_BINS);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(h, "bins"), REPORT_HIST_BINS - 1)), "10+");
	for (i = 0; i < REPORT_HIST_BINS; i++) {
		assert_int_equal(json_integer_value(json_array_get(
		    json_object_get(h, "before"), i)), before[i]);
		assert_int_equal(json_integer_value(json_array_get(
		    json_object_get(h, "after"), i)), after[i]);
	}

	a = json_object_get(j, "channels");
	assert_int_equal(json_array_size(a), 2);
	o = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "email");
	assert_int_equal((long)jnum(o, "sends"), 4);
	assert_float_equal(jnum(o, "expected_value"), 78, EPS);
	assert_int_equal((long)jnum(o, "saturated_before"), 1);
	assert_int_equal((long)jnum(o, "saturated_after"), 2);
	assert_float_equal(jnum(o, "saturation_before"), 1.0 / 7, 1e-12);
	assert_float_equal(jnum(o, "saturation_after"), 2.0 / 7, 1e-12);
	o = json_array_get(a, 1);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "sms");
	assert_int_equal((long)jnum(o, "sends"), 1);
	assert_float_equal(jnum(o, "expected_value"), 19, EPS);
	assert_float_equal(jnum(o, "saturation_before"), 0, EPS);
	assert_float_equal(jnum(o, "saturation_after"), 1.0 / 7, 1e-12);

	a = json_object_get(j, "campaigns");
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal((long)jnum(json_array_get(a, 0), "sends"), 3);
	assert_float_equal(jnum(json_array_get(a, 0), "expected_value"), 95, EPS);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1),
	    "name")), "care");
	assert_float_equal(jnum(json_array_get(a, 1), "expected_value"), 2, EPS);

	o = json_object_get(j, "nothing");
	assert_int_equal((long)jnum(o, "no_consent"), 1);
	assert_int_equal((long)jnum(o, "saturated"), 0);
	assert_int_equal((long)jnum(o, "holdout"), 1);
	assert_int_equal((long)jnum(o, "suppressed"), 1);
	assert_int_equal((long)jnum(o, "not_worth_cost"), 0);
	assert_int_equal((long)jnum(o, "budget_exhausted"), 1);
	assert_int_equal((long)jnum(o, "total"), 4);
	/* Customers with a send plus customers with nothing: everyone. */
	assert_int_equal(3 + (long)jnum(o, "total"), 7);

	o = json_object_get(j, "fairness");
	assert_float_equal(jnum(o, "highest_allocation_rate"), 2.0 / 3, 1e-12);
	assert_float_equal(jnum(o, "flag_below"), 8.0 / 15, 1e-12);
	a = json_object_get(j, "segments");
	assert_true(json_equal(a, json_object_get(o, "segments")));
	assert_int_equal(json_array_size(a), 2);
	o = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "young");
	assert_int_equal((long)jnum(o, "customers"), 3);
	assert_int_equal((long)jnum(o, "allocated"), 2);
	assert_float_equal(jnum(o, "allocation_rate"), 2.0 / 3, 1e-12);
	assert_float_equal(jnum(o, "mean_expected_value"), 96.5 / 3, 1e-12);
	assert_true(json_is_false(json_object_get(o, "flagged")));
	assert_string_equal(json_string_value(json_object_get(o, "caps")), "");
	o = json_array_get(a, 1);
	assert_string_equal(json_string_value(json_object_get(o, "name")),
	    "vulnerable");
	assert_float_equal(jnum(o, "allocation_rate"), 0.5, EPS);
	assert_float_equal(jnum(o, "mean_expected_value"), 0.25, EPS);
	assert_true(json_is_true(json_object_get(o, "flagged")));
	assert_string_equal(json_string_value(json_object_get(o, "caps")), "1/7d");
	assert_string_equal(json_string_value(json_object_get(o, "exclude")),
	    "credit");

	a = json_object_get(j, "iterations");
	assert_int_equal(json_array_size(a), 3);
	assert_float_equal(jnum(json_array_get(a, 2), "bound"), 97.5, EPS);
	assert_true(json_is_null(json_object_get(j, "changes")));

	json_decref(j);
	report_free(&run);
	rm_tree(parent);
	free(dir);
	free(parent);
}

/* report_load_summary reads back what report_write wrote. */
static void
test_roundtrip(void **state)
{
	struct report_run run, back;
	char	*parent = tmp_parent(), *dir = run_dir(parent, "r2"), *cause = NULL;
	char	 path[512];
	int	 i;

	(void)state;
	tiny_run(&run);
	assert_int_equal(report_write_summary(&run, dir, &cause), 0);
	snprintf(path, sizeof path, "%s/summary.json", dir);
	if (report_load_summary(path, &back, &cause) != 0)
		fail_msg("load: %s", cause);
	assert_string_equal(back.run_id, "r2");
	assert_string_equal(back.previous_run_id, "");
	assert_int_equal(back.created, run.created);
	assert_string_equal(back.status, "gap_reached");
	assert_float_equal(back.objective, 97, EPS);
	assert_float_equal(back.bound, 97.5, EPS);
	assert_float_equal(back.gap, run.gap, 1e-12);
	assert_int_equal(back.customers, 7);
	assert_int_equal(back.eligible_pairs, 11);
	assert_int_equal(back.assignments, 5);
	assert_int_equal(back.noffers, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(back.offers[i].name, run.offers[i].name);
		assert_string_equal(back.offers[i].campaign, run.offers[i].campaign);
		assert_int_equal(back.offers[i].sends, run.offers[i].sends);
		assert_int_equal(back.offers[i].capacity, run.offers[i].capacity);
		assert_float_equal(back.offers[i].budget, run.offers[i].budget, EPS);
		assert_float_equal(back.offers[i].spend, run.offers[i].spend, EPS);
		assert_float_equal(back.offers[i].shadow_price_budget,
		    run.offers[i].shadow_price_budget, EPS);
		assert_float_equal(back.offers[i].shadow_price_capacity,
		    run.offers[i].shadow_price_capacity, EPS);
		assert_int_equal(back.offers[i].budget_binding,
		    run.offers[i].budget_binding);
		assert_int_equal(back.offers[i].capacity_binding,
		    run.offers[i].capacity_binding);
	}
	assert_memory_equal(back.hist_before, run.hist_before,
	    sizeof run.hist_before);
	assert_memory_equal(back.hist_after, run.hist_after, sizeof run.hist_after);
	assert_int_equal(back.nchannels, 2);
	assert_int_equal(back.channels[0].saturated_after, 2);
	assert_int_equal(back.ncampaigns, 2);
	assert_memory_equal(back.nothing, run.nothing, sizeof run.nothing);
	assert_int_equal(back.nsegments, 2);
	assert_false(back.segments[0].flagged);	/* computed, not copied */
	assert_true(back.segments[1].flagged);
	assert_string_equal(back.segments[1].exclude, "credit");
	assert_int_equal(back.niterations, 3);
	report_free(&back);
	report_free(&back);	/* twice is harmless */
	report_free(NULL);
	report_free(&run);
	rm_tree(parent);
	free(dir);
	free(parent);
}

/* The page: every section, escaped names, self-contained. */
static void
test_html(void **state)
{
	static const char *const headings[] = {
		"Offers: spend against budget, sends against capacity",
		"Contacts per customer and saturation",
		"Saturation per channel",
		"Why customers got nothing",
		"Expected value by channel and campaign",
		"Fairness across segments",
		"Protected segments and their caps",
		"Changes against the previous run",
		"How the solve converged",
	};
	struct report_run run;
	char	*parent = tmp_parent(), *dir = run_dir(parent, "r2"), *cause = NULL;
	char	*html;
	size_t	 i;

	(void)state;
	tiny_run(&run);
	assert_int_equal(report_write(&run, dir, &cause), 0);
	html = read_text(dir, "report.html");
	for (i = 0; i < sizeof headings / sizeof headings[0]; i++)
		if (strstr(html, headings[i]) == NULL)
			fail_msg("missing heading: %s", headings[i]);
	/* The verdict line opens the page with its five figures. */
	assert_non_null(strstr(html, "class=\"verdict\">Objective <b>97.00</b>"));
	assert_non_null(strstr(html, "certified bound <b>97.50</b>"));
	assert_non_null(strstr(html, "gap <b>0.5%</b>"));
	assert_non_null(strstr(html, "status <b>gap_reached</b>"));
	assert_non_null(strstr(html, "runtime <b>1.25 s</b>"));
	/* Names are escaped, never raw. */
	assert_non_null(strstr(html, "spring &quot;sale&quot; &lt;2026&gt; &amp; co"));
	assert_null(strstr(html, "<2026>"));
	/* Self-contained: no URL, no script, no external style. */
	assert_null(strstr(html, "http://"));
	assert_null(strstr(html, "https://"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "@import"));
	assert_non_null(strstr(html, "@media print"));
	/* Charts are inline SVG. */
	assert_true(strstr(html, "<svg") != NULL);
	/* Binding constraints and the flagged segment are marked. */
	assert_non_null(strstr(html, "4 / 4 binding"));
	assert_non_null(strstr(html, "1 / 1 binding"));
	assert_non_null(strstr(html, "50.0% flagged"));
	assert_non_null(strstr(html, ">66.7%<"));
	/* Protected segment's caps and exclusions. */
	assert_non_null(strstr(html, "<td>1/7d</td><td>credit</td>"));
	assert_non_null(strstr(html, "This is the first run"));
	free(html);
	report_free(&run);
	rm_tree(parent);
	free(dir);
	free(parent);
}

/*
 * The certified bound as written is never below the bound: rounded up at
 * the page's two decimals and at summary.json's precision, where rounding
 * to nearest wrote 97.50 and 97.5 for a bound a little above 97.5. A run
 * whose scale mode fell back to exact mode says so in both.
 */
static void
test_bound_rounded_up(void **state)
{
	struct report_run run;
	char	*parent = tmp_parent(), *dir = run_dir(parent, "r2"), *cause = NULL;
	char	*html, path[512];
	json_t	*j;
	json_error_t err;
	static const double bound[] = { 97.5000000000004, 97.5001 };

	(void)state;
	for (size_t i = 0; i < sizeof bound / sizeof bound[0]; i++) {
		tiny_run(&run);
		run.bound = bound[i];
		run.gap = (run.bound - run.objective) / run.bound;
		run.exact_fallback = (int)i;
		if (report_write(&run, dir, &cause) != 0)
			fail_msg("report_write: %s", cause);
		snprintf(path, sizeof path, "%s/summary.json", dir);
		assert_non_null(j = json_load_file(path, 0, &err));
		assert_true(jnum(j, "bound") >= run.bound);
		assert_true(jnum(j, "gap") >= run.gap);
		assert_int_equal(json_is_true(json_object_get(j,
		    "exact_fallback")), (int)i);
		json_decref(j);
		html = read_text(dir, "report.html");
		assert_non_null(strstr(html, "certified bound <b>97.51</b>"));
		assert_int_equal(strstr(html, "fell back to exact mode") != NULL,
		    (int)i);
		free(html);
		report_free(&run);
	}
	rm_tree(parent);
	free(dir);
	free(parent);
}

/* Free two runs and their folders under parent. */
static void
two_runs_free(struct report_run *prev, struct report_run *run, char *parent,
    char *d1, char *d2)
{
	report_free(prev);
	report_free(run);
	rm_tree(parent);
	free(d1);
	free(d2);
	free(parent);
}

/* The run before the tiny run: r1, with its plan. */
static void
previous_run(struct report_run *run)
{
	memset(run, 0, sizeof *run);
	snprintf(run->run_id, sizeof run->run_id, "r1");
	run->created = 1767150000;
	snprintf(run->status, sizeof run->status, "optimal");
	run->objective = 90;
	run->bound = 90;
	run->gap = 0;
	run->customers = 7;
	run->assignments = 4;
	run->noffers = 3;
	run->offers = calloc(3, sizeof *run->offers);
	snprintf(run->offers[0].name, CONF_NAME_MAX, "card");
	run->offers[0].budget = 2;
	run->offers[0].capacity = -1;
	run->offers[0].sends = 1;
	run->offers[0].shadow_price_budget = 12;
	snprintf(run->offers[1].name, CONF_NAME_MAX, "phone");
	run->offers[1].budget = -1;
	run->offers[1].capacity = 1;
	run->offers[1].sends = 1;
	run->offers[1].shadow_price_capacity = 5;
	snprintf(run->offers[2].name, CONF_NAME_MAX, "old");
	run->offers[2].budget = -1;
	run->offers[2].capacity = -1;
	run->offers[2].sends = 1;
}

/*
 * Changes: r1 planned c1 card, c2 phone, c3 tips, c9 old; r2 plans c1 card,
 * c1 tips, c2 card, c2 phone, c3 tips. New: (c1,tips), (c2,card) = 2.
 * Dropped: (c9,old) = 1. Sends: card 1 -> 2, phone 1 -> 1, tips 0 -> 2 (new
 * offer), old 1 -> 0 (no longer offered). Objective 90 -> 97. Long on
 * purpose: the two runs as literal fixtures, then one assertion per change.
 */
static void
test_changes(void **state)
{
	struct report_run prev, run;
	char	*parent = tmp_parent(), *d1 = run_dir(parent, "r1");
	char	*d2 = run_dir(parent, "r2"), *cause = NULL, *html, id[64];
	char	 path[512];
	json_t	*j, *c, *a, *o;

	(void)state;
	previous_run(&prev);
	write_text(d1, "assignments.csv", "customer,offer,channel,expected_value\n"
	    "c1,card,email,48\nc2,phone,sms,19\nc3,tips,email,0.5\n"
	    "c9,old,email,3\n");
	assert_int_equal(report_write(&prev, d1, &cause), 0);

	/* r1 is the only other run folder: it is the previous one. */
	assert_int_equal(report_find_previous(d2, id, sizeof id), 1);
	assert_string_equal(id, "r1");
	assert_int_equal(report_find_previous(d1, id, sizeof id), 0);

	tiny_run(&run);
	snprintf(run.previous_run_id, sizeof run.previous_run_id, "%s", id);
	write_text(d2, "assignments.csv", "customer,offer,channel,expected_value\n"
	    "c1,card,email,48\nc1,tips,email,1.5\nc2,card,email,28\n"
	    "c2,phone,sms,19\nc3,tips,email,0.5\n");
	assert_int_equal(report_write(&run, d2, &cause), 0);

	snprintf(path, sizeof path, "%s/summary.json", d2);
	j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j,
	    "previous_run_id")), "r1");
	c = json_object_get(j, "changes");
	assert_true(json_is_object(c));
	assert_string_equal(json_string_value(json_object_get(c,
	    "previous_run_id")), "r1");
	assert_float_equal(jnum(c, "objective_before"), 90, EPS);
	assert_float_equal(jnum(c, "objective_after"), 97, EPS);
	assert_float_equal(jnum(c, "objective_change"), 7, EPS);
	assert_int_equal((long)jnum(c, "assignments_before"), 4);
	assert_int_equal((long)jnum(c, "assignments_after"), 5);
	assert_int_equal((long)jnum(c, "new_assignments"), 2);
	assert_int_equal((long)jnum(c, "dropped_assignments"), 1);
	a = json_object_get(c, "offers");
	assert_int_equal(json_array_size(a), 4);
	o = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "card");
	assert_int_equal((long)jnum(o, "sends_before"), 1);
	assert_int_equal((long)jnum(o, "sends_after"), 2);
	assert_int_equal((long)jnum(o, "sends_change"), 1);
	assert_float_equal(jnum(o, "shadow_price_budget_before"), 12, EPS);
	assert_float_equal(jnum(o, "shadow_price_budget_after"), 9, EPS);
	o = json_array_get(a, 1);
	assert_float_equal(jnum(o, "shadow_price_capacity_before"), 5, EPS);
	assert_float_equal(jnum(o, "shadow_price_capacity_after"), 4, EPS);
	o = json_array_get(a, 2);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "tips");
	assert_true(json_is_false(json_object_get(o, "in_before")));
	assert_int_equal((long)jnum(o, "sends_after"), 2);
	o = json_array_get(a, 3);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "old");
	assert_true(json_is_false(json_object_get(o, "in_after")));
	assert_int_equal((long)jnum(o, "sends_change"), -1);
	json_decref(j);

	html = read_text(d2, "report.html");
	assert_non_null(strstr(html, "Changes against the previous run "
	    "<code>r1</code>"));
	assert_non_null(strstr(html, "no longer offered"));
	assert_non_null(strstr(html, "new offer"));
	assert_null(strstr(html, "This is the first run"));
	free(html);

	/* Without r2's assignments.csv, new/dropped are unknown (null). */
	snprintf(path, sizeof path, "%s/assignments.csv", d2);
	unlink(path);
	assert_int_equal(report_write(&run, d2, &cause), 0);
	snprintf(path, sizeof path, "%s/summary.json", d2);
	j = json_load_file(path, 0, NULL);
	c = json_object_get(j, "changes");
	assert_true(json_is_null(json_object_get(c, "new_assignments")));
	assert_true(json_is_null(json_object_get(c, "dropped_assignments")));
	json_decref(j);

	/* A previous run that does not exist: a note, not a failure. */
	snprintf(run.previous_run_id, sizeof run.previous_run_id, "gone");
	assert_int_equal(report_write(&run, d2, &cause), 0);
	j = json_load_file(path, 0, NULL);
	assert_true(json_is_null(json_object_get(j, "changes")));
	assert_non_null(strstr(json_string_value(json_object_get(j,
	    "changes_note")), "gone"));
	json_decref(j);

	two_runs_free(&prev, &run, parent, d1, d2);
}

/* The four-fifths rule: exactly 4/5 is not flagged; empty segments never. */
static void
test_flag_boundary(void **state)
{
	struct report_run run;
	struct report_segment seg[3];

	(void)state;
	memset(&run, 0, sizeof run);
	memset(seg, 0, sizeof seg);
	seg[0].customers = 10;
	seg[0].allocated = 5;		/* 0.5 */
	seg[1].customers = 10;
	seg[1].allocated = 4;		/* 0.4 = 4/5 of 0.5: not flagged */
	seg[2].customers = 0;		/* empty */
	run.segments = seg;
	run.nsegments = 3;
	assert_false(report_segment_flagged(&run, 0));
	assert_false(report_segment_flagged(&run, 1));
	assert_false(report_segment_flagged(&run, 2));
	seg[1].allocated = 3;
	assert_true(report_segment_flagged(&run, 1));
	assert_false(report_segment_flagged(&run, 7));
}

/* Malformed summaries fail with file and field named. */
static void
test_load_errors(void **state)
{
	struct report_run run;
	char	*parent = tmp_parent(), *cause = NULL, path[512];

	(void)state;
	write_text(parent, "a.json", "{\"objective\": \"high\"}");
	snprintf(path, sizeof path, "%s/a.json", parent);
	assert_int_equal(report_load_summary(path, &run, &cause), -1);
	assert_non_null(strstr(cause, "a.json"));
	assert_non_null(strstr(cause, "objective"));
	free(cause);
	cause = NULL;

	write_text(parent, "b.json", "{\"objective\": 1, \"offers\": "
	    "[{\"name\": \"x\", \"spend\": 1}]}");
	snprintf(path, sizeof path, "%s/b.json", parent);
	assert_int_equal(report_load_summary(path, &run, &cause), -1);
	assert_non_null(strstr(cause, "offers[0].sends"));
	free(cause);
	cause = NULL;

	write_text(parent, "c.json", "{not json");
	snprintf(path, sizeof path, "%s/c.json", parent);
	assert_int_equal(report_load_summary(path, &run, &cause), -1);
	assert_non_null(strstr(cause, "c.json:1"));
	free(cause);
	cause = NULL;

	snprintf(path, sizeof path, "%s/missing.json", parent);
	assert_int_equal(report_load_summary(path, &run, &cause), -1);
	free(cause);

	assert_string_equal(report_nothing_name(REPORT_NOTHING_SUPPRESSED),
	    "suppressed");
	assert_string_equal(report_nothing_name(REPORT_NOTHING_NREASONS), "unknown");
	rm_tree(parent);
	free(parent);
}

/* An empty run (no offers, no customers) still writes a valid page. */
static void
test_empty_run(void **state)
{
	struct report_run run;
	char	*parent = tmp_parent(), *dir = run_dir(parent, "e"), *cause = NULL;
	char	*html;

	(void)state;
	memset(&run, 0, sizeof run);
	snprintf(run.run_id, sizeof run.run_id, "e");
	snprintf(run.status, sizeof run.status, "empty");
	assert_int_equal(report_write(&run, dir, &cause), 0);
	html = read_text(dir, "report.html");
	assert_non_null(strstr(html, "There was nothing to plan"));
	assert_non_null(strstr(html, "No offer has a budget"));
	assert_null(strstr(html, "nan"));
	free(html);
	rm_tree(parent);
	free(dir);
	free(parent);
}

/*
 * With PACER_REPORT_OUT=DIR, write the tiny run (r2, with r1 before it)
 * into DIR and exit: tests/integration/test_report_render.py renders it.
 */
static int
write_sample(const char *parent)
{
	struct report_run prev, run;
	char	*d1, *d2, *cause = NULL;

	mkdir(parent, 0755);
	d1 = run_dir(parent, "r1");
	d2 = run_dir(parent, "r2");
	previous_run(&prev);
	write_text(d1, "assignments.csv", "customer,offer,channel,expected_value\n"
	    "c1,card,email,48\nc2,phone,sms,19\nc3,tips,email,0.5\n"
	    "c9,old,email,3\n");
	tiny_run(&run);
	snprintf(run.previous_run_id, sizeof run.previous_run_id, "r1");
	write_text(d2, "assignments.csv", "customer,offer,channel,expected_value\n"
	    "c1,card,email,48\nc1,tips,email,1.5\nc2,card,email,28\n"
	    "c2,phone,sms,19\nc3,tips,email,0.5\n");
	if (report_write(&prev, d1, &cause) != 0 ||
	    report_write(&run, d2, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	report_free(&prev);
	report_free(&run);
	free(d1);
	free(d2);
	return 0;
}

/*
 * assignments.csv of customers lo..hi-1 (offer card), in a scrambled
 * order (caller frees).
 */
static char *
many_assignments(int lo, int hi)
{
	size_t	 cap = 64 + (size_t)(hi - lo) * 40, len;
	char	*t = malloc(cap);
	int	 n = hi - lo;

	assert_non_null(t);
	len = (size_t)snprintf(t, cap, "customer,offer,channel,expected_value\n");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len, "c%07d,card,email,1\n",
		    lo + (int)(((int64_t)i * 7919) % n));
	return t;
}

/*
 * New and dropped assignments over thousands of rows (each run's pairs
 * sorted before they are merged): r1 plans c0..c2999, r2 c1000..c4999,
 * each in a scrambled order: 2000 new, 1000 dropped.
 */
static void
test_changes_many(void **state)
{
	struct report_run prev, run;
	char	*parent = tmp_parent(), *d1 = run_dir(parent, "r1");
	char	*d2 = run_dir(parent, "r2"), *cause = NULL, *text, path[512];
	json_t	*j, *c;

	(void)state;
	previous_run(&prev);
	text = many_assignments(0, 3000);
	write_text(d1, "assignments.csv", text);
	free(text);
	assert_int_equal(report_write(&prev, d1, &cause), 0);
	tiny_run(&run);
	snprintf(run.previous_run_id, sizeof run.previous_run_id, "r1");
	text = many_assignments(1000, 5000);
	write_text(d2, "assignments.csv", text);
	free(text);
	assert_int_equal(report_write(&run, d2, &cause), 0);
	snprintf(path, sizeof path, "%s/summary.json", d2);
	j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	c = json_object_get(j, "changes");
	assert_int_equal((long)jnum(c, "new_assignments"), 2000);
	assert_int_equal((long)jnum(c, "dropped_assignments"), 1000);
	json_decref(j);
	two_runs_free(&prev, &run, parent, d1, d2);
}

int
main(void)
{
	const char *out = getenv("PACER_REPORT_OUT");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_figures),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_changes_many),
		cmocka_unit_test(test_flag_boundary),
		cmocka_unit_test(test_bound_rounded_up),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_empty_run),
	};

	if (out != NULL && *out != '\0')
		return write_sample(out);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
