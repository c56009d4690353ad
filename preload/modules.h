/*
 * modules.h - SW_REC_MODULE records: every loaded ELF object with its
 * segments and build id (modules.c), so the analyzer can symbolize.
 */
#ifndef SW_MODULES_H
#define SW_MODULES_H

/* Records for every module, waiting for a concurrent scan (at the start
 * of recording). */
void sw_modules_scan_all(void);
/* After fork: reset the scan lock; then sw_modules_replay() writes the
 * parent's module records into the child's file (no dl_iterate_phdr in
 * the child, see modules.c). */
void sw_modules_atfork_child(void);
void sw_modules_replay(void);

/* sw_modules_scan and sw_modules_refresh, which the wrappers call, are in
 * call.h. */

#endif
