/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state's binary records: the one definition of what a region's persistent metadata
 * is (region_fields[] in state-record.c), its encoding as tagged fields, and the framing
 * (length, type, CRC-32) that lets a reader find a torn write. Owns no state; calls only
 * region.h, intern.h and the shared text buffer.
 *
 * Layout, all integers little-endian:
 *   file    := header record*
 *   header  := "SHMDSTAT" u32 format u32 flags(0) u64 generation          (24 bytes)
 *   record  := u32 length u8 type payload[length] u32 crc32(length..payload)
 *   REGION  := field*          field := u16 tag u32 length value[length]
 *   DELETE  := u64 id          NEXT_ID := u64 next id
 *
 * Tags: a tag with STATE_TAG_OPTIONAL (0x8000) set may be skipped by a reader that does
 * not know it (the value is lost when that reader rewrites the state); a tag without it
 * is critical: a reader that does not know it refuses the whole state, with a message
 * naming the tag, rather than rebuild regions without it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

struct region;

#define STATE_MAGIC "SHMDSTAT"
#define STATE_FORMAT 1 /* bump only for a change of framing; new fields need no bump */
#define STATE_HEADER_SIZE 24
#define STATE_TAG_OPTIONAL 0x8000u
/* No field value is longer: a corrupt length must not make us allocate gigabytes. */
#define STATE_FIELD_MAX (16u << 20)

enum state_record_type {
	STATE_REC_REGION = 1,
	STATE_REC_DELETE = 2,
	STATE_REC_NEXT_ID = 3,
};

/* A cursor over bytes being decoded. */
struct state_reader {
	const uint8_t *p;
	size_t len;
};

/*
 * One persistent field of struct region. encode appends the value (nothing: the field
 * is left out); decode reads len bytes into r: 0 or -EBADMSG.
 */
struct state_field {
	uint16_t tag;
	const char *name; /* its member of the IDL's Region ("creator.uid": nested), or... */
	bool not_in_stat; /* ...a name of the state's own: the daemon's bookkeeping */
	void (*encode)(struct text *t, const struct region *r, const struct state_field *f);
	int (*decode)(struct region *r, const uint8_t *v, size_t len, const struct state_field *f);
	size_t offset; /* for the generic codecs below */
	size_t width;  /* bytes of the member, for the generic integer codec */
};

/* The persisted fields, for tests that hold Stat's reply against them. */
const struct state_field *state_region_fields(size_t *ret_n);

uint32_t state_crc32(uint32_t crc, const void *data, size_t len);

void state_put_u16(struct text *t, uint16_t v);
void state_put_u32(struct text *t, uint32_t v);
void state_put_u64(struct text *t, uint64_t v);
int state_get_u64(struct state_reader *rd, uint64_t *ret);

/* The file header. */
void state_write_header(struct text *t, uint64_t generation);
/* 0, -EBADMSG (not a state) or -EPROTONOSUPPORT (a newer framing); *ret_generation. */
int state_read_header(const uint8_t *p, size_t len, uint32_t *ret_format, uint64_t *ret_generation);

/* Append one framed record: REGION (r's fields), DELETE or NEXT_ID (value). */
void state_write_region(struct text *t, const struct region *r);
void state_write_u64_record(struct text *t, enum state_record_type type, uint64_t value);

/*
 * The next framed record at *rd. 1 with its type and payload, 0 at a clean end, -EBADMSG
 * for a torn or corrupt record (a crash mid-append: the reader stops there).
 */
int state_next_record(struct state_reader *rd, uint8_t *ret_type, struct state_reader *ret_payload);

/*
 * Decode a REGION payload into a new region (fd -1). 0, -ENOMEM, -EBADMSG (malformed,
 * *ret_why says what) or -EPROTONOSUPPORT (an unknown critical tag, in *ret_tag).
 */
int state_decode_region(struct state_reader *payload, struct region **ret, const char **ret_why,
			unsigned *ret_tag);
