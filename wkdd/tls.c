/*
 * tls.c: the server's certificate and key, read into memory and handed to
 * GnuTLS by a certificate callback (MHD_OPTION_HTTPS_CERT_CALLBACK).
 *
 * The credentials in use are one atomically swapped pointer: SIGHUP loads
 * a new set and tls_install() swaps it in, so the next handshake gets it
 * while connections already open go on with the old one.  A replaced set
 * may still be in use by a handshake, so it is kept on a list until
 * tls_cleanup() at exit (one small set per reload).
 *
 * Per-name certificates (SNI, a tls-dir of certbot live/NAME/ directories)
 * fit here: tls_cert_cb() would look gnutls_server_name_get()'s name up in
 * a table held by the struct tls_cred and fall back to the default pair.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "wkdd.h"

#define TLS_FILE_MAX	(1024 * 1024)
#define TLS_CHAIN_MAX	16

struct tls_cred {
	gnutls_pcert_st		 pcert[TLS_CHAIN_MAX];
	unsigned		 npcert;
	gnutls_privkey_t	 key;
	struct tls_cred		*next;		/* Retired list. */
};

static _Atomic(struct tls_cred *)	 tls_current;
static struct tls_cred			*tls_retired;	/* Main thread. */

static int	tls_read(const char *, const char *, int, gnutls_datum_t *,
		    char *, size_t);

/*
 * Reads file (for directive what) into d (malloc(3)ed).  secret: refuse a
 * file that is group or world accessible or owned by another user.
 */
static int
tls_read(const char *what, const char *file, int secret, gnutls_datum_t *d,
    char *err, size_t errsz)
{
	struct stat	 st;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	d->data = NULL;
	d->size = 0;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(err, errsz, "%s %s: %s", what, file,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		(void)snprintf(err, errsz, "%s %s: %s", what, file,
		    strerror(errno));
		goto close;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)snprintf(err, errsz, "%s %s: not a regular file", what,
		    file);
		goto close;
	}
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		(void)snprintf(err, errsz, "%s %s: group or world accessible "
		    "(mode %03o), want 600", what, file,
		    (unsigned)(st.st_mode & 0777));
		goto close;
	}
	if (secret && st.st_uid != 0 && st.st_uid != geteuid()) {
		(void)snprintf(err, errsz, "%s %s: owned by uid %u, want root "
		    "or uid %u", what, file, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		goto close;
	}
	if (st.st_size <= 0 || st.st_size > TLS_FILE_MAX) {
		(void)snprintf(err, errsz, "%s %s: empty or larger than %d "
		    "bytes", what, file, TLS_FILE_MAX);
		goto close;
	}
	if ((d->data = malloc(st.st_size + 1)) == NULL) {
		(void)snprintf(err, errsz, "%s: %s", what, strerror(errno));
		goto close;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, d->data + len, st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			(void)snprintf(err, errsz, "%s %s: %s", what, file,
			    n == 0 ? "short read" : strerror(errno));
			goto free;
		}
		len += n;
	}
	d->data[len] = '\0';
	d->size = len;
	(void)close(fd);
	return (0);
free:
	gnutls_memset(d->data, 0, st.st_size);
	free(d->data);
	d->data = NULL;
close:
	(void)close(fd);
	return (-1);
}

struct tls_cred *
tls_load(const struct conf *conf, char *err, size_t errsz)
{
	gnutls_certificate_credentials_t	 check;
	gnutls_datum_t				 cert, key;
	struct tls_cred				*c;
	int					 rc;

	if (tls_read("tls-cert", conf->tls_cert, 0, &cert, err, errsz) == -1)
		return (NULL);
	if (tls_read("tls-key", conf->tls_key, 1, &key, err, errsz) == -1)
		goto freecert;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)snprintf(err, errsz, "tls: %s", strerror(errno));
		goto freekey;
	}

	/* Let GnuTLS check that key and certificate belong together. */
	if ((rc = gnutls_certificate_allocate_credentials(&check)) < 0) {
		(void)snprintf(err, errsz, "tls: %s", gnutls_strerror(rc));
		goto freec;
	}
	rc = gnutls_certificate_set_x509_key_mem2(check, &cert, &key,
	    GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(check);
	if (rc < 0) {
		(void)snprintf(err, errsz, "tls-cert %s, tls-key %s: %s",
		    conf->tls_cert, conf->tls_key, gnutls_strerror(rc));
		goto freec;
	}

	c->npcert = TLS_CHAIN_MAX;
	if ((rc = gnutls_pcert_list_import_x509_raw(c->pcert, &c->npcert,
	    &cert, GNUTLS_X509_FMT_PEM, 0)) < 0) {
		(void)snprintf(err, errsz, "tls-cert %s: %s", conf->tls_cert,
		    gnutls_strerror(rc));
		c->npcert = 0;
		goto freec;
	}
	if ((rc = gnutls_privkey_init(&c->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(c->key, &key,
	    GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		(void)snprintf(err, errsz, "tls-key %s: %s", conf->tls_key,
		    gnutls_strerror(rc));
		goto freec;
	}
	gnutls_memset(key.data, 0, key.size);
	free(key.data);
	free(cert.data);
	return (c);
freec:
	tls_free(c);
freekey:
	gnutls_memset(key.data, 0, key.size);
	free(key.data);
freecert:
	free(cert.data);
	return (NULL);
}

time_t
tls_expiry(const struct tls_cred *c)
{
	gnutls_x509_crt_t	crt;
	time_t			t = (time_t)-1;

	if (c->npcert == 0 || gnutls_x509_crt_init(&crt) < 0)
		return (t);
	if (gnutls_x509_crt_import(crt, &c->pcert[0].cert,
	    GNUTLS_X509_FMT_DER) >= 0)
		t = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	return (t);
}

void
tls_free(struct tls_cred *c)
{
	unsigned	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->npcert; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	if (c->key != NULL)
		gnutls_privkey_deinit(c->key);
	free(c);
}

void
tls_install(struct tls_cred *c)
{
	struct tls_cred	*old;

	old = atomic_exchange_explicit(&tls_current, c, memory_order_acq_rel);
	if (old != NULL) {
		old->next = tls_retired;
		tls_retired = old;
	}
}

void
tls_cleanup(void)
{
	struct tls_cred	*c;

	tls_free(atomic_exchange(&tls_current, NULL));
	while ((c = tls_retired) != NULL) {
		tls_retired = c->next;
		tls_free(c);
	}
}

/*
 * gnutls_certificate_retrieve_function2: the current pair.  GnuTLS does
 * not free what we return (no GNUTLS_CERT_RETR_DEINIT_ALL here).
 */
int
tls_cert_cb(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey)
{
	struct tls_cred	*c;

	(void)session;
	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	c = atomic_load_explicit(&tls_current, memory_order_acquire);
	if (c == NULL)
		return (-1);
	*pcert = c->pcert;
	*pcert_length = c->npcert;
	*privkey = c->key;
	return (0);
}
