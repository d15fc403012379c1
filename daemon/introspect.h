/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.varlink.service: GetInfo and GetInterfaceDescription, so generic clients can introspect. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct call;

int introspect_get_info(struct call *call);
int introspect_get_interface_description(struct call *call);
/* Is the interface (len bytes, not NUL-terminated) one we serve? */
bool introspect_interface_known(const char *interface, size_t len);
