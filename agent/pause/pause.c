/* skiff-pause: PID 1 of a pod sandbox. Holds the pod's namespaces open, reaps the zombies that
 * are re-parented to it, and exits on SIGTERM/SIGINT. Static and tiny: nothing but libc. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	sigset_t set;
	int sig;

	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		static const char msg[] = "skiff-pause\n";
		return write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0;
	}
	/* Blocked and taken with sigwait: as PID 1 no default action applies, so every signal
	 * that matters must be asked for. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			return 0;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
}
