/*
 * fuzz_import: what wkdctl import does with a file's bytes: read the keys
 * (RNP), merge and clean each, shape a one-UID blob for every valid UID
 * and check it as the store would.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "wkdctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pgp_certs	 certs;
	struct pgp_cert		 c;
	unsigned char		*blob;
	size_t			 i, j, blen;
	int			 rc;

	memset(&certs, 0, sizeof(certs));
	if (pgp_read("fuzz", data, len, NULL, &certs) == 0) {
		for (i = 0; i < certs.n; i++) {
			memset(&c, 0, sizeof(c));
			if (pgp_merge(certs.v[i].fpr, NULL, 0, certs.v[i].data,
			    certs.v[i].len, &c) != 0) {
				pgp_cert_free(&c);
				continue;
			}
			for (j = 0; j < c.nuids; j++) {
				if (c.uids[j].kind != PGP_UID_OK ||
				    c.uids[j].text == NULL)
					continue;
				if (pgp_shape(&c, c.uids[j].text, &blob,
				    &blen) != 0)
					continue;
				/* What import stores must pass the store. */
				rc = ks_pgp_scan(blob, blen, NULL);
				if (rc != KS_OK && blen <= KS_BLOB_MAX)
					abort();
				free(blob);
			}
			pgp_cert_free(&c);
		}
	}
	pgp_certs_free(&certs);
	return (0);
}
