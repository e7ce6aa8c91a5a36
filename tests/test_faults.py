#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_faults.py: what faults of clients, of people and of the system do to
the daemon, through a real mount.

    python3 tests/test_faults.py BUILD_DIR [unittest args]

Every test starts its own ttfs in the foreground on a fresh temporary mount
point and socket (the fixture of ttfs_test.py) and unmounts it even when
the test fails.  Victims are separate processes (this file run with --victim)
killed with SIGKILL in a given protocol state; well-behaved clients run in
threads.  Exits 77 (skipped) when /dev/fuse is missing.

TTFS_WRAP, e.g. "valgrind --error-exitcode=99 --leak-check=full
--errors-for-leak-kinds=definite -q", prefixes the daemon's command; the
daemon's exit status must be 0 at every teardown either way.  Under a wrapper
the churn test is skipped (too slow) unless TTFS_FAULTS_CHURN=1.
"""

import errno
import os
import re
import resource
import select
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttfs_test as tt  # noqa: E402
from ttfs_test import (BROADCAST, START, REQUEST, MS, S,  # noqa: E402
                       US, Client, TtfsTest, mounted, pack, unmount,
                       wait_for)

WRAP = shlex.split(os.environ.get('TTFS_WRAP', ''))
SLOW = 4.0 if WRAP else 1.0   # timeouts scale under valgrind
LONG = 30.0 * SLOW            # a message that must come, eventually
HERE = os.path.abspath(__file__)


def proc_mounts():
    with open('/proc/self/mounts') as f:
        return [line.split() for line in f]


def mount_entry(path):
    path = os.path.realpath(path)
    for fields in proc_mounts():
        if fields[1].replace('\\040', ' ') == path:
            return fields
    return None


def fd_count(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def vm_rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS for %d' % pid)


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(') ', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def niceness(pid):
    with open('/proc/%d/stat' % pid) as f:
        return int(f.read().rsplit(') ', 1)[1].split()[16])


# ---------------------------------------------------------------------------
# Victims: this file run as `test_faults.py --victim STATE SOCKET`.  It is the
# client (its own process, so SO_PEERCRED names it), brings itself into
# STATE, says "ready" on stdout and sleeps until it is killed.

VICTIM_STATES = ('connected', 'held', 'start-acked', 'ran', 'waiting',
                 'holding-ack')


def victim_main(state, path):
    c = Client(path, 'victim-' + state)
    try:
        if state == 'connected':
            pass
        elif state == 'held':
            c.start(900)          # the test has paused the calendar
        else:
            c.start(900)
            c.expect_start_ack(timeout=LONG)
            if state in ('ran', 'holding-ack'):
                c.cycle(1 * MS)   # own time: soon after the others' times
                c.expect_run(1 * MS, timeout=LONG,
                             ack=(state == 'ran'))
            elif state == 'waiting':
                c.cycle(1000000 * S)
        print('ready', flush=True)
    except Exception as e:  # pylint: disable=broad-except
        print('error %s' % e, flush=True)
    while True:
        time.sleep(3600)


class LoadClient(Client):
    """A well-behaved client that ACKs (and counts) BROADCASTs whenever
    they come, as a kernel does, and otherwise behaves like Client."""

    def __init__(self, *a):
        super().__init__(*a)
        self.broadcasts = 0

    def recv(self, timeout=tt.TIMEOUT):
        while True:
            m = super().recv(timeout)
            if m.op != BROADCAST:
                return m
            self.broadcasts += 1
            self.ack(m)


class Load(threading.Thread):
    """A client in a thread doing REQUEST(t)/WAIT cycles, t growing by
    `step` in its own time; each RUN must be exactly t and GET after it
    must answer t (never backwards)."""

    def __init__(self, test, ident, step=100 * US):
        super().__init__(daemon=True)
        self.c = LoadClient(test.sockpath, 'load%d' % ident)
        self.cid = ident
        self.step = step
        self.runs = []
        self.error = None
        self.stopping = threading.Event()
        self.number = None
        test.addCleanup(self.stop)

    def run(self):
        c = self.c
        try:
            c.start(self.cid)
            c.expect_start_ack(timeout=LONG)
            t = c.get()
            while not self.stopping.is_set():
                t += self.step
                c.request(t)
                c.wait()
                # the RUN check: exactly t (expect_run asserts it)
                c.expect_run(t, timeout=LONG)
                got = c.get()
                if got != t:
                    raise AssertionError('%s: GET %d after RUN %d'
                                         % (c.name, got, t))
                if self.runs and t <= self.runs[-1]:
                    raise AssertionError('%s: RUN went backwards' % c.name)
                self.runs.append(t)
        except Exception as e:  # pylint: disable=broad-except
            if not self.stopping.is_set():
                self.error = e
        finally:
            c.close()

    @property
    def cycles(self):
        return len(self.runs)

    def stop(self):
        self.stopping.set()
        try:
            self.c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.join(timeout=10)


class FaultTest(TtfsTest):
    """The ttfs_test fixture, with TTFS_WRAP and a few more helpers."""

    PREFIX = 'ttfs-faults-'
    WRAP = WRAP
    START_TIMEOUT = 10 * SLOW
    STOP_TIMEOUT = 10 * SLOW

    def assert_refused(self, option, values):
        """ttfs -f ... OPTION VALUE fails for each value, names the option
        on stderr, and leaves neither a socket nor a mount behind."""
        d = tempfile.mkdtemp(prefix='ttfs-faults-')
        self.addCleanup(shutil.rmtree, d, True)
        os.mkdir(os.path.join(d, 'mnt'))
        for v in values:
            r = subprocess.run([tt.TTFS, '-f', '--socket',
                                os.path.join(d, 's'), option, v,
                                os.path.join(d, 'mnt')],
                               capture_output=True, text=True, timeout=10)
            self.assertNotEqual(r.returncode, 0, v)
            self.assertIn(option, r.stderr, v)
            self.assertFalse(os.path.lexists(os.path.join(d, 's')))
            self.assertFalse(mounted(os.path.join(d, 'mnt')))

    def log_head(self, limit=1 << 20):
        self.logf.flush()
        self.logf.seek(0)
        return self.logf.read(limit)

    def numbers(self):
        return sorted(int(n) for n in os.listdir(self.path('clients')))

    def number_of_pid(self, pid):
        for n in self.numbers():
            try:
                if self.read_int('clients', str(n), 'pid') == pid:
                    return n
            except OSError:
                pass
        return None

    def number_of_id(self, ident):
        for n in self.numbers():
            try:
                if self.read('clients', str(n), 'id') == '%d\n' % ident:
                    return n
            except OSError:
                pass
        return None

    def loads(self, n=2, step=100 * US):
        ls = [Load(self, 100 + i, step) for i in range(n)]
        for ld in ls:
            ld.start()
        return ls

    def load_ok(self, ls):
        for ld in ls:
            if ld.error:
                raise AssertionError('%s failed: %s' % (ld.c.name, ld.error))

    def loads_progress(self, ls, n, timeout=LONG):
        """Each load completes n more cycles."""
        want = [ld.cycles + n for ld in ls]
        ok = wait_for(lambda: all(ld.error or ld.cycles >= w
                                  for ld, w in zip(ls, want)),
                      timeout=timeout)
        self.load_ok(ls)
        self.assertTrue(ok, 'loads stuck at %s cycles, want %s'
                        % ([ld.cycles for ld in ls], want))

    def load_numbers(self, ls):
        return sorted(self.number_of_id(ld.cid) for ld in ls)

    def victim(self, state):
        return tt.spawn(self, [sys.executable, HERE, '--victim', state,
                               self.sockpath], stdout=subprocess.PIPE,
                        stdin=subprocess.DEVNULL, text=True)

    def victim_ready(self, p, timeout=LONG):
        r, _, _ = select.select([p.stdout], [], [], timeout)
        self.assertTrue(r, 'the victim did not get ready')
        line = p.stdout.readline().strip()
        self.assertEqual(line, 'ready', 'victim: ' + line)

    def blocked_write(self, name, text):
        """A write in a child that is expected to park."""
        return self.write_async(name, text)

    def cat_clock_latency(self):
        t0 = time.monotonic()
        with open(self.path('clock')) as f:
            f.read()
        return time.monotonic() - t0


# ---------------------------------------------------------------------------


class KillTest(FaultTest):
    """kill -9 of a client process in every protocol state."""

    N = 100

    def kill_in_state(self, state):
        self.start_daemon()
        ls = self.loads()
        self.loads_progress(ls, 20)
        if state == 'held':
            # Held: paused, so the START's ACK stays held.
            self.write('state', 'pause')
            # (returns once no load runs: both are waiting now)
        p = self.victim(state)
        if state != 'held':
            self.victim_ready(p)
        n = wait_for(lambda: self.number_of_pid(p.pid), timeout=5 * SLOW)
        self.assertTrue(n, 'the victim is not in clients/')
        want = {'connected': ('starting', 'none\n'),
                'held': ('starting', '900\n'),
                'start-acked': ('running', '900\n'),
                'ran': ('running', '900\n'),
                'waiting': ('waiting', '900\n'),
                'holding-ack': ('running', '900\n')}[state]
        if state == 'held':
            self.victim_ready(p)
            self.assertTrue(wait_for(
                lambda: self.read('clients', str(n), 'id') == '900\n'))
        self.assertEqual(self.read('clients', str(n), 'state').strip(),
                         want[0])
        self.assertEqual(self.read('clients', str(n), 'id'), want[1])
        if want[0] == 'running' or state == 'held':
            # it holds the turn (or everyone is paused): the loads stand
            before = [ld.cycles for ld in ls]
            time.sleep(0.3)
            self.assertEqual([ld.cycles for ld in ls], before,
                             'a load ran while the victim had the turn')
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        self.assertTrue(wait_for(lambda: n not in self.numbers(),
                                 timeout=5 * SLOW),
                        'clients/%d stays after kill -9' % n)
        if state == 'held':
            self.write('state', 'run')
        self.loads_progress(ls, self.N)
        self.assertEqual(self.numbers(), self.load_numbers(ls))
        self.assert_alive()
        log = self.log_head()
        self.assertRegex(log, r'client %d \(id [^,]+, pid %d\) (left|dropped)'
                         % (n, p.pid))

    def test_kill_connected_no_start(self):
        self.kill_in_state('connected')

    def test_kill_start_held(self):
        self.kill_in_state('held')

    def test_kill_running_after_start_ack(self):
        self.kill_in_state('start-acked')

    def test_kill_running_after_run(self):
        self.kill_in_state('ran')

    def test_kill_waiting(self):
        self.kill_in_state('waiting')

    def test_kill_holding_an_ack(self):
        """FREE_UNTIL and RUN sent, never ACKed: the runner's turn is
        handed on when it dies."""
        self.kill_in_state('holding-ack')


class StoppedReaderTest(FaultTest):
    def test_stopped_reader_dropped_at_64k(self):
        self.start_daemon()
        ls = self.loads()
        self.loads_progress(ls, 10)
        r = self.client('reader', LoadClient)
        r.started(7)             # after the loads: it gets the turn...
        r.cycle(1000000 * S)     # ...and waits (so it gets BROADCASTs)
        rn = self.number_of_id(7)
        # From now on it never reads.
        b = self.client('broadcaster', LoadClient)
        b.started(8)
        b.cycle(1000000 * S)
        lat = []
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                lat.append(self.cat_clock_latency())
                time.sleep(0.02)
        w = threading.Thread(target=watch, daemon=True)
        w.start()
        batch = 256
        sent = 0
        t0 = time.monotonic()
        dropped = False
        while sent < 400000 and time.monotonic() - t0 < 60 * SLOW:
            seqs = b.send_many([(BROADCAST, sent + i) for i in range(batch)])
            for s in seqs:
                b.expect_ack(s, timeout=LONG)
            sent += batch
            if sent % (batch * 16) == 0 and rn not in self.numbers():
                dropped = True
                break
        dropped = dropped or wait_for(lambda: rn not in self.numbers(),
                                      timeout=5 * SLOW)
        stop.set()
        w.join()
        print('\n  stopped reader: dropped after %d broadcasts (%d KiB), '
              '%d clock reads, slowest %.3fs'
              % (sent, sent * 16 // 1024, len(lat), max(lat)),
              file=sys.stderr)
        self.assertTrue(dropped, 'the stopped reader was never dropped')
        self.assertIn('not reading its socket', self.log_head())
        self.assertGreater(sent * 16, 64 * 1024)
        self.assertLess(max(lat), 1.0 * SLOW, 'cat clock took %.3fs'
                        % max(lat))
        self.loads_progress(ls, 100)
        # the broadcaster carries on too
        b.expect_ack(b.send(BROADCAST, 1))
        self.assertEqual(self.numbers(),
                         sorted(self.load_numbers(ls) + [rn + 1]))
        # and the dropped one's socket is closed (after what was queued)
        r.sock.setblocking(False)
        total = 0
        while True:
            try:
                d = r.sock.recv(1 << 20)
            except BlockingIOError:
                self.fail('the dropped reader\'s socket is still open')
            except ConnectionResetError:
                break
            if not d:
                break
            total += len(d)
        self.assert_alive()


class HalfMessageTest(FaultTest):
    def test_half_message_then_silence_then_hangup(self):
        self.start_daemon()
        ls = self.loads()
        self.loads_progress(ls, 10)
        h = self.client('half')
        h.started(5)
        h.cycle(1000000 * S)
        n = self.number_of_id(5)
        h.send_raw(pack(REQUEST, 1, 2 * S)[:8])
        self.loads_progress(ls, 100)
        time.sleep(0.5)
        self.assertIn(n, self.numbers(), 'a half message dropped the client')
        self.assertEqual(self.read('clients', str(n), 'state'), 'waiting\n')
        h.sock.close()
        self.assertTrue(wait_for(lambda: n not in self.numbers(),
                                 timeout=5 * SLOW))
        self.assertIn('hang-up mid-message', self.log_head())
        self.loads_progress(ls, 100)
        self.assertEqual(self.numbers(), self.load_numbers(ls))

    def test_half_message_from_new_client_kept(self):
        """Before START too: seven bytes of a START, and nothing more."""
        self.start_daemon()
        ls = self.loads()
        h = self.client('half')
        self.assertTrue(wait_for(lambda: len(self.numbers()) == 3))
        n = max(self.numbers())
        h.send_raw(pack(START, 1, 5)[:7])
        self.loads_progress(ls, 100)
        self.assertIn(n, self.numbers())
        self.assertEqual(self.read('clients', str(n), 'id'), 'none\n')
        h.send_raw(pack(START, 1, 5)[7:])     # the rest: a whole START
        self.assertTrue(wait_for(
            lambda: self.read('clients', str(n), 'id') == '5\n'))
        h.start_seq = 1
        h.expect_start_ack(timeout=LONG)
        h.cycle(1000000 * S)
        self.loads_progress(ls, 50)


class ChurnTest(FaultTest):
    CYCLES = 10000

    def test_churn(self):
        if WRAP and os.environ.get('TTFS_FAULTS_CHURN') != '1':
            print('\n  SKIPPED churn under TTFS_WRAP (too slow; set '
                  'TTFS_FAULTS_CHURN=1 to run it)', file=sys.stderr)
            self.skipTest('churn under TTFS_WRAP')
        self.start_daemon()
        pid = self.proc.pid
        ls = self.loads()
        self.loads_progress(ls, 200)
        # warm up: the allocator's arenas, the rings
        self.churn(300)
        self.assertTrue(wait_for(lambda: len(self.numbers()) == 2,
                                 timeout=10))
        fd0, rss0 = fd_count(pid), vm_rss_kib(pid)
        t0 = time.monotonic()
        kinds = self.churn(self.CYCLES)
        dt = time.monotonic() - t0
        self.assertTrue(wait_for(lambda: len(self.numbers()) == 2,
                                 timeout=10 * SLOW),
                        'clients left behind: %s' % self.numbers())
        self.loads_progress(ls, 100)
        time.sleep(0.2)
        fd1, rss1 = fd_count(pid), vm_rss_kib(pid)
        print('\n  churn: %d cycles (%s) in %.1fs; load cycles %s; '
              'fds %d -> %d; VmRSS %d KiB -> %d KiB (%+d KiB)'
              % (self.CYCLES, ', '.join('%s %d' % kv for kv in
                                        sorted(kinds.items())), dt,
                 [ld.cycles for ld in ls], fd0, fd1, rss0, rss1,
                 rss1 - rss0), file=sys.stderr)
        self.assertLessEqual(abs(fd1 - fd0), 2, 'descriptors leak')
        self.assertLess(rss1 - rss0, 8 * 1024, 'memory grows')
        self.assertEqual(self.numbers(), self.load_numbers(ls))
        self.stats = self.read('stats')
        m = re.search(r'clients_ever (\d+)', self.stats)
        self.assertGreaterEqual(int(m.group(1)), self.CYCLES + 2)

    def churn(self, n):
        kinds = {'bare': 0, 'start': 0, 'running': 0}
        for i in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sockpath)
            if i % 100 == 99:
                # START, wait for its ACK (it runs), leave while running
                c = Client.__new__(Client)
                Client.__init__(c, self.sockpath, 'churn')
                s.close()
                c.start(10000 + i)
                c.expect_start_ack(timeout=LONG)
                c.close()
                kinds['running'] += 1
                continue
            if i % 2:
                s.sendall(pack(START, 1, 10000 + i))
                kinds['start'] += 1
            else:
                kinds['bare'] += 1
            s.close()
        return kinds


class BadWriteTest(FaultTest):
    # for files that take a time or a number
    COMMON = [b'\n', b'\n\n', b'-1\n', b'-1s', b'18446744073709551616\n',
              b'99999999999999999999999999d\n', b'5parsecs\n', b'5S\n',
              b'1 2\n', b'1\n2\n', b'1s2s', b'\xff\xfe\x01\x80',
              b'1\x002\n', b'1\x00', b'\x00', b' 1\n', b'1\n ', b'+',
              b'0x10\n', b'1e3\n', b'1.2.3\n', b'nan\n']

    def bad_values(self, name):
        base = name.rsplit('/', 1)[-1]
        if base == 'name':
            return [b'\n', b'\n\n', b'a b\n', b'a/b\n', b'x' * 32,
                    b'\xff\xfe', b'a\x00b\n', b'a\x00', b'\x00',
                    b'a\nb\n', b'\ta\n', b'a\t']
        if base == 'state':
            return self.COMMON + [b'running\n', b'paused\n', b'RUN\n',
                                  b'run\x00', b'run\n\n', b'run pause\n',
                                  b'stop\n']
        if base in ('freeze', 'disconnect'):
            return self.COMMON + [b'01\n', b'2\n', b'1\n\n', b'yes\n',
                                  b'1\x00\n'] + \
                ([b'0\n', b'0'] if base == 'disconnect' else [])
        if base == 'pace':
            return self.COMMON + [b'1' * 70, b'99999999999999999999\n',
                                  b'inf\n', b'.\n', b'1.\n.']
        return self.COMMON   # clock, tod

    def write_err(self, name, data):
        fd = os.open(self.path(name), os.O_WRONLY)
        try:
            os.write(fd, data)
        except OSError as e:
            return e.errno
        finally:
            os.close(fd)
        return 0

    def test_bad_writes_refused_and_nothing_changes(self):
        self.start_daemon('--tod', '1700000000000000000')
        c = self.client('c')
        c.started(1)
        c.cycle(1 * S)
        c.expect_run(1 * S)          # c runs, at 1 s: the clock stands
        self.assertEqual(self.read('clock'), '%d\n' % S)
        n = self.number_of_id(1)
        files = ['clock', 'state', 'tod', 'pace',
                 'clients/%d/freeze' % n, 'clients/%d/disconnect' % n,
                 'clients/%d/name' % n]
        readable = [f for f in files if not f.endswith('disconnect')] + \
            ['clients/%d/state' % n, 'clients/%d/next_request' % n,
             'clients/%d/counters' % n]
        before = {f: self.read(f) for f in readable}
        bad = []
        count = 0
        for f in files:
            for data in self.bad_values(f) + [b'1' * 5000, b'9' * 4097]:
                err = self.write_err(f, data)
                count += 1
                ok = (errno.EINVAL, errno.EFBIG) if len(data) > 4096 else \
                    (errno.EINVAL,)
                if err not in ok:
                    bad.append('%s <- %r: %s' % (f, data[:40], errno.errorcode
                                                 .get(err, err)))
                now = {g: self.read(g) for g in readable}
                if now != before:
                    bad.append('%s <- %r changed %s' % (
                        f, data[:40], {g: (before[g], now[g]) for g in now
                                       if now[g] != before[g]}))
                    before = now
        self.assertEqual(bad, [], '%d of %d bad writes misbehaved:\n  %s'
                         % (len(bad), count, '\n  '.join(bad)))
        # behaviour unchanged: still connected, not frozen, runs on exactly
        self.assertEqual(self.numbers(), [n])
        c.expect_nothing()
        self.assertEqual(c.get(), 1 * S)
        c.cycle(2 * S)
        c.expect_run(2 * S, fu=2 * S + tt.QUANTUM)
        self.assertEqual(self.read('state'), 'running\n')
        self.assertEqual(self.read('tod'), '1700000000000000000\n')
        self.assert_alive()
        print('\n  %d bad writes refused' % count, file=sys.stderr)

    def test_bad_name_longest_ok(self):
        """The limits of name: 31 bytes fit, 32 do not."""
        self.start_daemon()
        c = self.client('c')
        c.started(1)
        n = self.number_of_id(1)
        self.write('clients/%d/name' % n, 'x' * 31 + '\n')
        self.assertEqual(self.read('clients/%d/name' % n), 'x' * 31 + '\n')
        self.assertEqual(self.write_err('clients/%d/name' % n, b'y' * 32),
                         errno.EINVAL)
        self.assertEqual(self.read('clients/%d/name' % n), 'x' * 31 + '\n')

    def stable_files(self, n):
        return ['clock', 'state', 'tod', 'pace', 'socket'] + \
            ['clients/%d/%s' % (n, f) for f in
             ('id', 'state', 'next_request', 'pid', 'counters', 'freeze',
              'name')]

    def test_reads_at_odd_offsets_stable(self):
        self.start_daemon('--paused')
        c = self.client('c')
        c.start(3)
        n = wait_for(lambda: self.number_of_id(3))
        self.assertTrue(n)
        bad = []
        reads = 0
        for f in self.stable_files(n):
            text = self.read(f).encode()
            L = len(text)
            self.assertGreater(L, 0, f)
            fd = os.open(self.path(f), os.O_RDONLY)
            try:
                for size in range(1, L + 2):
                    parts, off = [], 0
                    while True:
                        part = os.pread(fd, size, off)
                        reads += 1
                        if not part:
                            break
                        if len(part) > size:
                            bad.append('%s: pread %d gave %d' %
                                       (f, size, len(part)))
                        parts.append(part)
                        off += len(part)
                        if off > L + 1:
                            break
                    if b''.join(parts) != text:
                        bad.append('%s size %d: %r != %r'
                                   % (f, size, b''.join(parts), text))
                for off in range(0, L + 3):
                    part = os.pread(fd, L + 10, off)
                    reads += 1
                    if part != text[off:]:
                        bad.append('%s at %d: %r' % (f, off, part))
            finally:
                os.close(fd)
        # snapshots: stats and timeline.json (a read at offset 0 renders
        # stats afresh; later offsets slice the same rendering)
        for f in ('stats', 'timeline.json'):
            fd = os.open(self.path(f), os.O_RDONLY)
            try:
                text = b''
                while True:
                    part = os.pread(fd, 65536, len(text))
                    if not part:
                        break
                    text += part
                L = len(text)
                self.assertGreater(L, 0, f)
                for size in (1, 2, 3, 7, 13, 64, 1000):
                    parts, off = [], 1
                    while off < L:
                        part = os.pread(fd, size, off)
                        reads += 1
                        self.assertTrue(part, '%s: empty at %d' % (f, off))
                        parts.append(part)
                        off += len(part)
                    if b''.join(parts) != text[1:]:
                        bad.append('%s size %d inconsistent' % (f, size))
                if f == 'timeline.json':
                    import json
                    json.loads(text)
            finally:
                os.close(fd)
        self.assertEqual(bad, [], '\n'.join(bad[:20]))
        print('\n  %d odd reads consistent' % reads, file=sys.stderr)


class LimitTest(FaultTest):
    def test_max_clients(self):
        self.start_daemon('--max-clients', '3')
        a, b, c = self.client('a'), self.client('b'), self.client('c')
        a.started(1)
        self.held(b, 2)
        self.assertTrue(wait_for(lambda: len(self.numbers()) == 3))
        d = self.client('d')
        r, _, _ = select.select([d.sock], [], [], 1.0 * SLOW)
        self.assertTrue(r, 'the 4th client was not closed within 1s')
        self.assertEqual(d.sock.recv(16), b'')
        self.assertTrue(wait_for(lambda: '--max-clients' in self.log_head()),
                        'no log line for the refusal')
        # the three others still work
        a.cycle(1 * S)
        b.expect_start_ack()
        b.cycle(2 * S)
        c.start(3)
        a.expect_run(1 * S)
        a.cycle(3 * S)
        c.expect_start_ack()
        c.cycle(4 * S)
        b.expect_run(2 * S)
        self.assertEqual(len(self.numbers()), 3)
        # one leaves (the runner: the turn goes to a): room again
        b.close()
        self.assertTrue(wait_for(lambda: len(self.numbers()) == 2))
        a.expect_run(3 * S)
        e = self.client('e')
        self.assertTrue(wait_for(lambda: len(self.numbers()) == 3))
        e.start(5)
        a.cycle(10 * S)
        e.expect_start_ack()
        e.cycle(5 * S)
        c.expect_run(4 * S)
        c.cycle(10 * S)
        e.expect_run(5 * S)
        # full again: the next is closed
        f = self.client('f')
        f.expect_closed(timeout=1.0 * SLOW)

    def test_nofile_raised_to_hard_limit(self):
        def low():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 256))
        self.start_daemon(preexec=low)
        with open('/proc/%d/limits' % self.proc.pid) as f:
            lim = [line for line in f if 'open files' in line][0]
        if WRAP:   # valgrind keeps a few descriptors of the hard limit
            self.assertGreater(int(lim.split()[3]), 64, lim)
        else:
            self.assertEqual(lim.split()[3:5], ['256', '256'], lim)

    def test_out_of_descriptors(self):
        LIMIT = 64

        def low():
            resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))
        self.start_daemon(preexec=low)
        pid = self.proc.pid
        with open('/proc/%d/limits' % pid) as f:
            lim = [line for line in f if 'open files' in line][0]
        self.assertEqual(lim.split()[3:5], [str(LIMIT), str(LIMIT)], lim)
        base = fd_count(pid)
        cs = []
        for i in range(100):
            cs.append(self.client('c%d' % i))
        # the refused see EOF at once; the accepted see nothing
        time.sleep(1.0 * SLOW)
        refused = [c for c in cs if c.pending() and c.eof]
        accepted = [c for c in cs if not c.eof]
        print('\n  RLIMIT_NOFILE %d: %d fds before, %d accepted, %d refused'
              % (LIMIT, base, len(accepted), len(refused)), file=sys.stderr)
        self.assertTrue(refused, 'nobody refused at %d descriptors' % LIMIT)
        self.assert_alive()
        # Not spinning on the listener (nor logging in a loop).  Checked
        # before the tree is touched: a daemon stuck in a loop would hang
        # every FUSE request, and this test with it.
        cpu0, log0 = cpu_seconds(pid), os.fstat(self.logf.fileno()).st_size
        time.sleep(1.0)
        cpu1, log1 = cpu_seconds(pid), os.fstat(self.logf.fileno()).st_size
        if cpu1 - cpu0 > 0.3 or log1 != log0:
            self.proc.kill()    # or the cleanup's unmount hangs on it
            self.proc.wait()
            self.stopped = True
            unmount(self.mnt)
            self.fail('ttfs spins at its descriptor limit: %.2fs of CPU in '
                      '1s, %d bytes of log in 1s; it ends:\n%s'
                      % (cpu1 - cpu0, log1 - log0, self.daemon_log(300)))
        self.assertGreater(len(accepted), 20)
        self.assertEqual(len(self.numbers()), len(accepted))
        self.assertIn('out of file descriptors', self.log_head())
        # the accepted ones are served
        a, b = accepted[0], accepted[1]
        a.started(1)
        a.cycle(1 * S)
        a.expect_run(1 * S)
        b.start(2)
        a.cycle(2 * S)
        b.expect_start_ack()
        b.cycle(3 * S)
        a.expect_run(2 * S)
        # more refusals while full, and the daemon still answers
        more = [self.client('m%d' % i) for i in range(10)]
        for m in more:
            m.expect_closed(timeout=2 * SLOW)
        self.assertEqual(self.read('state'), 'running\n')
        # some leave: new ones are served again
        for c in accepted[2:12]:
            c.close()
        self.assertTrue(wait_for(lambda: len(self.numbers()) ==
                                 len(accepted) - 10, timeout=5 * SLOW))
        new = [self.client('n%d' % i) for i in range(5)]
        time.sleep(0.5 * SLOW)
        for nc in new:
            self.assertFalse(nc.pending(), '%s refused after others left'
                             % nc.name)
        new[0].start(50)
        self.assertTrue(wait_for(lambda: self.number_of_id(50)))
        a.cycle(100 * S)
        new[0].expect_start_ack()     # held START: due now, before b
        new[0].cycle(4 * S)
        b.expect_run(3 * S)
        b.cycle(100 * S)
        new[0].expect_run(4 * S)
        self.assertEqual(len(self.numbers()), len(accepted) - 10 + 5)
        self.assert_alive()


class SecurityTest(FaultTest):
    def test_socket_0600_and_mount_options(self):
        self.start_daemon()
        st = os.lstat(self.sockpath)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600,
                         oct(stat.S_IMODE(st.st_mode)))
        fields = mount_entry(self.mnt)
        self.assertIsNotNone(fields)
        opts = fields[3].split(',')
        self.assertIn('default_permissions', opts, fields)
        self.assertNotIn('allow_other', opts, fields)
        self.assertTrue(fields[2].startswith('fuse'), fields)

    def test_socket_mode_0600_under_a_loose_umask(self):
        old = os.umask(0)
        try:
            self.start_daemon()
        finally:
            os.umask(old)
        self.assertEqual(stat.S_IMODE(os.lstat(self.sockpath).st_mode), 0o600)

    def test_socket_mode_and_group(self):
        import grp
        g = grp.getgrnam('nogroup') if 'nogroup' in \
            [x.gr_name for x in grp.getgrall()] else grp.getgrgid(65534)
        self.start_daemon('--socket-mode', '0660', '--socket-group',
                          g.gr_name)
        st = os.lstat(self.sockpath)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_gid, g.gr_gid)
        c = self.client()
        c.started(1)

    def test_socket_mode_0666(self):
        self.start_daemon('-m', '666')
        self.assertEqual(stat.S_IMODE(os.lstat(self.sockpath).st_mode),
                         0o666)

    def test_allow_other_only_when_asked(self):
        self.start_daemon('-o', 'allow_other')
        opts = mount_entry(self.mnt)[3].split(',')
        self.assertIn('allow_other', opts)
        self.assertIn('default_permissions', opts)

    def test_bad_socket_mode_refused(self):
        self.assert_refused('--socket-mode', ('999', '01777', 'rw', ''))

class BusyPollTest(FaultTest):
    """--busy-poll: turns as usual; the loop polls (CPU) for the time
    given after a client speaks, then sleeps again."""

    def test_polls_then_sleeps(self):
        self.start_daemon('--busy-poll', '1s')
        pid = self.proc.pid
        a, b = self.client('a'), self.client('b')
        a.started(1)
        self.held(b, 2)
        a.cycle(1 * S)
        b.expect_start_ack()
        for t in range(2, 42, 2):
            b.cycle(t * S)
            a.expect_run((t - 1) * S)
            a.cycle((t + 1) * S)
            b.expect_run(t * S)
        # within the second after a client spoke, ttfs polls...
        cpu0 = cpu_seconds(pid)
        time.sleep(0.6)
        busy = cpu_seconds(pid) - cpu0
        # ...then sleeps (the tree's reads are no client: they do not
        # extend it)
        time.sleep(0.6)
        cpu1 = cpu_seconds(pid)
        time.sleep(1.0)
        idle = cpu_seconds(pid) - cpu1
        self.assertGreater(busy, 0.15, 'no polling after a client spoke')
        self.assertLess(idle, 0.1, 'still polling 1.2 s after the last '
                        'client message: %.2fs of CPU in 1s' % idle)
        self.assertEqual(self.read('clients', '2', 'state'), 'running\n')
        self.assert_alive()

    def test_bad_values_refused(self):
        self.assert_refused('--busy-poll', ('2s', '+1us', 'fast', '-1', ''))

class NiceTest(FaultTest):
    """The calendar runs at niceness -10 by default where permitted,
    keeps a niceness it was started with, and takes --nice N."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest('lowering a niceness needs root (CAP_SYS_NICE)')

    def test_default_lowers(self):
        self.start_daemon()
        self.assertEqual(niceness(self.proc.pid), -10)
        self.turns_go()

    def test_given(self):
        self.start_daemon('--nice', '5')
        self.assertEqual(niceness(self.proc.pid), 5)
        self.turns_go()

    def test_zero_keeps_zero(self):
        self.start_daemon('--nice', '0')
        self.assertEqual(niceness(self.proc.pid), 0)

    def test_started_under_nice_kept(self):
        self.start_daemon(preexec=lambda: os.nice(3))
        self.assertEqual(niceness(self.proc.pid), 3)

    def test_bad_values_refused(self):
        self.assert_refused('--nice', ('20', '-21', 'low', '', '1.5'))

    def turns_go(self):
        self.runner_and_waiter()
        self.assert_alive()


class TreeYieldsTest(FaultTest):
    """The tree pauses after each request answered while clients talk
    (the simulation goes first); it must still answer, promptly."""

    def test_reads_while_a_client_floods(self):
        import threading
        self.start_daemon()
        a = self.client('a')
        a.started(1)
        stop = threading.Event()
        gets = [0]

        def flood():
            while not stop.is_set():
                a.get()
                gets[0] += 1
        th = threading.Thread(target=flood)
        th.start()
        try:
            t0 = time.monotonic()
            for _ in range(100):
                # cat, not open(): a tree that never resumes fails here
                # (timeout) instead of hanging the test
                r = subprocess.run(['cat', self.path('clock')],
                                   capture_output=True, text=True,
                                   timeout=5 * SLOW)
                self.assertEqual(r.stdout, '0\n')
            took = time.monotonic() - t0
        finally:
            stop.set()
            th.join(10)
        self.assertGreater(gets[0], 100, 'the flood did not run')
        # 100 cats of 5 requests, each pause at most 2 ms
        self.assertLess(took, 4.0 * SLOW, 'reads starved: %.2fs' % took)
        self.assert_alive()


class LifecycleTest(FaultTest):
    def ends_cleanly(self, how):
        self.start_daemon()
        a, b = self.client('a'), self.client('b')
        a.started(1)
        self.held(b, 2)
        p = self.blocked_write('clock', '+10s')   # a runs: it parks
        time.sleep(0.3)
        self.assertIsNone(p.poll(), 'the clock write did not park')
        if how == 'fusermount':
            # The parked writer holds a file open: the mount is busy.
            r = subprocess.run(['fusermount3', '-u', self.mnt],
                               capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0, 'unmounted while busy')
            self.assertIn('busy', r.stderr)
            self.assert_alive()
            self.assertEqual(self.read('clients', '1', 'state'),
                             'running\n')
            # Its writer killed, the mount is free (the daemon answered
            # the interrupted write) and the unmount stops the daemon.
            p.kill()
            p.wait()
            ok = wait_for(lambda: subprocess.run(
                ['fusermount3', '-u', self.mnt],
                capture_output=True).returncode == 0, timeout=5 * SLOW)
            self.assertTrue(ok, 'fusermount3 -u still fails')
        else:
            os.kill(self.proc.pid, how)
        try:
            rc = self.proc.wait(timeout=10 * SLOW)
        except subprocess.TimeoutExpired:
            self.fail('ttfs did not exit (%s)' % how)
        self.stopped = True
        self.assertEqual(rc, 0, self.daemon_log())
        self.assertIsNone(mount_entry(self.mnt), 'still mounted')
        self.assertFalse(os.path.lexists(self.sockpath), 'socket file left')
        a.expect_closed()
        b.expect_closed()
        try:
            p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.fail('the parked write still hangs')
        self.assertNotEqual(p.returncode, 0)
        if how != 'fusermount':
            self.assertIn('signal %d: stopping' % how, self.daemon_log())

    def test_sigterm(self):
        self.ends_cleanly(signal.SIGTERM)

    def test_sigint(self):
        self.ends_cleanly(signal.SIGINT)

    def test_sighup(self):
        self.ends_cleanly(signal.SIGHUP)

    def test_fusermount_u(self):
        self.ends_cleanly('fusermount')

    def run_ttfs(self, *args):
        return subprocess.run(WRAP + [tt.TTFS] + list(args),
                              capture_output=True, text=True,
                              timeout=20 * SLOW, stdin=subprocess.DEVNULL)

    def test_missing_mount_point(self):
        d = tempfile.mkdtemp(prefix='ttfs-faults-')
        self.addCleanup(shutil.rmtree, d, True)
        sock, mnt = os.path.join(d, 'sock'), os.path.join(d, 'nope')
        for fg in (['-f'], []):
            r = self.run_ttfs('--socket', sock, *fg, mnt)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn('mount point %s: No such file or directory' % mnt,
                          r.stderr)
            self.assertFalse(os.path.lexists(sock))

    def test_mount_point_is_a_file(self):
        d = tempfile.mkdtemp(prefix='ttfs-faults-')
        self.addCleanup(shutil.rmtree, d, True)
        sock, mnt = os.path.join(d, 'sock'), os.path.join(d, 'file')
        with open(mnt, 'w') as f:
            f.write('x')
        for fg in (['-f'], []):
            r = self.run_ttfs('--socket', sock, *fg, mnt)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn('mount point %s: not a directory' % mnt, r.stderr)
            self.assertFalse(os.path.lexists(sock))
            self.assertIsNone(mount_entry(mnt))

    def test_socket_in_use(self):
        self.start_daemon()
        a = self.client('a')
        a.started(1)
        mnt2 = os.path.join(self.dir, 'mnt2')
        os.mkdir(mnt2)
        self.addCleanup(unmount, mnt2)
        for fg in (['-f'], []):
            r = self.run_ttfs('--socket', self.sockpath, *fg, mnt2)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn('in use', r.stderr)
            self.assertIsNone(mount_entry(mnt2))
        # the first keeps working, its socket too
        self.assertTrue(stat.S_ISSOCK(os.lstat(self.sockpath).st_mode))
        a.cycle(1 * S)
        a.expect_run(1 * S)
        b = self.client('b')
        b.start(2)
        a.cycle(2 * S)
        b.expect_start_ack()
        self.assertEqual(self.read('clock'), '%d\n' % S)

    def test_socket_path_not_a_socket(self):
        d = tempfile.mkdtemp(prefix='ttfs-faults-')
        self.addCleanup(shutil.rmtree, d, True)
        sock, mnt = os.path.join(d, 'sock'), os.path.join(d, 'mnt')
        os.mkdir(mnt)
        with open(sock, 'w') as f:
            f.write('precious')
        r = self.run_ttfs('--socket', sock, '-f', mnt)
        self.assertEqual(r.returncode, 1)
        self.assertIn('exists and is not a socket', r.stderr)
        with open(sock) as f:
            self.assertEqual(f.read(), 'precious')
        self.assertIsNone(mount_entry(mnt))

    def test_stale_socket_replaced(self):
        self.start_daemon()
        a = self.client('a')
        a.started(1)
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.assertTrue(os.path.lexists(self.sockpath))
        a.expect_closed()
        r = subprocess.run(['fusermount3', '-uz', self.mnt],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.stopped = True
        # a new ttfs on the same socket and mount point
        self.logf.write('--- second daemon ---\n')
        self.logf.flush()
        self.proc = subprocess.Popen(
            WRAP + [tt.TTFS, '--socket', self.sockpath, '-f', self.mnt],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)
        self.stopped = False
        self.assertTrue(wait_for(lambda: self.proc.poll() is not None or
                                 os.path.ismount(self.mnt),
                                 timeout=10 * SLOW))
        self.assert_alive()
        b = self.client('b')
        b.started(2)
        b.cycle(1 * S)
        b.expect_run(1 * S)
        self.assertEqual(self.read('clock'), '%d\n' % S)
        self.assertEqual(self.numbers(), [1])


class LoggingTest(FaultTest):
    def test_foreground_log_lines(self):
        self.start_daemon()
        me = os.getpid()
        a = self.client('a')
        a.started(42)
        b = self.client('b')                 # connects, leaves bare
        c = self.client('c')
        c.start(43)                          # held while a runs
        self.assertTrue(wait_for(lambda: self.number_of_id(43)))
        b.close()
        a.send_raw(pack(99, 1))             # a protocol error: dropped
        a.expect_closed()
        c.expect_start_ack()
        c.close()
        self.assertTrue(wait_for(lambda: self.numbers() == []))
        log = self.log_head()
        want = [
            r'^ttfs: client 1 connected \(pid %d\)$' % me,
            r'^ttfs: client 1 started \(id 42, pid %d\)$' % me,
            r'^ttfs: client 2 connected \(pid %d\)$' % me,
            r'^ttfs: client 3 connected \(pid %d\)$' % me,
            r'^ttfs: client 3 started \(id 43, pid %d\)$' % me,
            r'^ttfs: client 2 \(id none, pid %d\) left$' % me,
            r'^ttfs: client 1 \(id 42, pid %d\) dropped: unknown op$' % me,
            r'^ttfs: client 3 \(id 43, pid %d\) left$' % me,
        ]
        for w in want:
            self.assertEqual(len(re.findall(w, log, re.M)), 1,
                             '%s not once in:\n%s' % (w, log))
        self.assertEqual(len(re.findall(r'^ttfs: client \d+ ', log, re.M)),
                         len(want), log)

    def test_background_is_quiet(self):
        d = tempfile.mkdtemp(prefix='ttfs-faults-')
        self.addCleanup(shutil.rmtree, d, True)
        sock, mnt = os.path.join(d, 'sock'), os.path.join(d, 'mnt')
        os.mkdir(mnt)
        self.addCleanup(unmount, mnt)
        r = subprocess.run([tt.TTFS, '--socket', sock, mnt],
                           capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout + r.stderr, '')
        c = Client(sock, 'bg')
        c.started(1)
        c.close()
        unmount(mnt)
        self.assertTrue(wait_for(lambda: not os.path.lexists(sock),
                                 timeout=5))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == '--victim':
        victim_main(sys.argv[2], sys.argv[3])
        return
    tt.main('fault', note=WRAP and 'daemon wrapped in: %s' % ' '.join(WRAP))


if __name__ == '__main__':
    main()
