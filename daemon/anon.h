/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Anonymous regions: a memfd_create(2) the daemon makes for a client (libshmd-preload(8)
 * routes memfd_create() here), outside the named namespace. The daemon keeps its own
 * description, hands out a fresh one, and lets go when holder tracking (holdtrack.h) sees
 * the last holder go, so the memory lives exactly as long as the kernel would keep it.
 * Not persisted: after a restart the programs keep their memfds, the daemon no longer
 * lists or charges them (see shmd-varlink(7), CreateAnonymous).
 */
#pragma once

struct call;

/* memfd_create(2)'s MFD_NAME_MAX_LEN: NAME_MAX minus "memfd:". */
#define ANON_NAME_MAX 249

int method_create_anonymous(struct call *call);
