/*
 * The pacer command: one file per subcommand, each a thin shell around the
 * libraries. Every subcommand returns the process exit status: 0 success,
 * 1 bad input or config (message names file:line or field), 2 a required
 * service (Redis) cannot be reached.
 */
#ifndef PACER_CMD_H
#define PACER_CMD_H

#define CMD_OK		0
#define CMD_BAD_INPUT	1
#define CMD_NO_SERVICE	2

/* optimize.c */
int	 cmd_optimize(int argc, char **argv);
/* plan.c */
int	 cmd_plan(int argc, char **argv);
/* simulate.c */
int	 cmd_simulate(int argc, char **argv);
/* load.c */
int	 cmd_load(int argc, char **argv);
/* demo.c */
int	 cmd_demo_data(int argc, char **argv);
/* report_cmd.c */
int	 cmd_report(int argc, char **argv);

#endif /* PACER_CMD_H */
