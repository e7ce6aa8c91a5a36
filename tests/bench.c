/* SPDX-License-Identifier: MIT */
/*
 * bench.c: how fast ttfs hands out turns.
 *
 *   bench --ttfs 'PATH [OPTION...]'|ref|ref-ev [--ttfs ...] [--clients N[,N...]]
 *         [--grants G] [--mode basic|free|shm|both|all[,...]] [--repeat R]
 *         [--monitor[=clock,read,ls,control]] [--place any|one|split[,...]]
 *   bench --floors [--place ...] [--repeat R]
 *
 * For each N it starts ttfs (-f, a temporary socket and mount), connects
 * N fake clients from this one process, driven by one epoll, and counts
 * grants (RUNs) per second after a warm-up.  Each client talks like a UML
 * kernel: START, then on every RUN it ACKs FREE_UNTIL and RUN, sends
 * REQUEST(now + period), waits for its ACK, sends WAIT, waits for its
 * ACK; like the kernel's time_travel_ext_req, it waits for an ACK with a
 * blocking read, and only RUNs (and START's ACK) come through epoll.
 * The two ACKs ride in the REQUEST's write: they need no answer, so that
 * is the kernel's order with fewer syscalls.  "free" mode also honours FREE_UNTIL as the kernel does
 * (time_travel_ext_request): events before it are run without asking.
 *
 * "shm" mode behaves as a Linux >= 6.11 kernel on the shared-memory page
 * (arch/um/kernel/time.c): it reads START's ACK with recvmsg and its two
 * descriptors, maps the page (version 2, len covering its slot), takes
 * current_time as its offset and sets TIME_SHARE in its slot before it
 * sends anything else.  On its turn it runs the events before the page's
 * free_until (read live) without asking, then, as the running slot has
 * TIME_SHARE, writes its request into its slot (REQ_RUN, req_time, and
 * lowers free_until), sends WAIT and expects no ACK; a RUN clears REQ_RUN
 * and gets no ACK.  If the running slot lacks TIME_SHARE it sends REQUEST
 * and waits for the ACK, as the kernel does.  One map of the page serves
 * all clients (the kernel maps it once per instance; the cost is set-up).
 *
 * Modes run alternately for each N (--repeat R: R rounds of every mode,
 * binary and place), so a disturbance of the machine hits all alike, and
 * with shm and basic both measured each binary gets a line shm/basic.
 *
 * Beside each row it measures the floor: the median wall time of one
 * 16-byte request/ACK round trip between two processes over a Unix
 * socketpair.  A grant needs 2 round trips on its critical path in message
 * modes (REQUEST and its ACK, WAIT and its ACK, the next RUN riding on the
 * WAIT's ACK turn) and 1 in shm mode (WAIT, then the next RUN: the
 * request is in the slot, nothing is ACKed), so ratio = us per grant /
 * (rt * floor) says how much of a grant is ttfs and the fake clients
 * rather than the kernel's socket path.
 *
 * Placement: where the scheduler puts the processes changes both sides of
 * that ratio.  A wake-up on the same CPU is a context switch; one on
 * another CPU needs an IPI, dear in a VM (on a 2-vCPU Firecracker guest,
 * a floor of ~22 us on one CPU against ~30 us across two, and grants
 * faster on one CPU too).  Unpinned, either happens at random, run to
 * run, and a floor measured in one placement set beside grants measured
 * in another says nothing.  So --place (default any,one,split) makes it
 * explicit, and each row's floor is measured in that row's placement:
 *   any    no pinning at all: the scheduler's choice, as in real use;
 *   one    the bench (so its clients), ttfs and both ends of the floor
 *          pinned to one CPU, the first of the bench's starting mask;
 *   split  the bench and its clients on the first CPU of that mask, ttfs
 *          on the second; the floor's two ends likewise, one on each.
 *          With fewer than 2 CPUs allowed it is skipped, with a note.
 * ttfs is pinned after fork, before exec (its threads inherit it), the
 * bench around each run, back to its starting mask after it, so places
 * do not leak into each other.  The --monitor shell loop runs on the
 * second CPU in place one (the simulation's CPU is left to it, so what
 * the loop costs is ttfs answering it); in the others it is not pinned.
 *
 * --monitor: each N runs alone, with `cat clock` in a tight loop, with
 * `read -r c < clock` (the shell's builtin: no fork, so nearly all the
 * loop does is ask ttfs, one byte per READ), with `ls clients/`, and
 * with `cat /etc/hostname`, a control that loads the machine alike but
 * asks ttfs nothing: on a machine with few cores, that separates what
 * ttfs spends answering from what the shell loop takes from everyone.
 * --monitor=LIST runs only the loops named (clock, read, ls, control),
 * besides the run alone.
 *
 * --floors measures no calendar: only the floor, with its partner waiting
 * the ways a calendar can (a blocking read, at the calendar's niceness
 * too; epoll_wait, without and with a timeout, as libev always passes
 * one), so what waiting itself costs is known apart from what ttfs adds.
 *
 * --ttfs ref runs the reference calendar (refcal.c) in ttfs's place: the
 * same grant path with nothing else, so column "x ref" (ttfs's us/grant
 * over the reference's, same N, place and mode) is what ttfs itself adds
 * to what any calendar pays; the floor says what the kernel charges.
 *
 * Exit status: 1 if a client saw the protocol broken (an ACK of another
 * seq, a RUN out of turn or back in time) or a run stalled (no grant for
 * 10 s); the bench-smoke test runs a small table for that alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "refcal.h"

#define MAX_NS 32
#define MAX_BINS 4
#define MAX_REPS 15
#define FLOOR_SAMPLES 20000
#define FLOOR_WARM 2000

enum mode { MODE_BASIC, MODE_FREE, MODE_SHM, MODE_COUNT };
enum monitor { MON_NONE, MON_CLOCK, MON_READ, MON_LS, MON_CONTROL,
	       MON_COUNT };
enum place { PLACE_ANY, PLACE_ONE, PLACE_SPLIT, PLACE_COUNT };

static const char *const mode_names[] = { "basic", "free", "shm" };
/* Round trips per grant on the critical path. */
static const int mode_rt[] = { 2, 2, 1 };
static const char *const mon_names[] = {
	"none", "cat clock", "read <clock", "ls clients/", "cat (control)",
};
static const char *const place_names[] = { "any", "one", "split" };

/* The bench's starting affinity, and per place the CPU of the bench (its
 * clients, the floor's first end) and of ttfs (the floor's other end);
 * -1: not pinned.  place_init fills them. */
static cpu_set_t place_orig;
static int place_bench[PLACE_COUNT] = { -1, -1, -1 };
static int place_ttfs[PLACE_COUNT] = { -1, -1, -1 };
/* Where --monitor's loop runs: the CPU one leaves spare, else anywhere. */
static int place_monitor[PLACE_COUNT] = { -1, -1, -1 };

/* What a client waits for. */
enum cstate { C_START_ACK, C_RUN };

struct client {
	int fd;
	enum cstate state;
	uint32_t seq;       /* of its last message */
	uint64_t now;       /* its own time */
	uint64_t period;    /* between its events */
	uint64_t free_until;
	bool fu_valid;
	unsigned char in[64];
	size_t in_len;
	/* shm mode: the page, once START's ACK gave it */
	bool shm;
	uint16_t slot;
	uint64_t offset;    /* current_time when it mapped the page */
	struct tt_shm_hdr *hdr;
	struct tt_shm_slot *sl;
};

struct result {
	double grants_per_s, us_per_grant, floor_us, events_per_grant;
	double rss_mib, cpu_us_per_grant;
	double cs_per_grant; /* context switches of calendar and clients */
	unsigned int shm_clients; /* that got and use the page */
	bool ok;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Pin the calling process (and the threads and children it makes from
 * now on) to cpu, or give it back the starting mask if cpu < 0. */
static bool place_pin(int cpu)
{
	cpu_set_t set = place_orig;

	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
	}
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

/* The CPUs of each place, from the starting mask: the first for one,
 * the first two for split.  Returns false if split lacks a second. */
static bool place_init(void)
{
	int cpu[2] = { -1, -1 }, k = 0;

	if (sched_getaffinity(0, sizeof(place_orig), &place_orig) < 0)
		die("sched_getaffinity");
	for (int i = 0; i < CPU_SETSIZE && k < 2; i++)
		if (CPU_ISSET(i, &place_orig))
			cpu[k++] = i;
	place_bench[PLACE_ONE] = place_ttfs[PLACE_ONE] = cpu[0];
	place_bench[PLACE_SPLIT] = cpu[0];
	place_ttfs[PLACE_SPLIT] = cpu[1];
	place_monitor[PLACE_ONE] = cpu[1];
	return cpu[1] >= 0;
}

/* The starting mask as a list, "0-1,4". */
static const char *place_cpus(void)
{
	static char buf[256];
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < CPU_SETSIZE; i++) {
		int j = i;

		if (!CPU_ISSET(i, &place_orig))
			continue;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, &place_orig))
			j++;
		if (len + 24 >= sizeof(buf))
			break;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					j > i ? "%s%d-%d" : "%s%d",
					len ? "," : "", i, j);
		i = j;
	}
	return buf;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool full_io(int fd, void *buf, size_t len, bool rd)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = rd ? read(fd, p, len) : write(fd, p, len);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* How the floor's partner (the calendar's end) waits for the request:
 * FLOOR_READ is the floor of every row, a blocking read at niceness 0.
 * --floors adds what a calendar pays above it: the same read at the
 * calendar's niceness, then epoll_wait before the read, without and
 * with a timeout (libev always passes one: with no timer due, its
 * MAX_BLOCKTIME, 59.743 s, so the kernel arms a timer on every sleep). */
enum floor_wait {
	FLOOR_READ, FLOOR_NICE, FLOOR_EPOLL, FLOOR_EPOLL_TIMEOUT, FLOOR_COUNT
};
static const char *const floor_names[] = {
	"read", "read, nice", "epoll", "epoll+timeout",
};
#define FLOOR_TIMEOUT_MS 59743

/* The partner's loop: answer each request with an ACK until EOF. */
static void floor_partner(int fd, enum floor_wait how)
{
	struct um_timetravel_msg m;
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = -1;

	if (how != FLOOR_READ)
		setpriority(PRIO_PROCESS, 0, REFCAL_NICE); /* EPERM: as is */
	if (how >= FLOOR_EPOLL) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			_exit(1);
	}
	for (;;) {
		if (ep >= 0 &&
		    epoll_wait(ep, &ev, 1,
			       how == FLOOR_EPOLL ? -1 : FLOOR_TIMEOUT_MS) < 0 &&
		    errno != EINTR)
			_exit(1);
		if (!full_io(fd, &m, sizeof(m), true))
			break;
		m.op = UM_TIMETRAVEL_ACK;
		if (!full_io(fd, &m, sizeof(m), false))
			break;
	}
	_exit(0);
}

/* The floor: median of a 16-byte request/ACK ping-pong between two
 * processes, the smallest exchange a calendar and a client can make.  The
 * caller is already on the bench's CPU of place; the partner takes
 * ttfs's. */
static double floor_us(enum place place, enum floor_wait how)
{
	static uint64_t s[FLOOR_SAMPLES];
	struct um_timetravel_msg m = { .op = UM_TIMETRAVEL_REQUEST };
	int sv[2];
	pid_t pid;
	int i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		if (place_ttfs[place] >= 0 && !place_pin(place_ttfs[place]))
			_exit(1);
		floor_partner(sv[1], how);
	}
	close(sv[1]);
	for (i = 0; i < FLOOR_WARM + FLOOR_SAMPLES; i++) {
		uint64_t t0 = now_ns();

		m.seq = (uint32_t)i;
		if (!full_io(sv[0], &m, sizeof(m), false) ||
		    !full_io(sv[0], &m, sizeof(m), true))
			die("floor ping-pong");
		if (i >= FLOOR_WARM)
			s[i - FLOOR_WARM] = now_ns() - t0;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	qsort(s, FLOOR_SAMPLES, sizeof(s[0]), cmp_u64);
	return (double)s[FLOOR_SAMPLES / 2] / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* --floors: what a calendar's way of waiting costs per round trip, above
 * the floor, in each place; R rounds with the ways taking turns, each
 * figure the median of the rounds' medians. */
static int floors_run(const bool *places, unsigned int reps)
{
	static double us[PLACE_COUNT][FLOOR_COUNT][MAX_REPS];
	unsigned int r;
	int p, w;

	printf("round trip (us), median of %u rounds of %d; ratio to the "
	       "floor (read) in ( )\npartner at niceness %d where "
	       "permitted, but read: 0; timeout %d ms, libev's when no "
	       "timer is due\n\n", reps,
	       FLOOR_SAMPLES, REFCAL_NICE, FLOOR_TIMEOUT_MS);
	for (r = 0; r < reps; r++)
		for (p = 0; p < PLACE_COUNT; p++) {
			if (!places[p])
				continue;
			if (!place_pin(place_bench[p]))
				die("sched_setaffinity");
			for (w = 0; w < FLOOR_COUNT; w++)
				us[p][w][r] = floor_us((enum place)p,
						       (enum floor_wait)w);
			if (!place_pin(-1))
				die("sched_setaffinity");
		}
	printf("%-6s", "place");
	for (w = 0; w < FLOOR_COUNT; w++)
		printf(" %20s", floor_names[w]);
	printf("\n");
	for (p = 0; p < PLACE_COUNT; p++) {
		double med[FLOOR_COUNT];

		if (!places[p])
			continue;
		printf("%-6s", place_names[p]);
		for (w = 0; w < FLOOR_COUNT; w++) {
			qsort(us[p][w], reps, sizeof(double), cmp_double);
			med[w] = reps % 2 ? us[p][w][reps / 2] :
				 (us[p][w][reps / 2 - 1] +
				  us[p][w][reps / 2]) / 2;
			printf(" %11.2f (%5.2f)", med[w], med[w] / med[0]);
		}
		printf("\n");
	}
	return 0;
}

/* A run made no progress for 10 s: the exit status says so. */
static bool bench_stalled;
/* What an exit mid-run (a broken protocol, a failed call) must stop:
 * the calendar with its mount, and the monitor loop reading it. */
static struct daemon *bench_daemon;
static pid_t bench_monitor;

/* A running ttfs, in its own temporary directory. */
struct daemon {
	pid_t pid;
	bool ref; /* the reference calendar: a socket, no mount */
	bool ref_ev; /* on libev */
	char dir[32], sock[64], mnt[64], log[64];
};

/* --ttfs ref, or ref-ev (the same on libev): the reference calendar
 * (refcal.c), forked from here.  What the bench says it is, or NULL for
 * a ttfs binary. */
static const char *bin_ref_what(const char *bin)
{
	if (!strcmp(bin, "ref"))
		return "the reference calendar: tests/refcal.c";
	if (!strcmp(bin, "ref-ev"))
		return "the reference calendar on libev: tests/refcal.c";
	return NULL;
}

static bool bin_is_ref(const char *bin)
{
	return bin_ref_what(bin) != NULL;
}

static void ref_exec(const struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* No exec here to reset the bench's handlers: SIGTERM ends it. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	/* As ttfs does by default: from niceness 0, lower where permitted. */
	if (getpriority(PRIO_PROCESS, 0) == 0 &&
	    setpriority(PRIO_PROCESS, 0, REFCAL_NICE) < 0 && errno != EACCES &&
	    errno != EPERM)
		perror("bench: reference calendar: setpriority");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, SOMAXCONN) < 0) {
		perror("bench: reference calendar");
		_exit(127);
	}
	_exit(d->ref_ev ? refcal_run_ev(lfd) : refcal_run(lfd));
}

static bool daemon_ready(const struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char clock[160];
	struct stat st;
	int fd;
	bool ok;

	snprintf(clock, sizeof(clock), "%s/clock", d->mnt);
	if (!d->ref && stat(clock, &st) < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void daemon_start(struct daemon *d, const char *ttfs,
			 enum place place)
{
	int i;

	snprintf(d->dir, sizeof(d->dir), "/tmp/ttfs-bench.XXXXXX");
	if (!mkdtemp(d->dir))
		die("mkdtemp");
	snprintf(d->sock, sizeof(d->sock), "%s/sock", d->dir);
	snprintf(d->mnt, sizeof(d->mnt), "%s/mnt", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/log", d->dir);
	if (mkdir(d->mnt, 0700) < 0)
		die("mkdir");
	d->ref = bin_is_ref(ttfs);
	d->ref_ev = !strcmp(ttfs, "ref-ev");
	d->pid = fork();
	if (d->pid < 0)
		die("fork");
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* Before exec, so its every thread is pinned too. */
		if (place_ttfs[place] >= 0 && !place_pin(place_ttfs[place])) {
			perror("sched_setaffinity");
			_exit(127);
		}
		if (d->ref)
			ref_exec(d);
		/* "PATH OPTION..." (split at spaces) runs PATH with those
		 * options too, e.g. "build/ttfs --busy-poll 50us".  Room on
		 * the page for every client of the biggest N. */
		char *argv[16], *words = strdup(ttfs), *save = NULL;
		int n = 0;

		for (char *w = strtok_r(words, " ", &save); w && n < 10;
		     w = strtok_r(NULL, " ", &save))
			argv[n++] = w;
		if (n == 0)
			_exit(127);
		argv[n++] = "-f";
		argv[n++] = "--shm-clients";
		argv[n++] = "65534";
		argv[n++] = "--socket";
		argv[n++] = d->sock;
		argv[n++] = d->mnt;
		argv[n] = NULL;
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	bench_daemon = d;
	for (i = 0; i < 1000; i++) {
		if (daemon_ready(d))
			return;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			/* Its log stays for the reader. */
			bench_daemon = NULL;
			fprintf(stderr, "bench: %s exited; see %s/log\n", ttfs,
				d->dir);
			exit(1);
		}
		usleep(10000);
	}
	fprintf(stderr, "bench: %s not ready after 10 s\n", ttfs);
	kill(d->pid, SIGKILL); /* the atexit cleanup reaps it */
	exit(1);
}

static void daemon_stop(struct daemon *d)
{
	char path[160];
	int st;

	bench_daemon = NULL;
	kill(d->pid, SIGTERM);
	waitpid(d->pid, &st, 0);
	snprintf(path, sizeof(path), "fusermount3 -uz %s 2>/dev/null",
		 d->mnt);
	if (system(path) < 0) {
		/* Already unmounted by ttfs itself: fine. */
	}
	rmdir(d->mnt);
	unlink(d->sock);
	unlink(d->log);
	rmdir(d->dir);
}

/* ttfs's resident set, MiB. */
static double daemon_rss(const struct daemon *d)
{
	char path[64], line[256];
	double kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)d->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lf", &kib) == 1)
			break;
	fclose(f);
	return kib / 1024.0;
}

/* ttfs's CPU time (user + system), ns. */
static uint64_t daemon_cpu(const struct daemon *d)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, stt;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)d->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After the name: state and 10 fields, then utime and stime. */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu", &ut, &stt) != 2)
		return 0;
	return (ut + stt) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* Context switches (voluntary and not) of the calendar, plus the
 * bench's own: a grant's minimum is 2 per round trip on one CPU. */
static uint64_t switches(const struct daemon *d)
{
	char path[64], line[256];
	unsigned long long v, sum = 0;
	struct rusage ru;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)d->pid);
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "voluntary_ctxt_switches: %llu",
				   &v) == 1 ||
			    sscanf(line, "nonvoluntary_ctxt_switches: %llu",
				   &v) == 1)
				sum += v;
		fclose(f);
	}
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		sum += (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
	return sum;
}

static pid_t monitor_start(const struct daemon *d, enum monitor mon,
			   enum place place)
{
	pid_t pid;

	if (mon == MON_NONE)
		return 0;
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		setpgid(0, 0);
		/* In one, the loop gets the spare CPU: what is measured is
		 * then ttfs answering it, not a fork storm on the CPU of the
		 * simulation.  Elsewhere it goes where the scheduler likes. */
		if (!place_pin(place_monitor[place]))
			_exit(1);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (chdir(d->mnt) < 0)
			_exit(1);
		/* The control loads the machine alike but not ttfs. */
		execl("/bin/sh", "sh", "-c", mon == MON_CLOCK ?
		      "while :; do cat clock; done" : mon == MON_READ ?
		      "while :; do read -r c < clock; done" : mon == MON_LS ?
		      "while :; do ls clients/; done" :
		      "while :; do cat /etc/hostname; done", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	bench_monitor = pid;
	return pid;
}

static void monitor_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	bench_monitor = 0;
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void client_send(struct client *c, const struct um_timetravel_msg *m,
			unsigned int n)
{
	if (!full_io(c->fd, (void *)m, n * sizeof(*m), false))
		die("bench: send to ttfs");
}

/* The clients, and the counts the main loop watches. */
struct run {
	struct client *cl;
	unsigned int n;
	enum mode mode;
	uint64_t grants, events;
	/* shm mode: the page, mapped once */
	void *map;
	size_t map_len;
	dev_t map_dev;
	ino_t map_ino;
	unsigned int shm_clients;
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* Send m and wait for its ACK, as the kernel's time_travel_ext_req does:
 * a blocking read of one message.  Only the runner asks anything, so
 * nothing else can come meanwhile. */
static void client_req(struct client *c, struct um_timetravel_msg *m,
		       unsigned int n)
{
	struct um_timetravel_msg ack;

	client_send(c, m, n);
	if (recv(c->fd, &ack, sizeof(ack), MSG_WAITALL) != sizeof(ack) ||
	    ack.op != UM_TIMETRAVEL_ACK || ack.seq != c->seq) {
		fprintf(stderr, "bench: no ACK for seq %u\n", c->seq);
		exit(1);
	}
}

/* Its turn: the events it may run without asking, then REQUEST (behind
 * the ACKs in out[0..n_out) of what granted the turn) and WAIT. */
static void client_turn(struct run *r, struct client *c,
			struct um_timetravel_msg *out, unsigned int n_out)
{
	uint64_t next = c->now + c->period;

	r->events++;
	/* A shm client without the page falls back to messages as the
	 * kernel does, FREE_UNTIL included. */
	if (r->mode != MODE_BASIC) {
		/* time_travel_ext_request: no message for an event the
		 * calendar already let us run to. */
		while (c->fu_valid && next < c->free_until) {
			c->now = next;
			next += c->period;
			r->events++;
		}
	}
	out[n_out++] = (struct um_timetravel_msg){
		.op = UM_TIMETRAVEL_REQUEST, .seq = ++c->seq, .time = next,
	};
	client_req(c, out, n_out);
	out[0] = (struct um_timetravel_msg){
		.op = UM_TIMETRAVEL_WAIT, .seq = ++c->seq,
		.time = (uint64_t)-1,
	};
	/* The kernel forgets FREE_UNTIL at every WAIT. */
	c->fu_valid = false;
	client_req(c, out, 1);
	c->state = C_RUN;
}

/* time_travel_setup_shm: map the page (once for all clients), check it,
 * take the offset, claim TIME_SHARE.  Else the client stays on messages. */
static void client_setup_shm(struct run *r, struct client *c, int fd,
			     uint16_t slot)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return;
	if (!r->map || st.st_dev != r->map_dev || st.st_ino != r->map_ino) {
		struct tt_shm_hdr *h;
		uint32_t len;
		void *m;

		if (r->map)
			return; /* a second page: not something ttfs does */
		h = mmap(NULL, TT_SHM_HDR_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
		if (h == MAP_FAILED)
			return;
		len = LOAD(&h->len);
		if (LOAD(&h->version) != TT_SHM_VERSION ||
		    len < TT_SHM_HDR_SIZE + TT_SHM_SLOT_SIZE) {
			munmap(h, TT_SHM_HDR_SIZE);
			return;
		}
		munmap(h, TT_SHM_HDR_SIZE);
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			return;
		r->map = m;
		r->map_len = len;
		r->map_dev = st.st_dev;
		r->map_ino = st.st_ino;
	}
	if ((size_t)TT_SHM_HDR_SIZE + ((size_t)slot + 1) * TT_SHM_SLOT_SIZE >
	    r->map_len)
		return;
	c->hdr = r->map;
	c->sl = (struct tt_shm_slot *)((unsigned char *)r->map +
				       TT_SHM_HDR_SIZE +
				       (size_t)slot * TT_SHM_SLOT_SIZE);
	c->slot = slot;
	c->offset = LOAD(&c->hdr->current_time);
	__atomic_or_fetch(&c->sl->capa, TT_SHM_CAP_TIME_SHARE,
			  __ATOMIC_ACQ_REL);
	c->shm = true;
	r->shm_clients++;
}

/* START's ACK in shm mode: recvmsg with room for the descriptors, as
 * the kernel's os_rcv_fd_msg; both are closed once the page is mapped. */
static bool client_start_ack_shm(struct run *r, struct client *c)
{
	int fds[TT_SHARED_MAX_FDS] = { -1, -1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(fds))];
	} ctl;
	struct um_timetravel_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n != (ssize_t)sizeof(m) || m.op != UM_TIMETRAVEL_ACK ||
	    m.seq != c->seq) {
		fprintf(stderr, "bench: bad START ACK\n");
		exit(1);
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (k > TT_SHARED_MAX_FDS)
				k = TT_SHARED_MAX_FDS;
			memcpy(fds, CMSG_DATA(cm), k * sizeof(int));
		}
	if (fds[TT_SHARED_MEMFD] >= 0)
		client_setup_shm(r, c, fds[TT_SHARED_MEMFD],
				 (uint16_t)(m.time & TT_START_ACK_ID));
	for (unsigned int i = 0; i < TT_SHARED_MAX_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return true;
}

/* A shm client's turn: time_travel_ext_request against the page's
 * free_until (read live), then time_travel_ext_update_request into its
 * slot while a TIME_SHARE slot runs (else a REQUEST message), then
 * time_travel_ext_wait: WAIT, no ACK. */
static void client_turn_shm(struct run *r, struct client *c)
{
	uint64_t next = c->now + c->period;
	struct um_timetravel_msg m;
	uint16_t rid;

	r->events++;
	/* Unsigned, as the kernel computes it. */
	while (next < LOAD(&c->hdr->free_until) - c->offset) {
		c->now = next;
		next += c->period;
		r->events++;
	}
	rid = LOAD(&c->hdr->running_id);
	if ((size_t)TT_SHM_HDR_SIZE + ((size_t)rid + 1) * TT_SHM_SLOT_SIZE <=
	    r->map_len &&
	    (LOAD(&((struct tt_shm_slot *)((unsigned char *)r->map +
		  TT_SHM_HDR_SIZE + (size_t)rid * TT_SHM_SLOT_SIZE))->capa) &
	     TT_SHM_CAP_TIME_SHARE)) {
		uint64_t t = next + c->offset, fu;

		__atomic_or_fetch(&c->sl->flags, TT_SHM_FLAGS_REQ_RUN,
				  __ATOMIC_ACQ_REL);
		STORE(&c->sl->req_time, t);
		/* The kernel's plain compare and store. */
		fu = LOAD(&c->hdr->free_until);
		if (t < fu)
			STORE(&c->hdr->free_until, t);
	} else {
		m = (struct um_timetravel_msg){
			.op = UM_TIMETRAVEL_REQUEST, .seq = ++c->seq,
			.time = next,
		};
		client_req(c, &m, 1);
	}
	m = (struct um_timetravel_msg){
		.op = UM_TIMETRAVEL_WAIT, .seq = ++c->seq, .time = (uint64_t)-1,
	};
	client_send(c, &m, 1);
	c->state = C_RUN;
}

static void client_msg(struct run *r, struct client *c,
		       const struct um_timetravel_msg *m,
		       struct um_timetravel_msg *acks, unsigned int *n_acks)
{
	switch (m->op) {
	case UM_TIMETRAVEL_ACK:
		/* The others are read where they are waited for. */
		if (c->state != C_START_ACK || m->seq != c->seq) {
			fprintf(stderr, "bench: unexpected ACK seq %u\n",
				m->seq);
			exit(1);
		}
		c->now = 0;
		c->fu_valid = false;
		if (c->shm)
			client_turn_shm(r, c);
		else
			client_turn(r, c, acks, 0);
		return;
	case UM_TIMETRAVEL_FREE_UNTIL:
		/* The kernel ignores it (but ACKs it) on the page. */
		if (c->shm)
			break;
		c->free_until = m->time;
		c->fu_valid = true;
		break;
	case UM_TIMETRAVEL_RUN:
		if (c->state != C_RUN || m->time < c->now) {
			fprintf(stderr, "bench: RUN out of turn\n");
			exit(1);
		}
		c->now = m->time;
		if (c->shm) {
			/* No request now it runs; no ACK. */
			__atomic_and_fetch(&c->sl->flags,
					   ~TT_SHM_FLAGS_REQ_RUN,
					   __ATOMIC_ACQ_REL);
			r->grants++;
			client_turn_shm(r, c);
			return;
		}
		break;
	default:
		break;
	}
	acks[(*n_acks)++] = (struct um_timetravel_msg){
		.op = UM_TIMETRAVEL_ACK, .seq = m->seq, .time = m->time,
	};
	if (m->op == UM_TIMETRAVEL_RUN) {
		r->grants++;
		client_turn(r, c, acks, *n_acks);
		*n_acks = 0;
	}
}

static void client_input(struct run *r, struct client *c)
{
	struct um_timetravel_msg acks[8];
	unsigned int n_acks = 0;
	size_t off = 0;
	ssize_t n;

	if (r->mode == MODE_SHM && c->state == C_START_ACK) {
		/* Nothing else comes before START's ACK is answered. */
		if (!client_start_ack_shm(r, c))
			return;
		c->now = 0;
		if (c->shm)
			client_turn_shm(r, c);
		else
			client_turn(r, c, acks, 0);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fprintf(stderr, "bench: ttfs closed a client\n");
		exit(1);
	}
	c->in_len += (size_t)n;
	while (c->in_len - off >= TT_MSG_SIZE) {
		struct um_timetravel_msg m;

		memcpy(&m, c->in + off, sizeof(m));
		off += TT_MSG_SIZE;
		client_msg(r, c, &m, acks, &n_acks);
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (n_acks)
		client_send(c, acks, n_acks);
}

/* atexit: children leave with _exit, so this runs in the bench only. */
static void bench_cleanup(void)
{
	monitor_stop(bench_monitor);
	if (bench_daemon)
		daemon_stop(bench_daemon);
}

/* SIGINT, SIGTERM: the same with async-signal-safe calls alone (ttfs
 * unmounts itself on SIGTERM), then die of the signal. */
static void bench_signal(int sig)
{
	const struct daemon *d = bench_daemon;

	if (bench_monitor > 0)
		kill(-bench_monitor, SIGKILL);
	if (d) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, NULL, 0);
		unlink(d->sock);
		unlink(d->log);
		rmdir(d->mnt);
		rmdir(d->dir);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static struct result bench_one(const char *ttfs, unsigned int n,
			       enum mode mode, enum place place,
			       uint64_t grants, enum monitor mon)
{
	struct result res = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event evs[64];
	struct daemon d;
	struct run r = { .n = n, .mode = mode };
	uint64_t warm = n * 3 + 2000, t0 = 0, g0 = 0, e0 = 0, cpu0 = 0;
	uint64_t cs0 = 0;
	pid_t monpid;
	unsigned int i;
	int ep;

	/* Before the floor, whose first end is this process. */
	if (!place_pin(place_bench[place]))
		die("sched_setaffinity");
	res.floor_us = floor_us(place, FLOOR_READ);
	daemon_start(&d, ttfs, place);
	r.cl = calloc(n, sizeof(*r.cl));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!r.cl || ep < 0)
		die("bench");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d.sock);
	for (i = 0; i < n; i++) {
		struct client *c = &r.cl[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		struct um_timetravel_msg m = {
			.op = UM_TIMETRAVEL_START, .seq = 1, .time = i + 1,
		};

		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0 ||
		    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("bench: connect (RLIMIT_NOFILE?)");
		/* Periods of 100 us to 9.7 ms, spread so turns interleave
		 * and a FREE_UNTIL often covers several events. */
		c->period = 100000ull * (1 + (i * 7919u) % 97);
		c->seq = 1;
		c->state = C_START_ACK;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl");
		client_send(c, &m, 1);
	}
	monpid = monitor_start(&d, mon, place);
	for (;;) {
		int k = epoll_wait(ep, evs, 64, 10000);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			fprintf(stderr, "bench: no progress for 10 s (%llu "
				"grants)\n", (unsigned long long)r.grants);
			bench_stalled = true;
			break;
		}
		for (i = 0; i < (unsigned int)k; i++)
			client_input(&r, evs[i].data.ptr);
		if (!t0 && r.grants >= warm) {
			t0 = now_ns();
			g0 = r.grants;
			e0 = r.events;
			cpu0 = daemon_cpu(&d);
			cs0 = switches(&d);
		}
		if (t0 && r.grants >= g0 + grants) {
			uint64_t dt = now_ns() - t0, dg = r.grants - g0;

			res.grants_per_s = (double)dg * 1e9 / (double)dt;
			res.us_per_grant = (double)dt / 1000.0 / (double)dg;
			res.events_per_grant = (double)(r.events - e0) /
					       (double)dg;
			res.cs_per_grant = (double)(switches(&d) - cs0) /
					   (double)dg;
			res.cpu_us_per_grant = (double)(daemon_cpu(&d) - cpu0) /
					       1000.0 / (double)dg;
			res.ok = true;
			break;
		}
	}
	monitor_stop(monpid);
	res.rss_mib = daemon_rss(&d);
	res.shm_clients = r.shm_clients;
	for (i = 0; i < n; i++)
		close(r.cl[i].fd);
	if (r.map)
		munmap(r.map, r.map_len);
	close(ep);
	free(r.cl);
	daemon_stop(&d);
	/* The next run's place starts from the starting mask. */
	if (!place_pin(-1))
		die("sched_setaffinity");
	return res;
}

static int cmp_rate(const void *a, const void *b)
{
	double x = ((const struct result *)a)->grants_per_s;
	double y = ((const struct result *)b)->grants_per_s;

	return x < y ? -1 : x > y;
}

/* The run of median rate among reps runs of each mode, place and binary,
 * all taking turns so that a disturbance of the machine hits all alike. */
static void bench_rows(const char *const *bins, unsigned int nbins,
		       unsigned int reps, unsigned int n, const bool *modes,
		       const bool *places, uint64_t grants, enum monitor mon,
		       struct result out[PLACE_COUNT][MODE_COUNT][MAX_BINS])
{
	static struct result r[PLACE_COUNT][MODE_COUNT][MAX_BINS][MAX_REPS];

	for (unsigned int k = 0; k < reps; k++)
		for (unsigned int m = 0; m < MODE_COUNT; m++)
			for (unsigned int p = 0; modes[m] && p < PLACE_COUNT;
			     p++)
				for (unsigned int b = 0; places[p] && b < nbins;
				     b++) {
					/* No page: the reference is message
					 * mode only. */
					if (m == MODE_SHM &&
					    bin_is_ref(bins[b]))
						continue;
					r[p][m][b][k] = bench_one(bins[b], n, m,
								  p, grants,
								  mon);
				}
	for (unsigned int p = 0; p < PLACE_COUNT; p++)
		for (unsigned int m = 0; places[p] && m < MODE_COUNT; m++)
			for (unsigned int b = 0; modes[m] && b < nbins; b++) {
				struct result *v = r[p][m][b];

				qsort(v, reps, sizeof(v[0]), cmp_rate);
				out[p][m][b] = v[reps / 2];
			}
}

static unsigned int parse_list(const char *s, unsigned int *v)
{
	unsigned int n = 0;
	char *end;

	while (*s && n < MAX_NS) {
		unsigned long x = strtoul(s, &end, 10);

		if (end == s || x == 0 || x > 1000000) {
			fprintf(stderr, "bench: bad --clients '%s'\n", s);
			exit(2);
		}
		v[n++] = (unsigned int)x;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			break;
	}
	return n;
}

/* --help: on stdout, status 0; a mistake: on stderr, status 2. */
static void usage_to(FILE *f, int status)
{
	fprintf(f, "usage: bench --ttfs 'PATH [OPTION...]'|ref|ref-ev "
		"[--ttfs ...] [--clients N[,N...]] [--grants G]\n"
		"             [--mode basic|free|shm|both|all[,...]] "
		"[--monitor[=clock,read,ls,control]] [--repeat R]\n"
		"             [--place any|one|split[,...]]\n"
		"       bench --floors [--place ...] [--repeat R]\n");
	if (status == 0)
		fprintf(f, "\nGrants per second of each calendar against the "
			"floor, a 16-byte round trip\nbetween two processes, "
			"measured beside each row.  ref is the reference\n"
			"calendar (raw epoll), ref-ev the same on libev.  "
			"Figures and method:\ndocs/performance.md.\n");
	exit(status);
}

static void usage(void)
{
	usage_to(stderr, 2);
}

/* --mode: a comma list of basic, free, shm; both = basic,free; all. */
static void parse_modes(const char *s, bool *modes)
{
	char buf[64], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		usage();
	strcpy(buf, s);
	memset(modes, 0, MODE_COUNT * sizeof(*modes));
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		bool all = !strcmp(tok, "all"), both = !strcmp(tok, "both");
		bool known = all || both;

		for (unsigned int m = 0; m < MODE_COUNT; m++)
			if (!strcmp(tok, mode_names[m]) || all ||
			    (both && m != MODE_SHM)) {
				modes[m] = true;
				known = true;
			}
		if (!known)
			usage();
	}
}

/* --monitor=LIST: a comma list of clock, read, ls, control; the run
 * alone ("none") is always made, as the others' base. */
static void parse_monitors(const char *s, bool *mons)
{
	static const char *const keys[MON_COUNT] = {
		"none", "clock", "read", "ls", "control",
	};
	char buf[64], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		usage();
	strcpy(buf, s);
	memset(mons, 0, MON_COUNT * sizeof(*mons));
	mons[MON_NONE] = true;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int m;

		for (m = 0; m < MON_COUNT && strcmp(tok, keys[m]); m++)
			;
		if (m == MON_COUNT)
			usage();
		mons[m] = true;
	}
}

/* --place: a comma list of any, one, split. */
static void parse_places(const char *s, bool *places)
{
	char buf[64], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		usage();
	strcpy(buf, s);
	memset(places, 0, PLACE_COUNT * sizeof(*places));
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int p = 0;

		while (p < PLACE_COUNT && strcmp(tok, place_names[p]))
			p++;
		if (p == PLACE_COUNT)
			usage();
		places[p] = true;
	}
}

/* A row of the table; base: basic's grants/s at its N and place, or 0;
 * ref: the reference calendar's us/grant in the same row, or 0. */
static void row_print(unsigned int b, unsigned int n, enum place p,
		      enum mode m, const struct result *r, double base,
		      double ref)
{
	char xb[16] = "-", xr[16] = "-";

	if (base > 0)
		snprintf(xb, sizeof(xb), "%.2f", r->grants_per_s / base);
	if (ref > 0)
		snprintf(xr, sizeof(xr), "%.2f", r->us_per_grant / ref);
	printf("#%-2u %6u %-5s %-5s %10.0f %8.2f %7.2f %3d %6.2f %8.2f "
	       "%8.1f %8.2f %5.2f %7s %6u %6s%s\n", b, n, place_names[p],
	       mode_names[m], r->grants_per_s, r->us_per_grant, r->floor_us,
	       mode_rt[m], r->us_per_grant / (mode_rt[m] * r->floor_us),
	       r->events_per_grant, r->rss_mib, r->cpu_us_per_grant,
	       r->cs_per_grant, xb, r->shm_clients, xr,
	       r->ok ? "" : " (stalled)");
	if (m == MODE_SHM && r->shm_clients != n)
		printf("    (only %u of %u clients on the page: ttfs "
		       "--no-shm or too old?)\n", r->shm_clients, n);
}

/* One line per place: where everything runs.  Drops split, saying so,
 * without a second CPU (two); false if no place is left. */
static bool place_print(bool *places, bool two, bool monitor)
{
	bool left = false;

	for (unsigned int p = 0; p < PLACE_COUNT; p++) {
		if (!places[p])
			continue;
		printf("place %s:%*s", place_names[p],
		       7 - (int)strlen(place_names[p]), "");
		if (p == PLACE_ANY)
			printf("not pinned (CPUs %s allowed); floor: not "
			       "pinned\n", place_cpus());
		else if (p == PLACE_ONE)
			printf("bench, its clients and ttfs on CPU %d; "
			       "floor: both ends on CPU %d\n",
			       place_bench[p], place_ttfs[p]);
		else if (two)
			printf("bench and its clients on CPU %d, ttfs on "
			       "CPU %d; floor: one end on each\n",
			       place_bench[p], place_ttfs[p]);
		else {
			printf("SKIPPED: only CPU %s allowed, split needs "
			       "two (taskset?)\n", place_cpus());
			places[p] = false;
		}
		left = left || places[p];
	}
	if (monitor && places[PLACE_ONE] && place_monitor[PLACE_ONE] >= 0)
		printf("monitor loops: on CPU %d in place one, else not pinned "
		       "(CPUs %s allowed)\n", place_monitor[PLACE_ONE],
		       place_cpus());
	else if (monitor)
		printf("monitor loops: never pinned (CPUs %s allowed)\n",
		       place_cpus());
	return left;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "ttfs", required_argument, NULL, 't' },
		{ "clients", required_argument, NULL, 'n' },
		{ "grants", required_argument, NULL, 'g' },
		{ "mode", required_argument, NULL, 'm' },
		{ "monitor", optional_argument, NULL, 'M' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "place", required_argument, NULL, 'p' },
		{ "floors", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bins[MAX_BINS];
	unsigned int ns[MAX_NS] = { 2, 10, 100, 1000, 10000 };
	unsigned int nn = 5, nbins = 0, reps = 1, b, i, p;
	static struct result res[PLACE_COUNT][MODE_COUNT][MAX_BINS];
	uint64_t grants = 100000;
	bool modes[MODE_COUNT] = { true, true, true }, monitor = false;
	bool floors = false;
	const char *grant_opt = NULL; /* one that --floors has no use for */
	bool mons[MON_COUNT] = { true, true, true, true, true };
	bool places[PLACE_COUNT] = { true, true, true };
	double rate10[PLACE_COUNT][MAX_BINS] = { { 0 } };
	int ref_bin = -1; /* the first --ttfs ref (not ref-ev) */
	double ratebig[PLACE_COUNT][MAX_BINS] = { { 0 } };
	unsigned int big[PLACE_COUNT][MAX_BINS] = { { 0 } };
	int c;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (nbins == MAX_BINS)
				usage();
			bins[nbins++] = optarg;
			break;
		case 'n':
			nn = parse_list(optarg, ns);
			grant_opt = "--clients";
			break;
		case 'g':
			grants = strtoull(optarg, NULL, 10);
			if (grants == 0)
				usage();
			grant_opt = "--grants";
			break;
		case 'm':
			parse_modes(optarg, modes);
			grant_opt = "--mode";
			break;
		case 'M':
			monitor = true;
			if (optarg)
				parse_monitors(optarg, mons);
			break;
		case 'r':
			reps = (unsigned int)strtoul(optarg, NULL, 10);
			if (reps == 0 || reps > MAX_REPS)
				usage();
			break;
		case 'p':
			parse_places(optarg, places);
			break;
		case 'F':
			floors = true;
			break;
		case 'h':
			usage_to(stdout, 0);
			break;
		default:
			usage();
		}
	}
	if (floors && grant_opt) {
		fprintf(stderr, "bench: --floors runs no calendar: %s does "
			"not apply\n", grant_opt);
		return 2;
	}
	if (optind != argc || (floors ? nbins > 0 || monitor : nbins == 0))
		usage();
	for (b = 0; b < nbins; b++)
		if (!strcmp(bins[b], "ref") && ref_bin < 0)
			ref_bin = (int)b;
	for (b = 0; b < nbins; b++)
		if (monitor && bin_is_ref(bins[b])) {
			fprintf(stderr, "bench: --monitor needs files to read: "
				"not with --ttfs ref or ref-ev\n");
			return 2;
		}
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	atexit(bench_cleanup);
	signal(SIGINT, bench_signal);
	signal(SIGTERM, bench_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (b = 0; b < nbins; b++)
		if (bin_is_ref(bins[b]))
			printf("ttfs #%u: %s (%s)\n", b, bins[b],
			       bin_ref_what(bins[b]));
		else
			printf("ttfs #%u: %s\n", b, bins[b]);
	if (!place_print(places, place_init(), monitor)) {
		/* 77: meson's "skipped". */
		fprintf(stderr, "bench: no place left to run\n");
		return 77;
	}
	if (floors)
		return floors_run(places, reps);
	printf("%llu grants measured per run, after a warm-up of 3N + 2000; "
	       "each row the median of %u runs, modes, places and binaries "
	       "alternating\n"
	       "rt = round trips per grant on the critical path; "
	       "ratio = us/grant / (rt * floor), floor in the row's place;\n"
	       "x basic = grants/s / basic's grants/s at the same N and "
	       "place; shm = clients on the page;\n"
	       "cs/g = context switches of ttfs and the bench per grant "
	       "(2 per round trip at least, on one CPU);\n"
	       "x ref = us/grant / the reference calendar's (--ttfs ref) "
	       "at the same N, place and mode\n\n",
	       (unsigned long long)grants, reps);

	if (!monitor) {
		double shm_ratio[MAX_NS][PLACE_COUNT][MAX_BINS] = { { { 0 } } };

		printf("bin %6s %-5s %-5s %10s %8s %7s %3s %6s %8s %8s %8s "
		       "%5s %7s %6s %6s\n", "N", "place", "mode", "grants/s",
		       "us/grant", "floor", "rt", "ratio", "ev/grant",
		       "RSS MiB", "cpu us/g", "cs/g", "x basic", "shm",
		       "x ref");
		for (i = 0; i < nn; i++) {
			bench_rows(bins, nbins, reps, ns[i], modes, places,
				   grants, MON_NONE, res);
			for (unsigned int pm = 0; pm < PLACE_COUNT * MODE_COUNT;
			     pm++) {
				/* Places, then modes within each. */
				enum place pl = pm / MODE_COUNT;
				enum mode m = pm % MODE_COUNT;

				if (!places[pl] || !modes[m])
					continue;
				for (b = 0; b < nbins; b++) {
					const struct result *r = &res[pl][m][b];
					double base = modes[MODE_BASIC] ?
						res[pl][MODE_BASIC][b]
						.grants_per_s : 0;
					double ref = ref_bin < 0 ||
						(int)b == ref_bin ? 0 :
						res[pl][m][ref_bin]
						.us_per_grant;

					if (m == MODE_SHM &&
					    bin_is_ref(bins[b]))
						continue;
					if (m == MODE_SHM)
						ref = 0;
					row_print(b, ns[i], pl, m, r, base,
						  ref);
					if (m == MODE_SHM && base > 0)
						shm_ratio[i][pl][b] =
							r->grants_per_s / base;
					if (m != MODE_BASIC)
						continue;
					if (ns[i] == 10)
						rate10[pl][b] = r->grants_per_s;
					if (ns[i] >= big[pl][b]) {
						big[pl][b] = ns[i];
						ratebig[pl][b] =
							r->grants_per_s;
					}
				}
			}
		}
		for (p = 0; p < PLACE_COUNT; p++)
			for (b = 0; places[p] && b < nbins; b++)
				if (rate10[p][b] > 0 && big[p][b] > 10)
					printf("#%u %s: basic rate at N=%u / "
					       "at N=10: %.2f\n", b,
					       place_names[p], big[p][b],
					       ratebig[p][b] / rate10[p][b]);
		for (p = 0; p < PLACE_COUNT; p++)
			for (b = 0; places[p] && b < nbins; b++) {
				if (!modes[MODE_SHM] || !modes[MODE_BASIC])
					break;
				if (bin_is_ref(bins[b]))
					continue;
				printf("#%u %s: shm / basic grants/s:", b,
				       place_names[p]);
				for (i = 0; i < nn; i++)
					printf(" N=%u %.2f", ns[i],
					       shm_ratio[i][p][b]);
				printf("\n");
			}
		return bench_stalled ? 1 : 0;
	}

	printf("bin %6s %-5s %-13s %10s %8s %7s %8s\n", "N", "place",
	       "monitor", "grants/s", "us/grant", "floor", "vs none");
	for (i = 0; i < nn; i++) {
		static const bool basic_only[MODE_COUNT] = { true };
		double base[PLACE_COUNT][MAX_BINS] = { { 0 } };

		for (unsigned int mon = 0; mon < MON_COUNT; mon++) {
			if (!mons[mon])
				continue;
			bench_rows(bins, nbins, reps, ns[i], basic_only,
				   places, grants, mon, res);
			for (p = 0; p < PLACE_COUNT; p++) {
				if (!places[p])
					continue;
				for (b = 0; b < nbins; b++) {
					struct result r = res[p][MODE_BASIC][b];

					if (mon == MON_NONE)
						base[p][b] = r.grants_per_s;
					printf("#%-2u %6u %-5s %-13s %10.0f "
					       "%8.2f %7.2f %8.3f%s\n", b,
					       ns[i], place_names[p],
					       mon_names[mon], r.grants_per_s,
					       r.us_per_grant, r.floor_us,
					       r.grants_per_s / base[p][b],
					       r.ok ? "" : " (stalled)");
				}
			}
		}
	}
	return bench_stalled ? 1 : 0;
}
