/*
 * pgp.c: OpenPGP through RNP.  Keys read from the operator's input
 * (pgpread.c: only their public parts leave it) are merged with what the
 * store holds, cleaned, and shaped into the blob served for one address;
 * the RNP helpers all three pgp*.c files share (pgp.h) live here.
 *
 * Every function works on a fresh ffi, so no state leaks from one key to
 * the next.  RNP's own log goes to /dev/null: errors are reported here,
 * naming the input and the key.
 */

#include <err.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
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

static int	pgp_devnull = -1;

static int	pgp_newer_cert(rnp_signature_handle_t, uint32_t *);

int
pgp_ffi(rnp_ffi_t *ffi)
{
	int	 fd;

	if (rnp_ffi_create(ffi, "GPG", "GPG") != RNP_SUCCESS) {
		warnx("cannot initialise RNP");
		return (-1);
	}
	if (pgp_devnull == -1)
		pgp_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	/* RNP fdopen()s the fd and closes it with the ffi: give it a dup. */
	if (pgp_devnull != -1 && (fd = dup(pgp_devnull)) != -1 &&
	    rnp_ffi_set_log_fd(*ffi, fd) != RNP_SUCCESS)
		close(fd);
	return (0);
}

int
pgp_quiet(void)
{
	int	 saved;

	if (pgp_devnull == -1)
		pgp_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (pgp_devnull == -1 || getenv("WKDCTL_DEBUG") != NULL)
		return (-1);
	fflush(stderr);
	if ((saved = dup(STDERR_FILENO)) != -1)
		(void)dup2(pgp_devnull, STDERR_FILENO);
	return (saved);
}

void
pgp_loud(int saved)
{
	if (saved == -1)
		return;
	(void)dup2(saved, STDERR_FILENO);
	close(saved);
}

/*
 * Import data's public parts into ffi.  wkdctl reports the error itself,
 * so RNP's parser is kept quiet (pgp_quiet()).
 */
rnp_result_t
pgp_load_flags(rnp_ffi_t ffi, const unsigned char *data, size_t len,
    uint32_t flags)
{
	rnp_input_t	 in;
	rnp_result_t	 r;
	int		 saved;

	if ((r = rnp_input_from_memory(&in, data, len, false)) !=
	    RNP_SUCCESS)
		return (r);
	saved = pgp_quiet();
	r = rnp_import_keys(ffi, in, flags, NULL);
	pgp_loud(saved);
	rnp_input_destroy(in);
	return (r);
}

void
pgp_done(rnp_ffi_t ffi, rnp_identifier_iterator_t it, rnp_key_handle_t key)
{
	if (key != NULL)
		rnp_key_handle_destroy(key);
	if (it != NULL)
		rnp_identifier_iterator_destroy(it);
	rnp_ffi_destroy(ffi);
}

rnp_result_t
pgp_load(rnp_ffi_t ffi, const unsigned char *data, size_t len)
{
	return (pgp_load_flags(ffi, data, len, RNP_LOAD_SAVE_PUBLIC_KEYS));
}

/* Export key (public, with subkeys) into a malloc(3)ed buffer. */
int
pgp_export(rnp_key_handle_t key, unsigned char **datap, size_t *lenp)
{
	rnp_output_t	 out;
	uint8_t		*buf;
	size_t		 len;
	int		 rc = -1;

	*datap = NULL;
	*lenp = 0;
	if (rnp_output_to_memory(&out, 0) != RNP_SUCCESS)
		return (-1);
	if (rnp_key_export(key, out, RNP_KEY_EXPORT_PUBLIC |
	    RNP_KEY_EXPORT_SUBKEYS) != RNP_SUCCESS)
		goto out;
	if (rnp_output_memory_get_buf(out, &buf, &len, false) !=
	    RNP_SUCCESS || len == 0)
		goto out;
	if ((*datap = malloc(len)) == NULL)
		goto out;
	memcpy(*datap, buf, len);
	*lenp = len;
	rc = 0;
out:
	rnp_output_destroy(out);
	return (rc);
}

/* Copy an RNP memory output into a malloc(3)ed buffer. */
int
pgp_outbuf(rnp_output_t out, unsigned char **datap, size_t *lenp)
{
	uint8_t	*buf;
	size_t	 len;

	*datap = NULL;
	*lenp = 0;
	if (rnp_output_memory_get_buf(out, &buf, &len, false) !=
	    RNP_SUCCESS || len == 0)
		return (-1);
	if ((*datap = malloc(len)) == NULL)
		return (-1);
	memcpy(*datap, buf, len);
	*lenp = len;
	return (0);
}

int
pgp_uid_addr(const char *uid, char *out, size_t outsz)
{
	/* The keystore reads it so for its index of UID addresses. */
	return (ks_uid_addr(uid, strlen(uid), out, outsz) == KS_OK ? 0 : -1);
}

int
pgp_uid_fill(struct pgp_uid *u)
{
	const char	*at;

	u->domain[0] = '\0';
	if (pgp_uid_addr(u->text, u->addr, sizeof(u->addr)) == -1) {
		u->addr[0] = '\0';
		if (u->kind == PGP_UID_OK)
			u->kind = PGP_UID_NOADDR;
		return (-1);
	}
	if ((at = strrchr(u->addr, '@')) != NULL)
		(void)snprintf(u->domain, sizeof(u->domain), "%s", at + 1);
	return (0);
}

static void
pgp_uids_free(struct pgp_uid *uids, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(uids[i].text);
	free(uids);
}

/*
 * The creation time of uh's newest valid certification made by key itself
 * (keyid: key's), or 0 if it has none.
 */
static uint32_t
pgp_uid_time(rnp_uid_handle_t uh, const char *keyid)
{
	rnp_signature_handle_t	 sig;
	char			*sk;
	size_t			 i, n;
	uint32_t		 best = 0, t;
	int			 self;

	if (rnp_uid_get_signature_count(uh, &n) != RNP_SUCCESS)
		return (0);
	for (i = 0; i < n; i++) {
		if (rnp_uid_get_signature_at(uh, i, &sig) != RNP_SUCCESS)
			return (0);
		self = rnp_signature_get_keyid(sig, &sk) == RNP_SUCCESS &&
		    sk != NULL && strcasecmp(sk, keyid) == 0;
		if (sk != NULL)
			rnp_buffer_destroy(sk);
		t = best;
		if (self && pgp_newer_cert(sig, &t))
			best = t;
		rnp_signature_handle_destroy(sig);
	}
	return (best);
}

/* Classify key's UIDs into *uidsp. */
static int
pgp_classify(rnp_key_handle_t key, struct pgp_uid **uidsp, size_t *np)
{
	rnp_uid_handle_t	 uh = NULL;
	struct pgp_uid		*uids = NULL, *u;
	char			*s = NULL;
	size_t			 i, n;
	char			*keyid = NULL;
	uint32_t		 type;
	bool			 valid, revoked;

	*uidsp = NULL;
	*np = 0;
	if (rnp_key_get_uid_count(key, &n) != RNP_SUCCESS ||
	    rnp_key_get_keyid(key, &keyid) != RNP_SUCCESS)
		return (-1);
	if (n > 0 && (uids = calloc(n, sizeof(*uids))) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		u = &uids[i];
		if (rnp_key_get_uid_handle_at(key, i, &uh) != RNP_SUCCESS ||
		    rnp_uid_get_type(uh, &type) != RNP_SUCCESS ||
		    rnp_uid_is_valid(uh, &valid) != RNP_SUCCESS ||
		    rnp_uid_is_revoked(uh, &revoked) != RNP_SUCCESS)
			goto fail;
		u->sigtime = pgp_uid_time(uh, keyid);
		rnp_uid_handle_destroy(uh);
		uh = NULL;
		if (type != RNP_USER_ID) {
			u->kind = PGP_UID_ATTR;
			continue;
		}
		if (rnp_key_get_uid_at(key, i, &s) != RNP_SUCCESS ||
		    (u->text = strdup(s)) == NULL)
			goto fail;
		rnp_buffer_destroy(s);
		s = NULL;
		if (revoked)
			u->kind = PGP_UID_REVOKED;
		else if (!valid)
			u->kind = PGP_UID_INVALID;
		else
			u->kind = PGP_UID_OK;
		(void)pgp_uid_fill(u);
	}
	rnp_buffer_destroy(keyid);
	*uidsp = uids;
	*np = n;
	return (0);
fail:
	rnp_buffer_destroy(keyid);
	rnp_buffer_destroy(s);
	if (uh != NULL)
		rnp_uid_handle_destroy(uh);
	pgp_uids_free(uids, n);
	return (-1);
}

/* Remove subkeys left without any binding signature. */
static int
pgp_prune_subkeys(rnp_key_handle_t key)
{
	rnp_key_handle_t	 sub;
	size_t			 n, nsig;

	if (rnp_key_get_subkey_count(key, &n) != RNP_SUCCESS)
		return (-1);
	while (n-- > 0) {
		if (rnp_key_get_subkey_at(key, n, &sub) != RNP_SUCCESS)
			return (-1);
		if (rnp_key_get_signature_count(sub, &nsig) != RNP_SUCCESS) {
			rnp_key_handle_destroy(sub);
			return (-1);
		}
		if (nsig == 0 &&
		    rnp_key_remove(sub, RNP_KEY_REMOVE_PUBLIC) != RNP_SUCCESS) {
			rnp_key_handle_destroy(sub);
			return (-1);
		}
		rnp_key_handle_destroy(sub);
	}
	return (0);
}

/* Can key, or one of its valid subkeys, encrypt? */
static int
pgp_can_encrypt(rnp_key_handle_t key)
{
	rnp_key_handle_t	 sub;
	size_t			 i, n;
	bool			 b, ok = false;

	if (rnp_key_allows_usage(key, "encrypt", &b) == RNP_SUCCESS && b)
		return (1);
	if (rnp_key_get_subkey_count(key, &n) != RNP_SUCCESS)
		return (0);
	for (i = 0; i < n && !ok; i++) {
		if (rnp_key_get_subkey_at(key, i, &sub) != RNP_SUCCESS)
			return (0);
		ok = rnp_key_allows_usage(sub, "encrypt", &b) == RNP_SUCCESS &&
		    b && rnp_key_is_valid(sub, &b) == RNP_SUCCESS && b;
		rnp_key_handle_destroy(sub);
	}
	return (ok);
}

int
pgp_merge(const char *fpr, const unsigned char *stored, size_t slen,
    const unsigned char *in, size_t inlen, struct pgp_cert *out)
{
	int	 rc;

	if ((rc = pgp_merge_fast(fpr, stored, slen, in, inlen, out)) != 1)
		return (rc);
	return (pgp_merge_rnp(fpr, stored, slen, in, inlen, out));
}

int
pgp_merge_rnp(const char *fpr, const unsigned char *stored, size_t slen,
    const unsigned char *in, size_t inlen, struct pgp_cert *out)
{
	rnp_ffi_t		 ffi;
	rnp_key_handle_t	 key = NULL;
	rnp_uid_handle_t	 uh;
	rnp_result_t		 r;
	size_t			 i;
	bool			 b;
	int			 rc = -1;

	memset(out, 0, sizeof(*out));
	if (snprintf(out->fpr, sizeof(out->fpr), "%s", fpr) >=
	    (int)sizeof(out->fpr))
		return (-1);
	if (pgp_ffi(&ffi) == -1)
		return (-1);
	if (stored != NULL && (r = pgp_load(ffi, stored, slen)) !=
	    RNP_SUCCESS) {
		warnx("key %s: stored certificate unreadable: %s", fpr,
		    rnp_result_to_string(r));
		goto out;
	}
	if ((r = pgp_load(ffi, in, inlen)) != RNP_SUCCESS) {
		warnx("key %s: %s", fpr, rnp_result_to_string(r));
		goto out;
	}
	if (rnp_locate_key(ffi, "fingerprint", fpr, &key) != RNP_SUCCESS ||
	    key == NULL) {
		warnx("key %s: lost while merging", fpr);
		goto out;
	}
	if (rnp_key_is_revoked(key, &b) == RNP_SUCCESS)
		out->revoked = b;
	if (rnp_key_is_expired(key, &b) == RNP_SUCCESS)
		out->expired = b;
	if (pgp_classify(key, &out->uids, &out->nuids) == -1)
		goto fail;
	/* Drop user attributes and UIDs never validly self-signed. */
	for (i = out->nuids; i-- > 0; ) {
		if (out->uids[i].kind != PGP_UID_ATTR &&
		    out->uids[i].kind != PGP_UID_INVALID)
			continue;
		if (rnp_key_get_uid_handle_at(key, i, &uh) != RNP_SUCCESS)
			goto fail;
		r = rnp_uid_remove(key, uh);
		rnp_uid_handle_destroy(uh);
		if (r != RNP_SUCCESS)
			goto fail;
	}
	/* Third-party, invalid and unverifiable signatures. */
	if (rnp_key_remove_signatures(key, RNP_KEY_SIGNATURE_INVALID |
	    RNP_KEY_SIGNATURE_NON_SELF_SIG | RNP_KEY_SIGNATURE_UNKNOWN_KEY,
	    NULL, NULL) != RNP_SUCCESS)
		goto fail;
	if (pgp_prune_subkeys(key) == -1)
		goto fail;
	out->can_encrypt = pgp_can_encrypt(key);
	if (pgp_export(key, &out->data, &out->len) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	warnx("key %s: RNP failed while cleaning it", fpr);
out:
	pgp_done(ffi, NULL, key);
	if (rc == -1)
		pgp_cert_free(out);
	return (rc);
}

/* Is sig a valid certification (not a revocation) newer than *best? */
static int
pgp_newer_cert(rnp_signature_handle_t sig, uint32_t *best)
{
	char		*type = NULL;
	uint32_t	 created;
	int		 ok;

	if (rnp_signature_is_valid(sig, 0) != RNP_SUCCESS)
		return (0);
	if (rnp_signature_get_type(sig, &type) != RNP_SUCCESS)
		return (0);
	ok = strncmp(type, "certification (", 15) == 0;
	rnp_buffer_destroy(type);
	if (!ok || rnp_signature_get_creation(sig, &created) != RNP_SUCCESS)
		return (0);
	if (created < *best)
		return (0);
	*best = created;
	return (1);
}

/* Keep only the newest valid self-certification on uh. */
static int
pgp_keep_newest(rnp_key_handle_t key, rnp_uid_handle_t uh)
{
	rnp_signature_handle_t	 sig;
	size_t			 i, n, keep = (size_t)-1;
	uint32_t		 best = 0;

	if (rnp_uid_get_signature_count(uh, &n) != RNP_SUCCESS)
		return (-1);
	for (i = 0; i < n; i++) {
		if (rnp_uid_get_signature_at(uh, i, &sig) != RNP_SUCCESS)
			return (-1);
		if (pgp_newer_cert(sig, &best))
			keep = i;
		rnp_signature_handle_destroy(sig);
	}
	if (keep == (size_t)-1)
		return (-1);
	for (i = n; i-- > 0; ) {
		if (i == keep)
			continue;
		if (rnp_uid_get_signature_at(uh, i, &sig) != RNP_SUCCESS)
			return (-1);
		if (rnp_signature_remove(key, sig) != RNP_SUCCESS) {
			rnp_signature_handle_destroy(sig);
			return (-1);
		}
		rnp_signature_handle_destroy(sig);
	}
	return (0);
}

/*
 * Is blob what an address may serve: one UID, no attribute, no secret key
 * packet?
 */
static int
pgp_shaped(const char *fpr, const unsigned char *blob, size_t len)
{
	unsigned	 counts[64];
	int		 rc;

	if ((rc = ks_pgp_scan(blob, len, counts)) != KS_OK) {
		warnx("key %s: shaped blob rejected: %s", fpr, ks_strerror(rc));
		return (-1);
	}
	if (counts[KS_PKT_UID] != 1 || counts[KS_PKT_ATTR] != 0 ||
	    counts[KS_PKT_SECKEY] != 0 || counts[KS_PKT_SECSUB] != 0) {
		warnx("key %s: shaped blob has unexpected packets", fpr);
		return (-1);
	}
	return (0);
}

/* In UID u, drop every signature but the newest self-certification. */
static int
pgp_newest(struct pk_part *u)
{
	struct pk_sig	 si;
	size_t		 i, keep = SIZE_MAX;
	uint32_t	 best = 0;

	for (i = 0; i < u->nsigs; i++) {
		u->sigs[i].drop = 1;
		/* As pgp_newer_cert(): the later of two made at once. */
		if (pk_siginfo(&u->sigs[i], &si) == 0 && si.type >= 0x10 &&
		    si.type <= 0x13 && si.created >= best) {
			best = si.created;
			keep = i;
		}
	}
	if (keep == SIZE_MAX)
		return (-1);
	u->sigs[keep].drop = 0;
	return (0);
}

int
pgp_shape(const struct pgp_cert *cert, const char *uid,
    unsigned char **blobp, size_t *lenp)
{
	struct pk_key	 k;
	struct pk_part	*u;
	size_t		 i, ulen = strlen(uid);
	int		 found = 0, rc = -1;

	*blobp = NULL;
	*lenp = 0;
	if (pk_parse(cert->data, cert->len, &k) == -1) {
		warnx("key %s: can't be cut for publishing", cert->fpr);
		return (-1);
	}
	for (i = 0; i < k.nuids; i++) {
		u = &k.uids[i];
		if (found || u->pkt.tag != KS_PKT_UID || u->pkt.len != ulen ||
		    memcmp(u->pkt.body, uid, ulen) != 0) {
			u->pkt.drop = 1;
			continue;
		}
		found = 1;
		if (pgp_newest(u) == -1) {
			warnx("key %s: the UID has no self-certification",
			    cert->fpr);
			goto out;
		}
	}
	if (!found)
		warnx("key %s: no such UID to publish", cert->fpr);
	else if (pk_write(&k, blobp, lenp) == -1)
		warn(NULL);
	else
		rc = pgp_shaped(cert->fpr, *blobp, *lenp);
out:
	pk_free(&k);
	if (rc == -1) {
		free(*blobp);
		*blobp = NULL;
		*lenp = 0;
	}
	return (rc);
}

int
pgp_shape_rnp(const struct pgp_cert *cert, const char *uid,
    unsigned char **blobp, size_t *lenp)
{
	rnp_ffi_t		 ffi;
	rnp_key_handle_t	 key = NULL;
	rnp_uid_handle_t	 uh = NULL;
	char			*s = NULL;
	size_t			 i, n;
	uint32_t		 type;
	int			 rc = -1, found = 0;

	*blobp = NULL;
	*lenp = 0;
	if (pgp_ffi(&ffi) == -1)
		return (-1);
	if (pgp_load(ffi, cert->data, cert->len) != RNP_SUCCESS ||
	    rnp_locate_key(ffi, "fingerprint", cert->fpr, &key) !=
	    RNP_SUCCESS || key == NULL ||
	    rnp_key_get_uid_count(key, &n) != RNP_SUCCESS)
		goto fail;
	/* Remove every UID but the first one equal to uid. */
	for (i = n; i-- > 0; ) {
		if (rnp_key_get_uid_handle_at(key, i, &uh) != RNP_SUCCESS ||
		    rnp_uid_get_type(uh, &type) != RNP_SUCCESS)
			goto fail;
		if (type == RNP_USER_ID) {
			if (rnp_key_get_uid_at(key, i, &s) != RNP_SUCCESS)
				goto fail;
			if (strcmp(s, uid) == 0 && !found) {
				found = 1;
				rnp_buffer_destroy(s);
				s = NULL;
				rnp_uid_handle_destroy(uh);
				uh = NULL;
				continue;
			}
			rnp_buffer_destroy(s);
			s = NULL;
		}
		if (rnp_uid_remove(key, uh) != RNP_SUCCESS)
			goto fail;
		rnp_uid_handle_destroy(uh);
		uh = NULL;
	}
	if (!found || rnp_key_get_uid_handle_at(key, 0, &uh) != RNP_SUCCESS)
		goto fail;
	if (pgp_keep_newest(key, uh) == -1)
		goto fail;
	if (pgp_export(key, blobp, lenp) == -1)
		goto fail;
	/* Belt and braces: one UID, no attribute, no secret key packet. */
	if (pgp_shaped(cert->fpr, *blobp, *lenp) == -1)
		goto out;
	rc = 0;
	goto out;
fail:
	warnx("key %s: RNP failed while shaping it", cert->fpr);
out:
	rnp_buffer_destroy(s);
	if (uh != NULL)
		rnp_uid_handle_destroy(uh);
	pgp_done(ffi, NULL, key);
	if (rc == -1) {
		free(*blobp);
		*blobp = NULL;
		*lenp = 0;
	}
	return (rc);
}

int
pgp_describe(FILE *fp, const char *prefix, const unsigned char *data,
    size_t len)
{
	rnp_ffi_t			 ffi;
	rnp_identifier_iterator_t	 it = NULL;
	rnp_key_handle_t		 key = NULL;
	struct pgp_uid			*uids = NULL;
	const char			*id;
	size_t				 i, n = 0, nsub = 0;
	bool				 primary, b;
	int				 rc = -1;

	if (pgp_ffi(&ffi) == -1)
		return (-1);
	if (pgp_load(ffi, data, len) != RNP_SUCCESS ||
	    rnp_identifier_iterator_create(ffi, &it, "fingerprint") !=
	    RNP_SUCCESS)
		goto out;
	while (rnp_identifier_iterator_next(it, &id) == RNP_SUCCESS &&
	    id != NULL) {
		if (rnp_locate_key(ffi, "fingerprint", id, &key) !=
		    RNP_SUCCESS || key == NULL)
			goto out;
		if (rnp_key_is_primary(key, &primary) == RNP_SUCCESS &&
		    primary) {
			if (rnp_key_is_revoked(key, &b) == RNP_SUCCESS && b)
				fprintf(fp, "%sstatus: revoked\n", prefix);
			else if (rnp_key_is_expired(key, &b) ==
			    RNP_SUCCESS && b)
				fprintf(fp, "%sstatus: expired\n", prefix);
			pgp_uids_free(uids, n);
			uids = NULL;
			n = 0;
			if (pgp_classify(key, &uids, &n) == -1)
				goto out;
			for (i = 0; i < n; i++)
				fprintf(fp, "%suid: %s%s\n", prefix,
				    uids[i].text != NULL ? uids[i].text :
				    "[user attribute]",
				    uids[i].kind == PGP_UID_REVOKED ?
				    " (revoked)" : "");
		} else
			nsub++;
		rnp_key_handle_destroy(key);
		key = NULL;
	}
	fprintf(fp, "%ssubkeys: %zu\n", prefix, nsub);
	rc = 0;
out:
	pgp_uids_free(uids, n);
	pgp_done(ffi, it, key);
	return (rc);
}

int
pgp_nkeys(const unsigned char *data, size_t len)
{
	rnp_ffi_t			 ffi;
	rnp_identifier_iterator_t	 it = NULL;
	rnp_key_handle_t		 key = NULL;
	const char			*id;
	bool				 primary;
	int				 n = 0;

	if (pgp_ffi(&ffi) == -1)
		return (-1);
	if (pgp_load(ffi, data, len) != RNP_SUCCESS ||
	    rnp_identifier_iterator_create(ffi, &it, "fingerprint") !=
	    RNP_SUCCESS) {
		n = -1;
		goto out;
	}
	while (rnp_identifier_iterator_next(it, &id) == RNP_SUCCESS &&
	    id != NULL) {
		if (rnp_locate_key(ffi, "fingerprint", id, &key) !=
		    RNP_SUCCESS || key == NULL) {
			n = -1;
			goto out;
		}
		if (rnp_key_is_primary(key, &primary) == RNP_SUCCESS &&
		    primary)
			n++;
		rnp_key_handle_destroy(key);
		key = NULL;
	}
out:
	pgp_done(ffi, it, key);
	return (n);
}

void
pgp_cert_free(struct pgp_cert *c)
{
	if (c == NULL)
		return;
	free(c->data);
	free(c->revoc);
	c->revoc = NULL;
	c->revoclen = 0;
	pgp_uids_free(c->uids, c->nuids);
	while (c->noffsite > 0)
		free(c->offsite[--c->noffsite]);
	free(c->offsite);
	c->offsite = NULL;
	free(c->good);
	c->good = NULL;
	c->ngood = 0;
	if (c->pre != NULL) {
		pgp_cert_free(c->pre);
		free(c->pre);
		c->pre = NULL;
	}
	c->data = NULL;
	c->uids = NULL;
	c->len = c->nuids = 0;
}

void
pgp_certs_free(struct pgp_certs *certs)
{
	size_t	 i;

	for (i = 0; i < certs->n; i++)
		pgp_cert_free(&certs->v[i]);
	free(certs->v);
	free(certs->bad);
	memset(certs, 0, sizeof(*certs));
}

int
pgp_armor(const unsigned char *data, size_t len, char **outp, size_t *lenp)
{
	rnp_input_t	 in = NULL;
	rnp_output_t	 out = NULL;
	unsigned char	*buf;
	size_t		 blen;
	int		 rc = -1;

	*outp = NULL;
	*lenp = 0;
	if (rnp_input_from_memory(&in, data, len, false) != RNP_SUCCESS ||
	    rnp_output_to_memory(&out, 0) != RNP_SUCCESS ||
	    rnp_enarmor(in, out, "public key") != RNP_SUCCESS)
		goto out;
	if (pgp_outbuf(out, &buf, &blen) == -1)
		goto out;
	*outp = (char *)buf;
	*lenp = blen;
	rc = 0;
out:
	if (in != NULL)
		rnp_input_destroy(in);
	if (out != NULL)
		rnp_output_destroy(out);
	return (rc);
}

#define PGP_THREADS_MAX	8	/* pgp_precheck()'s, at most. */

/* pgp_precheck()'s threads take the next key to do from next. */
struct pgp_pool {
	struct pgp_certs	*certs;
	atomic_size_t		 next;
};

static void *
pgp_worker(void *arg)
{
	struct pgp_pool	*pool = arg;
	size_t		 i;

	while ((i = atomic_fetch_add(&pool->next, 1)) < pool->certs->n)
		pk_premerge(&pool->certs->v[i]);
	return (NULL);
}

void
pgp_precheck(struct pgp_certs *certs)
{
	struct pgp_pool	 pool;
	pthread_t	 tids[PGP_THREADS_MAX];
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t		 i, n, started = 0;
	int		 saved;

	pool.certs = certs;
	atomic_init(&pool.next, 0);
	n = ncpu < 1 ? 1 : (size_t)ncpu;
	if (n > PGP_THREADS_MAX)
		n = PGP_THREADS_MAX;
	/* A few keys aren't worth a thread. */
	if (n > certs->n / 16 + 1)
		n = certs->n / 16 + 1;
	/* RNP's parser talks on stderr: quiet for all threads at once. */
	saved = pgp_quiet();
	for (i = 1; i < n; i++)
		if (pthread_create(&tids[started], NULL, pgp_worker,
		    &pool) == 0)
			started++;
	(void)pgp_worker(&pool);
	for (i = 0; i < started; i++)
		(void)pthread_join(tids[i], NULL);
	pgp_loud(saved);
}

/*
 * locate and refresh (locate.c, refresh.c): what they take of a key
 * another server sent.
 */
int
pgp_accept(const char *name, const unsigned char *data, size_t len,
    struct pgp_certs *certs, char *err, size_t errsz)
{
	static const char	 secblk[] = "-----BEGIN PGP PRIVATE KEY BLOCK";
	static const char	 secblk2[] = "-----BEGIN PGP SECRET KEY BLOCK";
	unsigned char		*bin = NULL;
	size_t			 blen = 0;
	int			 rc, ret = -1;

	if (len == 0) {
		(void)snprintf(err, errsz, "empty answer");
		return (-1);
	}
	if (len > KS_BLOB_MAX) {
		(void)snprintf(err, errsz, "over %d bytes", KS_BLOB_MAX);
		return (-1);
	}
	/* Armored: no secret block anywhere, not only in the one decoded. */
	if (!(data[0] & 0x80) && (memmem(data, len, secblk,
	    sizeof(secblk) - 1) != NULL || memmem(data, len, secblk2,
	    sizeof(secblk2) - 1) != NULL)) {
		(void)snprintf(err, errsz, "secret key material: refused");
		return (-1);
	}
	if (pgp_binary(data, len, &bin, &blen) == -1 || blen == 0) {
		(void)snprintf(err, errsz, "not OpenPGP data (neither binary "
		    "packets nor an armored key)");
		goto out;
	}
	if ((rc = ks_pgp_scan(bin, blen, NULL)) == KS_SECRET) {
		(void)snprintf(err, errsz, "secret key material: refused");
		goto out;
	}
	if (rc != KS_OK) {
		(void)snprintf(err, errsz, "not OpenPGP packets: %s",
		    ks_strerror(rc));
		goto out;
	}
	if (pgp_read(name, bin, blen, NULL, certs) == -1) {
		(void)snprintf(err, errsz, "no OpenPGP key can be read");
		goto out;
	}
	if (certs->n == 0) {
		(void)snprintf(err, errsz, "no OpenPGP key in it");
		goto out;
	}
	ret = 0;
out:
	free(bin);
	return (ret);
}
