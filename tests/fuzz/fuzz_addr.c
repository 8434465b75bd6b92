/*
 * fuzz_addr: address and domain normalisation and the WKD hash, on any
 * bytes (UID addr-specs and request paths come from outside).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char		*s, addr[KS_ADDR_MAX], dom[KS_DOMAIN_MAX];
	char		 hash[KS_HASH_LEN + 1];

	if ((s = malloc(len + 1)) == NULL)
		return (0);
	memcpy(s, data, len);
	s[len] = '\0';
	if (ks_addr_norm(s, addr, sizeof(addr), dom, sizeof(dom)) == KS_OK) {
		/* A normalised address is a fixed point. */
		char	 again[KS_ADDR_MAX];

		if (ks_addr_norm(addr, again, sizeof(again), NULL, 0) !=
		    KS_OK || strcmp(addr, again) != 0)
			abort();
		if (ks_wkd_hash(addr, strchr(addr, '@') - addr, hash) !=
		    KS_OK || !ks_hash_valid(hash, strlen(hash)))
			abort();
	}
	(void)ks_domain_norm(s, dom, sizeof(dom));
	(void)ks_hash_valid(s, strlen(s));
	free(s);
	return (0);
}
