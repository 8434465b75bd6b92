/*
 * pgpsig.c: the fast import path's checks.  A key's self-signatures are
 * verified here with GnuTLS (nettle), not RNP: RNP (through Botan) sets up
 * the RSA modulus afresh for every signature it checks, about 1.4 ms for
 * a 4096-bit key, which was nearly all of an import's time.
 *
 * This path decides only what it can decide exactly as RNP would, and
 * says "ask RNP" (1) for everything else: a revocation anywhere, anything
 * expired, a signature that doesn't verify here, an algorithm, version or
 * critical subpacket it doesn't read.  The common key, every
 * self-signature good and nothing expired, never reaches RNP; t_pgpfast
 * checks that the two paths clean every key of a real keyring to the same
 * bytes.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "keystore.h"
#include "wkdctl.h"
#include "pgpkey.h"

/* Signature types (RFC 4880 5.2.1) and public-key algorithms (9.1). */
#define SIG_CERT_FIRST	0x10	/* .. 0x13: UID certifications. */
#define SIG_CERT_LAST	0x13
#define SIG_SUBKEY	0x18
#define SIG_PRIMARY	0x19	/* Embedded in a signing subkey's binding. */
#define SIG_DIRECT	0x1f
#define SIG_KEYREV	0x20
#define SIG_SUBREV	0x28
#define SIG_UIDREV	0x30

#define PK_RSA		1
#define PK_RSA_S	3
#define PK_ECDSA	19
#define PK_EDDSA	22

#define KF_SIGN		0x02
#define KF_ENCRYPT	0x0c

/* A public key read for verifying. */
struct ps_key {
	gnutls_pubkey_t	 pk;
	unsigned	 alg;
	size_t		 size;		/* RSA: the modulus's bytes. */
};

static const unsigned char oid_ed25519[] = {
	0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01 };
static const unsigned char oid_p256[] = {
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_p384[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const unsigned char oid_p521[] = { 0x2b, 0x81, 0x04, 0x00, 0x23 };

static int
ps_mpi(const unsigned char **p, size_t *len, gnutls_datum_t *d)
{
	size_t	 n;

	if (*len < 2)
		return (-1);
	n = (((size_t)(*p)[0] << 8 | (*p)[1]) + 7) / 8;
	if (n > *len - 2)
		return (-1);
	d->data = (unsigned char *)(uintptr_t)(*p + 2);
	d->size = n;
	*p += 2 + n;
	*len -= 2 + n;
	return (0);
}

static gnutls_ecc_curve_t
ps_curve(const unsigned char *oid, size_t n, size_t *coord)
{
	if (n == sizeof(oid_p256) && memcmp(oid, oid_p256, n) == 0) {
		*coord = 32;
		return (GNUTLS_ECC_CURVE_SECP256R1);
	}
	if (n == sizeof(oid_p384) && memcmp(oid, oid_p384, n) == 0) {
		*coord = 48;
		return (GNUTLS_ECC_CURVE_SECP384R1);
	}
	if (n == sizeof(oid_p521) && memcmp(oid, oid_p521, n) == 0) {
		*coord = 66;
		return (GNUTLS_ECC_CURVE_SECP521R1);
	}
	return (GNUTLS_ECC_CURVE_INVALID);
}

/* Read the public key packet body b for verifying; 0, or 1 if it can't. */
static int
ps_readkey(const unsigned char *b, size_t len, struct ps_key *k)
{
	gnutls_datum_t		 m, e, q, x, y;
	gnutls_ecc_curve_t	 curve;
	const unsigned char	*p = b + 6;
	size_t			 n = len - 6, olen, coord;
	int			 rc = -1;

	memset(k, 0, sizeof(*k));
	if (len < 7 || b[0] != 4 || gnutls_pubkey_init(&k->pk) != 0)
		return (1);
	k->alg = b[5];
	switch (k->alg) {
	case PK_RSA:
	case PK_RSA_S:
		if (ps_mpi(&p, &n, &m) == 0 && ps_mpi(&p, &n, &e) == 0 &&
		    n == 0) {
			k->size = m.size;
			rc = gnutls_pubkey_import_rsa_raw(k->pk, &m, &e);
		}
		break;
	case PK_EDDSA:
	case PK_ECDSA:
		olen = p[0];
		if (olen == 0 || olen == 0xff || olen + 1 > n)
			break;
		p += 1 + olen;
		n -= 1 + olen;
		if (ps_mpi(&p, &n, &q) == -1 || n != 0)
			break;
		if (k->alg == PK_EDDSA) {
			if (olen != sizeof(oid_ed25519) || memcmp(b + 7,
			    oid_ed25519, olen) != 0 || q.size != 33 ||
			    q.data[0] != 0x40)
				break;
			x = (gnutls_datum_t){ q.data + 1, 32 };
			rc = gnutls_pubkey_import_ecc_raw(k->pk,
			    GNUTLS_ECC_CURVE_ED25519, &x, NULL);
			break;
		}
		curve = ps_curve(b + 7, olen, &coord);
		if (curve == GNUTLS_ECC_CURVE_INVALID ||
		    q.size != 1 + 2 * coord || q.data[0] != 0x04)
			break;
		x = (gnutls_datum_t){ q.data + 1, coord };
		y = (gnutls_datum_t){ q.data + 1 + coord, coord };
		rc = gnutls_pubkey_import_ecc_raw(k->pk, curve, &x, &y);
		break;
	}
	if (rc != 0) {
		gnutls_pubkey_deinit(k->pk);
		k->pk = NULL;
		return (1);
	}
	return (0);
}

static void
ps_freekey(struct ps_key *k)
{
	if (k->pk != NULL)
		gnutls_pubkey_deinit(k->pk);
	k->pk = NULL;
}

static gnutls_digest_algorithm_t
ps_digest(unsigned hashalg)
{
	switch (hashalg) {
	case 2:
		return (GNUTLS_DIG_SHA1);
	case 8:
		return (GNUTLS_DIG_SHA256);
	case 9:
		return (GNUTLS_DIG_SHA384);
	case 10:
		return (GNUTLS_DIG_SHA512);
	case 11:
		return (GNUTLS_DIG_SHA224);
	}
	return (GNUTLS_DIG_UNKNOWN);
}

/* Hash a key packet body as signatures do: 0x99, two-octet length. */
static void
ps_hashkey(gnutls_hash_hd_t h, const struct pk_pkt *key)
{
	unsigned char	 hdr[3] = { 0x99, key->len >> 8, key->len & 0xff };

	(void)gnutls_hash(h, hdr, sizeof(hdr));
	(void)gnutls_hash(h, key->body, key->len);
}

/* Left-pad the MPI d into out (size bytes); -1 if it is longer. */
static int
ps_pad(const gnutls_datum_t *d, unsigned char *out, size_t size)
{
	if (d->size > size)
		return (-1);
	memset(out, 0, size - d->size);
	memcpy(out + size - d->size, d->data, d->size);
	return (0);
}

/*
 * Does si verify with k over key, then what (a UID or subkey packet, or
 * NULL for a signature on the key itself)?  1 yes, 0 no or can't tell.
 */
static int
ps_verify(const struct ps_key *k, const struct pk_sig *si,
    const struct pk_pkt *key, const struct pk_pkt *what)
{
	gnutls_digest_algorithm_t	 dig = ps_digest(si->hashalg);
	gnutls_hash_hd_t		 h;
	gnutls_datum_t			 hash, s, r, sig;
	unsigned char			 md[64], trailer[6], hdr[5];
	unsigned char			 buf[1024];
	const unsigned char		*p = si->mpis;
	size_t				 n = si->mpislen;
	int				 rc = -1;

	if (k->pk == NULL || dig == GNUTLS_DIG_UNKNOWN ||
	    si->pkalg != k->alg || gnutls_hash_init(&h, dig) != 0)
		return (0);
	ps_hashkey(h, key);
	if (what != NULL && what->tag == KS_PKT_UID) {
		hdr[0] = 0xb4;
		hdr[1] = what->len >> 24;
		hdr[2] = (what->len >> 16) & 0xff;
		hdr[3] = (what->len >> 8) & 0xff;
		hdr[4] = what->len & 0xff;
		(void)gnutls_hash(h, hdr, sizeof(hdr));
		(void)gnutls_hash(h, what->body, what->len);
	} else if (what != NULL)
		ps_hashkey(h, what);
	(void)gnutls_hash(h, si->hashed, si->hashedlen);
	trailer[0] = 4;
	trailer[1] = 0xff;
	trailer[2] = si->hashedlen >> 24;
	trailer[3] = (si->hashedlen >> 16) & 0xff;
	trailer[4] = (si->hashedlen >> 8) & 0xff;
	trailer[5] = si->hashedlen & 0xff;
	(void)gnutls_hash(h, trailer, sizeof(trailer));
	gnutls_hash_deinit(h, md);
	if (md[0] != si->left16[0] || md[1] != si->left16[1])
		return (0);
	hash = (gnutls_datum_t){ md, gnutls_hash_get_len(dig) };
	switch (k->alg) {
	case PK_RSA:
	case PK_RSA_S:
		if (ps_mpi(&p, &n, &s) == -1 || n != 0 ||
		    k->size > sizeof(buf) || ps_pad(&s, buf, k->size) == -1)
			return (0);
		sig = (gnutls_datum_t){ buf, k->size };
		rc = gnutls_pubkey_verify_hash2(k->pk,
		    gnutls_pk_to_sign(GNUTLS_PK_RSA, dig),
		    GNUTLS_VERIFY_ALLOW_BROKEN, &hash, &sig);
		break;
	case PK_EDDSA:
		if (ps_mpi(&p, &n, &r) == -1 || ps_mpi(&p, &n, &s) == -1 ||
		    n != 0 || ps_pad(&r, buf, 32) == -1 ||
		    ps_pad(&s, buf + 32, 32) == -1)
			return (0);
		sig = (gnutls_datum_t){ buf, 64 };
		rc = gnutls_pubkey_verify_data2(k->pk,
		    GNUTLS_SIGN_EDDSA_ED25519, 0, &hash, &sig);
		break;
	case PK_ECDSA:
		if (ps_mpi(&p, &n, &r) == -1 || ps_mpi(&p, &n, &s) == -1 ||
		    n != 0 || gnutls_encode_rs_value(&sig, &r, &s) != 0)
			return (0);
		rc = gnutls_pubkey_verify_hash2(k->pk,
		    gnutls_pk_to_sign(GNUTLS_PK_ECDSA, dig),
		    GNUTLS_VERIFY_ALLOW_BROKEN, &hash, &sig);
		gnutls_free(sig.data);
		break;
	}
	return (rc >= 0);
}

/*
 * The checks every self-signature passes before it is verified: what RNP
 * would reject or read differently makes it RNP's (1).  created is when
 * the key signed was made.
 */
static int
ps_plain(const struct pk_sig *si, uint32_t created, time_t now)
{
	if (ps_digest(si->hashalg) == GNUTLS_DIG_UNKNOWN ||
	    si->created == 0 || si->created < created ||
	    (time_t)si->created > now || si->has_sigexp || si->critical)
		return (1);
	return (0);
}

/*
 * The newest of a run of self-signatures (a UID's, a subkey's, the key's
 * own) is the one RNP reads expiry and key flags from.
 */
struct ps_newest {
	int		 seen;
	uint32_t	 created;
	int		 has_keyexp;
	uint32_t	 keyexp;
	int		 has_flags;
	unsigned	 flags;
};

static void
ps_newer(struct ps_newest *n, const struct pk_sig *si)
{
	if (n->seen && si->created < n->created)
		return;
	n->seen = 1;
	n->created = si->created;
	n->has_keyexp = si->has_keyexp;
	n->keyexp = si->keyexp;
	n->has_flags = si->has_flags;
	n->flags = si->flags;
}

/* Is the key made at created expired by n, its newest signature? */
static int
ps_expired(const struct ps_newest *n, uint32_t created, time_t now)
{
	return (n->seen && n->has_keyexp && n->keyexp != 0 &&
	    (time_t)created + n->keyexp <= now);
}

struct ps_state {
	struct pk_key	*k;
	struct ps_key	 primary;
	time_t		 now;
	/*
	 * RNP reads the primary key's flags and expiry from one of its
	 * newest self-signatures (the direct one's, the primary UID's, the
	 * newest of all): what they say must agree, else RNP decides.
	 */
	int		 pseen;
	unsigned	 pflags;
	int		 expired, notexpired;
	int		 revoked;
};

/* Vote n, the newest of a run of self-signatures on the primary key. */
static int
ps_vote(struct ps_state *st, const struct ps_newest *n)
{
	if (!n->seen)
		return (0);
	if (ps_expired(n, st->k->ctime, st->now))
		st->expired = 1;
	else
		st->notexpired = 1;
	if (!n->has_flags || (st->pseen && st->pflags != n->flags))
		return (1);
	st->pseen = 1;
	st->pflags = n->flags;
	return (0);
}

/* A self-signature: the checks, then verified unless it was before. */
static int
ps_self(struct ps_state *st, struct pk_pkt *sig, const struct pk_sig *si,
    uint32_t created, const struct pk_pkt *what)
{
	if (ps_plain(si, created, st->now))
		return (1);
	if (!sig->checked && !ps_verify(&st->primary, si, &st->k->primary,
	    what))
		return (1);
	return (0);
}

/* The signatures directly on the key: direct-key ones, revocations. */
static int
ps_direct(struct ps_state *st)
{
	struct pk_part		*d = &st->k->direct;
	struct pk_sig		 si;
	struct ps_newest	 n;
	size_t			 i;

	memset(&n, 0, sizeof(n));
	for (i = 0; i < d->nsigs; i++) {
		/* By another key: a designated revoker's, RNP's to judge. */
		if (pk_siginfo(&d->sigs[i], &si) == -1 ||
		    (si.type != SIG_DIRECT && si.type != SIG_KEYREV) ||
		    pk_by_self(st->k, &si) != 1 ||
		    ps_self(st, &d->sigs[i], &si, st->k->ctime, NULL))
			return (1);
		d->sigs[i].checked = 1;
		if (si.type == SIG_KEYREV)
			st->revoked = 1;
		else
			ps_newer(&n, &si);
	}
	return (ps_vote(st, &n));
}

/*
 * One UID's signatures: third-party ones go, self-certifications and
 * revocations stay.  *kind as pgp_classify() has it.
 */
static int
ps_uid(struct ps_state *st, struct pk_part *u, uint32_t *sigtime,
    int *kind)
{
	struct pk_sig		 si;
	struct ps_newest	 n;
	size_t			 i;
	int			 self, revoked = 0;

	memset(&n, 0, sizeof(n));
	if (u->pkt.tag != KS_PKT_UID)
		return (1);
	for (i = 0; i < u->nsigs; i++) {
		if (pk_siginfo(&u->sigs[i], &si) == -1 ||
		    (self = pk_by_self(st->k, &si)) == -1)
			return (1);
		if (!self) {
			u->sigs[i].drop = 1;
			continue;
		}
		if ((si.type < SIG_CERT_FIRST || si.type > SIG_CERT_LAST) &&
		    si.type != SIG_UIDREV)
			return (1);
		if (ps_self(st, &u->sigs[i], &si, st->k->ctime, &u->pkt))
			return (1);
		u->sigs[i].checked = 1;
		if (si.type == SIG_UIDREV)
			revoked = 1;
		else
			ps_newer(&n, &si);
	}
	*sigtime = n.created;
	if (revoked)
		*kind = PGP_UID_REVOKED;
	else if (!n.seen)
		*kind = PGP_UID_INVALID;
	else
		*kind = PGP_UID_OK;
	return (ps_vote(st, &n));
}

/* A signing subkey's binding embeds its primary key binding: check it. */
static int
ps_embedded(struct ps_state *st, const struct pk_part *s,
    const struct pk_sig *bind)
{
	struct pk_pkt	 e;
	struct pk_sig	 si;
	struct ps_key	 sk;
	int		 ok;

	if (bind->embedded == NULL)
		return (1);
	e = (struct pk_pkt){ KS_PKT_SIG, bind->embedded, bind->embeddedlen,
	    0, 0 };
	if (pk_siginfo(&e, &si) == -1 || si.type != SIG_PRIMARY ||
	    si.created == 0 || si.has_sigexp || si.critical ||
	    ps_readkey(s->pkt.body, s->pkt.len, &sk) != 0)
		return (1);
	ok = ps_verify(&sk, &si, &st->k->primary, &s->pkt);
	ps_freekey(&sk);
	return (!ok);
}

/* One subkey's bindings and revocations; *encrypt if it may encrypt. */
static int
ps_sub(struct ps_state *st, struct pk_part *s, int *encrypt)
{
	struct pk_sig		 si;
	struct ps_newest	 n;
	size_t			 i;
	uint32_t		 created;
	int			 revoked = 0;

	if (s->pkt.len < 6 || s->pkt.body[0] != 4)
		return (1);
	created = (uint32_t)s->pkt.body[1] << 24 |
	    (uint32_t)s->pkt.body[2] << 16 | (uint32_t)s->pkt.body[3] << 8 |
	    s->pkt.body[4];
	memset(&n, 0, sizeof(n));
	for (i = 0; i < s->nsigs; i++) {
		if (pk_siginfo(&s->sigs[i], &si) == -1 ||
		    (si.type != SIG_SUBKEY && si.type != SIG_SUBREV) ||
		    pk_by_self(st->k, &si) != 1 ||
		    ps_self(st, &s->sigs[i], &si, created, &s->pkt))
			return (1);
		if (si.type == SIG_SUBREV) {
			revoked = 1;
			s->sigs[i].checked = 1;
			continue;
		}
		ps_newer(&n, &si);
		if (!s->sigs[i].checked && (si.flags & KF_SIGN) &&
		    ps_embedded(st, s, &si))
			return (1);
		s->sigs[i].checked = 1;
	}
	/* Without a binding left the subkey goes (pgp_prune_subkeys()). */
	if (s->nsigs == 0) {
		s->pkt.drop = 1;
		return (0);
	}
	if (!n.seen || !n.has_flags)
		return (1);
	if ((n.flags & KF_ENCRYPT) && !revoked &&
	    !ps_expired(&n, created, st->now))
		*encrypt = 1;
	return (0);
}

/* Fill out's UIDs from k's, as pgp_classify() does from RNP's. */
static int
ps_uids(struct ps_state *st, struct pgp_cert *out)
{
	struct pk_part	*u;
	struct pgp_uid	*pu;
	size_t		 i;

	if (st->k->nuids > 0 && (out->uids = calloc(st->k->nuids,
	    sizeof(*out->uids))) == NULL)
		return (-1);
	out->nuids = st->k->nuids;
	for (i = 0; i < st->k->nuids; i++) {
		u = &st->k->uids[i];
		pu = &out->uids[i];
		if (memchr(u->pkt.body, '\0', u->pkt.len) != NULL)
			return (1);
		if ((pu->text = strndup((const char *)u->pkt.body,
		    u->pkt.len)) == NULL)
			return (-1);
		if (ps_uid(st, u, &pu->sigtime, &pu->kind) != 0)
			return (1);
		/* pgp_merge_rnp() drops those never validly self-signed. */
		if (pu->kind == PGP_UID_INVALID)
			u->pkt.drop = 1;
		(void)pgp_uid_fill(pu);
	}
	return (0);
}

/* Check and clean k into out: 0, 1 (RNP's to do) or -1. */
static int
ps_clean(struct pk_key *k, struct pgp_cert *out)
{
	struct ps_state	 st;
	size_t		 i;
	int		 rc, encrypt = 0;

	memset(&st, 0, sizeof(st));
	st.k = k;
	st.now = time(NULL);
	if (ps_readkey(k->primary.body, k->primary.len, &st.primary) != 0)
		return (1);
	if ((rc = ps_direct(&st)) != 0 || (rc = ps_uids(&st, out)) != 0)
		goto out;
	for (i = 0; i < k->nsubs; i++)
		if ((rc = ps_sub(&st, &k->subs[i], &encrypt)) != 0)
			goto out;
	if ((rc = !st.pseen || (st.expired && st.notexpired)) != 0)
		goto out;
	out->revoked = st.revoked;
	out->expired = st.expired;
	/* Subkeys of an expired or revoked primary aren't valid (RNP). */
	if (st.expired || st.revoked)
		encrypt = 0;
	out->can_encrypt = encrypt || (st.pflags & KF_ENCRYPT) != 0;
	rc = pk_write(k, &out->data, &out->len);
out:
	ps_freekey(&st.primary);
	return (rc);
}

/* Is sig (a packet of the bytes in) one of good (sorted offsets)? */
static int
ps_isgood(const struct pk_pkt *sig, const unsigned char *in,
    const size_t *good, size_t ngood)
{
	size_t	 off = sig->body - in, lo = 0, hi = ngood, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (good[mid] == off)
			return (1);
		if (good[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (0);
}

/* Mark the signatures of part that are in good as checked. */
static void
ps_markgood(struct pk_part *part, const unsigned char *in,
    const size_t *good, size_t ngood)
{
	size_t	 i;

	for (i = 0; i < part->nsigs; i++)
		if (ps_isgood(&part->sigs[i], in, good, ngood))
			part->sigs[i].checked = 1;
}

/* The offsets in in of part's signatures checked, appended to *v. */
static int
ps_addgood(const struct pk_part *part, const unsigned char *in,
    size_t **v, size_t *n)
{
	size_t	*nv, i;

	for (i = 0; i < part->nsigs; i++) {
		if (!part->sigs[i].checked)
			continue;
		if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
			return (-1);
		*v = nv;
		nv[(*n)++] = part->sigs[i].body - in;
	}
	return (0);
}

static int
ps_cmpoff(const void *a, const void *b)
{
	size_t	 x = *(const size_t *)a, y = *(const size_t *)b;

	return (x < y ? -1 : x > y);
}

/* The offsets in in of k's signatures checked, sorted, into *v, *n. */
static int
ps_collect(const struct pk_key *k, const unsigned char *in, size_t **v,
    size_t *n)
{
	size_t	 j;
	int	 rc;

	rc = ps_addgood(&k->direct, in, v, n);
	for (j = 0; j < k->nuids && rc == 0; j++)
		rc = ps_addgood(&k->uids[j], in, v, n);
	for (j = 0; j < k->nsubs && rc == 0; j++)
		rc = ps_addgood(&k->subs[j], in, v, n);
	if (rc == -1) {
		free(*v);
		*v = NULL;
		*n = 0;
		return (-1);
	}
	if (*n > 0)
		qsort(*v, *n, sizeof(**v), ps_cmpoff);
	return (0);
}

/*
 * pgp_merge_fast() with the signatures of in at the offsets good (sorted;
 * pgp_precheck() found them good) taken as checked.  With collect (and
 * stored NULL), the offsets of those checked go into collect's *v, *n.
 */
struct ps_good {
	size_t	*v;
	size_t	 n;
};

static int
ps_merge(const char *fpr, const unsigned char *stored, size_t slen,
    const unsigned char *in, size_t inlen, const size_t *good, size_t ngood,
    struct ps_good *collect, struct pgp_cert *out)
{
	struct pk_key	 s, i;
	size_t		 j, n;
	int		 rc = 1;

	memset(out, 0, sizeof(*out));
	if (snprintf(out->fpr, sizeof(out->fpr), "%s", fpr) >=
	    (int)sizeof(out->fpr))
		return (-1);
	if (pk_parse(in, inlen, &i) == -1)
		return (1);
	if (ngood > 0) {
		ps_markgood(&i.direct, in, good, ngood);
		for (j = 0; j < i.nuids; j++)
			ps_markgood(&i.uids[j], in, good, ngood);
		for (j = 0; j < i.nsubs; j++)
			ps_markgood(&i.subs[j], in, good, ngood);
	}
	if (stored == NULL) {
		s = i;
		memset(&i, 0, sizeof(i));
	} else {
		if (pk_parse(stored, slen, &s) == -1) {
			pk_free(&i);
			return (1);
		}
		/* What is stored was checked when it was imported. */
		for (j = 0; j < s.direct.nsigs; j++)
			s.direct.sigs[j].checked = 1;
		for (j = 0; j < s.nuids; j++)
			for (n = 0; n < s.uids[j].nsigs; n++)
				s.uids[j].sigs[n].checked = 1;
		for (j = 0; j < s.nsubs; j++)
			for (n = 0; n < s.subs[j].nsigs; n++)
				s.subs[j].sigs[n].checked = 1;
		if (pk_merge(&s, &i) == -1)
			goto out;
	}
	if (strcmp(s.fpr, fpr) != 0)
		goto out;
	rc = ps_clean(&s, out);
	if (collect != NULL && stored == NULL &&
	    ps_collect(&s, in, &collect->v, &collect->n) == -1)
		rc = -1;
out:
	pk_free(&s);
	pk_free(&i);
	if (rc != 0)
		pgp_cert_free(out);
	return (rc);
}

int
pgp_merge_fast(const char *fpr, const unsigned char *stored, size_t slen,
    const unsigned char *in, size_t inlen, struct pgp_cert *out)
{
	return (ps_merge(fpr, stored, slen, in, inlen, NULL, 0, NULL, out));
}

int
pgp_merge_cert(struct pgp_cert *in, const unsigned char *stored,
    size_t slen, struct pgp_cert *out)
{
	int	 rc;

	/* Nothing stored: what pgp_precheck() made is the answer. */
	if (stored == NULL && in->pre != NULL) {
		*out = *in->pre;
		free(in->pre);
		in->pre = NULL;
		return (0);
	}
	if ((rc = ps_merge(in->fpr, stored, slen, in->data, in->len, in->good,
	    in->ngood, NULL, out)) != 1)
		return (rc);
	return (pgp_merge_rnp(in->fpr, stored, slen, in->data, in->len, out));
}

/*
 * Merge c alone (as if nothing were stored) into c->pre, and keep the
 * offsets of the signatures found good in c->good for a merge with a
 * stored copy.  What fails here is done again later, with its warnings:
 * this only saves work.  Runs in threads: RNP with an ffi of its own.
 */
void
pk_premerge(struct pgp_cert *c)
{
	struct pgp_cert	 m;
	struct ps_good	 g = { NULL, 0 };
	int		 rc;

	if (c->bare)
		return;
	if ((rc = ps_merge(c->fpr, NULL, 0, c->data, c->len, NULL, 0, &g,
	    &m)) == 1) {
		free(g.v);
		g.v = NULL;
		g.n = 0;
		rc = pgp_merge_rnp(c->fpr, NULL, 0, c->data, c->len, &m);
	}
	c->good = g.v;
	c->ngood = g.n;
	if (rc != 0 || (c->pre = malloc(sizeof(*c->pre))) == NULL) {
		if (rc == 0)
			pgp_cert_free(&m);
		return;
	}
	*c->pre = m;
}
