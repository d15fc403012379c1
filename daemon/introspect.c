/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.varlink.service: GetInfo and GetInterfaceDescription, so generic clients can introspect. */

#include <string.h>

#include "call.h"
#include "macro.h"
#include "introspect.h"

/* Generated at build time from daemon/io.shmd.Manager.varlink: the contract is the only copy. */
static const char manager_description[] =
#include "io.shmd.Manager.varlink.h"
	;

/* The standard service interface (varlink.org), which every Varlink service implements. */
static const char service_description[] =
	"# The Varlink Service Interface is provided by every varlink service. It\n"
	"# describes the service and the interfaces it implements.\n"
	"interface org.varlink.service\n"
	"\n"
	"# Get a list of all the interfaces a service provides and information\n"
	"# about the implementation.\n"
	"method GetInfo() -> (\n"
	"  vendor: string,\n"
	"  product: string,\n"
	"  version: string,\n"
	"  url: string,\n"
	"  interfaces: []string\n"
	")\n"
	"\n"
	"# Get the description of an interface that is implemented by this service.\n"
	"method GetInterfaceDescription(interface: string) -> (description: string)\n"
	"\n"
	"# The requested interface was not found.\n"
	"error InterfaceNotFound (interface: string)\n"
	"\n"
	"# The requested method was not found\n"
	"error MethodNotFound (method: string)\n"
	"\n"
	"# The interface defines the requested method, but the service does not\n"
	"# implement it.\n"
	"error MethodNotImplemented (method: string)\n"
	"\n"
	"# One of the passed parameters is invalid.\n"
	"error InvalidParameter (parameter: string)\n"
	"\n"
	"# Client is denied access\n"
	"error PermissionDenied ()\n"
	"\n"
	"# Method is expected to be called with 'more' set to true, but wasn't\n"
	"error ExpectedMore ()\n";

static const struct {
	const char *name;
	const char *description;
} interfaces[] = {
	{ "org.varlink.service", service_description },
	{ "io.shmd.Manager", manager_description },
};

bool introspect_interface_known(const char *interface, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(interfaces); i++)
		if (strlen(interfaces[i].name) == len &&
		    memcmp(interfaces[i].name, interface, len) == 0)
			return true;
	return false;
}

int introspect_get_info(struct call *call)
{
	json_object *p = json_object_new_object(), *list = json_object_new_array();

	json_object_object_add(p, "vendor", json_object_new_string("shmd project"));
	json_object_object_add(p, "product", json_object_new_string("shmd"));
	json_object_object_add(p, "version", json_object_new_string(SHMD_VERSION));
	json_object_object_add(p, "url",
			       json_object_new_string("https://github.com/shmd-project/shmd"));
	for (size_t i = 0; i < ELEMENTSOF(interfaces); i++)
		json_object_array_add(list, json_object_new_string(interfaces[i].name));
	json_object_object_add(p, "interfaces", list);
	return call_reply(call, p, -1);
}

int introspect_get_interface_description(struct call *call)
{
	const char *name = NULL;
	int r = param_string(call, "interface", &name);

	if (r < 0)
		return r;
	if (r == 0)
		return call_invalid(call, "interface", "missing");
	for (size_t i = 0; i < ELEMENTSOF(interfaces); i++)
		if (strcmp(interfaces[i].name, name) == 0) {
			json_object *p = json_object_new_object();
			json_object_object_add(p, "description",
					       json_object_new_string(interfaces[i].description));
			return call_reply(call, p, -1);
		}

	json_object *p = json_object_new_object();
	json_object_object_add(p, "interface", json_object_new_string(name));
	return call_error(call, "org.varlink.service.InterfaceNotFound", p);
}
