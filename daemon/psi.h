/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A memory-pressure (PSI) trigger on /proc/pressure/memory, polled from the event loop. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef void (*psi_fn)(void *userdata);

struct psi {
	int fd; /* /proc/pressure/memory with the trigger written; -1: off */
	sd_event_source *source;
	char trigger[64]; /* as written (the window may have been rounded up) */
	uint64_t events;  /* POLLPRI wakeups */
	psi_fn fn;
	void *userdata;
};

/*
 * Arm trigger ("some 150000 2000000"; "" or NULL: off) and call fn on the event loop each
 * time the kernel reports the stall was passed in a window (at most once per window).
 * Without CAP_SYS_RESOURCE the kernel takes only windows that are a multiple of 2 s (since
 * 6.5): another window is rounded up to one, with a log line. A kernel without PSI, or one
 * that refuses the trigger: one log line, and 0 with the trigger off (the caller goes on
 * without). Re-arming replaces the old trigger. 0, or -ENOMEM.
 */
int psi_arm(struct psi *p, sd_event *event, const char *trigger, psi_fn fn, void *userdata);
void psi_init(struct psi *p);
void psi_done(struct psi *p);
static inline bool psi_armed(const struct psi *p)
{
	return p->fd >= 0;
}
