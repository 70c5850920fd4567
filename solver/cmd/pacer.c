/*
 * pacer: the command line of the optimizer and its tools.
 *
 * "--help" (or -h) and "--version" anywhere before a "--" are answered here
 * for every subcommand, from one table of help texts, so each subcommand's
 * own option parser only ever sees real work.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "pacer/version.h"

static const struct {
	const char	*name;
	int		(*run)(int, char **);
	const char	*usage;
	const char	*help;		/* each option explained */
} pacer_commands[] = {
	{ "optimize", cmd_optimize,
	  "optimize -c FILE [--offers CSV] [--scores CSV] [--out DIR] [--publish] "
	  "[--method exact|scale] [--run-id ID] [--now UNIX]",
	  "One optimization run: reads consent, time zones, segments and recent\n"
	  "contacts from Redis, chooses which offers go to whom, writes the run\n"
	  "folder (report.html, summary.json, assignments.csv) and stages the\n"
	  "plan in Redis as a candidate. Progress on stderr. Under\n"
	  "mpirun -np K (a build with Open MPI), K processes share the run,\n"
	  "each with the customers of its slot range (README).\n"
	  "  -c, --config FILE    the configuration (pacer.conf(5))\n"
	  "  --offers CSV         the offer catalogue instead of [optimizer] offers\n"
	  "  --scores CSV         propensities instead of [optimizer] scores\n"
	  "  --out DIR            where the run folder goes instead of\n"
	  "                       [optimizer] out_dir\n"
	  "  --publish            make the plan live at once (else: pacer plan\n"
	  "                       publish after review, or auto_publish = true);\n"
	  "                       a run that needs plan publish --force stays\n"
	  "                       the candidate\n"
	  "  --method exact|scale exact: one GLPK MIP (small instances); scale:\n"
	  "                       Lagrangian with a certified bound (default)\n"
	  "  --run-id ID          name the run (1-100 of A-Za-z0-9_.:@-); default:\n"
	  "                       the start time\n"
	  "  --now UNIX           plan as if the run started at this unix time\n"
	  "                       (tests, replays)\n" },
	{ "plan", cmd_plan,
	  "plan publish RUN_ID [--force] [-c FILE] | plan show [-c FILE]",
	  "plan publish RUN_ID  make a reviewed candidate plan live (one atomic\n"
	  "                     switch in Redis)\n"
	  "plan show            show the live and the candidate runs, and why a\n"
	  "                     candidate was not published\n"
	  "  --force            publish a run that is not optimal or gap_reached,\n"
	  "                     or that plans nothing while the live plan plans\n"
	  "                     something (never done by --publish or\n"
	  "                     auto_publish)\n"
	  "  -c, --config FILE  the configuration (default conf/pacer.conf)\n" },
	{ "simulate", cmd_simulate,
	  "simulate -c PROPOSED.conf --contacts CSV [--against CURRENT.conf] "
	  "[--profiles CSV] [--html OUT]",
	  "What-if for marketing ops: replay a contact log against proposed caps\n"
	  "and print, per rule, how many contacts would have been denied.\n"
	  "  -c, --config PROPOSED.conf  the proposed configuration\n"
	  "  --contacts CSV      the log: time,customer,channel,campaign,offer\n"
	  "  --against CURRENT.conf  also replay under the current configuration\n"
	  "                      and print the difference\n"
	  "  --profiles CSV      consent, time zones and segments\n"
	  "                      (customer,tz,segments,email,sms,push)\n"
	  "  --html OUT          also write the comparison as an HTML page\n" },
	{ "load", cmd_load, "load -c FILE --profiles CSV [--contacts CSV]",
	  "Seed Redis with customer profiles and past contacts, pipelined, with\n"
	  "progress on stderr. Loading the same files again changes nothing.\n"
	  "  -c, --config FILE  the configuration (Redis location, prefix, channels)\n"
	  "  --profiles CSV     customer,tz,segments,email,sms,push and, optional,\n"
	  "                     caps (\"email 1/7d;all 4/30d\": the customer's own)\n"
	  "                     and pause_until (unix seconds)\n"
	  "  --contacts CSV     time,customer,channel,campaign,offer\n" },
	{ "demo-data", cmd_demo_data,
	  "demo-data --customers N --offers M --seed S --out DIR",
	  "Write a synthetic data set (offers.csv, scores.csv, profiles.csv,\n"
	  "contacts.csv) for the quick start and benchmarks.\n"
	  "  --customers N      how many customers\n"
	  "  --offers M         how many offers\n"
	  "  --seed S           random seed: the same seed writes the same files\n"
	  "  --out DIR          the folder the four files go to\n"
	  "  --now UNIX         the data set's \"now\" in unix seconds (contact\n"
	  "                     times end there; default: the current hour)\n"
	  "  -c, --config FILE  use this configuration's channels instead of\n"
	  "                     email, sms and push\n" },
	{ "report", cmd_report, "report RUN_DIR | report --compare A B",
	  "report RUN_DIR       print a run folder's summary (objective, bound,\n"
	  "                     gap, status, per offer spend and sends)\n"
	  "  --compare A B      print what changed from run folder A to B\n" },
	{ "consent", cmd_consent, "consent export [-c FILE]",
	  "consent export       write every stored consent record of every\n"
	  "                     customer as CSV on stdout, for an auditor:\n"
	  "                     customer,channel,granted,source,at,by (newest\n"
	  "                     first per customer and channel; at in unix\n"
	  "                     seconds, by the role of the token that recorded\n"
	  "                     it); progress on stderr\n"
	  "  -c, --config FILE  the configuration (default conf/pacer.conf)\n" },
};
#define PACER_NCOMMANDS (sizeof pacer_commands / sizeof pacer_commands[0])

/* Print every subcommand's usage. */
static void
pacer_usage(FILE *fp)
{
	fprintf(fp, "usage:\n");
	for (size_t i = 0; i < PACER_NCOMMANDS; i++)
		fprintf(fp, "  pacer %s\n", pacer_commands[i].usage);
	fprintf(fp, "  pacer --version\n"
	    "\"pacer COMMAND --help\" explains each option; see pacer(1).\n");
}

/* Print the version and the commit it was built from. */
static int
pacer_version(void)
{
	printf("pacer %s (git %s)\n", PACER_VERSION, PACER_GIT_COMMIT);
	return CMD_OK;
}

/* Whether argv (up to a "--") holds opt. */
static int
pacer_has_option(int argc, char **argv, const char *opt)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (!strcmp(argv[i], opt))
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		pacer_usage(stderr);
		return CMD_BAD_INPUT;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		pacer_usage(stdout);
		return CMD_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))
		return pacer_version();
	for (size_t i = 0; i < PACER_NCOMMANDS; i++) {
		if (strcmp(argv[1], pacer_commands[i].name) != 0)
			continue;
		if (pacer_has_option(argc - 1, argv + 1, "--help") ||
		    pacer_has_option(argc - 1, argv + 1, "-h")) {
			printf("usage: pacer %s\n%s", pacer_commands[i].usage,
			    pacer_commands[i].help);
			return CMD_OK;
		}
		if (pacer_has_option(argc - 1, argv + 1, "--version"))
			return pacer_version();
		return pacer_commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "pacer: unknown command \"%s\"\n", argv[1]);
	pacer_usage(stderr);
	return CMD_BAD_INPUT;
}
