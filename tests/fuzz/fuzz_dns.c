/*
 * fuzz_dns: wkdctl domain check's DNS reply parser, which reads what a
 * network peer sent.  The first input byte picks the record type asked
 * for, the rest is the reply.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/nameser.h>

#include "wkdctl.h"


int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const unsigned types[] = {
	ns_t_a, ns_t_aaaa, ns_t_cname, ns_t_txt, 52 /* TLSA */, 257 /* CAA */
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct dns_ans	 ans;
	char		 txt[512];
	size_t		 i;

	if (len < 1)
		return (0);
	(void)dns_parse(data + 1, len - 1, "openpgpkey.example.org",
	    types[data[0] % (sizeof(types) / sizeof(types[0]))], &ans);
	/* TXT records (MTA-STS, TLSRPT) are read by dns_txt(). */
	for (i = 0; i < ans.nrr; i++)
		if (ans.rr[i].type == ns_t_txt &&
		    dns_txt(&ans.rr[i], txt, sizeof(txt)) == 0 &&
		    strlen(txt) >= sizeof(txt))
			abort();
	dns_ans_free(&ans);
	return (0);
}
