/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The background worker (daemon/worker.c) driven by a real sd-event loop: order, threads, stop. */

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "worker.h"

#define N_JOBS 50

struct job {
	int index;
	int fd; /* owned by the job: closed by its completion */
	pthread_t ran_on;
	off_t size_seen;
	volatile bool ran; /* polled by test_stop() while the thread runs */
	struct worker *w;
	bool wait_stop; /* spin until worker_stopping() */
	bool saw_stop;
};

static pthread_t loop_thread;
static int completed[N_JOBS * 2], n_completed, n_cancelled, n_wrong_thread, n_not_run;
static sd_event *event;
static int stop_after = -1;

static void job_run(void *p)
{
	struct job *j = p;
	struct stat st;

	j->ran_on = pthread_self();
	j->ran = true;
	if (j->fd >= 0 && fstat(j->fd, &st) == 0)
		j->size_seen = st.st_size;
	if (j->wait_stop) {
		while (!worker_stopping(j->w))
			usleep(1000);
		j->saw_stop = true;
	}
}

static void job_done(void *p, bool cancelled)
{
	struct job *j = p;

	if (!pthread_equal(pthread_self(), loop_thread))
		n_wrong_thread++;
	if (cancelled)
		n_cancelled++;
	else {
		if (!j->ran || pthread_equal(j->ran_on, loop_thread))
			n_not_run++;
		completed[n_completed++] = j->index;
	}
	safe_close(j->fd);
	free(j);
	if (n_completed == stop_after)
		sd_event_exit(event, 0);
}

/* sd_event_exit() finishes a loop for good: each test has its own. */
static void new_loop(void)
{
	event = sd_event_unref(event);
	if (sd_event_new(&event) < 0)
		bail_out("sd_event_new failed");
}

static struct job *job_new(struct worker *w, int index, int fd)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		bail_out("out of memory");
	j->index = index;
	j->fd = fd;
	j->w = w;
	return j;
}

/* Jobs run off the loop, complete on it, in order; each sees the fd it owns. */
static void test_order(void)
{
	struct worker *w = NULL;
	int memfd = memfd_create("worker-test", MFD_CLOEXEC);

	new_loop();

	ok(worker_new(event, &w) == 0, "worker_new");
	if (memfd < 0 || ftruncate(memfd, 12345) < 0)
		bail_out("memfd: %m");
	for (int i = 0; i < N_JOBS; i++) {
		struct job *j = job_new(w, i, i == 7 ? fcntl(memfd, F_DUPFD_CLOEXEC, 3) : -1);
		if (worker_submit(w, job_run, job_done, j) < 0)
			bail_out("worker_submit failed");
	}
	is_int(worker_pending(w), N_JOBS, "%d jobs pending before the loop runs", N_JOBS);
	/* The job's fd is its own: closing ours does not disturb it. */
	safe_close(memfd);
	stop_after = N_JOBS;
	ok(sd_event_loop(event) == 0, "the loop ran until the last completion");
	is_int(n_completed, N_JOBS, "every job completed");
	bool in_order = true;
	for (int i = 0; i < n_completed; i++)
		in_order &= completed[i] == i;
	ok(in_order, "completions in submission order");
	is_int(n_wrong_thread, 0, "every completion ran on the loop thread");
	is_int(n_not_run, 0, "every job ran, on another thread");
	is_int(worker_pending(w), 0, "nothing pending after the last completion");
	worker_free(w);
	is_int(n_cancelled, 0, "nothing cancelled");
}

static void size_run(void *p)
{
	job_run(p);
}

static off_t size_result;

static void size_done(void *p, bool cancelled)
{
	struct job *j = p;
	size_result = cancelled ? -1 : j->size_seen;
	job_done(p, cancelled);
}

/* A job owning a dup'd fd measures that file even after the submitter closed its own. */
static void test_owned_fd(void)
{
	struct worker *w = NULL;
	int memfd = memfd_create("worker-test", MFD_CLOEXEC);

	new_loop();

	if (memfd < 0 || ftruncate(memfd, 12345) < 0 || worker_new(event, &w) < 0)
		bail_out("setup: %m");
	n_completed = 0;
	struct job *j = job_new(w, 0, fcntl(memfd, F_DUPFD_CLOEXEC, 3));
	safe_close(memfd);
	if (worker_submit(w, size_run, size_done, j) < 0)
		bail_out("worker_submit failed");
	stop_after = 1;
	sd_event_loop(event);
	is_int(size_result, 12345, "the job read the size through its own fd");
	worker_free(w);
}

/*
 * worker_free() with a job running and jobs queued: the running one sees worker_stopping()
 * and completes normally, the queued ones are cancelled, and every completion runs once.
 */
static void test_stop(void)
{
	struct worker *w = NULL;

	new_loop();

	if (worker_new(event, &w) < 0)
		bail_out("worker_new failed");
	n_completed = n_cancelled = 0;
	struct job *first = job_new(w, 0, -1);
	first->wait_stop = true;
	if (worker_submit(w, job_run, job_done, first) < 0)
		bail_out("worker_submit failed");
	for (int i = 1; i < 5; i++)
		if (worker_submit(w, job_run, job_done, job_new(w, i, -1)) < 0)
			bail_out("worker_submit failed");
	/* Let the first job start (it spins until the stop). */
	while (!first->ran)
		usleep(1000);
	ok(!worker_stopping(w), "not stopping before worker_free()");
	worker_free(w);
	is_int(n_completed, 1, "the running job completed");
	is_int(n_cancelled, 4, "the queued jobs were cancelled");
	is_int(n_wrong_thread, 0, "completions on the loop thread");
}

/* No job ever: no thread started, freeing is clean; NULL is fine. */
static void test_idle(void)
{
	struct worker *w = NULL;

	new_loop();

	ok(worker_new(event, &w) == 0 && worker_pending(w) == 0, "a worker with no job");
	worker_free(w);
	worker_free(NULL);
	ok(worker_submit(NULL, job_run, job_done, NULL) < 0, "submit to no worker fails");
}

int main(void)
{
	plan(16);
	loop_thread = pthread_self();
	test_order();
	test_owned_fd();
	test_stop();
	test_idle();
	sd_event_unref(event);
	return done_testing();
}
