/*
 * process.h - the process record (process.c): command line, executable,
 * program name and start times, written first in every trace file.
 */
#ifndef SW_PROCESS_H
#define SW_PROCESS_H

#include <stddef.h>

/* From the constructor: where the kernel put the command line, and the
 * program name for file names (only [A-Za-z0-9._-]). */
void sw_process_note_args(int argc, char **argv);
void sw_process_make_comm(void);
const char *sw_process_comm(void);
/* Take the start times now (recording starts, or a file made early). */
void sw_process_note_start(void);
/* Write the preamble and the process record into a new file. */
int sw_process_write_record(void);
/* The command line changed since the record was written (a title set
 * after the first loop wait): patch it in place.  Cheap when not. */
void sw_process_refresh_cmdline(void);

#endif
