/* SPDX-License-Identifier: MIT */
/*
 * main.c: the ttfs daemon.  One thread, one libev loop: the listening
 * socket, every client socket and the FUSE session's fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "cal.h"
#include "evsleep.h"
#include "log.h"
#include "opts.h"
#include "shm.h"
#include "sock.h"
#include "tree.h"
#include "ttime.h"

struct daemon {
	struct ev_loop *loop;
	struct cal *cal;
	struct sock_server *srv;
	struct tree *tree;
	struct fuse_session *se;
	struct fuse_buf fbuf;
	/* The tree yields to the simulation: see daemon_fuse_cb.  The
	 * loop watches the gate, an epoll set holding the FUSE fd while the
	 * tree is open, so a request sent during a pause wakes nobody. */
	ev_io fuse_io;
	int fuse_gate;
	bool fuse_paused;
	uint64_t fuse_resume; /* CLOCK_MONOTONIC ns: the pause's end */
	/* A timerfd (see evsleep.h) armed at each pause: it ends the pause
	 * if the clients fall quiet and no loop turn comes to end it. */
	ev_io fuse_backstop_io;
	int fuse_backstop;
	uint64_t fuse_seen; /* sock_activity at the last FUSE request */
	ev_prepare prepare;
	/* --busy-poll: an idle watcher keeps the loop polling (never
	 * sleeping) until busy_poll has passed since a client last spoke. */
	ev_idle busy;
	double busy_poll, busy_since;
	uint64_t busy_seen;
	struct evsleep_timer pace_timer;
	/* Parked requests' signals, stats samples: a timerfd, not an
	 * ev_timer, so that libev has no timer due and may sleep forever
	 * (evsleep.h). */
	ev_io watch_io;
	int watch_fd;
	bool idle; /* no client, nothing waiting: the tick is stopped */
	ev_signal sigs[3];
};

/* While clients are talking, the tree closes after each answer for 19
 * times as long as it took (within MIN and MAX), so a reader takes at
 * most about 1/20 of the loop; the pause's end is checked each turn, the
 * backstop timerfd ends it if the clients fall quiet (docs/design.md,
 * "The simulation goes first"). */
#define FUSE_PAUSE_FACTOR 19.0
#define FUSE_PAUSE_MIN 300000 /* ns */
#define FUSE_PAUSE_MAX 2000000 /* ns */
#define FUSE_PAUSE_BACKSTOP 10000000 /* ns; more than FUSE_PAUSE_MAX */

static uint64_t daemon_now(void *data);

static int daemon_fuse_gate(struct daemon *d, bool open)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (epoll_ctl(d->fuse_gate, open ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
		      fuse_session_fd(d->se), &ev) < 0)
		return -errno;
	return 0;
}

static void daemon_fuse_resume(struct daemon *d)
{
	int r;

	d->fuse_paused = false;
	r = daemon_fuse_gate(d, true);
	if (r < 0) {
		/* The tree could never be served again, unmount included. */
		log_error("cannot watch the FUSE session again: %s",
			  strerror(-r));
		ev_break(d->loop, EVBREAK_ALL);
	}
}

static void daemon_fuse_backstop_cb(struct ev_loop *loop, ev_io *w,
				    int revents)
{
	struct daemon *d = w->data;
	uint64_t expired;

	(void)loop;
	(void)revents;
	if (read(d->fuse_backstop, &expired, sizeof(expired)) < 0)
		return;
	/* A pause is at most FUSE_PAUSE_MAX: one still on is overdue. */
	if (d->fuse_paused)
		daemon_fuse_resume(d);
}

static void daemon_fuse_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon *d = w->data;
	uint64_t t0 = daemon_now(d), took, pause;
	uint64_t seen;
	int r;

	(void)revents;
	r = fuse_session_receive_buf(d->se, &d->fbuf);
	if (r == -EINTR || r == -EAGAIN)
		return;
	if (r <= 0) {
		/* 0 or -ENODEV: unmounted. */
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	tree_count_request(d->tree);
	fuse_session_process_buf(d->se, &d->fbuf);
	if (fuse_session_exited(d->se)) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	seen = sock_activity(d->srv);
	if (seen == d->fuse_seen)
		return;
	d->fuse_seen = seen;
	took = daemon_now(d) - t0;
	pause = (double)took * FUSE_PAUSE_FACTOR < FUSE_PAUSE_MAX ?
		(uint64_t)((double)took * FUSE_PAUSE_FACTOR) : FUSE_PAUSE_MAX;
	if (pause < FUSE_PAUSE_MIN)
		pause = FUSE_PAUSE_MIN;
	/* Armed first: a pause must never outlive its backstop. */
	if (timerfd_settime(d->fuse_backstop, 0, &(struct itimerspec){
				    .it_value = { .tv_nsec = FUSE_PAUSE_BACKSTOP },
			    }, NULL) < 0 ||
	    daemon_fuse_gate(d, false) < 0)
		return; /* no pause, then */
	d->fuse_paused = true;
	d->fuse_resume = t0 + took + pause;
}

/* Polling while a client is likely to answer soon spares the turn a
 * sleep and a wake-up: on a VM, a halted CPU woken by an interrupt. */
static void daemon_busy_update(struct daemon *d)
{
	uint64_t seen = sock_activity(d->srv);
	double now = ev_now(d->loop);

	if (seen != d->busy_seen) {
		d->busy_seen = seen;
		d->busy_since = now;
	}
	/* ev_now is the wall clock: a step back ends the polling. */
	if (now >= d->busy_since && now - d->busy_since < d->busy_poll)
		ev_idle_start(d->loop, &d->busy);
	else
		ev_idle_stop(d->loop, &d->busy);
}

static void daemon_busy_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	/* Whoever else wants this CPU (a client pinned with us) goes first. */
	sched_yield();
}

static void daemon_idle_update(struct daemon *d);

static void daemon_prepare_cb(struct ev_loop *loop, ev_prepare *w,
			      int revents)
{
	struct daemon *d = w->data;

	(void)loop;
	(void)revents;
	/* Drops (sock_flush) may move the clock, and answering parked
	 * requests may send: flush, answer, flush. */
	sock_flush(d->srv);
	tree_process(d->tree);
	sock_flush(d->srv);
	if (d->busy_poll > 0)
		daemon_busy_update(d);
	if (d->fuse_paused && daemon_now(d) >= d->fuse_resume)
		daemon_fuse_resume(d);
	daemon_idle_update(d);
}

#define WATCH_EVERY 100000000 /* ns: the tick of daemon_watch_cb */

/* Idle (no client, nothing waiting on the tree) means asleep: the tick
 * stops until something comes.  A stats sample at each edge (the clock
 * stands still meanwhile but for jumps, which sample themselves). */
static void daemon_idle_update(struct daemon *d)
{
	bool idle = cal_client_count(d->cal) == 0 && !tree_busy(d->tree);
	struct itimerspec its = { 0 };

	if (idle == d->idle || d->watch_fd < 0)
		return;
	d->idle = idle;
	if (!idle)
		its.it_interval.tv_nsec = its.it_value.tv_nsec = WATCH_EVERY;
	tree_sample(d->tree);
	if (timerfd_settime(d->watch_fd, 0, &its, NULL) < 0)
		log_error("the tick's timerfd: %s", strerror(errno));
}

static void daemon_watch_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon *d = w->data;
	uint64_t expired;

	/* Waking is the point (the prepare watcher runs next, for parked
	 * requests); and the stats' samples are taken here. */
	(void)loop;
	(void)revents;
	if (read(d->watch_fd, &expired, sizeof(expired)) < 0)
		return; /* EAGAIN: another wake-up came first */
	tree_tick(d->tree);
}

static void daemon_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static void daemon_changed(void *data)
{
	/* Parked requests are looked at in the prepare watcher, once per
	 * loop turn, never from inside the core. */
	(void)data;
}

static void daemon_event(void *data, const struct cal_event *ev)
{
	struct daemon *d = data;

	tree_event(d->tree, ev);
}

static uint64_t daemon_now(void *data)
{
	struct timespec ts;

	(void)data;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void daemon_pace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;

	(void)loop;
	(void)revents;
	cal_tick(d->cal);
}

/* Pacing asks to be called back at a wall time. */
static void daemon_wake(void *data, uint64_t when)
{
	struct daemon *d = data;
	uint64_t now;

	ev_timer_stop(d->loop, &d->pace_timer.w);
	if (when == CAL_TIME_NONE)
		return;
	now = daemon_now(d);
	ev_timer_set(&d->pace_timer.w,
		     when > now ? (double)(when - now) / 1e9 : 0.0, 0.0);
	ev_timer_start(d->loop, &d->pace_timer.w);
}

static const struct cal_ops daemon_cal_ops = {
	.send = sock_send,
	.changed = daemon_changed,
	.event = daemon_event,
	.kick = sock_kick,
	.now = daemon_now,
	.wake = daemon_wake,
};

/* The calendar is on every turn's critical path: run ahead of the
 * clients that wake it (docs/design.md, "The calendar runs at niceness
 * -10"; ttfs(8), --nice). */
#define TTFS_DEFAULT_NICE (-10)

/* 0; or -errno if --nice was given and cannot take, *denied set if the
 * default could not (not an error: it only costs speed). */
static int daemon_set_nice(const struct opts *o, int *denied)
{
	int now, want = o->nice_set ? o->nice : TTFS_DEFAULT_NICE;

	*denied = 0;
	errno = 0;
	now = getpriority(PRIO_PROCESS, 0);
	if (errno)
		return o->nice_set ? -errno : 0;
	/* Started under `nice`: whoever did that chose. */
	if (now == want || (!o->nice_set && now != 0))
		return 0;
	if (setpriority(PRIO_PROCESS, 0, want) == 0)
		return 0;
	if (o->nice_set)
		return -errno;
	*denied = errno;
	return 0;
}

/* Let ttfs hold as many clients as the system allows. */
static void daemon_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int daemon_mount(struct daemon *d, const struct opts *o,
			const char *argv0)
{
	char *fo = opts_append(NULL, "default_permissions,fsname=ttfs,subtype=ttfs");
	char *args_v[5];
	struct fuse_args args;
	int n = 0;

	if (o->fuse_opts)
		fo = opts_append(fo, o->fuse_opts);
	args_v[n++] = (char *)argv0;
	args_v[n++] = "-o";
	args_v[n++] = fo;
	if (o->debug)
		args_v[n++] = "-d";
	args_v[n] = NULL;
	args = (struct fuse_args)FUSE_ARGS_INIT(n, args_v);
	d->se = fuse_session_new(&args, tree_ops(), sizeof(*tree_ops()),
				 d->tree);
	fuse_opt_free_args(&args);
	free(fo);
	if (!d->se) {
		fprintf(stderr, "ttfs: bad FUSE options\n");
		return -EINVAL;
	}
	if (fuse_session_mount(d->se, o->mountpoint) != 0) {
		fprintf(stderr, "ttfs: cannot mount on %s\n", o->mountpoint);
		fuse_session_destroy(d->se);
		d->se = NULL;
		return -EIO;
	}
	fcntl(fuse_session_fd(d->se), F_SETFL,
	      fcntl(fuse_session_fd(d->se), F_GETFL) | O_NONBLOCK);
	return 0;
}

/* Everything up to "ready": socket, mount, watchers.  Errors are
 * printed here, while stderr is still the user's. */

/* A timerfd watched by w (not an ev_timer: see evsleep.h), firing every
 * every_ns if that is not 0, else disarmed; 0 or -errno. */
static int daemon_timerfd_start(struct daemon *d, int *fd, ev_io *w,
				void (*cb)(struct ev_loop *, ev_io *, int),
				long every_ns)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = every_ns },
		.it_value = { .tv_nsec = every_ns },
	};

	*fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (*fd < 0 || timerfd_settime(*fd, 0, &its, NULL) < 0)
		return -errno;
	ev_io_init(w, cb, *fd, EV_READ);
	w->data = d;
	ev_io_start(d->loop, w);
	return 0;
}

static int daemon_start(struct daemon *d, const struct opts *o,
			const char *argv0)
{
	static const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	struct stat st;
	int i, r;

	if (stat(o->mountpoint, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "ttfs: mount point %s: %s\n", o->mountpoint,
			stat(o->mountpoint, &st) < 0 ? strerror(errno) :
			"not a directory");
		return -ENOTDIR;
	}
	d->loop = ev_default_loop(EVFLAG_AUTO);
	if (!d->loop) {
		fprintf(stderr, "ttfs: cannot start the event loop\n");
		return -ENOMEM;
	}
	d->cal = cal_new(&o->cal, &daemon_cal_ops, d);
	evsleep_timer_init(&d->pace_timer, daemon_pace_cb, 0.0, 0.0);
	d->pace_timer.w.data = d;
	d->tree = d->cal ? tree_new(d->cal, o->socket, &o->tree) : NULL;
	if (!d->tree) {
		fprintf(stderr, "ttfs: out of memory\n");
		return -ENOMEM;
	}
	cal_set_pace(d->cal, o->pace);
	r = sock_server_new(d->loop, d->cal, o->socket, &o->sock, &d->srv);
	if (r < 0) {
		fprintf(stderr, "ttfs: socket %s: %s\n", o->socket,
			r == -EADDRINUSE ? "in use by a running calendar" :
			r == -EEXIST ? "exists and is not a socket" :
			strerror(-r));
		return r;
	}
	r = daemon_mount(d, o, argv0);
	if (r < 0)
		return r;

	d->fuse_gate = epoll_create1(EPOLL_CLOEXEC);
	if (d->fuse_gate < 0 || daemon_fuse_gate(d, true) < 0) {
		r = -errno;
		fprintf(stderr, "ttfs: epoll: %s\n", strerror(-r));
		return r;
	}
	ev_io_init(&d->fuse_io, daemon_fuse_cb, d->fuse_gate, EV_READ);
	d->fuse_io.data = d;
	/* When a client and the tree are both ready, the client goes first:
	 * it is on the simulation's critical path, a reader is not. */
	ev_set_priority(&d->fuse_io, EV_MINPRI);
	ev_io_start(d->loop, &d->fuse_io);
	r = daemon_timerfd_start(d, &d->fuse_backstop, &d->fuse_backstop_io,
				 daemon_fuse_backstop_cb, 0);
	/* Wakes the loop so the prepare watcher looks at parked requests
	 * whose writers may have been signalled (see tree.c). */
	if (r == 0)
		r = daemon_timerfd_start(d, &d->watch_fd, &d->watch_io,
					 daemon_watch_cb, WATCH_EVERY);
	if (r < 0) {
		fprintf(stderr, "ttfs: timerfd: %s\n", strerror(-r));
		return r;
	}
	ev_prepare_init(&d->prepare, daemon_prepare_cb);
	d->prepare.data = d;
	ev_prepare_start(d->loop, &d->prepare);
	ev_idle_init(&d->busy, daemon_busy_cb);
	d->busy_poll = (double)o->busy_poll / 1e9;
	for (i = 0; i < 3; i++) {
		ev_signal_init(&d->sigs[i], daemon_signal_cb, signums[i]);
		ev_signal_start(d->loop, &d->sigs[i]);
	}
	return 0;
}

static void daemon_stop(struct daemon *d)
{
	int i;

	if (d->loop) {
		for (i = 0; i < 3; i++)
			ev_signal_stop(d->loop, &d->sigs[i]);
		ev_prepare_stop(d->loop, &d->prepare);
		ev_idle_stop(d->loop, &d->busy);
		ev_timer_stop(d->loop, &d->pace_timer.w);
		evsleep_timer_forget(&d->pace_timer);
		ev_io_stop(d->loop, &d->watch_io);
		ev_io_stop(d->loop, &d->fuse_io);
		ev_io_stop(d->loop, &d->fuse_backstop_io);
	}
	/* Paused, the clients' departures hand no turns to clients about to
	 * be closed too. */
	if (d->cal)
		cal_set_run(d->cal, false);
	sock_server_free(d->srv);
	if (d->tree)
		tree_stop(d->tree);
	if (d->se) {
		fuse_session_unmount(d->se);
		fuse_session_destroy(d->se);
	}
	if (d->fuse_gate >= 0)
		close(d->fuse_gate);
	if (d->watch_fd >= 0)
		close(d->watch_fd);
	if (d->fuse_backstop >= 0)
		close(d->fuse_backstop);
	free(d->fbuf.mem);
	tree_free(d->tree);
	cal_free(d->cal);
}

/*
 * Without -f: fork, and let the parent exit only when the child reports
 * that the mount and the socket are ready (or why it failed), so that a
 * script may use the tree on its next line.
 */
static int daemon_background(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c = 1;

	if (pipe(p) < 0) {
		perror("ttfs: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("ttfs: fork");
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			c = 1;
		_exit(c ? 1 : 0);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static void daemon_detach(int ready_fd)
{
	int fd = open("/dev/null", O_RDWR);
	char c = 0;

	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	log_to_syslog(true);
	if (chdir("/") < 0)
		log_error("chdir /: %s", strerror(errno));
	if (write(ready_fd, &c, 1) != 1)
		log_error("cannot tell the parent we are ready");
	close(ready_fd);
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct daemon d = { .fuse_gate = -1, .watch_fd = -1,
			    .fuse_backstop = -1 };
	int ready_fd = -1, denied;
	int r;

	if (opts_parse(argc, argv, &o) < 0)
		return 2;
	log_set_debug(o.debug);
	signal(SIGPIPE, SIG_IGN);
	daemon_raise_nofile();
	r = daemon_set_nice(&o, &denied);
	if (r < 0) {
		fprintf(stderr, "ttfs: --nice %d: %s\n", o.nice, strerror(-r));
		return 1;
	}
	if (!o.foreground && daemon_background(&ready_fd) < 0)
		return 1;
	r = daemon_start(&d, &o, argv[0]);
	if (r < 0) {
		daemon_stop(&d);
		opts_release(&o);
		return 1;
	}
	/* In the background, this goes to syslog: a script's terminal
	 * stays quiet. */
	if (!o.foreground)
		daemon_detach(ready_fd);
	log_info("ready: socket %s, mounted on %s", o.socket, o.mountpoint);
	if (denied)
		log_info("running at niceness %d: cannot lower it to %d (%s); "
			 "turns are faster with it (see ttfs(8), --nice)",
			 getpriority(PRIO_PROCESS, 0), TTFS_DEFAULT_NICE,
			 strerror(denied));
	ev_run(d.loop, 0);
	log_info("stopped");
	daemon_stop(&d);
	opts_release(&o);
	return 0;
}
