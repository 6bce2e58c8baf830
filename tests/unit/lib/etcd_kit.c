/* One real etcd-server on loopback for a test (see etcd_kit.h). */
#include "etcd_kit.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define ETCD_BIN "/usr/bin/etcd"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int etcd_kit_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_answers(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void exec_etcd(const struct etcd_kit *k, int peer_port)
{
	char data[128], peer[64], cluster[96], log[128];
	int fd;

	snprintf(data, sizeof(data), "%s/data", k->dir);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", peer_port);
	snprintf(cluster, sizeof(cluster), "default=%s", peer);
	snprintf(log, sizeof(log), "%s/etcd.log", k->dir);
	/* Dies with the test process, even one that crashes before its teardown. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execl(ETCD_BIN, ETCD_BIN, "--data-dir", data, "--listen-client-urls", k->endpoint, "--advertise-client-urls",
	      k->endpoint, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster",
	      cluster, (char *)NULL);
	_exit(127);
}

static void spawn(struct etcd_kit *k, int client_port)
{
	int peer_port = etcd_kit_free_port(), status;

	k->client_port = client_port;
	snprintf(k->endpoint, sizeof(k->endpoint), "http://127.0.0.1:%d", k->client_port);
	k->pid = fork();
	cr_assert_geq(k->pid, 0);
	if (k->pid == 0)
		exec_etcd(k, peer_port);
	/* Bounded: etcd listens within a few seconds or the test fails. */
	for (int i = 0; i < 600 && !port_answers(k->client_port); i++) {
		cr_assert_eq(waitpid(k->pid, &status, WNOHANG), 0, "etcd exited; see %s/etcd.log", k->dir);
		usleep(50 * 1000);
	}
	cr_assert(port_answers(k->client_port), "etcd did not listen on %d", k->client_port);
}

void etcd_kit_start(struct etcd_kit *k)
{
	memset(k, 0, sizeof(*k));
	k->pid = -1;
	cr_assert_eq(access(ETCD_BIN, X_OK), 0, ETCD_BIN " is required (etcd-server)");
	strcpy(k->dir, "/tmp/skiff-etcd-XXXXXX");
	cr_assert_not_null(mkdtemp(k->dir));
	spawn(k, etcd_kit_free_port());
}

void etcd_kit_restart(struct etcd_kit *k, int client_port)
{
	kill(k->pid, SIGKILL);
	waitpid(k->pid, NULL, 0);
	spawn(k, client_port);
}

void etcd_kit_pause(struct etcd_kit *k)
{
	cr_assert_eq(kill(k->pid, SIGSTOP), 0);
}

void etcd_kit_resume(struct etcd_kit *k)
{
	cr_assert_eq(kill(k->pid, SIGCONT), 0);
}

void etcd_kit_stop(struct etcd_kit *k)
{
	if (k->pid > 0) {
		kill(k->pid, SIGKILL);
		waitpid(k->pid, NULL, 0);
	}
	k->pid = -1;
	if (k->dir[0])
		nftw(k->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	k->dir[0] = '\0';
}
