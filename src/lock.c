/*
 * lock.c - flock(2) lock files; see lock.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lock.h"

int lock_acquire(const char *path, int flags, int *fd, struct err *e)
{
	char buf[32];
	ssize_t n;
	int f, len;

	*fd = -1;
	f = open(path, O_RDWR | O_CREAT | ((flags & LOCK_INHERIT) ? 0 : O_CLOEXEC), 0644);
	if (f < 0)
		return err_set(e, errno == EACCES || errno == ENOENT || errno == EROFS
				  ? EXIT_CANTCREAT : EXIT_IOERR,
			       "lock \"%s\": %s", path, strerror(errno));
	while (flock(f, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			n = pread(f, buf, sizeof buf - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			close(f);
			if (buf[0])
				return err_set(e, EXIT_TEMPFAIL, "lock \"%s\" is held by pid %s", path,
					       buf);
			return err_set(e, EXIT_TEMPFAIL, "lock \"%s\" is held by another process",
				       path);
		}
		err_set(e, EXIT_IOERR, "lock \"%s\": %s", path, strerror(errno));
		close(f);
		return EXIT_IOERR;
	}
	len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(f, 0) != 0 || pwrite(f, buf, (size_t)len, 0) != len) {
		/* the pid is informative only; the lock is what counts */
	}
	*fd = f;
	return 0;
}

void lock_release(int fd)
{
	if (fd < 0)
		return;
	if (ftruncate(fd, 0) != 0) {
		/* the pid left behind is informative only */
	}
	flock(fd, LOCK_UN);
	close(fd);
}

int lock_job_path(char *buf, size_t size, const char *db_path, const char *job,
		  struct err *e)
{
	int n = snprintf(buf, size, "%s.lock.%s", db_path, job);

	if (n < 0 || (size_t)n >= size)
		return err_set(e, EXIT_SOFTWARE, "lock path for job \"%s\" is too long", job);
	return 0;
}
