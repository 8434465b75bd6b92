/* fuzz_pgp: OpenPGP packet framing, as the store checks every blob. */
#include <stdint.h>
#include <stddef.h>

#include "keystore.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned	 counts[64];

	(void)ks_pgp_scan(data, len, counts);
	return (0);
}
