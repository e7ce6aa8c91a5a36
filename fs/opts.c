/* SPDX-License-Identifier: MIT */
/* opts.c: ttfs's command line (see opts.h). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "shm.h"
#include "ttime.h"

#ifndef TTFS_VERSION
#define TTFS_VERSION "0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttfs --socket PATH [options] MOUNTPOINT\n"
"\n"
"The calendar for User-Mode Linux instances in time-travel=ext mode, and a\n"
"FUSE filesystem that shows and steers its simulated clock.\n"
"\n"
"  -s, --socket PATH      the Unix socket clients connect to (required)\n"
"  -f, --foreground       stay in the foreground, log to stderr\n"
"  -p, --paused           start paused\n"
"  -e, --expect N         start paused; run once N clients have sent START\n"
"  -q, --quantum TIME     longest FREE_UNTIL past the clock (default 10ms)\n"
"  -t, --tod NS           date at simulated time 0, ns since the epoch\n"
"                         (default: the wall clock at start)\n"
"  -m, --socket-mode MODE the socket's permissions, octal (default 0600)\n"
"  -g, --socket-group GROUP  the socket's group (with --socket-mode 0660)\n"
"      --max-clients N    connections beyond are closed (default 100000)\n"
"      --no-shm           never offer Linux 6.11+ clients the shared-memory\n"
"                         scheduling page: everyone uses messages\n"
"      --shm-clients N    clients the page holds at once (default 256,\n"
"                         at most 65534); more use messages\n"
"      --pace RATIO       simulated per wall time: 0 as fast as possible\n"
"                         (default), 1 real time, 10, 0.5, ...\n"
"      --nice N           niceness to run at, -20 to 19 (default -10 where\n"
"                         permitted, unless started at a niceness other\n"
"                         than 0): a client that wakes ttfs should not\n"
"                         have to wait for it (see ttfs(8))\n"
"      --busy-poll TIME   after a client speaks, poll instead of sleeping\n"
"                         for TIME (e.g. 50us; default 0): faster turns\n"
"                         for a CPU kept busy (see ttfs(8))\n"
"      --trace-records N  trace lines kept for slow readers (default 65536)\n"
"      --timeline-events N  events kept for timeline.json (default 100000)\n"
"  -o OPTS                FUSE mount options (comma-separated)\n"
"  -d, --debug            log every message and FUSE request\n"
"  -h, --help             this help\n"
"  -V, --version          the version\n"
"\n"
"Without -f, ttfs returns once the mount and the socket are ready.\n"
"Stop it with `fusermount3 -u MOUNTPOINT`, SIGTERM or SIGINT.\n"
"See ttfs(8).\n");
}

char *opts_append(char *a, const char *b)
{
	size_t la = a ? strlen(a) : 0, lb = strlen(b);
	char *r = realloc(a, la + lb + 2);

	if (!r) {
		perror("ttfs");
		exit(1);
	}
	if (la)
		r[la++] = ',';
	memcpy(r + la, b, lb + 1);
	return r;
}

int opts_parse(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "paused", no_argument, NULL, 'p' },
		{ "expect", required_argument, NULL, 'e' },
		{ "quantum", required_argument, NULL, 'q' },
		{ "busy-poll", required_argument, NULL, 'B' },
		{ "nice", required_argument, NULL, 'N' },
		{ "tod", required_argument, NULL, 't' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "debug", no_argument, NULL, 'd' },
		{ "pace", required_argument, NULL, 'P' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "max-clients", required_argument, NULL, 'M' },
		{ "no-shm", no_argument, NULL, 'S' },
		{ "shm-clients", required_argument, NULL, 'H' },
		{ "trace-records", required_argument, NULL, 'R' },
		{ "timeline-events", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct timespec now;
	uint64_t v;
	int c;

	clock_gettime(CLOCK_REALTIME, &now);
	o->cal.tod = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	o->cal.quantum = CAL_DEFAULT_QUANTUM;
	o->sock.mode = 0600;
	o->sock.gid = (gid_t)-1;
	o->sock.max_clients = SOCK_DEFAULT_MAX_CLIENTS;
	o->tree.trace_records = 65536;
	o->tree.timeline_events = 100000;
	while ((c = getopt_long(argc, argv, "s:fpe:q:t:m:g:o:dhV", lopts,
				NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'p':
			o->cal.paused = true;
			break;
		case 'e':
			if (ttime_parse_u64(optarg, strlen(optarg), &v) < 0 ||
			    v == 0 || v > 1000000) {
				fprintf(stderr, "ttfs: --expect takes a count "
					"from 1 to 1000000, not '%s'\n", optarg);
				return -1;
			}
			o->cal.expect = (unsigned int)v;
			break;
		case 'q':
			if (ttime_parse(optarg, strlen(optarg), 0, &v) < 0 ||
			    optarg[0] == '+' || v == 0) {
				fprintf(stderr, "ttfs: --quantum takes a time "
					"above 0 (e.g. 10ms), not '%s'\n", optarg);
				return -1;
			}
			o->cal.quantum = v;
			break;
		case 'B':
			if (ttime_parse(optarg, strlen(optarg), 0, &v) < 0 ||
			    optarg[0] == '+' || v > 1000000000) {
				fprintf(stderr, "ttfs: --busy-poll takes a time "
					"from 0 to 1s (e.g. 50us), not '%s'\n",
					optarg);
				return -1;
			}
			o->busy_poll = v;
			break;
		case 'N': {
			char *end;
			long n;

			errno = 0;
			n = strtol(optarg, &end, 10);
			if (!*optarg || *end || errno || n < -20 || n > 19) {
				fprintf(stderr, "ttfs: --nice takes a niceness "
					"from -20 to 19, not '%s'\n", optarg);
				return -1;
			}
			o->nice = (int)n;
			o->nice_set = true;
			break;
		}
		case 't':
			if (ttime_parse_u64(optarg, strlen(optarg), &v) < 0) {
				fprintf(stderr, "ttfs: --tod takes ns since the "
					"epoch, not '%s'\n", optarg);
				return -1;
			}
			o->cal.tod = v;
			break;
		case 'm': {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);

			if (!*optarg || *end || m > 0777) {
				fprintf(stderr, "ttfs: --socket-mode takes an "
					"octal mode, not '%s'\n", optarg);
				return -1;
			}
			o->sock.mode = (mode_t)m;
			break;
		}
		case 'P':
			if (ttime_parse_ratio(optarg, strlen(optarg),
					      &o->pace) < 0 || o->pace > 1e12) {
				fprintf(stderr, "ttfs: --pace takes a ratio "
					"(0, 1, 10, 0.5), not '%s'\n", optarg);
				return -1;
			}
			break;
		case 'g': {
			struct group *gr = getgrnam(optarg);
			char *end;
			unsigned long g = strtoul(optarg, &end, 10);

			if (gr) {
				o->sock.gid = gr->gr_gid;
			} else if (*optarg && !*end) {
				o->sock.gid = (gid_t)g;
			} else {
				fprintf(stderr, "ttfs: --socket-group: no group "
					"'%s'\n", optarg);
				return -1;
			}
			break;
		}
		case 'S':
			o->sock.no_shm = true;
			break;
		case 'H':
			if (ttime_parse_u64(optarg, strlen(optarg), &v) < 0 ||
			    v == 0 || v > SHM_SLOTS_MAX - 1) {
				fprintf(stderr, "ttfs: --shm-clients takes a "
					"count from 1 to %u, not '%s'\n",
					SHM_SLOTS_MAX - 1, optarg);
				return -1;
			}
			o->sock.shm_clients = (unsigned int)v;
			break;
		case 'M':
			if (ttime_parse_u64(optarg, strlen(optarg), &v) < 0 ||
			    v == 0 || v > 10000000) {
				fprintf(stderr, "ttfs: --max-clients takes a "
					"count from 1 to 10000000, not '%s'\n",
					optarg);
				return -1;
			}
			o->sock.max_clients = (unsigned int)v;
			break;
		case 'R':
		case 'E':
			if (ttime_parse_u64(optarg, strlen(optarg), &v) < 0 ||
			    v == 0 || v > 100000000) {
				fprintf(stderr, "ttfs: --%s takes a count from 1 "
					"to 100000000, not '%s'\n",
					c == 'R' ? "trace-records" :
					"timeline-events", optarg);
				return -1;
			}
			if (c == 'R')
				o->tree.trace_records = (size_t)v;
			else
				o->tree.timeline_events = (size_t)v;
			break;
		case 'o':
			o->fuse_opts = opts_append(o->fuse_opts, optarg);
			break;
		case 'd':
			o->debug = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("ttfs %s\n", TTFS_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind + 1 != argc || !o->socket) {
		fprintf(stderr, "ttfs: %s\n", !o->socket ?
			"--socket PATH is required" :
			optind >= argc ? "MOUNTPOINT is required" :
			"one MOUNTPOINT only");
		usage(stderr);
		return -1;
	}
	o->mountpoint = argv[optind];
	/* Absolute, like the socket: the daemon unmounts it from "/". */
	o->mountpoint_abs = realpath(o->mountpoint, NULL);
	if (o->mountpoint_abs)
		o->mountpoint = o->mountpoint_abs;
	/* The daemon leaves its cwd: keep the socket's path absolute, or
	 * the unlink at exit would hit another file. */
	if (o->socket[0] != '/') {
		char cwd[4096];
		size_t n;

		if (!getcwd(cwd, sizeof(cwd))) {
			perror("ttfs: getcwd");
			return -1;
		}
		n = strlen(cwd) + strlen(o->socket) + 2;
		o->socket_abs = malloc(n);
		if (!o->socket_abs) {
			perror("ttfs");
			return -1;
		}
		snprintf(o->socket_abs, n, "%s/%s", cwd, o->socket);
		o->socket = o->socket_abs;
	}
	return 0;
}

void opts_release(struct opts *o)
{
	free(o->fuse_opts);
	free(o->socket_abs);
	free(o->mountpoint_abs);
}
