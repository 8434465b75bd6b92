/*
 * fuzz_locate: what wkdctl locate and refresh take of another server's
 * answer (locate_pick(): pgp_accept()'s checks, then the key with a valid
 * UID for the address), shaped as locate prints it.  What comes out must
 * pass the store's checks and hold exactly one User ID; a binary input
 * with a secret key packet never comes out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "keystore.h"
#include "wkdctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pgp_cert	 m;
	unsigned char	*blob;
	unsigned	 counts[64];
	size_t		 blen;
	ssize_t		 ui;
	char		 err[512];
	int		 secret;

	secret = len > 0 && (data[0] & 0x80) &&
	    ks_pgp_scan(data, len, NULL) == KS_SECRET;
	if (locate_pick("fuzz", data, len, "alice@example.org", &m, &ui, err,
	    sizeof(err)) == 0) {
		if (secret || ui < 0 || (size_t)ui >= m.nuids)
			abort();
		if (pgp_shape(&m, m.uids[ui].text, &blob, &blen) == 0) {
			memset(counts, 0, sizeof(counts));
			if (ks_pgp_scan(blob, blen, counts) != KS_OK ||
			    counts[KS_PKT_UID] != 1)
				abort();
			free(blob);
		}
		pgp_cert_free(&m);
	}
	return (0);
}
