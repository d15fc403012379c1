/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seal bits (fcntl F_SEAL_*) and their wire names. */

#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "seals.h"

static const struct {
	unsigned bit;
	const char *name;
} seal_names[] = {
	{ SHMD_SEAL_SEAL, "seal" },
	{ SHMD_SEAL_SHRINK, "shrink" },
	{ SHMD_SEAL_GROW, "grow" },
	{ SHMD_SEAL_WRITE, "write" },
	{ SHMD_SEAL_FUTURE_WRITE, "future_write" },
	{ SHMD_SEAL_EXEC, "exec" },
};

const char *seal_to_string(unsigned bit)
{
	for (size_t i = 0; i < ELEMENTSOF(seal_names); i++)
		if (seal_names[i].bit == bit)
			return seal_names[i].name;
	return NULL;
}

unsigned seal_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(seal_names); i++)
		if (strcmp(seal_names[i].name, s) == 0)
			return seal_names[i].bit;
	/* The CLI spelling of the one two-word seal. */
	if (strcmp(s, "future-write") == 0)
		return SHMD_SEAL_FUTURE_WRITE;
	return 0;
}

json_object *seals_to_json(unsigned seals)
{
	json_object *a = json_object_new_array();
	if (!a)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(seal_names); i++)
		if (seals & seal_names[i].bit)
			json_object_array_add(a, json_object_new_string(seal_names[i].name));
	return a;
}

int seals_from_json(json_object *arr, unsigned *ret)
{
	unsigned seals = 0;

	if (!json_object_is_type(arr, json_type_array))
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		unsigned bit;
		if (!json_object_is_type(v, json_type_string))
			return -EINVAL;
		bit = seal_from_string(json_object_get_string(v));
		/* The wire takes only the IDL's enum spelling. */
		if (!bit || strchr(json_object_get_string(v), '-'))
			return -EINVAL;
		seals |= bit;
	}
	*ret = seals;
	return 0;
}

int seals_from_list(const char *list, unsigned *ret)
{
	unsigned seals = 0;
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		unsigned bit = seal_from_string(w);
		if (!bit)
			return -EINVAL;
		seals |= bit;
	}
	if (!seals)
		return -EINVAL;
	*ret = seals;
	return 0;
}

char *seals_format(unsigned seals, char *buf, size_t size)
{
	size_t off = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(seal_names); i++) {
		if (!(seals & seal_names[i].bit))
			continue;
		int n = snprintf(buf + off, size - off, "%s%s", off ? "," : "", seal_names[i].name);
		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
	if (off == 0)
		snprintf(buf, size, "-");
	return buf;
}
