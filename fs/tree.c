/* SPDX-License-Identifier: MIT */
/*
 * tree.c: the calendar's state as a FUSE file tree (low-level API).
 *
 * Inode numbers encode the node, so there is no inode table: small fixed
 * numbers for the root, the top files and clients/, and for client N
 * ((N + 1) << 4) | file.  Client numbers are never reused, so an inode of a
 * client that left can only ever resolve to ENOENT.
 *
 * Every file is rendered once at open into a per-open buffer (fi->fh) that
 * reads slice, so one reader sees one consistent value; a read at offset 0
 * renders afresh, for programs that re-read one descriptor (pread loops).
 * Files are direct_io; only what never changes is cached (tree_timeout),
 * so the tree never invalidates (fuse_lowlevel_notify_inval_*), which
 * could deadlock a single-threaded daemon against a request the kernel
 * waits on; poll wake-ups (fuse_lowlevel_notify_poll) wait for nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "timeline.h"
#include "trace.h"
#include "tree.h"
#include "park.h"
#include "ttime.h"
#include "until.h"
#include "watch.h"

enum {
	INO_ROOT = 1, /* FUSE_ROOT_ID */
	INO_CLOCK,
	INO_STATE,
	INO_SOCKET,
	INO_TOD,
	INO_CLIENTS,
	INO_PACE,
	INO_STATS,
	INO_TIMELINE,
	INO_TRACE,
	INO_UNTIL,
};

/* until/NAME files get numbers from here up, one per name looked up,
 * until the kernel forgets them. */
#define INO_UNTIL_BASE ((fuse_ino_t)1 << 60)
/* Names under until/ are times, and short. */

/* Files of clients/N; CF_DIR is the directory itself. */
enum {
	CF_DIR,
	CF_ID,
	CF_STATE,
	CF_NEXT,
	CF_PID,
	CF_COUNTERS,
	CF_FREEZE,
	CF_DISCONNECT,
	CF_NAME,
	CF_COUNT,
};

#define CF_BITS 4
_Static_assert(CF_COUNT <= (1 << CF_BITS), "client files fit CF_BITS");

/* Any rendered value fits, the socket path included (sun_path is 108). */
#define RENDER_MAX 4096
/* Seconds the kernel may cache what never changes (tree_timeout). */
#define TREE_FIXED_TIMEOUT 86400.0
/* Every value written is short; more is a mistake, not a value. */
#define WRITE_MAX 4096
/* The kernel asks for a page of entries; a larger ask gets this much. */
#define READDIR_MAX 65536

/* How a file is read (open, read, poll and release follow the kind). */
enum file_kind {
	FK_DIR,
	FK_VALUE,    /* rendered at open, again at each read from offset 0 */
	FK_SNAPSHOT, /* rendered once, at open (timeline.json) */
	FK_STREAM,   /* records as they come; a read waits for one (trace) */
	FK_WAIT,     /* a read waits until the clock passes the name (until/T) */
};

struct tree;
struct node;

/* One file of a directory, described once: a new file is one row here
 * plus its render and write functions. */
struct file_row {
	const char *name;
	fuse_ino_t ino; /* at the top level its number; in clients/N unused */
	mode_t mode;
	enum file_kind kind;
	/* FK_VALUE: the value as text, its length or -errno; NULL: empty. */
	int (*render)(const struct tree *t, const struct node *n, char *buf,
		      size_t cap);
	/* Writable files: one whole value; 0 done, 1 parked, or -errno. */
	int (*write)(struct tree *t, fuse_req_t req, const struct node *n,
		     const char *buf, size_t size);
};

#define RENDER_FN(name) static int name(const struct tree *t, \
	const struct node *n, char *buf, size_t cap)
#define WRITE_FN(name) static int name(struct tree *t, fuse_req_t req, \
	const struct node *n, const char *buf, size_t size)
RENDER_FN(tree_render_clock);
RENDER_FN(tree_render_state);
RENDER_FN(tree_render_socket);
RENDER_FN(tree_render_tod);
RENDER_FN(tree_render_pace);
RENDER_FN(tree_render_stats);
RENDER_FN(tree_render_client_id);
RENDER_FN(tree_render_client_state);
RENDER_FN(tree_render_client_next);
RENDER_FN(tree_render_client_pid);
RENDER_FN(tree_render_client_counters);
RENDER_FN(tree_render_client_freeze);
RENDER_FN(tree_render_client_name);
WRITE_FN(tree_write_clock);
WRITE_FN(tree_write_state);
WRITE_FN(tree_write_tod);
WRITE_FN(tree_write_pace);
WRITE_FN(tree_write_client_freeze);
WRITE_FN(tree_write_client_disconnect);
WRITE_FN(tree_write_client_name);

static const struct file_row root_row = { "", INO_ROOT, S_IFDIR | 0555,
					  FK_DIR, NULL, NULL };

/* The top level, in readdir order. */
static const struct file_row top_files[] = {
	{ "clock", INO_CLOCK, S_IFREG | 0644, FK_VALUE,
	  tree_render_clock, tree_write_clock },
	{ "clients", INO_CLIENTS, S_IFDIR | 0555, FK_DIR, NULL, NULL },
	{ "pace", INO_PACE, S_IFREG | 0644, FK_VALUE,
	  tree_render_pace, tree_write_pace },
	{ "socket", INO_SOCKET, S_IFREG | 0444, FK_VALUE,
	  tree_render_socket, NULL },
	{ "state", INO_STATE, S_IFREG | 0644, FK_VALUE,
	  tree_render_state, tree_write_state },
	{ "stats", INO_STATS, S_IFREG | 0444, FK_VALUE,
	  tree_render_stats, NULL },
	{ "timeline.json", INO_TIMELINE, S_IFREG | 0444, FK_SNAPSHOT,
	  NULL, NULL },
	{ "tod", INO_TOD, S_IFREG | 0644, FK_VALUE,
	  tree_render_tod, tree_write_tod },
	{ "trace", INO_TRACE, S_IFREG | 0444, FK_STREAM, NULL, NULL },
	{ "until", INO_UNTIL, S_IFDIR | 0555, FK_DIR, NULL, NULL },
};
#define TOP_COUNT (sizeof(top_files) / sizeof(top_files[0]))

/* clients/N, by CF_*. */
static const struct file_row client_files[CF_COUNT] = {
	[CF_DIR] = { "", 0, S_IFDIR | 0555, FK_DIR, NULL, NULL },
	[CF_ID] = { "id", 0, S_IFREG | 0444, FK_VALUE,
		    tree_render_client_id, NULL },
	[CF_STATE] = { "state", 0, S_IFREG | 0444, FK_VALUE,
		       tree_render_client_state, NULL },
	[CF_NEXT] = { "next_request", 0, S_IFREG | 0444, FK_VALUE,
		      tree_render_client_next, NULL },
	[CF_PID] = { "pid", 0, S_IFREG | 0444, FK_VALUE,
		     tree_render_client_pid, NULL },
	[CF_COUNTERS] = { "counters", 0, S_IFREG | 0444, FK_VALUE,
			  tree_render_client_counters, NULL },
	[CF_FREEZE] = { "freeze", 0, S_IFREG | 0644, FK_VALUE,
			tree_render_client_freeze, tree_write_client_freeze },
	[CF_DISCONNECT] = { "disconnect", 0, S_IFREG | 0200, FK_VALUE,
			    NULL, tree_write_client_disconnect },
	[CF_NAME] = { "name", 0, S_IFREG | 0644, FK_VALUE,
		      tree_render_client_name, tree_write_client_name },
};

/* Every until/NAME (numbers from the until map). */
static const struct file_row until_row = { "", 0, S_IFREG | 0444, FK_WAIT,
					   NULL, NULL };

enum park_kind {
	PARK_CLOCK, /* a write: until cal_clock() >= target */
	PARK_PAUSE, /* a write: until cal_runner() == NULL */
	PARK_READ,  /* a read of trace or until/T: until there is data */
};

struct handle;

/* A name looked up under until/: a number for the kernel to hold. */
struct tree {
	struct cal *cal;
	char *socket_path;
	uid_t uid;
	gid_t gid;
	struct timespec born;
	struct park_set parks; /* requests that wait */
	struct until_map *untils; /* until/'s entries */
	struct handle *pollers; /* handles with a poll handle to notify */
	struct handle *handles; /* every open file and directory */
	struct watch *watch; /* trace, timeline, stats' samples */
};

/* A resolved inode. */
struct node {
	fuse_ino_t ino;
	mode_t mode;
	const struct file_row *row;
	struct cal_client *client; /* clients/N and below, else NULL */
	unsigned int file;         /* CF_* when client != NULL */
	const struct until_ent *until; /* until/NAME, else NULL */
};

/* A per-open buffer: a rendered file, or a directory's fuse_add_direntry
 * listing; and what a stream, a wait or a poll needs. */
struct handle {
	char *data;
	size_t len;
	fuse_ino_t ino;
	enum file_kind kind;        /* its file's, from open */
	uint64_t cursor;            /* trace: the next record */
	size_t pos;                 /* trace: how much of data was read */
	struct cal_waiter waiter;   /* until/T: its target */
	bool reached;               /* until/T: data holds the answer */
	struct fuse_pollhandle *ph; /* poll: to notify on change */
	struct handle *pprev, *pnext; /* on tree->pollers */
	struct handle *hprev, *hnext; /* on tree->handles: freed at exit */
};

static struct tree *tree_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static fuse_ino_t tree_client_ino(uint64_t number, unsigned int file)
{
	return (fuse_ino_t)((number + 1) << CF_BITS) | file;
}

static int tree_node(const struct tree *t, fuse_ino_t ino, struct node *n)
{
	memset(n, 0, sizeof(*n));
	n->ino = ino;
	if (ino == INO_ROOT) {
		n->row = &root_row;
		n->mode = root_row.mode;
		return 0;
	}
	for (size_t i = 0; i < TOP_COUNT; i++) {
		if (top_files[i].ino == ino) {
			n->row = &top_files[i];
			n->mode = top_files[i].mode;
			return 0;
		}
	}

	if (ino == INO_UNTIL_BASE - 1)
		return -ENOENT;
	if (ino >= INO_UNTIL_BASE) {
		n->until = until_find(t->untils, ino);
		if (!n->until)
			return -ENOENT;
		n->row = &until_row;
		n->mode = until_row.mode;
		return 0;
	}

	uint64_t hi = ino >> CF_BITS;
	unsigned int file = (unsigned int)(ino & ((1u << CF_BITS) - 1));

	/* hi 0 are the fixed numbers above; hi 1 would be client 0. */
	if (hi < 2 || file >= CF_COUNT)
		return -ENOENT;
	n->client = cal_client_find(t->cal, hi - 1);
	if (!n->client)
		return -ENOENT;
	n->file = file;
	n->row = &client_files[file];
	n->mode = client_files[file].mode;
	return 0;
}

static bool node_is_dir(const struct node *n)
{
	return S_ISDIR(n->mode);
}

static bool node_is_writable(const struct node *n)
{
	return (n->mode & 0200) != 0;
}

/* A client's number as a directory name: decimal, no sign, no leading 0. */
static bool tree_parse_number(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 20)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static int tree_child(const struct tree *t, const struct node *parent,
		      const char *name, fuse_ino_t *ino)
{
	if (!node_is_dir(parent))
		return -ENOTDIR;
	if (parent->ino == INO_ROOT) {
		for (size_t i = 0; i < TOP_COUNT; i++) {
			if (!strcmp(name, top_files[i].name)) {
				*ino = top_files[i].ino;
				return 0;
			}
		}
		return -ENOENT;
	}
	if (parent->ino == INO_CLIENTS) {
		uint64_t number;

		if (!tree_parse_number(name, &number) ||
		    !cal_client_find(t->cal, number))
			return -ENOENT;
		*ino = tree_client_ino(number, CF_DIR);
		return 0;
	}
	if (parent->ino == INO_UNTIL)
		return -ENOENT; /* tree_op_lookup makes these */
	for (unsigned int f = CF_DIR + 1; f < CF_COUNT; f++) {
		if (!strcmp(name, client_files[f].name)) {
			*ino = tree_client_ino(
				cal_client_number(parent->client), f);
			return 0;
		}
	}
	return -ENOENT;
}

/* snprintf into buf, as a length or -EOVERFLOW. */
static int tree_print(char *buf, size_t cap, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int tree_print(char *buf, size_t cap, size_t at, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (at >= cap)
		return -EOVERFLOW;
	va_start(ap, fmt);
	r = vsnprintf(buf + at, cap - at, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= cap - at)
		return -EOVERFLOW;
	return (int)at + r;
}

static int tree_render_counters(const struct cal_client *c, char *buf,
				size_t cap)
{
	const uint64_t *dirs[2] = { cal_client_received(c),
				    cal_client_sent(c) };
	const char *prefix[2] = { "rx", "tx" };
	int len;

	/* The mode first: "shm" once it set TIME_SHARE in its slot. */
	len = tree_print(buf, cap, 0, "mode %s\nslot %u\nshm.request %" PRIu64
			 "\n", cal_client_shm(c) ? "shm" : "messages",
			 (unsigned int)cal_client_slot(c),
			 cal_client_shm_requests(c));
	for (int d = 0; len >= 0 && d < 2; d++) {
		for (uint32_t op = 0; op < TT_OP_COUNT; op++) {
			len = tree_print(buf, cap, (size_t)len,
					 "%s.%s %" PRIu64 "\n", prefix[d],
					 tt_op_name(op), dirs[d][op]);
			if (len < 0)
				return len;
		}
	}
	return len;
}

RENDER_FN(tree_render_client_id)
{
	uint64_t v;

	(void)t;
	if (!cal_client_id(n->client, &v))
		return tree_print(buf, cap, 0, "none\n");
	return tree_print(buf, cap, 0, "%" PRIu64 "\n", v);
}

RENDER_FN(tree_render_client_state)
{
	(void)t;
	return tree_print(buf, cap, 0, "%s\n",
			  cal_client_state_name(cal_client_state(n->client)));
}

RENDER_FN(tree_render_client_next)
{
	uint64_t v = cal_client_request(n->client);

	(void)t;
	if (v == CAL_TIME_NONE)
		return tree_print(buf, cap, 0, "none\n");
	return tree_print(buf, cap, 0, "%" PRIu64 "\n", v);
}

RENDER_FN(tree_render_client_pid)
{
	(void)t;
	return tree_print(buf, cap, 0, "%ld\n",
			  (long)cal_client_pid(n->client));
}

RENDER_FN(tree_render_client_counters)
{
	(void)t;
	return tree_render_counters(n->client, buf, cap);
}

RENDER_FN(tree_render_client_freeze)
{
	(void)t;
	return tree_print(buf, cap, 0, "%d\n", cal_client_frozen(n->client));
}

RENDER_FN(tree_render_client_name)
{
	(void)t;
	return tree_print(buf, cap, 0, "%s\n", cal_client_name(n->client));
}

RENDER_FN(tree_render_stats)
{
	struct cal_stats st;
	uint64_t clock = cal_clock(t->cal);
	double total, last;
	int len;

	(void)n;
	cal_stats(t->cal, &st);
	watch_ratios(t->watch, clock, &total, &last);
	len = tree_print(buf, cap, 0,
			 "clock %" PRIu64 "\n"
			 "grants %" PRIu64 "\n"
			 "clients_now %u\n"
			 "clients_ever %" PRIu64 "\n"
			 "clients_shm %u\n"
			 "shm.request %" PRIu64 "\n"
			 "fs.requests %" PRIu64 "\n"
			 "ratio_total %.6g\n"
			 "ratio_last_second %.6g\n",
			 clock, st.grants, st.clients_now, st.clients_ever,
			 st.shm_clients, st.shm_requests,
			 watch_requests(t->watch), total, last);
	for (uint32_t op = 0; len >= 0 && op < TT_OP_COUNT; op++)
		len = tree_print(buf, cap, (size_t)len,
				 "rx.%s %" PRIu64 "\n", tt_op_name(op),
				 st.received[op]);
	for (uint32_t op = 0; len >= 0 && op < TT_OP_COUNT; op++)
		len = tree_print(buf, cap, (size_t)len,
				 "tx.%s %" PRIu64 "\n", tt_op_name(op),
				 st.sent[op]);
	return len;
}

/* A regular file's content: its length, or a negative errno. */
RENDER_FN(tree_render_clock)
{
	(void)n;
	return tree_print(buf, cap, 0, "%" PRIu64 "\n", cal_clock(t->cal));
}

RENDER_FN(tree_render_state)
{
	(void)n;
	return tree_print(buf, cap, 0, "%s\n",
			  cal_is_running(t->cal) ? "running" : "paused");
}

RENDER_FN(tree_render_socket)
{
	(void)n;
	return tree_print(buf, cap, 0, "%s\n", t->socket_path);
}

RENDER_FN(tree_render_tod)
{
	(void)n;
	return tree_print(buf, cap, 0, "%" PRIu64 "\n", cal_tod(t->cal));
}

RENDER_FN(tree_render_pace)
{
	(void)n;
	return tree_print(buf, cap, 0, "%.15g\n", cal_pace(t->cal));
}

/* A value file's text; a stream, a snapshot or a wait renders its own. */
static int tree_render(const struct tree *t, const struct node *n, char *buf,
		       size_t cap)
{
	return n->row->render ? n->row->render(t, n, buf, cap) : 0;
}

/* The one stat filler, shared by lookup, getattr and setattr. */
static void tree_stat(const struct tree *t, const struct node *n,
		      struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_uid = t->uid;
	st->st_gid = t->gid;
	st->st_blksize = RENDER_MAX;
	st->st_atim = st->st_mtim = st->st_ctim = t->born;
	if (node_is_dir(n)) {
		/* . and .. plus one per subdirectory, as find(1) expects;
		 * clients/ says 1, "not counted" (as btrfs does), so that
		 * its attributes stay fixed and cacheable. */
		if (n->ino == INO_ROOT)
			st->st_nlink = 4;
		else if (n->ino == INO_CLIENTS)
			st->st_nlink = 1;
		else
			st->st_nlink = 2;
		return;
	}
	st->st_nlink = 1;
	/* st_size stays 0, as in /proc: a length is only known when the value
	 * is taken (at open), and with it every attribute is fixed, so the
	 * kernel may cache them (tree_timeout).  Reads are direct_io. */
}

/* How long the kernel may keep a node's entry and attributes.  The top
 * names and their attributes never change, so caching them spares each
 * `cat clock` a LOOKUP and the GETATTRs of the path walk and the
 * permission check (3 of its 8 requests), with no invalidation ever
 * needed.  A client's nodes (they go when it leaves) and until/ names
 * (the kernel's to forget) are never cached. */
static double tree_timeout(const struct node *n)
{
	return n->client || n->until ? 0.0 : TREE_FIXED_TIMEOUT;
}

static void tree_poller_del(struct tree *t, struct handle *h)
{
	if (!h->ph)
		return;
	fuse_pollhandle_destroy(h->ph);
	h->ph = NULL;
	if (h->pprev)
		h->pprev->pnext = h->pnext;
	else
		t->pollers = h->pnext;
	if (h->pnext)
		h->pnext->pprev = h->pprev;
	h->pprev = h->pnext = NULL;
}

/* Every handle is listed, so that those still open at exit are freed. */
static struct handle *tree_handle_new(struct tree *t)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->hnext = t->handles;
	if (t->handles)
		t->handles->hprev = h;
	t->handles = h;
	return h;
}

static void tree_handle_free(struct tree *t, struct handle *h)
{
	if (!h)
		return;
	if (h->hprev)
		h->hprev->hnext = h->hnext;
	else
		t->handles = h->hnext;
	if (h->hnext)
		h->hnext->hprev = h->hprev;
	tree_poller_del(t, h);
	if (h->kind == FK_STREAM)
		watch_tracers(t->watch, -1);
	if (h->kind == FK_WAIT)
		cal_waiter_remove(t->cal, &h->waiter);
	free(h->data);
	free(h);
}

static int tree_handle_render(const struct tree *t, const struct node *n,
			      struct handle *h)
{
	char buf[RENDER_MAX];
	int len = tree_render(t, n, buf, sizeof(buf));
	char *data;

	if (len < 0)
		return len;
	data = malloc(len > 0 ? (size_t)len : 1);
	if (!data)
		return -ENOMEM;
	memcpy(data, buf, (size_t)len);
	free(h->data);
	h->data = data;
	h->len = (size_t)len;
	return 0;
}

static int tree_dir_add(fuse_req_t req, struct handle *h, const char *name,
			fuse_ino_t ino, mode_t mode)
{
	struct stat st = { .st_ino = ino, .st_mode = mode };
	size_t need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	char *data = realloc(h->data, h->len + need);

	if (!data)
		return -ENOMEM;
	h->data = data;
	/* Each entry's offset is where the next one starts. */
	fuse_add_direntry(req, h->data + h->len, need, name, &st,
			  (off_t)(h->len + need));
	h->len += need;
	return 0;
}

/* A directory's listing, replacing what h held only on success. */
static int tree_dir_list(const struct tree *t, fuse_req_t req,
			 const struct node *n, struct handle *h)
{
	struct handle nh = { 0 };
	fuse_ino_t up = n->client ? INO_CLIENTS : INO_ROOT;
	int err = tree_dir_add(req, &nh, ".", n->ino, S_IFDIR);

	if (!err)
		err = tree_dir_add(req, &nh, "..", up, S_IFDIR);
	if (n->ino == INO_ROOT) {
		for (size_t i = 0; !err && i < TOP_COUNT; i++)
			err = tree_dir_add(req, &nh, top_files[i].name,
					   top_files[i].ino, top_files[i].mode);
	} else if (n->client) {
		uint64_t number = cal_client_number(n->client);

		for (unsigned int f = CF_DIR + 1; !err && f < CF_COUNT; f++)
			err = tree_dir_add(req, &nh, client_files[f].name,
					   tree_client_ino(number, f),
					   client_files[f].mode);
	}
	/* until/ lists nothing: its names are whatever times you ask;
	 * clients/ is listed live (tree_readdir_clients). */
	if (err) {
		free(nh.data);
		return err;
	}
	free(h->data);
	h->data = nh.data;
	h->len = nh.len;
	return 0;
}

/* clients/ may hold 10,000 entries, so each readdir answer is made from
 * the live list, one reply's worth, rather than from a snapshot of them
 * all: no single answer keeps the loop from the simulation for long.
 * An entry's offset (where the kernel resumes) is 1 for ".", 2 for
 * "..", and 2 + its number for a client: numbers only grow along the
 * list, so no client is listed twice, none present throughout is
 * missed, and a client gone meanwhile costs one walk of the list. */
static void tree_readdir_clients(struct tree *t, fuse_req_t req, size_t size,
				 off_t off)
{
	struct cal_client *c;
	size_t len = 0, need;
	char *buf;

	if (size > READDIR_MAX)
		size = READDIR_MAX;
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (; off >= 0 && off < 2; off++) {
		struct stat st = { .st_ino = off ? INO_ROOT : INO_CLIENTS,
				   .st_mode = S_IFDIR };

		need = fuse_add_direntry(req, buf + len, size - len,
					 off ? ".." : ".", &st, off + 1);
		if (need > size - len)
			goto out;
		len += need;
	}
	if (off < 0) {
		c = NULL;
	} else if (off == 2) {
		c = cal_client_first(t->cal);
	} else {
		uint64_t last = (uint64_t)off - 2;

		c = cal_client_find(t->cal, last);
		if (c)
			c = cal_client_next(t->cal, c);
		else
			for (c = cal_client_first(t->cal);
			     c && cal_client_number(c) <= last;
			     c = cal_client_next(t->cal, c))
				;
	}
	for (; c; c = cal_client_next(t->cal, c)) {
		uint64_t number = cal_client_number(c);
		struct stat st = { .st_ino = tree_client_ino(number, CF_DIR),
				   .st_mode = S_IFDIR };
		char name[24];

		snprintf(name, sizeof(name), "%" PRIu64, number);
		need = fuse_add_direntry(req, buf + len, size - len, name, &st,
					 (off_t)(number + 2));
		if (need > size - len)
			break;
		len += need;
	}
out:
	fuse_reply_buf(req, buf, len);
	free(buf);
}

/* Answer a read of buf at off, at most size bytes. */
static void tree_reply_slice(fuse_req_t req, const char *buf, size_t len,
			     off_t off, size_t size)
{
	if (off < 0 || (uint64_t)off >= len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	size_t left = len - (size_t)off;

	fuse_reply_buf(req, buf + off, left < size ? left : size);
}

/* --- parked requests (fs/park.c waits; these say when they are done) --- */

/* A stream or a wait: fill h->data if there is something to read;
 * false if the reader must wait. */
static bool tree_stream_ready(struct tree *t, struct handle *h, size_t size)
{
	if (h->kind == FK_STREAM) {
		char *buf;
		size_t cap = size < RENDER_MAX ? RENDER_MAX : size, n;

		/* Lines rendered but not yet read go first: a short read
		 * loses nothing. */
		if (h->pos < h->len)
			return true;
		if (trace_head(watch_trace(t->watch)) == h->cursor)
			return false;
		buf = malloc(cap);
		if (!buf)
			return false;
		n = trace_read(watch_trace(t->watch), &h->cursor, buf, cap);
		free(h->data);
		h->data = buf;
		h->len = n;
		h->pos = 0;
		return n > 0;
	}
	/* until/T: the answer is the clock when T was reached, kept. */
	if (h->reached)
		return true;
	if (cal_clock(t->cal) < h->waiter.t)
		return false;
	free(h->data);
	h->data = malloc(32);
	if (!h->data)
		return false;
	h->len = (size_t)snprintf(h->data, 32, "%" PRIu64 "\n",
				  cal_clock(t->cal));
	h->reached = true;
	return true;
}

/* Answer a read of a stream or a wait that is ready. */
static void tree_stream_reply(fuse_req_t req, struct handle *h, size_t size)
{
	size_t n;

	if (h->kind == FK_WAIT) {
		/* until/T: one answer, read from its start (a later read at
		 * an offset goes through tree_reply_slice). */
		fuse_reply_buf(req, h->data, h->len < size ? h->len : size);
		return;
	}
	n = h->len - h->pos < size ? h->len - h->pos : size;
	fuse_reply_buf(req, h->data + h->pos, n);
	h->pos += n;
}

/* The writer gave up: do not leave the clock running for nobody. */
static void tree_park_gave_up(void *ctx, struct park *p)
{
	struct tree *t = ctx;

	if (p->kind == PARK_CLOCK)
		cal_set_run(t->cal, false);
}

/* Answer p if its wait is over. */
static bool tree_park_try(void *ctx, struct park *p)
{
	struct tree *t = ctx;

	switch ((enum park_kind)p->kind) {
	case PARK_READ:
		if (!tree_stream_ready(t, p->data, p->nbytes))
			return false;
		tree_stream_reply(p->req, p->data, p->nbytes);
		return true;
	case PARK_CLOCK:
		if (cal_clock(t->cal) >= p->target)
			break;
		if (cal_is_running(t->cal))
			return false;
		/* Paused before the target: the advance was called off. */
		fuse_reply_err(p->req, ECANCELED);
		return true;
	case PARK_PAUSE:
		if (cal_is_running(t->cal)) {
			/* Someone wrote run (or an advance) meanwhile. */
			fuse_reply_err(p->req, ECANCELED);
			return true;
		}
		if (cal_runner(t->cal))
			return false;
		break;
	}
	fuse_reply_write(p->req, p->nbytes);
	return true;
}

static const struct park_ops tree_park_ops = {
	.try = tree_park_try,
	.gave_up = tree_park_gave_up,
};

/* Would a read of h now return something new? */
static bool tree_poll_ready(struct tree *t, struct handle *h)
{
	char buf[RENDER_MAX];
	struct node n;
	int len;

	if (h->kind == FK_STREAM)
		return h->pos < h->len || trace_head(watch_trace(t->watch)) != h->cursor;
	if (h->kind == FK_WAIT)
		return h->reached || cal_clock(t->cal) >= h->waiter.t;
	if (tree_node(t, h->ino, &n))
		return true; /* gone: a read tells the last value, at once */
	/* h->data is what this reader last read (rendered at open and at
	 * each read from offset 0). */
	len = tree_render(t, &n, buf, sizeof(buf));
	return len < 0 || (size_t)len != h->len ||
	       (len > 0 && memcmp(buf, h->data, (size_t)len) != 0);
}

void tree_count_request(struct tree *t)
{
	watch_count_request(t->watch);
}

void tree_tick(struct tree *t)
{
	watch_tick(t->watch, cal_clock(t->cal));
}

void tree_sample(struct tree *t)
{
	watch_sample(t->watch, cal_clock(t->cal));
}

bool tree_busy(const struct tree *t)
{
	return park_any(&t->parks) || t->pollers;
}

void tree_process(struct tree *t)
{
	for (struct handle *h = t->pollers, *next; h; h = next) {
		next = h->pnext;
		if (tree_poll_ready(t, h)) {
			fuse_lowlevel_notify_poll(h->ph);
			tree_poller_del(t, h);
		}
	}

	park_process(&t->parks);
}

/* --- writes: <0 errno, 0 answer now, 1 parked --- */

/* buf is exactly word, or word and one newline. */
static bool tree_text_is(const char *buf, size_t size, const char *word)
{
	size_t n = strlen(word);

	return (size == n || (size == n + 1 && buf[n] == '\n')) &&
	       !memcmp(buf, word, n);
}

WRITE_FN(tree_write_clock)
{
	uint64_t now = cal_clock(t->cal);
	uint64_t target;
	int err;

	(void)n;
	/* Out of range is as wrong as not a time: both are bad text here. */
	if (ttime_parse(buf, size, now, &target) < 0 || target < now)
		return -EINVAL;
	/* With no client the clock jumps at once, while the daemon may be
	 * idle, taking no samples: one on each side keeps the last second's
	 * ratio right (see watch_sample). */
	if (!cal_client_count(t->cal))
		watch_sample(t->watch, now);
	err = cal_advance(t->cal, target);
	if (!cal_client_count(t->cal))
		watch_sample(t->watch, cal_clock(t->cal));
	if (err < 0)
		return err;
	if (cal_clock(t->cal) >= target)
		return 0;
	return park_add(&t->parks, req, PARK_CLOCK, target, size, NULL);
}

WRITE_FN(tree_write_state)
{
	(void)n;
	if (tree_text_is(buf, size, "run")) {
		cal_set_run(t->cal, true);
		return 0;
	}
	if (tree_text_is(buf, size, "pause")) {
		cal_set_run(t->cal, false);
		/* Paused means nobody runs: wait for the runner's WAIT. */
		if (!cal_runner(t->cal))
			return 0;
		return park_add(&t->parks, req, PARK_PAUSE, 0, size, NULL);
	}
	return -EINVAL;
}

WRITE_FN(tree_write_pace)
{
	double pace;

	(void)req;
	(void)n;
	if (ttime_parse_ratio(buf, size, &pace) < 0)
		return -EINVAL;
	return cal_set_pace(t->cal, pace);
}

WRITE_FN(tree_write_client_freeze)
{
	(void)req;
	if (!tree_text_is(buf, size, "0") && !tree_text_is(buf, size, "1"))
		return -EINVAL;
	cal_client_set_frozen(t->cal, n->client, buf[0] == '1');
	return 0;
}

WRITE_FN(tree_write_client_disconnect)
{
	(void)req;
	if (!tree_text_is(buf, size, "1"))
		return -EINVAL;
	return cal_client_kick(t->cal, n->client);
}

WRITE_FN(tree_write_client_name)
{
	int r;

	(void)req;
	if (buf[size - 1] == '\n')
		size--;
	r = cal_client_set_name(n->client, buf, size);
	if (r == 0)
		timeline_name(watch_timeline(t->watch), cal_client_number(n->client),
			      cal_client_name(n->client));
	return r;
}

WRITE_FN(tree_write_tod)
{
	uint64_t tod;

	(void)req;
	(void)n;
	if (ttime_parse(buf, size, cal_tod(t->cal), &tod) < 0)
		return -EINVAL;
	cal_set_tod(t->cal, tod);
	return 0;
}

/* --- operations --- */

static void tree_op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Values change under the kernel's feet: never cache writes.
	 * ATOMIC_O_TRUNC is left as libfuse sets it: open ignores O_TRUNC and
	 * setattr accepts a truncate, so either way works. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

/* until/NAME: any name that is a time; the kernel holds its number
 * (one per distinct name) until it forgets it. */
static int tree_until_lookup(struct tree *t, const char *name,
			     fuse_ino_t *ino)
{
	const struct until_ent *u;
	size_t len = strlen(name);
	uint64_t target;

	if (len > UNTIL_NAME_MAX || name[len ? len - 1 : 0] == '\n' ||
	    ttime_parse(name, len, cal_clock(t->cal), &target) < 0)
		return -ENOENT;
	u = until_lookup(t->untils, name, len);
	if (!u)
		return -ENOMEM;
	*ino = u->ino;
	return 0;
}

static void tree_op_forget_one(struct tree *t, fuse_ino_t ino,
			       uint64_t nlookup)
{
	until_forget(t->untils, ino, nlookup);
}

static void tree_op_lookup(fuse_req_t req, fuse_ino_t parent,
			   const char *name)
{
	struct tree *t = tree_of(req);
	struct fuse_entry_param e;
	struct node pn, n;
	fuse_ino_t ino = 0;
	int err = tree_node(t, parent, &pn);

	if (!err && parent == INO_UNTIL)
		err = tree_until_lookup(t, name, &ino);
	else if (!err)
		err = tree_child(t, &pn, name, &ino);
	if (!err)
		err = tree_node(t, ino, &n);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = ino;
	e.attr_timeout = tree_timeout(&n);
	e.entry_timeout = tree_timeout(&n);
	tree_stat(t, &n, &e.attr);
	/* Not delivered (the request was interrupted): the kernel holds no
	 * reference to forget later. */
	if (fuse_reply_entry(req, &e) != 0 && parent == INO_UNTIL)
		tree_op_forget_one(t, ino, 1);
}

static void tree_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	tree_op_forget_one(tree_of(req), ino, nlookup);
	fuse_reply_none(req);
}

static void tree_op_forget_multi(fuse_req_t req, size_t count,
				 struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		tree_op_forget_one(tree_of(req), forgets[i].ino,
				   forgets[i].nlookup);
	fuse_reply_none(req);
}

static void tree_op_getattr(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	struct tree *t = tree_of(req);
	struct stat st;
	struct node n;
	int err = tree_node(t, ino, &n);

	(void)fi;
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	tree_stat(t, &n, &st);
	fuse_reply_attr(req, &st, tree_timeout(&n));
}

static void tree_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			    int to_set, struct fuse_file_info *fi)
{
	struct tree *t = tree_of(req);
	struct stat st;
	struct node n;
	int err = tree_node(t, ino, &n);

	(void)attr;
	(void)fi;
	if (!err && (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
			       FUSE_SET_ATTR_GID)))
		err = -EPERM;
	if (!err && (to_set & FUSE_SET_ATTR_SIZE)) {
		/* A truncate (O_TRUNC without atomic_o_trunc) comes with
		 * mtime: accept it on writable files, as writes replace the
		 * value anyway. */
		if (node_is_dir(&n))
			err = -EISDIR;
		else if (!node_is_writable(&n))
			err = -EACCES;
	} else if (!err && (to_set & (FUSE_SET_ATTR_ATIME |
				      FUSE_SET_ATTR_MTIME |
				      FUSE_SET_ATTR_ATIME_NOW |
				      FUSE_SET_ATTR_MTIME_NOW))) {
		err = -EPERM;
	}
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	tree_stat(t, &n, &st);
	fuse_reply_attr(req, &st, tree_timeout(&n));
}

static void tree_op_open(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct tree *t = tree_of(req);
	struct handle *h;
	struct node n;
	int err = tree_node(t, ino, &n);

	if (!err && node_is_dir(&n))
		err = -EISDIR;
	if (!err && (fi->flags & O_ACCMODE) != O_RDONLY &&
	    !node_is_writable(&n))
		err = -EACCES;
	h = err ? NULL : tree_handle_new(t);
	if (!err && !h)
		err = -ENOMEM;
	if (!err) {
		h->ino = ino;
		h->kind = n.row->kind;
		h->waiter.hn.idx = HEAP_NONE;
	}
	/* O_TRUNC needs nothing: a write replaces the value whole. */
	if (!err && n.row->kind == FK_STREAM) {
		/* From this moment on, like trace_pipe. */
		h->cursor = trace_head(watch_trace(t->watch));
		watch_tracers(t->watch, 1);
		fi->nonseekable = 1;
	} else if (!err && n.row->kind == FK_WAIT) {
		uint64_t target;

		/* Relative names count from the clock at open: one that
		 * passed at lookup may overflow from a later clock. */
		if (ttime_parse(n.until->name, strlen(n.until->name),
				cal_clock(t->cal), &target) < 0) {
			err = -ERANGE;
		} else {
			cal_waiter_add(t->cal, &h->waiter, target);
			h->waiter.t = target;
		}
	} else if (!err && n.row->kind == FK_SNAPSHOT) {
		/* The clock may have jumped with no message since. */
		timeline_advance(watch_timeline(t->watch), cal_clock(t->cal));
		err = timeline_render(watch_timeline(t->watch), &h->data,
				      &h->len);
	} else if (!err && (fi->flags & O_ACCMODE) != O_WRONLY) {
		err = tree_handle_render(t, &n, h);
	}
	if (err) {
		tree_handle_free(t, h);
		fuse_reply_err(req, -err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	/* -ENOENT: the open was interrupted and no release will come. */
	if (fuse_reply_open(req, fi) == -ENOENT)
		tree_handle_free(t, h);
}

static struct handle *tree_handle(const struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

static void tree_op_read(fuse_req_t req, fuse_ino_t ino, size_t size,
			 off_t off, struct fuse_file_info *fi)
{
	struct tree *t = tree_of(req);
	struct handle *h = tree_handle(fi);
	struct node n;

	(void)ino;
	if (h->kind == FK_STREAM || h->kind == FK_WAIT) {
		/* A stream, or a wait: what is there, or park the read. */
		if (h->kind == FK_WAIT && h->reached) {
			tree_reply_slice(req, h->data, h->len, off, size);
		} else if (tree_stream_ready(t, h, size)) {
			tree_stream_reply(req, h, size);
		} else if (fi->flags & O_NONBLOCK) {
			/* The flags of this read: fcntl may have changed
			 * them since open. */
			fuse_reply_err(req, EAGAIN);
		} else if (park_add(&t->parks, req, PARK_READ, 0, size, h) < 0) {
			fuse_reply_err(req, ENOMEM);
		}
		return;
	}
	/* Fresh data for a re-read from the start; a client that left keeps
	 * its last rendering.  timeline.json is one snapshot per open. */
	if (off == 0 && h->kind == FK_VALUE && !tree_node(t, h->ino, &n))
		tree_handle_render(t, &n, h);
	tree_reply_slice(req, h->data, h->len, off, size);
}

static void tree_op_poll(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	struct tree *t = tree_of(req);
	struct handle *h = tree_handle(fi);
	bool ready = tree_poll_ready(t, h);

	(void)ino;
	/* One poll handle per open file: the newest replaces the last. */
	tree_poller_del(t, h);
	if (ph && !ready) {
		h->ph = ph;
		h->pnext = t->pollers;
		if (t->pollers)
			t->pollers->pprev = h;
		t->pollers = h;
	} else if (ph) {
		fuse_pollhandle_destroy(ph);
	}
	fuse_reply_poll(req, ready ? POLLIN | POLLRDNORM : 0);
}

static void tree_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			  size_t size, off_t off, struct fuse_file_info *fi)
{
	struct tree *t = tree_of(req);
	struct node n;
	int r = tree_node(t, ino, &n);

	/* Any offset: each write is a whole value (shells write at 0 after
	 * O_TRUNC, but `>>` appends). */
	(void)off;
	(void)fi;
	if (!r && node_is_dir(&n))
		r = -EISDIR;
	else if (!r && !node_is_writable(&n))
		r = -EACCES;
	else if (!r && size > WRITE_MAX)
		r = -EFBIG;
	else if (!r && (size == 0 || (size == 1 && buf[0] == '\n')))
		r = -EINVAL;
	if (!r)
		r = n.row->write ? n.row->write(t, req, &n, buf, size) :
				   -EACCES;
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (r == 0)
		fuse_reply_write(req, size);
	/* r == 1: parked, tree_process() answers. */
}

static void tree_op_release(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	(void)ino;
	tree_handle_free(tree_of(req), tree_handle(fi));
	fuse_reply_err(req, 0);
}

static void tree_op_opendir(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	struct tree *t = tree_of(req);
	struct handle *h = NULL;
	struct node n;
	int err = tree_node(t, ino, &n);

	if (!err && !node_is_dir(&n))
		err = -ENOTDIR;
	if (!err && !(h = tree_handle_new(t)))
		err = -ENOMEM;
	/* The snapshot readdir slices; offset 0 takes a new one. */
	if (!err && ino != INO_CLIENTS)
		err = tree_dir_list(t, req, &n, h);
	if (err) {
		tree_handle_free(t, h);
		fuse_reply_err(req, -err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	if (fuse_reply_open(req, fi) == -ENOENT)
		tree_handle_free(t, h);
}

static void tree_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			    off_t off, struct fuse_file_info *fi)
{
	struct tree *t = tree_of(req);
	struct handle *h = tree_handle(fi);
	struct node n;

	if (ino == INO_CLIENTS) {
		tree_readdir_clients(t, req, size, off);
		return;
	}
	/* rewinddir() sees the clients of now; a cut-off entry at the end
	 * of a reply is skipped by the kernel and asked for again. */
	if (off == 0 && !tree_node(t, ino, &n))
		tree_dir_list(t, req, &n, h);
	tree_reply_slice(req, h->data, h->len, off, size);
}

static void tree_op_releasedir(fuse_req_t req, fuse_ino_t ino,
			       struct fuse_file_info *fi)
{
	(void)ino;
	tree_handle_free(tree_of(req), tree_handle(fi));
	fuse_reply_err(req, 0);
}

static void tree_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = RENDER_MAX;
	sv.f_frsize = RENDER_MAX;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

/* The tree's shape is the calendar's: nothing may be made or removed.
 * EACCES as for any 0555 directory, rather than ENOSYS. */

static void tree_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
			  mode_t mode, dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	fuse_reply_err(req, EACCES);
}

static void tree_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			  mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	fuse_reply_err(req, EACCES);
}

static void tree_op_unlink(fuse_req_t req, fuse_ino_t parent,
			   const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, EACCES);
}

static void tree_op_symlink(fuse_req_t req, const char *link,
			    fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EACCES);
}

static void tree_op_rename(fuse_req_t req, fuse_ino_t parent,
			   const char *name, fuse_ino_t newparent,
			   const char *newname, unsigned int flags)
{
	(void)parent;
	(void)name;
	(void)newparent;
	(void)newname;
	(void)flags;
	fuse_reply_err(req, EACCES);
}

static void tree_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
			 const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EACCES);
}

static void tree_op_create(fuse_req_t req, fuse_ino_t parent,
			   const char *name, mode_t mode,
			   struct fuse_file_info *fi)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)fi;
	fuse_reply_err(req, EACCES);
}

/* --- life --- */

struct tree *tree_new(struct cal *cal, const char *socket_path,
		      const struct tree_config *cfg)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->socket_path = strdup(socket_path ? socket_path : "");
	t->watch = watch_new(cfg->trace_records, cfg->timeline_events,
			     cal_clock(cal));
	t->untils = until_map_new(INO_UNTIL_BASE);
	park_init(&t->parks, &tree_park_ops, t);
	if (!t->socket_path || !t->watch || !t->untils) {
		tree_free(t);
		return NULL;
	}
	t->cal = cal;
	t->uid = getuid();
	t->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &t->born);
	return t;
}

void tree_stop(struct tree *t)
{
	park_stop(&t->parks);
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	/* The session is gone: nobody to answer. */
	park_free(&t->parks);
	/* Files still open at exit: no release will come for them. */
	while (t->handles)
		tree_handle_free(t, t->handles);
	until_map_free(t->untils);
	watch_free(t->watch);
	free(t->socket_path);
	free(t);
}

void tree_event(struct tree *t, const struct cal_event *ev)
{
	watch_event(t->watch, t->cal, ev);
}

static const struct fuse_lowlevel_ops tree_ll_ops = {
	.init = tree_op_init,
	.lookup = tree_op_lookup,
	.getattr = tree_op_getattr,
	.setattr = tree_op_setattr,
	.open = tree_op_open,
	.read = tree_op_read,
	.write = tree_op_write,
	.release = tree_op_release,
	.poll = tree_op_poll,
	.forget = tree_op_forget,
	.forget_multi = tree_op_forget_multi,
	.opendir = tree_op_opendir,
	.readdir = tree_op_readdir,
	.releasedir = tree_op_releasedir,
	.statfs = tree_op_statfs,
	.mknod = tree_op_mknod,
	.mkdir = tree_op_mkdir,
	.unlink = tree_op_unlink,
	.rmdir = tree_op_unlink,
	.symlink = tree_op_symlink,
	.rename = tree_op_rename,
	.link = tree_op_link,
	.create = tree_op_create,
};

const struct fuse_lowlevel_ops *tree_ops(void)
{
	return &tree_ll_ops;
}
