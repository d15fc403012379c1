/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The region methods: create, open, stat, resize, rename, delete, seal and set access. */

#include <fcntl.h>
#include <string.h>

#include "libshmd-private.h"
#include "name.h"
#include "seals.h"

/* Sizes, modes and ids travel as JSON int64. */
#define WIRE_INT_MAX ((uint64_t)INT64_MAX)

static int check_name(struct shmd_ctx *ctx, const char *key, const char *name)
{
	if (!name)
		return ctx_fail(ctx, -EINVAL, "no %s given", key);
	return 0;
}

/* Start a call about one region: clear the error and build {name: ...}. */
static int begin_named(struct shmd_ctx *ctx, const char *name, json_object **ret)
{
	ctx_clear_error(ctx);
	int r = check_name(ctx, "region name", name);
	if (r < 0)
		return r;
	*ret = params_with_name("name", name);
	return *ret ? 0 : -ENOMEM;
}

/* Take the reply's "fileDescriptor" out of fds; the others are closed. */
static int take_fd(struct shmd_ctx *ctx, json_object *reply, int *fds, size_t n_fds, int *ret)
{
	uint64_t index;
	int r = json_get_u64(vl_message_parameters(reply), "fileDescriptor", &index);

	if (r < 0 || index >= n_fds) {
		close_fds(fds, n_fds);
		return ctx_fail(ctx, -EPROTO, "reply without the promised file descriptor");
	}
	*ret = TAKE_FD(fds[index]);
	close_fds(fds, n_fds);
	return 0;
}

/* Finish a method whose reply is a region (and maybe an fd). */
static int finish_region_reply(struct shmd_ctx *ctx, json_object *reply, int *fds, size_t n_fds,
			       int *ret_fd, struct shmd_region **ret_region)
{
	_cleanup_close_ int fd = -1;
	struct shmd_region *region = NULL;
	int r;

	if (ret_fd) {
		r = take_fd(ctx, reply, fds, n_fds, &fd);
		if (r < 0)
			return r;
	} else {
		close_fds(fds, n_fds);
	}
	r = region_from_reply(ctx, reply, ret_region ? &region : NULL);
	if (r < 0)
		return r;
	if (ret_fd)
		*ret_fd = TAKE_FD(fd);
	if (ret_region)
		*ret_region = region;
	return 0;
}

static int do_create(struct shmd_ctx *ctx, const char *name, uint64_t size, mode_t mode,
		     unsigned flags, unsigned seals, int *ret_fd, struct shmd_region **ret_region,
		     bool *ret_created)
{
	_cleanup_json_ json_object *p = NULL;
	_cleanup_json_ json_object *reply = NULL;
	int fds[VL_MAX_FDS];
	size_t n_fds = 0;

	int r = begin_named(ctx, name, &p);
	if (r < 0)
		return r;
	if (flags & ~(unsigned)(SHMD_CREATE_OPEN_EXISTING | SHMD_CREATE_FIXED))
		return ctx_fail(ctx, -EINVAL, "unknown create flags 0x%x", flags);
	if (size > WIRE_INT_MAX)
		return ctx_fail(ctx, -EINVAL, "size too large");
	if (seals & ~(unsigned)SHMD_SEAL_ALL)
		return ctx_fail(ctx, -EINVAL, "unknown seals 0x%x", seals);

	json_object_object_add(p, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(p, "mode", json_object_new_int(mode ? (int)mode : 0600));
	if (flags & SHMD_CREATE_FIXED)
		json_object_object_add(p, "fixed", json_object_new_boolean(true));
	if (seals)
		json_object_object_add(p, "seals", seals_to_json(seals));
	if (flags & SHMD_CREATE_OPEN_EXISTING)
		json_object_object_add(p, "exclusive", json_object_new_boolean(false));
	json_object_object_add(p, "access", json_object_new_string(ret_fd ? "read_write" : "none"));

	r = call_method(ctx, "io.shmd.Manager.Create", TAKE_PTR(p), &reply, fds, &n_fds);
	if (r < 0)
		return r;

	bool created = true;
	if (json_get_bool(vl_message_parameters(reply), "created", &created) < 0) {
		close_fds(fds, n_fds);
		return ctx_fail(ctx, -EPROTO, "reply without \"created\"");
	}
	r = finish_region_reply(ctx, reply, fds, n_fds, ret_fd, ret_region);
	if (r >= 0 && ret_created)
		*ret_created = created;
	return r;
}

_export_ int shmd_create(struct shmd_ctx *ctx, const char *name, uint64_t size, mode_t mode,
			 unsigned flags, unsigned seals, int *ret_fd,
			 struct shmd_region **ret_region, bool *ret_created)
{
	if (!ctx)
		return -EINVAL;
	return ctx_finish(ctx, do_create(ctx, name, size, mode, flags, seals, ret_fd, ret_region,
					 ret_created));
}

static int do_open(struct shmd_ctx *ctx, const char *name, int oflags, int *ret_fd,
		   struct shmd_region **ret_region)
{
	_cleanup_json_ json_object *p = NULL;
	_cleanup_json_ json_object *reply = NULL;
	int fds[VL_MAX_FDS];
	size_t n_fds = 0;

	int r = begin_named(ctx, name, &p);
	if (r < 0)
		return r;
	if (!ret_fd)
		return ctx_fail(ctx, -EINVAL, "no place for the file descriptor");
	/* O_CLOEXEC is accepted and implied: every fd we hand out has it. */
	int acc = oflags & O_ACCMODE;
	if ((oflags & ~(O_ACCMODE | O_CLOEXEC)) || (acc != O_RDONLY && acc != O_RDWR))
		return ctx_fail(ctx, -EINVAL, "open flags must be O_RDONLY or O_RDWR");
	json_object_object_add(p, "access",
			       json_object_new_string(acc == O_RDWR ? "read_write" : "read_only"));

	r = call_method(ctx, "io.shmd.Manager.Open", TAKE_PTR(p), &reply, fds, &n_fds);
	if (r < 0)
		return r;
	return finish_region_reply(ctx, reply, fds, n_fds, ret_fd, ret_region);
}

_export_ int shmd_open(struct shmd_ctx *ctx, const char *name, int oflags, int *ret_fd,
		       struct shmd_region **ret_region)
{
	if (!ctx)
		return -EINVAL;
	return ctx_finish(ctx, do_open(ctx, name, oflags, ret_fd, ret_region));
}

/* A method on one region whose reply is that region (or nothing, for Delete). */
static int region_call(struct shmd_ctx *ctx, const char *method, json_object *p,
		       struct shmd_region **ret)
{
	_cleanup_json_ json_object *reply = NULL;

	int r = call_method(ctx, method, p, &reply, NULL, NULL);
	if (r < 0)
		return r;
	return ret ? region_from_reply(ctx, reply, ret) : 0;
}

_export_ int shmd_stat(struct shmd_ctx *ctx, const char *name, struct shmd_region **ret)
{
	if (!ctx)
		return -EINVAL;
	json_object *p = NULL;
	int r = begin_named(ctx, name, &p);
	if (r >= 0 && !ret) {
		json_object_put(p);
		r = ctx_fail(ctx, -EINVAL, "no place for the region");
	}
	if (r >= 0)
		r = region_call(ctx, "io.shmd.Manager.Stat", p, ret);
	return ctx_finish(ctx, r);
}

_export_ int shmd_resize(struct shmd_ctx *ctx, const char *name, uint64_t size, unsigned flags)
{
	if (!ctx)
		return -EINVAL;
	json_object *p = NULL;
	int r = begin_named(ctx, name, &p);
	if (r >= 0 && (size > WIRE_INT_MAX || (flags & ~(unsigned)SHMD_RESIZE_FORCE))) {
		json_object_put(p);
		r = ctx_fail(ctx, -EINVAL,
			     size > WIRE_INT_MAX ? "size too large" : "unknown resize flags");
	}
	if (r >= 0) {
		json_object_object_add(p, "size", json_object_new_int64((int64_t)size));
		if (flags & SHMD_RESIZE_FORCE)
			json_object_object_add(p, "force", json_object_new_boolean(true));
		r = region_call(ctx, "io.shmd.Manager.Resize", p, NULL);
	}
	return ctx_finish(ctx, r);
}

_export_ int shmd_rename(struct shmd_ctx *ctx, const char *name, const char *new_name,
			 unsigned flags)
{
	if (!ctx)
		return -EINVAL;
	json_object *p = NULL;
	int r = begin_named(ctx, name, &p);
	if (r >= 0 && (r = check_name(ctx, "new name", new_name)) >= 0 &&
	    (flags & ~(unsigned)SHMD_RENAME_REPLACE))
		r = ctx_fail(ctx, -EINVAL, "unknown rename flags");
	if (r >= 0 && json_add_name(p, "newName", new_name) < 0)
		r = -ENOMEM;
	if (r < 0) {
		json_object_put(p);
		return ctx_finish(ctx, r);
	}
	if (flags & SHMD_RENAME_REPLACE)
		json_object_object_add(p, "replace", json_object_new_boolean(true));
	return ctx_finish(ctx, region_call(ctx, "io.shmd.Manager.Rename", p, NULL));
}

_export_ int shmd_delete(struct shmd_ctx *ctx, const char *name)
{
	if (!ctx)
		return -EINVAL;
	json_object *p = NULL;
	int r = begin_named(ctx, name, &p);
	if (r >= 0)
		r = region_call(ctx, "io.shmd.Manager.Delete", p, NULL);
	return ctx_finish(ctx, r);
}

_export_ int shmd_seal(struct shmd_ctx *ctx, const char *name, unsigned seals)
{
	if (!ctx)
		return -EINVAL;
	json_object *p = NULL;
	int r = begin_named(ctx, name, &p);
	if (r >= 0 && (seals & ~(unsigned)SHMD_SEAL_ALL)) {
		json_object_put(p);
		r = ctx_fail(ctx, -EINVAL, "unknown seals 0x%x", seals);
	}
	if (r >= 0) {
		json_object_object_add(p, "seals", seals_to_json(seals));
		r = region_call(ctx, "io.shmd.Manager.Seal", p, NULL);
	}
	return ctx_finish(ctx, r);
}

_export_ int shmd_set_access(struct shmd_ctx *ctx, const char *name, mode_t mode, uid_t uid,
			     gid_t gid)
{
	if (!ctx)
		return -EINVAL;
	json_object *p = NULL;
	int r = begin_named(ctx, name, &p);
	if (r < 0)
		return ctx_finish(ctx, r);
	if (mode != (mode_t)-1)
		json_object_object_add(p, "mode", json_object_new_int64(mode));
	if (uid != (uid_t)-1)
		json_object_object_add(p, "uid", json_object_new_int64(uid));
	if (gid != (gid_t)-1)
		json_object_object_add(p, "gid", json_object_new_int64(gid));
	return ctx_finish(ctx, region_call(ctx, "io.shmd.Manager.SetAccess", p, NULL));
}
