/*
 * notify.c: telling a service manager how wkdd is doing, by systemd's
 * notification protocol (sd_notify(3), libsystemd): READY=1 once every
 * listener serves, RELOADING=1 and READY=1 again around a SIGHUP reload,
 * STOPPING=1 on SIGTERM, and a STATUS= line with each (what
 * "systemctl status wkdd" shows).  The unit is Type=notify: systemd
 * starts what comes after wkdd, and answers "systemctl reload", only once
 * wkdd says so.
 *
 * Without $NOTIFY_SOCKET (not started by systemd) every call is a no-op;
 * a message that can't be sent is logged once and never stops the
 * daemon.  libsystemd rather than the few lines of the protocol: it is
 * the reference implementation (abstract socket names, credentials,
 * message size), and Debian ships it (libsystemd0).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "wkdd.h"

static int	notify_failed;		/* Logged once. */

static void	notify_send(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* One message of "VAR=value" lines, as sd_notifyf(3). */
static void
notify_send(const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024];
	int	n, rc;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* 0: not under a service manager. */
	if ((rc = sd_notify(0, msg)) >= 0)
		return;
	if (!notify_failed)
		log_warnx("sd_notify: %s", strerror(-rc));
	notify_failed = 1;
}

void
notify_ready(const char *fmt, ...)
{
	va_list	ap;
	char	status[512];

	va_start(ap, fmt);
	(void)vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	notify_send("READY=1\nSTATUS=%s", status);
}

void
notify_reloading(const char *path)
{
	struct timespec	ts;

	/*
	 * MONOTONIC_USEC: systemd 253's Type=notify-reload matches the
	 * READY=1 that ends the reload with it; 252 ignores it.
	 */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		ts.tv_sec = ts.tv_nsec = 0;
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
	    (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, path);
}

void
notify_stopping(const char *why)
{
	notify_send("STOPPING=1\nSTATUS=stopping (%s)", why);
}
