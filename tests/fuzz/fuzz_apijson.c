/*
 * fuzz_apijson: the admin API's request bodies (api_json_parse(), with
 * jansson), which any token holder sends.  The first byte picks the
 * fields of one of the routes that take a body; the rest is the body.
 * What comes back on success must fit its field: strings NUL-terminated
 * within their buffers, arrays within their bound; a refusal must say
 * why.  A first byte 'q' makes the rest GET /v1/log's query instead
 * ("name=value&..."), argument by argument into api_log_arg(): what it
 * accepts must be within its bounds.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "wkdctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NALIAS	8

static char	 strv[NALIAS][KS_ADDR_MAX];

/* The query in data (len bytes): each argument into q, as MHD hands them. */
static void
fuzz_query(const uint8_t *data, size_t len)
{
	struct api_logq	 q;
	char		*buf, *p, *arg, *eq, err[256];

	if ((buf = malloc(len + 1)) == NULL)
		return;
	memcpy(buf, data, len);
	buf[len] = '\0';
	api_log_init(&q);
	for (p = buf; (arg = strsep(&p, "&")) != NULL;) {
		if ((eq = strchr(arg, '=')) != NULL)
			*eq++ = '\0';
		err[0] = '\0';
		if (api_log_arg(&q, arg, eq, err, sizeof(err)) == -1) {
			if (err[0] == '\0' ||
			    memchr(err, '\0', sizeof(err)) == NULL)
				abort();
			continue;
		}
		if (q.limit < 1 || q.limit > API_LOG_MAX ||
		    q.kind < 0 || q.kind > 2 ||
		    memchr(q.domain, '\0', sizeof(q.domain)) == NULL ||
		    memchr(q.subject, '\0', sizeof(q.subject)) == NULL ||
		    memchr(q.actor, '\0', sizeof(q.actor)) == NULL ||
		    memchr(q.action, '\0', sizeof(q.action)) == NULL)
			abort();
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char			 a[KS_ADDR_MAX], b[32], err[256];
	size_t			 n = 0, i, nf;
	int			 flag = 0, rc;
	struct api_field	 f[3];

	if (len == 0)
		return (0);
	if (data[0] == 'q') {
		fuzz_query(data + 1, len - 1);
		return (0);
	}
	memset(f, 0, sizeof(f));
	memset(a, 'x', sizeof(a));
	memset(b, 'x', sizeof(b));
	switch (data[0] % 3) {
	case 0:		/* POST /v1/accounts */
		f[0] = (struct api_field){ "primary", API_STR, 1, a,
		    sizeof(a), NULL, 0, NULL, NULL, 0 };
		f[1] = (struct api_field){ "aliases", API_STRV, 0, NULL, 0,
		    strv, NALIAS, &n, NULL, 0 };
		f[2] = (struct api_field){ "dry_run", API_BOOL, 0, NULL, 0,
		    NULL, 0, NULL, &flag, 0 };
		nf = 3;
		break;
	case 1:		/* POST .../aliases */
		f[0] = (struct api_field){ "alias", API_STR, 1, a, sizeof(a),
		    NULL, 0, NULL, NULL, 0 };
		nf = 1;
		break;
	default:	/* POST .../revoke */
		f[0] = (struct api_field){ "reason", API_STR, 0, b, sizeof(b),
		    NULL, 0, NULL, NULL, 0 };
		nf = 1;
		break;
	}
	err[0] = '\0';
	rc = api_json_parse((const char *)data + 1, len - 1, f, nf, err,
	    sizeof(err));
	if (rc == -1) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return (0);
	}
	for (i = 0; i < nf; i++) {
		if (f[i].required && !f[i].seen)
			abort();
		if (!f[i].seen)
			continue;
		if (f[i].type == API_STR &&
		    strlen(f[i].str) >= f[i].strsz)
			abort();
		if (f[i].type == API_STRV) {
			if (n > NALIAS)
				abort();
			while (n-- > 0)
				if (memchr(strv[n], '\0', KS_ADDR_MAX) == NULL)
					abort();
		}
		if (f[i].type == API_BOOL && flag != 0 && flag != 1)
			abort();
	}
	return (0);
}
