/*
 * wkd.c: the entries served for an address under its WKD hash(es).
 *
 * An address is published under the draft's hash of its local part (only
 * ASCII A-Z lowered).  sq, OpenPGP.js, Thunderbird and others lower the
 * whole local part with Unicode rules; where that gives another hash
 * (e.g. "ÄBC"), the same blob is published under that hash too, unless
 * the lowered address is itself bound to an account (then that hash is
 * its own) or another bound address has the same lowering ("ÄÖ" and "Äö":
 * then the hash names neither, and serving one's key there would hand it
 * out for the other).  Both hashes are derived from the address alone, so
 * nothing about them needs storing.
 */

#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unicase.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

int
wkd_split(const char *addr, char *local, size_t localsz, char *domain,
    size_t domainsz)
{
	const char	*at;
	size_t		 n;

	if ((at = strrchr(addr, '@')) == NULL)
		return (-1);
	n = at - addr;
	if (n + 1 > localsz || strlen(at + 1) + 1 > domainsz)
		return (-1);
	memcpy(local, addr, n);
	local[n] = '\0';
	memcpy(domain, at + 1, strlen(at + 1) + 1);
	return (0);
}

int
wkd_hashes(const char *addr, char ascii[KS_HASH_LEN + 1],
    char uni[KS_HASH_LEN + 1], char *lower)
{
	char		 local[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	uint8_t		*low;
	size_t		 lowlen;
	int		 rc;

	uni[0] = '\0';
	if (lower != NULL)
		lower[0] = '\0';
	if (wkd_split(addr, local, sizeof(local), domain,
	    sizeof(domain)) == -1)
		return (KS_INVALID);
	if ((rc = ks_wkd_hash(local, strlen(local), ascii)) != KS_OK)
		return (rc);
	if ((low = u8_tolower((const uint8_t *)local, strlen(local), NULL,
	    NULL, NULL, &lowlen)) == NULL)
		return (KS_INVALID);	/* Not UTF-8. */
	if (lowlen != strlen(local) || memcmp(low, local, lowlen) != 0) {
		if ((rc = ks_wkd_hash((const char *)low, lowlen, uni)) !=
		    KS_OK)
			goto out;
		if (lower != NULL && lowlen + 1 + strlen(domain) + 1 <=
		    KS_ADDR_MAX) {
			memcpy(lower, low, lowlen);
			lower[lowlen] = '@';
			memcpy(lower + lowlen + 1, domain, strlen(domain) + 1);
		}
	}
	rc = KS_OK;
out:
	free(low);
	return (rc);
}

/* addr's domain, its hashes and lowering (wkd_hashes()); a KS_* code. */
static int
wkd_where(const char *addr, char domain[KS_DOMAIN_MAX],
    char ascii[KS_HASH_LEN + 1], char uni[KS_HASH_LEN + 1],
    char lower[KS_ADDR_MAX])
{
	char	 local[KS_ADDR_MAX];

	if (wkd_split(addr, local, sizeof(local), domain,
	    KS_DOMAIN_MAX) == -1)
		return (KS_INVALID);
	return (wkd_hashes(addr, ascii, uni, lower));
}

struct wkd_same {
	const char	*addr;		/* Ours, normalised. */
	const char	*lower;		/* Its Unicode lowering. */
	int		 found;
};

/* Another bound address with our Unicode lowering? Stops the walk. */
static int
wkd_same_cb(const struct ks_addr *a, void *arg)
{
	struct wkd_same	*s = arg;
	char		 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	char		 lower[KS_ADDR_MAX];

	if (strcmp(a->addr, s->addr) == 0)
		return (0);
	if (wkd_hashes(a->addr, ascii, uni, lower) != KS_OK)
		return (0);
	if (strcmp(lower, s->lower) == 0) {
		s->found = 1;
		return (1);
	}
	return (0);
}

/*
 * Is the Unicode hash of addr its own?  Not if the lowered address is
 * bound (it then owns that hash as its draft hash), nor if another bound
 * address lowers to the same (the hash is then ambiguous).
 */
static int
wkd_uni_own(struct ks_txn *txn, const char *addr, const char *lower)
{
	struct ks_addr	 a;
	struct wkd_same	 s;
	char		 norm[KS_ADDR_MAX], domain[KS_DOMAIN_MAX];
	char		 local[KS_ADDR_MAX];

	if (lower[0] == '\0')
		return (0);
	/* A lowering keeps the domain: only addresses of ours can clash. */
	if (wkd_split(addr, local, sizeof(local), domain,
	    sizeof(domain)) == -1)
		return (0);
	if (ks_addr_norm(lower, norm, sizeof(norm), NULL, 0) != KS_OK)
		return (0);
	if (ks_addr_get(txn, norm, &a) != KS_NOTFOUND)
		return (0);
	s.addr = addr;
	s.lower = lower;
	s.found = 0;
	if (ks_addr_foreach_domain(txn, domain, wkd_same_cb, &s) != KS_OK)
		return (0);
	return (!s.found);
}

int
wkd_bind(struct ks_txn *txn, const char *addr)
{
	struct ks_addr	 a;
	char		 domain[KS_DOMAIN_MAX];
	char		 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	char		 lower[KS_ADDR_MAX], norm[KS_ADDR_MAX];
	int		 rc;

	if ((rc = wkd_where(addr, domain, ascii, uni, lower)) != KS_OK)
		return (rc);
	/* The draft hash: a Unicode-hash entry of another address. */
	if ((rc = ks_wkd_del(txn, domain, ascii)) != KS_OK &&
	    rc != KS_NOTFOUND)
		return (rc);
	if (uni[0] == '\0' || lower[0] == '\0' ||
	    ks_addr_norm(lower, norm, sizeof(norm), NULL, 0) != KS_OK)
		return (KS_OK);
	/* The Unicode hash, unless the lowering owns it as its draft hash. */
	if ((rc = ks_addr_get(txn, norm, &a)) != KS_NOTFOUND)
		return (rc);
	rc = ks_wkd_del(txn, domain, uni);
	return (rc == KS_NOTFOUND ? KS_OK : rc);
}

/* blob, and its facts if f isn't NULL, under (domain, hash). */
static int
wkd_put_one(struct ks_txn *txn, const char *domain, const char *hash,
    const unsigned char *blob, size_t len, const struct ks_facts *f)
{
	int	 rc;

	if ((rc = ks_wkd_put(txn, domain, hash, blob, len)) != KS_OK ||
	    f == NULL)
		return (rc);
	return (ks_facts_put(txn, domain, hash, f));
}

int
wkd_put(struct ks_txn *txn, const char *addr, const unsigned char *blob,
    size_t len, const struct ks_facts *f)
{
	char	 domain[KS_DOMAIN_MAX];
	char	 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	char	 lower[KS_ADDR_MAX];
	int	 rc;

	if ((rc = wkd_where(addr, domain, ascii, uni, lower)) != KS_OK)
		return (rc);
	if ((rc = wkd_put_one(txn, domain, ascii, blob, len, f)) != KS_OK)
		return (rc);
	if (uni[0] != '\0' && wkd_uni_own(txn, addr, lower))
		rc = wkd_put_one(txn, domain, uni, blob, len, f);
	return (rc);
}

int
wkd_del(struct ks_txn *txn, const char *addr)
{
	struct ks_blob	 mine, other;
	char		 domain[KS_DOMAIN_MAX];
	char		 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	char		 lower[KS_ADDR_MAX];
	int		 rc;

	memset(&mine, 0, sizeof(mine));
	memset(&other, 0, sizeof(other));
	if ((rc = wkd_where(addr, domain, ascii, uni, lower)) != KS_OK)
		return (rc);
	rc = ks_wkd_get(txn, domain, ascii, &mine);
	if (rc == KS_NOTFOUND)
		return (KS_OK);
	if (rc != KS_OK)
		return (rc);
	if ((rc = ks_wkd_del(txn, domain, ascii)) != KS_OK)
		goto out;
	/*
	 * The Unicode hash may have been taken by another address with the
	 * same lowering: delete it only if it serves exactly our bytes (the
	 * blob holds our UID, so no other address's blob is equal), whether
	 * or not the hash is still ours to publish under.
	 */
	if (uni[0] != '\0') {
		rc = ks_wkd_get(txn, domain, uni, &other);
		if (rc == KS_NOTFOUND) {
			rc = KS_OK;
			goto out;
		}
		if (rc != KS_OK)
			goto out;
		if (other.len == mine.len && (mine.len == 0 ||
		    memcmp(other.data, mine.data, mine.len) == 0))
			rc = ks_wkd_del(txn, domain, uni);
	}
out:
	ks_blob_free(&mine);
	ks_blob_free(&other);
	return (rc);
}

int
wkd_get(struct ks_txn *txn, const char *addr, struct ks_blob *b)
{
	char	 domain[KS_DOMAIN_MAX];
	char	 ascii[KS_HASH_LEN + 1], uni[KS_HASH_LEN + 1];
	int	 rc;

	memset(b, 0, sizeof(*b));
	if ((rc = wkd_where(addr, domain, ascii, uni, NULL)) != KS_OK)
		return (rc);
	return (ks_wkd_get(txn, domain, ascii, b));
}
