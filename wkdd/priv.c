/*
 * priv.c: giving up root.  Called once everything that needs root is done
 * (sockets bound, certificate and key read, store opened) and before any
 * thread is started.  Without a user directive, root becomes the
 * package's system user WKDD_USER; staying root takes "user root".
 */
#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wkdd.h"

int
priv_user(struct conf *conf, const char *dflt, char *err, size_t errsz)
{
	if (conf->user[0] != '\0' || geteuid() != 0)
		return (0);
	if (getpwnam(dflt) == NULL)
		return (conf_msg(err, errsz, "started as root without a user "
		    "directive, and there is no user %s to become: add \"user "
		    "NAME\" (an unprivileged user) to %s, or \"user root\" "
		    "to stay root", dflt, conf->path));
	(void)snprintf(conf->user, sizeof(conf->user), "%s", dflt);
	return (0);
}

int
priv_drop(const char *user, char *err, size_t errsz)
{
	struct passwd	*pw;

	if (user[0] == '\0')
		return (0);
	if (geteuid() == 0 && (pw = getpwnam(user)) != NULL &&
	    pw->pw_uid == 0) {
		log_warnx("user %s: staying root (uid 0), as asked: a "
		    "compromised wkdd has root's powers but for the sandbox",
		    user);
		return (0);
	}
	if (geteuid() != 0) {
		/* Started as that user (systemd's User=): nothing to drop. */
		if ((pw = getpwnam(user)) != NULL && pw->pw_uid == geteuid())
			log_info("running as %s (uid %u)", user,
			    (unsigned)geteuid());
		else
			log_info("user %s: not started as root, running as "
			    "uid %u", user, (unsigned)geteuid());
		return (0);
	}
	if (priv_become(user, err, errsz) == -1)
		return (-1);
	log_info("running as %s (uid %u)", user, (unsigned)geteuid());
	return (0);
}

/*
 * The groups are the user's own and its supplementary ones (initgroups),
 * so that a key kept as Debian does, root:ssl-cert mode 640, stays
 * readable on reload for a user in group ssl-cert.
 */
int
priv_become(const char *user, char *err, size_t errsz)
{
	struct passwd	*pw;
	uid_t		 ruid, euid, suid;
	gid_t		 rgid, egid, sgid;

	if (user[0] == '\0' || geteuid() != 0)
		return (0);
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		(void)snprintf(err, errsz, "user %s: %s", user,
		    errno ? strerror(errno) : "no such user");
		return (-1);
	}
	if (pw->pw_uid == 0)
		return (0);	/* "user root": stays. */
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		(void)snprintf(err, errsz, "user %s: cannot drop privileges: "
		    "%s", user, strerror(errno));
		return (-1);
	}
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != pw->pw_uid || euid != pw->pw_uid || suid != pw->pw_uid ||
	    rgid != pw->pw_gid || egid != pw->pw_gid || sgid != pw->pw_gid ||
	    setuid(0) != -1) {
		(void)snprintf(err, errsz, "user %s: privileges not dropped",
		    user);
		return (-1);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		(void)snprintf(err, errsz, "PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
		return (-1);
	}
	return (0);
}
