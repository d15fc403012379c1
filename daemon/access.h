/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Access policy: who may open or change a region, as data. */
#pragma once

#include "peer.h"
#include "region.h"

enum access_need {
	NEED_NOTHING,	 /* Create, Stat, List, Status: anyone */
	NEED_READ,	 /* Open read-only */
	NEED_READ_WRITE, /* Open read-write */
	NEED_OWNER,	 /* Resize, Rename, Delete, Seal, SetAccess */
};

/* NULL when allowed, else the reason for PermissionDenied. Administrators pass every check. */
const char *access_check(const struct caller *c, const struct region *r, enum access_need need);

/* Can c give r these owner/group ids (SetAccess)? NULL or the reason. */
const char *access_check_chown(const struct caller *c, const struct region *r, uid_t uid,
			       gid_t gid);
