import Glibc

/// Wall-clock time, comparable with PostgreSQL's commit timestamps (invalidation lag) and what
/// `INFO` reports as the server's time.
package enum WallClock {
    package static func nowMicroseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000
    }
}
