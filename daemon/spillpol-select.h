/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which idle regions to spill: least recently used first, until usage is under a target. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct region;

/* A region that may be spilled now, with what spilling it would free. */
struct spillpol_candidate {
	struct region *region;
	uint64_t id;		/* ties in last_use_usec: the older region (lower id) first */
	uint64_t bytes;		/* allocated bytes (st_blocks), what a spill frees */
	uint64_t last_use_usec; /* the later of its last Open and its last holder's close */
};

/*
 * Sort c[] least recently used first and return how many of them, from the front, to spill
 * so that usage minus their bytes is at most target (all of them when even that is not
 * enough; 0 when usage is already at most target). Regions holding no data (bytes 0) free
 * nothing and are never chosen.
 */
size_t spillpol_select(struct spillpol_candidate *c, size_t n, uint64_t usage, uint64_t target);

/*
 * The target of one evaluation: under pressure, an eighth less than usage (at least one
 * page's worth) or low if that is lower; else low once usage passes high, else usage (no
 * spilling). high and low are CONF_UNLIMITED when water marks are off.
 */
uint64_t spillpol_target(uint64_t usage, uint64_t high, uint64_t low, int pressure);
