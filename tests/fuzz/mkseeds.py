#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the fuzz harnesses.

  mkseeds.py [TRACE...]

corpus-calendar/: a few hand-made scripts for fuzz-calendar.c, and the
client-to-calendar messages of real UML traces (lines like
`0.229286 c2 -> REQUEST seq=4 time=256`, see /work/shared/traces) turned
into the same script format; corpus-ttime/: time strings for fuzz-ttime.c.
The script format is described at the top of fuzz-calendar.c.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Actions of fuzz-calendar.c (low 5 bits; the slot in bits 5-6).
CONNECT, DISCONNECT, RAW, MSG, FLUSH, ACK_NEXT, ACK_ALL, UML = range(8)
ADVANCE, RUN, FREEZE, PACE, WALL, TICK, WAITER_ADD, WAITER_DEL = range(8, 16)
NAME, TOD, ROUND, EXACT, ADVANCE_ABS = range(16, 21)

OPS = {'ACK': 0, 'START': 1, 'REQUEST': 2, 'WAIT': 3, 'GET': 4,
       'UPDATE': 5, 'RUN': 6, 'FREE_UNTIL': 7, 'GET_TOD': 8,
       'BROADCAST': 9}


def header(paused=False, expect=0, quantum=0, tod=0):
    return bytes([int(paused) | (expect << 1), quantum, tod, 0])


def act(a, slot=0):
    return bytes([a | (slot << 5)])


def t64(t):
    """A time as rd_time reads it: mode 4, then 8 bytes."""
    return bytes([4]) + struct.pack('<Q', t)


def exact(slot, op, seq, time):
    """One message, delivered at once."""
    return (act(EXACT, slot) + struct.pack('<BIQ', op, seq, time) +
            act(FLUSH, slot) + b'\0')


def trace_script(path, limit):
    """A trace's client side: connects, messages, ACKs (as 'ACK the next
    one', since our seqs may differ from the reference's) and closes."""
    slots = {}
    out = bytearray(header(expect=2))
    n = 0
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) < 3:
                continue
            conn = w[1]
            if w[2] == 'connect':
                slots[conn] = len(slots) % 4
                out += act(CONNECT, slots[conn])
                continue
            if w[2] != '->' or conn not in slots:
                continue
            s = slots[conn]
            if w[3] == 'close':
                out += act(DISCONNECT, s)
                continue
            if w[3] == 'ACK':
                out += act(ACK_NEXT, s)
            else:
                kv = dict(x.split('=') for x in w[4:] if '=' in x)
                out += exact(s, OPS[w[3]], int(kv['seq']), int(kv['time']))
            n += 1
            if n >= limit:
                break
    return bytes(out)


def hand_made():
    seeds = {}
    # Two clients, each boots like UML, then many well-behaved rounds.
    seeds['rounds'] = header() + act(ROUND) + bytes([60, 1])
    seeds['rounds-paused-expect'] = (header(paused=True, expect=3) +
                                     act(ROUND) + bytes([40, 7]))
    # Advances while clients run, and a waiter bounding FREE_UNTIL.
    seeds['advance'] = (header(quantum=5) + act(ROUND) + bytes([8, 3]) +
                        act(WAITER_ADD, 1) + t64(3_000_000) +
                        act(ADVANCE) + t64(20_000_000) + act(ROUND) +
                        bytes([30, 9]) + act(RUN) + b'\1' + act(ROUND) +
                        bytes([20, 4]))
    # Pacing at 1 against a fake wall clock.
    seeds['pace'] = (header() + act(PACE) + b'\1' + act(ROUND) +
                     bytes([10, 5]) + act(WALL) + t64(50_000_000) +
                     act(ROUND) + bytes([10, 6]) + act(WALL) +
                     t64(900_000_000) + act(ROUND) + bytes([10, 2]))
    # Freeze one client, run the others, thaw it.
    seeds['freeze'] = (header() + act(ROUND) + bytes([6, 11]) +
                       act(FREEZE, 2) + act(ROUND) + bytes([20, 12]) +
                       act(FREEZE, 2) + act(ROUND) + bytes([20, 13]))
    # By hand: START, the boot sequence of a 6.1 kernel, split messages.
    s = header() + act(CONNECT, 0)
    s += exact(0, 1, 1, 1)                      # START id 1
    s += exact(0, 8, 2, 2**64 - 1)              # GET_TOD
    s += exact(0, 4, 3, 2**64 - 1)              # GET
    s += exact(0, 2, 4, 10_000_000)             # REQUEST
    s += exact(0, 2, 5, 256)                    # REQUEST
    # WAIT, in three pieces.
    m = struct.pack('<IIQ', 3, 6, 2**64 - 1)
    s += act(RAW, 0) + bytes([len(m)]) + m
    s += act(FLUSH, 0) + b'\3' + act(FLUSH, 0) + b'\7' + act(FLUSH, 0) + b'\0'
    s += act(ACK_ALL, 0) + act(UML, 0) + b'\x12' + act(ACK_ALL, 0)
    s += act(DISCONNECT, 0)
    seeds['boot-split'] = s
    # Protocol errors: garbage op, RUN from a client, ACK out of order.
    seeds['errors'] = (header() + act(CONNECT, 0) + exact(0, 1, 1, 0) +
                       exact(0, 6, 2, 5) + act(CONNECT, 1) +
                       exact(1, 4, 1, 0) + act(CONNECT, 2) +
                       exact(2, 1, 1, 3) + exact(2, 0, 9, 0) +
                       act(CONNECT, 3) + exact(3, 77, 1, 0))
    return seeds


def ttime_seeds():
    texts = ['0', '1', '2500000', '1.5s', '+100ms', '+0', '10ns', '7us',
             '3m', '2h', '1d', '.5s', '5.s', '0.000000001s',
             '18446744073709551615', '18446744073709551616',
             '213503d', '1.123456789012345678901d', '+1\n', '1\n\n',
             '', '+', 'ms', '1 s', '-1', '0x10', '1e9', '12msx']
    return {'t%02d' % i: bytes([i % 8]) + t.encode()
            for i, t in enumerate(texts)}


def write(d, seeds):
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


def main():
    cal = hand_made()
    for path in sys.argv[1:]:
        base = os.path.splitext(os.path.basename(path))[0]
        for limit in (60, 400):
            cal['trace-%s-%d' % (base, limit)] = trace_script(path, limit)
    write(os.path.join(HERE, 'corpus-calendar'), cal)
    write(os.path.join(HERE, 'corpus-ttime'), ttime_seeds())


if __name__ == '__main__':
    main()
