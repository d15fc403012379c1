/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exact holder counts from inotify IN_OPEN/IN_CLOSE on each memfd, and deleted regions still held. */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <json-c/json.h>

#include "holders.h"
#include "holdtrack.h"
#include "log.h"
#include "macro.h"
#include "name.h"
#include "region.h"
#include "server.h"

#ifndef KCMP_FILE
#define KCMP_FILE 0
#endif

#define HOLDER_EVENTS (IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)

static bool match_wd(const void *entry, const void *key)
{
	return ((const struct region *)entry)->watch == *(const int *)key;
}

static uint64_t hash_wd(int wd)
{
	return hashindex_hash_u64((uint64_t)wd);
}

static int compare_id(const void *a, const void *b)
{
	const struct region *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

static struct region *find_wd(const struct holdtrack *h, int wd)
{
	return hashindex_find(&h->by_wd, hash_wd(wd), match_wd, &wd);
}

static void log_region(int level, const struct region *r, const char *what)
{
	_cleanup_free_ char *name = name_escape(r->name);
	log_msg(level, "region '%s': %s", name ? name : "?", what);
}

/* Stop watching r (its wd may still have events queued: they find no region). */
static void unwatch(struct holdtrack *h, struct region *r)
{
	if (r->watch <= 0)
		return;
	hashindex_remove(&h->by_wd, r, hash_wd(r->watch));
	if (h->fd >= 0)
		(void)inotify_rm_watch(h->fd, r->watch);
	r->watch = 0;
}

/* A region leaves for good: its quota charge goes with it (quota.h), then its memfd. */
static void drop(struct server *s, struct region *r)
{
	if (s)
		quota_uncharge(&s->quota, r);
	region_free(r);
}

/* A deleted or anonymous region whose last holder went: free it (closing the daemon's memfd). */
static void free_kept(struct holdtrack *h, struct region *r)
{
	unwatch(h, r);
	if (r->anonymous) {
		tdelete(r, &h->anonymous, compare_id);
		h->n_anonymous--;
	} else {
		tdelete(r, &h->deleted, compare_id);
		h->n_deleted--;
		h->deleted_size -= MIN(h->deleted_size, r->size);
	}
	h->frees++;
	drop(h->server, r);
}

/* How soon after a holder of a region of unknown count lets go the /proc scan runs. */
#define RECOUNT_DELAY_USEC 100000

static int on_recount(sd_event_source *src, uint64_t usec, void *userdata)
{
	holdtrack_recount(userdata);
	return 0;
}

/* A holder of a region of unknown count let go: perhaps the last, so look soon (once). */
static void schedule_recount(struct holdtrack *h)
{
	if (!h->server)
		return;
	if (!h->recount) {
		if (sd_event_add_time_relative(h->server->event, &h->recount, CLOCK_MONOTONIC,
					       RECOUNT_DELAY_USEC, 0, on_recount, h->server) < 0)
			h->recount = NULL;
		return;
	}
	int enabled = SD_EVENT_OFF;
	if (sd_event_source_get_enabled(h->recount, &enabled) >= 0 && enabled != SD_EVENT_OFF)
		return;
	sd_event_source_set_time_relative(h->recount, RECOUNT_DELAY_USEC);
	sd_event_source_set_enabled(h->recount, SD_EVENT_ONESHOT);
}

static void on_open(struct region *r)
{
	if (r->holders_known)
		r->holders++;
	r->last_open_usec = now_usec();
}

static void on_close(struct holdtrack *h, struct region *r)
{
	r->last_close_usec = now_usec();
	if (!r->holders_known) {
		schedule_recount(h);
		return;
	}
	if (r->holders == 0) {
		/* A close the count never saw open: it is wrong, so held until a recount. */
		r->holders_known = false;
		log_region(LOG_DEBUG, r, "more closes than opens, recount needed");
		schedule_recount(h);
		return;
	}
	if (--r->holders == 0 && r->kept)
		free_kept(h, r);
	else if (r->holders == 0 && h->server)
		spillpol_poke(h->server); /* idle now: the spill policy may look at it */
}

static void mark_unknown(void *entry, void *userdata)
{
	((struct region *)entry)->holders_known = false;
}

#ifdef SHMD_FAULT_INJECTION
/*
 * Test builds only: SHMD_FAULT=holdtrack-overflow:N drops the events of the Nth read that
 * returns any and reports IN_Q_OVERFLOW instead, as the kernel does when its queue is full.
 */
static bool fault_overflow(void)
{
	static unsigned n;
	const char *spec = getenv("SHMD_FAULT");
	if (!spec || strncmp(spec, "holdtrack-overflow:", 19) != 0)
		return false;
	return ++n == (unsigned)atoi(spec + 19);
}
#else
static inline bool fault_overflow(void)
{
	return false;
}
#endif

/* One buffer of events. true: more may be queued. */
static bool read_events(struct server *s, bool *overflow)
{
	struct holdtrack *h = &s->holdtrack;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(h->fd, buf, sizeof(buf));

	if (n <= 0) {
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			log_errno(LOG_WARNING, errno, "reading inotify events");
		return false;
	}
	if (fault_overflow()) {
		*overflow = true;
		return true;
	}
	for (char *p = buf; p < buf + n;) {
		const struct inotify_event *ev = (const struct inotify_event *)p;
		p += sizeof(*ev) + ev->len;
		if (ev->mask & IN_Q_OVERFLOW) {
			*overflow = true;
			continue;
		}
		struct region *r = find_wd(h, ev->wd);
		if (!r)
			continue; /* unwatched since the event was queued */
		if (ev->mask & IN_IGNORED) {
			hashindex_remove(&h->by_wd, r, hash_wd(r->watch));
			r->watch = 0;
			r->holders_known = false;
			if (!r->deleted)
				h->n_unwatched++;
			continue;
		}
		if (ev->mask & IN_OPEN)
			on_open(r);
		if (ev->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE))
			on_close(h, r);
	}
	return (size_t)n > sizeof(buf) / 2;
}

void holdtrack_sync(struct server *s)
{
	struct holdtrack *h = &s->holdtrack;
	bool overflow = false;

	if (h->fd < 0)
		return;
	while (read_events(s, &overflow))
		;
	if (!overflow)
		return;
	/* Events were lost: every count is suspect until the /proc scan proves it. */
	h->overflows++;
	log_warning("inotify queue overflowed: recounting the holders of every region");
	hashindex_foreach(&h->by_wd, mark_unknown, NULL);
	holdtrack_recount(s);
}

static int on_inotify(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	holdtrack_sync(userdata);
	return 0;
}

int holdtrack_init(struct holdtrack *h, sd_event *event)
{
	*h = (struct holdtrack){ .fd = -1 };
	h->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (h->fd < 0)
		return log_errno(LOG_WARNING, errno,
				 "inotify: holder counts off, no region will be spilled");
	return 0;
}

static int attach(struct server *s)
{
	struct holdtrack *h = &s->holdtrack;
	h->server = s;
	if (h->fd < 0 || h->source)
		return 0;
	int r = sd_event_add_io(s->event, &h->source, h->fd, EPOLLIN, on_inotify, s);
	if (r < 0)
		return log_errno(LOG_WARNING, r, "inotify event source");
	return 0;
}

static void free_node(void *p)
{
	region_free(p);
}

void holdtrack_done(struct holdtrack *h)
{
	hashindex_done(&h->by_wd);
	tdestroy(h->deleted, free_node);
	tdestroy(h->anonymous, free_node);
	h->source = sd_event_source_disable_unref(h->source);
	h->recount = sd_event_source_disable_unref(h->recount);
	safe_close(h->fd);
	*h = (struct holdtrack){ .fd = -1 };
}

static int watch_path(int ifd, int fd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int wd = inotify_add_watch(ifd, path, HOLDER_EVENTS);
	return wd >= 0 ? wd : negative_errno();
}

static void watch_failed(struct server *s, struct region *r, int err)
{
	struct holdtrack *h = &s->holdtrack;
	h->n_unwatched++;
	if (err == -ENOSPC && h->warned_limit)
		return;
	if (err == -ENOSPC)
		h->warned_limit = true;
	_cleanup_free_ char *name = name_escape(r->name);
	log_warning("region '%s': cannot watch its holders (%s%s); it will never be spilled",
		    name ? name : "?", strerror(-err),
		    err == -ENOSPC ? ": fs.inotify.max_user_watches reached; further regions "
				     "over the limit are not logged" :
				     "");
}

static void watch(struct server *s, struct region *r, bool known)
{
	struct holdtrack *h = &s->holdtrack;
	struct stat st;

	r->holders = 0;
	r->holders_known = false;
	if (fstat(r->fd, &st) == 0) {
		r->dev = st.st_dev;
		r->ino = st.st_ino;
	}
	if (h->fd < 0) {
		h->n_unwatched++;
		return;
	}
	int wd = watch_path(h->fd, r->fd);
	if (wd < 0) {
		watch_failed(s, r, wd);
		return;
	}
	r->watch = wd;
	if (hashindex_add(&h->by_wd, r, hash_wd(wd)) < 0) {
		(void)inotify_rm_watch(h->fd, wd);
		r->watch = 0;
		watch_failed(s, r, -ENOMEM);
		return;
	}
	r->holders_known = known;
}

void holdtrack_watch(struct server *s, struct region *r)
{
	if (attach(s) < 0)
		return watch(s, r, false);
	/* Nothing but the daemon's own description exists yet: the count starts exact. */
	watch(s, r, true);
}

static void watch_one(struct region *r, void *userdata)
{
	watch(userdata, r, false);
}

void holdtrack_start(struct server *s)
{
	(void)attach(s);
	/* Rebuilt regions may be held by anyone: unknown until the scan below. */
	registry_foreach(&s->registry, watch_one, s);
	if (s->registry.n_regions)
		holdtrack_recount(s);
}

void holdtrack_release(struct server *s, struct region *r)
{
	struct holdtrack *h = &s->holdtrack;

	holdtrack_sync(s);
	if (r->watch <= 0) {
		/* Not watched: nothing would ever say when its holders go. */
		h->n_unwatched -= MIN(h->n_unwatched, 1u);
		drop(s, r);
		return;
	}
	if ((r->holders_known && r->holders == 0) || !tsearch(r, &h->deleted, compare_id)) {
		unwatch(h, r);
		drop(s, r);
		return;
	}
	/* Still charged to its owner (quota.h) until its last holder goes. */
	r->deleted = r->kept = true;
	h->n_deleted++;
	h->deleted_size += r->size;
}

void holdtrack_keep_anonymous(struct server *s, struct region *r)
{
	struct holdtrack *h = &s->holdtrack;

	holdtrack_sync(s); /* the handout may be gone already (its receiver died) */
	if (r->watch <= 0 || (r->holders_known && r->holders == 0) ||
	    !tsearch(r, &h->anonymous, compare_id)) {
		if (r->watch <= 0)
			h->n_unwatched -= MIN(h->n_unwatched, 1u);
		unwatch(h, r);
		drop(s, r);
		return;
	}
	r->kept = true;
	h->n_anonymous++;
}

void holdtrack_discard(struct server *s, struct region *r)
{
	if (r->watch <= 0)
		s->holdtrack.n_unwatched -= MIN(s->holdtrack.n_unwatched, 1u);
	unwatch(&s->holdtrack, r);
	region_free(r);
}

static void recharge_one(const void *node, VISIT which, void *userdata)
{
	struct region *r = *(struct region *const *)node;

	if (which == postorder || which == leaf) {
		region_refresh_size(r);
		quota_charge(userdata, r);
	}
}

void holdtrack_recharge(struct server *s)
{
	twalk_r(s->holdtrack.deleted, recharge_one, &s->quota);
	twalk_r(s->holdtrack.anonymous, recharge_one, &s->quota);
}

int64_t holdtrack_count(const struct region *r)
{
	return r->watch > 0 && r->holders_known ? (int64_t)r->holders : -1;
}

bool holdtrack_none(const struct region *r)
{
	return holdtrack_count(r) == 0;
}

/* ---------------------------------------------------------------- the /proc recount */

struct scan {
	struct region **regions; /* those whose count is unknown, sorted by inode */
	bool *found;
	size_t n;
	pid_t self;
	pid_t store; /* the fd store's process: the parent */
};

static int compare_ino(const void *a, const void *b)
{
	const struct region *x = *(struct region *const *)a, *y = *(struct region *const *)b;
	if (x->ino != y->ino)
		return (x->ino > y->ino) - (x->ino < y->ino);
	return (x->dev > y->dev) - (x->dev < y->dev);
}

static ssize_t scan_find(const struct scan *sc, dev_t dev, ino_t ino)
{
	struct region key = { .dev = dev, .ino = ino }, *k = &key;
	struct region **p = bsearch(&k, sc->regions, sc->n, sizeof(*p), compare_ino);
	return p ? p - sc->regions : -1;
}

/*
 * The fd store's copy of the daemon's own description (the store is the daemon's parent:
 * systemd or the supervisor)? Anyone else with that description is a holder: a creator of a
 * region rebuilt from a state written before every handout was a fresh description.
 */
static bool is_own_description(const struct scan *sc, pid_t pid, int fd, const struct region *r)
{
	return pid == sc->store && syscall(SYS_kcmp, sc->self, pid, KCMP_FILE, r->fd, fd) == 0;
}

struct scan_pid {
	struct scan *sc;
	pid_t pid;
};

static void fd_found(void *userdata, int pid_dir, const char *name, const struct stat *st)
{
	struct scan_pid *sp = userdata;

	if (!S_ISREG(st->st_mode))
		return;
	ssize_t i = scan_find(sp->sc, st->st_dev, st->st_ino);
	if (i >= 0 && !is_own_description(sp->sc, sp->pid, atoi(name), sp->sc->regions[i]))
		sp->sc->found[i] = true;
}

static int map_found(void *userdata, const struct holders_map *m)
{
	struct scan *sc = userdata;
	ssize_t i = scan_find(sc, m->dev, m->ino);

	if (i >= 0)
		sc->found[i] = true;
	return 0;
}

/* One process (holders.h's walkers, which leave the daemon itself out). */
static int scan_pid(void *userdata, pid_t pid, int pid_dir)
{
	struct scan *sc = userdata;

	(void)holders_each_fd(pid_dir, fd_found, &(struct scan_pid){ sc, pid });
	(void)holders_each_map(pid_dir, map_found, sc);
	return 0;
}

static void collect_unknown(void *entry, void *userdata)
{
	struct scan *sc = userdata;
	struct region *r = entry;
	if (!r->holders_known) {
		if (sc->found)
			sc->regions[sc->n] = r;
		sc->n++;
	}
}

static void scan_proc(struct scan *sc)
{
	if (holders_each_pid(scan_pid, sc) < 0)
		/* Cannot look: every region stays held. */
		for (size_t i = 0; i < sc->n; i++)
			sc->found[i] = true;
}

size_t holdtrack_recount(struct server *s)
{
	struct holdtrack *h = &s->holdtrack;
	struct scan sc = { .self = getpid(), .store = getppid() };
	size_t known = 0;

	if (h->fd < 0)
		return 0;
	/* Events queued until now are about descriptions the scan sees or not: drop them. */
	for (bool overflow = false; read_events(s, &overflow);)
		;
	hashindex_foreach(&h->by_wd, collect_unknown, &sc);
	if (sc.n == 0)
		return 0;
	_cleanup_free_ struct region **regions = calloc(sc.n, sizeof(*regions));
	_cleanup_free_ bool *found = calloc(sc.n, sizeof(*found));
	if (!regions || !found)
		return 0;
	sc.regions = regions;
	sc.found = found;
	sc.n = 0;
	hashindex_foreach(&h->by_wd, collect_unknown, &sc);
	qsort(regions, sc.n, sizeof(*regions), compare_ino);
	scan_proc(&sc);
	h->recounts++;
	for (size_t i = 0; i < sc.n; i++) {
		if (found[i])
			continue;
		regions[i]->holders_known = true;
		regions[i]->holders = 0;
		known++;
		if (regions[i]->kept)
			free_kept(h, regions[i]);
	}
	log_debug("recounted holders: %zu of %zu regions have none", known, sc.n);
	return known;
}

/* ---------------------------------------------------------------- deleted regions */

struct collect {
	const char *prefix;
	size_t prefix_len;
	struct region **out;
	size_t n;
};

static void collect_one(const void *node, VISIT which, void *userdata)
{
	struct collect *c = userdata;
	struct region *r = *(struct region *const *)node;
	if ((which == postorder || which == leaf) &&
	    strncmp(r->name, c->prefix, c->prefix_len) == 0)
		c->out[c->n++] = r;
}

static int collect(void *tree, size_t n, const char *prefix, struct region ***ret, size_t *ret_n)
{
	struct collect c = { prefix ? prefix : "", prefix ? strlen(prefix) : 0 };

	c.out = malloc(MAX(n, 1u) * sizeof(*c.out));
	if (!c.out)
		return -ENOMEM;
	twalk_r(tree, collect_one, &c);
	*ret = c.out;
	*ret_n = c.n;
	return 0;
}

int holdtrack_collect_deleted(struct holdtrack *h, const char *prefix, struct region ***ret,
			      size_t *n)
{
	return collect(h->deleted, h->n_deleted, prefix, ret, n);
}

int holdtrack_collect_anonymous(struct holdtrack *h, const char *prefix, struct region ***ret,
				size_t *n)
{
	return collect(h->anonymous, h->n_anonymous, prefix, ret, n);
}

struct region *holdtrack_find_kept(struct holdtrack *h, bool anonymous, uint64_t id)
{
	struct region key = { .id = id };
	struct region **found = tfind(&key, anonymous ? &h->anonymous : &h->deleted, compare_id);
	return found ? *found : NULL;
}

void holdtrack_text_region(struct text *t, const struct region *r)
{
	int64_t n = holdtrack_count(r);

	text_lit(t, ",\"holders\":");
	if (n < 0)
		text_lit(t, "null");
	else
		text_uint(t, (uint64_t)n);
	if (r->last_open_usec) {
		text_lit(t, ",\"lastOpenUSec\":");
		text_uint(t, r->last_open_usec);
	}
	if (r->last_close_usec) {
		text_lit(t, ",\"lastCloseUSec\":");
		text_uint(t, r->last_close_usec);
	}
	if (r->deleted)
		text_lit(t, ",\"deleted\":true");
	if (r->anonymous)
		text_lit(t, ",\"anonymous\":true");
}

static void add_size(const void *node, VISIT which, void *userdata)
{
	if (which == postorder || which == leaf)
		*(uint64_t *)userdata += region_refresh_size(*(struct region *const *)node);
}

void holdtrack_status(struct server *s, struct json_object *p)
{
	struct holdtrack *h = &s->holdtrack;

	holdtrack_sync(s);
	json_object_object_add(p, "deletedRegions", json_object_new_int64((int64_t)h->n_deleted));
	json_object_object_add(p, "deletedSize",
			       json_object_new_int64((int64_t)MIN(h->deleted_size, INT64_MAX)));
	uint64_t anon_size = 0;
	twalk_r(h->anonymous, add_size, &anon_size);
	json_object_object_add(p, "anonymousRegions",
			       json_object_new_int64((int64_t)h->n_anonymous));
	json_object_object_add(p, "anonymousSize",
			       json_object_new_int64((int64_t)MIN(anon_size, INT64_MAX)));
	json_object_object_add(p, "unwatchedRegions",
			       json_object_new_int64((int64_t)h->n_unwatched));
	json_object_object_add(p, "holderOverflows", json_object_new_int64((int64_t)h->overflows));
}
