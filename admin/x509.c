/*
 * x509.c: the certificates wkdd serves, as wkdctl reads them: which file
 * serves a name (tls-dir's live/NAME/fullchain.pem, else tls-cert),
 * loading it, and its TLSA 3 1 1 hash.
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "keystore.h"
#include "wkdctl.h"

void
x509_hex(const unsigned char *in, size_t len, char *out)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int
x509_tlsa(gnutls_x509_crt_t crt, unsigned char out[DNS_TLSA_LEN])
{
	gnutls_pubkey_t	 pk;
	gnutls_datum_t	 der = { NULL, 0 };
	int		 rc = -1;

	if (gnutls_pubkey_init(&pk) < 0)
		return (-1);
	if (gnutls_pubkey_import_x509(pk, crt, 0) < 0 ||
	    gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &der) < 0)
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, out) == 0)
		rc = 0;
out:
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pk);
	return (rc);
}

int
x509_cert_path(const struct zone_conf *dc, const char *host, char *out,
    size_t outsz)
{
	int	 n;

	if (dc->tls_dir != NULL) {
		n = snprintf(out, outsz, "%s/live/%s/fullchain.pem",
		    dc->tls_dir, host);
		if (n >= 0 && (size_t)n < outsz && access(out, R_OK) == 0)
			return (0);
	}
	if (dc->cert == NULL || dc->cert[0] == '\0')
		return (-1);
	n = snprintf(out, outsz, "%s", dc->cert);
	if (n < 0 || (size_t)n >= outsz || access(out, R_OK) == -1)
		return (-1);
	return (0);
}

int
x509_load(const char *path, gnutls_x509_crt_t *crtp)
{
	gnutls_datum_t	 pem = { NULL, 0 };
	int		 rc;

	*crtp = NULL;
	if ((rc = gnutls_load_file(path, &pem)) < 0) {
		warnx("%s: %s", path, gnutls_strerror(rc));
		return (-1);
	}
	if ((rc = gnutls_x509_crt_init(crtp)) < 0)
		goto bad;
	/* The first certificate of a chain is the server's own. */
	if ((rc = gnutls_x509_crt_import(*crtp, &pem,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		gnutls_x509_crt_deinit(*crtp);
		*crtp = NULL;
		goto bad;
	}
	gnutls_free(pem.data);
	return (0);
bad:
	warnx("%s: %s", path, gnutls_strerror(rc));
	gnutls_free(pem.data);
	return (-1);
}
