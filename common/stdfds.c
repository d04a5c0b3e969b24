/*
 * Closed standard descriptors become /dev/null (see stdfds.h).
 */
#include <fcntl.h>
#include <unistd.h>

#include "stdfds.h"

int
stdfds_ensure(void)
{
	int fd;

	/* open() returns the lowest free descriptor: each closed one of 0-2
	 * is filled in turn, and the first that lands above 2 is extra. */
	for (;;) {
		if ((fd = open("/dev/null", O_RDWR)) == -1)
			return -1;
		if (fd > STDERR_FILENO)
			break;
	}
	(void)close(fd);
	return 0;
}
