#!/usr/bin/env python3
"""Compare two `xbar run --json` reports, ignoring what may differ between
two runs of the same simulation: timings, the thread count and provenance.

    tools/cmp_reports.py A.json B.json

Prints IDENTICAL and exits 0, or prints each differing path (a JSON pointer
to the value) and exits 1. The speed work (docs/PERFORMANCE.md) uses it to
show that a faster kernel gives the same report as the one it replaced:
every accuracy, ADC statistic, histogram, saturation count, energy and
latency figure must match exactly, floats included.
"""
import json
import sys

# Fields that measure the run rather than the simulation.
IGNORED = {'seconds', 'images_per_s', 'threads', 'provenance', 'wall_seconds', 'elapsed'}


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in IGNORED}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o


def diff(x, y, path=''):
    """Number of differences between x and y, each printed with its path."""
    if type(x) != type(y):
        print('type', path or '/')
        return 1
    if isinstance(x, dict):
        n = 0
        for k in sorted(set(x) | set(y)):
            if k not in x or k not in y:
                print('missing', path + '/' + k)
                n += 1
            else:
                n += diff(x[k], y[k], path + '/' + k)
        return n
    if isinstance(x, list):
        if len(x) != len(y):
            print('length', path or '/', len(x), len(y))
            return 1
        return sum(diff(u, v, '%s/%d' % (path, i)) for i, (u, v) in enumerate(zip(x, y)))
    if x != y:
        print('value', path or '/', x, y)
        return 1
    return 0


def main(argv):
    if len(argv) != 3 or argv[1] in ('-h', '--help'):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    try:
        with open(argv[1]) as f:
            a = json.load(f)
        with open(argv[2]) as f:
            b = json.load(f)
    except (OSError, ValueError) as e:
        print('cmp_reports: %s' % e, file=sys.stderr)
        return 2
    n = diff(strip(a), strip(b))
    print('IDENTICAL' if n == 0 else '%d differences' % n)
    return 1 if n else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
