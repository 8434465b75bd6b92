/*
 * remove.c: "wkdctl remove FPR": a key and everything published from it
 * leave the store; the addresses it served stay bound to their accounts.
 */

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

int
remove_key(struct ks_txn *txn, const char *fpr, struct store_addrs *gone)
{
	struct store_addrs	 l;
	struct ks_blob		 b;
	struct ks_certinfo	 ci;
	size_t			 i;
	int			 rc, ret = -1;

	memset(gone, 0, sizeof(*gone));
	if ((rc = ks_cert_get(txn, fpr, &b)) != KS_OK) {
		warnx("key %s: %s", fpr, rc == KS_NOTFOUND ?
		    "not in the store" : ks_strerror(rc));
		return (-1);
	}
	ks_blob_free(&b);
	if (store_addrs_key(txn, fpr, &l) == -1)
		return (-1);
	for (i = 0; i < l.n; i++) {
		if (gone->v == NULL &&
		    (gone->v = calloc(l.n, sizeof(*gone->v))) == NULL) {
			warn(NULL);
			goto out;
		}
		gone->v[gone->n++] = l.v[i];
		if ((rc = publish_drop(txn, &l.v[i], "key removed")) !=
		    KS_OK) {
			warnx("key %s: %s: %s", fpr, l.v[i].addr,
			    store_strerror(rc));
			goto out;
		}
	}
	if ((rc = ks_certinfo_get(txn, fpr, &ci)) == KS_NOTFOUND)
		ci.flags = 0;
	else if (rc != KS_OK) {
		warnx("key %s: %s", fpr, store_strerror(rc));
		goto out;
	}
	if ((rc = ks_cert_del(txn, fpr)) != KS_OK ||
	    (rc = publish_orphans(txn, fpr)) != KS_OK) {
		warnx("key %s: %s", fpr, store_strerror(rc));
		goto out;
	}
	/* Served after its successor (keep-revoked): not any more. */
	if ((ci.flags & KS_CERT_SUPERSEDED) &&
	    publish_refresh_key(txn, ci.successor, stderr) == -1)
		goto out;
	if (audit_log(txn, fpr, "key removed") != KS_OK)
		goto out;
	ret = 0;
out:
	store_addrs_free(&l);
	return (ret);
}

int
cmd_remove(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn;
	struct store_addrs	 gone;
	char			 fpr[KS_FPR_MAX];
	size_t			 i;
	int			 ret = 1;

	if (argc != 2 || argv[1][0] == '-')
		return (cli_usage(REMOVE_USAGE));
	if (cli_fpr(argv[1], fpr) == -1) {
		warnx("%s: not a fingerprint", argv[1]);
		return (1);
	}
	if (store_begin(ctl, 0, &txn) == -1)
		return (1);
	if (remove_key(txn, fpr, &gone) == -1)
		(void)store_abort(txn);
	else if (store_commit(ctl, txn) == 0) {
		printf("key %s removed\n", fpr);
		for (i = 0; i < gone.n; i++)
			printf("  unpublished: %s\n", gone.v[i].addr);
		ret = 0;
	}
	store_addrs_free(&gone);
	return (ret);
}
