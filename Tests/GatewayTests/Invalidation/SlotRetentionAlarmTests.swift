import Invalidation
import Testing

/// The slot warning is logged once per crossing of the threshold, not on every reading.
@Suite struct SlotRetentionAlarmTests {
    @Test func warnsOnceWhenCrossingAboveAndOnceWhenFallingBelow() {
        var alarm = SlotRetentionAlarm(thresholdBytes: 100)
        #expect(alarm.observe(50) == nil)
        #expect(alarm.observe(100) == nil, "at the threshold is not over it")
        #expect(alarm.observe(101) == .crossedAbove)
        #expect(alarm.observe(5_000) == nil)
        #expect(alarm.observe(5_000) == nil)
        #expect(alarm.observe(20) == .fellBelow)
        #expect(alarm.observe(20) == nil)
        #expect(alarm.observe(200) == .crossedAbove)
    }

    @Test func aZeroThresholdNeverWarns() {
        var alarm = SlotRetentionAlarm(thresholdBytes: 0)
        #expect(alarm.observe(1 << 40) == nil)
        #expect(alarm.observe(0) == nil)
    }
}
