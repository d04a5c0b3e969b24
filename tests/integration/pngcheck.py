"""PNG screenshots checked for content, with the standard library only
(zlib and struct): assert_not_blank(path) fails on a page that rendered
nothing, or one colour.  write_png makes test images."""

import collections
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Samples per pixel of each colour type: grey, RGB, palette, grey+alpha, RGBA.
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class Image:
    def __init__(self, width, height, pixels):
        self.width, self.height = width, height
        self.pixels = pixels       # rows of tuples, one per pixel (the raw samples)


def _chunks(data):
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise ValueError("PNG chunk %r: bad CRC" % kind)
        yield kind, body
        pos += 12 + length
        if kind == b"IEND":
            return
    raise ValueError("PNG ends before IEND")


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def unfilter(raw, height, stride, bpp):
    """The scanlines of RAW (each led by its filter type 0-4) unfiltered."""
    rows = []
    prev = bytearray(stride)
    pos = 0
    for y in range(height):
        ftype = raw[pos]
        cur = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if len(cur) != stride:
            raise ValueError("PNG data ends at row %d" % y)
        if ftype == 0:
            pass
        elif ftype == 1:
            for i in range(bpp, stride):
                cur[i] = (cur[i] + cur[i - bpp]) & 0xFF
        elif ftype == 2:
            cur = bytearray((a + b) & 0xFF for a, b in zip(cur, prev))
        elif ftype == 3:
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                if i >= bpp:
                    cur[i] = (cur[i] + _paeth(cur[i - bpp], prev[i], prev[i - bpp])) & 0xFF
                else:
                    cur[i] = (cur[i] + prev[i]) & 0xFF
        else:
            raise ValueError("PNG row %d: unknown filter type %d" % (y, ftype))
        rows.append(bytes(cur))
        prev = cur
    return rows


def read_png(path):
    """Decodes a non-interlaced PNG of any colour type, depths 1 to 16."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(SIGNATURE):
        raise ValueError("%s is not a PNG" % path)
    header, idat, palette = None, [], None
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = [body[i:i + 3] for i in range(0, len(body), 3)]
        elif kind == b"IDAT":
            idat.append(body)
    if header is None:
        raise ValueError("%s: no IHDR" % path)
    width, height, depth, ctype, _comp, _filt, interlace = header
    if ctype not in CHANNELS:
        raise ValueError("%s: colour type %d" % (path, ctype))
    if interlace:
        raise ValueError("%s: interlaced PNGs are not supported" % path)
    bits = CHANNELS[ctype] * depth
    stride = (width * bits + 7) // 8
    rows = unfilter(zlib.decompress(b"".join(idat)), height, stride, max(1, bits // 8))
    pixels = []
    for row in rows:
        if bits >= 8:
            n = bits // 8
            px = [row[i:i + n] for i in range(0, n * width, n)]
        else:   # 1, 2 or 4 bits a pixel, grey or palette
            per = 8 // bits
            mask = (1 << bits) - 1
            px = [bytes([(row[x // per] >> (8 - bits * (x % per + 1))) & mask])
                  for x in range(width)]
        if ctype == 3:
            px = [palette[p[0]] for p in px]
        pixels.append(px)
    return Image(width, height, pixels)


def stats(path):
    """(width, height, number of distinct colours, share of the pixels
    that differ from the most common colour)."""
    img = read_png(path)
    counts = collections.Counter()
    for row in img.pixels:
        counts.update(row)
    total = img.width * img.height
    common = counts.most_common(1)[0][1] if counts else 0
    return img.width, img.height, len(counts), (total - common) / total if total else 0.0


def assert_not_blank(path, min_share=0.01, min_colours=3):
    """PATH shows something: at least MIN_SHARE of its pixels differ from
    its most common colour, and it has at least MIN_COLOURS colours."""
    w, h, colours, share = stats(path)
    assert share >= min_share and colours >= min_colours, (
        "%s looks blank: %dx%d, %d colour(s), %.2f%% of the pixels differ from "
        "the most common colour (want >= %d colours and >= %.2f%%)"
        % (path, w, h, colours, 100 * share, min_colours, 100 * min_share))
    return w, h


def size(path):
    """(width, height) from the IHDR of PNG PATH."""
    with open(path, "rb") as f:
        head = f.read(24)
    if not head.startswith(SIGNATURE):
        raise ValueError("%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


def _filter_row(ftype, cur, prev, bpp):
    out = bytearray(len(cur))
    for i, x in enumerate(cur):
        a = cur[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = (0, a, b, (a + b) >> 1, _paeth(a, b, c))[ftype]
        out[i] = (x - pred) & 0xFF
    return bytes([ftype]) + bytes(out)


def write_png(path, rows, filters=(0,)):
    """Writes an 8-bit RGB PNG of ROWS (lists of (r, g, b)); row y is
    filtered with filters[y % len(filters)], so that tests reach every
    filter type of the decoder."""
    height, width = len(rows), len(rows[0])
    raw = []
    prev = bytes(3 * width)
    for y, row in enumerate(rows):
        cur = bytes(v for px in row for v in px)
        raw.append(_filter_row(filters[y % len(filters)], cur, prev, 3))
        prev = cur

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body))
    with open(path, "wb") as f:
        f.write(SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"".join(raw)))
                + chunk(b"IEND", b""))
    return path
