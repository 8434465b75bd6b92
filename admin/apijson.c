/*
 * apijson.c: the admin API's request bodies, parsed with jansson into
 * the fields a handler names (api_json_parse()).  Pure: no store, no
 * I/O; fuzzed by tests/fuzz/fuzz_apijson.c.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "keystore.h"
#include "wkdctl.h"

/* A string of json value v into out (outsz), or -1 if it isn't one. */
static int
api_str(json_t *v, char *out, size_t outsz)
{
	const char	*s;
	size_t		 len;

	if (!json_is_string(v))
		return (-1);
	s = json_string_value(v);
	len = json_string_length(v);
	/* jansson allows NUL in strings (\u0000): not in ours. */
	if (len >= outsz || strlen(s) != len)
		return (-1);
	memcpy(out, s, len + 1);
	return (0);
}

int
api_json_parse(const char *body, size_t len, struct api_field *fields,
    size_t n, char *err, size_t errsz)
{
	json_error_t	 je;
	json_t		*root, *v, *e;
	const char	*key;
	size_t		 i, j;
	int		 rc = -1;

	for (i = 0; i < n; i++)
		fields[i].seen = 0;
	/* Duplicated members are refused; the whole body is one value. */
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		(void)snprintf(err, errsz, "malformed JSON at line %d column "
		    "%d: %s", je.line, je.column, je.text);
		return (-1);
	}
	if (!json_is_object(root)) {
		(void)snprintf(err, errsz, "the body is not a JSON object");
		goto out;
	}
	json_object_foreach(root, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(fields[i].name, key) == 0)
				break;
		if (i == n) {
			(void)snprintf(err, errsz, "unknown member \"%.64s\"",
			    key);
			goto out;
		}
		fields[i].seen = 1;
		switch (fields[i].type) {
		case API_STR:
			if (api_str(v, fields[i].str, fields[i].strsz) == -1) {
				(void)snprintf(err, errsz, "%s: not a string "
				    "of at most %zu bytes", key,
				    fields[i].strsz - 1);
				goto out;
			}
			break;
		case API_STRV:
			if (!json_is_array(v) ||
			    json_array_size(v) > fields[i].maxstrv) {
				(void)snprintf(err, errsz, "%s: not an array "
				    "of at most %zu strings", key,
				    fields[i].maxstrv);
				goto out;
			}
			json_array_foreach(v, j, e)
				if (api_str(e, fields[i].strv[j],
				    KS_ADDR_MAX) == -1) {
					(void)snprintf(err, errsz, "%s[%zu]: "
					    "not a string of at most %d "
					    "bytes", key, j, KS_ADDR_MAX - 1);
					goto out;
				}
			*fields[i].nstrv = json_array_size(v);
			break;
		case API_BOOL:
			if (!json_is_boolean(v)) {
				(void)snprintf(err, errsz, "%s: not true or "
				    "false", key);
				goto out;
			}
			*fields[i].b = json_is_true(v);
			break;
		default:
			(void)snprintf(err, errsz, "%s: unknown type", key);
			goto out;
		}
	}
	for (i = 0; i < n; i++)
		if (fields[i].required && !fields[i].seen) {
			(void)snprintf(err, errsz, "member \"%s\" missing",
			    fields[i].name);
			goto out;
		}
	rc = 0;
out:
	json_decref(root);
	return (rc);
}

void
api_log_init(struct api_logq *q)
{
	memset(q, 0, sizeof(*q));
	q->limit = API_LOG_LIMIT;
}

/* value as a number from min to max into *out: 0 or -1. */
static int
api_num(const char *value, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	char	*end;

	if (value[0] < '0' || value[0] > '9')
		return (-1);
	errno = 0;
	*out = strtoull(value, &end, 10);
	return (errno != 0 || *end != '\0' || *out < min || *out > max ?
	    -1 : 0);
}

/* value as text of at most outsz - 1 bytes into out: 0 or -1. */
static int
api_text(const char *value, char *out, size_t outsz)
{
	size_t	 len = strlen(value);

	if (len == 0 || len >= outsz)
		return (-1);
	memcpy(out, value, len + 1);
	return (0);
}

int
api_log_arg(struct api_logq *q, const char *name, const char *value,
    char *err, size_t errsz)
{
	unsigned long long	 n;
	const char		*why;
	char			 dom[KS_DOMAIN_MAX];

	if (value == NULL)
		value = "";
	if (strcmp(name, "limit") == 0) {
		why = "from 1 to 1000";
		if (api_num(value, 1, API_LOG_MAX, &n) == -1)
			goto bad;
		q->limit = n;
	} else if (strcmp(name, "after") == 0) {
		why = "a sequence number (the previous page's \"next\")";
		if (api_num(value, 0, UINT64_MAX, &n) == -1)
			goto bad;
		q->after = n;
	} else if (strcmp(name, "since") == 0 || strcmp(name, "until") == 0) {
		why = "a time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @seconds)";
		if (audit_time(value, name[0] == 's' ? &q->since :
		    &q->until) == -1)
			goto bad;
	} else if (strcmp(name, "domain") == 0) {
		why = "not a domain";
		if (ks_domain_norm(value, q->domain, sizeof(q->domain)) !=
		    KS_OK)
			goto bad;
	} else if (strcmp(name, "subject") == 0) {
		why = "an address, domain or fingerprint";
		if (strchr(value, '@') != NULL) {
			if (ks_addr_norm(value, q->subject, sizeof(q->subject),
			    dom, sizeof(dom)) != KS_OK)
				goto bad;
			q->kind = 0;
		} else if (cli_fpr(value, q->subject) == 0)
			q->kind = 1;
		else if (ks_domain_norm(value, q->subject,
		    sizeof(q->subject)) == KS_OK)
			q->kind = 2;
		else
			goto bad;
	} else if (strcmp(name, "actor") == 0) {
		why = "empty or too long";
		if (api_text(value, q->actor, sizeof(q->actor)) == -1)
			goto bad;
	} else if (strcmp(name, "token") == 0) {
		why = "not a token name";
		if (value[0] == '\0' || strlen(value) >= KS_TOKEN_NAME_MAX ||
		    snprintf(q->actor, sizeof(q->actor), "token:%.*s",
		    KS_TOKEN_NAME_MAX - 1, value) >= (int)sizeof(q->actor))
			goto bad;
	} else if (strcmp(name, "action") == 0) {
		why = "empty or too long";
		if (api_text(value, q->action, sizeof(q->action)) == -1)
			goto bad;
	} else {
		(void)snprintf(err, errsz, "unknown query argument \"%.64s\"",
		    name);
		return (-1);
	}
	return (0);
bad:
	(void)snprintf(err, errsz, "%s: %s", name, why);
	return (-1);
}
