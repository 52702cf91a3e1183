import BenchmarkFixtures
import ProxyARPCore

// Instruction counts for the fast path, without the benchmark harness (perf counters are
// not available on every machine; valgrind is):
//
//     valgrind --tool=callgrind --toggle-collect='*answerBatch*' \
//         .build/release/FastPathCount [VIPS] [BATCHES]
//
// Ir collected / (BATCHES × 256) = instructions per frame of Core's AnswerKernel, the
// production per-frame code (parse + decide + encode + tallies, per-VIP reply count).
// A third argument `ndp` runs Neighbor Solicitations for IPv6 VIPs instead of ARP requests.
let arguments = CommandLine.arguments
let vipCount = arguments.count > 1 ? Int(arguments[1]) ?? 1 : 1
let batches = arguments.count > 2 ? Int(arguments[2]) ?? 100 : 100
let ndp = arguments.count > 3 && arguments[3] == "ndp"
let view = ndp ? Fixtures.ndpView(vipCount: vipCount) : Fixtures.view(vipCount: vipCount)
let batch = ndp ? Fixtures.ndpBatch(count: 256, vipCount: vipCount) : Fixtures.batch(count: 256, vipCount: vipCount)
let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: AnswerKernel.replyCapacity, alignment: 8)
// The per-VIP reply table gets room for one entry per frame before the counted batches, as
// `AdapterIO` hands in its table with the capacity of earlier batches. The counted batches are
// then the steady state: without the first batch's growth of the table and the one-time
// instantiation of its storage's type metadata (about 146,000 instructions, most of them a
// runtime conformance lookup: 5.5 a frame over 100 batches at 1 VIP, 9.2 with the growth at
// 100,000).
var repliesByVIP: [IPv4Address: UInt32] = [:]
repliesByVIP.reserveCapacity(batch.count)
var replies = 0
for _ in 0..<batches { replies += answerBatch(batch, view: view, reply: reply, repliesByVIP: &repliesByVIP) }
print("\(replies) replies to \(batches) batches of 256 at \(vipCount) \(ndp ? "IPv6 " : "")VIPs")
