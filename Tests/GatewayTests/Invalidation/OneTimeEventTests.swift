@testable import Invalidation
import Testing

/// How async code awaits the listener's thread (its first catch-up, its exit) without blocking.
@Suite(.timeLimit(.minutes(1))) struct OneTimeEventTests {
    @Test func waitersFromBeforeAndAfterTheEventAllReturn() async {
        let event = OneTimeEvent()
        let returned = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    await event.wait()
                    return 1
                }
            }
            event.signal()
            event.signal()  // a second signal changes nothing
            return await group.reduce(0, +)
        }
        await event.wait()  // after the event: returns at once
        #expect(returned == 3)
    }
}
