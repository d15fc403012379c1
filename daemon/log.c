/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Daemon logging: to stderr or to the journal, filtered by level. */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "log.h"

static enum log_target log_target = LOG_TARGET_CONSOLE;
static int log_max_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERR] = "err",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int log_target_from_string(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return LOG_TARGET_AUTO;
	if (strcmp(s, "console") == 0)
		return LOG_TARGET_CONSOLE;
	if (strcmp(s, "journal") == 0)
		return LOG_TARGET_JOURNAL;
	return -EINVAL;
}

int log_level_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
		if (level_names[i] && strcmp(level_names[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

/* systemd sets JOURNAL_STREAM=dev:ino when stderr is connected to the journal. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(enum log_target target, int max_level)
{
	if (target == LOG_TARGET_AUTO)
		target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_CONSOLE;
	log_target = target;
	log_max_level = max_level;
}

/*
 * Console records of one batch of requests (log_batch_begin() .. log_batch_end()), written
 * with one write() at its end: at 16 busy clients every Create and Delete logs an audit line,
 * and a write() each was ~5% of the daemon's CPU per request.
 */
static struct {
	bool on;
	size_t len;
	char buf[16 * 1024];
} batch;

static void batch_flush(void)
{
	size_t off = 0;

	while (off < batch.len) {
		ssize_t n = write(STDERR_FILENO, batch.buf + off, batch.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* stderr gone or full: the console has nowhere to put it */
		off += (size_t)n;
	}
	batch.len = 0;
}

void log_batch_begin(void)
{
	batch.on = true;
}

void log_batch_end(void)
{
	batch_flush();
	batch.on = false;
}

/* "shmd: message\n" to stderr, or to the batch; what came before stays before. */
static void console_line(const char *message)
{
	size_t len = strlen(message);

	if (batch.on && sizeof(batch.buf) - batch.len >= len + 7) {
		memcpy(batch.buf + batch.len, "shmd: ", 6);
		memcpy(batch.buf + batch.len + 6, message, len);
		batch.buf[batch.len + 6 + len] = '\n';
		batch.len += len + 7;
		if (sizeof(batch.buf) - batch.len < 1024)
			batch_flush();
		return;
	}
	batch_flush();
	fprintf(stderr, "shmd: %s\n", message);
}

static void log_va(int prio, const char *suffix, const char *fmt, va_list ap)
{
	char buf[1024];

	if (prio > log_max_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_target == LOG_TARGET_JOURNAL)
		sd_journal_print(prio, "%s%s", buf, suffix);
	else {
		batch_flush();
		fprintf(stderr, "shmd: %s%s\n", buf, suffix);
	}
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_va(prio, "", fmt, ap);
	va_end(ap);
}

int log_errno(int prio, int err, const char *fmt, ...)
{
	char suffix[128];
	va_list ap;

	err = abs(err);
	snprintf(suffix, sizeof(suffix), ": %s", strerror(err));
	va_start(ap, fmt);
	log_va(prio, suffix, fmt, ap);
	va_end(ap);
	return -err;
}

bool log_enabled(int prio)
{
	return prio <= log_max_level;
}

bool log_to_journal(void)
{
	return log_target == LOG_TARGET_JOURNAL;
}

void log_record(int prio, const char *message, char *const *fields, size_t n)
{
	char prio_field[16];
	struct iovec iov[2 + 16];
	_cleanup_free_ char *msg_field = NULL;

	if (prio > log_max_level)
		return;
	if (log_target != LOG_TARGET_JOURNAL || n > ELEMENTSOF(iov) - 2 ||
	    asprintf(&msg_field, "MESSAGE=%s", message) < 0) {
		console_line(message);
		return;
	}
	snprintf(prio_field, sizeof(prio_field), "PRIORITY=%d", prio);
	iov[0] = (struct iovec){ msg_field, strlen(msg_field) };
	iov[1] = (struct iovec){ prio_field, strlen(prio_field) };
	for (size_t i = 0; i < n; i++)
		iov[2 + i] = (struct iovec){ fields[i], strlen(fields[i]) };
	sd_journal_sendv(iov, (int)(2 + n));
}
