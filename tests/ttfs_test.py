# SPDX-License-Identifier: MIT
"""
ttfs_test.py: the harness that the daemon's Python tests share.

test_tree.py, test_protocol.py, test_watch.py and test_faults.py import it
from their own directory: the runner main() (BUILD_DIR from argv, exit 77
without /dev/fuse, the unittest run and its summary line), the fixture
TtfsTest (a ttfs per test, in the foreground on a fresh temporary mount
point and socket, unmounted even when the test fails), fake UML clients
(Client; ShmClient and ShmPage for the shared-memory page), wait_for,
message packing, and children that block on the mount in place of the
test (child(), INTERRUPTIBLE).  Standard library only.
"""

import array
import collections
import fcntl
import itertools
import mmap
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

TTFS = None  # the daemon's path, set from argv by main()

# um_timetravel ops
ACK, START, REQUEST, WAIT, GET, UPDATE, RUN, FREE_UNTIL, GET_TOD, BROADCAST = \
    range(10)
OP_NAMES = ['ACK', 'START', 'REQUEST', 'WAIT', 'GET', 'UPDATE', 'RUN',
            'FREE_UNTIL', 'GET_TOD', 'BROADCAST']

US = 1000
MS = 1000 * US
S = 1000 * MS
QUANTUM = 10 * MS  # the daemon's default
TIMEOUT = 5.0      # how long we wait for a message that must come
QUIET = 0.25       # how long we watch for a message that must not come

MSG = struct.Struct('<IIQ')


def op_name(op):
    return OP_NAMES[op] if op < len(OP_NAMES) else 'op%d' % op


def pack(op, seq, t=0):
    return MSG.pack(op, seq, t)


def mounted(path):
    """Is path a mount point, even a dead FUSE one (ENOTCONN)?"""
    path = os.path.realpath(path)
    with open('/proc/self/mounts') as f:
        for line in f:
            mp = line.split()[1].replace('\\040', ' ')
            if mp == path:
                return True
    return False


def unmount(path):
    """fusermount3 -u, or -uz if that fails; quiet if not mounted."""
    if mounted(path):
        if subprocess.run(['fusermount3', '-u', path],
                          capture_output=True).returncode != 0:
            subprocess.run(['fusermount3', '-u', '-z', path],
                           capture_output=True)


def wait_for(pred, timeout=3.0, step=0.01):
    """Poll pred until it is true or timeout seconds have passed."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


Msg = collections.namedtuple('Msg', 'op seq time fds chunk')


def fmt(m):
    return '%s(seq=%d, time=%d%s)' % (op_name(m.op), m.seq, m.time,
                                      ', %d fds' % len(m.fds) if m.fds else '')


class Client:
    """A fake UML client: 16-byte messages over the calendar's socket.

    send() numbers its own messages (from a per-client base, so that ACKs
    are checked against the seq we really sent); recv() splits the byte
    stream into messages, keeps descriptors passed with SCM_RIGHTS, and
    checks that the calendar numbers its own messages 1, 2, 3, ...
    """

    _bases = itertools.count(1000, 1000)

    def __init__(self, path, name):
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.seq = next(Client._bases)
        self.buf = b''
        self.queue = collections.deque()
        self.eof = False
        self.chunks = 0
        self.cal_seq = 0    # seq of the calendar's last message to us
        self.all_fds = []
        self.log = []       # everything received, for error messages

    # --- sending ---

    def fileno(self):
        return self.sock.fileno()

    def next_seq(self):
        self.seq = (self.seq + 1) & 0xffffffff
        return self.seq

    def send(self, op, t=0):
        """Send one message; returns its seq."""
        seq = self.next_seq()
        self.sock.sendall(pack(op, seq, t))
        return seq

    def send_many(self, msgs):
        """Several messages, (op, t) or ('ack', msg), in one send; returns
        the seqs of the non-ACK ones."""
        data, seqs = b'', []
        for op, t in msgs:
            if op == 'ack':
                data += pack(ACK, t.seq, 0)
            else:
                seq = self.next_seq()
                seqs.append(seq)
                data += pack(op, seq, t)
        self.sock.sendall(data)
        return seqs

    def send_raw(self, data):
        self.sock.sendall(data)

    def ack(self, *msgs):
        self.sock.sendall(b''.join(pack(ACK, m.seq, 0) for m in msgs))

    # --- receiving ---

    def _read(self, timeout):
        """One recvmsg if something comes within timeout; True if so."""
        if self.eof:
            return False
        r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        if not r:
            return False
        try:
            data, anc, _, _ = self.sock.recvmsg(
                4096, socket.CMSG_SPACE(16 * 4))
        except ConnectionResetError:
            data, anc = b'', []
        fds = []
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                a = array.array('i')
                a.frombytes(cdata[:len(cdata) - len(cdata) % a.itemsize])
                fds.extend(a)
        self.all_fds.extend(fds)
        if not data:
            self.eof = True
            return True
        self.chunks += 1
        self.buf += data
        while len(self.buf) >= MSG.size:
            op, seq, t = MSG.unpack_from(self.buf)
            self.buf = self.buf[MSG.size:]
            m = Msg(op, seq, t, tuple(fds), self.chunks)
            fds = []
            self.log.append(m)
            if op != ACK:
                if seq != self.cal_seq + 1:
                    raise AssertionError(
                        '%s: calendar message %s: seq should be %d (the '
                        'calendar numbers its messages 1, 2, 3...)'
                        % (self.name, fmt(m), self.cal_seq + 1))
                self.cal_seq = seq
            self.queue.append(m)
        return True

    def pending(self):
        """True if a message (or EOF) is waiting, without blocking."""
        while not self.queue and not self.eof and self._read(0):
            pass
        return bool(self.queue) or self.eof

    def recv(self, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while not self.queue:
            if self.eof:
                raise AssertionError('%s: ttfs closed the connection '
                                     '(received: %s)' % (self.name,
                                                         self.history()))
            left = end - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError('%s: nothing received within %gs '
                                     '(received so far: %s)'
                                     % (self.name, timeout, self.history()))
        return self.queue.popleft()

    def history(self):
        return ', '.join(fmt(m) for m in self.log[-8:]) or 'nothing'

    def expect(self, op, seq=None, time=None, timeout=TIMEOUT):
        m = self.recv(timeout)
        want = '%s(seq=%s, time=%s)' % (op_name(op),
                                        '*' if seq is None else seq,
                                        '*' if time is None else time)
        if (m.op != op or (seq is not None and m.seq != seq) or
                (time is not None and m.time != time)):
            raise AssertionError('%s: expected %s, got %s'
                                 % (self.name, want, fmt(m)))
        return m

    def expect_ack(self, seq, time=0, timeout=TIMEOUT):
        return self.expect(ACK, seq, time, timeout)

    def expect_nothing(self, wait=QUIET):
        if self.queue:
            raise AssertionError('%s: unexpected %s'
                                 % (self.name, fmt(self.queue[0])))
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            if left <= 0 or not self._read(left):
                break
            if self.queue:
                raise AssertionError('%s: unexpected %s'
                                     % (self.name, fmt(self.queue[0])))
            if self.eof:
                raise AssertionError('%s: ttfs closed the connection '
                                     'unexpectedly' % self.name)

    def expect_closed(self, timeout=TIMEOUT):
        """ttfs must drop us: EOF, with nothing else before it."""
        end = time.monotonic() + timeout
        while not self.eof:
            if self.queue:
                raise AssertionError('%s: expected to be dropped, got %s'
                                     % (self.name, fmt(self.queue[0])))
            left = end - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError('%s: not dropped within %gs'
                                     % (self.name, timeout))
        if self.queue:
            raise AssertionError('%s: expected to be dropped, got %s'
                                 % (self.name, fmt(self.queue[0])))

    # --- protocol steps ---

    def start(self, ident):
        """Send START(ident); returns its seq (the ACK may be held)."""
        self.start_seq = self.send(START, ident)
        return self.start_seq

    def expect_start_ack(self, timeout=TIMEOUT):
        # Its time carries our shared-memory slot in the low 16 bits.
        m = self.expect(ACK, self.start_seq, None, timeout)
        if m.time >> 16:
            raise AssertionError('%s: START\'s ACK time %#x has bits above '
                                 'the slot number' % (self.name, m.time))
        self.slot = m.time & 0xffff
        if len(m.fds) != 2:
            raise AssertionError('%s: START\'s ACK carried %d descriptors, '
                                 'not 2' % (self.name, len(m.fds)))
        return m

    def started(self, ident):
        """START, and its ACK must come now."""
        self.start(ident)
        return self.expect_start_ack()

    def request(self, t):
        self.expect_ack(self.send(REQUEST, t))

    def request_under(self, runner, t, fu=None):
        """REQUEST(t) while `runner` may run freely past t: the runner is
        told FREE_UNTIL(fu, its own time; default t) first, and our ACK
        waits for the runner's ACK of that."""
        seq = self.send(REQUEST, t)
        f = runner.expect(FREE_UNTIL, time=t if fu is None else fu)
        self.expect_nothing(0.05)
        runner.ack(f)
        self.expect_ack(seq)

    def wait(self):
        self.expect_ack(self.send(WAIT))

    def get(self):
        return self.expect(ACK, self.send(GET)).time

    def update(self, t):
        self.expect_ack(self.send(UPDATE, t))

    def cycle(self, t):
        """REQUEST(t), WAIT."""
        self.request(t)
        self.wait()

    def expect_run(self, t, fu=None, timeout=TIMEOUT, ack=True):
        """FREE_UNTIL then RUN(t), both from one write; ACKs both.
        Returns FREE_UNTIL's time."""
        f = self.expect(FREE_UNTIL, timeout=timeout)
        r = self.expect(RUN, f.seq + 1, t)
        if r.chunk != f.chunk:
            raise AssertionError('%s: FREE_UNTIL and RUN came in separate '
                                 'reads (not one write)' % self.name)
        if fu is not None and f.time != fu:
            raise AssertionError('%s: FREE_UNTIL %d, expected %d (RUN %d)'
                                 % (self.name, f.time, fu, t))
        if f.time < t:
            raise AssertionError('%s: FREE_UNTIL %d is before RUN %d'
                                 % (self.name, f.time, t))
        if ack:
            self.ack(f, r)
        return f.time

    def close(self):
        self.sock.close()
        for fd in self.all_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.all_fds = []


# --- the shared-memory scheduling page (Linux >= 6.11, version 2) ---

SHM_VERSION = 2
SHM_HDR_SIZE = 4096
SHM_SLOT_SIZE = 128
TIME_SHARE = 0x1        # slot capa
REQ_RUN = 0x1           # slot flags
TIME_MAX = 2**63 - 2    # the largest time ttfs sends (below S64_MAX)
# byte offsets: header, then each slot's fields
HDR_VERSION, HDR_LEN, HDR_FREE_UNTIL, HDR_CURRENT_TIME, HDR_RUNNING_ID, \
    HDR_MAX_CLIENTS = 0, 4, 8, 16, 24, 26
SLOT_CAPA, SLOT_FLAGS, SLOT_REQ_TIME, SLOT_NAME = 0, 4, 8, 16


class ShmPage:
    """A mapping of the page; every load and store is one aligned access
    (memoryview casts), so ttfs never sees one of ours half written."""

    def __init__(self, fd, length):
        self.mm = mmap.mmap(fd, length, mmap.MAP_SHARED,
                            mmap.PROT_READ | mmap.PROT_WRITE)
        self.len = length
        self.mv = memoryview(self.mm)
        self.v = {2: self.mv.cast('H'), 4: self.mv.cast('I'),
                  8: self.mv.cast('Q')}

    def load(self, off, size):
        return self.v[size][off // size]

    def store(self, off, size, value):
        self.v[size][off // size] = value & ((1 << (8 * size)) - 1)

    def close(self):
        if self.mm is None:
            return
        for v in self.v.values():
            v.release()
        self.mv.release()
        self.mm.close()
        self.mm = None

    # the header
    version = property(lambda s: s.load(HDR_VERSION, 4))
    length = property(lambda s: s.load(HDR_LEN, 4))
    free_until = property(lambda s: s.load(HDR_FREE_UNTIL, 8))
    current_time = property(lambda s: s.load(HDR_CURRENT_TIME, 8))
    running_id = property(lambda s: s.load(HDR_RUNNING_ID, 2))
    max_clients = property(lambda s: s.load(HDR_MAX_CLIENTS, 2))

    def slots(self):
        return (self.len - SHM_HDR_SIZE) // SHM_SLOT_SIZE

    def slot_off(self, slot, field=0):
        return SHM_HDR_SIZE + slot * SHM_SLOT_SIZE + field

    def capa(self, slot):
        return self.load(self.slot_off(slot, SLOT_CAPA), 4)

    def flags(self, slot):
        return self.load(self.slot_off(slot, SLOT_FLAGS), 4)

    def req_time(self, slot):
        return self.load(self.slot_off(slot, SLOT_REQ_TIME), 8)

    def name(self, slot):
        return self.load(self.slot_off(slot, SLOT_NAME), 8)

    def write(self, off, data):
        """Raw bytes (for scribbling)."""
        self.mm[off:off + len(data)] = data


def map_shm_page(fd):
    """Map the page like a kernel: the header first, then len bytes.
    Returns the ShmPage, or None when it cannot be mapped read-write or is
    not a version 2 page."""
    size = os.fstat(fd).st_size
    if size < SHM_HDR_SIZE:
        return None
    try:
        hdr = ShmPage(fd, SHM_HDR_SIZE)
    except OSError:
        return None     # e.g. a write-sealed memfd: the kernel declines
    try:
        version, length = hdr.version, hdr.length
    finally:
        hdr.close()
    if version != SHM_VERSION:
        return None
    if length < SHM_HDR_SIZE or length > size:
        raise AssertionError('page len %d, but the memfd has %d bytes'
                             % (length, size))
    return ShmPage(fd, length)


def usfstl_take_fds(fds):
    """What USFSTL's client library (src/schedctrl.c) does with START's
    descriptors: map the memfd read-write and shared and assert that
    worked, grow the mapping to the header's len, fdopen a dup of the log
    descriptor for writing and assert that too; only then read the
    version and keep the page if it is 2.  Returns the version 2 page's
    length, or None (it declined); raises AssertionError where the
    library aborts or would read through a failed mapping."""
    if len(fds) != 2:
        raise AssertionError('USFSTL: %d descriptors, it asserts 2'
                             % len(fds))
    try:
        hdr = mmap.mmap(fds[0], SHM_HDR_SIZE, mmap.MAP_SHARED,
                        mmap.PROT_READ | mmap.PROT_WRITE)
    except OSError as e:
        raise AssertionError('USFSTL: mmap of the memfd failed (%s): '
                             'schedctrl.c asserts ctrl->shm.mem != '
                             'MAP_FAILED' % e)
    version, length = struct.unpack_from('<II', hdr, 0)
    hdr.close()
    if length == 0 or length > os.fstat(fds[0]).st_size:
        raise AssertionError('USFSTL: mremap to len %d fails, and it reads '
                             'the version through MAP_FAILED' % length)
    mm = mmap.mmap(fds[0], length, mmap.MAP_SHARED,
                   mmap.PROT_READ | mmap.PROT_WRITE)
    mm.close()
    mode = fcntl.fcntl(fds[1], fcntl.F_GETFL) & os.O_ACCMODE
    if mode not in (os.O_WRONLY, os.O_RDWR):
        raise AssertionError('USFSTL: fdopen(dup(logfd), "w") fails on a '
                             'read-only log descriptor; it asserts')
    os.write(fds[1], b'usfstl: a debug line\n')
    return length if version == SHM_VERSION else None


class UsfstlClient(Client):
    """A fake client built on USFSTL's library: START's descriptors are
    taken its way (usfstl_take_fds).  Given the page it would use it; the
    tests here give it none and it keeps to messages, as Client does."""

    def expect_start_ack(self, timeout=TIMEOUT):
        m = super().expect_start_ack(timeout)
        self.page_len = usfstl_take_fds(m.fds)
        return m


class ShmClient(Client):
    """A fake Linux >= 6.11 client (arch/um/kernel/time.c): it maps the
    page from START's ACK and, if it is version 2 with room for its slot,
    takes current_time as its offset and sets TIME_SHARE in its slot
    before it sends anything else.  Then, as the kernel does: a request
    goes into the slot when the slot named by running_id has TIME_SHARE,
    else into a REQUEST message; WAIT gets no ACK; RUN comes alone and is
    not ACKed; the time is read from and written to current_time.

    Times in and out are the client's own, as in the kernel.  share=False:
    it never sets TIME_SHARE (as a 6.1 kernel).  Checks the kernel would
    panic or BUG on raise AssertionError.  In message mode (no page) it
    behaves as Client.
    """

    def __init__(self, path, name, share=True):
        super().__init__(path, name)
        self.share = share
        self.page = None
        self.offset = 0
        self.now = 0          # the kernel's time_travel_time

    @property
    def shm(self):
        return self.page is not None

    def expect_start_ack(self, timeout=TIMEOUT):
        m = super().expect_start_ack(timeout)
        self.start_ack = m
        if self.share:
            self.setup_shm(m.fds[0])
        return m

    def setup_shm(self, fd):
        """time_travel_setup_shm(); True if it took the page."""
        page = map_shm_page(fd)
        if page is None:
            return False
        if page.len < SHM_HDR_SIZE + SHM_SLOT_SIZE * (self.slot + 1):
            page.close()
            return False
        self.page = page
        self.offset = page.current_time
        self.page_store_slot(SLOT_CAPA, 4, page.capa(self.slot) | TIME_SHARE)
        return True

    def page_store_slot(self, field, size, value):
        self.page.store(self.page.slot_off(self.slot, field), size, value)

    # --- the page, as the kernel uses it ---

    def runner_shares(self):
        """Does the slot named by running_id have TIME_SHARE?"""
        rid = self.page.running_id
        if rid >= self.page.slots():
            raise AssertionError('%s: running_id %d beyond the page (%d '
                                 'slots)' % (self.name, rid,
                                             self.page.slots()))
        return bool(self.page.capa(rid) & TIME_SHARE)

    def slot_request(self, t):
        """Write a request (own time) into our slot, as the kernel does:
        REQ_RUN, req_time in calendar time, free_until lowered."""
        ct = t + self.offset
        self.page_store_slot(SLOT_FLAGS, 4,
                             self.page.flags(self.slot) | REQ_RUN)
        self.page_store_slot(SLOT_REQ_TIME, 8, ct)
        if ct < self.page.free_until:
            self.page.store(HDR_FREE_UNTIL, 8, ct)

    def request(self, t):
        """time_travel_ext_update_request(t): 'shm' if it went into the
        slot, 'msg' if it went as a REQUEST (ACKed)."""
        if self.shm and self.runner_shares():
            self.slot_request(t)
            return 'shm'
        super().request(t)
        return 'msg'

    def wait(self):
        """WAIT: ACKed in message mode only."""
        if self.shm:
            self.send(WAIT, 2**64 - 1)
        else:
            super().wait()

    def cycle(self, t):
        how = self.request(t)
        self.wait()
        return how

    def expect_run(self, t, fu=None, timeout=TIMEOUT, ack=True):
        """Shared memory: RUN(t) alone, not ACKed; running_id names us and
        current_time is t (calendar time) when it comes.  Clears REQ_RUN.
        Messages: Client.expect_run.  Returns the message (shm) or
        FREE_UNTIL's time."""
        if not self.shm:
            fu_t = super().expect_run(t, fu, timeout, ack)
            self.now = t
            return fu_t
        m = self.recv(timeout)
        if m.op != RUN:
            raise AssertionError('%s: expected RUN(time=%d) alone (shared '
                                 'memory: no FREE_UNTIL), got %s'
                                 % (self.name, t, fmt(m)))
        if m.time < self.now:
            raise AssertionError('%s: RUN %d goes back in time (we are at '
                                 '%d)' % (self.name, m.time, self.now))
        if m.time != t:
            raise AssertionError('%s: RUN time %d, expected %d'
                                 % (self.name, m.time, t))
        if self.page.running_id != self.slot:
            raise AssertionError('%s: RUN came while running_id is %d, not '
                                 'our slot %d' % (self.name,
                                                  self.page.running_id,
                                                  self.slot))
        if self.page.current_time != t + self.offset:
            raise AssertionError('%s: RUN(%d) came with current_time %d, '
                                 'not %d' % (self.name, t,
                                             self.page.current_time,
                                             t + self.offset))
        self.on_run(m)
        return m

    def on_run(self, m):
        """What the kernel does on RUN in shm mode."""
        self.now = m.time
        self.page_store_slot(SLOT_FLAGS, 4,
                             self.page.flags(self.slot) & ~REQ_RUN)

    def get_time(self):
        """time_travel_ext_get_time(): current_time - offset, or GET."""
        if not self.shm:
            t = self.get()
        else:
            t = self.page.current_time - self.offset
        if t < self.now:
            raise AssertionError('%s: time goes backwards %d -> %d'
                                 % (self.name, self.now, t))
        self.now = t
        return t

    def set_time(self, t):
        """Run on to own time t and propagate it: current_time (only as the
        runner), or UPDATE."""
        if t < self.now:
            raise AssertionError('%s: set_time(%d) behind %d'
                                 % (self.name, t, self.now))
        self.now = t
        if not self.shm:
            self.update(t)
            return
        if self.page.running_id != self.slot:
            raise AssertionError('%s: setting time while not running '
                                 '(running_id %d, our slot %d)'
                                 % (self.name, self.page.running_id,
                                    self.slot))
        self.page.store(HDR_CURRENT_TIME, 8, t + self.offset)

    def free_until(self):
        """The page's free_until, in our own time."""
        return self.page.free_until - self.offset

    def close(self):
        if self.page is not None:
            self.page.close()
        super().close()


# The start of a child script (python3 -c) whose blocking call SIGUSR1
# interrupts: the handler raises Interrupted, so Python does not retry it.
INTERRUPTIBLE = r'''
import os, signal, sys
class Interrupted(Exception):
    pass
def on_usr1(sig, frame):
    raise Interrupted()
signal.signal(signal.SIGUSR1, on_usr1)
'''


def spawn(test, argv, **popen_args):
    """subprocess.Popen(argv, **popen_args), killed and reaped at test's
    cleanup.  Registered after the fixture's stop_daemon, that cleanup
    runs before it; a child stuck in a FUSE call dies once the mount is
    gone."""
    p = subprocess.Popen(argv, **popen_args)

    def reap():
        if p.poll() is None:
            p.kill()
        try:
            p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    test.addCleanup(reap)
    return p


def child(test, script, *args):
    """`python3 -c script args...` (see spawn), its stdout a text pipe."""
    return spawn(test, [sys.executable, '-c', script] + list(args),
                 stdout=subprocess.PIPE, text=True)


class TtfsTest(unittest.TestCase):
    """Base: a daemon per test, fake clients, tree helpers.

    Subclasses may set PREFIX (of the temporary directory), WRAP (a
    command that prefixes the daemon's), START_TIMEOUT and STOP_TIMEOUT,
    and CHECK_EXIT: whether stop_daemon fails the test when the daemon
    does not exit, exits non-zero or leaves its socket file behind."""

    PREFIX = 'ttfs-proto-'
    WRAP = []
    START_TIMEOUT = 10
    STOP_TIMEOUT = 5
    CHECK_EXIT = True

    def start_daemon(self, *args, preexec=None, wait=True):
        self.dir = tempfile.mkdtemp(prefix=self.PREFIX)
        # First registered, so it runs last, after the unmount.
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.mnt = os.path.join(self.dir, 'mnt')
        self.sockpath = os.path.join(self.dir, 'sock')
        os.mkdir(self.mnt)
        self.logf = open(os.path.join(self.dir, 'ttfs.log'), 'w+')
        self.addCleanup(self.logf.close)
        self.proc = subprocess.Popen(
            self.WRAP + [TTFS, '--socket', self.sockpath, '-f'] +
            list(args) + [self.mnt], stdin=subprocess.DEVNULL,
            stdout=self.logf, stderr=self.logf, preexec_fn=preexec)
        self.stopped = False
        self.addCleanup(self.stop_daemon)
        if not wait:
            return
        ready = wait_for(lambda: self.proc.poll() is not None or
                         (os.path.ismount(self.mnt) and
                          os.path.exists(self.sockpath)),
                         timeout=self.START_TIMEOUT)
        if not ready or self.proc.poll() is not None:
            self.fail('ttfs did not come up:\n' + self.daemon_log())

    def daemon_log(self, limit=4000):
        """The log's end (a daemon gone mad may write gigabytes)."""
        self.logf.flush()
        size = os.fstat(self.logf.fileno()).st_size
        self.logf.seek(max(0, size - limit))
        return self.logf.read()

    def stop_daemon(self):
        if self.stopped:
            return
        self.stopped = True
        unmount(self.mnt)
        try:
            rc = self.proc.wait(timeout=self.STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            unmount(self.mnt)
            if self.CHECK_EXIT:
                self.fail('ttfs did not exit after the unmount')
            return
        if not self.CHECK_EXIT:
            return
        if rc != 0:
            self.fail('ttfs exited with %d:\n%s' % (rc, self.daemon_log()))
        if os.path.lexists(self.sockpath):
            self.fail('ttfs left its socket file behind')

    def client(self, name=None, cls=Client):
        c = cls(self.sockpath, name or 'client')
        # the daemon numbers clients in connection order, from 1 (right
        # only in tests that connect nothing else behind our back)
        self.nconn = getattr(self, 'nconn', 0) + 1
        c.number = self.nconn
        self.addCleanup(c.close)
        return c

    def clients(self, n, prefix='c'):
        return [self.client('%s%d' % (prefix, i)) for i in range(n)]

    def held(self, c, ident):
        """START(ident), and wait until ttfs has seen it (its ACK may be
        held): messages on different sockets have no order, so a test
        that needs the START in before its next step waits for the tree
        to show the client's ID."""
        c.start(ident)
        self.assertTrue(wait_for(
            lambda: self.read('clients', str(c.number), 'id') ==
            '%d\n' % ident), '%s: START not seen' % c.name)

    def runner_and_waiter(self, unit=S):
        """Clients a and b, turns handed over once: a runs at 1 unit,
        b waits for 2."""
        a, b = self.client('a'), self.client('b')
        a.started(1)
        self.held(b, 2)
        a.cycle(1 * unit)
        b.expect_start_ack()
        b.cycle(2 * unit)
        a.expect_run(1 * unit)
        return a, b

    def first_to_hear(self, clients, timeout=TIMEOUT):
        """The first of clients to receive something from ttfs."""
        for c in clients:
            if c.queue:
                return c
        r, _, _ = select.select(clients, [], [], timeout)
        self.assertTrue(r, 'none of %s heard anything'
                        % [c.name for c in clients])
        return r[0]

    def assert_alive(self):
        self.assertIsNone(self.proc.poll(), 'ttfs died:\n' +
                          self.daemon_log())

    # --- the tree ---

    def path(self, *names):
        return os.path.join(self.mnt, *names)

    def read(self, *names):
        with open(self.path(*names)) as f:
            return f.read()

    def read_int(self, *names):
        return int(self.read(*names))

    def write(self, name, text):
        """One write(2), for writes that answer at once."""
        fd = os.open(self.path(name), os.O_WRONLY)
        try:
            return os.write(fd, text.encode())
        finally:
            os.close(fd)

    def assert_errno(self, err, fn, *args):
        with self.assertRaises(OSError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.errno, err,
                         '%s, expected %s' % (os.strerror(cm.exception.errno),
                                              os.strerror(err)))

    def write_async(self, name, text):
        """`echo text > name` in a child, for writes that may block."""
        return spawn(self, ['sh', '-c', 'echo "$1" > "$2"', 'sh', text,
                            self.path(name)], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)

    def finish(self, p, timeout=TIMEOUT):
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail('the write did not return')
        self.assertEqual(p.returncode, 0, 'the write failed: ' + err)

    def witness_ok(self, w, t):
        """A waiting client that must be unaffected: it answers and gets
        RUN(t) (nobody else may run or have a request)."""
        self.assert_alive()
        w.request(t)
        w.expect_run(t)


def main(label=None, note=None):
    """Run the calling file's tests: `python3 FILE BUILD_DIR [unittest
    args]`.  Exits 77 (skipped) without /dev/fuse, 2 on bad use, else 0 if
    all passed and 1 if not.  With label, prints "ttfs LABEL tests: ..." and
    the failed tests at the end; note goes to stderr before the run."""
    global TTFS
    if not os.path.exists('/dev/fuse'):
        print('skip: no /dev/fuse', file=sys.stderr)
        sys.exit(77)
    if len(sys.argv) < 2:
        print('usage: %s BUILD_DIR [unittest args]' % sys.argv[0],
              file=sys.stderr)
        sys.exit(2)
    TTFS = os.path.abspath(os.path.join(sys.argv[1], 'ttfs'))
    del sys.argv[1]
    if not os.access(TTFS, os.X_OK):
        print('no ttfs binary at %s' % TTFS, file=sys.stderr)
        sys.exit(2)
    if note:
        print(note, file=sys.stderr)
    t0 = time.monotonic()
    prog = unittest.main(argv=sys.argv, verbosity=2, exit=False)
    res = prog.result
    if label:
        bad = (len(res.failures) + len(res.errors) +
               len(res.unexpectedSuccesses))
        print('\nttfs %s tests: %d run, %d passed, %d failed, %d errors, '
              '%d skipped in %.1fs'
              % (label, res.testsRun, res.testsRun - bad - len(res.skipped),
                 len(res.failures), len(res.errors), len(res.skipped),
                 time.monotonic() - t0))
        for test, _ in res.failures + res.errors:
            print('  FAILED: %s' % test.id())
    sys.exit(0 if res.wasSuccessful() else 1)
