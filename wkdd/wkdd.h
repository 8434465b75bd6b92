/*
 * wkdd.h: the daemon's internal interfaces, grouped by file (as OpenBSD
 * httpd.h).  conf.c's are in conf.h, which wkdctl includes instead of
 * this file.
 */
#ifndef WKDD_H
#define WKDD_H

#include <sys/socket.h>

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "keystore.h"
#include "conf.h"

/* route.c: a request's method, Host and raw path to what to serve. */
#define ROUTE_NOTFOUND	0	/* 404. */
#define ROUTE_KEY	1	/* ks_serve_key(domain, hash). */
#define ROUTE_POLICY	2	/* ks_serve_policy(domain). */
#define ROUTE_INDEX	3	/* "/": the www page, if domain is hosted. */
#define ROUTE_OPTIONS	4	/* CORS preflight: 204. */
#define ROUTE_METHOD	5	/* 405. */
#define ROUTE_MTASTS	6	/* ks_serve_mtasts(domain): Host mta-sts.D. */
#define ROUTE_ACME	7	/* Plain HTTP: webroot's token, if hosted. */
#define ROUTE_REDIRECT	8	/* Plain HTTP: 301 to https, if hosted. */
#define ROUTE_WWW	9	/* "/NAME": a file of www (token: NAME). */
#define ROUTE_LOOKUP	10	/* "/lookup[.json|.asc]": www.c, fmt. */
#define ROUTE_STATUS	11	/* "/status": the domain's last check. */
#define ROUTE_TLSRPT	12	/* Any method on /tlsrpt: tlsrpt.c's. */
#define ROUTE_TLSRPT_PATH "/tlsrpt"
#define ROUTE_TOKEN_MAX	256	/* Incl. NUL. */
#define ROUTE_FMT_HTML	0	/* ROUTE_LOOKUP's: the page, */
#define ROUTE_FMT_JSON	1	/* its data, */
#define ROUTE_FMT_ASC	2	/* the key armored. */

struct route {
	int		 kind;			/* ROUTE_* */
	int		 advanced;		/* Host openpgpkey.<domain>. */
	char		 host[KS_DOMAIN_MAX];	/* Normalised; "" if bad. */
	char		 domain[KS_DOMAIN_MAX];	/* A-label. */
	char		 hash[KS_HASH_LEN + 1];
	char		 token[ROUTE_TOKEN_MAX];	/* ROUTE_ACME, _WWW. */
	int		 fmt;			/* ROUTE_LOOKUP: ROUTE_FMT_* */
};

/*
 * Route a request: method as sent, host the Host header (may be NULL),
 * path the request target's path, not percent-decoded, with or without a
 * query (which is ignored).  Fills *r and returns r->kind.  Pure: no I/O,
 * no allocation but libidn2's for non-ASCII names.
 */
int		 route_request(const char *method, const char *host,
		    const char *path, struct route *r);
/*
 * The same for the plain HTTP listener: ROUTE_ACME for GET or HEAD
 * /.well-known/acme-challenge/TOKEN (TOKEN base64url), else ROUTE_REDIRECT
 * for a path of printable ASCII, ROUTE_METHOD for other methods, else
 * ROUTE_NOTFOUND.  r->domain is the Host without an "openpgpkey." or
 * "mta-sts." prefix: the caller serves only if r->host or r->domain is
 * hosted.
 */
int		 route_plain(const char *method, const char *host,
		    const char *path, struct route *r);
/* A hex digit's value (either case), or -1: for percent-escapes. */
int		 route_hex(int c);

/*
 * tlsrpt.c: TLS reports POSTed to /tlsrpt, spooled (see its top).
 * tlsrpt_open(): as root, at startup: the tlsrpt-spool directory (none:
 * off); -1 with err.  tlsrpt_conf(): the limits (also on reload).
 * tlsrpt_take(): a token of tlsrpt-rate's bucket: 1, or 0 with *retry
 * the seconds until one (Retry-After).
 * tlsrpt_begin(): a POST's head, Content-Type and Content-Length (NULL
 * if absent): 0 with *qp made to gather the body, else the status to
 * answer at once (415, 413, 500).  tlsrpt_body(): more of it; -1: close
 * the connection (far over the limit, or out of memory).  tlsrpt_end():
 * the body is in: the status (200, 400, 404, 413, 500, 507), and a
 * reason in msg for 400 and 404.  tlsrpt_is(): is an MHD request
 * context a struct tlsrpt_req?
 */
struct tlsrpt_req;
int		 tlsrpt_open(const struct conf *, char *err, size_t errsz);
void		 tlsrpt_conf(const struct conf *);
int		 tlsrpt_enabled(void);
int		 tlsrpt_is(const void *);
int		 tlsrpt_take(unsigned *retry);
unsigned	 tlsrpt_begin(const char *type, const char *length,
		    struct tlsrpt_req **qp);
int		 tlsrpt_body(struct tlsrpt_req *, const char *, size_t);
unsigned	 tlsrpt_end(struct tlsrpt_req *, struct ks_reader *, char *msg,
		    size_t msgsz);
void		 tlsrpt_free(struct tlsrpt_req *);

/*
 * tls.c: certificates and the session ticket key.  TLS 1.2 and 1.3 only,
 * ECDHE with AEAD ciphers only (no CBC, no SHA-1 signatures), X25519
 * first: the hardening baseline, and the cheapest handshakes.
 */
#define TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305:+AES-256-GCM:" \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-GROUP-ALL:" \
	"+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:" \
	"-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:%SERVER_PRECEDENCE"
#define TLS_TICKET_KEY_MIN	32	/* Bytes of a tls-ticket-key file. */

struct tls_cred;

/*
 * Reads conf's tls-cert (PEM chain) and tls-key (PEM, refused if group or
 * world accessible or owned by another user) and checks that they match.
 * Returns a new set (free with tls_free() unless installed), or NULL with
 * a message in err.
 */
struct tls_cred	*tls_load(const struct conf *, char *err, size_t errsz);
void		 tls_free(struct tls_cred *);
/* When the server certificate expires; (time_t)-1 if unknown. */
time_t		 tls_expiry(const struct tls_cred *);
/*
 * Serve c from the next handshake on; c then belongs to tls.c, and the
 * replaced set lives on until tls_cleanup().  Main thread only.
 */
void		 tls_install(struct tls_cred *c);
void		 tls_cleanup(void);
/*
 * Calls cb for each certificate of the set in use, from any thread (as the
 * certificate callback reads it): first the tls-cert pair (dir NULL, name
 * its certificate's first DNS name, else its CN, else ""), then each
 * tls-dir live/NAME/ (dir and name NAME).  expiry is (time_t)-1 when
 * unknown.  cb must be quick: a reload waits for it.  Returns -1 if no
 * set is installed yet, else 0.
 */
int		 tls_foreach(void (*cb)(const char *dir, const char *name,
		    time_t expiry, void *arg), void *arg);
gnutls_certificate_retrieve_function2	tls_cert_cb;
/*
 * A new server session (before its handshake) gets session tickets once
 * its ClientHello is in, encrypted with keys of its server name's own,
 * derived from the installed set's master key: tls-ticket-key's, or else
 * one made at the first tls_load() and kept by every reload, so tickets
 * stay valid across SIGHUP.  Any thread.
 */
void		 tls_session_start(gnutls_session_t);

/* http.c: the MHD daemons and the request handlers. */
/* HTTPS, plain, metrics. */
#define HTTP_DAEMONS_MAX	(2 * CONF_LISTEN_MAX + CONF_METRICS_MAX)
struct MHD_Daemon;
struct MHD_Response;
struct http_listener;
struct http_page;

/* Shared responses and the store handle; before http_start(). */
int		 http_init(struct ks *);
/*
 * conf's hsts for every HTTPS answer (Strict-Transport-Security), set
 * once before http_page_load() and http_init(); a restart changes it.
 * http_hsts_age(): the max-age set, 0 for off.
 */
void		 http_hsts_set(const struct conf *);
unsigned	 http_hsts_age(void);
/*
 * Strict-Transport-Security on r (a response only HTTPS sends), unless off
 * or there already; 0, or -1 if out of memory.
 */
int		 http_hsts_add(struct MHD_Response *r);
void		 http_cleanup(void);
/*
 * The store requests use; http_store_swap() makes ks it from the next
 * request on and returns the one replaced, which requests already under
 * way may still use: keep it open until http_listener_stop().
 */
struct ks	*http_store(void);
struct ks	*http_store_swap(struct ks *);
/*
 * conf's acme-webroot, opened for the plain HTTP handler (before
 * privileges are dropped); a no-op without one.  -1 with err set.
 */
int		 http_acme_open(const struct conf *, char *err, size_t errsz);
/*
 * As root, before privileges are dropped: the listener of listening socket
 * fd (bound with SO_REUSEPORT), HTTPS or, if plain is set, plain HTTP
 * (ACME challenges and redirects).  An HTTPS listener gets a socket more
 * on fd's address for each CPU but the first, and with pin set each of
 * its threads runs on its CPU and serves the connections that CPU takes
 * (cpu-affinity).  NULL with err set.
 */
struct http_listener *http_listener_new(int fd, int plain, int pin,
		    char *err, size_t errsz);
size_t		 http_listener_threads(const struct http_listener *);
/*
 * Start the listener's daemons (a thread each) with conf's limits.  -1 on
 * error (logged).
 */
int		 http_start(struct http_listener *, const struct conf *);
/*
 * Stop the n listeners ls: stop accepting, give open connections up to
 * wait_ms to finish, close them and the sockets, free the listeners.
 */
void		 http_listener_stop(struct http_listener **ls, size_t n,
		    unsigned wait_ms);
/*
 * Stop the n daemons ds (the metrics listeners') at once, their
 * connections and listening sockets closed.
 */
void		 http_stop(struct MHD_Daemon **ds, size_t n);
/* What a handler answers; http_queue() sends it. */
struct http_reply {
	struct MHD_Response	*resp;	/* NULL: 404, or 500 if status isn't. */
	unsigned		 status;
	size_t			 bytes;	/* Body bytes, for the log. */
	int			 shared;	/* resp outlives the request. */
	int			 body;	/* resp is http_body()'s: a body. */
};
/* If-None-Match value inm names (quoted) etag?  Weak comparison. */
int		 http_etag_match(const char *inm, const char *etag);

/*
 * www.c: the web page.  http_page_load() reads conf's www directory
 * (index.html, which must be there, status.html, style.css, app.js and
 * other files of known types: at most 32, each at most 256 KiB) into a
 * set, NULL if www is unset; sets *err and returns -1 on error.  install
 * swaps it in (the old one lives until www_cleanup(), which http_cleanup()
 * calls).
 */
int		 http_page_load(const struct conf *, struct http_page **,
		    char *err, size_t errsz);
void		 http_page_install(struct http_page *);
void		 http_page_free(struct http_page *);
void		 www_cleanup(void);
/*
 * The handlers, for a hosted r->domain (else rep stays 404), reading
 * through rd; each fills rep.  www_file(): ROUTE_INDEX and ROUTE_WWW;
 * www_lookup(): ROUTE_LOOKUP (the caller applies limit.c's limits: a 404
 * or 400 is a miss); www_status(): ROUTE_STATUS.
 */
struct ks_reader;
struct MHD_Connection;
void		 www_file(struct ks_reader *, struct MHD_Connection *,
		    const struct route *, struct http_reply *);
void		 www_lookup(struct ks_reader *, struct MHD_Connection *,
		    const struct route *, struct http_reply *);
void		 www_status(struct ks_reader *, struct MHD_Connection *,
		    const struct route *, struct http_reply *);
/*
 * Pure parts, for tests and fuzzing.  A growing buffer: data malloc(3)ed
 * and NUL-terminated, the caller's (www_buf_free()); failed set, and data
 * freed, once out of memory.  _html() escapes for HTML text and quoted
 * attributes (& < > " ' and control characters; bytes that aren't UTF-8
 * become U+FFFD); _json() appends a quoted JSON string (likewise, and
 * "<" as \u003c).  www_arg(): a query argument's value (not decoded by
 * MHD: http_unescape()) percent-decoded, '+' a blank, leading and trailing
 * blanks dropped, into out: its length, or -1 (a bad escape, a control
 * character or NUL, no room).  www_template(): t (len bytes) with each
 * {{name}} of vars (name, value: value inserted as it is) replaced, other
 * {{...}} kept.  www_armor(): RFC 4880 6.2 armor of a public key's bytes
 * (base64, CRC-24).  www_status_html(): the HTML of a stored check
 * document (admin/check.c's schema, versions 1 and 2); -1 if it isn't one.
 */
struct www_buf {
	char		*data;
	size_t		 len;
	size_t		 size;
	int		 failed;
};
void		 www_buf_add(struct www_buf *, const void *, size_t);
void		 www_buf_str(struct www_buf *, const char *);
void		 www_buf_fmt(struct www_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 www_buf_html(struct www_buf *, const char *);
void		 www_buf_json(struct www_buf *, const char *);
void		 www_buf_free(struct www_buf *);
int		 www_arg(const char *in, char *out, size_t outsz);
void		 www_template(const char *t, size_t len,
		    const char *const vars[][2], size_t nvars,
		    struct www_buf *);
void		 www_armor(const unsigned char *, size_t, struct www_buf *);
int		 www_status_html(const char *doc, size_t len,
		    struct www_buf *);

/*
 * priv.c: as root with user set, become that user (groups, gid, uid, all
 * checked) and set no_new_privs.  No-op without user or when not root;
 * a user of uid 0 ("user root") stays root, with a warning logged.
 * Returns -1 with err set on failure.
 */
int		 priv_drop(const char *user, char *err, size_t errsz);
/*
 * Started as root without a user directive: conf's user becomes dflt
 * (WKDD_USER) if it exists; if not, -1 with err set (wkdd refuses to
 * start).  Not root, or user set: nothing.
 */
int		 priv_user(struct conf *, const char *dflt, char *err,
		    size_t errsz);
/* The same without a word logged (wkdd -n's checks). */
int		 priv_become(const char *user, char *err, size_t errsz);

/*
 * sandbox.c: once listening, the store open, privileges dropped and before
 * any thread starts: no_new_privs, then (unless conf says "sandbox no")
 * Landlock over conf's paths and the seccomp allow-list, for good.  -1
 * with err set on failure; a kernel without Landlock is logged, not one.
 */
#define SANDBOX_LANDLOCK_ABI	6	/* All sandbox.c uses: older warns. */
int		 sandbox_apply(const struct conf *, char *err, size_t errsz);
#ifdef WKDD_TEST_HOOKS
/*
 * wkdd-test only (SIGUSR1, SIGUSR2 with last set): what the sandbox
 * forbids, tried, each logged as "test-hook: WHAT: ok" or its error; last:
 * a forbidden system call (the process is killed).
 */
void		 sandbox_test_hook(const struct conf *, int last);
#endif

/*
 * check.c: start-up's checks beyond the file (wkdd -n too).  Each returns
 * 0, or -1 with a message (the file, what is wrong, the fix) in err.
 */
/* path made absolute against the working directory, into out. */
int		 check_abspath(const char *path, char *out, size_t outsz);
/* user, if set, exists. */
int		 check_user(const struct conf *, char *err, size_t errsz);
/* The pidfile's directory exists and we may write it. */
int		 check_pidfile(const struct conf *, char *err, size_t errsz);
/*
 * The store in dir opens read-only for who we are now; on EACCES, says
 * which of lock.mdb, data.mdb or the directory is the cause.
 */
int		 check_store(const char *dir, size_t size, char *err,
		    size_t errsz);
/*
 * After the privilege drop: warns (logs) about each file SIGHUP reads that
 * the user can't; -1 if there was any.
 */
int		 check_dropped(const struct conf *);
/*
 * wkdd -n: the store (and, as root with user set, in a child that has
 * become that user, what check_dropped() warns about).  Logs; returns
 * 0, or 1 if start-up would fail.
 */
int		 check_as_user(const struct conf *);

/*
 * pidfile.c: written as root, removed at exit.  pidfile_write() writes
 * our pid to conf's pidfile (if any) and, when the user wkdd becomes
 * could not remove it, leaves a child as root whose one task is to
 * remove it when we exit; it is forked here, so call this before any
 * thread or store exists.  scrub runs in that child first (to free the
 * key material it inherited).  -1 with err set.
 */
int		 pidfile_write(const struct conf *, void (*scrub)(void *),
		    void *arg, char *err, size_t errsz);
/* At exit: remove it, or leave that to the child. */
void		 pidfile_remove(const struct conf *);

/*
 * notify.c: the service manager's notifications (sd_notify(3)), each with
 * a STATUS= line; no-ops unless $NOTIFY_SOCKET is set.  ready: serving
 * (at start and after each reload); reloading: a SIGHUP is being handled;
 * stopping: why.  Never fail: a message that can't be sent is logged once.
 */
void		 notify_ready(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
void		 notify_reloading(const char *path);
void		 notify_stopping(const char *why);

#endif /* WKDD_H */
