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

static int
mtasts_set(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "mx", required_argument, NULL, 'x' },
		{ "max-age", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	struct ks_txn		*txn;
	struct ks_blob		 old;
	char			 (*mx)[KS_DOMAIN_MAX + 2] = NULL;
	char			 d[KS_DOMAIN_MAX], *text = NULL, *end;
	const char		*mode = NULL, *age = NULL;
	unsigned long		 max_age;
	size_t			 nmx = 0, i, j, len;
	int			 ch, rc, ret = 1;

	if ((mx = calloc(MTASTS_MX_MAX, sizeof(*mx))) == NULL) {
		warn(NULL);
		return (1);
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			mode = optarg;
			break;
		case 'x':
			if (nmx == MTASTS_MX_MAX) {
				warnx("more than %d --mx patterns",
				    MTASTS_MX_MAX);
				goto out;
			}
			if (mtasts_pattern(optarg, mx[nmx],
			    sizeof(mx[0])) == -1)
				goto out;
			nmx++;
			break;
		case 'a':
			age = optarg;
			break;
		default:
			ret = ctl_usage(MTASTS_USAGE);
			goto out;
		}
	}
	/* The domain, then more mx patterns ("--mx PATTERN ..."). */
	if (argc - optind < 1 || mode == NULL || age == NULL) {
		ret = ctl_usage(MTASTS_USAGE);
		goto out;
	}
	for (i = optind + 1; i < (size_t)argc; i++) {
		if (nmx == 0) {
			ret = ctl_usage(MTASTS_USAGE);
			goto out;
		}
		if (nmx == MTASTS_MX_MAX) {
			warnx("more than %d --mx patterns", MTASTS_MX_MAX);
			goto out;
		}
		if (mtasts_pattern(argv[i], mx[nmx], sizeof(mx[0])) == -1)
			goto out;
		nmx++;
	}
	if (ctl_domain(argv[optind], d) == -1)
		goto out;
	if (strcmp(mode, "enforce") != 0 && strcmp(mode, "testing") != 0 &&
	    strcmp(mode, "none") != 0) {
		warnx("--mode %s: want enforce, testing or none", mode);
		goto out;
	}
	if (nmx == 0 && strcmp(mode, "none") != 0) {
		warnx("--mode %s needs at least one --mx pattern", mode);
		goto out;
	}
	for (i = 0; i < nmx; i++)
		for (j = 0; j < i; j++)
			if (strcmp(mx[i], mx[j]) == 0) {
				warnx("--mx %s given twice", mx[i]);
				goto out;
			}
	errno = 0;
	max_age = strtoul(age, &end, 10);
	if (age[0] < '0' || age[0] > '9' || *end != '\0' || errno != 0 ||
	    max_age > MTASTS_MAX_AGE) {
		warnx("--max-age %s: want seconds from 0 to %lu", age,
		    MTASTS_MAX_AGE);
		goto out;
	}
	if (mtasts_build(mode, mx, nmx, max_age, &text, &len) == -1)
		goto out;

	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		goto out;
	if ((rc = ks_mtasts_get(txn, d, &old)) == KS_OK) {
		if (old.len == len && memcmp(old.data, text, len) == 0) {
			ks_blob_free(&old);
			ks_txn_abort(txn);
			printf("mta-sts.%s: policy unchanged\n", d);
			ret = 0;
			goto out;
		}
		ks_blob_free(&old);
	} else if (rc != KS_NOTFOUND) {
		warnx("%s: %s", d, ks_strerror(rc));
		goto abort;
	}
	if ((rc = ks_mtasts_put(txn, d, text, len)) != KS_OK) {
		warnx("%s: %s", d, rc == KS_NOTFOUND ? "domain not hosted" :
		    ks_strerror(rc));
		goto abort;
	}
	if (ctl_log(txn, d, "mta-sts policy set: mode %s, %zu mx, max_age "
	    "%lu", mode, nmx, max_age) != KS_OK)
		goto abort;
	if (ctl_commit(ctl, txn) == -1)
		goto out;
	printf("mta-sts.%s: policy set (mode %s, %zu mx, max_age %lu); "
	    "update the _mta-sts.%s TXT id (wkdctl dns)\n", d, mode, nmx,
	    max_age, d);
	ret = 0;
	goto out;
abort:
	ks_txn_abort(txn);
out:
	free(text);
	free(mx);
	return (ret);
}

/* The policy exactly as served (CRLF lines), on stdout. */
static int
mtasts_show(struct ctl *ctl, const char *name)
{
	struct ks_txn	*txn;
	struct ks_blob	 b;
	char		 d[KS_DOMAIN_MAX];
	int		 rc;

	if (ctl_domain(name, d) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	rc = ks_mtasts_get(txn, d, &b);
	ks_txn_abort(txn);
	if (rc != KS_OK) {
		warnx("%s: %s", d, rc == KS_NOTFOUND ? "no MTA-STS policy" :
		    ks_strerror(rc));
		return (1);
	}
	if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout)) {
		warn("stdout");
		ks_blob_free(&b);
		return (1);
	}
	ks_blob_free(&b);
	return (0);
}

static int
mtasts_remove(struct ctl *ctl, const char *name)
{
	struct ks_txn	*txn;
	struct ks_blob	 b;
	char		 d[KS_DOMAIN_MAX];
	int		 rc;

	if (ctl_domain(name, d) == -1)
		return (1);
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_mtasts_get(txn, d, &b)) != KS_OK) {
		warnx("%s: %s", d, rc == KS_NOTFOUND ? "no MTA-STS policy" :
		    ks_strerror(rc));
		goto abort;
	}
	ks_blob_free(&b);
	if ((rc = ks_mtasts_put(txn, d, NULL, 0)) != KS_OK) {
		warnx("%s: %s", d, ks_strerror(rc));
		goto abort;
	}
	if (ctl_log(txn, d, "mta-sts policy removed") != KS_OK)
		goto abort;
	if (ctl_commit(ctl, txn) == -1)
		return (1);
	printf("mta-sts.%s: policy removed; remove the _mta-sts.%s TXT "
	    "record\n", d, d);
	return (0);
abort:
	ks_txn_abort(txn);
	return (1);
}

int
cmd_mtasts(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2)
		return (ctl_usage(MTASTS_USAGE));
	if (strcmp(argv[1], "set") == 0)
		return (mtasts_set(ctl, argc - 1, argv + 1));
	if (argc != 3 || argv[2][0] == '-')
		return (ctl_usage(MTASTS_USAGE));
	if (strcmp(argv[1], "show") == 0)
		return (mtasts_show(ctl, argv[2]));
	if (strcmp(argv[1], "remove") == 0)
		return (mtasts_remove(ctl, argv[2]));
	return (ctl_usage(MTASTS_USAGE));
}
