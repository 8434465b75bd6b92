/*
 * t_index: the store's indexes (format >= 2) against brute force.  Random
 * puts and deletes of addresses, certificates and certinfo, in nested
 * transactions some of which abort; after each batch, every indexed walk
 * must give what a walk of the whole table, filtered, gives, in the same
 * order.  Then the store is turned into a format 1 store by hand (raw
 * LMDB: the index tables dropped, the format set to "1"): read KS_RDONLY
 * it must give the same answers without being changed, and opened for
 * writing it must be upgraded to format 3 with the same answers again.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "keystore.h"
#include "oldfmt.h"
#include "tap.h"
#include "wkdctl.h"

#define NDOM	3
#define NLOCAL	12
#define NADDR	(NDOM * NLOCAL + 1)	/* And one without a domain. */
#define NACCT	8
#define NFPR	10
#define NBATCH	40

static char	 dir[] = "/tmp/t_index.XXXXXX";
static char	 addrs[NADDR][64];
static char	 fprs[NFPR][KS_FPR_MAX];
static const char *const domains[NDOM] = {
	"a.example", "b.example", "xn--bcher-kva.example"
};
#define index_tables	oldfmt_index_tables
static unsigned long	 seed = 20261103;

static unsigned
rnd(unsigned n)
{
	seed = seed * 6364136223846793005UL + 1442695040888963407UL;
	return ((unsigned)(seed >> 33) % n);
}

static void
cleanup(void)
{
	char	 cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (getenv("KEEP") == NULL)
		(void)system(cmd);
}

/* What a walk gives, as text: open_memstream(3) output. */
struct out {
	FILE	*fp;
	char	*buf;
	size_t	 len;
};

static void
out_open(struct out *o)
{
	if ((o->fp = open_memstream(&o->buf, &o->len)) == NULL)
		err(1, "open_memstream");
}

static char *
out_close(struct out *o)
{
	fclose(o->fp);
	return (o->buf);
}

static int
addr_cb(const struct ks_addr *a, void *arg)
{
	fprintf(arg, "  %s %s %d %u %s %lld %lld\n", a->addr, a->account,
	    a->state, a->flags, a->fpr, (long long)a->ctime,
	    (long long)a->mtime);
	return (0);
}

static int
ci_cb(const struct ks_certinfo *ci, void *arg)
{
	fprintf(arg, "  %s %u %s %s %lld %lld\n", ci->fpr, ci->flags,
	    ci->successor, ci->account, (long long)ci->ctime,
	    (long long)ci->mtime);
	return (0);
}

static int
cert_cb(const char *fpr, const unsigned char *data, size_t len, void *arg)
{
	(void)data;
	fprintf(arg, "  %s %zu\n", fpr, len);
	return (0);
}

/* Every indexed walk, through keystore.h's walks. */
static char *
indexed(struct ks_txn *t)
{
	struct out	 o;
	int		 i;

	out_open(&o);
	for (i = 0; i < NACCT; i++) {
		fprintf(o.fp, "account %s\n", addrs[i]);
		fprintf(o.fp, " rc %d\n", ks_addr_foreach(t, addrs[i], addr_cb,
		    o.fp));
	}
	for (i = 0; i < NDOM; i++) {
		fprintf(o.fp, "domain %s\n", domains[i]);
		fprintf(o.fp, " rc %d\n", ks_addr_foreach_domain(t,
		    domains[i], addr_cb, o.fp));
	}
	for (i = 0; i < NFPR; i++) {
		fprintf(o.fp, "key %s\n", fprs[i]);
		fprintf(o.fp, " rc %d\n", ks_addr_foreach_key(t, fprs[i],
		    addr_cb, o.fp));
		fprintf(o.fp, "successor %s\n", fprs[i]);
		fprintf(o.fp, " rc %d\n", ks_certinfo_foreach_successor(t,
		    fprs[i], ci_cb, o.fp));
	}
	for (i = 0; i < NADDR; i++) {
		fprintf(o.fp, "uid %s\n", addrs[i]);
		fprintf(o.fp, " rc %d\n", ks_cert_foreach_addr(t, addrs[i],
		    cert_cb, o.fp));
	}
	return (out_close(&o));
}

/* The same by brute force: whole tables, filtered. */
struct filter {
	FILE		*fp;
	const char	*account, *domain, *fpr, *addr;
};

static int
addr_filter_cb(const struct ks_addr *a, void *arg)
{
	struct filter	*f = arg;
	const char	*at = strrchr(a->addr, '@');

	if ((f->account != NULL && strcmp(a->account, f->account) != 0) ||
	    (f->domain != NULL && (at == NULL ||
	    strcmp(at + 1, f->domain) != 0)) ||
	    (f->fpr != NULL && strcmp(a->fpr, f->fpr) != 0))
		return (0);
	return (addr_cb(a, f->fp));
}

static int
cert_filter_cb(const char *fpr, const unsigned char *data, size_t len,
    void *arg)
{
	struct filter	*f = arg;
	struct ks_pkt	 pkt;
	char		 a[KS_ADDR_MAX];
	size_t		 off = 0;

	while (ks_pgp_next(data, len, &off, &pkt) == 1)
		if (pkt.tag == KS_PKT_UID && ks_uid_addr((const char *)
		    pkt.body, pkt.bodylen, a, sizeof(a)) == KS_OK &&
		    strcmp(a, f->addr) == 0)
			return (cert_cb(fpr, data, len, f->fp));
	return (0);
}

static char *
brute(struct ks_txn *t)
{
	struct ks_certinfo	 ci;
	struct filter		 f;
	struct out		 o;
	int			 i, j;

	out_open(&o);
	for (i = 0; i < NACCT; i++) {
		memset(&f, 0, sizeof(f));
		f.fp = o.fp;
		f.account = addrs[i];
		fprintf(o.fp, "account %s\n", addrs[i]);
		fprintf(o.fp, " rc %d\n", ks_addr_foreach(t, NULL,
		    addr_filter_cb, &f));
	}
	for (i = 0; i < NDOM; i++) {
		memset(&f, 0, sizeof(f));
		f.fp = o.fp;
		f.domain = domains[i];
		fprintf(o.fp, "domain %s\n", domains[i]);
		fprintf(o.fp, " rc %d\n", ks_addr_foreach(t, NULL,
		    addr_filter_cb, &f));
	}
	for (i = 0; i < NFPR; i++) {
		memset(&f, 0, sizeof(f));
		f.fp = o.fp;
		f.fpr = fprs[i];
		fprintf(o.fp, "key %s\n", fprs[i]);
		fprintf(o.fp, " rc %d\n", ks_addr_foreach(t, NULL,
		    addr_filter_cb, &f));
		/* fprs[] is in fingerprint order. */
		fprintf(o.fp, "successor %s\n", fprs[i]);
		for (j = 0; j < NFPR; j++)
			if (ks_certinfo_get(t, fprs[j], &ci) == KS_OK &&
			    (ci.flags & KS_CERT_SUPERSEDED) &&
			    strcmp(ci.successor, fprs[i]) == 0)
				(void)ci_cb(&ci, o.fp);
		fprintf(o.fp, " rc 0\n");
	}
	for (i = 0; i < NADDR; i++) {
		memset(&f, 0, sizeof(f));
		f.fp = o.fp;
		f.addr = addrs[i];
		fprintf(o.fp, "uid %s\n", addrs[i]);
		fprintf(o.fp, " rc %d\n", ks_cert_foreach(t, cert_filter_cb,
		    &f));
	}
	return (out_close(&o));
}

/* Append an old-format packet of tag, body len bytes. */
static size_t
pkt(unsigned char *p, unsigned tag, const void *body, size_t len)
{
	p[0] = 0x80 | tag << 2;
	p[1] = len;
	memcpy(p + 2, body, len);
	return (2 + len);
}

/* A UID for the certificate: mostly one naming a pool address. */
static void
uid_text(char *buf, size_t sz)
{
	const char	*a = addrs[rnd(NADDR)];

	switch (rnd(7)) {
	case 0:
		(void)snprintf(buf, sz, "%s", a);
		break;
	case 1:
		(void)snprintf(buf, sz, "U %c%s>", 'A' + rnd(3), a);
		break;
	case 2:
		(void)snprintf(buf, sz, "no address at all");
		break;
	case 3:
		/* The local part's case doesn't matter: "U0@..." too. */
		(void)snprintf(buf, sz, "Name <%c%s>", a[0] - 32, a + 1);
		break;
	default:
		(void)snprintf(buf, sz, "Name %u <%s>", rnd(100), a);
		break;
	}
}

static int
cert_put(struct ks_txn *t)
{
	static const unsigned char key[] = { 4, 0, 0 };
	unsigned char	 data[2048];
	char		 uid[200];
	size_t		 len, n, i;

	len = pkt(data, KS_PKT_PUBKEY, key, sizeof(key));
	for (i = 0, n = rnd(4); i < n; i++) {
		uid_text(uid, sizeof(uid));
		len += pkt(data + len, KS_PKT_UID, uid, strlen(uid));
		if (rnd(3) == 0)
			len += pkt(data + len, KS_PKT_SIG, "\4\0", 2);
	}
	return (ks_cert_put(t, fprs[rnd(NFPR)], data, len));
}

/* One random change; KS_NOTFOUND (nothing to delete) counts as done. */
static int
change(struct ks_txn *t)
{
	struct ks_addr		 a;
	struct ks_certinfo	 ci;
	const char		*d;
	unsigned		 op = rnd(100);
	int			 rc;

	if (op < 45) {
		memset(&a, 0, sizeof(a));
		(void)snprintf(a.addr, sizeof(a.addr), "%s",
		    addrs[rnd(NADDR)]);
		(void)snprintf(a.account, sizeof(a.account), "%s",
		    addrs[rnd(NACCT)]);
		a.state = 1 + rnd(3);
		a.flags = rnd(4);
		if (rnd(3) != 0)
			(void)snprintf(a.fpr, sizeof(a.fpr), "%s",
			    fprs[rnd(NFPR)]);
		rc = ks_addr_put(t, &a);
	} else if (op < 55)
		rc = ks_addr_del(t, addrs[rnd(NADDR)]);
	else if (op < 75)
		rc = cert_put(t);
	else if (op < 83)
		rc = ks_cert_del(t, fprs[rnd(NFPR)]);
	else if (op < 98) {
		memset(&ci, 0, sizeof(ci));
		(void)snprintf(ci.fpr, sizeof(ci.fpr), "%s", fprs[rnd(NFPR)]);
		ci.flags = rnd(2) ? KS_CERT_SUPERSEDED : 0;
		if (rnd(5) != 0)
			(void)snprintf(ci.successor, sizeof(ci.successor),
			    "%s", fprs[rnd(NFPR)]);
		if (rnd(4) == 0)
			(void)snprintf(ci.account, sizeof(ci.account), "%s",
			    addrs[rnd(NACCT)]);
		rc = ks_certinfo_put(t, &ci);
	} else {
		d = domains[rnd(NDOM)];
		if ((rc = ks_domain_del(t, d)) == KS_OK)
			rc = ks_domain_add(t, d);
	}
	return (rc == KS_NOTFOUND ? KS_OK : rc);
}

/* Indexed walks equal brute force in t: 1 if so (else both printed). */
static int
agree(struct ks_txn *t)
{
	char	*a = indexed(t), *b = brute(t);
	int	 same = strcmp(a, b) == 0;

	if (!same)
		printf("# indexed:\n%s# brute force:\n%s", a, b);
	free(a);
	free(b);
	return (same);
}

static void
t_random(struct ks *ks)
{
	struct ks_txn	*t, *c;
	int		 batch, i, rc, bad = 0, n = 0;

	E(ks_txn_begin(ks, 0, &t));
	for (i = 0; i < NDOM; i++)
		E(ks_domain_add(t, domains[i]));
	E(ks_txn_commit(t));
	for (batch = 0; batch < NBATCH; batch++) {
		if (ks_txn_begin(ks, 0, &t) != KS_OK)
			break;
		/* A nested transaction that aborts changes no index. */
		if (ks_txn_nest(t, &c) == KS_OK) {
			for (i = 0, rc = KS_OK; i < 20 && rc == KS_OK; i++)
				rc = change(c);
			if (rc != KS_OK)
				printf("# change: %s\n", ks_strerror(rc));
			bad += rc != KS_OK;
			if (batch % 3 == 0)
				ks_txn_abort(c);
			else
				bad += ks_txn_commit(c) != KS_OK;
		}
		for (i = 0, rc = KS_OK; i < 30 && rc == KS_OK; i++)
			rc = change(t);
		bad += rc != KS_OK;
		/* Inside the writer's transaction, then after commit. */
		if (!agree(t))
			bad++;
		bad += ks_txn_commit(t) != KS_OK;
		E(ks_txn_begin(ks, KS_RDONLY, &t));
		if (!agree(t))
			bad++;
		ks_txn_abort(t);
		n++;
	}
	is_int(n, NBATCH, "%d random batches run", NBATCH);
	is_int(bad, 0, "indexes agree with brute force after each batch");
}

/* The store's format and how many index tables it has, by raw LMDB. */
static int
raw_format(char *fmt, size_t sz, int *nindex)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	size_t		 i;
	int		 rc;

	*nindex = 0;
	fmt[0] = '\0';
	if ((rc = raw_open(dir, 1, &env, &txn)) != 0)
		return (rc);
	for (i = 0; i < sizeof(index_tables) / sizeof(index_tables[0]); i++)
		if (mdb_dbi_open(txn, index_tables[i], 0, &dbi) == 0)
			(*nindex)++;
	k.mv_data = (void *)(uintptr_t)"format";
	k.mv_size = 6;
	if ((rc = mdb_dbi_open(txn, "meta", 0, &dbi)) == 0 &&
	    (rc = mdb_get(txn, dbi, &k, &v)) == 0)
		(void)snprintf(fmt, sz, "%.*s", (int)v.mv_size,
		    (char *)v.mv_data);
	return (raw_close(env, txn, rc, 1));
}

static void
t_upgrade(void)
{
	struct ks	*ks;
	struct ks_txn	*t;
	struct ks_blob	 b;
	char		*before, *now, fmt[16], hash[KS_HASH_LEN + 1];
	char		 etag[KS_ETAG_MAX];
	int		 n;

	E(ks_open(&ks, dir, 0, 0));
	E(ks_txn_begin(ks, 0, &t));
	E(ks_wkd_hash("u1", 2, hash));
	E(ks_wkd_put(t, domains[0], hash, "\x98\3\4\0\0", 5));
	E(ks_txn_commit(t));
	E(ks_serve_key(ks, domains[0], hash, &b));
	(void)snprintf(etag, sizeof(etag), "%s", b.etag);
	ks_blob_free(&b);
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	before = indexed(t);
	ks_txn_abort(t);
	ks_close(ks);
	E(raw_format(fmt, sizeof(fmt), &n));
	is_str(fmt, "3", "a new store is of format 3");
	is_int(n, 5, "with its 5 index tables");

	E(downgrade(dir, "1"));
	E(raw_format(fmt, sizeof(fmt), &n));
	ok(strcmp(fmt, "1") == 0 && n == 0, "made a format 1 store by hand");

	/* The daemon's handle: served as it is, walks by scans. */
	E(ks_open(&ks, dir, KS_RDONLY, 0));
	E(ks_serve_key(ks, domains[0], hash, &b));
	ok(b.len == 5 && memcmp(b.data, "\x98\3\4\0\0", 5) == 0,
	    "format 1 read-only: a key served");
	ks_blob_free(&b);
	is_int(ks_txn_begin(ks, 0, &t), KS_RDONLYERR,
	    "format 1 read-only: no write transaction");
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	now = indexed(t);
	ok(strcmp(now, before) == 0, "format 1 read-only: walks give the "
	    "same results (by scans)");
	ok(agree(t), "format 1 read-only: and agree with brute force");
	free(now);
	ks_txn_abort(t);
	ks_close(ks);
	E(raw_format(fmt, sizeof(fmt), &n));
	ok(strcmp(fmt, "1") == 0 && n == 0,
	    "format 1 read-only: the store is left as it was");

	/* A writer upgrades it, indexes and then format, at once. */
	E(ks_open(&ks, dir, 0, 0));
	E(raw_format(fmt, sizeof(fmt), &n));
	ok(strcmp(fmt, "3") == 0 && n == 5, "opened for writing: upgraded "
	    "to format 3, with its indexes");
	E(ks_serve_key(ks, domains[0], hash, &b));
	ok(b.len == 5 && memcmp(b.data, "\x98\3\4\0\0", 5) == 0 &&
	    strcmp(b.etag, etag) == 0, "upgraded: the key and its ETag");
	ks_blob_free(&b);
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	now = indexed(t);
	ok(strcmp(now, before) == 0, "upgraded: the same results");
	if (strcmp(now, before) != 0)
		printf("# before:\n%s# after:\n%s", before, now);
	ok(agree(t), "upgraded: indexes agree with brute force");
	free(now);
	ks_txn_abort(t);
	/* And keeps them up to date from then on. */
	E(ks_txn_begin(ks, 0, &t));
	for (n = 0; n < 50; n++)
		E(change(t));
	ok(agree(t), "upgraded: indexes kept after more changes");
	E(ks_txn_commit(t));
	ks_close(ks);

	/* A format this version doesn't know: refused either way. */
	E(downgrade(dir, "4"));
	is_int(ks_open(&ks, dir, KS_RDONLY, 0), KS_VERSION,
	    "format 4 read-only: KS_VERSION");
	is_int(ks_open(&ks, dir, 0, 0), KS_VERSION,
	    "format 4 for writing: KS_VERSION");
	free(before);
}

static void
t_uid_addr(void)
{
	static const struct {
		const char	*uid, *addr;
	} v[] = {
		{ "Alice <Alice@Example.ORG>", "alice@example.org" },
		{ "alice@example.org", "alice@example.org" },
		{ "Alice alice@example.org", NULL },
		{ "<>", NULL },
		{ "A <b@example.org", NULL },
		{ "x <a@b.example> <c@d.example>", "a@b.example" },
		{ "<a<b@c.example>", NULL },
		{ "Ä <ÄBC@Bücher.example>", "Äbc@xn--bcher-kva.example" },
		{ "no address", NULL },
	};
	char	 out[KS_ADDR_MAX], pout[KS_ADDR_MAX];
	size_t	 i;
	int	 rc, prc;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* The index must name the keys wkdctl's reading names. */
		prc = pgp_uid_addr(v[i].uid, pout, sizeof(pout));
		rc = ks_uid_addr(v[i].uid, strlen(v[i].uid), out, sizeof(out));
		ok((rc == KS_OK) == (prc == 0) && (prc != 0 ||
		    strcmp(out, pout) == 0), "ks_uid_addr(\"%s\") as "
		    "pgp_uid_addr()", v[i].uid);
		if (v[i].addr == NULL)
			is_int(rc, KS_INVALID, "ks_uid_addr(\"%s\"): none",
			    v[i].uid);
		else
			ok(rc == KS_OK && strcmp(out, v[i].addr) == 0,
			    "ks_uid_addr(\"%s\"): %s", v[i].uid, v[i].addr);
	}
	/* A UID's bytes count up to a NUL, as a C string's. */
	rc = ks_uid_addr("a@b.example\0<c@d.example>", 25, out, sizeof(out));
	ok(rc == KS_OK && strcmp(out, "a@b.example") == 0,
	    "ks_uid_addr: up to a NUL");
}

int
main(void)
{
	struct ks	*ks;
	int		 i, j;

	if (getenv("SEED") != NULL)
		seed = strtoul(getenv("SEED"), NULL, 10);
	printf("# seed %lu\n", seed);
	for (i = 0; i < NDOM; i++)
		for (j = 0; j < NLOCAL; j++)
			(void)snprintf(addrs[i * NLOCAL + j], sizeof(addrs[0]),
			    "u%d@%s", j, domains[i]);
	(void)snprintf(addrs[NADDR - 1], sizeof(addrs[0]), "nodomain");
	for (i = 0; i < NFPR; i++)
		(void)snprintf(fprs[i], sizeof(fprs[i]), "ABCDEF%034d", i);
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	t_uid_addr();
	E(ks_open(&ks, dir, KS_CREATE, 0));
	t_random(ks);
	ks_close(ks);
	t_upgrade();
	cleanup();
	return (done());
}
