/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Access policy: who may open or change a region, as data. */

#include <sys/stat.h>

#include "access.h"

/* Permission bits per class, as in inode_permission(): the first matching class decides. */
static mode_t class_bits(const struct caller *c, const struct region *r)
{
	if (c->uid == r->uid)
		return (r->mode >> 6) & 7;
	if (caller_in_group(c, r->gid))
		return (r->mode >> 3) & 7;
	return r->mode & 7;
}

const char *access_check(const struct caller *c, const struct region *r, enum access_need need)
{
	mode_t bits;

	if (need == NEED_NOTHING || c->admin)
		return NULL;
	if (need == NEED_OWNER)
		return c->uid == r->uid ? NULL : "not the owner";

	bits = class_bits(c, r);
	if (need == NEED_READ_WRITE && !(bits & 6))
		return "no read or write permission";
	if (!(bits & 4))
		return "no read permission";
	if (need == NEED_READ_WRITE && !(bits & 2))
		return "no write permission";
	return NULL;
}

const char *access_check_chown(const struct caller *c, const struct region *r, uid_t uid, gid_t gid)
{
	if (c->admin)
		return NULL;
	if (c->uid != r->uid)
		return "not the owner";
	if (uid != r->uid)
		return "only an administrator may change the owner";
	if (gid != r->gid && !caller_in_group(c, gid))
		return "not a member of the new group";
	return NULL;
}
