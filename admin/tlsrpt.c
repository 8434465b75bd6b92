/*
 * tlsrpt.c: wkdctl tlsrpt, the SMTP TLS reports (RFC 8460) other mail
 * servers send about hosted domains.
 *
 * Reports arrive in the spool (tlsrpt-spool): wkdd writes those POSTed to
 * https://NAME/tlsrpt, "tlsrpt receive" those mailed (an MTA pipes the
 * mail in).  Both validate with report.c first and spool only a valid
 * report whose policy domains are all hosted.  "ingest" moves the spool
 * into the store (dedup by domain and report-id, ks_tlsrpt_put()), a
 * batch of files a transaction, and deletes a batch's files once it has
 * committed: a crash between the two ingests them again, as duplicates.
 * A file that isn't a report (or no longer names a hosted domain) is
 * moved to the spool's rejected/.
 * "summary" reads the stored reports back, per domain and period;
 * "prune" drops old ones.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "keystore.h"
#include "conf.h"
#include "report.h"
#include "wkdctl.h"

#define TLSRPT_REJECTED	"rejected"
#define TLSRPT_STALE	3600	/* A temporary this old is a crash's. */
#define TLSRPT_MAIL_MAX	(8 * 1024 * 1024)	/* Of a mail, before base64. */
#define TLSRPT_DEPTH	4	/* multipart levels looked into. */
#define INGEST_FILES	256	/* Of an ingest transaction, at most; */
#define INGEST_BYTES	(32 * 1024 * 1024)	/* and of reports, about. */

enum { OPT_SPOOL = 256, OPT_JSON, OPT_DAYS, OPT_SINCE, OPT_BEFORE };

static const struct option tlsrpt_opts[] = {
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "days", required_argument, NULL, OPT_DAYS },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "before", required_argument, NULL, OPT_BEFORE },
	{ NULL, 0, NULL, 0 }
};

/* The spool's directory, opened: --spool, else tlsrpt-spool. */
static int
tlsrpt_spool_open(const struct ctl *ctl, const char *opt)
{
	const char	*dir = opt;
	int		 fd;

	if (dir == NULL && ctl->conf != NULL &&
	    ctl->conf->tlsrpt_spool[0] != '\0')
		dir = ctl->conf->tlsrpt_spool;
	if (dir == NULL) {
		warnx("tlsrpt: no spool: set tlsrpt-spool in wkdd.conf or "
		    "give --spool dir");
		return (-1);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		warn("tlsrpt: %s", dir);
		return (-1);
	}
	return (fd);
}

static size_t
tlsrpt_max(const struct ctl *ctl)
{
	if (ctl->conf != NULL && ctl->conf->tlsrpt_max_size != 0)
		return (ctl->conf->tlsrpt_max_size);
	return (REPORT_MAX_DEFAULT);
}

/*
 * Every policy domain of r hosted in txn?  0, or -1 with the first one
 * that isn't in bad.
 */
static int
tlsrpt_hosted(struct ks_txn *txn, const struct report *r, char *bad,
    size_t badsz)
{
	struct report_policy	 p;
	struct ks_domain	 d;
	size_t			 i;

	for (i = 0; i < r->npolicies; i++) {
		report_policy(r, i, &p);
		if (ks_domain_get(txn, p.domain, &d) != KS_OK) {
			(void)snprintf(bad, badsz, "%s", p.domain);
			return (-1);
		}
	}
	return (0);
}

/* Mail parsing (receive). */

/* A MIME part: its headers' values we need, and its body. */
struct mime_part {
	char		 type[128];	/* Lowercased, without parameters. */
	char		 boundary[128];
	char		 encoding[32];	/* Content-Transfer-Encoding. */
	const char	*body;
	size_t		 bodylen;
};

/* The next line of [p, end): its length without CRLF; *next after it. */
static size_t
mime_line(const char *p, const char *end, const char **next)
{
	const char	*nl;
	size_t		 len;

	if ((nl = memchr(p, '\n', end - p)) == NULL) {
		*next = end;
		len = end - p;
	} else {
		*next = nl + 1;
		len = nl - p;
	}
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return (len);
}

/* A parameter (boundary=) of a header value, unquoted, into out. */
static void
mime_param(const char *v, const char *name, char *out, size_t outsz)
{
	const char	*p = v, *e;
	size_t		 nlen = strlen(name);

	out[0] = '\0';
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nlen) != 0 || p[nlen] != '=')
			continue;
		p += nlen + 1;
		if (*p == '"') {
			p++;
			e = strchr(p, '"');
		} else
			e = p + strcspn(p, "; \t");
		if (e == NULL || (size_t)(e - p) >= outsz)
			return;
		memcpy(out, p, e - p);
		out[e - p] = '\0';
		return;
	}
}

/*
 * The headers of a part at [p, end) (unfolded), then its body; -1 if it
 * has no blank line ending its headers.
 */
static int
mime_headers(const char *p, const char *end, struct mime_part *m)
{
	char		 h[1024];
	const char	*next, *q;
	size_t		 len, hlen = 0, n;

	memset(m, 0, sizeof(*m));
	for (;;) {
		if (p >= end)
			return (-1);
		len = mime_line(p, end, &next);
		if (len > 0 && (p[0] == ' ' || p[0] == '\t')) {
			/* A folded line continues the header. */
			n = len < sizeof(h) - 1 - hlen ? len : sizeof(h) - 1 -
			    hlen;
			memcpy(h + hlen, p, n);
			hlen += n;
			p = next;
			continue;
		}
		if (hlen > 0) {
			h[hlen] = '\0';
			if (strncasecmp(h, "Content-Type:", 13) == 0) {
				q = h + 13 + strspn(h + 13, " \t");
				n = strcspn(q, "; \t");
				if (n < sizeof(m->type)) {
					memcpy(m->type, q, n);
					m->type[n] = '\0';
				}
				mime_param(q, "boundary", m->boundary,
				    sizeof(m->boundary));
			} else if (strncasecmp(h,
			    "Content-Transfer-Encoding:", 26) == 0) {
				q = h + 26 + strspn(h + 26, " \t");
				n = strcspn(q, " \t;");
				if (n < sizeof(m->encoding)) {
					memcpy(m->encoding, q, n);
					m->encoding[n] = '\0';
				}
			}
			hlen = 0;
		}
		if (len == 0)
			break;
		n = len < sizeof(h) - 1 ? len : sizeof(h) - 1;
		memcpy(h, p, n);
		hlen = n;
		p = next;
	}
	for (q = m->type; *q != '\0'; q++)
		m->type[q - m->type] = (char)tolower((unsigned char)*q);
	m->body = next;
	m->bodylen = end - next;
	return (0);
}

/*
 * The first application/tlsrpt+gzip or +json part of the mail at
 * [p, end), looked for through multipart bodies down to depth, into
 * *out; -1 if none.
 */
static int
mime_find(const char *p, const char *end, int depth, struct mime_part *out)
{
	struct mime_part	 m;
	const char		*q, *next, *start = NULL;
	size_t			 blen, len;

	if (mime_headers(p, end, &m) == -1)
		return (-1);
	if (strcmp(m.type, "application/tlsrpt+gzip") == 0 ||
	    strcmp(m.type, "application/tlsrpt+json") == 0) {
		*out = m;
		return (0);
	}
	if (strncmp(m.type, "multipart/", 10) != 0 || m.boundary[0] == '\0' ||
	    depth == 0)
		return (-1);
	blen = strlen(m.boundary);
	for (q = m.body; q < end; q = next) {
		len = mime_line(q, end, &next);
		if (len < blen + 2 || q[0] != '-' || q[1] != '-' ||
		    memcmp(q + 2, m.boundary, blen) != 0)
			continue;
		/* A delimiter: the part before it ends with its CRLF. */
		if (start != NULL && mime_find(start, q, depth - 1, out) == 0)
			return (0);
		if (len >= blen + 4 && q[blen + 2] == '-' &&
		    q[blen + 3] == '-')
			return (-1);		/* The close delimiter. */
		start = next;
	}
	return (-1);
}

static int
b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

/*
 * Base64 (RFC 2045: line breaks and blanks skipped, '=' ends) of [in,
 * in + len) into *out (malloc(3)ed); -1 on a bad character.
 */
static int
b64_decode(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
	unsigned char	*o;
	size_t		 i, n = 0;
	unsigned	 acc = 0;
	int		 bits = 0, v;

	if ((o = malloc(len / 4 * 3 + 3)) == NULL)
		return (-1);
	for (i = 0; i < len; i++) {
		if (in[i] == '=')
			break;
		if (in[i] == '\r' || in[i] == '\n' || in[i] == ' ' ||
		    in[i] == '\t')
			continue;
		if ((v = b64_val((unsigned char)in[i])) == -1) {
			free(o);
			return (-1);
		}
		acc = acc << 6 | (unsigned)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			o[n++] = (acc >> bits) & 0xff;
		}
	}
	*out = o;
	*outlen = n;
	return (0);
}

/*
 * The report's JSON from a body of type (application/tlsrpt+gzip or
 * +json), len bytes, into *json (malloc(3)ed): 0, else a REPORT_* code
 * with err set.
 */
static int
tlsrpt_body(const char *type, const unsigned char *body, size_t len,
    size_t max, unsigned char **json, size_t *jsonlen, char *err,
    size_t errsz)
{
	if (strcmp(type, "application/tlsrpt+gzip") == 0)
		return (report_gunzip(body, len, max, json, jsonlen, err,
		    errsz));
	if (len > max)
		return (REPORT_TOOBIG);
	if ((*json = malloc(len == 0 ? 1 : len)) == NULL)
		return (REPORT_NOMEM);
	memcpy(*json, body, len);
	*jsonlen = len;
	return (0);
}

/*
 * Validate a report's json: parse, every policy domain hosted.  0, or -1
 * after warning (what of, in from).
 */
static int
tlsrpt_check(struct ctl *ctl, const unsigned char *json, size_t len,
    const char *from, struct report *r)
{
	struct ks_txn	*txn;
	char		 err[256], bad[KS_DOMAIN_MAX];
	int		 rc;

	if ((rc = report_parse(json, len, tlsrpt_max(ctl), r, err,
	    sizeof(err))) != 0) {
		if (rc == REPORT_TOOBIG)
			warnx("%s: report over tlsrpt-max-size (%zu bytes)",
			    from, tlsrpt_max(ctl));
		else if (rc == REPORT_NOMEM)
			warnx("%s: out of memory", from);
		else
			warnx("%s: not a TLS report: %s", from, err);
		return (-1);
	}
	if (store_begin(ctl, KS_RDONLY, &txn) == -1) {
		report_free(r);
		return (-1);
	}
	rc = tlsrpt_hosted(txn, r, bad, sizeof(bad));
	ks_txn_abort(txn);
	if (rc == -1) {
		warnx("%s: report %s: policy domain %s is not hosted", from,
		    r->id, bad);
		report_free(r);
		return (-1);
	}
	return (0);
}

int
tlsrpt_mail(const char *mail, size_t len, size_t max, unsigned char **json,
    size_t *jsonlen, char *err, size_t errsz)
{
	struct mime_part	 m;
	unsigned char		*raw = NULL;
	const unsigned char	*body;
	size_t			 rawlen, bodylen;
	int			 rc;

	*json = NULL;
	*jsonlen = 0;
	if (mime_find(mail, mail + len, TLSRPT_DEPTH, &m) == -1) {
		(void)snprintf(err, errsz, "no application/tlsrpt+gzip or "
		    "application/tlsrpt+json part in the mail");
		return (REPORT_BAD);
	}
	body = (const unsigned char *)m.body;
	bodylen = m.bodylen;
	if (strcasecmp(m.encoding, "base64") == 0) {
		if (b64_decode(m.body, m.bodylen, &raw, &rawlen) == -1) {
			(void)snprintf(err, errsz, "the report part's base64 "
			    "is bad");
			return (REPORT_BAD);
		}
		body = raw;
		bodylen = rawlen;
	} else if (m.encoding[0] != '\0' &&
	    strcasecmp(m.encoding, "7bit") != 0 &&
	    strcasecmp(m.encoding, "8bit") != 0 &&
	    strcasecmp(m.encoding, "binary") != 0) {
		(void)snprintf(err, errsz, "transfer encoding %s not "
		    "supported", m.encoding);
		return (REPORT_BAD);
	}
	rc = tlsrpt_body(m.type, body, bodylen, max, json, jsonlen, err,
	    errsz);
	free(raw);
	return (rc);
}

static int
tlsrpt_receive(struct ctl *ctl, const char *spool)
{
	struct report		 r;
	unsigned char		*mail = NULL, *json = NULL;
	size_t			 maillen, jsonlen;
	char			 err[256], name[128];
	int			 dfd = -1, rc, ret = 1;

	if ((dfd = tlsrpt_spool_open(ctl, spool)) == -1)
		return (1);
	if (io_read_file("-", TLSRPT_MAIL_MAX, &mail, &maillen) == -1)
		goto done;
	if ((rc = tlsrpt_mail((const char *)mail, maillen, tlsrpt_max(ctl),
	    &json, &jsonlen, err, sizeof(err))) != 0) {
		if (rc == REPORT_TOOBIG)
			warnx("receive: report over tlsrpt-max-size (%zu "
			    "bytes)", tlsrpt_max(ctl));
		else
			warnx("receive: %s", rc == REPORT_NOMEM ?
			    "out of memory" : err);
		goto done;
	}
	if (tlsrpt_check(ctl, json, jsonlen, "receive", &r) == -1)
		goto done;
	rc = report_spool_put(dfd, json, jsonlen, ctl->conf != NULL ?
	    ctl->conf->tlsrpt_spool_max : 1000, name, sizeof(name));
	if (rc != 0)
		warnx("receive: report %s: spool: %s", r.id, rc == ENOSPC ?
		    "full (tlsrpt-spool-max files): run wkdctl tlsrpt ingest" :
		    strerror(rc));
	else {
		printf("report %s from %s spooled as %s\n", r.id, r.org,
		    name);
		ret = 0;
	}
	report_free(&r);
done:
	free(mail);
	free(json);
	if (dfd != -1)
		close(dfd);
	return (ret);
}

/* Ingest. */

struct ingest_file {
	char		 name[NAME_MAX + 1];
	int		 bad;		/* To rejected/. */
	int		 gone;		/* Taken meanwhile. */
};

static int
ingest_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct ingest_file *)a)->name,
	    ((const struct ingest_file *)b)->name));
}

/* The spool's reports (names ending in REPORT_SUFFIX), sorted; stale
 * temporaries removed. */
static int
ingest_list(int dfd, struct ingest_file **fp, size_t *np)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	struct ingest_file *v = NULL, *nv;
	size_t		 n = 0, len, sl = strlen(REPORT_SUFFIX);
	int		 fd;

	*fp = NULL;
	*np = 0;
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (d = fdopendir(fd)) == NULL) {
		warn("tlsrpt: spool");
		if (fd != -1)
			close(fd);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (de->d_name[0] == '.') {
			if (strncmp(de->d_name, ".tmp-", 5) == 0 &&
			    st.st_mtime < time(NULL) - TLSRPT_STALE)
				(void)unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (len <= sl || strcmp(de->d_name + len - sl,
		    REPORT_SUFFIX) != 0 || len >= sizeof(v->name))
			continue;
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL) {
			warn(NULL);
			free(v);
			closedir(d);
			return (-1);
		}
		v = nv;
		memcpy(v[n].name, de->d_name, len + 1);
		v[n].bad = v[n].gone = 0;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), ingest_cmp);
	*fp = v;
	*np = n;
	return (0);
}

/* Read spool file name (at most max bytes) into *data. */
static int
ingest_read(int dfd, const char *name, size_t max, unsigned char **data,
    size_t *len)
{
	struct stat	 st;
	unsigned char	*b;
	ssize_t		 r;
	size_t		 n = 0;
	int		 fd;

	*data = NULL;
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return (-1);
	if (fstat(fd, &st) == -1) {
		close(fd);
		return (-1);
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		errno = EFBIG;
		return (-1);
	}
	if ((b = malloc(st.st_size + 1)) == NULL) {
		close(fd);
		return (-1);
	}
	while (n < (size_t)st.st_size && (r = read(fd, b + n,
	    st.st_size - n)) > 0)
		n += r;
	close(fd);
	*data = b;
	*len = n;
	return (0);
}

/* Move a spool file aside, into rejected/ (made if need be). */
static void
ingest_reject(int dfd, const char *name)
{
	char	 to[sizeof(TLSRPT_REJECTED) + NAME_MAX + 2];

	if (mkdirat(dfd, TLSRPT_REJECTED, 0750) == -1 && errno != EEXIST) {
		warn("tlsrpt: %s", TLSRPT_REJECTED);
		return;
	}
	(void)snprintf(to, sizeof(to), "%s/%s", TLSRPT_REJECTED, name);
	if (renameat(dfd, name, dfd, to) == -1)
		warn("tlsrpt: %s to %s", name, to);
}

/*
 * One report into the store: a record per hosted policy domain.  *stored,
 * *dups count them.  KS_OK, KS_NOTFOUND if a policy domain isn't hosted
 * (nothing stored then), or another KS_* code.
 */
static int
ingest_report(struct ks_txn *txn, const struct report *r, const char *json,
    size_t len, size_t *stored, size_t *dups)
{
	struct report_policy	 p;
	struct ks_tlsrpt	 rec;
	struct ks_txn		*sub;
	size_t			 i, j, s = 0, d = 0;
	int			 rc;

	if ((rc = ks_txn_nest(txn, &sub)) != KS_OK)
		return (rc);
	for (i = 0; i < r->npolicies; i++) {
		report_policy(r, i, &p);
		/* A domain's record once, with all its policies' sessions. */
		for (j = 0; j < i; j++) {
			struct report_policy	q;

			report_policy(r, j, &q);
			if (strcmp(q.domain, p.domain) == 0)
				break;
		}
		if (j < i)
			continue;
		memset(&rec, 0, sizeof(rec));
		(void)snprintf(rec.domain, sizeof(rec.domain), "%s",
		    p.domain);
		(void)snprintf(rec.id, sizeof(rec.id), "%s", r->id);
		rec.start = r->start;
		rec.end = r->end;
		rec.received = time(NULL);
		for (j = i; j < r->npolicies; j++) {
			struct report_policy	q;

			report_policy(r, j, &q);
			if (strcmp(q.domain, p.domain) == 0) {
				rec.success += q.success;
				rec.failure += q.failure;
			}
		}
		rec.json = json;
		rec.len = len;
		if ((rc = ks_tlsrpt_put(sub, &rec)) == KS_EXISTS)
			d++;
		else if (rc == KS_OK)
			s++;
		else {
			ks_txn_abort(sub);
			return (rc);
		}
	}
	if ((rc = ks_txn_commit(sub)) != KS_OK)
		return (rc);
	*stored += s;
	*dups += d;
	return (KS_OK);
}

/* What ingest did, over its batches. */
struct ingest_counts {
	size_t		 read, stored, dups, bad;
};

/*
 * Files from *ip on, in one transaction, until INGEST_FILES of them or
 * INGEST_BYTES of reports (so that a full spool of large reports fits
 * any store); committed, their files are removed (the bad ones moved to
 * rejected/) and *ip is past them.  0, or -1 after warning (nothing of
 * the batch is stored then, and its files stay).
 */
static int
ingest_batch(struct ctl *ctl, int dfd, struct ingest_file *files, size_t n,
    size_t *ip, struct ingest_counts *c)
{
	struct ks_txn	*txn;
	struct report	 r;
	unsigned char	*data, *compact;
	size_t		 i, len, bytes = 0, stored = 0, dups = 0, nread = 0;
	char		 err[256];
	int		 rc;

	if (store_begin(ctl, 0, &txn) == -1)
		return (-1);
	for (i = *ip; i < n && i - *ip < INGEST_FILES &&
	    bytes < INGEST_BYTES; i++) {
		if (ingest_read(dfd, files[i].name, KS_TLSRPT_MAX, &data,
		    &len) == -1) {
			if (errno == ENOENT) {	/* Another ingest took it. */
				files[i].gone = 1;
				continue;
			}
			warn("tlsrpt: %s", files[i].name);
			files[i].bad = 1;
			continue;
		}
		nread++;
		rc = report_parse(data, len, KS_TLSRPT_MAX, &r, err,
		    sizeof(err));
		free(data);
		if (rc != 0) {
			warnx("tlsrpt: %s: not a TLS report: %s",
			    files[i].name, rc == REPORT_TOOBIG ? "too big" :
			    rc == REPORT_NOMEM ? "out of memory" : err);
			files[i].bad = 1;
			continue;
		}
		/* Stored compact: what summary reads back. */
		if ((compact = (unsigned char *)json_dumps(r.root,
		    JSON_COMPACT)) == NULL) {
			warnx("tlsrpt: %s: out of memory", files[i].name);
			report_free(&r);
			(void)store_abort(txn);
			return (-1);
		}
		bytes += strlen((char *)compact);
		rc = ingest_report(txn, &r, (const char *)compact,
		    strlen((char *)compact), &stored, &dups);
		free(compact);
		if (rc == KS_NOTFOUND || rc == KS_INVALID ||
		    rc == KS_TOOBIG) {
			warnx("tlsrpt: %s: report %s: %s", files[i].name,
			    r.id, rc == KS_NOTFOUND ?
			    "a policy domain is not hosted" :
			    store_strerror(rc));
			files[i].bad = 1;
		} else if (rc != KS_OK) {
			warnx("tlsrpt: %s: %s", files[i].name,
			    store_strerror(rc));
			report_free(&r);
			(void)store_abort(txn);
			return (-1);
		}
		report_free(&r);
	}
	if (stored > 0 && audit_log(txn, "tlsrpt", "tls reports ingested: "
	    "%zu stored, %zu duplicates", stored, dups) != KS_OK) {
		(void)store_abort(txn);
		return (-1);
	}
	if (store_commit(ctl, txn) == -1)
		return (-1);
	/* Committed: the files can go. */
	for (; *ip < i; (*ip)++) {
		if (files[*ip].gone)
			continue;
		if (files[*ip].bad) {
			ingest_reject(dfd, files[*ip].name);
			c->bad++;
		} else if (unlinkat(dfd, files[*ip].name, 0) == -1 &&
		    errno != ENOENT)
			warn("tlsrpt: %s", files[*ip].name);
	}
	c->read += nread;
	c->stored += stored;
	c->dups += dups;
	return (0);
}

static int
tlsrpt_ingest(struct ctl *ctl, const char *spool, int json_out)
{
	struct ingest_file	*files = NULL;
	struct ingest_counts	 c = { 0, 0, 0, 0 };
	size_t			 n, i = 0;
	int			 dfd, ret = 1;

	if ((dfd = tlsrpt_spool_open(ctl, spool)) == -1)
		return (1);
	if (ingest_list(dfd, &files, &n) == -1)
		goto done;
	do {
		if (ingest_batch(ctl, dfd, files, n, &i, &c) == -1)
			goto done;
	} while (i < n);
	if (json_out)
		printf("{\"files\":%zu,\"stored\":%zu,\"duplicates\":%zu,"
		    "\"rejected\":%zu}\n", c.read, c.stored, c.dups, c.bad);
	else
		printf("%zu files: %zu reports stored, %zu duplicates, "
		    "%zu rejected\n", c.read, c.stored, c.dups, c.bad);
	ret = c.bad > 0 ? 3 : 0;
done:
	free(files);
	close(dfd);
	return (ret);
}

/* Summary. */

/* One domain's figures over the period: counts in jansson objects. */
struct sum_dom {
	char		 domain[KS_DOMAIN_MAX];
	uint64_t	 reports, success, failure;
	int64_t		 first, last;
	json_t		*failures;	/* result-type -> sessions. */
	json_t		*orgs;		/* organization-name -> reports. */
	json_t		*mx;		/* MX host -> failed sessions. */
	json_t		*types;		/* policy-type -> sessions. */
};

struct sum {
	struct sum_dom	*v;
	size_t		 n;
	int		 err;
};

static void
sum_add(json_t *o, const char *key, uint64_t n)
{
	json_t	*v;

	if (key == NULL)
		return;
	if ((v = json_object_get(o, key)) != NULL)
		json_integer_set(v, json_integer_value(v) + (json_int_t)n);
	else
		json_object_set_new(o, key, json_integer((json_int_t)n));
}

static struct sum_dom *
sum_domain(struct sum *s, const char *domain)
{
	struct sum_dom	*nv, *d;

	if (s->n > 0 && strcmp(s->v[s->n - 1].domain, domain) == 0)
		return (&s->v[s->n - 1]);	/* Records come in order. */
	if ((nv = reallocarray(s->v, s->n + 1, sizeof(*s->v))) == NULL)
		return (NULL);
	s->v = nv;
	d = &s->v[s->n];
	memset(d, 0, sizeof(*d));
	(void)snprintf(d->domain, sizeof(d->domain), "%s", domain);
	d->failures = json_object();
	d->orgs = json_object();
	d->mx = json_object();
	d->types = json_object();
	if (d->failures == NULL || d->orgs == NULL || d->mx == NULL ||
	    d->types == NULL) {
		json_decref(d->failures);
		json_decref(d->orgs);
		json_decref(d->mx);
		json_decref(d->types);
		return (NULL);
	}
	s->n++;
	return (d);
}

static int
sum_cb(const struct ks_tlsrpt *rec, void *arg)
{
	struct sum		*s = arg;
	struct sum_dom		*d;
	struct report		 r;
	struct report_policy	 p;
	struct report_detail	 det;
	json_t			*e;
	size_t			 i, j;
	char			 err[128];

	if (report_parse(rec->json, rec->len, KS_TLSRPT_MAX, &r, err,
	    sizeof(err)) != 0) {
		warnx("tlsrpt: %s: stored report %s: %s", rec->domain,
		    rec->id, err);
		s->err = 1;
		return (0);
	}
	if ((d = sum_domain(s, rec->domain)) == NULL) {
		report_free(&r);
		return (ENOMEM);
	}
	if (d->reports == 0 || rec->start < d->first)
		d->first = rec->start;
	if (d->reports == 0 || rec->end > d->last)
		d->last = rec->end;
	d->reports++;
	sum_add(d->orgs, r.org, 1);
	for (i = 0; i < r.npolicies; i++) {
		report_policy(&r, i, &p);
		if (strcmp(p.domain, rec->domain) != 0)
			continue;
		d->success += p.success;
		d->failure += p.failure;
		sum_add(d->types, p.type, p.success + p.failure);
		if (json_is_string(p.mx))
			sum_add(d->mx, json_string_value(p.mx), 0);
		else if (json_is_array(p.mx))
			json_array_foreach(p.mx, j, e)
				sum_add(d->mx, json_string_value(e), 0);
		for (j = 0; j < report_ndetails(&p); j++) {
			report_detail(&p, j, &det);
			sum_add(d->failures, det.result, det.count);
			if (det.mx != NULL)
				sum_add(d->mx, det.mx, det.count);
		}
	}
	report_free(&r);
	return (0);
}

static void
sum_free(struct sum *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		json_decref(s->v[i].failures);
		json_decref(s->v[i].orgs);
		json_decref(s->v[i].mx);
		json_decref(s->v[i].types);
	}
	free(s->v);
}

static int
sum_keycmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/* "name count, name count" of o, sorted by name. */
static void
sum_list(const char *what, json_t *o, const char *unit)
{
	const char	**keys;
	const char	 *k;
	json_t		 *v;
	size_t		  i, n = json_object_size(o);

	printf("  %s:", what);
	if (n == 0) {
		printf(" none\n");
		return;
	}
	if ((keys = calloc(n, sizeof(*keys))) == NULL) {
		printf(" (out of memory)\n");
		return;
	}
	i = 0;
	json_object_foreach(o, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), sum_keycmp);
	for (i = 0; i < n; i++)
		printf("%s %s %lld%s", i == 0 ? "" : ",", keys[i],
		    (long long)json_integer_value(json_object_get(o,
		    keys[i])), unit);
	printf("\n");
	free(keys);
}

/* s's domains as summary --json's objects, appended to a: 0 or -1. */
static int
sum_json(const struct sum *s, json_t *a)
{
	const struct sum_dom	*d;
	json_t			*o;
	char			 t1[32], t2[32];
	size_t			 i;

	for (i = 0; i < s->n; i++) {
		d = &s->v[i];
		io_date(d->first, t1, sizeof(t1));
		io_date(d->last, t2, sizeof(t2));
		o = json_pack("{s:s,s:I,s:s,s:s,s:I,s:I,s:O,s:O,s:O,s:O}",
		    "domain", d->domain, "reports", (json_int_t)d->reports,
		    "first", t1, "last", t2,
		    "successful_sessions", (json_int_t)d->success,
		    "failed_sessions", (json_int_t)d->failure,
		    "failures", d->failures, "organizations", d->orgs,
		    "mx_hosts", d->mx, "policy_types", d->types);
		if (o == NULL || json_array_append_new(a, o) == -1)
			return (-1);
	}
	return (0);
}

int
tlsrpt_summary_add(struct ks_txn *txn, const char *domain, int64_t since,
    struct json_t *a)
{
	struct sum	 s = { NULL, 0, 0 };
	int		 rc;

	if ((rc = ks_tlsrpt_foreach(txn, domain, since, sum_cb, &s)) !=
	    KS_OK) {
		warnx("tlsrpt: %s", store_strerror(rc));
		sum_free(&s);
		return (-1);
	}
	rc = sum_json(&s, a);
	sum_free(&s);
	return (rc);
}

static int
tlsrpt_summary(struct ctl *ctl, const char *domain, int64_t since,
    int json_out)
{
	struct ks_txn	*txn;
	struct ks_domain kd;
	struct sum	 s = { NULL, 0, 0 };
	struct sum_dom	*d;
	json_t		*out, *a = NULL;
	char		 dom[KS_DOMAIN_MAX], t1[32], t2[32];
	size_t		 i;
	int		 rc;

	if (domain != NULL && cli_domain(domain, dom) == -1)
		return (1);
	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if (domain != NULL && store_domain(txn, dom, &kd) == -1) {
		ks_txn_abort(txn);
		return (1);
	}
	rc = ks_tlsrpt_foreach(txn, domain != NULL ? dom : NULL, since,
	    sum_cb, &s);
	ks_txn_abort(txn);
	if (rc != KS_OK) {
		warnx("tlsrpt: %s", store_strerror(rc));
		sum_free(&s);
		return (1);
	}
	if (json_out) {
		if ((out = json_object()) == NULL || (a = json_array()) ==
		    NULL || sum_json(&s, a) == -1) {
			warnx("out of memory");
			json_decref(out);
			json_decref(a);
			sum_free(&s);
			return (1);
		}
		json_object_set_new(out, "domains", a);
		if (since > 0) {
			io_date(since, t1, sizeof(t1));
			json_object_set_new(out, "since", json_string(t1));
		}
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("\n");
		json_decref(out);
	} else {
		if (s.n == 0)
			printf("no reports%s%s\n", domain != NULL ? " for " :
			    "", domain != NULL ? dom : "");
		for (i = 0; i < s.n; i++) {
			d = &s.v[i];
			io_date(d->first, t1, sizeof(t1));
			io_date(d->last, t2, sizeof(t2));
			printf("%s: %llu report%s, %s to %s\n", d->domain,
			    (unsigned long long)d->reports,
			    d->reports == 1 ? "" : "s", t1, t2);
			printf("  sessions: %llu successful, %llu failed\n",
			    (unsigned long long)d->success,
			    (unsigned long long)d->failure);
			sum_list("failures", d->failures, "");
			sum_list("organizations", d->orgs, "");
			sum_list("mx hosts (failed sessions)", d->mx, "");
			sum_list("policy types (sessions)", d->types, "");
		}
	}
	rc = s.err;
	sum_free(&s);
	return (rc ? 1 : 0);
}

/* prune: the reports that ended before before go (sums made again). */
static int
tlsrpt_prune(struct ctl *ctl, int64_t before)
{
	struct ks_txn	*txn;
	char		 when[32];
	size_t		 n;
	int		 rc;

	if (store_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_tlsrpt_prune(txn, before, &n)) != KS_OK) {
		warnx("tlsrpt prune: %s", store_strerror(rc));
		return (store_abort(txn));
	}
	io_date(before, when, sizeof(when));
	if (n > 0 && audit_log(txn, "tlsrpt", "tls reports pruned: %zu "
	    "ending before %s", n, when) != KS_OK)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	printf("%zu report%s ending before %s pruned\n", n, n == 1 ? "" :
	    "s", when);
	return (0);
}

int
cmd_tlsrpt(struct ctl *ctl, int argc, char **argv)
{
	const char	*spool = NULL, *sub;
	char		*end;
	int64_t		 since = 0, before = 0;
	long		 days;
	int		 ch, json_out = 0;

	if (argc < 2)
		return (cli_usage(TLSRPT_USAGE));
	sub = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", tlsrpt_opts, NULL)) != -1) {
		switch (ch) {
		case OPT_SPOOL:
			spool = optarg;
			break;
		case OPT_JSON:
			json_out = 1;
			break;
		case OPT_DAYS:
			errno = 0;
			days = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    days < 1 || days > 36500) {
				warnx("--days %s: not a number of days from 1 "
				    "to 36500", optarg);
				return (EXIT_USAGE);
			}
			since = (int64_t)time(NULL) - (int64_t)days * 86400;
			break;
		case OPT_BEFORE:
			if (audit_time(optarg, &before) == -1) {
				warnx("--before %s: not YYYY-MM-DD, "
				    "YYYY-MM-DDTHH:MM[:SS][Z] or @seconds",
				    optarg);
				return (EXIT_USAGE);
			}
			break;
		case OPT_SINCE:
			if (audit_time(optarg, &since) == -1) {
				warnx("--since %s: not YYYY-MM-DD, "
				    "YYYY-MM-DDTHH:MM[:SS][Z] or @seconds",
				    optarg);
				return (EXIT_USAGE);
			}
			break;
		default:
			return (cli_usage(TLSRPT_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (strcmp(sub, "prune") == 0 && argc == 0 && !json_out &&
	    spool == NULL && (before != 0) != (since != 0))
		return (tlsrpt_prune(ctl, before != 0 ? before : since));
	if (before != 0)
		return (cli_usage(TLSRPT_USAGE));
	if (strcmp(sub, "receive") == 0 && argc == 0 && !json_out &&
	    since == 0)
		return (tlsrpt_receive(ctl, spool));
	if (strcmp(sub, "ingest") == 0 && argc == 0 && since == 0)
		return (tlsrpt_ingest(ctl, spool, json_out));
	if (strcmp(sub, "summary") == 0 && argc <= 1 && spool == NULL)
		return (tlsrpt_summary(ctl, argc == 1 ? argv[0] : NULL,
		    since, json_out));
	return (cli_usage(TLSRPT_USAGE));
}
