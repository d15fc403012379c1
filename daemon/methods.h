/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The method table: name -> handler, who may call, fds taken, whether "more" is required. */
#pragma once

#include <stddef.h>
#include <json-c/json.h>

#include "access.h"

struct call;
struct connection;

enum method_flags {
	METHOD_NEEDS_MORE = 1 << 0, /* streamed: refused without "more" (ExpectedMore) */
	METHOD_AUDIT = 1 << 1,	    /* changes state: every call is audited (call_audit()) */
};

struct method {
	const char *name; /* fully qualified: interface.Method */
	int (*handler)(struct call *call);
	/* Parameters the method accepts; any other key is refused. NULL-terminated. */
	const char *const *parameters;
	/* What the caller needs on the named region (methods acting on one). */
	enum access_need need;
	size_t max_fds;
	unsigned flags;
};

/* Handle one request (msg borrowed, fds taken). dropped: fds the kernel already closed. */
void methods_dispatch(struct connection *c, json_object *msg, int *fds, size_t n_fds,
		      size_t dropped);
