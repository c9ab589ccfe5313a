/*
 * The corners of a seeded run that the run cannot make repeat, each of
 * which the shim names once, in one line, on stderr: a poll that waits on
 * emulated and real descriptors at once, a poll that waits on real
 * descriptors only, and real files opened by two threads. Each is done
 * twice: the shim says it once. Run it with `gemulator race -- race_corners`.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *open_null(void *arg)
{
	(void)arg;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(void)
{
	int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	int p[2];
	if (card < 0 || pipe(p) != 0) {
		perror("race_corners: open card0 or pipe");
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		struct pollfd mixed[2] = { { .fd = p[0], .events = POLLIN }, { .fd = card, .events = POLLIN } };
		int r = poll(mixed, 2, 50);
		struct pollfd real[1] = { { .fd = p[0], .events = POLLIN } };
		int q = poll(real, 1, 5);
		if (r != 0 || q != 0) {
			fprintf(stderr, "race_corners: poll found %d and %d ready, not 0\n", r, q);
			return 1;
		}
	}
	for (int i = 0; i < 3; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, open_null, NULL) != 0 || pthread_join(t, NULL) != 0) {
			fprintf(stderr, "race_corners: a thread failed\n");
			return 1;
		}
	}
	close(p[0]);
	close(p[1]);
	close(card);
	printf("race_corners: done\n");
	return 0;
}
