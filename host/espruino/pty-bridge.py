#!/usr/bin/env python3
"""Relay bytes between this process's stdin/stdout and a new pseudo-terminal.

Used by real.mjs (host only; never shipped): the Linux Espruino opens the pty's
slave side as a serial port (`Serial2.setup(baud, {path})`), and Node talks to
the master side through this process's pipes.

Protocol: first, one line on stderr: `PTY /dev/pts/N`. Then stdout carries the
raw bytes Espruino wrote to the port, and whatever arrives on stdin is written
to the port. Exits when stdin closes.
"""
import os
import select
import sys
import termios
import tty

def main():
    master, slave = os.openpty()
    # Raw mode before anyone opens the slave, so the line discipline neither
    # echoes host bytes back nor rewrites CR/LF. Espruino sets raw again itself.
    tty.setraw(slave, termios.TCSANOW)
    # Keep our slave fd open for the whole run: without it, reading the master
    # fails with EIO whenever Espruino has the port closed (before setup, or
    # while it re-opens it on a second setup() call).
    path = os.ttyname(slave)
    sys.stderr.write("PTY %s\n" % path)
    sys.stderr.flush()

    stdin = sys.stdin.fileno()
    stdout = sys.stdout.fileno()
    os.set_blocking(master, False)
    pending = b""  # bytes from the host not yet written to the pty
    stdin_open = True
    while stdin_open or pending:
        rl = [master] + ([stdin] if stdin_open and len(pending) < 65536 else [])
        wl = [master] if pending else []
        r, w, _ = select.select(rl, wl, [], 1.0)
        if master in r:
            try:
                data = os.read(master, 4096)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = None
            if data:
                os.write(stdout, data)
        if stdin in r:
            data = os.read(stdin, 4096)
            if not data:
                stdin_open = False
            else:
                pending += data
        if master in w and pending:
            try:
                n = os.write(master, pending)
                pending = pending[n:]
            except (BlockingIOError, InterruptedError):
                pass
    os.close(master)
    os.close(slave)

if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
