/*
 * wkdhash.c: the WKD hash (SHA-1 + z-base-32) and the normalisation of
 * domains and mail addresses.  No store needed; used by the daemon on the
 * request path and by wkdctl at import time.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <idn2.h>

#include "keystore.h"
#include "extern.h"

/* RFC 6189 section 5.1.6. */
static const char zb32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

int
ks_zb32_encode(const unsigned char *in, size_t inlen, char *out,
    size_t outsz)
{
	size_t		 bits = inlen * 8, i, o = 0;
	unsigned	 v;

	if (bits % 5 != 0 || outsz < bits / 5 + 1)
		return (KS_INVALID);
	for (i = 0; i < bits; i += 5) {
		/* Five bits starting at bit i, MSB first. */
		v = in[i / 8] << 8;
		if (i / 8 + 1 < inlen)
			v |= in[i / 8 + 1];
		v = (v >> (11 - i % 8)) & 0x1f;
		out[o++] = zb32[v];
	}
	out[o] = '\0';
	return (KS_OK);
}

int
ks_hash_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len != KS_HASH_LEN)
		return (0);
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(zb32, s[i]) == NULL)
			return (0);
	return (1);
}

int
ks_wkd_hash(const char *local, size_t len, char out[KS_HASH_LEN + 1])
{
	unsigned char	 digest[20];
	char		 buf[KS_ADDR_MAX];
	size_t		 i;

	if (len >= sizeof(buf))
		return (KS_INVALID);
	/* Only ASCII A-Z are lowered; other bytes are left as they are. */
	for (i = 0; i < len; i++)
		buf[i] = (local[i] >= 'A' && local[i] <= 'Z') ?
		    local[i] - 'A' + 'a' : local[i];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, len, digest) != 0)
		return (KS_INVALID);
	return (ks_zb32_encode(digest, sizeof(digest), out, KS_HASH_LEN + 1));
}

/* An LDH label (RFC 1123), 1 to 63 octets, no hyphen at either end. */
static int
label_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return (0);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return (0);
	return (1);
}

int
ks_domain_norm(const char *in, char *out, size_t outsz)
{
	char		 buf[KS_DOMAIN_MAX * 4];
	char		*ace = NULL;
	const char	*p, *dot;
	size_t		 len, i;
	int		 ascii = 1;

	len = strlen(in);
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof(buf))
		return (KS_INVALID);
	for (i = 0; i < len; i++) {
		if ((unsigned char)in[i] >= 0x80)
			ascii = 0;
		else if ((unsigned char)in[i] <= 0x20 || in[i] == 0x7f)
			return (KS_INVALID);
	}
	memcpy(buf, in, len);
	buf[len] = '\0';

	if (!ascii) {
		/* UTS #46 mapping (case folding included), then to A-labels. */
		if (idn2_to_ascii_8z(buf, &ace,
		    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
			return (KS_INVALID);
		len = strlen(ace);
		if (len >= sizeof(buf)) {
			idn2_free(ace);
			return (KS_INVALID);
		}
		memcpy(buf, ace, len + 1);
		idn2_free(ace);
	}

	for (i = 0; i < len; i++)
		buf[i] = tolower((unsigned char)buf[i]);
	if (len >= KS_DOMAIN_MAX - 1 || len >= outsz)
		return (KS_INVALID);
	for (p = buf; ; p = dot + 1) {
		dot = strchr(p, '.');
		if (!label_ok(p, dot ? (size_t)(dot - p) : strlen(p)))
			return (KS_INVALID);
		if (dot == NULL)
			break;
	}
	memcpy(out, buf, len + 1);
	return (KS_OK);
}

/*
 * Characters of an unquoted local part (RFC 5322 atext and '.'), plus any
 * octet of a well-formed UTF-8 sequence (RFC 6531).
 */
static int
local_ok(const unsigned char *s, size_t len)
{
	size_t	 i, n;

	if (len == 0 || len > 254 || s[0] == '.' || s[len - 1] == '.')
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] >= 0x80) {
			if ((s[i] & 0xe0) == 0xc0 && s[i] >= 0xc2)
				n = 1;
			else if ((s[i] & 0xf0) == 0xe0)
				n = 2;
			else if ((s[i] & 0xf8) == 0xf0 && s[i] <= 0xf4)
				n = 3;
			else
				return (0);
			if (i + n >= len)
				return (0);
			for (; n > 0; n--)
				if ((s[++i] & 0xc0) != 0x80)
					return (0);
			continue;
		}
		if (isalnum(s[i]))
			continue;
		if (s[i] == '.' && s[i + 1] == '.')
			return (0);
		if (strchr(".!#$%&'*+-/=?^_`{|}~", s[i]) == NULL)
			return (0);
	}
	return (1);
}

int
ks_addr_norm(const char *in, char *out, size_t outsz, char *domain_out,
    size_t domainsz)
{
	char		 dom[KS_DOMAIN_MAX];
	const char	*at;
	size_t		 llen, dlen, i;

	if ((at = strchr(in, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return (KS_INVALID);
	llen = at - in;
	if (!local_ok((const unsigned char *)in, llen))
		return (KS_INVALID);
	if (ks_domain_norm(at + 1, dom, sizeof(dom)) != KS_OK)
		return (KS_INVALID);
	dlen = strlen(dom);
	if (llen + 1 + dlen + 1 > outsz || llen + 1 + dlen + 1 > KS_ADDR_MAX)
		return (KS_INVALID);
	for (i = 0; i < llen; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ?
		    in[i] - 'A' + 'a' : in[i];
	out[llen] = '@';
	memcpy(out + llen + 1, dom, dlen + 1);
	if (domain_out != NULL) {
		if (dlen + 1 > domainsz)
			return (KS_INVALID);
		memcpy(domain_out, dom, dlen + 1);
	}
	return (KS_OK);
}
