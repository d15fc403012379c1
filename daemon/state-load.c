/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Restore: the registry rebuilt from the stored memfds and the newest complete state. */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "name.h"
#include "registry.h"
#include "server.h"
#include "state-record.h"
#include "state.h"

#define STATE_SIZE_MAX (1ull << 30)

struct loaded {
	uint8_t *data;
	size_t len;
	uint64_t generation;
	size_t good_len; /* up to the first torn record */
	int err;	 /* 0, -EBADMSG, -EPROTONOSUPPORT, ... */
	uint32_t format;
};

static void load_one(int fd, struct loaded *l)
{
	struct stat st;

	*l = (struct loaded){ .err = -EBADMSG };
	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size > STATE_SIZE_MAX)
		return;
	l->data = malloc(MAX((size_t)st.st_size, 1u));
	if (!l->data) {
		l->err = -ENOMEM;
		return;
	}
	while (l->len < (size_t)st.st_size) {
		ssize_t n = pread(fd, l->data + l->len, (size_t)st.st_size - l->len, (off_t)l->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		l->len += (size_t)n;
	}
	l->err = state_read_header(l->data, l->len, &l->format, &l->generation);
}

/* A REGION record: replaces what the id had; its name taken from any other id. */
static int replay_region(struct registry *reg, struct state_reader *payload, uint64_t *max_id)
{
	struct region *r;
	const char *why;
	unsigned tag = 0;
	int err = state_decode_region(payload, &r, &why, &tag);

	if (err == -EPROTONOSUPPORT)
		return log_errno(LOG_ERR, err,
				 "the state was written by a newer shmd: region field tag %u is "
				 "unknown to this version, which refuses to start rather than "
				 "drop it (start the newer shmd, or stop the service to discard "
				 "the regions)",
				 tag);
	if (err < 0) {
		log_warning("state: skipping a malformed region record (%s)", why ? why : "?");
		return err == -ENOMEM ? err : 0;
	}
	struct region *old = registry_find_id(reg, r->id);
	if (old) {
		registry_remove(reg, old);
		region_free(old);
	}
	if ((old = registry_find(reg, r->name))) {
		log_warning("state: region %llu lost its name to region %llu",
			    (unsigned long long)old->id, (unsigned long long)r->id);
		registry_remove(reg, old);
		region_free(old);
	}
	uint64_t next = reg->next_id;
	reg->next_id = r->id;
	err = registry_add(reg, r);
	reg->next_id = next;
	if (err < 0) {
		region_free(r);
		return err;
	}
	*max_id = MAX(*max_id, r->id);
	return 0;
}

static int replay(struct registry *reg, struct loaded *l, uint64_t *next_id)
{
	struct state_reader rd = { l->data + STATE_HEADER_SIZE, l->len - STATE_HEADER_SIZE };
	struct state_reader payload;
	uint64_t max_id = 0, v;
	uint8_t type;
	int r;

	while ((r = state_next_record(&rd, &type, &payload)) > 0) {
		if (type == STATE_REC_REGION) {
			if ((r = replay_region(reg, &payload, &max_id)) < 0)
				return r;
		} else if (type == STATE_REC_DELETE && state_get_u64(&payload, &v) == 0) {
			struct region *old = registry_find_id(reg, v);
			if (old) {
				registry_remove(reg, old);
				region_free(old);
			}
			max_id = MAX(max_id, v);
		} else if (type == STATE_REC_NEXT_ID && state_get_u64(&payload, &v) == 0) {
			*next_id = MAX(*next_id, v);
		} else
			log_warning("state: skipping a record of unknown type %u", type);
	}
	if (r < 0)
		log_notice("state: ignoring %zu bytes after a torn record (a crash during a write)",
			   rd.len);
	l->good_len = l->len - rd.len;
	*next_id = MAX(*next_id, max_id + 1);
	return 0;
}

/* The newer of the two stored states that can be read. -errno: refuse to start. */
static int pick(struct state *st, struct loaded l[2], int *ret)
{
	for (int i = 0; i < 2; i++) {
		load_one(st->old_fd[i], &l[i]);
		if (st->old_fd[i] < 0)
			continue;
		if (l[i].err == -EPROTONOSUPPORT)
			return log_errno(LOG_ERR, l[i].err,
					 "the stored state has format %u, newer than this shmd's "
					 "%u: refusing to start rather than lose it",
					 l[i].format, STATE_FORMAT);
		if (l[i].err < 0)
			log_warning("the stored state 'state-%c' is unreadable (%s), ignored",
				    'a' + i, strerror(-l[i].err));
	}
	*ret = -1;
	for (int i = 0; i < 2; i++)
		if (l[i].err == 0 && (*ret < 0 || l[i].generation > l[*ret].generation))
			*ret = i;
	return 0;
}

static int compare_stored(const void *a, const void *b)
{
	uint64_t x = ((const struct stored_fd *)a)->id, y = ((const struct stored_fd *)b)->id;
	return x < y ? -1 : x > y;
}

/* Give each region its stored memfd; drop fds without metadata (out of the store too). */
static void attach_fds(struct server *s)
{
	struct state *st = &s->state;
	char buf[FDSTORE_NAME_MAX];

	if (st->n_stored > 0) /* qsort(NULL, 0) is undefined */
		qsort(st->stored, st->n_stored, sizeof(*st->stored), compare_stored);
	for (size_t i = 0; i < st->n_stored; i++) {
		struct stored_fd *sf = &st->stored[i];
		struct region *r = registry_find_id(&s->registry, sf->id);
		const char *name = fdstore_region_name(sf->id, buf);
		int seals = r && r->fd < 0 ? fcntl(sf->fd, F_GET_SEALS) : -1;
		if (seals >= 0) {
			r->fd = TAKE_FD(sf->fd);
			r->seals =
				(unsigned)seals; /* from the kernel, as region_seals() reads them */
			continue;
		}
		log_warning("stored fd '%s' (region %llu) has no metadata%s, dropped", name,
			    (unsigned long long)sf->id, r ? " or is not a memfd" : "");
		sf->fd = safe_close(sf->fd);
		if (state_enabled(st))
			(void)fdstore_remove(&st->store, name);
	}
	free(st->stored);
	st->stored = NULL;
	st->n_stored = st->cap_stored = 0;
}

/* Regions without an fd are dropped; the others read their seals and size from the kernel. */
static void finish_one(struct region *r, void *userdata)
{
	struct region ***dropped = userdata;

	if (r->fd < 0) {
		_cleanup_free_ char *name = name_escape(r->name);
		log_warning("region %llu '%s' has metadata but no stored fd, dropped",
			    (unsigned long long)r->id, name ? name : "?");
		*(*dropped)++ = r;
		return;
	}
	/*
	 * The stored description is the daemon's own (no handout ever is: holdtrack.h), so the
	 * fd store's copy is never mistaken for a holder by the recount. A state written before
	 * holder tracking may hold a read-write creator's description: the recount then counts
	 * the creator, which only keeps the region held (the safe side).
	 */
	region_refresh_size(r);
}

/* Attach the fds, drop what has only one half, read what the kernel knows. */
static int rebuild(struct server *s)
{
	attach_fds(s);

	_cleanup_free_ struct region **dropped =
		calloc(s->registry.n_regions + 1, sizeof(*dropped));
	struct region **end = dropped;
	if (!dropped)
		return -ENOMEM;
	registry_foreach(&s->registry, finish_one, &end);
	for (struct region **p = dropped; p < end; p++) {
		registry_remove(&s->registry, *p);
		state_region_removed(s, *p);
		region_free(*p);
	}
	return 0;
}

/*
 * Go on appending to the state that was loaded (cut after its last good record), or, when
 * there is none, write the first one at the first change (append() snapshots when fd < 0).
 * The other stored state, if any, is an older generation: out of the store.
 */
static void adopt_journal(struct state *st, struct loaded *l, int win)
{
	for (int i = 0; i < 2; i++)
		if (i != win && st->old_fd[i] >= 0) {
			(void)fdstore_remove(&st->store, i ? "state-b" : "state-a");
			st->old_fd[i] = safe_close(st->old_fd[i]);
		}
	st->slot = win >= 0 ? (unsigned)win : 1;
	if (win < 0)
		return;
	st->fd = TAKE_FD(st->old_fd[win]);
	st->generation = l[win].generation;
	st->size = l[win].good_len;
	st->compact_at = MAX(2 * st->size, st->size + 64 * 1024);
	/* A torn tail must go, or records appended after it could never be read. */
	if (st->size < l[win].len && ftruncate(st->fd, (off_t)st->size) < 0)
		st->broken = true;
}

int state_restore(struct server *s)
{
	struct state *st = &s->state;
	struct loaded l[2] = { 0 };
	uint64_t next_id = 1;
	int win = -1;

	int r = pick(st, l, &win);
	if (r >= 0 && win >= 0)
		r = replay(&s->registry, &l[win], &next_id);
	if (r >= 0) {
		s->registry.next_id = MAX(s->registry.next_id, next_id);
		if (state_enabled(st))
			adopt_journal(st, l, win);
		r = rebuild(s);
	}
	free(l[0].data);
	free(l[1].data);
	state_drop_stored(st);
	if (r < 0)
		return r;
	if (win >= 0 || s->registry.n_regions)
		log_info("restored %zu regions (next id %llu) from the fd store in %llu ms",
			 s->registry.n_regions, (unsigned long long)s->registry.next_id,
			 (unsigned long long)(now_usec() - st->init_usec) / 1000);
	return 0;
}
