/*
 * cli.c: the command line front end's helpers: usage and --help, command
 * lookup, and normalising what the operator types (addresses, domains,
 * fingerprints), warning in the operator's terms when it isn't one.
 */

#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
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
cli_print_usage(FILE *fp, const char *usage, int first)
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
cli_usage(const char *usage)
{
	cli_print_usage(stderr, usage, 1);
	return (EXIT_USAGE);
}

void
cli_cmd_help(const struct ctl_cmd *cmd)
{
	cli_print_usage(stdout, cmd->usage, 1);
	printf("\n%s.\n", cmd->help);
	if (cmd->details != NULL)
		printf("\n%s", cmd->details);
}

int
cli_help(const struct ctl_cmd *cmd, int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			cli_cmd_help(cmd);
			return (0);
		}
	}
	return (-1);
}

const struct ctl_cmd *
cli_find(const struct ctl_cmd *cmds, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return (&cmds[i]);
	return (NULL);
}

/* Commands without options still refuse unknown ones. */
int
cli_noopts(int argc, char **argv, const char *usage)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return (i + 1);
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			warnx("unknown option: %s", argv[i]);
			return (-cli_usage(usage));
		}
	}
	return (1);
}

int
cli_addr(const char *in, char out[KS_ADDR_MAX], char domain[KS_DOMAIN_MAX])
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
cli_domain(const char *in, char out[KS_DOMAIN_MAX])
{
	if (ks_domain_norm(in, out, KS_DOMAIN_MAX) != KS_OK) {
		warnx("%s: not a valid domain name", in);
		return (-1);
	}
	return (0);
}

int
cli_fpr(const char *in, char out[KS_FPR_MAX])
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
cli_lookup(struct ctl *ctl, const char *in, char addr[KS_ADDR_MAX],
    char domain[KS_DOMAIN_MAX], struct ks_txn **txnp, struct ks_addr *a)
{
	if (cli_addr(in, addr, domain) == -1 ||
	    store_begin(ctl, KS_RDONLY, txnp) == -1)
		return (-1);
	if (store_addr(*txnp, addr, a) == -1) {
		ks_txn_abort(*txnp);
		return (-1);
	}
	return (0);
}
