/* Shared fixture of the pod runtime tests: temp dirs, a busybox rootfs built from Debian's
 * busybox-static, and the skiff-pause binary (built on demand). */
#ifndef SKIFF_TEST_PODS_KIT_H
#define SKIFF_TEST_PODS_KIT_H

#define PODS_KIT_PAUSE "build/asan/bin/skiff-pause"

/* mkdtemp /tmp/skiff-test-<name>-XXXXXX; caller frees. Fails the test on error. */
char *pods_kit_tempdir(const char *name);
/* <dir>/bin/busybox (a copy of /bin/busybox) with a symlink per `busybox --list` applet in bin/. */
void pods_kit_busybox_rootfs(const char *dir);
/* Brings a binary up to date with make (make unit builds tests, not binaries); once per process. */
void pods_kit_make(const char *target);
/* The skiff-pause path, made up to date. */
const char *pods_kit_pause(void);
/* rm -rf that asserts nothing is left (refuses to cross mounts). */
void pods_kit_remove(const char *dir);

#endif
