#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_tree.py: the ttfs file tree, through a real mount.

    python3 tests/test_tree.py BUILD_DIR [unittest args]

Each test mounts its own ttfs (--paused, in the foreground so that the test
owns the process) on a fresh temporary directory, and unmounts it even when
the test fails.  Exits 77 (skipped) when /dev/fuse is missing.
"""

import errno
import functools
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttfs_test as tt  # noqa: E402
from ttfs_test import START, REQUEST, WAIT, pack  # noqa: E402

# Tree reads answer at once: a shorter default wait than the protocol's.
wait_for = functools.partial(tt.wait_for, timeout=2.0, step=0.02)

TOP = ['clients', 'clock', 'pace', 'socket', 'state', 'stats',
       'timeline.json', 'tod', 'trace', 'until']
CLIENT_FILES = ['counters', 'disconnect', 'freeze', 'id', 'name',
                'next_request', 'pid', 'state']
# Read-only files of clients/N, and the writable ones with their modes.
CLIENT_MODES = {'counters': 0o444, 'id': 0o444, 'next_request': 0o444,
                'pid': 0o444, 'state': 0o444, 'freeze': 0o644,
                'disconnect': 0o200, 'name': 0o644}

# A child that writes one value and says how it went, so that a write the
# daemon parks blocks the child and not the test.  SIGUSR1 interrupts the
# write (the handler raises, so Python does not retry it).
WRITER = tt.INTERRUPTIBLE + r'''
fd = os.open(sys.argv[1], os.O_WRONLY)
print("open", flush=True)
try:
    n = os.write(fd, sys.argv[2].encode())
    print("ok", n, flush=True)
except Interrupted:
    print("interrupted", flush=True)
except OSError as e:
    print("errno", e.errno, flush=True)
'''


def getdents(fd, size):
    """One getdents64 call on fd with a size-byte buffer: [(name, d_off)]."""
    import ctypes
    nr = {'x86_64': 217, 'aarch64': 61}[os.uname().machine]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    buf = ctypes.create_string_buffer(size)
    n = libc.syscall(nr, fd, buf, ctypes.c_size_t(size))
    if n < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    out, pos, raw = [], 0, buf.raw[:n]
    while pos < n:
        off = int.from_bytes(raw[pos + 8:pos + 16], 'little', signed=True)
        reclen = int.from_bytes(raw[pos + 16:pos + 18], 'little')
        name = raw[pos + 19:pos + reclen].split(b'\0', 1)[0].decode()
        out.append((name, off))
        pos += reclen
    return out


class TreeTest(tt.TtfsTest):
    """The ttfs_test fixture, paused; the daemon's exit is not checked."""

    PREFIX = 'ttfs-tree-'
    CHECK_EXIT = False

    def setUp(self):
        self.start_daemon('--paused')

    # --- helpers ---

    def connect(self, start_id=None):
        """A fake client; with start_id, it sends START(start_id)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.connect(self.sockpath)
        if start_id is not None:
            s.sendall(pack(START, 1, start_id))
        return s

    def writer(self, name, text):
        """A child process writing text to name; returns it once open."""
        p = tt.child(self, WRITER, self.path(name), text)
        self.assertEqual(p.stdout.readline(), 'open\n')
        return p

    def finish(self, p, timeout=2.0):
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail('the write did not return')
        return out

    # --- top files ---

    def test_top_files_end_with_newline(self):
        for name in ['clock', 'state', 'socket', 'tod']:
            text = self.read(name)
            self.assertTrue(text.endswith('\n'), name)
            self.assertEqual(text.count('\n'), 1, name)
            self.assertGreater(len(text), 1, name)
        self.assertEqual(self.read('socket'), self.sockpath + '\n')
        self.assertEqual(self.read('clock'), '0\n')

    def test_root_listing(self):
        self.assertEqual(sorted(os.listdir(self.mnt)), TOP)
        out = subprocess.run(['ls', self.mnt], capture_output=True,
                             text=True, check=True).stdout
        self.assertEqual(out.split(), TOP)

    def test_unknown_names(self):
        for p in [('nope',), ('clients', '1'), ('clients', 'abc'),
                  ('clients', '01'), ('clients', '0'),
                  ('clock', 'x')]:
            with self.assertRaises((FileNotFoundError, NotADirectoryError),
                                   msg=str(p)):
                os.stat(self.path(*p))
        with self.assertRaises(FileNotFoundError):
            open(self.path('nope'))

    def test_modes(self):
        for name, mode in [('clock', 0o644), ('state', 0o644),
                           ('tod', 0o644), ('socket', 0o444)]:
            st = os.stat(self.path(name))
            self.assertEqual(st.st_mode, 0o100000 | mode, name)
            self.assertEqual(st.st_uid, os.getuid())
        st = os.stat(self.path('clients'))
        self.assertEqual(st.st_mode, 0o040000 | 0o555)

    def test_clock_advance_no_clients(self):
        self.assertEqual(self.write('clock', '+5s\n'), 4)
        self.assertEqual(self.read('clock'), '5000000000\n')
        self.assertEqual(self.read('state'), 'paused\n')

    def test_clock_behind_is_einval(self):
        self.write('clock', '+5s\n')
        self.assert_errno(errno.EINVAL, self.write, 'clock', '1.5s')
        self.assertEqual(self.read('clock'), '5000000000\n')
        # The clock itself is not behind: it is a stop right here.
        self.assertEqual(self.write('clock', '5s'), 2)
        self.assertEqual(self.read('clock'), '5000000000\n')

    def test_clock_bad_text(self):
        for text in ['garbage', '\n', '+', '1x', '5s\n\n']:
            self.assert_errno(errno.EINVAL, self.write, 'clock', text)
        self.assertEqual(self.read('clock'), '0\n')

    def test_write_too_big(self):
        with self.assertRaises(OSError):
            self.write('clock', '1' * 5000)
        self.assertEqual(self.read('clock'), '0\n')

    def test_socket_is_read_only(self):
        with self.assertRaises(PermissionError):
            with open(self.path('socket'), 'w') as f:
                f.write('x\n')
        with self.assertRaises(PermissionError):
            os.truncate(self.path('socket'), 0)
        if os.getuid() != 0:  # root passes access(2) whatever the mode
            self.assertFalse(os.access(self.path('socket'), os.W_OK))
        self.assertTrue(os.access(self.path('clock'), os.W_OK))
        self.assertEqual(self.read('socket'), self.sockpath + '\n')

    def test_shell_redirect(self):
        subprocess.run(['sh', '-c', 'echo +1ms > clock'], cwd=self.mnt,
                       check=True)
        self.assertEqual(self.read('clock'), '1000000\n')
        # Plain truncate (what O_TRUNC is without atomic_o_trunc) works.
        os.truncate(self.path('clock'), 0)
        self.assertEqual(self.read('clock'), '1000000\n')

    def test_chmod_refused(self):
        with self.assertRaises(PermissionError):
            os.chmod(self.path('clock'), 0o600)

    def test_create_refused(self):
        with self.assertRaises(PermissionError):
            open(self.path('new'), 'w')
        with self.assertRaises(PermissionError):
            os.mkdir(self.path('dir'))
        with self.assertRaises(PermissionError):
            os.unlink(self.path('clock'))
        self.assertEqual(sorted(os.listdir(self.mnt)), TOP)

    def test_state(self):
        self.assertEqual(self.read('state'), 'paused\n')
        self.assertEqual(self.write('state', 'run'), 3)
        self.assertEqual(self.read('state'), 'running\n')
        self.assertEqual(self.write('state', 'pause\n'), 6)
        self.assertEqual(self.read('state'), 'paused\n')
        for text in ['bogus', 'run\n\n', 'Run', ' run', 'pause ', '\n']:
            self.assert_errno(errno.EINVAL, self.write, 'state', text)
        self.assertEqual(self.read('state'), 'paused\n')

    def test_tod(self):
        self.write('tod', '1700000000s\n')
        self.assertEqual(self.read('tod'), '1700000000000000000\n')
        self.write('tod', '+1s')
        self.assertEqual(self.read('tod'), '1700000001000000000\n')
        self.write('tod', '42')
        self.assertEqual(self.read('tod'), '42\n')
        self.assert_errno(errno.EINVAL, self.write, 'tod', 'soon')
        self.assertEqual(self.read('tod'), '42\n')

    def test_sizes_and_cat(self):
        for name in ['clock', 'state', 'socket', 'tod']:
            text = self.read(name)
            size = os.stat(self.path(name)).st_size
            self.assertIn(size, (0, len(text)), name)
            out = subprocess.run(['cat', self.path(name)],
                                 capture_output=True, text=True,
                                 check=True).stdout
            self.assertEqual(out, text, name)

    def test_sizes_zero_and_fixed(self):
        # st_size 0 (as /proc) keeps every top-level attribute fixed, so
        # the kernel may cache them; content is read to EOF.
        self.write('clock', '+3s')
        for name in TOP:
            st = os.stat(self.path(name))
            self.assertEqual(st.st_size, 0, name)
        self.assertEqual(os.stat(self.path('clients')).st_nlink, 1)
        self.assertEqual(os.stat(self.path('until')).st_nlink, 2)
        tail = subprocess.run(['tail', '-n', '1', self.path('clock')],
                              capture_output=True, text=True,
                              check=True).stdout
        self.assertEqual(tail, '3000000000\n')
        s = self.connect()
        self.assertTrue(wait_for(
            lambda: os.path.isdir(self.path('clients', '1'))))
        s.close()
        # a client's nodes are not cached: gone at once when it leaves
        self.assertTrue(wait_for(
            lambda: not os.path.exists(self.path('clients', '1'))))

    def fs_requests(self):
        for line in self.read('stats').splitlines():
            key, value = line.split()
            if key == 'fs.requests':
                return int(value)
        self.fail('no fs.requests in stats')

    def test_watching_is_cheap(self):
        """cat clock and ls clients/ cost the loop 5 FUSE requests each
        (8 and 7 before the fixed nodes were cached)."""
        cat = ['cat', self.path('clock')]
        ls = ['ls', self.path('clients')]
        for cmd in (cat, ls):
            subprocess.run(cmd, check=True, capture_output=True)
            # reading stats costs something too: measure it alone
            a = self.fs_requests()
            b = self.fs_requests()
            per_stats = b - a
            for _ in range(10):
                subprocess.run(cmd, check=True, capture_output=True)
            c = self.fs_requests()
            per_cmd = (c - b - per_stats) / 10
            self.assertGreater(per_cmd, 0, cmd)
            self.assertLessEqual(per_cmd, 5, cmd)

    def test_odd_offsets(self):
        fd = os.open(self.path('socket'), os.O_RDONLY)
        try:
            text = (self.sockpath + '\n').encode()
            self.assertEqual(os.pread(fd, 2, 3), text[3:5])
            self.assertEqual(os.pread(fd, 100, len(text) - 1), b'\n')
            self.assertEqual(os.pread(fd, 100, len(text)), b'')
            self.assertEqual(os.pread(fd, 100, len(text) + 1000), b'')
            os.lseek(fd, 1, os.SEEK_SET)
            self.assertEqual(os.read(fd, 3), text[1:4])
        finally:
            os.close(fd)

    def test_reread_at_zero_is_fresh(self):
        fd = os.open(self.path('clock'), os.O_RDONLY)
        try:
            self.assertEqual(os.pread(fd, 100, 0), b'0\n')
            self.write('clock', '+2s')
            self.assertEqual(os.pread(fd, 100, 0), b'2000000000\n')
        finally:
            os.close(fd)

    def test_clients_empty(self):
        self.assertEqual(os.listdir(self.path('clients')), [])

    def test_find(self):
        self.connect(42)
        self.assertTrue(wait_for(
            lambda: os.path.exists(self.path('clients', '1', 'id'))))
        out = subprocess.run(['find', self.mnt], capture_output=True,
                             text=True, check=True).stdout
        want = {self.mnt} | {self.path(n) for n in TOP}
        want |= {self.path('clients', '1')}
        # until/ lists nothing: its names are any time you ask for
        want |= {self.path('clients', '1', n) for n in CLIENT_FILES}
        self.assertEqual(set(out.split('\n')) - {''}, want)

    # --- clients ---

    def test_client(self):
        s = self.connect()
        self.assertTrue(wait_for(
            lambda: os.path.isdir(self.path('clients', '1'))))
        self.assertEqual(os.listdir(self.path('clients')), ['1'])
        self.assertEqual(sorted(os.listdir(self.path('clients', '1'))),
                         CLIENT_FILES)
        self.assertEqual(self.read('clients', '1', 'id'), 'none\n')
        self.assertEqual(self.read('clients', '1', 'state'), 'starting\n')

        s.sendall(pack(START, 1, 42))
        self.assertTrue(wait_for(
            lambda: self.read('clients', '1', 'id') == '42\n'))
        # --paused: START's ACK is held.
        self.assertEqual(self.read('clients', '1', 'state'), 'starting\n')
        self.assertEqual(self.read('clients', '1', 'next_request'), 'none\n')
        self.assertEqual(self.read('clients', '1', 'pid'),
                         '%d\n' % os.getpid())

        counters = self.read('clients', '1', 'counters')
        self.assertTrue(counters.endswith('\n'))
        lines = counters.splitlines()
        # mode, slot and slot requests first, then the per-op counts
        self.assertEqual(lines[:3], ['mode messages', 'slot 0',
                                     'shm.request 0'])
        lines = lines[3:]
        for line in lines:
            self.assertRegex(line, r'^(rx|tx)\.[a-z_]+ [0-9]+$')
        self.assertIn('rx.start 1', lines)
        rx = [l for l in lines if l.startswith('rx.')]
        tx = [l for l in lines if l.startswith('tx.')]
        self.assertEqual(len(rx), len(tx))
        self.assertEqual(lines, rx + tx)  # received first, then sent
        for name in CLIENT_FILES:
            st = os.stat(self.path('clients', '1', name))
            self.assertEqual(st.st_mode, 0o100000 | CLIENT_MODES[name],
                             name)
        self.assertEqual(os.stat(self.path('clients', '1')).st_mode,
                         0o040555)
        with self.assertRaises(PermissionError):
            open(self.path('clients', '1', 'id'), 'w')

        # An open file keeps what it read; the client's entries go.
        fd = os.open(self.path('clients', '1', 'id'), os.O_RDONLY)
        self.addCleanup(os.close, fd)
        old = os.stat(self.path('clients', '1', 'id'))
        s.close()
        self.assertTrue(wait_for(
            lambda: not os.path.exists(self.path('clients', '1'))))
        self.assertEqual(os.listdir(self.path('clients')), [])
        self.assertEqual(os.pread(fd, 100, 0), b'42\n')
        self.assertEqual(os.pread(fd, 100, 1), b'2\n')
        with self.assertRaises(FileNotFoundError):
            os.stat(self.path('clients', '1', 'id'))
        with self.assertRaises(FileNotFoundError):
            os.stat(self.path('clients', '1'))
        # Its inode is not handed to anyone else.
        self.assertNotIn(old.st_ino, [os.stat(self.path(n)).st_ino
                                      for n in TOP])

    def test_client_numbers_not_reused(self):
        a = self.connect(1)
        self.assertTrue(wait_for(
            lambda: os.path.isdir(self.path('clients', '1'))))
        a.close()
        self.assertTrue(wait_for(
            lambda: os.listdir(self.path('clients')) == []))
        self.connect(2)
        self.assertTrue(wait_for(
            lambda: os.listdir(self.path('clients')) == ['2']))
        self.assertFalse(os.path.exists(self.path('clients', '1')))

    def test_clients_listed_live(self):
        """clients/ is listed one reply at a time from the live list:
        each client once, in order, across many replies, and one that
        leaves mid-listing takes no one else's entry with it."""
        n = 400  # a page holds about 128 entries: several replies
        socks = [self.connect() for _ in range(n)]
        self.assertTrue(wait_for(
            lambda: len(os.listdir(self.path('clients'))) == n))
        self.assertEqual(sorted(int(c) for c in
                                os.listdir(self.path('clients'))),
                         list(range(1, n + 1)))

        fd = os.open(self.path('clients'), os.O_RDONLY | os.O_DIRECTORY)
        self.addCleanup(os.close, fd)
        first = getdents(fd, 1024)  # a few entries, then stop
        self.assertEqual([e[0] for e in first[:2]], ['.', '..'])
        got = [int(e[0]) for e in first[2:]]
        self.assertTrue(got, first)
        # The last client listed leaves, and two just after it.
        last = got[-1]
        for number in (last, last + 1, last + 2):
            socks[number - 1].close()
        self.assertTrue(wait_for(lambda: not os.path.exists(
            self.path('clients', str(last + 2)))))
        while True:
            more = getdents(fd, 1024)
            if not more:
                break
            got += [int(e[0]) for e in more]  # no second '.' or '..'
        self.assertEqual(got, sorted(set(got)))  # none twice, in order
        stayed = set(range(1, n + 1)) - {last, last + 1, last + 2}
        self.assertEqual(set(got) - {last}, stayed)

        # rewinddir: the clients of now.
        os.lseek(fd, 0, os.SEEK_SET)
        again = []
        while True:
            more = getdents(fd, 65536)
            if not more:
                break
            again += [e[0] for e in more]
        self.assertEqual(again[:2], ['.', '..'])
        self.assertEqual(sorted(int(c) for c in again[2:]), sorted(stayed))

    # --- parked writes ---

    def held_client(self):
        """A client whose START is held, then granted by an advance: it
        runs and never says WAIT on its own, so the clock stands still."""
        s = self.connect(7)
        self.assertTrue(wait_for(
            lambda: os.path.exists(self.path('clients', '1', 'id')) and
            self.read('clients', '1', 'id') == '7\n'))
        return s

    def test_clock_write_waits_for_client(self):
        s = self.held_client()
        p = self.writer('clock', '+1s')
        # The client runs now (START's ACK went out); the clock stands.
        self.assertTrue(wait_for(
            lambda: self.read('clients', '1', 'state') == 'running\n'))
        time.sleep(0.2)
        self.assertIsNone(p.poll(), 'the write returned early')
        self.assertEqual(self.read('clock'), '0\n')
        # Asks for 2 s and waits: nothing before the stop point at 1 s.
        s.sendall(pack(REQUEST, 2, 2000000000) + pack(WAIT, 3, 0))
        self.assertEqual(self.finish(p), 'ok 3\n')
        self.assertEqual(self.read('clock'), '1000000000\n')
        self.assertEqual(self.read('state'), 'paused\n')

    def test_sigchld_does_not_call_off_an_advance(self):
        # A shell waiting in `echo +1s > clock` catches SIGCHLD when a
        # background job ends; the kernel turns that into a FUSE
        # interrupt, which must not cancel the advance (only a "stop"
        # signal such as SIGINT does).
        s = self.held_client()
        p = subprocess.Popen(
            ['bash', '-c', 'sleep 0.1 & echo +1s > clock; echo rc=$?'],
            cwd=self.mnt, stdout=subprocess.PIPE, text=True)
        self.addCleanup(p.kill)
        self.assertTrue(wait_for(
            lambda: self.read('clients', '1', 'state') == 'running\n'))
        time.sleep(0.6)  # the background sleep has ended by now
        self.assertIsNone(p.poll(), 'the advance ended early')
        self.assertEqual(self.read('state'), 'running\n')
        s.sendall(pack(REQUEST, 2, 2000000000) + pack(WAIT, 3, 0))
        out, _ = p.communicate(timeout=3)
        self.assertEqual(out, 'rc=0\n')
        self.assertEqual(self.read('clock'), '1000000000\n')

    def test_clock_write_interrupted(self):
        self.held_client()
        p = self.writer('clock', '+1s')
        self.assertTrue(wait_for(
            lambda: self.read('clients', '1', 'state') == 'running\n'))
        time.sleep(0.2)
        self.assertIsNone(p.poll(), 'the write returned early')
        p.send_signal(signal.SIGUSR1)
        self.assertEqual(self.finish(p), 'interrupted\n')
        # Giving up on the advance pauses the calendar.
        self.assertEqual(self.read('state'), 'paused\n')
        self.assertEqual(self.read('clock'), '0\n')
        # The daemon goes on answering.
        self.assertEqual(sorted(os.listdir(self.mnt)), TOP)

    def test_pause_calls_off_a_blocked_advance(self):
        s = self.held_client()
        p = self.writer('clock', '+1s')
        self.assertTrue(wait_for(
            lambda: self.read('clients', '1', 'state') == 'running\n'))
        # Another shell pauses while the advance is under way: the
        # pause returns at the runner's WAIT, and the advance is called
        # off with ECANCELED, the clock short of its target.
        q = self.writer('state', 'pause')
        self.assertTrue(wait_for(
            lambda: self.read('state') == 'paused\n'))
        s.sendall(pack(REQUEST, 2, 500000000) + pack(WAIT, 3, 0))
        self.assertEqual(self.finish(q), 'ok 5\n')
        self.assertEqual(self.finish(p), 'errno %d\n' % errno.ECANCELED)
        self.assertEqual(self.read('clock'), '0\n')
        self.assertEqual(self.read('state'), 'paused\n')

    def test_run_lets_a_blocked_advance_go_past(self):
        s = self.held_client()
        p = self.writer('clock', '+1s')
        self.assertTrue(wait_for(
            lambda: self.read('clients', '1', 'state') == 'running\n'))
        self.write('state', 'run')
        # The write returns once the clock passes its target.
        s.sendall(pack(REQUEST, 2, 3000000000) + pack(WAIT, 3, 0))
        self.assertEqual(self.finish(p), 'ok 3\n')
        self.assertEqual(self.read('clock'), '3000000000\n')
        self.assertEqual(self.read('state'), 'running\n')

    def test_advance_calls_off_a_blocked_pause(self):
        # A second writer to state would wait for the first (the kernel
        # holds the file's lock during a write); an advance through clock
        # can call the pause off.
        s = self.held_client()
        self.write('state', 'run')
        self.assertTrue(wait_for(
            lambda: self.read('clients', '1', 'state') == 'running\n'))
        p = self.writer('state', 'pause')
        self.assertTrue(wait_for(
            lambda: self.read('state') == 'paused\n'))
        q = self.writer('clock', '+1s')
        self.assertEqual(self.finish(p), 'errno %d\n' % errno.ECANCELED)
        s.sendall(pack(REQUEST, 2, 2000000000) + pack(WAIT, 3, 0))
        self.assertEqual(self.finish(q), 'ok 3\n')
        self.assertEqual(self.read('clock'), '1000000000\n')

    def test_relative_paths_in_background(self):
        # The daemon leaves its cwd for /: relative socket and mount
        # point must still be the ones removed and unmounted at exit.
        d = self.dir
        os.mkdir(os.path.join(d, 'rel'))
        r = subprocess.run([tt.TTFS, '--socket', 'rel.sock', 'rel'],
                           cwd=d, capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        mnt = os.path.join(d, 'rel')
        self.addCleanup(tt.unmount, mnt)
        self.assertTrue(tt.mounted(mnt))
        with open(os.path.join(mnt, 'socket')) as f:
            self.assertEqual(f.read(), os.path.join(d, 'rel.sock') + '\n')
        pid = int(subprocess.run(['pgrep', '-f', '^%s --socket rel.sock'
                                  % tt.TTFS], capture_output=True,
                                 text=True).stdout.split()[0])
        os.kill(pid, signal.SIGTERM)
        self.assertTrue(wait_for(lambda: not tt.mounted(mnt)),
                        'mount left behind')
        self.assertTrue(wait_for(lambda: not os.path.exists(
            os.path.join(d, 'rel.sock'))), 'socket left behind')

    def test_pause_waits_for_runner(self):
        s = self.held_client()
        self.write('state', 'run')
        self.assertTrue(wait_for(
            lambda: self.read('clients', '1', 'state') == 'running\n'))
        p = self.writer('state', 'pause')
        time.sleep(0.2)
        self.assertIsNone(p.poll(), 'pause returned with a runner')
        self.assertEqual(self.read('state'), 'paused\n')
        s.sendall(pack(REQUEST, 2, 1000) + pack(WAIT, 3, 0))
        self.assertEqual(self.finish(p), 'ok 5\n')
        self.assertEqual(self.read('clients', '1', 'state'), 'waiting\n')
        self.assertEqual(self.read('clients', '1', 'next_request'),
                         '1000\n')

    def test_pause_interrupted(self):
        self.held_client()
        self.write('state', 'run')
        self.assertTrue(wait_for(
            lambda: self.read('clients', '1', 'state') == 'running\n'))
        p = self.writer('state', 'pause\n')
        time.sleep(0.2)
        self.assertIsNone(p.poll(), 'pause returned with a runner')
        p.send_signal(signal.SIGUSR1)
        self.assertEqual(self.finish(p), 'interrupted\n')
        self.assertEqual(self.read('state'), 'paused\n')


def main():
    tt.main()


if __name__ == '__main__':
    main()
