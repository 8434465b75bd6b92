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

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "keystore.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "wkdd.h"

#define WKDD_STOP_MS	2000	/* Wait for open connections at exit. */
#define WKDD_STORE_CHECK 1	/* Seconds between looks at the store. */
#define WKDD_RETIRED_MAX 16	/* Replaced stores closed at exit. */

static struct ks	*store_retired[WKDD_RETIRED_MAX];
static size_t		 store_nretired;

static int	debug_mode;	/* -d: for the access log on reload. */
static int	user_default;	/* user is WKDD_USER, not in the file. */
/* The listen and listen-http addresses' listeners (http.c), as ls. */
static struct http_listener	*listeners[HTTP_DAEMONS_MAX];

struct opts;

static void	usage(void) __attribute__((noreturn));
static void	options(int, char *[], struct opts *);
static void	startup(const char *, struct conf **, struct tls_cred **,
		    struct http_page **);
static size_t	listen_all(const struct conf *, int *);
static void	signals_block(sigset_t *);
static struct ks *drop(const struct conf *, struct tls_cred *,
		    struct http_page *);
static void	serve(const struct conf *, const int *, size_t,
		    struct MHD_Daemon **);
static void	serve_loop(const sigset_t *, const struct conf *,
		    const char *);
static void	shutdown_all(struct MHD_Daemon **, size_t, struct conf *);
static int	listen_open(const struct conf_listen *, char *, size_t);
static unsigned	listen_port(int);
static void	report_ports(int, const int *, size_t);
static int	reload(const struct conf *, const char *);
static void	cert_check(const struct conf *, const struct tls_cred *, int);
static int	detach(void);
static void	ready(int);
static void	scrub(void *);
static void	store_check(const struct conf *);

static void
usage(void)
{
	fprintf(stderr, "usage: wkdd [-dFnVv] [-f file] [-R fd]\n");
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
 * -R fd: "<port>\n" per listener, in order (listen, listen-http, then
 * metrics-listen), then close (readiness).
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

/*
 * SIGHUP: parse the file again and load its certificate, key and page; only
 * if all of that works is it swapped in.  What the running daemons were
 * started with (sockets, store, limits, user) stays until a restart.
 * Returns 0 if reloaded, -1 if refused (logged).
 */
static int
reload(const struct conf *run, const char *path)
{
	struct conf		*conf;
	struct tls_cred		*cred;
	struct http_page	*page;
	char			 err[CONF_ERR_MAX];
	size_t			 i;
	int			 same, rc = -1;

	if (conf_parse(path, &conf, err, sizeof(err)) == -1) {
		log_warnx("%s; has errors, not reloading", err);
		return (-1);
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
	if (user_default && conf->user[0] == '\0')
		(void)snprintf(conf->user, sizeof(conf->user), "%s", run->user);
	if (strcmp(conf->user, run->user) != 0)
		log_warnx("user changes on restart only");
	if (strcmp(conf->sandbox, run->sandbox) != 0 ||
	    strcmp(conf->cpu_affinity, run->cpu_affinity) != 0 ||
	    conf->hsts != http_hsts_age())
		log_warnx("sandbox, cpu-affinity and hsts change on restart "
		    "only");
	if (strcmp(conf->acme_webroot, run->acme_webroot) != 0 ||
	    strcmp(conf->pidfile, run->pidfile) != 0 ||
	    strcmp(conf->tlsrpt_spool, run->tlsrpt_spool) != 0)
		log_warnx("acme-webroot, pidfile and tlsrpt-spool change on "
		    "restart only");
	same = conf->nmetrics_listen == run->nmetrics_listen;
	for (i = 0; same && i < conf->nmetrics_listen; i++)
		same = conf->metrics_listen[i].sslen ==
		    run->metrics_listen[i].sslen &&
		    memcmp(&conf->metrics_listen[i].ss,
		    &run->metrics_listen[i].ss,
		    run->metrics_listen[i].sslen) == 0;
	if (!same || strcmp(conf->metrics_domains, run->metrics_domains) != 0)
		log_warnx("metrics-listen and metrics-domains change on "
		    "restart only");
	/* The access log is opened again: logrotate renamed it. */
	if (log_access_open(conf->access_log, conf->access_log_address,
	    debug_mode, err, sizeof(err)) == -1)
		log_warnx("%s; access log unchanged", err);
	cert_check(conf, cred, 0);
	tls_install(cred);
	http_page_install(page);
	limit_conf(conf);
	tlsrpt_conf(conf);
	log_info("reloaded %s", path);
	rc = 0;
free:
	conf_free(conf);
	return (rc);
}

/* What the command line asks for. */
struct opts {
	const char	*path;		/* -f, made absolute. */
	char		 abspath[PATH_MAX];
	int		 debug;		/* -d */
	int		 foreground;	/* -F: as -d, but syslog. */
	int		 noaction;	/* -n, -nn */
	int		 verbose;	/* -v */
	int		 readyfd;	/* -R, or -1. */
};

/* Options into *o; usage() on bad ones.  -R's fd is made close-on-exec. */
static void
options(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char	*end;
	long	 l;
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->path = WKDD_CONF;
	o->readyfd = -1;
	while ((ch = getopt_long(argc, argv, "dFnVvf:R:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'V':
			printf("wkdd %s\n", WKDD_VERSION);
			exit(0);
		case 'd':
			o->debug = 1;
			break;
		case 'F':
			o->foreground = 1;
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
	/* SIGHUP reads it again after chdir("/"). */
	if (check_abspath(o->path, o->abspath, sizeof(o->abspath)) == -1) {
		fprintf(stderr, "wkdd: %s: %s\n", o->path, strerror(errno));
		exit(1);
	}
	o->path = o->abspath;
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
	const char	*dflt = WKDD_USER;
	char		 err[CONF_ERR_MAX], uerr[CONF_ERR_MAX];
	int		 urc;

#ifdef WKDD_TEST_HOOKS
	/* wkdd-test: t_sandbox.sh's stand-in for the package's user. */
	if (getenv("WKDD_TEST_USER") != NULL)
		dflt = getenv("WKDD_TEST_USER");
#endif
	if (conf_parse(path, confp, err, sizeof(err)) == -1)
		fatalx("%s", err);
	/*
	 * Which user we become (the key's owner is checked against it),
	 * but the file's own errors are told first.
	 */
	user_default = (*confp)->user[0] == '\0';
	urc = priv_user(*confp, dflt, uerr, sizeof(uerr));
	user_default = user_default && (*confp)->user[0] != '\0';
	if (check_pidfile(*confp, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((*credp = tls_load(*confp, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	http_hsts_set(*confp);
	if (http_page_load(*confp, pagep, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (urc == -1)
		fatalx("%s", uerr);
	if (check_user(*confp, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

/*
 * As root: bind every listen, listen-http and metrics-listen address into
 * ls (in that order; room for HTTP_DAEMONS_MAX; returns how many) and
 * make the listeners of the first two kinds (their own sockets too), open
 * acme-webroot and the access log file, and check that the store opens
 * while errors still reach the terminal.
 * Exits on error.
 */
static size_t
listen_all(const struct conf *conf, int *ls)
{
	char		 err[CONF_ERR_MAX];
	size_t		 i;

	for (i = 0; i < conf->nlisten; i++)
		if ((ls[i] = listen_open(&conf->listen[i], err,
		    sizeof(err))) == -1)
			fatalx("%s", err);
	for (i = 0; i < conf->nlisten_http; i++)
		if ((ls[conf->nlisten + i] = listen_open(&conf->listen_http[i],
		    err, sizeof(err))) == -1)
			fatalx("%s", err);
	for (i = 0; i < conf->nlisten + conf->nlisten_http; i++)
		if ((listeners[i] = http_listener_new(ls[i],
		    i >= conf->nlisten, strcmp(conf->cpu_affinity, "yes") == 0,
		    err, sizeof(err))) == NULL)
			fatalx("listen %s: %s", i < conf->nlisten ?
			    conf->listen[i].text :
			    conf->listen_http[i - conf->nlisten].text, err);
	for (i = 0; i < conf->nmetrics_listen; i++)
		if ((ls[conf->nlisten + conf->nlisten_http + i] =
		    listen_open(&conf->metrics_listen[i], err,
		    sizeof(err))) == -1)
			fatalx("%s", err);
	if (tlsrpt_open(conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (http_acme_open(conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (check_store(conf->store, conf->store_size, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (log_access_open(conf->access_log, conf->access_log_address,
	    debug_mode, err, sizeof(err)) == -1)
		fatalx("%s", err);
	return (conf->nlisten + conf->nlisten_http + conf->nmetrics_listen);
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
#ifdef WKDD_TEST_HOOKS
	sigaddset(sigs, SIGUSR1);
	sigaddset(sigs, SIGUSR2);
#endif
	if ((rc = pthread_sigmask(SIG_BLOCK, sigs, NULL)) != 0) {
		errno = rc;
		fatal("pthread_sigmask");
	}
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Daemon mode: fork; the parent waits until the child says it is ready
 * (ready()) and exits 0, or exits 1 when the child dies before that (its
 * errors went to the terminal too: log_start()).  The child, in a new
 * session, gets the pipe's end to return.
 */
static int
detach(void)
{
	pid_t	pid;
	char	c;
	ssize_t	n;
	int	p[2], fd, status;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		(void)close(p[0]);
		if (setsid() == -1)
			fatal("setsid");
		if (chdir("/") == -1)
			fatal("chdir /");
		if ((fd = open("/dev/null", O_RDWR)) == -1)
			fatal("/dev/null");
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			(void)close(fd);
		log_start(1);
		return (p[1]);
	}
	(void)close(p[1]);
	while ((n = read(p[0], &c, 1)) == -1 && errno == EINTR)
		;
	if (n == 1)
		_exit(0);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	fprintf(stderr, "wkdd: did not start\n");
	_exit(1);
}

/* Tell detach()'s parent we serve; stderr goes to /dev/null from now. */
static void
ready(int fd)
{
	int	null;

	if (fd == -1)
		return;
	log_start(0);
	if ((null = open("/dev/null", O_WRONLY)) != -1) {
		(void)dup2(null, STDERR_FILENO);
		(void)close(null);
	}
	if (write(fd, "R", 1) != 1)
		log_warn("readiness");
	(void)close(fd);
}

/* In the pidfile keeper: the keys it inherited, freed. */
static void
scrub(void *arg)
{
	tls_free(arg);
}

/*
 * Write the pidfile, open the store for good, become conf's user, enter
 * the sandbox (before any thread: Landlock binds the calling thread and
 * those it starts), and hand the store, certificates and page to the
 * handlers.  Returns the store.  Exits on error.
 */
static struct ks *
drop(const struct conf *conf, struct tls_cred *cred, struct http_page *page)
{
	struct ks	*ks;
	char		 err[CONF_ERR_MAX];
	int		 rc;

	if (pidfile_write(conf, scrub, cred, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((rc = ks_open(&ks, conf->store, KS_RDONLY, conf->store_size)) != 0)
		fatalx("store %s: %s", conf->store, ks_strerror(rc));
	if (priv_drop(conf->user, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (conf->user[0] != '\0')
		(void)check_dropped(conf);
	if (sandbox_apply(conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (http_init(ks) == -1 || metrics_init(conf) == -1 ||
	    limit_init(conf) == -1 || limit_reaper_start() == -1)
		fatalx("out of memory");
	tls_install(cred);
	http_page_install(page);
	return (ks);
}

/*
 * Start the listeners of listen_all(), and the metrics daemons into mhd
 * (their places in it).  Exits on error.
 */
static void
serve(const struct conf *conf, const int *ls, size_t nls,
    struct MHD_Daemon **mhd)
{
	const char	*text;
	size_t		 i;
	int		 plain;

	for (i = 0; i < nls; i++) {
		if (i >= conf->nlisten + conf->nlisten_http) {
			text = conf->metrics_listen[i - conf->nlisten -
			    conf->nlisten_http].text;
			if ((mhd[i] = metrics_start(ls[i], conf)) == NULL)
				fatalx("metrics-listen %s: cannot start", text);
			log_info("metrics on %s, port %u", text,
			    listen_port(ls[i]));
			continue;
		}
		plain = i >= conf->nlisten;
		text = plain ? conf->listen_http[i - conf->nlisten].text :
		    conf->listen[i].text;
		mhd[i] = NULL;
		if (http_start(listeners[i], conf) == -1)
			fatalx("listen %s: cannot start", text);
		log_info("listening on %s%s, port %u, %zu thread%s", text,
		    plain ? " (plain HTTP)" : "", listen_port(ls[i]),
		    http_listener_threads(listeners[i]),
		    http_listener_threads(listeners[i]) > 1 ? "s" : "");
	}
}

/*
 * A store replaced under us (its directory's data.mdb is another file: a
 * directory renamed over it, a copy moved in) is opened and served from
 * the next request on.  The old handle stays open until exit, since
 * requests under way may still use it.  (wkdctl restore needs none of
 * this: it replaces the content in a transaction, which the next request
 * sees.)  On SIGHUP and every WKDD_STORE_CHECK seconds: two stat(2).
 * Under the sandbox, a directory moved over the store's is not followed
 * (Landlock's rule is on the directory wkdd started with).
 */
static void
store_check(const struct conf *conf)
{
	static int	 warned;
	struct ks	*ks, *old;
	int		 rc;

	if (!ks_replaced(http_store()))
		return;
	if ((rc = ks_open(&ks, conf->store, KS_RDONLY, conf->store_size)) !=
	    KS_OK) {
		if (!warned && rc == EACCES &&
		    strcmp(conf->sandbox, "yes") == 0)
			log_warnx("store %s was replaced, but the sandbox "
			    "allows the directory wkdd started with only: "
			    "serving the old one until a restart (wkdctl "
			    "restore replaces a store in place)", conf->store);
		else if (!warned)
			log_warnx("store %s was replaced, but: %s; serving "
			    "the old one", conf->store, ks_strerror(rc));
		warned = 1;
		return;
	}
	warned = 0;
	old = http_store_swap(ks);
	if (store_nretired < WKDD_RETIRED_MAX)
		store_retired[store_nretired++] = old;
	log_info("store %s was replaced: serving the new one", conf->store);
}

/* Until SIGTERM or SIGINT: SIGHUP reloads path. */
static void
serve_loop(const sigset_t *sigs, const struct conf *conf, const char *path)
{
	struct timespec	 ts = { WKDD_STORE_CHECK, 0 };
	int		 rc, sig;

	for (;;) {
		if ((sig = sigtimedwait(sigs, NULL, &ts)) == -1) {
			if (errno == EAGAIN)
				store_check(conf);
			else if (errno != EINTR)
				log_warn("sigtimedwait");
			continue;
		}
#ifdef WKDD_TEST_HOOKS
		if (sig == SIGUSR1 || sig == SIGUSR2) {
			sandbox_test_hook(conf, sig == SIGUSR2);
			continue;
		}
#endif
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading %s", path);
			notify_reloading(path);
			rc = reload(conf, path);
			store_check(conf);
			if (rc == 0)
				notify_ready("serving %s; reloaded %s",
				    conf->store, path);
			else
				notify_ready("serving %s; reload of %s "
				    "refused (see the log)", conf->store, path);
			continue;
		}
		log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		notify_stopping(sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return;
	}
}

/* Stop the daemons, give the pidfile and all else back. */
static void
shutdown_all(struct MHD_Daemon **mhd, size_t nls, struct conf *conf)
{
	struct ks	*ks;
	size_t		 nm = conf->nmetrics_listen;

	/* A scraper's keep-alive connection isn't waited for. */
	http_stop(mhd + nls - nm, nm);
	http_listener_stop(listeners, nls - nm, WKDD_STOP_MS);
	pidfile_remove(conf);
	ks = http_store();
	http_cleanup();
	metrics_cleanup();
	limit_cleanup();
	tls_cleanup();
	ks_close(ks);
	while (store_nretired > 0)
		ks_close(store_retired[--store_nretired]);
	conf_free(conf);
}

int
main(int argc, char *argv[])
{
	struct MHD_Daemon	*mhd[HTTP_DAEMONS_MAX];
	int			 ls[HTTP_DAEMONS_MAX];
	struct opts		 o;
	struct conf		*conf;
	struct tls_cred		*cred;
	struct http_page	*page;
	sigset_t		 sigs;
	size_t			 nls;
	int			 readyfd = -1;

	options(argc, argv, &o);
	log_init(1, LOG_DAEMON);
	log_setverbose(o.verbose);
	startup(o.path, &conf, &cred, &page);
	if (o.noaction) {
		cert_check(conf, cred, 1);
		if (check_as_user(conf) != 0) {
			tls_free(cred);
			http_page_free(page);
			conf_free(conf);
			return (1);
		}
		if (o.noaction > 1)
			conf_dump(conf, stdout);
		fprintf(stderr, "configuration OK\n");
		tls_free(cred);
		http_page_free(page);
		conf_free(conf);
		return (0);
	}

	debug_mode = o.debug;
	nls = listen_all(conf, ls);
	log_init(o.debug, LOG_DAEMON);
	cert_check(conf, cred, 0);
	signals_block(&sigs);
	if (!o.debug && !o.foreground)
		readyfd = detach();
	(void)drop(conf, cred, page);
	serve(conf, ls, nls, mhd);
	if (o.readyfd != -1)
		report_ports(o.readyfd, ls, nls);
	ready(readyfd);
	log_info("serving %s", conf->store);
	notify_ready("serving %s", conf->store);

	serve_loop(&sigs, conf, o.path);
	shutdown_all(mhd, nls, conf);
	log_info("stopped");
	return (0);
}
