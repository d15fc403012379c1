/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handlers of the named-range, footprint and holder methods (Label, Unlabel, RenameLabel,
 * Ranges, Holders) and the footprint additions to Stat, List and Status. May call the
 * registry, ranges.c, footprint.c and holders.c; the method table stays in methods.c.
 */
#pragma once

#include <stdint.h>
#include <json-c/json.h>

struct call;
struct region;
struct registry;
struct text;

int method_label(struct call *call);
int method_unlabel(struct call *call);
int method_rename_label(struct call *call);
int method_ranges(struct call *call);
int method_holders(struct call *call);

/* Inside text_region(): ",\"ranges\":[...]" when the region has any. */
void text_region_ranges(struct text *t, const struct region *r);
/*
 * After text_region_stat() (allocated: what it returned): put "footprint" inside the Region
 * object just written (its closing brace is the text's last byte), measured on the loop.
 * Measuring failures are logged and leave it out.
 */
void text_region_footprint(struct text *t, struct region *r, uint64_t allocated);
/* Stat with footprint true: the Region with its footprint, measured on the worker if large. */
int reply_stat_footprint(struct call *call, struct region *r);
