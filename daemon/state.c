/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The persistent state: region memfds in the fd store, metadata in a journal memfd beside them. */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "fileio.h"
#include "log.h"
#include "name.h"
#include "registry.h"
#include "server.h"
#include "state-record.h"
#include "state.h"

static const char *const slot_names[2] = { "state-a", "state-b" };

/* The smallest journal worth compacting, so a few regions do not compact on every change. */
#define COMPACT_MIN (64u * 1024)

int state_init(struct state *st)
{
	*st = (struct state){ .fd = -1, .old_fd = { -1, -1 }, .init_usec = now_usec() };
	int r = fdstore_open(&st->store);
	if (r < 0)
		return log_errno(LOG_ERR, r, "cannot reach the fd store");
	if (state_enabled(st))
		log_debug("regions are kept in the fd store of the %s", st->store.where);
	return 0;
}

void state_drop_stored(struct state *st)
{
	for (size_t i = 0; i < st->n_stored; i++)
		safe_close(st->stored[i].fd);
	free(st->stored);
	st->stored = NULL;
	st->n_stored = st->cap_stored = 0;
	for (int i = 0; i < 2; i++)
		st->old_fd[i] = safe_close(st->old_fd[i]);
}

void state_done(struct state *st)
{
	state_drop_stored(st);
	st->fd = safe_close(st->fd);
	fdstore_close(&st->store);
}

bool state_take_fd(struct state *st, int fd, const char *name)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(name, slot_names[i]) == 0) {
			safe_close(st->old_fd[i]);
			st->old_fd[i] = fd;
			fdstore_account(&st->store, name);
			return true;
		}
	uint64_t id = fdstore_parse_region_name(name);
	if (id == 0)
		return false;
	if (st->n_stored == st->cap_stored) {
		size_t cap = st->cap_stored ? st->cap_stored * 2 : 1024;
		struct stored_fd *p = reallocarray(st->stored, cap, sizeof(*p));
		if (!p) {
			log_err("out of memory taking stored fd '%s'", name);
			safe_close(fd);
			return true;
		}
		st->stored = p;
		st->cap_stored = cap;
	}
	st->stored[st->n_stored++] = (struct stored_fd){ id, fd };
	fdstore_account(&st->store, name);
	return true;
}

/* ---------------------------------------------------------------- writing */

static void encode_one(struct region *r, void *userdata)
{
	state_write_region(userdata, r);
}

/*
 * A new snapshot in a new memfd, stored under the other name, then the old one removed.
 * A crash between the two leaves both stored: the loader takes the newer generation.
 */
int state_snapshot(struct server *s)
{
	struct state *st = &s->state;
	struct text t;
	int r;

	text_init(&t);
	state_write_header(&t, st->generation + 1);
	state_write_u64_record(&t, STATE_REC_NEXT_ID, s->registry.next_id);
	registry_foreach(&s->registry, encode_one, &t);
	_cleanup_close_ int fd = memfd_create("shmd-state", MFD_CLOEXEC);
	if (t.oom)
		r = -ENOMEM;
	else if (fd < 0)
		r = negative_errno();
	else
		r = pwrite_full(fd, t.p, t.len, 0);
	fault_point("compact-written");
	if (r >= 0)
		r = fdstore_add(&st->store, slot_names[!st->slot], fd);
	if (r < 0) {
		text_done(&t);
		return log_errno(LOG_ERR, r, "cannot write a new state snapshot");
	}
	fault_point("compact-stored");
	if (st->fd >= 0 && (r = fdstore_remove(&st->store, slot_names[st->slot])) < 0)
		log_errno(LOG_WARNING, r, "cannot remove the old state from the fd store");
	safe_close(st->fd);
	st->fd = TAKE_FD(fd);
	st->slot = !st->slot;
	st->generation++;
	st->size = t.len;
	st->compact_at = MAX(2 * t.len, t.len + COMPACT_MIN);
	st->broken = false;
	text_done(&t);
	return 0;
}

/* Append the records in t to the journal (or compact, which writes them all anyway). */
static int append(struct server *s, struct text *t)
{
	struct state *st = &s->state;
	int r;

	if (t->oom)
		r = -ENOMEM;
	else if (st->broken || st->size + t->len > st->compact_at)
		r = state_snapshot(s);
	else {
#ifdef SHMD_FAULT_INJECTION
		if (fault_named("append-torn")) {
			(void)pwrite_full(st->fd, t->p, t->len / 2, st->size); /* half a record */
			fault_point("append-torn");
		}
#endif
		r = pwrite_full(st->fd, t->p, t->len, st->size);
		if (r >= 0)
			st->size += t->len;
	}
	text_done(t);
	if (r < 0 && !st->broken) {
		log_errno(LOG_ERR, r,
			  "cannot append to the state; will rewrite it at the next change");
		st->broken = true;
	}
	return r;
}

int state_region_added(struct server *s, struct region *r)
{
	struct state *st = &s->state;
	char buf[FDSTORE_NAME_MAX];
	struct text t;

	if (!state_enabled(st))
		return 0;
	const char *name = fdstore_region_name(r->id, buf);
	if (!fdstore_has_room(&st->store, strlen(name)))
		return -ENOSPC;
	int err = fdstore_add(&st->store, name, r->fd);
	if (err < 0)
		return log_errno(LOG_ERR, err, "cannot store region %llu in the fd store",
				 (unsigned long long)r->id);
	fault_point("region-stored");
	text_init(&t);
	state_write_region(&t, r);
	err = append(s, &t);
	if (err < 0)
		(void)fdstore_remove(&st->store, name);
	return err;
}

void state_region_changed(struct server *s, struct region *r)
{
	struct text t;

	if (!state_enabled(&s->state))
		return;
	text_init(&t);
	state_write_region(&t, r);
	(void)append(s, &t);
}

int state_region_record(struct server *s, struct region *r)
{
	struct text t;

	if (!state_enabled(&s->state))
		return 0;
	text_init(&t);
	state_write_region(&t, r);
	return append(s, &t);
}

void state_region_removed(struct server *s, struct region *r)
{
	char buf[FDSTORE_NAME_MAX];
	struct text t;

	if (!state_enabled(&s->state))
		return;
	/* Metadata first: a crash before the fd leaves the store leaves an orphan fd, dropped. */
	text_init(&t);
	state_write_u64_record(&t, STATE_REC_DELETE, r->id);
	(void)append(s, &t);
	int err = fdstore_remove(&s->state.store, fdstore_region_name(r->id, buf));
	if (err < 0)
		log_errno(LOG_WARNING, err, "cannot remove region %llu from the fd store",
			  (unsigned long long)r->id);
}
