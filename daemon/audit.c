/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Audit records: who changed or was refused what, as journal fields and one readable line. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "log.h"
#include "macro.h"

static int add_field(struct audit_fields *f, const char *fmt, ...) _printf_(2, 3);

static int add_field(struct audit_fields *f, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	if (f->n >= AUDIT_FIELDS_MAX)
		return -E2BIG;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	f->field[f->n++] = s;
	return 0;
}

void audit_fields_done(struct audit_fields *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->field[i]);
	f->n = 0;
}

int audit_fields_build(const struct audit_event *e, struct audit_fields *f)
{
	bool ok = strcmp(e->result, "ok") == 0;
	int r = 0;

	f->n = 0;
	r |= add_field(f, "MESSAGE_ID=%s",
		       ok ? AUDIT_MESSAGE_ID_CHANGED : AUDIT_MESSAGE_ID_REFUSED);
	r |= add_field(f, "SHMD_OPERATION=%s", e->operation);
	if (e->region)
		r |= add_field(f, "SHMD_REGION=%s", e->region);
	if (e->new_region)
		r |= add_field(f, "SHMD_NEW_REGION=%s", e->new_region);
	r |= add_field(f, "SHMD_UID=%u", (unsigned)e->uid);
	r |= add_field(f, "SHMD_GID=%u", (unsigned)e->gid);
	r |= add_field(f, "SHMD_PID=%d", (int)e->pid);
	if (e->unit)
		r |= add_field(f, "SHMD_UNIT=%s", e->unit);
	r |= add_field(f, "SHMD_RESULT=%s", e->result);
	if (r < 0) {
		audit_fields_done(f);
		return -ENOMEM;
	}
	return 0;
}

void audit_format_message(const struct audit_event *e, char *buf, size_t size)
{
	char target[2 * 1024];

	if (e->region && e->new_region)
		snprintf(target, sizeof(target), " '%s' to '%s'", e->region, e->new_region);
	else if (e->region)
		snprintf(target, sizeof(target), " '%s'", e->region);
	else
		target[0] = '\0';
	snprintf(buf, size, "audit: %s%s by uid %u gid %u pid %d unit %s: %s", e->operation, target,
		 (unsigned)e->uid, (unsigned)e->gid, (int)e->pid, e->unit ? e->unit : "-",
		 e->result);
}

/* Count the tokens earned since b->last_usec, up to the burst. */
static void bucket_refill(struct audit_bucket *b, uint64_t now_usec)
{
	uint64_t step = 1000000 / AUDIT_PER_SEC, earned;

	if (now_usec <= b->last_usec)
		return;
	earned = (now_usec - b->last_usec) / step;
	if (b->tokens + earned >= AUDIT_BURST) {
		b->tokens = AUDIT_BURST;
		b->last_usec = now_usec;
	} else {
		b->tokens += (unsigned)earned;
		b->last_usec += earned * step; /* keep the fraction of a token earned */
	}
}

/* uid's bucket: its own, a free or idle one taken over, or the shared one. */
static struct audit_bucket *bucket_for(struct audit_ratelimit *rl, uid_t uid, uint64_t now_usec)
{
	struct audit_bucket *spare = NULL;

	for (size_t i = 0; i < AUDIT_BUCKETS; i++) {
		struct audit_bucket *b = &rl->bucket[i];
		if (b->used && b->uid == uid)
			return b;
		if (spare && !spare->used)
			continue;
		if (b->used)
			bucket_refill(b, now_usec);
		/* Idle: full again, the state of a uid never seen. */
		if (!b->used || b->tokens == AUDIT_BURST)
			spare = b;
	}
	if (spare) {
		if (spare->used && spare->suppressed) {
			rl->evicted_uid = spare->uid;
			rl->evicted_suppressed += spare->suppressed;
		}
		*spare = (struct audit_bucket){
			.uid = uid, .used = true, .tokens = AUDIT_BURST, .last_usec = now_usec
		};
		return spare;
	}
	if (!rl->shared.used)
		rl->shared = (struct audit_bucket){ .used = true,
						    .tokens = AUDIT_BURST,
						    .last_usec = now_usec };
	return &rl->shared;
}

bool audit_ratelimit_allow(struct audit_ratelimit *rl, uid_t uid, uint64_t now_usec,
			   unsigned *ret_suppressed, bool *ret_shared)
{
	struct audit_bucket *b = bucket_for(rl, uid, now_usec);

	bucket_refill(b, now_usec);
	if (b->tokens == 0) {
		b->suppressed++;
		return false;
	}
	b->tokens--;
	*ret_suppressed = b->suppressed;
	*ret_shared = b == &rl->shared;
	b->suppressed = 0;
	return true;
}

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void log_suppressed(uid_t uid, unsigned n, bool shared)
{
	char msg[256], id[64], uid_field[32], count[32];
	char *fields[] = { id, count, uid_field };

	snprintf(id, sizeof(id), "MESSAGE_ID=%s", AUDIT_MESSAGE_ID_SUPPRESSED);
	snprintf(uid_field, sizeof(uid_field), "SHMD_UID=%u", (unsigned)uid);
	snprintf(count, sizeof(count), "SHMD_SUPPRESSED=%u", n);
	if (shared)
		snprintf(msg, sizeof(msg), "audit: suppressed %u refusals of several uids", n);
	else
		snprintf(msg, sizeof(msg), "audit: suppressed %u refusals of uid %u", n,
			 (unsigned)uid);
	/* SHMD_UID= only when the count is that uid's alone. */
	log_record(LOG_NOTICE, msg, fields, shared ? 2 : 3);
}

void audit_log(const struct audit_event *e)
{
	/*
	 * Refusals are rate-limited per uid: a client can make them as fast as it can send.
	 * Changes are not: an audit trail that drops changes is worthless, and each costs its
	 * caller a round trip (journald's own per-unit RateLimitBurst= remains the backstop).
	 */
	static struct audit_ratelimit rl;
	bool ok = strcmp(e->result, "ok") == 0, shared = false;
	int prio = ok ? LOG_INFO : LOG_NOTICE;
	unsigned suppressed = 0;
	struct audit_fields f;
	char msg[4096];

	if (!log_enabled(prio))
		return;
	if (!ok && !audit_ratelimit_allow(&rl, e->uid, now_usec(), &suppressed, &shared))
		return;
	if (rl.evicted_suppressed) {
		log_suppressed(rl.evicted_uid, rl.evicted_suppressed, false);
		rl.evicted_suppressed = 0;
	}
	if (suppressed)
		log_suppressed(e->uid, suppressed, shared);
	audit_format_message(e, msg, sizeof(msg));
	/* The console shows the message alone: build the fields only for the journal. */
	if (!log_to_journal() || audit_fields_build(e, &f) < 0) {
		log_record(prio, msg, NULL, 0);
		return;
	}
	log_record(prio, msg, f.field, f.n);
	audit_fields_done(&f);
}
