import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import ProxyARPCore
import Synchronization

/// ``OwnershipStore`` over etcd's v3 JSON gateway (`/v3/…`, served by etcd 3.4 and later on
/// its client port), through async-http-client.
///
/// - One POST per call; a lease keepalive is one POST to `/v3/lease/keepalive` whose body
///   holds one request, answered by one `{"result":…}` object.
/// - Several endpoints: calls go to the last one that answered and move on to the next
///   when it cannot be reached or has no leader, so a dead member costs one timeout once.
/// - TLS through the HTTP client's `TLSConfiguration` (CA, optional client certificate);
///   etcd authentication through `/v3/auth/authenticate`, whose token goes in the
///   `Authorization` header and is fetched again when the server calls it invalid. One
///   token request at a time: the calls that find the token invalid meanwhile await it
///   (each request costs the member a bcrypt check), and a call refused with a token older
///   than the current one retries with the current one without asking.
/// - What the gateway does to values lives in ``EtcdJSON``.
public final class EtcdOwnershipStore: OwnershipStore {
    /// Timeouts of the client.
    public struct Options: Sendable {
        /// A unary call on one endpoint (connect included) before the next endpoint is tried.
        public var requestTimeout: Duration
        /// TCP (and TLS) connect timeout.
        public var connectTimeout: Duration
        /// A watch that receives nothing for this long ends with ``OwnershipStoreError/silent``.
        public var watchSilenceLimit: Duration
        /// `/v3/auth/authenticate` on one endpoint: etcd checks the password with bcrypt, which
        /// takes tens of milliseconds on an idle member and can pass 400 ms on a loaded one.
        /// etcd's own Go client fetches its token under the dial timeout (`etcdctl`: 2 s).
        public var authenticationTimeout: Duration
        /// After etcd refused the credentials, calls fail with that refusal for this long
        /// without asking again: each refused attempt costs the member a bcrypt check.
        public var refusalHoldoff: Duration

        /// The defaults: 400 ms per call, 250 ms to connect, 30 s of watch silence, 2 s to
        /// authenticate, 1 s between refused authentications.
        public init(
            requestTimeout: Duration = .milliseconds(400), connectTimeout: Duration = .milliseconds(250),
            watchSilenceLimit: Duration = .seconds(30), authenticationTimeout: Duration = .seconds(2),
            refusalHoldoff: Duration = .seconds(1)
        ) {
            self.requestTimeout = requestTimeout
            self.connectTimeout = connectTimeout
            self.watchSilenceLimit = watchSilenceLimit
            self.authenticationTimeout = authenticationTimeout
            self.refusalHoldoff = refusalHoldoff
        }
    }

    private struct State {
        var current = 0
        var token: String?
        /// Counts the tokens fetched: a call refused with an older one retries with `token`.
        var tokenGeneration: UInt64 = 0
        /// The token request in flight, which every call refused meanwhile awaits.
        var tokenRequest: Task<Result<Void, OwnershipStoreError>, Never>?
        /// The last refusal of our credentials, and until when it is answered without asking etcd.
        var refusal: (message: String, until: ContinuousClock.Instant)?
    }

    /// The client URLs, without a trailing slash.
    public let endpoints: [String]
    private let credentials: (username: String, password: String)?
    private let options: Options
    private let client: HTTPClient
    private let state = Mutex(State())
    private let logger: Logger
    private let roundTrip: @Sendable (Duration) -> Void

    /// Creates the client; `roundTrip` hears the duration of each successful call (metrics).
    /// - Throws: ``OwnershipStoreError/protocolError(_:)`` when the TLS files cannot be read.
    public init(
        configuration: EtcdConfiguration, options: Options = Options(), logger: Logger,
        roundTrip: @escaping @Sendable (Duration) -> Void = { _ in }
    ) throws(OwnershipStoreError) {
        var httpConfiguration = HTTPClient.Configuration(
            timeout: .init(connect: .nanoseconds(options.connectTimeout.nanosecondsClamped)))
        httpConfiguration.httpVersion = .http1Only
        if let tls = configuration.tls {
            do {
                var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
                tlsConfiguration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(tls.caFile))
                if let certificate = tls.certificateFile, let key = tls.keyFile {
                    tlsConfiguration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                    tlsConfiguration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                }
                httpConfiguration.tlsConfiguration = tlsConfiguration
            } catch {
                throw .protocolError("cannot load the TLS files: \(error)")
            }
        }
        self.endpoints = configuration.endpoints
        if let username = configuration.username {
            self.credentials = (username, configuration.password ?? "")
        } else {
            self.credentials = nil
        }
        self.options = options
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        self.logger = logger
        self.roundTrip = roundTrip
    }

    /// Closes the client's connections; call once, after the last call returned.
    public func shutdown() async {
        try? await client.shutdown()
    }

    // MARK: OwnershipStore

    public func grantLease(ttl: Duration) async throws(OwnershipStoreError) -> LeaseGrant {
        let seconds = max(1, ttl.components.seconds)
        let response = try await call("/v3/lease/grant", ["TTL": String(seconds)])
        guard let id = EtcdJSON.int64(response["ID"]), id != 0, let granted = EtcdJSON.int64(response["TTL"]), granted > 0 else {
            throw .protocolError("lease grant without ID or TTL: \(response)")
        }
        return LeaseGrant(id: LeaseID(rawValue: id), ttl: .seconds(granted))
    }

    public func keepAlive(_ lease: LeaseID) async throws(OwnershipStoreError) -> Duration? {
        let response = try await call("/v3/lease/keepalive", ["ID": String(lease.rawValue)])
        if let error = response["error"] as? EtcdJSON.Object {
            throw .protocolError("keepalive: \(error["message"] ?? error)")
        }
        guard let result = response["result"] as? EtcdJSON.Object else {
            throw .protocolError("keepalive reply without result: \(response)")
        }
        // The lease is gone when the TTL is left out (zero) or negative.
        guard let ttl = EtcdJSON.int64(result["TTL"]), ttl > 0 else { return nil }
        return .seconds(ttl)
    }

    public func revokeLease(_ lease: LeaseID) async throws(OwnershipStoreError) {
        do {
            _ = try await call("/v3/lease/revoke", ["ID": String(lease.rawValue)])
        } catch .protocolError(let text) where text.contains("lease not found") {
            return  // already expired: the keys are gone either way
        }
    }

    public func claim(key: String, value: String, lease: LeaseID) async throws(OwnershipStoreError) -> ClaimOutcome {
        let key64 = EtcdJSON.base64(key)
        let request: EtcdJSON.Object = [
            "compare": [["target": "CREATE", "result": "EQUAL", "key": key64, "create_revision": "0"]],
            "success": [["request_put": ["key": key64, "value": EtcdJSON.base64(value), "lease": String(lease.rawValue)]]],
            "failure": [["request_range": ["key": key64]]],
        ]
        let response = try await call("/v3/kv/txn", request)
        if response["succeeded"] as? Bool == true {
            // The put is the transaction's only write: the header revision is the key's create_revision.
            let revision = EtcdJSON.revision(response)
            guard revision > 0 else { throw .protocolError("claim succeeded without a revision: \(response)") }
            return .claimed(FencingToken(rawValue: revision))
        }
        let responses = response["responses"] as? [EtcdJSON.Object] ?? []
        let range = responses.first?["response_range"] as? EtcdJSON.Object
        let holder = (range?["kvs"] as? [EtcdJSON.Object])?.first.flatMap(EtcdJSON.record)
        return .taken(holder)
    }

    public func release(key: String, token: FencingToken) async throws(OwnershipStoreError) -> Bool {
        let key64 = EtcdJSON.base64(key)
        let request: EtcdJSON.Object = [
            "compare": [["target": "CREATE", "result": "EQUAL", "key": key64, "create_revision": String(token.rawValue)]],
            "success": [["request_delete_range": ["key": key64]]],
        ]
        let response = try await call("/v3/kv/txn", request)
        return response["succeeded"] as? Bool == true
    }

    public func reassert(key: String, value: String, lease: LeaseID, token: FencingToken) async throws(OwnershipStoreError) -> Bool {
        let key64 = EtcdJSON.base64(key)
        let request: EtcdJSON.Object = [
            "compare": [["target": "CREATE", "result": "EQUAL", "key": key64, "create_revision": String(token.rawValue)]],
            "success": [["request_put": ["key": key64, "value": EtcdJSON.base64(value), "lease": String(lease.rawValue)]]],
        ]
        let response = try await call("/v3/kv/txn", request)
        return response["succeeded"] as? Bool == true
    }

    public func list(prefix: String) async throws(OwnershipStoreError) -> OwnershipSnapshot {
        let request: EtcdJSON.Object = [
            "key": EtcdJSON.base64(prefix), "range_end": EtcdJSON.base64(bytes: EtcdJSON.rangeEnd(ofPrefix: prefix)),
        ]
        let response = try await call("/v3/kv/range", request)
        var records: [OwnershipRecord] = []
        for kv in response["kvs"] as? [EtcdJSON.Object] ?? [] {
            if let record = EtcdJSON.record(kv) {
                records.append(record)
            } else {
                logger.warning("ignoring a key under the prefix that is not text", metadata: ["kv": "\(kv)"])
            }
        }
        return OwnershipSnapshot(records: records, revision: EtcdJSON.revision(response))
    }

    public func watch(
        prefix: String, afterRevision: Int64, onChanges: @escaping @Sendable ([OwnershipChange]) async -> Void
    ) async throws(OwnershipStoreError) {
        let create: EtcdJSON.Object = [
            "create_request": [
                "key": EtcdJSON.base64(prefix), "range_end": EtcdJSON.base64(bytes: EtcdJSON.rangeEnd(ofPrefix: prefix)),
                "start_revision": String(afterRevision + 1),
            ]
        ]
        let body = try EtcdJSON.encode(create)
        let endpoint = endpoints[state.withLock { $0.current } % endpoints.count]
        let silence = options.watchSilenceLimit
        let lastHeard = WatchActivity()
        let logger = self.logger
        let (request, _) = makeRequest(endpoint, "/v3/watch", body)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let response = try await self.client.execute(request, deadline: .distantFuture)
                    guard response.status == .ok else {
                        throw OwnershipStoreError.protocolError("watch on \(endpoint): HTTP \(response.status.code)")
                    }
                    var splitter = JSONObjectSplitter()
                    for try await chunk in response.body {
                        lastHeard.touch()
                        guard let objects = splitter.feed(chunk.readableBytesView) else {
                            throw OwnershipStoreError.protocolError("watch on \(endpoint): a response over the size limit")
                        }
                        for object in objects {
                            let changes = try Self.watchChanges(object, logger: logger)
                            if !changes.isEmpty { await onChanges(changes) }
                        }
                    }
                    throw OwnershipStoreError.unreachable("watch on \(endpoint): the stream ended")
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: silence / 4)
                        if lastHeard.silence > silence { throw OwnershipStoreError.silent }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as OwnershipStoreError {
            throw error
        } catch is CancellationError {
            return
        } catch {
            if Task.isCancelled { return }
            rotate(away: endpoint)
            throw .unreachable("watch on \(endpoint): \(error)")
        }
    }

    /// The changes in one watch response; throws when the watch was cancelled by the server.
    static func watchChanges(_ bytes: [UInt8], logger: Logger) throws(OwnershipStoreError) -> [OwnershipChange] {
        let object: EtcdJSON.Object
        do {
            object = try EtcdJSON.decode(bytes)
        } catch {
            logger.warning("ignoring a malformed watch response", metadata: ["error": "\(error)"])
            return []
        }
        if let error = object["error"] as? EtcdJSON.Object {
            throw .protocolError("watch: \(error["message"] ?? error)")
        }
        guard let result = object["result"] as? EtcdJSON.Object else {
            logger.warning("ignoring a watch response without result")
            return []
        }
        if let compacted = EtcdJSON.int64(result["compact_revision"]), compacted > 0 {
            throw .compacted(compacted)
        }
        if result["canceled"] as? Bool == true {
            throw .protocolError("watch canceled by the server: \(result["cancel_reason"] ?? "")")
        }
        let revision = EtcdJSON.revision(result)
        var changes: [OwnershipChange] = []
        // Element by element: one event that is not an object must not hide the others.
        for element in result["events"] as? [Any] ?? [] {
            guard let event = element as? EtcdJSON.Object, let kv = event["kv"] as? EtcdJSON.Object else {
                logger.warning("ignoring a malformed watch event", metadata: ["event": "\(element)"])
                continue
            }
            let eventRevision = EtcdJSON.int64(kv["mod_revision"]).flatMap { $0 > 0 ? $0 : nil } ?? revision
            // proto3 JSON leaves the zero value out: no "type" is PUT.
            switch event["type"] as? String {
            case nil, "PUT":
                if let record = EtcdJSON.record(kv) {
                    changes.append(.put(record, revision: eventRevision))
                } else {
                    logger.warning("ignoring a watch event whose key or value is not ours", metadata: ["kv": "\(kv)"])
                }
            case "DELETE":
                if let key = EtcdJSON.text(base64: kv["key"]) {
                    changes.append(.delete(key: key, revision: eventRevision))
                } else {
                    logger.warning("ignoring a watch event whose key is not ours", metadata: ["kv": "\(kv)"])
                }
            case let other:
                logger.warning("ignoring a watch event of unknown type", metadata: ["type": "\(other ?? "")"])
            }
        }
        return changes
    }

    // MARK: Calls

    /// POSTs `body` to `path`, failing over across the endpoints.
    func call(_ path: String, _ body: EtcdJSON.Object) async throws(OwnershipStoreError) -> EtcdJSON.Object {
        let bytes = try EtcdJSON.encode(body)
        let first = state.withLock { $0.current }
        var lastError = OwnershipStoreError.unreachable("no endpoint")
        for attempt in 0..<endpoints.count {
            let index = (first + attempt) % endpoints.count
            do {
                let response = try await post(endpoints[index], path, bytes, mayAuthenticate: true)
                if attempt > 0 { state.withLock { $0.current = index } }
                return response
            } catch {
                guard case .unreachable = error else { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    private func post(
        _ endpoint: String, _ path: String, _ bytes: [UInt8], mayAuthenticate: Bool, timeout: Duration? = nil, sendsToken: Bool = true
    ) async throws(OwnershipStoreError) -> EtcdJSON.Object {
        let (request, tokenGeneration) = makeRequest(endpoint, path, bytes, sendsToken: sendsToken)
        let started = ContinuousClock.now
        let status: UInt
        let body: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: .nanoseconds((timeout ?? options.requestTimeout).nanosecondsClamped))
            status = response.status.code
            body = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw .unreachable("\(endpoint)\(path): \(error)")
        }
        let object = try EtcdJSON.decode(body.readableBytesView)
        if status == 200 {
            roundTrip(ContinuousClock.now - started)
            return object
        }
        let message = object["error"] as? String ?? object["message"] as? String ?? "\(object)"
        let code = EtcdJSON.int64(object["code"]) ?? 0
        // 16 unauthenticated; 3 "user name is empty" when auth is on and no token was sent.
        if code == 16 || message.contains("auth token") || message.contains("user name is empty") {
            guard mayAuthenticate, credentials != nil else { throw .unauthenticated(message) }
            try await refreshToken(endpoint, refused: tokenGeneration)
            return try await post(endpoint, path, bytes, mayAuthenticate: false)
        }
        // 14 unavailable (no leader, stopping), 4 deadline exceeded: try another member.
        if code == 14 || code == 4 || status == 503 {
            throw .unreachable("\(endpoint)\(path): \(message)")
        }
        throw .protocolError("\(endpoint)\(path): HTTP \(status): \(message)")
    }

    /// Makes sure a newer token than `generation` (the one a call was refused with) is held,
    /// with at most one token request in flight: a call refused with an older token returns
    /// at once (it retries with the current one), a call refused while a request is in
    /// flight awaits that request's outcome, otherwise it starts one on `endpoint`. Callers
    /// that awaited a request share its outcome, a refusal or an unreachable endpoint
    /// included (their call then moves on to the next endpoint). A refusal is answered from
    /// memory for ``Options/refusalHoldoff``.
    ///
    /// The request runs in its own task, so a caller's cancellation does not fail the others;
    /// its callers await it (at most ``Options/authenticationTimeout``), so none outlives the
    /// calls that wait for it.
    private func refreshToken(_ endpoint: String, refused generation: UInt64) async throws(OwnershipStoreError) {
        guard let credentials else { return }
        enum Next {
            case retry
            case refused(String)
            case await(Task<Result<Void, OwnershipStoreError>, Never>)
        }
        let now = ContinuousClock.now
        let next = state.withLock { state -> Next in
            if state.tokenGeneration != generation { return .retry }
            if let refusal = state.refusal, now < refusal.until { return .refused(refusal.message) }
            if let request = state.tokenRequest { return .await(request) }
            let request = Task { await self.requestToken(endpoint, credentials) }
            state.tokenRequest = request
            return .await(request)
        }
        switch next {
        case .retry: return
        case .refused(let message): throw .unauthenticated(message)
        case .await(let request): try await request.value.get()
        }
    }

    /// Asks `endpoint` for a token with ``Options/authenticationTimeout`` (without sending
    /// the refused one) and records the outcome: the new token, or a refusal and its
    /// hold-off; an unreachable endpoint or an answer without a token changes nothing. Ends
    /// the request in flight, under the same lock.
    private func requestToken(
        _ endpoint: String, _ credentials: (username: String, password: String)
    ) async -> Result<Void, OwnershipStoreError> {
        enum Outcome {
            case token(String)
            case refused(String)
            case failed(OwnershipStoreError)
        }
        let outcome: Outcome
        do throws(OwnershipStoreError) {
            let bytes = try EtcdJSON.encode(["name": credentials.username, "password": credentials.password])
            let response = try await post(
                endpoint, "/v3/auth/authenticate", bytes, mayAuthenticate: false, timeout: options.authenticationTimeout, sendsToken: false)
            if let token = response["token"] as? String, !token.isEmpty {
                outcome = .token(token)
            } else {
                outcome = .failed(.unauthenticated("no token in the answer of \(endpoint)"))
            }
        } catch .unreachable(let message) {
            outcome = .failed(.unreachable(message))
        } catch {
            outcome = .refused("\(error)")
        }
        let refusedUntil = ContinuousClock.now.advanced(by: options.refusalHoldoff)
        return state.withLock { state -> Result<Void, OwnershipStoreError> in
            state.tokenRequest = nil
            switch outcome {
            case .token(let token):
                state.token = token
                state.tokenGeneration &+= 1
                state.refusal = nil
                return .success(())
            case .refused(let message):
                state.token = nil
                state.refusal = (message, refusedUntil)
                return .failure(.unauthenticated(message))
            case .failed(let error):
                return .failure(error)
            }
        }
    }

    /// The POST of `bytes` to `endpoint` + `path`, with the current token unless `sendsToken`
    /// is false, and the generation of the token it carries.
    private func makeRequest(_ endpoint: String, _ path: String, _ bytes: [UInt8], sendsToken: Bool = true) -> (HTTPClientRequest, UInt64) {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let (token, generation) = state.withLock { ($0.token, $0.tokenGeneration) }
        if sendsToken, let token {
            request.headers.add(name: "Authorization", value: token)
        }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        return (request, generation)
    }

    private func rotate(away endpoint: String) {
        state.withLock { state in
            if endpoints[state.current % endpoints.count] == endpoint {
                state.current = (state.current + 1) % endpoints.count
            }
        }
    }
}

/// When a watch last heard anything, readable from its silence watchdog.
private final class WatchActivity: Sendable {
    private let last = Atomic<Int64>(WatchActivity.nowNanoseconds())

    func touch() { last.store(Self.nowNanoseconds(), ordering: .relaxed) }

    var silence: Duration { .nanoseconds(Self.nowNanoseconds() - last.load(ordering: .relaxed)) }

    private static func nowNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
