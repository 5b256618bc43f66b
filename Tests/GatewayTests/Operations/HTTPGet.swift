import Foundation

/// A one-shot HTTP/1.1 GET over a raw socket: status code and body.
func httpGet(port: Int, path: String) throws -> (status: Int, body: String) {
    let client = try RawClient(port: port)
    try client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    let (bytes, _) = client.readUntilClosed()
    let text = String(decoding: bytes, as: UTF8.self)
    guard let statusLine = text.split(separator: "\r\n").first,
          let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }),
          let bodyStart = text.range(of: "\r\n\r\n")
    else { throw TestFailure("not an HTTP response: \(text.prefix(200))") }
    return (status, String(text[bodyStart.upperBound...]))
}

/// The value of one Prometheus sample, e.g. `quicksell_requests_total{command="get"}`.
func sample(_ exposition: String, _ series: String) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}
