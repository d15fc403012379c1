/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Background work: one thread runs slow jobs, their completions run on the event loop. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "worker.h"

struct job {
	struct job *next;
	worker_run_fn run;
	worker_done_fn done;
	void *data;
};

struct job_list {
	struct job *head, *tail;
};

struct worker {
	sd_event_source *source; /* the eventfd: completions are ready */
	int efd;
	pthread_t thread;
	bool started;
	unsigned pending; /* loop thread only */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* Under lock: */
	struct job_list todo, finished;
	bool stop;
	char *hold_point, *hold_path; /* fault injection (test builds) */
};

static void list_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct job *list_pop(struct job_list *l)
{
	struct job *j = l->head;
	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
	}
	return j;
}

static void *thread_main(void *userdata)
{
	struct worker *w = userdata;
	uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && !w->todo.head)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stop)
			break;
		struct job *j = list_pop(&w->todo);
		pthread_mutex_unlock(&w->lock);
		j->run(j->data);
		pthread_mutex_lock(&w->lock);
		list_push(&w->finished, j);
		/* Cannot fail but for an overflow at 2^64-1 completions unread. */
		(void)!write(w->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Run the completions of the jobs finished so far, in order. */
static void complete_finished(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	struct job_list l = w->finished;
	w->finished = (struct job_list){};
	pthread_mutex_unlock(&w->lock);

	for (struct job *j; (j = list_pop(&l));) {
		w->pending--;
		j->done(j->data, false);
		free(j);
	}
}

static int on_completions(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_errno(LOG_WARNING, errno, "worker: reading its eventfd");
	complete_finished(userdata);
	return 0;
}

static void fault_setup(struct worker *w)
{
#ifdef SHMD_FAULT_INJECTION
	const char *spec = getenv("SHMD_FAULT_HOLD");
	const char *colon = spec ? strchr(spec, ':') : NULL;

	if (colon) {
		w->hold_point = strndup(spec, (size_t)(colon - spec));
		w->hold_path = strdup(colon + 1);
	}
#endif
}

int worker_new(sd_event *event, struct worker **ret)
{
	struct worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		r = negative_errno();
		worker_free(w);
		return r;
	}
	r = sd_event_add_io(event, &w->source, w->efd, EPOLLIN, on_completions, w);
	if (r < 0) {
		worker_free(w);
		return r;
	}
	fault_setup(w);
	*ret = w;
	return 0;
}

/* The thread blocks every signal: they are the event loop's (signalfd). */
static int start(struct worker *w)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int r = pthread_create(&w->thread, NULL, thread_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return log_errno(LOG_WARNING, r, "worker: cannot start its thread");
	w->started = true;
	return 0;
}

int worker_submit(struct worker *w, worker_run_fn run, worker_done_fn done, void *data)
{
	if (!w)
		return -ENOSYS;
	if (!w->started) {
		int r = start(w);
		if (r < 0)
			return r;
	}
	struct job *j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct job){ .run = run, .done = done, .data = data };
	pthread_mutex_lock(&w->lock);
	list_push(&w->todo, j);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	w->pending++;
	return 0;
}

bool worker_stopping(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	bool stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

unsigned worker_pending(const struct worker *w)
{
	return w ? w->pending : 0;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);
	complete_finished(w);
	for (struct job *j; (j = list_pop(&w->todo));) {
		w->pending--;
		j->done(j->data, true);
		free(j);
	}
	sd_event_source_disable_unref(w->source);
	safe_close(w->efd);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->hold_point);
	free(w->hold_path);
	free(w);
}

void worker_fault_hold(struct worker *w, const char *point)
{
	if (!w->hold_point || strcmp(w->hold_point, point) != 0)
		return;
	_cleanup_free_ char *held = NULL;
	if (asprintf(&held, "%s.held", w->hold_path) >= 0)
		safe_close(open(held, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	log_debug("fault injection: job held at %s until %s exists", point, w->hold_path);
	/* Polled, not timed: the test decides when the job goes on by creating the file. */
	while (access(w->hold_path, F_OK) < 0 && !worker_stopping(w))
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
}
