/*
 * pgp.c: OpenPGP packet framing (RFC 4880 section 4.2), without any
 * cryptography.  The store uses it to keep its invariant: only complete
 * packets, and never a secret-key packet.
 */
#include <stddef.h>
#include <string.h>

#include "keystore.h"
#include "extern.h"

#define TAG_SECRET_KEY		5
#define TAG_SECRET_SUBKEY	7

int
ks_pgp_scan(const unsigned char *p, size_t len, unsigned counts[64])
{
	size_t		 off = 0, blen;
	unsigned	 tag;
	int		 secret = 0;

	if (counts != NULL)
		memset(counts, 0, 64 * sizeof(counts[0]));
	if (len == 0)
		return (KS_INVALID);
	while (off < len) {
		if ((p[off] & 0x80) == 0)
			return (KS_INVALID);
		if (p[off] & 0x40) {
			/* New format. */
			tag = p[off++] & 0x3f;
			if (off >= len)
				return (KS_INVALID);
			if (p[off] < 192) {
				blen = p[off++];
			} else if (p[off] < 224) {
				if (len - off < 2)
					return (KS_INVALID);
				blen = ((size_t)(p[off] - 192) << 8) +
				    p[off + 1] + 192;
				off += 2;
			} else if (p[off] == 255) {
				if (len - off < 5)
					return (KS_INVALID);
				blen = (size_t)p[off + 1] << 24 |
				    (size_t)p[off + 2] << 16 |
				    (size_t)p[off + 3] << 8 | p[off + 4];
				off += 5;
			} else {
				/* Partial lengths: not in key material. */
				return (KS_INVALID);
			}
		} else {
			/* Old format. */
			tag = (p[off] >> 2) & 0x0f;
			switch (p[off++] & 0x03) {
			case 0:
				if (len - off < 1)
					return (KS_INVALID);
				blen = p[off];
				off += 1;
				break;
			case 1:
				if (len - off < 2)
					return (KS_INVALID);
				blen = (size_t)p[off] << 8 | p[off + 1];
				off += 2;
				break;
			case 2:
				if (len - off < 4)
					return (KS_INVALID);
				blen = (size_t)p[off] << 24 |
				    (size_t)p[off + 1] << 16 |
				    (size_t)p[off + 2] << 8 | p[off + 3];
				off += 4;
				break;
			default:
				/* Indeterminate length. */
				return (KS_INVALID);
			}
		}
		if (tag == 0 || blen > len - off)
			return (KS_INVALID);
		if (tag == TAG_SECRET_KEY || tag == TAG_SECRET_SUBKEY)
			secret = 1;
		if (counts != NULL)
			counts[tag]++;
		off += blen;
	}
	return (secret ? KS_SECRET : KS_OK);
}
