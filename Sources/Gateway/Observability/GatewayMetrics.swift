import CoreMetrics
import Prometheus
import Synchronization

/// The gateway's Prometheus metrics, through swift-metrics with swift-prometheus as the
/// backend. Each gateway has its own registry (no global bootstrap), so several gateways
/// can live in one process (tests) without mixing their figures.
///
/// The request counter and the latency histograms are recorded as things happen. The
/// counters the gateway already keeps for `INFO` (hits, misses, fills, invalidations, …)
/// are carried over at scrape time, by the amount they grew since the last scrape, so that
/// the hit path pays for one atomic add, not two.
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// The factory the read-through and invalidation modules make their own metrics with.
    package let factory: PrometheusMetricsFactory
    /// Per command: its request counter and latency histogram, found with one lookup.
    private let requests: [String: RequestMetrics]
    /// GET's entry of `requests`, found once: the hit path counts every GET without a lookup.
    private let getRequests: RequestMetrics?
    private let unknownRequests: CoreMetrics.Counter
    /// Counters carried over from `INFO`'s figures, by name and labels.
    private let carried = Mutex<[String: (counter: CoreMetrics.Counter, last: Int)]>([:])
    private let gauges = Mutex<[String: CoreMetrics.Gauge]>([:])

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
        ]
        self.factory = factory
        var requests: [String: RequestMetrics] = [:]
        for spec in CommandTable.all {
            requests[spec.name] = RequestMetrics(
                counter: CoreMetrics.Counter(
                    label: "quicksell_requests_total", dimensions: [("command", spec.name)], factory: factory),
                duration: CoreMetrics.Timer(
                    label: "quicksell_request_duration_seconds", dimensions: [("command", spec.name)], factory: factory))
        }
        self.requests = requests
        self.getRequests = requests["get"]
        unknownRequests = CoreMetrics.Counter(
            label: "quicksell_requests_total", dimensions: [("command", "unknown")], factory: factory)
    }

    /// Counts one request of `command` (its table name) and returns where to record its
    /// duration; nil counts it as unknown.
    func requestStarted(_ command: String?) -> CoreMetrics.Timer? {
        guard let command, let metrics = requests[command] else {
            unknownRequests.increment()
            return nil
        }
        metrics.counter.increment()
        return metrics.duration
    }

    /// `requestStarted("get")` without the lookup (the hit path's form).
    func getRequestStarted() -> CoreMetrics.Timer? {
        guard let getRequests else { return requestStarted("get") }
        getRequests.counter.increment()
        return getRequests.duration
    }

    /// GET's latency histogram: what `getRequestStarted` returns, for callers that hold it.
    var getRequestDuration: CoreMetrics.Timer? { getRequests?.duration }

    /// Carries a monotonic figure over into a Prometheus counter.
    func carry(_ name: String, labels: [(String, String)] = [], total: Int) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        carried.withLock { carried in
            let entry = carried[key] ?? (CoreMetrics.Counter(label: name, dimensions: labels, factory: factory), 0)
            if total > entry.last { entry.counter.increment(by: total - entry.last) }
            carried[key] = (entry.counter, max(total, entry.last))
        }
    }

    /// Sets a gauge to its current value.
    func gauge(_ name: String, labels: [(String, String)] = [], value: Double) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        gauges.withLock { gauges in
            let gauge = gauges[key] ?? CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
            gauges[key] = gauge
            gauge.record(value)
        }
    }
}

/// The metrics of one command.
struct RequestMetrics: Sendable {
    let counter: CoreMetrics.Counter
    let duration: CoreMetrics.Timer
}
