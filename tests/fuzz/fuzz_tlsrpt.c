/*
 * fuzz_tlsrpt: the TLSRPT report parser (wkdd/report.c), as wkdd's POST
 * /tlsrpt and wkdctl tlsrpt use it: gzip input (its magic) through
 * report_gunzip() with a 1 MiB cap first, then report_parse().  A report
 * it accepts must have its policies' domains as A-labels and every
 * failure-detail a result-type; what inflates past the cap must be
 * refused as too big, never returned.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "report.h"

#define FUZZ_MAX	(1024 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct report		 r;
	struct report_policy	 p;
	struct report_detail	 d;
	unsigned char		*json = NULL;
	const void		*in = data;
	size_t			 jlen = len, i, j;
	char			 err[256], a[KS_DOMAIN_MAX];
	int			 rc;

	if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		rc = report_gunzip(data, len, FUZZ_MAX, &json, &jlen, err,
		    sizeof(err));
		if (rc != 0) {
			if (json != NULL)
				abort();
			return (0);
		}
		if (jlen > FUZZ_MAX)
			abort();
		in = json;
	}
	if (report_parse(in, jlen, FUZZ_MAX, &r, err, sizeof(err)) == 0) {
		if (r.npolicies == 0 || r.id[0] == '\0' || r.start > r.end)
			abort();
		for (i = 0; i < r.npolicies; i++) {
			report_policy(&r, i, &p);
			if (p.type == NULL || ks_domain_norm(p.domain, a,
			    sizeof(a)) != KS_OK || strcmp(a, p.domain) != 0)
				abort();
			for (j = 0; j < report_ndetails(&p); j++) {
				report_detail(&p, j, &d);
				if (d.result == NULL)
					abort();
			}
		}
		report_free(&r);
	}
	free(json);
	return (0);
}
