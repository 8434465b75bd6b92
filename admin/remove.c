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
cmd_remove(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn;
	struct store_addrs	 l;
	struct ks_blob		 b;
	struct ks_certinfo	 ci;
	char			 fpr[KS_FPR_MAX];
	unsigned char		*gone = NULL;
	size_t			 i;
	int			 rc;

	if (argc != 2 || argv[1][0] == '-')
		return (cli_usage(REMOVE_USAGE));
	if (cli_fpr(argv[1], fpr) == -1) {
		warnx("%s: not a fingerprint", argv[1]);
		return (1);
	}
	memset(&b, 0, sizeof(b));
	memset(&l, 0, sizeof(l));
	if (store_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_cert_get(txn, fpr, &b)) != KS_OK) {
		warnx("key %s: %s", fpr, rc == KS_NOTFOUND ?
		    "not in the store" : ks_strerror(rc));
		goto abort;
	}
	ks_blob_free(&b);
	if (store_addrs(txn, NULL, &l) == -1)
		goto abort;
	if (l.n > 0 && (gone = calloc(l.n, 1)) == NULL) {
		warn(NULL);
		goto abort;
	}
	for (i = 0; i < l.n; i++) {
		if (strcmp(l.v[i].fpr, fpr) != 0)
			continue;
		if ((rc = publish_drop(txn, &l.v[i], "key removed")) !=
		    KS_OK) {
			warnx("key %s: %s: %s", fpr, l.v[i].addr,
			    store_strerror(rc));
			goto abort;
		}
		gone[i] = 1;
	}
	if ((rc = ks_certinfo_get(txn, fpr, &ci)) == KS_NOTFOUND)
		ci.flags = 0;
	else if (rc != KS_OK) {
		warnx("key %s: %s", fpr, store_strerror(rc));
		goto abort;
	}
	if ((rc = ks_cert_del(txn, fpr)) != KS_OK) {
		warnx("key %s: %s", fpr, store_strerror(rc));
		goto abort;
	}
	/* Served after its successor (keep-revoked): not any more. */
	if ((ci.flags & KS_CERT_SUPERSEDED) &&
	    publish_refresh_key(txn, ci.successor, stderr) == -1)
		goto abort;
	if (audit_log(txn, fpr, "key removed") != KS_OK)
		goto abort;
	if (store_commit(ctl, txn) == -1) {
		free(gone);
		store_addrs_free(&l);
		return (1);
	}
	printf("key %s removed\n", fpr);
	for (i = 0; i < l.n; i++)
		if (gone[i])
			printf("  unpublished: %s\n", l.v[i].addr);
	free(gone);
	store_addrs_free(&l);
	return (0);
abort:
	free(gone);
	store_addrs_free(&l);
	ks_txn_abort(txn);
	return (1);
}
