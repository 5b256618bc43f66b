import Testing

@testable import Gateway

/// The metrics port's places: idle connections cannot keep a readiness probe out.
@Suite struct ConnectionPlacesTests {
    @Test func aFullPortGivesTheOldestSilentConnectionsPlaceToANewcomer() {
        var places = ConnectionPlaces<Int>(capacity: 2)
        #expect(places.admit(1) == .admitted)
        #expect(places.admit(2) == .admitted)
        #expect(places.admit(3) == .admittedDisplacing(1))
        places.closed(1, displaced: true)  // its place went to 3
        #expect(places.count == 2)
        #expect(places.admit(4) == .admittedDisplacing(2))
    }

    @Test func connectionsThatSentARequestKeepTheirPlaces() {
        var places = ConnectionPlaces<Int>(capacity: 2)
        _ = places.admit(1)
        _ = places.admit(2)
        places.requestArrived(1)
        #expect(places.admit(3) == .admittedDisplacing(2))
        places.closed(2, displaced: true)
        places.requestArrived(3)
        #expect(places.admit(4) == .refused)  // every place is being answered
        places.closed(1, displaced: false)
        #expect(places.count == 1)
        #expect(places.admit(4) == .admitted)
    }

    @Test func aClosedSilentConnectionIsNeverDisplaced() {
        var places = ConnectionPlaces<Int>(capacity: 2)
        _ = places.admit(1)
        _ = places.admit(2)
        places.closed(1, displaced: false)
        #expect(places.admit(3) == .admitted)
        #expect(places.admit(4) == .admittedDisplacing(2))
    }

    @Test func theSilentQueueDoesNotGrowWithConnectionsThatCameAndWent() {
        var places = ConnectionPlaces<Int>(capacity: 64)
        for id in 0..<100_000 {
            #expect(places.admit(id) == .admitted)
            places.requestArrived(id)
            places.closed(id, displaced: false)
        }
        #expect(places.count == 0)
        #expect(places.queuedEntries < 200)
    }
}
