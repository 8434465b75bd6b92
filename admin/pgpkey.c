/*
 * pgpkey.c: a v4 key as packets (pgpkey.h).  What RNP does to a key's
 * structure on import and export, done with the packet walker: group the
 * packets by what they belong to, merge a second copy, drop what is not
 * kept, and write the rest with new-format headers as RNP writes them, so
 * that a key cleaned here is byte for byte the key RNP would have cleaned.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "keystore.h"
#include "pgpkey.h"

#define PK_PKT_MARKER	10

static uint32_t
be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static int
pk_same(const struct pk_pkt *a, const struct pk_pkt *b)
{
	return (a->tag == b->tag && a->len == b->len &&
	    memcmp(a->body, b->body, a->len) == 0);
}

int
pk_fpr(const unsigned char *body, size_t len, char out[41],
    unsigned char keyid[8])
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		*buf, md[20];
	size_t			 i;
	int			 rc;

	if (len > 0xffff || (buf = malloc(len + 3)) == NULL)
		return (-1);
	buf[0] = 0x99;
	buf[1] = len >> 8;
	buf[2] = len & 0xff;
	memcpy(buf + 3, body, len);
	rc = gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, len + 3, md);
	free(buf);
	if (rc != 0)
		return (-1);
	for (i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[40] = '\0';
	memcpy(keyid, md + 12, 8);
	return (0);
}

/* Add sig to part unless the same signature is there (RNP's merge). */
static int
pk_addsig(struct pk_part *part, const struct pk_pkt *sig)
{
	struct pk_pkt	*nv;
	size_t		 i;

	for (i = 0; i < part->nsigs; i++)
		if (pk_same(&part->sigs[i], sig))
			return (0);
	if ((nv = reallocarray(part->sigs, part->nsigs + 1,
	    sizeof(*nv))) == NULL)
		return (-1);
	part->sigs = nv;
	part->sigs[part->nsigs++] = *sig;
	return (0);
}

/* The index of the part in *v matching pkt, added if new; or -1. */
static ssize_t
pk_addpart(struct pk_part **v, size_t *n, const struct pk_pkt *pkt)
{
	struct pk_part	*nv;
	size_t		 i;

	for (i = 0; i < *n; i++)
		if (pk_same(&(*v)[i].pkt, pkt))
			return ((ssize_t)i);
	if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
		return (-1);
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	nv[*n].pkt = *pkt;
	return ((ssize_t)(*n)++);
}

void
pk_free(struct pk_key *k)
{
	size_t	 i;

	free(k->direct.sigs);
	for (i = 0; i < k->nuids; i++)
		free(k->uids[i].sigs);
	free(k->uids);
	for (i = 0; i < k->nsubs; i++)
		free(k->subs[i].sigs);
	free(k->subs);
	memset(k, 0, sizeof(*k));
}

int
pk_parse(const unsigned char *data, size_t len, struct pk_key *k)
{
	struct ks_pkt	 p;
	struct pk_pkt	 pk;
	struct pk_part	*part = NULL;
	size_t		 off = 0;
	ssize_t		 i;
	int		 rc, insub = 0;

	memset(k, 0, sizeof(*k));
	if (ks_pgp_next(data, len, &off, &p) != 1 ||
	    p.tag != KS_PKT_PUBKEY || p.bodylen < 6 || p.body[0] != 4)
		return (-1);
	k->primary = (struct pk_pkt){ p.tag, p.body, p.bodylen, 0, 0 };
	k->ctime = be32(p.body + 1);
	if (pk_fpr(p.body, p.bodylen, k->fpr, k->keyid) == -1)
		return (-1);
	part = &k->direct;
	while ((rc = ks_pgp_next(data, len, &off, &p)) == 1) {
		pk = (struct pk_pkt){ p.tag, p.body, p.bodylen, 0, 0 };
		switch (p.tag) {
		case KS_PKT_SIG:
			if (pk_addsig(part, &pk) == -1)
				goto fail;
			break;
		case KS_PKT_UID:
		case KS_PKT_ATTR:
			/* After a subkey: not as RFC 4880 11.1 has it. */
			if (insub || (i = pk_addpart(&k->uids, &k->nuids,
			    &pk)) == -1)
				goto fail;
			part = &k->uids[i];
			break;
		case KS_PKT_PUBSUB:
			if ((i = pk_addpart(&k->subs, &k->nsubs, &pk)) == -1)
				goto fail;
			part = &k->subs[i];
			insub = 1;
			break;
		case KS_PKT_PUBKEY:
			/* The same key again (a keyring with it twice). */
			if (!pk_same(&pk, &k->primary))
				goto fail;
			part = &k->direct;
			insub = 0;
			break;
		case KS_PKT_TRUST:
		case PK_PKT_MARKER:
			break;
		default:
			goto fail;
		}
	}
	if (rc == 0)
		return (0);
fail:
	pk_free(k);
	return (-1);
}

static int
pk_mergepart(struct pk_part *into, const struct pk_part *from)
{
	size_t	 i;

	for (i = 0; i < from->nsigs; i++)
		if (pk_addsig(into, &from->sigs[i]) == -1)
			return (-1);
	return (0);
}

int
pk_merge(struct pk_key *into, const struct pk_key *from)
{
	size_t	 i;
	ssize_t	 j;

	if (!pk_same(&into->primary, &from->primary) ||
	    pk_mergepart(&into->direct, &from->direct) == -1)
		return (-1);
	for (i = 0; i < from->nuids; i++)
		if ((j = pk_addpart(&into->uids, &into->nuids,
		    &from->uids[i].pkt)) == -1 ||
		    pk_mergepart(&into->uids[j], &from->uids[i]) == -1)
			return (-1);
	for (i = 0; i < from->nsubs; i++)
		if ((j = pk_addpart(&into->subs, &into->nsubs,
		    &from->subs[i].pkt)) == -1 ||
		    pk_mergepart(&into->subs[j], &from->subs[i]) == -1)
			return (-1);
	return (0);
}

/* A new-format packet (RFC 4880 4.2.2) at out, or its size if NULL. */
static size_t
pk_put(unsigned char *out, const struct pk_pkt *p)
{
	size_t	 n = p->len, h;

	h = n < 192 ? 2 : n < 8384 ? 3 : 6;
	if (out == NULL)
		return (h + n);
	out[0] = 0xc0 | p->tag;
	if (n < 192)
		out[1] = n;
	else if (n < 8384) {
		out[1] = ((n - 192) >> 8) + 192;
		out[2] = (n - 192) & 0xff;
	} else {
		out[1] = 0xff;
		out[2] = n >> 24;
		out[3] = (n >> 16) & 0xff;
		out[4] = (n >> 8) & 0xff;
		out[5] = n & 0xff;
	}
	memcpy(out + h, p->body, n);
	return (h + n);
}

static size_t
pk_putpart(unsigned char *out, const struct pk_part *part, int withpkt)
{
	size_t	 i, n = 0;

	if (withpkt) {
		if (part->pkt.drop)
			return (0);
		n += pk_put(out, &part->pkt);
	}
	for (i = 0; i < part->nsigs; i++)
		if (!part->sigs[i].drop)
			n += pk_put(out != NULL ? out + n : NULL,
			    &part->sigs[i]);
	return (n);
}

/* k's packets at out (NULL: just the size). */
static size_t
pk_putkey(unsigned char *out, const struct pk_key *k)
{
	size_t	 i, n;

	n = pk_put(out, &k->primary);
	n += pk_putpart(out != NULL ? out + n : NULL, &k->direct, 0);
	for (i = 0; i < k->nuids; i++)
		n += pk_putpart(out != NULL ? out + n : NULL, &k->uids[i], 1);
	for (i = 0; i < k->nsubs; i++)
		n += pk_putpart(out != NULL ? out + n : NULL, &k->subs[i], 1);
	return (n);
}

int
pk_write(const struct pk_key *k, unsigned char **outp, size_t *lenp)
{
	size_t	 n = pk_putkey(NULL, k);

	if ((*outp = malloc(n)) == NULL)
		return (-1);
	*lenp = pk_putkey(*outp, k);
	return (0);
}

/* Subpacket types (RFC 4880 5.2.3.1) the checks read or allow. */
#define SP_CREATED	2
#define SP_SIGEXP	3
#define SP_KEYEXP	9
#define SP_ISSUER	16
#define SP_FLAGS	27
#define SP_REASON	29
#define SP_EMBEDDED	32
#define SP_ISSUER_FPR	33

/* May a self-signature carry subpacket type critical?  RNP reads these. */
static int
pk_known(unsigned type)
{
	switch (type) {
	case 2: case 4: case 5: case 7: case 9: case 11: case 12: case 16:
	case 21: case 22: case 23: case 25: case 27: case 30: case 33:
		return (1);
	}
	return (0);
}

static int
pk_subpackets(const unsigned char *p, size_t len, int hashed,
    struct pk_sig *si)
{
	size_t		 off = 0, n;
	unsigned	 type;
	const unsigned char *d;

	while (off < len) {
		if (p[off] < 192)
			n = p[off++];
		else if (p[off] < 255) {
			if (off + 2 > len)
				return (-1);
			n = ((size_t)(p[off] - 192) << 8) + p[off + 1] + 192;
			off += 2;
		} else {
			if (off + 5 > len)
				return (-1);
			n = be32(p + off + 1);
			off += 5;
		}
		if (n == 0 || n > len - off)
			return (-1);
		type = p[off] & 0x7f;
		if ((p[off] & 0x80) && !pk_known(type))
			si->critical = 1;
		d = p + off + 1;
		n--;
		off += n + 1;
		if (type == SP_ISSUER && n == 8)
			si->issuer = d;
		else if (type == SP_ISSUER_FPR && n == 21 && d[0] == 4)
			si->issuer_fpr = d + 1;
		else if (type == SP_EMBEDDED) {
			si->embedded = d;
			si->embeddedlen = n;
		}
		if (!hashed)
			continue;
		if (type == SP_CREATED && n == 4)
			si->created = be32(d);
		else if (type == SP_SIGEXP)
			si->has_sigexp = 1;
		else if (type == SP_KEYEXP && n == 4) {
			si->has_keyexp = 1;
			si->keyexp = be32(d);
		} else if (type == SP_FLAGS && n >= 1) {
			si->has_flags = 1;
			si->flags = d[0];
		} else if (type == SP_REASON && n >= 1) {
			si->has_reason = 1;
			si->reason = d[0];
			si->reason_text = d + 1;
			si->reason_textlen = n - 1;
		}
	}
	return (0);
}

int
pk_siginfo(const struct pk_pkt *sig, struct pk_sig *si)
{
	const unsigned char	*b = sig->body;
	size_t			 hl, ul, len = sig->len;

	memset(si, 0, sizeof(*si));
	if (len < 10 || b[0] != 4)
		return (-1);
	si->type = b[1];
	si->pkalg = b[2];
	si->hashalg = b[3];
	hl = (size_t)b[4] << 8 | b[5];
	if (6 + hl + 2 > len)
		return (-1);
	ul = (size_t)b[6 + hl] << 8 | b[7 + hl];
	if (8 + hl + ul + 2 > len)
		return (-1);
	si->hashed = b;
	si->hashedlen = 6 + hl;
	si->left16 = b + 8 + hl + ul;
	si->mpis = si->left16 + 2;
	si->mpislen = len - (8 + hl + ul + 2);
	if (pk_subpackets(b + 6, hl, 1, si) == -1 ||
	    pk_subpackets(b + 8 + hl, ul, 0, si) == -1)
		return (-1);
	return (0);
}

int
pk_by_self(const struct pk_key *k, const struct pk_sig *si)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i;

	if (si->issuer_fpr != NULL) {
		for (i = 0; i < 20; i++)
			if (k->fpr[2 * i] != hex[si->issuer_fpr[i] >> 4] ||
			    k->fpr[2 * i + 1] != hex[si->issuer_fpr[i] & 0xf])
				return (0);
		return (1);
	}
	if (si->issuer != NULL)
		return (memcmp(si->issuer, k->keyid, 8) == 0);
	return (-1);
}
