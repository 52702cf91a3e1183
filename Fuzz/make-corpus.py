#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (Fuzz/Corpus/<target>/) from the repository's
fixtures. Run from anywhere; rerun when a fixture changes. Standard library only.

  frames   every frame of Tests/Fixtures/*.pcap, one file per frame
  config   proxyarpd.example.yaml and the YAML documents of Tests/ConfigTests/*.swift
  control  real request lines and reply lines (as ControlCodec writes them), and the
           first trace records of Fuzz/Seeds/trace-demo.jsonl as a `trace` reply streams them
  trace    Fuzz/Seeds/trace-demo.jsonl (a SIGUSR1 dump of `proxyarpd-lab demo`) and slices of it;
           Fuzz/Seeds/trace-cluster.jsonl (a cluster host's trace, ownership records) and slices of it
"""
import hashlib, pathlib, re, struct

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "Corpus"


def put(target, name, data):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (directory / name).write_bytes(data)


def put_lines(target, prefix, lines):
    """One seed per line: PREFIX-1, PREFIX-2, ..., each with its newline."""
    for number, line in enumerate(lines, start=1):
        put(target, f"{prefix}-{number}", line + "\n")


def pcap_frames(path):
    data = path.read_bytes()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    offset = 24
    while offset + 16 <= len(data):
        _, _, captured, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        offset += 16
        yield data[offset:offset + captured]
        offset += captured


def swift_yaml_documents(path):
    """The multi-line string literals of a test file that look like a proxyarpd file."""
    text = path.read_text()
    for match in re.finditer(r'"""\n(.*?)\n([ \t]*)"""', text, re.S):
        body, indent = match.group(1), match.group(2)
        lines = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in body.split("\n")]
        document = "\n".join(lines) + "\n"
        if re.search(r"^(adapters|vips|timers|control|daemon|metrics|selection):", document, re.M):
            yield document


def main():
    for pcap in sorted((ROOT / "Tests/Fixtures").glob("*.pcap")):
        for number, frame in enumerate(pcap_frames(pcap), start=1):
            put("frames", f"{pcap.stem}-{number:02}", frame)

    put("config", "proxyarpd.example.yaml", (ROOT / "proxyarpd.example.yaml").read_bytes())
    for test in sorted((ROOT / "Tests/ConfigTests").glob("*.swift")):
        for document in swift_yaml_documents(test):
            digest = hashlib.sha1(document.encode()).hexdigest()[:8]
            put("config", f"{test.stem}-{digest}.yaml", document)

    requests = [
        '{"command":"status"}',
        '{"command":"reload"}',
        '{"command":"trace"}',
        '{"adapter":"h0","command":"trace","follow":true}',
        '{"command":"trace","follow":true,"sinceNanoseconds":42,"vip":"198.18.0.100"}',
    ]
    put_lines("control", "request", requests)
    engine = ('{"adapters":[{"adminUp":true,"carrier":true,"eligible":true,"mac":"02:00:00:00:00:01","name":"eth0",'
              '"state":"eligible(txerr 0)","vipCount":1}],"conflicts":0,"vips":[{"agent":"eth0",'
              '"agentMAC":"02:00:00:00:00:01","announcementsConfirmed":3,"announcementsSent":3,'
              '"confirmation":"heard by eth1","detail":"active(eth0 epoch 1 rounds 3)","failovers":0,'
              '"localAddress":"198.18.0.10","since":5000000000,"state":"active","vip":"198.18.0.100"}]}')
    replies = [
        '{"ok":true,"status":{"engine":' + engine + ',"io":[{"adapter":"eth0","controlFramesSent":6,'
        '"framesSeen":12,"injectErrors":0,"repliesSent":4,"requestsSeen":5}],"monotonicNanoseconds":9000000000,'
        '"repliesByVIP":{"198.18.0.100":4},"wallNanoseconds":1700000000000000000}}',
        '{"ok":true,"reload":{"added":1,"changed":0,"removed":2}}',
        '{"error":"reload refused","errors":["f.yaml:3: bad"],"ok":false}',
        '{"end":{"dropped":0,"records":3},"ok":true}',
    ]
    put_lines("control", "reply", replies)

    dump = (FUZZ / "Seeds/trace-demo.jsonl").read_text().splitlines(keepends=True)
    put("trace", "trace-demo.jsonl", "".join(dump))
    for size in (1, 4, 16):
        put("trace", f"trace-demo-first-{size}.jsonl", "".join(dump[:size]))
    put("control", "trace-stream", "".join(dump[:6]) + replies[3] + "\n")
    put_lines("control", "trace-record", [line.rstrip("\n") for line in dump[:8]])

    # Cluster mode: a `proxyarpd trace` of one host of the cluster lab (ownership records).
    cluster = (FUZZ / "Seeds/trace-cluster.jsonl").read_text().splitlines(keepends=True)
    put("trace", "trace-cluster.jsonl", "".join(cluster))
    units = [line for line in cluster if '"unit":' in line]
    for size in (1, 4, 16):
        put("trace", f"trace-cluster-units-{size}.jsonl", "".join(units[:size]))
    put_lines("control", "trace-record-unit", [line.rstrip("\n") for line in units[:8]])


if __name__ == "__main__":
    main()
