#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_watch.py: watching and steering the calendar through the tree.

    python3 tests/test_watch.py BUILD_DIR [unittest args]

until/T, poll(2) on tree files, trace, stats, timeline.json, pace and
clients/N/{freeze,disconnect,name}, through a real daemon.  The harness
(fake UML clients over the socket, a daemon per test on a temporary mount,
unmounted even when a test fails) is ttfs_test.py's, imported from
the same directory.  Reads and writes that block run in child processes
(or, around a poll(2), in a thread of this process), so that a test never
hangs on the mount.  Exits 77 (skipped) when /dev/fuse is missing.
"""

import errno
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttfs_test as tt  # noqa: E402
from ttfs_test import (ACK, REQUEST, WAIT, GET, UPDATE,  # noqa: E402
                       RUN, FREE_UNTIL, GET_TOD, BROADCAST, US, MS, S,
                       QUANTUM, TIMEOUT, QUIET, wait_for)

OPS = ['ack', 'start', 'request', 'wait', 'get', 'update', 'run',
       'free_until', 'get_tod', 'broadcast']

# A child that opens a file (O_NONBLOCK if its options say "nb"), says
# so, and reads it once, then (unless its options say "once") once more to
# see the end; it reports how it went on stdout.  SIGUSR1 interrupts a blocked read: the handler raises,
# so Python does not retry it.
READER = tt.INTERRUPTIBLE + r'''
opts = sys.argv[2].split(",")
flags = os.O_RDONLY | (os.O_NONBLOCK if "nb" in opts else 0)
try:
    fd = os.open(sys.argv[1], flags)
except OSError as e:
    print("open-errno", e.errno, flush=True)
    sys.exit(0)
print("open", flush=True)
try:
    data = os.read(fd, 4096)
    print("ok", data.decode().replace("\n", "|"), flush=True)
    if "once" in opts:
        sys.exit(0)
    rest = os.read(fd, 4096)
    print("eof" if rest == b"" else "more " + rest.decode(), flush=True)
except Interrupted:
    print("interrupted", flush=True)
except OSError as e:
    print("errno", e.errno, flush=True)
'''

TRACE_LINE = re.compile(
    r'^(\d+)\.(\d{9}) (\d+) (\d+) (-|\d+) (\S+) (->|<-) ([A-Z_]+) '
    r'seq=(\d+) time=(\d+)$')


class Reader:
    """A child process reading one file (see READER)."""

    def __init__(self, test, path, nonblock=False, once=False):
        self.once = once
        opts = ','.join(['-'] + (['nb'] if nonblock else []) +
                        (['once'] if once else []))
        self.p = tt.child(test, READER, path, opts)
        self.lines = []
        self.path = path
        first = self.line(TIMEOUT)
        test.assertEqual(first, 'open', '%s: %s' % (path, first))

    def line(self, timeout):
        """The child's next line, or None if none came within timeout."""
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            return None
        s = self.p.stdout.readline()
        return s.rstrip('\n') if s else 'EOF'

    def done(self):
        """Has it printed its answer (without waiting)?"""
        if self.lines:
            return True
        s = self.line(0)
        if s is None:
            return False
        self.lines.append(s)
        return True

    def result(self, timeout=TIMEOUT):
        """Its answer: 'ok VALUE|', 'errno N', 'interrupted'; then it must
        see the end of the file when the answer was data."""
        if not self.lines:
            s = self.line(timeout)
            if s is None:
                raise AssertionError('%s: the read did not return within '
                                     '%gs' % (self.path, timeout))
            self.lines.append(s)
        ans = self.lines[0]
        if ans.startswith('ok ') and not self.once:
            tail = self.line(TIMEOUT)
            if tail != 'eof':
                raise AssertionError('%s: after %r, a second read gave %r, '
                                     'not the end of the file'
                                     % (self.path, ans, tail))
        self.p.wait(timeout=TIMEOUT)
        return ans

    def blocked(self):
        """Wait until the child sleeps (in its read)."""
        def sleeping():
            try:
                with open('/proc/%d/stat' % self.p.pid) as f:
                    return f.read().split(') ')[1][0] in 'SD'
            except OSError:
                return False
        wait_for(sleeping, timeout=2)
        time.sleep(0.1)


class WatchTest(tt.TtfsTest):
    """Helpers on top of ttfs_test's TtfsTest."""

    def cpath(self, c, name):
        return os.path.join('clients', str(c.number), name)

    def cread(self, c, name):
        return self.read('clients', str(c.number), name)

    def cwrite(self, c, name, text):
        return self.write(self.cpath(c, name), text)

    def reader(self, *names, nonblock=False, once=False):
        return Reader(self, self.path(*names), nonblock, once)

    def sh(self, cmd):
        """A shell command in the mount (echo ... > file), must succeed."""
        r = subprocess.run(['sh', '-c', cmd], cwd=self.mnt,
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, '%s: %s' % (cmd, r.stderr))

    def stats(self):
        out = {}
        lines = self.read('stats').splitlines()
        for line in lines:
            k, v = line.split(' ')
            out[k] = v
        self.assertEqual(len(out), len(lines), 'stats: a key twice')
        return out

    def later(self, delay, fn):
        """fn() in a thread after delay seconds (to act while this thread
        blocks in poll); returns the thread to join."""
        th = threading.Timer(delay, fn)
        th.start()
        self.addCleanup(th.join, TIMEOUT)
        return th

    def poll_in(self, fd, timeout):
        """poll(2) fd for POLLIN; (readable, seconds it took)."""
        p = select.poll()
        p.register(fd, select.POLLIN)
        t0 = time.monotonic()
        ev = p.poll(timeout * 1000)
        dt = time.monotonic() - t0
        return bool(ev and ev[0][1] & select.POLLIN), dt


# ---------------------------------------------------------------------------


class UntilTest(WatchTest):
    def test_blocks_until_reached_then_returns_clock(self):
        self.start_daemon()
        r = self.reader('until', '5s')
        r.blocked()
        self.assertFalse(r.done(), 'until/5s returned at clock 0')
        for k in range(1, 5):
            self.sh('echo +1s > clock')
            self.assertEqual(self.read_int('clock'), k * S)
            time.sleep(0.05)
            self.assertFalse(r.done(), 'until/5s returned at clock %ds' % k)
        self.sh('echo +1500ms > clock')
        self.assertEqual(r.result(), 'ok 5500000000|')
        # already reached: at once, the clock of now
        t0 = time.monotonic()
        self.assertEqual(self.reader('until', '2500000').result(1.0),
                         'ok 5500000000|')
        self.assertEqual(self.reader('until', '5s').result(1.0),
                         'ok 5500000000|')
        self.assertEqual(self.reader('until', '0').result(1.0),
                         'ok 5500000000|')
        self.assertLess(time.monotonic() - t0, 3.0)
        self.assert_alive()

    def test_relative_counts_from_open(self):
        self.start_daemon()
        self.write('clock', '2s')
        r = self.reader('until', '+100ms')       # 2.1 s
        r.blocked()
        self.write('clock', '+99ms')
        time.sleep(0.1)
        self.assertFalse(r.done(), 'until/+100ms returned 99ms after open')
        self.write('clock', '+1ms')
        self.assertEqual(r.result(), 'ok 2100000000|')
        # the same name opened later: from that clock on
        r = self.reader('until', '+100ms')       # 2.2 s
        r.blocked()
        self.write('clock', '2150ms')
        time.sleep(0.1)
        self.assertFalse(r.done())
        self.write('clock', '2200ms')
        self.assertEqual(r.result(), 'ok 2200000000|')

    def test_many_readers_released_in_order(self):
        self.start_daemon()
        # name, the step (clock in s) at which it must return
        specs = [('5000000000', 5), ('1s', 1), ('+4s', 4), ('2500ms', 3),
                 ('3s', 3)]
        rs = [(self.reader('until', n), n, step) for n, step in specs]
        for r, _, _ in rs:
            r.blocked()
        for r, n, _ in rs:
            self.assertFalse(r.done(), 'until/%s returned at clock 0' % n)
        for step in range(1, 6):
            self.sh('echo +1s > clock')
            for r, n, when in rs:
                if when == step:
                    self.assertEqual(r.result(), 'ok %d|' % (step * S),
                                     'until/%s at step %d' % (n, step))
            time.sleep(0.1)
            for r, n, when in rs:
                if when > step:
                    self.assertFalse(r.done(), 'until/%s returned at clock '
                                     '%ds (%r)' % (n, step, r.lines))

    def test_interrupted_read(self):
        self.start_daemon()
        r = self.reader('until', '1s')
        r.blocked()
        r.p.send_signal(signal.SIGUSR1)
        self.assertEqual(r.result(), 'interrupted')
        # the daemon goes on: a new reader is answered
        r2 = self.reader('until', '1s')
        r2.blocked()
        self.assertFalse(r2.done())
        self.write('clock', '+1s')
        self.assertEqual(r2.result(), 'ok 1000000000|')
        self.assert_alive()

    def test_bad_names_and_listing(self):
        self.start_daemon()
        for name in ['abc', '-1', '1x', '+', '1s\n', '1.2.3s', ' 1',
                     '1 ', '99999999999999999999999']:
            with self.assertRaises(FileNotFoundError, msg=repr(name)):
                open(self.path('until', name))
            self.assertFalse(os.path.exists(self.path('until', name)), name)
        self.assertEqual(os.listdir(self.path('until')), [])
        out = subprocess.run(['ls', '-a', self.path('until')],
                             capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.split(), ['.', '..'])
        # a looked-up name does not make it listed
        self.assertTrue(os.path.exists(self.path('until', '3s')))
        self.assertEqual(os.listdir(self.path('until')), [])
        st = os.stat(self.path('until'))
        self.assertEqual(st.st_mode, 0o040555)
        self.assertEqual(os.stat(self.path('until', '3s')).st_mode,
                         0o100444)

    def test_nonblocking(self):
        self.start_daemon()
        self.assertEqual(self.reader('until', '1s', nonblock=True).result(),
                         'errno %d' % errno.EAGAIN)
        fd = os.open(self.path('until', '1s'), os.O_RDONLY | os.O_NONBLOCK)
        try:
            self.assert_errno(errno.EAGAIN, os.read, fd, 100)
            self.write('clock', '1s')
            self.assertEqual(os.read(fd, 100), b'1000000000\n')
            self.assertEqual(os.read(fd, 100), b'')
            # the answer is kept: the clock when it was reached
            self.write('clock', '2s')
            self.assertEqual(os.pread(fd, 100, 0), b'1000000000\n')
        finally:
            os.close(fd)
        self.assertEqual(self.reader('until', '1s', nonblock=True).result(),
                         'ok 2000000000|')

    def test_nonblocking_set_after_open(self):
        # O_NONBLOCK is the read's, as fcntl leaves it, not the open's.
        self.start_daemon()
        fd = os.open(self.path('until', '1h'), os.O_RDONLY)
        self.addCleanup(os.close, fd)
        os.set_blocking(fd, False)
        self.assert_errno(errno.EAGAIN, os.read, fd, 100)

    def test_reader_bounds_free_until(self):
        self.start_daemon()
        c = self.client()
        c.started(1)
        r = self.reader('until', '3ms')
        c.cycle(1 * MS)
        c.expect_run(1 * MS, fu=3 * MS)       # not 1ms + quantum
        self.assertFalse(r.done())
        c.cycle(2 * MS)
        c.expect_run(2 * MS, fu=3 * MS)
        self.assertFalse(r.done())
        # the client says it reached 3 ms: the reader hears of it
        c.update(3 * MS)
        self.assertEqual(r.result(), 'ok 3000000|')
        # reached: it bounds nothing any more
        c.cycle(4 * MS)
        c.expect_run(4 * MS, fu=4 * MS + QUANTUM)
        # a reader whose target a RUN jumps over: the clock of then
        r = self.reader('until', '+1ms')      # 5 ms
        c.cycle(20 * MS)
        c.expect_run(20 * MS, fu=20 * MS + QUANTUM)
        self.assertEqual(r.result(), 'ok 20000000|')
        # two readers: the earlier one bounds
        r1 = self.reader('until', '27ms')
        r2 = self.reader('until', '25ms')
        c.cycle(21 * MS)
        c.expect_run(21 * MS, fu=25 * MS)
        r2.p.kill()          # a reader that leaves bounds nothing
        r2.p.wait()
        c.cycle(22 * MS)
        c.expect_run(22 * MS, fu=27 * MS)
        c.cycle(30 * MS)
        c.expect_run(30 * MS, fu=40 * MS)
        self.assertEqual(r1.result(), 'ok 30000000|')

    def test_reader_released_when_runner_is_disconnected(self):
        """Dropping the runner through the tree hands the turn on; the
        grant that follows must wake readers even if no client speaks."""
        self.start_daemon('--paused')
        a, b = self.client('a'), self.client('b')
        self.held(a, 1)
        self.held(b, 2)
        self.write('state', 'run')
        a.expect_start_ack()
        a.cycle(1 * MS)
        b.expect_start_ack()
        b.cycle(5 * MS)
        a.expect_run(1 * MS, fu=5 * MS)
        r = self.reader('until', '5ms')
        r.blocked()
        # the descriptor stays open: no FLUSH or RELEASE follows the
        # write to wake the daemon up by chance
        fd = os.open(self.path(self.cpath(a, 'disconnect')), os.O_WRONLY)
        self.addCleanup(os.close, fd)
        self.assertEqual(os.write(fd, b'1'), 1)
        a.expect_closed()
        f = b.expect(FREE_UNTIL)
        m = b.expect(RUN, f.seq + 1, 5 * MS)
        # b does not answer yet: nothing else happens in the daemon
        try:
            self.assertEqual(r.result(2.0), 'ok 5000000|')
        finally:
            b.ack(f, m)
        self.assertEqual(self.read_int('clock'), 5 * MS)


class PollTest(WatchTest):
    def test_poll_clock(self):
        self.start_daemon()
        fd = os.open(self.path('clock'), os.O_RDONLY)
        self.addCleanup(os.close, fd)
        self.assertEqual(os.read(fd, 100), b'0\n')
        ready, _ = self.poll_in(fd, 0.3)
        self.assertFalse(ready, 'clock readable while unchanged')
        th = self.later(0.3, lambda: self.sh('echo +1s > clock'))
        ready, dt = self.poll_in(fd, 5)
        th.join()
        self.assertTrue(ready, 'clock not readable after a change')
        self.assertGreater(dt, 0.2)
        self.assertLess(dt, 2.0, 'poll woke %.2fs after the change' % dt)
        sys.stderr.write('[woke %.3fs] ' % dt)
        # still readable until read again from the start
        self.assertTrue(self.poll_in(fd, 0.1)[0])
        self.assertEqual(os.pread(fd, 100, 0), b'1000000000\n')
        ready, _ = self.poll_in(fd, 0.3)
        self.assertFalse(ready, 'clock readable after re-reading it')
        # a change before the poll: readable at once
        self.write('clock', '+1s')
        ready, dt = self.poll_in(fd, 2)
        self.assertTrue(ready)
        self.assertLess(dt, 0.5)

    def test_poll_client_state(self):
        self.start_daemon('--paused')
        c = self.client()
        self.held(c, 1)
        fd = os.open(self.path(self.cpath(c, 'state')), os.O_RDONLY)
        self.addCleanup(os.close, fd)
        self.assertEqual(os.read(fd, 100), b'starting\n')
        ready, _ = self.poll_in(fd, 0.3)
        self.assertFalse(ready, 'state readable while unchanged')
        th = self.later(0.3, lambda: self.write('state', 'run'))
        ready, dt = self.poll_in(fd, 5)
        th.join()
        self.assertTrue(ready, 'starting -> running not seen by poll')
        self.assertLess(dt, 2.0)
        c.expect_start_ack()
        self.assertEqual(os.pread(fd, 100, 0), b'running\n')
        self.assertFalse(self.poll_in(fd, 0.2)[0])
        # running -> waiting, caused by a client's message (paused, so
        # that it stays waiting)
        p = self.write_async('state', 'pause')
        self.assertTrue(wait_for(lambda: self.read('state') == 'paused\n'))
        self.later(0.2, lambda: c.send_many([(REQUEST, 5 * S), (WAIT, 0)]))
        ready, dt = self.poll_in(fd, 5)
        self.assertTrue(ready, 'running -> waiting not seen by poll')
        self.assertLess(dt, 2.0)
        c.expect_ack(c.seq - 1)
        c.expect_ack(c.seq)
        self.finish(p)
        self.assertEqual(os.pread(fd, 100, 0), b'waiting\n')
        self.assertFalse(self.poll_in(fd, 0.2)[0])

    def test_poll_long_value_unchanged(self):
        # counters is longer than any short buffer: unchanged, it must
        # not read as changed (a watcher would spin).
        self.start_daemon('--paused')
        c = self.client()
        self.held(c, 1)
        fd = os.open(self.path(self.cpath(c, 'counters')), os.O_RDONLY)
        self.addCleanup(os.close, fd)
        self.assertGreater(len(os.pread(fd, 4096, 0)), 100)
        self.assertFalse(self.poll_in(fd, 0.3)[0],
                         'counters readable while unchanged')
        self.write('state', 'run')  # START's ACK goes out: tx.ack moves
        c.expect_start_ack()
        self.assertTrue(self.poll_in(fd, 5)[0], 'change not seen by poll')

    def test_poll_until(self):
        self.start_daemon()
        fd = os.open(self.path('until', '1s'), os.O_RDONLY)
        self.addCleanup(os.close, fd)
        self.assertFalse(self.poll_in(fd, 0.2)[0])
        self.later(0.2, lambda: self.write('clock', '+1s'))
        ready, dt = self.poll_in(fd, 5)
        self.assertTrue(ready)
        self.assertLess(dt, 2.0)
        self.assertEqual(os.read(fd, 100), b'1000000000\n')


class TraceTest(WatchTest):
    def parse(self, text):
        out = []
        for line in text.splitlines():
            m = TRACE_LINE.match(line)
            self.assertIsNotNone(m, 'bad trace line %r' % line)
            g = m.groups()
            out.append({'wall': int(g[0]) * 10**9 + int(g[1]),
                        'clock': int(g[2]), 'client': int(g[3]),
                        'id': g[4], 'name': g[5], 'dir': g[6], 'op': g[7],
                        'seq': int(g[8]), 'time': int(g[9])})
        return out

    def short(self, recs):
        return [(r['client'], r['dir'], r['op'], r['seq'], r['time'])
                for r in recs]

    def read_all(self, fd, want_lines, timeout=TIMEOUT):
        """Non-blocking reads of an O_NONBLOCK trace until want_lines
        lines came."""
        text = ''
        end = time.monotonic() + timeout
        while text.count('\n') < want_lines:
            try:
                text += os.read(fd, 65536).decode()
            except BlockingIOError:
                if time.monotonic() > end:
                    break
                time.sleep(0.01)
        return text

    def pipe_lines(self, p, n, timeout=TIMEOUT):
        """n lines from p's stdout (raw reads: select sees no buffer)."""
        text = b''
        end = time.monotonic() + timeout
        while text.count(b'\n') < n:
            left = end - time.monotonic()
            rd, _, _ = select.select([p.stdout], [], [], max(left, 0))
            if not rd:
                break
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            text += chunk
        return text.decode()

    def test_cat_trace(self):
        self.start_daemon()
        a = self.client('a')
        a.started(1)            # before cat: not in its trace
        cat = tt.spawn(self, ['cat', self.path('trace')],
                       stdout=subprocess.PIPE)
        time.sleep(0.3)        # cat has opened it
        t0 = time.time_ns()
        a.request(2 * MS)
        rq = a.seq
        a.wait()
        wt = a.seq
        f = a.expect(FREE_UNTIL)
        r = a.expect(RUN, f.seq + 1, 2 * MS)
        a.ack(f, r)
        g = a.send(GET)
        a.expect(ACK, g, 2 * MS)
        b = self.client('b')    # a second client: its START while a runs
        b.start(9)
        want = [(1, '->', 'REQUEST', rq, 2 * MS),
                (1, '<-', 'ACK', rq, 0),
                (1, '->', 'WAIT', wt, 0),
                (1, '<-', 'ACK', wt, 0),
                (1, '<-', 'FREE_UNTIL', f.seq, 2 * MS + QUANTUM),
                (1, '<-', 'RUN', r.seq, 2 * MS),
                (1, '->', 'ACK', f.seq, 0),
                (1, '->', 'ACK', r.seq, 0),
                (1, '->', 'GET', g, 0),
                (1, '<-', 'ACK', g, 2 * MS),
                (2, '->', 'START', b.start_seq, 9)]
        text = self.pipe_lines(cat, len(want))
        t1 = time.time_ns()
        recs = self.parse(text)
        self.assertEqual(self.short(recs), want)
        for rec in recs:
            self.assertGreaterEqual(rec['wall'], t0 - 10**9)
            self.assertLessEqual(rec['wall'], t1 + 10**9)
        self.assertEqual([x['clock'] for x in recs],
                         [0, 0, 0, 0, 2 * MS, 2 * MS, 2 * MS, 2 * MS,
                          2 * MS, 2 * MS, 2 * MS])
        self.assertEqual({(x['client'], x['id'], x['name'])
                          for x in recs},
                         {(1, '1', 'id-1'), (2, '-', 'client-2')})
        # nothing more
        rd, _, _ = select.select([cat.stdout], [], [], QUIET)
        self.assertFalse(rd, 'unexpected trace line %r'
                         % (os.read(cat.stdout.fileno(), 4096) if rd
                            else ''))
        # a reader opened now sees only what comes from now on
        fd = os.open(self.path('trace'), os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, fd)
        self.assert_errno(errno.EAGAIN, os.read, fd, 65536)
        a.cycle(3 * MS)
        b.expect_start_ack()   # held START (due now) before a's 3 ms
        recs2 = self.parse(self.read_all(fd, 5))
        self.assertEqual([(x['client'], x['dir'], x['op']) for x in recs2],
                         [(1, '->', 'REQUEST'), (1, '<-', 'ACK'),
                          (1, '->', 'WAIT'), (1, '<-', 'ACK'),
                          (2, '<-', 'ACK')])
        self.assertEqual((recs2[-1]['id'], recs2[-1]['name'],
                          recs2[-1]['seq']), ('9', 'id-9', b.start_seq))
        self.assert_errno(errno.EAGAIN, os.read, fd, 65536)
        # cat saw the same lines
        self.assertEqual(self.short(self.parse(self.pipe_lines(cat, 5))),
                         self.short(recs2))

    def test_slow_reader_loses_records(self):
        self.start_daemon('--trace-records', '16')
        c = self.client()
        c.started(1)
        fd = os.open(self.path('trace'), os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, fd)
        st0 = self.stats()
        cycles = 15
        for k in range(1, cycles + 1):     # 8 messages a cycle
            c.cycle(k * MS)
            c.expect_run(k * MS)
        st1 = self.stats()
        total = sum(int(st1[d + '.' + op]) - int(st0[d + '.' + op])
                    for d in ('rx', 'tx') for op in OPS)
        self.assertEqual(total, 8 * cycles)
        text = os.read(fd, 65536).decode()
        lines = text.splitlines()
        self.assertEqual(lines[0], '# lost %d' % (8 * cycles - 16), text)
        recs = self.parse('\n'.join(lines[1:]))
        self.assertEqual(len(recs), 16, text)
        ops = [(x['dir'], x['op']) for x in recs]
        cyc = [('->', 'REQUEST'), ('<-', 'ACK'), ('->', 'WAIT'),
               ('<-', 'ACK'), ('<-', 'FREE_UNTIL'), ('<-', 'RUN'),
               ('->', 'ACK'), ('->', 'ACK')]
        self.assertEqual(ops, cyc + cyc)
        self.assertEqual([x['time'] for x in recs if x['op'] == 'RUN'],
                         [(cycles - 1) * MS, cycles * MS])
        self.assert_errno(errno.EAGAIN, os.read, fd, 65536)
        # caught up: no loss any more
        c.cycle(100 * MS)
        c.expect_run(100 * MS)
        recs = self.parse(self.read_all(fd, 8))
        self.assertEqual([(x['dir'], x['op']) for x in recs], cyc)

    def test_small_reads_lose_nothing(self):
        """Reads shorter than a line (dd bs=20) get every byte, or fail
        loudly; never a line cut short with the rest dropped."""
        self.start_daemon()
        c = self.client()
        c.started(1)
        fd = os.open(self.path('trace'), os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, fd)
        c.get()
        c.get()
        time.sleep(0.05)
        out = b''
        try:
            while True:
                out += os.read(fd, 20)
        except BlockingIOError:
            pass
        except OSError as e:
            self.assertEqual(e.errno, errno.EINVAL, e)
            return
        recs = self.parse(out.decode())
        self.assertEqual([(x['dir'], x['op']) for x in recs],
                         [('->', 'GET'), ('<-', 'ACK')] * 2, out)

    def test_poll_trace(self):
        self.start_daemon()
        c = self.client()
        c.started(1)
        fd = os.open(self.path('trace'), os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, fd)
        self.assertFalse(self.poll_in(fd, 0.3)[0],
                         'trace readable with nothing new')
        self.later(0.3, lambda: c.send(GET))
        ready, dt = self.poll_in(fd, 5)
        self.assertTrue(ready, 'trace not readable after a message')
        self.assertLess(dt, 2.0)
        c.expect(ACK, c.seq, 0)
        recs = self.parse(self.read_all(fd, 2))
        self.assertEqual(self.short(recs), [(1, '->', 'GET', c.seq, 0),
                                            (1, '<-', 'ACK', c.seq, 0)])
        self.assertFalse(self.poll_in(fd, 0.2)[0])

    def test_blocking_read_waits_for_a_message(self):
        self.start_daemon()
        c = self.client()
        c.started(1)
        r = self.reader('trace', once=True)
        r.blocked()
        self.assertFalse(r.done())
        c.expect_ack(c.send(UPDATE, 7))
        ans = r.result().split(' ', 1)
        self.assertEqual(ans[0], 'ok')
        recs = self.parse(ans[1].replace('|', '\n'))
        self.assertEqual(self.short(recs)[0], (1, '->', 'UPDATE', c.seq, 7))


class StatsTest(WatchTest):
    def test_stats(self):
        self.start_daemon('--paused')
        st = self.stats()
        keys = ['clock', 'grants', 'clients_now', 'clients_ever',
                'clients_shm', 'shm.request', 'fs.requests',
                'ratio_total', 'ratio_last_second']
        keys += ['rx.' + op for op in OPS] + ['tx.' + op for op in OPS]
        self.assertEqual(list(st), keys)
        self.assertEqual(self.read('stats').count('\n'), len(keys))
        for k in keys:
            if k.startswith('ratio'):
                self.assertEqual(float(st[k]), 0.0, k)
            elif k == 'fs.requests':   # reading stats is one
                self.assertGreater(int(st[k]), 0, k)
            else:
                self.assertEqual(st[k], '0', k)
        a, b = self.client('a'), self.client('b')
        self.held(a, 1)
        self.held(b, 2)
        st = self.stats()
        self.assertEqual((st['clients_now'], st['clients_ever'],
                          st['grants'], st['rx.start']), ('2', '2', '0', '2'))
        self.write('state', 'run')
        a.expect_start_ack()
        a.cycle(1 * MS)
        b.expect_start_ack()
        b.cycle(2 * MS)
        a.expect_run(1 * MS)
        a.get()
        a.cycle(3 * MS)
        b.expect_run(2 * MS)
        b.expect(ACK, b.send(GET_TOD))
        b.expect_ack(b.send(BROADCAST, 5))
        a.ack(a.expect(BROADCAST, time=5))
        b.update(2500 * US)
        time.sleep(0.05)   # a's last ACK is in
        st = self.stats()
        want = {
            'clock': 2500 * US, 'grants': 4,   # 2 START ACKs, 2 RUNs
            'clients_now': 2, 'clients_ever': 2,
            'rx.ack': 5, 'rx.start': 2, 'rx.request': 3, 'rx.wait': 3,
            'rx.get': 1, 'rx.update': 1, 'rx.run': 0, 'rx.free_until': 0,
            'rx.get_tod': 1, 'rx.broadcast': 1,
            # START ACKs 2, REQUEST 3, WAIT 3, GET, GET_TOD,
            # BROADCAST, UPDATE
            'tx.ack': 2 + 3 + 3 + 4, 'tx.start': 0,
            'tx.request': 0, 'tx.wait': 0, 'tx.get': 0, 'tx.update': 0,
            'tx.run': 2, 'tx.free_until': 2, 'tx.get_tod': 0,
            'tx.broadcast': 1,
        }
        self.assertEqual({k: int(st[k]) for k in want}, want)
        # the sum of the clients' counters
        for c in (a, b):
            self.assertIn('rx.start 1', self.cread(c, 'counters'))
        self.assertGreater(float(st['ratio_total']), 0)
        self.assertGreaterEqual(float(st['ratio_last_second']), 0)
        # a jump: simulated time far ahead of the wall
        b.cycle(2000 * S)
        a.expect_run(3 * MS)
        a.cycle(1000 * S)
        a.expect_run(1000 * S)
        st = self.stats()
        self.assertEqual(int(st['grants']), 6)
        self.assertEqual(int(st['clock']), 1000 * S)
        self.assertGreater(float(st['ratio_total']), 10)
        # a client that leaves: now, not ever
        b.close()
        self.assertTrue(wait_for(lambda: self.stats()['clients_now']
                                 == '1'))
        self.assertEqual(self.stats()['clients_ever'], '2')
        c = self.client('c')
        c.start(3)
        self.assertTrue(wait_for(lambda: self.stats()['clients_ever']
                                 == '3'))

    def ctxt_switches(self):
        n = 0
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith(('voluntary_ctxt_switches',
                                    'nonvoluntary_ctxt_switches')):
                    n += int(line.split()[1])
        return n

    def test_idle_daemon_sleeps(self):
        # No client, nothing waiting: no tick (it was 10 wake-ups a
        # second); a client brings it back.
        self.start_daemon()
        time.sleep(0.3)
        n0 = self.ctxt_switches()
        time.sleep(1.0)
        idle = self.ctxt_switches() - n0
        self.assertLessEqual(idle, 2, '%d wake-ups in 1 s, idle' % idle)
        c = self.client()
        c.started(1)
        time.sleep(0.2)
        n0 = self.ctxt_switches()
        time.sleep(1.0)
        busy = self.ctxt_switches() - n0
        self.assertGreaterEqual(busy, 5, '%d wake-ups in 1 s with a '
                                'client: no tick' % busy)
        c.close()
        # ...and the last second's ratio after an idle jump: 100 s of
        # clock in the last second, then none
        self.assertTrue(wait_for(lambda: self.stats()['clients_now']
                                 == '0'))
        time.sleep(1.5)
        self.write('clock', '+100s')
        r = float(self.stats()['ratio_last_second'])
        self.assertGreater(r, 80, r)
        self.assertLess(r, 101, r)
        time.sleep(1.3)
        self.assertEqual(float(self.stats()['ratio_last_second']), 0)

    def test_ratio_last_second(self):
        self.start_daemon()
        time.sleep(1.2)
        self.write('clock', '+100s')
        time.sleep(0.15)
        self.read('clock')    # a loop turn, for a sample
        # the clock went 100 s in the last ~1.2 s of wall time
        st = self.stats()
        self.assertGreater(float(st['ratio_last_second']), 30, st)
        self.assertLess(float(st['ratio_last_second']), 1000, st)
        self.assertGreater(float(st['ratio_total']), 30, st)


class TimelineTest(WatchTest):
    def load(self):
        with open(self.path('timeline.json')) as f:
            doc = json.load(f)
        self.assertIsInstance(doc['traceEvents'], list)
        return doc['traceEvents']

    @staticmethod
    def ns(us):
        return int(round(us * 1000))

    def alternate(self):
        a, b = self.runner_and_waiter(MS)
        a.cycle(3 * MS)
        b.expect_run(2 * MS)
        b.cycle(4 * MS)
        a.expect_run(3 * MS)
        a.cycle(5 * MS)
        b.expect_run(4 * MS)      # b runs from 4 ms on
        return a, b

    def test_two_clients(self):
        self.start_daemon()
        ev = self.load()
        self.assertEqual([e for e in ev if e['ph'] != 'M'], [])
        a, b = self.alternate()
        ev = self.load()
        names = {e['tid']: e['args']['name'] for e in ev
                 if e['ph'] == 'M' and e['name'] == 'thread_name'}
        self.assertEqual(names, {1: 'id-1', 2: 'id-2'})
        for e in ev:
            self.assertEqual(e.get('pid'), 1, e)
        done = [(e['tid'], self.ns(e['ts']), self.ns(e['dur']))
                for e in ev if e['ph'] == 'X' and
                not e.get('args', {}).get('open')]
        self.assertTrue(all(e['name'] == 'run' for e in ev
                            if e['ph'] == 'X'))
        # a slice: from a grant to the next grant, simulated time
        self.assertEqual(done, [(1, 0, 0), (2, 0, 1 * MS),
                                (1, 1 * MS, 1 * MS), (2, 2 * MS, 1 * MS),
                                (1, 3 * MS, 1 * MS)])
        opened = [(e['tid'], self.ns(e['ts']), self.ns(e['dur']))
                  for e in ev if e['ph'] == 'X' and
                  e.get('args', {}).get('open')]
        self.assertEqual(opened, [(2, 4 * MS, 0)])
        reqs = [(e['tid'], self.ns(e['ts']), e['args']['at_ns'])
                for e in ev if e['ph'] == 'i']
        self.assertTrue(all(e['name'] == 'request' for e in ev
                            if e['ph'] == 'i'))
        self.assertEqual(reqs, [(1, 0, 1 * MS), (2, 0, 2 * MS),
                                (1, 1 * MS, 3 * MS), (2, 2 * MS, 4 * MS),
                                (1, 3 * MS, 5 * MS)])
        # the open slice reaches the latest time seen
        b.update(4500 * US)
        b.request(4600 * US)    # an event at 4.5 ms
        ev = self.load()
        opened = [(e['tid'], self.ns(e['ts']), self.ns(e['dur']))
                  for e in ev if e.get('args', {}).get('open')]
        self.assertEqual(opened, [(2, 4 * MS, 500 * US)])
        # a late joiner's request shows on the calendar's clock
        c = self.client('c')
        self.held(c, 3)
        b.cycle(10 * MS)
        c.expect_start_ack()       # held START: at once, offset 4.5 ms
        c.request(1 * MS)
        ev = self.load()
        reqs = [(e['tid'], self.ns(e['ts']), e['args']['at_ns'])
                for e in ev if e['ph'] == 'i']
        self.assertEqual(reqs[-1], (3, 4500 * US, 5500 * US))
        names = {e['tid']: e['args']['name'] for e in ev
                 if e['ph'] == 'M' and e['name'] == 'thread_name'}
        self.assertEqual(names, {1: 'id-1', 2: 'id-2', 3: 'id-3'})
        c.wait()
        a.expect_run(5 * MS)

    def test_timeline_events_bound(self):
        self.start_daemon('--timeline-events', '5')
        a = self.client('a')
        a.started(1)
        for k in range(1, 21):
            a.cycle(k * MS)
            a.expect_run(k * MS)
        ev = [e for e in self.load() if e['ph'] != 'M']
        kept = [e for e in ev if not e.get('args', {}).get('open')]
        self.assertEqual(len(kept), 5, kept)
        # the latest five: requests and slices of the last cycles
        got = [(e['ph'], self.ns(e['ts'])) for e in kept]
        self.assertEqual(got, [('X', 17 * MS), ('i', 18 * MS),
                               ('X', 18 * MS), ('i', 19 * MS),
                               ('X', 19 * MS)])
        opened = [e for e in ev if e.get('args', {}).get('open')]
        self.assertEqual(len(opened), 1)
        self.assertEqual(self.ns(opened[0]['ts']), 20 * MS)

    def test_one_snapshot_per_open(self):
        self.start_daemon()
        a = self.client('a')
        a.started(1)
        with open(self.path('timeline.json'), 'rb') as f:
            head = f.read(10)
            a.cycle(1 * MS)
            a.expect_run(1 * MS)
            rest = f.read()
        doc = json.loads(head + rest)
        self.assertEqual([e for e in doc['traceEvents'] if e['ph'] == 'i'],
                         [])
        self.assertEqual(len([e for e in self.load() if e['ph'] == 'i']), 1)


class PaceTest(WatchTest):
    def timed_run(self, c, t, fu=None):
        """WAIT; seconds until RUN(t)."""
        c.wait()
        t0 = time.monotonic()
        c.expect_run(t, fu=fu, timeout=TIMEOUT + t / S)
        return time.monotonic() - t0

    def test_pace_file(self):
        self.start_daemon()
        self.assertEqual(self.read('pace'), '0\n')
        self.assertEqual(os.stat(self.path('pace')).st_mode, 0o100644)
        c = self.client()
        c.started(1)
        c.request(10 * S)
        self.assertLess(self.timed_run(c, 10 * S), 1.0)
        # real time: 300 ms of simulated time take about 300 ms
        t0 = time.monotonic()
        self.assertEqual(self.write('pace', '1\n'), 2)
        self.assertEqual(self.read('pace'), '1\n')
        c.request(10300 * MS)
        self.timed_run(c, 10300 * MS)
        dt = time.monotonic() - t0
        sys.stderr.write('[300ms at pace 1: %.3fs] ' % dt)
        self.assertGreaterEqual(dt, 0.25)
        self.assertLess(dt, 5.0)
        # 0 again: a far request is granted at once
        c.request(3600 * S)
        c.wait()
        c.expect_nothing(0.3)
        t0 = time.monotonic()
        self.write('pace', '0')
        c.expect_run(3600 * S)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(self.read('pace'), '0\n')
        # other ratios
        for text, shown in [('0.5', '0.5'), ('10\n', '10'), ('.25', '0.25'),
                            ('2.', '2'), ('0', '0')]:
            self.write('pace', text)
            self.assertEqual(self.read('pace'), shown + '\n', text)

    def test_pace_bad_values(self):
        self.start_daemon()
        self.write('pace', '0.5')
        for text in ['-1', 'abc', '1e3', '\n', '1.2.3', '.', ' 1', '1 ',
                     '+1', 'inf', 'nan', '1\n\n', '0x10', '1,5']:
            self.assert_errno(errno.EINVAL, self.write, 'pace', text)
            self.assertEqual(self.read('pace'), '0.5\n', repr(text))
        self.assert_alive()

    def test_pace_option(self):
        t_spawn = time.monotonic()
        self.start_daemon('--pace', '1')
        self.assertEqual(self.read('pace'), '1\n')
        c = self.client()
        c.started(1)
        c.request(300 * MS)
        c.wait()
        c.expect_run(300 * MS, timeout=TIMEOUT)
        t1 = time.monotonic()
        self.assertGreaterEqual(t1 - t_spawn, 0.25)
        c.request(1300 * MS)
        c.wait()
        c.expect_run(1300 * MS, timeout=TIMEOUT)
        dt = time.monotonic() - t1
        sys.stderr.write('[1s at --pace 1: %.3fs] ' % dt)
        self.assertGreaterEqual(dt, 0.5)
        self.assertLess(dt, 5.0)
        # 0: at once
        c.request(100 * S)
        c.wait()
        c.expect_nothing(0.2)
        self.write('pace', '0')
        c.expect_run(100 * S, timeout=1.0)

    def test_bad_pace_option(self):
        for arg in ['-1', 'abc', 'nan']:
            d = self.tmpdir()
            r = subprocess.run([tt.TTFS, '--socket', os.path.join(d, 's'),
                                '-f', '--pace', arg, os.path.join(d, 'm')],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, arg)
            self.assertIn('--pace', r.stderr)

    def tmpdir(self):
        import tempfile
        import shutil
        d = tempfile.mkdtemp(prefix='ttfs-watch-')
        self.addCleanup(shutil.rmtree, d, True)
        os.mkdir(os.path.join(d, 'm'))
        return d

    # epoll_wait and epoll_pwait, by machine: how ttfs sleeps.
    EPOLL_NRS = {'x86_64': (232, 281), 'aarch64': (22,)}

    def sleep_timeout(self):
        """The timeout (ms, -1 for none) of ttfs's next sleep seen in
        /proc/PID/syscall, or None if it was not seen asleep."""
        nrs = self.EPOLL_NRS[os.uname().machine]
        for _ in range(100):
            with open('/proc/%d/syscall' % self.proc.pid) as f:
                words = f.read().split()
            if words and words[0].isdigit() and int(words[0]) in nrs:
                t = int(words[4], 16) & 0xffffffff
                return t - (1 << 32) if t >= 1 << 31 else t
            time.sleep(0.01)
        return None

    def test_sleeps_without_a_timeout_unless_a_timer_is_due(self):
        # fs/evsleep.c: with no timer of ttfs's due, libev's cap becomes
        # no timeout at all; while a paced turn is due (a timer 100 s
        # away, past the cap), the sleep must keep a timeout.
        if os.uname().machine not in self.EPOLL_NRS:
            self.skipTest('syscall numbers unknown on this machine')
        self.start_daemon()
        self.assertTrue(wait_for(lambda: self.sleep_timeout() == -1),
                        self.sleep_timeout())
        self.write('pace', '1')
        c = self.client()
        c.started(1)
        c.request(100 * S)
        c.wait()
        c.expect_nothing(0.2)
        seen = [self.sleep_timeout() for _ in range(5)]
        self.assertTrue(all(t is not None and t > 0 for t in seen), seen)
        self.write('pace', '0')
        c.expect_run(100 * S, timeout=1.0)
        self.assertTrue(wait_for(lambda: self.sleep_timeout() == -1),
                        self.sleep_timeout())


class FreezeTest(WatchTest):
    def test_freeze_and_thaw(self):
        self.start_daemon('--paused')
        a, b = self.client('a'), self.client('b')
        self.held(a, 1)
        self.held(b, 2)
        self.assertEqual(self.cread(a, 'freeze'), '0\n')
        self.assertEqual(os.stat(self.path(self.cpath(a, 'freeze')))
                         .st_mode, 0o100644)
        self.write('state', 'run')
        a.expect_start_ack()
        a.cycle(1 * MS)
        b.expect_start_ack()
        b.request(5 * MS)
        self.assertEqual(self.cwrite(a, 'freeze', '1\n'), 2)
        self.assertEqual(self.cread(a, 'freeze'), '1\n')
        b.wait()
        # a (1 ms) is skipped, and does not bound b's FREE_UNTIL
        b.expect_run(5 * MS, fu=5 * MS + QUANTUM)
        a.expect_nothing()
        self.assertEqual(self.cread(a, 'next_request'), '%d\n' % (1 * MS))
        self.assertEqual(self.cread(a, 'state'), 'waiting\n')
        # its time stands while frozen (unfrozen, GET would say 5 ms)
        self.assertEqual(a.get(), 0)
        b.cycle(20 * MS)
        b.expect_run(20 * MS, fu=20 * MS + QUANTUM)
        self.assertEqual(a.get(), 0)
        b.request(30 * MS)
        # thawed at 20 ms: it lost 20 ms, its request moves with it
        self.cwrite(a, 'freeze', '0')
        self.assertEqual(self.cread(a, 'freeze'), '0\n')
        self.assertEqual(self.cread(a, 'next_request'), '%d\n' % (21 * MS))
        a.expect_nothing(0.1)    # b still runs
        b.wait()
        # RUN in its own time: exactly what it asked; FREE_UNTIL up to
        # b's 30 ms, i.e. 10 ms on its base
        a.expect_run(1 * MS, fu=10 * MS)
        self.assertEqual(self.read_int('clock'), 21 * MS)
        self.assertEqual(a.get(), 1 * MS)
        a.cycle(2 * MS)                       # 22 ms
        a.expect_run(2 * MS, fu=10 * MS)
        a.cycle(15 * MS)                      # 35 ms
        b.expect_run(30 * MS, fu=35 * MS)
        self.assertEqual(self.cread(a, 'next_request'), '%d\n' % (35 * MS))

    def test_frozen_client_skipped_while_others_run(self):
        self.start_daemon()
        a, b = self.client('a'), self.client('b')
        a.started(1)
        self.held(b, 2)
        a.cycle(1 * S)
        b.expect_start_ack()
        self.cwrite(a, 'freeze', '1')
        for k in range(1, 6):
            b.cycle(k * S)
            b.expect_run(k * S, fu=k * S + QUANTUM)
        a.expect_nothing(0.05)
        # frozen twice is still frozen; thawed twice is one thaw
        self.cwrite(a, 'freeze', '1')
        self.cwrite(a, 'freeze', '0')
        self.cwrite(a, 'freeze', '0')
        self.assertEqual(self.cread(a, 'next_request'), '%d\n' % (6 * S))
        b.cycle(10 * S)
        a.expect_run(1 * S, fu=QUANTUM + 1 * S)
        self.assertEqual(self.read_int('clock'), 6 * S)

    def test_freeze_held_start(self):
        self.start_daemon('--paused')
        a, b = self.client('a'), self.client('b')
        self.held(a, 1)
        self.held(b, 2)
        self.cwrite(a, 'freeze', '1')
        self.write('state', 'run')
        b.expect_start_ack()
        a.expect_nothing(0.1)
        b.cycle(1 * S)
        b.expect_run(1 * S)
        a.expect_nothing(0.05)
        self.cwrite(a, 'freeze', '0')
        b.wait()
        a.expect_start_ack()
        self.assertEqual(a.get(), 0)      # a late joiner at 1 s
        a.request(1 * MS)
        self.assertEqual(self.cread(a, 'next_request'),
                         '%d\n' % (1 * S + 1 * MS))

    def test_frozen_while_running_loses_nothing(self):
        """A runner frozen and thawed before anyone else ran lost no time:
        the clock moved only by its own UPDATE, so its base stays."""
        self.start_daemon()
        a, b = self.client('a'), self.client('b')
        a.started(1)
        self.held(b, 2)
        self.cwrite(a, 'freeze', '1')
        a.update(5 * MS)
        self.assertEqual(self.read_int('clock'), 5 * MS)
        self.cwrite(a, 'freeze', '0')
        self.assertEqual(a.get(), 5 * MS)
        a.request(6 * MS)
        self.assertEqual(self.cread(a, 'next_request'), '%d\n' % (6 * MS))
        a.wait()
        b.expect_start_ack()        # held START: now, at 5 ms
        b.cycle(2 * MS)             # 7 ms: after a's 6 ms
        a.expect_run(6 * MS, fu=7 * MS)

    def test_freeze_bad_values(self):
        self.start_daemon()
        c = self.client()
        c.started(1)
        for text in ['2', 'yes', '01', ' 1', '1 ', '1\n\n', '\n', '-1',
                     'true', '10']:
            self.assert_errno(errno.EINVAL, self.cwrite, c, 'freeze', text)
            self.assertEqual(self.cread(c, 'freeze'), '0\n', repr(text))
        self.cwrite(c, 'freeze', '1')
        self.assert_errno(errno.EINVAL, self.cwrite, c, 'freeze', 'no')
        self.assertEqual(self.cread(c, 'freeze'), '1\n')


class DisconnectTest(WatchTest):
    def test_disconnect(self):
        self.start_daemon()
        a, b, c = self.client('a'), self.client('b'), self.client('c')
        a.started(1)
        self.held(b, 2)
        st = os.stat(self.path(self.cpath(b, 'disconnect')))
        self.assertEqual(st.st_mode, 0o100200)
        if os.getuid() != 0:
            with self.assertRaises(PermissionError):
                open(self.path(self.cpath(b, 'disconnect')))
        for text in ['0', 'yes', '2', '1\n\n', ' 1', '\n', '11']:
            self.assert_errno(errno.EINVAL, self.cwrite, b, 'disconnect',
                              text)
        b.expect_nothing(0.05)
        self.assertTrue(os.path.isdir(self.path('clients', '2')))
        # a held client
        self.sh('echo 1 > clients/2/disconnect')
        b.expect_closed()
        self.assertTrue(wait_for(
            lambda: not os.path.exists(self.path('clients', '2'))))
        self.assertEqual(sorted(os.listdir(self.path('clients'))),
                         ['1', '3'])
        self.assert_errno(errno.ENOENT, self.write,
                          'clients/2/disconnect', '1')
        a.cycle(1 * MS)
        a.expect_run(1 * MS, fu=1 * MS + QUANTUM)
        # the runner: the turn goes on to the next
        self.held(c, 3)
        self.cwrite(a, 'disconnect', '1')
        a.expect_closed()
        c.expect_start_ack()
        self.assertTrue(wait_for(
            lambda: os.listdir(self.path('clients')) == ['3']))
        c.cycle(5 * MS)
        c.expect_run(5 * MS, fu=5 * MS + QUANTUM)
        self.assertEqual(self.read_int('clock'), 6 * MS)  # offset 1 ms
        # a waiting client, not yet started one
        d = self.client('d')
        self.assertTrue(wait_for(
            lambda: os.path.isdir(self.path('clients', '4'))))
        self.cwrite(d, 'disconnect', '1')
        d.expect_closed()
        self.cwrite(c, 'disconnect', '1')
        c.expect_closed()
        self.assertTrue(wait_for(
            lambda: os.listdir(self.path('clients')) == []))
        self.assert_alive()


class NameTest(WatchTest):
    def test_names(self):
        self.start_daemon()
        a = self.client('a')
        self.assertTrue(wait_for(
            lambda: os.path.isdir(self.path('clients', '1'))))
        self.assertEqual(self.cread(a, 'name'), 'client-1\n')
        self.assertEqual(os.stat(self.path(self.cpath(a, 'name'))).st_mode,
                         0o100644)
        a.started(7)
        self.assertEqual(self.cread(a, 'name'), 'id-7\n')
        self.assertEqual(self.cwrite(a, 'name', 'uml0\n'), 5)
        self.assertEqual(self.cread(a, 'name'), 'uml0\n')
        for text in ['\n', 'a b', 'a/b', 'x' * 32, 'x' * 31 + '\n\n',
                     'tab\there', 'caf\u00e9', 'a\n\n', ' ', 'nl\nx']:
            self.assert_errno(errno.EINVAL, self.cwrite, a, 'name', text)
            self.assertEqual(self.cread(a, 'name'), 'uml0\n', repr(text))
        self.cwrite(a, 'name', 'y' * 31)
        self.assertEqual(self.cread(a, 'name'), 'y' * 31 + '\n')
        self.cwrite(a, 'name', 'web-1.a_b:c"d')
        self.assertEqual(self.cread(a, 'name'), 'web-1.a_b:c"d\n')
        # named before START: START does not rename it
        b = self.client('b')
        self.assertTrue(wait_for(
            lambda: os.path.isdir(self.path('clients', '2'))))
        self.cwrite(b, 'name', 'early')
        self.held(b, 9)
        self.assertEqual(self.cread(b, 'name'), 'early\n')
        # in the trace and the timeline
        fd = os.open(self.path('trace'), os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, fd)
        a.cycle(1 * MS)
        b.expect_start_ack()
        b.cycle(2 * MS)
        a.expect_run(1 * MS)
        time.sleep(0.05)
        text = os.read(fd, 65536).decode()
        names = {(m.group(4), m.group(5), m.group(6))
                 for m in map(TRACE_LINE.match, text.splitlines())}
        self.assertEqual(names, {('1', '7', 'web-1.a_b:c"d'),
                                 ('2', '9', 'early')}, text)
        with open(self.path('timeline.json')) as f:
            ev = json.load(f)['traceEvents']
        tn = {e['tid']: e['args']['name'] for e in ev
              if e['name'] == 'thread_name'}
        self.assertEqual(tn, {1: 'web-1.a_b:c"d', 2: 'early'})

    def test_rename_shows_in_timeline(self):
        """A label written after the client's last grant is its
        timeline.json thread name too."""
        self.start_daemon()
        a = self.client('a')
        a.started(1)
        a.cycle(1 * MS)
        a.expect_run(1 * MS)
        self.cwrite(a, 'name', 'renamed')
        with open(self.path('timeline.json')) as f:
            ev = json.load(f)['traceEvents']
        tn = {e['tid']: e['args']['name'] for e in ev
              if e['name'] == 'thread_name'}
        self.assertEqual(tn, {1: 'renamed'})

    def test_name_of_a_client_that_left(self):
        self.start_daemon()
        a = self.client('a')
        a.started(1)
        fd = os.open(self.path(self.cpath(a, 'name')), os.O_RDWR)
        self.addCleanup(os.close, fd)
        a.close()
        self.assertTrue(wait_for(
            lambda: not os.path.exists(self.path('clients', '1'))))
        with self.assertRaises(OSError) as cm:
            os.write(fd, b'late')
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        self.assertEqual(os.pread(fd, 100, 0), b'id-1\n')
        self.assert_alive()


def main():
    tt.main('watch')


if __name__ == '__main__':
    main()
