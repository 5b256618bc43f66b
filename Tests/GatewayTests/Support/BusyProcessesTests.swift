import Foundation
import Testing
import TestSupport

/// The helper that keeps the cores busy must stop what it started, and only that.
@Suite struct BusyProcessesTests {
    @Test func busyProcessesRunUntilStoppedByPid() throws {
        let busy = try BusyProcesses(count: 2, bound: .seconds(30))
        let pids = busy.pids
        #expect(pids.count == 2)
        Thread.sleep(forTimeInterval: 0.2)
        for pid in pids {
            #expect(kill(pid, 0) == 0, "\(pid) is not running")
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            #expect(!children.trimmingCharacters(in: .whitespaces).isEmpty, "timeout \(pid) runs no busy loop")
        }
        let started = ContinuousClock.now
        busy.stop()
        #expect(ContinuousClock.now - started < .seconds(10), "stop() waited for the bound instead of stopping them")
        for pid in pids { #expect(kill(pid, 0) == -1, "\(pid) survived stop()") }
    }
}
