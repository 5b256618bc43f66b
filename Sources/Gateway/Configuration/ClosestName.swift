/// The valid name nearest to a misspelt one, by edit distance, for "did you mean …?" hints.
enum ClosestName {
    /// The candidate with the fewest single-character edits from `name`, if it is close enough
    /// to be a likely typo: at most half of `name`'s length (and at least 3) edits away. Ties
    /// go to the earlier candidate.
    static func closest(to name: String, among candidates: some Sequence<String>) -> String? {
        let limit = max(3, name.count / 2)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(name, candidate)
            if distance <= limit, distance < best?.distance ?? Int.max { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// Levenshtein distance: insertions, deletions and substitutions of characters.
    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let left = Array(lhs), right = Array(rhs)
        guard !left.isEmpty else { return right.count }
        guard !right.isEmpty else { return left.count }
        var previous = Array(0...right.count)
        var current = [Int](repeating: 0, count: right.count + 1)
        for i in 1...left.count {
            current[0] = i
            for j in 1...right.count {
                let substitution = previous[j - 1] + (left[i - 1] == right[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[right.count]
    }
}
