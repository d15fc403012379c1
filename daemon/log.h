/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Daemon logging: to stderr or to the journal, filtered by level. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "macro.h"

enum log_target {
	LOG_TARGET_AUTO,
	LOG_TARGET_CONSOLE,
	LOG_TARGET_JOURNAL,
};

/* -EINVAL for an unknown name. */
int log_target_from_string(const char *s);
int log_level_from_string(const char *s);

void log_setup(enum log_target target, int max_level);
void log_msg(int prio, const char *fmt, ...) _printf_(2, 3);
/* Logs fmt followed by ": strerror(err)"; returns -|err| for "return log_errno(...)". */
int log_errno(int prio, int err, const char *fmt, ...) _printf_(3, 4);

/* Would a message at prio be logged? (To skip building one that would not.) */
bool log_enabled(int prio);
/* Do records go to the journal (their fields are used) rather than the console? */
bool log_to_journal(void);
/*
 * One structured record: to the journal, MESSAGE=message, PRIORITY= and the fields
 * ("KEY=value", n of them); to the console, the message alone on one line.
 */
void log_record(int prio, const char *message, char *const *fields, size_t n);
/*
 * Between these, console records (log_record()) are gathered and written at once by
 * log_batch_end(); any other message writes them first, so the order stays. The journal
 * gets each record at once.
 */
void log_batch_begin(void);
void log_batch_end(void);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
