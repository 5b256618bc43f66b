import ArgumentParser
import CacheModel
import Foundation
import Postgres

/// `quicksell-cache slots`: the database's logical replication slots, the WAL each holds back
/// and whether a gateway streams it; `--drop NAME` retires the slot of a gateway stopped for
/// good (PostgreSQL keeps WAL for a slot until its consumer confirms it, so nobody else will).
struct SlotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slots",
        abstract: "List the database's logical replication slots and the WAL each holds back; drop an inactive one.",
        discussion: """
            Every gateway on the wal invalidation source streams from a slot of its own (invalidation.replication_slot, default quicksell_<host>_<port>). PostgreSQL keeps the WAL a slot has not confirmed, so the slot of a gateway stopped for good holds WAL until it is dropped (or until max_slot_wal_keep_size makes PostgreSQL give it up). A slot is active while a server process streams it.

            --drop refuses an active slot, and asks for confirmation when run on a terminal unless --yes. A gateway whose slot was dropped makes a new one when it starts and flushes every family.

            Examples:
              quicksell-cache slots
              quicksell-cache slots --postgres-url postgresql://postgres@db:5432/quicksell
              quicksell-cache slots --drop quicksell_oldhost_6380 --yes
            """
    )

    @ParentCommand var parent: QuicksellCache

    @Option(name: .customLong("postgres-url"),
            help: "PostgreSQL URL of the gateways' database (default: $QUICKSELL_POSTGRES_URL).")
    var postgresURL: String?

    @Option(help: ArgumentHelp("Drop this inactive slot.", valueName: "name"))
    var drop: String?

    @Flag(name: [.customShort("y"), .long], help: "With --drop: do not ask for confirmation.")
    var yes = false

    func validate() throws {
        try parent.refuseGatewayOptions("slots")
        if yes && drop == nil { throw ValidationError("--yes needs --drop NAME") }
    }

    func run() throws {
        guard let url = postgresURL ?? ProcessInfo.processInfo.environment["QUICKSELL_POSTGRES_URL"] else {
            fail("no PostgreSQL URL: pass --postgres-url or set QUICKSELL_POSTGRES_URL")
        }
        runReportingErrors {
            let connection = try PostgresConnection(url: url, applicationName: "quicksell-cache slots")
            let database = try connection.execute("SELECT current_database()").scalar ?? "?"
            if let drop {
                try dropSlot(drop, database: database, connection: connection)
            } else {
                print(Self.render(try ReplicationSlotCatalog.list(connection), database: database, address: connection.address))
            }
        }
    }

    private func dropSlot(_ name: String, database: String, connection: PostgresConnection) throws {
        guard let slot = try ReplicationSlotCatalog.list(connection).first(where: { $0.name == name }) else {
            throw ReplicationSlotCatalog.DropError.notFound(slot: name, database: database)
        }
        if let pid = slot.activePID { throw ReplicationSlotCatalog.DropError.active(slot: name, pid: pid) }
        guard yes || !Terminal.inputIsTerminal || confirm(slot, database: database) else {
            throw CLIError("slots --drop cancelled; slot '\(name)' was not dropped")
        }
        try ReplicationSlotCatalog.drop(slot: name, connection)
        print("dropped replication slot \(name) in database \(database) at \(connection.address); "
              + "it held back \(Self.retained(slot))")
    }

    private func confirm(_ slot: ReplicationSlotCatalog.Slot, database: String) -> Bool {
        Terminal.writeError("Drop replication slot \(slot.name) of database \(database) (inactive, holds back "
                            + "\(Self.retained(slot)))? Its gateway, if started again, flushes every family. [y/N] ")
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return answer == "y" || answer == "yes"
    }

    /// The table, then one line naming the inactive slots' total.
    static func render(_ slots: [ReplicationSlotCatalog.Slot], database: String, address: String) -> String {
        guard !slots.isEmpty else { return "no logical replication slots in database \(database) at \(address)" }
        let rows = slots.map { slot in
            [slot.name, slot.isActive ? "active" : "inactive", slot.activePID.map(String.init) ?? "-",
             slot.retainedBytes.map(ByteCount.readable) ?? "-", slot.retainedBytes.map { String($0) } ?? "-",
             slot.walStatus.isEmpty ? "-" : slot.walStatus]
        }
        var lines = StatsTable.table(header: ["SLOT", "STATE", "PID", "RETAINED", "BYTES", "WAL STATUS"], rows: rows)
        let inactive = slots.filter { !$0.isActive }
        let held = inactive.reduce(Int64(0)) { $0 + ($1.retainedBytes ?? 0) }
        lines.append("")
        lines.append("\(slots.count) logical slot(s) in database \(database) at \(address); "
                     + "\(inactive.count) inactive, holding back \(ByteCount.readable(held))")
        return lines.joined(separator: "\n")
    }

    private static func retained(_ slot: ReplicationSlotCatalog.Slot) -> String {
        slot.retainedBytes.map { "\(ByteCount.readable($0)) (\($0) bytes) of WAL" } ?? "no WAL (lost)"
    }
}
