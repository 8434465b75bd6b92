/*
 * t_faults: fault injection (SQLite's approach).  This program links the
 * keystore built with KSFLAGS=-DKS_FAULTS (libkeystore-faults.a), so that
 * the Nth allocation or LMDB write fails.  A multi-step change is run
 * with N = 1, 2, ... until it succeeds: every failing run must return an
 * error and leave the store exactly as it was; under ASan, nothing may
 * leak.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore.h"
#include "extern.h"

#include "tap.h"

#define HASH_A	"kei1q4tipxxu1yj79k9kfukdhfy631xe"
#define FPR_A	"0123456789ABCDEF0123456789ABCDEF01234567"

static const unsigned char pubkey[] = { 0x98, 3, 4, 0, 0, 0xb4, 2, 'a', 'b' };

/* What wkdctl's import does: one transaction, several tables. */
static int
change(struct ks *ks)
{
	struct ks_txn	*t;
	struct ks_addr	 a;
	int		 rc;

	memset(&a, 0, sizeof(a));
	(void)snprintf(a.addr, sizeof(a.addr), "alice@example.org");
	(void)snprintf(a.account, sizeof(a.account), "alice@example.org");
	(void)snprintf(a.fpr, sizeof(a.fpr), FPR_A);
	a.state = KS_ADDR_PRIMARY;
	if ((rc = ks_txn_begin(ks, 0, &t)) != KS_OK)
		return (rc);
	if ((rc = ks_domain_add(t, "example.org")) != KS_OK ||
	    (rc = ks_addr_put(t, &a)) != KS_OK ||
	    (rc = ks_cert_put(t, FPR_A, pubkey, sizeof(pubkey))) != KS_OK ||
	    (rc = ks_wkd_put(t, "example.org", HASH_A, pubkey,
	    sizeof(pubkey))) != KS_OK) {
		ks_txn_abort(t);
		return (rc);
	}
	return (ks_txn_commit(t));
}

/* Removing the domain: a walk, deletes and rewrites. */
static int
unchange(struct ks *ks)
{
	struct ks_txn	*t;
	int		 rc;

	if ((rc = ks_txn_begin(ks, 0, &t)) != KS_OK)
		return (rc);
	if ((rc = ks_domain_del(t, "example.org")) != KS_OK) {
		ks_txn_abort(t);
		return (rc);
	}
	return (ks_txn_commit(t));
}

/*
 * Which parts of change() are in the store, one bit each: domain (1),
 * address's key (2), certificate (4), published key (8).
 */
#define ALL	15
#define CERT	4
static int
state(struct ks *ks)
{
	struct ks_txn	*t;
	struct ks_addr	 a;
	struct ks_blob	 b;
	int		 n = 0;

	if (ks_txn_begin(ks, KS_RDONLY, &t) != KS_OK)
		return (-1);
	if (ks_has_domain(ks, "example.org") == KS_OK)
		n |= 1;
	if (ks_addr_get(t, "alice@example.org", &a) == KS_OK &&
	    a.fpr[0] != '\0')
		n |= 2;
	if (ks_cert_get(t, FPR_A, &b) == KS_OK)
		n |= CERT;
	ks_blob_free(&b);
	if (ks_wkd_get(t, "example.org", HASH_A, &b) == KS_OK)
		n |= 8;
	ks_blob_free(&b);
	ks_txn_abort(t);
	return (n);
}

int
main(void)
{
	char		 dir[] = "/tmp/t_faults.XXXXXX", cmd[64];
	struct ks	*ks;
	struct ks_blob	 b;
	unsigned long	 n;
	int		 rc, bad;

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	E(ks_open(&ks, dir, KS_CREATE, 0));

	for (bad = 0, n = 1; n < 1000; n++) {
		ks_fault_at = n;
		ks_fault_calls = 0;
		rc = change(ks);
		ks_fault_at = 0;
		if (rc == KS_OK)
			break;
		if (state(ks) != 0) {
			bad++;
			printf("# fault %lu: partial state (rc %s)\n", n,
			    ks_strerror(rc));
		}
	}
	ok(n > 4 && n < 1000, "change succeeded after %lu injected faults",
	    n - 1);
	is_int(bad, 0, "no failing change left partial state");
	is_int(state(ks), ALL, "the change is there in full");

	for (bad = 0, n = 1; n < 1000; n++) {
		ks_fault_at = n;
		ks_fault_calls = 0;
		rc = unchange(ks);
		ks_fault_at = 0;
		if (rc == KS_OK)
			break;
		if (state(ks) != ALL) {
			bad++;
			printf("# fault %lu: partial removal (rc %s)\n", n,
			    ks_strerror(rc));
		}
	}
	ok(n > 2 && n < 1000, "removal succeeded after %lu injected faults",
	    n - 1);
	is_int(bad, 0, "no failing removal left partial state");
	/* The certificate stays: keys outlive the domain they served. */
	is_int(state(ks), CERT, "the removal is complete");

	/* A failed allocation on the read path is an error, not a crash. */
	E(change(ks));
	ks_fault_at = 1;
	ks_fault_calls = 0;
	is_int(ks_serve_key(ks, "example.org", HASH_A, &b), ENOMEM,
	    "read with failing allocation: ENOMEM");
	ks_fault_at = 0;
	E(ks_serve_key(ks, "example.org", HASH_A, &b));
	ks_blob_free(&b);

	ks_close(ks);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)system(cmd);
	return (done());
}
