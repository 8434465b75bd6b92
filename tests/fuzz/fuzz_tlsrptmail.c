/*
 * fuzz_tlsrptmail: what wkdctl tlsrpt receive takes of a mail
 * (tlsrpt_mail(): MIME parts through multipart bodies, base64, gzip
 * inflated with a 1 MiB cap), then report_parse() on it as receive does.
 * Nothing over the cap ever comes out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "report.h"
#include "wkdctl.h"

#define FUZZ_MAX	(1024 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct report	 r;
	unsigned char	*json;
	size_t		 jlen;
	char		 err[256];

	if (tlsrpt_mail((const char *)data, len, FUZZ_MAX, &json, &jlen, err,
	    sizeof(err)) != 0) {
		if (json != NULL)
			abort();
		return (0);
	}
	if (jlen > FUZZ_MAX)
		abort();
	if (report_parse(json, jlen, FUZZ_MAX, &r, err, sizeof(err)) == 0)
		report_free(&r);
	free(json);
	return (0);
}
