/*
 * pgpstate.c: a stored key's state (created, expires, revoked and why,
 * algorithm and size, and its subkeys' purposes) read from its packets,
 * without RNP, for the certinfo record: `list` then reads the store and
 * parses nothing (keystore.h, struct ks_keystate).
 *
 * It reads only certificates as the store keeps them: import verified
 * every self-signature in them and dropped the rest (pgpsig.c, or RNP),
 * so no signature is checked here.  What RNP decides from several
 * signatures is read here only when they agree: the primary key's expiry
 * from its direct-key signature and each User ID's newest
 * self-certification (RNP takes one of those), and its revocation from
 * its one revocation, or several alike.  Anything else (another key
 * version, a revocation by another key, signatures that disagree) is not
 * recorded, and `list` asks RNP as before.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "keystore.h"
#include "wkdctl.h"
#include "pgpkey.h"

#define SIG_CERT_FIRST	0x10
#define SIG_CERT_LAST	0x13
#define SIG_SUBKEY	0x18
#define SIG_DIRECT	0x1f
#define SIG_KEYREV	0x20
#define SIG_SUBREV	0x28

/* An elliptic curve's OID (its DER body) and size. */
static const struct {
	const char	*oid;
	size_t		 len;
	uint16_t	 bits;
} pst_curves[] = {
	{ "\x2b\x06\x01\x04\x01\xda\x47\x0f\x01", 9, 255 },	/* Ed25519 */
	{ "\x2b\x06\x01\x04\x01\x97\x55\x01\x05\x01", 10, 255 }, /* X25519 */
	{ "\x2a\x86\x48\xce\x3d\x03\x01\x07", 8, 256 },	/* P-256 */
	{ "\x2b\x81\x04\x00\x22", 5, 384 },			/* P-384 */
	{ "\x2b\x81\x04\x00\x23", 5, 521 },			/* P-521 */
	{ "\x2b\x81\x04\x00\x0a", 5, 256 },			/* secp256k1 */
	{ "\x2b\x24\x03\x03\x02\x08\x01\x01\x07", 9, 256 },	/* brainpool */
	{ "\x2b\x24\x03\x03\x02\x08\x01\x01\x0b", 9, 384 },
	{ "\x2b\x24\x03\x03\x02\x08\x01\x01\x0d", 9, 512 },
};

/* Algorithm, size and creation of a v4 key packet's body. */
static int
pst_keypkt(const struct pk_pkt *p, struct ks_keypart *k)
{
	const unsigned char	*b = p->body;
	size_t			 i;

	if (p->len < 8 || b[0] != 4)
		return (-1);
	k->created = (int64_t)((uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 8 | b[4]);
	k->alg = b[5];
	switch (k->alg) {
	case 1: case 2: case 3: case 16: case 17:	/* RSA, Elgamal, DSA */
		k->bits = (uint16_t)(b[6] << 8 | b[7]);
		break;
	case 18: case 19: case 22:			/* ECDH, ECDSA, EdDSA */
		for (i = 0; i < sizeof(pst_curves) / sizeof(pst_curves[0]);
		    i++)
			if (b[6] == pst_curves[i].len && p->len > 7 +
			    pst_curves[i].len && memcmp(b + 7,
			    pst_curves[i].oid, pst_curves[i].len) == 0)
				k->bits = pst_curves[i].bits;
		break;
	}
	return (0);
}

/* The newest of a run of self-signatures, as pgpsig.c's ps_newest. */
struct pst_newest {
	int		 seen;
	uint32_t	 created;
	uint32_t	 keyexp;	/* 0: none. */
	unsigned	 flags;
};

static void
pst_newer(struct pst_newest *n, const struct pk_sig *si)
{
	if (n->seen && si->created < n->created)
		return;
	n->seen = 1;
	n->created = si->created;
	n->keyexp = si->has_keyexp ? si->keyexp : 0;
	n->flags = si->has_flags ? si->flags : 0;
}

/* The primary key's signatures: 0, or 1 if RNP is to decide. */
static int
pst_primary(struct pk_key *k, struct ks_keystate *st)
{
	struct pst_newest	 n, vote;
	struct pk_sig		 si;
	size_t			 i, j;
	int			 nrev = 0, self;

	memset(&vote, 0, sizeof(vote));
	memset(&n, 0, sizeof(n));
	for (i = 0; i < k->direct.nsigs; i++) {
		if (pk_siginfo(&k->direct.sigs[i], &si) == -1 ||
		    pk_by_self(k, &si) != 1)
			return (1);
		if (si.type == SIG_DIRECT)
			pst_newer(&n, &si);
		else if (si.type != SIG_KEYREV)
			return (1);
		else if (si.reason_textlen >= sizeof(st->reason_text) ||
		    (nrev > 0 && ((unsigned)st->reason != (si.has_reason ?
		    si.reason : 0) || strlen(st->reason_text) !=
		    si.reason_textlen || memcmp(st->reason_text,
		    si.reason_text, si.reason_textlen) != 0)))
			return (1);
		else {
			nrev++;
			st->reason = si.has_reason ? si.reason : 0;
			memcpy(st->reason_text, si.reason_text,
			    si.reason_textlen);
			st->reason_text[si.reason_textlen] = '\0';
		}
	}
	st->primary.revoked = nrev > 0;
	if (n.seen)
		vote = n;
	for (i = 0; i < k->nuids; i++) {
		memset(&n, 0, sizeof(n));
		for (j = 0; j < k->uids[i].nsigs; j++) {
			if (pk_siginfo(&k->uids[i].sigs[j], &si) == -1 ||
			    (self = pk_by_self(k, &si)) == -1)
				return (1);
			if (self && si.type >= SIG_CERT_FIRST &&
			    si.type <= SIG_CERT_LAST)
				pst_newer(&n, &si);
		}
		if (!n.seen)
			continue;
		if (vote.seen && vote.keyexp != n.keyexp)
			return (1);
		if (!vote.seen || n.created > vote.created)
			vote = n;
	}
	if (!vote.seen)
		return (1);
	st->primary.expires = vote.keyexp != 0 ?
	    st->primary.created + vote.keyexp : 0;
	st->primary.usage = vote.flags;
	return (0);
}

/* A subkey's part, from its newest binding; 0, 1 (none: left out). */
static int
pst_sub(struct pk_key *k, const struct pk_part *s, struct ks_keypart *p)
{
	struct pst_newest	 n;
	struct pk_sig		 si;
	unsigned char		 keyid[8];
	size_t			 i;

	memset(&n, 0, sizeof(n));
	if (s->pkt.tag != KS_PKT_PUBSUB || pst_keypkt(&s->pkt, p) == -1 ||
	    pk_fpr(s->pkt.body, s->pkt.len, p->fpr, keyid) == -1)
		return (1);
	for (i = 0; i < s->nsigs; i++) {
		if (pk_siginfo(&s->sigs[i], &si) == -1 ||
		    pk_by_self(k, &si) != 1)
			continue;
		if (si.type == SIG_SUBKEY)
			pst_newer(&n, &si);
		else if (si.type == SIG_SUBREV)
			p->revoked = 1;
	}
	if (!n.seen)
		return (1);
	p->expires = n.keyexp != 0 ? p->created + n.keyexp : 0;
	p->usage = n.flags;
	return (0);
}

int
pgp_state(const unsigned char *data, size_t len, struct ks_keystate *st)
{
	struct pk_key	 k;
	size_t		 i;
	int		 rc = 1;

	memset(st, 0, sizeof(*st));
	if (pk_parse(data, len, &k) == -1)
		return (1);
	if (pst_keypkt(&k.primary, &st->primary) == -1 ||
	    pst_primary(&k, st) != 0)
		goto out;
	for (i = 0; i < k.nsubs && st->nsub < KS_SUBKEY_MAX; i++)
		if (pst_sub(&k, &k.subs[i], &st->sub[st->nsub]) == 0)
			st->nsub++;
		else
			memset(&st->sub[st->nsub], 0, sizeof(st->sub[0]));
	st->known = 1;
	rc = 0;
out:
	pk_free(&k);
	if (rc != 0)
		memset(st, 0, sizeof(*st));
	return (rc);
}
