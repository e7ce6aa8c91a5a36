/* SPDX-License-Identifier: MIT */
/*
 * opts.h: ttfs's command line: what it means, checked, with --help.
 */
#ifndef TTFS_OPTS_H
#define TTFS_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "cal.h"
#include "sock.h"
#include "tree.h"

struct opts {
	const char *socket;
	char *socket_abs; /* owned: socket made absolute */
	char *mountpoint_abs; /* owned: the mount point made absolute */
	const char *mountpoint;
	char *fuse_opts;
	bool foreground;
	bool debug;
	struct sock_config sock;
	double pace;
	struct cal_config cal;
	struct tree_config tree;
	uint64_t busy_poll; /* ns; 0: block as soon as nothing is ready */
	int nice;
	bool nice_set; /* --nice given: it must take */
};

/* 0, or -1 after saying what is wrong; --help and --version answer and
 * exit. */
int opts_parse(int argc, char **argv, struct opts *o);
/* Frees what opts_parse allocated. */
void opts_release(struct opts *o);
/* "a,b", a reallocated (exits when out of memory). */
char *opts_append(char *a, const char *b);

#endif
