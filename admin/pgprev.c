/*
 * pgprev.c: revocations through RNP: the certificates made at import from
 * a secret keypair (one per reason), a revocation made now with a secret
 * key, checking one made elsewhere against the key before it is applied,
 * picking a stored one, and reading a key's state (revoked, why, expiry).
 */

#include <err.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "keystore.h"
#include "wkdctl.h"
#include "pgp.h"

static const char *pgp_rnp_codes[] = { "no", "superseded", "compromised",
    "retired" };
static const char *pgp_reason_names[] = { "unspecified", "superseded",
    "compromised", "retired" };

int
pgp_reason_code(const char *name)
{
	int	 i;

	for (i = 0; i < 4; i++)
		if (strcmp(name, pgp_reason_names[i]) == 0)
			return (i);
	return (-1);
}

const char *
pgp_reason_name(int code)
{
	if (code < 0 || code > 3)
		return ("unknown");
	return (pgp_reason_names[code]);
}

/*
 * Unlock key's secret part if it is protected: the passphrase comes from
 * pp.  Returns 1 if usable, 0 if protected and no passphrase can be had
 * (*why set), -1 after warning (wrong passphrase).
 */
static int
pgp_unlock(const char *name, rnp_key_handle_t key, const char *fpr,
    struct pass *pp, const char **why)
{
	const char	*pw;
	bool		 prot, locked;
	char		 what[KS_FPR_MAX + 32], *type = NULL;
	int		 stub;

	/* gpg --export-secret-subkeys, or a smartcard: no primary secret. */
	if (rnp_key_get_protection_type(key, &type) != RNP_SUCCESS)
		type = NULL;
	stub = type != NULL && strncmp(type, "GPG-", 4) == 0;
	rnp_buffer_destroy(type);
	if (stub) {
		*why = "the primary secret key is not in the input (offline "
		    "or on a smartcard)";
		return (0);
	}
	if (rnp_key_is_protected(key, &prot) != RNP_SUCCESS)
		prot = true;
	if (!prot)
		return (1);
	if (rnp_key_is_locked(key, &locked) == RNP_SUCCESS && !locked)
		return (1);
	if (!pass_avail(pp)) {
		*why = "the secret key is passphrase-protected (give "
		    "--passphrase-fd)";
		return (0);
	}
	(void)snprintf(what, sizeof(what), "key %s", fpr);
	if ((pw = pass_get(pp, what)) == NULL) {
		*why = "no passphrase given";
		return (0);
	}
	if (rnp_key_unlock(key, pw) != RNP_SUCCESS) {
		warnx("%s: key %s: wrong passphrase, or the secret key can't "
		    "be unlocked", name, fpr);
		return (-1);
	}
	return (1);
}

/* One revocation signature (binary) of key, for reason, into *sigp. */
static int
pgp_revsig(rnp_key_handle_t key, int reason, const char *message,
    unsigned char **sigp, size_t *lenp)
{
	rnp_output_t	 out;
	int		 rc = -1;

	*sigp = NULL;
	*lenp = 0;
	if (rnp_output_to_memory(&out, 0) != RNP_SUCCESS)
		return (-1);
	/* SHA-512: RNP 0.16 refuses SHA-1 self-signatures made now. */
	if (rnp_key_export_revocation(key, out, 0, "SHA512",
	    pgp_rnp_codes[reason], message != NULL ? message : "") !=
	    RNP_SUCCESS)
		goto out;
	rc = pgp_outbuf(out, sigp, lenp);
out:
	rnp_output_destroy(out);
	return (rc);
}

/*
 * If key (primary) has its secret part in the ffi: make a revocation
 * certificate for each reason, concatenated into rev->revoc; else, or if
 * it can't sign, say why in rev->revnote.  -1 only on a wrong passphrase.
 */
int
pgp_revocs(const char *name, rnp_key_handle_t key, const char *fpr,
    struct pass *pp, struct pgp_cert *rev)
{
	unsigned char	*sig, *all = NULL, *n;
	const char	*why = NULL;
	size_t		 slen, len = 0;
	bool		 secret;
	int		 i, u;

	rev->revoc = NULL;
	rev->revoclen = 0;
	rev->revnote[0] = '\0';
	if (rnp_key_have_secret(key, &secret) != RNP_SUCCESS || !secret)
		return (0);
	if ((u = pgp_unlock(name, key, fpr, pp, &why)) == -1)
		return (-1);
	if (u == 0) {
		(void)snprintf(rev->revnote, sizeof(rev->revnote), "%s", why);
		return (0);
	}
	for (i = 0; i < 4; i++) {
		if (pgp_revsig(key, i, NULL, &sig, &slen) == -1) {
			(void)snprintf(rev->revnote, sizeof(rev->revnote),
			    "the primary secret key can't sign (offline or "
			    "unsupported)");
			free(all);
			(void)rnp_key_lock(key);
			return (0);
		}
		if ((n = realloc(all, len + slen)) == NULL) {
			free(sig);
			free(all);
			(void)rnp_key_lock(key);
			warn(NULL);
			return (-1);
		}
		all = n;
		memcpy(all + len, sig, slen);
		len += slen;
		free(sig);
	}
	(void)rnp_key_lock(key);
	rev->revoc = all;
	rev->revoclen = len;
	return (0);
}

/* The revocation reason of revoked key, as PGP_REV_*. */
static int
pgp_key_reason(rnp_key_handle_t key)
{
	bool	 b;

	if (rnp_key_is_compromised(key, &b) == RNP_SUCCESS && b)
		return (PGP_REV_COMPROMISED);
	if (rnp_key_is_superseded(key, &b) == RNP_SUCCESS && b)
		return (PGP_REV_SUPERSEDED);
	if (rnp_key_is_retired(key, &b) == RNP_SUCCESS && b)
		return (PGP_REV_RETIRED);
	return (PGP_REV_UNSPECIFIED);
}

int
pgp_info(const char *fpr, const unsigned char *data, size_t len,
    struct pgp_info *info)
{
	rnp_ffi_t		 ffi;
	rnp_key_handle_t	 key = NULL;
	char			*s = NULL;
	uint32_t		 created, exp;
	bool			 b;
	int			 rc = -1;

	memset(info, 0, sizeof(*info));
	if (pgp_ffi(&ffi) == -1)
		return (-1);
	if (pgp_load(ffi, data, len) != RNP_SUCCESS ||
	    rnp_locate_key(ffi, "fingerprint", fpr, &key) != RNP_SUCCESS ||
	    key == NULL) {
		warnx("key %s: stored certificate unreadable", fpr);
		goto out;
	}
	if (rnp_key_get_creation(key, &created) == RNP_SUCCESS)
		info->created = created;
	if (rnp_key_get_expiration(key, &exp) == RNP_SUCCESS && exp != 0)
		info->expires = info->created + exp;
	if (rnp_key_is_expired(key, &b) == RNP_SUCCESS)
		info->expired = b;
	if (rnp_key_is_revoked(key, &b) == RNP_SUCCESS && b) {
		info->revoked = 1;
		info->reason = pgp_key_reason(key);
		if (rnp_key_get_revocation_reason(key, &s) == RNP_SUCCESS &&
		    s != NULL)
			(void)snprintf(info->reason_text,
			    sizeof(info->reason_text), "%s", s);
	}
	rc = 0;
out:
	rnp_buffer_destroy(s);
	pgp_done(ffi, NULL, key);
	return (rc);
}

int
pgp_revoke_make(const char *name, const unsigned char *keydata,
    size_t keylen, const char *fpr, int reason, const char *message,
    struct pass *pp, unsigned char **sigp, size_t *siglenp)
{
	rnp_ffi_t		 ffi;
	rnp_key_handle_t	 key = NULL;
	const char		*why = NULL;
	bool			 secret;
	int			 rc = -1, u;

	*sigp = NULL;
	*siglenp = 0;
	if (pgp_ffi(&ffi) == -1)
		return (-1);
	if (pgp_load_flags(ffi, keydata, keylen, RNP_LOAD_SAVE_PUBLIC_KEYS |
	    RNP_LOAD_SAVE_SECRET_KEYS) != RNP_SUCCESS) {
		warnx("%s: not a valid OpenPGP key", name);
		goto out;
	}
	if (rnp_locate_key(ffi, "fingerprint", fpr, &key) != RNP_SUCCESS ||
	    key == NULL || rnp_key_have_secret(key, &secret) != RNP_SUCCESS ||
	    !secret) {
		warnx("%s: no secret key for %s in it", name, fpr);
		goto out;
	}
	if ((u = pgp_unlock(name, key, fpr, pp, &why)) == -1)
		goto out;
	if (u == 0) {
		warnx("%s: key %s: %s", name, fpr, why);
		goto out;
	}
	if (pgp_revsig(key, reason, message, sigp, siglenp) == -1) {
		warnx("%s: key %s: cannot sign a revocation with it (its "
		    "primary secret key may be offline)", name, fpr);
		(void)rnp_key_lock(key);
		goto out;
	}
	(void)rnp_key_lock(key);
	rc = 0;
out:
	pgp_done(ffi, NULL, key);
	return (rc);
}

/*
 * data as binary packets (*outp malloc(3)ed): dearmored if it holds an
 * armor block, text before the block ignored (as in gpg's .rev files).
 * A ':' at the start of a line (gpg writes one before the armor line of
 * its .rev files, so that they can't be imported by mistake) is dropped.
 */
int
pgp_binary(const unsigned char *data, size_t len, unsigned char **outp,
    size_t *lenp)
{
	static const char	 begin[] = "-----BEGIN PGP ";
	rnp_input_t		 in = NULL;
	rnp_output_t		 out = NULL;
	unsigned char		*copy = NULL;
	const unsigned char	*p;
	size_t			 i, j;
	int			 rc = -1;

	*outp = NULL;
	*lenp = 0;
	if (len == 0)
		return (-1);
	if (data[0] & 0x80 || (p = memmem(data, len, begin,
	    sizeof(begin) - 1)) == NULL) {
		if ((*outp = malloc(len)) == NULL)
			return (-1);
		memcpy(*outp, data, len);
		*lenp = len;
		return (0);
	}
	if ((copy = malloc(len)) == NULL)
		return (-1);
	for (i = p - data, j = 0; i < len; i++) {
		if (data[i] == ':' && data[i - 1] == '\n')
			continue;
		copy[j++] = data[i];
	}
	if (rnp_input_from_memory(&in, copy, j, false) != RNP_SUCCESS ||
	    rnp_output_to_memory(&out, 0) != RNP_SUCCESS ||
	    rnp_dearmor(in, out) != RNP_SUCCESS)
		goto out;
	rc = pgp_outbuf(out, outp, lenp);
out:
	if (in != NULL)
		rnp_input_destroy(in);
	if (out != NULL)
		rnp_output_destroy(out);
	free(copy);
	return (rc);
}

int
pgp_revoke_apply(const char *name, const char *fpr,
    const unsigned char *cert, size_t clen, const unsigned char *sig,
    size_t slen, unsigned char **newp, size_t *newlenp, int *reasonp)
{
	rnp_ffi_t		 ffi = NULL;
	rnp_key_handle_t	 key = NULL;
	rnp_signature_handle_t	 sh = NULL;
	rnp_input_t		 in = NULL;
	unsigned char		*bin = NULL;
	unsigned		 counts[64];
	char			*type = NULL, *kid = NULL, *skid = NULL;
	size_t			 blen, i;
	bool			 b;
	int			 rc = -1, krc;

	*newp = NULL;
	*newlenp = 0;
	if (pgp_binary(sig, slen, &bin, &blen) == -1) {
		warnx("%s: not OpenPGP data (bad armor?)", name);
		return (-1);
	}
	if ((krc = ks_pgp_scan(bin, blen, counts)) != KS_OK) {
		warnx("%s: not a revocation certificate: %s", name,
		    ks_strerror(krc));
		goto out;
	}
	for (i = 0; i < 64; i++)
		if (i != 2 && counts[i] != 0)
			break;
	if (i < 64 || counts[2] == 0) {
		warnx("%s: not a revocation certificate: it must hold "
		    "signature packets only", name);
		goto out;
	}
	if (pgp_ffi(&ffi) == -1)
		goto out;
	if (pgp_load(ffi, cert, clen) != RNP_SUCCESS ||
	    rnp_locate_key(ffi, "fingerprint", fpr, &key) != RNP_SUCCESS ||
	    key == NULL) {
		warnx("key %s: stored certificate unreadable", fpr);
		goto out;
	}
	if (rnp_key_is_revoked(key, &b) != RNP_SUCCESS || b) {
		warnx("key %s: already revoked", fpr);
		goto out;
	}
	if (rnp_input_from_memory(&in, bin, blen, false) != RNP_SUCCESS ||
	    rnp_import_signatures(ffi, in, 0, NULL) != RNP_SUCCESS) {
		warnx("%s: RNP cannot import it as signatures", name);
		goto out;
	}
	/* RNP returns only a revocation it verified (else NULL). */
	if (rnp_key_is_revoked(key, &b) != RNP_SUCCESS || !b ||
	    rnp_key_get_revocation_signature(key, &sh) != RNP_SUCCESS ||
	    sh == NULL) {
		warnx("%s: refused: not a valid revocation of key %s (made "
		    "for another key, by another key, or modified)", name,
		    fpr);
		goto out;
	}
	if (rnp_signature_is_valid(sh, 0) != RNP_SUCCESS ||
	    rnp_signature_get_type(sh, &type) != RNP_SUCCESS ||
	    strcmp(type, "key revocation") != 0 ||
	    rnp_signature_get_keyid(sh, &skid) != RNP_SUCCESS ||
	    rnp_key_get_keyid(key, &kid) != RNP_SUCCESS ||
	    strcmp(skid, kid) != 0) {
		warnx("%s: refused: not a valid key revocation signature "
		    "made by key %s itself", name, fpr);
		goto out;
	}
	*reasonp = pgp_key_reason(key);
	if (pgp_export(key, newp, newlenp) == -1) {
		warnx("key %s: cannot export it revoked", fpr);
		goto out;
	}
	rc = 0;
out:
	rnp_buffer_destroy(type);
	rnp_buffer_destroy(kid);
	rnp_buffer_destroy(skid);
	if (sh != NULL)
		rnp_signature_handle_destroy(sh);
	if (in != NULL)
		rnp_input_destroy(in);
	if (key != NULL)
		rnp_key_handle_destroy(key);
	if (ffi != NULL)
		rnp_ffi_destroy(ffi);
	free(bin);
	return (rc);
}

int
pgp_revoc_pick(const char *fpr, const unsigned char *cert, size_t clen,
    const unsigned char *revs, size_t rlen, int reason,
    const unsigned char **sigp, size_t *siglenp, unsigned *have)
{
	struct ks_pkt	 pkt;
	unsigned char	*nc;
	size_t		 off = 0, n, nlen;
	int		 r, found = 0, saved = -1;

	if (have != NULL)
		*have = 0;
	*sigp = NULL;
	*siglenp = 0;
	/* pgp_revoke_apply() warns on refusal: that's not news here. */
	saved = pgp_quiet();
	while (ks_pgp_next(revs, rlen, &off, &pkt) == 1) {
		n = pkt.hdrlen + pkt.bodylen;
		if (pgp_revoke_apply("stored revocation", fpr, cert, clen,
		    revs + pkt.off, n, &nc, &nlen, &r) == -1)
			continue;
		free(nc);
		if (have != NULL)
			*have |= 1U << r;
		if (r == reason && !found) {
			*sigp = revs + pkt.off;
			*siglenp = n;
			found = 1;
		}
	}
	pgp_loud(saved);
	return (found);
}
