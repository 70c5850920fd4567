/*
 * simulate_html.c: the what-if replay as one self-contained page (inline
 * CSS and SVG, no script, no URL), drawn with the project's SVG writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pacer/simulate.h"
#include "pacer/svg.h"

static void	 sim_num(struct svg_buf *, double);
static void	 sim_change(struct svg_buf *, long);
static const char **sim_rule_union(const struct simulate_result *,
		    const struct simulate_result *, int *);
static void	 sim_chart(struct svg_buf *, const char **, int,
		    const struct simulate_result *,
		    const struct simulate_result *, int, const char *);
static void	 sim_time(int64_t, char *, size_t);
static void	 sim_verdict(struct svg_buf *, const char *, const char *,
		    const struct simulate_result *, const char *,
		    const struct simulate_result *);
static void	 sim_explain(struct svg_buf *, const struct simulate_result *);
static void	 sim_charts(struct svg_buf *, const char **, int,
		    const struct simulate_result *,
		    const struct simulate_result *);
static void	 sim_table_row(struct svg_buf *, const char *,
		    const struct simulate_result *,
		    const struct simulate_result *);
static void	 sim_table(struct svg_buf *, const char **, int,
		    const struct simulate_result *,
		    const struct simulate_result *);
static int	 sim_write_file(const char *, const struct svg_buf *,
		    char **);

static const char sim_css[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
	"max-width:1100px;margin:0 auto;padding:24px;color:#1d1d1d;"
	"line-height:1.45}"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;"
	"border-top:1px solid #ddd;padding-top:.6em}"
	".verdict{font-size:1.15em;padding:10px 14px;border-left:6px solid "
	"#0072b2;background:#eef5fb}"
	"p.explain{color:#3a3a3a;max-width:72em}"
	"table{border-collapse:collapse;font-size:.9em}"
	"th,td{padding:3px 8px;border-bottom:1px solid #e2e2e2;text-align:left}"
	"th{background:#f5f5f5}td.n,th.n{text-align:right;"
	"font-variant-numeric:tabular-nums}"
	".up{color:#c0392b}.down{color:#009e73}.muted{color:#777}"
	"svg.chart{max-width:100%;height:auto;display:block}"
	"@media print{body{max-width:none;padding:0;font-size:10pt}"
	"section,figure,table{break-inside:avoid}.verdict,th{background:none}}";

/* Append a count formatted for people. */
static void
sim_num(struct svg_buf *b, double v)
{
	char	 buf[64];

	svg_printf(b, "%s", svg_number(v, 0, buf, sizeof buf));
}

/* A signed change cell: red when more contacts are denied, green fewer. */
static void
sim_change(struct svg_buf *b, long d)
{
	svg_printf(b, "<td class=\"n %s\">%s", d > 0 ? "up" : (d < 0 ? "down" :
	    "muted"), d > 0 ? "+" : "");
	sim_num(b, (double)d);
	svg_printf(b, "</td>");
}

/* The rules of both replays in one order: proposed first, then current. */
static const char **
sim_rule_union(const struct simulate_result *p, const struct simulate_result *c,
    int *n)
{
	const char	**names;
	int		 i, m = 0;

	names = calloc((size_t)(p->nrules + (c ? c->nrules : 0) + 1),
	    sizeof *names);
	if (names == NULL)
		return NULL;
	for (i = 0; i < p->nrules; i++)
		names[m++] = p->rules[i].text;
	for (i = 0; c != NULL && i < c->nrules; i++)
		if (simulate_find_rule(p, c->rules[i].text) == NULL)
			names[m++] = c->rules[i].text;
	*n = m;
	return names;
}

/* One chart of a figure (denied contacts or customers) per rule. */
static void
sim_chart(struct svg_buf *b, const char **names, int n,
    const struct simulate_result *p, const struct simulate_result *c,
    int customers, const char *title)
{
	struct svg_bar	*bars = calloc((size_t)(n ? n : 1), sizeof *bars);
	char		(*notes)[96] = calloc((size_t)(n ? n : 1), sizeof *notes);
	struct svg_chart ch = { title, customers ? "customers affected" :
	    "contacts denied", NULL, 640, 0 };
	char		 a[64], d[64], e[64];
	int		 i;

	if (bars == NULL || notes == NULL) {
		free(bars);
		free(notes);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct simulate_rule *rp = simulate_find_rule(p, names[i]);
		const struct simulate_rule *rc = c ? simulate_find_rule(c,
		    names[i]) : NULL;
		long vp = rp ? (customers ? rp->customers : rp->denied) : 0;
		long vc = rc ? (customers ? rc->customers : rc->denied) : 0;

		bars[i].label = names[i];
		bars[i].value = (double)vp;
		/* The current config's figure is the marker to compare with. */
		bars[i].limit = c != NULL ? (double)vc : -1;
		bars[i].highlight = c != NULL && vp > vc;
		if (c != NULL)
			snprintf(notes[i], sizeof notes[i], "%s (now %s, %s%s)",
			    svg_number((double)vp, 0, a, sizeof a),
			    svg_number((double)vc, 0, d, sizeof d),
			    vp - vc > 0 ? "+" : "",
			    svg_number((double)(vp - vc), 0, e, sizeof e));
		else
			svg_number((double)vp, 0, notes[i], sizeof notes[i]);
		bars[i].note = notes[i];
	}
	svg_hbars(b, &ch, bars, n);
	free(bars);
	free(notes);
}

/* A unix time as "YYYY-MM-DD HH:MM" (UTC) in buf. */
static void
sim_time(int64_t t, char *buf, size_t len)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

/* The page's head, its title and the verdict: what both configs deny. */
static void
sim_verdict(struct svg_buf *b, const char *contacts_name,
    const char *proposed_name, const struct simulate_result *p,
    const char *current_name, const struct simulate_result *c)
{
	char	 t0[32], t1[32];

	sim_time(p->first_time, t0, sizeof t0);
	sim_time(p->last_time, t1, sizeof t1);
	svg_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\"><title>pacer simulate</title><style>%s</style>"
	    "</head><body>\n<h1>What-if: <code>", sim_css);
	svg_escape(b, proposed_name);
	svg_printf(b, "</code></h1>\n<p class=\"verdict\">Replaying ");
	sim_num(b, (double)p->contacts);
	svg_printf(b, " contacts of ");
	sim_num(b, (double)p->customers);
	svg_printf(b, " customers (<code>");
	svg_escape(b, contacts_name);
	svg_printf(b, "</code>, %s to %s UTC), the proposed caps would deny <b>",
	    t0, t1);
	sim_num(b, (double)p->denied);
	svg_printf(b, "</b> contacts of <b>");
	sim_num(b, (double)p->customers_denied);
	svg_printf(b, "</b> customers");
	if (c != NULL) {
		svg_printf(b, "; the current config (<code>");
		svg_escape(b, current_name);
		svg_printf(b, "</code>) denies ");
		sim_num(b, (double)c->denied);
		svg_printf(b, " contacts of ");
		sim_num(b, (double)c->customers_denied);
		svg_printf(b, " customers");
	}
	svg_printf(b, ".</p>\n");
}

/* How the replay counts, and what it could not evaluate. */
static void
sim_explain(struct svg_buf *b, const struct simulate_result *p)
{
	svg_printf(b, "<p class=\"explain\">Each contact of the log is "
	    "checked, in time order, by the same rule engine pacerd uses, "
	    "against the customer's earlier contacts that the replay allowed: "
	    "a denied contact is not sent, so it does not count against later "
	    "ones. A contact denied by several rules is counted under the one "
	    "pacerd would name. %s%s</p>\n",
	    p->profiles ? "Consent, quiet hours (in each customer's time zone) "
	    "and segments come from the profiles file." : "No profiles were "
	    "given, so consent, quiet hours and segment rules are not "
	    "evaluated.",
	    p->profiles && !p->categories ? " Offer categories were not "
	    "known, so segment exclusions are not evaluated." : "");
}

/* The two chart sections: contacts denied and customers affected. */
static void
sim_charts(struct svg_buf *b, const char **names, int n,
    const struct simulate_result *p, const struct simulate_result *c)
{
	svg_printf(b, "<section><h2>Contacts denied per rule</h2>\n"
	    "<p class=\"explain\">How many contacts of the log each rule would "
	    "have denied under the proposed config%s. Held by schedule: of "
	    "those, the ones a request with \"schedule\": true would have "
	    "held until next_allowed instead of dropping. Shadow caps are "
	    "counted "
	    "but never deny.</p>\n", c != NULL ? "; the dashed mark is the "
	    "current config's figure and a red bar denies more than today" : "");
	sim_chart(b, names, n, p, c, 0, "Contacts denied per rule");
	svg_printf(b, "</section>\n<section><h2>Customers affected per rule"
	    "</h2>\n<p class=\"explain\">How many distinct customers had at "
	    "least one contact denied by the rule.</p>\n");
	sim_chart(b, names, n, p, c, 1, "Customers affected per rule");
	svg_printf(b, "</section>\n");
}

/* One rule's row of the table: proposed, then current and the change. */
static void
sim_table_row(struct svg_buf *b, const char *name,
    const struct simulate_result *p, const struct simulate_result *c)
{
	const struct simulate_rule *rp = simulate_find_rule(p, name);
	const struct simulate_rule *rc = c ? simulate_find_rule(c, name) :
	    NULL;
	const struct simulate_rule *any = rp ? rp : rc;

	svg_printf(b, "<tr><td>");
	svg_escape(b, name);
	svg_printf(b, "</td><td>%s</td><td class=\"n\">",
	    simulate_kind_name(any->kind));
	if (rp != NULL) {
		sim_num(b, (double)rp->denied);
		svg_printf(b, "</td><td class=\"n\">");
		sim_num(b, (double)rp->customers);
		svg_printf(b, "</td><td class=\"n\">");
		sim_num(b, (double)rp->held);
	} else
		svg_printf(b, "<span class=\"muted\">not in proposed"
		    "</span></td><td class=\"n\"></td><td class=\"n\">");
	svg_printf(b, "</td>");
	if (c != NULL) {
		svg_printf(b, "<td class=\"n\">");
		if (rc != NULL) {
			sim_num(b, (double)rc->denied);
			svg_printf(b, "</td><td class=\"n\">");
			sim_num(b, (double)rc->customers);
		} else
			svg_printf(b, "<span class=\"muted\">not in "
			    "current</span></td><td class=\"n\">");
		svg_printf(b, "</td>");
		sim_change(b, (rp ? rp->denied : 0) - (rc ? rc->denied : 0));
		sim_change(b, (rp ? rp->customers : 0) -
		    (rc ? rc->customers : 0));
	}
	svg_printf(b, "</tr>\n");
}

/* The numbers: a row per rule and the totals, closing the page. */
static void
sim_table(struct svg_buf *b, const char **names, int n,
    const struct simulate_result *p, const struct simulate_result *c)
{
	int	i;

	svg_printf(b, "<section><h2>The numbers</h2>\n<table><tr>"
	    "<th>Rule</th><th>Kind</th><th class=\"n\">Denied</th>"
	    "<th class=\"n\">Customers</th><th class=\"n\" title=\"denials "
	    "that &quot;schedule&quot;: true would hold until next_allowed\">"
	    "Held by schedule</th>");
	if (c != NULL)
		svg_printf(b, "<th class=\"n\">Denied now</th><th class=\"n\">"
		    "Customers now</th><th class=\"n\">Change in denied</th>"
		    "<th class=\"n\">Change in customers</th>");
	svg_printf(b, "</tr>\n");
	for (i = 0; i < n; i++)
		sim_table_row(b, names[i], p, c);
	svg_printf(b, "<tr><th>All rules</th><th></th><th class=\"n\">");
	sim_num(b, (double)p->denied);
	svg_printf(b, "</th><th class=\"n\">");
	sim_num(b, (double)p->customers_denied);
	svg_printf(b, "</th><th class=\"n\">");
	sim_num(b, (double)p->held);
	svg_printf(b, "</th>");
	if (c != NULL) {
		svg_printf(b, "<th class=\"n\">");
		sim_num(b, (double)c->denied);
		svg_printf(b, "</th><th class=\"n\">");
		sim_num(b, (double)c->customers_denied);
		svg_printf(b, "</th>");
		sim_change(b, p->denied - c->denied);
		sim_change(b, p->customers_denied - c->customers_denied);
	}
	svg_printf(b, "</tr></table></section>\n</body></html>\n");
}

/* Write the page in b to path; 0, or -1 with *cause set. */
static int
sim_write_file(const char *path, const struct svg_buf *b, char **cause)
{
	FILE	*fp;

	fp = fopen(path, "w");
	if (fp != NULL && fwrite(b->data, 1, b->len, fp) != b->len) {
		fclose(fp);
		fp = NULL;
	}
	if (fp == NULL || fclose(fp) != 0) {
		size_t len = strlen(path) + 64;

		if ((*cause = malloc(len)) != NULL)
			snprintf(*cause, len, "%s: cannot write", path);
		return -1;
	}
	return 0;
}

/* Write the replay as a self-contained page at path; 0 or -1. */
int
simulate_write_html(const char *path, const char *contacts_name,
    const char *proposed_name, const struct simulate_result *p,
    const char *current_name, const struct simulate_result *c, char **cause)
{
	struct svg_buf	 b;
	const char	**names;
	int		 n = 0, rv;

	if ((names = sim_rule_union(p, c, &n)) == NULL) {
		*cause = strdup("out of memory");
		return -1;
	}
	svg_buf_init(&b);
	sim_verdict(&b, contacts_name, proposed_name, p, current_name, c);
	sim_explain(&b, p);
	sim_charts(&b, names, n, p, c);
	sim_table(&b, names, n, p, c);
	free(names);
	if (b.failed) {
		svg_buf_free(&b);
		*cause = strdup("out of memory");
		return -1;
	}
	rv = sim_write_file(path, &b, cause);
	svg_buf_free(&b);
	return rv;
}
