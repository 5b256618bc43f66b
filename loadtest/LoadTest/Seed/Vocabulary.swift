/// The word lists sample data is made of, compiled in so that the seeder needs no file
/// outside the repository at run time.
enum Vocabulary {
    static let firstNames = [
        "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "James",
        "Mia", "William", "Amelia", "Benjamin", "Harper", "Lucas", "Evelyn", "Henry", "Abigail", "Theodore",
        "Emily", "Jack", "Ella", "Levi", "Elizabeth", "Alexander", "Camila", "Jackson", "Luna", "Mateo",
        "Sofia", "Daniel", "Avery", "Michael", "Mila", "Mason", "Aria", "Sebastian", "Scarlett", "Ethan",
        "Penelope", "Logan", "Layla", "Owen", "Chloe", "Samuel", "Victoria", "Jacob", "Madison", "Asher",
        "Priya", "Wei", "Yuki", "Omar", "Fatima", "Diego", "Ingrid", "Kofi", "Aisha", "Mateus",
    ]
    static let lastNames = [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
        "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
        "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
        "Kim", "Patel", "Chen", "Okafor", "Novak", "Schmidt", "Rossi", "Dubois", "Silva", "Tanaka",
    ]
    static let emailDomains = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "hey.com", "example.org"]
    static let bios = [
        "Decluttering one closet at a time.", "Vintage hunter and weekend flipper.",
        "Selling what I no longer use. Fast shipping!", "Sneakerhead. Ask me about sizes.",
        "Mom of three, reselling outgrown kids' stuff.", "Collector of retro games and gadgets.",
        "Small business owner: quality pre-loved fashion.", "Thrift finds, honestly described.",
        "Bundle discounts available, just ask.", "Moving soon, everything must go!",
    ]
    static let languages = ["en", "en", "en", "en", "es", "fr", "de", "pt", "it", "ja"]

    /// One category with the brands and items its titles are made of.
    struct Category {
        let name: String
        let brands: [String]
        let items: [String]
        let sizes: [String]
        let minimumPrice: Int
        let maximumPrice: Int
    }

    static let categories: [Category] = [
        Category(name: "Electronics", brands: ["Apple", "Samsung", "Sony", "Bose", "Google", "Nintendo", "Canon", "Dell"],
                 items: ["Smartphone", "Wireless Headphones", "Tablet", "Laptop", "Smartwatch", "Camera", "Bluetooth Speaker", "Game Console"],
                 sizes: [], minimumPrice: 2_000, maximumPrice: 120_000),
        Category(name: "Clothing", brands: ["Levi's", "Zara", "H&M", "Patagonia", "Uniqlo", "Ralph Lauren", "Gap", "Everlane"],
                 items: ["Denim Jacket", "Wool Sweater", "Flannel Shirt", "Puffer Coat", "Summer Dress", "Chinos", "Hoodie", "Blazer"],
                 sizes: ["XS", "S", "M", "L", "XL", "XXL"], minimumPrice: 800, maximumPrice: 25_000),
        Category(name: "Shoes", brands: ["Nike", "Adidas", "New Balance", "Converse", "Vans", "Dr. Martens", "Birkenstock", "Asics"],
                 items: ["Running Shoes", "High-Top Sneakers", "Leather Boots", "Sandals", "Loafers", "Trail Runners"],
                 sizes: ["6", "7", "8", "9", "10", "11", "12"], minimumPrice: 1_500, maximumPrice: 40_000),
        Category(name: "Home & Garden", brands: ["IKEA", "West Elm", "KitchenAid", "Dyson", "Le Creuset", "Weber", "Cuisinart"],
                 items: ["Stand Mixer", "Cast Iron Dutch Oven", "Table Lamp", "Area Rug", "Cordless Vacuum", "Gas Grill", "Coffee Maker"],
                 sizes: [], minimumPrice: 1_000, maximumPrice: 60_000),
        Category(name: "Furniture", brands: ["IKEA", "Herman Miller", "Crate & Barrel", "Pottery Barn", "Article", "Wayfair"],
                 items: ["Office Chair", "Bookshelf", "Dining Table", "Sofa", "Dresser", "Nightstand", "Desk"],
                 sizes: [], minimumPrice: 3_000, maximumPrice: 150_000),
        Category(name: "Toys & Games", brands: ["LEGO", "Hasbro", "Mattel", "Fisher-Price", "Ravensburger", "Melissa & Doug"],
                 items: ["Building Set", "Board Game", "Puzzle 1000 pcs", "Action Figure", "Doll House", "Plush Toy"],
                 sizes: [], minimumPrice: 500, maximumPrice: 30_000),
        Category(name: "Sports & Outdoors", brands: ["Yeti", "Coleman", "Wilson", "Specialized", "The North Face", "REI", "Callaway"],
                 items: ["Camping Tent", "Road Bike", "Tennis Racket", "Golf Clubs", "Hiking Backpack", "Cooler", "Yoga Mat"],
                 sizes: [], minimumPrice: 1_000, maximumPrice: 90_000),
        Category(name: "Books", brands: ["Penguin", "HarperCollins", "O'Reilly", "Vintage", "Scholastic"],
                 items: ["Hardcover Novel", "Cookbook", "Programming Guide", "Box Set", "First Edition", "Graphic Novel"],
                 sizes: [], minimumPrice: 300, maximumPrice: 8_000),
        Category(name: "Jewelry & Accessories", brands: ["Pandora", "Fossil", "Coach", "Michael Kors", "Ray-Ban", "Kate Spade"],
                 items: ["Leather Handbag", "Sunglasses", "Silver Necklace", "Watch", "Wallet", "Charm Bracelet"],
                 sizes: [], minimumPrice: 1_000, maximumPrice: 50_000),
        Category(name: "Collectibles", brands: ["Funko", "Pokemon", "Topps", "Hot Wheels", "Disney", "Marvel"],
                 items: ["Trading Card Lot", "Vinyl Figure", "Vintage Poster", "Die-cast Car", "Signed Print", "Comic Book"],
                 sizes: [], minimumPrice: 500, maximumPrice: 70_000),
        Category(name: "Baby & Kids", brands: ["Graco", "UPPAbaby", "Carter's", "Chicco", "Skip Hop"],
                 items: ["Stroller", "Car Seat", "High Chair", "Baby Carrier", "Kids' Clothes Bundle", "Play Mat"],
                 sizes: [], minimumPrice: 800, maximumPrice: 60_000),
        Category(name: "Musical Instruments", brands: ["Fender", "Yamaha", "Gibson", "Roland", "Martin", "Casio"],
                 items: ["Electric Guitar", "Acoustic Guitar", "Digital Piano", "Ukulele", "Drum Pad", "Amplifier"],
                 sizes: [], minimumPrice: 3_000, maximumPrice: 200_000),
    ]
    static let adjectives = ["", "", "", "Vintage", "Classic", "Barely Used", "Authentic", "Rare", "Premium", "Compact", "Retro"]
    static let colors = ["Black", "White", "Navy", "Grey", "Red", "Olive", "Beige", "Brown", "Blue", "Pink", "Green", "Silver"]
    static let conditionPhrases = [
        "Brand new, never opened.", "Like new, used only a couple of times.", "In good condition with light signs of wear.",
        "Fair condition: works fine, visible wear.", "Well loved; sold as is, see photos.",
    ]
    static let closingPhrases = [
        "Ships within one business day.", "Smoke-free, pet-free home.", "Bundle with my other items and save.",
        "Local pickup welcome.", "Open to reasonable offers.", "Comes with original box.", "Measurements on request.",
    ]
    static let shippingCarriers = ["USPS", "UPS", "FedEx", "DHL"]
    static let reviews = [
        "Great seller, fast shipping!", "Item exactly as described.", "Smooth transaction, would buy again.",
        "Well packaged and quick delivery.", "Good communication.", "A bit slow to ship but item is fine.",
        "Not as described, disappointed.",
    ]
    static let buyerReviews = ["Quick payment, thanks!", "Pleasure to deal with.", "Great buyer.", "Paid promptly."]
    static let userAgents = [
        "QuickSell/3.4.1 (iPhone; iOS 17.5; Scale/3.00)",
        "QuickSell/3.4.0 (Android 14; Pixel 8)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
        "QuickSell/3.3.9 (iPad; iPadOS 17.4; Scale/2.00)",
    ]
    static let backgroundTypes = ["plain_white", "plain_color", "indoor", "outdoor", "cluttered"]
}
