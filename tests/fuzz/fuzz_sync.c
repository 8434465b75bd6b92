/*
 * fuzz_sync: wkdctl account sync's reader of a provider's file (lines of
 * tab-separated addresses), which takes whatever the operator's export
 * holds.  Every line read must come back with its addresses printable.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "wkdctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct sync_report	 r;
	FILE			*fp;
	size_t			 i, j;
	const unsigned char	*p;

	if (len == 0 || (fp = fmemopen((void *)(uintptr_t)data, len,
	    "r")) == NULL)
		return (0);
	if (sync_read(fp, "fuzz", &r) == 0)
		for (i = 0; i < r.n; i++)
			for (j = 0; j < r.v[i].n; j++) {
				p = (const unsigned char *)r.v[i].v[j].addr;
				for (; *p != '\0'; p++)
					if (*p < 0x20 || *p == 0x7f)
						abort();
			}
	sync_report_free(&r);
	(void)fclose(fp);
	return (0);
}
