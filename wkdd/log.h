/*
 * log.h: logging as in OpenBSD's daemons: to stderr under -d, else to
 * syslog.  All functions keep errno.  fatal() and fatalx() exit(1) and are
 * for startup only: a request never ends the daemon.
 */
#ifndef LOG_H
#define LOG_H

#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>

void	log_init(int debug, int facility);
/*
 * While on, errors logged to syslog also go to stderr: a daemon still
 * starting shows why it failed on the terminal that started it.
 */
void	log_start(int on);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	vlog(int, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	fatal(const char *, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));
void	fatalx(const char *, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));

/*
 * The access log: one line per request, apart from the messages above.
 * dest is conf's access-log: "syslog" (ident "wkdd-access", facility
 * daemon, through /dev/log; to stderr instead under -d, debug set),
 * "off", or a file, opened for appending (mode 640; as root at start, as
 * the user wkdd runs as on SIGHUP).  addr is access-log-address: "full",
 * "truncate" (IPv4 /24, IPv6 /48) or "off".  Called at start and on
 * SIGHUP (from the main thread only); a file given again is opened
 * again, which is what logrotate wants after a rename.  Returns -1 with
 * err set if the file can't be opened (the previous destination stays).
 */
int	log_access_open(const char *dest, const char *addr, int debug,
	    char *err, size_t errsz);
/*
 * One request's line: time (file and stderr only: syslog has its own),
 * client address, method, Host (normalised by route.c: never a local part)
 * or "-", route, status, body bytes, microseconds taken.  No path, hash
 * or query: nothing that would reveal who was looked up.  Thread-safe,
 * no lock, no allocation: formatted on the stack, written with one call.
 */
void	log_access(const struct sockaddr *client, const char *method,
	    const char *host, const char *route, unsigned status,
	    size_t bytes, long usec);
/* The client address as logged (mode as access-log-address). */
void	log_addr(const struct sockaddr *, const char *mode, char *buf,
	    size_t sz);

/*
 * A warning that may come once per misbehaving client (libmicrohttpd's):
 * at most LOG_FLOOD_MAX a minute are logged, the rest counted and their
 * number logged with the next one that is (all of them under -v).
 * log_suppressed(): how many were not logged, ever.
 */
#define LOG_FLOOD_MAX	20
void	log_flood(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
unsigned long long	log_suppressed(void);

#endif /* LOG_H */
