import ArgumentParser
import Foundation
import HiredisClient

/// `quicksell-cache flush`: invalidates keys, a family (or some ids of it), or everything.
struct FlushCommand: ParsableCommand, GatewaySubcommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Invalidate cached keys: named keys, a family (or some ids of it), or every family.",
        discussion: """
            The gateway detaches the keys' in-flight fills and unlinks them, so the next read is a miss served from current PostgreSQL data. A family flush walks Redis with SCAN and UNLINKs in batches, so reads keep being served while millions of keys go; its progress shows in the gateway's log and in INFO operator. --all asks for confirmation when run on a terminal, unless --yes.

            Families: user, listing, marketplace_listings, user_stats, user_badges, leaderboard:weekly, leaderboard:monthly, leaderboard (both leaderboards).

            Examples:
              quicksell-cache flush listing:42 user:7
              quicksell-cache flush --family listing
              quicksell-cache flush --family user --id 1 --id 2
              quicksell-cache --url redis://admin:secret@127.0.0.1:6380 flush --all --yes
            """
    )

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @ParentCommand var parent: QuicksellCache

    @Option(help: "Flush every cached key of this family.")
    var family: String?

    @Option(name: .customLong("id"), help: "With --family: flush only these ids (repeatable).")
    var ids: [String] = []

    @Flag(help: "Flush every family.")
    var all = false

    @Flag(name: [.customShort("y"), .long], help: "Do not ask for confirmation.")
    var yes = false

    @Argument(help: "Keys to invalidate (e.g. listing:42).")
    var keys: [String] = []

    func validate() throws {
        let modes = [!keys.isEmpty, family != nil, all].filter { $0 }.count
        guard modes == 1 else {
            throw ValidationError("give either keys, --family NAME or --all (exactly one of them)")
        }
        if !ids.isEmpty && family == nil { throw ValidationError("--id needs --family") }
    }

    func run() throws {
        runReportingErrors {
            let address = try address()
            let client = try GatewayClient(address)
            client.setTimeout(seconds: 3_600)
            let started = Date()
            if !keys.isEmpty {
                let removed = try client.call(["QUICKSELL", "FLUSH"] + keys)
                print("invalidated \(keys.count) key(s) at \(address.display); \(Self.count(removed)) were cached")
            } else if let family {
                let removed = try client.call(["QUICKSELL", "FLUSHFAMILY", family] + ids)
                let elapsed = Terminal.duration(seconds: Date().timeIntervalSince(started))
                if ids.isEmpty {
                    print("flushed family \(family) at \(address.display): \(Self.count(removed)) keys removed in \(elapsed)")
                } else {
                    print("invalidated \(ids.count) key(s) of family \(family) at \(address.display); \(Self.count(removed)) were cached")
                }
            } else {
                guard yes || !Terminal.inputIsTerminal || confirm(address) else {
                    throw CLIError("flush --all cancelled; nothing was flushed")
                }
                let removed = try client.call(["QUICKSELL", "FLUSHALL"])
                let elapsed = Terminal.duration(seconds: Date().timeIntervalSince(started))
                print("flushed every family at \(address.display): \(Self.count(removed)) keys removed in \(elapsed)")
            }
        }
    }

    private func confirm(_ address: GatewayAddress) -> Bool {
        Terminal.writeError("Flush every cached key of every family at \(address.display)? [y/N] ")
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return answer == "y" || answer == "yes"
    }

    private static func count(_ reply: HiredisReply) -> String {
        if case .integer(let value) = reply { return String(value) }
        return "?"
    }
}
