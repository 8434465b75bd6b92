/*
 * revoke.c: revoking keys.
 *
 * "wkdctl revoke" gets a key revocation signature one of three ways: the
 * revocation certificate "wkdctl import" made from a secret keypair and
 * stored (as GnuPG's openpgp-revocs.d), a secret key given now
 * (--with-key), or a certificate made elsewhere (--certificate).  Each is
 * verified against the stored key before anything changes; then the
 * revoked certificate replaces the stored one and every address that
 * serves the key serves it revoked, in one transaction.
 *
 * Stored revocation certificates are never served (the daemon has no way
 * to read them) and printed only by "wkdctl export-revocation".
 */

#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

/* Largest secret key or certificate file read. */
#define REVOKE_FILE_MAX	(16 * 1024 * 1024)

/* The key named by arg: a fingerprint, or the address that serves it. */
static int
revoke_target(struct ks_txn *txn, const char *arg, char fpr[KS_FPR_MAX])
{
	struct ks_addr	 a;
	char		 addr[KS_ADDR_MAX];

	if (strchr(arg, '@') == NULL) {
		if (cli_fpr(arg, fpr) == -1) {
			warnx("%s: neither an address nor a fingerprint",
			    arg);
			return (-1);
		}
		return (0);
	}
	if (cli_addr(arg, addr, NULL) == -1)
		return (-1);
	if (store_addr(txn, addr, &a) == -1) {
		return (-1);
	}
	if (a.fpr[0] == '\0') {
		warnx("%s: no key published (name the key by its "
		    "fingerprint)", addr);
		return (-1);
	}
	(void)snprintf(fpr, KS_FPR_MAX, "%s", a.fpr);
	return (0);
}

static int
revoke_reason(const char *s, int *reason)
{
	if ((*reason = pgp_reason_code(s)) == -1) {
		warnx("--reason %s: one of compromised, superseded, retired, "
		    "unspecified", s);
		return (-1);
	}
	return (0);
}

/*
 * The revocation signature for req: made now with req->keydata, given in
 * req->certdata, or picked from the stored certificates for req->reason.
 * *sigp points into *made (malloc(3)ed, made now), req->certdata or revs
 * (filled from the store).  *howp says which.  0, or -1 after warning.
 */
static int
revoke_sig(struct ks_txn *txn, const struct revoke_req *req,
    const struct ks_blob *cert, const char *old, struct ks_blob *revs,
    unsigned char **made, const unsigned char **sigp, size_t *slenp,
    const char **howp)
{
	size_t	 madelen;
	int	 rc, got;

	if (req->keydata != NULL) {
		if (pgp_revoke_make(req->keyname, req->keydata, req->keylen,
		    req->fpr, req->reason, req->message, req->pp, made,
		    &madelen) == -1)
			return (-1);
		*sigp = *made;
		*slenp = madelen;
		*howp = "signed now with the secret key given";
		return (0);
	}
	if (req->certdata != NULL) {
		*sigp = req->certdata;
		*slenp = req->certlen;
		*howp = "revocation certificate given";
		return (0);
	}
	if ((rc = ks_revoc_get(txn, req->fpr, revs)) == KS_NOTFOUND) {
		warnx("key %s: no revocation certificate stored (it is made "
		    "when a secret keypair is imported): give --with-key or "
		    "--certificate", req->fpr);
		return (-1);
	} else if (rc != KS_OK) {
		warnx("key %s: %s", req->fpr, ks_strerror(rc));
		return (-1);
	}
	if ((got = pgp_revoc_pick(req->fpr, cert->data, cert->len,
	    revs->data, revs->len, req->reason, sigp, slenp, NULL)) == -1)
		return (-1);
	if (got == 0) {
		warnx("key %s: no usable stored revocation certificate for "
		    "reason %s%s", req->fpr, pgp_reason_name(req->reason),
		    strncmp(old, "revoked", 7) == 0 ?
		    " (the key is revoked already)" : "");
		return (-1);
	}
	*howp = "stored revocation certificate";
	return (0);
}

/*
 * Verify sig against the stored certificate, clean the result as import
 * does (only valid self-signatures stay), store it and log the change.
 * *reasonp becomes the signature's reason.
 */
static int
revoke_store(struct ks_txn *txn, const struct revoke_req *req,
    const struct ks_blob *cert, const char *old, const unsigned char *sig,
    size_t slen, const char *how, int *reasonp)
{
	struct pgp_cert	 m;
	unsigned char	*newc = NULL;
	size_t		 newlen;
	int		 rc, ret = -1;

	memset(&m, 0, sizeof(m));
	if (pgp_revoke_apply(req->certname != NULL ? req->certname :
	    "revocation", req->fpr, cert->data, cert->len, sig, slen, &newc,
	    &newlen, reasonp) == -1)
		goto out;
	if (pgp_merge(req->fpr, NULL, 0, newc, newlen, &m) == -1)
		goto out;
	if (!m.revoked) {
		warnx("key %s: not revoked after cleaning", req->fpr);
		goto out;
	}
	if ((rc = store_cert_put(txn, req->fpr, m.data, m.len)) != KS_OK) {
		warnx("key %s: %s", req->fpr, ks_strerror(rc));
		goto out;
	}
	if (audit_log(txn, req->fpr, "key %s: %s -> revoked (%s%s%s); %s",
	    req->fpr, old, pgp_reason_name(*reasonp),
	    req->message != NULL ? ": " : "",
	    req->message != NULL ? req->message : "", how) != KS_OK)
		goto out;
	ret = 0;
out:
	free(newc);
	pgp_cert_free(&m);
	return (ret);
}

int
revoke_key(struct ks_txn *txn, const struct revoke_req *req,
    struct revoke_result *res)
{
	struct ks_blob		 cert, revs;
	struct store_addrs	 l;
	const unsigned char	*sig;
	unsigned char		*made = NULL;
	char			 old[512];
	size_t			 slen, i;
	int			 rc, ret = -1;

	memset(&cert, 0, sizeof(cert));
	memset(&revs, 0, sizeof(revs));
	memset(&l, 0, sizeof(l));
	memset(res, 0, sizeof(*res));
	res->reason = req->reason;
	if ((rc = ks_cert_get(txn, req->fpr, &cert)) != KS_OK) {
		warnx("key %s: %s", req->fpr, rc == KS_NOTFOUND ?
		    "not in the store" : ks_strerror(rc));
		goto out;
	}
	(void)show_state(txn, req->fpr, old, sizeof(old));
	if (revoke_sig(txn, req, &cert, old, &revs, &made, &sig, &slen,
	    &res->how) == -1 || revoke_store(txn, req, &cert, old, sig,
	    slen, res->how, &res->reason) == -1)
		goto out;
	/* Every address serving it (or serving it as predecessor). */
	if (publish_refresh_key(txn, req->fpr, stderr) == -1 ||
	    store_addrs_key(txn, req->fpr, &l) == -1)
		goto out;
	for (i = 0; i < l.n; i++) {
		if (res->nserved == 0 && (res->served = calloc(l.n,
		    sizeof(*res->served))) == NULL) {
			warn(NULL);
			goto out;
		}
		(void)snprintf(res->served[res->nserved++], KS_ADDR_MAX, "%s",
		    l.v[i].addr);
	}
	ret = 0;
out:
	store_addrs_free(&l);
	ks_blob_free(&cert);
	ks_blob_free(&revs);
	free(made);
	return (ret);
}

void
revoke_result_free(struct revoke_result *res)
{
	free(res->served);
	memset(res, 0, sizeof(*res));
}

/* revoke's options into req; returns optind, or -1 (exit status in *st). */
static int
revoke_getopt(int argc, char **argv, struct revoke_req *req,
    const char **withkey, const char **certfile, int *st)
{
	int	 ch;
	static const struct option longopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "message", required_argument, NULL, 'm' },
		{ "with-key", required_argument, NULL, 'k' },
		{ "certificate", required_argument, NULL, 'c' },
		{ "passphrase-fd", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};

	*st = EXIT_USAGE;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (revoke_reason(optarg, &req->reason) == -1)
				return (-1);
			break;
		case 'm':
			req->message = optarg;
			break;
		case 'k':
			*withkey = optarg;
			break;
		case 'c':
			*certfile = optarg;
			break;
		case 'P':
			if (pass_fd(req->pp, optarg) == -1)
				return (-1);
			break;
		default:
			*st = cli_usage(REVOKE_USAGE);
			return (-1);
		}
	}
	if (argc - optind != 1 || (*withkey != NULL && *certfile != NULL)) {
		*st = cli_usage(REVOKE_USAGE);
		return (-1);
	}
	if (req->message != NULL && *withkey == NULL) {
		warnx("--message needs --with-key: the text is part of the "
		    "signature, made now");
		return (-1);
	}
	if (*certfile != NULL && req->reason != PGP_REV_UNSPECIFIED) {
		warnx("--reason does not apply to --certificate: its reason "
		    "was fixed when it was made");
		return (-1);
	}
	return (optind);
}

int
cmd_revoke(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn = NULL;
	struct pass		 pp;
	struct revoke_req	 req;
	struct revoke_result	 res;
	const char		*withkey = NULL, *certfile = NULL;
	char			 fpr[KS_FPR_MAX];
	unsigned char		*keydata = NULL, *certdata = NULL;
	size_t			 keylen = 0, certlen = 0, i;
	int			 ind, ret = 1;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	pass_init(&pp);
	req.reason = PGP_REV_UNSPECIFIED;
	req.pp = &pp;
	if ((ind = revoke_getopt(argc, argv, &req, &withkey, &certfile,
	    &ret)) == -1)
		return (ret);
	ret = 1;
	/* Read the files before opening the store. */
	if (withkey != NULL && io_read_file(withkey, REVOKE_FILE_MAX,
	    &keydata, &keylen) == -1)
		return (1);
	if (certfile != NULL && io_read_file(certfile, REVOKE_FILE_MAX,
	    &certdata, &certlen) == -1)
		return (1);
	req.keydata = keydata;
	req.keylen = keylen;
	req.keyname = withkey;
	req.certdata = certdata;
	req.certlen = certlen;
	req.certname = certfile;
	req.fpr = fpr;
	if (store_begin(ctl, 0, &txn) == -1)
		goto out;
	if (revoke_target(txn, argv[ind], fpr) == -1 ||
	    revoke_key(txn, &req, &res) == -1) {
		ks_txn_abort(txn);
		warnx("revoke failed: the store is unchanged");
		goto out;
	}
	if (store_commit(ctl, txn) == -1)
		goto out;
	printf("key %s revoked (%s), %s\n", fpr, pgp_reason_name(res.reason),
	    res.how);
	for (i = 0; i < res.nserved; i++)
		printf("  served revoked at %s\n", res.served[i]);
	ret = 0;
out:
	pass_clear(&pp);
	revoke_result_free(&res);
	io_wipe(keydata, keylen);
	free(certdata);
	return (ret);
}

int
cmd_export_revocation(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn = NULL;
	struct ks_blob		 cert, revs;
	struct pgp_info		 info;
	const unsigned char	*sig;
	const char		*out = NULL;
	char			 fpr[KS_FPR_MAX], *arm = NULL;
	size_t			 slen, alen;
	int			 ch, fd, rc, got, reason = PGP_REV_UNSPECIFIED;
	int			 ret = 1;
	static const struct option longopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&cert, 0, sizeof(cert));
	memset(&revs, 0, sizeof(revs));
	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'r':
			if (revoke_reason(optarg, &reason) == -1)
				return (EXIT_USAGE);
			break;
		default:
			return (cli_usage(EXPREV_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return (cli_usage(EXPREV_USAGE));
	if (cli_fpr(argv[0], fpr) == -1) {
		warnx("%s: not a fingerprint", argv[0]);
		return (1);
	}
	if (store_begin(ctl, 0, &txn) == -1)
		return (1);
	if ((rc = ks_cert_get(txn, fpr, &cert)) != KS_OK ||
	    (rc = ks_revoc_get(txn, fpr, &revs)) != KS_OK) {
		warnx("key %s: %s", fpr, rc == KS_NOTFOUND ?
		    "no revocation certificate stored" : ks_strerror(rc));
		goto abort;
	}
	if ((got = pgp_revoc_pick(fpr, cert.data, cert.len, revs.data,
	    revs.len, reason, &sig, &slen, NULL)) != 1) {
		if (got == 0 && pgp_info(fpr, cert.data, cert.len, &info) ==
		    0 && info.revoked)
			warnx("key %s: revoked already: no stored revocation "
			    "certificate applies", fpr);
		else if (got == 0)
			warnx("key %s: no usable stored revocation "
			    "certificate for reason %s", fpr,
			    pgp_reason_name(reason));
		goto abort;
	}
	if (pgp_armor(sig, slen, &arm, &alen) == -1) {
		warnx("key %s: cannot armor the revocation certificate", fpr);
		goto abort;
	}
	/* Handing out a revocation certificate is worth an audit entry. */
	if (audit_log(txn, fpr, "revocation certificate (%s) exported%s%s",
	    pgp_reason_name(reason), out != NULL ? " to " : "",
	    out != NULL ? out : "") != KS_OK)
		goto abort;
	if (store_commit(ctl, txn) == -1) {
		txn = NULL;
		goto out;
	}
	txn = NULL;
	if (out == NULL)
		fd = STDOUT_FILENO;
	else if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		warn("%s", out);
		goto out;
	}
	rc = io_write_all(fd, (unsigned char *)arm, alen);
	if (out != NULL && close(fd) == -1)
		rc = -1;
	if (rc == -1) {
		warn("%s", out != NULL ? out : "stdout");
		goto out;
	}
	ret = 0;
	goto out;
abort:
	ks_txn_abort(txn);
out:
	free(arm);
	ks_blob_free(&cert);
	ks_blob_free(&revs);
	return (ret);
}
