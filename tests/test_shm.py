#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_shm.py: shared-memory scheduling (Linux >= 6.11 clients), through a
real daemon.

    python3 tests/test_shm.py BUILD_DIR [unittest args]

The fake clients (ttfs_test.ShmClient) map the page from START's ACK and use
it as arch/um/kernel/time.c does: TIME_SHARE in their slot before anything
else, requests into the slot while the slot named by running_id has
TIME_SHARE (else REQUEST messages), WAIT without ACK, RUN alone and not
ACKed, current_time read as the time and written while running.  Their
checks are the kernel's panics and BUGs: a RUN that is not exactly the
request or goes back in time, running_id not naming the runner, a time that
goes backwards.  TTFS_SHM_SEED picks the scribbler's random bytes (default
1234).  Exits 77 (skipped) when /dev/fuse is missing.
"""

import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttfs_test as tt  # noqa: E402
from ttfs_test import (ACK, START, REQUEST, WAIT, RUN, FREE_UNTIL,  # noqa: E402,E501
                       BROADCAST, US, MS, S, QUANTUM, TIMEOUT,
                       SHM_HDR_SIZE, SHM_SLOT_SIZE, TIME_SHARE, REQ_RUN,
                       HDR_CURRENT_TIME, HDR_FREE_UNTIL, HDR_RUNNING_ID,
                       SLOT_FLAGS, SLOT_REQ_TIME, TIME_MAX, ShmClient,
                       TtfsTest, UsfstlClient, map_shm_page,
                       usfstl_take_fds, wait_for)

TRACE_LINE = re.compile(
    r'^(\d+)\.(\d{9}) (\d+) (\d+) (-|\d+) (\S+) (->|<-|=>) ([A-Z_]+) '
    r'seq=(\d+) time=(\d+)$')


class ShmTest(TtfsTest):
    PREFIX = 'ttfs-shm-'

    def shm_client(self, name, share=True):
        return self.client(name, cls=lambda p, n: ShmClient(p, n, share))

    def counters(self, c):
        """clients/N/counters as a dict (mode, slot, shm.request first)."""
        text = self.read('clients', str(c.number), 'counters')
        lines = text.splitlines()
        self.assertEqual([l.split()[0] for l in lines[:3]],
                         ['mode', 'slot', 'shm.request'], text)
        out = {}
        for line in lines:
            k, v = line.split()
            out[k] = v if k == 'mode' else int(v)
        return out

    def stats(self):
        return {k: v for k, v in (l.split() for l in
                                  self.read('stats').splitlines())}

    def next_request(self, c):
        return self.read('clients', str(c.number), 'next_request').strip()

    def state_of(self, c):
        return self.read('clients', str(c.number), 'state').strip()

    def assert_fu_at(self, c, t):
        """c runs and the next request is at t (c's time): free_until is
        t, or t + 1 (so that c may run at t itself; ties have no order)."""
        self.assertIn(c.free_until(), (t, t + 1),
                      '%s: free_until %d, the next request %d'
                      % (c.name, c.free_until(), t))

    def open_trace(self):
        fd = os.open(self.path('trace'), os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, fd)
        return fd

    def read_trace(self, fd):
        """Everything new in the trace, parsed (waits a little for lines
        still on their way)."""
        text, end = '', time.monotonic() + 0.3
        while time.monotonic() < end:
            try:
                chunk = os.read(fd, 1 << 20).decode()
            except BlockingIOError:
                chunk = ''
            text += chunk
            if not chunk:
                time.sleep(0.02)
        out = []
        for line in text.splitlines():
            m = TRACE_LINE.match(line)
            self.assertIsNotNone(m, 'bad trace line %r' % line)
            g = m.groups()
            out.append({'client': int(g[3]), 'dir': g[6], 'op': g[7],
                        'seq': int(g[8]), 'time': int(g[9])})
        return out

    def start_pair(self, *args):
        """Two shm clients (IDs 1 and 2) started together while paused,
        both offset 0, then `run`; a is running, b held."""
        self.start_daemon('--paused', *args)
        a, b = self.shm_client('a'), self.shm_client('b')
        self.held(a, 1)
        self.held(b, 2)
        self.write('state', 'run')
        a.expect_start_ack()
        return a, b


# ---------------------------------------------------------------------------


class PairTest(ShmTest):
    def test_two_alternate(self):
        a, b = self.start_pair()
        self.assertTrue(a.shm, 'a did not take the page')
        self.assertEqual((a.slot, a.offset), (1, 0))
        pa = a.page
        self.assertEqual(pa.running_id, a.slot)
        self.assertEqual(pa.name(a.slot), 1, 'slot name: the START ID')
        # b's held START asks for now: a may not run past 0 unasked
        self.assertEqual(a.free_until(), 0)
        self.assertEqual(a.cycle(1 * MS), 'shm')
        self.assertEqual(pa.flags(a.slot) & REQ_RUN, REQ_RUN)
        self.assertEqual(pa.req_time(a.slot), 1 * MS)
        b.expect_start_ack()
        self.assertTrue(b.shm)
        self.assertEqual((b.slot, b.offset), (2, 0))
        self.assertEqual(pa.running_id, b.slot)
        self.assertEqual(b.free_until(), 1 * MS)  # a's request
        self.assertEqual(b.cycle(2 * MS), 'shm')
        rounds = 12
        for k in range(rounds):
            ta, tb = (2 * k + 1) * MS, (2 * k + 2) * MS
            a.expect_run(ta)      # alone, exact, running_id, current_time
            self.assertFalse(b.pending(), 'b heard %s while a runs'
                             % (b.queue and tt.fmt(b.queue[0])))
            self.assert_fu_at(a, tb)      # b's request
            self.assertEqual(a.get_time(), ta)
            a.set_time(ta + 500 * US)   # runs on, within free_until
            self.assertEqual(a.cycle(ta + 2 * MS), 'shm')
            b.expect_run(tb)
            self.assertFalse(a.pending(), 'a heard %s after its WAIT (no '
                             'ACK to WAIT in shm mode)'
                             % (a.queue and tt.fmt(a.queue[0])))
            self.assert_fu_at(b, ta + 2 * MS)
            self.assertEqual(b.cycle(tb + 2 * MS), 'shm')
        a.expect_run((2 * rounds + 1) * MS)
        b.expect_nothing()
        a.expect_nothing(0.05)
        for c, slot in ((a, 1), (b, 2)):
            n = self.counters(c)
            self.assertEqual((n['mode'], n['slot']), ('shm', slot))
            self.assertEqual(n['shm.request'], rounds + 1)
            self.assertEqual(n['rx.request'], 0)
            self.assertEqual(n['rx.ack'], 0, 'shm clients ACK no RUN')
            self.assertEqual(n['tx.free_until'], 0)
            self.assertEqual(n['tx.ack'], 1, 'only START is ACKed')
            self.assertEqual(n['rx.wait'], rounds + 1)
        self.assertEqual(self.counters(a)['tx.run'], rounds + 1)
        self.assertEqual(self.counters(b)['tx.run'], rounds)
        st = self.stats()
        self.assertEqual(st['clients_shm'], '2')
        self.assertEqual(st['shm.request'], str(2 * rounds + 2))

    def test_broadcast_acks_between_unacked_runs(self):
        """A shm client ACKs BROADCAST but not RUN: ttfs must expect the
        ACK whichever of the two went out first."""
        a, b = self.start_pair()
        a.cycle(1 * MS)
        b.expect_start_ack()
        b.cycle(2 * MS)
        t = 1 * MS
        for k in range(6):
            a.expect_run(t)
            a.expect_ack(a.send(BROADCAST, 100 + k))
            if k % 2:
                # RUN goes out before the BROADCAST's ACK comes in
                a.cycle(t + 2 * MS)
                bc = b.expect(BROADCAST, time=100 + k)
                b.expect_run(t + 1 * MS)
                b.ack(bc)
            else:
                # the ACK is in before RUN goes out
                b.ack(b.expect(BROADCAST, time=100 + k))
                self.assertTrue(wait_for(
                    lambda: self.counters(b)['rx.ack'] == k + 1))
                a.cycle(t + 2 * MS)
                b.expect_run(t + 1 * MS)
            b.cycle(t + 3 * MS)
            t += 2 * MS
        a.expect_run(t)
        self.assertEqual(self.counters(b)['rx.ack'], 6)
        self.assertEqual(self.counters(b)['tx.broadcast'], 6)
        self.assert_alive()


class LateJoinerTest(ShmTest):
    def test_late_joiner(self):
        self.start_daemon()
        fd = self.open_trace()
        a, b = self.shm_client('a'), self.shm_client('b')
        a.started(1)
        self.assertEqual(a.free_until(), QUANTUM)  # alone
        self.assertEqual(a.cycle(3 * MS), 'shm')
        a.expect_run(3 * MS)
        self.held(b, 2)
        # a held START asks for now: the runner's free_until drops to it
        self.assertTrue(wait_for(lambda: a.page.free_until == 3 * MS),
                        'free_until %d after a START was held, not the '
                        'clock (3 ms)' % a.page.free_until)
        self.assertEqual(a.cycle(10 * MS), 'shm')
        m = b.expect_start_ack()
        self.assertTrue(b.shm)
        # its offset: current_time when START's ACK came, i.e. the clock
        self.assertEqual(b.offset, 3 * MS)
        self.assertEqual(self.read_int('clock'), 3 * MS)
        self.assertEqual(b.page.running_id, b.slot)
        self.assertEqual(b.get_time(), 0)
        self.assertEqual(b.cycle(2 * MS), 'shm')
        self.assertEqual(b.page.req_time(b.slot), 5 * MS,
                         'slot req_time is in calendar time')
        b.expect_run(2 * MS)             # own time; current_time 5 ms
        self.assertEqual(b.page.current_time, 5 * MS)
        self.assert_fu_at(b, 7 * MS)      # a's 10 ms
        self.assertEqual(b.get_time(), 2 * MS)
        b.set_time(3 * MS)
        self.assertEqual(self.read_int('clock'), 6 * MS)
        b.cycle(9 * MS)                  # 12 ms on the calendar
        a.expect_run(10 * MS)
        self.assertEqual(self.state_of(a), 'running')
        self.assertEqual(self.state_of(b), 'waiting')
        self.assertEqual(self.next_request(b), str(12 * MS))
        # a newer, earlier request into the slot while a runs: shown at
        # once, and it bounds a's free_until
        self.assertEqual(b.request(8 * MS), 'shm')
        self.assertEqual(b.page.req_time(b.slot), 11 * MS)
        self.assertEqual(self.next_request(b), str(11 * MS))
        self.assertEqual(a.free_until(), 11 * MS)
        a.cycle(20 * MS)
        b.expect_run(8 * MS)
        self.assertEqual(b.page.current_time, 11 * MS)
        a.expect_nothing(0.05)
        # the trace: slot requests as "=>" lines, seq 0, in own time
        recs = self.read_trace(fd)
        slot = [(r['client'], r['time']) for r in recs
                if r['dir'] == '=>']
        self.assertEqual(slot, [(1, 3 * MS), (1, 10 * MS), (2, 2 * MS),
                                (2, 9 * MS), (1, 20 * MS), (2, 8 * MS)])
        for r in recs:
            if r['dir'] == '=>':
                self.assertEqual((r['op'], r['seq']), ('REQUEST', 0))
        runs = [(r['client'], r['time']) for r in recs
                if r['dir'] == '<-' and r['op'] == 'RUN']
        self.assertEqual(runs, [(1, 3 * MS), (2, 2 * MS), (1, 10 * MS),
                                (2, 8 * MS)])
        self.assertFalse([r for r in recs if r['op'] == 'FREE_UNTIL'])
        self.assertFalse([r for r in recs if r['op'] == 'REQUEST' and
                          r['dir'] == '->'])

    def test_time_never_goes_back_for_waiting_clients(self):
        """The runner ran on (current_time) before a START came: the late
        joiner starts there, and the waiting runner, reading
        current_time on an interrupt, never sees it go backwards."""
        self.start_daemon()
        a, b = self.shm_client('a'), self.shm_client('b')
        a.started(1)
        a.cycle(1 * MS)
        a.expect_run(1 * MS)
        self.assertEqual(a.free_until(), 1 * MS + QUANTUM)
        a.set_time(4 * MS)               # within free_until, unasked
        self.held(b, 2)
        a.cycle(20 * MS)
        b.expect_start_ack()
        a.get_time()          # an interrupt while waiting: never backwards
        self.assertGreaterEqual(b.offset, 4 * MS,
                                'the late joiner started at %d, behind the '
                                'runner\'s 4 ms' % b.offset)
        self.assertGreaterEqual(self.read_int('clock'), 4 * MS)
        b.cycle(1 * MS)
        b.expect_run(1 * MS)
        a.get_time()
        b.cycle(50 * MS)
        a.expect_run(20 * MS)


class MixedTest(ShmTest):
    def test_message_and_shm_clients(self):
        self.start_daemon()
        m = self.client('msg')           # a 6.1 kernel: ignores the page
        s = self.shm_client('shm')
        m.started(1)
        self.held(s, 2)
        m.cycle(5 * MS)
        s.expect_start_ack()
        self.assertTrue(s.shm)
        self.assertEqual(s.cycle(20 * MS), 'shm')
        m.expect_run(5 * MS, fu=15 * MS)   # FREE_UNTIL + RUN, ACKed
        page = s.page
        self.assertFalse(page.capa(page.running_id) & TIME_SHARE,
                         'running_id %d names a slot with TIME_SHARE while '
                         'a message client runs' % page.running_id)
        # s, woken while m runs: its request must go as a message, and m
        # hears of it before s's ACK (m may run freely to 15 ms)
        self.assertFalse(s.runner_shares())
        s.request_under(m, 8 * MS)
        m.cycle(12 * MS)
        s.expect_run(8 * MS)             # alone, not ACKed
        self.assert_fu_at(s, 12 * MS)
        m.expect_ack(m.send(REQUEST, 10 * MS))   # m waits, asks earlier
        self.assertTrue(wait_for(lambda: page.free_until in (10 * MS,
                                                        10 * MS + 1)),
                        'a REQUEST message did not lower the page\'s '
                        'free_until (%d) while a shm client runs'
                        % page.free_until)
        s.set_time(9 * MS)
        self.assertEqual(s.cycle(30 * MS), 'shm')
        m.expect_run(10 * MS, fu=20 * MS)
        self.assertEqual(s.request(25 * MS), 'msg')
        m.cycle(40 * MS)
        s.expect_run(25 * MS)
        nm, ns = self.counters(m), self.counters(s)
        self.assertEqual((nm['mode'], nm['slot'], nm['shm.request']),
                         ('messages', 0, 0))
        self.assertEqual((ns['mode'], ns['shm.request'], ns['rx.request']),
                         ('shm', 2, 2))
        self.assertEqual(self.stats()['clients_shm'], '1')

    def test_page_never_shows_a_waiter_past_its_request(self):
        # A message-mode runner that reads its lowered bound too late
        # moves the clock past a waiting shm client's request; the page,
        # which that client reads at every interrupt, must not.
        self.start_daemon()
        m = self.client('msg')
        s = self.shm_client('shm')
        m.started(1)
        self.held(s, 2)
        m.cycle(5 * MS)
        s.expect_start_ack()
        self.assertEqual(s.cycle(20 * MS), 'shm')
        m.expect_run(5 * MS, fu=15 * MS)
        seq = s.send(REQUEST, 8 * MS)        # slot 0 runs: a message
        f = m.expect(FREE_UNTIL, time=8 * MS)
        m.update(11 * MS)
        self.assertEqual(self.read_int('clock'), 11 * MS)
        self.assertEqual(s.page.current_time - s.offset, 8 * MS)
        m.ack(f)
        s.expect_ack(seq)
        self.assertEqual(s.get_time(), 8 * MS)
        m.cycle(30 * MS)
        s.expect_run(8 * MS)

    def test_never_time_share_stays_messages(self):
        self.start_daemon()
        a = self.shm_client('a', share=False)
        a.started(1)
        self.assertGreaterEqual(a.slot, 1, 'a slot is offered')
        self.assertEqual(a.cycle(1 * MS), 'msg')    # WAIT is ACKed
        a.expect_run(1 * MS, fu=1 * MS + QUANTUM)   # FREE_UNTIL + RUN
        n = self.counters(a)
        self.assertEqual((n['mode'], n['slot'], n['shm.request']),
                         ('messages', 0, 0))
        self.assertEqual(n['rx.ack'], 2)
        # TIME_SHARE set only after the first message: too late
        b = self.client('b')
        self.held(b, 2)
        a.cycle(2 * MS)
        m = b.expect_start_ack()
        self.assertGreaterEqual(b.slot, 1)
        self.assertEqual(b.get(), 0)
        page = map_shm_page(m.fds[0])
        self.addCleanup(page.close)
        page.store(page.slot_off(b.slot), 4, TIME_SHARE)
        b.cycle(500 * US)                # WAIT still ACKed
        b.expect_run(500 * US, fu=1 * MS)    # a's 2 ms, b's offset 1 ms
        self.assertEqual(self.counters(b)['mode'], 'messages')
        b.cycle(5 * MS)
        a.expect_run(2 * MS, fu=6 * MS)
        self.assertEqual(self.stats()['clients_shm'], '0')

    def test_no_shm(self):
        self.start_daemon('--paused', '--no-shm')
        a, b = self.shm_client('a'), self.shm_client('b')
        self.held(a, 1)
        self.held(b, 2)
        self.write('state', 'run')
        a.expect_start_ack()
        self.assertEqual(a.slot, 0)
        self.assertFalse(a.shm, 'took a page under --no-shm')
        self.assertEqual(a.cycle(1 * MS), 'msg')
        b.expect_start_ack()
        self.assertEqual((b.slot, b.shm), (0, False))
        self.assertEqual(b.cycle(2 * MS), 'msg')
        for k in range(3):
            a.expect_run((2 * k + 1) * MS, fu=(2 * k + 2) * MS)
            a.cycle((2 * k + 3) * MS)
            b.expect_run((2 * k + 2) * MS, fu=(2 * k + 3) * MS)
            b.cycle((2 * k + 4) * MS)
        for c in (a, b):
            n = self.counters(c)
            self.assertEqual((n['mode'], n['slot'], n['shm.request']),
                             ('messages', 0, 0))
            self.assertEqual(n['tx.free_until'], n['tx.run'])
        st = self.stats()
        self.assertEqual((st['clients_shm'], st['shm.request']), ('0', '0'))


class TreeTest(ShmTest):
    def test_clock_state_counters(self):
        a, b = self.start_pair()
        a.cycle(1 * MS)
        b.expect_start_ack()
        b.cycle(30 * MS)
        a.expect_run(1 * MS)
        self.assertEqual(self.state_of(a), 'running')
        self.assertEqual(self.state_of(b), 'waiting')
        self.assertEqual(self.next_request(b), str(30 * MS))
        self.assertEqual(a.free_until(), 1 * MS + QUANTUM)
        # the clock, live from current_time while a runs
        a.set_time(4 * MS)
        self.assertEqual(self.read_int('clock'), 4 * MS)
        self.assertEqual(self.read('stats').split('\n')[0],
                         'clock %d' % (4 * MS))
        pa = a.page
        pa.store(HDR_CURRENT_TIME, 8, 50 * MS)    # past free_until
        self.assertEqual(self.read_int('clock'), 4 * MS)
        pa.store(HDR_CURRENT_TIME, 8, 2 * MS)     # backwards
        self.assertEqual(self.read_int('clock'), 4 * MS)
        a.set_time(6 * MS)
        self.assertEqual(self.read_int('clock'), 6 * MS)
        a.cycle(20 * MS)
        a.expect_run(20 * MS)
        # b's newer request, from its slot while a runs
        self.assertEqual(b.request(25 * MS), 'shm')
        self.assertEqual(self.next_request(b), str(25 * MS))
        self.assertEqual(self.next_request(a), 'none')
        a.cycle(40 * MS)
        b.expect_run(25 * MS)
        self.assertEqual(self.state_of(a), 'waiting')
        self.assertEqual(self.state_of(b), 'running')
        self.assertEqual(self.next_request(a), str(40 * MS))
        na, nb = self.counters(a), self.counters(b)
        self.assertEqual((na['mode'], na['slot'], na['shm.request']),
                         ('shm', 1, 3))
        self.assertEqual((nb['mode'], nb['slot'], nb['shm.request']),
                         ('shm', 2, 2))
        for n in (na, nb):
            self.assertEqual(n['rx.get'], 0)
            self.assertEqual(n['rx.request'], 0)
            self.assertEqual(n['rx.update'], 0)
        self.assertEqual(na['rx.wait'], 3)
        self.assertEqual(na['tx.run'], 2)
        st = self.stats()
        self.assertEqual((st['clients_shm'], st['shm.request']), ('2', '5'))
        self.assertEqual(st['rx.get'], '0')

    def test_freeze_thaw(self):
        a, b = self.start_pair()
        a.cycle(1 * MS)
        b.expect_start_ack()
        b.cycle(2 * MS)
        a.expect_run(1 * MS)
        a.cycle(20 * MS)
        b.expect_run(2 * MS)
        self.write('clients/1/freeze', '1')
        for t in (10, 30, 40):
            b.cycle(t * MS)
            b.expect_run(t * MS)
        a.expect_nothing(0.05)
        self.assertEqual(self.next_request(a), str(20 * MS))
        self.write('clients/1/freeze', '0')
        b.cycle(50 * MS)
        # its offset came from the page once: it runs at its request
        a.expect_run(20 * MS)
        a.cycle(60 * MS)
        b.expect_run(50 * MS)

    def test_pause(self):
        a, b = self.start_pair()
        a.cycle(1 * MS)
        b.expect_start_ack()
        b.cycle(2 * MS)
        a.expect_run(1 * MS)
        p = self.write_async('state', 'pause')
        self.assertTrue(wait_for(lambda: self.read('state') == 'paused\n'))
        time.sleep(0.1)
        self.assertIsNone(p.poll(), 'pause returned while a shm client '
                          'runs')
        # a confused client claims TIME_SHARE for slot 0 (nobody's)
        pa = a.page
        pa.store(pa.slot_off(0), 4, TIME_SHARE)
        a.cycle(5 * MS)                  # no ACK: the WAIT ends the turn
        self.finish(p)
        self.assertEqual(self.state_of(a), 'waiting')
        self.assertEqual(pa.running_id, 0, 'nobody runs: slot 0')
        self.assertEqual(pa.capa(0), 0, 'slot 0 left with TIME_SHARE')
        b.expect_nothing()
        a.expect_nothing(0.05)
        # b, woken while nobody runs, asks by message
        self.assertEqual(b.request(1500 * US), 'msg')
        self.assertEqual(self.next_request(b), str(1500 * US))
        b.expect_nothing(0.05)
        self.write('state', 'run')
        b.expect_run(1500 * US)
        b.cycle(2 * MS)
        b.expect_run(2 * MS)
        b.cycle(10 * MS)
        a.expect_run(5 * MS)

    def test_advance_and_until(self):
        self.start_daemon('--paused', '--quantum', '1s')
        a, b = self.shm_client('a'), self.shm_client('b')
        self.held(a, 1)
        self.held(b, 2)
        p = self.write_async('clock', '+5s')
        a.expect_start_ack()
        a.cycle(3 * S)
        b.expect_start_ack()
        b.cycle(7 * S)
        a.expect_run(3 * S)
        self.assertEqual(a.free_until(), 4 * S)      # the quantum
        a.set_time(3500 * MS)
        a.cycle(6 * S)
        self.finish(p)
        # the advance stops exactly at its point, with nobody running
        self.assertEqual(self.read_int('clock'), 5 * S)
        self.assertEqual(self.read('state'), 'paused\n')
        self.assertEqual(a.page.current_time, 5 * S)
        self.assertEqual(a.page.running_id, 0)
        self.assertEqual(self.next_request(a), str(6 * S))
        self.assertEqual(self.next_request(b), str(7 * S))
        a.expect_nothing(0.05)
        b.expect_nothing(0.05)
        self.assertEqual(a.get_time(), 5 * S)
        # an advance whose point falls inside a's turn bounds it live
        p = self.write_async('clock', '+1200ms')
        a.expect_run(6 * S)
        self.assertEqual(a.free_until(), 6200 * MS)
        a.cycle(6800 * MS)
        self.finish(p)
        self.assertEqual(self.read_int('clock'), 6200 * MS)
        # until/T read while a runs lowers its free_until at once
        self.write('state', 'run')
        a.expect_run(6800 * MS)
        self.assert_fu_at(a, 7 * S)       # b's request
        r = tt.child(self, 'import sys\nprint(open(sys.argv[1]).read(), '
                     'end="")', self.path('until', '6900ms'))
        self.assertTrue(wait_for(lambda: a.page.free_until == 6900 * MS),
                        'until/6900ms did not lower free_until (%d)'
                        % a.page.free_until)
        self.assertIsNone(r.poll())
        a.cycle(8 * S)
        out, _ = r.communicate(timeout=TIMEOUT)
        self.assertGreaterEqual(int(out), 6900 * MS)
        b.expect_run(7 * S)


class SlotTest(ShmTest):
    def test_slot_reuse_waits_for_a_later_grant(self):
        a, b = self.start_pair()
        a.cycle(1 * S)
        b.expect_start_ack()
        self.assertEqual(b.slot, 2)
        b.slot_request(5 * MS)           # left behind in its slot
        p = self.write_async('state', 'pause')
        self.assertTrue(wait_for(lambda: self.read('state') == 'paused\n'))
        b.close()                        # leaves while it runs
        self.finish(p)
        self.assertTrue(wait_for(
            lambda: not os.path.exists(self.path('clients', '2'))))
        self.assertNotEqual(a.page.running_id, 2,
                            'running_id still names the departed client')
        c = self.shm_client('c', share=False)
        self.held(c, 3)
        self.write('state', 'run')
        c.expect_start_ack()
        self.assertNotIn(c.slot, (0, 1, 2), 'slot %d handed out again with '
                         'no grant since its owner left' % c.slot)
        self.assertTrue(c.setup_shm(c.start_ack.fds[0]))
        c.cycle(2 * MS)
        c.expect_run(2 * MS)             # b's 5 ms request went with it
        d = self.shm_client('d', share=False)
        self.held(d, 4)
        c.cycle(10 * MS)
        d.expect_start_ack()
        self.assertEqual(d.slot, 2, 'the freed slot comes back after a '
                         'later grant')
        page = c.page
        self.assertEqual((page.capa(2), page.flags(2), page.req_time(2),
                          page.name(2)), (0, 0, 0, 4),
                         'a reused slot is reset for its new owner')
        self.assertTrue(d.setup_shm(d.start_ack.fds[0]))
        self.assertEqual(d.offset, 2 * MS)
        d.cycle(3 * MS)
        d.expect_run(3 * MS)
        d.cycle(100 * MS)
        c.expect_run(10 * MS)


    def test_out_of_slots_falls_back_to_messages(self):
        """--max-clients 2: two slots.  A slot freed with no grant since
        cannot be handed out: the newcomer gets slot 0 and messages."""
        self.start_daemon('--max-clients', '2')
        a, b = self.shm_client('a'), self.shm_client('b')
        a.started(1)
        self.assertEqual(a.page.slots(), 3)
        self.held(b, 2)
        a.cycle(1 * S)
        b.expect_start_ack()
        self.assertEqual(b.slot, 2)
        p = self.write_async('state', 'pause')
        self.assertTrue(wait_for(lambda: self.read('state') == 'paused\n'))
        b.close()
        self.finish(p)
        c = self.shm_client('c')
        self.held(c, 3)
        self.write('state', 'run')
        c.expect_start_ack()
        self.assertEqual(c.slot, 0)
        self.assertFalse(c.shm, 'slot 0 came with a usable page')
        self.assertEqual(c.cycle(2 * MS), 'msg')
        c.expect_run(2 * MS, fu=2 * MS + QUANTUM)
        n = self.counters(c)
        self.assertEqual((n['mode'], n['slot']), ('messages', 0))
        c.cycle(2 * S)
        a.expect_run(1 * S)

    def test_slot_request_seen_while_idle(self):
        """A waiting client read running_id just before the runner's WAIT
        and wrote its slot, with no message: ttfs must still see it."""
        a, b = self.start_pair()
        a.cycle(1 * MS)
        b.expect_start_ack()
        b.cycle(2 * MS)
        a.expect_run(1 * MS)
        a.slot_request(TIME_MAX)         # sleeps forever
        a.wait()
        b.expect_run(2 * MS)
        b.slot_request(TIME_MAX)
        b.wait()
        time.sleep(0.2)                  # idle: nobody asks for anything
        self.assertEqual(self.next_request(a), 'none')
        a.slot_request(3 * MS)           # as if running_id still named b
        a.expect_run(3 * MS, timeout=3.0)
        self.assertEqual(self.counters(a)['rx.request'], 0)


class GarbageTest(ShmTest):
    def scribble(self, rng, page, keep, header=True, times=True):
        """Random bytes over the page, slot `keep` (the honest client's)
        excepted.  Without times: current_time and running_id stay."""
        if header:
            saved = page.current_time, page.running_id
            page.write(0, rng.randbytes(SHM_HDR_SIZE))
            if not times:
                page.store(HDR_CURRENT_TIME, 8, saved[0])
                page.store(HDR_RUNNING_ID, 2, saved[1])
        for slot in range(page.slots()):
            if slot != keep:
                page.write(page.slot_off(slot), rng.randbytes(SHM_SLOT_SIZE))

    def plausible(self, rng, g):
        """Values a confused kernel might write: near the clock."""
        page, now = g.page, g.page.current_time
        page.store(page.slot_off(g.slot, SLOT_FLAGS), 4,
                   rng.choice([REQ_RUN, REQ_RUN, 0, 0xffffffff]))
        page.store(page.slot_off(g.slot, SLOT_REQ_TIME), 8,
                   rng.choice([now + rng.randrange(4 * MS),
                               max(now - rng.randrange(4 * MS), 0),
                               2**63 - 1, 2**64 - 1, 0]))
        page.store(HDR_FREE_UNTIL, 8, rng.choice([0, now, 2**64 - 1]))

    def test_scribbler_does_not_hurt_honest(self):
        """A client g writes random bytes over the whole page (header,
        running_id, free_until, current_time, every slot but the honest
        client's), in its turns and while the honest client h runs; h
        sometimes asks for earlier while g runs, as on an interrupt.
        ttfs must live, and h must get RUNs at exactly its newest
        request, never back in time."""
        a, g = self.start_pair('--max-clients', '8')
        h = a
        rng = random.Random(int(os.environ.get('TTFS_SHM_SEED', '1234')))
        h_req = 1 * MS
        self.assertEqual(h.cycle(h_req), 'shm')
        g.expect_start_ack()
        self.assertTrue(g.shm)
        g.expect(ACK, g.send(tt.GET_TOD))   # its mode is decided: shm
        page = g.page
        self.assertGreaterEqual(page.slots(), 3)
        h_runs = g_runs = g_last = 0
        h_late = False  # h's request came during g's turn: the clock
        # may have passed it (g's free_until could not know of it)
        h_clock = 0     # the clock before h's last WAIT
        who = g
        for k in range(300):
            # g's turn: it scribbles everything, then WAITs
            if who is g:
                if h_req - h.now > 1 and rng.random() < 0.3:
                    # h, woken while g runs, asks for earlier (slot or
                    # message, as the kernel decides)
                    h_req = h.now + rng.randrange(h_req - h.now)
                    h.request(h_req)
                    h_late = True
                self.scribble(rng, page, h.slot, times=True)
                if rng.random() < 0.6:
                    self.plausible(rng, g)
                g.send(WAIT, 2**64 - 1)
            who = self.first_to_hear([h, g])
            if who is g:
                m = g.recv()
                self.assertEqual(m.op, RUN, tt.fmt(m))
                # not even the scribbler is sent back in time
                self.assertGreaterEqual(m.time, g_last)
                g_last = m.time
                g_runs += 1
                continue
            h.expect_run(h_req)
            h_runs += 1
            if not h_late:
                # g's turn could not move the clock past h's request
                # (h may itself be behind the clock: see h_late)
                self.assertEqual(self.read_int('clock'),
                                 max(h_req, h_clock))
            h_late = False
            span = h.free_until() - h_req
            if span > 0 and rng.random() < 0.5:   # runs on, unasked
                h.set_time(h_req + rng.randrange(span))
            h_req = h.now + rng.randrange(1, 3 * MS)
            self.assertEqual(h.request(h_req), 'shm')
            # g, waiting, scribbles while h runs (not h's time nor
            # running_id: only the runner's own kernel reads those)
            if rng.random() < 0.5:
                self.scribble(rng, page, h.slot, times=False)
                if rng.random() < 0.7:
                    self.plausible(rng, g)
            if k % 25 == 0:
                self.read('clock')
                self.read('stats')
                for c in (h, g):
                    self.next_request(c)
                    self.counters(c)
            h_clock = self.read_int('clock')
            h.wait()
        self.assert_alive()
        self.assertGreater(h_runs, 50)
        self.assertGreater(g_runs, 5)
        # the scribbler leaves (running or not): h's request comes next
        g.close()
        h.expect_run(h_req)
        self.assertTrue(wait_for(
            lambda: not os.path.exists(self.path('clients', '2'))))
        # a newcomer (it may decline a garbled page: either mode is fine)
        n = self.shm_client('n')
        self.held(n, 3)
        h_req = h.now + 2 * MS
        h.cycle(h_req)
        n.expect_start_ack()
        off = self.read_int('clock')     # its offset, while it runs
        if n.shm:
            self.assertEqual(n.offset, off)
        t_n = 1 * MS
        n.cycle(t_n)
        for _ in range(6):
            if h_req <= t_n + off:      # ties: the lower ID
                h.expect_run(h_req)
                h_req += 2 * MS
                h.cycle(h_req)
            else:
                n.expect_run(t_n)
                t_n += 3 * MS
                n.cycle(t_n)
        self.assert_alive()

    def hidden_request(self, restore):
        """An honest client h, waiting, writes an earlier request into its
        slot while g runs (lowering free_until, as a kernel does).  At
        the end of each of its turns g raises free_until again: to
        garbage, or (restore) back to what ttfs wrote at its grant.  h
        must run at exactly its newest request, before g's later one."""
        self.start_daemon('--paused', '--quantum', '1s')
        h, g = self.shm_client('h'), self.shm_client('g')
        self.held(h, 1)
        self.held(g, 2)
        self.write('state', 'run')
        h.expect_start_ack()
        h.cycle(500 * MS)
        g.expect_start_ack()
        g.expect(ACK, g.send(tt.GET_TOD))
        granted = [g.page.free_until]    # ttfs's, at g's last grant

        def turn(t):
            g.slot_request(t)
            g.page.store(HDR_FREE_UNTIL, 8,
                         granted[0] if restore else 2**64 - 1)
            g.wait()

        t = 2 * MS
        for k in range(3):
            turn(t)
            g.expect_run(t)
            granted[0] = g.page.free_until
            t += 2 * MS
        self.assertIn(granted[0], (500 * MS, 500 * MS + 1))
        # h, woken by an interrupt while g runs, asks for earlier
        self.assertEqual(h.request(t + 5 * MS), 'shm')
        self.assertEqual(h.page.free_until, t + 5 * MS)
        if not restore:
            # a raised free_until gives the scribbler away: ttfs looks
            turn(t + 20 * MS)
            h.expect_run(t + 5 * MS, timeout=2.0)
            h.cycle(1 * S)
            g.expect_run(t + 20 * MS)
            return
        # Put back exactly, it hides h's request from the floor; ttfs
        # still looks at every slot at least every 64 grants, and h's RUN
        # carries exactly its newest request (late, the clock past it).
        for k in range(70):
            turn(t + 20 * MS + k * MS)
            if self.first_to_hear([h, g]) is h:
                break
            g.expect_run(t + 20 * MS + k * MS)
        else:
            self.fail('h never ran')
        h.expect_run(t + 5 * MS)
        self.assertLess(k, 65)

    def test_raised_free_until_hides_no_request(self):
        self.hidden_request(restore=False)

    def test_restored_free_until_hides_no_request(self):
        self.hidden_request(restore=True)

    def test_scribble_full_largest_page(self):
        """--shm-clients 65534: the largest page written over, entirely."""
        a, b = self.start_pair('--shm-clients', '65534')
        a.cycle(1 * MS)
        b.expect_start_ack()
        page = b.page
        self.assertEqual(page.len, SHM_HDR_SIZE + 65535 * SHM_SLOT_SIZE)
        saved = bytes(page.mm[page.slot_off(a.slot):
                              page.slot_off(a.slot + 1)])
        page.write(0, random.Random(7).randbytes(page.len))
        page.write(page.slot_off(a.slot), saved)
        b.send(WAIT, 2**64 - 1)
        self.read('clock')
        while self.first_to_hear([a, b]) is not a:
            self.assertEqual(b.recv().op, RUN)
            b.send(WAIT, 2**64 - 1)
        a.expect_run(1 * MS)
        self.assert_alive()

    def test_scribble_full_default_page(self):
        """The default page (257 slots) written over, once, entirely."""
        a, b = self.start_pair()
        a.cycle(1 * MS)
        b.expect_start_ack()
        rng = random.Random(99)
        page = b.page
        self.assertEqual(page.len, SHM_HDR_SIZE + 257 * SHM_SLOT_SIZE)
        saved = bytes(page.mm[page.slot_off(a.slot):
                              page.slot_off(a.slot + 1)])
        page.write(0, rng.randbytes(page.len))
        page.write(page.slot_off(a.slot), saved)
        b.send(WAIT, 2**64 - 1)
        self.read('clock')
        self.read('stats')
        self.read('clients/2/next_request')
        # whatever b's garbage asks for, a's own request comes exactly
        while True:
            who = self.first_to_hear([a, b])
            if who is a:
                break
            self.assertEqual(b.recv().op, RUN)
            b.send(WAIT, 2**64 - 1)
        a.expect_run(1 * MS)
        self.assert_alive()


class DropTest(ShmTest):
    def test_protocol_error_drops_only_the_culprit(self):
        self.start_daemon('--paused')
        a, b, c, d = (self.shm_client(n) for n in 'abcd')
        for i, x in enumerate((a, b, c, d)):
            self.held(x, i + 1)
        self.write('state', 'run')
        for x, t in ((a, 1), (b, 2), (c, 3), (d, 50)):
            x.expect_start_ack()
            self.assertTrue(x.shm)
            x.cycle(t * MS)
        # a, running, ran on and left a request, then breaks the protocol
        a.expect_run(1 * MS)
        a.set_time(1500 * US)
        a.slot_request(4 * MS)
        a.send_raw(tt.pack(ACK, 12345))  # an ACK for nothing
        a.expect_closed()
        b.expect_run(2 * MS)
        # c, waiting, with a request in its slot, sends an op only a
        # calendar sends: dropped, its request with it
        c.send(RUN, 3 * MS)
        c.expect_closed()
        self.assertTrue(wait_for(
            lambda: sorted(os.listdir(self.path('clients'))) == ['2', '4']))
        b.cycle(5 * MS)
        b.expect_run(5 * MS)
        # b, running, sends a second START
        b.set_time(6 * MS)
        b.send(START, 2)
        b.expect_closed()
        d.expect_run(50 * MS)
        self.assertEqual(d.page.running_id, d.slot)
        d.cycle(60 * MS)
        d.expect_run(60 * MS)
        self.assert_alive()
        st = self.stats()
        self.assertEqual((st['clients_now'], st['clients_shm']), ('1', '1'))


class UsfstlLibraryTest(ShmTest):
    """Clients built on USFSTL's library (src/schedctrl.c) map the page
    they are declined with read-write and assert it worked: every way
    ttfs declines shared memory must survive that (issue 15)."""

    def run_fleet(self, cs):
        """Start cs (IDs 1, 2, ...) on a paused calendar, then three
        rounds of turns: client i at i ms, then 10 ms later each round."""
        for i, c in enumerate(cs):
            self.held(c, i + 1)
        self.write('state', 'run')
        for i, c in enumerate(cs):
            c.expect_start_ack()
            c.cycle((i + 1) * MS)
        for r in range(3):
            for i, c in enumerate(cs):
                t = (i + 1) * MS + r * 10 * MS
                c.expect_run(t)
                c.cycle(t + 10 * MS)
        self.assert_alive()

    def test_declined_by_no_shm(self):
        self.start_daemon('--paused', '--no-shm')
        cs = [self.client('u%d' % i, cls=UsfstlClient) for i in (1, 2, 3)]
        self.run_fleet(cs)
        for c in cs:
            self.assertIsNone(c.page_len)
            self.assertEqual(self.counters(c)['mode'], 'messages')

    def test_declined_past_shm_clients_beside_shm_clients(self):
        self.start_daemon('--paused', '--shm-clients', '2')
        k1, k2 = self.shm_client('k1'), self.shm_client('k2')
        u3 = self.client('u3', cls=UsfstlClient)
        u4 = self.client('u4', cls=UsfstlClient)
        k5 = self.shm_client('k5')          # no slot left: declined too
        self.run_fleet([k1, k2, u3, u4, k5])
        self.assertEqual((k1.shm, k2.shm, k5.shm), (True, True, False))
        self.assertEqual((u3.page_len, u4.page_len), (None, None))
        self.assertEqual(self.stats()['clients_shm'], '2')
        # the page itself is one USFSTL's library can take, too
        self.assertEqual(usfstl_take_fds(k1.start_ack.fds), k1.page.len)


if __name__ == '__main__':
    tt.main('shm')
