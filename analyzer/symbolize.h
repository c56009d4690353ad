/*
 * symbolize.h - one process's addresses -> frames (libdwfl, offline).
 *
 * A symbolizer is built from a trace's module records: each recorded ELF
 * object is reported to libdwfl at its recorded load bias, after checking
 * that the file on disk still has the recorded build-id.  Addresses in no
 * module are looked up in the process's JIT perf map.  Results are cached
 * per address: a run has few unique stacks and many records.
 */
#ifndef SW_SYMBOLIZE_H
#define SW_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "reader.h"

struct sw_symbolizer;

/*
 * Build the symbolizer for one trace.  no_symbols: libdwfl is not used,
 * frames carry only their module and address.  perfmap_path may be NULL.
 * Never fails (what cannot be symbolized stays an address).
 */
struct sw_symbolizer *sw_sym_open(const struct sw_trace *t, int no_symbols,
				  const char *perfmap_path);

/*
 * The frames for one recorded instruction pointer: inlined frames first,
 * then the function that contains them.  is_pc: ip is an interrupted PC
 * (a signal frame's ips[0]), not a return address, so 1 is not
 * subtracted before the lookup.  The frames are owned by the symbolizer.
 * Returns the number of frames (>= 1).
 */
size_t sw_sym_addr(struct sw_symbolizer *s, uint64_t ip, int is_pc,
		   const struct sw_frame **frames);

/* Messages about the symbolization (missing files, changed build-ids),
 * owned by the symbolizer. */
size_t sw_sym_notes(const struct sw_symbolizer *s, char *const **notes);

void sw_sym_close(struct sw_symbolizer *s);

/* Demangle a C++ name (`_Z...`); a new string, or NULL when it is not a
 * mangled name or cannot be demangled. */
char *sw_demangle(const char *name);

#endif
