#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_protocol.py: the calendar's socket protocol, through a real daemon.

    python3 tests/test_protocol.py BUILD_DIR [unittest args]

Every test starts its own ttfs (in the foreground, so that the test owns the
process) on a fresh temporary mount point and socket, talks to it with fake
UML clients, and unmounts it even when the test fails.  The tree is used only
where the protocol alone cannot see something (the clock, the state, a
client's next request) or to steer the calendar (`state`, `clock` writes).
Exits 77 (skipped) when /dev/fuse is missing.
"""

import mmap
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttfs_test as tt  # noqa: E402
from ttfs_test import (ACK, START, REQUEST, WAIT, GET, UPDATE,  # noqa: E402
                       RUN, FREE_UNTIL, GET_TOD, BROADCAST, US, MS, S,
                       QUANTUM, TIMEOUT, QUIET, Client, TtfsTest, fmt,
                       op_name, pack, unmount, wait_for)


# ---------------------------------------------------------------------------


class AckTest(TtfsTest):
    TOD = 1700000000123456789

    def test_acks_echo_seq_and_times(self):
        self.start_daemon('--tod', str(self.TOD))
        c = self.client()
        m = c.started(77)
        self.assertEqual(m.time, c.slot, 'START\'s ACK time: the slot')
        self.assertEqual(c.slot, 1)
        self.assertEqual(c.get(), 0)
        self.assertEqual(c.expect(ACK, c.send(GET_TOD)).time, self.TOD)
        c.request(1 * S)                      # ACK time 0 checked inside
        c.update(300 * MS)
        self.assertEqual(c.get(), 300 * MS)
        self.assertEqual(c.expect(ACK, c.send(GET_TOD)).time,
                         self.TOD + 300 * MS)
        self.assertEqual(c.expect(ACK, c.send(BROADCAST, 5)).time, 0)
        # seqs need not be consecutive: the ACK echoes whatever we sent
        c.seq = 0xfffffff0
        for _ in range(20):   # across the 32-bit wrap
            c.expect_ack(c.send(UPDATE, 300 * MS))
        c.wait()
        c.expect_run(1 * S, fu=1 * S + QUANTUM)
        self.assertEqual(c.get(), 1 * S)
        self.assertEqual(c.expect(ACK, c.send(GET_TOD)).time,
                         self.TOD + 1 * S)
        self.assertEqual(self.read_int('clock'), 1 * S)

    def test_start_ack_carries_fds(self):
        self.start_daemon()
        c = self.client()
        m = c.started(1)
        # the page: version 2, its length, and room for our slot
        version, length = struct.unpack('<II', os.pread(m.fds[0], 8, 0))
        self.assertEqual(version, 2)
        self.assertEqual(os.fstat(m.fds[0]).st_size, length)
        self.assertGreaterEqual(c.slot, 1)
        self.assertGreaterEqual(length, 4096 + 128 * (c.slot + 1))
        # the log descriptor: writable, and nothing a client can change
        # for another (/dev/null): kernels close it, USFSTL logs to it
        self.assertEqual(os.readlink('/proc/self/fd/%d' % m.fds[1]),
                         '/dev/null')
        self.assertEqual(os.write(m.fds[1], b'a log line\n'), 11)
        # sealed: nobody can shrink the page under ttfs (SIGBUS)
        with self.assertRaises(PermissionError):
            os.ftruncate(m.fds[0], 0)
        # the first descriptor is the memfd (a 6.11 kernel maps it)
        self.assertTrue(os.readlink('/proc/self/fd/%d' % m.fds[0])
                        .startswith('/memfd:'),
                        os.readlink('/proc/self/fd/%d' % m.fds[0]))
        # the client is usable afterwards
        c.cycle(5)
        c.expect_run(5)


    def test_no_shm_declines(self):
        """--no-shm: slot 0 and a page of its own that is not version 2,
        mappable read-write and shared with its len filled in (USFSTL's
        library maps it so, asserts that worked, and grows the mapping to
        len before it reads the version)."""
        self.start_daemon('--paused', '--no-shm')
        a, b = self.client('a'), self.client('b')
        self.held(a, 1)
        self.held(b, 2)
        self.write('state', 'run')
        m = a.expect_start_ack()
        self.assertEqual(a.slot, 0)
        page = m.fds[0]
        self.assertTrue(os.readlink('/proc/self/fd/%d' % page)
                        .startswith('/memfd:'))
        self.assertEqual(os.fstat(page).st_size, 4096)
        version, length = struct.unpack('<II', os.pread(page, 8, 0))
        self.assertNotEqual(version, 2)
        self.assertEqual(length, 4096)
        mm = mmap.mmap(page, length, mmap.MAP_SHARED,
                       mmap.PROT_READ | mmap.PROT_WRITE)
        # a client may scribble on its own page: nobody else sees it
        struct.pack_into('<II', mm, 0, 2, 1 << 20)
        mm.close()
        with self.assertRaises(PermissionError):
            os.ftruncate(page, 0)
        a.cycle(5)
        mb = b.expect_start_ack()
        self.assertEqual(b.slot, 0)
        self.assertNotEqual(os.fstat(mb.fds[0]).st_ino, os.fstat(page).st_ino)
        self.assertEqual(struct.unpack('<II', os.pread(mb.fds[0], 8, 0)),
                         (version, 4096))
        b.cycle(10)
        a.expect_run(5)


class StartTest(TtfsTest):
    def test_paused_starts_released_in_id_order(self):
        self.start_daemon('--paused')
        ids = [5, 3, 9, 3, 1]        # connection order; 3 twice
        cs = self.clients(len(ids))
        for c, i in zip(cs, ids):
            self.held(c, i)
        for c in cs:
            c.expect_nothing(0.05)
        cs[0].expect_nothing()
        self.assertEqual(self.read('state'), 'paused\n')
        self.write('state', 'run')
        # ID order, ties by connection order: 1, 3 (c1), 3 (c3), 5, 9
        order = [4, 1, 3, 0, 2]
        for k, n in enumerate(order):
            cs[n].expect_start_ack()
            for other in order[k + 1:]:
                cs[other].expect_nothing(0.05 if other != order[-1]
                                         else QUIET)
            self.assertEqual(cs[n].get(), 0)
            cs[n].cycle(1 * S)
        # all wait for 1 s: the same order again
        for n in order:
            cs[n].expect_run(1 * S)
            cs[n].cycle(2 * S)

    def test_held_starts_id_order_across_clock_changes(self):
        """STARTs held while paused go in ID order even when the clock
        moved between them (a runner's UPDATE): the order must not
        depend on who won the race to the socket."""
        self.start_daemon('--paused')
        a = self.client('a')
        self.held(a, 1)
        self.write('state', 'run')
        a.expect_start_ack()
        p = self.write_async('state', 'pause')   # parks until a's WAIT
        self.assertTrue(wait_for(lambda: self.read('state') == 'paused\n'))
        b, c = self.client('b'), self.client('c')
        self.held(b, 9)              # at clock 0
        self.assertTrue(wait_for(
            lambda: self.read('clients', '2', 'id') == '9\n'))
        a.update(1 * S)
        self.held(c, 3)              # at clock 1 s
        self.assertTrue(wait_for(
            lambda: self.read('clients', '3', 'id') == '3\n'))
        a.cycle(5 * S)
        self.finish(p)
        self.assertEqual(self.read('state'), 'paused\n')
        b.expect_nothing(0.05)
        c.expect_nothing(0.05)
        self.write('state', 'run')
        first = self.first_to_hear([b, c])
        self.assertEqual(first.name, c.name, 'held STARTs released out of ID order: '
                      'id 9 (START at clock 0) before id 3 (START at '
                      'clock 1s)')
        c.expect_start_ack()
        b.expect_nothing(0.05)
        c.cycle(1 * S)
        b.expect_start_ack()

    def test_start_held_while_another_runs(self):
        self.start_daemon()
        a, b = self.client('a'), self.client('b')
        a.started(10)
        self.held(b, 1)                     # a lower ID does not preempt
        b.expect_nothing()
        a.update(2 * MS)
        a.request(5 * MS)
        b.expect_nothing(0.05)
        a.wait()
        b.expect_start_ack()
        a.expect_nothing()
        self.assertEqual(b.get(), 0)   # its time 0 is the clock: 2 ms
        b.cycle(1 * MS)                # 3 ms on the calendar
        b.expect_run(1 * MS, fu=3 * MS)  # up to a's 5 ms (client based)
        a.expect_nothing(0.05)
        b.cycle(10 * MS)
        a.expect_run(5 * MS, fu=12 * MS)

    def test_paused_start_released_by_advance(self):
        self.start_daemon('--paused')
        c = self.client()
        self.held(c, 4)
        c.expect_nothing()
        p = self.write_async('clock', '+1s')
        c.expect_start_ack()
        time.sleep(0.1)
        self.assertIsNone(p.poll(), 'the advance returned while a client '
                          'runs before its stop point')
        c.cycle(2 * S)
        self.finish(p)
        self.assertEqual(self.read_int('clock'), 1 * S)
        self.assertEqual(self.read('state'), 'paused\n')
        c.expect_nothing()

    def test_expect_n(self):
        self.start_daemon('--expect', '3')
        self.assertEqual(self.read('state'), 'paused\n')
        cs = self.clients(3)
        self.held(cs[0], 30)
        self.held(cs[1], 20)
        cs[0].expect_nothing(0.1)
        cs[1].expect_nothing()
        self.assertEqual(self.read('state'), 'paused\n')
        self.held(cs[2], 40)
        cs[1].expect_start_ack()
        self.assertEqual(self.read('state'), 'running\n')
        cs[0].expect_nothing(0.05)
        cs[2].expect_nothing(0.05)
        cs[1].cycle(1 * MS)
        cs[0].expect_start_ack()
        cs[0].cycle(1 * MS)
        cs[2].expect_start_ack()
        cs[2].cycle(1 * MS)
        for n in (1, 0, 2):      # all at 1 ms: ID order
            cs[n].expect_run(1 * MS)
            cs[n].cycle(2 * MS)
        # the expectation is met once: a later client starts at once
        late = self.client('late')
        self.assertEqual(self.read('state'), 'running\n')
        for n in (1, 0, 2):
            cs[n].expect_run(2 * MS)
            if n == 1:
                self.held(late, 99)
                late.expect_nothing(0.05)
            cs[n].cycle(1 * S)
        late.expect_start_ack()


class ScheduleTest(TtfsTest):
    def test_earliest_request_runs_with_free_until(self):
        self.start_daemon('--paused')
        a, b, c = self.client('a'), self.client('b'), self.client('c')
        self.held(a, 1)
        self.held(b, 2)
        self.held(c, 3)
        self.write('state', 'run')
        a.expect_start_ack()
        a.cycle(100 * MS)
        b.expect_start_ack()
        b.cycle(30 * MS)
        c.expect_start_ack()
        c.cycle(50 * MS)
        # b (30 ms) first; free until c's 50 ms? no: clock + 10 ms
        b.expect_run(30 * MS, fu=40 * MS)
        a.expect_nothing(0.02)
        c.expect_nothing(0.02)
        b.cycle(45 * MS)
        b.expect_run(45 * MS, fu=50 * MS)   # c's request is closer
        b.cycle(50 * MS)                     # a tie with c: ID 2 first
        b.expect_run(50 * MS, fu=50 * MS)
        b.cycle(200 * MS)
        c.expect_run(50 * MS, fu=60 * MS)
        c.cycle(100 * MS)                    # tie with a: ID 1 first
        a.expect_run(100 * MS, fu=100 * MS)
        a.cycle(300 * MS)
        c.expect_run(100 * MS, fu=110 * MS)
        c.cycle(400 * MS)
        b.expect_run(200 * MS, fu=210 * MS)

    def test_quantum_option(self):
        self.start_daemon('--quantum', '1ms')
        a = self.client('a')
        a.started(1)
        a.cycle(7 * S)
        a.expect_run(7 * S, fu=7 * S + 1 * MS)
        b = self.client('b')
        self.held(b, 2)
        a.cycle(7 * S + 300 * US)
        b.expect_start_ack()
        b.cycle(500 * US)
        # a waits for 7.0003 s; b's 0.5 ms is 7.0005 s
        a.expect_run(7 * S + 300 * US, fu=7 * S + 500 * US)
        a.cycle(8 * S)
        b.expect_run(500 * US, fu=1500 * US)

    def test_only_one_runs_and_run_is_exact(self):
        self.start_daemon('--paused')
        a, b = self.client('a'), self.client('b')
        self.held(a, 1)
        self.held(b, 2)
        self.write('state', 'run')
        a.expect_start_ack()
        b.expect_nothing(0.05)
        a.cycle(1 * MS)
        b.expect_start_ack()
        a.expect_nothing(0.05)
        b.request(1 * MS + 1)
        b.wait()
        # a runs now; b must not get anything until a's WAIT
        a.expect_run(1 * MS, fu=1 * MS + 1)
        b.expect_nothing()
        a.update(1 * MS + 1)
        b.expect_nothing(0.05)
        a.cycle(3 * MS + 7)
        b.expect_run(1 * MS + 1)
        a.expect_nothing()
        b.cycle(3 * MS + 7)
        a.expect_run(3 * MS + 7)

    def test_tie_by_connection_order(self):
        self.start_daemon('--paused')
        cs = self.clients(3)
        for c in cs:
            self.held(c, 8)
        self.write('state', 'run')
        for c in cs:
            c.expect_start_ack()
            c.cycle(2 * MS)
        for c in cs:
            c.expect_run(2 * MS)
            c.cycle(3 * MS)
        for c in cs:
            c.expect_run(3 * MS)
            c.cycle(4 * MS)


class TimeBaseTest(TtfsTest):
    TOD = 10 ** 18

    def test_late_joiner(self):
        self.start_daemon('--tod', str(self.TOD))
        a = self.client('a')
        a.started(1)
        a.cycle(3 * S)
        a.expect_run(3 * S)
        a.update(3 * S + 250 * MS)
        b = self.client('b')
        self.held(b, 2)                 # held while a runs
        a.cycle(10 * S)
        b.expect_start_ack()
        self.assertEqual(self.read_int('clock'), 3 * S + 250 * MS)
        off = 3 * S + 250 * MS
        self.assertEqual(b.get(), 0, 'a late joiner starts at its time 0')
        # GET_TOD is the date on the calendar's clock
        self.assertEqual(b.expect(ACK, b.send(GET_TOD)).time,
                         self.TOD + off)
        b.update(100 * MS)
        self.assertEqual(self.read_int('clock'), off + 100 * MS)
        self.assertEqual(b.get(), 100 * MS)
        self.assertEqual(a.get(), off + 100 * MS)
        b.request(1 * S)
        self.assertEqual(self.read('clients', '2', 'next_request'),
                         '%d\n' % (off + 1 * S))
        self.assertEqual(self.read('clients', '1', 'next_request'),
                         '%d\n' % (10 * S))
        b.wait()
        b.expect_run(1 * S, fu=1 * S + QUANTUM)
        self.assertEqual(self.read_int('clock'), off + 1 * S)
        self.assertEqual(b.get(), 1 * S)
        # b asks for a's time exactly, in its own base: a tie (a's ID 1)
        b.cycle(10 * S - off)
        a.expect_run(10 * S, fu=10 * S)
        a.cycle(20 * S)
        b.expect_run(10 * S - off, fu=10 * S - off + QUANTUM)
        b.cycle(15 * S)          # calendar 18.25 s
        b.expect_run(15 * S, fu=15 * S + QUANTUM)
        b.cycle(20 * S - off + 1)
        a.expect_run(20 * S, fu=20 * S + 1)
        # a REQUEST behind a's own time is still judged in a's base
        a.cycle(20 * S + 5)
        b.expect_run(20 * S - off + 1, fu=20 * S - off + 5)


class WaitingClientTest(TtfsTest):
    def setup_runner_and_waiter(self):
        self.start_daemon()
        return self.runner_and_waiter()  # a runs, b waits for 2 s

    def test_waiting_client_answered_at_once(self):
        a, b = self.setup_runner_and_waiter()
        t0 = time.monotonic()
        for _ in range(5):
            self.assertEqual(b.get(), 1 * S)
            b.request(2 * S)
            b.update(1 * S)
            b.expect(ACK, b.send(GET_TOD))
        self.assertLess(time.monotonic() - t0, 2.0)
        # all of them in one send, too
        seqs = b.send_many([(GET, 0), (REQUEST, 2 * S), (UPDATE, 0),
                            (GET_TOD, 0), (GET, 0)])
        for s in seqs:
            b.expect(ACK, s)
        a.expect_nothing(0.05)
        b.expect_nothing(0.05)
        # a was never blocked either
        a.update(1 * S + 5)
        self.assertEqual(b.get(), 1 * S + 5)
        a.cycle(3 * S)
        b.expect_run(2 * S)

    def test_request_replaces_earlier(self):
        a, b = self.setup_runner_and_waiter()
        b.request(1500 * MS)          # earlier than before
        a.cycle(1700 * MS)
        b.expect_run(1500 * MS, fu=1510 * MS)
        b.cycle(1800 * MS)
        a.expect_run(1700 * MS)
        b.request(5 * S)              # later than a's next
        a.cycle(2 * S)
        a.expect_run(2 * S, fu=2 * S + QUANTUM)
        a.cycle(4 * S)
        a.expect_run(4 * S, fu=4 * S + QUANTUM)
        b.request_under(a, 4 * S + 1)
        a.cycle(6 * S)
        b.expect_run(4 * S + 1)
        b.cycle(7 * S)
        a.expect_run(6 * S)

    def test_update_from_runner_and_waiter(self):
        a, b = self.setup_runner_and_waiter()
        # the runner moves the clock forward
        a.update(1200 * MS)
        self.assertEqual(self.read_int('clock'), 1200 * MS)
        self.assertEqual(b.get(), 1200 * MS)
        # ...never back
        a.update(1100 * MS)
        self.assertEqual(self.read_int('clock'), 1200 * MS)
        self.assertEqual(a.get(), 1200 * MS)
        # a waiting client's UPDATE is ACKed and ignored
        b.update(1900 * MS)
        self.assertEqual(self.read_int('clock'), 1200 * MS)
        self.assertEqual(a.get(), 1200 * MS)
        self.assertEqual(b.get(), 1200 * MS)
        a.cycle(3 * S)
        b.expect_run(2 * S, fu=2 * S + QUANTUM)
        b.update(2 * S + 5 * MS)
        self.assertEqual(a.get(), 2 * S + 5 * MS)
        self.assertEqual(self.read_int('clock'), 2 * S + 5 * MS)

    def test_get_never_goes_back(self):
        a, b = self.setup_runner_and_waiter()
        seen = {'a': [], 'b': []}

        def get(c):
            v = c.get()
            seen[c.name].append(v)
            self.assertGreaterEqual(v, max(seen[c.name][:-1] or [0]),
                                    '%s: GET went back: %s'
                                    % (c.name, seen[c.name]))
            return v

        self.assertEqual(get(a), 1 * S)
        a.update(1500 * MS)
        self.assertEqual(get(a), 1500 * MS)
        self.assertEqual(get(b), 1500 * MS)
        a.update(1400 * MS)
        self.assertEqual(get(a), 1500 * MS)
        a.request(1600 * MS)
        a.wait()
        a.expect_run(1600 * MS)
        self.assertEqual(get(a), 1600 * MS)
        a.cycle(9 * S)
        b.expect_run(2 * S)
        get(b)
        b.cycle(3 * S)
        b.expect_run(3 * S)
        self.assertEqual(get(a), 3 * S)
        self.assertEqual(get(b), 3 * S)
        b.update(3500 * MS)
        b.cycle(8 * S)
        b.expect_run(8 * S)
        self.assertEqual(get(a), 8 * S)
        self.assertEqual(get(b), 8 * S)


class RunnerBoundTest(TtfsTest):
    """A message-mode runner free until a later time (wmediumd on its
    FREE_UNTIL) must hear at once of a request below that, and read it
    before the requester goes on: else it runs past the request and the
    requester is told a time beyond it (issue 15's kernel panic)."""

    def test_request_below_free_until_reaches_the_runner_first(self):
        self.start_daemon()
        a, b = self.runner_and_waiter()      # a at 1 s, free to 1.01 s
        seq = b.send(REQUEST, 1 * S + 5 * MS)
        f = a.expect(FREE_UNTIL, time=1 * S + 5 * MS)
        b.expect_nothing(0.2)                # its ACK waits for a's
        gseq = b.send(GET)                   # kept behind it, in order
        a.update(1 * S + 2 * MS)             # a's own exchanges go on
        b.expect_nothing(0.05)
        a.ack(f)
        b.expect_ack(seq)
        self.assertEqual(b.expect(ACK, gseq).time, 1 * S + 2 * MS)
        # a read it: its next event, at 1.007 s, is past it, so it asks
        a.cycle(1 * S + 7 * MS)
        b.expect_run(1 * S + 5 * MS, fu=1 * S + 7 * MS)
        b.cycle(2 * S)
        a.expect_run(1 * S + 7 * MS)

    def test_runner_that_read_it_late(self):
        self.start_daemon()
        a, b = self.runner_and_waiter()
        seq = b.send(REQUEST, 1 * S + 5 * MS)
        f = a.expect(FREE_UNTIL, time=1 * S + 5 * MS)
        a.update(1 * S + 8 * MS)             # past b's request, unasked
        a.ack(f)
        b.expect_ack(seq)
        # b is never told a time past its own request: RUN comes at it
        self.assertEqual(b.get(), 1 * S + 5 * MS)
        a.cycle(1 * S + 9 * MS)
        b.expect_run(1 * S + 5 * MS)

    def test_runner_that_leaves_releases_the_ack(self):
        self.start_daemon()
        a, b = self.runner_and_waiter()
        seq = b.send(REQUEST, 1 * S + 5 * MS)
        a.expect(FREE_UNTIL, time=1 * S + 5 * MS)
        b.expect_nothing(0.05)
        a.close()
        b.expect_ack(seq)
        b.expect_run(1 * S + 5 * MS)


class DropTest(TtfsTest):
    """Protocol errors drop the client that made them, and only it."""

    def setup_pair(self):
        """w: a witness that waits (no request); x: the runner."""
        self.start_daemon()
        w, x = self.client('witness'), self.client('x')
        w.started(1)
        w.wait()              # waits with no request: never runs
        x.started(2)
        return w, x

    def after_drop(self, w, t=1 * S):
        w.expect_nothing(0.02)
        self.witness_ok(w, t)

    def test_unknown_op(self):
        w, x = self.setup_pair()
        x.send(42, 7)
        x.expect_closed()
        self.after_drop(w)

    def test_unknown_op_from_waiting_client(self):
        w, x = self.setup_pair()
        x.cycle(5 * S)
        x.expect_run(5 * S)
        x.cycle(6 * S)
        x.expect_run(6 * S)
        # w is waiting; x runs: w breaks the protocol
        w.send(10, 0)     # one past BROADCAST
        w.expect_closed()
        self.assert_alive()
        x.cycle(7 * S)
        x.expect_run(7 * S)

    def test_ack_wrong_seq(self):
        w, x = self.setup_pair()
        x.cycle(5 * MS)
        f = x.expect(FREE_UNTIL)
        r = x.expect(RUN, f.seq + 1, 5 * MS)
        x.send_raw(pack(ACK, r.seq + 5))
        x.expect_closed()
        self.after_drop(w, 5 * MS)

    def test_ack_out_of_order(self):
        w, x = self.setup_pair()
        x.cycle(5 * MS)
        f = x.expect(FREE_UNTIL)
        r = x.expect(RUN, f.seq + 1, 5 * MS)
        x.ack(r)              # RUN's before FREE_UNTIL's
        x.expect_closed()
        self.after_drop(w, 5 * MS)

    def test_ack_with_nothing_to_ack(self):
        w, x = self.setup_pair()
        x.send_raw(pack(ACK, 1))
        x.expect_closed()
        self.after_drop(w)

    def test_ack_twice(self):
        w, x = self.setup_pair()
        x.cycle(5 * MS)
        x.expect_run(5 * MS)          # ACKs both
        x.send_raw(pack(ACK, x.cal_seq))
        x.expect_closed()
        self.after_drop(w, 5 * MS)

    def test_request_behind_own_time(self):
        w, x = self.setup_pair()
        x.cycle(2 * S)
        x.expect_run(2 * S)
        x.request(2 * S)              # equal is fine
        x.send(REQUEST, 2 * S - 1)
        x.expect_closed()
        self.after_drop(w, 3 * S)

    def test_request_behind_own_time_after_update(self):
        w, x = self.setup_pair()
        x.update(10 * MS)
        x.send(REQUEST, 9 * MS)
        x.expect_closed()
        self.after_drop(w, 20 * MS)

    def test_request_behind_own_time_late_joiner(self):
        w, x = self.setup_pair()
        x.cycle(1 * S)
        x.expect_run(1 * S)
        y = self.client('y')
        self.held(y, 3)
        x.cycle(5 * S)
        y.expect_start_ack()
        self.assertEqual(y.get(), 0)
        y.update(1 * MS)
        y.send(REQUEST, 1 * MS - 1)   # in its base: behind; calendar: not
        y.expect_closed()
        x.expect_run(5 * S)
        x.cycle(6 * S)
        x.expect_run(6 * S)

    def test_message_before_start(self):
        w, x = self.setup_pair()
        for op in (GET, REQUEST, WAIT, UPDATE, GET_TOD, BROADCAST, ACK):
            y = self.client('early-%s' % op_name(op))
            y.send(op, 1)
            y.expect_closed()
        x.cycle(1 * S)
        x.expect_run(1 * S)
        w.expect_nothing(0.02)

    def test_second_start(self):
        w, x = self.setup_pair()
        x.send(START, 2)
        x.expect_closed()
        self.after_drop(w)

    def test_second_start_from_waiting_client(self):
        w, x = self.setup_pair()
        x.cycle(1 * S)
        x.expect_run(1 * S)
        w.send(START, 1)
        w.expect_closed()
        x.cycle(2 * S)
        x.expect_run(2 * S)

    def test_wait_while_not_running(self):
        w, x = self.setup_pair()
        w.send(WAIT)          # w waits already; x runs
        w.expect_closed()
        x.cycle(1 * S)
        x.expect_run(1 * S)

    def test_wait_twice(self):
        w, x = self.setup_pair()
        w.request(500 * MS)
        x.request(1 * S)
        x.wait()
        w.expect_run(500 * MS)
        x.send(WAIT)
        x.expect_closed()
        w.cycle(2 * S)
        w.expect_run(2 * S)

    def test_acks_before_error_in_same_send(self):
        """Valid messages joined with a bad one are still answered: the
        outcome must not depend on how the bytes were split."""
        w, x = self.setup_pair()
        w.request(500 * MS)
        x.request(1 * S)
        seqs = x.send_many([(GET, 0), (WAIT, 0), (WAIT, 0)])
        x.expect(ACK, seqs[0], 0)
        x.expect_ack(seqs[1])
        x.expect_closed()
        w.expect_run(500 * MS)
        w.cycle(2 * S)
        w.expect_run(2 * S)

    def test_client_sends_run(self):
        w, x = self.setup_pair()
        x.send(RUN, 1 * S)
        x.expect_closed()
        self.after_drop(w)

    def test_client_sends_free_until(self):
        w, x = self.setup_pair()
        x.send(FREE_UNTIL, 1 * S)
        x.expect_closed()
        self.after_drop(w)

    def test_waiting_client_sends_run(self):
        w, x = self.setup_pair()
        w.send(RUN, 1 * S)
        w.expect_closed()
        x.cycle(1 * S)
        x.expect_run(1 * S)

    def test_hangup_mid_message_runner(self):
        w, x = self.setup_pair()
        w.request(3 * S)
        x.cycle(1 * S)
        x.expect_run(1 * S)
        x.send_raw(pack(REQUEST, 99, 2 * S)[:8])
        time.sleep(0.05)
        w.expect_nothing(0.05)    # a half message is not a hang-up
        x.sock.shutdown(socket.SHUT_WR)
        x.expect_closed()
        w.expect_run(3 * S)
        self.assertEqual(self.read_int('clock'), 3 * S)

    def test_hangup_runner_hands_turn(self):
        w, x = self.setup_pair()
        w.request(3 * S)
        x.request(1 * S)      # x's request must be forgotten with it
        x.close()
        w.expect_run(3 * S, fu=3 * S + QUANTUM)

    def test_hangup_mid_message_waiting(self):
        w, x = self.setup_pair()
        w.send_raw(pack(GET, 5)[:8])
        w.sock.shutdown(socket.SHUT_WR)
        w.expect_closed()
        x.cycle(1 * S)
        x.expect_run(1 * S)

    def test_error_from_runner_hands_turn(self):
        w, x = self.setup_pair()
        w.request(3 * S)
        x.send(42)
        x.expect_closed()
        w.expect_run(3 * S)

    def test_many_errors_daemon_survives(self):
        w, x = self.setup_pair()
        bad = [pack(42, 1, 0), pack(0xffffffff, 1, 0), pack(RUN, 1, 0),
               pack(WAIT, 1, 0)]
        for i, data in enumerate(bad * 5):
            y = self.client('bad%d' % i)
            y.send_raw(data)
            y.expect_closed()
        self.assert_alive()
        x.cycle(1 * S)
        x.expect_run(1 * S)


class FramingTest(TtfsTest):
    def trickle(self, c, data):
        for i in range(len(data)):
            c.send_raw(data[i:i + 1])
            time.sleep(0.0005)

    def test_one_byte_at_a_time(self):
        self.start_daemon()
        a, b = self.client('a'), self.client('b')
        self.trickle(a, pack(START, 500, 11))
        a.expect(ACK, 500, 1)    # its slot
        self.held(b, 12)
        b.expect_nothing(0.05)
        self.trickle(a, pack(REQUEST, 501, 1 * S) + pack(GET, 502))
        a.expect_ack(501)
        a.expect_ack(502)
        self.trickle(a, pack(WAIT, 503))
        a.expect_ack(503)
        b.expect_start_ack()   # it was held while a ran
        b.cycle(2 * S)
        f = a.expect(FREE_UNTIL)
        r = a.expect(RUN, f.seq + 1, 1 * S)
        self.trickle(a, pack(ACK, f.seq) + pack(ACK, r.seq) +
                     pack(REQUEST, 504, 5 * S) + pack(WAIT, 505))
        a.expect_ack(504)
        a.expect_ack(505)
        b.expect_run(2 * S)

    def test_odd_splits(self):
        self.start_daemon()
        a = self.client('a')
        data = (pack(START, 1, 3) + pack(GET, 2) + pack(REQUEST, 3, 9) +
                pack(GET, 4) + pack(WAIT, 5))
        rng = random.Random(7)
        # START alone first: nothing may follow it before its ACK
        a.start_seq = 1
        a.send_raw(data[:5])
        time.sleep(0.01)
        a.send_raw(data[5:16])
        a.expect_start_ack()
        rest = data[16:]
        cuts = sorted(rng.sample(range(1, len(rest)), 9))
        last = 0
        for cut in cuts + [len(rest)]:
            a.send_raw(rest[last:cut])
            last = cut
            time.sleep(0.002)
        a.expect(ACK, 2, 0)
        a.expect(ACK, 3, 0)
        a.expect(ACK, 4, 0)
        a.expect(ACK, 5, 0)
        a.expect_run(9)

    def test_joined_messages(self):
        self.start_daemon()
        a, b = self.client('a'), self.client('b')
        a.started(1)
        self.held(b, 2)
        seqs = a.send_many([(GET, 0), (UPDATE, 4), (GET, 0), (REQUEST, 10),
                            (REQUEST, 20), (WAIT, 0)])
        a.expect(ACK, seqs[0], 0)
        a.expect(ACK, seqs[1], 0)
        a.expect(ACK, seqs[2], 4)
        for s in seqs[3:]:
            a.expect_ack(s)
        b.expect_start_ack()
        # b: joined, and a message split across two of its sends
        seqs = b.send_many([(REQUEST, 15), (GET, 0)])
        one = pack(WAIT, b.next_seq())
        b.send_raw(one[:3])
        b.expect_ack(seqs[0])
        b.expect(ACK, seqs[1], 0)
        b.expect_nothing(0.05)
        b.send_raw(one[3:])
        b.expect_ack(b.seq)
        # b's time 0 is the calendar's 4: its 15 (19) comes before a's 20,
        # and may go up to a's 20 (16 in b's base)
        f = b.expect(FREE_UNTIL)
        r = b.expect(RUN, f.seq + 1, 15)
        self.assertEqual(f.time, 16)
        # ACKs, requests and the WAIT joined in one send
        seqs = b.send_many([('ack', f), ('ack', r), (REQUEST, 100),
                            (GET, 0), (WAIT, 0)])
        b.expect_ack(seqs[0])
        b.expect(ACK, seqs[1], 15)
        b.expect_ack(seqs[2])
        a.expect_run(20, fu=104)   # b's 100 is 104 on the calendar
        # a message and a half, then the rest
        data = pack(REQUEST, 77, 40) + pack(WAIT, 78)
        a.send_raw(data[:24])
        a.expect_ack(77)
        a.send_raw(data[24:])
        a.expect_ack(78)
        a.expect_run(40, fu=104)


class BroadcastTest(TtfsTest):
    def test_broadcast(self):
        self.start_daemon()
        a, b, c = self.client('a'), self.client('b'), self.client('c')
        a.started(1)
        self.held(b, 2)
        self.held(c, 3)
        a.cycle(1 * S)
        b.expect_start_ack()
        b.cycle(2 * S)
        c.expect_start_ack()
        c.cycle(3 * S)
        a.expect_run(1 * S)
        payload = 0x0123456789abcdef
        # from the runner
        a.expect_ack(a.send(BROADCAST, payload))
        mb = b.expect(BROADCAST, time=payload)
        mc = c.expect(BROADCAST, time=payload)
        a.expect_nothing(0.05)   # not back to the sender
        b.ack(mb)
        c.ack(mc)
        # from a waiting client
        b.expect_ack(b.send(BROADCAST, 17))
        a.ack(a.expect(BROADCAST, time=17))
        c.ack(c.expect(BROADCAST, time=17))
        b.expect_nothing(0.05)
        # the ACKs were accepted: everyone goes on (and seqs continue)
        a.cycle(4 * S)
        b.expect_run(2 * S)
        b.cycle(5 * S)
        c.expect_run(3 * S)
        c.expect_ack(c.send(BROADCAST, 2 ** 64 - 1))
        a.ack(a.expect(BROADCAST, time=2 ** 64 - 1))
        b.ack(b.expect(BROADCAST, time=2 ** 64 - 1))
        c.cycle(6 * S)
        a.expect_run(4 * S)
        # an unACKed broadcast followed by an ACK of a later message
        a.expect_ack(a.send(BROADCAST, 9))
        mb = b.expect(BROADCAST, time=9)
        c.ack(c.expect(BROADCAST, time=9))
        b.send_raw(pack(ACK, mb.seq + 1))
        b.expect_closed()
        a.cycle(7 * S)
        c.expect_run(6 * S)

    def test_broadcast_not_to_clients_without_start_ack(self):
        self.start_daemon()
        a, b, n = self.client('a'), self.client('b'), self.client('new')
        a.started(1)
        self.held(b, 2)      # held while a runs
        a.expect_ack(a.send(BROADCAST, 5))
        n.expect_nothing(0.05)
        # b may get it or not (started, not yet ACKed); then its ACK
        a.cycle(1 * S)
        m = b.recv()
        if m.op == BROADCAST:
            b.ack(m)
            m = b.recv()
        self.assertEqual((m.op, m.seq), (ACK, b.start_seq))
        b.cycle(2 * S)
        a.expect_run(1 * S)


class AdvanceTest(TtfsTest):
    def test_advance_without_clients(self):
        self.start_daemon('--paused')
        t0 = time.monotonic()
        self.write('clock', '+5s\n')
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(self.read_int('clock'), 5 * S)
        self.assertEqual(self.read('state'), 'paused\n')
        self.write('clock', '7000000000')
        self.assertEqual(self.read_int('clock'), 7 * S)
        # a client that joins now starts at its time 0
        c = self.client()
        self.held(c, 1)
        c.expect_nothing()
        self.write('state', 'run')
        c.expect_start_ack()
        self.assertEqual(c.get(), 0)
        c.request(1 * S)
        self.assertEqual(self.read_int('clients', '1', 'next_request'),
                         8 * S)

    def test_advance_stops_between_requests(self):
        self.start_daemon('--paused')
        c = self.client()
        self.held(c, 1)
        c.expect_nothing()
        p = self.write_async('clock', '+5s')
        c.expect_start_ack()
        c.cycle(1 * S)
        c.expect_run(1 * S, fu=1 * S + QUANTUM)
        time.sleep(0.05)
        self.assertIsNone(p.poll(), 'the advance returned early')
        c.cycle(7 * S)
        self.finish(p)
        self.assertEqual(self.read_int('clock'), 5 * S)
        self.assertEqual(self.read('state'), 'paused\n')
        self.assertEqual(self.read('clients', '1', 'state'), 'waiting\n')
        self.assertEqual(self.read_int('clients', '1', 'next_request'),
                         7 * S)
        c.expect_nothing()
        self.assertEqual(c.get(), 5 * S)
        # the stop point bounds FREE_UNTIL
        c.request(5999 * MS)
        p = self.write_async('clock', '+1s')
        c.expect_run(5999 * MS, fu=6 * S)
        c.cycle(7 * S)
        self.finish(p)
        self.assertEqual(self.read_int('clock'), 6 * S)
        self.assertEqual(self.read('state'), 'paused\n')
        c.expect_nothing()
        # a request exactly at the stop point does not run before it
        p = self.write_async('clock', '7s')
        self.finish(p)
        self.assertEqual(self.read_int('clock'), 7 * S)
        c.expect_nothing()
        self.write('state', 'run')
        c.expect_run(7 * S, fu=7 * S + QUANTUM)
        self.assertEqual(self.read('state'), 'running\n')
        c.cycle(8 * S)
        c.expect_run(8 * S)

    def test_advance_with_a_late_joiner(self):
        self.start_daemon('--paused')
        self.write('clock', '+2s')
        a = self.client('a')
        self.held(a, 1)
        p = self.write_async('clock', '+1s')
        a.expect_start_ack()
        self.assertEqual(a.get(), 0)
        a.cycle(500 * MS)
        f = a.expect_run(500 * MS)
        self.assertEqual(f, 500 * MS + QUANTUM)
        a.cycle(2 * S)             # calendar 4 s: beyond the stop
        self.finish(p)
        self.assertEqual(self.read_int('clock'), 3 * S)
        self.assertEqual(a.get(), 1 * S)
        self.assertEqual(self.read_int('clients', '1', 'next_request'),
                         4 * S)


class StressTest(TtfsTest):
    N = 20
    CYCLES = 50
    FIRST_WAVE = 12

    def test_twenty_clients(self):
        self.start_daemon()
        rng = random.Random(20240611)
        N, CYCLES = self.N, self.CYCLES
        ids = rng.sample(range(1, 10000), N)
        ids[13] = ids[4]                # a tie by ID: connection order
        ids[17] = ids[2]
        periods = [(1 + i % 5) * MS + (i // 5) * 250 * US for i in range(N)]
        join_at = {self.FIRST_WAVE + k: 30 * (k + 1)
                   for k in range(N - self.FIRST_WAVE)}

        cs = [None] * N
        offset = [None] * N     # calendar clock at START's ACK
        req = [None] * N        # pending request, client based
        last = [0] * N          # last RUN, client based
        runs = [0] * N
        held = set()
        done = set()
        clock = 0               # calendar: the latest RUN (or START's ACK)
        key = None              # (calendar time, id, connection) of last RUN
        total = 0
        fu_checked = 0

        def connect(i):
            c = Client(self.sockpath, 'c%d(id %d)' % (i, ids[i]))
            self.addCleanup(c.close)
            cs[i] = c
            c.start(ids[i])
            held.add(i)

        def others_quiet(i):
            for j in range(N):
                if j != i and cs[j] is not None and cs[j].pending():
                    m = cs[j].queue[0] if cs[j].queue else 'EOF'
                    self.fail('%s got %s while %s runs' % (
                        cs[j].name, fmt(m) if cs[j].queue else m,
                        cs[i].name))

        def run_turn(i, msgs):
            """i runs: ACK what started it, maybe ask the time, request
            its next time and WAIT."""
            c = cs[i]
            out = [('ack', m) for m in msgs]
            if runs[i] < CYCLES:
                req[i] = last[i] + periods[i]
                out.append((REQUEST, req[i]))
            if runs[i] % 7 == 3:
                out.append((GET, 0))
            seqs = c.send_many(out)
            if runs[i] < CYCLES:
                c.expect_ack(seqs[0])
            if runs[i] % 7 == 3:
                self.assertEqual(c.expect(ACK, seqs[-1]).time, last[i],
                                 '%s: GET while running' % c.name)
            # nobody else may hear from the calendar while i runs
            others_quiet(i)
            c.expect_ack(c.send(WAIT))
            if runs[i] >= CYCLES:
                done.add(i)

        for i in range(self.FIRST_WAVE):
            connect(i)
        nxt = self.FIRST_WAVE
        t0 = time.monotonic()
        while len(done) < N:
            while nxt < N and total >= join_at[nxt]:
                connect(nxt)
                nxt += 1
            live = [j for j in range(N) if cs[j] is not None]
            ready = [j for j in live if cs[j].queue or cs[j].eof]
            if not ready:
                r, _, _ = select.select([cs[j] for j in live], [], [],
                                        TIMEOUT)
                if not r:
                    self.fail('stalled after %d runs; pending requests: %s'
                              % (total, req))
                for c in r:
                    c._read(0)
                continue
            i = ready[0]
            c = cs[i]
            m = c.recv()
            if i in held:
                self.assertEqual((m.op, m.seq, m.time >> 16),
                                 (ACK, c.start_seq, 0),
                                 '%s: expected START\'s ACK, got %s'
                                 % (c.name, fmt(m)))
                self.assertEqual(len(m.fds), 2)
                held.discard(i)
                offset[i] = clock
                run_turn(i, [])
                continue
            self.assertEqual(m.op, FREE_UNTIL,
                             '%s: unexpected %s' % (c.name, fmt(m)))
            r = c.expect(RUN, m.seq + 1)
            self.assertNotIn(i, done, '%s ran after its last cycle'
                             % c.name)
            self.assertEqual(r.time, req[i], '%s: RUN is not the request'
                             % c.name)
            cal = offset[i] + r.time
            k = (cal, ids[i], i)
            self.assertTrue(key is None or k >= key,
                            'run %d: %s ran at calendar %d (id %d, conn %d)'
                            ' after (time, id, conn) %s'
                            % (total, c.name, cal, ids[i], i, key))
            key = k
            clock = cal
            if not held:
                pend = [offset[j] + req[j] for j in range(N)
                        if j != i and req[j] is not None]
                want = min(pend + [cal + QUANTUM]) - offset[i]
                self.assertEqual(m.time, want, '%s: FREE_UNTIL' % c.name)
                fu_checked += 1
            req[i] = None
            last[i] = r.time
            runs[i] += 1
            total += 1
            run_turn(i, [m, r])

        for c in cs:
            c.expect_nothing(0.02)
        self.assertEqual(total, N * CYCLES)
        self.assertTrue(all(n == CYCLES for n in runs))
        self.assertGreater(fu_checked, N * CYCLES // 2)
        for i in range(N):
            self.assertEqual(self.read('clients', str(i + 1), 'state'),
                             'waiting\n')
            self.assertEqual(self.read('clients', str(i + 1),
                                       'next_request'), 'none\n')
        sys.stderr.write('[%d runs in %.2fs] ' % (total,
                                                  time.monotonic() - t0))


class DaemonTest(TtfsTest):
    def test_background_mode_and_shutdown(self):
        d = tempfile.mkdtemp(prefix='ttfs-proto-bg-')
        self.addCleanup(shutil.rmtree, d, True)
        mnt, sock = os.path.join(d, 'mnt'), os.path.join(d, 'sock')
        os.mkdir(mnt)
        self.addCleanup(unmount, mnt)
        r = subprocess.run([tt.TTFS, '--socket', sock, mnt],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        # ready on return
        self.assertTrue(os.path.ismount(mnt))
        self.assertTrue(os.path.exists(sock))
        c = Client(sock, 'bg')
        self.addCleanup(c.close)
        cred = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                 struct.calcsize('3i'))
        pid = struct.unpack('3i', cred)[0]
        self.assertGreater(pid, 0)

        def gone():
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            # a zombie is as good as gone
            try:
                with open('/proc/%d/stat' % pid) as f:
                    return f.read().split(') ')[1].startswith('Z')
            except OSError:
                return True

        stopped = []

        def stop():   # unless the test saw it exit: unmount, then kill
            if stopped:
                return
            unmount(mnt)
            if not wait_for(gone, timeout=5):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
                wait_for(gone, timeout=2)
            unmount(mnt)
        self.addCleanup(stop)
        c.started(1)
        c.cycle(1 * S)
        c.expect_run(1 * S)
        with open(os.path.join(mnt, 'clock')) as f:
            self.assertEqual(f.read(), '%d\n' % (1 * S))
        r = subprocess.run(['fusermount3', '-u', mnt], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)

        self.assertTrue(wait_for(gone, timeout=5), 'ttfs did not exit')
        stopped.append(True)
        self.assertFalse(os.path.lexists(sock), 'socket file left behind')
        c.expect_closed()

    def test_foreground_stop_closes_clients(self):
        self.start_daemon()
        a, b = self.client('a'), self.client('b')
        a.started(1)
        self.held(b, 2)
        self.stop_daemon()
        a.expect_closed()
        b.expect_closed()
        self.assertFalse(os.path.lexists(self.sockpath))


def main():
    tt.main('protocol')


if __name__ == '__main__':
    main()
