/* skiffctl: the operator tool. Dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "token", skiffctl_token, "token create [--data-dir DIR] [--ttl 24h] [--server URL]" },
	{ "image", skiffctl_image, "image import NAME PATH [--entrypoint ARG].. [--cmd ARG].. [--env K=V].. [--workdir DIR] [--root DIR]" },
	{ "cluster", skiffctl_cluster, "cluster up|down|restart-agent [--name NAME] ... (skiffctl cluster --help)" },
	{ "lb", skiffctl_lb, "lb list [--node NAME] [--pin-dir DIR]" },
	{ "store", skiffctl_store, "store migrate --from sqlite:PATH --to etcd:URL[,URL...] [--etcd-prefix /skiff] [--batch]" },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: skiffctl COMMAND ...\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  skiffctl %s\n", commands[i].help);
	return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)
		return usage(stdout);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "skiffctl: unknown command \"%s\"\n", argv[1]);
	return usage(stderr);
}
