/* skiffctl image import as an operator runs it: the built binary, its flags, exit statuses
 * and messages, and the image the agent's store then finds. */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "lib/pods_kit.h"
#include "pods/image.h"

#define SKIFFCTL "build/asan/bin/skiffctl"

static char *root, *src;

static void setup(void)
{
	pods_kit_make(SKIFFCTL);
	root = pods_kit_tempdir("skiffctl-root");
	src = pods_kit_tempdir("skiffctl-src");
	pods_kit_busybox_rootfs(src);
}

static void teardown(void)
{
	pods_kit_remove(root);
	pods_kit_remove(src);
	free(root);
	free(src);
}

TestSuite(skiffctl_image, .init = setup, .fini = teardown, .timeout = 60);

/* Runs skiffctl with args (a shell fragment); returns its exit status, output in out. */
static int skiffctl(char *out, size_t size, const char *fmt, ...)
{
	char args[4096], cmd[4200];
	va_list ap;
	FILE *p;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), SKIFFCTL " %s 2>&1", args);
	p = popen(cmd, "r");
	cr_assert(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	st = pclose(p);
	cr_assert(WIFEXITED(st), "%s: status %#x", cmd, st);
	return WEXITSTATUS(st);
}

Test(skiffctl_image, import_dir_with_flags)
{
	_cleanup_json_ json_object *cfg = NULL;
	_cleanup_free_ char *rootfs = NULL;
	char out[4096];

	cr_assert_eq(skiffctl(out, sizeof(out),
			      "image import busybox '%s' --root '%s' --entrypoint /bin/sh --entrypoint -c --cmd 'echo hi' "
			      "--env A=1 --env B=x=y --workdir /srv",
			      src, root),
		     0, "%s", out);
	cr_expect(strstr(out, "image busybox imported"), "%s", out);
	cr_assert_eq(image_lookup(root, "busybox", &rootfs, &cfg), 0);
	cr_expect_str_eq(json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			 "{\"entrypoint\":[\"/bin/sh\",\"-c\"],\"cmd\":[\"echo hi\"],\"env\":[\"A=1\",\"B=x=y\"],"
			 "\"workingDir\":\"/srv\"}");
}

Test(skiffctl_image, import_tarball)
{
	_cleanup_json_ json_object *cfg = NULL;
	_cleanup_free_ char *rootfs = NULL;
	char out[4096], cmd[8192];

	snprintf(cmd, sizeof(cmd), "tar -C '%s' -cf '%s/bb.tar' .", src, root);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(skiffctl(out, sizeof(out), "image import bb:1 '%s/bb.tar' --root '%s'", root, root), 0, "%s", out);
	cr_assert_eq(image_lookup(root, "bb:1", &rootfs, &cfg), 0);
	cr_expect_str_eq(json_get_string(cfg, "workingDir"), "/");
}

Test(skiffctl_image, usage_and_errors)
{
	char out[4096];

	cr_expect_eq(skiffctl(out, sizeof(out), ""), 2);
	cr_expect(strstr(out, "usage: skiffctl"), "%s", out);
	cr_expect_eq(skiffctl(out, sizeof(out), "--help"), 0);
	cr_expect_eq(skiffctl(out, sizeof(out), "bogus"), 2);
	cr_expect(strstr(out, "unknown command \"bogus\""), "%s", out);
	cr_expect_eq(skiffctl(out, sizeof(out), "image import onlyname --root '%s'", root), 2);
	cr_expect(strstr(out, "usage: skiffctl image import NAME PATH"), "%s", out);
	cr_expect_eq(skiffctl(out, sizeof(out), "image import x '%s' --env NOEQUALS --root '%s'", src, root), 2);
	cr_expect(strstr(out, "--env wants K=V"), "%s", out);
	cr_expect_eq(skiffctl(out, sizeof(out), "image import x /nonexistent/rootfs --root '%s'", root), 1);
	cr_expect(strstr(out, "x from /nonexistent/rootfs into"), "%s", out);
	cr_expect(strstr(out, "No such file or directory"), "%s", out);
	cr_expect_eq(skiffctl(out, sizeof(out), "image import ../up '%s' --root '%s'", src, root), 1);
	cr_expect(strstr(out, "invalid image name"), "%s", out);
}
