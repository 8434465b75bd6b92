/*
 * pgpread.c: reading keys from the operator's input through RNP.  A
 * keyring is cut into keys at each primary key packet (ks_pgp_next()), and
 * each is read on its own, so that a key RNP can't read, a run of garbage
 * or signatures without a key cost only themselves: they are noted with
 * their byte offset.  Only public packets leave; a secret key that can
 * sign makes its revocation certificates here (pgprev.c).
 */

#include <err.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "keystore.h"
#include "wkdctl.h"
#include "pgp.h"

static int
pgp_append(struct pgp_certs *certs, const char *fpr, unsigned char *data,
    size_t len, struct pgp_cert *rev, const char *src, size_t at)
{
	struct pgp_cert	*c, *nv;
	unsigned char	*nd;
	size_t		 i;

	for (i = 0; i < certs->n; i++) {
		c = &certs->v[i];
		if (strcmp(c->fpr, fpr) != 0)
			continue;
		/* The same key twice: concatenate, pgp_merge() merges. */
		if ((nd = realloc(c->data, c->len + len)) == NULL)
			return (-1);
		memcpy(nd + c->len, data, len);
		c->data = nd;
		c->len += len;
		free(data);
		if (c->revoc == NULL && rev->revoc != NULL) {
			c->revoc = rev->revoc;
			c->revoclen = rev->revoclen;
			rev->revoc = NULL;
		}
		if (c->revoc == NULL && c->revnote[0] == '\0')
			memcpy(c->revnote, rev->revnote, sizeof(c->revnote));
		return (0);
	}
	if ((nv = reallocarray(certs->v, certs->n + 1, sizeof(*nv))) == NULL)
		return (-1);
	certs->v = nv;
	c = &certs->v[certs->n];
	memset(c, 0, sizeof(*c));
	if (snprintf(c->fpr, sizeof(c->fpr), "%s", fpr) >=
	    (int)sizeof(c->fpr))
		return (-1);
	c->data = data;
	c->len = len;
	(void)snprintf(c->src, sizeof(c->src), "%s", src);
	c->off = at;
	c->revoc = rev->revoc;
	c->revoclen = rev->revoclen;
	rev->revoc = NULL;
	memcpy(c->revnote, rev->revnote, sizeof(c->revnote));
	certs->n++;
	return (0);
}

static int
pgp_read_one(const char *name, const unsigned char *data, size_t len,
    size_t at, struct pass *pp, struct pgp_certs *certs, char *why,
    size_t whysz)
{
	struct pgp_cert			 rev;
	rnp_ffi_t			 ffi;
	rnp_identifier_iterator_t	 it = NULL;
	rnp_key_handle_t		 key = NULL, pk = NULL;
	rnp_result_t			 r;
	const char			*id;
	char				*pfpr = NULL;
	unsigned char			*buf;
	size_t				 blen, nkeys = 0;
	bool				 primary;
	int				 rc = -1;

	memset(&rev, 0, sizeof(rev));
	if (pgp_ffi(&ffi) == -1) {
		(void)snprintf(why, whysz, "cannot initialise RNP");
		return (-1);
	}
	/* Secret keys stay in this ffi's memory, to sign revocations. */
	if ((r = pgp_load_flags(ffi, data, len, RNP_LOAD_SAVE_PUBLIC_KEYS |
	    RNP_LOAD_SAVE_SECRET_KEYS)) != RNP_SUCCESS) {
		(void)snprintf(why, whysz, "not a valid OpenPGP key at byte "
		    "%zu: %s", at, rnp_result_to_string(r));
		goto out;
	}
	if (rnp_identifier_iterator_create(ffi, &it, "fingerprint") !=
	    RNP_SUCCESS)
		goto fail;
	while (rnp_identifier_iterator_next(it, &id) == RNP_SUCCESS &&
	    id != NULL) {
		if (rnp_locate_key(ffi, "fingerprint", id, &key) !=
		    RNP_SUCCESS || key == NULL)
			goto fail;
		if (rnp_key_is_primary(key, &primary) != RNP_SUCCESS)
			goto fail;
		if (!primary) {
			/* A subkey whose primary key isn't in the input. */
			if (rnp_key_get_primary_fprint(key, &pfpr) !=
			    RNP_SUCCESS || pfpr == NULL ||
			    rnp_locate_key(ffi, "fingerprint", pfpr, &pk) !=
			    RNP_SUCCESS || pk == NULL) {
				(void)snprintf(why, whysz, "subkey %s without "
				    "its primary key", id);
				goto out;
			}
			rnp_key_handle_destroy(pk);
			pk = NULL;
			rnp_buffer_destroy(pfpr);
			pfpr = NULL;
			rnp_key_handle_destroy(key);
			key = NULL;
			continue;
		}
		if (pgp_export(key, &buf, &blen) == -1) {
			(void)snprintf(why, whysz, "key %s: cannot export "
			    "its public part", id);
			goto out;
		}
		if (pgp_revocs(name, key, id, pp, &rev) == -1) {
			(void)snprintf(why, whysz, "key %s: the secret key "
			    "could not be unlocked", id);
			free(buf);
			goto out;
		}
		if (pgp_append(certs, id, buf, blen, &rev, name, at) == -1) {
			free(buf);
			goto fail;
		}
		free(rev.revoc);
		memset(&rev, 0, sizeof(rev));
		nkeys++;
		rnp_key_handle_destroy(key);
		key = NULL;
	}
	if (nkeys == 0) {
		(void)snprintf(why, whysz, "no OpenPGP key at byte %zu", at);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	(void)snprintf(why, whysz, "out of memory or RNP failure");
out:
	free(rev.revoc);
	rnp_buffer_destroy(pfpr);
	pgp_done(ffi, it, key);
	return (rc);
}

/* Note a stretch of input that is no key (why: printf-style). */
static int __attribute__((format(printf, 5, 6)))
pgp_bad(struct pgp_certs *certs, const char *src, size_t at, size_t len,
    const char *fmt, ...)
{
	struct pgp_bad	*nb, *b;
	va_list		 ap;

	if ((nb = reallocarray(certs->bad, certs->nbad + 1,
	    sizeof(*nb))) == NULL)
		return (-1);
	certs->bad = nb;
	b = &certs->bad[certs->nbad++];
	memset(b, 0, sizeof(*b));
	(void)snprintf(b->src, sizeof(b->src), "%s", src);
	b->off = at;
	b->len = len;
	va_start(ap, fmt);
	(void)vsnprintf(b->why, sizeof(b->why), fmt, ap);
	va_end(ap);
	return (0);
}

/*
 * Is the bad packet at p[off] a packet header, only cut short (its tag is
 * one, its length runs past the end)?  Then the input was truncated.
 */
static int
pgp_cut_short(const unsigned char *p, size_t len, size_t off)
{
	unsigned	 tag;

	if ((p[off] & 0x80) == 0)
		return (0);
	tag = (p[off] & 0x40) ? (p[off] & 0x3f) : ((p[off] >> 2) & 0x0f);
	(void)len;
	return (tag != 0 && ((p[off] & 0x40) || (p[off] & 0x03) != 3));
}

/*
 * Where a key may start again after bad framing at or after from: a
 * public or secret key packet header whose body starts with a key version
 * (4, 5, 6).  len if there is none.
 */
static size_t
pgp_resync(const unsigned char *p, size_t len, size_t from)
{
	struct ks_pkt	 pkt;
	size_t		 at, off;

	for (at = from; at < len; at++) {
		off = at;
		if (ks_pgp_next(p, len, &off, &pkt) != 1 ||
		    (pkt.tag != KS_PKT_PUBKEY && pkt.tag != KS_PKT_SECKEY) ||
		    pkt.bodylen == 0 || pkt.body[0] < 4 || pkt.body[0] > 6)
			continue;
		return (at);
	}
	return (len);
}

/*
 * The packets p[from..to) before any key packet, or of a key: read the
 * key, or say why not.  Packets that are only GnuPG's markers and trust
 * packets are nothing to say anything of.
 */
static int
pgp_chunk(const char *name, const unsigned char *p, size_t from, size_t to,
    int haskey, unsigned nsig, struct pass *pp, struct pgp_certs *certs)
{
	char	 why[256];

	if (from == to)
		return (0);
	if (!haskey && nsig == 0)
		return (0);
	if (!haskey)
		return (pgp_bad(certs, name, from, to - from, "%u signature%s "
		    "without a key (a revocation certificate goes to "
		    "\"wkdctl revoke --certificate FILE FPR\")", nsig,
		    nsig == 1 ? "" : "s"));
	why[0] = '\0';
	if (pgp_read_one(name, p + from, to - from, from, pp, certs, why,
	    sizeof(why)) == 0)
		return (0);
	return (pgp_bad(certs, name, from, to - from, "%s", why));
}

/*
 * Cut binary packets p (len bytes) into keys at each primary key packet,
 * and read each one alone, so that one bad key or a run of garbage costs
 * only itself.  Returns 0, or -1 if out of memory.
 */
static int
pgp_split(const char *name, const unsigned char *p, size_t len,
    struct pass *pp, struct pgp_certs *certs)
{
	struct ks_pkt	 pkt;
	size_t		 off = 0, start = 0, re;
	unsigned	 nsig = 0;
	int		 rc, haskey = 0;

	for (;;) {
		if ((rc = ks_pgp_next(p, len, &off, &pkt)) == 0)
			break;
		if (rc != 1) {
			/*
			 * A packet header whose length runs past the end: the
			 * key is cut short, all of it is bad.  Anything else
			 * is no packet: the key before it stands, and what
			 * follows up to the next key is bad.
			 */
			if (!pgp_cut_short(p, len, off)) {
				if (pgp_chunk(name, p, start, off, haskey, nsig,
				    pp, certs) == -1)
					return (-1);
				start = off;
			}
			re = pgp_resync(p, len, off + 1);
			if (pgp_bad(certs, name, start, re - start, "not a "
			    "valid OpenPGP key at byte %zu (bad packet "
			    "framing at byte %zu; %zu bytes skipped)", start,
			    off, re - start) == -1)
				return (-1);
			start = off = re;
			haskey = 0;
			nsig = 0;
			continue;
		}
		if (pkt.tag == KS_PKT_PUBKEY || pkt.tag == KS_PKT_SECKEY) {
			if (pgp_chunk(name, p, start, pkt.off, haskey, nsig,
			    pp, certs) == -1)
				return (-1);
			start = pkt.off;
			haskey = 1;
			nsig = 0;
		} else if (pkt.tag == KS_PKT_SIG)
			nsig++;
	}
	return (pgp_chunk(name, p, start, len, haskey, nsig, pp, certs));
}

int
pgp_read(const char *name, const unsigned char *data, size_t len,
    struct pass *pp, struct pgp_certs *certs)
{
	static const char	 begin[] = "-----BEGIN PGP ";
	const unsigned char	*p, *end;
	unsigned char		*bin;
	size_t			 blen, off, n, block = 0;
	int			 rc;

	if (len == 0) {
		warnx("%s: empty input, no key found", name);
		return (-1);
	}
	if ((data[0] & 0x80) ||
	    (p = memmem(data, len, begin, sizeof(begin) - 1)) == NULL) {
		if (pgp_split(name, data, len, pp, certs) == -1) {
			warn("%s", name);
			return (-1);
		}
		return (0);
	}
	/* Armored: each block on its own (cat of several .asc files). */
	for (off = p - data; off < len; off = end - data) {
		if ((p = memmem(data + off, len - off, begin,
		    sizeof(begin) - 1)) == NULL)
			break;
		block++;
		if ((end = memmem(p + 1, data + len - p - 1, begin,
		    sizeof(begin) - 1)) == NULL)
			end = data + len;
		n = end - p;
		if (pgp_binary(p, n, &bin, &blen) == -1 || blen == 0) {
			if (pgp_bad(certs, name, p - data, n, "armor block "
			    "%zu (at byte %zu): not a valid OpenPGP key: "
			    "its armor can't be decoded", block,
			    (size_t)(p - data)) == -1)
				return (-1);
			continue;
		}
		rc = pgp_split(name, bin, blen, pp, certs);
		io_wipe(bin, blen);
		if (rc == -1) {
			warn("%s", name);
			return (-1);
		}
	}
	return (0);
}
