/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Status's footprint totals: every region (named and anonymous) measured, the small ones on
 * the loop, the large ones (footprint_deferrable()) on the worker in batches of at most
 * STATUS_FOOTPRINT_BATCH duplicated fds, the reply deferred (call.h) until the last batch.
 */
#pragma once

#include <json-c/json.h>

#include "varlink.h"

struct call;

/*
 * The fds one batch job holds. A connection whose call is deferred reads nothing more, so
 * it cannot bring in the VL_MAX_FDS of a request the fd budget (limits.c) keeps for each
 * connection: its batch uses that share, and only one batch per call exists at a time.
 */
#define STATUS_FOOTPRINT_BATCH VL_MAX_FDS

/*
 * Add "footprint" (the sum over every region) to params (taken) and reply, now or from the
 * worker's last completion. Returns what a handler returns.
 */
int status_footprint_reply(struct call *call, json_object *params);
