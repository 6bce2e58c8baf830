/* skiffctl image import: puts a rootfs dir or tarball into the node's image store
 * (agent/pods/image.c does the work, so the agent and this tool agree on the layout). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

#include "commands.h"
#include "pods/image.h"

struct strv {
	const char **v;
	size_t n;
};

static int strv_push(struct strv *s, const char *x)
{
	const char **v = realloc(s->v, (s->n + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[s->n++] = x;
	v[s->n] = NULL;
	s->v = v;
	return 0;
}

static int import_usage(void)
{
	fprintf(stderr, "usage: skiffctl image import NAME PATH [--entrypoint ARG].. [--cmd ARG].. "
			"[--env K=V].. [--workdir DIR] [--root DIR (default " SKIFFCTL_DEFAULT_ROOT ")]\n"
			"  PATH is a root filesystem directory or a tarball (tar, tar.gz, tar.xz, ...).\n"
			"  Each --entrypoint/--cmd adds one argument.\n");
	return 2;
}

static int image_import_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "entrypoint", required_argument, NULL, 'e' }, { "cmd", required_argument, NULL, 'c' },
		{ "env", required_argument, NULL, 'E' },        { "workdir", required_argument, NULL, 'w' },
		{ "root", required_argument, NULL, 'r' },       { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct strv ep = { 0 }, cmd = { 0 }, env = { 0 };
	struct image_import_options o = { 0 };
	const char *root = SKIFFCTL_DEFAULT_ROOT;
	int c, r = 0, status = 2;

	optind = 1;
	while (r == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e': r = strv_push(&ep, optarg); break;
		case 'c': r = strv_push(&cmd, optarg); break;
		case 'E':
			if (!strchr(optarg, '=')) {
				fprintf(stderr, "skiffctl image import: --env wants K=V, got \"%s\"\n", optarg);
				r = -EINVAL;
			} else {
				r = strv_push(&env, optarg);
			}
			break;
		case 'w': o.working_dir = optarg; break;
		case 'r': root = optarg; break;
		default: r = -EINVAL; break;
		}
	}
	if (r < 0 || argc - optind != 2) {
		import_usage();
		goto out;
	}
	o.entrypoint = ep.v;
	o.cmd = cmd.v;
	o.env = env.v;
	r = image_import(root, argv[optind], argv[optind + 1], &o);
	if (r < 0) {
		const char *why = strerror(-r);

		if (r == -EINVAL)
			why = image_name_check(argv[optind]) < 0 ? "invalid image name" : "not a directory or a readable archive";
		fprintf(stderr, "skiffctl image import: %s from %s into %s/images: %s\n", argv[optind], argv[optind + 1],
			root, why);
		status = 1;
		goto out;
	}
	printf("image %s imported into %s/images\n", argv[optind], root);
	status = 0;
out:
	free(ep.v);
	free(cmd.v);
	free(env.v);
	return status;
}

int skiffctl_image(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return image_import_cmd(argc - 1, argv + 1);
	return import_usage();
}
