/*
 * log.h: logging as in OpenBSD's daemons: to stderr under -d, else to
 * syslog.  All functions keep errno.  fatal() and fatalx() exit(1) and are
 * for startup only: a request never ends the daemon.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

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

#endif /* LOG_H */
