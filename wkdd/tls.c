/*
 * tls.c: certificates and keys, read into memory and handed to GnuTLS by
 * a certificate callback (MHD_OPTION_HTTPS_CERT_CALLBACK) that picks one
 * by the client's server name (SNI).
 *
 * A set (struct tls_cred) holds the default pair (tls-cert, tls-key) and
 * the pairs of tls-dir's live/NAME/ directories, with a sorted index of
 * names: each directory's NAME, then the DNS names of its certificate
 * (wildcards "*.D" included).  The set in use is one atomically swapped
 * pointer: SIGHUP loads a new set and tls_install() swaps it in, so the
 * next handshake gets it while connections already open go on with the
 * old one.  A pair whose files did not change is shared with the new set,
 * not read again.  The replaced set's tables are freed once no certificate
 * callback runs (a counter of callbacks in flight shows it); its pairs
 * that the new set doesn't have may still serve open connections, so they
 * are kept until tls_cleanup() at exit: a reload costs memory only for
 * what was renewed.
 *
 * A live/NAME/ pair that doesn't load is logged and skipped; the pair the
 * previous set had for NAME, if any, stays.
 *
 * Session tickets (resumption without a certificate, a signature or a
 * key exchange's worth of CPU): each set carries the master key GnuTLS
 * derives its rotating ticket keys from, the SHA-512 of tls-ticket-key's
 * contents, or else the key made at random by the first tls_load(), which
 * every later set copies: a reload keeps tickets valid, and servers that
 * share the file accept each other's tickets.  A resumed handshake skips
 * tls_cert_cb, so a session must resume only under the server name it was
 * made for (tls_hello_cb() keys tickets by name), and http.c answers only
 * for the Host that the server name names: a ticket of one tenant's never
 * gets another's keys (tests/integ/t_tls_resume.sh).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "log.h"
#include "wkdd.h"

/* The uid of conf's user, whose keys are accepted too; -1: none. */
static uid_t	tls_user_uid = (uid_t)-1;
/*
 * Debian's convention (package ssl-cert): keys root:ssl-cert, mode 640,
 * readable by the members of that group.  Its gid, or -1.
 */
#define TLS_KEY_GROUP	"ssl-cert"
static gid_t	tls_key_gid = (gid_t)-1;
static int	tls_key_gid_known;

static int	tls_secret_mode(const struct stat *);

#define TLS_FILE_MAX	(1024 * 1024)
#define TLS_CHAIN_MAX	16
#define TLS_NAME_MAX	(CONF_HOST_MAX + 1)	/* Incl. NUL. */
#define TLS_SAN_MAX	100		/* DNS names indexed per certificate. */
#define TLS_DIR_MAX	10000		/* live/ directories. */
#define TLS_RETIRE_TRIES	1000	/* Of TLS_RETIRE_MS: a second. */
#define TLS_RETIRE_MS		1
#define TLS_TICKET_LEN		64	/* GnuTLS's master key size. */
#define TLS_TICKET_FILE_MAX	4096

/* One chain and its key; shared by the sets that use it. */
struct tls_pair {
	gnutls_pcert_st		 pcert[TLS_CHAIN_MAX];
	unsigned		 npcert;
	gnutls_privkey_t	 key;
	time_t			 expiry;
	struct stat		 stc, stk;	/* Of the files read. */
	unsigned		 refs;		/* Main thread only. */
	struct tls_pair		*next;		/* Retired list. */
};

/* A tls-dir live/NAME/ directory and the pair loaded from it. */
struct tls_lineage {
	char			 dir[TLS_NAME_MAX];
	struct tls_pair		*pair;
};

struct tls_entry {
	char			 name[TLS_NAME_MAX];
	struct tls_pair		*pair;
	int			 prio;		/* 0: dir name; 1: SAN. */
	size_t			 order;		/* Of its lineage. */
};

struct tls_cred {
	struct tls_pair		*dflt;
	struct tls_lineage	*lin;
	size_t			 nlin;
	struct tls_entry	*idx;		/* Sorted by name. */
	size_t			 nidx;
	unsigned char		 ticket[TLS_TICKET_LEN];	/* Master. */
	struct tls_cred		*next;		/* Retired list. */
};

static _Atomic(struct tls_cred *)	 tls_current;
static struct tls_cred			*tls_retired;	/* Main thread. */
static struct tls_pair			*tls_retired_pairs;
static atomic_uint			 tls_inflight;	/* Callbacks. */
static unsigned char			 tls_own_ticket[TLS_TICKET_LEN];
static int				 tls_own_ticket_set;	/* Main. */

static int	tls_read(const char *, const char *, int, gnutls_datum_t *,
		    struct stat *, char *, size_t);
static struct tls_pair *tls_pair_load(const char *, const char *,
		    const char *, const char *, char *, size_t);
static void	tls_pair_unref(struct tls_pair *);
static int	tls_same(const struct stat *, const struct stat *);
static int	tls_dirname(const char *);
static int	tls_path(char *, size_t, const char *, const char *,
		    const char *);
static int	tls_entry_cmp(const void *, const void *);
static int	tls_name_cmp(const void *, const void *);
static int	tls_lineage_cmp(const void *, const void *);
static int	tls_dir_load(const char *, const struct tls_cred *,
		    struct tls_cred *, char *, size_t);
static int	tls_index(struct tls_cred *);
static void	tls_retire(struct tls_cred *);
static void	tls_retire_pair(struct tls_pair *);
static struct tls_pair *tls_lookup(const struct tls_cred *,
		    const char *);
static int	tls_ticket_load(const struct conf *, struct tls_cred *,
		    char *, size_t);

/*
 * A key's mode: no access for group or others, or Debian's: owned by
 * root, group ssl-cert with read access only, nothing for others.
 */
static int
tls_secret_mode(const struct stat *st)
{
	struct group	*gr;

	if ((st->st_mode & (S_IRWXG | S_IRWXO)) == 0)
		return (1);
	if (!tls_key_gid_known) {
		if ((gr = getgrnam(TLS_KEY_GROUP)) != NULL)
			tls_key_gid = gr->gr_gid;
		tls_key_gid_known = 1;
	}
	return (st->st_uid == 0 && tls_key_gid != (gid_t)-1 &&
	    st->st_gid == tls_key_gid &&
	    (st->st_mode & (S_IRWXG | S_IRWXO)) == S_IRGRP);
}

/*
 * Reads file (for directive what) into d (malloc(3)ed).  secret: refuse a
 * file that is group or world accessible or owned by another user.  The
 * file's stat goes to *stp if not NULL.
 */
static int
tls_read(const char *what, const char *file, int secret, gnutls_datum_t *d,
    struct stat *stp, char *err, size_t errsz)
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
	if (secret && !tls_secret_mode(&st)) {
		(void)snprintf(err, errsz, "%s %s: group or world accessible "
		    "(mode %03o), want 600 (or 640 owned by root, group "
		    TLS_KEY_GROUP ")", what, file,
		    (unsigned)(st.st_mode & 0777));
		goto close;
	}
	if (secret && st.st_uid != 0 && st.st_uid != geteuid() &&
	    st.st_uid != tls_user_uid) {
		(void)snprintf(err, errsz, "%s %s: owned by uid %u, want root "
		    "or uid %u", what, file, (unsigned)st.st_uid,
		    (unsigned)(tls_user_uid != (uid_t)-1 ? tls_user_uid :
		    geteuid()));
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
	if (stp != NULL)
		*stp = st;
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


/*
 * The pair of chain file cert and key file key; whatc and whatk name them
 * in messages ("tls-cert", "tls-key", "tls-dir").  NULL with err set.
 */
static struct tls_pair *
tls_pair_load(const char *whatc, const char *whatk, const char *cert,
    const char *key, char *err, size_t errsz)
{
	gnutls_certificate_credentials_t	 check;
	gnutls_x509_crt_t			 crt;
	gnutls_datum_t				 dc, dk;
	struct tls_pair				*p;
	int					 rc;

	if (tls_read(whatc, cert, 0, &dc, NULL, err, errsz) == -1)
		return (NULL);
	if (tls_read(whatk, key, 1, &dk, NULL, err, errsz) == -1)
		goto freecert;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		(void)snprintf(err, errsz, "tls: %s", strerror(errno));
		goto freekey;
	}
	p->refs = 1;
	p->expiry = (time_t)-1;
	if (stat(cert, &p->stc) == -1 || stat(key, &p->stk) == -1) {
		(void)snprintf(err, errsz, "%s %s: %s", whatc, cert,
		    strerror(errno));
		goto freep;
	}

	/* Let GnuTLS check that key and certificate belong together. */
	if ((rc = gnutls_certificate_allocate_credentials(&check)) < 0) {
		(void)snprintf(err, errsz, "tls: %s", gnutls_strerror(rc));
		goto freep;
	}
	rc = gnutls_certificate_set_x509_key_mem2(check, &dc, &dk,
	    GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(check);
	if (rc < 0) {
		(void)snprintf(err, errsz, "%s %s, %s %s: %s", whatc, cert,
		    whatk, key, gnutls_strerror(rc));
		goto freep;
	}

	p->npcert = TLS_CHAIN_MAX;
	if ((rc = gnutls_pcert_list_import_x509_raw(p->pcert, &p->npcert,
	    &dc, GNUTLS_X509_FMT_PEM, 0)) < 0) {
		(void)snprintf(err, errsz, "%s %s: %s", whatc, cert,
		    gnutls_strerror(rc));
		p->npcert = 0;
		goto freep;
	}
	if ((rc = gnutls_privkey_init(&p->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(p->key, &dk,
	    GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		(void)snprintf(err, errsz, "%s %s: %s", whatk, key,
		    gnutls_strerror(rc));
		goto freep;
	}
	if (gnutls_x509_crt_init(&crt) >= 0) {
		if (gnutls_x509_crt_import(crt, &p->pcert[0].cert,
		    GNUTLS_X509_FMT_DER) >= 0)
			p->expiry = gnutls_x509_crt_get_expiration_time(crt);
		gnutls_x509_crt_deinit(crt);
	}
	gnutls_memset(dk.data, 0, dk.size);
	free(dk.data);
	free(dc.data);
	return (p);
freep:
	tls_pair_unref(p);
freekey:
	gnutls_memset(dk.data, 0, dk.size);
	free(dk.data);
freecert:
	free(dc.data);
	return (NULL);
}

static void
tls_pair_unref(struct tls_pair *p)
{
	unsigned	i;

	if (p == NULL || --p->refs > 0)
		return;
	for (i = 0; i < p->npcert; i++)
		gnutls_pcert_deinit(&p->pcert[i]);
	if (p->key != NULL)
		gnutls_privkey_deinit(p->key);
	free(p);
}

/* The same file, unchanged since it was read? */
static int
tls_same(const struct stat *a, const struct stat *b)
{
	return (a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size && a->st_mode == b->st_mode &&
	    a->st_uid == b->st_uid &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec);
}

/*
 * A live/ entry that names a host: lowercase letters, digits, '-', '.'
 * (and '_' or '*', which a lookup never matches anyway), not starting with
 * '.'.  certbot's README and its "-0001" lineages pass and are harmless.
 */
static int
tls_dirname(const char *n)
{
	size_t	i;

	if (n[0] == '.' || n[0] == '\0' || strlen(n) >= TLS_NAME_MAX)
		return (0);
	for (i = 0; n[i] != '\0'; i++)
		if (!islower((unsigned char)n[i]) &&
		    !isdigit((unsigned char)n[i]) &&
		    strchr("-._*", n[i]) == NULL)
			return (0);
	return (1);
}

/* a/b + c into buf; -1 if it doesn't fit. */
static int
tls_path(char *buf, size_t sz, const char *a, const char *b, const char *c)
{
	int	n;

	n = snprintf(buf, sz, "%s/%s%s", a, b, c);
	return (n < 0 || (size_t)n >= sz ? -1 : 0);
}

static int
tls_lineage_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct tls_lineage *)a)->dir,
	    ((const struct tls_lineage *)b)->dir));
}

/* By name, then directory names before SANs, then directory order. */
static int
tls_entry_cmp(const void *a, const void *b)
{
	const struct tls_entry	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return (c);
	if (x->prio != y->prio)
		return (x->prio - y->prio);
	return (x->order < y->order ? -1 : x->order > y->order);
}

static int
tls_name_cmp(const void *key, const void *e)
{
	return (strcmp(key, ((const struct tls_entry *)e)->name));
}

/*
 * Loads every tls-dir/live/NAME/ of dir into c->lin, sorted; a pair that
 * fails is logged and the one prev had for NAME kept.  -1 with err set
 * only if live/ can't be read at all.
 */
static int
tls_dir_load(const char *dir, const struct tls_cred *prev,
    struct tls_cred *c, char *err, size_t errsz)
{
	char			 live[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	char			 what[PATH_MAX], msg[PATH_MAX * 2 + 256];
	struct tls_lineage	*l, *old, k;
	struct dirent		*de;
	struct stat		 stc, stk, st;
	struct tls_pair		*p;
	DIR			*dp;
	size_t			 cap = 0;
	int			 n;

	n = snprintf(live, sizeof(live), "%s/live", dir);
	if (n < 0 || (size_t)n >= sizeof(live)) {
		(void)snprintf(err, errsz, "tls-dir %s: path too long", dir);
		return (-1);
	}
	if ((dp = opendir(live)) == NULL) {
		if (errno == ENOENT && stat(dir, &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			/* A fresh install: no certificate issued yet. */
			log_warnx("tls-dir %s: no such directory yet; serving "
			    "tls-cert for every name", live);
			return (0);
		}
		(void)snprintf(err, errsz, "tls-dir %s: %s", live,
		    strerror(errno));
		return (-1);
	}
	while ((de = readdir(dp)) != NULL) {
		if (!tls_dirname(de->d_name))
			continue;
		if (tls_path(what, sizeof(what), live, de->d_name, "") == -1 ||
		    tls_path(cert, sizeof(cert), live, de->d_name,
		    "/fullchain.pem") == -1 ||
		    tls_path(key, sizeof(key), live, de->d_name,
		    "/privkey.pem") == -1)
			continue;
		if (stat(what, &st) == -1 || !S_ISDIR(st.st_mode))
			continue;	/* certbot's README. */
		if (c->nlin == TLS_DIR_MAX) {
			log_warnx("tls-dir %s: more than %d directories, "
			    "the rest ignored", what, TLS_DIR_MAX);
			break;
		}

		(void)snprintf(k.dir, sizeof(k.dir), "%s", de->d_name);
		old = NULL;
		if (prev != NULL && prev->nlin > 0)
			old = bsearch(&k, prev->lin, prev->nlin,
			    sizeof(*prev->lin), tls_lineage_cmp);
		if (old != NULL && stat(cert, &stc) == 0 &&
		    stat(key, &stk) == 0 && tls_same(&stc, &old->pair->stc) &&
		    tls_same(&stk, &old->pair->stk)) {
			p = old->pair;		/* Unchanged. */
			p->refs++;
		} else if ((p = tls_pair_load("tls-dir", "tls-dir", cert,
		    key, msg, sizeof(msg))) == NULL) {
			if (old != NULL) {
				log_warnx("%s; keeping the certificate loaded "
				    "before", msg);
				p = old->pair;
				p->refs++;
			} else {
				log_warnx("%s; not serving this name", msg);
				continue;
			}
		} else if (p->expiry != (time_t)-1 && p->expiry <
		    time(NULL) + WKDD_CERT_SOON) {
			if (p->expiry < time(NULL))
				log_warnx("tls-dir %s: certificate EXPIRED",
				    what);
			else
				log_warnx("tls-dir %s: certificate expires in "
				    "under %d days", what,
				    WKDD_CERT_SOON_DAYS);
		}

		if (c->nlin == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((l = reallocarray(c->lin, cap,
			    sizeof(*l))) == NULL) {
				tls_pair_unref(p);
				(void)snprintf(err, errsz, "tls-dir: %s",
				    strerror(errno));
				(void)closedir(dp);
				return (-1);
			}
			c->lin = l;
		}
		l = &c->lin[c->nlin++];
		memcpy(l->dir, k.dir, sizeof(l->dir));
		l->pair = p;
	}
	(void)closedir(dp);
	if (c->nlin > 0)
		qsort(c->lin, c->nlin, sizeof(*c->lin), tls_lineage_cmp);
	return (0);
}

/*
 * c->idx from c->lin: each directory's name, and the DNS names of its
 * certificate.  A name given twice goes to its directory, else to the
 * first directory (in name order) whose certificate has it.
 */
static int
tls_index(struct tls_cred *c)
{
	gnutls_x509_crt_t	 crt;
	struct tls_entry	*e;
	char			 san[TLS_NAME_MAX];
	size_t			 i, j, cap, n, len;
	unsigned		 crit;
	int			 rc;

	cap = c->nlin * 4;
	if (cap == 0)
		return (0);
	if ((c->idx = calloc(cap, sizeof(*c->idx))) == NULL)
		return (-1);
	for (i = 0; i < c->nlin; i++) {
		if (c->nidx == cap) {
			if ((e = reallocarray(c->idx, cap * 2,
			    sizeof(*e))) == NULL)
				return (-1);
			c->idx = e;
			cap *= 2;
		}
		e = &c->idx[c->nidx++];
		memcpy(e->name, c->lin[i].dir, sizeof(e->name));
		e->pair = c->lin[i].pair;
		e->prio = 0;
		e->order = i;

		if (gnutls_x509_crt_init(&crt) < 0)
			continue;
		if (gnutls_x509_crt_import(crt, &c->lin[i].pair->pcert[0].cert,
		    GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crt);
			continue;
		}
		for (j = 0; j < TLS_SAN_MAX; j++) {
			len = sizeof(san);
			rc = gnutls_x509_crt_get_subject_alt_name(crt, j, san,
			    &len, &crit);
			if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
				break;
			if (rc != GNUTLS_SAN_DNSNAME || len == 0 ||
			    len >= sizeof(san) || memchr(san, '\0', len))
				continue;
			for (n = 0; n < len; n++)
				san[n] = tolower((unsigned char)san[n]);
			if (c->nidx == cap) {
				if ((e = reallocarray(c->idx, cap * 2,
				    sizeof(*e))) == NULL) {
					gnutls_x509_crt_deinit(crt);
					return (-1);
				}
				c->idx = e;
				cap *= 2;
			}
			e = &c->idx[c->nidx++];
			memcpy(e->name, san, len);
			e->name[len] = '\0';
			e->pair = c->lin[i].pair;
			e->prio = 1;
			e->order = i;
		}
		gnutls_x509_crt_deinit(crt);
	}
	qsort(c->idx, c->nidx, sizeof(*c->idx), tls_entry_cmp);
	for (i = j = 0; i < c->nidx; i++)
		if (j == 0 || strcmp(c->idx[j - 1].name, c->idx[i].name) != 0)
			c->idx[j++] = c->idx[i];
	c->nidx = j;
	if ((e = reallocarray(c->idx, c->nidx, sizeof(*e))) != NULL)
		c->idx = e;
	return (0);
}

/*
 * c's ticket master key: the SHA-512 of tls-ticket-key's contents (at
 * least TLS_TICKET_KEY_MIN bytes, a file only its owner can read), or the
 * process's own key, made once.  -1 with err set.
 */
static int
tls_ticket_load(const struct conf *conf, struct tls_cred *c, char *err,
    size_t errsz)
{
	gnutls_datum_t	d;
	int		rc;

	if (conf->tls_ticket_key[0] == '\0') {
		if (!tls_own_ticket_set) {
			if ((rc = gnutls_rnd(GNUTLS_RND_KEY, tls_own_ticket,
			    sizeof(tls_own_ticket))) < 0) {
				(void)snprintf(err, errsz, "tls: ticket key: "
				    "%s", gnutls_strerror(rc));
				return (-1);
			}
			tls_own_ticket_set = 1;
		}
		memcpy(c->ticket, tls_own_ticket, sizeof(c->ticket));
		return (0);
	}
	if (tls_read("tls-ticket-key", conf->tls_ticket_key, 1, &d, NULL,
	    err, errsz) == -1)
		return (-1);
	rc = 0;
	if (d.size < TLS_TICKET_KEY_MIN || d.size > TLS_TICKET_FILE_MAX) {
		(void)snprintf(err, errsz, "tls-ticket-key %s: %u bytes, want "
		    "%d to %d (head -c 64 /dev/urandom)", conf->tls_ticket_key,
		    d.size, TLS_TICKET_KEY_MIN, TLS_TICKET_FILE_MAX);
		rc = -1;
	} else if ((rc = gnutls_hash_fast(GNUTLS_DIG_SHA512, d.data, d.size,
	    c->ticket)) < 0) {
		(void)snprintf(err, errsz, "tls-ticket-key: %s",
		    gnutls_strerror(rc));
		rc = -1;
	}
	gnutls_memset(d.data, 0, d.size);
	free(d.data);
	return (rc);
}

struct tls_cred *
tls_load(const struct conf *conf, char *err, size_t errsz)
{
	struct tls_cred	*c, *prev;
	struct passwd	*pw;
	size_t		 i;
	int		 nsan;

	/*
	 * Keys may belong to the user wkdd becomes, so that a reload after
	 * the drop can read them: known once, while the passwd file can
	 * still be read.
	 */
	if (conf->user[0] != '\0' && tls_user_uid == (uid_t)-1 &&
	    (pw = getpwnam(conf->user)) != NULL)
		tls_user_uid = pw->pw_uid;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)snprintf(err, errsz, "tls: %s", strerror(errno));
		return (NULL);
	}
	if ((c->dflt = tls_pair_load("tls-cert", "tls-key", conf->tls_cert,
	    conf->tls_key, err, errsz)) == NULL)
		goto fail;
	if (tls_ticket_load(conf, c, err, errsz) == -1)
		goto fail;
	if (conf->tls_dir[0] == '\0')
		return (c);
	prev = atomic_load_explicit(&tls_current, memory_order_acquire);
	if (tls_dir_load(conf->tls_dir, prev, c, err, errsz) == -1)
		goto fail;
	if (tls_index(c) == -1) {
		(void)snprintf(err, errsz, "tls-dir: %s", strerror(errno));
		goto fail;
	}
	for (i = 0, nsan = 0; i < c->nidx; i++)
		if (strchr(c->idx[i].name, '*') != NULL)
			nsan++;
	log_info("tls-dir %s: %zu certificates for %zu names (%d wildcards)",
	    conf->tls_dir, c->nlin, c->nidx, nsan);
	return (c);
fail:
	tls_free(c);
	return (NULL);
}

time_t
tls_expiry(const struct tls_cred *c)
{
	return (c->dflt != NULL ? c->dflt->expiry : (time_t)-1);
}

void
tls_free(struct tls_cred *c)
{
	size_t	i;

	if (c == NULL)
		return;
	gnutls_memset(c->ticket, 0, sizeof(c->ticket));
	tls_pair_unref(c->dflt);
	for (i = 0; i < c->nlin; i++)
		tls_pair_unref(c->lin[i].pair);
	free(c->lin);
	free(c->idx);
	free(c);
}

/* Drop the old set's reference to p; keep p if nothing else has it. */
static void
tls_retire_pair(struct tls_pair *p)
{
	if (p == NULL)
		return;
	if (p->refs > 1) {
		p->refs--;
		return;
	}
	p->next = tls_retired_pairs;	/* An open connection may use it. */
	tls_retired_pairs = p;
}

/*
 * A set just replaced: once no callback runs (each one that could have
 * seen it started before the swap), free its tables.  If callbacks keep
 * running for a second, keep it whole until tls_cleanup().
 */
static void
tls_retire(struct tls_cred *old)
{
	struct timespec	 ts = { 0, TLS_RETIRE_MS * 1000 * 1000 };
	size_t		 i;
	int		 tries;

	for (tries = 0; tries < TLS_RETIRE_TRIES; tries++) {
		if (atomic_load_explicit(&tls_inflight,
		    memory_order_seq_cst) == 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (tries == TLS_RETIRE_TRIES) {
		old->next = tls_retired;
		tls_retired = old;
		return;
	}
	tls_retire_pair(old->dflt);
	for (i = 0; i < old->nlin; i++)
		tls_retire_pair(old->lin[i].pair);
	gnutls_memset(old->ticket, 0, sizeof(old->ticket));
	free(old->lin);
	free(old->idx);
	free(old);
}

void
tls_install(struct tls_cred *c)
{
	struct tls_cred	*old;

	/* seq_cst, as the callback's: see tls_retire(). */
	old = atomic_exchange_explicit(&tls_current, c, memory_order_seq_cst);
	if (old != NULL)
		tls_retire(old);
}

void
tls_cleanup(void)
{
	struct tls_cred	*c;
	struct tls_pair	*p;

	tls_free(atomic_exchange(&tls_current, NULL));
	gnutls_memset(tls_own_ticket, 0, sizeof(tls_own_ticket));
	tls_own_ticket_set = 0;
	while ((c = tls_retired) != NULL) {
		tls_retired = c->next;
		tls_free(c);
	}
	while ((p = tls_retired_pairs) != NULL) {
		tls_retired_pairs = p->next;
		p->refs = 1;
		tls_pair_unref(p);
	}
}

/*
 * The pair for server name sni (as sent: any case, maybe a trailing dot):
 * an exact name, else the wildcard "*." of its parent, else the default.
 */
static struct tls_pair *
tls_lookup(const struct tls_cred *c, const char *sni)
{
	const struct tls_entry	*e;
	char			 name[TLS_NAME_MAX + 2];
	const char		*dot;
	size_t			 len, i;

	len = strlen(sni);
	if (len > 0 && sni[len - 1] == '.')
		len--;
	if (c->nidx == 0 || len == 0 || len >= TLS_NAME_MAX)
		return (c->dflt);
	for (i = 0; i < len; i++)
		name[i] = tolower((unsigned char)sni[i]);
	name[len] = '\0';
	if ((e = bsearch(name, c->idx, c->nidx, sizeof(*c->idx),
	    tls_name_cmp)) != NULL)
		return (e->pair);
	if ((dot = strchr(name, '.')) == NULL || dot == name ||
	    dot[1] == '\0')
		return (c->dflt);
	/* "*.rest": shift the rest right behind "*". */
	len = strlen(dot);
	memmove(name + 1, dot, len + 1);
	name[0] = '*';
	if ((e = bsearch(name, c->idx, c->nidx, sizeof(*c->idx),
	    tls_name_cmp)) != NULL)
		return (e->pair);
	return (c->dflt);
}

/*
 * gnutls_certificate_retrieve_function2: the pair for the client's server
 * name.  GnuTLS does not free what we return (no
 * GNUTLS_CERT_RETR_DEINIT_ALL here).
 */
int
tls_cert_cb(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey)
{
	const struct tls_cred	*c;
	struct tls_pair		*p;
	char			 sni[TLS_NAME_MAX + 1];
	size_t			 len = sizeof(sni);
	unsigned		 type;

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	/* In flight before the set is loaded: see tls_retire(). */
	atomic_fetch_add_explicit(&tls_inflight, 1, memory_order_seq_cst);
	c = atomic_load_explicit(&tls_current, memory_order_seq_cst);
	if (c == NULL) {
		atomic_fetch_sub_explicit(&tls_inflight, 1,
		    memory_order_release);
		return (-1);
	}
	p = c->dflt;
	if (c->nidx > 0 && gnutls_server_name_get(session, sni, &len, &type,
	    0) == GNUTLS_E_SUCCESS && type == GNUTLS_NAME_DNS &&
	    len < sizeof(sni)) {
		sni[len] = '\0';
		p = tls_lookup(c, sni);
	}
	*pcert = p->pcert;
	*pcert_length = p->npcert;
	*privkey = p->key;
	atomic_fetch_sub_explicit(&tls_inflight, 1, memory_order_release);
	return (0);
}

/*
 * After the ClientHello (its server name known, its ticket or PSK not yet
 * read): tickets for this session use keys of the server name's own, the
 * HMAC-SHA-512 of the name (lowercase, no trailing dot; "" for none) under
 * the set's master key.  A ticket issued under one name doesn't decrypt
 * under another, so it resumes nothing there: a session resumes only under
 * the name (and so the certificate) it was made for.  GnuTLS checks that
 * for TLS 1.2 itself, but would resume a TLS 1.3 ticket under any name.
 */
static int
tls_hello_cb(gnutls_session_t session)
{
	const struct tls_cred	*c;
	gnutls_datum_t		 key;
	unsigned char		 k[TLS_TICKET_LEN];
	char			 sni[TLS_NAME_MAX + 1];
	size_t			 len = sizeof(sni), i;
	unsigned		 type;
	int			 rc;

	if (gnutls_server_name_get(session, sni, &len, &type, 0) !=
	    GNUTLS_E_SUCCESS || type != GNUTLS_NAME_DNS || len >= sizeof(sni))
		len = 0;
	if (len > 0 && sni[len - 1] == '.')
		len--;
	for (i = 0; i < len; i++)
		sni[i] = tolower((unsigned char)sni[i]);
	/* In flight: see tls_retire(). */
	atomic_fetch_add_explicit(&tls_inflight, 1, memory_order_seq_cst);
	c = atomic_load_explicit(&tls_current, memory_order_seq_cst);
	rc = c == NULL ? -1 : gnutls_hmac_fast(GNUTLS_MAC_SHA512, c->ticket,
	    sizeof(c->ticket), sni, len, k);
	atomic_fetch_sub_explicit(&tls_inflight, 1, memory_order_release);
	if (rc < 0)
		return (0);		/* No tickets, then. */
	/* GnuTLS copies the key (and derives the rotating ones from it). */
	key.data = k;
	key.size = sizeof(k);
	if ((rc = gnutls_session_ticket_enable_server(session, &key)) < 0)
		log_warnx("tls: session tickets: %s", gnutls_strerror(rc));
	gnutls_memset(k, 0, sizeof(k));
	return (0);
}

void
tls_session_start(gnutls_session_t session)
{
	gnutls_handshake_set_post_client_hello_function(session, tls_hello_cb);
}

int
tls_foreach(void (*cb)(const char *, const char *, time_t, void *),
    void *arg)
{
	const struct tls_cred	*c;
	gnutls_x509_crt_t	 crt;
	char			 name[TLS_NAME_MAX];
	size_t			 i, len;
	unsigned		 crit;
	int			 rc;

	/* As tls_cert_cb(): in flight before the set is loaded. */
	atomic_fetch_add_explicit(&tls_inflight, 1, memory_order_seq_cst);
	c = atomic_load_explicit(&tls_current, memory_order_seq_cst);
	if (c == NULL) {
		atomic_fetch_sub_explicit(&tls_inflight, 1,
		    memory_order_release);
		return (-1);
	}
	name[0] = '\0';
	if (c->dflt->npcert > 0 && gnutls_x509_crt_init(&crt) >= 0) {
		if (gnutls_x509_crt_import(crt, &c->dflt->pcert[0].cert,
		    GNUTLS_X509_FMT_DER) >= 0) {
			len = sizeof(name);
			rc = gnutls_x509_crt_get_subject_alt_name(crt, 0, name,
			    &len, &crit);
			if (rc != GNUTLS_SAN_DNSNAME || len >= sizeof(name) ||
			    memchr(name, '\0', len) != NULL) {
				len = sizeof(name);
				if (gnutls_x509_crt_get_dn_by_oid(crt,
				    GNUTLS_OID_X520_COMMON_NAME, 0, 0, name,
				    &len) < 0)
					len = 0;
			}
			name[len < sizeof(name) ? len : 0] = '\0';
		}
		gnutls_x509_crt_deinit(crt);
	}
	cb(NULL, name, c->dflt->expiry, arg);
	for (i = 0; i < c->nlin; i++)
		cb(c->lin[i].dir, c->lin[i].dir, c->lin[i].pair->expiry, arg);
	atomic_fetch_sub_explicit(&tls_inflight, 1, memory_order_release);
	return (0);
}
