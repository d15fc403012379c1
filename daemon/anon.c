/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Anonymous regions: memfd_create(2) through the daemon, alive while a holder holds them. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "anon.h"
#include "call.h"
#include "holdtrack.h"
#include "intern.h"
#include "log.h"
#include "macro.h"
#include "methods-quota.h"
#include "name.h"
#include "quota.h"
#include "region.h"
#include "seals.h"
#include "server.h"

static uint64_t realtime_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The memfd's name: "name" (UTF-8) or "nameBase64", 0 to 249 bytes without NUL. */
static int param_memfd_name(struct call *call, char **ret)
{
	json_object *plain = NULL, *b64 = NULL;
	size_t len;

	json_object_object_get_ex(call->params, "name", &plain);
	json_object_object_get_ex(call->params, "nameBase64", &b64);
	if (!plain == !b64)
		return call_invalid(call, "name",
				    plain ? "give name or nameBase64, not both" : "missing");
	json_object *v = plain ? plain : b64;
	const char *key = plain ? "name" : "nameBase64";
	if (!json_object_is_type(v, json_type_string))
		return call_invalid(call, key, "not a string");
	const char *s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (b64) {
		if (base64_decode(s, len, ret, &len) < 0)
			return call_invalid(call, key, "not base64");
	} else if (!(*ret = strndup(s, len)))
		return call_system_error(call, "malloc", -ENOMEM);
	if (strlen(*ret) != len || len > ANON_NAME_MAX) {
		free(*ret);
		*ret = NULL;
		return call_invalid(call, key,
				    len > ANON_NAME_MAX ? "longer than 249 bytes" :
							  "contains a NUL byte");
	}
	return 0;
}

/* The memfd, as memfd_create(2) makes it for the caller: its flags, owned by the caller. */
static int anon_memfd(struct call *call, const char *name, unsigned flags, int *ret)
{
	/* MFD_CLOEXEC is the caller's descriptor's business; the daemon's is always close-on-exec. */
	int fd = memfd_create(name, flags | MFD_CLOEXEC);
	if (fd < 0 && errno == EINVAL)
		return call_invalid(call, "flags", "refused by memfd_create(2)");
	if (fd < 0 && (errno == EMFILE || errno == ENFILE))
		return call_limit(call, "fileDescriptors", call->server->limits.max_fds);
	if (fd < 0)
		return call_system_error(call, "memfd_create", -errno);
	/* The kernel makes it the caller's (fsuid, fsgid); an unprivileged daemon cannot. */
	if (fchown(fd, call->caller.uid, call->caller.gid) < 0 && geteuid() == 0) {
		int err = -errno;
		close(fd);
		return call_system_error(call, "fchown", err);
	}
	*ret = fd;
	return 0;
}

static struct region *anon_region(struct call *call, char *name, int fd)
{
	struct region *r = calloc(1, sizeof(*r));
	struct stat st;

	if (!r || fstat(fd, &st) < 0) {
		free(r);
		return NULL;
	}
	*r = (struct region){
		.id = call->server->registry.next_id++,
		.name = name,
		.fd = fd,
		.uid = st.st_uid,
		.gid = st.st_gid,
		.mode = st.st_mode & 07777,
		.creator = { call->caller.uid, call->caller.gid, call->caller.pid,
			     call->caller.unit },
		.anonymous = true,
		/* Its seals are the program's to set: none is "foreign", none is logged. */
		.foreign_logged = ~0u,
	};
	r->creator.unit = intern_ref(call->caller.unit); /* region_free() lets go of it */
	r->created_usec = r->changed_usec = realtime_usec();
	r->applied_seals = region_seals(r);
	return r;
}

static int reply(struct call *call, struct region *r, int fd, bool with_region)
{
	struct text t;

	text_init(&t);
	text_lit(&t, "{\"parameters\":{");
	if (with_region) {
		text_lit(&t, "\"region\":");
		text_region(&t, r, false);
		text_lit(&t, ",");
	}
	text_lit(&t, "\"fileDescriptor\":0}}");
	int ret = call_reply_text(call, &t, fd);
	text_done(&t);
	return ret;
}

int method_create_anonymous(struct call *call)
{
	struct server *s = call->server;
	_cleanup_free_ char *name = NULL;
	bool with_region = true;
	uint64_t flags = 0;
	int memfd = -1;

	if (param_memfd_name(call, &name) < 0 ||
	    param_uint(call, "flags", UINT32_MAX, &flags) < 0 ||
	    param_bool(call, "withRegion", &with_region) < 0)
		return -EINVAL;
	if (s->registry.n_regions + s->holdtrack.n_anonymous >= s->limits.max_regions)
		return call_limit(call, "regions", s->limits.max_regions);
	if (quota_check_anonymous(call, name) < 0 ||
	    anon_memfd(call, name, (unsigned)flags, &memfd) < 0)
		return -EINVAL;
	struct region *r = anon_region(call, name, memfd);
	if (!r) {
		safe_close(memfd);
		return call_system_error(call, "malloc", -ENOMEM);
	}
	TAKE_PTR(name);
	holdtrack_watch(s, r); /* before the handout, which it counts */
	int fd = region_open(r, true);
	if (fd < 0) {
		holdtrack_discard(s, r);
		return call_system_error(call, "open", fd);
	}
	holdtrack_sync(s); /* its IN_OPEN, read now (see holdtrack.h) */
	quota_charge(&s->quota, r);
	quota_writable(&s->quota, r); /* the program sizes it with ftruncate(2) */
	int ret = reply(call, r, fd, with_region);
	holdtrack_keep_anonymous(s, r); /* from now on it lives as long as its holders */
	return ret;
}
