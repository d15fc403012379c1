/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Audit records: who changed or was refused what, as journal fields and one readable line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One MESSAGE_ID per kind of record (documented in shmd(8), JOURNAL FIELDS). */
#define AUDIT_MESSAGE_ID_CHANGED "3606edcc78834e02b447167ddd2d4dad"
#define AUDIT_MESSAGE_ID_REFUSED "ff54ceab377a44969cee6a3441bdd259"
#define AUDIT_MESSAGE_ID_SUPPRESSED "1df1342da63d4bd490f1129b2912c58c"

/* Refusals: AUDIT_BURST lines per uid at once, then AUDIT_PER_SEC a second. */
#define AUDIT_BURST 10
#define AUDIT_PER_SEC 1
/* Uids with a bucket of their own; beyond that, the rest share one. */
#define AUDIT_BUCKETS 64

struct audit_event {
	const char *operation;	/* the method without its interface: "Create" */
	const char *region;	/* escaped for humans (name_escape()), or NULL */
	const char *new_region; /* Rename's target, escaped, or NULL */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	const char *unit;   /* or NULL */
	const char *result; /* "ok" or the error's name without its interface */
};

#define AUDIT_FIELDS_MAX 12
/* "KEY=value" strings for sd_journal_sendv(), MESSAGE= and PRIORITY= excluded. */
struct audit_fields {
	char *field[AUDIT_FIELDS_MAX];
	size_t n;
};

/* MESSAGE_ID=, SHMD_OPERATION=, SHMD_REGION=, ... of e. 0 or -ENOMEM (f then empty). */
int audit_fields_build(const struct audit_event *e, struct audit_fields *f);
void audit_fields_done(struct audit_fields *f);
/* The MESSAGE= text, also the console line: "audit: Create 'a/b' by uid 0 ...: ok". */
void audit_format_message(const struct audit_event *e, char *buf, size_t size);

struct audit_bucket {
	uid_t uid;
	bool used;
	unsigned tokens;
	uint64_t last_usec;  /* when tokens were last counted */
	unsigned suppressed; /* refusals dropped since the last line */
};

struct audit_ratelimit {
	struct audit_bucket bucket[AUDIT_BUCKETS];
	struct audit_bucket shared; /* every uid that found no bucket of its own */
	/* A bucket full again is taken over by a new uid; drops it had to report are left
	 * here for the caller to report (and zero). */
	uid_t evicted_uid;
	unsigned evicted_suppressed;
};

/*
 * May a refusal by uid be logged at now_usec (CLOCK_MONOTONIC)? When it may and earlier
 * ones were dropped, *ret_suppressed is their number (else 0), and *ret_shared says whether
 * they were counted in the shared bucket (of several uids).
 */
bool audit_ratelimit_allow(struct audit_ratelimit *rl, uid_t uid, uint64_t now_usec,
			   unsigned *ret_suppressed, bool *ret_shared);

/* Log e: a change at info, a refusal (result not "ok") at notice, rate-limited per uid. */
void audit_log(const struct audit_event *e);
