/*
 * t_log: the access log's client addresses (full, truncated to IPv4 /24
 * and IPv6 /48, off) and its lines in a file: fields, a method that isn't
 * one, no time under syslog, reopening after a rename.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

static char	dir[] = "/tmp/t_log.XXXXXX";

/* The address text, then log_addr()'s output for mode. */
static void
addr(const char *text, const char *mode, const char *want)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct sockaddr		*sa;
	char			buf[64];

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sa = (struct sockaddr *)&sin;
	} else if (inet_pton(AF_INET6, text, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sa = (struct sockaddr *)&sin6;
	} else
		errx(1, "bad test address %s", text);
	log_addr(sa, mode, buf, sizeof(buf));
	is_str(buf, want, "%s %s", mode, text);
}

/* The last line of file, without its newline, into buf. */
static void
last_line(const char *file, char *buf, size_t sz)
{
	FILE	*fp;
	char	 line[1024];

	buf[0] = '\0';
	if ((fp = fopen(file, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		(void)snprintf(buf, sz, "%s", line);
	fclose(fp);
	buf[strcspn(buf, "\n")] = '\0';
}

static int
lines(const char *file)
{
	FILE	*fp;
	int	 c, n = 0;

	if ((fp = fopen(file, "r")) == NULL)
		return (-1);
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return (n);
}

int
main(void)
{
	struct sockaddr_in	 sin;
	char			 file[PATH_MAX], old[PATH_MAX + 8], line[1024];
	char			 msg[PATH_MAX + 64], *p;

	addr("192.0.2.77", "full", "192.0.2.77");
	addr("192.0.2.77", "truncate", "192.0.2.0");
	addr("192.0.2.77", "off", "-");
	addr("2001:db8:1:2:3:4:5:6", "full", "2001:db8:1:2:3:4:5:6");
	addr("2001:db8:1:2:3:4:5:6", "truncate", "2001:db8:1::");
	addr("2001:db8:ffff:ffff::1", "truncate", "2001:db8:ffff::");
	addr("::ffff:198.51.100.9", "full", "198.51.100.9");
	addr("::ffff:198.51.100.9", "truncate", "198.51.100.0");
	addr("::1", "truncate", "::");
	log_addr(NULL, "full", line, sizeof(line));
	is_str(line, "-", "no address: -");

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	(void)snprintf(file, sizeof(file), "%s/access.log", dir);
	(void)snprintf(old, sizeof(old), "%s.1", file);
	is_int(log_access_open(file, "truncate", 0, msg, sizeof(msg)), 0,
	    "open a file");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	(void)inet_pton(AF_INET, "203.0.113.200", &sin.sin_addr);
	log_access((struct sockaddr *)&sin, "GET", "openpgpkey.example.org",
	    "key", 200, 3151, 41);
	last_line(file, line, sizeof(line));
	p = strchr(line, ' ');
	ok(strlen(line) > 24 && line[4] == '-' && line[10] == 'T' &&
	    line[23] == 'Z' && p == line + 24, "the time first: %.24s", line);
	is_str(p != NULL ? p + 1 : "", "203.0.113.0 GET openpgpkey.example.org "
	    "key 200 3151 41us", "the fields after it");
	log_access(NULL, "g3t\n", "", "-", 405, 19, 7);
	last_line(file, line, sizeof(line));
	p = strchr(line, ' ');
	is_str(p != NULL ? p + 1 : "", "- ???? - - 405 19 7us",
	    "a method that isn't one, no Host, no client");
	is_int(lines(file), 2, "two lines");

	if (rename(file, old) == -1)
		err(1, "rename");
	is_int(log_access_open(file, "full", 0, msg, sizeof(msg)), 0,
	    "open again after a rename");
	log_access((struct sockaddr *)&sin, "HEAD", "example.org", "policy",
	    200, 0, 9);
	is_int(lines(file), 1, "the new file has the new line");
	is_int(lines(old), 2, "the renamed one nothing more");
	last_line(file, line, sizeof(line));
	p = strchr(line, ' ');
	is_str(p != NULL ? p + 1 : "", "203.0.113.200 HEAD example.org policy "
	    "200 0 9us", "access-log-address full");

	is_int(log_access_open("off", "full", 0, msg, sizeof(msg)), 0, "off");
	log_access((struct sockaddr *)&sin, "GET", "example.org", "key", 200,
	    1, 1);
	is_int(lines(file), 1, "off: nothing written");
	is_int(log_access_open("/nonexistent/dir/x.log", "full", 0, msg,
	    sizeof(msg)), -1, "an unopenable file");
	is_str(msg, "access-log /nonexistent/dir/x.log: No such file or "
	    "directory", "its message");

	(void)unlink(file);
	(void)unlink(old);
	(void)rmdir(dir);
	return (done());
}
