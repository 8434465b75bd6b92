/*
 * wkdd: serve a Web Key Directory over HTTPS from the wkdd store.
 *
 * main.c: options, startup (as root: config, sockets, certificates,
 * store; then privileges dropped), and a sigwait() loop: SIGHUP reloads
 * the configuration and certificates, SIGTERM and SIGINT stop.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "keystore.h"
#include "log.h"
#include "wkdd.h"

#define WKDD_STOP_MS	2000	/* Wait for open connections at exit. */

struct opts;

static void	usage(void) __attribute__((noreturn));
static void	options(int, char *[], struct opts *);
static void	startup(const char *, struct conf **, struct tls_cred **,
		    struct http_page **);
static size_t	listen_all(const struct conf *, int *,
		    struct http_listener **);
static void	signals_block(sigset_t *);
static struct ks *drop(const struct conf *, int, struct tls_cred *,
		    struct http_page *);
static void	serve(const struct conf *, const int *, size_t,
		    struct http_listener **);
static void	serve_loop(const sigset_t *, const struct conf *,
		    const char *);
static void	shutdown_all(struct http_listener **, size_t, struct conf *,
		    struct ks *);
static int	listen_open(const struct conf_listen *, char *, size_t);
static unsigned	listen_port(int);
static void	report_ports(int, const int *, size_t);
static void	reload(const struct conf *, const char *);
static void	cert_check(const struct conf *, const struct tls_cred *, int);
static int	pidfile_write(const char *, char *, size_t);

static void
usage(void)
{
	fprintf(stderr, "usage: wkdd [-dnv] [-f file] [-R fd]\n");
	exit(2);
}

/*
 * A bound, listening socket for l; -1 with err set on error.  SO_REUSEPORT
 * comes after the bind, so that an address in use (another wkdd's too)
 * is still refused, and before http.c binds a socket more to the address
 * for each thread.
 */
static int
listen_open(const struct conf_listen *l, char *err, size_t errsz)
{
	int	fd, on = 1;

	if ((fd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto close;
	if (l->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto close;
	if (bind(fd, (const struct sockaddr *)&l->ss, l->sslen) == -1)
		goto close;
	if (listen(fd, SOMAXCONN) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		goto close;
	return (fd);
close:
	(void)close(fd);
fail:
	(void)snprintf(err, errsz, "listen %s: %s", l->text, strerror(errno));
	return (-1);
}

static unsigned
listen_port(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (0);
	if (ss.ss_family == AF_INET)
		return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
	return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
}

/*
 * -R fd: "<port>\n" per listener, in order (listen, then listen-http),
 * then close (readiness).
 */
static void
report_ports(int fd, const int *ls, size_t n)
{
	char	buf[HTTP_DAEMONS_MAX * 8];
	size_t	i, len = 0;
	ssize_t	w;
	int	r;

	for (i = 0; i < n; i++) {
		r = snprintf(buf + len, sizeof(buf) - len, "%u\n",
		    listen_port(ls[i]));
		if (r < 0 || (size_t)r >= sizeof(buf) - len)
			break;
		len += r;
	}
	for (i = 0; i < len; i += w)
		if ((w = write(fd, buf + i, len - i)) == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			log_warn("-R %d", fd);
			break;
		}
	(void)close(fd);
}

/*
 * Log when the certificate expires (unless quiet); warn if it has, or will
 * in under WKDD_CERT_SOON_DAYS.
 */
static void
cert_check(const struct conf *conf, const struct tls_cred *cred, int quiet)
{
	struct tm	tm;
	time_t		t, now = time(NULL);
	char		when[64];

	if ((t = tls_expiry(cred)) == (time_t)-1 || gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		log_warnx("tls-cert %s: expiry date unknown", conf->tls_cert);
		return;
	}
	if (t <= now)
		log_warnx("tls-cert %s: EXPIRED on %s: clients will fail",
		    conf->tls_cert, when);
	else if (t - now < WKDD_CERT_SOON)
		log_warnx("tls-cert %s: expires soon, on %s", conf->tls_cert,
		    when);
	else if (!quiet)
		log_info("tls-cert %s: valid until %s", conf->tls_cert, when);
}

/* Our pid in path (O_NOFOLLOW: not through a planted link). */
static int
pidfile_write(const char *path, char *err, size_t errsz)
{
	char	buf[32];
	int	fd, n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1) {
		(void)snprintf(err, errsz, "pidfile %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, n) != n || close(fd) == -1) {
		(void)snprintf(err, errsz, "pidfile %s: %s", path,
		    strerror(errno));
		(void)unlink(path);
		return (-1);
	}
	return (0);
}

/*
 * SIGHUP: parse the file again and load its certificate, key and page; only
 * if all of that works is it swapped in.  What the running daemons were
 * started with (sockets, store, limits, user) stays until a restart.
 */
static void
reload(const struct conf *run, const char *path)
{
	struct conf		*conf;
	struct tls_cred		*cred;
	struct http_page	*page;
	char			 err[CONF_ERR_MAX];
	size_t			 i;
	int			 same;

	if (conf_parse(path, &conf, err, sizeof(err)) == -1) {
		log_warnx("%s; has errors, not reloading", err);
		return;
	}
	if ((cred = tls_load(conf, err, sizeof(err))) == NULL) {
		log_warnx("%s; not reloading", err);
		goto free;
	}
	if (http_page_load(conf, &page, err, sizeof(err)) == -1) {
		log_warnx("%s; not reloading", err);
		tls_free(cred);
		goto free;
	}
	same = conf->nlisten == run->nlisten &&
	    conf->nlisten_http == run->nlisten_http;
	for (i = 0; same && i < conf->nlisten; i++)
		same = conf->listen[i].sslen == run->listen[i].sslen &&
		    memcmp(&conf->listen[i].ss, &run->listen[i].ss,
		    run->listen[i].sslen) == 0;
	for (i = 0; same && i < conf->nlisten_http; i++)
		same = conf->listen_http[i].sslen ==
		    run->listen_http[i].sslen &&
		    memcmp(&conf->listen_http[i].ss, &run->listen_http[i].ss,
		    run->listen_http[i].sslen) == 0;
	if (!same)
		log_warnx("listen addresses can't change on reload: still "
		    "on the old ones until restart");
	if (strcmp(conf->store, run->store) != 0 ||
	    conf->store_size != run->store_size)
		log_warnx("store can't change on reload: still %s until "
		    "restart", run->store);
	if (conf->max_conns != run->max_conns ||
	    conf->max_conns_per_ip != run->max_conns_per_ip ||
	    conf->timeout != run->timeout)
		log_warnx("connection limits and timeout change on restart "
		    "only");
	if (strcmp(conf->user, run->user) != 0)
		log_warnx("user changes on restart only");
	if (strcmp(conf->acme_webroot, run->acme_webroot) != 0 ||
	    strcmp(conf->pidfile, run->pidfile) != 0)
		log_warnx("acme-webroot and pidfile change on restart only");
	cert_check(conf, cred, 0);
	tls_install(cred);
	http_page_install(page);
	log_info("reloaded %s", path);
free:
	conf_free(conf);
}

/* What the command line asks for. */
struct opts {
	const char	*path;		/* -f */
	int		 debug;		/* -d */
	int		 noaction;	/* -n, -nn */
	int		 verbose;	/* -v */
	int		 readyfd;	/* -R, or -1. */
};

/* Options into *o; usage() on bad ones.  -R's fd is made close-on-exec. */
static void
options(int argc, char *argv[], struct opts *o)
{
	char	*end;
	long	 l;
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->path = WKDD_CONF;
	o->readyfd = -1;
	while ((ch = getopt(argc, argv, "dnvf:R:")) != -1) {
		switch (ch) {
		case 'd':
			o->debug = 1;
			break;
		case 'n':
			o->noaction++;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'f':
			o->path = optarg;
			break;
		case 'R':
			errno = 0;
			l = strtol(optarg, &end, 10);
			if (optarg[0] == '\0' || *end != '\0' || errno != 0 ||
			    l < 0 || l > INT_MAX) {
				fprintf(stderr, "wkdd: -R %s: not a file "
				    "descriptor\n", optarg);
				usage();
			}
			o->readyfd = (int)l;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (o->readyfd != -1 && fcntl(o->readyfd, F_SETFD, FD_CLOEXEC) == -1) {
		fprintf(stderr, "wkdd: -R %d: %s\n", o->readyfd,
		    strerror(errno));
		exit(1);
	}
}

/*
 * Everything that can fail before a socket is opened: the file, its
 * certificate and key, the page.  Exits on error.
 */
static void
startup(const char *path, struct conf **confp, struct tls_cred **credp,
    struct http_page **pagep)
{
	char	err[CONF_ERR_MAX];

	if (conf_parse(path, confp, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((*credp = tls_load(*confp, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (http_page_load(*confp, pagep, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

/*
 * As root: bind every listen and listen-http address into ls (in that
 * order; room for HTTP_DAEMONS_MAX; returns how many) and make their
 * listeners (hl, as many; their own sockets too), open acme-webroot,
 * and check that the store opens while errors still reach the terminal.
 * Exits on error.
 */
static size_t
listen_all(const struct conf *conf, int *ls, struct http_listener **hl)
{
	struct ks	*ks;
	char		 err[CONF_ERR_MAX];
	size_t		 i;
	int		 rc;

	for (i = 0; i < conf->nlisten; i++)
		if ((ls[i] = listen_open(&conf->listen[i], err,
		    sizeof(err))) == -1)
			fatalx("%s", err);
	for (i = 0; i < conf->nlisten_http; i++)
		if ((ls[conf->nlisten + i] = listen_open(&conf->listen_http[i],
		    err, sizeof(err))) == -1)
			fatalx("%s", err);
	for (i = 0; i < conf->nlisten + conf->nlisten_http; i++)
		if ((hl[i] = http_listener_new(ls[i], i >= conf->nlisten, err,
		    sizeof(err))) == NULL)
			fatalx("listen %s: %s", i < conf->nlisten ?
			    conf->listen[i].text :
			    conf->listen_http[i - conf->nlisten].text, err);
	if (http_acme_open(conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((rc = ks_open(&ks, conf->store, KS_RDONLY, conf->store_size)) != 0)
		fatalx("store %s: %s", conf->store, ks_strerror(rc));
	ks_close(ks);
	return (conf->nlisten + conf->nlisten_http);
}

/*
 * Block the signals main() waits for.  MHD's threads inherit this mask:
 * signals come to sigwait().  Set before the pidfile exists, so that a
 * SIGHUP sent as soon as it does waits for sigwait() rather than ending
 * the daemon.
 */
static void
signals_block(sigset_t *sigs)
{
	int	rc;

	sigemptyset(sigs);
	sigaddset(sigs, SIGHUP);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	if ((rc = pthread_sigmask(SIG_BLOCK, sigs, NULL)) != 0) {
		errno = rc;
		fatal("pthread_sigmask");
	}
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Detach (unless debug), write the pidfile, open the store for good,
 * become conf's user, and hand the store, certificates and page to the
 * handlers.  Returns the store.  Exits on error.
 */
static struct ks *
drop(const struct conf *conf, int debug, struct tls_cred *cred,
    struct http_page *page)
{
	struct ks	*ks;
	char		 err[CONF_ERR_MAX];
	int		 rc;

	if (!debug && daemon(0, 0) == -1)
		fatal("daemon");
	if (conf->pidfile[0] != '\0' && pidfile_write(conf->pidfile, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	if ((rc = ks_open(&ks, conf->store, KS_RDONLY, conf->store_size)) != 0)
		fatalx("store %s: %s", conf->store, ks_strerror(rc));
	if (priv_drop(conf->user, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (http_init(ks) == -1)
		fatalx("out of memory");
	tls_install(cred);
	http_page_install(page);
	return (ks);
}

/* Start the listeners of listen_all().  Exits on error. */
static void
serve(const struct conf *conf, const int *ls, size_t nls,
    struct http_listener **hl)
{
	const char	*text;
	size_t		 i;
	int		 plain;

	for (i = 0; i < nls; i++) {
		plain = i >= conf->nlisten;
		text = plain ? conf->listen_http[i - conf->nlisten].text :
		    conf->listen[i].text;
		if (http_start(hl[i], conf) == -1)
			fatalx("listen %s: cannot start", text);
		log_info("listening on %s%s, port %u, %zu thread%s", text,
		    plain ? " (plain HTTP)" : "", listen_port(ls[i]),
		    http_listener_threads(hl[i]),
		    http_listener_threads(hl[i]) > 1 ? "s" : "");
	}
}

/* Until SIGTERM or SIGINT: SIGHUP reloads path. */
static void
serve_loop(const sigset_t *sigs, const struct conf *conf, const char *path)
{
	int	rc, sig;

	for (;;) {
		if ((rc = sigwait(sigs, &sig)) != 0) {
			log_warnx("sigwait: %s", strerror(rc));
			continue;
		}
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading %s", path);
			reload(conf, path);
			continue;
		}
		log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return;
	}
}

/* Stop the daemons, give the pidfile and all else back. */
static void
shutdown_all(struct http_listener **hl, size_t nls, struct conf *conf,
    struct ks *ks)
{
	http_stop(hl, nls, WKDD_STOP_MS);
	if (conf->pidfile[0] != '\0' && unlink(conf->pidfile) == -1)
		log_warn("pidfile %s", conf->pidfile);
	http_cleanup();
	tls_cleanup();
	ks_close(ks);
	conf_free(conf);
}

int
main(int argc, char *argv[])
{
	struct http_listener	*hl[HTTP_DAEMONS_MAX];
	int			 ls[HTTP_DAEMONS_MAX];
	struct opts		 o;
	struct conf		*conf;
	struct tls_cred		*cred;
	struct http_page	*page;
	struct ks		*ks;
	sigset_t		 sigs;
	size_t			 nls;

	options(argc, argv, &o);
	log_init(1, LOG_DAEMON);
	log_setverbose(o.verbose);
	startup(o.path, &conf, &cred, &page);
	if (o.noaction) {
		cert_check(conf, cred, 1);
		if (o.noaction > 1)
			conf_dump(conf, stdout);
		fprintf(stderr, "configuration OK\n");
		tls_free(cred);
		http_page_free(page);
		conf_free(conf);
		return (0);
	}

	nls = listen_all(conf, ls, hl);
	log_init(o.debug, LOG_DAEMON);
	cert_check(conf, cred, 0);
	signals_block(&sigs);
	ks = drop(conf, o.debug, cred, page);
	serve(conf, ls, nls, hl);
	if (o.readyfd != -1)
		report_ports(o.readyfd, ls, nls);
	log_info("serving %s", conf->store);

	serve_loop(&sigs, conf, o.path);
	shutdown_all(hl, nls, conf, ks);
	log_info("stopped");
	return (0);
}
