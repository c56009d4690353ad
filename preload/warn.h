/*
 * warn.h - "stallwatch: ..." lines on the host's stderr (warn.c): raw
 * write(2), no stdio, and only while fd 2 is still the file it was at
 * start, so a message never lands in a daemon's data file.
 */
#ifndef SW_WARN_H
#define SW_WARN_H

/* Remember what fd 2 is (constructor). */
void sw_warn_init(void);
/* One line; safe in a signal handler. */
void sw_warn_line(const char *msg);
/* One line from pieces (NULL-terminated); safe in a signal handler. */
void sw_warn_parts(const char *first, ...);

#endif
