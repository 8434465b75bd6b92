/*
 * fuzz_conf: the wkdd.conf parser on any bytes.  A file that parses must
 * dump to text that parses again to the same settings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct conf	*conf, *again;
	char		 err[512], *buf = NULL;
	size_t		 blen = 0, i;
	FILE		*fp;

	if (conf_parse_buf("fuzz", (const char *)data, len, &conf, err,
	    sizeof(err)) == -1) {
		if (conf != NULL || strncmp(err, "fuzz:", 5) != 0)
			abort();
		return (0);
	}
	if ((fp = open_memstream(&buf, &blen)) == NULL)
		abort();
	if (conf_dump(conf, fp) == -1)
		abort();
	fclose(fp);
	if (conf_parse_buf("fuzz", buf, blen, &again, err, sizeof(err)) == -1)
		abort();
	if (strcmp(conf->store, again->store) != 0 ||
	    strcmp(conf->tls_cert, again->tls_cert) != 0 ||
	    strcmp(conf->tls_key, again->tls_key) != 0 ||
	    strcmp(conf->user, again->user) != 0 ||
	    strcmp(conf->www, again->www) != 0 ||
	    conf->store_size != again->store_size ||
	    conf->max_conns != again->max_conns ||
	    conf->max_conns_per_ip != again->max_conns_per_ip ||
	    conf->timeout != again->timeout ||
	    conf->nlisten != again->nlisten)
		abort();
	for (i = 0; i < conf->nlisten; i++)
		if (conf->listen[i].sslen != again->listen[i].sslen ||
		    memcmp(&conf->listen[i].ss, &again->listen[i].ss,
		    conf->listen[i].sslen) != 0)
			abort();
	free(buf);
	conf_free(again);
	conf_free(conf);
	return (0);
}
