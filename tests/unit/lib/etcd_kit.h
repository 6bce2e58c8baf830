/* Shared fixture of the tests on the etcd backend: one real etcd-server on free loopback
 * ports with its data in a temp dir, killed with the test process however it ends. */
#ifndef SKIFF_TEST_ETCD_KIT_H
#define SKIFF_TEST_ETCD_KIT_H

#include <stdbool.h>

#define ETCD_KIT_BIN "/usr/bin/etcd"

/* "http://127.0.0.1:PORT" of the running member. */
extern char etcd_kit_endpoint[64];

/* Makes /tmp/skiff-etcd-XXXXXX, picks a client port, starts etcd and waits until it listens. */
void etcd_kit_setup(void);
/* Starts etcd again on the same data and port (after etcd_kit_stop). */
void etcd_kit_start(void);
/* SIGKILL, reaped. */
void etcd_kit_stop(void);
/* Stops etcd and removes its dir. */
void etcd_kit_teardown(void);
/* A loopback port nothing listens on now. */
int etcd_kit_free_port(void);

#endif
