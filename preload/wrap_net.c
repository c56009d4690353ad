/*
 * wrap_net.c - socket I/O, connect/accept, socket creation (which keeps
 * the fd cache true) and name resolution.  MSG_DONTWAIT makes a call
 * non-blocking whatever the fd's flags say.
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

static inline enum sw_cap msg_cap(int flags)
{
	return (flags & MSG_DONTWAIT) ? SW_CAP_NOWAIT : SW_CAP_FD;
}

SW_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	SW_TIMED(ssize_t, SW_CALL_RECV, fd, msg_cap(flags),
		 SW_REAL(recv)(fd, buf, n, flags));
}

SW_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen,
			     int flags)
{
	SW_TIMED(ssize_t, SW_CALL_RECV, fd, msg_cap(flags),
		 SW_REAL(__recv_chk)(fd, buf, n, buflen, flags));
}

SW_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			   __SOCKADDR_ARG addr, socklen_t *addrlen)
{
	SW_TIMED(ssize_t, SW_CALL_RECVFROM, fd, msg_cap(flags),
		 SW_REAL(recvfrom)(fd, buf, n, flags, addr, addrlen));
}

SW_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
				 int flags, struct sockaddr *addr,
				 socklen_t *addrlen)
{
	SW_TIMED(
	    ssize_t, SW_CALL_RECVFROM, fd, msg_cap(flags),
	    SW_REAL(__recvfrom_chk)(fd, buf, n, buflen, flags, addr, addrlen));
}

SW_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	SW_TIMED(ssize_t, SW_CALL_RECVMSG, fd, msg_cap(flags),
		 SW_REAL(recvmsg)(fd, msg, flags));
}

SW_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	SW_TIMED(ssize_t, SW_CALL_SEND, fd, msg_cap(flags),
		 SW_REAL(send)(fd, buf, n, flags));
}

SW_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			 __CONST_SOCKADDR_ARG addr, socklen_t addrlen)
{
	SW_TIMED(ssize_t, SW_CALL_SENDTO, fd, msg_cap(flags),
		 SW_REAL(sendto)(fd, buf, n, flags, addr, addrlen));
}

SW_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	SW_TIMED(ssize_t, SW_CALL_SENDMSG, fd, msg_cap(flags),
		 SW_REAL(sendmsg)(fd, msg, flags));
}

SW_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	SW_TIMED(int, SW_CALL_CONNECT, fd, SW_CAP_FD,
		 SW_REAL(connect)(fd, addr, len));
}

/* accept/accept4 create fds: the new socket's O_NONBLOCK comes from
 * accept4's flags only (Linux does not inherit it from the listener). */
SW_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
	struct sw_call_ctx c;
	int r;

	if (sw_likely(!sw_call_begin_fd(&c, fd, SW_CAP_FD))) {
		r = SW_REAL(accept)(fd, addr, len);
		if (r >= 0)
			sw_fdc_set(r, SW_FD_SOCKET, 0);
		return r;
	}
	r = SW_REAL(accept)(fd, addr, len);
	if (r >= 0)
		sw_fdc_set(r, SW_FD_SOCKET, 0);
	sw_call_end(&c, SW_CALL_ACCEPT, fd, SW_CAP_FD, SW_CALLER);
	return r;
}

SW_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags)
{
	struct sw_call_ctx c;
	int r;

	if (sw_likely(!sw_call_begin_fd(&c, fd, SW_CAP_FD))) {
		r = SW_REAL(accept4)(fd, addr, len, flags);
		if (r >= 0)
			sw_fdc_set(r, SW_FD_SOCKET, flags & SOCK_NONBLOCK);
		return r;
	}
	r = SW_REAL(accept4)(fd, addr, len, flags);
	if (r >= 0)
		sw_fdc_set(r, SW_FD_SOCKET, flags & SOCK_NONBLOCK);
	sw_call_end(&c, SW_CALL_ACCEPT4, fd, SW_CAP_FD, SW_CALLER);
	return r;
}

SW_EXPORT int socket(int domain, int type, int protocol)
{
	int r = SW_REAL(socket)(domain, type, protocol);

	if (r >= 0)
		sw_fdc_set(r, SW_FD_SOCKET, type & SOCK_NONBLOCK);
	return r;
}

SW_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	int r = SW_REAL(socketpair)(domain, type, protocol, sv);

	if (r == 0) {
		sw_fdc_set(sv[0], SW_FD_SOCKET, type & SOCK_NONBLOCK);
		sw_fdc_set(sv[1], SW_FD_SOCKET, type & SOCK_NONBLOCK);
	}
	return r;
}

/* Name resolution: blocking-capable (DNS), unless only numbers are
 * asked for. */
static inline enum sw_cap gai_cap(const char *node,
				  const struct addrinfo *hints)
{
	if (node && hints && (hints->ai_flags & AI_NUMERICHOST))
		return SW_CAP_NO;
	return SW_CAP_YES;
}

SW_EXPORT int getaddrinfo(const char *node, const char *service,
			  const struct addrinfo *hints, struct addrinfo **res)
{
	SW_TIMED(int, SW_CALL_GETADDRINFO, -1, gai_cap(node, hints),
		 SW_REAL(getaddrinfo)(node, service, hints, res));
}

SW_EXPORT struct hostent *gethostbyname(const char *name)
{
	SW_TIMED(struct hostent *, SW_CALL_GETHOSTBYNAME, -1, SW_CAP_YES,
		 SW_REAL(gethostbyname)(name));
}

SW_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf,
			      size_t buflen, struct hostent **result,
			      int *h_errnop)
{
	SW_TIMED(
	    int, SW_CALL_GETHOSTBYNAME_R, -1, SW_CAP_YES,
	    SW_REAL(gethostbyname_r)(name, ret, buf, buflen, result, h_errnop));
}

SW_EXPORT int getnameinfo(const struct sockaddr *addr, socklen_t addrlen,
			  char *host, socklen_t hostlen, char *serv,
			  socklen_t servlen, int flags)
{
	SW_TIMED(int, SW_CALL_GETNAMEINFO, -1,
		 (flags & NI_NUMERICHOST) && (flags & NI_NUMERICSERV)
		     ? SW_CAP_NO
		     : SW_CAP_YES,
		 SW_REAL(getnameinfo)(addr, addrlen, host, hostlen, serv,
				      servlen, flags));
}
