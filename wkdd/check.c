/*
 * check.c: what start-up needs beyond a valid file, checked while errors
 * still reach the terminal, and by wkdd -n as start-up would: that user
 * exists and isn't root, that the pidfile's directory exists, that the
 * store opens read-only for the user wkdd runs as (a reader writes its
 * slot into lock.mdb), and that what SIGHUP reads again (certificate,
 * key, page) stays readable once privileges are dropped.
 *
 * Each check returns 0, or -1 with a message naming the file and the fix
 * in err; check_dropped() only warns, since start-up works without it.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore.h"
#include "log.h"
#include "wkdd.h"

static const char *check_whoami(char *, size_t);
static int	check_store_access(const char *, int, char *, size_t);
static int	check_dir_of(const char *, char *, size_t);
static int	check_readable(const char *, const char *, const char *);

/* "user NAME (uid N)" for the effective uid, into buf. */
static const char *
check_whoami(char *buf, size_t sz)
{
	struct passwd	*pw;
	uid_t		 uid = geteuid();

	if ((pw = getpwuid(uid)) != NULL)
		(void)snprintf(buf, sz, "user %s (uid %u)", pw->pw_name,
		    (unsigned)uid);
	else
		(void)snprintf(buf, sz, "uid %u", (unsigned)uid);
	return (buf);
}

int
check_abspath(const char *path, char *out, size_t outsz)
{
	char	cwd[PATH_MAX];
	int	n;

	if (path[0] == '/')
		n = snprintf(out, outsz, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return (-1);
	else
		n = snprintf(out, outsz, "%s/%s", strcmp(cwd, "/") == 0 ?
		    "" : cwd, path);
	if (n < 0 || (size_t)n >= outsz) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

int
check_user(const struct conf *conf, char *err, size_t errsz)
{
	struct passwd	*pw;

	if (conf->user[0] == '\0')
		return (0);
	errno = 0;
	if ((pw = getpwnam(conf->user)) == NULL)
		return (conf_msg(err, errsz, "user %s: %s", conf->user,
		    errno != 0 ? strerror(errno) : "no such user"));
	if (pw->pw_uid == 0)
		return (conf_msg(err, errsz, "user %s: is root (uid 0): name "
		    "an unprivileged user, or leave user out", conf->user));
	return (0);
}

/* The directory part of absolute path p into dir (PATH_MAX). */
static int
check_dir_of(const char *p, char *dir, size_t sz)
{
	char	*slash;

	if ((size_t)snprintf(dir, sz, "%s", p) >= sz ||
	    (slash = strrchr(dir, '/')) == NULL)
		return (-1);
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return (0);
}

int
check_pidfile(const struct conf *conf, char *err, size_t errsz)
{
	struct stat	 st;
	char		 dir[PATH_MAX];

	if (conf->pidfile[0] == '\0')
		return (0);
	if (check_dir_of(conf->pidfile, dir, sizeof(dir)) == -1)
		return (conf_msg(err, errsz, "pidfile %s: bad path",
		    conf->pidfile));
	if (stat(dir, &st) == -1)
		return (conf_msg(err, errsz, "pidfile %s: directory %s: %s",
		    conf->pidfile, dir, strerror(errno)));
	if (!S_ISDIR(st.st_mode))
		return (conf_msg(err, errsz, "pidfile %s: %s is not a "
		    "directory", conf->pidfile, dir));
	if (access(dir, W_OK | X_OK) == -1)
		return (conf_msg(err, errsz, "pidfile %s: directory %s: %s",
		    conf->pidfile, dir, strerror(errno)));
	if (lstat(conf->pidfile, &st) == 0 && !S_ISREG(st.st_mode))
		return (conf_msg(err, errsz, "pidfile %s: not a regular file",
		    conf->pidfile));
	return (0);
}

/*
 * ks_open() said EACCES (or EPERM, EROFS) for dir: which file the user
 * we run as lacks, and what it needs.
 */
static int
check_store_access(const char *dir, int rc, char *err, size_t errsz)
{
	char	lock[PATH_MAX], data[PATH_MAX], who[128];

	(void)check_whoami(who, sizeof(who));
	if ((size_t)snprintf(lock, sizeof(lock), "%s/lock.mdb", dir) >=
	    sizeof(lock) || (size_t)snprintf(data, sizeof(data),
	    "%s/data.mdb", dir) >= sizeof(data))
		return (conf_msg(err, errsz, "store %s: path too long", dir));
	if (access(dir, X_OK) == -1)
		return (conf_msg(err, errsz, "store %s: %s: %s can't enter "
		    "the directory", dir, strerror(errno), who));
	if (access(data, R_OK) == -1)
		return (conf_msg(err, errsz, "store %s: %s: %s: %s can't "
		    "read it", dir, data, strerror(errno), who));
	if (access(lock, F_OK) == 0) {
		if (access(lock, R_OK | W_OK) == -1)
			return (conf_msg(err, errsz, "store %s: %s: %s: "
			    "lock.mdb must be writable by %s (LMDB readers "
			    "record themselves there): make it and the store "
			    "directory group-writable for a group of that user",
			    dir, lock, strerror(errno), who));
	} else if (access(dir, W_OK) == -1)
		return (conf_msg(err, errsz, "store %s: no lock.mdb, and %s "
		    "can't create it (%s): lock.mdb must be writable by that "
		    "user; run wkdctl once, or make the directory writable",
		    dir, who, strerror(errno)));
	return (conf_msg(err, errsz, "store %s: %s (as %s)", dir,
	    ks_strerror(rc), who));
}

int
check_store(const char *dir, size_t size, char *err, size_t errsz)
{
	struct ks	*ks;
	int		 rc;

	if ((rc = ks_open(&ks, dir, KS_RDONLY, size)) == KS_OK) {
		ks_close(ks);
		return (0);
	}
	if (rc == KS_NOTFOUND)
		return (conf_msg(err, errsz, "store %s: no store here (run "
		    "\"wkdctl -s %s init\")", dir, dir));
	if (rc == EACCES || rc == EPERM || rc == EROFS)
		return (check_store_access(dir, rc, err, errsz));
	return (conf_msg(err, errsz, "store %s: %s", dir, ks_strerror(rc)));
}

/* Warn unless path (of directive what) can be opened for reading. */
static int
check_readable(const char *what, const char *path, const char *who)
{
	DIR	*dp;
	int	 fd;

	if (path[0] == '\0')
		return (0);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) != -1) {
		(void)close(fd);
		return (0);
	}
	if (errno == EISDIR && (dp = opendir(path)) != NULL) {
		(void)closedir(dp);
		return (0);
	}
	log_warnx("%s %s: %s as %s: SIGHUP can't reload it (make it "
	    "readable by that user%s)", what, path, strerror(errno), who,
	    strcmp(what, "tls-key") == 0 ? ", e.g. owned by it, or mode "
	    "640 with group ssl-cert and the user in that group" : "");
	return (-1);
}

int
check_dropped(const struct conf *conf)
{
	char	path[PATH_MAX], dir[PATH_MAX], who[128];
	int	bad = 0;

	(void)check_whoami(who, sizeof(who));
	bad |= check_readable("tls-cert", conf->tls_cert, who);
	bad |= check_readable("tls-key", conf->tls_key, who);
	if (conf->tls_dir[0] != '\0' && (size_t)snprintf(path, sizeof(path),
	    "%s/live", conf->tls_dir) < sizeof(path) &&
	    access(path, F_OK) == 0)
		bad |= check_readable("tls-dir", path, who);
	if (conf->www[0] != '\0' && (size_t)snprintf(path, sizeof(path),
	    "%s/index.html", conf->www) < sizeof(path))
		bad |= check_readable("www", path, who);
	if (conf->pidfile[0] != '\0' &&
	    check_dir_of(conf->pidfile, dir, sizeof(dir)) == 0 &&
	    access(dir, W_OK | X_OK) == -1)
		log_info("pidfile %s: %s can't remove it from %s: a process "
		    "kept as root removes it at exit", conf->pidfile, who,
		    dir);
	/* tlsrpt.c writes reports there (openat, renameat, unlinkat). */
	if (conf->tlsrpt_spool[0] != '\0' &&
	    access(conf->tlsrpt_spool, W_OK | X_OK) == -1) {
		log_warnx("tlsrpt-spool %s: %s can't write there: %s; reports "
		    "will be refused (500)", conf->tlsrpt_spool, who,
		    strerror(errno));
		bad = 1;
	}
	return (bad ? -1 : 0);
}

int
check_as_user(const struct conf *conf)
{
	char	err[CONF_ERR_MAX];
	pid_t	pid;
	int	status, rc;

	if (conf->user[0] == '\0' || geteuid() != 0) {
		if (check_store(conf->store, conf->store_size, err,
		    sizeof(err)) == -1) {
			log_warnx("%s", err);
			return (1);
		}
		return (0);
	}
	/* As start-up does: become the user, then open and read. */
	if ((pid = fork()) == -1) {
		log_warn("fork");
		return (1);
	}
	if (pid == 0) {
		rc = 0;
		if (priv_become(conf->user, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			_exit(1);
		}
		if (check_store(conf->store, conf->store_size, err,
		    sizeof(err)) == -1) {
			log_warnx("%s", err);
			rc = 1;
		}
		(void)check_dropped(conf);
		_exit(rc);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			log_warn("waitpid");
			return (1);
		}
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1);
}
