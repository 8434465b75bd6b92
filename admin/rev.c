/*
 * rev.c: revoking keys.
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
#define REV_FILE_MAX	(16 * 1024 * 1024)

/* The key named by arg: a fingerprint, or the address that serves it. */
static int
rev_target(struct ks_txn *txn, const char *arg, char fpr[KS_FPR_MAX])
{
	struct ks_addr	 a;
	char		 addr[KS_ADDR_MAX];
	int		 rc;

	if (strchr(arg, '@') == NULL) {
		if (ctl_fpr(arg, fpr) == -1) {
			warnx("%s: neither an address nor a fingerprint",
			    arg);
			return (-1);
		}
		return (0);
	}
	if (ctl_addr(arg, addr, NULL) == -1)
		return (-1);
	if ((rc = ks_addr_get(txn, addr, &a)) != KS_OK) {
		warnx("%s: %s", addr, rc == KS_NOTFOUND ?
		    "not an address of any account" : ks_strerror(rc));
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
rev_reason(const char *s, int *reason)
{
	if ((*reason = pgp_reason_code(s)) == -1) {
		warnx("--reason %s: one of compromised, superseded, retired, "
		    "unspecified", s);
		return (-1);
	}
	return (0);
}

int
cmd_revoke(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn = NULL;
	struct ks_blob		 cert, revs;
	struct ctl_pass		 pp;
	struct ctl_addrs	 l;
	struct pgp_cert		 m;
	const unsigned char	*sig;
	const char		*withkey = NULL, *certfile = NULL;
	const char		*message = NULL, *how;
	char			 fpr[KS_FPR_MAX], old[512];
	unsigned char		*keydata = NULL, *made = NULL, *newc = NULL;
	unsigned char		*certdata = NULL;
	size_t			 keylen = 0, madelen = 0, newlen, certlen = 0;
	size_t			 slen, i;
	int			 ch, rc, reason = PGP_REV_UNSPECIFIED;
	int			 got, ret = 1;
	static const struct option longopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "message", required_argument, NULL, 'm' },
		{ "with-key", required_argument, NULL, 'k' },
		{ "certificate", required_argument, NULL, 'c' },
		{ "passphrase-fd", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&cert, 0, sizeof(cert));
	memset(&revs, 0, sizeof(revs));
	memset(&l, 0, sizeof(l));
	memset(&m, 0, sizeof(m));
	ctl_pass_init(&pp);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (rev_reason(optarg, &reason) == -1)
				return (EXIT_USAGE);
			break;
		case 'm':
			message = optarg;
			break;
		case 'k':
			withkey = optarg;
			break;
		case 'c':
			certfile = optarg;
			break;
		case 'P':
			if (ctl_pass_fd(&pp, optarg) == -1)
				return (EXIT_USAGE);
			break;
		default:
			return (ctl_usage(REVOKE_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || (withkey != NULL && certfile != NULL))
		return (ctl_usage(REVOKE_USAGE));
	if (message != NULL && withkey == NULL) {
		warnx("--message needs --with-key: the text is part of the "
		    "signature, made now");
		return (EXIT_USAGE);
	}
	if (certfile != NULL && reason != PGP_REV_UNSPECIFIED) {
		warnx("--reason does not apply to --certificate: its reason "
		    "was fixed when it was made");
		return (EXIT_USAGE);
	}

	/* Read the files before opening the store. */
	if (withkey != NULL && ctl_read_file(withkey, REV_FILE_MAX, &keydata,
	    &keylen) == -1)
		return (1);
	if (certfile != NULL && ctl_read_file(certfile, REV_FILE_MAX,
	    &certdata, &certlen) == -1)
		return (1);

	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
		goto out;
	if (rev_target(txn, argv[0], fpr) == -1)
		goto abort;
	if ((rc = ks_cert_get(txn, fpr, &cert)) != KS_OK) {
		warnx("key %s: %s", fpr, rc == KS_NOTFOUND ?
		    "not in the store" : ks_strerror(rc));
		goto abort;
	}
	(void)key_state(txn, fpr, old, sizeof(old));
	if (withkey != NULL) {
		if (pgp_revoke_make(withkey, keydata, keylen, fpr, reason,
		    message, &pp, &made, &madelen) == -1)
			goto abort;
		sig = made;
		slen = madelen;
		how = "signed now with the secret key given";
	} else if (certfile != NULL) {
		sig = certdata;
		slen = certlen;
		how = "revocation certificate given";
	} else {
		if ((rc = ks_revoc_get(txn, fpr, &revs)) == KS_NOTFOUND) {
			warnx("key %s: no revocation certificate stored (it "
			    "is made when a secret keypair is imported): "
			    "give --with-key or --certificate", fpr);
			goto abort;
		} else if (rc != KS_OK) {
			warnx("key %s: %s", fpr, ks_strerror(rc));
			goto abort;
		}
		if ((got = pgp_revoc_pick(fpr, cert.data, cert.len,
		    revs.data, revs.len, reason, &sig, &slen, NULL)) == -1)
			goto abort;
		if (got == 0) {
			warnx("key %s: no usable stored revocation "
			    "certificate for reason %s%s", fpr,
			    pgp_reason_name(reason),
			    strncmp(old, "revoked", 7) == 0 ?
			    " (the key is revoked already)" : "");
			goto abort;
		}
		how = "stored revocation certificate";
	}
	if (pgp_revoke_apply(certfile != NULL ? certfile : "revocation",
	    fpr, cert.data, cert.len, sig, slen, &newc, &newlen,
	    &reason) == -1)
		goto abort;
	/* Clean it as import does: only valid self-signatures stay. */
	if (pgp_merge(fpr, NULL, 0, newc, newlen, &m) == -1)
		goto abort;
	if (!m.revoked) {
		warnx("key %s: not revoked after cleaning", fpr);
		goto abort;
	}
	if ((rc = ks_cert_put(txn, fpr, m.data, m.len)) != KS_OK) {
		warnx("key %s: %s", fpr, ks_strerror(rc));
		goto abort;
	}
	if (ctl_log(txn, fpr, "key %s: %s -> revoked (%s%s%s); %s", fpr, old,
	    pgp_reason_name(reason), message != NULL ? ": " : "",
	    message != NULL ? message : "", how) != KS_OK)
		goto abort;
	/* Every address serving it (or serving it as predecessor). */
	if (key_refresh_key(txn, fpr, stderr) == -1)
		goto abort;
	if (ctl_addrs(txn, NULL, &l) == -1)
		goto abort;
	if (ctl_commit(ctl, txn) == -1) {
		txn = NULL;
		goto out;
	}
	txn = NULL;
	printf("key %s revoked (%s), %s\n", fpr, pgp_reason_name(reason),
	    how);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].fpr, fpr) == 0)
			printf("  served revoked at %s\n", l.v[i].addr);
	ret = 0;
	goto out;
abort:
	ks_txn_abort(txn);
	warnx("revoke failed: the store is unchanged");
out:
	ctl_pass_clear(&pp);
	ctl_addrs_free(&l);
	ks_blob_free(&cert);
	ks_blob_free(&revs);
	ctl_wipe(keydata, keylen);
	free(certdata);
	free(made);
	free(newc);
	pgp_cert_free(&m);
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
			if (rev_reason(optarg, &reason) == -1)
				return (EXIT_USAGE);
			break;
		default:
			return (ctl_usage(EXPREV_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return (ctl_usage(EXPREV_USAGE));
	if (ctl_fpr(argv[0], fpr) == -1) {
		warnx("%s: not a fingerprint", argv[0]);
		return (1);
	}
	if (ctl_open(ctl, 0) == -1 || ctl_begin(ctl, 0, &txn) == -1)
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
	if (ctl_log(txn, fpr, "revocation certificate (%s) exported%s%s",
	    pgp_reason_name(reason), out != NULL ? " to " : "",
	    out != NULL ? out : "") != KS_OK)
		goto abort;
	if (ctl_commit(ctl, txn) == -1) {
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
	rc = ctl_write_all(fd, (unsigned char *)arm, alen);
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
