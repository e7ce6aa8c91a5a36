/* SPDX-License-Identifier: MIT */
/* sock.c: the socket adapter (see sock.h). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "evsleep.h"
#include "frame.h"
#include "log.h"
#include "shm.h"
#include "sock.h"

/* A client that lets this much pile up unread is not reading: drop it. */
#define SOCK_OUT_MAX (64u * 1024u)
#define SOCK_READ_SIZE 4096u

struct sock_client {
	ev_io io; /* first: the watcher's pointer is the client's */
	struct sock_server *srv;
	struct cal_client *cc;
	int fd;
	struct frame in; /* a message split across reads */
	unsigned char *out;
	size_t out_len, out_cap;
	bool writing; /* io also watches EV_WRITE */
	const char *dead; /* why it must be dropped, or NULL */
	struct sock_client *dprev, *dnext; /* on the dirty list */
	bool dirty;
	struct sock_client *prev, *next; /* all clients */
};

struct sock_server {
	struct ev_loop *loop;
	struct cal *cal;
	ev_io listen_io;
	/* Out of resources: listen again later (an evsleep_timer, as every
	 * timer of the process must be: see fs/evsleep.h). */
	struct evsleep_timer listen_pause;
	int fd;
	/* The log descriptor of every START's ACK: kernels close it unused,
	 * USFSTL's library writes its debug log there. */
	int logfd;
	/* The shared-memory scheduling page (-1/NULL: --no-shm).  We own
	 * the mapping; the core borrows it between attach and detach. */
	int shmfd;
	void *shm;
	size_t shm_len;
	/* Held open so that, out of descriptors, we can still accept and
	 * close a connection instead of spinning on it (see accept). */
	int reserve_fd;
	unsigned int nclients, max_clients, shm_clients;
	uint64_t activity; /* client socket events, for sock_activity */
	char *path;
	struct sock_client *all;
	struct sock_client *dirty;
};

static void sock_dirty_add(struct sock_server *s, struct sock_client *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->dprev = NULL;
	c->dnext = s->dirty;
	if (s->dirty)
		s->dirty->dprev = c;
	s->dirty = c;
}

static void sock_dirty_del(struct sock_server *s, struct sock_client *c)
{
	if (!c->dirty)
		return;
	c->dirty = false;
	if (c->dprev)
		c->dprev->dnext = c->dnext;
	else
		s->dirty = c->dnext;
	if (c->dnext)
		c->dnext->dprev = c->dprev;
}

static void sock_client_close(struct sock_server *s, struct sock_client *c)
{
	sock_dirty_del(s, c);
	ev_io_stop(s->loop, &c->io);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nclients--;
	free(c->out);
	free(c);
}

static void sock_client_drop(struct sock_server *s, struct sock_client *c,
			     const char *why)
{
	uint64_t id = 0;
	char ids[24] = "none";

	if (cal_client_id(c->cc, &id))
		snprintf(ids, sizeof(ids), "%llu", (unsigned long long)id);
	if (why)
		log_info("client %llu (id %s, pid %ld) dropped: %s",
			 (unsigned long long)cal_client_number(c->cc), ids,
			 (long)cal_client_pid(c->cc), why);
	else
		log_info("client %llu (id %s, pid %ld) left",
			 (unsigned long long)cal_client_number(c->cc), ids,
			 (long)cal_client_pid(c->cc));
	/* Answers to what it said before its mistake still go out, best
	 * effort, so what it sees does not depend on how reads split. */
	if (c->out_len > 0 &&
	    send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("client %llu: final answers lost: %s",
			  (unsigned long long)cal_client_number(c->cc),
			  strerror(errno));
	/* Close first: the core may hand the turn on and send to others,
	 * never to this one. */
	{
		struct cal_client *cc = c->cc;

		sock_client_close(s, c);
		cal_client_free(s->cal, cc);
	}
}

static void sock_watch_write(struct sock_server *s, struct sock_client *c,
			     bool on)
{
	if (c->writing == on)
		return;
	c->writing = on;
	ev_io_stop(s->loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_READ | (on ? EV_WRITE : 0));
	ev_io_start(s->loop, &c->io);
}

/* Write what is queued; false if the client must go. */
static bool sock_client_write(struct sock_server *s, struct sock_client *c)
{
	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				sock_watch_write(s, c, true);
				return true;
			}
			c->dead = "write failed";
			return false;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	sock_watch_write(s, c, false);
	return true;
}

/*
 * The page that declines shared memory, fresh for each client that gets
 * it, so that none can change what another is offered.  Every client
 * maps it read-write and shared before it reads the version (USFSTL's
 * library asserts the mapping worked, then grows it to len): so it is
 * writable, its len is its size, and its version is not 2.
 */
static int sock_decline_page(void)
{
	struct tt_shm_hdr h = { .version = 0, .len = TT_SHM_HDR_SIZE };
	int fd = memfd_create("ttfs-noshm", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	errno = EIO; /* a short pwrite sets none */
	if (ftruncate(fd, TT_SHM_HDR_SIZE) < 0 ||
	    pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_SEAL) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* START's ACK carries two descriptors: a 6.11+ kernel reads it with
 * recvmsg and closes whatever its fd array holds, initialised or not. */
static void sock_send_start_ack(struct sock_client *c,
				const struct um_timetravel_msg *m)
{
	bool slot = c->cc && cal_client_slot(c->cc);
	int page = slot ? c->srv->shmfd : sock_decline_page();
	int fds[TT_SHARED_MAX_FDS] = { page, c->srv->logfd };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(fds))];
	} ctl;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	if (page < 0) {
		log_error("client %llu: cannot make the page that declines "
			  "shared memory: %s",
			  (unsigned long long)cal_client_number(c->cc),
			  strerror(-page));
		c->dead = "no page to decline shared memory with";
		return;
	}
	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	do
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (!slot)
		close(page); /* the client has its own copy now */
	/* The client sent START and waits: its buffer is empty, so a short
	 * write means it is gone or broken. */
	if (n != (ssize_t)sizeof(*m))
		c->dead = "cannot send START's ACK";
}

void sock_send(void *client_data, const struct um_timetravel_msg *msgs,
	       unsigned int n, bool start_ack)
{
	struct sock_client *c = client_data;
	size_t len = (size_t)n * sizeof(*msgs);

	if (c->dead)
		return;
	if (log_debug_enabled()) {
		unsigned int i;

		for (i = 0; i < n; i++)
			log_debug("client %llu <- %s seq=%u time=%llu%s",
				  (unsigned long long)cal_client_number(c->cc),
				  tt_op_name(msgs[i].op), msgs[i].seq,
				  (unsigned long long)msgs[i].time,
				  start_ack && i == 0 ? " fds=2" : "");
	}
	if (start_ack) {
		/* Sent at once, past the queue: in order only because the
		 * core sends a client nothing before START's ACK. */
		assert(c->out_len == 0);
		sock_send_start_ack(c, msgs);
		if (c->dead)
			sock_dirty_add(c->srv, c);
		msgs++;
		len -= sizeof(*msgs);
		if (len == 0)
			return;
	}
	if (c->out_len + len > SOCK_OUT_MAX) {
		c->dead = "not reading its socket";
		sock_dirty_add(c->srv, c);
		return;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 256;
		unsigned char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			c->dead = "out of memory";
			sock_dirty_add(c->srv, c);
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, msgs, len);
	c->out_len += len;
	sock_dirty_add(c->srv, c);
}

uint64_t sock_activity(const struct sock_server *s)
{
	return s->activity;
}

void sock_kick(void *client_data)
{
	struct sock_client *c = client_data;

	if (!c->dead)
		c->dead = "disconnected through the tree";
	sock_dirty_add(c->srv, c);
}

void sock_flush(struct sock_server *s)
{
	/* Dropping a client may hand the turn on and queue more: loop. */
	while (s->dirty) {
		struct sock_client *c = s->dirty;

		sock_dirty_del(s, c);
		if (!c->dead)
			sock_client_write(s, c);
		if (c->dead)
			sock_client_drop(s, c, c->dead);
	}
}

static int sock_client_input(void *data, const struct um_timetravel_msg *m)
{
	struct sock_client *c = data;
	const char *why = "broken";

	if (log_debug_enabled()) /* spare the arguments on every message */
		log_debug("client %llu -> %s seq=%u time=%llu",
			  (unsigned long long)cal_client_number(c->cc),
			  tt_op_name(m->op), m->seq,
			  (unsigned long long)m->time);
	if (cal_client_input(c->srv->cal, c->cc, m, &why) < 0) {
		c->dead = why;
		return -EPROTO;
	}
	if (m->op == UM_TIMETRAVEL_START)
		log_info("client %llu started (id %llu, pid %ld)",
			 (unsigned long long)cal_client_number(c->cc),
			 (unsigned long long)m->time,
			 (long)cal_client_pid(c->cc));
	/* Sending to it may have failed meanwhile: stop reading it. */
	return c->dead ? -EPIPE : 0;
}

static void sock_client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock_client *c = (struct sock_client *)w;
	struct sock_server *s = c->srv;
	unsigned char buf[SOCK_READ_SIZE];

	(void)loop;
	s->activity++;
	if (revents & EV_WRITE) {
		if (!sock_client_write(s, c)) {
			sock_client_drop(s, c, c->dead);
			sock_flush(s);
			return;
		}
	}
	if (revents & EV_READ) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			sock_client_drop(s, c, n < 0 ? "read failed" :
					 frame_partial(&c->in) ?
					 "hang-up mid-message" : NULL);
			sock_flush(s);
			return;
		}
		if (frame_feed(&c->in, buf, (size_t)n, sock_client_input,
			       c) < 0) {
			sock_client_drop(s, c, c->dead);
			sock_flush(s);
			return;
		}
	}
	/* Batch: everything this input caused goes out now, in one write
	 * per client. */
	sock_flush(s);
}

static void sock_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock_server *s = w->data;

	(void)loop;
	(void)revents;
	for (;;) {
		struct sock_client *c;
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		int fd = accept4(s->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    s->reserve_fd >= 0) {
			/* The connection would stay pending and the listener
			 * readable forever: free a descriptor, take it, shut
			 * it. */
			close(s->reserve_fd);
			fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
			s->reserve_fd = -1;
			if (fd >= 0)
				close(fd);
			s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			/* accept fails with EMFILE before it looks at the
			 * queue: only an accepted connection means more may
			 * wait. */
			if (fd < 0)
				return;
			log_error("refused a client: out of file descriptors "
				  "(%u clients)", s->nclients);
			continue;
		}
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_error("cannot accept a client: %s",
				  strerror(errno));
			/* The connection stays pending and the listener
			 * readable: stop looking for a while, not spin. */
			ev_io_stop(s->loop, &s->listen_io);
			ev_timer_start(s->loop, &s->listen_pause.w);
			return;
		}
		if (s->nclients >= s->max_clients) {
			close(fd);
			log_error("refused a client: %u clients already "
				  "(--max-clients)", s->nclients);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0)
			cred.pid = 0;
		c->srv = s;
		c->fd = fd;
		c->cc = cal_client_new(s->cal, c, cred.pid);
		if (!c->cc) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->all;
		if (s->all)
			s->all->prev = c;
		s->all = c;
		s->nclients++;
		ev_io_init(&c->io, sock_client_cb, fd, EV_READ);
		ev_io_start(s->loop, &c->io);
		log_info("client %llu connected (pid %ld)",
			 (unsigned long long)cal_client_number(c->cc),
			 (long)cred.pid);
	}
}

static void sock_listen_again(struct ev_loop *loop, ev_timer *w,
			      int revents)
{
	struct sock_server *s = w->data;

	(void)revents;
	if (s->reserve_fd < 0)
		s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ev_io_start(loop, &s->listen_io);
}

/* Is a live server listening at path?  Then it is not ours to take. */
static bool sock_path_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

/* The page is sized up front for --shm-clients (at most --max-clients):
 * a kernel maps its length once.  Clients beyond use messages. */
static int sock_shm_open(struct sock_server *s)
{
	unsigned int max = s->shm_clients ? s->shm_clients :
			   SOCK_DEFAULT_SHM_CLIENTS;

	if (s->max_clients && s->max_clients < max)
		max = s->max_clients;
	int err;

	s->shm_len = shm_size(shm_slots_for(max));
	/* Fixed in size: a client that shrank it would SIGBUS us. */
	s->shmfd = memfd_create("ttfs-sched", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->shmfd < 0 || ftruncate(s->shmfd, (off_t)s->shm_len) < 0 ||
	    fcntl(s->shmfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_SEAL) < 0)
		return -errno;
	s->shm = mmap(NULL, s->shm_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      s->shmfd, 0);
	if (s->shm == MAP_FAILED) {
		s->shm = NULL;
		return -errno;
	}
	err = cal_shm_attach(s->cal, s->shm, s->shm_len);
	return err;
}

static void sock_shm_close(struct sock_server *s)
{
	if (s->shm) {
		cal_shm_detach(s->cal);
		munmap(s->shm, s->shm_len);
		s->shm = NULL;
	}
	if (s->shmfd >= 0)
		close(s->shmfd);
	s->shmfd = -1;
}

int sock_server_new(struct ev_loop *loop, struct cal *cal, const char *path,
		    const struct sock_config *cfg, struct sock_server **out)
{
	mode_t mode = cfg->mode;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sock_server *s;
	struct stat st;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (sock_path_live(&sa))
			return -EADDRINUSE;
		unlink(path); /* stale: its server is gone */
	}

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->cal = cal;
	s->fd = s->logfd = s->shmfd = -1;
	s->max_clients = cfg->max_clients;
	s->shm_clients = cfg->shm_clients;
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->path = strdup(path);
	s->logfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!s->path || s->logfd < 0) {
		err = s->path ? -errno : -ENOMEM;
		goto fail;
	}
	if (!cfg->no_shm) {
		err = sock_shm_open(s);
		if (err < 0)
			goto fail;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		err = -errno;
		goto fail;
	}
	/* Create it with the right mode from the start: no window where
	 * others may connect. */
	{
		mode_t old = umask(~mode & 0777);
		int r = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));

		err = -errno;
		umask(old);
		if (r < 0)
			goto fail;
	}
	if (chmod(path, mode) < 0 ||
	    (cfg->gid != (gid_t)-1 && chown(path, (uid_t)-1, cfg->gid) < 0) ||
	    listen(s->fd, 128) < 0) {
		err = -errno;
		unlink(path);
		goto fail;
	}
	ev_io_init(&s->listen_io, sock_accept_cb, s->fd, EV_READ);
	s->listen_io.data = s;
	evsleep_timer_init(&s->listen_pause, sock_listen_again, 0.1, 0.0);
	s->listen_pause.w.data = s;
	ev_io_start(loop, &s->listen_io);
	*out = s;
	return 0;
fail:
	sock_shm_close(s);
	if (s->fd >= 0)
		close(s->fd);
	if (s->logfd >= 0)
		close(s->logfd);
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
	free(s->path);
	free(s);
	return err;
}

void sock_server_free(struct sock_server *s)
{
	if (!s)
		return;
	while (s->all) {
		struct sock_client *c = s->all;
		struct cal_client *cc = c->cc;

		sock_client_close(s, c);
		cal_client_free(s->cal, cc);
	}
	ev_io_stop(s->loop, &s->listen_io);
	ev_timer_stop(s->loop, &s->listen_pause.w);
	evsleep_timer_forget(&s->listen_pause);
	sock_shm_close(s);
	close(s->fd);
	close(s->logfd);
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
	unlink(s->path);
	free(s->path);
	free(s);
}
