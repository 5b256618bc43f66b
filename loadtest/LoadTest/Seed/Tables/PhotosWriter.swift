import Postgres

/// `photos`: 1-6 per listing in display order; the first is the primary one.
enum PhotosWriter: TableWriter {
    static let table = "photos"
    static let columns = [
        "id", "listing_id", "user_id", "original_url", "thumb_url", "optimized_url", "filename", "file_size",
        "mime_type", "width", "height", "contains_faces", "contains_hands", "background_type", "quality_score",
        "object_confidence", "display_order", "is_primary", "created_at", "updated_at",
    ]
    static let mimeTypes = ["image/jpeg", "image/jpeg", "image/jpeg", "image/heic", "image/png"]
    static let extensions = ["jpg", "jpg", "jpg", "heic", "png"]
    static let sizes = [(4032, 3024), (3024, 4032), (1920, 1080), (1080, 1080), (2048, 1536)]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 111)
        var id = 0
        for listing in 0..<plan.listingCount {
            let owner = String(Int(plan.listingOwner[listing]) + 1)
            let base = "https://cdn.quicksell.app/u/" + owner + "/l/" + String(listing + 1) + "/"
            let created = plan.listingCreatedAt[listing]
            for order in 0..<Int(plan.photoCount[listing]) {
                id += 1
                let name = rng.hex(12)
                let kind = rng.int(0...4)
                let (width, height) = rng.pick(sizes)
                let photoTime = min(plan.now, created + Int64(order) * 20)
                copy.field(id)
                copy.field(listing + 1)
                copy.field(owner)
                copy.field(base + name + "." + extensions[kind])
                copy.field(base + name + "_thumb.jpg")
                copy.field(rng.percent(90) ? base + name + "_1600.webp" : nil)
                copy.field("IMG_" + String(rng.int(1_000...9_999)) + "." + extensions[kind])
                copy.field(rng.int(150_000...6_000_000))
                copy.field(mimeTypes[kind])
                copy.field(width)
                copy.field(height)
                copy.field(rng.percent(4))
                copy.field(rng.percent(12))
                copy.field(rng.pick(Vocabulary.backgroundTypes))
                copy.hundredths(rng.int(40...100))
                copy.hundredths(rng.int(50...99))
                copy.field(order)
                copy.field(order == 0)
                copy.timestamp(photoTime)
                copy.timestamp(photoTime)
                try copy.endRow()
            }
        }
    }
}
