/*
 * report.c: TLSRPT reports (RFC 8460): see report.h.  Validation walks
 * the jansson tree once; nothing here logs or exits.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "keystore.h"
#include "report.h"

#define REPORT_CHUNK	(64 * 1024)	/* Inflate's output, a step. */
#define REPORT_TMP	".tmp-"

static int	report_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Always REPORT_BAD. */
static int
report_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	ap;

	if (errsz > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return (REPORT_BAD);
}

/* Printable ASCII or UTF-8 (jansson checked it), no control characters. */
static int
report_text_ok(const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return (0);
	return (1);
}

/* obj's member name as a string of 1..max-1 bytes, or NULL. */
static const char *
report_str(json_t *obj, const char *name, size_t max)
{
	json_t		*v;
	const char	*s;
	size_t		 len;

	if ((v = json_object_get(obj, name)) == NULL || !json_is_string(v))
		return (NULL);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len >= max || strlen(s) != len || !report_text_ok(s))
		return (NULL);
	return (s);
}

/* obj's member name as an integer >= 0 into *n; -1 if it isn't one. */
static int
report_count(json_t *obj, const char *name, uint64_t *n)
{
	json_t	*v;

	if ((v = json_object_get(obj, name)) == NULL || !json_is_integer(v) ||
	    json_integer_value(v) < 0)
		return (-1);
	*n = (uint64_t)json_integer_value(v);
	return (0);
}

/* A string, or an array of strings, or absent. */
static int
report_strings_ok(json_t *v)
{
	size_t	 i;
	json_t	*e;

	if (v == NULL || json_is_string(v))
		return (1);
	if (!json_is_array(v))
		return (0);
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return (0);
	return (1);
}

static int
report_digits(const char *s, int n, int *out)
{
	int	i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (0);
}

int
report_time(const char *s, int64_t *t)
{
	struct tm	 tm;
	const char	*p;
	int		 y, mo, d, h, mi, sec, oh, om, sign;
	time_t		 r;

	if (strlen(s) < 20 || report_digits(s, 4, &y) == -1 || s[4] != '-' ||
	    report_digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    report_digits(s + 8, 2, &d) == -1 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    report_digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
	    report_digits(s + 14, 2, &mi) == -1 || s[16] != ':' ||
	    report_digits(s + 17, 2, &sec) == -1)
		return (-1);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return (-1);
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
		if (p == s + 20)
			return (-1);
	}
	oh = om = 0;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (report_digits(p + 1, 2, &oh) == -1 || p[3] != ':' ||
		    report_digits(p + 4, 2, &om) == -1 || oh > 23 || om > 59)
			return (-1);
		oh *= sign;
		om *= sign;
		p += 6;
	} else
		return (-1);
	if (*p != '\0')
		return (-1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec;
	if ((r = timegm(&tm)) == (time_t)-1)
		return (-1);
	*t = (int64_t)r - (int64_t)oh * 3600 - (int64_t)om * 60;
	return (0);
}

/* Policy i of root's policies, checked. */
static int
report_policy_check(json_t *pol, size_t i, char *err, size_t errsz)
{
	json_t		*p, *sum, *det, *e;
	const char	*type, *dom;
	char		 a[KS_DOMAIN_MAX];
	uint64_t	 n;
	size_t		 j;

	if (!json_is_object(pol))
		return (report_err(err, errsz, "policies[%zu]: not an object",
		    i));
	if ((p = json_object_get(pol, "policy")) == NULL ||
	    !json_is_object(p))
		return (report_err(err, errsz, "policies[%zu]: no policy", i));
	if ((type = report_str(p, "policy-type", 32)) == NULL ||
	    (strcmp(type, "sts") != 0 && strcmp(type, "tlsa") != 0 &&
	    strcmp(type, "no-policy-found") != 0))
		return (report_err(err, errsz, "policies[%zu]: policy-type "
		    "not sts, tlsa or no-policy-found", i));
	if ((dom = report_str(p, "policy-domain", KS_DOMAIN_MAX)) == NULL ||
	    ks_domain_norm(dom, a, sizeof(a)) != KS_OK)
		return (report_err(err, errsz, "policies[%zu]: policy-domain "
		    "not a domain name", i));
	if (!report_strings_ok(json_object_get(p, "policy-string")) ||
	    !report_strings_ok(json_object_get(p, "mx-host")))
		return (report_err(err, errsz, "policies[%zu]: policy-string "
		    "or mx-host not strings", i));
	if ((sum = json_object_get(pol, "summary")) == NULL ||
	    !json_is_object(sum) ||
	    report_count(sum, "total-successful-session-count", &n) == -1 ||
	    report_count(sum, "total-failure-session-count", &n) == -1)
		return (report_err(err, errsz, "policies[%zu]: summary without "
		    "session counts", i));
	if ((det = json_object_get(pol, "failure-details")) == NULL)
		return (0);
	if (!json_is_array(det) || json_array_size(det) > REPORT_DETAILS_MAX)
		return (report_err(err, errsz, "policies[%zu]: failure-details "
		    "not an array of at most %d", i, REPORT_DETAILS_MAX));
	json_array_foreach(det, j, e) {
		if (!json_is_object(e) ||
		    report_str(e, "result-type", REPORT_TYPE_MAX) == NULL ||
		    report_count(e, "failed-session-count", &n) == -1)
			return (report_err(err, errsz, "policies[%zu]."
			    "failure-details[%zu]: no result-type or "
			    "failed-session-count", i, j));
	}
	return (0);
}

int
report_parse(const void *json, size_t len, size_t max, struct report *r,
    char *err, size_t errsz)
{
	json_error_t	 je;
	json_t		*root, *dr, *pol;
	const char	*s, *st, *en;
	size_t		 i;
	int		 rc;

	memset(r, 0, sizeof(*r));
	if (len > max)
		return (REPORT_TOOBIG);
	if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return (REPORT_NOMEM);
		return (report_err(err, errsz, "not JSON: line %d: %s",
		    je.line, je.text));
	}
	rc = REPORT_BAD;
	if (!json_is_object(root)) {
		report_err(err, errsz, "not a JSON object");
		goto bad;
	}
	if ((s = report_str(root, "organization-name", REPORT_ORG_MAX)) ==
	    NULL) {
		report_err(err, errsz, "no organization-name");
		goto bad;
	}
	memcpy(r->org, s, strlen(s) + 1);
	if ((s = report_str(root, "report-id", REPORT_ID_MAX)) == NULL) {
		report_err(err, errsz, "no report-id (or over %d bytes)",
		    REPORT_ID_MAX - 1);
		goto bad;
	}
	memcpy(r->id, s, strlen(s) + 1);
	if ((dr = json_object_get(root, "date-range")) == NULL ||
	    !json_is_object(dr) ||
	    (st = report_str(dr, "start-datetime", 64)) == NULL ||
	    (en = report_str(dr, "end-datetime", 64)) == NULL ||
	    report_time(st, &r->start) == -1 ||
	    report_time(en, &r->end) == -1 || r->start > r->end) {
		report_err(err, errsz, "date-range: no start-datetime and "
		    "end-datetime (RFC 3339, start before end)");
		goto bad;
	}
	if ((pol = json_object_get(root, "policies")) == NULL ||
	    !json_is_array(pol) || json_array_size(pol) == 0 ||
	    json_array_size(pol) > REPORT_POLICIES_MAX) {
		report_err(err, errsz, "policies: not an array of 1 to %d",
		    REPORT_POLICIES_MAX);
		goto bad;
	}
	for (i = 0; i < json_array_size(pol); i++)
		if (report_policy_check(json_array_get(pol, i), i, err,
		    errsz) != 0)
			goto bad;
	r->root = root;
	r->npolicies = json_array_size(pol);
	return (0);
bad:
	json_decref(root);
	memset(r, 0, sizeof(*r));
	return (rc);
}

void
report_free(struct report *r)
{
	json_decref(r->root);
	memset(r, 0, sizeof(*r));
}

void
report_policy(const struct report *r, size_t i, struct report_policy *p)
{
	json_t	*pol, *po, *sum;

	memset(p, 0, sizeof(*p));
	pol = json_array_get(json_object_get(r->root, "policies"), i);
	po = json_object_get(pol, "policy");
	sum = json_object_get(pol, "summary");
	p->type = json_string_value(json_object_get(po, "policy-type"));
	if (ks_domain_norm(json_string_value(json_object_get(po,
	    "policy-domain")), p->domain, sizeof(p->domain)) != KS_OK)
		p->domain[0] = '\0';	/* Not after report_parse(). */
	(void)report_count(sum, "total-successful-session-count",
	    &p->success);
	(void)report_count(sum, "total-failure-session-count", &p->failure);
	p->mx = json_object_get(po, "mx-host");
	p->details = json_object_get(pol, "failure-details");
}

size_t
report_ndetails(const struct report_policy *p)
{
	return (p->details != NULL ? json_array_size(p->details) : 0);
}

void
report_detail(const struct report_policy *p, size_t j,
    struct report_detail *d)
{
	json_t	*e;

	memset(d, 0, sizeof(*d));
	e = json_array_get(p->details, j);
	d->result = json_string_value(json_object_get(e, "result-type"));
	d->mx = json_string_value(json_object_get(e,
	    "receiving-mx-hostname"));
	d->sending_ip = json_string_value(json_object_get(e,
	    "sending-mta-ip"));
	d->receiving_ip = json_string_value(json_object_get(e,
	    "receiving-ip"));
	(void)report_count(e, "failed-session-count", &d->count);
}

int
report_gunzip(const void *in, size_t inlen, size_t max, unsigned char **out,
    size_t *outlen, char *err, size_t errsz)
{
	z_stream	 z;
	unsigned char	*buf = NULL, *nb;
	size_t		 cap = 0, len = 0, step;
	int		 zrc, rc;

	*out = NULL;
	*outlen = 0;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)	/* gzip only. */
		return (REPORT_NOMEM);
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = inlen > UINT32_MAX ? UINT32_MAX : (uInt)inlen;
	for (;;) {
		if (len == cap) {
			/* One byte past max tells a bomb from a fit. */
			if (cap > max) {
				rc = REPORT_TOOBIG;
				goto fail;
			}
			step = max + 1 - cap < REPORT_CHUNK ?
			    max + 1 - cap : REPORT_CHUNK;
			if ((nb = realloc(buf, cap + step)) == NULL) {
				rc = REPORT_NOMEM;
				goto fail;
			}
			buf = nb;
			cap += step;
		}
		z.next_out = buf + len;
		z.avail_out = (uInt)(cap - len);
		zrc = inflate(&z, Z_NO_FLUSH);
		len = cap - z.avail_out;
		if (len > max) {
			rc = REPORT_TOOBIG;
			goto fail;
		}
		if (zrc == Z_STREAM_END)
			break;
		if (zrc == Z_MEM_ERROR) {
			rc = REPORT_NOMEM;
			goto fail;
		}
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			rc = report_err(err, errsz, "not gzip: %s",
			    z.msg != NULL ? z.msg : "bad data");
			goto fail;
		}
		if (zrc == Z_BUF_ERROR && z.avail_in == 0) {
			rc = report_err(err, errsz, "gzip data cut short");
			goto fail;
		}
	}
	if (z.avail_in != 0 || z.total_in != inlen) {
		rc = report_err(err, errsz, "bytes after the gzip data");
		goto fail;
	}
	inflateEnd(&z);
	*out = buf;
	*outlen = len;
	return (0);
fail:
	inflateEnd(&z);
	free(buf);
	return (rc);
}

long
report_spool_count(int dirfd)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	long		 n = 0;
	int		 fd;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return (-1);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_REG)
			n++;
		else if (de->d_type == DT_UNKNOWN &&
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			n++;
	}
	closedir(d);
	return (n);
}

int
report_spool_put(int dirfd, const void *data, size_t len, unsigned max,
    char *name, size_t namesz)
{
	static unsigned	 seq;
	struct timespec	 ts;
	char		 fin[128], tmp[sizeof(fin) + sizeof(REPORT_TMP)];
	const char	*p = data;
	ssize_t		 w;
	long		 n;
	int		 fd, rc, tries;

	if (max != 0) {
		if ((n = report_spool_count(dirfd)) == -1)
			return (errno);
		if (n >= (long)max)
			return (ENOSPC);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	for (tries = 0;; tries++) {
		(void)snprintf(fin, sizeof(fin), "%lld.%09ld.%ld.%u%s",
		    (long long)ts.tv_sec, ts.tv_nsec, (long)getpid(),
		    __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED),
		    REPORT_SUFFIX);
		(void)snprintf(tmp, sizeof(tmp), "%s%s", REPORT_TMP, fin);
		if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0640)) != -1)
			break;
		if (errno != EEXIST || tries == 8)
			return (errno);
	}
	/* Whatever the umask (wkdd.service's is 077): for ingest's group. */
	if (fchmod(fd, 0640) == -1)
		goto fail;
	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= w;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, fin) == -1)
		goto fail;
	if (name != NULL)
		(void)snprintf(name, namesz, "%s", fin);
	return (0);
fail:
	rc = errno;
	if (fd != -1)
		close(fd);
	(void)unlinkat(dirfd, tmp, 0);
	return (rc);
}
