/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The listing iterator: one List call with "more", one streamed reply per region. */

#include "libshmd-private.h"
#include "name.h"

struct shmd_list {
	struct shmd_ctx *ctx; /* a reference */
	uint64_t conn_id;     /* the connection the replies come on */
	pid_t pid;	      /* the process that sent the call */
	bool done;	      /* the last reply (without "continues") was read */
};

/* Is this iterator still the one reading on its context's connection? */
static bool list_is_current(const struct shmd_list *l)
{
	return l->ctx->list == l && l->ctx->fd >= 0 && l->ctx->conn_id == l->conn_id &&
	       l->pid == getpid();
}

static int do_list(struct shmd_ctx *ctx, const char *prefix, struct shmd_list **ret)
{
	_cleanup_json_ json_object *p = json_object_new_object();
	if (!p)
		return -ENOMEM;
	if (prefix && *prefix && json_add_name(p, "prefix", prefix) < 0)
		return -ENOMEM;
	if (!ret)
		return ctx_fail(ctx, -EINVAL, "no place for the listing");

	struct shmd_list *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;

	int r = call_begin(ctx);
	if (r >= 0)
		r = call_send(ctx, "io.shmd.Manager.List", TAKE_PTR(p), true);
	if (r < 0) {
		free(l);
		return r;
	}
	l->ctx = shmd_ctx_ref(ctx);
	l->conn_id = ctx->conn_id;
	l->pid = getpid();
	ctx->list = l;
	*ret = l;
	return 0;
}

_export_ int shmd_list(struct shmd_ctx *ctx, const char *prefix, struct shmd_list **ret)
{
	ctx_clear_error(ctx);
	return ctx_finish(ctx, do_list(ctx, prefix, ret));
}

static void list_finish(struct shmd_list *l)
{
	l->done = true;
	if (l->ctx->list == l)
		l->ctx->list = NULL;
}

static int do_list_next(struct shmd_list *l, struct shmd_region **ret)
{
	struct shmd_ctx *ctx = l->ctx;
	_cleanup_json_ json_object *reply = NULL;
	json_object *obj;

	if (l->done)
		return 0;
	if (!list_is_current(l)) {
		l->done = true;
		return ctx_fail(ctx, -ECONNRESET, "the listing's connection is gone");
	}
	/* A streamed reply never carries fds; call_receive closes any. */
	int r = call_receive(ctx, &reply, NULL, NULL);
	if (r < 0) {
		list_finish(l);
		return r;
	}
	if (!vl_message_flag(reply, "continues"))
		list_finish(l);

	if (!json_object_object_get_ex(vl_message_parameters(reply), "region", &obj) ||
	    json_object_is_type(obj, json_type_null)) {
		if (!l->done) {
			/* Only the final reply may come without a region. */
			ctx_disconnect(ctx);
			l->done = true;
			return ctx_fail(ctx, -EPROTO, "streamed List reply without a region");
		}
		return 0;
	}
	r = region_from_json(obj, ret);
	if (r < 0) {
		if (!l->done)
			ctx_disconnect(ctx);
		l->done = true;
		return r == -EPROTO ? ctx_fail(ctx, r, "malformed region in a List reply") : r;
	}
	return 1;
}

_export_ int shmd_list_next(struct shmd_list *list, struct shmd_region **ret)
{
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
	if (list->ctx->list == list)
		list->ctx->list = NULL;
	shmd_ctx_unref(list->ctx);
	free(list);
	return NULL;
}
