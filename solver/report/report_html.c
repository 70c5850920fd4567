/*
 * report_html.c: report.html, the one page an analyst reads after a run.
 *
 * The page is self-contained (inline CSS and SVG, no script, no URL) so it
 * can be mailed, archived and printed. Each section pairs a chart with its
 * numbers and says in a sentence what the figure means. Every name that
 * comes from data (offers, channels, segments, run ids) is HTML-escaped.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pacer/report.h"
#include "pacer/solver.h"
#include "pacer/svg.h"
#include "report_int.h"
#include "pacer/str.h"

#define HTML_CHART_W	560

static const char report_css[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
	"max-width:1180px;margin:0 auto;padding:24px;color:#1d1d1d;"
	"line-height:1.45;background:#fff}"
	"h1{font-size:1.6em;margin:0 0 .4em}"
	"h2{font-size:1.25em;margin:1.6em 0 .4em;padding-top:.6em;"
	"border-top:1px solid #ddd}"
	"h3{font-size:1.05em;margin:1em 0 .3em}"
	"code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.95em}"
	".verdict{font-size:1.2em;padding:12px 16px;margin:0 0 .6em;"
	"border-left:6px solid #009e73;background:#eef8f4}"
	".verdict.warn{border-color:#e69f00;background:#fdf6e8}"
	".verdict.bad{border-color:#c0392b;background:#fbecec}"
	".verdict b{white-space:nowrap}"
	"p.explain{color:#3a3a3a;max-width:72em;margin:.3em 0 .8em}"
	".pair{display:flex;flex-wrap:wrap;gap:20px 28px;align-items:flex-start}"
	".pair figure{margin:0;flex:0 1 560px}"
	".pair .numbers{flex:0 1 auto}"
	"figure figcaption{font-weight:600;margin:0 0 4px}"
	".wide{overflow-x:auto}"
	"table{border-collapse:collapse;font-size:.88em;margin:.3em 0 .8em}"
	"th,td{padding:3px 8px;border-bottom:1px solid #e2e2e2;text-align:left;"
	"vertical-align:top}"
	"th{background:#f5f5f5;font-weight:600}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	"td.n{white-space:nowrap}th{vertical-align:bottom}"
	"table.offers th{max-width:7.5em}table.offers td{max-width:12em}"
	".flag{color:#c0392b;font-weight:700}"
	".muted{color:#777}"
	"svg.chart{max-width:100%;height:auto;display:block}"
	"nav{font-size:.9em;margin:.4em 0 1em}"
	"nav a{margin-right:1em;color:#0060a0}"
	"footer{margin-top:2em;color:#777;font-size:.85em}"
	"@media print{body{max-width:none;padding:0;font-size:10pt}"
	"nav{display:none}section{break-inside:avoid-page;"
	"page-break-inside:avoid}figure,table{break-inside:avoid}"
	"h2{break-after:avoid;page-break-after:avoid}"
	".verdict{background:none}th{background:none}"
	"a{color:inherit;text-decoration:none}.wide{overflow:visible}}";

/* Append a number formatted for people (see svg_number). */
static void
html_num(struct svg_buf *b, double v, int decimals)
{
	char	 buf[64];

	svg_printf(b, "%s", svg_number(v, decimals, buf, sizeof buf));
}

/* Append a share (0..1) as a percentage with one decimal. */
static void
html_pct(struct svg_buf *b, double share)
{
	char	 buf[64];

	if (!isfinite(share)) {
		svg_printf(b, "n/a");
		return;
	}
	svg_printf(b, "%s%%", svg_number(share * 100, fabs(share) < 0.001 &&
	    share != 0 ? 3 : 1, buf, sizeof buf));
}

/* A numeric table cell. */
static void
html_td_num(struct svg_buf *b, double v, int decimals)
{
	svg_printf(b, "<td class=\"n\">");
	html_num(b, v, decimals);
	svg_printf(b, "</td>");
}

/* A text table cell, escaped. */
static void
html_td(struct svg_buf *b, const char *text)
{
	svg_printf(b, "<td>");
	svg_escape(b, text);
	svg_printf(b, "</td>");
}

/* Open a section with an id and heading; the heading text is escaped. */
static void
html_section(struct svg_buf *b, const char *id, const char *heading)
{
	svg_printf(b, "<section id=\"%s\"><h2>", id);
	svg_escape(b, heading);
	svg_printf(b, "</h2>\n");
}

/* An explanatory paragraph (text is trusted markup from this file). */
static void
html_explain(struct svg_buf *b, const char *markup)
{
	svg_printf(b, "<p class=\"explain\">%s</p>\n", markup);
}

/* Open a figure with a caption, inside a chart-and-numbers pair. */
static void
html_figure(struct svg_buf *b, const char *caption)
{
	svg_printf(b, "<figure><figcaption>");
	svg_escape(b, caption);
	svg_printf(b, "</figcaption>");
}

/* The verdict line and the facts table at the top of the page. */
static void
html_verdict(struct svg_buf *b, const struct report_run *run)
{
	const char *cls = "", *say;
	char	 iso[64];
	time_t	 t = (time_t)run->created;
	struct tm tm;

	if (!strcmp(run->status, "optimal"))
		say = "The plan is proved optimal: no plan under the same rules "
		    "can earn more.";
	else if (!strcmp(run->status, "gap_reached"))
		say = "The plan is certified: no plan under the same rules can "
		    "earn more than the bound, so it is within the gap of the "
		    "best possible.";
	else if (!strcmp(run->status, "time_limit")) {
		cls = " warn";
		say = "The solve stopped at its time limit. The plan is feasible "
		    "and the bound still holds, but the gap is wider than "
		    "asked for.";
	} else if (!strcmp(run->status, "empty")) {
		cls = " warn";
		say = "There was nothing to plan: no customers or no eligible "
		    "(customer, offer) pairs.";
	} else {
		cls = " bad";
		say = "The run did not produce a certified plan; read the run's "
		    "log before publishing it.";
	}
	svg_printf(b, "<p class=\"verdict%s\">Objective <b>", cls);
	html_num(b, run->objective, 2);
	svg_printf(b, "</b> · certified bound <b>");
	html_num(b, solver_round_up(run->bound, 2), 2);
	svg_printf(b, "</b> · gap <b>");
	html_pct(b, run->gap);
	svg_printf(b, "</b> · status <b>");
	svg_escape(b, run->status[0] ? run->status : "unknown");
	svg_printf(b, "</b> · runtime <b>");
	html_num(b, run->runtime_s, run->runtime_s < 10 ? 2 : 1);
	svg_printf(b, " s</b></p>\n");
	svg_printf(b, "<p class=\"explain\">%s The <b>objective</b> is the "
	    "plan's expected net value: for every planned send, the chance the "
	    "customer responds times the offer's margin, minus the cost of the "
	    "send. The <b>certified bound</b> is a proven ceiling on what any "
	    "plan could earn, and the <b>gap</b> is how far below that ceiling "
	    "this plan may be, as a share of the bound.</p>\n", say);
	if (run->exact_fallback)
		svg_printf(b, "<p class=\"explain\">Scale mode stalled above "
		    "the configured gap (many tied propensities leave its prices "
		    "short of it), so the run fell back to exact mode on the "
		    "whole instance; the figures above are that solve's.</p>\n");
	if (run->publish_blocked[0] != '\0') {
		svg_printf(b, "<p class=\"verdict warn\">Not published "
		    "automatically: ");
		svg_escape(b, run->publish_blocked);
		svg_printf(b, ". Review it, then publish it with <code>pacer plan "
		    "publish ");
		svg_escape(b, run->run_id);
		svg_printf(b, " --force</code>.</p>\n");
	}

	svg_printf(b, "<table class=\"facts\"><tr><th>Run</th><td><code>");
	svg_escape(b, run->run_id);
	svg_printf(b, "</code></td><th>Started (UTC)</th><td>");
	if (gmtime_r(&t, &tm) != NULL) {
		strftime(iso, sizeof iso, "%Y-%m-%d %H:%M:%S", &tm);
		svg_escape(b, iso);
	}
	svg_printf(b, "</td><th>Method</th><td>");
	svg_escape(b, run->method);
	svg_printf(b, "</td></tr><tr><th>Customers</th><td class=\"n\">");
	html_num(b, (double)run->customers, 0);
	svg_printf(b, "</td><th>Eligible pairs</th><td class=\"n\">");
	html_num(b, (double)run->eligible_pairs, 0);
	svg_printf(b, "</td><th>Planned sends</th><td class=\"n\">");
	html_num(b, (double)run->assignments, 0);
	svg_printf(b, "</td></tr></table>\n");
	html_explain(b, "<b>Eligible pairs</b> are the (customer, offer) "
	    "combinations with a score; <b>planned sends</b> are the pairs the "
	    "plan chose (one row each in <code>assignments.csv</code>).");
}

/*
 * Bars and their notes for n items (room for one at least); 0, or -1 with
 * neither allocated.
 */
static int
html_bars_new(int n, struct svg_bar **bars, char (**notes)[96])
{
	*bars = calloc((size_t)(n > 0 ? n : 1), sizeof **bars);
	*notes = calloc((size_t)(n > 0 ? n : 1), sizeof **notes);
	if (*bars == NULL || *notes == NULL) {
		free(*bars);
		free(*notes);
		*bars = NULL;
		*notes = NULL;
		return -1;
	}
	return 0;
}

/* A bar per offer with a budget: spend against it. Returns how many. */
static int
html_offer_budget_bars(const struct report_run *run, struct svg_bar *bars,
    char (*notes)[96])
{
	char	 n1[64], n2[64];
	int	 i, n = 0;

	for (i = 0; i < run->noffers; i++) {
		const struct report_offer *o = &run->offers[i];

		if (o->budget < 0)
			continue;
		bars[n].label = o->name;
		bars[n].value = o->spend;
		bars[n].limit = o->budget;
		bars[n].highlight = o->budget_binding;
		snprintf(notes[n], sizeof notes[n], "%s / %s%s",
		    svg_number(o->spend, 0, n1, sizeof n1),
		    svg_number(o->budget, 0, n2, sizeof n2),
		    o->budget_binding ? " binding" : "");
		bars[n].note = notes[n];
		n++;
	}
	return n;
}

/* A bar per offer with a capacity: sends against it. Returns how many. */
static int
html_offer_capacity_bars(const struct report_run *run, struct svg_bar *bars,
    char (*notes)[96])
{
	char	 n1[64], n2[64];
	int	 i, n = 0;

	for (i = 0; i < run->noffers; i++) {
		const struct report_offer *o = &run->offers[i];

		if (o->capacity < 0)
			continue;
		bars[n].label = o->name;
		bars[n].value = (double)o->sends;
		bars[n].limit = (double)o->capacity;
		bars[n].highlight = o->capacity_binding;
		snprintf(notes[n], sizeof notes[n], "%s / %s%s",
		    svg_number((double)o->sends, 0, n1, sizeof n1),
		    svg_number((double)o->capacity, 0, n2, sizeof n2),
		    o->capacity_binding ? " binding" : "");
		bars[n].note = notes[n];
		n++;
	}
	return n;
}

/* A figure of n offer bars, or the sentence none when there are none. */
static void
html_offer_figure(struct svg_buf *b, const char *caption,
    const struct svg_chart *c, const struct svg_bar *bars, int n,
    const char *none)
{
	html_figure(b, caption);
	if (n > 0)
		svg_hbars(b, c, bars, n);
	else
		svg_printf(b, "<p class=\"muted\">%s</p>", none);
}

/* The two offer charts side by side; 0, or -1 when out of memory. */
static int
html_offer_charts(struct svg_buf *b, const struct report_run *run)
{
	struct svg_bar	*bars;
	struct svg_chart c = { NULL, NULL, NULL, HTML_CHART_W, -1 };
	char		(*notes)[96];
	int		 n;

	if (html_bars_new(run->noffers, &bars, &notes) != 0)
		return -1;
	n = html_offer_budget_bars(run, bars, notes);
	svg_printf(b, "<div class=\"pair\">");
	c.title = "Spend against budget per offer";
	c.x_label = "spend (dashed: budget)";
	html_offer_figure(b, "Spend against budget", &c, bars, n,
	    "No offer has a budget.");
	svg_printf(b, "</figure>");

	n = html_offer_capacity_bars(run, bars, notes);
	c.title = "Sends against capacity per offer";
	c.x_label = "sends (dashed: capacity)";
	html_offer_figure(b, "Sends against capacity", &c, bars, n,
	    "No offer has a capacity.");
	svg_printf(b, "</figure></div>\n");
	free(bars);
	free(notes);
	return 0;
}

/* One offer's row of the offers table. */
static void
html_offer_row(struct svg_buf *b, const struct report_offer *o)
{
	svg_printf(b, "<tr>");
	html_td(b, o->name);
	html_td(b, o->channel);
	html_td(b, o->campaign);
	html_td(b, o->category);
	html_td_num(b, (double)o->sends, 0);
	if (o->capacity >= 0)
		html_td_num(b, (double)o->capacity, 0);
	else
		svg_printf(b, "<td class=\"n muted\">none</td>");
	html_td_num(b, o->spend, 2);
	if (o->budget >= 0)
		html_td_num(b, o->budget, 2);
	else
		svg_printf(b, "<td class=\"n muted\">none</td>");
	html_td_num(b, o->expected_value, 2);
	if (o->budget >= 0)
		html_td_num(b, o->shadow_price_budget, 4);
	else
		svg_printf(b, "<td class=\"n muted\">–</td>");
	if (o->capacity >= 0)
		html_td_num(b, o->shadow_price_capacity, 4);
	else
		svg_printf(b, "<td class=\"n muted\">–</td>");
	svg_printf(b, "<td%s>%s%s%s</td></tr>\n",
	    o->budget_binding || o->capacity_binding ?
	    " class=\"flag\"" : "",
	    o->budget_binding ? "budget" : "",
	    o->budget_binding && o->capacity_binding ? ", " : "",
	    o->capacity_binding ? "capacity" :
	    (o->budget_binding ? "" : "<span class=\"muted\">no</span>"));
}

/* The offers section: spend vs budget, sends vs capacity, shadow prices. */
static void
html_offers(struct svg_buf *b, const struct report_run *run)
{
	int	 i;

	html_section(b, "offers", "Offers: spend against budget, sends against "
	    "capacity");
	html_explain(b, "Each bar is what the plan uses; the dashed mark is "
	    "the limit. A <span class=\"flag\">red</span> bar is a "
	    "<b>binding</b> constraint: the limit, not the customers, stopped "
	    "the plan from sending more of that offer. The <b>shadow price</b> "
	    "says what relaxing a limit would earn: for a budget, the expected "
	    "net value one more unit of money would add; for a capacity, what "
	    "one more allowed send would add. A shadow price of 0 means the "
	    "limit costs nothing today.");
	if (html_offer_charts(b, run) != 0) {
		svg_printf(b, "<p>out of memory</p></section>\n");
		return;
	}
	svg_printf(b, "<div class=\"wide\"><table class=\"offers\"><tr>"
	    "<th>Offer</th><th>Channel</th><th>Campaign</th><th>Category</th>"
	    "<th class=\"n\">Sends</th><th class=\"n\">Capacity</th>"
	    "<th class=\"n\">Spend</th><th class=\"n\">Budget</th>"
	    "<th class=\"n\">Expected value</th>"
	    "<th class=\"n\">Shadow price of budget</th>"
	    "<th class=\"n\">Shadow price of capacity</th><th>Binds</th></tr>\n");
	for (i = 0; i < run->noffers; i++)
		html_offer_row(b, &run->offers[i]);
	svg_printf(b, "</table></div>\n");
	html_explain(b, "<b>Expected value</b> is net: the sum over the offer's "
	    "sends of propensity × value − cost. <b>Spend</b> is sends × cost.");
	svg_printf(b, "</section>\n");
}

/* Contacts per customer before and after the plan: chart and table. */
static void
html_contacts_hist(struct svg_buf *b, const struct report_run *run)
{
	static char	 labels[REPORT_HIST_BINS][16];
	const char	*cats[REPORT_HIST_BINS];
	double		 before[REPORT_HIST_BINS], after[REPORT_HIST_BINS];
	struct svg_series s[2] = { { "before", before }, { "after", after } };
	struct svg_chart c = { "Contacts per customer, before and after the "
	    "plan", "contacts in the longest cap window", "customers",
	    HTML_CHART_W, 0 };
	int		 i;

	for (i = 0; i < REPORT_HIST_BINS; i++) {
		snprintf(labels[i], sizeof labels[i], "%d%s", i,
		    i == REPORT_HIST_BINS - 1 ? "+" : "");
		cats[i] = labels[i];
		before[i] = (double)run->hist_before[i];
		after[i] = (double)run->hist_after[i];
	}
	svg_printf(b, "<div class=\"pair\">");
	html_figure(b, "Contacts per customer");
	svg_vbars(b, &c, cats, REPORT_HIST_BINS, s, 2);
	svg_printf(b, "</figure><div class=\"numbers\"><table><tr>"
	    "<th>Contacts</th><th class=\"n\">Customers before</th>"
	    "<th class=\"n\">Customers after</th></tr>\n");
	for (i = 0; i < REPORT_HIST_BINS; i++) {
		svg_printf(b, "<tr><td>%s</td>", labels[i]);
		html_td_num(b, before[i], 0);
		html_td_num(b, after[i], 0);
		svg_printf(b, "</tr>\n");
	}
	svg_printf(b, "</table></div></div>\n");
}

/* Saturation per channel before and after the plan: chart and table. */
static void
html_saturation(struct svg_buf *b, const struct report_run *run)
{
	double		 sb[CONF_MAX_CHANNELS], sa[CONF_MAX_CHANNELS];
	const char	*chan[CONF_MAX_CHANNELS];
	struct svg_series s[2] = { { "before", sb }, { "after", sa } };
	struct svg_chart c = { "Share of customers at their cap, per channel",
	    "channel", "% of customers at cap", HTML_CHART_W, 1 };
	double		 n = run->customers > 0 ? (double)run->customers : 1;
	int		 i;

	svg_printf(b, "<h3>Saturation per channel</h3>\n");
	html_explain(b, "<b>Saturation</b> is the share of customers who have "
	    "no room left under a channel's caps (or the all-channel caps): "
	    "they cannot be contacted on that channel until older contacts "
	    "leave the window. <b>Before</b> is at the start of the run, "
	    "<b>after</b> once the planned sends are made.");
	for (i = 0; i < run->nchannels; i++) {
		chan[i] = run->channels[i].name;
		sb[i] = 100.0 * (double)run->channels[i].saturated_before / n;
		sa[i] = 100.0 * (double)run->channels[i].saturated_after / n;
	}
	svg_printf(b, "<div class=\"pair\">");
	html_figure(b, "Saturation per channel (%)");
	svg_vbars(b, &c, chan, run->nchannels, s, 2);
	svg_printf(b, "</figure><div class=\"numbers\"><table><tr>"
	    "<th>Channel</th><th class=\"n\">At cap before</th>"
	    "<th class=\"n\">At cap after</th><th class=\"n\">Share before</th>"
	    "<th class=\"n\">Share after</th><th class=\"n\">Sends</th></tr>\n");
	for (i = 0; i < run->nchannels; i++) {
		const struct report_channel *ch = &run->channels[i];

		svg_printf(b, "<tr>");
		html_td(b, ch->name);
		html_td_num(b, (double)ch->saturated_before, 0);
		html_td_num(b, (double)ch->saturated_after, 0);
		svg_printf(b, "<td class=\"n\">");
		html_pct(b, (double)ch->saturated_before / n);
		svg_printf(b, "</td><td class=\"n\">");
		html_pct(b, (double)ch->saturated_after / n);
		svg_printf(b, "</td>");
		html_td_num(b, (double)ch->sends, 0);
		svg_printf(b, "</tr>\n");
	}
	svg_printf(b, "</table></div></div>");
}

/* Contacts per customer before/after, and saturation per channel. */
static void
html_contacts(struct svg_buf *b, const struct report_run *run)
{
	html_section(b, "contacts", "Contacts per customer and saturation");
	html_explain(b, "How many contacts each customer has in the longest "
	    "cap window: <b>before</b> counts what they already received, "
	    "<b>after</b> adds the sends this plan proposes. A plan that pushes "
	    "many customers to the right is leaning hard on fatigue; the last "
	    "bar gathers everyone at that count or more.");
	html_contacts_hist(b, run);
	html_saturation(b, run);
	svg_printf(b, "</section>\n");
}

/* Why customers got nothing: counts per reason. */
static void
html_nothing(struct svg_buf *b, const struct report_run *run)
{
	static const char *const label[REPORT_NOTHING_NREASONS] = {
		"No consent", "Saturated", "Holdout", "Segment exclusion",
		"Not worth its cost", "Budget exhausted",
	};
	static const char *const meaning[REPORT_NOTHING_NREASONS] = {
		"has not consented on the channel of any offer scored for them",
		"has no room left under a frequency cap",
		"is in the holdout group, kept out of every plan to measure "
		"the plan's effect",
		"is in a segment that excludes the categories of every offer "
		"scored for them",
		"no scored offer's expected margin covers its cost (and its "
		"shadow price)",
		"offers worth sending exist, but their budget or capacity went "
		"to customers where they earn more",
	};
	struct svg_bar	 bars[REPORT_NOTHING_NREASONS];
	struct svg_chart c = { "Customers who got nothing, by reason",
	    "customers", NULL, HTML_CHART_W, 0 };
	long		 total = report_nothing_total(run);
	double		 n = run->customers > 0 ? (double)run->customers : 1;
	int		 i;

	html_section(b, "nothing", "Why customers got nothing");
	svg_printf(b, "<p class=\"explain\">");
	html_num(b, (double)total, 0);
	svg_printf(b, " of ");
	html_num(b, (double)run->customers, 0);
	svg_printf(b, " customers (");
	html_pct(b, (double)total / n);
	svg_printf(b, ") get no send in this plan. Each is counted once, "
	    "under the first reason that applies, in the order below.</p>\n");
	for (i = 0; i < REPORT_NOTHING_NREASONS; i++) {
		bars[i].label = label[i];
		bars[i].value = (double)run->nothing[i];
		bars[i].limit = -1;
		bars[i].note = NULL;
		bars[i].highlight = 0;
	}
	svg_printf(b, "<div class=\"pair\">");
	html_figure(b, "Customers with nothing planned, by reason");
	svg_hbars(b, &c, bars, REPORT_NOTHING_NREASONS);
	svg_printf(b, "</figure><div class=\"numbers\"><table><tr>"
	    "<th>Reason</th><th class=\"n\">Customers</th>"
	    "<th class=\"n\">Share</th><th>The customer…</th></tr>\n");
	for (i = 0; i < REPORT_NOTHING_NREASONS; i++) {
		svg_printf(b, "<tr><td>%s <code>%s</code></td>", label[i],
		    report_nothing_name(i));
		html_td_num(b, (double)run->nothing[i], 0);
		svg_printf(b, "<td class=\"n\">");
		html_pct(b, (double)run->nothing[i] / n);
		svg_printf(b, "</td><td>%s</td></tr>\n", meaning[i]);
	}
	svg_printf(b, "</table></div></div></section>\n");
}

/* Expected value by channel and by campaign. */
static void
html_value(struct svg_buf *b, const struct report_run *run)
{
	struct svg_bar	*bars;
	struct svg_chart c = { "Expected net value by channel", "expected net "
	    "value", NULL, HTML_CHART_W, 2 };
	int		 i, n;

	html_section(b, "value", "Expected value by channel and campaign");
	html_explain(b, "Where the plan's value comes from: the expected net "
	    "value (propensity × value − cost) of the planned sends, summed "
	    "per channel and per campaign. Each set of bars adds up to the "
	    "objective.");
	n = run->nchannels > run->ncampaigns ? run->nchannels : run->ncampaigns;
	if ((bars = calloc((size_t)(n > 0 ? n : 1), sizeof *bars)) == NULL) {
		svg_printf(b, "<p>out of memory</p></section>\n");
		return;
	}
	for (i = 0; i < run->nchannels; i++) {
		bars[i].label = run->channels[i].name;
		bars[i].value = run->channels[i].expected_value;
		bars[i].limit = -1;
	}
	svg_printf(b, "<div class=\"pair\">");
	html_figure(b, "By channel");
	svg_hbars(b, &c, bars, run->nchannels);
	svg_printf(b, "</figure><div class=\"numbers\"><table><tr>"
	    "<th>Channel</th><th class=\"n\">Sends</th>"
	    "<th class=\"n\">Expected value</th><th class=\"n\">Per send</th>"
	    "</tr>\n");
	for (i = 0; i < run->nchannels; i++) {
		const struct report_channel *ch = &run->channels[i];

		svg_printf(b, "<tr>");
		html_td(b, ch->name);
		html_td_num(b, (double)ch->sends, 0);
		html_td_num(b, ch->expected_value, 2);
		html_td_num(b, ch->sends > 0 ? ch->expected_value /
		    (double)ch->sends : 0, 3);
		svg_printf(b, "</tr>\n");
	}
	svg_printf(b, "</table></div></div>\n");

	for (i = 0; i < run->ncampaigns; i++) {
		bars[i].label = run->campaigns[i].name;
		bars[i].value = run->campaigns[i].expected_value;
		bars[i].limit = -1;
	}
	c.title = "Expected net value by campaign";
	svg_printf(b, "<div class=\"pair\">");
	html_figure(b, "By campaign");
	svg_hbars(b, &c, bars, run->ncampaigns);
	svg_printf(b, "</figure><div class=\"numbers\"><table><tr>"
	    "<th>Campaign</th><th class=\"n\">Sends</th>"
	    "<th class=\"n\">Expected value</th></tr>\n");
	for (i = 0; i < run->ncampaigns; i++) {
		svg_printf(b, "<tr>");
		html_td(b, run->campaigns[i].name);
		html_td_num(b, (double)run->campaigns[i].sends, 0);
		html_td_num(b, run->campaigns[i].expected_value, 2);
		svg_printf(b, "</tr>\n");
	}
	svg_printf(b, "</table></div></div></section>\n");
	free(bars);
}

static void	html_fairness_rows(struct svg_buf *,
		    const struct report_run *);

/*
 * The allocation rate per segment: chart and table. Returns how many
 * segments are flagged, or -1 when out of memory.
 */
static int
html_segment_rates(struct svg_buf *b, const struct report_run *run)
{
	struct svg_bar	*bars;
	char		(*notes)[96];
	char		 n1[64];
	struct svg_chart c = { "Allocation rate per segment", "% of the "
	    "segment's customers with at least one send (dashed: 4/5 of the "
	    "highest)", NULL, HTML_CHART_W, 1 };
	double		 top = report_highest_rate(run);
	int		 i, nflag = 0;

	if (html_bars_new(run->nsegments, &bars, &notes) != 0)
		return -1;
	for (i = 0; i < run->nsegments; i++) {
		const struct report_segment *s = &run->segments[i];
		int flag = report_segment_flagged(run, i);

		nflag += flag;
		bars[i].label = s->name;
		bars[i].value = 100 * report_segment_rate(s);
		bars[i].limit = 80 * top;
		bars[i].highlight = flag;
		snprintf(notes[i], sizeof notes[i], "%s%%%s",
		    svg_number(100 * report_segment_rate(s), 1, n1, sizeof n1),
		    flag ? " flagged" : "");
		bars[i].note = notes[i];
	}
	svg_printf(b, "<div class=\"pair\">");
	html_figure(b, "Allocation rate per segment (%)");
	svg_hbars(b, &c, bars, run->nsegments);
	svg_printf(b, "</figure><div class=\"numbers\"><table><tr>"
	    "<th>Segment</th><th class=\"n\">Customers</th>"
	    "<th class=\"n\">Allocated</th><th class=\"n\">Rate</th>"
	    "<th class=\"n\">Mean EV</th><th>Flag</th></tr>\n");
	for (i = 0; i < run->nsegments; i++) {
		const struct report_segment *s = &run->segments[i];
		int flag = report_segment_flagged(run, i);

		svg_printf(b, "<tr>");
		html_td(b, s->name);
		html_td_num(b, (double)s->customers, 0);
		html_td_num(b, (double)s->allocated, 0);
		svg_printf(b, "<td class=\"n\">");
		html_pct(b, report_segment_rate(s));
		svg_printf(b, "</td>");
		html_td_num(b, s->mean_expected_value, 3);
		svg_printf(b, "<td%s>%s</td></tr>\n", flag ? " class=\"flag\"" : "",
		    flag ? "below 4/5" : "<span class=\"muted\">ok</span>");
	}
	svg_printf(b, "</table></div></div>\n");
	free(bars);
	free(notes);
	return nflag;
}

/* What the rates say: how many segments are flagged, against what. */
static void
html_segment_verdict(struct svg_buf *b, const struct report_run *run,
    int nflag)
{
	svg_printf(b, "<p class=\"explain\">");
	if (run->nsegments == 0)
		svg_printf(b, "No customer of this run carries a segment.");
	else if (nflag == 0)
		svg_printf(b, "No segment is flagged: every allocation rate is at "
		    "least 4/5 of the highest (");
	else
		svg_printf(b, "%d segment%s flagged, below 4/5 of the highest "
		    "allocation rate (", nflag, nflag == 1 ? " is" : "s are");
	if (run->nsegments > 0) {
		html_pct(b, report_highest_rate(run));
		svg_printf(b, ").");
	}
	svg_printf(b, "</p>\n");
}

/* The segments with caps or exclusions of their own, and their rates. */
static void
html_protected(struct svg_buf *b, const struct report_run *run)
{
	int	 i, nprot = 0;

	svg_printf(b, "<h3>Protected segments and their caps</h3>\n");
	html_explain(b, "Segments the configuration protects (for example "
	    "vulnerable customers) have their own caps, counted over all "
	    "channels together, and offer categories never planned for them.");
	svg_printf(b, "<table><tr><th>Segment</th><th>Caps (all channels)</th>"
	    "<th>Never offered</th><th class=\"n\">Rate</th></tr>\n");
	for (i = 0; i < run->nsegments; i++) {
		const struct report_segment *s = &run->segments[i];

		if (s->caps[0] == '\0' && s->exclude[0] == '\0')
			continue;
		nprot++;
		svg_printf(b, "<tr>");
		html_td(b, s->name);
		html_td(b, s->caps[0] ? s->caps : "–");
		html_td(b, s->exclude[0] ? s->exclude : "–");
		svg_printf(b, "<td class=\"n\">");
		html_pct(b, report_segment_rate(s));
		svg_printf(b, "</td></tr>\n");
	}
	if (nprot == 0)
		svg_printf(b, "<tr><td colspan=\"4\" class=\"muted\">No segment "
		    "of this run has caps or exclusions in the configuration."
		    "</td></tr>\n");
	svg_printf(b, "</table>\n");
}

/* Fairness: allocation rate and mean EV per segment, four-fifths flag. */
static void
html_fairness(struct svg_buf *b, const struct report_run *run)
{
	int	 nflag;

	html_section(b, "fairness", "Fairness across segments");
	html_explain(b, "The <b>allocation rate</b> of a segment is the share "
	    "of its customers who get at least one send. Following the "
	    "four-fifths rule of thumb, a segment is <span class=\"flag\">"
	    "flagged</span> when its rate is below 4/5 of the highest "
	    "segment's rate (the dashed mark): not necessarily wrong — "
	    "protective caps are meant to lower it — but worth a look. "
	    "<b>Mean expected value</b> is the segment's expected net value "
	    "divided by its customers.");
	if ((nflag = html_segment_rates(b, run)) < 0) {
		svg_printf(b, "<p>out of memory</p></section>\n");
		return;
	}
	html_segment_verdict(b, run, nflag);
	html_protected(b, run);
	html_fairness_rows(b, run);
	svg_printf(b, "</section>\n");
}

/*
 * The [fairness] rows the optimizer honoured: each segment's sends per
 * customer against min_ratio x the base's, whether the row binds, and its
 * shadow price.
 */
static void
html_fairness_rows(struct svg_buf *b, const struct report_run *run)
{
	int	 i;

	svg_printf(b, "<h3>Fairness constraints</h3>\n");
	html_explain(b, "Each <code>[fairness]</code> segment's planned sends "
	    "per customer must be at least <b>min ratio</b> × the sends per "
	    "customer of the whole base; the optimizer plans within these "
	    "rows. A row <b>binds</b> when one send fewer to the segment "
	    "would break it. Its <b>shadow price</b> is the expected value "
	    "given up for fairness: what the plan loses per send the row "
	    "asks of the segment (0 when the row costs nothing).");
	if (run->nfairness == 0) {
		svg_printf(b, "<p class=\"muted\">No [fairness] rows in the "
		    "configuration.</p>\n");
		return;
	}
	svg_printf(b, "<table><tr><th>Segment</th><th class=\"n\">Customers"
	    "</th><th class=\"n\">Sends</th><th class=\"n\">Sends per "
	    "customer</th><th class=\"n\">Base's</th><th class=\"n\">"
	    "Min ratio</th><th>Binds</th><th class=\"n\">Shadow price</th>"
	    "</tr>\n");
	for (i = 0; i < run->nfairness; i++) {
		const struct report_fairness *f = &run->fairness[i];

		svg_printf(b, "<tr>");
		html_td(b, f->segment);
		html_td_num(b, (double)f->customers, 0);
		html_td_num(b, (double)f->sends, 0);
		html_td_num(b, f->sends_per_customer, 4);
		html_td_num(b, f->base_sends_per_customer, 4);
		html_td_num(b, f->min_ratio, 2);
		svg_printf(b, "<td%s>%s</td>", f->binding ? " class=\"flag\"" :
		    "", f->binding ? "binds" : "<span class=\"muted\">slack"
		    "</span>");
		html_td_num(b, f->shadow_price, 4);
		svg_printf(b, "</tr>\n");
	}
	svg_printf(b, "</table>\n");
}

/* A before → after pair of numbers with the change. */
static void
html_change_cells(struct svg_buf *b, double before, double after, int dec)
{
	html_td_num(b, before, dec);
	html_td_num(b, after, dec);
	svg_printf(b, "<td class=\"n\">%s", after - before > 0 ? "+" : "");
	html_num(b, after - before, dec);
	svg_printf(b, "</td>");
}

/* The run's totals before and after: objective, sends, gap, assignments. */
static void
html_changes_totals(struct svg_buf *b, const struct report_changes *ch)
{
	svg_printf(b, "<table><tr><th></th><th class=\"n\">Previous</th>"
	    "<th class=\"n\">This run</th><th class=\"n\">Change</th></tr>\n"
	    "<tr><td>Objective</td>");
	html_change_cells(b, ch->objective_before, ch->objective_after, 2);
	svg_printf(b, "</tr>\n<tr><td>Planned sends</td>");
	html_change_cells(b, (double)ch->assignments_before,
	    (double)ch->assignments_after, 0);
	svg_printf(b, "</tr>\n<tr><td>Gap</td><td class=\"n\">");
	html_pct(b, ch->gap_before);
	svg_printf(b, "</td><td class=\"n\">");
	html_pct(b, ch->gap_after);
	svg_printf(b, "</td><td></td></tr>\n<tr><td>New assignments</td>"
	    "<td></td><td class=\"n\">");
	if (ch->new_assignments >= 0)
		html_num(b, (double)ch->new_assignments, 0);
	else
		svg_printf(b, "<span class=\"muted\">unknown</span>");
	svg_printf(b, "</td><td></td></tr>\n<tr><td>Dropped assignments</td>"
	    "<td></td><td class=\"n\">");
	if (ch->dropped_assignments >= 0)
		html_num(b, (double)ch->dropped_assignments, 0);
	else
		svg_printf(b, "<span class=\"muted\">unknown</span>");
	svg_printf(b, "</td><td></td></tr></table>\n");
	if (ch->new_assignments < 0)
		html_explain(b, "New and dropped assignments are unknown because "
		    "one of the runs has no <code>assignments.csv</code>.");
}

/* Sends per offer against the previous run's (left out if out of memory). */
static void
html_changes_chart(struct svg_buf *b, const struct report_changes *ch)
{
	struct svg_bar	*bars;
	char		(*notes)[96];
	char		 n1[64], n2[64], n3[64];
	struct svg_chart c = { "Sends per offer, this run against the previous "
	    "run", "sends (dashed: previous run)", NULL, HTML_CHART_W + 80, 0 };
	int		 i;

	if (html_bars_new(ch->noffers, &bars, &notes) != 0)
		return;
	for (i = 0; i < ch->noffers; i++) {
		const struct report_offer_change *o = &ch->offers[i];
		long d = o->sends_after - o->sends_before;

		bars[i].label = o->name;
		bars[i].value = (double)o->sends_after;
		bars[i].limit = (double)o->sends_before;
		snprintf(notes[i], sizeof notes[i], "%s (was %s, %s%s)",
		    svg_number((double)o->sends_after, 0, n1, sizeof n1),
		    svg_number((double)o->sends_before, 0, n2, sizeof n2),
		    d > 0 ? "+" : "", svg_number((double)d, 0, n3,
		    sizeof n3));
		bars[i].note = notes[i];
	}
	svg_printf(b, "<figure><figcaption>Sends per offer: this run, "
	    "the dashed mark is the previous run</figcaption>");
	svg_hbars(b, &c, bars, ch->noffers);
	svg_printf(b, "</figure>\n");
	free(bars);
	free(notes);
}

/* Each offer's sends and shadow prices, before and now. */
static void
html_changes_offers(struct svg_buf *b, const struct report_changes *ch)
{
	int	 i;

	svg_printf(b, "<div class=\"wide\"><table><tr><th>Offer</th>"
	    "<th class=\"n\">Sends before</th><th class=\"n\">Sends now</th>"
	    "<th class=\"n\">Change</th>"
	    "<th class=\"n\">Budget price before</th>"
	    "<th class=\"n\">Budget price now</th>"
	    "<th class=\"n\">Capacity price before</th>"
	    "<th class=\"n\">Capacity price now</th><th></th></tr>\n");
	for (i = 0; i < ch->noffers; i++) {
		const struct report_offer_change *o = &ch->offers[i];

		svg_printf(b, "<tr>");
		html_td(b, o->name);
		html_change_cells(b, (double)o->sends_before,
		    (double)o->sends_after, 0);
		html_td_num(b, o->shadow_budget_before, 4);
		html_td_num(b, o->shadow_budget_after, 4);
		html_td_num(b, o->shadow_capacity_before, 4);
		html_td_num(b, o->shadow_capacity_after, 4);
		svg_printf(b, "<td>%s</td></tr>\n", !o->in_before ? "new offer" :
		    (!o->in_after ? "no longer offered" : ""));
	}
	svg_printf(b, "</table></div>\n");
}

/* Changes against the previous run, named by its run id. */
static void
html_changes(struct svg_buf *b, const struct report_run *run,
    const struct report_changes *ch, const char *note)
{
	svg_printf(b, "<section id=\"changes\"><h2>Changes against the previous "
	    "run");
	if (ch != NULL) {
		svg_printf(b, " <code>");
		svg_escape(b, ch->before_id);
		svg_printf(b, "</code>");
	}
	svg_printf(b, "</h2>\n");
	if (ch == NULL) {
		svg_printf(b, "<p class=\"explain\">");
		if (note != NULL)
			svg_escape(b, note);
		else
			svg_printf(b, "This is the first run: there is no previous "
			    "run to compare against.");
		svg_printf(b, "</p></section>\n");
		return;
	}
	svg_printf(b, "<p class=\"explain\">What moved since run <code>");
	svg_escape(b, ch->before_id);
	svg_printf(b, "</code>: the objective, the sends and shadow prices of "
	    "each offer, and how many (customer, offer) assignments are "
	    "<b>new</b> (in this plan only) or <b>dropped</b> (in the previous "
	    "plan only). A rising shadow price means a limit has become more "
	    "costly to keep.</p>\n");
	html_changes_totals(b, ch);
	html_changes_chart(b, ch);
	html_changes_offers(b, ch);
	(void)run;
	svg_printf(b, "</section>\n");
}

/* Objective and bound over the solve, when the run recorded them. */
static void
html_convergence(struct svg_buf *b, const struct report_run *run)
{
	struct svg_series s[2];
	struct svg_chart c = { "Objective and certified bound during the solve",
	    "seconds", "expected net value", HTML_CHART_W + 100, 2 };
	double	*x, *obj, *bnd;
	int	 i, n = run->niterations;

	if (n <= 0)
		return;
	html_section(b, "convergence", "How the solve converged");
	html_explain(b, "The best plan found so far (objective) rises while "
	    "the certified bound falls; the run stops when they are within "
	    "the configured gap, or at the time limit.");
	x = calloc((size_t)n, sizeof *x);
	obj = calloc((size_t)n, sizeof *obj);
	bnd = calloc((size_t)n, sizeof *bnd);
	if (x != NULL && obj != NULL && bnd != NULL) {
		for (i = 0; i < n; i++) {
			x[i] = run->iterations[i].elapsed_s;
			obj[i] = run->iterations[i].objective;
			bnd[i] = run->iterations[i].bound;
		}
		s[0].name = "objective";
		s[0].values = obj;
		s[1].name = "bound";
		s[1].values = bnd;
		svg_line(b, &c, x, n, s, 2);
	}
	free(x);
	free(obj);
	free(bnd);
	svg_printf(b, "</section>\n");
}

/* Render the page into a new string (caller frees); NULL on no memory. */
char *
report_html(const struct report_run *run, const struct report_changes *changes,
    const char *note)
{
	struct svg_buf b;

	svg_buf_init(&b);
	svg_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"><title>pacer run ");
	svg_escape(&b, run->run_id);
	svg_printf(&b, "</title><style>%s</style></head>\n<body>\n<header>"
	    "<h1>Optimization run <code>", report_css);
	svg_escape(&b, run->run_id);
	svg_printf(&b, "</code></h1>\n");
	html_verdict(&b, run);
	svg_printf(&b, "<nav><a href=\"#offers\">Offers</a>"
	    "<a href=\"#contacts\">Contacts and saturation</a>"
	    "<a href=\"#nothing\">Why nothing</a>"
	    "<a href=\"#value\">Expected value</a>"
	    "<a href=\"#fairness\">Fairness</a>"
	    "<a href=\"#changes\">Changes</a>%s</nav></header>\n",
	    run->niterations > 0 ?
	    "<a href=\"#convergence\">Convergence</a>" : "");
	html_offers(&b, run);
	html_contacts(&b, run);
	html_nothing(&b, run);
	html_value(&b, run);
	html_fairness(&b, run);
	html_changes(&b, run, changes, note);
	html_convergence(&b, run);
	svg_printf(&b, "<footer>Written by <code>pacer optimize</code>. The "
	    "same figures are in <code>summary.json</code> next to this page; "
	    "the plan itself is <code>assignments.csv</code>.</footer>\n"
	    "</body></html>\n");
	if (b.failed) {
		svg_buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* Write dir/report.html; 0 or -1 with *cause set (caller frees). */
int
report_write_html(const struct report_run *run,
    const struct report_changes *changes, const char *note, const char *dir,
    char **cause)
{
	char	*html;
	int	 rc;

	if ((html = report_html(run, changes, note)) == NULL) {
		*cause = str_printf("out of memory");
		return -1;
	}
	rc = report_write_file(dir, "report.html", html, strlen(html), cause);
	free(html);
	return rc;
}
