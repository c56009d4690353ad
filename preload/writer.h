/*
 * writer.h - the trace file (writer.c): created at the first loop wait,
 * one write(2) per record on a guarded descriptor, a size budget with
 * rotation (doc/design.md, "Writing the trace").
 */
#ifndef SW_WRITER_H
#define SW_WRITER_H

#include <stddef.h>
#include <stdint.h>

/* Create <dir>/<comm>.<pid>[.N].swtrace.  0, or -1 after one warning. */
int sw_writer_open(const char *dir, const char *comm, int pid);
/* Make the trace file in advance, anonymous (O_TMPFILE) and high, for
 * sw_writer_open to name later: from a process's first pthread_create. */
void sw_writer_prepare(const char *dir);
/* Write the preamble and the process record in one write(2). */
int sw_writer_start(const void *process_rec, size_t len);
/* Overwrite len bytes at off in the current file's head (the preamble
 * and process record), and in the copy a rotation writes. */
void sw_writer_patch_head(size_t off, const void *data, size_t len);
/* Path of the open trace file ("" when none). */
const char *sw_writer_path(void);
/* Recording is live (the file is open and no write has failed). */
int sw_writer_active(void);
/* Records that could not be written. */
uint64_t sw_writer_dropped(void);
/* In a forked child: let go of the parent's file (without writing). */
void sw_writer_atfork_child(void);

/*
 * Append one record (its h.size must equal len).  Async-signal-safe: one
 * write(2) on the guarded trace fd, errno preserved.  Returns 0, or -1 when
 * recording has stopped (disk full, fd gone, ...), which it reports once.
 */
int sw_emit(const void *rec, size_t len);
/* A NOTE record (enum sw_note_level) for the report; async-signal-safe. */
void sw_note(int level, const char *text);

#endif
