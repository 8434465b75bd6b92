/*
 * mtasts.c: wkdctl mta-sts, the MTA-STS policy (RFC 8461) that wkdd serves
 * at https://mta-sts.DOMAIN/.well-known/mta-sts.txt for a hosted domain.
 *
 * The policy is built here, never taken from a file, so that what is
 * served is always exactly RFC 8461's syntax: "key: value" lines ending
 * in CRLF, version first.  The store gives it an ETag computed from the
 * bytes; `wkdctl dns` derives the _mta-sts TXT record's id from it, so the
 * id changes whenever the policy does.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "wkdctl.h"

#define MTASTS_MX_MAX		32
#define MTASTS_MAX_AGE		31557600UL	/* RFC 8461 3.2: a year. */

static int	mtasts_pattern(const char *, char *, size_t);
static int	mtasts_build(const char *, char mx[][KS_DOMAIN_MAX + 2],
		    size_t, unsigned long, char **, size_t *);
static int	mtasts_set(struct ctl *, int, char **);
static int	mtasts_show(struct ctl *, const char *);
static int	mtasts_remove(struct ctl *, const char *);

/*
 * An mx pattern: a host name, or "*." and a host name (a wildcard for one
 * label), with at least two labels; written normalised (lowercase A-label,
 * no trailing dot) into out.  -1 after warning if it isn't one.
 */
static int
mtasts_pattern(const char *in, char *out, size_t outsz)
{
	char		 host[KS_DOMAIN_MAX];
	const char	*h = in;
	int		 wild = 0;

	if (strncmp(in, "*.", 2) == 0) {
		wild = 1;
		h = in + 2;
	}
	if (strchr(h, '*') != NULL || ks_domain_norm(h, host,
	    sizeof(host)) != KS_OK || strchr(host, '.') == NULL ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789-.") !=
	    strlen(host)) {
		warnx("--mx %s: not a host name or *.host name", in);
		return (-1);
	}
	if ((size_t)snprintf(out, outsz, "%s%s", wild ? "*." : "", host) >=
	    outsz) {
		warnx("--mx %s: too long", in);
		return (-1);
	}
	return (0);
}

/* The policy text (malloc(3)ed, *textp, *lenp); -1 after warning. */
static int
mtasts_build(const char *mode, char mx[][KS_DOMAIN_MAX + 2], size_t nmx,
    unsigned long max_age, char **textp, size_t *lenp)
{
	FILE	*fp;
	size_t	 i;

	*textp = NULL;
	*lenp = 0;
	if ((fp = open_memstream(textp, lenp)) == NULL) {
		warn(NULL);
		return (-1);
	}
	fprintf(fp, "version: STSv1\r\nmode: %s\r\n", mode);
	for (i = 0; i < nmx; i++)
		fprintf(fp, "mx: %s\r\n", mx[i]);
	fprintf(fp, "max_age: %lu\r\n", max_age);
	if (ferror(fp) || fclose(fp) != 0) {
		warn(NULL);
		free(*textp);
		*textp = NULL;
		return (-1);
	}
	return (0);
}

/* A policy as "mta-sts set" gives it. */
struct mtasts_req {
	char		 domain[KS_DOMAIN_MAX];
	const char	*mode;
	char		 (*mx)[KS_DOMAIN_MAX + 2];	/* MTASTS_MX_MAX */
	size_t		 nmx;
	unsigned long	 max_age;
};

/* Add mx pattern p to r; warns and returns -1 if bad or one too many. */
static int
mtasts_add_mx(struct mtasts_req *r, const char *p)
{
	size_t	 j;

	if (r->nmx == MTASTS_MX_MAX) {
		warnx("more than %d --mx patterns", MTASTS_MX_MAX);
		return (-1);
	}
	if (mtasts_pattern(p, r->mx[r->nmx], sizeof(r->mx[0])) == -1)
		return (-1);
	for (j = 0; j < r->nmx; j++)
		if (strcmp(r->mx[r->nmx], r->mx[j]) == 0) {
			warnx("--mx %s given twice", r->mx[j]);
			return (-1);
		}
	r->nmx++;
	return (0);
}

/* Check r's mode and max-age (age); warns and returns -1 if bad. */
static int
mtasts_check(struct mtasts_req *r, const char *age)
{
	char	*end;

	if (strcmp(r->mode, "enforce") != 0 &&
	    strcmp(r->mode, "testing") != 0 && strcmp(r->mode, "none") != 0) {
		warnx("--mode %s: want enforce, testing or none", r->mode);
		return (-1);
	}
	if (r->nmx == 0 && strcmp(r->mode, "none") != 0) {
		warnx("--mode %s needs at least one --mx pattern", r->mode);
		return (-1);
	}
	errno = 0;
	r->max_age = strtoul(age, &end, 10);
	if (age[0] < '0' || age[0] > '9' || *end != '\0' || errno != 0 ||
	    r->max_age > MTASTS_MAX_AGE) {
		warnx("--max-age %s: want seconds from 0 to %lu", age,
		    MTASTS_MAX_AGE);
		return (-1);
	}
	return (0);
}

/*
 * "mta-sts set"'s arguments into r: 0, or the exit status (usage printed,
 * or warned).
 */
static int
mtasts_getopt(int argc, char **argv, struct mtasts_req *r)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "mx", required_argument, NULL, 'x' },
		{ "max-age", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*age = NULL;
	int		 ch, i;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			r->mode = optarg;
			break;
		case 'x':
			if (mtasts_add_mx(r, optarg) == -1)
				return (1);
			break;
		case 'a':
			age = optarg;
			break;
		default:
			return (cli_usage(MTASTS_USAGE));
		}
	}
	/* The domain, then more mx patterns ("--mx PATTERN ..."). */
	if (argc - optind < 1 || r->mode == NULL || age == NULL)
		return (cli_usage(MTASTS_USAGE));
	for (i = optind + 1; i < argc; i++) {
		if (r->nmx == 0)
			return (cli_usage(MTASTS_USAGE));
		if (mtasts_add_mx(r, argv[i]) == -1)
			return (1);
	}
	if (cli_domain(argv[optind], r->domain) == -1 ||
	    mtasts_check(r, age) == -1)
		return (1);
	return (0);
}

/*
 * Serve text (len bytes) as domain's policy, logged; *same if it is the
 * policy already served (then nothing changes).  0, or -1 after warning.
 */
static int
mtasts_store(struct ks_txn *txn, const struct mtasts_req *r,
    const char *text, size_t len, int *same)
{
	struct ks_blob	 old;
	int		 rc;

	*same = 0;
	if ((rc = ks_mtasts_get(txn, r->domain, &old)) == KS_OK) {
		*same = old.len == len && memcmp(old.data, text, len) == 0;
		ks_blob_free(&old);
		if (*same)
			return (0);
	} else if (rc != KS_NOTFOUND) {
		warnx("%s: %s", r->domain, ks_strerror(rc));
		return (-1);
	}
	if ((rc = ks_mtasts_put(txn, r->domain, text, len)) != KS_OK) {
		warnx("%s: %s", r->domain, rc == KS_NOTFOUND ?
		    "domain not hosted" : ks_strerror(rc));
		return (-1);
	}
	if (audit_log(txn, r->domain, "mta-sts policy set: mode %s, %zu mx, "
	    "max_age %lu", r->mode, r->nmx, r->max_age) != KS_OK)
		return (-1);
	return (0);
}

static int
mtasts_set(struct ctl *ctl, int argc, char **argv)
{
	struct mtasts_req	 r;
	struct ks_txn		*txn;
	char			*text = NULL;
	size_t			 len;
	int			 same, ret = 1;

	memset(&r, 0, sizeof(r));
	if ((r.mx = calloc(MTASTS_MX_MAX, sizeof(*r.mx))) == NULL) {
		warn(NULL);
		return (1);
	}
	if ((ret = mtasts_getopt(argc, argv, &r)) != 0)
		goto out;
	ret = 1;
	if (mtasts_build(r.mode, r.mx, r.nmx, r.max_age, &text, &len) == -1 ||
	    store_begin(ctl, 0, &txn) == -1)
		goto out;
	if (mtasts_store(txn, &r, text, len, &same) == -1) {
		ks_txn_abort(txn);
		goto out;
	}
	if (same) {
		ks_txn_abort(txn);
		printf("mta-sts.%s: policy unchanged\n", r.domain);
	} else if (store_commit(ctl, txn) == -1)
		goto out;
	else
		printf("mta-sts.%s: policy set (mode %s, %zu mx, max_age %lu); "
		    "update the _mta-sts.%s TXT id (wkdctl dns)\n", r.domain,
		    r.mode, r.nmx, r.max_age, r.domain);
	ret = 0;
out:
	free(text);
	free(r.mx);
	return (ret);
}

/* Domain d's policy into *b: 0, or -1 after warning. */
static int
mtasts_get(struct ks_txn *txn, const char *d, struct ks_blob *b)
{
	int	 rc;

	if ((rc = ks_mtasts_get(txn, d, b)) == KS_OK)
		return (0);
	warnx("%s: %s", d, rc == KS_NOTFOUND ? "no MTA-STS policy" :
	    ks_strerror(rc));
	return (-1);
}

/* The policy exactly as served (CRLF lines), on stdout. */
static int
mtasts_show(struct ctl *ctl, const char *name)
{
	struct ks_txn	*txn;
	struct ks_blob	 b;
	char		 d[KS_DOMAIN_MAX];
	int		 rc;

	if (cli_domain(name, d) == -1 ||
	    store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	rc = mtasts_get(txn, d, &b);
	ks_txn_abort(txn);
	if (rc == -1)
		return (1);
	if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout)) {
		warn("stdout");
		ks_blob_free(&b);
		return (1);
	}
	ks_blob_free(&b);
	return (0);
}

int
mtasts_drop(struct ks_txn *txn, const char *d)
{
	struct ks_blob	 b;
	int		 rc;

	if (mtasts_get(txn, d, &b) == -1)
		return (-1);
	ks_blob_free(&b);
	if ((rc = ks_mtasts_put(txn, d, NULL, 0)) != KS_OK) {
		warnx("%s: %s", d, ks_strerror(rc));
		return (-1);
	}
	return (audit_log(txn, d, "mta-sts policy removed") == KS_OK ? 0 : -1);
}

static int
mtasts_remove(struct ctl *ctl, const char *name)
{
	struct ks_txn	*txn;
	char		 d[KS_DOMAIN_MAX];

	if (cli_domain(name, d) == -1 || store_begin(ctl, 0, &txn) == -1)
		return (1);
	if (mtasts_drop(txn, d) == -1)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	printf("mta-sts.%s: policy removed; remove the _mta-sts.%s TXT "
	    "record\n", d, d);
	return (0);
}

int
cmd_mtasts(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2)
		return (cli_usage(MTASTS_USAGE));
	if (strcmp(argv[1], "set") == 0)
		return (mtasts_set(ctl, argc - 1, argv + 1));
	if (argc != 3 || argv[2][0] == '-')
		return (cli_usage(MTASTS_USAGE));
	if (strcmp(argv[1], "show") == 0)
		return (mtasts_show(ctl, argv[2]));
	if (strcmp(argv[1], "remove") == 0)
		return (mtasts_remove(ctl, argv[2]));
	return (cli_usage(MTASTS_USAGE));
}
