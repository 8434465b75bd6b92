/*
 * audit.c: the audit log.  Every change an operation makes is logged in
 * the store, in the change's own transaction (time, operator, command
 * line, subject, what changed), and "wkdctl log" prints it.
 */

#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

/* The command line, for the audit log: set once by main(). */
static char	audit_cmdline[512];
/* The API's token and request, when serving (audit_actor()). */
static char	audit_user[64];
static char	audit_cmd[512];
static int	audit_api;

void
audit_actor(const char *user, const char *cmd)
{
	audit_api = user != NULL;
	(void)snprintf(audit_user, sizeof(audit_user), "%s",
	    user != NULL ? user : "");
	(void)snprintf(audit_cmd, sizeof(audit_cmd), "%s",
	    cmd != NULL ? cmd : "");
}

void
audit_init(int argc, char **argv)
{
	size_t	 n = 0;
	int	 i, w;

	audit_cmdline[0] = '\0';
	for (i = 0; i < argc; i++) {
		w = snprintf(audit_cmdline + n, sizeof(audit_cmdline) - n,
		    "%s%s", i == 0 ? "" : " ", argv[i]);
		if (w < 0 || (size_t)w >= sizeof(audit_cmdline) - n)
			break;	/* Truncated: fine for a log. */
		n += w;
	}
}

int
audit_log(struct ks_txn *txn, const char *subject, const char *fmt, ...)
{
	struct ks_logent	 e;
	struct passwd		*pw;
	const char		*sudo;
	va_list			 ap;
	int			 rc;

	memset(&e, 0, sizeof(e));
	(void)snprintf(e.cmd, sizeof(e.cmd), "%s", audit_api ? audit_cmd :
	    audit_cmdline);
	/* Under sudo, the operator is who ran sudo, as root's logs say. */
	if (audit_api)
		(void)snprintf(e.user, sizeof(e.user), "%s", audit_user);
	else if (getuid() == 0 && (sudo = getenv("SUDO_USER")) != NULL &&
	    sudo[0] != '\0' && strcmp(sudo, "root") != 0)
		(void)snprintf(e.user, sizeof(e.user), "%s (sudo)", sudo);
	else if ((pw = getpwuid(getuid())) != NULL)
		(void)snprintf(e.user, sizeof(e.user), "%s", pw->pw_name);
	else
		(void)snprintf(e.user, sizeof(e.user), "uid %lu",
		    (unsigned long)getuid());
	(void)snprintf(e.subject, sizeof(e.subject), "%s", subject);
	va_start(ap, fmt);
	(void)vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
	va_end(ap);
	if ((rc = ks_log_append(txn, &e)) != KS_OK)
		warnx("audit log: %s", ks_strerror(rc));
	return (rc);
}

struct log_walk {
	const char	*subject;	/* NULL: all. */
	int		 kind;		/* 0 address, 1 fingerprint, 2 domain */
	int		 json;
	int		 verbose;	/* Show the command too. */
	size_t		 n;
};

/* Is e about w->subject? */
static int
log_match(const struct log_walk *w, const struct ks_logent *e)
{
	const char	*at;

	if (w->subject == NULL || strcmp(w->subject, e->subject) == 0)
		return (1);
	switch (w->kind) {
	case 0:
	case 1:
		/* An entry of a key naming the address, or the reverse. */
		return (strstr(e->detail, w->subject) != NULL);
	default:
		return ((at = strrchr(e->subject, '@')) != NULL &&
		    strcmp(at + 1, w->subject) == 0);
	}
}

int
audit_match(const char *subject, int kind, const struct ks_logent *e)
{
	struct log_walk	 w;

	memset(&w, 0, sizeof(w));
	w.subject = subject;
	w.kind = kind;
	return (log_match(&w, e));
}

static int
log_cb(const struct ks_logent *e, void *arg)
{
	struct log_walk	*w = arg;
	struct tm	 tm;
	time_t		 t = e->time;
	char		 when[32];

	if (!log_match(w, e))
		return (0);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(when, sizeof(when), "%lld",
		    (long long)e->time);
	if (w->json) {
		printf("%s{\"seq\":%llu,\"time\":", w->n == 0 ? "" : ",\n",
		    (unsigned long long)e->seq);
		io_json_str(stdout, when);
		printf(",\"epoch\":%lld,\"user\":", (long long)e->time);
		io_json_str(stdout, e->user);
		printf(",\"command\":");
		io_json_str(stdout, e->cmd);
		printf(",\"subject\":");
		io_json_str(stdout, e->subject);
		printf(",\"detail\":");
		io_json_str(stdout, e->detail);
		printf("}");
	} else {
		printf("%s %s %s: %s\n", when, e->user, e->subject,
		    e->detail);
		if (w->verbose)
			printf("    command: %s\n", e->cmd);
	}
	w->n++;
	return (0);
}

int
audit_time(const char *s, int64_t *out)
{
	struct tm	 tm;
	char		*end;
	long long	 v;
	int		 n = 0, y, mo, d, h = 0, mi = 0, sec = 0;

	if (s[0] == '@') {
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (s[1] == '\0' || *end != '\0' || errno != 0 || v < 0)
			return (-1);
		*out = v;
		return (0);
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return (-1);
	s += n;
	if (*s == 'T' || *s == ' ') {
		n = 0;
		if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &n) != 2)
			return (-1);
		s += 1 + n;
		if (*s == ':') {
			n = 0;
			if (sscanf(s + 1, "%2d%n", &sec, &n) != 1)
				return (-1);
			s += 1 + n;
		}
		if (*s == 'Z')
			s++;
	}
	if (*s != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
		return (-1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return (0);
}

int
audit_prune(struct ks_txn *txn, int64_t before, size_t *n)
{
	char	 when[32];
	int	 rc;

	if ((rc = ks_log_prune(txn, before, n)) != KS_OK) {
		warnx("log: %s", ks_strerror(rc));
		return (-1);
	}
	io_date(before, when, sizeof(when));
	return (audit_log(txn, "log", "%zu entr%s before %s pruned", *n,
	    *n == 1 ? "y" : "ies", when) == KS_OK ? 0 : -1);
}

/* wkdctl log prune --before TIME; argv[0] is "prune". */
static int
log_prune(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	int64_t		 before;
	size_t		 n;

	if (argc != 3 || strcmp(argv[1], "--before") != 0)
		return (cli_usage(LOG_USAGE));
	if (audit_time(argv[2], &before) == -1) {
		warnx("--before %s: not a time (YYYY-MM-DD, "
		    "YYYY-MM-DDTHH:MM:SSZ or @seconds)", argv[2]);
		return (EXIT_USAGE);
	}
	if (store_begin(ctl, 0, &txn) == -1)
		return (1);
	if (audit_prune(txn, before, &n) == -1)
		return (store_abort(txn));
	if (store_commit(ctl, txn) == -1)
		return (1);
	printf("log: %zu entr%s pruned\n", n, n == 1 ? "y" : "ies");
	return (0);
}

int
cmd_log(struct ctl *ctl, int argc, char **argv)
{
	struct ks_txn	*txn;
	struct log_walk	 w;
	char		 subj[KS_ADDR_MAX];
	int64_t		 since = 0;
	int		 ch, rc;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "since", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&w, 0, sizeof(w));
	if (argc >= 2 && strcmp(argv[1], "prune") == 0)
		return (log_prune(ctl, argc - 1, argv + 1));
	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			w.json = 1;
			break;
		case 'v':
			w.verbose = 1;
			break;
		case 's':
			if (audit_time(optarg, &since) == -1) {
				warnx("--since %s: not a time (YYYY-MM-DD, "
				    "YYYY-MM-DDTHH:MM:SSZ or @seconds)",
				    optarg);
				return (EXIT_USAGE);
			}
			break;
		default:
			return (cli_usage(LOG_USAGE));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		return (cli_usage(LOG_USAGE));
	if (argc == 1) {
		/* The subject as the log has it: normalised. */
		if (strchr(argv[0], '@') != NULL) {
			if (cli_addr(argv[0], subj, NULL) == -1)
				return (1);
			w.kind = 0;
		} else if (cli_fpr(argv[0], subj) == 0)
			w.kind = 1;
		else if (ks_domain_norm(argv[0], subj, sizeof(subj)) ==
		    KS_OK)
			w.kind = 2;
		else {
			warnx("%s: not an address, domain or fingerprint",
			    argv[0]);
			return (1);
		}
		w.subject = subj;
	}
	if (store_begin(ctl, KS_RDONLY, &txn) == -1)
		return (1);
	if (w.json)
		printf("[");
	rc = ks_log_foreach(txn, since, log_cb, &w);
	ks_txn_abort(txn);
	if (w.json)
		io_json_end(stdout, w.n);
	if (rc != KS_OK) {
		warnx("audit log: %s", ks_strerror(rc));
		return (1);
	}
	return (0);
}
