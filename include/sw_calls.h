/*
 * sw_calls.h - the table of calls the shim wraps, shared by both sides.
 *
 * The trace stores a call as its index in this table, so entries are only
 * ever appended: reordering would change what old traces mean.
 */
#ifndef SW_CALLS_H
#define SW_CALLS_H

/* X(enum suffix, name shown in reports) */
#define SW_CALL_TABLE(X)                            \
	X(NONE, "none")                             \
	X(NANOSLEEP, "nanosleep")                   \
	X(CLOCK_NANOSLEEP, "clock_nanosleep")       \
	X(USLEEP, "usleep")                         \
	X(SLEEP, "sleep")                           \
	X(READ, "read")                             \
	X(WRITE, "write")                           \
	X(PREAD, "pread")                           \
	X(PWRITE, "pwrite")                         \
	X(READV, "readv")                           \
	X(WRITEV, "writev")                         \
	X(RECV, "recv")                             \
	X(RECVFROM, "recvfrom")                     \
	X(RECVMSG, "recvmsg")                       \
	X(SEND, "send")                             \
	X(SENDTO, "sendto")                         \
	X(SENDMSG, "sendmsg")                       \
	X(CONNECT, "connect")                       \
	X(ACCEPT, "accept")                         \
	X(ACCEPT4, "accept4")                       \
	X(GETADDRINFO, "getaddrinfo")               \
	X(GETHOSTBYNAME, "gethostbyname")           \
	X(GETHOSTBYNAME_R, "gethostbyname_r")       \
	X(GETNAMEINFO, "getnameinfo")               \
	X(POLL, "poll")                             \
	X(PPOLL, "ppoll")                           \
	X(SELECT, "select")                         \
	X(PSELECT, "pselect")                       \
	X(OPEN, "open")                             \
	X(OPENAT, "openat")                         \
	X(FSYNC, "fsync")                           \
	X(FDATASYNC, "fdatasync")                   \
	X(MSYNC, "msync")                           \
	X(FLOCK, "flock")                           \
	X(LOCKF, "lockf")                           \
	X(FCNTL_SETLKW, "fcntl(F_SETLKW)")          \
	X(WAITPID, "waitpid")                       \
	X(WAIT4, "wait4")                           \
	X(WAITID, "waitid")                         \
	X(WAIT, "wait")                             \
	X(SYSTEM, "system")                         \
	X(POPEN, "popen")                           \
	X(SEM_WAIT, "sem_wait")                     \
	X(SEM_TIMEDWAIT, "sem_timedwait")           \
	X(SEM_CLOCKWAIT, "sem_clockwait")           \
	X(MUTEX_LOCK, "pthread_mutex_lock")         \
	X(COND_WAIT, "pthread_cond_wait")           \
	X(COND_TIMEDWAIT, "pthread_cond_timedwait") \
	X(COND_CLOCKWAIT, "pthread_cond_clockwait") \
	X(RWLOCK_RDLOCK, "pthread_rwlock_rdlock")   \
	X(RWLOCK_WRLOCK, "pthread_rwlock_wrlock")   \
	X(PTHREAD_JOIN, "pthread_join")             \
	X(EPOLL_WAIT, "epoll_wait")                 \
	X(EPOLL_PWAIT, "epoll_pwait")               \
	X(EPOLL_PWAIT2, "epoll_pwait2")             \
	X(TURN, "loop turn")                        \
	X(FWRITE, "fwrite")                         \
	X(FPUTS, "fputs")                           \
	X(FPUTC, "fputc")                           \
	X(PUTS, "puts")                             \
	X(FPRINTF, "fprintf")                       \
	X(PRINTF, "printf")                         \
	X(FFLUSH, "fflush")                         \
	X(FUTEX, "futex")                           \
	X(UNWRAPPED_SYSCALL, "unwrapped system call")

enum sw_call {
#define SW_CALL_ENUM(id, name) SW_CALL_##id,
	SW_CALL_TABLE(SW_CALL_ENUM)
#undef SW_CALL_ENUM
	    SW_CALL__COUNT
};

/* Name of a call for reports; "unknown" for values a newer shim wrote. */
static inline const char *sw_call_name(unsigned call)
{
	static const char *const names[] = {
#define SW_CALL_NAME(id, name) name,
	    SW_CALL_TABLE(SW_CALL_NAME)
#undef SW_CALL_NAME
	};
	return call < SW_CALL__COUNT ? names[call] : "unknown";
}

#endif
