/*
 * commands.h - the subcommands of `stallwatch`.  Each takes the arguments
 * after its name (argv[0] is the subcommand) and returns the exit status.
 */
#ifndef SW_COMMANDS_H
#define SW_COMMANDS_H

int sw_cmd_run(int argc, char **argv);	  /* cmd_run.c */
int sw_cmd_report(int argc, char **argv); /* cmd_report.c */
int sw_cmd_gate(int argc, char **argv);	  /* cmd_gate.c */

#endif
