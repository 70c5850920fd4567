/* Placeholder until this subcommand lands; replaced by its owner. */
#include <stdio.h>

#include "cmd.h"

int
cmd_load(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "pacer %s: not built yet\n", argv[0]);
	return CMD_BAD_INPUT;
}
