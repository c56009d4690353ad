/* cmd_gate.c - placeholder until the CI gate lands (issue 5). */
#include <stdio.h>

#include "commands.h"

int sw_cmd_gate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "stallwatch: gate is not built yet\n");
	return 2;
}
