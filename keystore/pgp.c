/*
 * pgp.c: OpenPGP packet framing (RFC 4880 section 4.2), without any
 * cryptography.  The store uses it to keep its invariant: only complete
 * packets, and never a secret-key packet; wkdctl uses it to cut a keyring
 * into keys.
 */
#include <stddef.h>
#include <string.h>

#include "keystore.h"
#include "extern.h"

/* A big-endian length of n (1, 2 or 4) bytes at p. */
static size_t
pgp_be(const unsigned char *p, size_t n)
{
	size_t	 v = 0, i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return (v);
}

int
ks_pgp_next(const unsigned char *p, size_t len, size_t *offp,
    struct ks_pkt *pkt)
{
	size_t		 off = *offp, n, blen;
	unsigned	 tag;

	memset(pkt, 0, sizeof(*pkt));
	if (off >= len)
		return (0);
	if ((p[off] & 0x80) == 0)
		return (KS_INVALID);
	if (p[off] & 0x40) {
		/* New format. */
		tag = p[off] & 0x3f;
		if (len - off < 2)
			return (KS_INVALID);
		if (p[off + 1] < 192) {
			n = 1;
			blen = p[off + 1];
		} else if (p[off + 1] < 224) {
			if (len - off < 3)
				return (KS_INVALID);
			n = 2;
			blen = ((size_t)(p[off + 1] - 192) << 8) +
			    p[off + 2] + 192;
		} else if (p[off + 1] == 255) {
			if (len - off < 6)
				return (KS_INVALID);
			n = 5;
			blen = pgp_be(p + off + 2, 4);
		} else
			return (KS_INVALID);	/* Partial: not in keys. */
	} else {
		/* Old format; length type 3 (indeterminate) refused. */
		tag = (p[off] >> 2) & 0x0f;
		if ((p[off] & 0x03) == 3)
			return (KS_INVALID);
		n = (size_t)1 << (p[off] & 0x03);
		if (len - off < 1 + n)
			return (KS_INVALID);
		blen = pgp_be(p + off + 1, n);
	}
	/* Either way the header is the tag byte and n length bytes. */
	if (tag == 0 || blen > len - off - 1 - n)
		return (KS_INVALID);
	pkt->tag = tag;
	pkt->off = off;
	pkt->hdrlen = 1 + n;
	pkt->body = p + off + 1 + n;
	pkt->bodylen = blen;
	*offp = off + 1 + n + blen;
	return (1);
}

int
ks_pgp_scan(const unsigned char *p, size_t len, unsigned counts[64])
{
	struct ks_pkt	 pkt;
	size_t		 off = 0;
	int		 rc, secret = 0;

	if (counts != NULL)
		memset(counts, 0, 64 * sizeof(counts[0]));
	if (len == 0)
		return (KS_INVALID);
	while ((rc = ks_pgp_next(p, len, &off, &pkt)) == 1) {
		if (pkt.tag == KS_PKT_SECKEY || pkt.tag == KS_PKT_SECSUB)
			secret = 1;
		if (counts != NULL)
			counts[pkt.tag]++;
	}
	if (rc != 0)
		return (KS_INVALID);
	return (secret ? KS_SECRET : KS_OK);
}

int
ks_uid_addr(const char *uid, size_t len, char *out, size_t outsz)
{
	const char	*lt, *gt;
	char		 spec[KS_ADDR_MAX];
	size_t		 n;

	/*
	 * As gpg's mailbox_from_userid(), since gpg is the client that
	 * checks it: the text (up to a NUL) between the first '<' and the
	 * next '>', or a bare addr-spec.
	 */
	len = strnlen(uid, len);
	if ((lt = memchr(uid, '<', len)) != NULL) {
		if ((gt = memchr(lt, '>', len - (lt - uid))) == NULL)
			return (KS_INVALID);
		lt++;
		n = gt - lt;
	} else {
		lt = uid;
		n = len;
		if (memchr(uid, ' ', len) != NULL ||
		    memchr(uid, '\t', len) != NULL)
			return (KS_INVALID);
	}
	if (n == 0 || n >= sizeof(spec))
		return (KS_INVALID);
	memcpy(spec, lt, n);
	spec[n] = '\0';
	if (strchr(spec, '<') != NULL || strchr(spec, '>') != NULL)
		return (KS_INVALID);
	return (ks_addr_norm(spec, out, outsz, NULL, 0));
}
