/*
 * log.c: see log.h.  Thread-safe: each message is formatted into one
 * buffer and written with one call.
 *
 * The access log to syslog is written to /dev/log directly, in the format
 * syslog(3) uses, so that it has an ident of its own ("wkdd-access":
 * journalctl -t wkdd-access) while the other messages keep openlog()'s.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <paths.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	log_debug_mode = 1;	/* stderr until log_init(). */
static int	log_verbose;
/*
 * Without a syslog daemon (no /dev/log), syslog(3) tries to connect for
 * every message (a socket made and closed: 3 system calls, under libc's
 * syslog lock) and drops it: look for /dev/log once a second instead,
 * dropping the messages meanwhile as syslog(3) would.  The second
 * (CLOCK_MONOTONIC) until which it is known to be missing; 0: present.
 */
static atomic_long	log_nosyslog_until;
static int	log_starting;	/* Errors to stderr too: log_start(). */

static void	log_stderr(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));
static void	logit(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	vlog_errno(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

void
log_init(int debug, int facility)
{
	log_debug_mode = debug;
	if (!debug) {
		openlog("wkdd", LOG_PID | LOG_NDELAY, facility);
		if (access(_PATH_LOG, W_OK) == -1)
			atomic_store(&log_nosyslog_until, 1);
	}
	tzset();
}

/* Is there no syslog daemon to log to (as of a second ago at most)? */
static int
log_nosyslog(void)
{
	struct timespec	ts;
	long		until;

	if ((until = atomic_load_explicit(&log_nosyslog_until,
	    memory_order_relaxed)) == 0)
		return (0);
	(void)clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (ts.tv_sec < until)
		return (1);
	if (access(_PATH_LOG, W_OK) == 0) {
		atomic_store(&log_nosyslog_until, 0);
		return (0);
	}
	atomic_store(&log_nosyslog_until, (long)ts.tv_sec + 1);
	return (1);
}

void
log_start(int on)
{
	log_starting = on;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

/* One line on stderr, in one write. */
/*
 * All of p to fd, or as much as fd takes: a log line that can't be
 * written is lost, with nowhere to say so.
 */
static void
log_write(int fd, const char *p, size_t n)
{
	ssize_t	 w;
	int	 saved = errno;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
	}
	errno = saved;
}

static void
log_stderr(const char *fmt, va_list ap)
{
	char	buf[1024];
	int	n;

	if ((n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap)) < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	log_write(STDERR_FILENO, buf, n);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	va_list	aq;
	int	saved = errno;

	if (log_debug_mode)
		log_stderr(fmt, ap);
	else {
		if (log_starting && pri <= LOG_ERR) {
			va_copy(aq, ap);
			log_stderr(fmt, aq);
			va_end(aq);
		}
		if (!log_nosyslog())
			vsyslog(pri, fmt, ap);
	}
	errno = saved;
}

static void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

/* fmt, then ": " and strerror(errno), as warn(3). */
static void
vlog_errno(int pri, const char *fmt, va_list ap)
{
	char	buf[768];
	int	saved = errno;

	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	logit(pri, "%s: %s", buf, strerror(saved));
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose == 0)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

/* The access log. */

#define LOG_ACCESS_IDENT	"wkdd-access"
#define LOG_DEVLOG		"/dev/log"

enum log_access_mode { LA_OFF, LA_SYSLOG, LA_FILE, LA_STDERR };

static _Atomic int	 la_mode = LA_STDERR;
static int		 la_fd = -1;	/* LA_FILE: replaced by dup2(). */
static int		 la_sock = -1;	/* LA_SYSLOG: /dev/log. */
static _Atomic int	 la_addr;	/* 0 full, 1 truncate, 2 off. */

/*
 * Connect la_sock (made by log_access_open(), in the main thread) to
 * /dev/log; a failure is retried at the next line.
 */
static void
log_syslog_connect(void)
{
	struct sockaddr_un	sun;

	if (la_sock == -1)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, LOG_DEVLOG, sizeof(LOG_DEVLOG));
	(void)connect(la_sock, (struct sockaddr *)&sun, sizeof(sun));
}

/*
 * One datagram, as syslog(3) sends it: "<pri>Mmm dd hh:mm:ss ident[pid]:
 * msg".  If syslogd or journald was restarted, connect again and retry
 * once (connect(2) on a datagram socket may run in several threads).
 */
static void
log_syslog_send(const char *msg, size_t len)
{
	struct tm	tm;
	time_t		now = time(NULL);
	char		buf[1200], stamp[32];
	int		n;

	/* No syslog daemon: a reconnect per line would cost 3 calls. */
	if (log_nosyslog())
		return;
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	n = snprintf(buf, sizeof(buf), "<%d>%s %s[%ld]: %.*s",
	    LOG_DAEMON | LOG_INFO, stamp, LOG_ACCESS_IDENT, (long)getpid(),
	    (int)len, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (send(la_sock, buf, n, MSG_NOSIGNAL) == -1 &&
	    (errno == ECONNREFUSED || errno == ENOTCONN || errno == ENOENT)) {
		log_syslog_connect();
		(void)send(la_sock, buf, n, MSG_NOSIGNAL);
	}
}

int
log_access_open(const char *dest, const char *addr, int debug, char *err,
    size_t errsz)
{
	int	fd, mode;

	if (strcmp(dest, "off") == 0)
		mode = LA_OFF;
	else if (strcmp(dest, "syslog") == 0)
		mode = debug ? LA_STDERR : LA_SYSLOG;
	else {
		if ((fd = open(dest, O_WRONLY | O_APPEND | O_CREAT |
		    O_NOFOLLOW | O_CLOEXEC, 0640)) == -1) {
			(void)snprintf(err, errsz, "access-log %s: %s", dest,
			    strerror(errno));
			return (-1);
		}
		/*
		 * Writers hold la_fd's number, never a copy: dup2() moves it
		 * to the new file at once (the old one is closed by it).
		 */
		if (la_fd == -1)
			la_fd = fd;
		else {
			if (dup2(fd, la_fd) == -1) {
				(void)snprintf(err, errsz, "access-log %s: %s",
				    dest, strerror(errno));
				(void)close(fd);
				return (-1);
			}
			(void)close(fd);
		}
		mode = LA_FILE;
	}
	if (mode == LA_SYSLOG) {
		if (la_sock == -1 && (la_sock = socket(AF_UNIX, SOCK_DGRAM |
		    SOCK_CLOEXEC, 0)) == -1) {
			(void)snprintf(err, errsz, "access-log syslog: %s",
			    strerror(errno));
			return (-1);
		}
		log_syslog_connect();
	}
	atomic_store(&la_addr, strcmp(addr, "truncate") == 0 ? 1 :
	    strcmp(addr, "off") == 0 ? 2 : 0);
	atomic_store(&la_mode, mode);
	return (0);
}

void
log_addr(const struct sockaddr *sa, const char *mode, char *buf, size_t sz)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	int		 trunc = strcmp(mode, "truncate") == 0;

	if (sa == NULL || strcmp(mode, "off") == 0)
		goto none;
	if (sa->sa_family == AF_INET) {
		a4 = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		if (trunc)
			a4.s_addr &= htonl(0xffffff00);
		if (inet_ntop(AF_INET, &a4, buf, sz) == NULL)
			goto none;
		return;
	}
	if (sa->sa_family == AF_INET6) {
		a6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
			if (trunc)
				a4.s_addr &= htonl(0xffffff00);
			if (inet_ntop(AF_INET, &a4, buf, sz) == NULL)
				goto none;
			return;
		}
		if (trunc)
			memset(&a6.s6_addr[6], 0, sizeof(a6.s6_addr) - 6);
		if (inet_ntop(AF_INET6, &a6, buf, sz) == NULL)
			goto none;
		return;
	}
none:
	(void)snprintf(buf, sz, "-");
}

void
log_access(const struct sockaddr *client, const char *method,
    const char *host, const char *route, unsigned status, size_t bytes,
    long usec)
{
	static const char *const modes[] = { "full", "truncate", "off" };
	struct timespec	 ts;
	struct tm	 tm;
	char		 line[512], addr[INET6_ADDRSTRLEN];
	char		 m[16], stamp[40];
	const char	*p;
	size_t		 i, len;
	int		 mode, n, saved = errno;

	/* Acquire: la_fd as log_access_open() set it before the mode. */
	if ((mode = atomic_load_explicit(&la_mode,
	    memory_order_acquire)) == LA_OFF ||
	    (mode == LA_SYSLOG && log_nosyslog()))
		return;
	for (i = 0, p = method; *p != '\0' && i < sizeof(m) - 1; p++)
		m[i++] = (*p >= 'A' && *p <= 'Z') ? *p : '?';
	m[i] = '\0';
	log_addr(client, modes[atomic_load_explicit(&la_addr,
	    memory_order_relaxed)], addr, sizeof(addr));
	stamp[0] = '\0';
	if (mode != LA_SYSLOG) {
		clock_gettime(CLOCK_REALTIME, &ts);
		if (gmtime_r(&ts.tv_sec, &tm) != NULL &&
		    (len = strftime(stamp, sizeof(stamp) - 8,
		    "%Y-%m-%dT%H:%M:%S", &tm)) > 0)
			(void)snprintf(stamp + len, sizeof(stamp) - len,
			    ".%03ldZ ", ts.tv_nsec / 1000000);
	}
	n = snprintf(line, sizeof(line), "%s%s %s %s %s %u %zu %ldus\n",
	    stamp, addr, m, host[0] != '\0' ? host : "-", route, status,
	    bytes, usec);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	switch (mode) {
	case LA_SYSLOG:
		log_syslog_send(line, n - 1);
		break;
	case LA_FILE:
		log_write(la_fd, line, n);
		break;
	default:
		log_write(STDERR_FILENO, line, n);
		break;
	}
out:
	errno = saved;
}

/* log_flood(): the minute's start and count, and what was left out. */
static _Atomic long long	lf_minute;
static atomic_uint		lf_count;
static atomic_ullong		lf_total, lf_pending;

void
log_flood(const char *fmt, ...)
{
	va_list			 ap;
	long long		 now = time(NULL) / 60, was;
	unsigned long long	 skipped;

	was = atomic_load(&lf_minute);
	if (was != now && atomic_compare_exchange_strong(&lf_minute, &was,
	    now))
		atomic_store(&lf_count, 0);
	if (log_verbose == 0 && atomic_fetch_add(&lf_count, 1) >=
	    LOG_FLOOD_MAX) {
		atomic_fetch_add(&lf_total, 1);
		atomic_fetch_add(&lf_pending, 1);
		return;
	}
	if ((skipped = atomic_exchange(&lf_pending, 0)) > 0)
		logit(LOG_WARNING, "%llu similar messages not logged (more "
		    "than %d a minute)", skipped, LOG_FLOOD_MAX);
	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

unsigned long long
log_suppressed(void)
{
	return (atomic_load(&lf_total));
}
