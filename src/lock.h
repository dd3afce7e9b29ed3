/*
 * lock.h - advisory kernel locks on lock files (flock(2)), the guard
 * against two runs of one job overlapping.
 *
 * A lock lives as long as the open file description that holds it: it
 * goes away when the holder exits, however it exits (kill -9 included), so
 * a crash cannot leave a stale lock; the file itself stays and is reused.
 * Its content (the holder's pid) is informative only.  flock(1) takes the
 * same lock, so shell scripts and tests can hold or probe one.
 */
#ifndef TRUEUP_LOCK_H
#define TRUEUP_LOCK_H

#include <stddef.h>

#include "err.h"

/* lock_acquire() flags. */
enum {
	LOCK_INHERIT = 1 << 0   /* keep the descriptor across exec (children hold it too) */
};

/*
 * Take an exclusive lock on path without waiting (the file is created,
 * mode 0644, if missing).  Returns 0 with *fd the descriptor to keep open
 * (release with lock_release), EXIT_TEMPFAIL when another process holds the
 * lock (e: "lock \"PATH\" is held by pid N"), or EXIT_CANTCREAT/EXIT_IOERR
 * when the file cannot be opened or locked.  With LOCK_INHERIT the
 * descriptor is not close-on-exec, so child processes keep the lock held
 * even if the parent dies first.
 */
int lock_acquire(const char *path, int flags, int *fd, struct err *e);

/* Empty the file (no stale pid), release and close; fd < 0 is ignored. */
void lock_release(int fd);

/*
 * The lock file of job `job` for database db_path: "DB.lock.JOB", into buf.
 * Returns 0, or EXIT_SOFTWARE when it does not fit in size.
 */
int lock_job_path(char *buf, size_t size, const char *db_path, const char *job,
		  struct err *e);

#endif
