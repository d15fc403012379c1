/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Quotas and name ownership in the methods: the checks Create, Resize, Rename and SetAccess make,
 * and the Quotas and Reload methods. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct call;
struct region;

/*
 * Each check returns 0 when the request may go on, else -EINVAL with the error replied
 * (PermissionDenied for a reserved prefix, QuotaExceeded, RegionOwned).
 */
/* A new region name by the caller of size bytes (Create). */
int quota_check_create(struct call *call, const char *name, uint64_t size);
/* A name a region is renamed to (Rename): the prefix rules only. */
int quota_check_name(struct call *call, const char *name);
/* Create with exclusive=false found r: the fs.protected_regular rule. */
/* An anonymous region (anon.h), of size 0: one region more for the caller. 0 or replied. */
int quota_check_anonymous(struct call *call, const char *name);
int quota_check_adopt(struct call *call, struct region *r);
/* Resize r (whose size was just re-read) to size. */
int quota_check_resize(struct call *call, struct region *r, uint64_t size);
/* SetAccess giving r the owner uid and group gid. */
int quota_check_chown(struct call *call, struct region *r, uid_t uid, gid_t gid);

/* Create with prealloc: allocate r's memory now. 0, or the error replied. */
int quota_prealloc(struct call *call, struct region *r);

int method_quotas(struct call *call);
int method_reload(struct call *call);
