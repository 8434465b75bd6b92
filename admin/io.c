/*
 * io.c: reading the operator's files (bounded, "-" for stdin), writing
 * results, and the encodings output needs (JSON strings, percent-encoded
 * query values).
 */

#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

int
io_read_file(const char *path, size_t max, unsigned char **datap,
    size_t *lenp)
{
	unsigned char	*buf = NULL, *nbuf;
	size_t		 len = 0, cap = 0;
	ssize_t		 r;
	int		 fd;

	*datap = NULL;
	*lenp = 0;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		warn("%s", path);
		return (-1);
	}
	for (;;) {
		if (len == cap) {
			if (cap >= max + 1) {
				warnx("%s: file too large (more than %zu "
				    "bytes)", path, max);
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > max + 1)
				cap = max + 1;
			if ((nbuf = malloc(cap)) == NULL) {
				warn("%s", path);
				goto fail;
			}
			if (len > 0)
				memcpy(nbuf, buf, len);
			io_wipe(buf, len);
			buf = nbuf;
		}
		if ((r = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			warn("%s", path);
			goto fail;
		}
		if (r == 0)
			break;
		len += r;
	}
	if (len > max) {
		warnx("%s: file too large (more than %zu bytes)", path, max);
		goto fail;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*datap = buf;
	*lenp = len;
	return (0);
fail:
	io_wipe(buf, len);
	if (fd != STDIN_FILENO)
		close(fd);
	return (-1);
}

void
io_wipe(unsigned char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

int
io_write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t	 w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += w;
		len -= w;
	}
	return (0);
}

void
io_json_str(FILE *fp, const char *s)
{
	unsigned char	 c;

	fputc('"', fp);
	for (; *s != '\0'; s++) {
		c = *s;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c < 0x20 || c == 0x7f)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

/*
 * Percent-encode s into out (outsz bytes) for a URL's query, as clients
 * send l=: RFC 3986 unreserved characters stay, every other byte is %XX.
 * Returns -1 if it doesn't fit (out then holds what did, terminated).
 */
int
io_pct(const char *s, char *out, size_t outsz)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = 0;
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		c = *s;
		if (n + 4 > outsz) {
			if (outsz > 0)
				out[n] = '\0';
			return (-1);
		}
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			out[n++] = c;
		else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (n + 1 > outsz)
		return (-1);
	out[n] = '\0';
	return (0);
}

void
io_err(FILE *rep, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(rep, "wkdctl: ");
	va_start(ap, fmt);
	vfprintf(rep, fmt, ap);
	va_end(ap);
	fprintf(rep, "\n");
}

void
io_date(int64_t t, char *buf, size_t bufsz)
{
	struct tm	 tm;
	time_t		 tt = t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, bufsz, "%lld", (long long)t);
}

/* Milliseconds from a to b. */
static long
io_ms(const struct timespec *a, const struct timespec *b)
{
	return ((b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000);
}

void
io_progress_start(struct io_progress *pg, const char *what, size_t total)
{
	memset(pg, 0, sizeof(*pg));
	pg->what = what;
	pg->total = total;
	pg->tty = isatty(STDERR_FILENO);
	(void)clock_gettime(CLOCK_MONOTONIC, &pg->t0);
}

void
io_progress(struct io_progress *pg, size_t done)
{
	struct timespec	 now;

	if (pg == NULL || !pg->tty)
		return;
	done += pg->before;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	/* Only for what takes more than a second; ten redraws a second. */
	if (io_ms(&pg->t0, &now) < 1000 ||
	    (pg->shown && io_ms(&pg->last, &now) < 100))
		return;
	pg->last = now;
	pg->shown = 1;
	if (pg->total > 0)
		fprintf(stderr, "\r%s: %zu/%zu (%zu%%)", pg->what, done,
		    pg->total, done * 100 / pg->total);
	else
		fprintf(stderr, "\r%s: %zu", pg->what, done);
	(void)fflush(stderr);
}

void
io_progress_end(struct io_progress *pg)
{
	if (pg == NULL || !pg->shown)
		return;
	fprintf(stderr, "\r\033[K");
	(void)fflush(stderr);
	pg->shown = 0;
}

void
io_json_end(FILE *fp, size_t n)
{
	fprintf(fp, "%s]\n", n > 0 ? "\n" : "");
}
