import ProxyARPCore

/// Re-runs a trace through fresh machines and reports where they act differently.
///
/// A machine is replayed from its creation record; subjects whose creation was dropped
/// from the ring are skipped and counted. The selection is replayed only when the trace
/// starts at sequence 1 (otherwise its earlier state is unknown).
public struct TraceReplay: Sendable {
    /// One record whose replay did not match.
    public struct Divergence: Sendable, Equatable, CustomStringConvertible {
        /// The record's sequence number.
        public var sequence: UInt64
        /// Its subject.
        public var subject: TraceSubject
        /// What the trace says the machine did.
        public var recorded: String
        /// What the fresh machine did.
        public var replayed: String

        /// `#12 198.18.0.5: recorded ... replayed ...`.
        public var description: String {
            "#\(sequence) \(subject.label): recorded \(recorded) | replayed \(replayed)"
        }
    }

    /// The outcome of a replay.
    public struct Report: Sendable, Equatable {
        /// Records replayed and compared.
        public var replayed = 0
        /// Records skipped because their machine's creation was not in the trace.
        public var skipped = 0
        /// Mismatches, in trace order.
        public var divergences: [Divergence] = []
    }

    /// Replays `records` (in any order; they are sorted by sequence).
    public static func replay(_ records: [MachineTraceRecord]) -> Report {
        var report = Report()
        var vips: [IPAddress: VIPActivationStateMachine] = [:]
        var adapters: [AdapterName: AdapterHealthStateMachine] = [:]
        var units: [String: OwnershipStateMachine] = [:]
        let sorted = records.sorted { $0.sequence < $1.sequence }
        var selection: AgentSelection? = sorted.first?.sequence == 1 ? AgentSelection() : nil

        for record in sorted {
            let result: (action: String, state: String)?
            switch (record.subject, record.event) {
            case (.vip(let vip), .vipCreated(let settings)):
                var machine = VIPActivationStateMachine(vip: vip, settings: settings, now: record.monotonic)
                machine.assertsOnUnreachable = false
                vips[vip] = machine
                result = ("none", machine.state.description)
            case (.vip(let vip), .vip(let event)):
                guard var machine = vips[vip] else { result = nil; break }
                let action: String
                do { action = try machine.handle(event).description } catch { action = "unreachable(\(error.event))" }
                vips[vip] = machine
                result = (action, machine.state.description)
            case (.adapter(let name), .adapterCreated(let settings)):
                var machine = AdapterHealthStateMachine(adapter: name, settings: settings, now: record.monotonic)
                machine.assertsOnUnreachable = false
                adapters[name] = machine
                result = ("none", machine.state.description)
            case (.adapter(let name), .adapter(let event)):
                guard var machine = adapters[name] else { result = nil; break }
                let action: String
                do { action = try machine.handle(event).description } catch { action = "unreachable(\(error.event))" }
                adapters[name] = machine
                result = (action, machine.state.description)
            case (.selector, .selection(let event)):
                guard var current = selection else { result = nil; break }
                let action = current.apply(event)
                selection = current
                result = (action, current.summary)
            case (.unit(let unit), .ownershipCreated(let creation)):
                guard creation.isReplayable, Self.isReplayable(record.monotonic) else { result = nil; break }
                var machine = OwnershipStateMachine(unit: unit, host: creation.host, settings: creation.settings)
                machine.assertsOnUnreachable = false
                units[unit] = machine
                result = ("none", machine.description)
            case (.unit(let unit), .ownership(let event)):
                guard var machine = units[unit] else { result = nil; break }
                guard event.isReplayable, Self.isReplayable(record.monotonic) else {
                    result = ("invalid(\(event.name))", machine.description)
                    break
                }
                let action: String
                do { action = try machine.handle(event, now: record.monotonic).description } catch { action = "unreachable(\(error.event))" }
                units[unit] = machine
                result = (action, machine.description)
            default:
                result = nil
            }
            guard let result else {
                report.skipped += 1
                continue
            }
            report.replayed += 1
            if result.action != record.action || result.state != record.to {
                report.divergences.append(
                    Divergence(
                        sequence: record.sequence, subject: record.subject,
                        recorded: "\(record.action) -> \(record.to)", replayed: "\(result.action) -> \(result.state)"
                    )
                )
            }
        }
        return report
    }

    /// True for a time a machine can add its delays to without overflow (the daemon's
    /// monotonic clock is far inside it; a dump is untrusted).
    static func isReplayable(_ instant: Instant) -> Bool {
        (-(Int64(1) << 61)...(Int64(1) << 61)).contains(instant.nanoseconds)
    }
}
