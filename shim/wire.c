/*
 * The little of protobuf the shim needs: varints and length-delimited fields
 * (proto3's encoding of the messages of proto/gemulator/v1), built into
 * growable buffers and read with a cursor.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *d = realloc(b->data, cap);
		if (!d)
			abort();
		b->data = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_raw_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	int n = 0;
	do {
		uint8_t c = v & 0x7f;
		v >>= 7;
		tmp[n++] = c | (v ? 0x80 : 0);
	} while (v);
	buf_put(b, tmp, n);
}

void pb_varint(struct buf *b, int field, uint64_t v)
{
	put_raw_varint(b, (uint64_t)field << 3);
	put_raw_varint(b, v);
}

void pb_int(struct buf *b, int field, int64_t v)
{
	pb_varint(b, field, (uint64_t)v);
}

void pb_bytes(struct buf *b, int field, const void *p, size_t n)
{
	put_raw_varint(b, ((uint64_t)field << 3) | 2);
	put_raw_varint(b, n);
	buf_put(b, p, n);
}

void pb_string(struct buf *b, int field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

void pb_message(struct buf *b, int field, const struct buf *m)
{
	pb_bytes(b, field, m->data, m->len);
}

void pb_begin(struct pb *r, const void *p, size_t n)
{
	r->p = p;
	r->end = r->p + n;
}

static bool get_raw_varint(struct pb *r, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return false;
		uint8_t c = *r->p++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

bool pb_next(struct pb *r)
{
	uint64_t key;
	if (r->p >= r->end || !get_raw_varint(r, &key))
		return false;
	r->field = (int)(key >> 3);
	r->wire = (int)(key & 7);
	switch (r->wire) {
	case 0:
		return get_raw_varint(r, &r->v);
	case 1:
		if (r->end - r->p < 8)
			return false;
		memcpy(&r->v, r->p, 8);
		r->p += 8;
		return true;
	case 2: {
		uint64_t n;
		if (!get_raw_varint(r, &n) || n > (uint64_t)(r->end - r->p))
			return false;
		r->bytes = r->p;
		r->n = n;
		r->p += n;
		return true;
	}
	case 5:
		if (r->end - r->p < 4) {
			return false;
		} else {
			uint32_t x;
			memcpy(&x, r->p, 4);
			r->v = x;
			r->p += 4;
			return true;
		}
	default:
		return false;
	}
}

void pb_sub(const struct pb *r, struct pb *sub)
{
	pb_begin(sub, r->bytes, r->n);
}
