/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The listing iterator: one List call with "more", one streamed reply per region. */

#include <string.h>

#include "libshmd-private.h"
#include "name.h"

struct shmd_list {
	struct shmd_ctx *ctx;	   /* a reference */
	uint64_t conn_id;	   /* the connection the replies come on */
	bool done;		   /* no more replies will be read */
	int error;		   /* why the listing stopped early (sticky), or 0 */
	struct shmd_region *first; /* read by shmd_list(), handed out by the first next */
};

/* Is this iterator still the one reading on its context's connection (and process)? */
static bool list_is_current(const struct shmd_list *l)
{
	return l->ctx->list == l && l->ctx->fd >= 0 && l->ctx->conn_id == l->conn_id &&
	       !ctx_forked(l->ctx);
}

/* Stop reading: the last reply came, or the listing failed with err (negative) or 0. */
static void list_finish(struct shmd_list *l, int err)
{
	l->done = true;
	if (err < 0 && !l->error)
		l->error = err;
	if (l->ctx->list == l)
		l->ctx->list = NULL;
}

/*
 * Read one streamed reply. 1 and *ret for a region, 0 at the end, or -errno.
 * A daemon error ends the call (Varlink sends no reply after an error), so the
 * connection stays usable; a malformed reply leaves it out of step, so it is dropped.
 */
static int list_read(struct shmd_list *l, struct shmd_region **ret)
{
	struct shmd_ctx *ctx = l->ctx;
	_cleanup_json_ json_object *reply = NULL;
	json_object *obj;

	if (!list_is_current(l)) {
		list_finish(l, -ECONNRESET);
		return ctx_fail(ctx, -ECONNRESET, "the listing's connection is gone");
	}
	/* A streamed reply never carries fds; call_receive closes any. */
	int r = call_receive(ctx, &reply, NULL, NULL);
	if (r < 0) {
		list_finish(l, r);
		return r;
	}
	bool continues = vl_message_flag(reply, "continues");

	if (!json_object_object_get_ex(vl_message_parameters(reply), "region", &obj) ||
	    json_object_is_type(obj, json_type_null)) {
		if (continues) {
			/* Only the final reply may come without a region. */
			ctx_disconnect(ctx);
			list_finish(l, -EPROTO);
			return ctx_fail(ctx, -EPROTO, "streamed List reply without a region");
		}
		list_finish(l, 0);
		return 0;
	}
	r = region_from_json(obj, ret);
	if (r < 0) {
		if (continues)
			ctx_disconnect(ctx);
		list_finish(l, r);
		return r == -EPROTO ? ctx_fail(ctx, r, "malformed region in a List reply") : r;
	}
	if (!continues)
		list_finish(l, 0);
	return 1;
}

static void list_free(struct shmd_list *l)
{
	if (l->ctx->list == l)
		l->ctx->list = NULL;
	shmd_region_unref(l->first);
	shmd_ctx_unref(l->ctx);
	free(l);
}

static int do_list(struct shmd_ctx *ctx, const char *prefix, unsigned flags, struct shmd_list **ret)
{
	_cleanup_json_ json_object *p = NULL;
	int r;

	if (!ret)
		return ctx_fail(ctx, -EINVAL, "no place for the listing");
	p = json_object_new_object();
	if (!p)
		return -ENOMEM;
	if ((flags & SHMD_LIST_FOOTPRINT) &&
	    json_object_object_add(p, "footprint", json_object_new_boolean(true)) < 0)
		return -ENOMEM;
	if (prefix && *prefix) {
		r = json_add_name(p, "prefix", prefix);
		if (r < 0)
			return r;
	}
	if ((flags & SHMD_LIST_DELETED) &&
	    json_object_object_add(p, "deleted", json_object_new_boolean(true)) < 0)
		return -ENOMEM;

	struct shmd_list *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	r = call_begin(ctx);
	if (r >= 0)
		r = call_send(ctx, "io.shmd.Manager.List", TAKE_PTR(p), true);
	if (r < 0) {
		free(l);
		return r;
	}
	l->ctx = shmd_ctx_ref(ctx);
	l->conn_id = ctx->conn_id;
	ctx->list = l;

	/*
	 * Read the first reply now, so that a refused call (invalid prefix,
	 * permission, limits) fails here and not at the first shmd_list_next().
	 */
	r = list_read(l, &l->first);
	if (r < 0) {
		list_free(l);
		return r;
	}
	*ret = l;
	return 0;
}

_export_ int shmd_list(struct shmd_ctx *ctx, const char *prefix, struct shmd_list **ret)
{
	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	return ctx_finish(ctx, do_list(ctx, prefix, 0, ret));
}

_export_ int shmd_list_flags(struct shmd_ctx *ctx, const char *prefix, unsigned flags,
			     struct shmd_list **ret)
{
	if (!ctx || (flags & ~(SHMD_LIST_FOOTPRINT | SHMD_LIST_DELETED)))
		return -EINVAL;
	ctx_clear_error(ctx);
	return ctx_finish(ctx, do_list(ctx, prefix, flags, ret));
}

static int do_list_next(struct shmd_list *l, struct shmd_region **ret)
{
	if (l->first && ctx_forked(l->ctx)) {
		/* The parent's listing, even the reply already read, is not the child's. */
		l->first = shmd_region_unref(l->first);
		list_finish(l, -ECONNRESET);
	}
	if (l->first) {
		*ret = TAKE_PTR(l->first);
		return 1;
	}
	if (l->error)
		return ctx_fail(l->ctx, l->error, "the listing failed earlier: %s",
				strerror(-l->error));
	if (l->done)
		return 0;
	return list_read(l, ret);
}

_export_ int shmd_list_next(struct shmd_list *list, struct shmd_region **ret)
{
	if (!list)
		return -EINVAL;
	ctx_clear_error(list->ctx);
	if (!ret)
		return ctx_finish(list->ctx,
				  ctx_fail(list->ctx, -EINVAL, "no place for the region"));
	return ctx_finish(list->ctx, do_list_next(list, ret));
}

_export_ struct shmd_list *shmd_list_free(struct shmd_list *list)
{
	if (!list)
		return NULL;
	/*
	 * Replies still in flight would be read as the answer to the next call.
	 * Draining could take long for a big registry; closing the connection is
	 * O(1), and the next call connects again.
	 */
	if (!list->done && list_is_current(list)) {
		ctx_dbg(list->ctx, "listing freed early, closing the connection");
		ctx_disconnect(list->ctx);
	}
	list_free(list);
	return NULL;
}
