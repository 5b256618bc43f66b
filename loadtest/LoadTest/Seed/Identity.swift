/// Facts about a user or listing that more than one table shows (a user's name, a
/// listing's title), derived from the entity's id alone so every writer agrees on them.
enum Identity {
    struct Person {
        let first: String
        let last: String
        let username: String
    }

    static let lowerFirst = Vocabulary.firstNames.map { $0.lowercased() }
    static let lowerLast = Vocabulary.lastNames.map { $0.lowercased() }

    /// The name and (unique, because it ends in the id) username of user `index`.
    static func person(_ plan: SeedPlan, user index: Int) -> Person {
        var rng = SplitMix64(seed: plan.seed, stream: 50, entity: UInt64(index))
        let first = rng.int(0...(Vocabulary.firstNames.count - 1))
        let last = rng.int(0...(Vocabulary.lastNames.count - 1))
        let id = String(index + 1)
        let username: String
        switch rng.int(0...3) {
        case 0: username = lowerFirst[first] + "." + lowerLast[last] + id
        case 1: username = lowerFirst[first] + "_" + lowerLast[last].prefix(1) + id
        case 2: username = lowerFirst[first] + lowerLast[last] + id
        default: username = "the" + lowerLast[last] + "shop" + id
        }
        return Person(first: Vocabulary.firstNames[first], last: Vocabulary.lastNames[last], username: username)
    }

    struct Item {
        let brand: String
        let item: String
        let color: String
        let size: String?
        let title: String
    }

    /// What listing `index` is: brand, item, colour, size and its title.
    static func item(_ plan: SeedPlan, listing index: Int) -> Item {
        var rng = SplitMix64(seed: plan.seed, stream: 60, entity: UInt64(index))
        let category = Vocabulary.categories[Int(plan.listingCategory[index])]
        let brand = rng.pick(category.brands)
        let item = rng.pick(category.items)
        let color = rng.pick(Vocabulary.colors)
        let size = category.sizes.isEmpty ? nil : rng.pick(category.sizes)
        let adjective = rng.pick(Vocabulary.adjectives)
        var title = adjective.isEmpty ? brand + " " + item : adjective + " " + brand + " " + item
        if let size { title += ", Size " + size }
        if rng.percent(40) { title += " - " + color }
        return Item(brand: brand, item: item, color: color, size: size, title: title)
    }
}
