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
 * Files are direct_io and every timeout is 0: the kernel caches nothing,
 * so the tree never needs fuse_lowlevel_notify_*, which could deadlock a
 * single-threaded daemon against a request the kernel waits on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
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

#include "tree.h"
#include "ttime.h"

enum {
	INO_ROOT = 1, /* FUSE_ROOT_ID */
	INO_CLOCK,
	INO_STATE,
	INO_SOCKET,
	INO_TOD,
	INO_CLIENTS,
};

/* Files of clients/N; CF_DIR is the directory itself. */
enum {
	CF_DIR,
	CF_ID,
	CF_STATE,
	CF_NEXT,
	CF_PID,
	CF_COUNTERS,
	CF_COUNT,
};

#define CF_BITS 4
_Static_assert(CF_COUNT <= (1 << CF_BITS), "client files fit CF_BITS");

/* Any rendered value fits, the socket path included (sun_path is 108). */
#define RENDER_MAX 4096
/* Every value written is short; more is a mistake, not a value. */
#define WRITE_MAX 4096

struct top_file {
	const char *name;
	fuse_ino_t ino;
	mode_t mode;
};

/* In readdir order. */
static const struct top_file top_files[] = {
	{ "clock", INO_CLOCK, S_IFREG | 0644 },
	{ "clients", INO_CLIENTS, S_IFDIR | 0555 },
	{ "socket", INO_SOCKET, S_IFREG | 0444 },
	{ "state", INO_STATE, S_IFREG | 0644 },
	{ "tod", INO_TOD, S_IFREG | 0644 },
};
#define TOP_COUNT (sizeof(top_files) / sizeof(top_files[0]))

static const char *const client_files[CF_COUNT] = {
	[CF_ID] = "id",
	[CF_STATE] = "state",
	[CF_NEXT] = "next_request",
	[CF_PID] = "pid",
	[CF_COUNTERS] = "counters",
};

enum park_kind {
	PARK_CLOCK, /* until cal_clock() >= target */
	PARK_PAUSE, /* until cal_runner() == NULL */
};

struct park {
	struct park *next;
	fuse_req_t req;
	enum park_kind kind;
	uint64_t target;
	size_t nbytes;
	/* Set by the interrupt callback, which must not reply itself. */
	bool interrupted;
};

struct tree {
	struct cal *cal;
	char *socket_path;
	uid_t uid;
	gid_t gid;
	struct timespec born;
	struct park *parks; /* oldest first */
};

/* A resolved inode. */
struct node {
	fuse_ino_t ino;
	mode_t mode;
	struct cal_client *client; /* clients/N and below, else NULL */
	unsigned int file;         /* CF_* when client != NULL */
};

/* A per-open buffer: a rendered file, or a directory's fuse_add_direntry
 * listing. */
struct handle {
	char *data;
	size_t len;
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
		n->mode = S_IFDIR | 0555;
		return 0;
	}
	for (size_t i = 0; i < TOP_COUNT; i++) {
		if (top_files[i].ino == ino) {
			n->mode = top_files[i].mode;
			return 0;
		}
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
	n->mode = file == CF_DIR ? S_IFDIR | 0555 : S_IFREG | 0444;
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
	for (unsigned int f = CF_DIR + 1; f < CF_COUNT; f++) {
		if (!strcmp(name, client_files[f])) {
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

static const char *tree_client_state(enum cal_client_state s)
{
	switch (s) {
	case CAL_CLIENT_NEW:
	case CAL_CLIENT_HELD:
		return "starting";
	case CAL_CLIENT_RUNNING:
		return "running";
	case CAL_CLIENT_WAITING:
		return "waiting";
	}
	return "unknown";
}

static int tree_render_counters(const struct cal_client *c, char *buf,
				size_t cap)
{
	const uint64_t *dirs[2] = { cal_client_received(c),
				    cal_client_sent(c) };
	const char *prefix[2] = { "rx", "tx" };
	int len = 0;

	for (int d = 0; d < 2; d++) {
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

static int tree_render_client(const struct node *n, char *buf, size_t cap)
{
	const struct cal_client *c = n->client;
	uint64_t v;

	switch (n->file) {
	case CF_ID:
		if (!cal_client_id(c, &v))
			return tree_print(buf, cap, 0, "none\n");
		return tree_print(buf, cap, 0, "%" PRIu64 "\n", v);
	case CF_STATE:
		return tree_print(buf, cap, 0, "%s\n",
				  tree_client_state(cal_client_state(c)));
	case CF_NEXT:
		v = cal_client_request(c);
		if (v == CAL_TIME_NONE)
			return tree_print(buf, cap, 0, "none\n");
		return tree_print(buf, cap, 0, "%" PRIu64 "\n", v);
	case CF_PID:
		return tree_print(buf, cap, 0, "%ld\n",
				  (long)cal_client_pid(c));
	case CF_COUNTERS:
		return tree_render_counters(c, buf, cap);
	}
	return -EISDIR;
}

/* A regular file's content: its length, or a negative errno. */
static int tree_render(const struct tree *t, const struct node *n, char *buf,
		       size_t cap)
{
	if (n->client)
		return tree_render_client(n, buf, cap);
	switch (n->ino) {
	case INO_CLOCK:
		return tree_print(buf, cap, 0, "%" PRIu64 "\n",
				  cal_clock(t->cal));
	case INO_STATE:
		return tree_print(buf, cap, 0, "%s\n",
				  cal_is_running(t->cal) ? "running" : "paused");
	case INO_SOCKET:
		return tree_print(buf, cap, 0, "%s\n", t->socket_path);
	case INO_TOD:
		return tree_print(buf, cap, 0, "%" PRIu64 "\n",
				  cal_tod(t->cal));
	}
	return -EISDIR;
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
		/* . and .. plus one per subdirectory, as find(1) expects. */
		if (n->ino == INO_ROOT)
			st->st_nlink = 3;
		else if (n->ino == INO_CLIENTS)
			st->st_nlink = 2 + cal_client_count(t->cal);
		else
			st->st_nlink = 2;
		return;
	}
	st->st_nlink = 1;

	/* The current length: cheap, and tools that trust st_size work. */
	char buf[RENDER_MAX];
	int len = tree_render(t, n, buf, sizeof(buf));

	st->st_size = len > 0 ? len : 0;
}

static void tree_handle_free(struct handle *h)
{
	if (h) {
		free(h->data);
		free(h);
	}
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
	struct handle nh = { NULL, 0 };
	fuse_ino_t up = n->ino == INO_ROOT ? INO_ROOT :
			n->ino == INO_CLIENTS ? INO_ROOT : INO_CLIENTS;
	int err = tree_dir_add(req, &nh, ".", n->ino, S_IFDIR);

	if (!err)
		err = tree_dir_add(req, &nh, "..", up, S_IFDIR);
	if (n->ino == INO_ROOT) {
		for (size_t i = 0; !err && i < TOP_COUNT; i++)
			err = tree_dir_add(req, &nh, top_files[i].name,
					   top_files[i].ino, top_files[i].mode);
	} else if (n->ino == INO_CLIENTS) {
		for (struct cal_client *c = cal_client_first(t->cal);
		     !err && c; c = cal_client_next(t->cal, c)) {
			uint64_t number = cal_client_number(c);
			char name[24];

			snprintf(name, sizeof(name), "%" PRIu64, number);
			err = tree_dir_add(req, &nh, name,
					   tree_client_ino(number, CF_DIR),
					   S_IFDIR);
		}
	} else {
		uint64_t number = cal_client_number(n->client);

		for (unsigned int f = CF_DIR + 1; !err && f < CF_COUNT; f++)
			err = tree_dir_add(req, &nh, client_files[f],
					   tree_client_ino(number, f), S_IFREG);
	}
	if (err) {
		free(nh.data);
		return err;
	}
	free(h->data);
	*h = nh;
	return 0;
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

/* --- parked writes --- */

static void tree_interrupted(fuse_req_t req, void *data)
{
	struct park *p = data;

	/* Only note it: this may run inside fuse_req_interrupt_func() or
	 * while libfuse holds the request; tree_process() replies. */
	(void)req;
	p->interrupted = true;
}

static int tree_park(struct tree *t, fuse_req_t req, enum park_kind kind,
		     uint64_t target, size_t nbytes)
{
	struct park *p = calloc(1, sizeof(*p));
	struct park **pp = &t->parks;

	if (!p)
		return -ENOMEM;
	p->req = req;
	p->kind = kind;
	p->target = target;
	p->nbytes = nbytes;
	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
	/* After listing it: the callback may run at once, from in here. */
	fuse_req_interrupt_func(req, tree_interrupted, p);
	return 1;
}

/* 1: answered (and to be removed), 0: still waiting. */
static int tree_park_try(struct tree *t, struct park *p)
{
	if (p->interrupted) {
		/* The writer gave up: do not leave the clock running for
		 * nobody. */
		if (p->kind == PARK_CLOCK)
			cal_set_run(t->cal, false);
		fuse_reply_err(p->req, EINTR);
		return 1;
	}
	switch (p->kind) {
	case PARK_CLOCK:
		if (cal_clock(t->cal) >= p->target)
			break;
		if (cal_is_running(t->cal))
			return 0;
		/* Paused before the target: the advance was called off. */
		fuse_reply_err(p->req, ECANCELED);
		return 1;
	case PARK_PAUSE:
		if (cal_runner(t->cal))
			return 0;
		break;
	}
	fuse_reply_write(p->req, p->nbytes);
	return 1;
}

void tree_process(struct tree *t)
{
	bool again = true;

	/* Answering one (an interrupt pauses the calendar) may end another's
	 * wait, so go round until a pass changes nothing. */
	while (again) {
		again = false;
		for (struct park **pp = &t->parks; *pp;) {
			struct park *p = *pp;

			if (tree_park_try(t, p)) {
				*pp = p->next;
				free(p);
				again = true;
			} else {
				pp = &p->next;
			}
		}
	}
}

unsigned int tree_parked(const struct tree *t)
{
	unsigned int n = 0;

	for (const struct park *p = t->parks; p; p = p->next)
		n++;
	return n;
}

/* --- writes: <0 errno, 0 answer now, 1 parked --- */

/* buf is exactly word, or word and one newline. */
static bool tree_text_is(const char *buf, size_t size, const char *word)
{
	size_t n = strlen(word);

	return (size == n || (size == n + 1 && buf[n] == '\n')) &&
	       !memcmp(buf, word, n);
}

static int tree_write_clock(struct tree *t, fuse_req_t req, const char *buf,
			    size_t size)
{
	uint64_t now = cal_clock(t->cal);
	uint64_t target;
	int err;

	/* Out of range is as wrong as not a time: both are bad text here. */
	if (ttime_parse(buf, size, now, &target) < 0 || target < now)
		return -EINVAL;
	err = cal_advance(t->cal, target);
	if (err < 0)
		return err;
	if (cal_clock(t->cal) >= target)
		return 0;
	return tree_park(t, req, PARK_CLOCK, target, size);
}

static int tree_write_state(struct tree *t, fuse_req_t req, const char *buf,
			    size_t size)
{
	if (tree_text_is(buf, size, "run")) {
		cal_set_run(t->cal, true);
		return 0;
	}
	if (tree_text_is(buf, size, "pause")) {
		cal_set_run(t->cal, false);
		/* Paused means nobody runs: wait for the runner's WAIT. */
		if (!cal_runner(t->cal))
			return 0;
		return tree_park(t, req, PARK_PAUSE, 0, size);
	}
	return -EINVAL;
}

static int tree_write_tod(struct tree *t, const char *buf, size_t size)
{
	uint64_t tod;

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

static void tree_op_lookup(fuse_req_t req, fuse_ino_t parent,
			   const char *name)
{
	struct tree *t = tree_of(req);
	struct fuse_entry_param e;
	struct node pn, n;
	fuse_ino_t ino = 0;
	int err = tree_node(t, parent, &pn);

	if (!err)
		err = tree_child(t, &pn, name, &ino);
	if (!err)
		err = tree_node(t, ino, &n);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = ino;
	e.attr_timeout = 0.0;
	e.entry_timeout = 0.0;
	tree_stat(t, &n, &e.attr);
	fuse_reply_entry(req, &e);
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
	fuse_reply_attr(req, &st, 0.0);
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
	fuse_reply_attr(req, &st, 0.0);
}

static void tree_op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct node n;
	int err = tree_node(tree_of(req), ino, &n);

	/* Without default_permissions the kernel asks us; the mode bits are
	 * the truth (being root does not make socket writable either). */
	if (!err && (mask & W_OK) && !(n.mode & 0222))
		err = -EACCES;
	if (!err && (mask & X_OK) && !(n.mode & 0111))
		err = -EACCES;
	fuse_reply_err(req, -err);
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
	h = err ? NULL : calloc(1, sizeof(*h));
	if (!err && !h)
		err = -ENOMEM;
	/* O_TRUNC needs nothing: a write replaces the value whole. */
	if (!err && (fi->flags & O_ACCMODE) != O_WRONLY)
		err = tree_handle_render(t, &n, h);
	if (err) {
		tree_handle_free(h);
		fuse_reply_err(req, -err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	fi->nonseekable = 0;
	fi->keep_cache = 0;
	/* -ENOENT: the open was interrupted and no release will come. */
	if (fuse_reply_open(req, fi) == -ENOENT)
		tree_handle_free(h);
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

	/* Fresh data for a re-read from the start; a client that left keeps
	 * its last rendering. */
	if (off == 0 && !tree_node(t, ino, &n))
		tree_handle_render(t, &n, h);
	tree_reply_slice(req, h->data, h->len, off, size);
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
	if (!r) {
		switch (ino) {
		case INO_CLOCK:
			r = tree_write_clock(t, req, buf, size);
			break;
		case INO_STATE:
			r = tree_write_state(t, req, buf, size);
			break;
		case INO_TOD:
			r = tree_write_tod(t, buf, size);
			break;
		default:
			r = -EACCES;
			break;
		}
	}
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
	tree_handle_free(tree_handle(fi));
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
	if (!err && !(h = calloc(1, sizeof(*h))))
		err = -ENOMEM;
	/* The snapshot readdir slices; offset 0 takes a new one. */
	if (!err)
		err = tree_dir_list(t, req, &n, h);
	if (err) {
		tree_handle_free(h);
		fuse_reply_err(req, -err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	if (fuse_reply_open(req, fi) == -ENOENT)
		tree_handle_free(h);
}

static void tree_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			    off_t off, struct fuse_file_info *fi)
{
	struct tree *t = tree_of(req);
	struct handle *h = tree_handle(fi);
	struct node n;

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
	tree_handle_free(tree_handle(fi));
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

struct tree *tree_new(struct cal *cal, const char *socket_path)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->socket_path = strdup(socket_path ? socket_path : "");
	if (!t->socket_path) {
		free(t);
		return NULL;
	}
	t->cal = cal;
	t->uid = getuid();
	t->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &t->born);
	return t;
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	/* The session is gone: nobody to answer. */
	while (t->parks) {
		struct park *p = t->parks;

		t->parks = p->next;
		free(p);
	}
	free(t->socket_path);
	free(t);
}

static const struct fuse_lowlevel_ops tree_ll_ops = {
	.init = tree_op_init,
	.lookup = tree_op_lookup,
	.getattr = tree_op_getattr,
	.setattr = tree_op_setattr,
	.access = tree_op_access,
	.open = tree_op_open,
	.read = tree_op_read,
	.write = tree_op_write,
	.release = tree_op_release,
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
