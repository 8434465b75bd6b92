/*
 * refresh.c: "wkdctl refresh": the current state of stored keys from the
 * validating key server (VKS by-fingerprint), merged into the store by
 * import's rules (import_keys(): only valid self-signatures, revocations,
 * new subkeys, new expiry; UIDs of domains not hosted left out), and what
 * changed reported per key.  Each key is fetched before its write
 * transaction begins: no network wait holds the store's writer lock.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "keystore.h"
#include "wkdctl.h"

#define REFRESH_MAX	100000		/* Fingerprints on stdin. */

struct refresh_res {
	char		 fpr[KS_FPR_MAX];
	const char	*status;	/* "updated", "unchanged", "error" */
	char		 what[2048];	/* What changed, or why not. */
};

/* certs->hosted: is domain hosted in the read transaction arg? */
static int
refresh_hosted(const char *domain, void *arg)
{
	struct ks_domain	 d;

	return (ks_domain_get(arg, domain, &d) == KS_OK);
}

/* The stored certificate's state (st->known 0 if none or unreadable). */
static void
refresh_state(struct ks_txn *txn, const char *fpr, struct ks_keystate *st)
{
	struct ks_blob	 b;

	memset(st, 0, sizeof(*st));
	memset(&b, 0, sizeof(b));
	if (ks_cert_get(txn, fpr, &b) != KS_OK)
		return;
	if (pgp_state(b.data, b.len, st) != 0)
		st->known = 0;
	ks_blob_free(&b);
}

static void
refresh_cat(struct refresh_res *res, const char *s)
{
	size_t	 l = strlen(res->what);

	(void)snprintf(res->what + l, sizeof(res->what) - l, "%s%s",
	    l > 0 ? ", " : "", s);
}

/* What changed from a to b, into res->what. */
static void
refresh_diff(const struct ks_keystate *a, const struct ks_keystate *b,
    struct refresh_res *res)
{
	char	 buf[128], d[32];
	size_t	 i, j, n = 0;

	if (!a->known || !b->known)
		return;
	if (!a->primary.revoked && b->primary.revoked) {
		(void)snprintf(buf, sizeof(buf), "revoked (%s)",
		    pgp_reason_name(b->reason));
		refresh_cat(res, buf);
	}
	if (a->primary.expires != b->primary.expires) {
		if (b->primary.expires == 0)
			(void)snprintf(buf, sizeof(buf), "expires never");
		else {
			io_date(b->primary.expires, d, sizeof(d));
			(void)snprintf(buf, sizeof(buf), "expires %s", d);
		}
		refresh_cat(res, buf);
	}
	for (i = 0; i < b->nsub; i++) {
		for (j = 0; j < a->nsub; j++)
			if (strcmp(a->sub[j].fpr, b->sub[i].fpr) == 0)
				break;
		if (j == a->nsub)
			n++;
		else if (!a->sub[j].revoked && b->sub[i].revoked) {
			(void)snprintf(buf, sizeof(buf), "subkey %s revoked",
			    b->sub[i].fpr);
			refresh_cat(res, buf);
		} else if (a->sub[j].expires != b->sub[i].expires) {
			(void)snprintf(buf, sizeof(buf), "subkey %s expiry "
			    "changed", b->sub[i].fpr);
			refresh_cat(res, buf);
		}
	}
	if (n > 0) {
		(void)snprintf(buf, sizeof(buf), "%zu new subkey%s", n,
		    n > 1 ? "s" : "");
		refresh_cat(res, buf);
	}
}

/* Refresh one stored key fpr from vks. */
static void
refresh_one(struct ctl *ctl, const char *vks, const char *cafile,
    struct refresh_res *res)
{
	struct https_resp	 r;
	struct pgp_certs	 certs;
	struct import_report	 rep;
	struct ks_certinfo	 ci;
	struct ks_keystate	 before, after;
	struct ks_txn		*txn = NULL;
	struct ks_blob		 b;
	char			 url[1024], err[512];
	const char		*acct;
	size_t			 i, keep;
	int			 rc;

	memset(&certs, 0, sizeof(certs));
	memset(&rep, 0, sizeof(rep));
	memset(&r, 0, sizeof(r));
	res->status = "error";
	if (store_begin(ctl, KS_RDONLY, &txn) == -1) {
		(void)snprintf(res->what, sizeof(res->what), "store: cannot "
		    "read");
		return;
	}
	memset(&b, 0, sizeof(b));
	rc = ks_cert_get(txn, res->fpr, &b);
	ks_blob_free(&b);
	ks_txn_abort(txn);
	txn = NULL;
	if (rc != KS_OK) {
		(void)snprintf(res->what, sizeof(res->what), "%s",
		    rc == KS_NOTFOUND ? "not in the store" : ks_strerror(rc));
		return;
	}
	if (locate_vks_url(vks, "by-fingerprint", res->fpr, url,
	    sizeof(url)) == -1) {
		(void)snprintf(res->what, sizeof(res->what), "URL too long");
		return;
	}
	if (https_fetch(url, cafile, KS_BLOB_MAX, &r, err,
	    sizeof(err)) == -1) {
		(void)snprintf(res->what, sizeof(res->what), "%s: %s", url,
		    err);
		return;
	}
	if (r.status != 200) {
		(void)snprintf(res->what, sizeof(res->what), "%s: status %d: "
		    "not on the key server", url, r.status);
		goto out;
	}
	if (store_begin(ctl, 0, &txn) == -1) {
		(void)snprintf(res->what, sizeof(res->what), "store: cannot "
		    "write");
		goto out;
	}
	certs.hosted = refresh_hosted;
	certs.hosted_arg = txn;
	rc = pgp_accept(url, r.body, r.bodylen, &certs, err, sizeof(err));
	certs.hosted = NULL;
	certs.hosted_arg = NULL;
	if (rc == -1) {
		(void)snprintf(res->what, sizeof(res->what), "%s: %s", url,
		    err);
		goto abort;
	}
	/* Only this key: whatever else came along is not asked for. */
	for (i = 0, keep = 0; i < certs.n; i++) {
		if (strcasecmp(certs.v[i].fpr, res->fpr) != 0) {
			pgp_cert_free(&certs.v[i]);
			continue;
		}
		if (keep != i)
			certs.v[keep] = certs.v[i];
		keep++;
	}
	certs.n = keep;
	/*
	 * A key server may send it without UIDs (none verified): the merge
	 * keeps the stored ones, and checks every signature it takes.
	 */
	if (keep == 0) {
		(void)snprintf(res->what, sizeof(res->what), "%s: the answer "
		    "holds no key %s", url, res->fpr);
		goto abort;
	}
	refresh_state(txn, res->fpr, &before);
	acct = NULL;
	if (ks_certinfo_get(txn, res->fpr, &ci) == KS_OK &&
	    ci.account[0] != '\0')
		acct = ci.account;
	if (import_keys(txn, acct, &certs, 0, NULL, &rep) == -1 ||
	    rep.n == 0) {
		(void)snprintf(res->what, sizeof(res->what), "store: the "
		    "merge failed");
		goto abort;
	}
	if (rep.v[0].status == IMPORT_FAILED ||
	    rep.v[0].status == IMPORT_SKIPPED) {
		(void)snprintf(res->what, sizeof(res->what), "refused by "
		    "import's rules: %s", rep.v[0].msgs != NULL ?
		    rep.v[0].msgs : "nothing to publish");
		i = strlen(res->what);
		while (i > 0 && res->what[i - 1] == '\n')
			res->what[--i] = '\0';
		goto abort;
	}
	refresh_state(txn, res->fpr, &after);
	if (!rep.v[0].changed) {
		ks_txn_abort(txn);
		txn = NULL;
		res->status = "unchanged";
		goto out;
	}
	if (store_commit(ctl, txn) == -1) {
		txn = NULL;
		(void)snprintf(res->what, sizeof(res->what), "store: commit "
		    "failed");
		goto out;
	}
	txn = NULL;
	res->status = "updated";
	refresh_diff(&before, &after, res);
	if (res->what[0] == '\0')
		refresh_cat(res, "new signatures");
	goto out;
abort:
	if (txn != NULL)
		ks_txn_abort(txn);
out:
	import_report_free(&rep);
	pgp_certs_free(&certs);
	https_resp_free(&r);
}

/* Fingerprints from stdin, one a line ('#' lines skipped). */
static int
refresh_stdin(char ***listp, size_t *np)
{
	char	*line = NULL, **v = NULL, **nv;
	size_t	 cap = 0, n = 0, sz;
	ssize_t	 len;

	while ((len = getline(&line, &cap, stdin)) != -1) {
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r' || line[len - 1] == ' '))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (n == REFRESH_MAX) {
			warnx("stdin: more than %d fingerprints", REFRESH_MAX);
			goto fail;
		}
		sz = n + 1;
		if ((nv = reallocarray(v, sz, sizeof(*v))) == NULL)
			goto fail;
		v = nv;
		if ((v[n] = strdup(line)) == NULL)
			goto fail;
		n++;
	}
	free(line);
	*listp = v;
	*np = n;
	return (0);
fail:
	free(line);
	while (n > 0)
		free(v[--n]);
	free(v);
	return (-1);
}

int
cmd_refresh(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "vks",	required_argument,	NULL, 'k' },
		{ "ca",		required_argument,	NULL, 'c' },
		{ NULL,		0,			NULL, 0 }
	};
	struct refresh_res	*res = NULL;
	const char		*vks = LOCATE_VKS, *cafile = NULL;
	char			**list = NULL;
	size_t			 n = 0, i, nerr = 0, nupd = 0;
	int			 ch, json = 0, fromstdin = 0, ret = 1;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'k':
			vks = optarg;
			break;
		case 'c':
			cafile = optarg;
			break;
		default:
			return (cli_usage(REFRESH_USAGE));
		}
	}
	if (argc - optind < 1)
		return (cli_usage(REFRESH_USAGE));
	if (strncasecmp(vks, "https://", 8) != 0) {
		warnx("--vks %s: not an https URL", vks);
		return (EXIT_USAGE);
	}
	if (argc - optind == 1 && strcmp(argv[optind], "-") == 0) {
		fromstdin = 1;
		if (refresh_stdin(&list, &n) == -1)
			return (1);
	} else {
		list = argv + optind;
		n = (size_t)(argc - optind);
	}
	if (n > 0 && (res = calloc(n, sizeof(*res))) == NULL) {
		warn("refresh");
		goto out;
	}
	/* Every fingerprint is checked before anything is fetched. */
	for (i = 0; i < n; i++)
		if (cli_fpr(list[i], res[i].fpr) == -1) {
			warnx("%s: not a fingerprint", list[i]);
			ret = EXIT_USAGE;
			goto out;
		}
	for (i = 0; i < n; i++) {
		refresh_one(ctl, vks, cafile, &res[i]);
		if (strcmp(res[i].status, "error") == 0)
			nerr++;
		else if (strcmp(res[i].status, "updated") == 0)
			nupd++;
		if (json)
			continue;
		if (strcmp(res[i].status, "error") == 0)
			warnx("refresh %s: %s", res[i].fpr, res[i].what);
		else
			printf("%s: %s%s%s\n", res[i].fpr, res[i].status,
			    res[i].what[0] != '\0' ? ": " : "",
			    res[i].what);
	}
	if (json) {
		printf("{\"keys\":[");
		for (i = 0; i < n; i++) {
			printf("%s{\"fingerprint\":\"%s\",\"status\":\"%s\","
			    "\"detail\":", i > 0 ? "," : "", res[i].fpr,
			    res[i].status);
			io_json_str(stdout, res[i].what);
			printf("}");
		}
		printf("],\"updated\":%zu,\"unchanged\":%zu,\"errors\":%zu}\n",
		    nupd, n - nupd - nerr, nerr);
	} else
		printf("%zu keys: %zu updated, %zu unchanged, %zu failed\n",
		    n, nupd, n - nupd - nerr, nerr);
	ret = nerr == 0 ? 0 : nerr == n ? 1 : 3;
out:
	if (fromstdin) {
		for (i = 0; i < n; i++)
			free(list[i]);
		free(list);
	}
	free(res);
	return (ret);
}
