#!/usr/bin/python3
"""tests/integration/jsonlines.py FILE: exit 0 if every line of FILE is
one JSON object in strict UTF-8 (RFC 8259 §8.1); else name the line."""
import json
import sys


def main(path):
    with open(path, 'rb') as f:
        lines = f.read().split(b'\n')
    if lines and lines[-1] == b'':
        lines.pop()
    for n, raw in enumerate(lines, 1):
        try:
            obj = json.loads(raw.decode('utf-8', errors='strict'))
        except ValueError as e:
            print('%s:%d: %s: %r' % (path, n, e, raw[:200]))
            return 1
        if not isinstance(obj, dict):
            print('%s:%d: not an object' % (path, n))
            return 1
    print(len(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
