/*
 * pacer: the command line of the optimizer and its tools.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
	const char	*name;
	int		(*run)(int, char **);
	const char	*usage;
} pacer_commands[] = {
	{ "optimize", cmd_optimize,
	  "optimize -c FILE [--offers CSV] [--scores CSV] [--out DIR] [--publish] "
	  "[--method exact|scale] [--run-id ID] [--now UNIX]" },
	{ "plan", cmd_plan, "plan publish RUN_ID [-c FILE] | plan show [-c FILE]" },
	{ "simulate", cmd_simulate,
	  "simulate -c PROPOSED.conf --contacts CSV [--against CURRENT.conf] "
	  "[--profiles CSV] [--html OUT]" },
	{ "load", cmd_load, "load -c FILE --profiles CSV [--contacts CSV]" },
	{ "demo-data", cmd_demo_data,
	  "demo-data --customers N --offers M --seed S --out DIR" },
	{ "report", cmd_report, "report RUN_DIR | report --compare A B" },
};

/* Print every subcommand's usage. */
static void
pacer_usage(FILE *fp)
{
	fprintf(fp, "usage:\n");
	for (size_t i = 0; i < sizeof pacer_commands / sizeof pacer_commands[0]; i++)
		fprintf(fp, "  pacer %s\n", pacer_commands[i].usage);
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
	for (size_t i = 0; i < sizeof pacer_commands / sizeof pacer_commands[0]; i++)
		if (!strcmp(argv[1], pacer_commands[i].name))
			return pacer_commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "pacer: unknown command \"%s\"\n", argv[1]);
	pacer_usage(stderr);
	return CMD_BAD_INPUT;
}
