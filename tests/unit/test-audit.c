/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's audit records: the journal fields, the console line and the refusal rate limit. */

#include <string.h>

#include "audit.h"
#include "testlib.h"

static const struct audit_event full = {
	.operation = "Rename",
	.region = "vm1/ram",
	.new_region = "vm1/old",
	.uid = 1000,
	.gid = 100,
	.pid = 4242,
	.unit = "qemu@vm1.service",
	.result = "ok",
};

static void test_fields(void)
{
	static const char *const want[] = {
		"MESSAGE_ID=" AUDIT_MESSAGE_ID_CHANGED,
		"SHMD_OPERATION=Rename",
		"SHMD_REGION=vm1/ram",
		"SHMD_NEW_REGION=vm1/old",
		"SHMD_UID=1000",
		"SHMD_GID=100",
		"SHMD_PID=4242",
		"SHMD_UNIT=qemu@vm1.service",
		"SHMD_RESULT=ok",
	};
	struct audit_fields f;

	is_int(audit_fields_build(&full, &f), 0, "fields of a change");
	is_int((long long)f.n, (long long)ELEMENTSOF(want), "every field is there");
	for (size_t i = 0; i < ELEMENTSOF(want) && i < f.n; i++)
		is_str(f.field[i], want[i], "field %zu", i);
	audit_fields_done(&f);
	is_int((long long)f.n, 0, "done empties the list");

	struct audit_event e = { .operation = "Open",
				 .uid = 65534,
				 .gid = 65534,
				 .pid = 7,
				 .result = "PermissionDenied" };
	is_int(audit_fields_build(&e, &f), 0, "fields of a refusal");
	is_int((long long)f.n, 6, "no region, new region or unit fields when unknown");
	is_str(f.field[0], "MESSAGE_ID=" AUDIT_MESSAGE_ID_REFUSED, "a refusal's MESSAGE_ID");
	is_str(f.field[f.n - 1], "SHMD_RESULT=PermissionDenied", "the error's name");
	audit_fields_done(&f);
}

static void test_message(void)
{
	char buf[512];
	struct audit_event e = full;

	audit_format_message(&e, buf, sizeof(buf));
	is_str(buf,
	       "audit: Rename 'vm1/ram' to 'vm1/old' by uid 1000 gid 100 pid 4242 unit "
	       "qemu@vm1.service: ok",
	       "the line of a rename");
	e.new_region = NULL;
	e.unit = NULL;
	e.operation = "Delete";
	e.result = "NoSuchRegion";
	audit_format_message(&e, buf, sizeof(buf));
	is_str(buf, "audit: Delete 'vm1/ram' by uid 1000 gid 100 pid 4242 unit -: NoSuchRegion",
	       "the line of a refused delete, outside any unit");
	e.region = NULL;
	audit_format_message(&e, buf, sizeof(buf));
	is_str(buf, "audit: Delete by uid 1000 gid 100 pid 4242 unit -: NoSuchRegion",
	       "no region: no name");
}

static unsigned allowed(struct audit_ratelimit *rl, uid_t uid, uint64_t t, unsigned n,
			unsigned *last_suppressed)
{
	unsigned count = 0, suppressed = 0;
	bool shared = false;

	for (unsigned i = 0; i < n; i++)
		if (audit_ratelimit_allow(rl, uid, t, &suppressed, &shared)) {
			count++;
			*last_suppressed = suppressed;
		}
	return count;
}

static void test_ratelimit(void)
{
	static struct audit_ratelimit rl;
	const uint64_t t0 = 5000000;
	unsigned suppressed = 99, s2 = 0;
	bool shared = true;

	is_int(allowed(&rl, 1000, t0, 100, &suppressed), AUDIT_BURST, "a burst, then nothing");
	is_int(suppressed, 0, "nothing suppressed before the burst ran out");
	is_int(allowed(&rl, 1001, t0, 3, &s2), 3, "another uid has its own bucket");
	is_int(allowed(&rl, 1000, t0 + 999999, 5, &suppressed), 0, "no token within the second");
	ok(audit_ratelimit_allow(&rl, 1000, t0 + 1000000, &suppressed, &shared),
	   "one more after a second");
	is_int(suppressed, 100 - AUDIT_BURST + 5, "and it reports how many were dropped");
	ok(!shared, "counted for that uid alone");
	is_int(allowed(&rl, 1000, t0 + 1000000, 5, &suppressed), 0, "then none again");
	is_int(allowed(&rl, 1000, t0 + 60000000, 100, &suppressed), AUDIT_BURST,
	       "a full burst after a quiet minute, not more");

	/* Every bucket busy with a uid that has something to report: the rest share one. */
	static struct audit_ratelimit busy;
	for (uid_t u = 0; u < AUDIT_BUCKETS; u++)
		allowed(&busy, u, t0, AUDIT_BURST + 1, &s2);
	is_int(allowed(&busy, 5000, t0, 100, &s2) + allowed(&busy, 5001, t0, 100, &s2), AUDIT_BURST,
	       "uids beyond the table share one burst");
	ok(audit_ratelimit_allow(&busy, 5002, t0 + 1000000, &suppressed, &shared) && shared,
	   "a second later, the shared bucket has a token, for several uids");
	is_int(suppressed, 200 - AUDIT_BURST, "and reports the drops of both");
	/* A bucket full again is taken over, and the drops it held are handed to the caller. */
	is_int(allowed(&busy, 6000, t0 + 60000000, 100, &s2), AUDIT_BURST,
	       "a new uid takes over a bucket idle for a minute");
	is_int(busy.evicted_suppressed, 1, "with the one drop its uid had to report");
	ok(busy.evicted_uid < AUDIT_BUCKETS, "of a uid that had a bucket (%u)",
	   (unsigned)busy.evicted_uid);
}

int main(void)
{
	test_fields();
	test_message();
	test_ratelimit();
	return done_testing();
}
