/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A memory-pressure (PSI) trigger on /proc/pressure/memory, polled from the event loop. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "psi.h"

#define PSI_PATH "/proc/pressure/memory"
/* Unprivileged triggers (no CAP_SYS_RESOURCE) must use a window that is a multiple of this. */
#define PSI_UNPRIV_WINDOW_US 2000000ULL

void psi_init(struct psi *p)
{
	*p = (struct psi){ .fd = -1 };
}

void psi_done(struct psi *p)
{
	p->source = sd_event_source_disable_unref(p->source);
	p->fd = safe_close(p->fd);
	p->trigger[0] = '\0';
}

static int on_pressure(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct psi *p = userdata;

	if (revents & (EPOLLERR | EPOLLHUP)) {
		/* The cgroup or the file went away (not for the global file): stop, once. */
		log_warning("memory pressure trigger: the kernel closed it; going on without");
		psi_done(p);
		return 0;
	}
	p->events++;
	p->fn(p->userdata);
	return 0;
}

/* Open the file and write the trigger (with its NUL, as the kernel documentation does). */
static int write_trigger(const char *trigger, int *ret)
{
	_cleanup_close_ int fd = open(PSI_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return negative_errno();
	if (write(fd, trigger, strlen(trigger) + 1) < 0)
		return negative_errno();
	*ret = TAKE_FD(fd);
	return 0;
}

/* The trigger with its window rounded up to a multiple of 2 s, or false if already one. */
static bool round_window(const char *trigger, char *buf, size_t size)
{
	char kind[8];
	unsigned long long stall, window;

	if (sscanf(trigger, "%7s %llu %llu", kind, &stall, &window) != 3 ||
	    window % PSI_UNPRIV_WINDOW_US == 0)
		return false;
	window = (window / PSI_UNPRIV_WINDOW_US + 1) * PSI_UNPRIV_WINDOW_US;
	snprintf(buf, size, "%s %llu %llu", kind, stall, window);
	return true;
}

int psi_arm(struct psi *p, sd_event *event, const char *trigger, psi_fn fn, void *userdata)
{
	char rounded[sizeof(p->trigger)];
	int fd = -1, r;

	psi_done(p);
	if (!trigger || !*trigger)
		return 0;
	r = write_trigger(trigger, &fd);
	if (r == -EINVAL && round_window(trigger, rounded, sizeof(rounded))) {
		/* Most likely no CAP_SYS_RESOURCE (shmd drops it): the kernel's unprivileged rule. */
		log_notice("memory pressure trigger '%s' refused; trying '%s' (without "
			   "CAP_SYS_RESOURCE the window must be a multiple of 2 s)",
			   trigger, rounded);
		trigger = rounded;
		r = write_trigger(trigger, &fd);
	}
	if (r < 0) {
		log_warning("memory pressure trigger '%s' on " PSI_PATH ": %s; spilling goes on "
			    "with the water marks alone",
			    trigger, strerror(-r));
		return 0;
	}
	r = sd_event_add_io(event, &p->source, fd, EPOLLPRI, on_pressure, p);
	if (r < 0) {
		safe_close(fd);
		return log_errno(LOG_ERR, r, "memory pressure trigger: cannot poll it");
	}
	p->fd = fd;
	p->fn = fn;
	p->userdata = userdata;
	snprintf(p->trigger, sizeof(p->trigger), "%s", trigger);
	log_info("memory pressure trigger armed: '%s' on " PSI_PATH, trigger);
	return 0;
}
