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
var repliesByVIP: [IPv4Address: UInt32] = [:]
var replies = 0
for _ in 0..<batches { replies += answerBatch(batch, view: view, reply: reply, repliesByVIP: &repliesByVIP) }
print("\(replies) replies to \(batches) batches of 256 at \(vipCount) \(ndp ? "IPv6 " : "")VIPs")
