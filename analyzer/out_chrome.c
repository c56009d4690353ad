/* out_chrome.c - placeholder until this writer lands (issue 5). */
#include "model.h"

int sw_write_chrome(const struct sw_report *rep, FILE *out)
{
	(void)rep;
	fputs("stallwatch: the chrome format is not built yet\n", stderr);
	(void)out;
	return -1;
}
