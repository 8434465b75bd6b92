/*
 * report.h: SMTP TLS reports (TLSRPT, RFC 8460): the one parser and
 * validator of a report, its gzip decoding with a cap, and the spool
 * directory they wait in.  Shared by wkdd (POST /tlsrpt) and wkdctl
 * (tlsrpt receive, ingest, summary), as conf.c is: report.c uses
 * nothing else of wkdd/ (it never logs; errors go into the caller's err
 * buffer) and needs jansson, zlib and libkeystore (ks_domain_norm()).
 *
 * A report is valid when it is one JSON object (jansson, no duplicate
 * keys) with RFC 8460 section 4's required members and types:
 * organization-name, date-range (start-datetime, end-datetime as RFC 3339
 * date-times, start not after end), report-id, policies (1 to
 * REPORT_POLICIES_MAX), each with policy (policy-type one of sts, tlsa,
 * no-policy-found; policy-domain a host name; policy-string and mx-host
 * strings or arrays of strings if present) and summary
 * (total-successful-session-count, total-failure-session-count:
 * integers >= 0), and failure-details (if present: up to
 * REPORT_DETAILS_MAX objects with a result-type string and a
 * failed-session-count integer >= 0).  Members it doesn't know are kept.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "keystore.h"

#define REPORT_MAX_DEFAULT	(1024 * 1024)	/* tlsrpt-max-size. */
#define REPORT_ID_MAX		256	/* Incl. NUL. */
#define REPORT_ORG_MAX		256	/* Incl. NUL. */
#define REPORT_TYPE_MAX		64	/* A result-type, incl. NUL. */
#define REPORT_POLICIES_MAX	256
#define REPORT_DETAILS_MAX	4096	/* failure-details of one policy. */
#define REPORT_SUFFIX		".json"	/* A spooled report's name ends so. */

/* A parsed, valid report: root is the caller's, freed by report_free(). */
struct report {
	json_t		*root;
	char		 id[REPORT_ID_MAX];
	char		 org[REPORT_ORG_MAX];
	int64_t		 start, end;	/* date-range, Unix time. */
	size_t		 npolicies;
};

/*
 * One policy of a report (report_policy()): strings point into the
 * report's root and live as long as it does; domain is the A-label.
 * mx: the policy's mx-host (an array of strings, a string, or NULL);
 * details: failure-details (an array, or NULL).
 */
struct report_policy {
	const char	*type;
	char		 domain[KS_DOMAIN_MAX];
	uint64_t	 success, failure;
	json_t		*mx;
	json_t		*details;
};

/* One failure-detail (report_detail()): strings into the root, or NULL. */
struct report_detail {
	const char	*result;
	const char	*mx;		/* receiving-mx-hostname. */
	const char	*sending_ip;
	const char	*receiving_ip;
	uint64_t	 count;
};

/* Errors: report_parse(), report_gunzip(). */
#define REPORT_BAD	(-1)	/* Not a report: err says why. */
#define REPORT_TOOBIG	(-2)	/* Over the size given. */
#define REPORT_NOMEM	(-3)

/*
 * Parse and validate json (len bytes, at most max) into *r.  Returns 0,
 * REPORT_BAD (err says why, naming the member), REPORT_TOOBIG or
 * REPORT_NOMEM; *r is zeroed then.
 */
int		 report_parse(const void *json, size_t len, size_t max,
		    struct report *r, char *err, size_t errsz);
void		 report_free(struct report *);
/* Policy i (< r->npolicies) of a valid report, and its detail j. */
void		 report_policy(const struct report *, size_t i,
		    struct report_policy *);
void		 report_detail(const struct report_policy *, size_t j,
		    struct report_detail *);
size_t		 report_ndetails(const struct report_policy *);

/*
 * Decompress the gzip data in (one member, inlen bytes) by a streaming
 * inflate that stops at max bytes out: a gzip bomb costs max bytes of
 * memory and no more.  *out (malloc(3)ed, the caller's) and *outlen on
 * success (0); REPORT_TOOBIG if it would inflate past max, REPORT_BAD if
 * it isn't gzip (or has bytes after its end), REPORT_NOMEM.
 */
int		 report_gunzip(const void *in, size_t inlen, size_t max,
		    unsigned char **out, size_t *outlen, char *err,
		    size_t errsz);

/*
 * RFC 3339 date-time (2016-04-01T00:00:00Z, fractions and offsets too)
 * to Unix time in *t; -1 if it isn't one.
 */
int		 report_time(const char *s, int64_t *t);

/*
 * The spool (tlsrpt-spool): a directory of reports waiting for wkdctl
 * tlsrpt ingest, one file each, the validated JSON.  report_spool_put()
 * writes data into the directory open at dirfd as a new file: a
 * temporary ".tmp-NAME" (openat O_CREAT|O_EXCL, mode 0640), written,
 * fsync(2)ed and renamed (renameat) to NAME, which ends in REPORT_SUFFIX
 * and sorts by time of arrival; a failure unlinks it (unlinkat).  It
 * refuses with ENOSPC when the directory already holds max files
 * (regular files, temporaries included; 0: no bound).  name (may be
 * NULL) gets the file's name.  Returns 0 or an errno value.  Not
 * thread-safe as to the bound: callers with threads hold a lock.
 */
int		 report_spool_put(int dirfd, const void *data, size_t len,
		    unsigned max, char *name, size_t namesz);
/* Regular files in the directory at dirfd (-1 with errno on error). */
long		 report_spool_count(int dirfd);

#endif /* REPORT_H */
