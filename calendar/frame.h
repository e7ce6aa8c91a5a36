/* SPDX-License-Identifier: MIT */
/*
 * frame.h: cut a byte stream into 16-byte messages.  Streams split and
 * join messages arbitrarily; what does not make a whole message yet is
 * kept for the next bytes.  Pure: no I/O.
 */
#ifndef TTFS_FRAME_H
#define TTFS_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

struct frame {
	unsigned char part[TT_MSG_SIZE];
	size_t len;
};

/* Called for each whole message: 0 to go on, negative to stop. */
typedef int (*frame_fn)(void *data, const struct um_timetravel_msg *m);

/*
 * Feed len bytes: fn sees every whole message in order.  Returns 0, or
 * the first negative value fn returned (the bytes after that message are
 * dropped: the stream is broken).
 */
int frame_feed(struct frame *f, const void *buf, size_t len, frame_fn fn,
	       void *data);

/* Is half a message waiting?  (A hang-up now is mid-message.) */
static inline bool frame_partial(const struct frame *f)
{
	return f->len > 0;
}

#endif
