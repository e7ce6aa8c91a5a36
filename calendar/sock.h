/* SPDX-License-Identifier: MIT */
/*
 * sock.h: the socket adapter.  Accepts UML clients on a Unix stream
 * socket, frames their byte streams into 16-byte messages for the core,
 * and writes what the core sends, batched per loop turn.  A client that
 * breaks the protocol or cannot be written to is dropped alone.
 */
#ifndef TTFS_SOCK_H
#define TTFS_SOCK_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cal.h"

struct sock_server;

struct sock_config {
	mode_t mode;              /* the socket file's permissions */
	gid_t gid;                /* its group, or (gid_t)-1 to leave it */
	unsigned int max_clients; /* connections beyond are closed at once */
	bool no_shm;              /* never offer the shared-memory page */
	unsigned int shm_clients; /* slots on the page (0: the default) */
};

#define SOCK_DEFAULT_MAX_CLIENTS 100000u
/* A kernel maps the whole page: a smaller one boots measurably faster
 * (docs/performance.md), so the page holds this many unless told. */
#define SOCK_DEFAULT_SHM_CLIENTS 256u

/*
 * Listen on `path`.  A path held by a live listener is refused with
 * -EADDRINUSE; a stale socket file is replaced.
 */
int sock_server_new(struct ev_loop *loop, struct cal *cal, const char *path,
		    const struct sock_config *cfg, struct sock_server **out);
/* Closes every client, stops listening and removes the socket file. */
void sock_server_free(struct sock_server *s);
/* The cal_ops send function: client_data is what the adapter gave. */
void sock_send(void *client_data, const struct um_timetravel_msg *msgs,
	       unsigned int n, bool start_ack);
/* The cal_ops kick function: drop the client from the loop, soon. */
void sock_kick(void *client_data);
/* Write what is queued and drop clients that failed; the loop calls it
 * before it blocks. */
void sock_flush(struct sock_server *s);
/* A count that moves whenever a client's socket was ready: the loop's
 * --busy-poll keeps polling while it moves. */
uint64_t sock_activity(const struct sock_server *s);

#endif
