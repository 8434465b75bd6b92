/*
 * wkdctl: administer a wkdd key store.
 *
 * A git-style command line: global options, then a command and its own
 * options.  Exit status 0 on success, 1 on failure, 2 on bad usage; every
 * message goes to stderr, results to stdout.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore.h"
#include "conf.h"
#include "wkdctl.h"

static const struct ctl_cmd cmds[] = {
	{ "init", cmd_init, INIT_USAGE, "create a new store", NULL },
	{ "domain", cmd_domain, DOMAIN_USAGE,
	    "host, drop, list or check mail domains",
	    "A domain is given as U-label or A-label, any case.  Removing one\n"
	    "takes down what is published under it; its addresses stay\n"
	    "bound.\n"
	    "policy serves file (\"-\": stdin) as the domain's WKD policy\n"
	    "file, e.g. \"protocol-version: 5\".  keep-revoked on serves a\n"
	    "replaced key, once revoked, after its successor.\n"
	    "check looks at what a mail client meets: DNS (resolv.conf),\n"
	    "the certificate, the policy and a key over HTTPS; exit 0 only\n"
	    "if nothing failed.  Options: those of dns, and --cafile file\n"
	    "(trust only these CAs), --port port (443).  The result of a\n"
	    "hosted domain is stored (not with --no-store); --last prints\n"
	    "it, --json as a JSON document.\n"
	    "cert gets openpgpkey.DOMAIN's certificate (and mta-sts.DOMAIN's\n"
	    "with --mta-sts or an MTA-STS policy) from the acme-client of\n"
	    "wkdd.conf, then reloads wkdd (pidfile); add does so too unless\n"
	    "--no-cert, and keeps the domain (exit 0) if that fails.\n" },
	{ "account", cmd_account, ACCOUNT_USAGE,
	    "create, sync, list, show or remove accounts",
	    "An account is its primary address; aliases belong to it for\n"
	    "good.  "
	    "Every address must be in a hosted domain and bound nowhere.\n"
	    "remove unpublishes all its addresses; they stay bound.\n"
	    "sync reads file (\"-\": stdin), a line per account: its primary\n"
	    "address, then its aliases, tab-separated (\"#\" lines and blank\n"
	    "lines skipped), and adds the accounts and aliases that are new,\n"
	    "in one transaction.  It never removes any (account remove,\n"
	    "alias remove do).  A line that conflicts with the store or\n"
	    "another line (an address bound elsewhere, a retired alias, a\n"
	    "removed account, a domain not hosted, a malformed address) is\n"
	    "reported and skipped; the rest is applied.  --dry-run writes\n"
	    "nothing; --json prints the report as a JSON object.  Exit 0 if\n"
	    "no line conflicted, else 1.\n"
	    "list --json: every account, its aliases and their keys.\n" },
	{ "alias", cmd_alias, ALIAS_USAGE,
	    "bind or retire an alias of an account",
	    "remove retires the alias: nothing is published for it, and it\n"
	    "can never move to another account.\n" },
	{ "import", cmd_import, IMPORT_USAGE,
	    "import keys and publish their addresses",
	    "Files (\"-\": stdin) hold armored or binary keys, public\n"
	    "or secret keypairs (no passphrase needed; secret key\n"
	    "material is never stored).  A UID is published if its\n"
	    "address is the primary or an alias of an account: the one\n"
	    "named by --account, else the address's owner (a key whose\n"
	    "addresses are two accounts' is refused).  Each address\n"
	    "serves the key with only its own UID; the other UIDs are\n"
	    "reported with the reason.  Importing a key again merges it;\n"
	    "of two keys for an address the newer self-signature wins.\n"
	    "A key that can't be read or publishes nothing is reported\n"
	    "and skipped, the others imported; --strict imports all or\n"
	    "nothing.  Exit 0: every key imported; 3: some skipped or\n"
	    "failed; 1: none imported (the store is unchanged).\n"
	    "--json prints the report as JSON.\n" },
	{ "list", cmd_list, LIST_USAGE, "list published addresses",
	    "Each published address, its key and the key's state; --json\n"
	    "as a JSON array (address, account, fpr, state).\n" },
	{ "show", cmd_show, SHOW_USAGE, "show an address or a key", NULL },
	{ "export", cmd_export, EXPORT_USAGE,
	    "write the key served for an address, or a stored key",
	    "Writes exactly the bytes served for address, binary; not to a\n"
	    "terminal.  For a fingerprint (--key), the stored certificate of\n"
	    "that key: public packets, every valid UID.  --armor: the\n"
	    "same in ASCII armor.\n" },
	{ "dns", cmd_dns, DNS_USAGE,
	    "print the DNS records a hosted domain publishes",
	    "--target name or --address ip ...: the service's host name\n"
	    "(CNAMEs) or addresses; --caa ca: the CA's domain (CAA);\n"
	    "--tlsrpt uri: TLSRPT rua; --cert file, --tls-dir dir: the\n"
	    "certificate served (tls-dir/live/NAME/fullchain.pem, else\n"
	    "--cert, else tls-cert) for the TLSA record.  Each defaults to\n"
	    "wkdd.conf: service-name or service-address, acme-ca,\n"
	    "tlsrpt-rua, tls-dir, tls-cert.\n" },
	{ "hash", cmd_hash, HASH_USAGE,
	    "print the WKD hash and URLs of an address",
	    "unicode-hash, if printed, is the hash clients that lowercase all\n"
	    "of Unicode (sq, OpenPGP.js, Thunderbird) ask for; it is served\n"
	    "too.  Needs no store.\n" },
	/* locate, refresh (locate.c, refresh.c). */
	{ "locate", cmd_locate, LOCATE_USAGE,
	    "find another domain's key for an address: WKD, then VKS",
	    "WKD as GnuPG asks it (advanced if openpgpkey.DOMAIN resolves,\n"
	    "else direct), then the key server's by-email (--vks url,\n"
	    "default " LOCATE_VKS "; --no-vks: WKD only).\n"
	    "The key must be OpenPGP under 256 KiB, hold no secret key and a\n"
	    "valid self-signed User ID for exactly address; it is printed\n"
	    "armored with that UID alone (-o file: binary, to file), where\n"
	    "it came from on stderr.  --ca file: trust only its CAs.  Nothing\n"
	    "is stored.  Needs no store.\n" },
	{ "refresh", cmd_refresh, REFRESH_USAGE,
	    "update stored keys from the key server (VKS by-fingerprint)",
	    "Each key's current copy is merged by import's rules (new\n"
	    "revocations, subkeys, expiry; valid self-signatures only) and\n"
	    "served at once; \"-\": fingerprints on stdin, one a line.\n"
	    "Exit 0: all refreshed; 3: some failed; 1: all failed.\n" },
	{ "remove", cmd_remove, REMOVE_USAGE,
	    "remove a key and all it published", NULL },
	{ "log", cmd_log, LOG_USAGE,
	    "show the audit log (of one subject)",
	    "Oldest first: time (UTC), operator, subject, what changed.\n"
	    "-v adds each change's command line; --json prints a JSON\n"
	    "array; --since time: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z]\n"
	    "(UTC) or @seconds.  prune --before time drops older entries\n"
	    "(the newest stays); addresses stay bound whatever the log.\n" },
	{ "revoke", cmd_revoke, REVOKE_USAGE, "revoke a key", REVOKE_HELP },
	{ "export-revocation", cmd_export_revocation, EXPREV_USAGE,
	    "print a stored revocation certificate", EXPREV_HELP },
	{ "unpublish", cmd_unpublish, UNPUBLISH_USAGE,
	    "stop serving an address", UNPUBLISH_HELP },
	{ "republish", cmd_republish, REPUBLISH_USAGE,
	    "publish again from the stored keys",
	    "For an address, every address of its account (--account), or\n"
	    "every address of a domain: the newest valid stored key of the\n"
	    "address's own account with a valid UID for it is served, as\n"
	    "import chooses.  Undoes a remove of a newer key, a domain\n"
	    "removed and added again, an unpublish.\n" },
	{ "publish", cmd_publish, PUBLISH_USAGE,
	    "serve an unpublished address again", NULL },
	{ "export-tree", cmd_export_tree, EXPTREE_USAGE,
	    "write a static WKD tree of what wkdd serves",
	    "For each hosted domain D (or those named), both layouts, for a\n"
	    "web server with \"root dir/$host;\":\n"
	    "  dir/openpgpkey.D/.well-known/openpgpkey/D/{hu/HASH,policy}\n"
	    "  dir/D/.well-known/openpgpkey/{hu/HASH,policy}\n"
	    "with exactly the bytes wkdd serves under each hash.  dir is a\n"
	    "symbolic link to the tree (.dir.XXXXXX beside it), replaced\n"
	    "atomically once the new tree is written and synced; the old\n"
	    "tree is removed then.\n" },
	{ "import-tree", cmd_import_tree, IMPTREE_USAGE,
	    "import the keys of an existing WKD tree",
	    "dir holds openpgpkey/D/hu/HASH (gpg-wks-client --install-key\n"
	    "with -C dir/openpgpkey), .well-known/openpgpkey/D/hu/HASH, or,\n"
	    "for the direct method, .well-known/openpgpkey/hu/HASH with\n"
	    "--domain D (which also limits the others to D).  A file is\n"
	    "imported as \"wkdctl import\" would if its name is the WKD hash\n"
	    "of a UID address of its key in D, else it is a mismatch.\n"
	    "--create-accounts makes an account of each such address not\n"
	    "bound yet (D must be hosted).  --dry-run changes nothing.  One\n"
	    "transaction; exit 1 if any file mismatched or failed.\n" },
	{ "backup", cmd_backup, BACKUP_USAGE,
	    "write the whole store to a file",
	    "A compacted copy of one consistent snapshot, taken while wkdd\n"
	    "serves and wkdctl writes; written to a temporary file of mode\n"
	    "600 beside file, checked, then renamed: file is always a whole\n"
	    "backup.  It holds everything: the revocation certificates and\n"
	    "the audit log too.\n" },
	{ "restore", cmd_restore, RESTORE_USAGE,
	    "replace the store with a backup",
	    "Checks file first (a wkdd store of a format this wkdctl reads,\n"
	    "every record as wkdctl writes them; else nothing changes), then\n"
	    "replaces the whole store with it in one transaction: wkdd\n"
	    "serves the restored store from its next request, without a\n"
	    "reload.  Makes the store if there is none (a new replica).\n" },
	{ "token", cmd_token, TOKEN_USAGE,
	    "add, list or revoke tokens of the admin API",
	    "add prints the new token's secret, once; the store keeps only\n"
	    "its SHA-256.  --domain (repeat) confines it to those domains:\n"
	    "anything else is \"not found\" to it.  --read-only: it may not\n"
	    "change anything.  revoke deletes it at once.\n" },
	{ "serve", cmd_serve, SERVE_USAGE,
	    "serve the admin API (JSON over HTTP) on a unix socket",
	    "Listens on path (default " "/run/wkdctl/api.sock" ", mode 660)\n"
	    "until SIGTERM; each request runs as a command does, in one\n"
	    "transaction, under its token's name in the audit log.  Bodies\n"
	    "over --max-body bytes (default 4 MiB) get 413; more than --rate\n"
	    "requests a second (default 100) from one token, 429.  With\n"
	    "--listen, also over TLS (--tls-cert, --tls-key: PEM files) on\n"
	    "that address (port 0: one the kernel picks, printed).\n"
	    "GET /v1/locate asks --vks url (default " LOCATE_VKS ";\n"
	    "--no-vks: WKD only) after WKD, trusting --cafile's CAs.  See\n"
	    "admin/api.yaml and wkdctl(8).\n" },
	{ "mta-sts", cmd_mtasts, MTASTS_USAGE,
	    "set, show or remove a domain's MTA-STS policy",
	    "wkdd serves it at https://mta-sts.DOMAIN/.well-known/mta-sts.txt\n"
	    "(RFC 8461).  --mx: an MX host name, or *.name for one label\n"
	    "(repeat, or list patterns after the domain); --max-age: from 0\n"
	    "to 31557600 seconds.  The _mta-sts TXT record's id (wkdctl dns)\n"
	    "changes with the policy.\n" },
	{ "tlsrpt", cmd_tlsrpt, TLSRPT_USAGE,
	    "receive, ingest and summarise TLS reports (RFC 8460)",
	    "Reports wait in the spool (tlsrpt-spool, or --spool dir): wkdd\n"
	    "writes those POSTed to https://mta-sts.DOMAIN/tlsrpt; receive\n"
	    "takes a report mail on stdin (an MTA's pipe: the mailto: rua).\n"
	    "Each is validated first: a report for a domain not hosted is\n"
	    "refused.  ingest stores the spool's reports (a report-id once\n"
	    "per domain), removes the files, moves malformed ones to\n"
	    "rejected/ (exit 3).  summary: per domain, sessions, failures by\n"
	    "result type, sending organisations, MX hosts, policy types;\n"
	    "--days n or --since time: reports ending since then.\n"
	    "prune drops the stored reports that ended before --before time\n"
	    "(or more than --days n ago).\n" },
};

static void
usage(FILE *fp)
{
	size_t	 i;

	fprintf(fp, "usage: wkdctl [-V] [-f file] [-s dir] command "
	    "[argument ...]\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		cli_print_usage(fp, cmds[i].usage, 0);
}

static void
help(void)
{
	size_t	 i, w = 0;

	usage(stdout);
	printf("\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strlen(cmds[i].name) > w)
			w = strlen(cmds[i].name);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		printf("  %-*s  %s\n", (int)w, cmds[i].name, cmds[i].help);
	printf("\n-s dir: the store directory (else the config file's "
	    "\"store\");\n-f file: the config file (default %s).\n"
	    "\"wkdctl command --help\" describes one command.\n", WKDD_CONF);
}

/*
 * The store directory: -s wins; else the config file's "store" directive.
 * A missing default config file is not an error (defaults apply); a
 * missing file named with -f is.
 */
static int
wkdctl_config(struct ctl *ctl, const char *file, int explicit,
    struct conf **confp)
{
	char	 errbuf[512];

	*confp = NULL;
	if (!explicit && access(file, F_OK) == -1) {
		if (ctl->store == NULL)
			ctl->store = WKDD_STORE;
		return (0);
	}
	if (conf_parse(file, confp, errbuf, sizeof(errbuf)) == -1) {
		warnx("%s", errbuf);
		return (-1);
	}
	if (ctl->store == NULL)
		ctl->store = (*confp)->store[0] != '\0' ? (*confp)->store :
		    WKDD_STORE;
	ctl->mapsize = (*confp)->store_size;
	return (0);
}

int
main(int argc, char *argv[])
{
	struct ctl		 ctl;
	struct conf		*conf = NULL;
	const struct ctl_cmd	*cmd;
	const char		*file = WKDD_CONF;
	int			 ch, explicit = 0, rc;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&ctl, 0, sizeof(ctl));
	audit_init(argc, argv);
	while ((ch = getopt_long(argc, argv, "+f:hs:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			explicit = 1;
			break;
		case 'h':
			help();
			return (0);
		case 's':
			ctl.store = optarg;
			break;
		case 'V':
			printf("wkdctl %s\n", WKDD_VERSION);
			return (0);
		default:
			usage(stderr);
			return (EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	if (strcmp(argv[0], "help") == 0) {
		if (argc > 1 && (cmd = cli_find(cmds,
		    sizeof(cmds) / sizeof(cmds[0]), argv[1])) != NULL) {
			cli_cmd_help(cmd);
			return (0);
		}
		help();
		return (0);
	}
	if ((cmd = cli_find(cmds, sizeof(cmds) / sizeof(cmds[0]),
	    argv[0])) == NULL) {
		warnx("unknown command: %s", argv[0]);
		usage(stderr);
		return (EXIT_USAGE);
	}
	if ((rc = cli_help(cmd, argc, argv)) != -1)
		return (rc);
	/* "hash" and "locate" need no store, hence no config either. */
	if (cmd->fn != cmd_hash && cmd->fn != cmd_locate &&
	    wkdctl_config(&ctl, file, explicit, &conf) == -1)
		return (1);
	ctl.conf = conf;
	optind = 0;	/* glibc: reinitialise getopt for the command. */
	rc = cmd->fn(&ctl, argc, argv);
	store_close(&ctl);
	conf_free(conf);
	return (rc);
}
