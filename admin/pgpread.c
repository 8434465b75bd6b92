/*
 * pgpread.c: reading keys from the operator's input through RNP.  A
 * keyring is cut into keys at each primary key packet (ks_pgp_next()), and
 * each is read on its own, so that a key RNP can't read, a run of garbage
 * or signatures without a key cost only themselves: they are noted with
 * their byte offset.  Only public packets leave; a secret key that can
 * sign makes its revocation certificates here (pgprev.c).
 */

#include <err.h>
#include <errno.h>
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
#include "pgpkey.h"

/*
 * Leave out of k what is never stored: user attributes, third-party
 * certifications and signatures on the key (but a revocation, which a
 * designated revoker may make), and with certs->hosted the UIDs of
 * domains not hosted, whose texts go into *offp (a NULL entry for the
 * user attributes); *keptp counts the UIDs kept.  Nothing here needs a
 * signature checked.  0, or -1 if out of memory.
 */
static int
pgp_trim(const struct pgp_certs *certs, struct pk_key *k, char ***offp,
    size_t *noffp, size_t *keptp)
{
	struct pk_part	*u;
	struct pk_sig	 si;
	char		*text, addr[KS_ADDR_MAX], **nv;
	const char	*at;
	size_t		 i, j;
	int		 attr = 0;

	for (i = 0; i < k->direct.nsigs; i++)
		if (pk_siginfo(&k->direct.sigs[i], &si) == 0 &&
		    si.type != 0x20 && pk_by_self(k, &si) == 0)
			k->direct.sigs[i].drop = 1;
	for (i = 0; i < k->nuids; i++) {
		u = &k->uids[i];
		text = NULL;
		if (u->pkt.tag == KS_PKT_ATTR) {
			u->pkt.drop = 1;
			/* One NULL entry stands for them all. */
			if (attr++ > 0)
				continue;
			goto off;
		}
		for (j = 0; j < u->nsigs; j++)
			if (pk_siginfo(&u->sigs[j], &si) == 0 &&
			    pk_by_self(k, &si) == 0)
				u->sigs[j].drop = 1;
		if (certs->hosted == NULL) {
			(*keptp)++;
			continue;
		}
		if ((text = strndup((const char *)u->pkt.body,
		    u->pkt.len)) == NULL)
			return (-1);
		if (strlen(text) == u->pkt.len &&
		    pgp_uid_addr(text, addr, sizeof(addr)) == 0 &&
		    (at = strrchr(addr, '@')) != NULL &&
		    certs->hosted(at + 1, certs->hosted_arg)) {
			free(text);
			(*keptp)++;
			continue;
		}
		u->pkt.drop = 1;
off:
		if ((nv = reallocarray(*offp, *noffp + 1,
		    sizeof(*nv))) == NULL) {
			free(text);
			return (-1);
		}
		*offp = nv;
		nv[(*noffp)++] = text;
	}
	return (0);
}

/*
 * data (public packets of key fpr) trimmed by pgp_trim() into *outp
 * (malloc(3)ed; data itself if the walker can't read it: RNP cleans it
 * later); *barep says whether trimming left no UID.  0 or -1.
 */
static int
pgp_trimmed(const struct pgp_certs *certs, const char *fpr,
    unsigned char *data, size_t len, unsigned char **outp, size_t *lenp,
    char ***offp, size_t *noffp, int *barep)
{
	struct pk_key	 k;
	size_t		 kept = 0;
	int		 rc;

	*outp = data;
	*lenp = len;
	*barep = 0;
	if (pk_parse(data, len, &k) == -1)
		return (0);
	if (strcmp(k.fpr, fpr) != 0) {
		pk_free(&k);
		return (0);
	}
	if ((rc = pgp_trim(certs, &k, offp, noffp, &kept)) == 0 &&
	    (rc = pk_write(&k, outp, lenp)) == 0)
		free(data);
	pk_free(&k);
	if (rc == -1)
		*outp = data;
	else
		*barep = kept == 0;
	return (rc);
}

/* Add the texts off (noff of them) to c's, each once. */
static int
pgp_offsite(struct pgp_cert *c, char **off, size_t noff)
{
	char	**nv;
	size_t	 i, j;

	for (i = 0; i < noff; i++) {
		for (j = 0; j < c->noffsite; j++)
			if (c->offsite[j] == NULL ? off[i] == NULL :
			    off[i] != NULL &&
			    strcmp(c->offsite[j], off[i]) == 0)
				break;
		if (j < c->noffsite) {
			free(off[i]);
			off[i] = NULL;
			continue;
		}
		if ((nv = reallocarray(c->offsite, c->noffsite + 1,
		    sizeof(*nv))) == NULL)
			return (-1);
		c->offsite = nv;
		nv[c->noffsite++] = off[i];
		off[i] = NULL;
	}
	return (0);
}

/*
 * Add key fpr (data: its public packets, len bytes, which this takes
 * over) to certs, trimmed (pgp_trimmed()); rev's revocations move to it.
 * 0, or -1 if out of memory.
 */
static int
pgp_append(struct pgp_certs *certs, const char *fpr, unsigned char *data,
    size_t len, struct pgp_cert *rev, const char *src, size_t at)
{
	struct pgp_cert	*c = NULL, *nv;
	unsigned char	*nd;
	char		**off = NULL;
	size_t		 i, noff = 0;
	int		 rc = -1, bare;

	if (pgp_trimmed(certs, fpr, data, len, &data, &len, &off,
	    &noff, &bare) == -1)
		goto out;
	for (i = 0; i < certs->n && c == NULL; i++)
		if (strcmp(certs->v[i].fpr, fpr) == 0)
			c = &certs->v[i];
	if (c != NULL) {
		/* The same key twice: concatenate, pgp_merge() merges. */
		if ((nd = realloc(c->data, c->len + len)) == NULL)
			goto out;
		memcpy(nd + c->len, data, len);
		c->data = nd;
		c->len += len;
		c->bare = c->bare && bare;
		if (c->revoc == NULL && rev->revoc != NULL) {
			c->revoc = rev->revoc;
			c->revoclen = rev->revoclen;
			rev->revoc = NULL;
		}
		if (c->revoc == NULL && c->revnote[0] == '\0')
			memcpy(c->revnote, rev->revnote, sizeof(c->revnote));
		rc = pgp_offsite(c, off, noff);
		goto out;
	}
	if ((nv = reallocarray(certs->v, certs->n + 1, sizeof(*nv))) == NULL)
		goto out;
	certs->v = nv;
	c = &certs->v[certs->n];
	memset(c, 0, sizeof(*c));
	if (snprintf(c->fpr, sizeof(c->fpr), "%s", fpr) >=
	    (int)sizeof(c->fpr))
		goto out;
	c->data = data;
	data = NULL;
	c->len = len;
	c->bare = bare;
	(void)snprintf(c->src, sizeof(c->src), "%s", src);
	c->off = at;
	c->revoc = rev->revoc;
	c->revoclen = rev->revoclen;
	rev->revoc = NULL;
	memcpy(c->revnote, rev->revnote, sizeof(c->revnote));
	certs->n++;
	rc = pgp_offsite(c, off, noff);
out:
	free(data);
	for (i = 0; i < noff; i++)
		free(off[i]);
	free(off);
	return (rc);
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
		if (pgp_append(certs, id, buf, blen, &rev, name, at) == -1)
			goto fail;
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

/*
 * A key with only public packets, read by the walker: what RNP would
 * load and export, without RNP.  0, 1 if it is RNP's to read (a secret
 * key, or anything the walker doesn't read), or -1 if out of memory.
 */
static int
pgp_read_fast(const char *name, const unsigned char *data, size_t len,
    size_t at, struct pgp_certs *certs)
{
	struct pgp_cert	 rev;
	struct pk_key	 k;
	unsigned char	*buf;
	size_t		 blen;
	int		 rc;

	if (ks_pgp_scan(data, len, NULL) != KS_OK ||
	    pk_parse(data, len, &k) == -1)
		return (1);
	rc = pk_write(&k, &buf, &blen);
	memset(&rev, 0, sizeof(rev));
	if (rc == 0)
		rc = pgp_append(certs, k.fpr, buf, blen, &rev, name, at);
	pk_free(&k);
	if (rc == 0)
		certs->nfast++;
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
	size_t	 at = certs->base + from;

	if (from == to)
		return (0);
	if (!haskey && nsig == 0)
		return (0);
	if (!haskey)
		return (pgp_bad(certs, name, at, to - from, "%u signature%s "
		    "without a key (a revocation certificate goes to "
		    "\"wkdctl revoke --certificate FILE FPR\")", nsig,
		    nsig == 1 ? "" : "s"));
	why[0] = '\0';
	switch (pgp_read_fast(name, p + from, to - from, at, certs)) {
	case 0:
		return (0);
	case -1:
		return (-1);
	}
	if (pgp_read_one(name, p + from, to - from, at, pp, certs, why,
	    sizeof(why)) == 0)
		return (0);
	return (pgp_bad(certs, name, at, to - from, "%s", why));
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
			if (pgp_bad(certs, name, certs->base + start,
			    re - start, "not a valid OpenPGP key at byte %zu "
			    "(bad packet framing at byte %zu; %zu bytes "
			    "skipped)", certs->base + start, certs->base + off,
			    re - start) == -1)
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

void
pgp_stream_init(struct pgp_stream *st, const char *name, int fd)
{
	memset(st, 0, sizeof(*st));
	st->name = name;
	st->fd = fd;
}

void
pgp_stream_free(struct pgp_stream *st)
{
	io_wipe(st->buf, st->cap);
	st->buf = NULL;
	st->len = st->cap = 0;
}

/* Read up to PGP_STREAM_CHUNK more bytes into st: 0, or -1 (warned). */
static int
pgp_stream_fill(struct pgp_stream *st)
{
	unsigned char	*nb;
	ssize_t		 r;
	size_t		 cap;

	if (st->eof)
		return (0);
	if (st->cap - st->len < PGP_STREAM_CHUNK) {
		cap = st->len + PGP_STREAM_CHUNK;
		/* Doubling: one large key costs no quadratic copying. */
		if (st->len > PGP_STREAM_CHUNK && cap < 2 * st->cap)
			cap = 2 * st->cap;
		if ((nb = malloc(cap)) == NULL) {
			warn("%s", st->name);
			return (-1);
		}
		if (st->len > 0)
			memcpy(nb, st->buf, st->len);
		io_wipe(st->buf, st->cap);
		st->buf = nb;
		st->cap = cap;
	}
	while ((r = read(st->fd, st->buf + st->len, st->cap - st->len)) ==
	    -1 && errno == EINTR)
		;
	if (r == -1) {
		warn("%s", st->name);
		return (-1);
	}
	if (r == 0)
		st->eof = 1;
	st->len += r;
	return (0);
}

/*
 * Where the last key packet that starts after buf[0] and before anything
 * unreadable (bad framing, or a packet cut by the buffer's end) begins:
 * what lies before it is whole keys.  0 if there is none.
 */
static size_t
pgp_stream_cut(const struct pgp_stream *st)
{
	struct ks_pkt	 pkt;
	size_t		 off = 0, cut = 0;

	while (ks_pgp_next(st->buf, st->len, &off, &pkt) == 1)
		if ((pkt.tag == KS_PKT_PUBKEY || pkt.tag == KS_PKT_SECKEY) &&
		    pkt.off > 0)
			cut = pkt.off;
	return (cut);
}

/* Read the keys of st->buf[0..n) into certs and drop those bytes. */
static int
pgp_stream_take(struct pgp_stream *st, size_t n, struct pass *pp,
    struct pgp_certs *certs)
{
	int	 rc;

	certs->base = st->base;
	rc = pgp_split(st->name, st->buf, n, pp, certs);
	certs->base = 0;
	memmove(st->buf, st->buf + n, st->len - n);
	explicit_bzero(st->buf + st->len - n, n);
	st->len -= n;
	st->base += n;
	if (rc == -1)
		warn("%s", st->name);
	return (rc);
}

int
pgp_stream_read(struct pgp_stream *st, struct pass *pp,
    struct pgp_certs *certs, size_t max)
{
	size_t	 cut, n = certs->n + certs->nbad;
	int	 rc;

	if (st->done)
		return (0);
	if (st->base == 0 && st->len == 0) {
		if (pgp_stream_fill(st) == -1)
			return (-1);
		/* Not binary packets (armor, say): all of it at once. */
		if (st->len > 0 && (st->buf[0] & 0x80) == 0) {
			while (!st->eof && st->len <= PGP_READ_MAX)
				if (pgp_stream_fill(st) == -1)
					return (-1);
			st->done = 1;
			if (st->len > PGP_READ_MAX) {
				warnx("%s: armored input too large (more than "
				    "%d bytes; binary input has no limit)",
				    st->name, PGP_READ_MAX);
				return (-1);
			}
			rc = pgp_read(st->name, st->buf, st->len, pp, certs);
			explicit_bzero(st->buf, st->len);
			st->len = 0;
			return (rc);
		}
		if (st->len == 0) {
			st->done = 1;
			warnx("%s: empty input, no key found", st->name);
			return (-1);
		}
	}
	while (certs->n + certs->nbad - n < max) {
		if (pgp_stream_fill(st) == -1)
			return (-1);
		if (st->eof) {
			st->done = 1;
			if (st->len > 0 &&
			    pgp_stream_take(st, st->len, pp, certs) == -1)
				return (-1);
			return (0);
		}
		if ((cut = pgp_stream_cut(st)) == 0 &&
		    st->len >= PGP_READ_MAX)
			cut = st->len;	/* One key this big: RNP says why. */
		if (cut > 0 && pgp_stream_take(st, cut, pp, certs) == -1)
			return (-1);
	}
	return (1);
}
