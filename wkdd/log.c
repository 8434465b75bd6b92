/*
 * log.c: see log.h.  Thread-safe: each message is formatted into one
 * buffer and written with one call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	log_debug_mode = 1;	/* stderr until log_init(). */
static int	log_verbose;
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
	if (!debug)
		openlog("wkdd", LOG_PID | LOG_NDELAY, facility);
	tzset();
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
	(void)write(STDERR_FILENO, buf, n);
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
