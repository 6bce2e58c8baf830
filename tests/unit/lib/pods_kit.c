/* Shared fixture of the pod runtime tests (see pods_kit.h). */
#include "pods_kit.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pods/mounts.h"

char *pods_kit_tempdir(const char *name)
{
	char *dir;

	cr_assert(asprintf(&dir, "/tmp/skiff-test-%s-XXXXXX", name) > 0);
	cr_assert(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
	return dir;
}

void pods_kit_busybox_rootfs(const char *dir)
{
	char cmd[1024];
	int r;

	cr_assert_eq(access("/bin/busybox", X_OK), 0, "/bin/busybox missing: apt-get install busybox-static");
	snprintf(cmd, sizeof(cmd),
		 "set -e; mkdir -p '%1$s/bin' '%1$s/etc'; cp /bin/busybox '%1$s/bin/busybox'; "
		 "for a in $(/bin/busybox --list); do [ \"$a\" = busybox ] || ln -sf busybox \"%1$s/bin/$a\"; done",
		 dir);
	r = system(cmd);
	cr_assert_eq(r, 0, "building busybox rootfs in %s failed (%d)", dir, r);
}

void pods_kit_make(const char *target)
{
	static char built[4][128];
	char cmd[256];

	for (size_t i = 0; i < 4; i++)
		if (strcmp(built[i], target) == 0)
			return;
	/* make, not access(): a binary older than its sources would test the old code. */
	snprintf(cmd, sizeof(cmd), "MAKEFLAGS= MFLAGS= make --no-print-directory -s %s >&2", target);
	cr_assert_eq(system(cmd), 0, "cannot build %s", target);
	for (size_t i = 0; i < 4; i++) {
		if (!built[i][0]) {
			snprintf(built[i], sizeof(built[i]), "%s", target);
			break;
		}
	}
}

const char *pods_kit_pause(void)
{
	pods_kit_make(PODS_KIT_PAUSE);
	return PODS_KIT_PAUSE;
}

void pods_kit_remove(const char *dir)
{
	int r;

	if (!dir)
		return;
	r = fs_rm_rf(dir);
	cr_expect_eq(r, 0, "removing %s: %s", dir, strerror(-r));
}
