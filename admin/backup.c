/*
 * backup.c: backup and restore, the store as one file.
 *
 * backup writes a compacted copy of one consistent snapshot (wkdd serves
 * and wkdctl writes meanwhile) to a temporary file of mode 600 beside
 * FILE, checks it as restore would, and only then renames it to FILE: a
 * FILE that exists is always a whole backup.  It holds the revocation
 * certificates and the audit log, hence the mode.
 *
 * restore checks FILE (a store of a format this build reads, every record
 * as wkdctl writes them) and then replaces the store's whole content with
 * it in one write transaction of the store itself (ks_restore() says why
 * not by renaming files): wkdd serves the restored store from its next
 * request.  The same two commands ship a store to replica servers.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

static void	backup_print(const char *, const struct ks_backup_info *);
static int	backup_dirsync(const char *);
static int	restore_audit(struct ks_txn *, void *);
static int	restore_check(const char *, struct ks_backup_info *);

static void
backup_print(const char *what, const struct ks_backup_info *bi)
{
	printf("%s: %zu bytes, format %d: %zu domains, %zu addresses, "
	    "%zu keys, %zu entries served\n", what, bi->bytes, bi->format,
	    bi->domains, bi->addrs, bi->keys, bi->served);
}

/* fsync(2) the directory of path, so that a rename in it lasts. */
static int
backup_dirsync(const char *path)
{
	char	 dir[PATH_MAX], *slash;
	int	 fd, rc;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir))
		return (-1);
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	rc = fsync(fd);
	(void)close(fd);
	return (rc);
}

int
cmd_backup(struct ctl *ctl, int argc, char **argv)
{
	struct ks_backup_info	 bi;
	struct stat		 st;
	const char		*file, *base;
	char			 tmp[PATH_MAX];
	int			 i, fd, rc, n;

	if ((i = cli_noopts(argc, argv, BACKUP_USAGE)) < 0)
		return (-i);
	if (argc - i != 1)
		return (cli_usage(BACKUP_USAGE));
	file = argv[i];
	if (stat(file, &st) == 0 && !S_ISREG(st.st_mode)) {
		warnx("%s: not a regular file", file);
		return (1);
	}
	/* A reader, as wkdd: a backup never waits for a writer. */
	if (store_open(ctl, KS_RDONLY) == -1)
		return (1);
	base = strrchr(file, '/');
	n = base == NULL ? snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", file) :
	    snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(base - file),
	    file, base + 1);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		warnx("%s: path too long", file);
		return (1);
	}
	/* mkstemp(3) makes it mode 600; fchmod says so whatever the libc. */
	if ((fd = mkstemp(tmp)) == -1 || fchmod(fd, 0600) == -1) {
		warn("%s", fd == -1 ? file : tmp);
		if (fd != -1) {
			(void)close(fd);
			(void)unlink(tmp);
		}
		return (1);
	}
	if ((rc = ks_backup(ctl->ks, fd)) != KS_OK) {
		if (rc == KS_DISKFULL)
			warnx("disk full: %s", tmp);
		else
			warnx("%s: backup: %s", ctl->store, ks_strerror(rc));
		goto fail;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		warn("%s", tmp);
		goto fail;
	}
	fd = -1;
	if ((rc = ks_check_file(tmp, &bi)) != KS_OK) {
		warnx("%s: the copy doesn't check: %s", tmp, ks_strerror(rc));
		goto fail;
	}
	if (rename(tmp, file) == -1) {
		warn("%s", file);
		goto fail;
	}
	if (backup_dirsync(file) == -1)
		warn("%s: fsync of its directory", file);
	backup_print(file, &bi);
	return (0);
fail:
	if (fd != -1)
		(void)close(fd);
	(void)unlink(tmp);
	return (1);
}

/* In restore's transaction: the audit entry, after the restored log. */
static int
restore_audit(struct ks_txn *txn, void *arg)
{
	const struct ks_backup_info	*bi = arg;

	return (audit_log(txn, "store", "restored from a backup: %zu "
	    "domains, %zu addresses, %zu keys", bi->domains, bi->addrs,
	    bi->keys));
}

/*
 * ks_check_file() in a child: LMDB trusts its file, and a few damaged
 * files make it fault inside its own page walk (2 of 900 random
 * mutations of a backup).  A signal is then KS_CORRUPT, not our end.
 */
static int
restore_check(const char *file, struct ks_backup_info *bi)
{
	struct {
		int			 rc;
		struct ks_backup_info	 bi;
	}		 r;
	pid_t		 pid;
	ssize_t		 n;
	int		 p[2], status;

	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1)
		return (errno);
	if (pid == 0) {
		(void)close(p[0]);
		r.rc = ks_check_file(file, &r.bi);
		_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	(void)close(p[1]);
	while ((n = read(p[0], &r, sizeof(r))) == -1 && errno == EINTR)
		;
	(void)close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (n != sizeof(r) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return (KS_CORRUPT);
	*bi = r.bi;
	return (r.rc);
}

int
cmd_restore(struct ctl *ctl, int argc, char **argv)
{
	struct ks_backup_info	 bi;
	struct stat		 st;
	const char		*file;
	char			 data[PATH_MAX];
	int			 i, rc, fresh;

	if ((i = cli_noopts(argc, argv, RESTORE_USAGE)) < 0)
		return (-i);
	if (argc - i != 1)
		return (cli_usage(RESTORE_USAGE));
	file = argv[i];
	/* Checked before the store is opened for writing. */
	if ((rc = restore_check(file, &bi)) != KS_OK) {
		if (rc == KS_INVALID)
			warnx("%s: not a wkdd store; nothing changed", file);
		else
			warnx("%s: %s; nothing changed", file,
			    ks_strerror(rc));
		return (1);
	}
	/* A new replica: the store is made first, as init does. */
	if ((size_t)snprintf(data, sizeof(data), "%s/data.mdb", ctl->store) >=
	    sizeof(data)) {
		warnx("%s: path too long", ctl->store);
		return (1);
	}
	fresh = stat(data, &st) == -1 && errno == ENOENT;
	if (fresh && mkdir(ctl->store, 0750) == -1 && errno != EEXIST) {
		warn("%s", ctl->store);
		return (1);
	}
	if (store_open(ctl, fresh ? KS_CREATE : 0) == -1)
		return (1);
	if ((rc = ks_restore(ctl->ks, file, restore_audit, &bi)) != KS_OK) {
		warnx("%s: restore from %s: %s; nothing changed", ctl->store,
		    file, store_strerror(rc));
		return (1);
	}
	backup_print(file, &bi);
	printf("store %s restored; wkdd serves it from its next request\n",
	    ctl->store);
	return (0);
}
