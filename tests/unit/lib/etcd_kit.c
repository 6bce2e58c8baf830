/* The etcd tests' shared fixture (see etcd_kit.h). */
#include "etcd_kit.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

char etcd_kit_endpoint[64];

static char dir[64];
static pid_t etcd_pid = -1;
static int client_port;

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

static void exec_etcd(int peer_port)
{
	char data[128], peer[64], cluster[96], log[128];
	int fd;

	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", peer_port);
	snprintf(cluster, sizeof(cluster), "default=%s", peer);
	snprintf(log, sizeof(log), "%s/etcd.log", dir);
	/* Dies with the test process, even one that crashes before its teardown. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execl(ETCD_KIT_BIN, ETCD_KIT_BIN, "--data-dir", data, "--listen-client-urls", etcd_kit_endpoint,
	      "--advertise-client-urls", etcd_kit_endpoint, "--listen-peer-urls", peer,
	      "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster, (char *)NULL);
	_exit(127);
}

void etcd_kit_start(void)
{
	int peer_port = etcd_kit_free_port(), status;

	cr_assert_eq(access(ETCD_KIT_BIN, X_OK), 0, ETCD_KIT_BIN " is required (etcd-server)");
	etcd_pid = fork();
	cr_assert_geq(etcd_pid, 0);
	if (etcd_pid == 0)
		exec_etcd(peer_port);
	/* Bounded: etcd listens within a few seconds or the test fails. */
	for (int i = 0; i < 600 && !port_answers(client_port); i++) {
		cr_assert_eq(waitpid(etcd_pid, &status, WNOHANG), 0, "etcd exited; see %s/etcd.log", dir);
		usleep(50 * 1000);
	}
	cr_assert(port_answers(client_port), "etcd did not listen on %d", client_port);
}

void etcd_kit_stop(void)
{
	if (etcd_pid > 0) {
		kill(etcd_pid, SIGKILL);
		waitpid(etcd_pid, NULL, 0);
	}
	etcd_pid = -1;
}

void etcd_kit_setup(void)
{
	strcpy(dir, "/tmp/skiff-etcd-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	client_port = etcd_kit_free_port();
	snprintf(etcd_kit_endpoint, sizeof(etcd_kit_endpoint), "http://127.0.0.1:%d", client_port);
	etcd_kit_start();
}

void etcd_kit_teardown(void)
{
	etcd_kit_stop();
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
