"""What the benchmarks read off this machine's processes and ports: a free
port, a process's CPU time and resident memory, and a process tree."""
import os
import socket


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def _stat_fields(pid):
    """/proc/PID/stat after the command name (which may hold spaces)."""
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()


def cpu_seconds(pid):
    """utime + stime of a process, all its threads, in seconds."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def process_tree(pid):
    """pid and its descendants (h2o keeps a helper process for its keys)."""
    kids = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                kids.setdefault(int(_stat_fields(int(d))[1]), []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass  # gone since listdir
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out
