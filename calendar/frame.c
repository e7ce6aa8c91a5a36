/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "frame.h"

int frame_feed(struct frame *f, const void *buf, size_t len, frame_fn fn,
	       void *data)
{
	const unsigned char *p = buf;
	struct um_timetravel_msg m;
	int r;

	if (f->len > 0) {
		size_t take = TT_MSG_SIZE - f->len;

		if (take > len)
			take = len;
		memcpy(f->part + f->len, p, take);
		f->len += take;
		p += take;
		len -= take;
		if (f->len < TT_MSG_SIZE)
			return 0;
		f->len = 0;
		memcpy(&m, f->part, sizeof(m));
		r = fn(data, &m);
		if (r < 0)
			return r;
	}
	for (; len >= TT_MSG_SIZE; p += TT_MSG_SIZE, len -= TT_MSG_SIZE) {
		/* memcpy: the buffer need not be aligned for the struct. */
		memcpy(&m, p, sizeof(m));
		r = fn(data, &m);
		if (r < 0)
			return r;
	}
	memcpy(f->part, p, len);
	f->len = len;
	return 0;
}
