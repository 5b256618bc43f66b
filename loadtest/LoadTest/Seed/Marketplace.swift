/// The marketplaces a QuickSell user can cross-post to; an account's bit in
/// `SeedPlan.accountMask` is its index here.
enum Marketplace {
    static let names = ["ebay", "poshmark", "mercari", "depop", "facebook_marketplace"]
    static let listingURLs = [
        "https://www.ebay.com/itm/", "https://poshmark.com/listing/", "https://www.mercari.com/us/item/",
        "https://www.depop.com/products/", "https://www.facebook.com/marketplace/item/",
    ]
    static let listingIDPrefixes = ["EB", "PM", "MC", "DP", "FB"]
    static let count = names.count
}
