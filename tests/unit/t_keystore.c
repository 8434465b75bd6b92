/*
 * t_keystore: the store's tables, its invariants, read-only handles,
 * visibility of commits to another process, and a full store.
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>

#include <lmdb.h>

#include "keystore.h"
#include "tap.h"

#define HASH_A	"kei1q4tipxxu1yj79k9kfukdhfy631xe"
#define HASH_B	"iy9q119eutrkn8s1mk4r39qejnbu3n5q"
#define FPR_A	"0123456789ABCDEF0123456789ABCDEF01234567"

/* A public key packet and a user ID packet (old format). */
static const unsigned char pubkey[] = { 0x98, 3, 4, 0, 0, 0xb4, 2, 'a', 'b' };
static const unsigned char seckey[] = { 0x94, 3, 4, 0, 0, 0xb4, 2, 'a', 'b' };
/* The public key, then a stored (algorithm 0) compressed packet of seckey. */
static const unsigned char zipped[] = { 0x98, 3, 4, 0, 0,
    0xa0, 10, 0, 0x94, 3, 4, 0, 0, 0xb4, 2, 'a', 'b' };
static const unsigned char literal[] = { 0x98, 3, 4, 0, 0,
    0xcb, 3, 'b', 0, 0 };

static char	 dir[] = "/tmp/t_keystore.XXXXXX";

static void
cleanup(void)
{
	char	 cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (getenv("KEEP") == NULL)
		(void)system(cmd);
}

static struct ks *
open_rw(void)
{
	struct ks	*ks = NULL;

	E(ks_open(&ks, dir, 0, 0));
	return (ks);
}

static int
count_cb(const struct ks_domain *d, void *arg)
{
	(void)d;
	(*(int *)arg)++;
	return (0);
}

static int
addr_count_cb(const struct ks_addr *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return (0);
}

static void
t_domains(struct ks *ks)
{
	struct ks_txn		*t;
	struct ks_domain	 d;
	struct ks_blob		 b;
	int			 n = 0;

	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_add(t, "example.org"));
	is_int(ks_domain_add(t, "example.org"), KS_EXISTS, "duplicate domain");
	E(ks_domain_add(t, "example.net"));
	E(ks_domain_get(t, "example.org", &d));
	is_str(d.name, "example.org", "domain name read back");
	ok(d.ctime > 0, "domain has a creation time");
	E(ks_domain_set_flags(t, "example.org", KS_DOM_KEEP_REVOKED));
	E(ks_domain_get(t, "example.org", &d));
	is_int(d.flags, KS_DOM_KEEP_REVOKED, "domain flags read back");
	is_int(ks_domain_get(t, "nope.org", &d), KS_NOTFOUND, "no such domain");
	E(ks_domain_foreach(t, count_cb, &n));
	is_int(n, 2, "two domains walked");
	is_int(ks_policy_put(t, "nope.org", "x\n", 2), KS_NOTFOUND,
	    "policy for an unknown domain refused");
	is_int(ks_policy_put(t, "example.org", "x", KS_POLICY_MAX + 1),
	    KS_TOOBIG, "oversized policy refused");
	E(ks_policy_put(t, "example.net", "protocol-version: 22\n", 21));
	E(ks_txn_commit(t));

	E(ks_serve_policy(ks, "example.org", &b));
	is_int(b.len, 0, "policy empty by default");
	ks_blob_free(&b);
	E(ks_serve_policy(ks, "example.net", &b));
	ok(b.len == 21 && memcmp(b.data, "protocol-version: 22\n", 21) == 0,
	    "policy read back");
	ks_blob_free(&b);
	is_int(ks_serve_policy(ks, "nope.org", &b), KS_NOTFOUND,
	    "no policy for an unknown domain");
	E(ks_has_domain(ks, "example.org"));
	is_int(ks_has_domain(ks, "example.com"), KS_NOTFOUND,
	    "ks_has_domain: unknown");
	is_int(ks_has_domain(ks, ""), KS_NOTFOUND, "ks_has_domain: empty");
}

static void
t_addrs(struct ks *ks)
{
	struct ks_txn	*t;
	struct ks_addr	 a, b;
	int		 n = 0;

	memset(&a, 0, sizeof(a));
	(void)snprintf(a.addr, sizeof(a.addr), "alice@example.org");
	(void)snprintf(a.account, sizeof(a.account), "alice@example.org");
	a.state = KS_ADDR_PRIMARY;
	E(ks_txn_begin(ks, 0, &t));
	E(ks_addr_put(t, &a));
	(void)snprintf(a.addr, sizeof(a.addr), "al@example.org");
	a.state = KS_ADDR_ALIAS;
	(void)snprintf(a.fpr, sizeof(a.fpr), FPR_A);
	E(ks_addr_put(t, &a));
	(void)snprintf(a.addr, sizeof(a.addr), "bob@example.org");
	(void)snprintf(a.account, sizeof(a.account), "bob@example.org");
	a.state = KS_ADDR_PRIMARY;
	a.fpr[0] = '\0';
	E(ks_addr_put(t, &a));
	a.state = 7;
	is_int(ks_addr_put(t, &a), KS_INVALID, "bad state refused");
	a.state = KS_ADDR_PRIMARY;
	a.account[0] = '\0';
	is_int(ks_addr_put(t, &a), KS_INVALID, "address without owner refused");
	E(ks_txn_commit(t));

	E(ks_txn_begin(ks, KS_RDONLY, &t));
	E(ks_addr_get(t, "al@example.org", &b));
	is_str(b.account, "alice@example.org", "alias owner read back");
	is_int(b.state, KS_ADDR_ALIAS, "alias state read back");
	is_str(b.fpr, FPR_A, "alias key read back");
	ok(b.ctime > 0 && b.mtime >= b.ctime, "alias times");
	E(ks_addr_foreach(t, "alice@example.org", addr_count_cb, &n));
	is_int(n, 2, "alice's account has two addresses");
	n = 0;
	E(ks_addr_foreach(t, NULL, addr_count_cb, &n));
	is_int(n, 3, "three addresses in all");
	is_int(ks_addr_get(t, "carol@example.org", &b), KS_NOTFOUND,
	    "unknown address");
	ks_txn_abort(t);
}

static void
t_keys(struct ks *ks)
{
	struct ks_txn	*t;
	struct ks_blob	 b, c;
	unsigned char	*big;

	E(ks_txn_begin(ks, 0, &t));
	E(ks_cert_put(t, FPR_A, pubkey, sizeof(pubkey)));
	is_int(ks_cert_put(t, FPR_A, seckey, sizeof(seckey)), KS_SECRET,
	    "certificate with a secret key packet refused");
	is_int(ks_cert_put(t, FPR_A, pubkey, sizeof(pubkey) - 1), KS_INVALID,
	    "truncated certificate refused");
	is_int(ks_cert_put(t, FPR_A, zipped, sizeof(zipped)), KS_INVALID,
	    "certificate with a compressed packet refused");
	is_int(ks_cert_put(t, FPR_A, literal, sizeof(literal)), KS_INVALID,
	    "certificate with a literal data packet refused");
	is_int(ks_cert_put(t, "0123xyz", pubkey, sizeof(pubkey)), KS_INVALID,
	    "bad fingerprint refused");
	E(ks_cert_get(t, FPR_A, &b));
	ok(b.len == sizeof(pubkey) && memcmp(b.data, pubkey, b.len) == 0,
	    "certificate read back unchanged (not the refused one)");
	ks_blob_free(&b);

	E(ks_wkd_put(t, "example.org", HASH_A, pubkey, sizeof(pubkey)));
	is_int(ks_wkd_put(t, "example.org", HASH_B, seckey, sizeof(seckey)),
	    KS_SECRET, "published blob with a secret key packet refused");
	is_int(ks_wkd_put(t, "example.org", HASH_B, zipped, sizeof(zipped)),
	    KS_INVALID, "published blob with a compressed packet refused");
	is_int(ks_wkd_put(t, "example.org", "notahash", pubkey,
	    sizeof(pubkey)), KS_INVALID, "bad hash refused");
	is_int(ks_wkd_put(t, "a/b", HASH_A, pubkey, sizeof(pubkey)),
	    KS_INVALID, "domain with a slash refused");
	if ((big = calloc(1, KS_BLOB_MAX + 16)) == NULL)
		err(1, NULL);
	/* One packet of KS_BLOB_MAX + 10 bytes, five-octet length. */
	big[0] = 0xc6;
	big[1] = 255;
	big[2] = 0;
	big[3] = (KS_BLOB_MAX + 10) >> 16;
	big[4] = ((KS_BLOB_MAX + 10) >> 8) & 0xff;
	big[5] = (KS_BLOB_MAX + 10) & 0xff;
	is_int(ks_wkd_put(t, "example.org", HASH_B, big, KS_BLOB_MAX + 16),
	    KS_TOOBIG, "published blob over 256 KiB refused");
	free(big);
	E(ks_txn_commit(t));

	E(ks_serve_key(ks, "example.org", HASH_A, &b));
	ok(b.len == sizeof(pubkey) && memcmp(b.data, pubkey, b.len) == 0,
	    "published bytes served unchanged");
	ok(strlen(b.etag) == 18 && b.etag[0] == '"' && b.etag[17] == '"',
	    "ETag is quoted, 16 characters");
	is_int(ks_serve_key(ks, "example.org", HASH_B, &c), KS_NOTFOUND,
	    "refused blobs were not stored");
	is_int(ks_serve_key(ks, "example.net", HASH_A, &c), KS_NOTFOUND,
	    "key of one domain not found under another");
	is_int(ks_serve_key(ks, "example.org", "../../etc", &c), KS_INVALID,
	    "malformed hash refused on read");

	/* Same bytes, same ETag; other bytes, other ETag. */
	E(ks_txn_begin(ks, 0, &t));
	E(ks_wkd_put(t, "example.org", HASH_B, pubkey, sizeof(pubkey)));
	E(ks_txn_commit(t));
	E(ks_serve_key(ks, "example.org", HASH_B, &c));
	is_str(c.etag, b.etag, "ETag depends on the bytes only");
	ks_blob_free(&c);
	E(ks_txn_begin(ks, 0, &t));
	E(ks_wkd_put(t, "example.org", HASH_B, pubkey, 5));
	E(ks_txn_commit(t));
	E(ks_serve_key(ks, "example.org", HASH_B, &c));
	ok(strcmp(c.etag, b.etag) != 0, "ETag changes with the bytes");
	ks_blob_free(&c);
	ks_blob_free(&b);

	/* An aborted transaction leaves nothing behind. */
	E(ks_txn_begin(ks, 0, &t));
	E(ks_wkd_del(t, "example.org", HASH_A));
	E(ks_domain_add(t, "aborted.org"));
	ks_txn_abort(t);
	E(ks_serve_key(ks, "example.org", HASH_A, &b));
	ks_blob_free(&b);
	is_int(ks_has_domain(ks, "aborted.org"), KS_NOTFOUND,
	    "aborted domain add left nothing");
}

static int
log_cb(const struct ks_logent *e, void *arg)
{
	struct ks_logent	*last = arg;

	*last = *e;
	last->seq = e->seq;
	return (0);
}

static void
t_lifecycle(struct ks *ks)
{
	struct ks_txn		*t;
	struct ks_certinfo	 ci, got;
	struct ks_logent	 e, last;
	struct ks_blob		 b;
	/* A signature packet (tag 2), new format, 3 bytes. */
	const unsigned char	 sig[] = { 0xc2, 3, 4, 0x20, 0 };
	const char		*pol = "version: STSv1\r\nmode: testing\r\n";
	const char		*chk = "{\"version\":1,\"failed\":0}";
	static char		 big[KS_CHECK_MAX + 1];
	struct ks_reader	*r;

	memset(&ci, 0, sizeof(ci));
	(void)snprintf(ci.fpr, sizeof(ci.fpr), FPR_A);
	(void)snprintf(ci.successor, sizeof(ci.successor),
	    "89ABCDEF0123456789ABCDEF0123456789ABCDEF");
	ci.flags = KS_CERT_SUPERSEDED;
	E(ks_txn_begin(ks, 0, &t));
	(void)snprintf(ci.account, sizeof(ci.account), "alice@example.org");
	E(ks_certinfo_put(t, &ci));
	E(ks_certinfo_get(t, FPR_A, &got));
	is_str(got.successor, ci.successor, "certinfo successor read back");
	is_str(got.account, "alice@example.org", "certinfo account read back");
	is_int(got.flags, KS_CERT_SUPERSEDED, "certinfo flags read back");
	ok(!got.state.known, "certinfo without a key state: known 0");

	/* The key's state, with the most subkeys a record keeps. */
	ci.state.known = 1;
	ci.state.primary.created = 1500000000;
	ci.state.primary.expires = 1600000000;
	ci.state.primary.alg = 22;
	ci.state.primary.bits = 255;
	ci.state.primary.usage = KS_USE_CERTIFY | KS_USE_SIGN;
	ci.state.primary.revoked = 1;
	ci.state.reason = 2;
	(void)snprintf(ci.state.reason_text, sizeof(ci.state.reason_text),
	    "%0255d", 7);
	for (ci.state.nsub = 0; ci.state.nsub < KS_SUBKEY_MAX;
	    ci.state.nsub++) {
		(void)snprintf(ci.state.sub[ci.state.nsub].fpr,
		    sizeof(ci.state.sub[0].fpr), "%040zu", ci.state.nsub);
		ci.state.sub[ci.state.nsub].created = -1;
		ci.state.sub[ci.state.nsub].alg = 1;
		ci.state.sub[ci.state.nsub].bits = 4096;
		ci.state.sub[ci.state.nsub].usage = KS_USE_ENCRYPT;
	}
	E(ks_certinfo_put(t, &ci));
	E(ks_certinfo_get(t, FPR_A, &got));
	ok(memcmp(&got.state, &ci.state, sizeof(ci.state)) == 0,
	    "certinfo key state read back, %d subkeys", KS_SUBKEY_MAX);
	ok(strcmp(got.account, ci.account) == 0 &&
	    strcmp(got.successor, ci.successor) == 0,
	    "and the fields before it");
	ci.state.nsub = KS_SUBKEY_MAX + 5;
	E(ks_certinfo_put(t, &ci));
	E(ks_certinfo_get(t, FPR_A, &got));
	is_int(got.state.nsub, KS_SUBKEY_MAX, "more subkeys: the first %d "
	    "kept", KS_SUBKEY_MAX);
	memset(&ci.state, 0, sizeof(ci.state));
	E(ks_certinfo_put(t, &ci));
	E(ks_certinfo_get(t, FPR_A, &got));
	ok(!got.state.known, "state cleared: known 0 again");
	(void)snprintf(ci.successor, sizeof(ci.successor), "nothex");
	is_int(ks_certinfo_put(t, &ci), KS_INVALID, "bad successor refused");

	E(ks_revoc_put(t, FPR_A, sig, sizeof(sig)));
	is_int(ks_revoc_put(t, FPR_A, pubkey, sizeof(pubkey)), KS_INVALID,
	    "revocation certificate with a key packet refused");
	is_int(ks_revoc_put(t, FPR_A, seckey, sizeof(seckey)), KS_SECRET,
	    "revocation certificate with a secret key refused");
	E(ks_revoc_get(t, FPR_A, &b));
	ok(b.len == sizeof(sig), "revocation certificate read back");
	ks_blob_free(&b);

	memset(&e, 0, sizeof(e));
	(void)snprintf(e.user, sizeof(e.user), "root");
	(void)snprintf(e.cmd, sizeof(e.cmd), "wkdctl import key.asc");
	(void)snprintf(e.subject, sizeof(e.subject), FPR_A);
	(void)snprintf(e.detail, sizeof(e.detail), "none -> published");
	E(ks_log_append(t, &e));
	is_int(e.seq, 1, "first log entry is number 1");
	e.time = 0;
	E(ks_log_append(t, &e));
	is_int(e.seq, 2, "second log entry is number 2");
	E(ks_log_foreach(t, 0, log_cb, &last));
	is_int(last.seq, 2, "log walk ends on the newest entry");
	is_str(last.detail, "none -> published", "log detail read back");
	is_str(last.user, "root", "log operator read back");

	is_int(ks_mtasts_put(t, "nope.org", pol, strlen(pol)), KS_NOTFOUND,
	    "MTA-STS policy for an unknown domain refused");
	E(ks_mtasts_put(t, "example.org", pol, strlen(pol)));
	is_int(ks_check_put(t, "nope.org", chk, strlen(chk)), KS_NOTFOUND,
	    "check result for an unknown domain refused");
	is_int(ks_check_put(t, "example.org", chk, 0), KS_INVALID,
	    "empty check result refused");
	is_int(ks_check_put(t, "example.org", big, KS_CHECK_MAX + 1),
	    KS_TOOBIG, "check result over KS_CHECK_MAX refused");
	is_int(ks_check_get(t, "example.org", &b), KS_NOTFOUND,
	    "never checked: KS_NOTFOUND");
	E(ks_check_put(t, "example.org", "{}", 2));
	E(ks_check_put(t, "example.org", chk, strlen(chk)));
	E(ks_txn_commit(t));
	E(ks_serve_mtasts(ks, "example.org", &b));
	ok(b.len == strlen(pol) && b.etag[0] == '"', "MTA-STS policy served");
	ks_blob_free(&b);
	E(ks_reader_new(ks, &r));
	E(ks_reader_check(r, "example.org", &b));
	ok(b.len == strlen(chk) && memcmp(b.data, chk, b.len) == 0 &&
	    b.etag[0] == '"', "check result read back by a reader, replaced");
	ks_blob_free(&b);
	is_int(ks_reader_check(r, "nope.org", &b), KS_NOTFOUND,
	    "reader: no check for a domain not hosted");
	ks_reader_end(r);
	ks_reader_free(r);

	E(ks_txn_begin(ks, 0, &t));
	E(ks_cert_del(t, FPR_A));
	is_int(ks_certinfo_get(t, FPR_A, &got), KS_NOTFOUND,
	    "certinfo removed with the key");
	is_int(ks_revoc_get(t, FPR_A, &b), KS_NOTFOUND,
	    "revocation certificate removed with the key");
	ks_txn_abort(t);
}

/* Facts: with the wkd entry they describe, gone with it, backed up. */
static void
t_facts(struct ks *ks)
{
	struct ks_txn		*t;
	struct ks_reader	*r;
	struct ks_facts		 f, got;
	char			 file[64];
	int			 fd;

	memset(&f, 0, sizeof(f));
	(void)snprintf(f.fpr, sizeof(f.fpr), FPR_A);
	(void)snprintf(f.uid, sizeof(f.uid), "Alice <alice@facts.example>");
	f.state.known = 1;
	f.state.primary.created = 1700000000;
	f.state.primary.expires = 1800000000;
	f.state.primary.alg = 22;
	f.state.primary.bits = 255;
	f.state.primary.usage = KS_USE_CERTIFY | KS_USE_SIGN;
	f.state.nsub = 1;
	(void)snprintf(f.state.sub[0].fpr, sizeof(f.state.sub[0].fpr),
	    "ABCDEF0123456789ABCDEF0123456789ABCDEF01");
	f.state.sub[0].alg = 18;
	f.state.sub[0].bits = 255;
	f.state.sub[0].usage = KS_USE_ENCRYPT;

	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_add(t, "facts.example"));
	is_int(ks_facts_put(t, "facts.example", HASH_A, &f), KS_NOTFOUND,
	    "facts: nothing published there, refused");
	E(ks_wkd_put(t, "facts.example", HASH_A, pubkey, sizeof(pubkey)));
	is_int(ks_facts_get(t, "facts.example", HASH_A, &got), KS_NOTFOUND,
	    "facts: none recorded yet");
	(void)snprintf(got.fpr, sizeof(got.fpr), "%s", f.fpr);
	f.fpr[0] = 'x';
	is_int(ks_facts_put(t, "facts.example", HASH_A, &f), KS_INVALID,
	    "facts: bad fingerprint refused");
	f.fpr[0] = '0';
	f.uid[0] = '\0';
	is_int(ks_facts_put(t, "facts.example", HASH_A, &f), KS_INVALID,
	    "facts: empty UID refused");
	f.uid[0] = 'A';
	E(ks_facts_put(t, "facts.example", HASH_A, &f));
	E(ks_facts_get(t, "facts.example", HASH_A, &got));
	is_str(got.uid, f.uid, "facts: UID read back");
	is_str(got.fpr, FPR_A, "facts: fingerprint read back");
	ok(got.state.known && got.state.primary.alg == 22 &&
	    got.state.primary.expires == 1800000000 && got.state.nsub == 1 &&
	    got.state.sub[0].usage == KS_USE_ENCRYPT &&
	    strcmp(got.state.sub[0].fpr, f.state.sub[0].fpr) == 0,
	    "facts: state read back");
	E(ks_wkd_put(t, "facts.example", HASH_A, pubkey, sizeof(pubkey)));
	is_int(ks_facts_get(t, "facts.example", HASH_A, &got), KS_NOTFOUND,
	    "facts: dropped when the bytes are replaced");
	f.state.known = 0;
	E(ks_facts_put(t, "facts.example", HASH_A, &f));
	E(ks_facts_get(t, "facts.example", HASH_A, &got));
	ok(!got.state.known && strcmp(got.uid, f.uid) == 0,
	    "facts: without a state");
	f.state.known = 1;
	E(ks_facts_put(t, "facts.example", HASH_A, &f));
	E(ks_txn_commit(t));

	E(ks_reader_new(ks, &r));
	E(ks_reader_facts(r, "facts.example", HASH_A, &got));
	ok(got.state.known && strcmp(got.uid, f.uid) == 0,
	    "facts: read by a reader");
	is_int(ks_reader_facts(r, "facts.example", HASH_B, &got),
	    KS_NOTFOUND, "facts: reader, none for another hash");
	ks_reader_end(r);

	(void)snprintf(file, sizeof(file), "%s.bak", dir);
	if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", file);
	E(ks_backup(ks, fd));
	(void)close(fd);
	E(ks_check_file(file, NULL));
	E(ks_txn_begin(ks, 0, &t));
	E(ks_wkd_del(t, "facts.example", HASH_A));
	is_int(ks_facts_get(t, "facts.example", HASH_A, &got), KS_NOTFOUND,
	    "facts: removed with the key");
	E(ks_txn_commit(t));
	E(ks_restore(ks, file, NULL, NULL));
	E(ks_reader_facts(r, "facts.example", HASH_A, &got));
	is_str(got.uid, f.uid, "facts: a backup restored carries them");
	ks_reader_end(r);
	(void)unlink(file);

	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_del(t, "facts.example"));
	is_int(ks_facts_get(t, "facts.example", HASH_A, &got), KS_NOTFOUND,
	    "facts: removed with the domain");
	E(ks_txn_commit(t));
	ks_reader_free(r);
}

static void
t_domain_del(struct ks *ks)
{
	struct ks_txn	*t;
	struct ks_addr	 a;
	struct ks_blob	 b;

	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_del(t, "example.org"));
	E(ks_txn_commit(t));
	is_int(ks_serve_key(ks, "example.org", HASH_A, &b), KS_NOTFOUND,
	    "removed domain's keys are gone");
	is_int(ks_serve_policy(ks, "example.org", &b), KS_NOTFOUND,
	    "removed domain's policy is gone");
	is_int(ks_serve_mtasts(ks, "example.org", &b), KS_NOTFOUND,
	    "removed domain's MTA-STS policy is gone");
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	is_int(ks_check_get(t, "example.org", &b), KS_NOTFOUND,
	    "removed domain's check result is gone");
	ks_txn_abort(t);
	E(ks_has_domain(ks, "example.net"));
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	E(ks_addr_get(t, "al@example.org", &a));
	is_str(a.account, "alice@example.org",
	    "address binding outlives its domain");
	is_str(a.fpr, "", "nothing is published for it any more");
	ks_txn_abort(t);
}

static void
t_rdonly(void)
{
	struct ks	*ro;
	struct ks_txn	*t = NULL;

	E(ks_open(&ro, dir, KS_RDONLY, 0));
	is_int(ks_txn_begin(ro, 0, &t), KS_RDONLYERR,
	    "no write transaction on a read-only handle");
	ok(t == NULL, "no transaction returned");
	ks_close(ro);
	is_int(ks_open(&ro, "/nonexistent/dir", KS_RDONLY, 0), 2 /* ENOENT */,
	    "missing directory: errno");
}

/*
 * A reader that opened the store before a commit by another process sees
 * the commit on its next read: what wkdd relies on to serve wkdctl's
 * changes without a restart.
 */
static void
t_visibility(struct ks *ks)
{
	struct ks_txn	*t;
	int		 go[2], ready[2], status;
	char		 c;
	pid_t		 pid;

	if (pipe(go) == -1 || pipe(ready) == -1)
		err(1, "pipe");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		struct ks	*ro;
		struct ks_blob	 b;
		int		 before, after;

		if (ks_open(&ro, dir, KS_RDONLY, 0) != KS_OK)
			_exit(10);
		before = ks_has_domain(ro, "hot.example");
		(void)write(ready[1], "r", 1);
		if (read(go[0], &c, 1) != 1)
			_exit(11);
		after = ks_serve_key(ro, "hot.example", HASH_A, &b);
		ks_blob_free(&b);
		ks_close(ro);
		_exit(before == KS_NOTFOUND && after == KS_OK ? 0 : 12);
	}
	if (read(ready[0], &c, 1) != 1)
		err(1, "read");
	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_add(t, "hot.example"));
	E(ks_wkd_put(t, "hot.example", HASH_A, pubkey, sizeof(pubkey)));
	E(ks_txn_commit(t));
	(void)write(go[1], "g", 1);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a reader in another process sees the commit without reopening");
}

/*
 * A reader whose store lacked a table younger than format 3 when it
 * opened it (a wkdd started before the first wkdctl of its version) finds
 * the table once a writer in another process has made it: no restart.
 */
static void
t_late_table(void)
{
	char		 late[] = "/tmp/t_keystore_late.XXXXXX", cmd[128];
	struct ks	*ks;
	struct ks_txn	*t;
	struct ks_facts	 f;
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	int		 go[2], ready[2], status;
	char		 c;
	pid_t		 pid;

	if (mkdtemp(late) == NULL)
		err(1, "mkdtemp");
	E(ks_open(&ks, late, KS_CREATE, 0));
	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_add(t, "late.example"));
	E(ks_wkd_put(t, "late.example", HASH_A, pubkey, sizeof(pubkey)));
	E(ks_txn_commit(t));
	ks_close(ks);
	/* As an earlier version left it: no facts table. */
	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 64) != 0 ||
	    mdb_env_open(env, late, MDB_NOTLS, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, "facts", 0, &dbi) != 0 ||
	    mdb_drop(txn, dbi, 1) != 0 || mdb_txn_commit(txn) != 0)
		errx(1, "dropping the facts table");
	mdb_env_close(env);

	if (pipe(go) == -1 || pipe(ready) == -1)
		err(1, "pipe");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		struct ks	*ro;
		struct ks_reader *r;
		struct ks_facts	 got;
		int		 before, after = -1, i;

		if (ks_open(&ro, late, KS_RDONLY, 0) != KS_OK ||
		    ks_reader_new(ro, &r) != KS_OK)
			_exit(10);
		before = ks_reader_facts(r, "late.example", HASH_A, &got);
		ks_reader_end(r);
		(void)write(ready[1], "r", 1);
		if (read(go[0], &c, 1) != 1)
			_exit(11);
		/* Looked for again at most once a second: poll, up to 5 s. */
		for (i = 0; i < 50 && after != KS_OK; i++) {
			after = ks_reader_facts(r, "late.example", HASH_A,
			    &got);
			ks_reader_end(r);
			if (after != KS_OK)
				(void)usleep(100000);
		}
		ks_reader_free(r);
		ks_close(ro);
		_exit(before == KS_NOTFOUND && after == KS_OK &&
		    strcmp(got.fpr, FPR_A) == 0 ? 0 : 12);
	}
	if (read(ready[0], &c, 1) != 1)
		err(1, "read");
	memset(&f, 0, sizeof(f));
	(void)snprintf(f.fpr, sizeof(f.fpr), FPR_A);
	(void)snprintf(f.uid, sizeof(f.uid), "Late <late@late.example>");
	E(ks_open(&ks, late, 0, 0));	/* Makes the table. */
	E(ks_txn_begin(ks, 0, &t));
	E(ks_facts_put(t, "late.example", HASH_A, &f));
	E(ks_txn_commit(t));
	ks_close(ks);
	(void)write(go[1], "g", 1);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a reader finds a table made after it opened the store (status %d)",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", late);
	if (system(cmd) != 0)
		warnx("%s: not removed", late);
}

/* A full store refuses the write and keeps everything committed before. */
static void
t_full(void)
{
	char		 small[] = "/tmp/t_keystore_full.XXXXXX", cmd[128];
	char		 fpr[KS_FPR_MAX];
	struct ks	*ks;
	struct ks_txn	*t;
	struct ks_blob	 b;
	unsigned char	*cert;
	size_t		 len = 100000;
	int		 i, rc = KS_OK;

	if (mkdtemp(small) == NULL)
		err(1, "mkdtemp");
	if ((cert = calloc(1, len)) == NULL)
		err(1, NULL);
	cert[0] = 0xc6;
	cert[1] = 255;
	cert[3] = ((len - 6) >> 16) & 0xff;
	cert[4] = ((len - 6) >> 8) & 0xff;
	cert[5] = (len - 6) & 0xff;
	E(ks_open(&ks, small, KS_CREATE, 1 << 20));
	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_add(t, "full.example"));
	E(ks_txn_commit(t));
	for (i = 0; i < 100 && rc == KS_OK; i++) {
		(void)snprintf(fpr, sizeof(fpr), "%040X", i);
		if ((rc = ks_txn_begin(ks, 0, &t)) != KS_OK)
			break;
		if ((rc = ks_cert_put(t, fpr, cert, len)) == KS_OK)
			rc = ks_txn_commit(t);
		else
			ks_txn_abort(t);
	}
	is_int(rc, KS_FULL, "a full store says KS_FULL");
	(void)snprintf(fpr, sizeof(fpr), "%040X", i - 1);
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	is_int(ks_cert_get(t, fpr, &b), KS_NOTFOUND,
	    "the write that didn't fit left nothing");
	(void)snprintf(fpr, sizeof(fpr), "%040X", 0);
	E(ks_cert_get(t, fpr, &b));
	ok(b.len == len, "earlier writes intact");
	ks_blob_free(&b);
	ks_txn_abort(t);
	E(ks_has_domain(ks, "full.example"));
	ks_close(ks);
	free(cert);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", small);
	(void)system(cmd);
}

/* Erased addresses: only a keyed hash stays, and says "erased". */
static void
t_gone(struct ks *ks)
{
	struct ks_txn	*t;

	E(ks_txn_begin(ks, KS_RDONLY, &t));
	is_int(ks_gone_get(t, "gone@example.org"), KS_NOTFOUND,
	    "nothing erased yet: KS_NOTFOUND");
	ks_txn_abort(t);
	E(ks_txn_begin(ks, 0, &t));
	E(ks_gone_put(t, "gone@example.org"));
	E(ks_gone_get(t, "gone@example.org"));
	is_int(ks_gone_get(t, "other@example.org"), KS_NOTFOUND,
	    "another address is not erased");
	E(ks_txn_commit(t));
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	is_int(ks_gone_get(t, "gone@example.org"), KS_OK,
	    "erased, after commit, in a read transaction");
	ks_txn_abort(t);
}

/* A nested transaction: its commit is the parent's, its abort its own. */
static void
t_nested(struct ks *ks)
{
	struct ks_txn		*t, *c;
	struct ks_domain	 d;

	E(ks_txn_begin(ks, 0, &t));
	E(ks_txn_nest(t, &c));
	E(ks_domain_add(c, "nest-kept.example"));
	E(ks_txn_commit(c));
	E(ks_txn_nest(t, &c));
	E(ks_domain_add(c, "nest-gone.example"));
	ks_txn_abort(c);
	E(ks_domain_get(t, "nest-kept.example", &d));
	is_int(ks_domain_get(t, "nest-gone.example", &d), KS_NOTFOUND,
	    "nested abort: its change is undone");
	E(ks_txn_commit(t));
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	is_int(ks_domain_get(t, "nest-kept.example", &d), KS_OK,
	    "nested commit: kept by the parent's commit");
	ks_txn_abort(t);
	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_del(t, "nest-kept.example"));
	E(ks_txn_commit(t));
}

/*
 * ks_stats(): LMDB's counts of a store of known contents, as the daemon
 * (KS_RDONLY) reads them; and data.mdb gone or replaced on disk.
 */
static void
t_stats(void)
{
	char			 sdir[] = "/tmp/t_kstats.XXXXXX";
	char			 a[256], b[256], cmd[600];
	struct ks		*ks, *ro;
	struct ks_txn		*t;
	struct ks_stats		 st;
	struct ks_addr		 ad;
	struct ks_logent	 e;

	if (mkdtemp(sdir) == NULL)
		err(1, "mkdtemp");
	E(ks_open(&ks, sdir, KS_CREATE, 0));
	E(ks_open(&ro, sdir, KS_RDONLY, 0));
	E(ks_stats(ro, &st));
	ok(st.domains == 0 && st.addresses == 0 && st.published == 0 &&
	    st.wkd == 0 && st.certs == 0, "a new store: all counts 0");
	is_int(st.changed, -1, "a new store: no change logged");
	is_int(st.ondisk, KS_OK, "data.mdb on disk is the file opened");
	ok(st.map_bytes == (uint64_t)1 << 30 && st.used_bytes > 0 &&
	    st.used_bytes <= st.map_bytes && st.page_bytes > 0,
	    "map and used bytes");
	ok(st.readers >= 1 && st.max_readers == 256, "reader slots");

	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_add(t, "example.org"));
	E(ks_domain_add(t, "example.net"));
	memset(&ad, 0, sizeof(ad));
	(void)snprintf(ad.addr, sizeof(ad.addr), "alice@example.org");
	(void)snprintf(ad.account, sizeof(ad.account), "alice@example.org");
	ad.state = KS_ADDR_PRIMARY;
	(void)snprintf(ad.fpr, sizeof(ad.fpr), FPR_A);
	E(ks_addr_put(t, &ad));
	(void)snprintf(ad.addr, sizeof(ad.addr), "al@example.org");
	ad.state = KS_ADDR_ALIAS;
	E(ks_addr_put(t, &ad));
	(void)snprintf(ad.addr, sizeof(ad.addr), "bob@example.org");
	(void)snprintf(ad.account, sizeof(ad.account), "bob@example.org");
	ad.state = KS_ADDR_PRIMARY;
	ad.fpr[0] = '\0';
	E(ks_addr_put(t, &ad));
	E(ks_cert_put(t, FPR_A, pubkey, sizeof(pubkey)));
	E(ks_wkd_put(t, "example.org", HASH_A, pubkey, sizeof(pubkey)));
	E(ks_wkd_put(t, "example.org", HASH_B, pubkey, sizeof(pubkey)));
	memset(&e, 0, sizeof(e));
	e.time = 1700000000;
	(void)snprintf(e.cmd, sizeof(e.cmd), "test");
	E(ks_log_append(t, &e));
	e.time = 1700000123;
	E(ks_log_append(t, &e));
	E(ks_txn_commit(t));

	E(ks_stats(ro, &st));
	ok(st.domains == 2, "2 domains");
	ok(st.addresses == 3, "3 addresses");
	ok(st.published == 2, "2 addresses serving a key");
	ok(st.wkd == 2, "2 entries served");
	ok(st.certs == 1, "1 certificate");
	ok(st.changed == 1700000123, "last change: the newest audit entry");
	ok(st.txnid >= 2, "a write transaction id");

	(void)snprintf(a, sizeof(a), "%s/data.mdb", sdir);
	(void)snprintf(b, sizeof(b), "%s/data.old", sdir);
	if (rename(a, b) == -1)
		err(1, "rename");
	E(ks_stats(ro, &st));
	is_int(st.ondisk, ENOENT, "data.mdb gone: ENOENT");
	(void)snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", b, a);
	if (system(cmd) != 0)
		errx(1, "%s", cmd);
	E(ks_stats(ro, &st));
	is_int(st.ondisk, ESTALE, "data.mdb replaced by a copy: ESTALE");
	ks_close(ro);
	ks_close(ks);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sdir);
	(void)system(cmd);
}

static int
token_count_cb(const struct ks_token *tk, void *arg)
{
	(void)tk;
	(*(int *)arg)++;
	return (0);
}

/* The tokens table: its records, and a store made before it existed. */
static void
t_tokens(void)
{
	struct ks_token	 tk, got;
	struct ks	*ks, *ro;
	struct ks_txn	*t;
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	char		 file[64];
	int		 n, fd;

	ks = open_rw();
	memset(&tk, 0, sizeof(tk));
	(void)snprintf(tk.name, sizeof(tk.name), "customer");
	tk.flags = KS_TOKEN_RDONLY;
	tk.ctime = 1700000000;
	memset(tk.hash, 0xab, sizeof(tk.hash));
	tk.ndomains = 2;
	(void)snprintf(tk.domains[0], sizeof(tk.domains[0]), "a.example");
	(void)snprintf(tk.domains[1], sizeof(tk.domains[1]), "b.example");
	E(ks_txn_begin(ks, 0, &t));
	E(ks_token_put(t, &tk));
	is_int(ks_token_put(t, &tk), KS_EXISTS, "token: a name once");
	tk.flags = 0x80;
	(void)snprintf(tk.name, sizeof(tk.name), "other");
	is_int(ks_token_put(t, &tk), KS_INVALID, "token: unknown flags");
	tk.flags = 0;
	tk.name[0] = '\0';
	is_int(ks_token_put(t, &tk), KS_INVALID, "token: empty name");
	E(ks_txn_commit(t));

	E(ks_open(&ro, dir, KS_RDONLY, 0));
	E(ks_txn_begin(ro, KS_RDONLY, &t));
	E(ks_token_get(t, "customer", &got));
	ok(got.flags == KS_TOKEN_RDONLY && got.ctime == 1700000000 &&
	    got.ndomains == 2 && strcmp(got.domains[1], "b.example") == 0 &&
	    got.hash[31] == 0xab, "token: read back whole by a reader");
	is_int(ks_token_get(t, "nobody", &got), KS_NOTFOUND,
	    "token: unknown name");
	ks_txn_abort(t);
	ks_close(ro);

	(void)snprintf(file, sizeof(file), "%s.bak", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(fd != -1, "backup file");
	E(ks_backup(ks, fd));
	(void)close(fd);
	is_int(ks_check_file(file, NULL), KS_OK,
	    "backup with tokens: checked");
	(void)unlink(file);

	E(ks_txn_begin(ks, 0, &t));
	E(ks_token_del(t, "customer"));
	is_int(ks_token_del(t, "customer"), KS_NOTFOUND, "token: deleted");
	E(ks_txn_commit(t));
	ks_close(ks);

	/* A store from before tokens: the table dropped behind our back. */
	E(mdb_env_create(&env));
	E(mdb_env_set_maxdbs(env, 64));
	E(mdb_env_open(env, dir, 0, 0660));
	E(mdb_txn_begin(env, NULL, 0, &txn));
	E(mdb_dbi_open(txn, "tokens", 0, &dbi));
	E(mdb_drop(txn, dbi, 1));
	E(mdb_txn_commit(txn));
	mdb_env_close(env);
	E(ks_open(&ro, dir, KS_RDONLY, 0));
	E(ks_txn_begin(ro, KS_RDONLY, &t));
	is_int(ks_token_get(t, "customer", &got), KS_NOTFOUND,
	    "no tokens table: a reader finds no token");
	n = 0;
	is_int(ks_token_foreach(t, token_count_cb, &n), KS_OK,
	    "no tokens table: a walk of none");
	ks_txn_abort(t);
	ks_close(ro);
	ks = open_rw();
	E(ks_txn_begin(ks, 0, &t));
	(void)snprintf(tk.name, sizeof(tk.name), "platform");
	is_int(ks_token_put(t, &tk), KS_OK,
	    "a write-open makes the tokens table");
	E(ks_txn_commit(t));
	E(ks_txn_begin(ks, KS_RDONLY, &t));
	n = 0;
	E(ks_token_foreach(t, token_count_cb, &n));
	is_int(n, 1, "one token");
	ks_txn_abort(t);
	ks_close(ks);
}

/* TLS reports: dedup by (domain, id), sums kept, walks, domain removal. */
static int
tr_count_cb(const struct ks_tlsrpt *r, void *arg)
{
	size_t	*n = arg;

	if (r->len == 0 || ((const char *)r->json)[0] != '{')
		return (-1);
	(*n)++;
	return (0);
}

static int
tr_sum_cb(const struct ks_tlsrpt_sum *s, void *arg)
{
	struct ks_tlsrpt_sum	*out = arg;

	if (strcmp(s->domain, "tr.example") == 0)
		*out = *s;
	return (0);
}

static void
t_tlsrpt(struct ks *ks)
{
	struct ks_txn		*t;
	struct ks_tlsrpt	 r;
	struct ks_tlsrpt_sum	 sum;
	struct ks_reader	*rd;
	const char		*json = "{\"report-id\":\"x\"}";
	static char		 longid[KS_TLSRPT_ID_MAX + 1];
	size_t			 n;

	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_add(t, "tr.example"));
	memset(&r, 0, sizeof(r));
	(void)snprintf(r.domain, sizeof(r.domain), "tr.example");
	(void)snprintf(r.id, sizeof(r.id), "r1");
	r.start = 1000;
	r.end = 2000;
	r.success = 10;
	r.failure = 3;
	r.json = json;
	r.len = strlen(json);
	E(ks_tlsrpt_put(t, &r));
	is_int(ks_tlsrpt_put(t, &r), KS_EXISTS, "tlsrpt: the same id again: "
	    "KS_EXISTS");
	(void)snprintf(r.id, sizeof(r.id), "r2");
	r.start = 3000;
	r.end = 4000;
	r.success = 5;
	r.failure = 1;
	E(ks_tlsrpt_put(t, &r));
	(void)snprintf(r.domain, sizeof(r.domain), "nope.example");
	is_int(ks_tlsrpt_put(t, &r), KS_NOTFOUND, "tlsrpt: a domain not "
	    "hosted refused");
	(void)snprintf(r.domain, sizeof(r.domain), "tr.example");
	memset(longid, 'a', KS_TLSRPT_ID_MAX);
	memcpy(r.id, longid, sizeof(r.id) - 1);
	r.id[sizeof(r.id) - 1] = '\0';
	E(ks_tlsrpt_put(t, &r));
	r.id[0] = '\0';
	is_int(ks_tlsrpt_put(t, &r), KS_INVALID, "tlsrpt: an empty id refused");
	(void)snprintf(r.id, sizeof(r.id), "r3");
	r.len = 0;
	is_int(ks_tlsrpt_put(t, &r), KS_INVALID, "tlsrpt: empty JSON refused");
	r.len = KS_TLSRPT_MAX + 1;
	is_int(ks_tlsrpt_put(t, &r), KS_TOOBIG, "tlsrpt: over KS_TLSRPT_MAX "
	    "refused");
	E(ks_txn_commit(t));

	E(ks_txn_begin(ks, KS_RDONLY, &t));
	n = 0;
	E(ks_tlsrpt_foreach(t, "tr.example", 0, tr_count_cb, &n));
	is_int(n, 3, "tlsrpt: three reports of the domain (one id longest)");
	n = 0;
	E(ks_tlsrpt_foreach(t, "tr.example", 3500, tr_count_cb, &n));
	is_int(n, 2, "tlsrpt: since 3500: those ending then or after");
	n = 0;
	E(ks_tlsrpt_foreach(t, "tr.exampl", 0, tr_count_cb, &n));
	is_int(n, 0, "tlsrpt: a prefix of the domain is another domain");
	memset(&sum, 0, sizeof(sum));
	E(ks_tlsrpt_sum_foreach(t, tr_sum_cb, &sum));
	ok(sum.reports == 3 && sum.success == 20 && sum.failure == 5 &&
	    sum.first == 1000 && sum.last == 4000,
	    "tlsrpt: the domain's sums kept with its reports");
	ks_txn_abort(t);
	E(ks_reader_new(ks, &rd));
	memset(&sum, 0, sizeof(sum));
	E(ks_reader_tlsrpt(rd, tr_sum_cb, &sum));
	is_int(sum.failure, 5, "tlsrpt: a reader reads the sums");
	ks_reader_end(rd);
	ks_reader_free(rd);

	E(ks_txn_begin(ks, 0, &t));
	E(ks_tlsrpt_prune(t, 2500, &n));
	is_int(n, 1, "tlsrpt: prune before 2500: the one ending at 2000");
	memset(&sum, 0, sizeof(sum));
	E(ks_tlsrpt_sum_foreach(t, tr_sum_cb, &sum));
	ok(sum.reports == 2 && sum.success == 10 && sum.failure == 2 &&
	    sum.first == 3000 && sum.last == 4000,
	    "tlsrpt: prune made the sums again from the reports left");
	E(ks_tlsrpt_prune(t, 2500, &n));
	is_int(n, 0, "tlsrpt: prune again: nothing");
	E(ks_txn_commit(t));

	E(ks_txn_begin(ks, 0, &t));
	E(ks_domain_del(t, "tr.example"));
	n = 0;
	E(ks_tlsrpt_foreach(t, NULL, 0, tr_count_cb, &n));
	is_int(n, 0, "tlsrpt: removing the domain removed its reports");
	memset(&sum, 0, sizeof(sum));
	E(ks_tlsrpt_sum_foreach(t, tr_sum_cb, &sum));
	is_int(sum.reports, 0, "tlsrpt: and its sums");
	E(ks_txn_commit(t));
}

int
main(void)
{
	struct ks	*ks;

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	is_int(ks_open(&ks, dir, 0, 0), KS_NOTFOUND,
	    "no store without KS_CREATE");
	E(ks_open(&ks, dir, KS_CREATE, 0));
	ks_close(ks);
	ks = open_rw();
	t_domains(ks);
	t_addrs(ks);
	t_keys(ks);
	t_lifecycle(ks);
	t_facts(ks);
	t_domain_del(ks);
	t_rdonly();
	t_visibility(ks);
	t_nested(ks);
	t_gone(ks);
	t_tlsrpt(ks);
	ks_close(ks);
	t_tokens();
	t_full();
	t_late_table();
	t_stats();
	cleanup();
	return (done());
}
