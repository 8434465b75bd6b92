/*
 * acme.c: certificates for a hosted domain's service names, from an ACME
 * CA through the HTTP-01 challenge that wkdd answers (wkdd.conf's
 * listen-http and acme-webroot).
 *
 * wkdctl drives an ACME client that is already installed, as a child
 * process without a shell, and reports what it said when it fails.  The
 * certificate of NAME ends up in tls-dir/live/NAME/ (fullchain.pem,
 * privkey.pem), where wkdd picks it by SNI: certbot's --config-dir is
 * tls-dir itself; uacme's confdir is tls-dir/uacme, linked into live/.
 * One certificate per name, its key kept across renewals (a TLSA 3 1 1
 * record stays valid).  When one is new, wkdd is told to reload: SIGHUP
 * to the process named by wkdd.conf's pidfile.
 */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"
#include "conf.h"
#include "wkdctl.h"

#define ACME_TIMEOUT	300		/* Seconds for one client run. */
#define ACME_ARGV_MAX	32
#define ACME_UACME_HOOK	"/usr/share/uacme/uacme.sh"	/* Debian's. */

int
acme_enabled(const struct conf *conf)
{
	return (conf != NULL && conf->acme_client[0] != '\0' &&
	    strcmp(conf->acme_client, "none") != 0);
}

/* mkdir -p path; the directories made get mode. */
static int
acme_mkdirs(const char *path, mode_t mode)
{
	char	 p[PATH_MAX];
	size_t	 i;

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
		warnx("%s: path too long", path);
		return (-1);
	}
	for (i = 1; ; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		if (p[i] == '/' && p[i + 1] == '\0')
			p[i] = '\0';
		if (p[i] == '\0') {
			if (mkdir(p, mode) == -1 && errno != EEXIST) {
				warn("%s", p);
				return (-1);
			}
			return (0);
		}
		p[i] = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST) {
			warn("%s", p);
			return (-1);
		}
		p[i] = '/';
	}
}

/*
 * Does name resolve?  A CA resolves it to validate the challenge: if it
 * doesn't exist yet, asking would only count a failure against the
 * account (Let's Encrypt limits those per hour).  Returns 1 if it has an
 * address, 0 if it surely has none, -1 if DNS gave no answer (then the CA
 * may know better: try).
 */
static int
acme_resolves(const char *name)
{
	struct dns_ans	 ans;
	int		 st4, st6;

	memset(&ans, 0, sizeof(ans));
	st4 = dns_query(name, DNS_T_A, &ans);
	dns_ans_free(&ans);
	if (st4 == DNS_OK)
		return (1);
	memset(&ans, 0, sizeof(ans));
	st6 = dns_query(name, DNS_T_AAAA, &ans);
	dns_ans_free(&ans);
	if (st6 == DNS_OK)
		return (1);
	if (st4 == DNS_FAIL || st6 == DNS_FAIL)
		return (-1);
	return (0);
}

/*
 * With wkdd.conf's user set and run as root: hand the directories dirs
 * (under tls-dir) and those of subs with their entries to that user, as
 * wkdd reads the certificate and key as that user on SIGHUP (see
 * wkdd.conf(5), tls-dir).  Modes stay as they are (keys 0600).
 */
static int
acme_own(const struct conf *conf, const char *const dirs[],
    const char *const subs[])
{
	struct passwd	*pw;
	struct dirent	*de;
	DIR		*dir;
	char		 path[PATH_MAX];
	size_t		 i;
	int		 dfd, rc = 0;

	if (geteuid() != 0 || (conf->user[0] == '\0' &&
	    strcmp(conf_daemon_user(conf), "root") == 0))
		return (0);
	if ((pw = getpwnam(conf_daemon_user(conf))) == NULL) {
		warnx("user %s: no such user", conf_daemon_user(conf));
		return (-1);
	}
	for (i = 0; dirs[i] != NULL; i++)
		if (snprintf(path, sizeof(path), "%s/%s", conf->tls_dir,
		    dirs[i]) >= (int)sizeof(path) ||
		    lchown(path, pw->pw_uid, pw->pw_gid) == -1) {
			warn("%s", path);
			return (-1);
		}
	for (i = 0; subs[i] != NULL; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", conf->tls_dir,
		    subs[i]) >= (int)sizeof(path) ||
		    (dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1) {
			warn("%s", path);
			return (-1);
		}
		if (fchown(dfd, pw->pw_uid, pw->pw_gid) == -1 ||
		    (dir = fdopendir(dfd)) == NULL) {
			warn("%s", path);
			close(dfd);
			return (-1);
		}
		while ((de = readdir(dir)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (fchownat(dfd, de->d_name, pw->pw_uid, pw->pw_gid,
			    AT_SYMLINK_NOFOLLOW) == -1) {
				warn("%s/%s", path, de->d_name);
				rc = -1;
			}
		}
		closedir(dir);
	}
	return (rc);
}

/*
 * certbot certonly for name, with conf's tls-dir as its --config-dir:
 * live/NAME/ links to a new file of archive/NAME/ per issue.  Returns 1
 * if a new certificate is there, 0 if the one there is kept (not due),
 * -1 on failure (reported).
 */
static int
acme_certbot(const struct conf *conf, const char *name, const char *chain)
{
	struct spawn_out	*o;
	const char	*argv[ACME_ARGV_MAX];
	char		 work[PATH_MAX], logs[PATH_MAX];
	char		 before[PATH_MAX], after[PATH_MAX];
	char		 live[PATH_MAX], arch[PATH_MAX];
	const char	*dirs[] = { "live", "archive", NULL };
	const char	*subs[] = { live, arch, NULL };
	size_t		 n = 0;
	int		 rc;

	if (snprintf(work, sizeof(work), "%s/work", conf->tls_dir) >=
	    (int)sizeof(work) ||
	    snprintf(logs, sizeof(logs), "%s/logs", conf->tls_dir) >=
	    (int)sizeof(logs)) {
		warnx("%s: path too long", conf->tls_dir);
		return (-1);
	}
	(void)snprintf(live, sizeof(live), "live/%s", name);
	(void)snprintf(arch, sizeof(arch), "archive/%s", name);
	argv[n++] = "certbot";
	argv[n++] = "certonly";
	argv[n++] = "--non-interactive";
	argv[n++] = "--agree-tos";
	argv[n++] = "--webroot";
	argv[n++] = "--webroot-path";
	argv[n++] = conf->acme_webroot;
	argv[n++] = "--cert-name";
	argv[n++] = name;
	argv[n++] = "--domain";
	argv[n++] = name;
	/* Renew only when due; keep the key (TLSA 3 1 1 pins it). */
	argv[n++] = "--keep-until-expiring";
	argv[n++] = "--reuse-key";
	argv[n++] = "--config-dir";
	argv[n++] = conf->tls_dir;
	argv[n++] = "--work-dir";
	argv[n++] = work;
	argv[n++] = "--logs-dir";
	argv[n++] = logs;
	if (conf->acme_server[0] != '\0') {
		argv[n++] = "--server";
		argv[n++] = conf->acme_server;
	}
	if (conf->acme_email[0] != '\0') {
		argv[n++] = "--email";
		argv[n++] = conf->acme_email;
	} else
		argv[n++] = "--register-unsafely-without-email";
	argv[n] = NULL;

	if (realpath(chain, before) == NULL)
		before[0] = '\0';
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		warn(NULL);
		return (-1);
	}
	if ((rc = spawn_run(argv, NULL, ACME_TIMEOUT, o)) > 0) {
		warnx("%s: certbot failed (exit %d):", name, rc);
		spawn_out_print(o, "certbot");
	}
	free(o);
	if (rc != 0)
		return (-1);
	if (realpath(chain, after) == NULL) {
		warn("certbot exited 0, but %s", chain);
		return (-1);
	}
	if (acme_own(conf, dirs, subs) == -1)
		warnx("%s: wkdd may not be able to read it as user %s", name,
		    conf_daemon_user(conf));
	return (strcmp(before, after) != 0);
}

/* Make path a symbolic link to target (replacing what is there). */
static int
acme_link(const char *target, const char *path)
{
	char	 cur[PATH_MAX];
	ssize_t	 n;

	if ((n = readlink(path, cur, sizeof(cur) - 1)) >= 0) {
		cur[n] = '\0';
		if (strcmp(cur, target) == 0)
			return (0);
	}
	if ((unlink(path) == -1 && errno != ENOENT) ||
	    symlink(target, path) == -1) {
		warn("%s", path);
		return (-1);
	}
	return (0);
}

/*
 * uacme issue for name, its confdir tls-dir/uacme (NAME/cert.pem,
 * private/NAME/key.pem, kept across renewals), the token written by
 * Debian's hook into acme-webroot/.well-known/acme-challenge/; then
 * live/NAME/fullchain.pem and privkey.pem link there.  Returns as
 * acme_certbot().
 */
static int
acme_uacme(const struct conf *conf, const char *name, const char *chain)
{
	struct spawn_out	*o;
	struct stat	 st;
	const char	*argv[ACME_ARGV_MAX];
	char		 confdir[PATH_MAX], path[PATH_MAX];
	char		 env[PATH_MAX + 32], tgt[PATH_MAX];
	char		 live[PATH_MAX], cdir[PATH_MAX], kdir[PATH_MAX];
	const char	*dirs[] = { "live", "uacme", "uacme/private", NULL };
	const char	*subs[] = { live, cdir, kdir, NULL };
	size_t		 n = 0;
	int		 rc, fresh;

	if (snprintf(confdir, sizeof(confdir), "%s/uacme", conf->tls_dir) >=
	    (int)sizeof(confdir) ||
	    snprintf(env, sizeof(env), "UACME_CHALLENGE_PATH=%s/.well-known/"
	    "acme-challenge", conf->acme_webroot) >= (int)sizeof(env) ||
	    snprintf(path, sizeof(path), "%s/private/key.pem", confdir) >=
	    (int)sizeof(path)) {
		warnx("%s: path too long", conf->tls_dir);
		return (-1);
	}
	(void)snprintf(live, sizeof(live), "live/%s", name);
	(void)snprintf(cdir, sizeof(cdir), "uacme/%s", name);
	(void)snprintf(kdir, sizeof(kdir), "uacme/private/%s", name);
	/* The hook writes tokens there; it does not make the directory. */
	if (acme_mkdirs(env + strlen("UACME_CHALLENGE_PATH="), 0755) == -1)
		return (-1);
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		warn(NULL);
		return (-1);
	}
	argv[n++] = "uacme";
	argv[n++] = "--confdir";
	argv[n++] = confdir;
	if (conf->acme_server[0] != '\0') {
		argv[n++] = "--acme-url";
		argv[n++] = conf->acme_server;
	}
	/* The account, once. */
	if (stat(path, &st) == -1) {
		argv[n++] = "--yes";
		argv[n++] = "new";
		if (conf->acme_email[0] != '\0')
			argv[n++] = conf->acme_email;
		argv[n] = NULL;
		if ((rc = spawn_run(argv, NULL, ACME_TIMEOUT, o)) != 0) {
			if (rc > 0) {
				warnx("%s: uacme new (account) failed (exit "
				    "%d):", name, rc);
				spawn_out_print(o, "uacme");
			}
			free(o);
			return (-1);
		}
		n -= conf->acme_email[0] != '\0' ? 3 : 2;
		o->len = 0;
		o->buf[0] = '\0';
		o->cut = 0;
	}
	argv[n++] = "--type";
	argv[n++] = "EC";
	argv[n++] = "--hook";
	argv[n++] = ACME_UACME_HOOK;
	argv[n++] = "issue";
	argv[n++] = name;
	argv[n] = NULL;
	/* 0: issued, 1: still current, 2: failure. */
	rc = spawn_run(argv, env, ACME_TIMEOUT, o);
	if (rc != 0 && rc != 1) {
		if (rc > 0) {
			warnx("%s: uacme failed (exit %d):", name, rc);
			spawn_out_print(o, "uacme");
		}
		free(o);
		return (-1);
	}
	free(o);
	fresh = rc == 0;
	if (snprintf(path, sizeof(path), "%s/%s", conf->tls_dir, live) >=
	    (int)sizeof(path) || acme_mkdirs(path, 0700) == -1)
		return (-1);
	(void)snprintf(tgt, sizeof(tgt), "../../uacme/%s/cert.pem", name);
	if (acme_link(tgt, chain) == -1)
		return (-1);
	(void)snprintf(tgt, sizeof(tgt), "../../uacme/private/%s/key.pem",
	    name);
	if (snprintf(path, sizeof(path), "%s/%s/privkey.pem", conf->tls_dir,
	    live) >= (int)sizeof(path) || acme_link(tgt, path) == -1)
		return (-1);
	if (stat(chain, &st) == -1) {
		warn("uacme exited %d, but %s", rc, chain);
		return (-1);
	}
	if (acme_own(conf, dirs, subs) == -1)
		warnx("%s: wkdd may not be able to read it as user %s", name,
		    conf_daemon_user(conf));
	return (fresh);
}

/* "YYYY-MM-DD" of the end of validity of chain's first certificate. */
static void
acme_expiry(const char *chain, char *out, size_t outsz)
{
	gnutls_x509_crt_t	 crt;
	struct tm		 tm;
	time_t			 t;

	(void)snprintf(out, outsz, "an unknown date");
	if (x509_load(chain, &crt) == -1)
		return;
	t = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	if (t != (time_t)-1 && gmtime_r(&t, &tm) != NULL)
		(void)strftime(out, outsz, "%Y-%m-%d", &tm);
}

/*
 * Request the certificate of one name.  Returns 1 if a new one is in
 * tls-dir now, 0 if the one there is kept (not due for renewal), -1 if
 * there is none (reported).  until gets its expiry date.
 */
static int
acme_name(const struct conf *conf, const char *name, char *until,
    size_t untilsz)
{
	char	 chain[PATH_MAX];
	int	 fresh;

	switch (acme_resolves(name)) {
	case 0:
		warnx("%s: not in the DNS (yet): no certificate requested",
		    name);
		return (-1);
	case -1:
		warnx("%s: no DNS answer; asking the CA all the same", name);
		break;
	default:
		break;
	}
	if (snprintf(chain, sizeof(chain), "%s/live/%s/fullchain.pem",
	    conf->tls_dir, name) >= (int)sizeof(chain)) {
		warnx("%s: path too long", conf->tls_dir);
		return (-1);
	}
	printf("%s: requesting a certificate from %s with %s\n", name,
	    conf->acme_server[0] != '\0' ? conf->acme_server :
	    "the ACME client's default CA", conf->acme_client);
	(void)fflush(stdout);
	if (strcmp(conf->acme_client, "uacme") == 0)
		fresh = acme_uacme(conf, name, chain);
	else
		fresh = acme_certbot(conf, name, chain);
	if (fresh == -1)
		return (-1);
	acme_expiry(chain, until, untilsz);
	if (fresh)
		printf("%s: certificate issued, valid until %s, in "
		    "%s/live/%s/\n", name, until, conf->tls_dir, name);
	else
		printf("%s: certificate valid until %s, not due for "
		    "renewal\n", name, until);
	(void)fflush(stdout);
	return (fresh);
}

/*
 * Tell wkdd to reload (and so serve the new certificates): SIGHUP to the
 * pid in conf's pidfile, if that process is a wkdd.  Returns 0 if sent.
 */
static int
acme_reload(const struct conf *conf)
{
	FILE	*fp;
	char	 line[64], path[64], comm[64], *end;
	long	 pid;

	if (conf->pidfile[0] == '\0') {
		printf("reload wkdd (SIGHUP) to serve it (no pidfile in the "
		    "configuration)\n");
		return (-1);
	}
	if ((fp = fopen(conf->pidfile, "r")) == NULL) {
		warn("%s: wkdd not running? It serves the certificate once "
		    "started", conf->pidfile);
		return (-1);
	}
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	errno = 0;
	pid = strtol(line, &end, 10);
	if (errno != 0 || end == line || (*end != '\n' && *end != '\0') ||
	    pid <= 1 || pid > INT_MAX) {
		warnx("%s: no process ID in it", conf->pidfile);
		return (-1);
	}
	/* A stale pidfile may name another program by now. */
	(void)snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((fp = fopen(path, "r")) == NULL ||
	    fgets(comm, sizeof(comm), fp) == NULL ||
	    strncmp(comm, "wkdd", 4) != 0 ||
	    (comm[4] != '\n' && comm[4] != '\0')) {
		if (fp != NULL)
			fclose(fp);
		warnx("%s: process %ld is not wkdd: not signalled (stale "
		    "pidfile?)", conf->pidfile, pid);
		return (-1);
	}
	fclose(fp);
	if (kill((pid_t)pid, SIGHUP) == -1) {
		warn("wkdd (pid %ld)", pid);
		return (-1);
	}
	printf("wkdd reloaded (SIGHUP to pid %ld)\n", pid);
	return (0);
}

/* Warn and return -1 unless conf has everything certbot needs. */
static int
acme_ready(const struct conf *conf)
{
	if (!acme_enabled(conf)) {
		warnx("no acme-client in the configuration (wkdd.conf(5))");
		return (-1);
	}
	if (strcmp(conf->acme_client, "certbot") != 0 &&
	    strcmp(conf->acme_client, "uacme") != 0) {
		warnx("acme-client %s: not supported (certbot and uacme are; "
		    "see wkdctl(8) for others)", conf->acme_client);
		return (-1);
	}
	if (conf->tls_dir[0] == '\0') {
		warnx("acme-client needs tls-dir (where certificates go)");
		return (-1);
	}
	if (conf->acme_webroot[0] == '\0') {
		warnx("acme-client needs acme-webroot (where challenges go)");
		return (-1);
	}
	if (conf->nlisten_http == 0)
		warnx("warning: no listen-http: this wkdd answers no HTTP-01 "
		    "challenge (another server on port 80 must serve "
		    "acme-webroot)");
	return (0);
}

int
acme_domain(struct ctl *ctl, const char *domain, int mtasts)
{
	struct ks_txn	*txn;
	char		 name[2][KS_DOMAIN_MAX + 16], until[2][32];
	int		 got[2] = { 0, 0 }, i, n = 0, fresh = 0, rc = 0;

	if (acme_ready(ctl->conf) == -1)
		return (-1);
	(void)snprintf(name[n++], sizeof(name[0]), "openpgpkey.%s", domain);
	if (mtasts)
		(void)snprintf(name[n++], sizeof(name[0]), "mta-sts.%s",
		    domain);
	for (i = 0; i < n; i++) {
		if ((got[i] = acme_name(ctl->conf, name[i], until[i],
		    sizeof(until[i]))) == -1)
			rc = -1;
		else
			fresh += got[i];
	}
	if (fresh == 0)
		return (rc);
	(void)acme_reload(ctl->conf);
	/* The audit log: which certificates are new. */
	if (store_begin(ctl, 0, &txn) == -1)
		return (rc);
	for (i = 0; i < n; i++)
		if (got[i] == 1 && audit_log(txn, domain, "certificate for %s "
		    "issued, valid until %s", name[i], until[i]) != KS_OK) {
			ks_txn_abort(txn);
			return (rc);
		}
	(void)store_commit(ctl, txn);
	return (rc);
}

int
acme_cmd(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn		*txn;
	struct ks_domain	 dom;
	struct ks_blob		 b;
	char			 d[KS_DOMAIN_MAX];
	int			 ch, mtasts = 0;
	static const struct option longopts[] = {
		{ "mta-sts", no_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};

	/* argv[0] is "cert". */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			mtasts = 1;
			break;
		default:
			return (cli_usage(DOMAIN_USAGE));
		}
	}
	if (argc - optind != 1)
		return (cli_usage(DOMAIN_USAGE));
	if (cli_domain(argv[optind], d) == -1)
		return (1);
	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if (store_domain(txn, d, &dom) == -1) {
		ks_txn_abort(txn);
		return (1);
	}
	/* A domain with an MTA-STS policy needs mta-sts.D too. */
	memset(&b, 0, sizeof(b));
	if (ks_mtasts_get(txn, d, &b) == KS_OK)
		mtasts = 1;
	ks_blob_free(&b);
	ks_txn_abort(txn);
	store_close(ctl);
	return (acme_domain(ctl, d, mtasts) == 0 ? 0 : 1);
}
