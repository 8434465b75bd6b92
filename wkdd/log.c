/*
 * log.c: see log.h.  Thread-safe: each message is formatted into one
 * buffer and written with one call.
 */
#include <errno.h>
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
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	buf[1024];
	int	saved = errno, n;

	if (log_debug_mode) {
		n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
		if (n >= 0) {
			if ((size_t)n > sizeof(buf) - 2)
				n = sizeof(buf) - 2;
			buf[n++] = '\n';
			(void)write(STDERR_FILENO, buf, n);
		}
	} else if (!log_nosyslog())
		vsyslog(pri, fmt, ap);
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
