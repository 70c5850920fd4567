/*
 * pacer simulate: what-if for marketing ops. Replays a contact log through
 * the rule engine under a proposed config (and the current one with
 * --against) and prints, per rule, the contacts it would deny and the
 * customers affected. The work is in solver/simulate/simulate.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "pacer/conf.h"
#include "pacer/offers.h"
#include "pacer/simulate.h"

static const char simulate_usage[] = "usage: pacer simulate -c PROPOSED.conf "
    "--contacts CSV [--against CURRENT.conf] [--profiles CSV] [--html OUT]\n";

/* Progress lines on stderr, at most two a second. */
static void
simulate_progress(void *arg, const char *phase, long done, long total)
{
	struct cmd_progress	*p = arg;

	if (cmd_progress_due(p) || (total > 0 && done == total))
		cmd_progress_line(p, "simulate", !strcmp(phase, "read") ?
		    "contacts read" : "contacts replayed", (uint64_t)done,
		    (uint64_t)total);
}

/* Print n with thousands separators into buf. */
static const char *
simulate_num(long n, char *buf, size_t len)
{
	char	 raw[32];
	size_t	 i, o = 0, rl;
	int	 neg = n < 0;

	snprintf(raw, sizeof raw, "%lu", neg ? 0UL - (unsigned long)n :
	    (unsigned long)n);
	rl = strlen(raw);
	if (neg && o + 1 < len)
		buf[o++] = '-';
	for (i = 0; i < rl && o + 2 < len; i++) {
		if (i > 0 && (rl - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = raw[i];
	}
	buf[o] = '\0';
	return buf;
}

/* Load a config and (when it loads) its offers for categories. */
static struct conf *
simulate_conf(const char *path, struct offers **offers)
{
	struct conf	*conf;
	char		*cause = NULL;

	*offers = NULL;
	if ((conf = conf_load(path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return NULL;
	}
	if (conf->optimizer.offers != NULL &&
	    (*offers = offers_load(conf->optimizer.offers, conf, &cause)) == NULL) {
		cmd_log("simulate", "%s: offers not loaded (%s): segment "
		    "exclusions are not evaluated", path, cause);
		free(cause);
	}
	return conf;
}

/* The terminal table: per rule, proposed and (with current) the change. */
static void
simulate_print(const struct simulate_result *p, const char *pname,
    const struct simulate_result *c, const char *cname)
{
	char	 a[32], b[32], d[32], e[32], f[32], g[32], h[32];
	int	 i, w = 28;

	for (i = 0; i < p->nrules; i++)
		if ((int)strlen(p->rules[i].text) > w)
			w = (int)strlen(p->rules[i].text);
	for (i = 0; c != NULL && i < c->nrules; i++)
		if ((int)strlen(c->rules[i].text) > w)
			w = (int)strlen(c->rules[i].text);
	printf("replayed %s contacts of %s customers in %.2f s\n",
	    simulate_num(p->contacts, a, sizeof a),
	    simulate_num(p->customers, b, sizeof b), p->seconds);
	printf("proposed %s: %s contacts denied (%.2f%%), %s customers "
	    "affected\n", pname, simulate_num(p->denied, a, sizeof a),
	    p->contacts ? 100.0 * (double)p->denied / (double)p->contacts : 0.0,
	    simulate_num(p->customers_denied, b, sizeof b));
	if (c != NULL)
		printf("current  %s: %s contacts denied (%.2f%%), %s customers "
		    "affected\n", cname, simulate_num(c->denied, a, sizeof a),
		    c->contacts ? 100.0 * (double)c->denied /
		    (double)c->contacts : 0.0,
		    simulate_num(c->customers_denied, b, sizeof b));
	if (!p->profiles)
		printf("(no --profiles: consent, quiet hours and segment rules "
		    "not evaluated)\n");
	printf("(held: denials that \"schedule\": true would hold until "
	    "next_allowed instead)\n");
	printf("\n%-*s %12s %10s %10s", w, "rule", "denied", "customers",
	    "held");
	if (c != NULL)
		printf(" %12s %10s %12s %10s", "now denied", "now cust.",
		    "change", "change");
	printf("\n");
	for (i = 0; i < p->nrules; i++) {
		const struct simulate_rule *r = &p->rules[i];
		const struct simulate_rule *o = c ? simulate_find_rule(c, r->text) :
		    NULL;

		printf("%-*s %12s %10s %10s", w, r->text,
		    simulate_num(r->denied, a, sizeof a),
		    simulate_num(r->customers, b, sizeof b),
		    r->kind == SIMULATE_SHADOW ? "-" :
		    simulate_num(r->held, h, sizeof h));
		if (c != NULL && o != NULL)
			printf(" %12s %10s %12s %10s",
			    simulate_num(o->denied, d, sizeof d),
			    simulate_num(o->customers, e, sizeof e),
			    simulate_num(r->denied - o->denied, f, sizeof f),
			    simulate_num(r->customers - o->customers, g, sizeof g));
		else if (c != NULL)
			printf(" %12s %10s %12s %10s", "-", "-",
			    simulate_num(r->denied, f, sizeof f),
			    simulate_num(r->customers, g, sizeof g));
		printf("%s\n", r->kind == SIMULATE_SHADOW ? "  (shadow)" : "");
	}
	for (i = 0; c != NULL && i < c->nrules; i++) {
		const struct simulate_rule *o = &c->rules[i];

		if (simulate_find_rule(p, o->text) != NULL)
			continue;
		printf("%-*s %12s %10s %10s %12s %10s %12s %10s  (current only)\n",
		    w, o->text, "-", "-", "-", simulate_num(o->denied, d, sizeof d),
		    simulate_num(o->customers, e, sizeof e),
		    simulate_num(-o->denied, f, sizeof f),
		    simulate_num(-o->customers, g, sizeof g));
	}
	printf("%-*s %12s %10s %10s", w, "all rules",
	    simulate_num(p->denied, a, sizeof a),
	    simulate_num(p->customers_denied, b, sizeof b),
	    simulate_num(p->held, h, sizeof h));
	if (c != NULL)
		printf(" %12s %10s %12s %10s",
		    simulate_num(c->denied, d, sizeof d),
		    simulate_num(c->customers_denied, e, sizeof e),
		    simulate_num(p->denied - c->denied, f, sizeof f),
		    simulate_num(p->customers_denied - c->customers_denied, g,
		    sizeof g));
	printf("\n");
}

/* What pacer simulate was asked for. */
struct simulate_args {
	const char	*conf_path;	/* the proposed config */
	const char	*contacts;
	const char	*against;	/* the current config, or NULL */
	const char	*profiles;	/* or NULL */
	const char	*html;		/* the page to write, or NULL */
};

/*
 * Parse the arguments into a: 0, 1 when --help was answered, -1 for a
 * usage error.
 */
static int
simulate_args(int argc, char **argv, struct simulate_args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "contacts", required_argument, NULL, 'k' },
		{ "against", required_argument, NULL, 'a' },
		{ "profiles", required_argument, NULL, 'p' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;

	memset(a, 0, sizeof *a);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			a->conf_path = optarg;
			break;
		case 'k':
			a->contacts = optarg;
			break;
		case 'a':
			a->against = optarg;
			break;
		case 'p':
			a->profiles = optarg;
			break;
		case 'H':
			a->html = optarg;
			break;
		case 'h':
			printf("%s", simulate_usage);
			return 1;
		default:
			return -1;
		}
	}
	if (optind != argc || a->conf_path == NULL || a->contacts == NULL)
		return -1;
	return 0;
}

/*
 * Read the log (and profiles), replay it under the proposed config (and
 * the current one when cconf is not NULL), print the table and write the
 * page. 0, or -1 with *cause (caller frees; may stay NULL).
 */
static int
simulate_replay(const struct simulate_args *a, const struct conf *pconf,
    const struct offers *poffers, const struct conf *cconf,
    const struct offers *coffers, char **cause)
{
	struct simulate_log	*log = NULL;
	struct simulate_result	 pres, cres;
	struct cmd_progress	 prog = { 0, 0 };
	int			 rc = -1, have_current = 0;

	memset(&pres, 0, sizeof pres);
	memset(&cres, 0, sizeof cres);
	prog.start = prog.last = clock_mono_s();
	if ((log = simulate_log_read(a->contacts, simulate_progress, &prog,
	    cause)) == NULL)
		goto out;
	if (a->profiles != NULL &&
	    simulate_log_profiles(log, pconf, a->profiles, cause) != 0)
		goto out;
	if (simulate_run(log, pconf, poffers, simulate_progress, &prog, &pres,
	    cause) != 0)
		goto out;
	if (cconf != NULL) {
		if (simulate_run(log, cconf, coffers, simulate_progress, &prog,
		    &cres, cause) != 0)
			goto out;
		have_current = 1;
	}
	simulate_print(&pres, a->conf_path, have_current ? &cres : NULL,
	    a->against);
	if (a->html != NULL) {
		if (simulate_write_html(a->html, a->contacts, a->conf_path,
		    &pres, a->against, have_current ? &cres : NULL, cause) != 0)
			goto out;
		cmd_log("simulate", "wrote %s", a->html);
	}
	rc = 0;
out:
	simulate_result_free(&pres);
	simulate_result_free(&cres);
	simulate_log_free(log);
	return rc;
}

/* pacer simulate -c PROPOSED --contacts CSV [--against CURRENT] ... */
int
cmd_simulate(int argc, char **argv)
{
	struct simulate_args	 a;
	struct conf		*pconf = NULL, *cconf = NULL;
	struct offers		*poffers = NULL, *coffers = NULL;
	char			*cause = NULL;
	int			 rc = CMD_BAD_INPUT;

	switch (simulate_args(argc, argv, &a)) {
	case 1:
		return CMD_OK;
	case -1:
		fprintf(stderr, "%s", simulate_usage);
		return CMD_BAD_INPUT;
	}
	if ((pconf = simulate_conf(a.conf_path, &poffers)) == NULL)
		goto out;
	if (a.against != NULL &&
	    (cconf = simulate_conf(a.against, &coffers)) == NULL)
		goto out;
	if (simulate_replay(&a, pconf, poffers, cconf, coffers, &cause) != 0) {
		fprintf(stderr, "%s\n", cause ? cause :
		    "pacer simulate: failed");
		goto out;
	}
	rc = CMD_OK;
out:
	free(cause);
	offers_free(poffers);
	offers_free(coffers);
	conf_free(pconf);
	conf_free(cconf);
	return rc;
}
