/*
 * commands.h - the subcommands of `stallwatch`.  Each takes the arguments
 * after its name (argv[0] is the subcommand) and returns the exit status.
 */
#ifndef SW_COMMANDS_H
#define SW_COMMANDS_H

int sw_cmd_run(int argc, char **argv);	  /* cmd_run.c */
int sw_cmd_report(int argc, char **argv); /* cmd_report.c */
int sw_cmd_gate(int argc, char **argv);	  /* cmd_gate.c */
int sw_cmd_top(int argc, char **argv);	   /* cmd_top.c */
int sw_cmd_metrics(int argc, char **argv); /* cmd_metrics.c */
int sw_cmd_preload(int argc, char **argv); /* cmd_preload.c */

#endif
