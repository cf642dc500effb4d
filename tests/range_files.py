"""range_files.py DIR: the files tests/test-scan-ranges.sh scans, in DIR:
matches just inside and just outside long bounded ranges ({0-32000} and
the like), repeated near misses, offsets and logical signatures' parts."""
import os
import sys

d = sys.argv[1]


def w(name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def x(n):
    return b"x" * n


w('near', b'AB' + x(100) + b'CD')
w('far', b'AB' + x(31998) + b'CD')
w('past', b'AB' + x(32001) + b'CD')
w('bcbc', b'BC' * 100000)
w('dense', b'ABx' * 20000 + b'CD')
w('bc-tail', b'AB' + b'BC' * 20000 + b'CD')
w('three', b'AB' + x(150) + b'CD' + x(29000) + b'EF')
w('three-past', b'AB' + x(150) + b'CD' + x(30001) + b'EF')
w('three-short', b'AB' + x(90) + b'CD' + x(10) + b'EF')
w('fixed', b'AB' + x(30000) + b'CD')
w('fixed-short', b'AB' + x(29999) + b'CD')
w('offset-in', x(50) + b'AB' + x(20000) + b'CD')
w('offset-out', x(200) + b'AB' + x(20000) + b'CD')
w('lorem', (b'lorem ' + x(31000) + b'ipsum dolor ' + x(30000) + b'amet ') * 2)
w('lorem-past', b'lorem ' + x(32001) + b'ipsum dolor amet')
w('many', (b'GH' + x(1000) + b'IJ') * 4)
w('many-past', (b'GH' + x(33000) + b'IJ') * 3)
w("nibble", b"KAB" + x(5000) + b"C\x00DE")
