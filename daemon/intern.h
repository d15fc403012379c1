/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interned, reference-counted strings, so many regions of one unit share one copy of its name. */
#pragma once

/* Returns the pooled copy of s with one more reference; NULL for NULL or on OOM. */
const char *intern_ref(const char *s);
/* Drop a reference from intern_ref(); NULL is ignored. */
void intern_unref(const char *s);
