/* Shared fixture of tests that need a real etcd: one etcd-server process on free loopback
 * ports with its data in a temp dir, killed with the test process and removed afterwards. */
#ifndef SKIFF_TEST_ETCD_KIT_H
#define SKIFF_TEST_ETCD_KIT_H

#include <sys/types.h>

struct etcd_kit {
	char dir[64];
	pid_t pid;
	int client_port;
	char endpoint[64]; /* "http://127.0.0.1:PORT" */
};

/* A loopback TCP port nothing listens on now. */
int etcd_kit_free_port(void);
/* mkdtemp, starts etcd and waits (bounded) until it answers; fails the test otherwise. */
void etcd_kit_start(struct etcd_kit *k);
/* SIGSTOP / SIGCONT: an etcd that stops answering without closing its connections. */
void etcd_kit_pause(struct etcd_kit *k);
void etcd_kit_resume(struct etcd_kit *k);
/* Kills etcd and starts it again on the same data, serving clients on client_port (the same
 * or another: clients that know only the old one lose it); waits (bounded) until it listens. */
void etcd_kit_restart(struct etcd_kit *k, int client_port);
/* Kills etcd and removes its dir; safe to call twice. */
void etcd_kit_stop(struct etcd_kit *k);

#endif
