/*
 * util.c: helpers shared by wkdctl's commands.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

void
ctl_print_usage(FILE *fp, const char *usage, int first)
{
	const char	*p, *nl;

	for (p = usage; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		fprintf(fp, "%s wkdctl %.*s\n", first ? "usage:" : "      ",
		    (int)(nl - p), p);
		first = 0;
		if (*nl == '\0')
			break;
	}
}

int
ctl_usage(const char *usage)
{
	ctl_print_usage(stderr, usage, 1);
	return (EXIT_USAGE);
}

void
ctl_cmd_help(const struct ctl_cmd *cmd)
{
	ctl_print_usage(stdout, cmd->usage, 1);
	printf("\n%s.\n", cmd->help);
	if (cmd->details != NULL)
		printf("\n%s", cmd->details);
}

int
ctl_help(const struct ctl_cmd *cmd, int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			ctl_cmd_help(cmd);
			return (0);
		}
	}
	return (-1);
}

const struct ctl_cmd *
ctl_find(const struct ctl_cmd *cmds, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return (&cmds[i]);
	return (NULL);
}

int
ctl_open(struct ctl *ctl, int flags)
{
	int	 rc;

	if ((rc = ks_open(&ctl->ks, ctl->store, flags, ctl->mapsize)) !=
	    KS_OK) {
		if ((rc == ENOENT || rc == KS_NOTFOUND) &&
		    !(flags & KS_CREATE))
			warnx("%s: no store here (run \"wkdctl init\")",
			    ctl->store);
		else
			warnx("%s: %s", ctl->store, ks_strerror(rc));
		ctl->ks = NULL;
		return (-1);
	}
	return (0);
}

void
ctl_close(struct ctl *ctl)
{
	if (ctl->ks != NULL)
		ks_close(ctl->ks);
	ctl->ks = NULL;
}

int
ctl_addr(const char *in, char out[KS_ADDR_MAX], char domain[KS_DOMAIN_MAX])
{
	int	 rc;

	if ((rc = ks_addr_norm(in, out, KS_ADDR_MAX, domain,
	    domain == NULL ? 0 : KS_DOMAIN_MAX)) != KS_OK) {
		warnx("%s: not a mail address (%s)", in, ks_strerror(rc));
		return (-1);
	}
	return (0);
}

int
ctl_domain(const char *in, char out[KS_DOMAIN_MAX])
{
	if (ks_domain_norm(in, out, KS_DOMAIN_MAX) != KS_OK) {
		warnx("%s: not a valid domain name", in);
		return (-1);
	}
	return (0);
}

int
ctl_fpr(const char *in, char out[KS_FPR_MAX])
{
	size_t	 n = 0;

	if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X'))
		in += 2;
	for (; *in != '\0'; in++) {
		if (*in == ' ')
			continue;
		if (!isxdigit((unsigned char)*in) || n + 1 >= KS_FPR_MAX)
			return (-1);
		out[n++] = toupper((unsigned char)*in);
	}
	out[n] = '\0';
	/* v4: 40 hex digits, v5/v6: 64. */
	return (n == 40 || n == 64 ? 0 : -1);
}

int
ctl_split(const char *addr, char *local, size_t localsz, char *domain,
    size_t domainsz)
{
	const char	*at;
	size_t		 n;

	if ((at = strrchr(addr, '@')) == NULL)
		return (-1);
	n = at - addr;
	if (n + 1 > localsz || strlen(at + 1) + 1 > domainsz)
		return (-1);
	memcpy(local, addr, n);
	local[n] = '\0';
	memcpy(domain, at + 1, strlen(at + 1) + 1);
	return (0);
}

int
ctl_read_file(const char *path, size_t max, unsigned char **datap,
    size_t *lenp)
{
	unsigned char	*buf = NULL, *nbuf;
	size_t		 len = 0, cap = 0;
	ssize_t		 r;
	int		 fd;

	*datap = NULL;
	*lenp = 0;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		warn("%s", path);
		return (-1);
	}
	for (;;) {
		if (len == cap) {
			if (cap >= max + 1) {
				warnx("%s: file too large (more than %zu "
				    "bytes)", path, max);
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > max + 1)
				cap = max + 1;
			if ((nbuf = malloc(cap)) == NULL) {
				warn("%s", path);
				goto fail;
			}
			if (len > 0)
				memcpy(nbuf, buf, len);
			ctl_wipe(buf, len);
			buf = nbuf;
		}
		if ((r = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			warn("%s", path);
			goto fail;
		}
		if (r == 0)
			break;
		len += r;
	}
	if (len > max) {
		warnx("%s: file too large (more than %zu bytes)", path, max);
		goto fail;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*datap = buf;
	*lenp = len;
	return (0);
fail:
	ctl_wipe(buf, len);
	if (fd != STDIN_FILENO)
		close(fd);
	return (-1);
}

void
ctl_wipe(unsigned char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

int
ctl_begin(struct ctl *ctl, int flags, struct ks_txn **txnp)
{
	int	 rc;

	if ((rc = ks_txn_begin(ctl->ks, flags, txnp)) != KS_OK) {
		warnx("%s: %s", ctl->store, ks_strerror(rc));
		return (-1);
	}
	return (0);
}

int
ctl_commit(struct ctl *ctl, struct ks_txn *txn)
{
	int	 rc;

	if ((rc = ks_txn_commit(txn)) != KS_OK) {
		warnx("%s: %s; nothing changed", ctl->store, ks_strerror(rc));
		return (-1);
	}
	return (0);
}

static int
ctl_addrs_cb(const struct ks_addr *a, void *arg)
{
	struct ctl_addrs	*l = arg;
	struct ks_addr		*nv;

	if (l->n == l->cap) {
		if ((nv = reallocarray(l->v, l->cap ? l->cap * 2 : 16,
		    sizeof(*nv))) == NULL)
			return (ENOMEM);
		l->v = nv;
		l->cap = l->cap ? l->cap * 2 : 16;
	}
	l->v[l->n++] = *a;
	return (0);
}

int
ctl_addrs(struct ks_txn *txn, const char *account, struct ctl_addrs *l)
{
	int	 rc;

	memset(l, 0, sizeof(*l));
	if ((rc = ks_addr_foreach(txn, account, ctl_addrs_cb, l)) != KS_OK) {
		warnx("reading addresses: %s", ks_strerror(rc));
		ctl_addrs_free(l);
		return (-1);
	}
	return (0);
}

void
ctl_addrs_free(struct ctl_addrs *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const char *
ctl_state(int state)
{
	switch (state) {
	case KS_ADDR_PRIMARY:
		return ("primary");
	case KS_ADDR_ALIAS:
		return ("alias");
	case KS_ADDR_RETIRED:
		return ("retired");
	default:
		return ("unknown");
	}
}

/* The command line, for the audit log: set once by main(). */
static char	ctl_cmdline[512];

void
ctl_log_init(int argc, char **argv)
{
	size_t	 n = 0;
	int	 i, w;

	ctl_cmdline[0] = '\0';
	for (i = 0; i < argc; i++) {
		w = snprintf(ctl_cmdline + n, sizeof(ctl_cmdline) - n, "%s%s",
		    i == 0 ? "" : " ", argv[i]);
		if (w < 0 || (size_t)w >= sizeof(ctl_cmdline) - n)
			break;	/* Truncated: fine for a log. */
		n += w;
	}
}

int
ctl_log(struct ks_txn *txn, const char *subject, const char *fmt, ...)
{
	struct ks_logent	 e;
	struct passwd		*pw;
	va_list			 ap;
	int			 rc;

	memset(&e, 0, sizeof(e));
	if ((pw = getpwuid(getuid())) != NULL)
		(void)snprintf(e.user, sizeof(e.user), "%s", pw->pw_name);
	else
		(void)snprintf(e.user, sizeof(e.user), "uid %lu",
		    (unsigned long)getuid());
	(void)snprintf(e.cmd, sizeof(e.cmd), "%s", ctl_cmdline);
	(void)snprintf(e.subject, sizeof(e.subject), "%s", subject);
	va_start(ap, fmt);
	(void)vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
	va_end(ap);
	if ((rc = ks_log_append(txn, &e)) != KS_OK)
		warnx("audit log: %s", ks_strerror(rc));
	return (rc);
}

void
ctl_pass_init(struct ctl_pass *pp)
{
	memset(pp, 0, sizeof(*pp));
	pp->fd = -1;
}

int
ctl_pass_fd(struct ctl_pass *pp, const char *arg)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (arg[0] == '\0' || *end != '\0' || errno != 0 || v < 0 ||
	    v > 1024 || fcntl((int)v, F_GETFD) == -1) {
		warnx("--passphrase-fd %s: not an open file descriptor", arg);
		return (-1);
	}
	pp->fd = (int)v;
	return (0);
}

int
ctl_pass_avail(const struct ctl_pass *pp)
{
	if (pp == NULL)
		return (0);
	if (pp->state != 0)
		return (pp->state == 1);
	return (pp->fd != -1 || isatty(STDIN_FILENO));
}

/* Read one line (without its newline) from fd into buf. */
static int
ctl_pass_line(int fd, char *buf, size_t bufsz)
{
	size_t	 n = 0;
	ssize_t	 r;
	char	 c;

	for (;;) {
		if ((r = read(fd, &c, 1)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= bufsz)
			return (-1);
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (0);
}

const char *
ctl_pass_get(struct ctl_pass *pp, const char *what)
{
	struct termios	 t, saved;
	int		 fd, rc, echo_off = 0;

	if (pp == NULL || pp->state == -1)
		return (NULL);
	if (pp->state == 1)
		return (pp->buf);
	pp->state = -1;
	if (pp->fd != -1) {
		if (ctl_pass_line(pp->fd, pp->buf, sizeof(pp->buf)) == -1) {
			warnx("--passphrase-fd: cannot read a passphrase");
			explicit_bzero(pp->buf, sizeof(pp->buf));
			return (NULL);
		}
		pp->state = 1;
		return (pp->buf);
	}
	if (!isatty(STDIN_FILENO) ||
	    (fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
		return (NULL);
	if (tcgetattr(fd, &saved) == 0) {
		t = saved;
		t.c_lflag &= ~(ECHO | ECHONL);
		echo_off = tcsetattr(fd, TCSAFLUSH, &t) == 0;
	}
	dprintf(fd, "Passphrase for %s: ", what);
	rc = ctl_pass_line(fd, pp->buf, sizeof(pp->buf));
	dprintf(fd, "\n");
	if (echo_off)
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
	close(fd);
	if (rc == -1) {
		explicit_bzero(pp->buf, sizeof(pp->buf));
		return (NULL);
	}
	pp->state = 1;
	return (pp->buf);
}

void
ctl_pass_clear(struct ctl_pass *pp)
{
	explicit_bzero(pp->buf, sizeof(pp->buf));
	pp->state = 0;
}

void
ctl_json_str(FILE *fp, const char *s)
{
	unsigned char	 c;

	fputc('"', fp);
	for (; *s != '\0'; s++) {
		c = *s;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c < 0x20 || c == 0x7f)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

int
ctl_write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t	 w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += w;
		len -= w;
	}
	return (0);
}

/*
 * Percent-encode s into out (outsz bytes) for a URL's query, as clients
 * send l=: RFC 3986 unreserved characters stay, every other byte is %XX.
 * Returns -1 if it doesn't fit (out then holds what did, terminated).
 */
int
ctl_pct(const char *s, char *out, size_t outsz)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = 0;
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		c = *s;
		if (n + 4 > outsz) {
			if (outsz > 0)
				out[n] = '\0';
			return (-1);
		}
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			out[n++] = c;
		else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (n + 1 > outsz)
		return (-1);
	out[n] = '\0';
	return (0);
}
