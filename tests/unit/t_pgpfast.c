/*
 * t_pgpfast: the fast import path (admin/pgpkey.c, admin/pgpsig.c)
 * against the RNP path on real keys: for every key of the keyrings given
 * (by default Debian's, from the debian-keyring package), what
 * pgp_merge_fast() cleans must be byte for byte what pgp_merge_rnp()
 * cleans, with the same UIDs, flags and published blobs (pgp_shape()
 * against pgp_shape_rnp()), new and merged into a stored copy; and the
 * fast path must be the one most keys take.
 *
 *	t_pgpfast [-n step] [keyring ...]	every step-th key (default 16;
 *						make bench runs -n 1)
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keystore.h"
#include "tap.h"
#include "wkdctl.h"

static const char *debian[] = {
	"/usr/share/keyrings/debian-keyring.gpg",
	"/usr/share/keyrings/debian-nonupload.gpg",
	"/usr/share/keyrings/debian-role-keys.gpg",
};

static size_t	 nkeys, nfast, nbad;

static int
slurp(const char *path, unsigned char **datap, size_t *lenp)
{
	struct stat	 st;
	ssize_t		 r;
	size_t		 off = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		return (-1);
	if ((*datap = malloc(st.st_size + 1)) == NULL)
		return (-1);
	while (off < (size_t)st.st_size &&
	    (r = read(fd, *datap + off, st.st_size - off)) > 0)
		off += r;
	(void)close(fd);
	*lenp = off;
	return (0);
}

/* Do a (fast) and b (RNP) say the same of the key?  Diagnose if not. */
static int
same_cert(const struct pgp_cert *a, const struct pgp_cert *b,
    const char *how)
{
	size_t	 i;

	if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0) {
		printf("# %s %s: cleaned bytes differ (%zu, RNP %zu)\n",
		    how, a->fpr, a->len, b->len);
		return (0);
	}
	if (a->revoked != b->revoked || a->expired != b->expired ||
	    a->can_encrypt != b->can_encrypt) {
		printf("# %s %s: revoked %d/%d expired %d/%d encrypt %d/%d\n",
		    how, a->fpr, a->revoked, b->revoked, a->expired,
		    b->expired, a->can_encrypt, b->can_encrypt);
		return (0);
	}
	if (a->nuids != b->nuids) {
		printf("# %s %s: %zu UIDs, RNP %zu\n", how, a->fpr, a->nuids,
		    b->nuids);
		return (0);
	}
	for (i = 0; i < a->nuids; i++) {
		if (a->uids[i].kind != b->uids[i].kind ||
		    a->uids[i].sigtime != b->uids[i].sigtime ||
		    strcmp(a->uids[i].addr, b->uids[i].addr) != 0 ||
		    (a->uids[i].text == NULL) != (b->uids[i].text == NULL) ||
		    (a->uids[i].text != NULL &&
		    strcmp(a->uids[i].text, b->uids[i].text) != 0)) {
			printf("# %s %s: UID %zu: kind %d/%d time %u/%u\n",
			    how, a->fpr, i, a->uids[i].kind, b->uids[i].kind,
			    a->uids[i].sigtime, b->uids[i].sigtime);
			return (0);
		}
	}
	return (1);
}

/* The blobs of every publishable UID of m, cut and made by RNP. */
static int
same_blobs(const struct pgp_cert *m)
{
	unsigned char	*a, *b;
	size_t		 i, alen, blen;
	int		 same = 1, ra, rb;

	for (i = 0; i < m->nuids && same; i++) {
		if (m->uids[i].kind != PGP_UID_OK)
			continue;
		ra = pgp_shape(m, m->uids[i].text, &a, &alen);
		rb = pgp_shape_rnp(m, m->uids[i].text, &b, &blen);
		same = ra == rb && (ra == -1 || (alen == blen &&
		    memcmp(a, b, alen) == 0));
		if (!same)
			printf("# %s: UID %zu: blob %d/%d, %zu/%zu bytes\n",
			    m->fpr, i, ra, rb, ra ? 0 : alen, rb ? 0 : blen);
		if (ra == 0)
			free(a);
		if (rb == 0)
			free(b);
	}
	return (same);
}

/*
 * Key c, new and then merged into its stored copy; and the same through
 * pgp_precheck()'s results (pgp_merge_cert()).
 */
static int
check_key(struct pgp_cert *c)
{
	struct pgp_cert	 f, r, f2, r2, p;
	int		 rc, good;

	nkeys++;
	if ((rc = pgp_merge_fast(c->fpr, NULL, 0, c->data, c->len, &f)) ==
	    -1)
		return (0);
	if (pgp_merge_rnp(c->fpr, NULL, 0, c->data, c->len, &r) == -1) {
		if (rc == 0) {
			printf("# %s: fast path read it, RNP didn't\n", c->fpr);
			pgp_cert_free(&f);
			return (0);
		}
		return (1);
	}
	if (rc == 1) {
		pgp_cert_free(&r);
		return (1);
	}
	nfast++;
	good = same_cert(&f, &r, "new") && same_blobs(&f);
	if (good && pgp_merge_cert(c, NULL, 0, &p) == 0) {
		good = same_cert(&p, &r, "prechecked");
		pgp_cert_free(&p);
	}
	/* Imported again onto what the store has: nothing to add. */
	if (good && pgp_merge_fast(c->fpr, r.data, r.len, c->data, c->len,
	    &f2) == 0) {
		if (pgp_merge_rnp(c->fpr, r.data, r.len, c->data, c->len,
		    &r2) == 0) {
			good = same_cert(&f2, &r2, "merged");
			if (good && pgp_merge_cert(c, r.data, r.len, &p) == 0) {
				good = same_cert(&p, &r2, "prechecked merged");
				pgp_cert_free(&p);
			}
			pgp_cert_free(&r2);
		}
		pgp_cert_free(&f2);
	}
	pgp_cert_free(&f);
	pgp_cert_free(&r);
	return (good);
}

static void
check_ring(const char *path, size_t step)
{
	struct pgp_certs	 certs;
	unsigned char		*data;
	size_t			 len, i, bad = 0, n = 0;

	if (slurp(path, &data, &len) == -1) {
		ok(0, "%s: read", path);
		return;
	}
	memset(&certs, 0, sizeof(certs));
	i = pgp_read(path, data, len, NULL, &certs) == 0;
	ok(i && certs.n > 0, "%s: %zu keys read", path, certs.n);
	pgp_precheck(&certs);
	for (i = 0; i < certs.n; i += step, n++)
		if (!check_key(&certs.v[i]))
			bad++;
	nbad += bad;
	ok(bad == 0, "%s: %zu of %zu keys the same by both paths", path,
	    n - bad, n);
	pgp_certs_free(&certs);
	free(data);
}

int
main(int argc, char *argv[])
{
	size_t	 i, step = 16;
	int	 ch, any = 0;

	while ((ch = getopt(argc, argv, "n:")) != -1)
		if (ch == 'n')
			step = strtoul(optarg, NULL, 10);
	if (step == 0)
		step = 1;
	argc -= optind;
	argv += optind;
	for (i = 0; i < (size_t)argc; i++, any = 1)
		check_ring(argv[i], step);
	for (i = 0; argc == 0 && i < sizeof(debian) / sizeof(*debian); i++) {
		if (access(debian[i], R_OK) == -1)
			continue;
		check_ring(debian[i], step);
		any = 1;
	}
	if (!any) {
		if (getenv("CI") != NULL)
			ok(0, "the debian-keyring package is installed");
		else
			skip("no keyring: install debian-keyring");
		return (done());
	}
	ok(nfast * 10 >= nkeys * 9, "the fast path read %zu of %zu keys",
	    nfast, nkeys);
	return (done());
}
