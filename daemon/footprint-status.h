/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Status's footprint totals: every region (named and anonymous) measured, the small ones on
 * the loop, the large ones (footprint_deferrable(), or all but the first few MiB of the
 * medium ones, see STATUS_FOOTPRINT_SMALL) on the worker in batches of at most
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
 * Measured on the loop whatever the others: up to this many allocated bytes, a region's
 * cachestat(2) (~1 us + ~2.6 us per MiB) costs the loop no more than the dup() and close()
 * of sending it to the worker. Larger ones are measured on the loop only until they add up
 * to FOOTPRINT_INLINE_MAX, so 10,000 regions of 8 MiB do not hold the loop for 0.2 s.
 */
#define STATUS_FOOTPRINT_SMALL (1ull << 20)

/*
 * Add "footprint" (the sum over every region) to params (taken) and reply, now or from the
 * worker's last completion. Returns what a handler returns.
 */
int status_footprint_reply(struct call *call, json_object *params);
