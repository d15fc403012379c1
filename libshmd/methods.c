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
	/* A caller that wants no region asked for none ("withRegion": false). */
	if (ret_region) {
		r = region_from_reply(ctx, reply, &region);
		if (r < 0)
			return r;
	}
	if (ret_fd)
		*ret_fd = TAKE_FD(fd);
	if (ret_region)
		*ret_region = region;
	return 0;
}

/* An older daemon refused "withRegion" as unknown: remember it, so the call goes again. */
static bool with_region_refused(struct shmd_ctx *ctx, int r)
{
	if (r != -EINVAL || !ctx->error_name || !ctx->error_parameters ||
	    strcmp(ctx->error_name, "io.shmd.Manager.InvalidParameter") != 0)
		return false;
	_cleanup_json_ json_object *params = json_tokener_parse(ctx->error_parameters);
	const char *key = params ? json_get_str(params, "parameter") : NULL;
	if (!key || strcmp(key, "withRegion") != 0)
		return false;
	ctx_dbg(ctx, "the daemon does not know \"withRegion\": asking for regions");
	ctx->no_with_region = true;
	return true;
}

/*
 * Make a region call whose members are written in t. Without a region wanted, ask for none:
 * the reply is ~40 bytes instead of ~300 and the daemon reads no size or seals for it. A
 * daemon that refuses "withRegion" is asked again without it (and not again on this
 * connection).
 */
static int region_call_text(struct shmd_ctx *ctx, const char *method, struct text *t,
			    bool want_region, json_object **reply, int *fds, size_t *n_fds)
{
	size_t members_end = t->len;
	bool brief = !want_region && !ctx->no_with_region;

	if (brief)
		text_lit(t, ",\"withRegion\":false");
	int r = call_method_text(ctx, method, t, reply, fds, n_fds);
	if (brief && with_region_refused(ctx, r)) {
		text_truncate(t, members_end);
		r = call_method_text(ctx, method, t, reply, fds, n_fds);
	}
	return r;
}

/* Start a call about one region, as text: clear the error, write {"name": ...}. */
static int begin_named_text(struct shmd_ctx *ctx, const char *method, const char *name,
			    struct text *t)
{
	ctx_clear_error(ctx);
	int r = check_name(ctx, "region name", name);
	if (r < 0)
		return r;
	call_text_begin(t, method);
	text_name(t, "name", name);
	return 0;
}

static int create_call(struct shmd_ctx *ctx, const char *name, uint64_t size, mode_t mode,
		       unsigned flags, unsigned seals, bool with_fd, struct text *t)
{
	int r = begin_named_text(ctx, "io.shmd.Manager.Create", name, t);
	if (r < 0)
		return r;
	if (flags & ~(unsigned)(SHMD_CREATE_OPEN_EXISTING | SHMD_CREATE_FIXED |
				SHMD_CREATE_PREALLOC | SHMD_CREATE_NOSPILL))
		return ctx_fail(ctx, -EINVAL, "unknown create flags 0x%x", flags);
	if (size > WIRE_INT_MAX)
		return ctx_fail(ctx, -EINVAL, "size too large");
	if (seals & ~(unsigned)SHMD_SEAL_ALL)
		return ctx_fail(ctx, -EINVAL, "unknown seals 0x%x", seals);

	text_lit(t, ",\"size\":");
	text_uint(t, size);
	text_lit(t, ",\"mode\":");
	text_uint(t, mode);
	if (flags & SHMD_CREATE_FIXED)
		text_lit(t, ",\"fixed\":true");
	if (flags & SHMD_CREATE_PREALLOC)
		text_lit(t, ",\"prealloc\":true");
	if (flags & SHMD_CREATE_NOSPILL)
		text_lit(t, ",\"nospill\":true");
	if (seals) {
		text_lit(t, ",\"seals\":");
		text_seals(t, seals);
	}
	if (flags & SHMD_CREATE_OPEN_EXISTING)
		text_lit(t, ",\"exclusive\":false");
	if (with_fd)
		text_lit(t, ",\"access\":\"read_write\"");
	else
		text_lit(t, ",\"access\":\"none\"");
	return 0;
}

int create_region(struct shmd_ctx *ctx, const char *name, uint64_t size, mode_t mode,
		  unsigned flags, unsigned seals, int *ret_fd, struct shmd_region **ret_region,
		  bool *ret_created)
{
	_cleanup_json_ json_object *reply = NULL;
	int fds[VL_MAX_FDS];
	size_t n_fds = 0;

	struct text t;
	text_init(&t);
	int r = create_call(ctx, name, size, mode, flags, seals, ret_fd, &t);
	if (r >= 0)
		r = region_call_text(ctx, "io.shmd.Manager.Create", &t, ret_region != NULL, &reply,
				     fds, &n_fds);
	text_done(&t);
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
	/* Mode 0 has meant 0600 since 0.1; shmd_create_with() can ask for a real 0. */
	return ctx_finish(ctx, create_region(ctx, name, size, mode ? mode : 0600, flags, seals,
					     ret_fd, ret_region, ret_created));
}

static int open_call(struct shmd_ctx *ctx, const char *name, int oflags, struct text *t)
{
	int r = begin_named_text(ctx, "io.shmd.Manager.Open", name, t);
	if (r < 0)
		return r;
	/* O_CLOEXEC is accepted and implied: every fd we hand out has it. */
	int acc = oflags & O_ACCMODE;
	if ((oflags & ~(O_ACCMODE | O_CLOEXEC)) || (acc != O_RDONLY && acc != O_RDWR))
		return ctx_fail(ctx, -EINVAL, "open flags must be O_RDONLY or O_RDWR");
	if (acc == O_RDWR)
		text_lit(t, ",\"access\":\"read_write\"");
	else
		text_lit(t, ",\"access\":\"read_only\"");
	return 0;
}

static int do_open(struct shmd_ctx *ctx, const char *name, int oflags, int *ret_fd,
		   struct shmd_region **ret_region)
{
	_cleanup_json_ json_object *reply = NULL;
	int fds[VL_MAX_FDS];
	size_t n_fds = 0;

	if (!ret_fd)
		return ctx_fail(ctx, -EINVAL, "no place for the file descriptor");
	struct text t;
	text_init(&t);
	int r = open_call(ctx, name, oflags, &t);
	if (r >= 0)
		r = region_call_text(ctx, "io.shmd.Manager.Open", &t, ret_region != NULL, &reply,
				     fds, &n_fds);
	text_done(&t);
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
	_cleanup_json_ json_object *reply = NULL;
	struct text t;
	text_init(&t);
	int r = begin_named_text(ctx, "io.shmd.Manager.Delete", name, &t);
	if (r >= 0)
		r = call_method_text(ctx, "io.shmd.Manager.Delete", &t, &reply, NULL, NULL);
	text_done(&t);
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

/* Spill or Restore: both answer when the data has moved. */
static int spill_call(struct shmd_ctx *ctx, const char *method, const char *name,
		      struct shmd_region **ret)
{
	if (!ctx)
		return -EINVAL;
	json_object *p = NULL;
	int r = begin_named(ctx, name, &p);
	if (r >= 0)
		r = region_call(ctx, method, p, ret);
	return ctx_finish(ctx, r);
}

_export_ int shmd_spill(struct shmd_ctx *ctx, const char *name, struct shmd_region **ret_region)
{
	return spill_call(ctx, "io.shmd.Manager.Spill", name, ret_region);
}

_export_ int shmd_restore(struct shmd_ctx *ctx, const char *name, struct shmd_region **ret_region)
{
	return spill_call(ctx, "io.shmd.Manager.Restore", name, ret_region);
}
