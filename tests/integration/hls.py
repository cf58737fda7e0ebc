"""A small M3U8 reader for the tests: enough of RFC 8216bis to check what
the origin writes, tag by tag."""
import re

ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def attrs(text):
    out = {}
    for k, v in ATTR.findall(text):
        out[k] = v[1:-1] if v.startswith('"') else v
    return out


class Part:
    def __init__(self, a):
        self.duration = float(a['DURATION'])
        self.uri = a['URI']
        self.independent = a.get('INDEPENDENT') == 'YES'


class Segment:
    def __init__(self, msn):
        self.msn = msn
        self.parts = []
        self.duration = None     # EXTINF, None while in progress
        self.uri = None
        self.pdt = None
        self.discontinuity = False
        self.map = None
        self.tags_before_parts = []   # tag names in order before its first part

    @property
    def complete(self):
        return self.uri is not None


class MediaPlaylist:
    def __init__(self, text):
        self.text = text
        self.lines = [l for l in text.splitlines() if l.strip()]
        assert self.lines and self.lines[0] == '#EXTM3U', 'not a playlist: %r' % text[:80]
        self.tags = {}
        self.segments = []
        self.skip = []
        self.preload_hints = []
        self.rendition_reports = []
        self.endlist = False
        self.version = None
        msn = None
        cur = None
        for line in self.lines[1:]:
            if line.startswith('#'):
                name, _, value = line[1:].partition(':')
                if name == 'EXT-X-MEDIA-SEQUENCE':
                    msn = int(value)
                elif name == 'EXT-X-VERSION':
                    self.version = int(value)
                elif name == 'EXT-X-SKIP':
                    a = attrs(value)
                    self.skip.append(a)
                    msn += int(a['SKIPPED-SEGMENTS'])
                elif name == 'EXT-X-PRELOAD-HINT':
                    self.preload_hints.append(attrs(value))
                elif name == 'EXT-X-RENDITION-REPORT':
                    self.rendition_reports.append(attrs(value))
                elif name == 'EXT-X-ENDLIST':
                    self.endlist = True
                elif name in ('EXT-X-DISCONTINUITY', 'EXT-X-MAP', 'EXT-X-PROGRAM-DATE-TIME', 'EXT-X-PART',
                              'EXTINF'):
                    if cur is None:
                        cur = Segment(msn)
                        self.segments.append(cur)
                        msn += 1
                    if name == 'EXT-X-PART':
                        cur.parts.append(Part(attrs(value)))
                    elif name == 'EXTINF':
                        cur.duration = float(value.split(',')[0])
                    else:
                        if cur.parts:
                            cur.tags_before_parts.append('LATE:' + name)
                        else:
                            cur.tags_before_parts.append(name)
                        if name == 'EXT-X-DISCONTINUITY':
                            cur.discontinuity = True
                        elif name == 'EXT-X-MAP':
                            cur.map = attrs(value)['URI']
                        elif name == 'EXT-X-PROGRAM-DATE-TIME':
                            cur.pdt = value
                else:
                    self.tags.setdefault(name, []).append(value)
            else:
                assert cur is not None, 'URI without tags: ' + line
                cur.uri = line
                cur = None
        self.first_msn = int(self.tags['EXT-X-MEDIA-SEQUENCE'][0]) if 'EXT-X-MEDIA-SEQUENCE' in self.tags else 0

    def tag(self, name):
        v = self.tags.get(name)
        return v[0] if v else None

    @property
    def target_duration(self):
        return int(self.tag('EXT-X-TARGETDURATION'))

    @property
    def part_target(self):
        return float(attrs(self.tag('EXT-X-PART-INF'))['PART-TARGET'])

    @property
    def server_control(self):
        return attrs(self.tag('EXT-X-SERVER-CONTROL'))

    @property
    def last_msn(self):
        return self.segments[-1].msn

    def last_part(self):
        """(msn, part index) of the newest listed part."""
        seg = self.segments[-1]
        if seg.parts and not seg.complete:
            return seg.msn, len(seg.parts) - 1
        if not seg.complete:
            return seg.msn, -1
        return seg.msn, len(seg.parts) - 1

    def complete_segments(self):
        return [s for s in self.segments if s.complete]
