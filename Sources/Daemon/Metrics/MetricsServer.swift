import Hummingbird
import Logging
import ProxyARPCore
import ProxyARPIO
import ServiceLifecycle

/// `GET /metrics` on the configured loopback address: a Hummingbird application, run as
/// a service of the daemon's group.
enum MetricsServer {
    /// The service, or nil when `configuration.port` is 0 (metrics off).
    /// - Parameter listening: called once the listening socket is bound.
    static func make(
        configuration: MetricsConfiguration, metrics: PrometheusMetrics, io: PcapFrameIO, logger: Logger,
        listening: @escaping @Sendable () -> Void
    ) -> (any Service)? {
        guard configuration.port != 0 else { return nil }
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            let body = metrics.scrape(io: io)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
            )
        }
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .notice)
        let host = configuration.host
        let port = configuration.port
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                logger.info(
                    "metrics listening",
                    metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "\(host):\(port)")", "path": "/metrics"]
                )
                listening()
            },
            logger: serverLogger
        )
    }
}
