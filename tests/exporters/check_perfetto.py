#!/usr/bin/env python3
"""Reads an offrx-export -f perfetto trace the way Perfetto's importer does, through
`protoc --decode=perfetto.protos.Trace` over exporters/perfetto_trace.proto, and prints it as
one JSON document the tests check against the jsonl and chrome exports of the same input:

  check_perfetto.py PROTO PFTRACE > model.json
  check_perfetto.py slices|instants|flows MODEL JSONL    (exit 1 and the differences)
  check_perfetto.py counters MODEL JSONL CHROME_JSON
  check_perfetto.py compare MODEL JSONL CHROME_JSON     (all four: a RESULT line each)

The model: "slices" (each request's begin/end pair on its lane, paired as Perfetto pairs them:
per track, in time order, ties in file order), "instants", "counters" (per connection and
counter, [ts, value] in time order), "tracks", "flows" (flow id -> the events it passes through,
in time order), the first packet's state, and "problems": what Perfetto would refuse or misread
(an iid never interned, an event on an undescribed track, a lane whose slices overlap, a packet
off our sequence, a timestamp before the clock snapshot); "clocks": how many packets are timed
in each clock. Times are absolute ns: clock 64's deltas summed, clock 65 read from the trace
start (both as the first packet's clock snapshot says), BOOTTIME as is."""
import json
import re
import subprocess
import sys

SEQ_CLEARED, SEQ_NEEDS = 1, 2
CLK_BOOT, CLK_DELTA, CLK_TRACE = 6, 64, 65


def parse_text(text):
    """protoc's text format -> nested dicts; every field a list (repeated or not). One field
    or brace per line, as protoc writes it; strings are quoted, so only a message opens with
    a line ending in '{'."""
    root = {}
    stack = [root]
    for line in text.split('\n'):
        line = line.strip()
        if not line:
            continue
        if line == '}':
            stack.pop()
        elif line[-1] == '{':
            d = {}
            stack[-1].setdefault(line[:-2], []).append(d)
            stack.append(d)
        else:
            k, _, v = line.partition(': ')
            if v[0] == '"':
                v = v[1:-1].encode('latin1').decode('unicode_escape')
            elif v in ('true', 'false'):
                v = v == 'true'
            elif v[0] in '-0123456789':
                v = int(v)
            stack[-1].setdefault(k, []).append(v)
    return root


def one(d, k, default=None):
    v = d.get(k)
    return v[0] if v else default


def model(proto, path):
    text = subprocess.run(['protoc', '--proto_path=' + proto.rsplit('/', 1)[0],
                           '--decode=perfetto.protos.Trace', proto], stdin=open(path, 'rb'),
                          capture_output=True, check=True).stdout.decode('latin1')
    packets = parse_text(text).get('packet', [])
    problems = []
    names, cats, anames, strs = {}, {}, {}, {}
    tracks = {}
    events = []  # (ts, index, track uuid, event dict)
    first = {}
    defaults_clock = None
    clk = None  # CLK_DELTA's value
    trace_zero = None  # (CLK_TRACE's value, BOOTTIME's) at the snapshot
    clocks = {}
    cleared = False
    for i, p in enumerate(packets):
        flags = one(p, 'sequence_flags', 0)
        if i == 0:
            first = {'flags': flags, 'clock_snapshot': 'clock_snapshot' in p,
                     'first_packet_on_sequence': one(p, 'first_packet_on_sequence', False)}
        if one(p, 'trusted_packet_sequence_id') != 1:
            problems.append('packet %d: not on sequence 1' % i)
        if flags & SEQ_CLEARED:
            cleared = True
        if not cleared:
            problems.append('packet %d: before the incremental state was cleared' % i)
        if i and not flags & SEQ_NEEDS:
            problems.append('packet %d: uses the sequence defaults without '
                            'SEQ_NEEDS_INCREMENTAL_STATE' % i)
        if 'trace_packet_defaults' in p:
            defaults_clock = one(p['trace_packet_defaults'][0], 'timestamp_clock_id')
        for cs in p.get('clock_snapshot', []):
            snap = {one(c, 'clock_id'): one(c, 'timestamp') for c in cs.get('clocks', [])}
            for c in cs.get('clocks', []):
                if one(c, 'clock_id') == CLK_DELTA:
                    clk = one(c, 'timestamp')
                    first['incremental_clock'] = one(c, 'is_incremental', False)
                if one(c, 'clock_id') == CLK_TRACE:
                    if one(c, 'is_incremental', False) or CLK_BOOT not in snap:
                        problems.append('packet %d: clock 65 incremental or without BOOTTIME' % i)
                    trace_zero = (one(c, 'timestamp'), snap.get(CLK_BOOT, 0))
        for idata in p.get('interned_data', []):
            for table, field, key in ((names, 'event_names', 'name'),
                                      (cats, 'event_categories', 'name'),
                                      (anames, 'debug_annotation_names', 'name'),
                                      (strs, 'debug_annotation_string_values', 'str')):
                for e in idata.get(field, []):
                    iid = one(e, 'iid')
                    if iid in table and table[iid] != one(e, key):
                        problems.append('packet %d: %s iid %d redefined' % (i, field, iid))
                    table[iid] = one(e, key)
        ts = one(p, 'timestamp')
        if ts is not None:
            cid = one(p, 'timestamp_clock_id', defaults_clock or CLK_BOOT)
            clocks[cid] = clocks.get(cid, 0) + 1
            if cid == CLK_TRACE:
                if trace_zero is None:
                    problems.append('packet %d: clock 65 before the clock snapshot' % i)
                    trace_zero = (0, 0)
                ts = trace_zero[1] + ts - trace_zero[0]
            elif cid == CLK_DELTA:
                if clk is None:
                    problems.append('packet %d: delta time before the clock snapshot' % i)
                    clk = 0
                clk += ts
                ts = clk
            elif cid != CLK_BOOT:
                problems.append('packet %d: clock %d' % (i, cid))
        for td in p.get('track_descriptor', []):
            u = one(td, 'uuid')
            if u in tracks:
                problems.append('packet %d: track %d described twice' % (i, u))
            parent = one(td, 'parent_uuid')
            if parent is not None and parent not in tracks:
                problems.append('packet %d: track %d has undescribed parent %d' % (i, u, parent))
            tracks[u] = {'name': one(td, 'name'), 'parent': parent,
                         'pid': one(one(td, 'process', {}), 'pid'),
                         'unit': one(one(td, 'counter', {}), 'unit'),
                         'counter': 'counter' in td}
        for te in p.get('track_event', []):
            ev = {'type': one(te, 'type'), 'index': i, 'ts': ts}
            u = one(te, 'track_uuid')
            if u not in tracks:
                problems.append('packet %d: event on undescribed track %s' % (i, u))
                continue
            ev['track'] = u
            if 'name_iid' in te:
                ev['name'] = names.get(one(te, 'name_iid'))
                if ev['name'] is None:
                    problems.append('packet %d: name iid %d not interned' % (i, one(te, 'name_iid')))
            elif 'name' in te:
                ev['name'] = one(te, 'name')
            ev['cats'] = [cats.get(c, '?') for c in te.get('category_iids', [])]
            args = {}
            for a in te.get('debug_annotations', []):
                k = anames.get(one(a, 'name_iid')) if 'name_iid' in a else one(a, 'name')
                if k is None:
                    problems.append('packet %d: annotation name iid not interned' % i)
                for vk in ('uint_value', 'int_value', 'bool_value', 'string_value'):
                    if vk in a:
                        args[k] = one(a, vk)
                if 'string_value_iid' in a:
                    args[k] = strs.get(one(a, 'string_value_iid'))
                    if args[k] is None:
                        problems.append('packet %d: string value iid not interned' % i)
            ev['args'] = args
            ev['flows'] = [int(f) for f in te.get('flow_ids', [])]
            ev['tflows'] = [int(f) for f in te.get('terminating_flow_ids', [])]
            cv = []
            if 'counter_value' in te:
                cv.append((u, one(te, 'counter_value')))
            cv += list(zip(te.get('extra_counter_track_uuids', []),
                           te.get('extra_counter_values', [])))
            ev['counter_values'] = cv
            for cu, _ in cv:
                if cu not in tracks or not tracks[cu]['counter']:
                    problems.append('packet %d: counter value for %s, not a counter track' % (i, cu))
            if ev['type'] == 'TYPE_COUNTER' and not tracks[u]['counter']:
                problems.append('packet %d: counter event on a non-counter track' % i)
            if ev['type'] != 'TYPE_COUNTER' and tracks[u]['counter']:
                problems.append('packet %d: %s on a counter track' % (i, ev['type']))
            events.append(ev)

    def conn_of(u):
        """The connection a track belongs to: '1000:1' from 'conn 1000:1 ...'."""
        while u is not None:
            m = re.match(r'conn (\d+:\d+)', tracks[u]['name'] or '')
            if m:
                return m.group(1)
            u = tracks[u]['parent']
        return None

    # Perfetto's order: time, then file position.
    events.sort(key=lambda e: (e['ts'], e['index']))
    open_on = {}
    slices, instants, flows = [], [], {}
    counters = {}
    for e in events:
        for cu, v in e['counter_values']:
            counters.setdefault(conn_of(cu) or 'engine', {}).setdefault(
                tracks[cu]['name'], []).append([e['ts'], v])
        if e['type'] == 'TYPE_SLICE_BEGIN':
            if e['track'] in open_on:
                problems.append('packet %d: slice begins on track %d over another (lanes overlap)'
                                % (e['index'], e['track']))
            open_on[e['track']] = e
        elif e['type'] == 'TYPE_SLICE_END':
            b = open_on.pop(e['track'], None)
            if b is None:
                problems.append('packet %d: slice end without a begin' % e['index'])
                continue
            args = dict(b['args'])
            args.update(e['args'])
            s = {'conn': conn_of(e['track']), 'name': b.get('name'), 'b': b['ts'], 'e': e['ts'],
                 'args': args, 'cats': b['cats'], 'lane': e['track'],
                 'flows_b': b['flows'], 'tflows_e': e['tflows']}
            slices.append(s)
            for f in b['flows']:
                flows.setdefault(str(f), []).append(['begin', b['ts'], s['conn'], s['args'].get('req')])
            for f in e['tflows']:
                flows.setdefault(str(f), []).append(['end', e['ts'], s['conn'], s['args'].get('req')])
        elif e['type'] == 'TYPE_INSTANT':
            t = tracks[e['track']]
            inst = {'track': t['name'], 'conn': conn_of(e['track']), 'name': e.get('name'),
                    'ts': e['ts'], 'args': e['args'], 'cats': e['cats'], 'flows': e['flows']}
            instants.append(inst)
            for f in e['flows']:
                flows.setdefault(str(f), []).append([e.get('name'), e['ts'], inst['conn'],
                                                     e['args'].get('req')])
    for u in open_on:
        problems.append('track %d: a slice never ends' % u)
    rank = {'begin': 0, 'end': 2}
    for steps in flows.values():
        steps.sort(key=lambda st: (st[1], rank.get(st[0], 1)))
    return {'packets': len(packets), 'first': first, 'defaults_clock': defaults_clock,
            'clocks': {str(k): v for k, v in clocks.items()},
            'problems': problems, 'tracks': {str(k): v for k, v in tracks.items()},
            'slices': slices, 'instants': instants, 'counters': counters, 'flows': flows}


# --- what the jsonl export of the same input says the trace must hold ----------------------

def events(jsonl):
    """The events, and the end line (its end_ns is the trace's last time)."""
    return [e for e in map(json.loads, open(jsonl)) if 'ts_ns' in e or e.get('event') == 'end']


def key(e):
    return '%d:%d' % (e.get('vpid', 0), e.get('conn', 0))


def expected_slices(evs):
    """Each request's slice as the writer must draw it: from its post (or, posted before the
    trace, post_to_complete_ns before its completion) to its completion, named by the reason;
    still queued at conn_close "not completed", at the end "open at end"."""
    timed = [e for e in evs if 'ts_ns' in e]
    t0 = timed[0]['ts_ns']
    last = next((e['end_ns'] for e in evs if e['event'] == 'end' and 'end_ns' in e),
                max(e['ts_ns'] for e in timed))
    queues, out = {}, []

    def close(q, name, ts):
        for req, (post, fill) in q.items():
            out.append((k, req, name, post, max(ts, post), fill, 'PENDING', None))
        q.clear()
    for e in timed:
        k, q = key(e), queues.setdefault(key(e), {})
        if e['event'] == 'post':
            q[e['req']] = (e['ts_ns'], e.get('prefill', 0))
        elif e['event'] == 'fill' and e['req'] in q:
            q[e['req']] = (q[e['req']][0], e['total'])
        elif e['event'] == 'complete':
            if e['req'] in q:
                b = q.pop(e['req'])[0]
            else:
                b = min(max(e['ts_ns'] - e['post_to_complete_ns'], t0), e['ts_ns'])
            out.append((k, e['req'], e['reason'], min(b, e['ts_ns']), e['ts_ns'], e['bytes'],
                        e['status'], e['placed']))
        elif e['event'] == 'conn_close':
            close(q, 'not completed', e['ts_ns'])
    for k, q in queues.items():
        close(q, 'open at end', last)
    return sorted(out)


def differ(what, want, got):
    if want == got:
        return 0
    w, g = set(want), set(got)
    print('%s: want %d, got %d' % (what, len(want), len(got)))
    for x in sorted(w - g)[:5]:
        print('  missing:', x)
    for x in sorted(g - w)[:5]:
        print('  extra:  ', x)
    return 1


def placed(s):
    """A completed slice's placed bytes: said, or bytes - prefill (R15) when it is not."""
    if s['args'].get('status') == 'PENDING':
        return None
    a = s['args']
    return a['placed'] if 'placed' in a else a.get('bytes', 0) - a.get('prefill', 0)


def cmd_slices(m, evs):
    """Slices one for one with the requests: posts are their begins, completions their ends,
    named by the reason, with bytes, status and placed bytes."""
    got = sorted((s['conn'], s['args'].get('req'), s['name'], s['b'], s['e'],
                  s['args'].get('bytes'), s['args'].get('status'), placed(s))
                 for s in m['slices'])
    return differ('slices', expected_slices(evs), got)


INSTANTS = {'fill': 'fill', 'push_timer_expire': 'push timer expire', 'drop': 'drop',
            'disconnect': 'disconnect', 'conn_close': 'conn_close', 'indicate': 'indicate',
            'discarded': 'events discarded'}


def cmd_instants(m, evs):
    """Fills, push-timer expiries, drops, indicates, disconnects, closes and losses as
    instants one for one (with a fill's bytes, an expiry's request)."""
    def arg(e):
        return e.get('bytes') if e['event'] == 'fill' else e.get('req')
    want = sorted((key(e) if e['event'] != 'discarded' else '', INSTANTS[e['event']],
                   e['ts_ns'], arg(e) if e['event'] in ('fill', 'push_timer_expire') else None)
                  for e in evs if e['event'] in INSTANTS and (e['event'] != 'drop' or e['conn']))
    names = set(INSTANTS.values())
    got = [(i['conn'] or '', i['name'], i['ts'],
            i['args'].get('bytes' if i['name'] == 'fill' else 'req')
            if i['name'] in ('fill', 'push timer expire') else None)
           for i in m['instants'] if i['name'] in names
           and (i['conn'] is not None or i['name'] == 'events discarded')]
    return differ('instants', want, sorted(got))


def cmd_flows(m, evs):
    """A flow per request that a fill or expiry joined: it starts at the slice's begin (the
    post), passes through each of the request's fills and expiries, and ends at its completion.
    A request nothing joined has none (it would join the slice to itself), unless it was posted
    before the trace (its fills are not known then)."""
    bad = 0
    by_req = {}
    joined = {(key(e), e['req']) for e in evs if e['event'] in ('fill', 'push_timer_expire')}
    posted = {(key(e), e['req']) for e in evs if e['event'] == 'post'}
    for s in m['slices']:
        k = (s['conn'], s['args'].get('req'))
        want = 0 if k in posted and k not in joined else 1
        if s['flows_b'] != s['tflows_e'] or len(s['flows_b']) != want:
            print('slice %s req %s: flows %s, terminating %s' % (s['conn'], s['args'].get('req'),
                                                                   s['flows_b'], s['tflows_e']))
            bad += 1
            continue
        if not want:
            continue
        by_req[(s['conn'], s['args'].get('req'))] = str(s['flows_b'][0])
    want = {}
    for e in evs:
        if e['event'] in ('fill', 'push_timer_expire') and (key(e), e['req']) in by_req:
            want.setdefault(by_req[(key(e), e['req'])], []).append(e['ts_ns'])
    for f, steps in m['flows'].items():
        if bad >= 5:
            break
        kinds = [s[0] for s in steps]
        if kinds[0] != 'begin' or kinds[-1] != 'end' or len({s[2] for s in steps}) != 1:
            print('flow %s: %s' % (f, steps[:6]))
            bad += 1
        if sorted(s[1] for s in steps[1:-1]) != sorted(want.get(f, [])):
            print('flow %s passes through %s, want the fills and expiries at %s'
                  % (f, [s[1] for s in steps[1:-1]], want.get(f, [])))
            bad += 1
    if len(m['flows']) != len(by_req):
        print('%d flows for %d requests' % (len(m['flows']), len(by_req)))
        bad += 1
    return 1 if bad else 0


def cmd_counters(m, evs, chrome):
    """Queue depth and bytes held per connection: the same samples, value for value, as the
    chrome export's counters; and the depth a post reports is the counter's value then."""
    d = json.load(open(chrome))
    t0 = d['metadata']['clock']['trace_start_ns']
    pid_conn = {e['pid']: re.match(r'conn (\d+:\d+)', e['args']['name']).group(1)
                for e in d['traceEvents'] if e.get('name') == 'process_name'
                and e['args']['name'].startswith('conn ')}
    want = {}
    for e in d['traceEvents']:
        if e['ph'] == 'C' and e['pid'] in pid_conn and e['name'] in ('queue depth',
                                                                      'bytes in flight'):
            name = 'queue depth' if e['name'] == 'queue depth' else 'bytes held'
            v = e['args']['requests' if name == 'queue depth' else 'bytes']
            want.setdefault(pid_conn[e['pid']], {}).setdefault(name, []).append(
                [t0 + round(e['ts'] * 1000), v])
    got = {k: v for k, v in m['counters'].items() if k != 'engine'}
    bad = 0
    for k in sorted(set(want) | set(got)):
        for name in ('queue depth', 'bytes held'):
            w, g = want.get(k, {}).get(name, []), got.get(k, {}).get(name, [])
            if w != g:
                print('%s %s: chrome has %d samples, perfetto %d; first difference at %s'
                      % (k, name, len(w), len(g),
                         next((i for i, (a, b) in enumerate(zip(w, g)) if a != b),
                              min(len(w), len(g)))))
                bad += 1
    for e in evs:
        if e['event'] != 'post':
            continue
        # Samples are written on change: the post's depth is a sample at its time, or the
        # value already shown.
        series = got.get(key(e), {}).get('queue depth', [])
        at = [v for ts, v in series if ts == e['ts_ns']]
        before = [v for ts, v in series if ts < e['ts_ns']][-1:]
        if e['depth'] not in at + before:
            print('%s post of req %d at %d: depth %d, the counter says %s then, %s before'
                  % (key(e), e['req'], e['ts_ns'], e['depth'], at, before))
            bad += 1
            break
    return 1 if bad else 0


def cmd_compare(m, evs, chrome):
    """Every comparison: 'RESULT NAME ok|FAIL' per check, its differences before it."""
    bad = 0
    for name, fn, args in (('slices', cmd_slices, ()), ('instants', cmd_instants, ()),
                           ('flows', cmd_flows, ()), ('counters', cmd_counters, (chrome,))):
        rc = fn(m, evs, *args)
        print('RESULT %s %s' % (name, 'FAIL' if rc else 'ok'), flush=True)
        bad |= rc
    return bad


if __name__ == '__main__':
    cmds = {'slices': cmd_slices, 'instants': cmd_instants, 'flows': cmd_flows,
            'counters': cmd_counters, 'compare': cmd_compare}
    if len(sys.argv) == 3 and sys.argv[1] not in cmds:
        json.dump(model(sys.argv[1], sys.argv[2]), sys.stdout)
        sys.exit(0)
    if len(sys.argv) < 4 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    sys.exit(cmds[sys.argv[1]](json.load(open(sys.argv[2])), events(sys.argv[3]), *sys.argv[4:]))
